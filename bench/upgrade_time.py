"""How long the pending migrations take on a copy of a built database, beside a reference read in the same run.

    python bench/upgrade_time.py --built /work/scale-data/scale-1000000-v4.db [--tmp /tmp/me] [--stand-in N]

The copy is deleted afterwards. Reference: one full read of tickets.text (the file's largest column). Each pending
migration is timed on its own. `--stand-in N`: first mark N random non-praise tickets as 代收 the way the code
before m059 wrote it (the duty office's 签收 and 办结 parts, stood_in = 1; the triggers move their counts), so m059
has work to do (the built databases have no 代收 tickets)."""
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
        if args.stand_in:
            first = next((i for i, name in enumerate(pending) if name.startswith("m059")), len(pending))
            if first:
                migrations.migrations.apply(db, stop_before=pending[first])
            pending = pending[first:]
            t0 = time.perf_counter()
            with db.conn:
                db.execute("UPDATE tickets SET response_unit = 'jyj-bgs', resolve_unit = 'jyj-bgs', stood_in = 1 "
                           "WHERE id IN (SELECT id FROM tickets WHERE kind != 'praise' AND unit_code != 'jyj-bgs' "
                           "ORDER BY random() LIMIT ?)", [args.stand_in])
            print(f"marked {args.stand_in:,} tickets 代收 as before m059: {time.perf_counter() - t0:.1f} s")
        for i, name in enumerate(pending):
            c0, t0 = time.process_time(), time.perf_counter()
            if i + 1 < len(pending):
                migrations.migrations.apply(db, stop_before=pending[i + 1])
            else:
                migrations.migrations.apply(db)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            print(f"migration {name}: {wall:.2f} s wall, {cpu:.2f} s CPU, {wall / ref:.2f}x the reference")
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
