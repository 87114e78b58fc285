"""The core's one entry point: `await dispatcher.handle(inbound) -> list[Reply]`.

Order for a message: commands (帮助, 取消, 查询) -> the running conversation -> a new intake conversation.

Handling runs as ONE transaction on the database's writer thread (`handle_tx`): the conversation step, the
ticket it creates and the pushes it causes commit together with the record that the inbound was handled, or not
at all. So a process killed mid-way leaves nothing half done, and one person's messages are handled strictly
one after another without any lock of our own.
"""
from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from handlers import digest, review, texts
from handlers.campaign import Campaign
from handlers.clock import Clock
from handlers.deadlines import Watch
from handlers.desk import Desk, Templates
from handlers.faq import FaqBook
from handlers.followup import FollowUp
from handlers.intake import Intake, IntakeServices, Plan, normalise
from handlers.messages import Inbound, Reply
from handlers.routing import Router
from handlers.survey import Policy as SurveyPolicy
from handlers.workdays import WorkCalendar
from storage import conversations, directory, outbox, staff, tickets, users
from storage.db import Database

log = logging.getLogger(__name__)
TICKET_NUMBER = re.compile(r"JY\d{4}-\d{4,}", re.IGNORECASE)


@dataclass(frozen=True)
class Policy:
    """The configurable rules of the core (from the [bot], [routing] and [deadlines] config sections)."""

    name: str = "听见"
    organisation: str = "市教育局"
    commitment: str = ""
    school_categories: frozenset[str] = frozenset({"burden", "safety"})
    district_categories: frozenset[str] = frozenset({"ethics", "admission", "teachers"})
    duty_office: str = "jyj-bgs"
    similar_days: int = 7
    conversation_minutes: int = 30
    public_url: str = ""  # base of the public pages (/u/…) linked in answers; empty: no links
    # Wrong invite codes allowed per hour: from one person, and from everyone.
    bind_limits: tuple[int, int] = (5, 50)
    days: dict[str, int] = field(default_factory=lambda: {
        "inquiry": 3, "complaint": 7, "suggestion": 7, "praise": 7, "safety_complaint": 1, "accept": 1,
        "redo": 3})


