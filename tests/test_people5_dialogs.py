"""people5: what a parent, a teacher and a leader meet — the leaders' dashboard on a Monday morning, English
messages, and messy chats — each a short dialogue or page test."""
from __future__ import annotations

from storage import tickets
from tests.dialog import FEES, LEADER, NUMBER, file_ticket, heard, send, talk
from tests.test_web import browser, sign_in


async def test_the_dashboard_opens_on_last_week_when_this_week_has_barely_begun(dialog):
    # Monday 16 Nov (week 47): two complaints; then the next Monday morning, nothing new yet
    await file_ticket(dialog, "o_p5_a", "学校乱收费，每人收资料费300元不给收据", scene="school:jn-syxx")
    await file_ticket(dialog, "o_p5_b", "作业太多，孩子每天写到晚上11点", scene="school:jn-syxx")
    dialog.clock.advance(7 * 86400 - 3600)  # Monday 23 Nov, 08:00
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        async with s.get("/w/dashboard") as resp:
            page = await resp.text()
        assert "<small>全局 · 2026年第47周（11月16日—11月22日）</small>" in page
        assert "本周（11月23日—今天）刚开始，新留言 0 件，下面是上周（2026年第47周）的统计。" in page
        assert 'href="?kind=week&period=2026-W48">看本周</a>' in page
        async with s.get("/w/dashboard", params={"kind": "week", "period": "2026-W48"}) as resp:
            page = await resp.text()
        assert "2026年第48周（11月23日—今天）" in page and "刚开始" not in page  # asked for: shown as it is
    # once the week has a fair share of last week's messages, it opens on the week itself
    await file_ticket(dialog, "o_p5_c", "幼儿园伙食费太贵", scene="school:jn-syxx")
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        async with s.get("/w/dashboard") as resp:
            page = await resp.text()
        assert "2026年第48周（11月23日—今天）" in page and "刚开始" not in page


# -- English ---------------------------------------------------------------------------------------------------------
async def file_in_english(d, openid: str, text: str) -> str:
    await send(d, openid, type="scan", scene="school:jn-syxx")
    await talk(d, openid, text, expect="Is your message")
    for answer in ("1", "0", "2"):
        reply = await talk(d, openid, answer)
    reply = await talk(d, openid, "1", expect="Submitted.")
    return NUMBER.search(reply).group(0)


async def test_staff_are_told_to_answer_in_english_under_the_citizens_reply(dialog):
    d = dialog
    number = await file_in_english(d, "o_p5_en", "The school charges 300 yuan for materials every term and gives no receipt")
    await heard(d, FEES, expect=[number, "留言人使用英文"])
    await talk(d, FEES, f"回复 {number} 您好，请问是哪个年级？")
    await talk(d, "o_p5_en", f"回复 {number} Grade 3, and they asked again this week")
    await heard(d, FEES, expect=["【群众回复】", "Grade 3", "留言人使用英文，系统通知已用英文发给对方"])


async def test_a_school_named_in_english_in_the_story_is_offered_not_asked_for(dialog):
    d = dialog
    reply = await talk(d, "o_p5_en2", "My son at Wenchang Primary School gets homework until 11pm every night",
                       expect="Is your message")
    reply = await talk(d, "o_p5_en2", "1", expect=["Is it this school?\n1 江北区文昌小学"], absent="Which school")
    reply = await talk(d, "o_p5_en2", "1", absent="Which school")
    await talk(d, "o_p5_en3", "My daughter goes to No. 1 Middle School and the canteen food is cold every day",
               expect="Is your message")
    await talk(d, "o_p5_en3", "1", expect="1 市第一中学", absent="Which school")


# -- a parent typing in short messages ----------------------------------------------------------------------------
async def test_an_opening_then_who_then_the_matter_is_one_message_without_the_opening(dialog):
    d, p = dialog, "o_p5_short"
    await send(d, p, type="scan", scene="school:jn-syxx")
    await talk(d, p, "我想反映个事", expect="请说说您要反映的具体事情")  # (was 请再具体说说: people8)
    # who and where, no matter yet: asked for the matter (it went on to the phone number before)
    await talk(d, p, "孩子在实验小学三年级", expect="还需要您说说具体是什么事", absent="联系电话")
    # the matter itself: not "another matter" beside an opening
    await talk(d, p, "老师每天布置作业太多了", absent=["另一件事", "新的问题"])
    reply = await talk(d, p, "0", expect="是否同意让学校知道您的身份")
    # the question about the question on screen is answered, never added to the message
    await talk(d, p, "学校会知道是我吗", expect=["您的身份只有教育局可见", "是否同意让学校知道您的身份"],
               absent="已补充")
    reply = await talk(d, p, "2", expect="请核对您的留言")
    assert "内容：孩子在实验小学三年级\n老师每天布置作业太多了\n" in reply
    assert "我想反映个事" not in reply and "学校会知道是我吗" not in reply


async def test_words_typed_while_a_choice_waits_are_said_to_be_kept_with_it(dialog):
    d, p = dialog, "o_p5_held"
    await send(d, p, type="scan", scene="school:jn-syxx")
    await talk(d, p, "学校食堂饭菜太贵了，一顿二十元", expect="请问您这次是")
    await talk(d, p, "1")
    await talk(d, p, "另外老师每天布置作业太多了，写到半夜", expect="这是新的问题吗")
    await talk(d, p, "周末还有好几张卷子", expect="已记下，和刚才那条放在一起。请先回复数字：\n1 作为新留言")


