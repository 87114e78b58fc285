"""The custom menu: menu/create and menu/get in the sandbox as the platform checks them, `tingjian menu push`
against the demo, clicks handled by the bot, and the simulator's menu bar."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp import web

from bot.demo import DEMO_WECHAT
from bot.menu import default_menu
from bot.sandbox.platform import Sandbox
from tests.test_survey import Phone, demo  # noqa: F401 - the demo fixture

APPID, SECRET = "wx49f0ab532d5d035a", "s3cr3t"


@pytest.fixture
async def platform(aiohttp_client):
    sandbox = Sandbox("sandboxtoken", "", APPID, SECRET, "http://127.0.0.1:9/wechat")
    app = web.Application()
    sandbox.add_routes(app)
    client = await aiohttp_client(app)
    resp = await client.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID,
                                                      "secret": SECRET})
    token = (await resp.json())["access_token"]
    return client, token


async def create(client, token, body) -> dict:
    resp = await client.post("/cgi-bin/menu/create", params={"access_token": token}, json=body)
    return await resp.json()


async def test_menu_create_and_get_follow_the_official_shape(platform):
    client, token = platform
    resp = await client.get("/cgi-bin/menu/get", params={"access_token": token})
    assert (await resp.json())["errcode"] == 46003                     # no menu yet
    assert await create(client, token, default_menu()) == {"errcode": 0, "errmsg": "ok"}
    got = await (await client.get("/cgi-bin/menu/get", params={"access_token": token})).json()
    buttons = got["menu"]["button"]
    assert [b["name"] for b in buttons] == ["我要留言", "查询进度", "公开评议"]
    assert buttons[0] == {"type": "click", "name": "我要留言", "key": "WRITE", "sub_button": []}
    assert [s["key"] for s in buttons[2]["sub_button"]] == ["PUBLIC", "SURVEY", "HELP"]
    assert (await (await client.get("/sandbox/menu")).json())["button"] == buttons
    bad_token = await create(client, "nope", default_menu())
    assert bad_token["errcode"] == 40001


@pytest.mark.parametrize("buttons, errcode", [
    ([{"type": "click", "name": f"b{i}", "key": f"K{i}"} for i in range(4)], 40016),   # at most three
    ([], 40016),
    ([{"type": "click", "name": "五个汉字啊啊", "key": "K"}], 40018),                   # 18 bytes > 16
    ([{"type": "click", "name": "留言"}], 40019),                                        # click needs a key
    ([{"type": "view", "name": "公开", "url": "ftp://x"}], 40020),
    ([{"type": "tap", "name": "留言", "key": "K"}], 40017),
    ([{"name": "更多", "sub_button": [{"type": "click", "name": f"s{i}", "key": "K"} for i in range(6)]}], 40023),
    ([{"name": "更多", "sub_button": [{"type": "click", "name": "子", "key": "x" * 129}]}], 40026),
])
async def test_menu_create_rejects_what_the_platform_rejects(platform, buttons, errcode):
    client, token = platform
    assert (await create(client, token, {"button": buttons}))["errcode"] == errcode
    assert (await (await client.get("/sandbox/menu")).json())["button"] == []   # nothing half set


async def test_menu_push_and_show_through_the_api_and_clicks_answered(demo, tmp_path, capsys):
    from bot.cli import main
    app, session, clock = demo
    from tests.conftest import sandbox_wechat, write_cli_config
    config = write_cli_config(tmp_path / "m.toml", tmp_path / "m.db", wechat=sandbox_wechat(session))
    async with session.get("/sandbox/menu") as resp:
        assert (await resp.json())["button"]                      # the demo starts with the menu set
    async with session.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": DEMO_WECHAT["appid"],
                                                     "secret": DEMO_WECHAT["appsecret"]}) as resp:
        token = (await resp.json())["access_token"]
    async with session.get("/cgi-bin/menu/delete", params={"access_token": token}) as resp:
        assert (await resp.json())["errcode"] == 0
    assert await asyncio.to_thread(main, ["menu", "show", "--config", str(config)]) == 1
    assert "tingjian menu push" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["menu", "push", "--config", str(config)]) == 0
    assert "参与评议" in capsys.readouterr().out
    async with session.get("/sandbox/menu") as resp:
        assert [b["name"] for b in (await resp.json())["button"]] == ["我要留言", "查询进度", "公开评议"]
    assert await asyncio.to_thread(main, ["menu", "show", "--config", str(config)]) == 0
    assert "└ 参与评议  [click: SURVEY]" in capsys.readouterr().out

    parent = Phone(session, "o_menu")
    await parent.scan("school:jn-syxx")
    assert "请直接发送文字" in await parent._send(type="click", key="WRITE")
    public = await parent._send(type="click", key="PUBLIC")
    assert "办事公开" in public and "江南区实验小学承诺：校长信箱每周一开箱" in public
    assert "您还没有提交过留言" in await parent._send(type="click", key="QUERY")
    assert "常用指令" in await parent._send(type="click", key="HELP")
    assert "第1/7题" in await parent._send(type="click", key="SURVEY")   # the unit of the code scanned
    assert await parent._send(type="view", url="http://127.0.0.1/x") == ""   # VIEW opens a page, nothing to say


async def test_simulator_draws_the_menu_bar(demo):
    app, session, clock = demo
    async with session.get("/simulator") as resp:
        html = await resp.text()
    assert 'id="menubar"' in html and 'id="submenu"' in html
    async with session.get("/simulator/static/simulator.js") as resp:
        js = await resp.text()
    assert "/sandbox/menu" in js and 'type: "click", key: b.key' in js and 'type: "view", url: b.url' in js
