"""What m058's indexes (a unit's tickets by each time, its rating events by time) add to filing a ticket, on
bench/scale.py's million-ticket database: tickets.create (the row, its two events, its search entry) of --n new
tickets in one transaction, with every index and with m058's seven dropped inside the same transaction, A/B
alternated, each rolled back (the file is left as it was). Then the same for 办结 and 评价 (the partial indexes
take a row when resolved_at or rated_at is set).

    python bench/unit_indexes.py --db /tmp/<name>/scale.db [--n 300] [--rounds 5]

The file must be a migrated copy (m058), never /work/scale-data's: the transaction writes to it before rolling
back.
"""
from __future__ import annotations

import argparse
import sqlite3
import statistics
import time
from zoneinfo import ZoneInfo

import sqlite_utils

import common  # noqa: F401  (this checkout on sys.path)
from bench.scale import NOW
from storage import tickets

M058 = ("tickets_unit_dispatched", "tickets_unit_resolved", "tickets_unit_rated", "tickets_unit_closed",
        "tickets_credited_away", "ticket_events_unit_rating", "ticket_events_rating_unitless")
TZ = ZoneInfo("Asia/Shanghai")


def one_round(conn: sqlite3.Connection, n: int, drop: bool) -> tuple[float, float]:
    db = sqlite_utils.Database(conn)
    conn.execute("BEGIN")
    try:
        if drop:
            for name in M058:
                conn.execute(f"DROP INDEX {name}")
        units = [r[0] for r in conn.execute("SELECT code FROM units ORDER BY code LIMIT 40")]
        t = time.thread_time()
        made = [tickets.create(db, openid=f"o_bench_ix_{i}", kind="complaint", category="burden",
                               unit_code=units[i % len(units)], school_code=None, text=f"作业太多，第{i}件",
                               attachments=[], contact_phone=None, anonymous=False, routing={}, now=NOW + i,
                               due_at=NOW + 86400 * 5, tz=TZ, accept_due_at=NOW + 86400) for i in range(n)]
        filed = (time.thread_time() - t) * 1000 / n
        t = time.thread_time()
        for i, ticket in enumerate(made):  # the columns the partial indexes follow: resolved, rated, closed
            conn.execute("UPDATE tickets SET state = 'closed', resolved_at = ?, rated_at = ?, rating = 1, "
                         "rated_unit = unit_code, closed_at = ? WHERE id = ?", [NOW + 100 + i] * 3 + [ticket["id"]])
            conn.execute("INSERT INTO ticket_events (ticket_id, at, actor, from_state, to_state, note, action, "
                         "unit_code) VALUES (?, ?, 'bench', 'replied', 'closed', '', 'rate', ?)",
                         [ticket["id"], NOW + 100 + i, ticket["unit_code"]])
        closed = (time.thread_time() - t) * 1000 / n
        return filed, closed
    finally:
        conn.execute("ROLLBACK")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--n", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    assert not args.db.startswith("/work/scale-data"), "a copy, never the shared file"
    conn = sqlite3.connect(args.db, isolation_level=None)
    missing = set(M058) - {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert not missing, f"not migrated to m058: {missing}"
    print(f"{args.db}: {conn.execute('SELECT count(*) FROM tickets').fetchone()[0]:,} tickets; ms of CPU a ticket (thread time), "
          f"median of {args.rounds} rounds of {args.n}, A/B alternated")
    got: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    one_round(conn, 20, False)  # warm the pages the inserts touch
    for i in range(args.rounds):
        for drop in ((False, True) if i % 2 else (True, False)):  # each first in turn
            got[drop].append(one_round(conn, args.n, drop))
    for k, what in ((0, "file (tickets.create)"), (1, "办结+评价+结束 (UPDATE + rating event)")):
        now, before = (statistics.median(x[k] for x in got[d]) for d in (False, True))
        print(f"  {what:40} with m058 {now:7.3f}  without {before:7.3f}  ratio {now / before:5.2f}")


if __name__ == "__main__":
    main()
