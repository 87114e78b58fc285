#!/usr/bin/env python3
"""Where the routing-heavy mix's writer time goes, by kind of message: the writer's call for each message (as
bench/writer.py makes it), timed in thread CPU and keyed by the first words of its reply, with the routing inside it
(Router.route, and Router.category where the checkout has it: the another-matter check since route9).

    python bench/route_kinds.py [--messages 15000] [--openids 1000] [--profile 40] [--mix short]
    PYTHONPATH=<old checkout> python <old checkout>/bench/route_kinds.py ...   # (or this file, run from there)

--openids 1000 with 15,000 messages sends ~15 a person, as bench/webhook.py --openids 1000 does at ~1,500 msg/s.
--profile N prints cProfile's N heaviest functions for a person's first, second and later messages (slow).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import cProfile
import pstats
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import webhook as wh

import handlers.dispatcher as D
from bot.app import DB, RECEIVER, create_app
from bot.config import load_config
from bot.receiver import _Answer
from handlers.messages import Inbound
from handlers.routing.router import Router
from tests.conftest import running

STATS: dict[str, list] = collections.defaultdict(lambda: [0, 0.0, 0.0, 0])  # kind -> n, cpu, routing cpu, routings
NOW = {"routing": 0.0, "routings": 0}


def timed(f):
    def call(self, text):
        c = time.thread_time()
        try:
            return f(self, text)
        finally:
            NOW["routing"] += time.thread_time() - c
            NOW["routings"] += 1
    return call


def instrument(profile: bool) -> dict[int, cProfile.Profile]:
    Router.route = timed(Router.route)
    if hasattr(Router, "category"):
        Router.category = timed(Router.category)
    profiles = {k: cProfile.Profile() for k in (1, 2, 3)} if profile else {}
    nth: collections.Counter = collections.Counter()
    handle = D.Dispatcher.handle_tx

    def handle_tx(self, db, inbound, *reads):
        NOW["routing"], NOW["routings"] = 0.0, 0
        nth[inbound.openid] += 1
        p = profiles.get(min(nth[inbound.openid], 3))
        c = time.thread_time()
        if p:
            p.enable()
        replies = handle(self, db, inbound, *reads)
        if p:
            p.disable()
        cpu = time.thread_time() - c
        s = STATS[(replies[0].text[:8] if replies else "-").replace("\n", " ")]
        s[0] += 1
        s[1] += cpu
        s[2] += NOW["routing"]
        s[3] += NOW["routings"]
        return replies
    D.Dispatcher.handle_tx = handle_tx
    return profiles


async def run(n: int, openids: int, mix: str = "routing") -> float:
    tmp = Path(tempfile.mkdtemp(prefix="route-kinds-"))
    try:
        app = create_app(load_config(wh.write_config(tmp, 18099), env={}))
        async with running(app):
            db, receiver = app[DB], app[RECEIVER]
            rng = random.Random(1)
            pool = [f"o_bench{rng.getrandbits(80):020x}" for _ in range(openids)]
            messages = [Inbound(openid=pool[i % len(pool)], kind="text", text=wh.MIXES[mix](rng),
                                created_at=1_800_000_000, msg_id=str(wh.MSG_ID_BASE + i)) for i in range(n)]
            c = time.process_time()
            for m in messages:
                await getattr(db, "run_redoable", db.run)(receiver._claim_and_handle, m.dedupe_key, m,
                                                          _Answer(passive_ok=True), None, None)
            return (time.process_time() - c) / n * 1000
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=15000)
    ap.add_argument("--openids", type=int, default=1000)
    ap.add_argument("--profile", type=int, default=0)
    ap.add_argument("--mix", choices=sorted(wh.MIXES), default="routing",
                    help="the texts, as bench/webhook.py's --mix (short: its default load)")
    args = ap.parse_args()
    profiles = instrument(bool(args.profile))
    whole = asyncio.run(run(args.messages, args.openids, args.mix))
    n = sum(s[0] for s in STATS.values())
    cpu = sum(s[1] for s in STATS.values())
    print(f"{D.__file__}: {args.messages} {args.mix}-mix messages from {args.openids} people; process CPU {whole:.3f} ms "
          f"a message, the writer's handling {cpu / n * 1000:.3f} ms")
    for kind, (k, t, r, rn) in sorted(STATS.items(), key=lambda kv: -kv[1][1]):
        print(f"  {kind:10s} {100 * k / n:5.1f} % of messages  {1000 * t / k:6.3f} ms each, routing {1000 * r / k:6.3f} "
              f"ms ({rn / k:.2f} calls)  {100 * t / cpu:5.1f} % of the handling")
    print(f"routing: {1000 * sum(s[2] for s in STATS.values()) / n:.4f} ms a message "
          f"({sum(s[3] for s in STATS.values()) / n:.3f} calls a message)")
    for k, p in profiles.items():
        print(f"--- a person's message {k}{' and later' if k == 3 else ''}")
        pstats.Stats(p).sort_stats("cumulative").print_stats(args.profile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
