"""The service process's CPU per weekly digest job (all 188 scopes of the 10k scale file), built by the job
process (digest.separate_process) and on a reader thread of the service, and the job process's own CPU.

    python bench/job_cpu.py
"""
import asyncio
import os
import sys
import time
from pathlib import Path

import common  # this checkout on sys.path
import scale

async def main(separate):
    from aiohttp import web
    from bot.app import DB, SCHEDULER, JOB_PROCESS, create_app, SENDER
    from bot.config import load_config
    from handlers.clock import Clock
    from tests import wx
    config = load_config(None, env={}, overrides={
        "wechat": {"token": wx.TOKEN, "aes_key": wx.AES_KEY, "appid": wx.APPID, "appsecret": "x",
                   "api_base": "http://127.0.0.1:9", "check_timestamp": False},
        "server": {"public_url": "http://127.0.0.1:1", "link_secret": "bench-link-secret-0123456789abcdef"},
        "storage": {"path": str(WORK)}, "digest": {"separate_process": separate}})
    clock = type("C", (scale.OffsetClock, Clock), {})()
    app = create_app(config, clock=clock)
    runner = web.AppRunner(app); await runner.setup()
    app[SCHEDULER].pause(); await app[SENDER].stop()
    db = app[DB]
    from handlers import digest
    week = digest.previous_week(digest.week_of(scale.NOW, scale.TZ))
    job = app[SCHEDULER].get_job("weekly-digest").func
    cpus = []
    for i in range(4):
        await db.run(lambda c: c.execute("DELETE FROM digests WHERE week = ?", [week]))
        c0, t0 = time.process_time(), time.perf_counter()
        await job()
        cpus.append((time.process_time() - c0, time.perf_counter() - t0))
    pid = app[JOB_PROCESS].pid()
    child = None
    if pid:
        f = open(f"/proc/{pid}/stat").read().split()
        child = (int(f[13]) + int(f[14])) / os.sysconf("SC_CLK_TCK")
    print("separate" if separate else "in-process", "parent CPU / wall per job (s):",
          [(round(c, 3), round(w, 3)) for c, w in cpus], "child CPU total:", child)
    await runner.cleanup()

WORK = common.SCALE_DATA / f"work-jobcpu-{os.getpid()}.db"

if __name__ == "__main__":  # (the job process is spawned: it imports this file and must not run it)
    common.working_copy(scale.cached(common.SCALE_DATA, 10_000), WORK)
    try:
        asyncio.run(main(True))
        asyncio.run(main(False))
    finally:
        common.remove_db(WORK)
