"""The second audit of issue 8's families (ratings, 师德 confidentiality, tickets nobody may act on, the workbench,
config), attacked through the sandbox: WeChat's encrypted XML over real HTTP, the shipped router, the demo
directory and staff. Each test failed before its fix."""
from __future__ import annotations

import pytest

from storage import tickets
from tests.dialog import (DISTRICT, DISTRICT_HEAD, DUTY, LEADER, NUMBER, SCHOOL, SCHOOL_HEAD, drain, file_ticket,
                          quiet, send, talk, talk_all)
from tests.test_citizen_dialogs import PARENT, resolved, ticket

ETHICS = "江南区实验小学的王老师上课体罚学生，还辱骂孩子"


# -- ratings: a number in a sentence is not a score ----------------------------------------------------------------
@pytest.mark.parametrize("message", ["2，3班的数学老师体罚学生，孩子不敢上学",     # a list of classes, and 师德
                                     "2:30就放学了，家长根本没法接",                 # a time
                                     "3-4年级的学生每天作业写到晚上11点",            # a range
                                     "1,000元的资料费什么时候退",                    # a thousands separator
                                     "1 班班主任又收了200元班费"])                   # 1班 typed with a space
async def test_a_number_at_the_start_is_not_a_rating(dialog, message):
    d = dialog
    number = await resolved(d)
    await talk(d, PARENT, message, absent=["感谢您的评价", "重新办理"])
    t = await ticket(d, number)
    assert t["state"] == "resolved" and t["rating"] is None and t["rating_comment"] is None


async def test_a_digit_then_a_number_is_asked_about(dialog):
    d = dialog
    number = await resolved(d)
    await talk(d, PARENT, "3 3班还是没退钱", expect=number, absent=["重新办理", "感谢您的评价"])
    assert (await ticket(d, number))["rating"] is None
    await talk(d, PARENT, "1", expect="重新办理")  # yes, it was a rating
    t = await ticket(d, number)
    assert t["state"] == "reopened" and t["rating"] == 3 and t["rating_comment"] == "3班还是没退钱"


# -- 师德 never reaches the school ------------------------------------------------------------------------------------
async def test_an_ethics_ticket_is_never_transferred_to_a_school(dialog):
    d = dialog
    number = await file_ticket(d, PARENT, ETHICS, scene="school:jn-syxx", consent="1")  # even with consent
    assert (await ticket(d, number))["unit_code"] == "jn-jyj"
    await drain(d, PARENT, SCHOOL, SCHOOL_HEAD)
    for who in (DISTRICT_HEAD, LEADER):
        await talk(d, who, f"转派 {number} 江南区实验小学 请学校核实", expect="师德", absent="已将")
    assert (await ticket(d, number))["unit_code"] == "jn-jyj"
    await quiet(d, SCHOOL)
    await quiet(d, SCHOOL_HEAD)
    # Bounced to the duty office, it still cannot go to the school from there.
    await talk(d, DISTRICT, f"退回 {number} 请局里另派")
    await talk(d, DUTY, f"转派 {number} 江南区实验小学", expect="师德")
    assert (await ticket(d, number))["unit_code"] != "jn-syxx"


HITTING = "作业太多了，每天写到晚上十一点，写不完班主任就打孩子手心"


async def test_conduct_that_is_not_the_first_matter_still_never_goes_to_the_school(dialog):
    d = dialog
    number = await file_ticket(d, PARENT, HITTING, scene="school:jn-syxx", consent="1")
    t = await ticket(d, number)
    assert t["category"] == "burden" and t["unit_code"] == "jn-jyj"
    await quiet(d, SCHOOL)


async def test_conduct_words_are_never_added_to_a_ticket_the_school_holds(dialog):
    d = dialog
    first = await file_ticket(d, PARENT, "孩子每天作业写到晚上十一点，作业太多了", scene="school:jn-syxx", consent="1")
    assert (await ticket(d, first))["unit_code"] == "jn-syxx"
    await drain(d, SCHOOL, SCHOOL_HEAD)
    reply = await talk(d, PARENT, HITTING)
    for answer in ("1", "0", "1", "1"):  # 投诉, no phone, consent, submit: never "补充到原留言"
        assert "补充到原留言" not in reply
        if "受理编号" in reply:
            break
        reply = await talk(d, PARENT, answer)
    second = NUMBER.search(reply).group(0)
    assert second != first
    assert "手心" not in (await ticket(d, first))["text"]
    assert (await ticket(d, second))["unit_code"] == "jn-jyj"
    await quiet(d, SCHOOL)
    await quiet(d, SCHOOL_HEAD)


