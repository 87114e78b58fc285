#!/usr/bin/env python3
"""What reading a message's text costs on the writer, before and after: messages.nfkc against
unicodedata.normalize("NFKC", ·), intake.han_count against the substitution it replaced, and the checks that use
them (uncached), on bench/webhook.py's mixes, in the same run (thread CPU a call, the best of --repeat passes).

    python bench/reading.py [--texts 3000] [--repeat 5]
"""
from __future__ import annotations

import argparse
import random
import re
import time
import unicodedata

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import webhook as wh

from handlers import commands, intake
from handlers.messages import nfkc

_HAN_CHAR = re.compile("[\u4e00-\u9fff]")  # han_count before (main 1564960)


def old_han_count(text: str) -> int:
    return len(text) - len(_HAN_CHAR.sub("", text))


def per_call(fn, texts: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        c = time.thread_time_ns()
        for t in texts:
            fn(t)
        best = min(best, (time.thread_time_ns() - c) / len(texts) / 1000)
    return best


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--texts", type=int, default=3000)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    rng = random.Random(1)
    mixes = {"routing": [wh.routing_text(rng) for _ in range(args.texts)],
             "short": [rng.choice(wh.TEXTS) for _ in range(args.texts)]}
    uncached = lambda f: getattr(f, "__wrapped__", f)  # noqa: E731
    pairs = [("NFKC", lambda t: unicodedata.normalize("NFKC", t), nfkc),
             ("han_count", old_han_count, uncached(intake.han_count))]
    for mix, texts in mixes.items():
        assert all(nfkc(t) == unicodedata.normalize("NFKC", t) for t in texts)
        assert all(old_han_count(t) == uncached(intake.han_count)(t) for t in texts)
        for name, old, new in pairs:
            a, b = per_call(old, texts, args.repeat), per_call(new, texts, args.repeat)
            print(f"{mix:8s} {name:10s} before {a:6.2f} µs, now {b:6.2f} µs a call  (now / before {b / a:.2f})")
        for name, fn in [("intake.normalise", uncached(intake.normalise)),
                         ("commands._read_head", uncached(commands._read_head)),
                         ("commands.asks_withdraw_latest", uncached(commands.asks_withdraw_latest))]:
            print(f"{mix:8s} {name:30s} {per_call(fn, texts, args.repeat):6.2f} µs a call (this checkout)")


if __name__ == "__main__":
    main()
