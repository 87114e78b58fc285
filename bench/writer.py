#!/usr/bin/env python3
"""CPU per message of the handling alone: the writer thread's call for each message (store it, handle it,
record the reply, in one transaction), in-process, without HTTP, AES or XML.

    python bench/writer.py [--mix short|routing] [--messages 4000] [--repeat 3]

The messages are bench/webhook.py's (same mixes, same pool of senders, four messages each on average), fed one
at a time to the receiver's writer call as the webhook does. CPU time of the whole process (all threads) per
message is printed, the best of --repeat runs on a fresh database each: on a machine shared with other work it
moves much less than the webhook bench's rates (no wrk, no sockets, no event-loop scheduling), so a pair of
runs (old code, new code; PYTHONPATH=<old checkout> for the old) shows what a change to the handling did.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import webhook as wh  # (its config, mixes and sender pool)

from bot.app import DB, RECEIVER, create_app
from bot.config import load_config
from handlers.messages import Inbound
from tests.conftest import running


async def one_run(mix: str, n: int, seed: int) -> float:
    tmp = Path(tempfile.mkdtemp(prefix="tingjian-writer-"))
    try:
        app = create_app(load_config(wh.write_config(tmp, 18099), env={}))
        async with running(app):
            db, receiver = app[DB], app[RECEIVER]
            rng = random.Random(seed)
            pool = [f"o_bench{rng.getrandbits(80):020x}" for _ in range(max(1, n // 4))]
            text = wh.MIXES[mix]
            messages = [Inbound(openid=pool[i % len(pool)], kind="text", text=text(rng), created_at=1_800_000_000,
                                msg_id=str(wh.MSG_ID_BASE + i)) for i in range(n)]
            for m in messages[:50]:  # warm: the router's first cuts, the caches' first entries
                await getattr(db, "run_redoable", db.run)(receiver._claim_and_handle, m.dedupe_key, m, _Answer(), None, None)
            t0 = time.process_time()
            for m in messages[50:]:
                await getattr(db, "run_redoable", db.run)(receiver._claim_and_handle, m.dedupe_key, m, _Answer(), None, None)
            return (time.process_time() - t0) / (n - 50) * 1000
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _Answer():
    from bot.receiver import _Answer as A
    return A(passive_ok=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--mix", choices=sorted(wh.MIXES), default="short")
    p.add_argument("--messages", type=int, default=4000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args()
    runs = [asyncio.run(one_run(args.mix, args.messages, seed=1)) for _ in range(args.repeat)]
    print(f"writer CPU per message ({args.mix} mix, {args.messages} messages): best {min(runs):.3f} ms "
          f"(runs: {', '.join(f'{r:.3f}' for r in runs)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
