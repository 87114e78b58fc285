"""route24: a second matter told in a sentence of its own is judged on its own words — the urgency model's veto of a
calm-looking short message, and news of somewhere else (`elsewhere_by`), overrule only the sentences they read."""
from __future__ import annotations

import pytest

from handlers.routing import Router


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.from_toml()


@pytest.mark.parametrize("text,word", [
    ("我们学校有没有心理老师。另外学校门口的校车经常超载", "超载"),
    ("我们学校有没有心理老师？还有学校门口的校车经常超载", "超载"),
])
def test_the_models_veto_keeps_a_danger_told_in_its_own_sentence(router, text, word):
    d = router.route(text)
    assert d.urgent and word in d.urgent_words and word not in d.urgent_overruled, d.explain()
    assert d.urgent_score < router.urgent_veto  # the whole message's probability alone would have overruled it


@pytest.mark.parametrize("text", [
    "孩子丢了压岁钱",                      # one sentence: the veto as before
    "孩子丢了压岁钱。老师说下次注意就好",     # two sentences, the danger word's own sentence calm too
])
def test_the_models_veto_still_overrules_a_calm_short_message(router, text):
    d = router.route(text)
    assert not d.urgent and "孩子丢了" in d.urgent_overruled, d.explain()


def test_news_of_elsewhere_overrules_its_own_sentence_only(router):
    d = router.route("新闻说外省有学生食物中毒。还有我们学校门口的校车经常超载，孩子都挤在过道里")
    assert d.urgent and "超载" in d.urgent_words, d.explain()
    assert "食物中毒" in d.urgent_overruled and "食物中毒" not in d.urgent_words


@pytest.mark.parametrize("text", [
    "看新闻说外省一所幼儿园着火了，好几个孩子受伤，我们学校有消防演练吗",
    "新闻报道外地一所小学的围墙倒了。我们学校的围墙安全吗？",
    "I read about a school fire in another country, are our fire exits checked?",
])
def test_news_of_elsewhere_alone_is_still_no_danger(router, text):
    d = router.route(text)
    assert not d.urgent and d.urgent_overruled, d.explain()


@pytest.mark.parametrize("text", [
    "面包车司机没有驾照",
    "接送孩子的面包车司机没有驾照",
    "每天接送学生的车，司机连驾驶证都没有",
])
def test_an_unlicensed_driver_of_the_school_run_is_school_safety(router, text):
    d = router.route(text)
    assert d.category == "safety" and d.urgent, d.explain()


@pytest.mark.parametrize("text", [
    "驾照科目一考试预约不上",
    "我老公是货车司机，驾照被扣了怎么办",
    "我邻居没有驾照天天开车",
    "学校门口很多无证面包车拉学生，请交警管一管",  # unlicensed cabs, asked of the traffic police
])
def test_licences_and_the_roads_stay_out_of_scope(router, text):
    assert router.route(text).category == "out_of_scope", router.route(text).explain()


@pytest.mark.parametrize("text,office", [
    ("小区电梯坏了请物业赶紧修。学校厕所也一直漏水没人修", "safety"),
    ("请交警管管学校门口的违停。学校的体育课总被占，希望教育局管一管", "burden"),
])
def test_a_sentence_that_is_the_bureaus_is_not_referred_away_with_another_departments(router, text, office):
    d = router.route(text)
    assert d.category == "out_of_scope" and [m["category"] for m in d.matters] == ["out_of_scope", office], d.matters


@pytest.mark.parametrize("text", [
    "学校旁边的工地晚上还在施工。吵得孩子睡不着",   # a school named in passing: nothing of the bureau's
    "孩子医保卡丢了怎么补办？学校说找社保",
])
def test_a_school_in_passing_makes_no_second_matter(router, text):
    assert [m["category"] for m in router.route(text).matters] == ["out_of_scope"]
