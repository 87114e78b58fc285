"""群众评议 results per unit and question: counts, mean, distribution, 95% confidence interval, comparison with
the bureau (all units of the survey) and with the previous survey; 样本不足 below the configured minimum.

What counts: each person's last submitted answers. Responses in a burst (too many through one unit's code within
an hour) are left out of the figures and shown beside them; responses from people who had just followed the
account are counted and their number shown. `period_results` gives the performance review (绩效考核) the same
figures for any period.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Iterable

from handlers.survey import Survey
from storage import directory, surveys as store

# Two-sided 95% critical values of Student's t for 1…30 degrees of freedom; 1.96 beyond.
_T95 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
        2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)
INSUFFICIENT = "样本不足"


def t95(df: int) -> float:
    return _T95[df - 1] if 1 <= df <= len(_T95) else 1.96


@dataclass
class QuestionResult:
    question: str
    topic: str
    type: str
    n: int = 0
    mean: float | None = None          # scale questions; None when 样本不足 or not a scale
    ci: tuple[float, float] | None = None
    distribution: dict[str, int] = field(default_factory=dict)   # "1".."5" or option text -> count
    bureau_mean: float | None = None
    previous_mean: float | None = None
    burst_n: int = 0                   # shown separately, not in n
    burst_mean: float | None = None
    enough: bool = False
    comments: int = 0                  # text questions: how many wrote something (the words stay private)

    @property
    def change(self) -> float | None:
        if self.mean is None or self.previous_mean is None:
            return None
        return round(self.mean - self.previous_mean, 2)

    @property
    def status(self) -> str:
        return "" if self.enough else INSUFFICIENT


@dataclass
class UnitResult:
    unit: str
    name: str
    kind: str
    n: int                             # responses counted
    new_followers: int                 # of which from people who had just followed: counted, marked
    burst: int                         # left out, shown separately
    questions: list[QuestionResult]

    @property
    def enough(self) -> bool:
        return any(q.enough for q in self.questions)

    @property
    def score(self) -> float | None:
        """Mean of the scale questions' means mapped to 0–100 ((mean − 1) / 4 × 100); None when 样本不足."""
        means = [q.mean for q in self.questions if q.type == "scale" and q.mean is not None]
        return round((sum(means) / len(means) - 1) / 4 * 100, 1) if means else None


def _stats(values: list[float]) -> tuple[float, tuple[float, float] | None]:
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = t95(n - 1) * sd / math.sqrt(n)
    return mean, (max(1.0, mean - half), min(5.0, mean + half))


def compute(survey: Survey, rows: list[dict[str, Any]], units: dict[str, dict[str, Any]], min_responses: int,
            previous: Survey | None = None, previous_rows: Iterable[dict[str, Any]] = ()) -> dict[str, UnitResult]:
    """Results per unit code (every unit with a response), from `storage.surveys.submitted` rows."""
    counted = [r for r in rows if not r["burst"]]
    prev_by_unit: dict[str, dict[str, list[int]]] = {}
    if previous is not None:
        for r in previous_rows:
            if not r["burst"]:
                for q in previous.questions:
                    v = r["answers"].get(q.id)
                    if q.type == "scale" and isinstance(v, int):
                        prev_by_unit.setdefault(r["unit_code"], {}).setdefault(q.id, []).append(v)
    bureau: dict[str, float] = {}
    for q in survey.questions:
        values = [r["answers"][q.id] for r in counted if isinstance(r["answers"].get(q.id), int)]
        if q.type == "scale" and len(values) >= min_responses:
            bureau[q.id] = round(sum(values) / len(values), 2)
    out: dict[str, UnitResult] = {}
    for code in sorted({r["unit_code"] for r in rows}):
        mine = [r for r in counted if r["unit_code"] == code]
        burst = [r for r in rows if r["unit_code"] == code and r["burst"]]
        results = []
        for q in survey.questions:
            res = QuestionResult(q.id, q.topic, q.type, bureau_mean=bureau.get(q.id))
            values = [r["answers"].get(q.id) for r in mine]
            values = [v for v in values if v is not None]
            res.n = len(values)
            res.enough = res.n >= min_responses
            if q.type == "text":
                res.comments = res.n
                results.append(res)
                continue
            keys = [str(i) for i in range(1, 6)] if q.type == "scale" else list(q.options)
            res.distribution = {k: 0 for k in keys}
            for v in values:
                key = str(v) if q.type == "scale" else q.options[v - 1]
                res.distribution[key] += 1
            if q.type == "scale":
                if res.enough and values:
                    mean, ci = _stats(values)
                    res.mean = round(mean, 2)
                    res.ci = (round(ci[0], 2), round(ci[1], 2)) if ci else None
                prev = prev_by_unit.get(code, {}).get(q.id, [])
                if previous is not None and previous.question(q.id) and len(prev) >= min_responses:
                    res.previous_mean = round(sum(prev) / len(prev), 2)
                bv = [r["answers"].get(q.id) for r in burst if isinstance(r["answers"].get(q.id), int)]
                res.burst_n = len(bv)
                res.burst_mean = round(sum(bv) / len(bv), 2) if bv else None
            results.append(res)
        unit = units.get(code, {})
        out[code] = UnitResult(code, unit.get("name", code), unit.get("kind", ""), len(mine),
                               sum(1 for r in mine if r["new_follower"]), len(burst), results)
    return out


