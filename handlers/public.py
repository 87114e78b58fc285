"""What the public pages show (办事公开): per unit and for the bureau, counts and rates only — never a citizen's
words, name or number. Built from one read of the last 90 days' tickets (storage.tickets.for_period), so the cost
follows the period, not the history; the web layer keeps the result for a short while (bot/public.py).

Windows end at the start of today (whole days, so the figures do not move with every message): 近一个月 is the
30 days before, 近三个月 the 90 days before.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from handlers.rates import Rates, compute, total

WINDOWS = (("month", 30, "近一个月"), ("quarter", 90, "近三个月"))
LISTED_KINDS = ("school", "kindergarten", "district", "office")
KIND_NAMES = {"bureau": "教育局", "office": "局机关处室", "district": "区县教育局", "school": "学校",
              "kindergarten": "幼儿园"}


@dataclass
class Window:
    key: str
    label: str
    start: float
    end: float
    rates: Rates = field(default_factory=Rates)
    praise: int = 0
    days_total: float = 0.0         # days from dispatch to 办结, summed over the tickets resolved in the window
    days_count: int = 0

    @property
    def avg_days(self) -> float | None:
        return round(self.days_total / self.days_count, 1) if self.days_count else None

    def span(self, tz) -> str:
        a = dt.datetime.fromtimestamp(self.start, tz)
        b = dt.datetime.fromtimestamp(self.end - 1, tz)
        return f"{a.month}月{a.day}日—{b.month}月{b.day}日"


@dataclass
class SurveyLine:
    topic: str
    mean: float | None
    bureau_mean: float | None


@dataclass
class SurveyResult:
    title: str
    closes: dt.date
    n: int
    score: float | None             # 0–100; None: 样本不足
    questions: list[SurveyLine]


@dataclass
class Snapshot:
    computed_at: float
    units: dict[str, dict[str, Any]]
    windows: dict[str, dict[str, Window]]     # unit code -> window key -> Window
    bureau: dict[str, Window]
    surveys: dict[str, SurveyResult]          # unit code -> its latest survey result

    def window(self, code: str, key: str) -> Window:
        w = self.windows.get(code, {}).get(key)
        if w is None:
            b = self.bureau[key]
            w = Window(key, b.label, b.start, b.end)
        return w


def day_of(ts: float, tz) -> dt.date:
    return dt.datetime.fromtimestamp(ts, tz).date()


def _bounds(now: float, tz, days: int) -> tuple[float, float]:
    today = dt.datetime.combine(dt.datetime.fromtimestamp(now, tz).date(), dt.time(0), tz)
    return (today - dt.timedelta(days=days)).timestamp(), today.timestamp()


def snapshot(db, now: float, tz, surveys: dict | None = None, min_responses: int = 30) -> Snapshot:
    """Everything the public pages need, from one read (run it on a reader connection)."""
    from storage import directory, tickets
    units = {u["code"]: u for u in directory.all_units(db)}
    wide_start, end = _bounds(now, tz, max(days for _, days, _ in WINDOWS))
    rows = tickets.for_period(db, wide_start, end)
    ratings = tickets.ratings_in(db, wide_start, end)
    misses = tickets.misses_in(db, wide_start, end)
    cases = tickets.cases_in(db, wide_start, end)
    per_unit: dict[str, dict[str, Window]] = {}
    bureau: dict[str, Window] = {}
    for key, days, label in WINDOWS:
        start, _ = _bounds(now, tz, days)
        rates = compute(rows, start, end, now, ratings, misses=misses, cases=cases)
        windows = {code: Window(key, label, start, end, r) for code, r in rates.items()}
        b = Window(key, label, start, end, total(rates))
        for code, n in tickets.praise_by_unit(db, start, end).items():  # each person once, as the review
            w = windows.setdefault(code, Window(key, label, start, end))
            w.praise += n
            w.rates.praised = w.praise
            b.praise += n
        b.rates.praised = b.praise
        for t in rows:
            if t["resolved_at"] is not None and start <= t["resolved_at"] < end and t["dispatched_at"] and \
                    t["unit_code"] and t["kind"] != "praise":
                days_ = max(0.0, (t["resolved_at"] - t["dispatched_at"]) / 86400)
                # the days count for the unit whose 办结 it was, as the 解决率: a 代收 办结 for nobody's (m059)
                if tickets.credit(t)[1].startswith(tickets.STAND_IN):
                    continue
                w = windows.setdefault(tickets.credit(t)[1], Window(key, label, start, end))
                w.days_total += days_
                w.days_count += 1
                b.days_total += days_
                b.days_count += 1
        for code, w in windows.items():
            per_unit.setdefault(code, {})[key] = w
        bureau[key] = b
    return Snapshot(now, units, per_unit, bureau, latest_surveys(db, surveys or {}, min_responses, now))


def latest_surveys(db, defs: dict, min_responses: int, now: float) -> dict[str, SurveyResult]:
    """Each unit's result in the latest survey (opened already) that has responses for it."""
    from handlers.survey_results import survey_results
    out: dict[str, SurveyResult] = {}
    for survey in sorted(defs.values(), key=lambda s: s.opens, reverse=True):
        if survey.opens_at > now:
            continue
        for code, res in survey_results(db, survey, defs, min_responses).items():
            if code in out:
                continue
            lines = [SurveyLine(q.topic, q.mean, q.bureau_mean) for q in res.questions if q.type == "scale"]
            out[code] = SurveyResult(survey.title, survey.closes, res.n, res.score, lines)
    return out


