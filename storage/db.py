"""One SQLite file, one writer thread, and a few reader threads.

Every database call from the event loop is a small function `fn(db)` run on a single thread that owns the
connection. Calls that queue up while a transaction runs are committed together (group commit): each call runs in
its own savepoint, so one failing call rolls back only itself, and every caller is answered only after the commit
that holds its work, so an answered write is on disk.

Calls that may be run twice (`run_redoable`: the receiver's messages) are first run, one after the other, without
those savepoints, nor any `savepoint()` inside them (two statements each, four a message); the batch's other calls
come after them, each in its savepoint. If a redoable call raises, or a savepoint's block in it would have to be
rolled back, what the redoable calls did is rolled back and the whole batch runs the careful way, each call in its
savepoint. One failing message still loses nobody else's work; it costs its batch a second run.

In that optimistic run the rows every message writes (its sender's touch, its conversation row, its inbound row,
its signed request's record) are not written one by one: each is noted, the writer's memories answer any read of
them, and they are written at the run's end, one executemany per table (`_write_behind`), before the batch is
released and committed. Run together, the same statements cost the writer less (in the middle of a
message's Python each one paid for cold caches; bench/README.md, `store9`). A key found there before (a retry, a
replay, a row written by another way) is a redo, and the careful run writes and asks at once, as before.

Reads that may take more than a moment (pages, lists for reports, digest builds, rates, the sweep's selection)
go through `await db.read(fn, *args)` instead: a small pool of threads, each with its own read-only connection.
In WAL mode a reader sees the last commit and never blocks the writer or is blocked by it, so a report being
built never delays a message. What a reader decides is written back by the caller in short `db.run` calls.
"""
from __future__ import annotations

import asyncio
import itertools
import logging
import os
import queue
import random
import sqlite3
import threading
import time
from concurrent.futures import Future
from pathlib import Path
from typing import Any, Callable, TypeVar

import sqlite_utils

log = logging.getLogger(__name__)
T = TypeVar("T")

# Enough to amortise one commit over a burst, small enough that one batch never holds the lock for long.
MAX_BATCH = 256
# How long a batch waits for another process to release the write lock before it fails.
LOCK_WAIT_SECONDS = 30
# Reader threads: enough for a page and a periodic job at once; each holds one read-only connection.
READERS = 2
# The WAL is copied back into the file by a thread of its own this often (when something was committed), not by
# whichever commit crosses SQLite's 1000-page mark: that commit would hold the write lock for the copy and its
# fsync, tens to hundreds of milliseconds on a busy disk, while messages wait.
CHECKPOINT_SECONDS = 1.0
# The WAL starts again from its beginning only when a write transaction begins with every frame copied back. Under
# a steady stream of commits the checkpoint thread's passes never catch the last ones (each pass copies what was
# committed when it began, and the writer has committed more by the time it ends), so the WAL grew without end:
# ~5 MB a second at 1,000 messages a second (450 MB in 2.5 s of back-to-back small commits). Past this size, the
# writer copies those last frames itself between two batches (what was committed since the thread's last pass:
# 14-21 ms with its fsyncs in the bench), and its next transaction restarts the WAL, which journal_size_limit then
# cuts back to this size. Large enough that the catch-up comes rarely (every ~10 s at 1,000 messages a second).
WAL_RESET_BYTES = 64 << 20


def tx_memo(db: sqlite_utils.Database) -> dict | None:
    """The writer's memory of what its current write transaction has read that only its own writes can change:
    while it holds the write lock (BEGIN IMMEDIATE) no other connection can commit, so a value read once stays
    true until this connection changes it. Emptied when each transaction begins and on any rollback; a write to
    what it holds, by any SQL through this connection, forgets that entry (TEMP triggers: _memo_triggers).
    None on every other connection (readers, the CLI's), which read each time."""
    return getattr(db, "tx_memo", None)


