"""dash21: the 表扬 figure (storage.tickets.praise_by_unit) leaves an insider's praise out by the ticket's
by_insider (kept by the m050/m056 triggers), not by looking each praise's writer up in users and the staff phones:
the same counts as the rule it stands for, and verify-rates names a praise ticket whose by_insider is wrong."""
from __future__ import annotations

import sqlite_utils

from storage import integrity, migrations, staff, tickets
from tests.dialog import TZ
from tests.rates_check import nov

NOV = (nov(1, 0), nov(30, 23))


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

