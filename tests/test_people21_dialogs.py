"""people21: a parent on a phone, from stop 23's open list -- each a short dialogue test through the sandbox (WeChat's
encrypted XML over real HTTP, the shipped router, the demo directory), each failing on main fd7e37c but the guards
marked so."""
from __future__ import annotations

import pytest

from handlers import intake, names, texts
from storage import tickets
from tests.dialog import FEES as FEES_STAFF, file_ticket, talk
from tests.test_people14_dialogs import FEES, summary

NO_SCHOOL = "请问家庭困难学生的助学金怎么申请"  # no school: straight to the phone question
ASKED_IN_FULL = "如方便，请留下联系电话"  # the phone question's first line: said once, not after each remark on it


# -- 1. whose phone, and a word about its owner: the phone step's business, never words of the message ---------------
@pytest.mark.parametrize("said", ["留我老公的 他在外地打工挺忙的没空", "用孩子爸爸的吧，他在外地上班，白天接不了电话",
                                  "我老公的 他在外地打工挺忙的没空", "他爸的电话行吗"])
async def test_whose_phone_with_a_word_about_its_owner_is_answered_not_added(dialog, said):
    d, p = dialog, "o_p21_owner"
    await talk(d, p, NO_SCHOOL, expect="联系电话")
    # it was 已补充到留言内容 and the whole phone question again
    await talk(d, p, said, expect=[texts.PHONE_ANY_NUMBER, texts.PHONE_SHORT], absent=["已补充", ASKED_IN_FULL])
    reply = await summary(d, p, await talk(d, p, "13912345678"))
    assert "联系电话：139****5678" in reply and "外地" not in reply, reply


async def test_whose_phone_then_a_story_about_its_owner_is_kept(dialog):  # a guard
    d, p = dialog, "o_p21_owner_story"
    await talk(d, p, NO_SCHOOL, expect="联系电话")
    # more of the story (added, or asked whether it is a new matter): never passed over as a word on the phone
    reply = await talk(d, p, "留孩子爸爸的 他说老师收了补课费", absent=texts.PHONE_ANY_NUMBER)
    assert texts.SUPPLEMENTED in reply or "新的问题" in reply, reply


# -- 2. after a remark about the phone answered at its question: a short follow-up, not the question again -----------
@pytest.mark.parametrize("said", ["用家人的号码也可以", "用的我老公的", "电话为什么一定要留", "电话会给学校吗"])
async def test_a_remark_on_the_phone_at_its_question_gets_a_short_follow_up(dialog, said):
    d, p = dialog, "o_p21_short"
    await talk(d, p, NO_SCHOOL, expect=ASKED_IN_FULL)
    # it was the remark's answer and then the whole two-paragraph phone question again
    await talk(d, p, said, expect=texts.PHONE_SHORT, absent=[ASKED_IN_FULL, "已补充"])
    reply = await summary(d, p, await talk(d, p, "0"))
    assert "联系电话：未留" in reply, reply


# -- 3. a first message that is only about whose phone (or WeChat) it is: answered, nothing started ------------------
@pytest.mark.parametrize("said", ["我没有手机 用的我老公的",  # (people20's: a guard)
                                  "我没有手机，用的是我老公的微信", "这个微信是我老公的"])
async def test_whose_phone_as_a_first_message_starts_nothing(dialog, said):
    d, p = dialog, "o_p21_first"
    # it was the kind question: the remark a draft of its own
    await talk(d, p, said, expect=texts.GREETING_NEXT, absent=["请问您这次是", "已补充"])
    await talk(d, p, "学校收资料费每人300元 不给收据", expect="请问您这次是")
    await talk(d, p, "1", expect="哪所学校")
    reply = await summary(d, p, await talk(d, p, "江南区实验小学"))
    assert reply.split("内容：")[1].startswith("学校收资料费每人300元 不给收据\n回复"), reply


async def test_no_phone_but_a_family_one_at_an_early_question_declines_nothing(dialog):
    d, p = dialog, "o_p21_early"
    await talk(d, p, "学校收资料费每人300元 不给收据", expect="请问您这次是")
    # it was 好的，不留联系电话。 and 用家人的号码也可以 in one reply, and the phone never asked
    await talk(d, p, "我没有手机 用的我老公的", expect=texts.PHONE_ANY_NUMBER, absent=texts.PHONE_SKIPPED)
    await talk(d, p, "1", expect="哪所学校")
    await talk(d, p, "江南区实验小学", expect="联系电话")


async def test_whose_alone_before_the_phone_question_is_words_of_the_message(dialog):  # a guard
    d, p = dialog, "o_p21_bare"
    await talk(d, p, "学校收资料费每人300元 不给收据", expect="请问您这次是")
    # 孩子爸爸的吧 names no phone: whose phone only where its question is on screen
    await talk(d, p, "孩子爸爸的吧", expect=texts.SUPPLEMENTED, absent=texts.PHONE_ANY_NUMBER)


