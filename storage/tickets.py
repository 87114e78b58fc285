"""Tickets and their append-only history."""
from __future__ import annotations

import datetime as dt
import json
import sqlite3
from bisect import bisect_right
from typing import Any, Iterator

import sqlite_utils

from storage import bursts, lifecycle, search
from storage.staff import insider_sql
from storage.lifecycle import TransitionError

OPEN_STATES = lifecycle.OPEN
_OPEN_SQL = "state IN (" + ", ".join(f"'{s}'" for s in lifecycle.OPEN) + ")"
# The order of every list by urgency (待办, 紧急, 签收, 代收, a card of reminders on the workbench): the most overdue
# first, then the nearest deadline; no deadline yet (not dispatched) last. One rule, as SQL and as a sort key.
URGENCY_ORDER = "due_at IS NULL, due_at, id"


def urgency_key(t: dict[str, Any]) -> tuple:
    """URGENCY_ORDER of a ticket row, for lists merged or sorted in Python."""
    return (t["due_at"] is None, t["due_at"] or 0, t["id"])
_CLOCK_SQL = "state IN (" + ", ".join(f"'{s}'" for s in lifecycle.CLOCK) + ")"


def _next_number(db: sqlite_utils.Database, now: float, tz) -> str:
    """JY<yymm>-<sequence within the month, at least 4 digits>: short enough to read out on the phone. The
    sequence is a counter row per month, bumped in the inserting transaction, so numbers never collide (a text
    maximum would put JY2611-9999 after JY2611-10000)."""
    month = dt.datetime.fromtimestamp(now, tz).strftime("%y%m")
    seq = db.execute("INSERT INTO ticket_counters (month, last) VALUES (?, 1) "
                     "ON CONFLICT(month) DO UPDATE SET last = last + 1 RETURNING last", [month]).fetchone()[0]
    return f"JY{month}-{seq:04d}"


def create(db: sqlite_utils.Database, *, openid: str, kind: str, category: str, unit_code: str | None,
           school_code: str | None, text: str, attachments: list, contact_phone: str | None, anonymous: bool,
           routing: dict, now: float, due_at: float | None, tz, actor: str | None = None,
           accept_due_at: float | None = None) -> dict[str, Any]:
    number = _next_number(db, now, tz)
    state = "assigned" if unit_code else "submitted"
    cur = db.execute(
        "INSERT INTO tickets (number, openid, kind, category, unit_code, school_code, text, attachments, "
        "contact_phone, anonymous, routing, state, created_at, dispatched_at, due_at, accept_due_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [number, openid, kind, category, unit_code, school_code, text, json.dumps(attachments, ensure_ascii=False),
         contact_phone, int(anonymous), json.dumps(routing, ensure_ascii=False), state, now,
         now if unit_code else None, due_at, accept_due_at],
    )
    ticket_id = cur.lastrowid
    ticket = get(db, number)
    add_event(db, ticket_id, now, actor or openid, None, "submitted", "留言提交", "submit",
              kept=None if unit_code else kept(ticket))
    if unit_code:
        add_event(db, ticket_id, now, "system", "submitted", "assigned", f"分派至 {unit_code}", "assign",
                  unit_code, kept=kept(ticket))
    search.reindex(db, ticket_id)
    return ticket


# The columns a unit's figures rest on that no other event says (the time limits, whose work each part is): each
# change of the ticket that moves one writes them, as they are after it, on its event (m044), so `verify-rates`
# can tell a deadline moved or a credit shifted behind the record (storage.integrity).
KEPT = ("unit_code", "accept_due_at", "due_at", "response_unit", "resolve_unit", "rated_unit", "stood_in")


def kept(ticket: dict[str, Any]) -> str:
    return json.dumps([ticket.get(k) for k in KEPT], separators=(",", ":"))


