"""trust16: what trust15 left. `verify-rates` checks `resolve_since` against the events; a part the stand-in (代收)
let lapse stays its 代收 whoever finishes it; m059's gaps (a reviewed ticket whose 签收 was 代收, a rated 代收 answer
whose 办结 part moved on) corrected by m061. Each test failed on the code before it."""
from __future__ import annotations

import time

from handlers import rates
from storage import staff, tickets
from tests.dialog import DUTY, LEADER, TZ, at, file_ticket, talk
from tests.rates_check import (before_m059, nov, old_stand_in_answer_rejected, period_rates as _month,
                               verify_rates as _verify)
from tests.test_credit import BURDEN, NOBODY
from tests.test_citizen_dialogs import PARENT


def _midnight_after(t: float) -> float:
    import datetime as dt
    day = dt.datetime.fromtimestamp(t, TZ).date() + dt.timedelta(days=1)
    return dt.datetime(day.year, day.month, day.day, tzinfo=TZ).timestamp()


def _figures(r: rates.Rates | None) -> tuple:
    r = r or rates.Rates()
    return (r.dispatched, r.response_due, r.accepted_in_time, r.resolved, r.resolved_in_time, r.open_overdue,
            r.proxied, r.proxied_resolved, r.proxied_late, r.proxied_late_response, r.stood_in)


# -- 2. a part the stand-in let lapse ---------------------------------------------------------------------------------
async def test_a_part_the_stand_in_let_lapse_stays_its_late_when_the_school_finishes_it(dialog, tmp_path, capsys):
    """育英小学 had nobody bound; the duty office stood in (代收) and let the ticket's 签收 window and deadline pass.
    A teacher then bound at the school and 办结ed it. Before: the 办结 part became the school's (Desk._credit),
    so the school took a late 办结 for a deadline that passed while it had nobody and the duty office held its
    part — and the week already over, whose end had the ticket as the duty office's 代收 late, now counted it open
    past the deadline in the school's 解决率. Now a part let lapse stays whose it was when it lapsed (the one rule
    for 签收 and 办结): the 代收's late, shown apart, in no unit's 解决率; the week over reads as it did."""
    d = dialog
    number = await file_ticket(d, PARENT, BURDEN, scene=f"school:{NOBODY}", consent="1")
    for _ in range(12):  # nobody acts: past the 签收 window and the deadline
        d.advance(86400)
        await d.sweep()
    t = await d.db(tickets.get, number)
    assert t["due_at"] < d.clock.now() and tickets.credit(t) == ("代收:jyj-bgs", "代收:jyj-bgs"), t
    week = (at("2026-11-01 00:00"), _midnight_after(t["due_at"]))  # over: its end had the ticket late, 代收
    assert week[1] < d.clock.now()
    units = [NOBODY, "jyj-bgs"]
    was = await _month(d, units, week)
    assert _figures(was.get(NOBODY)) == (0,) * 10 + (1,)  # its ticket, stood in for (代收 1)
    assert was["jyj-bgs"].proxied_late == 1 and was["jyj-bgs"].open_overdue == 0
    code = await d.db(staff.create_invite, NOBODY, "handler", "育英小学·新老师", time.time(), 3600)
    await talk(d, "o_t16_yyxx", f"绑定 {code}", expect=["绑定成功", number])
    await talk(d, "o_t16_yyxx", f"办结 {number} 已调整作业量并告知家长", expect="已办结")
    t = await d.db(tickets.get, number)
    assert tickets.credit(t) == ("代收:jyj-bgs", "代收:jyj-bgs"), t
    now_ = await _month(d, units, week)
    for unit in units:
        assert _figures(was.get(unit)) == _figures(now_.get(unit)), (unit, was.get(unit), now_.get(unit))
    month = await _month(d, units)
    school, duty = month.get(NOBODY, rates.Rates()), month["jyj-bgs"]
    assert (school.resolved, school.resolved_in_time, school.open_overdue, school.resolution) == (0, 0, 0, None)
    assert (duty.resolved, duty.open_overdue, duty.resolution) == (0, 0, None)
    assert (duty.proxied_resolved, duty.proxied_late) == (1, 1), duty
    assert "核对无误" in _verify(tmp_path, capsys)


