"""people7: what people typed to the bot, and what they met — each a short dialogue test through the sandbox."""
from __future__ import annotations

from storage import tickets
from tests.dialog import DISTRICT_HEAD, LEADER, SCHOOL_HEAD, file_ticket, send, talk
from tests.test_people6_dialogs import finish


async def _canteen_story(d, p: str) -> None:
    await send(d, p, type="scan", scene="school:jn-syxx")
    await talk(d, p, "食堂饭菜太难吃了，孩子每天都吃不饱", expect="请问您这次是")


# -- a first 你们是谁 -----------------------------------------------------------------------------------------------
async def test_who_are_you_as_a_first_message_is_the_welcome_once_not_the_welcome_and_who_we_are(dialog):
    d, p = dialog, "o_p7_who_first"
    # it was the welcome (欢迎关注市教育局“听见”…投诉、建议、咨询或表扬) and then 这里是市教育局的公众号“听见”，受理…投诉、建议…
    reply = await talk(d, p, "你们是谁", expect=["欢迎关注市教育局“听见”", "由工作人员办理和答复", "请直接发送您要反映的事情"])
    assert reply.count("听见") == 1 and reply.count("建议、咨询") == 1, reply  # the account named, its kinds listed, once
    # asked again later, it is answered in full (there is no welcome above it now)
    await talk(d, p, "你们是谁？", expect="这里是市教育局的公众号“听见”", absent="欢迎关注")


# -- at the question "what kind is this": a few more words, or a feeling -------------------------------------------
async def test_how_often_typed_at_the_kind_question_is_kept_with_the_story_and_the_question_asked_whole(dialog):
    d, p = dialog, "o_p7_often"
    await _canteen_story(d, p)
    # it was "请回复数字 1–4：1 投诉，2 建议，3 咨询，4 表扬。" and 经常这样 was dropped
    await talk(d, p, "经常这样", expect=["已补充到留言内容", "请问您这次是：\n1 投诉"], absent="请回复数字 1–4")
    reply = await talk(d, p, "1")
    number, _ = await finish(d, p, reply)
    assert "经常这样" in (await d.db(tickets.get, number))["text"]


async def test_praying_hands_at_the_kind_question_get_the_question_whole_and_nothing_is_added(dialog):
    d, p = dialog, "o_p7_emoji"
    await _canteen_story(d, p)
    # it was the curt "请回复数字 1–4：1 投诉，2 建议，3 咨询，4 表扬。"
    reply = await talk(d, p, "🙏🙏", expect="请问您这次是：\n1 投诉\n2 建议\n3 咨询\n4 表扬", absent=["请回复数字 1–4", "已补充"])
    assert reply.startswith("请问您这次是")
    reply = await talk(d, p, "1")
    number, _ = await finish(d, p, reply)
    assert "🙏" not in (await d.db(tickets.get, number))["text"]


