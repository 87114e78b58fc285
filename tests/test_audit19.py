"""The nineteenth trust audit: who may give whom which role (least privilege, one rule for the 人员 page, the
console and 绑定), every change of who is staff recorded where an auditor reads; the duty office's own tickets
when it has nobody; and 群众评议 answered many times, from many accounts, or replayed."""
from __future__ import annotations

import re

import pytest

from bot.app import DB, DISPATCHER
from handlers.messages import Inbound
from storage import staff, tickets, users, websessions
from tests.dialog import DUTY, FEES, LEADER, SCHOOL, file_ticket, heard, talk
from tests.test_admin import post
from tests.test_web import browser, sign_in

PARENT = "o_parent_audit19"
ADMIN = "o_admin_audit19"


async def audit_rows(d, actor: str | None = None) -> list[dict]:
    return await d.db(lambda db: websessions.audit_rows(db, actor=actor, limit=1000))


async def console(d, call):
    """A change as `tingjian staff …` makes it (Desk, by the console), its notices queued as the CLI does."""
    from storage import outbox
    desk = d.app[DISPATCHER].desk

    def run(db):
        out = call(db, desk)
        notices = out[1] if isinstance(out, tuple) else out
        outbox.enqueue_replies(db, [r.to_dict() for r in notices], "", d.clock.now(), source="test")
        return out
    return await d.db(run)


async def bind_admin(d, openid: str = ADMIN, unit: str = "jyj") -> None:
    code = await d.db(lambda db: staff.create_invite(db, unit, "admin", "市教育局·信息中心王工", d.clock.now(), 3600))
    await talk(d, openid, f"绑定 {code}", expect="管理员")


def role_of(d, openid: str):
    return d.db(lambda db: (users.get(db, openid) or {}).get("role"))


# -- 1. who may grant which role -------------------------------------------------------------------------------
@pytest.mark.asyncio
async def test_a_leader_may_neither_grant_admin_nor_touch_an_admin_on_the_people_pages(dialog):
    """Only an admin grants or takes away admin: a leader could make anyone (a school's handler) an admin on the
    人员 page, invite one, or unbind the admin. Each is refused with the reason, changes nothing, and the refusal is
    in the audit log; the page offers a leader no 管理员 to choose."""
    d = dialog
    await bind_admin(d)
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        status, page = await post(s, "/w/staff", do="role", openid=SCHOOL, role="admin")
        assert "只有管理员才能授予或取消管理员角色" in page
        status, page = await post(s, "/w/units/jn-syxx#staff", do="role", openid=SCHOOL, role="admin")
        assert "只有管理员才能授予或取消管理员角色" in page
        status, page = await post(s, "/w/staff", do="invite", unit="jn-syxx", role="admin", name="实验小学·孙老师")
        assert status == 400 and "只有管理员才能授予或取消管理员角色" in page and "invite-code" not in page
        status, page = await post(s, "/w/staff", do="role", openid=ADMIN, role="handler")
        assert "只有管理员才能授予或取消管理员角色" in page
        status, page = await post(s, "/w/staff", do="remove", openid=ADMIN)
        assert "只有管理员才能授予或取消管理员角色" in page
        page = await (await s.get("/w/staff")).text()
        assert 'value="admin"' not in page  # nothing to pick that would be refused
        # what a leader may do, they still may
        status, page = await post(s, "/w/staff", do="role", openid=SCHOOL, role="supervisor")
        assert "已将江南区实验小学·张老师的角色改为负责人" in page
    assert await role_of(d, SCHOOL) == "supervisor" and await role_of(d, ADMIN) == "admin"
    assert not [i for i in await d.db(staff.invites, d.clock.now()) if i["name"] == "实验小学·孙老师"]
    refused = [r for r in await audit_rows(d, LEADER) if r["action"] == "staff:refused"]
    assert len(refused) == 5 and all("admin" in r["detail"] for r in refused)


