"""One unit's rates for a week and a month (handlers.rates.for_period: the counters plus the read-time parts), in
CPU time as well as wall time, for the old code and this checkout alternated on the same database: under a shared
machine's load the wall clock is the scheduler's and the page cache's, the CPU a call spends is the code's.

    python bench/rates_unit_cpu.py --db COPY.db --old /tmp/me/before [--rounds 3] [--repeat 15]

--db must be migrated by this checkout (both codes read it; opened read-only). --old: a tree of the old code
(`git archive main | tar -x -C DIR`). Prints each code's median CPU and wall ms per round, and new/old ratios.
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sqlite3, statistics, sys, time
sys.path.insert(0, sys.argv[1])
import sqlite_utils
from handlers import rates
import datetime as dt
from zoneinfo import ZoneInfo
from handlers import dashboard
TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=TZ).timestamp()  # bench/scale.py's NOW
db = sqlite_utils.Database(sqlite3.connect(f"file:{sys.argv[2]}?mode=ro", uri=True))
out = {}
for kind, key in (("week", "2026-W48"), ("month", "2026-11")):
    p = dashboard.parse_period(kind, key, TZ)
    for unit in ("jyj-sfc", "jyj-bgs", "s001"):
        rates.for_period(db, p.start, p.end, [unit], NOW)
        cpu, wall = [], []
        for _ in range(int(sys.argv[3])):
            c, w = time.process_time(), time.perf_counter()
            rates.for_period(db, p.start, p.end, [unit], NOW)
            cpu.append((time.process_time() - c) * 1000)
            wall.append((time.perf_counter() - w) * 1000)
        out[f"{key} {unit}"] = (statistics.median(cpu), statistics.median(wall))
print(json.dumps(out))
"""


def run(code: Path, db: str, repeat: int) -> dict:
    done = subprocess.run([sys.executable, "-c", CHILD, str(code), db, str(repeat)], check=True,
                          capture_output=True, text=True, cwd=code)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--db", required=True)
    p.add_argument("--old", type=Path, required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--repeat", type=int, default=15)
    args = p.parse_args()
    new_code = Path(__file__).resolve().parents[1]
    got: dict[str, dict[str, list]] = {"old": {}, "new": {}}
    for r in range(args.rounds):
        for name, code in (("old", args.old), ("new", new_code)) if r % 2 == 0 else (("new", new_code),
                                                                                      ("old", args.old)):
            for key, v in run(code, args.db, args.repeat).items():
                got[name].setdefault(key, []).append(v)
    print("| unit, period | old CPU ms (rounds) | new CPU ms (rounds) | new/old CPU (medians) | old / new wall ms (medians) |")
    print("|---|---|---|---:|---|")
    for key in got["new"]:
        o, n = got["old"][key], got["new"][key]
        oc, nc = statistics.median(x[0] for x in o), statistics.median(x[0] for x in n)
        ow, nw = statistics.median(x[1] for x in o), statistics.median(x[1] for x in n)
        print(f"| {key} | {', '.join(f'{x[0]:.1f}' for x in o)} | {', '.join(f'{x[0]:.1f}' for x in n)} | "
              f"{nc / oc:.2f} | {ow:.1f} / {nw:.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
