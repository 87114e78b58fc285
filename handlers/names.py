"""Finding a school or unit by the name a person actually types: "和平中学" or "和平初中" for 江南区和平初级中学,
"收费处" for 市教育局教育收费管理处, "河平小学" (a wrong character of the same sound) for 和平小学.

`match(query, candidates)` ranks (code, name) pairs. A name is compared as its distinctive part (the district or
city prefix and the kind of school removed, e.g. 和平 in 江南区和平初级中学) by characters, by pinyin, and as an
in-order abbreviation (收费处 in 教育收费管理处). A school's level, when the query names one, is kept: 文昌中学 never
matches 文昌小学 (`_kind_penalty`); 学校 names no level, and 中学 holds 初中 and 高中.
"""
from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from rapidfuzz import fuzz

from handlers.messages import nfkc
from handlers.routing.normalise import _FIRST, first_syllable
from handlers.textmemo import short_texts

# Kinds of school, longest spelling first, each with the family it belongs to (初中 and 高中 are both 中学).
_KINDS = (
    ("初级中学", "初中"), ("高级中学", "高中"), ("完全中学", "中学"), ("中学", "中学"),
    ("初中", "初中"), ("高中", "高中"), ("附中", "中学"), ("一中", "中学"), ("二中", "中学"), ("三中", "中学"),
    ("小学", "小学"), ("附小", "小学"), ("幼儿园", "幼儿园"), ("幼稚园", "幼儿园"), ("托儿所", "幼儿园"),
    ("职业技术学校", "职校"), ("职业学校", "职校"), ("职业技术学院", "职院"), ("职校", "职校"), ("职高", "职校"),
    ("技校", "职校"), ("学校", "学校"),
)
_COMPATIBLE = {("中学", "初中"), ("中学", "高中"), ("学校", "中学"), ("学校", "小学"), ("学校", "初中"),
               ("学校", "高中"), ("学校", "职校")}
_PREFIX = re.compile(r"^(?:[\u4e00-\u9fff]{0,4}?(?:省|市|区|县))+")
_NOISE = re.compile(r"[\s·・,，。.、()（）“”\"'-]")
CUTOFF = 62.0  # below this a candidate is not worth suggesting


@dataclass(frozen=True)
class Match:
    code: str
    name: str
    score: float  # 0–100


# 学校, 我们学校, 这所小学: a kind of school, named by no one -- never a school of the directory (学校 alone was
# read as 市职业技术学校, the one name holding it)
_GENERIC = re.compile(r"(?:我们|咱们|孩子的?|我家|他们|这个|那个|这所|那所|该|本|贵)?(?:的)?"
                      r"(?:学校|小学|中学|初中|高中|幼儿园|学院|职高|中专|附小|附中|校|园|大学)(?:的|里|呢|吧|啊)?")


@short_texts  # pure; asked of each answer to the school question
def generic(text: str) -> bool:
    return bool(_GENERIC.fullmatch(_NOISE.sub("", text)))


# Around a place said beside a name (江南的实验小学, 江南那个实验小学, 实验小学 江南区的): no part of the name.
# (the words at the end tried only where a run of them begins, read again from each place of a long run otherwise:
# quadratic on the writer; so the words at the start first, then those at the end of what is left)
_BESIDE_PLACE_HEAD = re.compile(r"^(?:[\s,，。.、]|的|那个|那所|这个|这所|那家|这家|那边的?|这边的?)+")
_BESIDE_PLACE_TAIL = re.compile(r"(?<![\s,，。.、!！~～的吧呢啊])(?<!那个)(?<!那所)(?<!那边)(?<!这边)"
                                r"(?:[\s,，。.、!！~～]|的|那个|那所|那边|这边|吧|呢|啊)+$")
_PLACE_KIND = re.compile(r"[省市区县]$")


def _beside_place(text: str) -> str:
    """`text` without the little words around a place at its start and at its end."""
    return _BESIDE_PLACE_TAIL.sub("", _BESIDE_PLACE_HEAD.sub("", text, count=1))


