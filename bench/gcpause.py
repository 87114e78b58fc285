#!/usr/bin/env python3
"""The garbage collector's pauses in a serving process, with and without the freeze after start-up.

    python bench/gcpause.py [--messages 6000] [--openids 1000] [--repeat 2]

Starts the service in this process as `tingjian serve` builds it (bot/cli._serving_app: [server] gc_freeze on or
off), warms it with 500 messages, then posts bench/webhook.py's encrypted messages to its webhook handler, 50 at a
time, as bench/pipeline.py does (no sockets), and records every collection the process makes (gc.callbacks): how
many of each generation, and each one's CPU time on the thread that ran it (time.thread_time: a shared machine
stretches wall time, not this). A collection holds the GIL, so its CPU time is a pause of the whole process: the
event loop and the writer thread both wait. After the load, one full collection is forced and timed the same way.
The two settings alternate, --repeat times each, on fresh databases.
"""
from __future__ import annotations

import argparse
import asyncio
import gc
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import pipeline
import webhook as wh

from bot.app import WEBHOOK
from bot.config import load_config
from tests.conftest import running


async def one(reqs, freeze: bool, concurrency: int, warm: int) -> dict:
    from bot import cli
    tmp = Path(tempfile.mkdtemp(prefix="tingjian-gcpause-"))
    pauses: dict[int, list[float]] = {0: [], 1: [], 2: []}
    started = [0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.thread_time()
        else:
            pauses[info["generation"]].append(1000 * (time.thread_time() - started[0]))

    try:
        config = load_config(wh.write_config(tmp, 18098, [("server", "gc_freeze", "true" if freeze else "false")]),
                             env={})
        gc.unfreeze()
        app = cli._serving_app(config)
        async with running(app):
            post = app[WEBHOOK].post
            await pipeline.drive(post, reqs[:warm], concurrency)
            gc.callbacks.append(on_gc)
            try:
                await pipeline.drive(post, reqs[warm:], concurrency)
            finally:
                gc.callbacks.remove(on_gc)
            t = time.thread_time()
            gc.collect()
            full = 1000 * (time.thread_time() - t)
            frozen = gc.get_freeze_count()
    finally:
        gc.unfreeze()
        shutil.rmtree(tmp, ignore_errors=True)
    n = len(reqs) - warm
    return {"freeze": freeze, "frozen": frozen, "full_ms": full, "messages": n,
            "gc_ms_per_message": sum(sum(v) for v in pauses.values()) / n,
            **{f"gen{g}": (len(v), statistics.median(v) if v else 0.0, max(v, default=0.0)) for g, v in pauses.items()}}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mix", choices=sorted(wh.MIXES), default="short")
    p.add_argument("--messages", type=int, default=6000)
    p.add_argument("--openids", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--repeat", type=int, default=2)
    args = p.parse_args()
    import uvloop
    reqs = pipeline.requests(args.messages, args.mix, seed=1, openids=args.openids)
    warm = min(500, args.messages // 5)
    for _ in range(args.repeat):
        for freeze in (False, True):
            r = pipeline._run(uvloop.new_event_loop, one(reqs, freeze, args.concurrency, warm))
            gens = "; ".join(f"gen{g} {r[f'gen{g}'][0]}x median {r[f'gen{g}'][1]:.2f} max {r[f'gen{g}'][2]:.2f} ms"
                             for g in range(3))
            print(f"gc_freeze={'on ' if freeze else 'off'} ({r['frozen']:,} objects frozen): {r['messages']} messages, "
                  f"{gens}; all collections {r['gc_ms_per_message'] * 1000:.1f} µs CPU per message; "
                  f"a full collection after the load {r['full_ms']:.1f} ms CPU", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
