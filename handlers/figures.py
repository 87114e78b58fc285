"""A leader's or a supervisor's question for figures in plain words (这周收到几件投诉？ 哪个学校超期最多？ 上周满意率
多少？): answered in a few lines from the counts the digest and the dashboard publish (handlers.rates from the
per-unit-per-day counters, the period's new tickets counted in the index, the open tickets past their deadline),
each a small index range. Each kind of question is one row of `QUESTIONS`; a question no row answers is told
what can be asked. The 周报 links follow every answer (Dispatcher.step_staff_text).
"""
from __future__ import annotations

import dataclasses
import re
from collections import Counter
from dataclasses import dataclass
from typing import Callable
from zoneinfo import ZoneInfo

from handlers import dashboard, digest, texts
from handlers.rates import Rates, percent, percent_of, total
from storage import directory, tickets

# The period a question names (the first that matches); none named: this week so far.
PERIODS = (("上周|上个?星期|上个?礼拜", "week", -1, "上周"), ("这周|本周|这个?星期|本星期|这个?礼拜", "week", 0, "本周"),
           ("上个?月", "month", -1, "上月"), ("这个?月|本月", "month", 0, "本月"))
KIND_ASKED = {"投诉": "complaint", "建议": "suggestion", "咨询": "inquiry", "表扬": "praise"}
RATE_ASKED = {"响应率": "response", "解决率": "resolution", "满意率": "satisfaction"}
TOP = 3  # units named in a "which … most" answer


@dataclass
class Ask:
    """What one question needs: the scope's units (None: the bureau), the period, and reads of the database."""
    db: object
    units: dict[str, dict]
    members: set[str] | None
    scope_name: str
    period: dashboard.Period
    period_name: str
    now: float
    tz: ZoneInfo
    text: str

    @property
    def scope(self) -> list[str] | None:
        return sorted(self.members) if self.members is not None else None

    def name(self, code: str | None) -> str:
        return self.units.get(code or "", {}).get("name", code or "未指定单位")

    def rates(self) -> dict[str, Rates]:
        from handlers import rates
        return rates.for_period(self.db, self.period.start, self.period.end, self.scope, self.now)

    def new(self) -> list[tuple]:
        return tickets.created_summary(self.db, self.period.start, self.period.end, self.scope)

    def overdue(self) -> list[dict]:
        return [t for t in tickets.overdue_rows(self.db, self.now, self.scope) if t["due_at"] < self.now]


def _top(counts: Counter, name: Callable[[str], str]) -> str:
    return "、".join(f"{name(code)}{n}件" for code, n in counts.most_common(TOP))


def overdue_most(a: Ask) -> str:
    rows = a.overdue()
    if not rows:
        return texts.FIG_OVERDUE_NONE.format(scope=a.scope_name)
    # 哪个学校: the school the tickets are about (a district office may hold them); else the unit holding them
    by = "school_code" if re.search(r"学校|小学|中学|幼儿园|哪所", a.text) else "unit_code"
    counts = Counter(t[by] for t in rows if t[by])
    if not counts:
        return texts.FIG_OVERDUE.format(scope=a.scope_name, n=len(rows))
    return texts.FIG_OVERDUE_MOST.format(scope=a.scope_name, n=len(rows), top=_top(counts, a.name),
                                         by="涉及学校" if by == "school_code" else "承办单位")


def overdue_count(a: Ask) -> str:
    rows = a.overdue()
    return texts.FIG_OVERDUE.format(scope=a.scope_name, n=len(rows)) if rows else \
        texts.FIG_OVERDUE_NONE.format(scope=a.scope_name)


def _asked_rate(text: str) -> str | None:
    return next((rate for word, rate in RATE_ASKED.items() if word in text), None)


def rate_ranking(a: Ask) -> str:
    rate = _asked_rate(a.text) or "resolution"
    lowest = not re.search(r"最高|最好|第一|前[几三]|排前", a.text)
    ranked = [(code, r) for code, r in a.rates().items() if getattr(r, rate) is not None]
    if not ranked:
        return texts.FIG_RATE_NONE.format(period=a.period_name, scope=a.scope_name, name=texts.DIGEST_RATES[rate][0])
    # equal rates: the one resting on more cases first; each with its count, so one rating never reads as a record
    ranked.sort(key=lambda cr: (getattr(cr[1], rate) if lowest else -getattr(cr[1], rate), -cr[1].base(rate),
                                a.name(cr[0])))
    return texts.FIG_RANKING.format(period=a.period_name, scope=a.scope_name, name=texts.DIGEST_RATES[rate][0],
                                    which="最低" if lowest else "最高",
                                    top="、".join(f"{a.name(c)}{percent_of(r, rate)}" for c, r in ranked[:TOP]))


def rates_overall(a: Ask) -> str:
    o = total(a.rates())
    asked = [r for w, r in RATE_ASKED.items() if w in a.text] or list(RATE_ASKED.values())
    if len(asked) == 1 and getattr(o, asked[0]) is None:  # 满意率多少, none yet: a sentence, not "满意率—：…"
        return texts.FIG_RATE_NONE.format(period=a.period_name, scope=a.scope_name, name=texts.DIGEST_RATES[asked[0]][0])
    lines = [texts.FIG_HEAD.format(period=a.period_name, scope=a.scope_name)]
    for rate in asked:
        name, counted, base_name, _none = texts.DIGEST_RATES[rate]
        value = getattr(o, rate)
        if value is None:
            lines.append(texts.FIG_RATE_EMPTY.format(name=name))
            continue
        part = o.accepted_in_time if rate == "response" else o.resolved_in_time if rate == "resolution" else o.satisfied
        extra = texts.DIGEST_OPEN_OVERDUE.format(n=o.open_overdue) if rate == "resolution" and o.open_overdue else ""
        lines.append(texts.DIGEST_RATE.format(name=name, value=percent(value), change="", counted=counted, part=part,
                                              base_name=base_name, base=o.base(rate), extra=extra))
    return "\n".join(lines)


