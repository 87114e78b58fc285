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
    largest, written = 0, 0
    try:
        async def writer(k: int) -> None:
            nonlocal largest, written
            n = 0
            while time.monotonic() < until:
                await db.run(users.touch, f"o{k}-{n}", float(n))
                n += 1
                written += 1
                largest = max(largest, wal.stat().st_size if wal.exists() else 0)

        until = time.monotonic() + 2.5
        await asyncio.gather(*(writer(k) for k in range(8)))  # never a pause between two commits
        assert db.wal_resets >= 1
        assert db.checkpoints >= 10
        # what the writes put in the WAL in all, against what it holds at most
        assert written * 4096 > 8 * (256 << 10), "too few commits to tell: the machine is too slow"
        assert largest < 4 * (256 << 10)
        assert await db.read(lambda c: c.execute("SELECT count(*) FROM users").fetchone()[0]) == written
    finally:
        db.close()
    assert os.path.getsize(tmp_path / "w.db") > 0
