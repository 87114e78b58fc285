"""people12: the citizen's side of the conversation, found wrong by real use -- each a short dialogue test through
the sandbox (WeChat's encrypted XML over real HTTP, the shipped router, the demo directory), each failing on the code
before its fix."""
from __future__ import annotations

from handlers.routing.router import Router
from tests.dialog import NUMBER, talk
from tests.test_citizen_dialogs import ticket


# -- a remark nothing places is asked about, never sent to an office on single characters ----------------------------
def test_the_model_abstains_on_a_line_with_no_evidence():
    r = Router.from_toml()
    # it was 招生入学处 on the model's 能 +0.54, 去 +0.33, 行 +0.19
    remark = r.route("还行吧，但是希望能坚持下去")
    assert remark.unplaced and remark.category == "out_of_scope" and "模型 model:" not in remark.explain()
    # the model alone, sure enough, still places what no rule word names; a rule word is evidence whatever the model
    assert r.route("积分不够，娃还有学上吗").category == "admission"
    assert not r.route("积分不够，娃还有学上吗").unplaced and not r.route("楼上装修太吵了").unplaced


async def test_a_remark_nothing_places_is_asked_about_then_goes_to_the_duty_office(dialog):
    d, p = dialog, "o_p12_remark"
    # it went on to the phone and a summary for 市教育局招生入学处 (then 代收: nobody bound there)
    await talk(d, p, "还行吧，但是希望能坚持下去", expect="请问您说的是哪方面的事情", absent=["联系电话", "请问您这次是"])
    # nothing more said: not asked again, nor sent to 12345 -- the duty office reads it
    reply = await talk(d, p, "就是希望能坚持下去", absent=["12345", "哪方面的事情"])
    for _ in range(3):
        if "请核对" in reply:
            break
        reply = await talk(d, p, "0" if "联系电话" in reply else "2")
    assert "承办单位：市教育局办公室（值班室）" in reply and "招生入学处" not in reply, reply
    # told what it is about, it goes where that matter goes
    q = "o_p12_remark2"
    await talk(d, q, "还行吧，但是希望能坚持下去", expect="哪方面的事情")
    await talk(d, q, "孩子学校的课后服务 希望能坚持下去", expect="哪所学校", absent="哪方面的事情")


# -- thanks beside a question, or a yes to it ---------------------------------------------------------------------------
async def test_thanks_at_a_question_that_takes_no_yes_is_answered_and_never_added(dialog):
    d, p = dialog, "o_p12_thanks"
    await talk(d, p, "孩子学校天天留那么多作业 写到十一二点", expect="请问您这次是")
    # it was added to the message (已补充到留言内容) at each of these questions
    await talk(d, p, "好的，谢谢您", expect=["不客气", "请问您这次是"], absent="已补充")
    await talk(d, p, "1", expect="哪所学校")
    await talk(d, p, "好的，谢谢您", expect=["不客气", "哪所学校"], absent=["已补充", "没有找到"])
    await talk(d, p, "好的", expect="这里需要发送它的名称", absent="不客气")  # no thanks in it: what is wanted
    await talk(d, p, "江南区实验小学", expect="联系电话")
    await talk(d, p, "0", expect="是否同意让学校知道您的身份")
    await talk(d, p, "谢谢", expect=["不客气", "是否同意"])
    reply = await talk(d, p, "2", expect="请核对")
    assert "好的" not in reply and "谢谢" not in reply
    # at the summary thanks without a yes are thanked; nothing is submitted
    await talk(d, p, "谢谢", expect=["不客气", "回复 1 提交"], absent="提交成功")


