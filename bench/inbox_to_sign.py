"""CPU of the workbench list's read (storage/inbox.page) and of its 待签收 count (inbox.to_sign, bureau12), on a
built database opened read-only, for a leader, a school and an office, on the 待办 and 超期 tabs. Medians of
--repeat runs, CPU time of this process (the machine's load does not count).

    .venv/bin/python bench/inbox_to_sign.py --db /work/scale-data/scale-1000000-v4-m058.db
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import time

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import sqlite_utils

from storage import inbox


def cpu_ms(fn, repeat: int) -> float:
    out = []
    for _ in range(repeat):
        t = time.process_time()
        fn()
        out.append((time.process_time() - t) * 1000)
    return statistics.median(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--repeat", type=int, default=7)
    a = ap.parse_args()
    db = sqlite_utils.Database(sqlite3.connect(f"file:{a.db}?mode=ro", uri=True))
    now = db.execute("SELECT max(created_at) FROM tickets").fetchone()[0]
    for name, scope in (("leader", (None, False)), ("school jn-syxx", (["jn-syxx"], False)),
                        ("office jyj-sfc", (["jyj-sfc"], False))):
        for f in (inbox.Filters(), inbox.Filters(overdue=True)):
            page = cpu_ms(lambda: inbox.page(db, scope, f, now), a.repeat)
            count = cpu_ms(lambda: inbox.to_sign(db, scope, f, now), a.repeat)
            print(f"{name:16} {'超期' if f.overdue else '待办'}  page {page:6.1f} ms CPU   to_sign {count:5.2f} ms CPU "
                  f"(= {inbox.to_sign(db, scope, f, now)})")


if __name__ == "__main__":
    main()
