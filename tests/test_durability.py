"""An acknowledged message is never lost: not when another process holds the write lock longer than the writer
waits, not when the process is killed while messages sit in the spool."""
from __future__ import annotations

import asyncio
import itertools
import signal
import sqlite3
import time

import aiohttp

import pytest

from bot.app import DB, RECEIVER, create_app
from storage import spool as spool_mod
from tests import wx
from tests.test_process import SMALL_RULES, free_port, query, start_server, wait_for, write_config

_nonces = itertools.count(1)


def post_args(base: str, openid: str, text: str, msg_id: int):
    body, q = wx.encrypted(wx.text_xml(openid, text, msg_id=msg_id), openid, nonce=f"d{next(_nonces)}")
    return wx.url(f"{base}/wechat", q), body.encode()


def hold_write_lock(path) -> sqlite3.Connection:
    """Another process's long write transaction (a backup, a CLI command, a long job)."""
    conn = sqlite3.connect(str(path), isolation_level=None, timeout=30)
    conn.execute("BEGIN IMMEDIATE")
    return conn


async def test_messages_acknowledged_while_locked_are_stored_after(aiohttp_client, make_config, tmp_path):
    # The writer gives up on the lock after 0.5 s (30 s in production) and the webhook answers after 0.3 s
    # (4.5 s): the same race as a 60 s lock against the real settings, in a second.
    config = make_config(wechat={"reply_timeout_seconds": 0.3}, storage={"lock_wait_seconds": 0.5})
    client = await aiohttp_client(create_app(config))
    db_path = tmp_path / "t.db"
    lock = hold_write_lock(db_path)
    try:
        async def send(i):
            url, body = post_args("", f"o_lock{i}", "帮助", 880000 + i)
            resp = await client.post(url, data=body, headers={"Content-Type": "text/xml"})
            return resp.status, await resp.text()
        answers = await asyncio.gather(*(send(i) for i in range(5)))
        assert answers == [(200, "success")] * 5  # acknowledged while the database could not be written
        await asyncio.sleep(1.2)                   # longer than the writer waits: the first attempts have failed
        assert spool_mod.Spool(spool_mod.folder_for(db_path)).pending() == 5
    finally:
        lock.rollback()
        lock.close()

    async def stored():
        return await client.app[DB].run(
            lambda db: db.execute("SELECT count(*) FROM inbound WHERE status = 'done'").fetchone()[0])
    def spooled():
        return spool_mod.Spool(spool_mod.folder_for(db_path)).pending()
    # The drain commits the messages first and then releases their spool lines: wait for both (a loaded run once
    # saw the rows stored and the lines not yet released), within a bound generous for a loaded machine.
    deadline = time.monotonic() + 30
    while (await stored() < 5 or spooled()) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    assert await stored() == 5
    # Each was handled: its answer (the help text) waits in the outbox, since the webhook call is long over.
    pushed = await client.app[DB].run(lambda db: [r[0] for r in db.execute("SELECT openid FROM outbox")])
    assert sorted(pushed) == [f"o_lock{i}" for i in range(5)]
    assert spooled() == 0


async def test_retry_of_a_spooled_message_is_handled_once(aiohttp_client, make_config, tmp_path):
    config = make_config(wechat={"reply_timeout_seconds": 0.2}, storage={"lock_wait_seconds": 0.3})
    client = await aiohttp_client(create_app(config))
    lock = hold_write_lock(tmp_path / "t.db")
    try:
        for _ in range(3):  # WeChat's first try and two retries of the same MsgId
            url, body = post_args("", "o_retry", "帮助", 990001)
            resp = await client.post(url, data=body, headers={"Content-Type": "text/xml"})
            assert await resp.text() == "success"
    finally:
        lock.rollback()
        lock.close()
    await client.app[RECEIVER].drain_spool()
    rows = await client.app[DB].run(lambda db: db.execute("SELECT count(*) FROM outbox").fetchone()[0])
    assert rows == 1
    # A retry arriving after everything was stored gets no second handling either.
    url, body = post_args("", "o_retry", "帮助", 990001)
    assert await (await client.post(url, data=body, headers={"Content-Type": "text/xml"})).text() == "success"
    assert await client.app[DB].run(lambda db: db.execute("SELECT count(*) FROM outbox").fetchone()[0]) == 1


@pytest.mark.slow
async def test_sigkill_with_messages_in_the_spool_loses_none(tmp_path):
    port, api_port = free_port(), free_port()
    config = write_config(tmp_path, port, api_port, rules=SMALL_RULES)
    config.write_text(config.read_text().replace("reply_timeout_seconds = 0 ", "reply_timeout_seconds = 0.3 "))
    db = tmp_path / "kill.db"
    proc = await start_server(config, port)
    lock = hold_write_lock(db)
    try:
        async with aiohttp.ClientSession() as session:
            async def send(i):
                url, body = post_args(f"http://127.0.0.1:{port}", f"o_spool{i}", "帮助", 770000 + i)
                async with session.post(url, data=body, headers={"Content-Type": "text/xml"}) as resp:
                    return resp.status, await resp.text()
            assert await asyncio.gather(*(send(i) for i in range(4))) == [(200, "success")] * 4
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        lock.rollback()
        lock.close()
    assert query(db, "SELECT count(*) FROM inbound") == [(0,)]  # nothing reached the database
    proc = await start_server(config, port)
    try:
        await wait_for(lambda: query(db, "SELECT count(*) FROM inbound WHERE status = 'done'") == [(4,)], 30, proc=proc)
        assert sorted(r[0] for r in query(db, "SELECT openid FROM outbox")) == [f"o_spool{i}" for i in range(4)]
        await wait_for(lambda: not list((tmp_path / "kill.db.spool").glob("*.jsonl")), 30, proc=proc)
    finally:
        proc.terminate()
        proc.wait(10)
