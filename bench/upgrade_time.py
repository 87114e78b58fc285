"""How long the pending migrations take on a copy of a built database, beside a reference read in the same run.

    python bench/upgrade_time.py --built /work/scale-data/scale-1000000-v4.db [--tmp /tmp/me] [--stand-in N] [--fills [m062,m067,m070,m071]]
        [--departures N]

The copy is deleted afterwards. Reference: one full read of tickets.text (the file's largest column). Each pending
migration is timed on its own. `--stand-in N`: first mark N random non-praise tickets as 代收 the way the code
before m059 wrote it (the duty office's 签收 and 办结 parts, stood_in = 1; the triggers move their counts), so m059
has work to do (the built databases have no 代收 tickets). `--fills`: then the fills the service runs after start-up
(job upgrade-fill: m062's and bot.scheduler.RANGE_FILLS), each loop as the job runs it, with one connection for its reads and
writes: wall and CPU, the writes and the longest one, the rows written. `--departures N`: first (before m066) 退回
N random signed open tickets to the duty office by the storage code as it ran then (tickets.transition, no case
kept: the columns are not there yet), so m070's fill has cases to keep (the built databases have no departures)."""
from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import sqlite_utils  # noqa: E402

from storage import migrations  # noqa: E402


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--built", type=Path, required=True)
    p.add_argument("--tmp", type=Path, default=None)
    p.add_argument("--stand-in", type=int, default=0)
    p.add_argument("--fills", nargs="?", const="m062,m067,m070,m071", default="",
                   help="the fills to run (all by default): m062, m067, m070, m071, comma-separated")
    p.add_argument("--departures", type=int, default=0)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        copy = Path(tmp) / "copy.db"
        shutil.copyfile(args.built, copy)
        db = sqlite_utils.Database(copy)
        t0 = time.perf_counter()
        n = db.execute("SELECT count(*), sum(length(text)) FROM tickets").fetchone()[0]
        ref = time.perf_counter() - t0
        print(f"{n:,} tickets; reference (read every ticket's text): {ref:.2f} s")
        pending = [m.name for m in migrations.migrations.pending(db)]

        def up_to(number: str) -> list[str]:
            """Apply the pending migrations before `number`; what is left pending."""
            first = next((i for i, name in enumerate(pending) if name.startswith(number)), len(pending))
            if first:
                migrations.migrations.apply(db, stop_before=pending[first])
            return pending[first:]
        if args.stand_in:
            pending = up_to("m059")
            t0 = time.perf_counter()
            with db.conn:
                db.execute("UPDATE tickets SET response_unit = 'jyj-bgs', resolve_unit = 'jyj-bgs', stood_in = 1 "
                           "WHERE id IN (SELECT id FROM tickets WHERE kind != 'praise' AND unit_code != 'jyj-bgs' "
                           "ORDER BY random() LIMIT ?)", [args.stand_in])
            print(f"marked {args.stand_in:,} tickets 代收 as before m059: {time.perf_counter() - t0:.1f} s")
        if args.departures:
            pending = up_to("m066")
            t0 = time.perf_counter()
            print(f"bounced {depart(db, args.departures):,} signed open tickets to the duty office as before m066: "
                  f"{time.perf_counter() - t0:.1f} s")
        for i, name in enumerate(pending):
            c0, t0 = time.process_time(), time.perf_counter()
            if i + 1 < len(pending):
                migrations.migrations.apply(db, stop_before=pending[i + 1])
            else:
                migrations.migrations.apply(db)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            print(f"migration {name}: {wall:.2f} s wall, {cpu:.2f} s CPU, {wall / ref:.2f}x the reference")
        if args.fills:
            fills(db, args.fills.split(","))
        db.close()
    return 0


def depart(db, n: int) -> int:
    """退回 n random signed open tickets (accepted or replied, not at the duty office) to it, an hour after their
    latest event, as the code before m066 wrote it (tickets.transition on the schema of then)."""
    from storage import tickets
    ids = [r[0] for r in db.execute("SELECT number FROM tickets WHERE state IN ('accepted', 'replied') AND kind != 'praise' "
                                    "AND unit_code != 'jyj-bgs' ORDER BY random() LIMIT ?", [n])]
    with db.conn:
        for number in ids:
            t = tickets.get(db, number)
            at = db.execute("SELECT max(at) FROM ticket_events WHERE ticket_id = ?", [t["id"]]).fetchone()[0] + 3600
            tickets.transition(db, t, "bounced", "bench", at, "bounce", "不属本单位职责", unit_code="jyj-bgs",
                               bounces=1, accepted_by=None, accepted_at=None, accept_due_at=at + 86400)
    return len(ids)


def fills(db, which: list[str]) -> None:
    """The job's loops (bot.scheduler.Jobs.upgrade_fill) named in `which`, each write timed on its own."""
    from bot.scheduler import RANGE_FILLS
    from storage import tickets
    now = time.time()
    loops = [("m062 resolve_since", tickets.resolve_since_pending,
              lambda: (tickets.resolve_since_next(db, 200),), tickets.resolve_since_store)]
    for name, pending, take, store, stamped, done in RANGE_FILLS:  # the job's own list, in its order
        loops.append((f"{name} {done}", lambda d, pending=pending: pending(d) is not None,
                      lambda take=take, stamped=stamped: (*take(db), *((now,) if stamped else ())), store))
    for name, pending, read, store in loops:
        if name.split()[0] not in which:
            continue
        c0, t0 = time.process_time(), time.perf_counter()
        writes, longest, longest_cpu, rows = 0, 0.0, 0.0, 0
        while pending(db):
            got = read()
            w0, p0 = time.perf_counter(), time.process_time()
            with db.conn:
                rows += store(db, *got) or 0
            longest = max(longest, time.perf_counter() - w0)
            longest_cpu = max(longest_cpu, time.process_time() - p0)
            writes += 1
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"fill {name}: {wall:.2f} s wall, {cpu:.2f} s CPU, {writes} writes (longest {longest * 1000:.1f} ms "
              f"wall, {longest_cpu * 1000:.1f} ms CPU), {rows:,} rows")


if __name__ == "__main__":
    sys.exit(main())
