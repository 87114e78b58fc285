"""The workbench dashboard: the three rates by week or month with their trend, overdue now, new tickets by
category and by school, the ranking of units (the monthly 接诉即办 ranking), repeated complaints and hot topics.
`read` draws it from the per-unit-per-day counts and the period's new tickets (fast at any history); `build`
from ticket rows (periods in another timezone). Both count with handlers.rates, the same rules as the digest."""
from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from handlers import digest, review, texts
from handlers.rates import Rates, compute, total
from storage import lifecycle, tickets

TREND = 8  # periods shown in the trend


@dataclass(frozen=True)
class Period:
    kind: str      # week | month
    key: str       # 2026-W48 | 2026-11
    start: float
    end: float

    @property
    def label(self) -> str:
        if self.kind == "week":
            year, week = digest.parse_week(self.key)
            return f"{year}年第{week}周"
        year, month = self.key.split("-")
        return f"{year}年{int(month)}月"

    def label_beside(self, other: Period) -> str:
        """The label beside `other`'s, without the year they share: '第49周' beside 2026年第48周, so the links to
        the neighbours fit one row of a phone; across the new year the year stays ('2025年12月')."""
        return self.label.removeprefix(f"{self.key[:4]}年") if self.key[:4] == other.key[:4] else self.label

    def dates(self, tz: ZoneInfo, now: float | None = None) -> str:
        """'11月16日—11月22日' (a week number alone tells a reader nothing); '11月23日—今天' while it runs."""
        a = dt.datetime.fromtimestamp(self.start, tz)
        if now is not None and self.start <= now < self.end:
            return f"{a.month}月{a.day}日—今天"
        b = dt.datetime.fromtimestamp(self.end - 1, tz)
        return f"{a.month}月{a.day}日—{b.month}月{b.day}日"


def period_of(kind: str, ts: float, tz: ZoneInfo) -> Period:
    if kind == "week":
        key = digest.week_of(ts, tz)
        start, end = digest.bounds(key, tz)
        return Period("week", key, start, end)
    d = dt.datetime.fromtimestamp(ts, tz)
    first = dt.datetime(d.year, d.month, 1, tzinfo=tz)
    nxt = dt.datetime(d.year + (d.month == 12), d.month % 12 + 1, 1, tzinfo=tz)
    return Period("month", f"{d.year}-{d.month:02d}", first.timestamp(), nxt.timestamp())


def parse_period(kind: str, key: str, tz: ZoneInfo) -> Period:
    """'2026-W48' or '2026-11' -> Period; ValueError for anything else."""
    if kind == "week":
        year, week = digest.parse_week(key)
        start = dt.datetime.fromisocalendar(year, week, 1).replace(tzinfo=tz)
        return period_of("week", start.timestamp() + 3600, tz)
    year, month = (int(x) for x in key.split("-"))
    if not (2000 <= year <= 2200 and 1 <= month <= 12):
        raise ValueError(key)
    return period_of("month", dt.datetime(year, month, 1, 12, tzinfo=tz).timestamp(), tz)


def previous(p: Period, tz: ZoneInfo) -> Period:
    return period_of(p.kind, p.start - 3600, tz)


def barely_begun(running_new: int, last_new: int) -> bool:
    """Whether the running period has (almost) nothing beside the last complete one (a Monday morning: 0 or 2 new
    messages against last week's 40), so that the dashboard opens on the last complete period instead."""
    return last_new > 0 and running_new * 5 < last_new


@dataclass
class UnitRow:
    code: str
    name: str
    rates: Rates
    min_cases: int = 1
    kind: str = ""
    rank: int | None = None         # within its kind, as the review ranks (rank_by_kind); None: not ranked

    @property
    def score(self) -> float:
        """Ranking: the mean of the rates resting on at least `min_cases` ([review] min_cases, the review's rule
        review.counted: one ticket signed in time is no "rank 1"); a unit with none is not ranked (−1)."""
        values = [v for c in ("response", "resolution", "satisfaction")
                  if (v := review.counted(self.rates, c, self.min_cases)) is not None]
        return sum(values) / len(values) if values else -1.0


def rank_by_kind(rows: list[UnitRow]) -> list[UnitRow]:
    """Sorted by kind (the review's order), then score; each ranked within its kind: a school is not placed
    against a bureau office, whose tickets are of another sort."""
    rows.sort(key=lambda u: (review.kind_order(u.kind), -u.score, u.name))
    place, kind, score = 0, None, None
    for i, u in enumerate(rows):  # one pass over the sorted rows: equal scores share a rank, as in the review
        if u.kind != kind:
            first, kind, score = i, u.kind, None
        if u.score != score:
            place, score = i - first + 1, u.score
        u.rank = place if u.score >= 0 else None
    return rows


@dataclass
class Dashboard:
    period: Period
    scope_name: str
    current: Rates
    trend: list[tuple[Period, Rates]]
    overdue_now: int
    new_total: int
    by_category: list[tuple[str, int]]
    by_school: list[tuple[str, int]]
    ranking: list[UnitRow]
    repeated: list[dict[str, Any]]
    topics: list[tuple[str, int]] = field(default_factory=list)


def span(p: Period, tz: ZoneInfo) -> tuple[float, float]:
    """The time the trend covers: TREND periods ending with `p`."""
    first = p
    for _ in range(TREND - 1):
        first = previous(first, tz)
    return first.start, p.end


