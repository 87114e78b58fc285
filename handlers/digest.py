"""The weekly digest: what came in, what was done, what is late, each unit's three rates with the change from
the week before, the weakest units, hot topics and repeated complaints. Built from the database; rendered as a
short WeChat message here and as a full page by bot/web (same data)."""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from handlers import review, texts
from handlers.rates import Rates, compute, percent, percent_of, total, with_praise
from storage import directory, staff, tickets

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
BOTTOM = 3
# Units with nobody bound named in the WeChat text (the rest: "等", the page lists them all): a phone screen.
UNSTAFFED_NAMED = 3
# A 解决率 below this is marked on the page, the bureau's card and each unit's cell alike.
LOW_RESOLUTION = 0.8


def parse_week(week: str) -> tuple[int, int]:
    m = WEEK.match(week)
    if not m or not 1 <= int(m.group(2)) <= 53:
        raise ValueError(f"week must look like 2026-W48, not {week!r}")
    if not 1971 <= int(m.group(1)) <= 9998:  # the week before and after must exist too
        raise ValueError(f"week {week!r} is out of range")
    dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)  # raises for a week 53 that does not exist
    return int(m.group(1)), int(m.group(2))


def week_of(ts: float, tz) -> str:
    year, week, _ = dt.datetime.fromtimestamp(ts, tz).isocalendar()
    return f"{year}-W{week:02d}"


def previous_week(week: str) -> str:
    year, num = parse_week(week)
    monday = dt.date.fromisocalendar(year, num, 1) - dt.timedelta(days=7)
    y, w, _ = monday.isocalendar()
    return f"{y}-W{w:02d}"


def bounds(week: str, tz) -> tuple[float, float]:
    year, num = parse_week(week)
    monday = dt.datetime.combine(dt.date.fromisocalendar(year, num, 1), dt.time(0), tz)
    return monday.timestamp(), (monday + dt.timedelta(days=7)).timestamp()


@dataclass
class UnitLine:
    code: str
    name: str
    now: Rates
    before: Rates


@dataclass
class Digest:
    week: str
    scope: str                      # 'bureau' or a unit code
    scope_name: str
    start: float
    end: float
    new_by_kind: dict[str, int]
    new_by_category: dict[str, int]
    new_total: int
    resolved: int
    overdue_now: list[dict[str, Any]]
    overall: Rates
    overall_before: Rates
    units: list[UnitLine]
    bottom: list[UnitLine]
    topics: list[tuple[str, int]]
    repeated: list[dict[str, Any]]
    generated_at: float
    extra: dict[str, Any] = field(default_factory=dict)
    overdue_total: int | None = None  # stored with the first OVERDUE_STORED of overdue_now only (to_data)
    # the scope's units with nobody bound when it was built: their tickets go to a stand-in (代收)
    unstaffed: list[str] = field(default_factory=list)

    @property
    def overdue_count(self) -> int:
        """How many tickets were overdue when it was built (overdue_now may hold only the first of them)."""
        return len(self.overdue_now) if self.overdue_total is None else self.overdue_total

    def period_text(self, tz) -> str:
        a = dt.datetime.fromtimestamp(self.start, tz)
        b = dt.datetime.fromtimestamp(self.end - 1, tz)
        return f"{a.month}月{a.day}日—{b.month}月{b.day}日"


# A digest as stored with its week (storage.digest_pages): its figures as they were sent, rendered with whatever
# template is current when the page opens, so a fix to the page reaches the weeks already sent.
DATA_VERSION = 1
# What the page may show of the tickets still overdue: the bureau's list is thousands long at a million tickets,
# and reading them all back cost a page load 30 ms; the count is kept whole (overdue_total).
OVERDUE_STORED = 100
OVERDUE_KEPT = ("id", "number", "kind", "category", "unit_code", "school_code", "state", "created_at",
                "dispatched_at", "due_at")


