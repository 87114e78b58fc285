from __future__ import annotations

import asyncio
import sqlite3
import threading

import pytest

from handlers.routing import CATEGORIES
from storage import directory, inbound, outbox, tokens, users
from storage.db import Database, connect
from storage.migrations import migrate


@pytest.fixture
async def db(tmp_path):
    database = Database(tmp_path / "s.db").start()
    yield database
    database.close()


def test_schema_has_every_table_and_migrations_are_idempotent(tmp_path):
    conn = connect(tmp_path / "m.db")
    assert migrate(conn)[0] == "m001_core"
    assert migrate(conn) == []
    assert {"inbound", "conversations", "users", "units", "tickets", "ticket_events", "outbox",
            "access_tokens"} <= set(conn.table_names())
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1


async def test_concurrent_writes_are_grouped_into_few_commits(db):
    await asyncio.gather(*(db.run(users.touch, f"o{i}", 1.0) for i in range(500)))
    assert await db.run(lambda d: d.execute("SELECT count(*) FROM users").fetchone()[0]) == 500
    assert db.commits < 100  # 500 calls, far fewer commits


async def test_a_failing_call_rolls_back_only_itself(db):
    def good(d, i):
        users.touch(d, f"good{i}", 1.0)

    def bad(d):
        users.touch(d, "bad", 1.0)
        raise RuntimeError("boom")

    results = await asyncio.gather(db.run(good, 1), db.run(bad), db.run(good, 2), return_exceptions=True)
    assert isinstance(results[1], RuntimeError)
    names = await db.run(lambda d: [r[0] for r in d.execute("SELECT openid FROM users ORDER BY openid")])
    assert names == ["good1", "good2"]


async def test_the_longest_write_batch_says_what_it_ran_and_its_cpu_time(db):
    import time

    def slow_write(d):
        users.touch(d, "slow", 1.0)
        time.sleep(0.05)  # waiting, not working: wall time without CPU time

    await db.run(users.touch, "quick", 1.0)
    db.longest_batch = 0.0
    await db.run(slow_write)
    assert db.longest_batch >= 0.05
    assert db.longest_batch_calls == {"test_the_longest_write_batch_says_what_it_ran_and_its_cpu_time.<locals>."
                                      "slow_write": 1}
    assert db.longest_batch_cpu < db.longest_batch - 0.03  # the sleep shows as wall time only


async def test_ticket_events_are_append_only(db):
    def add(d):
        d.execute("INSERT INTO tickets (number, openid, kind, category, text, state, created_at) "
                  "VALUES ('JY1', 'o', 'complaint', 'fees', 't', 'submitted', 1)")
        d.execute("INSERT INTO ticket_events (ticket_id, at, actor, to_state) VALUES (1, 1, 'o', 'submitted')")
    await db.run(add)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await db.run(lambda d: d.execute("UPDATE ticket_events SET note = 'x'"))
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        await db.run(lambda d: d.execute("DELETE FROM ticket_events"))


async def test_inbound_claim_is_once(db):
    first = await db.run(inbound.claim, "k1", "o1", "text", "{}", 10.0)
    second = await db.run(inbound.claim, "k1", "o1", "text", "{}", 11.0)
    assert first.new and not second.new and second.status == "received"
    passive = await db.run(inbound.complete, "k1", "o1", [{"text": "a", "to": None}, {"text": "b", "to": None}], 12.0,
                           True)
    assert passive == {"text": "a", "to": None}
    assert [r["payload"] for r in await db.run(outbox.list_for, "o1")] == ['{"content": "b"}']
    # Completing twice changes nothing.
    await db.run(inbound.complete, "k1", "o1", [{"text": "c", "to": None}], 13.0)
    assert len(await db.run(outbox.list_for, "o1")) == 1


