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