@functools.lru_cache(maxsize=8)
def _places(rows: tuple[tuple[str, str, str | None], ...]) -> tuple[re.Pattern | None, dict[str, frozenset[str]]]:
    """The places a directory's schools are in, as a person says them -- each district (江南区) and its short form
    (江南), and the place a name begins with -- with the schools in each; one pattern finds them, longest first.
    One character (市 of 市第一中学) is no place anyone names alone."""
    by: dict[str, set[str]] = {}
    for code, name, district in rows:
        prefix = _PREFIX.match(_clean(name))
        for place in {_clean(district or ""), prefix.group(0) if prefix else ""}:
            for form in (place, _PLACE_KIND.sub("", place)):
                if len(form) >= 2:
                    by.setdefault(form, set()).add(code)
    if not by:
        return None, {}
    pattern = re.compile("|".join(map(re.escape, sorted(by, key=len, reverse=True))))
    return pattern, {place: frozenset(codes) for place, codes in by.items()}


def place_named(text: str, rows: Iterable[tuple[str, str, str | None]]) -> tuple[frozenset[str] | None, str]:
    """(the schools in the places `text` names, the text without those words and the little words around them)
    -- 江南那个实验小学 -> (江南区's schools, 实验小学); (None, text) when it names no place. A place narrows a look-up;
    it never names a school by itself (江南区的 leaves nothing)."""
    pattern, by = _places(tuple(rows))
    if pattern is None:
        return None, text
    said = pattern.findall(_clean(text))
    if not said:
        return None, text
    within = frozenset().union(*(by[p] for p in said))
    return within, _beside_place(pattern.sub(" ", _clean(text))).strip()


def match(query: str, candidates: Iterable[tuple[str, str]] | Mapping[str, str], limit: int = 3,
          cutoff: float = CUTOFF) -> list[Match]:
    """The best candidates for `query`, best first, at most `limit`, each scoring at least `cutoff`."""
    pairs = candidates.items() if isinstance(candidates, dict) or isinstance(candidates, Mapping) else candidates
    if not _HAN.search(query) and _LATIN.search(query):  # "Jiangnan experimental primary school", "No. 3 Middle School"
        return _match_latin(query, pairs, limit, cutoff)
    q, q_keys, q_sound, q_full = _query(query)
    if not q[0] and not q[1]:
        return []
    # A part of the score below the cutoff cannot make the candidate pass (the score is the best part, less any
    # penalty), so rapidfuzz may give up early on it (a sentence against a short name: at once, by length).
    # The slack keeps a score that rounds up to the cutoff.
    floor = max(0.0, cutoff - 0.05)
    # The same by length, before any of it is computed: fuzz.ratio is 200 x (common subsequence) / (both lengths),
    # so at most 200 x shorter / (both lengths). A sentence typed at the school question is far longer than any
    # name: no candidate can reach the cutoff, and none is scored (the sound of a name is 5 points less).
    lq, lf, ls = len(q[0]), len(q_full), len(q_sound)
    need = cutoff - 0.5  # a bound this far below the cutoff cannot round up to it
    index = _index(tuple(pairs))
    # Tighter for the characters: the common subsequence has only characters some name has (`shared`), so
    # the ratio is at most 200 x shared / (length + shared) against every name; an abbreviation needs them all.
    shared = sum(ch in index.core_chars for ch in q[0])
    shared_full = sum(ch in index.full_chars for ch in q_full)
    rows = index.rows
    if (lq < 2 or shared < lq or lq > index.longest[0]) and 200 * shared < need * (lq + shared) \
            and 200 * shared_full < need * (lf + shared_full):
        # a sentence, not a name: only the sound can still reach the cutoff, and only for names whose sound is
        # of a length near the query's (the rows are in the order of that length)
        k = (need + 5) / (200 - need - 5)
        rows = rows[bisect.bisect_left(index.sound_lengths, ls * k - 1):
                    bisect.bisect_right(index.sound_lengths, ls / k + 1)] if k > 0 else rows
    scored = []
    for code, name, c_parts, c_full, c_keys, c_sound, lc, lcf, lcs in rows:
        if not q_keys & c_keys:
            continue  # nothing in common
        if (lq > lc or lq < 2) and 200 * min(lq, lc) < need * (lq + lc) \
                and 200 * min(lf, lcf) < need * (lf + lcf) and 200 * min(ls, lcs) < (need + 5) * (ls + lcs):
            continue  # too long or too short beside this name (an abbreviation needs 2 characters, no more than it)
        score = round(_score(q, c_parts, q_full, c_full, q_sound, floor, c_sound), 1)
        if score >= cutoff:
            scored.append(Match(code, name, score))
    scored.sort(key=lambda m: (-m.score, len(m.name), m.code))
    return scored[:limit]


