"""m075's re-derivation of the kept cases of reviews m061 renamed (storage.tickets.cases_renamed_m061) on a copy of
a built database: N random tickets marked reviewed, each given a bogus kept case, and `recredit_from` moved past the
last event (as if every history began before m059, so each is looked at); then the function timed twice (wall,
CPU). Writes to the copy it is given.

    python bench/reviews_renamed.py /tmp/x/m.db 1000"""
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
import sqlite_utils  # noqa: E402

from storage import tickets  # noqa: E402

db = sqlite_utils.Database(sys.argv[1])
n = int(sys.argv[2])
with db.conn:  # as if the whole history were before m059 (its tickets may have such a review)
    db.execute("UPDATE integrity_marks SET value = (SELECT max(id) + 1 FROM ticket_events) WHERE name = 'recredit_from'")
with db.conn:
    ids = [r[0] for r in db.execute("SELECT id FROM tickets WHERE kind != 'praise' AND dispatched_at IS NOT NULL "
                                    "ORDER BY random() LIMIT ?", [n])]
    for tid in ids:
        db.execute("UPDATE tickets SET review = 1 WHERE id = ?", [tid])
        db.execute("INSERT OR IGNORE INTO unit_cases (ticket_id, unit_code, dispatched_at, since, at, action, "
                   "accept_due_at, accepted_at, stood_in) SELECT id, unit_code, dispatched_at, NULL, "
                   "dispatched_at + 86400, 'transfer', accept_due_at, accepted_at, NULL FROM tickets WHERE id = ?", [tid])
w, c = time.perf_counter(), time.process_time()
with db.conn:
    gone = tickets.cases_renamed_m061(db)
print(f"cases_renamed_m061 over {n:,} reviewed tickets with a (bogus) kept case: {gone:,} rows deleted, "
      f"{time.perf_counter() - w:.2f} s wall, {time.process_time() - c:.2f} s CPU")
w, c = time.perf_counter(), time.process_time()
with db.conn:
    gone = tickets.cases_renamed_m061(db)
print(f"again: {gone} rows, {time.perf_counter() - w:.2f} s wall, {time.process_time() - c:.2f} s CPU")
