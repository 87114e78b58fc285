"""people8: what people typed to the bot, and what they met — each a short dialogue test through the sandbox."""
from __future__ import annotations

import re

from handlers import texts
from storage import tickets
from tests.dialog import FEES, LEADER, SCHOOL_HEAD, drain, file_ticket, heard, send, talk
from tests.test_people6_dialogs import finish


async def _canteen_story(d, p: str) -> None:
    await send(d, p, type="scan", scene="school:jn-syxx")
    await talk(d, p, "食堂饭菜太难吃了，孩子每天都吃不饱", expect="请问您这次是")


# -- a ticket number asked about in the middle of writing ------------------------------------------------------------
async def test_a_ticket_number_asked_about_while_writing_is_looked_up_and_the_draft_waits_untouched(dialog):
    d, p = dialog, "o_p8_lookup"
    earlier = await file_ticket(d, p, "学校收了300元资料费，没有收据", scene="school:jn-syxx")
    await _canteen_story(d, p)
    # it was glued into the canteen story ("已补充到留言内容") and the whole inferred as 咨询
    await talk(d, p, f"对了你们能查下{earlier}吗", expect=[f"编号：{earlier}", "资料费", "您正在填写的留言还在",
                                                   "请问您这次是：\n1 投诉"], absent="已补充")
    # a number that is nobody's: said, and not "直接发送文字即可开始留言" to someone in the middle of one
    await talk(d, "o_p8_lookup2", "食堂饭菜太难吃了，孩子每天都吃不饱", expect="请问您这次是")
    await talk(d, "o_p8_lookup2", "对了，你们能查下JY2611-9999吗？",
               expect=["没有找到编号为 JY2611-9999 的留言", "正在填写的这条提交后即可查询", "请问您这次是"],
               absent=["直接发送文字即可开始留言", "已补充"])
    number, _ = await finish(d, p, await talk(d, p, "1"))
    filed = await d.db(tickets.get, number)
    assert filed["kind"] == "complaint" and filed["text"] == "食堂饭菜太难吃了，孩子每天都吃不饱"
    # a number inside a story is more than a question: still the story
    await _canteen_story(d, "o_p8_lookup3")
    await talk(d, "o_p8_lookup3", f"{earlier}还没处理，孩子又被罚站了", absent="编号：")


# -- a kind's name mistyped ----------------------------------------------------------------------------------------
async def test_a_mistyped_kind_name_is_read_as_the_kind(dialog):
    d, p = dialog, "o_p8_typo"
    # it was "请再具体说说情况", the kind not taken (and asked again later)
    await talk(d, p, "我要投述", expect="好的，按投诉办理")
    reply = await talk(d, p, "学校食堂饭菜太难吃了，孩子每天都吃不饱", absent="请问您这次是")
    number, _ = await finish(d, p, reply)
    assert (await d.db(tickets.get, number))["kind"] == "complaint"
    # at the school question too
    # (people21: a sum charged, reported: its kind asked -- 咨询 chosen)
    await talk(d, "o_p8_typo2", "孩子学校要求每个学生交300块钱买平板电脑，不买就不让上课，这合理吗", expect="请问您这次是")
    await talk(d, "o_p8_typo2", "3", expect="哪所学校")
    await talk(d, "o_p8_typo2", "投述", expect="已改为投诉")


# -- an opening: a matter is coming -----------------------------------------------------------------------------
async def test_an_opening_or_who_is_writing_is_asked_for_the_matter_warmly(dialog):
    d = dialog
    # each was "请再具体说说情况…" (more of a story nobody had told yet)
    for p, text in (("o_p8_open1", "我要反映个事"), ("o_p8_open2", "我是初二学生"), ("o_p8_open3", "你好，我想反映个问题")):
        await talk(d, p, text, expect="请说说您要反映的具体事情", absent="请再具体说说")
    # a few words of a matter are still asked for more
    await talk(d, "o_p8_open4", "食堂太贵", expect="请再具体说说")


