"""trust22: (1) a departure m072 lists, deleted together with the back-filled kept case it checks by someone who
drops the list's append-only trigger and makes it again (sqlite3 on the file), is named by verify-rates: m075
counts the list by day in the same statement as each row, and a day short is listed again from its events.
(2) A review that kept a stand-in's 签收 under the stand-in's own code (before m061), passed on before m061 renamed
it: its kept case is the stand-in's 代收, not its own 派发 and 响应率."""
from __future__ import annotations

import shutil
import sqlite3
import subprocess
import time

import pytest
import sqlite_utils

from handlers import rates
from storage import integrity, migrations, tickets
from tests.dialog import TZ
from tests.rates_check import before_m059, nov, old_stand_in_answer_rejected
from tests.test_trust19 import NOBODY, NOV, _fill, _old_history, _other_fills
from tests.test_trust21 import _departures_filled, _found, _id, _upgraded


def insider(path, sql: str) -> None:
    """What someone with the file and sqlite3 would do: drop case_departures' append-only trigger, run `sql`, make
    the trigger again as it was (the sqlite3 shell if installed, else Python's sqlite3: the same statements)."""
    with sqlite3.connect(path) as c:
        made = c.execute("SELECT sql FROM sqlite_master WHERE name = 'case_departures_no_delete'").fetchone()[0]
    script = f"DROP TRIGGER case_departures_no_delete;\n{sql};\n{made};\n"
    if shutil.which("sqlite3"):
        subprocess.run(["sqlite3", str(path)], input=script, text=True, check=True, capture_output=True)
    else:
        with sqlite3.connect(path) as c:
            c.executescript(script)
    with sqlite3.connect(path) as c:  # the trigger is back: nothing to see in the schema
        assert c.execute("SELECT sql FROM sqlite_master WHERE name = 'case_departures_no_delete'").fetchone()[0] == made


def _gone(tid: int) -> str:
    return f"DELETE FROM case_departures WHERE ticket_id = {tid}; DELETE FROM unit_cases WHERE ticket_id = {tid}"


def test_a_departure_deleted_with_its_kept_case_behind_a_dropped_trigger_is_named(tmp_path):
    """trust21's upgraded history (two October tickets, one 转派ed and one 退回ed in November, their cases kept by
    m070's fill): clean. The 退回ed ticket's departure and kept case deleted with the trigger dropped and made again:
    November names it (its departure missing from the list, and its case), the other ticket stays clean."""
    db, t1, t2 = _upgraded(tmp_path)
    assert _found(db, NOV) == set()
    assert db.execute("SELECT sum(n) FROM case_departure_days").fetchone()[0] == 2
    db.close()
    insider(tmp_path / "t.db", _gone(_id(sqlite_utils.Database(tmp_path / "t.db"), t2)))
    db = sqlite_utils.Database(tmp_path / "t.db")
    assert db.execute("SELECT count(*) FROM case_departures").fetchone()[0] == 1
    assert _found(db, NOV) == {(t2, "departure"), (t2, "case")}


def test_verify_rates_names_it_and_exits_1(tmp_path, capsys):
    from bot.cli import main
    from tests.conftest import write_cli_config
    db, t1, t2 = _upgraded(tmp_path)
    tid = _id(db, t2)
    db.close()
    config = str(write_cli_config(tmp_path / "c.toml", str(tmp_path / "t.db")))
    assert main(["verify-rates", "--period", "2026-11", "--config", config]) == 0, capsys.readouterr().out
    capsys.readouterr()
    insider(tmp_path / "t.db", _gone(tid))
    code = main(["verify-rates", "--period", "2026-11", "--config", config])
    out = capsys.readouterr().out
    assert code == 1 and t1 not in out, out
    said = sorted(line.strip() for line in out.splitlines() if line.strip().startswith(t2))
    assert said == [f"{t2}：升级前的转出记录（转派、退回、撤回）清单缺失或与操作记录不符（用于核对往期保留的派发与签收）",
                    f"{t2}：转出前保留的派发与签收记录与操作记录不符（决定往期的派发和响应率）"], out


