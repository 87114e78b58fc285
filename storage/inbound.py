"""Inbound messages, once each. A WeChat retry finds the first try's row: its stored reply is answered again."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import sqlite_utils

from storage import jsontext, outbox, users
from storage.db import Redo, optimistic

_encode = jsontext.encoder()  # json.JSONEncoder(ensure_ascii=False).encode's text, cheaper

_REQUEST = "INSERT INTO webhook_requests (key, message) VALUES (?, ?) ON CONFLICT(key) DO NOTHING"
_DONE = ("INSERT INTO inbound (key, openid, msg_type, payload, received_at, status, reply, handled_at, deferred) "
         "VALUES (?, ?, ?, ?, ?, 'done', ?, ?, ?) ON CONFLICT(key) DO NOTHING")


@dataclass(frozen=True)
class Claim:
    new: bool
    status: str               # 'received' or 'done'
    deferred: bool
    reply: dict[str, Any] | None
    # A new inbound not written yet (an optimistic batch: storage.db): complete() inserts it, done, in one go.
    row: tuple | None = None


class Replay(Exception):
    """A signed request seen before, now carrying another message: someone re-sent a captured URL."""


def request_key(timestamp: str | int, nonce: str) -> str:
    """A signed request's name: its timestamp (zero-padded, so keys sort by time) and nonce."""
    return f"{int(timestamp):012d}:{nonce}"


def remember_request(db: sqlite_utils.Database, request: str, message_key: str, now: float | None = None) -> None:
    """Note a signed request (request_key) and the message it carried. The same request with the same message is
    a retry, answered as usual; with a different message it is a replay: raises Replay.

    In an optimistic batch (storage.db) the row is written with the batch's others at its end (`flush`); a
    request seen before then sends the batch round again, the careful way, where this asks at once."""
    pending = getattr(db, "write_behind", None)
    if pending is not None and optimistic(db):
        pending.requests.append((request, message_key))
        return
    cur = db.conn.execute(_REQUEST, [request, message_key])
    if cur.rowcount == 0:
        row = db.execute("SELECT message FROM webhook_requests WHERE key = ?", [request]).fetchone()
        if row[0] != message_key:
            raise Replay(request)


def prune_requests(db: sqlite_utils.Database, before: float) -> int:
    """Forget requests whose timestamp is older than `before` (the freshness check refuses them anyway)."""
    return db.execute("DELETE FROM webhook_requests WHERE key < ?", [request_key(int(before), "")]).rowcount


def claim(db: sqlite_utils.Database, key: str, openid: str, msg_type: str, payload: str, now: float) -> Claim:
    """Store the inbound if unseen, and note the person's interaction (it opens WeChat's 48-hour window, so
    messages waiting for that window are released).

    In an optimistic batch (storage.db) the row is written once, by complete(), already done: the claim and the
    completion commit together anyway, so a 'received' row never reached the file on this path. Whether the key
    was seen before is then complete()'s insert's question; if it was, that raises Redo, and in the batch's careful
    run this claim writes first and answers as below (a retry of a stored message is never handled again)."""
    if optimistic(db):
        users.touch(db, openid, now)
        outbox.release_waiting(db, openid, now)
        return Claim(True, "received", False, None, (key, openid, msg_type, payload, now))
    cur = db.execute(
        "INSERT INTO inbound (key, openid, msg_type, payload, received_at) VALUES (?, ?, ?, ?, ?) "
        "ON CONFLICT(key) DO NOTHING",
        [key, openid, msg_type, payload, now],
    )
    if cur.rowcount == 1:
        users.touch(db, openid, now)
        outbox.release_waiting(db, openid, now)
        return Claim(True, "received", False, None)
    return read(db, key)


