"""trust18b: a month over reads the same when a citizen rejects its answer later. A 不满意 clears the 办结 it
rejects (the redo's 办结 comes later), so the month of that 办结 lost it; the row `_record_miss` keeps for it now
names its moment (`unit_misses.resolved_at`, m067) and the rates count it there, late as it was (and open past its
deadline at the ends before it). 满意率 counts each ticket's last rating of a unit's answer given in the period,
from the rating events, not the ticket's latest rating. trust17's three xfails say the same and pass."""
from __future__ import annotations

import datetime as dt

from handlers import rates
from storage import integrity, migrations, tickets
from tests.dialog import FEES, TZ, at, file_ticket, talk
from tests.rates_check import before_m059, nov
from tests.rates_check import period_rates as _month

NOBODY = "jn-yyxx"
NOV, DEC = (at("2026-11-01 00:00"), at("2026-12-01 00:00")), (at("2026-12-01 00:00"), at("2027-01-01 00:00"))
FEE = "学校要求每个学生交{n}元资料费，还不给收据"


def dec(n: int, hour: int = 10) -> float:
    return dt.datetime(2026, 12, n, hour, tzinfo=TZ).timestamp()


async def test_a_late_ticket_open_at_a_months_end_stays_late_there_when_its_late_answer_is_rejected(dialog):
    """收费管理处 let a November ticket pass its deadline: November ended with it open past the deadline (解决率
    0%（1）). It answered on 2 December and the parent rejected the answer: the redo has a new deadline, so on main
    November read 解决率 — (the ticket no longer past a deadline at its end). The kept 办结 is open past its
    deadline from then until that 办结: November still reads it late; December has the late 办结, not a miss."""
    d = dialog
    number = await file_ticket(d, "o_t18_h", FEE.format(n=900), scene="school:jn-syxx", consent="1")
    await talk(d, FEES, f"签收 {number}", expect="签收")
    assert (await d.db(tickets.get, number))["due_at"] < NOV[1]
    d.advance(at("2026-12-02 10:00") - d.clock.now())
    was = (await _month(d, ["jyj-sfc"], NOV))["jyj-sfc"]
    assert (was.resolved, was.open_overdue, was.resolution) == (0, 1, 0.0), was
    await talk(d, FEES, f"办结 {number} 已责成学校退还资料费并开具收据", expect="已办结")
    d.advance(3600)
    await talk(d, "o_t18_h", f"评价 {number} 3 收据还是没给", expect="重新办理")
    now_ = (await _month(d, ["jyj-sfc"], NOV))["jyj-sfc"]
    assert (now_.resolved, now_.open_overdue, now_.resolution) == (0, 1, 0.0), now_
    december = (await _month(d, ["jyj-sfc"], DEC))["jyj-sfc"]
    assert (december.resolved, december.resolved_in_time, december.open_overdue, december.left_late) == \
        (1, 0, 0, 0), december


async def answered_again_in_december(d, openid: str, n: int) -> str:
    """A fees complaint signed and answered in November, the answer rejected (不满意: redone), answered again on
    12-02: its number."""
    number = await file_ticket(d, openid, FEE.format(n=n), scene="school:jn-syxx", consent="1")
    await talk(d, FEES, f"签收 {number}", expect="签收")
    await talk(d, FEES, f"办结 {number} 已责成学校开具收据", expect="已办结")
    await talk(d, openid, f"评价 {number} 3 收据还是没给", expect="重新办理")
    d.advance(at("2026-12-02 10:00") - d.clock.now())
    await talk(d, FEES, f"办结 {number} 收据已补开", expect="已办结")
    return number


