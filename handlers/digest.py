"""The weekly digest: what came in, what was done, what is late, each unit's three rates with the change from
the week before, the weakest units, hot topics and repeated complaints. Built from the database; rendered as a
short WeChat message here and as a full page by bot/web (same data)."""
from __future__ import annotations

import datetime as dt
import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import jieba.analyse

from handlers import texts
from handlers.rates import Rates, compute, percent, total
from storage import directory, tickets

WEEK = re.compile(r"^(\d{4})-W(\d{2})$")
# Words every message has; they say nothing about what the week was about.
COMMON = {"学校", "孩子", "老师", "家长", "学生", "投诉", "反映", "请问", "问题", "希望", "要求", "情况", "我们", "现在",
          "没有", "一个", "什么", "这个", "还是", "已经", "可以", "能否", "建议", "咨询", "表扬", "感谢", "谢谢"}
BOTTOM = 3


def parse_week(week: str) -> tuple[int, int]:
    m = WEEK.match(week)
    if not m or not 1 <= int(m.group(2)) <= 53:
        raise ValueError(f"week must look like 2026-W48, not {week!r}")
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

    def period_text(self, tz) -> str:
        a = dt.datetime.fromtimestamp(self.start, tz)
        b = dt.datetime.fromtimestamp(self.end - 1, tz)
        return f"{a.month}月{a.day}日—{b.month}月{b.day}日"


def build(db, week: str, now: float, tz, tokenizer=None, scope: str = "bureau") -> Digest:
    start, end = bounds(week, tz)
    prev_start, prev_end = bounds(previous_week(week), tz)
    rows = tickets.created_before(db, end)
    units = {u["code"]: u for u in directory.all_units(db)}
    if scope != "bureau":  # a unit's own digest: its tickets, and those of the units under it
        members = {scope} | {c for c, u in units.items() if u["parent"] == scope}
        rows = [t for t in rows if t["unit_code"] in members]
    now_rates, before_rates = compute(rows, start, end), compute(rows, prev_start, prev_end)
    week_rows = [t for t in rows if start <= t["created_at"] < end]
    lines = [UnitLine(code, units.get(code, {}).get("name", code), now_rates[code],
                      before_rates.get(code, Rates())) for code in sorted(now_rates)
             if now_rates[code].dispatched or now_rates[code].resolved or now_rates[code].open_overdue]
    lines.sort(key=lambda u: (-(u.now.dispatched + u.now.open_overdue), u.name))
    ranked = [u for u in lines if u.now.resolution is not None]
    bottom = sorted(ranked, key=lambda u: (u.now.resolution, u.now.response or 0, u.name))[:BOTTOM]
    bottom = [u for u in bottom if (u.now.resolution or 0) < 1.0]
    overdue = [t for t in rows if t["state"] in tickets.OPEN_STATES and t["due_at"] and t["due_at"] < now]
    return Digest(
        week=week, scope=scope, scope_name=units.get(scope, {}).get("name", "全局") if scope != "bureau" else "全局",
        start=start, end=end,
        new_by_kind=dict(Counter(t["kind"] for t in week_rows)),
        new_by_category=dict(Counter(t["category"] for t in week_rows).most_common()),
        new_total=len(week_rows),
        resolved=sum(1 for t in rows if t["resolved_at"] and start <= t["resolved_at"] < end),
        overdue_now=sorted(overdue, key=lambda t: t["due_at"]),
        overall=total(now_rates), overall_before=total(before_rates),
        units=lines, bottom=bottom,
        topics=hot_topics([t["text"] for t in week_rows], tokenizer),
        repeated=repeated(week_rows, units),
        generated_at=now,
    )


def hot_topics(texts_: list[str], tokenizer=None, top: int = 8) -> list[tuple[str, int]]:
    """jieba.analyse keywords of the week, each with the number of tickets that mention it."""
    if not texts_:
        return []
    tfidf = jieba.analyse.TFIDF()
    if tokenizer is not None:
        tfidf.tokenizer = tokenizer  # knows education terms and school names
    tfidf.stop_words = tfidf.stop_words | COMMON
    words = [w for w in tfidf.extract_tags("\n".join(texts_), topK=top * 3) if len(w) >= 2 and not w.isdigit()]
    counted = [(w, sum(1 for t in texts_ if w in t)) for w in words]
    return sorted(counted, key=lambda wc: -wc[1])[:top]


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
        f"【{'上周' if d.scope == 'bureau' else d.scope_name + '上周'}留言周报】{d.week}（{d.period_text(tz)}）",
        f"新增{d.new_total}件，办结{d.resolved}件，目前超期{len(d.overdue_now)}件"
        + (f"，收到表扬{o.praised}件。" if o.praised else "。"),
        f"响应率{percent(o.response)}{change(o.response, b.response)}"
        f"｜解决率{percent(o.resolution)}{change(o.resolution, b.resolution)}"
        f"｜满意率{percent(o.satisfaction)}{change(o.satisfaction, b.satisfaction)}",
    ]
    if d.bottom and d.scope == "bureau":
        lines.append("需关注：" + "、".join(f"{u.name}（解决率{percent(u.now.resolution)}）" for u in d.bottom))
    if d.topics:
        lines.append("热点：" + "、".join(w for w, _ in d.topics[:5]))
    if d.repeated:
        r = d.repeated[0]
        lines.append(f"重复投诉：{r['school']}·{r['category']}（{r['count']}件）")
    lines.append(f"完整周报：{url}")
    return "\n".join(lines)
