"""Text normalisation before routing: what people type on a phone is not what the rules are written in.

* NFKC: full-width letters, digits and punctuation to half-width; lower case.
* Traditional -> simplified characters (OpenCC, t2s), so 學校亂收費 meets the rule 乱收费.
* Near-misses of the rule words: a string that sounds the same in pinyin as a rule word and differs from it in
  exactly one character is read as that word (乱收废≈乱收费, 幼儿圆≈幼儿园, 红报≈红包). A candidate that is a
  common word in its own right (其实 is not 歧视) is left alone. Each fix is reported so the explanation can
  show it.
* The language of the message: "en" when it is written mostly in Latin letters, else "zh".
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

import opencc

from handlers.messages import nfkc, well_formed

from .literals import Literals


def _char_table() -> dict[int, str]:
    """pypinyin's table of each character's readings, read from its data file without importing the package:
    pypinyin's __init__ also loads its phrase table (about 50 MB resident), which neither routing nor the loose
    school-name lookup (handlers/names.py) uses."""
    import importlib.util
    import os
    import sys
    if "pypinyin.pinyin_dict" in sys.modules:
        return sys.modules["pypinyin.pinyin_dict"].pinyin_dict
    spec = importlib.util.find_spec("pypinyin")  # finds the package without running it
    with open(os.path.join(os.path.dirname(spec.origin), "pinyin_dict.json"), encoding="utf-8") as f:
        return {int(k): v for k, v in json.load(f).items()}


pinyin_dict = _char_table()

_TONES = str.maketrans("āáǎàēéěèīíǐìōóǒòūúǔùǖǘǚǜüńňǹḿ", "aaaaeeeeiiiioooouuuuvvvvvnnnm")
_CJK = re.compile(r"[\u4e00-\u9fff]")
_LATIN = re.compile(r"[a-z]")
NEAR_MISS_CHARS = 300  # typos matter in short messages; long letters are typed with care


@dataclass(frozen=True)
class Normalised:
    text: str
    lang: str  # "zh" | "en"
    fixes: tuple[tuple[str, str], ...] = ()  # (as written, read as)
    traditional: bool = False


@functools.lru_cache(maxsize=1)
def t2s() -> opencc.OpenCC:
    """OpenCC's traditional → simplified converter, built once (the conversation reads with the same one)."""
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """t2s().convert(text) for a text with a traditional character in it; any other text comes back as it is.
    OpenCC's phrase table also rewrites some plain simplified phrases (打坏 -> 打坯, the traditional spelling of
    a different word), which turned 孩子被老师打坏了 into no harm at all. Most messages, written in simplified
    characters, skip OpenCC at once: no key of its dictionaries that changes text can occur in them (T2S_KEYS)."""
    keys = _t2s_keys()
    if keys is not None and _none_in(keys, text):
        return text
    if not any(_changes_alone(ch) for ch in text):
        return text
    return t2s().convert(text)


@functools.lru_cache(maxsize=65536)
def _changes_alone(ch: str) -> bool:
    """OpenCC converts the character on its own: a traditional character (or a variant), not a simplified one."""
    return t2s().convert(ch) != ch


# OpenCC's t2s changes a text only where a key of its dictionaries (its phrases, its characters, the normalisation
# of compatibility ideographs) whose value is not the key itself occurs in it (OpenCC copies what matches no key,
# and a key read as itself, 慰藉 -> 慰藉, changes nothing). This file holds one character of each such key, its
# rarest (by jieba's dictionary): a text with none of them holds no such key. Written by write_t2s_keys() from the
# installed OpenCC, with a fingerprint of its dictionary files: where the installed ones differ (another OpenCC),
# it is not used and every text goes through OpenCC, as before.
T2S_KEYS = Path(__file__).with_name("t2s_keys.txt")


def _opencc_share() -> Path:
    return Path(opencc.__file__).parent / "clib" / "share" / "opencc"


