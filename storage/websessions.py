"""Workbench sign-in: one-time links and server-side sessions, and the append-only audit log.

Only hashes of tokens and session ids are stored. A session is valid while it is not ended, was used within the
idle limit, is younger than the absolute limit, and its person is still staff (checked on every request by the
caller, so removing someone signs them out everywhere at once; `end_all` also ends the rows).
"""
from __future__ import annotations

import hashlib
import secrets
from typing import Any

import sqlite_utils

SIGNIN_SECONDS = 5 * 60
IDLE_SECONDS = 2 * 3600
ABSOLUTE_SECONDS = 12 * 3600
TOUCH_SECONDS = 60  # last_seen_at is written at most once a minute per session


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_signin(db: sqlite_utils.Database, openid: str, now: float, ttl: float = SIGNIN_SECONDS) -> str:
    token = secrets.token_urlsafe(24)
    db.execute("INSERT INTO web_signin (token_hash, openid, created_at, expires_at) VALUES (?, ?, ?, ?)",
               [_hash(token), openid, now, now + ttl])
    db.execute("DELETE FROM web_signin WHERE expires_at < ?", [now - 86400])  # keep the table small
    return token


def redeem_signin(db: sqlite_utils.Database, token: str, now: float) -> tuple[str | None, str]:
    """(openid, '') once; (None, reason) for 'unknown', 'used' or 'expired'. Marks the link used."""
    row = db.execute("SELECT openid, expires_at, used_at FROM web_signin WHERE token_hash = ?",
                     [_hash(token)]).fetchone()
    if row is None:
        return None, "unknown"
    if row[2] is not None:
        return None, "used"
    if row[1] <= now:
        return None, "expired"
    db.execute("UPDATE web_signin SET used_at = ? WHERE token_hash = ?", [now, _hash(token)])
    return row[0], ""


def start(db: sqlite_utils.Database, openid: str, now: float) -> tuple[str, str]:
    """A new session (a fresh id every sign-in: an id planted before sign-in is never promoted). Returns
    (session id for the cookie, CSRF token)."""
    sid, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
    db.execute("INSERT INTO web_sessions (id_hash, openid, csrf, created_at, last_seen_at) VALUES (?, ?, ?, ?, ?)",
               [_hash(sid), openid, csrf, now, now])
    return sid, csrf


def get(db: sqlite_utils.Database, sid: str, now: float) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM web_sessions WHERE id_hash = ? AND ended_at IS NULL", [_hash(sid)]))
    if not rows:
        return None
    s = rows[0]
    if now - s["last_seen_at"] > IDLE_SECONDS or now - s["created_at"] > ABSOLUTE_SECONDS:
        return None
    return s


def touch(db: sqlite_utils.Database, sid: str, now: float) -> None:
    db.execute("UPDATE web_sessions SET last_seen_at = ? WHERE id_hash = ? AND ended_at IS NULL", [now, _hash(sid)])


def end(db: sqlite_utils.Database, sid: str, now: float) -> None:
    db.execute("UPDATE web_sessions SET ended_at = ? WHERE id_hash = ? AND ended_at IS NULL", [now, _hash(sid)])


def end_all(db: sqlite_utils.Database, openid: str, now: float) -> int:
    return db.execute("UPDATE web_sessions SET ended_at = ? WHERE openid = ? AND ended_at IS NULL",
                      [now, openid]).rowcount


# -- audit ---------------------------------------------------------------------------------------------------------
def audit(db: sqlite_utils.Database, now: float, actor: str, action: str, ticket: str | None = None,
          detail: str | None = None, ip: str | None = None) -> None:
    db.execute("INSERT INTO audit_log (at, actor, action, ticket, detail, ip) VALUES (?, ?, ?, ?, ?, ?)",
               [now, actor, action, ticket, detail, ip])


def audit_rows(db: sqlite_utils.Database, ticket: str | None = None, actor: str | None = None,
               before_id: int | None = None, limit: int = 100) -> list[dict[str, Any]]:
    sql, args = ("SELECT a.*, u.name AS actor_name FROM audit_log a LEFT JOIN users u ON u.openid = a.actor "
                 "WHERE 1=1"), []
    if ticket:
        sql, args = sql + " AND a.ticket = ?", args + [ticket]
    if actor:
        sql, args = sql + " AND a.actor = ?", args + [actor]
    if before_id:
        sql, args = sql + " AND a.id < ?", args + [before_id]
    return list(db.query(sql + " ORDER BY a.id DESC LIMIT ?", args + [limit]))


def set_flash(db: sqlite_utils.Database, sid: str, text: str | None) -> None:
    db.execute("UPDATE web_sessions SET flash = ? WHERE id_hash = ?", [text, _hash(sid)])