def test_a_days_count_changed_behind_its_own_trigger_names_the_day(tmp_path):
    """The day's count raised with its trigger dropped: the list is what the events say, so the day is named."""
    db, t1, t2 = _upgraded(tmp_path)
    with db.conn:
        db.execute("DROP TRIGGER case_departure_days_no_less")
        db.execute("UPDATE case_departure_days SET n = n + 1")
    assert {w for _, w in _found(db, NOV)} == {"departure_days"}


def test_the_days_check_reads_index_ranges_only(tmp_path):
    """Each statement of m075's check (a day short included: listed again from its events) searches an index or a
    rowid range, none scans a table: its cost follows the period, never the years of history."""
    db, t1, t2 = _upgraded(tmp_path)
    tid = _id(db, t2)
    db.close()
    insider(tmp_path / "t.db", _gone(tid))
    db = sqlite_utils.Database(tmp_path / "t.db")
    seen: list[tuple[str, list]] = []
    db._tracer = lambda sql, params: seen.append((sql, list(params or ())))
    found = integrity._departure_days_disagree(db, *NOV, integrity._marks(db))
    db._tracer = None
    assert found[0] == {(t2, "departure")}
    seen = [(sql, p) for sql, p in seen if "integrity_marks" not in sql]  # (a few marks)
    assert len(seen) >= 3
    for sql, params in seen:
        plan = " | ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", ""), (sql, plan)


def test_the_days_count_only_grows(tmp_path):
    db, _, _ = _upgraded(tmp_path)
    for sql in ("DELETE FROM case_departure_days", "UPDATE case_departure_days SET n = n - 1",
                "UPDATE case_departure_days SET last = last - 1", "UPDATE case_departure_days SET day = day + 1"):
        with pytest.raises(sqlite3.DatabaseError, match="only grows"):
            db.execute(sql)


def _listed_before_m075(tmp_path):
    """trust19's old history upgraded to m072 and both fills run (the list written before m075), then m075."""
    db = before_m059(tmp_path / "t.db", NOBODY, "m066_unit_cases")
    db.execute("INSERT INTO units (code, name, kind, parent) VALUES ('jyj-sfc', '收费管理处', 'office', 'jyj')")
    t1, t2 = _old_history(db)
    migrations.migrations.apply(db, stop_before="m075_departure_days")
    _other_fills(db)
    _fill(db)
    assert _departures_filled(db) == 2
    migrations.migrate(db)
    db.conn.commit()
    return db, t1, t2


def test_the_departures_listed_before_m075_are_counted_after_start_up_and_then_checked(tmp_path):
    """Until m075's fill has counted the rows listed before it, no day is checked (no finding, the list as it was);
    its fill, each step written twice (a run stopped after its write and run again), counts each once; then a
    deletion behind the dropped trigger is named."""
    db, t1, t2 = _listed_before_m075(tmp_path)
    assert db.execute("SELECT count(*) FROM case_departure_days").fetchone()[0] == 0
    assert tickets.departure_days_range(db) is not None
    assert _found(db, NOV) == set()
    while tickets.departure_days_range(db) is not None:
        step = tickets.departure_days_next(db, 1)
        tickets.departure_days_store(db, *step)
        assert tickets.departure_days_store(db, *step) == 0
    db.conn.commit()
    assert db.execute("SELECT sum(n) FROM case_departure_days").fetchone()[0] == 2
    assert _found(db, NOV) == set()
    tid = _id(db, t1)
    db.close()
    insider(tmp_path / "t.db", _gone(tid))
    assert _found(sqlite_utils.Database(tmp_path / "t.db"), NOV) == {(t1, "departure"), (t1, "case")}


def test_the_scheduler_runs_m075s_fill_after_m072s():
    from bot.scheduler import RANGE_FILLS
    names = [f[0] for f in RANGE_FILLS]
    assert names.index("m075") > names.index("m072")


