"""The eighth trust audit: the figures that feed a unit's performance review, and who sees what. First the two
items audit7 left open (表扬 from many new accounts; ratings from accounts that are or become staff), then defects
found afresh as an adversary and as an auditor. Through the sandbox's WeChat XML over real HTTP, the command line
and real SQLite files. Each behaviour test failed before its fix.

| sev    | defect                                                          | fix                                          | test                                                  |
|--------|-----------------------------------------------------------------|----------------------------------------------|-------------------------------------------------------|
| medium | 表扬 from many fresh accounts all counted                        | 评议's burst rule, one place (storage/bursts)  | test_praise_from_a_burst_of_new_accounts_is_set_aside… |
| medium | 表扬 scored against the most praised unit: stuffing one lowers  | median of the kind's praised units, capped   | test_one_unit_stuffed_with_praise_lowers_no_rivals…   |
|        | every rival                                                     |                                              |                                                       |
| low    | ratings by accounts later bound as staff still counted          | m050 tickets.by_insider (triggers), leaders  | test_ratings_by_an_account_later_bound_as_staff…      |
| low    | a removed staff member's rating counted                         | same flag, leaders told                      | test_a_removed_staff_members_rating_does_not_count    |
| medium | “1” (满意) sent mid-评议 scored as the school's worst mark        | asked: rate the ticket or answer the survey  | test_a_rating_sent_in_the_middle_of_a_survey_is_asked… |
| medium | a ticket filed and withdrawn at once counted as a missed 签收:   | withdrawn leaves 派发 (m050); a lapse stays a | test_a_ticket_filed_and_withdrawn_at_once_does_not…   |
|        | anyone could lower a school's 响应率                            | miss                                         |                                                       |
| low    | verify-rates blind to a forged 撤回 or staff-writer flag         | two checks against events / users            | (in test_ratings_by_an_account_later_bound…)          |
| low    | 1星 offered as 满意; 差评/没解决/好评 started a new message and the | stars read on their scale, words as ratings, | test_stars_and_words_are_read_on_their_own_scale…     |
|        | ticket closed 未评价                                            | always asked                                 |                                                       |
| low    | “1” after a paused 评议 question closed the ticket as 满意        | asked when a survey question came after      | test_a_one_after_a_paused_survey_is_asked_about…      |
| perf   | the praise burst check walked every ticket by writer            | INDEXED BY tickets_created; partial index    | test_the_praise_burst_check_reads_the_hours_range,    |
|        | (and the drafts check had no index)                             | for drafts                                   | test_the_unfinished_survey_check_reads_…              |
"""
from __future__ import annotations

import asyncio
import time

from handlers import review
from storage import staff, tickets
from tests.dialog import LEADER, SCHOOL, TZ, file_ticket, send, settle, talk
from tests.test_audit5 import HOMEWORK

UNIT = "jn-syxx"
THANKS = "感谢江南区实验小学的老师们耐心辅导孩子，非常负责"


async def _praise(d, openid: str, scene: str = f"school:{UNIT}") -> None:
    await send(d, openid, type="scan", scene=scene)
    await talk(d, openid, THANKS, expect="请核对")
    await talk(d, openid, "1", expect="感谢您的表扬")


async def _leader_notices(d, word: str, count: int = 1) -> list[str]:
    """The leaders' pushes containing `word`, once `count` have come and nothing more is on its way (pushes go out a moment later), or after 60 s."""
    deadline = time.monotonic() + 60  # (3 s: too short for a loaded machine)
    while True:
        async with d.session.get("/sandbox/messages", params={"openid": LEADER}) as resp:
            got = [m.get("content") or "" for m in (await resp.json())["messages"]]
        got = [t for t in got if word in t]
        if len(got) >= count and await settle(d, LEADER, timeout=60) or time.monotonic() > deadline:
            break  # once all that is on its way to them has come: a second one, or none (see settle)
        await asyncio.sleep(0.03)
    return got


async def _month(d, period: str = "2026-11"):
    from bot.app import DB
    now = d.clock.now()
    return await d.app[DB].read(lambda c: review.build(c, period, TZ, review.Weights(), now=now))


def _policy(d, **kw) -> None:
    from bot.app import DISPATCHER
    for k, v in kw.items():
        setattr(d.app[DISPATCHER].campaign.p, k, v)