# -- one set of figures: the dashboard, the weekly digest, the public pages and the performance review -------------
FIELDS = ("dispatched", "response_due", "accepted_in_time", "resolved", "resolved_in_time", "open_overdue", "rated",
          "satisfied", "first_rated", "first_satisfied", "dissatisfied")


async def rate(d, openid: str, number: str, score: str) -> None:
    await talk(d, openid, f"评价 {number} {score}")


async def test_every_surface_gives_the_same_rates_for_the_same_tickets(dialog):
    """A realistic week filed and handled through WeChat (accepted late, resolved late, 不满意 and redone, twice
    不满意 and reviewed, transferred, bounced, withdrawn, praise), then read in December: the workbench's dashboard
    (week and month), the Monday digest, the public pages' last 30 days (= November) and the November review
    must count every unit alike."""
    from bot.app import DB
    from handlers import dashboard, digest, public, review
    from storage import directory
    from tests.dialog import FEES, TZ, at
    d = dialog
    fees = "学校要求每个学生交300元资料费，还不给收据，我要投诉"
    a = await file_ticket(d, "o_p1", fees, scene="school:jn-syxx")
    b = await file_ticket(d, "o_p2", fees, scene="school:jn-syxx")
    c = await file_ticket(d, "o_p3", fees, scene="school:jn-syxx")
    burden = await file_ticket(d, "o_p4", "孩子每天作业写到晚上十一点，作业太多了", scene="school:jn-syxx", consent="1")
    hurt = await file_ticket(d, "o_p5", "孩子在学校操场被铁门砸伤了，头上流血", scene="school:jn-syxx", consent="1")
    ethics = await file_ticket(d, "o_p6", ETHICS, scene="school:jn-syxx")
    bounced = await file_ticket(d, "o_p7", "学校周六组织补课，每人收费500元", scene="school:jn-syxx", consent="1")
    gone = await file_ticket(d, "o_p8", fees, scene="school:jn-syxx")
    await send(d, "o_p9", type="scan", scene="school:jn-syxx")
    await talk(d, "o_p9", "感谢江南区实验小学的张老师耐心辅导孩子", expect="请核对")
    await talk(d, "o_p9", "1", expect="感谢您的表扬")
    await talk(d, "o_p8", f"撤回 {gone}")
    await talk(d, "o_p8", f"确认撤回 {gone}")
    await talk(d, FEES, f"签收 {a}")
    d.advance(3600)
    for n in (a, b, c):
        await talk(d, FEES, f"办结 {n} 已责令退费")
    await rate(d, "o_p1", a, "1")
    await rate(d, "o_p2", b, "3 还没退")
    await rate(d, "o_p3", c, "3 没有退")
    await talk(d, DISTRICT, f"签收 {ethics}")
    await talk(d, DISTRICT_HEAD, f"转派 {ethics} 收费管理处 涉及收费")
    d.advance(2 * 86400)  # Wednesday: the school signs late, the urgent one is resolved late
    await talk(d, SCHOOL, f"签收 {burden}")
    staff_of = {"jyj-sfc": FEES, "jn-syxx": SCHOOL, "jn-jyj": DISTRICT}
    await talk(d, staff_of[(await ticket(d, bounced))["unit_code"]], f"退回 {bounced} 不属本单位", expect="退回")
    await talk(d, DUTY, f"转派 {bounced} 江南区教育局 请区局核实", expect="已将")
    await talk(d, staff_of[(await ticket(d, hurt))["unit_code"]], f"办结 {hurt} 已送医并检修铁门", expect="已办结")
    await talk(d, SCHOOL, f"办结 {burden} 已调整作业量")
    await rate(d, "o_p4", burden, "2")
    for n, score in ((b, "2"), (c, "3 还是没有退")):
        await talk(d, FEES, f"办结 {n} 已退费")
        await rate(d, f"o_p{2 if n == b else 3}", n, score)
    await talk(d, FEES, f"办结 {ethics} 已核实处理")
    await rate(d, "o_p6", ethics, "1")
    await talk(d, DUTY, f"办结 {c} 局里已复核并退费")
    await talk(d, DISTRICT, f"办结 {bounced} 已制止")
    states = {n: (await ticket(d, n))["state"] for n in (a, b, c, burden, hurt, ethics, bounced, gone)}
    assert states[gone] == "withdrawn" and states[a] == states[b] == states[ethics] == states[burden] == "closed"
    assert (await ticket(d, c))["review"] == 1

    d.advance(at("2026-12-01 10:00") - d.clock.now())
    now = d.clock.now()
    db = d.app[DB]

    def read(conn):
        unit_rows = {u["code"]: u for u in directory.all_units(conn)}
        week = dashboard.read(conn, unit_rows, None, dashboard.parse_period("week", "2026-W47", TZ), now, TZ, "全局")
        month = dashboard.read(conn, unit_rows, None, dashboard.parse_period("month", "2026-11", TZ), now, TZ, "全局")
        dig = digest.build(conn, "2026-W47", now, TZ)
        snap = public.snapshot(conn, now, TZ)
        rev = review.build(conn, "2026-11", TZ, review.Weights(), now=now)
        return week, month, dig, snap, rev

    week, month, dig, snap, rev = await db.read(read)
    surfaces = {
        "dashboard week": {r.code: r.rates for r in week.ranking},
        "dashboard month": {r.code: r.rates for r in month.ranking},
        "digest": {u.code: u.now for u in dig.units},
        "public": {code: w["month"].rates for code, w in snap.windows.items() if "month" in w},
        "review": {u.code: u.figures.rates for u in rev.units},
    }
    counted = {code for code, r in surfaces["review"].items() if r.dispatched or r.rated or r.resolved}
    assert {"jyj-sfc", "jyj-bgs"} <= counted and len(counted) >= 4, counted
    for code in counted:
        want = {f: getattr(surfaces["review"][code], f) for f in FIELDS}
        for name, per_unit in surfaces.items():
            got = {f: getattr(per_unit.get(code) or type(surfaces["review"][code])(), f) for f in FIELDS}
            assert got == want, f"{name} counts {code} differently:\n{got}\nreview:\n{want}"
    # The bureau's totals agree too.
    assert (dig.overall.satisfaction, dig.overall.resolution, dig.overall.response) == \
           (rev.bureau.figures.rates.satisfaction, rev.bureau.figures.rates.resolution,
            rev.bureau.figures.rates.response)


