"""people23: a parent on a phone typing messily -- each a short dialogue test through the sandbox (WeChat's encrypted
XML over real HTTP, the shipped router, the demo directory), each failing on main 19e526d unless marked a guard."""
from __future__ import annotations

import pytest

from storage import tickets
from tests.dialog import NUMBER, file_ticket, talk
from tests.test_citizen_dialogs import resolved
from tests.test_people14_dialogs import summary
from tests.test_people22_dialogs import told

FEES = "江南区实验小学收资料费每人300元 不给收据 老师说不交就不发书"


# -- 1. 喂喂喂…怎么没人回: a person at the counter says "I'm here" and asks what happened -----------------------------
async def test_calls_for_attention_and_nobody_answering_get_i_am_here_and_what_happened(dialog):
    d, p = dialog, "o_p23_wei"
    await talk(d, p, "喂", expect="请问遇到了什么事")
    # 30 喂 and 怎么没人回 was the 12345 question (a matter outside education)
    await talk(d, p, "喂" * 30 + "怎么没人回", expect=["您好，我在。", "请问遇到了什么事"], absent=["12345", "请回复 1"])
    await talk(d, p, "怎么没人回", expect="您好，我在。", absent="请再具体说说")  # (was the start of a message)
    await talk(d, p, "在吗在吗", expect=["您好，我在。", "请问遇到了什么事"], absent="投诉、建议、咨询或表扬")
    await talk(d, p, "你好", expect="投诉、建议、咨询或表扬")  # a guard: a greeting is greeted as before
    reply = await summary(d, p, await talk(d, p, FEES))
    assert told(reply) == FEES, reply  # nothing of the calls is in the message


async def test_nobody_answering_with_a_message_in_hand_is_told_where_it_is(dialog):
    d, p = dialog, "o_p23_wait"
    number = await file_ticket(d, p, FEES)
    await talk(d, p, "喂喂 怎么还没人回", expect=["您好，我在。", number], absent=["12345", "请问遇到了什么事"])
    assert [t["number"] for t in await d.db(tickets.for_citizen, p)] == [number]  # nothing new started


# -- 2. 算了 alone in the middle of a message: asked first; said again (or 取消), dropped -----------------------------
LONG = FEES + " 这学期已经是第二次了 上次的也没退"


async def test_a_stray_sigh_mid_draft_asks_before_the_message_is_dropped(dialog):
    d, p = dialog, "o_p23_sigh"
    await talk(d, p, LONG, expect="联系电话")
    # it was 已取消，本次留言未提交 at once: a long message lost to one sigh
    await talk(d, p, "算了", expect=["您的留言还没有提交", "取消", "联系电话"], absent="已取消")
    await talk(d, p, "0", expect="是否同意让学校知道您的身份")  # they go on: nothing lost
    await talk(d, p, "哎 算了吧", expect=["您的留言还没有提交", "是否同意"], absent="已补充")  # (was 请回复 1 或 2)
    reply = await summary(d, p, await talk(d, p, "2"))
    assert told(reply) == LONG, reply


async def test_giving_up_said_again_after_the_question_drops_the_message(dialog):
    d, p = dialog, "o_p23_twice"
    await talk(d, p, LONG, expect="联系电话")
    await talk(d, p, "算了", expect="您的留言还没有提交")
    await talk(d, p, "算了", expect="已取消")  # asked and said again: done as they say
    await talk(d, p, FEES, expect="联系电话", absent="上次没有提交")  # nothing kept to offer back
    await talk(d, p, "算了 不反映了", expect="您的留言还没有提交")
    await talk(d, p, "不反映了", expect="已取消")  # (it was asked again each time)
    await talk(d, p, "投诉", expect="按投诉办理")
    await talk(d, p, "算了", expect="已取消")  # a guard: nothing written yet, nothing to lose: at once