# -- 1. 表扬 from many new accounts ------------------------------------------------------------------------------------
async def test_praise_from_a_burst_of_new_accounts_is_set_aside_and_the_leaders_told(dialog):
    """表扬 had no burst check: fresh accounts praising one school counted one each (each person once a period is
    no limit when the persons are accounts). Now praise follows 群众评议's rule (storage.bursts): more than
    `burst_per_hour` people praising one unit within an hour is a burst, the new accounts' praise is set aside,
    established accounts' stays counted, and the leaders are told once."""
    d = dialog
    _policy(d, burst_per_hour=4)
    for o in ("o_parent_a", "o_parent_b", "o_parent_c"):
        await send(d, o, type="scan", scene=f"school:{UNIT}")
    d.advance(3 * 86400)
    await _praise(d, "o_parent_a")
    for i in range(6):                                  # one hand, six fresh accounts in twenty minutes
        d.advance(3 * 60)
        await _praise(d, f"o_stuffer_{i}")
        if i == 2:
            await _praise(d, "o_parent_b")
    await _praise(d, "o_parent_c")
    got = await _month(d)
    assert got.unit(UNIT).figures.praise == 3
    [notice] = await _leader_notices(d, "表扬异常提醒")
    assert "江南区实验小学" in notice and "不计入" in notice and "照常计入" in notice, notice


def test_one_unit_stuffed_with_praise_lowers_no_rivals_score():
    """The 表扬 component was 100 × praise / the most praised unit of the kind: a school stuffed with 500 praises
    put every rival near 0. Now the reference is the median of the kind's praised units, capped at 100: one unit
    moves it by one place at most."""
    units = [{"code": c, "name": c, "kind": "school", "district": None, "parent": None} for c in "ABCD"]
    honest = review.assemble(units, {}, {}, {"A": 3, "B": 2, "C": 4}, {}, review.Weights(), "2026-11", 0, 1)
    stuffed = review.assemble(units, {}, {}, {"A": 3, "B": 2, "C": 500}, {}, review.Weights(), "2026-11", 0, 1)
    for r in (honest, stuffed):
        assert r.unit("A").scores["praise"] == 100.0 and r.unit("B").scores["praise"] == 66.7
        assert r.unit("C").scores["praise"] == 100.0 and r.unit("D").scores["praise"] == 0.0
    nobody = review.assemble(units, {}, {}, {}, {}, review.Weights(), "2026-11", 0, 1)
    assert nobody.unit("A").scores["praise"] is None


# -- 2. ratings from accounts that are or become staff ---------------------------------------------------------------
async def _rated(d, openid: str, score: str = "1") -> str:
    number = await file_ticket(d, openid, HOMEWORK, scene=f"school:{UNIT}", consent="1")
    await talk(d, SCHOOL, f"办结 {number} 已与家长沟通，作业量已调整", expect="办结")
    await talk(d, openid, score, expect="感谢您的评价")
    return number


async def test_ratings_by_an_account_later_bound_as_staff_leave_every_satisfaction_rate(dialog, tmp_path, capsys):
    """A rating counted whoever gave it: a teacher's account that filed against its own school and rated 满意, then
    bound, kept its 满意 in the school's 满意率 (unlike its 评议 and 表扬). A rating is the public's judgement: the
    ratings of a writer who is or becomes staff (of any unit, storage.staff.insider_sql) leave every 满意率 and
    首次满意率 as they bind, the leaders are told which, and `verify-rates` agrees with the counters."""
    import sqlite3

    from bot.cli import main
    from tests.conftest import write_cli_config
    d = dialog
    real = await _rated(d, "o_parent_real")
    number = await _rated(d, "o_teacher_second")
    r = (await _month(d)).unit(UNIT).figures.rates
    assert (r.rated, r.satisfied) == (2, 2)
    code = await d.db(staff.create_invite, UNIT, "handler", "实验小学·王老师", d.clock.now(), 86400)
    await talk(d, "o_teacher_second", f"绑定 {code}", expect="绑定成功")
    r = (await _month(d)).unit(UNIT).figures.rates
    assert (r.rated, r.satisfied, r.first_satisfaction) == (1, 1, 1.0)
    [notice] = await _leader_notices(d, "评价不计入")
    assert number in notice and "江南区实验小学" in notice, notice
    config = str(write_cli_config(tmp_path / "c.toml", str(tmp_path / "demo.db")))
    assert main(["verify-rates", "--period", "2026-11", "--config", config]) == 0, capsys.readouterr().out
    capsys.readouterr()
    # the flag is no way to drop a parent's rating by hand, nor is a forged 撤回 a way out of 派发
    late = await file_ticket(d, "o_parent_late", HOMEWORK, scene=f"school:{UNIT}", consent="1")
    conn = sqlite3.connect(str(tmp_path / "demo.db"))
    with conn:
        conn.execute("UPDATE tickets SET by_insider = 1 WHERE number = ?", [real])
        conn.execute("UPDATE tickets SET state = 'withdrawn', closed_at = ? WHERE number = ?", [d.clock.now(), late])
    assert main(["verify-rates", "--period", "2026-11", "--config", config]) == 1
    out = capsys.readouterr().out
    assert f"{real}：评价是否计入满意率与留言人是否工作人员不符" in out and f"{late}：撤回没有对应的操作记录" in out, out


