#!/usr/bin/env python3
"""The writer thread's CPU per message, savepoints and two inbound writes (careful) against none and one
(optimistic: storage/db.py), in one process, in alternating rounds, so that the machine's load falls on both alike.

    python bench/batch_ab.py [--mix short|routing] [--messages 6000] [--openids 400] [--rounds 6]

Two services in one process, each with its own database, get the same bench/webhook.py messages (its mixes;
`--openids` senders), 50 in flight as in the server, a round at a time, one after the other: one through `db.run`
(each call in its savepoint, the inbound claimed then completed, the handling in its own savepoint: what main did
before), the other through `db.run_redoable` (what the receiver does now). Each writer thread's own CPU time
(time.thread_time on that thread) per message is printed for each round, and the medians.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import webhook as wh  # (its config, mixes and sender pool)

from bot.app import DB, RECEIVER, create_app
from bot.config import load_config
from bot.receiver import _Answer
from handlers.messages import Inbound
from tests.conftest import running


async def run(mix: str, n: int, openids: int, rounds: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="tingjian-batch-ab-"))
    try:
        for kind in ("careful", "optimistic"):
            (tmp / kind).mkdir()
        apps = {kind: create_app(load_config(wh.write_config(tmp / kind, port), env={}))
                for kind, port in (("careful", 18098), ("optimistic", 18099))}
        async with running(apps["careful"]), running(apps["optimistic"]):
            rng = random.Random(1)
            pool = [f"o_bench{rng.getrandbits(80):020x}" for _ in range(openids)]
            per_round = n // rounds
            messages = [Inbound(openid=pool[i % len(pool)], kind="text", text=wh.MIXES[mix](rng),
                                created_at=1_800_000_000, msg_id=str(wh.MSG_ID_BASE + i)) for i in range(n)]
            gate = asyncio.Semaphore(50)
            for app in apps.values():
                await app[DB].run(lambda d: None)  # (start-up's own calls done)
            await asyncio.sleep(1.0)
            out: dict[str, list[float]] = {"careful": [], "optimistic": []}
            for r in range(rounds):
                chunk = messages[r * per_round:(r + 1) * per_round]
                # Both databases get the same messages; which goes first alternates (the pure checks' memories
                # warmed by the first would favour the second).
                for kind in (("careful", "optimistic") if r % 2 == 0 else ("optimistic", "careful")):
                    db, receiver = apps[kind][DB], apps[kind][RECEIVER]
                    call = db.run if kind == "careful" else db.run_redoable

                    async def one(m: Inbound) -> None:
                        async with gate:
                            await call(receiver._claim_and_handle, m.dedupe_key, m, _Answer(passive_ok=True),
                                       None, None)

                    before = await db.run(lambda d: time.thread_time())
                    redone = db.redone
                    await asyncio.gather(*(one(m) for m in chunk))
                    after = await db.run(lambda d: time.thread_time())
                    ms = (after - before) / len(chunk) * 1000
                    if r:  # the first round (everyone's first message, the memories cold) is left out
                        out[kind].append(ms)
                    print(f"round {r + 1} {kind:10s} writer thread {ms:.3f} ms a message"
                          f"{f' ({db.redone - redone} batches redone)' if db.redone != redone else ''}", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    c, o = statistics.median(out["careful"]), statistics.median(out["optimistic"])
    pairs = sorted(b / a for a, b in zip(out["careful"], out["optimistic"]))
    print(f"median writer thread CPU a message ({mix} mix, {per_round} messages a round, {openids} senders, "
          f"rounds 2-{rounds}): careful {c:.3f} ms, optimistic {o:.3f} ms ({(c - o) * 1000:.0f} us less); "
          f"optimistic / careful by round: median {statistics.median(pairs):.2f}x "
          f"(range {pairs[0]:.2f}-{pairs[-1]:.2f})")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--mix", choices=sorted(wh.MIXES), default="short")
    p.add_argument("--messages", type=int, default=6000)
    p.add_argument("--openids", type=int, default=400)
    p.add_argument("--rounds", type=int, default=6)
    args = p.parse_args()
    asyncio.run(run(args.mix, args.messages, args.openids, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
