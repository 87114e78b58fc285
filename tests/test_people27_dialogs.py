"""people27: a parent on a phone, messily -- each a short dialogue test through the sandbox (WeChat's encrypted XML
over real HTTP, the shipped router, the demo directory), each failing on main unless marked a guard."""
from __future__ import annotations

import re

import pytest

from storage import tickets
from tests.dialog import DISTRICT, NUMBER, answer_until, heard, send, talk, talk_all
from tests.test_citizen_dialogs import resolved
from tests.test_people14_dialogs import summary
from tests.test_people22_dialogs import told

MISSING = "孩子放学到现在还没回家，班主任电话也打不通，急死了"


async def page(d, detail: str) -> str:
    """The citizen's own web page, from the link 查询 编号 gave."""
    link = re.search(r"http://[^/]+(/t/\S+)", detail).group(1)
    async with d.session.get(link) as resp:
        assert resp.status == 200, await resp.text()
        return re.sub(r"\s+", " ", await resp.text())


# -- 1. one word for the kind: the summary's 紧急求助 everywhere, and the page says it is urgent --------------------
async def test_a_call_for_help_is_named_alike_in_the_summary_the_list_the_detail_the_page_and_for_staff(dialog):
    d, p = dialog, "o_p27_urgent"
    await talk(d, p, MISSING, expect="110")
    await talk(d, p, "江南区育英小学")
    await talk(d, p, "13912345678")
    await talk(d, p, "1", expect="类型：紧急求助")
    number = NUMBER.search(await talk(d, p, "1", expect="受理编号")).group(0)
    # it was 投诉 in 查询's list, its detail, the web page (which did not say it was urgent) and for staff
    await talk(d, p, "查询", expect=f"{number} 紧急求助", absent="投诉")
    detail = await talk_all(d, p, "查询 " + number, expect="类型：紧急求助", absent="类型：投诉")
    html = await page(d, detail)
    assert "<dd>紧急求助</dd>" in html and "已同时报告主管负责人" in html and "投诉" not in html, html
    await heard(d, DISTRICT, expect="类型：紧急求助", absent="类型：投诉")
    await talk(d, DISTRICT, "待办", expect=f"{number}｜紧急求助", absent="｜投诉")
    await talk_all(d, DISTRICT, "详情 " + number, expect="紧急求助", absent="投诉·")


async def test_an_ordinary_complaint_is_still_a_complaint_everywhere(dialog):  # a guard
    d, p = dialog, "o_p27_plain"
    await talk(d, p, "江南区实验小学收资料费每人300元 不给收据")
    await talk(d, p, "1")
    await talk(d, p, "0")
    await talk(d, p, "2", expect="类型：投诉")
    number = NUMBER.search(await talk(d, p, "1", expect="受理编号")).group(0)
    html = await page(d, await talk_all(d, p, "查询 " + number, expect="类型：投诉"))
    assert "<dd>投诉</dd>" in html and "紧急" not in html, html


# -- 2. “2 还需要人工答复” after another message: the answer's question still goes to a person --------------------------
FAQ_Q = "中考什么时候报名"


async def test_a_late_two_after_an_instant_answer_gets_a_person(dialog):
    d, p = dialog, "o_p27_late"
    await talk(d, p, FAQ_Q, expect="2 还需要人工答复")
    await talk(d, p, "你好")
    # it was 您目前没有正在填写的留言: the ask was lost
    await talk(d, p, "2", expect=["转人工", "联系电话"], absent="没有正在填写")
    reply = await talk(d, p, "0", expect=["类型：咨询", "承办单位：市教育考试院"])
    assert told(reply) == FAQ_Q, reply


async def test_asking_for_a_person_in_words_after_a_call_gets_one(dialog):
    d, p = dialog, "o_p27_late_words"
    await talk(d, p, FAQ_Q, expect="2 还需要人工答复")
    await talk(d, p, "在吗", expect="我在")
    # it was the 12345 question (a matter outside education)
    await talk(d, p, "还需要人工答复", expect=["转人工", "联系电话"], absent="12345")
    assert told(await talk(d, p, "0", expect="类型：咨询")) == FAQ_Q


async def test_a_wechat_smiley_is_a_feeling_not_a_message(dialog):
    d, p = dialog, "o_p27_smiley"
    await talk(d, p, FAQ_Q, expect="2 还需要人工答复")
    # it ended the question and began a message “[捂脸]” (请问您说的是哪方面的事情？)
    await talk(d, p, "[捂脸]", expect="这个回答解决了您的问题吗", absent="哪方面")
    await talk(d, p, "2", expect="转人工")
    await talk(d, p, "取消")
    await talk(d, p, "[微笑][微笑]", expect="请直接用文字说明情况", absent="哪方面")  # as 😊 is
    reply = await talk(d, p, "你好[抱拳]", expect="投诉、建议、咨询或表扬")  # greeted, as 你好🙏 is
    reply = await talk(d, p, "江南区实验小学收资料费每人300元 不给收据[发怒]")
    assert "[抱拳]" not in told(await summary(d, p, reply))