@pytest.mark.asyncio
async def test_an_admin_grants_admin_and_the_last_admin_stays(dialog):
    """An admin may make a leader an admin; then either may step the other down, but never the last one: the
    console is refused too (bind another admin first), and so is the last admin redeeming an invite to a
    handler's post. Nobody changes their own role or binding on the 人员 page."""
    d = dialog
    await bind_admin(d)
    async with browser(d) as s:
        await sign_in(d, s, ADMIN)
        page = await (await s.get("/w/staff")).text()
        assert 'value="admin"' in page
        status, page = await post(s, "/w/staff", do="role", openid=LEADER, role="admin")
        assert "改为管理员" in page
        status, page = await post(s, "/w/staff", do="role", openid=ADMIN, role="leader")
        assert "不能更改自己的角色" in page
        status, page = await post(s, "/w/staff", do="remove", openid=ADMIN)
        assert "不能解除自己的绑定" in page
        status, page = await post(s, "/w/staff", do="role", openid=LEADER, role="leader")
        assert "改为局领导" in page
    assert await role_of(d, LEADER) == "leader" and await role_of(d, ADMIN) == "admin"
    with pytest.raises(staff.StaffChangeRefused, match="last_admin"):
        await console(d, lambda db, desk: desk.change_role(db, ADMIN, "leader", by=staff.CONSOLE))
    with pytest.raises(staff.StaffChangeRefused, match="last_admin"):
        await console(d, lambda db, desk: desk.remove_staff(db, ADMIN, by=staff.CONSOLE))
    code = await d.db(lambda db: staff.create_invite(db, "jyj-bgs", "handler", "值班室·王工", d.clock.now(), 3600))
    await talk(d, ADMIN, f"绑定 {code}", expect="唯一的管理员")
    assert await role_of(d, ADMIN) == "admin"
    assert (await d.db(users.get, ADMIN))["unit_code"] == "jyj"


@pytest.mark.asyncio
async def test_an_invite_binds_only_as_its_maker_may_grant_it_now_and_never_its_maker(dialog):
    """An invite is a role change its maker authorises: one to admin made by an admin no longer admin binds
    nobody; a leader's invite cannot take an admin's role away; and nobody redeems an invite they made (a leader
    moving themselves, or raising themselves, needs someone else's)."""
    d = dialog
    await bind_admin(d)
    await bind_admin(d, "o_second_admin")
    made = await d.db(lambda db: staff.create_invite(db, "jyj-sfc", "admin", "收费管理处·李老师", d.clock.now(), 3600,
                                                     created_by="o_second_admin"))
    await console(d, lambda db, desk: desk.change_role(db, "o_second_admin", "leader", by=ADMIN))
    await talk(d, FEES, f"绑定 {made}", expect="生成人已无权授予")
    assert await role_of(d, FEES) == "handler"
    by_leader = await d.db(lambda db: staff.create_invite(db, "jyj-bgs", "handler", "值班室·周工", d.clock.now(), 3600,
                                                          created_by=LEADER))
    await talk(d, ADMIN, f"绑定 {by_leader}", expect="只有管理员才能授予或取消管理员角色")
    assert await role_of(d, ADMIN) == "admin"
    own = await d.db(lambda db: staff.create_invite(db, "jn-syxx", "supervisor", "实验小学·周校长", d.clock.now(), 3600,
                                                    created_by=LEADER))
    await talk(d, LEADER, f"绑定 {own}", expect="不能使用自己生成的绑定码")
    assert (await d.db(users.get, LEADER))["unit_code"] == "jyj"
    await talk(d, "o_new_head", f"绑定 {own}", expect="绑定成功")  # the code is still good for whom it was made