def _t2s_dict_files() -> list[Path]:
    """The dictionary files of OpenCC's t2s configuration, in its order."""
    share = _opencc_share()
    config = json.loads((share / "t2s.json").read_text(encoding="utf-8"))
    out: list[Path] = []

    def walk(d: dict) -> None:
        if d.get("type") == "group":
            for x in d.get("dicts", []):
                walk(x)
        elif d.get("file"):
            out.append(share / d["file"])

    for part in config.get("normalization", []) + config.get("conversion_chain", []):
        walk(part.get("dict", {}))
    return out


def _t2s_fingerprint() -> str:
    h = hashlib.sha256()
    share = _opencc_share()
    for f in [share / "t2s.json", *_t2s_dict_files()]:
        h.update(f.name.encode() + b"\0" + f.read_bytes())
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def _t2s_keys() -> frozenset[str] | None:
    try:
        fingerprint, chars = T2S_KEYS.read_text(encoding="utf-8").split("\n", 1)
        if fingerprint.strip() != _t2s_fingerprint():
            return None
    except (OSError, ValueError):
        return None
    return frozenset(chars.strip("\n"))


_KEYS_BMP: tuple[frozenset[str], re.Pattern] | None = None
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


def _none_in(keys: frozenset[str], text: str) -> bool:
    """keys.isdisjoint(text) (keys: single characters), ~2x cheaper for the usual message: isdisjoint makes a
    string of each character to hash it (~1.2 µs a sentence, three times a message), where one character class of
    the keys below U+10000 is read in C. re cannot make such a table of the keys above it (a class of them is
    tried one by one, ~60 µs a sentence): a text with any such character (an emoji) is asked as before. The class
    is made again when the keys are another set (a test's stale file)."""
    global _KEYS_BMP
    if _KEYS_BMP is None or _KEYS_BMP[0] is not keys:
        bmp = sorted(k for k in keys if k <= "\uffff")
        _KEYS_BMP = (keys, re.compile("[" + "".join(map(re.escape, bmp)) + "]" if bmp else "(?!)"))
    if _KEYS_BMP[1].search(text) is not None:
        return False
    return _ASTRAL.search(text) is None or keys.isdisjoint(text)


def read_t2s_keys() -> frozenset[str]:
    """The rarest character of each key of the installed t2s dictionaries that changes text (its first value,
    the one OpenCC writes, is not the key), read with OpenCC's own opencc_dict tool (shipped in the opencc
    wheel): each .ocd2 file is written out as text, one `key<TAB>value value…` a line."""
    import os
    import subprocess
    import tempfile

    from storage import wordfreq
    freq, _total = wordfreq.install()
    clib = Path(opencc.__file__).parent / "clib"
    env = dict(os.environ, LD_LIBRARY_PATH=os.pathsep.join(str(p) for p in (clib / "lib64", clib / "lib") if p.exists()))
    chars: set[str] = set()
    with tempfile.TemporaryDirectory() as tmp:
        for f in _t2s_dict_files():
            out = Path(tmp) / (f.stem + ".txt")
            subprocess.run([str(clib / "bin" / "opencc_dict"), "-i", str(f), "-o", str(out), "-f", "ocd2", "-t", "text"],
                           check=True, env=env, capture_output=True)
            for line in out.read_text(encoding="utf-8").splitlines():
                key, _, values = line.partition("\t")
                if key and values.split(" ", 1)[0] != key:
                    chars.add(min(key, key=lambda c: (freq.get(c, 0), c)))
    return frozenset(chars)


def write_t2s_keys() -> None:
    """python -c 'from handlers.routing.normalise import write_t2s_keys; write_t2s_keys()' after an OpenCC upgrade."""
    T2S_KEYS.write_text(_t2s_fingerprint() + "\n" + "".join(sorted(read_t2s_keys())) + "\n", encoding="utf-8")


@functools.lru_cache(maxsize=len(pinyin_dict))  # one entry per character the table has, at most
def syllables(ch: str) -> frozenset[str]:
    """Every toneless reading of one character (heteronyms have several)."""
    raw = pinyin_dict.get(ord(ch))
    if not raw:
        return frozenset()
    return frozenset(p.translate(_TONES) for p in raw.split(","))


