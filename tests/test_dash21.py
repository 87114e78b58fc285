"""dash21: the 表扬 figure (storage.tickets.praise_by_unit) leaves an insider's praise out by the ticket's
by_insider (kept by the m050/m056 triggers), not by looking each praise's writer up in users and the staff phones:
the same counts as the rule it stands for, and verify-rates names a praise ticket whose by_insider is wrong."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import sqlite_utils

from storage import integrity, migrations, staff, tickets
from tests.dialog import TZ
from tests.rates_check import nov

NOV = (nov(1, 0), nov(30, 23))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))


def _praise(db, openid: str, school: str | None, unit: str, day: int, phone: str | None = None) -> dict:
    return tickets.create(db, openid=openid, kind="praise", category="other_edu", unit_code=unit,
                          school_code=school, text="感谢老师", attachments=[], contact_phone=phone,
                          anonymous=False, routing={}, now=nov(day), due_at=None, tz=TZ, accept_due_at=None)


def _by_rule(db, start: float, end: float) -> dict[str, int]:
    """The figure as the rule says it, apart from the code under test: each praised unit's distinct writers in
    the span, less insiders by storage.staff.insider_sql read now, less praise set aside."""
    people: dict[str, set[str]] = {}
    for unit, openid in db.execute(
            "SELECT coalesce(t.school_code, t.unit_code), t.openid FROM tickets t WHERE t.kind = 'praise' "
            f"AND t.created_at >= ? AND t.created_at < ? AND NOT {staff.insider_sql('t.openid')} "
            "AND t.id NOT IN (SELECT ticket_id FROM praise_aside)", [start, end]):
        if unit is not None:
            people.setdefault(unit, set()).add(openid)
    return {u: len(p) for u, p in people.items()}


def _world(tmp_path):
    db = sqlite_utils.Database(tmp_path / "t.db")
    migrations.migrate(db)
    for i in range(4):  # the public, one of them twice
        _praise(db, f"o_parent_{i}", "jn-syxx", "jn-jyj", 3 + i)
    _praise(db, "o_parent_0", "jn-syxx", "jn-jyj", 9)
    _praise(db, "o_parent_9", None, "jyj-sfc", 4)
    _praise(db, "o_teacher", "jn-syxx", "jn-jyj", 5)  # bound later: an insider
    _praise(db, "o_second", "jn-yyxx", "jn-jyj", 6, phone="139-1234-5678")  # a staff phone on file later
    _praise(db, "o_left", "jn-yyxx", "jn-jyj", 7)  # bound, then left: an insider still
    db.execute("INSERT INTO users (openid, role, unit_code, first_seen_at, last_seen_at) "
               "VALUES ('o_teacher', 'handler', NULL, ?, ?)", [nov(10), nov(10)])
    db.execute("INSERT INTO users (openid, role, first_seen_at, last_seen_at) VALUES ('o_left', 'citizen', ?, ?)",
               [nov(1), nov(1)])
    db.execute("UPDATE users SET staff_left_at = ? WHERE openid = 'o_left'", [nov(12)])
    staff.add_phones(db, [("13912345678", "张老师")], nov(11))
    return db


def test_praise_leaves_insiders_out_as_the_rule_reads_them(tmp_path):
    db = _world(tmp_path)
    want = {"jn-syxx": 4, "jyj-sfc": 1}
    assert _by_rule(db, *NOV) == want
    assert tickets.praise_by_unit(db, *NOV) == want
    assert tickets.praise_by_unit(db, *NOV, ["jn-syxx", "jn-yyxx"]) == {"jn-syxx": 4}
    # a phone put on file by mistake and taken off: that account's praise counts again, in both
    assert staff.remove_phone(db, "13912345678")
    assert tickets.praise_by_unit(db, *NOV) == _by_rule(db, *NOV) == {**want, "jn-yyxx": 1}
    assert integrity.against_events(db, *NOV) == []


def test_verify_rates_names_a_praise_whose_insider_mark_was_changed(tmp_path):
    db = _world(tmp_path)
    assert integrity.against_events(db, *NOV) == []
    teacher = db.execute("SELECT number FROM tickets WHERE openid = 'o_teacher'").fetchone()[0]
    parent = db.execute("SELECT number FROM tickets WHERE openid = 'o_parent_9'").fetchone()[0]
    db.execute("UPDATE tickets SET by_insider = 0 WHERE number = ?", [teacher])  # the teacher's praise counted
    db.execute("UPDATE tickets SET by_insider = 1 WHERE number = ?", [parent])  # a parent's left out
    assert integrity.against_events(db, *NOV) == [{"number": n, "what": "praise_by_insider"}
                                                 for n in sorted([teacher, parent])]


# -- the trend's 超期未办结 read once for its 8 cuts (storage.tickets.overdue_at_cuts) ---------------------------------

@pytest.fixture(scope="module")
def built(tmp_path_factory):
    import scale  # bench/scale.py
    path = tmp_path_factory.mktemp("built") / "bulk.db"
    scale.Builder(path, 1500, seed=11).build()
    return path, scale.NOW


def test_the_trends_overdue_read_once_counts_as_each_cut_alone(built):
    """Each (cut, end) of a trend counted as overdue_at counts it alone: the months and weeks before the bulk
    file's now, read at now (the last period cut short) and after the end; the bureau, one unit, a few."""
    import sqlite3

    from handlers import dashboard
    path, now = built
    db = sqlite_utils.Database(sqlite3.connect(path))
    seen = 0
    for kind in ("month", "week"):
        periods = [dashboard.period_of(kind, now, TZ)]
        for _ in range(dashboard.TREND - 1):
            periods.insert(0, dashboard.previous(periods[0], TZ))
        for at_ in (now, None):
            cuts = [(p.end if at_ is None else min(p.end, at_), p.end) for p in periods]
            for units in (None, ["jyj-sfc"], ["jn-jyj", "s001", "jyj-bgs"]):
                got = tickets.overdue_at_cuts(db, cuts, units)
                want = [tickets.overdue_at(db, cut, units, end) for cut, end in cuts]
                assert [list(n.items()) for n in got] == [list(n.items()) for n in want], (kind, at_, units)
                seen += sum(sum(n.values()) for n in got)
    # read before the period's end (a cut inside it): resolved between the cut and the end is not open at the cut
    cuts = [(now - d * 86400, now - d * 86400 + 5 * 86400) for d in (3, 20, 45, 90, 150, 200)]
    got = tickets.overdue_at_cuts(db, cuts)
    assert got == [tickets.overdue_at(db, cut, None, end) for cut, end in cuts]
    assert got != tickets.overdue_at_cuts(db, [(cut, cut) for cut, _ in cuts])
    assert seen > 100


def test_the_trend_equals_its_periods_read_from_every_ticket(built):
    """rates.for_periods (the dashboard's trend) against rates.compute over every ticket's row, period by period:
    the 超期未办结 of each earlier period too."""
    import sqlite3

    from handlers import dashboard, rates
    path, now = built
    db = sqlite_utils.Database(sqlite3.connect(path))
    every = [tickets._decode(r) for r in db.query("SELECT * FROM tickets")]
    periods = [dashboard.period_of("week", now, TZ)]
    for _ in range(dashboard.TREND - 1):
        periods.insert(0, dashboard.previous(periods[0], TZ))
    trend = rates.for_periods(db, [p.start for p in periods] + [periods[-1].end], None, now)
    overdue = 0
    for p, fast in zip(periods, trend):
        full = rates.compute([t for t in every if t["created_at"] < p.end], p.start, p.end, now,
                             tickets.ratings_in(db, p.start, p.end), misses=tickets.misses_in(db, p.start, p.end),
                             cases=tickets.cases_in(db, p.start, p.end))
        for unit, r in full.items():
            assert r.open_overdue == fast.get(unit, rates.Rates()).open_overdue, (p, unit)
            overdue += r.open_overdue
    assert overdue > 20
