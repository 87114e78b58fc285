"""What people type on a phone: traditional characters, full-width letters, typos and homophones of rule words,
English. Written for these tests (not taken from data)."""
from __future__ import annotations

import pytest

from handlers.routing import Router
from handlers.routing.normalise import Normaliser, detect_lang


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.from_toml()


@pytest.mark.parametrize("text,expected", [
    ("學校亂收費，每人收了380元資料費，沒有收據", "fees"),
    ("幼兒園老師體罰小朋友", "preschool"),
    ("補習班收了錢就跑路了", "tutoring"),
    ("教師工資拖欠三個月", "teachers"),
    ("學校門口紅綠燈壞了", "out_of_scope"),
    ("孩子作業寫到半夜", "burden"),
])
def test_traditional_characters_route_like_simplified(router, text, expected):
    d = router.route(text)
    assert d.category == expected, d.explain()
    assert d.lang == "zh"


def test_full_width_letters_and_digits(router):
    d = router.route("ＫＴＶ开在学校旁边，吵到１２点")
    assert d.category == "out_of_scope", d.explain()


@pytest.mark.parametrize("text,expected,fix", [
    ("学校乱收废", "fees", "乱收废≈乱收费"),
    ("幼儿圆收费太贵", "preschool", "幼儿圆≈幼儿园"),
    ("培训机沟不给退钱", "tutoring", "培训机沟≈培训机构"),
    ("老师暗示要送红报", "ethics", "红报≈红包"),
    ("学效作业太多了", "burden", "学效≈学校"),
    ("辅导斑老板跑了", "tutoring", "辅导斑≈辅导班"),
    ("孩子在学校被欺付", "safety", "被欺付≈被欺负"),  # (the urgency word 被欺负 is in the vocabulary too)
])
def test_typos_and_homophones_are_read_as_the_rule_word_and_shown(router, text, expected, fix):
    d = router.route(text)
    assert d.category == expected, d.explain()
    assert fix in d.fixes
    assert fix in d.explain()
    assert fix in d.to_dict()["fixes"]


def test_a_fixed_word_is_shown_in_the_explanation_where_it_scored(router):
    d = router.route("学校乱收废")
    assert any(e["word"] == "乱收废≈乱收费" and e["category"] == "fees" for e in d.explanation)


@pytest.mark.parametrize("text", [
    "其实学校挺好的",            # 其实 sounds like 歧视 but is a word of its own
    "收废品的在学校门口吆喝",      # 收 + 废品, not 收费
    "教育部门为每所学校配备图书",  # 部门 + 为, not 门卫
    "华都小学今天开学",            # a name, not 读小学
])
def test_real_words_are_not_taken_for_typos(router, text):
    assert router.route(text).fixes == ()


def test_normaliser_alone():
    n = Normaliser(["乱收费", "幼儿园"], lambda w: False)
    out = n("學校亂收廢")
    assert out.text == "学校乱收费" and out.traditional and out.fixes == (("乱收废", "乱收费"),)
    assert n("ＡＢＣ").text == "abc"


def test_language_detection():
    assert detect_lang("the teacher hit my kid") == "en"
    assert detect_lang("老师打孩子") == "zh"
    assert detect_lang("孩子的ipad被老师没收了") == "zh"
    assert detect_lang("123 ！！") == "zh"


@pytest.mark.parametrize("text,expected", [
    ("The teacher hit my kid yesterday in class", "ethics"),
    ("My daughter's kindergarten raised the fees again", "preschool"),
    ("How do I enroll my son in primary school? We just moved here", "admission"),
    ("The school charges 300 yuan for materials and gives no receipt", "fees"),
    ("Too much homework, my son never sleeps before midnight", "burden"),
    ("The tutoring center closed and will not refund us", "tutoring"),
    ("Teachers in our county have not been paid their bonus for a year", "teachers"),
    ("My son is bullied by older students every day", "safety"),
    ("When can we see the gaokao scores?", "exams"),
    ("Our district has no middle school, please build one", "planning"),
    ("The vocational school sends students to a factory as an internship", "vocational"),
    ("How can poor families apply for a scholarship?", "other_edu"),
    ("My landlord won't return my deposit", "out_of_scope"),
    ("Traffic outside the school is terrible, the road needs a crossing", "out_of_scope"),
])
def test_english_messages(router, text, expected):
    d = router.route(text)
    assert d.category == expected, d.explain()
    assert d.lang == "en"


def test_english_words_match_whole_words_only(router):
    # "hit" inside "white" or "fee" inside "coffee" is no signal
    d = router.route("white coffee")
    assert d.scores["ethics"] == 0 and d.scores["fees"] == 0


