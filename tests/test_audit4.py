"""The fifth audit (brief priority 1, "Trust and people"): can a school improve its own figures illegitimately, and
does an accuser's complaint reach the accused school by any path? Attacked through the sandbox (WeChat's encrypted
XML over real HTTP), the workbench over real HTTP signed in as each role, and real SQLite files. Each test failed
before its fix."""
from __future__ import annotations

import re

import pytest

from storage import staff, tickets

from tests.dialog import (DISTRICT, DISTRICT_HEAD, DUTY, LEADER, SCHOOL, SCHOOL_HEAD, at, drain, file_ticket, heard,
                          talk, talk_all)
from tests.test_citizen_dialogs import PARENT
from tests.test_security import env  # noqa: F401  (a fixture)

HOMEWORK = "学校作业太多了，孩子每天写到晚上十一点，我要投诉"


async def _ticket(d, number: str) -> dict:
    return await d.db(tickets.get, number)


async def _school_ticket(d, openid: str = PARENT, text: str = HOMEWORK) -> str:
    number = await file_ticket(d, openid, text, scene="school:jn-syxx", consent="1")
    assert (await _ticket(d, number))["unit_code"] == "jn-syxx"
    return number


# -- 延期: a school never extends its own deadline ------------------------------------------------------------------
async def test_a_school_cannot_extend_its_own_deadline(dialog):
    """The school's handler asked for 30 more working days and the school's own principal approved them: any
    school could push every deadline it was about to miss, and its 解决率 and 超期 never showed it. A school's
    extension is now decided by the bureau above it (the district), never inside the school."""
    d = dialog
    number = await _school_ticket(d)
    due = (await _ticket(d, number))["due_at"]
    await talk(d, SCHOOL, f"签收 {number}")
    await drain(d, SCHOOL_HEAD, DISTRICT_HEAD)
    await talk(d, SCHOOL, f"延期 {number} 30 需要进一步核实", expect="已提交")
    await heard(d, DISTRICT_HEAD, expect=["延期申请", number])
    await talk(d, SCHOOL_HEAD, f"同意延期 {number}", absent="已同意延期")
    assert (await _ticket(d, number))["due_at"] == due
    await talk(d, DISTRICT_HEAD, f"同意延期 {number}", expect="已同意延期")
    assert (await _ticket(d, number))["due_at"] > due


# -- 转派: a school does not choose where its own ticket goes ---------------------------------------------------------
async def test_a_school_cannot_pass_its_own_ticket_on_by_transfer(dialog):
    """A school's principal could 转派 the school's ticket to a rival school (its figures then carry it and its
    退回 would count against the rival) or to the district: the ticket left the school with no 退回 counted, and a
    fresh deadline for whoever got it. A school's people give a ticket back only by 退回 (counted against the
    school, re-dispatched by the duty office); the workbench offers no 转派 to them either."""
    from tests.test_web import browser, sign_in
    d = dialog
    number = await _school_ticket(d)
    before = await _ticket(d, number)
    for target in ("江南区育英小学", "江南区教育局"):
        await talk(d, SCHOOL_HEAD, f"转派 {number} {target} 不属本校", expect="退回", absent="已将")
    after = await _ticket(d, number)
    assert (after["unit_code"], after["due_at"], after["state"]) == (
        before["unit_code"], before["due_at"], before["state"])
    async with browser(d) as s:
        await sign_in(d, s, SCHOOL_HEAD)
        async with s.get(f"/w/t/{number}") as resp:
            page = await resp.text()
        assert resp.status == 200 and 'value="bounce"' in page and 'value="transfer"' not in page
    await talk(d, SCHOOL_HEAD, f"退回 {number} 不属本校职责", expect="退回")
    assert (await _ticket(d, number))["unit_code"] == "jyj-bgs"
    # the district above still re-assigns among its schools, and the duty office anywhere
    other = await _school_ticket(d, "o_parent_other")
    await talk(d, DISTRICT_HEAD, f"转派 {other} 江南区育英小学 属育英小学", expect="已将")


