"""audit14: a complaint about the bureau itself always has someone who may act on it, and never reaches an office
it may accuse, at every step: routing, 转派, 退回, the second 不满意, escalation and unbinding (Desk.holders, the
one rule behind Desk.barred). And every hand-over gives a unit that gets a ticket back the deadline it had
(Desk.handover). The demo has a 督查室 (routing.oversight_office = jyj-dcs) with someone bound there."""
from __future__ import annotations

from bot.demo import DEMO_OVERSIGHT
from storage import staff, tickets
from tests.dialog import (DISTRICT, DISTRICT_HEAD, DUTY, LEADER, SCHOOL, SCHOOL_HEAD, at, drain, file_ticket, heard,
                          quiet, send, talk)
from tests.rates_check import verify_rates
from tests.test_people6_dialogs import finish
from tests.test_admin import post
from tests.test_web import browser, sign_in

INSPECTOR = "o_demo_staff_dcs"  # the demo's 督查室, supervisor
ADMIN = "o_a14_admin"           # an admin bound at the bureau's own unit in the tests that need one


async def _unbind(d, *openids: str) -> None:
    """Unbind as `tingjian staff remove` does (Desk.remove_staff), what it queues delivered and forgotten."""
    from bot.app import DISPATCHER
    desk = d.app[DISPATCHER].desk

    def remove(db):
        from storage import outbox
        for o in openids:
            ok, pushes = desk.remove_staff(db, o, staff.CONSOLE)
            assert ok, o
            outbox.enqueue_replies(db, [r.to_dict() for r in pushes], "", d.clock.now(), source="test")
    await d.db(remove)


async def _bind(d, openid: str, unit: str, role: str, name: str) -> None:
    await send(d, openid, type="subscribe")  # a follower, as the sandbox delivers only to followers
    await d.db(staff.bind, openid, unit, role, name, d.clock.now())


async def _complain(d, who: str, expect: str | None = None) -> str:
    """A complaint about the duty office (it names 值班室): never the duty office's."""
    await talk(d, who, "我要投诉你们", expect=expect)
    reply = await talk(d, who, "你们办公室值班室的刘主任接电话态度很差，问了两句就挂我电话")
    number, _ = await finish(d, who, reply)
    return number


def _overdue(d, due: float) -> None:
    d.advance(due + 3 * 86400 - d.clock.now())  # past the deadline and the escalation day after it


# -- the demo shows it ----------------------------------------------------------------------------------------------
async def test_the_demo_sends_a_complaint_about_the_bureau_to_its_oversight_office(dialog):
    d = dialog
    await drain(d, DUTY, INSPECTOR, LEADER)
    number = await _complain(d, "o_a14_c0", expect="由市教育局督查室办理")
    filed = await d.db(tickets.get, number)
    assert filed["unit_code"] == DEMO_OVERSIGHT and not filed["unattended"], filed
    await heard(d, INSPECTOR, expect=[number, "挂我电话"])
    await quiet(d, DUTY)