def detect_lang(text: str) -> str:
    latin = len(_LATIN.findall(text))
    if latin < 3:
        return "zh"  # (most messages: their Han characters need not be counted)
    cjk = len(_CJK.findall(text))
    return "en" if latin >= 3 and latin > 2 * cjk else "zh"


class Normaliser:
    """Built once per Router from its vocabulary (rule words, context words, education words)."""

    def __init__(self, vocabulary: Iterable[str], is_common_word: Callable[[str], bool],
                 regional: dict[str, str] | None = None):
        self._is_common = is_common_word
        # Taiwan / Hong Kong wording read as the mainland words the rules are written in (国小≈小学, 班导≈班主任), in
        # text that came in traditional characters only, and not after a character that makes it another word
        # (中国小孩, 全国中学生)
        self._regional = dict(regional or {})
        self._regional_re = re.compile(
            "(?<![中美英法德韩日泰全外祖王大本各我两])(?:" + "|".join(
                re.escape(k) for k in sorted(self._regional, key=len, reverse=True)) + ")") if self._regional else None
        words = sorted({w for w in vocabulary if 2 <= len(w) <= 8 and all(_CJK.match(c) for c in w)})
        self._vocab = frozenset(words)
        # Each word is indexed by its sound: one code point per syllable, so a window of the text is looked up
        # with one slice and one dict probe. (Each character's first reading, on both sides.)
        self._table = _SoundTable()  # str.translate's table: each character to its sound (filled as met)
        self._by_sound: dict[str, list[str]] = {}
        for w in words:
            key = self._sound(w)
            if key is not None:
                self._by_sound.setdefault(key, []).append(w)
        # the first two syllables -> the lengths of the words that start so, longest first: most positions fail
        # this one probe, the others try only the lengths that exist
        starts: dict[str, set[int]] = {}
        for k in self._by_sound:
            starts.setdefault(k[:2], set()).add(len(k))
        self._starts = {k: tuple(sorted(v, reverse=True)) for k, v in starts.items()}
        # the same keys in a compiled matcher: every place a word's sound occurs, found in one pass (see
        # _fix_near_misses); a text with none (most) is done at once
        self._sounds = Literals((), {k: 1 for k in self._by_sound}, remember=0)
        self._fix_line = functools.lru_cache(maxsize=2048)(self._read_line)  # a line's reading: _fix_near_misses

    def _sound(self, text: str) -> str | None:
        key = text.translate(self._table)
        return None if "\x00" in key else key

    def __call__(self, text: str) -> Normalised:
        t = nfkc(well_formed(str(text))).lower().strip()  # OpenCC refuses lone surrogates
        simplified = to_simplified(t) if _CJK.search(t) else t
        traditional = simplified != t
        lang = detect_lang(simplified)
        regional: list[tuple[str, str]] = []
        if traditional and self._regional_re is not None:
            def read(m: re.Match) -> str:
                regional.append((m.group(0), self._regional[m.group(0)]))
                return self._regional[m.group(0)]
            simplified = self._regional_re.sub(read, simplified)
        fixed, fixes = self._fix_near_misses(simplified) if lang == "zh" else (simplified, ())
        return Normalised(fixed, lang, tuple(dict.fromkeys(regional)) + fixes, traditional)

    def _fix_near_misses(self, t: str) -> tuple[str, tuple[tuple[str, str], ...]]:
        """Left to right, at each position the longest word that sounds like the text there and is accepted as a
        slip (_accept) is read instead; the text goes on after it. Line by line, each line's reading remembered (a
        draft routed again reads only its new line): no word's sound holds a line break's, and a window that holds
        one is neither a word of the vocabulary nor a common word, so a line reads the same alone."""
        out: list[str] = []
        fixes: list[tuple[str, str]] = []
        at = 0  # where the line starts in t: only the first NEAR_MISS_CHARS characters are read
        for line in t.split("\n"):
            fixed, found = self._fix_line(line, max(0, min(len(line), NEAR_MISS_CHARS - at)))
            out.append(fixed)
            fixes += found
            at += len(line) + 1
        return "\n".join(out), tuple(dict.fromkeys(fixes))

    def _read_line(self, t: str, n: int) -> tuple[str, tuple[tuple[str, str], ...]]:
        """One line's reading, its first n characters looked at. The places where a word's sound occurs come from
        the compiled matcher, by position and longest first, as a probe at each position found them."""
        if not n:
            return t, ()
        found = self._sounds.scan(t[:n].translate(self._table))[0]
        if not found:
            return t, ()
        by_sound = self._by_sound
        out: list[str] = []
        fixes: list[tuple[str, str]] = []
        i = 0  # the text before i is done
        for at, _negl, key, _role in found:
            if at < i:
                continue  # inside a word read already
            hit = self._accept(t, at, by_sound[key])
            if hit is None:
                continue
            seen, meant = hit
            out.append(t[i:at])
            out.append(meant)
            fixes.append(hit)
            i = at + len(meant)
        out.append(t[i:])
        return "".join(out), tuple(dict.fromkeys(fixes))

    def _accept(self, t: str, i: int, cands: list[str]) -> tuple[str, str] | None:
        """A word that sounds like t[i:…] and differs from it in exactly one character, if that is a slip."""
        vocab = self._vocab
        for w in cands:
            L = len(w)
            seen = t[i:i + L]
            if seen == w or seen in vocab:
                return None  # written right (or another rule word that sounds the same)
            diff = [k for k in range(L) if seen[k] != w[k]]
            if len(diff) != 1:
                continue
            k = diff[0]
            if self._is_common(seen) or self._is_common(t[max(0, i - 1):i + L]) or self._is_common(t[i:i + L + 1]):
                continue  # a real word (收废品, 其实), not a slip
            outside = t[i + k - 1:i + k + 1] if k == 0 and i > 0 else \
                t[i + k:i + k + 2] if k == L - 1 and i + L < len(t) else ""
            if len(outside) == 2 and self._is_common(outside):
                continue  # the odd character belongs to the next word (收废品 is 收 + 废品)
            if any(w2 in vocab or self._is_common(w2) for w2 in _covering(t, i, L)):
                continue  # its edge belongs to a word beside it (部门为 is 部门 + 为, not 门卫)
            return seen, w
        return None