async def test_outbox_claim_retry_wait_release(db):
    item = await db.run(outbox.enqueue_text, "o9", "hello", 100.0)
    assert await db.run(outbox.claim_due, 99.0) == []
    claimed = await db.run(outbox.claim_due, 100.0)
    assert [c["id"] for c in claimed] == [item]
    assert await db.run(outbox.claim_due, 100.0) == []  # claimed rows are not handed out twice...
    assert len(await db.run(outbox.claim_due, 100.0 + outbox.CLAIM_SECONDS + 1)) == 1  # ...unless the sender died
    for attempt in range(50):  # a transient error never ends delivery, however often it happens
        await db.run(outbox.claim_due, 200.0 + attempt)
        await db.run(outbox.mark_retry, item, "-1 system error", 201.0 + attempt)
    assert [c["id"] for c in await db.run(outbox.claim_due, 300.0)] == [item]
    await db.run(outbox.mark_failed, item, "43004 require subscribe", 300.0)  # a permanent one does
    assert await db.run(outbox.claim_due, 10_000.0) == []
    row = (await db.run(outbox.list_rows, ("failed",)))[0]
    assert (row["status"], row["last_error"], row["attempts"]) == ("failed", "43004 require subscribe", 51)
    assert await db.run(outbox.health, 400.0, 0.0) == {"oldest_pending_seconds": None, "failed_recently": 1}
    assert await db.run(outbox.retry, 500.0) == 1  # tingjian outbox retry --all-failed
    assert [c["id"] for c in await db.run(outbox.claim_due, 500.0)] == [item]
    await db.run(outbox.mark_sent, item, 501.0)
    other = await db.run(outbox.enqueue_text, "o9", "later", 100.0)
    await db.run(outbox.claim_due, 100.0)
    await db.run(outbox.mark_waiting, other, "45015")
    assert await db.run(outbox.claim_due, 1000.0) == []
    await db.run(inbound.claim, "k9", "o9", "text", "{}", 1001.0)  # the person writes again
    assert [c["id"] for c in await db.run(outbox.claim_due, 1001.0)] == [other]


async def test_token_cache(db):
    assert await db.run(tokens.get, "wx1", 0.0) is None
    await db.run(tokens.put, "wx1", "T1", 7200, 0.0)
    assert await db.run(tokens.get, "wx1", 100.0) == "T1"
    assert await db.run(tokens.get, "wx1", 7000.0) is None  # refreshed 5 minutes before it expires
    await db.run(tokens.forget, "wx1", "other")
    assert await db.run(tokens.get, "wx1", 100.0) == "T1"
    await db.run(tokens.forget, "wx1", "T1")
    assert await db.run(tokens.get, "wx1", 100.0) is None


def test_directory_csv_validation(tmp_path):
    good = tmp_path / "d.csv"
    good.write_text("code,name,kind,district,parent\nb,局,bureau,,\ns1,一小,school,东区,b\n", encoding="utf-8")
    assert [r["code"] for r in directory.read_csv(good)] == ["b", "s1"]
    for body, msg in [
        ("code,name\nb,局\n", "missing column"),
        ("code,name,kind\nb,局,castle\n", ":2: kind"),
        ("code,name,kind,parent\ns1,一小,school,nope\n", ":2: parent"),
        ("code,name,kind\n,局,bureau\n", ":2: code and name"),
        # a copied row renamed or moved the unit silently; a mistyped category routed nothing to the office; two
        # offices listing one category: office_for took the first
        ("code,name,kind\nb,局,bureau\ns1,一小,school\ns1,一小（复制）,school\n", ":4: code 's1' is already on line 3"),
        ("code,name,kind,categories\no1,收费处,office,fees;feess\n", ":2: category 'feess' is not one of"),
        ("code,name,kind,categories\no1,收费处,office,fees\no2,安全处,office,safety;fees\n",
         ":3: category 'fees' is already the office's on line 2"),
    ]:
        bad = tmp_path / "bad.csv"
        bad.write_text(body, encoding="utf-8")
        with pytest.raises(directory.DirectoryError, match=msg):
            directory.read_csv(bad, CATEGORIES)
    spaced = tmp_path / "spaced.csv"  # "fees; safety" was the categories "fees" and " safety": the second never matched
    spaced.write_text("code,name,kind,categories\no1,收费处,office,\"fees; safety ,\"\n", encoding="utf-8")
    assert directory.read_csv(spaced, CATEGORIES)[0]["categories"] == "fees;safety"


async def test_directory_upsert_updates_without_duplicating(db, tmp_path):
    rows = [{"code": "s1", "name": "一小", "kind": "school", "district": None, "parent": "b"},
            {"code": "b", "name": "局", "kind": "bureau", "district": None, "parent": None}]
    await db.run(directory.upsert, rows)
    rows[0] = {**rows[0], "name": "第一小学"}
    await db.run(directory.upsert, rows)
    units = await db.run(directory.all_units)
    assert len(units) == 2
    assert (await db.run(directory.by_scene, "school:s1"))["name"] == "第一小学"
    assert await db.run(directory.by_scene, "garbage") is None