@short_texts
def _query(query: str) -> tuple[tuple[str, str | None], frozenset[str], str, str]:
    """A query's forms: (distinctive part, family), its characters and syllables, its sound, its cleaned text.
    Remembered for short queries only (a school's name, typed again and again; the replies a school question
    gets): a sentence typed there is most often new, and remembering 4,096 of any length held ~25 MB."""
    q = _parts.__wrapped__(query)
    q_items = _lazy_pinyin(q[0])  # once: the keys and the sound both come from it
    return q, frozenset(q[0]) | frozenset(q_items), " ".join(q_items), _clean(query)


@dataclass(frozen=True)
class _Index:
    rows: tuple  # (code, name, parts, cleaned name, keys, sound of the distinctive part, and the three lengths)
    longest: tuple[int, int, int]  # the longest distinctive part, cleaned name and sound
    core_chars: frozenset[str]  # every character of the distinctive parts
    full_chars: frozenset[str]  # every character of the cleaned names
    sound_lengths: list[int]  # of each row's sound, ascending (the rows' order)


@functools.lru_cache(maxsize=8)
def _index(pairs: tuple[tuple[str, str], ...]) -> _Index:
    """A list of candidates' forms, computed once per list (a directory's schools, its units)."""
    rows = []
    for code, name in pairs:
        c_full = _clean_name(name)
        parts = _parts(name)
        sound = _pinyin(parts[0])
        rows.append((code, name, parts, c_full, _keys(c_full), sound, len(parts[0]), len(c_full), len(sound)))
    rows.sort(key=lambda r: r[8])
    longest = tuple(max((r[k] for r in rows), default=0) for k in (6, 7, 8))
    return _Index(tuple(rows), longest, frozenset("".join(r[2][0] for r in rows)),
                  frozenset("".join(r[3] for r in rows)), [r[8] for r in rows])


def _ratio_bound(a: int, b: int) -> float:
    """The highest fuzz.ratio two strings of these lengths can have."""
    return 200.0 * min(a, b) / (a + b) if a + b else 100.0


def best(query: str, candidates: Iterable[tuple[str, str]] | Mapping[str, str], margin: float = 8.0,
         sure: float = 88.0, alone: float = 80.0) -> Match | None:
    """The one candidate meant, when that is clear: a high score well ahead of the runner-up, or a good one
    with nothing else near it ("收费处": only 教育收费管理处 reads so)."""
    return sure_of(match(query, candidates, limit=2), margin, sure, alone)


def sure_of(found: Sequence[Match], margin: float = 8.0, sure: float = 88.0, alone: float = 80.0) -> Match | None:
    """best() of a query whose match() is `found` (its first two are all it reads): match's list does not depend on
    its limit but for its length, so one match serves both best() and a list of suggestions."""
    if not found:
        return None
    gap = found[0].score - found[1].score if len(found) > 1 else 100.0
    if (found[0].score >= sure and gap >= margin) or (found[0].score >= alone and gap >= 15):
        return found[0]
    return None


# -- a name written in English or pinyin ------------------------------------------------------------------------
# Compared by sound: the query's English words for kinds and common parts of names become the Chinese they stand
# for, its other words are read as pinyin, and both sides are spelled as one run of toneless syllables
# (江南区实验小学 -> "jiangnan" + "shiyan", kind 小学). Only a query with no Chinese at all takes this path.
_HAN = re.compile(r"[\u3400-\u9fff]")
_LATIN = re.compile(r"[A-Za-z]")
_EN_KINDS = (("junior high school", "初中"), ("junior middle school", "初中"), ("senior high school", "高中"),
             ("senior middle school", "高中"), ("high school", "高中"), ("middle school", "中学"),
             ("secondary school", "中学"), ("junior high", "初中"), ("senior high", "高中"),  # (no "school": as said)
             ("primary school", "小学"), ("elementary school", "小学"),
             ("vocational school", "职校"), ("kindergarten", "幼儿园"), ("nursery school", "幼儿园"),
             ("primary", "小学"), ("elementary", "小学"), ("xiaoxue", "小学"), ("zhongxue", "中学"),
             ("chuzhong", "初中"), ("gaozhong", "高中"), ("youeryuan", "幼儿园"), ("school", "学校"))