@pytest.mark.asyncio
async def test_every_change_of_who_is_staff_is_in_the_audit_log_whoever_makes_it(dialog):
    """The 人员 page wrote its own audit rows; 绑定 in WeChat and the console's role changes and removals wrote
    none, so an auditor could not see who made whom a leader. Now the rule that allows a change records it: who,
    when, the person, their unit and role before and after."""
    d = dialog
    code = await d.db(lambda db: staff.create_invite(db, "jyj", "leader", "市教育局·吴副局长", d.clock.now(), 3600))
    await talk(d, "o_new_leader", f"绑定 {code}", expect="绑定成功")
    await console(d, lambda db, desk: desk.change_role(db, FEES, "supervisor", by=staff.CONSOLE))
    await console(d, lambda db, desk: desk.remove_staff(db, "o_new_leader", by=staff.CONSOLE))
    rows = {r["action"]: r for r in await audit_rows(d)}
    bound = rows["staff:bind"]
    assert bound["actor"] == "o_new_leader" and "leader@jyj" in bound["detail"] and "cli" in bound["detail"]
    assert rows["staff:invite"]["actor"] == staff.CONSOLE and "leader" in rows["staff:invite"]["detail"]
    assert rows["staff:role"]["actor"] == staff.CONSOLE and rows["staff:role"]["detail"] == f"{FEES} handler → supervisor"
    assert rows["staff:remove"]["actor"] == staff.CONSOLE and rows["staff:remove"]["detail"] == "o_new_leader"
    assert all(r["at"] == pytest.approx(d.clock.now(), abs=5) for r in rows.values())


# -- 2. the duty office with nobody ------------------------------------------------------------------------------
async def duty_ticket(d) -> str:
    """A ticket the duty office itself holds: one the fees office 退回s."""
    number = await file_ticket(d, PARENT, "实验小学收资料费300元不给收据", scene="school:jn-syxx")
    await talk(d, FEES, f"退回 {number} 不属于本处职责", expect="已退回")
    assert (await d.db(tickets.get, number))["unit_code"] == "jyj-bgs"
    return number


@pytest.mark.asyncio
async def test_the_duty_offices_own_tickets_are_the_leaders_daishou_when_it_has_nobody(dialog):
    """The duty office left with nobody: the leaders stand in for its own tickets as for any unit's (代收, told,
    shown as 代收 on the ticket), and its own come home when someone binds there again."""
    d = dialog
    number = await duty_ticket(d)
    await console(d, lambda db, desk: desk.remove_staff(db, DUTY, by=staff.CONSOLE))
    t = await d.db(tickets.get, number)
    assert t["unattended"]
    await heard(d, LEADER, expect=["代收", number])
    await talk(d, LEADER, f"详情 {number}", expect="代收")
    code = await d.db(lambda db: staff.create_invite(db, "jyj-bgs", "handler", "局值班室·王主任", d.clock.now(), 3600))
    await talk(d, "o_duty_again", f"绑定 {code}", expect=["绑定成功", number, "此前由市教育局领导代收"],
               absent="值班室代收")
    assert not (await d.db(tickets.get, number))["unattended"]


@pytest.mark.asyncio
async def test_with_nobody_bound_at_all_a_duty_office_ticket_waits_and_the_first_leader_takes_it(dialog):
    """Nobody bound anywhere that may stand in: the duty office's ticket waits, not 代收. A leader bound first
    took every other unit's such tickets (take_strays) but not the duty office's own: it stayed nobody's 代收,
    so the leader's 签收 counted against the empty duty office. Now it is the leader's 代收 like the rest."""
    d = dialog
    number = await duty_ticket(d)
    for person in (LEADER, DUTY):
        await console(d, lambda db, desk, o=person: desk.remove_staff(db, o, by=staff.CONSOLE))
    assert not (await d.db(tickets.get, number))["unattended"]
    code = await d.db(lambda db: staff.create_invite(db, "jyj", "leader", "市教育局·吴副局长", d.clock.now(), 3600))
    await talk(d, "o_first_leader", f"绑定 {code}", expect="绑定成功")
    await heard(d, "o_first_leader", expect=["代收", number])
    assert (await d.db(tickets.get, number))["unattended"]


