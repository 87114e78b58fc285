"""Every command a person can type, declared once in TABLE: verb, aliases, who may use it, its arguments, the help
line and the function that carries it out. Parsing, the permission check, the help texts and the "please add X"
answers are all generated from the table, so they cannot drift apart.

A message is a command when it starts with a verb followed by nothing, a separator, or a letter or digit
("回复JY2611-0001 …" works; "查询一下中考分数线" is a question, not a command). A command always answers — a
wrong or unknown ticket number gets a clear error listing the person's own numbers — and never falls through
into writing a new message.
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from handlers import followup, reply_templates, review, texts
from handlers.desk import MAY, NOT_AT_SCHOOLS, not_at_school, permitted
from handlers.messages import INVISIBLE, ReadFirst, Reply, nfkc, read_numbers
from handlers.numbers import MAX_DIGITS, ascii_int
from handlers.routing.normalise import to_simplified
from handlers.textmemo import short_texts
from handlers.vocabulary import DUTY, STAFF_ROLES, SUPERVISORS
from storage import conversations, directory, lifecycle, tickets, users, websessions

if TYPE_CHECKING:
    from handlers.dispatcher import Dispatcher

CITIZEN = frozenset({"citizen"})
STAFF = STAFF_ROLES
EVERYONE = CITIZEN | STAFF
SEPARATORS = " \t\r\n:：,，、;；"
DIGITS = re.compile(r"[0-9]{1,%d}" % MAX_DIGITS)   # ASCII only: NFKC has already turned ０-９ into 0-9


@dataclass(frozen=True)
class Arg:
    """One argument: `name` is how the help and the "please add" answers call it, `example` fills usage lines."""

    kind: str          # ticket | unit | period | days | flag | text | page | code
    name: str
    example: str
    optional: bool = False
    min_digits: int = 1   # bare digits shorter than this are not a ticket reference (评价 3 is a score)
    hint: str = ""        # said with "please add", when the form of the argument needs explaining


# Arguments that are one word, read in their normal form (NFKC: ２０２６－Ｑ４ from a phone keyboard is 2026-Q4) into
# Call.values; a `text` argument is everything left, kept exactly as typed (a leader's ，and 。 stay theirs).
WORD_ARGS = ("unit", "period")
DAYS = re.compile(r"([0-9]{1,2}|[一二两三四五六七八九十]{1,2})\s*(?:个工作日|个|天|日)?[\s,，:：]*")
CN_DAYS = {c: i for i, c in enumerate("零一二三四五六七八九十")} | {"两": 2}


def days_value(word: str) -> int:
    """3, 三, 两, 十, 十五 (days are never more than 30)."""
    if word.isdigit():
        return int(word)
    if len(word) == 2:
        return (CN_DAYS[word[0]] if word[0] != "十" else 1) * 10 + (CN_DAYS[word[1]] if word[1] != "十" else 0)
    return CN_DAYS[word]


TICKET = Arg("ticket", "编号", "JY2611-0001")
TEMPLATE_REF = re.compile(r"[#＃]\s*([0-9０-９]{1,2})")  # 回复 编号 #2: the unit's second 常用回复
SIGNIN_MINUTES = websessions.SIGNIN_SECONDS // 60
CITIZEN_LINK_DAYS = 7     # how long the citizen's own ticket page link opens


@dataclass(frozen=True)
class Command:
    verb: str
    who: frozenset[str]
    args: tuple[Arg, ...]
    help: str
    run: Callable[["Commands", "Call"], list[Reply]]
    aliases: tuple[str, ...] = ()
    hidden: bool = False   # a step another command's answer explains (确认撤回), not listed in the help
    # From a citizen the verb starts an ordinary message ("点评 学校食堂…"), not a refusal.
    citizens_write: bool = False

    @property
    def words(self) -> tuple[str, ...]:
        return (self.verb, *self.aliases)

    def usage(self, example: bool = False, number: str | None = None) -> str:
        """"回复 编号 答复内容" for the help; with example=True, "回复 JY2611-0001 您好，已核实……"."""
        parts = [self.verb]
        for a in self.args:
            if example:
                value = number if (a.kind == "ticket" and number) else a.example
                if value and (not a.optional or a.kind == "ticket"):
                    parts.append(value)
            else:
                parts.append(f"[{a.name}]" if a.optional else a.name)
        return " ".join(parts)

    def help_line(self) -> str:
        return f"· {self.usage()} — {self.help}"

    def admits(self, user: dict, duty_office: str, at_school: bool = False) -> bool:
        """The same rule the desk applies (handlers/desk.py `permitted`) when `who` is one of its MAY entries."""
        action = getattr(self.who, "action", None)
        if action and (user.get("role") or "citizen") in STAFF:
            return permitted(user, action, duty_office, at_school)
        role = user.get("role") or "citizen"
        return role in self.who or (DUTY in self.who and role in STAFF and user.get("unit_code") == duty_office)


@dataclass
class Call:
    """One parsed command: who sent it, which entry, the ticket it names and the words after it."""

    db: object
    user: dict
    openid: str
    command: Command
    raw: str
    ticket: dict | None = None
    rest: str = ""
    values: dict = field(default_factory=dict)
    # (what, args) -> what Dispatcher.read_for reads, off the writer when the caller reads first (a ReadFirst to
    # return), else read here; None: read here
    off_writer: Callable[[str, dict], Any] | None = None


def _match(text: str) -> tuple[str, str] | None:
    """(verb, the rest) if `text` starts with a known verb or alias, longest first."""
    if not text:
        return None
    typed = text
    # 查詢, 評價, 回覆 from a phone set to traditional characters: the same verbs (覆 is also a simplified
    # character, so OpenCC leaves 回覆 alone without another traditional one beside it)
    head = to_simplified(text[:6]).replace("回覆", "回复")
    if head != text[:6] and len(head) == len(text[:6]):
        text = head + text[6:]
    # Only the verbs beginning with the text's first character (lower-cased as the comparison below does):
    # every message passes here, and trying all verbs cost 30 µs each.
    for word, lowered in _BY_FIRST.get(text[0].lower()[0], ()):
        if text[:len(word)].lower() == lowered:
            rest = typed[len(word):]  # the words after the verb as typed
            if not rest:
                return word, ""
            nxt = unicodedata.normalize("NFKC", rest[0])
            if nxt in SEPARATORS or nxt.isascii() and nxt.isalnum():
                return word, rest.lstrip(SEPARATORS)
    return None


# 签收 1-5, 签收 1到10, 签收 3~6: a run of 待办 lines (line numbers, never a ticket number's digits), at most a page
# or two at once.
ACCEPT_ALL = re.compile(r"(?:全部|所有|全都|都)(?:的|留言)?[。.!！\s]*")  # 签收 全部: as 签收全部
ACCEPT_ALL_MAX = 20  # 签收全部 at once: twenty lines fit one reply on a phone; the rest with the next 签收全部
LINE_RANGE = re.compile(r"(?<![\w-])(\d{1,2})\s*[-~～—到至]\s*(\d{1,2})(?![\w-])")


SIGNED = re.compile(re.escape(texts.ACCEPTED_OK).replace(r"\{number\}", r"(\S+)").replace(r"\{due\}", "(.+?)") + "$",
                    re.M)


def _by_deadline(lines: list[str]) -> tuple[list[str], int]:
    """Several tickets signed at once, as a phone shows them: one group a deadline (the numbers, in the order
    signed, on a line under it) instead of a line a ticket (twenty lines for 签收全部); anything else said
    (already signed, a note for the duty office) once, after them. And how many were signed."""
    groups: dict[str, list[str]] = {}
    rest: list[str] = []
    for x in lines:
        first, _, more = x.partition("\n")
        m = SIGNED.fullmatch(first)
        if m is None:
            rest.append(x)
            continue
        groups.setdefault(m.group(2), []).append(m.group(1))
        if more and more not in rest:
            rest.append(more)
    grouped = [texts.ACCEPTED_GROUP.format(due=due, count=len(numbers), numbers="、".join(numbers))
               for due, numbers in groups.items()]
    return grouped + rest, sum(len(n) for n in groups.values())


def _lines_of_range(m: re.Match) -> str:
    first, last = int(m.group(1)), int(m.group(2))
    if not 1 <= first < last or last - first >= 20:
        return m.group(0)
    return " ".join(str(n) for n in range(first, last + 1))


@short_texts  # pure (the table is fixed); every citizen's message asks it
def is_command(text: str) -> bool:
    """Whether `text` starts with a command's verb (查询, 回复 JY2611-0001 …)."""
    return _match(read_numbers(text).strip()) is not None