# What tx_memo may hold, and the writes that make each entry stale (WHEN: only those).
_MEMO_TRIGGERS = (
    ("edit_versions", "INSERT", "edit_versions", ""), ("edit_versions", "UPDATE", "edit_versions", ""),
    ("edit_versions", "DELETE", "edit_versions", ""),
    ("outbox", "INSERT", "outbox_waiting", "WHEN NEW.status = 'waiting'"),
    ("outbox", "UPDATE OF status", "outbox_waiting", "WHEN NEW.status = 'waiting'"),
    ("units", "INSERT", "school_names", ""), ("units", "UPDATE", "school_names", ""),
    ("units", "DELETE", "school_names", ""),
    ("units", "INSERT", "school_places", ""), ("units", "UPDATE", "school_places", ""),
    ("units", "DELETE", "school_places", ""),
)


def forget(db: sqlite_utils.Database) -> None:
    """Empty every memory the writer keeps of what its connection holds (the conversations', the people's, the
    transaction's): what they hold may be about to be undone (a rollback) or may not have reached the file."""
    for memory in (getattr(db, "conversation_cache", None), getattr(db, "users_cache", None),
                   getattr(db, "tx_memo", None), getattr(db, "write_behind", None)):
        if memory is not None:
            memory.clear()


def _seen(db: sqlite_utils.Database) -> None:
    """At the start of each write transaction: the memories that outlive a transaction forget everything if
    another connection committed since the last one (PRAGMA data_version, read once for all of them)."""
    version = db.conn.execute("PRAGMA data_version").fetchone()[0]
    db.conversation_cache.seen(version)
    db.users_cache.seen(version)


def _write_behind(db: sqlite_utils.Database) -> None:
    """The writes an optimistic batch's calls left for its end (storage.users.flush), before it is released:
    in the same transaction as everything else of the batch, so committed before anyone is answered."""
    from storage import conversations, inbound, users
    inbound.flush(db)
    users.flush(db)
    conversations.flush(db)


def _memo_triggers(db: sqlite_utils.Database, memo: dict) -> None:
    def forget(key: str) -> None:
        memo.pop(key, None)
    db.conn.create_function("tingjian_memo_forget", 1, forget, deterministic=False)
    for n, (table, event, key, when) in enumerate(_MEMO_TRIGGERS):
        db.conn.execute(f"CREATE TEMP TRIGGER IF NOT EXISTS tx_memo_{n} AFTER {event} ON main.{table} {when} "
                        f"BEGIN SELECT tingjian_memo_forget('{key}'); END")


class Redo(BaseException):
    """Raised in an optimistic batch (see the module's docstring) where part of it would have to be rolled back:
    a savepoint's block raised, or a write found that its row was taken meanwhile (storage.inbound.complete). The
    batch is rolled back and run again with real savepoints. A BaseException, so that no `except Exception` on
    the way mistakes it for the call's own failure."""


def optimistic(db: sqlite_utils.Database) -> bool:
    """True while the writer runs a batch without savepoints: a rollback of part of it must raise Redo."""
    return getattr(db, "optimistic", False)


class savepoint:
    """`with savepoint(db):` -- a nested transaction: what the block did is rolled back if it raises, and the
    exception goes on. What sqlite_utils' atomic() does inside a transaction, without its generator and random
    name. Named by nesting depth, so the few statements it runs are always the same text and stay prepared in the
    connection's statement cache (a new name per call was parsed anew).

    In an optimistic batch (the module's docstring) it costs no statement, and an exception leaving the block
    becomes Redo: the batch is run again, this block then in a real savepoint. `once` (a name unique in the batch,
    such as a message's key): the block is not run again then; its first exception is raised at once, so a block
    is tried once per batch however the batch ends (a handling that fails is tried, and logged, once)."""

    __slots__ = ("db", "conn", "name", "once")

    def __init__(self, db: sqlite_utils.Database, once: str | None = None):
        self.db = db
        self.conn = db.conn
        self.once = once

    def __enter__(self) -> None:
        if getattr(self.db, "optimistic", False):
            self.name = None
            return
        if self.once is not None:
            failed = getattr(self.db, "failed_once", None)
            if failed and self.once in failed:
                raise failed.pop(self.once)
        depth = getattr(self.db, "_savepoint_depth", 0) + 1
        self.name = f"sp{depth}"
        self.conn.execute(f"SAVEPOINT {self.name}")
        self.db._savepoint_depth = depth

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.name is None:  # optimistic: nothing to release; a rollback needed means the batch is done again
            if exc_type is not None and not issubclass(exc_type, Redo):
                if self.once is not None and isinstance(exc, Exception) and hasattr(self.db, "failed_once"):
                    self.db.failed_once[self.once] = exc
                raise Redo(f"{exc_type.__name__} in a savepoint") from exc
            return
        self.db._savepoint_depth -= 1
        if exc_type is not None:
            forget(self.db)  # rows remembered from inside the block are about to be undone
            # An error such as a RAISE(ROLLBACK) trigger may have ended the whole transaction, savepoint included.
            if self.conn.in_transaction:
                self.conn.execute(f"ROLLBACK TO {self.name}")
                self.conn.execute(f"RELEASE {self.name}")
            return
        self.conn.execute(f"RELEASE {self.name}")


