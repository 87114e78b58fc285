"""What counts as a number typed by a person: ASCII or full-width digits only, of bounded length. str.isdigit is
true for ፩ or 𐩀, which int() refuses, and int() of a 4,300-digit string raises; neither may reach int()."""
from __future__ import annotations

import functools
import re

from handlers.messages import nfkc

MAX_DIGITS = 6


def ascii_int(text: str, digits: int = MAX_DIGITS) -> int | None:
    """The number `text` is, or None (also for anything longer than `digits` digits)."""
    t = nfkc(text).strip()   # ０-９ become 0-9; other scripts' digits stay as they are
    return int(t) if _digits(digits).fullmatch(t) else None


@functools.lru_cache(maxsize=8)  # a few lengths in all (2, 3, 6): compiled once each, not looked up per call
def _digits(n: int) -> re.Pattern:
    return re.compile(r"[0-9]{1,%d}" % n)