async def test_a_thankful_yes_answers_the_questions_that_take_a_yes(dialog):
    d, p = dialog, "o_p12_yes"
    await talk(d, p, "江南实验小学天天留那么多作业 写到十一二点", expect="请问您这次是")
    await talk(d, p, "1", expect=["是这所学校吗", "1 江南区实验小学"])
    # 是这所学校吗？ takes a yes: it was asked again
    await talk(d, p, "好的，谢谢您", expect="联系电话", absent=["是这所学校吗", "已补充"])
    # 留电话吗 takes a yes too (willing): the number is asked for -- it was added to the message
    await talk(d, p, "好的，谢谢您", expect="请直接发送号码", absent="已补充")
    await talk(d, p, "0", expect="是否同意让学校知道您的身份")
    await talk(d, p, "好的，谢谢您", expect=["请核对", "身份信息：可告知学校"], absent="好的，谢谢您")
    reply = await talk(d, p, "好的，谢谢您", expect="提交成功")
    t = await ticket(d, NUMBER.search(reply).group(0))
    assert t["school_code"] == "jn-syxx" and "谢谢" not in t["text"]


# -- people11's leftovers ------------------------------------------------------------------------------------------------
async def test_praise_naming_a_school_loosely_offers_the_school_and_goes_to_it(dialog):
    d, p = dialog, "o_p12_praise"
    # it went straight to the summary: 转达：市教育局招生入学处 (the model's guess on 小学, 实验)
    await talk(d, p, "表扬江南实验小学的王老师，孩子发烧她一直陪着", expect=["是这所学校吗", "1 江南区实验小学"],
               absent="招生入学处")
    await talk(d, p, "1", expect=["类型：表扬", "转达：江南区实验小学"])
    reply = await talk(d, p, "1", expect="感谢您的表扬")
    t = await ticket(d, NUMBER.search(reply).group(0))
    assert t["kind"] == "praise" and t["unit_code"] == "jn-syxx"
    # a teacher praised with no school named: which school is asked (it was 转达：市教育局办公室（值班室）)
    await talk(d, "o_p12_praise2", "表扬王老师，孩子发烧她一直陪着", expect="哪所学校", absent="请核对")


async def test_a_kindergarten_fee_question_asks_which_kindergarten(dialog):
    d, p = dialog, "o_p12_kg"
    await talk(d, p, "幼儿园每个月收的伙食费是不是太高了", expect="请问您这次是")
    # it went on to the phone: the office never learnt which kindergarten
    await talk(d, p, "3", expect="哪所学校或幼儿园")
    await talk(d, p, "星光幼儿园", expect="联系电话")
    await talk(d, p, "0", expect="是否同意让")
    await talk(d, p, "2", expect=["请核对", "涉及学校：江南区星光幼儿园", "承办单位：市教育局学前教育处"])


async def test_the_reassurance_on_giving_up_for_fear_comes_before_the_question(dialog):
    d, p = dialog, "o_p12_fear"
    await talk(d, p, "学校收资料费300元不给收据", expect="请问您这次是")
    await talk(d, p, "1", expect="哪所学校")
    # it said "…请接着回答：" then the reassurance, then the question
    reply = await talk(d, p, "算了…不投诉了 怕影响孩子", expect=["只有教育局能看到是谁反映的", "请接着回答"])
    assert reply.index("只有教育局能看到") < reply.index("请接着回答") < reply.index("哪所学校")
    assert reply.rstrip().endswith("不涉及具体学校请回复 0。")


async def test_name_calling_that_leaves_a_child_crying_and_refusing_school_is_urgent(dialog):
    d = dialog
    # it got 1 working day (a safety complaint) with no urgent line and no hotline
    await talk(d, "o_p12_names", "孩子被同学起外号 天天哭 不想上学了", expect=["紧急事项", "12355"], absent="110")
    # a nickname alone is no emergency
    await talk(d, "o_p12_names2", "孩子在学校被同学起外号", absent=["紧急事项", "12355", "110"])