# -- 退回 and back: no new clock -------------------------------------------------------------------------------------
async def test_a_ticket_bounced_and_sent_back_keeps_the_units_deadline(dialog):
    """A school about to miss its deadline 退回ed the ticket ("不属本校"); the duty office, seeing it was the
    school's, 转派ed it back, and the school got a full new time limit: one 退回 bought seven working days, and
    the lateness never showed. A unit that gets back a ticket it bounced keeps the deadline it had."""
    from handlers import rates
    d = dialog
    number = await _school_ticket(d)
    await talk(d, SCHOOL, f"签收 {number}")
    due = (await _ticket(d, number))["due_at"]
    d.advance(due - 3600 - d.clock.now())  # an hour before the deadline
    await talk(d, SCHOOL, f"退回 {number} 不属本校职责", expect="退回")
    await talk(d, DUTY, f"转派 {number} 江南区实验小学 作业问题属学校", expect="已将")
    back = await _ticket(d, number)
    assert back["unit_code"] == "jn-syxx" and back["due_at"] == due, (back["due_at"], due)
    d.advance(2 * 86400)
    await talk(d, SCHOOL, f"办结 {number} 已调整作业量", expect="已办结")
    from bot.app import DB
    start, end, now = at("2026-11-01 00:00"), at("2027-01-01 00:00"), d.clock.now()
    school = (await d.app[DB].read(lambda db: rates.for_period(db, start, end, ["jn-syxx"], now)))["jn-syxx"]
    assert school.resolved == 1 and school.resolved_in_time == 0, school


# -- a lapse is the holder's, whoever finishes the work -------------------------------------------------------------
async def test_a_lapse_stays_the_schools_when_the_district_finishes_the_work(dialog):
    """A school let a ticket lapse (never signed in its window, open past its deadline); the district's head then
    signed and resolved it. Both parts counted for the district (the credit rule: work counts for the unit that
    did it), so the school's 响应率 and 解决率 lost the late ticket altogether, and a friendly district could
    clear any school's lateness by finishing its late tickets. A part the holder let lapse stays the holder's."""
    from bot.app import DB
    from handlers import rates
    d = dialog
    number = await _school_ticket(d)
    late = await _school_ticket(d, "o_parent_late")
    due = (await _ticket(d, number))["due_at"]
    d.advance(due + 3600 - d.clock.now())  # both windows over, nothing done
    for n in (number, late):
        await talk(d, DISTRICT_HEAD, f"签收 {n}", expect="已签收")
        await talk(d, DISTRICT_HEAD, f"办结 {n} 已督促学校调整作业量", expect="已办结")
    start, end, now = at("2026-11-01 00:00"), at("2027-01-01 00:00"), d.clock.now()
    got = await d.app[DB].read(lambda db: rates.for_period(db, start, end, ["jn-syxx", "jn-jyj"], now))
    school = got["jn-syxx"]
    assert (school.response_due, school.accepted_in_time) == (2, 0), school
    assert (school.resolved, school.resolved_in_time) == (2, 0), school
    district = got.get("jn-jyj", rates.Rates())
    assert district.resolved == 0 and district.response_due == 0, district


# -- 表扬 is the public's, as 群众评议 is -----------------------------------------------------------------------------
async def test_praise_from_the_schools_own_staff_is_not_counted(dialog):
    """群众评议 leaves out the answers of anyone bound as the unit's staff (or the unit above, or a leader), even
    given before they were bound; 表扬, which the review scores and the public board ranks, counted them: a
    teacher's praise of their own school, sent before the account was bound, stayed in its figures. One rule
    (storage.staff.insider_sql) for both."""
    from bot.app import DB
    from handlers import public, review
    from storage import staff
    from tests.dialog import TZ, send
    d = dialog
    for who in ("o_teacher_to_be", "o_real_parent"):
        await send(d, who, type="scan", scene="school:jn-syxx")
        await talk(d, who, "感谢江南区实验小学的老师们耐心辅导孩子，非常负责", expect="请核对")
        await talk(d, who, "1", expect="感谢您的表扬")
    code = await d.db(staff.create_invite, "jn-syxx", "handler", "新老师", d.clock.now(), 86400)
    await talk(d, "o_teacher_to_be", f"绑定 {code}", expect="绑定")
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    now = d.clock.now()

    def read(conn):
        return (review.build(conn, "2026-11", TZ, review.Weights(), now=now).unit("jn-syxx").figures.praise,
                public.snapshot(conn, now, TZ).window("jn-syxx", "month").praise)
    assert await d.app[DB].read(read) == (1, 1)