async def test_a_twice_rejected_answer_counts_against_the_unit_that_gave_it(dialog):
    """The second 不满意 hands the ticket to the bureau's review (the duty office holds it): the two 不满意 and the
    rating stay with the fees office whose answer was rejected, in every figure and every scope."""
    from bot.app import DB
    from handlers import dashboard, digest, rates, review
    from storage import directory
    from tests.dialog import FEES, TZ, at
    d = dialog
    number = await resolved(d)
    await talk(d, PARENT, "3 还没退钱", expect="重新办理")
    await talk(d, FEES, f"办结 {number} 已退费")
    await talk(d, PARENT, "3 根本没退", expect="复核")
    assert (await ticket(d, number))["unit_code"] == "jyj-bgs"
    await talk(d, DUTY, f"办结 {number} 局里复核后已退费")
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    now = d.clock.now()

    def read(conn):
        units = {u["code"]: u for u in directory.all_units(conn)}
        start, end = review.bounds("2026-11", TZ)
        return {
            "review": {u.code: u.figures.rates for u in review.build(conn, "2026-11", TZ, review.Weights(), now=now).units},
            "rates (bureau)": rates.for_period(conn, start, end, None, now),
            "rates (scoped)": rates.for_period(conn, start, end, ["jyj-sfc", "jyj-bgs"], now),
            "digest (bureau)": {u.code: u.now for u in digest.build(conn, "2026-W47", now, TZ).units},
            "dashboard (unit)": {r.code: r.rates for r in dashboard.read(
                conn, units, {"jyj-sfc"}, dashboard.parse_period("month", "2026-11", TZ), now, TZ, "x").ranking},
        }

    for name, per_unit in (await d.app[DB].read(read)).items():
        fees = per_unit.get("jyj-sfc") or rates.Rates()
        assert (fees.rated, fees.satisfied, fees.dissatisfied, fees.first_rated) == (1, 0, 2, 1), (name, fees)
        duty = per_unit.get("jyj-bgs")
        if duty is not None:
            assert (duty.rated, duty.dissatisfied, duty.first_rated) == (0, 0, 0), (name, duty)


