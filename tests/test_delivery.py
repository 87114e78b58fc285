"""Outbox, API client and recovery against the sandbox platform, over real HTTP."""
from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web

from bot.app import API, DB, SENDER, create_app
from bot.channels.wechat.api import WechatApi, WechatApiError
from bot.sandbox.platform import Sandbox
from handlers.clock import FixedClock
from storage import inbound, outbox, tokens
from storage.db import Database
from tests import wx
from tests.conftest import running


@pytest.fixture
async def sandbox_server(aiohttp_server):
    clock = FixedClock(1_800_000_000.0)
    sandbox = Sandbox(wx.TOKEN, wx.AES_KEY, wx.APPID, "secret", "http://127.0.0.1:9/wechat", clock=clock.now)
    app = web.Application()
    sandbox.add_routes(app)
    server = await aiohttp_server(app)
    return sandbox, server, clock


@pytest.fixture
async def db(tmp_path):
    database = Database(tmp_path / "d.db").start()
    yield database
    database.close()


async def test_one_shared_token_and_refresh_on_token_errors(sandbox_server, db):
    sandbox, server, clock = sandbox_server
    base = str(server.make_url(""))
    first = WechatApi(db, wx.APPID, "secret", base, clock)
    second = WechatApi(db, wx.APPID, "secret", base, clock)  # another worker process, same SQLite file
    try:
        t1 = await first.access_token()
        assert await second.access_token() == t1  # served from SQLite, not fetched again
        # The platform no longer accepts the cached token (e.g. someone refreshed it elsewhere): 40001,
        # the client drops it, fetches a fresh one and the call goes through.
        await db.run(tokens.put, wx.APPID, "bogus-token", 7200, clock.now())
        sandbox.follow("o_tok")
        await first.send_text("o_tok", "你好")
        assert [m.content for m in sandbox.messages("o_tok")] == ["你好"]
        assert await db.run(tokens.get, wx.APPID, clock.now()) != "bogus-token"
    finally:
        await first.close()
        await second.close()


async def test_wrong_secret_is_an_api_error(sandbox_server, db):
    _, server, clock = sandbox_server
    api = WechatApi(db, wx.APPID, "wrong", str(server.make_url("")), clock)
    try:
        with pytest.raises(WechatApiError) as err:
            await api.send_text("o", "x")
        assert err.value.errcode in (40001, 40125)
    finally:
        await api.close()


async def test_qrcode_and_template(sandbox_server, db):
    sandbox, server, clock = sandbox_server
    api = WechatApi(db, wx.APPID, "secret", str(server.make_url("")), clock)
    try:
        qr = await api.create_qrcode("school:jn-syxx")
        assert qr["ticket"] and qr["url"]
        sandbox.follow("o_tpl", at=clock.now() - 3 * 86400)  # outside the 48-hour window: template still works
        await api.send_template("o_tpl", "TPL1", {"first": {"value": "您的留言已受理"}})
        assert sandbox.messages("o_tpl")[0].kind == "template"
    finally:
        await api.close()


@pytest.fixture
async def bot_on_sandbox(sandbox_server, make_config):
    """The app with its API pointed at the sandbox, its outbox sender stopped so tests drive it by hand."""
    sandbox, server, clock = sandbox_server
    async with running(create_app(make_config(wechat={"api_base": str(server.make_url(""))}), clock=clock)) as app:
        await app[SENDER].stop()
        yield app


async def test_sender_delivers_waits_outside_window_and_retries(sandbox_server, bot_on_sandbox):
    sandbox, server, clock = sandbox_server
    app = bot_on_sandbox
    db, sender = app[DB], app[SENDER]
    sandbox.follow("o_in")
    sandbox.follow("o_out", at=clock.now() - 3 * 86400)  # last wrote three days ago: 45015
    await db.run(outbox.enqueue_text, "o_in", "第一条", clock.now())
    await db.run(outbox.enqueue_text, "o_out", "窗口外", clock.now())
    await db.run(outbox.enqueue_text, "o_in", "x" * 3000, clock.now())  # too long: permanent 45002
    await sender.send_due()
    assert [m.content for m in sandbox.messages("o_in")] == ["第一条"]
    states = {json.loads(r["payload"])["content"][:3]: r["status"]
              for r in await db.run(lambda d: list(d.query("SELECT * FROM outbox")))}
    assert states == {"第一条": "sent", "窗口外": "waiting", "xxx": "failed"}
    # The person writes to the account again: the held message is released and delivered.
    sandbox.follow("o_out")
    await db.run(inbound.claim, "k-out", "o_out", "text", "{}", clock.now())
    await sender.send_due()
    assert [m.content for m in sandbox.messages("o_out")] == ["窗口外"]


