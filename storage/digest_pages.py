"""Digest pages, stored by the weekly job beside the digests it sends: each (week, scope)'s digest as data
(handlers.digest.to_data, as it was sent), so that opening one is a single indexed read and a render with the
current template (bot/web.digest_page): a fix to the page reaches the weeks already sent. Rows stored before
m054 hold the page rendered then (`format` 'html') and are served as they are."""
from __future__ import annotations

import json
import zlib
from typing import Any

import sqlite_utils


def pack(data: dict[str, Any]) -> bytes:
    """A digest's data as stored. Done where the digest is built (the job's child process), not on the writer."""
    return zlib.compress(json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 6)


def save(db: sqlite_utils.Database, week: str, scope: str, packed: bytes, now: float) -> None:
    db.execute("INSERT INTO digest_pages (week, scope, body, format, built_at) VALUES (?, ?, ?, 'data', ?) "
               "ON CONFLICT(week, scope) DO UPDATE SET body = excluded.body, format = excluded.format, "
               "built_at = excluded.built_at", [week, scope, packed, now])


def get(db: sqlite_utils.Database, week: str, scope: str) -> dict[str, Any] | bytes | None:
    """The digest's data (a dict) to render; for a row stored before m054 the page then rendered (UTF-8 bytes);
    None when the job has not stored it."""
    row = db.execute("SELECT body, format FROM digest_pages WHERE week = ? AND scope = ?", [week, scope]).fetchone()
    if row is None:
        return None
    body = zlib.decompress(row[0])
    return json.loads(body) if row[1] == "data" else body


def prune(db: sqlite_utils.Database, before: float, limit: int = 500) -> int:
    """Forget up to `limit` pages built before `before` (call again until it returns < limit)."""
    return db.execute("DELETE FROM digest_pages WHERE rowid IN (SELECT rowid FROM digest_pages "
                      "WHERE built_at < ? ORDER BY built_at LIMIT ?)", [before, limit]).rowcount
