"""Issue 9's numbered citizen items (and issue 8 item 3) as whole conversations through the sandbox: WeChat's
encrypted XML over real HTTP to /wechat, the SHIPPED router, the demo directory and its bound staff
(bot/demo/staff.csv). tests/test_conversation.py checks the same behaviour below the channel, also with a stub."""
from __future__ import annotations

import re

import pytest

from storage import tickets
from tests.dialog import (DISTRICT, DISTRICT_HEAD, DUTY, FEES, LEADER, SCHOOL, SCHOOL_HEAD, drain, file_ticket, heard, quiet,
                          send, talk, talk_all)

PARENT = "o_parent_citizen"
FEES_TEXT = "学校要求每个学生交300元资料费，还不给收据，我要投诉"


async def resolved(d, parent=PARENT) -> str:
    """A fees complaint filed and resolved by the fees office: it now awaits the parent's rating."""
    number = await file_ticket(d, parent, FEES_TEXT, scene="school:jn-syxx")
    await talk(d, FEES, f"办结 {number} 已责令退费", expect="已办结")
    await drain(d, parent, FEES)
    return number


async def ticket(d, number: str) -> dict:
    return await d.db(tickets.get, number)


async def all_tickets(d) -> list[dict]:
    return await d.db(lambda db: [tickets._decode(r) for r in db.query("SELECT * FROM tickets ORDER BY id")])


# -- 8.3: a sentence that starts with a digit is a new message, not a rating ------------------------------------
@pytest.mark.parametrize("message", ["2026年秋季学期开学，学校强制收取校服费600元，不买不让报到",
                                     "3年级数学老师布置的作业太多，孩子每天写到十一点"])
async def test_digits_at_the_start_of_a_sentence_are_not_a_rating(dialog, message):
    d = dialog
    number = await resolved(d)
    reply = await talk(d, PARENT, message, absent=["感谢您的评价", "重新办理", "评价"])
    assert "1 投诉" in reply or "联系电话" in reply, reply  # a new draft (强制收取 reads as a complaint)
    t = await ticket(d, number)
    assert t["state"] == "resolved" and t["rating"] is None
    await quiet(d, FEES)  # the office is told of no rating


# -- 9.1: a rating inside an open draft is a rating, and the draft is kept --------------------------------------
async def test_a_rating_inside_a_draft_is_taken_and_the_draft_kept(dialog):
    d = dialog
    number = await resolved(d)
    await talk(d, PARENT, "孩子学校食堂的饭菜太咸了", expect="1 投诉")
    await talk_all(d, PARENT, "3 还没退钱", expect=[number, "重新办理", "还在", "1 投诉"])
    t = await ticket(d, number)
    assert t["state"] == "reopened" and t["rating"] == 3 and t["rating_comment"] == "还没退钱"
    await heard(d, FEES, expect=number)  # the office hears the ticket is back
    # Nothing awaits a rating now: 3 is 咨询, and the draft goes on (its school known from the scan).
    await talk(d, PARENT, "3", expect="联系电话", absent="评价")


# -- 9.2: 师德 never goes to the school, even when the parent agrees the school may know ---------------------------
async def test_ethics_with_another_matter_never_goes_to_the_school(dialog):
    d = dialog
    await send(d, PARENT, type="scan", scene="school:jn-syxx")
    reply = await talk(d, PARENT, "我们班主任过年收家长红包，还有作业太多了每天写到12点，我要投诉",
                       expect=["涉及几件事", "师德师风", "课业负担与教学管理"])
    burden = next(n for n, name in re.findall(r"^(\d) (\S+)$", reply, re.M) if name == "课业负担与教学管理")
    await talk(d, PARENT, burden, expect="联系电话")
    await talk(d, PARENT, "0", expect="身份")
    await talk(d, PARENT, "1", expect=["承办单位：江南区教育局", "课业负担与教学管理（为主）"],
               absent="承办单位：江南区实验小学")
    reply = await talk(d, PARENT, "1", expect="受理编号")
    number = re.search(r"JY\d{4}-\d{4,}", reply).group(0)
    t = await ticket(d, number)
    assert t["unit_code"] == "jn-jyj" and t["routing"]["focus"] == "burden"
    await heard(d, DISTRICT, expect=number)
    await quiet(d, SCHOOL)
    await quiet(d, SCHOOL_HEAD)