def to_data(d: Digest) -> dict[str, Any]:
    """The digest as plain JSON values; from_data gives it back."""
    rates_ = lambda r: {k: getattr(r, k) for k in Rates.__dataclass_fields__}  # noqa: E731
    return {"v": DATA_VERSION, "week": d.week, "scope": d.scope, "scope_name": d.scope_name, "start": d.start,
            "end": d.end, "new_by_kind": d.new_by_kind, "new_by_category": d.new_by_category,
            "new_total": d.new_total, "resolved": d.resolved,
            "overdue_now": [{k: t.get(k) for k in OVERDUE_KEPT} for t in d.overdue_now[:OVERDUE_STORED]],
            "overdue_total": d.overdue_count,
            "overall": rates_(d.overall), "overall_before": rates_(d.overall_before),
            "units": [{"code": u.code, "name": u.name, "now": rates_(u.now), "before": rates_(u.before)}
                      for u in d.units],
            "bottom": [u.code for u in d.bottom], "topics": [list(t) for t in d.topics], "repeated": d.repeated,
            "generated_at": d.generated_at, "extra": d.extra, "unstaffed": d.unstaffed}


def from_data(data: dict[str, Any]) -> Digest:
    """A stored digest (to_data); ValueError for a version this code does not read."""
    if data.get("v") != DATA_VERSION:
        raise ValueError(f"digest data version {data.get('v')!r}")
    known = set(Rates.__dataclass_fields__)
    rates_ = lambda r: Rates(**{k: v for k, v in r.items() if k in known})  # noqa: E731
    units = [UnitLine(u["code"], u["name"], rates_(u["now"]), rates_(u["before"])) for u in data["units"]]
    by_code = {u.code: u for u in units}
    return Digest(week=data["week"], scope=data["scope"], scope_name=data["scope_name"], start=data["start"],
                  end=data["end"], new_by_kind=data["new_by_kind"], new_by_category=data["new_by_category"],
                  new_total=data["new_total"], resolved=data["resolved"], overdue_now=data["overdue_now"],
                  overall=rates_(data["overall"]), overall_before=rates_(data["overall_before"]), units=units,
                  bottom=[by_code[c] for c in data["bottom"]], topics=[tuple(t) for t in data["topics"]],
                  repeated=data["repeated"], generated_at=data["generated_at"], extra=data.get("extra") or {},
                  overdue_total=data["overdue_total"], unstaffed=data.get("unstaffed", []))


def scope_members(units: dict[str, dict], scope: str) -> set[str] | None:
    """The units a scope covers: None for the bureau (all), else the unit and the units under it."""
    if scope == "bureau":
        return None
    return {scope} | {c for c, u in units.items() if u["parent"] == scope}


def build(db, week: str, now: float, tz, tokenizer=None, scope: str = "bureau", min_cases: int = 1) -> Digest:
    """One scope's digest. Topics come from those stored by the weekly job, else from the week's texts."""
    return build_all(db, week, now, tz, [scope], tokenizer, min_cases=min_cases)[scope]


