"""The weekly digest job at a million tickets as CPU, not wall time (branch bureau11): with six other sessions on
2 cores, bench/scale.py's "weekly digest job" wall time moved 16.7–59.0 s between runs of the same code. Runs the
job as the scheduler does, in the service process (`digest.separate_process = false`: the process's CPU is then the
job's), on a working copy of a built file, for this checkout and another tree (`--tree`, e.g. main before audit11's
无人绑定的单位 read via `git archive 8756ab0`), each in a fresh process with PYTHONPATH at its tree, alternated.
The copy's index of praise by unit (m065) is dropped for a tree that predates it, so the reference reads as it did.

    python bench/digest_job_cpu.py --db WRITABLE_COPY_OF_1M --tree /tmp/x/pre [--rounds 2]

Writes to --db (the week's digests, deleted before each job): pass a copy, never /work/scale-data.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import sqlite3
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


async def job(path: str, repeat: int) -> dict:
    import common  # noqa: F401
    import scale
    from aiohttp import web
    from bot.app import DB, SCHEDULER, SENDER, create_app
    from bot.config import load_config
    from handlers import digest
    from handlers.clock import Clock
    from tests import wx
    config = load_config(None, env={}, overrides={
        "wechat": {"token": wx.TOKEN, "aes_key": wx.AES_KEY, "appid": wx.APPID, "appsecret": "x",
                   "api_base": "http://127.0.0.1:9", "check_timestamp": False},
        "server": {"public_url": "http://127.0.0.1:1", "link_secret": "bench-link-secret-0123456789abcdef"},
        "storage": {"path": path}, "digest": {"separate_process": False}})
    clock = type("C", (scale.OffsetClock, Clock), {})()
    app = create_app(config, clock=clock)
    runner = web.AppRunner(app)
    await runner.setup()
    app[SCHEDULER].pause()
    await app[SENDER].stop()
    week = digest.previous_week(digest.week_of(scale.NOW, scale.TZ))
    run = app[SCHEDULER].get_job("weekly-digest").func
    out = []
    for _ in range(repeat):
        await app[DB].run(lambda c: c.execute("DELETE FROM digests WHERE week = ?", [week]))
        c, t = time.process_time(), time.perf_counter()
        await run()
        out.append(((time.process_time() - c) * 1000, (time.perf_counter() - t) * 1000))
    sent = await app[DB].run(lambda c: c.execute("SELECT count(*) FROM digests WHERE week = ?", [week]).fetchone()[0])
    await runner.cleanup()
    return {"cpu_ms": [c for c, _ in out], "wall_ms": [w for _, w in out], "digests": sent}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--tree", required=True)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2, help="jobs per process (the first warms the cache)")
    ap.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    assert not str(Path(args.db).resolve()).startswith("/work/scale-data"), "pass a copy"
    if args.once:
        sys.path.insert(1, str(Path(__file__).resolve().parent))
        print(json.dumps(asyncio.run(job(args.db, args.repeat))))
        return
    cpu: dict[str, list[float]] = {"reference": [], "this": []}
    for i in range(args.rounds):
        for label, tree in (("reference", Path(args.tree)), ("this", ROOT)):
            conn = sqlite3.connect(args.db)
            if label == "reference" and not (tree / "storage/migrations.py").read_text().count("m065"):
                conn.execute("DROP INDEX IF EXISTS tickets_praise_unit")
            elif label == "this":
                conn.execute("CREATE INDEX IF NOT EXISTS tickets_praise_unit ON tickets(coalesce(school_code, "
                             "unit_code), created_at) WHERE kind = 'praise'")
            conn.close()
            env = {**os.environ, "PYTHONPATH": str(tree)}
            out = subprocess.run([sys.executable, __file__,
                                  "--once", "--db", args.db, "--tree", str(tree), "--repeat", str(args.repeat)],
                                 cwd=tree, env=env, check=True, capture_output=True, text=True).stdout
            got = json.loads(out.strip().splitlines()[-1])
            cpu[label] += got["cpu_ms"][1:] or got["cpu_ms"]
            print(f"  {i + 1} {label:9} CPU {['%.0f' % c for c in got['cpu_ms']]} ms  wall "
                  f"{['%.0f' % w for w in got['wall_ms']]} ms  digests {got['digests']}  "
                  f"load {os.getloadavg()[0]:.1f}", flush=True)
    ref, this = (statistics.median(cpu[k]) for k in ("reference", "this"))
    print(f"median CPU a job (after the first of each process): reference {ref:.0f} ms, this {this:.0f} ms, "
          f"this/reference {this / ref:.2f}")


if __name__ == "__main__":
    main()
