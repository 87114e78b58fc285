"""The one access_token per AppID, shared by every process: fetching a new one invalidates the old one at
Tencent after about five minutes, so processes must not each fetch their own."""
from __future__ import annotations

import sqlite_utils


def get(db: sqlite_utils.Database, appid: str, now: float, margin: float = 300) -> str | None:
    held = entry(db, appid, now, margin)
    return held[0] if held else None


def entry(db: sqlite_utils.Database, appid: str, now: float, margin: float = 300) -> tuple[str, float] | None:
    """(token, expires_at) while it has more than `margin` seconds to live."""
    row = db.execute("SELECT token, expires_at FROM access_tokens WHERE appid = ?", [appid]).fetchone()
    if row and row[1] - margin > now:
        return row[0], row[1]
    return None


def put(db: sqlite_utils.Database, appid: str, token: str, expires_in: float, now: float) -> None:
    db.execute(
        "INSERT INTO access_tokens (appid, token, expires_at, fetched_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(appid) DO UPDATE SET token = excluded.token, expires_at = excluded.expires_at, "
        "fetched_at = excluded.fetched_at",
        [appid, token, now + expires_in, now],
    )


def forget(db: sqlite_utils.Database, appid: str, token: str) -> None:
    """Drop a token the platform rejected, unless another process already replaced it."""
    db.execute("DELETE FROM access_tokens WHERE appid = ? AND token = ?", [appid, token])
