"""The sixth audit (brief priority 1, trust): what `verify-rates` could not see (a deadline moved, a credit shifted,
a miss erased), a school below `min_cases` ranked on its 在岗 alone, a burst day a leader could neither set aside
nor give back, and new attacks on what was built lately. Through the sandbox's WeChat XML over real HTTP, the
workbench over real HTTP, the command line and real SQLite files. Each test failed before its fix."""
from __future__ import annotations

import pytest

from storage import staff, tickets

from tests.dialog import LEADER, SCHOOL, TZ, at, file_ticket, talk
from tests.test_audit5 import HOMEWORK
from tests.test_citizen_dialogs import PARENT
from tests.test_security import env  # noqa: F401  (a fixture)


async def _ticket(d, number: str) -> dict:
    return await d.db(tickets.get, number)


# -- 1. verify-rates: the time limits, the credit and the misses ------------------------------------------------------
async def test_verify_rates_finds_a_deadline_moved_a_credit_shifted_and_a_miss_erased(dialog, tmp_path, capsys):
    """`verify-rates` checked 派发, 签收, 办结 and the rating against the events, not the time limits, the credit
    columns or unit_misses: moving a deadline past the 办结, handing a late 办结 to the duty office, or deleting a
    miss made a late unit punctual and the check said 核对无误. Each event now carries them (m044)."""
    import sqlite3

    from bot.cli import main
    from tests.conftest import write_cli_config
    d = dialog
    moved = await file_ticket(d, PARENT, HOMEWORK, scene="school:jn-syxx", consent="1")
    shifted = await file_ticket(d, "o_parent_b", HOMEWORK, scene="school:jn-syxx", consent="1")
    bounced = await file_ticket(d, "o_parent_c", HOMEWORK, scene="school:jn-syxx", consent="1")
    d.advance(12 * 86400)  # past every window, still in November
    await talk(d, SCHOOL, f"办结 {moved} 已与家长沟通，作业量已调整", expect="办结")
    await talk(d, SCHOOL, f"办结 {shifted} 已与家长沟通，作业量已调整", expect="办结")
    await talk(d, SCHOOL, f"退回 {bounced} 不属本校职责", expect="退回")
    path = str(tmp_path / "demo.db")
    config = str(write_cli_config(tmp_path / "c.toml", path))
    conn = sqlite3.connect(path)
    assert conn.execute("SELECT count(*) FROM unit_misses WHERE unit_code = 'jn-syxx'").fetchone()[0] == 1
    assert main(["verify-rates", "--period", "2026-11", "--config", config]) == 0, capsys.readouterr().out
    capsys.readouterr()
    with conn:
        conn.execute("UPDATE tickets SET due_at = resolved_at + 60, accept_due_at = dispatched_at + 30 * 86400 "
                     "WHERE number = ?", [moved])
        conn.execute("UPDATE tickets SET resolve_unit = 'jyj-duty' WHERE number = ?", [shifted])
        conn.execute("DELETE FROM unit_misses WHERE unit_code = 'jn-syxx'")
    assert main(["verify-rates", "--period", "2026-11", "--config", config]) == 1
    out = capsys.readouterr().out
    assert f"{moved}：办结时限与操作记录不符" in out and f"{moved}：签收时限与操作记录不符" in out, out
    assert f"{shifted}：办结计入的单位与操作记录不符" in out and f"{bounced}：超时记录" in out, out
    # --repair rewrites the counters the edits moved, never the tickets or the misses: they are still named
    assert main(["verify-rates", "--period", "2026-11", "--repair", "--config", config]) == 1
    out = capsys.readouterr().out
    assert f"{moved}：办结时限" in out and f"{bounced}：超时记录" in out and "核对无误" not in out, out
    assert conn.execute("SELECT count(*) FROM unit_misses").fetchone()[0] == 0
    # a miss forged against a rival is named too
    with conn:
        tid = conn.execute("SELECT id FROM tickets WHERE number = ?", [shifted]).fetchone()[0]
        conn.execute("INSERT INTO unit_misses (ticket_id, unit_code, at, action, response, overdue) "
                     "SELECT ?, 'jn-yyxx', resolved_at, 'bounce', 1, 1 FROM tickets WHERE id = ?", [tid, tid])
    main(["verify-rates", "--period", "2026-11", "--config", config])
    assert f"{shifted}：超时记录" in capsys.readouterr().out


