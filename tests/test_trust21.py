"""trust21: verify-rates sees what feeds a unit's review and no event names. The 签收 cases kept for departures
before m070 (its back-fill) are checked by replaying the events of the tickets that departed in the period (m072
lists those departures by time); m071's rating_redos (the trend's 满意率 of earlier periods) against the rating
events it is derived from. A deleted or changed row is named (exit 1), nothing is repaired; untouched data gives
no finding."""
from __future__ import annotations

import pytest

from storage import integrity, migrations, tickets
from tests.dialog import TZ, at
from tests.rates_check import before_m059
from tests.test_trust19 import NOBODY, NOV, OCT, _fill, _old_history, _other_fills


def _departures_filled(db) -> int:
    n = 0
    while tickets.case_departures_range(db) is not None:
        n += tickets.case_departures_store(db, *tickets.case_departures_next(db, 3))
    return n


def _upgraded(tmp_path):
    """trust19's history before m066 (two October tickets of 收费管理处, one 转派ed and one 退回ed on 11-05),
    upgraded, m070's fill and m072's run: two back-filled kept cases, each ended in November."""
    db = before_m059(tmp_path / "t.db", NOBODY, "m066_unit_cases")
    db.execute("INSERT INTO units (code, name, kind, parent) VALUES ('jyj-sfc', '收费管理处', 'office', 'jyj')")
    t1, t2 = _old_history(db)
    migrations.migrate(db)
    _other_fills(db)
    _fill(db)
    assert _departures_filled(db) == 2  # the 转派 and the 退回 (m072's list, from the events)
    db.conn.commit()
    return db, t1, t2


def _id(db, number: str) -> int:
    return db.execute("SELECT id FROM tickets WHERE number = ?", [number]).fetchone()[0]


def _found(db, period) -> set[tuple[str, str]]:
    return {(f["number"], f["what"]) for f in integrity.against_events(db, *period)}


