#!/usr/bin/env python3
"""Which compiled regular expressions the writer's handling calls, and how often a message: bench/pipeline.py's
service run (the webhook handler, the receiver, the writer's batches) with a profile hook on the writer thread
that counts each call of a pattern's method (search, match, fullmatch, sub …) by the pattern's first characters.

    python bench/pattern_calls.py [--mix short] [--messages 5000] [--openids 1000] [--top 40]
    PYTHONPATH=<old checkout> python bench/pattern_calls.py ...   # the old tree's, to diff

Counts, not times: the same on a loaded machine as on a quiet one. A pattern whose calls a message did not change
between two trees costs more only if the pattern itself did (time it alone, on the texts it is called on).
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import re
import shutil
import sys
import tempfile
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import pipeline
import webhook as wh

from bot.app import DB, WEBHOOK, create_app
from bot.config import load_config
from tests.conftest import running

COUNT: collections.Counter = collections.Counter()


def _hook(_frame, event, arg) -> None:
    if event == "c_call" and type(getattr(arg, "__self__", None)) is re.Pattern:
        COUNT[(arg.__self__.pattern[:70], arg.__name__)] += 1


async def _run(reqs, warm: int) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="tingjian-patterns-"))
    try:
        app = create_app(load_config(wh.write_config(tmp, 18099), env={}))
        async with running(app):
            post, writer = app[WEBHOOK].post, app[DB]
            await pipeline.drive(post, reqs[:warm], 50)
            await writer.run(lambda _db: sys.setprofile(_hook))
            await pipeline.drive(post, reqs[warm:], 50)
            await writer.run(lambda _db: sys.setprofile(None))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mix", choices=sorted(wh.MIXES), default="short")
    p.add_argument("--messages", type=int, default=5000)
    p.add_argument("--openids", type=int, default=1000)
    p.add_argument("--top", type=int, default=40)
    args = p.parse_args()
    warm = min(500, args.messages // 5)
    reqs = pipeline.requests(args.messages, args.mix, seed=1, openids=args.openids)
    try:
        import uvloop
        loop = uvloop.new_event_loop()
    except ImportError:
        loop = asyncio.new_event_loop()
    loop.run_until_complete(_run(reqs, warm))
    n = args.messages - warm
    print(f"pattern calls on the writer a message ({args.mix} mix, {n} messages, {args.openids} senders): "
          f"{sum(COUNT.values()) / n:.3f} in all, {len(COUNT)} patterns")
    for (pattern, how), count in COUNT.most_common(args.top):
        print(f"{count / n:7.3f}  {how:9s} {pattern!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
