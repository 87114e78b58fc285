"""people19: a child who will not go to school -- what the parent asks (咨询, for the child's school), the ways a
refusal is told after a teacher's or pupils' treatment (urgent, 12355), and a parent's own scolding before it (no
alarm). Short dialogues through the sandbox (WeChat's encrypted XML over real HTTP, the shipped router, the demo
directory), each failing on main fe49e6e but the guards marked so."""
from __future__ import annotations

import pytest

from handlers import intake, texts
from handlers.routing import Router
from tests.dialog import talk


# -- 孩子不想上学了 怎么办: a question, for the child's school --------------------------------------------------------
async def test_what_to_do_about_a_child_who_will_not_go_to_school_is_an_inquiry_for_the_school(dialog):
    d, p = dialog, "o_p19_what"
    # it was filed as 投诉 to the duty office (其他教育事务) straight to the phone question, no school asked
    await talk(d, p, "孩子不想上学了 怎么办", expect="哪所学校", absent=["请问您这次是", "12345", "12355", "紧急"])
    await talk(d, p, "江南区实验小学", expect="联系电话")
    await talk(d, p, "0", expect="让学校知道您的身份")
    await talk(d, p, "1", expect=["类型：咨询", "承办单位：江南区实验小学"])


@pytest.mark.parametrize("text", ["孩子不想上学了 怎么办", "孩子不肯去学校了，怎么办啊", "儿子不愿意上学了 说学校没意思"])
def test_a_child_who_will_not_go_to_school_is_the_school_s_matter_and_no_alarm(text):
    decision = Router.from_toml().route(text)
    assert decision.category == "burden" and not decision.urgent, (text, decision.category)


def test_what_to_do_is_a_question_and_a_child_s_refusal_alone_is_no_grievance():
    k = intake.infer_kind
    assert k("孩子不想上学了 怎么办") == "inquiry"  # was complaint: 不想上学 counted as a grievance
    assert k("孩子不想上学了") is None  # asked
    assert k("班主任骂孩子是废物，孩子不想上学了") == "complaint"  # (guard: what was done to the child still is)
    assert k("孩子不肯去学校了，怎么办啊") == "inquiry"


# -- a refusal after a teacher's or pupils' treatment, told in words no list had -------------------------------------
@pytest.mark.parametrize("first, then", [
    ("体育老师当着全班的面骂孩子是废物", "孩子这两天说啥也不肯进校门"),
    ("老师总是拿孩子的成绩羞辱他", "现在孩子一提上学就哭，死活不去"),
    ("班主任骂孩子是猪，还让全班同学别跟他玩", "孩子现在说什么也不肯进教室")])
async def test_a_refusal_told_in_new_words_after_a_teacher_s_treatment_is_urgent_with_the_youth_hotline(
        dialog, first, then):
    d, p = dialog, "o_p19_refuse"
    await talk(d, p, first, absent="12355")
    reply = await talk(d, p, then, expect=["12355", "紧急"], absent=["110", "另一件事"])
    assert "哪所学校" in reply or "请问您这次是" in reply, reply
    d2 = "o_p19_refuse_one"  # and in one message
    await talk(d, d2, first + "\n" + then, expect=["12355", "紧急"], absent="110")


def test_a_refusal_is_a_way_of_refusing_near_a_way_of_saying_school_or_dread_of_it():
    refuses = Router.from_toml().urgent_groups["refuses"]
    for said in ("说啥也不肯进校门", "不肯出门上学", "怕去学校", "一提上学就哭", "一到校门口就腿软", "一送幼儿园就大哭",
                 "不想去上学", "厌学", "死活不去了", "说什么也不肯去"):
        assert refuses.search(said), said
    for said in ("不想上数学课", "在学校哭了", "不想写作业"):  # no school word after 不想; 哭 with no 就
        assert not refuses.search(said), said
    # the hotline reads the same pattern: 12355 for a refusal, 110 for none of its words
    assert "12355" in texts.hotlines(["骂孩子是废物\n孩子这两天说啥也不肯进校门"], "ethics", "", refusals=refuses)
    assert "12355" not in texts.hotlines(["脚踢"], "ethics", "", refusals=refuses)


# -- the parent's own scolding before the refusal: no alarm ----------------------------------------------------------
@pytest.mark.parametrize("text", [
    "昨天我骂了他几句\n今天早上他就不肯去学校了",  # (a guard: no alarm on main either, as a whole message)
    "昨天我骂了他几句\n今天早上他就不肯去学校了，怎么劝都不听",
    "我们说了他几句，骂得有点重\n孩子这两天不愿意去学校",
    "我骂了他两句，骂得有点狠\n孩子这会儿在房间里不出来，说今天不去学校了"])
async def test_a_parent_s_own_scolding_before_a_refusal_is_no_alarm(dialog, text):
    d, p = dialog, "o_p19_calm"
    # it was 您说的情况关系到人身安全…12355 (the model, or 骂得有点重 read as no one's act)
    await talk(d, p, text, absent=["12355", "110", "人身安全", "紧急"])


async def test_a_parent_s_scolding_then_the_refusal_in_a_second_message_is_one_calm_matter(dialog):
    d, p = dialog, "o_p19_calm_two"
    await talk(d, p, "我们说了他几句，骂得有点重…", absent=["12355", "110"])
    # it was 您说的情况关系到人身安全…12355
    await talk(d, p, "孩子这两天不愿意去学校", absent=["12355", "110", "紧急", "另一件事"])
    q = "o_p19_calm_three"
    await talk(d, q, "昨天我骂了他几句", absent=["12355", "110"])  # (no word places it: 12345 is offered)
    # it was 这条消息像是另一件事（课业负担与教学管理）。这是新的问题吗？
    await talk(d, q, "今天早上他就不肯去学校了", expect="已补充到留言内容", absent=["另一件事", "12355", "110", "紧急"])


def test_an_act_that_opens_its_clause_is_the_clause_before_s_subject_s():
    r = Router.from_toml()
    assert not r.route("我们说了他几句，骂得有点重\n孩子这两天不愿意去学校").urgent
    # (guards: the clause before names someone at school, or the child as done to)
    assert r.route("同学笑他，骂他是胖子\n孩子不想去上学了").urgent
    assert r.route("我孩子被班主任说了几句，骂得很难听\n现在不肯上学").urgent
