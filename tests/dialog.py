"""Whole conversations in a few lines, through the sandbox's own endpoint (/sandbox/send), which speaks WeChat's
encrypted XML to the bot's /wechat over real HTTP; pushes are read back from /sandbox/messages.

    async def test_query(dialog):   # `dialog` is a fixture (registered in tests/conftest.py)
        number = await file_ticket(dialog, PARENT, "学校收资料费300元不给收据")
        await talk(dialog, PARENT, "查询 " + number.lower(), expect=["编号：" + number, "资料费"])
        await heard(dialog, STAFF, expect="新留言待签收")

The bot runs the demo configuration (its directory and bound staff, see bot/demo/staff.csv) with a clock the
test moves (`dialog.clock.advance(seconds)`); the scheduler is paused, `await dialog.sweep()` runs the watch.
"""
from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import re
import time
from typing import Any, Callable, Iterable
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.app import DB, DISPATCHER, MEDIA, RECEIVER, SENDER, create_app
from bot.demo import SANDBOX, demo_config
from handlers.clock import FixedClock
from tests.conftest import pause_jobs, running
from tests.test_process import held_port

TZ = ZoneInfo("Asia/Shanghai")
# Demo staff (bot/demo/staff.csv), named for what they do.
FEES = "o_demo_staff_sfc"          # 市教育局教育收费管理处, handler
DUTY = "o_demo_staff_bgs"          # 市教育局办公室（值班室）, handler
DISTRICT = "o_demo_staff_jn"       # 江南区教育局, handler
DISTRICT_HEAD = "o_demo_head_jn"   # 江南区教育局, supervisor
SCHOOL = "o_demo_staff_syxx"       # 江南区实验小学, handler
SCHOOL_HEAD = "o_demo_head_syxx"   # 江南区实验小学, supervisor
LEADER = "o_demo_leader"           # 市教育局, leader
NUMBER = re.compile(r"JY\d{4}-\d{4,}")


def at(text: str) -> float:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ).timestamp()


@dataclasses.dataclass
class Dialog:
    app: Any
    session: aiohttp.ClientSession
    clock: FixedClock
    seen: dict[str, int] = dataclasses.field(default_factory=dict)

    async def db(self, fn, *args, **kw):
        """Run a storage function on the bot's database (to arrange a case or check what was stored)."""
        return await self.app[DB].run(fn, *args, **kw)

    def advance(self, seconds: float) -> None:
        """Move time on. Everyone the sandbox knows stays within WeChat's 48-hour window, as people who use the
        account daily do (a test of the window itself uses the sandbox directly)."""
        self.clock.advance(seconds)
        sandbox = self.app[SANDBOX]
        for openid in list(sandbox._users):
            if sandbox._users[openid].following:
                sandbox.follow(openid)

    async def sweep(self) -> int:
        return await self.app[DB].run(self.app[DISPATCHER].sweep_tx)


def _check(text: str, expect: str | Iterable[str] | None, absent: str | Iterable[str] | None, what: str) -> None:
    for want in [expect] if isinstance(expect, str) else (expect or []):
        assert want in text, f"{what}: expected {want!r} in:\n{text}"
    for unwanted in [absent] if isinstance(absent, str) else (absent or []):
        assert unwanted not in text, f"{what}: did not expect {unwanted!r} in:\n{text}"


async def send(d: Dialog, openid: str, **payload) -> str:
    async with d.session.post("/sandbox/send", json={"openid": openid, **payload}) as resp:
        body = await resp.json()
    assert resp.status == 200 and body.get("error") is None, body
    if not body["reply"] and body.get("msg_id"):
        return await _pushed_reply(d, openid, body["msg_id"])
    return body["reply"] or ""


async def _pushed_reply(d: Dialog, openid: str, msg_id: str) -> str:
    """The reply a busy machine pushed: past reply_timeout the webhook answers 'success' (as WeChat requires) and
    the answer goes through the outbox (its inbound row `deferred`). Read as the passive reply would have been:
    the first part for the sender, as it reached them (in /sandbox/messages), taken off what heard() reads next.
    "" when the message had no reply at all."""
    # (bureau13) a wait cut short read a message still in hand as one with no reply: "" at load ~40
    assert await settle(d, openid, timeout=HANG_SECONDS), f"{openid}: message {msg_id} still in hand after a hang"

    def first_part(db):
        row = db.execute("SELECT key, deferred FROM inbound WHERE key LIKE ?", [f"%:msg:{msg_id}"]).fetchone()
        if row is None or not row[1]:
            return None
        # Every way the answer is pushed: with its handling; by the spool's drain, when the handling had kept it for
        # a passive answer that never left (storage.inbound.push_undelivered); by a retry of a failed handling.
        sources = [f"{how}:{row[0]}" for how in ("inbound", "undelivered", "retry")]
        part = db.execute("SELECT payload FROM outbox WHERE source IN (?, ?, ?) AND openid = ? AND channel = 'wechat' "
                          "ORDER BY id LIMIT 1", [*sources, openid]).fetchone()
        return json.loads(part[0]).get("content") if part else None
    text = await d.db(first_part)
    if not text:
        return ""
    async with d.session.get("/sandbox/messages", params={"openid": openid}) as resp:
        messages = (await resp.json())["messages"]
    new = messages[d.seen.get(openid, 0):]
    assert text in [m.get("content") for m in new], f"{openid}: the answer to {msg_id} never reached them: {text}"
    if new[0].get("content") == text:
        d.seen[openid] = d.seen.get(openid, 0) + 1
    return text


