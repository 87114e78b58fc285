"""The workbench's ticket lists: one filtered, scoped, LIMITed query for the inbox and the exports.

A scope is (units, unattended): the unit codes a person sees (None: all) and whether the 代收 tickets of units with
nobody bound are included (the duty office); handlers.desk.Desk.scope decides it. Counts stop at COUNT_CAP, so a
count never walks a million rows to say "2000+".
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import sqlite_utils

from storage import lifecycle, search
from storage.tickets import _decode

COUNT_CAP = 2000
STATE_GROUPS = {
    "open": lifecycle.OPEN,
    "done": ("resolved", "closed", "withdrawn"),
    "all": tuple(lifecycle.STATES),
}


@dataclass
class Filters:
    state: str = "open"            # a group of STATE_GROUPS or one state
    kind: str = ""
    category: str = ""
    school: str = ""
    unit: str = ""                 # one unit within the scope
    overdue: bool = False
    due_days: int | None = None    # due within N days from now
    created_from: float | None = None
    created_to: float | None = None
    flags: tuple[str, ...] = ()    # unattended (代收), review (复核), arbitration (仲裁)
    q: str = ""
    sort: str = "due"              # due | new
    extra: dict = field(default_factory=dict)


FLAG_COLUMNS = {"unattended": "unattended", "review": "review", "arbitration": "arbitration"}


def _where(scope: tuple[list[str] | None, bool], f: Filters, now: float) -> tuple[str, list[Any]]:
    units, unattended = scope
    parts: list[str] = []
    args: list[Any] = []
    if units is not None:
        marks = ",".join("?" * len(units))
        parts.append(f"(unit_code IN ({marks})" + (" OR unattended = 1)" if unattended else ")"))
        args += units
    states = STATE_GROUPS.get(f.state, (f.state,) if f.state in lifecycle.STATES else lifecycle.OPEN)
    parts.append("state IN (" + ",".join("?" * len(states)) + ")")
    args += states
    for column, value in (("kind", f.kind), ("category", f.category), ("school_code", f.school),
                          ("unit_code", f.unit)):
        if value:
            parts.append(f"{column} = ?")
            args.append(value)
    clock = "state IN (" + ",".join("?" * len(lifecycle.CLOCK)) + ")"
    if f.overdue:
        parts.append(f"due_at < ? AND {clock}")
        args += [now, *lifecycle.CLOCK]
    if f.due_days is not None:
        parts.append(f"due_at >= ? AND due_at < ? AND {clock}")
        args += [now, now + f.due_days * 86400, *lifecycle.CLOCK]
    if f.created_from is not None:
        parts.append("created_at >= ?")
        args.append(f.created_from)
    if f.created_to is not None:
        parts.append("created_at < ?")
        args.append(f.created_to)
    for flag in f.flags:
        if flag in FLAG_COLUMNS:
            parts.append(f"{FLAG_COLUMNS[flag]} = 1")
    if f.q:
        match = search.match_expression(f.q)
        if match is None:
            parts.append("0")
        else:
            parts.append("id IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ?)")
            args.append(match)
    return (" AND ".join(parts) or "1"), args


def _source(f: Filters) -> str:
    """The 代收 tickets are few: their partial index, which the planner would pass over for the state index (and
    then walk every closed ticket to count the few 代收 ones among them)."""
    return "tickets INDEXED BY tickets_unattended" if "unattended" in f.flags else "tickets"


def _order(f: Filters) -> str:
    if f.sort == "new":
        return "created_at DESC, id DESC"
    return "due_at IS NULL, due_at, id"


def page(db: sqlite_utils.Database, scope, f: Filters, now: float, number: int = 1, size: int = 20
         ) -> dict[str, Any]:
    """One page of tickets, the total (capped) and counts per state group with the other filters applied."""
    where, args = _where(scope, f, now)
    rows = [_decode(r) for r in db.query(
        f"SELECT * FROM {_source(f)} WHERE {where} ORDER BY {_order(f)} LIMIT ? OFFSET ?",
        [*args, size, (max(number, 1) - 1) * size])]
    total = _count(db, where, args, _source(f))
    counts = {}
    base = Filters(**{**f.__dict__, "state": "all"})
    for group in ("open", "done", "all"):
        g = Filters(**{**base.__dict__, "state": group})
        gw, ga = _where(scope, g, now)
        counts[group] = _count(db, gw, ga, _source(g))
    overdue = Filters(**{**f.__dict__, "overdue": True, "state": "open"})
    ow, oa = _where(scope, overdue, now)
    counts["overdue"] = _count(db, ow, oa, _source(overdue))
    return {"rows": rows, "total": total, "counts": counts, "capped": COUNT_CAP}


def _count(db: sqlite_utils.Database, where: str, args: list[Any], source: str = "tickets") -> int:
    return db.execute(f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE {where} LIMIT ?)",
                      [*args, COUNT_CAP]).fetchone()[0]


def batch(db: sqlite_utils.Database, scope, f: Filters, now: float, after_id: int, size: int = 500
          ) -> list[dict[str, Any]]:
    """For exports: the next `size` matching tickets after `after_id`, by id (keyset, so each batch is a short
    read whatever the total)."""
    where, args = _where(scope, f, now)
    return [_decode(r) for r in db.query(
        f"SELECT * FROM {_source(f)} WHERE {where} AND id > ? ORDER BY id LIMIT ?", [*args, after_id, size])]


def earlier_of(db: sqlite_utils.Database, openid: str, before_id: int, limit: int = 5) -> list[dict[str, Any]]:
    """The same person's earlier tickets (the caller decides whether the viewer may know they are the same)."""
    return [_decode(r) for r in db.query(
        "SELECT * FROM tickets WHERE openid = ? AND id < ? ORDER BY id DESC LIMIT ?", [openid, before_id, limit])]


def for_span(db: sqlite_utils.Database, start: float, end: float, units: list[str] | None = None
             ) -> list[dict[str, Any]]:
    """Every ticket that can count in a rate of a period within [start, end): dispatched, resolved, rated or
    closed since `start`, or not resolved by then (it may be open past its deadline), and created before `end`."""
    sql = ("SELECT * FROM tickets WHERE created_at < ? AND (dispatched_at >= ? OR resolved_at IS NULL "
           "OR resolved_at >= ? OR rated_at >= ? OR closed_at >= ?) AND NOT (state = 'withdrawn' AND closed_at < ?)")
    args: list[Any] = [end, start, start, start, start, start]
    if units is not None:
        sql += f" AND unit_code IN ({','.join('?' * len(units))})"
        args += units
    return [_decode(r) for r in db.query(sql, args)]