# -- (2) a stand-in's 签收 a review kept, passed on before m061 ----------------------------------------------------

def _reviewed_stand_in_passed_on(tmp_path, upgraded_to: str | None):
    """Old code (before m059): the duty office signed for 育英小学 (nobody bound) and answered twice, both
    rejected; the review (at the duty office) kept the 签收 written as the duty office's own code. Then — before
    m059 (`upgraded_to` None), or with the file at m059's schema up to `upgraded_to` (the code between m059 and
    m061) — a leader passed the reviewed ticket on to 江南区教育局 on 11-07: m061 found it no longer reviewed
    with a 签收 part and renamed nothing. Upgraded, every fill run."""
    day = nov
    db = before_m059(tmp_path / "t.db", NOBODY)
    t = old_stand_in_answer_rejected(db, "o_t22", NOBODY)
    t = tickets.transition(db, t, "accepted", "o_duty", day(4), "accept", accepted_by="o_duty")
    t = tickets.transition(db, t, "resolved", "o_duty", day(5), "resolve", resolved_at=day(5))
    t = tickets.transition(db, t, "reopened", "o_t22", day(5, 12), "review", rating=3, rated_at=day(5, 12),
                           review=1, rated_unit="jyj-bgs", unit_code="jyj-bgs", resolved_at=None,
                           response_unit="jyj-bgs", resolve_unit=None, stood_in=0, unattended=0, due_at=day(14))
    t = tickets.transition(db, t, "accepted", "o_duty", day(5, 14), "accept", accepted_by="o_duty")
    if upgraded_to:
        migrations.migrations.apply(db, stop_before=upgraded_to)
        t = tickets.get(db, t["number"])
        assert t["response_unit"] == "jyj-bgs"  # m059 passed over the review
    tickets.transition(db, t, "assigned", "o_leader", day(7), "transfer", "转区局", unit_code="jn-jyj",
                       accepted_by=None, accepted_at=None, accept_due_at=day(8), due_at=day(20), dispatched_at=day(7),
                       response_unit=None, resolve_unit=None, stood_in=0)
    migrations.migrate(db)
    _other_fills(db)
    _fill(db)
    _departures_filled(db)
    db.conn.commit()
    return db, t["number"]


@pytest.mark.parametrize("upgraded_to", [None, "m060_one_miss_a_window_and_returns", "m061_stand_in_gaps"])
def test_a_reviewed_stand_ins_signing_passed_on_before_m061_is_its_daishou(tmp_path, upgraded_to):
    """One kept case: 代收:jyj-bgs, from the dispatch, signed 11-02 11:00 (its own first 签收, not the review's
    accept), ended at the 转派. The duty office's own November: no 派发 (it was 1, late: the review read as the
    签收 part moving to its own code); its 代收 N件 1. verify-rates clean; the case deleted, named."""
    db, number = _reviewed_stand_in_passed_on(tmp_path, upgraded_to)
    assert db.execute("SELECT unit_code, stood_in, accepted_at, action, coalesce(since, dispatched_at) FROM "
                      "unit_cases").fetchall() == [("代收:jyj-bgs", "jyj-bgs", nov(2, 11), "transfer", nov(2))]
    got = rates.for_period(db, *NOV, None, nov(25))
    duty = got["jyj-bgs"]
    assert (duty.dispatched, duty.response_due, duty.accepted_in_time, duty.proxied) == (0, 0, 0, 1), duty
    assert got["jn-jyj"].dispatched == 1
    assert _found(db, NOV) == set() and integrity.differences(db, *NOV) == []
    db.execute("DELETE FROM unit_cases")
    assert _found(db, NOV) == {(number, "case")}