async def test_refusing_to_be_known_means_the_school_never_handles_it(dialog):
    d = dialog
    number = await file_ticket(d, PARENT, "学校食堂的饭菜经常是凉的，孩子吃了肚子疼", scene="school:jn-syxx",
                               phone="13812345678", consent="2")
    t = await ticket(d, number)
    assert t["unit_code"] == "jn-jyj" and t["anonymous"]  # the district above the school handles it
    text = await heard(d, DISTRICT, expect=number)
    assert "13812345678" not in text
    await quiet(d, SCHOOL)
    await quiet(d, SCHOOL_HEAD)


# -- 9.4: a new matter in the middle of a draft is offered as a new message ---------------------------------------
async def test_a_new_topic_mid_draft_becomes_its_own_ticket(dialog):
    d = dialog
    await talk(d, PARENT, "今年中考录取分数线是多少？", expect="联系电话")
    await talk(d, PARENT, "孩子学校食堂的饭菜里吃出了虫子", expect=["这是新的问题吗？", "1 作为新留言", "2 补充到当前留言"])
    await talk_all(d, PARENT, "1", expect=["新留言", "1 投诉"])
    await talk(d, PARENT, "1", expect="哪所学校")
    await talk(d, PARENT, "江南区实验小学", expect="联系电话")
    await talk(d, PARENT, "0", expect="身份")
    await talk(d, PARENT, "1", expect=["内容：孩子学校食堂的饭菜里吃出了虫子"], absent="中考")
    # the first one goes on where it was, quoted (people13: it was offered back, 继续 or 放弃, minutes after being set
    # aside to be continued)
    # ... and the phone declined (0) for the new one minutes ago is not asked again (people15): its summary next
    await talk_all(d, PARENT, "1", expect=["受理编号", "接着填写您之前那条留言", "今年中考录取分数线是多少？",
                                           "类型：咨询", "招生入学处", "联系电话：未留"],
                   absent=["您上次没有提交的留言", "联系电话，便于"])
    await talk(d, PARENT, "1", expect="受理编号")
    first, second = await all_tickets(d)
    assert (first["category"], second["category"]) == ("safety", "admission")
    assert "中考" not in first["text"] and "虫子" not in second["text"]


# -- 9.5: the confirmation shows every word, split within WeChat's size limit --------------------------------------
async def test_the_confirmation_shows_every_word(dialog):
    d = dialog
    story = "我要投诉学校食堂。" + "".join(f"第{i}天孩子说饭是凉的，菜里有沙子。" for i in range(1, 80))
    await send(d, PARENT, type="scan", scene="school:jn-syxx")
    await talk(d, PARENT, story, expect="联系电话")
    await talk(d, PARENT, "0", expect="身份")
    whole = await talk_all(d, PARENT, "1", expect="请核对")
    assert story in whole.replace("\n", "").replace("内容：", "") and "…" not in whole


# -- 9.6: typing before following or scanning; a scan in the middle sets the school --------------------------------
async def test_typing_before_scanning_gets_the_welcome_and_a_scan_sets_the_school(dialog):
    d = dialog
    reply = await talk(d, "o_newcomer", "我要投诉学校食堂的饭菜经常是凉的", expect=["我们的承诺：", "哪所学校"])
    assert reply.startswith("您好，欢迎关注")
    await send(d, "o_newcomer", type="scan", scene="school:jn-syxx")  # scanned mid-draft
    await talk(d, "o_newcomer", "0", expect="身份", absent=["欢迎关注", "哪所学校"])
    await talk(d, "o_newcomer", "2", expect="涉及学校：江南区实验小学")
    reply = await talk(d, "o_newcomer", "1", expect="受理编号", absent="欢迎关注")
    t = await ticket(d, re.search(r"JY\d{4}-\d{4,}", reply).group(0))
    assert t["school_code"] == "jn-syxx"