def _create_private(path: Path) -> None:
    """Create the file (and any missing folders) readable by this user only: it holds citizens' words and phone
    numbers. SQLite gives the -wal and -shm files the database file's mode. Existing files are left as they are."""
    missing = []
    for folder in path.absolute().parents:
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        try:
            folder.mkdir(mode=0o700)
        except FileExistsError:
            pass
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        if os.stat(path).st_mode & 0o077:
            log.warning("%s is readable by other users; chmod 600 it (and its -wal, -shm files)", path)


def connect(path: str | Path) -> sqlite_utils.Database:
    """Open the file with the settings every connection to it must share."""
    if str(path) != ":memory:" and not str(path).startswith("file:"):
        _create_private(Path(path))
    conn = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False, timeout=30)
    conn.execute("PRAGMA journal_mode=WAL")
    # NORMAL in WAL mode: a killed process loses nothing committed; only an OS crash may lose the last commits.
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return sqlite_utils.Database(conn)


def connect_readonly(path: str | Path) -> sqlite_utils.Database:
    """A read-only connection to the same file (WAL: it reads the last commit and takes no write lock)."""
    conn = sqlite3.connect(f"file:{Path(path).resolve()}?mode=ro", uri=True, isolation_level=None,
                           check_same_thread=False, timeout=30)
    conn.execute("PRAGMA query_only=ON")
    conn.execute("PRAGMA busy_timeout=30000")
    return sqlite_utils.Database(conn)


class _Reader:
    """One thread with one read-only connection, serving calls from a queue."""

    def __init__(self, path: str, index: int):
        self.path = path
        self.queue: queue.SimpleQueue = queue.SimpleQueue()
        self.thread = threading.Thread(target=self._main, name=f"sqlite-reader-{index}", daemon=True)
        self.thread.start()

    def _main(self) -> None:
        db = None
        while True:
            item = self.queue.get()
            if item is None:
                break
            fn, args, loop, fut = item
            if loop is not None and fut.cancelled():
                continue
            try:
                if db is None:
                    db = connect_readonly(self.path)
                ok, value = True, fn(db, *args)
            except Exception as exc:  # noqa: BLE001 - handed to the caller
                ok, value = False, exc
            if loop is None:
                fut.set_result(value) if ok else fut.set_exception(value)
            else:
                try:
                    loop.call_soon_threadsafe(_settle, [(fut, ok, value)])
                except RuntimeError:  # the caller's loop has closed
                    pass
        if db is not None:
            db.conn.close()


class _Call:
    """One queued call and how to answer its caller: an asyncio future on its loop, or a plain Future."""

    __slots__ = ("fn", "args", "loop", "future", "redoable")

    def __init__(self, fn: Callable, args: tuple, loop: asyncio.AbstractEventLoop | None, future,
                 redoable: bool = False):
        self.fn, self.args, self.loop, self.future = fn, args, loop, future
        self.redoable = redoable

    def wanted(self) -> bool:
        """False if the caller gave up before its turn (then nothing is done for it)."""
        if self.loop is None:
            return self.future.set_running_or_notify_cancel()
        return not self.future.cancelled()


