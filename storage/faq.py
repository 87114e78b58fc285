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
