"""What a message is read as, computed more cheaply and the same: messages.nfkc is unicodedata.normalize("NFKC", ·)
for every text (it replaces it on the message path: the intake's reading, the command parser, the router's
normaliser), and intake.han_count counts the characters U+4E00-U+9FFF, whatever surrounds them."""
from __future__ import annotations

import random
import sys
import unicodedata

from handlers.messages import nfkc


def nfkc_of_python(text: str) -> str:
    return unicodedata.normalize("NFKC", text)


def test_every_code_point_alone():
    wrong = [c for c in range(sys.maxunicode + 1) if nfkc(chr(c)) != nfkc_of_python(chr(c))]
    assert wrong == []


def test_full_width_characters_next_to_what_composes_with_them():
    # ＝ + U+0338 is ≠ (the overlay composes with the ASCII sign the full-width one reads as); ｅ + U+0301 is é;
    # a full-width comma before a combining mark, Hangul jamo, a compatibility ideograph, a ligature
    cases = {"＝\u0338": "≠", "＜\u0338": "≮", "ｅ\u0301": "é", "孩子，\u0301好": None, "，\u1100\u1161": None,
             "学校\uf900，ﬁ": None, "　ｏｋ，\u0303Ａ": None, "全角，逗号，两个！": "全角,逗号,两个!"}
    for text, expected in cases.items():
        assert nfkc(text) == nfkc_of_python(text)
        if expected is not None:
            assert nfkc(text) == expected


def test_random_texts_of_what_phones_send():
    rng = random.Random(20261130)
    wide = [chr(c) for c in (0x3000, *range(0xFF01, 0xFF5F))]
    han = [chr(c) for c in range(0x4E00, 0x9FFF, 37)]
    marks = ["\u0301", "\u0308", "\u0338", "\u0327", "\u3099", "\u309a", "\u20dd"]
    other = list("abcXYZ09 ,.!?=<>") + ["\u1100", "\u1161", "\u11a8", "\uac00", "\uf900", "\ufb01", "\u2460", "\u00bd",
                                        "\u212b", "\u304b", "\u30ab", "\uff76", "\uff9e", "\u3002", "\ufe10", "\ud800"]
    pools = (wide, han, marks, other)
    for _ in range(20000):
        text = "".join(rng.choice(rng.choice(pools)) for _ in range(rng.randint(0, 12)))
        assert nfkc(text) == nfkc_of_python(text), ascii(text)


def test_a_message_as_typed_reads_as_before():
    text = "孩子一年级一班，被老师当众体罚了！请问应该怎么办？（急）"
    assert nfkc(text) == "孩子一年级一班,被老师当众体罚了!请问应该怎么办?(急)" == nfkc_of_python(text)
    assert nfkc("学校") == "学校"


def test_han_count_counts_the_unified_ideographs_only():
    from handlers.intake import han_count
    count = han_count.__wrapped__  # (the check itself, not its memory)
    edges = "\u4dff\u4e00\u9fff\ua000\u3400\uf900，a1 \n\ud800"
    rng = random.Random(7)
    for _ in range(5000):
        text = "".join(rng.choice(edges + "孩子学校老师") for _ in range(rng.randint(0, 20)))
        assert count(text) == sum("\u4e00" <= ch <= "\u9fff" for ch in text), ascii(text)
    assert count("孩子，一年级 ok") == 5 and count("") == 0 and count("ok!") == 0
