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
* The main demand ([demand], Router._demand): a request addressed only to another department (请民政局…,
  希望物业…) adds to out_of_scope, one addressed only to the bureau's side (请教育局…) halves it; a school named
  only as a place (幼儿园旁边的加油站) counts less, and so do the education words of a letter whose title speaks
  only of another office's matter. Each step is shown in the explanation in words a clerk reads.
* The highest score wins; equal scores go to the category with the smaller `priority`. With no signal at all
  the message goes to other_edu if it contains a general education word, else out_of_scope, with low
  confidence.
* Where the rules file names a model ([model], see Router.combine), its probabilities are combined with the
  scores; a decision the rules alone would not have taken shows the model's words in the explanation.
"""
from __future__ import annotations

import bisect
import collections
import functools
import itertools
import logging
import math
import os
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Mapping, Sequence


def _import_jieba():
    """jieba, without pkg_resources where nothing else imported it: jieba's _compat imports it (6 MB per process,
    with its vendored pyparsing and packaging) only to open jieba's own files, and opens them by path when the
    import fails."""
    import sys
    if "jieba" in sys.modules or "pkg_resources" in sys.modules:
        import jieba
        return jieba
    sys.modules["pkg_resources"] = None  # makes `import pkg_resources` fail, for jieba's import only
    try:
        import jieba
    finally:
        del sys.modules["pkg_resources"]
    return jieba


jieba = _import_jieba()

from handlers.vocabulary import CATEGORIES  # one source for the category codes
from handlers.messages import nfkc

from .linear import features, known_features, known_line, ngram_keys
from .literals import PHRASE as _PHRASE, WORD as _WORD, Literals
from .normalise import Normaliser

DEFAULT_RULES = Path(__file__).with_name("default_rules.toml")

_GAP_MARKS = ("…", "...")
GROUP_GAP = 6  # 甲…乙 within a group's word: 乙 at most this many characters after 甲, in the same clause
_CHILD_WORDS = ("孩子", "小孩", "儿子", "女儿", "闺女", "娃")  # 我孩子…: the child named, not the writer acting
_ACROSS = "……"  # in an urgent pattern: the parts may be in different sentences of the message
_SENTENCE_END = "。！？!?；;\n"
_SENTENCES = re.compile(f"[{re.escape(_SENTENCE_END)}]+")


_CLAUSE_END = _SENTENCE_END + "，,"


def _only_within(t: str, w: str, spans: Sequence[tuple[int, int]]) -> bool:
    """Whether every place w is written in t lies within one of spans."""
    i = t.find(w)
    while i >= 0:
        if not any(a <= i and i + len(w) <= b for a, b in spans):
            return False
        i = t.find(w, i + 1)
    return True


def _one_sentence(t: str) -> bool:
    return len([c for c in _SENTENCES.split(t) if c.strip()]) <= 1
SHORT_CHARS = 60  # a WeChat-style message: one line of at most this many characters
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
    urgent: bool = False
    urgent_words: tuple[str, ...] = ()
    matters: tuple[dict, ...] = ()  # primary first; a second one = two matters in one message
    lang: str = "zh"
    fixes: tuple[str, ...] = ()  # near-misses read as rule words, e.g. "乱收废≈乱收费"
    # the urgency model's probability (None without one), and rule words it overruled as no danger
    urgent_score: float | None = field(default=None, compare=False)
    urgent_overruled: tuple[str, ...] = field(default=(), compare=False)
    # nothing places the text: no rule word, no education word, and the model unsure (Router.unplaced); the
    # category is then the rules' fallback, not a guess from single characters
    unplaced: bool = False

    def to_dict(self) -> dict:
        return {
            "category": self.category,
            "confidence": round(self.confidence, 3),
            "scores": {k: round(v, 3) for k, v in self.scores.items()},
            "explanation": [dict(e) for e in self.explanation],
            "school": self.school,
            "urgent": self.urgent,
            "urgent_words": list(self.urgent_words),
            "matters": [{"category": m["category"], "score": round(m["score"], 3), "words": list(m["words"])}
                        for m in self.matters],
            "lang": self.lang,
            "fixes": list(self.fixes),
            "urgent_score": None if self.urgent_score is None else round(self.urgent_score, 3),
            "unplaced": self.unplaced,
        }

    def explain(self, limit: int = 8) -> str:
        head = f"→ {self.category}"
        if self.label:
            head += f" ({self.label})"
        head += f"  置信度 confidence {self.confidence:.2f}"
        if self.school:
            head += f"  学校 school {self.school}"
        if self.lang != "zh":
            head += f"  语言 lang {self.lang}"
        lines = [head]
        model = "" if self.urgent_score is None else f" (模型 model {self.urgent_score:.2f})"
        if self.urgent:
            lines.append("紧急 urgent: " + "、".join(self.urgent_words) + model)
        elif self.urgent_overruled:
            lines.append("不紧急 not urgent: " + "、".join(self.urgent_overruled) + model)
        if len(self.matters) > 1:
            lines.append("多个事项 matters: " + "；".join(
                f"{m['category']} {m['score']:.1f} ({'、'.join(m['words'][:3])})" for m in self.matters))
        if self.fixes:
            lines.append("纠错 read as: " + "，".join(self.fixes))
        if self.unplaced:
            lines.append("无依据 unplaced: 无关键词，模型也无把握 (no rule word, model unsure)")
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
        self._by_priority: list[str] | None = None  # (built at the first ranking: priority may be set after)
        # context: the category's score is multiplied by context_factor unless one of these is in the text
        self.context = {
            c: [self._norm(w) for w in cats.get(c, {}).get("context", [])] for c in CATEGORIES
        }

        # damped_by: the category's score is multiplied by damp_factor where one of these is in the text (落户
        # and 社保 are out of scope, unless the person asks about 入学 with them: then they are its conditions)
        self.damped = {
            c: ([self._norm(w) for w in cats[c]["damped_by"]], float(cats[c].get("damp_factor", 0.5)))
            for c in CATEGORIES if cats.get(c, {}).get("damped_by")
        }

        self._words: dict[str, list[_Entry]] = {}  # boundary-checked
        self._substrings: dict[str, list[_Entry]] = {}  # raw substrings (phrases, exclusions)
        self._gapped: list[tuple[re.Pattern, str, _Entry]] = []  # A…B
        self._gapped_last: list[str] = []  # B of each
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

        # Who the citizen asks to act (see _demand): a request sentence naming only another authority (请民政局…)
        # is out of scope; one naming only the education side (请教育局…) keeps a letter with the bureau.
        dm = rules.get("demand", {})
        self._demand_other = tuple(self._norm(w) for w in dm.get("other", []))
        self._demand_edu = tuple(self._norm(w) for w in dm.get("education", []))
        self._demand_neutral = tuple(self._norm(w) for w in dm.get("neutral", []))
        self._demand_re = None
        if self._demand_other or self._demand_edu:
            markers = "|".join(re.escape(self._norm(m)) for m in sorted(dm.get("markers", ["请"]), key=len, reverse=True))
            lead = "|".join(re.escape(self._norm(m)) for m in sorted(dm.get("lead", []), key=len, reverse=True))
            ends = re.escape(_SENTENCE_END + "，,：:")
            # a request opens its clause (，请交警部门…), perhaps after a few words (特此恳请, 我们强烈要求)
            self._demand_re = re.compile(
                f"(?:^|(?<=[{ends}]))\\s*(?:{lead or '(?!)'})?(?:{markers})(?!问)([^{ends}]{{0,{int(dm.get('reach', 14))}}})",
                re.M)
        # The same in English, clause by clause: a clause that asks (please, should, must …) and names only
        # another authority ("the traffic police should give tickets", "Bus company please fix") is out of scope.
        en = dm.get("english", {})
        self._demand_en_marker = _english_union(en.get("markers", []), inflect=False)
        self._demand_en_other = _english_union(en.get("other", []), inflect=True)
        self._demand_en_edu = _english_union(en.get("education", []), inflect=True)
        self.demand_weight = float(dm.get("weight", 4.0))
        self.demand_damp = float(dm.get("education_damp", 0.5))
        self.title_damp = float(dm.get("title_damp", 1.0))
        # a school or kindergarten named only as where something is (幼儿园旁边的加油站, 离学校只有五十米)
        self._place_after = tuple(self._norm(w) for w in dm.get("place_after", []))
        self._place_before = tuple(self._norm(w) for w in dm.get("place_before", []))
        self._place_words = frozenset(self._norm(w) for w in dm.get("place_words", []))
        self.place_factor = float(dm.get("place_factor", 1.0))

        fb = rules.get("fallback", {})
        self._edu_words = [self._norm(w) for w in fb.get("education_words", [])]
        self.fallback_edu = fb.get("education", "other_edu")
        self.fallback_none = fb.get("none", "out_of_scope")

        # A…B patterns by their first part, and first parts by their first character: a text is checked only
        # for the patterns that can start in it
        self._gapped_by_first: dict[str, list[int]] = {}
        for idx, (_pat, first, _e) in enumerate(self._gapped):
            self._gapped_by_first.setdefault(first, []).append(idx)
        self._gapped_by_char: dict[str, list[str]] = {}
        for first in self._gapped_by_first:
            self._gapped_by_char.setdefault(first[0], []).append(first)
        # each first part's last parts: a first part is looked at only where one of them occurs too
        self._gapped_lasts_of = {first: frozenset(self._gapped_last[i] for i in idxs)
                                 for first, idxs in self._gapped_by_first.items()}


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
        # first character -> lengths of the names starting with it (longest first); a text is looked at only where
        # one of those characters stands (one regex search between them), not at every position
        self._school_first = _lengths_by_first_char(self._school_index)
        self._school_starts = re.compile("[" + "".join(re.escape(c) for c in sorted(self._school_first)) + "]") \
            if self._school_first else None

        # Private jieba tokenizer with the rule words and school names as user words.
        self._tok = jieba.Tokenizer()
        base_freq, base_total = _base_dictionary()
        self._tok.FREQ, self._tok.total, self._tok.initialized = _Overlay(base_freq), base_total, True
        user_words = set(self._words) | {a for a, _ in self._schools}
        user_words |= {e.text for es in self._substrings.values() for e in es if not _has_gap(e.text)}
        for w in sorted(user_words):
            if len(w) >= 2 and not w.isascii():
                self._tok.add_word(w)

        # English keywords: one alternation, longest first; `stem*` matches any ending.
        self._english: list[tuple[re.Pattern, _Entry]] = []
        for code in CATEGORIES:
            for w, weight in cats.get(code, {}).get("english", {}).items():
                self._english.append((_english_pattern(w, inflect=True),
                                      _Entry(self._norm(w), code, float(weight), kind="english")))
        self._english_any = _english_union((e.text for _p, e in self._english), inflect=True)
        # a hit is compared only with the words whose beginning it starts with (the list's order kept)
        self._english_of = _by_first(w for code in CATEGORIES for w in cats.get(code, {}).get("english", {}))

        # Urgency: words in any category's message that call for a 1-working-day answer.
        urgent = rules.get("urgent", {})
        # {name} in a 甲…乙 pattern stands for any word of the group `name` ({child}…没回宿舍). A group's word may
        # itself name groups listed before it, and 甲…乙 in it is a few characters within a clause: a refusal of school
        # is a way of refusing and a way of saying school ({unwilling}…{school}: 说啥也不肯进校门), not a list of each pair
        groups: dict[str, str] = {}

        def part(p: str) -> str:
            return "".join(groups[x[1:-1]] if x[1:-1] in groups and x.startswith("{") else re.escape(x)
                           for x in re.split(r"(\{[^}]*\})", p) if x)

        within = f"[^{re.escape(_SENTENCE_END)},，、]{{0,{GROUP_GAP}}}?"
        not_after = urgent.get("group_not_after", {})
        for k, v in urgent.get("groups", {}).items():
            alts = [within.join(part(self._norm(q)) for q in re.split(r"…|\.\.\.", x) if q)
                    for x in sorted(v, key=len, reverse=True)]
            # 把自己关在: none of the group's words right after one of `group_not_after` (fixed widths: one look-behind each)
            behind = "".join(f"(?<!{re.escape(self._norm(w))})" for w in not_after.get(k, ()))
            groups[self._norm(k)] = behind + "(?:" + "|".join(alts) + ")"
        # each group as a pattern, for what reads the words a pattern found (the hotline for a refusal of school)
        self.urgent_groups = {k: re.compile(g) for k, g in groups.items()}

        across = int(urgent.get("across_gap", 60))

        def gap(w: str) -> str:
            if _ACROSS in w or "......" in w:  # A……B (NFKC spells it ......): B later in the message, other sentences or lines between (罚站走廊\n不去上学了)
                return f"[\\s\\S]{{0,{across}}}?"
            # a pattern naming a group stays within one clause: 给孩子报的班,老板联系不上 is no missing child
            ends = _SENTENCE_END + (",、" if "{" in w else "")
            return f"[^{re.escape(ends)}]{{0,{self.gap}}}?"

        words = [self._norm(w) for w in urgent.get("words", [])]
        self._urgent_plain = [w for w in words if not _has_gap(w) and "{" not in w]
        def pattern(w: str) -> re.Pattern:
            # the last piece is a group of its own: a denial right before it denies the match (校车司机从不喝酒)
            ps = [part(p) for p in re.split(r"…|\.\.\.", w) if p]
            return _Lazy(gap(w).join(ps[:-1] + [f"({ps[-1]})"]) if len(ps) > 1 else ps[0])

        self._urgent_gapped = [(pattern(w), w) for w in words if _has_gap(w) or "{" in w]
        # A……B whose A the writer's family did (我骂了他几句，他就不想上学了): no harm at school (_family_did)
        self._urgent_across = frozenset(i for i, (_p, w) in enumerate(self._urgent_gapped)
                                        if _ACROSS in w or "......" in w)
        self._family = tuple(self._norm(w) for w in urgent.get("family", []))
        self._at_school = tuple(self._norm(w) for w in urgent.get("at_school", []))
        # what each pattern cannot match without (its longest literal piece, "" if none): most are skipped by `in`
        self._urgent_needs = [max((x for p in re.split(r"…|\.\.\.", w) if p for x in re.split(r"(\{[^}]*\})", p)
                                   if x and not (x.startswith("{") and x[1:-1] in groups)), key=len, default="")
                              for _pat, w in self._urgent_gapped]
        # (a pattern is tried where its literal occurs, see _urgent; those with none always)
        self._urgent_needs_always = [i for i, needs in enumerate(self._urgent_needs) if not needs]
        self._urgent_rank = {w: i for i, w in reversed(list(enumerate(self._urgent_plain)))}
        # 没有受伤, 未骨折, 不是被打: a danger denied right before its word is no danger
        self._urgent_denied = tuple(self._norm(w) for w in urgent.get("denied_by", []))
        # fire drill, 火灾演练: a danger's word followed by one of these is a practice, not a danger
        self._urgent_practice = tuple(self._norm(w) for w in urgent.get("practice_by", []))
        self._missing = tuple(self._norm(w) for w in urgent.get("missing", []))
        self._things = tuple(self._norm(w) for w in urgent.get("things", []))
        self._urgent_english = [(_english_pattern(w), self._norm(w)) for w in urgent.get("english", [])]
        self._urgent_english_any = _english_union(w for _p, w in self._urgent_english)
        self._urgent_english_of = _by_first(urgent.get("english", []), inflect=False)

        # Two matters in one message (see _matters).
        m = rules.get("matters", {})
        self.matter_min = float(m.get("min_score", 3.0))
        self.matter_ratio = float(m.get("ratio", 0.5))
        self.matter_strong = float(m.get("strong", 6.0))
        self._connectives = re.compile("|".join(re.escape(self._norm(c)) for c in m.get(
            "connectives", ["还有", "另外", "此外", "再有就是", "再就是", "顺便", "also", "another thing"])))
        self._absorbs = {c: set(v) for c, v in m.get("absorbs", {}).items()}
        self._subjects = set(m.get("subjects", ["preschool", "tutoring", "vocational"]))

        # Near-miss vocabulary: every word a rule or a context list is written in.
        vocab = set(self._words) | set(self._edu_words)  # not phrases: 都小学 (a name) is no slip of 读小学
        # and the urgency words and the written pieces of its patterns, of three characters or more (离家初走≈离家出走,
        # 被欺付≈被欺负): two-character ones such as 倒了, 要砍, 豁了 would read 心意到了, 要看, 不想活了 as dangers
        # (not the words that also tell of lost things, `missing`: 招不到学生 is no 找不到)
        vocab |= {x for w in words for p in re.split(r"…|\.\.\.", w) for x in re.split(r"\{[^}]*\}", p)
                  if len(x) >= 3 and x not in self._missing}
        vocab |= {w for ws in self.context.values() for w in ws}
        self._cut = _BlockCut(self._tok)
        self._normalise = Normaliser(vocab, lambda w: self._cut.freq(w) >= _COMMON_WORD_FREQ,
                                     {self._norm(k): self._norm(v) for k, v in rules.get("regional", {}).items()})
        self.model = None  # a statistical model consulted where the rules are unsure (set by from_toml)
        self.model_settings = rules.get("model", {})
        # Urgency model (labels calm, urgent), set by from_toml: it finds dangers told in words no rule has,
        # and overrules rule words in a message it is sure is calm (孩子丢了一只手套, 上个月已经处理好了).
        self.urgency_model = None
        self._matches_cache = None  # see _matches
        self._lines_cache = None  # see _line_counts
        self._cores: dict[str, tuple] = {}  # see _core: text -> (model, urgency model, the decision's core)
        self._joint = None  # (model, urgency model, feature -> (its row in each, or None), ...), see _joint_table
        self.urgent_take = float(urgent.get("model_at_least", 0.7))
        self.urgent_take_min_chars = int(urgent.get("model_min_chars", 0))
        self.urgent_veto = float(urgent.get("overrule_below", 0.1))
        # a settled past event denies the whole message (see _settled)
        self._settled_by = tuple(self._norm(w) for w in urgent.get("settled_by", []))
        self._past_by = tuple(self._norm(w) for w in urgent.get("past_by", []))
        self._ongoing_by = tuple(self._norm(w) for w in urgent.get("ongoing_by", []))
        self._overrulable = tuple(self._norm(w) for w in urgent.get("overrulable", []))
        self._never_overruled = tuple(self._norm(w) for w in urgent.get("never_overruled", []))
        # news from somewhere else (外省, 新闻说, in another country), with no child of the writer's in it: no danger here
        self._elsewhere_by = tuple(self._norm(w) for w in urgent.get("elsewhere_by", []))
        self._ours_by = tuple(self._norm(w) for w in urgent.get("ours_by", []))
        # heard of (新闻, 网上说, 听说) and, a few characters on in the sentence, somewhere not the writer's where something
        # happened (隔壁市有, 外省一所): overrules the words of its own clause only (see _heard_spans)
        self._heard_by = tuple(self._norm(w) for w in urgent.get("heard_by", []))
        where = [self._norm(w) for w in urgent.get("heard_where", [])]
        self._heard_elsewhere = re.compile(
            f"(?:{'|'.join(map(re.escape, self._heard_by))})[^{re.escape(_SENTENCE_END)}]{{0,8}}?"
            f"(?:{'|'.join(map(re.escape, where))})(?=有|一|某)") if self._heard_by and where else None
        # praise of help already given (表扬…送医院): a danger met, not one now, unless it goes on (还在, 但是)
        self._praised_by = tuple(self._norm(w) for w in urgent.get("praised_by", []))
        self._praised_unless = tuple(self._norm(w) for w in urgent.get("praised_unless", []))
        self._who = [self._norm(w) for w in urgent.get("groups", {}).get("child", [])] + [
            "老师", "教师", "班主任", "学生", "同学", "学校", "家长", "我家", "我们", "孩子说", "今天", "昨天"]

        # Every literal the rules look for, found in one pass (handlers/routing/literals.py): rule words and phrases
        # with their positions; the rest (urgent words and what their patterns need, A…B's parts, the demand's,
        # the settled and context words) by whether they occur
        roles: dict[str, int] = {}
        for w in self._words:
            roles[w] = roles.get(w, 0) | _WORD
        for w in self._substrings:
            roles[w] = roles.get(w, 0) | _PHRASE
        if any(c in w for w in [*roles, *(e.text for _p, _f, e in self._gapped)] for c in "\r\n"):
            raise ValueError("a rule word holds a line break")  # (a body's matches are its lines': _matches)
        self._urgent_mult = dict(collections.Counter(self._urgent_plain))
        self._urgent_by_needs: dict[str, list[int]] = {}
        for i, needs in enumerate(self._urgent_needs):
            if needs:
                self._urgent_by_needs.setdefault(needs, []).append(i)
        self._literals = Literals(
            [*self._gapped_by_first, *self._gapped_last, *self._urgent_plain, *self._urgent_by_needs,
             *self._settled_by, *self._past_by, *self._ongoing_by, *self._elsewhere_by, *self._ours_by, *self._heard_by,
             *self._praised_by, *self._praised_unless, *(w for ws in self.context.values() for w in ws), *(w for ws, _f in self.damped.values() for w in ws),
             *self._edu_words, *self._demand_other, *self._demand_edu, *self._demand_neutral], roles)
        self._context_any = {c: _AnyOf(ws) for c, ws in self.context.items()}
        self._edu_any = _AnyOf(self._edu_words)
        self._settled_any, self._past_any, self._ongoing_any = (
            _AnyOf(self._settled_by), _AnyOf(self._past_by), _AnyOf(self._ongoing_by))
        self._elsewhere_any, self._ours_any = _AnyOf(self._elsewhere_by), _AnyOf(self._ours_by)
        self._heard_any = _AnyOf(self._heard_by)
        self._praised_any, self._praised_unless_any = _AnyOf(self._praised_by), _AnyOf(self._praised_unless)
        self._demand_here = (_InOrder(self._demand_other), _InOrder(self._demand_edu), _InOrder(self._demand_neutral))

    @property
    def tokenizer(self) -> jieba.Tokenizer:
        """The router's own jieba tokenizer (its dictionary knows education terms and school names)."""
        return self._tok

    # ---------------------------------------------------------------- loading
    @classmethod
    def from_toml(
        cls, path: str | Path | None = None, schools: Iterable[tuple[str, str, Sequence[str]]] = (),
        train: bool = True,
    ) -> "Router":
        """The Router of a rules file, with the model its [model] section names (unless train=False)."""
        p = Path(path) if path is not None else DEFAULT_RULES
        with open(p, "rb") as f:
            rules = tomllib.load(f)
        router = cls(rules, schools)
        ms = rules.get("model", {})

        def beside(name: str) -> Path:
            # next to the rules file; a copy of the shipped rules elsewhere uses the shipped file
            here = Path(p).parent / name
            return here if here.exists() else DEFAULT_RULES.parent / name

        if train and ms.get("weights"):
            from .linear import LinearModel
            router.model = LinearModel.load(beside(ms["weights"]))
        elif train and ms.get("training"):
            router.train(beside(ms["training"]))
        um = rules.get("urgent", {}).get("model")
        if train and um:
            from .linear import LinearModel
            router.urgency_model = LinearModel.load(beside(um))
        return router

    def warm(self) -> "Router":
        """Build now what the first routed message would build (the two models' joint table, OpenCC's key set:
        ~70 ms), so a service pays it at start-up, not on a citizen's first message."""
        self.route("孩子在學校被同学欺负了，老师不管，希望教育局尽快处理")
        return self

    def compile_all(self) -> "Router":
        """Compile every pattern the rules make (each is otherwise compiled when a text first reaches it): a rules
        file whose pattern does not load fails here, not on the message that first needs it."""
        for pat in [*(p for p, _f, _e in self._gapped), *(p for p, _w in self._urgent_gapped),
                    *(p for p, _e in self._english), *(p for p, _w in self._urgent_english)]:
            pat.compiled
        for union in (self._english_any, self._urgent_english_any, self._demand_en_marker, self._demand_en_other,
                      self._demand_en_edu):
            if isinstance(union, _EnglishUnion):
                union.compile_all()
            elif union is not None:
                union.compiled
        return self

    def train(self, path: str | Path) -> None:
        """Train a naive Bayes model on a labelled CSV at start-up (the older, lighter alternative to weights)."""
        from .model import read_training, train
        priors = {c: float(v) for c, v in self.model_settings.get("priors", {}).items()}
        self.model = train(read_training(path), CATEGORIES, self._tok, self.prepare, priors)

    def prepare(self, text: str) -> str:
        """The text as the rules see it: normalised, near-misses read as rule words, school names as kinds."""
        return self._scan_schools(self._normalise(str(text or "")[:_MAX_CHARS]).text)[1]

    @staticmethod
    def _norm(text: str) -> str:
        return nfkc(str(text)).lower().strip()

    def _add(self, e: _Entry) -> None:
        if not e.text:
            return
        if _has_gap(e.text):
            parts = [p for p in re.split(r"…|\.\.\.", e.text) if p]
            body = f"[^{re.escape(_SENTENCE_END)}]{{0,{self.gap}}}?"
            pattern = _Lazy(body.join(re.escape(p) for p in parts))
            self._gapped.append((pattern, parts[0], e))
            self._gapped_last.append(parts[-1])  # a match needs it too: a pattern is tried only where both are
        elif e.kind == "word":
            self._words.setdefault(e.text, []).append(e)
        else:
            self._substrings.setdefault(e.text, []).append(e)

    # ---------------------------------------------------------------- matching
    def _word_counts(self, text: str) -> dict[str, int]:
        """Rule words found in text, respecting jieba word boundaries."""
        if not text:
            return {}
        # the rule words' occurrences, by start, longest first at a start (as a scan of each character met them)
        found = [(i, i - negl, w) for i, negl, w, roles in self._literals.scan(text)[0] if roles & _WORD]
        if not found:
            return {}
        # where each token starts, and the text's end (the tokens are the text, cut)
        bounds = list(itertools.accumulate(map(len, self._cut.cut(text)), initial=0))
        starts = set(bounds)
        counts: dict[str, int] = {}
        words = self._words
        reach = 0  # end of the furthest-reaching accepted match so far
        for i, j, w in found:
            if j <= reach:
                continue  # inside a longer word already found (补课 in 补课费)
            # accepted unless it cuts into a word on both sides (straddles two tokens): i and j - 1 in
            # one token when no token starts after i up to j - 1
            k = bisect.bisect_right(bounds, i)
            if i in starts or k == bisect.bisect_right(bounds, j - 1) \
                    or (j in starts and text[bounds[k - 1]:bounds[k]] not in words):
                # (one that starts inside a token and runs to the next may not take its characters from a
                # rule word: 学前 is not in 转学|前)
                counts[w] = counts.get(w, 0) + 1
                reach = j
        return counts

    def _substring_counts(self, text: str) -> dict[str, int]:
        counts: dict[str, int] = {}
        for _i, _negl, w, roles in self._literals.scan(text)[0]:
            if roles & _PHRASE:
                counts[w] = counts.get(w, 0) + 1
        return counts

    def _gapped_counts(self, text: str) -> dict[int, int]:
        counts: dict[int, int] = {}
        by_char = self._gapped_by_char
        present = self._literals.scan(text)[1]
        if present.isdisjoint(self._gapped_by_first):
            return counts
        # (the same set, built in the same order as before: its order is the order the patterns' counts come in)
        firsts = {f for c in set(text) for f in by_char.get(c, ()) if f in present}
        lasts_of = self._gapped_lasts_of
        for first in firsts:
            if lasts_of[first].isdisjoint(present):
                continue
            for idx in self._gapped_by_first[first]:
                if self._gapped_last[idx] not in present:
                    continue
                k = len(self._gapped[idx][0].findall(text))
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

    def _matches(self, part: str) -> tuple[tuple[_Entry, int], ...]:
        """Every rule entry matched in one part (title or body) of a prepared text, with its count: a pure function
        of the part, remembered for the most recent ones (a supplement routed alone and then as the draft's
        next line, a title routed again as the draft grows)."""
        cache = self._matches_cache
        if cache is None:
            cache = self._matches_cache = functools.lru_cache(maxsize=2048)(self._part_and_english)
        return cache(part)

    def _part_and_english(self, part: str) -> tuple[tuple[_Entry, int], ...]:
        if "\n" not in part:
            return tuple(self._part_matches(part) + self._english_matches(part))
        # A body of several lines (a draft's parts): no rule literal holds a line break (checked in __init__) and no
        # A…B's gap crosses one, so its words and phrases are its lines', added up in order, each line's counts
        # remembered (the lines were routed before, alone or in the shorter draft); A…B, rare, is read on the whole
        # part where a line has one (the order its counts come in), English on the whole too (day\ncare).
        words: dict[str, int] = {}
        subs: dict[str, int] = {}
        gapped = False
        line_counts = self._line_counts
        for line in part.split("\n"):
            w, s, g = line_counts(line)
            for x, k in w.items():
                words[x] = words.get(x, 0) + k
            for x, k in s.items():
                subs[x] = subs.get(x, 0) + k
            gapped = gapped or g
        out = [(e, k) for x, k in words.items() for e in self._words[x]]
        out += [(e, k) for x, k in subs.items() for e in self._substrings[x]]
        if gapped:
            out += [(self._gapped[idx][2], k) for idx, k in self._gapped_counts(part).items()]
        return tuple(out + self._english_matches(part))

    def _line_counts(self, line: str) -> tuple[dict[str, int], dict[str, int], bool]:
        """(rule words' counts, phrases' counts, whether an A…B matched) of one line: remembered, as _matches."""
        cache = self._lines_cache
        if cache is None:
            cache = self._lines_cache = functools.lru_cache(maxsize=2048)(
                lambda x: (self._word_counts(x), self._substring_counts(x), bool(self._gapped_counts(x))))
        return cache(line)

    def _scan_schools(self, t: str) -> tuple[str | None, str]:
        """(code of the first school named in normalised text t, t with each school name replaced by its
        kind, e.g. 交通路小学 -> 小学, so that words inside a name are not read as topics). Left to right, the
        longest name at each position, as the names are read."""
        starts = self._school_starts
        if starts is None:
            return None, t
        index, by_first = self._school_index, self._school_first
        out: list[str] = []
        first: str | None = None
        last = pos = 0
        search = starts.search
        while (m := search(t, pos)) is not None:
            i = m.start()
            for L in by_first[t[i]]:
                a = t[i:i + L]
                if len(a) == L and a in index:
                    if first is None:
                        first = index[a]
                    out.append(t[last:i])
                    out.append(_school_kind(a))
                    last = pos = i + L
                    break
            else:
                pos = i + 1
        if not out:
            return None, t
        out.append(t[last:])
        return first, "".join(out)

    def find_school(self, text: str) -> str | None:
        return self._scan_schools(self._norm(text or ""))[0]

    # ---------------------------------------------------------------- routing
    def _english_matches(self, text: str) -> list[tuple[_Entry, int]]:
        if self._english_any is None or not _ASCII_WORD.search(text):
            return []
        found: dict[int, int] = {}
        for m in self._english_any.finditer(text):
            hit = m.group(0)
            # one hit counts once per category, by its strongest entry (fee, fees and fee* name one word)
            best: dict[str, int] = {}
            english = self._english
            for idx in self._english_of(hit):
                pat, e = english[idx]
                if pat.fullmatch(hit) and (e.category not in best or e.weight > english[best[e.category]][1].weight):
                    best[e.category] = idx
            for idx in best.values():
                found[idx] = found.get(idx, 0) + 1
        return [(self._english[idx][1], k) for idx, k in found.items()]

    def _score(self, t: str, whole: str | None = None):
        """Scores of every category for normalised text t, with each word's contribution. The `context` words
        are looked for in `whole` (the whole message, when t is a part of it)."""
        whole = t if whole is None else whole
        title, _, body = t.partition("\n")
        contrib: dict[tuple[str, str, str], float] = {}
        vetoed: set[str] = set()
        veto_words: list[tuple[str, str]] = []
        for part, is_title in ((title, True), (body, False)):
            if not part:
                continue
            for e, k in self._matches(part):
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
        english_edu = None  # asked where a category with context words scored (few do)
        present = self._literals.scan(whole)[1]  # the literals in the whole message
        context_any = self._context_any
        for c, ctx in self.context.items():
            if not (ctx and scores[c] > 0):
                continue
            if english_edu is None:
                # (every word of _ENGLISH_EDU has two letters in a row: a text with none cannot match it)
                english_edu = _ASCII_WORD.search(whole) is not None and _ENGLISH_EDU.search(whole) is not None
            if not english_edu and not context_any[c].found_in(present):
                cut = scores[c] * (1.0 - self.context_factor)
                scores[c] -= cut
                contrib[("(无语境 no context)", c, "context")] = -cut
        for c, (words, factor) in self.damped.items():
            hit = next((w for w in words if not w or w in present), None) if scores[c] > 0 else None
            if hit is not None:
                cut = scores[c] * (1.0 - factor)
                scores[c] -= cut
                contrib[(f"(降权 damped: {hit})", c, "damped")] = -cut
        _rounded(scores)
        return scores, contrib, vetoed, veto_words

    def _demand(self, t: str, scores: dict[str, float], contrib: dict) -> str | None:
        """The main demand, in place on the scores of normalised text t, each step shown as evidence:
        * the request names only another authority (请民政局核实, 希望物业整改): out_of_scope gains `weight`;
          only the education side (请教育局查处, 请学校整改): out_of_scope counts `education_damp` times;
        * a school or kindergarten named only as a place (幼儿园旁边的加油站, 离学校五十米): its word counts
          `place_factor` times;
        * a letter's title (its main demand) speaks only of another office's matter (物业费, 公积金) while the
          education words are all in the body (孩子上学路上…): the education offices count `title_damp` times.
        Returns who the request is addressed to: "other", "education" or None (both, neither)."""
        oos = self.fallback_none
        addressed = None  # "other": the request names only another authority; "education": only the bureau's side
        if self._demand_re is not None or self._demand_en_marker is not None:
            other: list[str] = []
            edu: list[str] = []
            said = said_edu = ""  # the first request naming each side, as written
            # only the words that occur in the text can be in a span of it (in the lists' order)
            present = self._literals.scan(t)[1]
            other_here, edu_here, neutral_here = (self._demand_here[0].found_in(present),
                                                  self._demand_here[1].found_in(present),
                                                  self._demand_here[2].found_in(present))
            for m in (self._demand_re.finditer(t) if self._demand_re is not None else ()):
                span = self._addressee_span(m.group(1), neutral_here)
                found = [w for w in other_here if w in span]
                found_edu = [w for w in edu_here if w in span]
                other += [w for w in found if w not in other]
                edu += [w for w in found_edu if w not in edu]
                said = said or (m.group(0).strip() if found else "")
                said_edu = said_edu or (m.group(0).strip() if found_edu else "")
            if self._demand_en_marker is not None and _ASCII_WORD.search(t):
                for clause in _ENGLISH_CLAUSE.split(t):
                    if not self._demand_en_marker.search(clause):
                        continue
                    found = list(dict.fromkeys(m.group(0) for m in self._demand_en_other.finditer(clause))) \
                        if self._demand_en_other is not None else []
                    found_edu = list(dict.fromkeys(m.group(0) for m in self._demand_en_edu.finditer(clause))) \
                        if self._demand_en_edu is not None else []
                    other += [w for w in found if w not in other]
                    edu += [w for w in found_edu if w not in edu]
                    said = said or (clause.strip()[:60] if found else "")
                    said_edu = said_edu or (clause.strip()[:60] if found_edu else "")
            addressed = "other" if other and not edu else "education" if edu and not other else None
            if addressed == "other":
                scores[oos] += self.demand_weight
                contrib[(f"诉求“{said}”向其他部门提出，不属教育部门职责", oos, "demand")] = self.demand_weight
            elif addressed == "education" and scores[oos] > 0:
                cut = scores[oos] * (1.0 - self.demand_damp)
                scores[oos] -= cut
                contrib[(f"诉求“{said_edu}”向教育部门提出", oos, "demand")] = -cut
        if self.place_factor < 1.0:
            for (w, c, kind), v in list(contrib.items()):
                if v > 0 and c != oos and kind in ("word", "phrase") and w in self._place_words and self._only_a_place(t, w):
                    cut = v * (1.0 - self.place_factor)
                    scores[c] -= cut
                    contrib[(f"{w}只是地点（在其旁边、附近）", c, "place")] = -cut
        title, nl, body = t.partition("\n")
        if self.title_damp < 1.0 and nl and body.strip():
            hits = [e for e, _k in self._matches(title) if e.weight > 0 and not e.veto and e.kind != "english"]
            if hits and all(e.category == oos for e in hits) and not any(w in title for w in self._edu_words):
                said = list(dict.fromkeys(e.text for e in hits))[:2]
                for c in CATEGORIES:
                    if c != oos and scores[c] > 0:
                        cut = scores[c] * (1.0 - self.title_damp)
                        scores[c] -= cut
                        contrib[(f"标题只谈{'、'.join(said)}，教育词只在正文", c, "title")] = -cut
        _rounded(scores)
        return addressed

    def _addressee_span(self, span: str, neutral: Sequence[str] | None = None) -> str:
        """The part of a request that can name who is asked: empty when a neutral addressee comes first
        (请相关部门督促学校…: 学校 is what is to be done, the asked are 相关部门). `neutral`: the neutral words that
        can be in it (those in the whole text), by default all."""
        neutral = self._demand_neutral if neutral is None else neutral
        cut = min((i for i in (span.find(w) for w in neutral) if i >= 0), default=-1)
        return span if cut < 0 else span[:cut]

    def _only_a_place(self, t: str, w: str) -> bool:
        """Every occurrence of w in t names where something is: 幼儿园旁边, 学校附近的, 离小学只有."""
        i = t.find(w)
        if i < 0:
            return False
        while i >= 0:
            after = t[i + len(w):i + len(w) + 4].lstrip("的")
            before = t[max(0, i - 3):i]
            if not (after.startswith(self._place_after) or before.endswith(self._place_before)):
                return False
            i = t.find(w, i + 1)
        return True

    def _rank(self, scores: dict[str, float]) -> list[str]:
        # by score, highest first, then priority: a stable sort by score of the categories in priority order
        by_priority = self._by_priority
        if by_priority is None:
            by_priority = self._by_priority = sorted(CATEGORIES, key=self.priority.__getitem__)
        return sorted(by_priority, key=scores.__getitem__, reverse=True)

    def rules_decision(self, text: str) -> dict:
        """What the rules alone make of a text: its prepared form, scores, the winner and the evidence."""
        raw = str(text or "")[:_MAX_CHARS]
        norm = self._normalise(raw)
        school, t = self._scan_schools(norm.text)
        scores, contrib, vetoed, veto_words = self._score(t)
        demand = self._demand(t, scores, contrib)
        ranked = self._rank(scores)
        top = ranked[0]
        s1, s2 = scores[top], scores[ranked[1]]
        if s1 < self.min_score:
            edu = self._edu_any.found_in(self._literals.scan(t)[1])
            top = self.fallback_edu if edu else self.fallback_none
            confidence = 0.2 if edu or s1 > 0 else 0.3
        else:
            share = s1 / (s1 + s2)
            strength = 1.0 - math.exp(-s1 / 4.0)
            confidence = round(max(0.05, min(1.0, share * strength)), 3)
        short = "\n" not in raw.strip() and len(raw.strip()) <= SHORT_CHARS
        return {"t": t, "norm": norm, "short": short, "school": school, "scores": scores, "contrib": contrib, "vetoed": vetoed,
                "veto_words": veto_words, "top": top, "confidence": confidence, "s1": s1, "demand": demand}

    # cores kept for route() after category(): a supplement checked as another matter, then (answered 1) routed
    # as the new message's text; a few KB each, the oldest dropped first
    CORES = 64

    def _core(self, text: str, keep: bool) -> tuple:
        """What both category() and route() decide of a text: (the rules' decision, the models' known features,
        the text's features where a model is not linear, the category, the confidence, the model's words). Kept
        (keep=True, for category()) until route() of the same text takes it, so a text checked and then routed
        runs the rules and the models once; taken by route(), so no two Decisions share its dicts. A model
        swapped in meanwhile makes it stale: not used then."""
        m, um = self.model, self.urgency_model
        kept = self._cores.get(text) if keep else self._cores.pop(text, None)
        if kept is not None and kept[0] is m and kept[1] is um:
            return kept[2]
        r = self.rules_decision(text)
        t = r["t"]
        top, confidence, why, unplaced = r["top"], r["confidence"], [], False
        # (the category model's features, the urgency model's), one look-up each; the text's own features only
        # where a model is not linear
        known_by = self._known_in(t)
        feats = () if known_by is not None or (m is None and um is None) else features(t, self._cut)
        if m is not None:
            probs, known = m.predict_known(*known_by[0]) if known_by else m.predict_features(feats)
            top, confidence, why = self.combine(r, probs, known, m, self.model_settings)
            unplaced = self.unplaced(r, probs, self.model_settings)
        core = (r, known_by, feats, top, confidence, why, unplaced)
        if keep:
            cores = self._cores
            if len(cores) >= self.CORES:
                cores.pop(next(iter(cores)), None)
            cores[text] = (m, um, core)
        return core

    def category(self, text: str) -> tuple[str, float]:
        """(category, confidence) of route(text), exactly, without what only a whole decision needs (the urgency,
        the matters, the evidence): what the another-matter check reads of a supplement."""
        _r, _known_by, _feats, top, confidence, _why, _unplaced = self._core(text, keep=True)
        return top, float(confidence)

    def route(self, text: str) -> Decision:
        r, known_by, feats, top, confidence, why, unplaced = self._core(text, keep=False)
        t, norm, scores, contrib, vetoed = r["t"], r["norm"], r["scores"], r["contrib"], r["vetoed"]
        read_as = {meant: f"{seen}≈{meant}" for seen, meant in norm.fixes}

        def shown(word: str) -> str:
            for meant, label in read_as.items():
                if meant in word:
                    return word.replace(meant, label)
            return word

        explanation = [
            {"word": shown(w), "category": cat, "weight": round(v, 3)}
            for (w, cat, _k), v in contrib.items()
            if cat not in vetoed and v != 0
        ]
        explanation += [{"word": w, "category": cat, "weight": -999.0} for w, cat in r["veto_words"]]
        explanation += [{"word": f"模型 model: {w}", "category": top, "weight": v} for w, v in why]
        explanation.sort(key=lambda e: (-abs(e["weight"]), e["word"], e["category"]))

        urgent_words, urgent_score, overruled = self.urgency(t, feats, known_by[1] if known_by else None)
        return Decision(
            category=top,
            confidence=float(confidence),
            scores=scores,
            explanation=explanation,
            school=r["school"],
            label=self.labels.get(top, ""),
            urgent=bool(urgent_words),
            urgent_words=urgent_words,
            urgent_score=urgent_score,
            urgent_overruled=overruled,
            matters=self._matters(t, top, scores, contrib, vetoed),
            lang=norm.lang,
            fixes=tuple(read_as.values()),
            unplaced=unplaced,
        )

    def combine(self, r: dict, probs: Sequence[float], known: Sequence[str], model, ms: dict):
        """The rules' decision r and the model's probabilities -> (category, confidence, the model's words).

        `fuse` (the default): each category's rule share (its score + 1, over all scores + 1 each) raised to
        `rule_weight`, times the model's probability; with no rule signal the model decides alone, with a
        clear one the rules do. `gate`: the model decides only where the rules are unsure. The model's words
        are shown whenever it chose a category the rules did not, or the rules had nothing to say."""
        labels = model.labels
        top, confidence, s1 = r["top"], r["confidence"], r["s1"]
        mode = ms.get("mode", "fuse")
        if mode == "rules":
            return top, confidence, []
        if self.unplaced(r, probs, ms):  # no evidence: the model abstains
            return top, confidence, []
        # where the model learnt little (long letters, English), it only speaks where the rules are unsure
        if mode == "gate" or (not r["short"] and ms.get("long") == "gate") \
                or (r["norm"].lang != "zh" and ms.get("english") == "gate"):
            weak = s1 < self.min_score or (top == self.fallback_edu and s1 < float(ms.get("weak_below", 2.5)))
            if not (weak or confidence < float(ms.get("unsure_below", 0.35))):
                return top, confidence, []
            ranked = sorted(range(len(labels)), key=probs.__getitem__, reverse=True)
            if self._oos_guarded(r, ms):
                ranked.remove(labels.index(self.fallback_none))
            best = ranked[0]
            need = float(ms.get("take_no_signal", 0.6)) if weak else float(ms.get("take_over", 0.8))
            if top == self.fallback_none and labels[best] != top:
                # not one education word: most such messages are not the bureau's, so claiming one needs more
                need = max(need, float(ms.get("claim_no_education_word", 0.0)))
            if labels[best] == top or probs[best] < need:
                return top, confidence, []
            cap = float(ms.get("alone_at_most", 0.45)) if s1 < self.min_score else 0.6
            return labels[best], round(min(probs[best], cap), 3), model.why(known, best, ranked[1])
        scores = r["scores"]
        lam = float(ms.get("rule_weight", 1.5))
        if not r["short"]:  # a long letter: the rules' words carry more of its demand than on one line
            lam = float(ms.get("long_rule_weight", lam))
        eps = float(ms.get("rule_smoothing", 1.0))
        total = sum(scores.values()) + eps * len(labels)
        lp = [math.log(max(p, 1e-9)) for p in probs]
        if mode == "add":  # rule scores as log-odds (an alternative, see handlers/routing/train.py)
            z = [lp[k] + lam * scores[c] for k, c in enumerate(labels)]
        else:
            z = [lp[k] + lam * math.log((scores[c] + eps) / total) for k, c in enumerate(labels)]
        m = max(z)
        e = [math.exp(v - m) for v in z]
        se = sum(e)
        post = [v / se for v in e]
        order = sorted(range(len(labels)), key=post.__getitem__, reverse=True)
        if self._oos_guarded(r, ms):
            order.remove(labels.index(self.fallback_none))
        best, second = order[0], order[1]
        cat = labels[best]
        if s1 < self.min_score or (top == self.fallback_edu and s1 < float(ms.get("weak_below", 2.5))):
            # no rule word, or only a general one such as 学校: the model all but alone, never sure of it
            return cat, round(min(post[best], float(ms.get("alone_at_most", 0.45))), 3), \
                model.why(known, best, second) if cat != top or s1 < self.min_score else []
        if cat == top:
            return cat, round(max(confidence, post[best]), 3), []
        return cat, round(post[best], 3), model.why(known, best, second)

    def unplaced(self, r: dict, probs: Sequence[float], ms: dict) -> bool:
        """True where nothing places a text: no rule word reached `min_score`, not one education word, and the
        model is less than `alone_at_least` sure of any category. Such a text (还行吧，但是希望能坚持下去) was sent
        to an office on a few single characters (能, 去, 行); the model abstains and the rules' fallback stands."""
        return r["s1"] < self.min_score and r["top"] == self.fallback_none and ms.get("mode", "fuse") != "rules" \
            and max(probs) < float(ms.get("alone_at_least", 0.0))

    def _oos_guarded(self, r: dict, ms: dict) -> bool:
        """True where the model may not take a long letter out of scope: the rules give it to an office and
        saw nothing that is not the bureau's (社保局, 中介, 派出所) of at least `long_oos_share` of its score. A
        school's name beside 投诉 or 举报 is no such sign."""
        share = ms.get("long_oos_share")
        s1 = r["s1"]
        if ms.get("long_oos_unless_other") and r.get("demand") == "other":
            return False  # the request itself is addressed to another department (请民政局…)
        return (share is not None and not r["short"] and r["top"] != self.fallback_none and s1 >= self.min_score
                and r["scores"].get(self.fallback_none, 0.0) < float(share) * s1)

    def _joint_table(self):
        """(model, urgency model, feature -> (its row in each, or None), a matcher of the table's n-grams, a line's
        known features remembered), or None
        unless both models are linear; built at the first use (the models are set after __init__)."""
        m, um = self.model, self.urgency_model
        joint = self._joint
        if joint is None or joint[0] is not m or joint[1] is not um:
            rows_m, rows_u = getattr(m, "rows", None), getattr(um, "rows", None)
            if rows_m is None or rows_u is None:
                return None
            table = {f: (r, rows_u.get(f)) for f, r in rows_m.items()}
            table.update((f, (None, r)) for f, r in rows_u.items() if f not in rows_m)
            ngrams = Literals(ngram_keys(table), remember=0)
            # each line's known features, remembered with the table they are read from (and dropped with it)
            line = functools.lru_cache(maxsize=2048)(lambda x: known_line(x, self._cut, table, ngrams))
            self._joint = joint = (m, um, table, ngrams, line)
        return joint

    def _known_in(self, t: str) -> tuple[tuple[list, list], tuple[list, list]] | None:
        """_known(features(t)), without making the features neither model knows (linear.known_features)."""
        joint = self._joint_table()
        if joint is None:
            return None
        return self._split_known(known_features(t, self._cut, joint[2], joint[3], joint[4]), joint[2].get)

    def _known(self, feats: Sequence[str]) -> tuple[tuple[list, list], tuple[list, list]] | None:
        """For each linear model, (the features of a text it knows, in the text's order, and their rows), with one
        dictionary look-up per feature for both (None unless both models are linear)."""
        joint = self._joint_table()
        if joint is None:
            return None
        return self._split_known(feats, joint[2].get)

    @staticmethod
    def _split_known(feats: Sequence[str], get) -> tuple[tuple[list, list], tuple[list, list]]:
        fm, rm, fu, ru = [], [], [], []  # one pass, in the features' order
        for f in feats:
            both = get(f)
            if both:
                r, u = both
                if r is not None:
                    fm.append(f)
                    rm.append(r)
                if u is not None:
                    fu.append(f)
                    ru.append(u)
        return (fm, rm), (fu, ru)

    def urgency(self, t: str, feats: Sequence[str] | None = None,
                known: tuple[list, list] | None = None) -> tuple[tuple[str, ...], float | None, tuple[str, ...]]:
        """(the words that make prepared text t urgent, the urgency model's probability, rule words it overruled).

        The rules say why; the model (where there is one) adds a danger told in words no rule has, showing
        its strongest words, and overrules the rule words of a message it is all but sure is calm."""
        found = self._urgent(t)
        m = self.urgency_model
        settled = self._settled(t)
        # news of somewhere else (听说隔壁市有学生跳楼, 新闻说外省…): the words in its clauses are no danger here; a word
        # told outside them (还有校车经常超载, 她也说想跳楼) is
        news = self._news_told(t)
        spans = (self._heard_spans(t) if self._heard_told(t) else ()) + (self._news_spans(t) if news else ()) \
            if found else ()
        heard = tuple(w for w in found if spans and _only_within(t, w, spans))
        if heard:
            found = tuple(w for w in found if w not in heard)
        if m is None:
            return ((), None, heard + found) if settled else (found, None, heard)
        if feats is None:
            feats = features(t, self._cut)
        extra = urgent_features(found)
        if known is not None:  # the text's features this model knows and their rows, already looked up (route)
            more = [f for f in extra if f in m.rows]
            probs, known = m.predict_known(known[0] + more, known[1] + [m.rows[f] for f in more])
        else:
            probs, known = m.predict_features([*feats, *extra])
        p = probs[m.labels.index("urgent")]
        if settled:
            return (), p, heard + found  # told as past and settled: no danger now, whatever the words or the model
        if (heard or news) and not found:
            return (), p, heard  # only news of elsewhere: nor may the model call it a danger on its words
        if found and p < self.urgent_veto and "\n" not in t and len(t) <= SHORT_CHARS \
                and all(any(o in w and len(w) <= len(o) + 3 for o in self._overrulable)
                        and not any(n in w for n in self._never_overruled) for w in found):
            # (a word within a longer match, 吃了营养餐后全班…肚子疼, is part of a danger told at length: kept)
            # only a short message: in a long letter the rule's word is one feature among hundreds
            kept = self._sentence_kept(t, found)
            return kept, p, heard + tuple(w for w in found if w not in kept)
        if not found and p >= self.urgent_take and _letters(t) >= self.urgent_take_min_chars \
                and not self._family_excused(t):
            return (self._model_evidence(t, m, known),), p, ()
        return found, p, heard

    def _sentence_kept(self, t: str, found: Sequence[str]) -> tuple[str, ...]:
        """The words of `found` the model's veto may not overrule: in a message of several sentences, those of a
        sentence the model, reading that sentence alone, is not sure is calm. Its probability for the whole message
        is mostly the first matter's (我们学校有没有心理老师。另外学校门口的校车经常超载: 0.007, the second sentence alone
        0.35): a second matter told in its own sentence is judged on its own words."""
        parts = [c for c in _SENTENCES.split(t) if c.strip()]
        if len(parts) <= 1:
            return ()
        m = self.urgency_model
        k = m.labels.index("urgent")
        kept = []
        for part in parts:
            here = [w for w in found if w in part]
            if here and m.predict_features([*features(part, self._cut), *urgent_features(here)])[0][k] \
                    >= self.urgent_veto:
                kept += [w for w in here if w not in kept]
        return tuple(w for w in found if w in kept)

    def _model_evidence(self, t: str, m, known: Sequence[str]) -> str:
        """What the urgency model went by, in words a clerk can check: the clause of the message its features
        weigh most towards urgent (门牙掉了两颗), not its scattered top features (几个, 根本, 出去), and said to be
        the model's judgement."""
        k_urgent, k_calm = m.labels.index("urgent"), m.labels.index("calm")
        weights = [(f.split(":", 1)[-1], m.rows[f][k_urgent] - m.rows[f][k_calm]) for f in known
                   if not f.startswith(("u:", "c:")) and f in m.rows]
        clauses = [c.strip() for c in re.split(f"[{re.escape(_SENTENCE_END)}，,、]", t) if c.strip()]
        best, score = "", 0.0
        for c in clauses:
            v = sum(w for g, w in weights if w > 0 and g in c)
            if v > score:
                best, score = c, v
        cap = 40 if best.isascii() else 20
        if len(best) > cap:
            best = best[:cap - 1] + "…"
        return f"模型判断：{best}" if best else "模型判断"

    def _settled(self, t: str) -> bool:
        """A past event told as settled (去年…被打过…学校处理得很好…现在关系不错), with nothing saying it goes on
        or came back (又, 还在, 最近, 今天): the harm words tell of the past, not of a danger now. (News of somewhere
        else overrules only the sentences it is told in: see _news_spans.) Or praise of help already given, told in one sentence (表扬王老师，孩子发烧她一直陪着送医院) with nothing saying
        it goes on: a second sentence may be a second matter (表扬王老师！我孩子被同学打得流血了), so it stays urgent."""
        present = self._literals.scan(t)[1]
        if self._praised_by and self._praised_any.found_in(present) \
                and not self._praised_unless_any.found_in(present) and _one_sentence(t):
            return True
        return bool(self._settled_by) and self._settled_any.found_in(present) \
            and self._past_any.found_in(present) and not self._ongoing_any.found_in(present)

    def _news_told(self, t: str) -> bool:
        """Whether t tells news of somewhere else (`elsewhere_by`: 新闻说, in the news) and names no child of the
        writer's (`ours_by`)."""
        present = self._literals.scan(t)[1]
        return bool(self._elsewhere_by) and self._elsewhere_any.found_in(present) and not self._ours_any.found_in(present)

    def _news_spans(self, t: str) -> tuple[tuple[int, int], ...]:
        """The sentences of t an `elsewhere_by` word is written in (新闻说外省一所幼儿园着火了，好几个孩子受伤): the news
        is told to the sentence's end; a second matter in a sentence of its own (还有我们学校的校车经常超载) is not news."""
        spans = []
        for w in self._elsewhere_by:
            i = t.find(w)
            while i >= 0:
                start = max(t.rfind(c, 0, i) for c in _SENTENCE_END) + 1
                end = min((j for j in (t.find(c, i + len(w)) for c in _SENTENCE_END) if j >= 0), default=len(t))
                spans.append((start, end))
                i = t.find(w, i + 1)
        return tuple(spans)

    def _heard_told(self, t: str) -> bool:
        """Whether t may tell news heard of elsewhere: a `heard_by` word and no child of the writer's (`ours_by`)."""
        present = self._literals.scan(t)[1]
        return self._heard_elsewhere is not None and self._heard_any.found_in(present) \
            and not self._ours_any.found_in(present)

    def _heard_spans(self, t: str) -> tuple[tuple[int, int], ...]:
        """The clauses of t that tell news heard of somewhere else (网上说邻县一个幼儿园老师拿针扎孩子): from the start
        of the clause the hearsay begins in to the end of the clause the place is named in. Only these: a second
        matter (还有校车经常超载) or a child here (女儿看到外省一所学校的事，说她也想跳楼) is told outside them."""
        spans = []
        for m in self._heard_elsewhere.finditer(t):
            start = max(t.rfind(c, 0, m.start()) for c in _CLAUSE_END) + 1
            end = min((i for i in (t.find(c, m.end()) for c in _CLAUSE_END) if i >= 0), default=len(t))
            spans.append((start, end))
        return tuple(spans)

    def _urgent_who(self, f: str) -> bool:
        return any(f in w or (len(f) == 3 and (f[:2] in w or f[1:] in w)) for w in self._who)

    def _urgent(self, t: str) -> tuple[str, ...]:
        present = self._literals.scan(t)[1]
        mult = self._urgent_mult  # (a word written twice in the list is found twice, as before)
        hits = [w for w in present if w in mult for _ in range(mult[w])]
        hits.sort(key=self._urgent_rank.__getitem__)
        found = [w for w in hits if self._affirmed(t, w)]
        # the patterns whose literal occurs, and those with none, tried in the list's order: found as before
        by_needs, gapped = self._urgent_by_needs, self._urgent_gapped
        tried = [i for need in present if need in by_needs for i in by_needs[need]]
        tried += self._urgent_needs_always
        tried.sort()
        for i in tried:
            pat = gapped[i][0]
            m = pat.search(t)
            while m and i in self._urgent_across and self._family_did(t, m.start()):
                m = pat.search(t, m.start() + 1)  # (another A, someone else's, may follow)
            if m and self._affirmed(t, m.group(0), m.start()) \
                    and (not pat.groups or not t[max(0, m.start(1) - 3):m.start(1)].endswith(self._urgent_denied)):
                found.append(m.group(0))  # what was written: 老师动手打, not the pattern 老师…打
        if self._urgent_english_any is not None and _ASCII_WORD.search(t):
            for m in self._urgent_english_any.finditer(t):
                if not self._affirmed(t, m.group(0), m.start()):
                    continue  # a fire drill
                english = self._urgent_english
                for idx in self._urgent_english_of(m.group(0)):
                    if english[idx][0].fullmatch(m.group(0)):
                        found.append(m.group(0))
                        break
        # a word inside a longer one found too (打伤 in 被打伤) is shown once, the longer
        found = list(dict.fromkeys(found))
        return tuple(w for w in found if not any(w != o and w in o for o in found))

    def _family_excused(self, t: str) -> bool:
        """Whether the rules read a treatment and a refusal of school (A……B) here and found every such A the writer's
        family's (我骂了他几句，他就不肯去学校了): the model may not call it a danger on those same words alone."""
        told = False
        for i in self._urgent_across:
            pat = self._urgent_gapped[i][0]
            m = pat.search(t)
            while m:
                if not self._family_did(t, m.start()):
                    return False
                told = True
                m = pat.search(t, m.start() + 1)
        return told

    def _family_did(self, t: str, at: int) -> bool:
        """Whether the act at t[at] is the writer's family's: one of `family` right before it, in a clause that names
        nobody at school (同学笑我骂我 is the classmates' doing)."""
        if not self._family:
            return False
        start = max((t.rfind(c, 0, at) for c in _SENTENCE_END + "，,"), default=-1) + 1
        before = t[start:at].rstrip()
        if before.endswith(self._family) and not any(w in before for w in self._at_school):
            return True
        # a clause that opens with the act names no one (我们说了他几句，骂得有点重): it goes on the clause before's
        # subject, in the same sentence
        if before or start < 2 or t[start - 1] not in "，,":
            return False
        prev = t[max((t.rfind(c, 0, start - 1) for c in _SENTENCE_END + "，,"), default=-1) + 1:start - 1].strip()
        return self._family_subject(prev)

    def _family_subject(self, clause: str) -> bool:
        """Whether the clause's subject is the writer or their family (我们说了他几句, 昨天他爸训了他): a `family` word
        within its first few characters, not the start of a child's name (我孩子, 我家, 我的), in a clause that names
        nobody at school and does nothing to the child (被)."""
        if "被" in clause or any(w in clause for w in self._at_school):
            return False
        for w in sorted(self._family, key=len, reverse=True):
            i = clause.find(w, 0, len(w) + 4)
            if i >= 0:
                nxt = clause[i + len(w):i + len(w) + 1]
                return nxt not in ("家", "的", "") and not any(clause.startswith(c, i + len(w)) for c in _CHILD_WORDS)
        return False

    def _affirmed(self, t: str, w: str, at: int = -1) -> bool:
        """False when every occurrence of w is denied just before it (没有受伤, 未骨折), is a thing lost or
        fallen (孩子找不到铅笔盒了, 门口的花盆倒了), or is a practice (fire drill, 火灾演练)."""
        lost = self._things and any(m in w for m in self._missing)
        if not self._urgent_denied and not lost and not self._urgent_practice:
            return True
        i = t.find(w) if at < 0 else at
        while i >= 0:
            if not t[max(0, i - 3):i].endswith(self._urgent_denied) and not (lost and self._a_thing(t, i, i + len(w))) \
                    and not t[i + len(w):i + len(w) + 8].lstrip().startswith(self._urgent_practice):
                return True
            i = t.find(w, i + 1)
        return False

    def _a_thing(self, t: str, start: int, end: int) -> bool:
        """Whether the clause around t[start:end] names a thing (its subject or what went missing)."""
        ends = _SENTENCE_END + "，,"
        a = max((t.rfind(c, 0, start) for c in ends), default=-1) + 1
        b = min((k for k in (t.find(c, end) for c in ends) if k >= 0), default=len(t))
        return any(x in t[a:b] for x in self._things)

    def _matters(self, t: str, top: str, scores: dict[str, float], contrib: dict, vetoed: set[str]) -> tuple:
        """The primary matter, and a second one when the message raises two: split at a connective (还有,
        另外, 此外 …) and each part routes elsewhere, or a second category scores strongly on its own words.
        A category that the primary one absorbs by the tie-break rules (幼儿园收费 is preschool, not fees too)
        is not a second matter."""
        def words_of(cat: str, cb: dict) -> list[str]:
            ws = sorted(((v, w) for (w, c, _k), v in cb.items() if c == cat and v > 0), reverse=True)
            return [w for _v, w in ws][:5]

        matters = [{"category": top, "score": scores[top], "words": words_of(top, contrib)}]
        seen = {top}
        absorbed = self._absorbs.get(top, set())

        def add(cat: str, score: float, words: list[str]) -> None:
            if cat in seen or cat in absorbed or not words:
                return
            seen.add(cat)
            matters.append({"category": cat, "score": score, "words": words})

        pieces = [p for p in self._connectives.split(t) if p.strip()]
        if top == self.fallback_none and "\n" not in t and len(t) <= SHORT_CHARS:
            # not the bureau's as a whole, but a short message's sentence may be (小区电梯坏了请物业赶紧修。学校厕所也
            # 一直漏水没人修): each sentence is a part too, so the bureau's matter is not referred away with the other
            pieces = [q for p in pieces for q in _SENTENCES.split(p) if q.strip()]
        if len(pieces) > 1:
            # Parts joined by 还有/另外 are separate matters, unless the first names a subject that the rest
            # is about too (幼儿园收费太贵，还有伙食差: both the kindergarten's).
            if top not in self._subjects:
                absorbed = set()
            for piece in pieces:
                ps, pc, _v, _w = self._score(piece.replace("\n", "，"), t)
                cat = self._rank(ps)[0]
                if ps[cat] >= self.matter_min:
                    add(cat, ps[cat], words_of(cat, pc))
            absorbed = self._absorbs.get(top, set())
        s1 = scores[top]
        if top == self.fallback_none:
            return tuple(matters)  # not the bureau's: a second matter only where the person said so (还有 …)
        for cat in self._rank(scores):
            if cat in ("out_of_scope", "other_edu") or cat in vetoed:
                continue  # a place named in passing or a general word is no matter of its own
            sc = scores[cat]
            if sc >= self.matter_strong and sc >= self.matter_ratio * s1:
                add(cat, sc, words_of(cat, contrib))
        return tuple(matters)


