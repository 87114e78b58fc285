"""The per-unit-per-day counters (`unit_days`, kept by triggers on tickets, m017/m030) checked against the tickets
they count, and recounted from them (`tingjian verify-rates`).

The recount states the rule again from the ticket columns (README "Whose work counts"), one indexed time range
per part, so its cost follows the period, never the years of history. "The unit" a part counts for may be a 代收
account (`代收:<code>`, m059: a stand-in's part, in no unit's rates), recounted like any unit:
  dispatched, 签收 in time   the day it was dispatched, for the unit the 签收 part counts for (not withdrawn)
  代收 (stood_in)            the day it was dispatched, for the unit holding it, when a stand-in did a part
  resolved, in time          the day of its 办结, for the unit the 办结 part counts for
  rated, satisfied           the day of its rating, for the unit whose answer was rated (not a staff writer's)
  未评价 (unrated)           the day the rating window closed, for the unit the 办结 part counts for
  praised (raw)              the day it was written, for the unit it went to (the published figure is
                             storage.tickets.praise_by_unit, each person once; this is the counter beneath)

The tickets are checked against their events too (`against_events`): the events are append-only (m001's triggers)
and written with every change (storage.tickets.transition), so a counted moment a ticket carries that no event
backs was written by hand: 派发 (dispatched_at) is an assign or transfer event's moment, 签收 (accepted_at) an
accept event's, 办结 (resolved_at) a resolve event's, and a rating (rated_at, rating) the latest rating event's
moment and kind (rate for 满意/基本满意, reopen or review for 不满意); 未评价 closes with a close event then. Each
part reads the period's range of one tickets index and, per ticket, its own events (ticket_events_ticket).
The time limits and whose work each part is (storage.tickets.KEPT: accept_due_at, due_at, the holder and the
credit columns) follow from no event, so each event that moves one carries them as they are after it (m044; the
creation always): a ticket must match the latest event's that carries them (tickets with a counted moment in the period, and every open ticket: their deadlines
count now). The late departures (unit_misses) are written with the event that made them, which names them: each
miss of the period must be on its event, and each miss an event names must be there (a deleted miss). When the
办结 part last came to its unit by a hand-over (`resolve_since`, m060) follows from the same record
(storage.tickets.hands_over): checked for the tickets that can count open past their deadline at the period's end,
where it decides whose count they are in; and a late departure's `open_from` (m061: from when the ticket was open
past its deadline with the unit, counted at the ends of the periods before it left) from the record before the
event that wrote it. Tickets whose events are all older than m044 carry nothing to check them against.
The kept 签收 cases (m066): each of the period must be what its ticket's events say; each an event names (m070)
must be there; those kept for departures before m070 (its back-fill: no event names them) are found by replaying
the events of the tickets that departed in the period (m072 lists the departures by time). rating_redos (m071,
the trend's 满意率) must be the rating events it lists, each of them there.
"""
from __future__ import annotations

import datetime as dt
import json
from typing import Any

import sqlite_utils

from storage.tickets import _OPEN_SQL, COUNT_COLUMNS, DAY_OFFSET, KEPT, has_column, has_table, open_from, stood_in
from storage.staff import insider_sql

Key = tuple[int, str]  # (day, unit_code)

_DAY = "CAST(({col} + 28800) / 86400 AS INTEGER)"