async def test_a_removed_staff_members_rating_does_not_count(dialog):
    """Unbound staff are citizens again and may write and rate; their judgement of a unit's answer is no more the
    public's than their 评议 (once bound, always: m044 staff_left_at). Their rating is taken (the citizen is
    thanked, a 不满意 still reopens) but not counted, and the leaders are told."""
    from bot.app import DB, DISPATCHER
    d = dialog
    code = await d.db(staff.create_invite, "jn-yyxx", "handler", "育英小学·李老师", d.clock.now(), 86400)
    await talk(d, "o_ex_teacher", f"绑定 {code}", expect="绑定成功")
    await d.app[DB].run(d.app[DISPATCHER].desk.remove_staff, "o_ex_teacher", staff.CONSOLE)
    number = await _rated(d, "o_ex_teacher")
    r = (await _month(d)).unit(UNIT).figures.rates
    assert r.rated == 0 and r.resolved == 1
    [notice] = await _leader_notices(d, "评价不计入")
    assert number in notice, notice
    assert (await d.db(tickets.get, number))["rating"] == 1  # kept on the ticket, shown, only not counted


# -- 3. ratings misread ----------------------------------------------------------------------------------------------
async def test_a_rating_sent_in_the_middle_of_a_survey_is_asked_about_not_scored_as_the_school(dialog):
    """A parent answering the school's 评议 gets the push that their ticket is 办结 and replies “1” (满意). The
    survey took it as the answer to its question on a 1–5 scale: 1, the worst mark for the school, and the ticket
    went unrated. Now a reply that reads as a rating while a ticket awaits one is asked about, as the intake asks:
    1 rates the ticket (the survey question is asked again), 2 answers the survey."""
    from bot.app import DB
    from storage import surveys as survey_store
    d = dialog
    number = await file_ticket(d, "o_parent_mid", HOMEWORK, scene=f"school:{UNIT}", consent="1")
    reply = await send(d, "o_parent_mid", type="scan", scene=f"survey:school-2026:{UNIT}")
    assert "1–5" in reply, reply
    await talk(d, SCHOOL, f"办结 {number} 已与家长沟通，作业量已调整", expect="办结")
    reply = await talk(d, "o_parent_mid", "1", expect=["评价留言", number])
    reply = await talk(d, "o_parent_mid", "1", expect=["感谢您的评价", "1–5"])
    assert (await d.db(tickets.get, number))["rating"] == 1
    row = await d.app[DB].read(lambda c: survey_store.get(c, "school-2026", UNIT, "o_parent_mid"))
    assert not any(v == 1 for v in (row["draft"] or {}).values()), row
    # a 2 to the same question when nothing awaits a rating is the survey's answer, asked nothing
    await talk(d, "o_parent_mid", "2", absent="评价留言")
    row = await d.app[DB].read(lambda c: survey_store.get(c, "school-2026", UNIT, "o_parent_mid"))
    assert 2 in (row["draft"] or {}).values(), row
    # with a rating still awaited: asked once; “2, it answers the survey” holds for the questions after it
    other = await file_ticket(d, "o_parent_mid2", HOMEWORK, scene=f"school:{UNIT}", consent="1")
    await talk(d, SCHOOL, f"办结 {other} 已与家长沟通，作业量已调整", expect="办结")
    await send(d, "o_parent_mid2", type="scan", scene=f"survey:school-2026:{UNIT}")
    await talk(d, "o_parent_mid2", "1", expect="评价留言")
    await talk(d, "o_parent_mid2", "2", expect="第2/")
    await talk(d, "o_parent_mid2", "2", expect="第3/", absent="评价留言")
    row = await d.app[DB].read(lambda c: survey_store.get(c, "school-2026", UNIT, "o_parent_mid2"))
    assert sorted(v for v in row["draft"].values() if isinstance(v, int)) == [1, 2], row
    assert (await d.db(tickets.get, other))["state"] == "resolved"


