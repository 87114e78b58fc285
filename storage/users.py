"""People who talk to the Official Account: citizens and staff, with the QR scene they came through."""
from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from typing import Any

import sqlite_utils

log = logging.getLogger(__name__)

CACHE_SIZE = 4096  # people the writer remembers (LRU): those who wrote in the last minutes

_TOUCH = ("INSERT INTO users (openid, first_seen_at, last_seen_at) VALUES (?, ?, ?) "
          "ON CONFLICT(openid) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at)")
# What the upserts do to a row that is there, as plain UPDATEs: half an upsert's cost (no insert tried first)
_BUMP = "UPDATE users SET last_seen_at = max(last_seen_at, ?) WHERE openid = ?"
_WELCOME = ("UPDATE users SET last_seen_at = max(last_seen_at, ?), welcomed_at = ? "
            "WHERE openid = ? AND welcomed_at IS NULL")
_LANG = "UPDATE users SET last_seen_at = max(last_seen_at, ?), lang = ? WHERE openid = ?"


class Cache:
    """The writer connection's memory of users rows, so a message does not read its sender's row back after
    touching it (every message touches the row, then its handling reads it: two statements, now one UPDATE).
    Each row as `get` returns it (a dict of every column, SELECT * order). Write-through, never staler than the
    file, as storage.conversations.Cache:
    - every change to the table through this connection (any SQL, triggers' too) forgets the row, by TEMP
      triggers calling back into Python; the writes of this module then remember what SQLite computed;
    - a rollback (a savepoint's or the batch's: storage.db) forgets everything;
    - another connection's commit is seen at the start of the next write transaction (PRAGMA data_version).

    In an optimistic batch (storage.db) a touch of a remembered row is written with the batch's others, in one
    executemany at the batch's end (`flush`, before the batch is released and committed): `pending`. Safe in
    any order: the column becomes the largest of the times, whatever came between; the only reads of it in the
    file are the staff list's (a page, on a reader: after the commit) and SELECT * here (which adds `pending`).
    So are `set_lang` and `welcome_once` of a remembered row (`settings`: a new person's first message set both
    with an UPDATE each, after its touch): written in the touch's UPDATE at the batch's end. Those columns are
    read only through this module, which adds them. Any other SQL changing such a row before then (the trigger
    sees it) sends the batch round again, the careful way; this module's own statements write it first."""

    verify = False  # tests: every hit is compared with the row read from SQLite (mismatches listed below)
    mismatches: list = []

    def __init__(self, conn, size: int = CACHE_SIZE):
        self.rows: OrderedDict[str, dict] = OrderedDict()
        self.pending: dict[str, float] = {}  # openid -> last_seen_at to write at the batch's end
        self.settings: dict[str, dict] = {}  # openid -> {lang, welcomed_at} to write with it (set_lang, welcome_once)
        self.flushing = False
        self.conflict = False  # a row with settings waiting changed by other SQL (then the batch is redone)
        self.size = size
        self.hits = self.misses = 0
        self._version = None
        conn.create_function("tingjian_user_changed", 1, self.forget, deterministic=False)
        info = conn.execute("PRAGMA main.table_info(users)").fetchall()
        self.reals = [r[1] for r in info if r[2].upper() == "REAL"]  # (touch: RETURNING's values made SELECT's)
        others = ", ".join(r[1] for r in info if r[1] != "last_seen_at")
        for event, row in (("INSERT", "NEW"), (f"UPDATE OF {others}", "OLD"), ("DELETE", "OLD")):
            conn.execute(f"CREATE TEMP TRIGGER IF NOT EXISTS users_cache_{event.split()[0].lower()} AFTER {event} "
                         f"ON main.users BEGIN SELECT tingjian_user_changed({row}.openid); END")
        # an UPDATE that changes the openid itself leaves the old name's row forgotten and the new one's too
        conn.execute("CREATE TEMP TRIGGER IF NOT EXISTS users_cache_rename AFTER UPDATE OF openid ON main.users "
                     "BEGIN SELECT tingjian_user_changed(NEW.openid); END")

    def forget(self, openid: str | None = None) -> None:
        if self.flushing:  # the waiting settings being written: remembered already
            return
        self.rows.pop(openid, None)
        if openid in self.settings:
            self.conflict = True

    def clear(self) -> None:
        self.rows.clear()
        self.pending.clear()  # (a rollback: the batch is run again, and touches again)
        self.settings.clear()
        self.conflict = False

    def seen(self, version: int) -> None:
        """At the start of each write transaction, PRAGMA data_version: forget everything if it moved."""
        if version != self._version:
            self._version = version
            self.rows.clear()

    def row(self, db, openid: str) -> dict | None:
        """The remembered row (not a copy: for this module's reads and writes), or None."""
        row = self.rows.get(openid)
        if row is None:
            self.misses += 1
            return None
        self.hits += 1
        if self.verify:
            stored = _select(db, openid)  # (with `pending` added)
            if stored is None or _typed(stored) != _typed(row):
                log.error("users cache differs from the database for %s: %r != %r", log_name(openid), row, stored)
                Cache.mismatches.append((openid, dict(row), stored))
        return row

    def keep(self, openid: str, row: dict) -> None:
        rows = self.rows
        rows[openid] = row
        rows.move_to_end(openid)
        if len(rows) > self.size:
            rows.popitem(last=False)