# -- routing ----------------------------------------------------------------------------------------------------
async def test_with_no_leader_and_nobody_at_the_oversight_office_the_admin_is_told_never_the_duty_office(dialog):
    """Before: the leaders' unit with nobody bound fell to the duty office's 代收: it was pushed the complaint
    about itself (and could not act on it, so nobody could). Now the admins are told, may act, and the admin
    page says so; once someone binds at the oversight office it goes there."""
    d = dialog
    await _bind(d, ADMIN, "jyj", "admin", "市教育局·系统管理员")
    await _unbind(d, LEADER, INSPECTOR)
    await drain(d, DUTY, ADMIN)
    number = await _complain(d, "o_a14_c1", expect="由市教育局领导办理")
    filed = await d.db(tickets.get, number)
    assert filed["unit_code"] == "jyj" and not filed["unattended"], filed
    await quiet(d, DUTY)
    await talk(d, DUTY, f"详情 {number}", absent="挂我电话")
    await heard(d, ADMIN, expect=["请管理员处理", number, "挂我电话"])
    await talk(d, ADMIN, f"详情 {number}", expect="挂我电话")  # the admin may act on it
    async with browser(d) as s:
        await sign_in(d, s, ADMIN)
        page = await (await s.get("/w/admin")).text()
    assert "有1件对教育局自身工作的投诉暂无人办理" in page, page
    # someone binds at the oversight office (绑定 with an invite): it is theirs now, told; the warning is gone
    code = await d.db(staff.create_invite, DEMO_OVERSIGHT, "handler", "局督查室·王老师", d.clock.now(), 86400)
    await send(d, "o_a14_dcs2", type="subscribe")
    await talk(d, "o_a14_dcs2", f"绑定 {code}", expect="绑定")
    moved = await d.db(tickets.get, number)
    assert moved["unit_code"] == DEMO_OVERSIGHT and not moved["unattended"], moved
    await heard(d, "o_a14_dcs2", expect=[number, "挂我电话"])
    await quiet(d, DUTY)
    async with browser(d) as s:
        await sign_in(d, s, ADMIN)
        page = await (await s.get("/w/admin")).text()
    assert "暂无人办理" not in page


# -- 转派 ----------------------------------------------------------------------------------------------------------
async def test_a_transfer_to_an_oversight_office_with_nobody_bound_is_refused(dialog):
    """Before: allowed, and the duty office stood in (代收) for the empty oversight office: it read the complaint
    about itself. Now refused by the one rule (Desk.barred), nothing changed."""
    d = dialog
    await _unbind(d, INSPECTOR)
    await drain(d, DUTY, LEADER)
    number = await _complain(d, "o_a14_c2", expect="由市教育局领导办理")
    await heard(d, LEADER, expect=number)
    await talk(d, LEADER, f"转派 {number} 督查室", expect=["没有绑定工作人员", "不能转派"])
    after = await d.db(tickets.get, number)
    assert after["unit_code"] == "jyj" and not after["unattended"], after
    await quiet(d, DUTY)


# -- 退回 ----------------------------------------------------------------------------------------------------------
async def test_the_oversight_office_cannot_bounce_it_to_nobody(dialog):
    """With no leader bound, a 退回 by the oversight office sent it to the leaders' unit, where nobody was bound
    (its notice went to nobody). Now refused with what to do; with a leader bound it goes to them."""
    d = dialog
    await _unbind(d, LEADER)
    await drain(d, DUTY, INSPECTOR)
    number = await _complain(d, "o_a14_c3")
    await heard(d, INSPECTOR, expect=number)
    await talk(d, INSPECTOR, f"退回 {number} 请局领导另行安排", expect=["暂不能退回", "请继续办理"])
    kept = await d.db(tickets.get, number)
    assert kept["unit_code"] == DEMO_OVERSIGHT and kept["state"] == "assigned" and kept["bounces"] == 0, kept
    await _bind(d, LEADER, "jyj", "leader", "市教育局·周局长")
    await drain(d, LEADER)
    await talk(d, INSPECTOR, f"退回 {number} 请局领导另行安排", expect="退回")
    assert (await d.db(tickets.get, number))["unit_code"] == "jyj"
    await heard(d, LEADER, expect=number)
    await quiet(d, DUTY)


# -- the second 不满意 --------------------------------------------------------------------------------------------
async def test_a_second_dissatisfied_rating_with_no_leader_stays_with_the_oversight_office(dialog):
    """Before: the review went to the leaders' unit with no leader bound, told to nobody. Now it stays with the
    oversight office, the only one who may act on it, and its people are told."""
    d = dialog
    await _unbind(d, LEADER)
    citizen = "o_a14_c4"
    number = await _complain(d, citizen)
    await talk(d, INSPECTOR, f"办结 {number} 已核实，已对值班人员批评教育", expect="已办结")
    await talk(d, citizen, f"评价 {number} 3 没有人联系我", expect="重新办理")
    await talk(d, INSPECTOR, f"办结 {number} 已再次核实并当面致歉", expect="已办结")
    await drain(d, DUTY, INSPECTOR)
    await talk(d, citizen, f"评价 {number} 3 还是不满意")
    review = await d.db(tickets.get, number)
    assert review["unit_code"] == DEMO_OVERSIGHT and review["review"] == 1, review
    await heard(d, INSPECTOR, expect=number)
    await quiet(d, DUTY)


