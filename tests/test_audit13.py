"""The thirteenth trust audit: a round trip must not change a unit's 解决率. A unit that gets back a ticket it held
before gets back the deadline it had there (not a fresh clock), and one ticket is at most one late case for one
unit in a period: the lateness recorded when it left (unit_misses) is not counted again beside the unit's own
count of the same ticket (resolved late, or open past its deadline)."""
from __future__ import annotations

from tests.rates_check import MONTH, period_rates as _rates, verify_rates as _verify
from tests.dialog import DISTRICT, DISTRICT_HEAD, DUTY, LEADER, SCHOOL, at, file_ticket, heard, talk

FEES_TEXT = "江南区实验小学乱收资料费300元不给收据"
HOMEWORK = "江南区实验小学作业太多，孩子每天写到十一点"


async def test_a_late_unit_gets_its_own_deadline_back_after_a_round_trip(dialog, tmp_path, capsys):
    """江南区教育局 let a ticket pass its deadline; its head 转派ed it to 江南区实验小学 and then back: the district got
    a fresh clock, resolved the ticket "in time", and its 解决率 read 50% (one in time, one left late) instead of
    0%; the ticket dropped off 超期. It comes back with the deadline it had, still overdue, and counts once."""
    from storage import tickets
    d = dialog
    number = await file_ticket(d, "o_parent_fees", FEES_TEXT, scene="school:jn-syxx", consent="1")
    await talk(d, LEADER, f"转派 {number} 江南区教育局 收费问题请区局核处", expect="已将")
    await talk(d, DISTRICT, f"签收 {number}", expect="签收")
    due = (await d.db(tickets.get, number))["due_at"]
    d.advance(due + 86400 - d.clock.now())                 # a day past the district's deadline
    await talk(d, DISTRICT_HEAD, f"转派 {number} 江南区实验小学 请学校先核实", expect="已将")
    assert (await d.db(tickets.get, number))["due_at"] > d.clock.now()  # the school's own, new clock
    d.advance(3600)
    date = dt_text(due)
    reply = await talk(d, DISTRICT_HEAD, f"转派 {number} 江南区教育局 仍由区局办理",
                       expect=["已将", date, "已超期"])
    assert "原办结时限" in reply, reply
    await heard(d, DISTRICT, expect=[number, date, "已超期"])
    assert (await d.db(tickets.get, number))["due_at"] == due
    await talk(d, DISTRICT_HEAD, "超期", expect=number)
    d.advance(60)  # (at the very second it came back its lateness is still its departure's: one case either way)
    got = await _rates(d, ["jn-jyj", "jn-syxx"])
    district = got["jn-jyj"]
    assert (district.resolved, district.open_overdue, district.left_late) == (0, 1, 0), district
    await talk(d, DISTRICT, f"办结 {number} 已责令学校退还资料费", expect="已办结")
    d.advance(60)
    got = await _rates(d, ["jn-jyj", "jn-syxx"])
    district, school = got["jn-jyj"], got.get("jn-syxx")
    assert (district.resolved, district.resolved_in_time, district.open_overdue) == (1, 0, 0), district
    assert district.resolution == 0.0
    assert school is None or (school.open_overdue, school.left_late, school.resolved) == (0, 0, 0), school
    _verify(tmp_path, capsys)


async def test_a_ticket_bounced_after_its_deadline_and_sent_back_is_one_late_case(dialog, tmp_path, capsys):
    """江南区实验小学 signed a ticket, let its deadline pass, 退回ed it; the duty office sent it back. The school's
    figures read resolved 1, in time 0, open past its deadline 1, left late 1: two late cases for one ticket.
    Now one, whether the school still holds it or has resolved it; the duty office, which held it an hour, none."""
    from storage import tickets
    d = dialog
    number = await file_ticket(d, "o_parent_homework", HOMEWORK, scene="school:jn-syxx", consent="1")
    await talk(d, SCHOOL, f"签收 {number}", expect="签收")
    due = (await d.db(tickets.get, number))["due_at"]
    d.advance(due + 2 * 3600 - d.clock.now())
    await talk(d, SCHOOL, f"退回 {number} 不属本校职责", expect="退回")
    d.advance(3600)
    await talk(d, DUTY, f"转派 {number} 江南区实验小学 作业问题属学校",
               expect=["已将", dt_text(due), "已超期"])
    await heard(d, SCHOOL, expect=[number, dt_text(due), "已超期"])
    got = await _rates(d, ["jn-syxx", "jyj-bgs"])
    school, duty = got["jn-syxx"], got.get("jyj-bgs")
    assert (school.resolved, school.open_overdue, school.left_late) == (0, 1, 0), school
    assert duty is None or (duty.open_overdue, duty.left_late) == (0, 0), duty
    d.advance(86400)
    await talk(d, SCHOOL, f"办结 {number} 已调整作业量", expect="已办结")
    d.advance(60)
    got = await _rates(d, ["jn-syxx", "jyj-bgs"])
    school, duty = got["jn-syxx"], got.get("jyj-bgs")
    assert (school.resolved, school.resolved_in_time, school.open_overdue, school.left_late) == (1, 0, 0, 0), school
    assert school.resolution == 0.0
    assert duty is None or (duty.open_overdue, duty.left_late) == (0, 0), duty
    _verify(tmp_path, capsys)


