"""Rough edges found by using the demo as its people do (issue: the people who use it, fourth round): a teacher
with many tickets gets one reminder per sweep, urgency said first to staff, help from the same rule as the
permission, every numbered question saying what to send, English on the citizen's page. Each test failed before
its fix."""
from __future__ import annotations

import pytest

from storage import outbox
from tests.dialog import FEES, LEADER, NUMBER, drain, file_ticket, heard, quiet, talk

PARENTS = [f"o_fees_parent{i}" for i in range(4)]
FEE_COMPLAINTS = ["学校每学期收资料费300元，不给收据", "学校代收教辅材料费每人二百元，没有开票",
                  "学校强制订购校服，一套要五百元", "补课费每月收八百元，没有任何票据"]


async def _fee_tickets(d, count: int) -> list[str]:
    numbers = [await file_ticket(d, PARENTS[i], FEE_COMPLAINTS[i]) for i in range(count)]
    await drain(d, FEES, LEADER, *PARENTS[:count])
    return numbers


# -- 1: one reminder message per person per sweep ----------------------------------------------------------------
async def test_a_sweep_sends_a_person_one_reminder_for_all_their_tickets(dialog):
    d = dialog
    numbers = await _fee_tickets(d, 4)
    d.advance(2 * 86400)  # Wednesday: every ticket past its time to be signed for
    await d.sweep()
    pushed = await heard(d, FEES, expect=["4件留言需要处理", "待签收4件", "签收 编号", *numbers])
    await quiet(d, FEES)  # one message, not four
    assert pushed.index("【办理提醒】") == 0
    # each ticket keeps its own reminder record and its own line in the workbench's notification list
    notices = await d.db(outbox.web_notices, FEES)
    assert sorted(n["notice"]["ticket"] for n in notices if n["notice"]["title"] == "办理提醒") == sorted(numbers)
    await d.sweep()
    await quiet(d, FEES)  # a second sweep sends nothing again


async def test_one_reminder_alone_reads_as_before(dialog):
    d = dialog
    [number] = await _fee_tickets(d, 1)
    d.advance(2 * 86400)
    await d.sweep()
    await heard(d, FEES, expect=f"【签收提醒】留言 {number} 已超过签收时限", absent="件留言需要处理")


# -- 2: an urgent matter is said first to staff ------------------------------------------------------------------
async def test_staff_read_urgent_first_in_the_notice_the_todo_list_and_the_workbench(dialog):
    from tests.dialog import DUTY
    from tests.test_web import browser, sign_in
    d = dialog
    await _fee_tickets(d, 1)  # an ordinary one beside it
    number = await file_ticket(d, "o_frightened_parent", "孩子说不想活了，我该怎么办", phone="13812345678")
    notice = await heard(d, DUTY, expect=number)
    assert notice.startswith("【紧急"), notice
    todo = await talk(d, DUTY, "待办")
    line = next(x for x in todo.splitlines() if number in x)
    assert line.split(" ", 1)[1].startswith("【紧急】"), todo
    async with browser(d) as s:
        await sign_in(d, s, DUTY)
        async with s.get("/w/") as resp:
            page = await resp.text()
        row = page[page.index(f">{number}<") - 200:page.index(f">{number}<")]
        assert "紧急" in row


# -- 3: the help says what the rule allows, for every role ------------------------------------------------------------
@pytest.mark.parametrize("who, transfers", [("o_demo_head_syxx", False), ("o_demo_staff_syxx", False),
                                            ("o_demo_head_jn", True), ("o_demo_staff_jn", False),
                                            ("o_demo_staff_bgs", True), ("o_demo_leader", True),
                                            ("o_demo_staff_sfc", False)])
async def test_help_lists_exactly_what_the_person_may_do(dialog, who, transfers):
    from bot.app import DISPATCHER
    from handlers import commands
    from storage import users
    d = dialog
    desk = d.app[DISPATCHER].desk
    user = await d.db(users.get, who)
    reply = await talk(d, who, "帮助")
    assert ("· 转派 " in reply) is transfers, reply
    for c in commands.TABLE:  # each verb the desk's own rule lets them use is listed, and no other
        if getattr(c.who, "action", None) and not c.hidden:
            allowed = await d.db(desk.may, user, c.who.action)
            assert (c.help_line() in reply) is allowed, (c.verb, reply)
    if not transfers:
        answer = await talk(d, who, "转派 JY2611-0001 江南区教育局")
        assert "退回" in answer and "已将" not in answer