def test_m024_counts_ratings_already_given_for_the_unit_rated(tmp_path):
    """A database from before m024: a ticket reviewed after a second 不满意 (held by the duty office now)."""
    import datetime as dt

    import sqlite_utils

    from storage import migrations
    from tests.dialog import TZ

    def day(n: int, hour: int = 10) -> float:
        return dt.datetime(2026, 11, n, hour, tzinfo=TZ).timestamp()
    db = sqlite_utils.Database(tmp_path / "t.db")
    migrations.migrations.apply(db, stop_before="m024_rated_unit")
    t = tickets.create(db, openid="o_c", kind="complaint", category="fees", unit_code="jyj-sfc", school_code=None,
                       text="x", attachments=[], contact_phone=None, anonymous=False, routing={}, now=day(2),
                       due_at=day(10), tz=TZ, accept_due_at=day(3))
    t = tickets.transition(db, t, "accepted", "o_s", day(2, 11), "accept", accepted_by="o_s", accepted_at=day(2, 11))
    t = tickets.transition(db, t, "resolved", "o_s", day(3), "resolve", resolved_at=day(3))
    tickets.transition(db, t, "reopened", "o_c", day(4), "review", rating=3, rated_at=day(4), review=1,
                       unit_code="jyj-bgs", resolved_at=None)
    migrations.migrate(db)
    assert db.execute("SELECT rated_unit FROM tickets").fetchone()[0] == "jyj-sfc"
    rated = dict(db.execute("SELECT unit_code, sum(rated) FROM unit_days GROUP BY unit_code").fetchall())
    assert rated.get("jyj-sfc") == 1 and not rated.get("jyj-bgs")  # (m030 keeps the dispatch with jyj-sfc too)
    [event] = tickets.ratings_in(db, day(1), day(30))
    assert event["unit_code"] == "jyj-sfc" and event["first"]


# -- nobody to act: an escalation with no leader bound -----------------------------------------------------------
async def test_an_escalation_with_no_leader_bound_goes_to_the_duty_office(dialog):
    from storage import staff
    from tests.dialog import FEES, heard
    d = dialog
    await d.db(staff.remove, LEADER, staff.CONSOLE, d.clock.now())
    number = await file_ticket(d, PARENT, "学校要求每个学生交300元资料费，还不给收据，我要投诉", scene="school:jn-syxx")
    await drain(d, DUTY, FEES)
    for _ in range(14):  # past the deadline and one working day more: 催办, then the escalation
        d.advance(86400)
        await d.sweep()
    await heard(d, DUTY, expect=["超期督办", number])


async def test_an_extension_nobody_could_decide_is_refused_at_once(dialog):
    """The school's head asks; the district has no supervisor bound and no leader is bound: nobody could ever
    decide it, so it is refused at once (and the one request a ticket has is not used up)."""
    from storage import staff
    d = dialog
    await d.db(staff.remove, LEADER, staff.CONSOLE, d.clock.now())
    await d.db(staff.remove, DISTRICT_HEAD, staff.CONSOLE, d.clock.now())
    number = await file_ticket(d, PARENT, "孩子每天作业写到晚上十一点，作业太多了", scene="school:jn-syxx", consent="1")
    assert (await ticket(d, number))["unit_code"] == "jn-syxx"
    await talk(d, SCHOOL_HEAD, f"签收 {number}")
    await talk(d, SCHOOL_HEAD, f"延期 {number} 3 需要调查", expect="无人可以审批", absent="已提交")
    assert not (await ticket(d, number))["extension"]
    await d.db(staff.bind, LEADER, "jyj", "leader", "周局长", d.clock.now())
    await talk(d, SCHOOL_HEAD, f"延期 {number} 3 需要调查", expect="已提交")


# -- 师德 words a parent adds to a ticket the school holds ------------------------------------------------------------
BURDEN = "孩子每天作业写到晚上十一点，作业太多了"


