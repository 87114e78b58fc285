"""The second audit of issue 8's families (ratings, 师德 confidentiality, tickets nobody may act on, the workbench,
config), attacked through the sandbox: WeChat's encrypted XML over real HTTP, the shipped router, the demo
directory and staff. Each test failed before its fix."""
from __future__ import annotations

import pytest

from storage import tickets
from tests.dialog import (DISTRICT, DISTRICT_HEAD, DUTY, LEADER, NUMBER, SCHOOL, SCHOOL_HEAD, drain, file_ticket,
                          quiet, talk)
from tests.test_citizen_dialogs import PARENT, resolved, ticket

ETHICS = "江南区实验小学的王老师上课体罚学生，还辱骂孩子"


# -- ratings: a number in a sentence is not a score ----------------------------------------------------------------
@pytest.mark.parametrize("message", ["2，3班的数学老师体罚学生，孩子不敢上学",     # a list of classes, and 师德
                                     "2:30就放学了，家长根本没法接",                 # a time
                                     "3-4年级的学生每天作业写到晚上11点",            # a range
                                     "1,000元的资料费什么时候退",                    # a thousands separator
                                     "1 班班主任又收了200元班费"])                   # 1班 typed with a space
async def test_a_number_at_the_start_is_not_a_rating(dialog, message):
    d = dialog
    number = await resolved(d)
    await talk(d, PARENT, message, absent=["感谢您的评价", "重新办理"])
    t = await ticket(d, number)
    assert t["state"] == "resolved" and t["rating"] is None and t["rating_comment"] is None


async def test_a_digit_then_a_number_is_asked_about(dialog):
    d = dialog
    number = await resolved(d)
    await talk(d, PARENT, "3 3班还是没退钱", expect=number, absent=["重新办理", "感谢您的评价"])
    assert (await ticket(d, number))["rating"] is None
    await talk(d, PARENT, "1", expect="重新办理")  # yes, it was a rating
    t = await ticket(d, number)
    assert t["state"] == "reopened" and t["rating"] == 3 and t["rating_comment"] == "3班还是没退钱"


# -- 师德 never reaches the school ------------------------------------------------------------------------------------
async def test_an_ethics_ticket_is_never_transferred_to_a_school(dialog):
    d = dialog
    number = await file_ticket(d, PARENT, ETHICS, scene="school:jn-syxx", consent="1")  # even with consent
    assert (await ticket(d, number))["unit_code"] == "jn-jyj"
    await drain(d, PARENT, SCHOOL, SCHOOL_HEAD)
    for who in (DISTRICT_HEAD, LEADER):
        await talk(d, who, f"转派 {number} 江南区实验小学 请学校核实", expect="师德", absent="已将")
    assert (await ticket(d, number))["unit_code"] == "jn-jyj"
    await quiet(d, SCHOOL)
    await quiet(d, SCHOOL_HEAD)
    # Bounced to the duty office, it still cannot go to the school from there.
    await talk(d, DISTRICT, f"退回 {number} 请局里另派")
    await talk(d, DUTY, f"转派 {number} 江南区实验小学", expect="师德")
    assert (await ticket(d, number))["unit_code"] != "jn-syxx"


HITTING = "作业太多了，每天写到晚上十一点，写不完班主任就打孩子手心"


async def test_conduct_that_is_not_the_first_matter_still_never_goes_to_the_school(dialog):
    d = dialog
    number = await file_ticket(d, PARENT, HITTING, scene="school:jn-syxx", consent="1")
    t = await ticket(d, number)
    assert t["category"] == "burden" and t["unit_code"] == "jn-jyj"
    await quiet(d, SCHOOL)


async def test_conduct_words_are_never_added_to_a_ticket_the_school_holds(dialog):
    d = dialog
    first = await file_ticket(d, PARENT, "孩子每天作业写到晚上十一点，作业太多了", scene="school:jn-syxx", consent="1")
    assert (await ticket(d, first))["unit_code"] == "jn-syxx"
    await drain(d, SCHOOL, SCHOOL_HEAD)
    reply = await talk(d, PARENT, HITTING)
    for answer in ("1", "0", "1", "1"):  # 投诉, no phone, consent, submit: never "补充到原留言"
        assert "补充到原留言" not in reply
        if "受理编号" in reply:
            break
        reply = await talk(d, PARENT, answer)
    second = NUMBER.search(reply).group(0)
    assert second != first
    assert "手心" not in (await ticket(d, first))["text"]
    assert (await ticket(d, second))["unit_code"] == "jn-jyj"
    await quiet(d, SCHOOL)
    await quiet(d, SCHOOL_HEAD)