def _rounded(scores: dict[str, float]) -> None:
    """Each score to 6 places, never below 0, in place: `max(0.0, round(v, 6))`, asked only of the scores a word
    moved (round() costs ~0.2 µs and most of a text's 13 scores are 0.0, which it leaves 0.0)."""
    for c, v in scores.items():
        scores[c] = max(0.0, round(v, 6)) if v else 0.0


def _letters(t: str) -> int:
    """How much a text says: its letters, digits and Han characters (not spaces, punctuation or emoji)."""
    return sum(ch.isalnum() for ch in t)


def urgent_features(found: Sequence[str]) -> list[str]:
    """The urgency rules' hits as features of the urgency model: it learns how far each is to be trusted."""
    return ["u:rule", *("u:" + w for w in found)] if found else []


class _AnyOf:
    """Whether any of some words occurs in a text, from the set of literals found in it (Literals.scan): `w in text`
    for each word, without a probe per word. An empty word occurs in every text."""

    __slots__ = ("words", "always")

    def __init__(self, words: Iterable[str]):
        ws = set(words)
        self.always = "" in ws
        self.words = frozenset(ws - {""})

    def found_in(self, present: frozenset[str]) -> bool:
        return self.always or not self.words.isdisjoint(present)


class _InOrder:
    """Of a list of words, those that occur in a text, from the set of literals found in it (Literals.scan): `[w for
    w in words if not w or w in present]` (the list's order, its repeats) without a probe per word of the list."""

    __slots__ = ("words", "at", "keys", "always")

    def __init__(self, words: Sequence[str]):
        self.words = tuple(words)
        self.at: dict[str, list[int]] = {}
        for i, w in enumerate(self.words):
            self.at.setdefault(w, []).append(i)
        self.always = self.at.pop("", [])  # an empty word occurs in every text
        self.keys = frozenset(self.at)

    def found_in(self, present: frozenset[str]) -> list[str]:
        hits = self.keys.intersection(present)
        if not hits and not self.always:
            return []
        at = self.at
        where = [i for w in hits for i in at[w]] + self.always
        where.sort()
        words = self.words
        return [words[i] for i in where]