@pytest.mark.asyncio
async def test_a_citizen_whose_words_nobody_can_hear_is_told_so(dialog):
    """With nobody bound who may act on a ticket (no one at its unit, the duty office, no leader, no admin), the
    parent's 回复 was answered 已转给承办人员 though it reached nobody. They are told it is kept and will be read
    as soon as staff are on duty; it is delivered to the first who binds."""
    d = dialog
    number = await duty_ticket(d)
    for person in (LEADER, DUTY):
        await console(d, lambda db, desk, o=person: desk.remove_staff(db, o, by=staff.CONSOLE))
    said = await talk(d, PARENT, f"回复 {number} 孩子叫王小明，收据至今没有给")
    assert "已记录" in said and "暂无工作人员值守" in said and "转给承办人员" not in said


# -- 3. 群众评议: one vote per person, replays not counted -------------------------------------------------------
QUICK = ('id = "q19"\ntitle = "快速测评"\nunits = ["jn-syxx", "jb-wcxx"]\nopens = "2026-11-01"\n'
         'closes = "2026-12-31"\n[[questions]]\nid = "overall"\ntext = "总体满意吗？"\n')


@pytest.fixture
async def quick(tmp_path, make_config, aiohttp_client):
    """The webhook over real HTTP (safe mode), with a one-question survey of two schools; limits: 5 an hour, 8 a
    day from new accounts."""
    from bot.app import create_app
    from handlers.clock import FixedClock
    from tests.test_survey import MONDAY
    survey = tmp_path / "quick.toml"
    survey.write_text(QUICK, encoding="utf-8")
    clock = FixedClock(MONDAY)
    config = make_config(campaign={"surveys": str(survey), "burst_per_hour": 5, "new_follower_per_day": 8,
                                   "min_responses": 1})
    client = await aiohttp_client(create_app(config, clock=clock))
    await client.app[DB].run(staff.bind, "o_leader19", "jyj", "leader", "局长", clock.now())
    return client, clock


async def wechat(client, inner: str, openid: str) -> str:
    """Post one message as WeChat does (encrypted, freshly signed: a retry is re-signed); the reply's text."""
    from tests import wx
    body, q = wx.encrypted(inner, openid)
    resp = await client.post(wx.url("/wechat", q), data=body.encode(), headers={"Content-Type": "text/xml"})
    assert resp.status == 200
    text = await resp.text()
    return wx.decrypt_reply(text).get("Content", "") if "Encrypt" in text else ""


async def vote(quick, openid: str, *answers: str, unit: str = "jn-syxx") -> list[str]:
    """Scan the survey code (the first time a follow), then send each answer (its own MsgId)."""
    from tests import wx
    client, clock = quick
    clock.advance(30)
    said = [await wechat(client, wx.event_xml(openid, "subscribe", f"qrscene_survey:q19:{unit}",
                                              created=int(clock.now())), openid)]
    for answer in answers:
        clock.advance(5)
        said.append(await wechat(client, wx.text_xml(openid, answer, created=int(clock.now())), openid))
    return said


async def counted(quick) -> list[tuple]:
    from storage import surveys
    return [(r["unit_code"], r["answers"]["overall"], r["burst"])
            for r in await quick[0].app[DB].run(surveys.submitted, ["q19"])]


async def leaders_told(quick) -> list[str]:
    from storage import outbox
    rows = await quick[0].app[DB].run(lambda db: list(db.query("SELECT payload FROM outbox WHERE openid = ?",
                                                                ["o_leader19"])))
    return [r["payload"] for r in rows]


