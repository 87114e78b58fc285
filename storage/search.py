"""Full-text search over tickets: SQLite FTS5 over jieba-segmented words (FTS5 cannot cut Chinese into words
itself). A ticket's document is its text, what the citizen added and every reply, result and internal note; it is
rebuilt in the same transaction as any change to those, so search never lags behind the ticket.

Indexed with jieba's search mode (乱收费 -> 乱收 收费 乱收费), queried with its precise mode, every word required:
乱收费 finds 学校乱收费, 资料 finds 资料费.
"""
from __future__ import annotations

import logging
import re
import threading

import sqlite_utils

# Event actions whose notes are part of the searchable document.
WORDY = ("reply", "resolve", "citizen_reply", "supplement", "note", "bounce", "transfer")
MAX_TERMS = 8

_lock = threading.Lock()
_jieba = None


def _cutter():
    """jieba's default tokenizer, loaded once per process (about a second, the first time)."""
    global _jieba
    with _lock:
        if _jieba is None:
            import jieba
            from storage import wordfreq
            jieba.setLogLevel(logging.WARNING)
            wordfreq.install()  # jieba's dictionary as the router reads it, not a dict of its own
            _jieba = jieba
    return _jieba


def warm() -> None:
    _cutter()


_WORD = re.compile(r"\w", re.UNICODE)


def words_for_index(text: str) -> str:
    return " ".join(w for w in _cutter().cut_for_search(text) if _WORD.search(w))


def query_terms(query: str) -> list[str]:
    """The words of a search box, each as an FTS5 phrase (quotes doubled), at most MAX_TERMS."""
    terms = [w.strip() for w in _cutter().cut(query) if _WORD.search(w)]
    return ['"' + t.replace('"', '""') + '"' for t in terms[:MAX_TERMS]]


def match_expression(query: str) -> str | None:
    terms = query_terms(query)
    return " AND ".join(terms) if terms else None


def reindex(db: sqlite_utils.Database, ticket_id: int) -> None:
    if db.execute("SELECT 1 FROM tickets WHERE id = ?", [ticket_id]).fetchone() is None:
        return
    document = _document(db, ticket_id)
    db.execute("DELETE FROM tickets_fts WHERE rowid = ?", [ticket_id])
    db.execute("INSERT INTO tickets_fts (rowid, words) VALUES (?, ?)", [ticket_id, words_for_index(document)])


# -- tickets older than the search index (storage/migrations.py m013) ---------------------------------------------
def backfill_documents(db: sqlite_utils.Database, limit: int = 50) -> tuple[list[tuple[int, str]], int | None]:
    """Read-only, on a reader: the next `limit` tickets below the backfill cursor, newest first, each with its
    segmented document (the CPU-heavy part, kept off the writer). Returns (rows, new cursor); cursor None: done."""
    row = db.execute("SELECT below FROM search_backfill").fetchone() if _has_backfill(db) else None
    if row is None:
        return [], None
    ids = [r[0] for r in db.execute("SELECT id FROM tickets WHERE id < ? ORDER BY id DESC LIMIT ?",
                                    [row[0], limit])]
    if not ids:
        return [], 0
    return [(i, words_for_index(_document(db, i))) for i in ids], min(ids)


def backfill_pending(db: sqlite_utils.Database) -> int | None:
    """Read-only: the backfill's cursor when tickets below it wait to be indexed; 0 when none does (the cursor is
    left for backfill_store to remove); None when there is no cursor (done)."""
    row = db.execute("SELECT below FROM search_backfill").fetchone() if _has_backfill(db) else None
    if row is None:
        return None
    return row[0] if db.execute("SELECT 1 FROM tickets WHERE id < ? LIMIT 1", [row[0]]).fetchone() else 0


def backfill_store(db: sqlite_utils.Database, rows: list[tuple[int, str]], below: int) -> int:
    """On the writer, short: store what a reader segmented. A ticket changed meanwhile was reindexed in its own
    transaction and already has its row, which is newer: it is kept."""
    stored = 0
    for ticket_id, words in rows:
        stored += db.execute("INSERT INTO tickets_fts (rowid, words) SELECT ?, ? WHERE NOT EXISTS "
                             "(SELECT 1 FROM tickets_fts WHERE rowid = ?)", [ticket_id, words, ticket_id]).rowcount
    if rows:
        db.execute("UPDATE search_backfill SET below = ?", [below])
    else:
        db.execute("DELETE FROM search_backfill")
    return stored


def _has_backfill(db: sqlite_utils.Database) -> bool:
    return db.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_backfill'").fetchone() is not None


def _document(db: sqlite_utils.Database, ticket_id: int) -> str:
    row = db.execute("SELECT number, text, resolution FROM tickets WHERE id = ?", [ticket_id]).fetchone()
    marks = ",".join("?" * len(WORDY))
    notes = [r[0] for r in db.execute(
        f"SELECT note FROM ticket_events WHERE ticket_id = ? AND action IN ({marks}) AND note IS NOT NULL",
        [ticket_id, *WORDY])]
    return " ".join([row[0], row[1], row[2] or "", *notes])
