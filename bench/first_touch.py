#!/usr/bin/env python3
"""What a new person's first contact costs the writer thread: `users.touch` of an openid it does not remember (the
upsert with RETURNING *, as the service runs it) beside the same upsert without RETURNING, and beside a point
SELECT of the row, each in thread CPU a call on the writer's own connection (real schema, its triggers, the writer's
memories and TEMP triggers), in an optimistic batch as the webhook's messages run.

    python bench/first_touch.py [--calls 400] [--rounds 8]

Each round runs every variant once on fresh openids (the order turning), in one transaction each."""
from __future__ import annotations

import argparse
import shutil
import statistics
import tempfile
import time

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)

from storage import users
from storage.db import Database

VARIANTS = {
    "touch (the service: upsert RETURNING *, the row remembered)": lambda db, oid, now: users.touch(db, oid, now),
    "the same upsert without RETURNING": lambda db, oid, now: db.conn.execute(users._TOUCH, [oid, now, now]),
    "INSERT … ON CONFLICT DO NOTHING": lambda db, oid, now: db.conn.execute(
        "INSERT INTO users (openid, first_seen_at, last_seen_at) VALUES (?, ?, ?) ON CONFLICT(openid) DO NOTHING",
        [oid, now, now]),
    "SELECT * of the row (absent)": lambda db, oid, now: db.conn.execute(
        "SELECT * FROM users WHERE openid = ?", [oid]).fetchone(),
}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--calls", type=int, default=400)
    p.add_argument("--rounds", type=int, default=8)
    args = p.parse_args()
    tmp = tempfile.mkdtemp(prefix="first-touch-")
    db = Database(tmp + "/t.db").start()
    got: dict[str, list[float]] = {name: [] for name in VARIANTS}
    try:
        names = list(VARIANTS)
        for r in range(args.rounds):
            for name in names[r % len(names):] + names[:r % len(names)]:
                def batch(d, r=r, name=name):
                    d.optimistic = True  # (as the receiver's messages run: storage/db.py's optimistic batch)
                    try:
                        c = time.thread_time()
                        for i in range(args.calls):
                            VARIANTS[name](d, f"o_first{r}_{names.index(name)}_{i:06d}", 1.8e9 + i)
                        return (time.thread_time() - c) / args.calls * 1e6
                    finally:
                        d.optimistic = False
                got[name].append(db.run_sync(batch))
    finally:
        db.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"a new person's first contact on the writer thread ({args.calls} calls x {args.rounds} rounds), thread CPU a call:")
    for name, xs in got.items():
        print(f"  {statistics.median(xs):6.1f} us  (rounds {min(xs):.1f}-{max(xs):.1f})  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
