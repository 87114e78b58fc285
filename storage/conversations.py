"""Where each person is in a conversation, so a restart in the middle loses nothing."""
from __future__ import annotations

import json
import logging
from collections import OrderedDict
from typing import Any

import sqlite_utils

from storage import jsontext

log = logging.getLogger(__name__)

_encode = jsontext.encoder()  # json.JSONEncoder(ensure_ascii=False).encode's text, cheaper


KEPT = "kept"            # the flow of an unsubmitted message kept after its conversation expired
KEEP_SECONDS = 7 * 86400  # how long such a message is kept to be offered back


CACHE_SIZE = 4096  # conversations the writer remembers (LRU): those of everyone who wrote in the last minutes


class Cache:
    """The writer connection's memory of conversation rows, so a message does not read its conversation back
    and parse its draft from JSON: each row as (flow, state, data, expires_at), `data` the very dict `put` stored.
    Write-through: `put` writes the row in the caller's transaction first and remembers the data after, so the
    memory never holds what SQLite does not.

    It can never be staler than the file:
    - every change to the table through this connection (this module, or any other SQL) forgets the row, by
      TEMP triggers calling back into Python (`put` then remembers what it wrote);
    - a rollback (a savepoint's or the batch's: `storage.db`) forgets everything, since rows changed in it are
      restored by SQLite, not by us;
    - another connection's commit (another process, a CLI command) is seen at the start of the next batch by
      `PRAGMA data_version`, and forgets everything.
    A row is handed out once and forgotten (no copy): the handling edits its draft in place, and an edit that is
    not stored (a step that ends without `put`) must not reach the next message, which then reads the file.

    In an optimistic batch (storage.db) `put` writes its row with the batch's others, in one executemany at the
    batch's end (`flush`, before the batch is released and committed, so before anyone is answered): `pending`,
    in the order the rows were first put (a new person's row gets the rowid it would have had). Every other
    statement of this module on the table writes what is pending first (`_settle`), or drops it (`delete`);
    the table's other SQL (the media prune) runs in the jobs' calls, after the flush. A write to a row whose own
    write is pending by any other way (the trigger sees it) sends the batch round again, the careful way."""

    verify = False  # tests: every hit is compared with the row read from SQLite (mismatches listed below)
    mismatches: list = []

    def __init__(self, conn, size: int = CACHE_SIZE):
        self.rows: OrderedDict[str, tuple] = OrderedDict()
        self.pending: dict[str, tuple] = {}  # openid -> the row's values for _PUT, to write at the batch's end
        self.flushing = False
        self.conflict = False  # a write to a pending row not through this module (then the batch is redone)
        self.size = size
        self.hits = self.misses = 0
        self._version = None
        conn.create_function("tingjian_conversation_changed", 1, self.forget, deterministic=False)
        for event, row in (("INSERT", "NEW"), ("UPDATE", "OLD"), ("DELETE", "OLD"), ("UPDATE OF openid", "NEW")):
            name = event.lower().replace(" of ", "_")
            conn.execute(f"CREATE TEMP TRIGGER IF NOT EXISTS conversation_cache_{name} AFTER {event} "
                         f"ON main.conversations BEGIN SELECT tingjian_conversation_changed({row}.openid); END")

    def forget(self, openid: str | None = None) -> None:
        if self.flushing:  # the pending rows being written: remembered already
            return
        self.rows.pop(openid, None)
        if openid in self.pending:
            self.conflict = True

    def clear(self) -> None:
        self.rows.clear()
        self.pending.clear()  # (a rollback: the batch is run again, and puts again)
        self.conflict = False

    def check(self, conn) -> None:
        """At the start of each write transaction: forget everything if another connection committed since."""
        self.seen(conn.execute("PRAGMA data_version").fetchone()[0])

    def seen(self, version: int) -> None:
        """check(), given PRAGMA data_version read once for every memory of the writer (storage.db)."""
        if version != self._version:
            self._version = version
            self.rows.clear()

    def take(self, db, openid: str) -> tuple | None:
        rows = self.rows
        row = rows.pop(openid, None)
        if row is None:
            self.misses += 1
            row = _parsed(_select(db, openid))
            if row is None:
                self._keep(openid, _NONE)  # nothing to hand out or edit: the next look needs no read either
            return row
        self.hits += 1
        if row is _NONE:
            self._keep(openid, _NONE)
            row = None
        if self.verify:
            put = self.pending.get(openid)  # (what the file will hold at the batch's end)
            stored = (put[1], put[2], json.loads(put[3]), put[5]) if put else _parsed(_select(db, openid))
            if stored != row or row is not None and _json_shape(row[2]) != _json_shape(stored[2]):
                log.error("conversation cache differs from the database for %s: %r != %r", openid, row, stored)
                Cache.mismatches.append((openid, row, stored))
        return row

    def remember(self, openid: str, flow: str, state: str, data: dict, expires_at: float) -> None:
        self._keep(openid, (flow, state, data, expires_at))

    def _keep(self, openid: str, row: tuple) -> None:
        self.rows[openid] = row
        self.rows.move_to_end(openid)
        if len(self.rows) > self.size:
            self.rows.popitem(last=False)


