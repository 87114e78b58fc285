"""领导点评: leaders' comments on a unit for a review period; the review's rules as recorded in force (m078)."""
from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from storage import edits


def add_comment(db: sqlite_utils.Database, unit_code: str, period: str, author: str, text: str, public: bool,
                now: float) -> int:
    if db.execute("SELECT 1 FROM units WHERE code = ?", [unit_code]).fetchone() is None:
        raise ValueError(f"unknown unit {unit_code!r}")
    cid = db.execute("INSERT INTO review_comments (unit_code, period, author, text, public, created_at) "
                     "VALUES (?, ?, ?, ?, ?, ?)", [unit_code, period, author, text, int(public), now]).lastrowid
    if public:
        edits.bump_if_ready(db, edits.PUBLIC)  # shown on the unit's public page
    return cid


def comments(db: sqlite_utils.Database, period: str | None = None, unit_code: str | None = None,
             public_only: bool = False, limit: int = 1000) -> list[dict[str, Any]]:
    """Comments, the latest first, for a period and/or a unit."""
    sql, args = "SELECT * FROM review_comments WHERE 1", []
    if period is not None:
        sql, args = sql + " AND period = ?", [*args, period]
    if unit_code is not None:
        sql, args = sql + " AND unit_code = ?", [*args, unit_code]
    if public_only:
        sql += " AND public = 1"
    rows = list(db.query(sql + " ORDER BY created_at DESC, id DESC LIMIT ?", [*args, limit]))
    for r in rows:
        r["public"] = bool(r["public"])
    return rows


def delete_comment(db: sqlite_utils.Database, comment_id: int) -> bool:
    """Withdraw a comment (written by mistake, or no longer to be shown); False if there is none."""
    public = db.execute("SELECT public FROM review_comments WHERE id = ?", [comment_id]).fetchone()
    if public is None:
        return False
    db.execute("DELETE FROM review_comments WHERE id = ?", [comment_id])
    if public[0]:
        edits.bump_if_ready(db, edits.PUBLIC)
    return True


def record_rules(db: sqlite_utils.Database, rules: dict[str, Any], now: float) -> bool:
    """The review's rules (weights, min_cases, min_responses) in force from now, recorded when they differ from the
    latest record (m078). Returns whether a record was added."""
    text = json.dumps(rules, sort_keys=True)
    last = db.execute("SELECT rules FROM review_rules ORDER BY since DESC, id DESC LIMIT 1").fetchone()
    if last is not None and last[0] == text:
        return False
    db.execute("INSERT INTO review_rules (since, rules) VALUES (?, ?)", [now, text])
    return True


def rules_at(db: sqlite_utils.Database, moment: float) -> dict[str, Any] | None:
    """The rules in force at `moment`: the latest recorded at or before it; before the first record, the first
    (the earliest evidence there is of them). None where nothing was recorded."""
    row = db.execute("SELECT rules FROM review_rules WHERE since <= ? ORDER BY since DESC, id DESC LIMIT 1",
                     [moment]).fetchone() or db.execute(
        "SELECT rules FROM review_rules ORDER BY since, id LIMIT 1").fetchone()
    return None if row is None else json.loads(row[0])