def complete(db: sqlite_utils.Database, key: str, openid: str, replies: list[dict[str, Any]], now: float,
             passive_ok: bool = True, claimed: Claim | None = None) -> dict[str, Any] | None:
    """Record the handling of an inbound, atomically with the pushes it causes.

    The first reply to the sender goes back passively if the webhook call still waits for it (passive_ok);
    every other reply goes to the outbox. Returns the passive reply, if any. Idempotent: a second call changes nothing.
    `claimed`: the claim() of this transaction; if it left the row to write (its `row`), it is inserted here.
    """
    passive = None
    pushes = []
    for reply in replies:
        if passive is None and passive_ok and reply.get("to") in (None, openid):
            passive = reply
        else:
            pushes.append(reply)
    reply = _encode(passive) if passive else None
    if claimed is not None and claimed.row is not None:
        row = (*claimed.row, reply, now, int(not passive_ok))
        pending = getattr(db, "write_behind", None)
        if pending is not None:  # (claimed.row: an optimistic batch) written at its end
            pending.inbound.append(row)
        elif not db.conn.execute(_DONE, row).rowcount:
            # stored before this transaction (a retry; another process): its first handling stands
            raise Redo(f"inbound {key} stored meanwhile")
        outbox.enqueue_replies(db, pushes, openid, now, source=f"inbound:{key}")
        return passive
    # One statement on the usual path; only an inbound already done (or unknown) is read.
    if not db.execute(
        "UPDATE inbound SET status = 'done', reply = ?, handled_at = ?, deferred = ? WHERE key = ? AND status != 'done'",
        [reply, now, int(not passive_ok), key],
    ).rowcount:
        row = db.execute("SELECT reply FROM inbound WHERE key = ?", [key]).fetchone()
        if row is None:
            raise KeyError(key)
        return json.loads(row[0]) if row[0] else None
    outbox.enqueue_replies(db, pushes, openid, now, source=f"inbound:{key}")
    return passive


class Pending:
    """The inbound rows and request records an optimistic batch writes at its end (storage.db), in the order
    they came: the rows get the rowids they would have had one by one. Emptied by any rollback."""

    __slots__ = ("inbound", "requests")

    def __init__(self):
        self.inbound: list[tuple] = []
        self.requests: list[tuple] = []

    def clear(self) -> None:
        self.inbound.clear()
        self.requests.clear()


def flush(db: sqlite_utils.Database) -> None:
    """Write what an optimistic batch left pending, before it is released. A row whose key was there before (a
    WeChat retry of a stored message, a spooled one committed after all, a request seen before) raises Redo:
    the careful run then asks for each at once and answers as it always did (the stored reply; Replay)."""
    pending = getattr(db, "write_behind", None)
    if pending is None:
        return
    for rows, sql, what in ((pending.requests, _REQUEST, "request"), (pending.inbound, _DONE, "inbound")):
        if rows:
            wanted = len(rows)
            written = db.conn.executemany(sql, rows).rowcount
            rows.clear()
            if written != wanted:
                raise Redo(f"{wanted - written} {what} key(s) stored before")


def keep(db: sqlite_utils.Database, claimed: Claim | None) -> None:
    """The inbound stays stored, not handled yet (its handling waits for a read: handlers.messages.ReadFirst). A
    claim in an optimistic batch left its row to write (claim()): written now, as received, so that a process
    killed before the handling leaves it to recovery like any unfinished message."""
    if claimed is None or claimed.row is None:
        return
    if not db.execute("INSERT INTO inbound (key, openid, msg_type, payload, received_at) VALUES (?, ?, ?, ?, ?) "
                      "ON CONFLICT(key) DO NOTHING", list(claimed.row)).rowcount:
        raise Redo(f"inbound {claimed.row[0]} stored meanwhile")


def push_undelivered(db: sqlite_utils.Database, key: str, openid: str, now: float) -> int:
    """The webhook answered 'success' for this message (it was spooled) although its handling kept the first reply
    for the passive answer (the answer never reached the webhook: the writer process died or stalled after the
    commit). Push that reply through the outbox, once: the row is marked deferred. Returns 1 if pushed."""
    row = db.execute("UPDATE inbound SET deferred = 1 WHERE key = ? AND status = 'done' AND deferred = 0 "
                     "AND reply IS NOT NULL RETURNING reply", [key]).fetchone()
    if row is None:
        return 0
    outbox.enqueue_replies(db, [json.loads(row[0])], openid, now, source=f"undelivered:{key}")
    return 1


def read(db: sqlite_utils.Database, key: str) -> Claim:
    row = db.execute("SELECT status, deferred, reply FROM inbound WHERE key = ?", [key]).fetchone()
    return Claim(False, row[0], bool(row[1]), json.loads(row[2]) if row[2] else None)


