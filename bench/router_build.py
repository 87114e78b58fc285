#!/usr/bin/env python3
"""A router's build, as every process that starts the service pays it (`tingjian serve`, each HTTP worker, the job
process, a CLI command that routes): Router.from_toml() and warm() in a fresh process, in CPU seconds, for this
checkout and an old one, alternated in the same run; the ratio new / old of the medians.

    python bench/router_build.py --base main          # old = `git archive main`, new = this checkout
    python bench/router_build.py --old /tmp/before    # old = a checkout already unpacked there
    python bench/router_build.py --pairs 5 --schools 300

Each build runs in its own process with PYTHONPATH set to its checkout (the imports before it are not counted).
Also printed: the first English and first Chinese message after the build (what patterns compiled when a text
first reaches them add to the first messages), and the load average.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PROBE = r"""
import json, sys, time
from handlers.routing import Router
schools = [(f"S{i:04d}", f"第{i}实验小学", [f"{i}小"]) for i in range(1, int(sys.argv[1]) + 1)]
t0 = time.process_time()
r = Router.from_toml(schools=schools)
t1 = time.process_time()
r.warm()
t2 = time.process_time()
r.route("校车司机开车打电话，太危险了，希望教育局管一管")
t3 = time.process_time()
r.route("The school charges extra fees for tutoring and my son was bullied, please help")
t4 = time.process_time()
print(json.dumps({"build": t1 - t0, "warm": t2 - t1, "first_zh": t3 - t2, "first_en": t4 - t3}))
"""


def run(checkout: Path, schools: int) -> dict:
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    out = subprocess.run([sys.executable, "-c", PROBE, str(schools)], cwd=checkout, env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default=None, help="a git revision to compare with (unpacked with git archive)")
    ap.add_argument("--old", default=None, help="an old checkout already unpacked")
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--schools", type=int, default=300)
    args = ap.parse_args()
    tmp = None
    if args.old:
        old = Path(args.old)
    else:
        tmp = tempfile.TemporaryDirectory(prefix="router-build-")
        old = Path(tmp.name)
        archive = subprocess.run(["git", "archive", args.base or "main"], cwd=ROOT, check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(old)], input=archive.stdout, check=True)
    sides = {"old": old, "new": ROOT}
    got: dict[str, list[dict]] = {"old": [], "new": []}
    for i in range(args.pairs):
        for side in (("old", "new") if i % 2 == 0 else ("new", "old")):  # the order swapped each pair
            got[side].append(run(sides[side], args.schools))
    print(f"load average: {open('/proc/loadavg').read().split()[:3]}")
    for part in ("build", "warm", "first_zh", "first_en"):
        o, n = (statistics.median(x[part] for x in got[s]) for s in ("old", "new"))
        print(f"{part:9s} old {o * 1000:7.0f} ms  new {n * 1000:7.0f} ms  new/old {n / o if o else float('nan'):.2f}")
    total = {s: statistics.median(sum(x.values()) for x in got[s]) for s in got}
    print(f"all four  old {total['old'] * 1000:7.0f} ms  new {total['new'] * 1000:7.0f} ms  "
          f"new/old {total['new'] / total['old']:.2f}   (CPU, median of {args.pairs} processes each)")
    if tmp:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
