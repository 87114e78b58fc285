"""The performance review (绩效考核): one score per unit and period, and a rank among units of the same kind.

Periods: a month `2026-11`, a quarter `2026-Q4` or a year `2026`, in the bot's time zone.

Each unit's figures for the period (handlers.rates for the three rates, first-time satisfaction and the overdue
count; 退回 from the ticket events; 表扬 received; the 群众评议 score of handlers.survey_results.period_units) are
turned into component scores on 0–100:

    响应率, 解决率, 满意率, 首次满意率   the rate × 100
    超期 (overdue)                      100 × (1 − overdue / the most overdue among units of the same kind);
                                        overdue = resolved late + still open past the deadline at the period's end
    退回 (bounced)                      100 × (1 − bounced / the most bounced among units of the same kind)
    群众评议 (survey)                    the survey score (mean of the scale questions, (mean − 1) / 4 × 100);
                                        the mean over the period's surveys with enough responses
    表扬 (praise)                       100 × min(1, praise / the median praise of the kind's praised units):
                                        full marks at the typical praised unit's count. Not the most praised
                                        unit's: one unit stuffed with praise would lower every rival's score;
                                        one unit moves the median by one place at most, and cannot pass 100
    在岗 (staffed)                      100 × (1 − unattended / (unattended + dispatched)): present only for a unit
                                        that had tickets reach it while nobody was bound (代收, whose 签收 is not
                                        its own: storage.tickets.unattended_in); it scores and ranks the unit
                                        once unattended + dispatched reach `min_cases` (样本不足 below)

A rate resting on fewer than `min_cases` tickets or ratings ([review] min_cases) is 样本不足: shown with its count,
not scored. A component with nothing to measure is left out (a unit with no ticket handled has no 超期 score, a kind in which
nobody was praised has no 表扬 score), and the score is the weighted mean of the components present:
score = Σ wᵢ·sᵢ / Σ wᵢ. A unit is scored and ranked only when something of its own service was measured: one of
the four rates or its 评议 score. 在岗 weighs on a unit that is (a penalty beside its own work) but never ranks one
alone: a school whose every ticket the duty office handled (代收, every rate "—") has no service of its own to
score, and a 0.0 would rank it below every school that answered badly. Such a unit, and one with no tickets or too
few, is listed apart as 不参与排名 with its reason (`unranked`: 无在岗人员 with the 代收 count and a hint to the
leader, 本期无工单, 样本不足), one rule for every surface (workbench, signed ranking page, XLSX, unit report,
terminal) — visible, so unbinding everyone is no quiet way out either.
Ranks are within the kind (1 = best; equal scores share a rank). Weights come from [review] in the config.

District and bureau levels pool the counts of their units (so their rates are rates of all their tickets) and
give the mean score of their scored units.
"""
from __future__ import annotations

import dataclasses

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field, fields
from typing import Any
from zoneinfo import ZoneInfo

from handlers.rates import Rates, total

PERIOD = re.compile(r"^(\d{4})(?:-(0[1-9]|1[0-2])|-Q([1-4]))?$")
REVIEWED_KINDS = ("office", "district", "school", "kindergarten")
COMPONENTS = ("response", "resolution", "satisfaction", "first_satisfaction", "overdue", "bounced", "survey",
              "praise", "staffed")
RATES = ("response", "resolution", "satisfaction", "first_satisfaction")  # Rates' own, with their counts
SERVICE = (*RATES, "survey")  # the unit's own service: a unit is scored and ranked only when one was measured
COMPONENT_NAMES = {"response": "响应率", "resolution": "解决率", "satisfaction": "满意率",
                   "first_satisfaction": "首次满意率", "overdue": "超期", "bounced": "退回", "survey": "群众评议",
                   "praise": "表扬", "staffed": "在岗"}


