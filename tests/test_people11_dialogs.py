"""people11: the citizen's side of the conversation, found wrong by real use -- each a short dialogue test through
the sandbox, each failing on the code before its fix."""
from __future__ import annotations

from tests.dialog import talk


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