# -- escalation ---------------------------------------------------------------------------------------------------
async def test_escalation_with_no_leader_reaches_someone_who_may_act_never_the_duty_office(dialog):
    """Before: 超期督办 of a complaint about the bureau with no leader bound went to the leaders' unit's staff:
    nobody. Now to the oversight office's (the only ones who may act on it), never the duty office."""
    d = dialog
    await _unbind(d, LEADER)
    number = await _complain(d, "o_a14_c5")
    _overdue(d, (await d.db(tickets.get, number))["due_at"])
    await drain(d, DUTY, INSPECTOR)
    await d.sweep()
    from bot.app import DB
    from handlers import deadlines
    await d.app[DB].run(lambda db: deadlines.gather(db, d.clock.now()))
    await heard(d, INSPECTOR, expect=["超期督办", number])
    await quiet(d, DUTY)


# -- unbinding ------------------------------------------------------------------------------------------------------
async def test_unbinding_hands_it_to_whoever_may_act_never_the_duty_office(dialog):
    """The last leader leaves while the leaders hold a complaint about the bureau: before, it stayed at the
    leaders' unit and the duty office was told of it (代收 notice to the office it may accuse). Now it goes to the
    oversight office, told; and when the oversight office's last person leaves too, the admins are told."""
    d = dialog
    await _bind(d, ADMIN, "jyj", "admin", "市教育局·系统管理员")
    citizen = "o_a14_c6"
    await talk(d, citizen, "我要投诉你们")
    # a complaint naming the oversight office itself goes to the leaders
    reply = await talk(d, citizen, "我上个月向你们督查室反映的问题，到现在都没有人联系我，督查室的电话也打不通")
    about_oversight, _ = await finish(d, citizen, reply)
    number = await _complain(d, "o_a14_c7")
    await talk(d, LEADER, f"转派 {number} 市教育局 请局领导直接督办", expect="已将")
    assert (await d.db(tickets.get, number))["unit_code"] == "jyj"
    await drain(d, DUTY, INSPECTOR, ADMIN)
    async with browser(d) as s:  # the admin unbinds the leader on the workbench
        await sign_in(d, s, ADMIN)
        await post(s, "/w/units/jyj#staff", do="remove", openid=LEADER)
    moved = await d.db(tickets.get, number)
    assert moved["unit_code"] == DEMO_OVERSIGHT and not moved["unattended"], moved
    await heard(d, INSPECTOR, expect=number)
    # the one naming the oversight office may not go there: it stays, and the admins are told
    assert (await d.db(tickets.get, about_oversight))["unit_code"] == "jyj"
    await heard(d, ADMIN, expect=[about_oversight, "请管理员处理"], absent=number)
    await quiet(d, DUTY)
    await drain(d, ADMIN)
    async with browser(d) as s:
        await sign_in(d, s, ADMIN)
        await post(s, f"/w/units/{DEMO_OVERSIGHT}#staff", do="remove", openid=INSPECTOR)
    back = await d.db(tickets.get, number)
    assert back["unit_code"] == "jyj" and not back["unattended"], back
    await heard(d, ADMIN, expect=[number, "请管理员处理"])
    await quiet(d, DUTY)
    await talk(d, DUTY, f"详情 {number}", absent="挂我电话")


