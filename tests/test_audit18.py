"""The eighteenth trust audit: who may act on a ticket after people move. An invite redeemed in one's own unit
in another role, a role that no longer reaches what one had 签收ed, a bureau with no leader bound, tickets left
with nobody while nobody could stand in; and a random sequence of such moves, 转派 and 退回 that checks, after each,
that every open ticket has someone bound who may act on it (or 代收 holds it) and that whoever hears the citizen
may act."""
from __future__ import annotations

import random

import pytest

from bot.app import DISPATCHER
from handlers import privacy
from handlers.vocabulary import STAFF_ROLES
from storage import outbox, staff, tickets, users
from tests.cheap_invites import cheap_invites
from tests.dialog import DISTRICT_HEAD, DUTY, FEES, LEADER, file_ticket, heard, talk

PARENT = "o_parent_audit18"


@pytest.fixture(autouse=True)
def _cheap_invites():
    """The moves bind people by the dozen: who may act is checked here, not how a code is hashed."""
    with cheap_invites():
        yield

PEOPLE = {  # the demo's staff (bot/demo/staff.csv) the sequences move about
    "o_demo_staff_sfc": "jyj-sfc", "o_demo_staff_bgs": "jyj-bgs", "o_demo_staff_jn": "jn-jyj",
    "o_demo_head_jn": "jn-jyj", "o_demo_staff_syxx": "jn-syxx", "o_demo_head_syxx": "jn-syxx",
    "o_demo_staff_dcs": "jyj-dcs", "o_demo_leader": "jyj"}
UNITS = ["jyj-sfc", "jyj-bgs", "jn-jyj", "jn-syxx", "jyj-xqc", "jyj-dcs"]


def nobody_may_act(db, desk) -> list[str]:
    """The open tickets that break the rule "someone bound may act on it, or 代收 holds it", each with why."""
    out = []
    staff_rows = [users.get(db, o) for o in users_all(db)]
    staff_rows = [u for u in staff_rows if u and u.get("role") in STAFF_ROLES]
    stand_in = desk.recipients(db, "no-such-unit")[0]  # who would stand in (代收) for a unit with nobody
    for t in db.query(f"SELECT number FROM tickets WHERE {tickets._OPEN_SQL}"):
        t = tickets.get(db, t["number"])
        if privacy.about_bureau(t):
            continue
        own = desk.own_people(db, t["unit_code"])
        if t["unattended"] and own:
            out.append(f"{t['number']} 代收 while {t['unit_code']} has {own}")
        if not own and not t["unattended"] and stand_in:  # the duty office too (audit19)
            out.append(f"{t['number']} at {t['unit_code']}: nobody bound, not 代收")
        hear = desk.handlers_of(db, t)
        if not hear and (staff.leaders(db) or staff.of_role(db, "admin")):  # with nobody wide bound, nobody can
            out.append(f"{t['number']} at {t['unit_code']}: nobody hears the citizen")
        for o in hear:
            u = users.get(db, o) or {}
            if u.get("role") not in STAFF_ROLES or not desk.in_scope(db, u, t):
                out.append(f"{t['number']} at {t['unit_code']}: {o} hears the citizen but may not act")
    if out:
        out.append("bound: " + ", ".join(f"{u['openid']}@{u['unit_code']}:{u['role']}" for u in staff_rows))
    return out


def users_all(db) -> list[str]:
    return [r[0] for r in db.execute("SELECT openid FROM users WHERE role != 'citizen'")]