# -- 1. verify-rates checks resolve_since ------------------------------------------------------------------------------
async def test_verify_rates_names_each_ticket_whose_resolve_since_the_events_do_not_back(dialog, tmp_path, capsys):
    """resolve_since (m060) decides whose 解决率 a ticket open past its deadline is in at an earlier period's end;
    verify-rates did not check it, so a value changed behind the record changed past figures unseen. Two tickets:
    one 江南区教育局 got back with the deadline it let pass (its resolve_since cleared: the district is late again at
    ends when the school held it), one 收费管理处 never handed on (a resolve_since set: its lateness vanishes from
    the month's end). Each is named; the one left alone is not."""
    from bot.cli import main
    from tests.conftest import write_cli_config
    from tests.dialog import DISTRICT, DISTRICT_HEAD
    d = dialog
    back = await file_ticket(d, "o_t16_v1", "江南区实验小学乱收资料费300元不给收据", scene="school:jn-syxx",
                             consent="1")
    await talk(d, LEADER, f"转派 {back} 江南区教育局 收费问题请区局核处", expect="已将")
    await talk(d, DISTRICT, f"签收 {back}", expect="签收")
    mine = (await d.db(tickets.get, back))["due_at"]
    kept = await file_ticket(d, "o_t16_v2", "学校要求每个学生交300元资料费，还不给收据", scene="school:jn-syxx",
                             consent="1")
    calm = await file_ticket(d, "o_t16_v3", "学校要求每个学生交500元资料费，还不给收据", scene="school:jn-syxx",
                             consent="1")
    await talk(d, DISTRICT_HEAD, f"转派 {back} 江南区实验小学 请学校先核实", expect="已将")
    d.advance(_midnight_after(mine) + 3600 - d.clock.now())
    await talk(d, DISTRICT_HEAD, f"转派 {back} 江南区教育局 仍由区局办理", expect=["已将", "已超期"])
    for _ in range(8):  # the other two stay open past their deadlines
        d.advance(86400)
        await d.sweep()
    rows = {n: await d.db(tickets.get, n) for n in (back, kept, calm)}
    assert rows[back]["resolve_since"] is not None and rows[kept]["resolve_since"] is None, rows
    assert all(r["due_at"] < d.clock.now() and r["resolved_at"] is None for r in rows.values())
    assert "核对无误" in _verify(tmp_path, capsys)

    def corrupt(db):
        db.execute("UPDATE tickets SET resolve_since = NULL WHERE number = ?", [back])
        db.execute("UPDATE tickets SET resolve_since = ? WHERE number = ?", [d.clock.now(), kept])
    await d.db(corrupt)
    config = str(write_cli_config(tmp_path / "c.toml", str(tmp_path / "demo.db")))
    code = main(["verify-rates", "--period", "2026-11", "--config", config])
    out = capsys.readouterr().out
    assert code == 1, out
    said = [line.strip() for line in out.splitlines() if "转入现承办单位的时间与操作记录不符" in line]
    assert sorted(said) == sorted(f"{n}：转入现承办单位的时间与操作记录不符（决定往期超期未办结计入哪个单位）"
                                  for n in (back, kept)), out
    assert calm not in out


# -- 3. m059's gaps, corrected by m061 ---------------------------------------------------------------------------------
def _november(db, units=None):
    import datetime as dt
    start, end = nov(1, 0), dt.datetime(2026, 12, 1, tzinfo=TZ).timestamp()
    return start, end, rates.for_period(db, start, end, units, nov(25))


def _upgraded(db) -> None:
    """The upgrade, and the look after start-up it leaves (m062: the service's upgrade-fill job; m061's rule for
    the older ratings of 代收 answers is applied as the look names them): the counters and the events agree
    with the tickets after it."""
    from storage import integrity, migrations
    migrations.migrate(db)
    while tickets.resolve_since_pending(db):
        tickets.resolve_since_store(db, tickets.resolve_since_next(db, 200))
    while tickets.recredit_range(db) is not None:
        tickets.recredit_store(db, *tickets.recredit_next(db), nov(30))
    start, end, _ = _november(db)
    assert integrity.differences(db, start, end) == [] and integrity.against_events(db, start, end) == []


def _again(db) -> None:
    """m061 run again (an upgrade stopped half-way is simply run again): the same rows, no second record."""
    from storage import migrations
    rows = db.execute("SELECT * FROM tickets ORDER BY id").fetchall()
    events = db.execute("SELECT count(*) FROM ticket_events").fetchone()
    days = db.execute("SELECT * FROM unit_days ORDER BY day, unit_code").fetchall()
    migrations.m061_stand_in_gaps(db)
    assert db.execute("SELECT * FROM tickets ORDER BY id").fetchall() == rows
    assert db.execute("SELECT count(*) FROM ticket_events").fetchone() == events
    assert db.execute("SELECT * FROM unit_days ORDER BY day, unit_code").fetchall() == days


