"""Trust in the figures behind each unit's review: work counts for the unit that did it (handlers/rates.py, m030).
Driven through WeChat (the sandbox's real HTTP), the figures read as every surface reads them. Each test failed
before its fix."""
from __future__ import annotations

import time

from handlers import rates
from storage import staff, tickets
from tests.dialog import (DISTRICT, DISTRICT_HEAD, DUTY, FEES, LEADER, NUMBER, SCHOOL, SCHOOL_HEAD, TZ, at, drain, file_ticket,
                          heard, quiet, send, talk)
from tests.test_audit import FIELDS, rate, school_never_got
from tests.test_citizen_dialogs import PARENT, resolved, ticket

BURDEN = "孩子每天作业写到晚上十一点，作业太多了"
NOBODY = "jn-yyxx"      # 江南区育英小学: nobody bound in the demo
COUNTED = (*FIELDS, "stood_in", "praised", "proxied", "proxied_resolved", "proxied_late")


async def surfaces(d, period: str = "2026-11", week: str = "2026-W47") -> dict[str, dict[str, rates.Rates]]:
    """Each surface's figures per unit, read in December as the lead's test does (tests/test_audit.py)."""
    from bot.app import DB
    from handlers import dashboard, digest, public, review
    from storage import directory
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    now = d.clock.now()

    def read(conn):
        units = {u["code"]: u for u in directory.all_units(conn)}
        start, end = review.bounds(period, TZ)
        return {
            "dashboard week": {r.code: r.rates for r in dashboard.read(
                conn, units, None, dashboard.parse_period("week", week, TZ), now, TZ, "全局").ranking},
            "dashboard month": {r.code: r.rates for r in dashboard.read(
                conn, units, None, dashboard.parse_period("month", period, TZ), now, TZ, "全局").ranking},
            "digest": {u.code: u.now for u in digest.build(conn, week, now, TZ).units},
            "public": {c: w["month"].rates for c, w in public.snapshot(conn, now, TZ).windows.items() if "month" in w},
            "review": {u.code: u.figures.rates for u in review.build(conn, period, TZ, review.Weights(), now=now).units},
            "rates (scoped)": rates.for_period(conn, start, end, [NOBODY, "jyj-bgs", "jn-syxx", "jn-jyj", "jyj-sfc"],
                                               now),
        }
    return await d.app[DB].read(read)


def same_everywhere(per_surface: dict[str, dict[str, rates.Rates]], codes) -> dict[str, dict[str, int]]:
    """The counts of each unit, checked equal on every surface that lists it; returned as the review has them."""
    want = {}
    for code in codes:
        first = per_surface["review"].get(code) or rates.Rates()
        want[code] = {f: getattr(first, f, 0) for f in COUNTED}
        for name, per_unit in per_surface.items():
            r = per_unit.get(code) or rates.Rates()
            if name.startswith("dashboard week") or name == "digest":
                continue  # a week: checked where the whole flow falls in that week (below)
            fields = [f for f in COUNTED if f != "praised" or not name.startswith("dashboard")]  # lists no praise
            got = {f: getattr(r, f, 0) for f in fields}
            assert got == {f: want[code][f] for f in fields}, \
                f"{name} counts {code} differently:\n{got}\nreview:\n{want[code]}"
    return want


# -- 1. 代收: the stand-in's work is counted apart, in nobody's rates (rates14) --------------------------------------

async def test_a_school_with_nobody_bound_is_not_scored_on_what_the_duty_office_did(dialog):
    """The bug: 育英小学 (nobody bound) showed 100 % 响应率 and 解决率 after the duty office signed and resolved its
    代收 ticket. The school shows 代收 1 and no rate, on every surface; the duty office shows it as its 代收 work,
    apart from its own three rates (rates14: the duty office's 解决率 held the tickets it signed for others)."""
    d = dialog
    number = await file_ticket(d, PARENT, BURDEN, scene=f"school:{NOBODY}", consent="1")
    t = await ticket(d, number)
    assert t["unit_code"] == NOBODY and t["unattended"]
    await talk(d, DUTY, f"签收 {number}", expect="代为签收")
    await talk(d, DUTY, f"办结 {number} 已联系学校调整作业量")
    await rate(d, PARENT, number, "1")
    per_surface = await surfaces(d)
    counts = same_everywhere(per_surface, [NOBODY, "jyj-bgs"])
    school, duty = counts[NOBODY], counts["jyj-bgs"]
    assert school["stood_in"] == 1
    assert (school["dispatched"], school["response_due"], school["resolved"], school["rated"]) == (0, 0, 0, 0)
    assert (duty["dispatched"], duty["accepted_in_time"], duty["resolved"], duty["resolved_in_time"],
            duty["rated"], duty["satisfied"]) == (0, 0, 0, 0, 0, 0)
    assert (duty["proxied"], duty["proxied_resolved"], duty["proxied_late"]) == (1, 1, 0)
    review = per_surface["review"][NOBODY]
    assert review.response is None and review.resolution is None and review.satisfaction is None
    # a week's surfaces count it alike (the whole flow fell in 2026-W47)
    for name in ("dashboard week", "digest"):
        r = per_surface[name].get(NOBODY)
        assert r is not None and r.stood_in == 1 and r.response is None and r.resolution is None, name
        assert (per_surface[name]["jyj-bgs"].accepted_in_time, per_surface[name]["jyj-bgs"].proxied) == (0, 1), name


