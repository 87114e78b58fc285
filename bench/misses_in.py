"""CPU of storage.tickets.misses_in (a period's late departures, each with its ticket's 办结 columns: the join
handlers.rates reads to count one ticket once per unit) beside rates.for_period of the same period, on a
read-only connection to a built database (never written).

    .venv/bin/python bench/misses_in.py --db /work/scale-data/scale-1000000-v4-m058.db
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlite_utils  # noqa: E402

from handlers import rates  # noqa: E402
from storage import tickets  # noqa: E402


def cpu(fn, repeat: int) -> float:
    runs = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        runs.append(time.process_time() - t)
    return statistics.median(runs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    db = sqlite_utils.Database(sqlite3.connect(f"file:{a.db}?mode=ro", uri=True))
    end = db.execute("SELECT max(at) FROM unit_misses").fetchone()[0]
    for days in (7, 31):
        start = end - days * 86400
        n = len(tickets.misses_in(db, start, end))
        m = cpu(lambda: tickets.misses_in(db, start, end), a.repeat)
        r = cpu(lambda: rates.for_period(db, start, end, now=end), a.repeat)
        print(f"{days:>2} days  misses_in {n:>5} rows {m * 1000:7.2f} ms CPU   rates.for_period {r * 1000:8.2f} ms CPU"
              f"   ratio {m / r:.3f}")


if __name__ == "__main__":
    main()
