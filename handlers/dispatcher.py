"""The core's one entry point: `await dispatcher.handle(inbound) -> list[Reply]`.

Order for a message: commands (帮助, 取消, 查询) -> the running conversation -> a new intake conversation.

Handling runs as ONE transaction on the database's writer thread (`handle_tx`): the conversation step, the
ticket it creates and the pushes it causes commit together with the record that the inbound was handled, or not
at all. So a process killed mid-way leaves nothing half done, and one person's messages are handled strictly
one after another without any lock of our own.
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
import re
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from handlers import commands, digest, figures, followup, names, privacy, review, texts
from handlers.campaign import FAQ, SURVEY, Campaign
from handlers.clock import Clock
from handlers.deadlines import Watch, gather, gather_until
from handlers.desk import Desk, for_staff, kind_name
from handlers.faq import FaqBook
from handlers.followup import FollowUp
from handlers.intake import (GREETING, Draft, Intake, IntakeServices, Plan, Routing, asks_how_to_send, han_count,
                             normalise, thanks_only, written_lang)
from handlers.messages import Inbound, ReadFirst, Reply, WebLinks
from handlers.routing import Router
from handlers.survey import Policy as SurveyPolicy
from handlers.workdays import WorkCalendar
from handlers.vocabulary import NEVER_TO_SCHOOL, STAFF_ROLES, SUPERVISORS, URGENT, WIDE_ROLES
from storage import bursts, conversations, digest_pages, directory, lifecycle, outbox, staff, tickets, users
from storage.db import Database

log = logging.getLogger(__name__)
# Kinds attached only to a message being written (never the start of one): staff see them with the attachments.
ATTACHABLE_ELSEWHERE = ("location", "link")
# Routing decisions kept by text. A draft is routed again whenever the conversation moves on (every answer),
# a supplement is routed alone and with the draft, and short messages (你好老师, 作业太多) recur across people:
# each would cost a full jieba cut and scoring.
ROUTE_CACHE = 1024  # decisions remembered (~3.5 KB each with their JSON): a draft's steps and the common short texts
# (the webhook bench's hits are the same at 512 as at 2,048: a draft is routed again within a few messages)
CAMPAIGN_FLOWS = frozenset({FAQ, SURVEY})
# An English writer asking after a message already sent (the Chinese 有进展吗 is the intake's follow-up offer).
STATUS_QUESTION_EN = re.compile(r"\b(?:any (?:update|news|progress|reply|answer)|(?:status|progress) of|update on|"
                                r"what(?:'s| is| has) happen(?:ed|ing) (?:to|with)|heard (?:anything|back)|"
                                r"still waiting)\b", re.I)  # the conversations the campaign step may write


@dataclass
class Turn:
    """One inbound being handled: the transaction, the message, the sender's row (read once), the text, and
    what an earlier step wants said first."""

    db: Any
    inbound: Inbound
    user: dict
    text: str
    prefix: list = field(default_factory=list)
    # The person's conversation row as read at the campaign step (storage.conversations.read), for the
    # conversation step to use instead of reading it again; dropped when the campaign step may have written it.
    conversation: Any = None
    conversation_read: bool = False
    first_english: bool = False  # the person's first words in English: welcomed in English once (the QR's was Chinese)
    # What the caller read first for this message (ReadFirst.key -> result); None: the caller cannot read first,
    # so a long read runs here, on the writer (tests, tools, a retry after a failure).
    reads: dict | None = None


# 撤销退回 / 算了，不退回了 / 退错了: a teacher changing their mind after 退回 (which cannot be undone)
UNDO_BOUNCE = re.compile(r"(?:撤销|撤回|取消|收回)退回|不(?:要|用)?退(?:回)?了|退(?:回)?错了")


@dataclass(frozen=True)
class Policy:
    """The configurable rules of the core (from the [bot], [routing] and [deadlines] config sections)."""

    name: str = "听见"
    organisation: str = "市教育局"
    commitment: str = ""
    school_categories: frozenset[str] = frozenset({"burden", "safety"})
    district_categories: frozenset[str] = frozenset({"ethics", "admission", "teachers"})
    duty_office: str = "jyj-bgs"
    oversight_office: str = ""  # receives complaints about the bureau itself ("": the leaders)
    similar_days: int = 7
    conversation_minutes: int = 30
    hotline: str = ""  # the bureau's own hotline, given to a citizen with an urgent matter
    restart_on_transfer: bool = True  # a 转派 gives the new unit the full time limit from the transfer
    public_url: str = ""  # base of the public pages (/u/…) linked in answers; empty: no links
    # Wrong invite codes allowed per hour: from one person, and from everyone.
    bind_limits: tuple[int, int] = (5, 50)
    days: dict[str, int] = field(default_factory=lambda: {
        "inquiry": 3, "complaint": 7, "suggestion": 7, "praise": 7, "safety_complaint": 1, "accept": 1,
        "redo": 3, "urgent": 1})


@functools.lru_cache(maxsize=4096)
def _said(text: str) -> tuple[str | None, bool]:
    """The language a message's words show (intake.written_lang) and whether, written in Chinese, it is a command:
    pure functions of the text, read for every message on the writer's serial thread, and short texts recur
    (你好, 谢谢, 查询)."""
    lang = written_lang(text)
    return lang, lang == "zh" and commands.is_command(text)


# A leader's or supervisor's question for figures in their own words: answered from the digest's counts when
# handlers.figures can, and the 周报 links.
ASKS_FIGURES = re.compile(r"周报|上周|本周|这周|数据|统计|情况怎么样|怎么样了|办得怎么样|响应率|解决率|满意率|排名|"
                          r"多少件|多少条|几件|最多|最低|最高|这个月|本月|上个月|上月|"
                          r"多少(?:个|封)?(?:投诉|建议|咨询|表扬|留言)|超期.{0,4}(?:几|多少)")
# 周局长，早上好 / 李老师 你好 / 老师们好: the bot addressed as a colleague (好 after it is the greeting itself)
STAFF_ADDRESS = re.compile(r"^(?:[\u4e00-\u9fff]{0,3}(?:局长|老师|主任|科长|校长|处长|园长|同志|领导)(?P<many>们)?|"
                           r"(?P<all>大家))(?P<hello>好(?:啊|呀)?(?![像的久多了]))?[，,\s!！。~]*")
# words after a greeting that speak to a parent (您反映的问题…): a reply typed without 回复, never a remark to us
TO_PARENT = re.compile(r"[您你]|家长|同学|孩子")


def staff_greets(text: str) -> bool:
    """周局长，早上好 / 老师们好 今天怎么这么多: a greeting; a short remark after it only when colleagues at large are
    greeted (您好，资料费会退还 is a reply to a parent typed without 回复: it must be told it went nowhere)."""
    t = normalise(text)
    address = STAFF_ADDRESS.match(t)
    rest = t[address.end():] if address else t
    if not (address and address.group("hello")):
        greeting = GREETING.match(rest)
        if not rest and address:
            return True  # 周局长 / 老师: calling for attention
        if not greeting:
            return False
        rest = rest[greeting.end():]
    to_all = address is not None and (address.group("many") or address.group("all"))
    return not rest or bool(to_all) and han_count(rest) <= 12 and not TO_PARENT.search(rest)
# 今天有什么紧急的吗 / 有急事吗 / 哪些比较急 (staff, a short question): the urgent and overdue open tickets in scope
ASKS_PRESSING = re.compile(r"紧急|急事|急件|急的|加急|要紧|着急|比较急|很急|最急")
# 超期的有哪些, 我的待办: a short question naming a command that takes nothing: that command
NAMES_A_LIST = re.compile(r"超期|待办|常用回复|(?:没|未|待|还没有?)(?:签收|处理|办)")
# 撤回 with no number: the question for it, known so that, said while writing, the draft's 取消 is offered
WITHDRAW_WHICH = texts.NEED_TICKET.format(usage=next(c for c in commands.TABLE if c.verb == "撤回").usage(example=True))
LIST_OF = {"超期": "超期", "常用回复": "常用回复"}  # else 待办: 哪些还没签收 / 还有哪些没处理 are in it, with their state


class Dispatcher:
    def __init__(self, db: Database, router: Router, clock: Clock | None = None, policy: Policy | None = None,
                 calendar: WorkCalendar | None = None, surveys: SurveyPolicy | None = None,
                 faq: FaqBook | None = None, links: Callable[..., str] | None = None,
                 web_links: WebLinks | None = None, min_cases: int = 1):
        self.db = db
        self.min_cases = min_cases  # [review] min_cases: the digest's 需关注 counts as the review (review.counted)
        self.router = router
        self._routings: tuple[Router, Callable] | None = None  # (the router, its cached routing)
        # Decisions an HTTP worker made for a message's text with the same router (text_hints, take_hints): the
        # writer takes one instead of routing the text itself. Writer thread only; the oldest go first.
        self._given: dict[str, tuple[Router, str]] = {}
        self._router_id: tuple[Router, str] | None = None
        self.clock = clock or Clock()
        self.policy = policy or Policy()
        self.calendar = calendar or WorkCalendar()
        self.links = links  # (week, scope, recipient) -> a signed digest page link, for 周报
        self.web_links = web_links  # the workbench's sign-in and citizen-page links (None: no web pages)
        self.desk = Desk(self.clock, self.calendar, self.policy.duty_office,
                         accept_days=self.policy.days["accept"], days=self.policy.days,
                         restart_on_transfer=self.policy.restart_on_transfer, bind_limits=self.policy.bind_limits,
                         oversight_office=self.policy.oversight_office)
        self.desk.web_links = web_links
        self.desk.conduct = self._conduct
        self.desk.accuses = self._accuses
        self.followup = FollowUp(self.clock, self.calendar, self.desk, self.policy.days["redo"])
        self.watch = Watch(self.clock, self.calendar, self.desk)
        self.campaign = Campaign(self, surveys, faq)  # issue 13: 评议, 常见问题, menu clicks
        # The categories that ask for a school: once, not per message (the intake's services are made per message).
        # (a fee or a kindergarten's matter names the school or kindergarten it is about, whoever handles it)
        self.needs_school = frozenset(self.policy.school_categories | NEVER_TO_SCHOOL | {"fees", "preschool"})
        self.commands = commands.Commands(self)

    async def handle(self, inbound: Inbound) -> list[Reply]:
        return await self.db.run(self.handle_tx, inbound)

    def _conduct(self, text: str) -> bool:
        """Whether a citizen's words raise a teacher's or head's conduct (师德), as routing would judge them."""
        decision = self.routing(text)
        return privacy.involves_conduct(decision.get("category"), decision)

    def _accuses(self, text: str) -> bool:
        """Whether a citizen's words accuse a teacher or head (privacy.accuses: "谢谢老师" or "从不打骂孩子" do not)."""
        return privacy.accuses(text, self.routing)

    def routing(self, text: str) -> Routing:
        """The router's decision on `text` as the intake keeps it in a draft (Decision.to_dict, with the defaults
        the intake relies on), remembered for the ROUTE_CACHE most recent texts: the router is a pure function of
        the text, and a remembered decision's JSON is written once however many steps store it. A router swapped
        in (tests, a reload) starts a fresh cache. Only the dict is kept (the Decision too held ~15 MB more)."""
        return self._route_cache()(text)

    def matter(self, text: str) -> tuple[str, float]:
        """(category, confidence) as routing(text) holds them (the confidence to three places), without the rest of
        a decision: all the another-matter check reads. A decision an HTTP worker gave for the text is taken."""
        given = self._given.get(text) if self._given else None
        if given is not None and given[0] is self.router:
            decision = self.routing(text)
            return decision["category"], decision.get("confidence", 0)
        category, confidence = self.router.category(text)
        return category, round(confidence, 3)

    def _route_cache(self) -> Callable[[str], Routing]:
        cached = self._routings
        if cached is None or cached[0] is not self.router:
            cached = self._routings = (self.router, functools.lru_cache(maxsize=ROUTE_CACHE)(self._routing))
            self._given.clear()
        return cached[1]

    def _routing(self, text: str) -> Routing:
        if self._given:
            given = self._given.pop(text, None)
            if given is not None and given[0] is self.router:
                decision = Routing(json.loads(given[1]))
                decision._json = given[1]  # the very JSON it writes (a draft stores it): not encoded again
                return decision
        decision = self.router.route(text).to_dict()
        # The router may say more (urgency, several matters, language); without it, one matter, not urgent.
        decision.setdefault("urgent", False)
        decision.setdefault("urgent_words", [])
        if not decision.get("matters"):
            decision["matters"] = [{"category": decision["category"], "score": decision.get("confidence", 0),
                                    "words": []}]
        return Routing(decision)

    # -- routing in the HTTP workers (`serve --workers N`, bot/writer.py) -------------------------------------------
    def set_router_id(self, router_id: str | None) -> None:
        """What identifies this router's decisions across processes (bot.app.router_id: its rules, models, code
        and schools). Without one, no hints are made or taken. Bound to the router now in place: a router swapped
        in later has none."""
        self._router_id = (self.router, router_id) if router_id else None

    @property
    def router_id(self) -> str | None:
        rid = self._router_id
        return rid[1] if rid is not None and rid[0] is self.router else None

    def text_hints(self, inbound: Inbound) -> dict | None:
        """In an HTTP worker: the routing of a text message's own words (what the writer routes for the first
        message of a conversation and for every one that may be another matter), made here, in parallel, for the
        writer to take (take_hints) instead of routing them itself on its serial thread. None when there is
        nothing to route, or when this worker routed the same text lately: the writer has then seen it too and
        keeps its decision (a hint it does not need costs its event loop the JSON of a decision). The decision
        goes as its JSON text, the very text a draft stores (Routing.json_text)."""
        router_id = self.router_id
        if router_id is None or inbound.kind != "text":
            return None
        text = inbound.text.strip()
        if not text:
            return None
        cache = self._route_cache()
        misses = cache.cache_info().misses
        decision = cache(text)
        if cache.cache_info().misses == misses:
            return None
        return {"router": router_id, "route": {text: decision.json_text}}

    MAX_GIVEN = 512  # hints waiting to be used: a few batches' worth; one never used is dropped in turn

    def take_hints(self, hints: dict) -> None:
        """On the writer thread, before the message's handling: the decisions an HTTP worker made (text_hints).
        Taken only from a worker whose router is this one's (the same rules, models, code and schools), and
        used only if the text is routed before they are dropped; identical to routing here (a pure function of
        the text; tests/test_hints.py compares them on thousands of texts)."""
        router_id = self.router_id
        if router_id is None or not isinstance(hints, dict) or hints.get("router") != router_id:
            return
        route = hints.get("route")
        if not isinstance(route, dict):
            return
        self._route_cache()  # a cache made for a new router forgets the hints before it: made first
        given = self._given
        for text, decision in route.items():  # (parsed when used: the writer routes about half of them)
            if isinstance(text, str) and isinstance(decision, str):
                given[text] = (self.router, decision)
        while len(given) > self.MAX_GIVEN:
            del given[next(iter(given))]

    def handle_tx(self, db, inbound: Inbound, reads: dict | None = None) -> list[Reply] | ReadFirst:
        """Runs inside a transaction on the writer thread: no awaiting, no I/O but this database. The steps of
        STEPS run in order; the first that answers ends the turn. With `reads` (what the caller has read for this
        message so far), a step whose answer needs a long read returns a ReadFirst instead (messages.ReadFirst)."""
        turn = Turn(db, inbound, users.get(db, inbound.openid) or {}, normalise(inbound.text), reads=reads)
        self._note_lang(turn)
        for step in self.steps:
            replies = step(turn)
            if replies is not None:
                return replies
        return []

    def _note_lang(self, turn: "Turn") -> None:
        """The language a citizen writes in, kept with them: every later message to them (the answers, the pushes
        about their tickets) follows it. A Chinese command (查询, as the English answers tell them to send) or a
        school's Chinese name says nothing about it."""
        if turn.inbound.kind not in ("text", "voice") or turn.user.get("role") in STAFF_ROLES:
            return
        lang, command = _said(turn.text)
        if command:
            return
        if lang and lang != turn.user.get("lang"):
            turn.first_english = lang == "en" and turn.user.get("welcomed_at") is not None
            users.set_lang(turn.db, turn.inbound.openid, lang, self.clock.now())
            turn.user = {**turn.user, "lang": lang}

    @property
    def steps(self) -> tuple[Callable[["Turn"], list[Reply] | None], ...]:
        """The dispatch order, as one named list."""
        return (self.step_event, self.step_other_kinds, self.step_command,
                self.step_campaign, self.step_staff_text, self.step_conversation)

    def step_event(self, turn: "Turn") -> list[Reply] | None:
        return self._event(turn.db, turn.inbound) if turn.inbound.kind == "event" else None

    def step_other_kinds(self, turn: "Turn") -> list[Reply] | None:
        """Locations, links and kinds we cannot read: acknowledged, never a conversation step; except that a
        location or link sent while writing a message is attached to it (staff see it with the other attachments)."""
        if turn.inbound.kind in ("text", "voice", "image", "video"):
            return None
        if turn.inbound.kind in ATTACHABLE_ELSEWHERE:
            conv = conversations.get(turn.db, turn.inbound.openid, self.clock.now())
            if conv and conv["flow"] == "intake" and not conv["expired"]:
                return self.step_conversation(turn)
        if turn.inbound.kind in texts.MEDIA_NAMES:
            return [Reply(texts.RECEIVED_MEDIA.format(what=texts.MEDIA_NAMES[turn.inbound.kind]))]
        return [Reply(texts.UNSUPPORTED)]

    def step_command(self, turn: "Turn") -> list[Reply] | None:
        """A command from the table (handlers/commands.py), typed or spoken; it always answers."""
        if turn.inbound.kind not in ("text", "voice") or not turn.inbound.text.strip():
            return None
        replies = self.commands.handle(turn.db, turn.user, turn.inbound.openid, turn.inbound.text,
                                       self._off_writer_for(turn))
        if isinstance(replies, ReadFirst):
            return replies
        if replies is not None and turn.user.get("role") in STAFF_ROLES:
            replies = [Reply(for_staff(r.text), r.to, r.extra) if r.to is None else r for r in replies]
        elif replies and replies[-1].to is None:  # 查询 in the middle of writing: the draft waits, and says so
            conv = conversations.get(turn.db, turn.inbound.openid, self.clock.now())
            if conv and conv["flow"] == "intake" and not conv["expired"]:
                more = self._intake(turn.db, turn.inbound.openid).reminder(conv["state"], conv["data"])
                none = {texts.NO_TICKETS: texts.NO_TICKETS_WHILE_WRITING,
                        texts.EN["NO_TICKETS"]: texts.EN["NO_TICKETS_WHILE_WRITING"],
                        WITHDRAW_WHICH: texts.WITHDRAW_WHILE_WRITING}  # 撤回 at the summary: 取消 is meant
                said = replies[-1].text
                tail = next((t for t in none if said.endswith(t)), None) if more else None
                if tail:  # 查询 (or 查询 a wrong number) while writing the first message: not "start one"
                    replies = [*replies[:-1], Reply(said[:-len(tail)] + none[tail], None, replies[-1].extra)]
                if more:
                    replies = [*replies[:-1], Reply(replies[-1].text + "\n\n" + more, None, replies[-1].extra)]
        return replies

    def step_campaign(self, turn: "Turn") -> list[Reply] | None:
        """A survey or an instant answer's feedback in progress (issue 13); what it wants said before a new
        message is kept for the conversation step."""
        row = conversations.read(turn.db, turn.inbound.openid)
        flow = conversations.live_flow(row, self.clock.now())
        handled, prefix = self.campaign.message(turn.db, turn.user, turn.inbound, turn.text, flow=flow)
        if flow not in CAMPAIGN_FLOWS:  # then the campaign wrote nothing to this conversation: the row holds
            turn.conversation, turn.conversation_read = row, True
        turn.prefix.extend(prefix)
        return handled

    def step_staff_text(self, turn: "Turn") -> list[Reply] | None:
        """Staff talk to the bot in commands; anything else gets them the list of commands."""
        if turn.user.get("role") in STAFF_ROLES:
            if ASKS_PRESSING.search(turn.text) and len(turn.text.strip()) <= 20:  # 今天有什么紧急的吗
                said = self._off_writer(turn, "pressing", {"text": turn.text})
                return said if isinstance(said, ReadFirst) else [Reply(said)]
            if turn.user.get("role") in SUPERVISORS and ASKS_FIGURES.search(turn.text):  # 这周收到几件投诉？
                said = self._figures(turn)
                if isinstance(said, ReadFirst):
                    return said
                return [Reply((said + "\n\n" if said else texts.FIG_CAN_ANSWER + "\n")
                              + self.weekly_link(turn.db, turn.user))]
            named = NAMES_A_LIST.search(turn.text) if len(turn.text.strip()) <= 12 else None
            if named:
                replies = self.commands.handle(turn.db, turn.user, turn.inbound.openid,
                                               LIST_OF.get(named.group(0), "待办"), self._off_writer_for(turn))
                if isinstance(replies, ReadFirst):
                    return replies
                if replies:
                    return [Reply(for_staff(r.text), r.to, r.extra) if r.to is None else r for r in replies]
            if thanks_only(normalise(turn.text)):  # 谢谢, 收到, 好的: no list of commands for a courtesy
                return [Reply(texts.STAFF_THANKS)]
            if UNDO_BOUNCE.search(turn.text) and len(turn.text.strip()) <= 20:  # 算了，不退回了: what can be done
                return [Reply(texts.BOUNCE_UNDO)]
            how = commands.how_to(turn.user, self.policy.duty_office, turn.text,
                                  self.desk.at_school(turn.db, turn.user)) if len(turn.text) <= 20 else None
            if how:  # 怎么延期: that command, not "not sent" and the whole list
                return [Reply(how)]
            if staff_greets(turn.text):  # 周局长，早上好 / 老师们好 今天怎么这么多: greeted, and what can be
                return [Reply(texts.STAFF_GREETING if turn.user.get("role") in SUPERVISORS  # asked, not the
                              else texts.STAFF_GREETING_HANDLER)]                      # whole list
            # a reply to a parent typed without 回复: it went nowhere, and they must know it
            return [Reply(texts.STAFF_NOT_SENT + "\n" + self.help_for(turn.db, turn.user))]
        return None

    def _figures(self, turn: "Turn") -> str | None | ReadFirst:
        """The figures a leader's or supervisor's question asks for (handlers.figures), or None if it asks none it
        can answer. Reading them takes up to ~60 ms of CPU at a million tickets: when the caller reads first (and
        nothing earlier in the turn had something to say), they are read off the writer (read_for)."""
        if not figures.answerable(turn.text):
            return None
        return self._off_writer(turn, "figures", {"text": turn.text})

    def _off_writer(self, turn: "Turn", what: str, args: dict) -> Any:
        """What read_for reads for `what`: asked of the caller (a ReadFirst) when it reads first and nothing
        earlier in the turn had something to say, else read here. The key is what is asked and who asks (not
        the time), so the second handling finds the first one's read."""
        user = {k: turn.user.get(k) for k in ("openid", "role", "unit_code")}
        need = ReadFirst(json.dumps([what, user, args], ensure_ascii=False), what,
                         {**args, "user": user, "now": self.clock.now()})
        if turn.reads is None or turn.prefix:
            return self.read_for(turn.db, need)
        return turn.reads[need.key] if need.key in turn.reads else need

    def _off_writer_for(self, turn: "Turn") -> Callable[[str, dict], Any]:
        """_off_writer for this turn, for a command whose answer is a long read (Commands.overdue)."""
        return lambda what, args: self._off_writer(turn, what, args)

    def read_for(self, db, need: ReadFirst) -> Any:
        """On a read-only connection, off the writer: what handle_tx asked to read first."""
        a = need.args
        if need.what == "figures":
            return figures.answer(db, a["user"], a["text"], a["now"], self.calendar.tz)
        if need.what == "pressing":
            return self.desk.pressing(db, a["user"], a["now"])
        if need.what == "overdue":
            return self.desk.overdue(db, a["user"], a["now"])
        raise ValueError(f"nothing to read for {need.what!r}")

    def step_conversation(self, turn: "Turn") -> list[Reply] | None:
        """A rating, the running intake conversation, or a new one."""
        db, inbound, text, user = turn.db, turn.inbound, turn.text, turn.user
        prefix = list(turn.prefix)
        now = self.clock.now()
        conv = conversations.get(db, inbound.openid, now, turn.conversation) if turn.conversation_read else \
            conversations.get(db, inbound.openid, now)
        if conv and conv["flow"] != "intake":
            conv = None
        after: list[Reply] = []
        if not conv or conv["expired"]:
            rated = self.followup.rate(db, inbound.openid, inbound.text) if inbound.kind == "text" else None
            if rated is not None:
                told = self._comment_to_file(inbound.text)
                if not told:
                    return rated
                # "3 孩子今天又被打出血了": the score is taken, and the comment, a call for help, is also a new
                # message, hotlines first (never left as a redo note for the office that had the old ticket); so is
                # a comment that raises a teacher's conduct ("2，不过班主任收了购物卡"), for the bureau, not the school.
                if self.routing(told).get("urgent"):
                    after, conv = rated, None  # hotlines first
                else:
                    prefix, conv = [*prefix, *rated], None  # the thanks, then the new message's first question
                inbound, text = dataclasses.replace(inbound, text=told), told
        if conv and conv["expired"]:
            if not (inbound.kind == "text" and self.routing(inbound.text.strip()).get("urgent")):  # hotlines first
                prefix = [*prefix, Reply(texts.EXPIRED.format(minutes=self.policy.conversation_minutes))]
            conv = None
        intake = self._intake(db)
        intake.s.english_welcome = turn.first_english
        intake.s.known_lang = (inbound.openid, user.get("lang"))  # the row read for this turn, _note_lang's kept
        intake.s.unwelcomed = inbound.openid if user.get("welcomed_at") is None else None
        if conv:
            state, data, replies = intake.step(conv["state"], conv["data"], inbound)
        else:
            if not text and inbound.kind == "text":
                return [*prefix, Reply(self.help_for(db, user))]
            if inbound.kind == "text" and STATUS_QUESTION_EN.search(text) and len(text) <= 120 and \
                    tickets.for_citizen(db, inbound.openid, 1):  # "any update on my complaint?": the list, not a
                return [*prefix, Reply(self.my_tickets(db, inbound.openid, "en"))]  # new message out of scope
            if inbound.kind == "text" and asks_how_to_send(text):  # answered; no message started, a kept one kept
                answered = [Reply(texts.pick("MEDIA_HOW_NEW", user.get("lang")))]
            else:
                answered = self.campaign.instant_answer(db, inbound, text)  # issue 13: 常见问题 answered at once
            if answered is not None:
                welcome = _Services(self, db, inbound.openid).welcome(user.get("lang"))  # a first message: welcomed
                if welcome and answered[0].to is None:
                    answered = [Reply(welcome + "\n\n" + answered[0].text, None, answered[0].extra), *answered[1:]]
                return [*prefix, *answered]
            school = self._scene_school(db, user.get("scene"))
            state, data, replies = intake.start(inbound, school)
        replies = [*replies, *intake.s.notices]  # the staff told about a ticket just submitted
        if state is None:
            conversations.delete(db, inbound.openid)
        else:
            conversations.put(db, inbound.openid, "intake", state, data, now,
                              self.policy.conversation_minutes * 60)
        return [*prefix, *replies, *after]

    def _comment_to_file(self, text: str) -> str:
        """The comment of a rating when it must be a message of its own, else "": a call for help (the router's
        urgent), or words about a teacher's or head's conduct (师德: the bureau's to handle, never the school's)."""
        rating = followup.parse(text)
        comment = rating.comment if rating else ""
        if not comment:
            return ""
        # a 不满意 comment about conduct moves the redo itself to the bureau (Desk.keep_from_school): not twice
        conduct = rating.score in (1, 2) and self._accuses(comment)
        # what a teacher is thanked for never doing (从来不体罚学生) is no call for help
        rest = privacy.without_virtues(comment, self.routing).strip()
        return comment if conduct or (rest and self.routing(rest).get("urgent")) else ""

    def sweep_tx(self, db, ids: list[int] | None = None) -> int:
        """The deadline watch over the tickets due for a check (or `ids`, chosen on a reader), in one
        transaction with the reminders it queues. Without `ids` (tests, tools) the unfinished messages too."""
        pushes = self.watch.sweep(db, ids)
        if ids is None:
            pushes += self._intake(db).remind(self.clock.now())
        queued = outbox.enqueue_replies(db, [r.to_dict() for r in pushes], "", self.clock.now(), source="deadlines")
        gather(db, self.clock.now())
        return queued

    def help_for(self, db, user: dict) -> str:
        return commands.help_text(user, self.policy.duty_office,
                                  user.get("role") in STAFF_ROLES and self.desk.at_school(db, user))

    def gather_tx(self, db) -> int:
        """The end of a sweep run in several transactions (sweep_some_tx): each person's held reminders, one push."""
        return gather(db, self.clock.now())

    def gather_some_tx(self, db, seconds: float) -> tuple[int, bool]:
        """As gather_tx, for about `seconds` (at least one person): (pushes queued, whether some are still held)."""
        return gather_until(db, self.clock.now(), time.perf_counter() + seconds)

    def sweep_some_tx(self, db, ids: list[int], seconds: float) -> tuple[int, list[int]]:
        """As sweep_tx over `ids`, but for about `seconds` at most (at least one ticket): the pushes queued and
        the ids left for the next transaction. The job's writes then hold the write lock briefly, however much
        one ticket's visit costs (the first sweep after an upgrade visits every open ticket)."""
        pushes, left = self.watch.sweep_until(db, ids, time.perf_counter() + seconds)
        return outbox.enqueue_replies(db, [r.to_dict() for r in pushes], "", self.clock.now(),
                                      source="deadlines"), left

    def drafts_tx(self, db, remind: list[str] | None = None, expire: list[str] | None = None) -> int:
        """Unfinished messages: one reminder before each expires; the expired kept to be offered back. With
        `remind` and `expire` (people chosen on a reader: storage.conversations.drafts_due), only theirs, each
        checked again here, so that a write does a few of them and no scan of the day's conversations."""
        intake = self._intake(db)
        if remind is not None or expire is not None:
            intake.s.drafts = (remind or [], expire or [])
        pushes = intake.remind(self.clock.now())
        return outbox.enqueue_replies(db, [r.to_dict() for r in pushes], "", self.clock.now(), source="drafts")

    def digest_tx(self, db, week: str, link: Callable[..., str]) -> int:
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

    def digest_prepare(self, db, week: str, link: Callable[..., str],
                       ranking_link: Callable[[str, str], str] | None = None,
                       render: Callable[[digest.Digest], bytes] | None = None) -> list[dict]:
        """Read-only: the digests of `week` still to send, with their texts and hot topics, built from one read of
        the week's tickets. When a month ended in the week, each also links to that month's ranking (绩效考核,
        `ranking_link(month, openid)`, the recipient's own). With `render`, each also carries its page's data
        (`page`, as storage.digest_pages.pack makes it), stored with it."""
        now, tz = self.clock.now(), self.calendar.tz
        jobs = self.digest_jobs(db, week)
        if not jobs:
            return []
        units = {u["code"]: u for u in directory.all_units(db)}
        start, end = digest.bounds(week, tz)
        topics = digest.hot_topics_for(tickets.period_terms(db, start, end),  # each ticket's stored terms
                                       {scope: digest.scope_members(units, scope) for scope, _ in jobs},
                                       self.router.tokenizer)
        built = digest.build_all(db, week, now, tz, [scope for scope, _ in jobs], self.router.tokenizer, topics,
                                 self.min_cases)
        month = review.month_ended_in(start, end, tz) if ranking_link else None

        def tail(openid: str) -> str:
            return "\n" + texts.DIGEST_RANKING.format(month=review.period_name(month),
                                                      url=ranking_link(month, openid)) if month else ""
        # Each recipient's own links: they stop opening once the person no longer holds the role.
        return [{"scope": scope, "to": people, "topics": topics[scope],
                 "texts": {o: for_staff(digest.message(built[scope], tz, link(week, scope, o)) + tail(o))
                           for o in people},
                 **({"page": render(built[scope])} if render else {})}
                for scope, people in jobs]

    def digest_record_tx(self, db, week: str, items: list[dict]) -> int:
        """On the writer: record and queue prepared digests; each (week, scope) once, whoever raced."""
        return self.digest_record_some_tx(db, week, items)[0]

    def digest_record_some_tx(self, db, week: str, items: list[dict],
                              seconds: float | None = None) -> tuple[int, int]:
        """As digest_record_tx, for about `seconds` at most (at least one scope, each scope whole): (pushes queued,
        scopes recorded); the job records the rest in its next write."""
        now = self.clock.now()
        until = None if seconds is None else time.perf_counter() + seconds
        # Channel-neutral: the WeChat channel renders the title, the workbench lists it.
        notice = {"audience": "staff", "ticket": None, "title": texts.DIGEST_TITLE, "state": "", "due": ""}
        queued = 0
        for n, item in enumerate(items):
            if until is not None and n and time.perf_counter() > until:
                return queued, n
            tickets.save_topics(db, week, item["scope"], item["topics"], now)
            if item.get("page"):
                digest_pages.save(db, week, item["scope"], item["page"], now)
            if tickets.digest_sent(db, week, item["scope"], now):
                queued += outbox.enqueue_replies(
                    db, [{"text": item["texts"][o], "to": o, "extra": {"notice": notice}} for o in item["to"]],
                    "", now, source=f"digest:{week}")
        return queued, len(items)

    def _intake(self, db, openid: str = "") -> Intake:
        return Intake(_Services(self, db, openid))

    def my_tickets(self, db, openid: str, lang: str | None = None, head: bool = False) -> str:
        """The person's latest tickets, each with its deadline as Desk.citizen_due tells it; `head`: under the
        promise that the office works to the deadline (PROGRESS_HEAD), not made while one of them waits for
        someone on duty."""
        rows = tickets.for_citizen(db, openid)
        if not rows:
            return (texts.pick("PROGRESS_HEAD", lang) + "\n" if head else "") + texts.pick("NO_TICKETS", lang)
        states = texts.names_in("STATE_NAMES", lang)
        lines, waits = [texts.pick("MY_TICKETS_HEAD", lang)], False
        for t in rows:
            state = privacy.citizen_state(t)
            told = self.desk.citizen_due(db, t)
            waits = waits or told[1]
            lines.append(texts.pick("MY_TICKET_LINE", lang).format(
                number=t["number"], kind=kind_name(t, lang), state=states[state],
                due=self.desk.citizen_says(db, t, "MY_TICKET_DUE", lang, told))
                + (texts.pick("MY_TICKET_TO_RATE", lang) if state == "resolved" else ""))  # (awaiting_rating's rule)
        if head:
            lines.insert(0, texts.pick("PROGRESS_HEAD_WAITING" if waits else "PROGRESS_HEAD", lang))
        lines.append(texts.pick("MY_TICKETS_FOOT", lang).format(short=rows[0]["number"].rsplit("-", 1)[1].lstrip("0")))
        to_rate = [t["number"] for t in rows if privacy.citizen_state(t) == "resolved"]
        if to_rate:
            lines.append(texts.pick("MY_TICKETS_RATE_FOOT", lang).format(number=to_rate[0]))
        return "\n".join(lines)

    def ticket_detail(self, db, openid: str, ticket: dict, lang: str | None = None) -> str:
        """The citizen's view: the whole text (the receiver splits what is over WeChat's size limit), the
        deadline as Desk.citizen_says tells it (only while it runs; none promised with nobody on duty), and the history in plain words, in the person's language."""
        unit = directory.get(db, ticket["unit_code"])
        state = privacy.citizen_state(ticket)
        lines = [texts.pick("TICKET_DETAIL", lang).format(
            number=ticket["number"], kind=kind_name(ticket, lang),
            state=texts.names_in("STATE_NAMES", lang)[state], unit=unit["name"] if unit else "待分派")]
        if due := self.desk.citizen_says(db, ticket, "TICKET_DETAIL_DUE", lang):
            lines.append(due)
        lines.append(texts.pick("TICKET_DETAIL_TEXT", lang) + ticket["text"])
        withdrew = ticket.get("citizen_withdrew_at")
        if ticket["resolution"] and not withdrew:
            lines.append(texts.pick("TICKET_RESOLUTION", lang) + ticket["resolution"])
        lines.append(texts.pick("TICKET_HISTORY_HEAD", lang))
        events = texts.names_in("CITIZEN_EVENT_NAMES", lang)
        colon = ": " if lang == "en" else "："
        for event in privacy.citizen_events(tickets.events(db, ticket["id"])):
            name = events.get(event["action"])
            if name is None:
                continue  # internal handling, not the citizen's concern
            when = dt.datetime.fromtimestamp(event["at"], self.calendar.tz).strftime("%m-%d %H:%M")
            # What was said to or by the citizen is theirs to read; bounce reasons and notes are internal.
            note = f"{colon}{event['note']}" if event["note"] and event["action"] in (
                "reply", "citizen_reply", "supplement", "resolve") else ""
            lines.append(f"{when} {name}{note}")
        return "\n".join(lines)

    def weekly_link(self, db, user: dict) -> str:
        """周报 on demand, for the leader's bureau or the supervisor's unit: last week's page, whole (what a leader
        asks for on a Monday morning, when this week has hardly begun), and this week's so far."""
        week = digest.week_of(self.clock.now(), self.calendar.tz)
        last = digest.previous_week(week)
        scope = "bureau" if user.get("role") in WIDE_ROLES else user["unit_code"]
        if not self.links:
            return texts.WEEKLY_NONE
        return texts.WEEKLY_BOTH.format(last=last, last_link=self.links(last, scope, user["openid"]), week=week,
                                        link=self.links(week, scope, user["openid"]))

    def _event(self, db, inbound: Inbound) -> list[Reply]:
        now = self.clock.now()
        campaign = self.campaign.event(db, inbound)  # issue 13: survey QR codes, the custom menu
        if campaign is not None:
            return campaign
        if inbound.event in ("subscribe", "scan"):
            users.set_scene(db, inbound.openid, inbound.scene, now)
            unit = self._unit(db, inbound.scene)
            first = users.welcome_once(db, inbound.openid, now) or inbound.event == "subscribe"
            replies = [Reply(self._welcome(unit) if first else
                             texts.SCAN_UNIT.format(unit=unit["name"]) if unit else texts.SCAN_UNKNOWN)]
            conv = conversations.get(db, inbound.openid, now)
            if unit and conv and conv["flow"] == "intake" and not conv["expired"]:
                # Scanned while writing: the message is about this school (no more "which school?").
                school = unit["code"] if unit["kind"] in ("school", "kindergarten") else None
                intake = self._intake(db, inbound.openid)
                state, data, more = intake.scan(conv["state"], conv["data"], school, unit["name"])
                conversations.put(db, inbound.openid, "intake", state, data, now,
                                  self.policy.conversation_minutes * 60)
                replies = [*(replies if first else []), *more]
            return replies
        if inbound.event == "unsubscribe":
            users.set_subscribed(db, inbound.openid, False, now)
            # WeChat delivers nothing to a person who has left (43004), so staff who leave are unbound as by
            # `tingjian staff remove`: their tickets, and the citizens' words on them, go to someone who hears.
            return self.desk.remove_staff(db, inbound.openid, staff.UNFOLLOWED)[1]
        if inbound.event == "click":
            if inbound.event_key in ("help", "HELP"):
                return [Reply(self.help_for(db, users.get(db, inbound.openid) or {}))]
            if inbound.event_key in ("query", "QUERY"):
                return [Reply(self.my_tickets(db, inbound.openid))]
            return [Reply(texts.MENU_UNKNOWN)]
        return []  # VIEW and other notifications need no answer

    def _welcome(self, unit: dict | None, lang: str | None = None) -> str:
        if lang == "en":  # office and school names stay Chinese: the English welcome names none
            return texts.EN["WELCOME"]
        welcome = texts.WELCOME.format(org=self.policy.organisation, bot=self.policy.name,
                                       commitment=self.policy.commitment) + "\n" + texts.WELCOME_ENGLISH
        if unit:
            welcome += "\n" + texts.WELCOME_UNIT.format(unit=unit["name"])
            if unit.get("commitment"):
                welcome += "\n" + texts.UNIT_COMMITMENT.format(unit=unit["name"], text=unit["commitment"])
            if self.policy.public_url:  # issue 13: the unit's public page (service items, results)
                welcome += "\n" + texts.PUBLIC_UNIT_PAGE.format(
                    unit=unit["name"], url=f"{self.policy.public_url}/u/{unit['code']}")
        return welcome

    def _unit(self, db, scene: str | None) -> dict | None:
        if not scene:
            return None
        return directory.by_scene(db, scene)

    def _scene_school(self, db, scene: str | None) -> str | None:
        unit = self._unit(db, scene)
        return unit["code"] if unit and unit["kind"] in ("school", "kindergarten") else None

    # -- assignment: which unit handles a category, for a school or none -----------------------------------
    def plan(self, db, category: str, school_code: str | None, kind: str, routing: dict,
             anonymous: bool = False, place: str | None = None) -> Plan:
        """Who handles it: a school fixes what is its own to fix (policy.school_categories); the district bureau
        running a named school takes policy.district_categories, as does the bureau of the district the words
        name (`place`, 江北那边…) when they name no school; the rest goes to the city office listed for the
        category, and the duty office takes what no office claims.

        The school is never the handler of a message that involves a teacher's or principal's conduct (any of
        its matters is 师德), nor of one whose writer refused to be known to it: then what the school would
        have fixed goes to the bureau that runs it. Praise goes to the school it is about, unless it also accuses
        (privacy.barred: the one rule, whatever the kind)."""
        school = directory.get(db, school_code)
        conduct = privacy.involves_conduct(category, routing)  # a teacher's or head's conduct (师德)
        not_the_school = privacy.barred(kind, category, routing, anonymous)  # the rule 转派 applies too
        unit = None
        if privacy.about_bureau({"kind": kind, "routing": routing}):
            # a complaint about the bureau itself (its offices, its staff, the duty office too): the oversight
            # office or the leaders (Desk.oversight), never an office it names, whatever its words are about
            unit = directory.get(db, self.desk.oversight(db, routing.get(privacy.ACCUSED) or ()))
        elif school and kind == "praise" and not not_the_school:
            unit = school  # praise that also accuses (privacy.ACCUSES) goes to the bureau like a complaint
        elif school and category in self.policy.school_categories and not not_the_school:
            unit = school
        elif school and (category in self.policy.district_categories | self.policy.school_categories or conduct):
            parent = directory.get(db, school["parent"])
            unit = parent if parent and parent["kind"] == "district" else None
        elif not school and place and category in self.policy.district_categories:
            unit = directory.district_bureau(db, place)
        if unit is None:
            unit = directory.office_for(db, category)
        if unit is None:
            unit = directory.get(db, self.policy.duty_office)
        urgent = bool(routing.get("urgent")) and kind in ("complaint", "inquiry", "suggestion")
        if urgent:
            days = self.policy.days.get("urgent", self.policy.days["safety_complaint"])
        elif kind == "complaint" and category in URGENT:
            days = self.policy.days["safety_complaint"]
        else:
            days = self.policy.days[kind]
        due = None if kind == "praise" else self.calendar.due(self.clock.now(), days)
        name = unit["name"] if unit else self.policy.organisation
        if unit and unit["kind"] == "bureau":  # the bureau's own unit: its leaders handle it (Desk.recipients)
            name += "领导"
        return Plan(category=category, unit_code=unit["code"] if unit else None, unit_name=name,
                    school_code=school["code"] if school else None, school_name=school["name"] if school else None,
                    routing=routing, due_at=due, due_text=self.calendar.date_text(due) if due else "—", days=days,
                    urgent=urgent, due_text_en=self.calendar.date_text(due, "en") if due else "—")


