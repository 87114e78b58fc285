"""What the digest says: hot topics that name matters and never people; first-time satisfaction and the number of
不满意 beside 满意率; 响应率 only over tickets whose 签收 window has ended; an unknown scope is an error."""
from __future__ import annotations

import re

import pytest

from bot.app import DB, DISPATCHER
from bot.cli import main
from handlers import digest, topics
from handlers.routing import Router
from tests.test_deadlines import at, file, world  # noqa: F401 - the fixture
from tests.test_digest import fixture


@pytest.fixture(scope="module")
def tokenizer():
    return Router.from_toml(None, [("jn-syxx", "江南区实验小学", ())]).tokenizer


WEEK = [
    "我叫陈静，不想让学校知道。江南区实验小学要求每个学生交300元资料费，还不给收据",
    "学校乱收资料费，王老师说不交就不发书，我的微信是wxid_k29ab7，电话13912345678",
    "资料费每学期收两次，李华妈妈也反映过，三年级二班都交了",
    "资料费600元没有任何票据，身份证号110101201001011234",
    "食堂的饭菜里吃出了虫子，张小明吃了以后拉肚子",
    "学校食堂饭菜有虫子，每天都很难吃",
    "食堂饭菜太咸，孩子每天吃不饱，刘伟老师也不管",
    "课后服务费强制收取，不参加也要交",
    "课后服务费每月收200元，不合理",
]


def test_hot_topics_name_matters_not_people(tokenizer):
    found = dict(topics.for_scopes([(None, None, t) for t in WEEK], {"all": None}, tokenizer)["all"])
    assert found.get("资料费") == 4
    assert any(k in found for k in ("食堂饭菜", "饭菜")) and "课后服务费" in found
    words = "".join(found)
    for person in ("陈静", "王老师", "李华", "张小明", "刘伟", "妈妈"):
        assert person not in words, (person, found)
    for filler in ("每天", "学期", "二班", "三年级", "学校", "孩子"):
        assert filler not in found, (filler, found)
    assert not any(re.search(r"[0-9A-Za-z_零一二三四五六七八九十百千万两]", k) for k in found), found


def test_one_ticket_is_no_trend(tokenizer):
    texts = [(None, None, t) for t in ("校车每天都迟到", "食堂饭菜太咸", "作业太多", "操场跑道坏了")]
    assert topics.for_scopes(texts, {"all": None}, tokenizer)["all"] == []


async def test_first_time_satisfaction_and_dissatisfied_count(world):  # noqa: F811
    """By hand, fees office in the week of Tue 29 Sep 2026 (W40): ticket A rated 不满意, redone, then 满意;
    ticket B rated 满意 at once. 满意率 (final ratings) = 2/2 = 100%; first-time = 1/2 = 50%; 不满意 given: 1."""
    w = world
    a, b = await file(w, "o_a"), await file(w, "o_b")
    for number in (a, b):
        await w.say("o_h", f"办结 {number} 已处理")
    await w.say("o_a", "3 还是没退")
    await w.say("o_h", f"办结 {a} 已全部退还")
    await w.say("o_a", "1")
    await w.say("o_b", "1")
    w.clock.at = at("2026-10-08 10:00")
    d = await w.app[DB].read(digest.build, "2026-W40", w.clock.now(), w.app[DISPATCHER].calendar.tz)
    fees = next(u for u in d.units if u.code == "jyj-sfc").now
    assert (fees.rated, fees.satisfied, fees.satisfaction) == (2, 2, 1.0)
    assert (fees.first_rated, fees.first_satisfied, fees.first_satisfaction) == (2, 1, 0.5)
    assert fees.dissatisfied == 1
    text = digest.message(d, w.app[DISPATCHER].calendar.tz, "http://x")
    assert "满意率100%" in text and "首次评价满意率50%，收到不满意1次" in text
    # the workbench's dashboard counts the same, from the daily counts and from ticket rows alike
    from handlers import dashboard
    tz = w.app[DISPATCHER].calendar.tz
    for zone in (tz, __import__("zoneinfo").ZoneInfo("Europe/Berlin")):  # Berlin: not the counts' days -> rows
        p = dashboard.period_of("week", at("2026-09-29 12:00"), zone)
        dash = await w.app[DB].read(dashboard.read, {}, {"jyj-sfc"}, p, w.clock.now(), zone, "x")
        assert (dash.current.first_rated, dash.current.first_satisfied, dash.current.satisfied) == (2, 1, 2), zone


def test_cli_digest_unknown_scope_is_an_error(tmp_path, capsys):
    from bot.demo import DEMO_DIRECTORY
    from storage.db import Database
    from tests.conftest import write_cli_config
    db_path = tmp_path / "d.db"
    config = write_cli_config(tmp_path / "c.toml", db_path, directory={"csv": DEMO_DIRECTORY})
    assert main(["init-db", "--config", str(config)]) == 0
    db = Database(db_path).start()
    db.run_sync(fixture)
    db.close()
    assert main(["digest", "--week", "2026-W48", "--scope", "nosuch", "--config", str(config),
                 "--out", str(tmp_path / "x.html")]) == 2
    assert "unknown scope 'nosuch'" in capsys.readouterr().err
    assert not (tmp_path / "x.html").exists()
    assert main(["digest", "--week", "2026-W48", "--scope", "jn-syxx", "--config", str(config),
                 "--out", str(tmp_path / "y.html")]) == 0
