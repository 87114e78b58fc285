"""The reads behind the workbench's management pages on bench/scale.py's databases (600k users at 1M tickets):
staff lists and counts through the role index, against the walk over every user they replaced.

    python bench/admin_pages.py                       # 1M tickets (built once by bench/scale.py, cached)
    python bench/admin_pages.py --sizes 100000 --repeat 20
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import sys
import time
from pathlib import Path

import sqlite_utils

import common  # (bench/common.py: this checkout on sys.path, the scale databases' folder)
from bench.scale import cached
from storage import staff

WALK_LIST = ("SELECT u.openid, u.role, u.unit_code, u.name, n.name AS unit_name, u.last_seen_at FROM users u "
             "LEFT JOIN units n ON n.code = u.unit_code WHERE u.role != 'citizen' ORDER BY u.unit_code, u.role, u.name")
WALK_COUNT = "SELECT unit_code, count(*) FROM users WHERE role != 'citizen' GROUP BY unit_code"


def median_ms(fn, repeat: int) -> float:
    fn()
    samples = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - t)
    return statistics.median(samples) * 1000


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[1_000_000])
    p.add_argument("--data", type=Path, default=common.SCALE_DATA)
    p.add_argument("--repeat", type=int, default=20)
    args = p.parse_args()
    for n in args.sizes:
        path = cached(args.data, n)
        db = sqlite_utils.Database(sqlite3.connect(f"file:{path}?mode=ro", uri=True))
        users = db.execute("SELECT count(*) FROM users").fetchone()[0]
        rows = [("staff.list_staff (人员, a unit's staff)", median_ms(lambda: staff.list_staff(db), args.repeat),
                 median_ms(lambda: db.execute(WALK_LIST).fetchall(), args.repeat)),
                ("staff.count_by_unit (单位名录)", median_ms(lambda: staff.count_by_unit(db), args.repeat),
                 median_ms(lambda: db.execute(WALK_COUNT).fetchall(), args.repeat))]
        print(f"\n{n:,} tickets, {users:,} users, median of {args.repeat}:")
        print(f"| {'read':<40} | ms | walk over users, ms | walk ÷ this |")
        print(f"|{'-' * 42}|----|---------------------|-------------|")
        for name, mine, walk in rows:
            print(f"| {name:<40} | {mine:.2f} | {walk:.2f} | {walk / mine:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
