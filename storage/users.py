"""People who talk to the Official Account: citizens and staff, with the QR scene they came through."""
from __future__ import annotations

import hashlib
from typing import Any

import sqlite_utils

def touch(db: sqlite_utils.Database, openid: str, now: float) -> None:
    db.execute(
        "INSERT INTO users (openid, first_seen_at, last_seen_at) VALUES (?, ?, ?) "
        "ON CONFLICT(openid) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at)",
        [openid, now, now],
    )


def log_name(openid: str) -> str:
    """Enough of an openid to tell people apart in a log, not enough to address the person (logs travel further
    than the database: an openid there is a way to message someone)."""
    return hashlib.sha256(openid.encode()).hexdigest()[:8]


def get(db: sqlite_utils.Database, openid: str) -> dict[str, Any] | None:
    # conn.execute, not db.query: this runs for every message, and query() wraps each read in a savepoint.
    cur = db.conn.execute("SELECT * FROM users WHERE openid = ?", [openid])
    row = cur.fetchone()
    return dict(zip([d[0] for d in cur.description], row)) if row else None


def set_scene(db: sqlite_utils.Database, openid: str, scene: str | None, now: float) -> None:
    touch(db, openid, now)
    db.execute("UPDATE users SET scene = ?, subscribed = 1 WHERE openid = ?", [scene, openid])


def set_subscribed(db: sqlite_utils.Database, openid: str, subscribed: bool, now: float) -> None:
    touch(db, openid, now)
    db.execute("UPDATE users SET subscribed = ? WHERE openid = ?", [int(subscribed), openid])


def welcome_once(db: sqlite_utils.Database, openid: str, now: float) -> bool:
    """True the first time: the person is to be welcomed now (and is recorded as welcomed). One statement for
    someone welcomed before (every new message of theirs asks): touch's upsert says whether they were."""
    welcomed = db.conn.execute(
        "INSERT INTO users (openid, first_seen_at, last_seen_at) VALUES (?, ?, ?) "
        "ON CONFLICT(openid) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at) "
        "RETURNING welcomed_at", [openid, now, now]).fetchone()[0]
    if welcomed is not None:
        return False
    return db.execute("UPDATE users SET welcomed_at = ? WHERE openid = ? AND welcomed_at IS NULL",
                      [now, openid]).rowcount == 1


def set_lang(db: sqlite_utils.Database, openid: str, lang: str, now: float) -> None:
    """The language the person writes in now (handlers.intake.written_lang); with touch's update, in one statement."""
    db.execute(
        "INSERT INTO users (openid, first_seen_at, last_seen_at, lang) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(openid) DO UPDATE SET last_seen_at = max(last_seen_at, excluded.last_seen_at), lang = excluded.lang",
        [openid, now, now, lang],
    )


def lang(db: sqlite_utils.Database, openid: str) -> str | None:
    row = db.conn.execute("SELECT lang FROM users WHERE openid = ?", [openid]).fetchone()
    return row[0] if row else None
