"""people10: small dialogue fixes from the last demo play -- each a short dialogue test through the sandbox, each
failing on the code before its fix."""
from __future__ import annotations

from tests.dialog import FEES, LEADER, talk


# -- an office that does not answer its phone is no missing child ---------------------------------------------------
async def test_an_unanswered_office_phone_is_not_urgent_but_a_child_not_home_is(dialog):
    d = dialog
    # it was "紧急事项" (three days, nobody answering: read as a child gone for hours without word)
    await talk(d, "o_p10_phone", "教育局的电话打了三天都没人接", absent=["紧急事项", "人身安全"])
    await talk(d, "o_p10_phone2", "区教育局电话打了半天没人接，到底有没有人管", absent=["紧急事项", "人身安全"])
    await talk(d, "o_p10_home", "孩子放学三个小时了还没到家，电话也打不通", expect="紧急事项")
    await talk(d, "o_p10_home2", "女儿出去一整天了，电话一直没人接", expect="紧急事项")


# -- a colleague's greeting with a remark ---------------------------------------------------------------------------
async def test_a_staff_greeting_with_a_short_remark_is_greeted_back_not_given_the_whole_list(dialog):
    d = dialog
    # it was "这条消息不是指令，没有发给群众" and every command
    await talk(d, FEES, "老师们好 今天怎么这么多", expect=["您好", "待办"], absent=["不是指令", "签收全部"])
    await talk(d, LEADER, "周局长好", expect=["您好", "这周情况怎么样"], absent=["不是指令", "签收全部"])
    # words for a parent after a greeting are still told they went nowhere
    await talk(d, FEES, "老师们好，您反映的问题已经转给学校了", expect="不是指令，没有发给群众")
    await talk(d, FEES, "王老师好，资料费会退还", expect="不是指令，没有发给群众")  # one person greeted: maybe a parent


# -- at the school question, the words of a question still to come ---------------------------------------------------
async def test_at_the_school_question_bu_liu_declines_the_phone_and_bu_tongyi_refuses_consent(dialog):
    d, p = dialog, "o_p10_liu"
    await talk(d, p, "孩子学校要求每个学生交300块钱买平板电脑，不买就不让上课", expect="请问您这次是")
    await talk(d, p, "1", expect="哪所学校")
    await talk(d, p, "干嘛要电话", expect=["不留也可以", "哪所学校"])
    # it was read as "no school" and the phone asked next
    await talk(d, p, "算了 不留", expect=["不留联系电话", "哪所学校"])
    # it was "这里需要发送它的名称" and the 不同意 lost (the consent asked again later)
    await talk(d, p, "不同意", expect=["不让学校知道您的身份", "哪所学校"], absent="需要发送它的名称")
    # both taken: neither the phone nor the consent is asked again
    await talk(d, p, "江南区实验小学", expect=["请核对", "江南区实验小学"], absent=["请留下联系电话", "是否同意"])
    # 同意 is never taken so (it would tell the school who wrote): the school's name is still asked for
    q = "o_p10_agree"
    await talk(d, q, "孩子学校要求每个学生交300块钱买平板电脑，不买就不让上课", expect="请问您这次是")
    await talk(d, q, "1", expect="哪所学校")
    await talk(d, q, "同意", expect="需要发送它的名称")
