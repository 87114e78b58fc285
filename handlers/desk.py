"""Tickets after submission: who is told about a new ticket, the staff's commands from WeChat (待办, 详情, 签收,
回复, 办结, 退回, 转派), binding staff accounts (绑定), and the citizen's side of the exchange.

Every function runs inside the inbound's transaction (see Dispatcher.handle_tx) and returns the replies: the
first goes back to the sender, the rest are pushed through the outbox in the same commit as the change.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from handlers import texts
from handlers.clock import Clock
from handlers.intake import mask_phone
from handlers.messages import Reply
from handlers.workdays import WorkCalendar
from storage import conversations, directory, staff, tickets

NUMBER = r"(JY\d{4}-\d{4,}|\d{1,2})"  # a ticket number, or a line of the last 待办 list
COMMAND = re.compile(r"^(待办|详情|签收|回复|办结|退回|转派|延期|同意延期|不同意延期|撤回|绑定)(?:[\s:：,，]*(.*))?$",
                     re.S)
STAFF_ROLES = ("handler", "supervisor", "leader", "admin")
WIDE_ROLES = ("leader", "admin")  # may act on any ticket
ACTIVE = ("assigned", "accepted", "replied", "reopened")
TODO_TTL = 12 * 3600  # how long "详情 2" refers to the 2nd line of the last 待办 list
TODO_PAGE = 10        # lines per 待办 message: readable on a phone, well under the 2048-byte reply limit
TODO_MAX = 99         # numbered lines kept for 详情 N (the list is sorted, so these are the most pressing)


@dataclass(frozen=True)
class Templates:
    """Template message ids used when a person is outside WeChat's 48-hour window (empty: wait instead)."""

    staff: str = ""
    citizen: str = ""


