"""Patterns and readers written so that re skips to where a match can begin, read the same as their plain forms
(issue 10, branch hot23): a phone number in a text (privacy.PHONE_IN_TEXT, its look-behind after each branch's first
digit), the family words (intake._FAMILY, no branch beginning with a group), and a ticket number's hyphen
(messages.read_numbers, a function instead of a template). And the reply's random prefix: drawn from a pool, never
the same twice, never a parent's in a forked worker."""
from __future__ import annotations

import os
import random
import re

from bot.channels.wechat import crypto
from handlers import intake, privacy
from handlers.messages import INVISIBLE, _NUMBER_SPAN, read_numbers

PLAIN_PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
PLAIN_FAMILY = intake._FAMILY.replace("他爸爸?|她爸爸?", "(?:他|她)爸爸?")


def _texts(alphabet: str, n: int, longest: int, seed: int) -> list[str]:
    rng = random.Random(seed)
    return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, longest))) for _ in range(n)]


def _spans(pattern: re.Pattern, text: str) -> list[tuple]:
    return [m.span(0) + m.span(1) for m in pattern.finditer(text)]


def test_the_phone_pattern_finds_what_the_plain_one_finds():
    # digits (ASCII, full-width, Arabic-Indic), hyphens and words; numbers of the right lengths put in, glued to
    # more digits or not
    texts = _texts("0123456789" * 4 + "１３٣-- 电话是我", 20000, 32, 1)
    rng = random.Random(2)
    for _ in range(20000):
        number = rng.choice(["1", "0"]) + "".join(rng.choice("0123456789-") for _ in range(rng.randint(6, 13)))
        texts.append(rng.choice(["", "5", "电话", "x"]) + number + rng.choice(["", "7", "。", "-1"]))
    found = 0
    for t in texts:
        assert _spans(privacy.PHONE_IN_TEXT, t) == _spans(PLAIN_PHONE, t), t
        a, b = privacy.PHONE_IN_TEXT.fullmatch(t), PLAIN_PHONE.fullmatch(t)
        assert (a and a.span()) == (b and b.span()), t
        found += PLAIN_PHONE.search(t) is not None
    assert found > 2000  # the numbers were there to be found


def test_the_family_words_are_found_where_the_plain_alternation_finds_them():
    family = re.compile(intake._FAMILY + "的")
    plain = re.compile(PLAIN_FAMILY + "的")
    assert intake._FAMILY != PLAIN_FAMILY  # (the rewritten branch is there to compare)
    chars = "".join(sorted(set(re.findall(r"[\u4e00-\u9fff]", intake._FAMILY)))) + "的的我们家 1"
    rng = random.Random(6)  # and pieces of the rewritten branch's neighbours put together (她爸爸的, 孩子他妈的 …)
    pieces = ["他", "她", "爸", "爸爸", "妈", "孩子", "孩", "的", "我", "家"]
    glued = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 6))) for _ in range(20000)]
    for t in _texts(chars, 20000, 14, 3) + glued + ["用的是孩子他爸的手机", "她爸的", "他爸爸的号", "她爸爸的"]:
        a, b = family.search(t), plain.search(t)
        assert (a and a.span()) == (b and b.span()), t


def _plain_read_numbers(text: str) -> str:
    return _NUMBER_SPAN.sub(r"\1\2-\3", INVISIBLE.sub("", text))


def test_ticket_numbers_are_hyphened_as_the_template_did():
    texts = _texts("JjＪｊYyＹｙ0123456789０９ -—\u2010\u2212\ufe58－\u200b查询评价", 20000, 24, 4)
    texts += ["查询 JY2611—0001", "评价 jy2611 0001 1", "JY2611\u200b-\u200b0001", "ＪＹ２６１１－０００１"]
    rng = random.Random(5)
    for _ in range(3000):  # numbers as people paste them: any dash or space between, letters of either width
        digits = lambda n: "".join(rng.choice("0123456789０９") for _ in range(n))  # noqa: E731
        texts.append(rng.choice(["", "查询 ", "评价"]) + rng.choice("JjＪｊ") + rng.choice("YyＹｙ") + digits(4)
                     + rng.choice([" ", "-", " — ", "\u2212", "－", "\u200b-", "  "]) + digits(rng.randint(1, 5))
                     + rng.choice(["", " 1", "JY"]))
    changed = 0
    for t in texts:
        assert read_numbers(t) == _plain_read_numbers(t), t
        changed += read_numbers(t) != INVISIBLE.sub("", t)
    assert changed > 2000  # numbers were rewritten, not only passed through
    assert read_numbers("查询 JY2611—0001") == "查询 JY2611-0001"


def test_the_reply_prefix_is_sixteen_hex_characters_never_repeated():
    drawn = [crypto._random_prefix() for _ in range(3000)]  # (more than one read of the pool)
    assert len(set(drawn)) == len(drawn)
    assert all(len(p) == 16 and re.fullmatch(rb"[0-9a-f]{16}", p) for p in drawn)


def test_a_forked_worker_draws_none_of_its_parents_prefixes():
    crypto._random_prefix()  # the pool filled in the parent
    left = list(crypto._PREFIXES)
    assert left
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: what it draws next, to the parent
        try:
            os.write(write, crypto._random_prefix())
        finally:
            os._exit(0)
    os.close(write)
    child = os.read(read, 64)
    os.waitpid(pid, 0)
    os.close(read)
    assert len(child) == 16 and child not in left
