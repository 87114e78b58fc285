#!/usr/bin/env python3
"""CPU per webhook wait: what the receiver spends to wait for a message's handling with a time limit, the old way
(asyncio.timeout + asyncio.shield per message) and the receiver's own (bot.receiver._Deadlines: one timer for
every wait), beside the bare cost of creating and awaiting the task. 50 waits in flight, on uvloop and on
asyncio's own loop; median of --repeat runs.

    python bench/waits.py [--waits 20000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)

from bot.receiver import _Deadlines


async def _work() -> int:
    await asyncio.sleep(0)  # handled on another turn of the loop, as the writer's answer is
    return 1


async def bare() -> int:
    return await asyncio.create_task(_work())


async def timeout_and_shield() -> int:
    task = asyncio.create_task(_work())
    async with asyncio.timeout(4.5):
        return await asyncio.shield(task)


def shared_timer():
    deadlines = _Deadlines()

    async def wait() -> int:
        task = asyncio.create_task(_work())
        await deadlines.wait(task, 4.5)
        return task.result()
    return wait


async def _drive(fn, n: int, concurrency: int = 50) -> float:
    async def client(k: int):
        for _ in range(k):
            await fn()
    t0 = time.process_time()
    await asyncio.gather(*(client(n // concurrency) for _ in range(concurrency)))
    return (time.process_time() - t0) / n * 1e6


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--waits", type=int, default=20000)
    p.add_argument("--repeat", type=int, default=5)
    args = p.parse_args()
    loops = [("asyncio", asyncio.new_event_loop)]
    try:
        import uvloop
        loops.insert(0, ("uvloop", uvloop.new_event_loop))
    except ImportError:
        pass
    for name, new_loop in loops:
        runs: dict[str, list[float]] = {"bare task": [], "timeout + shield": [], "one shared timer": []}
        for _ in range(args.repeat):
            loop = new_loop()
            try:
                for label, fn in (("bare task", bare), ("timeout + shield", timeout_and_shield),
                                  ("one shared timer", shared_timer())):
                    runs[label].append(loop.run_until_complete(_drive(fn, args.waits)))
            finally:
                loop.close()
        med = {k: statistics.median(v) for k, v in runs.items()}
        print(f"{name:8} CPU per wait (median of {args.repeat}): bare task {med['bare task']:.2f} us; "
              f"timeout + shield {med['timeout + shield']:.2f} us (+{med['timeout + shield'] - med['bare task']:.2f}); "
              f"one shared timer {med['one shared timer']:.2f} us (+{med['one shared timer'] - med['bare task']:.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
