"""Urgency families set E showed the rules did not know (issue 11): each is found by a rule, so the decision names
the words that matter, and the calm look-alikes next to them stay calm. Sentences here are in neither set E nor
urgent_training.csv."""
from __future__ import annotations

import pytest

from handlers.routing import Router


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.from_toml()


@pytest.mark.parametrize("text, word", [
    ("孩子被同学推倒，额头一直淌血，老师还没打电话给我们", "额头一直淌血"),
    ("罚跑十圈以后儿子尿里带血，学校说没事", "尿里带血"),
    ("被老师用书砸了手，手背肿得发紫", "肿得发紫"),
    ("体育课被人绊倒，胳膊脱臼了", "脱臼"),
    ("女儿去补课，到现在六个小时了联系不上", "六个小时了联系不上"),
    ("监控里儿子被一个陌生男人牵着走了", "陌生男人"),
    ("孩子在本子上写要把一整瓶药都吃了", "一整瓶药"),
    ("有人在操场边拿着钢管比划，说要教训那几个学生", "钢管比划"),
    ("男老师晚上闯进女生宿舍，还拿手机拍", "闯进女生宿舍"),
    ("实验室冒出黑烟，里面还有学生", "黑烟"),
    ("地下室进水，水已经齐腰，托管班的孩子还在下面", "水已经齐腰"),
    ("The boy's wrist is swollen after the coach twisted it", "swollen"),
    ("My daughter has been gone six hours and there is no word from her", "no word from"),
])
def test_a_family_is_found_by_a_rule_that_names_its_words(router, text, word):
    d = router.route(text)
    assert d.urgent, text
    assert any(word in w or w in word for w in d.urgent_words), d.urgent_words
    assert not any(w.startswith("模型判断") for w in d.urgent_words)
    assert "紧急 urgent: " in d.explain()


@pytest.mark.parametrize("text", [
    "学校今天搞了火灾逃生演练，孩子说很好玩",  # a drill
    "Tomorrow there is a fire drill at school, should kids bring anything?",
    "女儿腿上被虫子咬得起了好多包，教室能装纱窗吗",  # an insect bite
    "听说外县有个孩子走失了，后来找到了，我们学校门禁严吗",  # news from elsewhere, ended well
    "期中考试考得我人都裂开了，作业能少点吗",  # a figure of speech
    "这次月考难到爆炸，孩子写了两小时",
])
def test_look_alikes_stay_calm(router, text):
    assert not router.route(text).urgent, text


def test_a_real_fire_is_not_taken_for_a_drill(router):
    # practice_by only denies the word right before it: a fire during a drill is still a fire
    assert router.route("学校着火了，孩子们还在教室里").urgent
    assert router.route("There is a fire in the school kitchen and children are inside").urgent
