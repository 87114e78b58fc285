"""The deadline watch: an idempotent sweep that visits only the tickets with something due.

Every ticket carries `check_at`, the next moment the watch must look at it (storage/migrations.py m009): any
change to its state or deadlines sets it to 0 in the same transaction, and each visit computes the exact next
moment from the working-day calendar (the next reminder not yet sent, or the end of the rating window). So a
sweep costs what is due now, not the number of open tickets, let alone the years of closed ones.

Each reminder is keyed by (ticket, kind, deadline) in SQLite, so a sweep repeated, missed or run after a restart
sends each reminder exactly once; an extension gives a new deadline and so a fresh set. When a missed sweep finds
several reminders due at once (the server was down), each is recorded but only the most urgent is sent.

A person with many tickets is not sent one push per ticket: each reminder's WeChat push is held (storage/outbox.py
`hold`), and when the sweep ends `gather` merges each person's held reminders into one message, the most urgent
first. The reminder records and the workbench's notification rows stay one per ticket. New-ticket notices that
come close together are held the same way (Desk.dispatch_notices, kind "new") and go with the same gather.
"""
from __future__ import annotations

import time

from handlers import followup, texts
from handlers.clock import Clock
from handlers.desk import Desk
from handlers.messages import Reply
from handlers.workdays import WorkCalendar
from storage import directory, lifecycle, outbox, staff, tickets

# Reminder kinds in rising urgency, with the share of the time limit (in working time) that triggers them.
SHARES = (("half", 0.5), ("eighty", 0.8))
WATCHED = ("assigned", "accepted", "replied", "reopened", "bounced")  # the clock runs
# The order of a merged reminder, most urgent first ("copy": 催办抄送 to a supervisor).
# "new": a new ticket's notice held because its unit was just told of another (Desk.dispatch_notices).
URGENCY = ("escalate", "urge", "copy", "accept", "new", "eighty", "half")
MERGED_LINES = 12  # ticket lines in a merged reminder: a phone screen, well under WeChat's 2,048 bytes


