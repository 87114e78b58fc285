"""常用回复: a unit's reply templates. Numbered 1, 2, … in the order they were added (what `回复 编号 #2` names)."""
from __future__ import annotations

from typing import Any

import sqlite_utils

MAX_PER_UNIT = 20


def of_unit(db: sqlite_utils.Database, unit_code: str | None) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM reply_templates WHERE unit_code = ? ORDER BY id", [unit_code]))


def get(db: sqlite_utils.Database, template_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM reply_templates WHERE id = ?", [template_id]))
    return rows[0] if rows else None


def count(db: sqlite_utils.Database, unit_code: str) -> int:
    return db.execute("SELECT count(*) FROM reply_templates WHERE unit_code = ?", [unit_code]).fetchone()[0]


def add(db: sqlite_utils.Database, unit_code: str, title: str, text: str, by: str, now: float,
        text_en: str | None = None) -> int:
    return db.execute("INSERT INTO reply_templates (unit_code, title, text, updated_by, updated_at, text_en) "
                      "VALUES (?, ?, ?, ?, ?, ?)", [unit_code, title, text, by, now, text_en or None]).lastrowid


def update(db: sqlite_utils.Database, template_id: int, title: str, text: str, by: str, now: float,
           text_en: str | None = None) -> None:
    db.execute("UPDATE reply_templates SET title = ?, text = ?, updated_by = ?, updated_at = ?, text_en = ? "
               "WHERE id = ?", [title, text, by, now, text_en or None, template_id])


def delete(db: sqlite_utils.Database, template_id: int) -> None:
    db.execute("DELETE FROM reply_templates WHERE id = ?", [template_id])