class _Then:
    """A call's answer handed to a function on the caller's loop, with the rest of its batch's answers
    (Database.run_redoable_then): in _settle's place of a future, without the future, the task awaiting it and the
    task's wake-up. Never raises into _settle, which answers the batch's other callers after it."""

    __slots__ = ("fn", "_done")

    def __init__(self, fn: Callable[[bool, Any], None]):
        self.fn = fn
        self._done = False

    def cancelled(self) -> bool:
        return False

    def done(self) -> bool:
        return self._done

    def set_result(self, value: Any) -> None:
        self._call(True, value)

    def set_exception(self, exc: BaseException) -> None:
        self._call(False, exc)

    def _call(self, ok: bool, value: Any) -> None:
        self._done = True
        try:
            self.fn(ok, value)
        except Exception:  # noqa: BLE001 - a bug in one caller's callback must not leave the others unanswered
            log.exception("a writer call's callback failed")


def _wake(waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]]) -> None:
    """From the writer thread: Database.idle()'s waiters, told on their loops."""
    for loop, fut in waiters:
        try:
            loop.call_soon_threadsafe(_set_none, fut)
        except RuntimeError:  # that loop has closed
            pass


def _set_none(fut: asyncio.Future) -> None:
    if not fut.done():
        fut.set_result(None)


def _settle(outcomes: list[tuple[asyncio.Future, bool, Any]]) -> None:
    """On the event loop: answer a whole batch's callers at once."""
    for fut, ok, value in outcomes:
        if fut.done():  # cancelled while its call ran
            continue
        if ok:
            fut.set_result(value)
        else:
            fut.set_exception(value)


