"""A unit's 表扬 figure over a span (branch bureau11, m065): storage.tickets.praise_by_unit for one unit, as the
figure beside its trace (rates.for_period) and a district's digest read it, on bench/scale.py's million-ticket
database, A/B alternated against main's (the span's tickets of every unit, kept by unit in Python), the same
answer asserted. Also the whole figure (rates.for_period of the unit) with each. The file must be migrated by this
code (m065's index), e.g. a copy through `Database(path).start()`.

    python bench/praise_span.py --db COPY_OF_1M_MIGRATED [--repeat 5]

Opens the file read-only (immutable=1): it never writes to it.
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import sqlite_utils

import common  # noqa: F401  (this checkout on sys.path)
from bench.scale import NOW
from bench.trace_span import SPANS, day, main_tickets
from handlers import rates
from storage import tickets


def run(path: str, repeat: int) -> None:
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    assert conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'tickets_praise_unit'").fetchone(), \
        "migrate a copy first (m065)"
    print(f"{path}: {conn.execute('SELECT count(*) FROM tickets').fetchone()[0]:,} tickets, now 2026-11-30 10:00")
    print(f"CPU ms, median of {repeat}; 'main' = main's storage.tickets.praise_by_unit\n")
    main = main_tickets(Path(__file__).resolve().parents[1])
    mine = tickets.praise_by_unit
    for name, a, b in SPANS:
        start, end = day(a), day(b)
        for unit in ("s001", "jyj-sfc"):
            samples: dict[str, list[float]] = {k: [] for k in ("praise", "praise main", "figure", "figure main")}
            got: dict[str, object] = {}
            for i in range(repeat + 1):
                for label in samples:
                    tickets.praise_by_unit = main.praise_by_unit if label.endswith("main") else mine
                    c = time.process_time()
                    got[label] = (rates.for_period(db, start, end, [unit], NOW) if label.startswith("figure")
                                  else tickets.praise_by_unit(db, start, end, [unit]))
                    if i:  # the first round warms the cache
                        samples[label].append((time.process_time() - c) * 1000)
            tickets.praise_by_unit = mine
            assert got["praise"] == got["praise main"] and got["figure"] == got["figure main"], (name, unit)
            p, pm, f, fm = (statistics.median(samples[k]) for k in samples)
            print(f"  {name:24} {unit:8} praised {sum(got['praise'].values()):4}  praise {p:7.1f}  main {pm:7.1f}  "
                  f"now/main {p / pm:5.2f}   figure {f:7.1f}  main {fm:7.1f}  now/main {f / fm:5.2f}", flush=True)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    run(args.db, args.repeat)
    sys.exit(0)