async def talk(d: Dialog, openid: str, text: str, expect: str | Iterable[str] | None = None,
               absent: str | Iterable[str] | None = None) -> str:
    """Send `text` as `openid`; the passive reply must contain each of `expect` and none of `absent`."""
    reply = await send(d, openid, type="text", content=text)
    _check(reply, expect, absent, f"{openid} said {text!r}")
    return reply


async def talk_all(d: Dialog, openid: str, text: str, expect: str | Iterable[str] | None = None,
                   absent: str | Iterable[str] | None = None) -> str:
    """Like talk, for answers longer than one WeChat message: the passive reply and the parts pushed after it
    (once they are delivered: see settle)."""
    reply = await send(d, openid, type="text", content=text)
    # every part is queued with the handling, before the reply: wait while any is on its way (as heard does), not
    # a few seconds (under load the rest came after the cut and the answer read short)
    assert await settle(d, openid, timeout=HANG_SECONDS), f"{openid}: the answer to {text!r} never came"
    async with d.session.get("/sandbox/messages", params={"openid": openid}) as resp:
        messages = (await resp.json())["messages"]
    new = messages[d.seen.get(openid, 0):]
    d.seen[openid] = len(messages)
    whole = "\n".join([reply] + [m.get("content") or "" for m in new])
    _check(whole, expect, absent, f"{openid} said {text!r}")
    return whole


async def heard(d: Dialog, openid: str, expect: str | Iterable[str] | None = None,
                absent: str | Iterable[str] | None = None, count: int = 1, timeout: float = 5.0) -> str:
    """Wait for `count` new messages pushed to `openid` (customer-service or template) and for what else is already
    on its way to them (see settle): the pushes one handling queued are read together, however late a busy machine
    delivers the second. Their texts joined. `timeout`: how long to wait, once nothing is on its way, for a push
    not queued yet; while something is, the wait goes on (up to HANG_SECONDS: a hang, not a busy machine)."""
    deadline = time.monotonic() + timeout
    while True:
        settled = not await _on_its_way(d, openid)  # asked before reading: what was queued is then in `new`
        async with d.session.get("/sandbox/messages", params={"openid": openid}) as resp:
            messages = (await resp.json())["messages"]
        new = messages[d.seen.get(openid, 0):]
        now = time.monotonic()
        if settled and (len(new) >= count or now > deadline) or now > deadline + HANG_SECONDS:
            break
        await asyncio.sleep(0.03)
    d.seen[openid] = d.seen.get(openid, 0) + len(new)
    text = "\n".join(m.get("content") or str(m.get("data")) for m in new)
    assert len(new) >= count, f"{openid}: expected {count} pushed message(s), got {len(new)}: {text}"
    _check(text, expect, absent, f"pushed to {openid}")
    return text


async def settle(d: Dialog, *openids: str, timeout: float = 10.0) -> bool:
    """Wait until nothing is on its way to `openids`: no message in hand (handled, or spooled and draining), none
    stored and not yet handled, nothing in the outbox still to send them. Everything the bot pushes goes through
    the outbox, written with the handling that causes it (before the reply), so this is when a push is either in
    /sandbox/messages or never coming (waiting for the 48-hour window, failed). False after `timeout` (a busy
    machine). It replaced fixed pauses (0.3-1 s each, ~100 a run), which also missed pushes a busy machine
    delivered late."""
    deadline = time.monotonic() + timeout
    while True:
        if not await _on_its_way(d, *openids):
            return True
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.02)


# How long a wait for what is already on its way may last before it is taken for a hang, not a busy machine.
HANG_SECONDS = 120.0


