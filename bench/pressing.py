"""今天有什么紧急的吗 at scale: what Desk.pressing reads (the urgent open tickets of a scope, the overdue, what falls
due today), on a read-only connection to a built database, as the reader thread runs it (messages.ReadFirst).
Prints CPU milliseconds per answer for the whole bureau (a leader) and for the largest unit, first (cold) and
warm (the median of --repeat), beside a reference read measured in the same run: the 超期 list alone
(tickets.overdue, which the 超期 command already runs on the writer).

    python bench/pressing.py --db /work/scale-data/scale-1000000-v4.db --repeat 5
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlite_utils  # noqa: E402

from storage import tickets  # noqa: E402


def cpu_ms(fn) -> float:
    t = time.process_time()
    fn()
    return (time.process_time() - t) * 1000


def open_built(path: str) -> tuple[sqlite_utils.Database, float, str]:
    """A built database read-only (never written), its last filing time as now, and the unit with most open
    tickets (also bench/staff_reads.py's)."""
    import sqlite3
    db = sqlite_utils.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
    now = db.execute("SELECT max(created_at) FROM tickets").fetchone()[0]
    big = db.execute(f"SELECT unit_code FROM tickets WHERE {tickets._OPEN_SQL} "
                     "GROUP BY unit_code ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    return db, now, big


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    db, now, big = open_built(args.db)
    for name, units in (("bureau (leader)", None), (f"largest unit {big}", [big])):
        runs = {"pressing": [], "overdue (reference)": []}
        found = None
        for _ in range(args.repeat):
            runs["pressing"].append(cpu_ms(lambda: tickets.pressing(db, units, now, now + 86400)))
            runs["overdue (reference)"].append(cpu_ms(lambda: tickets.overdue(db, units, now)))
            found = tickets.pressing(db, units, now, now + 86400)
        for what, ms in runs.items():
            print(f"{name:28} {what:20} first {ms[0]:7.1f} ms CPU, warm median {statistics.median(ms[1:] or ms):7.1f} ms")
        print(f"{name:28} urgent listed {len(found[0])}, due today {found[1]}")


if __name__ == "__main__":
    main()
