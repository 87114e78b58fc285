"""digest16: m060's back-fill of `tickets.resolve_since` runs after start-up (m062), in the service's short writes,
and a period reads the same while it runs as after it; a fill killed half-way goes on from where it stopped."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import sqlite_utils

from handlers import rates
from storage import migrations, tickets
from tests.rates_check import before_m059, nov as day
from tests.test_credit import NOBODY
from tests.dialog import TZ

ROOT = Path(__file__).resolve().parents[1]
HOLDER, OTHER = "jn-jyj", NOBODY
PERIODS = [(day(1, 0), day(7, 0)), (day(7, 0), day(9, 0)), (day(1, 0), day(15, 0)), (day(9, 0), day(12, 0))]


def _history(db: sqlite_utils.Database, n: int) -> None:
    """`n` tickets as code before m060 left them: the district's deadline (day 6) passed while the school held the
    ticket (its own deadline day 9); the district took it back on day 8 with its deadline; every other one then
    resolved late on day 10. No `resolve_since` written: the column did not exist."""
    for i in range(n):
        t = tickets.create(db, openid=f"o_{i}", kind="complaint", category="burden", unit_code=HOLDER,
                           school_code=OTHER, text="x", attachments=[], contact_phone=None, anonymous=False,
                           routing={}, now=day(2), due_at=day(6), tz=TZ, accept_due_at=day(3))
        t = tickets.transition(db, t, "assigned", "o_lead", day(4), "transfer", "请学校核实", unit_code=OTHER,
                               due_at=day(9), accept_due_at=day(5))
        t = tickets.transition(db, t, "assigned", "o_lead", day(8), "transfer", "仍由区局办理", unit_code=HOLDER,
                               due_at=day(6), accept_due_at=day(3))
        if i % 2:
            t = tickets.transition(db, t, "accepted", "o_duty", day(9), "accept", accepted_by="o_duty",
                                   accepted_at=day(9))
            tickets.transition(db, t, "resolved", "o_duty", day(10), "resolve", resolved_at=day(10))


def _figures(db: sqlite_utils.Database) -> list:
    """What the rates read of each period, for every unit and for the district alone, and the open part of 解决率
    at each period's end."""
    out = []
    for start, end in PERIODS:
        out.append((rates.for_period(db, start, end, None, day(20)), rates.for_period(db, start, end, [HOLDER], day(20)),
                    tickets.overdue_at(db, end), tickets.overdue_at(db, end, [HOLDER])))
    return out


def _listed(db: sqlite_utils.Database) -> int:
    return db.execute("SELECT count(*) FROM resolve_since_todo").fetchone()[0]


FILL = """
import asyncio, os, signal, sys, types
from bot import scheduler
from storage import tickets
from storage.db import Database
scheduler.RESOLVE_SINCE_BATCH = 4
kill_at = int(sys.argv[2])
store, writes = tickets.resolve_since_store, []
def killed(db, done):  # on the writer thread, inside its transaction: nothing of this write is committed
    n = store(db, done)
    writes.append(n)
    if len(writes) == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)
    return n
tickets.resolve_since_store = killed
async def main():
    db = Database(sys.argv[1]).start()
    async def no_wait():
        pass
    try:  # the service's job, on the service's writer and readers
        print(await scheduler.Jobs.resolve_since_fill(types.SimpleNamespace(db=db, _yield=no_wait)))
    finally:
        db.close()
asyncio.run(main())
"""


def _fill(path: Path, kill_at: int = 0) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", FILL, str(path), str(kill_at)], cwd=ROOT, capture_output=True,
                          text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})


def test_a_period_reads_the_same_while_the_fill_runs_and_after_it_and_a_killed_fill_goes_on(tmp_path):
    """An upgrade from before m060: m062 only lists the late and open tickets (start-up no longer walks their
    events). Until the fill reaches a ticket its `resolve_since` is NULL in the table, yet the district's figures
    up to day 7 (when the school held the tickets) read them as not the district's, exactly as after the fill;
    read as NULL-since-dispatch all 30 would count open past the deadline. The fill, killed inside its third
    write, keeps its first two and goes on from there; the values it writes are the events' own."""
    path = tmp_path / "t.db"
    db = before_m059(path, NOBODY, stop_before="m060_one_miss_a_window_and_returns")
    _history(db, 30)
    migrations.migrate(db)
    db.conn.commit()  # (the old-schema writes leave Python's implicit transaction open)
    assert _listed(db) == 30
    assert db.execute("SELECT count(*) FROM tickets WHERE resolve_since IS NOT NULL").fetchone()[0] == 0
    during = _figures(db)
    # the first period: the district held none of them at its end (day 7), so nothing of its is open past a deadline
    assert during[0][3].get(HOLDER, 0) == 0 and during[0][1][HOLDER].open_overdue == 0, during[0]
    assert during[3][3][HOLDER] == 15, during[3]  # from day 8 it is the district's again, late (the open half)
    # the same rows with the list not consulted: the NULL read as it is would give other figures (what is guarded)
    blind = sqlite_utils.Database(path)
    blind.resolve_since_filled = True
    assert _figures(blind)[0][3].get(HOLDER, 0) == 30
    blind.close()
    db.close()

    killed = _fill(path, kill_at=3)
    assert killed.returncode == -9, killed.stderr
    db = sqlite_utils.Database(path)
    assert _listed(db) == 30 - 2 * 4  # two writes of 4 committed, the third not at all
    filled = db.execute("SELECT count(*) FROM tickets WHERE resolve_since IS NOT NULL").fetchone()[0]
    assert filled == 8
    assert _figures(db) == during
    db.close()

    done = _fill(path)
    assert done.returncode == 0 and done.stdout.split() == ["22"], (done.stdout, done.stderr)
    db = sqlite_utils.Database(path)
    assert _listed(db) == 0
    assert {r[0] for r in db.execute("SELECT resolve_since FROM tickets")} == {day(8)}
    assert _figures(db) == during
    # a database m060 had filled in full: the list again, every value already there, nothing else written
    db.execute("INSERT INTO resolve_since_todo SELECT id FROM tickets")
    db.close()
    again = _fill(path)
    assert again.returncode == 0 and again.stdout.split() == ["30"], again.stderr
    db = sqlite_utils.Database(path)
    assert {r[0] for r in db.execute("SELECT resolve_since FROM tickets")} == {day(8)}
    assert _figures(db) == during
    db.close()
