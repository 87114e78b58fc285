"""The urgency model beside the urgency rules: it finds dangers told in words no rule has, overrules rule words
in a short calm message, and every urgent decision still says why (the rule's words, or the model's)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from handlers.routing import Router
from handlers.routing.evaluate import read_urgent
from handlers.routing.linear import LinearModel
from handlers.routing.train import (DATA, SPENT_ROUTING, SPENT_URGENT, URGENT_DATA, URGENT_WEIGHTS, urgent_rows,
                                    written_urgent)

HELD_OUT = Path(__file__).with_name("data") / "own_urgent_heldout.csv"
# the second round's held-out messages (self-harm plans, a child not home, a stranger, acts of sexual harm,
# bullying with injury, sparks and burning, punishment to injury, settled past events): never trained on
HELD_OUT2 = Path(__file__).with_name("data") / "own_urgent_heldout2.csv"


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.from_toml()


@pytest.fixture(scope="module")
def rules_only() -> Router:
    return Router.from_toml(train=False)


def test_the_shipped_urgency_weights_are_trained_on_the_shipped_data(router, rules_only):
    data = json.loads(URGENT_WEIGHTS.read_text(encoding="utf-8"))
    assert tuple(data["labels"]) == ("calm", "urgent")
    assert data["meta"]["trained_on"] == [URGENT_DATA.name, *(p.name for p in SPENT_URGENT if p.exists()),
                                          *(p.name for p in DATA), *(p.name for p in SPENT_ROUTING if p.exists())]
    # urgent_training.csv or training.csv edited without retraining: run `python -m handlers.routing.train`
    assert data["meta"]["messages"] == len(urgent_rows(rules_only))
    assert isinstance(router.urgency_model, LinearModel)


def test_held_out_urgency_is_never_trained_on():
    held = {t for _i, t, _u in read_urgent(HELD_OUT)}
    held2 = {t for _i, t, _u in read_urgent(HELD_OUT2)}
    assert len(held) >= 50 and len(held2) >= 25
    assert not (held | held2) & {t for _i, t, _u in read_urgent(URGENT_DATA)}
    # the later rounds' held-out files, beside the spent sealed sets that are now trained on
    later = {t for name in ("own_urgent_heldout3", "own_urgent_heldout5")
             for _i, t, _u in read_urgent(HELD_OUT.with_name(f"{name}.csv"))}
    assert len(later) >= 45
    assert not (held | held2 | later) & {t for t, _u in written_urgent()}
    assert all("heldout" not in p.name or p.stem.startswith("heldout_") for p in SPENT_URGENT)


@pytest.mark.parametrize("text", [
    "孩子放学被一辆面包车拉走了",              # no rule word: 拉走 is not 带走, 面包车 no danger alone
    "儿子被同学逼着跪下磕头还被录了视频",
])
def test_the_model_finds_a_danger_no_rule_names_and_says_so(router, rules_only, text):
    assert not rules_only.route(text).urgent
    d = router.route(text)
    assert d.urgent and d.urgent_words and d.urgent_score >= router.urgent_take
    assert "紧急 urgent" in d.explain() and "模型 model" in d.explain()
    assert d.to_dict()["urgent_score"] == round(d.urgent_score, 3)


@pytest.mark.parametrize("text,word", [
    # worded unlike the training messages
    ("孩子丢了压岁钱", "孩子丢了"),  # (a thing the rules' list of lost things does not name)
])
def test_the_model_overrules_rule_words_in_a_calm_short_message(router, rules_only, text, word):
    assert rules_only.route(text).urgent  # the rules alone raise a false alarm
    d = router.route(text)
    assert not d.urgent and d.urgent_words == ()
    assert word in d.urgent_overruled and "不紧急 not urgent" in d.explain()


@pytest.mark.parametrize("text", [
    "数学老师动手打了我家孩子",            # a teacher's blow: never overruled, whatever the model says
    "学校组织游泳，有学生溺水了",
    "孩子吃了学校的午饭后全班一半人肚子疼发烧",  # a danger told at length, not the lone word 肚子疼
])
def test_the_model_never_overrules_a_clear_danger(router, text):
    d = router.route(text)
    assert d.urgent and d.urgent_overruled == (), d.explain()


def test_prevention_teaching_is_no_danger(router):
    for text in ("学校开了防性侵安全教育课", "防溺水教育每周都要在平台上学习"):
        assert not router.route(text).urgent, text


def test_a_long_letter_keeps_its_rule_words(router):
    # in a long letter the rule's word is one feature among hundreds: the model does not overrule it
    letter = ("关于某小学教师体罚学生的投诉\n尊敬的领导：我儿子就读于某小学三年级。上周四，班主任以作业没写完为由，"
              "让他在走廊罚站两节课，还用教鞭打了他的手心，回家后手掌红肿，孩子现在很怕上学。请教育局调查处理。")
    d = router.route(letter)
    assert d.urgent and d.urgent_overruled == ()


@pytest.mark.parametrize("path, recall, most_alarms", [(HELD_OUT, 0.6, 4), (HELD_OUT2, 0.8, 1)],
                         ids=["own_urgent_heldout", "own_urgent_heldout2"])
def test_held_out_urgency_floor(router, path, recall, most_alarms):
    rows = read_urgent(path)
    urgent = [t for _i, t, u in rows if u]
    calm = [t for _i, t, u in rows if not u]
    found = sum(router.route(t).urgent for t in urgent)
    alarms = sum(router.route(t).urgent for t in calm)
    assert found / len(urgent) >= recall and alarms <= most_alarms, (found, len(urgent), alarms)


def test_without_the_model_the_rules_decide(tmp_path):
    rules = tmp_path / "r.toml"
    rules.write_text('[urgent]\nwords = ["被打"]\n', encoding="utf-8")
    d = Router.from_toml(rules).route("上个月孩子被打的事已经处理好了")
    assert d.urgent and d.urgent_score is None and d.urgent_words == ("被打",)




@pytest.mark.parametrize("text", [
    "去年孩子被同学打过，学校处理得很好，对方道歉了，现在两个人关系不错",
    "上个月孩子被打的事已经处理好了",
    "以前女儿在幼儿园被老师掐伤过，园长及时处理了，现在已经没事了",
    "My son was bullied last year but the school handled it well and they are friends now",
])
def test_a_past_settled_event_is_no_danger_now(router, rules_only, text):
    for r in (router, rules_only):  # the rules' own denial, with or without the model
        d = r.route(text)
        assert not d.urgent and d.urgent_overruled, d.explain()
        assert "不紧急 not urgent" in d.explain()


@pytest.mark.parametrize("text", [
    "去年孩子被同学打过，学校处理好了，可这周又被那几个人堵在厕所打了",
    "以前被欺负过，老师处理得很好，但是最近他们又开始勒索孩子了",
    "My son was bullied last year, the school handled it well, but today they beat him again",
])
def test_a_danger_told_with_a_past_reference_stays_urgent(router, text):
    d = router.route(text)
    assert d.urgent and d.urgent_overruled == (), d.explain()


@pytest.mark.parametrize("text", [
    "孩子丢了一把伞", "孩子找不到数学书了", "孩子找不到铅笔盒了，老师说让他再买一个", "孩子不见了一本书，是不是被同学拿了",
    "门口的花盆倒了，保安已经扶起来了", "娃儿的围巾不见了",
])
def test_a_lost_or_fallen_thing_is_no_danger_for_the_rules(rules_only, text):
    assert not rules_only.route(text).urgent, text


@pytest.mark.parametrize("text", [
    "孩子不见了，到处找不到", "孩子找不到了", "教室的墙倒了", "学校的旗杆倒了砸到学生",
])
def test_a_missing_child_or_a_falling_structure_stays_urgent(rules_only, text):
    assert rules_only.route(text).urgent, text


@pytest.mark.parametrize("text,said", [
    # families, not phrases: a blow told by its mark, breath that will not come, a night away, shut in, ran away
    ("体育老师用跳绳抽孩子的腿，抽得发紫", "抽得发紫"),
    ("女儿被同桌掐青了胳膊", "掐青了"),
    ("儿子被高年级的揍得胸口疼，喘不上气", "喘不上气"),
    ("孩子周五晚上出去，一整夜没回家", "一整夜没回家"),
    ("孩子被同学锁在器材室里一个多小时", "锁在器材室"),
    ("My son ran away after school and his phone is off", "ran away"),
])
def test_urgency_families_found_by_the_rules(rules_only, text, said):
    d = rules_only.route(text)
    assert d.urgent and any(said in w or w in said for w in d.urgent_words), d.urgent_words


def test_a_danger_only_the_model_sees_is_shown_as_its_judgement_with_the_clause_it_went_by(router, rules_only):
    text = "孩子放学被一辆面包车拉走了"
    assert not rules_only.route(text).urgent
    d = router.route(text)
    assert d.urgent and len(d.urgent_words) == 1
    said = d.urgent_words[0]
    assert said.startswith("模型判断") and "面包车拉走" in said  # the clause, not scattered n-grams (一辆, 放学)


@pytest.mark.parametrize("text,word", [
    ("新闻里说别的县有学校食物中毒", "食物中毒"),
    ("Read in the news that a school roof collapsed, are our classrooms checked?", "collapsed"),
])
def test_news_of_somewhere_else_is_no_danger_here(rules_only, text, word):
    d = rules_only.route(text)  # the rules alone: told as news, naming no child of the writer's
    assert not d.urgent and word in d.urgent_overruled and "不紧急 not urgent" in d.explain()


@pytest.mark.parametrize("text", [
    "看新闻说外地有孩子被拐，今天我儿子放学到现在都没回家，电话也打不通",  # the writer's own child: still urgent
    "My daughter read about a fire in the news and now she cannot breathe properly after the smoke in her classroom",
])
def test_news_with_the_writers_own_child_stays_urgent(rules_only, text):
    assert rules_only.route(text).urgent


@pytest.mark.parametrize("text,urgent", [
    ("校车司机喝了酒还在开车", True),                     # the known miss of the last session
    ("接送孩子的面包车司机一身酒气就上路了", True),
    ("The school bus driver smelled of alcohol and was swerving", True),
    ("校车司机师傅从来不喝酒，开车很稳", False),           # denied right before the last piece of the pattern
])
def test_a_driver_who_drank_with_children_aboard_is_urgent(rules_only, text, urgent):
    assert rules_only.route(text).urgent is urgent


# people5: what else 打 does — a phone call, a mark, a figure of speech — is no blow, for the rules or the model;
# the blow itself, told beside a phone call, stays urgent
@pytest.mark.parametrize("text", ["老师给我打了电话", "班主任打了好几次电话让我去学校", "老师打了分",
                                  "老师打了三次电话催我交材料", "数学老师打了个比方，孩子没听懂", "老师打了招呼说明天穿校服"])
def test_a_call_or_a_mark_is_no_blow(router, text):
    d = router.route(text)
    assert not d.urgent, (text, d.urgent_words, d.urgent_score)


@pytest.mark.parametrize("text", ["老师今天打了我孩子", "班主任打了孩子一巴掌", "老师打电话叫我去学校，孩子被同学打得头破血流"])
def test_a_blow_beside_a_call_stays_urgent(router, text):
    assert router.route(text).urgent


BLIND = Path(__file__).with_name("data") / "own_urgent_blind7.csv"


def test_blind_urgency_set_floor(router):
    # own_urgent_blind7.csv: written before the rules were read (people5), never trained on; 57/62 and 5/62 measured
    rows = read_urgent(BLIND)
    found = sum(router.route(t).urgent for _i, t, u in rows if u)
    alarms = sum(router.route(t).urgent for _i, t, u in rows if not u)
    assert found >= 56 and alarms <= 6, (found, alarms)


def test_a_hair_in_the_food_is_a_complaint_not_an_emergency(router):
    # people5's chats: 食堂饭菜里有头发 opened the school's list with 【紧急】 (the model's 0.91)
    assert not router.route("食堂饭菜里有头发").urgent
    assert router.route("食堂饭菜里有头发，好几个孩子吃完都上吐下泻").urgent