# -- found chatting with the demo as three parents ----------------------------------------------------------------------
async def test_wait_let_me_think_is_no_answer_and_names_no_kind(dialog):
    d, p = dialog, "o_p12_wait"
    await talk(d, p, "我家孩子在江南区育英小学上三年级，班主任天天在群里让家长批改作业", expect="请问您这次是")
    # at the kind question 要不要投诉 was taken as 投诉
    await talk(d, p, "等下 我再想想要不要投诉", expect=["不着急", "请问您这次是"], absent=["联系电话", "已补充"])
    await talk(d, p, "1", expect="联系电话")
    await talk(d, p, "0", expect="是否同意")
    await talk(d, p, "2", expect="请核对")
    # at the summary it was "已改为投诉。" and the summary again
    await talk(d, p, "等下 我再想想要不要投诉", expect=["不着急", "回复 1 提交"], absent=["已改为", "已补充", "提交成功"])


async def test_the_goes_on_question_is_asked_again_whole_and_answered_in_its_words(dialog):
    d, p = dialog, "o_p12_goes_on"
    reply = await talk(d, p, "学校收资料费300元不给收据", expect="请问您这次是")
    for said in ("1", "江南区实验小学", "0", "2", "1"):
        reply = await talk(d, p, said)
    number = NUMBER.search(reply).group(0)
    await talk(d, p, "还有 数学老师暗示要去他家补课 不去就给小鞋穿", expect=f"刚提交的留言 {number} 的补充吗")
    # asked again it was a bare "请回复 1 或 2。", and 补充 (its first option's word) was not understood
    await talk(d, p, "谢谢🙏", expect=["不客气", f"1 补充到原留言 {number}", "2 作为新留言提交"])
    await talk(d, p, "补充", expect=f"已将您的补充内容加入留言 {number}")


async def test_a_grandfathers_introduction_is_kept_whole_and_acknowledged_once(dialog):
    d, p = dialog, "o_p12_grandpa"
    await talk(d, p, "你好 我是孩子爷爷", expect="请说说您要反映的具体事情")
    # it was "好的，涉及学校：…。\n好的。请说说…"
    reply = await talk(d, p, "孙子在江北区文昌小学读二年级", expect=["涉及学校：江北区文昌小学", "还需要您说说具体是什么事"])  # (people27: asked again, what is missing)
    assert reply.count("好的") == 1, reply
    await talk(d, p, "学校门口早上接送车子太多 很危险 好几次差点撞到孩子", expect="请问您这次是")
    # "你们看着办" was added to the message
    await talk(d, p, "我也不知道算啥 你们看着办吧", expect="请选一下这条留言属于哪一类", absent="已补充")
    await talk(d, p, "2", expect="联系电话")
    await talk(d, p, "0", expect="是否同意")
    # the grade was kept without who it is about: "江北区文昌小学读二年级"
    reply = await talk(d, p, "1", expect=["请核对", "孙子在江北区文昌小学读二年级"])
    # praise beside it is another matter, named as praise (it was "另一件事（师德师风）", read as a charge)
    await talk(d, p, "对了 上个月孩子发烧 班主任李老师一直陪着到家长来 要表扬她", expect="另一件事（表扬）",
               absent="师德师风")


async def test_praise_of_a_teacher_who_took_a_sick_child_to_hospital_is_praise_not_a_call_for_help(dialog):
    d, p = dialog, "o_lead20_praise"
    # it was "您说的情况关系到人身安全。如孩子正面临危险，请立即拨打110", filed as an urgent complaint (送医)
    await talk(d, p, "想表扬一下江南区实验小学的王老师，孩子发烧她一直陪着送医院",
               expect="表扬", absent=["110", "人身安全", "紧急"])
    # a praise that says the harm goes on is still a call for help
    await talk(d, "o_lead20_praise2", "表扬王老师送孩子去医院，但是孩子现在还在昏迷", expect="110")
    # and so is a praise with a second matter in it
    await talk(d, "o_lead20_praise3", "表扬王老师！另外我孩子被同学打得流血了", expect="110")
    await talk(d, "o_lead20_praise4", "表扬王老师！我孩子被同学打得流血了", expect="110")