@short_texts  # pure (fixed tables); every message is asked, and most are no command (issue 10)
def _read_head(raw: str) -> tuple[tuple[str, str] | None, str | None]:
    """(the verb and the rest, or None; the ticket number a text that is no command asks about, or None)."""
    text = read_numbers(raw).strip()  # pasted from another app, invisible, never meant; any dash in a number
    m = _match(text)
    if m is not None:
        return m, None
    # Each run of spaces as one (LOOKUP's spaces are all \s* or [，,\s]*, so what it matches is the same): its
    # several \s* side by side split a long run every way before failing, time cubic in its length on the
    # writer thread (你好 and 1,500 spaces: 10 s, every other message waiting behind it).
    asked = LOOKUP.fullmatch(_SPACES.sub(" ", nfkc(text.strip("。.!！?？ "))))
    return None, asked.group(1) if asked else None


_SPACES = re.compile(r"\s+")


# 我刚才那个能撤回吗 / 把上一条留言撤回: 撤回 of the person's latest ticket (asked to confirm, its words shown). Only
# with a word pointing back at it: 我想撤回 at a summary is about the message on screen (取消), not an older one.
WITHDRAW_ASK = re.compile(r"(?:我|请|麻烦)?(?:想|要)?把?我?(?:刚才|刚刚|上一条|之前|上次)?(?:发|提交|写|反映)?的?(?:那个|那条|那件)?"
                          r"(?:留言|投诉|建议|咨询|问题)?(?:能|可以|能不能|可不可以|怎么|我想|我要|想|要|帮我|给我)?"
                          r"(?:撤回|撤销|撤掉)了?(?:一下)?[吗吧么呢啊]?|"
                          r"(?:我|请)?(?:想|要)?(?:撤回|撤销)(?:一下)?我?(?:刚才|刚刚|上一条|之前|上次)(?:发|提交|写|反映)?的?"
                          r"(?:那个|那条|那件)?(?:留言|投诉|建议|咨询|问题)?[吗吧么呢啊]?")
_POINTS_BACK = re.compile(r"刚才|刚刚|上一条|之前|上次|那个|那条|那件")


@short_texts
def asks_withdraw_latest(raw: str) -> bool:
    text = nfkc(read_numbers(raw)).strip("。.!！?？ ")
    return bool(WITHDRAW_ASK.fullmatch(text) and _POINTS_BACK.search(text))