def lease_unfinished(db: sqlite_utils.Database, received_before: float, now: float, limit: int = 50,
                     lease_seconds: float = 60) -> list[tuple[str, str]]:
    """Inbounds accepted but never handled (their process died), as (key, payload), leased to the caller:
    another worker skips them for `lease_seconds`. Their replies can only be pushed now."""
    rows = db.execute(
        "UPDATE inbound SET deferred = 1, handled_at = ? WHERE key IN ("
        "  SELECT key FROM inbound WHERE status = 'received' AND received_at < ?"
        "  AND (handled_at IS NULL OR handled_at < ?) ORDER BY received_at LIMIT ?"
        ") RETURNING key, payload, received_at",
        [now, received_before, now - lease_seconds, limit],
    ).fetchall()
    return [(r[0], r[1]) for r in sorted(rows, key=lambda r: r[2])]


def prune(db: sqlite_utils.Database, before: float, limit: int = 500) -> int:
    """Forget up to `limit` handled messages received before `before` (call again until it returns < limit).
    Failures resolved by a retry are kept as long as the message ids; flagged ones until staff dealt with them."""
    db.execute("DELETE FROM inbound_failures WHERE state = 'resolved' AND resolved_at < ?", [before])
    return db.execute("DELETE FROM inbound WHERE key IN (SELECT key FROM inbound WHERE received_at < ? "
                      "AND status = 'done' ORDER BY received_at LIMIT ?)", [before, limit]).rowcount


# After the first failure, the handling is tried again after these delays; then the message is flagged for staff.
RETRY_DELAYS = (60, 300, 1800)


def record_failure(db: sqlite_utils.Database, key: str, openid: str, payload: str, error: str, now: float) -> None:
    """The handling of an inbound raised: keep it for retries (the first failure, or another one)."""
    db.execute(
        "INSERT INTO inbound_failures (key, openid, payload, error, failed_at, next_attempt_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(key) DO NOTHING",
        [key, openid, payload, error[:2000], now, now + RETRY_DELAYS[0]],
    )


def due_failures(db: sqlite_utils.Database, now: float, limit: int = 20) -> list[tuple[str, str]]:
    """Failed inbounds due for another try, as (key, payload); leased for a minute so workers do not collide."""
    rows = db.execute(
        "UPDATE inbound_failures SET next_attempt_at = ? WHERE key IN ("
        "  SELECT key FROM inbound_failures WHERE state = 'retrying' AND next_attempt_at <= ?"
        "  ORDER BY next_attempt_at LIMIT ?) RETURNING key, payload",
        [now + 60, now, limit],
    ).fetchall()
    return [(r[0], r[1]) for r in rows]


def failed_again(db: sqlite_utils.Database, key: str, error: str, now: float) -> bool:
    """Count another failed try. Returns True when the retries are used up and the message is now flagged."""
    attempts = db.execute("SELECT attempts FROM inbound_failures WHERE key = ?", [key]).fetchone()[0] + 1
    flagged = attempts > len(RETRY_DELAYS)
    db.execute(
        "UPDATE inbound_failures SET attempts = ?, error = ?, state = ?, next_attempt_at = ? WHERE key = ?",
        [attempts, error[:2000], "flagged" if flagged else "retrying",
         None if flagged else now + RETRY_DELAYS[attempts - 1], key],
    )
    return flagged


def resolve_failure(db: sqlite_utils.Database, key: str, now: float) -> None:
    db.execute("UPDATE inbound_failures SET state = 'resolved', resolved_at = ?, next_attempt_at = NULL "
               "WHERE key = ?", [now, key])


def list_failures(db: sqlite_utils.Database, states: tuple[str, ...] = ("retrying", "flagged"),
                  limit: int = 100) -> list[dict[str, Any]]:
    marks = ",".join("?" * len(states))
    return list(db.query(
        f"SELECT key, openid, payload, error, attempts, failed_at, next_attempt_at, state, resolved_at "
        f"FROM inbound_failures WHERE state IN ({marks}) ORDER BY failed_at DESC LIMIT ?", [*states, limit]))


def retry_failure(db: sqlite_utils.Database, key: str, now: float) -> bool:
    """Staff asked for another try of a flagged (or retrying) message: due now, with one more attempt left."""
    return db.execute(
        "UPDATE inbound_failures SET state = 'retrying', next_attempt_at = ?, attempts = min(attempts, ?) "
        "WHERE key = ? AND state != 'resolved'", [now, len(RETRY_DELAYS), key]).rowcount == 1


def flagged_since(db: sqlite_utils.Database, since: float) -> int:
    """Messages flagged for staff that first failed since `since` (indexed; counted up to 1000), for /healthz."""
    return db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM inbound_failures INDEXED BY inbound_failures_flagged "
        "WHERE state = 'flagged' AND failed_at >= ? LIMIT 1000)", [since]).fetchone()[0]