async def test_a_cancelled_caller_does_not_break_the_writer(db):
    import threading
    gate = threading.Event()
    blocker = asyncio.ensure_future(db.run(lambda d: gate.wait(5)))
    await asyncio.sleep(0.05)  # the writer is busy with the blocker
    cancelled = asyncio.ensure_future(db.run(users.touch, "o_cancelled", 1.0))
    await asyncio.sleep(0)
    cancelled.cancel()
    await asyncio.sleep(0.01)  # the cancellation reaches the writer's queue entry
    gate.set()
    await blocker
    await db.run(users.touch, "o_after", 1.0)
    names = await db.run(lambda d: [r[0] for r in d.execute("SELECT openid FROM users")])
    assert names == ["o_after"]  # the cancelled write never ran; the writer goes on


async def test_old_conversations_and_message_ids_are_pruned(db):
    from storage import conversations
    await db.run(conversations.put, "o1", "intake", "phone", {}, 0.0, 60)
    await db.run(conversations.put, "o2", "intake", "phone", {}, 1000.0, 60)
    assert await db.run(conversations.prune, 500.0) == 1
    assert (await db.run(conversations.get, "o2", 1001.0))["state"] == "phone"
    await db.run(inbound.claim, "old", "o", "text", "{}", 10.0)
    await db.run(inbound.complete, "old", "o", [], 10.0, True)
    await db.run(inbound.claim, "new", "o", "text", "{}", 900.0)
    assert await db.run(inbound.prune, 500.0) == 1
    assert not (await db.run(inbound.claim, "new", "o", "text", "{}", 901.0)).new


def test_the_lock_wait_reported_is_another_connections_hold_only(tmp_path):
    """tingjian_write_lock_wait_seconds: a batch granted the lock at once reports no wait (the thread's wait for a
    core or the GIL around BEGIN is not contention; bench/README.md, workers15); one that found another connection
    holding the lock reports how long it waited for it."""
    waits: list[float] = []
    path = tmp_path / "lock.db"
    db = Database(path, lock_wait=10, on_lock_wait=waits.append).start()
    try:
        db.run_sync(lambda d: d.execute("CREATE TABLE t (x INTEGER)"))
        for n in range(5):
            db.run_sync(lambda d, n=n: d.execute("INSERT INTO t VALUES (?)", [n]))
        assert waits and all(w == 0.0 for w in waits)

        other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another process's write transaction, held
        done = []
        writer = threading.Thread(target=lambda: done.append(db.run_sync(
            lambda d: d.execute("INSERT INTO t VALUES (99)").rowcount)))
        writer.start()
        writer.join(0.4)
        assert not done  # still waiting for the lock
        before = len(waits)
        other.execute("COMMIT")
        other.close()
        writer.join(10)
        assert done == [1]
        assert len(waits) == before + 1 and waits[-1] > 0.0
    finally:
        db.close()


def test_a_directory_file_read_again_is_read_as_it_is_now(tmp_path):
    """read_csv remembers a file's rows by its content (each app's start-up reads the directory): a file rewritten
    in place, at the same size, gives its new rows; a caller changing the rows it got changes nobody else's."""
    f = tmp_path / "d.csv"
    f.write_text("code,name,kind\njyj,市教育局,bureau\n", encoding="utf-8")
    first = directory.read_csv(f)
    assert first[0]["name"] == "市教育局"
    first[0]["name"] = "changed by a caller"
    assert directory.read_csv(f)[0]["name"] == "市教育局"
    f.write_text("code,name,kind\njyj,市教育厅,bureau\n", encoding="utf-8")
    assert directory.read_csv(f)[0]["name"] == "市教育厅"


def test_a_toml_file_read_again_is_read_as_it_is_now(tmp_path):
    from storage.tomlfile import read_toml
    f = tmp_path / "s.toml"
    f.write_text('[a]\nx = [1, 2]\n', encoding="utf-8")
    for _ in range(3):  # (the first read parses, the next ones copy what was parsed)
        got = read_toml(f, ValueError)
        assert got == {"a": {"x": [1, 2]}}
        got["a"]["x"].append(3)
    f.write_text('[a]\nx = [1, 5]\n', encoding="utf-8")
    assert read_toml(f, ValueError) == {"a": {"x": [1, 5]}}
    f.write_text('[a]\nx = [1, \n', encoding="utf-8")
    with pytest.raises(ValueError, match="not valid TOML"):
        read_toml(f, ValueError)
