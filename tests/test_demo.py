"""The demo as a newcomer meets it: one process with the bot, the sandbox and the simulator; a conversation
through the sandbox, which speaks WeChat's encrypted XML to /wechat over real HTTP."""
from __future__ import annotations

import re

import aiohttp
import pytest

from bot.app import create_app
from bot.demo import demo_config
from tests.conftest import running
from tests.test_process import held_port


@pytest.fixture
async def demo(tmp_path):
    port = held_port()
    config = demo_config(port=port, data_dir=str(tmp_path))
    async with running(create_app(config), port):
        async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as session:
            yield session


async def send(session, openid: str, **payload) -> str:
    async with session.post("/sandbox/send", json={"openid": openid, **payload}) as resp:
        assert resp.status == 200
        body = await resp.json()
    assert body.get("error") is None, body
    return body["reply"] or ""


async def test_simulator_page_and_units(demo):
    async with demo.get("/simulator") as resp:
        assert resp.status == 200 and "听见" in await resp.text()
    async with demo.get("/simulator/units") as resp:
        units = await resp.json()
    scenes = {u["scene"] for u in units}
    assert "school:jn-syxx" in scenes and "school:jb-mzyey" in scenes
    kinds = {u["kind"] for u in units}
    assert {"school", "kindergarten", "office", "district"} <= kinds


async def test_follow_through_qr_and_file_a_ticket_over_encrypted_http(demo):
    who = "o_demo_parent_wang"
    assert "江南区星光幼儿园" in await send(demo, who, type="scan", scene="school:jn-xgyey")
    reply = await send(demo, who, type="text", content="幼儿园一学期收了3000元保育费，还要额外交兴趣班费，想投诉")
    assert "联系电话" in reply
    assert "身份" in await send(demo, who, type="text", content="0")
    summary = await send(demo, who, type="text", content="2")
    assert "涉及学校：江南区星光幼儿园" in summary and "承办单位：市教育局学前教育处" in summary
    done = await send(demo, who, type="text", content="1")
    assert re.search(r"受理编号：JY\d{4}-0001", done)
    assert "JY" in await send(demo, who, type="voice", recognition="查询")


async def test_qrcode_command_fetches_a_unit_code_image(demo, tmp_path):
    import asyncio

    from bot.cli import main
    from tests.conftest import sandbox_wechat, write_cli_config
    config = write_cli_config(tmp_path / "q.toml", tmp_path / "demo.db", wechat=sandbox_wechat(demo))
    out = tmp_path / "qr.png"
    code = await asyncio.to_thread(main, ["qrcode", "--unit", "jn-syxx", "--out", str(out), "--config", str(config)])
    assert code == 0
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


async def test_the_demo_prints_a_workbench_link_for_every_demo_staff_member(tmp_path, capsys):
    port = held_port()
    async with running(create_app(demo_config(port=port, data_dir=str(tmp_path))), port):
        out = capsys.readouterr().out
        links = re.findall(r"(\S+)\s+http://127\.0\.0\.1:\d+(/w/signin/\S+)", out)
        names = [n for n, _ in links]
        assert "市教育局·周局长" in names and "收费管理处·李老师" in names and len(links) == 11  # 督查室 since audit14
        async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}",
                                         cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            leader = dict(links)["市教育局·周局长"]
            async with session.get(leader) as page:
                nonce = re.search(r'name="nonce" value="([^"]+)"', await page.text()).group(1)
            async with session.post(leader, data={"nonce": nonce}) as resp:
                assert resp.status == 200 and "审计" in await resp.text()


async def test_every_command_works_with_the_demos_own_config_file(demo, tmp_path, capsys):
    import asyncio

    from bot.cli import main
    config = tmp_path / "config.toml"  # written by the demo into its data folder
    assert config.is_file()
    port = str(demo._base_url).rsplit(":", 1)[1].strip("/")
    run = lambda *argv: asyncio.to_thread(main, [*argv, "--config", str(config)])  # noqa: E731
    assert await run("staff", "list") == 0
    assert "收费管理处" in capsys.readouterr().out
    assert await run("qrcode", "--unit", "jn-syxx", "--out", str(tmp_path / "qr.png")) == 0
    assert await run("digest", "--week", "2026-W48", "--out", str(tmp_path / "d.html")) == 0
    link = re.search(r"http://\S+", capsys.readouterr().out).group(0)
    assert link.startswith(f"http://127.0.0.1:{port}/digest/2026-W48?")
    async with demo.get(link.split(port, 1)[1]) as resp:  # the printed link opens on the running demo
        assert resp.status == 200


def test_demo_keeps_its_random_link_secret(tmp_path):
    first = demo_config(port=held_port(), data_dir=str(tmp_path)).server.link_secret
    assert len(first) >= 32
    assert demo_config(port=held_port(), data_dir=str(tmp_path)).server.link_secret == first
    assert demo_config(port=held_port(), data_dir=str(tmp_path / "other")).server.link_secret != first
    assert oct((tmp_path / "link_secret").stat().st_mode)[-3:] == "600"