CHANGES = {
    "deleted": "DELETE FROM unit_cases WHERE ticket_id = ?",
    # its 签收 gone: 响应率 of October falls (and October's check, by its start, sees it too)
    "unsigned": "UPDATE unit_cases SET accepted_at = NULL WHERE ticket_id = ?",
    # moved to another month: October loses its 派发, which the check of October cannot see (the row is gone from it)
    "moved": "UPDATE unit_cases SET dispatched_at = dispatched_at - 20 * 86400 WHERE ticket_id = ?",
    "stood_in": "UPDATE unit_cases SET stood_in = 'jn-yyxx' WHERE ticket_id = ?",
    "window": "UPDATE unit_cases SET accept_due_at = accept_due_at + 86400 WHERE ticket_id = ?",
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_a_back_filled_case_deleted_or_changed_is_found_in_the_month_of_its_departure(tmp_path, change):
    """Untouched: no finding in October or November. A kept case the fill wrote (no event names it) deleted or
    changed: November's check (the month it ended) names its ticket, the other ticket stays clean."""
    db, t1, t2 = _upgraded(tmp_path)
    assert db.execute("SELECT count(*) FROM unit_cases").fetchone()[0] == 2
    for p in (OCT, NOV):
        assert _found(db, p) == set()
    db.execute(CHANGES[change], [_id(db, t1)])
    db.conn.commit()
    assert _found(db, NOV) == {(t1, "case")}
    if change in ("unsigned", "stood_in", "window"):  # still begun in October: its check, by the case's start
        assert _found(db, OCT) == {(t1, "case")}


def test_until_m070s_fill_reaches_a_departure_its_missing_case_is_no_finding(tmp_path):
    """Before m070's fill has kept a ticket's cases, the ticket reads as before m066 (no case): not a deletion."""
    db = before_m059(tmp_path / "t.db", NOBODY, "m066_unit_cases")
    db.execute("INSERT INTO units (code, name, kind, parent) VALUES ('jyj-sfc', '收费管理处', 'office', 'jyj')")
    _old_history(db)
    migrations.migrate(db)
    _other_fills(db)
    _departures_filled(db)
    assert db.execute("SELECT count(*) FROM unit_cases").fetchone()[0] == 0
    assert _found(db, NOV) == set()
    _fill(db)
    assert _found(db, NOV) == set()


def test_the_departures_list_is_append_only_and_empty_on_a_new_database(tmp_path):
    import sqlite3

    import sqlite_utils
    db, t1, _ = _upgraded(tmp_path)
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("DELETE FROM case_departures")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        db.execute("UPDATE case_departures SET at = 0")
    new = sqlite_utils.Database(tmp_path / "new.db")
    migrations.migrate(new)
    assert tickets.case_departures_range(new) is None


def test_verify_rates_names_a_deleted_back_filled_case_exits_1_and_repairs_nothing(tmp_path, capsys):
    from bot.cli import main
    from tests.conftest import write_cli_config
    db, t1, t2 = _upgraded(tmp_path)
    config = str(write_cli_config(tmp_path / "c.toml", str(tmp_path / "t.db")))
    assert main(["verify-rates", "--period", "2026-11", "--config", config]) == 0, capsys.readouterr().out
    capsys.readouterr()
    db.execute("DELETE FROM unit_cases WHERE ticket_id = ?", [_id(db, t2)])
    db.conn.commit()
    before = db.execute("SELECT * FROM unit_cases ORDER BY id").fetchall()
    days = db.execute("SELECT * FROM unit_days ORDER BY day, unit_code").fetchall()
    code = main(["verify-rates", "--period", "2026-11", "--repair", "--config", config])
    out = capsys.readouterr().out
    assert code == 1 and t2 in out and "转出前保留的派发与签收记录与操作记录不符" in out and t1 not in out, out
    assert db.execute("SELECT * FROM unit_cases ORDER BY id").fetchall() == before
    assert db.execute("SELECT * FROM unit_days ORDER BY day, unit_code").fetchall() == days


# -- (b) rating_redos -----------------------------------------------------------------------------------------

def _rated_twice(tmp_path):
    """A November ticket of 收费管理处: answered, 不满意 (redo), answered again, 满意; another answered and 满意 at
    once (no redo: not listed). rating_redos as m071's trigger writes it: the 不满意 and the rating after it."""
    import sqlite_utils
    db = sqlite_utils.Database(tmp_path / "r.db")
    migrations.migrate(db)
    for code, name, kind, parent in (("jyj", "市教育局", "bureau", None), ("jyj-bgs", "值班室", "office", "jyj"),
                                     ("jyj-sfc", "收费管理处", "office", "jyj")):
        db.execute("INSERT INTO units (code, name, kind, parent) VALUES (?, ?, ?, ?)", [code, name, kind, parent])
    made = []
    for n, redo in ((1, True), (2, False)):
        t = tickets.create(db, openid=f"o_t21_{n}", kind="complaint", category="fees", unit_code="jyj-sfc",
                           school_code=None, text="x", attachments=[], contact_phone=None, anonymous=False,
                           routing={}, now=at("2026-11-02 10:00"), due_at=at("2026-11-20 10:00"), tz=TZ,
                           accept_due_at=at("2026-11-03 10:00"))
        t = tickets.transition(db, t, "accepted", "o_sfc", at("2026-11-02 11:00"), "accept", accepted_by="o_sfc",
                               accepted_at=at("2026-11-02 11:00"))
        t = tickets.transition(db, t, "resolved", "o_sfc", at("2026-11-05 10:00"), "resolve", "已处理",
                               resolution="已处理", resolved_at=at("2026-11-05 10:00"))
        if redo:
            t = tickets.transition(db, t, "reopened", t["openid"], at("2026-11-06 10:00"), "reopen", "不满意",
                                   rating=3, rated_at=at("2026-11-06 10:00"), reopens=1, resolved_at=None,
                                   due_at=at("2026-11-16 10:00"), rated_unit="jyj-sfc")
            t = tickets.transition(db, t, "accepted", "o_sfc", at("2026-11-06 11:00"), "accept",
                                   accepted_by="o_sfc", accepted_at=t["accepted_at"])
            t = tickets.transition(db, t, "resolved", "o_sfc", at("2026-11-09 10:00"), "resolve", "已重新处理",
                                   resolution="已重新处理", resolved_at=at("2026-11-09 10:00"))
        t = tickets.transition(db, t, "closed", t["openid"], at("2026-11-10 10:00"), "rate", "满意", rating=1,
                               rated_at=at("2026-11-10 10:00"), rated_unit="jyj-sfc", closed_at=at("2026-11-10 10:00"),
                               close_reason="rated")
        made.append(t["number"])
    db.conn.commit()
    return db, made[0], made[1]


REDO_CHANGES = {
    "deleted": ("DELETE FROM rating_redos WHERE redo = 0", "first"),
    "deleted_redo": ("DELETE FROM rating_redos WHERE redo = 1", "first"),
    # the 不满意 made a plain rating: the trend would count it satisfied
    "redo_flipped": ("UPDATE rating_redos SET redo = 0 WHERE redo = 1", "first"),
    "unit_changed": ("UPDATE rating_redos SET unit_code = 'jyj-bgs' WHERE redo = 1", "first"),
    # a row for the other ticket's own rating (no 不满意 before it): forged
    "forged": ("INSERT INTO rating_redos (event_id, ticket_id, at, redo, unit_code) SELECT id, ticket_id, at, 1, "
               "unit_code FROM ticket_events WHERE action = 'rate' AND ticket_id = (SELECT id FROM tickets WHERE "
               "number = ?)", "second"),
    "no_event": ("INSERT INTO rating_redos (event_id, ticket_id, at, redo, unit_code) SELECT 9999, ticket_id, "
                 "at + 60, 1, unit_code FROM rating_redos WHERE redo = 1", "first"),
}


@pytest.mark.parametrize("change", list(REDO_CHANGES))
def test_rating_redos_deleted_changed_or_forged_is_found(tmp_path, change):
    db, first, second = _rated_twice(tmp_path)
    assert db.execute("SELECT redo FROM rating_redos ORDER BY event_id").fetchall() == [(1,), (0,)]
    assert _found(db, NOV) == set()
    sql, who = REDO_CHANGES[change]
    db.execute(sql, [second] if "?" in sql else [])
    db.conn.commit()
    assert _found(db, NOV) == {(first if who == "first" else second, "rating_redo")}


def test_rating_redos_the_fill_wrote_are_checked_once_it_reached_them(tmp_path):
    """As if the history were before m071: nothing listed and the fill not run, no finding (the trend reads the
    events meanwhile); the fill run, the same check as for the trigger's rows."""
    db, first, _ = _rated_twice(tmp_path)
    with db.conn:
        db.execute("DELETE FROM rating_redos")
        db.execute("UPDATE integrity_marks SET value = (SELECT max(id) + 1 FROM ticket_events) "
                   "WHERE name = 'rating_redos_from'")
        db.execute("UPDATE integrity_marks SET value = 0 WHERE name = 'rating_redos_scanned'")
    db.__dict__.pop("fills_done", None)
    assert _found(db, NOV) == set()
    while tickets.redone_range(db) is not None:
        tickets.rating_redos_store(db, *tickets.rating_redos_next(db, 3))
    assert db.execute("SELECT count(*) FROM rating_redos").fetchone()[0] == 2
    assert _found(db, NOV) == set()
    db.execute("DELETE FROM rating_redos WHERE redo = 1")
    assert _found(db, NOV) == {(first, "rating_redo")}


def test_the_new_checks_read_index_ranges_only(tmp_path):
    """Each statement of the two checks searches an index (the period's range, or one ticket's events), none
    scans a table: their cost follows the period, never the years of history."""
    db, _, _ = _upgraded(tmp_path)
    seen: list[tuple[str, list]] = []
    db._tracer = lambda sql, params: seen.append((sql, list(params or ())))
    integrity._departed_cases_disagree(db, *NOV, integrity._marks(db))
    db._tracer = None
    statements = [(sql, p) for sql, p in seen if "integrity_marks" not in sql]
    statements += [(sql, [*NOV]) for sql in integrity._REDOS_SQL]
    assert len(statements) >= 5
    for sql, params in statements:
        plan = " | ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), (sql, plan)


# -- (c) found on the way: m059's rename read as a move by m070's back-fill -----------------------------------

def _open_stand_in_before_m059(tmp_path, stop_before: str | None = None):
    """Old code (before m059): the duty office stands in for 育英小学 (nobody bound) on 11-02, written with its own
    code, and signs it at once; the ticket is still open when the upgrade renames the part its 代收 account."""
    from tests.rates_check import nov
    db = before_m059(tmp_path / "s.db", NOBODY)
    t = tickets.create(db, openid="o_t21_s", kind="complaint", category="burden", unit_code=NOBODY,
                       school_code=NOBODY, text="x", attachments=[], contact_phone=None, anonymous=False, routing={},
                       now=nov(2), due_at=nov(10), tz=TZ, accept_due_at=nov(3))
    t = tickets.transition(db, t, "assigned", "system", nov(2), "unattended", "无人绑定，已转值班室。", unattended=1,
                           response_unit="jyj-bgs", resolve_unit="jyj-bgs", stood_in=1)
    tickets.transition(db, t, "accepted", "o_duty", nov(2, 11), "accept", accepted_by="o_duty",
                       accepted_at=nov(2, 11))
    if stop_before:
        migrations.migrations.apply(db, stop_before=stop_before)
    else:
        migrations.migrate(db)
    _other_fills(db)
    return db, t["number"]


def test_m059s_rename_of_a_stand_ins_part_is_no_departure_for_the_back_fill(tmp_path):
    """m059 renamed the open ticket's 签收 part 代收:jyj-bgs (a `recredit` event). The replay read that as the part
    moving: m070's fill kept a case for the duty office's own code (in its own November rates, signed in time) and
    began the ticket's case again at the upgrade. Read as the rename it is: no kept case, the ticket's case still
    the one begun at its dispatch, and the duty office's own November has no 派发."""
    from handlers import rates
    db, number = _open_stand_in_before_m059(tmp_path)
    assert db.execute("SELECT count(*) FROM ticket_events WHERE action = 'recredit'").fetchone()[0] == 1
    _fill(db)
    _departures_filled(db)
    assert db.execute("SELECT unit_code, action FROM unit_cases").fetchall() == []
    t = tickets.get(db, number)
    assert (t["response_unit"], t["response_since"]) == ("代收:jyj-bgs", None)
    own = rates.for_period(db, *NOV, None, at("2026-12-02 10:00")).get("jyj-bgs")
    assert own is None or own.dispatched == 0, own
    assert _found(db, NOV) == set()


def test_m072_takes_away_what_the_back_fill_kept_for_a_rename(tmp_path):
    """A file filled by m070 before this version: the case it kept for the rename and the ticket's start moved to
    the upgrade (as that fill wrote them) are put right by m072 at start-up."""
    db, number = _open_stand_in_before_m059(tmp_path, stop_before="m072_case_departures")
    tid = _id(db, number)
    eid, renamed = db.execute("SELECT id, at FROM ticket_events WHERE action = 'recredit'").fetchone()
    t = tickets.get(db, number)
    with db.conn:  # what m070's fill wrote before trust21
        db.execute("INSERT INTO unit_cases (ticket_id, unit_code, dispatched_at, since, at, action, accept_due_at, "
                   "accepted_at, stood_in) VALUES (?, 'jyj-bgs', ?, NULL, ?, 'recredit', ?, ?, NULL)",
                   [tid, t["dispatched_at"], renamed, t["accept_due_at"], t["accepted_at"]])
        db.execute("UPDATE tickets SET response_since = ? WHERE id = ?", [renamed, tid])
        db.execute("UPDATE integrity_marks SET value = (SELECT value FROM integrity_marks WHERE name = "
                   "'cases_fill_from') - 1 WHERE name = 'cases_fill_scanned'")
    assert tickets.get(db, number)["response_since"] == renamed
    migrations.migrate(db)
    assert db.execute("SELECT count(*) FROM unit_cases").fetchone()[0] == 0
    assert tickets.get(db, number)["response_since"] is None
    from storage.integrity import differences
    assert differences(db, *NOV) == []


# -- (c) the 签收 of a kept case; a re-dispatch the events show -------------------------------------------------

async def test_a_reviewed_ticket_passed_on_keeps_the_units_own_first_signing_not_a_later_accept(dialog, tmp_path,
                                                                                                capsys):
    """收费管理处 signs a November complaint and answers it twice, both rejected: the bureau's review (the duty
    office holds it, the 签收 part stays the office's). The duty office signs for the review, then a leader passes
    the ticket on to 江南区教育局. The office's kept case is signed at its own first 签收, the first accept since
    the case began (not the duty office's later one, not none), it began at the dispatch; the district's case
    starts unsigned; the live path and the replay of the events agree, and verify-rates finds nothing."""
    from tests.dialog import DUTY, FEES, LEADER, talk
    from tests.rates_check import verify_rates
    from tests.test_trust18b import answered_again_in_december
    from tests.test_trust20 import live_against_replay
    d = dialog
    number = await answered_again_in_december(d, "o_t21_rv", 880)
    await talk(d, "o_t21_rv", f"评价 {number} 3 还是没有", expect="复核")
    t = await d.db(tickets.get, number)
    assert (t["unit_code"], t["response_unit"]) == ("jyj-bgs", "jyj-sfc"), t
    signed = await d.db(lambda db: db.execute("SELECT min(at) FROM ticket_events WHERE ticket_id = ? AND action = "
                                              "'accept'", [t["id"]]).fetchone()[0])
    d.advance(3600)
    await talk(d, DUTY, f"签收 {number}", expect="签收")
    d.advance(3600)
    await talk(d, LEADER, f"转派 {number} 江南区教育局 请区局复核", expect="已将")
    rows = await d.db(lambda db: db.execute("SELECT unit_code, coalesce(since, dispatched_at), accepted_at FROM "
                                            "unit_cases WHERE ticket_id = ?", [t["id"]]).fetchall())
    assert rows == [("jyj-sfc", t["dispatched_at"], signed)], (rows, signed)
    now_ = await d.db(tickets.get, number)
    assert (now_["unit_code"], now_["accepted_at"]) == ("jn-jyj", None), now_
    assert await d.db(live_against_replay) == ([], 1)
    for month in ("2026-11", "2026-12"):
        verify_rates(tmp_path, capsys, month)


async def test_no_hand_over_leaves_both_the_units_part_and_its_window_where_they_were(dialog):
    """A re-dispatch the events could not show would keep the unit the 签收 part counts for and its window: the
    Desk refuses the two hand-overs that could (转派 to the unit holding the ticket; back to the unit whose answer
    is under review), and nothing changes."""
    from tests.dialog import FEES, LEADER, file_ticket, talk
    from tests.test_trust18b import answered_again_in_december
    d = dialog
    keys = ("unit_code", "dispatched_at", "accept_due_at", "response_unit", "accepted_at")
    other = await file_ticket(d, "o_t21_same2", "学校要求每个学生交260元资料费，还不给收据", scene="school:jn-syxx",
                              consent="1")
    await talk(d, FEES, f"签收 {other}", expect="签收")
    before = await d.db(tickets.get, other)
    await talk(d, LEADER, f"转派 {other} 收费管理处 再办", expect="无需转派")
    assert {k: (await d.db(tickets.get, other))[k] for k in keys} == {k: before[k] for k in keys}
    number = await answered_again_in_december(d, "o_t21_same", 881)
    await talk(d, "o_t21_same", f"评价 {number} 3 还是没有", expect="复核")
    reviewed = await d.db(tickets.get, number)
    assert reviewed["unit_code"] == "jyj-bgs" and reviewed["response_unit"] == "jyj-sfc"
    await talk(d, LEADER, f"转派 {number} 收费管理处 再办", expect="两次不满意而复核")
    assert {k: (await d.db(tickets.get, number))[k] for k in keys} == {k: reviewed[k] for k in keys}


def test_a_re_dispatch_to_the_same_unit_ends_its_case_live_and_in_the_replay(tmp_path):
    """Written below the Desk (no Desk path does it): the ticket dispatched anew to the unit holding it, with a new
    window. case_ends ends the case by the window, as the events show it: the live path keeps the lapsed case and
    the replay of the events derives the same one."""
    import sqlite_utils

    from tests.test_trust20 import live_against_replay
    db = sqlite_utils.Database(tmp_path / "d.db")
    migrations.migrate(db)
    db.execute("INSERT INTO units (code, name, kind, parent) VALUES ('jyj-sfc', '收费管理处', 'office', NULL)")
    t = tickets.create(db, openid="o_t21_d", kind="complaint", category="fees", unit_code="jyj-sfc",
                       school_code=None, text="x", attachments=[], contact_phone=None, anonymous=False, routing={},
                       now=at("2026-11-02 10:00"), due_at=at("2026-11-20 10:00"), tz=TZ,
                       accept_due_at=at("2026-11-03 10:00"))
    again = at("2026-11-05 10:00")
    tickets.transition(db, t, "assigned", "o_leader", again, "transfer", "重新派发", unit_code="jyj-sfc",
                       accept_due_at=at("2026-11-06 10:00"), dispatched_at=again)
    assert db.execute("SELECT unit_code, accept_due_at, accepted_at FROM unit_cases").fetchall() == \
        [("jyj-sfc", at("2026-11-03 10:00"), None)]
    assert live_against_replay(db) == ([], 1)
    assert _found(db, NOV) == set()


def test_a_back_filled_case_begun_at_a_bounce_counts_in_the_month_it_began(tmp_path):
    """Before m066: 收费管理处 bounces an October ticket on 11-05 (the duty office's case begins then, the ticket's
    dispatch staying October's); the duty office lets its window lapse and passes it on on 11-20. The back-filled
    row keeps the case's start in `dispatched_at` (the events do not say the ticket's dispatch then; every reader
    takes coalesce(since, dispatched_at)): the case counts in November, for the duty office, late, not in October;
    verify-rates agrees, and finds the row deleted."""
    from handlers import rates
    db = before_m059(tmp_path / "t.db", NOBODY, "m066_unit_cases")
    db.execute("INSERT INTO units (code, name, kind, parent) VALUES ('jyj-sfc', '收费管理处', 'office', 'jyj')")
    _, bounced = _old_history(db)
    t = tickets.get(db, bounced)
    tickets.transition(db, t, "assigned", "o_duty", at("2026-11-20 10:00"), "transfer", "转区局", unit_code="jn-jyj",
                       accept_due_at=at("2026-11-21 10:00"), due_at=at("2026-11-30 10:00"),
                       dispatched_at=at("2026-11-20 10:00"))
    migrations.migrate(db)
    _other_fills(db)
    _fill(db)
    _departures_filled(db)
    row = db.execute("SELECT dispatched_at, since, accepted_at FROM unit_cases WHERE unit_code = 'jyj-bgs'").fetchone()
    assert row == (at("2026-11-05 10:00"), None, None), row
    read = at("2026-12-02 10:00")
    duty = {name: rates.for_period(db, *p, None, read).get("jyj-bgs") for name, p in (("oct", OCT), ("nov", NOV))}
    assert duty["oct"] is None or duty["oct"].dispatched == 0, duty
    assert (duty["nov"].dispatched, duty["nov"].accepted_in_time) == (1, 0), duty
    for p in (OCT, NOV):
        assert _found(db, p) == set() and integrity.differences(db, *p) == []
    db.execute("DELETE FROM unit_cases WHERE unit_code = 'jyj-bgs'")
    assert _found(db, NOV) == {(bounced, "case")}


# -- (d) the server's own time zone is not China's -------------------------------------------------------------

_PERIODS_SCRIPT = r"""
import json, sys, time
from zoneinfo import ZoneInfo
from handlers import dashboard, digest, review
from storage import tickets
cn = ZoneInfo("Asia/Shanghai")
out = {"tzname": list(time.tzname), "local_offset": -time.timezone}
moments = [float(m) for m in sys.argv[1:]]
for i, ts in enumerate(moments):
    m, w = dashboard.period_of("month", ts, cn), dashboard.period_of("week", ts, cn)
    out[str(i)] = {"month": [m.key, m.start, m.end], "week": [w.key, w.start, w.end],
                   "digest": [digest.week_of(ts, cn), *digest.bounds(digest.week_of(ts, cn), cn)],
                   "review": [review.month_of(ts, cn), *review.bounds(review.month_of(ts, cn), cn)],
                   "previous": [dashboard.previous(m, cn).key, dashboard.previous(m, cn).start],
                   "whole_days": tickets.on_day_boundaries(m.start, m.end, w.start, w.end)}
out["parsed"] = [[p.start, p.end] for p in (dashboard.parse_period("month", "2026-11", cn),
                                            dashboard.parse_period("week", "2026-W49", cn))]
print(json.dumps(out))
"""


@pytest.mark.parametrize("zone", ["Asia/Almaty", "UTC", "America/New_York"])
def test_periods_are_china_days_whatever_the_servers_own_time_zone(zone, tmp_path):
    """The dashboard's and verify-rates' months and weeks, the digest's week and the review's month, computed in a
    process whose own zone (TZ) is Almaty (UTC+6), UTC or New York: each starts and ends at a China midnight,
    the counters' days (so read from them), and each moment near a China midnight falls in China's period. The
    same numbers as in a process on China's own time."""
    import json
    import os
    import subprocess
    import sys
    # (2026-11-30 is a Monday: a China midnight that starts a week, and the last day of a month)
    moments = [at("2026-11-30 23:30"), at("2026-12-01 00:30"), at("2026-11-29 23:30"), at("2026-11-30 00:10"),
               at("2027-01-01 00:05")]

    def run(tz: str) -> dict:
        got = subprocess.run([sys.executable, "-c", _PERIODS_SCRIPT, *map(str, moments)], capture_output=True,
                             text=True, check=True, env={**os.environ, "TZ": tz}, cwd=os.getcwd())
        return json.loads(got.stdout)
    there, china = run(zone), run("Asia/Shanghai")
    assert china["local_offset"] == 8 * 3600 and there["local_offset"] != 8 * 3600, (there, china)
    keys = [(there[str(i)]["month"][0], there[str(i)]["week"][0]) for i in range(len(moments))]
    assert keys == [("2026-11", "2026-W49"), ("2026-12", "2026-W49"), ("2026-11", "2026-W48"),
                    ("2026-11", "2026-W49"), ("2027-01", "2026-W53")], keys
    for i in range(len(moments)):
        got = there[str(i)]
        assert got == china[str(i)], (zone, i)
        assert got["whole_days"], got
        for start, end in (got["month"][1:], got["week"][1:], got["digest"][1:], got["review"][1:]):
            assert (start + 8 * 3600) % 86400 == 0 and (end + 8 * 3600) % 86400 == 0, (zone, i, got)
    assert there["parsed"] == china["parsed"] == [[at("2026-11-01 00:00"), at("2026-12-01 00:00")],
                                                  [at("2026-11-30 00:00"), at("2026-12-07 00:00")]]


def test_verify_rates_in_a_process_on_almaty_time_reads_chinas_month(tmp_path):
    """`tingjian verify-rates` run with TZ=Asia/Almaty: November is 1–30 November China days (the header), and the
    back-filled history checks clean."""
    import os
    import subprocess
    import sys
    from tests.conftest import write_cli_config
    db, _, _ = _upgraded(tmp_path)
    db.close()
    config = str(write_cli_config(tmp_path / "c.toml", str(tmp_path / "t.db")))
    exe = os.path.join(os.path.dirname(sys.executable), "tingjian")
    got = subprocess.run([exe, "verify-rates", "--period", "2026-11", "--config", config], capture_output=True,
                         text=True, env={**os.environ, "TZ": "Asia/Almaty"})
    assert got.returncode == 0, got.stdout + got.stderr
    assert "2026-11-01" in got.stdout and "2026-11-30" in got.stdout, got.stdout


def _stand_in_passed_on_before_m059(db) -> str:
    """Old code (before m059): the duty office stands in for 育英小学 (its own code in the 签收 part), signs it,
    and a leader passes it on to 江南区教育局 on 11-05."""
    from tests.rates_check import nov
    t = tickets.create(db, openid="o_t21_b", kind="complaint", category="burden", unit_code=NOBODY,
                       school_code=NOBODY, text="x", attachments=[], contact_phone=None, anonymous=False, routing={},
                       now=nov(2), due_at=nov(10), tz=TZ, accept_due_at=nov(3))
    t = tickets.transition(db, t, "assigned", "system", nov(2), "unattended", "无人绑定，已转值班室。", unattended=1,
                           response_unit="jyj-bgs", resolve_unit="jyj-bgs", stood_in=1)
    t = tickets.transition(db, t, "accepted", "o_duty", nov(2, 11), "accept", accepted_by="o_duty",
                           accepted_at=nov(2, 11))
    tickets.transition(db, t, "assigned", "o_leader", nov(5), "transfer", "转区局", unit_code="jn-jyj",
                       accepted_by=None, accepted_at=None, accept_due_at=nov(6), due_at=nov(20), dispatched_at=nov(5),
                       response_unit=None, resolve_unit=None, stood_in=0, unattended=0)
    return t["number"]


def test_a_stand_ins_case_ended_before_m059_is_kept_as_its_daishou_not_its_own_work(tmp_path):
    """m059 took 代收 work out of every unit's rates (the stand-in's own code became its 代收 account, the late
    departures of that time too). The back-fill keeps the duty office's case of a ticket passed on before m059 as
    m059 names it: 代收:jyj-bgs, for 育英小学's 代收 N件, not in the duty office's own November 派发 and 响应率."""
    from handlers import rates
    db = before_m059(tmp_path / "b.db", NOBODY)
    number = _stand_in_passed_on_before_m059(db)
    migrations.migrate(db)
    _other_fills(db)
    _fill(db)
    _departures_filled(db)
    assert db.execute("SELECT unit_code, stood_in FROM unit_cases").fetchall() == [("代收:jyj-bgs", NOBODY)]
    nov_ = rates.for_period(db, *NOV, None, at("2026-12-02 10:00"))
    own = nov_.get("jyj-bgs")
    assert own is None or (own.dispatched, own.accepted_in_time) == (0, 0), own
    assert nov_[NOBODY].stood_in == 1, nov_.get(NOBODY)
    assert _found(db, NOV) == set()
    db.execute("DELETE FROM unit_cases")
    assert _found(db, NOV) == {(number, "case")}


def test_m072_renames_what_the_back_fill_kept_for_a_stand_in_before_m059(tmp_path):
    db = before_m059(tmp_path / "b.db", NOBODY)
    number = _stand_in_passed_on_before_m059(db)
    migrations.migrations.apply(db, stop_before="m072_case_departures")
    _other_fills(db)
    tid = _id(db, number)
    with db.conn:  # what m070's fill wrote before trust21: the duty office's own code
        db.execute("INSERT INTO unit_cases (ticket_id, unit_code, dispatched_at, since, at, action, accept_due_at, "
                   "accepted_at, stood_in) SELECT ?, 'jyj-bgs', dispatched_at - 3 * 86400, NULL, dispatched_at, "
                   "'transfer', ?, ?, NULL FROM tickets WHERE id = ?", [tid, at("2026-11-03 10:00"),
                                                                     at("2026-11-02 11:00"), tid])
        db.execute("UPDATE integrity_marks SET value = (SELECT value FROM integrity_marks WHERE name = "
                   "'cases_fill_from') - 1 WHERE name = 'cases_fill_scanned'")
    migrations.migrate(db)
    assert db.execute("SELECT unit_code, stood_in, accepted_at FROM unit_cases").fetchall() == \
        [("代收:jyj-bgs", NOBODY, at("2026-11-02 11:00"))]
