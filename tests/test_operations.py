"""Operations: a long WeChat API outage delays notices but loses none; /healthz says when the database cannot be
written or delivery is stuck; a message whose handling raised is retried, then flagged for staff."""
from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import time
from pathlib import Path

import pytest
from aiohttp import web

from bot import cli
from bot.app import API, DB, SENDER, create_app
from bot.receiver import Receiver
from bot.sandbox.platform import Sandbox
from handlers import texts
from handlers.clock import FixedClock
from handlers.messages import Inbound, Reply
from storage import inbound as inbound_store
from storage import outbox, staff
from storage.db import Database
from tests import wx
from tests.conftest import write_cli_config

T0 = 1_800_000_000.0


@pytest.fixture
async def platform(aiohttp_server):
    clock = FixedClock(T0)
    sandbox = Sandbox(wx.TOKEN, wx.AES_KEY, wx.APPID, "secret", "http://127.0.0.1:9/wechat", clock=clock.now)
    app = web.Application()
    sandbox.add_routes(app)
    server = await aiohttp_server(app)
    return sandbox, str(server.make_url("")), clock


@pytest.mark.slow
async def test_two_hour_api_outage_delays_every_notice_and_loses_none(platform, aiohttp_client, make_config,
                                                                        caplog):
    sandbox, base, clock = platform
    config = make_config(wechat={"api_base": base}, outbox={"backoff_base_seconds": 2.0,
                                                            "backoff_max_seconds": 600.0, "stuck_minutes": 30})
    client = await aiohttp_client(create_app(config, clock=clock))
    app = client.app
    db, sender = app[DB], app[SENDER]
    await sender.stop()  # driven by hand, in simulated time
    queued = 60  # thirty people, two each; more than the sender's default batch (what counts is that none is lost)
    for i in range(queued):
        sandbox.follow(f"o_out{i % 30}")
    await db.run(lambda d: [outbox.enqueue_text(d, f"o_out{i % 30}", f"通知{i}", clock.now()) for i in range(queued)])
    assert (await client.get("/healthz")).status == 200

    sandbox.outage = True
    caplog.set_level(logging.ERROR, logger="bot.outbox")
    attempts = 0
    while clock.now() < T0 + 2 * 3600:  # two hours of outage, in steps of 30 s
        attempts += await sender.send_due(limit=1000)
        if clock.now() >= T0 + 3600 and not any(r.name == "bot.outbox" for r in caplog.records):
            await sender.check()
        clock.advance(30)
    assert sandbox.messages() == []
    assert attempts > queued * 10  # it kept trying all along...
    assert await db.run(lambda d: d.execute("SELECT count(*) FROM outbox WHERE status = 'pending'").fetchone()[0]) \
        == queued  # ...and nothing was given up
    health = await client.get("/healthz")
    body = await health.json()
    assert health.status == 503 and not body["ok"] and "delivery stuck" in body["alerts"][0]
    assert any("ALERT outbox" in r.getMessage() and "delivery stuck" in r.getMessage() for r in caplog.records)

    sandbox.outage = False  # the platform is back: within the longest backoff everything goes out
    clock.advance(600 * 1.2 + 1)
    while await sender.send_due(limit=1000):
        pass
    delivered = len(sandbox.messages())
    print(f"\nAPI outage of 2 h (simulated clock): notices queued {queued}, delivered after recovery {delivered}, "
          f"attempts during the outage {attempts}")
    assert delivered == queued
    assert sorted(m.content for m in sandbox.messages()) == sorted(f"通知{i}" for i in range(queued))
    assert (await client.get("/healthz")).status == 200


