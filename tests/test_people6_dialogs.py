"""people6: what a parent, a grandparent, a teacher and a leader meet in messy chats — a change of subject in the
middle, who we are, 签收全部, a price complaint about canteen food — each a short dialogue test."""
from __future__ import annotations

from storage import tickets
from tests.dialog import _ANSWERS, FEES, KINDS, LEADER, SCHOOL, NUMBER, file_ticket, heard, send, talk


async def finish(d, p: str, reply: str, kind: str = "complaint") -> tuple[str, str]:
    """Answer the intake's questions from `reply` on until submitted: (the number, the last reply)."""
    for _ in range(10):
        m = NUMBER.search(reply)
        if "受理编号" in reply and m:
            return m.group(0), reply
        answer = next((a for key, a in _ANSWERS if key in reply and a), None)
        assert answer, f"no answer for:\n{reply}"
        reply = await talk(d, p, answer.format(kind=KINDS[kind], phone="0", consent="2"))
    raise AssertionError(reply)


async def _canteen_story(d, p: str) -> None:
    await send(d, p, type="scan", scene="school:jn-syxx")
    await talk(d, p, "食堂饭菜太难吃了，孩子每天都吃不饱", expect="请问您这次是")


# -- 1: a change of subject in the middle ------------------------------------------------------------------------
async def test_a_change_of_subject_is_asked_about_and_replacing_says_the_first_story_is_dropped(dialog):
    d, p = dialog, "o_p6_change"
    await _canteen_story(d, p)
    # it was kept as more of the canteen story and both filed as one 咨询
    await talk(d, p, "不对，其实我想问校车几点发车",
               expect=["您是想改说另一件事吗", "「食堂饭菜太难吃了，孩子每天都吃不饱」", "1 改说这件事（刚才写的不提交）",
                       "2 两件都要反映", "3 是对刚才内容的补充或更正"], absent="已补充")
    reply = await talk(d, p, "1", expect=["刚才写的「食堂饭菜太难吃了，孩子每天都吃不饱」已撤下，不会提交"])
    number, reply = await finish(d, p, reply, kind="inquiry")
    ticket = await d.db(tickets.get, number)
    assert ticket["text"] == "我想问校车几点发车" and "上次没有提交" not in reply


async def test_both_matters_after_a_change_of_subject_files_the_new_one_then_goes_on_with_the_first(dialog):
    d, p = dialog, "o_p6_both"
    await _canteen_story(d, p)
    await talk(d, p, "我说错了，换个问题：校车早上几点从小区发车", expect="您是想改说另一件事吗")
    reply = await talk(d, p, "2", expect="您之前那条留言已保存")
    number, reply = await finish(d, p, reply, kind="inquiry")
    ticket = await d.db(tickets.get, number)
    assert ticket["text"] == "校车早上几点从小区发车" and "食堂" not in ticket["text"]
    # the first one goes on where it was, quoted (people13: it was offered back, 继续 or 放弃, minutes after it was set
    # aside to be continued)
    reply = await heard(d, p, expect=["接着填写您之前那条留言", "「食堂饭菜太难吃了，孩子每天都吃不饱」"],
                        absent="上次的留言")
    number, reply = await finish(d, p, reply)
    ticket = await d.db(tickets.get, number)
    assert ticket["text"] == "食堂饭菜太难吃了，孩子每天都吃不饱"


async def test_a_correction_after_not_right_can_stay_with_the_story(dialog):
    d, p = dialog, "o_p6_fix"
    await _canteen_story(d, p)
    await talk(d, p, "不对不对，是上周三开始的，菜都是凉的", expect="您是想改说另一件事吗")
    reply = await talk(d, p, "3", expect=["已补充到留言内容", "请问您这次是"])
    number, _ = await finish(d, p, reply)
    ticket = await d.db(tickets.get, number)
    assert "食堂饭菜太难吃了" in ticket["text"] and "不对不对，是上周三开始的" in ticket["text"]


async def test_a_kind_named_after_not_right_is_still_the_kind_not_a_change_of_subject(dialog):
    d, p = dialog, "o_p6_kindfix"
    await _canteen_story(d, p)
    await talk(d, p, "1")
    await talk(d, p, "不对，是建议", expect="已改为建议", absent="另一件事")