def build_all(db, week: str, now: float, tz, scopes: list[str], tokenizer=None,
              topics: dict[str, list] | None = None, min_cases: int = 1) -> dict[str, Digest]:
    """Digests for several scopes of one week from ONE read of that week's and the week before's tickets (index
    ranges, see storage.tickets.for_period): the cost follows the period, not the years of history. Runs on a
    read-only connection. `topics` given: used as is (the weekly job computes them once for every scope).
    `min_cases`: [review] min_cases; a 解决率 resting on fewer is no reason for 需关注 (review.counted)."""
    start, end = bounds(week, tz)
    prev_start, prev_end = bounds(previous_week(week), tz)
    units = {u["code"]: u for u in directory.all_units(db)}
    unknown = [s for s in scopes if s != "bureau" and s not in units]
    if unknown:
        raise ValueError(f"unknown scope {unknown[0]!r}: use 'bureau' or a unit code")
    # Only the scopes' own units, when no scope is the whole bureau (one unit's page reads only its tickets).
    only = None if "bureau" in scopes else sorted(set().union(*(scope_members(units, s) for s in scopes)))
    overdue_rows = tickets.overdue_rows(db, max(now, end), only)
    now_rows = tickets.for_period(db, start, end, only, overdue_rows)
    before_rows = tickets.for_period(db, prev_start, prev_end, only, overdue_rows)
    now_ratings = tickets.ratings_in(db, start, end, only)
    before_ratings = tickets.ratings_in(db, prev_start, prev_end, only)
    overdue_rows = [t for t in overdue_rows if t["due_at"] < now]
    if topics is None:  # the weekly job's, else counted now from the tickets' stored terms
        topics = {s: t for s in scopes if (t := tickets.topics(db, week, s)) is not None}
        if len(topics) < len(scopes):
            todo = {s: scope_members(units, s) for s in scopes if s not in topics}
            topics.update(hot_topics_for(tickets.period_terms(db, start, end, only), todo, tokenizer))
    by_unit_now = _by_unit(now_rows)
    all_now = with_praise(compute(now_rows, start, end, now, now_ratings,
                                  misses=tickets.misses_in(db, start, end, only),
                                  cases=tickets.cases_in(db, start, end, only)),
                          tickets.praise_by_unit(db, start, end, only))
    all_before = with_praise(compute(before_rows, prev_start, prev_end, now, before_ratings,
                                     misses=tickets.misses_in(db, prev_start, prev_end, only),
                                     cases=tickets.cases_in(db, prev_start, prev_end, only)),
                             tickets.praise_by_unit(db, prev_start, prev_end, only))
    bound = staff.count_by_unit(db)
    # those whose tickets a stand-in took this week first: the ones a leader's call changes most
    nobody = sorted((u for c, u in units.items() if u["kind"] in review.REVIEWED_KINDS and not bound.get(c)),
                    key=lambda u: (-all_now.get(u["code"], Rates()).stood_in, review.kind_order(u["kind"]),
                                   u["name"]))
    out = {}
    for scope in scopes:
        members = scope_members(units, scope)
        pick = (lambda rates_: rates_) if members is None else \
            (lambda rates_: {c: r for c, r in rates_.items() if c in members})
        now_rates, before_rates = pick(all_now), pick(all_before)
        rows = now_rows if members is None else [t for c in members for t in by_unit_now.get(c, ())]
        week_rows = sorted((t for t in rows if start <= t["created_at"] < end), key=lambda t: t["id"])
        lines = [UnitLine(code, units.get(code, {}).get("name", code), now_rates[code],
                          before_rates.get(code, Rates())) for code in sorted(now_rates)
                 if now_rates[code].shown]  # as the dashboard lists them: a week of ratings only is shown too
        lines.sort(key=lambda u: (-(u.now.dispatched + u.now.open_overdue), u.name))
        # the review's rule: a rate on fewer than min_cases tickets is 样本不足, not a reason to single a unit out
        ranked = [u for u in lines if review.counted(u.now, "resolution", min_cases) is not None]
        bottom = sorted(ranked, key=lambda u: (u.now.resolution, u.now.response or 0, u.name))[:BOTTOM]
        bottom = [u for u in bottom if (u.now.resolution or 0) < 1.0]
        overdue = [t for t in overdue_rows if members is None or t["unit_code"] in members]
        out[scope] = Digest(
            week=week, scope=scope, scope_name=units[scope]["name"] if scope != "bureau" else "全局",
            start=start, end=end,
            new_by_kind=dict(Counter(t["kind"] for t in week_rows)),
            new_by_category=dict(Counter(t["category"] for t in week_rows).most_common()),
            new_total=len(week_rows),
            resolved=sum(1 for t in rows if t["resolved_at"] and start <= t["resolved_at"] < end),
            overdue_now=overdue,
            overall=total(now_rates), overall_before=total(before_rates),
            units=lines, bottom=bottom,
            topics=[tuple(t) for t in topics.get(scope, [])],
            repeated=repeated(week_rows, units),
            generated_at=now,
            unstaffed=[u["name"] for u in nobody if members is None or u["code"] in members],
        )
    return out