def test_the_check_of_time_limits_and_misses_reads_only_index_ranges(tmp_path):
    """At a million tickets: the period's ranges of the tickets indexes (and the open tickets' partial index), the
    ticket's own latest event, the misses' own index and the events that wrote misses (a small partial index)."""
    import sqlite_utils

    from storage import integrity, migrations
    db = sqlite_utils.Database(tmp_path / "t.db")
    migrations.migrate(db)
    for what, sql, n in integrity._kept_sql():
        plan = " | ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, [0.0, 1.0][:n]))
        assert "INDEX tickets_" in plan and "SEARCH e USING INDEX ticket_events_ticket" in plan, (what, plan)
        assert "SCAN" not in plan.replace("SCAN t USING INDEX tickets_open", ""), (what, plan)
    for sql in integrity._MISSES_SQL:
        plan = " | ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, [0.0, 1.0]))
        assert "SCAN m" not in plan and "SCAN e" not in plan and "SCAN t" not in plan, plan
        # (a miss an event names is looked up by its ticket since m060's unit_misses_ticket: a few rows a ticket)
        assert ("INDEX unit_misses_at" in plan or "INDEX unit_misses_ticket" in plan) and \
            ("INDEX ticket_events_misses" in plan or "ticket_events_ticket" in plan), plan


# -- 2. 在岗 below min_cases: 样本不足, not "rank 1 of 1" ----------------------------------------------------------------
async def test_one_ticket_with_nobody_bound_is_too_few_to_rank(dialog):
    """One ticket reached 江南区育英小学 with nobody bound: every rate was 样本不足 under `min_cases` = 5, but 在岗
    counted with no minimum, so the school was scored on that one ticket and ranked "1 of 1" among schools (the
    others too few to rank). 在岗 is a rate like the others now: below min_cases it is 样本不足, shown with its
    count, not scored, not ranked, alike on the workbench's 绩效考核, the XLSX, the month's ranking and the report."""
    import io
    from urllib.parse import urlsplit

    from openpyxl import load_workbook

    from bot.app import CONFIG, DB
    from bot.public import ranking_link
    from handlers import review
    from tests.dialog import DUTY, drain
    from tests.test_web import browser, sign_in
    d = dialog
    number = await file_ticket(d, "o_parent_yy", HOMEWORK, scene="school:jn-yyxx", consent="1")
    await talk(d, DUTY, f"签收 {number}")
    await talk(d, DUTY, f"办结 {number} 已联系学校核实，作业量已调整", expect="办结")
    await drain(d, DUTY, LEADER, SCHOOL)
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    now = d.clock.now()
    built = await d.app[DB].read(lambda c: review.build(c, "2026-11", TZ, review.Weights(), now=now, min_cases=5))
    yy = built.unit("jn-yyxx")
    assert yy.figures.unattended == 1 and yy.scores["staffed"] is None and yy.rank is None, (yy.scores, yy.rank)
    assert "样本不足" in review.format_unit(built, "jn-yyxx") and "同类第1名" not in review.format_unit(built, "jn-yyxx")
    ones = await d.app[DB].read(lambda c: review.build(c, "2026-11", TZ, review.Weights(), now=now, min_cases=1))
    one = ones.unit("jn-yyxx")  # at min_cases 1 its 在岗 is scored, but 在岗 alone ranks no unit (tests/test_audit10.py)
    assert one.scores["staffed"] == 0 and one.rank is None and one.unranked == "unstaffed", (one.scores, one.rank)
    assert d.app[CONFIG].review.min_cases == 5
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        async with s.get("/w/review", params={"period": "2026-11"}) as resp:
            page = await resp.text()
        row = page[page.index('data-unit="jn-yyxx"'):]
        row = row[:row.index("</tr>")]
        assert '<td class="rank">—</td>' in row and "样本不足" in row, row
        async with s.get("/w/review/2026-11.xlsx") as resp:
            book = load_workbook(io.BytesIO(await resp.read()))
        link = urlsplit(ranking_link(d.app[CONFIG], "2026-11", now=now, to=LEADER))
        async with s.get(f"{link.path}?{link.query}") as resp:
            public = await resp.text()
    head, *rows = [list(r) for r in book["单位"].iter_rows(values_only=True)]
    got = {r[0]: dict(zip(head, r)) for r in rows}
    assert got["jn-yyxx"]["无人在岗件数"] == 1 and got["jn-yyxx"]["同类排名"] is None, got["jn-yyxx"]
    assert got["jn-yyxx"]["在岗分"] is None
    mine = public[public.index("/u/jn-yyxx"):]
    assert "样本不足" in mine[:mine.index("</tr>")] and "计入在岗得分" not in mine[:mine.index("</tr>")], mine[:400]