# -- 撤回: a withdrawal leaves the rates, and shows ----------------------------------------------------------------
async def test_withdrawals_are_shown_per_unit_in_the_review(dialog):
    """A school that answered a complaint and then got the parent to 撤回 it (before its deadline) lost the ticket
    from every rate, with no trace in any figure the bureau reads: no 不满意 possible, nothing late. Withdrawals
    stay out of the score (taking a message back is the citizen's right) but the review now shows them per unit
    (the workbench's 绩效考核, its XLSX, the unit's report), where a pattern of pressure can be seen."""
    import io

    from openpyxl import load_workbook

    from bot.app import DB
    from handlers import review
    from tests.dialog import TZ
    from tests.test_web import browser, sign_in
    d = dialog
    number = await _school_ticket(d)
    await talk(d, SCHOOL, f"回复 {number} 您好，我们已了解情况，会减少作业量", expect="已")
    await talk(d, PARENT, f"撤回 {number}")
    await talk(d, PARENT, f"确认撤回 {number}", expect="已撤回")
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    built = await d.app[DB].read(lambda db: review.build(db, "2026-11", TZ, review.Weights(), now=d.clock.now()))
    assert built.unit("jn-syxx").figures.withdrawn == 1 and built.bureau.figures.withdrawn == 1
    assert "群众撤回1件" in review.format_unit(built, "jn-syxx")
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        async with s.get("/w/review", params={"period": "2026-11"}) as resp:
            page = await resp.text()
        assert resp.status == 200 and "撤回</th>" in page
        async with s.get("/w/review/2026-11.xlsx") as resp:
            assert resp.status == 200
            sheet = load_workbook(io.BytesIO(await resp.read()))["单位"]
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    col = rows[0].index("群众撤回件数")
    assert [r[col] for r in rows[1:] if "江南区实验小学" in r] == [1]


# -- the sandbox behind the README's own reverse proxy --------------------------------------------------------------
@pytest.mark.parametrize("variables, named", [
    ({"TINGJIAN_SERVER_PUBLIC_URL": "https://bot.example.edu.cn", "TINGJIAN_WECHAT_API_BASE": "http://127.0.0.1:9"},
     "server.public_url"),
    ({}, "wechat.api_base"),  # the example's api_base: the real WeChat API
])
def test_serve_refuses_the_sandbox_behind_a_reverse_proxy(env, tmp_path, capsys, variables, named):
    """`serve` refused the sandbox (which lets anyone post as any openid, a leader's too) only on a non-loopback
    host: bound to 127.0.0.1 behind nginx, as the README tells one to deploy, /sandbox/send was public. It is now
    refused whenever the service has a public name or talks to the real WeChat API."""
    from pathlib import Path

    from bot.cli import main
    env(TINGJIAN_STORAGE_PATH=str(tmp_path / "t.db"), TINGJIAN_SANDBOX_ENABLED="true", **variables)
    assert main(["serve", "--config", str(Path(__file__).resolve().parents[1] / "config.example.toml")]) == 2
    err = capsys.readouterr().err
    assert "sandbox.enabled" in err and named in err
    assert not (tmp_path / "t.db").exists()


# -- conduct told without the usual words never reaches the school -------------------------------------------------
CONDUCT_TOLD_PLAINLY = [
    "作业太多，写不完王老师就让孩子在走廊站一上午",          # 罚站, told by what it was
    "学校作业太多，英语老师还让没写完的孩子跪着写",          # 罚跪
    "孩子作业写不完，班主任就不让他吃午饭",
    "校长把学校食堂承包给自己亲戚，饭菜又贵又难吃",          # the head's own conduct
    "校长的儿子在学校食堂承包经营，饭菜很差",
]


async def test_conduct_told_in_plain_words_never_reaches_the_school(dialog):
    """A homework or canteen complaint that also tells of a teacher's or the head's conduct in words the rules did
    not know (站一上午 for 罚站, 跪着写, 不让吃午饭, the head's relative running the canteen) was filed as the
    school's own matter: the school read the accusation against its own teacher or head, with the parent's
    identity. Each now goes to the bureau running the school (privacy.barred, from the routing's conduct score)."""
    d = dialog
    numbers = [await file_ticket(d, f"o_parent_{i}", text, scene="school:jn-syxx", consent="1")
               for i, text in enumerate(CONDUCT_TOLD_PLAINLY)]
    held = {n: (await _ticket(d, n))["unit_code"] for n in numbers}
    assert all(unit == "jn-jyj" for unit in held.values()), held
    await talk(d, SCHOOL, "待办", absent=numbers)