# -- a changed mind about the phone ----------------------------------------------------------------------------------
async def test_a_phone_number_given_after_declining_it_is_taken_not_asked_1_or_2(dialog):
    d, p = dialog, "o_p8_phone"
    await _canteen_story(d, p)
    await talk(d, p, "1", expect="联系电话")
    await talk(d, p, "我不想留电话", expect="是否同意让学校知道您的身份")
    # it was "请回复 1 或 2。" and the number was lost
    await talk(d, p, "算了我还是留一下吧 13812345678", expect=["已记下联系电话", "是否同意让学校知道您的身份"],
               absent="请回复 1 或 2")
    reply = await talk(d, p, "2", expect="联系电话：138****5678")
    number, _ = await finish(d, p, reply)
    assert (await d.db(tickets.get, number))["contact_phone"] == "13812345678"


# -- a question where the school's name is asked -------------------------------------------------------------------
async def test_a_question_at_the_school_question_is_answered_not_searched_as_a_school(dialog):
    d, p = dialog, "o_p8_fair"
    # (people21: a sum charged, reported: its kind asked -- 咨询 chosen)
    await talk(d, p, "孩子学校要求每个学生交300块钱买平板电脑，不买就不让上课，这合理吗", expect="请问您这次是")
    await talk(d, p, "3", expect="哪所学校")
    # it was "没有找到这所学校"
    # (people20: a question about the matter is kept with it, as words told at any step are; it was answered with why
    # the school is asked, and dropped)
    await talk(d, p, "这合理吗", expect=[texts.SUPPLEMENTED, "哪所学校"], absent="没有找到这所学校")
    # 有没有人啊: still here, and the question
    await talk(d, p, "有没有人啊", expect=["我在", "哪所学校"], absent="已补充")
    # the kind said again when it is already that kind: taken, not "已改为"
    await talk(d, p, "我要投诉", expect="哪所学校")
    await talk(d, p, "我要投诉", expect="好的，按投诉办理", absent="已改为")


# -- 算了, changing the subject at another question: not a refusal of the phone -------------------------------------
async def test_changing_the_subject_with_suanle_is_not_taken_as_declining_the_phone(dialog):
    d, p = dialog, "o_p8_suanle"
    await talk(d, p, "我想问下孩子午饭费怎么收的 一个月要交多少啊", expect="哪所学校")
    # it was "好的，不留联系电话。": no phone had been asked, and 手机 here is the teacher's
    await talk(d, p, "算了 说说别的 老师上课老玩手机", absent="不留联系电话")
    # a decline that names the phone, before it is asked, is still taken as the answer
    await talk(d, p, "电话就不留了", expect="不留联系电话")


# -- the school bus and a child left out -------------------------------------------------------------------------
async def test_a_child_left_on_the_school_bus_is_the_schools_matter_and_urgent(dialog):
    d, p = dialog, "o_p8_bus"
    # it was asked whether to go to 12345 (out of scope): 在校车上 was not read as the school bus
    reply = await talk(d, p, "孩子在校车上被落下了，一个人在车里待了一上午",
                       expect=["紧急事项", "哪所学校"], absent=["12345", "不属于教育部门"])
    number, _ = await finish(d, p, await talk(d, p, "江南区实验小学"))
    assert (await d.db(tickets.get, number))["category"] == "safety"
    await talk(d, "o_p8_alone", "孩子在班里被孤立了，老师也不管", expect=["12355", "紧急事项"])