def test_a_reviewed_ticket_whose_signing_was_a_stand_ins_is_in_no_units_response_rate(tmp_path):
    """Old code: the duty office signed for 育英小学 (nobody bound); its answers were rejected twice; the bureau's
    review (at the duty office) kept the 签收 with the unit that did it, written as the duty office's own code.
    m059 re-keyed 代收 work but passed over reviewed tickets (their kept 签收 is the reviewed unit's own): this
    one's was the duty office's 代收, so it stayed in the duty office's 响应率 (100 % (1)), and the rejected 代收
    answer in its 满意率 (0 % (1)). m061 names the 代收 account, as a 签收 the duty office stands in for is now."""
    day = nov
    db = before_m059(tmp_path / "t.db", NOBODY)
    t = old_stand_in_answer_rejected(db, "o_a", NOBODY)
    t = tickets.transition(db, t, "accepted", "o_duty", day(4), "accept", accepted_by="o_duty")
    t = tickets.transition(db, t, "resolved", "o_duty", day(5), "resolve", resolved_at=day(5))
    t = tickets.transition(db, t, "reopened", "o_a", day(5, 12), "review", rating=3, rated_at=day(5, 12),
                           review=1, rated_unit="jyj-bgs", unit_code="jyj-bgs", resolved_at=None,
                           response_unit="jyj-bgs", resolve_unit=None, stood_in=0, unattended=0, due_at=day(14))
    t = tickets.transition(db, t, "accepted", "o_duty", day(5, 14), "accept", accepted_by="o_duty")
    tickets.transition(db, t, "resolved", "o_duty", day(6), "resolve", resolved_at=day(6))  # the review's own
    _upgraded(db)
    _, _, got = _november(db)
    duty = got["jyj-bgs"]
    assert (duty.dispatched, duty.response_due, duty.accepted_in_time, duty.response) == (0, 0, 0, None), duty
    assert (duty.rated, duty.satisfied, duty.first_rated, duty.dissatisfied) == (0, 0, 0, 0), duty
    assert (duty.resolved, duty.resolved_in_time) == (1, 1)  # the review: its own work
    assert (duty.proxied, duty.proxied_late_response) == (1, 0)
    school = got.get(NOBODY, rates.Rates())
    assert (school.dispatched, school.rated, school.resolved) == (0, 0, 0), school
    t = tickets.get(db, t["number"])
    assert (t["response_unit"], t["rated_unit"], t["stood_in"]) == ("代收:jyj-bgs", "代收:jyj-bgs", 1), t
    one = _november(db, ["jyj-bgs"])[2]["jyj-bgs"]
    assert (one.dispatched, one.rated, one.proxied) == (0, 0, 1), one
    _again(db)


def test_a_rejected_stand_in_answer_whose_redo_came_home_is_in_no_units_satisfaction(tmp_path):
    """Old code: the duty office answered for 育英小学; the parent rejected the answer; a teacher then bound at
    the school, so the redo (its window open) became the school's own — the 办结 part no longer the duty office's,
    while the ticket still carried the rejected answer's rating, the duty office's. m059 re-keyed a rating only
    where it named the 代收 办结 part as it was then, so this one stayed in the duty office's 满意率 (0 % (1)) until
    the redo is rated. m061: the ticket's rating counts for the account its rating event does (m060's
    rating_recredit), the duty office's 代收: in no unit's 满意率."""
    day = nov
    db = before_m059(tmp_path / "t.db", NOBODY)
    t = old_stand_in_answer_rejected(db, "o_b", NOBODY)
    staff.bind(db, "o_teacher", NOBODY, "handler", "新老师", day(4))
    tickets.transition(db, t, "reopened", "system", day(4), "attended", "已绑定", unattended=0, resolve_unit=None,
                       stood_in=1)  # old Desk._attend: the redo the school's own; the 签收 stays the duty office's
    _upgraded(db)
    _, _, got = _november(db)
    duty, school = got["jyj-bgs"], got.get(NOBODY, rates.Rates())
    assert (duty.rated, duty.satisfied, duty.satisfaction, duty.dissatisfied) == (0, 0, None, 0), duty
    assert (school.rated, school.satisfied, school.dissatisfied) == (0, 0, 0), school
    assert (duty.dispatched, duty.proxied) == (0, 1)
    t = tickets.get(db, t["number"])
    assert (t["rated_unit"], t["response_unit"], t["resolve_unit"]) == ("代收:jyj-bgs", "代收:jyj-bgs", None), t
    _again(db)