async def test_both_answers_of_a_reviewed_ticket_stay_in_their_months(dialog):
    """Two answers rejected, each in its own month, then the bureau's review: each 办结 stays a 办结 of
    收费管理处 in its month (the November one in time, the redo in December past its new deadline), and each
    month's 满意率 keeps the 不满意 given in it. (November also ends with the redo open past its deadline.)"""
    d = dialog
    number = await answered_again_in_december(d, "o_t18_v", 950)
    await talk(d, "o_t18_v", f"评价 {number} 3 还是没有", expect="复核")
    assert (await d.db(tickets.get, number))["review"]
    for period, in_time, open_late in ((NOV, 1, 1), (DEC, 0, 0)):
        r = (await _month(d, ["jyj-sfc"], period))["jyj-sfc"]
        assert (r.resolved, r.resolved_in_time, r.open_overdue, r.rated, r.satisfied) == \
            (1, in_time, open_late, 1, 0), (period, r)


def _old_history(db) -> tuple[str, str]:
    """Written by the code before m067 (its schema): the duty office answered two tickets in November, one in
    time and one a day late, and both parents rejected the answers on 2 December."""
    numbers = []
    for n, resolved in ((1, nov(5)), (2, nov(11))):
        t = tickets.create(db, openid=f"o_{n}", kind="complaint", category="other_edu", unit_code="jyj-bgs",
                           school_code=None, text="x", attachments=[], contact_phone=None, anonymous=False,
                           routing={}, now=nov(2), due_at=nov(10), tz=TZ, accept_due_at=nov(3))
        t = tickets.transition(db, t, "accepted", "o_duty", nov(2, 11), "accept", accepted_by="o_duty",
                               accepted_at=nov(2, 11))
        t = tickets.transition(db, t, "resolved", "o_duty", resolved, "resolve", resolved_at=resolved)
        tickets.transition(db, t, "reopened", f"o_{n}", dec(2), "reopen", rating=3, rated_at=dec(2),
                           rated_unit="jyj-bgs", reopens=1, due_at=dec(9), resolved_at=None)
        numbers.append(t["number"])
    return numbers[0], numbers[1]


def _duty(db, period) -> rates.Rates:
    return rates.for_period(db, *period, ["jyj-bgs"], dec(5)).get("jyj-bgs", rates.Rates())


def _figures(r: rates.Rates) -> tuple:
    return r.resolved, r.resolved_in_time, r.open_overdue, r.left_late


def test_the_upgrade_keeps_the_answers_rejected_before_it_in_their_months_after_start_up(tmp_path):
    """A database before m067: November's two 办结 were cleared by the 不满意 of 2 December (the late one a miss of
    December). The upgrade itself changes nothing (start-up stays short); the fill after start-up (job
    upgrade-fill) gives both their month back, verify-rates agrees before, during and after it, and a fill
    stopped after its write and run again writes nothing twice."""
    db = before_m059(tmp_path / "t.db", NOBODY, "m067_kept_resolutions")
    in_time, late = _old_history(db)
    old = (_figures(_duty(db, NOV)), _figures(_duty(db, DEC)))
    assert old == ((0, 0, 0, 0), (0, 0, 1, 1)), old
    migrations.migrate(db)
    while tickets.resolve_since_pending(db):
        tickets.resolve_since_store(db, tickets.resolve_since_next(db, 200))
    while tickets.recredit_range(db) is not None:
        tickets.recredit_store(db, *tickets.recredit_next(db), dec(5))
    assert (_figures(_duty(db, NOV)), _figures(_duty(db, DEC))) == old  # until the fill reaches them: as before
    for period in (NOV, DEC):
        assert integrity.differences(db, *period) == [] and integrity.against_events(db, *period) == []
    assert tickets.kept_resolved_range(db) is not None
    upto, found = tickets.kept_resolved_next(db, 3)  # a first range only: the fill is stopped half-way
    tickets.kept_resolved_store(db, upto, found)
    while tickets.kept_resolved_range(db) is not None:
        step = tickets.kept_resolved_next(db)
        tickets.kept_resolved_store(db, *step)
        tickets.kept_resolved_store(db, *step)  # the same range written again (a run stopped after its write)
    assert (_figures(_duty(db, NOV)), _figures(_duty(db, DEC))) == ((2, 1, 0, 0), (0, 0, 0, 0))
    assert db.execute("SELECT count(*) FROM unit_misses").fetchone()[0] == 2
    for period in (NOV, DEC):
        assert integrity.differences(db, *period) == [] and integrity.against_events(db, *period) == []
    # a kept 办结 moved to another month, or deleted, is named by verify-rates
    db.execute("UPDATE unit_misses SET resolved_at = ? WHERE ticket_id = (SELECT id FROM tickets WHERE number = ?)",
               [nov(20), late])
    assert integrity.against_events(db, *NOV) == [{"number": late, "what": "kept_resolved"}]
    db.execute("DELETE FROM unit_misses WHERE ticket_id = (SELECT id FROM tickets WHERE number = ?)", [in_time])
    assert {"number": in_time, "what": "kept_resolved"} in integrity.against_events(db, *DEC)


