#!/usr/bin/env python3
"""Does `tingjian backup` hold up the service's writer? Write latency during an online backup vs without.

    python bench/backup.py [--tickets 200000]

A real SQLite file with N tickets (about 300 bytes of text each) is made through the writer thread. Then, for the
same number of seconds each: small writes through Database.run one after another (as the webhook does) alone,
and while storage.backup.backup copies the file. Prints the backup's size and time and the writes' p50/p99/max
in both phases, with ratios.
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)

from bot.demo import DEMO_DIRECTORY
from storage import backup, directory
from storage.db import Database


def fill(db: Database, n: int) -> None:
    db.run_sync(directory.upsert, directory.read_csv(DEMO_DIRECTORY))
    text = "学校乱收资料费，每学期三百元，家长意见很大，希望教育局调查处理。" * 5
    for start in range(0, n, 5000):
        db.run_sync(lambda conn, s=start: conn.conn.executemany(
            "INSERT INTO tickets (number, openid, kind, category, unit_code, text, state, created_at, dispatched_at, "
            "due_at, accept_due_at) VALUES (?, 'o', 'complaint', 'fees', 'jyj-sfc', ?, 'assigned', 0, 0, 1, 1)",
            [(f"JB{i:07d}", text) for i in range(s, min(s + 5000, n))]))


async def writes(db: Database, stop: threading.Event, seconds: float) -> list[float]:
    lat = []
    deadline = time.perf_counter() + seconds
    while not stop.is_set() and time.perf_counter() < deadline:
        t0 = time.perf_counter()
        await db.run(lambda conn: conn.execute("UPDATE users SET last_seen_at = last_seen_at + 0 WHERE openid = 'x'"))
        lat.append(time.perf_counter() - t0)
        await asyncio.sleep(0.001)
    return lat


def pct(values: list[float], p: float) -> float:
    return sorted(values)[min(len(values) - 1, int(len(values) * p))] * 1000


async def main_async(n: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "live.db"
        db = Database(path).start()
        t0 = time.perf_counter()
        await asyncio.to_thread(fill, db, n)
        size = path.stat().st_size + Path(f"{path}-wal").stat().st_size
        print(f"{n:,} tickets, {size / 1e6:.0f} MB, made in {time.perf_counter() - t0:.1f} s")
        done = threading.Event()
        result = {}

        def run_backup():
            t = time.perf_counter()
            result.update(backup.backup(path, Path(tmp) / "copy.db"))
            result["seconds"] = time.perf_counter() - t
            done.set()
        # the backup's duration, measured once alone, sets the length of both phases
        run_backup()
        seconds = result["seconds"]
        done.clear()
        quiet = await writes(db, threading.Event(), seconds)
        thread = threading.Thread(target=run_backup)
        thread.start()
        busy = await writes(db, done, seconds * 3)
        thread.join()
        db.close()
    print(f"backup: {result['seconds']:.2f} s, {result['tickets']:,} tickets in the copy")
    for name, lat in (("writes alone", quiet), ("writes during backup", busy)):
        print(f"{name:22s} n={len(lat):6d}  p50 {pct(lat, .5):6.2f} ms  p99 {pct(lat, .99):6.2f} ms  "
              f"max {max(lat) * 1000:7.2f} ms")
    print(f"ratio during/alone: p50 {pct(busy, .5) / pct(quiet, .5):.2f}, p99 {pct(busy, .99) / pct(quiet, .99):.2f}, "
          f"mean {statistics.mean(busy) / statistics.mean(quiet):.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tickets", type=int, default=200000)
    asyncio.run(main_async(parser.parse_args().tickets))


if __name__ == "__main__":
    main()