async def test_a_two_with_no_instant_answer_behind_it_is_what_it_was(dialog):  # a guard
    await talk(dialog, "o_p27_two", "2", expect="没有正在填写", absent="转人工")


async def test_a_late_two_after_a_settled_answer_asks_nothing(dialog):  # a guard: 解决了 is their last word
    d, p = dialog, "o_p27_settled"
    await talk(d, p, FAQ_Q)
    await talk(d, p, "1", expect="很高兴")
    await talk(d, p, "你好")
    await talk(d, p, "2", absent="转人工")


# -- 3. 我要匿名 at the kind's question: taken, and the question again -------------------------------------------------
PHONES = "江南区实验小学的老师上课总是玩手机"


async def test_anonymous_said_at_the_kind_question_is_taken(dialog):
    d, p = dialog, "o_p27_anon"
    await talk(d, p, PHONES, expect="请问您这次是")
    # it was 请回复数字 1–4, and the wish forgotten (the consent question asked later as if never said)
    await talk(d, p, "我要匿名", expect=["不让学校知道您的身份", "请问您这次是"], absent="请回复数字 1–4")
    await talk(d, p, "1", expect="联系电话")
    reply = await talk(d, p, "0", expect="身份信息：对学校保密", absent="是否同意让学校知道")
    assert told(reply) == PHONES, reply


async def test_anonymous_complaint_at_the_kind_question_takes_both(dialog):
    d, p = dialog, "o_p27_anon2"
    await talk(d, p, PHONES, expect="请问您这次是")
    await talk(d, p, "我要匿名投诉", expect=["不让学校知道您的身份", "联系电话"])  # (the kind was taken, the wish lost)
    await talk(d, p, "0", expect=["类型：投诉", "身份信息：对学校保密"])


# -- 4. is anyone there? in English, answered as 在吗 is ----------------------------------------------------------
async def test_is_anyone_there_in_english_is_answered_we_are_here(dialog):
    d, p = dialog, "o_p27_en"
    # it began a message "is anyone there" (What is this about? …)
    await talk(d, p, "is anyone there", expect="How can we help", absent="What is this about")
    await talk(d, p, "hello?", expect=["Hello, we are here.", "How can we help"], absent="What is this about")
    reply = await talk(d, p, "My son was bullied at Jiangnan Experimental Primary School, two boys hit him yesterday")
    assert "Hello, we are here." in await talk(d, p, "anybody there?", absent="Added to your message"), reply
    await talk(d, "o_p27_zh", "在吗", expect="请问遇到了什么事", absent="How can we help")  # a guard: as before


# -- 5. 等一下 我还想说: listened for, never the words of the message -------------------------------------------------
async def test_wait_i_have_more_to_say_is_never_kept_as_the_message(dialog):
    d, p = dialog, "o_p27_more"
    # as a first message it began the draft (请问您说的是哪方面的事情？) and led the text
    await talk(d, p, "等一下 我还想说", expect="您请说", absent="哪方面")
    await talk(d, p, "江南区实验小学收资料费每人300元", expect="请问您这次是")
    # at a question it was 请回复数字 1–4 (or 没有提交的留言会为您保存: as if they were leaving)
    await talk(d, p, "等一下，我还想说点", expect="您接着说", absent=["请回复数字", "为您保存"])
    await talk(d, p, "不给收据 老师说不交就不发书", expect="已补充")
    await talk(d, p, "1")
    reply = await summary(d, p, await talk(d, p, "0"))
    assert told(reply) == "江南区实验小学收资料费每人300元\n不给收据 老师说不交就不发书", reply


# -- 6. the matter asked for again: never the same words twice running --------------------------------------------
async def test_the_matter_asked_again_is_never_the_same_words(dialog):
    d, p = dialog, "o_p27_matter"
    asked = [await talk(d, p, "我要反映个事", expect="请说说您要反映的具体事情")]
    for text in ("你们管不管", "就是那个事", "哎", "怎么说呢"):
        asked.append(await talk(d, p, text))
    tails = [a.split("\n")[-1] for a in asked]
    assert all(a != b for a, b in zip(tails, tails[1:])), tails  # (it was the same question, word for word)
    assert any("还需要您说说具体是什么事" in t for t in tails) and any("可以这样说" in t for t in tails), tails
    await talk(d, p, "江南区实验小学", expect="涉及学校：江南区实验小学")
    await talk(d, p, "收资料费每人300元 不给收据", expect="联系电话")


# -- 7. 一般般吧 / 还不错 asked for a rating: asked about, never a new message ---------------------------------------
@pytest.mark.parametrize("said, score", [("一般般吧", "基本满意"), ("还不错", "满意")])
async def test_a_rating_in_plain_words_is_asked_about_not_started_as_a_message(dialog, said, score):
    d, p = dialog, "o_p27_rate"
    number = await resolved(d, p)
    # 一般般吧 began a new message (请问您说的是哪方面的事情？) and the ticket went unrated
    await talk(d, p, said, expect=[f"评价留言 {number}（{score}）吗"], absent="哪方面")
    await talk(d, p, "1", expect="感谢")
    assert (await d.db(tickets.get, number))["rating"] == {"满意": 1, "基本满意": 2}[score]


