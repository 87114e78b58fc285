"""Tickets older than the search index are indexed in the background, in short writes, not inside the migration
(which would hold the write lock for minutes on a year of tickets)."""
from __future__ import annotations

from zoneinfo import ZoneInfo

from storage import search, tickets
from storage.db import Database

TZ = ZoneInfo("Asia/Shanghai")
NOW = 1_795_000_000.0


def _make(db, n: int) -> list[int]:
    ids = []
    for i in range(n):
        t = tickets.create(db, openid=f"o{i}", kind="complaint", category="fees", unit_code=None, school_code=None,
                           text=f"学校乱收费第{i}次，资料费没有收据", attachments=[], contact_phone=None,
                           anonymous=True, routing={}, now=NOW + i, due_at=None, tz=TZ)
        ids.append(t["id"])
    return ids


def _as_before_the_upgrade(db) -> None:
    """What m013 leaves on a database that already had tickets: no index rows, a cursor above the newest."""
    db.execute("DELETE FROM tickets_fts")
    db.execute("DELETE FROM search_backfill")
    db.execute("INSERT INTO search_backfill (below) SELECT max(id) + 1 FROM tickets")


def _hits(db, words: str) -> set[int]:
    return {r[0] for r in db.execute("SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ?",
                                     [search.match_expression(words)])}


def test_backfill_indexes_every_earlier_ticket_newest_first_and_keeps_newer_rows(tmp_path):
    db = Database(tmp_path / "t.db").start()
    try:
        ids = db.run_sync(_make, 120)
        db.run_sync(_as_before_the_upgrade)
        assert db.run_sync(_hits, "乱收费") == set()

        rows, below = db.read_sync(search.backfill_documents, 50)
        assert [r[0] for r in rows] == sorted(ids, reverse=True)[:50]  # newest first
        # A ticket changed between the read and the write is reindexed in its own transaction: its row wins.
        changed = rows[0][0]
        db.run_sync(lambda d: (d.execute("UPDATE tickets SET text = '食堂饭菜有虫子' WHERE id = ?", [changed]),
                               search.reindex(d, changed)))
        assert db.run_sync(search.backfill_store, rows, below) == 49

        while below is not None:
            rows, below = db.read_sync(search.backfill_documents, 50)
            if below is not None:
                db.run_sync(search.backfill_store, rows, below)

        assert db.run_sync(_hits, "乱收费") == set(ids) - {changed}
        assert db.run_sync(_hits, "虫子") == {changed}
        assert db.run_sync(lambda d: d.execute("SELECT count(*) FROM search_backfill").fetchone()[0]) == 0
        assert db.read_sync(search.backfill_documents, 50) == ([], None)  # done: one cheap read from now on
    finally:
        db.close()


def test_a_new_database_has_nothing_to_backfill(tmp_path):
    db = Database(tmp_path / "t.db").start()
    try:
        rows, below = db.read_sync(search.backfill_documents, 50)
        assert rows == [] and below == 0
        db.run_sync(search.backfill_store, [], 0)
        assert db.read_sync(search.backfill_documents, 50) == ([], None)
    finally:
        db.close()
