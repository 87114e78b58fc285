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


# -- 2. ID numbers in a citizen's words are masked for staff, by the one rule for personal numbers ---------------
IDS = [  # (as written, as staff read it)
    ("身份证110101199003071234", "身份证110***********1234"),
    ("身份证号11010119900307123X，电话13812345678", "身份证号110***********123X，电话138****5678"),
    ("号码11010120120229002x。", "号码110***********002X。"),
    ("老身份证110101900307123", "老身份证110*********123"),
    ("110101 19900307 123X", "110***********123X"),
    ("一一零一零一一九九零零三零七一二三四", "110***********1234"),
    ("１１０１０１１９９００３０７１２３４", "110***********1234"),
    ("孩子身份证是110101201503071234，学号20230101", "孩子身份证是110***********1234，学号20230101"),
]
NOT_IDS = [
    "JY2612-0001", "JY2612-00011", "20261130", "2026-11-30", "二〇二六年十一月三十日", "三年级二班", "2023级1班",
    "收了300000000000000000元", "学号20230101", "订单号123456789012345678",  # no birth date in it
    "银行卡6222021234567890123", "1101011990030712345",  # 19 digits: no ID
    "11010119900307123", "110101199013071234", "110101199002321234",  # 17 digits; month 13; day 32
    "1101011990030712345X", "110101900307123X", "01010119900307123X",  # too long; 15 + X; a place from 0
    "交了一百五十元", "138一二三四5678",  # a phone is still a phone
]


def test_an_id_number_is_masked_and_numbers_that_are_none_are_not():
    from handlers import privacy
    for written, shown in IDS:
        assert privacy.numbers_masked(written) == shown, written
    for words in NOT_IDS[:-1]:
        assert privacy.numbers_masked(words) == words, words
    assert privacy.numbers_masked("138一二三四5678") == "138****5678"


async def test_staff_read_an_id_number_masked_everywhere_and_the_citizen_reads_it_whole(dialog):
    """An ID number in the story or in a voice message's words reached the unit's people whole: the new-ticket
    push, 详情, the workbench's page and the attachments page (phones in the same text were masked)."""
    from tests.dialog import FEES, LEADER, heard
    from tests.test_attachments import LINK
    from tests.test_web import browser, sign_in
    d = dialog
    words = "学校收资料费300元不给收据，孩子身份证110101201503071234，学号20230101，三年级二班"
    number = await file_ticket(d, PARENT, words, phone="0",
                               attachments=[{"type": "voice", "recognition": "我的身份证是11010119850307123X"}])
    pushed = await heard(d, FEES, expect=number)
    detail = await talk(d, FEES, f"详情 {number}")
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        page = await (await s.get(f"/w/t/{number}")).text()
    async with d.session.get(LINK.search(detail).group(1)) as resp:
        attached = await resp.text()
    for seen in (pushed, detail, page, attached):
        assert "20150307" not in seen and "19850307" not in seen, seen
    for seen in (detail, page):
        assert "110***********1234" in seen and "学号20230101" in seen and "三年级二班" in seen, seen
    assert "110***********123X" in attached, attached
    await talk(d, PARENT, f"查询 {number}", expect="110101201503071234")  # their own words, as written


# -- 3. verify-rates: a departure taken out behind every trigger that guards it ----------------------------------
GUARDS = ("case_departures_no_delete", "case_departure_days_no_delete", "case_departure_days_no_less",
          "ticket_events_no_delete")