# -- 9.7: school names typed loosely -----------------------------------------------------------------------------
async def test_school_names_typed_loosely(dialog):
    d = dialog
    await talk(d, PARENT, "投诉：学校食堂的饭菜经常是凉的", expect="哪所学校")
    await talk(d, PARENT, "江南小学", expect=["1 江南区实验小学", "2 江南区育英小学", "请回复数字"])
    await talk(d, PARENT, "1", expect="联系电话")
    await talk(d, PARENT, "0", expect="身份")
    await talk(d, PARENT, "2", expect="涉及学校：江南区实验小学")
    await talk(d, "o_other", "投诉：学校食堂的饭菜经常是凉的", expect="哪所学校")
    await talk(d, "o_other", "实验小学", expect="联系电话")  # one school reads so: taken plainly
    await talk(d, "o_third", "投诉：学校食堂的饭菜经常是凉的", expect="哪所学校")
    await talk(d, "o_third", "火星第一小学", expect="没有找到")


# -- 9.8: phone and consent answered in words ----------------------------------------------------------------------
async def test_phone_and_consent_accept_natural_answers(dialog):
    d = dialog
    await send(d, PARENT, type="scan", scene="school:jn-syxx")
    await talk(d, PARENT, "我要投诉学校食堂的饭菜经常是凉的", expect="联系电话")
    await talk(d, PARENT, "为什么要留电话？", expect=["留电话是为了", "请直接发送联系电话"])  # (in a line: people21)
    await talk(d, PARENT, "我的电话是13812345678", expect="身份")
    await talk(d, PARENT, "为什么要问这个？", expect=["只有教育局可见", "1 同意"])
    await talk(d, PARENT, "保密", expect=["对学校保密", "138****5678"])
    reply = await talk(d, PARENT, "1", expect="受理编号")
    t = await ticket(d, re.search(r"JY\d{4}-\d{4,}", reply).group(0))
    assert t["anonymous"] and t["contact_phone"] == "13812345678"


# -- 9.9: praise is thanked and passed on, with no deadline and no rating --------------------------------------------
async def test_praise_is_thanked_and_passed_on(dialog):
    d = dialog
    await send(d, PARENT, type="scan", scene="school:jn-syxx")
    await talk(d, PARENT, "感谢王老师对孩子的耐心辅导，孩子这学期进步很大，特别感谢！",
               expect=["请核对", "转达：江南区实验小学"], absent=["联系电话", "办结时限", "身份"])
    await talk(d, PARENT, "1", expect=["感谢您的表扬", "江南区实验小学"])
    [t] = await all_tickets(d)
    assert t["kind"] == "praise" and t["state"] == "closed" and t["due_at"] is None
    for who in (SCHOOL, SCHOOL_HEAD, DISTRICT_HEAD):
        await heard(d, who, expect=["群众表扬", "耐心辅导"])
    await drain(d, PARENT)
    d.advance(10 * 86400)
    await d.sweep()
    await quiet(d, PARENT)  # no rating prompt, no reminder


# -- 9.10: harm to a child is urgent: the supervisor copied, hotlines given -------------------------------------------
async def test_child_harm_is_urgent(dialog):
    d = dialog
    await send(d, PARENT, type="scan", scene="school:jn-syxx")
    await talk(d, PARENT, "我要投诉班主任打孩子，把孩子的脸都打肿了", expect="联系电话")
    await talk(d, PARENT, "0", expect="身份")
    await talk(d, PARENT, "2", expect=["1个工作日", "紧急"])
    reply = await talk(d, PARENT, "1", expect=["受理编号", "110"])
    t = await ticket(d, re.search(r"JY\d{4}-\d{4,}", reply).group(0))
    assert t["unit_code"] == "jn-jyj"  # 师德: the district, not the school
    await heard(d, DISTRICT, expect=t["number"])
    await heard(d, DISTRICT_HEAD, expect="紧急留言抄送")
    await quiet(d, SCHOOL_HEAD)