# -- 3. a common answer serves what was asked: the fee, not the dates -------------------------------------------
@pytest.mark.parametrize("asked", ["请问中考报名要交多少钱", "中考报名费多少"])
async def test_a_question_about_a_fee_is_not_answered_with_dates(dialog, asked):
    d, p = dialog, "o_p23_fee"
    # it was the 中考报名 entry: 一般在每年3月中旬… (when, not how much) and 这个回答解决了您的问题吗？
    await talk(d, p, asked, expect="联系电话", absent=["3月中旬", "解决了您的问题吗"])
    reply = await talk(d, p, "0", expect=["类型：咨询", "承办单位：市教育考试院"])  # a person at the office answers
    assert told(reply) == asked, reply


async def test_a_question_about_dates_still_gets_the_common_answer(dialog):  # a guard
    await talk(dialog, "o_p23_when", "中考什么时候报名", expect=["3月中旬", "解决了您的问题吗"])


# -- 4. an English school name alone, in an English conversation --------------------------------------------------
@pytest.mark.parametrize("name", ["Heping Junior High", "Heping junior high school"])
async def test_an_english_school_name_alone_is_taken_and_answered_in_english(dialog, name):
    d, p = dialog, "o_p23_en"
    await talk(d, p, "hello")
    # it was 好的，涉及学校：… 请说说您要反映的具体事情 (and "Junior High" alone the 12345 question)
    await talk(d, p, name, expect=["School noted: 江南区和平初级中学", "what happened"],
               absent=["请说说", "好的", "12345"])
    await talk(d, p, "The teacher keeps the kids after school until 7pm every day", absent="哪所学校")


# -- 5. a phone number sent in pieces is put together ----------------------------------------------------------
async def test_a_phone_sent_in_pieces_is_put_together(dialog):
    d, p = dialog, "o_p23_pieces"
    await talk(d, p, LONG, expect="联系电话")
    # each piece was 号码格式不对 and the number lost
    await talk(d, p, "138", expect=["已收到前几位：138", "其余"], absent="号码格式不对")
    await talk(d, p, "1234 5678", expect="是否同意让学校知道您的身份")
    reply = await talk(d, p, "2", expect="联系电话：138****5678")
    number, = NUMBER.findall(await talk(d, p, "1", expect="受理编号"))
    assert (await d.db(tickets.get, number))["contact_phone"] == "13812345678"
    # a guard: a wrong number is still refused
    await talk(d, "o_p23_pieces2", LONG, expect="联系电话")
    await talk(d, "o_p23_pieces2", "5678", expect="号码格式不对")
    await talk(d, "o_p23_pieces2", "1380013", expect="号码格式不对")  # (a number typed short, not a piece)
    assert "号码格式不对" not in reply


# -- 6. a thumbs-up when the result asks for a rating ---------------------------------------------------------
@pytest.mark.parametrize("thumbs, said", [("👍", "满意"), ("👍🏻👍🏻", "满意"), ("👎", "不满意")])
async def test_a_thumb_sent_for_a_rating_is_asked_as_one(dialog, thumbs, said):
    d, p = dialog, "o_p23_thumb"
    number = await resolved(d, p)
    # it was 收到。如需反映问题，请直接用文字说明情况… and the ticket closed 未评价 days later
    await talk(d, p, thumbs, expect=[f"您是要评价留言 {number}（{said}）吗", "1 是"], absent="如需反映问题")
    await talk(d, p, "1", expect="感谢您的评价" if said == "满意" else "重新办理")
    assert (await d.db(tickets.get, number))["rating"] == {"满意": 1, "不满意": 3}[said]


# -- 7. displeasure before any result: about the message in hand, passed to its officer ---------------------------
async def test_displeasure_before_a_result_is_about_the_message_in_hand(dialog):
    d, p = dialog, "o_p23_cross"
    number = await file_ticket(d, p, LONG)
    # it was the 12345 question (不属于教育部门的职责) with a line about 查询 above it
    await talk(d, p, "不满意！！钱根本没退", expect=[f"留言 {number}", "转给承办人员"], absent="12345")
    await talk(d, p, "1", expect=f"已将您的回复转给承办人员（{number}）")
    assert [t["number"] for t in await d.db(tickets.for_citizen, p)] == [number]


