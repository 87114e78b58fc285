"""The three rates of the campaign, per unit and period, as ../shared/ARCHITECTURE.md defines them:

    响应率 = accepted within the 签收 limit / dispatched in the period whose 签收 window has ended (or that
             were accepted already): a ticket still inside its window has not failed yet. Each 签收 case counts
             in the period it began for the unit it counted for, kept there when the part later moves to
             another unit (the ticket leaves, a stand-in takes it over or gives it back, another unit signs it),
             is withdrawn or dispatched anew (m066 unit_cases; once a day's end counted it, its 派发 even
             inside its window): a period over keeps its 派发 and 响应率
    解决率 = resolved within the time limit / (resolved in the period + still open past the deadline at its end,
             with the unit it counts for then: a ticket that came back later is not that unit's at earlier ends)
             (a 办结 a later 不满意 cleared still counts in its month, late or in time as it was: m067)
    满意率 = (满意 + 基本满意) / rated in the period          (未评价 counts in neither part; each ticket's
             last rating of a unit's answer given in the period, from the rating events: a redo rated later
             leaves the month over as it was)
    首次满意率 = satisfied at the first rating / tickets first rated in the period, and the number of 不满意
             given in the period: a redo that ends in 满意 does not hide that the first answer was rejected

Work counts for the unit that did it (storage.tickets.credit, m030). A ticket counts for the unit that holds it
now (after any 转派 or 退回, the new holder's own work), except:
- 代收: a unit with nobody bound; the duty office (or the leaders) was told to stand in (or someone of another
  unit, a supervisor above, signed or finished it in time). Such a part is 代收 work (m059): in no unit's three
  rates — not the stand-in's (its own work is what it is scored on), not the absent unit's (a school with nobody
  bound would show 100 %) — but shown apart: the stand-in's `proxied` (代收 parts of tickets dispatched in the
  period), `proxied_late_response` (those not signed in time, and 代收 签收 let lapse before the ticket moved on),
  `proxied_resolved` (代收 办结 in it) and `proxied_late` (代收 办结 late in it, or open past the deadline at its
  end); the absent unit keeps the ticket in its volumes and shows it as `stood_in` ("代收 N 件"). When
  someone is bound the ticket comes home: each part not done yet whose window is still open is the unit's own
  from then on; a part done, or whose window lapsed, during 代收 stays 代收.
- the bureau's review after a second 不满意: the dispatch and 签收 stay with the unit whose answer was rejected (and
  the ratings: `rated_unit`); the duty office gets only the review, with its own time limit.
Praise is not a case to handle: it counts only as `praised`, for the school praised (else the unit it went to), each
person once a period (storage.tickets.praise_by_unit, the one rule for every surface), never in the three rates.
A rate with nothing to count is None, shown as "—": a unit with no tickets is not 0% and not 100%.
"""
from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import Iterable

from storage.tickets import STAND_IN, case_came_due, case_start, credit, owner


