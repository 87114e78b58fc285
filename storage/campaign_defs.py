"""Surveys and common questions written in the workbench. Each row holds the same table a [campaign] TOML file
does (as JSON); handlers/survey.py and handlers/faq.py check it with the files' own loaders. A row with the id of
an entry in a file takes its place (the workbench's version wins), so a leader can correct a file's entry too;
a retired row takes a common question out of service."""
from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from storage import edits

KINDS = ("survey", "faq")


def save(db: sqlite_utils.Database, kind: str, def_id: str, body: dict[str, Any], now: float, by: str) -> None:
    """Store (or replace) a checked definition; bumps the campaign version so every process reloads."""
    db.execute("INSERT INTO campaign_defs (kind, id, body, retired_at, updated_at, updated_by) "
               "VALUES (?, ?, ?, NULL, ?, ?) ON CONFLICT(kind, id) DO UPDATE SET body = excluded.body, "
               "retired_at = NULL, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
               [kind, def_id, json.dumps(body, ensure_ascii=False, default=str), now, by])
    edits.bump(db, edits.CAMPAIGN)


def retire(db: sqlite_utils.Database, kind: str, def_id: str, body: dict[str, Any], now: float, by: str) -> None:
    """Take an entry out of service (kept, with its counts); `body` is what it said, for a file's entry."""
    save(db, kind, def_id, body, now, by)
    db.execute("UPDATE campaign_defs SET retired_at = ? WHERE kind = ? AND id = ?", [now, kind, def_id])


def rows(db: sqlite_utils.Database, kind: str) -> list[dict[str, Any]]:
    out = list(db.query("SELECT * FROM campaign_defs WHERE kind = ? ORDER BY id", [kind]))
    for r in out:
        r["body"] = json.loads(r["body"])
    return out