def add_event(db: sqlite_utils.Database, ticket_id: int, at: float, actor: str, from_state: str | None,
              to_state: str, note: str | None = None, action: str | None = None,
              unit_code: str | None = None, kept: str | None = None, misses: list | None = None) -> None:
    """`unit_code`: the unit that held the ticket when it happened (a 退回 counts against the unit that bounced).
    `kept`: the KEPT columns after the change; `misses`: the unit_misses rows it wrote, [[unit, response,
    overdue]] (m044: the record both are checked against)."""
    row = [ticket_id, at, actor, from_state, to_state, note, action or to_state, unit_code]
    try:
        db.execute("INSERT INTO ticket_events (ticket_id, at, actor, from_state, to_state, note, action, unit_code, "
                   "kept, misses) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   [*row, kept, json.dumps(misses, ensure_ascii=False, separators=(",", ":")) if misses else None])
    except sqlite3.OperationalError as exc:  # a database not yet at m044 (the upgrade tests write history first)
        if "kept" not in str(exc):
            raise
        db.execute("INSERT INTO ticket_events (ticket_id, at, actor, from_state, to_state, note, action, unit_code) "
                   "VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)


def record(db: sqlite_utils.Database, ticket: dict[str, Any], action: str, actor: str, now: float,
           note: str | None = None) -> None:
    """An event that leaves the state as it is (a citizen's reply, 督办, an internal note), if the table allows it."""
    if lifecycle.target(action, ticket["state"]) != ticket["state"]:
        raise TransitionError(f"{ticket['number']}: {action} in state {ticket['state']} is not allowed")
    add_event(db, ticket["id"], now, actor, ticket["state"], ticket["state"], note, action)
    if action in search.WORDY and note:
        search.reindex(db, ticket["id"])


UPDATABLE = {"state", "dispatched_at", "unit_code", "bounces", "arbitration", "unattended", "accepted_by", "accepted_at",
             "resolved_at", "resolution", "category", "due_at", "accept_due_at", "extension", "rating",
             "rating_comment", "rated_at", "rated_unit", "routing", "reopens", "review", "closed_at", "close_reason",
             "response_unit", "resolve_unit", "stood_in", "kind", "citizen_withdrew_at", "resolve_since",
             "response_since"}


# Whose rate a piece of work counts in is the value of its credit column (response_unit, resolve_unit,
# rated_unit; NULL: the holder's). 代收 work — a part a unit did, or let lapse, for a unit it stood in for — is
# written as that unit's 代收 account, STAND_IN + its code (m059): counted in no unit's three rates (neither the
# stand-in's nor the absent unit's), shown apart as the stand-in's 代收 figures (handlers.rates folds it). Every
# counter, recount, index range and late departure reads the column as it is, so this is the one place it is decided.
STAND_IN = "代收:"


def stand_in_for(code: str | None) -> str | None:
    """The 代收 account of unit `code` (a part it does for another unit)."""
    return None if code is None or code.startswith(STAND_IN) else STAND_IN + code


def owner(key: str | None) -> str | None:
    """The unit a credit value belongs to: the unit itself, or the stand-in behind a 代收 account."""
    return key[len(STAND_IN):] if key and key.startswith(STAND_IN) else key


def with_accounts(units: list[str]) -> list[str]:
    """`units` and their 代收 accounts: what a unit's reads of credited rows take in."""
    return [*units, *(STAND_IN + u for u in units if not u.startswith(STAND_IN))]


def credit(ticket: dict[str, Any]) -> tuple[str | None, str | None]:
    """What a ticket's 签收 part and 办结 part count for (m030, m059): the holder's, a stand-in's 代收 account, or
    the unit whose answer the bureau reviews (its dispatch and 签收)."""
    unit = ticket.get("unit_code")
    return ticket.get("response_unit") or unit, ticket.get("resolve_unit") or unit


def hands_over(before: dict[str, Any], after: dict[str, Any]) -> bool:
    """A change that moved the 办结 part to another unit by a hand-over (the holder changed with it): the moment
    `resolve_since` records (m060). One rule for transition, which writes it, and verify-rates, which re-derives
    it from the events' KEPT columns (storage.integrity)."""
    return after.get("unit_code") != before.get("unit_code") and credit(after)[1] != credit(before)[1]


def open_from(due: float, since: float | None) -> float:
    """From when a ticket left open past its deadline `due` was so with the unit it leaves: the deadline, or its
    coming back to that unit after it (`since`, resolve_since). One rule for the miss written (m061 open_from), its
    back-fill and verify-rates."""
    return max(due, since or due)


def stood_in(ticket: dict[str, Any]) -> int:
    """1 when a part of the holder's ticket is 代收 (a stand-in's 签收 or 办结, done or let lapse). The review's kept
    签收 is not that: the reviewed unit's own work, written as its code."""
    return int(any((ticket.get(k) or "").startswith(STAND_IN) for k in ("response_unit", "resolve_unit")))


def transition(db: sqlite_utils.Database, ticket: dict[str, Any], to_state: str, actor: str, now: float,
               action: str, note: str | None = None, **fields: Any) -> dict[str, Any]:
    """Change a ticket and append the event that says who did it, when, and why. Refuses (TransitionError) any
    change the lifecycle table does not allow."""
    assert set(fields) <= UPDATABLE, set(fields) - UPDATABLE
    if lifecycle.target(action, ticket["state"]) != to_state:
        raise TransitionError(f"{ticket['number']}: {action} from {ticket['state']} to {to_state} is not allowed")
    if "unit_code" in fields and fields["unit_code"] != ticket["unit_code"] and "response_unit" in ticket:
        # a new holder: its own work from now on, unless the caller says whose each part is (the review)
        fields.setdefault("response_unit", None)
        fields.setdefault("resolve_unit", None)
    if {"response_unit", "resolve_unit"} & fields.keys() and "stood_in" not in fields:
        fields["stood_in"] = stood_in({**ticket, **fields})  # the 代收 mark follows the parts, whoever moved them
    if "resolve_since" in ticket and hands_over(ticket, {**ticket, **fields}):
        # open past a deadline at an earlier period's end is not this unit's (it did not hold it then), so a
        # period's figures do not change when a ticket comes back (m060)
        fields.setdefault("resolve_since", now)
    misses = _record_miss(db, ticket, to_state, now, action, fields)
    misses += record_case(db, ticket, to_state, now, action, fields)
    fields["state"] = to_state
    for key in ("extension", "routing"):
        if isinstance(fields.get(key), dict):
            fields[key] = json.dumps(fields[key], ensure_ascii=False)
    sets = ", ".join(f"{k} = ?" for k in fields)
    db.execute(f"UPDATE tickets SET {sets} WHERE id = ?", [*fields.values(), ticket["id"]])
    # a rating's event names the unit whose answer was rated (ratings_in reads it)
    unit = fields.get("rated_unit") or ticket["unit_code"] if action in RATING_ACTIONS else ticket["unit_code"]
    after = get(db, ticket["number"])
    # the KEPT columns only when this change moved one (most events do not: a 签收, a 回复): the latest event that
    # carries them is the record verify-rates compares with
    now_kept = kept(after)
    add_event(db, ticket["id"], now, actor, ticket["state"], to_state, note, action, unit,
              now_kept if now_kept != kept(ticket) else None, misses)
    if action in search.WORDY and note:
        search.reindex(db, ticket["id"])
    return after


def _record_miss(db: sqlite_utils.Database, ticket: dict[str, Any], to_state: str, now: float, action: str,
                 fields: dict[str, Any]) -> list[list]:
    """A ticket leaving its unit (退回, 转派, the bureau's review), withdrawn, or whose late resolution a 不满意
    clears, when that unit had let it lapse, is kept as a miss of that unit (m029): otherwise the unit holding it
    now would take over its lateness, or a redo would erase it."""
    unit = ticket.get("unit_code")
    leaves = "unit_code" in fields and fields["unit_code"] != unit
    # a 不满意 clears the resolution (and gives a new deadline): a late one would vanish with it
    cleared = "resolved_at" in fields and fields["resolved_at"] is None
    if unit is None or ticket["kind"] == "praise" or ticket.get("dispatched_at") is None or \
            not (leaves or cleared or to_state == "withdrawn"):
        return []
    respond, resolve = credit(ticket)  # each part's lapse is the unit it counted for (a stand-in's, m030)
    after = credit({**ticket, **fields})
    accept_due, accepted = ticket.get("accept_due_at"), ticket.get("accepted_at")
    # the 签收 result moves with the part to its new unit, or is started again (a new window: a 代收 ticket
    # bounced to the duty office that stood in for it); a withdrawn ticket (or the review, which leaves the 签收
    # part where it was) keeps it where it is
    restarted = "accept_due_at" in fields and fields["accept_due_at"] != accept_due
    # withdrawn, the ticket leaves 派发 (m050): a window it had let lapse stays a miss
    response = (after[0] != respond or restarted or to_state == "withdrawn") and bool(accept_due) and \
        (accepted > accept_due if accepted is not None else now > accept_due)
    due, resolved = ticket.get("due_at"), ticket.get("resolved_at")
    # the 办结 part staying with its unit, deadline and all (back to the unit that 退回ed it while it counted for
    # it: desk.bounce), stays late in that unit's own figures: a miss as well would count it twice
    stays = after[1] == resolve and fields.get("due_at", due) == due and to_state != "withdrawn" and not cleared
    overdue = bool(due) and not stays and (resolved > due if resolved is not None else
                                           now > due and ticket["state"] in lifecycle.CLOCK and not cleared)
    # One 签收 window is one 响应 case (one dispatch): a unit that let it lapse, got the ticket back with that same
    # window (Desk.handover) and let it go again misses nothing new. A deadline is different: 解决率 counts a
    # ticket open past it in every period (README "Count one late ticket twice"), so each departure's period may.
    if response and "resolve_since" in ticket and db.execute(
            "SELECT 1 FROM unit_misses INDEXED BY unit_misses_ticket WHERE ticket_id = ? AND unit_code = ? "
            "AND response = 1 AND accept_due_at = ?",
            [ticket["id"], respond, accept_due]).fetchone():
        response = False
    # Left open past its deadline: from when it was open past it with this unit (its deadline, or its coming back
    # after it, resolve_since) to now, each period's end counted it late for this unit; the miss keeps those
    # counts (handlers.rates.compute), so a period already over reads the same after the ticket leaves (trust16).
    # A 办结 a 不满意 clears stays in its month (trust18b, m067): the row of its unit keeps its moment, in time or
    # late (then open past its deadline from `open_from` until that moment), and the rates count it there
    # (handlers.rates.kept_resolutions), never as a miss of the 不满意's month.
    kept_at = resolved if cleared and resolved is not None else None
    since = open_from(due, ticket.get("resolve_since")) if overdue and (resolved is None or kept_at) else None
    rows = {respond: [0, 0], resolve: [0, 0]}
    rows[respond][0] |= response
    rows[resolve][1] |= overdue
    written = []
    for code, (r, o) in rows.items():
        keeps = kept_at if code == resolve else None
        if not code or not (r or o or keeps is not None):
            continue
        # m060: the window and deadline it missed; m061: open past it since; m067: the cleared 办结's moment
        if _insert_miss(db, [ticket["id"], code, now, action, int(r), int(o)], accept_due, due,
                        since if o else None, keeps):
            written.append([code, int(r), int(o)])
    return written


def _insert_miss(db: sqlite_utils.Database, row: list, accept_due: float | None, due: float | None,
                 since: float | None, kept_at: float | None) -> bool:
    """One unit_misses row as the database's version takes it; False when there is nothing it can keep (an
    in-time 办结 cleared on a database before m067: its upgrade's fill writes it)."""
    # (rare: a departure let lapse, or a 不满意; older files lack some columns)
    if not has_column(db, "unit_misses", "resolved_at"):  # a database before m067 (the upgrade tests write history first)
        if not (row[4] or row[5]):
            return False
        since = None if kept_at is not None else since  # before m067 a cleared late 办结 is its 不满意's miss
    names = ["accept_due_at", "due_at", "open_from", "resolved_at"]
    values = [accept_due, due, since, kept_at]
    keep = [i for i, n in enumerate(names) if has_column(db, "unit_misses", n)]
    cols = ", ".join(["ticket_id", "unit_code", "at", "action", "response", "overdue", *(names[i] for i in keep)])
    db.execute(f"INSERT INTO unit_misses ({cols}) VALUES ({', '.join('?' * (6 + len(keep)))})",
               [*row, *(values[i] for i in keep)])
    return True


# The moment a ticket's current 签收 case began (m066): its dispatch, or its coming to the unit after it
# (response_since). A case counts in 派发 and 响应率 of the period it began in, for the unit its 签收 part counts for.
CASE_START = "coalesce(response_since, dispatched_at)"


def case_start(ticket: dict[str, Any]) -> float | None:
    """CASE_START of a ticket row."""
    return ticket.get("response_since") or ticket.get("dispatched_at")


def record_case(db: sqlite_utils.Database, ticket: dict[str, Any], to_state: str, now: float, action: str,
                fields: dict[str, Any]) -> list[list]:
    """A 签收 case that stops being its unit's — the unit its 签收 part counts for changes (the ticket leaves it:
    退回, 转派; a stand-in takes the part over from a unit left with nobody, or gives it back; someone of another
    unit signs it as 代收), the ticket is withdrawn, or dispatched anew — is kept with that unit as it was (m066
    unit_cases) once it came due there (signed, or its window over), or once it had been the unit's at a day's
    end: a period over may have counted it in the unit's 派发 (its window open across that end), and must read
    the same later. Kept so, unsigned inside its window, it stays in that 派发 but never came due there
    (handlers.rates._kept_cases). One that begins and ends unsigned within a day, inside its window, was neither
    done nor missed by the unit and no period over counted it: no case of its own. The case the ticket starts
    with its new unit begins now (`response_since`), unless it is a case that unit had already (the same window
    given back, Desk.handover): then when that one began. So a period over keeps its 派发 and 响应率 whatever
    happens to its tickets later (handlers.rates.compute reads both). The rule itself is case_ends (one rule for
    this and m070's back-fill). Returns what the event names of it (m070: [unit, "case"], so verify-rates sees a
    kept case deleted)."""
    if "response_since" not in ticket or ticket["kind"] == "praise" or ticket.get("dispatched_at") is None:
        return []  # (a database before m066; praise; a ticket not dispatched yet: no case)
    after = {**ticket, **fields}
    end = case_ends(ticket, after, to_state, now, case_start(ticket))
    if end is None:
        return []
    written = []
    if end["kept"] and not db.execute(
            "SELECT 1 FROM unit_cases INDEXED BY unit_cases_ticket WHERE ticket_id = ? AND unit_code = ? "
            "AND accept_due_at IS ?", [ticket["id"], end["unit"], end["window"]]).fetchone():  # one window, one case
        _insert_case(db, [ticket["id"], end["unit"], ticket["dispatched_at"], ticket.get("response_since"), now,
                          action, end["window"], end["signed"]], end["stood_in"])
        written.append([end["unit"], "case"])
    if to_state == "withdrawn" or after.get("dispatched_at") is None:
        return written
    again = db.execute(f"SELECT {CASE_START.replace('response_since', 'since')} FROM unit_cases INDEXED BY "
                       "unit_cases_ticket WHERE ticket_id = ? AND unit_code = ? AND accept_due_at IS ?",
                       [ticket["id"], credit(after)[0], after.get("accept_due_at")]).fetchone()
    began = again[0] if again else now
    fields["response_since"] = None if began == after["dispatched_at"] else began
    return written


def case_ends(before: dict[str, Any], after: dict[str, Any], to_state: str, now: float,
              began: float | None) -> dict[str, Any] | None:
    """record_case's rule as data, for the change `before` -> `after` at `now` of a case that began at `began`:
    None when the 签收 case goes on; else the case that ends — its unit, window, 签收, the holder it was 代收 for
    (m070 `stood_in`: that unit's 代收 N件 stays in its month), and whether it is `kept` (it came due there, or a
    day's end counted it there). One rule for transition and the back-fill of departures before m066 (m070:
    cases_fill_next walks the events with it)."""
    respond, goes_to = credit(before)[0], credit(after)[0]
    # dispatched anew, or given a new 签收 window (one window, one case): the events carry the window (KEPT), not
    # the dispatch, so the replay sees a re-dispatch by the window every hand-over gives (Desk.handover)
    redispatched = after.get("dispatched_at") != before.get("dispatched_at") or \
        after.get("accept_due_at") != before.get("accept_due_at")
    if not (goes_to != respond or redispatched or to_state == "withdrawn"):
        return None
    window, signed = before.get("accept_due_at"), before.get("accepted_at")
    came_due = signed is not None or not window or window < now  # lapsed: a miss as well
    counted = began is not None and _day(began) < _day(now)  # a day's end (any period's) counted it with this unit
    return {"unit": respond, "window": window, "signed": signed,
            "stood_in": before.get("unit_code") if stood_in(before) else None,
            "kept": bool(respond) and (came_due or counted)}


def _insert_case(db: sqlite_utils.Database, row: list, stood: str | None) -> None:
    """One unit_cases row as the database's version takes it (m070 added `stood_in`)."""
    if has_column(db, "unit_cases", "stood_in"):
        db.execute("INSERT INTO unit_cases (ticket_id, unit_code, dispatched_at, since, at, action, accept_due_at, "
                   "accepted_at, stood_in) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", [*row, stood])
    else:  # a database between m066 and m070 (the upgrade tests write history first)
        db.execute("INSERT INTO unit_cases (ticket_id, unit_code, dispatched_at, since, at, action, accept_due_at, "
                   "accepted_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)


def _day(t: float) -> int:
    """The counters' day (unit_days: China Standard Time) of moment `t`; every period ends at one's start."""
    return int((t + DAY_OFFSET) // 86400)


def case_came_due(case: dict[str, Any]) -> bool:
    """A kept case (unit_cases) came due with its unit: signed, no window, or its window over when it ended (else
    it was kept for its 派发 alone, record_case)."""
    return case["accepted_at"] is not None or not case["accept_due_at"] or case["accept_due_at"] < case["at"]


def _cases_begun(db: sqlite_utils.Database, start: float, end: float, units: list[str] | None) -> list[dict]:
    """The period rows (PERIOD_COLUMNS) of the tickets whose current 签收 case began in [start, end) after their
    dispatch (m066 response_since: its trigger-kept index, a few rows)."""
    if not has_table(db, "tickets_response_since"):
        return []  # a database before m066
    where, args = _unit_filter(units, rated=True)
    return list(db.query(f"SELECT {PERIOD_COLUMNS}, rated_unit, by_insider FROM tickets WHERE id IN (SELECT "
                         f"ticket_id FROM tickets_response_since WHERE since >= ? AND since < ?){where}",
                         [start, end, *args]))


def cases_in(db: sqlite_utils.Database, start: float, end: float,
             units: list[str] | None = None) -> list[dict[str, Any]]:
    """The kept 签收 cases (m066) that began in [start, end), each with the unit it counts for, the holder whose
    代收 it was then (m070 `stood_in`) and, as `ticket`, the columns its ticket's 签收 part counts by now
    (handlers.rates: a case the ticket has again, the same unit and window, is counted once, as the ticket's).
    One index range of the period (unit_cases_start). Read for `units`, a case of another unit's is there only
    for its holder's 代收 N件 (`stood_only`)."""
    if not has_table(db, "unit_cases"):
        return []  # a database before m066
    stood = "c.stood_in" if has_column(db, "unit_cases", "stood_in") else "NULL"  # (m070)
    accounts = None if units is None else with_accounts(units)
    where, args = ("", []) if units is None else (
        f" AND (c.unit_code IN ({','.join('?' * len(accounts))}) OR {stood} IN ({','.join('?' * len(units))}))",
        [*accounts, *units])
    start_expr = "coalesce(c.since, c.dispatched_at)"
    return [{"unit_code": r[0], "accept_due_at": r[1], "accepted_at": r[2], "ticket_id": r[3], "start": r[4],
             "stood_in": r[9] if units is None or r[9] in units else None,  # (its holder's, if read for it)
             "stood_only": accounts is not None and r[0] not in accounts,
             "ticket": {"id": r[3], "unit_code": r[5], "response_unit": r[6], "accept_due_at": r[7], "state": r[8]},
             "at": r[10]}
            for r in db.execute(
                f"SELECT c.unit_code, c.accept_due_at, c.accepted_at, c.ticket_id, {start_expr}, t.unit_code, "
                f"t.response_unit, t.accept_due_at, t.state, {stood}, c.at FROM unit_cases c INDEXED BY unit_cases_start "
                f"JOIN tickets t ON t.id = c.ticket_id WHERE {start_expr} >= ? AND {start_expr} < ?{where}",
                [start, end, *args])]


def version(db: sqlite_utils.Database, ticket_id: int) -> int:
    """The ticket's latest event id: a form carries it, so an action on a ticket changed since the page was
    loaded (another person's 办结, a 不满意, a transfer, the same form sent twice) is not taken blindly."""
    return db.execute("SELECT coalesce(max(id), 0) FROM ticket_events WHERE ticket_id = ?", [ticket_id]).fetchone()[0]


def misses_in(db: sqlite_utils.Database, start: float, end: float,
              units: list[str] | None = None) -> list[dict[str, Any]]:
    """The late departures (m029) in [start, end), and those after it of tickets already open past their deadline
    with the unit before its end (m061 `open_from`: each period's end while it held them counted them), and the
    办结 in it a later 不满意 cleared (m067 `resolved_at`: counted in their month), each with the unit it counts
    against and, as `ticket`, the columns its ticket's parts count by now (handlers.rates: a unit that got the
    ticket back counts it once)."""
    units = None if units is None else with_accounts(units)
    where, args = ("", []) if units is None else (f" AND m.unit_code IN ({','.join('?' * len(units))})", list(units))
    head = ("SELECT m.id, m.unit_code, m.at, m.response, m.overdue, m.ticket_id, t.unit_code, t.resolve_unit, "
            "t.due_at, t.dispatched_at, t.resolved_at, t.state, t.response_unit, t.accepted_at, t.accept_due_at, "
            "t.resolve_since, {open_from}, {kept}, {case_kept} FROM unit_misses m INDEXED BY {index} JOIN tickets t "
            "ON t.id = m.ticket_id ")
    kept = "m.resolved_at" if has_column(db, "unit_misses", "resolved_at") else "NULL"
    # its 签收 window is a kept case (m066): the lapse counts there, in the month the case began
    case_kept = ("EXISTS (SELECT 1 FROM unit_cases c INDEXED BY unit_cases_ticket WHERE c.ticket_id = m.ticket_id "
                 "AND c.unit_code = m.unit_code AND c.accept_due_at IS m.accept_due_at)"
                 if has_table(db, "unit_cases") else "0")  # (m066 came after m060's accept_due_at)
    head = head.replace("{case_kept}", case_kept)
    sources = [(head.format(open_from="NULL", kept=kept, index="unit_misses_at") + f"WHERE m.at >= ? AND m.at < ?{where}",
                [start, end, *args])]
    if has_column(db, "unit_misses", "open_from"):
        sources = [(head.format(open_from="m.open_from", kept=kept, index="unit_misses_at")
                    + f"WHERE m.at >= ? AND m.at < ?{where}", [start, end, *args]),
                   # (the few departures of open late tickets: their partial index, from the period on)
                   (head.format(open_from="m.open_from", kept=kept, index="unit_misses_open")
                    + f"WHERE m.open_from IS NOT NULL AND m.at >= ? AND m.open_from < ?{where}", [end, end, *args])]
    if kept != "NULL":  # (the period's cleared 办结, by their moment: their partial index; most were
        # cleared in the month of their 办结, read above already: not joined and built again)
        sources.append((head.format(open_from="m.open_from", kept=kept, index="unit_misses_resolved")
                        + f"WHERE m.resolved_at >= ? AND m.resolved_at < ? AND NOT (m.at >= ? AND m.at < ?){where}",
                        [start, end, start, end, *args]))
    seen: dict[int, dict[str, Any]] = {}
    for sql, params in sources:
        for r in db.execute(sql, params):
            seen.setdefault(r[0], {
                "unit_code": r[1], "at": r[2], "response": r[3], "overdue": r[4], "ticket_id": r[5],
                "open_from": r[16], "resolved_at": r[17], "case_kept": bool(r[18]),
                "ticket": {"id": r[5], "unit_code": r[6], "resolve_unit": r[7], "due_at": r[8], "dispatched_at": r[9],
                           "resolved_at": r[10], "state": r[11], "response_unit": r[12], "accepted_at": r[13],
                           "accept_due_at": r[14], "resolve_since": r[15]}})
    out = list(seen.values())
    settle_resolve_since(db, [m["ticket"] for m in out])
    return out


def has_table(db: sqlite_utils.Database, table: str) -> bool:
    """Whether a table exists: once seen, remembered for the connection (a migration only adds), so the rates read
    the schema once, not at every period (a database before m066 has no unit_cases)."""
    known = db.__dict__.setdefault("tables_seen", set())
    if table not in known and columns_of(db, table):
        known.add(table)
    return table in known


def has_column(db: sqlite_utils.Database, table: str, column: str) -> bool:
    """Whether a table has a column: once seen, remembered for the connection (a migration only adds columns), so
    a case's end on the writer and each period's read of the rates do not read the schema again (PRAGMA
    table_info). A column not there yet is asked each time (a file not yet at its migration: the upgrade tests)."""
    known = db.__dict__.setdefault("columns_seen", set())
    if (table, column) not in known:
        known.update((table, c) for c in columns_of(db, table))
    return (table, column) in known


def columns_of(db: sqlite_utils.Database, table: str) -> set[str]:
    """A table's columns (a database not yet at a migration lacks some: the upgrade tests read old files)."""
    return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}


def deadline_held(db: sqlite_utils.Database, ticket: dict[str, Any], unit_code: str
                  ) -> tuple[bool, float | None, float | None, float | None]:
    """Whether `unit_code` held this ticket before; the deadline it had there when it last let it go; the 签收
    window it had let lapse there, unsigned in time and its own (None: it signed in time, or its window was still
    open, or a stand-in's); and its 派发: the moment it first got the ticket by an assign or a transfer (None: it
    first got it otherwise, by a 退回 or a review). From the events' KEPT columns (m044); events older than those:
    the deadline the ticket has now, no window, no 派发 of its own."""
    held, due, window, lapsed, dispatched = False, None, None, None, None
    signed, holder, fallback = False, None, False
    for at, action, unit, kept_ in db.execute(
            "SELECT at, action, unit_code, kept FROM ticket_events WHERE ticket_id = ? ORDER BY id", [ticket["id"]]):
        after = json.loads(kept_) if kept_ else None
        if action == "accept" and unit == unit_code and holder == unit_code and window and at <= window:
            signed = True
        if after is None:
            if unit == unit_code and not held:
                held, due, fallback = True, ticket.get("due_at"), True
            continue
        if after[0] == unit_code:
            if holder != unit_code:  # it arrives: a new hold, nothing signed yet
                signed = False
                if not held and action in ("assign", "transfer"):
                    dispatched = at
            held, due, fallback = True, after[2], False
            window, own = after[1], after[3] in (None, unit_code)
        elif holder == unit_code:  # it leaves
            lapsed = window if window and at > window and not signed and own else None
        holder = after[0]
    if fallback:
        return held, due, None, None
    return held, due, lapsed, dispatched


def open_for_units(db: sqlite_utils.Database, unit_codes: list[str], limit: int = 10) -> list[dict[str, Any]]:
    """Open tickets of these units, the nearest deadline first."""
    if not unit_codes:
        return []
    marks = ",".join("?" * len(unit_codes))
    return [_decode(r) for r in db.query(
        f"SELECT * FROM tickets WHERE unit_code IN ({marks}) AND {_OPEN_SQL} "
        f"ORDER BY {URGENCY_ORDER} LIMIT ?", [*unit_codes, limit])]


_TO_SIGN = lifecycle.TO_SIGN


def told_since(db: sqlite_utils.Database, unit_code: str, since: float, ticket_id: int) -> bool:
    """Whether another ticket of this unit, still waiting for 签收, arrived at or after `since` (its staff were just
    told of it): an index range of tickets_unit_created."""
    marks = ",".join("?" * len(_TO_SIGN))
    return bool(db.execute(f"SELECT EXISTS (SELECT 1 FROM tickets WHERE unit_code = ? AND created_at >= ? AND id != ? "
                           f"AND state IN ({marks}))", [unit_code, since, ticket_id, *_TO_SIGN]).fetchone()[0])


def waiting_to_sign(db: sqlite_utils.Database, numbers: list[str]) -> set[str]:
    """Which of these tickets still wait for 签收 (by the numbers' unique index)."""
    if not numbers:
        return set()
    marks = ",".join("?" * len(_TO_SIGN))
    return {r[0] for r in db.execute(
        f"SELECT number FROM tickets WHERE number IN ({','.join('?' * len(numbers))}) AND state IN ({marks})",
        [*numbers, *_TO_SIGN])}


def in_urgency_order(db: sqlite_utils.Database, numbers: list[str]) -> list[str]:
    """These tickets' numbers in URGENCY_ORDER, the open ones first (a finished ticket's deadline presses no
    more); numbers of no ticket last, as given. By the numbers' unique index."""
    if not numbers:
        return []
    rows = {r["number"]: r for r in db.query(
        f"SELECT number, id, due_at, {_OPEN_SQL} AS open FROM tickets WHERE number IN ({','.join('?' * len(numbers))})",
        list(numbers))}
    known = sorted((rows[n] for n in dict.fromkeys(numbers) if n in rows), key=lambda t: (not t["open"], *urgency_key(t)))
    return [t["number"] for t in known] + [n for n in numbers if n not in rows]


def count_to_sign(db: sqlite_utils.Database, unit_code: str, cap: int = 1000) -> int:
    """How many of a unit's tickets wait for 签收 (at most `cap`: a range of tickets_unit_state, bounded)."""
    marks = ",".join("?" * len(_TO_SIGN))
    return db.execute(f"SELECT COUNT(*) FROM (SELECT 1 FROM tickets WHERE unit_code = ? AND state IN ({marks}) "
                      f"LIMIT ?)", [unit_code, *_TO_SIGN, cap]).fetchone()[0]


_TO_SIGN_SQL = "state IN (" + ", ".join(f"'{s}'" for s in _TO_SIGN) + ")"


def _to_sign_where(unit_code: str, stand_in: bool) -> tuple[str, list]:
    # the unit's own (tickets_unit_state), and for the duty office the open 代收 ones of other units
    where = f"(unit_code = ? AND {_TO_SIGN_SQL})"
    if stand_in:
        where += f" OR (unattended = 1 AND {_OPEN_SQL} AND {_TO_SIGN_SQL} AND unit_code IS NOT ?)"
        return where, [unit_code, unit_code]
    return where, [unit_code]


def to_sign(db: sqlite_utils.Database, unit_code: str, stand_in: bool = False, limit: int = 99
            ) -> list[dict[str, Any]]:
    """The tickets waiting for 签收 at `unit_code` (`stand_in`: also the 代收 ones the duty office holds), the
    nearest deadline first: only those, not the nearest open ones of which some are signed already."""
    where, args = _to_sign_where(unit_code, stand_in)
    return [_decode(r) for r in db.query(f"SELECT * FROM tickets WHERE {where} ORDER BY {URGENCY_ORDER} "
                                         "LIMIT ?", [*args, limit])]


def count_to_sign_all(db: sqlite_utils.Database, unit_code: str, stand_in: bool = False) -> int:
    """Exactly how many `to_sign` would list without a limit: index ranges counted, no row read."""
    where, args = _to_sign_where(unit_code, stand_in)
    return db.execute(f"SELECT count(*) FROM tickets WHERE {where}", args).fetchone()[0]


def open_all(db: sqlite_utils.Database, limit: int = 10) -> list[dict[str, Any]]:
    """For leaders: every open ticket, the nearest deadline first (flags are marked on the line, not sorted)."""
    return [_decode(r) for r in db.query(
        f"SELECT * FROM tickets INDEXED BY tickets_open WHERE {_OPEN_SQL} ORDER BY {URGENCY_ORDER} LIMIT ?",
        [limit])]


def overdue(db: sqlite_utils.Database, unit_codes: list[str] | None, now: float,
            unattended: bool = False) -> list[dict[str, Any]]:
    """Open tickets past their deadline (of these units, or all), by unit then deadline. `unattended`: also the
    代收 tickets of units with nobody bound (the duty office's scope, handlers.desk.Desk.scope)."""
    # _OPEN_SQL as well: it lets the partial index of open tickets serve the list (the clock's states are open ones).
    # INDEXED BY: the workbench's (unit_code, due_at) index would let the planner walk every ticket to skip a sort.
    where, args = scope_sql(unit_codes, unattended)
    sql = f"SELECT * FROM tickets INDEXED BY tickets_open WHERE {_OPEN_SQL} AND {_CLOCK_SQL} AND due_at < ?{where}"
    return [_decode(r) for r in db.query(sql + " ORDER BY unit_code, due_at, id", [now, *args])]


def pressing(db: sqlite_utils.Database, unit_codes: list[str] | None, now: float, day_end: float,
             unattended: bool = False, limit: int = 10) -> tuple[list[dict[str, Any]], int]:
    """What needs attention now, in a person's scope (scope_sql): the open tickets the router judged urgent (a
    safety matter; never praise), nearest deadline first, at most `limit`; and how many on the clock fall due
    between `now` and `day_end`. Urgency is in the routing JSON, which no index holds: this reads every open
    ticket of the scope (~6,000 at a million tickets, ~50-500 ms), so it runs on a reader (messages.ReadFirst)."""
    where, args = scope_sql(unit_codes, unattended)
    rows = [_decode(r) for r in db.query(
        f"SELECT * FROM tickets INDEXED BY tickets_open WHERE {_OPEN_SQL} AND kind != 'praise' "
        f"AND json_extract(routing, '$.urgent'){where} ORDER BY {URGENCY_ORDER} LIMIT ?", [*args, limit])]
    today = db.execute(f"SELECT COUNT(*) FROM tickets INDEXED BY tickets_open WHERE {_OPEN_SQL} AND {_CLOCK_SQL} "
                       f"AND due_at >= ? AND due_at < ?{where}", [now, day_end, *args]).fetchone()[0]
    return rows, today


def scope_sql(units: list[str] | None, unattended: bool = False) -> tuple[str, list]:
    """" AND …" for a person's scope (handlers.desk.Desk.scope: units, and whether the 代收 tickets of units with
    nobody bound are theirs too): one rule for the lists, the 超期 command and the dashboard's 当前超期."""
    if units is None:
        return "", []
    marks = ",".join("?" * len(units))
    return f" AND (unit_code IN ({marks})" + (" OR unattended = 1)" if unattended else ")"), list(units)


def accepted_by(db: sqlite_utils.Database, openid: str) -> list[dict[str, Any]]:
    """Open tickets this person has 签收ed."""
    return [_decode(r) for r in db.query(f"SELECT * FROM tickets WHERE accepted_by = ? AND {_OPEN_SQL} ORDER BY id",
                                         [openid])]


def about_bureau_at(db: sqlite_utils.Database, unit_code: str) -> list[dict[str, Any]]:
    """Open complaints about the bureau itself (handlers.privacy.about_bureau) that `unit_code` holds: the unit's
    open range of tickets_unit_state, the flag read from the routing JSON."""
    return [_decode(r) for r in db.query(
        f"SELECT * FROM tickets WHERE unit_code = ? AND {_OPEN_SQL} AND kind = 'complaint' "
        f"AND json_extract(routing, '$.about_bureau') ORDER BY id", [unit_code])]


def held_by(db: sqlite_utils.Database, unit_code: str) -> list[dict[str, Any]]:
    """Open tickets at `unit_code` not already 代收 (its last member left: Desk.left_empty). Rare: the unit's
    range of tickets_unit_due."""
    return [_decode(r) for r in db.query(f"SELECT * FROM tickets WHERE unit_code = ? AND unattended = 0 AND "
                                         f"{_OPEN_SQL} ORDER BY id", [unit_code])]


def strays(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Open tickets, not 代收, at a unit (the duty office too) where no handler or supervisor is bound: left so
    while nobody could stand in (Desk.take_strays). Few or none: the open tickets' partial index."""
    return [_decode(r) for r in db.query(
        f"SELECT * FROM tickets INDEXED BY tickets_open WHERE {_OPEN_SQL} AND unattended = 0 "
        "AND unit_code NOT IN (SELECT unit_code FROM users INDEXED BY users_role_unit "
        "WHERE role IN ('handler', 'supervisor') AND unit_code IS NOT NULL) ORDER BY id")]


def unattended_open(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every open 代收 ticket (the duty office's last member left: Desk.left_empty), from its partial index."""
    return [_decode(r) for r in db.query(f"SELECT * FROM tickets INDEXED BY tickets_unattended WHERE unattended = 1 "
                                         f"AND {_OPEN_SQL} ORDER BY id")]


def unattended_of(db: sqlite_utils.Database, unit_code: str) -> list[dict[str, Any]]:
    return [_decode(r) for r in db.query(f"SELECT * FROM tickets WHERE unit_code = ? AND unattended = 1 AND "
                                         f"{_OPEN_SQL} ORDER BY id", [unit_code])]


def record_correction(db: sqlite_utils.Database, ticket: dict[str, Any], actor: str, to_unit: str, now: float,
                      note: str | None) -> None:
    db.execute("INSERT INTO routing_corrections (ticket_id, at, actor, category, from_unit, to_unit, text, note) "
               "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               [ticket["id"], now, actor, ticket["category"], ticket["unit_code"], to_unit, ticket["text"], note])


def transferred_to(db: sqlite_utils.Database, ticket_id: int, at: float) -> str | None:
    """The unit a ticket was last transferred to, as of `at`."""
    row = db.execute("SELECT to_unit FROM routing_corrections WHERE ticket_id = ? AND at <= ? ORDER BY id DESC "
                     "LIMIT 1", [ticket_id, at]).fetchone()
    return row[0] if row else None

def corrections(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Every 转派 with the categories of the unit it went to (what the staff judged right), oldest first."""
    rows = db.query(
        "SELECT rc.id, rc.ticket_id, rc.at, rc.category, rc.from_unit, rc.to_unit, rc.text, rc.note, "
        "u.name AS to_name, u.categories AS to_categories, t.routing FROM routing_corrections rc "
        "LEFT JOIN units u ON u.code = rc.to_unit LEFT JOIN tickets t ON t.id = rc.ticket_id ORDER BY rc.id")
    out = []
    for r in rows:
        r["routing"] = json.loads(r["routing"] or "{}")  # the decision as it was made, with its words
        cats = (r.pop("to_categories") or "").replace(",", ";").split(";")
        r["to_categories"] = [c.strip() for c in cats if c.strip()]
        out.append(r)
    return out


def append_text(db: sqlite_utils.Database, number: str, openid: str, text: str, attachments: list,
                now: float) -> None:
    """The citizen adds to an open ticket (instead of filing a duplicate)."""
    ticket = get(db, number)
    merged = ticket["text"] + "\n【补充】" + text if text else ticket["text"]
    db.execute("UPDATE tickets SET text = ?, attachments = ? WHERE id = ?",
               [merged, json.dumps(ticket["attachments"] + attachments, ensure_ascii=False), ticket["id"]])
    add_event(db, ticket["id"], now, openid, ticket["state"], ticket["state"], text, "supplement")
    search.reindex(db, ticket["id"])


def get(db: sqlite_utils.Database, number: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM tickets WHERE number = ?", [number]))
    return _decode(rows[0]) if rows else None


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    row["attachments"] = json.loads(row["attachments"])
    row["routing"] = json.loads(row["routing"])
    row["anonymous"] = bool(row["anonymous"])
    if row.get("extension"):
        row["extension"] = json.loads(row["extension"])
    for flag in ("arbitration", "unattended", "review"):
        if flag in row:
            row[flag] = bool(row[flag])
    return row


def open_unattended(db: sqlite_utils.Database, limit: int = 99) -> list[dict[str, Any]]:
    """Tickets at units with nobody bound: the duty office stands in for them."""
    return [_decode(r) for r in db.query(
        f"SELECT * FROM tickets WHERE unattended = 1 AND {_OPEN_SQL} ORDER BY {URGENCY_ORDER} LIMIT ?",
        [limit])]


def _dicts(db: sqlite_utils.Database, sql: str, params: list) -> list[dict[str, Any]]:
    """A read's rows as dicts, by conn.execute: db.query wraps each read in a savepoint (two more statements),
    which the questions asked on every message can do without."""
    cur = db.conn.execute(sql, params)
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row)) for row in cur.fetchall()]


def for_citizen(db: sqlite_utils.Database, openid: str, limit: int = 5) -> list[dict[str, Any]]:
    return [_decode(r) for r in _dicts(
        db, "SELECT * FROM tickets WHERE openid = ? ORDER BY id DESC LIMIT ?", [openid, limit])]


def similar_open(db: sqlite_utils.Database, openid: str, school_code: str | None, category: str,
                 since: float) -> dict[str, Any] | None:
    """The person's own open ticket about the same school and category in the period, if any."""
    marks = ",".join("?" * len(OPEN_STATES))
    rows = _dicts(
        db, f"SELECT * FROM tickets WHERE openid = ? AND category = ? AND school_code IS ? AND created_at >= ? "
        f"AND state IN ({marks}) AND citizen_withdrew_at IS NULL ORDER BY id DESC LIMIT 1",  # withdrawn: not theirs
        [openid, category, school_code, since, *OPEN_STATES])
    return _decode(rows[0]) if rows else None


def events(db: sqlite_utils.Database, ticket_id: int) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY id", [ticket_id]))


def watched(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Tickets whose clock runs: dispatched and not yet resolved."""
    return [_decode(r) for r in db.query(
        f"SELECT * FROM tickets WHERE {_CLOCK_SQL} AND due_at IS NOT NULL ORDER BY id")]


def awaiting_rating(db: sqlite_utils.Database, openid: str | None = None) -> list[dict[str, Any]]:
    sql, args = "SELECT * FROM tickets WHERE state = 'resolved'", []
    if openid:
        sql, args = sql + " AND openid = ?", [openid]
    return [_decode(r) for r in db.query(sql + " ORDER BY resolved_at", args)]


def remind_once(db: sqlite_utils.Database, ticket_id: int, kind: str, due_at: float, now: float) -> bool:
    """True the first time (ticket, kind, deadline) is seen: the caller then sends the reminder."""
    return db.execute("INSERT OR IGNORE INTO reminders (ticket_id, kind, due_at, sent_at) VALUES (?, ?, ?, ?)",
                      [ticket_id, kind, due_at, now]).rowcount == 1


# An 超期督办 the watch found nobody to send to (nobody bound who may act), and the leader or admin told of it
# since (Desk.waited): reminders rows, so the watch never sends it again whoever binds.
UNHEARD, UNHEARD_TOLD = "unheard", "unheard_told"
# The citizen told that nobody bound may act on their ticket yet (at filing, else at the first reminder): once a
# spell -- forgotten when they next hear of it while someone is on duty (Desk.tell_citizen), so a spell after that
# is told again.
WAITING_TOLD = "citizen_waiting"


def unheard(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    """Open tickets whose 超期督办 reached nobody and no leader or admin has been told of yet (few or none: the
    open tickets' partial index, a primary-key probe each)."""
    return [_decode(r) for r in db.query(
        f"SELECT * FROM tickets INDEXED BY tickets_open WHERE {_OPEN_SQL} AND EXISTS (SELECT 1 FROM reminders r "
        "WHERE r.ticket_id = tickets.id AND r.kind = ? AND NOT EXISTS (SELECT 1 FROM reminders k "
        "WHERE k.ticket_id = r.ticket_id AND k.kind = ? AND k.due_at = r.due_at)) ORDER BY id",
        [UNHEARD, UNHEARD_TOLD])]


def forget_reminder(db: sqlite_utils.Database, ticket_id: int, kind: str) -> None:
    """A marker of `kind` no longer holds (WAITING_TOLD: the citizen has since heard from someone on duty)."""
    db.execute("DELETE FROM reminders WHERE ticket_id = ? AND kind = ?", [ticket_id, kind])


def told_unheard(db: sqlite_utils.Database, ids: list[int], now: float) -> None:
    db.execute(f"INSERT OR IGNORE INTO reminders (ticket_id, kind, due_at, sent_at) SELECT ticket_id, ?, due_at, ? "
               f"FROM reminders WHERE kind = ? AND ticket_id IN ({','.join('?' * len(ids))})",
               [UNHEARD_TOLD, now, UNHEARD, *ids])


def reminded_at(db: sqlite_utils.Database, ticket_id: int, kind: str, due_at: float) -> float | None:
    row = db.execute("SELECT sent_at FROM reminders WHERE ticket_id = ? AND kind = ? AND due_at = ?",
                     [ticket_id, kind, due_at]).fetchone()
    return row[0] if row else None


def reminders(db: sqlite_utils.Database, ticket_id: int) -> list[str]:
    return [r[0] for r in db.execute("SELECT kind FROM reminders WHERE ticket_id = ? ORDER BY sent_at, rowid",
                                     [ticket_id])]


def created_before(db: sqlite_utils.Database, end: float) -> list[dict[str, Any]]:
    """Every ticket that could count in a period ending at `end` (the rate rules pick what counts)."""
    return [_decode(r) for r in db.query("SELECT * FROM tickets WHERE created_at < ? ORDER BY id", [end])]


def digest_sent(db: sqlite_utils.Database, week: str, scope: str, now: float) -> bool:
    """Record that the digest for (week, scope) goes out now; False if it already went."""
    return db.execute("INSERT OR IGNORE INTO digests (week, scope, sent_at) VALUES (?, ?, ?)",
                      [week, scope, now]).rowcount == 1


def first_created(db: sqlite_utils.Database) -> float | None:
    return db.execute("SELECT min(created_at) FROM tickets").fetchone()[0]


# -- reads that follow the open tickets or the period asked for (see storage/migrations.py m009) --------------

# The columns the rates and the digest need: no text, no JSON to decode.
PERIOD_COLUMNS = ("id, number, kind, category, unit_code, school_code, state, created_at, dispatched_at, "
                  "due_at, accept_due_at, accepted_at, resolved_at, rated_at, rating, closed_at, close_reason, "
                  "response_unit, resolve_unit, stood_in, resolve_since, response_since")
RESPOND_UNIT = "coalesce(response_unit, unit_code)"  # the unit a ticket's 签收 part counts for (credit)
RESOLVE_UNIT = "coalesce(resolve_unit, unit_code)"   # the unit its 办结 part counts for
# the 办结 part was with the unit it counts for at the cut (?): handlers.rates._resolution_case's rule (m060)
HELD_AT = "(resolve_since IS NULL OR resolve_since < ?)"


def resolve_since_of(db: sqlite_utils.Database, ids: list[int]) -> dict[int, float | None]:
    """When each ticket's 办结 part last came to the unit it counts for by a hand-over, from its events' records
    (`kept`; None: since its dispatch): what `transition` writes to `resolve_since` as each hand-over happens.
    One statement for all of them (their events by ticket_events_ticket)."""
    out: dict[int, float | None] = dict.fromkeys(ids)
    was: dict[int, list] = {}
    for tid, at, k in db.execute("SELECT ticket_id, at, kept FROM ticket_events INDEXED BY ticket_events_ticket "
                                 "WHERE ticket_id IN (SELECT value FROM json_each(?)) AND kept IS NOT NULL "
                                 "ORDER BY ticket_id, id", [json.dumps(ids)]):
        k, w = dict(zip(KEPT, json.loads(k))), was.get(tid)
        if w is not None and hands_over(w, k):
            out[tid] = at
        was[tid] = k
    return out


def resolve_since_pending(db: sqlite_utils.Database) -> bool:
    """Whether m062's fill has tickets left (bot/scheduler.py resolve_since_fill). Once none, never again: nothing
    adds to the list after the upgrade, so a connection asks until it sees it empty."""
    if getattr(db, "resolve_since_filled", False):
        return False
    try:
        left = db.execute("SELECT max(ticket_id) FROM resolve_since_todo").fetchone()[0] is not None
    except sqlite3.OperationalError:  # a database before m062 (the upgrade tests write history first)
        return False
    if not left:
        db.resolve_since_filled = True
    return left


def _pending_of(db: sqlite_utils.Database, ids: list[int]) -> set[int]:
    return {r[0] for r in db.execute("SELECT ticket_id FROM resolve_since_todo WHERE ticket_id IN "
                                     "(SELECT value FROM json_each(?))", [json.dumps(ids)])}


def settle_resolve_since(db: sqlite_utils.Database, rows: list[dict[str, Any]], key: str = "id") -> None:
    """Rows the rates read (PERIOD_COLUMNS): a ticket the fill after an upgrade has not reached yet gets its
    `resolve_since` from its events, so a period reads the same during the fill as after it (m062). Nothing to
    do once the fill is done (one look, then none)."""
    if not rows or not resolve_since_pending(db):
        return
    since = resolve_since_of(db, sorted(_pending_of(db, [r[key] for r in rows])))
    for r in rows:
        if r[key] in since:
            r["resolve_since"] = since[r[key]]


def resolve_since_next(db: sqlite_utils.Database, limit: int) -> list[tuple[int, float | None]]:
    """The fill's next tickets, newest first (the periods read most), each with its value from its events; on a
    reader, the write is resolve_since_store's."""
    ids = [i for (i,) in db.execute("SELECT ticket_id FROM resolve_since_todo ORDER BY ticket_id DESC LIMIT ?", [limit])]
    return list(resolve_since_of(db, ids).items())


def resolve_since_store(db: sqlite_utils.Database, done: list[tuple[int, float | None]]) -> int:
    """Write what resolve_since_next read, and take those tickets off the list: one short transaction. A value
    already there was written by a hand-over since that read (transition), and is the newer: kept."""
    for tid, since in done:
        if since is not None:
            db.execute("UPDATE tickets SET resolve_since = ? WHERE id = ? AND resolve_since IS NULL", [since, tid])
    db.execute("DELETE FROM resolve_since_todo WHERE ticket_id IN (SELECT value FROM json_each(?))",
               [json.dumps([tid for tid, _ in done])])
    return len(done)


def _unit_filter(units: list[str] | None, rated: bool = False) -> tuple[str, list]:
    # `+unit_code`: filter rows found by the time ranges, never walk a unit's whole history by its index.
    # `rated`: also the tickets whose rating counts for one of the units (rated_unit, see m024).
    if units is None:
        return "", []
    units = with_accounts(units)  # a unit's 代收 work is read with it (folded apart by handlers.rates)
    marks = ','.join('?' * len(units))
    if rated:  # also credited parts (m030): a 代收 ticket the duty office signed, the review's original unit
        return (f" AND (+unit_code IN ({marks}) OR rated_unit IN ({marks}) OR response_unit IN ({marks}) "
                f"OR resolve_unit IN ({marks}))"), [*units, *units, *units, *units]
    return f" AND +unit_code IN ({marks})", list(units)


# A unit's tickets by each time a period reads (m058), and the partial index of tickets credited to another unit.
_UNIT_TIME_INDEXES = (("created_at", "tickets_unit_created"), ("dispatched_at", "tickets_unit_dispatched"),
                      ("resolved_at", "tickets_unit_resolved"), ("rated_at", "tickets_unit_rated"),
                      ("closed_at", "tickets_unit_closed"))


def credited_away(t: str = "") -> str:
    """m058's tickets_credited_away condition, word for word (`t`: the table's alias and a dot)."""
    return (f"(({t}rated_unit IS NOT NULL AND {t}rated_unit IS NOT {t}unit_code) OR {t}response_unit IS NOT NULL "
            f"OR {t}resolve_unit IS NOT NULL)")


CREDITED_AWAY = credited_away()


def _credit_filter(units: list[str] | None, expr: str) -> tuple[str, list]:
    if units is None:
        return "", []
    units = with_accounts(units)
    return f" AND {expr} IN ({','.join('?' * len(units))})", list(units)


def for_period(db: sqlite_utils.Database, start: float, end: float, units: list[str] | None = None,
               open_overdue: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Every ticket that can count in the rates of [start, end), or in that week's digest: created, dispatched,
    resolved, rated or closed in it; resolved after it but due before its end (open past its deadline then); or
    still open past a deadline before its end. Each branch is one index range, so the cost is the period's, not
    the history's (the late-resolved ones after it: entries of their partial index, not every ticket resolved
    since). `open_overdue`: overdue_rows(db, t, units) already read for some t >= end (saves reading it again)."""
    where, args = _unit_filter(units, rated=True)
    spans = ("((created_at >= ? AND created_at < ?) OR (dispatched_at >= ? AND dispatched_at < ?)"
             " OR (resolved_at >= ? AND resolved_at < ?) OR (rated_at >= ? AND rated_at < ?)"
             " OR (closed_at >= ? AND closed_at < ?))")
    if units is None:
        rows = {r["id"]: r for r in db.query(
            f"SELECT {PERIOD_COLUMNS}, rated_unit, by_insider FROM tickets WHERE {spans}", [start, end] * 5)}
    else:  # the units' own ranges (m058), and the few tickets whose work counts for a unit not holding them
        marks = ",".join("?" * len(units))
        rows = {}
        for column, index in _UNIT_TIME_INDEXES:
            for r in db.query(f"SELECT {PERIOD_COLUMNS}, rated_unit, by_insider FROM tickets INDEXED BY {index} "
                              f"WHERE unit_code IN ({marks}) AND {column} >= ? AND {column} < ?",
                              [*units, start, end]):
                rows.setdefault(r["id"], r)
        for r in db.query(f"SELECT {PERIOD_COLUMNS}, rated_unit, by_insider FROM tickets INDEXED BY "
                          f"tickets_credited_away WHERE {CREDITED_AWAY} AND {spans}{where}",
                          [start, end] * 5 + args):
            rows.setdefault(r["id"], r)
    for r in db.query(f"SELECT {PERIOD_COLUMNS}, rated_unit, by_insider FROM tickets INDEXED BY tickets_late "
                      f"WHERE resolved_at > due_at AND resolved_at >= ? AND due_at < ?{where}", [end, end, *args]):
        rows.setdefault(r["id"], r)
    for r in _cases_begun(db, start, end, units):
        rows.setdefault(r["id"], r)
    if open_overdue is None:  # still open past a deadline: from the covering index of open tickets
        open_overdue = overdue_rows(db, end, units)
    for r in open_overdue:
        if r["due_at"] < end:
            rows.setdefault(r["id"], r)
    out = list(rows.values())
    settle_resolve_since(db, out)
    return out


def overdue_count(db: sqlite_utils.Database, now: float, units: list[str] | None = None,
                  unattended: bool = False) -> int:
    """How many tickets run past their deadline now (overdue_rows, counted in the index); `unattended` as in
    `overdue`: the number the 超期 list of the same scope shows."""
    where, args = scope_sql(units, unattended)
    return db.execute(f"SELECT count(*) FROM tickets INDEXED BY tickets_open WHERE {_OPEN_SQL} AND {_CLOCK_SQL} "
                      f"AND due_at < ?{where}", [now, *args]).fetchone()[0]


def overdue_rows(db: sqlite_utils.Database, now: float, units: list[str] | None = None) -> list[dict[str, Any]]:
    """Open tickets past their deadline at `now`, the longest overdue first: the columns the rates and digest
    read, from the covering index of open tickets alone."""
    where, args = _unit_filter(units, rated=True)  # also the open 代收 tickets a stand-in answers for
    out = list(db.query(f"SELECT {PERIOD_COLUMNS}, rated_unit FROM tickets INDEXED BY tickets_open "
                        f"WHERE {_OPEN_SQL} AND due_at < ?{where} ORDER BY due_at", [now, *args]))
    settle_resolve_since(db, out)
    return out


def texts_created(db: sqlite_utils.Database, start: float, end: float) -> list[tuple[str | None, str]]:
    """(unit_code, text) of the tickets created in [start, end): the week's words, for its hot topics."""
    return [(r[0], r[1]) for r in db.execute(
        "SELECT unit_code, text FROM tickets WHERE created_at >= ? AND created_at < ? ORDER BY id", [start, end])]


def due_for_check(db: sqlite_utils.Database, now: float, limit: int = 1000) -> list[int]:
    """Ids of the tickets the deadline watch must look at now (check_at reached), the most overdue first."""
    return [r[0] for r in db.execute("SELECT id FROM tickets WHERE check_at <= ? ORDER BY check_at LIMIT ?",
                                     [now, limit])]


def by_id(db: sqlite_utils.Database, ticket_id: int) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM tickets WHERE id = ?", [ticket_id]))
    return _decode(rows[0]) if rows else None


def set_check(db: sqlite_utils.Database, ticket_id: int, at: float | None) -> None:
    """When the watch must next look at this ticket (None: never, unless the ticket changes)."""
    db.execute("UPDATE tickets SET check_at = ? WHERE id = ?", [at, ticket_id])


def reminded(db: sqlite_utils.Database, ticket_id: int) -> set[tuple[str, float]]:
    return {(r[0], r[1]) for r in db.execute("SELECT kind, due_at FROM reminders WHERE ticket_id = ?", [ticket_id])}


def save_topics(db: sqlite_utils.Database, week: str, scope: str, topics: list, now: float) -> None:
    db.execute("INSERT INTO digest_topics (week, scope, topics, computed_at) VALUES (?, ?, ?, ?) "
               "ON CONFLICT(week, scope) DO UPDATE SET topics = excluded.topics, computed_at = excluded.computed_at",
               [week, scope, json.dumps(topics, ensure_ascii=False), now])


def topics(db: sqlite_utils.Database, week: str, scope: str) -> list | None:
    row = db.execute("SELECT topics FROM digest_topics WHERE week = ? AND scope = ?", [week, scope]).fetchone()
    return [tuple(t) for t in json.loads(row[0])] if row else None


def digests_sent(db: sqlite_utils.Database, week: str) -> set[str]:
    return {r[0] for r in db.execute("SELECT scope FROM digests WHERE week = ?", [week])}


# Event actions that carry a rating: 'rate' closes with the ticket's rating; 'reopen' and 'review' are 不满意.
RATING_ACTIONS = ("rate", "reopen", "review")


def recredited(e: str = "e") -> str:
    """SQL: the 代收 account an older rating event (alias `e`, before m059's mark) counts for, else NULL (m060). The
    answer rated was the 办结 part as it was just before the rating: a stand-in's when the ticket was 代收 then
    and the part named a unit other than the holder; before m044 (no record), a ticket already 代收 whose event
    names a unit other than the one left without staff. One rule for the fill after start-up and for a read
    before the fill has reached the event (ratings_in)."""
    before = (f"(SELECT k.kept FROM ticket_events k INDEXED BY ticket_events_ticket WHERE k.ticket_id = {e}.ticket_id "
              f"AND k.kept IS NOT NULL AND k.id < {e}.id ORDER BY k.id DESC LIMIT 1)")
    absent = (f"(SELECT u.unit_code FROM ticket_events u INDEXED BY ticket_events_ticket WHERE u.ticket_id = "
              f"{e}.ticket_id AND u.action = 'unattended' AND u.id < {e}.id ORDER BY u.id DESC LIMIT 1)")
    marks = ", ".join(f"'{a}'" for a in RATING_ACTIONS)
    return (f"(SELECT '{STAND_IN}' || {e}.unit_code FROM (SELECT {before} AS k) b WHERE {e}.action IN ({marks}) "
            f"AND {e}.unit_code IS NOT NULL AND {e}.unit_code NOT LIKE '{STAND_IN}%' AND CASE WHEN b.k IS NULL "
            f"THEN coalesce({absent} != {e}.unit_code, 0) ELSE json_extract(b.k, '$[6]') = 1 "
            f"AND json_extract(b.k, '$[4]') = {e}.unit_code AND json_extract(b.k, '$[4]') IS NOT json_extract(b.k, '$[0]') END)")


def events_left(db: sqlite_utils.Database, fill: str) -> tuple[int, int] | None:
    """The events a fill after start-up has not reached, as (scanned, mark): its two integrity_marks
    `{fill}_scanned` and `{fill}_from`, every event id between them. None when it is done, or its migration is not
    applied (the upgrade tests). Once done, never again: a connection asks until then (`db.fills_done`)."""
    done = db.__dict__.setdefault("fills_done", set())
    if fill in done:
        return None
    got = dict(db.execute("SELECT name, value FROM integrity_marks WHERE name IN (?, ?)",
                          [f"{fill}_scanned", f"{fill}_from"]))
    if len(got) < 2:
        return None
    if got[f"{fill}_scanned"] >= got[f"{fill}_from"] - 1:
        done.add(fill)
        return None
    return got[f"{fill}_scanned"], got[f"{fill}_from"]


def recredit_range(db: sqlite_utils.Database) -> tuple[int, int] | None:
    """The events m060's look for older ratings of 代收 answers (m062's fill) has not reached (events_left)."""
    return events_left(db, "recredit")


RECREDIT_EVENTS = 20_000  # events m062's look reads a time (a rowid range, on a reader)


def recredit_next(db: sqlite_utils.Database, events: int = RECREDIT_EVENTS) -> tuple[int, list[tuple[int, str]]]:
    """On a reader: the next range of the look (events are never changed, so what it finds stays true), as (the
    last event id looked at, [(rating event, its 代收 account)]); recredit_store writes it."""
    scanned, mark = recredit_range(db)
    upto = min(scanned + events, mark - 1)
    return upto, db.execute(f"SELECT e.id, {recredited('e')} AS u FROM ticket_events e WHERE e.id > ? AND e.id <= ? "
                            "AND u IS NOT NULL", [scanned, upto]).fetchall()


def recredit_store(db: sqlite_utils.Database, upto: int, found: list[tuple[int, str]], now: float) -> int:
    """On the writer, one short write: the ratings recredit_next found (and m061's rule on them), and how far
    the look has come."""
    for row in found:
        db.execute("INSERT OR IGNORE INTO rating_recredit (event_id, unit_code) VALUES (?, ?)", row)
    recredit_latest_ratings(db, found, now)
    db.execute("UPDATE integrity_marks SET value = ? WHERE name = 'recredit_scanned' AND value < ?", [upto, upto])
    return len(found)


RECREDIT_NOTE = "代收部分单独列出，不计入任何单位的三率（m059）"  # the note of every `recredit` event


def recredit(db: sqlite_utils.Database, ticket_id: int, now: float, **cols: Any) -> None:
    """An old credit column rewritten to name the 代收 account (m059, m061), appended to the ticket's history with
    the KEPT columns after it (verify-rates checks against them); the counters follow by their triggers."""
    db.execute(f"UPDATE tickets SET {', '.join(f'{c} = ?' for c in cols)} WHERE id = ?", [*cols.values(), ticket_id])
    row = db.execute(f"SELECT state, {', '.join(KEPT)} FROM tickets WHERE id = ?", [ticket_id]).fetchone()
    db.execute("INSERT INTO ticket_events (ticket_id, at, actor, from_state, to_state, note, action, kept) "
               "VALUES (?, ?, 'system', ?, ?, ?, 'recredit', ?)",
               [ticket_id, now, row[0], row[0], RECREDIT_NOTE, json.dumps(list(row[1:]), separators=(",", ":"))])


def recredit_latest_ratings(db: sqlite_utils.Database, found: list[tuple[int, str]], now: float) -> int:
    """m061's rule for ratings of 代收 answers (rating_recredit's rows: event, 代收 account): a ticket whose latest
    rating is one of them while its rated_unit still names the stand-in itself (the 办结 part moved on since: home
    for the redo, or to the review) takes the 代收 account. Run by m061 over the rows m060 wrote at start-up, and
    by the look after start-up (m062) on each it finds."""
    changed = 0
    for eid, account in found:
        tid, rated, latest = db.execute(
            "SELECT e.ticket_id, t.rated_unit, (SELECT max(l.id) FROM ticket_events l INDEXED BY ticket_events_ticket "
            "WHERE l.ticket_id = e.ticket_id AND l.action IN ('rate', 'reopen', 'review')) FROM ticket_events e "
            "JOIN tickets t ON t.id = e.ticket_id WHERE e.id = ?", [eid]).fetchone()
        if eid == latest and rated is not None and STAND_IN + rated == account:
            recredit(db, tid, now, rated_unit=account)
            changed += 1
    return changed


def ratings_in(db: sqlite_utils.Database, start: float, end: float,
               units: list[str] | None = None, first: bool = True) -> list[dict[str, Any]]:
    """The ratings given in [start, end) (from the events, so a 不满意 later overwritten by 满意 still counts),
    each with its score, the unit whose answer it rated and whether it was the ticket's first rating (`first`
    False: not asked, every one False — 满意率 alone needs none, and the look costs a walk of each ticket's
    events before it). The unit's rule is redone_ratings' too (the trend's earlier periods, m071)."""
    where, args = _unit_filter(units)
    marks = ", ".join(f"'{a}'" for a in RATING_ACTIONS)  # literals: the partial index's WHERE must match
    # events the look after an upgrade has not reached yet (m062): named by the same rule, read now
    left = recredit_range(db)
    pending = f" CASE WHEN e.id > {left[0]} AND e.id < {left[1]} THEN {recredited('e')} END," if left else ""
    # The unit the event records (the one whose answer was rated; m014), not the one holding the ticket now. The
    # ticket's own latest rating follows `rated_unit`, as 满意率 does: the same rating counts for one unit in every
    # figure. (Since m030 the two agree; a 代收 ticket rated before it names the absent unit on its event, while
    # m030 gave its rating to the stand-in whose answer it was.)
    # (the ticket's latest rating: none after it, a seek from it in the ticket's events). Asked only where the
    # answer can differ: an event naming the ticket's rated unit, with no 代收 account recorded or pending for it,
    # counts for that unit either way (nearly every event; dash18: the seek was a quarter of a trend's read)
    plain = f"e.id <= {left[0]} OR e.id >= {left[1]}" if left else "1"
    unit = (f"CASE WHEN t.rated_unit = e.unit_code AND ({plain}) AND NOT EXISTS (SELECT 1 FROM rating_recredit r "
            f"WHERE r.event_id = e.id) THEN t.rated_unit "
            f"WHEN t.rated_unit IS NOT NULL AND NOT EXISTS (SELECT 1 FROM ticket_events l "
            f"WHERE l.ticket_id = e.ticket_id AND l.id > e.id AND l.action IN ({marks})) THEN t.rated_unit "
            f"ELSE coalesce((SELECT r.unit_code FROM rating_recredit r WHERE r.event_id = e.id),{pending} e.unit_code, "
            f"t.unit_code) END")  # an older rating of a 代收 answer: the 代收 account m060 names
    earlier = (f"EXISTS (SELECT 1 FROM ticket_events p WHERE p.ticket_id = e.ticket_id AND p.id < e.id "
               f"AND p.action IN ({marks}))" if first else "1")
    select = f"SELECT {unit}, e.at, e.action, t.rating, {earlier}, e.ticket_id, e.id"
    tail = f" AND e.action IN ({marks}) AND e.at >= ? AND e.at < ? AND t.by_insider = 0{where.replace('+unit_code', unit)}"
    if units is None:
        sources = [(f"{select} FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id WHERE 1", [])]
    else:  # the units' own events (m058), those without a unit (before m014), those of tickets credited away
        sources = [(f"{select} FROM ticket_events e INDEXED BY ticket_events_unit_rating JOIN tickets t "
                    f"ON t.id = e.ticket_id WHERE e.unit_code IN ({','.join('?' * len(with_accounts(units)))})",
                    with_accounts(units)),
                   (f"{select} FROM ticket_events e INDEXED BY ticket_events_rating_unitless JOIN tickets t "
                    f"ON t.id = e.ticket_id WHERE e.unit_code IS NULL", []),
                   # CROSS JOIN: from the few tickets to their events, never the span's events of every unit
                   (f"{select} FROM tickets t INDEXED BY tickets_credited_away CROSS JOIN ticket_events e "
                    f"INDEXED BY ticket_events_ticket ON e.ticket_id = t.id WHERE {credited_away('t.')}", [])]
    seen: dict[int, dict[str, Any]] = {}
    for sql, head in sources:
        for r in db.execute(sql + tail, [*head, start, end, *args]):
            seen.setdefault(r[6], {"unit_code": r[0], "at": r[1], "score": 3 if r[2] != "rate" else r[3],
                                   "first": not r[4], "ticket_id": r[5]})
    return [seen[i] for i in sorted(seen)]


def redone_ratings(db: sqlite_utils.Database, bounds: list[float], units: list[str] | None = None
                   ) -> tuple[list[dict[str, Any]], list[dict[str, tuple[int, int]]]]:
    """For the trend's earlier periods, [bounds[0], bounds[-1]) once m071's fill is done (redos_listed): the rating
    events of the tickets given a 不满意 in it (the same rows as ratings_in, `first` False, has of them: 满意率's unit
    by its rule, the score, the time), and what the counters (unit_days: each ticket's latest rating, on its day,
    for its rated unit) hold of those tickets whose latest rating is in it, per period between consecutive bounds:
    unit → (rated, satisfied) (the counters' own rule, migrations _credit_day_rows). For_periods counts those
    tickets' events instead of their counters' part (m071). Each ticket read once, for both (dash19 read it for
    each of its events and again for the counters' part), and the events from m071's rows: no seek into them."""
    start, end = bounds[0], bounds[-1]
    redone = "SELECT ticket_id FROM rating_redos WHERE at >= ? AND at < ? AND redo"
    scope = None if units is None else set(with_accounts(units))
    buckets = bounds[1:]
    out: list[dict[str, tuple[int, int]]] = [{} for _ in buckets]
    held: dict[int, tuple] = {}
    for tid, rated_unit, rating, insider, unit, rated_at, kind, reason in db.execute(
            "SELECT id, rated_unit, rating, by_insider, unit_code, rated_at, kind, close_reason FROM tickets "
            f"WHERE id IN ({redone})", [start, end]):
        held[tid] = (rated_unit, rating, insider, unit)
        credited = rated_unit if rated_unit is not None else unit
        if insider == 0 and rated_at is not None and start <= rated_at < end and \
                kind != "praise" and rating in (1, 2, 3) and reason != "unrated" and (scope is None or credited in scope):
            per = out[bisect_right(buckets, rated_at)]
            n, satisfied = per.get(credited, (0, 0))
            per[credited] = (n + 1, satisfied + (rating in (1, 2)))
    # (the look after an upgrade for older ratings of 代收 answers, m062, not done: those it has not reached named
    # by its rule now, as ratings_in does)
    left = recredit_range(db)
    pending = f"CASE WHEN e.id > {left[0]} AND e.id < {left[1]} THEN {recredited('e')} END" if left else "NULL"
    marks = ", ".join(f"'{a}'" for a in RATING_ACTIONS)
    rows = sorted(db.execute(  # (by the time index: sorted here, cheaper than by SQLite)
        f"SELECT e.id, e.ticket_id, e.at, e.redo, e.unit_code, {pending} FROM (SELECT event_id AS id, ticket_id, at, "
        "redo, unit_code, CASE WHEN redo THEN 'reopen' ELSE 'rate' END AS action FROM rating_redos WHERE at >= ? "
        f"AND at < ? AND ticket_id IN ({redone})) e", [start, end, start, end]))
    # the 代收 accounts m060 recorded for any of them: one range of that small table, not a seek for each
    accounts = dict(db.execute("SELECT event_id, unit_code FROM rating_recredit WHERE event_id >= ? AND event_id <= ?",
                               [rows[0][0], rows[-1][0]])) if rows else {}
    events = []
    for eid, tid, at, redo, unit, named in rows:
        rated_unit, rating, insider, holder = held[tid]
        if insider != 0:
            continue
        # ratings_in's rule, word for word: the ticket's rated unit where the event names it (and no 代收 account
        # is recorded or pending for it) or where no rating came after it; else the 代收 account, or the event's
        recredited_, account = eid in accounts, accounts.get(eid)
        if rated_unit is not None and rated_unit == unit and not recredited_ and \
                (not left or eid <= left[0] or eid >= left[1]):
            counts_for = rated_unit
        elif rated_unit is not None and not db.execute(
                f"SELECT 1 FROM ticket_events l WHERE l.ticket_id = ? AND l.id > ? AND l.action IN ({marks}) LIMIT 1",
                [tid, eid]).fetchone():
            counts_for = rated_unit
        else:
            counts_for = next((u for u in (account, named, unit, holder) if u is not None), None)
        if scope is None or counts_for in scope:
            events.append({"unit_code": counts_for, "at": at, "score": 3 if redo else rating, "first": False,
                           "ticket_id": tid})
    return events, out


def bounces_in(db: sqlite_utils.Database, start: float, end: float) -> dict[str, int]:
    """退回 per unit that bounced, in [start, end) (events before migration m014 carry no unit: not counted)."""
    return {r[0]: r[1] for r in db.execute(
        "SELECT unit_code, count(*) FROM ticket_events WHERE action = 'bounce' AND at >= ? AND at < ? "
        "AND unit_code IS NOT NULL GROUP BY unit_code", [start, end])}


def unattended_in(db: sqlite_utils.Database, start: float, end: float) -> dict[str, int]:
    """Per unit, the tickets that reached it in [start, end) while it had nobody bound (代收: its `unattended`
    event) and whose 签收 is not its own now: a stand-in's, let lapse by the stand-in, or the ticket moved on. Not
    binding anyone avoided the ranking (every rate "—"); the review counts these against the unit (在岗). A ticket
    that came home in time and was signed by the unit's new staff is the unit's own work, not counted here. Nor
    is one its writer withdrew before its 签收 window lapsed: it left 派发 (m050), and filing and withdrawing from
    fresh accounts would otherwise lower a unit's 在岗 at no cost; a window let lapse first stays counted."""
    return {r[0]: r[1] for r in db.execute(
        "SELECT e.unit_code, count(DISTINCT e.ticket_id) FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
        "WHERE e.action = 'unattended' AND e.at >= ? AND e.at < ? AND e.unit_code IS NOT NULL "
        "AND t.kind != 'praise' AND coalesce(t.response_unit, t.unit_code) IS NOT e.unit_code "
        "AND (t.state != 'withdrawn' OR coalesce(t.accepted_at, t.closed_at) > t.accept_due_at) GROUP BY 1",
        [start, end])}


def withdrawals_in(db: sqlite_utils.Database, start: float, end: float) -> dict[str, int]:
    """撤回 per unit that held the ticket when its writer took it back, in [start, end). Not scored (a withdrawal is
    the citizen's right), but shown beside the figures: a school whose parents withdraw often may be asking them
    to, and the withdrawn ticket leaves its rates (its lateness stays: unit_misses)."""
    return {r[0]: r[1] for r in db.execute(
        "SELECT unit_code, count(*) FROM tickets WHERE closed_at >= ? AND closed_at < ? AND state = 'withdrawn' "
        "AND kind != 'praise' AND unit_code IS NOT NULL GROUP BY 1", [start, end])}


# -- the rates from per-unit-per-day counts (storage/migrations.py m017) ---------------------------------------------

DAY_OFFSET = 8 * 3600  # unit_days counts China Standard Time's days
COUNT_COLUMNS = ("dispatched", "accepted_in_time", "resolved", "resolved_in_time", "rated", "satisfied", "unrated",
                 "praised", "stood_in")


def on_day_boundaries(*moments: float) -> bool:
    """Whether every moment is a midnight of the days unit_days counts (periods of another timezone are not)."""
    return all((m + DAY_OFFSET) % 86400 == 0 for m in moments)


def unit_day_sums(db: sqlite_utils.Database, bounds: list[float],
                  units: list[str] | None = None) -> list[dict[str, dict[str, int]]]:
    """The counts of each period between consecutive `bounds` (midnights, see on_day_boundaries), per unit: one
    pass over the rows of the units' days."""
    units = None if units is None else with_accounts(units)
    where, args = ("", []) if units is None else (f" AND unit_code IN ({','.join('?' * len(units))})", list(units))
    days = [int((b + DAY_OFFSET) // 86400) for b in bounds]
    bucket = "CASE " + " ".join(f"WHEN day < {d} THEN {i}" for i, d in enumerate(days[1:])) + " END"
    sums = ", ".join(f"sum({c})" for c in COUNT_COLUMNS)
    out: list[dict[str, dict[str, int]]] = [{} for _ in days[1:]]
    for r in db.execute(f"SELECT {bucket}, unit_code, {sums} FROM unit_days WHERE day >= ? AND day < ?{where} "
                        f"GROUP BY 1, unit_code", [days[0], days[-1], *args]):
        out[r[0]][r[1]] = dict(zip(COUNT_COLUMNS, r[2:]))
    return out


def accept_pending(db: sqlite_utils.Database, start: float, end: float, now: float,
                   units: list[str] | None = None) -> dict[str, int]:
    """Dispatched in [start, end), not signed for, and the 签收 window still open at `now`: not yet counted in
    the response rate (the recent few, from their partial index)."""
    where, args = _credit_filter(units, RESPOND_UNIT)
    return {r[0]: r[1] for r in db.execute(
        f"SELECT {RESPOND_UNIT}, count(*) FROM tickets INDEXED BY tickets_accept_pending WHERE accepted_at IS NULL "
        f"AND accept_due_at > ? AND {CASE_START} >= ? AND {CASE_START} < ? AND kind != 'praise' "
        f"AND state != 'withdrawn'{where} "
        f"GROUP BY 1", [now, start, end, *args])}


def overdue_at(db: sqlite_utils.Database, cut: float, units: list[str] | None = None,
               end: float | None = None) -> dict[str, int]:
    """Per unit: tickets dispatched and due before `cut` and not resolved by then (the open part of the
    resolution rate): those resolved late, after `cut`, and those never resolved, each from its partial index.
    `end`: the period's end, when `cut` is earlier (read before it ends): a ticket resolved in the period (at the
    very second the rates are read) counts as resolved, not also as open (handlers.rates.compute's rule)."""
    resolved_from = cut if end is None else max(cut, end)
    where, args = _credit_filter(units, RESOLVE_UNIT)
    # a ticket the fill after an upgrade has not reached (m062): counted apart, its value read from its events
    pending = resolve_since_pending(db)
    held = f"id NOT IN (SELECT ticket_id FROM resolve_since_todo) AND {HELD_AT}" if pending else HELD_AT
    out: dict[str, int] = {}
    for sql in (
        f"FROM tickets INDEXED BY tickets_late WHERE resolved_at > due_at "
        f"AND resolved_at >= ? AND due_at > 0 AND due_at < ? AND dispatched_at < ? AND kind != 'praise' "
        f"AND state != 'withdrawn'",
        f"FROM tickets INDEXED BY tickets_unresolved WHERE resolved_at IS NULL "
        f"AND kind != 'praise' AND state != 'withdrawn' AND due_at > 0 AND due_at < ? AND dispatched_at < ?",
    ):
        params = [resolved_from, cut, cut] if "resolved_at >= ?" in sql else [cut, cut]
        found = list(db.execute(f"SELECT {RESOLVE_UNIT}, count(*) {sql} AND {held}{where} GROUP BY 1",
                                [*params, cut, *args]))
        if pending:
            units_of = dict(db.execute(f"SELECT id, {RESOLVE_UNIT} {sql} AND id IN "
                                       f"(SELECT ticket_id FROM resolve_since_todo){where}", [*params, *args]))
            found += [(units_of[tid], 1) for tid, since in resolve_since_of(db, list(units_of)).items()
                      if since is None or since < cut]
        for unit, n in found:
            if unit is not None:
                out[unit] = out.get(unit, 0) + n
    return out


def overdue_at_cuts(db: sqlite_utils.Database, cuts: list[tuple[float, float]], units: list[str] | None = None
                    ) -> list[dict[str, int]]:
    """overdue_at(db, cut, units, end) for each (cut, end) of a trend, its rows read once: the late ones resolved
    from the first period's end and the unresolved ones due before the last cut, counted for each cut here by
    overdue_at's own conditions (each period re-read nearly the same rows: ~13 ms a period at 1M). While the fill
    after an upgrade is pending (m062), each cut by overdue_at."""
    if not cuts or resolve_since_pending(db):
        return [overdue_at(db, cut, units, end) for cut, end in cuts]
    where, args = _credit_filter(units, RESOLVE_UNIT)
    last = max(cut for cut, _ in cuts)
    cols = f"{RESOLVE_UNIT}, resolved_at, due_at, dispatched_at, resolve_since"
    late = db.execute(f"SELECT {cols} FROM tickets INDEXED BY tickets_late WHERE resolved_at > due_at "
                      f"AND resolved_at >= ? AND due_at > 0 AND due_at < ? AND dispatched_at < ? "
                      f"AND kind != 'praise' AND state != 'withdrawn'{where}",
                      [min(max(cut, end) for cut, end in cuts), last, last, *args]).fetchall()
    unresolved = db.execute(f"SELECT {cols} FROM tickets INDEXED BY tickets_unresolved WHERE resolved_at IS NULL "
                            f"AND kind != 'praise' AND state != 'withdrawn' AND due_at > 0 AND due_at < ? "
                            f"AND dispatched_at < ?{where}", [last, last, *args]).fetchall()
    out = []
    for cut, end in cuts:
        resolved_from, n = max(cut, end), {}
        for rows, late_ in ((late, True), (unresolved, False)):
            part: dict[str, int] = {}
            for unit, resolved, due, dispatched, since in rows:
                if unit is not None and (not late_ or resolved >= resolved_from) and due < cut and \
                        dispatched < cut and (since is None or since < cut):
                    part[unit] = part.get(unit, 0) + 1
            for unit in sorted(part):  # overdue_at's order (each query's GROUP BY): the units' order on the page
                n[unit] = n.get(unit, 0) + part[unit]
        out.append(n)
    return out


def created_summary(db: sqlite_utils.Database, start: float, end: float, units: list[str] | None = None
                    ) -> list[tuple[str | None, str, str, str | None, int]]:
    """The tickets created in [start, end), counted by (unit, kind, category, school): a period's new tickets
    for the dashboard without reading their rows."""
    where, args = _unit_filter(units)
    return [tuple(r) for r in db.execute(
        "SELECT unit_code, kind, category, school_code, count(*) FROM tickets WHERE created_at >= ? "
        f"AND created_at < ?{where} GROUP BY unit_code, kind, category, school_code", [start, end, *args])]


def insider_rated(db: sqlite_utils.Database, openid: str) -> list[dict[str, Any]]:
    """The tickets `openid` wrote and rated whose ratings no longer count because the person is or was staff
    (m050 `by_insider`): what the leaders are told when someone binds."""
    return list(db.query("SELECT number, coalesce(rated_unit, unit_code) AS unit_code FROM tickets INDEXED BY "
                         "tickets_openid WHERE openid = ? AND by_insider = 1 AND rated_at IS NOT NULL "
                         "AND kind != 'praise' ORDER BY id", [openid]))


def mark_praise_burst(db: sqlite_utils.Database, unit_code: str, now: float,
                      limit: int, since: float | None = None) -> tuple[int, int] | None:
    """表扬 of `unit_code` within the burst window before `now` (storage.bursts, the rule 群众评议 follows): more
    than `limit` people are a burst, and the praise from new accounts is set aside (praise_aside), so a hand
    making fresh accounts adds nothing. Established accounts' praise stays counted: praise has no sheet that one
    hand's would share, and a parents' meeting thanking a teacher is praise. `since` (the day's start): the daily
    check of a burst paced under the hourly limit, as 群众评议's (storage.surveys.new_follower_day): more than
    `limit` new accounts since then are one, and theirs is set aside. Returns (people counted against the limit,
    set aside), or None when there is no burst."""
    praised = "coalesce(t.school_code, t.unit_code)"
    start = bursts.window_start(now) if since is None else since
    rows = db.execute(  # the window's range of creation times, never a walk of every ticket grouped by person
        f"SELECT t.openid, max({bursts.fresh_sql('t.openid', 't.created_at')}) AS fresh FROM tickets t "
        f"INDEXED BY tickets_created WHERE t.kind = 'praise' AND t.created_at >= ? AND {praised} = ? "
        f"AND NOT {insider_sql('t.openid')} GROUP BY t.openid{'' if since is None else ' HAVING fresh'}",
        [start, unit_code]).fetchall()
    burst = bursts.set_aside(((o, bool(fresh), None) for o, fresh in rows), limit)
    if burst is None:
        return None
    count, aside = burst
    for o in aside:
        db.execute(f"INSERT OR IGNORE INTO praise_aside (ticket_id, unit_code, at) SELECT t.id, ?, ? FROM tickets t "
                   f"WHERE t.openid = ? AND t.kind = 'praise' AND t.created_at >= ? AND {praised} = ?",
                   [unit_code, now, o, start, unit_code])
    return count, len(aside)


def praise_set_aside(db: sqlite_utils.Database, start: float, end: float,
                     units: list[str] | None = None) -> dict[str, list[str]]:
    """Per unit praised, the numbers of its 表扬 in [start, end) set aside by a burst check (mark_praise_burst):
    shown beside the 表扬 figure wherever it is read (the review, the unit's trace), not only in the leaders'
    notice. Few rows (bursts only): read whole."""
    out: dict[str, list[str]] = {}
    for code, number in db.execute(
            "SELECT a.unit_code, t.number FROM praise_aside a JOIN tickets t ON t.id = a.ticket_id "
            "WHERE t.created_at >= ? AND t.created_at < ? ORDER BY t.id", [start, end]):
        if units is None or code in units:
            out.setdefault(code, []).append(number)
    return out


def praise_by_unit(db: sqlite_utils.Database, start: float, end: float,
                   units: list[str] | None = None) -> dict[str, int]:
    """表扬 received per unit (the school praised, else the unit) in [start, end), each person once: the same
    parent's tenth thanks is not ten units of praise in the review or on the public board. The one rule every
    surface counts praise by (handlers.rates.for_periods fills Rates.praised from it): praise the bureau passed
    on to the district (a teacher praised) is still the school's."""
    # An insider's praise (anyone bound as staff, of any unit, or a leader; given before they were bound) is not
    # the public's, as in 群众评议 (storage.surveys); nor is a burst's from new accounts (mark_praise_burst).
    # insider_sql as the ticket's by_insider keeps it (m050/m056 triggers; verify-rates checks praise's too): a
    # column on the row read anyway, not a seek into users for each praise (~60 % of the month trend's praise)
    praised = "coalesce(t.school_code, t.unit_code)"  # m065's tickets_praise_unit, word for word
    if units is None:  # the span's tickets by creation time
        source, where, args = "tickets t INDEXED BY tickets_created", f"{praised} IS NOT NULL", []
    else:  # the units' own praise by index (m065), not the span's tickets of every unit
        source, where, args = ("tickets t INDEXED BY tickets_praise_unit",
                               f"{praised} IN ({','.join('?' * len(units))})", list(units))
    return {r[0]: r[1] for r in db.execute(
        f"SELECT {praised}, count(DISTINCT t.openid) FROM {source} WHERE t.kind = 'praise' AND {where} "
        f"AND t.created_at >= ? AND t.created_at < ? AND t.by_insider = 0 "
        f"AND NOT EXISTS (SELECT 1 FROM praise_aside a WHERE a.ticket_id = t.id) GROUP BY 1", [*args, start, end])}


# -- each ticket's hot-topic terms (m017), cut in the background ----------------------------------------------------

def terms_todo(db: sqlite_utils.Database, since: float, limit: int = 100) -> list[tuple[int, str | None]]:
    """The next tickets to cut into terms: new ones above the highest done, else older ones below the lowest
    done, newest first, back to those created at `since`. The done ids stay one contiguous range, so two seeks
    find where to go on. (0, None) in the answer: the way back reached `since`; stored as the row of ticket 0,
    it ends the way back for good."""
    high = db.execute("SELECT max(ticket_id) FROM ticket_terms").fetchone()[0]
    if high is not None:
        rows = db.execute("SELECT id, text FROM tickets WHERE id > ? ORDER BY id LIMIT ?", [high, limit]).fetchall()
        if rows:
            return [(r[0], r[1]) for r in rows]
    low = db.execute("SELECT min(ticket_id) FROM ticket_terms").fetchone()[0]
    if low == 0:
        return []
    rows = db.execute("SELECT id, text, created_at FROM tickets WHERE id < ? ORDER BY id DESC LIMIT ?",
                      [low if low is not None else 2 ** 62, limit]).fetchall()
    out = [(r[0], r[1]) for r in rows if r[2] >= since]
    return out + [(0, None)] if len(out) < limit else out


def terms_cut(db: sqlite_utils.Database) -> str | None:
    """The cut the stored terms were made with (handlers.topics.cut_version), None if unknown."""
    row = db.execute("SELECT version FROM ticket_terms_cut").fetchone()
    return row[0] if row else None


def forget_terms(db: sqlite_utils.Database, version: str, limit: int) -> int:
    """On the writer: drop up to `limit` stored terms of another cut; once none is left, they are `version`'s.
    Short writes however many there are; a ticket without terms is cut again (the job) or by whoever counts it."""
    gone = db.execute("DELETE FROM ticket_terms WHERE ticket_id IN (SELECT ticket_id FROM ticket_terms LIMIT ?)",
                      [limit]).rowcount
    if gone < limit:
        db.execute("INSERT INTO ticket_terms_cut (one, version) VALUES (1, ?) "
                   "ON CONFLICT(one) DO UPDATE SET version = excluded.version", [version])
    return gone


def store_terms(db: sqlite_utils.Database, rows: list[tuple[int, list[str]]]) -> int:
    return sum(db.execute("INSERT OR IGNORE INTO ticket_terms (ticket_id, terms) VALUES (?, ?)",
                          [i, " ".join(t)]).rowcount for i, t in rows)


def period_terms(db: sqlite_utils.Database, start: float, end: float, units: list[str] | None = None
                 ) -> list[tuple[str | None, str | None, str | None]]:
    """(unit, terms, text) of the tickets created in [start, end): the text only where no terms were stored."""
    where, args = _unit_filter(units)
    where = where.replace("+unit_code", "+t.unit_code")
    stored = [(r[0], r[1], None) for r in db.execute(  # from the index of creation times and the terms alone
        "SELECT t.unit_code, w.terms FROM tickets t JOIN ticket_terms w ON w.ticket_id = t.id "
        f"WHERE t.created_at >= ? AND t.created_at < ?{where}", [start, end, *args])]
    return stored + [(r[0], None, r[1]) for r in db.execute(
        "SELECT t.unit_code, t.text FROM tickets t WHERE t.created_at >= ? AND t.created_at < ?"
        f"{where} AND NOT EXISTS (SELECT 1 FROM ticket_terms w WHERE w.ticket_id = t.id)", [start, end, *args])]


# -- m071's fill after start-up: the 不满意 given before it and the ratings after them (rating_redos) ---------------

RATING_REDOS_EVENTS = 5_000  # events the fill reads a time (a rowid range, on a reader): ~150 rows a write


def redone_range(db: sqlite_utils.Database) -> tuple[int, int] | None:
    """The events m071's fill has not reached (events_left)."""
    return events_left(db, "rating_redos")


def redos_listed(db: sqlite_utils.Database) -> bool:
    """Whether rating_redos holds every 不满意 (m071 applied and its fill done): once true, true for good."""
    return redone_range(db) is None and "rating_redos" in db.__dict__.get("fills_done", ())


def rating_redos_next(db: sqlite_utils.Database, events: int = RATING_REDOS_EVENTS) -> tuple[int, list[tuple]]:
    """On a reader: the next range of the fill, as (the last event id looked at, the rows m071's trigger would have
    written for it: id, ticket, at, redo, unit): each 不满意, and each rating after one. Events never change, so what it
    finds stays true."""
    scanned, mark = redone_range(db)
    upto = min(scanned + events, mark - 1)
    return upto, db.execute(
        "SELECT id, ticket_id, at, action != 'rate', unit_code FROM ticket_events e WHERE id > ? AND id <= ? "
        "AND (action IN ('reopen', 'review') OR action = 'rate' AND EXISTS (SELECT 1 FROM ticket_events p "
        "INDEXED BY ticket_events_ticket WHERE p.ticket_id = e.ticket_id AND p.id < e.id "
        "AND p.action IN ('reopen', 'review')))", [scanned, upto]).fetchall()


def rating_redos_store(db: sqlite_utils.Database, upto: int, found: list[tuple]) -> int:
    """On the writer, one short write: the rows rating_redos_next found, and how far the fill has come."""
    db.conn.executemany("INSERT OR IGNORE INTO rating_redos (event_id, ticket_id, at, redo, unit_code) "
                        "VALUES (?, ?, ?, ?, ?)", found)
    db.execute("UPDATE integrity_marks SET value = ? WHERE name = 'rating_redos_scanned' AND value < ?", [upto, upto])
    return len(found)


# -- m067's fill after start-up: the 办结 cleared by a 不满意 given before it (trust18b) -----------------------------

KEPT_RESOLVED_EVENTS = 20_000  # events the fill reads a time (a rowid range, on a reader)


def kept_resolved_range(db: sqlite_utils.Database) -> tuple[int, int] | None:
    """The events m067's fill has not reached (events_left)."""
    return events_left(db, "kept_resolved")


def kept_resolved_next(db: sqlite_utils.Database, events: int = KEPT_RESOLVED_EVENTS) -> tuple[int, list[list]]:
    """On a reader: the next range of the fill (events never change, so what it finds stays true), as (the last
    event id looked at, rows): for each 不满意 in it that cleared a 办结, what `_record_miss` keeps now — the late
    miss old code wrote (its id, to be given the 办结's moment), or a new row for one in time: [miss id or None,
    ticket, unit, at, action, accept_due_at, due_at, open_from, resolved_at]. A late 办结 old code kept no miss
    for (before m029) is left as it was. kept_resolved_store writes them."""
    from storage.integrity import since_from_events
    scanned, mark = kept_resolved_range(db)
    upto = min(scanned + events, mark - 1)
    out = []
    for eid, tid, at, action, unit, resolved, before, mid, missed, due in db.execute(
            "SELECT e.id, e.ticket_id, e.at, e.action, coalesce((SELECT r.unit_code FROM rating_recredit r "
            "WHERE r.event_id = e.id), e.unit_code), (SELECT s.at FROM ticket_events s INDEXED BY "
            "ticket_events_ticket WHERE s.ticket_id = e.ticket_id AND s.id < e.id AND s.action = 'resolve' "
            "ORDER BY s.id DESC LIMIT 1), (SELECT k.kept FROM ticket_events k INDEXED BY ticket_events_ticket "
            "WHERE k.ticket_id = e.ticket_id AND k.id < e.id AND k.kept IS NOT NULL ORDER BY k.id DESC LIMIT 1), "
            "m.id, m.unit_code, m.due_at FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id "
            "LEFT JOIN unit_misses m INDEXED BY unit_misses_ticket ON m.ticket_id = e.ticket_id AND m.at = e.at "
            "AND m.action = e.action AND m.overdue = 1 AND m.resolved_at IS NULL "
            "WHERE e.id > ? AND e.id <= ? AND e.action IN ('reopen', 'review') AND t.kind != 'praise'",
            [scanned, upto]):
        if resolved is None:
            continue
        was = dict(zip(KEPT, json.loads(before))) if before else {}  # the record just before the 不满意 (m044)
        due = due or was.get("due_at")
        if mid is not None:  # late: open past its deadline from then (or its coming back) until that 办结
            since = open_from(due, since_from_events(db, tid, eid)[1]) if due else None
            out.append([mid, tid, missed, at, action, None, due, since, resolved])
        elif unit is not None and not (due and resolved > due):
            out.append([None, tid, unit, at, action, was.get("accept_due_at"), due, None, resolved])
    return upto, out


def kept_resolved_store(db: sqlite_utils.Database, upto: int, found: list[list]) -> int:
    """On the writer, one short write: the rows kept_resolved_next found (a row already there, written by a run
    stopped after its write, is not written twice), and how far the fill has come."""
    for mid, tid, unit, at, action, accept_due, due, since, resolved in found:
        if mid is not None:
            db.execute("UPDATE unit_misses SET resolved_at = ?, open_from = coalesce(open_from, ?) WHERE id = ? "
                       "AND resolved_at IS NULL", [resolved, since, mid])
        else:
            db.execute("INSERT INTO unit_misses (ticket_id, unit_code, at, action, response, overdue, accept_due_at, "
                       "due_at, resolved_at) SELECT ?, ?, ?, ?, 0, 0, ?, ?, ? WHERE NOT EXISTS (SELECT 1 FROM "
                       "unit_misses INDEXED BY unit_misses_ticket WHERE ticket_id = ? AND at = ? AND action = ? "
                       "AND resolved_at IS NOT NULL)", [tid, unit, at, action, accept_due, due, resolved, tid, at, action])
    db.execute("UPDATE integrity_marks SET value = ? WHERE name = 'kept_resolved_scanned' AND value < ?", [upto, upto])
    return len(found)


# -- m070's fill after start-up: the 签收 cases of departures before m066 (trust19) -------------------------------

CASES_FILL_EVENTS = 20_000  # events the fill reads a time (a rowid range, on a reader)
CASES_FILL_TICKETS = 50     # tickets a write at most (a burst of departures is many in one range of events)


# Events that rename whose a part is, moving nothing: m059/m061's `recredit` (a stand-in's own code in an old
# credit column made its 代收 account, by UPDATE, no record_case). A 签收 case goes on under the new name: the
# replay (cases_from_events), its list of departures and verify-rates' check of a case's start read it so.
RENAMES = ("recredit",)


def renamed_m059(record: dict[str, Any], reviewed: bool) -> dict[str, Any]:
    """A KEPT record written before m059 named as m059 renamed the tickets' columns: a stand-in's part (the record
    `stood_in`) written with the stand-in's own code is its 代收 account, in no unit's rates (the review's kept
    签收 excepted, `reviewed`: the reviewed unit's own work). The replay and verify-rates read such a record so, as
    m059 re-credited the late departures of that time."""
    if not record.get("stood_in"):
        return record
    unit = record.get("unit_code")

    def account(v: str | None) -> str | None:
        return STAND_IN + v if v and v != unit and not v.startswith(STAND_IN) else v
    return {**record, "response_unit": record.get("response_unit") if reviewed else account(record.get("response_unit")),
            "resolve_unit": account(record.get("resolve_unit"))}


class Named:
    """A ticket's KEPT records, read in event order as m059 and m061 named the credit columns (one reading for the
    replay, cases_from_events, and verify-rates' check of a kept case): a record before m059's mark as m059 renamed
    it (renamed_m059); and a review before m061 that kept a stand-in's 签收 under the stand-in's own code (m061's
    rule: the record just before it marked 代收, its 签收 part that code, not the holder's) as that 代收 account, on
    the review's record and those after it while they still name that code. m061 renamed only the tickets still
    so when it ran (a `recredit`); a reviewed ticket passed on before it had its records read as the stand-in's own
    work: its 代收 签收 kept in the stand-in's own 派发 and 响应率 (trust22)."""

    def __init__(self, renamed: int):
        self.renamed, self.reviewed = renamed, False
        self.raw: dict[str, Any] | None = None  # the last record as written
        self.own: str | None = None  # the stand-in's own code a review kept its 代收 签收 under

    def read(self, eid: int, action: str, kept_: str | None) -> dict[str, Any]:
        self.reviewed = self.reviewed or action == "review"
        if not kept_:
            return {}
        raw = dict(zip(KEPT, json.loads(kept_)))
        record = renamed_m059(raw, self.reviewed) if eid < self.renamed else raw
        if action == "review" and self.raw is not None and _kept_stand_ins(self.raw, raw):
            self.own = raw["response_unit"]
        if self.own is not None:
            if record.get("response_unit") == self.own:
                record = {**record, "response_unit": STAND_IN + self.own, "stood_in": 1}
            else:  # moved on, or m061 renamed it (its recredit)
                self.own = None
        self.raw = raw
        return record


def _kept_stand_ins(before: dict[str, Any], review: dict[str, Any]) -> bool:
    """m061's rule: a review whose kept 签收 was a stand-in's written under its own code (the record before the
    review marked 代收, its 签收 part a bare code other than the holder's, the one the review kept)."""
    respond = review.get("response_unit")
    return bool(before.get("stood_in")) and bool(respond) and not respond.startswith(STAND_IN) and \
        before.get("response_unit") == respond and respond != before.get("unit_code")


def _review_kept_stand_ins(db: sqlite_utils.Database, tid: int) -> bool:
    """Whether the ticket's review kept a stand-in's 签收 under its own code (_kept_stand_ins on its records)."""
    review = db.execute("SELECT id, kept FROM ticket_events INDEXED BY ticket_events_ticket WHERE ticket_id = ? "
                        "AND action = 'review' ORDER BY id LIMIT 1", [tid]).fetchone()
    if review is None or review[1] is None:
        return False
    before = db.execute("SELECT kept FROM ticket_events INDEXED BY ticket_events_ticket WHERE ticket_id = ? "
                        "AND id < ? AND kept IS NOT NULL ORDER BY id DESC LIMIT 1", [tid, review[0]]).fetchone()
    return before is not None and _kept_stand_ins(dict(zip(KEPT, json.loads(before[0]))),
                                                  dict(zip(KEPT, json.loads(review[1]))))


def m059_mark(db: sqlite_utils.Database) -> int:
    """The first event written after m059 (records before it name a stand-in's part by the stand-in's code)."""
    got = db.execute("SELECT value FROM integrity_marks WHERE name = 'recredit_from'").fetchone()
    return got[0] if got else 0


def cases_from_events(db: sqlite_utils.Database, ticket_id: int) -> tuple[dict[tuple, dict], float | None, int]:
    """record_case replayed over the ticket's events (case_ends, the one rule): the cases it keeps, by (unit,
    window) -> {start, at, action, signed, stood_in, event (the one that ended it)}; when the current case began (None: withdrawn, or nothing to
    go by); and the latest event id read. Each event carrying the KEPT record (m044) says the unit the 签收 part
    counts for, its window and whose parts are 代收; the case's 签收 is the first accept since it began, from
    the event that began it (someone of another unit signing begins its 代收 case; as verify-rates reads it). A
    re-dispatch is seen by the new 签收 window it gives (case_ends); one keeping both the 签收 unit and the window
    would not be (the events do not carry dispatched_at), and no path makes one: every hand-over goes to another
    unit with a window of its own (Desk.handover; 转派 to the unit holding it, or back to the one under review,
    is refused)."""
    was: dict[str, Any] | None = None
    cases: dict[tuple, dict] = {}
    begun, last = None, 0
    named = Named(m059_mark(db))
    for eid, at, action, to_state, kept_ in db.execute(
            "SELECT id, at, action, to_state, kept FROM ticket_events INDEXED BY ticket_events_ticket "
            "WHERE ticket_id = ? ORDER BY id", [ticket_id]):
        last = eid
        record = named.read(eid, action, kept_)
        if action in RENAMES:  # the same case under its new name (no record_case ran)
            was = {**was, **record} if was is not None else None
            continue
        if was is None:
            if record.get("unit_code") and to_state != "withdrawn":  # its dispatch: the first case begins
                was, begun = {**record, "accepted_at": None}, at
            continue
        after = {**was, **record}
        end = case_ends(was, after, to_state, at, begun)
        # a 签收 is the case's the event leaves in place: someone of another unit signing begins its 代收 case
        # signed (the case it ends was not signed by its unit), as transition writes accepted_at with the move
        signs = action == "accept" and (end is not None or was["accepted_at"] is None)
        if end is not None:
            if end["kept"] and (end["unit"], end["window"]) not in cases:
                cases[(end["unit"], end["window"])] = {"start": begun, "at": at, "action": action,
                                                       "signed": end["signed"], "stood_in": end["stood_in"],
                                                       "event": eid}
            if to_state == "withdrawn":
                return cases, None, last
            after["accepted_at"] = None
            begun = cases.get((credit(after)[0], after.get("accept_due_at")), {}).get("start", at)
        if signs:
            after["accepted_at"] = at
        was = after
    return cases, begun, last


def cases_fill_range(db: sqlite_utils.Database) -> tuple[int, int] | None:
    """The events m070's fill has not reached (events_left)."""
    return events_left(db, "cases_fill")


def cases_fill_next(db: sqlite_utils.Database, events: int = CASES_FILL_EVENTS,
                    limit: int = CASES_FILL_TICKETS) -> tuple[int, list[list]]:
    """On a reader: the next range of the fill, as (the last event id looked at, [ticket id, its latest event id,
    what to write]) for the tickets a departure in it names (a 撤回, or an event whose KEPT record moved the
    unit the 签收 part counts for) whose kept cases or `response_since` are not what record_case would have
    written (cases_fix). The range ends early at the `limit`th such ticket, so one write stays short."""
    scanned, mark = cases_fill_range(db)
    upto = min(scanned + events, mark - 1)
    recorded = (db.execute("SELECT value FROM integrity_marks WHERE name = 'events_record_from'").fetchone()
                or (1 << 62,))[0]
    out, seen = [], set()
    for eid, tid, _ in departures(db, scanned, upto):
        if tid in seen:
            continue
        seen.add(tid)
        fix = cases_fix(db, tid, recorded)
        if fix is not None:
            out.append([tid, *fix])
            if len(out) >= limit:
                return eid, out
    return upto, out


def departures(db: sqlite_utils.Database, after: int, upto: int) -> Iterator[tuple[int, int, float]]:
    """The events with id in (after, upto] where a 签收 case may end (case_ends), as (event id, ticket, at): a 撤回,
    or an event whose KEPT record moved the unit the 签收 part counts for (the holder, or only the part: 代收 signed
    by another unit, a stand-in taking over or giving back) or its window, each against the one before it. One rowid
    range; what m070's fill replays and m072's list of them keeps (verify-rates: storage.integrity)."""
    for eid, tid, at, action, now, was in db.execute(
            "SELECT e.id, e.ticket_id, e.at, e.action, e.kept, (SELECT p.kept FROM ticket_events p INDEXED BY "
            "ticket_events_ticket WHERE p.ticket_id = e.ticket_id AND p.id < e.id AND p.kept IS NOT NULL "
            "ORDER BY p.id DESC LIMIT 1) FROM ticket_events e WHERE e.id > ? AND e.id <= ? AND (e.action = "
            "'withdraw' OR e.kept IS NOT NULL) ORDER BY e.id", [after, upto]).fetchall():
        if action in RENAMES:
            continue
        if action == "withdraw" or (was is not None and moves(dict(zip(KEPT, json.loads(was))),
                                                          dict(zip(KEPT, json.loads(now))))):
            yield eid, tid, at


def moves(was: dict[str, Any], now: dict[str, Any]) -> bool:
    """Whether a KEPT record moved the 签收 case on from the one before it: the unit its 签收 part counts for, or
    its window (case_ends' rule as the events show it)."""
    return credit(now)[0] != credit(was)[0] or now.get("accept_due_at") != was.get("accept_due_at")


def cases_fix(db: sqlite_utils.Database, tid: int, recorded: int) -> tuple[int, dict] | None:
    """(the ticket's latest event id, what differs from record_case's rule): {"add": [unit_cases rows],
    "stood": [(row id, holder)], "since": [(row id, start)], "response_since": value}; None when nothing does
    (or its history began before m044's record: nothing to go by, or it is praise)."""
    t = db.execute("SELECT kind, dispatched_at, response_since, state FROM tickets WHERE id = ?", [tid]).fetchone()
    first = db.execute("SELECT min(id) FROM ticket_events INDEXED BY ticket_events_ticket WHERE ticket_id = ?",
                       [tid]).fetchone()[0]
    if t is None or t[0] == "praise" or t[1] is None or first is None or first < recorded:
        return None
    cases, begun, last = cases_from_events(db, tid)
    have = {(r[1], r[2]): r for r in db.execute(
        "SELECT id, unit_code, accept_due_at, coalesce(since, dispatched_at), stood_in FROM unit_cases "
        "INDEXED BY unit_cases_ticket WHERE ticket_id = ?", [tid])}
    fix: dict[str, Any] = {"add": [], "stood": [], "since": []}
    for (unit, window), c in cases.items():
        row = have.get((unit, window))
        if row is None:  # (its start as its 派发: the events do not carry the ticket's dispatch then)
            fix["add"].append([tid, unit, c["start"], None, c["at"], c["action"], window, c["signed"], c["stood_in"]])
            continue
        if c["stood_in"] and row[4] is None:
            fix["stood"].append((row[0], c["stood_in"]))
        if abs(row[3] - c["start"]) >= 1e-3:  # written after m066 without the history before it
            fix["since"].append((row[0], c["start"]))
    if begun is not None and t[3] != "withdrawn":
        since = None if abs(begun - t[1]) < 1e-3 else begun
        if since != t[2] and not (since and t[2] and abs(since - t[2]) < 1e-3):
            fix["response_since"] = since
    return (last, fix) if any(fix.values()) or "response_since" in fix else None


def cases_fill_store(db: sqlite_utils.Database, upto: int, found: list[list]) -> int:
    """On the writer, one short write: what cases_fill_next found, each ticket re-read here if it changed since
    (its latest event is another), and how far the fill has come. Returns the rows written."""
    recorded = (db.execute("SELECT value FROM integrity_marks WHERE name = 'events_record_from'").fetchone()
                or (1 << 62,))[0]
    n = 0
    for tid, last, fix in found:
        if db.execute("SELECT max(id) FROM ticket_events INDEXED BY ticket_events_ticket WHERE ticket_id = ?",
                      [tid]).fetchone()[0] != last:
            again = cases_fix(db, tid, recorded)
            if again is None:
                continue
            last, fix = again
        for row in fix["add"]:
            n += db.execute("INSERT OR IGNORE INTO unit_cases (ticket_id, unit_code, dispatched_at, since, at, action, "
                            "accept_due_at, accepted_at, stood_in) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row).rowcount
        for rid, holder in fix["stood"]:
            n += db.execute("UPDATE unit_cases SET stood_in = ? WHERE id = ? AND stood_in IS NULL",
                            [holder, rid]).rowcount
        for rid, start in fix["since"]:
            n += db.execute("UPDATE unit_cases SET since = ? WHERE id = ? AND since IS NOT ?", [start, rid, start]).rowcount
        if "response_since" in fix:  # (the counters follow it: unit_days' trigger)
            n += db.execute("UPDATE tickets SET response_since = ? WHERE id = ? AND response_since IS NOT ?",
                            [fix["response_since"], tid, fix["response_since"]]).rowcount
    db.execute("UPDATE integrity_marks SET value = ? WHERE name = 'cases_fill_scanned' AND value < ?", [upto, upto])
    return n


# -- m072's fill after start-up: the departures before m070, by time (trust21) ----------------------------------

CASE_DEPARTURES_EVENTS = 20_000  # events the fill reads a time (a rowid range, on a reader)


def case_departures_range(db: sqlite_utils.Database) -> tuple[int, int] | None:
    """The events m072's fill has not reached (events_left): those before m070's mark."""
    return events_left(db, "case_departures")


def case_departures_next(db: sqlite_utils.Database, events: int = CASE_DEPARTURES_EVENTS
                         ) -> tuple[int, list[tuple[int, int, float]]]:
    """On a reader: the next range of the fill, as (the last event id looked at, its departures). Events never
    change, so what it finds stays true."""
    scanned, mark = case_departures_range(db)
    upto = min(scanned + events, mark - 1)
    return upto, list(departures(db, scanned, upto))


def case_departures_store(db: sqlite_utils.Database, upto: int, found: list[tuple[int, int, float]]) -> int:
    """On the writer, one short write: the departures case_departures_next found, and how far the fill has come."""
    db.conn.executemany("INSERT OR IGNORE INTO case_departures (event_id, ticket_id, at) VALUES (?, ?, ?)", found)
    db.execute("UPDATE integrity_marks SET value = ? WHERE name = 'case_departures_scanned' AND value < ?",
               [upto, upto])
    return len(found)


# -- m075: the departures listed by m072 counted by day, and the kept cases of reviews m061 renamed (trust22) ----

DEPARTURE_DAYS_ROWS = 5_000  # case_departures rows the fill reads a time (a rowid range, on a reader)
DEPARTURE_DAY = "CAST((at + 28800) / 86400 AS INTEGER)"  # the counters' day (China's) of a departure's moment


def departure_days_range(db: sqlite_utils.Database) -> tuple[int, int] | None:
    """The case_departures rows m075's fill has not counted yet: those listed before m075 (events_left's shape,
    by the rows' event ids), or None."""
    return events_left(db, "departure_days")


def departure_days_next(db: sqlite_utils.Database, rows: int = DEPARTURE_DAYS_ROWS
                        ) -> tuple[int, list[tuple[int, int, int, int]]]:
    """On a reader: the next rows of the fill, as (the last event id looked at, [(day, n, first, last)]): each
    day's count of them and their first and last event ids."""
    scanned, mark = departure_days_range(db)
    got = db.execute(f"SELECT event_id, {DEPARTURE_DAY} FROM case_departures WHERE event_id > ? AND event_id < ? "
                     "ORDER BY event_id LIMIT ?", [scanned, mark, rows]).fetchall()
    upto = got[-1][0] if len(got) == rows else mark - 1
    days: dict[int, list[int]] = {}
    for eid, day in got:
        d = days.setdefault(day, [0, eid, eid])
        d[0], d[1], d[2] = d[0] + 1, min(d[1], eid), max(d[2], eid)
    return upto, [(day, *d) for day, d in days.items()]


def departure_days_store(db: sqlite_utils.Database, upto: int, found: list[tuple[int, int, int, int]]) -> int:
    """On the writer, one short write: add what departure_days_next counted (once: a range already counted is
    not counted again), and how far the fill has come. Returns the departures counted."""
    if db.execute("SELECT value FROM integrity_marks WHERE name = 'departure_days_scanned'").fetchone()[0] >= upto:
        return 0
    db.conn.executemany("INSERT INTO case_departure_days (day, n, first, last) VALUES (?, ?, ?, ?) ON CONFLICT (day) "
                        "DO UPDATE SET n = n + excluded.n, first = min(first, excluded.first), "
                        "last = max(last, excluded.last)", found)
    db.execute("UPDATE integrity_marks SET value = ? WHERE name = 'departure_days_scanned'", [upto])
    return sum(f[1] for f in found)


def cases_renamed_m061(db: sqlite_utils.Database) -> int:
    """m075: the kept cases of reviewed tickets written by m070's fill as the replay read them before trust22 (a
    stand-in's 签收 a review kept under the stand-in's own code, m061's rule, read as its own work: a case ended at
    the review, another for its own code), put right: each such row that is not what the replay (Named) now says
    goes, and the ticket's cases and response_since are derived again (cases_fix). Rows an event names (written by
    record_case, m070's mark on) are left alone. Only the tickets with a review and a kept case are looked at (few),
    and replayed only if begun before m059 with such a review (two lookups each).
    Returns the rows deleted."""
    marks = dict(db.execute("SELECT name, value FROM integrity_marks"))
    if "cases_fill_from" not in marks:
        return 0
    recorded = marks.get("events_record_from", 1 << 62)
    gone = 0
    for (tid,) in db.execute("SELECT DISTINCT c.ticket_id FROM unit_cases c JOIN tickets t ON t.id = c.ticket_id "
                             "WHERE t.review = 1").fetchall():
        first = db.execute("SELECT min(id) FROM ticket_events INDEXED BY ticket_events_ticket WHERE ticket_id = ?",
                           [tid]).fetchone()[0]
        # (before m044's record: nothing to go by; begun after m059: no record names a stand-in's part by its own
        # code, so no review kept one so)
        if first is None or first < recorded or first >= marks.get("recredit_from", 0) or \
                not _review_kept_stand_ins(db, tid):
            continue
        cases = cases_from_events(db, tid)[0]
        for rid, unit, window, start, at, action, signed, stood in db.execute(
                "SELECT id, unit_code, accept_due_at, coalesce(since, dispatched_at), at, action, accepted_at, "
                "stood_in FROM unit_cases INDEXED BY unit_cases_ticket WHERE ticket_id = ?", [tid]).fetchall():
            ended = db.execute("SELECT min(id) FROM ticket_events INDEXED BY ticket_events_ticket WHERE ticket_id = ? "
                               "AND abs(at - ?) < 0.001 AND action = ?", [tid, at, action]).fetchone()[0]
            if ended is not None and ended >= marks["cases_fill_from"]:
                continue
            c = cases.get((unit, window))
            if c is None or abs(c["at"] - at) >= 1e-3 or abs(c["start"] - start) >= 1e-3 or c["signed"] != signed \
                    or c["stood_in"] != stood:
                gone += db.execute("DELETE FROM unit_cases WHERE id = ?", [rid]).rowcount
        fix = cases_fix(db, tid, recorded)
        if fix is not None:
            cases_fill_store(db, 0, [[tid, *fix]])
    return gone