def fuzzy(query: str, name: str) -> float | None:
    """How well `query` matches a unit's name: None if its characters do not all appear in order; higher is
    better (a whole substring first, then the tighter the characters sit)."""
    q = "".join(query.split()).lower()
    if not q:
        return 0.0
    n = name.lower()
    if q in n:
        return 2.0 - n.index(q) / (len(n) + 1)
    pos, first = -1, None
    for ch in q:
        pos = n.find(ch, pos + 1)
        if pos < 0:
            return None
        first = pos if first is None else first
    return len(q) / (pos - first + 1)


def directory_rows(snap: Snapshot, query: str = "", district: str = "", kind: str = "",
                   sort: str = "") -> list[dict[str, Any]]:
    """The directory's lines: listed units matching the filters, by fuzzy score, name, or satisfaction."""
    out = []
    for code, u in snap.units.items():
        if u["kind"] not in LISTED_KINDS or (district and (u["district"] or "") != district) or \
                (kind and u["kind"] != kind):
            continue
        score = fuzzy(query, u["name"]) if query else 0.0
        if score is None:
            continue
        w = snap.window(code, "quarter")
        out.append({"code": code, "name": u["name"], "kind": u["kind"], "district": u["district"] or "市直",
                    "match": score, "satisfaction": w.rates.satisfaction, "rated": w.rates.rated,
                    "received": w.rates.dispatched, "praise": w.praise})
    if sort == "satisfaction":
        out.sort(key=lambda r: (r["satisfaction"] is None, -(r["satisfaction"] or 0), -r["rated"], r["name"]))
    elif query:
        out.sort(key=lambda r: (-r["match"], r["name"]))
    else:
        out.sort(key=lambda r: (LISTED_KINDS.index(r["kind"]), r["district"], r["name"]))
    return out


def top_units(snap: Snapshot, key: str = "month", top: int = 5, min_rated: int = 5) -> dict[str, list]:
    """服务标兵 (most praise) and the best satisfaction (with at least min_rated ratings) in a window."""
    listed = [(code, u) for code, u in snap.units.items() if u["kind"] in LISTED_KINDS]
    praised = sorted(((u, snap.window(c, key)) for c, u in listed if snap.window(c, key).praise),
                     key=lambda x: (-x[1].praise, x[0]["name"]))[:top]
    satisfied = sorted(((u, snap.window(c, key)) for c, u in listed if snap.window(c, key).rates.rated >= min_rated),
                       key=lambda x: (-(x[1].rates.satisfaction or 0), -x[1].rates.rated, x[0]["name"]))[:top]
    return {"praise": praised, "satisfaction": satisfied}