# -- 3. a leader rules on a survey day the burst checks flagged --------------------------------------------------------
async def _flagged_day(d):
    """Six fresh accounts give 江南区实验小学 the same sheet on 2026-11-21: left out as a paced burst; a parent who
    followed long before is counted."""
    from bot.app import DISPATCHER
    from tests.dialog import send
    from tests.test_audit5 import _answer
    d.app[DISPATCHER].campaign.p.new_follower_per_day = 4
    await send(d, "o_parent_longtime", type="scan", scene="school:jn-syxx")
    d.advance(5 * 86400)
    assert "评议完成" in await _answer(d, "o_parent_longtime", "2")
    for i in range(6):
        d.advance(50 * 60)
        await send(d, f"o_fresh_{i}", type="scan", scene="school:jn-syxx")
        d.advance(15 * 60)
        assert "评议完成" in await _answer(d, f"o_fresh_{i}", "5")


async def _counted(d) -> tuple[int, int, float | None]:
    from bot.app import DB, DISPATCHER
    from handlers import review
    from handlers.survey_results import survey_results
    campaign = d.app[DISPATCHER].campaign
    unit = (await d.app[DB].read(survey_results, campaign.p.surveys["school-2026"], campaign.p.surveys, 1))["jn-syxx"]
    now = d.clock.now()
    built = await d.app[DB].read(lambda c: review.build(c, "2026-11", TZ, review.Weights(), campaign.p.surveys, 1,
                                                        now=now))
    return unit.n, unit.burst, built.unit("jn-syxx").figures.survey


async def test_a_leader_counts_or_sets_aside_a_flagged_survey_day_with_a_reason(dialog):
    """A burst the checks left out could not be given back (a parents' meeting where everyone answered at once),
    nor a day they only warned about be set aside: no action existed. A leader now rules on the unit's day on the
    survey's results page: a reason is required, each ruling is in the audit log and listed beside the figures,
    the 群众评议 score and the review follow, and 按自动检查 gives the day back to the checks. Nobody but a leader
    (the survey pages' one rule) may: a school's principal, a district's supervisor get 404 and change nothing."""
    from bot.app import DB
    from tests.dialog import DISTRICT_HEAD, SCHOOL_HEAD
    from tests.test_web import browser, csrf_of, sign_in
    d = dialog
    await _flagged_day(d)
    assert (await _counted(d))[:2] == (1, 6)
    path = "/w/surveys/school-2026/results"

    async def rule(s, decision: str, reason: str, csrf: str | None = None) -> tuple[int, str]:
        token = csrf or await csrf_of(s, path)
        async with s.post("/w/surveys/school-2026/days", data={
                "_csrf": token, "unit": "jn-syxx", "date": "2026-11-21", "decision": decision,
                "reason": reason}) as resp:
            return resp.status, await resp.text()
    for who in (SCHOOL_HEAD, DISTRICT_HEAD):
        async with browser(d) as s:
            await sign_in(d, s, who)
            token = await csrf_of(s, "/w/")
            assert (await rule(s, "include", "家长会集中参评，已核实", token))[0] == 404
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        status, page = await rule(s, "include", "  ")
        assert status == 200 and "请写明理由" in page and (await _counted(d))[:2] == (1, 6)
        status, page = await rule(s, "include", "家长会集中参评，已电话核实三位家长")
        assert "设为照常计入" in page and "家长会集中参评" in page, page
        n, burst, score = await _counted(d)
        assert (n, burst) == (7, 0) and score is not None and score > 80, (n, burst, score)
        async with s.get("/w/review", params={"period": "2026-11"}) as resp:
            row = (await resp.text()).split('data-unit="jn-syxx"')[1].split("</tr>")[0]
        assert "人工认定 1 天" in row, row
        await rule(s, "exclude", "复核发现同一手机批量注册，仍不计入")
        assert (await _counted(d))[:2] == (0, 7)
        await rule(s, "auto", "撤销人工认定，按自动检查")
        assert (await _counted(d))[:2] == (1, 6)
        async with s.get(path) as resp:
            row = (await resp.text()).split('data-day="2026-11-21"')[1].split("</tr>")[0]
        assert "按自动检查" in row and "家长会集中参评" in row and "批量注册" in row, row
    logged = await d.app[DB].read(lambda c: c.execute(
        "SELECT actor, detail FROM audit_log WHERE action = 'survey:day' ORDER BY id").fetchall())
    assert [a for a, _ in logged] == [LEADER] * 3 and "2026-11-21 include（7 份）：家长会" in logged[0][1], logged


