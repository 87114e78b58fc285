"""常见问题: the bureau's common questions answered at once, when a new inquiry matches one with confidence.

The file (`campaign.faq`) is TOML, one [[faq]] table per question:

    [[faq]]
    id = "huapian"                        # stable: outcomes are counted by it
    question = "小升初划片范围什么时候公布？"
    also = ["初中对口学校怎么查"]           # other ways people ask (optional)
    keywords = ["划片", "小升初"]           # words that must weigh most (optional)
    answer = "…"
    unit = "jyj-zsc"                      # the unit responsible for the answer
    review_by = "2027-03-31"              # not served after this day until someone checks and renews it
    question_en = "When is the middle-school catchment published?"   # optional: matched too
    answer_en = "…"                       # optional: what an English writer reads (without it, a person answers)

Matching uses the router's jieba tokenizer (it knows education terms and school names): each question and its
variants become IDF-weighted word sets; the score is the cosine between the message and the best variant, with
a bonus for keywords. An answer is served only above `min_score` and clearly ahead of the next question.
"""
from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from storage.tomlfile import read_toml

STOP = frozenset("""请问 想问 问一下 问下 咨询 一下 我们 我家 孩子 小孩 家长 今年 明年 什么 怎么 怎样 如何 哪些 哪里 哪个
多少 是否 可以 能否 能不能 需要 要求 有没有 时候 时间 请 吗 呢 吧 啊 的 了 和 与 及 或 是 在 有 要 去 我 你 您 他 她 它 这 那 都
还 就 也 会 能 让 被 给 把 对 从 到 为 以 等 个 一 上 下 中 里 后 前""".split())
_ID = re.compile(r"[A-Za-z0-9_-]{1,48}")
KEYWORD_BONUS = 0.2  # below any sensible min_score: keywords confirm a match, they cannot make one
_WORD = re.compile(r"[\u4e00-\u9fffA-Za-z0-9]")


# What a question asks about, beside its topic (STOP drops these words from the match): an answer is served only if
# it speaks to each one asked -- 中考报名费多少 matched the entry on 中考报名's dates and was answered with them.
# (name, asked in the message, spoken to in an answer)
ASPECTS = (
    ("cost", re.compile(r"多少钱|几块钱|多少元|多少费|费用|费多少|费是多少|钱多少|[交缴付收花](?:多少|几)|(?:要|收|花)钱|收费吗|"
                        r"收不收费|免费吗|贵不贵|how much|\bfees?\b|\bcosts?\b|\bpay\b", re.I),
     re.compile(r"元|费|钱|免|free|fee|cost|pay|charg|yuan", re.I)),
    ("time", re.compile(r"什么时候|啥时候|何时|几月|几号|哪天|哪一天|多久|多长时间|\bwhen\b|what time|how long", re.I),
     re.compile(r"\d|[一二三四五六七八九十]月|月|日|天|周|年|季|期间|前|后|when|month|day|week|year", re.I)),
)


def asked_aspects(text: str) -> tuple[str, ...]:
    return tuple(name for name, asked, _spoken in ASPECTS if asked.search(text))


def speaks_to(entry: "FaqEntry", aspects: tuple[str, ...]) -> bool:
    answer = entry.answer + "\n" + entry.answer_en
    return all(spoken.search(answer) for name, _asked, spoken in ASPECTS if name in aspects)


class FaqError(ValueError):
    pass


@dataclass(frozen=True)
class FaqEntry:
    id: str
    question: str
    answer: str
    unit: str
    review_by: dt.date
    also: tuple[str, ...] = ()
    keywords: tuple[str, ...] = ()
    question_en: str = ""
    answer_en: str = ""

    def current(self, today: dt.date) -> bool:
        return today <= self.review_by


def load_faq(path: str | Path | None, known_units: dict[str, str] | None = None) -> list[FaqEntry]:
    if not path:
        return []
    raw = read_toml(path, FaqError)
    items = raw.get("faq")
    if not isinstance(items, list) or not items:
        raise FaqError(f"{path}: no [[faq]] tables")
    entries: list[FaqEntry] = []
    for n, item in enumerate(items, start=1):
        entries.append(parse_entry(item, f"{path}: faq[{n}]", known_units, entries))
    return entries