class Desk:
    def __init__(self, clock: Clock, calendar: WorkCalendar, duty_office: str, templates: Templates,
                 accept_days: int = 1, bind_limits: tuple[int, int] = (5, 50)):
        self.accept_days = accept_days
        self.bind_limits = bind_limits
        self.clock = clock
        self.calendar = calendar
        self.duty_office = duty_office
        self.templates = templates

    # -- entry -----------------------------------------------------------------------------------------------
    def command(self, db, user: dict, openid: str, text: str) -> list[Reply] | None:
        """Replies if `text` is a desk command, else None (the message is something else). `user` is the
        sender's row (empty for someone never seen)."""
        m = COMMAND.match(text)
        if not m:
            return None
        verb, rest = m.group(1), (m.group(2) or "").strip()
        if verb == "绑定":
            return [Reply(self._bind(db, openid, rest))]
        if user.get("role") not in STAFF_ROLES:
            return self._citizen(db, openid, verb, rest)
        if verb == "待办":
            return [Reply(self._todo(db, openid, user, rest))]
        number, rest = self._number(db, openid, rest)
        if number is None:
            tail = " 内容" if verb in ("回复", "办结", "退回") else " 单位" if verb == "转派" else ""
            return [Reply(texts.NEED_TICKET.format(verb=verb, tail=tail))]
        ticket = tickets.get(db, number)
        if ticket is None:
            return [Reply(texts.NO_SUCH_TICKET.format(number=number))]
        if not self._in_scope(db, user, ticket):
            return [Reply(texts.NOT_YOURS.format(number=number))]
        handler = {"详情": self._detail, "签收": self._accept, "回复": self._reply, "办结": self._resolve,
                   "退回": self._bounce, "转派": self._transfer, "延期": self._extend,
                   "同意延期": self._approve_extension, "不同意延期": self._reject_extension}[verb]
        return handler(db, user, ticket, rest)

    @staticmethod
    def staff_help(user: dict) -> str | None:
        return texts.STAFF_HELP if user.get("role") in STAFF_ROLES else None

    # -- new tickets ------------------------------------------------------------------------------------------
    def dispatch_notices(self, db, ticket: dict[str, Any]) -> list[Reply]:
        """Tell the people who must act. A unit with nobody bound yet: its supervisor, then the duty office,
        then the leaders; the ticket is marked unattended so it never sits silently with nobody."""
        unit = directory.get(db, ticket["unit_code"]) or {"code": ticket["unit_code"], "name": "未定"}
        recipients, stand_in = self.recipients(db, unit["code"])
        prefix = ""
        if stand_in:
            note = texts.UNATTENDED_NOTE.format(unit=unit["name"], to=stand_in)
            tickets.transition(db, ticket, ticket["state"], "system", self.clock.now(), "unattended", note,
                               unattended=1)
            prefix = texts.UNATTENDED_PREFIX.format(unit=unit["name"])
        text = prefix + self._new_ticket_text(db, ticket)
        return [self.to_staff(o, text, ticket, "新留言待签收") for o in recipients]

    def recipients(self, db, unit_code: str) -> tuple[list[str], str | None]:
        """Who acts for a unit: its handlers, else its supervisor; with nobody bound, the duty office, then the
        leaders. The second value names the stand-in when the unit itself has nobody."""
        own = staff.of_unit(db, unit_code, ("handler",)) or staff.of_unit(db, unit_code, ("supervisor",))
        if own:
            return own, None
        duty = staff.of_unit(db, self.duty_office) if unit_code != self.duty_office else []
        if duty:
            unit = directory.get(db, self.duty_office)
            return duty, unit["name"] if unit else "值班室"
        return staff.leaders(db), "局领导"

    def _new_ticket_text(self, db, ticket: dict[str, Any]) -> str:
        school = directory.get(db, ticket["school_code"])
        return texts.NEW_TICKET.format(
            number=ticket["number"], kind=texts.KIND_NAMES[ticket["kind"]],
            category=texts.CATEGORY_NAMES.get(ticket["category"], ticket["category"]),
            school_line=f"学校：{school['name']}\n" if school else "", excerpt=texts.excerpt(ticket["text"], 60),
            due=self._due(ticket))

    # -- staff commands ------------------------------------------------------------------------------------------
    def _todo(self, db, openid: str, user: dict, rest: str = "") -> str:
        """The open tickets, nearest deadline first, a page at a time; the numbers run on across pages, so
        `详情 14` works after `待办 2`."""
        if user["role"] in WIDE_ROLES:
            rows = tickets.open_all(db, TODO_MAX)
        else:
            units = [user["unit_code"]]
            if user["role"] == "supervisor":
                units += [u["code"] for u in directory.children(db, user["unit_code"])]
            rows = tickets.open_for_units(db, units, TODO_MAX)
        if not rows:
            return texts.NO_TODO_ALL if user["role"] in WIDE_ROLES else texts.NO_TODO
        pages = (len(rows) + TODO_PAGE - 1) // TODO_PAGE
        page = unicodedata.normalize("NFKC", rest).strip()
        page = min(max(int(page), 1), pages) if page.isdigit() else 1
        conversations.put(db, openid, "desk", "todo", {"items": [t["number"] for t in rows]}, self.clock.now(),
                          TODO_TTL)
        first = (page - 1) * TODO_PAGE
        lines = [texts.TODO_HEAD.format(total=len(rows)) if len(rows) < TODO_MAX else
                 texts.TODO_HEAD_MANY.format(total=TODO_MAX)]
        for i, t in enumerate(rows[first:first + TODO_PAGE], first + 1):
            lines.append(texts.TODO_LINE.format(
                i=i, number=t["number"], kind=texts.KIND_NAMES[t["kind"]],
                category=texts.CATEGORY_NAMES.get(t["category"], t["category"]), state=texts.STATE_NAMES[t["state"]],
                due=self._due(t), flags=self._flags(t)))
        lines.append(texts.TODO_FOOT)
        if page < pages:
            lines.append(texts.TODO_MORE.format(page=page, pages=pages, next=page + 1))
        return "\n".join(lines)

    def _detail(self, db, user: dict, ticket: dict, rest: str) -> list[Reply]:
        unit = directory.get(db, ticket["unit_code"])
        school = directory.get(db, ticket["school_code"])
        viewer_unit = directory.get(db, user.get("unit_code"))
        at_school = viewer_unit is not None and viewer_unit["kind"] in ("school", "kindergarten")
        if ticket["anonymous"] and at_school:
            identity = texts.IDENTITY_HIDDEN
        else:
            who = ticket["openid"][:4] + "****" + ticket["openid"][-2:]
            identity = texts.IDENTITY_SHOWN.format(who=who, phone=mask_phone(ticket["contact_phone"]))
        created = dt.datetime.fromtimestamp(ticket["created_at"], self.calendar.tz).strftime("%m-%d %H:%M")
        lines = [texts.DETAIL.format(
            number=ticket["number"], kind=texts.KIND_NAMES[ticket["kind"]],
            category=texts.CATEGORY_NAMES.get(ticket["category"], ticket["category"]),
            state=texts.STATE_NAMES[ticket["state"]], flags=self._flags(ticket),
            unit=unit["name"] if unit else "待分派", school_line=f"学校：{school['name']}\n" if school else "",
            created=created, due=self._due(ticket), identity=identity, text=texts.excerpt(ticket["text"], 600))]
        if ticket["attachments"]:
            lines.append(f"附件：{len(ticket['attachments'])}个")
        why = [f"{e['word']}({e['weight']:+g})" for e in ticket["routing"].get("explanation", [])[:4]]
        if why:
            lines.append(texts.DETAIL_ROUTING.format(why="、".join(why)))
        lines.append(texts.DETAIL_HISTORY)
        for event in tickets.events(db, ticket["id"])[-8:]:
            when = dt.datetime.fromtimestamp(event["at"], self.calendar.tz).strftime("%m-%d %H:%M")
            name = texts.EVENT_NAMES.get(event["action"] or "", texts.STATE_NAMES.get(event["to_state"], ""))
            note = f"：{texts.excerpt(event['note'], 30)}" if event["note"] and event["action"] not in (
                "submit", "assign") else ""
            lines.append(f"{when} {name}{note}")
        lines.append(texts.DETAIL_ACTIONS.format(number=ticket["number"]))
        return [Reply("\n".join(lines))]

    def _accept(self, db, user: dict, ticket: dict, rest: str) -> list[Reply]:
        if ticket["state"] == "accepted":
            return [Reply(texts.ALREADY_ACCEPTED.format(number=ticket["number"]))]
        if ticket["state"] not in ("assigned", "reopened"):
            return [self._wrong_state(ticket, "签收")]
        ticket = self._mark_accepted(db, user, ticket)
        return [Reply(texts.ACCEPTED_OK.format(number=ticket["number"], due=self._due(ticket))),
                self._citizen_accepted(db, ticket)]

    def _reply(self, db, user: dict, ticket: dict, rest: str) -> list[Reply]:
        if not rest:
            return [Reply(texts.NEED_TEXT.format(what="答复内容", verb="回复", number=ticket["number"],
                                                 example="您好，已核实……"))]
        if ticket["state"] not in ACTIVE:
            return [self._wrong_state(ticket, "回复")]
        out: list[Reply] = [Reply(texts.REPLIED_OK.format(number=ticket["number"]))]
        if ticket["state"] in ("assigned", "reopened"):
            ticket = self._mark_accepted(db, user, ticket)
        ticket = tickets.transition(db, ticket, "replied", user["openid"], self.clock.now(), "reply", rest)
        unit = directory.get(db, ticket["unit_code"])
        out.append(self.to_citizen(ticket, texts.CITIZEN_STAFF_REPLY.format(
            unit=unit["name"], number=ticket["number"], text=rest), "留言有新答复"))
        return out

    def _resolve(self, db, user: dict, ticket: dict, rest: str) -> list[Reply]:
        if not rest:
            return [Reply(texts.NEED_TEXT.format(what="办理结果", verb="办结", number=ticket["number"],
                                                 example="已督促学校退还资料费"))]
        if ticket["state"] not in ACTIVE:
            return [self._wrong_state(ticket, "办结")]
        if ticket["state"] in ("assigned", "reopened"):
            ticket = self._mark_accepted(db, user, ticket)
        now = self.clock.now()
        ticket = tickets.transition(db, ticket, "resolved", user["openid"], now, "resolve", rest,
                                    resolution=rest, resolved_at=now)
        return [Reply(texts.RESOLVED_OK.format(number=ticket["number"])),
                self.to_citizen(ticket, texts.CITIZEN_RESOLVED.format(number=ticket["number"], text=rest)
                                + "\n" + texts.RATE_ASK, "留言已办结")]

    def _bounce(self, db, user: dict, ticket: dict, rest: str) -> list[Reply]:
        if not rest:
            return [Reply(texts.NEED_TEXT.format(what="退回理由", verb="退回", number=ticket["number"],
                                                 example="不属本校职责，应由区教育局处理"))]
        if ticket["unit_code"] == self.duty_office:
            return [Reply(texts.DUTY_CANNOT_BOUNCE.format(number=ticket["number"]))]
        if ticket["state"] not in ACTIVE:
            return [self._wrong_state(ticket, "退回")]
        bounces = ticket["bounces"] + 1
        from_unit = directory.get(db, ticket["unit_code"])
        ticket = tickets.transition(db, ticket, "bounced", user["openid"], self.clock.now(), "bounce", rest,
                                    unit_code=self.duty_office, bounces=bounces, arbitration=int(bounces >= 2),
                                    accepted_by=None, accepted_at=None)
        if bounces >= 2:  # twice bounced: the bureau's leaders decide, not another round of passing it on
            notice = texts.ARBITRATION.format(number=ticket["number"], reason=rest)
            recipients = staff.leaders(db) or staff.of_unit(db, self.duty_office)
        else:
            notice = texts.BOUNCED_TO_DUTY.format(number=ticket["number"], unit=from_unit["name"], reason=rest)
            recipients = staff.of_unit(db, self.duty_office) or staff.leaders(db)
        return [Reply(texts.BOUNCED_OK.format(number=ticket["number"])),
                *[self.to_staff(o, notice, ticket, "留言被退回") for o in recipients]]

    def _transfer(self, db, user: dict, ticket: dict, rest: str) -> list[Reply]:
        if not rest:
            return [Reply(texts.NEED_TEXT.format(what="承办单位", verb="转派", number=ticket["number"],
                                                 example="江南区教育局"))]
        dispatcher = user["unit_code"] == self.duty_office  # the bureau's duty office dispatches bounced tickets
        if ticket["arbitration"] and user["role"] not in WIDE_ROLES:
            return [Reply(texts.ARBITRATION_ROLE)]
        if user["role"] == "handler" and not dispatcher:
            return [Reply(texts.TRANSFER_ROLE)]
        target, error = self._find_unit(db, rest)
        if target is None:
            return [Reply(error)]
        now = self.clock.now()
        tickets.record_correction(db, ticket, user["openid"], target["code"], now, rest)
        ticket = tickets.transition(db, ticket, "assigned", user["openid"], now, "transfer", f"转派至{target['name']}",
                                    unit_code=target["code"], arbitration=0, unattended=0, accepted_by=None,
                                    accepted_at=None, accept_due_at=self.calendar.due(now, self.accept_days))
        return [Reply(texts.TRANSFERRED_OK.format(number=ticket["number"], unit=target["name"])),
                *self.dispatch_notices(db, ticket),
                self.to_citizen(ticket, texts.CITIZEN_TRANSFERRED.format(number=ticket["number"],
                                                                          unit=target["name"]), "留言已转办")]

    def _extend(self, db, user: dict, ticket: dict, rest: str) -> list[Reply]:
        m = re.match(r"^(\d{1,2})\s*(?:个工作日|个|天|日)?[\s,，:：]*(.+)$", unicodedata.normalize("NFKC", rest), re.S)
        if not m or not 1 <= int(m.group(1)) <= 30:
            return [Reply(texts.EXTENSION_NEEDS.format(number=ticket["number"]))]
        if ticket["extension"]:
            return [Reply(texts.EXTENSION_ONCE.format(number=ticket["number"]))]
        if ticket["state"] not in ACTIVE:
            return [self._wrong_state(ticket, "延期")]
        days, reason = int(m.group(1)), m.group(2).strip()
        now = self.clock.now()
        ticket = tickets.transition(db, ticket, ticket["state"], user["openid"], now, "extension_request",
                                    f"{days}个工作日：{reason}", extension={
                                        "days": days, "reason": reason, "by": user["openid"], "state": "requested",
                                        "at": now})
        approvers = staff.of_unit(db, ticket["unit_code"], ("supervisor",))
        unit = directory.get(db, ticket["unit_code"])
        if not approvers and unit and unit["parent"]:
            approvers = staff.of_unit(db, unit["parent"], ("supervisor",))
        reply = texts.EXTENSION_SENT.format(number=ticket["number"], days=days)
        if not approvers:
            approvers = staff.leaders(db) or staff.of_unit(db, self.duty_office)
            reply += "\n" + texts.EXTENSION_NO_SUPERVISOR
        notice = texts.EXTENSION_REQUEST.format(number=ticket["number"], unit=unit["name"] if unit else "",
                                                days=days, reason=reason)
        return [Reply(reply), *[self.to_staff(o, notice, ticket, "延期申请") for o in approvers if o != user["openid"]]]

    def _approve_extension(self, db, user: dict, ticket: dict, rest: str) -> list[Reply]:
        return self._decide_extension(db, user, ticket, True)

    def _reject_extension(self, db, user: dict, ticket: dict, rest: str) -> list[Reply]:
        return self._decide_extension(db, user, ticket, False)

    def _decide_extension(self, db, user: dict, ticket: dict, approve: bool) -> list[Reply]:
        ext = ticket["extension"]
        if not ext or ext.get("state") != "requested":
            return [Reply(texts.EXTENSION_NONE.format(number=ticket["number"]))]
        if user["role"] == "handler":
            return [Reply(texts.EXTENSION_ROLE)]
        now = self.clock.now()
        ext = {**ext, "state": "approved" if approve else "rejected", "decided_by": user["openid"], "decided_at": now}
        due = self.calendar.due(ticket["due_at"], ext["days"]) if approve else ticket["due_at"]
        ticket = tickets.transition(db, ticket, ticket["state"], user["openid"], now,
                                    "extension_approved" if approve else "extension_rejected",
                                    self.calendar.date_text(due), extension=ext, due_at=due)
        fields = {"number": ticket["number"], "due": self.calendar.date_text(due)}
        if not approve:
            return [Reply(texts.EXTENSION_REJECTED.format(**fields)),
                    self.to_staff(ext["by"], texts.EXTENSION_TO_HANDLER_NO.format(**fields), ticket, "延期未同意")]
        return [Reply(texts.EXTENSION_APPROVED.format(**fields)),
                self.to_staff(ext["by"], texts.EXTENSION_TO_HANDLER_OK.format(**fields), ticket, "延期已同意"),
                self.to_citizen(ticket, texts.CITIZEN_EXTENDED.format(reason=ext["reason"], **fields), "办结时限延长")]

    # -- citizens ---------------------------------------------------------------------------------------------
    def _citizen(self, db, openid: str, verb: str, rest: str) -> list[Reply]:
        if verb == "回复":
            return self._citizen_reply(db, openid, rest)
        if verb == "撤回":
            return self._withdraw(db, openid, rest)
        if verb == "详情":
            return None  # a citizen's 详情 is their 查询: the dispatcher handles it
        return [Reply(texts.STAFF_ONLY)]

    def _citizen_reply(self, db, openid: str, rest: str) -> list[Reply]:
        m = re.match(r"^(JY\d{4}-\d{4,})[\s:：,，]*(.*)$", rest, re.S | re.I)
        if m:
            ticket, text = tickets.get(db, m.group(1).upper()), m.group(2).strip()
            if ticket is None or ticket["openid"] != openid:
                return [Reply(texts.TICKET_NOT_FOUND.format(number=m.group(1).upper()))]
        else:
            waiting = [t for t in tickets.for_citizen(db, openid, 20) if t["state"] == "replied"]
            if len(waiting) != 1 or not rest:
                return [Reply(texts.CITIZEN_REPLY_WHICH)]
            ticket, text = waiting[0], rest
        if not text:
            return [Reply(texts.CITIZEN_REPLY_WHICH)]
        if ticket["state"] not in tickets.OPEN_STATES:
            return [Reply(texts.CITIZEN_TICKET_CLOSED.format(number=ticket["number"]))]
        tickets.add_event(db, ticket["id"], self.clock.now(), openid, ticket["state"], ticket["state"], text,
                          "citizen_reply")
        recipients = [ticket["accepted_by"]] if ticket["accepted_by"] else staff.of_unit(db, ticket["unit_code"])
        notice = texts.CITIZEN_REPLIED.format(number=ticket["number"], text=text)
        return [Reply(texts.CITIZEN_REPLY_SENT.format(number=ticket["number"])),
                *[self.to_staff(o, notice, ticket, "群众回复") for o in recipients]]

    def _withdraw(self, db, openid: str, rest: str) -> list[Reply]:
        """The citizen takes a ticket back (the matter resolved itself, or was filed by mistake)."""
        m = re.match(r"^(JY\d{4}-\d{4,})[\s:：,，]*(.*)$", unicodedata.normalize("NFKC", rest), re.S | re.I)
        if not m:
            return [Reply(texts.WITHDRAW_WHICH)]
        ticket = tickets.get(db, m.group(1).upper())
        if ticket is None or ticket["openid"] != openid:
            return [Reply(texts.TICKET_NOT_FOUND.format(number=m.group(1).upper()))]
        if ticket["state"] not in tickets.OPEN_STATES:
            return [Reply(texts.WITHDRAW_TOO_LATE.format(number=ticket["number"],
                                                         state=texts.STATE_NAMES[ticket["state"]]))]
        now = self.clock.now()
        ticket = tickets.transition(db, ticket, "withdrawn", openid, now, "withdraw", m.group(2).strip() or None,
                                    closed_at=now, close_reason="withdrawn")
        notice = texts.WITHDRAWN_NOTICE.format(number=ticket["number"])
        recipients = [ticket["accepted_by"]] if ticket["accepted_by"] else staff.of_unit(db, ticket["unit_code"])
        return [Reply(texts.WITHDRAWN.format(number=ticket["number"])),
                *[self.to_staff(o, notice, ticket, "群众撤回") for o in recipients]]

    def _citizen_accepted(self, db, ticket: dict) -> Reply:
        unit = directory.get(db, ticket["unit_code"])
        return self.to_citizen(ticket, texts.CITIZEN_ACCEPTED.format(
            number=ticket["number"], unit=unit["name"], due=self._due(ticket)), "留言已签收")

    # -- binding ---------------------------------------------------------------------------------------------
    def _bind(self, db, openid: str, code: str) -> str:
        try:
            bound = staff.redeem(db, code, openid, self.clock.now(), self.bind_limits)
        except staff.InviteError as exc:
            return texts.BIND_ERRORS[exc.reason]
        unit = directory.get(db, bound["unit_code"])
        return texts.BOUND.format(name=bound["name"], unit=unit["name"], role=texts.ROLE_NAMES[bound["role"]])

    # -- helpers -----------------------------------------------------------------------------------------------
    def _mark_accepted(self, db, user: dict, ticket: dict) -> dict:
        now = self.clock.now()
        return tickets.transition(db, ticket, "accepted", user["openid"], now, "accept", user.get("name"),
                                  accepted_by=user["openid"], accepted_at=now)

    def _number(self, db, openid: str, rest: str) -> tuple[str | None, str]:
        """The ticket a command names, by number or by its line in the last 待办 list; and the words after it."""
        parts = re.split(r"[\s:：,，]+", rest, maxsplit=1)
        head, tail = parts[0], parts[1] if len(parts) > 1 else ""
        ref = unicodedata.normalize("NFKC", head).upper()  # "１" or "ｊｙ2611-0001" from a phone keyboard
        if not re.fullmatch(NUMBER, ref, re.I):
            return None, rest
        tail = tail.strip()  # the person's own words keep their full-width punctuation
        if ref.startswith("JY"):
            return ref, tail
        conv = conversations.get(db, openid, self.clock.now())
        items = conv["data"].get("items", []) if conv and conv["flow"] == "desk" and not conv["expired"] else []
        index = int(ref) - 1
        return (items[index], tail) if 0 <= index < len(items) else (None, rest)

    def _in_scope(self, db, user: dict, ticket: dict) -> bool:
        if user["role"] in WIDE_ROLES or user["unit_code"] == ticket["unit_code"]:
            return True
        unit = directory.get(db, ticket["unit_code"])
        return user["role"] == "supervisor" and unit is not None and unit["parent"] == user["unit_code"]

    def _find_unit(self, db, query: str) -> tuple[dict | None, str]:
        units = directory.all_units(db)
        exact = [u for u in units if query in (u["code"], u["name"])]
        hits = exact or [u for u in units if query in u["name"]]
        if len(hits) == 1:
            return hits[0], ""
        if not hits:
            return None, texts.UNIT_NOT_FOUND.format(query=query)
        return None, texts.UNIT_AMBIGUOUS.format(query=query, names="、".join(u["name"] for u in hits[:4]))

    def _due(self, ticket: dict) -> str:
        return self.calendar.date_text(ticket["due_at"]) if ticket["due_at"] else "—"

    def _flags(self, ticket: dict) -> str:
        flags = ""
        if ticket["due_at"] and ticket["due_at"] < self.clock.now():
            flags += texts.OVERDUE
        if ticket.get("arbitration"):
            flags += texts.FLAG_ARBITRATION
        if ticket.get("unattended"):
            flags += texts.FLAG_UNATTENDED
        return flags

    def _wrong_state(self, ticket: dict, verb: str) -> Reply:
        return Reply(texts.WRONG_STATE.format(number=ticket["number"], state=texts.STATE_NAMES[ticket["state"]],
                                              verb=verb))

    def to_staff(self, openid: str, text: str, ticket: dict, title: str) -> Reply:
        return Reply(text, to=openid, extra=self._template(self.templates.staff, ticket, title))

    def to_citizen(self, ticket: dict, text: str, title: str) -> Reply:
        return Reply(text, to=ticket["openid"], extra=self._template(self.templates.citizen, ticket, title))

    def _template(self, template_id: str, ticket: dict, title: str) -> dict:
        if not template_id:
            return {}
        return {"template": {"template_id": template_id, "url": None, "data": {
            "first": {"value": title}, "keyword1": {"value": ticket["number"]},
            "keyword2": {"value": texts.STATE_NAMES[ticket["state"]]}, "keyword3": {"value": self._due(ticket)},
            "remark": {"value": "请进入公众号查看详情。"}}}}
