"""Where each person is in a conversation, so a restart in the middle loses nothing."""
from __future__ import annotations

import json
from typing import Any

import sqlite_utils


def get(db: sqlite_utils.Database, openid: str, now: float) -> dict[str, Any] | None:
    """The live conversation, or None. An expired one is returned with expired=True once, then removed."""
    row = db.execute("SELECT flow, state, data, expires_at FROM conversations WHERE openid = ?",
                     [openid]).fetchone()
    if row is None:
        return None
    conv = {"flow": row[0], "state": row[1], "data": json.loads(row[2]), "expired": row[3] <= now}
    if conv["expired"]:
        db.execute("DELETE FROM conversations WHERE openid = ?", [openid])
    return conv


def put(db: sqlite_utils.Database, openid: str, flow: str, state: str, data: dict[str, Any], now: float,
        ttl: float) -> None:
    db.execute(
        "INSERT INTO conversations (openid, flow, state, data, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(openid) DO UPDATE SET flow = excluded.flow, state = excluded.state, data = excluded.data, "
        "updated_at = excluded.updated_at, expires_at = excluded.expires_at",
        [openid, flow, state, json.dumps(data, ensure_ascii=False), now, now + ttl],
    )


def delete(db: sqlite_utils.Database, openid: str) -> None:
    db.execute("DELETE FROM conversations WHERE openid = ?", [openid])


def prune(db: sqlite_utils.Database, before: float) -> int:
    """Forget conversations that expired before `before` (their person never came back to be told)."""
    return db.execute("DELETE FROM conversations WHERE expires_at < ?", [before]).rowcount


def flow(db: sqlite_utils.Database, openid: str, now: float) -> str | None:
    """The flow of the person's live conversation, without touching it (None when none or expired)."""
    row = db.execute("SELECT flow FROM conversations WHERE openid = ? AND expires_at > ?", [openid, now]).fetchone()
    return row[0] if row else None
