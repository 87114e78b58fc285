"""Tickets after submission: who is told, and every staff action (签收, 回复, 办结, 退回, 转派, 延期 and its
decision, 督办/催办, internal notes) as ONE function that checks who may do it (MAY, and the ticket's scope) and
whether the ticket's state allows it (storage/lifecycle.py). The command table (handlers/commands.py) calls these;
a web workbench calls the same ones.

Every function runs inside the inbound's transaction (see Dispatcher.handle_tx) and returns the replies: the
first goes back to the sender, the rest are pushed through the outbox in the same commit as the change. Anything
sent to staff passes through `for_staff`, which neutralises markup a citizen may have typed.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from typing import Any

from handlers import names, privacy, texts
from handlers.clock import Clock
from handlers.intake import mask_phone
from handlers.messages import INVISIBLE, Reply
from handlers.vocabulary import DUTY, NEVER_TO_SCHOOL, STAFF_ROLES, SUPERVISORS, URGENT, WIDE_ROLES
from handlers.workdays import WorkCalendar
from storage import conversations, directory, lifecycle, staff, tickets, users, websessions

TODO_TTL = 12 * 3600  # how long "详情 2" refers to the 2nd line of the last 待办 list
TODO_PAGE = 10        # lines per 待办 message: readable on a phone, well under the 2048-byte reply limit
OVERDUE_UNITS = 10   # units listed in 超期, the most overdue first; the rest counted in one line
OVERDUE_PER_UNIT = 5  # tickets listed under each, the longest overdue first; the rest counted
PRESSING_UNITS = 5    # units named in 今天有什么紧急的吗's overdue line, the most overdue first
TODO_MAX = 99         # numbered lines kept for 详情 N (the list is sorted, so these are the most pressing)
DETAIL_CHARS = 600    # characters of the text per 详情 page: one page fits one WeChat message (2,048 bytes)

class Allowed(frozenset):
    """The roles that may take an action, carrying the action's name: the command table uses these as its `who`,
    so the help, the command check and the desk's own check all ask `permitted` (one rule, no drift)."""

    action: str

    def __new__(cls, action: str, roles: frozenset[str]) -> "Allowed":
        obj = super().__new__(cls, roles)
        obj.action = action
        return obj


# Who may take each action (roles; DUTY: members of the duty office), besides being in the ticket's scope.
MAY: dict[str, Allowed] = {action: Allowed(action, roles) for action, roles in {
    "detail": STAFF_ROLES, "accept": STAFF_ROLES, "reply": STAFF_ROLES, "resolve": STAFF_ROLES,
    "bounce": STAFF_ROLES, "transfer": SUPERVISORS | {DUTY}, "extension_request": STAFF_ROLES,
    "extension_decide": SUPERVISORS, "supervise": WIDE_ROLES, "urge": SUPERVISORS, "note": STAFF_ROLES,
}.items()}
# What staff bound at a school or kindergarten may not do whatever their role (audit4): a school does not choose
# where its own ticket goes (a rival school, the district, with a fresh deadline): it 退回s it, and that counts.
NOT_AT_SCHOOLS = frozenset({"transfer"})


def not_at_school(action: str, number: str | None) -> str:
    return texts.NOT_AT_SCHOOL[action].format(what=f"留言 {number}" if number else "留言", number=number or "编号")


def permitted(user: dict, action: str, duty_office: str, at_school: bool = False) -> bool:
    """Whether `user` may take `action` at all (the ticket's scope and state aside). `at_school`: bound at a school
    or kindergarten (Desk.at_school)."""
    role = user.get("role")
    if at_school and action in NOT_AT_SCHOOLS and role not in WIDE_ROLES:
        return False
    roles = MAY[action]
    return role in roles or (DUTY in roles and role in STAFF_ROLES and user.get("unit_code") == duty_office)
# What each action is called in the answers (and in the command table).
VERBS = {"detail": "查看", "accept": "签收", "reply": "回复", "resolve": "办结", "bounce": "退回", "transfer": "转派",
         "extension_request": "延期", "extension_decide": "审批延期", "supervise": "督办", "urge": "催办",
         "note": "备注"}


# An answer the citizen reads (回复, 办结's 办理结果) says something: at least this many letters, digits or Chinese
# characters. "。" or "1" closed a ticket before, and a closed ticket nobody rated counts as resolved in time.
MIN_ANSWER_CHARS = 3


def says_something(text: str) -> bool:
    return sum(ch.isalnum() for ch in unicodedata.normalize("NFKC", text)) >= MIN_ANSWER_CHARS


def urgent(ticket: dict) -> bool:
    """A matter of someone's safety as the router judged it (a praise never is): said first to staff everywhere,
    with the short deadline and the copy to the supervisors (Dispatcher.plan)."""
    return ticket["kind"] != "praise" and bool((ticket.get("routing") or {}).get("urgent"))


def kind_name(ticket: dict, lang: str | None = None) -> str:
    """The ticket's kind as every surface names it (texts.kind_name: an urgent complaint is 紧急求助)."""
    return texts.kind_name(ticket["kind"], urgent(ticket), lang)


def for_staff(text: str) -> str:
    """Citizen text can carry markup (<a href=…>) that WeChat would render in a staff member's chat: shown as
    plain characters instead; a phone number in it masked as contact_phone is (privacy.numbers_masked)."""
    return privacy.numbers_masked(text.replace("<", "＜").replace(">", "＞"))


# A unit told of a new ticket this recently: the next ones' WeChat pushes are held (storage.outbox `hold`) and go
# with the deadline sweep's gather, merged into one push per person (forty tickets of a morning: not forty pushes).
# An urgent ticket is never held.
NEW_MERGE_SECONDS = 300
SIGN_ALL_FROM = 3  # this many of a unit's tickets waiting for 签收: each new notice says how to sign them at once


