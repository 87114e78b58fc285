"""route22: news heard of somewhere else is no danger here; a child who shuts themselves away is no one's harm; being
touched over and over, a driver with no licence or a scrapped van full of children, a widening crack shedding
material are dangers the rules name (not left to the model)."""
from __future__ import annotations

import pytest

from handlers.routing import Router


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.from_toml()


def by_rule(d) -> bool:
    return d.urgent and not any(w.startswith("模型判断") for w in d.urgent_words)


@pytest.mark.parametrize("text", [
    "网上说邻县一个幼儿园老师拿针扎孩子，看得我心惊肉跳，咱们的幼儿园有监控吗",
    "听说隔壁市有学生跳楼，我们学校有没有心理老师",
    "朋友圈转的说别的学校有孩子被拐走了，是真的吗",
    "刷到外省一所中学宿舍着火的视频，想问学校宿舍有没有灭火器",
])
def test_danger_heard_of_somewhere_else_is_not_urgent(router, text):
    d = router.route(text)
    assert not d.urgent, (text, d.urgent_words)


@pytest.mark.parametrize("text", [
    "新闻里我们市的学校食物中毒，我女儿也是那个学校的，今天也开始吐了",  # the writer's own child
    "孩子被网上认识的人带去外地了，电话一直关机",  # a place alone is not news of elsewhere
    "女儿放学到现在没回家，听说被一个男人带去外地了",
    "听说儿子在学校被打了，外地来的几个学生干的，现在头上缝了针",
])
def test_news_or_a_far_place_with_a_child_of_ours_stays_urgent(router, text):
    assert router.route(text).urgent, text


@pytest.mark.parametrize("text, heard, ours", [
    # a second matter after the news: its danger is ours, the news's is not
    ("网上说邻县一个幼儿园老师拿针扎孩子，看得我心惊肉跳，咱们的幼儿园有监控吗\n还有校车经常超载", "拿针扎", "超载"),
    ("听说隔壁市有学生跳楼，我们学校有没有心理老师？另外学校食堂昨天好几个孩子食物中毒", "跳楼", "食物中毒"),
    # a child here, told after the news with no 我女儿 in it: the danger is hers
    ("女儿新闻上看到外省一所学校的事，说她也想跳楼", None, "跳楼"),
    ("儿子刷到外省一所中学有学生跳楼的视频，回来就说他也不想活了", "跳楼", "不想活"),
])
def test_news_heard_of_elsewhere_overrules_its_own_clause_only(router, text, heard, ours):
    d = router.route(text)
    assert d.urgent and any(ours in w for w in d.urgent_words), (text, d.urgent_words)
    if heard:
        assert not any(heard in w for w in d.urgent_words) and any(heard in w for w in d.urgent_overruled), d


@pytest.mark.parametrize("text", ["我说了她两句，她就把自己锁在屋里", "孩子考砸了被我骂了几句，把自己关在房间里一下午"])
def test_a_child_who_shuts_themselves_in_is_no_ones_harm(router, text):
    d = router.route(text)
    assert not any(w in ("锁在屋里", "关在房间里") for w in d.urgent_words), d.urgent_words


@pytest.mark.parametrize("text", [
    "孩子被老师关在教室里反锁了一中午，不给吃饭也不让上厕所",  # shut in by someone: still found
    "孩子被同桌摸来摸去，说了好几次都不停",
    "接送孩子的面包车司机根本没有驾照，每天拉二十来个孩子",
    "教室墙上的裂缝这几天越来越大，上课时还往下掉渣",
])
def test_dangers_named_by_a_rule(router, text):
    d = router.route(text)
    assert by_rule(d), (text, d.urgent_words)