_EN_WORDS = {"experimental": "实验", "experiment": "实验", "foreign": "外国", "language": "语", "languages": "语",
             "affiliated": "附属", "central": "中心", "centre": "中心", "center": "中心", "first": "一",
             "second": "二", "third": "三", "fourth": "四", "fifth": "五", "normal": "师范", "university": "大学",
             "no": "", "number": "", "the": "", "of": "", "district": "", "city": "", "county": "", "qu": "",
             # the words around a name in a short answer ("it's the … school", "my son goes to …")
             **dict.fromkeys(("it", "its", "s", "is", "my", "our", "son", "daughter", "child", "kid", "goes", "go",
                              "to", "at", "in", "a", "an", "called", "named", "name"), "")}
_DIGITS = "零一二三四五六七八九十"


@functools.lru_cache(maxsize=1)
def _pinyin_syllables() -> frozenset[str]:
    """Every toneless pinyin syllable (zhong, nan, lv …), read once from the character table routing uses."""
    return frozenset(first_syllable(chr(code)) or "" for code in range(0x4E00, 0x9FA6)) - {""}


@functools.lru_cache(maxsize=4096)
def is_pinyin(word: str) -> bool:
    """Whether a Latin word is a run of pinyin syllables (jiangnan, xiwang), as English words mostly are not
    ("want", "teacher", "i", "hello")."""
    word = word.lower()
    syllables = _pinyin_syllables()
    ends = {0}
    for end in range(1, len(word) + 1):
        if any(start in ends and word[start:end] in syllables for start in range(max(0, end - 6), end)):
            ends.add(end)
    return bool(word) and len(word) in ends


def _syllables(text: str) -> str:
    return "".join(_lazy_pinyin(text)).lower()


def _latin_query(query: str) -> tuple[str, str | None]:
    """(sound, family of school) of a name written in Latin letters: its pinyin words, its number and the English
    words that translate a part of a name (experimental, foreign language). Other English words are no part of a
    name and are dropped ("I wan" must not sound like 希望 xiwang); less than two syllables of a name left is no
    name at all (empty)."""
    text = " " + " ".join(re.findall(r"[a-z]+|\d+", unicodedata.normalize("NFKC", query).lower())) + " "
    family = None
    for spelling, fam in _EN_KINDS:
        if f" {spelling} " in text:
            text = text.replace(f" {spelling} ", " ", 1)
            family = family or fam
    out = []
    named = 0  # syllables that are a name's: pinyin words, numbers, translated parts
    for word in text.split():
        if word.isdigit():
            n = int(word)
            out.append(_syllables(_DIGITS[n] if n <= 10 else "十" + _DIGITS[n - 10] if n < 20 else word))
            named += 1
        elif word in _EN_WORDS:
            out.append(_syllables(_EN_WORDS[word]))
            named += len(_EN_WORDS[word])
        elif is_pinyin(word):
            out.append(word)
            named += 2 if len(word) > 4 else 1  # jiangnan, xiwang: two syllables or more
    if named < 2 and not (family and named):
        return "", family
    return "".join(out), family


def latin_rest(query: str) -> list[str]:
    """The words of a name written in Latin letters that are no part of a name: not pinyin, not a number, not a
    kind of school or a word that translates part of a name ("It's Wenchang Primary School" -> [];
    "Wenchang school charges too much" -> ["charges", "too", "much"]). A reply with words left tells more than
    a name."""
    text = " " + " ".join(re.findall(r"[a-z]+|\d+", unicodedata.normalize("NFKC", query).lower())) + " "
    for spelling, _fam in _EN_KINDS:
        text = text.replace(f" {spelling} ", " ")
    return [w for w in text.split() if not (w.isdigit() or w in _EN_WORDS or is_pinyin(w))]


