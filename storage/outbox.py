"""Messages to push, written in the same transaction as the change that caused them and removed from the
queue only once the platform accepted them."""
from __future__ import annotations

import json
from typing import Any

import sqlite_utils

CLAIM_SECONDS = 60  # a 'sending' row whose sender died becomes due again after this


def _insert(db: sqlite_utils.Database, openid: str, kind: str, payload: dict, now: float, source: str | None) -> int:
    cur = db.execute(
        "INSERT INTO outbox (openid, kind, payload, source, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?)",
        [openid, kind, json.dumps(payload, ensure_ascii=False), source, now, now],
    )
    return cur.lastrowid


def enqueue_text(db: sqlite_utils.Database, openid: str, text: str, now: float, source: str | None = None,
                 template: dict[str, Any] | None = None) -> int:
    """A customer-service text. `template` ({template_id, data, url}) is sent instead when the person is
    outside WeChat's 48-hour window; without it the text waits for their next message."""
    payload: dict[str, Any] = {"content": text}
    if template:
        payload["template"] = template
    return _insert(db, openid, "text", payload, now, source)


def enqueue_replies(db: sqlite_utils.Database, replies: list[dict[str, Any]], default_to: str, now: float,
                    source: str | None = None) -> int:
    """Queue replies ({text, to, extra}) as pushes; extra.template is the fallback outside the window."""
    for reply in replies:
        enqueue_text(db, reply.get("to") or default_to, reply["text"], now, source=source,
                     template=(reply.get("extra") or {}).get("template"))
    return len(replies)


def claim_due(db: sqlite_utils.Database, now: float, limit: int = 20) -> list[dict[str, Any]]:
    """Take due rows for sending. Safe across processes: the UPDATE runs under SQLite's write lock."""
    rows = db.execute(
        # Two ranges of outbox_due, never a walk over the sent rows kept for the retention period (named: with
        # ANALYZE's averages, 'pending' looks as common as 'sent' and the planner would walk the table by id).
        "UPDATE outbox SET status = 'sending', claimed_until = ? WHERE id IN ("
        "  SELECT id FROM outbox INDEXED BY outbox_due WHERE (status = 'pending' AND next_attempt_at <= ?)"
        "  OR (status = 'sending' AND claimed_until < ?) ORDER BY id LIMIT ?"
        ") RETURNING id, openid, kind, payload, attempts, created_at",
        [now + CLAIM_SECONDS, now, now, limit],
    ).fetchall()
    return sorted(
        ({"id": r[0], "openid": r[1], "kind": r[2], "payload": json.loads(r[3]), "attempts": r[4],
          "created_at": r[5]} for r in rows),
        key=lambda m: m["id"],
    )


def mark_sent(db: sqlite_utils.Database, item_id: int, now: float) -> None:
    db.execute("UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL "
               "WHERE id = ?", [now, item_id])


def mark_retry(db: sqlite_utils.Database, item_id: int, error: str, next_at: float, max_attempts: int) -> str:
    """Count a failed attempt; after max_attempts the row is 'failed' and kept for a person to see."""
    db.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, claimed_until = NULL, "
        "status = CASE WHEN attempts + 1 >= ? THEN 'failed' ELSE 'pending' END WHERE id = ?",
        [error, next_at, max_attempts, item_id],
    )
    return db.execute("SELECT status FROM outbox WHERE id = ?", [item_id]).fetchone()[0]


def mark_waiting(db: sqlite_utils.Database, item_id: int, error: str) -> None:
    """Outside the person's 48-hour window: hold it until they next write to us."""
    db.execute("UPDATE outbox SET status = 'waiting', last_error = ?, claimed_until = NULL WHERE id = ?",
               [error, item_id])


def release_waiting(db: sqlite_utils.Database, openid: str, now: float) -> int:
    return db.execute(
        "UPDATE outbox SET status = 'pending', next_attempt_at = ? WHERE openid = ? AND status = 'waiting'",
        [now, openid],
    ).rowcount


def counts(db: sqlite_utils.Database) -> dict[str, int]:
    """Rows per status, except 'sent' (kept for the retention period, and counting them would read them all)."""
    return {r[0]: r[1] for r in db.execute(
        "SELECT status, count(*) FROM outbox WHERE status IN ('pending', 'sending', 'waiting', 'failed') "
        "GROUP BY status")}


def list_for(db: sqlite_utils.Database, openid: str) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM outbox WHERE openid = ? ORDER BY id", [openid]))


def prune_sent(db: sqlite_utils.Database, before: float, limit: int = 500) -> int:
    """Retention: forget up to `limit` messages delivered before `before` (the tickets and their events keep
    the history; a sent push is only a copy of what they say). Call again until it returns < limit."""
    return db.execute("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status = 'sent' AND sent_at < ? "
                      "ORDER BY sent_at LIMIT ?)", [before, limit]).rowcount