def step(db, desk, rng: random.Random, numbers: list[str], now: float) -> str:
    """One random move of people or tickets, as the CLI, the 人员 page and WeChat commands make them."""
    o = rng.choice(list(PEOPLE))
    move = rng.choice(["role", "remove", "bind", "bind", "transfer", "transfer", "bounce", "accept", "resolve"])
    if move == "role":
        role = rng.choice(["handler", "supervisor", "leader", "admin"])
        try:
            desk.change_role(db, o, role, staff.CONSOLE)
        except ValueError:
            return f"role {o} {role}: not staff, or the last admin"
        return f"role {o} {role}"
    if move == "remove":
        try:
            desk.remove_staff(db, o, staff.CONSOLE)
        except staff.StaffChangeRefused:  # the last admin stays (audit19)
            return f"remove {o}: the last admin"
        return f"remove {o}"
    if move == "bind":
        unit, role = rng.choice(UNITS), rng.choice(["handler", "supervisor", "handler", "leader", "admin"])
        code = staff.create_invite(db, unit, role, o[-6:], now, 3600)
        desk.bind(db, o, code)
        return f"bind {o} {unit} {role}"
    number = rng.choice(numbers)
    ticket = tickets.get(db, number)
    user = users.get(db, o) or {"openid": o, "role": "citizen"}
    if move == "transfer":
        unit = rng.choice(UNITS)
        desk.transfer(db, user, ticket, unit, "不属于本单位")
        return f"transfer {o} {number} {unit}"
    if move == "bounce":
        desk.bounce(db, user, ticket, "不属于本单位职责")
        return f"bounce {o} {number}"
    if move == "resolve":
        desk.resolve(db, user, ticket, "已按规定处理完毕")
        return f"resolve {o} {number}"
    desk.accept(db, user, ticket)
    return f"accept {o} {number}"


@pytest.mark.asyncio
@pytest.mark.parametrize("seed", range(int(__import__("os").environ.get("SEEDS", 8))))
async def test_after_any_moves_every_open_ticket_has_someone_who_may_act(dialog, seed):
    """Random sequences of role changes, unbinds, (re)binds, 转派, 退回 and 签收: after each, every open ticket has
    someone bound at its unit who may act on it, or 代收 holds it, and whoever hears the citizen may act."""
    from tests.dialog import file_ticket
    d = dialog
    numbers = [await file_ticket(d, "o_parent_seq1", "实验小学收资料费300元不给收据", scene="school:jn-syxx"),
               await file_ticket(d, "o_parent_seq2", "实验小学王老师体罚学生，让孩子罚站一整天", scene="school:jn-syxx"),
               await file_ticket(d, "o_parent_seq3", "学校食堂的饭菜太差了，孩子天天吃不饱", scene="school:jn-syxx")]
    desk = d.app[DISPATCHER].desk
    rng = random.Random(seed)
    done: list[str] = []
    parents = {n: f"o_parent_seq{i + 1}" for i, n in enumerate(numbers)}
    for _ in range(60):
        d.advance(600)
        if rng.random() < 0.1:  # a parent not satisfied: the ticket comes back (a redo, or the bureau's review)
            number = rng.choice(numbers)
            await talk(d, parents[number], f"评价 {number} 3 还是没有解决")
            done.append(f"rate 3 {number}")
            continue
        said, broken = await d.db(lambda db: (s := step(db, desk, rng, numbers, d.clock.now()),
                                              nobody_may_act(db, desk))[0:2])
        done.append(said)
        assert not broken, "\n".join(done[-12:] + ["->"] + broken)


async def as_cli(d, call) -> None:
    """A staff change as `tingjian staff …` and the 人员 page make it: the Desk call, its notices queued."""
    desk = d.app[DISPATCHER].desk

    def run(db):
        notices = call(db, desk)
        notices = notices[1] if isinstance(notices, tuple) else notices
        outbox.enqueue_replies(db, [r.to_dict() for r in notices], "", d.clock.now(), source="test")
    await d.db(run)


async def invite(d, unit: str, role: str, name: str) -> str:
    return await d.db(lambda db: staff.create_invite(db, unit, role, name, d.clock.now(), 3600))


async def fees_ticket(d) -> str:
    number = await file_ticket(d, PARENT, "实验小学收资料费300元不给收据", scene="school:jn-syxx")
    assert (await d.db(tickets.get, number))["unit_code"] == "jyj-sfc"
    return number


@pytest.mark.asyncio
async def test_an_invite_to_ones_own_unit_in_another_role_hands_its_tickets_to_the_stand_in(dialog):
    """The fees office's one handler redeemed an invite to the same office as admin: binding changed the role but
    only a move to another unit ran the rule of leaving, so the office was left with nobody and its tickets not
    代收 -- the parent's 回复 went to the duty office, which was refused when it tried to act. Redeeming an
    invite in another role is a role change (Desk.change_role's rule)."""
    d = dialog
    number = await fees_ticket(d)
    code = await invite(d, "jyj-sfc", "admin", "收费管理处·李老师")
    await talk(d, FEES, f"绑定 {code}", expect="管理员")
    await heard(d, DUTY, expect=["请代收办理", number])
    await talk(d, PARENT, f"回复 {number} 孩子叫王小明，收据至今没有给")
    await heard(d, DUTY, expect=["群众回复", "王小明"])
    await talk(d, DUTY, f"签收 {number}", expect="已签收")


