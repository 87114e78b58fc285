"""verify-rates' two checks of trust21 on a built database, as if its whole history were before m070 (every
departure's kept 签收 case back-filled, none named by its event: the worst case for the replay): m070's fill run
over it (as the job does), m072's fill over
all the events (CPU a range of CASE_DEPARTURES_EVENTS, rows listed), then for one month (the newest whole month,
and the same a year before) the CPU of `integrity.against_events` (all of verify-rates' checks against the events)
and of the two new parts within it — the replay of the tickets that departed in the month
(`_departed_cases_disagree`) and rating_redos against the rating events (`_REDOS_SQL`) — median of 3, alternated.
Prints each, and the new parts' share of the whole (the reference, measured in the same run).

    cp /work/scale-data/scale-1000000-v5.db /tmp/x/m.db && python bench/verify_departed.py /tmp/x/m.db [quick]"""
from __future__ import annotations

import datetime as dt
import os
import statistics
import sys
import time
from zoneinfo import ZoneInfo

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import sqlite_utils  # noqa: E402

from storage import integrity, migrations, tickets  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")


def month_bounds(ts: float, back: int) -> tuple[float, float]:
    d = dt.datetime.fromtimestamp(ts, TZ)
    n = d.year * 12 + d.month - 1 - 1 - back  # the last whole month, `back` months before it
    first = dt.datetime(n // 12, n % 12 + 1, 1, tzinfo=TZ)
    m = n + 1
    return first.timestamp(), dt.datetime(m // 12, m % 12 + 1, 1, tzinfo=TZ).timestamp()


def cpu(f, *args) -> tuple[float, object]:
    t = time.process_time()
    got = f(*args)
    return time.process_time() - t, got


def main() -> None:
    db = sqlite_utils.Database(sys.argv[1])
    quick = "quick" in sys.argv[2:]
    t0 = time.perf_counter()
    migrations.migrate(db)
    print(f"migrations at start-up (m072 on a file at m071): {time.perf_counter() - t0:.2f} s wall")
    last = db.execute("SELECT max(id) FROM ticket_events").fetchone()[0]
    with db.conn:  # the whole history before m070: its fill done, m072's list to be filled from the start
        for name, value in (("cases_fill_from", last + 1), ("cases_fill_scanned", last if quick else 0),
                            ("case_departures_from", last + 1), ("case_departures_scanned", 0)):
            db.execute("INSERT INTO integrity_marks (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET "
                       "value = excluded.value", [name, value])
    db.__dict__.pop("fills_done", None)
    ranges = rows = 0
    fill_cpu = 0.0
    if not db.execute("SELECT 1 FROM case_departures LIMIT 1").fetchone():
        while tickets.case_departures_range(db) is not None:
            t, (upto, found) = cpu(tickets.case_departures_next, db)
            with db.conn:
                rows += tickets.case_departures_store(db, upto, found)
            fill_cpu += t
            ranges += 1
        print(f"m072's fill: {last:,} events, {ranges} ranges, {rows:,} departures listed; CPU {fill_cpu:.1f} s "
              f"({fill_cpu / max(ranges, 1) * 1000:.0f} ms a range of {tickets.CASE_DEPARTURES_EVENTS:,})")
    t0, kept = time.process_time(), 0
    while not quick and tickets.cases_fill_range(db) is not None:
        # m070's fill, as the job runs it: the cases it keeps ("quick": not run, so the replay's findings are the
        # cases it would have kept; the check's cost is the same)
        with db.conn:
            kept += tickets.cases_fill_store(db, *tickets.cases_fill_next(db))
    print(f"m070's fill over the same: {kept:,} rows written, CPU {time.process_time() - t0:.1f} s")
    newest = db.execute("SELECT max(created_at) FROM tickets").fetchone()[0]
    for back in (0, 12):
        start, end = month_bounds(newest, back)
        departed = db.execute("SELECT count(DISTINCT ticket_id) FROM case_departures WHERE at >= ? AND at < ?",
                              [start, end]).fetchone()[0]
        marks = integrity._marks(db)
        runs: dict[str, list[float]] = {"whole": [], "departed": [], "redos": []}
        found = {}
        for i in range(3):
            parts = [("whole", lambda: integrity.against_events(db, start, end)),
                     ("departed", lambda: integrity._departed_cases_disagree(db, start, end, marks)),
                     ("redos", lambda: [r for sql in integrity._REDOS_SQL for r in db.execute(sql, [start, end])])]
            for name, f in (parts if i % 2 == 0 else parts[::-1]):
                t, got = cpu(f)
                runs[name].append(t)
                found[name] = len(got)
        med = {k: statistics.median(v) * 1000 for k, v in runs.items()}
        label = dt.datetime.fromtimestamp(start, TZ).strftime("%Y-%m")
        print(f"{label}: {departed:,} tickets departed (replayed); against_events {med['whole']:.0f} ms "
              f"({found['whole']} findings), of it the replay {med['departed']:.0f} ms ({found['departed']} findings) "
              f"and rating_redos {med['redos']:.0f} ms ({found['redos']}): new parts "
              f"{(med['departed'] + med['redos']) / med['whole']:.2f} of the whole")


if __name__ == "__main__":
    main()