def test_a_stand_ins_signing_passed_on_between_m059_and_m061_without_a_review_is_its_daishou(tmp_path):
    """The file at m059's schema (the code between m059 and m061 writes a stand-in's part as its 代收 account): the
    duty office stands in for 育英小学 on 11-02, signs at 11:00, a leader passes it on on 11-05. Upgraded, every
    fill run: one kept case, 代收:jyj-bgs for 育英小学, signed in time; the duty office's own November no 派发."""
    day = nov
    db = before_m059(tmp_path / "t.db", NOBODY, "m060_one_miss_a_window_and_returns")
    t = tickets.create(db, openid="o_t22m", kind="complaint", category="burden", unit_code=NOBODY, school_code=NOBODY,
                       text="x", attachments=[], contact_phone=None, anonymous=False, routing={}, now=day(2),
                       due_at=day(10), tz=TZ, accept_due_at=day(3))
    t = tickets.transition(db, t, "assigned", "system", day(2), "unattended", "无人绑定，已转值班室。", unattended=1,
                           response_unit="代收:jyj-bgs", resolve_unit="代收:jyj-bgs", stood_in=1)
    t = tickets.transition(db, t, "accepted", "o_duty", day(2, 11), "accept", accepted_by="o_duty",
                           accepted_at=day(2, 11))
    tickets.transition(db, t, "assigned", "o_leader", day(5), "transfer", "转区局", unit_code="jn-jyj",
                       accepted_by=None, accepted_at=None, accept_due_at=day(6), due_at=day(20), dispatched_at=day(5),
                       response_unit=None, resolve_unit=None, stood_in=0, unattended=0)
    migrations.migrate(db)
    _other_fills(db)
    _fill(db)
    assert _departures_filled(db) == 2  # the stand-in taking the part over, and the 转派
    assert db.execute("SELECT unit_code, stood_in, accepted_at, action, coalesce(since, dispatched_at) FROM "
                      "unit_cases").fetchall() == [("代收:jyj-bgs", NOBODY, nov(2, 11), "transfer", nov(2))]
    got = rates.for_period(db, *NOV, None, nov(25))
    duty = got.get("jyj-bgs") or rates.Rates()
    assert (duty.dispatched, duty.accepted_in_time) == (0, 0), duty
    assert got[NOBODY].stood_in == 1 and got["jn-jyj"].dispatched == 1
    assert _found(db, NOV) == set() and integrity.differences(db, *NOV) == []


def test_the_same_history_written_by_todays_code_keeps_the_same_case(tmp_path):
    """Written as the code since m061 writes it (the review keeps the 代收 account), the live path keeps the same
    case as the replay of the old history, and the two agree on this file too."""
    from tests.test_trust20 import live_against_replay
    day = nov
    db = before_m059(tmp_path / "t.db", NOBODY)
    migrations.migrate(db)  # (every migration: today's schema)
    t = tickets.create(db, openid="o_t22n", kind="complaint", category="burden", unit_code=NOBODY, school_code=NOBODY,
                       text="x", attachments=[], contact_phone=None, anonymous=False, routing={}, now=day(2),
                       due_at=day(10), tz=TZ, accept_due_at=day(3))
    t = tickets.transition(db, t, "assigned", "system", day(2), "unattended", "无人绑定，已转值班室。", unattended=1,
                           response_unit="代收:jyj-bgs", resolve_unit="代收:jyj-bgs")
    t = tickets.transition(db, t, "accepted", "o_duty", day(2, 11), "accept", accepted_by="o_duty",
                           accepted_at=day(2, 11))
    t = tickets.transition(db, t, "resolved", "o_duty", day(5), "resolve", resolved_at=day(5))
    t = tickets.transition(db, t, "reopened", "o_t22n", day(5, 12), "review", rating=3, rated_at=day(5, 12), review=1,
                           rated_unit="代收:jyj-bgs", unit_code="jyj-bgs", resolved_at=None,
                           response_unit=tickets.credit(t)[0], resolve_unit=None, unattended=0, due_at=day(14))
    t = tickets.transition(db, t, "accepted", "o_duty", day(5, 14), "accept", accepted_by="o_duty")
    tickets.transition(db, t, "assigned", "o_leader", day(7), "transfer", "转区局", unit_code="jn-jyj",
                       accepted_by=None, accepted_at=None, accept_due_at=day(8), due_at=day(20), dispatched_at=day(7))
    assert db.execute("SELECT unit_code, stood_in, accepted_at, action, coalesce(since, dispatched_at) FROM "
                      "unit_cases").fetchall() == [("代收:jyj-bgs", "jyj-bgs", nov(2, 11), "transfer", nov(2))]
    assert live_against_replay(db) == ([], 1)


