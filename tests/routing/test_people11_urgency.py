"""people11: a child gone out and nobody answering, told in two clauses, is found by a rule; a complaint said in a
few characters is no danger (the urgency model alone needs `model_min_chars` letters)."""
from __future__ import annotations

import pytest

from handlers.routing import Router


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.from_toml()


@pytest.mark.parametrize("text", [
    "女儿出去一整天了，电话一直没人接",  # was urgent only by the model
    "儿子早上出门的，一整天了电话打不通",
    "女儿出去三个小时了，手机关机了",
])
def test_a_child_gone_out_and_no_answer_in_the_next_clause_is_found_by_a_rule(router, text):
    d = router.route(text)
    assert d.urgent, text
    assert not any(w.startswith("模型判断") for w in d.urgent_words), d.urgent_words


@pytest.mark.parametrize("text", [
    "孩子在学校待一整天，教育局电话没人接",  # the child is not gone: an office's phone
    "孩子报了一整天的班，老板联系不上",
    "给孩子报的班,老板联系不上",
])
def test_a_child_named_beside_an_unanswered_office_stays_calm(router, text):
    assert not router.route(text).urgent, text


@pytest.mark.parametrize("text", ["我要投诉", "投诉你们", "投诉老师", "我想投诉一下"])
def test_a_complaint_in_a_few_characters_is_not_urgent(router, text):
    assert not router.route(text).urgent, text


def test_fear_of_retaliation_alone_is_no_danger_but_extortion_with_blows_is_one(router):
    # 怕被报复 was an urgency word: a student afraid of being found out was told to call 110
    for text in ("我怕被报复", "我怕老师报复", "不敢说，怕被报复"):
        assert not router.route(text).urgent, text
    d = router.route("女儿被高年级的堵着要钱，不给就打，现在怕被报复不敢说")
    assert d.urgent and "不给就打" in d.urgent_words and not any(w.startswith("模型判断") for w in d.urgent_words)
