"""Pure checks of a message's text remembered for short texts (issue 10: the writer's handling per message).

Replies within a conversation are short and recur (1, 好的, 在吗, 不知道), and each is checked several times a
message; a long story is checked a few times at most and would keep a large string alive. So only texts of at
most SHORT_TEXT characters are remembered, MEMO_SIZE of them per check (resident: well under 0.5 MB each)."""
from __future__ import annotations

import functools
import re
from typing import Callable, TypeVar

SHORT_TEXT = 32
MEMO_SIZE = 1024

F = TypeVar("F", bound=Callable)


def short_texts(fn: F) -> F:
    """fn(text, *args), remembered when `text` is short; fn must be a pure function of its arguments."""
    cached = functools.lru_cache(maxsize=MEMO_SIZE)(fn)

    if fn.__code__.co_argcount == 1 and not fn.__code__.co_flags & 0x04:  # fn(text): no *args to pack and unpack
        @functools.wraps(fn)  # (most checks; each message asks ~20 of them, most asked again from memory)
        def call(text):
            return cached(text) if len(text) <= SHORT_TEXT else fn(text)
    else:
        @functools.wraps(fn)
        def call(text, *args):
            return cached(text, *args) if len(text) <= SHORT_TEXT else fn(text, *args)
    call.cache_clear = cached.cache_clear  # type: ignore[attr-defined]
    call.cache_info = cached.cache_info  # type: ignore[attr-defined]
    return call  # type: ignore[return-value]


def run_at_end(chars: str) -> re.Pattern:
    """`[chars]+$` (for re.sub: a run of these characters at the end), tried only where a run begins. The plain
    pattern is tried at every character of a run and reads the run to its end from each: a long text's run that is
    not at its end costs its length squared on the writer thread (4,000 ~ of a reply, ~30 ms). The same matches: a
    run's first character is the leftmost place any of it matches."""
    return re.compile(f"(?<![{chars}])[{chars}]+$")