class Watch:
    def __init__(self, clock: Clock, calendar: WorkCalendar, desk: Desk):
        self.clock = clock
        self.calendar = calendar
        self.desk = desk

    def sweep(self, db, ids: list[int] | None = None) -> list[Reply]:
        """Visit the tickets due for a check (or those of `ids`, selected earlier on a reader); runs in one
        transaction; returns the pushes (every one has `to`)."""
        return self.sweep_until(db, tickets.due_for_check(db, self.clock.now(), 100_000) if ids is None else ids)[0]

    def sweep_until(self, db, ids: list[int], until: float | None = None) -> tuple[list[Reply], list[int]]:
        """Visit `ids` until `until` (a time.perf_counter() value) has passed, after at least one ticket:
        (the pushes, the ids not visited)."""
        now = self.clock.now()
        out: list[Reply] = []
        for i, ticket_id in enumerate(ids):
            if until is not None and i and time.perf_counter() > until:
                return out, list(ids[i:])
            ticket = tickets.by_id(db, ticket_id)
            if ticket is None or ticket["check_at"] is None or ticket["check_at"] > now:
                continue  # changed since it was selected: its new check time stands
            out += self.visit(db, ticket, now)
        return out, []

    def visit(self, db, ticket: dict, now: float) -> list[Reply]:
        out: list[Reply] = []
        if ticket["state"] in WATCHED and ticket["due_at"] is not None:
            out = self._ticket(db, ticket, now)
        elif ticket["state"] == "resolved":  # the rating: one reminder, then 未评价 (handlers/followup.py)
            ticket, out = followup.rating_visit(db, ticket, now, self.desk)
        tickets.set_check(db, ticket["id"], self.next_check(db, ticket, now))
        return out

    def next_check(self, db, ticket: dict, now: float) -> float | None:
        """The next moment something can become due for this ticket, or None if nothing will unless it changes."""
        if ticket["state"] == "resolved":
            return followup.rating_next_check(db, ticket)
        due = ticket["due_at"]
        if ticket["state"] not in WATCHED or due is None:
            return None
        sent = tickets.reminded(db, ticket["id"])
        start = ticket["dispatched_at"] or ticket["created_at"]
        times = []
        sign = lifecycle.sign_due(ticket)
        if sign and ("accept", sign) not in sent:
            times.append(sign)
        total = self.calendar.working_seconds(start, due)
        times += [self.calendar.after_working_seconds(start, share * total) for kind, share in SHARES
                  if (kind, due) not in sent]
        if ("urge", due) not in sent:
            times.append(due)
        if ("escalate", due) not in sent:
            times.append(self.calendar.due(due, 1))
        if not times:
            return None
        # A second later, so the share is surely reached; never in the past, so nothing is visited in a loop.
        return max(min(times) + 1, now + 1)

    def _ticket(self, db, ticket: dict, now: float) -> list[Reply]:
        due = ticket["due_at"]
        start = ticket["dispatched_at"] or ticket["created_at"]
        fired: list[str] = []
        sign = lifecycle.sign_due(ticket)
        if sign and now >= sign:
            if tickets.remind_once(db, ticket["id"], "accept", sign, now):
                fired.append("accept")
        total = self.calendar.working_seconds(start, due)
        # Past the deadline every share is reached: no need to count the working time of months or years.
        share = 1.0 if now >= due or not total else self.calendar.working_seconds(start, now) / total
        levels = [kind for kind, at in SHARES if share >= at]
        if now >= due:
            levels.append("urge")
        if now >= self.calendar.due(due, 1):
            levels.append("escalate")
        fired += [kind for kind in levels if tickets.remind_once(db, ticket["id"], kind, due, now)]
        if not fired:
            return []
        # the most urgent of what is due now (a 签收提醒 outranks 已过时限一半: fired[-1] sent the half, the 签收 unsaid)
        return self._messages(db, ticket, min(fired, key=URGENCY.index))

    def _messages(self, db, ticket: dict, kind: str) -> list[Reply]:
        unit = directory.get(db, ticket["unit_code"]) or {"name": ticket["unit_code"], "code": ticket["unit_code"]}
        fields = {"number": ticket["number"], "due": self.calendar.date_text(ticket["due_at"]), "unit": unit["name"]}
        if (sign := lifecycle.sign_due(ticket)) is not None:  # waiting for 签收: that window is its deadline now
            fields["sign"] = self.calendar.date_text(sign)
        text = texts.REMIND[kind].format(**fields)
        if kind == "escalate":
            to = self.desk.escalation_to(db, ticket)  # never to an office it may accuse
            if not to:
                return self._unheard(db, ticket, kind)
            return [self._held(o, text, ticket, "留言超期", kind, fields) for o in to]
        # Who is on duty for it: the addressees, and their absence the rule of Desk.nobody_on_duty (its definition),
        # read once: asked as nobody_on_duty first, a narrower rule there would leave a reminder sent to nobody.
        handlers = self.desk.handlers_of(db, ticket)
        if not handlers:
            return self._unheard(db, ticket, kind)
        out = [self._held(o, text, ticket, "办理提醒", kind, fields) for o in handlers]
        if kind in ("urge", "accept"):  # 催办 goes with a copy to the unit's supervisor
            copy = texts.URGE_COPY.format(**fields) if kind == "urge" else text
            out += [self._held(o, copy, ticket, "催办抄送", "copy" if kind == "urge" else kind, fields)
                    for o in staff.of_unit(db, unit["code"], ("supervisor",)) if o not in handlers]
        return out

    def _unheard(self, db, ticket: dict, kind: str) -> list[Reply]:
        """Nobody bound may act on `ticket` (a fresh install, everyone gone): its reminder stays recorded as sent,
        so whoever binds is not sent the backlog; an escalation is kept for the first leader or admin (Desk.waited);
        the citizen hears once that it is recorded and waits for staff, with no promise of the deadline."""
        if kind == "escalate":
            tickets.remind_once(db, ticket["id"], tickets.UNHEARD, ticket["due_at"], self.clock.now())
        return self.desk.waiting_told(db, ticket, push=True)

    def _held(self, openid: str, text: str, ticket: dict, title: str, kind: str, fields: dict) -> Reply:
        reply = self.desk.to_staff(openid, text, ticket, title)
        at = lifecycle.sign_due(ticket) if kind == "accept" else None
        return Reply(reply.text, reply.to, {**reply.extra, "hold": {"kind": kind, "at": at or ticket["due_at"],
                                                                    **fields}})


def gather(db, now: float) -> int:
    """Each person's held reminders (queued by the sweep's visits, perhaps over several transactions) as one push:
    one reminder as it was written, several merged, the most urgent first. Returns the pushes queued."""
    return gather_until(db, now)[0]


def gather_until(db, now: float, until: float | None = None) -> tuple[int, bool]:
    """As gather, one person at a time (the oldest held push first) until time.perf_counter() passes `until`
    (at least one person): (pushes queued, whether some are still held). The first sweep after an upgrade holds
    tens of thousands of reminders at a million tickets: the scheduler merges them in short transactions."""
    count = steps = 0
    while (openid := outbox.held_next(db)) is not None:
        if steps and until is not None and time.perf_counter() > until:
            return count, True
        if not outbox.drop_merged(db, openid):  # (rows of a push already made: deleted, a few thousand a step)
            _release(db, openid, now)
            count += 1
        steps += 1
    return count, False


def _release(db, openid: str, now: float) -> None:
    """One person's held reminders as one push. Only what the push shows is read (the first MERGED_LINES of each
    kind, and how many there are): a leader may hold thousands after the first sweep of an upgrade."""
    counts, rows = outbox.held_top(db, openid, MERGED_LINES)
    if counts.get("new"):
        counts, rows = _new_still_waiting(db, openid, counts, rows)
        if not counts:  # every new ticket held for them was signed meanwhile: nothing left to tell
            outbox.release_none(db, openid)
            return
    if sum(counts.values()) == 1:
        p = rows[0]["payload"]
        outbox.release_all(db, openid, p["content"], p.get("notice"), now, rows[0]["source"])
        return
    # the most urgent kind first, and within a kind the earliest deadline
    rows.sort(key=lambda r: (URGENCY.index(r["payload"]["hold"]["kind"]), r["payload"]["hold"].get("at") or 0,
                             r["id"]))
    holds = [r["payload"]["hold"] for r in rows]
    total = sum(counts.values())
    only_new = set(counts) == {"new"}
    notice = {**(rows[0]["payload"].get("notice") or {}),
              "ticket": texts.REMIND_MANY_TICKET.format(number=holds[0]["number"], count=total),
              "title": (texts.NEW_MANY_TITLE if only_new else texts.REMIND_MANY_TITLE).format(count=total)}
    outbox.release_all(db, openid, merged_text(holds, counts), notice, now, rows[0]["source"])


