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
from storage.tickets import _OPEN_SQL, _decode, scope_sql

COUNT_CAP = 2000
# A search looks among the newest SEARCH_LIMIT tickets its words match: a word most tickets contain would
# otherwise make every list check a million entries. The page says so when it happens (search_capped).
SEARCH_LIMIT = 10_000
STATE_GROUPS = {
    "open": lifecycle.OPEN,
    "to_sign": lifecycle.TO_SIGN,  # 待签收: what the list's count of them opens (the line's state reads the same)
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


FLAG_SQL = {"unattended": "unattended = 1", "review": "review = 1", "arbitration": "arbitration = 1",
            # 延期 asked for and not decided yet: a list for whoever approves (storage/migrations.py: `extension`)
            "extension": "json_extract(extension, '$.state') = 'requested'"}
# Flags that only open tickets carry (a request left undecided on a closed ticket waits for nobody): read from the
# partial index of open tickets, whatever the history.
OPEN_FLAGS = {"extension"}
# Each flag's partial index (storage/migrations.py m013, m017): the flagged tickets are few in any state.
FLAG_INDEXES = {"unattended": "tickets_unattended", "review": "tickets_review", "arbitration": "tickets_arbitration"}


def _where(scope: tuple[list[str] | None, bool], f: Filters, now: float) -> tuple[str, list[Any]]:
    units, unattended = scope
    parts: list[str] = []
    args: list[Any] = []
    if units is not None:
        clause, more = scope_sql(units, unattended)
        parts.append(clause.removeprefix(" AND "))
        args += more
    states = _states(f)
    if states == lifecycle.OPEN:
        parts.append(_OPEN_SQL)  # word for word the partial index's WHERE, so the planner may use it
    elif set(states) != set(lifecycle.STATES):
        parts.append("state IN (" + ",".join("?" * len(states)) + ")")
        args += states
    for column, value in (("kind", f.kind), ("category", f.category), ("school_code", f.school),
                          ("unit_code", f.unit)):
        if value:
            parts.append(f"{column} = ?")
            args.append(value)
    clock = "state IN (" + ",".join("?" * len(lifecycle.CLOCK)) + ")"
    if f.overdue or f.due_days is not None:  # only open tickets run against a deadline
        parts.append(clock)
        args += lifecycle.CLOCK
    if _open_only(f) and states != lifecycle.OPEN:
        parts.append(_OPEN_SQL)  # within the open tickets: the partial index's WHERE, for INDEXED BY
    if f.overdue:
        parts.append("due_at < ?")
        args.append(now)
    if f.due_days is not None:
        parts.append("due_at >= ? AND due_at < ?")
        args += [now, now + f.due_days * 86400]
    if f.created_from is not None:
        parts.append("created_at >= ?")
        args.append(f.created_from)
    if f.created_to is not None:
        parts.append("created_at < ?")
        args.append(f.created_to)
    for flag in f.flags:
        if flag in FLAG_SQL:
            parts.append(FLAG_SQL[flag])
    if f.q:
        match = search.match_expression(f.q)
        if match is None:  # no words to look up: nothing matches. Not a bare "0": SQLite then refuses a partial
            # index named by INDEXED BY ("no query solution"), so a search for "*" broke exports and flagged lists
            parts.append("id IN (SELECT rowid FROM tickets_fts WHERE 0)")
        else:
            parts.append("id IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ? ORDER BY rowid DESC LIMIT ?)")
            args += [match, SEARCH_LIMIT]
    return (" AND ".join(parts) or "1"), args


def _states(f: Filters) -> tuple[str, ...]:
    return STATE_GROUPS.get(f.state, (f.state,) if f.state in lifecycle.STATES else lifecycle.OPEN)


def _open_only(f: Filters) -> bool:
    return set(_states(f)) <= set(lifecycle.OPEN) or f.overdue or f.due_days is not None or bool(
        OPEN_FLAGS & set(f.flags))


def to_sign(db: sqlite_utils.Database, scope, f: Filters, now: float) -> int:
    """How many of this list's tickets wait for 签收 (capped): the lines whose state reads 待签收, counted by the
    filters of the list ?state=to_sign shows, so the number and that list agree."""
    states = [s for s in _states(f) if s in lifecycle.TO_SIGN]
    if not states:
        return 0
    narrowed = Filters(**{**f.__dict__, "state": "to_sign" if len(states) > 1 else states[0]})
    return _count(db, *_where(scope, narrowed, now), _source(narrowed))


def pending_extensions(db: sqlite_utils.Database, scope, now: float) -> int:
    """延期 requests waiting for a decision among the scope's tickets (capped like every count)."""
    where, args = _where(scope, Filters(flags=("extension",)), now)
    return _count(db, where, args, "tickets INDEXED BY tickets_open")


def _source(f: Filters) -> str:
    """Which index a list reads, where the planner cannot know better:
    - open tickets: the partial index that holds only them (a few thousand whatever the history, covering every
      filter but 复核); otherwise the planner may walk a unit's or a school's whole history for its few open ones;
    - a flag (代收, 复核, 仲裁): its partial index, few tickets in any state;
    - a search over the history: the narrow index keyed by id (tickets_facets), so checking each ticket the words
      match against the other filters reads a small entry, not the whole row."""
    if _open_only(f):
        return "tickets INDEXED BY tickets_open"
    for flag in f.flags:
        if flag in FLAG_INDEXES:
            return f"tickets INDEXED BY {FLAG_INDEXES[flag]}"
    return "tickets INDEXED BY tickets_facets" if f.q else "tickets"


def _tally(found: list, f: Filters, now: float) -> tuple[dict[str, int], list]:
    """From (id, state, due_at, created_at) of every ticket matching all filters but the state and deadline ones:
    the counts per tab (capped) and the rows of this list in its order, in one pass."""
    wanted, open_, clock = set(_states(f)), set(lifecycle.OPEN), set(lifecycle.CLOCK)
    soon = now + f.due_days * 86400 if f.due_days is not None else None
    counts = {"all": 0, "open": 0, "done": 0, "overdue": 0}
    chosen = []
    for r in found:
        state, due = r[1], r[2]
        running = state in clock and due is not None
        if soon is not None and not (running and now <= due < soon):
            continue
        late = running and due < now
        # each tab's count is what that tab lists (its link drops 超期): on the 超期 tab too
        counts["overdue"] += late
        counts["all"] += 1
        counts["open" if state in open_ else "done"] += 1
        if f.overdue and not late:
            continue
        if state in wanted:
            chosen.append(r)
    if f.sort == "new":
        chosen.sort(key=lambda r: (-r[3], -r[0]))
    else:
        chosen.sort(key=lambda r: (r[2] is not None, r[2] or 0, r[0]))  # as ORDER BY due_at, id: NULL first
    return {k: min(COUNT_CAP, n) for k, n in counts.items()}, chosen


def _rows(db: sqlite_utils.Database, ids: list[int]) -> list[dict[str, Any]]:
    by_id = {r["id"]: _decode(r) for r in db.query(
        f"SELECT * FROM tickets WHERE id IN ({','.join('?' * len(ids))})", ids)} if ids else {}
    return [by_id[i] for i in ids]


def _matches(db: sqlite_utils.Database, scope, f: Filters, now: float, limit: int | None = None,
             group: str = "all") -> list:
    """(id, state, due_at, created_at) of the tickets matching every filter but the state and deadline ones
    (among the open ones only, for group "open")."""
    base = Filters(**{**f.__dict__, "state": group, "overdue": False, "due_days": None})
    where, args = _where(scope, base, now)
    source = _source(base)
    if source == "tickets":
        source = _narrowest(db, scope, base) or source
    sql = f"SELECT id, state, due_at, created_at FROM {source} WHERE {where}"
    return db.execute(sql + (" LIMIT ?" if limit is not None else ""),
                      [*args, *([limit] if limit is not None else [])]).fetchall()


PROBE_LIMIT = 50_000


def _narrowest(db: sqlite_utils.Database, scope, f: Filters) -> str | None:
    """With two or more filters an index leads with, the one whose range is shortest here, counted in the
    indexes themselves (up to PROBE_LIMIT each): SQLite's statistics know only averages, and one office holds a
    seventh of all tickets while a school holds a two-hundredth."""
    units, unattended = scope
    ranges = []
    if units is not None and not unattended:
        ranges.append(("tickets_unit_due", f"unit_code IN ({','.join('?' * len(units))})", list(units)))
    for index, column, value in (("tickets_unit_due", "unit_code", f.unit), ("tickets_school_due", "school_code",
                                 f.school), ("tickets_category_due", "category", f.category)):
        if value:
            ranges.append((index, f"{column} = ?", [value]))
    if f.created_from is not None and f.created_to is not None:
        ranges.append(("tickets_created", "created_at >= ? AND created_at < ?", [f.created_from, f.created_to]))
    if len(ranges) < 2:
        return None
    sizes = [(db.execute(f"SELECT count(*) FROM (SELECT 1 FROM tickets INDEXED BY {index} WHERE {cond} LIMIT ?)",
                         [*args, PROBE_LIMIT]).fetchone()[0], index) for index, cond, args in ranges]
    size, index = min(sizes)
    return f"tickets INDEXED BY {index}" if size < PROBE_LIMIT else None


def _search_page(db: sqlite_utils.Database, scope, f: Filters, now: float, number: int, size: int
                 ) -> dict[str, Any]:
    """A search: the words are looked up once, and the tickets they match (the newest SEARCH_LIMIT) are read
    once from the narrow index with every filter but the state and deadline ones; the state groups, the
    deadline filters, the counts and the page's order are then worked out from those few columns."""
    counts, chosen = _tally(_matches(db, scope, f, now), f, now)
    start = (max(number, 1) - 1) * size
    return {"rows": _rows(db, [r[0] for r in chosen[start:start + size]]), "total": min(COUNT_CAP, len(chosen)),
            "counts": counts, "capped": COUNT_CAP, "search_capped": _search_matches(db, f.q) > SEARCH_LIMIT}


def _search_matches(db: sqlite_utils.Database, q: str) -> int:
    """How many tickets the words match, up to SEARCH_LIMIT + 1 (a count from the full-text index alone)."""
    match = search.match_expression(q)
    if match is None:
        return 0
    return db.execute("SELECT count(*) FROM (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ? LIMIT ?)",
                      [match, SEARCH_LIMIT + 1]).fetchone()[0]


def _order(f: Filters) -> str:
    """Plain columns, so an index gives the order and LIMIT stops early (tickets not yet dispatched have no
    deadline: they come first, which is where the duty office wants them)."""
    if f.sort == "new":
        return "created_at DESC, id DESC"
    return "due_at, id"


def page(db: sqlite_utils.Database, scope, f: Filters, now: float, number: int = 1, size: int = 20
         ) -> dict[str, Any]:
    """One page of tickets, the total (capped) and counts per state group with the other filters applied."""
    if f.q:
        return _search_page(db, scope, f, now, number, size)
    start = (max(number, 1) - 1) * size
    if f.due_days is not None:  # only open tickets run against a deadline: a few thousand at most
        found, complete = _matches(db, scope, f, now, group="open"), True
    else:
        open_ = _count(db, *_where(scope, Filters(**{**f.__dict__, "state": "open", "overdue": False}), now),
                       "tickets INDEXED BY tickets_open")
        # Every match in any state, up to the cap plus the open ones: when there are fewer, this is all of them,
        # and the tabs' counts and the page come from it (a rare combination of filters costs this one read).
        found = _matches(db, scope, f, now, COUNT_CAP + open_)
        complete = len(found) < COUNT_CAP + open_
    if complete:
        counts, chosen = _tally(found, f, now)
        return {"rows": _rows(db, [r[0] for r in chosen[start:start + size]]), "total": min(COUNT_CAP, len(chosen)),
                "counts": counts, "capped": COUNT_CAP, "search_capped": False}
    counts = {"open": min(open_, COUNT_CAP), "all": COUNT_CAP, "done": min(len(found) - open_, COUNT_CAP)}
    if f.state not in STATE_GROUPS:  # one state of many matches: its own few, read once, when they are few
        mine = _matches(db, scope, f, now, COUNT_CAP + 1, group=f.state)
        if len(mine) <= COUNT_CAP:
            late = _count(db, *_where(scope, Filters(**{**f.__dict__, "overdue": True, "state": "open"}), now),
                          "tickets INDEXED BY tickets_open")
            chosen = _tally(mine, f, now)[1]
            return {"rows": _rows(db, [r[0] for r in chosen[start:start + size]]),
                    "total": len(chosen), "counts": {**counts, "overdue": min(late, COUNT_CAP)}, "capped": COUNT_CAP,
                    "search_capped": False}
    # Many: 全部 and 已办结 are at least the cap; the page walks an index in its order and stops at it.
    where, args = _where(scope, f, now)
    source = _source(f)
    if source == "tickets" and f.state in ("all", "done") and not (f.category and f.kind and f.sort == "due"):
        # dense: the order's own index finds a page at once (a category and a kind have theirs, in that order)
        source = "tickets INDEXED BY " + ("tickets_created" if f.sort == "new" else "tickets_due")
    rows = [_decode(r) for r in db.query(
        f"SELECT * FROM tickets WHERE id IN (SELECT id FROM {source} WHERE {where} ORDER BY {_order(f)} "
        f"LIMIT ? OFFSET ?) ORDER BY {_order(f)}", [*args, size, start])]
    overdue = Filters(**{**f.__dict__, "overdue": True, "state": "open"})
    ow, oa = _where(scope, overdue, now)
    counts["overdue"] = _count(db, ow, oa, _source(overdue))
    total = counts["overdue"] if f.overdue and f.state == "open" else (
        counts[f.state] if f.state in counts and not f.overdue else _count(db, where, args, _source(f)))
    return {"rows": rows, "total": total, "counts": counts, "capped": COUNT_CAP, "search_capped": False}


def _count(db: sqlite_utils.Database, where: str, args: list[Any], source: str = "tickets",
           limit: int | None = None) -> int:
    return db.execute(f"SELECT count(*) FROM (SELECT 1 FROM {source} WHERE {where} LIMIT ?)",
                      [*args, COUNT_CAP if limit is None else limit]).fetchone()[0]


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
