#!/usr/bin/env python3
"""/healthz stays cheap however big the outbox: a real `tingjian serve` on a database with --rows outbox rows.

    python bench/healthz.py [--rows 1000000] [--requests 200] [--port 18212]

Prints the latency of GET /healthz (p50, p99) and, as the reference measured on the same file, the time of the
full count the old /healthz ran (SELECT status, count(*) FROM outbox GROUP BY status).
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

import common  # (bench/common.py: this checkout on sys.path, the server's start and stop)
from storage.db import connect
from storage.migrations import migrate


def build(path: Path, rows: int) -> None:
    db = connect(path)
    migrate(db)
    now = time.time()
    db.conn.execute("BEGIN")
    batch = []
    for i in range(rows):
        # Mostly delivered history, some pending (a few old enough to be stuck), some failed.
        status = "sent" if i % 50 else ("pending", "failed", "waiting")[i // 50 % 3]
        created = now - (rows - i) * 0.5
        batch.append((f"o{i % 5000}", "text", '{"content": "x"}', status, created, created,
                      created if status == "failed" else None))
        if len(batch) == 50_000:
            db.conn.executemany("INSERT INTO outbox (openid, kind, payload, status, created_at, next_attempt_at, "
                                "failed_at) VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
            batch.clear()
    if batch:
        db.conn.executemany("INSERT INTO outbox (openid, kind, payload, status, created_at, next_attempt_at, "
                            "failed_at) VALUES (?, ?, ?, ?, ?, ?, ?)", batch)
    db.conn.execute("COMMIT")
    db.conn.execute("ANALYZE")
    db.conn.close()


async def measure(port: int, n: int) -> list[float]:
    times = []
    async with aiohttp.ClientSession() as session:
        for _ in range(n):
            t = time.perf_counter()
            async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                await resp.read()
            times.append((time.perf_counter() - t) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--port", type=int, default=18212)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tingjian-healthz-"))
    db = tmp / "h.db"
    t = time.perf_counter()
    build(db, args.rows)
    print(f"[healthz] built {args.rows} outbox rows in {time.perf_counter() - t:.1f} s", flush=True)
    conn = sqlite3.connect(db)
    t = time.perf_counter()
    conn.execute("SELECT status, count(*) FROM outbox GROUP BY status").fetchall()
    reference = (time.perf_counter() - t) * 1000
    conn.close()
    config = tmp / "h.toml"
    config.write_text(f'[server]\nport = {args.port}\nlog_level = "WARNING"\nlink_secret = "bench-link-secret-3f9a1c"\n[wechat]\ntoken = "benchtoken"\nappsecret = "benchsecret"\n'
                      f'api_base = "http://127.0.0.1:9"\n[storage]\npath = "{db}"\n', encoding="utf-8")
    # 503 is an answer too: the built outbox has old pending rows, which /healthz reports
    proc = common.serve(config, args.port, tmp / "server.log", statuses=(200, 503), poll=0.2)
    try:
        times = sorted(asyncio.run(measure(args.port, args.requests)))
        p50, p99 = statistics.median(times), times[int(len(times) * 0.99) - 1]
        print(f"[healthz] GET /healthz over HTTP at {args.rows} outbox rows: p50 {p50:.2f} ms, p99 {p99:.2f} ms "
              f"({args.requests} requests); reference, the old full count on the same file: {reference:.1f} ms "
              f"(ratio p50/reference {p50 / reference:.3f})")
    finally:
        common.stop(proc, grace=30)
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