# -- 签收全部 on a phone ----------------------------------------------------------------------------------------------
async def test_signing_many_at_once_is_grouped_by_deadline(dialog):
    d = dialog
    fees = [await file_ticket(d, f"o_p8_fee{i}", f"江南区实验小学收了{300 + i}元资料费，没有收据") for i in range(3)]
    asked = await file_ticket(d, "o_p8_feeq", "请问江南区实验小学收资料费符合规定吗", kind="inquiry")  # 3 days, not 7
    reply = await talk(d, FEES, "签收全部", expect="已签收本单位待签收的留言 4 件")
    signed = [n for n in [*fees, asked] if (await d.db(tickets.get, n))["state"] == "accepted"]
    assert len(signed) == 4, reply
    # a line a deadline with its numbers under it, not a line a ticket; how to answer said once
    groups = re.findall(r"^(.+前办结)（(\d+)件）：\n(.+)$", reply, re.M)
    assert len(groups) == 2 and sum(int(n) for _, n, _ in groups) == 4, reply
    assert all(line.count("JY") == int(n) for _, n, line in groups), reply
    assert "、".join(fees) in reply and reply.count("已签收 ") == 0 and reply.count("答复群众") == 1, reply
    await talk(d, FEES, "签收全部", expect="本单位目前没有待签收的留言")


async def test_a_new_ticket_notice_says_how_to_sign_them_all_once_several_wait(dialog):
    d = dialog
    await drain(d, FEES)
    # (six minutes apart: notices closer together are merged into one push, tests/test_people9_dialogs.py)
    await file_ticket(d, "o_p8_n1", "江南区实验小学收了300元资料费，没有收据")
    d.advance(360)
    await file_ticket(d, "o_p8_n2", "江南区实验小学收了301元资料费，没有收据")
    pushed = await heard(d, FEES, expect="【新留言待签收】", count=2)
    assert "签收全部" not in pushed  # one or two: each signed as it comes
    d.advance(360)
    await file_ticket(d, "o_p8_n3", "江南区实验小学收了302元资料费，没有收据")
    # the third (and the fortieth) says how many wait and how to sign them in one message
    await heard(d, FEES, expect="本单位待签收的留言共3件，可发送“签收全部”一次签收。")
    await talk(d, FEES, "签收全部", expect="已签收本单位待签收的留言 3 件")
    d.advance(360)
    await file_ticket(d, "o_p8_n4", "江南区实验小学收了303元资料费，没有收据")
    await heard(d, FEES, expect="【新留言待签收】", absent="签收全部")


# -- an angry parent ------------------------------------------------------------------------------------------------
async def test_an_angry_are_you_going_to_do_anything_is_answered_not_added_to_the_complaint(dialog):
    d, p = dialog, "o_p8_angry"
    await talk(d, p, "你们教育局就是摆设！！！孩子班主任天天骂孩子是猪脑子，我找了校长也没用", expect="哪所学校")
    # it was "已补充到留言内容" (the question never answered, the words filed with the complaint)
    await talk(d, p, "你们到底管不管", expect=["会转给负责的单位办理", "哪所学校"], absent="已补充")
    reply = await talk(d, p, "江南区实验小学")
    number, _ = await finish(d, p, reply)
    assert "到底管不管" not in (await d.db(tickets.get, number))["text"]
    await talk(d, "o_p8_angry2", "老师收家长红包", expect="请再具体说说")
    await talk(d, "o_p8_angry2", "你们究竟管不管？", expect="可以。学校和教育方面的事都可以在这里反映", absent="已补充")


# -- thanks after an instant answer -------------------------------------------------------------------------------
async def test_thanks_after_an_instant_answer_and_a_schools_name_ends_the_empty_draft(dialog):
    d, p = dialog, "o_p8_faq"
    await talk(d, p, "老師好，我想諮詢一下孩子轉學需要什麼手續😊", expect="这个回答解决了您的问题吗")
    await talk(d, p, "江北区文昌小学", expect="涉及学校：江北区文昌小学")
    # it was "您的留言还没有提交，请接着回答" about a message of nothing but a school's name
    await talk(d, p, "谢谢🙏", expect="不客气！如有其他问题，欢迎随时留言。", absent="还没有提交")
    await talk(d, p, "谢谢", expect="不客气", absent="还没有提交")
    # with words told, thanks still keep the draft
    await _canteen_story(d, "o_p8_faq2")
    await talk(d, "o_p8_faq2", "谢谢", expect=["您的留言还没有提交", "请问您这次是"])


