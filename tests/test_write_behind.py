"""The rows every message writes (its sender's touch, its conversation row, its inbound row, its signed request's
record) are written at the end of the writer's optimistic batch, one executemany per table, before the batch is
committed (storage/db.py `_write_behind`). What that must never change:

- the stored rows and the replies: the same, row for row (rowids too), as each write done at once (the careful
  run, which writes as main did), whoever shares a batch, a person's two messages in one batch included;
- everything a message wrote is committed when it is answered;
- a key stored before (a retry through another process, a replayed signed request) is found, and a row written
  meanwhile by other SQL is not overwritten by the pending one: the batch is run again the careful way."""
from __future__ import annotations

import json
import random
import sqlite3

import pytest

from bot.app import DB, MEDIA, RECEIVER, SENDER, create_app
from bot.receiver import Receiver, _Answer
from handlers.clock import FixedClock
from handlers.messages import Inbound, Reply
from storage import conversations, users
from storage import inbound as inbound_store
from storage.inbound import request_key
from tests.conftest import pause_jobs, running
from tests.test_handling_fast import ANSWERS, ASIDES, MONDAY, STORY
from tests.test_optimistic_batch import Handler, _one_batch

TABLES = ("users", "conversations", "inbound", "webhook_requests", "outbox", "tickets", "ticket_events",
          "inbound_failures", "media")


def _dialogue(seed: int, people: int = 7, count: int = 84) -> list[Inbound]:
    """Messages of a few people, interleaved, each person's in order: batches of 6 hold a person twice or more."""
    rng = random.Random(seed)
    pool = ASIDES + ANSWERS + STORY
    return [Inbound(openid=f"o_wb{rng.randrange(people)}", kind="text", created_at=int(MONDAY) + n,
                    text=rng.choice(pool), msg_id=str(7_700_000 + n)) for n in range(count)]


def _tables(db) -> dict[str, list[tuple]]:
    def rows(table: str) -> list[tuple]:
        keyed = "webhook_requests" if table == "webhook_requests" else None  # WITHOUT ROWID: by its key
        sql = f"SELECT * FROM {table} ORDER BY key" if keyed else f"SELECT rowid, * FROM {table} ORDER BY rowid"
        return [tuple(r) for r in db.conn.execute(sql)]
    return {t: rows(t) for t in TABLES}


async def _alone_on_the_writer(app) -> None:
    """Nothing but the test uses the app's writer: its jobs paused, the loops that poll it (the outbox sender,
    media downloads) stopped. A poll that came between a held batch and its count was a commit more (under load,
    one run in three), and the sender changed the outbox rows the two runs compare."""
    await pause_jobs(app)
    await app[SENDER].stop()
    await app[MEDIA].stop()


async def _feed(make_config, path, messages: list[Inbound], at_once: bool) -> tuple[list, dict]:
    """The messages in batches of 6 (one writer transaction each), each with its signed request: through
    run_redoable (the optimistic batch: its rows written at its end), or, `at_once`, through run (each call in its
    savepoint, every write done when it is asked: as main wrote before the rows waited for the batch's end)."""
    clock = FixedClock(MONDAY)
    async with running(create_app(make_config(storage={"path": str(path)}), clock=clock)) as app:
        await _alone_on_the_writer(app)
        db, receiver = app[DB], app[RECEIVER]
        call = db.run if at_once else db.run_redoable
        replies = []
        for i in range(0, len(messages), 6):
            clock.advance(5)
            group = messages[i:i + 6]
            out = await _one_batch(db, lambda g=group: [
                call(receiver._claim_and_handle, m.dedupe_key, m, _Answer(passive_ok=True), None,
                     request_key(int(MONDAY), f"n{m.msg_id}")) for m in g])
            replies.extend(out)
        assert db.redone == 0
        return replies, await db.run(_tables)