def _new_still_waiting(db, openid: str, counts: dict[str, int], rows: list[dict]) -> tuple[dict, list[dict]]:
    """The held new-ticket notices (kind "new": a sweep interval's worth, a few rows) that still say something: the
    ticket still waits for 签收 (签收全部 may have come first) and no reminder of it is in the same push."""
    reminded = {r["payload"]["hold"]["number"] for r in rows if r["payload"]["hold"]["kind"] != "new"}
    new = outbox.held_of_kind(db, openid, "new")
    waiting = tickets.waiting_to_sign(db, [r["payload"]["hold"]["number"] for r in new])
    new = [r for r in new if r["payload"]["hold"]["number"] in waiting - reminded]
    counts = {k: n for k, n in {**counts, "new": len(new)}.items() if n}
    return counts, [r for r in rows if r["payload"]["hold"]["kind"] != "new"] + new[:MERGED_LINES]


def merged_line(hold: dict) -> str:
    """One ticket's line in a merged reminder, under the deadline it shares (deadline_words): its number, and what
    else tells it apart (the unit, for a leader's 超期督办; the words, for a new ticket)."""
    kind = hold["kind"]
    line = texts.REMIND_MANY_LINE_UNIT if kind == "escalate" else texts.REMIND_MANY_LINE_NEW if kind == "new" \
        else texts.REMIND_MANY_LINE
    return line.format(**hold)


def deadline_words(hold: dict) -> str:
    """The deadline a reminder's ticket works to, as its group says it ("签收时限11月17日（周二）："): the 签收 window
    while it waits for 签收 (lifecycle.sign_due, kept in the hold as "sign"), else its 办结 deadline. A new ticket's
    notice held before "sign" was kept has no date (its line has its words instead)."""
    if hold["kind"] in ("accept", "new") and hold.get("sign"):
        return texts.REMIND_MANY_DEADLINE["sign"].format(date=hold["sign"])
    if hold["kind"] == "new" or not hold.get("due"):
        return ""
    return texts.REMIND_MANY_DEADLINE["resolve"].format(date=hold["due"])


def grouped(holds: list[dict], counts: dict[str, int] | None = None, lines: int | None = MERGED_LINES) -> list[dict]:
    """Reminders as both the merged push and the workbench's card say them: a group per kind, the most urgent first,
    {"kind", "head", "dates": [(deadline_words, [hold, …]), …], "more"}; within a kind the tickets stand under the
    deadline they share, in the order given. `lines`: the ticket lines shown (every group at least its two most
    urgent; the rest counted in "more"), None for all. `counts`: as in merged_text."""
    if counts is None:
        counts = {}
        for h in holds:
            counts[h["kind"]] = counts.get(h["kind"], 0) + 1
    out, shown = [], 0
    for kind in URGENCY:
        n = counts.get(kind, 0)
        if not n:
            continue
        group = [h for h in holds if h["kind"] == kind]
        room = len(group) if lines is None else max(lines - shown, 2)
        dates: dict[str, list[dict]] = {}
        for h in group[:room]:
            dates.setdefault(deadline_words(h), []).append(h)
        out.append({"kind": kind, "head": texts.REMIND_MANY_KIND[kind].format(count=n), "dates": list(dates.items()),
                    "more": max(n - room, 0)})
        shown += min(n, room)
    return out


def merged_text(holds: list[dict], counts: dict[str, int] | None = None) -> str:
    """Several reminders as one message: what each group needs, its count, its first tickets under their
    deadlines, and how to act. `counts`: how many of each kind there are, when `holds` has only the first of each
    (outbox.held_top)."""
    groups = grouped(holds, counts)
    kinds = {g["kind"] for g in groups}
    total = sum(counts.values()) if counts is not None else len(holds)
    head = texts.NEW_MANY_HEAD if kinds == {"new"} else texts.REMIND_MANY_HEAD
    lines = [head.format(count=total)]
    for g in groups:
        if kinds != {"new"}:  # (new tickets alone: the head says it)
            lines.append(g["head"])
        for words, hs in g["dates"]:
            lines += ([words] if words else []) + [merged_line(h) for h in hs]
        if g["more"]:
            lines.append(texts.REMIND_MANY_MORE.format(count=g["more"]))
    lines += [foot for wanted, foot in texts.REMIND_MANY_FOOT if kinds & set(wanted)]
    return "\n".join(lines)