@pytest.mark.asyncio
async def test_one_account_voting_again_and_again_counts_once(quick):
    """Ten attempts by one account within the hour (each a full redo): one response, the last answers; no burst
    (the burst check counts responses, not attempts)."""
    assert "评议完成" in (await vote(quick, "o_voter", "1"))[-1]
    for answer in ["2", "1", "1", "3", "1", "1", "1", "1", "4"]:
        said = await vote(quick, "o_voter", "1", answer)  # 1: evaluate again
        assert "评议已更新" in said[-1], said
    assert await counted(quick) == [("jn-syxx", 4, False)]
    assert not await leaders_told(quick)


@pytest.mark.asyncio
async def test_a_replayed_answer_message_counts_once_and_changes_nothing(quick):
    """WeChat's retries (and a replay of a captured message, re-signed) carry the same MsgId: the answer counts
    once, and a replay arriving after the person answered again does not bring the old answer back."""
    from tests import wx
    client, clock = quick
    await vote(quick, "o_replayer")
    first = wx.text_xml("o_replayer", "1", created=int(clock.now()), msg_id=7100000000000000001)
    replies = {await wechat(client, first, "o_replayer") for _ in range(5)}
    assert len(replies) == 1 and "评议完成" in replies.pop()
    assert await counted(quick) == [("jn-syxx", 1, False)]
    clock.advance(3 * 3600)
    assert "评议已更新" in (await vote(quick, "o_replayer", "1", "5"))[-1]
    assert await counted(quick) == [("jn-syxx", 5, False)]
    await wechat(client, first, "o_replayer")
    assert await counted(quick) == [("jn-syxx", 5, False)]
    stored = await client.app[DB].run(lambda db: db.execute(
        "SELECT count(*) FROM inbound WHERE key LIKE '%:msg:7100000000000000001'").fetchone()[0])
    assert stored == 1


@pytest.mark.asyncio
async def test_many_new_accounts_in_an_hour_are_set_aside_and_the_leaders_told_once(quick):
    for i in range(12):
        await vote(quick, f"o_sock{i}", "1")
    rows = await counted(quick)
    assert len(rows) == 12 and all(burst for _, _, burst in rows)
    told = [p for p in await leaders_told(quick) if "一小时内" in p]
    assert len(told) == 1


@pytest.mark.asyncio
async def test_new_accounts_paced_under_the_hourly_limit_are_left_out_by_the_day(quick):
    """Four an hour (under the limit of five), the same sheet, from new accounts, all day: the day's check leaves
    them out once more than new_follower_per_day came."""
    client, clock = quick
    for i in range(12):
        clock.advance(15 * 60)
        await vote(quick, f"o_paced{i}", "1")
    rows = await counted(quick)
    assert len(rows) == 12 and all(burst for _, _, burst in rows)


@pytest.mark.asyncio
async def test_a_ticket_bounced_to_a_duty_office_with_nobody_is_the_leaders_daishou(dialog):
    """退回 to a duty office with nobody bound: the leaders were told 退回待重新分派 but the ticket was not 代收 (the
    lifecycle allowed no 代收 of a bounced ticket), so the duty office's empty desk counted its window."""
    d = dialog
    await console(d, lambda db, desk: desk.remove_staff(db, DUTY, by=staff.CONSOLE))
    number = await file_ticket(d, PARENT, "实验小学收资料费300元不给收据", scene="school:jn-syxx")
    await talk(d, FEES, f"退回 {number} 不属于本处职责", expect="已退回")
    await heard(d, LEADER, expect=["【代收】", "退回", number])
    t = await d.db(tickets.get, number)
    assert (t["unit_code"], t["unattended"], t["state"]) == ("jyj-bgs", 1, "bounced")
    assert tickets.credit(t)[0].startswith(tickets.STAND_IN)
    # sent on to an office with nobody: who holds it as 代收 is said as it is (the duty office has nobody)
    await talk(d, LEADER, f"转派 {number} 市教育局基础教育处", expect=["已将", "暂由局领导代收"], absent="值班室代收")