def split_head(rest: str) -> tuple[str, str]:
    parts = re.split(r"[\s:：,，、;；]+", rest.strip(), maxsplit=1)
    return parts[0], (parts[1].strip() if len(parts) > 1 else "")


class Commands:
    def __init__(self, d: "Dispatcher"):
        self.d = d
        self.desk = d.desk
        self.clock = d.clock

    # -- entry -----------------------------------------------------------------------------------------------
    def handle(self, db, user: dict, openid: str, raw: str,
               off_writer: Callable[[str, dict], Any] | None = None) -> list[Reply] | ReadFirst | None:
        """Replies if `raw` is a command, else None; a ReadFirst when its answer is a long read asked of the
        caller (off_writer: Dispatcher._off_writer for this turn)."""
        m, asked = _read_head(raw)
        if m is None:
            if asked:  # a bare ticket number is a query; so is 查一下JY2611-0005, JY2611-0005进度怎么样了
                m = ("详情" if user.get("role") in STAFF else "查询", asked)
            elif user.get("role") not in STAFF and asks_withdraw_latest(raw):
                latest = tickets.for_citizen(db, openid, 1)
                m = ("撤回", latest[0]["number"] if latest else "")
            else:
                return None
        word, rest = m
        entries = [c for c in TABLE if word.lower() in (w.lower() for w in c.words)]
        if all(not c.args for c in entries) and rest.strip("。.!！?？ "):
            return None  # "取消了校车" is a message, not 取消
        at_school = user.get("role") in STAFF and self.desk.at_school(db, user)
        entry = next((c for c in entries if c.admits(user, self.desk.duty_office, at_school)), None)
        if entry is None and user.get("role") not in STAFF and all(c.citizens_write for c in entries):
            return None
        if entry is None:
            barred = next((c for c in entries if c.admits(user, self.desk.duty_office)), None)
            if barred is not None:  # the role may, a school may not (NOT_AT_SCHOOLS): say what to do instead
                call = Call(db, user, openid, barred, raw, rest=rest)
                self._parse(call)
                return [Reply(not_at_school(barred.who.action, call.ticket["number"] if call.ticket else None))]
            return [Reply(self._not_for(user, entries))]
        if entry.run is Commands.accept and ACCEPT_ALL.fullmatch(unicodedata.normalize("NFKC", rest)):
            entry = next(c for c in TABLE if c.run is Commands.accept_all)  # 签收 全部: the table's 签收全部
        if entry.run is Commands.accept and LINE_RANGE.search(rest):
            call = Call(db, user, openid, entry, raw, rest=rest)
            if not self._todo_items(call):  # 签收 3-5 with no 待办 list on screen: lines of nothing, never the
                return [Reply(texts.LINES_NEED_TODO)]  # tickets numbered …-0003 to …-0005
            rest = LINE_RANGE.sub(_lines_of_range, rest)  # 签收 1-5: the lines of the 待办 list, each
        call = Call(db, user, openid, entry, raw, rest=rest, off_writer=off_writer)
        refused = self._parse(call)
        if refused:
            return [Reply(refused)]
        return entry.run(self, call)

    def _not_for(self, user: dict, entries: list[Command]) -> str:
        return not_for(user, entries)

    def _parse(self, call: Call) -> str | None:
        """Fill call.ticket and call.rest from the arguments; an answer if something is missing or wrong."""
        for arg in call.command.args:
            if arg.kind == "ticket":
                head, tail = split_head(call.rest)
                ticket, error = self.find(call, head, arg.min_digits)
                if ticket is None and error is None and not arg.optional:
                    return texts.NEED_TICKET.format(usage=call.command.usage(example=True))
                if error:
                    return error
                call.ticket = ticket
                if ticket is not None:
                    call.rest = tail
            elif arg.kind in WORD_ARGS:
                head, tail = split_head(call.rest)
                if head:
                    call.values[arg.kind] = unicodedata.normalize("NFKC", head).strip()
                    call.rest = tail
                elif not arg.optional:
                    return self._need(call, arg)
            elif arg.kind == "days":
                m = DAYS.match(unicodedata.normalize("NFKC", call.rest))
                if m:  # NFKC keeps digits and these words one character each: the same cut in what was typed
                    call.values["days"] = days_value(m.group(1))
                    call.rest = call.rest[m.end():].strip()
                elif not arg.optional:
                    return self._need(call, arg)
            elif arg.kind == "flag":
                # A word of its own (公开 then a space, a colon or nothing), never the start of the text's first
                # word: "公开透明度不够" or "公开课…" is an internal comment about openness or an open class.
                m = re.match(re.escape(arg.example) + r"(?=$|[\s:：])", call.rest)
                call.values["flag"] = m is not None
                if m is not None:
                    call.rest = call.rest[m.end():].lstrip(SEPARATORS)
            elif not arg.optional and not call.rest:
                return self._need(call, arg)
        return None

    def _need(self, call: Call, arg: Arg) -> str:
        said = texts.NEED_TEXT.format(what=arg.name, usage=call.command.usage(
            example=True, number=call.ticket["number"] if call.ticket else None))
        return said + ("\n" + arg.hint if arg.hint else "")

    # -- ticket references ---------------------------------------------------------------------------------------
    def find(self, call: Call, head: str, min_digits: int = 1) -> tuple[dict | None, str | None]:
        """The ticket `head` names: (ticket, None); (None, None) if `head` is no reference at all; (None, error).
        Lenient: any case, full-width characters, missing leading zeros, "2611-12"; a citizen may give only the
        last digits of one of their own tickets; staff may give a line of their last 待办 list."""
        ref = unicodedata.normalize("NFKC", head).upper()
        staff = call.user.get("role") in STAFF
        m = re.fullmatch(r"(?:JY)?-?([0-9]{4})-([0-9]{1,%d})" % MAX_DIGITS, ref) or \
            re.fullmatch(r"JY([0-9]{4})([0-9]{4,%d})" % MAX_DIGITS, ref)
        if m:
            number = f"JY{m.group(1)}-{int(m.group(2)):04d}"
            ticket = tickets.get(call.db, number)
            if staff:
                return (ticket, None) if ticket else (None, texts.NO_SUCH_TICKET.format(number=number))
            if ticket is None or ticket["openid"] != call.openid:  # someone else's is "not found", not "forbidden"
                return None, self._not_found(call, number)
            return ticket, None
        if not DIGITS.fullmatch(ref) or len(ref) < min_digits:
            return None, None
        n = int(ref)
        if staff:
            if len(ref) <= 2:  # a line of the last 待办 list
                items = self._todo_items(call)
                if 0 < n <= len(items):
                    return tickets.get(call.db, items[n - 1]), None
                month = dt.datetime.fromtimestamp(self.clock.now(), self.d.calendar.tz).strftime("%y%m")
                ticket = tickets.get(call.db, f"JY{month}-{n:04d}")  # 回复 45: no 45th line, but ticket …-0045
                if n and ticket and self.desk.in_scope(call.db, call.user, ticket):  # of theirs, as citizens
                    return ticket, None                                          # write it
                return None, texts.NO_SUCH_LINE.format(line=n)
            month = dt.datetime.fromtimestamp(self.clock.now(), self.d.calendar.tz).strftime("%y%m")
            number = f"JY{month}-{n:04d}"
            ticket = tickets.get(call.db, number)
            return (ticket, None) if ticket else (None, texts.NO_SUCH_TICKET.format(number=number))
        mine = [t for t in tickets.for_citizen(call.db, call.openid, 50) if int(t["number"].rsplit("-", 1)[1]) == n]
        if len(mine) == 1:
            return mine[0], None
        if len(mine) > 1:
            return None, texts.WHICH_TICKET.format(numbers="、".join(t["number"] for t in mine))
        return None, self._not_found(call, ref)

    def _todo_items(self, call: Call) -> list[str]:
        """The numbers of the person's last 待办 list, while it is live (TODO_TTL); [] when there is none."""
        conv = conversations.get(call.db, call.openid, self.clock.now())
        return conv["data"].get("items", []) if conv and conv["flow"] == "desk" and not conv["expired"] else []

    def _not_found(self, call: Call, number: str) -> str:
        mine = tickets.for_citizen(call.db, call.openid, 5)
        if not mine:
            return texts.TICKET_NOT_FOUND_NONE.format(number=number)
        return texts.TICKET_NOT_FOUND_MINE.format(number=number, mine="、".join(t["number"] for t in mine),
                                                  usage=call.command.usage(example=True, number=mine[0]["number"]))

    # -- everyone --------------------------------------------------------------------------------------------
    def help(self, call: Call) -> list[Reply]:
        return [Reply(help_text(call.user, self.desk.duty_office, self.desk.at_school(call.db, call.user)))]

    def cancel(self, call: Call) -> list[Reply] | None:
        conv = conversations.get(call.db, call.openid, self.clock.now())
        if conv and not conv["expired"] and conv["flow"] == "intake" and nfkc(call.raw).strip(" 。.!！~～…") in \
                texts.CANCEL_ASKED_FIRST and self.d._intake(call.db, call.openid).asks_first(conv["data"] or {}):
            return None  # 算了 with words written: the conversation asks first (a sigh never drops a long message)
        if conv and not conv["expired"] and conv["flow"] == "intake" and (conv["data"] or {}).get("shelved"):
            # a message set aside for this one ("这条提交后接着填写") goes on: never dropped with it, unsaid
            state, data, replies = self.d._intake(call.db, call.openid).cancel(conv["data"])
            if state is not None:
                conversations.put(call.db, call.openid, "intake", state, data, self.clock.now(),
                                  self.d.policy.conversation_minutes * 60)
                return replies
        conversations.delete(call.db, call.openid)
        lang = call.user.get("lang") if call.user.get("role") not in STAFF else None
        if conv and not conv["expired"] and conv["flow"] != "desk":
            return [Reply(texts.CANCELLED_FLOW.get(conv["flow"]) or texts.pick("CANCELLED", lang))]
        return [Reply(texts.pick("NOTHING_TO_CANCEL", lang))]

    def bind(self, call: Call) -> list[Reply]:
        return self.desk.bind(call.db, call.openid, call.rest)

    # -- citizens --------------------------------------------------------------------------------------------
    def query(self, call: Call) -> list[Reply]:
        lang = call.user.get("lang")
        if call.ticket is None:
            return [Reply(self.d.my_tickets(call.db, call.openid, lang))]
        text = self.d.ticket_detail(call.db, call.openid, call.ticket, lang)
        link = self.d.web_links.citizen_ticket(call.ticket["number"], call.openid) if self.d.web_links else None
        if link:
            text += "\n" + texts.pick("CITIZEN_PAGE_LINK", lang).format(days=CITIZEN_LINK_DAYS, link=link)
        return [Reply(text)]

    def citizen_reply(self, call: Call) -> list[Reply]:
        ticket, text = call.ticket, call.rest
        if ticket is None:
            waiting = [t for t in tickets.for_citizen(call.db, call.openid, 20) if t["state"] == "replied"]
            if len(waiting) != 1:
                return [Reply(texts.pick("CITIZEN_REPLY_WHICH", call.user.get("lang")))]
            ticket = waiting[0]
        return self.desk.citizen_reply(call.db, call.openid, ticket, text)

    def survey(self, call: Call) -> list[Reply]:
        """评议: the public evaluation survey (handlers/campaign.py)."""
        return self.d.campaign.survey_entry(call.db, call.user, call.openid, call.rest)

    def withdraw(self, call: Call) -> list[Reply]:
        """Asks first: a withdrawn ticket cannot be taken up again."""
        t, lang = call.ticket, call.user.get("lang")
        if t.get("citizen_withdrew_at"):
            return [Reply(texts.pick("WITHDRAWN_ALREADY", lang).format(number=t["number"]))]
        if not lifecycle.allowed("withdraw", t["state"]):
            return [Reply(texts.pick("WITHDRAW_TOO_LATE", lang).format(
                number=t["number"], state=texts.names_in("STATE_NAMES", lang)[t["state"]]))]
        check = self.desk.check_goes_on(t)  # said before they confirm: what their withdrawal does not end
        return [Reply(texts.pick("WITHDRAW_CONFIRM_KEPT" if check else "WITHDRAW_CONFIRM", lang).format(
            number=t["number"], excerpt=texts.excerpt(t["text"], 40), short=t["number"].rsplit("-", 1)[1].lstrip("0"),
            what=texts.pick("CHECK_WHAT", lang).get(check, "")))]

    def withdraw_confirmed(self, call: Call) -> list[Reply]:
        return self.desk.withdraw(call.db, call.openid, call.ticket, call.rest)

    def rate(self, call: Call) -> list[Reply]:
        """评价 [编号] 1-3 [意见]: the rating itself is the follow-up's (handlers/followup.py)."""
        t, lang = call.ticket, call.user.get("lang")
        if t is not None and not lifecycle.allowed("rate", t["state"]):
            return [followup.not_ratable(t, lang)]
        if not call.rest.strip("。.!！?？ "):  # 评价 alone: what this person has to rate, never someone else's number
            waiting = [t] if t is not None else tickets.awaiting_rating(call.db, call.openid)
            if not waiting:
                return [Reply(texts.pick("NOTHING_TO_RATE", lang))]
            if len(waiting) == 1:
                return [Reply(texts.pick("RATE_THIS", lang).format(number=waiting[0]["number"],
                                                                   excerpt=texts.excerpt(waiting[0]["text"], 30),
                                                                   ask=texts.pick("RATE_ASK", lang)))]
            lines = "\n".join(f"· {w['number']} {texts.excerpt(w['text'], 20)}" for w in waiting)
            return [Reply(texts.RATE_LIST.format(lines=lines, number=waiting[0]["number"]))]
        text = f"评价 {t['number']} {call.rest}" if t is not None else f"评价 {call.rest}"
        rated = self.d.followup.rate(call.db, call.openid, text)
        if rated is not None:
            return rated
        if not tickets.awaiting_rating(call.db, call.openid):
            return [Reply(texts.pick("NOTHING_TO_RATE", lang))]
        return [Reply(texts.pick("RATE_CHOICES", lang))]

    # -- staff -----------------------------------------------------------------------------------------------
    def todo(self, call: Call) -> list[Reply]:
        return [Reply(self.desk.todo(call.db, call.openid, call.user, ascii_int(call.rest, 3) or 1))]

    def detail(self, call: Call) -> list[Reply]:
        head, _ = split_head(call.rest)
        return self.desk.detail(call.db, call.user, call.ticket, ascii_int(head, 3) or 1)

    def accept(self, call: Call) -> list[Reply]:
        """签收 1、2、3 (or 签收 5 6): each one; a teacher with forty signs a page at once, and no number typed is
        skipped silently. Words after the numbers are ignored, as they always were."""
        found, error = [call.ticket], None
        for head in filter(None, re.split(r"[\s:：,，、;；和及]+", call.rest)):
            ticket, error = self.find(call, head)
            if ticket is None:
                break
            if ticket["id"] not in {t["id"] for t in found}:
                found.append(ticket)
        return self._accepted(call, found, error)

    def accept_all(self, call: Call) -> list[Reply]:
        """签收全部: every ticket waiting for this unit's 签收, at most ACCEPT_ALL_MAX at once (a reply a phone shows
        whole); how many and which are listed, and what is left is said."""
        waiting = self.desk.awaiting_acceptance(call.db, call.user)
        if not waiting:
            return [Reply(texts.ACCEPT_ALL_NONE)]
        replies = self._accepted(call, waiting[:ACCEPT_ALL_MAX], None, head=texts.ACCEPT_ALL_HEAD.format(
            count=min(len(waiting), ACCEPT_ALL_MAX)))
        if len(waiting) > ACCEPT_ALL_MAX:
            replies[0] = Reply(replies[0].text + "\n" + texts.ACCEPT_ALL_MORE.format(
                count=len(waiting) - ACCEPT_ALL_MAX))
        return replies

    def _accepted(self, call: Call, found: list[dict], error: str | None, head: str | None = None) -> list[Reply]:
        answers, pushes = [], []
        for ticket in found:
            for reply in self.desk.accept(call.db, call.user, ticket):
                (answers if reply.to is None else pushes).append(reply)
        lines = [r.text for r in answers]
        if len(found) > 1 and any(SIGNED.search(x) for x in lines):  # several: grouped by deadline, how to
            lines, signed = _by_deadline(lines)                         # answer said once
            head = head or texts.ACCEPTED_MANY_HEAD.format(count=signed)
            lines.append(texts.ACCEPTED_MANY_FOOT)
        if error:  # 签收 5 99 with no 99 in the list: said, after what was signed
            lines.append(error)
        return [Reply("\n".join([head] + lines if head else lines)), *pushes]

    def reply(self, call: Call) -> list[Reply]:
        text = self._template(call, "reply")
        return text if isinstance(text, list) else self.desk.reply(call.db, call.user, call.ticket, text)

    def resolve(self, call: Call) -> list[Reply]:
        text = self._template(call, "resolve")
        return text if isinstance(text, list) else self.desk.resolve(call.db, call.user, call.ticket, text)

    def _template(self, call: Call, action: str) -> str | list[Reply]:
        """`回复 编号 #2`: the text of the ticket's unit's second 常用回复, filled for this ticket (or the answer
        saying there is none); any other text as written."""
        m = TEMPLATE_REF.fullmatch(call.rest.strip())
        if not m:
            return call.rest
        refused = self.desk.refuse(call.db, call.user, call.ticket, action)
        if refused:
            return [refused]
        lang = users.lang(call.db, call.ticket["openid"])  # the citizen's: the answer is theirs to read
        found = reply_templates.for_ticket(call.db, call.ticket, self.desk.calendar.date_text, lang)
        n = int(unicodedata.normalize("NFKC", m.group(1)))
        if not 1 <= n <= len(found):
            unit = (directory.get(call.db, call.ticket["unit_code"]) or {}).get("name", "本单位")
            return [Reply(texts.TEMPLATE_NOT_FOUND.format(unit=unit, n=n) + "\n"
                          + reply_templates.listing(call.db, call.ticket["unit_code"]))]
        if found[n - 1]["text"] is None:
            return [Reply(texts.TEMPLATE_NO_ENGLISH.format(number=call.ticket["number"], n=n,
                                                           title=found[n - 1]["title"]))]
        return found[n - 1]["text"]

    def templates(self, call: Call) -> list[Reply]:
        return [Reply(reply_templates.listing(call.db, call.user.get("unit_code")))]

    def bounce(self, call: Call) -> list[Reply]:
        return self.desk.bounce(call.db, call.user, call.ticket, call.rest)

    def transfer(self, call: Call) -> list[Reply]:
        return self.desk.transfer(call.db, call.user, call.ticket, call.values["unit"], call.rest)

    def extend(self, call: Call) -> list[Reply]:
        days = call.values.get("days")
        if days is None or not 1 <= days <= 30 or not call.rest:
            return [Reply(texts.EXTENSION_NEEDS.format(number=call.ticket["number"]))]
        return self.desk.request_extension(call.db, call.user, call.ticket, days, call.rest)

    def approve(self, call: Call) -> list[Reply]:
        return self.desk.decide_extension(call.db, call.user, call.ticket, True, call.rest)

    def reject(self, call: Call) -> list[Reply]:
        return self.desk.decide_extension(call.db, call.user, call.ticket, False, call.rest)

    def supervise(self, call: Call) -> list[Reply]:
        return self.desk.press(call.db, call.user, call.ticket, "supervise", call.rest)

    def urge(self, call: Call) -> list[Reply]:
        return self.desk.press(call.db, call.user, call.ticket, "urge", call.rest)

    def note(self, call: Call) -> list[Reply]:
        return self.desk.note(call.db, call.user, call.ticket, call.rest)

    def overdue(self, call: Call) -> list[Reply] | ReadFirst:
        """The whole bureau's overdue list for a leader: ~90 ms of CPU at a million tickets, read off the writer."""
        if call.off_writer is None:
            return [Reply(self.desk.overdue(call.db, call.user, self.clock.now()))]
        said = call.off_writer("overdue", {})
        return said if isinstance(said, ReadFirst) else [Reply(said)]

    def weekly(self, call: Call) -> list[Reply]:
        return [Reply(self.d.weekly_link(call.db, call.user))]

    def comment(self, call: Call) -> list[Reply]:
        """领导点评: a leader's comment on a unit for a period, for the performance review (issue 13)."""
        return [Reply(review.comment(call.db, call.user, call.values["unit"], call.values["period"],
                                     call.values.get("flag", False), call.rest, self.clock.now(),
                                     self.d.calendar.tz, self.desk.find_unit))]

    def signin(self, call: Call) -> list[Reply]:
        """登录: a one-time link to the web workbench, for this person only."""
        if self.d.web_links is None:
            return [Reply(texts.SIGNIN_NONE)]
        link = self.d.web_links.signin(call.db, call.openid)
        return [Reply(texts.SIGNIN_LINK.format(minutes=SIGNIN_MINUTES, link=link))]


