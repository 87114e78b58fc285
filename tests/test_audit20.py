"""The twentieth trust audit: a ticket with nobody bound who may act on it (a fresh install, everyone gone) and its
citizen; the console's refusals kept in the audit log; who stands in named as it is; the last admin unfollowing."""
from __future__ import annotations

import pytest

from bot.app import DB
from handlers import rates
from storage import staff, tickets, users, websessions
from tests.dialog import DUTY, HANG_SECONDS, LEADER, SCHOOL, at, file_ticket, heard, quiet, send, settle, talk
from tests.test_admin import post
from tests.test_audit19 import ADMIN, audit_rows, bind_admin, console
from tests.test_web import browser, sign_in

PARENT = "o_parent_audit20"
DEMO_STAFF = ("o_demo_staff_sfc", "o_demo_staff_xqc", "o_demo_staff_pxc", "o_demo_staff_bgs", "o_demo_staff_dcs",
              "o_demo_staff_jn", "o_demo_head_jn", "o_demo_staff_syxx", "o_demo_head_syxx", "o_demo_staff_wcxx",
              "o_demo_leader")


async def nobody_bound(d) -> None:
    for person in DEMO_STAFF:
        await console(d, lambda db, desk, o=person: desk.remove_staff(db, o, by=staff.CONSOLE))
    assert not await d.db(staff.list_staff)


async def pushed_to(d, openid: str) -> list[str]:
    assert await settle(d, openid, timeout=HANG_SECONDS)
    async with d.session.get("/sandbox/messages", params={"openid": openid}) as resp:
        return [m.get("content") or str(m.get("data")) for m in (await resp.json())["messages"]]


async def days(d, n: int) -> None:
    """`n` days, the watch run each; what it sends delivered before the clock moves on (a push in flight across
    a day's jump met an expired access token and waited for a retry the fixed clock never reached)."""
    for _ in range(n):
        d.advance(86400)
        await d.sweep()
        assert await settle(d, PARENT, timeout=HANG_SECONDS)


# -- 1. nobody bound at all --------------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_with_nobody_bound_the_citizen_hears_once_and_the_first_leader_sees_what_waited(dialog):
    """Everyone gone: the watch warned and escalated to nobody, and the citizen, promised a deadline, heard
    nothing. Now the citizen is told once that the message is on record and will be handled as soon as staff are
    on duty (no deadline promised); the escalation is kept, and the first leader who binds is told of it in one
    notice, not sent the backlog of reminders; a second leader is not told again. The lapse stays the unit's:
    the rates count it late."""
    d = dialog
    number = await file_ticket(d, PARENT, "实验小学收资料费300元不给收据", scene="school:jn-syxx")
    unit = (await d.db(tickets.get, number))["unit_code"]
    before = len(await pushed_to(d, PARENT))
    await nobody_bound(d)  # told as the last leaves (audit28), then never again in this spell
    await days(d, 40)  # past the deadline and a working day more: every reminder's moment, none to anyone
    t = await d.db(tickets.get, number)
    assert "escalate" in await d.db(tickets.reminders, t["id"])
    said = (await pushed_to(d, PARENT))[before:]
    waiting = [s for s in said if "暂无工作人员值守" in s]
    assert len(waiting) == 1, said
    assert number in waiting[0] and "已记录" in waiting[0] and "前办结" not in waiting[0]

    code = await d.db(lambda db: staff.create_invite(db, "jyj", "leader", "市教育局·吴副局长", d.clock.now(), 3600))
    await talk(d, "o_first_leader", f"绑定 {code}", expect="绑定成功")
    told = await heard(d, "o_first_leader", expect=["【超期督办】", number, "无人值守"])
    assert told.count("【超期督办】") == 1
    await d.sweep()
    await quiet(d, "o_first_leader")  # the reminders already due are not sent again now someone hears
    code = await d.db(lambda db: staff.create_invite(db, "jyj", "leader", "市教育局·郑副局长", d.clock.now(), 3600))
    await talk(d, "o_second_leader", f"绑定 {code}", expect="绑定成功")
    await quiet(d, "o_second_leader")

    # the lapse is counted where the ticket was when it lapsed: the duty office's 代收 (shown late, scored nowhere)
    late = await rates_now(d)
    assert late[unit].stood_in == 1 and late["jyj-bgs"].proxied_late == 1 == late["jyj-bgs"].proxied_late_response


async def rates_now(d) -> dict:
    now = d.clock.now()
    return await d.app[DB].read(lambda c: rates.for_period(c, at("2026-11-01 00:00"), now, None, now))


@pytest.mark.asyncio
async def test_a_ticket_filed_on_a_fresh_install_waits_and_its_lapse_stays_the_units(dialog):
    """Nobody bound before the first ticket: the citizen is told once that it waits (at filing); the first leader takes it as
    代收 with what had lapsed still the unit's (the 签收 and 办结 windows it missed count late, not forgiven)."""
    d = dialog
    await nobody_bound(d)
    number = await file_ticket(d, PARENT, "实验小学收资料费300元不给收据", scene="school:jn-syxx")
    t = await d.db(tickets.get, number)
    assert not t["unattended"]  # nobody's 代收: it waits for the first who binds (it was the empty duty office's)
    unit = t["unit_code"]
    before = len(await pushed_to(d, PARENT))
    await days(d, 40)
    # told at filing (audit21: the filing reply promised no deadline), not again by the watch
    assert not [s for s in (await pushed_to(d, PARENT))[before:] if "暂无工作人员值守" in s]
    code = await d.db(lambda db: staff.create_invite(db, "jyj", "leader", "市教育局·吴副局长", d.clock.now(), 3600))
    await talk(d, "o_first_leader", f"绑定 {code}", expect="绑定成功")
    await heard(d, "o_first_leader", expect=["代收", "【超期督办】", number])
    t = await d.db(tickets.get, number)
    assert t["unattended"] and tickets.credit(t) == (unit, unit)
    late = await rates_now(d)
    assert late[unit].response == 0 and late[unit].resolution == 0 and late[unit].open_overdue == 1


