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
            jieba.setLogLevel(logging.WARNING)
            jieba.initialize()
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
    row = db.execute("SELECT number, text, resolution FROM tickets WHERE id = ?", [ticket_id]).fetchone()
    if row is None:
        return
    marks = ",".join("?" * len(WORDY))
    notes = [r[0] for r in db.execute(
        f"SELECT note FROM ticket_events WHERE ticket_id = ? AND action IN ({marks}) AND note IS NOT NULL",
        [ticket_id, *WORDY])]
    document = " ".join([row[0], row[1], row[2] or "", *notes])
    db.execute("DELETE FROM tickets_fts WHERE rowid = ?", [ticket_id])
    db.execute("INSERT INTO tickets_fts (rowid, words) VALUES (?, ?)", [ticket_id, words_for_index(document)])
