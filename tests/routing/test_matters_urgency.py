"""Two matters in one message, urgency, and the routing result's contract (to_dict keys other parts rely on)."""
from __future__ import annotations

import json

import pytest

from handlers.routing import Router


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.from_toml()


def cats(d) -> list[str]:
    return [m["category"] for m in d.matters]


def test_to_dict_contract(router):
    d = router.route("班主任收家长红包，还有作业太多了").to_dict()
    for key in ("category", "confidence", "scores", "explanation", "school", "urgent", "urgent_words", "matters",
                "lang"):
        assert key in d
    assert isinstance(d["urgent"], bool) and isinstance(d["urgent_words"], list)
    assert d["lang"] in ("zh", "en")
    assert d["matters"][0]["category"] == d["category"]  # primary first
    for m in d["matters"]:
        assert set(m) == {"category", "score", "words"}
        assert isinstance(m["score"], float) and m["words"] and all(isinstance(w, str) for w in m["words"])
    assert json.loads(json.dumps(d, ensure_ascii=False)) == d


@pytest.mark.parametrize("text,expected", [
    ("班主任收家长红包，还有作业太多了", {"ethics", "burden"}),
    ("学校食堂饭菜太差，还有校服费太贵", {"safety", "fees"}),
    ("学校乱收费，另外门口红绿灯坏了", {"fees", "out_of_scope"}),
    ("學校亂收費，還有老师打孩子", {"fees", "ethics"}),
    ("关于某中学乱收费的反映\n该校收取资料费三百元。此外，该校周六还组织补课。", {"fees", "burden"}),
    ("My kid is bullied at school. Also the school charges a 500 yuan materials fee", {"safety", "fees"}),
])
def test_two_matters(router, text, expected):
    d = router.route(text)
    assert set(cats(d)) == expected, d.explain()
    assert "多个事项 matters" in d.explain()


@pytest.mark.parametrize("text", [
    "孩子作业写到十一点",
    "幼儿园收费太贵，还有伙食太差",        # both the kindergarten's: one preschool matter
    "幼儿园乱收费，一学期涨两次",
    "培训机构乱收费还不退钱",
    "班主任介绍学生去培训机构补课拿回扣",
    "学校门口红绿灯坏了",
    "X中学旁边工地夜间施工噪音扰民\n工地每天晚上施工到凌晨两点，附近居民和学生都无法休息，请环保部门查处。",
])
def test_one_matter(router, text):
    d = router.route(text)
    assert len(d.matters) == 1, d.explain()
    assert d.matters[0]["category"] == d.category


@pytest.mark.parametrize("text,word", [
    ("老师打孩子耳光", "耳光"),
    ("孩子在学校被同学欺负打伤了", "打伤"),
    ("孩子被校园欺凌不敢上学", "欺凌"),
    ("体育老师对女生动手动脚", "动手动脚"),
    ("有人在校门口威胁要打我儿子", "威胁"),
    ("学校午饭后十几个孩子上吐下泻", "上吐下泻"),
    ("教学楼墙体开裂", "墙体开裂"),
    ("幼儿园老师拿针扎孩子", "针扎"),
    ("The teacher hit my kid yesterday in class", "hit"),
    ("My son is being bullied every day", "bullied"),
    ("Several kids got food poisoning after lunch", "poisoning"),
    # self-harm and danger to life, however written
    ("孩子说不想活了", "不想活"),
    ("我不想活了", "不想活"),
    ("娃儿说想跳楼", "跳楼"),
    ("孩子说活着没意思，想死", "想死"),
    ("有人带刀在校门口转", "带刀"),
    ("学生吃了食堂的饭食物中毒了", "食物中毒"),
    ("孩子不见了", "孩子不见了"),
    ("孩子放学到现在还没回家，电话也打不通", "没回家"),
    ("孩子說不想活了", "不想活"),
    ("學校門口有人帶刀", "带刀"),
    ("孩子不見了，學校說早就放學了", "孩子不见了"),
    ("My son says he wants to kill himself", "kill himself"),
    ("My daughter said she doesn't want to live anymore", "doesn't want to live"),
    ("A man with a knife is standing at the school gate", "knife"),
    ("My son has been missing since he left school", "missing"),
    ("We cannot find my daughter, she never came home from school", "cannot find my"),
    ("Half the class got food poisoning", "food poisoning"),
])
def test_urgent_whatever_the_category(router, text, word):
    d = router.route(text)
    assert d.urgent, d.explain()
    assert any(word in w for w in d.urgent_words), d.urgent_words
    assert "紧急 urgent" in d.explain()


@pytest.mark.parametrize("text", [
    "孩子作业写到十一点", "学校乱收费谁管", "中考成绩好像算错了", "教师工资拖欠三个月了", "学校门口红绿灯坏了",
    "How do I enroll my son in primary school?",
    "孩子的作业本不见了", "这道题难得我想哭", "天气热得要命，教室没有空调", "My son is missing a lot of classes",
])
def test_not_urgent(router, text):
    d = router.route(text)
    assert not d.urgent and d.urgent_words == ()
    assert d.to_dict()["urgent"] is False


def test_urgent_words_show_what_was_written(router):
    d = router.route("数学老师动手打了我家孩子")
    assert d.urgent
    assert all("…" not in w and "..." not in w for w in d.urgent_words)


def test_rules_without_new_sections_still_work(tmp_path):
    rules = tmp_path / "r.toml"
    rules.write_text('[categories.fees.words]\n"收费" = 2\n', encoding="utf-8")
    d = Router.from_toml(rules).route("收费，还有收费")
    assert d.category == "fees" and not d.urgent and cats(d) == ["fees"]


def test_a_lone_surrogate_does_not_stop_routing(router):
    # a JSON escape such as \ud800 reaches the router as a lone surrogate, which OpenCC cannot convert
    d = router.route("學校亂收費\ud800，每人三百元資料費")
    assert d.category == "fees"
    json.dumps(d.to_dict(), ensure_ascii=False).encode("utf-8")