class _Overlay(dict):
    """A Router's jieba dictionary: the words it added (and the frequencies it changed) in this dict, everything
    else read from jieba's own dictionary, which is shared and never changed. A copy of that dictionary per Router
    cost ~15 MB per process (half a million entries); this holds a few thousand. jieba's Tokenizer reads and
    writes it through `in`, `[]` and `get` (add_word, suggest_freq, cut), which see both levels; the router's own
    cut (_BlockCut) looks both up in C. len() and iteration see only the Router's own entries."""

    __slots__ = ("base",)

    def __init__(self, base: Mapping[str, int]):
        super().__init__()
        self.base = base

    def __missing__(self, word: str) -> int:
        return self.base[word]

    def __contains__(self, word: object) -> bool:
        return dict.__contains__(self, word) or word in self.base

    def get(self, word, default=None):
        f = dict.get(self, word)
        return self.base.get(word, default) if f is None else f

    def __bool__(self) -> bool:  # never empty (`tokenizer.FREQ or {}` in handlers/topics.py), whatever it added
        return True


class _BlockCut:
    """The tokenizer's cut, remembered per block. jieba cuts each run of Han characters, letters and digits on its
    own (`re_han_default`; HMM off here), so a text's cut is its blocks' cuts put together: a draft routed again as
    it grows (and a supplement routed alone, then with the draft) re-cuts only its new blocks, and the rules and the
    model share one cut. The router's dictionary is fixed once built, so a block's cut never changes."""

    _HAN = jieba.re_han_default
    _SKIP = jieba.re_skip_default

    def __init__(self, tok: jieba.Tokenizer, blocks: int = 4096):  # ~1 KB each: a draft's blocks come back soon
        self._tok = tok
        self._block = functools.lru_cache(maxsize=blocks)(self._cut_block)
        freq = tok.FREQ  # an _Overlay: its own words first (C look-ups, not its Python methods), then the base's
        # (storage/wordfreq.Frequencies: a trie look-up, ~1 µs; the weights below make it rare)
        self._own_get = dict.get.__get__(freq) if isinstance(freq, _Overlay) else {}.get
        self._base_get = freq.base.get if isinstance(freq, _Overlay) else freq.get
        # fragment -> what the DAG reads of it (see _cut_block): one probe of a small dict that stays in the CPU's
        # cache, instead of two (the router's words, then jieba's half a million) and a log. Words recur across
        # messages: a new block of a new sentence is mostly fragments met before.
        self._weights: dict[str, float | object | None] = {}
        self._logtotal = math.log(tok.total)
        self._last: tuple[str | None, tuple[str, ...]] = (None, ())  # see cut

    _PREFIX = object()  # a fragment that is only the start of longer words (frequency 0): no candidate, go on
    WEIGHTS = 16384  # fragments remembered (~120 bytes each: 2 MB at most); then forgotten at once and learnt again

    def _cut_block(self, s: str) -> tuple[str, ...]:
        """jieba's cut of one block without HMM (Tokenizer.__cut_DAG_NO_HMM: get_DAG, calc, then the walk), in
        one pass: each position's candidate words are found and scored right away, from the end backwards, with
        the same arithmetic and the same tie-break (the longer word), so the words are jieba's to the bit
        (tests/routing/test_fast_same.py compares them on every training text)."""
        own, base = self._own_get, self._base_get
        log = math.log
        logtotal = self._logtotal
        # each fragment's weight: None (no word starts so: stop), _PREFIX, or log(frequency) - log(total), the
        # very float jieba's route adds to the rest of the route
        weights, prefix, unseen, limit = self._weights, self._PREFIX, _UNSEEN, self.WEIGHTS
        weight = weights.get
        N = len(s)
        route_v = [0.0] * (N + 1)  # route[x] = (route_v[x], route_x[x]); route[N] = (0, 0)
        route_x = [0] * (N + 1)
        route_v[N] = 0
        for idx in range(N - 1, -1, -1):
            best_v = best_x = None
            i = idx
            frag = s[idx]
            while i < N:
                w = weight(frag, unseen)
                if w is unseen:
                    f = own(frag)
                    if f is None:
                        f = base(frag)
                    w = None if f is None else log(f) - logtotal if f else prefix
                    if len(weights) >= limit:
                        weights.clear()
                    weights[frag] = w
                if w is None:
                    break
                if w is not prefix:
                    v = w + route_v[i + 1]  # (log(f) - logtotal) + route_v[i + 1], as jieba adds them
                    if best_v is None or v >= best_v:  # max over (v, x): a tie goes to the larger x
                        best_v, best_x = v, i
                i += 1
                frag = s[idx:i + 1]
            if best_v is None:  # no word starts here: the character alone (frequency 0 or unknown: log 1)
                ch = s[idx]
                f = own(ch)
                best_v, best_x = log((base(ch) if f is None else f) or 1) - logtotal + route_v[idx + 1], idx
            route_v[idx], route_x[idx] = best_v, best_x
        out: list[str] = []
        x = 0
        buf = ""
        eng = _JIEBA_ENG
        while x < N:
            y = route_x[x] + 1
            w = s[x:y]
            if y - x == 1 and eng(w):
                buf += w
            else:
                if buf:
                    out.append(buf)
                    buf = ""
                out.append(w)
            x = y
        if buf:
            out.append(buf)
        return tuple(out)

    def freq(self, word: str) -> int:
        """The word's frequency in the tokenizer's dictionary (0 for a prefix or an unknown word)."""
        f = self._own_get(word)
        return self._base_get(word, 0) if f is None else f

    def cut(self, text: str, HMM: bool = False) -> list[str]:
        # the text cut last: a one-line message is its own title, cut for the rules' words and for the models
        last = self._last
        if last[0] == text:
            return list(last[1])
        out: list[str] = []
        for blk in self._HAN.split(text):
            if not blk:
                continue
            if self._HAN.match(blk):
                out.extend(self._block(blk))
                continue
            for x in self._SKIP.split(blk):  # what jieba does between blocks: spaces whole, else char by char
                if self._SKIP.match(x):
                    out.append(x)
                else:
                    out.extend(x)
        self._last = (text, tuple(out))
        return out