@dataclass
class Rates:
    dispatched: int = 0
    accepted_in_time: int = 0
    resolved: int = 0
    resolved_in_time: int = 0
    open_overdue: int = 0
    rated: int = 0
    satisfied: int = 0
    unrated: int = 0
    praised: int = 0
    response_due: int = 0       # dispatched in the period and past their 签收 window (or accepted)
    first_rated: int = 0
    first_satisfied: int = 0
    dissatisfied: int = 0       # 不满意 ratings given in the period (each redo request counts)
    left_late: int = 0          # tickets that left the unit (退回, 转派, 撤回) after it had let them lapse
    stood_in: int = 0           # its tickets dispatched in the period whose 签收/办结 a stand-in did (代收): not scored
    proxied: int = 0            # 代收 it did for others: tickets dispatched in the period whose 签收 it stood in for
    proxied_resolved: int = 0   # 代收 办结 in the period
    proxied_late: int = 0       # 代收 办结 late in the period, or open past the deadline at its end: not scored
    proxied_late_response: int = 0  # 代收 签收 late: dispatched in the period and not signed in time, or let
                                    # lapse before the ticket moved on (as 响应率 counts a unit's own): not scored

    def base(self, rate: str) -> int:
        """How many tickets (or ratings) the rate `rate` rests on: the count to show beside it."""
        return {"response": self.response_due, "resolution": self.resolved + self.open_overdue,
                "satisfaction": self.rated, "first_satisfaction": self.first_rated}[rate]

    @property
    def shown(self) -> bool:
        """Anything to show for the unit in the period: every list of units (dashboard, digest) uses this."""
        return bool(self.dispatched or self.resolved or self.open_overdue or self.rated or self.left_late
                    or self.stood_in or self.proxied or self.proxied_resolved or self.proxied_late
                    or self.proxied_late_response)

    @property
    def response(self) -> float | None:
        return self.accepted_in_time / self.response_due if self.response_due else None

    @property
    def first_satisfaction(self) -> float | None:
        return self.first_satisfied / self.first_rated if self.first_rated else None

    @property
    def resolution(self) -> float | None:
        base = self.resolved + self.open_overdue
        return self.resolved_in_time / base if base else None

    @property
    def satisfaction(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None


INF = float("inf")


def _within(t: float | None, start: float, end: float) -> bool:
    return t is not None and start <= t < end


def _resolution_case(t: dict, start: float, end: float, cut: float) -> str | None:
    """How a ticket counts in its 办结 unit's 解决率 of [start, end): "resolved" in it, "overdue" (dispatched,
    due and not resolved by the cut), or None."""
    if _within(t["resolved_at"], start, end):
        return "resolved"
    if (t["due_at"] and t["due_at"] < cut and t["dispatched_at"] is not None and t["dispatched_at"] < cut
            and (t["resolved_at"] is None or t["resolved_at"] >= cut) and t["state"] != "withdrawn"
            and (t.get("resolve_since") is None or t["resolve_since"] < cut)):  # held by that unit at the cut
        return "overdue"
    return None


def _late_case(t: dict, start: float, end: float, cut: float) -> bool:
    """The ticket counts late in its 办结 unit's 解决率 of [start, end): resolved late in it, or open past its
    deadline at the cut."""
    case = _resolution_case(t, start, end, cut)
    return case == "overdue" or (case == "resolved" and not (t["due_at"] and t["resolved_at"] <= t["due_at"]))


def _late_response(t: dict, start: float, end: float, now: float | None) -> bool:
    """The ticket counts late in its 签收 unit's 响应率 of [start, end): dispatched in it, due to be signed by
    `now` and not signed in time."""
    if not _within(case_start(t), start, end) or t["state"] == "withdrawn":
        return False
    if t["accepted_at"] is not None:
        return not (t["accept_due_at"] and t["accepted_at"] <= t["accept_due_at"])
    return now is None or not t["accept_due_at"] or t["accept_due_at"] <= now


def compute(tickets: Iterable[dict], start: float, end: float, now: float | None = None,
            ratings: Iterable[dict] = (), into: dict[str, Rates] | None = None,
            misses: Iterable[dict] = (), cases: Iterable[dict] = ()) -> dict[str, Rates]:
    """Rates per unit code for the period [start, end), from ticket rows (storage.tickets), the period's rating
    events (storage.tickets.ratings_in), its late departures (storage.tickets.misses_in: a ticket a unit let
    lapse and then bounced, had transferred or saw withdrawn still counts against it: open past the deadline in
    its 解决率) and the 签收 cases its units had that the tickets no longer show (storage.tickets.cases_in, m066:
    a case stays in its unit's 派发 and 响应率 of the period it began in, whatever happens to the ticket later).
    `now`: when the rates are read (a 签收 window still open then does not count yet); None counts every window
    as ended."""
    out: dict[str, Rates] = {} if into is None else into
    cut = end if now is None else min(end, now)  # a period not over yet: overdue by now, not by its end
    for t in tickets:
        unit = t["unit_code"]
        if unit is None or t["kind"] == "praise":  # praise: praise_by_unit, not a case to handle
            continue
        respond, resolve = credit(t)
        if _within(case_start(t), start, end) and t["state"] != "withdrawn":  # withdrawn: a kept case (m066)
            r = out.setdefault(respond, Rates())
            r.dispatched += 1
            if t["accepted_at"] is not None or now is None or not t["accept_due_at"] or t["accept_due_at"] <= now:
                r.response_due += 1
            if t["accepted_at"] is not None and t["accept_due_at"] and t["accepted_at"] <= t["accept_due_at"]:
                r.accepted_in_time += 1
            if t.get("stood_in"):
                out.setdefault(unit, Rates()).stood_in += 1
        r = out.setdefault(resolve, Rates())
        case = _resolution_case(t, start, end, cut)
        if case == "resolved":
            r.resolved += 1
            if t["due_at"] and t["resolved_at"] <= t["due_at"]:
                r.resolved_in_time += 1
        elif case == "overdue":
            r.open_overdue += 1
        if t["close_reason"] == "unrated" and _within(t["closed_at"], start, end):
            r.unrated += 1
    # One ticket is at most one late case of one unit in a period, in each rate: its late departures there
    # counted once, and not at all beside the unit's own late count of it (it got the ticket back, its lapsed
    # 签收 window and its deadline with it: dispatched in the period and not signed in time, resolved late in
    # it, or open past that deadline at its end). Read here, not undone where written: the lateness stays in a
    # period in which the unit does not count the ticket late itself (a redo done in time).
    # A departure after the period keeps what the period's end counted while the unit held the ticket: open past
    # its deadline then (`open_from` < cut <= the departure), so a period over reads the same after a 转派, 退回 or
    # 撤回 (trust16); that is no departure of this period (left_late is not).
    late: dict[tuple, list[int]] = {}
    for i, m in enumerate(misses):
        # a 办结 a 不满意 cleared (m067): counted in its own month (kept_resolutions), late from its deadline
        # until then, never a departure of the 不满意's month
        kept = m.get("resolved_at")
        left = _within(m["at"], start, end) and (kept is None or bool(m["response"]))
        held = bool(m["overdue"]) and m.get("open_from") is not None and \
            m["open_from"] < cut <= (m["at"] if kept is None else kept) and not _within(kept, start, end)
        if left or held:
            flags = late.setdefault((m.get("ticket_id", -1 - i), m["unit_code"]), [0, 0, 0])
            t = m.get("ticket")
            # (the 签收 part: late in the unit's own count in whichever period holds its 派发, the one it got back
            # with the ticket, Desk.handover: one lapse, one late case)
            responds = t is not None and credit(t)[0] == m["unit_code"] and _late_response(t, -INF, INF, now)
            resolves = t is not None and credit(t)[1] == m["unit_code"] and _late_case(t, start, end, cut)
            response = left and m["response"] and not responds
            overdue = (left and kept is None or held) and m["overdue"] and not resolves
            flags[0] |= response and not m.get("case_kept")  # kept (m066): counted in the month the case began
            flags[1] |= overdue
            flags[2] |= left and bool(response or m["overdue"] and kept is None and not resolves)
    for (_, unit), (response, overdue, left) in late.items():
        if response or overdue or left:
            r = out.setdefault(unit, Rates())
            r.response_due += response
            r.open_overdue += overdue
            r.left_late += left
    kept_resolutions(misses, start, end, out)
    _kept_cases(out, cases, start, end)
    last: dict[tuple, dict] = {}  # one walk of the events: 不满意 given, first ratings, each one's last (satisfaction)
    for e in ratings:
        if e["unit_code"] is None or not _within(e["at"], start, end):
            continue
        last[(e["ticket_id"], e["unit_code"])] = e
        if e["score"] == 3 or e["first"]:
            r = _of(out, e["unit_code"])
            r.dissatisfied += e["score"] == 3
            if e["first"]:
                r.first_rated += 1
                r.first_satisfied += e["score"] in (1, 2)
    _count_last(last, out)
    return fold(out)


def kept_resolutions(misses: Iterable[dict], start: float, end: float, out: dict[str, Rates]) -> None:
    """The 办结 in [start, end) a later 不满意 cleared (storage.tickets.misses_in, m067 `resolved_at`): each still
    a 办结 of its unit in its month, late as it was (the row's `overdue`), so a month over reads the same when a
    citizen rejects its answer later (trust18b). The redo's 办结 is another, counted when it comes."""
    for m in misses:
        if _within(m.get("resolved_at"), start, end):
            r = _of(out, m["unit_code"])
            r.resolved += 1
            r.resolved_in_time += not m["overdue"]


def _of(out: dict[str, Rates], unit: str) -> Rates:
    """out's Rates of `unit`, made when first needed (setdefault would build one for every rating event)."""
    r = out.get(unit)
    if r is None:
        r = out[unit] = Rates()
    return r


def satisfaction(ratings: Iterable[dict], start: float, end: float, out: dict[str, Rates]) -> None:
    """满意率 of [start, end) from the rating events (storage.tickets.ratings_in, in the order given): each
    ticket's last rating of a unit's answer given in the period, never the ticket's latest rating, which a redo
    rated later overwrites: a month over keeps its ratings (trust18b). A 不满意 answered by a redo rated 满意 in
    the same period counts once, as 满意."""
    _count_last({(e["ticket_id"], e["unit_code"]): e for e in ratings
                 if e["unit_code"] is not None and _within(e["at"], start, end)}, out)


def _count_last(last: dict[tuple, dict], out: dict[str, Rates]) -> None:
    """satisfaction's count: each (ticket, unit)'s last rating in the period, the events given in order."""
    for e in last.values():
        r = _of(out, e["unit_code"])
        r.rated += 1
        r.satisfied += e["score"] in (1, 2)


def _kept_cases(out: dict[str, Rates], cases: Iterable[dict], start: float, end: float) -> None:
    """The kept 签收 cases (storage.tickets.cases_in, m066) that began in [start, end): each in its unit's 派发 and
    响应率 as it was when it stopped being the unit's (it came due there: signed, in time or not, or its window
    over), and in its holder's 代收 N件 if a part was 代收 then; one kept because a day's end had counted it there,
    left unsigned inside its window, in its 派发 alone. A case its ticket has again (the same unit and window, given
    back: Desk.handover) is the ticket's own
    row's, counted there once."""
    for c in cases:
        if not _within(c["start"], start, end):
            continue
        t = c["ticket"]
        if t["state"] != "withdrawn" and credit(t)[0] == c["unit_code"] and t["accept_due_at"] == c["accept_due_at"]:
            continue
        if c.get("stood_in"):  # its holder's 代收 N件 then (m070): stays in the month, wherever the ticket went
            out.setdefault(c["stood_in"], Rates()).stood_in += 1
        if c.get("stood_only"):  # (read for that holder alone)
            continue
        r = out.setdefault(c["unit_code"], Rates())
        r.dispatched += 1
        r.response_due += case_came_due(c)  # (kept for its 派发 alone: left unsigned inside its window)
        r.accepted_in_time += bool(c["accepted_at"] is not None and c["accept_due_at"]
                                   and c["accepted_at"] <= c["accept_due_at"])


def fold(out: dict[str, Rates]) -> dict[str, Rates]:
    """The 代收 accounts (storage.tickets.STAND_IN) taken out of the units' figures and shown beside the stand-in's
    as its 代收 figures: counted like any unit, scored for nobody — each part's lateness by the rule its rate
    would use (响应率's for the 签收 part, 解决率's for the 办结 part). Every surface reads rates through compute."""
    for key in [k for k in out if k.startswith(STAND_IN)]:
        a = out.pop(key)
        r = out.setdefault(owner(key), Rates())
        r.proxied += a.dispatched
        r.proxied_late_response += a.response_due - a.accepted_in_time
        r.proxied_resolved += a.resolved
        r.proxied_late += a.resolved - a.resolved_in_time + a.open_overdue
    return out


def by_ticket(tickets: Iterable[dict], start: float, end: float, unit: str, now: float | None = None,
              ratings: Iterable[dict] = (), misses: Iterable[dict] = (), cases: Iterable[dict] = ()
              ) -> dict[int, Rates]:
    """What each ticket adds to `unit`'s rates of [start, end): `compute` of that ticket alone, with its own rating
    events and late departures (each carries its ticket_id). `compute` only adds, ticket by ticket, so these sum
    to `compute` of them all: the tickets behind a figure, counted by the rule that made it. Tickets that add
    nothing to the unit are left out."""
    rows: dict[int, list[dict]] = {}
    for t in tickets:
        rows.setdefault(t["id"], []).append(t)
    rated: dict[int, list[dict]] = {}
    for e in ratings:
        rated.setdefault(e["ticket_id"], []).append(e)
    missed: dict[int, list[dict]] = {}
    for m in misses:
        missed.setdefault(m["ticket_id"], []).append(m)
    kept: dict[int, list[dict]] = {}
    for c in cases:
        kept.setdefault(c["ticket_id"], []).append(c)
    out = {}
    for tid in rows.keys() | rated.keys() | missed.keys() | kept.keys():
        part = compute(rows.get(tid, ()), start, end, now, rated.get(tid, ()), misses=missed.get(tid, ()),
                       cases=kept.get(tid, ())).get(unit)
        if part is not None and any(getattr(part, f) for f in Rates.__dataclass_fields__):
            out[tid] = part
    return out


def traced(db, start: float, end: float, unit: str, now: float | None = None) -> dict[int, Rates]:
    """by_ticket for one unit and period from the database: the period's index ranges, as for_period reads them
    for periods off the counters' days (the rates oracle checks that both give the same figures)."""
    from storage import tickets
    return by_ticket(tickets.for_period(db, start, end, [unit]), start, end, unit, now,
                     tickets.ratings_in(db, start, end, [unit]), tickets.misses_in(db, start, end, [unit]),
                     tickets.cases_in(db, start, end, [unit]))


def for_period(db, start: float, end: float, units: list[str] | None = None,
               now: float | None = None) -> dict[str, Rates]:
    """Rates per unit for [start, end): for_periods of one period."""
    return for_periods(db, [start, end], units, now)[0]


def for_periods(db, bounds: list[float], units: list[str] | None = None, now: float | None = None,
                counts=None) -> list[dict[str, Rates]]:
    """Rates per unit for each period between consecutive `bounds`, the same numbers as `compute` over every
    ticket: from the per-unit-per-day counts kept with each ticket change (storage/migrations.py m017), plus the
    two parts that depend on when they are read (签收 windows still open, tickets overdue at the cut), each a
    small index range, the periods' late departures and cleared 办结 (misses_in), and their rating events
    (ratings_in: 满意率, first-time satisfaction, 不满意 given: the last period's; the earlier ones' of the tickets
    given a 不满意 in them alone, m071, beside the counters' rated and satisfied). Periods that do not start and
    end at the counts' midnights (another timezone) are computed from their tickets.
    `counts`: where the per-unit counts come from instead of the counters (`tingjian verify-rates` gives a
    recount from the tickets, storage.integrity), with tickets.unit_day_sums' arguments and answer."""
    from storage import tickets
    periods = list(zip(bounds, bounds[1:]))
    days = tickets.on_day_boundaries(*bounds)
    # The earlier periods (a trend) take 满意率 from the counters, each ticket's latest rating on its day (m071):
    # only a ticket given a 不满意 in them counts its events otherwise (a 不满意 followed by another rating, or a
    # latest one the counters leave out: the redo closed unrated), so those tickets' events are counted instead
    # of their counters' part. Until m071's fill is done, every rating event, as before.
    redone = days and counts is None and len(periods) > 1 and tickets.redos_listed(db)
    # the last period's with first-time satisfaction; the earlier ones' for 满意率 alone: their 首次满意率 is not
    # shown, and reading it is most of what their events cost
    # (and, of those tickets, the counters' part, taken out)
    earlier, counted = tickets.redone_ratings(db, bounds[:-1], units) if redone else \
        (tickets.ratings_in(db, bounds[0], bounds[-2], units, first=False), [])
    events = [*earlier, *tickets.ratings_in(db, bounds[-2], bounds[-1], units)]
    misses = [tickets.misses_in(db, s, e, units) for s, e in periods]
    kept = [tickets.cases_in(db, s, e, units) for s, e in periods]
    # each period handed its own events, in their order (compute counts no other): not every period's, which
    # made a trend of 8 periods walk each event 8 times (dash18)
    own: list[list[dict]] = [[] for _ in periods]
    for e in events:
        i = bisect_right(bounds, e["at"]) - 1
        if 0 <= i < len(periods):
            own[i].append(e)
    if not days:
        return [with_praise(_only(compute(tickets.for_period(db, s, e, units), s, e, now, ev, misses=m, cases=k),
                                  units), tickets.praise_by_unit(db, s, e, units))
                for (s, e), m, k, ev in zip(periods, misses, kept, own)]
    out = []
    sums = (counts or tickets.unit_day_sums)(db, bounds, units)
    overdue = tickets.overdue_at_cuts(db, [(end if now is None else min(end, now), end) for _, end in periods], units)
    for i, ((start, end), per_period, m, k, ev, late) in enumerate(zip(periods, sums, misses, kept, own, overdue)):
        # (the counters' rated and satisfied follow each ticket's latest rating: the last period's 满意率 reads the
        # events, an earlier one's the counters less the tickets whose events count otherwise)
        trend = redone and i < len(periods) - 1
        per_unit = {unit: Rates(**{**c, "praised": 0, **({} if trend else {"rated": 0, "satisfied": 0})},
                                response_due=c["dispatched"])
                    for unit, c in per_period.items()}
        for unit, (n, satisfied) in (counted[i] if trend else {}).items():
            r = per_unit.setdefault(unit, Rates())
            r.rated -= n
            r.satisfied -= satisfied
        if now is not None:
            for unit, n in tickets.accept_pending(db, start, end, now, units).items():
                per_unit.setdefault(unit, Rates()).response_due -= n
        for unit, n in late.items():
            per_unit.setdefault(unit, Rates()).open_overdue += n
        out.append(with_praise(compute((), start, end, now, ev, into=per_unit, misses=m, cases=k),
                               tickets.praise_by_unit(db, start, end, units)))
    return out


def with_praise(per_unit: dict[str, Rates], praise: dict[str, int]) -> dict[str, Rates]:
    """`praised` from storage.tickets.praise_by_unit (the school praised, each person once a period)."""
    for code, n in praise.items():
        per_unit.setdefault(code, Rates()).praised = n
    return per_unit


def _only(per_unit: dict[str, Rates], units: list[str] | None) -> dict[str, Rates]:
    """The units asked for (rows read for a scope include tickets another unit holds now but whose rating
    counts for one in it)."""
    return per_unit if units is None else {c: r for c, r in per_unit.items() if c in units}


def total(per_unit: dict[str, Rates]) -> Rates:
    agg = Rates()
    for r in per_unit.values():
        for name in Rates.__dataclass_fields__:
            setattr(agg, name, getattr(agg, name) + getattr(r, name))
    return agg


def stood_in(r: Rates) -> str:
    """What is shown apart beside a unit's figures: its tickets a stand-in did ("（代收3件）") and the 代收 it did
    for others (proxied), else ""."""
    return stood_in_own(r) + proxied(r)


def stood_in_own(r: Rates) -> str:
    """"（代收3件）" when a stand-in did some of the unit's work, else ""."""
    from handlers import texts
    return texts.STOOD_IN.format(n=r.stood_in) if r.stood_in else ""


def proxied(r: Rates) -> str:
    """"（代收他单位留言，不计入本单位三率：本期收到5件，办结4件，超期1件含往期收到的）" when the unit stood in for
    others, else "". 超期 counts what was late in the period, received in it or before (rates.compute), hence 含往期;
    a late 签收 is said only where there is one ("本期收到5件，超时签收1件，…"), so the usual line stays short."""
    from handlers import texts
    if not (r.proxied or r.proxied_resolved or r.proxied_late or r.proxied_late_response):
        return ""
    slow = texts.PROXIED_LATE_SIGN.format(n=r.proxied_late_response) if r.proxied_late_response else ""
    return texts.PROXIED.format(n=r.proxied, slow=slow, resolved=r.proxied_resolved, late=r.proxied_late)


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"


def percent_of(r: Rates, rate: str) -> str:
    """A rate with the count it rests on: '100%（1）', so a single rating never reads as a record."""
    value = getattr(r, rate)
    return "—" if value is None else f"{percent(value)}（{r.base(rate)}）"