def _typed(row: dict) -> list:
    return [(k, type(v), v) for k, v in row.items()]


def cache_of(db) -> Cache | None:
    """The writer's memory of users rows, on the writer's connection only (storage.db.Database puts it there)."""
    return getattr(db, "users_cache", None)


def _real(value: Any) -> float | None:
    """What a REAL column gives back for a time bound to it (SQLite's affinity), or None if not only a number."""
    return float(value) if type(value) in (float, int) else None


def _later(stored: Any, now: Any) -> float | None:
    """max(last_seen_at, now) as SQLite stores it in the REAL column, or None when that is not plain numbers."""
    if type(stored) is not float or _real(now) is None:
        return None
    return float(now) if now > stored else stored


def touch(db: sqlite_utils.Database, openid: str, now: float) -> None:
    cache = cache_of(db)
    row = cache.row(db, openid) if cache is not None else None
    if row is None:
        if cache is None:
            db.conn.execute(_TOUCH, [openid, now, now])
            return
        # The row as the upsert left it, remembered: the handling's `get` then reads nothing (a new person's
        # first message: one statement fewer). Kept after the statement, whose trigger forgets the openid.
        cur = db.conn.execute(_TOUCH + " RETURNING *", [openid, now, now])
        row = dict(zip([d[0] for d in cur.description], cur.fetchone()))
        # RETURNING gives a REAL column's whole numbers as integers (as bound, or as SQLite keeps them on disk);
        # a SELECT gives floats: remembered only as a SELECT would give it
        for column in cache.reals:
            value = row[column]
            if type(value) is int:
                row[column] = float(value)
            elif value is not None and type(value) is not float:
                return
        if openid in cache.pending:  # a touch not written yet (the row was forgotten meanwhile), as _select has it
            row["last_seen_at"] = max(row["last_seen_at"], cache.pending[openid])
            row.update(cache.settings.get(openid, ()))
        cache.keep(openid, row)
        return
    later = _later(row["last_seen_at"], now)
    if later == row["last_seen_at"]:
        return  # the upsert would leave the row as it is (a clock that did not move)
    if later is not None and getattr(db, "optimistic", False):  # written at the batch's end (the Cache's doc)
        row["last_seen_at"] = cache.pending[openid] = later
        return
    if not db.conn.execute(_BUMP, [now, openid]).rowcount:  # (not reached while the memory holds)
        db.conn.execute(_TOUCH, [openid, now, now])
    elif later is not None:  # the trigger forgot the row: remembered with what SQLite stored
        row["last_seen_at"] = later
        cache.keep(openid, row)


def log_name(openid: str) -> str:
    """Enough of an openid to tell people apart in a log, not enough to address the person (logs travel further
    than the database: an openid there is a way to message someone)."""
    return hashlib.sha256(openid.encode()).hexdigest()[:8]


def flush(db: sqlite_utils.Database) -> None:
    """Write the touches an optimistic batch left pending (storage.db, before the batch is released), in the
    order of the table's key: a touch alone as a bump, a touch with settings (`Cache.settings`) as one UPDATE of
    them all."""
    cache = cache_of(db)
    if cache is None:
        return
    if cache.conflict:
        from storage.db import Redo
        raise Redo("a users row with settings waiting written meanwhile by another way than this module")
    if cache.pending:
        pending, cache.pending = cache.pending, {}
        settings, cache.settings = cache.settings, {}
        if not settings:
            db.conn.executemany(_BUMP, [(at, openid) for openid, at in sorted(pending.items())])
            return
        bumps, by_columns = [], {}
        for openid, at in sorted(pending.items()):
            columns = settings.get(openid)
            if columns is None:
                bumps.append((at, openid))
            else:
                by_columns.setdefault(tuple(columns), []).append((at, *columns.values(), openid))
        if bumps:
            db.conn.executemany(_BUMP, bumps)
        cache.flushing = True  # (their UPDATEs fire the memory's trigger: the rows hold what is written)
        try:
            for columns, rows in by_columns.items():
                db.conn.executemany(_settings_sql(columns), rows)
        finally:
            cache.flushing = False


def _settings_sql(columns: tuple[str, ...]) -> str:
    return (f"UPDATE users SET last_seen_at = max(last_seen_at, ?), {', '.join(f'{c} = ?' for c in columns)} "
            f"WHERE openid = ?")


def _settle(db: sqlite_utils.Database, openid: str) -> None:
    """Before a statement of this module writes the person's row other than the touch: their waiting settings."""
    cache = cache_of(db)
    if cache is not None and openid in cache.settings:
        columns = cache.settings.pop(openid)
        at = cache.pending.pop(openid)
        cache.flushing = True
        try:
            db.conn.execute(_settings_sql(tuple(columns)), [at, *columns.values(), openid])
        finally:
            cache.flushing = False


