"""代收 work apart (rates14): the duty office's 解决率 held the tickets it signed for schools with nobody bound.
A part a unit does (or lets lapse) standing in for another is that unit's 代收: counted in no unit's three rates —
neither the stand-in's nor the absent school's (which would show 100 %) — and shown apart as the stand-in's 代收
figures (how many, 办结, 超期) wherever a unit's rates are shown. One rule: the credit column names the stand-in's
代收 account (storage.tickets.STAND_IN). Each test failed on the code before it."""
from __future__ import annotations

import datetime as dt

import aiohttp

from handlers import rates
from storage import tickets
from tests.dialog import DUTY, LEADER, TZ, at, file_ticket, talk
from tests.rates_check import MONTH, before_m059, nov, period_rates as _month, verify_rates as _verify
from tests.test_audit import rate
from tests.test_credit import BURDEN, NOBODY
from tests.test_citizen_dialogs import PARENT

PROXIED = "代收他单位留言，不计入本单位三率：本期收到{n}件，办结{resolved}件，超期{late}件含往期收到的"


async def _late_stand_in(d) -> str:
    """A 代收 ticket the duty office signs in time and 办结s after its deadline."""
    number = await file_ticket(d, PARENT, BURDEN, scene=f"school:{NOBODY}", consent="1")
    await talk(d, DUTY, f"签收 {number}", expect="代为签收")
    for _ in range(12):  # past the deadline (working days): Saturday 2026-11-28, week 48
        d.advance(86400)
        await d.sweep()
    await talk(d, DUTY, f"办结 {number} 已联系学校调整作业量")
    return number


async def test_the_duty_offices_rates_leave_out_what_it_did_for_a_school_with_nobody_bound(dialog, tmp_path,
                                                                                             capsys):
    """Before: the duty office's 解决率 0 % and 响应率 100 % from one ticket it signed for 育英小学 (nobody bound).
    Now neither its rates nor the school's rest on it; the duty office shows it as 代收 1, 办结 1, 超期 1."""
    d = dialog
    number = await _late_stand_in(d)
    await rate(d, PARENT, number, "1")
    t = await d.db(tickets.get, number)
    assert tickets.credit(t) == ("代收:jyj-bgs", "代收:jyj-bgs") and t["rated_unit"] == "代收:jyj-bgs"
    got = await _month(d, [NOBODY, "jyj-bgs"])
    duty, school = got["jyj-bgs"], got.get(NOBODY, rates.Rates())
    assert (duty.response, duty.resolution, duty.satisfaction) == (None, None, None)
    assert (duty.dispatched, duty.resolved, duty.open_overdue, duty.rated) == (0, 0, 0, 0)
    assert (duty.proxied, duty.proxied_resolved, duty.proxied_late) == (1, 1, 1)
    assert (school.response, school.resolution, school.satisfaction, school.stood_in) == (None, None, None, 1)
    assert "核对无误" in _verify(tmp_path, capsys)


async def test_a_stand_in_that_lets_a_ticket_lapse_shows_it_late_apart_from_its_own_rates(dialog, tmp_path, capsys):
    """The duty office lets a 代收 ticket lapse; a leader passes it on. The lapse is kept (a late departure), as the
    duty office's 代收 late, not in its 解决率 (before: 0 %, from a ticket of a school it stood in for)."""
    d = dialog
    number = await file_ticket(d, PARENT, BURDEN, scene=f"school:{NOBODY}", consent="1")
    for _ in range(14):
        d.advance(86400)
        await d.sweep()
    await talk(d, LEADER, f"转派 {number} 江南区教育局 请区局督促学校", expect="已将")
    misses = await d.db(lambda db: db.execute("SELECT unit_code, response, overdue FROM unit_misses").fetchall())
    assert misses == [("代收:jyj-bgs", 1, 1)]
    duty = (await _month(d, ["jyj-bgs"]))["jyj-bgs"]
    assert (duty.response, duty.resolution, duty.left_late) == (None, None, 0)
    # its 派发 went on with the ticket (the district's now); its lapse stays, as its 代收 late
    # (its 代收 case of that dispatch is kept with it, m066: 代收 received 1)
    assert (duty.proxied, duty.proxied_resolved, duty.proxied_late) == (1, 0, 1)
    assert "核对无误" in _verify(tmp_path, capsys)