@pytest.mark.parametrize("text,expected,word", [
    # the table names a word once; its regular forms count too
    ("Two older girls keep bullying my daughter", "safety", "bull*"),
    ("The school charged every student for workbooks", "fees", "charg*"),
    ("Who can check these nurseries? No licence at all", "preschool", "nursery"),
    ("My son was picked on and pushed in the corridor again", "safety", "picked on"),
    ("Our school collected money for uniforms and never gave receipts", "fees", "receipt"),
])
def test_english_word_forms_count_as_the_word(router, text, expected, word):
    d = router.route(text)
    assert d.category == expected, d.explain()
    assert any(e["word"] == word and e["category"] == expected for e in d.explanation), d.explain()


def test_an_english_word_and_its_plural_count_once():
    from handlers.routing import Router
    r = Router({"categories": {"fees": {"english": {"fee": 3, "fees": 3}}}})
    assert r.route("the fees").scores["fees"] == 3 * 2.0  # once, in the title (title_weight 2)


def test_irregular_words_and_short_ones_are_not_stretched(router):
    # "fire" is no "fired" for the urgency list (that table is matched as written), and "pe" is no "pes"
    assert not router.route("The teacher was fired last month").urgent
    assert router.route("pes").scores["burden"] == 0


@pytest.mark.parametrize("text", [
    "Cars park on the pavement outside my kid's school, the traffic police should give tickets",
    "The bus stop near the school has no shelter and the children get wet. Bus company please fix it",
    "Noise from the bar beside the primary school all night, police must do something",
])
def test_an_english_request_to_another_department_is_out_of_scope(router, text):
    d = router.route(text)
    assert d.category == "out_of_scope", d.explain()
    assert any(e["category"] == "out_of_scope" and e["word"].startswith("诉求") for e in d.explanation), d.explain()


def test_an_english_request_to_the_school_keeps_it_with_the_bureau(router):
    d = router.route("The school canteen food is cold and the school should fix the heating in the dining hall")
    assert d.category == "safety", d.explain()
    assert not any(e["word"].startswith("诉求") and e["weight"] > 0 for e in d.explanation), d.explain()


@pytest.mark.parametrize("text,expected", [
    # LABELS.md tie-breaks, as in the Chinese table: the kindergarten, the training centre, the college decide
    ("The preschool charges a 5000 yuan sponsor fee before they accept the child", "preschool"),
    ("The training centre charges 200 yuan for a material fee and will not refund it", "tutoring"),
    ("The vocational school charges fees for the dormitory that are too high", "vocational"),
    ("Kindergarten teachers have not been paid their salary for three months", "preschool"),
])
def test_english_tie_breaks_follow_labels(router, text, expected):
    d = router.route(text)
    assert d.category == expected, d.explain()


@pytest.mark.parametrize("text,fix", [
    ("孩子离家初走三天了", "离家初走≈离家出走"),      # an urgency word of three characters or more is matched by sound too
    ("學生離家初走兩天了", "离家初走≈离家出走"),      # after OpenCC
])
def test_typos_of_urgency_words_are_read_and_the_message_is_urgent(router, text, fix):
    d = router.route(text)
    assert fix in d.fixes and d.urgent


@pytest.mark.parametrize("text", ["孩子说不想活了", "心意到了孩子才能照顾好", "教师的职称评定要看学生成绩吗", "学校招不到学生怎么办"])
def test_short_urgency_pieces_are_not_read_into_ordinary_words(router, text):
    # 豁了, 倒了, 要砍, 找不到 are not in the near-miss vocabulary: 活了, 到了, 要看, 招不到 stay as written
    assert router.route(text).fixes == ()


@pytest.mark.parametrize("text,fix,category", [
    ("我們這裡新建了好多大樓，附近只有一間國小，每班都超過四十人，請政府規劃新學校", "国小≈小学", "planning"),
    ("這家才藝班沒有立案，老師也沒有證照，可以檢舉嗎？", "才艺班≈兴趣班", "tutoring"),
    ("班導收紅包", "班导≈班主任", "ethics"),
])
def test_taiwan_and_hong_kong_wording_is_read_as_the_rules_words(router, text, fix, category):
    d = router.route(text)
    assert fix in d.fixes and d.category == category and "纠错 read as" in d.explain()


@pytest.mark.parametrize("text", ["中國小孩在國外讀書", "全國中學生運動會", "国小规模"])
def test_regional_wording_only_in_traditional_text_and_not_inside_other_words(router, text):
    assert not any(f.startswith(("国小", "国中")) for f in router.route(text).fixes)