@pytest.mark.asyncio
async def test_what_one_signed_as_admin_goes_back_to_the_unit_when_the_role_no_longer_reaches_it(dialog):
    """The duty office's handler, made admin, 签收ed the fees office's ticket, then was made handler again: the
    ticket stayed theirs, and the parent's 回复 went to them alone (the acceptor, bound at the duty office), who
    may no longer act on it, while the fees office heard nothing. A role change now releases what the person
    may no longer act on, and the unit is told to take it up."""
    d = dialog
    number = await fees_ticket(d)
    # another admin: the last admin's role may not be taken away (audit19), and DUTY is made one here
    await d.db(staff.bind, "o_it_admin", "jyj", "admin", "信息中心·王工", d.clock.now())
    await as_cli(d, lambda db, desk: desk.change_role(db, DUTY, "admin", staff.CONSOLE))
    await talk(d, DUTY, f"签收 {number}", expect="已签收")
    await as_cli(d, lambda db, desk: desk.change_role(db, DUTY, "handler", staff.CONSOLE))
    await heard(d, FEES, expect=["请接手办理", number, "改任承办人"])
    assert (await d.db(tickets.get, number))["accepted_by"] is None
    await talk(d, PARENT, f"回复 {number} 孩子叫王小明，收据至今没有给")
    await heard(d, FEES, expect=["群众回复", "王小明"])
    await talk(d, FEES, f"签收 {number}", expect="已签收")


@pytest.mark.asyncio
async def test_with_no_leader_bound_the_admins_stand_in(dialog):
    """With the leader unbound and nobody at the duty office, a ticket for a unit with nobody was marked 代收 for
    nobody: Desk.recipients' last resort was the leaders alone, though an admin may act on any ticket."""
    d = dialog
    for person in (LEADER, DUTY, FEES):
        await as_cli(d, lambda db, desk, o=person: desk.remove_staff(db, o, staff.CONSOLE))
    await as_cli(d, lambda db, desk: desk.change_role(db, DISTRICT_HEAD, "admin", staff.CONSOLE))
    number = await fees_ticket(d)
    await heard(d, DISTRICT_HEAD, expect=[number, "代收"])
    await talk(d, PARENT, f"回复 {number} 孩子叫王小明，收据至今没有给")
    await heard(d, DISTRICT_HEAD, expect=["群众回复", "王小明"])
    await talk(d, DISTRICT_HEAD, f"签收 {number}", expect="已签收")


@pytest.mark.asyncio
async def test_tickets_left_with_nobody_while_nobody_could_stand_in_are_taken_when_someone_can(dialog):
    """The leader, the duty office and then the fees office's one handler unbound: nobody could stand in, so the
    fees ticket stayed at the empty office. When a new duty officer bound, they heard the parent (Desk.recipients
    names the duty office for a unit with nobody) but 签收 was refused: the ticket was not 代收. A stand-in bound
    again now takes such tickets (Desk.take_strays), and is told which."""
    d = dialog
    number = await fees_ticket(d)
    for person in (LEADER, DUTY, FEES):
        await as_cli(d, lambda db, desk, o=person: desk.remove_staff(db, o, staff.CONSOLE))
    assert not (await d.db(tickets.get, number))["unattended"]
    duty = "o_new_duty_officer"
    code = await invite(d, "jyj-bgs", "handler", "局值班室·王主任")
    await talk(d, duty, f"绑定 {code}", expect="绑定成功")
    await heard(d, duty, expect=["请代收办理", number, "收费管理处"])
    await talk(d, PARENT, f"回复 {number} 孩子叫王小明，收据至今没有给")
    await heard(d, duty, expect=["群众回复", "王小明"])
    await talk(d, duty, f"签收 {number}", expect="已签收")


