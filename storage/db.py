"""One SQLite file, one writer thread.

Every database call from the event loop is a small function `fn(db)` run on a single thread that owns the
connection. Calls that queue up while a transaction runs are committed together (group commit): each call runs in
its own savepoint, so one failing call rolls back only itself, and every caller is answered only after the commit
that holds its work, so an answered write is on disk.
"""
from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable, TypeVar

import sqlite_utils

log = logging.getLogger(__name__)
T = TypeVar("T")

# Enough to amortise one commit over a burst, small enough that one batch never holds the lock for long.
MAX_BATCH = 256


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open the file with the settings every connection to it must share."""
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a killed process loses nothing committed; only an OS crash may lose the last commits.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return sqlite_utils.Database(conn)


class Database:
    """Async front of the writer thread. Use `await db.run(fn, *args)`; fn receives a sqlite_utils.Database."""

    def __init__(self, path: str | Path):
        self.path = str(path)
        self._queue: queue.SimpleQueue[tuple[Future, Callable, tuple] | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._db: sqlite_utils.Database | None = None
        self.commits = 0
        self.calls = 0

    def start(self) -> "Database":
        if self._thread is not None:
            return self
        ready: Future = Future()
        self._thread = threading.Thread(target=self._main, args=(ready,), name="sqlite-writer", daemon=True)
        self._thread.start()
        ready.result()  # re-raises an error opening the file
        return self

    def _main(self, ready: Future) -> None:
        try:
            self._db = connect(self.path)
            from storage.migrations import migrate
            migrate(self._db)
        except BaseException as exc:  # noqa: BLE001 - handed to the starting thread
            ready.set_exception(exc)
            return
        ready.set_result(None)
        db = self._db
        while True:
            item = self._queue.get()
            if item is None:
                break
            batch = [item]
            stop = False
            while len(batch) < MAX_BATCH:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._run_batch(db, batch)
            if stop:
                break
        db.conn.close()

    def _run_batch(self, db: sqlite_utils.Database, batch: list) -> None:
        outcomes: list[tuple[Future, bool, Any]] = []
        try:
            # IMMEDIATE takes the write lock up front (waiting up to busy_timeout): with several worker processes
            # a deferred transaction that reads first could not upgrade to writing after another's commit.
            db.conn.execute("BEGIN IMMEDIATE")
            for fut, fn, args in batch:
                if not fut.set_running_or_notify_cancel():
                    continue  # the caller gave up before its turn: do nothing for it
                try:
                    with db.atomic():  # a savepoint inside the batch's transaction
                        outcomes.append((fut, True, fn(db, *args)))
                except Exception as exc:  # noqa: BLE001 - the caller gets it; its savepoint is rolled back
                    outcomes.append((fut, False, exc))
            db.conn.execute("COMMIT")
        except Exception as exc:  # noqa: BLE001 - the commit itself failed: nobody's work is on disk
            log.exception("commit failed")
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            outcomes = [(fut, False, exc) for fut, _, _ in batch
                        if fut.running() or fut.set_running_or_notify_cancel()]
        self.commits += 1
        self.calls += len(batch)
        for fut, ok, value in outcomes:
            if ok:
                fut.set_result(value)
            else:
                fut.set_exception(value)

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._thread is None:
            raise RuntimeError("database not started")
        fut: Future = Future()
        self._queue.put((fut, fn, args))
        return await asyncio.wrap_future(fut)

    def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """For CLI commands that have no event loop."""
        fut: Future = Future()
        self._queue.put((fut, fn, args))
        return fut.result()

    def close(self) -> None:
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join()
        self._thread = None
