"""people16: the citizen's side of the conversation, found wrong in real chats -- each a short dialogue test through
the sandbox (WeChat's encrypted XML over real HTTP, the shipped router, the demo directory), each failing on main f2c7a10
but the guards marked so (right there too, kept to stay right)."""
from __future__ import annotations

import pytest

from handlers import intake, names
from handlers.routing import Router
from storage import directory
from tests.dialog import talk
from tests.test_people14_dialogs import FEES, summary

JB_SYXX = {"code": "jb-syxx", "name": "江北区实验小学", "kind": "school", "district": "江北区", "parent": "jb-jyj"}


# -- a place said around a school's name narrows the look-up ----------------------------------------------------------
@pytest.mark.parametrize("said, school", [
    ("实验小学吧好像是江南的", "江南区实验小学"), ("江南那个实验小学", "江南区实验小学"), ("实验小学 江南区的", "江南区实验小学"),
    ("江南区的实验", "江南区实验小学"), ("好像是江北的实验小学吧", "江北区实验小学")])  # (the last two: guards)
async def test_a_place_said_around_a_school_name_picks_that_place_s_school(dialog, said, school):
    d, p = dialog, "o_p16_place"
    await d.db(directory.upsert, [JB_SYXX])  # two 实验小学 in the city
    await talk(d, p, FEES, expect="哪所学校")
    # it was 已补充到留言内容 and the question again, 没有找到这所学校, or both schools offered
    reply = await summary(d, p, await talk(d, p, said, absent=["已补充", "没有找到", "您是指以下哪所学校"]))
    assert f"涉及学校：{school}" in reply and said not in reply, reply


@pytest.mark.parametrize("said", ["江南区的", "江南那边的", "好像是江南的吧"])
async def test_a_place_alone_names_no_school(dialog, said):
    d, p = dialog, "o_p16_place_alone"
    await talk(d, p, FEES, expect="哪所学校")
    # (one 实验小学 and five other schools in 江南区: none is taken or offered for a place)
    # it was 没有找到这所学校 (as if a school had been named), or 已补充到留言内容 (江南那边的 added to the complaint)
    await talk(d, p, said, expect="请问是江南区的哪所学校", absent=["联系电话", "是这所学校吗", "您是指以下哪所学校", "已补充"])
    await talk(d, p, "实验小学", expect="联系电话")  # the name then: taken


def test_a_place_named_is_read_from_the_directory_s_districts():
    rows = [("a", "江南区实验小学", "江南区"), ("b", "江北区实验小学", "江北区"), ("c", "市第一中学", None)]
    assert names.place_named("江南那个实验小学", rows) == (frozenset({"a"}), "实验小学")
    assert names.place_named("实验小学 江北区的", rows) == (frozenset({"b"}), "实验小学")
    assert names.place_named("江南区的", rows) == (frozenset({"a"}), "")
    assert names.place_named("市一中", rows) == (None, "市一中")  # 市 alone is no place anyone names


# -- a kind named or guessed stays; only what the person says changes it ----------------------------------------------
async def test_a_named_kind_stays_when_remarks_are_added_before_and_at_the_summary(dialog):
    d, p = dialog, "o_p16_named"
    await talk(d, p, "我要投诉 江南区实验小学乱收费 资料费每人300元", expect="联系电话")
    await talk(d, p, "这种情况怎么办？是不是合理的？", expect="已补充到留言内容")
    reply = await summary(d, p, await talk(d, p, "0"))
    assert "类型：投诉\n" in reply, reply
    # it was 已改为咨询 (请问 read as the kind named), and the question itself lost
    await talk(d, p, "请问这个钱能退吗？", expect=["已补充到留言内容", "类型：投诉\n", "请问这个钱能退吗"], absent="已改为")
    await talk(d, p, "其实我是想咨询一下", expect=["类型：咨询"])  # said: changed


async def test_a_guessed_kind_is_not_guessed_again_from_a_remark_at_the_phone_question(dialog):
    d, p = dialog, "o_p16_guess"
    await talk(d, p, "江南区实验小学乱收费，资料费每人300元", expect="联系电话")
    await talk(d, p, "这种情况怎么办？", expect="已补充到留言内容")
    # it was 类型：咨询（按您的描述归类…）: the remark's 怎么办 and ？ outweighed the complaint's words
    reply = await summary(d, p, await talk(d, p, "0"))
    assert "类型：投诉（按您的描述归类" in reply, reply
    await talk(d, p, "学校还让买教辅，我要投诉", expect=["类型：投诉\n"], absent="按您的描述归类")  # named now


def test_the_kind_said_is_one_rule():
    said = intake.kind_said
    assert said("其实我是想咨询一下 这样收费合理吗") == "inquiry" and said("学校还让买资料，我要投诉") == "complaint"
    assert said("改为建议") == "suggestion" and said("这是建议") == "suggestion" and said("是咨询不是投诉") == "inquiry"
    assert said("我觉得这已经是投诉了 孩子天天吃不饱") == "complaint"
    for remark in ("请问这个钱能退吗？", "建议严查", "麻烦尽快处理，感谢", "我不是要投诉", "不想投诉了", "这种情况怎么办？",
                   "老师说是建议我们买"):
        assert said(remark) is None, remark


