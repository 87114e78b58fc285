"""How long the pending migrations take on a copy of a built database, beside a reference read in the same run.

    python bench/upgrade_time.py --built /work/scale-data/scale-1000000-v4.db [--tmp /tmp/me]

The copy is deleted afterwards. Reference: one full read of tickets.text (the file's largest column)."""
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
    args = p.parse_args()
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        copy = Path(tmp) / "copy.db"
        shutil.copyfile(args.built, copy)
        db = sqlite_utils.Database(copy)
        t0 = time.perf_counter()
        n = db.execute("SELECT count(*), sum(length(text)) FROM tickets").fetchone()[0]
        ref = time.perf_counter() - t0
        c0, t0 = time.process_time(), time.perf_counter()
        applied = migrations.migrate(db)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        print(f"{n:,} tickets; reference (read every ticket's text): {ref:.2f} s")
        print(f"migrations {', '.join(applied) or '(none pending)'}: {wall:.1f} s wall, {cpu:.1f} s CPU, "
              f"{wall / ref:.0f}x the reference")
        db.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
