"""Instant answers served from the 常见问题 list, and what people said about each."""
from __future__ import annotations

from typing import Any

import sqlite_utils


def served(db: sqlite_utils.Database, faq_id: str, openid: str, question: str, score: float, now: float) -> int:
    return db.execute("INSERT INTO faq_answers (faq_id, openid, question, score, served_at) VALUES (?, ?, ?, ?, ?)",
                      [faq_id, openid, question, score, now]).lastrowid


def outcome(db: sqlite_utils.Database, answer_id: int, value: str, now: float) -> None:
    db.execute("UPDATE faq_answers SET outcome = ?, outcome_at = ? WHERE id = ? AND outcome IS NULL",
               [value, now, answer_id])


def latest(db: sqlite_utils.Database, openid: str) -> dict[str, Any] | None:
    """The person's latest instant answer (index faq_answers_person)."""
    row = db.execute("SELECT id, question, served_at, outcome FROM faq_answers WHERE openid = ? ORDER BY id DESC "
                     "LIMIT 1", [openid]).fetchone()
    return dict(zip(("id", "question", "served_at", "outcome"), row)) if row else None


def asked_late(db: sqlite_utils.Database, answer_id: int, now: float) -> None:
    """A person asked after all, once another message came between (its outcome had been taken as ignored)."""
    db.execute("UPDATE faq_answers SET outcome = 'human', outcome_at = ? WHERE id = ? AND "
               "coalesce(outcome, 'ignored') = 'ignored'", [now, answer_id])


def counts(db: sqlite_utils.Database, since: float | None = None) -> dict[str, dict[str, int]]:
    """{faq_id: {"solved": n, "human": n, "ignored": n, "none": n}} (none: not answered yet)."""
    sql = "SELECT faq_id, coalesce(outcome, 'none') AS o, count(*) AS n FROM faq_answers"
    args: list[Any] = []
    if since is not None:
        sql += " WHERE served_at >= ?"
        args.append(since)
    out: dict[str, dict[str, int]] = {}
    for row in db.query(sql + " GROUP BY faq_id, o", args):
        out.setdefault(row["faq_id"], {})[row["o"]] = row["n"]
    return out
