"""The fifth audit (brief priority 1, "Trust and people"): the policy questions the fourth left open (a school with
nobody bound, a rival's staff in 群众评议, a paced burst of survey answers, tickets against their events in
`verify-rates`) decided and built, and new attacks on what was built lately. Attacked through the sandbox (WeChat's
encrypted XML over real HTTP), the workbench over real HTTP, the command line and real SQLite files. Each test
failed before its fix."""
from __future__ import annotations

import pytest

from storage import tickets

from tests.dialog import LEADER, SCHOOL, TZ, at, file_ticket, talk
from tests.test_audit2 import answer_survey
from tests.test_citizen_dialogs import PARENT

HOMEWORK = "学校作业太多了，孩子每天写到晚上十一点，我要投诉"
RIVAL = "o_demo_staff_wcxx"  # 江北区文昌小学's handler: another district's school


async def _ticket(d, number: str) -> dict:
    return await d.db(tickets.get, number)


# -- A2. 群众评议 and 表扬 are the public's: no staff of any unit ------------------------------------------------------
async def test_a_rival_schools_staff_cannot_answer_a_schools_survey(dialog):
    """Only the unit's own staff, the unit above and leaders were refused: 江北区文昌小学's handler could mark
    江南区实验小学 down (they compete in the same ranking of schools), and a teacher who answered before being bound
    at another school stayed counted. Anyone bound as staff, of any unit, is not the public."""
    from bot.app import DB, DISPATCHER
    from handlers.survey_results import survey_results
    from storage import staff
    d = dialog
    reply = await answer_survey(d, RIVAL)
    assert "不能参加" in reply and "评议完成" not in reply, reply
    assert "评议完成" in await answer_survey(d, "o_parent_a")
    assert "评议完成" in await answer_survey(d, "o_parent_b")
    code = await d.db(staff.create_invite, "jn-yyxx", "handler", "育英小学·王老师", d.clock.now(), 86400)
    await talk(d, "o_parent_b", f"绑定 {code}", expect="绑定")  # now the staff of a rival school
    campaign = d.app[DISPATCHER].campaign
    results = await d.app[DB].read(survey_results, campaign.p.surveys["school-2026"], campaign.p.surveys, 1)
    assert results["jn-syxx"].n == 1


async def test_praise_from_a_rival_schools_future_staff_is_not_counted(dialog):
    """Two schools' teachers praising each other before binding their accounts counted in 表扬 (the review's praise
    component, the public board's 服务标兵): the same predicate as 群众评议 now leaves out anyone bound anywhere."""
    from bot.app import DB
    from handlers import review
    from storage import staff
    from tests.dialog import send
    d = dialog
    for who in ("o_teacher_elsewhere", "o_real_parent"):
        await send(d, who, type="scan", scene="school:jn-syxx")
        await talk(d, who, "感谢江南区实验小学的老师们耐心辅导孩子，非常负责", expect="请核对")
        await talk(d, who, "1", expect="感谢您的表扬")
    code = await d.db(staff.create_invite, "jn-yyxx", "handler", "育英小学·新老师", d.clock.now(), 86400)
    await talk(d, "o_teacher_elsewhere", f"绑定 {code}", expect="绑定")
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    now = d.clock.now()
    got = await d.app[DB].read(lambda c: review.build(c, "2026-11", TZ, review.Weights(), now=now))
    assert got.unit("jn-syxx").figures.praise == 1