@pytest.mark.asyncio
async def test_a_transfer_by_the_duty_office_tells_the_duty_officers_who_acted_and_never_the_mover(dialog):
    """audit17's rule (Desk.moved_away) for the duty office's own 转派, untested until now: a ticket the fees office
    退回ed to the duty office, and one it stands in for (代收), each sent on by one duty officer: the other, who had
    it, is told it left; the mover only gets the answer; the fees office, which left it before, hears nothing."""
    from tests.dialog import DISTRICT, drain, quiet
    d = dialog
    second = "o_second_duty_officer"
    code = await invite(d, "jyj-bgs", "handler", "局值班室·王主任")
    await talk(d, second, f"绑定 {code}", expect="绑定成功")
    bounced = await fees_ticket(d)
    await talk(d, FEES, f"退回 {bounced} 不属于本处职责，请转区教育局", expect="退回")
    await drain(d, FEES, DUTY, second, PARENT)
    await talk(d, second, f"转派 {bounced} 江南区教育局 属区局职责", expect="江南区教育局")
    await heard(d, DUTY, expect=[bounced, "江南区教育局", "无需再办"])
    await heard(d, DISTRICT, expect=bounced)
    await quiet(d, second)
    await quiet(d, FEES)
    held = await file_ticket(d, "o_parent_audit18b", "实验小学收资料费500元也不给收据", scene="school:jn-syxx")
    await as_cli(d, lambda db, desk: desk.remove_staff(db, FEES, staff.CONSOLE))
    assert (await d.db(tickets.get, held))["unattended"]
    await talk(d, DUTY, f"签收 {held}", expect="已签收")
    await drain(d, DUTY, second, DISTRICT)
    await talk(d, second, f"转派 {held} 江南区教育局 属区局职责", expect="江南区教育局")
    await heard(d, DUTY, expect=[held, "江南区教育局", "无需再办"])
    assert (await d.db(tickets.get, held))["unit_code"] == "jn-jyj"  # its notice there joins the last (merged)
    await quiet(d, second)


@pytest.mark.asyncio
async def test_a_complaint_about_a_schools_teacher_shows_nowhere_the_school_can_look(dialog):
    """The accused school's handler and head, signed in to the workbench, look for a 师德 complaint about their
    school everywhere a URL reaches: the lists with every filter (all states, the school, a search for its words),
    the exports, the dashboard, the school's traced rates, the notices, the ticket by its number, the leaders'
    pages; and the public page. None names it, its words or the parent's phone."""
    from urllib.parse import unquote

    from tests.dialog import SCHOOL, SCHOOL_HEAD
    from tests.test_web import browser, sign_in
    d = dialog
    number = await file_ticket(d, PARENT, "实验小学王老师体罚学生，让孩子在走廊罚站一整天", scene="school:jn-syxx",
                               phone="13812345678")
    ticket = await d.db(tickets.get, number)
    assert ticket["unit_code"] == "jn-jyj" and ticket["school_code"] == "jn-syxx"
    secret = [number, number.replace("-", ""), "体罚", "罚站", "5678", "1381"]
    pages = ["/w/", "/w/?state=all", "/w/?state=all&school=jn-syxx", "/w/?state=all&q=体罚",
             "/w/?state=all&q=%E7%BD%9A%E7%AB%99&sort=new", "/w/?state=all&category=ethics",
             "/w/export/tickets.csv?state=all", "/w/export/tickets.csv?state=all&q=体罚&school=jn-syxx",
             "/w/dashboard", "/w/dashboard?kind=month", "/w/dashboard?unit=jn-syxx", "/w/dashboard?unit=jn-jyj",
             "/w/rates/jn-syxx", "/w/rates/jn-syxx?period=2026-Q4", "/w/rates/jn-jyj", "/w/notices",
             f"/w/t/{number}", f"/w/t/{number.lower()}", "/w/audit", f"/w/audit?ticket={number}",
             "/w/export/rates.csv", "/w/admin", "/w/units/jn-jyj", "/w/review", "/w/staff", "/w/surveys",
             "/u/jn-syxx"]
    async with browser(d) as s:  # the district, which handles it, finds it by the same URLs
        await sign_in(d, s, DISTRICT_HEAD)
        for path in ("/w/?state=all&q=体罚", "/w/export/tickets.csv?state=all&school=jn-syxx"):
            async with s.get(path) as resp:
                assert number in await resp.text()
    for person in (SCHOOL, SCHOOL_HEAD):
        async with browser(d) as s:
            await sign_in(d, s, person)
            for path in pages:
                async with s.get(path, allow_redirects=False) as resp:
                    body = (await resp.read()).decode("utf-8", "replace")
                    assert resp.status in (200, 302, 404), (person, path, resp.status)
                    asked = unquote(path)  # the search box shows what was searched for
                    leaked = [w for w in secret if w in body and w not in asked]
                    assert not leaked, (person, path, leaked)
            async with s.get("/w/export/tickets.xlsx?state=all") as resp:
                import io
                import zipfile
                sheet = zipfile.ZipFile(io.BytesIO(await resp.read()))
                xml = "".join(sheet.read(n).decode() for n in sheet.namelist() if n.endswith(".xml"))
                assert not [w for w in secret if w in xml]