async def test_permanent_error_ends_the_row_with_its_reason_and_can_be_retried(platform, aiohttp_client,
                                                                               make_config, capsys):
    sandbox, base, clock = platform
    config = make_config(wechat={"api_base": base})
    client = await aiohttp_client(create_app(config, clock=clock))
    db, sender = client.app[DB], client.app[SENDER]
    await sender.stop()
    # Never followed: 40003 invalid openid. Permanent, so tried once and ended.
    row = await db.run(outbox.enqueue_text, "o_stranger", "您好", clock.now())
    await sender.send_due()
    failed = await db.run(outbox.list_rows, ("failed",))
    assert [(r["id"], r["attempts"]) for r in failed] == [(row, 1)] and failed[0]["last_error"].startswith("40003")
    body = await (await client.get("/healthz")).json()
    assert body["ok"] and any("failed for good" in a for a in body["alerts"])

    # The CLI lists it with its reason and queues it again.
    cfg = _cli_config(config)
    assert cli.main(["outbox", "list", "--state", "failed", "--config", cfg]) == 0
    out = capsys.readouterr().out
    assert f"#{row}\tfailed\to_stranger" in out and "40003" in out
    assert cli.main(["outbox", "retry", "--config", cfg]) == 2  # neither an id nor --all-failed
    assert cli.main(["outbox", "retry", str(row), "--config", cfg]) == 0
    sandbox.follow("o_stranger")
    clock.at = time.time()
    await sender.send_due()
    assert [m.content for m in sandbox.messages("o_stranger")] == ["您好"]


@pytest.mark.slow
async def test_a_sent_notice_is_recorded_even_if_the_database_is_locked_meanwhile(platform, aiohttp_client,
                                                                                  make_config, tmp_path,
                                                                                  monkeypatch):
    sandbox, base, clock = platform
    monkeypatch.setattr("bot.outbox.RECORD_RETRY_SECONDS", 0.05, raising=False)
    config = make_config(wechat={"api_base": base}, storage={"lock_wait_seconds": 0.2})
    client = await aiohttp_client(create_app(config, clock=clock))
    db, api, sender = client.app[DB], client.app[API], client.app[SENDER]
    await sender.stop()
    sandbox.follow("o_once")
    await api.access_token()  # cached before the lock, as it usually is
    await db.run(outbox.enqueue_text, "o_once", "只发一次", clock.now())
    holder = None
    real_send = api.send_text

    async def send_then_lock(openid, content):  # another process takes the lock while the API call is out
        nonlocal holder
        result = await real_send(openid, content)
        holder = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
        holder.execute("BEGIN IMMEDIATE")
        return result
    monkeypatch.setattr(api, "send_text", send_then_lock)
    sending = asyncio.create_task(sender.send_due())
    deadline = time.monotonic() + 60
    while holder is None and time.monotonic() < deadline:  # the API call back (a loaded machine: past 1 s)
        await asyncio.sleep(0.01)
    await asyncio.sleep(1.0)  # several of the writer's lock waits
    holder.rollback()
    holder.close()
    await sending
    clock.advance(outbox.CLAIM_SECONDS + 1)
    assert await sender.send_due() == 0
    assert [m.content for m in sandbox.messages("o_once")] == ["只发一次"]


def _cli_config(config) -> str:
    return str(write_cli_config(Path(config.storage.path).parent / "cli.toml", config.storage.path))


