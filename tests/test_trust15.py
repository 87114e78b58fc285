"""trust15: what the rates14 and audit14 branches left. A late 代收 签收 is shown apart like a late 代收 办结; an
older rating of a 代收 answer counts for nobody's 首次满意率; a unit counts one miss per deadline it missed, however
often the ticket leaves it; a period's figures do not change when a ticket comes back later; a complaint about the
bureau left 代收 by old code is the holder's own. Each test failed on the code before it."""
from __future__ import annotations

import aiohttp

from handlers import rates
from storage import tickets
from tests.dialog import DUTY, LEADER, TZ, at, file_ticket, talk
from tests.rates_check import (before_m059, nov, old_stand_in_answer_rejected, period_rates as _month,
                               verify_rates as _verify)
from tests.test_credit import BURDEN, NOBODY
from tests.test_citizen_dialogs import PARENT

LATE_SIGN = "超时签收{n}件"


# -- (a) a late 代收 签收 ------------------------------------------------------------------------------------------
async def test_a_stand_ins_late_signing_shows_apart_wherever_its_figures_are_shown(dialog, tmp_path, capsys):
    """The duty office signs a ticket for a school with nobody bound two days late and 办结s it in time. Before: its
    代收 line read 本期收到1件，办结1件，超期0件 — the late 签收 was in no figure (proxied_late is 办结 only). Now the
    same 代收 figures carry it (rates.fold), on the review, the digest and the unit's trace."""
    from bot.app import DB
    from bot.web import render_html
    from handlers import digest, review
    from tests.test_web import sign_in
    d = dialog
    number = await file_ticket(d, PARENT, BURDEN, scene=f"school:{NOBODY}", consent="1")
    due = (await d.db(tickets.get, number))["accept_due_at"]
    d.advance(due + 2 * 86400 - d.clock.now())
    await talk(d, DUTY, f"签收 {number}", expect="代为签收")
    await talk(d, DUTY, f"办结 {number} 已联系学校调整作业量", expect="已办结")
    t = await d.db(tickets.get, number)
    assert t["accepted_at"] > t["accept_due_at"] and t["resolved_at"] <= t["due_at"]
    duty = (await _month(d, ["jyj-bgs"]))["jyj-bgs"]
    assert (duty.response, duty.proxied, duty.proxied_late) == (None, 1, 0)
    assert LATE_SIGN.format(n=1) in rates.proxied(duty), rates.proxied(duty)
    assert "核对无误" in _verify(tmp_path, capsys)
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    now = d.clock.now()
    rev = await d.app[DB].read(lambda c: review.build(c, "2026-11", TZ, review.Weights(), now=now))
    assert LATE_SIGN.format(n=1) in review.format_unit(rev, "jyj-bgs")
    week = "2026-W47" if t["dispatched_at"] < at("2026-11-23 00:00") else "2026-W48"
    html = await d.app[DB].read(lambda c: render_html(digest.build(c, week, now, TZ), TZ))
    assert LATE_SIGN.format(n=1) in html
    async with aiohttp.ClientSession(base_url=str(d.session._base_url),
                                     cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        await sign_in(d, s, LEADER)
        async with s.get("/w/rates/jyj-bgs?period=2026-11") as resp:
            page = await resp.text()
        assert resp.status == 200 and LATE_SIGN.format(n=1) in page and "代收超时签收，不计入" in page, page[:3000]


# -- (c) one lapse, one miss ----------------------------------------------------------------------------------------
async def test_a_signing_window_let_lapse_twice_is_one_late_signing(dialog, tmp_path, capsys):
    """收费管理处 let a November ticket's 签收 window lapse; a leader passed it to 江南区教育局 (the lapse noted), gave
    it back in December (the same lapsed window, Desk.handover) and passed it on again in January, still unsigned.
    Before: a second miss for the same window, so one dispatch counted two late 签收 (November and January). A
    响应 case is one dispatch and one window: now one late 签收, in the period of the first departure; the
    second departure writes no miss for a window already missed."""
    from bot.app import DB
    from tests.dialog import DISTRICT_HEAD
    d = dialog
    number = await file_ticket(d, "o_t15_p1", "江南区实验小学乱收资料费300元不给收据", scene="school:jn-syxx",
                               consent="1")
    sent = await d.db(tickets.get, number)
    assert sent["unit_code"] == "jyj-sfc", sent
    d.advance(at("2026-11-27 10:00") - d.clock.now())
    await talk(d, LEADER, f"转派 {number} 江南区教育局 请区局核处", expect="已将")
    d.advance(at("2026-12-08 10:00") - d.clock.now())
    await talk(d, LEADER, f"转派 {number} 市教育局教育收费管理处 仍由收费处办理", expect="已将")
    back = await d.db(tickets.get, number)
    assert back["accept_due_at"] == sent["accept_due_at"] and back["accepted_at"] is None, back
    d.advance(at("2027-01-05 10:00") - d.clock.now())
    await talk(d, LEADER, f"转派 {number} 江南区教育局 请区局核处", expect="已将")
    misses = await d.db(lambda db: db.execute("SELECT unit_code, response FROM unit_misses WHERE unit_code = "
                                              "'jyj-sfc' ORDER BY id").fetchall())
    assert [r for _, r in misses].count(1) == 1, misses
    now = d.clock.now()
    months = [at("2026-11-01 00:00"), at("2026-12-01 00:00"), at("2027-01-01 00:00"), at("2027-02-01 00:00")]
    got = await d.app[DB].read(lambda c: rates.for_periods(c, months, ["jyj-sfc"], now))
    late = [(r["jyj-sfc"].response_due - r["jyj-sfc"].accepted_in_time) if "jyj-sfc" in r else 0 for r in got]
    assert late == [1, 0, 0], [r.get("jyj-sfc") for r in got]
    for (start, end), r in zip(zip(months, months[1:]), got):
        traced = await d.app[DB].read(lambda c: rates.traced(c, start, end, "jyj-sfc", now))
        assert rates.total(traced) == r.get("jyj-sfc", rates.Rates()), (start, traced, r)
    for month in ("2026-11", "2026-12", "2027-01"):
        assert "核对无误" in _verify(tmp_path, capsys, month)


# -- (d) a published period stays as it was when a ticket comes back -------------------------------------------------
async def test_a_period_reads_the_same_after_a_ticket_comes_back(dialog, tmp_path, capsys):
    """江南区教育局 passed a ticket to 江南区实验小学 in good time; its own deadline then passed while the school held
    it (the school's, two working days later, had not). After that day the district's figures had nothing late.
    Its head then took the ticket back, with the deadline the district had (Desk.handover). Before: the district's
    figures up to that day now counted the ticket open past its deadline — a period already read changed, for
    days the district did not hold it. Now they read as they did; the district is late from when it came back."""
    from tests.dialog import DISTRICT, DISTRICT_HEAD
    d = dialog
    number = await file_ticket(d, "o_t15_p2", "江南区实验小学乱收资料费300元不给收据", scene="school:jn-syxx",
                               consent="1")
    await talk(d, LEADER, f"转派 {number} 江南区教育局 收费问题请区局核处", expect="已将")
    await talk(d, DISTRICT, f"签收 {number}", expect="签收")
    mine = (await d.db(tickets.get, number))["due_at"]
    d.advance(2 * 86400)
    await talk(d, DISTRICT_HEAD, f"转派 {number} 江南区实验小学 请学校先核实", expect="已将")
    theirs = (await d.db(tickets.get, number))["due_at"]
    period = (at("2026-11-01 00:00"), mine + 1)  # to the midnight after the district's deadline
    assert mine < period[1] < theirs, (mine, theirs)
    d.advance(period[1] + 3600 - d.clock.now())
    units = ["jn-jyj", "jn-syxx"]
    before = await _month(d, units, period)
    assert (before["jn-jyj"].open_overdue, before["jn-jyj"].left_late) == (0, 0), before
    await talk(d, DISTRICT_HEAD, f"转派 {number} 江南区教育局 仍由区局办理", expect=["已将", "已超期"])
    assert (await d.db(tickets.get, number))["due_at"] == mine
    d.advance(60)
    after = await _month(d, units, period)
    # (the 派发 follows the holder, as with any 转派: the district's own, got back; its 签收 window is open again)
    for unit in units:
        was, now_ = before.get(unit, rates.Rates()), after.get(unit, rates.Rates())
        assert (was.resolved, was.open_overdue, was.left_late, was.resolution) == \
            (now_.resolved, now_.open_overdue, now_.left_late, now_.resolution), (unit, was, now_)
    # from when it came back it is the district's, late: the day it came back reads it open past its deadline
    now = d.clock.now()
    today = (period[1] + 86400 * ((now - period[1]) // 86400), period[1] + 86400 * ((now - period[1]) // 86400 + 1))
    assert (await _month(d, ["jn-jyj"], today))["jn-jyj"].open_overdue == 1
    assert "核对无误" in _verify(tmp_path, capsys)


# -- (b) older ratings of 代收 answers -----------------------------------------------------------------------------
def test_an_older_rating_of_a_stand_ins_answer_counts_for_nobodys_first_satisfaction(tmp_path):
    """A database from before m059: the duty office answered for 育英小学 (nobody bound), the parent rejected the
    answer (不满意, its event naming the duty office), the redo was rated 满意. m059 re-keyed the ticket's work and
    its latest rating as 代收, not the earlier event (append-only), so the duty office's 首次满意率 read 0 % (1) and
    its 不满意次数 1, from an answer that counts in no unit's rates. m060 names that event's 代收 account (one
    table ratings_in reads): no unit's first-time figures rest on it; the school's neither."""
    import datetime as dt

    from storage import integrity, migrations
    day = nov
    db = before_m059(tmp_path / "t.db", NOBODY)
    t = old_stand_in_answer_rejected(db, "o_a", NOBODY)
    t = tickets.transition(db, t, "accepted", "o_duty", day(4), "accept", accepted_by="o_duty")
    t = tickets.transition(db, t, "resolved", "o_duty", day(5), "resolve", resolved_at=day(5))
    tickets.transition(db, t, "closed", "o_a", day(5, 12), "rate", rating=1, rated_at=day(5, 12),
                       rated_unit="jyj-bgs", closed_at=day(5, 12), close_reason="rated")
    start, end = day(1, 0), dt.datetime(2026, 12, 1, tzinfo=TZ).timestamp()
    migrations.migrate(db)
    got = rates.for_period(db, start, end, None, day(25))
    duty, school = got.get("jyj-bgs", rates.Rates()), got.get(NOBODY, rates.Rates())
    assert (duty.first_rated, duty.dissatisfied, duty.rated) == (0, 0, 0), duty
    assert (school.first_rated, school.dissatisfied, school.rated) == (0, 0, 0), school
    one = rates.for_period(db, start, end, ["jyj-bgs"], day(25)).get("jyj-bgs", rates.Rates())
    assert (one.first_rated, one.dissatisfied) == (0, 0), one
    assert integrity.differences(db, start, end) == [] and integrity.against_events(db, start, end) == []
    # the figures above were read before the look after start-up (m062) reached the events; they are its own
    assert db.execute("SELECT count(*) FROM rating_recredit").fetchone()[0] == 0
    while tickets.recredit_range(db) is not None:
        tickets.recredit_store(db, *tickets.recredit_next(db, 3), day(26))
    assert rates.for_period(db, start, end, None, day(25)) == got
    named = db.execute("SELECT * FROM rating_recredit ORDER BY event_id").fetchall()
    assert [u for _, u in named] == ["代收:jyj-bgs"] * 2  # the 不满意 and the 满意: both rated its answers
    migrations.m060_one_miss_a_window_and_returns(db)  # run again (an upgrade stopped half-way): the same
    assert db.execute("SELECT * FROM rating_recredit ORDER BY event_id").fetchall() == named


# -- (e) complaints about the bureau left 代收 by old code -----------------------------------------------------------
async def test_a_complaint_about_the_bureau_left_stood_in_for_by_old_code_is_its_holders_own_at_start_up(
        dialog, tmp_path, capsys):
    """Before audit14, a complaint about the bureau at the leaders' unit with no leader bound was marked 代收 with the
    duty office standing in (it may be the office accused). audit14 stopped making such tickets but left those
    made: start-up's Desk.rehome kept them (the leaders' unit may hold them) still 代收 — the duty office's 代收
    account held their parts still to do, though it may no longer act on them. Now start-up ends that 代收 by the
    rule that ends any (Desk._attend's: a part still to do, its window open, is the holder's own; a part the
    stand-in did or let lapse stays its 代收)."""
    from bot.app import DISPATCHER
    from tests.test_audit14 import _complain
    d = dialog
    number = await _complain(d, "o_t15_c1")
    await talk(d, LEADER, f"转派 {number} 市教育局 请局领导直接督办", expect="已将")

    def as_old_code_left_it(db):  # the 代收 mark old code wrote (dispatch_notices' _stand_in, m059's account)
        t = tickets.get(db, number)
        tickets.transition(db, t, t["state"], "system", d.clock.now(), "unattended", "“市教育局”暂无绑定的工作人员，已转值班室。",
                           unattended=1, response_unit="代收:jyj-bgs", resolve_unit="代收:jyj-bgs")
    await d.db(as_old_code_left_it)
    assert number in {t["number"] for t in await d.db(tickets.unattended_open)}
    await d.db(lambda db: d.app[DISPATCHER].desk.rehome(db))  # start-up
    t = await d.db(tickets.get, number)
    assert (t["unit_code"], t["unattended"], t["stood_in"]) == ("jyj", 0, 0), t
    assert tickets.credit(t) == ("jyj", "jyj"), t
    assert number not in {t["number"] for t in await d.db(tickets.unattended_open)}
    duty = (await _month(d, ["jyj-bgs"])).get("jyj-bgs", rates.Rates())
    assert (duty.proxied, duty.proxied_late, duty.proxied_late_response) == (0, 0, 0), duty
    written = len(await d.db(tickets.events, t["id"]))
    await d.db(lambda db: d.app[DISPATCHER].desk.rehome(db))  # again (the next start-up): nothing more
    assert len(await d.db(tickets.events, t["id"])) == written and (await d.db(tickets.get, number)) == t
    assert "核对无误" in _verify(tmp_path, capsys)
