"""What the trace of a unit's figures (/w/rates) costs over a quarter or any range of days (branch bureau9), on
bench/scale.py's million-ticket database, as ratios to a reference read in the same run: the unit's figure
(rates.for_period, the counters), and main's storage.tickets.for_period (whose `resolved_at >= start` read every
ticket resolved since the span began), A/B alternated.

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
from storage import tickets

SPANS = (("month 2026-11", "2026-11-01", "2026-12-01"), ("quarter 2026-Q3", "2026-07-01", "2026-10-01"),
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
    print(f"ms, median of {repeat}; the page = rates.traced + each line's row; 'main' = the same with main's "
          "tickets.for_period\n")
    old, new = main_tickets(Path(__file__).resolve().parents[1]).for_period, tickets.for_period
    for name, a, b in SPANS:
        start, end = day(a), day(b)
        for unit in ("jyj-sfc", "s001"):
            def page():
                return [tickets.by_id(db, i) for i in rates.traced(db, start, end, unit, NOW)]
            samples: dict[str, list[float]] = {"now": [], "main": [], "figure": []}
            for i in range(repeat + 1):
                for label in ("now", "main", "figure"):
                    tickets.for_period = old if label == "main" else new
                    t = time.perf_counter()
                    page() if label != "figure" else rates.for_period(db, start, end, [unit], NOW)
                    if i:  # the first round warms the cache
                        samples[label].append((time.perf_counter() - t) * 1000)
            tickets.for_period = new
            got, was, ref = (statistics.median(samples[k]) for k in ("now", "main", "figure"))
            lines = len(rates.traced(db, start, end, unit, NOW))
            print(f"  {name:24} {unit:8} {lines:6} lines  page {got:8.1f}  main {was:8.1f}  figure {ref:6.1f}  "
                  f"page/figure {got / ref:6.1f}  now/main {got / was:5.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="/work/scale-data/scale-1000000-v4.db")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    run(args.db, args.repeat)
    sys.exit(0)