def survey_results(db, survey: Survey, defs: dict[str, Survey], min_responses: int,
                   unit_code: str | None = None, since: float | None = None,
                   until: float | None = None) -> dict[str, UnitResult]:
    """A survey's results from the database (runs inside a connection: a read, no writes). `since`/`until`: only
    the answers submitted in [since, until), as the performance review of that period counts them
    (period_units)."""
    rows = store.submitted(db, [survey.id], since, until)
    previous = defs.get(survey.previous) if survey.previous else None
    prev_rows = store.submitted(db, [previous.id]) if previous else []
    units = {u["code"]: u for u in directory.all_units(db)}
    results = compute(survey, rows, units, min_responses, previous, prev_rows)
    return {k: v for k, v in results.items() if unit_code is None or k == unit_code}


def period_results(db, defs: dict[str, Survey], since: float, until: float,
                   min_responses: int) -> dict[str, dict[str, QuestionResult]]:
    """For the performance review: {unit code: {"<survey id>:<question id>": QuestionResult}} over every survey
    with responses submitted in [since, until), computed from those responses only. A unit's 评议 score for the
    period is `UnitResult.score` of `period_units`."""
    return {code: {f"{sid}:{q.question}": q for sid, unit in per.items() for q in unit.questions}
            for code, per in _period(db, defs, since, until, min_responses).items()}


def period_units(db, defs: dict[str, Survey], since: float, until: float,
                 min_responses: int) -> dict[str, dict[str, UnitResult]]:
    """{unit code: {survey id: UnitResult}} for responses submitted in [since, until)."""
    return _period(db, defs, since, until, min_responses)


def _period(db, defs, since, until, min_responses) -> dict[str, dict[str, UnitResult]]:
    units = {u["code"]: u for u in directory.all_units(db)}
    out: dict[str, dict[str, UnitResult]] = {}
    for survey in defs.values():
        rows = store.submitted(db, [survey.id], since, until)
        if not rows:
            continue
        previous = defs.get(survey.previous) if survey.previous else None
        prev_rows = store.submitted(db, [previous.id]) if previous else []
        for code, result in compute(survey, rows, units, min_responses, previous, prev_rows).items():
            out.setdefault(code, {})[survey.id] = result
    return out


CSV_COLUMNS = ("survey", "unit", "unit_name", "question", "topic", "type", "n", "status", "mean", "ci_low", "ci_high",
               "bureau_mean", "previous_mean", "change", "distribution", "new_followers", "burst_n", "burst_mean")


def csv_rows(survey: Survey, results: dict[str, UnitResult]) -> list[dict[str, Any]]:
    rows = []
    for code, unit in results.items():
        for q in unit.questions:
            rows.append({
                "survey": survey.id, "unit": code, "unit_name": unit.name, "question": q.question, "topic": q.topic, "type": q.type,
                "n": q.n, "status": q.status, "mean": q.mean, "ci_low": q.ci[0] if q.ci else None,
                "ci_high": q.ci[1] if q.ci else None, "bureau_mean": q.bureau_mean, "previous_mean": q.previous_mean,
                "change": q.change,
                "distribution": ";".join(f"{k}:{v}" for k, v in q.distribution.items()),
                "new_followers": unit.new_followers, "burst_n": q.burst_n if q.type == "scale" else unit.burst,
                "burst_mean": q.burst_mean})
    return rows


def format_results(survey: Survey, results: dict[str, UnitResult], min_responses: int) -> str:
    """A plain-text table for the terminal."""
    lines = [f"{survey.title} ({survey.id}), {survey.opens}–{survey.closes}; 样本不足 below {min_responses}"]
    if not results:
        lines.append("  no responses yet")
    for code, unit in results.items():
        score = f"{unit.score:.1f}" if unit.score is not None else INSUFFICIENT
        lines.append(f"\n{unit.name} ({code}): {unit.n} counted, {unit.new_followers} from new followers, "
                     f"{unit.burst} in bursts (not counted); score {score}")
        for q in unit.questions:
            if q.type == "text":
                lines.append(f"  {q.topic:<8} {q.comments} comment(s)")
                continue
            if q.type == "choice":
                dist = ", ".join(f"{k} {v}" for k, v in q.distribution.items())
                lines.append(f"  {q.topic:<8} n={q.n}  {dist}")
                continue
            if not q.enough:
                lines.append(f"  {q.topic:<8} n={q.n}  {INSUFFICIENT}")
                continue
            ci = f"[{q.ci[0]:.2f}, {q.ci[1]:.2f}]" if q.ci else "—"
            cmp_ = f"  bureau {q.bureau_mean:.2f}" if q.bureau_mean is not None else ""
            if q.change is not None:
                cmp_ += f"  previous {q.previous_mean:.2f} ({q.change:+.2f})"
            dist = " ".join(f"{k}:{v}" for k, v in q.distribution.items())
            burst = f"  burst n={q.burst_n} mean {q.burst_mean:.2f}" if q.burst_n else ""
            lines.append(f"  {q.topic:<8} n={q.n}  mean {q.mean:.2f}  95% CI {ci}{cmp_}  ({dist}){burst}")
    return "\n".join(lines)