# -- 4. attacks on what was built lately --------------------------------------------------------------------------------
async def test_staff_removed_stay_insiders_to_surveys_and_praise(dialog):
    """insider_sql read the role as it is now: a rival school's teacher, refused while bound, was counted once
    removed (a transfer, a leaver, or a removal asked for at the right moment), and their answers and praise from
    before binding came back. Whoever was bound once stays out of 群众评议 and 表扬."""
    from bot.app import DB, DISPATCHER
    from handlers import review
    from handlers.survey_results import survey_results
    from storage import staff
    from tests.dialog import send
    from tests.test_audit2 import answer_survey
    from tests.test_audit5 import RIVAL
    d = dialog
    await send(d, "o_teacher_moving", type="scan", scene="school:jn-syxx")
    await talk(d, "o_teacher_moving", "感谢江南区实验小学的老师们耐心辅导孩子，非常负责", expect="请核对")
    await talk(d, "o_teacher_moving", "1", expect="感谢您的表扬")
    assert "评议完成" in await answer_survey(d, "o_teacher_moving")
    code = await d.db(staff.create_invite, "jn-yyxx", "handler", "育英小学·调动的老师", d.clock.now(), 86400)
    await talk(d, "o_teacher_moving", f"绑定 {code}", expect="绑定")
    await d.app[DB].run(d.app[DISPATCHER].desk.remove_staff, "o_teacher_moving", staff.CONSOLE)
    await d.app[DB].run(d.app[DISPATCHER].desk.remove_staff, RIVAL, staff.CONSOLE)
    reply = await answer_survey(d, RIVAL)
    assert "不能参加" in reply and "评议完成" not in reply, reply
    campaign = d.app[DISPATCHER].campaign
    results = await d.app[DB].read(survey_results, campaign.p.surveys["school-2026"], campaign.p.surveys, 1)
    assert "jn-syxx" not in results or results["jn-syxx"].n == 0
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    now = d.clock.now()
    got = await d.app[DB].read(lambda c: review.build(c, "2026-11", TZ, review.Weights(), now=now))
    assert got.unit("jn-syxx").figures.praise == 0


async def test_the_same_sheet_paced_under_the_daily_limit_over_days_is_caught(dialog):
    """More than `new_follower_per_day` fresh answers within 24 hours were the only paced check: the same sheet
    from new accounts, a little under the limit each day over several days, all counted, unmarked, leaders never
    told. Over the whole survey, more than two days' worth from new accounts that are nine in ten the same sheet
    is left out too, and the leaders are told once; the long-standing parent stays counted."""
    from bot.app import DB, DISPATCHER
    from handlers.survey_results import survey_results
    from tests.dialog import heard, send
    from tests.test_audit5 import _answer
    d = dialog
    campaign = d.app[DISPATCHER].campaign
    campaign.p.new_follower_per_day = 3
    await send(d, "o_parent_longtime", type="scan", scene="school:jn-syxx")
    d.advance(5 * 86400)
    assert "评议完成" in await _answer(d, "o_parent_longtime", "2")
    for day in range(3):
        for i in range(3):  # the limit each day: never more in any 24 hours
            await send(d, f"o_fresh_{day}_{i}", type="scan", scene="school:jn-syxx")
            d.advance(15 * 60)
            assert "评议完成" in await _answer(d, f"o_fresh_{day}_{i}", "5")
        d.advance(24 * 3600)
    unit = (await d.app[DB].read(survey_results, campaign.p.surveys["school-2026"], campaign.p.surveys, 1))["jn-syxx"]
    assert (unit.n, unit.burst) == (1, 9), (unit.n, unit.burst)
    await heard(d, LEADER, expect=["江南区实验小学", "分多天提交", "不计入得分"])


LEADERS_ONLY = ("/w/surveys/new", "/w/surveys/school-2026", "/w/surveys/school-2026/days", "/w/faq/new",
                "/w/staff", "/w/review", "/w/units/jn-syxx")


