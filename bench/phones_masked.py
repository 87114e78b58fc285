"""audit23: privacy.numbers_masked reads phones in spoken digits too (audit27: and ID numbers, PERSONAL_NUMBER), on every text shown to staff
(for_staff: each staff push, 详情, the workbench's lists). Times, in one run and alternated, the new masking against
the old rule (PHONE_IN_TEXT, ASCII digits only) on citizens' texts of the usual kinds: ratio new / old.

    python bench/phones_masked.py [--calls 20000] [--pairs 3]
"""
from __future__ import annotations

import argparse
import re
import time

import common  # noqa: F401  (this checkout on sys.path)

from handlers import privacy

OLD = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
TEXTS = {
    "short, no number": "学校收资料费不给收据",
    "a sum and a class": "三年级二班开学收了一百五十元资料费，不给收据，家长都很有意见，请教育局管一管",
    "an ASCII phone": "学校收资料费300元不给收据，班主任王老师的电话13912345678，说不交就不让上课",
    "a spoken phone": "学校收资料费三百元不给收据，班主任电话一三八一二三四五六七八，说不交就不让上课",
    "long, dates, no phone": "二〇二六年九月一日开学以来，" * 20 + "学校每周六都要求补课，每次收费一百二十元",
}


def old_masked(text: str) -> str:
    return OLD.sub(lambda m: privacy.mask_phone(m.group(0)), text)


def per_call(f, text: str, calls: int) -> float:
    c = time.process_time()
    for _ in range(calls):
        f(text)
    return (time.process_time() - c) / calls * 1e6


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--calls", type=int, default=20000)
    ap.add_argument("--pairs", type=int, default=3)
    a = ap.parse_args()
    for label, text in TEXTS.items():
        olds, news = [], []
        for i in range(a.pairs):  # alternated, the order swapped each pair
            for f, out in ((old_masked, olds), (privacy.numbers_masked, news))[::1 if i % 2 == 0 else -1]:
                out.append(per_call(f, text, a.calls))
        old, new = min(olds), min(news)
        print(f"{label:24} len {len(text):4} | old {old:6.2f} µs | new {new:6.2f} µs | ratio {new / old:.2f}")


if __name__ == "__main__":
    main()