async def test_sender_backs_off_when_the_platform_is_unreachable(make_config):
    clock = FixedClock(1_800_000_000.0)
    app = create_app(make_config(wechat={"api_base": "http://127.0.0.1:9"}), clock=clock)
    runner = web.AppRunner(app)
    await runner.setup()
    try:
        db = app[DB]
        await app[SENDER].stop()  # drive it by hand
        item = await db.run(outbox.enqueue_text, "o_x", "hi", clock.now())
        await app[SENDER].send_due()
        row = await db.run(lambda d: dict(next(d.query("SELECT * FROM outbox WHERE id = ?", [item]))))
        assert row["status"] == "pending" and row["attempts"] == 1 and row["next_attempt_at"] > clock.now()
        assert "ClientConnectorError" in row["last_error"] or "Connect" in row["last_error"]
        assert await app[SENDER].send_due() == 0  # not due again until the backoff passes
    finally:
        await runner.cleanup()


async def test_unfinished_inbound_is_handled_after_restart(make_config, sandbox_server):
    sandbox, server, clock = sandbox_server
    config = make_config(wechat={"api_base": str(server.make_url(""))})
    # A message was accepted, then the process died before handling it.
    pre = Database(config.storage.path).start()
    payload = wx.parse_fields(wx.text_xml("o_crash", "帮助"))
    from bot.channels.wechat.webhook import to_inbound
    msg = to_inbound(payload)
    await pre.run(inbound.claim, msg.dedupe_key, msg.openid, msg.kind, msg.to_json(), clock.now() - 5)
    pre.close()
    sandbox.follow("o_crash")
    app = create_app(config, clock=clock)
    runner = web.AppRunner(app)
    await runner.setup()  # start-up recovers it; its reply can only be pushed now
    try:
        for _ in range(100):
            if sandbox.messages("o_crash"):
                break
            await asyncio.sleep(0.02)
        assert "查询" in sandbox.messages("o_crash")[0].content
        status = await app[DB].run(lambda d: d.execute("SELECT status FROM inbound").fetchone()[0])
        assert status == "done"
    finally:
        await runner.cleanup()


async def test_outside_the_window_a_template_goes_instead(sandbox_server, bot_on_sandbox):
    sandbox, server, clock = sandbox_server
    app = bot_on_sandbox
    db, sender = app[DB], app[SENDER]
    sandbox.follow("o_old", at=clock.now() - 3 * 86400)  # wrote three days ago: 45015 for custom messages
    template = {"template_id": "TPL-UPDATE", "url": None,
                "data": {"first": {"value": "留言已签收"}, "keyword1": {"value": "JY2611-0001"}}}
    await db.run(outbox.enqueue_text, "o_old", "您的留言已签收", clock.now(), "test", template)
    await sender.send_due()
    [message] = sandbox.messages("o_old")
    assert message.kind == "template"
    status = await db.run(lambda d: d.execute("SELECT status FROM outbox").fetchone()[0])
    assert status == "sent"


async def test_the_wechat_channel_renders_a_template_from_a_channel_neutral_notice(sandbox_server, make_config):
    """The core says who, which ticket, what happened; only the WeChat channel knows template fields. A staff
    notice also lands in the workbench's list (channel 'web'), which the WeChat sender never touches."""
    sandbox, server, clock = sandbox_server
    config = make_config(wechat={"api_base": str(server.make_url(""))},
                         notify={"staff_template_id": "TPL-STAFF", "citizen_template_id": "TPL-CITIZEN"})
    async with running(create_app(config, clock=clock)) as app:
        await app[SENDER].stop()
        db, sender = app[DB], app[SENDER]
        sandbox.follow("o_far", at=clock.now() - 3 * 86400)  # outside the 48-hour window
        notice = {"audience": "staff", "ticket": "JY2611-0007", "title": "新留言待签收", "state": "已转交承办单位",
                  "due": "11月25日"}
        await db.run(outbox.enqueue_replies, [{"text": "新留言 JY2611-0007", "to": "o_far",
                                               "extra": {"notice": notice}}], "", clock.now())
        assert await sender.send_due() == 1  # the web row is delivered already: not the sender's
        [message] = sandbox.messages("o_far")
        assert message.kind == "template" and message.extra["template_id"] == "TPL-STAFF"
        assert message.data["keyword1"]["value"] == "JY2611-0007" and message.data["first"]["value"] == "新留言待签收"
        [web_row] = await db.run(outbox.web_notices, "o_far")
        assert web_row["notice"] == notice and web_row["read_at"] is None
