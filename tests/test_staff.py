"""The staff side end to end, over the sandbox's encrypted HTTP: a parent files a complaint, the fees office
handler (bound with an invite code) receives, signs, replies and resolves it, the parent hears of each step;
staff of another unit cannot touch it; bounced twice, it lands with the bureau's leaders."""
from __future__ import annotations

import asyncio
import dataclasses
import re
import time

import aiohttp
import pytest

from bot.app import DB, DISPATCHER, create_app
from bot.demo import demo_config
from storage import staff
from tests.conftest import running
from tests.test_process import held_port

PARENT = "o_parent_e2e"
LI = "o_li_fees"  # the fees office handler, bound through an invite code in the test


class Phone:
    """Sends as one WeChat user through the sandbox and reads what was pushed to them."""

    def __init__(self, session: aiohttp.ClientSession, openid: str):
        self.session, self.openid, self.seen = session, openid, 0

    async def say(self, text: str) -> str:
        async with self.session.post("/sandbox/send", json={"openid": self.openid, "type": "text",
                                                            "content": text}) as resp:
            body = await resp.json()
        assert body.get("error") is None, body
        return body["reply"] or ""

    async def scan(self, scene: str) -> str:
        async with self.session.post("/sandbox/send", json={"openid": self.openid, "type": "scan",
                                                            "scene": scene}) as resp:
            return (await resp.json())["reply"] or ""

    async def pushed(self, expect: int = 1, timeout: float = 60.0) -> list[str]:
        """Wait for `expect` new pushed messages (at most `timeout`: 5 s was short for a loaded machine); return
        their texts."""
        deadline = time.monotonic() + timeout
        while True:
            async with self.session.get("/sandbox/messages", params={"openid": self.openid}) as resp:
                messages = (await resp.json())["messages"]
            new = messages[self.seen:]
            if len(new) >= expect or time.monotonic() > deadline:
                self.seen += len(new)
                return [m.get("content") or str(m.get("data")) for m in new]
            await asyncio.sleep(0.05)


@pytest.fixture
async def world(tmp_path):
    port = held_port()
    config = demo_config(port=port, data_dir=str(tmp_path))
    config = dataclasses.replace(config, outbox=dataclasses.replace(config.outbox, poll_seconds=0.05))
    async with running(create_app(config), port) as app:
        async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as session:
            yield app, session


async def file_fees_complaint(parent: Phone) -> str:
    await parent.scan("school:jn-syxx")
    await parent.say("学校要求每个学生交300元资料费，还不给收据，我要投诉")
    await parent.say("13812345678")
    await parent.say("2")
    done = await parent.say("1")
    return re.search(r"JY\d{4}-\d{4}", done).group(0)


async def test_the_whole_loop(world):
    app, session = world
    code = await app[DB].run(staff.create_invite, "jyj-sfc", "handler", "收费管理处·李老师", time.time(), 3600)
    li, parent = Phone(session, LI), Phone(session, PARENT)
    assert "绑定成功" in await li.say(f"绑定 {code}")
    assert "已经使用过" in await Phone(session, "o_thief").say(f"绑定 {code}")

    number = await file_fees_complaint(parent)
    [notice] = await li.pushed()
    assert number in notice and "新留言待签收" in notice and "江南区实验小学" in notice
    assert "13812345678" not in notice

    todo = await li.say("待办")
    assert f"1. {number}" in todo
    detail = await li.say("详情 １")  # full-width digit from a phone keyboard
    assert "138****5678" in detail and "13812345678" not in detail and "办理记录" in detail
    assert "分类依据" in detail  # the routing explanation is shown to staff

    # Staff of another unit cannot touch it, and a citizen cannot use staff commands.
    other = Phone(session, "o_demo_staff_wcxx")
    assert "不在您的办理范围" in await other.say(f"签收 {number}")
    assert "仅限已绑定的工作人员" in await Phone(session, "o_nosy").say(f"办结 {number} 好了")

    assert "已签收" in await li.say(f"签收 {number}")
    [accepted] = await parent.pushed()
    # Plain words for citizens (issue 9 item 15): 受理, not the staff's 签收.
    assert number in accepted and "已由“市教育局教育收费管理处”受理" in accepted
    await li.say(f"回复 {number} 您好，已核实，学校将退还资料费。")
    [answer] = await parent.pushed()
    assert "您好，已核实，学校将退还资料费。" in answer and f"回复 {number}" in answer  # their words, untouched
    assert "已将您的回复转给承办人员" in await parent.say(f"回复 {number} 好的，请尽快退")
    [relayed] = await li.pushed()
    assert "请尽快退" in relayed
    assert "已办结" in await li.say(f"办结 {number} 学校已于今日退还全部资料费")
    [resolved] = await parent.pushed()
    assert "已办结" in resolved and "退还全部资料费" in resolved
    status = await parent.say(f"查询 {number}")
    # Citizens read plain steps, not the staff's verbs (issue 9 item 15): 签收 shows as 承办单位已受理.
    assert "已办结" in status and "承办单位已受理" in status and "签收" not in status