# English words that are pinyin syllables too: never part of a name read out of a sentence ("he Wenchang …")
_NOT_NAME = frozenset({"a", "an", "he", "she", "you", "me", "men", "can", "ran", "ban", "man", "die", "long", "sun",
                       "pan", "fan", "tan", "hang", "bang", "gang", "sang", "ding", "pin", "bin", "din", "tin", "lie"})


def latin_names(text: str) -> list[str]:
    """School names written in Latin letters inside a sentence ("My son at Wenchang Primary School gets …" ->
    ["Wenchang Primary School"]): each kind of school named, with the words before it that can be part of a name
    (pinyin, a number, No., a translated part such as Experimental), up to the first that cannot ("at")."""
    words = [(m.group(0), m.start(), m.end()) for m in re.finditer(r"[A-Za-z]+|\d+", unicodedata.normalize("NFKC", text))]
    low = [w.lower() for w, _a, _b in words]
    out, i = [], 0
    while i < len(low):
        kind = next((k for k, _f in _EN_KINDS if low[i:i + k.count(" ") + 1] == k.split()), None)
        if kind is None or kind in ("primary", "elementary"):
            i += 1
            continue
        end = i + kind.count(" ") + 1
        j = i
        while j > 0 and (low[j - 1].isdigit() or low[j - 1] in ("no", "number") or _EN_WORDS.get(low[j - 1])
                         or is_pinyin(low[j - 1]) and low[j - 1] not in _NOT_NAME) and i - j < 5:
            j -= 1
        if j < i:
            out.append(text[words[j][1]:words[end - 1][2]])
        else:  # "our kindergarten Xingguang": the name after its kind (as some write it), read as "Xingguang kindergarten"
            k = end
            while k < len(low) and is_pinyin(low[k]) and low[k] not in _NOT_NAME and k - end < 3:
                k += 1
            if k > end:
                out.append(text[words[end][1]:words[k - 1][2]] + " " + text[words[i][1]:words[end - 1][2]])
                end = k
        i = end
    return out


def latin_family(query: str) -> str | None:
    """The kind of school a Latin-letter name says ("primary school" -> 小学), or None."""
    return _latin_query(query)[1]


@functools.lru_cache(maxsize=8192)
def _sounds(name: str) -> tuple[str, ...]:
    """A directory name as syllables: its distinctive part alone, and with the place before it (区, 市 left out)."""
    core, _family = _parts(name)
    prefix = _PREFIX.match(_clean(name))
    place = re.sub(r"[省市区县]", "", prefix.group(0)) if prefix else ""
    return tuple(dict.fromkeys((_syllables(core), _syllables(place + core))))


def _match_latin(query: str, pairs, limit: int, cutoff: float) -> list[Match]:
    sound, family = _latin_query(query)
    if len(sound) < 2:
        return []
    scored = []
    for code, name in pairs:
        penalty = _kind_penalty(family, _parts(name)[1])
        if penalty is None:
            continue
        score = max(fuzz.ratio(sound, s) for s in _sounds(name)) - penalty
        if score >= cutoff:
            scored.append(Match(code, name, round(max(0.0, score), 1)))
    scored.sort(key=lambda m: (-m.score, len(m.name), m.code))
    return scored[:limit]


# 第1中学 / 市１中 / 15中 as a name is written: 第一中学, 一中, 十五中 (a number of one or two digits beside a Chinese
# character; 101中学 stays as it is, on both sides alike)
_NUMBER_IN_NAME = re.compile(r"(?<![0-9])(?:(?<=[\u4e00-\u9fff])[1-9][0-9]?|[1-9][0-9]?(?=[\u4e00-\u9fff]))(?![0-9])")


def _chinese_number(m: re.Match) -> str:
    n = int(m.group(0))
    tens, ones = divmod(n, 10)
    return _DIGITS[n] if n <= 10 else ("" if tens == 1 else _DIGITS[tens]) + "十" + (_DIGITS[ones] if ones else "")