async def school_never_got(d, *words: str) -> None:
    """Nothing queued for the school's people, in any channel, holds any of `words`."""
    import json
    rows = await d.db(lambda db: [json.loads(r[0]) for r in db.execute(
        "SELECT payload FROM outbox WHERE openid IN (?, ?)", [SCHOOL, SCHOOL_HEAD])])
    sent = json.dumps(rows, ensure_ascii=False)
    assert not [w for w in words if w in sent], sent


async def test_a_reply_raising_a_teachers_conduct_never_reaches_the_school(dialog):
    from tests.dialog import heard
    d = dialog
    number = await file_ticket(d, PARENT, BURDEN, scene="school:jn-syxx", consent="1")
    assert (await ticket(d, number))["unit_code"] == "jn-syxx"
    await talk(d, SCHOOL, f"回复 {number} 您好，我们会核实作业量。")
    await drain(d, PARENT, SCHOOL, SCHOOL_HEAD, DISTRICT, DISTRICT_HEAD)
    await talk(d, PARENT, f"回复 {number} 写不完作业，班主任就打孩子手心，还骂他笨", expect="已将您的回复")
    assert "江南区教育局" in await heard(d, SCHOOL)
    await school_never_got(d, "手心", "骂他")
    await heard(d, DISTRICT, expect=[number, "手心"])
    t = await ticket(d, number)
    assert t["unit_code"] == "jn-jyj"
    await talk(d, DISTRICT_HEAD, f"转派 {number} 江南区实验小学", expect="师德")  # and it cannot go back


async def test_a_dissatisfied_comment_raising_a_teachers_conduct_never_reaches_the_school(dialog):
    from tests.dialog import heard
    d = dialog
    number = await file_ticket(d, PARENT, BURDEN, scene="school:jn-syxx", consent="1")
    await talk(d, SCHOOL, f"办结 {number} 已要求减少作业")
    await drain(d, PARENT, SCHOOL, SCHOOL_HEAD, DISTRICT, DISTRICT_HEAD)
    # 体罚 is a call for help of its own: the hotline first, the score taken all the same (test_audit3)
    await talk_all(d, PARENT, "3 作业没少，班主任还体罚没写完的孩子", expect=["110", "重新办理"])
    await heard(d, SCHOOL)
    await school_never_got(d, "体罚")
    await heard(d, DISTRICT, expect=[number, "体罚"])
    t = await ticket(d, number)
    assert t["unit_code"] == "jn-jyj" and t["rating"] == 3 and t["rated_unit"] == "jn-syxx"


async def test_an_ordinary_reply_still_goes_to_the_school(dialog):
    from tests.dialog import heard
    d = dialog
    number = await file_ticket(d, PARENT, BURDEN, scene="school:jn-syxx", consent="1")
    await drain(d, PARENT, SCHOOL, SCHOOL_HEAD)
    await talk(d, PARENT, f"回复 {number} 补充一下，周末的练习卷也很多", expect="已将您的回复")
    await heard(d, SCHOOL, expect="练习卷")
    assert (await ticket(d, number))["unit_code"] == "jn-syxx"


# -- config: secrets that are there but guessable ------------------------------------------------------------------
@pytest.mark.parametrize("variables, key", [
    ({"TINGJIAN_SERVER_LINK_SECRET": " " * 20}, "server.link_secret"),           # blank is empty
    ({"TINGJIAN_SERVER_LINK_SECRET": "0" * 32}, "server.link_secret"),            # one character repeated
    ({"TINGJIAN_SERVER_LINK_SECRET": "abababababababab"}, "server.link_secret"),
    ({"TINGJIAN_WECHAT_TOKEN": "weixin"}, "wechat.token"),                         # the tutorials' token
    ({"TINGJIAN_WECHAT_TOKEN": "aaa"}, "wechat.token"),
    ({"TINGJIAN_WECHAT_AES_KEY": "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",  # WeChat's documented sample
      "TINGJIAN_WECHAT_APPID": "wx1234567890abcdef"}, "wechat.aes_key"),
    ({"TINGJIAN_WECHAT_AES_KEY": "a" * 43, "TINGJIAN_WECHAT_APPID": "wx1234567890abcdef"}, "wechat.aes_key"),
])
def test_serve_refuses_guessable_secrets(monkeypatch, tmp_path, capsys, variables, key):
    from pathlib import Path

    from bot.cli import main
    import os
    for name in list(os.environ):
        if name.startswith("TINGJIAN_"):
            monkeypatch.delenv(name)
    good = {"TINGJIAN_WECHAT_TOKEN": "realtoken42", "TINGJIAN_SERVER_LINK_SECRET": "8f3a2c91d0b64e7fa51c",
            "TINGJIAN_STORAGE_PATH": str(tmp_path / "t.db")}
    for name, value in {**good, **variables}.items():
        monkeypatch.setenv(name, value)
    example = Path(__file__).resolve().parents[1] / "config.example.toml"
    assert main(["serve", "--config", str(example)]) == 2
    err = capsys.readouterr().err
    assert key in err and "configuration error" in err
    assert not (tmp_path / "t.db").exists()