async def test_rows_and_replies_are_the_same_as_when_every_write_is_done_at_once(make_config, tmp_path):
    messages = _dialogue(seed=3)
    assert any(len({m.openid for m in messages[i:i + 6]}) < 6 for i in range(0, len(messages), 6))
    later, later_rows = await _feed(make_config, tmp_path / "later.db", messages, at_once=False)
    once, once_rows = await _feed(make_config, tmp_path / "once.db", messages, at_once=True)
    assert later == once
    assert sum(len(rows) for rows in later_rows.values()) > 2 * len(messages)
    for table in TABLES:
        assert later_rows[table] == once_rows[table], table


async def test_everything_a_message_wrote_is_committed_when_it_is_answered(make_config, tmp_path):
    path = tmp_path / "c.db"
    async with running(create_app(make_config(storage={"path": str(path)}), clock=FixedClock(MONDAY))) as app:
        await _alone_on_the_writer(app)
        receiver = app[RECEIVER]
        batch = [Inbound(openid=f"o_c{n % 3}", kind="text", created_at=int(MONDAY), msg_id=str(6_600_000 + n),
                         text=["学校放学太晚了", "孩子在和平初中读初二"][n // 3]) for n in range(6)]
        statements: list[str] = []
        await app[DB].run(lambda d: d.conn.set_trace_callback(statements.append))
        replies = await _one_batch(app[DB], lambda: [
            receiver.receive(m, request_key(int(MONDAY), f"c{m.msg_id}")) for m in batch])
        await app[DB].run(lambda d: d.conn.set_trace_callback(None))
        other = sqlite3.connect(path)  # another process: sees only what was committed
        try:
            done = dict(other.execute("SELECT key, reply FROM inbound WHERE status = 'done'").fetchall())
            assert [inbound_store._encode(r.to_dict()) for r in replies] == [done[m.dedupe_key] for m in batch]
            assert other.execute("SELECT count(*) FROM webhook_requests WHERE key LIKE '%:c%'").fetchone()[0] == 6
            assert other.execute("SELECT count(*) FROM conversations WHERE openid LIKE 'o_c%'").fetchone()[0] == 3
            assert {r[0] for r in other.execute("SELECT last_seen_at FROM users WHERE openid LIKE 'o_c%'")} == \
                {MONDAY}
        finally:
            other.close()
    # the rows were written at the batch's end, each table's in one run, not between the messages' handlings;
    # a person's conversation row once for their two messages (SQLite traces a statement again for each step
    # of a trigger it fires: a repeat is one statement)
    statements = [s for n, s in enumerate(statements) if n == 0 or s != statements[n - 1]]
    writes = [n for n, s in enumerate(statements) if s.startswith("INSERT INTO conversations")]
    assert len(writes) == 3 and writes == list(range(writes[0], writes[0] + 3))
    assert not any(s.startswith(("SELECT", "UPDATE users SET last_seen_at = max(last_seen_at, ?), "))
                   for s in statements[writes[-1]:])


class Pushing(Handler):
    """Handler, without its own row (the first try's would stand in the way of the second's)."""

    def __call__(self, db, inbound: Inbound):
        self.calls[inbound.text] = self.calls.get(inbound.text, 0) + 1
        return [Reply(f"收到：{inbound.text}"), Reply(f"转告：{inbound.text}", to="o_staff")]


async def test_a_message_taken_by_two_processes_in_one_batch_is_handled_once(tmp_path):
    from storage.db import Database
    db = Database(tmp_path / "o.db").start()
    try:
        handler = Pushing()
        one, two = (Receiver(db, handler, FixedClock(MONDAY), reply_timeout=4.5) for _ in range(2))
        m = Inbound(openid="o_twice", kind="text", created_at=int(MONDAY), text="一", msg_id="5500")
        replies = await _one_batch(db, lambda: [one.receive(m), two.receive(m)])
        assert [r.text for r in replies] == ["收到：一", "收到：一"]
        assert db.redone == 1  # both handled optimistically; the second insert found the first: run again
        assert await db.run(lambda d: d.execute("SELECT count(*) FROM outbox").fetchone()[0]) == 1
        assert await db.run(lambda d: d.execute("SELECT count(*) FROM inbound").fetchone()[0]) == 1
    finally:
        db.close()


async def test_a_signed_request_replayed_through_another_process_is_refused_in_a_batch(tmp_path):
    from storage.db import Database
    db = Database(tmp_path / "r.db").start()
    try:
        first, second = (Receiver(db, Handler(), FixedClock(MONDAY), reply_timeout=4.5) for _ in range(2))
        request = request_key(int(MONDAY), "captured")
        await first.receive(Inbound(openid="o_a", kind="text", created_at=1, text="原话", msg_id="1"), request)
        replayed = Inbound(openid="o_b", kind="text", created_at=2, text="换了的话", msg_id="2")
        fresh = Inbound(openid="o_c", kind="text", created_at=3, text="别人的话", msg_id="3")
        out = await _one_batch(db, lambda: [second.receive(replayed, request),
                                            second.receive(fresh, request_key(int(MONDAY), "fresh"))])
        assert isinstance(out[0], inbound_store.Replay)
        assert out[1].text == "收到：别人的话"
        keys = await db.run(lambda d: [r[0] for r in d.execute("SELECT key FROM inbound ORDER BY key")])
        assert keys == ["wechat:msg:1", "wechat:msg:3"]  # the replayed message stored nothing
        assert db.redone == 1
    finally:
        db.close()


@pytest.fixture
async def store(tmp_path):
    from storage.db import Database
    db = Database(tmp_path / "w.db").start()
    yield db
    db.close()


async def _batch_of(db, *fns) -> list:
    return await _one_batch(db, lambda: [db.run_redoable(fn) for fn in fns])


def _stored(db, openid: str):
    """The person's row, its data as every reader reads it (json.loads: the text's form may be json's or orjson's)."""
    row = db.conn.execute("SELECT flow, state, data FROM conversations WHERE openid = ?", [openid]).fetchone()
    return row and (row[0], row[1], json.loads(row[2]))


async def test_a_conversation_row_written_meanwhile_by_other_sql_is_not_overwritten(store):
    def put(words):
        return lambda d: conversations.put(d, "o1", "intake", "describe", {"parts": [words]}, MONDAY, 1800)

    def raw(d):  # SQL that is not storage.conversations' (a tool, a future module) on the row waiting to be written
        d.execute("UPDATE conversations SET state = 'phone' WHERE openid = 'o1'")

    await store.run(put("第一句"))
    await _batch_of(store, put("第二句"), raw)
    assert store.redone == 1  # the pending row would have overwritten it: run again, each write at once
    assert await store.run(_stored, "o1") == ("intake", "phone", {"parts": ["第二句"]})


def test_only_the_storage_modules_write_behind_for_touch_their_tables_on_the_writer():
    # What waits for the batch's end is right for every read through its module (the memories answer them);
    # a statement elsewhere would read the file before it is written. Besides the schema's migrations and the
    # media prune (it runs in a job's call, after the batch's writes), no other module's SQL names these tables;
    # of users, only last_seen_at waits (the staff list reads it on a page's reader, after the commit).
    import pathlib
    import re
    root = pathlib.Path(__file__).resolve().parents[1]
    own = {"conversations": {"storage/conversations.py", "storage/media.py"},
           "webhook_requests": {"storage/inbound.py"}, "inbound": {"storage/inbound.py"},
           "last_seen_at": {"storage/users.py", "storage/staff.py"}}
    sql = re.compile(r"(?:FROM|INTO|UPDATE|JOIN)\s+(conversations|webhook_requests|inbound)\b"
                     r"|u\.(last_seen_at)|(last_seen_at)\s+FROM\s+users|users\s+SET\s+(last_seen_at)")
    found: dict[str, set[str]] = {}
    for path in [*root.glob("storage/*.py"), *root.glob("handlers/**/*.py"), *root.glob("bot/**/*.py")]:
        name = str(path.relative_to(root))
        if name == "storage/migrations.py" or "/sandbox/" in name:
            continue
        for groups in sql.findall(path.read_text(encoding="utf-8")):
            found.setdefault(next(g for g in groups if g), set()).add(name)
    assert {"conversations", "inbound", "last_seen_at"} <= set(found)  # (the scan sees the modules' own SQL)
    for table, modules in found.items():
        assert modules <= own[table], (table, modules - own[table])
    # a person's language and welcome wait too (with the touch): read and written only through storage/users.py
    settings = re.compile(r"u\.(lang|welcomed_at)\b|\b(lang|welcomed_at)\s+FROM\s+users|users\s+SET\s+[^\"]*?\b"
                          r"(lang|welcomed_at)\s*=|SELECT\s+(\*)\s+FROM\s+users\b|INTO\s+users\s*\([^)]*\b(lang|welcomed_at)\b")
    named: dict[str, set[str]] = {}
    for path in [*root.glob("storage/*.py"), *root.glob("handlers/**/*.py"), *root.glob("bot/**/*.py")]:
        name = str(path.relative_to(root))
        if name == "storage/migrations.py" or "/sandbox/" in name:
            continue
        for groups in settings.findall(path.read_text(encoding="utf-8")):
            named.setdefault(next(g for g in groups if g), set()).add(name)
    assert {"lang", "welcomed_at", "*"} <= set(named)  # (the scan sees users.py's own SQL)
    assert all(modules == {"storage/users.py"} for modules in named.values()), named


async def test_a_conversation_put_then_deleted_or_read_back_in_one_batch(store):
    def put(openid, words):
        return lambda d: conversations.put(d, openid, "intake", "describe", {"parts": [words]}, MONDAY, 1800)

    def edit_without_storing(d):  # a step that edits the draft it was handed and ends without put
        conversations.read(d, "o2")[2]["parts"].append("没存的话")

    read = []
    await _batch_of(store, put("o1", "删掉的"), lambda d: conversations.delete(d, "o1"),
                    put("o2", "留下的"), edit_without_storing, lambda d: read.append(conversations.read(d, "o2")))
    assert store.redone == 0
    assert await store.run(_stored, "o1") is None
    assert read[0][2] == {"parts": ["留下的"]}  # the file's row (written first), not the unstored edit
    assert await store.run(_stored, "o2") == ("intake", "describe", {"parts": ["留下的"]})


async def test_a_touch_waiting_for_the_batch_end_is_in_the_row_read_meanwhile(store):
    await store.run(lambda d: users.touch(d, "o1", MONDAY))
    await store.run(users.get, "o1")  # remembered
    seen = []
    await _batch_of(store, lambda d: users.touch(d, "o1", MONDAY + 60),
                    lambda d: d.execute("UPDATE users SET name = '张' WHERE openid = 'o1'"),  # forgets the row
                    lambda d: seen.append(users.get(d, "o1")["last_seen_at"]))
    assert store.redone == 0
    assert seen == [MONDAY + 60]
    assert await store.run(lambda d: d.execute("SELECT last_seen_at, name FROM users").fetchall()) == \
        [(MONDAY + 60, "张")]


async def test_a_touched_person_is_read_back_from_the_touch_as_select_gives_the_row(store, monkeypatch):
    """A new person's first message: touch's upsert gives the row, so the handling's `get` reads nothing; the row
    must be what SELECT * gives (a REAL column's whole numbers as floats), also for a person known to the file
    but not remembered (the upsert's update: welcomed and with a language, times stored as whole numbers)."""
    await store.run(lambda d: d.execute(
        "INSERT INTO users (openid, first_seen_at, last_seen_at, welcomed_at, lang) VALUES ('o_old', 100, 100, 100, 'en')"))
    monkeypatch.setattr(users.Cache, "verify", False)  # (the tests' check reads the row on every hit: compared below)

    def touch_then_get(d, openid, now):
        traced: list[str] = []
        users.touch(d, openid, now)
        d.conn.set_trace_callback(traced.append)
        try:
            row = users.get(d, openid)
        finally:
            d.conn.set_trace_callback(None)
        stored = users._select(d, openid)
        return row, stored, traced

    for openid, now in (("o_new", int(MONDAY)), ("o_new", MONDAY + 0.5), ("o_old", 200)):
        row, stored, traced = await store.run(touch_then_get, openid, now)
        assert traced == []
        assert [(k, type(v), v) for k, v in row.items()] == [(k, type(v), v) for k, v in stored.items()]
    assert row["last_seen_at"] == 200.0 and row["welcomed_at"] == 100.0 and row["lang"] == "en"


async def test_a_new_persons_language_and_welcome_wait_for_the_touchs_write_and_store_the_same(make_config, tmp_path):
    """A new person's first message set their language and their welcome with an UPDATE each, after the touch's
    insert; in an optimistic batch both wait for the touch's write at the batch's end (one UPDATE with it). The
    rows and replies are the same as when each is written at once; English then Chinese, a follow (set_scene,
    this module's own statement on the row) after a language in the same batch, and a role set by other SQL
    while they wait (the batch is run again, the careful way) included."""
    def messages(base: int) -> list[Inbound]:
        said = [("o_en", "I want to complain about homework"), ("o_zh", "你好"), ("o_en", "孩子作业太多了"),
                ("o_zh2", "学校门口很乱"), ("o_en2", "hello"), ("o_zh", "作业有点多")]
        return [Inbound(openid=o, kind="text", created_at=int(MONDAY) + n, text=t, msg_id=str(base + n))
                for n, (o, t) in enumerate(said)]

    async def feed(path, at_once: bool):
        clock = FixedClock(MONDAY)
        async with running(create_app(make_config(storage={"path": str(path)}), clock=clock)) as app:
            await _alone_on_the_writer(app)
            db, receiver = app[DB], app[RECEIVER]
            call = db.run if at_once else db.run_redoable
            traced: list[str] = []
            await db.run(lambda d: d.conn.set_trace_callback(traced.append))
            out = []
            for round_, base in enumerate((4_400_000, 4_500_000)):
                clock.advance(7)
                out += await _one_batch(db, lambda b=base: [
                    call(receiver._claim_and_handle, m.dedupe_key, m, _Answer(passive_ok=True), None,
                         request_key(int(MONDAY), f"s{m.msg_id}")) for m in messages(b)])
            # a language waiting, then a follow (set_scene) and other SQL on the row, in one batch
            out += await _one_batch(db, lambda: [
                call(lambda d: users.set_lang(d, "o_zh2", "en", clock.now() + 1)),
                call(lambda d: users.set_scene(d, "o_zh2", "school:1", clock.now() + 2)),
                call(lambda d: users.set_lang(d, "o_en2", "zh", clock.now() + 3)),
                call(lambda d: d.execute("UPDATE users SET name = '王' WHERE openid = 'o_en2'").rowcount)])
            await db.run(lambda d: d.conn.set_trace_callback(None))
            return out, await db.run(_tables), traced, db.redone

    later, later_rows, traced, redone = await feed(tmp_path / "later.db", at_once=False)
    once, once_rows, _, _ = await feed(tmp_path / "once.db", at_once=True)
    assert later == once
    for table in TABLES:
        assert later_rows[table] == once_rows[table], table
    people = {r[1]: r for r in later_rows["users"]}
    assert people["o_en"][-2] == "zh" and people["o_en2"][-2] == "zh" and people["o_zh2"][-2] == "en"
    assert all(r[-3] is not None for r in later_rows["users"])  # every one welcomed
    assert redone == 1  # only the batch where other SQL changed a row whose language waited
    # the first two batches: no language or welcome set while the messages were handled, only at the end
    start = traced.index("SAVEPOINT batch")  # (SQLite traces a statement again for each trigger step: one)
    first = [s for n, s in enumerate(traced[start:traced.index("COMMIT", start)]) if not n or s != traced[start + n - 1]]
    end = next(n for n, s in enumerate(first) if s.startswith("INSERT INTO webhook_requests"))
    assert sum(s.startswith("INSERT INTO users") for s in first[:end]) == 4  # the new people's touches
    assert not any("lang = " in s or "welcomed_at = " in s for s in first[:end])
    settings = [s for s in first[end:] if s.startswith("UPDATE users SET last_seen_at = max(") and
                ("lang = " in s or "welcomed_at = " in s)]
    assert len(settings) == 4 and sum("lang = " in s and "welcomed_at = " in s for s in settings) >= 3
