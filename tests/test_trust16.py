"""trust16: what trust15 left. `verify-rates` checks `resolve_since` against the events; a part the stand-in (代收)
let lapse stays its 代收 whoever finishes it; m059's gaps (a reviewed ticket whose 签收 was 代收, a rated 代收 answer
whose 办结 part moved on) corrected by m061. Each test failed on the code before it."""
from __future__ import annotations

import time

from handlers import rates
from storage import staff, tickets
from tests.dialog import DUTY, LEADER, TZ, at, file_ticket, talk
from tests.rates_check import before_m059, nov, period_rates as _month, verify_rates as _verify
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