_ANY_TICKET = Arg("ticket", "编号", "JY2611-0001", optional=True)
TABLE: tuple[Command, ...] = (
    # everyone
    Command("帮助", EVERYONE, (), "查看本说明", Commands.help,
            tuple(sorted(texts.HELP_WORDS - {"帮助"}))),
    Command("取消", CITIZEN, (), "放弃正在填写的留言", Commands.cancel,
            tuple(sorted(texts.CANCEL_WORDS - {"取消"}))),
    Command("绑定", EVERYONE, (Arg("code", "绑定码", "ABCD2345"),), "工作人员用绑定码绑定账号", Commands.bind,
            hidden=True),
    # citizens
    Command("查询", CITIZEN, (_ANY_TICKET,), "查看我的留言；加编号看详情和办理记录", Commands.query,
            ("进度", "查进度", "我的留言", "详情", "status")),
    Command("回复", CITIZEN, (_ANY_TICKET, Arg("text", "内容", "您的内容")), "回复承办人员", Commands.citizen_reply,
            ("reply",)),
    Command("撤回", CITIZEN, (TICKET,), "撤回已提交的留言", Commands.withdraw, ("withdraw",)),
    Command("确认撤回", CITIZEN, (TICKET,), "确认撤回留言", Commands.withdraw_confirmed, ("confirm withdraw",),
            hidden=True),
    Command("评价", CITIZEN, (Arg("ticket", "编号", "JY2611-0001", optional=True, min_digits=2),
                            Arg("text", "1/2/3", "1", optional=True)),
            "评价办理结果：1 满意，2 基本满意，3 不满意；只发“评价”列出待评价的留言", Commands.rate,
            ("我要评价", "我想评价", "rate")),
    Command("评议", CITIZEN, (Arg("text", "学校名称", "江南区实验小学", optional=True),), "参与正在进行的群众评议",
            Commands.survey, tuple(w for w in texts.SURVEY_WORDS if w != "评议")),
    # staff
    Command("待办", STAFF, (Arg("page", "页码", "", optional=True),), "本单位待办留言，按办结时限排序", Commands.todo,
            ("代办",)),  # the homophone staff type
    Command("详情", MAY["detail"], (TICKET, Arg("page", "页码", "", optional=True)), "留言全文、附件和全部办理记录",
            Commands.detail, ("查询", "查看")),
    Command("签收", MAY["accept"], (TICKET,), "签收留言（值班室可代签收）", Commands.accept),
    Command("签收全部", MAY["accept"], (), f"签收本单位所有待签收的留言（一次最多{ACCEPT_ALL_MAX}件）", Commands.accept_all,
            ("全部签收", "一键签收", "签收所有", "所有签收", "批量签收")),
    Command("回复", MAY["reply"], (TICKET, Arg("text", "答复内容", "您好，已核实……")), "答复群众", Commands.reply),
    Command("办结", MAY["resolve"], (TICKET, Arg("text", "办理结果", "已督促学校退还资料费")), "办结并告知群众",
            Commands.resolve),
    Command("退回", MAY["bounce"], (TICKET, Arg("text", "退回理由", "不属本校职责，应由区教育局处理")),
            "不属本单位职责，退回重新分派", Commands.bounce),
    Command("转派", MAY["transfer"], (TICKET, Arg("unit", "单位", "江南区教育局"),
                                           Arg("text", "理由", "属区管学校", optional=True)),
            "转给其他单位办理（负责人、局领导、值班室）", Commands.transfer),
    Command("延期", MAY["extension_request"], (TICKET, Arg("days", "天数", "3"), Arg("text", "理由", "需要现场核查")),
            "申请延长办结时限，每件限一次", Commands.extend),
    Command("同意延期", MAY["extension_decide"], (TICKET,), "批准延期申请（申请人本人不能审批）", Commands.approve),
    Command("不同意延期", MAY["extension_decide"], (TICKET, Arg("text", "理由", "请按原时限办结", optional=True)),
            "不批准延期申请", Commands.reject),
    Command("备注", MAY["note"], (TICKET, Arg("text", "备注内容", "已电话联系家长")), "内部备注，群众看不到",
            Commands.note, ("内部备注",)),
    Command("督办", MAY["supervise"], (TICKET, Arg("text", "督办要求", "请于周五前办结", optional=True)),
            "督办，通知承办单位及其负责人", Commands.supervise),
    Command("催办", MAY["urge"], (TICKET, Arg("text", "要求", "请尽快答复", optional=True)), "催促承办单位办理",
            Commands.urge),
    Command("超期", SUPERVISORS, (), "超期未办结的留言，按单位列出", Commands.overdue),
    Command("周报", SUPERVISORS, (), "上周和本周至今的办理情况周报链接", Commands.weekly),
    Command("常用回复", STAFF, (), "本单位的常用回复；“回复 编号 #序号”直接用来答复", Commands.templates),
    Command("登录", STAFF, (), "网页工作台登录链接（5分钟内有效）", Commands.signin, ("工作台",)),
    Command("点评", frozenset(review.COMMENT_ROLES),
            (Arg("unit", "单位", "江南区实验小学"), Arg("period", "期间", "上月", hint=texts.REVIEW_PERIODS),
             Arg("flag", "公开", "公开", optional=True), Arg("text", "内容", "回复家长及时，值得肯定。")),
            "对单位某期间的工作点评，写入绩效考核报告；加“公开”同时显示在单位公开页面", Commands.comment,
            citizens_write=True),
)
_WORDS = sorted({w for c in TABLE for w in c.words}, key=len, reverse=True)
_BY_FIRST: dict[str, list[tuple[str, str]]] = {}
for _w in _WORDS:
    _BY_FIRST.setdefault(_w.lower()[0], []).append((_w, _w.lower()))
