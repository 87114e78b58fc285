"""Does the writer's per-message work grow with the file? Thread CPU per message of the statements a message runs
on the big tables (users upsert and read, inbound, webhook_requests, tickets by openid, conversations), 6,000
messages from 2,000 new people in transactions of 25, on a copy of each given database, with SQLite's default page
cache (2 MB) and with a 64 MB one.

    python bench/page_cache.py /work/scale-data/scale-10000-v3.db /work/scale-data/scale-1000000-v3.db

Each file is copied first (common.working_copy: the code's migrations applied to the copy); the originals are
never written.
"""
from __future__ import annotations

import json
import os
import random
import sqlite3
import sys
import time
from pathlib import Path

import common

N, BATCH = 6000, 25
SETTINGS = ("", "cache_size=-65536")


def run(path: Path, setting: str, seed: int) -> float:
    rng = random.Random(seed)
    c = sqlite3.connect(path, isolation_level=None)
    c.execute("PRAGMA journal_mode=WAL")
    c.execute("PRAGMA synchronous=NORMAL")
    if setting:
        c.execute(f"PRAGMA {setting}")
    payload = json.dumps({"openid": "o_x" * 5, "kind": "text", "text": "学校食堂的饭菜太贵了" * 2, "msg_id": "1"},
                         ensure_ascii=False)
    touch = ("INSERT INTO users (openid, first_seen_at, last_seen_at) VALUES (?, ?, ?) ON CONFLICT(openid) "
             "DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at)")
    people = [f"o_bench{rng.getrandbits(80):020x}" for _ in range(2000)]
    cpu = 0.0
    for _ in range(N // BATCH):
        t = time.thread_time()
        c.execute("BEGIN IMMEDIATE")
        for _ in range(BATCH):
            o, k = rng.choice(people), f"{rng.getrandbits(64):016x}"
            c.execute("INSERT INTO webhook_requests (key, message) VALUES (?, ?) ON CONFLICT(key) DO NOTHING", [k, k])
            c.execute("SELECT * FROM users WHERE openid = ?", [o]).fetchone()
            c.execute(touch, [o, 1.0, 1.0])
            c.execute("INSERT INTO inbound (key, openid, msg_type, payload, received_at, status, reply, handled_at, "
                      "deferred) VALUES (?, ?, 'text', ?, 1, 'done', ?, 2, 0) ON CONFLICT(key) DO NOTHING",
                      [k, o, payload, payload])
            c.execute("SELECT * FROM tickets WHERE openid = ? ORDER BY id DESC LIMIT 5", [o]).fetchall()
            c.execute("SELECT flow, state, data, expires_at FROM conversations WHERE openid = ?", [o]).fetchone()
            c.execute("INSERT OR REPLACE INTO conversations (openid, flow, state, data, updated_at, expires_at) "
                      "VALUES (?, 'intake', 's', ?, 1, 2)", [o, payload])
        c.execute("COMMIT")
        cpu += time.thread_time() - t
    c.close()
    return cpu / N * 1e6


def main() -> int:
    for built in map(Path, sys.argv[1:]):
        work = common.SCALE_DATA / f"page-cache-{os.getpid()}.db"
        common.working_copy(built, work)
        try:
            for i, setting in enumerate(SETTINGS):
                print(f"{built.name:28s} {setting or 'default cache (2 MB)':22s} "
                      f"{run(work, setting, i):6.1f} us of thread CPU per message", flush=True)
        finally:
            common.remove_db(work)
    return 0


if __name__ == "__main__":
    sys.exit(main())
