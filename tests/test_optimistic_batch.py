"""The writer runs the receiver's messages without per-message savepoints and writes each inbound row once
(storage/db.py: optimistic batches). When one message of a batch raises, the batch is run again the careful way:
the others are stored and answered, the bad one is recorded as failed, and nothing is done twice."""
from __future__ import annotations

import asyncio
import threading

import pytest

from bot.receiver import Receiver
from handlers import texts
from handlers.clock import FixedClock
from handlers.messages import Inbound, Reply
from storage import inbound as inbound_store
from storage.db import Database

T0 = 1_800_000_000.0


class Handler:
    """Writes a row for each message it handles (so a rolled-back handling shows), pushes a copy to a member of
    staff (an outbox row: a second handling would show as a second row), and raises for the text 'bad'."""

    def __init__(self):
        self.calls: dict[str, int] = {}

    def __call__(self, db, inbound: Inbound) -> list[Reply]:
        self.calls[inbound.text] = self.calls.get(inbound.text, 0) + 1
        db.execute("INSERT INTO webhook_requests (key, message) VALUES (?, ?)", [f"h:{inbound.text}", inbound.text])
        if inbound.text == "bad":
            raise ValueError("a bug in the handling")
        return [Reply(f"收到：{inbound.text}"), Reply(f"转告：{inbound.text}", to="o_staff")]


@pytest.fixture
async def store(tmp_path):
    db = Database(tmp_path / "o.db").start()
    yield db
    db.close()


def _msg(n: int, text: str) -> Inbound:
    return Inbound(openid=f"o_{n % 3}", kind="text", created_at=int(T0), text=text, msg_id=str(9000 + n))


async def _one_batch(db: Database, make) -> list:
    """Hold the writer thread, queue what `make()` starts, then let it go: the calls queued meanwhile are run as
    one batch. Returns the started tasks' outcomes (results or exceptions)."""
    entered, gate = threading.Event(), threading.Event()

    def blocker(_db):
        entered.set()
        gate.wait(10)

    held = asyncio.ensure_future(db.run(blocker))
    while not entered.is_set():
        await asyncio.sleep(0.005)
    tasks = [asyncio.ensure_future(c) for c in make()]
    await asyncio.sleep(0.05)  # every task has put its call in the queue
    commits = db.commits
    gate.set()
    await held
    out = await asyncio.gather(*tasks, return_exceptions=True)
    assert db.commits == commits + 2, "the held call's batch and one more"
    return out


def _rows(db, sql: str, *args) -> list:
    return [tuple(r) for r in db.execute(sql, list(args)).fetchall()]


async def test_one_message_raising_leaves_the_others_of_its_batch_stored_and_answered(store):
    handler = Handler()
    receiver = Receiver(store, handler, FixedClock(T0), reply_timeout=4.5)
    words = ["一", "二", "bad", "三", "四"]
    replies = await _one_batch(store, lambda: [receiver.receive(_msg(i, w)) for i, w in enumerate(words)])
    assert [r.text for r in replies] == ["收到：一", "收到：二", texts.INTERNAL_ERROR, "收到：三", "收到：四"]
    assert store.redone == 1
    inbound = await store.run(_rows, "SELECT key, status, reply IS NOT NULL FROM inbound ORDER BY key")
    assert inbound == sorted((_msg(i, w).dedupe_key, "done", 1) for i, w in enumerate(words))
    failures = await store.run(inbound_store.list_failures)
    assert [f["key"] for f in failures] == [_msg(2, "bad").dedupe_key]
    assert "ValueError" in failures[0]["error"]
    # The bad handling's own write is undone; every good one's is there once, and each push is queued once.
    written = await store.run(_rows, "SELECT message FROM webhook_requests WHERE key LIKE 'h:%' ORDER BY message")
    assert sorted(w for (w,) in written) == sorted(["一", "二", "三", "四"])
    pushes = await store.run(_rows, "SELECT payload FROM outbox WHERE openid = 'o_staff'")
    assert len(pushes) == 4
    # Those before the bad one were handled in the optimistic run (undone) and in the careful one; the bad one's
    # handling was tried once (its failure is not tried again by the redo: a retry comes later, counted).
    assert handler.calls == {"一": 2, "二": 2, "bad": 1, "三": 1, "四": 1}


