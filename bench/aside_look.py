#!/usr/bin/env python3
"""CPU of the prefilter every reply in a conversation meets (`intake.may_be_aside`), as a ratio to the hand-written
one it replaced (kept verbatim in tests/test_asides_table.py), measured in the same run, A/B alternated.

    python bench/aside_look.py [--rounds 7] [--texts 20000]

Two figures: a look not remembered (the function itself, on texts of every length: what a new reply costs) and a
look remembered (the `short_texts` memo both sit behind, on 800 short replies seen again: what a recurring 1, 好的 or
在吗 costs). The texts are the project's own messages and the dialogue tests' words (tests/test_asides_table.corpus),
normalised as `Intake.step` does.
"""
from __future__ import annotations

import argparse
import random
import time

import common  # noqa: F401  (this checkout on sys.path)

from handlers import intake
from handlers.textmemo import SHORT_TEXT, short_texts
from tests import test_asides_table as asides
from tests.test_asides_table import ADDED, corpus, old_may_be_aside


def cpu(fn, texts) -> float:
    start = time.process_time()
    for t in texts:
        fn(t)
    return time.process_time() - start


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--texts", type=int, default=20000)
    args = ap.parse_args()
    rng = random.Random(5)
    pool = [intake.normalise(t) for t in corpus()]
    rng.shuffle(pool)
    texts = [rng.choice(pool) for _ in range(args.texts)]
    funcs = {"old": old_may_be_aside, "new": intake.may_be_aside.__wrapped__}  # the functions, memo apart
    # the same answers, but for the rows added or replaced since (tests/test_asides_table.ADDED and REPLACED: 🙏🙏,
    # 你问这干嘛, 电话会给学校吗; the phone-word look replaced by people15 let through every text naming a phone)
    since = [a.look for a in intake.ASIDES if a.answer in ADDED or a.answer in getattr(asides, "REPLACED", {})]
    assert all(funcs["old"](t) == funcs["new"](t) or intake.EMOJI_ONLY.fullmatch(t) or any(look(t) for look in since)
               or intake._PHONE_WORD.search(t) for t in set(texts))
    memo = {name: short_texts(fn) for name, fn in funcs.items()}
    short = sorted({t for t in pool if len(t) <= SHORT_TEXT})
    short = [rng.choice(short[:800]) for _ in range(args.texts)]  # fits the memo (MEMO_SIZE)
    cold: dict[str, list[float]] = {"old": [], "new": []}
    warm: dict[str, list[float]] = {"old": [], "new": []}
    for r in range(args.rounds):
        for name in (("old", "new") if r % 2 == 0 else ("new", "old")):  # alternated, so drift hits both
            cold[name].append(cpu(funcs[name], texts))
            memo[name].cache_clear()
            cpu(memo[name], short)
            warm[name].append(cpu(memo[name], short))
    n = len(texts)
    print(f"{n} texts ({len(set(texts))} different, {sum(map(funcs['new'], texts)) / n:.0%} may be an aside), "
          f"best of {args.rounds} rounds, CPU a look:")
    for label, runs in (("not remembered", cold), ("remembered", warm)):
        old, new = min(runs["old"]) / n * 1e6, min(runs["new"]) / n * 1e6
        print(f"  {label:15s} old {old:6.2f} µs   new {new:6.2f} µs   new/old {new / old:.3f}")


if __name__ == "__main__":
    main()
