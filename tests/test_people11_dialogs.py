"""people11: the citizen's side of the conversation, found wrong by real use -- each a short dialogue test through
the sandbox, each failing on the code before its fix."""
from __future__ import annotations

from tests.dialog import NUMBER, talk


# -- a bare 我要投诉 is no emergency ----------------------------------------------------------------------------------
async def test_a_bare_complaint_in_a_few_characters_is_not_urgent(dialog):
    d = dialog
    # the urgency model took 投诉老师 / 我要投诉 as dangers (诉 and 诉老师 learnt from 不许告诉家长/老师)
    for i, text in enumerate(["投诉老师", "我要投诉", "投诉你们", "我想投诉一下"]):
        await talk(d, f"o_p11_bare{i}", text, absent=["人身安全", "紧急事项", "110"])
    # a short cry for help is still found by the rules' words
    await talk(d, "o_p11_bare9", "孩子不见了", expect="紧急事项")


# -- at the kind question, words that are no answer leave it open ------------------------------------------------------
async def test_words_at_the_kind_question_decide_the_kind_only_when_they_name_one(dialog):
    d, p = dialog, "o_p11_kind"
    await talk(d, p, "孩子学校要求每个学生交300块钱买平板电脑，不买就不让上课", expect="请问您这次是")
    # it was added and read as 建议 (希望) without a word, the school asked next
    await talk(d, p, "希望你们快点", expect=["已补充到留言内容", "请问您这次是"], absent="哪所学校")
    # words that name the kind answer it, and the reply says how they were read
    await talk(d, p, "我建议学校别这样搞", expect=["按建议办理", "已补充到留言内容", "哪所学校"])


# -- what happens next, before and after submitting -------------------------------------------------------------------
async def test_asking_what_happens_next_is_answered_and_never_added_or_sent_to_12345(dialog):
    d, p = dialog, "o_p11_next"
    await talk(d, p, "学校收资料费300元不给收据，也不说用途，家长都有意见", expect="请问您这次是")
    await talk(d, p, "1")
    await talk(d, p, "0", expect="联系电话")
    await talk(d, p, "0", expect="请核对您的留言")
    # at the summary it was added to the message ("已补充到留言内容")
    await talk(d, p, "然后呢 多久有结果", expect=["提交后", "个工作日内办结", "回复 1 提交"],
               absent=["已补充", "请核对您的留言"])
    await talk(d, p, "1", expect="提交成功")
    # after submitting it was a new message, out of the bureau's remit (12345)
    await talk(d, p, "那我还要做什么吗", expect=["不需要您再做什么", "每一步进展都会通知您"], absent=["12345", "请问您这次是"])
    await talk(d, p, "接下来呢", expect="不需要您再做什么", absent="12345")


# -- a parent who writes one complaint in three messages ----------------------------------------------------------------
async def test_a_complaint_in_three_messages_keeps_the_grade_and_the_sum(dialog):
    d, p = dialog, "o_p11_three"
    # the grade was dropped with the school's name, and the school asked for again (涉及的学校或人员)
    await talk(d, p, "我孩子在江南区实验小学读五年级", expect=["涉及学校：江南区实验小学", "发生了什么"],
               absent="涉及的学校或人员")
    await talk(d, p, "数学老师上课老是讲一半 说剩下的去他补习班听", expect="请问您这次是")
    # it was dropped: "请回复数字 1–4"
    await talk(d, p, "一节课收200", expect=["已补充到留言内容", "请问您这次是"])
    await talk(d, p, "1")
    await talk(d, p, "0")
    await talk(d, p, "2", expect=["请核对您的留言", "读五年级", "补习班", "一节课收200"])


# -- a student afraid of being found out ---------------------------------------------------------------------------------
async def test_a_student_afraid_of_being_found_out_is_answered_and_not_sent_to_110(dialog):
    d, p = dialog, "o_p11_afraid"
    # the question in the story went unanswered
    await talk(d, p, "我是初二的学生 我们班主任让我们周六来学校补课 不来就扣分 我不敢说 会不会被老师知道是我发的",
               expect=["只有教育局能看到是谁反映的", "请问您这次是"])
    # it was a danger (怕被报复 an urgency word): "人身安全 … 110", and the kind taken as a complaint unasked
    await talk(d, p, "我怕被报复", expect=["已补充到留言内容", "请问您这次是"], absent=["人身安全", "110", "紧急"])
    # fear beside an injury: the safety advice first, then the answer about who will know
    reply = await talk(d, "o_p11_afraid2", "孩子被同学用圆规扎了 胳膊上都是血点 她不敢说怕被报复",
                       expect=["人身安全", "只有教育局能看到是谁反映的"])
    assert reply.index("人身安全") < reply.index("只有教育局能看到")


# -- a school's name beside "I don't know its full name" ------------------------------------------------------------------
async def test_a_school_named_beside_not_knowing_its_full_name_is_taken(dialog):
    for p, said in (("o_p11_name1", "不知道是哪个学校 就是文昌小学"), ("o_p11_name2", "不太清楚全名，文昌小学")):
        await talk(dialog, p, "孩子学校天天留那么多作业 写到十一二点", expect="请问您这次是")
        await talk(dialog, p, "1", expect="哪所学校")
        # it was "没有找到这所学校" / added to the message and the school offered again
        await talk(dialog, p, said, expect="联系电话", absent=["没有找到", "已补充", "哪所学校"])
        await talk(dialog, p, "0")
        await talk(dialog, p, "2", expect=["涉及学校：江北区文昌小学", "内容：孩子学校天天留那么多作业 写到十一二点\n回复"])