# -- 2: who we are -------------------------------------------------------------------------------------------------
async def test_who_are_you_at_the_kind_question_says_who_we_are_and_asks_again(dialog):
    d, p = dialog, "o_p6_who"
    await _canteen_story(d, p)
    # it was "请回复数字 1–4：1 投诉，2 建议，3 咨询，4 表扬。"
    reply = await talk(d, p, "你们是谁？", expect=["这里是市教育局的公众号“听见”", "投诉、建议、咨询和表扬",
                                                 "请问您这次是：\n1 投诉"])
    assert not reply.startswith("请回复数字")
    reply = await talk(d, p, "你是机器人吗", expect=["由工作人员办理", "请问您这次是"], absent="已补充")
    number, _ = await finish(d, p, reply)
    ticket = await d.db(tickets.get, number)
    assert "你们是谁" not in ticket["text"] and "机器人" not in ticket["text"]


async def test_who_are_you_as_a_first_message_starts_nothing(dialog):
    d, p = dialog, "o_p6_who2"
    await send(d, p, type="scan", scene="school:jn-syxx")
    # it started a message whose story was 你们是谁 and asked for more detail
    await talk(d, p, "这是哪里啊？", expect=["这里是市教育局的公众号", "请直接发送您要反映的事情"], absent="请再具体说说")
    reply = await talk(d, p, "学校收资料费300元不给收据", expect="请问您这次是")
    number, _ = await finish(d, p, reply)
    ticket = await d.db(tickets.get, number)
    assert ticket["text"] == "学校收资料费300元不给收据"


# -- 3: 签收全部 ---------------------------------------------------------------------------------------------------
async def test_sign_all_signs_every_ticket_waiting_for_the_units_signature_and_lists_them(dialog):
    d = dialog
    numbers = [await file_ticket(d, f"o_p6_fee{i}", f"江南区实验小学收了{300 + i}元资料费，没有收据") for i in range(3)]
    other = await file_ticket(d, "o_p6_hw", "作业太多，孩子每天写到晚上11点", scene="school:jn-syxx")
    await talk(d, FEES, "待办", expect="“签收 1-5”或“签收全部”可一次签收多件")  # where a teacher learns of it
    # it was not understood
    reply = await talk(d, FEES, "签收全部", expect=["已签收本单位待签收的留言 3 件：", "、".join(numbers)],
                       absent=other)
    assert reply.count("答复群众") == 1, reply
    assert {(await d.db(tickets.get, n))["state"] for n in numbers} == {"accepted"}
    assert (await d.db(tickets.get, other))["state"] != "accepted"  # another unit's: not this unit's to sign
    await talk(d, FEES, "全部签收", expect="本单位目前没有待签收的留言")
    await talk(d, FEES, "签收 全部", expect="本单位目前没有待签收的留言")
    await talk(d, FEES, "帮助", expect="签收全部 — 签收本单位所有待签收的留言")  # the help, from the table


async def test_sign_all_never_signs_for_a_leaders_whole_city(dialog):
    d = dialog
    number = await file_ticket(d, "o_p6_fee9", "江南区实验小学收了300元资料费，没有收据")
    await talk(d, LEADER, "一键签收", expect="本单位目前没有待签收的留言")
    assert (await d.db(tickets.get, number))["state"] != "accepted"


# -- 4: a price complaint about canteen food is a fee matter -------------------------------------------------------
async def test_a_canteen_price_complaint_goes_where_fees_go_with_the_complaints_time_limit(dialog):
    d = dialog
    # it went to safety, with safety's one working day
    number = await file_ticket(d, "o_p6_price", "食堂饭菜一顿25元太贵", scene="school:jn-syxx")
    ticket = await d.db(tickets.get, number)
    assert ticket["category"] == "fees", ticket["routing"]
    assert ticket["due_at"] - ticket["created_at"] > 3 * 86400  # seven working days, not one