# -- 4. rate formulas --------------------------------------------------------------------------------------------------
async def test_a_ticket_filed_and_withdrawn_at_once_does_not_lower_the_schools_response_rate(dialog):
    """A withdrawn ticket stayed in the unit's 派发 while it could no longer be signed: filed and withdrawn at once
    (by mistake, or by a rival school doing it on purpose from fresh accounts), it counted as not signed in time,
    and the school's 响应率 fell with nothing it could do. A withdrawal now takes the ticket out of 派发 as it takes
    it out of 解决率; a 签收 window it had already let lapse stays a miss (unit_misses), as a late 办结 does."""
    d = dialog
    signed = await file_ticket(d, "o_parent_ok", HOMEWORK, scene=f"school:{UNIT}", consent="1")
    await talk(d, SCHOOL, f"签收 {signed}", expect="签收")
    for i in range(3):                                   # filed and taken back within minutes
        number = await file_ticket(d, f"o_rival_w{i}", HOMEWORK, scene=f"school:{UNIT}", consent="1")
        await talk(d, f"o_rival_w{i}", f"撤回 {number}", expect="确认撤回")
        await talk(d, f"o_rival_w{i}", f"确认撤回 {number}", expect="已撤回")
    lapsed = await file_ticket(d, "o_parent_late", HOMEWORK, scene=f"school:{UNIT}", consent="1")
    d.advance(3 * 86400)                                 # past every 签收 window
    await talk(d, "o_parent_late", f"撤回 {lapsed}", expect="确认撤回")
    await talk(d, "o_parent_late", f"确认撤回 {lapsed}", expect="已撤回")
    r = (await _month(d)).unit(UNIT).figures.rates
    # the lapsed one is a case the school had (m066: kept in 派发 and 应签收, late); the three withdrawn inside
    # their windows are in neither
    assert (r.dispatched, r.accepted_in_time, r.response_due) == (2, 1, 2), r
    assert r.response == 0.5


def test_the_staff_writer_check_reads_only_index_ranges(tmp_path):
    """verify-rates' check of the staff-writer flag costs the period: the rated index's range and, per ticket, its
    writer's row (EXPLAIN QUERY PLAN: no SCAN)."""
    import sqlite_utils

    from storage import integrity, migrations
    db = sqlite_utils.Database(tmp_path / "t.db")
    migrations.migrate(db)
    plan = " | ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + integrity._INSIDER_SQL, [0.0, 1.0]))
    assert plan.startswith("SEARCH t USING INDEX tickets_rated") and "SCAN" not in plan, plan


def test_the_praise_burst_check_reads_the_hours_range(tmp_path):
    """The burst check runs with every praise: it reads the hour's range of creation times, not every ticket
    grouped by writer (the planner's choice without INDEXED BY, on the path of a message)."""
    import sqlite_utils

    from storage import migrations
    db = sqlite_utils.Database(tmp_path / "t.db")
    migrations.migrate(db)
    plans: list[str] = []
    db.conn.set_trace_callback(lambda sql: plans.extend(
        r[3] for r in db.conn.execute("EXPLAIN QUERY PLAN " + sql)) if sql.startswith("SELECT t.openid") else None)
    tickets.mark_praise_burst(db, UNIT, 86400.0 * 400, 30)
    db.conn.set_trace_callback(None)
    assert plans and plans[0].startswith("SEARCH t USING INDEX tickets_created") and \
        not any(p.startswith("SCAN") for p in plans), plans