_NONE = ()  # remembered: the person has no conversation row


def _json_shape(value: Any) -> Any:
    """Types as JSON gives them back (for the tests' check): a tuple or a non-string key would come back changed."""
    if isinstance(value, dict):
        return {k if type(k) is str else ("key", repr(k)): _json_shape(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return (type(value) is list, [_json_shape(v) for v in value])
    return value


def _parsed(row: tuple | None) -> tuple | None:
    return None if row is None else (row[0], row[1], json.loads(row[2]), row[3])


def cache_of(db) -> Cache | None:
    """The writer's cache, on the writer's connection only (storage.db.Database puts it there)."""
    return getattr(db, "conversation_cache", None)


def _settle(db: sqlite_utils.Database, openid: str | None = None) -> None:
    """Before a statement of this module reads or writes the person's row (any row: None), the pending writes."""
    cache = cache_of(db)
    if cache is not None and cache.pending and (openid is None or openid in cache.pending):
        flush(db)


def flush(db: sqlite_utils.Database) -> None:
    """Write the rows an optimistic batch's `put`s left pending (storage.db, before the batch is released)."""
    cache = cache_of(db)
    if cache is None:
        return
    if cache.conflict:
        from storage.db import Redo
        raise Redo("a conversation row written meanwhile by another way than this module")
    if cache.pending:
        rows, cache.pending = list(cache.pending.values()), {}
        cache.flushing = True
        try:
            db.conn.executemany(_PUT, rows)
        finally:
            cache.flushing = False


def _select(db: sqlite_utils.Database, openid: str) -> tuple | None:
    _settle(db, openid)
    return db.conn.execute("SELECT flow, state, data, expires_at FROM conversations WHERE openid = ?",
                           [openid]).fetchone()


def read(db: sqlite_utils.Database, openid: str) -> tuple | None:
    """The person's row (flow, state, data, expires_at), live or not, touching nothing: a message's handling
    reads it once and gives it to `live_flow` and `get`. `data` is parsed already, and the caller's own."""
    cache = cache_of(db)
    if cache is not None:
        return cache.take(db, openid)
    return _parsed(_select(db, openid))


_UNREAD = object()


def get(db: sqlite_utils.Database, openid: str, now: float, row: Any = _UNREAD) -> dict[str, Any] | None:
    """The live conversation, or None. An expired one is returned with expired=True once, then removed --
    except an unsubmitted intake message, which is kept (flow 'kept') so its words can be offered back.
    `row`: what `read` gave in this transaction, with nothing written to the person's conversation since."""
    if row is _UNREAD:
        row = read(db, openid)
    if row is None:
        return None
    conv = {"flow": row[0], "state": row[1], "data": row[2], "expired": row[3] <= now}
    if conv["expired"]:
        _settle(db, openid)
        if conv["flow"] == "intake":
            _keep(db, openid, row[3])
        else:
            db.execute("DELETE FROM conversations WHERE openid = ?", [openid])
    return conv


def _keep(db: sqlite_utils.Database, openid: str, expired_at: float) -> None:
    db.execute("UPDATE conversations SET flow = ?, expires_at = ? WHERE openid = ? AND flow = 'intake'",
               [KEPT, expired_at + KEEP_SECONDS, openid])


# The sweep's two questions about unfinished messages, each one WHERE (with its arguments: now, [share]).
_EXPIRED = "flow = 'intake' AND expires_at <= ?"
_TO_REMIND = "flow = 'intake' AND reminded_at IS NULL AND expires_at > ? AND updated_at + (expires_at - updated_at) * ? <= ?"


def _only(openids: list[str] | None) -> tuple[str, list[str]]:
    return ("", []) if openids is None else (f" AND openid IN ({','.join('?' * len(openids))})", list(openids))


def keep_expired(db: sqlite_utils.Database, now: float, openids: list[str] | None = None) -> int:
    """Turn every expired intake conversation (of `openids`, if given) into a kept message (the sweep does this
    for those who never came back, before prune would forget them)."""
    if openids is not None and not openids:
        return 0
    _settle(db)
    where, args = _only(openids)
    return db.execute(f"UPDATE conversations SET flow = ?, expires_at = expires_at + ? WHERE {_EXPIRED}{where}",
                      [KEPT, KEEP_SECONDS, now, *args]).rowcount


def drafts_due(db: sqlite_utils.Database, now: float, share: float = 2 / 3) -> tuple[list[str], list[str]]:
    """Read-only, for the sweep's selection on a reader (it scans the day's conversations, drafts and all: ~15 ms
    at a busy day's count on the writer): who is to be reminded (to_remind) and whose message has expired
    (keep_expired). The writer then does each for these people only, checking each again."""
    remind = [r[0] for r in db.execute(f"SELECT openid FROM conversations WHERE {_TO_REMIND}", [now, share, now])]
    return remind, [r[0] for r in db.execute(f"SELECT openid FROM conversations WHERE {_EXPIRED}", [now])]


def kept(db: sqlite_utils.Database, openid: str, now: float) -> dict[str, Any] | None:
    """The data of this person's kept message, if any and not too old."""
    row = read(db, openid)
    return row[2] if row is not None and row[0] == KEPT and row[3] > now else None


def to_remind(db: sqlite_utils.Database, now: float, share: float = 2 / 3,
              openids: list[str] | None = None) -> list[dict[str, Any]]:
    """Intake conversations (of `openids`, if given) idle for `share` of their time and not reminded yet in this
    idle spell."""
    if openids is not None and not openids:
        return []
    _settle(db)
    where, args = _only(openids)
    return [{"openid": r[0], "state": r[1], "data": json.loads(r[2]), "expires_at": r[3]} for r in db.execute(
        f"SELECT openid, state, data, expires_at FROM conversations WHERE {_TO_REMIND}{where}",
        [now, share, now, *args])]


def mark_reminded(db: sqlite_utils.Database, openid: str, now: float) -> None:
    _settle(db, openid)
    db.execute("UPDATE conversations SET reminded_at = ? WHERE openid = ?", [now, openid])


def put(db: sqlite_utils.Database, openid: str, flow: str, state: str, data: dict[str, Any], now: float,
        ttl: float) -> None:
    cache = cache_of(db)
    row = (openid, flow, state, dumps(data), now, now + ttl)  # the JSON now: the draft may be edited after
    if cache is not None and getattr(db, "optimistic", False):  # written at the batch's end
        cache.pending[openid] = row
        cache.remember(openid, flow, state, data, now + ttl)
        return
    # conn.execute, not db.execute: every message of a conversation writes here (issue 10: the writer's Python)
    db.conn.execute(_PUT, row)
    if cache is not None:  # after the write: a failed write leaves the row forgotten (by the trigger), not stale
        cache.remember(openid, flow, state, data, now + ttl)


_PUT = ("INSERT INTO conversations (openid, flow, state, data, updated_at, expires_at) "
        f"VALUES (?, ?, ?, {jsontext.STORED_TEXT}, ?, ?) "
        "ON CONFLICT(openid) DO UPDATE SET flow = excluded.flow, state = excluded.state, data = excluded.data, "
        "updated_at = excluded.updated_at, expires_at = excluded.expires_at, reminded_at = NULL")

_PLAIN = frozenset({str, int, float, bool, type(None), list, dict})


def _json_dumps(data: dict[str, Any]) -> str:
    """json's text (for what orjson would write as other values). A value carrying its own JSON is put in last."""
    plain = _PLAIN
    ready = None
    for k, v in data.items():  # one pass; most values are plain, and a failed getattr costs
        if type(v) not in plain:
            text = getattr(v, "json_text", None)
            if text is not None:
                if ready is None:
                    ready = {}
                ready[k] = text
    if ready is None:
        return _encode(data)
    rest = data.copy()
    for k in ready:
        del rest[k]
    rest = _encode(rest)
    tail = ", ".join(f"{_encode(k)}: {text}" for k, text in ready.items())
    return f"{rest[:-1]}, {tail}}}" if rest != "{}" else f"{{{tail}}}"


# The data as JSON text, read back by `json.loads` (every reader of the table) as the same values: orjson's text
# (issue 10: the draft is written on every message) where it writes those values, as its UTF-8 bytes (_PUT stores
# them as TEXT), else json's str as before. A value that carries its own JSON (`json_text`: a routing decision,
# written once per decision) goes in as it is.
dumps = jsontext.values_encoder(_json_dumps, utf8=True)


def delete(db: sqlite_utils.Database, openid: str) -> None:
    cache = cache_of(db)
    if cache is not None:
        cache.pending.pop(openid, None)  # a put and then this: what this leaves
    db.execute("DELETE FROM conversations WHERE openid = ?", [openid])


def prune(db: sqlite_utils.Database, before: float) -> int:
    """Forget conversations that expired before `before` (their person never came back to be told)."""
    _settle(db)
    return db.execute("DELETE FROM conversations WHERE expires_at < ?", [before]).rowcount


def flow(db: sqlite_utils.Database, openid: str, now: float) -> str | None:
    """The flow of the person's live conversation, without touching it (None when none or expired)."""
    cache = cache_of(db)
    row = cache.rows.get(openid) if cache is not None else None  # a look, not a take: the data stays remembered
    if row is not None:
        return live_flow(row or None, now)
    _settle(db, openid)
    row = db.execute("SELECT flow FROM conversations WHERE openid = ? AND expires_at > ?", [openid, now]).fetchone()
    return row[0] if row else None


def live_flow(row: tuple | None, now: float) -> str | None:
    """`flow` of a row `read` gave."""
    return row[0] if row is not None and row[3] > now else None