# -- a leader asking for figures in plain words ---------------------------------------------------------------------
async def test_a_leader_asking_numbers_in_words_gets_the_numbers_then_the_weekly_links(dialog):
    d = dialog
    await file_ticket(d, "o_p7_fig1", "学校食堂饭菜太难吃了，孩子每天都吃不饱", scene="school:jn-syxx")
    await file_ticket(d, "o_p7_fig2", "实验小学放学太晚，作业太多孩子写到十一点", scene="school:jn-syxx")
    await file_ticket(d, "o_p7_fig3", "建议学校门口早上安排老师维持秩序", scene="school:jn-syxx", kind="suggestion")
    # it was only the two 周报 links
    await talk(d, LEADER, "这周收到几件投诉？", expect=["本周（11月16日—今天）全局收到投诉2件（全部留言3件）", "周报"])
    await talk(d, LEADER, "这周一共收到多少留言", expect="全局收到留言3件：投诉2件、建议1件。")
    await talk(d, LEADER, "哪个学校投诉最多", expect="收到投诉最多的学校：江南区实验小学2件。")
    await talk(d, LEADER, "哪个学校超期最多？", expect="目前全局没有超期未办结的留言。")
    d.advance(14 * 86400)  # two weeks on, nobody handled them
    await d.sweep()
    await talk(d, LEADER, "哪个学校超期最多？", expect=["目前全局超期未办结的留言3件，按涉及学校，最多的是：江南区实验小学3件",
                                                   "发送“超期”可查看明细", "本周（2026-W49）至今"])
    await talk(d, LEADER, "上周响应率多少", expect="上周（11月23日—11月29日）全局还没有可计算响应率的留言。")  # (people8)
    # a question it cannot answer says what it can, and still gives the links
    await talk(d, LEADER, "上周各单位情况怎么样", expect=["可以这样问我", "哪个学校超期最多", "周报"])
    # a supervisor's answer is for their own unit: the district office holds them, not the school
    await talk(d, DISTRICT_HEAD, "超期几件了", expect="目前江南区教育局超期未办结的留言3件。发送“超期”可按单位查看明细。")
    await talk(d, SCHOOL_HEAD, "超期几件了", expect="目前江南区实验小学没有超期未办结的留言。")


# -- urgency in plain words -----------------------------------------------------------------------------------------
async def test_a_hazard_or_a_hurt_child_said_in_plain_words_is_handled_as_urgent(dialog):
    d = dialog
    # each was filed as an ordinary matter, with no hotline and the usual deadline
    for p, text in (("o_p7_u1", "学校门口的井盖没了，小孩子上学要经过"),
                    ("o_p7_u2", "孩子回家说体育课上被同学推倒，胳膊肿得很厉害"),
                    ("o_p7_u3", "孩子在校车上被落下了，一个人在车里待了一上午"),
                    ("o_p7_u4", "学校后面的池塘没有护栏，孩子们经常在边上玩")):
        await send(d, p, type="scan", scene="school:jn-syxx")
        await talk(d, p, text, expect="您的留言将作为紧急事项办理")


async def test_a_teacher_marking_the_exercise_book_is_no_blow(dialog):
    d, p = dialog, "o_p7_book"
    await send(d, p, type="scan", scene="school:jn-syxx")
    # it was "您说的情况关系到人身安全。如孩子正面临危险，请立即拨打110。"
    await talk(d, p, "老师打了孩子的作业本，说写得太乱", absent=["紧急", "110", "人身安全"])


# -- a grandparent in plain words -------------------------------------------------------------------------------------
async def test_a_grandmother_greeting_and_saying_who_she_is_is_asked_for_her_matter_not_sent_to_12345(dialog):
    d, p = dialog, "o_p7_grandma"
    # it was "您反映的问题可能不属于教育部门的职责，建议拨打12345…"
    await talk(d, p, "你好 我是孩子奶奶", expect="请说说您要反映的具体事情", absent="12345")
    # and her matter then was asked about as "另一件事" beside the introduction
    await talk(d, p, "我孙子在和平初中上学，学校让交资料费两百块钱，也不给收据，这个合理吗",
               expect=["是这所学校吗？", "江南区和平初级中学"], absent="另一件事")
    # it was "没有找到这所学校…": she named no school
    await talk(d, p, "我不太懂", expect=["是这所学校吗？\n1 江南区和平初级中学", "是请回复 1"], absent="没有找到")
    await talk(d, p, "就是问问", expect="是这所学校吗？", absent="没有找到")
    await talk(d, p, "是的", expect="联系电话")


async def test_i_do_not_understand_at_a_one_or_two_question_is_asked_again_never_taken_as_no(dialog):
    d, p = dialog, "o_p7_unsure"
    await _canteen_story(d, p)
    await talk(d, p, "1")
    await talk(d, p, "另外学校收资料费三百元还不给收据", expect="这是新的问题吗")
    # it was "已补充到留言内容。": the 不 of 不太懂 read as 2 (补充到当前留言)
    await talk(d, p, "我不太懂", expect=["1 作为新留言", "2 补充到当前留言"], absent="已补充")