# -- whom a complaint is about, before what happened ----------------------------------------------------------------------
async def test_saying_only_whom_the_complaint_is_about_is_asked_what_happened(dialog):
    d, p = dialog, "o_p11_subject"
    # the phone was asked at once, before anything had been said of what happened
    await talk(d, p, "我想反映一下我们小区旁边那个培训机构", expect="发生了什么", absent="联系电话")
    await talk(d, p, "他们晚上十点还在上课 吵得我们睡不着 而且好像没有办学许可证", absent="发生了什么")
    # a matter told in the same words goes on as before
    await talk(d, "o_p11_subject2", "我想反映一下学校乱收费，资料费每人380元", absent="发生了什么")


# -- 还有… just after submitting ---------------------------------------------------------------------------------------------
async def test_words_that_go_on_just_after_submitting_are_offered_to_the_message_just_filed(dialog):
    d, p = dialog, "o_p11_more"
    await talk(d, p, "学校要求每个学生交300元资料费 不给收据", expect="请问您这次是")
    await talk(d, p, "1")
    await talk(d, p, "江南区实验小学")
    await talk(d, p, "0")
    await talk(d, p, "2", expect="请核对您的留言")
    number = NUMBER.search(await talk(d, p, "1", expect="提交成功")).group(0)
    # it started a new message: 投诉/建议/咨询/表扬 and the school asked again
    await talk(d, p, "还有 老师还让我们买指定的练习册 一本80", expect=["这是对刚提交的留言 " + number, "补充到原留言"],
               absent="请问您这次是")
    await talk(d, p, "1", expect=["已将您的补充内容加入留言 " + number])
    await talk(d, p, "查询 " + number, expect="练习册 一本80")


# -- 你们是机器人吗 ---------------------------------------------------------------------------------------------------------
async def test_are_you_robots_is_answered_and_starts_no_message(dialog):
    d, p = dialog, "o_p11_robot"
    # it started a message ("请再具体说说情况") whose first words were the question
    await talk(d, p, "你们是机器人吗", expect="由工作人员办理", absent="具体说说")
    await talk(d, p, "孩子在学校被同学起外号 天天哭 不想上学了")
    await talk(d, p, "0")
    await talk(d, p, "0", expect="内容：孩子在学校被同学起外号", absent="机器人")


# -- second thoughts at the school question --------------------------------------------------------------------------------
async def test_deciding_to_ask_the_school_first_is_not_taken_for_no_school(dialog):
    d, p = dialog, "o_p11_first"
    await talk(d, p, "老师 我家孩子被分到最差的班了 能不能调班啊 班主任是刚毕业的 我们很担心", expect="哪所学校")
    # it was read as "no school" and the phone asked next
    await talk(d, p, "算了算了 我还是先问问学校吧", expect=["还没有提交", "取消", "哪所学校"], absent="联系电话")
    await talk(d, p, "取消", expect="已取消")


# -- a teacher praised where a hospital is named -----------------------------------------------------------------------------
async def test_praise_of_a_teacher_who_took_a_child_to_hospital_is_not_sent_to_12345(dialog):
    d = dialog
    # it was 非教育事务 (医院): "建议拨打12345"
    # (people12: the school named loosely is offered first, as for a complaint; praise goes to the school)
    await talk(d, "o_p11_praise", "想表扬一下江南实验小学的李老师 孩子生病她陪着去医院 特别负责",
               expect=["是这所学校吗", "1 江南区实验小学"], absent="12345")
    await talk(d, "o_p11_praise", "1", expect=["类型：表扬", "转达：江南区实验小学", "回复 1 提交"], absent="12345")
    # praise of someone else's work is still not the bureau's
    await talk(d, "o_p11_praise2", "我孩子在商场走丢被派出所找回，想表扬民警", expect="12345")


async def test_what_happens_next_in_english_is_answered_not_read_as_a_school(dialog):
    d, p = dialog, "o_p11_next_en"
    await talk(d, p, "My son's school charges 500 yuan for uniforms every term and they fall apart", expect="Is your message")
    await talk(d, p, "1", expect="Which school")
    # it was "We could not find a school by that name"
    await talk(d, p, "what happens next?", expect=["7 working days", "Which school"], absent="could not find")


# -- 啥意思 at the kind question ------------------------------------------------------------------------------------------------
async def test_not_understanding_the_kind_question_is_answered_with_what_each_kind_means(dialog):
    d, p = dialog, "o_p11_what"
    await talk(d, p, "孩子学校食堂的菜里吃出了虫子", expect="请问您这次是")
    # it was only "请回复数字 1–4"
    await talk(d, p, "啥意思", expect=["1 投诉：", "3 咨询：", "请回复数字"])
    await talk(d, p, "5", expect="请回复数字 1–4", absent="投诉：")
    await talk(d, p, "1", expect="哪所学校")
