"""Where each person is in a conversation, so a restart in the middle loses nothing."""
from __future__ import annotations

import json
from typing import Any

import sqlite_utils

_JSON = json.JSONEncoder(ensure_ascii=False)  # one encoder: json.dumps with options builds one per call


KEPT = "kept"            # the flow of an unsubmitted message kept after its conversation expired
KEEP_SECONDS = 7 * 86400  # how long such a message is kept to be offered back


def read(db: sqlite_utils.Database, openid: str) -> tuple | None:
    """The person's row as stored (flow, state, data as JSON, expires_at), live or not, touching nothing: a
    message's handling reads it once and gives it to `flow` and `get`."""
    return db.conn.execute("SELECT flow, state, data, expires_at FROM conversations WHERE openid = ?",
                           [openid]).fetchone()


_UNREAD = object()


def get(db: sqlite_utils.Database, openid: str, now: float, row: Any = _UNREAD) -> dict[str, Any] | None:
    """The live conversation, or None. An expired one is returned with expired=True once, then removed --
    except an unsubmitted intake message, which is kept (flow 'kept') so its words can be offered back.
    `row`: what `read` gave in this transaction, with nothing written to the person's conversation since."""
    if row is _UNREAD:
        row = read(db, openid)
    if row is None:
        return None
    conv = {"flow": row[0], "state": row[1], "data": json.loads(row[2]), "expired": row[3] <= now}
    if conv["expired"]:
        if conv["flow"] == "intake":
            _keep(db, openid, row[3])
        else:
            db.execute("DELETE FROM conversations WHERE openid = ?", [openid])
    return conv


def _keep(db: sqlite_utils.Database, openid: str, expired_at: float) -> None:
    db.execute("UPDATE conversations SET flow = ?, expires_at = ? WHERE openid = ? AND flow = 'intake'",
               [KEPT, expired_at + KEEP_SECONDS, openid])


def keep_expired(db: sqlite_utils.Database, now: float) -> int:
    """Turn every expired intake conversation into a kept message (the sweep does this for those who never
    came back, before prune would forget them)."""
    return db.execute("UPDATE conversations SET flow = ?, expires_at = expires_at + ? "
                      "WHERE flow = 'intake' AND expires_at <= ?", [KEPT, KEEP_SECONDS, now]).rowcount


def kept(db: sqlite_utils.Database, openid: str, now: float) -> dict[str, Any] | None:
    """The data of this person's kept message, if any and not too old."""
    row = db.execute("SELECT data FROM conversations WHERE openid = ? AND flow = ? AND expires_at > ?",
                     [openid, KEPT, now]).fetchone()
    return json.loads(row[0]) if row else None


def to_remind(db: sqlite_utils.Database, now: float, share: float = 2 / 3) -> list[dict[str, Any]]:
    """Intake conversations idle for `share` of their time and not reminded yet in this idle spell."""
    return [{"openid": r[0], "state": r[1], "data": json.loads(r[2]), "expires_at": r[3]} for r in db.execute(
        "SELECT openid, state, data, expires_at FROM conversations WHERE flow = 'intake' AND reminded_at IS NULL "
        "AND expires_at > ? AND updated_at + (expires_at - updated_at) * ? <= ?", [now, share, now])]


def mark_reminded(db: sqlite_utils.Database, openid: str, now: float) -> None:
    db.execute("UPDATE conversations SET reminded_at = ? WHERE openid = ?", [now, openid])


def put(db: sqlite_utils.Database, openid: str, flow: str, state: str, data: dict[str, Any], now: float,
        ttl: float) -> None:
    db.execute(
        "INSERT INTO conversations (openid, flow, state, data, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(openid) DO UPDATE SET flow = excluded.flow, state = excluded.state, data = excluded.data, "
        "updated_at = excluded.updated_at, expires_at = excluded.expires_at, reminded_at = NULL",
        [openid, flow, state, dumps(data), now, now + ttl],
    )


def dumps(data: dict[str, Any]) -> str:
    """The data as JSON. A value that carries its own JSON (`json_text`: a draft's routing decision, written once
    per decision) is put in as it is, last, instead of being written again on every step."""
    ready = {k: v.json_text for k, v in data.items() if getattr(v, "json_text", None) is not None}
    if not ready:
        return _JSON.encode(data)
    rest = _JSON.encode({k: v for k, v in data.items() if k not in ready})
    tail = ", ".join(f"{_JSON.encode(k)}: {text}" for k, text in ready.items())
    return f"{rest[:-1]}, {tail}}}" if rest != "{}" else f"{{{tail}}}"


def delete(db: sqlite_utils.Database, openid: str) -> None:
    db.execute("DELETE FROM conversations WHERE openid = ?", [openid])


def prune(db: sqlite_utils.Database, before: float) -> int:
    """Forget conversations that expired before `before` (their person never came back to be told)."""
    return db.execute("DELETE FROM conversations WHERE expires_at < ?", [before]).rowcount


def flow(db: sqlite_utils.Database, openid: str, now: float) -> str | None:
    """The flow of the person's live conversation, without touching it (None when none or expired)."""
    row = db.execute("SELECT flow FROM conversations WHERE openid = ? AND expires_at > ?", [openid, now]).fetchone()
    return row[0] if row else None


def live_flow(row: tuple | None, now: float) -> str | None:
    """`flow` of a row `read` gave."""
    return row[0] if row is not None and row[3] > now else None
