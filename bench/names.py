"""How long fuzzy school-name matching (handlers/names.py) takes over a city-sized directory.

    .venv/bin/python bench/names.py [N]

Builds N synthetic school names (district + two-character name + kind), then times `match` for typical queries,
cold (first query: pinyin of every name computed) and warm (cached), and prints ms per query; then the same for
names written in English or pinyin, as a ratio to the Chinese queries.
"""
from __future__ import annotations

import random
import sys
import time

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)

from handlers import names

CHARS = "和平育英实验文昌滨河星光向阳明珠育才光明东风红旗朝阳建设人民解放胜利前进新华民主团结长江黄河春晓"
KINDS = ("小学", "初级中学", "中学", "幼儿园", "实验学校")
DISTRICTS = ("江南区", "江北区", "城东区", "城西区", "高新区", "滨海新区")


def main(n: int) -> None:
    rng = random.Random(7)
    directory = [(f"s{i}", rng.choice(DISTRICTS) + rng.choice(CHARS) + rng.choice(CHARS) + rng.choice(KINDS))
                 for i in range(n)]
    queries = ["和平中学", "和平初中", "河平小学", "江南小学", "育才", "市一中", "光明幼儿园", "火星第一小学"]
    t0 = time.perf_counter()
    names.match(queries[0], directory)
    cold = (time.perf_counter() - t0) * 1000
    t0 = time.perf_counter()
    rounds = 5
    for _ in range(rounds):
        for q in queries:
            names.match(q, directory)
    warm = (time.perf_counter() - t0) * 1000 / (rounds * len(queries))
    print(f"{n} names: first query {cold:.0f} ms (pinyin of every name), then {warm:.1f} ms per query")
    # Names written in English or pinyin (only queries without Chinese take this path: names._match_latin).
    latin = ["Jiangnan experimental primary school", "No. 3 Middle School", "Heping junior high school",
             "Xingguang Kindergarten", "guangming xiaoxue", "My son goes to Yucai middle school"]
    t0 = time.perf_counter()
    for _ in range(rounds):
        for q in latin:
            names.match(q, directory)
    english = (time.perf_counter() - t0) * 1000 / (rounds * len(latin))
    print(f"English or pinyin names: {english:.1f} ms per query ({english / warm:.2f}x a Chinese query)")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 2000)
