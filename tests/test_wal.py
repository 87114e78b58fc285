"""The WAL under a steady stream of commits (storage/db.py WAL_RESET_BYTES): the checkpoint thread's passes never
catch the last commits, so without the writer's catch-up between batches the WAL never restarted and grew by
megabytes a second under load."""
from __future__ import annotations

import asyncio
import os
import time

from storage import db as dbmod
from storage import users
from storage.db import Database


async def test_the_wal_stays_bounded_under_a_steady_stream_of_commits(tmp_path, monkeypatch):
    monkeypatch.setattr(dbmod, "CHECKPOINT_SECONDS", 0.02)
    monkeypatch.setattr(dbmod, "WAL_RESET_BYTES", 256 << 10)
    db = Database(tmp_path / "w.db").start()
    wal = tmp_path / "w.db-wal"
    sizes, written = [], 0
    try:
        async def writer(k: int) -> None:
            nonlocal written
            n = 0
            while time.monotonic() < until:
                await db.run(users.touch, f"o{k}-{n}", float(n))
                n += 1
                written += 1

        async def watch() -> None:
            while time.monotonic() < until:
                await asyncio.sleep(0.05)
                sizes.append(wal.stat().st_size if wal.exists() else 0)

        until = time.monotonic() + 2.5
        await asyncio.gather(watch(), *(writer(k) for k in range(8)))  # never a pause between two commits
        # every commit adds at least a page to the WAL: without a restart it holds them all (hundreds of MB here)
        assert written * 4096 > 64 * (256 << 10), "too few commits to tell: the machine is too slow"
        assert db.wal_resets >= 3
        sizes.sort()
        assert sizes[len(sizes) // 2] < 8 * (256 << 10)  # most of the time near the limit; a pass may overshoot
        assert await db.read(lambda c: c.execute("SELECT count(*) FROM users").fetchone()[0]) == written
    finally:
        db.close()
    assert os.path.getsize(tmp_path / "w.db") > 0