_JIEBA_ENG = re.compile("[a-zA-Z0-9]").match  # jieba.re_eng: single letters and digits run together
_UNSEEN = object()  # (a fragment not yet weighed: None is a weight, "no word starts so")


_SCHOOL_KINDS = ("幼儿园", "幼稚园", "托儿所", "职业技术学院", "职业学院", "职业学校", "技工学校", "小学", "中学",
                 "学校", "学院", "大学", "中专", "职高", "技校", "一中", "二中", "三中", "附中", "附小")


@functools.lru_cache(maxsize=1)
def _base_dictionary() -> tuple[Mapping[str, int], int]:
    """jieba's main dictionary, loaded once per process (~70 ms from its cache file); each Router reads it beneath its own
    words (_Overlay) and never changes it, so Routers stay independent. It is the default tokenizer's (jieba.dt), which the search index
    (storage/search.py) cuts with too: one copy of the dictionary per process, held compactly (storage/wordfreq.py:
    ~3 MB, not ~60 as jieba's dict)."""
    from storage import wordfreq
    return wordfreq.install()


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


_ASCII_WORD = re.compile(r"[a-z]{2}")
# an English message about school life gives the context the Chinese `context` lists look for
_ENGLISH_EDU = re.compile(r"(?<![a-z])(school|student|pupil|teacher|class|kid|child|children|son|daughter|"
                          r"parent|grade|homework|exam|head ?teacher|headmaster|headmistress|principal|classmate|"
                          r"classroom|campus|semester|term|lesson|kindergarten|nursery|preschool|tutor|college|"
                          r"university|gaokao|zhongkao|ward|year \d+|primary|secondary|boarder|uni)s?(?![a-z])")