async def test_a_child_in_danger_gets_the_hotlines_at_once_and_the_duty_office_is_told(dialog):
    d = dialog
    # no education word at all: not sent away to 12345, the bureau's duty office takes it, supervisors copied
    await talk(d, PARENT, "孩子说不想活了，我该怎么办", expect=["12356", "120", "紧急事项", "联系电话"], absent="12345")
    await talk(d, PARENT, "13812345678", expect=["1个工作日", "紧急", "请核对"])
    reply = await talk(d, PARENT, "1", expect=["受理编号", "12356"])
    t = await ticket(d, re.search(r"JY\d{4}-\d{4,}", reply).group(0))
    assert t["routing"]["urgent"] and "不想活" in t["routing"]["urgent_words"]
    assert t["unit_code"] == "jyj-bgs"  # the duty office
    await heard(d, DUTY, expect=t["number"])
    await heard(d, LEADER, expect=["紧急留言抄送", t["number"]])  # the duty office has no supervisor of its own
    assert d.clock.now() < t["due_at"] <= d.clock.now() + 4 * 86400  # one working day


async def test_an_english_message_about_danger_gets_the_hotlines_in_english(dialog):
    d = dialog
    await send(d, PARENT, type="scan", scene="school:jn-syxx")
    await talk(d, PARENT, "A man with a knife is standing at the school gate right now",  # danger first, no welcome
               expect=["call 110 now", "urgent", "phone number"], absent=["Is your message", "Hello"])


# -- 9.11: `评价 编号 3 意见` keeps the comment whole ------------------------------------------------------------------
async def test_explicit_rating_keeps_the_comment_whole(dialog):
    d = dialog
    number = await resolved(d)
    await talk(d, PARENT, f"评价 {number} 3 作业还是很多", expect="重新办理")
    t = await ticket(d, number)
    assert t["rating"] == 3 and t["rating_comment"] == "作业还是很多"
    await talk(d, PARENT, f"查询 {number}", expect="重新办理", absent="不满意：")
    await talk(d, FEES, f"详情 {number}", expect="作业还是很多", absent=[number[2:] + " 3", "不满意：不满意"])


# -- 9.13: an unfinished message is reminded once, kept, and offered back -------------------------------------------
async def test_an_unfinished_message_is_reminded_kept_and_offered_back(dialog):
    d = dialog
    await talk(d, PARENT, "我要投诉有的学校以资料费名义乱收费", expect="哪所学校")
    d.advance(21 * 60)
    await d.sweep()
    await heard(d, PARENT, expect=["还没有提交", "哪所学校"])
    d.advance(10 * 60)
    await d.sweep()
    await quiet(d, PARENT)  # reminded once; then kept silently
    d.advance(2 * 86400)
    await talk(d, PARENT, "孩子学校的校车经常迟到半个多小时，家长都很着急",
               expect=["您上次没有提交的留言", "以资料费名义乱收费", "2 放弃"])
    await talk_all(d, PARENT, "2", expect=["已放弃", "1 投诉"])
    reply = await talk(d, PARENT, "1")
    for _ in range(4):
        if "请核对" in reply:
            break
        reply = await talk(d, PARENT, "0")
    assert "校车" in reply and "资料费" not in reply


# -- a greeting first: "你好" is answered, and is not filed as part of the complaint ----------------------------------
async def test_a_greeting_is_not_part_of_the_complaint(dialog):
    d = dialog
    await send(d, PARENT, type="scan", scene="school:jn-syxx")
    await talk(d, PARENT, "你好！", expect="请直接发送", absent="请再具体说说")
    number = await file_ticket(d, PARENT, FEES_TEXT)
    ticket = await d.db(tickets.get, number)
    assert ticket["text"] == FEES_TEXT, ticket["text"]
