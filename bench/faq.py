"""Instant-answer matching cost per new message, as a ratio to routing the same message (both run on the hot
path of a new inquiry), with the shipped 15 common questions and with the list repeated to 300.

    python bench/faq.py [--rounds N]
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import sys
import time
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)

from bench.route import MESSAGES
from handlers.faq import FaqBook, load_faq
from handlers.routing import Router

FAQ = Path(__file__).resolve().parents[1] / "bot" / "demo" / "faq.toml"
QUESTIONS = ["今年小升初划片范围什么时候公布", "入学需要准备哪些材料", "转学需要什么手续", "中考成绩怎么查"]


def per_message(fn, texts: list[str], rounds: int) -> float:
    start = time.perf_counter()
    for _ in range(rounds):
        for t in texts:
            fn(t)
    return (time.perf_counter() - start) / (rounds * len(texts))


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=200)
    args = ap.parse_args()
    router = Router.from_toml()
    entries = load_faq(FAQ)
    many = [dataclasses.replace(e, id=f"{e.id}-{i}") for i in range(20) for e in entries]
    today = dt.date(2026, 11, 28)
    texts = MESSAGES + QUESTIONS
    route = per_message(router.route, texts, args.rounds)
    print(f"routing: {route * 1e3:.3f} ms per message (reference)")
    for label, book in (("15 questions", FaqBook(entries, router.tokenizer)),
                        ("300 questions", FaqBook(many, router.tokenizer))):
        cost = per_message(lambda t: book.match(t, today), texts, args.rounds)
        print(f"faq match, {label}: {cost * 1e3:.3f} ms per message = {cost / route:.2f} x routing")
    return 0


if __name__ == "__main__":
    sys.exit(main())