# -- the same words sent again after submitting; taking back the last one ---------------------------------------
async def test_the_same_words_sent_again_after_submitting_are_said_to_be_filed_and_the_last_may_be_withdrawn(dialog):
    d, p = dialog, "o_p8_twice"
    text = "江南区实验小学每天放学太晚了，五点半才放，接孩子很不方便"
    number = await file_ticket(d, p, text)
    # it started a second message ("请问您这次是") about the same words
    await talk(d, p, text, expect=[f"这段话刚才已经提交了（编号 {number}）", "不用再发"], absent="请问您这次是")
    assert len(await d.db(tickets.for_citizen, p)) == 1
    await _canteen_story(d, p)
    # it was added to the canteen story ("已补充到留言内容")
    await talk(d, p, "我刚才那个能撤回吗", expect=[f"确定要撤回留言 {number}", "确认撤回", "您正在填写的留言还在"],
               absent="已补充")
    assert (await d.db(tickets.get, number))["citizen_withdrew_at"] is None  # asked first, nothing done
    await talk(d, "o_p8_twice2", "我想撤回", absent="确定要撤回留言")  # nothing pointed back at: no older ticket


# -- a teacher asking how to do one thing ------------------------------------------------------------------------
async def test_staff_asking_how_to_do_one_thing_get_that_command_not_the_whole_list(dialog):
    d = dialog
    # each was "这条消息不是指令，没有发给群众…" and all fifteen commands
    await talk(d, FEES, "怎么延期", expect=["延期 编号 天数 理由", "例如：“延期 JY2611-0001"], absent=["不是指令", "签收全部"])
    await talk(d, FEES, "如何签收全部？", expect="签收全部 — 签收本单位所有待签收的留言", absent=["不是指令", "延期 编号"])
    # words to a parent typed without 回复 are still told they went nowhere
    await talk(d, FEES, "怎么办啊这个家长一直骂人", expect=["不是指令，没有发给群众", "延期 编号"])


# -- a leader asking how things are -------------------------------------------------------------------------------
async def test_a_leader_asking_how_the_week_went_gets_the_weeks_figures(dialog):
    d = dialog
    await file_ticket(d, "o_p8_wk1", "学校食堂饭菜太难吃了，孩子每天都吃不饱", scene="school:jn-syxx")
    await file_ticket(d, "o_p8_wk2", "建议学校门口早上安排老师维持秩序", scene="school:jn-syxx", kind="suggestion")
    # it was "这个问题我还答不了"
    reply = await talk(d, LEADER, "这周情况怎么样", expect=[
        "本周（11月16日—今天）全局：\n收到留言2件（投诉1件、建议1件）；办结0件；目前超期未办结0件。", "响应率", "满意率", "周报"],
        absent="答不了")
    assert reply.index("满意率") < reply.index("周报")
    # one school, or each unit: not what this answers -- still told what can be asked
    await talk(d, LEADER, "江南区实验小学情况怎么样", expect="可以这样问我")
    await talk(d, SCHOOL_HEAD, "满意率多少", expect="本周（11月16日—今天）江南区实验小学还没有可计算满意率的留言。",
               absent="满意率—")


# -- a school's number in Arabic digits -----------------------------------------------------------------------------
async def test_a_schools_number_typed_in_digits_finds_the_school(dialog):
    d, p = dialog, "o_p8_digits"
    await talk(d, p, "晚自习要上到十点半，学生太累了，希望能早点放学", expect="哪所学校")
    # it was "没有找到这所学校" (市第一中学 is in the directory)
    reply = await talk(d, p, "市第１中学", absent="没有找到这所学校")
    number, _ = await finish(d, p, reply)
    assert (await d.db(tickets.get, number))["school_code"] == "sz1"
    await talk(d, "o_p8_digits2", "晚自习要上到十点半，学生太累了，希望能早点放学", expect="哪所学校")
    await talk(d, "o_p8_digits2", "1中", absent="没有找到这所学校")
