"""Rendered digest pages, stored by the weekly job beside the digests it sends, so that opening one is a single
indexed read (bot/web.digest_page) rather than a build in the serving process."""
from __future__ import annotations

import zlib

import sqlite_utils


def pack(html: str) -> bytes:
    """A page as stored. Done where the page is built (the job's child process), not on the writer."""
    return zlib.compress(html.encode("utf-8"), 6)


def save(db: sqlite_utils.Database, week: str, scope: str, packed: bytes, now: float) -> None:
    db.execute("INSERT INTO digest_pages (week, scope, html, built_at) VALUES (?, ?, ?, ?) "
               "ON CONFLICT(week, scope) DO UPDATE SET html = excluded.html, built_at = excluded.built_at",
               [week, scope, packed, now])


def get(db: sqlite_utils.Database, week: str, scope: str) -> bytes | None:
    """The page as UTF-8 bytes, ready to send; None when the job has not stored it."""
    row = db.execute("SELECT html FROM digest_pages WHERE week = ? AND scope = ?", [week, scope]).fetchone()
    return zlib.decompress(row[0]) if row else None


def prune(db: sqlite_utils.Database, before: float, limit: int = 500) -> int:
    """Forget up to `limit` pages built before `before` (call again until it returns < limit)."""
    return db.execute("DELETE FROM digest_pages WHERE rowid IN (SELECT rowid FROM digest_pages "
                      "WHERE built_at < ? ORDER BY built_at LIMIT ?)", [before, limit]).rowcount