def _by_unit(rows: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for t in rows:
        out.setdefault(t["unit_code"], []).append(t)
    return out


def hot_topics_for(rows: list[tuple[str | None, str | None, str | None]], scopes: dict[str, set[str] | None],
                   tokenizer=None) -> dict[str, list[tuple[str, int]]]:
    """Each scope's hot topics from the period's (unit, stored terms, text) (storage.tickets.period_terms; see
    handlers/topics.py)."""
    from handlers import topics as topics_
    return topics_.for_scopes(rows, scopes, tokenizer)


def hot_topics(texts_: list[str], tokenizer=None, top: int = 8) -> list[tuple[str, int]]:
    """The topics of a list of texts (one scope), each cut now."""
    return hot_topics_for([(None, None, t) for t in texts_], {"all": None}, tokenizer)["all"][:top]


def repeated(week_rows: list[dict], units: dict) -> list[dict[str, Any]]:
    """Complaints about the same school and topic, twice or more in the week."""
    groups = Counter((t["school_code"], t["category"]) for t in week_rows
                     if t["kind"] == "complaint" and t["school_code"])
    return [{"school": units.get(s, {}).get("name", s), "category": texts.CATEGORY_NAMES.get(c, c), "count": n}
            for (s, c), n in groups.most_common() if n >= 2]


def change(now: float | None, before: float | None) -> str:
    if now is None or before is None:
        return ""
    diff = round((now - before) * 100)
    return "（持平）" if diff == 0 else f"（{'↑' if diff > 0 else '↓'}{abs(diff)}）"


def message(d: Digest, tz, url: str) -> str:
    """The short WeChat text; the page at `url` has everything."""
    o, b = d.overall, d.overall_before
    lines = [
        texts.DIGEST_HEAD.format(who="上周" if d.scope == "bureau" else d.scope_name + "上周",
                                 period=d.period_text(tz), week=int(d.week.split("-W")[1])),
        f"新增{d.new_total}件，办结{d.resolved}件，目前超期{d.overdue_count}件"
        + (f"，收到表扬{o.praised}件。" if o.praised else "。"),
    ]
    # each rate on its own line with what it counts, so a number is never read without its meaning or its base
    for rate, (name, counted, base_name, none) in texts.DIGEST_RATES.items():
        value = getattr(o, rate)
        if value is None:
            lines.append(texts.DIGEST_RATE_NONE.format(name=name, none=none))
            continue
        part = o.accepted_in_time if rate == "response" else o.resolved_in_time if rate == "resolution" else o.satisfied
        extra = texts.DIGEST_OPEN_OVERDUE.format(n=o.open_overdue) if rate == "resolution" and o.open_overdue else ""
        lines.append(texts.DIGEST_RATE.format(name=name, value=percent(value), change=change(value, getattr(b, rate)),
                                              counted=counted, part=part, base_name=base_name, base=o.base(rate),
                                              extra=extra))
    if any(change(getattr(o, r), getattr(b, r)) for r in texts.DIGEST_RATES):
        lines.append(texts.DIGEST_CHANGE_NOTE)
    if o.first_rated or o.dissatisfied:
        lines.append(f"首次评价满意率{percent(o.first_satisfaction)}，收到不满意{o.dissatisfied}次。")
    if d.bottom and d.scope == "bureau":
        lines.append("需关注：" + "、".join(f"{u.name}（解决率{percent_of(u.now, 'resolution')}）" for u in d.bottom))
    if d.unstaffed:
        named = "、".join(d.unstaffed[:UNSTAFFED_NAMED]) + ("等" if len(d.unstaffed) > UNSTAFFED_NAMED else "")
        lines.append(texts.DIGEST_UNSTAFFED.format(n=len(d.unstaffed), names=named))
    if d.topics:
        lines.append("热点：" + "、".join(w for w, _ in d.topics[:5]))
    if d.repeated:
        r = d.repeated[0]
        lines.append(f"重复投诉：{r['school']}·{r['category']}（{r['count']}件）")
    lines.append(f"完整周报：{url}")
    return "\n".join(lines)