def behind_dropped_triggers(path, sql: str) -> None:
    """What someone with the file and the sqlite3 shell would do: drop every trigger that guards the departures,
    their day counts and the events, run `sql`, make each again as it was (nothing to see in the schema)."""
    import shutil
    import sqlite3
    import subprocess
    with sqlite3.connect(path) as c:
        made = [c.execute("SELECT sql FROM sqlite_master WHERE name = ?", [n]).fetchone()[0] for n in GUARDS]
        schema = sorted(r[0] for r in c.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL"))
    script = "".join(f"DROP TRIGGER {n};\n" for n in GUARDS) + sql + ";\n" + "".join(m + ";\n" for m in made)
    if not shutil.which("sqlite3"):
        pytest.skip("the sqlite3 shell is not installed (apt install sqlite3)")
    subprocess.run(["sqlite3", str(path)], input=script, text=True, check=True, capture_output=True)
    with sqlite3.connect(path) as c:
        assert sorted(r[0] for r in c.execute("SELECT sql FROM sqlite_master WHERE sql IS NOT NULL")) == schema


# the 退回ed ticket's departure row, its kept case, and its day's count put right (the other ticket's row alone)
ROW_CASE_AND_COUNT = ("DELETE FROM case_departures WHERE ticket_id = {tid}; DELETE FROM unit_cases WHERE ticket_id = {tid};"
                      "UPDATE case_departure_days SET n = n - 1, first = (SELECT min(event_id) FROM case_departures), "
                      "last = (SELECT max(event_id) FROM case_departures)")


def test_a_departure_deleted_with_its_days_count_put_right_is_named_from_the_events(tmp_path):
    """m075's day count only saw a day short: with its triggers dropped too and the count lowered to match, the
    list, the count and the kept cases agreed and November was clean -- a 派发 gone from October's figures. The
    period's events are read against the list now: the 退回 event is still there, so its ticket is named (its
    departure unlisted, and its kept case replayed and missing)."""
    import sqlite_utils

    from tests.test_trust19 import NOV
    from tests.test_trust21 import _found, _id, _upgraded
    db, t1, t2 = _upgraded(tmp_path)
    assert _found(db, NOV) == set()
    tid = _id(db, t2)
    db.close()
    behind_dropped_triggers(tmp_path / "t.db", ROW_CASE_AND_COUNT.format(tid=tid))
    db = sqlite_utils.Database(tmp_path / "t.db")
    assert db.execute("SELECT n FROM case_departure_days").fetchall() == [(1,)]
    assert _found(db, NOV) == {(t2, "departure"), (t2, "case")}


def test_a_deleted_event_leaves_a_hole_in_the_ids_that_is_named(tmp_path):
    """The 退回 event itself deleted (ticket_events' trigger dropped), with its list row, day count and kept case: no
    departure left to derive. The ids of events are given in turn and never deleted, so the hole is named (and
    the ticket, whose record no longer backs it). A later event keeps the hole inside the ids (the last event
    deleted leaves none: its ticket then disagrees with its latest event, as before)."""
    import sqlite_utils

    from tests.dialog import at
    from tests.test_trust19 import NOV
    from tests.test_trust21 import _found, _id, _upgraded
    db, t1, t2 = _upgraded(tmp_path)
    tickets.record(db, tickets.get(db, t1), "note", "o_jn", at("2026-11-20 10:00"), "已联系家长")
    db.conn.commit()
    assert _found(db, NOV) == set()
    tid = _id(db, t2)
    event = db.execute("SELECT event_id FROM case_departures WHERE ticket_id = ?", [tid]).fetchone()[0]
    db.close()
    behind_dropped_triggers(tmp_path / "t.db", f"DELETE FROM ticket_events WHERE id = {event}; "
                                               + ROW_CASE_AND_COUNT.format(tid=tid))
    found = _found(sqlite_utils.Database(tmp_path / "t.db"), NOV)
    assert (f"操作记录#{event}", "event_gone") in found and {n for n, _ in found} == {f"操作记录#{event}", t2}, found


def test_a_deleted_event_under_a_kept_list_row_is_named(tmp_path, capsys):
    """Only the 退回 event deleted: its list row stays, the day count agrees; the row is no event's now. The
    command says so and exits 1."""
    import sqlite_utils

    from bot.cli import main
    from tests.conftest import write_cli_config

    from tests.dialog import at
    from tests.test_trust19 import NOV
    from tests.test_trust21 import _found, _id, _upgraded
    db, t1, t2 = _upgraded(tmp_path)
    tickets.record(db, tickets.get(db, t1), "note", "o_jn", at("2026-11-20 10:00"), "已联系家长")
    db.conn.commit()
    tid = _id(db, t2)
    event = db.execute("SELECT event_id FROM case_departures WHERE ticket_id = ?", [tid]).fetchone()[0]
    db.close()
    behind_dropped_triggers(tmp_path / "t.db", f"DELETE FROM ticket_events WHERE id = {event}")
    found = _found(sqlite_utils.Database(tmp_path / "t.db"), NOV)
    assert {(t2, "departure"), (f"操作记录#{event}", "event_gone")} <= found, found
    config = str(write_cli_config(tmp_path / "c.toml", str(tmp_path / "t.db")))
    assert main(["verify-rates", "--period", "2026-11", "--config", config]) == 1
    out = capsys.readouterr().out
    assert f"操作记录#{event}：缺失（操作记录只增不删" in out and f"{t2}：升级前的转出记录" in out, out


def test_the_new_checks_read_rowid_and_index_ranges_only(tmp_path):
    """The hole and the list-against-events checks search rowid ranges and indexes, never scan a table: their cost
    follows the period (the events of a month before m070 once), not the years of history."""
    import sqlite_utils

    from storage import integrity
    from tests.test_trust19 import NOV
    from tests.test_trust21 import _id, _upgraded
    db, t1, t2 = _upgraded(tmp_path)
    tid = _id(db, t2)
    db.close()
    behind_dropped_triggers(tmp_path / "t.db", ROW_CASE_AND_COUNT.format(tid=tid))
    db = sqlite_utils.Database(tmp_path / "t.db")
    seen: list[tuple[str, list]] = []
    db._tracer = lambda sql, params: seen.append((sql, list(params or ())))
    assert integrity._departures_unlisted(db, *NOV, integrity._marks(db))[0] == {(t2, "departure")}
    integrity._events_gone(db, *NOV)
    db._tracer = None
    seen = [(sql, p) for sql, p in seen if "integrity_marks" not in sql]
    assert len(seen) >= 5
    for sql, params in seen:
        plan = " | ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), (sql, plan)


# -- 4. told again that it waits, after someone on duty had promised a date ---------------------------------------
async def test_a_parent_promised_a_date_is_told_again_when_everyone_is_gone(dialog):
    """Filed with nobody bound: told it waits (no deadline). A handler bound later signed it: "将于…前办结". Then
    everyone left again: "told once" was once per ticket's life, so the parent, promised a date nobody was left to
    keep, heard nothing at the next reminder. Now a push from someone on duty ends the spell: they are told once
    more that it waits (as the last person leaves, since audit28), and the reminders after it do not repeat it."""
    from tests.dialog import heard, settle
    from tests.test_audit20 import nobody_bound, pushed_to
    d = dialog
    await nobody_bound(d)
    number = await file_ticket(d, PARENT, "实验小学收资料费300元不给收据", scene="school:jn-syxx")
    assert (await d.db(tickets.get, number))["unit_code"] == "jyj-sfc"
    new = "o_new_sfc_audit27"
    code = await d.db(lambda db: staff.create_invite(db, "jyj-sfc", "handler", "收费管理处·新老师", d.clock.now(), 3600))
    await talk(d, new, f"绑定 {code}", expect="绑定")
    await talk(d, new, f"签收 {number}", expect="已签收")
    await heard(d, PARENT, expect=["已由", "前办结"])
    before = len(await pushed_to(d, PARENT))
    await console(d, lambda db, desk: desk.remove_staff(db, new, by=staff.CONSOLE))  # told now (audit28)
    for _ in range(6):  # a working week: past half and 80% of the time, each a reminder that reaches nobody
        d.advance(86400)
        await d.sweep()
        assert await settle(d, PARENT)
    told = (await pushed_to(d, PARENT))[before:]
    assert sum("暂无工作人员值守" in m for m in told) == 1, told


# -- 5. survey figures already counted never move: a lowered cap, a redo after the month closed -------------------
def _survey_app(tmp_path, cap: int, clock):
    import contextlib
    import dataclasses

    import aiohttp

    from bot.app import create_app
    from bot.demo import demo_config
    from tests.conftest import running
    from tests.test_process import held_port

    @contextlib.asynccontextmanager
    async def run():
        port = held_port()
        config = demo_config(port=port, data_dir=str(tmp_path))
        config = dataclasses.replace(config, campaign=dataclasses.replace(config.campaign, units_per_person=cap))
        async with running(create_app(config, clock=clock), port) as app:
            async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as session:
                yield app, session
    return run()


async def _figures(app, month: str) -> dict:
    """Each unit's 评议 for the review of `month` (review.build's period_units) and the survey's overall results."""
    from bot.app import DB
    from handlers import review
    from handlers.survey_results import period_units, survey_results
    survey = app[DISPATCHER].campaign.p.surveys["school-2026"]
    start, end = review.bounds(month, app[DISPATCHER].desk.calendar.tz)

    def read(db):
        per = period_units(db, {survey.id: survey}, start, end, 1)
        return {code: {s: (u.n, u.score) for s, u in v.items()} for code, v in per.items()}
    return await app[DB].read(read)


async def test_lowering_the_cap_moves_no_counted_figure_and_a_counted_unit_may_be_rated_again(tmp_path):
    """Three units rated under a cap of 3; restarted with units_per_person = 1: November's figures are what they
    were (answers counted stay counted); a fourth unit is refused by the new cap; one of the three beyond it is still
    the person's to rate again (it was refused: "最多评价1个单位", a counted answer neither redone nor dropped)."""
    from handlers.clock import FixedClock
    from tests.test_audit21 import NAMES, SCHOOLS, rate
    from tests.test_survey import MONDAY, Phone
    clock = FixedClock(MONDAY)
    async with _survey_app(tmp_path, 3, clock) as (app, session):
        parent = Phone(session, "o_cap_lowered")
        for code in SCHOOLS[:3]:
            assert "评议完成" in await rate(parent, code)
        before = await _figures(app, "2026-11")
    assert set(before) == set(SCHOOLS[:3])
    clock.advance(3600)  # (a scan at the same second as run 1's would be taken for its retry)
    async with _survey_app(tmp_path, 1, clock) as (app, session):
        assert await _figures(app, "2026-11") == before
        parent = Phone(session, "o_cap_lowered")
        refused = await parent.scan(f"survey:school-2026:{SCHOOLS[3]}")
        assert "最多评价1个单位" in refused and NAMES[3] in refused, refused
        again = await parent.scan(f"survey:school-2026:{SCHOOLS[1]}")
        assert "重新评议" in again and "最多评价" not in again, again
        assert await _figures(app, "2026-11") == before


async def test_a_redo_after_the_month_closed_moves_no_closed_figure(tmp_path):
    """The survey runs November to December; the review counts an answer in the month it was sent. A parent who
    rated in November and again on 12-02 took their answer out of November's closed review (and into December's).
    Now answers of a closed month stay as they are: the parent is told they count for November; a redo begun on
    11-30 and sent on 12-01 is refused when sent. November's figure never moves."""
    from handlers.clock import FixedClock
    from tests.dialog import at
    from tests.test_audit21 import ONES, SCHOOLS, rate
    from tests.test_survey import Phone
    clock = FixedClock(at("2026-11-23 10:00"))
    async with _survey_app(tmp_path, 3, clock) as (app, session):
        parent = Phone(session, "o_redo_late")
        for code in SCHOOLS[:2]:
            assert "评议完成" in await rate(parent, code)
        november = await _figures(app, "2026-11")
        clock.at = at("2026-11-30 23:50")
        assert "重新评议" in await parent.scan(f"survey:school-2026:{SCHOOLS[1]}")
        for answer in ["1"] + ["5"] * 5 + ["1"]:
            await parent.say(answer)
        clock.at = at("2026-12-01 00:05")
        late = await parent.say("0")  # the last question, sent in December
        assert "计入2026年11月的考核结果" in late and "评议完成" not in late, late
        clock.at = at("2026-12-02 10:00")
        told = await parent.scan(f"survey:school-2026:{SCHOOLS[0]}")
        assert "计入2026年11月的考核结果" in told and "第1/7题" not in told and "重新评议" not in told, told
        assert await _figures(app, "2026-11") == november
        assert await _figures(app, "2026-12") == {}


# -- 6. the one notice that carried a citizen's words past the mask ------------------------------------------------
async def test_a_message_flagged_for_staff_shows_its_numbers_masked(tmp_path):
    """A message whose handling failed every retry is sent to the duty office to answer by hand, its words quoted:
    the phone and ID number in them were shown whole (the notice was written past desk.for_staff)."""
    import json

    from storage import outbox
    from storage.db import Database
    from tests.test_operations import failed_for_good
    store = Database(tmp_path / "r.db").start()
    try:
        await failed_for_good(store, "我要投诉食堂，电话13812345678，孩子身份证110101201503071234")
        [note] = await store.run(outbox.list_for, "o_duty")
        content = json.loads(note["payload"])["content"]
        assert "我要投诉食堂" in content and "138****5678" in content and "110***********1234" in content, content
        assert "13812345678" not in content and "20150307" not in content, content
    finally:
        store.close()
