"""The writer's memory of conversations (storage/conversations.Cache): write-through, never staler than the file.

Every other test runs with the memory checked against SQLite at each use (tests/conftest.py); these tests cover
what a conversation alone would not: failed calls and batches, other connections, a restart, the size bound."""
from __future__ import annotations

import json
import sqlite3

import pytest

from handlers.messages import Inbound
from storage import conversations
from storage.db import Database, savepoint

TTL = 1800.0


@pytest.fixture
async def db(tmp_path):
    database = Database(tmp_path / "c.db").start()
    yield database
    database.close()


def _put(openid: str, data: dict, state: str = "describe"):
    def fn(d):
        conversations.put(d, openid, "intake", state, data, 1000.0, TTL)
    return fn


def _read(openid: str):
    return lambda d: conversations.read(d, openid)


def _stored(openid: str):
    return lambda d: d.conn.execute("SELECT data FROM conversations WHERE openid = ?", [openid]).fetchone()


async def test_a_stored_row_is_read_from_memory_and_equals_the_file(db):
    await db.run(_put("o1", {"parts": ["作业太多"], "kind": None}))
    cache = await db.run(conversations.cache_of)
    hits = cache.hits
    row = await db.run(_read("o1"))
    assert cache.hits == hits + 1
    assert row == ("intake", "describe", {"parts": ["作业太多"], "kind": None}, 1000.0 + TTL)
    assert cache.mismatches == []  # (the tests' check compared it with the row SQLite holds)


async def test_a_call_that_fails_after_storing_leaves_no_stale_memory(db):
    await db.run(_put("o1", {"parts": ["第一句"]}))
    await db.run(_read("o1"))  # taken: put back by the next put

    def store_then_fail(d):
        conversations.put(d, "o1", "intake", "phone", {"parts": ["第一句", "没存下来的第二句"]}, 1001.0, TTL)
        raise RuntimeError("the handling failed after storing")

    with pytest.raises(RuntimeError):
        await db.run(store_then_fail)
    assert (await db.run(_read("o1")))[1:3] == ("describe", {"parts": ["第一句"]})


async def test_a_failed_savepoint_inside_a_call_forgets_what_it_stored(db):
    await db.run(_put("o1", {"parts": ["a"]}))

    def inner_fails(d):
        try:
            with savepoint(d):  # as the receiver wraps the handling
                conversations.put(d, "o1", "intake", "phone", {"parts": ["a", "b"]}, 1001.0, TTL)
                raise ValueError("handling bug")
        except ValueError:
            pass
        return conversations.read(d, "o1")

    row = await db.run(inner_fails)
    assert row[1:3] == ("describe", {"parts": ["a"]})
    assert (await db.run(_read("o1")))[2] == {"parts": ["a"]}


async def test_a_failed_commit_forgets_everything_the_batch_stored(db, monkeypatch):
    await db.run(_put("o1", {"parts": ["kept"]}))
    real = db._run_batch

    def failing_commit(conn_db, batch):
        class Conn:  # the batch's COMMIT fails (a full disk, an I/O error): nothing of it is on disk
            def __init__(self, conn):
                self._conn = conn

            def execute(self, sql, *args):
                if sql == "COMMIT":
                    raise sqlite3.OperationalError("disk I/O error")
                return self._conn.execute(sql, *args)

            def __getattr__(self, name):
                return getattr(self._conn, name)

        conn = conn_db.conn
        conn_db.conn = Conn(conn)
        try:
            real(conn_db, batch)
        finally:
            conn_db.conn = conn

    monkeypatch.setattr(db, "_run_batch", failing_commit)
    with pytest.raises(sqlite3.OperationalError):
        await db.run(_put("o1", {"parts": ["lost with the batch"]}))
    monkeypatch.setattr(db, "_run_batch", real)
    assert (await db.run(_read("o1")))[2] == {"parts": ["kept"]}
    assert json.loads((await db.run(_stored("o1")))[0]) == {"parts": ["kept"]}


async def test_another_connections_commit_is_seen_at_the_next_batch(db, tmp_path):
    await db.run(_put("o1", {"parts": ["mine"]}))
    other = sqlite3.connect(tmp_path / "c.db")  # another process, a CLI command
    other.execute("UPDATE conversations SET data = ?, state = 'phone' WHERE openid = 'o1'", ['{"parts": ["theirs"]}'])
    other.commit()
    other.close()
    assert (await db.run(_read("o1")))[1:3] == ("phone", {"parts": ["theirs"]})


