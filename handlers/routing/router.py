"""Keyword router: a citizen's message -> one of the 13 category codes, with its explanation.

How a message is scored (all numbers come from the rules file, see default_rules.toml):

* The text is normalised (NFKC, lower case) and split into a title (first line) and a body (the rest).
  A message without a newline is all title (WeChat messages are usually one line).
* It is cut into words by a private jieba tokenizer whose user dictionary holds every rule word and every
  school name, so two Routers never interfere and jieba's global state is left alone.
* `words` of a category are matched where the text's word boundaries allow (a rule word may sit inside a
  longer jieba word, e.g. 补课 in 补课费, but may not straddle two words on both sides, so 校车 is not found
  in 学校|车辆). `phrases` are matched as plain substrings; `A…B` means A followed by B within the same
  sentence, at most `gap` characters apart.
* Each match adds weight x (title_weight if it is in the title) + weight x (1 + repeat_bonus x extra
  repeats) if it is in the body. `exclude` entries subtract (negative number) or veto the category.
* The highest score wins; equal scores go to the category with the smaller `priority`. With no signal at all
  the message goes to other_edu if it contains a general education word, else out_of_scope, with low
  confidence.
"""
from __future__ import annotations

import functools
import logging
import math
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import jieba

from handlers.vocabulary import CATEGORIES  # one source for the category codes

DEFAULT_RULES = Path(__file__).with_name("default_rules.toml")

_GAP_MARKS = ("…", "...")
_SENTENCE_END = "。！？!?；;\n"
_MAX_CHARS = 1200  # longer messages are cut: the demand is stated at the start (and in the title)

logging.getLogger("jieba").setLevel(logging.WARNING)


@dataclass(frozen=True)
class Decision:
    category: str
    confidence: float
    scores: dict[str, float]
    explanation: list[dict]
    school: str | None = None
    label: str = field(default="", compare=False)

    def to_dict(self) -> dict:
        return {
            "category": self.category,
            "confidence": round(self.confidence, 3),
            "scores": {k: round(v, 3) for k, v in self.scores.items()},
            "explanation": [dict(e) for e in self.explanation],
            "school": self.school,
        }

    def explain(self, limit: int = 8) -> str:
        head = f"→ {self.category}"
        if self.label:
            head += f" ({self.label})"
        head += f"  置信度 confidence {self.confidence:.2f}"
        if self.school:
            head += f"  学校 school {self.school}"
        lines = [head]
        ranked = sorted(((v, k) for k, v in self.scores.items() if v > 0), reverse=True)[:3]
        if ranked:
            lines.append("得分 scores: " + ", ".join(f"{k} {v:.1f}" for v, k in ranked))
        if not self.explanation:
            lines.append("依据 evidence: 无关键词 (no rule matched; default)")
        for e in self.explanation[:limit]:
            sign = "+" if e["weight"] >= 0 else ""
            lines.append(f"  {e['word']} → {e['category']} {sign}{e['weight']:.1f}")
        if len(self.explanation) > limit:
            lines.append(f"  … {len(self.explanation) - limit} more")
        return "\n".join(lines)


@dataclass
class _Entry:
    text: str
    category: str
    weight: float  # negative = subtract
    veto: bool = False
    kind: str = "word"  # word | phrase | exclude