def _select(db: sqlite_utils.Database, openid: str) -> dict[str, Any] | None:
    # conn.execute, not db.query: this runs for every message, and query() wraps each read in a savepoint.
    cur = db.conn.execute("SELECT * FROM users WHERE openid = ?", [openid])
    row = cur.fetchone()
    if not row:
        return None
    row = dict(zip([d[0] for d in cur.description], row))
    cache = cache_of(db)
    if cache is not None and openid in cache.pending:  # a touch not written yet
        row["last_seen_at"] = max(row["last_seen_at"], cache.pending[openid])
        row.update(cache.settings.get(openid, ()))
    return row


def get(db: sqlite_utils.Database, openid: str) -> dict[str, Any] | None:
    """The person's row (a dict the caller may keep and change), or None."""
    cache = cache_of(db)
    if cache is None:
        return _select(db, openid)
    row = cache.row(db, openid)
    if row is None:
        row = _select(db, openid)
        if row is None:
            return None
        cache.keep(openid, row)
    return row.copy()


def set_scene(db: sqlite_utils.Database, openid: str, scene: str | None, now: float) -> None:
    touch(db, openid, now)
    _settle(db, openid)
    db.execute("UPDATE users SET scene = ?, subscribed = 1 WHERE openid = ?", [scene, openid])


def set_subscribed(db: sqlite_utils.Database, openid: str, subscribed: bool, now: float) -> None:
    touch(db, openid, now)
    _settle(db, openid)
    db.execute("UPDATE users SET subscribed = ? WHERE openid = ?", [int(subscribed), openid])


def _wait(db: sqlite_utils.Database, cache: Cache, openid: str, later: float, column: str, value: Any) -> bool:
    """In an optimistic batch: the setting of a remembered row waits for the touch's write at the batch's end
    (the Cache's doc); True if so. `later`: last_seen_at as the UPDATE done now would leave it."""
    if not getattr(db, "optimistic", False):
        return False
    cache.pending[openid] = later
    cache.settings.setdefault(openid, {})[column] = value
    return True


def welcome_once(db: sqlite_utils.Database, openid: str, now: float) -> bool:
    """True the first time: the person is to be welcomed now (and is recorded as welcomed). For someone
    remembered, no statement if they were welcomed (and the clock has not moved since their touch), else one
    UPDATE (in an optimistic batch, the touch's at its end); otherwise one statement for someone welcomed before:
    touch's upsert says whether they were."""
    cache = cache_of(db)
    row = cache.row(db, openid) if cache is not None else None
    if row is not None:
        if row["welcomed_at"] is not None:
            touch(db, openid, now)
            return False
        later, welcomed = _later(row["last_seen_at"], now), _real(now)
        if later is not None and welcomed is not None and _wait(db, cache, openid, later, "welcomed_at", now):
            row["last_seen_at"], row["welcomed_at"] = later, welcomed
            return True
        if db.conn.execute(_WELCOME, [now, now, openid]).rowcount:
            if later is not None and welcomed is not None:
                row["last_seen_at"], row["welcomed_at"] = later, welcomed
                cache.keep(openid, row)
            return True
        # (not reached while the memory holds: it said not welcomed) the statements below decide
    welcomed = db.conn.execute(
        "INSERT INTO users (openid, first_seen_at, last_seen_at) VALUES (?, ?, ?) "
        "ON CONFLICT(openid) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at) "
        "RETURNING welcomed_at", [openid, now, now]).fetchone()[0]
    if welcomed is not None:
        return False
    return db.execute("UPDATE users SET welcomed_at = ? WHERE openid = ? AND welcomed_at IS NULL",
                      [now, openid]).rowcount == 1


def set_lang(db: sqlite_utils.Database, openid: str, lang: str, now: float) -> None:
    """The language the person writes in now (handlers.intake.written_lang); with touch's update, in one statement
    (in an optimistic batch, the touch's at its end)."""
    cache = cache_of(db)
    row = cache.row(db, openid) if cache is not None else None
    if row is not None:
        later = _later(row["last_seen_at"], now)
        if later is not None and type(lang) is str and _wait(db, cache, openid, later, "lang", lang):
            row["last_seen_at"], row["lang"] = later, lang
            return
        if db.conn.execute(_LANG, [now, lang, openid]).rowcount:
            if later is not None and type(lang) is str:
                row["last_seen_at"], row["lang"] = later, lang
                cache.keep(openid, row)
            return
    db.execute(
        "INSERT INTO users (openid, first_seen_at, last_seen_at, lang) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(openid) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at), lang = excluded.lang",
        [openid, now, now, lang],
    )


def lang(db: sqlite_utils.Database, openid: str) -> str | None:
    cache = cache_of(db)
    row = cache.row(db, openid) if cache is not None else None
    if row is not None:
        return row["lang"]
    row = db.conn.execute("SELECT lang FROM users WHERE openid = ?", [openid]).fetchone()
    return row[0] if row else None