async def test_any_sql_on_the_writers_connection_forgets_the_row(db):
    await db.run(_put("o1", {"parts": ["before"]}))
    await db.run(lambda d: d.execute("UPDATE conversations SET data = '{\"parts\": [\"after\"]}' WHERE openid = 'o1'"))
    assert (await db.run(_read("o1")))[2] == {"parts": ["after"]}
    await db.run(_put("o1", {"parts": ["again"]}))
    await db.run(lambda d: d.execute("DELETE FROM conversations"))
    assert await db.run(_read("o1")) is None


async def test_a_restart_reads_the_conversation_from_sqlite(tmp_path):
    first = Database(tmp_path / "r.db").start()
    try:
        await first.run(_put("o1", {"parts": ["写到一半"], "phone": None}, state="school"))
    finally:
        first.close()
    second = Database(tmp_path / "r.db").start()
    try:
        cache = await second.run(conversations.cache_of)
        assert cache.rows == {}
        assert (await second.run(_read("o1")))[1:3] == ("school", {"parts": ["写到一半"], "phone": None})
        assert cache.misses == 1
    finally:
        second.close()


async def test_two_conversations_never_share_state(db):
    shared = ["同一句话"]
    await db.run(_put("o1", {"parts": shared}))
    await db.run(_put("o2", {"parts": ["另一个人"]}))
    one, two = await db.run(_read("o1")), await db.run(_read("o2"))
    assert one[2] == {"parts": ["同一句话"]} and two[2] == {"parts": ["另一个人"]}
    assert one[2] is not two[2]
    one[2]["parts"].append("o1 edits its draft and never stores it")  # a step that ends without put
    assert (await db.run(_read("o1")))[2] == {"parts": ["同一句话"]}  # the next message reads the file
    assert (await db.run(_read("o2")))[2] == {"parts": ["另一个人"]}


async def test_the_memory_is_bounded_and_the_oldest_is_read_back_from_the_file(db):
    cache = await db.run(conversations.cache_of)
    cache.size = 3
    for i in range(5):
        await db.run(_put(f"o{i}", {"n": i}))
    assert list(cache.rows) == ["o2", "o3", "o4"]
    misses = cache.misses
    assert (await db.run(_read("o0")))[2] == {"n": 0}
    assert cache.misses == misses + 1


async def test_interleaved_people_through_the_dispatcher_keep_their_own_drafts(make_config):
    from bot.app import DB, DISPATCHER, create_app
    from tests.conftest import running
    async with running(create_app(make_config())) as app:
        dispatcher = app[DISPATCHER]
        people = [f"o_person{i}" for i in range(6)]
        for turn, words in enumerate(["学校食堂的饭菜不新鲜", "孩子吃了肚子疼", "希望尽快处理"]):
            for i, openid in enumerate(people):
                await dispatcher.handle(Inbound(openid=openid, kind="text", text=f"{words}（第{i}个人）",
                                                msg_id=f"{openid}-{turn}", created_at=1_800_000_000))
        rows = await app[DB].run(lambda d: {o: conversations.read(d, o) for o in people})
        for i, openid in enumerate(people):
            text = "\n".join(rows[openid][2]["parts"])
            assert f"（第{i}个人）" in text
            assert all(f"（第{j}个人）" not in text for j in range(6) if j != i)


async def test_a_remembered_absence_ends_with_any_insert(db, tmp_path):
    assert await db.run(_read("o_new")) is None  # remembered: no row
    assert await db.run(_read("o_new")) is None
    await db.run(lambda d: d.execute("INSERT INTO conversations (openid, flow, state, data, updated_at, expires_at) "
                                     "VALUES ('o_new', 'intake', 'kind', '{\"parts\": [\"raw\"]}', 1, 9999999999)"))
    assert (await db.run(_read("o_new")))[2] == {"parts": ["raw"]}
    assert await db.run(_read("o_other")) is None
    other = sqlite3.connect(tmp_path / "c.db")
    other.execute("INSERT INTO conversations (openid, flow, state, data, updated_at, expires_at) "
                  "VALUES ('o_other', 'intake', 'kind', '{}', 1, 9999999999)")
    other.commit()
    other.close()
    assert (await db.run(_read("o_other")))[1] == "kind"
    assert await db.run(lambda d: conversations.flow(d, "o_other", 2.0)) == "intake"