# -- 5: what a scared pupil asks and is told ---------------------------------------------------------------------
async def test_a_pupil_afraid_of_the_bullies_is_not_asked_about_teacher_conduct_and_told_classmates_never_know(dialog):
    d, p = dialog, "o_p6_pupil"
    # "不敢告诉老师，怕他们报复" read as a teacher's revenge: 1 校园安全与后勤 2 师德师风, which is most urgent?
    reply = await talk(d, p, "我是初二学生，班上有人一直欺负我，还抢我钱，我不敢告诉老师，怕他们报复",
                       expect="12355", absent=["师德师风", "哪一件最要紧"])
    for answer in ("市第一中学", "不留"):
        reply = await talk(d, p, answer)
    assert "是否同意让学校知道您的身份" in reply, reply
    # he asks whether classmates will find out: it spoke only of the school
    await talk(d, p, "会不会被同学知道是我说的", expect=["其他同学和家长都看不到您的留言和身份", "是否同意让学校知道您的身份"])


# -- 6: a teacher who bounces a ticket and then changes their mind -------------------------------------------------
async def test_a_teacher_who_regrets_a_bounce_is_told_it_cannot_be_undone_and_what_to_do(dialog):
    d = dialog
    number = await file_ticket(d, "o_p6_fee20", "江南区实验小学收了300元资料费，没有收据")
    await talk(d, FEES, f"退回 {number} 不属于我们处", expect=f"已退回 {number}")
    # each got "这条消息不是指令，没有发给群众…" and the whole list of commands
    for text in ("算了，不退回了", "撤销退回"):
        await talk(d, FEES, text, expect=["退回一经发出不能撤销", "请联系局值班室转派回本单位"],
                   absent=["不是指令", "工作人员指令"])
    # a teacher who bounced nothing is not told that a message of theirs went to the duty office
    await talk(d, SCHOOL, "算了，不退回了", expect="退回一经发出不能撤销", absent="留言已交")


# -- 7: the same words sent twice ------------------------------------------------------------------------------
async def test_a_parent_who_sends_the_same_story_twice_is_told_it_arrived_and_it_is_kept_once(dialog):
    d, p = dialog, "o_p6_twice"
    story = "学校收资料费300元不给收据，家长都有意见"
    await send(d, p, type="scan", scene="school:jn-syxx")
    await talk(d, p, story, expect="请问您这次是")
    # it was "已补充到留言内容", and the story stood twice in the ticket
    reply = await talk(d, p, story, expect=["这段话已经收到了", "请问您这次是"], absent="已补充")
    number, _ = await finish(d, p, reply)
    assert (await d.db(tickets.get, number))["text"] == story


# -- 8: a grandfather in short messages; a parent asking how far it has got --------------------------------------
async def test_the_bare_word_school_is_no_school_of_the_directory(dialog):
    d, p = dialog, "o_p6_grandpa"
    await talk(d, p, "我要投诉", expect="按投诉办理")
    # it was "好的，涉及学校：市职业技术学校。" -- the one name holding 学校
    await talk(d, p, "学校", absent="涉及学校")
    await talk(d, p, "我们学校食堂饭菜不好吃", expect="哪所学校", absent="市职业技术学校")
    reply = await talk(d, p, "江南区实验小学")
    number, _ = await finish(d, p, reply)
    assert (await d.db(tickets.get, number))["school_code"] == "jn-syxx"


async def test_how_is_it_going_just_after_submitting_shows_the_ticket_not_a_new_message(dialog):
    d, p = dialog, "o_p6_howfar"
    number = await file_ticket(d, p, "学校收资料费300元不给收据，家长都有意见", scene="school:jn-syxx")
    # it started a new message: "请再具体说说情况…"
    for text in ("怎么样了", "我的投诉现在处理得怎么样了？"):
        await talk(d, p, text, expect=number, absent="请再具体说说")