_COMMON_WORD_FREQ = 20  # a candidate near-miss this frequent in jieba's dictionary is a word of its own


_ENGLISH_CLAUSE = re.compile(r"[.,;:!?\n。，；！？]+")


def _english_pattern(w: str, inflect: bool = False) -> "_Lazy":
    return _Lazy(functools.partial(_english_regex, w, inflect))  # (even its source written only when needed)


class _Lazy:
    """A regex compiled the first time a text reaches it, the very pattern re.compile makes of its source (so the
    same matches). Compiling the rules' ~2,200 patterns was 80 % of a router's build, paid by every process that
    starts the service (~1.5 s), though most are rarely tried: an A…B only where both its parts occur, an urgent
    pattern only where its literal does, an English word's only on a hit that starts as it does.
    Router.compile_all compiles them all (a check that every pattern of a rules file loads)."""

    __slots__ = ("source", "_compiled")

    def __init__(self, source: "str | Callable[[], str]"):
        self.source, self._compiled = source, None  # the pattern, or what writes it

    @property
    def compiled(self) -> re.Pattern:
        p = self._compiled
        if p is None:  # (two threads may both compile it: the same pattern either way)
            p = self._compiled = re.compile(self.source if isinstance(self.source, str) else self.source())
        return p

    def search(self, *args) -> re.Match | None:
        return self.compiled.search(*args)

    def match(self, *args) -> re.Match | None:
        return self.compiled.match(*args)

    def fullmatch(self, *args) -> re.Match | None:
        return self.compiled.fullmatch(*args)

    def findall(self, *args) -> list:
        return self.compiled.findall(*args)

    def finditer(self, *args):
        return self.compiled.finditer(*args)

    def __getattr__(self, name):  # groups, pattern, ...
        return getattr(self.compiled, name)