class _Services(IntakeServices):
    """The intake conversation's view of routing, the directory and tickets, within one transaction."""

    def __init__(self, d: Dispatcher, db, openid: str = ""):
        self.d = d
        self.db = db
        self.openid = openid
        self.needs_school = d.needs_school
        self.district_categories = d.policy.district_categories
        self.notices: list[Reply] = []
        self.english_welcome = False
        # (openid, users.lang) as the turn read it (Turn.user, after _note_lang): lang() needs no statement
        self.known_lang: tuple[str, str | None] | None = None
        self._match_memo: tuple | None = None  # (rows, text, names.match of it), see _matched
        self._latest: tuple[str, dict | None] | None = None  # (openid, their latest ticket), read once a turn
        # a person the turn's row shows never welcomed: no message of theirs was ever handled, so no ticket is theirs
        self.unwelcomed: str | None = None

    def latest_ticket(self) -> dict | None:
        """The person's latest ticket: answered() and just_filed() both ask, most turns once each. Forgotten by
        whatever in the turn writes a ticket (submit, append_to, change_kind, reply_to, rate)."""
        if not self.openid or self.unwelcomed == self.openid:
            return None
        if self._latest is None or self._latest[0] != self.openid:
            rows = tickets.for_citizen(self.db, self.openid, 1)
            self._latest = (self.openid, rows[0] if rows else None)
        return self._latest[1]

    def route(self, text: str) -> dict:
        return self.d.routing(text)

    def matter(self, text: str) -> tuple[str, float]:
        return self.d.matter(text)

    def find_school(self, text: str, loose: bool = True, said: str | None = None) -> str | None:
        """The school `text` names: exactly (the router's names, one directory name in it or it in one name) or,
        when `loose`, by a sure fuzzy match. A caller that takes a school only if its name is in the text or the
        text in its name (Intake._take_school) asks loose=False: a fuzzy match is never such a name (else it
        would be among the exact hits), and it is the lookup's dearest part. A place named in `text` (or in
        `said`, the reply a name was read from) narrows the look-up to its schools -- 江南那个实验小学 is the one
        of 江南区 -- and never names a school by itself."""
        if names.generic(text):
            return None
        code = self.d.router.find_school(text)
        if code:
            return code
        rows = directory.school_names(self.db)
        within, rest = names.place_named(said or text, directory.school_places(self.db))
        if within is not None and said is None:
            if not rest or names.generic(rest):
                return None  # 江南区的 / 江南那个小学: a place, no school
            whole = [code for code, name in rows if text in name]
            if len(whole) == 1:
                return whole[0]  # the place's words are part of one name (江南小学 of 江北区)
            text = rest
        if within is not None:
            rows = [row for row in rows if row[0] in within]
        hits = [code for code, name in rows if text and (text in name or name in text)]
        if len(hits) == 1:
            return hits[0]
        sure = names.sure_of(self._matched(text, rows)[:2]) if not hits and loose else None
        return sure.code if sure else None

    def suggest_schools(self, text: str, said: str | None = None) -> list[tuple[str, str]]:
        """Up to three schools `text` may mean, best first: those of a place it names (or `said` names, the story a
        name was read from), when any there is close (实验小学 江南区的), else any in the directory by the name without
        the place (a place misremembered: 实验小学 江北的, where 江北区 has none)."""
        rows = directory.school_names(self.db)
        within, rest = names.place_named(said or text, directory.school_places(self.db))
        if said is not None:
            rest = text  # (the name was read from the story already)
        if within is not None:
            if not rest:
                return []  # 江南区的: a place, no school
            # 江南小学: a kind of school in a place -- the place's schools of that kind, by the whole words
            near = self._matched(text if names.generic(rest) else rest, [row for row in rows if row[0] in within])
            if near:
                return [(m.code, m.name) for m in near]
            if not names.generic(rest):
                text = rest  # the place's words are no part of a name elsewhere
        return [(m.code, m.name) for m in self._matched(text, rows)]

    def place_only(self, text: str) -> str | None:
        """The district `text` names when it names nothing else (江南那边的 -> 江南区), else None."""
        rows = directory.school_places(self.db)
        within, rest = names.place_named(text, rows)
        if within is None or rest:
            return None
        districts = {district for code, _name, district in rows if code in within and district}
        return districts.pop() if len(districts) == 1 else None

    def _matched(self, text: str, rows) -> list:
        """names.match(text, rows), once per text and turn: the school question reads a reply with find_school,
        then suggest_schools (Intake._read_school), both from the same match."""
        memo = self._match_memo
        if memo is None or memo[1] != text or memo[0] is not rows and memo[0] != rows:  # (a place's rows: anew)
            memo = self._match_memo = (rows, text, names.match(text, rows))
        return memo[2]

    def school_names(self, codes: list[str]) -> list[str]:
        return [(directory.get(self.db, c) or {"name": c})["name"] for c in codes]

    def similar(self, draft: Draft) -> dict | None:
        since = self.d.clock.now() - self.d.policy.similar_days * 86400
        return self._may_add_to(tickets.similar_open(self.db, draft.openid, draft.school, draft.category, since),
                                draft)

    def goes_on(self, draft: Draft) -> dict | None:
        """The ticket just filed, offered for words that go on with it (还有…), as `similar` offers one."""
        return self._may_add_to(self.just_filed(), draft)

    def _may_add_to(self, found: dict | None, draft: Draft) -> dict | None:
        if not found:
            return None
        holder = directory.get(self.db, found["unit_code"]) or {}
        if holder.get("kind") in privacy.SCHOOL_KINDS and privacy.involves_conduct(draft.category, draft.routing):
            return None  # words about a teacher's conduct are never added to a ticket the school holds
        created = dt.datetime.fromtimestamp(found["created_at"], self.d.calendar.tz)
        if draft.lang == "en":
            return {"number": found["number"], "date": f"{created:%B} {created.day}",
                    "state": texts.STATE_NAMES_EN[found["state"]], "school": found["school_code"]}
        return {"number": found["number"], "date": f"{created.month}月{created.day}日",
                "state": texts.STATE_NAMES[found["state"]], "school": found["school_code"]}

    def plan(self, category: str, school: str | None, kind: str, routing: dict, anonymous: bool = False,
             place: str | None = None) -> Plan:
        return self.d.plan(self.db, category, school, kind, routing, anonymous=anonymous, place=place)

    def nobody_on_duty(self, plan: Plan, kind: str) -> bool:
        """Desk.nobody_on_duty for the ticket this plan would file (asked only where a deadline is about to be
        shown: the summary, 多久能处理)."""
        return self.d.desk.nobody_on_duty(self.db, {"unit_code": plan.unit_code, "kind": kind,
                                                    "routing": plan.routing})

    def place_in(self, text: str) -> str | None:
        """The one district `text` names anywhere in it (江北那边的小学怎么报名 -> 江北区), else None."""
        rows = directory.school_places(self.db)
        within, _rest = names.place_named(text, rows)
        districts = {district for code, _name, district in rows if code in (within or ()) and district}
        return districts.pop() if len(districts) == 1 else None

    def place_lacks(self, text: str, codes: list[str]) -> str | None:
        """The one district `text` names when none of `codes` lies in it (实验小学 江北那个, the near match 江南区的:
        江北区), else None."""
        rows = directory.school_places(self.db)
        within, _rest = names.place_named(text, rows)
        if within is None or any(code in within for code in codes):
            return None
        districts = {district for code, _name, district in rows if code in within and district}
        return districts.pop() if len(districts) == 1 else None

    def offices_named(self, text: str) -> list[str]:
        """The bureau's offices `text` names (收费管理处, 值班室, 督查室): each office's name without the bureau's,
        and the name in its brackets, as written; what a complaint about the bureau accuses (privacy.ACCUSED)."""
        found = []
        for unit in directory.all_units(self.db):
            if unit["kind"] != "office":
                continue
            full = unit["name"].removeprefix(self.d.policy.organisation)
            names = [n for n in re.split(r"[（）()]", full) if len(n) >= 2]
            if any(n in text for n in names) or any(n.removeprefix("教育") in text for n in names
                                                   if len(n.removeprefix("教育")) >= 3):
                found.append(unit["code"])
        return found

    def submit(self, openid: str, draft: Draft | dict, plan: Plan) -> dict:
        self._latest = self.unwelcomed = None
        if isinstance(draft, dict):  # a ticket made outside the conversation (a survey's free-text answer)
            draft = Draft.from_dict({"openid": openid, **draft})
        now = self.d.clock.now()
        routing = {**plan.routing, "focus": draft.focus} if draft.focus else plan.routing
        # praise that also accuses (kept as praise): the bureau checks the conduct part, in a complaint's time
        check = draft.kind == "praise" and bool((plan.routing or {}).get(privacy.ACCUSES)) and plan.unit_code
        due_at = self.d.calendar.due(now, self.d.policy.days["complaint"]) if check else plan.due_at
        ticket = tickets.create(
            self.db, openid=openid, kind=draft.kind, category=plan.category, unit_code=plan.unit_code,
            school_code=plan.school_code, text=draft.text, attachments=draft.attachments,
            contact_phone=draft.phone or None, anonymous=bool(draft.anonymous), routing=routing, now=now,
            due_at=due_at, tz=self.d.calendar.tz,
            accept_due_at=None if draft.kind == "praise" and not check else
            self.d.calendar.due(now, self.d.policy.days["accept"]))
        if draft.kind == "praise":
            self.notices.extend(self._praise(ticket, plan))
            return ticket
        why = texts.WHY_ABOUT_BUREAU if (plan.routing or {}).get(privacy.ABOUT_BUREAU) else ""
        self.notices.extend(self.d.desk.dispatch_notices(self.db, ticket, why))
        if plan.urgent:
            copies, office = self._urgent_copies(ticket, plan)
            self.notices.extend(copies)
            if office:  # the citizen is told the bureau's office sees it too (texts.URGENT_OFFICE_TOLD)
                ticket = {**ticket, "office_told": office}
        if self.d.desk.nobody_on_duty(self.db, ticket):
            # Nobody bound may act on it (a fresh install, everyone gone): the filing reply promises no deadline and
            # says so (`waits`), and the watch does not say it again at the first reminder (Desk.waiting_told).
            self.d.desk.waiting_told(self.db, ticket, push=False)
            ticket = {**ticket, "waits": True}
        return ticket

    def _praise(self, ticket: dict, plan: Plan) -> list[Reply]:
        """Praise needs no handling: it is passed on to the unit and the body above it, counted for the school
        praised (storage.tickets.praise_by_unit), and closed. Praise that also accuses a teacher, kept as praise
        ("2 只是表扬"), stays open at the bureau unit it went to (never the school): someone there must look at the
        conduct part and close it with a note (Desk.resolve), watched like any deadline. The citizen is not asked
        to rate it, and it is in no unit's three rates: the school's review is not touched by an unverified
        accusation."""
        now = self.d.clock.now()
        told = self._praise_burst(ticket, now)
        if (plan.routing or {}).get(privacy.ACCUSES) and ticket["accept_due_at"]:
            return told + self.d.desk.dispatch_notices(self.db, ticket, texts.WHY_PRAISE_CONDUCT)
        tickets.transition(self.db, ticket, "closed", "system", now, "praise", "表扬已转达",
                           closed_at=now, close_reason="praise")
        unit = directory.get(self.db, plan.unit_code) or {"code": plan.unit_code, "parent": None}
        to = staff.of_unit(self.db, unit["code"], ("handler", "supervisor"))
        to += [o for o in staff.of_unit(self.db, unit.get("parent"), ("supervisor",)) if o not in to]
        text = texts.PRAISE_NOTICE.format(number=ticket["number"], unit=plan.unit_name, text=ticket["text"],
                                          school_line=f"学校：{plan.school_name}\n"
                                          if plan.school_name and plan.school_name != plan.unit_name else "")
        if (plan.routing or {}).get(privacy.ACCUSES):  # the writer called it praise only, but it names conduct
            text += "\n" + texts.PRAISE_ACCUSES_NOTE
        return told + [self.d.desk.to_staff(o, text, ticket, "群众表扬") for o in to]

    def _praise_burst(self, ticket: dict, now: float) -> list[Reply]:
        """Praise through one unit from many new accounts is set aside as 群众评议's answers are (storage.bursts:
        one rule, the same limits): within the hour (burst_per_hour), the leaders told once an hour; and paced
        under that through the day (more than new_follower_per_day new accounts), told once a day."""
        code = ticket["school_code"] or ticket["unit_code"]
        if not code:
            return []
        p = self.d.campaign.p
        unit = directory.get(self.db, code) or {"name": code}
        told: list[str] = []
        burst = tickets.mark_praise_burst(self.db, code, now, p.burst_per_hour)
        if burst and bursts.record(self.db, bursts.PRAISE, code, int(now // 3600), burst[0]):
            told.append(texts.PRAISE_BURST_NOTICE.format(unit=unit["name"], count=burst[0], limit=p.burst_per_hour,
                                                         aside=burst[1], kept=burst[0] - burst[1]))
        # only a new account's praise moves the daily count
        first_seen = (users.get(self.db, ticket["openid"]) or {}).get("first_seen_at") or now
        paced = tickets.mark_praise_burst(self.db, code, now, p.new_follower_per_day, bursts.day_start(now)) \
            if now - first_seen < bursts.FRESH_SECONDS else None
        # the day's key is negative, so it never meets an hour's (as 群众评议's daily check)
        if paced and bursts.record(self.db, bursts.PRAISE, code, -bursts.day_of(now), paced[0]):
            told.append(texts.PRAISE_PACED_NOTICE.format(unit=unit["name"], count=paced[0],
                                                         limit=p.new_follower_per_day))
        return [Reply(text, to=o) for text in told for o in staff.leaders(self.db)]

    def _urgent_copies(self, ticket: dict, plan: Plan) -> tuple[list[Reply], str | None]:
        """An urgent matter is copied at once to the supervisors of the unit and of the body above it; where
        neither has one (the bureau's own duty office), to the bureau's leaders, so someone in charge knows.
        With the name of the bureau's office that was copied too (_office_sees), or None."""
        told = {r.to for r in self.notices}
        unit = directory.get(self.db, plan.unit_code) or {"code": plan.unit_code, "parent": None}
        to = staff.of_unit(self.db, unit["code"], ("supervisor",))
        to += staff.of_unit(self.db, unit.get("parent"), ("supervisor",))
        if not to:
            to = list(staff.leaders(self.db))
        office, sees = self._office_sees(unit, plan.category)
        to += sees
        text = texts.URGENT_COPY.format(number=ticket["number"], unit=plan.unit_name,
                                        category=texts.CATEGORY_NAMES.get(plan.category, plan.category),
                                        excerpt=texts.excerpt(ticket["text"], 120), due=plan.due_text)
        return ([self.d.desk.to_staff(o, text, ticket, "紧急留言") for o in dict.fromkeys(to) if o not in told],
                office["name"] if sees else None)

    def _office_sees(self, unit: dict, category: str) -> tuple[dict | None, list[str]]:
        """(the bureau's office for the category, who there also sees an urgent matter a school handles itself)
        (食堂吃坏了一个班): the school acts on the spot, but its own account of its own canteen, building or pupils is
        not the only one the bureau hears. The office's supervisors, else its handlers; nobody when it has no one
        bound."""
        if unit.get("kind") not in ("school", "kindergarten"):
            return None, []
        office = directory.office_for(self.db, category)
        if office is None:
            return None, []
        return office, (staff.of_unit(self.db, office["code"], ("supervisor",))
                        or staff.of_unit(self.db, office["code"], ("handler",)))

    def without_refusal(self, text: str) -> str | None:
        """The text with a child's refusal of school taken out (the rules' {refuses}), or None if it tells none."""
        refuses = self.d.router.urgent_groups.get("refuses")
        if refuses is None or not refuses.search(text):
            return None
        return refuses.sub("", text)

    def hotlines(self, routing: dict, lang: str | None = "zh") -> str:
        return texts.hotlines(routing.get("urgent_words") or [], routing.get("category", ""), self.d.policy.hotline,
                              lang, self.d.router.urgent_groups.get("refuses"))

    def who_we_are(self, lang: str | None = None) -> str:
        if lang == "en":
            return texts.EN["WHO_WE_ARE"]
        return texts.WHO_WE_ARE.format(org=self.d.policy.organisation, bot=self.d.policy.name)

    def reach_person(self, lang: str | None = None) -> str:
        line = self.d.policy.hotline
        if lang == "en":
            return texts.EN["REACH_PERSON"] + (" " + texts.EN["REACH_HOTLINE"].format(phone=line) if line else "")
        return texts.REACH_PERSON + (texts.REACH_HOTLINE.format(phone=line) if line else "")

    def append_to(self, number: str, openid: str, text: str, attachments: list) -> None:
        self._latest = None
        self.notices.extend(self.d.desk.supplemented(self.db, number, openid, text, attachments))

    def welcome(self, lang: str | None = None) -> str | None:
        """The welcome, for a person whose first message comes before any follow or scan."""
        if not self.openid or not users.welcome_once(self.db, self.openid, self.d.clock.now()):
            return None
        return self.d._welcome(None, lang)

    def just_filed(self) -> dict | None:
        """The person's latest ticket, if submitted within the conversation's time (a correction of it may follow)."""
        row = self.latest_ticket()
        since = self.d.clock.now() - self.d.policy.conversation_minutes * 60
        return row if row and row["created_at"] >= since and privacy.citizen_state(row) in lifecycle.OPEN else None

    def change_kind(self, number: str, kind: str) -> list[Reply]:
        self._latest = None
        ticket = tickets.get(self.db, number)
        return self.d.desk.change_kind(self.db, self.openid, ticket, kind) if ticket else []

    def answered(self) -> str | None:
        """The number of the person's latest ticket, if the office has answered it and it is not concluded."""
        row = self.latest_ticket()
        return row["number"] if row and privacy.citizen_state(row) == "replied" else None

    def reply_to(self, number: str, text: str) -> list[Reply]:
        self._latest = None
        ticket = tickets.get(self.db, number)
        return self.d.desk.citizen_reply(self.db, self.openid, ticket, text) if ticket else []

    verify_lang = False  # tests: every known_lang used is compared with the row (mismatches listed below)
    lang_mismatches: list = []

    def lang(self) -> str | None:
        """The language the person writes in, as far as it is known (users.lang). Within a turn, from the user's
        row the turn read (only _note_lang writes users.lang, and it updates that row)."""
        if not self.openid:
            return None
        known = self.known_lang
        if known is not None and known[0] == self.openid:
            if self.verify_lang and users.lang(self.db, self.openid) != known[1]:
                _Services.lang_mismatches.append((self.openid, known[1], users.lang(self.db, self.openid)))
            return known[1]
        return users.lang(self.db, self.openid)

    def kept(self) -> dict | None:
        return conversations.kept(self.db, self.openid, self.d.clock.now())

    def awaiting(self) -> list[str]:
        return [t["number"] for t in tickets.awaiting_rating(self.db, self.openid)]

    def status_text(self) -> str:
        return self.d.my_tickets(self.db, self.openid, self.lang(), head=True)

    def open_numbers(self) -> list[str]:
        return [t["number"] for t in tickets.for_citizen(self.db, self.openid, 3)
                if privacy.citizen_state(t) in lifecycle.OPEN]

    def rating(self, text: str) -> followup.Rating | None:
        rating = followup.parse(text)
        return rating if rating is not None and self.awaiting() else None

    def rate(self, text: str, confirmed: bool = True) -> list[Reply] | None:
        self._latest = None
        return self.d.followup.rate(self.db, self.openid, text, doubtful=confirmed)

    drafts: tuple[list[str], list[str]] | None = None  # (to remind, expired): the people drafts_tx does, if not all

    def to_remind(self) -> list[dict]:
        return conversations.to_remind(self.db, self.d.clock.now(),
                                       openids=None if self.drafts is None else self.drafts[0])

    def mark_reminded(self, openid: str) -> None:
        conversations.mark_reminded(self.db, openid, self.d.clock.now())

    def keep_expired(self) -> int:
        return conversations.keep_expired(self.db, self.d.clock.now(),
                                          None if self.drafts is None else self.drafts[1])

