#!/usr/bin/env python3
"""What merging one person's held reminders costs the writer (handlers/deadlines.py gather): after the first sweep
of an upgrade at a million tickets a leader holds ~10,000. Reference, in the same run: reading every held row and
its JSON, as the merge did before m055. Now: the counts and the first 12 of each kind from the index
(storage.outbox.held_top), and the first HELD_DELETE rows deleted in the push's write.

    python bench/held_merge.py [--rows 7000 20000] [--repeat 5]

A real database file (this code's migrations) in a temp folder; process CPU, best of --repeat, each in a
transaction rolled back."""
from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (this checkout on sys.path)

from storage import outbox
from storage.db import connect
from storage.migrations import migrate

KINDS = ("escalate", "urge", "copy", "accept", "eighty", "half")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[7000, 20000])
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="held-merge-"))
    try:
        db = connect(tmp / "h.db")
        migrate(db)
        for n in args.rows:
            db.conn.execute("DELETE FROM held_pushes")
            db.conn.execute("BEGIN")
            for i in range(n):
                hold = {"kind": KINDS[i % 6], "at": 1_700_000_000 + i * 37 % 1000, "number": f"JY2611-{i:04d}",
                        "due": "11月20日", "unit": "市教育局教育收费管理处"}
                outbox.enqueue_text(db, "o_leader", f"【办理提醒】留言{hold['number']}已超期，请尽快办理。", 0,
                                    source="deadlines", notice={"audience": "staff", "ticket": hold["number"],
                                                                "title": "留言超期", "state": "", "due": ""},
                                    hold=hold)
            db.conn.execute("COMMIT")
            old, new, dropped = [], [], []
            for _ in range(args.repeat):
                db.conn.execute("BEGIN")
                t = time.process_time()
                rows = db.conn.execute("SELECT id, openid, payload, source FROM held_pushes WHERE openid = ? "
                                       "ORDER BY id", ["o_leader"]).fetchall()
                [json.loads(r[2]) for r in rows]
                old.append(time.process_time() - t)
                t = time.process_time()
                outbox.held_top(db, "o_leader", 12)
                new.append(time.process_time() - t)
                t = time.process_time()
                outbox.release_all(db, "o_leader", "merged", None, 0)
                dropped.append(time.process_time() - t)
                db.conn.execute("ROLLBACK")
            print(f"{n:6d} held rows: every row read (before) {min(old) * 1000:6.1f} ms; held_top "
                  f"{min(new) * 1000:5.1f} ms ({min(old) / min(new):.0f}x less); the push's write deletes "
                  f"{min(n, outbox.HELD_DELETE)} ({min(dropped) * 1000:.1f} ms)")
        db.conn.close()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
