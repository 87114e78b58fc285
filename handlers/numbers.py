"""What counts as a number typed by a person: ASCII or full-width digits only, of bounded length. str.isdigit is
true for ፩ or 𐩀, which int() refuses, and int() of a 4,300-digit string raises; neither may reach int()."""
from __future__ import annotations

import functools
import re

from handlers.messages import nfkc

MAX_DIGITS = 6
# A digit as people write one in a number they read out or say to voice input (一三八…, 幺三八…, 〇五七一…), or type
# full-width; the one vocabulary for reading a phone number (intake.phone_digits) and masking one (privacy).
SPOKEN = "零〇一幺二两三四五六七八九"
DIGIT_CHARS = "0-9０-９" + SPOKEN  # (a regex class's contents)
_AS_DIGIT = str.maketrans(SPOKEN + "０１２３４５６７８９", "0011223456789" + "0123456789")


def as_digits(text: str) -> str:
    """`text` with each spoken or full-width digit as its ASCII digit (一三八 -> 138); other characters kept."""
    return text.translate(_AS_DIGIT)


def ascii_int(text: str, digits: int = MAX_DIGITS) -> int | None:
    """The number `text` is, or None (also for anything longer than `digits` digits)."""
    t = nfkc(text).strip()   # ０-９ become 0-9; other scripts' digits stay as they are
    return int(t) if _digits(digits).fullmatch(t) else None


@functools.lru_cache(maxsize=8)  # a few lengths in all (2, 3, 6): compiled once each, not looked up per call
def _digits(n: int) -> re.Pattern:
    return re.compile(r"[0-9]{1,%d}" % n)
