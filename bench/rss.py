"""Resident memory of one `tingjian serve` worker after start-up and a few messages, and (--components) what
takes it, step by step in this process.

    python bench/rss.py [--port 18550] [--messages 20]
    python bench/rss.py --components [--mix short|routing] [--messages 45000]

The first form starts the service as bench/webhook.py does (its config, its process) and prints its RSS after
start-up and after --messages check messages, the start-up time (until /healthz answers) and the anonymous and
file-backed parts of the RSS (/proc/PID/smaps_rollup). --components builds, in this process, what a serving process
holds, one part after another, printing the RSS each part added: the imports, jieba's dictionary, the router (rules,
its own words over jieba's, the two models), the started service, then --messages messages of --mix through the
writer's handling (bench/webhook.py's texts and pool of 1,000 senders; 45,000 is the webhook bench's pool), and
the memory each cache holds then (tracemalloc: what is freed when the cache is emptied).
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import webhook as wh


def rss_mb(pid: int | None = None) -> float:
    for line in Path(f"/proc/{pid or os.getpid()}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def rollup(pid: int) -> dict[str, float]:
    out = {}
    for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()[1:]:
        name, value = line.split()[:2]
        out[name.rstrip(":")] = int(value) / 1024
    return out


def service(port: int, messages: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="tingjian-rss-"))
    try:
        config = wh.write_config(tmp, port)
        t0 = time.monotonic()
        proc, _ = wh.start_server(config, 1, port, tmp)
        up = time.monotonic() - t0
        try:
            start = rss_mb(proc.pid)
            asyncio.run(wh.check_sample(port, messages))
            after = rss_mb(proc.pid)
            r = rollup(proc.pid)
            print(f"RSS of one worker: {start:.0f} MB after start-up ({up:.1f} s until /healthz answered), "
                  f"{after:.0f} MB after {messages} messages (anonymous {r['Anonymous']:.0f} MB, "
                  f"file-backed {r['Rss'] - r['Anonymous']:.0f} MB)")
        finally:
            wh.stop_server(proc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def components(mix: str, messages: int) -> None:
    import functools
    import tracemalloc
    last = [rss_mb()]

    def step(what: str) -> None:
        gc.collect()
        now = rss_mb()
        print(f"  {what:58s} +{now - last[0]:6.1f} MB  (RSS {now:6.1f} MB)", flush=True)
        last[0] = now

    print(f"RSS by component, in this process ({mix} mix, {messages} messages):")
    step("Python and the bench's helpers (tests/wx.py: cryptography)")
    import bot.app  # noqa: F401
    step("imports of a serving process (aiohttp, cryptography, …)")
    from storage import search
    search.warm()
    step("jieba's dictionary (shared by search and routing)")
    from handlers.routing import Router
    router = Router.from_toml(train=False)
    step("the router: rules, its own words over jieba's")
    router = Router.from_toml()
    step("+ the category and urgency models (a second Router)")
    if hasattr(router, "warm"):  # (older checkouts built it on the first message)
        router.warm()
        step("+ what the first message would build (warm)")
    del router
    step("(the two Routers freed)")
    from bot.app import DB, DISPATCHER, RECEIVER, create_app
    from bot.config import load_config
    from handlers.messages import Inbound
    from storage.inbound import request_key
    from tests.conftest import running

    async def run() -> None:
        tmp = Path(tempfile.mkdtemp(prefix="tingjian-rss-"))
        try:
            app = create_app(load_config(wh.write_config(tmp, 18099), env={}))
            async with running(app):
                step("the started service (its router, database, scheduler)")
                tracemalloc.start(1)
                receiver = app[RECEIVER]
                rng = random.Random(1)
                pool = [f"o_bench{rng.getrandbits(80):020x}" for _ in range(1000)]
                text = wh.MIXES[mix]
                for i in range(messages):
                    m = Inbound(openid=pool[i % len(pool)], kind="text", text=text(rng),
                                created_at=1_800_000_000, msg_id=str(wh.MSG_ID_BASE + i))
                    await receiver.receive(m, request_key(1_800_000_000, f"bn{i}"))
                step(f"{messages} messages (with tracemalloc's own overhead)")
                print("  what the caches hold now (freed when emptied):")

                def freed(what: str, clear) -> None:
                    gc.collect()
                    before = tracemalloc.get_traced_memory()[0]
                    clear()
                    gc.collect()
                    print(f"    {what:56s} {(before - tracemalloc.get_traced_memory()[0]) / 2**20:6.2f} MB")

                freed(f"replay memory, {len(receiver._recent)} requests (bot/receiver.py)", receiver._recent.clear)
                cache = app[DB]._db.conversation_cache
                freed(f"conversation memory, {len(cache.rows)} people (storage/conversations.py)", cache.rows.clear)
                mine = (str(common.ROOT / "handlers"), str(common.ROOT / "storage"), str(common.ROOT / "bot"))
                for o in gc.get_objects():
                    if isinstance(o, functools._lru_cache_wrapper) and o.cache_info().currsize > 1 and \
                            getattr(o.__wrapped__, "__code__", None) is not None and \
                            o.__wrapped__.__code__.co_filename.startswith(mine):
                        info = o.cache_info()
                        freed(f"{o.__wrapped__.__qualname__}, {info.currsize} of {info.maxsize}", o.cache_clear)
                tracemalloc.stop()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)

    asyncio.run(run())


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, default=18550)
    p.add_argument("--components", action="store_true")
    p.add_argument("--mix", choices=sorted(wh.MIXES), default="short")
    p.add_argument("--messages", type=int, default=None)
    args = p.parse_args()
    if args.components:
        components(args.mix, args.messages or 45_000)
    else:
        service(args.port, args.messages or 20)
    return 0


if __name__ == "__main__":
    sys.exit(main())