async def test_a_duty_office_that_lets_a_stood_in_ticket_lapse_shows_it_late_apart_not_the_school(dialog):
    d = dialog
    number = await file_ticket(d, PARENT, BURDEN, scene=f"school:{NOBODY}", consent="1")
    for _ in range(12):  # nobody acts: past the 签收 window and the deadline
        d.advance(86400)
        await d.sweep()
    per_surface = await surfaces(d)
    counts = same_everywhere(per_surface, [NOBODY, "jyj-bgs"])
    assert counts[NOBODY]["stood_in"] == 1 and counts[NOBODY]["response_due"] == 0 and \
        counts[NOBODY]["open_overdue"] == 0
    duty = counts["jyj-bgs"]
    assert (duty["response_due"], duty["open_overdue"]) == (0, 0)  # not in its rates: its 代收, late
    assert (duty["proxied"], duty["proxied_resolved"], duty["proxied_late"]) == (1, 0, 1)
    assert (await ticket(d, number))["state"] == "assigned"


async def test_once_someone_is_bound_the_units_own_work_counts_for_it(dialog):
    """The duty office signs; someone binds at the school, which resolves: the 签收 stays the duty office's 代收, the
    办结 and its rating are the school's, and the school still shows the ticket as 代收 (its 签收 was not its own)."""
    d = dialog
    number = await file_ticket(d, PARENT, BURDEN, scene=f"school:{NOBODY}", consent="1")
    other = await file_ticket(d, "o_p2", "学校食堂的饭菜太咸了，孩子吃不下", scene=f"school:{NOBODY}", consent="1")
    await talk(d, DUTY, f"签收 {number}", expect="代为签收")
    code = await d.db(staff.create_invite, NOBODY, "handler", "育英小学·新老师", time.time(), 3600)
    await talk(d, "o_new_yyxx", f"绑定 {code}", expect=["绑定成功", number])
    await talk(d, "o_new_yyxx", f"签收 {other}")
    for n in (number, other):
        await talk(d, "o_new_yyxx", f"办结 {n} 已调整并告知家长")
    await rate(d, PARENT, number, "1")
    await rate(d, "o_p2", other, "2")
    counts = same_everywhere(await surfaces(d), [NOBODY, "jyj-bgs"])
    school, duty = counts[NOBODY], counts["jyj-bgs"]
    assert (school["dispatched"], school["accepted_in_time"], school["stood_in"]) == (1, 1, 1)  # only `other`
    assert (school["resolved"], school["resolved_in_time"], school["rated"], school["satisfied"]) == (2, 2, 2, 2)
    assert (duty["dispatched"], duty["accepted_in_time"], duty["resolved"], duty["rated"]) == (0, 0, 0, 0)
    assert (duty["proxied"], duty["proxied_resolved"]) == (1, 0)


async def test_a_stood_in_ticket_transferred_on_is_the_new_units_own(dialog):
    """The duty office passes a 代收 ticket to a unit with staff: no longer 代收, the new unit's own work."""
    d = dialog
    number = await file_ticket(d, PARENT, BURDEN, scene=f"school:{NOBODY}", consent="1")
    await talk(d, DUTY, f"转派 {number} 江南区教育局 请区局督促学校", expect="已将")
    await talk(d, DISTRICT, f"办结 {number} 已督促学校减负")
    counts = same_everywhere(await surfaces(d), [NOBODY, "jn-jyj", "jyj-bgs"])
    assert counts[NOBODY]["stood_in"] == 0 and counts["jyj-bgs"]["dispatched"] == 0
    assert (counts["jn-jyj"]["dispatched"], counts["jn-jyj"]["accepted_in_time"], counts["jn-jyj"]["resolved"]) == \
        (1, 1, 1)