def test_a_new_database_keeps_a_rejected_answer_and_has_nothing_to_fill(tmp_path):
    """The same history on a database at m067: the rows are written as the 不满意 clears each 办结, the fill has
    nothing to do, and the figures are those the upgrade reaches."""
    db = before_m059(tmp_path / "t.db", NOBODY, "m067_kept_resolutions")
    migrations.migrate(db)
    assert tickets.kept_resolved_range(db) is None
    _old_history(db)
    assert (_figures(_duty(db, NOV)), _figures(_duty(db, DEC))) == ((2, 1, 0, 0), (0, 0, 0, 0))
    for period in (NOV, DEC):
        assert integrity.differences(db, *period) == [] and integrity.against_events(db, *period) == []


def test_the_fill_and_the_check_of_kept_resolutions_read_only_index_ranges(tmp_path):
    """Their cost follows the events of the range (the fill) or the period (verify-rates), never the history:
    each statement they issue searches an index (or the events' rowid range), none scans a table."""
    db = before_m059(tmp_path / "t.db", NOBODY, "m067_kept_resolutions")
    _old_history(db)
    migrations.migrate(db)
    while tickets.recredit_range(db) is not None:
        tickets.recredit_store(db, *tickets.recredit_next(db), dec(5))
    seen: list[tuple[str, list]] = []
    db._tracer = lambda sql, params: seen.append((sql, list(params or ())))
    tickets.kept_resolved_store(db, *tickets.kept_resolved_next(db))
    rates.for_period(db, *NOV, ["jyj-bgs"], dec(5))
    db._tracer = None
    statements = [(sql, params) for sql, params in seen if "unit_misses" in sql or "e.id > ?" in sql]
    statements += [(sql, [*NOV]) for sql in integrity._KEPT_SQL]
    assert len(statements) >= 6
    for sql, params in statements:
        plan = " | ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), (sql, plan)


async def test_a_months_trace_names_the_rating_given_in_it(dialog):
    """The unit's 三率明细 for November lists the ticket with the rating November counted (不满意), not the redo's
    满意 given in December: the line says what the figure rests on."""
    import re

    import aiohttp

    from tests.dialog import LEADER
    from tests.test_web import sign_in
    d = dialog
    number = await answered_again_in_december(d, "o_t18_s", 990)
    await talk(d, "o_t18_s", f"评价 {number} 1", expect="感谢")
    async with aiohttp.ClientSession(base_url=str(d.session._base_url),
                                     cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        await sign_in(d, s, LEADER)
        lines = {}
        for month in ("2026-11", "2026-12"):
            async with s.get(f"/w/rates/jyj-sfc?period={month}") as resp:
                page = await resp.text()
            assert resp.status == 200 and number in page, page[:2000]
            text = re.sub(r"<[^>]+>", " ", page)
            line = text[text.index(number) + len(number):]
            lines[month] = line[:line.find("JY")] if "JY" in line else line[:400]
    assert "不满意" in lines["2026-11"], lines["2026-11"]
    assert "不满意" not in lines["2026-12"] and "满意" in lines["2026-12"], lines["2026-12"]
