#!/usr/bin/env python3
"""What remembering each signed request (replay protection) costs on the hot path.

    python bench/replay_cost.py [--messages 20000] [--rounds 3]

The webhook's writer call stores an inbound (storage.inbound.claim: the row, the user's last-seen time, releasing
messages waiting for them) and, since issue 8, first notes the request's timestamp:nonce
(storage.inbound.remember_request) in the same call and transaction. This runs both shapes through the real
writer thread on a real SQLite file, 50 calls in flight (so commits are grouped as under load), alternating
rounds, and prints messages/s and the ratio with/without. Handling itself (routing, the conversation) is left
out, so the ratio is an upper bound of the cost.
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)

from storage import inbound
from storage.db import Database


async def _round(db: Database, start: int, n: int, remember: bool) -> float:
    now = time.time()

    def call(db_, i):
        key = f"wechat:msg:{i}"
        if remember:
            inbound.remember_request(db_, inbound.request_key(int(now), str(i)), key)
        return inbound.claim(db_, key, f"o_{i % 500}", "text", "{}", now)

    sem = asyncio.Semaphore(50)

    async def one(i):
        async with sem:
            await db.run(call, i)
    t0 = time.perf_counter()
    await asyncio.gather(*(one(start + i) for i in range(n)))
    return n / (time.perf_counter() - t0)


async def main_async(messages: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        db = Database(Path(tmp) / "cost.db").start()
        rates = {False: [], True: []}
        start = 0
        for r in range(rounds):
            for remember in (False, True) if r % 2 == 0 else (True, False):
                rates[remember].append(await _round(db, start, messages, remember))
                start += messages
        db.close()
    without, with_ = max(rates[False]), max(rates[True])
    print(f"claim only:              {without:,.0f} messages/s (best of {rounds})")
    print(f"claim + remember request: {with_:,.0f} messages/s (best of {rounds})")
    print(f"ratio with/without: {with_ / without:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main_async(args.messages, args.rounds))


if __name__ == "__main__":
    main()
