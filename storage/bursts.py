"""Bursts: many answers through one unit within an hour. One rule for every figure the public gives a unit by
sending something (群众评议 answers, 表扬): in a burst, what came from new accounts is set aside, the leaders are
told once, and accounts that followed earlier stay counted (a rival making fresh accounts voids none of a unit's
real answers; old accounts cost a day's wait each)."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import sqlite_utils

DAY_OFFSET = 8 * 3600  # China Standard Time's day, as the ticket counters' (storage.tickets)
FRESH_SECONDS = 86400  # an account that followed less than this before answering is a new account
PRAISE = "表扬"        # survey_bursts' key for praise (survey ids are ASCII: handlers.survey._ID)


def day_of(t: float) -> int:
    return int((t + DAY_OFFSET) // 86400)


def day_start(t: float) -> float:
    """The start of the China Standard Time day holding `t`: every burst check counts within one such day, the
    day a leader rules on (storage.surveys.rule_day), so one ruling covers whatever a check flagged."""
    return day_of(t) * 86400 - DAY_OFFSET


def window_start(now: float) -> float:
    """The burst window ending at `now`: the hour before, within today."""
    return max(now - 3600, day_start(now))


def fresh_sql(openid: str, at: str) -> str:
    """SQL true when the account `openid` followed less than FRESH_SECONDS before the moment `at` (no users row:
    new too). A day, not `new_follower_minutes`, which waiting ten minutes after following escapes."""
    return (f"coalesce((SELECT u.first_seen_at FROM users u WHERE u.openid = {openid}), {at}) "
            f"> {at} - {FRESH_SECONDS}")


def set_aside(rows: Iterable[tuple[Any, bool, Any]], limit: int,
              alike: Callable[[list], Callable[[Any], bool]] | None = None) -> tuple[int, list] | None:
    """`rows` (id, from a new account, what was said) in one unit's burst window. More than `limit` are a burst:
    the new accounts' are set aside. When the established accounts alone pass the limit too, `alike` (given what
    they said, a test of one) picks those that are one hand's or one instruction's (群众评议's near-identical
    sheets); without it they stay counted. Returns (answers in the window, ids set aside), or None: no burst."""
    rows = list(rows)
    if len(rows) <= limit:
        return None
    aside = [i for i, fresh, _ in rows if fresh]
    old = [(i, said) for i, fresh, said in rows if not fresh]
    if alike is not None and len(old) > limit:
        test = alike([s for _, s in old])
        aside += [i for i, s in old if test(s)]
    return len(rows), aside


def record(db: sqlite_utils.Database, key: str, unit_code: str, hour: int, count: int) -> bool:
    """True the first time a burst under `key` (a survey, or PRAISE) in this hour is recorded: leaders are told
    once."""
    cur = db.execute("INSERT OR IGNORE INTO survey_bursts (survey_id, unit_code, hour, count) VALUES (?, ?, ?, ?)",
                     [key, unit_code, hour, count])
    if cur.rowcount:
        return True
    db.execute("UPDATE survey_bursts SET count = max(count, ?) WHERE survey_id = ? AND unit_code = ? AND hour = ?",
               [count, key, unit_code, hour])
    return False