def parse_entry(item: Any, where: str, known_units: dict[str, str] | None = None,
                others: list[FaqEntry] = ()) -> FaqEntry:
    """One [[faq]] table, checked (ids unique among `others`); FaqError names `where` and the key. The file
    loader and the workbench both call it."""
    if not isinstance(item, dict):
        raise FaqError(f"{where}: must be a table")
    entries = others

    def bad(key: str, why: str) -> FaqError:
        return FaqError(f"{where}.{key}: {why}")

    extra = set(item) - {"id", "question", "also", "keywords", "answer", "unit", "review_by", "question_en",
                         "answer_en"}
    if extra:
        raise bad(sorted(extra)[0], "unknown key; known: id, question, also, keywords, answer, unit, review_by, "
                                    "question_en, answer_en")
    for key in ("question_en", "answer_en"):
        if not isinstance(item.get(key, ""), str):
            raise bad(key, "text")
    if len(item.get("answer_en", "").encode()) > 1500:
        raise bad("answer_en", "longer than 1500 bytes: a WeChat reply holds 2048 with the question around it")
    fid = item.get("id")
    if not isinstance(fid, str) or not _ID.fullmatch(fid) or any(e.id == fid for e in entries):
        raise bad("id", "a unique id of letters, digits, - or _")
    for key in ("question", "answer", "unit"):
        if not isinstance(item.get(key), str) or not item[key].strip():
            raise bad(key, "required text")
    if len(item["answer"].encode()) > 1500:
        raise bad("answer", "longer than 1500 bytes: a WeChat reply holds 2048 with the question around it")
    if known_units is not None and item["unit"] not in known_units:
        raise bad("unit", f"{item['unit']!r} is not a unit code in the directory")
    review = item.get("review_by")
    if isinstance(review, str):
        try:
            review = dt.date.fromisoformat(review)
        except ValueError:
            raise bad("review_by", f"{review!r} is not a date YYYY-MM-DD") from None
    if not isinstance(review, dt.date) or isinstance(review, dt.datetime):
        raise bad("review_by", "a date YYYY-MM-DD")
    lists = {}
    for key in ("also", "keywords"):
        value = item.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
            raise bad(key, "a list of texts")
        lists[key] = tuple(v.strip() for v in value)
    return FaqEntry(fid, item["question"].strip(), item["answer"].strip(), item["unit"], review,
                    lists["also"], lists["keywords"], item.get("question_en", "").strip(),
                    item.get("answer_en", "").strip())


def entry_table(e: FaqEntry) -> dict[str, Any]:
    """An entry as its [[faq]] table (what the workbench stores and shows in its form)."""
    table = {"id": e.id, "question": e.question, "also": list(e.also), "keywords": list(e.keywords),
             "answer": e.answer, "unit": e.unit, "review_by": e.review_by.isoformat()}
    return {**table, **{k: v for k, v in (("question_en", e.question_en), ("answer_en", e.answer_en)) if v}}


def with_stored(files: list[FaqEntry], stored: list[dict[str, Any]],
                known_units: dict[str, str] | None) -> tuple[list[FaqEntry], set[str]]:
    """The file's entries with those written in the workbench (storage.campaign_defs rows): a stored entry
    replaces the file's of the same id; a retired one takes it out. Returns (entries in service, retired ids)."""
    out = {e.id: e for e in files}
    retired = set()
    for row in stored:
        if row["retired_at"] is not None:
            out.pop(row["id"], None)
            retired.add(row["id"])
            continue
        try:
            out[row["id"]] = parse_entry(row["body"], f"工作台: {row['id']}", known_units)
        except FaqError:
            continue  # e.g. its unit has since left the directory: not served
    return list(out.values()), retired


_ENTRY_WORDS: "weakref.WeakKeyDictionary[Any, dict[str, frozenset[str]]]" = weakref.WeakKeyDictionary()