async def test_healthz_is_503_while_another_process_holds_the_write_lock(bot, tmp_path, monkeypatch):
    monkeypatch.setattr("bot.app.HEALTH_WRITE_SECONDS", 0.3)
    resp = await bot.get("/healthz")
    assert resp.status == 200 and (await resp.json())["database"] == "ok"
    holder = sqlite3.connect(tmp_path / "t.db", isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        resp = await bot.get("/healthz")
        body = await resp.json()
        assert resp.status == 503 and not body["ok"] and "write lock" in body["database"]
    finally:
        holder.rollback()
        holder.close()
    assert (await bot.get("/healthz")).status == 200


async def test_healthz_is_503_when_the_database_cannot_be_written(bot):
    assert (await bot.get("/healthz")).status == 200
    # What a read-only file or a full disk does to the writer's connection: every write fails.
    await bot.app[DB].run(lambda db: db.execute("PRAGMA query_only = 1"))
    resp = await bot.get("/healthz")
    body = await resp.json()
    assert resp.status == 503 and "cannot be written" in body["database"] and "readonly" in body["database"]
    bot.app[DB]._db.conn.execute("PRAGMA query_only = 0")  # the writer cannot run it: every batch begins a write
    assert (await bot.get("/healthz")).status == 200


# --- a message whose handling raised -----------------------------------------------------------------------------

class Flaky:
    """A handler with a bug for some messages, fixed after `failures` tries."""

    def __init__(self, failures: int):
        self.failures = failures
        self.calls = 0

    def __call__(self, db, inbound: Inbound) -> list[Reply]:
        self.calls += 1
        if self.calls <= self.failures:
            raise ValueError("invalid literal for int() with base 10: '፩'")
        return [Reply(f"已收到：{inbound.text}")]


@pytest.fixture
async def store(tmp_path):
    db = Database(tmp_path / "r.db").start()
    yield db
    db.close()


def _inbound(text: str = "待办 ፩") -> Inbound:
    return Inbound(openid="o_unlucky", kind="text", created_at=int(T0), text=text, msg_id="424242")


async def test_failed_handling_is_kept_and_retried_until_it_works(store):
    clock = FixedClock(T0)
    handler = Flaky(failures=2)
    receiver = Receiver(store, handler, clock, reply_timeout=1.0, duty_office="jyj-bgs")
    reply = await receiver.receive(_inbound())
    assert reply.text == texts.INTERNAL_ERROR  # the apology, answered at once
    failures = await store.run(inbound_store.list_failures)
    assert [(f["state"], f["attempts"]) for f in failures] == [("retrying", 1)]
    assert "ValueError" in failures[0]["error"]
    assert await receiver.retry_failed() == 0  # not due yet
    clock.advance(inbound_store.RETRY_DELAYS[0])
    assert await receiver.retry_failed() == 1  # fails again
    assert await store.run(outbox.list_for, "o_unlucky") == []
    clock.advance(inbound_store.RETRY_DELAYS[1])
    assert await receiver.retry_failed() == 1  # works now: the answer is pushed
    assert [json.loads(r["payload"])["content"] for r in await store.run(outbox.list_for, "o_unlucky")] \
        == ["已收到：待办 ፩"]
    assert await store.run(inbound_store.list_failures) == []
    assert [f["state"] for f in await store.run(inbound_store.list_failures, ("resolved",))] == ["resolved"]
    clock.advance(10_000)
    assert await receiver.retry_failed() == 0 and handler.calls == 3


async def failed_for_good(store, text: str) -> tuple[FixedClock, Receiver]:
    """A message whose handling fails every retry (the duty office, 局办公室, has one handler, o_duty): after the
    last retry it is flagged and the duty office told. Returns the test's clock and the receiver."""
    clock = FixedClock(T0)
    await store.run(lambda db: db.execute(
        "INSERT INTO units (code, name, kind) VALUES ('jyj-bgs', '局办公室', 'office')"))
    await store.run(staff.bind, "o_duty", "jyj-bgs", "handler", "办公室·王老师", T0)
    receiver = Receiver(store, Flaky(failures=10 ** 6), clock, reply_timeout=1.0, duty_office="jyj-bgs")
    await receiver.receive(_inbound(text))
    for delay in inbound_store.RETRY_DELAYS:
        clock.advance(delay)
        await receiver.retry_failed()
    return clock, receiver


async def test_a_message_that_always_fails_is_flagged_and_the_duty_office_told_once(store, capsys, tmp_path):
    clock, receiver = await failed_for_good(store, "我要投诉食堂")
    flagged = await store.run(inbound_store.list_failures)
    assert [(f["state"], f["attempts"]) for f in flagged] == [("flagged", 1 + len(inbound_store.RETRY_DELAYS))]
    notes = await store.run(outbox.list_for, "o_duty")
    assert len(notes) == 1 and "我要投诉食堂" in json.loads(notes[0]["payload"])["content"]
    clock.advance(86400)
    assert await receiver.retry_failed() == 0  # flagged: no more tries, no second notice
    assert len(await store.run(outbox.list_for, "o_duty")) == 1
    assert await store.run(inbound_store.flagged_since, T0 - 1) == 1  # /healthz lists it among its alerts

    cfg = write_cli_config(tmp_path / "cli.toml", tmp_path / "r.db")
    store.close()
    assert cli.main(["inbound", "failed", "--config", str(cfg)]) == 0
    out = capsys.readouterr().out
    assert "wechat:msg:424242\tflagged\to_unlucky" in out and "ValueError" in out
    assert cli.main(["inbound", "retry", "wechat:msg:424242", "--config", str(cfg)]) == 0
    assert cli.main(["inbound", "resolve", "wechat:msg:1", "--config", str(cfg)]) == 1
    store.start()
    assert [f["state"] for f in await store.run(inbound_store.list_failures)] == ["retrying"]
    store.close()
    assert cli.main(["inbound", "resolve", "wechat:msg:424242", "--config", str(cfg)]) == 0  # answered by hand
    store.start()
    assert await store.run(inbound_store.list_failures) == []


async def test_healthz_queries_use_indexes_only(store):
    """The figures /healthz reads cost O(log n): no scan of the outbox or of the failures, whatever their size."""
    from bot.app import _heartbeat
    statements = []
    await store.run(lambda db: db.conn.set_trace_callback(statements.append))
    await store.run(_heartbeat, T0, T0 - 86400)
    await store.run(lambda db: db.conn.set_trace_callback(None))
    selects = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    assert len(selects) == 3
    for sql in selects:
        plan = " ".join(r[3] for r in await store.run(lambda db: db.execute("EXPLAIN QUERY PLAN " + sql).fetchall()))
        assert "USING INDEX" in plan and "SCAN outbox" not in plan and "SCAN inbound_failures" not in plan, plan


class _Gated:
    """A handler that waits (on the writer thread) until its message's gate opens."""

    def __init__(self):
        import threading
        self.gates: dict[str, "threading.Event"] = {}
        self.threading = threading

    def gate(self, text: str):
        return self.gates.setdefault(text, self.threading.Event())

    def __call__(self, db, inbound: Inbound) -> list[Reply]:
        if inbound.text.startswith("slow"):
            assert self.gate(inbound.text).wait(10)
        return [Reply(f"已收到：{inbound.text}")]


async def test_waits_share_one_timer_and_a_wait_that_runs_out_leaves_the_handling_going(store, tmp_path):
    """Forty messages in flight at once are answered passively without a timer each (one timer serves every
    wait); a slow one gets 'success' (None) at reply_timeout, spooled, while its handling goes on, and its reply
    is pushed once when the handling ends."""
    from storage.spool import Spool
    handler = _Gated()
    # The forty are answered passively however long a loaded machine takes over them (at reply_timeout=0.3 a
    # starved batch answered some 'success'); the slow one's wait is then made short.
    receiver = Receiver(store, handler, FixedClock(T0), reply_timeout=60, spool=Spool(tmp_path / "spool"))
    loop = asyncio.get_running_loop()
    armed = []
    call_at = loop.call_at

    def counting_call_at(when, callback, *args, **kwargs):
        armed.append(when)
        return call_at(when, callback, *args, **kwargs)

    def msg(i: int, text: str) -> Inbound:
        return Inbound(openid=f"o_wait{i}", kind="text", created_at=int(T0), text=text, msg_id=str(7000 + i))

    loop.call_at = counting_call_at
    try:
        fast = await asyncio.gather(*(receiver.receive(msg(i, f"fast {i}")) for i in range(1, 41)))
        assert [r.text for r in fast] == [f"已收到：fast {i}" for i in range(1, 41)]
        assert len(armed) <= 2, armed  # not one per message
        receiver.reply_timeout = 0.3
        started = time.monotonic()
        assert await receiver.receive(msg(0, "slow one")) is None  # 'success' at reply_timeout...
        assert time.monotonic() - started >= 0.25  # at reply_timeout, the handling held at its gate meanwhile
        handler.gate("slow one").set()  # ...and the handling, still going, pushes its reply, once
        deadline = time.monotonic() + 60  # (250 tries 0.02 s apart: too few for a loaded machine)
        while not await store.run(outbox.list_for, "o_wait0") and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        await receiver.drain_spool()  # the spooled copy finds it handled
        assert [json.loads(r["payload"])["content"] for r in await store.run(outbox.list_for, "o_wait0")] \
            == ["已收到：slow one"]
    finally:
        loop.call_at = call_at
        handler.gate("slow one").set()
        await receiver.stop()