# -- 2. the bureau's review keeps the original unit's work with it -------------------------------------------------

async def test_the_review_leaves_the_dispatch_and_signing_with_the_unit_reviewed(dialog):
    d = dialog
    number = await resolved(d)
    await talk(d, PARENT, "3 还没退钱", expect="重新办理")
    await talk(d, FEES, f"办结 {number} 已退费")
    await talk(d, PARENT, "3 根本没退", expect="复核")
    t = await ticket(d, number)
    assert t["unit_code"] == "jyj-bgs" and t["due_at"] > d.clock.now()  # the review's own time limit
    await talk(d, DUTY, f"办结 {number} 局里复核后已退费")
    counts = same_everywhere(await surfaces(d), ["jyj-sfc", "jyj-bgs"])
    fees, duty = counts["jyj-sfc"], counts["jyj-bgs"]
    assert (fees["dispatched"], fees["response_due"], fees["accepted_in_time"]) == (1, 1, 1)
    assert (duty["dispatched"], duty["response_due"], duty["accepted_in_time"]) == (0, 0, 0)
    assert (duty["resolved"], duty["resolved_in_time"]) == (1, 1)
    assert (fees["rated"], fees["dissatisfied"]) == (1, 2)


# -- 4. praise: one rule -------------------------------------------------------------------------------------------

RED_PACKET = "感谢班主任平时很用心，不过数学老师收家长红包，不送的孩子就被冷落"


async def praise_only(d, openid: str = PARENT) -> str:
    """Praise that also accuses, kept as praise ("2 只是表扬"): the bureau (江南区教育局) passes it on."""
    await talk(d, openid, RED_PACKET, expect="4 表扬")
    await talk(d, openid, "4", expect="2 只是表扬")
    await talk(d, openid, "2", expect="哪所学校")
    reply = await talk(d, openid, "江南区实验小学", expect="转达：江南区教育局")
    return NUMBER.search(await talk(d, openid, "1", expect="感谢您的表扬")).group(0)


async def test_praise_passed_on_by_the_bureau_counts_for_the_school_on_every_surface(dialog):
    d = dialog
    number = await praise_only(d)
    t = await ticket(d, number)
    assert (t["unit_code"], t["school_code"]) == ("jn-jyj", "jn-syxx")
    per_surface = await surfaces(d)
    counts = same_everywhere(per_surface, ["jn-syxx", "jn-jyj"])
    assert counts["jn-syxx"]["praised"] == 1 and counts["jn-jyj"]["praised"] == 0

    from bot.app import DB
    from handlers import digest, public, review

    def read(conn):
        now = d.clock.now()
        return (digest.build(conn, "2026-W47", now, TZ, scope="jn-syxx").overall.praised,
                digest.build(conn, "2026-W47", now, TZ, scope="jn-jyj").overall.praised,
                public.snapshot(conn, now, TZ).window("jn-syxx", "month").praise,
                review.build(conn, "2026-11", TZ, review.Weights(), now=now).unit("jn-syxx").figures.praise)
    assert await d.app[DB].read(read) == (1, 1, 1, 1)  # the school's digest, its district's, its page, its review


# -- 3. praise that also accuses, kept as praise: the bureau must check the conduct part -------------------------

async def test_praise_kept_as_praise_leaves_the_conduct_part_open_at_the_bureau_until_checked(dialog):
    """"2 只是表扬" closed the praise at once: the accusation reached the bureau as a remark nobody had to act on.
    Now the district bureau must 签收 and close it with a note, on a deadline; the citizen is not asked to rate
    it, the school never sees it and its review is untouched; the praise still counts for the school."""
    d = dialog
    number = await praise_only(d)
    t = await ticket(d, number)
    assert t["kind"] == "praise" and t["state"] == "assigned" and t["unit_code"] == "jn-jyj"
    assert t["due_at"] and t["accept_due_at"]
    await heard(d, DISTRICT, expect=[number, "核实"])
    await talk(d, DISTRICT, "待办", expect=number)
    await talk(d, DISTRICT, f"签收 {number}", expect="已签收")
    await talk(d, DISTRICT, f"办结 {number} 已约谈数学老师，红包已退还家长", expect="结案")
    t = await ticket(d, number)
    assert (t["state"], t["close_reason"]) == ("closed", "checked") and "红包已退还" in t["resolution"]
    await quiet(d, PARENT)  # not 受理 nor 请评价: the person filed praise only
    await school_never_got(d, "红包")
    counts = same_everywhere(await surfaces(d), ["jn-syxx", "jn-jyj"])
    assert counts["jn-syxx"]["praised"] == 1
    for code in ("jn-syxx", "jn-jyj"):  # a case for nobody's three rates
        assert counts[code]["dispatched"] == counts[code]["resolved"] == counts[code]["open_overdue"] == 0


