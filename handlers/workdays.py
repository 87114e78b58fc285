"""Working days in China: official holidays and 调休 make-up working weekends from `chinese-calendar`, plus
configured school holidays. A year the package does not know yet falls back to Monday–Friday, with a warning."""
from __future__ import annotations

import datetime as dt
import logging
from zoneinfo import ZoneInfo

import chinese_calendar

log = logging.getLogger(__name__)
_warned_years: set[int] = set()


class WorkCalendar:
    def __init__(self, timezone: str = "Asia/Shanghai", extra_holidays: frozenset[dt.date] = frozenset()):
        self.tz = ZoneInfo(timezone)
        self.extra_holidays = extra_holidays

    def is_workday(self, day: dt.date) -> bool:
        if day in self.extra_holidays:
            return False
        try:
            return chinese_calendar.is_workday(day)
        except NotImplementedError:
            if day.year not in _warned_years:
                _warned_years.add(day.year)
                log.warning("chinese-calendar has no data for %d: counting Monday to Friday as working days "
                            "(upgrade the package when the State Council publishes the year's holidays)", day.year)
            return day.weekday() < 5

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

    def date_text(self, ts: float) -> str:
        """'11月30日（周一）' — how a deadline reads on a phone."""
        d = dt.datetime.fromtimestamp(ts, self.tz)
        return f"{d.month}月{d.day}日（周{'一二三四五六日'[d.weekday()]}）"