class Router:
    def __init__(self, rules: dict, schools: Iterable[tuple[str, str, Sequence[str]]] = ()):
        settings = rules.get("settings", {})
        self.title_weight = float(settings.get("title_weight", 2.0))
        self.repeat_bonus = float(settings.get("repeat_bonus", 0.25))
        self.max_repeats = int(settings.get("max_repeats", 4))
        self.gap = int(settings.get("gap", 12))
        self.min_score = float(settings.get("min_score", 1.0))
        self.context_factor = float(settings.get("context_factor", 0.25))

        cats = rules.get("categories", {})
        unknown = set(cats) - set(CATEGORIES)
        if unknown:
            raise ValueError(f"unknown categories in rules: {sorted(unknown)}")
        self.labels = {c: str(cats.get(c, {}).get("name", "")) for c in CATEGORIES}
        self.priority = {c: int(cats.get(c, {}).get("priority", 50 + i)) for i, c in enumerate(CATEGORIES)}
        # context: the category's score is multiplied by context_factor unless one of these is in the text
        self.context = {
            c: [self._norm(w) for w in cats.get(c, {}).get("context", [])] for c in CATEGORIES
        }

        self._words: dict[str, list[_Entry]] = {}  # boundary-checked
        self._substrings: dict[str, list[_Entry]] = {}  # raw substrings (phrases, exclusions)
        self._gapped: list[tuple[re.Pattern, str, _Entry]] = []  # A…B
        for code in CATEGORIES:
            spec = cats.get(code, {})
            for w, weight in spec.get("words", {}).items():
                self._add(_Entry(self._norm(w), code, float(weight), kind="word"))
            for w, weight in spec.get("phrases", {}).items():
                self._add(_Entry(self._norm(w), code, float(weight), kind="phrase"))
            for w, weight in spec.get("exclude", {}).items():
                if isinstance(weight, str):
                    if weight.strip().lower() != "veto":
                        raise ValueError(f"exclude {w!r} in {code}: use a negative number or \"veto\"")
                    e = _Entry(self._norm(w), code, 0.0, veto=True, kind="exclude")
                else:
                    e = _Entry(self._norm(w), code, -abs(float(weight)), kind="exclude")
                self._add(e)

        fb = rules.get("fallback", {})
        self._edu_words = [self._norm(w) for w in fb.get("education_words", [])]
        self.fallback_edu = fb.get("education", "other_edu")
        self.fallback_none = fb.get("none", "out_of_scope")

        # first character -> candidate lengths (longest first), so most positions are skipped at once
        self._word_lengths = _lengths_by_first_char(self._words)
        self._sub_lengths = _lengths_by_first_char(self._substrings)

        # Schools: (code, name, aliases) -> longest alias first.
        self._schools: list[tuple[str, str]] = []
        self._school_index: dict[str, str] = {}
        for code, name, aliases in schools:
            for alias in {name, *aliases}:
                a = self._norm(alias)
                if len(a) >= 2 and a not in self._school_index:
                    self._schools.append((a, code))
                    self._school_index[a] = code
        self._schools.sort(key=lambda t: (-len(t[0]), t[0]))
        self._school_lengths = sorted({len(a) for a in self._school_index}, reverse=True)

        # Private jieba tokenizer with the rule words and school names as user words.
        self._tok = jieba.Tokenizer()
        base_freq, base_total = _base_dictionary()
        self._tok.FREQ, self._tok.total, self._tok.initialized = dict(base_freq), base_total, True
        user_words = set(self._words) | {a for a, _ in self._schools}
        user_words |= {e.text for es in self._substrings.values() for e in es if not _has_gap(e.text)}
        for w in sorted(user_words):
            if len(w) >= 2 and not w.isascii():
                self._tok.add_word(w)

    @property
    def tokenizer(self) -> jieba.Tokenizer:
        """The router's own jieba tokenizer (its dictionary knows education terms and school names)."""
        return self._tok

    # ---------------------------------------------------------------- loading
    @classmethod
    def from_toml(
        cls, path: str | Path | None = None, schools: Iterable[tuple[str, str, Sequence[str]]] = ()
    ) -> "Router":
        p = Path(path) if path is not None else DEFAULT_RULES
        with open(p, "rb") as f:
            rules = tomllib.load(f)
        return cls(rules, schools)

    @staticmethod
    def _norm(text: str) -> str:
        return unicodedata.normalize("NFKC", str(text)).lower().strip()

    def _add(self, e: _Entry) -> None:
        if not e.text:
            return
        if _has_gap(e.text):
            parts = [p for p in re.split(r"…|\.\.\.", e.text) if p]
            body = f"[^{re.escape(_SENTENCE_END)}]{{0,{self.gap}}}?"
            pattern = re.compile(body.join(re.escape(p) for p in parts))
            self._gapped.append((pattern, parts[0], e))
        elif e.kind == "word":
            self._words.setdefault(e.text, []).append(e)
        else:
            self._substrings.setdefault(e.text, []).append(e)

    # ---------------------------------------------------------------- matching
    def _word_counts(self, text: str) -> dict[str, int]:
        """Rule words found in text, respecting jieba word boundaries."""
        if not text:
            return {}
        tokens = list(self._tok.cut(text, HMM=False))
        n = len(text)
        starts = bytearray(n + 1)  # 1 where a token starts (or text ends)
        tok_id = [0] * n
        pos = 0
        for i, t in enumerate(tokens):
            starts[pos] = 1
            for j in range(pos, pos + len(t)):
                tok_id[j] = i
            pos += len(t)
        starts[n] = 1
        counts: dict[str, int] = {}
        words = self._words
        by_first = self._word_lengths
        reach = 0  # end of the furthest-reaching accepted match so far
        for i in range(n):
            lengths = by_first.get(text[i])
            if lengths is None:
                continue
            for L in lengths:  # longest first
                j = i + L
                if j > n or j <= reach:
                    continue  # past the end, or inside a longer word already found (补课 in 补课费)
                w = text[i:j]
                if w in words:
                    # accepted unless it cuts into a word on both sides (straddles two tokens)
                    if starts[i] or starts[j] or tok_id[i] == tok_id[j - 1]:
                        counts[w] = counts.get(w, 0) + 1
                        reach = j
        return counts

    def _substring_counts(self, text: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        subs = self._substrings
        n = len(text)
        by_first = self._sub_lengths
        for i in range(n):
            lengths = by_first.get(text[i])
            if lengths is None:
                continue
            for L in lengths:
                j = i + L
                if j <= n and text[i:j] in subs:
                    w = text[i:j]
                    counts[w] = counts.get(w, 0) + 1
        return counts

    def _gapped_counts(self, text: str) -> dict[int, int]:
        counts: dict[int, int] = {}
        for idx, (pat, first, _e) in enumerate(self._gapped):
            if first in text:
                k = len(pat.findall(text))
                if k:
                    counts[idx] = k
        return counts

    def _part_matches(self, text: str) -> list[tuple[_Entry, int]]:
        out: list[tuple[_Entry, int]] = []
        for w, k in self._word_counts(text).items():
            out.extend((e, k) for e in self._words[w])
        for w, k in self._substring_counts(text).items():
            out.extend((e, k) for e in self._substrings[w])
        for idx, k in self._gapped_counts(text).items():
            out.append((self._gapped[idx][2], k))
        return out

    def _scan_schools(self, t: str) -> tuple[str | None, str]:
        """(code of the first school named in normalised text t, t with each school name replaced by its
        kind, e.g. 交通路小学 -> 小学, so that words inside a name are not read as topics)."""
        if not self._school_index:
            return None, t
        out: list[str] = []
        first: str | None = None
        i, n = 0, len(t)
        while i < n:
            for L in self._school_lengths:
                a = t[i : i + L]
                if len(a) == L and a in self._school_index:
                    if first is None:
                        first = self._school_index[a]
                    out.append(_school_kind(a))
                    i += L
                    break
            else:
                out.append(t[i])
                i += 1
        return first, "".join(out)

    def find_school(self, text: str) -> str | None:
        return self._scan_schools(self._norm(text or ""))[0]

    # ---------------------------------------------------------------- routing
    def route(self, text: str) -> Decision:
        t = self._norm(text or "")[:_MAX_CHARS]
        school, t = self._scan_schools(t)
        title, _, body = t.partition("\n")
        if not body:
            body_parts = ""
        else:
            body_parts = body

        contrib: dict[tuple[str, str, str], float] = {}
        vetoed: set[str] = set()
        veto_words: list[tuple[str, str]] = []
        for part, is_title in ((title, True), (body_parts, False)):
            if not part:
                continue
            for e, k in self._part_matches(part):
                if e.veto:
                    if e.category not in vetoed:
                        veto_words.append((e.text, e.category))
                    vetoed.add(e.category)
                    continue
                if is_title:
                    factor = self.title_weight
                else:
                    factor = 1.0 + self.repeat_bonus * (min(k, self.max_repeats) - 1)
                key = (e.text, e.category, e.kind)
                contrib[key] = contrib.get(key, 0.0) + e.weight * factor

        scores = {c: 0.0 for c in CATEGORIES}
        for (_w, cat, _k), v in contrib.items():
            scores[cat] += v
        for c in vetoed:
            scores[c] = 0.0
        for c, ctx in self.context.items():
            if ctx and scores[c] > 0 and not any(w in t for w in ctx):
                cut = scores[c] * (1.0 - self.context_factor)
                scores[c] -= cut
                contrib[("(无语境 no context)", c, "context")] = -cut
        for c in CATEGORIES:
            scores[c] = max(0.0, round(scores[c], 6))

        explanation = [
            {"word": w, "category": cat, "weight": round(v, 3)}
            for (w, cat, _k), v in contrib.items()
            if cat not in vetoed and v != 0
        ]
        explanation += [{"word": w, "category": cat, "weight": -999.0} for w, cat in veto_words]
        explanation.sort(key=lambda e: (-abs(e["weight"]), e["word"], e["category"]))

        ranked = sorted(CATEGORIES, key=lambda c: (-scores[c], self.priority[c]))
        top = ranked[0]
        s1, s2 = scores[top], scores[ranked[1]]
        if s1 < self.min_score:
            edu = any(w in t for w in self._edu_words)
            top = self.fallback_edu if edu else self.fallback_none
            confidence = 0.2 if edu else 0.3
            if s1 > 0:
                confidence = 0.2
        else:
            share = s1 / (s1 + s2)
            strength = 1.0 - math.exp(-s1 / 4.0)
            confidence = round(max(0.05, min(1.0, share * strength * 1.0)), 3)
            confidence = max(confidence, 0.05)

        return Decision(
            category=top,
            confidence=float(confidence),
            scores=scores,
            explanation=explanation,
            school=school,
            label=self.labels.get(top, ""),
        )


_SCHOOL_KINDS = ("幼儿园", "幼稚园", "托儿所", "职业技术学院", "职业学院", "职业学校", "技工学校", "小学", "中学",
                 "学校", "学院", "大学", "中专", "职高", "技校", "一中", "二中", "三中", "附中", "附小")


@functools.lru_cache(maxsize=1)
def _base_dictionary() -> tuple[dict[str, int], int]:
    """jieba's main dictionary, loaded once per process (about 0.4 s); each Router copies it before adding
    its own words, so Routers stay independent."""
    tok = jieba.Tokenizer()
    tok.initialize()
    return tok.FREQ, tok.total


def _school_kind(name: str) -> str:
    for k in _SCHOOL_KINDS:
        if name.endswith(k):
            return k
    return "学校"


def _lengths_by_first_char(words) -> dict[str, tuple[int, ...]]:
    out: dict[str, set[int]] = {}
    for w in words:
        out.setdefault(w[0], set()).add(len(w))
    return {c: tuple(sorted(ls, reverse=True)) for c, ls in out.items()}


def _has_gap(s: str) -> bool:
    return any(m in s for m in _GAP_MARKS)
