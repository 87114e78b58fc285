"""The weekly digest's build for every scope at a million tickets, as CPU of the process (branch bureau11: audit11
added the 无人绑定的单位 read to it; was it timed?): handlers.digest.build_all of the bureau and every unit's scope
for the week before bench/scale.py's "now", topics left out (jieba's share, unchanged), on a read-only file. Each
sample is a fresh process of one tree (`--tree`, e.g. main before audit11 via `git archive 8756ab0`) and this
checkout, alternated; the ratio is this checkout's CPU to the other tree's in the same run.

    python bench/digest_cpu.py --db /work/scale-data/scale-1000000-v4-m058.db --tree /tmp/x/pre [--repeat 3]

Opens the file read-only (immutable=1): it never writes to it.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def once(path: str) -> dict:
    import sqlite3
    import time
    import sqlite_utils
    from bench.scale import NOW, TZ
    from handlers import digest
    from storage import directory
    db = sqlite_utils.Database(sqlite3.connect(f"file:{path}?immutable=1", uri=True))
    week = digest.previous_week(digest.week_of(NOW, TZ))
    scopes = ["bureau"] + [u["code"] for u in directory.all_units(db)]
    t, c = time.perf_counter(), time.process_time()
    built = digest.build_all(db, week, NOW, TZ, scopes, None, {s: [] for s in scopes})
    assert Path(digest.__file__).is_relative_to(os.environ.get("PYTHONPATH") or ROOT), digest.__file__
    return {"cpu_ms": (time.process_time() - c) * 1000, "wall_ms": (time.perf_counter() - t) * 1000,
            "scopes": len(built), "unstaffed": len(getattr(built["bureau"], "unstaffed", []) or [])}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", default="/work/scale-data/scale-1000000-v4-m058.db")
    ap.add_argument("--tree", required=True, help="the other checkout (the reference)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.once:
        print(json.dumps(once(args.db)))
        return
    samples: dict[str, list[dict]] = {"reference": [], "this": []}
    for i in range(args.repeat):
        for label, tree in (("reference", Path(args.tree)), ("this", ROOT)):
            env = {**os.environ, "PYTHONPATH": str(tree)}
            out = subprocess.run([sys.executable, __file__, "--once", "--db", args.db, "--tree", str(tree)],
                                 cwd=tree, env=env, check=True, capture_output=True, text=True).stdout
            got = json.loads(out.strip().splitlines()[-1])
            samples[label].append(got)
            print(f"  {i + 1} {label:9} cpu {got['cpu_ms']:8.0f} ms  wall {got['wall_ms']:8.0f} ms  "
                  f"scopes {got['scopes']}  无人绑定 {got['unstaffed']}", flush=True)
    ref, this = (statistics.median(s["cpu_ms"] for s in samples[k]) for k in ("reference", "this"))
    print(f"median CPU: reference {ref:.0f} ms, this {this:.0f} ms, this/reference {this / ref:.2f}")


if __name__ == "__main__":
    main()