async def test_a_round_trip_across_months_is_one_late_case_in_each(dialog):
    """Left late in November, back and resolved in December: November counts the ticket once against the district
    (its late departure: at the month's end the school held it, so not open past the district's deadline then —
    trust15: November reads the same before and after the ticket came back), December once (resolved late)."""
    from bot.app import DB
    from handlers import rates
    from storage import tickets
    d = dialog
    number = await file_ticket(d, "o_parent_fees", FEES_TEXT, scene="school:jn-syxx", consent="1")
    await talk(d, LEADER, f"转派 {number} 江南区教育局 收费问题请区局核处", expect="已将")
    await talk(d, DISTRICT, f"签收 {number}", expect="签收")
    due = (await d.db(tickets.get, number))["due_at"]
    d.advance(at("2026-11-30 10:00") - d.clock.now())
    assert due < d.clock.now()
    await talk(d, DISTRICT_HEAD, f"转派 {number} 江南区实验小学 请学校先核实", expect="已将")
    d.advance(at("2026-12-02 10:00") - d.clock.now())
    await talk(d, DISTRICT_HEAD, f"转派 {number} 江南区教育局 仍由区局办理", expect="已将")
    await talk(d, DISTRICT, f"办结 {number} 已责令学校退还资料费", expect="已办结")
    d.advance(60)
    now = d.clock.now()
    nov = await d.app[DB].read(lambda c: rates.for_period(c, *MONTH, ["jn-jyj"], now))
    dec = await d.app[DB].read(lambda c: rates.for_period(c, MONTH[1], at("2027-01-01 00:00"), ["jn-jyj"], now))
    assert (nov["jn-jyj"].open_overdue, nov["jn-jyj"].left_late, nov["jn-jyj"].resolution) == (1, 1, 0.0), nov
    assert (dec["jn-jyj"].resolved, dec["jn-jyj"].resolved_in_time, dec["jn-jyj"].open_overdue) == (1, 0, 0), dec


def dt_text(due: float) -> str:
    """A deadline as the notices write it (WorkCalendar.date_text)."""
    import datetime as dt

    from tests.dialog import TZ
    d = dt.datetime.fromtimestamp(due, TZ)
    return f"{d.month}月{d.day}日"


async def test_a_unit_that_let_its_signing_window_lapse_gets_it_back_after_a_round_trip(dialog, tmp_path, capsys):
    """The same round trip on the 签收 side: 江南区教育局 left a ticket unsigned past its window, its head sent it to
    the school and back, and the district signed it in a fresh window: 响应率 50% (one in time, one left late)
    instead of 0%. It gets back the window it let lapse; signed now, the ticket is one late 签收."""
    from storage import tickets
    d = dialog
    number = await file_ticket(d, "o_parent_fees", FEES_TEXT, scene="school:jn-syxx", consent="1")
    await talk(d, LEADER, f"转派 {number} 江南区教育局 收费问题请区局核处", expect="已将")
    window = (await d.db(tickets.get, number))["accept_due_at"]
    d.advance(window + 3600 - d.clock.now())
    await talk(d, DISTRICT_HEAD, f"转派 {number} 江南区实验小学 请学校先核实", expect="已将")
    d.advance(3600)
    await talk(d, DISTRICT_HEAD, f"转派 {number} 江南区教育局 仍由区局办理", expect="已将")
    assert (await d.db(tickets.get, number))["accept_due_at"] == window
    await talk(d, DISTRICT, f"签收 {number}", expect="签收")
    d.advance(60)
    district = (await _rates(d, ["jn-jyj", "jn-syxx"]))["jn-jyj"]
    assert (district.response_due, district.accepted_in_time, district.left_late) == (1, 0, 0), district
    assert district.response == 0.0
    _verify(tmp_path, capsys)
