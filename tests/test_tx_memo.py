"""The writer's per-transaction memory (storage.db.tx_memo): what every message asks (has the campaign's version
moved? does any message wait for this person?) is read once per write transaction, and is never stale: a write
through the writer's own connection (any SQL), a rollback, or another connection's commit between transactions
is seen."""
from __future__ import annotations

import sqlite3

from storage import edits, outbox
from storage.db import Database

NOW = 1_795_000_000.0


def _statements(db: Database, fn):
    """Run fn(conn) on the writer in one transaction; return its result and the statements it issued."""
    seen: list[str] = []

    def call(d):
        d.conn.set_trace_callback(seen.append)
        try:
            return fn(d)
        finally:
            d.conn.set_trace_callback(None)
    return db.run_sync(call), seen


def test_the_campaign_version_is_read_once_per_transaction_and_any_change_is_seen(tmp_path):
    db = Database(tmp_path / "m.db").start()
    try:
        v0 = db.run_sync(edits.version, edits.CAMPAIGN)
        both, seen = _statements(db, lambda d: (edits.version(d, edits.CAMPAIGN), edits.version(d, edits.CAMPAIGN)))
        assert both == (v0, v0)
        assert sum("edit_versions" in s for s in seen) == 1  # the second answer from memory

        def bumped_by_raw_sql(d):
            first = edits.version(d, edits.CAMPAIGN)
            d.execute("INSERT INTO edit_versions (what, version) VALUES ('campaign', 41) "
                      "ON CONFLICT(what) DO UPDATE SET version = 41")  # any SQL, not only edits.bump
            return first, edits.version(d, edits.CAMPAIGN)
        assert db.run_sync(bumped_by_raw_sql) == (v0, 41)

        def rolled_back(d):
            from storage.db import savepoint
            try:
                with savepoint(d):
                    edits.bump(d, edits.CAMPAIGN)
                    assert edits.version(d, edits.CAMPAIGN) == 42
                    raise RuntimeError("undone")
            except RuntimeError:
                pass
            return edits.version(d, edits.CAMPAIGN)
        assert db.run_sync(rolled_back) == 41  # the bump was rolled back: so is the memory of it

        other = sqlite3.connect(tmp_path / "m.db", isolation_level=None)  # another process, between transactions
        other.execute("UPDATE edit_versions SET version = 77 WHERE what = 'campaign'")
        other.close()
        assert db.run_sync(edits.version, edits.CAMPAIGN) == 77
    finally:
        db.close()


def test_a_message_asks_nothing_of_the_outbox_when_nothing_waits_and_releases_what_came_to_wait(tmp_path):
    db = Database(tmp_path / "m.db").start()
    try:
        released, seen = _statements(db, lambda d: [outbox.release_waiting(d, f"o{i}", NOW) for i in range(20)])
        assert released == [0] * 20
        assert sum(s.lstrip().upper().startswith("UPDATE OUTBOX") for s in seen) == 0  # one probe, no update
        assert sum("outbox" in s for s in seen) == 1

        def waits_then_writes(d):
            assert outbox.release_waiting(d, "o1", NOW) == 0  # nothing waits: remembered
            row = outbox.enqueue_text(d, "o1", "您的留言已办结", NOW)
            d.execute("UPDATE outbox SET status = 'waiting' WHERE id = ?", [row])  # any SQL, not only mark_waiting
            return outbox.release_waiting(d, "o1", NOW + 1)
        assert db.run_sync(waits_then_writes) == 1  # the row that came to wait is released in the same transaction

        row = db.run_sync(lambda d: outbox.enqueue_text(d, "o2", "请补充材料", NOW))
        db.run_sync(outbox.mark_waiting, row, "45015 out of the 48-hour window")
        assert db.run_sync(outbox.release_waiting, "o2", NOW + 2) == 1
        other = sqlite3.connect(tmp_path / "m.db", isolation_level=None)  # another process marks one waiting
        other.execute("UPDATE outbox SET status = 'waiting' WHERE id = ?", [row])
        other.close()
        assert db.run_sync(outbox.release_waiting, "o2", NOW + 3) == 1
    finally:
        db.close()


def test_the_school_names_are_read_once_per_transaction_and_any_change_to_units_is_seen(tmp_path):
    from storage import directory
    from storage.db import savepoint
    db = Database(tmp_path / "m.db").start()
    try:
        db.run_sync(lambda d: directory.upsert(d, [{"code": "s1", "name": "滨河小学", "kind": "school", "district": None, "parent": None, "categories": "", "commitment": ""}]))
        both, seen = _statements(db, lambda d: (directory.school_names(d), directory.school_names(d)))
        assert both[0] == both[1] == [("s1", "滨河小学")]
        assert sum("FROM units" in s for s in seen) == 1  # the second answer from memory

        def changed_by_raw_sql(d):
            first = list(directory.school_names(d))
            d.execute("INSERT INTO units (code, name, kind) VALUES ('s2', '育英小学', 'school')")
            second = list(directory.school_names(d))
            d.execute("UPDATE units SET active = 0 WHERE code = 's1'")
            return first, second, list(directory.school_names(d))
        first, second, third = db.run_sync(changed_by_raw_sql)
        assert first == [("s1", "滨河小学")]
        assert sorted(second) == [("s1", "滨河小学"), ("s2", "育英小学")]
        assert third == [("s2", "育英小学")]

        def rolled_back(d):
            try:
                with savepoint(d):
                    d.execute("DELETE FROM units WHERE code = 's2'")
                    assert directory.school_names(d) == []
                    raise RuntimeError("undone")
            except RuntimeError:
                pass
            return directory.school_names(d)
        assert db.run_sync(rolled_back) == [("s2", "育英小学")]  # the delete was rolled back: so is the memory

        other = sqlite3.connect(tmp_path / "m.db", isolation_level=None)  # another process, between transactions
        other.execute("UPDATE units SET name = '育英实验小学' WHERE code = 's2'")
        other.close()
        assert db.run_sync(directory.school_names) == [("s2", "育英实验小学")]
    finally:
        db.close()

