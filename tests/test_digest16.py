"""digest16: m060's back-fill of `tickets.resolve_since` runs after start-up (m062), in the service's short writes,
and a period reads the same while it runs as after it; a fill killed half-way goes on from where it stopped."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlite_utils

from handlers import rates
from storage import migrations, tickets
from tests.rates_check import before_m059, nov as day
from tests.test_credit import NOBODY
from tests.dialog import TZ

ROOT = Path(__file__).resolve().parents[1]
HOLDER, OTHER = "jn-jyj", NOBODY
PERIODS = [(day(1, 0), day(7, 0)), (day(7, 0), day(9, 0)), (day(1, 0), day(15, 0)), (day(9, 0), day(12, 0))]


def _history(db: sqlite_utils.Database, n: int) -> None:
    """`n` tickets as code before m060 left them: the district's deadline (day 6) passed while the school held the
    ticket (its own deadline day 9); the district took it back on day 8 with its deadline; every other one then
    resolved late on day 10. No `resolve_since` written: the column did not exist."""
    for i in range(n):
        t = tickets.create(db, openid=f"o_{i}", kind="complaint", category="burden", unit_code=HOLDER,
                           school_code=OTHER, text="x", attachments=[], contact_phone=None, anonymous=False,
                           routing={}, now=day(2), due_at=day(6), tz=TZ, accept_due_at=day(3))
        t = tickets.transition(db, t, "assigned", "o_lead", day(4), "transfer", "请学校核实", unit_code=OTHER,
                               due_at=day(9), accept_due_at=day(5))
        t = tickets.transition(db, t, "assigned", "o_lead", day(8), "transfer", "仍由区局办理", unit_code=HOLDER,
                               due_at=day(6), accept_due_at=day(3))
        if i % 2:
            t = tickets.transition(db, t, "accepted", "o_duty", day(9), "accept", accepted_by="o_duty",
                                   accepted_at=day(9))
            tickets.transition(db, t, "resolved", "o_duty", day(10), "resolve", resolved_at=day(10))


def _figures(db: sqlite_utils.Database) -> list:
    """What the rates read of each period for 解决率 (what `resolve_since` decides), for every unit and for the
    district alone, and the open part of 解决率 at each period's end. (The job's later fill, m070, gives the
    school its 签收 cases of these departures: 派发 and 响应率, not read here.)"""
    def resolution(per_unit: dict) -> dict:
        return {u: rates.Rates(resolved=r.resolved, resolved_in_time=r.resolved_in_time, open_overdue=r.open_overdue,
                               left_late=r.left_late) for u, r in per_unit.items()}
    out = []
    for start, end in PERIODS:
        out.append((resolution(rates.for_period(db, start, end, None, day(20))),
                    resolution(rates.for_period(db, start, end, [HOLDER], day(20))),
                    tickets.overdue_at(db, end), tickets.overdue_at(db, end, [HOLDER])))
    return out


def _listed(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT count(*) FROM resolve_since_todo").fetchone()[0]


FILL = """
import asyncio, os, signal, sys, types
from bot import scheduler
from storage import tickets
from storage.db import Database
scheduler.RESOLVE_SINCE_BATCH = 4
kill_at = int(sys.argv[2])
store, writes = tickets.resolve_since_store, []
def killed(db, done):  # on the writer thread, inside its transaction: nothing of this write is committed
    n = store(db, done)
    writes.append(n)
    if len(writes) == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return n
tickets.resolve_since_store = killed
async def main():
    db = Database(sys.argv[1]).start()
    async def no_wait():
        pass
    try:  # the service's job, on the service's writer and readers
        print(await scheduler.Jobs.upgrade_fill(types.SimpleNamespace(db=db, _yield=no_wait)))
    finally:
        db.close()