# -- a satisfied rating whose comment accuses a teacher -------------------------------------------------------------
async def test_a_satisfied_rating_that_accuses_a_teacher_is_filed_for_the_bureau_not_shown_to_the_school(dialog):
    """"2 基本满意，不过班主任收了家长的购物卡" on the school's homework ticket closed it with the comment stored on
    it: the school read the accusation against its own teacher on its ticket page (with the parent's identity), and
    nobody at the bureau was ever asked to look into it. The score is taken; the words are filed as a message of
    their own, which goes to the bureau running the school."""
    from tests.test_web import browser, sign_in
    d = dialog
    number = await _school_ticket(d)
    await talk(d, SCHOOL, f"办结 {number} 已调整作业量", expect="已办结")
    await drain(d, PARENT)
    await talk_all(d, PARENT, "2 基本满意，不过班主任收了家长的购物卡", expect=["感谢您的评价", "请问您这次是"])
    closed = await _ticket(d, number)
    assert closed["state"] == "closed" and closed["rating"] == 2 and "购物卡" not in (closed["rating_comment"] or "")
    async with browser(d) as s:
        await sign_in(d, s, SCHOOL)
        async with s.get(f"/w/t/{number}") as resp:
            assert resp.status == 200 and "购物卡" not in await resp.text()
    new = await file_ticket(d, PARENT, "1")  # the comment, now a message being written: 1 投诉, and on as any other
    filed = await _ticket(d, new)
    assert "购物卡" in filed["text"] and filed["unit_code"] == "jn-jyj", filed


# -- a survey answer turned into a ticket is anonymous towards the school, so never the school's to handle ----------
async def test_a_survey_answer_made_a_ticket_is_never_handed_to_the_school(dialog):
    """A 群众评议 free-text answer about homework, made a ticket with the person's agreement ("对学校保密您的身份"),
    was filed anonymous and yet handed to the school itself, which then read the opinion given in its own
    evaluation; and once it left the school, no 转派 could give it back (anonymous: privacy.barred), the one rule
    that says an anonymous message is never the school's. It now goes where any anonymous message goes."""
    from tests.dialog import send
    d = dialog
    await send(d, PARENT, type="scan", scene="survey:school-2026:jn-syxx")
    for answer in ["5", "5", "5", "5", "5", "1"]:
        reply = await talk(d, PARENT, answer)
    assert "意见或建议" in reply
    await talk(d, PARENT, "学校作业太多了，孩子每天写到晚上十一点，希望减少作业量", expect="转为留言")
    done = await talk(d, PARENT, "1", expect="已转为留言")
    number = re.search(r"JY\d{4}-\d{4}", done).group(0)
    ticket = await _ticket(d, number)
    assert ticket["anonymous"] and ticket["school_code"] == "jn-syxx" and ticket["unit_code"] != "jn-syxx", ticket
    await talk(d, SCHOOL, "待办", absent=number)


# -- a staff push goes to someone who still works on the ticket -------------------------------------------------------
async def test_an_extension_decision_never_goes_to_a_former_member_of_staff(dialog):
    """The school's handler asked for an extension and was then unbound (left the school); the decision was still
    pushed to their WeChat, now a private citizen's: the ticket's number and deadline, to someone outside. It now
    goes to whoever acts for the unit."""
    from bot.app import DISPATCHER
    from tests.dialog import quiet
    d = dialog
    number = await _school_ticket(d)
    await talk(d, SCHOOL, f"延期 {number} 5 需要进一步核实", expect="已提交")
    await d.db(lambda db: d.app[DISPATCHER].desk.remove_staff(db, SCHOOL, staff.CONSOLE))
    await drain(d, SCHOOL, SCHOOL_HEAD)
    await talk(d, DISTRICT_HEAD, f"同意延期 {number}", expect="已同意延期")
    await heard(d, SCHOOL_HEAD, expect=["延期", number])
    await quiet(d, SCHOOL)


async def test_a_satisfied_rating_that_praises_a_teacher_is_only_a_rating(dialog):
    """The guard's other side: thanks that name a teacher, or a virtue told as what they never do, start nothing."""
    from tests.dialog import quiet
    d = dialog
    number = await _school_ticket(d)
    await talk(d, SCHOOL, f"办结 {number} 已调整作业量", expect="已办结")
    await drain(d, PARENT)
    await talk(d, PARENT, "1 满意，谢谢王老师，她从来不体罚学生", expect="感谢您的评价", absent="请问您这次是")
    await quiet(d, PARENT)
    assert "谢谢王老师" in (await _ticket(d, number))["rating_comment"]
    # a negation that is no virtue stays what it says: a child not come home is still a call for help
    other = await _school_ticket(d, "o_parent_missing")
    await talk(d, SCHOOL, f"办结 {other} 已调整作业量", expect="已办结")
    await talk(d, "o_parent_missing", "2 基本满意，但孩子昨天没有回家，电话也打不通", expect="110")