class Dispatcher:
    def __init__(self, db: Database, router: Router, clock: Clock | None = None, policy: Policy | None = None,
                 calendar: WorkCalendar | None = None, templates: Templates | None = None,
                 surveys: SurveyPolicy | None = None, faq: FaqBook | None = None):
        self.db = db
        self.router = router
        self.clock = clock or Clock()
        self.policy = policy or Policy()
        self.calendar = calendar or WorkCalendar()
        self.desk = Desk(self.clock, self.calendar, self.policy.duty_office, templates or Templates(),
                         accept_days=self.policy.days["accept"], bind_limits=self.policy.bind_limits)
        self.followup = FollowUp(self.clock, self.calendar, self.desk, self.policy.days["redo"])
        self.watch = Watch(self.clock, self.calendar, self.desk)
        self.campaign = Campaign(self, surveys, faq)  # issue 13: 评议, 常见问题, menu clicks

    async def handle(self, inbound: Inbound) -> list[Reply]:
        return await self.db.run(self.handle_tx, inbound)

    def handle_tx(self, db, inbound: Inbound) -> list[Reply]:
        """Runs inside a transaction on the writer thread: no awaiting, no I/O but this database."""
        if inbound.kind == "event":
            return self._event(db, inbound)
        if inbound.kind not in ("text", "voice", "image", "video"):
            if inbound.kind in texts.MEDIA_NAMES:
                return [Reply(texts.RECEIVED_MEDIA.format(what=texts.MEDIA_NAMES[inbound.kind]))]
            return [Reply(texts.UNSUPPORTED)]
        text = normalise(inbound.text)
        now = self.clock.now()
        user = users.get(db, inbound.openid) or {}  # read once: role for the commands, scene for a new message
        command = self.desk.command(db, user, inbound.openid, inbound.text.strip()) \
            if inbound.kind == "text" else None
        if command is None and inbound.kind == "text":  # issue 13: 点评 (leaders' comments on units)
            commented = review.comment_command(db, user, inbound.text.strip(), now, self.calendar.tz,
                                               self.desk._find_unit)
            command = [Reply(commented)] if commented is not None else None
        if command is None:
            command = self._command(db, user, inbound.openid, text)
        if command is not None:
            return command
        if text.startswith("评价"):  # an explicit rating, even in the middle of writing a new message
            rated = self.followup.rate(db, inbound.openid, inbound.text)
            if rated is not None:
                return rated
        # -- issue 13 (campaign): a survey or an instant answer's feedback in progress, or 评议 --------------------
        handled, prefix = self.campaign.message(db, user, inbound, text)
        if handled is not None:
            return handled
        staff_help = self.desk.staff_help(user)
        if staff_help:  # staff talk to the bot in commands; free text gets them the list of commands
            return [Reply(staff_help)]
        conv = conversations.get(db, inbound.openid, now)
        if conv and conv["flow"] != "intake":
            conv = None
        if not conv or conv["expired"]:
            rated = self.followup.rate(db, inbound.openid, inbound.text) if inbound.kind == "text" else None
            if rated is not None:
                return rated
        if conv and conv["expired"]:
            prefix = [*prefix, Reply(texts.EXPIRED.format(minutes=self.policy.conversation_minutes))]
            conv = None
        intake = self._intake(db)
        if conv:
            state, data, replies = intake.step(conv["state"], conv["data"], inbound)
        else:
            if not text and inbound.kind == "text":
                return [*prefix, Reply(texts.HELP)]
            answered = self.campaign.instant_answer(db, inbound, text)  # issue 13: 常见问题 answered at once
            if answered is not None:
                return [*prefix, *answered]
            school = self._scene_school(db, user.get("scene"))
            state, data, replies = intake.start(inbound, school)
        replies = [*replies, *intake.s.notices]  # the staff told about a ticket just submitted
        if state is None:
            conversations.delete(db, inbound.openid)
        else:
            conversations.put(db, inbound.openid, "intake", state, data, now,
                              self.policy.conversation_minutes * 60)
        return [*prefix, *replies]

    def sweep_tx(self, db, ids: list[int] | None = None) -> int:
        """The deadline watch over the tickets due for a check (or `ids`, chosen on a reader), in one
        transaction with the reminders it queues."""
        pushes = self.watch.sweep(db, ids)
        return outbox.enqueue_replies(db, [r.to_dict() for r in pushes], "", self.clock.now(), source="deadlines")

    def digest_tx(self, db, week: str, link: Callable[[str, str, str], str]) -> int:
        """Send the week's digests that have not gone yet, in one transaction (tests, tools). The service
        prepares them on a reader (digest_prepare) and records them in short batches (digest_record_tx)."""
        return self.digest_record_tx(db, week, self.digest_prepare(db, week, link))

    def digest_jobs(self, db, week: str) -> list[tuple[str, list[str]]]:
        """Read-only: the (scope, recipients) of `week` still to send — bureau-wide to the leaders, each unit's own
        to its supervisors. Cheap: the weekly job asks this before it starts any heavy work."""
        first = tickets.first_created(db)
        if first is None or first >= digest.bounds(week, self.calendar.tz)[1]:
            return []  # the service was not in use yet that week: nothing to report
        done = tickets.digests_sent(db, week)
        jobs = [("bureau", staff.leaders(db))]
        jobs += [(code, staff.of_unit(db, code, ("supervisor",))) for code in staff.units_with(db, "supervisor")]
        units = {u["code"] for u in directory.all_units(db)}
        return [(scope, people) for scope, people in jobs
                if people and scope not in done and (scope == "bureau" or scope in units)]

    def digest_prepare(self, db, week: str, link: Callable[[str, str, str], str],
                       ranking_link: Callable[[str], str] | None = None) -> list[dict]:
        """Read-only: the digests of `week` still to send, with their texts and hot topics, built from one read of
        the week's tickets. When a month ended in the week, each also links to that month's ranking (绩效考核,
        `ranking_link(month)`)."""
        now, tz = self.clock.now(), self.calendar.tz
        jobs = self.digest_jobs(db, week)
        if not jobs:
            return []
        units = {u["code"]: u for u in directory.all_units(db)}
        start, end = digest.bounds(week, tz)
        topics = digest.hot_topics_for(tickets.texts_created(db, start, end),
                                       {scope: digest.scope_members(units, scope) for scope, _ in jobs},
                                       self.router.tokenizer)
        built = digest.build_all(db, week, now, tz, [scope for scope, _ in jobs], self.router.tokenizer, topics)
        month = review.month_ended_in(start, end, tz) if ranking_link else None
        tail = "\n" + texts.DIGEST_RANKING.format(month=review.period_name(month), url=ranking_link(month)) \
            if month else ""
        # Each recipient's own link (`link(week, scope, openid)`): it stops opening once they no longer hold the role.
        return [{"scope": scope, "to": people,
                 "texts": [digest.message(built[scope], tz, link(week, scope, o)) + tail for o in people],
                 "topics": topics[scope]} for scope, people in jobs]

    def digest_record_tx(self, db, week: str, items: list[dict]) -> int:
        """On the writer: record and queue prepared digests; each (week, scope) once, whoever raced."""
        now = self.clock.now()
        pushes = []
        for item in items:
            tickets.save_topics(db, week, item["scope"], item["topics"], now)
            if tickets.digest_sent(db, week, item["scope"], now):
                pushes += [{"text": text, "to": o} for o, text in zip(item["to"], item["texts"])]
        return outbox.enqueue_replies(db, pushes, "", now, source=f"digest:{week}")

    def _intake(self, db) -> Intake:
        return Intake(_Services(self, db))

    def _command(self, db, user: dict, openid: str, text: str) -> list[Reply] | None:
        if text.lower() in texts.HELP_WORDS:
            return [Reply(self.desk.staff_help(user) or texts.HELP)]
        if text.lower() in texts.CANCEL_WORDS:
            conv = conversations.get(db, openid, self.clock.now())
            conversations.delete(db, openid)
            if conv and not conv["expired"]:
                return [Reply(texts.CANCELLED_FLOW.get(conv["flow"], texts.CANCELLED))]
            return [Reply(texts.NOTHING_TO_CANCEL)]
        for word in texts.QUERY_WORDS:
            if text.startswith(word):
                rest = text[len(word):].strip()
                if not rest:
                    return [Reply(self._my_tickets(db, openid))]
                m = TICKET_NUMBER.fullmatch(rest)
                if m:
                    return [Reply(self._ticket_detail(db, openid, m.group(0).upper()))]
        if TICKET_NUMBER.fullmatch(text):
            return [Reply(self._ticket_detail(db, openid, text.upper()))]
        return None

    def _my_tickets(self, db, openid: str) -> str:
        rows = tickets.for_citizen(db, openid)
        if not rows:
            return texts.NO_TICKETS
        lines = [texts.MY_TICKETS_HEAD]
        for t in rows:
            lines.append(texts.MY_TICKET_LINE.format(
                number=t["number"], kind=texts.KIND_NAMES[t["kind"]], state=texts.STATE_NAMES[t["state"]],
                due=self.calendar.date_text(t["due_at"]) if t["due_at"] else "—"))
        lines.append(texts.MY_TICKETS_FOOT)
        return "\n".join(lines)

    def _ticket_detail(self, db, openid: str, number: str) -> str:
        ticket = tickets.get(db, number)
        if ticket is None or ticket["openid"] != openid:  # someone else's ticket is "not found", not "forbidden"
            return texts.TICKET_NOT_FOUND.format(number=number)
        unit = directory.get(db, ticket["unit_code"])
        lines = [texts.TICKET_DETAIL.format(
            number=number, kind=texts.KIND_NAMES[ticket["kind"]], state=texts.STATE_NAMES[ticket["state"]],
            unit=unit["name"] if unit else "待分派",
            due=self.calendar.date_text(ticket["due_at"]) if ticket["due_at"] else "—",
            excerpt=texts.excerpt(ticket["text"], 60))]
        if ticket["resolution"]:
            lines.append(f"办理结果：{texts.excerpt(ticket['resolution'], 200)}")
        lines.append(texts.TICKET_HISTORY_HEAD)
        for event in tickets.events(db, ticket["id"]):
            if event["action"] in ("unattended", "extension_request", "extension_rejected"):
                continue  # internal handling, not the citizen's concern
            when = dt.datetime.fromtimestamp(event["at"], self.calendar.tz).strftime("%m-%d %H:%M")
            name = texts.EVENT_NAMES.get(event["action"], texts.STATE_NAMES.get(event["to_state"], ""))
            # What was said to or by the citizen is theirs to read; bounce reasons are internal.
            note = f"：{texts.excerpt(event['note'], 40)}" if event["note"] and event["action"] in (
                "reply", "citizen_reply", "supplement") else ""
            lines.append(f"{when} {name}{note}")
        return "\n".join(lines)

    def _event(self, db, inbound: Inbound) -> list[Reply]:
        now = self.clock.now()
        campaign = self.campaign.event(db, inbound)  # issue 13: survey QR codes, the custom menu
        if campaign is not None:
            return campaign
        if inbound.event == "subscribe":
            users.set_scene(db, inbound.openid, inbound.scene, now)
            unit = self._unit(db, inbound.scene)
            welcome = texts.WELCOME.format(org=self.policy.organisation, bot=self.policy.name,
                                           commitment=self.policy.commitment)
            if unit:
                welcome += "\n" + texts.WELCOME_UNIT.format(unit=unit["name"])
                if unit.get("commitment"):
                    welcome += "\n" + texts.UNIT_COMMITMENT.format(unit=unit["name"], text=unit["commitment"])
                if self.policy.public_url:  # issue 13: the unit's public page (service items, results)
                    welcome += "\n" + texts.PUBLIC_UNIT_PAGE.format(
                        unit=unit["name"], url=f"{self.policy.public_url}/u/{unit['code']}")
            return [Reply(welcome)]
        if inbound.event == "scan":
            users.set_scene(db, inbound.openid, inbound.scene, now)
            unit = self._unit(db, inbound.scene)
            if unit:
                return [Reply(texts.SCAN_UNIT.format(unit=unit["name"]))]
            return [Reply(texts.SCAN_UNKNOWN)]
        if inbound.event == "unsubscribe":
            users.set_subscribed(db, inbound.openid, False, now)
            return []  # WeChat delivers nothing to a person who has just left
        if inbound.event == "click":
            if inbound.event_key in ("help", "HELP"):
                return [Reply(texts.HELP)]
            if inbound.event_key in ("query", "QUERY"):
                return [Reply(self._my_tickets(db, inbound.openid))]
            return [Reply(texts.MENU_UNKNOWN)]
        return []  # VIEW and other notifications need no answer

    def _unit(self, db, scene: str | None) -> dict | None:
        if not scene:
            return None
        return directory.by_scene(db, scene)

    def _scene_school(self, db, scene: str | None) -> str | None:
        unit = self._unit(db, scene)
        return unit["code"] if unit and unit["kind"] in ("school", "kindergarten") else None

    # -- assignment: which unit handles a category, for a school or none -----------------------------------
    def plan(self, db, category: str, school_code: str | None, kind: str, routing: dict) -> Plan:
        """Who handles it: a school fixes what is its own to fix (policy.school_categories); the district bureau
        running a named school takes policy.district_categories, 师德 always (never the school itself); the rest
        goes to the city office listed for the category, and the duty office takes what no office claims."""
        school = directory.get(db, school_code)
        unit = None
        if school and category in self.policy.school_categories and category != "ethics":
            unit = school
        elif school and (category in self.policy.district_categories or category == "ethics"):
            parent = directory.get(db, school["parent"])
            unit = parent if parent and parent["kind"] == "district" else None
        if unit is None:
            unit = directory.office_for(db, category)
        if unit is None:
            unit = directory.get(db, self.policy.duty_office)
        days = self.policy.days["safety_complaint"] if (kind == "complaint" and category == "safety") \
            else self.policy.days[kind]
        due = self.calendar.due(self.clock.now(), days)
        return Plan(category=category, unit_code=unit["code"] if unit else None,
                    unit_name=unit["name"] if unit else self.policy.organisation,
                    school_code=school["code"] if school else None, school_name=school["name"] if school else None,
                    routing=routing, due_at=due, due_text=self.calendar.date_text(due), days=days)


