"""people17: the citizen's side of the conversation, leftovers of people15/16 -- each a short dialogue test through
the sandbox (WeChat's encrypted XML over real HTTP, the shipped router, the demo directory), each failing on main
f596538 but the guards marked so."""
from __future__ import annotations

import pytest

from handlers import texts
from handlers.routing import Router
from tests.dialog import talk
from tests.test_people14_dialogs import summary
from tests.test_people15_dialogs import at_phone

PAPERS = "资料费每人300元 不给收据"  # a fee: the kind is asked first, then the school


# -- 1. a refusal of consent said before any school is known is kept when the school is named later ---------------------
@pytest.mark.parametrize("refusal", ["别让学校知道", "不同意",
                                     # (from the messy chat: these got 稍后会问您是否同意…, and the question later)
                                     "千万别让学校知道是我啊", "不想让学校知道是我反映的"])
async def test_a_refusal_said_before_the_school_is_kept_when_it_is_named_at_another_step(dialog, refusal):
    d, p = dialog, "o_p17_keep"
    await talk(d, p, PAPERS, expect="请问您这次是")
    await talk(d, p, refusal, expect="不让学校知道您的身份", absent="已补充")
    await talk(d, p, "江南区实验小学", expect=["涉及学校：江南区实验小学", "请问您这次是"])
    await talk(d, p, "1", expect="联系电话")
    # it was 是否同意让学校知道您的身份？ -- the decision said was dropped when the school came
    reply = await talk(d, p, "0", expect="请核对", absent="是否同意让学校知道您的身份")
    assert "身份信息：对学校保密" in reply, reply


async def test_a_school_named_after_nothing_was_decided_still_asks_consent(dialog):  # a guard: asked when not said
    d, p = dialog, "o_p17_ask"
    await talk(d, p, PAPERS, expect="请问您这次是")
    await talk(d, p, "江南区实验小学", expect="请问您这次是")
    await talk(d, p, "1", expect="联系电话")
    await talk(d, p, "0", expect="是否同意让学校知道您的身份")


# -- 2. a menu's digit at the phone question is no wrong number ------------------------------------------------------
@pytest.mark.parametrize("digit", ["1", "2", "１"])
async def test_a_menu_digit_at_the_phone_question_is_asked_again_kindly(dialog, digit):
    d, p = dialog, "o_p17_digit"
    await at_phone(d, p)
    # it was 号码格式不对 (1 pressed as at the kind question's 1–4)
    await talk(d, p, digit, expect=["不用选数字", "请直接发送电话号码", "不留请回复 0"], absent="号码格式不对")
    await talk(d, p, "1391234", expect="号码格式不对")  # (a guard: a number too short is a wrong number)
    await talk(d, p, "13912345678", expect="是否同意让学校知道您的身份")


# -- 3. why the phone is asked, at its question: who sees it is said once ----------------------------------------------
@pytest.mark.parametrize("asked", ["为什么要留电话", "电话安全吗", "有什么用？"])
async def test_why_the_phone_at_its_question_says_who_sees_it_once(dialog, asked):
    d, p = dialog, "o_p17_why"
    await at_phone(d, p)
    reply = await talk(d, p, asked, expect=["留电话是为了", "联系电话"], absent="已补充")
    # it was PHONE_WHY (号码只有工作人员可见，且隐去中间四位) above the question that says so too
    assert reply.count("隐去中间四位") == 1, reply


async def test_why_the_phone_before_its_question_still_says_who_sees_it(dialog):  # a guard
    d, p = dialog, "o_p17_why_early"
    await talk(d, p, PAPERS, expect="请问您这次是")
    await talk(d, p, "电话安全吗", expect=[texts.PHONE_WHY, "请问您这次是"], absent="已补充")


# -- 4. a district said with no school, for a district's matter: its bureau handles it ---------------------------------
async def test_an_admission_question_naming_a_district_goes_to_that_district_s_bureau(dialog):
    d, p = dialog, "o_p17_place"
    reply = await summary(d, p, await talk(d, p, "江北那边的小学怎么报名入学？户口在江北"))
    # it was 承办单位：市教育局招生入学处 -- the district said was dropped
    assert "承办单位：江北区教育局" in reply and "涉及学校" not in reply, reply
    await talk(d, p, "1", expect=["受理编号", "江北区教育局"])


async def test_an_admission_question_naming_no_district_goes_to_the_city_office(dialog):  # a guard
    d, p = dialog, "o_p17_noplace"
    reply = await summary(d, p, await talk(d, p, "孩子明年上小学，怎么报名入学？"))
    assert "承办单位：市教育局招生入学处" in reply, reply


# -- 5. the writer's own scolding before a refusal of school is no alarm -----------------------------------------------
async def test_the_parent_s_own_scolding_then_a_refusal_is_no_alarm(dialog):
    d, p = dialog, "o_p17_own"
    # it was 您说的情况关系到人身安全…12355 and 紧急事项
    await talk(d, p, "我骂了他几句，他就不想上学了", absent=["12355", "紧急", "人身安全"])


async def test_a_teacher_s_scolding_then_a_refusal_is_still_urgent(dialog):  # a guard
    d, p = dialog, "o_p17_teacher"
    await talk(d, p, "班主任骂孩子猪脑子，孩子不想上学了", expect=["12355", "紧急"])


def test_whose_scolding_it_was_is_read_from_the_clause():
    router = Router.from_toml()
    for text in ("我骂了他几句，他就不想上学了", "他爸骂了他一顿 孩子现在不想去上学"):
        assert not router.route(text).urgent, text
    # someone at school in the clause, or someone else's scolding after the parent's: urgent
    for text in ("同学笑我骂我，我不想去上学了", "我骂了他几句。老师也骂他，孩子现在不敢去学校了"):
        assert router.route(text).urgent, text