def day_of(t: float) -> int:
    return int((t + DAY_OFFSET) // 86400)


def _parts(start: float, end: float) -> list[tuple[str, list]]:
    """(SELECT day, unit, <the COUNT_COLUMNS>, args) per part: each reads one index's range."""
    def row(**values: str) -> str:
        return ", ".join(values.get(c, "0") for c in COUNT_COLUMNS)
    rng = [start, end]
    # a 签收 case counts on the day it began (m066): its dispatch, or its coming to the unit after it (the
    # tickets whose response_since is in the range, by its trigger-kept index)
    begun = [("tickets INDEXED BY tickets_dispatched WHERE dispatched_at >= ? AND dispatched_at < ? "
              "AND response_since IS NULL", "dispatched_at"),
             ("tickets WHERE id IN (SELECT ticket_id FROM tickets_response_since WHERE since >= ? AND since < ?)",
              "response_since")]
    return [
        *((f"SELECT {_DAY.format(col=col)}, coalesce(response_unit, unit_code), "
           + row(dispatched="1", accepted_in_time="(accepted_at IS NOT NULL AND coalesce(accept_due_at, 0) != 0 "
                                                  "AND accepted_at <= accept_due_at)")
           + f" FROM {source} AND kind != 'praise' AND state != 'withdrawn'", rng) for source, col in begun),
        *((f"SELECT {_DAY.format(col=col)}, unit_code, " + row(stood_in="1")
           + f" FROM {source} AND kind != 'praise' AND stood_in = 1 AND state != 'withdrawn'", rng)
          for source, col in begun),
        (f"SELECT {_DAY.format(col='resolved_at')}, coalesce(resolve_unit, unit_code), "
         + row(resolved="1", resolved_in_time="(coalesce(due_at, 0) != 0 AND resolved_at <= due_at)")
         + " FROM tickets INDEXED BY tickets_resolved WHERE resolved_at >= ? AND resolved_at < ? "
           "AND kind != 'praise'", rng),
        (f"SELECT {_DAY.format(col='rated_at')}, coalesce(rated_unit, unit_code), "
         + row(rated="1", satisfied="(rating IN (1, 2))")
         + " FROM tickets INDEXED BY tickets_rated WHERE rated_at >= ? AND rated_at < ? AND kind != 'praise' "
           "AND rating IN (1, 2, 3) AND close_reason IS NOT 'unrated' AND by_insider = 0", rng),
        (f"SELECT {_DAY.format(col='closed_at')}, coalesce(resolve_unit, unit_code), " + row(unrated="1")
         + " FROM tickets INDEXED BY tickets_closed WHERE closed_at >= ? AND closed_at < ? AND kind != 'praise' "
           "AND close_reason = 'unrated'", rng),
        (f"SELECT {_DAY.format(col='created_at')}, unit_code, " + row(praised="1")
         + " FROM tickets INDEXED BY tickets_created WHERE created_at >= ? AND created_at < ? "
           "AND kind = 'praise'", rng),
    ]


def _days(start: float, end: float) -> tuple[float, float]:
    """[start, end) widened to whole days of the counters (China Standard Time's, as unit_days counts them)."""
    return day_of(start) * 86400 - DAY_OFFSET, -(-(end + DAY_OFFSET) // 86400) * 86400 - DAY_OFFSET


def recount(db: sqlite_utils.Database, start: float, end: float) -> dict[Key, dict[str, int]]:
    """Every (day, unit)'s counts of the counters' days in [start, end), from the tickets."""
    start, end = _days(start, end)
    sums = ", ".join(f"sum(c{i})" for i in range(len(COUNT_COLUMNS)))
    cols = ", ".join(f"c{i}" for i in range(len(COUNT_COLUMNS)))
    out: dict[Key, dict[str, int]] = {}
    for sql, args in _parts(start, end):
        for r in db.execute(_grouped(sql, sums, cols), args):
            counts = out.setdefault((r[0], r[1]), dict.fromkeys(COUNT_COLUMNS, 0))
            for name, n in zip(COUNT_COLUMNS, r[2:]):
                counts[name] += n
    return {k: v for k, v in out.items() if any(v.values())}


def _grouped(sql: str, sums: str, cols: str) -> str:
    # name the columns of the part, then add them up per day and unit
    names = ", ".join(["d", "u", *cols.split(", ")])
    return f"WITH p({names}) AS ({sql}) SELECT d, u, {sums} FROM p WHERE u IS NOT NULL GROUP BY d, u"


def counters(db: sqlite_utils.Database, start: float, end: float) -> dict[Key, dict[str, int]]:
    """The `unit_days` rows of the days in [start, end)."""
    start, end = _days(start, end)
    cols = ", ".join(COUNT_COLUMNS)
    return {(r[0], r[1]): dict(zip(COUNT_COLUMNS, r[2:])) for r in db.execute(
        f"SELECT day, unit_code, {cols} FROM unit_days WHERE day >= ? AND day < ?", [day_of(start), day_of(end)])
        if any(r[2:])}


def differences(db: sqlite_utils.Database, start: float, end: float) -> list[dict[str, Any]]:
    """Where the counters and the tickets disagree: one entry per (day, unit, count), sorted."""
    kept, counted = counters(db, start, end), recount(db, start, end)
    out = []
    for key in sorted(set(kept) | set(counted)):
        a, b = kept.get(key) or {}, counted.get(key) or {}
        for name in COUNT_COLUMNS:
            if a.get(name, 0) != b.get(name, 0):
                out.append({"day": key[0], "unit": key[1], "count": name, "kept": a.get(name, 0),
                            "recounted": b.get(name, 0)})
    return out


def repair(db: sqlite_utils.Database, start: float, end: float) -> int:
    """Put the recount in place of the counters of the days in [start, end), in one transaction (run it on the
    writer, Database.run: one transaction, so no ticket changes between the recount and the write). Returns the
    rows changed."""
    counted = recount(db, start, end)
    kept = counters(db, start, end)
    cols = ", ".join(COUNT_COLUMNS)
    marks = ", ".join("?" * len(COUNT_COLUMNS))
    sets = ", ".join(f"{c} = excluded.{c}" for c in COUNT_COLUMNS)
    changed = 0
    for key in set(kept) | set(counted):
        want = counted.get(key) or dict.fromkeys(COUNT_COLUMNS, 0)
        if kept.get(key) != want:
            db.execute(f"INSERT INTO unit_days (day, unit_code, {cols}) VALUES (?, ?, {marks}) "
                       f"ON CONFLICT (day, unit_code) DO UPDATE SET {sets}",
                       [key[0], key[1], *(want[c] for c in COUNT_COLUMNS)])
            changed += 1
    return changed


def recount_sums(db: sqlite_utils.Database, bounds: list[float],
                 units: list[str] | None = None) -> list[dict[str, dict[str, int]]]:
    """storage.tickets.unit_day_sums from the recount instead of the counters (handlers.rates.for_periods'
    `counts`): the figures as they would be published were the counters right."""
    out: list[dict[str, dict[str, int]]] = []
    for start, end in zip(bounds, bounds[1:]):
        per_unit: dict[str, dict[str, int]] = {}
        for (_, unit), c in recount(db, start, end).items():
            if units is None or unit in units:
                row = per_unit.setdefault(unit, dict.fromkeys(COUNT_COLUMNS, 0))
                for name, n in c.items():
                    row[name] += n
        out.append(per_unit)
    return out


# (what, the tickets index and its column, the condition on the ticket, the events that must back it)
_BACKED = (
    ("dispatched_at", "tickets_dispatched", "dispatched_at", "t.kind != 'praise'",
     "e.action IN ('assign', 'transfer') AND e.at = t.dispatched_at"),
    ("accepted_at", "tickets_dispatched", "dispatched_at", "t.accepted_at IS NOT NULL AND t.kind != 'praise'",
     "e.action = 'accept' AND e.at = t.accepted_at"),
    ("resolved_at", "tickets_resolved", "resolved_at", "t.kind != 'praise'",
     "e.action = 'resolve' AND e.at = t.resolved_at"),
    ("rating", "tickets_rated", "rated_at", "t.kind != 'praise' AND t.rating IS NOT NULL",
     "e.id = (SELECT max(l.id) FROM ticket_events l WHERE l.ticket_id = t.id AND l.action IN ('rate', 'reopen', "
     "'review')) AND e.at = t.rated_at AND (e.action = 'rate') = (t.rating IN (1, 2))"),
    ("unrated", "tickets_closed", "closed_at", "t.close_reason = 'unrated' AND t.kind != 'praise'",
     "e.action = 'close' AND e.at = t.closed_at"),
    # a withdrawn ticket is in no 派发 (m050): only its writer's 撤回 takes it out
    ("withdrawn", "tickets_dispatched", "dispatched_at", "t.state = 'withdrawn' AND t.kind != 'praise'",
     "e.action = 'withdraw' AND e.at = t.closed_at"),
)
# a rating left out of 满意率 (m050 by_insider) only because its writer is or was staff, or gave a staff phone on
# file (m056): the users table and the staff phones say who
_INSIDER_SQL = ("SELECT t.number, 'by_insider' FROM tickets t INDEXED BY tickets_rated WHERE t.rated_at >= ? "
                f"AND t.rated_at < ? AND t.kind != 'praise' AND t.by_insider != ({insider_sql('t.openid')})")
# 表扬 of the period counted by the same column (storage.tickets.praise_by_unit): an insider's praise is no unit's
_PRAISE_INSIDER_SQL = ("SELECT t.number, 'praise_by_insider' FROM tickets t INDEXED BY tickets_created "
                       "WHERE t.created_at >= ? AND t.created_at < ? AND t.kind = 'praise' "
                       f"AND t.by_insider != ({insider_sql('t.openid')})")


def _backed_sql() -> list[tuple[str, str]]:
    return [(what, f"SELECT t.number, '{what}' FROM tickets t INDEXED BY {index} WHERE t.{col} >= ? AND t.{col} < ? "
                   f"AND {cond} AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = t.id AND {backed})")
            for what, index, col, cond, backed in _BACKED]


_LATEST_KEPT = ("(SELECT e.kept FROM ticket_events e WHERE e.ticket_id = t.id AND e.kept IS NOT NULL "
                "ORDER BY e.id DESC LIMIT 1)")


def _kept_sql() -> list[tuple[str, str, int]]:
    """(what, SELECT number, latest kept, the KEPT columns; the number of ? it takes): the period's tickets by
    each moment that counts, and the open ones (their deadlines count whenever the rates are read)."""
    cols = ", ".join(f"t.{c}" for c in KEPT)
    head = f"SELECT t.number, {_LATEST_KEPT}, {cols} FROM tickets t"
    return [(col, f"{head} INDEXED BY {index} WHERE t.{col} >= ? AND t.{col} < ? AND t.kind != 'praise'", 2)
            for col, index in (("dispatched_at", "tickets_dispatched"), ("resolved_at", "tickets_resolved"),
                               ("rated_at", "tickets_rated"))] + \
        [("open", f"{head} INDEXED BY tickets_open WHERE {_OPEN_SQL.replace('state', 't.state')} "
                  "AND t.kind != 'praise'", 0)]


# a miss kept with no event that wrote it (one changed, or added against a rival), and a miss an event wrote that
# is no longer kept (deleted). An event older than m044 (integrity_marks) vouches for the misses of its moment.
_MISSES_SQL = (
    ("SELECT t.number FROM unit_misses m INDEXED BY unit_misses_at JOIN tickets t ON t.id = m.ticket_id "
     "WHERE m.at >= ? AND m.at < ? AND NOT EXISTS (SELECT 1 FROM ticket_events e WHERE e.ticket_id = m.ticket_id "
     "AND e.at = m.at AND (e.id < (SELECT value FROM integrity_marks WHERE name = 'events_record_from') "
     "OR instr(e.misses, json_array(m.unit_code, m.response, m.overdue)) > 0 "
     # an in-time 办结 a 不满意 before m067 cleared: its fill wrote the row (checked by its rule, _KEPT_SQL)
     "OR (m.response = 0 AND m.overdue = 0 AND e.id < coalesce((SELECT value FROM integrity_marks "
     "WHERE name = 'kept_resolved_from'), 0))))"),
    ("SELECT t.number FROM ticket_events e INDEXED BY ticket_events_misses JOIN json_each(e.misses) j "
     "JOIN tickets t ON t.id = e.ticket_id WHERE e.at >= ? AND e.at < ? AND e.misses IS NOT NULL "
     "AND json_extract(j.value, '$[1]') IS NOT 'case' "  # (a kept 签收 case it wrote: _CASES_NAMED_SQL)
     "AND NOT EXISTS (SELECT 1 FROM unit_misses m WHERE m.at = e.at AND (m.unit_code = json_extract(j.value, '$[0]') "
     # an event older than m059 named a 代收 part's miss by its stand-in's code; m059 renamed it (and vouched for it)
     "OR (e.id < coalesce((SELECT value FROM integrity_marks WHERE name = 'recredit_from'), 0) "
     "AND m.unit_code = '代收:' || json_extract(j.value, '$[0]'))) "
     "AND m.ticket_id = e.ticket_id AND m.response = json_extract(j.value, '$[1]') "
     "AND m.overdue = json_extract(j.value, '$[2]'))"),
)


# The tickets that can count open past their deadline at the period's end (overdue_at's two ranges, before its
# HELD_AT): for them `resolve_since` (m060) decides whose count the ticket is in, so it must be what the events say.
_SINCE_SQL = (
    ("SELECT t.id, t.number, t.resolve_since, t.due_at, t.dispatched_at FROM tickets t INDEXED BY tickets_late "
     "WHERE t.resolved_at > t.due_at AND t.resolved_at >= ? AND t.due_at > 0 AND t.due_at < ? "
     "AND t.kind != 'praise' AND t.state != 'withdrawn'", 2),
    ("SELECT t.id, t.number, t.resolve_since, t.due_at, t.dispatched_at FROM tickets t INDEXED BY tickets_unresolved "
     "WHERE t.resolved_at IS NULL AND t.kind != 'praise' AND t.state != 'withdrawn' AND t.due_at > 0 "
     "AND t.due_at < ?", 1),
)


def since_from_events(db: sqlite_utils.Database, ticket_id: int, before: int | None = None
                      ) -> tuple[dict | None, float | None]:
    """(the KEPT columns as the events last record them, the moment the 办结 part last came to its unit by a
    hand-over), from the ticket's events (before the event `before`), by the rule transition writes it
    (storage.tickets.hands_over); (None, None) when no event carries them (older than m044)."""
    from storage.tickets import hands_over
    since, was = None, None
    for at, kept_ in db.execute("SELECT at, kept FROM ticket_events INDEXED BY ticket_events_ticket "
                                "WHERE ticket_id = ? AND kept IS NOT NULL AND id < ? ORDER BY id",
                                [ticket_id, before or 1 << 62]):
        now = dict(zip(KEPT, json.loads(kept_)))
        if was is not None and hands_over(was, now):
            since = at
        was = now
    return was, since


# The period's late departures of open tickets, and those after it it still counts (storage.tickets.misses_in),
# with the event that wrote each: `open_from` (m061) must be what the record before that event says.
_OPEN_FROM_SQL = (
    "SELECT m.id, t.number, m.ticket_id, m.open_from, (SELECT min(w.id) FROM ticket_events w INDEXED BY "
    "ticket_events_ticket WHERE w.ticket_id = m.ticket_id AND w.at = m.at AND w.action = m.action), "
    "m.overdue = 1 AND (m.action IN ('transfer', 'bounce', 'withdraw') OR {kept}) FROM unit_misses m "
    "INDEXED BY {index} JOIN tickets t ON t.id = m.ticket_id WHERE {where}")


def _open_from_disagrees(db: sqlite_utils.Database, start: float, end: float) -> set[tuple[str, str]]:
    out, done = set(), set()
    # a late 办结 a 不满意 cleared (m067) was open past its deadline from then until that 办结
    kept = "m.resolved_at IS NOT NULL" if has_column(db, "unit_misses", "resolved_at") else "0"
    for index, where, args in (("unit_misses_at", "m.at >= ? AND m.at < ?", [start, end]),
                               ("unit_misses_open", "m.open_from IS NOT NULL AND m.at >= ? AND m.open_from < ?",
                                [end, end])):
        for mid, number, tid, kept_from, writer, left_open in db.execute(
                _OPEN_FROM_SQL.format(index=index, where=where, kept=kept), args):
            if mid in done or writer is None:
                continue
            done.add(mid)
            was, since = since_from_events(db, tid, writer)
            if was is None:  # older than m044: nothing to check against
                continue
            due = was["due_at"]
            want = open_from(due, since) if left_open and due else None
            if not _same(kept_from, want):
                out.add((number, "open_from"))
    return out


# A 办结 a 不满意 cleared (m067) counts in its month from its row: the row's moment must be the ticket's latest
# 办结 before the 不满意 that wrote it (reopen, review), and each such 不满意 of the period (the fill after the
# upgrade has reached) must have written one. A 不满意 older than m044 vouches for itself, as for the misses.
_KEPT_SQL = (
    ("SELECT t.number FROM unit_misses m INDEXED BY unit_misses_resolved JOIN tickets t ON t.id = m.ticket_id "
     "WHERE m.resolved_at >= ? AND m.resolved_at < ? AND NOT EXISTS (SELECT 1 FROM ticket_events e INDEXED BY "
     "ticket_events_ticket WHERE e.ticket_id = m.ticket_id AND e.at = m.at AND e.action = m.action "
     "AND e.action IN ('reopen', 'review') AND (SELECT s.at FROM ticket_events s INDEXED BY ticket_events_ticket "
     "WHERE s.ticket_id = e.ticket_id AND s.id < e.id AND s.action = 'resolve' ORDER BY s.id DESC LIMIT 1) "
     "= m.resolved_at)"),
    ("SELECT t.number FROM ticket_events e INDEXED BY ticket_events_rating JOIN tickets t ON t.id = e.ticket_id "
     # (the partial index's own condition, word for word, then the two that clear a 办结)
     "WHERE e.at >= ? AND e.at < ? AND e.action IN ('rate', 'reopen', 'review') AND e.action != 'rate' "
     "AND t.kind != 'praise' "
     "AND e.id >= (SELECT value FROM integrity_marks WHERE name = 'events_record_from') "
     "AND (e.id >= (SELECT value FROM integrity_marks WHERE name = 'kept_resolved_from') "
     "OR e.id <= (SELECT value FROM integrity_marks WHERE name = 'kept_resolved_scanned')) "
     "AND EXISTS (SELECT 1 FROM ticket_events s INDEXED BY ticket_events_ticket WHERE s.ticket_id = e.ticket_id "
     "AND s.id < e.id AND s.action = 'resolve') AND NOT EXISTS (SELECT 1 FROM unit_misses m INDEXED BY "
     "unit_misses_ticket WHERE m.ticket_id = e.ticket_id AND m.at = e.at AND m.action = e.action "
     "AND m.resolved_at IS NOT NULL)"),
)


# The 签收 cases kept with their units (m066) that began in the period, and the tickets whose current case began
# there after their dispatch (response_since): each must be what the ticket's events say.
_CASES_SQL = ("SELECT t.number, c.ticket_id, c.unit_code, c.dispatched_at, c.since, c.at, c.action, c.accept_due_at, "
              "c.accepted_at, {stood} FROM unit_cases c INDEXED BY unit_cases_start JOIN tickets t ON t.id = c.ticket_id "
              "WHERE coalesce(c.since, c.dispatched_at) >= ? AND coalesce(c.since, c.dispatched_at) < ?")
# A kept case an event names (m070: [unit, "case"] among what it wrote) must be there: deleted, its unit's month
# would lose a 派发 (a late one: its 响应率 would rise) with nothing else to show it.
_CASES_NAMED_SQL = ("SELECT t.number FROM ticket_events e INDEXED BY ticket_events_misses JOIN json_each(e.misses) j "
                    "JOIN tickets t ON t.id = e.ticket_id WHERE e.at >= ? AND e.at < ? AND e.misses IS NOT NULL "
                    "AND json_extract(j.value, '$[1]') = 'case' AND NOT EXISTS (SELECT 1 FROM unit_cases c "
                    "INDEXED BY unit_cases_ticket WHERE c.ticket_id = e.ticket_id "
                    "AND c.unit_code = json_extract(j.value, '$[0]') AND abs(c.at - e.at) < 0.001)")
_BEGUN_SQL = ("SELECT t.number, t.id, t.response_since, s.since FROM tickets_response_since s JOIN tickets t "
              "ON t.id = s.ticket_id WHERE s.since >= ? AND s.since < ?")


def _event_at(db: sqlite_utils.Database, ticket_id: int, at: float, actions: tuple[str, ...] | None = None,
              before: int | None = None) -> int | None:
    """The id of the ticket's first event at `at` (of one of `actions`); `before`: its last before that event (a
    ticket passed on twice in one second: the arrival of the case that ended then). None if there is none."""
    only = f" AND action IN ({','.join('?' * len(actions))})" if actions else ""
    pick = "min(id)" if before is None else "max(id)"
    row = db.execute(f"SELECT {pick} FROM ticket_events INDEXED BY ticket_events_ticket WHERE ticket_id = ? "
                     f"AND id < ? AND abs(at - ?) < 0.001{only}",
                     [ticket_id, before or 1 << 62, at, *(actions or ())]).fetchone()
    return row[0]


def _case_backed(db: sqlite_utils.Database, tid: int, ended: int, unit: str, dispatched: float,
                 since: float | None, at: float, action: str, window: float | None, signed: float | None,
                 stood: str | None, unfilled: bool = False) -> bool:
    """Whether the event `ended` ended this kept case as the record says it was. The case began at the last
    event before it that moved the 签收 part to another unit or window (storage.tickets.record_case's rule; the creation's
    record else): at the case's start; the record just before `ended` names its unit and window, and the holder
    whose 代收 it was (`stood`, m070: its 代收 N件; `unfilled`: a case before m070 its fill has not reached, which
    may have none yet); its 签收 is the first accept since it began (a redo keeps the first), or none and its
    window was over or a day's end passed."""
    from storage.tickets import RENAMES, Named, m059_mark, moves
    if action in RENAMES:  # a rename ends no case (m070's fill before trust21 took one for a move: m072)
        return False
    began, was, before = None, None, None
    named = Named(m059_mark(db))  # (as m059 and m061 named them, as the replay reads them)
    for eid, eat, event, kept_ in db.execute("SELECT id, at, action, kept FROM ticket_events INDEXED BY "
                                             "ticket_events_ticket WHERE ticket_id = ? AND kept IS NOT NULL "
                                             "AND id < ? ORDER BY id", [tid, ended]):
        was = named.read(eid, event, kept_)
        if before is None or (event not in RENAMES and moves(before, was)):
            began = (eid, eat)
        before = was
    if began is None or not _same(began[1], since if since is not None else dispatched):
        return False
    # (from the event that began it: a 签收 by someone of another unit begins a case of its 代收 account)
    first = db.execute("SELECT at FROM ticket_events INDEXED BY ticket_events_ticket WHERE ticket_id = ? AND id >= ? "
                       "AND id < ? AND action = 'accept' ORDER BY id LIMIT 1", [tid, began[0], ended]).fetchone()
    holder = was["unit_code"] if stood_in(was) else None  # (case_ends' rule)
    if stood != holder and not (stood is None and unfilled):
        return False
    # unsigned inside its window: kept only once a day's end had counted it with the unit
    return (was["response_unit"] or was["unit_code"]) == unit and _same(was["accept_due_at"], window) and \
        _same(signed, first[0] if first else None) and not (signed is None and window is not None and window >= at
                                                            and day_of(began[1]) == day_of(at))


def _cases_disagree(db: sqlite_utils.Database, start: float, end: float) -> set[tuple[str, str]]:
    """A kept case must be on the event that ended it, as the record before that event had it: the unit its
    签收 part counted for and its window (KEPT); its 派发 an assign or transfer, its 签收 an accept, its start
    after the dispatch an event of the ticket's. A current case's `response_since` must be an event's moment
    and the trigger-kept index must hold it."""
    if not has_table(db, "unit_cases"):
        return set()
    out = set()
    marks = _marks(db)
    stood = has_column(db, "unit_cases", "stood_in")
    for number, tid, *case in db.execute(_CASES_SQL.format(stood="c.stood_in" if stood else "NULL"),
                                         [start, end]):
        # (a ticket passed on twice in one second has two such events: the case must be one's)
        ends = [e for (e,) in db.execute("SELECT id FROM ticket_events INDEXED BY ticket_events_ticket WHERE "
                                         "ticket_id = ? AND abs(at - ?) < 0.001 AND action = ?",
                                         [tid, case[3], case[4]])]
        if not any(_case_backed(db, tid, ended, *case, unfilled=not stood or not _fill_reached(
                marks, ended)) for ended in ends):
            out.add((number, "case"))
    out.update((number, "case") for (number,) in db.execute(_CASES_NAMED_SQL, [start, end]))
    unlisted, gone = _departure_days_disagree(db, start, end, marks)
    out.update(unlisted)
    unlisted, missing = _departures_unlisted(db, start, end, marks)
    out.update(unlisted)
    out.update(_departed_cases_disagree(db, start, end, marks, gone | missing))
    for number, tid, since, kept_since in db.execute(_BEGUN_SQL, [start, end]):
        if not _same(since, kept_since) or _event_at(db, tid, since) is None:
            out.add((number, "response_since"))
    return out


def _marks(db: sqlite_utils.Database) -> dict[str, int]:
    return dict(db.execute("SELECT name, value FROM integrity_marks"))


def _fill_reached(marks: dict[str, int], event: int) -> bool:
    """Whether m070 has kept the cases ended by `event` as record_case would: written by code that names them
    (m070's mark and after), or reached by its fill after start-up."""
    return event >= marks.get("cases_fill_from", 0) or event <= marks.get("cases_fill_scanned", 0)


def _departure_days_disagree(db: sqlite_utils.Database, start: float, end: float, marks: dict[str, int]
                             ) -> tuple[set[tuple[str, str]], set[int]]:
    """m075: each day's departures m072 lists must be as many as, and between the same event ids as, its count
    (case_departure_days, kept by a trigger with each row). A departure deleted with its kept case (the list's
    trigger dropped and made again) leaves its day short: that day's departures are listed again from the events
    between its first and last ids (storage.tickets.departures) and each row missing, or not what they say, named; the tickets
    of the missing ones are replayed as if listed (their kept cases). Returns (findings, those tickets). Not
    checked until m075's fill has counted the rows listed before it; a day whose rows and count were both taken
    away is not seen (nothing else counts them)."""
    from storage.tickets import DEPARTURE_DAY, departures
    if not has_table(db, "case_departure_days") or "cases_fill_from" not in marks or \
            marks.get("departure_days_scanned", 0) < marks.get("departure_days_from", 1 << 62) - 1:
        return set(), set()
    first, last = day_of(start), day_of(end)
    kept = {r[0]: r[1:] for r in db.execute("SELECT day, n, first, last FROM case_departure_days WHERE day >= ? "
                                            "AND day < ?", [first, last])}
    listed = {r[0]: r[1:] for r in db.execute(
        f"SELECT {DEPARTURE_DAY} AS d, count(*), min(event_id), max(event_id) FROM case_departures INDEXED BY "
        "case_departures_at WHERE at >= ? AND at < ? GROUP BY d", [start, end])}
    out: set[tuple[str, str]] = set()
    gone: set[int] = set()
    for day in sorted(set(kept) | set(listed)):
        if kept.get(day) == listed.get(day):
            continue
        both = [x for x in (kept.get(day), listed.get(day)) if x]
        # (the events m072 lists: before m070's mark, as far as its fill has come)
        lo, hi = min(x[1] for x in both), min(max(x[2] for x in both), marks["cases_fill_from"] - 1,
                                              marks.get("case_departures_scanned", 0))
        derived = {eid: tid for eid, tid, at in departures(db, lo - 1, hi) if day_of(at) == day}
        have = {eid: tid for eid, tid, at in db.execute("SELECT event_id, ticket_id, at FROM case_departures WHERE "
                                                        "event_id >= ? AND event_id <= ?", [lo, hi]) if day_of(at) == day}
        wrong = {eid: tid for eid, tid in {**have, **derived}.items() if derived.get(eid) != have.get(eid)}
        gone.update(tid for eid, tid in derived.items() if have.get(eid) != tid)
        for tid in set(wrong.values()):
            got = db.execute("SELECT number FROM tickets WHERE id = ?", [tid]).fetchone()
            out.add((got[0] if got else f"#{tid}", "departure"))
        if not wrong:  # the list is what the events say: the count itself was changed
            out.add(((dt.date(1970, 1, 1) + dt.timedelta(days=day)).isoformat(), "departure_days"))
    return out, gone


ORDER_SLACK = 7 * 86400  # how far out of time order events may have been written (seconds)


def event_range(db: sqlite_utils.Database, start: float, end: float) -> tuple[int, int]:
    """The ids of the events written in [start, end), as a rowid range (first, last; last < first: none), found by
    bisection over their moments: the writer appends them in time order (a clock stepped back moves the bounds
    by as much). A few dozen rowid reads, whatever the history's length."""
    lo = db.execute("SELECT min(id) FROM ticket_events").fetchone()[0]  # (min and max apart: each one seek)
    hi = db.execute("SELECT max(id) FROM ticket_events").fetchone()[0]
    if lo is None:
        return 1, 0

    def first_at(t: float) -> int:
        a, b = lo, hi
        while a <= b:
            mid = (a + b) // 2
            row = db.execute("SELECT id, at FROM ticket_events WHERE id >= ? ORDER BY id LIMIT 1", [mid]).fetchone()
            if row is None or row[0] > b or row[1] >= t:
                b = mid - 1
            else:
                a = row[0] + 1
        return a
    return first_at(start), first_at(end) - 1


def _events_gone(db: sqlite_utils.Database, start: float, end: float) -> set[tuple[str, str]]:
    """The period's events are append-only (m001's triggers) and their ids given in turn (INTEGER PRIMARY KEY: a
    rolled-back write leaves no hole), so a missing id between two events is an event deleted behind a dropped
    trigger -- a 转派 or 退回 taken out of a ticket's history, whatever else was deleted or put right with it
    (audit27). Named by the missing ids. One count over the period's rowid range; the ids read only when short."""
    first, last = event_range(db, start, end)
    if last < first:
        return set()
    # (from the event before the range to the one after it: a hole at its edge is the period's too)
    a = db.execute("SELECT max(id) FROM ticket_events WHERE id < ?", [first]).fetchone()[0] or first
    b = db.execute("SELECT min(id) FROM ticket_events WHERE id > ?", [last]).fetchone()[0] or last
    if db.execute("SELECT count(*) FROM ticket_events WHERE id >= ? AND id <= ?", [a, b]).fetchone()[0] == b - a + 1:
        return set()
    out, before = set(), None
    for (eid,) in db.execute("SELECT id FROM ticket_events WHERE id >= ? AND id <= ? ORDER BY id", [a, b]):
        if before is not None and eid > before + 1:
            out.add((f"操作记录#{before + 1}" + (f"–#{eid - 1}" if eid - 1 > before + 1 else ""), "event_gone"))
        before = eid
    return out


def _departures_unlisted(db: sqlite_utils.Database, start: float, end: float, marks: dict[str, int]
                         ) -> tuple[set[tuple[str, str]], set[int]]:
    """m072's list against the period's events, both ways, for the events before m070 (after it each event names
    the cases it ends): each listed departure must be its event's (there, of that ticket and moment, a departure by
    storage.tickets.departures' rule: a deleted or forged event under a row kept), and each departure the period's
    events show must be listed (a row deleted with its day's count put right, all behind dropped triggers: the
    day check sees nothing then). Returns (findings, the tickets of the unlisted ones, whose kept cases are then
    replayed). Reads the period's events before m070 once (a rowid range); nothing for a period after it."""
    from storage.tickets import departures
    if not has_table(db, "case_departures") or "cases_fill_from" not in marks:
        return set(), set()
    # (a week either side: events written out of time order -- a clock stepped back, a bulk import -- still read)
    first, last = event_range(db, start - ORDER_SLACK, end + ORDER_SLACK)
    last = min(last, marks["cases_fill_from"] - 1, marks.get("case_departures_scanned", 0))
    listed = {eid: (tid, at) for eid, tid, at in db.execute(
        "SELECT event_id, ticket_id, at FROM case_departures INDEXED BY case_departures_at WHERE at >= ? AND at < ?",
        [start, end]) if eid < marks["cases_fill_from"]}
    out: set[tuple[str, str]] = set()
    gone: set[int] = set()
    derived = {eid: (tid, at) for eid, tid, at in departures(db, first - 1, last) if start <= at < end} \
        if last >= first else {}
    for eid, (tid, at) in listed.items():
        if eid in derived or first <= eid <= last:
            continue  # (read with the range: derived or not, below)
        if not any(e == eid and t == tid and abs(a - at) < 0.001 for e, t, a in departures(db, eid - 1, eid)):
            out.add((tid, "departure"))
    for eid, (tid, at) in listed.items():
        if first <= eid <= last and (derived.get(eid, (None, None))[0] != tid or abs(derived[eid][1] - at) >= 0.001):
            out.add((tid, "departure"))
    for eid, (tid, at) in derived.items():
        if eid not in listed:
            out.add((tid, "departure"))
            gone.add(tid)
    named = set()
    for tid, what in out:
        got = db.execute("SELECT number FROM tickets WHERE id = ?", [tid]).fetchone()
        named.add((got[0] if got else f"#{tid}", what))
    return named, gone


def _departed_cases_disagree(db: sqlite_utils.Database, start: float, end: float,
                             marks: dict[str, int], also: set[int] = frozenset()) -> set[tuple[str, str]]:
    """The 签收 cases ended in [start, end) by a departure before m070 (no event names them: m070's fill kept
    them, or code between m066 and m070) must be in unit_cases as the replay of their ticket's events says
    (storage.tickets.cases_from_events, case_ends' rule, as the fill wrote them): the unit and window, its start,
    end, 签收 and the holder whose 代收 it was. A deleted one, its month would lose a 派发; a changed one, move it
    or its 响应. The tickets are those m072 lists as departed in the period (its index range), each replayed
    over its own events: the cost follows the period's departures, never the history. A departure m072's fill or
    m070's has not reached yet is not checked; nor a ticket whose history began before m044 (no record)."""
    if not has_table(db, "case_departures") or "cases_fill_from" not in marks:
        return set()
    from storage.tickets import cases_from_events
    recorded = marks.get("events_record_from", 1 << 62)
    out = set()
    listed = db.execute(
        "SELECT DISTINCT d.ticket_id, t.number, t.kind FROM case_departures d INDEXED BY case_departures_at "
        "JOIN tickets t ON t.id = d.ticket_id WHERE d.at >= ? AND d.at < ? AND d.event_id < ?",
        [start, end, marks["cases_fill_from"]]).fetchall()
    # (and those m075's count found missing from the list: `also`)
    listed += [r for tid in sorted(also - {r[0] for r in listed}) for r in db.execute(
        "SELECT id, number, kind FROM tickets WHERE id = ?", [tid])]
    for tid, number, kind in listed:
        first = db.execute("SELECT min(id) FROM ticket_events INDEXED BY ticket_events_ticket WHERE ticket_id = ?",
                           [tid]).fetchone()[0]
        if kind == "praise" or first is None or first < recorded:
            continue
        cases = cases_from_events(db, tid)[0]
        have = {(r[0], r[1]): r[2:] for r in db.execute(
            "SELECT unit_code, accept_due_at, coalesce(since, dispatched_at), at, accepted_at, stood_in FROM "
            "unit_cases INDEXED BY unit_cases_ticket WHERE ticket_id = ?", [tid])}
        for key, c in cases.items():
            if not (start <= c["at"] < end) or c["event"] >= marks["cases_fill_from"] or \
                    not _fill_reached(marks, c["event"]):
                continue
            row = have.get(key)
            if row is None or not all(_same(a, b) for a, b in zip(row, (c["start"], c["at"], c["signed"],
                                                                       c["stood_in"]))):
                out.add((number, "case"))
    return out


# m071: rating_redos lists each 不满意 (reopen, review) and each rating after one, as its event says; the trend's
# earlier 满意率 reads it (handlers.rates.for_periods). Each row of the period must be its event's (a forged or
# changed row: no such event, or one it does not list), and each such event of the period must have its row (a
# deleted one): written by m071's trigger from its mark on, by its fill before it as far as the fill has come.
_REDO_EVENT = ("(e.action IN ('reopen', 'review') OR e.action = 'rate' AND EXISTS (SELECT 1 FROM ticket_events p "
               "INDEXED BY ticket_events_ticket WHERE p.ticket_id = e.ticket_id AND p.id < e.id "
               "AND p.action IN ('reopen', 'review')))")
_REDOS_SQL = (
    ("SELECT coalesce(t.number, '#' || r.ticket_id) FROM rating_redos r INDEXED BY rating_redos_at "
     "LEFT JOIN ticket_events e ON e.id = r.event_id LEFT JOIN tickets t ON t.id = r.ticket_id "
     "WHERE r.at >= ? AND r.at < ? AND NOT (e.id IS NOT NULL AND e.ticket_id = r.ticket_id AND e.at = r.at "
     f"AND r.redo = (e.action != 'rate') AND e.unit_code IS r.unit_code AND {_REDO_EVENT})"),
    ("SELECT t.number FROM ticket_events e INDEXED BY ticket_events_rating JOIN tickets t ON t.id = e.ticket_id "
     "WHERE e.at >= ? AND e.at < ? AND e.action IN ('rate', 'reopen', 'review') "
     "AND (e.id >= (SELECT value FROM integrity_marks WHERE name = 'rating_redos_from') "
     "OR e.id <= (SELECT value FROM integrity_marks WHERE name = 'rating_redos_scanned')) "
     f"AND {_REDO_EVENT} AND NOT EXISTS (SELECT 1 FROM rating_redos r WHERE r.event_id = e.id)"),
)


def _since_counts(since: float | None, due: float, dispatched: float | None) -> float | None:
    """`since` as the rates read it: a ticket counts open past its deadline only at cuts after its deadline and
    its 派发, where a hand-over at or before both is no hand-over (resolve_since < cut either way)."""
    return since if since is not None and since > max(due, dispatched or 0) else None


def _since_disagrees(db: sqlite_utils.Database, end: float) -> set[tuple[str, str]]:
    """The tickets whose `resolve_since` would count them open past the deadline at `end` for another unit (or
    none) than their events do."""
    from storage.tickets import settle_resolve_since
    out = set()
    for sql, n in _SINCE_SQL:
        rows = [dict(zip(("id", "number", "resolve_since", "due_at", "dispatched_at"), r))
                for r in db.execute(sql, [end, end][:n])]
        settle_resolve_since(db, rows)  # not yet filled after an upgrade (m062): as the rates read it meanwhile
        for r in rows:
            known, derived = since_from_events(db, r["id"])
            if known is not None and _since_counts(r["resolve_since"], r["due_at"], r["dispatched_at"]) != \
                    _since_counts(derived, r["due_at"], r["dispatched_at"]):
                out.add((r["number"], "resolve_since"))
    return out


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) < 1e-3
    return a == b


def against_events(db: sqlite_utils.Database, start: float, end: float,
                   unchecked: set[str] | None = None) -> list[dict[str, str]]:
    """Tickets whose counted moments in [start, end) (the counters' whole days) no event backs, whose time limits
    or credit differ from their latest event's, or whose misses differ from those their events wrote:
    [{number, what}], sorted. Empty when every counted column follows from the ticket's history. `unchecked`
    receives the tickets whose events are all older than m044 (their time limits and credit have no record)."""
    start, end = _days(start, end)
    seen = set()
    for _, sql in _backed_sql():
        seen.update(tuple(r) for r in db.execute(sql, [start, end]))
    for _, sql, n in _kept_sql():
        for number, latest, *now in db.execute(sql, [start, end][:n]):
            if latest is None:
                if unchecked is not None:
                    unchecked.add(number)
            else:
                was = json.loads(latest)
                seen.update((number, name) for name, a, b in zip(KEPT, was, now) if not _same(a, b))
    for sql in _MISSES_SQL:
        seen.update((r[0], "miss") for r in db.execute(sql, [start, end]))
    seen.update(_since_disagrees(db, end))
    seen.update(_cases_disagree(db, start, end))
    seen.update(_events_gone(db, start, end))
    if has_column(db, "unit_misses", "open_from"):  # m061
        seen.update(_open_from_disagrees(db, start, end))
    if has_column(db, "unit_misses", "resolved_at"):  # m067
        for sql in _KEPT_SQL:
            seen.update((r[0], "kept_resolved") for r in db.execute(sql, [start, end]))
    seen.update(tuple(r) for sql in (_INSIDER_SQL, _PRAISE_INSIDER_SQL) for r in db.execute(sql, [start, end]))
    if has_table(db, "rating_redos"):  # m071
        for sql in _REDOS_SQL:
            seen.update((r[0], "rating_redo") for r in db.execute(sql, [start, end]))
    return [{"number": n, "what": w} for n, w in sorted(seen)]
