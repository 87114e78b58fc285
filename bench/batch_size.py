#!/usr/bin/env python3
"""The writer thread's CPU a message against the size of its batches: the same messages committed k at a time.

    python bench/batch_size.py [--sizes 10,22] [--messages 6000] [--openids 400] [--rounds 6]

One service per size, each with its own database, in one process (as bench/batch_ab.py does). Each gets the same
bench/webhook.py messages through `db.run_redoable` (what the receiver does), and its writer thread is made to
run exactly k of them per transaction: held by a call that waits, k messages queued meanwhile, then let go. Only
the k-message batches are timed (time.thread_time on the writer thread, around Database._run_batch: the handling,
the statements, BEGIN and COMMIT with its WAL writes). The services take turns round by round, so the machine's
load falls on all alike. The checkpointer thread's copying back of the WAL frames (more frames a message with
smaller batches) is not in the figure.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import webhook as wh

from bot.app import DB, RECEIVER, create_app
from bot.config import load_config
from bot.receiver import _Answer
from handlers.messages import Inbound
from tests.conftest import running


def timed(db, size: int, acc: list[float]) -> None:
    """Add the writer thread's CPU of each batch of `size` calls to acc[0] (and count it in acc[1])."""
    real = db._run_batch

    def _run_batch(conn_db, batch):
        cpu = time.thread_time()
        real(conn_db, batch)
        if len(batch) == size:
            acc[0] += time.thread_time() - cpu
            acc[1] += 1
    db._run_batch = _run_batch


async def in_batches(db, receiver, chunk: list[Inbound], size: int) -> None:
    for i in range(0, len(chunk), size):
        part = chunk[i:i + size]
        entered, gate = threading.Event(), threading.Event()

        def hold(_db) -> None:
            entered.set()
            gate.wait(10)
        held = asyncio.ensure_future(db.run(hold))
        while not entered.is_set():
            await asyncio.sleep(0)
        calls = [asyncio.ensure_future(db.run_redoable(receiver._claim_and_handle, m.dedupe_key, m,
                                                       _Answer(passive_ok=True), None, None)) for m in part]
        await asyncio.sleep(0)  # every call put in the queue behind the held one
        gate.set()
        await held
        await asyncio.gather(*calls)


async def run(sizes: list[int], mix: str, n: int, openids: int, rounds: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="tingjian-batch-size-"))
    try:
        apps = {}
        for k, size in enumerate(sizes):
            (tmp / str(size)).mkdir()
            apps[size] = create_app(load_config(wh.write_config(tmp / str(size), 18096 + k), env={}))
        async with _all(apps.values()):
            rng = random.Random(1)
            pool = [f"o_bench{rng.getrandbits(80):020x}" for _ in range(openids)]
            per_round = n // rounds
            messages = [Inbound(openid=pool[i % len(pool)], kind="text", text=wh.MIXES[mix](rng),
                                created_at=1_800_000_000, msg_id=str(wh.MSG_ID_BASE + i)) for i in range(n)]
            accs = {}
            for size, app in apps.items():
                await app[DB].run(lambda d: None)
                accs[size] = [0.0, 0]
                timed(app[DB], size, accs[size])
            await asyncio.sleep(1.0)
            out: dict[int, list[float]] = {size: [] for size in sizes}
            for r in range(rounds):
                chunk = messages[r * per_round:(r + 1) * per_round]
                order = sizes if r % 2 == 0 else sizes[::-1]
                for size in order:
                    app = apps[size]
                    accs[size][:] = [0.0, 0]
                    await in_batches(app[DB], app[RECEIVER], chunk, size)
                    cpu, batches = accs[size]
                    ms = cpu / max(1, batches * size) * 1000
                    if r:  # the first round (everyone's first message, the memories cold) is left out
                        out[size].append(ms)
                    print(f"round {r + 1} batches of {size:3d}: writer thread {ms:.3f} ms a message "
                          f"({batches} batches)", flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    meds = {size: statistics.median(v) for size, v in out.items()}
    base = sizes[-1]
    print(f"median writer thread CPU a message ({mix} mix, {per_round} messages a round, {openids} senders, rounds "
          f"2-{rounds}): " + ", ".join(f"batches of {s}: {m:.3f} ms" for s, m in meds.items())
          + "; by round against batches of " + str(base) + ": "
          + "; ".join(f"{s}: " + ", ".join(f"{a / b:.2f}" for a, b in zip(out[s], out[base])) for s in sizes[:-1]))


class _all:
    """Start and stop several apps (tests.conftest.running, nested)."""

    def __init__(self, apps):
        self.ctxs = [running(a) for a in apps]

    async def __aenter__(self):
        for c in self.ctxs:
            await c.__aenter__()

    async def __aexit__(self, *exc):
        for c in reversed(self.ctxs):
            await c.__aexit__(*exc)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--sizes", default="10,22", help="batch sizes, the reference last (default 10,22)")
    p.add_argument("--mix", choices=sorted(wh.MIXES), default="short")
    p.add_argument("--messages", type=int, default=6000)
    p.add_argument("--openids", type=int, default=400)
    p.add_argument("--rounds", type=int, default=6)
    args = p.parse_args()
    asyncio.run(run([int(s) for s in args.sizes.split(",")], args.mix, args.messages, args.openids, args.rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