# -- 4. a period over reads the same after a ticket leaves -------------------------------------------------------------
async def test_a_month_over_reads_the_same_after_its_late_tickets_are_passed_on_or_withdrawn(dialog, tmp_path, capsys):
    """收费管理处 signed two November tickets and let both pass their deadlines: November's end counted both open
    past the deadline (解决率 0 % (2)). In December a leader passed one to 江南区教育局 and the parent withdrew
    the other. Before: November now read 解决率 — (0): both late counts had moved to December as departures (the
    ticket was another unit's, or withdrawn). Now November reads as it did (the miss keeps from when the ticket was
    open past its deadline with the unit, m061 open_from), and December counts each departure once, as before.
    (Its 派发 still follows the ticket to the unit it goes to, as a 转派 is meant to: not checked here.)"""
    from tests.dialog import FEES
    d = dialog
    fee = "学校要求每个学生交{n}元资料费，还不给收据"
    moved = await file_ticket(d, "o_t16_m1", fee.format(n=300), scene="school:jn-syxx", consent="1")
    gone = await file_ticket(d, "o_t16_m2", fee.format(n=500), scene="school:jn-syxx", consent="1")
    for n in (moved, gone):
        assert (await d.db(tickets.get, n))["unit_code"] == "jyj-sfc"
        await talk(d, FEES, f"签收 {n}", expect="签收")
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    await d.sweep()
    units = ["jyj-sfc", "jn-jyj"]
    nov_, dec = (at("2026-11-01 00:00"), at("2026-12-01 00:00")), (at("2026-12-01 00:00"), at("2027-01-01 00:00"))

    def resolution(r: rates.Rates | None) -> tuple:
        r = r or rates.Rates()
        return r.resolved, r.resolved_in_time, r.open_overdue, r.left_late, r.resolution

    was = await _month(d, units, nov_)
    assert resolution(was["jyj-sfc"]) == (0, 0, 2, 0, 0.0), was
    d.advance(86400)
    await talk(d, LEADER, f"转派 {moved} 江南区教育局 请区局核处", expect="已将")
    await talk(d, "o_t16_m2", f"撤回 {gone}")
    await talk(d, "o_t16_m2", f"确认撤回 {gone}", expect="撤回")
    assert (await d.db(tickets.get, gone))["state"] == "withdrawn"
    now_ = await _month(d, units, nov_)
    for unit in units:
        assert resolution(was.get(unit)) == resolution(now_.get(unit)), (unit, was.get(unit), now_.get(unit))
    december = (await _month(d, units, dec))["jyj-sfc"]
    assert (december.open_overdue, december.left_late, december.resolution) == (2, 2, 0.0), december
    for month in ("2026-11", "2026-12"):
        assert "核对无误" in _verify(tmp_path, capsys, month)
    # the kept counts rest on the miss's open_from: verify-rates checks it against the events, by the month it left
    from bot.cli import main
    from tests.conftest import write_cli_config
    await d.db(lambda db: db.execute("UPDATE unit_misses SET open_from = NULL WHERE ticket_id = ?",
                                     [(tickets.get(db, moved))["id"]]))
    assert resolution((await _month(d, units, nov_))["jyj-sfc"])[2] == 1  # November changed behind the record
    config = str(write_cli_config(tmp_path / "c.toml", str(tmp_path / "demo.db")))
    assert main(["verify-rates", "--period", "2026-12", "--config", config]) == 1
    out = capsys.readouterr().out
    assert f"{moved}：超时记录的超期起算时间与操作记录不符" in out and gone not in out, out