class _SoundTable(dict):
    """code point -> one character standing for its first syllable ("\x00": none), filled as characters are met
    (str.translate looks each character up here, in C). Those with a reading are kept, at most all of the table's."""

    def __missing__(self, cp: int) -> str:
        syl = first_syllable(chr(cp))
        if syl is None:
            if cp < 0x3400:  # punctuation, Latin, digits: kept too (a few hundred at most); not any code point
                self[cp] = "\x00"
            return "\x00"
        sid = self[cp] = chr(0xE000 + _syllable_number(syl))
        return sid


_SYLLABLE_NUMBERS: dict[str, int] = {}


def _syllable_number(syl: str) -> int:
    return _SYLLABLE_NUMBERS.setdefault(syl, len(_SYLLABLE_NUMBERS) + 1)


_FIRST: dict[str, str] = {}  # each character's first syllable, read from the table once (only those it has)


def first_syllable(ch: str) -> str | None:
    syl = _FIRST.get(ch)
    if syl is None:
        raw = pinyin_dict.get(ord(ch))
        if not raw:
            return None
        syl = _FIRST[ch] = raw.split(",", 1)[0].translate(_TONES)
    return syl


def _covering(t: str, i: int, L: int) -> Iterable[str]:
    """Two-character windows that overlap the candidate's edges (a correct word straddling it)."""
    if i > 0:
        yield t[i - 1:i + 1]
    if i + L < len(t):
        yield t[i + L - 1:i + L + 1]