def test_m075_puts_right_what_the_back_fill_kept_for_such_a_review(tmp_path):
    """A file filled before trust22: the rows that fill wrote (a 代收 case ended at the review, the duty office's own
    case ended at the 转派) are replaced at m075 by the one case the replay derives now; run again, nothing."""
    db, number = _reviewed_stand_in_passed_on(tmp_path, "m061_stand_in_gaps")
    tid = _id(db, number)
    with db.conn:  # as m070's fill wrote them before trust22
        db.execute("DELETE FROM unit_cases")
        db.execute("INSERT INTO unit_cases (ticket_id, unit_code, dispatched_at, since, at, action, accept_due_at, "
                   "accepted_at, stood_in) VALUES (?, '代收:jyj-bgs', ?, NULL, ?, 'review', ?, ?, ?), "
                   "(?, 'jyj-bgs', ?, NULL, ?, 'transfer', ?, ?, NULL)",
                   [tid, nov(2), nov(5, 12), nov(3), nov(2, 11), NOBODY, tid, nov(5, 12), nov(7), nov(3), nov(7, 9)])
    assert rates.for_period(db, *NOV, None, nov(25))["jyj-bgs"].dispatched == 1
    assert migrations.m075_departure_days(db) is None
    want = [("代收:jyj-bgs", "jyj-bgs", nov(2, 11), "transfer", nov(2))]
    assert db.execute("SELECT unit_code, stood_in, accepted_at, action, coalesce(since, dispatched_at) FROM "
                      "unit_cases").fetchall() == want
    assert tickets.cases_renamed_m061(db) == 0
    assert rates.for_period(db, *NOV, None, nov(25))["jyj-bgs"].dispatched == 0
    assert _found(db, NOV) == set()


# -- (1) on a rates-oracle history, as if it were all before m070 (run by test_trust20's seeded test, which plays it) --

def listed_as_before_m070(path, config: str, months: list[str], capsys) -> None:
    """`path`: a rates-oracle history made as if it were all before m070 (trust20's back_filled: m070's fill over
    every event). Its departures listed by m072's fill (m075's trigger counting them): verify-rates finds nothing in
    any of `months`. Then one departure with a kept case deleted behind the dropped trigger: its month names the
    ticket's departure."""
    from handlers import dashboard
    from tests.test_trust20 import verify
    db = sqlite_utils.Database(path)
    with db.conn:
        db.execute("UPDATE integrity_marks SET value = (SELECT value FROM integrity_marks WHERE name = "
                   "'cases_fill_from') WHERE name = 'case_departures_from'")
        db.execute("UPDATE integrity_marks SET value = 0 WHERE name = 'case_departures_scanned'")
    listed = _departures_filled(db)
    db.conn.commit()
    assert listed >= 3 and db.execute("SELECT sum(n) FROM case_departure_days").fetchone()[0] == listed
    tid, number, ended = db.execute(
        "SELECT c.ticket_id, t.number, c.at FROM unit_cases c JOIN tickets t ON t.id = c.ticket_id JOIN "
        "case_departures d ON d.ticket_id = c.ticket_id AND abs(d.at - c.at) < 0.001 ORDER BY c.id").fetchone()
    db.close()
    assert verify(config, months, capsys) == {}
    insider(path, _gone(tid))
    month = dashboard.period_of("month", ended, TZ).key
    period = dashboard.parse_period("month", month, TZ)
    assert (number, "departure") in _found(sqlite_utils.Database(path), (period.start, period.end))
    assert number in verify(config, [month], capsys).get(month, "")