async def test_the_rates_csv_is_the_xlsx_in_text_and_audited(dialog):
    """The two formats of one export come from one helper (bot/web/exports._send): same rows, same headers."""
    import csv
    import io

    from openpyxl import load_workbook

    from tests.test_web import audit, browser, sign_in
    d = dialog
    await resolved(d)
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        async with s.get("/w/export/rates.csv", params={"kind": "month"}) as resp:
            assert resp.status == 200 and resp.headers["Content-Type"].startswith("text/csv")
            assert "attachment" in resp.headers["Content-Disposition"] and resp.headers["X-Frame-Options"] == "DENY"
            raw = await resp.read()
        async with s.get("/w/export/rates.xlsx", params={"kind": "month"}) as resp:
            sheet = load_workbook(io.BytesIO(await resp.read())).active
    assert raw.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    cells = [["" if c is None else str(c) for c in r] for r in sheet.iter_rows(values_only=True)]
    assert rows[0] == cells[0] and len(rows) == len(cells) >= 2 and [r[0] for r in rows] == [r[0] for r in cells]
    assert {r["action"] for r in await audit(d)} >= {"export:rates.csv", "export:rates.xlsx"}


async def test_rating_command_with_two_digits_is_asked_not_guessed(dialog):
    """"评价 1 3" from the owner of JY2611-0001: ticket 1 rated 不满意, or 满意 with the comment "3"? Never
    recorded as 满意."""
    d = dialog
    number = await resolved(d)
    await talk(d, PARENT, "评价 1 3", expect="1", absent=["感谢您的评价", "重新办理"])
    t = await ticket(d, number)
    assert t["state"] == "resolved" and t["rating"] is None
    await talk(d, PARENT, f"评价 {number} 3 还是没退", expect="重新办理")
    assert (await ticket(d, number))["rating"] == 3


# -- config: a value that names nothing ------------------------------------------------------------------------
async def test_a_mistyped_duty_office_stops_the_service_at_start(make_config):
    from bot.app import create_app
    from bot.config import ConfigError
    from tests.conftest import running
    with pytest.raises(ConfigError, match=r"routing.duty_office: 'jyj-bgz' is not a unit.*jyj-bgs"):
        async with running(create_app(make_config(routing={"duty_office": "jyj-bgz"}))):
            pass


async def test_thanks_that_tell_of_harm_are_not_closed_as_praise(dialog):
    """"表扬…但是王老师打了我家孩子耳光" was read as praise: closed at once, unhandled, and passed to the school with
    the accusation. Words of harm make it a complaint, never asked whether it is praise (issue: people)."""
    d = dialog
    await send(d, PARENT, type="scan", scene="school:jn-syxx")
    await talk(d, PARENT, "表扬一下学校食堂，但是王老师打了我家孩子耳光", absent=["感谢您的表扬", "1 投诉"])
    number = await file_ticket(d, PARENT, "0")  # no phone, and on through the questions
    t = await ticket(d, number)
    assert t["kind"] == "complaint" and t["unit_code"] == "jn-jyj" and "耳光" in t["text"]
    await school_never_got(d, "耳光")


@pytest.mark.parametrize("text, key", [
    ('[bot]\ntimezone = "Asia/Shangai"\n', "bot.timezone"),          # a typo: a traceback at start before
    ('[server]\npublic_url = "bot.example.edu.cn"\n', "server.public_url"),  # links sent without a scheme
    ('[routing]\nduty_office = " "\n', "routing.duty_office"),
])
def test_values_that_name_nothing_are_refused_with_the_key(tmp_path, text, key):
    from bot.config import ConfigError, load_config
    path = tmp_path / "c.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError, match=key):
        load_config(path, env={})