# -- 8. corrections: the school named anew, a sum said wrong ------------------------------------------------------
async def test_a_school_corrected_keeps_the_correction_in_the_words_staff_read(dialog):
    d, p = dialog, "o_p27_school"
    await talk(d, p, "江南区实验小学收资料费每人300元 不给收据", expect="请问您这次是")
    await talk(d, p, "1")
    await talk(d, p, "不对 不是实验小学 是育英小学", expect="涉及学校：江南区育英小学")
    reply = await summary(d, p, await talk(d, p, "0"))
    # the text said 实验小学 and nothing said it was wrong: staff at 育英 read of another school
    assert told(reply) == "江南区实验小学收资料费每人300元 不给收据\n不对 不是实验小学 是育英小学", reply


async def test_a_sum_said_wrong_is_a_correction_not_another_matter(dialog):
    d, p = dialog, "o_p27_sum"
    await talk(d, p, "江南区实验小学收资料费每人300元 不给收据", expect="请问您这次是")
    await talk(d, p, "1")
    # it asked 您是想改说另一件事吗？ (1 改说这件事 2 两件都要反映 3 是对刚才内容的补充或更正)
    await talk(d, p, "刚才说错了 是400元不是300元", expect=["已记下您的更正", "联系电话"], absent="另一件事")
    reply = await summary(d, p, await talk(d, p, "0"))
    assert told(reply).endswith("\n刚才说错了 是400元不是300元"), reply


async def test_another_change_of_subject_is_still_asked(dialog):  # a guard
    d, p = dialog, "o_p27_other"
    await talk(d, p, "江南区实验小学收资料费每人300元 不给收据", expect="请问您这次是")
    await talk(d, p, "1")
    await talk(d, p, "不对 其实我想问校车几点发车", expect="另一件事")


# -- 9. a school's QR code, and the words name another school: asked, never the code's school silently -----------
async def test_a_school_the_words_name_is_offered_over_the_qr_codes(dialog):
    d, p = dialog, "o_p27_scene"
    await send(d, p, type="scan", scene="school:jn-syxx")  # 江南区实验小学's code
    reply = await talk(d, p, "我孩子在育英小学 老师收300元资料费不给收据")
    reply = await answer_until(d, p, reply, "是这所学校吗")
    assert "江南区育英小学" in reply, reply
    reply = await summary(d, p, await talk(d, p, "1"))
    assert "涉及学校：江南区育英小学" in reply, reply  # it was 江南区实验小学, the code's


async def test_the_qr_codes_school_named_loosely_stays(dialog):  # a guard
    d, p = dialog, "o_p27_scene2"
    await send(d, p, type="scan", scene="school:jn-syxx")
    reply = await summary(d, p, await talk(d, p, "实验小学收300元资料费不给收据"))
    assert "涉及学校：江南区实验小学" in reply and "是这所学校吗" not in reply, reply


# -- 10. 一 / 零 / 二 typed in characters at the numbered questions ----------------------------------------------------
async def test_numbers_typed_in_characters_answer_the_questions(dialog):
    d, p = dialog, "o_p27_han"
    await talk(d, p, PHONES, expect="请问您这次是")
    await talk(d, p, "一", expect="联系电话", absent="请回复数字 1–4")  # (it was the numbers again)
    await talk(d, p, "零", expect="是否同意让学校知道")  # (it was the phone question again)
    await talk(d, p, "二", expect=["类型：投诉", "身份信息：对学校保密"])
    await talk(d, p, "一", expect="受理编号")


async def test_nobody_answering_in_broken_english_is_answered_we_are_here(dialog):
    # it began a message: "What is this about? …"
    await talk(dialog, "o_p27_caps", "WHY NO ONE ANSWER", expect="How can we help", absent="What is this about")


# -- 11. how it ended, told in a line (or a smiley) when a rating is asked: asked about, never a new message ---------
@pytest.mark.parametrize("said, score", [("钱已经退了 谢谢", 1), ("钱还没退", 3), ("满意满意👍", 1), ("[强][强]", 1)])
async def test_a_rating_told_as_how_it_ended_is_asked_about(dialog, said, score):
    d, p = dialog, "o_p27_ended"
    number = await resolved(d, p)
    # 钱已经退了 谢谢 was the 12345 question; 满意满意👍 a new message; [强][强] 收到。如需反映问题…
    name = {1: "满意", 3: "不满意"}[score]
    await talk(d, p, said, expect=f"评价留言 {number}（{name}）吗", absent=["12345", "哪方面", "请直接用文字"])
    await talk(d, p, "1")
    t = await d.db(tickets.get, number)
    assert (t["rating"] == 1) if score == 1 else (t["state"] == "reopened" and t["reopens"] == 1), t