async def _on_its_way(d: Dialog, *openids: str) -> bool:
    """Something is on its way to `openids`: a message in hand (handled, or spooled and draining), one stored and
    not yet handled, a push in the outbox still to send them."""
    receiver = d.app.get(RECEIVER)
    if receiver._inflight or (receiver._drainer is not None and not receiver._drainer.done()):
        return True
    marks = ",".join("?" * len(openids))
    sql = (f"SELECT EXISTS (SELECT 1 FROM outbox WHERE status IN ('pending', 'sending') AND channel = 'wechat' "
           f"AND openid IN ({marks})) OR EXISTS (SELECT 1 FROM inbound WHERE status = 'received' "
           f"AND openid IN ({marks}))")
    return bool(await d.db(lambda db: db.execute(sql, [*openids, *openids]).fetchone()[0]))


async def quiet(d: Dialog, openid: str, wait: float = 0.3) -> None:
    """Nothing new was pushed to `openid`, once everything on its way to them is delivered (see settle; `wait` is
    added to how long a busy machine may take)."""
    await settle(d, openid, timeout=2 + wait)
    async with d.session.get("/sandbox/messages", params={"openid": openid}) as resp:
        messages = (await resp.json())["messages"]
    new = messages[d.seen.get(openid, 0):]
    assert not new, f"{openid} was sent: {[m.get('content') for m in new]}"


async def drain(d: Dialog, *openids: str, wait: float = 0.3) -> None:
    """Forget what was pushed so far: once nothing more is on its way to them (see settle; a busy machine
    delivers late), at most 10 s (and `wait`)."""
    if openids:
        await settle(d, *openids, timeout=10 + wait)
    for openid in openids:
        async with d.session.get("/sandbox/messages", params={"openid": openid}) as resp:
            d.seen[openid] = len((await resp.json())["messages"])


# Answers to the intake's questions, so a test can file a ticket in one line whatever the exact steps are.
# The summary first: it names 联系电话 and 身份 too.
_ANSWERS = (("受理编号", None), ("请核对", "1"), ("请问您这次是", "{kind}"), ("联系电话", "{phone}"), ("身份", "{consent}"),
            ("哪所学校", "0"), ("是这所学校吗", "0"), ("同类问题", "2"), ("新的问题", "1"), ("涉及几件事", "1"), ("最要紧", "1"), ("提交", "1"))
KINDS = {"complaint": "1", "suggestion": "2", "inquiry": "3", "praise": "4"}


async def file_ticket(d: Dialog, openid: str, text: str, scene: str | None = None, kind: str = "complaint",
                      phone: str = "0", consent: str = "2", attachments: Iterable[dict] = ()) -> str:
    """File a ticket through the intake conversation; returns its number. `attachments` (sandbox payloads such
    as {"type": "image"}) are sent after the first message."""
    if scene:
        await send(d, openid, type="scan", scene=scene)
    reply = await talk(d, openid, text)
    for payload in attachments:
        reply = await send(d, openid, **payload)
    reply = await answer_until(d, openid, reply, is_filed, kind=kind, phone=phone, consent=consent)
    return NUMBER.search(reply).group(0)


def is_filed(reply: str) -> bool:
    """The reply that files a message: its number (the welcome also speaks of 受理编号, without one)."""
    return "受理编号" in reply and bool(NUMBER.search(reply))


async def answer_until(d: Dialog, openid: str, reply: str, until: str | Callable[[str], bool],
                       kind: str = "complaint", phone: str = "0", consent: str = "2") -> str:
    """Answer the intake's questions as `_ANSWERS` says until a reply holds `until` (text, or a test such as
    is_filed); returns that reply. Bounded: a question the table cannot answer, or ten answers without getting there,
    fail the test instead of hanging."""
    done = until if callable(until) else (lambda r: until in r)
    for _ in range(10):
        if done(reply):
            return reply
        answer = next((a for key, a in _ANSWERS if key in reply and a), None)
        assert answer, f"waiting for {until!r}: no answer for:\n{reply}"
        reply = await talk(d, openid, answer.format(kind=KINDS[kind], phone=phone, consent=consent))
    raise AssertionError(f"waiting for {until!r}, ten answers did not get there:\n{reply}")


@pytest.fixture
async def dialog(tmp_path):
    """The demo (bot, sandbox, bound staff) on a free port, at a Monday morning the test can move."""
    port = held_port()
    config = demo_config(port=port, data_dir=str(tmp_path))
    config = dataclasses.replace(config, outbox=dataclasses.replace(config.outbox, poll_seconds=0.02))
    clock = FixedClock(at("2026-11-16 09:00"))
    async with running(create_app(config, clock=clock), port) as app:
        await pause_jobs(app)  # the test runs the watch itself, with its own clock
        async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as session:
            yield Dialog(app, session, clock)
        # The test is over: the loops that call the sandbox's API (the outbox, media downloads) stop before the
        # server does (a call still going when the server closed its connection waited out the API's 10 s timeout,
        # in one test's teardown in thirty).
        for loop in (app[SENDER], app[MEDIA]):
            await loop.stop()