asyncio.run(main())
"""


def _fill(path: Path, kill_at: int = 0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", FILL, str(path), str(kill_at)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_a_period_reads_the_same_while_the_fill_runs_and_after_it_and_a_killed_fill_goes_on(tmp_path):
    """An upgrade from before m060: m062 only lists the late and open tickets (start-up no longer walks their
    events). Until the fill reaches a ticket its `resolve_since` is NULL in the table, yet the district's figures
    up to day 7 (when the school held the tickets) read them as not the district's, exactly as after the fill;
    read as NULL-since-dispatch all 30 would count open past the deadline. The fill, killed inside its third
    write, keeps its first two and goes on from there; the values it writes are the events' own."""
    path = tmp_path / "t.db"
    db = before_m059(path, NOBODY, stop_before="m060_one_miss_a_window_and_returns")
    _history(db, 30)
    migrations.migrate(db)
    db.conn.commit()  # (the old-schema writes leave Python's implicit transaction open)
    assert _listed(db) == 30
    assert db.execute("SELECT count(*) FROM tickets WHERE resolve_since IS NOT NULL").fetchone()[0] == 0
    during = _figures(db)
    # the first period: the district held none of them at its end (day 7), so nothing of its is open past a deadline
    assert during[0][3].get(HOLDER, 0) == 0 and during[0][1][HOLDER].open_overdue == 0, during[0]
    assert during[3][3][HOLDER] == 15, during[3]  # from day 8 it is the district's again, late (the open half)
    # the same rows with the list not consulted: the NULL read as it is would give other figures (what is guarded)
    blind = sqlite_utils.Database(path)
    blind.resolve_since_filled = True
    assert _figures(blind)[0][3].get(HOLDER, 0) == 30
    blind.close()
    db.close()

    killed = _fill(path, kill_at=3)
    assert killed.returncode == -9, killed.stderr
    db = sqlite_utils.Database(path)
    assert _listed(db) == 30 - 2 * 4  # two writes of 4 committed, the third not at all
    filled = db.execute("SELECT count(*) FROM tickets WHERE resolve_since IS NOT NULL").fetchone()[0]
    assert filled == 8
    assert _figures(db) == during
    db.close()

    done = _fill(path)
    assert done.returncode == 0 and done.stdout.split() == ["22"], (done.stdout, done.stderr)
    db = sqlite_utils.Database(path)
    assert _listed(db) == 0
    assert {r[0] for r in db.execute("SELECT resolve_since FROM tickets")} == {day(8)}
    assert _figures(db) == during
    # (m070's fill ran too: the school's 签收 case of each ticket, let lapse while it held it, is kept with it)
    assert (rates.for_period(db, *PERIODS[0], [OTHER], day(20))[OTHER].dispatched,
            db.execute("SELECT count(*) FROM unit_cases WHERE unit_code = ?", [OTHER]).fetchone()[0]) == (30, 30)
    # a database m060 had filled in full: the list again, every value already there, nothing else written
    db.execute("INSERT INTO resolve_since_todo SELECT id FROM tickets")
    db.close()
    again = _fill(path)
    assert again.returncode == 0 and again.stdout.split() == ["30"], again.stderr
    db = sqlite_utils.Database(path)
    assert {r[0] for r in db.execute("SELECT resolve_since FROM tickets")} == {day(8)}
    assert _figures(db) == during
    db.close()


# -- the hot-topic cut's version is declared (handlers.topics.CUT_RULES), not this module's source -----------------
GOLDEN_TEXTS = [
    "江南区实验小学乱收资料费300元不给收据，家长意见很大",
    "实验小学食堂饭菜质量太差，孩子吃了拉肚子，希望教育局管一管",
    "王老师上课体罚学生，让孩子在走廊罚站一节课",
    "城西中学补课费每学期收两千元，还要求家长统一购买教辅资料",
    "请问今年小学一年级招生入学需要准备哪些材料？户口和房产证都要吗",
    "学校校车超载，每天早上挤了四十多个学生，太危险了",
    "表扬育英小学的李校长，疫情期间每天在校门口检查体温，辛苦了",
    "幼儿园保育员打骂孩子，监控被删了，园长说是误会",
    "初三晚自习上到晚上十点半，学生睡眠严重不足，作业负担太重",
    "我的微信号是abc_123，学校老师加了家长群天天收钱",
    "班主任张老师推荐我们去校外培训机构补课，不去就不让当班干部",
    "学校厕所没有隔板，女生不敢上厕所，反映多次没人处理",
    "高中部宿舍空调坏了一个月，宿管说没钱修，学生热得睡不着",
    "学区划分不合理，我家离学校五百米却被划到三公里外的学校",
    "教师资格证考试报名网站打不开，电话也打不通",
    "孩子在学校被同学欺负，头上缝了三针，学校不让报警",
    "民办学校擅自提高学费，从每学期八千涨到一万二",
    "江南区实验小学门口交通拥堵，接送孩子的车堵到主干道上",
    "课后服务费每月三百元强制收取，不参加也要交",
    "老师在家长群里公布学生成绩排名，孩子压力很大",
    "学校组织学生去校外参加商业演出，没有经过家长同意",
    "营养午餐的牛奶过期了，学生喝了肚子疼",
    "教育局什么时候公布中考分数线？",
    "Thanks to the school for helping my son with his English",
    "转学手续办了两个月还没办好，学校互相推诿",
    "校服质量差价格贵，一套要四百多，洗一次就褪色",
    "体育课被语文数学老师占用，一学期没上过几节体育课",
    "特殊教育学校缺少康复老师，孩子的康复训练停了",
    "学校强制学生购买指定的平板电脑，每台三千多元",
    "午休时间学生只能趴在课桌上睡，希望学校提供午休床",
]
# handlers.topics.CUT_RULES -> the fingerprint of the golden texts' terms under those rules (a router built from the
# few words below, so an edit of default_rules.toml, whose words change the version by themselves, leaves it)
GOLDEN = {1: "245b302b6d0531b8e636d814"}