# -- 8. 匿名 at the phone question: no phone, and the school is not told -----------------------------------------
async def test_anonymous_at_the_phone_question_keeps_them_unknown_without_asking_again(dialog):
    d, p = dialog, "o_p23_anon"
    await talk(d, p, "孩子班主任收红包 过节不送就给孩子穿小鞋", expect="哪所学校")
    await talk(d, p, "江北区文昌小学", expect="联系电话")
    # it skipped the phone silently and asked 是否同意让学校知道您的身份 of someone who had just said 匿名
    await talk(d, p, "匿名", expect=["不留联系电话", "不让学校知道您的身份", "请核对", "身份信息：对学校保密"],
               absent="是否同意")


# -- 9. 两个都要紧 at the question of which matters most -----------------------------------------------------------
async def test_both_matter_is_answered_with_what_the_choice_decides(dialog):
    d, p = dialog, "o_p23_both"
    await talk(d, p, "我孩子在和平初中 数学老师上课不讲 课后让去他家补课 一次200 另外学校厕所太脏了没人打扫")
    await talk(d, p, "1", expect="哪一件最要紧")
    # each was only 请回复 1 或 2 and the choices again, the question itself unanswered
    await talk(d, p, "两个都要紧 能不能分开反映", expect=["都会写在同一条留言里", "如想分开反映", "哪一件最要紧"])
    await talk(d, p, "都重要", expect=["牵头办理", "请回复 1 或 2", "哪一件最要紧"], absent="如想分开")
    await talk(d, p, "1", expect="是这所学校吗")


# -- 10. 我那个作业的事怎么样了, days later ------------------------------------------------------------------------
async def test_asking_after_a_matter_named_in_a_few_words_is_told_where_it_is(dialog):
    d, p = dialog, "o_p23_howfar"
    number = await file_ticket(d, p, "江南区育英小学 放学后老师让孩子留下来写作业 到6点半才放")
    d.advance(3 * 86400)
    # it was 请问您这次是：1 投诉… (a new message about nothing)
    await talk(d, p, "我那个作业的事怎么样了", expect=[number, "办结"], absent="请问您这次是")
    assert [t["number"] for t in await d.db(tickets.for_citizen, p)] == [number]


# -- 11. the school corrected at the summary ---------------------------------------------------------------------
@pytest.mark.parametrize("fix", ["不对不对 不是育英 是实验小学", "搞错了，应该是江南区实验小学"])
async def test_a_school_corrected_at_the_summary_is_changed(dialog, fix):
    d, p = dialog, "o_p23_fix"
    await talk(d, p, "江南区育英小学 放学后老师让孩子留下来写作业 到6点半才放")
    reply = await summary(d, p, await talk(d, p, "1"))
    assert "涉及学校：江南区育英小学" in reply
    # it was 您是想改说另一件事吗？ (and 3 更正 added the words to the message, the school still 育英)
    reply = await talk(d, p, fix, expect=["江南区实验小学", "请核对"], absent=["另一件事", "涉及学校：江南区育英小学"])
    # (people27) the correction is kept at the end of the words, as said: staff at 实验小学 read a text that names 育英
    assert told(reply).endswith("\n" + fix), reply


# -- 12. a voice's first breaths: who and where, then who, then what happened ------------------------------------
async def test_an_introduction_after_a_filler_and_a_bare_subject_wait_for_the_matter(dialog):
    d, p = dialog, "o_p23_voice"
    # it was 请问您这次是… for the introduction, then 这条消息像是另一件事（师德师风）for 然后他们班主任
    await talk(d, p, "就是那个我家孩子在江北区育才中学读初二", expect="请说说您要反映的具体事情", absent="请问您这次是")
    await talk(d, p, "然后他们班主任", expect="还需要您说说具体是什么事", absent=["另一件事", "请问您这次是"])
    await talk(d, p, "每天晚上在群里发成绩排名 还点名 孩子压力很大 晚上睡不着", expect="请问您这次是",
               absent="另一件事")