async def test_the_digest_dashboard_and_trace_pages_show_the_stand_ins_figures_apart(dialog):
    """Wherever a unit's rates are shown, the 代收 it did for others is shown beside them, never in them."""
    from bot.app import DB
    from bot.web import render_html
    from handlers import digest, review
    from tests.test_web import sign_in
    d = dialog
    await _late_stand_in(d)
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    now = d.clock.now()
    line = PROXIED.format(n=1, resolved=1, late=1)
    rev = await d.app[DB].read(lambda c: review.build(c, "2026-11", TZ, review.Weights(), now=now))
    assert line in review.format_unit(rev, "jyj-bgs")
    duty = rev.unit("jyj-bgs").figures.rates
    assert (duty.resolution, duty.proxied_late) == (None, 1)
    async with aiohttp.ClientSession(base_url=str(d.session._base_url),
                                     cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        await sign_in(d, s, LEADER)
        for path in ("/w/dashboard?kind=month&period=2026-11", "/w/rates/jyj-bgs?period=2026-11",
                     "/w/review?period=2026-11"):
            async with s.get(path) as resp:
                page = await resp.text()
            assert resp.status == 200 and line in page, (path, page[:3000])
        async with s.get("/w/rates/jyj-bgs?period=2026-11") as resp:
            page = await resp.text()
        assert "代收超期，不计入" in page and "代收的留言计入代为办理的单位" not in page
    # the week it was filed in (代收 1) and the week it was 办结 late in (办结 1, 超期 1)
    html = {w: await d.app[DB].read(lambda c: render_html(digest.build(c, w, now, TZ), TZ))
            for w in ("2026-W47", "2026-W48")}
    assert PROXIED.format(n=1, resolved=0, late=0) in html["2026-W47"]
    assert PROXIED.format(n=0, resolved=1, late=1) in html["2026-W48"]


def test_m059_moves_stand_in_work_out_of_the_rates_and_verify_rates_agrees(tmp_path):
    """A database from before: a 代收 ticket the duty office signed and resolved (rated), one it let lapse and a
    leader passed on (a late departure written against the duty office). m059 rewrites both as 代收, moves their
    counts, appends the record verify-rates checks against, and the figures follow the new rule."""
    from storage import integrity, migrations
    day = nov
    db = before_m059(tmp_path / "t.db", NOBODY)

    def new(openid):
        t = tickets.create(db, openid=openid, kind="complaint", category="burden", unit_code=NOBODY,
                           school_code=NOBODY, text="x", attachments=[], contact_phone=None, anonymous=False,
                           routing={}, now=day(2), due_at=day(10), tz=TZ, accept_due_at=day(3))
        t = tickets.transition(db, t, "assigned", "system", day(2), "unattended", "无人绑定，已转值班室。",
                               unattended=1, response_unit="jyj-bgs", resolve_unit="jyj-bgs", stood_in=1)
        return t
    done = new("o_a")
    done = tickets.transition(db, done, "accepted", "o_duty", day(2, 11), "accept", accepted_by="o_duty",
                              accepted_at=day(2, 11))
    done = tickets.transition(db, done, "resolved", "o_duty", day(3), "resolve", resolved_at=day(3))
    tickets.transition(db, done, "closed", "o_a", day(3, 12), "rate", rating=1, rated_at=day(3, 12),
                       rated_unit="jyj-bgs", closed_at=day(3, 12), close_reason="rated")
    lapsed = new("o_b")
    tickets.transition(db, lapsed, "assigned", "o_leader", day(12), "transfer", "转区局", unit_code="jn-jyj",
                       due_at=day(20), accept_due_at=day(13), dispatched_at=day(12))
    start, end = day(1, 0), dt.datetime(2026, 12, 1, tzinfo=TZ).timestamp()
    # the old rule: in the duty office's 解决率 (its 办结 counted, and the lapse as its late departure)
    before = tickets.unit_day_sums(db, [start, end], ["jyj-bgs"])[0]["jyj-bgs"]
    assert before["resolved"] == 1 and db.execute("SELECT unit_code FROM unit_misses").fetchall() == [("jyj-bgs",)]
    assert "m059_stand_in_apart" in migrations.migrate(db)
    got = rates.for_period(db, start, end, None, day(25))
    duty, school = got["jyj-bgs"], got.get(NOBODY, rates.Rates())
    assert (duty.response, duty.resolution, duty.satisfaction, duty.first_rated) == (None, None, None, 0)
    assert (duty.proxied, duty.proxied_resolved, duty.proxied_late) == (1, 1, 1)  # the other went on: its 派发 too
    assert (school.stood_in, school.response, school.resolution) == (1, None, None)
    assert db.execute("SELECT unit_code FROM unit_misses").fetchall() == [("代收:jyj-bgs",)]
    assert integrity.differences(db, start, end) == [] and integrity.against_events(db, start, end) == []
    # the counters after the move are what a recount from nothing gives
    kept = sorted(r for r in db.execute("SELECT * FROM unit_days") if any(r[2:]))
    db.execute("DELETE FROM unit_days")
    migrations._backfill_credit_days(db, m050=True)
    assert kept == sorted(db.execute("SELECT * FROM unit_days"))


async def test_a_ticket_resolved_at_the_second_the_rates_are_read_is_resolved_not_also_open(dialog, tmp_path, capsys):
    """audit13's edge: the fees office 办结s a late ticket and the month's rates are read that same second. The
    counters counted it resolved (late) and, from the index of late tickets, open past its deadline as well: two
    cases in its 解决率 for one ticket, where the ticket-by-ticket rule counts one."""
    from tests.dialog import FEES
    from tests.test_citizen_dialogs import FEES_TEXT
    d = dialog
    number = await file_ticket(d, PARENT, FEES_TEXT, scene="school:jn-syxx")
    for _ in range(12):
        d.advance(86400)
        await d.sweep()
    await talk(d, FEES, f"办结 {number} 已责令退费", expect="已办结")
    t = await d.db(tickets.get, number)
    assert t["resolved_at"] == d.clock.now() > t["due_at"]
    fees = (await _month(d, ["jyj-sfc"]))["jyj-sfc"]  # read at that second, counters and trace alike
    assert (fees.resolved, fees.resolved_in_time, fees.open_overdue, fees.base("resolution")) == (1, 0, 0, 1)
