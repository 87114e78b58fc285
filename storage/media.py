"""Media a person sent (images, voice), copied from WeChat to local storage before WeChat forgets them (3 days).

A row is written in the same transaction as the message that brought the media_id, so nothing accepted is
missed; the fetcher (bot/media.py) claims due rows, downloads through media/get and records the outcome here.
The file itself lives outside SQLite, named by its SHA-256 (bot/media.py); tickets keep their attachments'
media_id, and this table says where each one's copy is. A ticket's media are kept as long as the ticket (never
deleted); media that never became part of a ticket (an abandoned draft) are deleted after the retention period
(prune_unattached; bot/media.prune deletes their files).

status: pending (to fetch, at next_try) -> stored | expired (WeChat no longer has it: 3 days passed or 40007)
        | refused (too large, or not the type it claims: never stored).
"""
from __future__ import annotations

from typing import Any

import sqlite_utils

KINDS = ("image", "voice", "video")  # what media/get gives (a video as a video_url to download; shortvideo is video)
KEPT_SECONDS = 3 * 86400        # WeChat keeps a user's temporary media this long
CLAIM_SECONDS = 120             # a claim whose fetcher died becomes due again after this


def want(db: sqlite_utils.Database, media_id: str, openid: str, kind: str, now: float) -> bool:
    """Ask for a copy of a media_id just received (a retry of the same message asks nothing more)."""
    if kind not in KINDS or not media_id:
        return False
    cur = db.execute("INSERT OR IGNORE INTO media (media_id, openid, kind, received_at, next_try) "
                     "VALUES (?, ?, ?, ?, ?)", [media_id, openid, kind, now, now])
    return cur.rowcount > 0


def claim_due(db: sqlite_utils.Database, now: float, limit: int = 5) -> list[dict[str, Any]]:
    rows = db.execute(
        "UPDATE media SET claimed_until = ? WHERE media_id IN ("
        "  SELECT media_id FROM media WHERE status = 'pending' AND next_try <= ? "
        "  AND (claimed_until IS NULL OR claimed_until < ?) ORDER BY next_try LIMIT ?"
        ") RETURNING media_id, openid, kind, received_at, attempts",
        [now + CLAIM_SECONDS, now, now, limit]).fetchall()
    return [{"media_id": r[0], "openid": r[1], "kind": r[2], "received_at": r[3], "attempts": r[4]} for r in rows]


def mark_stored(db: sqlite_utils.Database, media_id: str, sha256: str, content_type: str, size: int,
                now: float) -> None:
    db.execute("UPDATE media SET status = 'stored', sha256 = ?, content_type = ?, size = ?, stored_at = ?, "
               "attempts = attempts + 1, error = NULL, claimed_until = NULL WHERE media_id = ?",
               [sha256, content_type, size, now, media_id])


def mark_retry(db: sqlite_utils.Database, media_id: str, error: str, next_try: float) -> None:
    db.execute("UPDATE media SET attempts = attempts + 1, error = ?, next_try = ?, claimed_until = NULL "
               "WHERE media_id = ?", [error, next_try, media_id])


def mark_ended(db: sqlite_utils.Database, media_id: str, status: str, error: str) -> None:
    """expired or refused, with the reason: not tried again."""
    assert status in ("expired", "refused")
    db.execute("UPDATE media SET status = ?, attempts = attempts + 1, error = ?, claimed_until = NULL "
               "WHERE media_id = ?", [status, error, media_id])


def get(db: sqlite_utils.Database, media_id: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM media WHERE media_id = ?", [media_id]))
    return rows[0] if rows else None


def of(db: sqlite_utils.Database, media_ids: list[str]) -> dict[str, dict[str, Any]]:
    """The rows for a ticket's attachments, by media_id."""
    ids = [m for m in media_ids if m]
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    return {r["media_id"]: r for r in db.query(f"SELECT * FROM media WHERE media_id IN ({marks})", ids)}


def state(a: dict, row: dict | None, now: float) -> str:
    """What a viewer can have of an attachment: stored (our copy), fetching (WeChat still has it; shown live
    meanwhile), expired (WeChat's 3 days passed without a copy), refused (too large or not what it claimed), or ""
    for what has no file (location, link)."""
    if a.get("kind") not in KINDS or not a.get("media_id"):
        return ""
    if row is None:  # sent before copies were kept: WeChat may still have it for its 3 days
        return "fetching"
    if row["status"] == "stored":
        return "stored"
    if row["status"] == "pending":
        return "fetching" if now < row["received_at"] + KEPT_SECONDS else "expired"
    return row["status"]


def counts(db: sqlite_utils.Database) -> dict[str, int]:
    return {r["status"]: r["n"] for r in db.query("SELECT status, count(*) AS n FROM media GROUP BY status")}


def prune_unattached(db: sqlite_utils.Database, before: float, limit: int = 200) -> tuple[int, list[str]]:
    """Up to `limit` media received before `before`, oldest first, that no ticket has: their rows deleted. A row
    a ticket has is marked kept (never looked at again); one in a draft still open or kept to be offered back
    (conversations) is left for a later pass. Returns (rows dealt with -- deleted or marked --, the SHA-256 of the
    files no row names any more, to delete)."""
    rows = db.execute("SELECT media_id, openid, sha256 FROM media WHERE kept = 0 AND received_at < ? "
                      "ORDER BY received_at LIMIT ?", [before, limit]).fetchall()
    gone, kept, shas = [], [], set()
    for media_id, openid, sha in rows:
        quoted = f'"{media_id}"'  # as it appears in the JSON of attachments and drafts
        if db.execute("SELECT 1 FROM tickets WHERE openid = ? AND instr(attachments, ?) > 0 LIMIT 1",
                      [openid, quoted]).fetchone():
            kept.append(media_id)
        elif not db.execute("SELECT 1 FROM conversations WHERE openid = ? AND instr(data, ?) > 0",
                            [openid, quoted]).fetchone():
            gone.append(media_id)
            if sha:
                shas.add(sha)
    for ids, sql in ((kept, "UPDATE media SET kept = 1 WHERE media_id IN ({})"),
                     (gone, "DELETE FROM media WHERE media_id IN ({})")):
        if ids:
            db.execute(sql.format(",".join("?" * len(ids))), ids)
    orphans = [sha for sha in sorted(shas)
               if not db.execute("SELECT 1 FROM media WHERE sha256 = ? LIMIT 1", [sha]).fetchone()]
    return len(gone) + len(kept), orphans