def test_whose_phone_or_wechat_is_one_row_of_the_table():
    for said in ("我没有手机，用的是我老公的微信", "这个微信是我老公的", "留我老公的 他在外地打工挺忙的没空"):
        assert intake._about_a_step(said), said
    assert not intake._about_a_step("老师在微信群里骂孩子")  # a guard: a story


# -- 4. a school's level, when named, is respected: 文昌中学 is never 文昌小学 ------------------------------------------------
async def test_a_middle_school_named_is_never_offered_a_primary_school(dialog):
    d, p = dialog, "o_p21_level"
    await talk(d, p, FEES, expect="哪所学校")
    # it was 江南区没有查到… 是这所学校吗？ 1 江北区文昌小学
    await talk(d, p, "文昌中学 江南那边", expect=texts.SCHOOL_NOT_FOUND, absent="文昌小学")


async def test_a_middle_school_named_in_the_story_is_never_offered_a_primary_school(dialog):
    d, p = dialog, "o_p21_level_story"
    await talk(d, p, "孩子在文昌中学 江南那边 老师收补课费", expect="请问您这次是")
    await talk(d, p, "1", expect="哪所学校", absent="文昌小学")


async def test_a_name_with_no_level_still_offers_the_near_school(dialog):  # a guard
    d, p = dialog, "o_p21_no_level"
    await talk(d, p, FEES, expect="哪所学校")
    await talk(d, p, "文昌的 江南那边", expect=["是这所学校吗", "江北区文昌小学"])


def test_a_level_named_is_one_rule_for_characters_and_pinyin():
    directory = {"jb-wcxx": "江北区文昌小学", "jn-hpcz": "江南区和平初级中学", "sz1": "市第一中学"}
    assert names.match("文昌中学", directory) == [] and names.match("和平幼儿园", directory) == []
    assert names.match("Wenchang Middle School", directory) == []
    assert [m.code for m in names.match("文昌小学", directory)] == ["jb-wcxx"]  # guards
    assert [m.code for m in names.match("和平中学", directory)] == ["jn-hpcz"]  # 中学 holds 初级中学
    assert [m.code for m in names.match("文昌学校", directory)] == ["jb-wcxx"]  # 学校 names no level


# -- 5. a charge reported behind 请问: asked whether it is a complaint, never filed as 咨询 unasked ----------------------
@pytest.mark.parametrize("said", ["请问 江南区实验小学周六补课 收费每人500", "请问实验小学周六补课收费每人500元 江南区的 这样可以吗"])
async def test_a_charge_reported_behind_a_polite_question_asks_the_kind(dialog, said):
    d, p = dialog, "o_p21_charge"
    # it was 类型：咨询, never asked
    await talk(d, p, said, expect=["请问您这次是", "1 投诉", "3 咨询"])
    reply = await summary(d, p, await talk(d, p, "1"))
    assert "类型：投诉" in reply, reply


@pytest.mark.parametrize("said", ["请问学校周六补课要收费吗", "请问补课费一般收多少", "我想咨询一下 学校周六补课收费每人500"])
def test_a_question_about_a_charge_is_still_an_inquiry(said):  # a guard: nothing reported, or 咨询 said outright
    assert intake.infer_kind(intake.normalise(said)) == "inquiry"


def test_a_charge_reported_leaves_the_kind_to_the_parent():
    assert intake.infer_kind(intake.normalise("请问 学校周六补课 收费每人500")) is None


# -- 6. thanks at the end of a dialogue: a short polite answer, nothing filed ----------------------------------------
@pytest.mark.parametrize("said", ["好的谢谢你们的帮助", "非常感谢", "谢谢你们帮忙", "太感谢了！", "谢谢您的耐心解答"])
async def test_thanks_after_the_ticket_number_files_nothing(dialog, said):
    d, p = dialog, "o_p21_thanks"
    await file_ticket(d, p, "学校收资料费每人300元 不给收据")
    # it was a 表扬 draft (请核对…类型：表扬), or 已补充 and the 12345 question
    await talk(d, p, said, expect=texts.THANKS_BACK, absent=["请核对", "已补充", "12345"])
    await talk(d, p, "学校食堂的饭菜经常是凉的", expect="请问您这次是", absent="谢")
    assert len(await d.db(tickets.for_citizen, p, 10)) == 1


async def test_thanks_naming_a_teacher_is_still_praise(dialog):  # a guard
    d, p = dialog, "o_p21_praise"
    reply = await talk(d, p, "谢谢王老师对孩子的耐心帮助", absent=texts.THANKS_BACK)
    assert "请核对" in reply and "类型：表扬" in reply or "哪所学校" in reply, reply


async def test_thanks_after_the_office_answered_is_not_offered_to_the_officer(dialog):
    d, p = dialog, "o_p21_thanks_answered"
    number = await file_ticket(d, p, "江北区文昌小学让买指定练习册，一本八十块，不给发票")
    await talk(d, FEES_STAFF, f"回复 {number} 您好，我们已要求学校整改并退还费用。", expect="已将答复")
    # it was 您是想就留言…继续问承办人员吗？ (1 转给承办人员): thanks passed on as a question
    await talk(d, p, "非常感谢你们的解答", expect=texts.THANKS_BACK, absent="转给承办人员")
