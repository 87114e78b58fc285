"""The twenty-first trust audit: one account's weight in a 群众评议 survey; the filing reply with nobody bound
anywhere; the 人员 pages with no admin; the access token across a test clock's jumps; an auditor's attacks."""
from __future__ import annotations

import pytest
from aiohttp import web

from bot.channels.wechat.api import WechatApi
from bot.sandbox.platform import Sandbox
from handlers.clock import FixedClock
from storage import tokens
from storage.db import Database
from tests import wx


# -- (d) the access token when the clock jumps mid-call ---------------------------------------------------------
@pytest.fixture
async def platform(aiohttp_server, tmp_path):
    clock = FixedClock(1_800_000_000.0)
    sandbox = Sandbox(wx.TOKEN, wx.AES_KEY, wx.APPID, "secret", "http://127.0.0.1:9/wechat", clock=clock.now)
    app = web.Application()
    sandbox.add_routes(app)
    server = await aiohttp_server(app)
    db = Database(tmp_path / "d.db").start()
    api = WechatApi(db, wx.APPID, "secret", str(server.make_url("")), clock)
    yield sandbox, api, db, clock
    await api.close()
    db.close()


def jump_while(sandbox: Sandbox, clock: FixedClock, method: str, times: int) -> None:
    """The test clock moves a day while the next `times` calls of the platform's `method` are on their way (a test
    that jumps days while a push is in flight)."""
    real = getattr(sandbox, method)
    left = [times]

    def jumping(*args, **kw):
        if method != "_token_answer" and left[0] > 0:
            left[0] -= 1
            clock.advance(86400)
            for openid in list(sandbox._users):  # people who use the account daily stay within the 48 hours
                sandbox.follow(openid)
        out = real(*args, **kw)
        if method == "_token_answer" and left[0] > 0:
            left[0] -= 1
            clock.advance(86400)
        return out
    setattr(sandbox, method, jumping)


async def test_a_push_goes_through_however_often_the_clock_jumps_while_it_is_on_its_way(platform):
    """A token the clock passed while the call was on its way is simply expired: the current one is fetched and the
    call tried again, as many times as the clock jumped (it had one refresh, so a second jump failed the push, and
    its retry waited for a moment the fixed clock never reached: the tests' 42001 stall)."""
    sandbox, api, db, clock = platform
    sandbox.follow("o_jump")
    await api.send_text("o_jump", "一")
    jump_while(sandbox, clock, "_check_access_token", 3)
    await api.send_text("o_jump", "二")
    assert [m.content for m in sandbox.messages("o_jump")] == ["一", "二"]


async def test_a_token_fetched_across_a_jump_is_kept_for_its_life_from_when_it_was_asked_for(platform):
    """The token's life was counted from when the answer was read: a jump while it was on its way kept a dead token
    as good for two hours more (every call then met 42001 first)."""
    sandbox, api, db, clock = platform
    asked = clock.now()
    jump_while(sandbox, clock, "_token_answer", 1)
    token = await api.access_token()
    row = await db.run(lambda c: c.execute("SELECT token, expires_at FROM access_tokens").fetchone())
    assert row[0] == token and row[1] <= asked + 7200
    assert await db.run(tokens.get, wx.APPID, clock.now()) is None