class Database:
    """Async front of the writer thread. Use `await db.run(fn, *args)`; fn receives a sqlite_utils.Database."""

    def __init__(self, path: str | Path, lock_wait: float = LOCK_WAIT_SECONDS,
                 on_lock_wait: Callable[[float], None] | None = None):
        self.path = str(path)
        # How long one batch waits for another process's write lock before its callers get an error. Callers
        # that must not lose anything (the receiver) fall back to the spool; see bot/receiver.py.
        self.lock_wait = lock_wait
        self.on_lock_wait = on_lock_wait  # told how long each batch waited for the write lock (metrics)
        self._queue: queue.SimpleQueue[_Call | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._db: sqlite_utils.Database | None = None
        self.commits = 0
        self.calls = 0
        self.redone = 0  # optimistic batches rolled back and run again with savepoints (a call raised)
        self.longest_batch = 0.0  # seconds: the longest the write lock was held by one batch (reset by readers)
        # ...what that batch ran (call -> how many) and its time in Python's own clock for this thread: a batch
        # much longer in wall time than in CPU time waited for the GIL or a core, not for its own work.
        self.longest_batch_calls: dict[str, int] = {}
        self.longest_batch_cpu = 0.0
        self._readers: list[_Reader] = []
        self._next_reader = itertools.count()
        self._checkpointer: threading.Thread | None = None
        self._stop = threading.Event()
        self.checkpoints = 0
        self.wal_resets = 0  # catch-up checkpoints the writer ran between batches (see WAL_RESET_BYTES)
        self.wal_reset_asks = 0  # the checkpoint thread's passes that found the WAL past WAL_RESET_BYTES
        self._wal_reset_due = False  # set by the checkpoint thread, taken by the writer thread
        self._checkpointing = threading.Lock()  # one checkpoint at a time: the thread's pass or the writer's catch-up
        self._lock_fd: int | None = None
        # Writes in hand: set when a call is queued, cleared by the writer thread once a batch leaves the queue
        # empty; and who is told on the writer thread after each batch. The web's turn-taking (bot/priority.py)
        # lets pages wait for the writer's commit instead of taking the interpreter lock from it.
        self.busy = False
        self._busy_lock = threading.Lock()  # a put and the writer's "queue empty" are never interleaved
        self.batch_done: Callable[[], None] | None = None
        self._idle_waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []  # Database.idle()

    def start(self) -> "Database":
        if self._thread is not None:
            return self
        if self.path != ":memory:" and not self.path.startswith("file:"):
            self._hold_in_use_lock()
        ready: Future = Future()
        self._thread = threading.Thread(target=self._main, args=(ready,), name="sqlite-writer", daemon=True)
        self._thread.start()
        try:
            ready.result()  # re-raises an error opening the file
        except BaseException:
            self._thread = None
            self._release_in_use_lock()
            raise
        if self.path != ":memory:" and not self.path.startswith("file:"):
            self._readers = [_Reader(self.path, i) for i in range(READERS)]
            self._stop.clear()
            self._checkpointer = threading.Thread(target=self._checkpoints, name="sqlite-checkpoint", daemon=True)
            self._checkpointer.start()
        return self

    def _checkpoints(self) -> None:
        """PASSIVE checkpoints beside the writer: they copy what no reader still needs and never take the write
        lock, so a commit never pays for the copy."""
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        page_size = conn.execute("PRAGMA page_size").fetchone()[0]
        seen = -1
        try:
            while not self._stop.wait(CHECKPOINT_SECONDS):
                if self.commits != seen:
                    seen = self.commits
                    try:
                        with self._checkpointing:
                            _, frames, _ = conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                        self.checkpoints += 1
                        if frames * page_size > WAL_RESET_BYTES:
                            self._wal_reset_due = True
                            self.wal_reset_asks += 1
                    except sqlite3.Error:  # busy with another process's checkpoint: next time
                        log.debug("checkpoint skipped", exc_info=True)
        finally:
            conn.close()

    def _hold_in_use_lock(self) -> None:
        """A shared lock on <db>.lock while open, so `tingjian restore` never replaces the file under us."""
        import fcntl
        _create_private(Path(self.path))
        self._lock_fd = os.open(f"{self.path}.lock", os.O_CREAT | os.O_RDWR, 0o600)
        fcntl.flock(self._lock_fd, fcntl.LOCK_SH)

    def _release_in_use_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _main(self, ready: Future) -> None:
        try:
            self._db = connect(self.path)
            from storage.migrations import migrate
            migrate(self._db)
            # The writer's memory of conversations (write-through; see storage/conversations.Cache).
            from storage import conversations, users
            self._db.conversation_cache = conversations.Cache(self._db.conn)
            self._db.users_cache = users.Cache(self._db.conn)  # (storage/users.py)
            from storage.inbound import Pending
            self._db.write_behind = Pending()  # an optimistic batch's inbound rows (storage/inbound.py)
            self._db.tx_memo = {}
            self._db.failed_once = {}  # savepoint(once=...): blocks that raised in this batch's optimistic run
            _memo_triggers(self._db, self._db.tx_memo)
            # The write lock is waited for in _begin, with short fair retries, not in SQLite's busy handler.
            self._db.conn.execute("PRAGMA busy_timeout=0")
            if self.path != ":memory:" and not self.path.startswith("file:"):  # see _checkpoints
                self._db.conn.execute("PRAGMA wal_autocheckpoint=0")
                self._db.conn.execute(f"PRAGMA journal_size_limit={WAL_RESET_BYTES}")
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
            if self._wal_reset_due:
                self._reset_wal(db)
            idle = None
            with self._busy_lock:
                if self._queue.empty():
                    self.busy = False
                    idle, self._idle_waiters = self._idle_waiters, []
            if idle:
                _wake(idle)
            if self.batch_done is not None:
                self.batch_done()
            if stop:
                break
        self.busy = False
        _wake(self._idle_waiters)
        if self.batch_done is not None:  # nobody waits for a writer that has stopped
            self.batch_done()
        db.conn.close()

    def _reset_wal(self, db: sqlite_utils.Database) -> None:
        """Between batches, no transaction open: copy the last frames so the next BEGIN restarts the WAL. Never
        waits: while the thread's own pass runs, the next batch comes first and this is tried after it. Tried once
        per request: a reader that still needs older frames (a long report) keeps them, and the thread asks again
        after its next pass."""
        if not self._checkpointing.acquire(blocking=False):
            return
        self._wal_reset_due = False
        try:
            busy, frames, copied = db.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
            if not busy and frames == copied:
                self.wal_resets += 1
        except sqlite3.Error:  # another process's checkpoint: the thread asks again
            log.debug("WAL catch-up skipped", exc_info=True)
        finally:
            self._checkpointing.release()

    def _begin(self, db: sqlite_utils.Database) -> float:
        """BEGIN IMMEDIATE: take the write lock up front, so a transaction that reads first never fails to upgrade
        after another process's commit. Retried here with sub-millisecond steps: SQLite's own busy handler sleeps
        in growing steps up to 100 ms, which lets one worker process starve another. Returns how long another
        connection's lock kept it waiting: 0.0 when granted at once (the wall time of an uncontended BEGIN is this
        thread's wait for a core and the GIL, which a lock-wait metric must not report as contention)."""
        delay, deadline = 0.0002, time.monotonic() + self.lock_wait
        busy_since = None
        while True:
            try:
                db.conn.execute("BEGIN IMMEDIATE")
                return 0.0 if busy_since is None else time.monotonic() - busy_since
            except sqlite3.OperationalError as exc:
                if "locked" not in str(exc) and "busy" not in str(exc) or time.monotonic() > deadline:
                    raise
                if busy_since is None:
                    busy_since = time.monotonic()
                time.sleep(delay * random.uniform(0.5, 1.5))
                delay = min(delay * 2, 0.004)

    def _run_batch(self, db: sqlite_utils.Database, batch: list[_Call]) -> None:
        outcomes: list[tuple[_Call, bool, Any]] = []
        live: list[_Call] | None = None
        started = None
        try:
            waited = self._begin(db)
            db.tx_memo.clear()  # read afresh in each transaction: another connection may have committed between
            started, cpu = time.perf_counter(), time.thread_time()
            _seen(db)  # another process's commit since the last batch: remember nothing from before
            if self.on_lock_wait is not None:
                self.on_lock_wait(waited)
            live = [call for call in batch if call.wanted()]  # asked once: a plain Future's answer is final
            # The redoable calls first, optimistically; the others after them, each in its savepoint, so that a
            # redo never runs one of those twice. (The order of calls in one batch is the queue's, not a caller's:
            # a caller that awaits one call before making the next never has both in one batch.)
            careful = [call for call in live if not call.redoable]
            if len(careful) < len(live) and not self._run_optimistic(
                    db, [call for call in live if call.redoable], outcomes):
                self.redone += 1
                careful = live
            for call in careful:
                try:
                    with savepoint(db):  # inside the batch's transaction
                        outcomes.append((call, True, call.fn(db, *call.args)))
                except Exception as exc:  # noqa: BLE001 - the caller gets it; its savepoint is rolled back
                    outcomes.append((call, False, exc))
            db.conn.execute("COMMIT")
            took = time.perf_counter() - started
            if took > self.longest_batch:
                self.longest_batch, self.longest_batch_cpu = took, time.thread_time() - cpu
                self.longest_batch_calls = {}
                for call in batch:
                    name = getattr(call.fn, "__qualname__", "?")
                    self.longest_batch_calls[name] = self.longest_batch_calls.get(name, 0) + 1
        except Exception as exc:  # noqa: BLE001 - the commit itself failed: nobody's work is on disk
            log.exception("commit failed")
            forget(db)  # what it remembered from this batch is not in the file
            if db.conn.in_transaction:
                db.conn.execute("ROLLBACK")
            if live is None:
                live = [c for c in batch if c.wanted()]
            outcomes = [(c, False, exc) for c in live]
        db.failed_once.clear()
        self.commits += 1
        self.calls += len(batch)
        by_loop: dict[asyncio.AbstractEventLoop, list] = {}
        for call, ok, value in outcomes:
            if call.loop is None:
                call.future.set_result(value) if ok else call.future.set_exception(value)
            else:
                by_loop.setdefault(call.loop, []).append((call.future, ok, value))
        for loop, results in by_loop.items():  # one wake-up of each event loop per batch, not one per call
            try:
                loop.call_soon_threadsafe(_settle, results)
            except RuntimeError:  # that loop has closed: nobody is waiting any more
                pass

    def _run_optimistic(self, db: sqlite_utils.Database, batch: list[_Call], outcomes: list) -> bool:
        """Every call of the batch without a savepoint each (module docstring). True if all returned (their
        outcomes appended); False if one raised: then nothing of the batch is left in the transaction, nor in
        the writer's memories, and `outcomes` is empty."""
        conn = db.conn
        conn.execute("SAVEPOINT batch")  # one for the whole batch: undoes it without giving up the write lock
        db.optimistic = True
        try:
            for call in batch:
                outcomes.append((call, True, call.fn(db, *call.args)))
            _write_behind(db)
        except (Exception, Redo) as exc:  # noqa: BLE001 - done again the careful way, where it is answered
            log.debug("batch of %d run again with savepoints: %r", len(batch), exc)
            outcomes.clear()
            forget(db)  # what they remembered is about to be undone
            if conn.in_transaction:
                conn.execute("ROLLBACK TO batch")
                conn.execute("RELEASE batch")
            else:  # an error that ended the whole transaction (SQLite's ROLLBACK on some errors): a new one
                self._begin(db)
                _seen(db)
            return False
        finally:
            db.optimistic = False
        conn.execute("RELEASE batch")
        return True

    def _put(self, call: _Call) -> None:
        with self._busy_lock:
            self.busy = True
            self._queue.put(call)

    async def idle(self, timeout: float) -> bool:
        """Return once the writer has nothing in hand (at once if it has nothing now), or after `timeout`; True if
        idle. A job calls it before each of its writes, so the messages queued before it go first, in batches of
        their own, instead of waiting for the job's part of a shared batch."""
        if not self.busy or self._thread is None:
            return True
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        with self._busy_lock:
            if not self.busy:
                return True
            self._idle_waiters.append((loop, fut))
        try:
            await asyncio.wait_for(fut, timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._thread is None:
            raise RuntimeError("database not started")
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._put(_Call(fn, args, loop, fut))
        return await fut

    async def run_redoable(self, fn: Callable[..., T], *args: Any) -> T:
        """run(), for a call that may be run twice: it changes nothing outside this database that a second run
        after a rollback would get wrong (the module's docstring says what that buys)."""
        if self._thread is None:
            raise RuntimeError("database not started")
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._put(_Call(fn, args, loop, fut, redoable=True))
        return await fut

    def run_redoable_then(self, then: Callable[[bool, Any], None], fn: Callable[..., T], *args: Any) -> None:
        """run_redoable() for a caller that takes the answer in a callback on its loop: then(True, value) or
        then(False, exception), with the rest of the batch's answers. No future or task per call: the writer
        process's path for each message (bot/receiver.py, Receiver.receive_soon)."""
        if self._thread is None:
            raise RuntimeError("database not started")
        self._put(_Call(fn, args, asyncio.get_running_loop(), _Then(then), redoable=True))

    def run_sync(self, fn: Callable[..., T], *args: Any) -> T:
        """For CLI commands that have no event loop."""
        fut: Future = Future()
        self._put(_Call(fn, args, None, fut))
        return fut.result()

    def _reader_call(self, fn, args, loop, fut) -> None:
        if self._thread is None:
            raise RuntimeError("database not started")
        if not self._readers:  # an in-memory database has no second connection: the writer reads
            self._put(_Call(fn, args, loop, fut))
            return
        # Round robin: a long read on one reader leaves the other free for the next page.
        self._readers[next(self._next_reader) % len(self._readers)].queue.put((fn, args, loop, fut))

    async def read(self, fn: Callable[..., T], *args: Any) -> T:
        """Run fn(db, *args) on a read-only connection, off the writer thread. fn must not write."""
        loop = asyncio.get_running_loop()
        fut = loop.create_future()
        self._reader_call(fn, args, loop, fut)
        return await fut

    def read_sync(self, fn: Callable[..., T], *args: Any) -> T:
        fut: Future = Future()
        self._reader_call(fn, args, None, fut)
        return fut.result()

    def close(self) -> None:
        self._stop.set()
        if self._checkpointer is not None:
            self._checkpointer.join()
            self._checkpointer = None
        for reader in self._readers:
            reader.queue.put(None)
        for reader in self._readers:
            reader.thread.join()
        self._readers = []
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join()
        self._thread = None
        if self.commits:  # how well calls were grouped (a transaction per message costs ~0.5 ms more CPU each)
            log.info("writer: %d calls in %d transactions", self.calls, self.commits)
        self._release_in_use_lock()