class _EnglishUnion:
    """`(?<![a-z])(?:w1|w2|…)(?![a-z])` over many English words (for the categories' words one pattern of 130,000
    characters, ~0.5 s to compile), without that pattern: at each place a word may start, the words whose literal
    beginning (_english_prefix) stands there are tried in the union's order, each as `(?:w)(?![a-z])`, compiled
    the first time a text reaches it; the first that matches is the union's match. The same matches: where the
    union's alternative for w matches, the text starts with w's prefix, and the union takes the first alternative
    that matches there (backtracking within one before the next, as `(?:w)(?![a-z])` does); a scan resumes where a
    match ends, as finditer's does."""

    __slots__ = ("_words", "_inflect", "_prefix", "_pats", "_by2", "_by1", "_lists", "_starts")

    def __init__(self, words: Sequence[str], prefixes: Sequence[str], inflect: bool):
        self._words, self._inflect, self._prefix = list(words), inflect, list(prefixes)
        self._pats: list[re.Pattern | None] = [None] * len(self._words)
        # the words by their prefix's first two characters (one-character prefixes by their character)
        self._by2: dict[str, list[int]] = {}
        self._by1: dict[str, list[int]] = {}
        for i, pre in enumerate(self._prefix):
            (self._by2.setdefault(pre[:2], []) if len(pre) >= 2 else self._by1.setdefault(pre, [])).append(i)
        self._lists: dict[str, list[int]] = {}  # two characters of a text -> the words that may start there
        self._starts = re.compile(r"(?<![a-z])[" + "".join(re.escape(c) for c in sorted({x[0] for x in prefixes})) + "]")

    def _candidates(self, two: str) -> list[int]:
        got = self._lists.get(two)
        if got is None:
            if len(self._lists) >= 4096:  # (pairs of characters a text can hold: a bound, not a working limit)
                self._lists.clear()
            got = self._lists[two] = sorted(self._by2.get(two, []) + self._by1.get(two[:1], []))
        return got

    def _pattern(self, i: int) -> re.Pattern:
        pat = self._pats[i]
        if pat is None:
            pat = self._pats[i] = re.compile("(?:" + _english_regex(self._words[i], self._inflect) + r")(?![a-z])")
        return pat

    def finditer(self, text: str, pos: int = 0):
        prefix = self._prefix
        for start in self._starts.finditer(text, pos):
            i = start.start()
            if i < pos:
                continue
            for idx in self._candidates(text[i:i + 2]):
                if text.startswith(prefix[idx], i):
                    m = self._pattern(idx).match(text, i)
                    if m is not None:
                        pos = m.end()
                        yield m
                        break

    def search(self, text: str, pos: int = 0) -> re.Match | None:
        return next(self.finditer(text, pos), None)

    def compile_all(self) -> None:
        for i in range(len(self._words)):
            self._pattern(i)


