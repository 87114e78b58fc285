"""群众评议: evaluation surveys defined by a leader in TOML and answered in the bot, one question at a time.

A survey file (one survey per file; `campaign.surveys` names a file or a folder of them):

    id = "school-2026"                 # letters, digits, - and _; part of the QR scene survey:<id>:<unit>
    title = "2026年度学校民主测评"
    units = ["school"]                 # unit codes and/or kinds (school, kindergarten, office, district)
    opens = "2026-11-01"               # first and last day, inclusive, in bot.timezone
    closes = "2026-12-31"
    previous = "school-2025"           # optional: the survey this one is compared with
    [[questions]]
    id = "attitude"
    topic = "服务态度"                   # short name for posters and reports (optional)
    type = "scale"                     # scale (1–5), choice or text
    text = "您对学校教职工的服务态度满意吗？"
    labels = ["非常不满意", "不满意", "一般", "满意", "非常满意"]   # scale: the words for 1 … 5 (optional)
    # choice: options = ["…", "…"];  text: optional = true
    # English, for people who write in English (optional; title_en and intro_en likewise at the top):
    text_en = "Are you satisfied with how the school's staff treat you?"
    labels_en = ["very dissatisfied", "dissatisfied", "neutral", "satisfied", "very satisfied"]  # options_en too

Progress lives in storage.surveys (the `draft` of the response row), not only in the conversation, so a person
can leave the survey for anything else and come back to the same question days later.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from handlers.textmemo import run_at_end
from storage.tomlfile import read_toml

DEFAULT_LABELS = ("非常不满意", "不满意", "一般", "满意", "非常满意")
DEFAULT_LABELS_EN = ("very dissatisfied", "dissatisfied", "neutral", "satisfied", "very satisfied")
QUESTION_TYPES = ("scale", "choice", "text")
UNIT_KINDS = ("bureau", "office", "district", "school", "kindergarten")
SCENE_PREFIX = "survey:"
SKIP = object()  # an optional question the person chose not to answer

_CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SKIP_WORDS = {"0", "跳过", "无", "没有", "不填", "不用", "没有了", "暂无", "略", "no", "none", "nothing", "skip", "n/a"}
_PUNCT = re.compile(r"[\s。，,.!！~～、;；:：]+")


class SurveyError(ValueError):
    """A survey file a leader must fix; the message names the file and the key."""


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: str
    labels: tuple[str, ...] = DEFAULT_LABELS
    options: tuple[str, ...] = ()
    optional: bool = False
    topic: str = ""                    # a short name for posters and reports (服务态度); the id when empty
    text_en: str = ""                  # the question for people who write in English (the Chinese when empty)
    labels_en: tuple[str, ...] = ()
    options_en: tuple[str, ...] = ()

    def prompt(self, number: int, total: int, lang: str | None = None) -> str:
        if lang == "en":
            return self._prompt_en(number, total)
        head = f"第{number}/{total}题：{self.text}"
        if self.type == "scale":
            scale = "\n".join(f"{i} {label}" for i, label in reversed(list(enumerate(self.labels, start=1))))
            return f"{head}\n{scale}\n请回复数字 1–5。"
        if self.type == "choice":
            opts = "\n".join(f"{i} {o}" for i, o in enumerate(self.options, start=1))
            return f"{head}\n{opts}\n请回复序号。"
        return head + ("\n（可直接写下您的意见；没有请回复 0）" if self.optional else "")

    def _prompt_en(self, number: int, total: int) -> str:
        head = f"Question {number} of {total}: {self.text_en or self.text}"
        if self.type == "scale":
            labels = self.english_labels()
            scale = "\n".join(f"{i} {label}" for i, label in reversed(list(enumerate(labels, start=1))))
            return f"{head}\n{scale}\nPlease reply with a number from 1 to 5."
        if self.type == "choice":
            opts = "\n".join(f"{i} {o}" for i, o in enumerate(self.options_en or self.options, start=1))
            return f"{head}\n{opts}\nPlease reply with the number."
        return head + ("\n(Write your opinion, or reply 0 if you have none.)" if self.optional else "")

    def english_labels(self) -> tuple[str, ...]:
        """The scale's words in English: its own, else the default ones when its Chinese are the defaults, else
        the Chinese (a label a leader wrote is not guessed at)."""
        return self.labels_en or (DEFAULT_LABELS_EN if self.labels == DEFAULT_LABELS else self.labels)

    def parse(self, raw: str) -> Any:
        """The answer in `raw`, leniently read (全角 digits, “5分”, “非常满意”, an option's words); SKIP for an
        optional question passed over; None when it is not an answer to this question."""
        text = unicodedata.normalize("NFKC", raw).strip()
        bare = _PUNCT.sub("", text)
        if self.optional and bare in _SKIP_WORDS:
            return SKIP
        if self.type == "text":
            return raw.strip() if bare else None
        if self.type == "scale":
            m = re.fullmatch(r"([1-5一二三四五])(?:分|星|颗星|stars?|points?)?", bare.lower())
            if m:
                return int(m.group(1)) if m.group(1).isdigit() else _CN_DIGITS[m.group(1)]
            return (_match_words(bare, self.labels)
                    or _match_words(bare.lower(), tuple(w.lower() for w in self.english_labels()))
                    or _EVERYDAY.get(_PARTICLES.sub("", bare.lower())))
        m = re.fullmatch(r"(?:第)?(\d{1,2}|[一二三四五六七八九])(?:项|个)?", bare)
        if m:
            n = int(m.group(1)) if m.group(1).isdigit() else _CN_DIGITS[m.group(1)]
            return n if 1 <= n <= len(self.options) else None
        return _match_words(bare, self.options) or (_match_words(bare.lower(), tuple(w.lower() for w in self.options_en))
                                                     if self.options_en else None)


# How people answer "how satisfied are you?" in their own words, whatever the scale's labels (还行吧, 挺好的).
_EVERYDAY = {**dict.fromkeys(("很差", "太差", "非常差", "特别差", "极差", "差劲", "verybad", "terrible", "awful"), 1),
             **dict.fromkeys(("差", "不好", "不太好", "不怎么样", "不行", "bad", "poor", "notgood"), 2),
             **dict.fromkeys(("还行", "还可以", "凑合", "一般般", "马马虎虎", "说得过去", "ok", "okay", "average",
                              "soso"), 3),
             **dict.fromkeys(("不错", "还不错", "挺好", "蛮好", "满意", "good", "fine"), 4),  # not 好 alone: "ok"
             **dict.fromkeys(("很好", "非常好", "特别好", "太好了", "很满意", "非常满意", "excellent", "verygood",
                              "great"), 5)}
_PARTICLES = run_at_end("吧啊呀的了哦呢嘛吗")


def _match_words(text: str, words: tuple[str, ...]) -> int | None:
    """1-based index of the word the text says: exactly, else the longest one it contains (so 非常不满意 is not
    read as 满意), if the text is short enough to be an answer rather than a story."""
    for i, w in enumerate(words, start=1):
        if text == _PUNCT.sub("", w):
            return i
    if len(text) > (30 if text.isascii() else 12):  # a story, not an answer
        return None
    hits = sorted(((len(w), i) for i, w in enumerate(words, start=1) if _PUNCT.sub("", w) in text), reverse=True)
    if hits:
        return hits[0][1]
    # a shortened option: 家长 for 学生家长, when only one option contains it
    within = [i for i, w in enumerate(words, start=1) if len(text) >= 2 and text in _PUNCT.sub("", w)]
    return within[0] if len(within) == 1 else None


@dataclass(frozen=True)
class Survey:
    id: str
    title: str
    units: tuple[str, ...]
    opens: dt.date
    closes: dt.date
    questions: tuple[Question, ...]
    intro: str = ""
    previous: str = ""
    tz: str = "Asia/Shanghai"
    source: str = ""
    title_en: str = ""
    intro_en: str = ""

    def title_in(self, lang: str | None) -> str:
        return self.title_en or self.title if lang == "en" else self.title

    @property
    def opens_at(self) -> float:
        return dt.datetime.combine(self.opens, dt.time(0), ZoneInfo(self.tz)).timestamp()

    @property
    def closes_at(self) -> float:
        """The end of the closing day."""
        return dt.datetime.combine(self.closes + dt.timedelta(days=1), dt.time(0), ZoneInfo(self.tz)).timestamp()

    def is_open(self, now: float) -> bool:
        return self.opens_at <= now < self.closes_at

    def covers(self, unit: dict[str, Any] | None) -> bool:
        return bool(unit) and (unit["code"] in self.units or unit["kind"] in self.units)

    def question(self, qid: str) -> Question | None:
        return next((q for q in self.questions if q.id == qid), None)

    def next_question(self, answers: dict[str, Any]) -> int | None:
        """Index of the first question not answered yet, or None when all are."""
        return next((i for i, q in enumerate(self.questions) if q.id not in answers), None)

    def scene(self, unit_code: str) -> str:
        return survey_scene(self.id, unit_code)


def survey_scene(survey_id: str, unit_code: str) -> str:
    return f"{SCENE_PREFIX}{survey_id}:{unit_code}"


def parse_scene(scene: str | None) -> tuple[str, str] | None:
    """(survey id, unit code) of a survey QR scene, else None."""
    if not scene or not scene.startswith(SCENE_PREFIX):
        return None
    survey_id, _, unit = scene[len(SCENE_PREFIX):].partition(":")
    return (survey_id, unit) if survey_id and unit else None


# -- loading -------------------------------------------------------------------------------------------------
_ID = re.compile(r"[A-Za-z0-9_-]{1,32}")


def parse_survey(raw: dict[str, Any], source: str = "<survey>", tz: str = "Asia/Shanghai") -> Survey:
    def bad(key: str, why: str) -> SurveyError:
        return SurveyError(f"{source}: {key}: {why}")

    known = {"id", "title", "intro", "units", "opens", "closes", "previous", "questions", "title_en", "intro_en"}
    for key in raw:
        if key not in known:
            raise bad(key, f"unknown key; known: {', '.join(sorted(known))}")
    sid = raw.get("id")
    if not isinstance(sid, str) or not _ID.fullmatch(sid):
        raise bad("id", "1–32 letters, digits, - or _ (it becomes part of the QR scene)")
    title = raw.get("title")
    if not isinstance(title, str) or not title.strip():
        raise bad("title", "required text")
    units = raw.get("units")
    if not isinstance(units, list) or not units or not all(isinstance(u, str) and u for u in units):
        raise bad("units", 'a list of unit codes or kinds, e.g. ["school"]')
    dates = {}
    for key in ("opens", "closes"):
        value = raw.get(key)
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                raise bad(key, f"{value!r} is not a date YYYY-MM-DD") from None
        if not isinstance(value, dt.date) or isinstance(value, dt.datetime):
            raise bad(key, "a date YYYY-MM-DD")
        dates[key] = value
    if dates["closes"] < dates["opens"]:
        raise bad("closes", "is before opens")
    if len(survey_scene(sid, "x" * 24)) > 64:
        raise bad("id", "too long for a QR scene (64 characters with the unit code)")
    questions = raw.get("questions")
    if not isinstance(questions, list) or not questions:
        raise bad("questions", "at least one [[questions]] table")
    parsed: list[Question] = []
    for n, q in enumerate(questions, start=1):
        where = f"questions[{n}]"
        if not isinstance(q, dict):
            raise bad(where, "must be a table")
        extra = set(q) - {"id", "type", "text", "labels", "options", "optional", "topic", "text_en", "labels_en",
                          "options_en"}
        if extra:
            raise bad(f"{where}.{sorted(extra)[0]}", "unknown key; known: id, type, text, labels, options, "
                                                     "optional, topic, text_en, labels_en, options_en")
        qid, qtype, qtext = q.get("id"), q.get("type", "scale"), q.get("text")
        if not isinstance(qid, str) or not _ID.fullmatch(qid) or any(p.id == qid for p in parsed):
            raise bad(f"{where}.id", "a unique id of letters, digits, - or _")
        if qtype not in QUESTION_TYPES:
            raise bad(f"{where}.type", f"one of {', '.join(QUESTION_TYPES)}")
        if not isinstance(qtext, str) or not qtext.strip():
            raise bad(f"{where}.text", "required text")
        labels = q.get("labels", list(DEFAULT_LABELS))
        if qtype == "scale" and (not isinstance(labels, list) or len(labels) != 5
                                 or not all(isinstance(x, str) and x for x in labels)):
            raise bad(f"{where}.labels", "five words, for 1 to 5")
        options = q.get("options", [])
        if qtype == "choice" and (not isinstance(options, list) or not 2 <= len(options) <= 9
                                  or not all(isinstance(x, str) and x for x in options)):
            raise bad(f"{where}.options", "2 to 9 options")
        optional = q.get("optional", False)
        if not isinstance(optional, bool):
            raise bad(f"{where}.optional", "true or false")
        topic = q.get("topic", "")
        if not isinstance(topic, str) or len(topic) > 12:
            raise bad(f"{where}.topic", "a short name, at most 12 characters")
        text_en = q.get("text_en", "")
        if not isinstance(text_en, str):
            raise bad(f"{where}.text_en", "text")
        labels_en = q.get("labels_en", [])
        if labels_en and (qtype != "scale" or not isinstance(labels_en, list) or len(labels_en) != 5
                          or not all(isinstance(x, str) and x for x in labels_en)):
            raise bad(f"{where}.labels_en", "five words, for 1 to 5 (a scale only)")
        options_en = q.get("options_en", [])
        if options_en and (qtype != "choice" or not isinstance(options_en, list) or len(options_en) != len(options)
                           or not all(isinstance(x, str) and x for x in options_en)):
            raise bad(f"{where}.options_en", "one English text per option (a choice only)")
        parsed.append(Question(qid, qtype, qtext.strip(), tuple(labels) if qtype == "scale" else DEFAULT_LABELS,
                               tuple(options) if qtype == "choice" else (), optional, topic or qid,
                               text_en.strip(), tuple(labels_en), tuple(options_en)))
    previous = raw.get("previous", "")
    if not isinstance(previous, str):
        raise bad("previous", "a survey id")
    intro = raw.get("intro", "")
    if not isinstance(intro, str):
        raise bad("intro", "text")
    for key in ("title_en", "intro_en"):
        if not isinstance(raw.get(key, ""), str):
            raise bad(key, "text")
    return Survey(sid, title.strip(), tuple(units), dates["opens"], dates["closes"], tuple(parsed),
                  intro.strip(), previous, tz, source, raw.get("title_en", "").strip(),
                  raw.get("intro_en", "").strip())


def load_surveys(path: str | Path | None, tz: str = "Asia/Shanghai",
                 known_units: dict[str, str] | None = None) -> dict[str, Survey]:
    """Surveys from a TOML file or every *.toml in a folder, by id. `known_units` (code -> kind) checks that
    each unit named exists."""
    if not path:
        return {}
    p = Path(path)
    files = sorted(p.glob("*.toml")) if p.is_dir() else [p]
    surveys: dict[str, Survey] = {}
    for f in files:
        s = parse_survey(read_toml(f, SurveyError), str(f), tz)
        if s.id in surveys:
            raise SurveyError(f"{f}: id: {s.id!r} is also the id of {surveys[s.id].source}")
        check_units(s, known_units)
        surveys[s.id] = s
    check_previous(surveys)
    return surveys


def check_units(s: Survey, known_units: dict[str, str] | None) -> None:
    if known_units is not None:
        for u in s.units:
            if u not in UNIT_KINDS and u not in known_units:
                raise SurveyError(f"{s.source}: units: {u!r} is neither a unit code in the directory nor a kind")


def check_previous(surveys: dict[str, Survey]) -> None:
    for s in surveys.values():
        if s.previous and s.previous not in surveys:
            raise SurveyError(f"{s.source}: previous: no survey with id {s.previous!r}")


WORKBENCH = "工作台"  # the source of a survey written in the workbench


def with_stored(files: dict[str, Survey], stored: list[dict[str, Any]], tz: str,
                known_units: dict[str, str] | None) -> dict[str, Survey]:
    """The files' surveys with those written in the workbench (storage.campaign_defs rows), which replace a
    file's survey of the same id. A stored row that no longer passes (a unit since removed) is left out."""
    out = dict(files)
    for row in stored:
        if row["retired_at"] is not None:
            out.pop(row["id"], None)
            continue
        try:
            s = parse_survey(row["body"], WORKBENCH, tz)
            check_units(s, known_units)
        except SurveyError:
            continue
        out[s.id] = s
    return {k: v if not v.previous or v.previous in out else dataclasses.replace(v, previous="")
            for k, v in out.items()}


def check_new(raw: dict[str, Any], current: dict[str, Survey], tz: str, known_units: dict[str, str]) -> Survey:
    """A survey written in the workbench, with the file loader's checks (parse_survey, check_units, and the
    survey it is compared with exists). SurveyError names the key at fault."""
    s = parse_survey(raw, WORKBENCH, tz)
    check_units(s, known_units)
    if s.previous and (s.previous == s.id or s.previous not in current):
        raise SurveyError(f"{WORKBENCH}: previous: no survey with id {s.previous!r}")
    return s


@dataclass
class Policy:
    """The survey rules from the [campaign] config section."""

    min_responses: int = 30
    burst_per_hour: int = 30
    new_follower_minutes: int = 10
    new_follower_per_day: int = 20
    units_per_person: int = 3          # [campaign] units_per_person (storage.surveys.may_rate)
    conversation_minutes: int = 30
    tz: str = "Asia/Shanghai"
    surveys: dict[str, Survey] = field(default_factory=dict)
    faq_min_score: float = 0.55        # [campaign] faq_min_score, for common questions added in the workbench
