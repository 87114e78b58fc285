"""The webhook first ([server] pages_per_batch, bot/priority.py): while the writer has messages in hand, pages wait
for its commit, a few per batch; the webhook never waits for pages. Through HTTP, with the writer held by a call
that waits on an event, so what is asserted is order, not speed."""
from __future__ import annotations

import asyncio
import threading

import pytest

from bot import priority
from bot.app import DB, create_app
from tests import wx


@pytest.fixture(autouse=True)
def _no_cap(monkeypatch):
    # a page gives up waiting after a second; the tests hold the writer as long as they need
    monkeypatch.setattr(priority, "MAX_WAIT_SECONDS", 60)


def hold(app):
    """Occupy the writer with one call until the returned event is set (release.taken: set once the writer runs it)."""
    release, taken = threading.Event(), threading.Event()

    def held(db):
        taken.set()
        release.wait(60)
    release.taken = taken
    call = asyncio.ensure_future(app[DB].run(held))
    return release, call


async def until_busy(app, release):
    """Until the writer runs the held call. Not `busy` alone: that is also set by another call the app queued
    (a job, the outbox), whose batch's commit would then let two waiting pages go on before the held one."""
    for _ in range(6000):
        if release.taken.is_set():
            assert app[DB].busy
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the writer never took the call")


async def until_waiting(app, n: int):
    """Until `n` requests wait for their turn: each has reached the middleware, however slowly a busy machine
    carried it there (a page still on its way when the writer commits would be let go by a later commit)."""
    for _ in range(6000):
        if len(app[priority.TURNS].waiting) >= n:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"{len(app[priority.TURNS].waiting)} of {n} requests came to wait")


async def test_a_page_waits_for_the_write_in_hand_while_the_webhook_answers(aiohttp_client, make_config):
    client = await aiohttp_client(create_app(make_config()))
    assert (await client.get("/u/")).status == 200  # the figures built: the page needs only the reader threads
    release, call = hold(client.app)
    try:
        await until_busy(client.app, release)
        page = asyncio.ensure_future(client.get("/u/"))
        echo = await client.get(wx.url("/wechat", wx.signed_query(echostr="still-here")))
        assert (echo.status, await echo.text()) == (200, "still-here")
        done, _ = await asyncio.wait({page}, timeout=0.5)
        assert not done  # it waits for the writer's commit
    finally:
        release.set()
        await call
    assert (await page).status == 200


async def test_with_pages_per_batch_0_pages_do_not_wait(aiohttp_client, make_config):
    client = await aiohttp_client(create_app(make_config(server={"pages_per_batch": 0})))
    assert (await client.get("/u/")).status == 200
    release, call = hold(client.app)
    await until_busy(client.app, release)
    try:
        assert (await asyncio.wait_for(client.get("/u/"), 30)).status == 200  # answered while the write is held
    finally:
        release.set()
        await call


async def test_after_each_write_a_few_waiting_pages_go_on_all_once_the_writer_is_idle(aiohttp_client, make_config):
    client = await aiohttp_client(create_app(make_config(server={"pages_per_batch": 2})))
    assert (await client.get("/u/")).status == 200
    first, first_call = hold(client.app)
    second = threading.Event()
    try:
        await until_busy(client.app, first)
        pages = [asyncio.ensure_future(client.get(f"/u/?q={i}")) for i in range(5)]
        await until_waiting(client.app, 5)
        done, _ = await asyncio.wait(pages, timeout=0.5)
        assert not done
        second, second_call = hold(client.app)  # queued behind the first: the writer still has work after it
        await asyncio.sleep(0)  # (the call's task puts it in the writer's queue when it first runs)
        await asyncio.sleep(0)
        first.set()
        await first_call
        answered = set()
        while len(answered) < 2:
            done, _ = await asyncio.wait([p for p in pages if p not in answered], timeout=30,
                                         return_when=asyncio.FIRST_COMPLETED)
            assert done
            answered |= done
        assert len(answered) == 2
        done, _ = await asyncio.wait([p for p in pages if p not in answered], timeout=0.5)
        assert not done  # the others wait for the next commit
    finally:
        first.set()
        second.set()
    await second_call
    assert [(await p).status for p in pages] == [200] * 5


async def test_the_webhook_answers_every_message_while_pages_are_reloaded_back_to_back(aiohttp_client, make_config):
    client = await aiohttp_client(create_app(make_config()))
    stop, loads = asyncio.Event(), []

    async def reader(path):
        while not stop.is_set():
            resp = await client.get(path)
            loads.append(resp.status)
            await resp.read()
    readers = [asyncio.ensure_future(reader(p)) for p in ("/u/", "/u/", "/u/jyj-sfc", "/u/?q=实验")]

    async def say(i):
        openid = f"o_flood_{i}"
        body, q = wx.encrypted(wx.text_xml(openid, "你好", msg_id=7_000 + i), openid)
        resp = await client.post(wx.url("/wechat", q), data=body.encode(), headers={"Content-Type": "text/xml"})
        assert resp.status == 200
        return openid, wx.decrypt_reply(await resp.text())
    try:
        replies = await asyncio.gather(*(say(i) for i in range(30)))
    finally:
        stop.set()
        await asyncio.gather(*readers)
    for openid, reply in replies:
        assert reply["ToUserName"] == openid and reply["MsgType"] == "text" and reply["Content"]
    stored = await client.app[DB].run(lambda db: db.execute(
        "SELECT count(*) FROM inbound WHERE openid LIKE 'o_flood_%'").fetchone()[0])
    assert stored == 30
    assert loads and set(loads) == {200}