async def test_the_conduct_part_of_praise_left_unchecked_is_pressed_like_any_deadline(dialog):
    d = dialog
    number = await praise_only(d)
    await drain(d, DISTRICT, DISTRICT_HEAD)
    for _ in range(12):
        d.advance(86400)
        await d.sweep()
    await heard(d, DISTRICT, expect=number)
    assert (await ticket(d, number))["state"] == "assigned"
    await quiet(d, PARENT)


async def test_every_page_that_shows_the_absent_units_figures_says_what_was_stood_in_for(dialog):
    """The public page, the review (text and XLSX) and the rates export say 代收 beside the school's figures,
    never a perfect score."""
    import asyncio
    import tempfile

    import openpyxl

    from bot.app import DB
    from bot import review_xlsx
    from handlers import review
    d = dialog
    number = await file_ticket(d, PARENT, BURDEN, scene=f"school:{NOBODY}", consent="1")
    await talk(d, DUTY, f"签收 {number}")
    await talk(d, DUTY, f"办结 {number} 已联系学校调整作业量")
    await rate(d, PARENT, number, "1")
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    async with d.session.get("/u/") as resp:  # a new day: the figures are rebuilt behind the scenes
        assert resp.status == 200
    from bot.public import CACHE
    await d.app[CACHE]._refresh  # the rebuild this page started (a fixed 1.5 s: too short for a loaded machine)
    async with d.session.get(f"/u/{NOBODY}") as resp:
        page = await resp.text()
    assert resp.status == 200 and "代收1件" in page and "值班室代为签收或办结" in page and "100%（" not in page
    rev = await d.app[DB].read(lambda c: review.build(c, "2026-11", TZ, review.Weights(), now=d.clock.now()))
    assert "代收1件" in review.format_unit(rev, NOBODY) and "代收1件" in review.format_text(rev)
    # no rate rests on the stand-in's work; the ticket that found nobody there scores 在岗 0, and with nothing of
    # its own measured the school is listed apart, not ranked at 0.0 (tests/test_audit10.py)
    absent = rev.unit(NOBODY)
    assert absent.figures.rates.response is None and absent.scores["staffed"] == 0 and absent.score is None
    assert absent.unranked == "unstaffed"
    path = tempfile.mktemp(suffix=".xlsx")
    review_xlsx.write(rev, path, d.clock.now(), TZ)
    book = openpyxl.load_workbook(path)
    sheet = book["单位"]
    col = [c.value for c in sheet[1]].index("代收件数")
    names = [c.value for c in sheet[1]]
    row = next(r for r in sheet.iter_rows(min_row=2, values_only=True) if "育英小学" in str(r))
    assert row[col] == 1, dict(zip(names, row))


async def test_a_school_is_not_credited_with_what_its_district_did_for_it(dialog):
    """The same kind of defect: a district supervisor may act on a school's ticket; the school then looked as
    if it had answered in time. The school shows the ticket as 代收; the district shows it as its 代收 work, apart
    from its own rates (rates14)."""
    d = dialog
    number = await file_ticket(d, PARENT, BURDEN, scene="school:jn-syxx", consent="1")
    assert (await ticket(d, number))["unit_code"] == "jn-syxx"
    from tests.dialog import DISTRICT_HEAD
    await talk(d, DISTRICT_HEAD, f"签收 {number}", expect="已签收")
    await talk(d, DISTRICT_HEAD, f"办结 {number} 区局已督促学校调整作业量")
    await rate(d, PARENT, number, "1")
    counts = same_everywhere(await surfaces(d), ["jn-syxx", "jn-jyj"])
    school, district = counts["jn-syxx"], counts["jn-jyj"]
    assert (school["stood_in"], school["dispatched"], school["resolved"], school["rated"]) == (1, 0, 0, 0)
    assert (district["dispatched"], district["accepted_in_time"], district["resolved"], district["rated"]) == \
        (0, 0, 0, 0)
    assert (district["proxied"], district["proxied_resolved"], district["proxied_late"]) == (1, 1, 0)


