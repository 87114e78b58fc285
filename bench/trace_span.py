"""What the trace of a unit's figures (/w/rates) costs over a quarter or any range of days (branches bureau9,
bureau10), on bench/scale.py's million-ticket database, as ratios to a reference read in the same run: the unit's
figure (rates.for_period, the counters), and main's storage.tickets.for_period and ratings_in (bureau10: the
span's rows of every unit filtered by unit, before m058's ranges by unit and time), A/B alternated. The file must
be migrated by this code (m058's indexes), e.g. a copy through `Database(path).start()`.

    python bench/trace_span.py [--db /work/scale-data/scale-1000000-v4.db] [--repeat 5]

Opens the file read-only (immutable=1): it never writes to it.
"""
from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

import sqlite_utils

import common  # noqa: F401  (this checkout on sys.path)
from bench.scale import NOW, TZ
from handlers import rates
from bot.web.workbench import TRACE_PAGE
from storage import tickets

SPANS = (("month 2026-11", "2026-11-01", "2026-12-01"), ("quarter 2026-Q4", "2026-10-01", "2027-01-01"), ("quarter 2026-Q3", "2026-07-01", "2026-10-01"),
         ("quarter 2026-Q2", "2026-04-01", "2026-07-01"), ("half-year 05-01..10-31", "2026-05-01", "2026-11-01"))


def main_tickets(root: Path):
    source = subprocess.run(["git", "-C", str(root), "show", "main:storage/tickets.py"], check=True,
                            capture_output=True, text=True).stdout
    path = Path("/tmp") / f"tickets_main_{id(source)}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("tickets_main", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["tickets_main"] = module
    spec.loader.exec_module(module)
    return module


def day(text: str) -> float:
    return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(0), TZ).timestamp()


def run(path: str, repeat: int) -> None:
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    print(f"{path}: {conn.execute('SELECT count(*) FROM tickets').fetchone()[0]:,} tickets, now 2026-11-30 10:00")
    print(f"ms, median of {repeat}; the page = rates.traced + the rows of its first page ({TRACE_PAGE}); 'main' = "
          "main's page: every line's row, main's tickets.for_period and ratings_in\n")
    main = main_tickets(Path(__file__).resolve().parents[1])
    swapped = ("for_period", "ratings_in")
    mine = {f: getattr(tickets, f) for f in swapped}
    for name, a, b in SPANS:
        start, end = day(a), day(b)
        for unit in ("jyj-sfc", "s001"):
            def page(paged: bool = True):
                # bureau10's page: every line's figures, the rows of its first page only (main's: every row)
                ids = sorted(rates.traced(db, start, end, unit, NOW))
                return [tickets.by_id(db, i) for i in (ids[:TRACE_PAGE] if paged else ids)]

            def figure():
                return rates.for_period(db, start, end, [unit], NOW)
            samples: dict[str, list[float]] = {k: [] for k in ("now", "main", "figure", "figure main")}
            results: dict[str, object] = {}
            for i in range(repeat + 1):
                for label in samples:
                    for f in swapped:
                        setattr(tickets, f, getattr(main, f) if label.endswith("main") else mine[f])
                    t = time.perf_counter()
                    got = figure() if label.startswith("figure") else page(label == "now")
                    if i:  # the first round warms the cache
                        samples[label].append((time.perf_counter() - t) * 1000)
                    results[label] = got
            for f in swapped:
                setattr(tickets, f, mine[f])
            assert results["now"] == results["main"][:TRACE_PAGE] and results["figure"] == results["figure main"], (name, unit)
            got, was, ref, ref_was = (statistics.median(samples[k]) for k in samples)
            lines = len(rates.traced(db, start, end, unit, NOW))
            print(f"  {name:24} {unit:8} {lines:6} lines  page {got:8.1f}  main {was:8.1f}  now/main {got / was:5.2f}"
                  f"  figure {ref:6.1f}  main {ref_was:6.1f}  now/main {ref / ref_was:5.2f}")

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="/work/scale-data/scale-1000000-v4.db")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    run(args.db, args.repeat)
    sys.exit(0)
