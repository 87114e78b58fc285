#!/usr/bin/env python3
"""The thread CPU of each statement the writer runs for a message on the common path, alone, in one transaction,
on a fresh database with the schema (20,000 of each; the Python call around it included, sqlite_utils' wrapper not).

    python bench/statement_cost.py

What a message's statements cost (bench/statements.py counts them) and what writing them another way would save:
the inbound row claimed then completed vs inserted once, done; a savepoint; the users upsert one by one vs an
executemany of 50 (one per batch).
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import time

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)

from storage.db import connect
from storage.migrations import migrate

N = 20_000


def main() -> None:
    folder = tempfile.mkdtemp(prefix="tingjian-statement-cost-")
    try:
        db = connect(os.path.join(folder, "m.db"))
        migrate(db)
        c = db.conn
        payload = json.dumps({"openid": "o_x" * 5, "kind": "text", "text": "学校食堂的饭菜太贵了，而且不好吃" * 2,
                              "created_at": 1800000000, "msg_id": "123"}, ensure_ascii=False)
        reply = json.dumps({"text": "您好，已收到您的留言。请问是哪所学校？" * 2, "to": None, "extra": {}},
                           ensure_ascii=False)
        touch = ("INSERT INTO users (openid, first_seen_at, last_seen_at) VALUES (?, ?, ?) ON CONFLICT(openid) "
                 "DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at)")

        def timed(label: str, fn) -> None:
            c.execute("BEGIN IMMEDIATE")
            t = time.thread_time()
            fn()
            took = time.thread_time() - t
            c.execute("COMMIT")
            print(f"  {label:52s} {took / N * 1e6:6.2f} us")

        def each(f):
            return lambda: [f(i) for i in range(N)]

        print(f"thread CPU per statement (or pair), {N:,} of each:")
        timed("SAVEPOINT + RELEASE", each(lambda i: (c.execute("SAVEPOINT sp1"), c.execute("RELEASE sp1"))))
        timed("inbound: claim INSERT + completing UPDATE (before)", each(lambda i: (
            c.execute("INSERT INTO inbound (key, openid, msg_type, payload, received_at) VALUES (?, ?, ?, ?, ?) "
                      "ON CONFLICT(key) DO NOTHING", [f"a{i}", "o_x", "text", payload, 1.0]),
            c.execute("UPDATE inbound SET status = 'done', reply = ?, handled_at = ?, deferred = ? "
                      "WHERE key = ? AND status != 'done'", [reply, 2.0, 0, f"a{i}"]))))
        timed("inbound: one INSERT, done (now)", each(lambda i: c.execute(
            "INSERT INTO inbound (key, openid, msg_type, payload, received_at, status, reply, handled_at, deferred) "
            "VALUES (?, ?, ?, ?, ?, 'done', ?, ?, ?) ON CONFLICT(key) DO NOTHING",
            [f"b{i}", "o_x", "text", payload, 1.0, reply, 2.0, 0])))
        timed("users upsert (400 people)", each(lambda i: c.execute(touch, [f"o{i % 400}", i, i])))
        rows = [[f"o{i % 400}", i, i] for i in range(N)]
        timed("users upsert, executemany of 50", lambda: [c.executemany(touch, rows[i:i + 50])
                                                          for i in range(0, N, 50)])
        timed("SELECT * FROM users", each(lambda i: c.execute("SELECT * FROM users WHERE openid = ?",
                                                              [f"o{i % 400}"]).fetchone()))
        timed("webhook_requests INSERT", each(lambda i: c.execute(
            "INSERT INTO webhook_requests (key, message) VALUES (?, ?) ON CONFLICT(key) DO NOTHING",
            [f"{i:012d}:n{i}", f"k{i}"])))
        c.close()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