class _Services(IntakeServices):
    """The intake conversation's view of routing, the directory and tickets, within one transaction."""

    def __init__(self, d: Dispatcher, db):
        self.d = d
        self.db = db
        self.needs_school = frozenset(d.policy.school_categories | {"ethics", "fees"})
        self.notices: list[Reply] = []

    def route(self, text: str) -> dict:
        return self.d.router.route(text).to_dict()

    def find_school(self, text: str) -> str | None:
        code = self.d.router.find_school(text)
        if code:
            return code
        rows = directory.schools(self.db)
        hits = [r["code"] for r in rows if text and (text in r["name"] or r["name"] in text)]
        return hits[0] if len(hits) == 1 else None

    def similar(self, data: dict) -> dict | None:
        since = self.d.clock.now() - self.d.policy.similar_days * 86400
        found = tickets.similar_open(self.db, data["openid"], data.get("school"), data["category"], since)
        if not found:
            return None
        created = dt.datetime.fromtimestamp(found["created_at"], self.d.calendar.tz)
        return {"number": found["number"], "date": f"{created.month}月{created.day}日",
                "state": texts.STATE_NAMES[found["state"]]}

    def plan(self, category: str, school: str | None, kind: str, routing: dict) -> Plan:
        return self.d.plan(self.db, category, school, kind, routing)

    def submit(self, openid: str, data: dict, plan: Plan) -> dict:
        ticket = tickets.create(
            self.db, openid=openid, kind=data["kind"], category=plan.category, unit_code=plan.unit_code,
            school_code=plan.school_code, text="\n".join(data["parts"]), attachments=data["attachments"],
            contact_phone=data.get("phone") or None, anonymous=data.get("anonymous", True),
            routing=plan.routing, now=self.d.clock.now(), due_at=plan.due_at, tz=self.d.calendar.tz,
            accept_due_at=self.d.calendar.due(self.d.clock.now(), self.d.policy.days["accept"]))
        self.notices.extend(self.d.desk.dispatch_notices(self.db, ticket))
        return ticket

    def append_to(self, number: str, openid: str, text: str, attachments: list) -> None:
        tickets.append_text(self.db, number, openid, text, attachments, self.d.clock.now())
