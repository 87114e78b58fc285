"""trust22: a review that kept a stand-in's 签收 under the stand-in's own code (before m061), passed on before m061
renamed it: its kept case is the stand-in's 代收, not its own 派发 and 响应率."""
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
