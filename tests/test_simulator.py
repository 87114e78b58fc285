"""The browser simulator's routes and page, and the terminal chat client, against a sandbox and a small bot."""
from __future__ import annotations

import asyncio
import io
import json
import time

import aiohttp
from aiohttp import web

from bot.channels.wechat.crypto import Crypto
from bot.channels.wechat.xml import parse_fields, render_text
from bot.chat import run_chat
from bot.sandbox import Sandbox, add_simulator_routes
from bot.sandbox.simulator import DEFAULT_ROLES

UNITS = [
    {"code": "jn-syxx", "name": "江南区实验小学", "kind": "school", "scene": "school:jn-syxx"},
    {"code": "jn-xgyey", "name": "江南区星光幼儿园", "kind": "kindergarten", "scene": "school:jn-xgyey"},
    {"code": "jyj-zsc", "name": "市教育局招生入学处", "kind": "office", "scene": "office:jyj-zsc"},
]


async def units_provider():
    return UNITS


async def test_page_is_served_with_its_parts(aiohttp_client):
    app = web.Application()
    add_simulator_routes(app, units_provider)
    client = await aiohttp_client(app)
    resp = await client.get("/simulator")
    assert resp.status == 200 and resp.content_type == "text/html"
    html = await resp.text()
    for part in ('id="chat"', 'id="input"', 'id="send"', 'id="role"', 'id="openid"', 'id="units"',
                 'data-action="scan"', 'data-action="location"', 'data-action="voice"', 'data-action="follow"',
                 'name="viewport"', "/simulator/static/simulator.js", "/simulator/static/simulator.css", "听见"):
        assert part in html, part
    assert "http://" not in html and "https://" not in html          # nothing from a CDN: the network is closed
    js = await (await client.get("/simulator/static/simulator.js")).text()
    for used in ("/sandbox/send", "/sandbox/messages", "/simulator/units", "/simulator/roles", "/sandbox/qrcode",
                 "after="):
        assert used in js, used
    css = await client.get("/simulator/static/simulator.css")
    assert css.status == 200 and "375px" in await css.text() and "pre-wrap" in await css.text()


async def test_units_and_roles(aiohttp_client):
    staff = [{"openid": "o_staff_jn_syxx", "name": "江南区实验小学·经办人", "group": "工作人员"}]

    async def roles():
        return DEFAULT_ROLES + staff

    app = web.Application()
    add_simulator_routes(app, units_provider, roles)
    client = await aiohttp_client(app)
    assert await (await client.get("/simulator/units")).json() == UNITS
    got = await (await client.get("/simulator/roles")).json()
    assert got[0] == {"openid": "o_demo_parent_wang", "name": "家长·王女士", "group": "群众"}
    assert got[-1] == staff[0]


async def test_default_roles_and_a_failing_provider(aiohttp_client):
    async def broken():
        raise RuntimeError("database is down")

    app = web.Application()
    add_simulator_routes(app, broken)
    client = await aiohttp_client(app)
    assert (await client.get("/simulator/units")).status == 500
    roles = await (await client.get("/simulator/roles")).json()
    assert any(r["openid"] == "o_demo_parent_wang" and r["name"] == "家长·王女士" for r in roles)