# -- the upgrade: m030 counts the tickets already there as the new code would ---------------------------------------

def test_m030_back_fills_stand_in_work_and_reviews_and_recounts(tmp_path):
    import datetime as dt

    import sqlite_utils

    from storage import migrations

    def day(n: int, hour: int = 10) -> float:
        return dt.datetime(2026, 11, n, hour, tzinfo=TZ).timestamp()
    db = sqlite_utils.Database(tmp_path / "t.db")
    migrations.migrations.apply(db, stop_before="m030_credit")
    for code, name, kind, parent in (("jyj", "市教育局", "bureau", None), ("jyj-bgs", "市教育局办公室（值班室）", "office", "jyj"),
                                     ("jyj-sfc", "收费处", "office", "jyj"), (NOBODY, "江南区育英小学", "school", "jyj")):
        db.execute("INSERT INTO units (code, name, kind, parent) VALUES (?, ?, ?, ?)", [code, name, kind, parent])
    staff.bind(db, "o_duty", "jyj-bgs", "handler", "刘主任", 0)
    staff.bind(db, "o_fees", "jyj-sfc", "handler", "李老师", 0)

    def new(openid, unit):
        t = tickets.create(db, openid=openid, kind="complaint", category="burden", unit_code=unit,
                           school_code=NOBODY, text="x", attachments=[], contact_phone=None, anonymous=False,
                           routing={}, now=day(2), due_at=day(10), tz=TZ, accept_due_at=day(3))
        return t
    note = "“江南区育英小学”暂无绑定的工作人员，已转市教育局办公室（值班室）。"
    done = tickets.transition(db, new("o_a", NOBODY), "assigned", "system", day(2), "unattended", note, unattended=1)
    done = tickets.transition(db, done, "accepted", "o_duty", day(2, 11), "accept", accepted_by="o_duty",
                              accepted_at=day(2, 11))
    done = tickets.transition(db, done, "resolved", "o_duty", day(3), "resolve", resolved_at=day(3))
    tickets.transition(db, done, "closed", "o_a", day(3, 12), "rate", rating=1, rated_at=day(3, 12),
                       rated_unit=NOBODY, closed_at=day(3, 12), close_reason="rated")
    tickets.transition(db, new("o_b", NOBODY), "assigned", "system", day(2), "unattended", note, unattended=1)
    rev = new("o_c", "jyj-sfc")
    rev = tickets.transition(db, rev, "accepted", "o_fees", day(2, 11), "accept", accepted_by="o_fees",
                             accepted_at=day(2, 11))
    rev = tickets.transition(db, rev, "resolved", "o_fees", day(3), "resolve", resolved_at=day(3))
    tickets.transition(db, rev, "reopened", "o_c", day(4), "review", rating=3, rated_at=day(4), review=1,
                       rated_unit="jyj-sfc", unit_code="jyj-bgs", resolved_at=None)
    assert "m030_credit" in migrations.migrate(db)
    start, end = day(1, 0), dt.datetime(2026, 12, 1, tzinfo=TZ).timestamp()
    got = rates.for_period(db, start, end, None, day(20))
    school, duty, fees = got.get(NOBODY, rates.Rates()), got["jyj-bgs"], got["jyj-sfc"]
    assert (school.stood_in, school.dispatched, school.resolved, school.rated, school.open_overdue) == (2, 0, 0, 0, 0)
    # m059 after it: the duty office's 代收 work apart from its rates (the one it did, the one it let lapse)
    assert (duty.dispatched, duty.accepted_in_time, duty.resolved, duty.rated) == (0, 0, 0, 0)
    assert (duty.proxied, duty.proxied_resolved, duty.proxied_late) == (2, 1, 1)
    # the review is its own: reviews made before m030 keep the deadline they had (they were not given their own)
    assert duty.open_overdue == 1
    from storage import integrity  # verify-rates: the counters, the tickets and their events agree
    assert integrity.differences(db, start, end) == [] and integrity.against_events(db, start, end) == []
    assert (fees.dispatched, fees.accepted_in_time) == (1, 1)
    kept = sorted(r for r in db.execute("SELECT * FROM unit_days") if any(r[2:]))  # m059's moves leave zero rows
    db.execute("DELETE FROM unit_days")
    migrations._backfill_credit_days(db)
    assert kept == sorted(db.execute("SELECT * FROM unit_days"))