def build(rows: list[dict], units: dict[str, dict], members: set[str] | None, p: Period, now: float,
          tz: ZoneInfo, scope_name: str, tokenizer=None, topic_texts: list[str] | None = None,
          ratings: list[dict] = (), misses: list[dict] = (), min_cases: int = 1,
          cases: list[dict] = ()) -> Dashboard:
    """`rows`: the tickets that can count in the trend's periods; `topic_texts`: the texts of the period's new
    tickets in scope (None: taken from rows, when they carry their text); `ratings`: the trend's rating events
    (storage.tickets.ratings_in): 满意率, first-time satisfaction; `misses`: the trend's late departures
    (storage.tickets.misses_in); `cases`: the trend's kept 签收 cases (storage.tickets.cases_in)."""
    if members is not None:
        # the tickets any part of which counts for the scope (storage.tickets.credit): a stand-in's 代收 work too
        rows = [t for t in rows if {t["unit_code"], *map(tickets.owner, (t.get("rated_unit"), *tickets.credit(t)))}
                & members]
        ratings = [e for e in ratings if tickets.owner(e["unit_code"]) in members]
        misses = [m for m in misses if tickets.owner(m["unit_code"]) in members]
        cases = [c for c in cases if tickets.owner(c["unit_code"]) in members or c.get("stood_in") in members]

    def of_scope(per_unit: dict[str, Rates]) -> dict[str, Rates]:
        return per_unit if members is None else {c: r for c, r in per_unit.items() if c in members}
    periods = [p]
    for _ in range(TREND - 1):
        periods.insert(0, previous(periods[0], tz))
    # read at `now`: a 签收 window still open then has not failed yet, as for_period counts it
    trend = [(q, total(of_scope(compute(rows, q.start, q.end, now, ratings=ratings, misses=misses, cases=cases))))
             for q in periods]
    per_unit = of_scope(compute(rows, p.start, p.end, now, ratings=ratings, misses=misses, cases=cases))
    rows = [t for t in rows if members is None or t["unit_code"] in members]  # the rest: counts of the scope's
    new = [t for t in rows if p.start <= t["created_at"] < p.end]
    ranking = rank_by_kind([UnitRow(code, units.get(code, {}).get("name", code), r, min_cases,
                                    units.get(code, {}).get("kind", "")) for code, r in per_unit.items() if r.shown])
    overdue = sum(1 for t in rows if t["state"] in lifecycle.CLOCK and t["due_at"] and t["due_at"] < now)
    schools = Counter(t["school_code"] for t in new if t["school_code"])
    return Dashboard(
        period=p, scope_name=scope_name, current=trend[-1][1], trend=trend, overdue_now=overdue,
        new_total=len(new),
        by_category=[(texts.CATEGORY_NAMES.get(c, c), n) for c, n in Counter(t["category"] for t in new).most_common()],
        by_school=[(units.get(s, {}).get("name", s), n) for s, n in schools.most_common(10)],
        ranking=ranking, repeated=digest.repeated(new, units),
        topics=digest.hot_topics(topic_texts if topic_texts is not None else [t["text"] for t in new], tokenizer)
        if new else [])


def read(db, units: dict[str, dict], members: set[str] | None, p: Period, now: float, tz: ZoneInfo,
         scope_name: str, tokenizer=None, unattended: bool = False, min_cases: int = 1) -> Dashboard:
    """The dashboard from the database: the rates of each period from the per-unit-per-day counts
    (handlers.rates.for_period), the period's new tickets as counts, the open ones past their deadline from the
    index of open tickets. Periods that are not whole days of the counts (another timezone) are computed from
    their tickets (`build`). `unattended`: the scope holds the 代收 tickets of units with nobody bound too (the
    duty office): 当前超期 counts them, as the 超期 list it opens does."""
    from handlers import rates
    from storage import tickets
    scope = sorted(members) if members is not None else None
    periods = [p]
    for _ in range(TREND - 1):
        periods.insert(0, previous(periods[0], tz))
    if not tickets.on_day_boundaries(*(q.start for q in periods), p.end):
        first, end = span(p, tz)
        rows = tickets.for_period(db, first, end, scope)
        texts_ = [x for u, x in tickets.texts_created(db, p.start, p.end) if members is None or u in members]
        return build(rows, units, members, p, now, tz, scope_name, tokenizer, texts_,
                     tickets.ratings_in(db, first, end, scope), tickets.misses_in(db, first, end, scope),
                     min_cases, tickets.cases_in(db, first, end, scope))
    per_period = rates.for_periods(db, [q.start for q in periods] + [p.end], scope, now)
    trend = [(q, total(r)) for q, r in zip(periods, per_period)]
    ranking = rank_by_kind([UnitRow(code, units.get(code, {}).get("name", code), r, min_cases,
                                    units.get(code, {}).get("kind", ""))
                            for code, r in per_period[-1].items() if r.shown])
    overdue = tickets.overdue_count(db, now, scope, unattended)
    new = tickets.created_summary(db, p.start, p.end, scope)
    categories, schools, repeats = Counter(), Counter(), Counter()
    for unit, kind, category, school, n in new:
        categories[category] += n
        if school:
            schools[school] += n
            if kind == "complaint":
                repeats[(school, category)] += n
    from handlers import topics as topics_
    terms = [(t, x) for u, t, x in tickets.period_terms(db, p.start, p.end, scope) if members is None or u in members]
    return Dashboard(
        period=p, scope_name=scope_name, current=trend[-1][1], trend=trend, overdue_now=overdue,
        new_total=sum(n for *_, n in new),
        by_category=[(texts.CATEGORY_NAMES.get(c, c), n) for c, n in categories.most_common()],
        by_school=[(units.get(s, {}).get("name", s), n) for s, n in schools.most_common(10)],
        ranking=ranking,
        repeated=[{"school": units.get(s, {}).get("name", s), "category": texts.CATEGORY_NAMES.get(c, c), "count": n}
                  for (s, c), n in repeats.most_common() if n >= 2],
        topics=topics_.hot_from(terms, tokenizer) if terms else [])
