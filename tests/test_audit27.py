"""The twenty-seventh trust audit: who may act on a ticket is one rule (Desk.in_scope), also for whom the citizen's
words reach and whether they are told nobody is on duty; personal numbers (phones, ID cards) masked for staff by
one rule; what verify-rates sees behind dropped triggers; the citizen told again when their ticket waits again;
closed survey figures that a lowered cap must not move; and an auditor's attempts to act without the right."""
from __future__ import annotations

import pytest

from bot.app import DISPATCHER
from storage import staff, tickets
from tests.dialog import DISTRICT_HEAD, file_ticket, talk
from tests.test_audit19 import console

PARENT = "o_parent_audit27"
BURDEN = "孩子每天作业写到晚上十一点，作业太多了"
OTHERS = ("o_demo_staff_sfc", "o_demo_staff_xqc", "o_demo_staff_pxc", "o_demo_staff_bgs", "o_demo_staff_dcs",
          "o_demo_staff_jn", "o_demo_staff_syxx", "o_demo_head_syxx", "o_demo_staff_wcxx", "o_demo_leader")


# -- 1. an acceptor bound above the unit acts on the ticket, and is the one the citizen is heard by --------------
async def test_a_district_supervisor_who_signed_a_schools_ticket_is_on_duty_for_it(dialog):
    """handlers_of took the acceptor only when bound at the ticket's unit (or the duty office): a district
    supervisor who 签收ed a school's ticket -- allowed, it is in their 待办 and in_scope -- was passed over, so
    with the school's people, the duty office, the leaders and admins gone the citizen was told nobody was on duty
    (no deadline) while that supervisor acted on it, and their words reached nobody."""
    d = dialog
    number = await file_ticket(d, PARENT, BURDEN, scene="school:jn-syxx", consent="1")
    assert (await d.db(tickets.get, number))["unit_code"] == "jn-syxx"
    await talk(d, DISTRICT_HEAD, f"签收 {number}", expect="已签收")
    for person in OTHERS:
        await console(d, lambda db, desk, o=person: desk.remove_staff(db, o, by=staff.CONSOLE))
    desk = d.app[DISPATCHER].desk
    t = await d.db(tickets.get, number)
    assert t["accepted_by"] == DISTRICT_HEAD
    assert await d.db(lambda db: desk.handlers_of(db, t)) == [DISTRICT_HEAD]
    assert not await d.db(lambda db: desk.nobody_on_duty(db, t))
    await talk(d, PARENT, "查询", expect=[number, "前办结"], absent="值守")
    # the same supervisor made a handler of the district: no longer above the school, they may not act on it,
    # and it is no longer theirs (one rule for both)
    await console(d, lambda db, desk: desk.change_role(db, DISTRICT_HEAD, "handler", staff.CONSOLE))
    t = await d.db(tickets.get, number)
    assert t["accepted_by"] is None
    assert await d.db(lambda db: desk.handlers_of(db, t)) == []
    await talk(d, PARENT, "查询", expect=[number, "值守"], absent="前办结")