async def test_terminal_chat(aiohttp_server):
    """A tiny bot, and the sandbox with the simulator beside it; the chat client talks to the sandbox."""
    crypto = Crypto("tok", "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", "wxappid0000000000")
    app = web.Application()
    sandbox_box: dict = {}
    pushed_tasks = []

    async def push_later(openid: str, text: str) -> None:
        sandbox: Sandbox = sandbox_box["s"]
        await asyncio.sleep(0.1)
        base = sandbox_box["url"]
        async with aiohttp.ClientSession() as s:
            async with s.get(f"{base}/cgi-bin/token", params={"grant_type": "client_credential",
                                                              "appid": sandbox.appid, "secret": "sec"}) as r:
                token = (await r.json())["access_token"]
            body = {"touser": openid, "msgtype": "text", "text": {"content": text}}
            async with s.post(f"{base}/cgi-bin/message/custom/send", params={"access_token": token},
                              data=json.dumps(body, ensure_ascii=False)) as r:
                assert (await r.json())["errcode"] == 0

    async def bot(request: web.Request) -> web.Response:
        q = request.query
        fields = parse_fields(crypto.decrypt(parse_fields(await request.text())["Encrypt"]))
        if fields["MsgType"] == "event":
            text = f"事件 {fields['Event']} {fields.get('EventKey', '')}".strip()
        elif fields.get("Content") == "慢慢来":
            pushed_tasks.append(asyncio.create_task(push_later(fields["FromUserName"], "稍后答复：\n已受理")))
            return web.Response(text="success")
        else:
            text = f"收到 {fields.get('Content') or fields.get('Recognition')}"
        reply = render_text(fields["FromUserName"], fields["ToUserName"], text)
        return web.Response(text=crypto.encrypt_envelope(reply, q["nonce"]), content_type="application/xml")

    app.router.add_post("/wechat", bot)
    server = await aiohttp_server(app)
    url = str(server.make_url("")).rstrip("/")
    sandbox = Sandbox(crypto.token, "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR", crypto.appid, "sec",
                      url + "/wechat")
    sandbox_box["s"] = sandbox
    # the webhook URL is known only once the bot listens, so the sandbox gets a server of its own
    sandbox_app = web.Application()
    sandbox.add_routes(sandbox_app)
    add_simulator_routes(sandbox_app, units_provider)
    sandbox_server = await aiohttp_server(sandbox_app)
    base = str(sandbox_server.make_url("")).rstrip("/")
    sandbox_box["url"] = base

    stdin = io.StringIO("你好\n/voice 语音内容\n慢慢来\n/as o_other\n/follow\n/bogus\n/quit\n不会发出\n")
    stdout = io.StringIO()
    await asyncio.wait_for(run_chat(base, "o_cli", "school:jn-syxx", stdin, stdout, poll_interval=0.05,
                                    linger=0), 60)  # a hang, not a loaded machine
    await asyncio.gather(*pushed_tasks)   # the pushed message may arrive after /quit
    out = stdout.getvalue()
    assert "事件 subscribe qrscene_school:jn-syxx" in out
    assert "收到 你好" in out and "收到 语音内容" in out
    assert "现在的身份是 o_other" in out and "事件 subscribe" in out
    assert "不认识的命令 /bogus" in out and "不会发出" not in out
    messages = [m for m in sandbox.messages("o_cli")]
    assert messages and messages[0].content == "稍后答复：\n已受理"


async def test_terminal_chat_prints_pushed_messages(aiohttp_server):
    sandbox = Sandbox("tok", "", "wxappid", "sec", "http://127.0.0.1:9/wechat")
    app = web.Application()
    sandbox.add_routes(app)
    server = await aiohttp_server(app)
    base = str(server.make_url("")).rstrip("/")
    sandbox.follow("o_cli")

    class SlowInput(io.StringIO):
        """Ends the input only after the bot has pushed something."""

        def readline(self, *args):
            time.sleep(0.4)
            return ""

    async def push():
        await asyncio.sleep(0.1)
        sandbox.push("o_cli", "text", "您的诉求 TJ-0001\n已办结")
        sandbox.push("o_cli", "template", "", {"first": {"value": "进度通知"}, "keyword1": {"value": "TJ-0001"}},
                      template_id="TPL", url="https://example.org/t/1")

    stdout = io.StringIO()
    task = asyncio.create_task(push())
    await asyncio.wait_for(run_chat(base, "o_cli", None, SlowInput(), stdout, poll_interval=0.05), 60)
    await task
    out = stdout.getvalue()
    assert "听见> 您的诉求 TJ-0001\n" in out and "已办结" in out
    assert "【模板消息】" in out and "keyword1：TJ-0001" in out and "详情：https://example.org/t/1" in out