async def test_a_rating_told_in_a_sentence_is_asked_about_not_filed_as_a_new_message(dialog):
    d, p = dialog, "o_p5_rate"
    number = await file_ticket(d, p, "学校乱收费，每人收资料费300元不给收据", scene="school:jn-syxx")
    await talk(d, FEES, f"签收 {number}")
    await talk(d, FEES, f"办结 {number} 已责令学校退还资料费", expect="已办结")
    await talk(d, p, "还行吧，希望学校真的能做到", expect=[f"您是要评价留言 {number}（基本满意）吗"],
               absent="联系电话")
    await talk(d, p, "1", expect="感谢您的评价")
    t = await d.db(tickets.get, number)
    assert t["rating"] == 2 and t["rating_comment"] == "希望学校真的能做到"


# -- a teacher with many tickets ----------------------------------------------------------------------------------
async def test_staff_text_that_is_no_command_is_said_not_sent_and_a_number_with_words_opens_it(dialog):
    d = dialog
    number = await file_ticket(d, "o_p5_t1", "学校乱收费，每人收资料费300元不给收据", scene="school:jn-syxx")
    # a reply to the parent typed without 回复: the teacher must know it reached nobody
    await talk(d, FEES, "您好，资料费会退还", expect=["这条消息不是指令，没有发给群众", "回复 编号 内容"])
    await talk(d, FEES, "谢谢", expect="不客气", absent="工作人员指令")
    await talk(d, FEES, f"查一下{number}", expect=[f"{number}｜投诉", "办理记录"])
    await talk(d, FEES, f"{number}进度怎么样了", expect="办理记录")
    # the citizen's own look-up in the same words
    await talk(d, "o_p5_t1", f"查一下{number}", expect=number, absent="请问您这次是")


# -- a leader asking for figures -------------------------------------------------------------------------------------
async def test_a_leader_asking_for_figures_in_other_words_gets_them_not_the_command_list(dialog):
    d = dialog
    for asked in ("这个月投诉多少件", "哪个学校投诉最多"):
        await talk(d, LEADER, asked, expect="周报：http", absent=["工作人员指令", "不是指令"])
    await talk(d, LEADER, "超期的有哪些", absent=["工作人员指令", "不是指令"])
    await talk(d, FEES, "我的待办", expect="待办", absent=["工作人员指令", "不是指令"])


async def test_one_school_offered_is_asked_as_a_yes_and_a_yes_takes_it(dialog):
    d, p = dialog, "o_p5_yes"
    await talk(d, p, "我家孩子在江南实验小学读三年级 老师天天布置好多作业写到十一点还写不完 能不能管管啊",
               expect="是这所学校吗？\n1 江南区实验小学\n是请回复 1", absent="以下哪所")
    await talk(d, p, "是的", expect="联系电话", absent="1 至 1")
    await talk(d, "o_p5_yes_en", "My son at Wenchang Primary School gets homework until 11pm every night")
    await talk(d, "o_p5_yes_en", "1", expect="Is it this school?")
    await talk(d, "o_p5_yes_en", "yes", expect="phone number")


async def test_a_wrong_number_at_one_offered_school_asks_again_without_one_to_one(dialog):
    d, p = dialog, "o_p5_two"
    await talk(d, p, "我家孩子在江南实验小学读三年级 老师天天布置好多作业写到十一点还写不完 能不能管管啊")
    await talk(d, p, "2", expect="是这所学校吗？\n1 江南区实验小学", absent="1 至 1")


# -- a voice first, and 查询 while writing ------------------------------------------------------------------------
async def test_a_voice_first_is_named_and_a_lookup_while_writing_does_not_say_start_one(dialog):
    d, p = dialog, "o_p5_voice"
    reply = await send(d, p, type="voice")
    assert "已收到您发来的语音。请再用文字简要说明" in reply and "附件" not in reply
    await talk(d, p, "幼儿园老师不让孩子喝水，一天就让喝两次")
    await talk(d, p, "查询", expect=["您还没有提交过留言；正在填写的这条提交后即可查询。", "您正在填写的留言还在"],
               absent="即可开始留言")


async def test_a_grandfather_who_introduces_himself_in_two_messages_is_asked_for_the_matter(dialog):
    d, p = dialog, "o_p5_gp"
    await send(d, p, type="scan", scene="school:jb-yzzx")
    await talk(d, p, "我是孩子爷爷", expect="请说说您要反映的具体事情")  # (was 请再具体说说: people8)
    await talk(d, p, "孙子在育才中学初二", expect="还需要您说说具体是什么事", absent="请问您这次是")
    await talk(d, p, "学校收了每人500块钱的补课费，说是自愿的，不交老师就给脸色看", absent=["另一件事", "新的问题"])
    # asked at the kind question: answered (later, and what 不同意 means), the question again, nothing added
    await talk(d, p, "能不能匿名啊", expect=["稍后会问您是否同意让学校知道您的身份", "请问您这次是"], absent="已补充")
    await talk(d, p, "1", expect="联系电话")
    await talk(d, p, "0", expect="是否同意让学校知道您的身份")
    reply = await talk(d, p, "2", expect="请核对您的留言")
    assert "内容：我是孩子爷爷\n孙子在育才中学初二\n学校收了每人500块钱的补课费" in reply
    assert "能不能匿名" not in reply and "类型：投诉" in reply