def _english_prefix(w: str, inflect: bool) -> str:
    """What every match of _english_regex(w, inflect) starts with ("" where nothing is sure)."""
    toks = w.lower().split()
    if not toks:
        return ""
    tok = toks[0]
    if tok.endswith("*"):
        return tok[:-1]
    forms = _forms(tok) if inflect else None
    return os.path.commonprefix(sorted(forms)) if forms is not None else tok


def _by_first(words: Iterable[str], inflect: bool = True):
    """For a list of English words (each one pattern, _english_pattern(w, inflect)): hit -> the indexes of those
    that may match all of it (it starts with their prefix), in the list's order. Only those are tried, so only
    those are compiled."""
    prefix = [_english_prefix(w, inflect) for w in words]
    any_first = [i for i, pre in enumerate(prefix) if not pre]
    of: dict[str, list[int]] = {}
    for i, pre in enumerate(prefix):
        if pre:
            of.setdefault(pre[0], []).append(i)
    of = {c: sorted(idxs + any_first) for c, idxs in of.items()}
    return lambda hit: [i for i in of.get(hit[:1], any_first) if hit.startswith(prefix[i])]


def _inflected(tok: str) -> str:
    """A light stemmer run backwards: the regex for tok and its regular inflections, so the table names a word
    once (fee: fees; charge: charged, charging; bully: bullies, bullied; hit: hits, hitting; picked on: picks on).
    Short tokens (pe, pm) and those with digits or apostrophes stay as written."""
    forms = _forms(tok)
    if forms is None:
        return re.escape(tok)
    return "(?:" + "|".join(re.escape(f) for f in sorted(forms, key=len, reverse=True)) + ")"