@pytest.mark.asyncio
async def test_one_ticket_acted_on_from_wechat_and_the_workbench_at_once_changes_once(dialog):
    """The handler presses 办结 in the workbench while typing 退回 in WeChat (and 签收 in both): every pair lands
    as one change and one refusal, never both, and the events say the same as the ticket."""
    import asyncio

    from tests.dialog import drain
    from tests.test_web import act, browser, csrf_of, sign_in
    d = dialog
    number = await fees_ticket(d)
    async with browser(d) as s:
        await sign_in(d, s, FEES)
        csrf = await csrf_of(s, f"/w/t/{number}")
        await asyncio.gather(talk(d, FEES, f"签收 {number}"), act(s, number, "accept", csrf=csrf))
        await drain(d, FEES, PARENT)
        await asyncio.gather(talk(d, FEES, f"退回 {number} 不属于本处职责"),
                             act(s, number, "resolve", csrf=csrf, text="资料费已责成学校退还"))
    ticket = await d.db(tickets.get, number)
    events = await d.db(lambda db: [e["action"] for e in tickets.events(db, ticket["id"])])
    assert events.count("accept") == 1, events
    assert (events.count("bounce"), events.count("resolve")) in ((1, 0), (0, 1)), events
    assert ticket["state"] == ("bounced" if "bounce" in events else "resolved")


@pytest.mark.asyncio
async def test_a_ticket_reopened_by_a_parent_goes_to_whoever_is_bound_at_its_unit_now(dialog):
    """代收 began and ended only for open tickets: a ticket 办结ed while its unit had nobody came back on a
    不满意 still 代收 though the unit had people again (the duty office still listed and counted it as its stand-in
    work); one 办结ed by its unit came back to a unit left with nobody, not 代收, and the duty office heard the
    parent with no right to act. A reopened ticket now follows who is bound, as an open one does."""
    d = dialog
    number = await fees_ticket(d)
    await talk(d, FEES, f"签收 {number}", expect="已签收")
    await talk(d, FEES, f"办结 {number} 资料费已责成学校退还", expect=number)
    await as_cli(d, lambda db, desk: desk.remove_staff(db, FEES, staff.CONSOLE))
    await talk(d, PARENT, f"评价 {number} 3 收据还是没有给")
    ticket = await d.db(tickets.get, number)
    assert ticket["state"] == "reopened" and ticket["unattended"]
    await heard(d, DUTY, expect=["群众不满意", number])
    await talk(d, DUTY, f"办结 {number} 已督促学校开具收据", expect=number, absent="不在您的办理范围")
    assert (await d.db(tickets.get, number))["state"] == "resolved"
    # filed while the office had nobody: 代收 by the duty office, 办结 by it, and the office's handler back
    parent = "o_parent_audit18c"
    held = await file_ticket(d, parent, "实验小学收资料费500元也不给收据", scene="school:jn-syxx")
    assert (await d.db(tickets.get, held))["unattended"]
    await talk(d, DUTY, f"签收 {held}", expect="已签收")
    await talk(d, DUTY, f"办结 {held} 已责成学校退还", expect=held)
    code = await invite(d, "jyj-sfc", "handler", "收费管理处·李老师")
    await talk(d, FEES, f"绑定 {code}", expect="绑定成功")
    await talk(d, parent, f"评价 {held} 3 还是没有退")
    ticket = await d.db(tickets.get, held)
    assert ticket["state"] == "reopened" and not ticket["unattended"]
    await heard(d, FEES, expect=["群众不满意", held])
    await talk(d, FEES, f"办结 {held} 资料费已退还", expect=held, absent="不在您的办理范围")
