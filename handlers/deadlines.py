"""The deadline watch: one idempotent sweep over the open tickets.

Each reminder is keyed by (ticket, kind, deadline) in SQLite, so a sweep repeated, missed or run after a restart
sends each reminder exactly once; an extension gives a new deadline and so a fresh set. When a missed sweep finds
several reminders due at once (the server was down), each is recorded but only the most urgent is sent.
"""
from __future__ import annotations

from handlers import texts
from handlers.clock import Clock
from handlers.desk import Desk
from handlers.messages import Reply
from handlers.workdays import WorkCalendar
from storage import directory, staff, tickets

# Reminder kinds in rising urgency, with the share of the time limit (in working time) that triggers them.
SHARES = (("half", 0.5), ("eighty", 0.8))
RATING_DAYS = 3  # no rating after this many days: closed as 未评价


class Watch:
    def __init__(self, clock: Clock, calendar: WorkCalendar, desk: Desk):
        self.clock = clock
        self.calendar = calendar
        self.desk = desk

    def sweep(self, db) -> list[Reply]:
        """Runs in one transaction; returns the pushes (every one has `to`)."""
        now = self.clock.now()
        out: list[Reply] = []
        for ticket in tickets.watched(db):
            out += self._ticket(db, ticket, now)
        for ticket in tickets.awaiting_rating(db):
            if ticket["resolved_at"] and now - ticket["resolved_at"] >= RATING_DAYS * 86400:
                tickets.transition(db, ticket, "closed", "system", now, "close", "未评价",
                                   closed_at=now, close_reason="unrated")
        return out

    def _ticket(self, db, ticket: dict, now: float) -> list[Reply]:
        due = ticket["due_at"]
        start = ticket["dispatched_at"] or ticket["created_at"]
        fired: list[str] = []
        if ticket["state"] == "assigned" and ticket["accept_due_at"] and now >= ticket["accept_due_at"]:
            if tickets.remind_once(db, ticket["id"], "accept", ticket["accept_due_at"], now):
                fired.append("accept")
        total = self.calendar.working_seconds(start, due)
        share = self.calendar.working_seconds(start, now) / total if total else 1.0
        levels = [kind for kind, at in SHARES if share >= at]
        if now >= due:
            levels.append("urge")
        if now >= self.calendar.due(due, 1):
            levels.append("escalate")
        fired += [kind for kind in levels if tickets.remind_once(db, ticket["id"], kind, due, now)]
        if not fired:
            return []
        return self._messages(db, ticket, fired[-1])  # the most urgent of what is due now

    def _messages(self, db, ticket: dict, kind: str) -> list[Reply]:
        unit = directory.get(db, ticket["unit_code"]) or {"name": ticket["unit_code"], "code": ticket["unit_code"]}
        fields = {"number": ticket["number"], "due": self.calendar.date_text(ticket["due_at"]), "unit": unit["name"]}
        text = texts.REMIND[kind].format(**fields)
        if kind == "escalate":
            return [self.desk.to_staff(o, text, ticket, "留言超期") for o in staff.leaders(db)]
        handlers = self.desk.handlers_of(db, ticket)  # always someone bound now
        out = [self.desk.to_staff(o, text, ticket, "办理提醒") for o in handlers]
        if kind in ("urge", "accept"):  # 催办 goes with a copy to the unit's supervisor
            copy = texts.URGE_COPY.format(**fields) if kind == "urge" else text
            out += [self.desk.to_staff(o, copy, ticket, "催办抄送")
                    for o in staff.of_unit(db, unit["code"], ("supervisor",)) if o not in handlers]
        return out