def _forms(tok: str) -> set[str] | None:
    """The forms _inflected's regex matches (None: tok only, as written)."""
    if len(tok) < 3 or not tok.isalpha():
        return None
    forms = {tok, tok + "s", tok + "es", tok + "ed", tok + "ing", tok + "'s", tok + "s'"}
    if tok.endswith("e"):
        forms |= {tok + "d", tok[:-1] + "ing"}
    if tok.endswith("y") and tok[-2] not in "aeiou":
        forms |= {tok[:-1] + "ies", tok[:-1] + "ied"}
    if tok.endswith("ed") or tok.endswith("ing"):  # written inflected (picked, bullying): the other forms too
        stem = tok[:-2] if tok.endswith("ed") else tok[:-3]
        forms |= {stem, stem + "s", stem + "ed", stem + "ing"}
    if re.fullmatch(r"[a-z]*[^aeiou][aeiou][bdgklmnprt]", tok) and not tok.endswith("w"):
        forms |= {tok + tok[-1] + "ed", tok + tok[-1] + "ing"}  # hit: hitting, stop: stopped
    return forms


def _english_regex(w: str, inflect: bool = False) -> str:
    parts = []
    for tok in w.lower().split():
        if tok.endswith("*"):
            parts.append(re.escape(tok[:-1]) + r"[a-z'-]*")
        elif inflect:
            parts.append(_inflected(tok))
        else:
            parts.append(re.escape(tok))
    return r"\s+".join(parts)


def _english_union(words, inflect: bool = False) -> "_EnglishUnion | _Lazy | None":
    words = sorted(set(words), key=lambda w: (-len(w), w))
    if not words:
        return None
    prefixes = [_english_prefix(w, inflect) for w in words]
    if "" in prefixes:  # a word with no sure beginning (`*`): the whole union as one pattern
        return _Lazy(functools.partial(_union_regex, words, inflect))
    return _EnglishUnion(words, prefixes, inflect)


def _union_regex(words: Sequence[str], inflect: bool) -> str:
    return r"(?<![a-z])(?:" + "|".join(_english_regex(w, inflect) for w in words) + r")(?![a-z])"


def _has_gap(s: str) -> bool:
    return any(m in s for m in _GAP_MARKS)
