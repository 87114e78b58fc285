"""Working days in China: official holidays and 调休 make-up working weekends from `chinese-calendar`, plus
configured school holidays, and the bureau's own list for years the package does not know yet.

The package learns a year only when the State Council publishes its holidays (usually in November or December)
and a new release follows. Until then, for such a year, the configured `[deadlines] holidays` and `workdays`
decide; with none configured the year counts Monday to Friday without the fixed-date statutory days (元旦, 劳动节,
国庆节), and `warning()` says so for the log at start, /healthz and the workbench. Never an exception: deadlines are
computed inside the webhook."""
from __future__ import annotations

import datetime as dt
import functools
import logging
from zoneinfo import ZoneInfo

import chinese_calendar

from handlers import texts

log = logging.getLogger(__name__)
# Days off fixed by date in 《全国年节及纪念日放假办法》(2024): 元旦, 劳动节 (2 days), 国庆节 (3 days). The lunar
# holidays (春节, 端午, 中秋), 清明 and the 调休 swaps are known only from the year's announcement.
FIXED_HOLIDAYS = frozenset({(1, 1), (5, 1), (5, 2), (10, 1), (10, 2), (10, 3)})
# How far ahead a missing year matters: the longest time limit (60 working days) with an extension, in days.
HORIZON_DAYS = 100


def package_knows(year: int) -> bool:
    try:
        chinese_calendar.is_workday(dt.date(year, 6, 1))
    except (NotImplementedError, ValueError):
        return False
    return True


@functools.lru_cache(maxsize=8192)  # a day's answer never changes (8192 days: over twenty years)
def _official_workday(day: dt.date) -> bool:
    """chinese_calendar.is_workday, remembered: the package looks for its data's first and last year on every call
    (~0.4 ms), and the watch asks about each day of every deadline it counts (a tenth of a played month's CPU)."""
    return chinese_calendar.is_workday(day)


class WorkCalendar:
    def __init__(self, timezone: str = "Asia/Shanghai", extra_holidays: frozenset[dt.date] = frozenset(),
                 workdays: frozenset[dt.date] = frozenset(), holidays: frozenset[dt.date] = frozenset()):
        """`extra_holidays`: school holidays; `holidays` / `workdays`: the official days off and 调休 working days
        the bureau configured, which override the package (a year with any `holidays` counts as announced)."""
        self.tz = ZoneInfo(timezone)
        self.extra_holidays = frozenset(extra_holidays) | frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.declared_years = frozenset(d.year for d in holidays)
        self._warned: set[int] = set()

    def is_workday(self, day: dt.date) -> bool:
        if day in self.workdays:
            return True
        if day in self.extra_holidays:
            return False
        try:
            return _official_workday(day)
        except (NotImplementedError, ValueError):
            if day.year not in self._warned and day.year not in self.declared_years:
                self._warned.add(day.year)
                log.warning("chinese-calendar has no data for %d and [deadlines] holidays lists none: counting "
                            "Monday to Friday without 元旦, 劳动节 and 国庆节 as working days", day.year)
            return day.weekday() < 5 and (day.month, day.day) not in FIXED_HOLIDAYS

    def known(self, year: int) -> bool:
        """Whether the year's official holidays are known (the package, or the bureau's configured list)."""
        return year in self.declared_years or package_knows(year)

    def unknown_years(self, now: float, days: int = HORIZON_DAYS) -> list[int]:
        """The years a deadline set now could fall in whose holidays nobody has told us."""
        today = dt.datetime.fromtimestamp(now, self.tz).date()
        last = today + dt.timedelta(days=days)
        return [y for y in range(today.year, last.year + 1) if not self.known(y)]

    def warning(self, now: float) -> str | None:
        """What admins must know about the calendar now (None: nothing)."""
        years = self.unknown_years(now)
        if not years:
            return None
        return texts.CALENDAR_UNKNOWN.format(years="、".join(str(y) for y in years))

    def warning_short(self, now: float) -> str | None:
        """`warning` in one line (None: nothing)."""
        years = self.unknown_years(now)
        return texts.CALENDAR_UNKNOWN_SHORT.format(years="、".join(str(y) for y in years)) if years else None

    def due(self, start: float, working_days: int) -> float:
        """The end (23:59:59 local time) of the `working_days`-th working day after the day of `start`."""
        day = dt.datetime.fromtimestamp(start, self.tz).date()
        counted = 0
        while counted < working_days:
            day += dt.timedelta(days=1)
            if self.is_workday(day):
                counted += 1
        end = dt.datetime.combine(day, dt.time(23, 59, 59), self.tz)
        return end.timestamp()
    def working_seconds(self, start: float, end: float) -> float:
        """Seconds between start and end that fall on working days: the measure of 'how much of the time limit
        has passed', so a weekend or the 国庆 week does not eat into it."""
        if end <= start:
            return 0.0
        total = 0.0
        day = dt.datetime.fromtimestamp(start, self.tz).date()
        last = dt.datetime.fromtimestamp(end, self.tz).date()
        while day <= last:
            if self.is_workday(day):
                lo = dt.datetime.combine(day, dt.time(0), self.tz).timestamp()
                hi = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), self.tz).timestamp()
                total += max(0.0, min(hi, end) - max(lo, start))
            day += dt.timedelta(days=1)
        return total

    def after_working_seconds(self, start: float, seconds: float) -> float:
        """The moment when `seconds` of working time have passed since `start` (the inverse of
        working_seconds): when a share of a time limit is reached."""
        day = dt.datetime.fromtimestamp(start, self.tz).date()
        left = max(0.0, seconds)
        for _ in range(3700):  # ten years of days: far beyond any time limit
            if self.is_workday(day):
                lo = max(start, dt.datetime.combine(day, dt.time(0), self.tz).timestamp())
                hi = dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), self.tz).timestamp()
                if hi - lo >= left:
                    return lo + left
                left -= max(0.0, hi - lo)
            day += dt.timedelta(days=1)
        return start + seconds

    def date_text(self, ts: float, lang: str | None = None) -> str:
        """'11月30日（周一）' — how a deadline reads on a phone; 'Mon 30 Nov' to a person who writes English."""
        d = dt.datetime.fromtimestamp(ts, self.tz)
        if lang == "en":
            return f"{d:%a} {d.day} {d:%b}"
        return f"{d.month}月{d.day}日（周{'一二三四五六日'[d.weekday()]}）"