NUMBER_ALONE = re.compile(r"JY[0-9]{4}-?[0-9]{1,%d}" % MAX_DIGITS, re.IGNORECASE)
# A ticket number asked about in a few words, whatever comes before or after (对了你们能查下JY2611-0005吗, 我的投诉
# JY2611-0005有结果了没): a query, also in the middle of writing another message (the draft waits, untouched).
# Only the whole message: a number inside a story (JY2611-0005还没处理，孩子又被打了) is more than a question.
LOOKUP = re.compile(r"(?:(?:对了|那个|还有|另外|顺便问一?下|你好|您好|请问|老师)[，,\s]*)*"
                    r"(?:你们|您)?(?:能|能不能|可以|可不可以|能否|方便)?(?:帮我|帮忙|帮|给我|请|麻烦)?"
                    r"(?:查一下|查一查|查查|查下|查询|查|看一下|看看|看下|问一下|问下)?\s*"
                    r"(?:我的|我那个|我上次的?|上次的?)?(?:留言|投诉|建议|咨询|编号)?\s*(%s)\s*(?:的|这个|这件)?"
                    r"(?:情况|进度|详情|办理情况|结果)?(?:现在)?(?:怎么样了?|咋样了?|到哪了|到哪一步了|到哪儿了|如何|办得怎么样了?|"
                    r"处理了|处理得怎么样了?|有结果了|有回复了|办好了|办完了|"
                    # JY2611-0005 怎么还没人处理: the same question, impatient
                    r"[，,\s]*(?:怎么|为什么|为啥|咋)?(?:还|一直|到现在还?)?(?:没|没有)人?(?:处理|管|回复|答复|理|办|动静|消息|下文)"
                    r"(?:呢|啊|呀)?)?(?:没有|没)?[吗呢啊呀么]?" % NUMBER_ALONE.pattern,
                    re.IGNORECASE)