async def test_every_workbench_post_wants_a_session_its_token_and_the_role(dialog):
    """Every POST route of the workbench (listed from the app's router, so a new one is covered): without a
    session 403; with a principal's session but no CSRF token 403; the leaders' pages with the principal's token
    404 — and none of it leaves a line in the audit log, a ruling or a survey."""
    from bot.app import DB
    from tests.dialog import SCHOOL_HEAD
    from tests.test_web import browser, csrf_of, sign_in
    d = dialog
    posts = sorted({r.resource.canonical for r in d.app.router.routes() if r.method == "POST"
                    and r.resource.canonical.startswith("/w/") and not r.resource.canonical.startswith("/w/sign")})
    assert len(posts) >= 10 and "/w/surveys/{id}/days" in posts, posts
    concrete = [p.replace("{id}", "school-2026").replace("{code}", "jn-syxx").replace("{number}", "JY2611-0001")
                for p in posts]
    for path in ("/w/surveys/school-2026/days", "/w/units/jn-syxx", "/w/staff", "/w/review", "/w/faq/new"):
        assert path in concrete or path.replace("school-2026", "{id}") in posts
    changes = "SELECT count(*) FROM audit_log WHERE action NOT LIKE 'signin%' AND action NOT LIKE 'login%'"
    before = await d.app[DB].read(lambda c: c.execute(changes).fetchone()[0])
    form = {"do": "remove", "openid": SCHOOL, "unit": "jn-syxx", "date": "2026-11-16", "decision": "exclude",
            "reason": "一个足够长的理由", "text": "点评", "role": "handler", "name": "某人"}
    async with browser(d) as s:
        for path in concrete:
            async with s.post(path, data=form, allow_redirects=False) as resp:
                assert resp.status == 403, (path, resp.status)
        await sign_in(d, s, SCHOOL_HEAD)
        for path in concrete:
            async with s.post(path, data=form, allow_redirects=False) as resp:
                assert resp.status == 403, (path, resp.status)
        token = await csrf_of(s, "/w/")
        for path in LEADERS_ONLY:
            async with s.post(path, data={**form, "_csrf": token}, allow_redirects=False) as resp:
                assert resp.status == 404, (path, resp.status)
    after = await d.app[DB].read(lambda c: (c.execute(changes).fetchone()[0],
                                            c.execute("SELECT count(*) FROM survey_day_rulings").fetchone()[0],
                                            c.execute("SELECT role FROM users WHERE openid = ?", [SCHOOL]).fetchone()[0]))
    assert after == (before, 0, "handler"), after


@pytest.mark.parametrize("plaintext", ["true", "false"])
def test_serve_refuses_compatible_mode_without_the_freshness_check(env, tmp_path, capsys, plaintext):
    """The fifth audit refused `check_timestamp = false` in plaintext mode only: with an aes_key and
    `allow_plaintext = true` (compatible mode) plaintext bodies, signed by nothing but the URL, were taken all
    the same, so a signed URL copied from an access log after `dedupe_days` could carry any body as any openid.
    Refused whenever plaintext bodies are taken; safe mode alone (the body signed) still starts."""
    import secrets
    import string
    from pathlib import Path

    from bot.cli import main
    key = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(43))
    env(TINGJIAN_STORAGE_PATH=str(tmp_path / "t.db"), TINGJIAN_WECHAT_CHECK_TIMESTAMP="false",
        TINGJIAN_WECHAT_AES_KEY=key, TINGJIAN_WECHAT_ALLOW_PLAINTEXT=plaintext)
    from bot import config as config_mod
    loaded = config_mod.load_config(Path(__file__).resolve().parents[1] / "config.example.toml")
    if plaintext == "true":
        assert main(["serve", "--config", str(Path(__file__).resolve().parents[1] / "config.example.toml")]) == 2
        err = capsys.readouterr().err
        assert "wechat.check_timestamp" in err and "compatible mode" in err, err
        assert not (tmp_path / "t.db").exists()
    else:
        loaded.check_serving()  # safe mode: the body is signed (its replay is a replay of the same message)


