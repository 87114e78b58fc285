"""trust17: what trust16 left of "a period over reads the same later". Its 解决率 stays (unit_misses.open_from);
its 派发 and 响应率 do not yet, nor a late 办结 whose answer a 不满意 later reopens. These tests say what should hold
and are marked xfail (strict): they fail on main today, and pass (so fail here) the day it is built — then drop
the mark. The design is in the trust17 report (a record of each dispatch case that stays with its unit)."""
from __future__ import annotations

import pytest

from handlers import rates
from storage import tickets
from tests.dialog import FEES, LEADER, at, file_ticket, talk
from tests.rates_check import period_rates as _month

NOV, DEC = (at("2026-11-01 00:00"), at("2026-12-01 00:00")), (at("2026-12-01 00:00"), at("2027-01-01 00:00"))
FEE = "学校要求每个学生交{n}元资料费，还不给收据"


def _response(r: rates.Rates | None) -> tuple:
    r = r or rates.Rates()
    return r.dispatched, r.response_due, r.accepted_in_time, r.response


async def test_a_month_over_keeps_its_dispatches_after_its_tickets_are_passed_on_withdrawn_or_bounced(dialog):
    """收费管理处 signed three November tickets in time: November's 响应率 100%（3）, 派发 3. In December a leader
    passed one to 江南区教育局, the parent withdrew another, and the office bounced the third (退回, to the duty
    office). November is over: it should read as it did, for 收费管理处 and for the units the tickets went to.
    Today the 派发 follows the ticket: November reads 派发 1 for 收费管理处, and the duty office gains a November
    派发 it never had then."""
    d = dialog
    numbers = [await file_ticket(d, f"o_t17_d{n}", FEE.format(n=n), scene="school:jn-syxx", consent="1")
               for n in (300, 400, 500)]
    for n in numbers:
        assert (await d.db(tickets.get, n))["unit_code"] == "jyj-sfc"
        await talk(d, FEES, f"签收 {n}", expect="签收")
    d.advance(at("2026-12-02 10:00") - d.clock.now())
    await d.sweep()
    units = ["jyj-sfc", "jn-jyj", "jyj-bgs"]
    was = await _month(d, units, NOV)
    assert _response(was["jyj-sfc"]) == (3, 3, 3, 1.0), was
    moved, gone, bounced = numbers
    await talk(d, LEADER, f"转派 {moved} 江南区教育局 请区局核处", expect="已将")
    await talk(d, "o_t17_d400", f"撤回 {gone}")
    await talk(d, "o_t17_d400", f"确认撤回 {gone}", expect="撤回")
    await talk(d, FEES, f"退回 {bounced} 不属于本处职责", expect="退回")
    now_ = await _month(d, units, NOV)
    for unit in units:
        assert _response(was.get(unit)) == _response(now_.get(unit)), (unit, was.get(unit), now_.get(unit))


async def test_a_late_resolution_stays_in_its_month_when_a_later_rating_reopens_it(dialog):
    """收费管理处 signed a ticket and 办结ed it a day after its deadline, in November: November's 解决率 0%（1）, one
    办结, late. In December the parent rated the answer 不满意 and the ticket was reopened. November is over: it
    should still read one late 办结. Today the 不满意 clears resolved_at, so November reads 解决率 — and the
    lateness is counted in December (a miss of the reopen month)."""
    d = dialog
    number = await file_ticket(d, "o_t17_r1", FEE.format(n=600), scene="school:jn-syxx", consent="1")
    await talk(d, FEES, f"签收 {number}", expect="签收")
    due = (await d.db(tickets.get, number))["due_at"]
    assert due + 86400 < NOV[1]
    d.advance(due + 86400 - d.clock.now())
    await talk(d, FEES, f"办结 {number} 已责成学校退还资料费并开具收据", expect="已办结")
    was = (await _month(d, ["jyj-sfc"], NOV))["jyj-sfc"]
    assert (was.resolved, was.resolved_in_time, was.resolution) == (1, 0, 0.0), was
    d.advance(at("2026-12-02 10:00") - d.clock.now())
    await talk(d, "o_t17_r1", f"评价 {number} 3 收据还是没给", expect="重新办理")
    now_ = (await _month(d, ["jyj-sfc"], NOV))["jyj-sfc"]
    assert (now_.resolved, now_.resolved_in_time, now_.open_overdue, now_.resolution) == (1, 0, 0, 0.0), now_


async def test_an_in_time_resolution_stays_in_its_month_when_a_later_rating_reopens_it(dialog):
    """The same with a 办结 in time: November's 解决率 100%（1）. The parent's 不满意 in December clears resolved_at,
    and no miss keeps an in-time 办结, so today November reads 解决率 — (nothing to count)."""
    d = dialog
    number = await file_ticket(d, "o_t17_r2", FEE.format(n=700), scene="school:jn-syxx", consent="1")
    await talk(d, FEES, f"签收 {number}", expect="签收")
    await talk(d, FEES, f"办结 {number} 已责成学校退还资料费并开具收据", expect="已办结")
    was = (await _month(d, ["jyj-sfc"], NOV))["jyj-sfc"]
    assert (was.resolved, was.resolved_in_time, was.resolution) == (1, 1, 1.0), was
    d.advance(at("2026-12-02 10:00") - d.clock.now())
    await talk(d, "o_t17_r2", f"评价 {number} 3 收据还是没给", expect="重新办理")
    now_ = (await _month(d, ["jyj-sfc"], NOV))["jyj-sfc"]
    assert (now_.resolved, now_.resolved_in_time, now_.resolution) == (1, 1, 1.0), now_


async def test_a_months_rating_stays_when_the_redo_is_rated_in_a_later_month(dialog):
    """The parent rated the November answer 不满意: November's 满意率 0%（1）. The office redid it; in December the
    parent rated the redo 满意. November is over: its 满意率 should read 0%（1） still (December's 100%（1）). Today
    满意率 counts the ticket's rating columns, which the December rating overwrote: November reads —."""
    d = dialog
    number = await file_ticket(d, "o_t17_s1", FEE.format(n=800), scene="school:jn-syxx", consent="1")
    await talk(d, FEES, f"签收 {number}", expect="签收")
    await talk(d, FEES, f"办结 {number} 已责成学校开具收据", expect="已办结")
    await talk(d, "o_t17_s1", f"评价 {number} 3 收据还是没给", expect="重新办理")
    was = (await _month(d, ["jyj-sfc"], NOV))["jyj-sfc"]
    assert (was.rated, was.satisfied, was.satisfaction) == (1, 0, 0.0), was
    d.advance(at("2026-12-02 10:00") - d.clock.now())
    await talk(d, FEES, f"办结 {number} 收据已补开", expect="已办结")
    await talk(d, "o_t17_s1", f"评价 {number} 1", expect="感谢")
    assert (await d.db(tickets.get, number))["state"] == "closed"
    now_ = (await _month(d, ["jyj-sfc"], NOV))["jyj-sfc"]
    assert (now_.rated, now_.satisfied, now_.satisfaction) == (1, 0, 0.0), now_
