"""The writer's text patterns made linear (dash20) give the same answers as before: each old pattern (kept here, as
it was on main 56cb35a) and the project's new one on random texts built from the words they look for, separators,
runs of spaces, newlines, digits and punctuation (some hundreds long), Chinese, English and emoji; then the time of
each on a long run, old and new, in the same run.

    python bench/regex_same.py [--texts 60000] [--seed 1] [--length 4000]
"""
from __future__ import annotations

import argparse
import random
import re
import sys
import time

import common  # noqa: F401  (this checkout on sys.path)

from handlers import followup, intake, names, survey

EMOJI = intake.EMOJI
OLD = {
    "GIVE_UP": re.compile(r"(?:算了|还是算了)?[，,\s]*(?:不|不想|不要|不敢|先不)(?:反映|投诉|举报|提交|留言|说)了|"
                          r"算了[，,\s]*(?:算了)?[，,\s]*(?:我|我们)?(?:还是)?(?:先|自己)(?:去)?(?:问问|问一下|找|联系|跟)"
                          r"(?:学校|老师|班主任)"),
    "EMOJI_ONLY": re.compile(rf"(?:{EMOJI}|[\s!！。.~～，,?？\ufe0f\u200d])*{EMOJI}(?:{EMOJI}|[\s!！。.~～，,?？\ufe0f\u200d])*"),
    "OPTION_POINTING": re.compile(r"^(?:(?:哦|噢|啊|嗯|对|对的|是的?|就是|应该是)[\s,，。!！]*)+|的?(?:那个|那所|这个|这所|那家|那里)?"
                                  r"(?:学校)?[吧啊呀]?(?:[\s,，。]*我?(?:记|搞|说|写|弄|打)错了[吧啊呀]?)?$"),
    "intake._PARTICLES": re.compile(r"[吧啊呀嘛哈的了呗哦噢~～!！。.]+$"),
    "survey._PARTICLES": re.compile(r"[吧啊呀的了哦呢嘛吗]+$"),
    "followup._TRAILING": re.compile(r"(?:[吧啊呀的了哦呢嘛啦哈嗯~～!！。.]+)$"),
    "names._BESIDE_PLACE": re.compile(r"^(?:[\s,，。.、]|的|那个|那所|这个|这所|那家|这家|那边的?|这边的?)+|"
                                      r"(?:[\s,，。.、!！~～]|的|那个|那所|那边|这边|吧|呢|啊)+$"),
}
# (old answer, new answer) of a text: a look's truth, a substitution's text
PAIRS = {
    "GIVE_UP": (lambda t: bool(OLD["GIVE_UP"].search(t)), lambda t: bool(intake.GIVE_UP.search(t))),
    "EMOJI_ONLY": (lambda t: bool(OLD["EMOJI_ONLY"].fullmatch(t)), lambda t: bool(intake.EMOJI_ONLY.fullmatch(t))),
    "OPTION_POINTING": (lambda t: OLD["OPTION_POINTING"].sub("", t), lambda t: intake.OPTION_POINTING.sub("", t)),
    "intake._PARTICLES": (lambda t: OLD["intake._PARTICLES"].sub("", t), lambda t: intake._PARTICLES.sub("", t)),
    "survey._PARTICLES": (lambda t: OLD["survey._PARTICLES"].sub("", t), lambda t: survey._PARTICLES.sub("", t)),
    "followup._TRAILING": (lambda t: OLD["followup._TRAILING"].sub("", t), followup._bare),
    "names._BESIDE_PLACE": (lambda t: OLD["names._BESIDE_PLACE"].sub("", t), names._beside_place),
}
WORDS = ("算了", "还是算了", "不", "不想", "不要", "不敢", "先不", "反映", "投诉", "举报", "提交", "留言", "说", "了", "我",
         "我们", "还是", "先", "自己", "去", "问问", "问一下", "找", "联系", "跟", "学校", "老师", "班主任", "哦", "噢", "啊",
         "嗯", "对", "对的", "是", "是的", "就是", "应该是", "的", "那个", "那所", "这个", "这所", "那家", "那里", "这家",
         "那边", "这边", "吧", "呀", "记", "搞", "写", "弄", "打", "错了", "嘛", "哈", "呗", "呢", "吗", "啦", "~", "～",
         "!", "！", "。", ".", "、", "?", "？", "，", ",", " ", "  ", "\n", "\t", "\u3000", "\ufe0f", "\u200d", "😀",
         "🙏", "☺", "👍", "9", "12", "x", "no", "江南", "实验小学", "一", "中")
# GIVE_UP's own words, with separators (found in few of the texts of every word)
OWN = {"GIVE_UP": ("算了", "还是算了", "不", "不想", "不要", "不敢", "先不", "反映", "投诉", "举报", "提交", "留言", "说", "了",
                   "我", "我们", "还是", "先", "自己", "去", "问问", "问一下", "找", "联系", "跟", "学校", "老师", "班主任",
                   "，", ",", " ", "\n", "x", "不反映了", "不想投诉了", "先不提交了", "不说了", "还是先问问学校", "自己去找老师",
                   "我们先联系班主任", "自己跟老师", "先问一下")}
RUNS = (" ", "\n", "，", ",", "。", ".", "~", "!", "的", "吧", "啊", "9", "😀", "那个", "算了", " ,")


def text(rng: random.Random, words=WORDS) -> str:
    parts = []
    for _ in range(rng.choice((1, 2, 3, 5, 8, 12))):
        if rng.random() < 0.15:  # a run, some of them long
            parts.append(rng.choice(RUNS) * rng.choice((2, 3, 7, 30, 200)))
        else:
            parts.append(rng.choice(words))
    return "".join(parts)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--texts", type=int, default=60_000)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--length", type=int, default=4000)
    a = p.parse_args()
    rng = random.Random(a.seed)
    texts = [text(rng) for _ in range(a.texts)]
    bad = 0
    for name, (old, new) in PAIRS.items():
        sample = [text(rng, OWN[name]) if i % 2 else t for i, t in enumerate(texts)] if name in OWN else texts
        answers = [(t, old(t), new(t)) for t in sample]
        differ = [t for t, o, n in answers if o != n]
        hit = sum(1 for t, o, _ in answers if (o is True) or (isinstance(o, str) and o != t))
        bad += len(differ)
        shown = f"; first: {differ[0]!r}" if differ else ""
        print(f"{name:22} {len(sample):,} texts ({sum(len(t) for t in sample) // len(sample)} characters on average), "
              f"{hit:,} found or changed, {len(differ)} differ{shown}", flush=True)
    n = a.length
    long = {"GIVE_UP": "算了" + "\n" * n + "吧", "EMOJI_ONLY": "😀" * n + "x", "OPTION_POINTING": "x" + " " * n + "y",
            "intake._PARTICLES": "~" * n + "x", "survey._PARTICLES": "吧" * n + "x", "followup._TRAILING": "." * n + "x",
            "names._BESIDE_PLACE": "你好" + "的" * n + "x"}
    print(f"one long text ({n:,} characters of a run): CPU ms, old -> new")
    for name, (old, new) in PAIRS.items():
        took = []
        for f in (old, new):
            c = time.process_time()
            f(long[name])
            took.append((time.process_time() - c) * 1000)
        print(f"  {name:22} {took[0]:9.2f} -> {took[1]:7.2f}  ({long[name][:4]!r}…)")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