# -- 9: questions asked in the middle of writing --------------------------------------------------------------------
async def test_how_long_while_writing_gets_the_time_limit_and_is_not_added_to_the_story(dialog):
    d, p = dialog, "o_p6_howlong"
    await send(d, p, type="scan", scene="school:jn-syxx")
    await talk(d, p, "孩子学校要求每个学生买平板电脑，三千多块", expect="请问您这次是")
    # it was "已补充到留言内容" (and the kind question skipped)
    await talk(d, p, "多久能处理？", expect=["投诉和建议7个工作日内办结，咨询3个工作日内答复", "请问您这次是"],
               absent="已补充")
    await talk(d, p, "1")
    await talk(d, p, "那要多久才有结果", expect=["这条留言提交后，7个工作日内办结", "联系电话"])
    # "会告诉学校是我吗" in its other words: answered, not added
    await talk(d, p, "这个会告诉学校是我反映的吗", expect="稍后会问您是否同意让学校知道您的身份", absent="已补充")
    reply = await talk(d, p, "0")
    number, _ = await finish(d, p, reply)
    assert (await d.db(tickets.get, number))["text"] == "孩子学校要求每个学生买平板电脑，三千多块"


async def test_a_parent_who_asks_for_a_person_is_told_who_handles_messages_and_nothing_is_started(dialog):
    d, p = dialog, "o_p6_human"
    await send(d, p, type="scan", scene="school:jn-syxx")
    # each started a message ("请再具体说说情况"), then was sent to 12345 as out of scope
    for text in ("转人工", "我要找真人", "能给个电话吗，我想直接打电话"):
        await talk(d, p, text, expect="由工作人员办理", absent=["请再具体说说", "12345"])
    await talk(d, p, "学校收资料费300元不给收据，家长都有意见", expect="请问您这次是")
    await talk(d, p, "人工客服", expect=["由工作人员办理", "请问您这次是"], absent="已补充")
    # a call for help with the words is one, never a canned answer
    await talk(d, "o_p6_human2", "转人工，孩子被老师打出血了", expect="紧急事项", absent="由工作人员办理")


async def test_who_are_you_in_english_is_answered_in_english(dialog):
    d, p = dialog, "o_p6_who_en"
    await send(d, p, type="scan", scene="school:jn-syxx")
    await talk(d, p, "The school charges 300 yuan for workbooks every term and gives no receipt", expect="Is your message")
    # it was taken as more of the story
    await talk(d, p, "who are you?", expect=["education bureau's official account", "Is your message"],
               absent="Added to your message")


async def test_second_thoughts_at_the_summary_are_asked_about_not_added_to_the_message(dialog):
    d, p = dialog, "o_p6_giveup"
    story = "学校收资料费300元不给收据，家长都有意见"
    reply = await talk(d, p, story)
    for _ in range(6):
        if "请核对" in reply:
            break
        answer = next(a for key, a in (("请问您这次是", "1"), ("联系电话", "0"), ("身份", "2"), ("哪所学校", "0")) if key in reply)
        reply = await talk(d, p, answer)
    # it was "已补充到留言内容", and the summary showed 我不想投诉了，撤回吧 as part of the message
    await talk(d, p, "我不想投诉了，撤回吧", expect=["还没有提交", "取消"], absent="已补充")
    await talk(d, p, "3", expect="已取消")


# -- a teacher on the phone in class, called praise -----------------------------------------------------------------
async def test_praise_chosen_for_a_teacher_on_the_phone_in_class_is_asked_about_as_conduct(dialog):
    d, p = dialog, "o_p6_phone"
    await send(d, p, type="scan", scene="school:jn-syxx")
    await talk(d, p, "我们班的王老师上课一直玩手机", expect="请问您这次是")
    # 4 was taken as praise of the school, and the ticket went to the school that employs her
    await talk(d, p, "4", expect="还反映了老师的行为问题", absent="感谢您的表扬")


# -- a question answering the kind question --------------------------------------------------------------------------
async def test_can_you_handle_this_at_the_kind_question_is_answered_and_the_question_asked_again(dialog):
    d, p = dialog, "o_p6_canyou"
    await send(d, p, type="scan", scene="school:jn-syxx")
    await talk(d, p, "孩子学校的作业太多了，每天写到11点", expect="请问您这次是")
    # it was "已补充到留言内容", the kind taken silently as 咨询, and the next "1" read as a wrong phone number
    await talk(d, p, "这个你们能管吗？", expect=["可以。", "请问您这次是"], absent="已补充")
    await talk(d, p, "1", expect="联系电话")