async def test_stars_and_words_are_read_on_their_own_scale_and_asked(dialog):
    """The rating request says 1 满意, 2 基本满意, 3 不满意. “1星” (one star: the worst) was read as 1, 满意, and
    offered for a yes; “差评”, “没解决” and “好评” were taken as the start of a new message, so the answer's
    rating was lost and the ticket closed 未评价, out of the unit's 满意率. Stars and marks out of 5 are read on
    their scale, the usual words as what they say, and each is asked, never taken unconfirmed."""
    d = dialog
    cases = (("o_star", "1星", "不满意", "reopened", 3), ("o_bad", "差评", "不满意", "reopened", 3),
             ("o_unsolved", "没解决，作业还是很多", "不满意", "reopened", 3), ("o_good", "五星好评", "满意", "closed", 1))
    for who, said, asked, state, rating in cases:
        number = await file_ticket(d, who, HOMEWORK, scene=f"school:{UNIT}", consent="1")
        await talk(d, SCHOOL, f"办结 {number} 已与家长沟通，作业量已调整", expect="办结")
        await talk(d, who, said, expect=[f"您是要评价留言 {number}（{asked}）吗"])
        await talk(d, who, "1")
        t = await d.db(tickets.get, number)
        assert (t["state"], t["rating"]) == (state, rating), (said, t["state"], t["rating"])
    number = await file_ticket(d, "o_minutes", HOMEWORK, scene=f"school:{UNIT}", consent="1")
    await talk(d, SCHOOL, f"办结 {number} 已与家长沟通，作业量已调整", expect="办结")
    await talk(d, "o_minutes", "3分钟前学校又打电话来问作业的事", absent="评价留言")   # minutes are no marks
    assert (await d.db(tickets.get, number))["state"] == "resolved"


async def test_a_one_after_a_paused_survey_is_asked_about_not_taken_as_satisfied(dialog):
    """The ticket is 办结; then the parent answers the school's 评议, puts the phone down past the survey's 30
    minutes, and answers the question on screen with “1” (the worst mark on its 1–5 scale). The survey had paused,
    so “1” was taken at once as 满意 for the ticket: the school's 满意率 rose on a mark meant against it. When the last
    question the person was asked is a survey's (their unfinished sheet moved after the ticket's 办结), a bare
    rating is asked about, as any doubtful one is."""
    d = dialog
    number = await file_ticket(d, "o_parent_idle", HOMEWORK, scene=f"school:{UNIT}", consent="1")
    await talk(d, SCHOOL, f"办结 {number} 已与家长沟通，作业量已调整", expect="办结")
    d.advance(600)
    reply = await send(d, "o_parent_idle", type="scan", scene=f"survey:school-2026:{UNIT}")
    assert "1–5" in reply, reply
    await talk(d, "o_parent_idle", "5", expect="1–5")
    d.advance(40 * 60)
    await talk(d, "o_parent_idle", "1", expect=f"您是要评价留言 {number}")
    assert (await d.db(tickets.get, number))["state"] == "resolved"
    await talk(d, "o_parent_idle", "1", expect="感谢您的评价")
    assert (await d.db(tickets.get, number))["rating"] == 1
    # `评价 1` says what it is: taken even so
    other = await file_ticket(d, "o_parent_idle2", HOMEWORK, scene=f"school:{UNIT}", consent="1")
    await talk(d, SCHOOL, f"办结 {other} 已与家长沟通，作业量已调整", expect="办结")
    await send(d, "o_parent_idle2", type="scan", scene=f"survey:school-2026:{UNIT}")
    await talk(d, "o_parent_idle2", "5", expect="1–5")
    d.advance(40 * 60)
    await talk(d, "o_parent_idle2", "评价 1", expect="感谢您的评价")


def test_the_unfinished_survey_check_reads_the_persons_drafts(tmp_path):
    """Read with every bare rating: the person's drafts from a partial index, not every response."""
    import sqlite_utils

    from storage import migrations, surveys
    db = sqlite_utils.Database(tmp_path / "t.db")
    migrations.migrate(db)
    plans: list[str] = []
    db.conn.set_trace_callback(lambda sql: plans.extend(
        r[3] for r in db.conn.execute("EXPLAIN QUERY PLAN " + sql)) if "survey_responses" in sql else None)
    assert surveys.draft_since(db, "o_x", 0.0) is False
    db.conn.set_trace_callback(None)
    assert plans and all(p.startswith("SEARCH") and "survey_responses_drafts" in p for p in plans), plans
