#!/usr/bin/env python3
"""A routing's parts in thread CPU, warm (one text after another, as a loop sees them) and cold (the CPU's caches
filled with other memory before each part, as the writer thread meets them between SQLite, JSON and the event
loop): how much of a routing's cost in the writer is its memory, not its Python steps.

    python bench/route_cold.py [--texts 2500]
    PYTHONPATH=<old checkout> python <old checkout>/bench/route_cold.py   # (or this file, run from there)

Texts: bench/webhook.py's routing mix, each never seen before (the cut's blocks and the rule matches not
remembered). "Cold": 8 MB written and 60,000 Python objects read before each part (more than the L2 cache and
most of a shared L3). The parts are Router's own steps in the order _core and route() take them.
"""
from __future__ import annotations

import argparse
import collections
import random
import sys
import time

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import webhook as wh

from handlers.routing import Router
from handlers.routing.router import _base_dictionary

SCHOOLS = [(f"S{i:04d}", f"第{i}实验小学", [f"{i}小"]) for i in range(1, 301)]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--texts", type=int, default=2500)
    args = ap.parse_args()
    _base_dictionary()
    r = Router.from_toml(schools=SCHOOLS)
    rng = random.Random(5)
    mix = list(dict.fromkeys(wh.routing_text(rng) for _ in range(2 * args.texts + 600)))
    for t in mix[:300]:
        r.route(t)
    mix = mix[300:]
    junk = bytearray(8 << 20)
    objs = [{f"k{i}": [i, str(i)] for i in range(200)} for _ in range(300)]

    def evict() -> None:
        junk[::64] = b"\x01" * len(junk[::64])
        s = 0
        for d in objs:
            for v in d.values():
                s += v[0]

    clock = time.thread_time_ns

    def parts(text: str, cold: bool) -> dict[str, int]:
        out: dict[str, int] = {}

        def step(name, f):
            if cold:
                evict()
            c = clock()
            x = f()
            out[name] = clock() - c
            return x
        norm = step("normalise", lambda: r._normalise(text))
        _school, t = r._scan_schools(norm.text)
        step("literals", lambda: r._literals.scan(t))
        step("cut", lambda: r._cut.cut(t))
        step("rule matches", lambda: r._matches(t))
        s = step("scores", lambda: r._score(t))
        step("demand", lambda: r._demand(t, s[0], s[1]))
        kb = step("model features", lambda: r._known_in(t))
        step("model sums", lambda: r.model.predict_known(*kb[0]))
        step("urgency", lambda: r.urgency(t, (), kb[1]))
        return out

    for cold, texts in ((False, mix[:args.texts]), (True, mix[args.texts:2 * args.texts])):
        acc: collections.Counter = collections.Counter()
        for x in texts:
            acc.update(parts(x, cold))
        n = len(texts)
        print(f"{'cold' if cold else 'warm'}: " + "  ".join(f"{k} {v / n / 1000:.0f}" for k, v in acc.items())
              + f"  | all {sum(acc.values()) / n / 1000:.0f} us CPU a text ({n} texts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