class Desk:
    def __init__(self, clock: Clock, calendar: WorkCalendar, duty_office: str, accept_days: int = 1,
                 days: dict[str, int] | None = None, restart_on_transfer: bool = True,
                 bind_limits: tuple[int, int] = (5, 50), oversight_office: str = ""):
        self.accept_days = accept_days
        self.bind_limits = bind_limits
        self.clock = clock
        self.calendar = calendar
        self.duty_office = duty_office
        self.oversight_office = oversight_office  # routing.oversight_office ("": the leaders take its part)
        self.days = days or {}
        self.restart_on_transfer = restart_on_transfer
        self.web_links = None  # handlers.messages.WebLinks, set by the Dispatcher (None: no web pages)
        self.conduct = None    # text -> bool: the words raise 师德 (the Dispatcher's router); None: never asked
        self.accuses = None    # text -> bool: the words accuse a teacher or head once praised virtues are set aside

    # -- who may hold a ticket: one rule for routing (Dispatcher.plan), 转派, 退回 and the review ---------------
    def leaders_unit(self, db) -> str:
        """The bureau's own unit, where its leaders are: the duty office's parent (the directory's bureau)."""
        duty = directory.get(db, self.duty_office) or {}
        return duty.get("parent") or self.duty_office

    def oversight(self, db, accused: tuple[str, ...] | list[str] = ()) -> str:
        """Who receives a complaint about the bureau itself (privacy.about_bureau) naming the offices `accused`:
        the first of Desk.holders. Never the duty office, which it may accuse: a complaint about the bureau
        never becomes 代收 (the duty office reads every 代收)."""
        return self.holders(db, {"kind": "complaint",
                                 "routing": {privacy.ABOUT_BUREAU: True, privacy.ACCUSED: list(accused)}})[0]

    def own_people(self, db, unit_code: str) -> list[str]:
        """Who acts for a unit by being bound there: its handlers, else its supervisor; for the bureau's own unit,
        else its leaders. No stand-in (Desk.recipients adds those)."""
        own = staff.of_unit(db, unit_code, ("handler",)) or staff.of_unit(db, unit_code, ("supervisor",))
        if not own and unit_code == self.leaders_unit(db):  # the bureau's own unit: its leaders act for it
            own = staff.leaders(db)
        return own

    def holders(self, db, ticket: dict) -> list[str]:
        """The units that may hold a complaint about the bureau, in the order the bureau trusts them: the
        oversight office (routing.oversight_office), then the leaders' unit; never an office it names, and never
        a unit where nobody is bound to act on it while the other has someone (it would sit with nobody, or go
        to the duty office's 代收). With nobody at either, the leaders' unit alone: the admins are warned
        (Desk.recipients) and may act, as leaders and admins may on any ticket."""
        leaders, accused = self.leaders_unit(db), privacy.accused(ticket)
        places = [c for c in dict.fromkeys((self.oversight_office, leaders)) if c and c not in accused]
        return [c for c in places if self.own_people(db, c)] or [leaders]

    def keeper(self, db, ticket: dict, leaving: str | None = None) -> str:
        """Where a complaint about the bureau goes when it leaves `leaving` (退回, the second 不满意, its holder
        left with nobody, start-up's Desk.rehome): the first holder other than `leaving`; else `leaving` itself
        while it may still hold it (nobody else may: a 退回 is refused, a review stays); else the first holder."""
        held = self.holders(db, ticket)
        return next((c for c in held if c != leaving), leaving if leaving in held else held[0])

    def home(self, db, ticket: dict) -> str:
        """Where the bureau takes a ticket back (退回, the second 不满意): the duty office; a complaint about the
        bureau, Desk.keeper (the oversight office, or the leaders when it comes back from there)."""
        if not privacy.about_bureau(ticket):
            return self.duty_office
        return self.keeper(db, ticket, ticket["unit_code"])

    def barred(self, db, ticket: dict, unit: dict | None) -> str | None:
        """Why `unit` may never hold `ticket` (the refusal's text, to format with number and unit), or None: a
        school never holds 师德 or what its writer kept from it (privacy.school_barred); a complaint about the
        bureau is held only by Desk.holders: the oversight office or the leaders, never an office it may accuse,
        never where nobody may act on it."""
        if privacy.school_barred(ticket, unit):
            return (texts.TRANSFER_NOT_SCHOOL if privacy.involves_conduct(ticket["category"], ticket.get("routing"))
                    else texts.TRANSFER_ANONYMOUS_NOT_SCHOOL)
        if unit is not None and privacy.about_bureau(ticket) and unit["code"] not in self.holders(db, ticket):
            if unit["code"] in (self.oversight_office, self.leaders_unit(db)) and \
                    unit["code"] not in privacy.accused(ticket):
                return texts.TRANSFER_ABOUT_BUREAU_NOBODY
            return texts.TRANSFER_ABOUT_BUREAU
        return None

    def handover(self, db, ticket: dict, to: str, fresh: bool = False) -> tuple[dict, bool]:
        """The fields every hand-over to the unit `to` writes (转派, a school's ticket to the bureau, start-up's
        Desk.rehome, a holder left with nobody), by one rule: the unit's own 签收 window from now; a unit that gets
        the ticket back gets back the deadline it had there and a 签收 window it let lapse
        (storage.tickets.deadline_held: a round trip is no new clock); else, `fresh` (a 转派), a new deadline
        from now; else the ticket's deadline as it is (a move the unit did not ask for keeps the citizen's date).
        With transfer.restart_clock off no clock restarts, so the deadline stays. Returns (fields, held)."""
        now = self.clock.now()
        fields: dict[str, Any] = dict(unit_code=to, unattended=0, accepted_by=None, accepted_at=None,
                                      accept_due_at=self.calendar.due(now, self.accept_days))
        held, kept_due, lapsed, dispatched = tickets.deadline_held(db, ticket, to)
        if lapsed:
            fields.update(accept_due_at=lapsed)
        if self.restart_on_transfer and held:
            # and its own 派发 back: its 响应 case counts once, in the period it was dispatched to it (not in the
            # period of another unit's later dispatch); the lateness noted when it left is then that same case
            # (handlers.rates.compute)
            fields.update(due_at=kept_due, **({"dispatched_at": dispatched} if dispatched else {}))
        elif self.restart_on_transfer and fresh:
            fields.update(due_at=self.calendar.due(now, self._days(ticket)), dispatched_at=now)
        return fields, held

    def rehome(self, db) -> list[Reply]:
        """Complaints about the bureau still open at a unit Desk.barred forbids (filed with the duty office
        before routing.oversight_office existed; at the leaders' unit with no leader bound while the oversight
        office has someone): sent on to Desk.keeper as a 转派 would (Desk.handover); the citizen is told who
        handles it now. And those code before audit14 left 代收 (the duty office standing in, which it may not):
        that 代收 ends by the rule that ends any (Desk._end_stand_in). Run at start-up; a second run does nothing."""
        out, now = [], self.clock.now()
        for unit in directory.all_units(db):
            if unit["kind"] not in ("office", "bureau"):  # no school ever held one: the plan names an office
                continue
            for t in tickets.about_bureau_at(db, unit["code"]):
                if t["unattended"]:  # 代收 by the duty office, as code before audit14 wrote: never a stand-in's
                    t = self._end_stand_in(db, t, set(self.own_people(db, unit["code"])), texts.ABOUT_BUREAU_HOME_NOTE)
                to = directory.get(db, self.keeper(db, t, unit["code"]))
                if to is None or to["code"] == unit["code"] or not self.barred(db, t, unit):
                    continue
                fields, _ = self.handover(db, t, to["code"])
                before = t
                t = tickets.transition(db, t, "assigned", "system", now, "transfer",
                                       texts.TRANSFER_NOTE.format(unit=to["name"], reason="：" + texts.WHY_ABOUT_BUREAU),
                                       **fields)
                out += self.moved_away(db, before, t, to)
                out += self.dispatch_notices(db, t, texts.WHY_ABOUT_BUREAU)
                out += self.tell_citizen(db, t, "留言已转办", "CITIZEN_TRANSFERRED", unit=self.holder_name(to))
        return out

    def holder_name(self, unit: dict) -> str:
        """A unit as the citizen and staff are told it holds a ticket: the bureau's own unit is its leaders."""
        return unit["name"] + ("领导" if unit["kind"] == "bureau" else "")

    def unattended_about_bureau(self, db) -> int:
        """Open complaints about the bureau nobody bound may act on (no leader, no one at the oversight office):
        said on the admin page and at start-up, so an admin binds someone (the leaders' unit's open range)."""
        leaders = self.leaders_unit(db)
        return 0 if self.own_people(db, leaders) else len(tickets.about_bureau_at(db, leaders))

    # -- who is told ------------------------------------------------------------------------------------------
    def dispatch_notices(self, db, ticket: dict[str, Any], why: str = "") -> list[Reply]:
        """Tell the people who must act, and why the ticket comes to them. A unit with nobody bound yet: the
        duty office, then the leaders; the ticket is marked unattended (代收) so it never sits with nobody."""
        unit = directory.get(db, ticket["unit_code"]) or {"code": ticket["unit_code"], "name": "未定"}
        recipients, stand_in = self.recipients(db, unit["code"], ticket)
        prefix = ""
        if privacy.about_bureau(ticket) and not self.own_people(db, unit["code"]):
            prefix = texts.NOBODY_FOR_BUREAU_PREFIX  # the admins: nobody else may act on it yet
        if stand_in:
            ticket = self._stand_in(db, ticket, unit, recipients, stand_in)
            prefix = texts.UNATTENDED_PREFIX.format(unit=unit["name"])
        head = texts.URGENT_FIRST if urgent(ticket) else ""  # before anything else, on the lock screen too
        text = head + prefix + (why + "\n" if why else "") + self._new_ticket_text(db, ticket)
        waiting = tickets.count_to_sign(db, unit["code"]) if not stand_in else 0
        if waiting >= SIGN_ALL_FROM:  # the fortieth notice of a morning: how to sign them all in one message
            text += "\n" + texts.NEW_TICKET_MANY.format(n=waiting)
        title = texts.URGENT_NEW_TITLE if head else "新留言待签收"
        out = [self.to_staff(o, text, ticket, title) for o in recipients]
        if head or stand_in or not tickets.told_since(db, unit["code"], self.clock.now() - NEW_MERGE_SECONDS,
                                                      ticket["id"]):
            return out
        sign = lifecycle.sign_due(ticket)
        hold = {"kind": "new", "at": sign or ticket["due_at"], "number": ticket["number"], "due": self._due(ticket),
                "unit": unit["name"], "excerpt": texts.excerpt(ticket["text"], 20),
                **({"sign": self.calendar.date_text(sign)} if sign else {})}
        return [Reply(r.text, r.to, {**r.extra, "hold": hold}) for r in out]

    def _stand_in(self, db, ticket: dict, unit: dict, recipients: list[str], stand_in: str) -> dict:
        """Mark `ticket` 代收: the unit holding it has nobody bound, and `recipients` act for it (in_scope)."""
        if not lifecycle.allowed("unattended", ticket["state"]):
            return ticket
        note = texts.UNATTENDED_NOTE.format(unit=unit["name"], to=stand_in)
        # the work still to do is the stand-in's 代收, in neither its rates nor the absent unit's (m059); a part let
        # lapse already stays whose it was when it lapsed (Desk._credit's rule): staff leaving shed no lateness
        by = tickets.stand_in_for(self.stand_in_unit(db, recipients))
        now = self.clock.now()

        def takes(done: float | None, window: float | None) -> bool:
            return done is None and not (window and now > window)
        # (a 办结 part a bouncer keeps, Desk.bounce, stays the bouncer's: it is no part of the holder's to take)
        fields = {"unattended": 1,
                  "response_unit": by if takes(ticket["accepted_at"], ticket["accept_due_at"])
                  else ticket.get("response_unit"),
                  "resolve_unit": by if takes(ticket["resolved_at"], ticket["due_at"]) and not ticket.get("resolve_unit")
                  else ticket.get("resolve_unit")}
        fields["stood_in"] = tickets.stood_in({**ticket, **fields})
        return tickets.transition(db, ticket, ticket["state"], "system", self.clock.now(), "unattended", note,
                                  **fields)

    def left_empty(self, db, unit_code: str | None, name: str, role: str | None = None) -> tuple[list[Reply], set[str]]:
        """`name` left `unit_code`: if nobody is bound there now, its open tickets are the stand-in's (代收) as a
        new one's would be (dispatch_notices), so none sits where nobody may act on it; the stand-in is told
        once; complaints about the bureau go to Desk.keeper, never 代收 (Desk._rehold). Returns (the notice,
        the numbers handed over). `role`: they are still bound, with this role now (Desk.change_role)."""
        unit = directory.get(db, unit_code) if unit_code else None
        if unit is None:
            return [], set()
        left = texts.LEFT_ROLE.format(name=name, unit=unit["name"], role=texts.ROLE_NAMES[role]) if role else \
            texts.LEFT_UNBOUND.format(name=name, unit=unit["name"])
        out = self._rehold(db, unit, left)
        recipients, stand_in = self.recipients(db, unit_code)
        if not stand_in or not recipients:
            return out, set()
        held = tickets.held_by(db, unit_code)
        moved = [self._stand_in(db, t, unit, recipients, stand_in) for t in held if not privacy.about_bureau(t)]
        moved = [t for t in moved if t.get("unattended")]
        if unit_code == self.duty_office:  # those it stood in for are the leaders' now (recipients), told too
            moved += tickets.unattended_open(db)
        if not moved:
            return out, set()
        numbers = [t["number"] for t in moved]
        text = texts.LEFT_EMPTY_NOTICE.format(left=left, count=len(numbers),
                                              numbers="、".join(numbers[:10]) + ("等" if len(numbers) > 10 else ""))
        return out + [self.to_staff(o, text, moved[0], "留言转代收") for o in recipients], set(numbers)

    def _rehold(self, db, unit: dict, left: str) -> list[Reply]:
        """Complaints about the bureau at a holder now left with nobody (the oversight office, the leaders' unit):
        to Desk.keeper as a hand-over (Desk.handover), its people told; with nobody anywhere they stay, and the
        admins are told (Desk.recipients). Never 代收 by the duty office, which they may accuse (Desk.barred)."""
        if unit["code"] not in (self.oversight_office, self.leaders_unit(db)) or self.own_people(db, unit["code"]):
            return []
        now, out = self.clock.now(), []
        for t in tickets.about_bureau_at(db, unit["code"]):
            to = directory.get(db, self.keeper(db, t, unit["code"]))
            if to is not None and to["code"] != unit["code"]:
                fields, _ = self.handover(db, t, to["code"])
                t = tickets.transition(db, t, "assigned", "system", now, "transfer",
                                       texts.TO_KEEPER_NOTE.format(unit=unit["name"], to=self.holder_name(to)),
                                       **fields)
            people = self.own_people(db, t["unit_code"])
            if people:
                text = texts.TO_KEEPER_NOTICE.format(left=left, number=t["number"], to=self.holder_name(to))
                out += [self.to_staff(o, text, t, "留言转办") for o in people]
            else:  # nobody anywhere: the admins (Desk.recipients)
                text = texts.NOBODY_FOR_BUREAU_NOTICE.format(left=left, number=t["number"])
                out += [self.to_staff(o, text, t, "投诉暂无人办理") for o in self.warned_admins(db, t)]
        return out

    def recipients(self, db, unit_code: str, ticket: dict | None = None) -> tuple[list[str], str | None]:
        """Who acts for a unit: its handlers, else its supervisor; with nobody bound, the duty office, then the
        leaders, then the admins (Desk.stand_in). The second value names the stand-in when the unit itself has
        nobody (None: nobody anywhere). For a complaint about the bureau (`ticket`) there is no stand-in, the duty
        office may be the one accused: with nobody at its holder (Desk.holders found nobody anywhere), the admins
        not bound at an office it may accuse, warned."""
        own = self.own_people(db, unit_code)
        if own:
            return own, None
        if ticket is not None and privacy.about_bureau(ticket):
            return self.warned_admins(db, ticket), None
        return self.stand_in(db, unit_code)

    def stand_in(self, db, unit_code: str | None = None) -> tuple[list[str], str | None]:
        """Who holds as 代收 the tickets of `unit_code` (None: any unit but the duty office) while nobody is bound
        there, and its name: the duty office, then the leaders, then the admins. Nobody bound of these: ([], None),
        and the ticket waits, nobody's 代收, for the first who binds (Desk.take_strays) -- else it was marked the
        duty office's 代收 with nobody there, and the first to bind never heard of it."""
        duty = staff.of_unit(db, self.duty_office) if unit_code != self.duty_office else []
        if duty:
            unit = directory.get(db, self.duty_office)
            return duty, unit["name"] if unit else "值班室"
        # the last who may act on any ticket: the leaders; with none bound, the admins (a leader unbound or moved)
        leaders = staff.leaders(db)
        if leaders:
            return leaders, "局领导"
        admins = staff.of_role(db, "admin")
        return (admins, texts.ROLE_NAMES["admin"]) if admins else ([], None)

    def stand_in_words(self, db, unit_code: str | None = None) -> str:
        """Who holds a unit's tickets with nobody bound there, as the pages say it (Desk.stand_in: the one source)."""
        name = self.stand_in(db, unit_code)[1]
        return texts.STAND_IN_BY.format(to=name) if name else texts.STAND_IN_NOBODY

    def warned_admins(self, db, ticket: dict) -> list[str]:
        """The admins told that a complaint about the bureau has nobody bound to act on it: they may act on any
        ticket and can bind a leader; never one bound at an office it names or at the duty office."""
        kept_from = {*privacy.accused(ticket), self.duty_office}
        return [o for o in staff.of_role(db, "admin") if (users.get(db, o) or {}).get("unit_code") not in kept_from]

    def escalation_to(self, db, ticket: dict) -> list[str]:
        """Who an overdue ticket is escalated to (超期督办): the leaders; with none bound, the people of the unit the
        bureau takes it back to (Desk.home: the duty office; for a complaint about the bureau, Desk.keeper, never
        an office it may accuse), else whoever acts for it now, so an escalation is never sent to nobody."""
        home = self.home(db, ticket)
        return (staff.leaders(db) or staff.of_unit(db, home) or self.recipients(db, home, ticket)[0]
                or self.handlers_of(db, ticket))

    def stand_in_unit(self, db, recipients: list[str]) -> str:
        """The unit a stand-in's work counts for: the duty office, or the unit of the leaders told instead."""
        if recipients and set(recipients) <= set(staff.of_unit(db, self.duty_office)):
            return self.duty_office
        leader = users.get(db, recipients[0]) if recipients else None
        return (leader or {}).get("unit_code") or self.duty_office

    def nobody_on_duty(self, db, ticket: dict) -> bool:
        """Nobody bound may act on `ticket` now (handlers_of finds nobody): the one rule by which the citizen is
        promised no deadline -- before submitting (the summary, 多久能处理; `ticket` then a plan's unit, kind and
        routing), at filing, at the watch's first reminder and on their web page."""
        return not self.handlers_of(db, ticket)

    def waiting_told(self, db, ticket: dict, push: bool) -> list[Reply]:
        """The citizen hears once a spell that nobody bound may act on their ticket, with no deadline promised: at
        filing the reply says it itself (`push` False: only recorded), else the first reminder that reaches nobody
        (Watch._unheard) pushes CITIZEN_WAITING. Recorded as a reminder (tickets.WAITING_TOLD), so not twice in a
        spell; a push from someone on duty since (tell_citizen: 已受理，将于…前办结) ends the spell, and when all
        are gone again the parent, who was promised a date, is told again that it waits (audit27)."""
        if not tickets.remind_once(db, ticket["id"], tickets.WAITING_TOLD, 0.0, self.clock.now()) or not push:
            return []
        return self.tell_citizen(db, ticket, "留言等待办理", "CITIZEN_WAITING")

    def citizen_due(self, db, ticket: dict) -> tuple[float | None, bool]:
        """The deadline a ticket's writer is told, the one rule for every view of theirs (查询, their list, their web
        page, a push and its template's fields, the replies that name it): (due_at, False) while it runs (open as
        they see it) and someone bound may act on it; (None, True) while nobody may (nobody_on_duty: no deadline
        is promised, ON_DUTY_NONE is said instead); (None, False) when none runs."""
        if not ticket.get("due_at") or privacy.citizen_state(ticket) not in lifecycle.OPEN:
            return None, False
        if self.nobody_on_duty(db, ticket):
            return None, True
        return ticket["due_at"], False

    def citizen_says(self, db, ticket: dict, name: str, lang: str | None, told: tuple | None = None,
                     **fields) -> str:
        """The text called `name`, for the ticket's writer, with its deadline as citizen_due tells it (`told`: its
        answer, if asked already): a text that names {due} is said by its twin `name`_WAITING while nobody is on
        duty, and not at all ('') when no deadline runs; the date as the person reads dates (`lang`)."""
        text = texts.pick(name, lang)
        if "{due}" in text:
            due, waits = told or self.citizen_due(db, ticket)
            if waits:
                text = texts.pick(name + "_WAITING", lang)
            elif due is None:
                return ""
            else:
                fields = {"due": self.calendar.date_text(due, lang), **fields}
        return text.format(**{"number": ticket["number"], **fields})

    def handlers_of(self, db, ticket: dict) -> list[str]:
        """Who hears the citizen's words about a ticket: always someone bound now. The person who 签收ed it while
        they may still act on it (in_scope: their unit's, a supervisor's above it, a leader's, the duty office's
        only while it stands in), else whoever acts for the unit. (audit27: a district supervisor who signed a
        school's ticket was passed over, so with no stand-in bound the citizen was told nobody was on duty.)"""
        acceptor = ticket.get("accepted_by")
        if acceptor and self.in_scope(db, users.get(db, acceptor) or {}, ticket):
            return [acceptor]
        return self.recipients(db, ticket["unit_code"], ticket)[0]

    def _new_ticket_text(self, db, ticket: dict[str, Any]) -> str:
        school = directory.get(db, ticket["school_code"])
        return texts.NEW_TICKET.format(
            number=ticket["number"], kind=kind_name(ticket),
            category=texts.CATEGORY_NAMES.get(ticket["category"], ticket["category"]),
            school_line=f"学校：{school['name']}\n" if school else "", excerpt=texts.excerpt(ticket["text"], 60),
            sign_line=self.sign_line(ticket), due=self._due(ticket)) + self.writes_english(db, ticket)

    def sign_line(self, ticket: dict) -> str:
        """A ticket waiting for 签收: its window and what missing it does (lifecycle.sign_due); else ''."""
        sign = lifecycle.sign_due(ticket)
        if sign is None:
            return ""
        words = texts.SIGN_BY_PROXY if ticket.get("unattended") else texts.SIGN_BY
        return words.format(sign=self.calendar.date_text(sign))

    def writes_english(self, db, ticket: dict) -> str:
        """The line telling staff to answer in English, under every notice that carries the citizen's own words
        (a new ticket, a reply, an addition, a 不满意 comment) when the citizen writes English; else ''."""
        return "\n" + texts.WRITES_ENGLISH if users.lang(db, ticket["openid"]) == "en" else ""

    # -- permission and state: one check for every action -----------------------------------------------------
    def in_scope(self, db, user: dict, ticket: dict) -> bool:
        """THE rule for who may see and act on a ticket (every action, who hears the citizen, the pages): someone
        bound as staff (a former member is a citizen again, whatever unit a row still names), on their unit's
        tickets; a supervisor's also the units under theirs; the duty office's also every unattended one (it was
        told to act on them); leaders' all."""
        if user.get("role") not in STAFF_ROLES:
            return False
        if user.get("role") in WIDE_ROLES or user.get("unit_code") == ticket["unit_code"]:
            return True
        if user.get("unit_code") == self.duty_office and ticket.get("unattended") and not privacy.about_bureau(ticket):
            return True
        unit = directory.get(db, ticket["unit_code"])
        return user.get("role") == "supervisor" and unit is not None and unit["parent"] == user.get("unit_code")

    def may(self, db, user: dict, action: str) -> bool:
        return permitted(user, action, self.duty_office, self.at_school(db, user))

    def refuse(self, db, user: dict, ticket: dict, action: str, state_action: str | None = None) -> Reply | None:
        """Why `user` may not take `action` on `ticket` now, or None. `state_action` names the lifecycle action
        to check when it differs (回复 on an unsigned ticket signs it first)."""
        if not permitted(user, action, self.duty_office):
            return Reply(texts.ROLE_REFUSED.format(verb=VERBS[action]))
        if not self.in_scope(db, user, ticket):
            return Reply(texts.NOT_YOURS.format(number=ticket["number"]))
        if not self.may(db, user, action):  # NOT_AT_SCHOOLS
            return Reply(not_at_school(action, ticket["number"]))
        checks = [state_action or action] if action != "detail" else []
        if action in ("reply", "resolve"):
            checks = [action, "accept"]
        if action == "extension_decide":
            checks = ["extension_approved"]
        if checks and not any(lifecycle.allowed(a, ticket["state"]) for a in checks):
            return Reply(texts.WRONG_STATE.format(number=ticket["number"], state=texts.STAFF_STATE_NAMES[ticket["state"]],
                                                  verb=VERBS[action]))
        return None

    def at_school(self, db, user: dict) -> bool:
        """Bound at a school or kindergarten (not a leader or admin, who may be bound anywhere)."""
        if user.get("role") in WIDE_ROLES or not user.get("unit_code"):
            return False
        return (directory.get(db, user["unit_code"]) or {}).get("kind") in privacy.SCHOOL_KINDS

    # -- the actions ----------------------------------------------------------------------------------------
    def accept(self, db, user: dict, ticket: dict) -> list[Reply]:
        if ticket["state"] == "accepted":
            return [Reply(texts.ALREADY_ACCEPTED.format(number=ticket["number"]))]
        refused = self.refuse(db, user, ticket, "accept")
        if refused:
            return [refused]
        on_behalf = user.get("unit_code") != ticket["unit_code"] and ticket.get("unattended")
        ticket = self._mark_accepted(db, user, ticket)
        ok = texts.ACCEPTED_OK.format(number=ticket["number"], due=self._due(ticket))
        if on_behalf:
            ok += "\n" + texts.ACCEPTED_ON_BEHALF
        if ticket["kind"] == "praise":  # the conduct part of praise: the bureau's own check, nothing to tell
            return [Reply(ok)]
        return [Reply(ok), *self._citizen_accepted(db, ticket)]

    def reply(self, db, user: dict, ticket: dict, text: str) -> list[Reply]:
        refused = self.refuse(db, user, ticket, "reply")
        if refused:
            return [refused]
        if not says_something(text):
            return [Reply(texts.ANSWER_TOO_SHORT.format(verb=VERBS["reply"], number=ticket["number"]))]
        if ticket.get("citizen_withdrew_at"):  # nothing reaches them any more: the check is closed with a note
            return [Reply(texts.REPLY_WITHDRAWN.format(number=ticket["number"]))]
        if lifecycle.allowed("accept", ticket["state"]):
            ticket = self._mark_accepted(db, user, ticket)
        ticket = tickets.transition(db, ticket, "replied", user["openid"], self.clock.now(), "reply", text)
        unit = directory.get(db, ticket["unit_code"])
        return [Reply(texts.REPLIED_OK.format(number=ticket["number"])),
                *self.tell_citizen(db, ticket, "留言有新答复", "CITIZEN_STAFF_REPLY",
                                  unit=unit["name"] if unit else "承办单位", text=text)]

    def resolve(self, db, user: dict, ticket: dict, text: str) -> list[Reply]:
        refused = self.refuse(db, user, ticket, "resolve")
        if refused:
            return [refused]
        if not says_something(text):
            return [Reply(texts.ANSWER_TOO_SHORT.format(verb=VERBS["resolve"], number=ticket["number"]))]
        if lifecycle.allowed("accept", ticket["state"]):
            ticket = self._mark_accepted(db, user, ticket)
        now = self.clock.now()
        ticket = tickets.transition(db, ticket, "resolved", user["openid"], now, "resolve", text,
                                    resolution=text, resolved_at=now, **self._credit(user, ticket, "resolve_unit"))
        if ticket["kind"] == "praise" or ticket.get("citizen_withdrew_at"):
            # the conduct part of praise, or a check the citizen's withdrawal did not end: closed with the note,
            # the citizen not chased for a rating
            note = texts.PRAISE_CHECKED_NOTE if ticket["kind"] == "praise" else texts.WITHDRAWN_CHECKED_NOTE
            tickets.transition(db, ticket, "closed", user["openid"], now, "close", note,
                               closed_at=now, close_reason="checked")
            done = texts.PRAISE_CHECKED_OK if ticket["kind"] == "praise" else texts.WITHDRAWN_CHECKED_OK
            return [Reply(done.format(number=ticket["number"]))]
        return [Reply(texts.RESOLVED_OK.format(number=ticket["number"])),
                *self.tell_citizen(db, ticket, "留言已办结", "CITIZEN_RESOLVED", "RATE_ASK", text=text)]

    def bounce(self, db, user: dict, ticket: dict, reason: str) -> list[Reply]:
        if ticket["unit_code"] == self.duty_office or (ticket.get("unattended") and
                                                       user.get("unit_code") == self.duty_office):
            return [Reply(texts.DUTY_CANNOT_BOUNCE.format(number=ticket["number"]))]
        refused = self.refuse(db, user, ticket, "bounce")
        if refused:
            return [refused]
        bounces = ticket["bounces"] + 1
        from_unit = directory.get(db, ticket["unit_code"])
        now = self.clock.now()
        # the duty office gets its own 签收 window; the unit that let the first one lapse keeps that miss (m029)
        accept_due = self.calendar.due(now, self.accept_days)
        # A deadline passed already, or falling inside that window, stays the bouncer's (the 办结 part counts for it
        # until the ticket is sent on): bounced an hour before it, or after it, the lateness would land on the duty
        # office; sent back, the school's own late ticket, counted once (rates.compute)
        keeps = bool(ticket["due_at"]) and ticket["due_at"] <= accept_due
        home = self.home(db, ticket)  # the duty office; for a complaint about the bureau, never it (Desk.barred)
        if home == ticket["unit_code"]:  # a complaint about the bureau nobody else may hold: it would sit nowhere
            return [Reply(texts.BOUNCE_ABOUT_BUREAU_NOBODY.format(number=ticket["number"]))]
        ticket = tickets.transition(db, ticket, "bounced", user["openid"], now, "bounce", reason,
                                    unit_code=home, bounces=bounces, arbitration=int(bounces >= 2),
                                    accepted_by=None, accepted_at=None, unattended=0, accept_due_at=accept_due,
                                    resolve_unit=tickets.credit(ticket)[1] if keeps else None)
        recipients, stand_in = self.recipients(db, home, ticket)
        prefix = ""
        if stand_in:  # the duty office has nobody: whoever stands in for it holds the 退回 as 代收, as for any unit
            unit = directory.get(db, home) or {"code": home, "name": "值班室"}
            ticket = self._stand_in(db, ticket, unit, recipients, stand_in)
            prefix = texts.UNATTENDED_PREFIX.format(unit=unit["name"])
        if bounces >= 2:  # twice bounced: the bureau's leaders decide, not another round of passing it on
            notice = texts.ARBITRATION.format(number=ticket["number"], reason=reason)
            recipients = staff.leaders(db) or recipients
        else:
            notice = texts.BOUNCED_TO_DUTY.format(number=ticket["number"], unit=from_unit["name"], reason=reason)
        notice = prefix + notice
        return [Reply(texts.BOUNCED_OK.format(number=ticket["number"])),
                *[self.to_staff(o, notice, ticket, "留言被退回") for o in recipients]]

    def transfer(self, db, user: dict, ticket: dict, unit_query: str, reason: str = "") -> list[Reply]:
        """转派: to another unit, with the reason and the history the new unit needs; the clock restarts (as
        configured); a unit with nobody bound is warned about and the duty office stands in."""
        refused = self.refuse(db, user, ticket, "transfer")
        if refused:
            return [refused]
        if ticket["arbitration"] and user["role"] not in WIDE_ROLES:
            return [Reply(texts.ARBITRATION_ROLE)]
        target, error = self.find_unit(db, unit_query)
        if target is None:
            return [Reply(error)]
        if target["code"] == ticket["unit_code"]:
            return [Reply(texts.TRANSFER_SAME.format(number=ticket["number"], unit=target["name"]))]
        refusal = self.barred(db, ticket, target)  # the rule routing applies (Dispatcher.plan), here too
        if refusal:
            return [Reply(refusal.format(number=ticket["number"], unit=target["name"]))]
        rejected = self._rejected_unit(db, ticket)
        if rejected and rejected == target["code"]:
            return [Reply(texts.TRANSFER_REJECTED_UNIT.format(number=ticket["number"], unit=target["name"]))]
        now = self.clock.now()
        who = user.get("name") or texts.ROLE_NAMES.get(user["role"], "")
        # a unit getting back a ticket it held before gets back the deadline it had there: a round trip (转派 away
        # and back, 退回 and sent back) is no new clock, and a deadline it let pass stays passed (Desk.handover)
        fields, held = self.handover(db, ticket, target["code"], fresh=True)
        fields.update(arbitration=0)
        before = ticket
        tickets.record_correction(db, ticket, user["openid"], target["code"], now, reason or unit_query)
        note = texts.TRANSFER_NOTE.format(unit=target["name"], reason=f"：{reason}" if reason else "")
        ticket = tickets.transition(db, ticket, "assigned", user["openid"], now, "transfer", note, **fields)
        why = texts.WHY_TRANSFER.format(who=who, reason=reason or "未说明")
        if rejected:
            why += "\n" + texts.WHY_REVIEW.format(comment=ticket.get("rating_comment") or "无")
        done = texts.TRANSFERRED_OK.format(number=ticket["number"], unit=target["name"])
        late = ticket["due_at"] is not None and ticket["due_at"] < now
        if self.restart_on_transfer and held and ticket["due_at"] is not None:  # said, so nobody expects a new clock
            kept = {"due": self._due(ticket), "late": texts.KEPT_DUE_LATE if late else ""}
            why += "\n" + texts.WHY_KEPT_DUE.format(**kept)
            done += "\n" + texts.TRANSFER_KEPT_DUE.format(unit=target["name"], **kept)
        out = [Reply(done)]
        stand_in = self.recipients(db, target["code"], ticket)[1]
        if stand_in:  # who holds it as 代收 (the duty office, else the leaders, else the admins)
            out[0] = Reply(out[0].text + "\n" + texts.TRANSFER_NOBODY.format(unit=target["name"], to=stand_in))
        out += self.moved_away(db, before, ticket, target, by=user["openid"])
        out += self.dispatch_notices(db, ticket, why)
        out += self.tell_citizen(db, ticket, "留言已转办", "CITIZEN_TRANSFERRED_LATE" if late else "CITIZEN_TRANSFERRED",
                                 unit=target["name"])
        return out

    def request_extension(self, db, user: dict, ticket: dict, days: int, reason: str) -> list[Reply]:
        refused = self.refuse(db, user, ticket, "extension_request")
        if refused:
            return [refused]
        if ticket["extension"]:
            return [Reply(texts.EXTENSION_ONCE.format(number=ticket["number"]))]
        if ticket["due_at"] and self.clock.now() > ticket["due_at"]:
            # asked for within the time limit only: approved later it would erase a lateness already incurred
            return [Reply(texts.EXTENSION_TOO_LATE.format(number=ticket["number"], due=self._due(ticket)))]
        if not self.approvers(db, {**ticket, "extension": {"by": user["openid"], "role": user["role"]}}):
            # nobody bound could decide it: refused now rather than waiting for ever, the one request kept
            return [Reply(texts.EXTENSION_NOBODY.format(number=ticket["number"], due=self._due(ticket)))]
        now = self.clock.now()
        ticket = tickets.transition(db, ticket, ticket["state"], user["openid"], now, "extension_request",
                                    f"{days}个工作日：{reason}", extension={
                                        "days": days, "reason": reason, "by": user["openid"], "role": user["role"],
                                        "unit": user.get("unit_code"), "state": "requested", "at": now})
        approvers = self.approvers(db, ticket)
        unit = directory.get(db, ticket["unit_code"])
        reply = texts.EXTENSION_SENT.format(number=ticket["number"], days=days)
        # said only when the body above has no supervisor bound (a district's or an office's is the leaders' own)
        if approvers and all(o in staff.leaders(db) for o in approvers) and unit and unit["parent"] \
                and not staff.of_unit(db, unit["parent"], ("leader",)):
            reply += "\n" + texts.EXTENSION_NO_SUPERVISOR
        notice = texts.EXTENSION_REQUEST.format(number=ticket["number"], unit=unit["name"] if unit else "",
                                                days=days, reason=reason)
        return [Reply(reply), *[self.to_staff(o, notice, ticket, "延期申请") for o in approvers]]

    def approvers(self, db, ticket: dict) -> list[str]:
        """Who decides an extension: never the person who asked, and never the unit that holds the ticket. Every
        unit's 解决率 and 超期 are in the review that ranks it among its kind (schools, districts, offices alike):
        its extensions go to the body above it (the parent unit's supervisors), else the leaders."""
        ext = ticket["extension"] or {}
        by = ext.get("by")
        unit = directory.get(db, ticket["unit_code"])
        found: list[str] = []
        if unit and unit["parent"]:
            found = [o for o in staff.of_unit(db, unit["parent"], ("supervisor",)) if o != by]
        return found or [o for o in staff.leaders(db) if o != by]

    def decide_extension(self, db, user: dict, ticket: dict, approve: bool, reason: str = "") -> list[Reply]:
        if not self.in_scope(db, user, ticket):
            return [Reply(texts.NOT_YOURS.format(number=ticket["number"]))]
        ext = ticket["extension"]
        if not ext or ext.get("state") != "requested":
            return [Reply(texts.EXTENSION_NONE.format(number=ticket["number"]))]
        if ext.get("by") == user["openid"]:
            return [Reply(texts.EXTENSION_OWN)]
        if user["role"] not in WIDE_ROLES and user["openid"] not in self.approvers(db, ticket):
            return [Reply(texts.EXTENSION_ROLE)]
        if not lifecycle.allowed("extension_approved", ticket["state"]):
            return [Reply(texts.WRONG_STATE.format(number=ticket["number"], state=texts.STAFF_STATE_NAMES[ticket["state"]],
                                                   verb=VERBS["extension_decide"]))]
        now = self.clock.now()
        ext = {**ext, "state": "approved" if approve else "rejected", "decided_by": user["openid"], "decided_at": now}
        due = self.calendar.due(ticket["due_at"], ext["days"]) if approve else ticket["due_at"]
        ticket = tickets.transition(db, ticket, ticket["state"], user["openid"], now,
                                    "extension_approved" if approve else "extension_rejected",
                                    self.calendar.date_text(due) + (f"：{reason}" if reason else ""),
                                    extension=ext, due_at=due)
        fields = {"number": ticket["number"], "due": self.calendar.date_text(due)}
        # the person who asked, while they still work on it; else whoever acts for the unit now (never a former
        # member of staff, who may be a citizen again)
        asker = users.get(db, ext["by"]) or {}
        told = [ext["by"]] if self.in_scope(db, asker, ticket) else \
            self.handlers_of(db, ticket)
        if not approve:
            return [Reply(texts.EXTENSION_REJECTED.format(**fields)),
                    *[self.to_staff(o, texts.EXTENSION_TO_HANDLER_NO.format(**fields), ticket, "延期未同意")
                      for o in told if o != user["openid"]]]
        return [Reply(texts.EXTENSION_APPROVED.format(**fields)),
                *[self.to_staff(o, texts.EXTENSION_TO_HANDLER_OK.format(**fields), ticket, "延期已同意")
                  for o in told if o != user["openid"]],
                *self.tell_citizen(db, ticket, "办结时限延长", "CITIZEN_EXTENDED", reason=ext["reason"])]

    def press(self, db, user: dict, ticket: dict, kind: str, text: str = "") -> list[Reply]:
        """督办 (a leader) or 催办 (a leader or supervisor): recorded on the ticket; the unit's people and its
        supervisor are told."""
        refused = self.refuse(db, user, ticket, kind)
        if refused:
            return [refused]
        who = user.get("name") or texts.ROLE_NAMES.get(user["role"], "")
        tickets.record(db, ticket, kind, user["openid"], self.clock.now(), text or None)
        unit = directory.get(db, ticket["unit_code"])
        notice = texts.PRESS_NOTICE[kind].format(number=ticket["number"], who=who, due=self._due(ticket),
                                                 text=f"\n要求：{text}" if text else "",
                                                 unit=unit["name"] if unit else "")
        to = self.handlers_of(db, ticket)
        to += [o for o in staff.of_unit(db, ticket["unit_code"], ("supervisor",)) if o not in to]
        to = [o for o in to if o != user["openid"]]
        return [Reply(texts.PRESSED_OK[kind].format(number=ticket["number"], count=len(to))),
                *[self.to_staff(o, notice, ticket, texts.PRESS_TITLE[kind]) for o in to]]

    def note(self, db, user: dict, ticket: dict, text: str) -> list[Reply]:
        refused = self.refuse(db, user, ticket, "note")
        if refused:
            return [refused]
        tickets.record(db, ticket, "note", user["openid"], self.clock.now(), text)
        return [Reply(texts.NOTED_OK.format(number=ticket["number"]))]

    def awaiting_acceptance(self, db, user: dict) -> list[dict]:
        """What 签收全部 signs: the open tickets waiting for this person's 签收 -- their own unit's, and for the
        duty office the unattended ones it stands in for -- nearest deadline first. Never a unit below a
        supervisor or every unit for a leader: signing makes the unit answerable, so it takes the unit's word."""
        if not user.get("unit_code"):
            return []
        rows = tickets.to_sign(db, user["unit_code"], user["unit_code"] == self.duty_office, TODO_MAX)
        return [t for t in rows if self.refuse(db, user, t, "accept") is None]

    def count_awaiting(self, db, user: dict) -> int:
        """How many awaiting_acceptance would list without its limit, exactly (counted in the indexes). Whether
        this person may sign depends on who they are, not on the ticket beyond its unit and state."""
        if not user.get("unit_code") or not permitted(user, "accept", self.duty_office) \
                or not self.may(db, user, "accept"):
            return 0
        return tickets.count_to_sign_all(db, user["unit_code"], user["unit_code"] == self.duty_office)

    # -- reading ---------------------------------------------------------------------------------------------
    def todo(self, db, openid: str, user: dict, page: int = 1) -> str:
        """The open tickets, nearest deadline first (flags are marked, not sorted first), a page at a time; the
        numbers run on across pages, so `详情 14` works after `待办 2`. The duty office also sees what it holds
        for units with nobody bound."""
        if user["role"] in WIDE_ROLES:
            rows = tickets.open_all(db, TODO_MAX)
        else:
            units = [user["unit_code"]]
            if user["role"] == "supervisor":
                units += [u["code"] for u in directory.children(db, user["unit_code"])]
            rows = tickets.open_for_units(db, units, TODO_MAX)
            if user["unit_code"] == self.duty_office:
                have = {t["id"] for t in rows}
                rows += [t for t in tickets.open_unattended(db, TODO_MAX) if t["id"] not in have]
                rows.sort(key=tickets.urgency_key)
                rows = rows[:TODO_MAX]
        if not rows:
            return texts.NO_TODO_ALL if user["role"] in WIDE_ROLES else texts.NO_TODO
        pages = (len(rows) + TODO_PAGE - 1) // TODO_PAGE
        asked, page = page, min(max(page, 1), pages)
        conversations.put(db, openid, "desk", "todo", {"items": [t["number"] for t in rows]}, self.clock.now(),
                          TODO_TTL)
        first = (page - 1) * TODO_PAGE
        lines = [texts.TODO_HEAD.format(total=len(rows)) if len(rows) < TODO_MAX else
                 texts.TODO_HEAD_MANY.format(total=TODO_MAX)]
        if asked > pages:  # 待办 3 on a two-page list: say so, not show the last page as if it were the third
            lines.insert(0, texts.TODO_PAST_END.format(asked=asked, pages=pages))
        names = {u["code"]: u["name"] for u in directory.all_units(db)}
        for i, t in enumerate(rows[first:first + TODO_PAGE], first + 1):
            lines.append(texts.TODO_LINE.format(
                i=i, urgent=texts.URGENT_MARK if urgent(t) and t["state"] in lifecycle.OPEN else "", number=t["number"], kind=kind_name(t),
                category=texts.CATEGORY_NAMES.get(t["category"], t["category"]), state=texts.STAFF_STATE_NAMES[t["state"]],
                due=self._due(t), flags=self._flags(t), excerpt=texts.excerpt(t["text"], 24),
                unit="" if t["unit_code"] == user.get("unit_code") else " " + names.get(t["unit_code"], "待分派")))
        lines.append(texts.TODO_FOOT)
        if page < pages:
            lines.append(texts.TODO_MORE.format(page=page, pages=pages, next=page + 1))
        return "\n".join(lines)

    def detail(self, db, user: dict, ticket: dict, page: int = 1) -> list[Reply]:
        """The whole text (paged), every attachment by type, and the full history."""
        refused = self.refuse(db, user, ticket, "detail")
        if refused:
            return [refused]
        body = ticket["text"]
        pages = max(1, (len(body) + DETAIL_CHARS - 1) // DETAIL_CHARS)
        page = min(max(page, 1), pages)
        chunk = body[(page - 1) * DETAIL_CHARS: page * DETAIL_CHARS]
        more = texts.DETAIL_MORE.format(page=page, pages=pages, number=ticket["number"], next=page + 1) \
            if page < pages else ""
        if page > 1:
            return [Reply("\n".join(x for x in (texts.DETAIL_PAGE.format(
                number=ticket["number"], page=page, pages=pages), chunk, more) if x))]
        unit = directory.get(db, ticket["unit_code"])
        school = directory.get(db, ticket["school_code"])
        if self.identity_hidden(db, user, ticket):
            identity = texts.IDENTITY_HIDDEN
        else:
            identity = texts.IDENTITY_SHOWN.format(who=privacy.citizen_label(ticket["openid"]),
                                                   phone=mask_phone(ticket["contact_phone"]))
        created = self._when(ticket["created_at"])
        lines = [texts.DETAIL.format(
            number=ticket["number"], kind=kind_name(ticket),
            category=texts.CATEGORY_NAMES.get(ticket["category"], ticket["category"]),
            state=texts.STAFF_STATE_NAMES[ticket["state"]], flags=self._flags(ticket),
            unit=unit["name"] if unit else "待分派", school_line=f"学校：{school['name']}\n" if school else "",
            created=created, due=self._due(ticket), identity=identity, text=chunk)]
        if more:
            lines.append(more)
        if ticket["attachments"]:
            lines.append(texts.ATTACHMENTS_HEAD.format(count=len(ticket["attachments"])))
            for i, a in enumerate(ticket["attachments"], 1):
                what = texts.MEDIA_NAMES.get(a.get("kind"), a.get("kind") or "附件")
                said = f"（识别内容：{a['text']}）" if a.get("text") and a.get("kind") == "voice" else ""
                lines.append(f"{i}. {what}{said}")
            link = self.web_links.attachments(ticket["number"], user["openid"]) if self.web_links else None
            if link:
                lines.append(texts.ATTACHMENTS_LINK.format(link=link))
        why = [f"{e['word']}({e['weight']:+g})" for e in ticket["routing"].get("explanation", [])[:4]]
        if why:
            lines.append(texts.DETAIL_ROUTING.format(why="、".join(why)))
        lines.append(texts.DETAIL_HISTORY)
        names = {}
        for event in tickets.events(db, ticket["id"]):
            name = texts.EVENT_NAMES.get(event["action"] or "", texts.STATE_NAMES.get(event["to_state"], ""))
            note = f"：{event['note']}" if event["note"] and event["action"] not in ("submit", "assign", "accept") \
                else ""
            actor = event["actor"]
            if actor not in names:
                row = users.get(db, actor) or {}
                names[actor] = f"（{row['name']}）" if row.get("name") and row.get("role") in STAFF_ROLES else ""
            lines.append(f"{self._when(event['at'])} {name}{names[actor]}{note}")
        lines.append(texts.DETAIL_ACTIONS.format(number=ticket["number"], verbs=self._offer(db, user, ticket)))
        return [Reply("\n".join(lines))]

    OFFERED = ("accept", "reply", "resolve", "bounce", "transfer", "extension_request", "supervise", "urge", "note")

    def offers(self, db, user: dict, ticket: dict) -> list[str]:
        """The actions that would work on this ticket now, for this person (from the same checks as the actions
        themselves); 'extension_decide' when an extension waits for this person's decision."""
        out = [a for a in self.OFFERED
               if self.refuse(db, user, ticket, a) is None and not (a == "accept" and ticket["state"] == "accepted")]
        ext = ticket.get("extension") or {}
        if (ext.get("state") == "requested" and ext.get("by") != user.get("openid")
                and self.refuse(db, user, ticket, "extension_decide") is None
                and (user.get("role") in WIDE_ROLES or user.get("openid") in self.approvers(db, ticket))):
            out.append("extension_decide")
        return out

    def _offer(self, db, user: dict, ticket: dict) -> str:
        offer = [VERBS[a] for a in self.offers(db, user, ticket) if a != "extension_decide"]
        return " / ".join(offer) or "无"

    def scope(self, db, user: dict) -> tuple[list[str] | None, bool]:
        """The units whose tickets this person sees (None: all), and whether the 代收 tickets of units with nobody
        bound are included (the duty office). The same rule as in_scope, for lists."""
        if user.get("role") in WIDE_ROLES:
            return None, False
        units = [user["unit_code"]]
        if user.get("role") == "supervisor":
            units += [u["code"] for u in directory.children(db, user["unit_code"])]
        return units, user.get("unit_code") == self.duty_office

    def identity_hidden(self, db, user: dict, ticket: dict) -> bool:
        """A school never sees who wrote an anonymous message."""
        viewer_unit = directory.get(db, user.get("unit_code"))
        return bool(ticket["anonymous"]) and viewer_unit is not None and viewer_unit["kind"] in ("school",
                                                                                                 "kindergarten")

    def overdue(self, db, user: dict, now: float) -> str:
        """超期: open tickets past their deadline, grouped by unit (all for leaders; a supervisor's units). Only
        reads: run on a reader (messages.ReadFirst)."""
        units, unattended = self.scope(db, user)  # the duty office's 代收 too, as its 超期 list
        rows = tickets.overdue(db, units, now, unattended)
        if not rows:
            return texts.NO_OVERDUE
        names = {u["code"]: u["name"] for u in directory.all_units(db)}
        by_unit: dict[str, list[dict]] = {}
        for t in rows:  # by unit, the longest overdue first (tickets.overdue's order)
            by_unit.setdefault(t["unit_code"], []).append(t)
        # One WeChat answer, not a hundred: the most overdue units, a few tickets each; the rest counted, and the
        # whole list on the workbench.
        units = sorted(by_unit, key=lambda u: -len(by_unit[u]))
        lines = [texts.OVERDUE_HEAD.format(total=len(rows))]
        for unit in units[:OVERDUE_UNITS]:
            late = by_unit[unit]
            lines.append(texts.OVERDUE_UNIT.format(unit=names.get(unit, unit), count=len(late)))
            lines += [texts.OVERDUE_LINE.format(number=t["number"], due=self._due(t),
                                                state=texts.STAFF_STATE_NAMES[t["state"]])
                      for t in late[:OVERDUE_PER_UNIT]]
            if len(late) > OVERDUE_PER_UNIT:
                lines.append(texts.OVERDUE_UNIT_MORE.format(count=len(late) - OVERDUE_PER_UNIT))
        if len(units) > OVERDUE_UNITS:
            rest = units[OVERDUE_UNITS:]
            lines.append(texts.OVERDUE_MORE_UNITS.format(units=len(rest), count=sum(len(by_unit[u]) for u in rest)))
        if len(units) > OVERDUE_UNITS or any(len(v) > OVERDUE_PER_UNIT for v in by_unit.values()):
            lines.append(texts.OVERDUE_ON_WORKBENCH)
        lines.append(texts.OVERDUE_FOOT)
        return "\n".join(lines)

    def pressing(self, db, user: dict, now: float) -> str:
        """今天有什么紧急的吗: the urgent open tickets (each with its deadline and a few words), the overdue ones by
        unit and how many fall due today, in the person's scope (Desk.scope, as 超期). Read on a reader."""
        units, unattended = self.scope(db, user)
        today = dt.datetime.fromtimestamp(now, self.calendar.tz).date() + dt.timedelta(days=1)
        day_end = dt.datetime.combine(today, dt.time(0), self.calendar.tz).timestamp()  # due dates end at 23:59:59
        hot, today = tickets.pressing(db, units, now, day_end, unattended)
        late = tickets.overdue(db, units, now, unattended)
        if not hot and not late and not today:
            return texts.PRESSING_NONE
        names = {u["code"]: u["name"] for u in directory.all_units(db)}
        lines = []
        if hot:
            lines.append(texts.PRESSING_URGENT.format(count=len(hot)))
            lines += [texts.PRESSING_URGENT_LINE.format(
                number=t["number"], unit=names.get(t["unit_code"], "待分派"), state=texts.STAFF_STATE_NAMES[t["state"]],
                due=self._due(t), late="（已超期）" if t["due_at"] and t["due_at"] < now and t["state"] in lifecycle.CLOCK else "",
                excerpt=texts.excerpt(t["text"], 24)) for t in hot]
        else:
            lines.append(texts.PRESSING_NO_URGENT)
        if late:
            by_unit: dict[str, int] = {}
            for t in late:
                by_unit[t["unit_code"]] = by_unit.get(t["unit_code"], 0) + 1
            worst = sorted(by_unit.items(), key=lambda x: -x[1])
            shown = "、".join(f"{names.get(u, u)}{n}件" for u, n in worst[:PRESSING_UNITS])
            more = texts.PRESSING_MORE_UNITS.format(units=len(worst)) if len(worst) > PRESSING_UNITS else ""
            lines.append(texts.PRESSING_OVERDUE.format(count=len(late), units=shown + more))
        if today:
            lines.append(texts.PRESSING_TODAY.format(count=today))
        lines.append(texts.PRESSING_FOOT if late else texts.PRESSING_FOOT_NO_LATE if hot else texts.PRESSING_FOOT_TODO)
        return "\n".join(lines)

    # -- the citizen's side --------------------------------------------------------------------------------
    def citizen_reply(self, db, openid: str, ticket: dict, text: str) -> list[Reply]:
        lang = users.lang(db, openid)
        if not lifecycle.allowed("citizen_reply", ticket["state"]):
            return [Reply(texts.pick("CITIZEN_TICKET_CLOSED", lang).format(
                number=ticket["number"], state=texts.CLOSED_AS.get(ticket["state"], "已办结")))]
        ticket, moved = self.keep_from_school(db, ticket, text)
        tickets.record(db, ticket, "citizen_reply", openid, self.clock.now(), text)
        notice = texts.CITIZEN_REPLIED.format(number=ticket["number"], text=text) + self.writes_english(db, ticket)
        hear = self.handlers_of(db, ticket)  # nobody: nobody bound may act yet; the words wait on the ticket
        return [Reply(texts.pick("CITIZEN_REPLY_SENT" if hear else "CITIZEN_REPLY_KEPT", lang).format(
                    number=ticket["number"])), *moved, *[self.to_staff(o, notice, ticket, "群众回复") for o in hear]]

    def keep_from_school(self, db, ticket: dict, words: str) -> tuple[dict, list[Reply]]:
        """Words about a teacher's conduct (师德) added to a ticket a school holds (a reply, a 不满意 comment):
        before anyone reads them, the ticket goes where routing would have sent the whole (the bureau running
        the school, else the duty office) and is marked as 师德, so no 转派 sends it back. The school is told only
        that the ticket is now handled there; the new unit gets it as a new ticket."""
        unit = directory.get(db, ticket["unit_code"])
        if (unit is None or unit["kind"] not in privacy.SCHOOL_KINDS or self.conduct is None or not words
                or not self.conduct(words) or not lifecycle.allowed("transfer", ticket["state"])):
            return ticket, []
        routing = dict(ticket["routing"] or {})
        routing["matters"] = [*(routing.get("matters") or []), {"category": next(iter(NEVER_TO_SCHOOL)),
                                                               "score": 0, "words": [], "from": "citizen"}]
        return self._to_bureau(db, ticket, texts.WHY_CONDUCT, routing=routing)

    @staticmethod
    def check_goes_on(ticket: dict) -> str | None:
        """What must be checked whatever the citizen later says, or None: a teacher's conduct (师德, also behind
        praise), a child's safety (urgent). A parent may be pressed by the school to withdraw (怕穿小鞋)."""
        routing = ticket.get("routing") or {}
        if ticket["kind"] == "praise":
            return "conduct" if routing.get(privacy.ACCUSES) else None
        if privacy.involves_conduct(ticket.get("category"), routing):
            return "conduct"
        return "safety" if routing.get("urgent") else None

    def withdraw(self, db, openid: str, ticket: dict, reason: str = "") -> list[Reply]:
        """The citizen takes a ticket back (the matter resolved itself, or was filed by mistake). A conduct or
        safety matter is not ended by it: see withdraw_kept."""
        lang = users.lang(db, openid)
        if ticket.get("citizen_withdrew_at"):
            return [Reply(texts.pick("WITHDRAWN_ALREADY", lang).format(number=ticket["number"]))]
        if not lifecycle.allowed("withdraw", ticket["state"]):
            return [Reply(texts.pick("WITHDRAW_TOO_LATE", lang).format(
                number=ticket["number"], state=texts.names_in("STATE_NAMES", lang)[ticket["state"]]))]
        if self.check_goes_on(ticket):
            return self.withdraw_kept(db, openid, ticket, reason, lang)
        recipients = self.handlers_of(db, ticket)
        now = self.clock.now()
        ticket = tickets.transition(db, ticket, "withdrawn", openid, now, "withdraw", reason or None,
                                    closed_at=now, close_reason="withdrawn")
        notice = texts.WITHDRAWN_NOTICE.format(number=ticket["number"])
        return [Reply(texts.pick("WITHDRAWN", lang).format(number=ticket["number"])),
                *[self.to_staff(o, notice, ticket, "群众撤回") for o in recipients]]

    def withdraw_kept(self, db, openid: str, ticket: dict, reason: str, lang: str | None) -> list[Reply]:
        """The citizen's withdrawal of a conduct or safety matter ends what is sent to them, not the check: the
        ticket stays open, watched like any, at the bureau (a school holding it hands it to the bureau running
        it, told only that it moved), until someone there closes it with `办结 编号 核实情况`. Nobody tells the
        school that the parent withdrew; the bureau's staff are asked not to."""
        moved: list[Reply] = []
        unit = directory.get(db, ticket["unit_code"])
        if unit is not None and unit["kind"] in privacy.SCHOOL_KINDS:
            ticket, moved = self._to_bureau(db, ticket)
        now = self.clock.now()
        ticket = tickets.transition(db, ticket, ticket["state"], openid, now, "withdraw_kept", reason or None,
                                    citizen_withdrew_at=now)
        what = texts.CHECK_WHAT[self.check_goes_on(ticket)]
        notice = texts.WITHDRAWN_KEPT_NOTICE.format(number=ticket["number"], what=what)
        return [Reply(texts.pick("WITHDRAWN_KEPT", lang).format(
                    number=ticket["number"], what=texts.pick("CHECK_WHAT", lang)[self.check_goes_on(ticket)])),
                *moved, *[self.to_staff(o, notice, ticket, "群众撤回，核查继续") for o in self.handlers_of(db, ticket)]]

    def _to_bureau(self, db, ticket: dict, why: str = "", **fields) -> tuple[dict, list[Reply]]:
        """A school's ticket to the bureau running the school (else the duty office), as a new ticket there; the
        school is told only that it is handled there now."""
        unit = directory.get(db, ticket["unit_code"])
        parent = directory.get(db, unit["parent"]) if unit and unit["parent"] else None
        target = parent if parent and parent["kind"] == "district" else directory.get(db, self.duty_office)
        if target is None:
            return ticket, []
        before = ticket
        now = self.clock.now()
        moved, _ = self.handover(db, ticket, target["code"])  # the school's date, or the one it had there before
        ticket = tickets.transition(db, ticket, "assigned", "system", now, "transfer",
                                    texts.TRANSFER_NOTE.format(unit=target["name"], reason=""),
                                    arbitration=0, **moved, **fields)
        return ticket, [*self.moved_away(db, before, ticket, target), *self.dispatch_notices(db, ticket, why)]

    def change_kind(self, db, openid: str, ticket: dict, kind: str) -> list[Reply]:
        """改为建议 just after submitting. Until someone has signed it, the citizen's word decides the kind: changed,
        its deadline counted again from dispatch for the new kind, recorded as an event, and the unit told. After
        签收 (or to or from praise, handled apart) they are told how to ask the officer."""
        lang = users.lang(db, openid)
        new = texts.kind_name(kind, urgent({**ticket, "kind": kind}), lang)
        fields = {"number": ticket["number"], "old": kind_name(ticket, lang), "new": new, "kind": new}
        if ticket["kind"] == kind:
            return [Reply(texts.pick("KIND_SAME_FILED", lang).format(**fields))]
        if "praise" in (kind, ticket["kind"]):
            return [Reply(texts.pick("KIND_CHANGE_PRAISE", lang).format(**fields))]
        if ticket.get("accepted_at") or not lifecycle.allowed("kind_change", ticket["state"]):
            return [Reply(texts.pick("KIND_CHANGE_FILED", lang).format(**fields))]
        start = ticket.get("dispatched_at") or ticket["created_at"]
        due = self.calendar.due(start, self._days({**ticket, "kind": kind}))
        old = kind_name(ticket)
        ticket = tickets.transition(db, ticket, ticket["state"], openid, self.clock.now(), "kind_change",
                                    f"{old}→{kind_name({**ticket, 'kind': kind})}", kind=kind, due_at=due)
        notice = texts.KIND_CHANGED_NOTICE.format(number=ticket["number"], old=old, new=kind_name(ticket),
                                                  due=self._due(ticket))
        return [Reply(self.citizen_says(db, ticket, "KIND_CHANGED_FILED", lang, **fields)),
                *[self.to_staff(o, notice, ticket, "留言类型更改") for o in self.handlers_of(db, ticket)]]

    def supplemented(self, db, number: str, openid: str, text: str, attachments: list) -> list[Reply]:
        """The citizen adds to an open ticket (the similar-ticket offer): stored, and whoever handles it is told."""
        tickets.append_text(db, number, openid, text, attachments, self.clock.now())
        ticket = tickets.get(db, number)
        what = text or "、".join(texts.MEDIA_NAMES.get(a.get("kind"), "附件") for a in attachments)
        notice = texts.SUPPLEMENT_NOTICE.format(number=number, text=what) + self.writes_english(db, ticket)
        return [self.to_staff(o, notice, ticket, "群众补充") for o in self.handlers_of(db, ticket)]

    def _citizen_accepted(self, db, ticket: dict) -> list[Reply]:
        unit = directory.get(db, ticket["unit_code"])
        return self.tell_citizen(db, ticket, "留言已受理", "CITIZEN_ACCEPTED", unit=unit["name"] if unit else "承办单位")

    # -- staff accounts ----------------------------------------------------------------------------------------
    def bind(self, db, openid: str, code: str) -> list[Reply]:
        # Spaces or zero-width characters pasted along, full-width letters from a phone keyboard.
        code = unicodedata.normalize("NFKC", re.sub(r"\s", "", INVISIBLE.sub("", code)))
        if not re.fullmatch(r"[A-Za-z0-9-]{4,64}", code):  # not a code we issue (and nothing odd reaches hashing)
            return [Reply(texts.BIND_ERRORS["unknown"])]
        before = users.get(db, openid) or {}
        try:
            bound = staff.redeem(db, code, openid, self.clock.now(), self.bind_limits)
        except staff.InviteError as exc:
            return [Reply(texts.BIND_ERRORS[exc.reason])]
        unit = directory.get(db, bound["unit_code"])
        text = texts.BOUND.format(name=bound["name"], unit=unit["name"], role=texts.ROLE_NAMES[bound["role"]])
        pushes: list[Reply] = []
        if before.get("role") in STAFF_ROLES and before.get("unit_code") != bound["unit_code"]:
            pushes = self._leave(db, openid, before)  # rebound elsewhere
        elif before.get("role") in STAFF_ROLES and before.get("role") != bound["role"]:
            pushes = self._role_changed(db, openid, before, bound["role"])[1]  # rebound here in another role
        home = self._attend(db, bound["unit_code"])
        if bound["unit_code"] == self.oversight_office:  # complaints about the bureau the leaders' unit held
            pushes += self.rehome(db)                    # with no leader bound come to it now (Desk.holders)
        if before.get("role") not in STAFF_ROLES and not before.get("staff_left_at"):
            pushes += self._insider_ratings(db, openid, bound, unit)
        pushes += self.take_strays(db)
        return [Reply(text + ("\n" + home if home else "")), *pushes]

    def _insider_ratings(self, db, openid: str, bound: dict, unit: dict) -> list[Reply]:
        """A person now staff had rated answers as a citizen: those ratings left every 满意率 as they bound (m050
        triggers); the leaders are told which, so a unit's figures never move unexplained."""
        rated = tickets.insider_rated(db, openid)
        if not rated:
            return []
        names = [(directory.get(db, r["unit_code"]) or {}).get("name") or r["unit_code"] for r in rated]
        text = texts.INSIDER_RATINGS_NOTICE.format(
            name=bound["name"], unit=unit["name"], count=len(rated),
            numbers="、".join(r["number"] for r in rated[:5]) + ("等" if len(rated) > 5 else ""),
            units="、".join(f"“{n}”" for n in dict.fromkeys(names)))
        return [Reply(text, to=o) for o in staff.leaders(db)]

    def remove_staff(self, db, openid: str, by: str, ip: str | None = None) -> tuple[bool, list[Reply]]:
        """Unbind a staff member as `by` may (staff.allow: tingjian staff remove, the 人员 page, an unfollow):
        their open tickets go back to their unit, which is told. StaffChangeRefused."""
        row = users.get(db, openid) or {}
        if not staff.remove(db, openid, by, self.clock.now(), ip):
            return False, []
        websessions.end_all(db, openid, self.clock.now())  # signed out of the workbench everywhere
        out = self._leave(db, openid, row)
        if row.get("role") == "admin" and not staff.of_role(db, "admin"):  # only an unfollow can (staff.allow)
            name = row.get("name") or openid
            out += [Reply(texts.LAST_ADMIN_LEFT_NOTICE.format(name=name), to=o) for o in staff.leaders(db)]
        return True, out

    def change_role(self, db, openid: str, role: str, by: str, ip: str | None = None) -> tuple[dict, list[Reply]]:
        """A staff member's new role, as `by` may (staff.allow: tingjian staff role, the 人员 page); ValueError as
        staff.set_role. Who acts for
        their unit follows, by the rule of binding and leaving: a unit left with none of its own people (its one
        handler made an admin) hands its open tickets to the stand-in (left_empty), a unit given its first one
        takes its 代收 tickets home (_attend) -- else a citizen's words went to a duty office not allowed to act."""
        return self._role_changed(db, openid, staff.set_role(db, openid, role, by, self.clock.now(), ip), role)

    def _role_changed(self, db, openid: str, before: dict, role: str) -> tuple[dict, list[Reply]]:
        """`openid`, bound at their unit as `before` said, has `role` there now (a role change, or an invite to the
        same unit redeemed): the unit's own people decide who acts, by the rule of binding and leaving."""
        unit, name = before["unit_code"], before["name"] or openid
        handed: set[str] = set()
        if self.own_people(db, unit):
            home = self._attend(db, unit)
            out = [Reply(home, to=openid)] if home and openid in self.own_people(db, unit) else []
        else:
            out, handed = self.left_empty(db, unit, name, role)
        # what they had 签收ed as a leader (any unit's) and may not act on now goes back, as when they leave
        theirs = tickets.accepted_by(db, openid)
        out += self.release(db, openid, name, handed, users.get(db, openid))
        out += self.take_strays(db)
        return before, out + self.waiting_now(db, unit, before.get("role"), theirs)

    def take_strays(self, db) -> list[Reply]:
        """Someone who may stand in is bound again (a duty office, leader or admin, after none was): the tickets
        left at units with nobody while nobody could stand in become 代收, as Desk.left_empty would have made them,
        and the stand-in is told. Else the stand-in heard those citizens (Desk.recipients) with no right to act."""
        by_unit: dict[str, list[dict]] = {}
        for t in tickets.strays(db):
            if not privacy.about_bureau(t):  # never 代收: Desk._rehold's
                by_unit.setdefault(t["unit_code"], []).append(t)
        out: list[Reply] = []
        for code, held in by_unit.items():
            unit = directory.get(db, code)
            recipients, stand_in = self.recipients(db, code)
            if unit is None or not stand_in or not recipients:  # the leaders' unit: its leaders act for it
                continue
            moved = [t for t in (self._stand_in(db, t, unit, recipients, stand_in) for t in held) if t["unattended"]]
            if moved:
                numbers = [t["number"] for t in moved]
                text = texts.LEFT_EMPTY_NOTICE.format(
                    left=texts.LEFT_EARLIER.format(unit=unit["name"]), count=len(numbers),
                    numbers="、".join(numbers[:10]) + ("等" if len(numbers) > 10 else ""))
                out += [self.to_staff(o, text, moved[0], "留言转代收") for o in recipients]
        return out + self.waited(db)

    def waited(self, db) -> list[Reply]:
        """A leader or admin is bound: the open tickets whose 超期督办 reached nobody while nobody was bound (Watch)
        are named to them once, in one notice; the watch sends none of them again (each is recorded as sent)."""
        leaders = staff.leaders(db)
        to = leaders or staff.of_role(db, "admin")
        waited = tickets.unheard(db) if to else []
        if not waited:
            return []
        tickets.told_unheard(db, [t["id"] for t in waited], self.clock.now())
        out = []
        for o in to:  # an admin never reads a complaint about an office they work in (Desk.warned_admins)
            mine = [t for t in waited if o in leaders or not privacy.about_bureau(t) or o in self.warned_admins(db, t)]
            if mine:
                numbers = [t["number"] for t in mine]
                text = texts.WAITED_NOTICE.format(count=len(numbers), numbers="、".join(numbers[:10]) +
                                                  ("等" if len(numbers) > 10 else ""))
                out.append(self.to_staff(o, text, mine[0], "留言超期"))
        return out

    def reattend(self, db, ticket: dict) -> dict:
        """A ticket open again at its unit (a first 不满意): who acts is who is bound there now, by the rule of binding
        and leaving, as for an open ticket (Desk._attend, Desk.left_empty only reach open ones): 代收 ends once the
        unit has people of its own; a unit left with nobody while it was 办结 has the stand-in take it."""
        code = ticket["unit_code"]
        if privacy.about_bureau(ticket):
            return ticket
        if self.own_people(db, code):
            if ticket["unattended"]:
                members = set(staff.of_unit(db, code, ("handler", "supervisor")))
                ticket = self._end_stand_in(db, ticket, members, texts.ATTENDED_NOTE)
            return ticket
        unit = directory.get(db, code)
        recipients, stand_in = self.recipients(db, code, ticket)
        if unit is not None and not ticket["unattended"] and stand_in and recipients:
            ticket = self._stand_in(db, ticket, unit, recipients, stand_in)
        return ticket

    def _leave(self, db, openid: str, before: dict) -> list[Reply]:
        """`openid` (their users row `before`) no longer works at their unit: a unit left with nobody hands its
        open tickets to the stand-in first, so that the person's own tickets are released to someone who may act."""
        name = before.get("name") or openid
        theirs = tickets.accepted_by(db, openid)
        told, handed = self.left_empty(db, before.get("unit_code"), name)
        out = told + self.release(db, openid, name, handed)
        return out + self.waiting_now(db, before.get("unit_code"), before.get("role"), theirs)

    def waiting_now(self, db, unit_code: str | None, role: str | None, theirs: list[dict]) -> list[Reply]:
        """Someone left (or changed role) and the tickets they could act on may have nobody now: each such
        citizen is told at once that their ticket waits (waiting_told, once a spell), not days later at its next
        reminder. The tickets looked at: those the person had 签收ed, those at their unit, and where they could
        stand in for other units (the duty office, a leader, an admin), the 代收 ones and those left with nobody."""
        seen = {t["number"] for t in theirs}
        if unit_code and not self.own_people(db, unit_code):  # while the unit has its own people, they act on its
            # tickets: looked at only when the last has gone (a busy office's 800 open tickets are ~60 ms at 1M)
            seen.update(t["number"] for t in tickets.held_by(db, unit_code) + tickets.unattended_of(db, unit_code))
        if role in ("leader", "admin") or (unit_code and unit_code == self.duty_office):
            seen.update(t["number"] for t in tickets.unattended_open(db) + tickets.strays(db))
        out: list[Reply] = []
        for number in sorted(seen):
            t = tickets.get(db, number)
            if t is not None and t["state"] in tickets.OPEN_STATES and self.nobody_on_duty(db, t):
                out += self.waiting_told(db, t, push=True)
        return out

    def release(self, db, openid: str, name: str, told: set[str] = frozenset(), now_as: dict | None = None
                ) -> list[Reply]:
        """The tickets `openid` had 签收ed are no longer theirs; whoever now acts for each unit is told (but for
        the numbers in `told`, already named to them). `now_as`: still bound, as this row says: only the tickets
        they may no longer act on."""
        out: list[Reply] = []
        for t in tickets.accepted_by(db, openid):
            if now_as is not None and self.in_scope(db, now_as, t):
                continue
            role = texts.ROLE_NAMES.get(now_as["role"], "") if now_as is not None else ""
            t = tickets.transition(db, t, t["state"], "system", self.clock.now(), "release",
                                   (texts.RELEASE_ROLE_NOTE if role else texts.RELEASE_NOTE).format(name=name,
                                                                                                   role=role),
                                   accepted_by=None)
            if t["number"] in told:
                continue
            notice = (texts.RELEASED_ROLE_NOTICE if role else texts.RELEASED_NOTICE).format(
                number=t["number"], name=name, role=role)
            out += [self.to_staff(o, notice, t, "留言需接手") for o in self.handlers_of(db, t) if o != openid]
        return out

    def _attend(self, db, unit_code: str) -> str:
        """Someone is now bound at a unit: its 代收 tickets come home (the duty office stops standing in), once it
        has people of its own to act on them (a leader bound at an office is none: Desk.own_people)."""
        if not self.own_people(db, unit_code):
            return ""
        waiting = tickets.unattended_of(db, unit_code)
        members = set(staff.of_unit(db, unit_code, ("handler", "supervisor")))
        # who stood in, as its 代收 account names it (the duty office; for the duty office's own, the leaders)
        by = dict.fromkeys(next((tickets.owner(a) for a in (t["response_unit"], t["resolve_unit"])
                                 if a and a.startswith(tickets.STAND_IN)), self.duty_office) for t in waiting)
        for t in waiting:
            self._end_stand_in(db, t, members, texts.ATTENDED_NOTE)
        if not waiting:
            return ""
        names = [self.holder_name(u) if (u := directory.get(db, code)) else code for code in by]
        return texts.ATTENDED.format(count=len(waiting), numbers="、".join(t["number"] for t in waiting[:5]),
                                     by="、".join(names))

    def _end_stand_in(self, db, t: dict, members: set[str], note: str) -> dict:
        """代收 ends for `t` (the one rule: someone bound at its unit, Desk._attend; a complaint about the bureau,
        which no stand-in may hold, Desk.rehome): each part not done yet, its window still open, is the holder's own
        work from now on; a part the stand-in did, or let lapse, stays counted for the stand-in (m030, m059)."""
        now = self.clock.now()
        fields: dict[str, Any] = {"unattended": 0}
        if t["accepted_by"] and t["accepted_by"] not in members:
            fields["accepted_by"] = None  # signed on behalf by the duty office: now the unit's own
        if t["accepted_at"] is None and (not t["accept_due_at"] or t["accept_due_at"] > now):
            fields["response_unit"] = None
        bouncers = bool(t["resolve_unit"]) and not t["resolve_unit"].startswith(tickets.STAND_IN)
        if t["resolved_at"] is None and (not t["due_at"] or t["due_at"] > now) and not bouncers:
            fields["resolve_unit"] = None  # the stand-in's part; one a bouncer keeps (Desk.bounce) stays theirs
        fields["stood_in"] = tickets.stood_in({**t, **fields})
        return tickets.transition(db, t, t["state"], "system", now, "attended", note, **fields)

    # -- helpers -----------------------------------------------------------------------------------------------
    def _mark_accepted(self, db, user: dict, ticket: dict) -> dict:
        """签收. A redo (reopened) keeps the unit's first 签收 time: signing the redo is not a late 签收 of the
        ticket (the 响应率 counts the first; a transfer or bounce clears it for the new unit)."""
        now = self.clock.now()
        credit = self._credit(user, ticket, "response_unit") if ticket.get("accepted_at") is None else {}
        return tickets.transition(db, ticket, "accepted", user["openid"], now, "accept", user.get("name"),
                                  accepted_by=user["openid"], accepted_at=ticket.get("accepted_at") or now, **credit)

    def _credit(self, user: dict, ticket: dict, part: str) -> dict[str, Any]:
        """Whose work a 签收 or 办结 is (m030, m059): done by someone of another unit (a supervisor above, a leader)
        it is that unit's 代收 (in no unit's rates), and the holder shows the ticket as 代收; done by the unit's own
        people, for the unit. A 代收 ticket's parts are the stand-in's already (dispatch_notices). A part let lapse
        (its window over) stays whose it was when it lapsed, late, whoever finishes it: the holder's (else a
        district finishing a school's late tickets would clear the school's lateness), a stand-in's 代收 (a school
        bound after the duty office let its ticket lapse does not take that lateness), a bouncer's (desk.bounce)."""
        if ticket.get("unattended") or "response_unit" not in ticket:
            return {}
        other = user.get("unit_code")
        window = ticket.get("accept_due_at" if part == "response_unit" else "due_at")
        if window and self.clock.now() > window:
            return {}
        if not other or other == ticket["unit_code"]:
            return {part: None} if part == "resolve_unit" else {}
        return {part: tickets.stand_in_for(other), "stood_in": 1}

    def find_unit(self, db, query: str) -> tuple[dict | None, str]:
        """The unit a person named (code, full name, or a unique part of the name). One function, so fuzzy
        matching (handlers/names.py) can take its place."""
        units = directory.all_units(db)
        exact = [u for u in units if query in (u["code"], u["name"])]
        hits = exact or [u for u in units if query and query in u["name"]]
        if len(hits) == 1:
            return hits[0], ""
        by_code = {u["code"]: u for u in units}
        if not hits:  # typed loosely ("收费处", "和平中学"): the one plainly meant, else up to three suggestions
            sure = names.best(query, [(u["code"], u["name"]) for u in units])
            if sure:
                return by_code[sure.code], ""
            found = names.match(query, [(u["code"], u["name"]) for u in units])
            if not found:
                return None, texts.UNIT_NOT_FOUND.format(query=query)
            return None, texts.UNIT_SUGGEST.format(query=query, lines="\n".join(
                f"{m.name}（{m.code}）" for m in found))
        return None, texts.UNIT_AMBIGUOUS.format(query=query, names="、".join(u["name"] for u in hits[:4]))

    def _rejected_unit(self, db, ticket: dict) -> str | None:
        """Under review (the citizen was dissatisfied twice): the unit whose work was rejected."""
        if not ticket.get("review"):
            return None
        unit = None
        for e in tickets.events(db, ticket["id"]):
            if e["action"] == "review":
                break
            if e["action"] == "assign" and e["note"]:
                unit = e["note"].replace("分派至", "").strip()
            elif e["action"] == "transfer":
                unit = tickets.transferred_to(db, ticket["id"], e["at"]) or unit
        return unit

    def _days(self, ticket: dict) -> int:
        if urgent(ticket):
            return self.days.get("urgent", self.days.get("safety_complaint", 1))  # as Dispatcher.plan gave it
        if ticket["kind"] == "complaint" and ticket["category"] in URGENT:
            return self.days.get("safety_complaint", 1)
        return self.days.get(ticket["kind"], 7)

    def _due(self, ticket: dict) -> str:
        return self.calendar.date_text(ticket["due_at"]) if ticket["due_at"] else "—"

    def _when(self, at: float) -> str:
        return dt.datetime.fromtimestamp(at, self.calendar.tz).strftime("%m-%d %H:%M")

    def _flags(self, ticket: dict) -> str:
        flags = ""
        if ticket["due_at"] and ticket["due_at"] < self.clock.now() and ticket["state"] in lifecycle.CLOCK:
            flags += texts.OVERDUE
        if ticket["state"] not in lifecycle.OPEN:
            return flags
        if ticket.get("arbitration"):
            flags += texts.FLAG_ARBITRATION
        if ticket.get("unattended"):
            flags += texts.FLAG_UNATTENDED
        if ticket.get("review"):
            flags += texts.FLAG_REVIEW
        return flags

    def moved_away(self, db, before: dict, ticket: dict, to: dict, by: str | None = None) -> list[Reply]:
        """Those who acted for a ticket's unit (handlers_of, `before` the hand-over) told it left and for whom, so
        nobody keeps working on a ticket no longer theirs: one rule for every hand-over (转派 by anyone, a school's
        ticket to the bureau, start-up's rehome). Not `by`, who made it and was answered; not a unit barred from
        the ticket (an office a complaint about the bureau may accuse hears nothing more of it)."""
        if self.barred(db, before, directory.get(db, before["unit_code"])):
            return []
        told = texts.MOVED_AWAY.format(number=ticket["number"], unit=self.holder_name(to))
        now_theirs = set(self.handlers_of(db, ticket))  # a stand-in that stays one hears the new notice instead
        return [self.to_staff(o, told, ticket, "留言已转办") for o in self.handlers_of(db, before)
                if o != by and o not in now_theirs]

    def to_staff(self, openid: str, text: str, ticket: dict, title: str) -> Reply:
        return Reply(for_staff(text), to=openid, extra={"notice": self.notice("staff", ticket, title)})

    def tell_citizen(self, db, ticket: dict, title: str, *names: str, **fields) -> list[Reply]:
        """A push to the ticket's writer in the language they write in now (users.lang): the texts called `names`,
        one per line, with the deadline (citizen_says) and the rating choices as that person reads them. None once
        they have withdrawn it (a check that goes on is the bureau's own: withdraw_kept)."""
        if ticket.get("citizen_withdrew_at"):
            return []
        lang = users.lang(db, ticket["openid"])
        fields = {"ask": texts.pick("RATE_ASK", lang), **fields}
        told = due, waits = self.citizen_due(db, ticket)
        text = "\n".join(self.citizen_says(db, ticket, n, lang, told, **fields) for n in names)
        # the template's deadline field (outside the 48-hour window) as the text says it
        said = texts.pick("DUE_WAITING", lang) if waits else self.calendar.date_text(due, lang) if due else "—"
        notice = {**self.notice("citizen", ticket, title, lang), "due": said}
        if not waits:  # heard from someone on duty: a later spell with nobody is told again (waiting_told)
            tickets.forget_reminder(db, ticket["id"], tickets.WAITING_TOLD)
        return [Reply(text, to=ticket["openid"], extra={"notice": notice})]

    def notice(self, audience: str, ticket: dict, title: str, lang: str | None = None) -> dict:
        """What happened, channel-neutral: each channel (bot/channels/) renders it its own way (a WeChat template
        message outside the 48-hour window, a line in the workbench's notification list). A citizen who writes
        English reads its fields in English (`lang`), as the text itself (their deadline: tell_citizen)."""
        if lang == "en":
            return {"audience": audience, "ticket": ticket["number"], "lang": "en",
                    "title": texts.NOTICE_TITLES_EN.get(title, title),
                    "state": texts.STATE_NAMES_EN[ticket["state"]],
                    "due": self.calendar.date_text(ticket["due_at"], "en") if ticket["due_at"] else "—"}
        return {"audience": audience, "ticket": ticket["number"], "title": title,
                "state": texts.STATE_NAMES[ticket["state"]], "due": self._due(ticket)}
