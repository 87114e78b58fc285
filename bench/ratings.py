"""How many real citizens' messages would be taken as a rating of a resolved ticket, old rule against new.

Ratings feed the units' 满意率, so a new message taken for a rating both falsifies the rate and loses the message.
The old rule (before issue 8.3) took any message starting with 1, 2 or 3; the new one (handlers/followup.parse)
takes a bare digit alone or with a separator and a comment, and asks when in doubt.

    .venv/bin/python bench/ratings.py [../shared/data/route_dev.csv]

Prints, for the messages of the file and for the same messages with a digit put in front ("3年级…", "1班…",
"2026年…" are how the attack test found the bug), how many each rule takes as a rating, asks about, or leaves.
"""
from __future__ import annotations

import csv
import re
import sys
import unicodedata
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)

from handlers.followup import parse

OLD = re.compile(r"^(?:评价\s*(JY\d{4}-\d{4,})\s*)?([123])\s*[、,，.。:：\s]*(.*)$", re.S | re.I)
PREFIXES = ("3年级", "1班", "2026年", "2个孩子", "1、", "3.5小时", "3 ", "2，", "3还")


def old_rule(text: str) -> str:
    return "rating" if OLD.match(unicodedata.normalize("NFKC", text).strip()) else "message"


def new_rule(text: str) -> str:
    r = parse(text)
    return "message" if r is None else "rating" if r.sure else "asked"


def main(path: str) -> None:
    with open(path, encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    sets = {"as written": texts}
    for p in PREFIXES:
        sets[f"prefixed {p!r}"] = [p + t for t in texts]
    print(f"{len(texts)} messages from {path}")
    print(f"{'set':<22}{'old: rating':>12}{'new: rating':>12}{'new: asked':>12}")
    for name, items in sets.items():
        old = sum(old_rule(t) == "rating" for t in items)
        new = [new_rule(t) for t in items]
        print(f"{name:<22}{old:>12}{new.count('rating'):>12}{new.count('asked'):>12}")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else str(Path(__file__).resolve().parents[2] / "shared/data/route_dev.csv"))