def for_user(user: dict, duty_office: str, at_school: bool = False) -> list[Command]:
    """The commands this person may use, each verb once (the first entry that admits them)."""
    seen: dict[str, Command] = {}
    for c in TABLE:
        if c.verb not in seen and c.admits(user, duty_office, at_school):
            seen[c.verb] = c
    return list(seen.values())


# 怎么延期 / 如何签收全部？: staff asking how to do one thing -- that command's line and an example, not the whole list
HOW_TO = re.compile(r"(?:请问)?我?(?:要|该|应该)?(?:怎么|如何|怎样|咋)样?(?:才能|才可以|能|可以)?(.{1,8}?)[呢啊呀吗]?[?？。.!！\s]*")


def how_to(user: dict, duty_office: str, text: str, at_school: bool = False) -> str | None:
    m = HOW_TO.fullmatch(unicodedata.normalize("NFKC", text.strip()))
    if m is None:
        return None
    # every verb of the table, not only this person's: 怎么转派 from a school's teacher is answered with who may
    # 转派 and what they can do instead, never with the whole list
    named = [(len(w), c) for c in TABLE if not c.hidden and (c.who & STAFF or DUTY in c.who)
             for w in c.words if not w.isascii() and w in m.group(1)]
    if not named:
        return None
    verb = max(named, key=lambda x: x[0])[1].verb  # 签收全部 over 签收
    c = next((c for c in for_user(user, duty_office, at_school) if c.verb == verb), None)
    if c is None:
        entries = [e for e in TABLE if e.verb == verb]
        barred = next((e for e in entries if e.admits(user, duty_office)), None)
        if barred is not None:  # the role may, a school may not (NOT_AT_SCHOOLS): what to do instead, as handle says
            return not_at_school(barred.who.action, None)
        return not_for(user, entries)
    return texts.STAFF_HOW.format(line=c.help_line(), example=c.usage(example=True))


