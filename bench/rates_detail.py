"""What the bureau's side added in round bureau8 costs on bench/scale.py's million-ticket database, as ratios to a
reference read in the same run (the machine is shared: absolute times are the scheduler's).

    python bench/rates_detail.py [--db /work/scale-data/scale-1000000-v4.db] [--repeat 7]

- 三率明细 (/w/rates/<unit>): handlers.rates.traced for one unit's month and week, plus the ticket row of each line
  (tickets.by_id), against the figure the dashboard shows for that unit (rates.for_period: the counters).
- 超期 tab: storage.inbox.page with the 超期 filter (now counting every tab as its link lists it), against the 待办
  tab of the same scope (the reference) and against main's inbox.py (`git show main:storage/inbox.py`), alternated.

Opens the file read-only (immutable=1): it never writes to it.
"""
from __future__ import annotations

import argparse
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
from handlers import dashboard, rates
from storage import inbox, tickets


def median_ms(fn, repeat: int) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - t) * 1000)
    return statistics.median(samples)


def main_inbox(root: Path):
    """main's storage/inbox.py as a module of its own, for the A/B."""
    source = subprocess.run(["git", "-C", str(root), "show", "main:storage/inbox.py"], check=True,
                            capture_output=True, text=True).stdout
    path = Path("/tmp") / f"inbox_main_{id(source)}.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("inbox_main", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules["inbox_main"] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def run(path: str, repeat: int) -> None:
    conn = sqlite3.connect(f"file:{path}?immutable=1", uri=True, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    print(f"{path}: {conn.execute('SELECT count(*) FROM tickets').fetchone()[0]:,} tickets, now 2026-11-30 10:00\n")
    print("三率明细 (/w/rates): ms (median of", repeat, ") and ratio to the dashboard's figure for the unit")
    for kind, key in (("month", "2026-11"), ("week", "2026-W48")):
        p = dashboard.parse_period(kind, key, TZ)
        for unit in ("jyj-sfc", "s001"):
            def figure():
                return rates.for_period(db, p.start, p.end, [unit], NOW)

            def page():
                lines = rates.traced(db, p.start, p.end, unit, NOW)
                return [tickets.by_id(db, i) for i in lines]
            ref, got = median_ms(figure, repeat), median_ms(page, repeat)
            n = len(rates.traced(db, p.start, p.end, unit, NOW))
            print(f"  {key:9} {unit:8} {n:5} lines  page {got:8.1f} ms  figure {ref:7.1f} ms  ratio {got / ref:6.1f}")
    old = main_inbox(Path(__file__).resolve().parents[1])
    print("\n超期 tab: ms, and ratios to the 待办 tab (reference) and to main's code, A/B alternated")
    for name, scope in (("leader", (None, False)), ("district", (["jn-jyj", "s001", "s002", "s003"], False)),
                        ("office", (["jyj-sfc"], False)), ("duty office", (["jyj-bgs"], True))):
        new_t, old_t, ref_t = [], [], []
        for _ in range(repeat):
            for fn, out in ((lambda: inbox.page(db, scope, inbox.Filters(overdue=True), NOW), new_t),
                            (lambda: old.page(db, scope, old.Filters(overdue=True), NOW), old_t),
                            (lambda: inbox.page(db, scope, inbox.Filters(), NOW), ref_t)):
                t = time.perf_counter()
                fn()
                out.append((time.perf_counter() - t) * 1000)
        new, was, ref = (statistics.median(x) for x in (new_t, old_t, ref_t))
        print(f"  {name:12} 超期 now {new:7.1f} ms  main {was:7.1f} ms  待办 {ref:7.1f} ms  "
              f"now/待办 {new / ref:5.2f}  now/main {new / was:5.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", default="/work/scale-data/scale-1000000-v4.db")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    run(args.db, args.repeat)
    sys.exit(0)
