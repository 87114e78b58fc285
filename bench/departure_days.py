"""trust22's m075 on a built database, as if its whole history were before m070 (bench/verify_departed.py's worst
case: every departure listed by m072's fill, none named by its event): m072's fill run before m075 (its rows then
counted by m075's fill), m075 at start-up timed, its fill after start-up (as the job runs it: CPU, writes, the
longest), then for the newest whole month and the same a year before the CPU of `integrity.against_events` (all
of verify-rates' checks against the events: the reference, measured in the same run) and of m075's part in it
(`_departure_days_disagree`), median of 5, alternated; last, one departure and its row's day deleted behind the
dropped trigger (as sqlite3 would), and the same part timed again (a day short: listed again from its events).

    cp /work/scale-data/scale-1000000-v5.db /tmp/x/m.db && python bench/departure_days.py /tmp/x/m.db"""
from __future__ import annotations

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import sqlite_utils  # noqa: E402

from bench.verify_departed import cpu, month_bounds  # noqa: E402
from storage import integrity, migrations, tickets  # noqa: E402


def main() -> None:
    db = sqlite_utils.Database(sys.argv[1])
    t0 = time.perf_counter()
    migrations.migrations.apply(db, stop_before="m075_departure_days")
    print(f"migrations before m075: {time.perf_counter() - t0:.2f} s wall")
    last = db.execute("SELECT max(id) FROM ticket_events").fetchone()[0]
    with db.conn:  # the whole history before m070: its fill done, m072's list to be filled from the start
        for name, value in (("cases_fill_from", last + 1), ("cases_fill_scanned", last),
                            ("case_departures_from", last + 1), ("case_departures_scanned", 0)):
            db.execute("INSERT INTO integrity_marks (name, value) VALUES (?, ?) ON CONFLICT(name) DO UPDATE SET "
                       "value = excluded.value", [name, value])
    db.__dict__.pop("fills_done", None)
    t0 = time.perf_counter()
    while tickets.case_departures_range(db) is not None:
        with db.conn:
            tickets.case_departures_store(db, *tickets.case_departures_next(db))
    listed = db.execute("SELECT count(*) FROM case_departures").fetchone()[0]
    print(f"m072's fill (before m075): {listed:,} departures listed, {time.perf_counter() - t0:.1f} s wall")
    w, c = time.perf_counter(), time.process_time()
    migrations.migrate(db)
    print(f"m075 at start-up: {time.perf_counter() - w:.3f} s wall, {time.process_time() - c:.3f} s CPU")
    w, c, writes, longest, counted = time.perf_counter(), time.process_time(), 0, 0.0, 0
    while tickets.departure_days_range(db) is not None:
        upto, found = tickets.departure_days_next(db)
        t = time.perf_counter()
        with db.conn:
            counted += tickets.departure_days_store(db, upto, found)
        longest, writes = max(longest, time.perf_counter() - t), writes + 1
    days = db.execute("SELECT count(*) FROM case_departure_days").fetchone()[0]
    print(f"m075's fill: {counted:,} departures counted into {days:,} days, {writes} writes (longest "
          f"{longest * 1000:.1f} ms wall), {time.perf_counter() - w:.2f} s wall, {time.process_time() - c:.2f} s CPU")
    newest = db.execute("SELECT max(created_at) FROM tickets").fetchone()[0]

    def measure(start: float, end: float, label: str) -> None:
        marks = integrity._marks(db)
        runs: dict[str, list[float]] = {"whole": [], "days": []}
        found = {}
        for i in range(5):
            parts = [("whole", lambda: integrity.against_events(db, start, end)),
                     ("days", lambda: integrity._departure_days_disagree(db, start, end, marks)[0])]
            for name, f in (parts if i % 2 == 0 else parts[::-1]):
                t, got = cpu(f)
                runs[name].append(t)
                found[name] = len(got)
        med = {k: statistics.median(v) * 1000 for k, v in runs.items()}
        print(f"{label}: against_events {med['whole']:.0f} ms CPU ({found['whole']} findings), of it m075's days "
              f"{med['days']:.2f} ms ({found['days']} findings): {med['days'] / med['whole']:.4f} of the whole")
    for back in (0, 12):
        start, end = month_bounds(newest, back)
        n = db.execute("SELECT count(*) FROM case_departures WHERE at >= ? AND at < ?", [start, end]).fetchone()[0]
        measure(start, end, f"{time.strftime('%Y-%m', time.gmtime(start + 8 * 3600))} ({n:,} departures)")
    start, end = month_bounds(newest, 0)
    tid = db.execute("SELECT ticket_id FROM case_departures WHERE at >= ? AND at < ? ORDER BY event_id LIMIT 1",
                     [start, end]).fetchone()[0]
    made = db.execute("SELECT sql FROM sqlite_master WHERE name = 'case_departures_no_delete'").fetchone()[0]
    with db.conn:
        db.execute("DROP TRIGGER case_departures_no_delete")
        db.execute("DELETE FROM case_departures WHERE ticket_id = ?", [tid])
        db.execute(made)
    measure(start, end, "the same month, one ticket's departures deleted")


if __name__ == "__main__":
    main()