def resolved(a: Ask) -> str:
    return texts.FIG_RESOLVED.format(period=a.period_name, scope=a.scope_name, n=total(a.rates()).resolved)


def most_by_school(a: Ask) -> str:
    kind = next((k for w, k in KIND_ASKED.items() if w in a.text), None)
    schools = Counter()
    for _unit, k, _category, school, n in a.new():
        if school and (kind is None or k == kind):
            schools[school] += n
    what = next((w for w, k in KIND_ASKED.items() if k == kind), "留言")
    if not schools:
        return texts.FIG_NEW_NONE.format(period=a.period_name, scope=a.scope_name, what=what)
    return texts.FIG_MOST_SCHOOL.format(period=a.period_name, scope=a.scope_name, what=what,
                                        top=_top(schools, a.name))


def new_count(a: Ask) -> str:
    by_kind = Counter()
    for _unit, k, _category, _school, n in a.new():
        by_kind[k] += n
    kind = next((k for w, k in KIND_ASKED.items() if w in a.text), None)
    total_ = sum(by_kind.values())
    if kind is not None:
        what = next(w for w, k in KIND_ASKED.items() if k == kind)
        return texts.FIG_NEW_KIND.format(period=a.period_name, scope=a.scope_name, what=what, n=by_kind[kind],
                                         total=total_)
    if not total_:
        return texts.FIG_NEW_NONE.format(period=a.period_name, scope=a.scope_name, what="留言")
    parts = "、".join(f"{w}{by_kind[k]}件" for w, k in KIND_ASKED.items() if by_kind[k])
    return texts.FIG_NEW.format(period=a.period_name, scope=a.scope_name, n=total_, parts=parts)


def overview(a: Ask) -> str:
    """这周情况怎么样: received, resolved, overdue, then the three rates, under one head."""
    by_kind = Counter()
    for _unit, k, _category, _school, n in a.new():
        by_kind[k] += n
    parts = "、".join(f"{w}{by_kind[k]}件" for w, k in KIND_ASKED.items() if by_kind[k])
    o = total(a.rates())
    counts = texts.FIG_OVERVIEW.format(n=sum(by_kind.values()), parts=f"（{parts}）" if parts else "",
                                       resolved=o.resolved, overdue=len(a.overdue()))
    lines = rates_overall(dataclasses.replace(a, text="")).split("\n")  # every rate
    return "\n".join([lines[0], counts, *lines[1:]])


# 这周情况怎么样 / 本月总体如何: the whole scope's figures -- not a question about one school (江南区实验小学情况怎么样)
# or about each unit (各单位情况), which this would not answer
OVERVIEW = re.compile(r"^(?!.*(?:各|每个|哪|(?<!我们)(?<!本)(?:小学|中学|幼儿园|学校|教育局))).*"
                      r"(?:情况|概况|总体|整体|怎么样|如何)")

# In order: the first row whose words the question holds answers it.
QUESTIONS: tuple[tuple[re.Pattern, Callable[[Ask], str]], ...] = (
    (re.compile(r"超期.{0,6}(?:最多|哪个|哪些|哪家|排)|(?:哪个|哪些|哪家|哪所).{0,8}超期"), overdue_most),
    (re.compile(r"超期"), overdue_count),
    (re.compile(r"(?:哪个|哪些|哪家|哪所|谁).{0,10}(?:最低|最差|最高|最好|垫底)|排名|排第|倒数"), rate_ranking),
    (re.compile(r"响应率|解决率|满意率|三率|三个率"), rates_overall),
    (re.compile(r"办结|办完|解决了"), resolved),
    (re.compile(r"(?:哪个|哪些|哪家|哪所).{0,8}(?:最多|多)"), most_by_school),
    (re.compile(r"几件|几条|几个|多少|数量|总数|收到|新增"), new_count),
    (OVERVIEW, overview),
)


def answerable(text: str) -> bool:
    """Whether a row of QUESTIONS answers the text (what answer() would read figures for)."""
    return any(pattern.search(text) for pattern, _fn in QUESTIONS)


def answer(db, user: dict, text: str, now: float, tz: ZoneInfo) -> str | None:
    """The answer to a figures question in the user's scope (a leader: the bureau; a supervisor: their unit and the
    units under it), or None when no row of QUESTIONS answers it."""
    fn = next((fn for pattern, fn in QUESTIONS if pattern.search(text)), None)
    if fn is None:
        return None
    kind, step, name = "week", 0, "本周"
    for words, k, s, label in PERIODS:
        if re.search(words, text):
            kind, step, name = k, s, label
            break
    period = dashboard.period_of(kind, now, tz)
    if step:
        period = dashboard.previous(period, tz)
    dates = period.dates(tz, now)
    units = {u["code"]: u for u in directory.all_units(db)}
    scope = "bureau" if user.get("role") in ("leader", "admin") else user["unit_code"]
    members = digest.scope_members(units, scope)
    scope_name = "全局" if scope == "bureau" else units.get(scope, {}).get("name", scope)
    ask = Ask(db, units, members, scope_name, period, f"{name}（{dates}）", now, tz, text)
    return fn(ask)
