"""m071's trigger (rating_redos_kept, on every ticket_events insert) on the webhook's write path: a rating written
as the writer writes it (storage.tickets.transition, as handlers.followup rates: 满意 closes, 不满意 reopens), with
the trigger and without it, in the same run on the same tickets of one copy; then the event's INSERT alone (a
满意, a 不满意, and a reply, which every other event is like: the trigger's WHEN is asked of each).

    python bench/redos_trigger.py COPY.db [--tickets 200] [--rounds 6]

Each round is one transaction per variant, rolled back (the trigger dropped inside it for "without", so both
write the same rows from the same state: the copy is left as it was); the variants alternate and swap their order
each round, the first round (cache warm-up) is not counted. Prints the writer thread's CPU (median of rounds) and
the ratio.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from storage import tickets  # noqa: E402
from storage.db import connect  # noqa: E402


def rate(db, ticket: dict, score: int, now: float) -> None:
    if score in (1, 2):
        tickets.transition(db, ticket, "closed", ticket["openid"], now, "rate", "满意", rating=score,
                           rated_at=now, rated_unit=ticket["unit_code"], closed_at=now, close_reason="rated")
    else:  # a first 不满意: the trigger lists it (and every later rating of the ticket)
        tickets.transition(db, ticket, "reopened", ticket["openid"], now, "reopen", "不满意", rating=score,
                           rated_at=now, reopens=1, due_at=now + 7 * 86400, rated_unit=ticket["unit_code"],
                           resolved_at=None)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("db")
    p.add_argument("--tickets", type=int, default=200)
    p.add_argument("--rounds", type=int, default=6)
    a = p.parse_args()
    db = connect(a.db)
    numbers = [r[0] for r in db.execute("SELECT number FROM tickets WHERE state = 'resolved' AND reopens = 0 "
                                        "ORDER BY id DESC LIMIT ?", [a.tickets])]
    now = db.execute("SELECT max(at) FROM ticket_events").fetchone()[0] + 60
    got: dict[str, list[float]] = {"with": [], "without": []}
    for i in range(a.rounds + 1):
        for variant in ("with", "without") if i % 2 else ("without", "with"):
            db.conn.execute("BEGIN IMMEDIATE")
            if variant == "without":
                db.conn.execute("DROP TRIGGER rating_redos_kept")
            listed = db.execute("SELECT count(*) FROM rating_redos").fetchone()[0]
            rows = [tickets.get(db, n) for n in numbers]
            c = time.thread_time()
            for k, t in enumerate(rows):
                rate(db, t, 3 if k % 4 == 0 else 1, now + k)  # a quarter 不满意, as the built mix
            took = (time.thread_time() - c) / len(rows) * 1e6
            added = db.execute("SELECT count(*) FROM rating_redos").fetchone()[0] - listed
            db.conn.execute("ROLLBACK")
            assert (added > 0) == (variant == "with"), (variant, added)
            if i:
                got[variant].append(took)
    w, wo = statistics.median(got["with"]), statistics.median(got["without"])
    print(f"{len(numbers)} ratings a round, {a.rounds} rounds: with the trigger {w:.0f} µs CPU a rating, "
          f"without {wo:.0f} µs; with/without {w / wo:.3f} ({w - wo:+.0f} µs)")
    ids = [r[0] for r in db.execute("SELECT id FROM tickets WHERE state = 'resolved' ORDER BY id DESC LIMIT ?",
                                    [a.tickets * 5])]
    for action in ("rate", "reopen", "reply"):
        got = {"with": [], "without": []}
        for i in range(a.rounds + 1):
            for variant in ("with", "without") if i % 2 else ("without", "with"):
                db.conn.execute("BEGIN IMMEDIATE")
                if variant == "without":
                    db.conn.execute("DROP TRIGGER rating_redos_kept")
                c = time.thread_time()
                for k, t in enumerate(ids):
                    db.conn.execute("INSERT INTO ticket_events (ticket_id, at, actor, from_state, to_state, action, "
                                    "unit_code) VALUES (?, ?, 'x', 'resolved', 'closed', ?, 'jyj-bgs')",
                                    [t, now + k, action])
                took = (time.thread_time() - c) / len(ids) * 1e6
                db.conn.execute("ROLLBACK")
                if i:
                    got[variant].append(took)
        w, wo = statistics.median(got["with"]), statistics.median(got["without"])
        print(f"the event's INSERT alone, {action:6}: with {w:5.1f} µs, without {wo:5.1f} µs; with/without "
              f"{w / wo:.2f} ({w - wo:+.1f} µs)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
