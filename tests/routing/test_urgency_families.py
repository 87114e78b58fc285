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
    ("老师今天打了我孩子", "打了我孩子"),  # 我 between the blow and the child (打我孩子, 打了孩子 were found)
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


# issue 11, route4: families told indirectly — an injury by what it left, a child gone by the clock, self-harm by
# farewell acts, harm behind a closed door — each with look-alikes that stay calm. Sentences are in no data file.
@pytest.mark.parametrize("text, word", [
    ("同桌拿圆珠笔戳他，脸上被戳得豁了个大口子", "豁了个大口子"),
    ("教练用皮带抽孩子的背，晚上洗澡才看见", "皮带抽"),
    ("儿子背上一条条紫红色的印子，问他也不说", "一条条紫"),
    ("有人用烟头烫她手臂，烫得起了水泡", "烫得起了水泡"),
    ("女儿被挤到墙角，现在躺在床上动不了", "躺在床上动不了"),
    ("她放学后就不见了，电话手表的定位一直不动", "定位一直不动"),
    ("孩子把养了三年的仓鼠托付给邻居，今天早上就出门了", "仓鼠托付"),
    ("儿子昨晚把日记本全烧了，今天一句话不说", "日记本全烧"),
    ("她在作业本上写：等我不在了，大家会轻松一点", "等我不在了"),
    ("宿管把男生叫进值班室，关上门让他脱衣服", "关上门让他脱"),
    ("It's past ten and our son still isn't back from football practice", "still isn't back"),
    ("He came back with a split lip and won't say who did it", "split lip"),
])
def test_an_indirect_family_is_found_by_a_rule(router, text, word):
    d = router.route(text)
    assert d.urgent, text
    assert any(word in w or w in word for w in d.urgent_words), d.urgent_words


@pytest.mark.parametrize("text", [
    "孩子把教室的窗户打坏了，要赔多少",  # 打坏 of a thing
    "女儿转学前给全班写了告别信，还把玩具送给了同桌，转学手续怎么办",  # a farewell for a move
    "老师给孩子的作文打了满分，想问问能不能投稿",  # 打 as giving a mark
    "去年儿子和同学打过一架，双方已经和解，现在是好朋友",  # settled by agreement
    "以前体罚学生的那个老师早就被辞退了，我想问新班主任是谁",  # a teacher removed long ago
    "我们全家下个月出国，孩子在群里跟同学说再见，学籍怎么保留",
])
def test_indirect_look_alikes_stay_calm(router, text):
    assert not router.route(text).urgent, text