def _golden_router():
    from handlers.routing import Router
    return Router({"categories": {"fees": {"words": {"资料费": 3, "补课费": 3, "课后服务费": 3}},
                                  "safety": {"words": {"校车": 3, "超载": 2}}}},
                  [("t001", "江南区实验小学", ("实验小学",)), ("t002", "育英小学", ()), ("t003", "城西中学", ())])


def _fingerprint(tokenizer) -> str:
    import hashlib
    import json
    from handlers import topics
    terms = topics.terms_of(GOLDEN_TEXTS, tokenizer)
    return hashlib.blake2b(json.dumps(terms, ensure_ascii=False).encode(), digest_size=12).hexdigest()


def test_the_cuts_output_is_the_one_its_declared_version_names():
    """The stored hot-topic terms are kept while handlers.topics.cut_version is the same: a change to what the cut
    gives (a stop-word, a flag, the phrase rule, how the router's dictionary joins jieba's tags) must bump
    CUT_RULES, or 400 days of stored terms would be counted beside terms cut another way. This fails until it is
    bumped and the new fingerprint recorded in GOLDEN."""
    from handlers import topics
    got = _fingerprint(_golden_router().tokenizer)
    assert topics.CUT_RULES in GOLDEN, f"record GOLDEN[{topics.CUT_RULES}] = {got!r}"
    assert GOLDEN[topics.CUT_RULES] == got, (
        f"the cut's output changed under CUT_RULES = {topics.CUT_RULES}: bump handlers.topics.CUT_RULES and record "
        f"GOLDEN[<new>] = {got!r}")
    assert _fingerprint(None) != got  # the router's words and schools are in the cut (what the version also names)


def test_the_cut_version_follows_the_rules_jieba_and_the_dictionary_not_the_modules_text(tmp_path, monkeypatch):
    """An edit of handlers/topics.py that leaves the cut as it was (here a comment) keeps the version, so nothing
    is cut again; the declared rules, jieba's version and the router's dictionary each change it."""
    import importlib.util

    import jieba

    from handlers import topics
    tokenizer = _golden_router().tokenizer
    version = topics.cut_version(tokenizer)
    edited = tmp_path / "topics_edited.py"
    edited.write_text("# a comment, nothing else\n" + Path(topics.__file__).read_text(encoding="utf-8"), encoding="utf-8")
    spec = importlib.util.spec_from_file_location("topics_edited", edited)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.cut_version(_golden_router().tokenizer) == version
    monkeypatch.setattr(module, "CUT_RULES", topics.CUT_RULES + 1)
    assert module.cut_version(_golden_router().tokenizer) != version
    monkeypatch.setattr(jieba, "__version__", jieba.__version__ + ".post1")
    assert topics.cut_version(_golden_router().tokenizer) != version
    monkeypatch.undo()
    from handlers.routing import Router
    other = Router({"categories": {"fees": {"words": {"资料费": 3}}}}, [("t001", "江南区实验小学", ("实验小学",))])
    assert topics.cut_version(other.tokenizer) != version
    assert topics.cut_version(_golden_router().tokenizer) == version