# -- an angry parent --------------------------------------------------------------------------------------------------
async def test_asking_for_a_leader_at_the_phone_question_is_told_who_handles_it_not_added_to_the_story(dialog):
    d, p = dialog, "o_p7_angry"
    await send(d, p, type="scan", scene="school:jn-syxx")
    await talk(d, p, "你们教育局到底管不管！！！学校乱收费到现在没人理", expect="联系电话")
    # it was "已补充到留言内容。" and the demand went into the complaint
    await talk(d, p, "我要找你们领导", expect=["都由工作人员办理", "联系电话"], absent="已补充")
    reply = await talk(d, p, "0")
    number, _ = await finish(d, p, reply)
    assert "领导" not in (await d.db(tickets.get, number))["text"]


# -- someone who changes their mind -----------------------------------------------------------------------------------
async def test_wanting_to_change_the_text_at_the_summary_is_option_2_not_more_of_the_story(dialog):
    d, p = dialog, "o_p7_mind"
    await send(d, p, type="scan", scene="school:jn-syxx")
    reply = await talk(d, p, "学校要求每个学生买200块的校服，质量很差")
    for answer in ("1", "0", "2"):
        reply = await talk(d, p, answer)
    assert "请核对您的留言" in reply
    # it was "请回复 1 提交，2 修改内容，3 取消。" (and 我想改一下内容 alone was added to the text)
    await talk(d, p, "等等，我想改一下内容", expect="请重新", absent=["已补充", "请回复 1 提交"])
    reply = await talk(d, p, "学校要求每个学生买300块的校服，质量很差，洗一次就掉色")
    number, _ = await finish(d, p, reply)
    text = (await d.db(tickets.get, number))["text"]
    assert "300块" in text and "200块" not in text and "改一下" not in text


# -- a worried parent, in bursts ---------------------------------------------------------------------------------------
async def test_a_worried_parent_in_bursts_hit_by_classmates_gets_the_urgent_answer(dialog):
    d, p = dialog, "o_p7_worried"
    await send(d, p, type="scan", scene="school:jn-syxx")
    await talk(d, p, "老师你好", expect="请直接发送您要反映的事情")
    await talk(d, p, "我家孩子在实验小学三年级", expect="请说说您要反映的具体事情")
    # it was "请问您这次是：…" as for any matter: no word of danger, no hotline
    await talk(d, p, "昨天回来说被班上同学打了。。。", expect="您的留言将作为紧急事项办理")


# -- a principal asking in plain words ---------------------------------------------------------------------------------
async def test_a_principal_asking_which_are_not_signed_yet_gets_the_to_do_list(dialog):
    d = dialog
    number = await file_ticket(d, "o_p7_pr1", "学校作业太多了，孩子每天写到十一点", scene="school:jn-syxx", consent="1")
    # it was "这条消息不是指令，没有发给群众…" and the whole list of commands
    await talk(d, SCHOOL_HEAD, "哪些还没签收", expect=["待办留言共1件", number, "待签收"], absent=["不是指令", "已转交承办单位"])
    await talk(d, SCHOOL_HEAD, "还有哪些没处理", expect=["待办留言共1件", number])


async def test_withdraw_said_at_the_summary_says_the_draft_is_not_sent_and_how_to_cancel_it(dialog):
    d, p = dialog, "o_p7_withdraw"
    await send(d, p, type="scan", scene="school:jn-syxx")
    reply = await talk(d, p, "学校要求每个学生买200块的校服，质量很差")
    for answer in ("1", "0", "2"):
        reply = await talk(d, p, answer)
    assert "请核对您的留言" in reply
    # it was "请写明留言编号，例如“撤回 JY2611-0001”。": a number this person does not have
    await talk(d, p, "撤回", expect=["还没有提交，不需要撤回", "请回复“取消”", "请回复 1 提交"])
    await talk(d, p, "取消", expect="已取消")