# -- 2 (the same rule where 代收 begins) ------------------------------------------------------------------------------
async def test_a_lapse_stays_the_schools_when_its_staff_leave_and_the_duty_office_stands_in(dialog, tmp_path, capsys):
    """江南区实验小学 signed a ticket and let its deadline pass: November's end counted it open past the deadline in
    the school's 解决率. In December both its staff were unbound; the duty office stood in for its open tickets.
    Before: the lapsed 办结 part became the duty office's 代收 (Desk._stand_in took every part not done), so the
    school's November read 解决率 — and the duty office showed a 代收 超期 it never held. A part let lapse stays whose
    it was when it lapsed (Desk._credit's rule, here too): the stand-in takes over only the parts still open."""
    from tests.dialog import SCHOOL, SCHOOL_HEAD
    from tests.test_audit14 import _unbind
    d = dialog
    number = await file_ticket(d, "o_t16_l1", BURDEN, scene="school:jn-syxx", consent="1")
    assert (await d.db(tickets.get, number))["unit_code"] == "jn-syxx"
    await talk(d, SCHOOL, f"签收 {number}", expect="签收")
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    await d.sweep()
    units = ["jn-syxx", "jyj-bgs"]
    was = await _month(d, units)
    assert (was["jn-syxx"].open_overdue, was["jn-syxx"].resolution) == (1, 0.0), was
    await _unbind(d, SCHOOL, SCHOOL_HEAD)
    t = await d.db(tickets.get, number)
    assert t["unattended"] == 1 and tickets.credit(t)[1] == "jn-syxx", t
    now_ = await _month(d, units)
    for unit in units:
        assert _figures(was.get(unit)) == _figures(now_.get(unit)), (unit, was.get(unit), now_.get(unit))
    december = (await _month(d, units, (at("2026-12-01 00:00"), at("2027-01-01 00:00"))))
    assert december["jn-syxx"].open_overdue == 1 and december.get("jyj-bgs", rates.Rates()).proxied_late == 0
    await talk(d, DUTY, f"办结 {number} 已督促学校整改", expect="已办结")  # done for it: still the school's lateness
    december = (await _month(d, units, (at("2026-12-01 00:00"), at("2027-01-01 00:00"))))
    assert (december["jn-syxx"].resolved, december["jn-syxx"].resolved_in_time) == (1, 0), december
    assert "核对无误" in _verify(tmp_path, capsys, "2026-12")


def test_m061_gives_an_older_departure_the_ends_it_was_late_at(tmp_path):
    """A database before m061: 江南区教育局 let a ticket pass its deadline (11-10) and passed it to a school on 11-12
    (a late departure, written without open_from). The ten days to 11-11 ended with the ticket open past the
    deadline at the district; read after the upgrade on main they read nothing late (the ticket was the school's
    by then, from 11-12). m061 fills open_from from the record before the departure: those days read it late again;
    run again, nothing changes."""
    import datetime as dt

    from storage import integrity, migrations
    day = nov
    db = before_m059(tmp_path / "t.db", NOBODY, "m061_stand_in_gaps")
    db.execute("INSERT INTO units (code, name, kind, parent) VALUES ('jn-syxx', '江南区实验小学', 'school', 'jn-jyj')")
    staff.bind(db, "o_district", "jn-jyj", "handler", "陈科长", 0)
    t = tickets.create(db, openid="o_c", kind="complaint", category="fees", unit_code="jn-jyj", school_code="jn-syxx",
                       text="x", attachments=[], contact_phone=None, anonymous=False, routing={}, now=day(2),
                       due_at=day(10), tz=TZ, accept_due_at=day(3))
    t = tickets.transition(db, t, "accepted", "o_district", day(2, 11), "accept", accepted_by="o_district",
                           accepted_at=day(2, 11))
    tickets.transition(db, t, "assigned", "o_district", day(12), "transfer", "转学校", unit_code="jn-syxx",
                       due_at=day(20), accept_due_at=day(13), dispatched_at=day(12))
    assert db.execute("SELECT unit_code, overdue, due_at FROM unit_misses").fetchall() == [("jn-jyj", 1, day(10))]
    first, left = (day(1, 0), day(11, 0)), (day(1, 0), dt.datetime(2026, 12, 1, tzinfo=TZ).timestamp())

    def district(p):
        return rates.for_period(db, *p, ["jn-jyj"], day(25)).get("jn-jyj", rates.Rates())
    migrations.migrate(db)
    assert db.execute("SELECT open_from FROM unit_misses").fetchall() == [(day(10),)]
    assert (district(first).open_overdue, district(first).left_late) == (1, 0), district(first)
    assert (district(left).open_overdue, district(left).left_late) == (1, 1), district(left)
    for p in (first, left):
        assert integrity.differences(db, *p) == [] and integrity.against_events(db, *p) == []
    _again(db)
    db.execute("UPDATE unit_misses SET open_from = NULL")  # verify-rates names a changed one, by the month it left
    assert integrity.against_events(db, *left) == [{"number": t["number"], "what": "open_from"}]