def not_for(user: dict, entries: list[Command]) -> str:
    """Why this person cannot use the verb, from who the table lets use it."""
    if user.get("role") not in STAFF:
        return texts.STAFF_ONLY
    staff_entry = next((c for c in entries if c.who & STAFF or DUTY in c.who), None)
    if staff_entry is None:
        return texts.CITIZEN_ONLY.format(verb=entries[0].verb)
    who = [texts.ROLE_NAMES[r] for r in ("handler", "supervisor", "leader", "admin") if r in staff_entry.who]
    if DUTY in staff_entry.who:
        who.append(texts.DUTY_NAME)
    said = texts.ROLE_ONLY.format(verb=staff_entry.verb, who="、".join(who))
    if staff_entry.verb == "转派" and user.get("role") in MAY["bounce"]:  # what a handler can do instead
        said += "\n" + texts.TRANSFER_BY_BOUNCE
    return said


def help_text(user: dict, duty_office: str, at_school: bool = False) -> str:
    """The help, from the table and the rule that decides who may do what. `at_school`: bound at a school or
    kindergarten (Desk.at_school), whose people 退回 rather than 转派."""
    staff = user.get("role") in STAFF
    if not staff and user.get("lang") == "en":
        return texts.EN["HELP_HEAD"]
    lines = [texts.STAFF_HELP_HEAD if staff else texts.HELP_HEAD]
    lines += [c.help_line() for c in for_user(user, duty_office, at_school) if not c.hidden]
    return "\n".join(lines)


def markdown() -> str:
    """The README's table of commands (a test keeps the README in step with TABLE)."""
    names = {"citizen": "群众", "handler": "承办人", "supervisor": "负责人", "leader": "局领导", "admin": "管理员",
             DUTY: "值班室"}
    rows = ["| 指令 | 别名 | 谁可以用 | 说明 |", "|---|---|---|---|"]
    for c in TABLE:
        who = "、".join(names[r] for r in ("citizen", "handler", "supervisor", "leader", "admin", DUTY) if r in c.who)
        aliases = "、".join(f"`{a}`" for a in c.aliases)
        rows.append(f"| `{c.usage()}` | {aliases} | {who} | {c.help} |")
    return "\n".join(rows)
