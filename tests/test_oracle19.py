"""oracle19: a month's 派发 no longer moves while a 签收 window is open across the month's end. A ticket sent to
收费管理处 on 30 November, its window running into 1 December, counted in November's 派发 when November closed;
on 1 December, still inside the window, the office 退回ed it, lost its only handler (the duty office stood in), or
a leader signed it for the office (代收): each took the case out of November's 派发 (the rates oracle's
test_a_closed_period_reads_the_same_later found all three). Now a case that had been its unit's at a day's end
is kept there when it ends (storage.tickets.record_case), in 派发 alone: it never came due with that unit."""
from __future__ import annotations

import pytest

from handlers import rates
from storage import staff, tickets
from tests.dialog import DUTY, FEES, LEADER, at, file_ticket, talk
from tests.rates_check import period_rates, verify_rates

NOV, DEC = (at("2026-11-01 00:00"), at("2026-12-01 00:00")), (at("2026-12-01 00:00"), at("2027-01-01 00:00"))
UNITS = ["jyj-sfc", "jyj-bgs", "jyj"]


def _response(r: rates.Rates | None) -> tuple:
    r = r or rates.Rates()
    return r.dispatched, r.response_due, r.accepted_in_time, r.proxied, r.stood_in


async def _sent_on_the_last_day(d, openid: str) -> str:
    d.advance(at("2026-11-30 16:00") - d.clock.now())
    number = await file_ticket(d, openid, "学校要求每个学生交300元资料费，还不给收据", scene="school:jn-syxx",
                               consent="1")
    t = await d.db(tickets.get, number)
    assert t["unit_code"] == "jyj-sfc" and t["accept_due_at"] > at("2026-12-01 10:00"), t  # open across the end
    return number


async def _bounce(d, number):
    await talk(d, FEES, f"退回 {number} 不属于本处职责", expect="退回")


async def _handler_leaves(d, number):
    from bot.app import DISPATCHER
    await d.db(lambda db: d.app[DISPATCHER].desk.remove_staff(db, FEES, staff.CONSOLE))
    assert (await d.db(tickets.get, number))["response_unit"] == "代收:jyj-bgs"


async def _leader_signs(d, number):
    await talk(d, LEADER, f"签收 {number}", expect="签收")
    assert (await d.db(tickets.get, number))["response_unit"] == "代收:jyj"


@pytest.mark.parametrize("move", [_bounce, _handler_leaves, _leader_signs], ids=["bounce", "leaves", "leader"])
async def test_a_month_over_keeps_the_dispatch_of_a_window_open_across_its_end(dialog, tmp_path, capsys, move):
    d = dialog
    number = await _sent_on_the_last_day(d, f"o_o19_{move.__name__}")
    d.advance(at("2026-12-01 00:00") - d.clock.now())
    closed = await period_rates(d, UNITS, NOV)
    assert _response(closed.get("jyj-sfc")) == (1, 0, 0, 0, 0), closed  # its window still open: not due yet
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    await move(d, number)
    d.advance(at("2026-12-09 10:00") - d.clock.now())
    await d.sweep()
    later = await period_rates(d, UNITS, NOV)
    assert {u: _response(later.get(u)) for u in UNITS} == {u: _response(closed.get(u)) for u in UNITS}, later
    # the case it moved to is December's, where it began
    dec = await period_rates(d, UNITS, DEC)
    assert _response(dec.get("jyj-sfc"))[0] == 0, dec
    assert sum(r.dispatched + r.proxied for r in dec.values()) == 1, dec
    for month in ("2026-11", "2026-12"):
        verify_rates(tmp_path, capsys, month)


async def test_a_case_passed_on_the_day_it_began_is_in_no_dispatch_of_the_unit(dialog, tmp_path, capsys):
    """Unchanged: 退回ed unsigned inside its window on the day it came, no period over counted it with the office:
    the office has no case (a misrouted ticket passed on at once is not its work)."""
    d = dialog
    number = await file_ticket(d, "o_o19_same", "学校要求每个学生交300元资料费，还不给收据", scene="school:jn-syxx",
                               consent="1")
    d.advance(3600)
    await _bounce(d, number)
    d.advance(at("2026-12-02 10:00") - d.clock.now())
    got = await period_rates(d, ["jyj-sfc", "jyj-bgs"], NOV)
    assert _response(got.get("jyj-sfc")) == (0, 0, 0, 0, 0) and _response(got.get("jyj-bgs"))[0] == 1, got
    verify_rates(tmp_path, capsys, "2026-11")