@dataclass(frozen=True)
class Weights:
    """The first eight sum to 1; any non-negative numbers work (the score divides by the weights present). 在岗 is
    present only for a unit that had nobody bound: its weight is a penalty added to the others."""

    response: float = 0.15
    resolution: float = 0.20
    satisfaction: float = 0.20
    first_satisfaction: float = 0.10
    overdue: float = 0.05
    bounced: float = 0.05
    survey: float = 0.20
    praise: float = 0.05
    staffed: float = 0.20

    def as_dict(self) -> dict[str, float]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


# -- periods -----------------------------------------------------------------------------------------------------

def parse_period(text: str) -> tuple[dt.date, dt.date]:
    """First day and the day after the last of `2026-11`, `2026-Q4` or `2026`; ValueError otherwise."""
    m = PERIOD.match(text.strip())
    if not m:
        raise ValueError(f"period must look like 2026-11, 2026-Q4 or 2026, not {text!r}")
    year = int(m.group(1))
    if m.group(2):
        first, months = dt.date(year, int(m.group(2)), 1), 1
    elif m.group(3):
        first, months = dt.date(year, 3 * int(m.group(3)) - 2, 1), 3
    else:
        first, months = dt.date(year, 1, 1), 12
    n = first.month - 1 + months
    return first, dt.date(year + n // 12, n % 12 + 1, 1)


def bounds(period: str, tz: str | dt.tzinfo) -> tuple[float, float]:
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    first, after = parse_period(period)
    return (dt.datetime.combine(first, dt.time(0), tz).timestamp(),
            dt.datetime.combine(after, dt.time(0), tz).timestamp())


def period_name(period: str) -> str:
    m = PERIOD.match(period)
    if not m:
        return period
    if m.group(2):
        return f"{m.group(1)}年{int(m.group(2))}月"
    if m.group(3):
        return f"{m.group(1)}年第{m.group(3)}季度"
    return f"{m.group(1)}年度"


def month_of(ts: float, tz: str | dt.tzinfo, offset: int = 0) -> str:
    """The month containing ts (offset −1: the month before)."""
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    d = dt.datetime.fromtimestamp(ts, tz).date()
    n = d.year * 12 + d.month - 1 + offset
    return f"{n // 12}-{n % 12 + 1:02d}"


def month_ended_in(start: float, end: float, tz) -> str | None:
    """The month whose last day falls in [start, end) (a weekly digest's week), if one does."""
    last = month_of(end - 1, tz)
    return month_of(end - 1, tz, -1) if month_of(start, tz) != last else \
        (last if month_of(end, tz) != last else None)


def relative_period(word: str, now: float, tz) -> str | None:
    """本月 / 上月 / 本季度 / 上季度 / 今年 / 去年 as a period, for the 点评 command; None for anything else."""
    tz = ZoneInfo(tz) if isinstance(tz, str) else tz
    d = dt.datetime.fromtimestamp(now, tz).date()
    q = (d.month - 1) // 3 + 1
    prev_q = (d.year, q - 1) if q > 1 else (d.year - 1, 4)
    return {"本月": month_of(now, tz), "上月": month_of(now, tz, -1), "本季度": f"{d.year}-Q{q}",
            "上季度": f"{prev_q[0]}-Q{prev_q[1]}", "今年": str(d.year), "本年": str(d.year),
            "去年": str(d.year - 1)}.get(word)


# -- the review ----------------------------------------------------------------------------------------------------

@dataclass
class Figures:
    """What was counted for a unit (or pooled for a level) in the period."""

    rates: Rates = field(default_factory=Rates)
    bounced: int = 0
    praise: int = 0
    survey: float | None = None     # 0–100
    survey_n: int = 0               # responses counted in it
    withdrawn: int = 0              # tickets their writers took back from the unit: shown, not scored
    unattended: int = 0             # tickets that reached it with nobody bound (代收, not signed by it): 在岗
    survey_ruled: int = 0           # days of its 评议 a leader ruled on (storage.surveys.rule_day): shown beside
    praise_aside: list[str] = field(default_factory=list)  # 表扬 set aside by a burst check: shown beside 表扬
    surveys: tuple[str, ...] = ()   # the surveys whose answers `survey` rests on: the 评议 figure links to them

    @property
    def overdue(self) -> int:
        r = self.rates
        return (r.resolved - r.resolved_in_time) + r.open_overdue

    @property
    def handled(self) -> int:
        """Tickets the 解决率 counts (resolved in the period, or open past the deadline at its end)."""
        return self.rates.resolved + self.rates.open_overdue


@dataclass
class UnitReview:
    code: str
    name: str
    kind: str
    district: str | None
    parent: str | None
    figures: Figures
    scores: dict[str, float | None] = field(default_factory=dict)
    score: float | None = None
    rank: int | None = None
    ranked: int = 0                 # how many units of the kind have a rank
    comments: list[dict[str, Any]] = field(default_factory=list)
    unranked: str | None = None     # why it has no rank: a key of texts.REVIEW_UNRANKED (None: ranked)
    why: str = ""                   # the same in words, with what a leader can do (`unranked`): every surface's
    reason: str = ""                # the words without the leader's hint (the ranking link principals get too)


@dataclass
class LevelReview:
    code: str
    name: str
    figures: Figures
    units: int                      # units reviewed in it
    mean_score: float | None
    unstaffed: int = 0              # of them, listed apart as 无在岗人员: not in the mean, so shown beside it


@dataclass
class Review:
    period: str
    start: float
    end: float
    weights: Weights
    units: list[UnitReview]
    districts: list[LevelReview]
    bureau: LevelReview
    min_cases: int = 1

    @property
    def name(self) -> str:
        return period_name(self.period)

    def unit(self, code: str) -> UnitReview | None:
        return next((u for u in self.units if u.code == code), None)


def median_praised(counts: list[int]) -> float:
    """The 表扬 reference of a kind: the median count among its units praised at all (0: nobody was). A count a
    bureau can trust: no one unit's praise, however stuffed, lowers another's score."""
    praised = sorted(c for c in counts if c > 0)
    if not praised:
        return 0
    mid = len(praised) // 2
    return praised[mid] if len(praised) % 2 else (praised[mid - 1] + praised[mid]) / 2


def assemble(units: list[dict], rates: dict[str, Rates], bounced: dict[str, int], praise: dict[str, int],
             survey: dict[str, tuple[float | None, int]], weights: Weights, period: str, start: float, end: float,
             comments: list[dict] = (), kind: str | None = None, min_cases: int = 1,
             withdrawn: dict[str, int] | None = None, unattended: dict[str, int] | None = None,
             survey_ruled: dict[str, int] | None = None, praise_aside: dict[str, list[str]] | None = None,
             survey_ids: dict[str, tuple[str, ...]] | None = None) -> Review:
    """The review from figures already counted (pure: the hand-computed test feeds it directly too)."""
    by_code = {u["code"]: u for u in units}
    reviewed = [u for u in units if u["kind"] in REVIEWED_KINDS and (kind is None or u["kind"] == kind)]
    out: list[UnitReview] = []
    for u in reviewed:
        s, n = survey.get(u["code"], (None, 0))
        f = Figures(rates.get(u["code"], Rates()), bounced.get(u["code"], 0), praise.get(u["code"], 0), s, n,
                    (withdrawn or {}).get(u["code"], 0), (unattended or {}).get(u["code"], 0),
                    (survey_ruled or {}).get(u["code"], 0), (praise_aside or {}).get(u["code"], []),
                    (survey_ids or {}).get(u["code"], ()))
        out.append(UnitReview(u["code"], u["name"], u["kind"], u.get("district"), u.get("parent"), f))
    for k in {u.kind for u in out}:
        same = [u for u in out if u.kind == k]
        worst_overdue = max((u.figures.overdue for u in same if u.figures.handled), default=0)
        worst_bounced = max((u.figures.bounced for u in same), default=0)
        praise_ref = median_praised([u.figures.praise for u in same])
        for u in same:
            f, r = u.figures, u.figures.rates
            sc: dict[str, float | None] = {
                **{c: _pct(counted(r, c, min_cases)) for c in RATES},
                "overdue": None if not f.handled else
                100.0 if not worst_overdue else 100 * (1 - f.overdue / worst_overdue),
                "bounced": None if not (r.dispatched or f.bounced) else
                100.0 if not worst_bounced else 100 * (1 - f.bounced / worst_bounced),
                "survey": f.survey,
                "praise": None if not praise_ref else 100 * min(1.0, f.praise / praise_ref),
                # a rate like the others: resting on fewer than min_cases tickets it is 样本不足, not a rank
                "staffed": None if f.unattended + r.dispatched < min_cases or not f.unattended else
                100 * (1 - f.unattended / (f.unattended + r.dispatched)),
            }
            u.scores = {c: None if v is None else round(v, 1) for c, v in sc.items()}
            # 在岗 is no service of the unit's own: alone it does not score (nor rank) one
            measured = any(sc[c] is not None for c in SERVICE)
            w = weights.as_dict()
            parts = [(w[c], v) for c, v in sc.items() if v is not None and w[c] > 0]
            den = sum(wi for wi, _ in parts)
            u.score = round(sum(wi * v for wi, v in parts) / den, 1) if measured and den else None
            u.unranked = None if u.score is not None else _why_unranked(f)
            u.why, u.reason = unranked(u, min_cases), unranked(u, min_cases, hint=False)
        scored = sorted((u for u in same if u.score is not None), key=lambda u: -u.score)
        for u in scored:
            u.rank = 1 + sum(1 for o in scored if o.score > u.score)
            u.ranked = len(scored)
    for c in comments:
        unit = next((u for u in out if u.code == c["unit_code"]), None)
        if unit is not None:
            unit.comments.append(c)
    out.sort(key=lambda u: (REVIEWED_KINDS.index(u.kind), u.rank is None, u.rank or 0, u.code))

    def level(code: str, name: str, members: list[UnitReview]) -> LevelReview:
        f = Figures(total({u.code: u.figures.rates for u in members}), sum(u.figures.bounced for u in members),
                    sum(u.figures.praise for u in members), withdrawn=sum(u.figures.withdrawn for u in members),
                    unattended=sum(u.figures.unattended for u in members))
        with_survey = [u.figures for u in members if u.figures.survey is not None]
        if with_survey:
            f.survey_n = sum(x.survey_n for x in with_survey)
            f.survey = round(sum(x.survey for x in with_survey) / len(with_survey), 1)
        scores = [u.score for u in members if u.score is not None]
        return LevelReview(code, name, f, len(members), round(sum(scores) / len(scores), 1) if scores else None,
                           sum(u.unranked == "unstaffed" for u in members))

    districts = []
    for d in (u for u in units if u["kind"] == "district"):
        members = [u for u in out if u.code == d["code"] or by_code.get(u.code, {}).get("parent") == d["code"]]
        districts.append(level(d["code"], d["name"], members))
    bureau = next((u for u in units if u["kind"] == "bureau"), {"code": "bureau", "name": "全局"})
    return Review(period, start, end, weights, out, districts, level(bureau["code"], bureau["name"], out),
                  min_cases)


def counted(r: Rates, rate: str, min_cases: int) -> float | None:
    """A rate as the review counts it: None when it rests on fewer than `min_cases` tickets (样本不足). The one
    rule the review's scores, the dashboard's ranking and the digest's 需关注 list share."""
    return getattr(r, rate) if r.base(rate) >= min_cases else None


def kind_order(kind: str) -> int:
    """Where a kind of unit is listed: units are ranked within their kind, in this order."""
    return REVIEWED_KINDS.index(kind) if kind in REVIEWED_KINDS else len(REVIEWED_KINDS)


def _why_unranked(f: Figures) -> str:
    """The reason key of a unit with no score: nobody there, nothing at all, or too little."""
    r = f.rates
    if f.unattended and not (r.dispatched or r.rated):  # nothing of its own: every ticket went to a stand-in
        return "unstaffed"
    if not (r.shown or f.survey_n):
        return "no_tickets"
    return "few"


def unranked(u: UnitReview, min_cases: int, hint: bool = True) -> str:
    """"不参与排名：<reason>" (and what a leader can do), worded once for every surface; "" for a ranked unit."""
    from handlers import texts
    if u.unranked is None:
        return ""
    reason, advice = texts.REVIEW_UNRANKED[u.unranked]
    line = f"{texts.REVIEW_UNRANKED_HEAD}：" + reason.format(n=u.figures.unattended, min=min_cases)
    return line + (f"。{advice}" if hint and advice else "")


def _pct(v: float | None) -> float | None:
    return None if v is None else v * 100


def rules(weights: Weights, min_cases: int, min_responses: int) -> dict[str, Any]:
    """What a review's scores depend on besides the data: recorded at each start of the service when changed
    (storage.review.record_rules), so a closed period keeps the rules it was scored by."""
    return {"weights": weights.as_dict(), "min_cases": min_cases, "min_responses": min_responses}


def kept_rules(kept: dict[str, Any] | None, weights: Weights, min_cases: int, min_responses: int
               ) -> tuple[Weights, int, int]:
    """The recorded rules as build's arguments (a component added since takes today's weight); today's where none."""
    if kept is None:
        return weights, min_cases, min_responses
    known = {f.name for f in fields(Weights)}
    return (Weights(**{**weights.as_dict(), **{k: v for k, v in kept["weights"].items() if k in known}}),
            kept.get("min_cases", min_cases), kept.get("min_responses", min_responses))


def as_shown(db, period: str, tz, weights: Weights, surveys: dict | None = None, min_responses: int = 30,
             now: float | None = None, kind: str | None = None, min_cases: int = 1) -> Review:
    """The review as every surface shows it (workbench, ranking page, XLSX, `tingjian review`): build's, where a
    period ended by `now` is scored by the rules recorded in force at its end (m078), not by the `weights`,
    `min_responses` and `min_cases` given (today's config): editing [review] never rescores a closed review."""
    weights, min_cases, min_responses = rules_in_force(db, period, tz, now, weights, min_cases, min_responses)
    return build(db, period, tz, weights, surveys, min_responses, now, kind, min_cases)


def rules_in_force(db, period: str, tz, now: float | None, weights: Weights, min_cases: int, min_responses: int
                   ) -> tuple[Weights, int, int]:
    """(weights, min_cases, min_responses) a period is scored by: for one ended by `now`, those recorded in force
    at its end (m078); else those given (today's config). A read: on a reader connection."""
    from storage import review as review_store
    end = bounds(period, tz)[1]
    if now is None or end > now:
        return weights, min_cases, min_responses
    return kept_rules(review_store.rules_at(db, end), weights, min_cases, min_responses)


def build(db, period: str, tz, weights: Weights, surveys: dict | None = None, min_responses: int = 30,
          now: float | None = None, kind: str | None = None, min_cases: int = 1) -> Review:
    """The review of a period from the database (a read: run it on a reader connection). `now`: when it is read
    (a 签收 window still open then does not count yet; None: every window counts as ended). Scored by the
    rules given; what every surface shows is `as_shown`'s."""
    from handlers.survey_results import period_units
    from storage import directory, review as review_store, surveys as survey_store, tickets
    from handlers import rates as rates_
    start, end = bounds(period, tz)
    # the per-unit-per-day counts, as the dashboard reads them: a year costs its days, not its tickets' rows
    rates = rates_.for_period(db, start, end, None, now)
    praise = tickets.praise_by_unit(db, start, end)  # each person once
    survey: dict[str, tuple[float | None, int]] = {}
    survey_ids: dict[str, tuple[str, ...]] = {}
    for code, per in (period_units(db, surveys, start, end, min_responses) if surveys else {}).items():
        scored = [r for r in per.values() if r.score is not None]
        survey[code] = (round(sum(r.score for r in scored) / len(scored), 1) if scored else None,
                        sum(r.n for r in per.values()))
        survey_ids[code] = tuple(sorted(per))
    return assemble(directory.all_units(db), rates, tickets.bounces_in(db, start, end), praise,
                    survey, weights, period, start, end, review_store.comments(db, period), kind, min_cases,
                    tickets.withdrawals_in(db, start, end), tickets.unattended_in(db, start, end),
                    survey_store.ruled_days(db, start, end) if surveys else {}, tickets.praise_set_aside(db, start, end),
                    survey_ids)


def format_text(review: Review) -> str:
    """The ranking as a terminal table."""
    from handlers import texts
    from handlers.rates import percent, stood_in
    lines = [f"绩效考核 {review.name}（{review.period}）"]
    b = review.bureau.figures
    lines.append(f"全局：受理{b.rates.dispatched}件，响应率{percent(b.rates.response)}，解决率"
                 f"{percent(b.rates.resolution)}，满意率{percent(b.rates.satisfaction)}，超期{b.overdue}件，"
                 f"退回{b.bounced}次，表扬{b.praise}件；单位平均得分{_num(review.bureau.mean_score)}"
                 + (f"（另有{review.bureau.unstaffed}个单位无在岗人员，不参与排名）" if review.bureau.unstaffed else ""))
    kind = None
    for u in review.units:
        if u.kind != kind:
            kind, apart = u.kind, False
            lines.append(f"\n{_pad(f'[{kind}]', 26)}rank  score  响应  解决  满意  首次  超期  退回  评议  表扬")
        if u.rank is None and not apart:  # listed apart, after the ranked (assemble's order)
            apart = True
            lines.append(f"  -- {texts.REVIEW_UNRANKED_HEAD} --")
        r = u.figures.rates
        lines.append(f"  {_pad(u.name, 26)}{(str(u.rank) if u.rank else '—'):>4}  {_num(u.score):>5}  "
                     f"{percent(r.response):>4}  {percent(r.resolution):>4}  {percent(r.satisfaction):>4}  "
                     f"{percent(r.first_satisfaction):>4}  {u.figures.overdue:>4}  {u.figures.bounced:>4}  "
                     f"{_num(u.figures.survey):>4}  {u.figures.praise:>4}")
        if u.why:
            lines.append(f"      {u.why}")
        if stood_in(r):
            lines.append(f"      {stood_in(r)}")
        if u.figures.unattended:
            lines.append(f"      {unattended(u.figures, u.scores.get('staffed') is None)}")
        if u.figures.praise_aside:
            lines.append(f"      {praise_aside(u.figures)}")
        for c in u.comments:
            lines.append(f"      点评（{c['author']}{'，公开' if c['public'] else ''}）：{c['text']}")
    return "\n".join(lines)


def format_unit(review: Review, code: str) -> str:
    """One unit's report: its figures, each component's score and weight, the score, rank and comments."""
    from handlers.rates import percent, stood_in
    u = review.unit(code)
    if u is None:
        raise ValueError(f"unit {code!r} is not reviewed (unknown, inactive, or not an office, district bureau, "
                         "school or kindergarten)")
    f, r = u.figures, u.figures.rates
    lines = [f"{u.name}（{u.code}）绩效考核 {review.name}",
             f"综合得分 {_num(u.score)}" + (f"，同类第{u.rank}名（共{u.ranked}个）" if u.rank else
                                           f"；{u.why}"),
             f"受理{r.dispatched}件{stood_in(r)}，办结{r.resolved}件（按时{r.resolved_in_time}件），期末超期未办结{r.open_overdue}件；"
             f"评价{r.rated}件，不满意{r.dissatisfied}次；超期{f.overdue}件"
             + (f"（其中逾期后移出{r.left_late}件）" if r.left_late else "") +
             f"，退回{f.bounced}次，表扬{f.praise}件" + (f"（{praise_aside(f)}）" if f.praise_aside else "") + "；"
             f"群众评议{_num(f.survey)}（{f.survey_n}份" + (f"，人工认定{f.survey_ruled}天" if f.survey_ruled else "")
             + "）" + (f"；群众撤回{f.withdrawn}件（不计分）" if f.withdrawn else "")
             + (f"；{unattended(f, u.scores.get('staffed') is None)}" if f.unattended else ""),
             "", f"{_pad('指标', 14)}  数值    得分   权重"]
    values = {"response": percent(r.response), "resolution": percent(r.resolution),
              "satisfaction": percent(r.satisfaction), "first_satisfaction": percent(r.first_satisfaction),
              "overdue": f"{f.overdue}件", "bounced": f"{f.bounced}次", "survey": _num(f.survey),
              "praise": f"{f.praise}件", "staffed": f"{f.unattended}件" if f.unattended else "—"}
    weights = review.weights.as_dict()
    for c in COMPONENTS:
        lines.append(f"{_pad(COMPONENT_NAMES[c], 14)}{values[c]:>6}  {_num(u.scores.get(c)):>5}  {weights[c]:>5}")
    for c in u.comments:
        lines.append(f"\n领导点评（{c['author']}{'，公开' if c['public'] else ''}）：{c['text']}")
    return "\n".join(lines)


def praise_aside(f: Figures) -> str:
    """The 表扬 set aside, worded once for the unit report, the terminal and the workbench."""
    from handlers import texts
    return texts.REVIEW_PRAISE_ASIDE.format(n=len(f.praise_aside))


def unattended(f: Figures, few: bool = False) -> str:
    """The 在岗 flag, worded once for the terminal, the unit report, the XLSX notes and the workbench; `few`: its
    base is under min_cases (样本不足, not scored)."""
    from handlers import texts
    return (texts.REVIEW_UNATTENDED_FEW if few else texts.REVIEW_UNATTENDED).format(n=f.unattended)


def _pad(text: str, width: int) -> str:
    """Left-align by display width: a Chinese character takes two columns in a terminal."""
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(1, width - shown)


def _num(v: float | None) -> str:
    return "—" if v is None else f"{v:.1f}"


# -- 领导点评 from WeChat ---------------------------------------------------------------------------------------------

COMMENT_ROLES = ("leader", "admin")


def public_comments_only(r: Review) -> Review:
    """The ranking as staff other than leaders see it: a leader's internal comment on a unit (not marked 公开) is
    for the leaders, as on the workbench's 绩效考核 page, not for every principal the month's digest reaches."""
    units = [dataclasses.replace(u, comments=[c for c in u.comments if c.get("public")]) for u in r.units]
    return dataclasses.replace(r, units=units)


def comment(db, user: dict, query: str, period: str, public: bool, body: str, now: float, tz, find_unit) -> str:
    """`点评 单位 期间 [公开] 内容` from a leader, parsed by the command table (handlers/commands.py): `period` is
    already in normal form, `body` exactly as typed. `find_unit(db, query) -> (unit | None, error text)`."""
    from handlers import texts
    from storage import review as review_store
    said = period
    period = relative_period(period.upper(), now, tz) or period.upper()
    try:
        parse_period(period)
    except ValueError:
        return texts.REVIEW_COMMENT_PERIOD.format(period=said)
    unit, error = find_unit(db, query)
    if unit is None:
        return error
    review_store.add_comment(db, unit["code"], period, user.get("name") or user["openid"], body, public, now)
    return texts.REVIEW_COMMENT_OK.format(unit=unit["name"], period=period_name(period),
                                          visibility=texts.REVIEW_PUBLIC if public else texts.REVIEW_INTERNAL)