async def test_a_retry_of_a_stored_message_in_a_later_batch_gets_the_stored_reply_and_is_not_handled_again(store):
    handler = Handler()
    receiver = Receiver(store, handler, FixedClock(T0), reply_timeout=4.5)
    first = await receiver.receive(_msg(1, "一"))
    assert first.text == "收到：一" and store.redone == 0
    # WeChat's retry after the answer was lost, in a batch with someone else's new message.
    again, other = await _one_batch(store, lambda: [receiver.receive(_msg(1, "一")), receiver.receive(_msg(2, "二"))])
    assert again.text == "收到：一" and other.text == "收到：二"
    assert store.redone == 1  # the retry's row was there: the batch ran again with the claim first
    pushes = await store.run(_rows, "SELECT payload FROM outbox WHERE openid = 'o_staff' ORDER BY id")
    assert [p for (p,) in pushes] == ['{"content": "转告：一"}', '{"content": "转告：二"}']
    assert await store.run(_rows, "SELECT count(*) FROM inbound") == [(2,)]


async def test_the_common_path_writes_the_inbound_row_once_without_savepoints(store):
    receiver = Receiver(store, Handler(), FixedClock(T0), reply_timeout=4.5)
    statements: list[str] = []
    await store.run(lambda d: d.conn.set_trace_callback(statements.append))
    reply = await receiver.receive(_msg(1, "一"))
    await store.run(lambda d: d.conn.set_trace_callback(None))
    assert reply.text == "收到：一"
    first = statements.index("COMMIT")  # (the batches that set and unset the trace are not the message's)
    statements = statements[first + 1:statements.index("COMMIT", first + 1) + 1]
    on_inbound = [s for s in statements if "inbound" in s.split("(")[0]]
    assert len(on_inbound) == 1 and on_inbound[0].startswith("INSERT INTO inbound"), statements
    assert not [s for s in statements if s.startswith(("SAVEPOINT sp", "RELEASE sp"))], statements
    assert await store.run(_rows, "SELECT status, deferred, reply FROM inbound") == [
        ("done", 0, '{"text": "收到：一", "to": null, "extra": {}}')]


async def test_a_plain_call_in_a_batch_of_messages_keeps_its_own_savepoint(store):
    receiver = Receiver(store, Handler(), FixedClock(T0), reply_timeout=4.5)

    def failing(db):
        db.execute("INSERT INTO webhook_requests (key, message) VALUES ('plain', 'x')")
        raise LookupError("no such ticket")

    out = await _one_batch(store, lambda: [receiver.receive(_msg(1, "一")), store.run(failing),
                                           receiver.receive(_msg(2, "二"))])
    assert out[0].text == "收到：一" and out[2].text == "收到：二"
    assert isinstance(out[1], LookupError)
    assert store.redone == 0  # its failure is its own savepoint's: the messages were not run again
    assert await store.run(_rows, "SELECT count(*) FROM webhook_requests WHERE key = 'plain'") == [(0,)]
    assert await store.run(_rows, "SELECT count(*) FROM inbound WHERE status = 'done'") == [(2,)]


async def test_a_redoable_call_that_raises_gets_its_error_and_its_writes_are_undone(store):
    receiver = Receiver(store, Handler(), FixedClock(T0), reply_timeout=4.5)

    def failing(db):
        db.execute("INSERT INTO webhook_requests (key, message) VALUES ('redoable', 'x')")
        raise LookupError("refused")

    out = await _one_batch(store, lambda: [receiver.receive(_msg(1, "一")), store.run_redoable(failing),
                                           receiver.receive(_msg(2, "二"))])
    assert out[0].text == "收到：一" and out[2].text == "收到：二"
    assert isinstance(out[1], LookupError)
    assert store.redone == 1
    assert await store.run(_rows, "SELECT count(*) FROM webhook_requests WHERE key = 'redoable'") == [(0,)]
    assert await store.run(_rows, "SELECT count(*) FROM outbox WHERE openid = 'o_staff'") == [(2,)]


async def test_the_conversation_memory_forgets_what_a_redone_batch_had_stored(store):
    """A handling that stored a conversation, then a neighbour's bug sends the batch round again: the memory must
    not answer the state of the undone run (the careful run writes it again, once)."""
    from storage import conversations

    def handle(db, inbound: Inbound) -> list[Reply]:
        if inbound.text == "bad":
            raise ValueError("a bug")
        conv = conversations.get(db, inbound.openid, T0)
        step = (conv["data"]["n"] + 1) if conv else 1
        conversations.put(db, inbound.openid, "intake", "ask", {"n": step}, T0, 3600)
        return [Reply(f"第{step}步")]

    receiver = Receiver(store, handle, FixedClock(T0), reply_timeout=4.5)
    out = await _one_batch(store, lambda: [
        receiver.receive(Inbound(openid="o_a", kind="text", created_at=int(T0), text="一", msg_id="1")),
        receiver.receive(Inbound(openid="o_b", kind="text", created_at=int(T0), text="bad", msg_id="2"))])
    assert [r.text for r in out] == ["第1步", texts.INTERNAL_ERROR]
    nxt = await receiver.receive(Inbound(openid="o_a", kind="text", created_at=int(T0), text="二", msg_id="3"))
    assert nxt.text == "第2步"
