"""storage.tickets.has_column (dash20): the schema read once a connection, not a PRAGMA table_info each time a
case ends on the writer (record_case), a miss is kept, or a period's misses and cases are read. Counts the schema
reads of a month's dashboard trend (handlers.rates.for_periods, 8 periods) and of 50 tickets withdrawn on the
writer (each ends a 签收 case; one transaction, rolled back: the copy is left as it was), and times one read against
one remembered answer, in the same run. `PYTHONPATH=<old tree>` counts the old code's reads.

    python bench/columns_of.py COPY.db [--calls 20000]
"""
from __future__ import annotations

import argparse
import sqlite3
import sys
import time

import common  # noqa: F401  (this checkout on sys.path)

import sqlite_utils

from storage import tickets


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("db")
    p.add_argument("--calls", type=int, default=20_000)
    a = p.parse_args()
    db = sqlite_utils.Database(sqlite3.connect(f"file:{a.db}?mode=ro", uri=True))
    took = {}
    ways = [("PRAGMA table_info(unit_misses)", lambda: "resolved_at" in tickets.columns_of(db, "unit_misses"))]
    if hasattr(tickets, "has_column"):  # (not in the old tree)
        ways.append(("has_column, remembered", lambda: tickets.has_column(db, "unit_misses", "resolved_at")))
    for name, f in ways:
        f()
        best = float("inf")
        for _ in range(5):
            c = time.process_time()
            for _ in range(a.calls):
                f()
            best = min(best, (time.process_time() - c) / a.calls * 1e6)
        took[name] = best
        print(f"{name:32} {best:7.2f} µs CPU a call (best of 5 × {a.calls:,})")
    reads = [0]
    real = tickets.columns_of

    def counted(db_, table):
        reads[0] += 1
        return real(db_, table)
    tickets.columns_of = counted
    import datetime as dt
    from zoneinfo import ZoneInfo

    from handlers import dashboard, rates
    tz = ZoneInfo("Asia/Shanghai")
    per = dashboard.parse_period("month", "2026-11", tz)
    periods = [per]
    for _ in range(dashboard.TREND - 1):
        periods.insert(0, dashboard.previous(periods[0], tz))
    fresh = sqlite_utils.Database(sqlite3.connect(f"file:{a.db}?mode=ro", uri=True))
    now = dt.datetime(2026, 11, 30, 10, tzinfo=tz).timestamp()
    for i in range(2):
        reads[0] = 0
        rates.for_periods(fresh, [q.start for q in periods] + [per.end], None, now)
        print(f"month trend, {'first' if i == 0 else 'second'} read on a connection: {reads[0]} schema reads")
    from storage.db import connect
    w = connect(a.db)
    for i in range(2):
        w.conn.execute("BEGIN IMMEDIATE")
        reads[0] = 0
        for n, in w.execute("SELECT number FROM tickets WHERE state = 'assigned' ORDER BY id DESC LIMIT 50").fetchall():
            t = tickets.get(w, n)
            tickets.transition(w, t, "withdrawn", t["openid"], now, "withdraw", closed_at=now)
        w.conn.execute("ROLLBACK")
        print(f"50 tickets withdrawn on the writer ({'first' if i == 0 else 'second'} time on its connection): "
              f"{reads[0]} schema reads")
    return 0


if __name__ == "__main__":
    sys.exit(main())