class FaqBook:
    """The entries and their word vectors, built once with the router's tokenizer."""

    def __init__(self, entries: list[FaqEntry], tokenizer, min_score: float = 0.55, margin: float = 0.08):
        if min_score <= KEYWORD_BONUS:
            raise ValueError(f"min_score must be above {KEYWORD_BONUS}")
        self.entries = entries
        self.tokenizer = tokenizer
        self.min_score = min_score
        self.margin = margin
        words = self._entry_words
        variants = {e.id: [words(q) for q in (e.question, *e.also, e.question_en) if q] for e in entries}
        df: dict[str, int] = {}
        for e in entries:
            for w in set().union(*variants[e.id], words(" ".join(e.keywords))):
                df[w] = df.get(w, 0) + 1
        n = len(entries)
        self.idf = {w: math.log((n + 1) / (c + 1)) + 1.0 for w, c in df.items()}
        self._default_idf = math.log(n + 1) + 1.0
        self._vectors = {eid: [self._vector(v) for v in vs] for eid, vs in variants.items()}
        self._keywords = {e.id: [unicodedata.normalize("NFKC", k).lower() for k in e.keywords] for e in entries}
        # Word -> entries with it: only those can reach min_score (keywords alone add at most KEYWORD_BONUS).
        self._index: dict[str, set[str]] = {}
        for eid, vectors in self._vectors.items():
            for v in vectors:
                for w in v:
                    self._index.setdefault(w, set()).add(eid)

    def _entry_words(self, text: str) -> frozenset[str]:
        """_words of an entry's text, remembered per tokenizer: a book is built again at each start-up and after each
        workbench edit (Campaign.sync), and cutting every question again was most of it. The tokenizer's
        dictionary is fixed once its router is built, so a text's words under it are too."""
        try:
            known = _ENTRY_WORDS[self.tokenizer]
        except KeyError:
            known = _ENTRY_WORDS[self.tokenizer] = {}
        except TypeError:  # a tokenizer that cannot be weakly referenced: not remembered
            return frozenset(self._words(text))
        found = known.get(text)
        if found is None:
            if len(known) >= 4096:  # (entries come from files and the workbench: a bound, not a working limit)
                known.clear()
            found = known[text] = frozenset(self._words(text))
        return found

    def _words(self, text: str) -> set[str]:
        text = unicodedata.normalize("NFKC", text).lower()
        return {w for w in self.tokenizer.lcut(text) if w not in STOP and _WORD.search(w)
                and (len(w) >= 2 or not w.isascii())} - {""}

    def _vector(self, words: set[str]) -> dict[str, float]:
        return {w: self.idf.get(w, self._default_idf) for w in words}

    @staticmethod
    def _cosine(a: dict[str, float], b: dict[str, float]) -> float:
        dot = sum(v * b[w] for w, v in a.items() if w in b)
        if not dot:
            return 0.0
        return dot / (math.sqrt(sum(v * v for v in a.values())) * math.sqrt(sum(v * v for v in b.values())))

    def scores(self, text: str, today: dt.date) -> list[tuple[float, FaqEntry]]:
        """The score of every current entry sharing a word with the text, best first."""
        query = self._vector(self._words(text))
        norm = unicodedata.normalize("NFKC", text).lower()
        candidates = set().union(*(self._index.get(w, ()) for w in query))
        out = []
        for e in self.entries:
            if e.id not in candidates or not e.current(today):
                continue  # past its review date: better a person answers than an answer that may be stale
            best = max((self._cosine(query, v) for v in self._vectors[e.id]), default=0.0)
            keys = self._keywords[e.id]
            if keys:
                best += KEYWORD_BONUS * sum(k in norm for k in keys) / len(keys)
            out.append((round(min(best, 1.0), 3), e))
        out.sort(key=lambda t: -t[0])
        return out

    def match(self, text: str, today: dt.date) -> tuple[FaqEntry, float] | None:
        aspects = asked_aspects(unicodedata.normalize("NFKC", text))
        ranked = [(score, e) for score, e in self.scores(text, today) if speaks_to(e, aspects)]
        if not ranked or ranked[0][0] < self.min_score:
            return None
        if len(ranked) > 1 and ranked[0][0] - ranked[1][0] < self.margin:
            return None  # two answers fit about equally: a person should decide
        return ranked[0][1], ranked[0][0]


def stats_rows(entries: list[FaqEntry], counts: dict[str, dict[str, int]], today: dt.date) -> list[dict[str, Any]]:
    """One row per entry for `tingjian faq stats`: served, solved, human, no answer, the solved share."""
    rows = []
    for e in entries:
        c = counts.get(e.id, {})
        served = sum(c.values())
        answered = c.get("solved", 0) + c.get("human", 0)
        rows.append({"id": e.id, "question": e.question, "unit": e.unit, "review_by": e.review_by.isoformat(),
                     "current": e.current(today), "served": served, "solved": c.get("solved", 0),
                     "human": c.get("human", 0), "no_answer": served - answered,
                     "solved_share": (c.get("solved", 0) / answered) if answered else None})
    known = {e.id for e in entries}
    for fid, c in sorted(counts.items()):  # answers served once and since removed from the file
        if fid not in known:
            served = sum(c.values())
            answered = c.get("solved", 0) + c.get("human", 0)
            rows.append({"id": fid, "question": "（已从问答库删除）", "unit": "", "review_by": "", "current": False,
                         "served": served, "solved": c.get("solved", 0), "human": c.get("human", 0),
                         "no_answer": served - answered,
                         "solved_share": (c.get("solved", 0) / answered) if answered else None})
    return rows
