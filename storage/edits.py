"""Versions of what the workbench edits and other processes cache: 'public' (units, service items) and 'campaign'
(surveys, common questions). An edit bumps its counter in the same transaction; each worker compares the counter
with the one it built its cache from (see bot/public.py and handlers/campaign.py)."""
from __future__ import annotations

import sqlite_utils

from storage.db import tx_memo

PUBLIC, CAMPAIGN = "public", "campaign"


def bump(db: sqlite_utils.Database, what: str) -> int:
    """Called by the storage functions that change published content, in their own transaction."""
    db.execute("INSERT INTO edit_versions (what, version) VALUES (?, 1) "
               "ON CONFLICT(what) DO UPDATE SET version = version + 1", [what])
    return version(db, what)


def version(db: sqlite_utils.Database, what: str) -> int:
    """The counter now. On the writer, read once per write transaction (every message asks: storage.db.tx_memo)."""
    memo = tx_memo(db)
    versions = memo.setdefault("edit_versions", {}) if memo is not None else None
    if versions is not None and what in versions:
        return versions[what]
    row = db.execute("SELECT version FROM edit_versions WHERE what = ?", [what]).fetchone()
    value = row[0] if row else 0
    if versions is not None:
        versions[what] = value
    return value


def bump_if_ready(db: sqlite_utils.Database, what: str) -> None:
    """bump, on a database that may not be migrated to m018 yet (the directory is loaded during upgrades)."""
    if db["edit_versions"].exists():
        bump(db, what)