@pytest.mark.asyncio
async def test_the_citizen_is_not_told_of_a_wait_while_someone_may_act(dialog):
    """The other side: with the unit's people bound the watch reminds them, and the citizen hears nothing of it."""
    d = dialog
    number = await file_ticket(d, PARENT, "实验小学收资料费300元不给收据", scene="school:jn-syxx")
    before = len(await pushed_to(d, PARENT))
    await days(d, 40)
    assert not [s for s in (await pushed_to(d, PARENT))[before:] if "暂无工作人员值守" in s]
    t = await d.db(tickets.get, number)
    assert "unheard" not in await d.db(tickets.reminders, t["id"])


# -- 2. the console's refusals -----------------------------------------------------------------------------------
def test_the_consoles_refusals_are_kept_in_the_audit_log(tmp_path, capsys):
    """`tingjian staff role|remove` on the last admin printed the refusal, but the transaction rolled back and
    the audit log kept nothing (the web's refusals are kept). Now both are there, and nothing changed."""
    import time

    from bot.cli import main
    from storage.db import Database
    from tests.test_cli import DEMO_DIRECTORY, write_cli_config
    config = write_cli_config(tmp_path / "c.toml", tmp_path / "s.db")
    assert main(["directory", "import", str(DEMO_DIRECTORY), "--config", str(config)]) == 0
    db = Database(tmp_path / "s.db").start()
    code = db.run_sync(lambda c: staff.create_invite(c, "jyj", "admin", "王工", time.time(), 3600))
    db.run_sync(staff.redeem, code, "o_admin", time.time())
    db.close()
    capsys.readouterr()
    assert main(["staff", "role", "o_admin", "leader", "--config", str(config)]) == 2
    assert main(["staff", "remove", "o_admin", "--config", str(config)]) == 2
    assert capsys.readouterr().err.count("last admin") == 2
    db = Database(tmp_path / "s.db").start()
    rows = db.run_sync(lambda c: websessions.audit_rows(c, limit=100))
    assert (db.run_sync(users.get, "o_admin"))["role"] == "admin"
    db.close()
    refused = [r for r in rows if r["action"] == "staff:refused"]
    assert len(refused) == 2 and all(r["actor"] == staff.CONSOLE and r["detail"].startswith("last_admin")
                                     for r in refused)
    assert {r["detail"].split(": ")[1].split()[0] for r in refused} == {"role", "remove"}


# -- 3. who stands in, named ------------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_the_pages_name_who_actually_stands_in(dialog):
    """The unbind message and the 单位 pages said 由值班室代收 whoever stood in; with the duty office empty it is
    the leaders, and they are named (one source: Desk.stand_in_words)."""
    d = dialog
    await console(d, lambda db, desk: desk.remove_staff(db, DUTY, by=staff.CONSOLE))
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        status, page = await post(s, "/w/units/jn-syxx#staff", do="remove", openid="o_demo_head_syxx")
        assert "已解除绑定，其未办结的留言已交回所在单位。" in page  # the handler is still there
        status, page = await post(s, "/w/units/jn-syxx#staff", do="remove", openid=SCHOOL)
        assert "所在单位已无人绑定，其未办结的留言由局领导代收" in page
        page = await (await s.get("/w/units/jn-syxx")).text()
        assert "新留言由局领导代收" in page and "由局办公室（值班室）代收" not in page
        page = await (await s.get("/w/units")).text()
        assert "留言由局领导代收" in page and "由值班室代收" not in page
    code = await d.db(lambda db: staff.create_invite(db, "jyj-bgs", "handler", "局值班室·王主任", d.clock.now(), 3600))
    await talk(d, "o_duty_again", f"绑定 {code}", expect="绑定成功")
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        page = await (await s.get("/w/units/jn-syxx")).text()
        assert "新留言由市教育局办公室（值班室）代收" in page


# -- 4. the last admin unfollows -------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_the_last_admin_unfollowing_is_unbound_and_the_leaders_are_told(dialog, caplog):
    """WeChat delivers nothing to a person who left the account, so their unbinding is a fact even for the last
    admin; it went unremarked. Now the leaders are told there is no admin and how one is added, the log warns,
    and the audit row says the last admin left."""
    d = dialog
    await bind_admin(d)
    with caplog.at_level("WARNING", logger="storage.staff"):
        await send(d, ADMIN, type="unsubscribe")
    assert (await d.db(users.get, ADMIN))["role"] == "citizen"
    await heard(d, LEADER, expect=["没有管理员", "tingjian staff invite --role admin"])
    assert any("last admin" in r.getMessage() for r in caplog.records)
    row = next(r for r in await audit_rows(d, ADMIN) if r["action"] == "staff:unfollow")
    assert row["detail"] == staff.LAST_ADMIN_LEFT


@pytest.mark.asyncio
async def test_an_admin_unfollowing_while_another_remains_tells_nobody(dialog):
    d = dialog
    await bind_admin(d)
    await bind_admin(d, "o_second_admin")
    await send(d, ADMIN, type="unsubscribe")
    await quiet(d, LEADER)
    row = next(r for r in await audit_rows(d, ADMIN) if r["action"] == "staff:unfollow")
    assert row["detail"] is None
