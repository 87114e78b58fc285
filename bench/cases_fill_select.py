"""m070's fill, its selection alone (trust20): the events of a range whose ticket it replays, read as before
(a record whose holder is not the event's unit) and now (a record whose 签收 unit is not the previous record's,
one more index seek an event), A/B alternated over the same ranges of a built database opened read-only.
Prints CPU per 20,000-event range (the fill's CASES_FILL_EVENTS) and the ratio.

    python bench/cases_fill_select.py /work/scale-data/scale-1000000-v4-m058.db [ranges]"""
from __future__ import annotations

import json
import os
import sqlite3
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from storage.tickets import CASES_FILL_EVENTS, KEPT, credit  # noqa: E402

BEFORE = ("SELECT e.id, e.ticket_id FROM ticket_events e WHERE e.id > ? AND e.id <= ? AND (e.action = 'withdraw' "
          "OR (e.kept IS NOT NULL AND json_extract(e.kept, '$[0]') IS NOT e.unit_code)) ORDER BY e.id")
NOW = ("SELECT e.id, e.ticket_id, e.action, e.kept, (SELECT p.kept FROM ticket_events p INDEXED BY "
       "ticket_events_ticket WHERE p.ticket_id = e.ticket_id AND p.id < e.id AND p.kept IS NOT NULL "
       "ORDER BY p.id DESC LIMIT 1) FROM ticket_events e WHERE e.id > ? AND e.id <= ? AND (e.action = "
       "'withdraw' OR e.kept IS NOT NULL) ORDER BY e.id")


def main() -> None:
    db = sqlite3.connect(f"file:{sys.argv[1]}?mode=ro", uri=True)
    ranges = int(sys.argv[2]) if len(sys.argv) > 2 else 6
    last = db.execute("SELECT max(id) FROM ticket_events").fetchone()[0]

    def before(a: int) -> set:
        return {tid for _, tid in db.execute(BEFORE, [a, a + CASES_FILL_EVENTS])}

    def now(a: int) -> set:
        return {tid for _, tid, action, k, was in db.execute(NOW, [a, a + CASES_FILL_EVENTS])
                if action == "withdraw" or (was is not None and credit(dict(zip(KEPT, json.loads(k))))[0] !=
                                            credit(dict(zip(KEPT, json.loads(was))))[0])}
    cpu = {"before": 0.0, "now": 0.0}
    picked = {"before": 0, "now": 0}
    for i in range(ranges):
        a = last // 3 + i * CASES_FILL_EVENTS
        for name, f in ((("before", before), ("now", now)) if i % 2 == 0 else (("now", now), ("before", before))):
            t = time.process_time()
            picked[name] += len(f(a))
            cpu[name] += time.process_time() - t
    print(f"{last:,} events; {ranges} ranges of {CASES_FILL_EVENTS:,}: tickets picked before {picked['before']}, "
          f"now {picked['now']}")
    print(f"CPU a range: before {cpu['before'] / ranges * 1000:.1f} ms, now {cpu['now'] / ranges * 1000:.1f} ms "
          f"({cpu['now'] / cpu['before']:.2f}x); all ranges of the file now "
          f"~{cpu['now'] / ranges * last / CASES_FILL_EVENTS:.1f} s")


if __name__ == "__main__":
    main()