async def test_bounced_twice_lands_with_the_bureau(world):
    app, session = world
    parent = Phone(session, PARENT)
    number = await file_fees_complaint(parent)
    sfc, duty, jn, leader = (Phone(session, o) for o in (
        "o_demo_staff_sfc", "o_demo_staff_bgs", "o_demo_staff_jn", "o_demo_leader"))
    await sfc.pushed()  # the new-ticket notice
    assert "退回理由" in await sfc.say(f"退回 {number}")  # a reason is required
    assert "已退回" in await sfc.say(f"退回 {number} 资料费属学校内部管理，应由区教育局处理")
    [bounced] = await duty.pushed()
    assert "退回待重新分派" in bounced
    assert "已将" in await duty.say(f"转派 {number} 江南区教育局")
    assert any(number in m for m in await jn.pushed())
    assert "已退回" in await jn.say(f"退回 {number} 属于收费问题，应由市收费处处理")
    [arbitration] = await leader.pushed()
    assert "需局里裁定" in arbitration
    assert "需由局领导确定" in await duty.say(f"转派 {number} jyj-sfc")
    assert "已将" in await leader.say(f"转派 {number} 市教育局教育收费管理处")
    corrections = await app[DB].run(lambda d: d.execute("SELECT count(*) FROM routing_corrections").fetchone()[0])
    assert corrections == 2
    actions = await app[DB].run(lambda d: [r[0] for r in d.execute(
        "SELECT action FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id WHERE t.number = ? ORDER BY e.id",
        [number])])
    assert actions == ["submit", "assign", "bounce", "transfer", "bounce", "transfer"]


async def test_unit_without_staff_is_visible_as_unattended(world):
    app, session = world
    parent = Phone(session, "o_parent_unattended")
    await parent.scan("school:jb-bhxx")  # 滨河小学: nobody bound there
    await parent.say("学校厕所坏了一个月没人修，孩子只能憋着，我要投诉")
    await parent.say("0")
    await parent.say("2")
    number = re.search(r"JY\d{4}-\d{4}", await parent.say("1")).group(0)
    duty = Phone(session, "o_demo_staff_bgs")
    [notice] = await duty.pushed()
    assert "尚未绑定工作人员" in notice and number in notice
    todo = await Phone(session, "o_demo_leader").say("待办")
    assert number in todo and "代收" in todo


async def test_citizen_withdraws_and_the_handler_is_told(world):
    app, session = world
    parent = Phone(session, "o_parent_withdraw")
    number = await file_fees_complaint(parent)
    sfc = Phone(session, "o_demo_staff_sfc")
    await sfc.pushed()
    # Deliberate change (issue 9 item 12): 撤回 asks first, and only 确认撤回 withdraws.
    assert "确认撤回" in await parent.say(f"撤回 {number}")
    assert "已撤回" in await parent.say(f"确认撤回 {number} 学校已经退钱了")
    [notice] = await sfc.pushed()
    assert "已由群众撤回" in notice
    assert "不能撤回" in await parent.say(f"撤回 {number}")
    assert "当前状态为“已撤回”，不能签收" in await sfc.say(f"签收 {number}")


async def test_forty_tickets_page_by_page(world):
    """A handler with forty open tickets reads them ten at a time and opens any by its line number."""
    import time as _time
    app, session = world
    from storage import tickets as tickets_store

    def forty(db):
        for i in range(40):
            tickets_store.create(db, openid=f"o_many{i}", kind="complaint", category="fees", unit_code="jyj-sfc",
                                 school_code="jn-syxx", text=f"第{i}件：学校收取资料费", attachments=[],
                                 contact_phone=None, anonymous=True, routing={}, now=_time.time() + i,
                                 due_at=_time.time() + 86400 * (40 - i), tz=app[DISPATCHER].calendar.tz)
    await app[DB].run(forty)
    sfc = Phone(session, "o_demo_staff_sfc")
    first = await sfc.say("待办")
    assert "待办留言共40件" in first and "1. " in first and "11. " not in first and "待办 2" in first
    assert len(first.encode()) < 2048
    third = await sfc.say("待办 ３")
    assert "21. " in third and "30. " in third and "第3/4页" in third
    past = await sfc.say("待办 9")  # past the end: said, and the last page shown
    assert past.startswith("待办只有4页，没有第9页，以下是第4页。") and "31. " in past and "40. " in past
    assert not (await sfc.say("待办 4")).startswith("待办只有")
    detail = await sfc.say("详情 25")
    assert "第15件" in detail  # line 25 = the 25th nearest deadline = ticket created 15th (due in 25 days)