# -- a refusal of school told after a teacher's treatment, in another message ----------------------------------------
async def test_a_refusal_of_school_in_a_later_message_is_urgent(dialog):
    d, p = dialog, "o_p16_refuse"
    await talk(d, p, "老师让孩子罚站走廊", expect="哪所学校", absent="12355")
    # it was 这条消息像是另一件事（招生入学）, and the matter never urgent
    reply = await talk(d, p, "孩子都不去上学了", expect=["已补充到留言内容", "12355", "紧急"], absent="另一件事")
    assert "哪所学校" in reply


async def test_school_named_in_a_later_message_without_a_refusal_is_no_alarm(dialog):  # a guard: no false alarm
    d, p = dialog, "o_p16_settled"
    await talk(d, p, "老师罚站过孩子", absent="12355")
    await talk(d, p, "后来老师道歉了，孩子现在每天都高高兴兴去上学", absent=["12355", "紧急"])


def test_a_child_who_will_not_go_to_school_is_no_enrolment():
    router = Router.from_toml()
    for text in ("孩子不想上学了", "孩子都不去上学了", "孩子不肯去上学怎么办"):
        decision = router.route(text)
        assert decision.category == "burden" and not decision.urgent, (text, decision.category)  # people19: the school's
    assert router.route("孩子到了上学年龄，户口不在本地，怎么办入学").category == "admission"


async def test_a_teacher_s_scolding_then_a_refusal_gets_the_youth_hotline_not_110(dialog):
    d, p = dialog, "o_p16_hotline"
    await talk(d, p, "我家孩子班主任老是骂他", expect="哪所学校")
    # it was 如孩子正面临危险，请立即拨打110 (不想去上学 was none of the hotline's own copy of the wordings)
    await talk(d, p, "孩子现在都不想去上学了 怎么办啊", expect=["12355", "紧急事项"], absent="110")


# -- a question about the phone, with or without its question mark, at the phone question or before it ---------------
@pytest.mark.parametrize("asked", ["留电话的话老师会打给我吗", "电话会给学校吗", "学校能看到我的号码吗？", "留了电话老师会知道吗"])
async def test_a_question_about_the_phone_is_answered_not_added(dialog, asked):
    d, p = dialog, "o_p16_phone"
    await talk(d, p, FEES, expect="哪所学校")
    # it was 已补充到留言内容 and the question again: the worry became part of the complaint
    await talk(d, p, asked, expect=["学校看不到您的号码", "是否同意让学校知道您的身份", "哪所学校"], absent="已补充")
    await talk(d, p, "江南区实验小学", expect="联系电话")
    await talk(d, p, asked, expect=["学校看不到您的号码", "是否同意让学校知道您的身份", "联系电话"], absent="已补充")
    reply = await summary(d, p, await talk(d, p, "0"))
    assert asked not in reply, reply


def test_a_call_told_in_the_story_is_no_question_about_the_phone():
    for story in ("老师为什么一直打电话给我？", "老师天天打电话骂我，这合理吗", "班主任给我打电话说孩子受伤了"):
        assert not intake.PHONE_ASKED.search(story), story


# -- from the messy chat -----------------------------------------------------------------------------------------------
async def test_a_piece_of_a_name_with_words_around_it_offers_the_schools_it_may_be(dialog):
    d, p = dialog, "o_p16_piece"
    await d.db(directory.upsert, [JB_SYXX])
    await talk(d, p, FEES, expect="哪所学校")
    # it was 没有找到这所学校 (the whole reply matched against the names)
    reply = await talk(d, p, "学校是实验的", expect=["您是指以下哪所学校", "江南区实验小学", "江北区实验小学"])
    line = next(x for x in reply.splitlines() if "江北区实验小学" in x)
    await talk(d, p, line.split()[0], expect="联系电话")


async def test_not_wanting_to_leave_it_after_the_phone_was_asked_about_keeps_the_school_question(dialog):
    d, p = dialog, "o_p16_noleave"
    await talk(d, p, FEES, expect="哪所学校")
    await talk(d, p, "电话会给学校吗", expect=["学校看不到您的号码", "哪所学校"])
    # it was read as no school named (不想… declines), the school question skipped
    await talk(d, p, "不想留", expect=["不留联系电话", "哪所学校"], absent="如方便")
    reply = await summary(d, p, await talk(d, p, "江南区实验小学", absent="如方便"))
    assert "涉及学校：江南区实验小学" in reply and "联系电话：未留" in reply, reply


async def test_not_leaving_it_said_at_the_kind_question_after_the_phone_was_asked_about_is_kept(dialog):
    d, p = dialog, "o_p16_kind_phone"
    await talk(d, p, "江南区育英小学的午餐 量太少了", expect="请问您这次是")
    await talk(d, p, "留了电话会不会老师打给我？", expect=["学校看不到您的号码", "请问您这次是"], absent="已补充")
    # it was 请回复数字 1–4, and the phone asked for after the kind anyway
    await talk(d, p, "那不留了", expect=["不留联系电话", "请问您这次是"])
    reply = await summary(d, p, await talk(d, p, "1", absent="如方便"))
    assert "联系电话：未留" in reply and "不留了" not in reply, reply
