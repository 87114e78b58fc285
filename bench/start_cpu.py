#!/usr/bin/env python3
"""CPU seconds a fresh `tingjian serve` spends before /healthz answers, with jieba's dictionary cache there (warm)
and missing (cold: evicted, as it was by other checkouts when the cache was keyed by path; storage/wordfreq.py).

    python bench/start_cpu.py [--rounds 3]

CPU time, not wall time: on a loaded machine the wall time is the scheduler's (a start of ~2 s of CPU is a minute
at load 40 on two cores). Prints each round, warm and cold alternated, and the cold/warm ratio of the medians.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
from tests.test_process import cpu_seconds, free_port, write_config

ROOT = Path(__file__).resolve().parents[1]


async def start(cache: str | None) -> float:
    """One start on a new database; `cache`: XDG_CACHE_HOME for it (None: the user's own)."""
    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        config = write_config(Path(tmp), port, free_port())
        env = {**os.environ, "TINGJIAN_SERVER_LOG_LEVEL": "WARNING"}
        env.pop("CACHE_DIRECTORY", None)
        if cache is not None:
            env["XDG_CACHE_HOME"] = cache
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--config", str(config)], cwd=ROOT,
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            async with aiohttp.ClientSession() as session:
                while True:
                    try:
                        async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                            if resp.status == 200:
                                return cpu_seconds(proc.pid)
                    except aiohttp.ClientError:
                        if proc.poll() is not None:
                            raise SystemExit("the server exited")
                    await asyncio.sleep(0.02)
        finally:
            proc.terminate()
            proc.wait(30)


async def main(rounds: int) -> None:
    warm, cold = [], []
    await start(None)  # the user's cache written, if it was not there
    for i in range(rounds):
        warm.append(await start(None))
        with tempfile.TemporaryDirectory() as empty:
            cold.append(await start(empty))
        print(f"round {i + 1}: warm {warm[-1]:.2f} s CPU, cold {cold[-1]:.2f} s CPU", flush=True)
    w, c = statistics.median(warm), statistics.median(cold)
    print(f"median warm {w:.2f} s, cold {c:.2f} s: cold/warm {c / w:.2f}x")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rounds", type=int, default=3)
    asyncio.run(main(parser.parse_args().rounds))