def _clean(text: str) -> str:
    return _NUMBER_IN_NAME.sub(_chinese_number, _NOISE.sub("", nfkc(text))).lower()


_clean_name = functools.lru_cache(maxsize=8192)(_clean)  # the candidates' names: a directory's worth


@functools.lru_cache(maxsize=8192)
def _parts(name: str) -> tuple[str, str | None]:
    """(distinctive part, family of school) of a name: 江南区和平初级中学 -> ('和平', '初中')."""
    full = _clean(name)
    text = _PREFIX.sub("", full) or full  # "江南区" alone stays itself
    for spelling, family in _KINDS:
        if text.endswith(spelling):
            core = text[: -len(spelling)]
            if spelling in ("一中", "二中", "三中"):
                core += spelling[0]  # 市一中: the number is what distinguishes it
            return core.removeprefix("第") or full, family  # 市职业技术学校: the whole name is distinctive
    # An office or a district bureau: the district is what distinguishes 江南区教育局 from 江北区教育局.
    return full.removeprefix("市教育局") or full, None


def _lazy_pinyin(text: str) -> tuple[str, ...]:
    """Each character's first toneless reading, a run of other characters as one item: pypinyin's lazy_pinyin
    without its phrase table, read from the one character table routing already holds. Both sides of a
    comparison are read alike, so 河平 still sounds like 和平; loading pypinyin itself cost about 70 MB per worker
    and 0.7 ms per sentence."""
    out: list[str] = []
    other = ""
    known = _FIRST
    for ch in text:
        syllable = known.get(ch) or first_syllable(ch)
        if syllable is None:
            other += ch
            continue
        if other:
            out.append(other)
            other = ""
        out.append(syllable)
    if other:
        out.append(other)
    return tuple(out)


@functools.lru_cache(maxsize=8192)
def _pinyin(text: str) -> str:
    return " ".join(_lazy_pinyin(text))


@functools.lru_cache(maxsize=8192)
def _keys(core: str) -> frozenset[str]:
    """The characters and syllables of a text: a name sharing none with the query cannot match it."""
    return frozenset(core) | frozenset(_lazy_pinyin(core))


def _in_order(short: str, long: str) -> float:
    """How well `short` reads as an abbreviation of `long` (its characters in order), 0–1."""
    if not short or len(short) > len(long):
        return 0.0
    i = 0
    for ch in long:
        if i < len(short) and ch == short[i]:
            i += 1
    return 1.0 if i == len(short) else 0.0


def _kind_penalty(q_kind: str | None, c_kind: str | None) -> float | None:
    """What the kinds of school of a query and a candidate take off its score -- None: never this one. A level the
    person names (小学, 中学, 幼儿园, 高中…) is no slip of the tongue: 文昌中学 is not 文昌小学, whatever else is alike.
    ONE rule for names in characters and in Latin letters."""
    if not q_kind or q_kind == c_kind:
        return 0.0
    if not c_kind:
        return 30.0  # a school asked, an office found: worth suggesting, never taken without asking
    if (q_kind, c_kind) in _COMPATIBLE or (c_kind, q_kind) in _COMPATIBLE:
        return 6.0  # 中学 for 初级中学: compatible, a little less sure
    return None


def _score(q: tuple[str, str | None], c: tuple[str, str | None], q_full: str, c_full: str, q_sound: str,
           floor: float = 0.0, c_sound: str | None = None) -> float:
    (q_core, q_kind), (c_core, c_kind) = q, c
    penalty = _kind_penalty(q_kind, c_kind)
    if not q_core or penalty is None:
        return 0.0
    chars = fuzz.ratio(q_core, c_core, score_cutoff=floor)
    sound = fuzz.ratio(q_sound, _pinyin(c_core) if c_sound is None else c_sound, score_cutoff=floor + 5) - 5  # a homophone is likely, not certain
    abbreviation = 0.0
    if len(q_core) >= 2 and _in_order(q_core, c_core):
        abbreviation = 70 + 30 * len(q_core) / max(len(c_core), 1)
    whole = fuzz.ratio(q_full, c_full, score_cutoff=floor)
    score = max(chars, sound, abbreviation, whole) - penalty
    return max(0.0, min(100.0, score))