async def test_no_staff_command_lets_a_rival_schools_handler_touch_a_ticket(dialog):
    """Every staff command that names a ticket (from the command table, so a new one is covered), sent by another
    district's school's handler about 江南区实验小学's ticket: refused, the ticket's record unchanged, and none
    of the citizen's words in the answer."""
    from bot.app import DB
    from handlers.commands import STAFF, TABLE
    from tests.test_audit5 import RIVAL
    d = dialog
    number = await file_ticket(d, PARENT, HOMEWORK, scene="school:jn-syxx", consent="1")
    fill = {"text": "请尽快核实处理此事", "unit": "江北区教育局", "days": "3", "page": "", "flag": ""}
    events = "SELECT count(*) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id WHERE t.number = ?"
    before = await d.app[DB].read(lambda c: c.execute(events, [number]).fetchone()[0])
    tried = 0
    for c in TABLE:
        if not c.args or c.args[0].kind != "ticket" or not (c.who & STAFF):
            continue
        words = " ".join([c.verb, number, *(fill.get(a.kind, "x") for a in c.args[1:] if not a.optional)])
        reply = await talk(d, RIVAL, words)
        assert "作业太多" not in reply and "十一点" not in reply, (words, reply)
        tried += 1
    assert tried >= 10
    assert await d.app[DB].read(lambda c: c.execute(events, [number]).fetchone()[0]) == before
    assert (await _ticket(d, number))["unit_code"] == "jn-syxx"


async def test_a_dummy_account_bound_to_dodge_zaigang_scores_as_late_work(dialog):
    """Attack on 在岗: 江南区育英小学 binds an account nobody reads, so its tickets are no longer 代收 and 在岗 never
    applies. Nothing is hidden: the tickets wait at the school, past the 签收 window and the deadline, and count
    against it as late (响应率 and 解决率 0, 超期), lower than 在岗 alone would have scored it."""
    from bot.app import DB
    from handlers import review
    from storage import staff
    d = dialog
    code = await d.db(staff.create_invite, "jn-yyxx", "handler", "育英小学·备用号", d.clock.now(), 86400)
    await talk(d, "o_dummy_yy", f"绑定 {code}", expect="绑定")
    for i in range(5):
        await file_ticket(d, f"o_parent_dummy{i}", HOMEWORK, scene="school:jn-yyxx", consent="1")
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    now = d.clock.now()
    built = await d.app[DB].read(lambda c: review.build(c, "2026-11", TZ, review.Weights(), now=now, min_cases=5))
    yy = built.unit("jn-yyxx")
    assert yy.figures.unattended == 0 and yy.scores["staffed"] is None
    assert yy.scores["response"] == 0 and yy.scores["resolution"] == 0 and yy.figures.overdue == 5, yy.scores
    assert yy.rank == yy.ranked and yy.score is not None and yy.score < 50, (yy.score, yy.rank, yy.ranked)


async def test_merged_reminders_of_a_sweep_cut_short_go_once(dialog):
    """Attack on held_pushes: the process dies after a sweep's first transaction held reminders and before its
    last step merged them. Nothing is lost and nothing goes twice: the next sweep sends the school one push naming
    every ticket, and a sweep after it sends nothing more."""
    import asyncio
    import time

    from bot.app import DB, DISPATCHER, JOBS
    from tests.dialog import drain, heard, settle
    d = dialog
    numbers = [await file_ticket(d, f"o_parent_late{i}", HOMEWORK, scene="school:jn-syxx", consent="1")
               for i in range(3)]
    await drain(d, SCHOOL, LEADER)
    d.advance(3 * 86400)
    ids = await d.app[DB].read(lambda c: tickets.due_for_check(c, d.clock.now(), 100))
    queued, left = await d.app[DB].run(d.app[DISPATCHER].sweep_some_tx, ids, 0)  # one ticket, then "dies"
    assert left and await d.db(lambda c: c.execute("SELECT count(*) FROM held_pushes").fetchone()[0]) > 0
    await d.app[JOBS].deadlines()
    text = await heard(d, SCHOOL, expect=numbers)
    await d.app[JOBS].deadlines()
    # what the second sweep does, and what it pushes, done (not a fixed 0.5 s: a loaded machine is slower)
    deadline = time.monotonic() + 60
    while await d.db(lambda c: c.execute("SELECT count(*) FROM held_pushes").fetchone()[0]) and \
            time.monotonic() < deadline:
        await asyncio.sleep(0.05)
    assert await settle(d, SCHOOL, timeout=60)
    assert await d.db(lambda c: c.execute("SELECT count(*) FROM held_pushes").fetchone()[0]) == 0
    async with d.session.get("/sandbox/messages", params={"openid": SCHOOL}) as resp:
        assert len((await resp.json())["messages"]) == d.seen[SCHOOL]  # nothing more after the second sweep
    assert all(text.count(n) == 1 for n in numbers), text