# -- hand-overs and deadlines -----------------------------------------------------------------------------------------
async def test_a_schools_ticket_moved_to_the_bureau_gives_the_district_back_its_own_deadline(dialog):
    """The district held a ticket, 转派ed it to the school (a fresh clock there) and its own deadline passed; the
    parent then added words about a teacher's conduct and the ticket went back to the district
    (Desk._to_bureau). Before: with the school's fresh deadline, the district's lateness hidden. Now the one
    hand-over rule (Desk.handover, storage.tickets.deadline_held): the deadline it had, still passed."""
    d = dialog
    number = await file_ticket(d, "o_a14_p1", "江南区实验小学乱收资料费300元不给收据", scene="school:jn-syxx",
                               consent="1")
    await talk(d, LEADER, f"转派 {number} 江南区教育局 请区局核实", expect="已将")
    await talk(d, DISTRICT, f"签收 {number}", expect="签收")
    due = (await d.db(tickets.get, number))["due_at"]
    d.advance(due - 3600 - d.clock.now())
    await talk(d, DISTRICT_HEAD, f"转派 {number} 江南区实验小学 请学校先核实", expect="已将")
    assert (await d.db(tickets.get, number))["due_at"] > due  # the school's own, new clock
    d.advance(2 * 3600)  # the district's deadline has passed
    await drain(d, SCHOOL, SCHOOL_HEAD, DISTRICT)
    await talk(d, "o_a14_p1", f"回复 {number} 不交资料费，班主任就打孩子手心，还骂他笨", expect="已将您的回复")
    back = await d.db(tickets.get, number)
    assert back["unit_code"] == "jn-jyj" and back["due_at"] == due, (back, due)
    await heard(d, DISTRICT, expect=number)
    await talk(d, DISTRICT_HEAD, "超期", expect=number)


async def test_a_ticket_given_back_counts_its_dispatch_once_in_the_period_it_was_dispatched_to_the_unit(
        dialog, tmp_path, capsys):
    """收费管理处 let a November ticket's 签收 window lapse; it went to 江南区教育局 on 1 December (the lapse noted
    against the office then), on to 江南区实验小学 in January, and back to the office. Before: the ticket kept the
    school's January 派发, so the office counted the one lapse twice (December's departure, January's 派发).
    Now the office gets back its own November 派发 with its lapsed window: one late 签收, in November."""
    from handlers import rates
    d = dialog
    number = await file_ticket(d, "o_a14_p2", "江南区实验小学乱收资料费300元不给收据", scene="school:jn-syxx",
                               consent="1")
    sent = await d.db(tickets.get, number)
    assert sent["unit_code"] == "jyj-sfc", sent
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    await talk(d, LEADER, f"转派 {number} 江南区教育局 请区局核处", expect="已将")
    d.advance(at("2027-01-05 10:00") - d.clock.now())
    await talk(d, DISTRICT_HEAD, f"转派 {number} 江南区实验小学 请学校核实", expect="已将")
    d.advance(3600)
    await talk(d, LEADER, f"转派 {number} 市教育局教育收费管理处 仍由收费处办理", expect="已将")
    back = await d.db(tickets.get, number)
    assert back["dispatched_at"] == sent["dispatched_at"] and back["accept_due_at"] == sent["accept_due_at"], back
    now = d.clock.now()
    months = [at("2026-11-01 00:00"), at("2026-12-01 00:00"), at("2027-01-01 00:00"), at("2027-02-01 00:00")]
    from bot.app import DB
    got = await d.app[DB].read(lambda c: rates.for_periods(c, months, ["jyj-sfc"], now))
    late = [(r["jyj-sfc"].response_due - r["jyj-sfc"].accepted_in_time) if "jyj-sfc" in r else 0 for r in got]
    assert late == [1, 0, 0], [r.get("jyj-sfc") for r in got]
    for (start, end), r in zip(zip(months, months[1:]), got):  # ticket by ticket, the same figures
        traced = await d.app[DB].read(lambda c: rates.traced(c, start, end, "jyj-sfc", now))
        assert rates.total(traced) == r.get("jyj-sfc", rates.Rates()), (start, traced, r)
    for month in ("2026-11", "2026-12", "2027-01"):  # the counters and the events agree with the tickets
        verify_rates(tmp_path, capsys, month)
