"""回访: after a ticket is resolved, the citizen rates the result.

1 满意 / 2 基本满意 close it. 3 不满意 reopens it once for redo, with the citizen's comment; a second 不满意 sends
it to the bureau for review. Ratings feed the units' 满意率, so a message is a rating only when it plainly is one
(`parse`). Without an answer the citizen is reminded once after two days, and a day after that reminder the
ticket closes as 未评价 (`sweep`, run with the deadline watch)."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from handlers import privacy, texts
from handlers.clock import Clock
from handlers.desk import Desk
from handlers.intake import EMOJI
from handlers.messages import Reply, nfkc, read_numbers
from handlers.textmemo import run_at_end, short_texts
from handlers.workdays import WorkCalendar
from storage import directory, staff, surveys, tickets, users

# A rating is a bare 1, 2 or 3, alone or followed by a separator and a comment ("3 还没退钱", "3，作业还是多"),
# or `评价 编号 N …`. A digit that starts a sentence ("2026年秋季学期…", "1班班主任…", "3年级数学老师…") is not.
NUMBER = r"JY\s*\d{4}\s*-?\s*\d{1,}"
SEPARATORS = " \t\n、,，.。:：;；!！~～-—"
RATE = re.compile(rf"^(?P<cmd>评价[\s:：]*(?:(?P<number>{NUMBER})[\s:：,，]*)?)?(?P<score>[123])(?P<rest>.*)$",
                  re.S | re.I)
# Words that follow a digit in an ordinary sentence: 3年级, 1班, 2个孩子, 3天, 1号楼 … never a rating (nor after a
# space: "1 班班主任…"). A digit after one joiner is a number (2:30, 3-4, 1,000), never a rating either.
COUNTERS = tuple("年月日号班级岁个名位次天点元块楼栋层周节门科分斤届期所中小人家条件项份本")
LIST = re.compile(r"(?:^|\s|[。；;，,])[2-9一二三四五][、.．)）](?!\d)")  # the next item of a numbered list
WORDS = {"满意": 1, "基本满意": 2, "不满意": 3, "非常满意": 1, "很满意": 1, "挺满意": 1, "还行": 2, "还可以": 2,
         "一般": 2, "一般般": 2, "不太满意": 3, "很不满意": 3, "非常不满意": 3}
_PARTICLE = "吧啊呀的了哦呢嘛啦哈嗯~～!！。."
PARTICLES = re.compile(f"[{_PARTICLE}]+")


_WORDS_LONGEST_FIRST = sorted(WORDS.items(), key=lambda kv: -len(kv[0]))  # 非常不满意 before 满意; once, not per message
# Stars and marks out of 5 (五星, 1星, 3分): a rating on another scale than ours, where 1 is the worst, not 满意.
# Read on it (4–5 满意, 3 基本满意, 1–2 不满意) and always asked, never taken.
STARS = re.compile(r"^(?P<n>[1-5一二三四五])\s*颗?(?:星|分)(?!钟)(?P<rest>.*)$", re.S)
STAR_SCORES = {1: 3, 2: 3, 3: 2, 4: 1, 5: 1}
# What people answer a rating request with in their own words: a rating too, always asked (好评 may start a message
# of praise, 没解决 a new complaint), never dropped as the start of a new message while the ticket closes 未评价.
VAGUE = {"好评": 1, "满分": 1, "很好": 1, "非常好": 1, "挺好": 1, "点赞": 1, "解决了": 1, "已解决": 1,
         "差评": 3, "不好": 3, "很差": 3, "太差": 3, "没解决": 3, "没有解决": 3, "还没解决": 3, "未解决": 3}
VAGUE["解决"] = 1  # 解决了, 解决啦 (the particle is read off the end)
VAGUE.update({"不错": 1, "还不错": 1, "挺不错": 1, "凑合": 2, "马马虎虎": 2, "还好": 2})  # 一般般吧 / 还不错 (people27)
# 👍 / 👌🏻 / 👎 alone, sent when a rating is asked: a rating too, always asked (it was 收到。如需反映问题…)
_TONE = "[\U0001F3FB-\U0001F3FF\ufe0f]?"
THUMBS = ((re.compile(f"(?:[\U0001F44D\U0001F44C\U0001F4AF\U0001F44F]{_TONE}|\\[(?:强|赞|OK|鼓掌)\\])+[!！。.~～\\s]*"),
           1),  # 👍 👌 💯 👏, and WeChat's own [强] [OK]
          (re.compile(f"(?:\U0001F44E{_TONE}|\\[弱\\])+[!！。.~～\\s]*"), 3))  # 👎 [弱]
# 钱已经退了 谢谢 / 问题解决了 / 钱还没退: how it ended, told in a line when a rating is asked -- a rating too, always
# asked (it was a new message, sent to 12345), never taken
SETTLED = re.compile(r"(?:已经|都|也)?(?:退|解决|处理|办好|落实|整改|改正|改)(?:了|好了|完了|回来了)")
UNSETTLED = re.compile(r"(?:还是?|根本|也|都|一直)?(?:没|没有|未)(?:退|解决|处理|办|落实|整改|改)")


# 满意 said inside a line (我不满意, 对结果很满意, 不是很满意, 一点也不满意): a rating too, always asked (it began a new
# message: 请问您说的是哪方面的事情？). A negation before it within a few characters is 不满意, a negated 不满意 (没什么
# 不满意的, 也不是不满意) and a hedge (比较, 还算, 勉强) 基本满意; 满意度 is the word for the measure, not a rating.
SATISFACTION = (
    (re.compile(r"(?:没(?:什么|有)?|并没有|不能说|也不是|不是)不满意"), 2),
    (re.compile(r"(?:不|没|无法|没法|谈不上|说不上|称不上|算不上)[^，,。！!？?\s]{0,3}满意(?!度)"), 3),
    (re.compile(r"(?:基本上?|勉强|还算|算是|比较|大体)满意(?!度)"), 2),
    (re.compile(r"满意(?!度)"), 1),
    # the English names the rating question offers (1 satisfied, 2 fairly satisfied, 3 not satisfied), as written
    (re.compile(r"(?:\bnot|n't|\bnever)\s+(?:\w+\s+){0,2}(?:satisfied|happy)\b|\b(?:dis|un)satisfied\b|\bunhappy\b",
                re.I), 3),
    (re.compile(r"\b(?:fairly|somewhat|partly|mostly|quite|kind of|sort of|more or less)\s+(?:satisfied|happy)\b",
                re.I), 2),
    (re.compile(r"\b(?:satisfied|happy)\b", re.I), 1),
)
ENGLISH_LINE = 60  # an English answer is longer than a Chinese one: "I am not satisfied with the result"


@dataclass(frozen=True)
class Rating:
    score: int
    comment: str
    number: str | None  # named in `评价 编号 N`
    sure: bool          # False: "3还没退钱" could be a rating or a new message; the person is asked


@short_texts  # pure (a Rating is frozen); a new message asks it twice, a conversation's step once
def parse(text: str) -> Rating | None:
    """The rating a message gives, if it is one. The comment keeps the person's own characters."""
    raw = read_numbers(text).strip()  # 评价 JY2611—0001 1: a number read as commands read it
    norm = nfkc(raw)
    stars = STARS.match(norm)
    if stars:
        rest = stars.group("rest")
        if not _bare(rest) or rest[:1] in SEPARATORS or _bare(rest) in VAGUE:  # 五星好评
            g = stars.group("n")
            n = int(g) if g.isdigit() else "一二三四五".index(g) + 1
            return Rating(STAR_SCORES[n], _own_words(raw, len(norm) - len(rest)).strip(SEPARATORS + "　").strip(),
                          None, False)
        return None
    m = RATE.match(norm)
    if m:
        number = re.sub(r"[\s-]", "", m.group("number") or "").upper() or None
        if number:
            number = f"{number[:6]}-{int(number[6:]):04d}"
        rest = m.group("rest")
        comment = _own_words(raw, len(norm) - len(rest)).strip(SEPARATORS + "　").strip()
        if m.group("cmd"):
            # "评价 1 3": ticket 1 rated 3, or 满意 with the comment "3"? Asked, never guessed.
            return Rating(int(m.group("score")), comment, number, number is not None or not comment[:1].isdigit())
        if rest[:1].isdigit() or rest.startswith(COUNTERS) or re.match(r"^[.．]\d", rest) or LIST.search(rest):
            return None  # 2026年…, 3年级…, 3.5…, or "1、… 2、…": a sentence or a numbered list, not a rating
        gap = rest[:len(rest) - len(rest.lstrip(SEPARATORS))]
        after = rest[len(gap):]
        if gap and after[:1].isdigit():
            if len(gap) == 1 and not gap.isspace():
                return None  # 2:30, 3-4年级, 1,000元, 1~2周, "2，3班的老师…": a number or a list of them
            return Rating(int(m.group("score")), comment, None, False)  # "3 3班还是没解决": asked
        if gap.isspace() and after.startswith(COUNTERS):
            return None  # "1 班班主任…", "3 年级…": a sentence typed with a space, as "1班…" is
        if not rest or (rest[0] in SEPARATORS and not (rest[0] == "、" and comment)):
            return Rating(int(m.group("score")), comment, number, True)
        return Rating(int(m.group("score")), comment, None, False)
    for word, value in _WORDS_LONGEST_FIRST:
        if norm.startswith(word):
            rest = norm[len(word):]
            if not rest or rest[0] in SEPARATORS:
                return Rating(value, _own_words(raw, len(word)).strip(SEPARATORS + "　").strip(), None, True)
            if PARTICLES.fullmatch(rest):  # 还行吧, 满意的: most likely a rating, but asked, never guessed
                return Rating(value, "", None, False)
            said = re.match(r"[吧啊呀的了哦呢嘛啦哈嗯]+", rest)
            if said and rest[said.end():][:1] in SEPARATORS:  # 还行吧，希望学校真能做到: the same, with a comment
                own = _own_words(raw, len(word) + said.end())
                return Rating(value, own.strip(SEPARATORS + "　").strip(), None, False)
    for thumbs, value in THUMBS:
        if thumbs.fullmatch(norm):
            return Rating(value, "", None, False)
    plain = re.sub(EMOJI, "", norm).strip()
    for word, value in WORDS.items():  # 满意满意👍: a word said again, with a smiley
        if plain and _bare(plain) in (word * 2, word * 3):
            return Rating(value, "", None, False)
    bare = _bare(norm)
    for word, value in VAGUE.items():
        if bare == word or (norm.startswith(word) and norm[len(word):][:1] in SEPARATORS):
            return Rating(value, _own_words(raw, len(word)).strip(SEPARATORS + "　").strip()
                          if bare != word else "", None, False)
    if len(bare) <= (ENGLISH_LINE if bare.isascii() else 24) and not re.search(r"\d", bare):  # a line, no sum
        if UNSETTLED.search(bare):
            return Rating(3, raw.strip(), None, False)
        if SETTLED.search(bare):
            return Rating(1, raw.strip(), None, False)
        for said, value in SATISFACTION:
            if said.search(bare):
                return Rating(value, raw.strip(), None, False)
    return None


_TRAILING = run_at_end(_PARTICLE)  # compiled once: parse runs on every reply while one is awaited


def _bare(text: str) -> str:
    """`text` without the particles and marks at its end (好评！, 解决了)."""
    return _TRAILING.sub("", text)


def _own_words(raw: str, norm_offset: int) -> str:
    """The text after the first `norm_offset` characters of its NFKC form, taken from the original (so a
    full-width ，or ！ stays as the person typed it). NFKC maps each character here to one, except rare
    compatibility forms; then the normalised text is the best we have."""
    if len(unicodedata.normalize("NFKC", raw)) == len(raw):
        return raw[norm_offset:]
    return unicodedata.normalize("NFKC", raw)[norm_offset:]


RATING_REMIND_DAYS = 2   # after resolution: one reminder
RATING_DAYS = 3          # after resolution, and at least a day after the reminder: closed as 未评价


def rating_visit(db, ticket: dict, now: float, desk: Desk) -> tuple[dict, list[Reply]]:
    """The deadline watch's visit to a resolved ticket: remind once, then close as 未评价 -- at least a day after
    the reminder, so a reminder sent late (the service was down) still gets its day."""
    resolved = ticket["resolved_at"]
    if not resolved or now - resolved < RATING_REMIND_DAYS * 86400:
        return ticket, []
    if tickets.remind_once(db, ticket["id"], "rate", resolved, now):
        return ticket, desk.tell_citizen(db, ticket, "请评价办理结果", "RATE_REMIND")
    if now >= rating_next_check(db, ticket):
        ticket = tickets.transition(db, ticket, "closed", "system", now, "close", "未评价",
                                    closed_at=now, close_reason="unrated")
    return ticket, []


def rating_next_check(db, ticket: dict) -> float | None:
    """When the watch must look at a resolved ticket again: the reminder, then the end of the rating window."""
    resolved = ticket["resolved_at"]
    if not resolved:
        return None
    reminded = tickets.reminded_at(db, ticket["id"], "rate", resolved)
    if reminded is None:
        return resolved + RATING_REMIND_DAYS * 86400
    return max(resolved + RATING_DAYS * 86400, reminded + 86400)


class FollowUp:
    def __init__(self, clock: Clock, calendar: WorkCalendar, desk: Desk, redo_days: int = 3):
        self.clock = clock
        self.calendar = calendar
        self.desk = desk
        self.redo_days = redo_days

    def rate(self, db, openid: str, text: str, doubtful: bool = False) -> list[Reply] | None:
        """Replies if `text` rates one of the person's resolved tickets; None if it is not (surely) a rating.
        `doubtful=True` accepts a rating the person has confirmed they meant ("3还没退钱" then "是")."""
        rating = parse(text)
        if rating is None or not (rating.sure or doubtful):
            return None
        lang = users.lang(db, openid)
        waiting = tickets.awaiting_rating(db, openid)
        if rating.number:
            ticket = next((t for t in waiting if t["number"] == rating.number), None)
            if ticket is None:
                own = tickets.get(db, rating.number)
                if own is not None and own["openid"] == openid:
                    return [not_ratable(own, lang)]
                return [Reply(texts.TICKET_NOT_FOUND.format(number=rating.number))]
        elif not waiting:
            return None
        elif len(waiting) == 1:
            ticket = waiting[0]
        else:
            return [Reply(texts.pick("RATE_WHICH", lang).format(number=waiting[0]["number"]))]
        if not doubtful and not text.lstrip().startswith("评价") and \
                surveys.draft_since(db, openid, ticket["resolved_at"] or 0):
            return None  # a bare 1 after a 评议 question that came after the rating request: asked, never taken
        return self._apply(db, ticket, rating.score, rating.comment, lang)

    def _insider(self, db, ticket: dict, score: int, unit_code: str | None) -> list[Reply]:
        """A rating from a writer who was staff (unbound since) does not count (m050 `by_insider`): the leaders
        are told, so the unit's 满意率 is not moved unexplained either way."""
        if not ticket.get("by_insider"):
            return []
        unit = (directory.get(db, unit_code) or {}).get("name") or unit_code or ""
        text = texts.INSIDER_RATING_NOTICE.format(number=ticket["number"], rating=texts.RATING_NAMES[score],
                                                  unit=unit)
        return [Reply(text, to=o) for o in staff.leaders(db)]

    def _apply(self, db, ticket: dict, score: int, comment: str, lang: str | None = None) -> list[Reply]:
        return [*self._rate(db, ticket, score, comment, lang),
                *self._insider(db, ticket, score, tickets.owner(tickets.credit(ticket)[1]))]

    def _rate(self, db, ticket: dict, score: int, comment: str, lang: str | None = None) -> list[Reply]:
        now = self.clock.now()
        answered = tickets.credit(ticket)[1]  # whose answer is rated (a stand-in's 代收 account: no 满意率's)
        # The event's name says 不满意 already ("不满意，重新办理"): its note is the person's comment alone.
        note = comment or None
        if score in (1, 2) and comment and self.desk.accuses is not None and self.desk.accuses(comment) and \
                (directory.get(db, ticket["unit_code"]) or {}).get("kind") in privacy.SCHOOL_KINDS:
            # "2 基本满意，不过王老师还是体罚孩子": the score is the school's; the words about its teacher are not
            # (the dispatcher files them as a message of their own, for the bureau), so the school never reads them
            comment = ""
        if score in (1, 2):
            note = texts.RATING_NAMES[score] + (f"：{comment}" if comment else "")
            tickets.transition(db, ticket, "closed", ticket["openid"], now, "rate", note, rating=score,
                               rating_comment=comment or None, rated_at=now, rated_unit=answered,
                               closed_at=now, close_reason="rated")
            return [Reply(texts.pick("RATE_THANKS", lang).format(number=ticket["number"]))]
        if ticket["reopens"] == 0:  # first 不满意: the same unit does it again, with a fresh time limit
            due = self.calendar.due(now, self.redo_days)
            # the redo is the holder's own work once the ticket is home (no longer 代收); 代收 shows only while a
            # part still counts for someone else (a leader's rejected 办结 no longer does)
            redo = {"resolve_unit": ticket.get("resolve_unit") if ticket.get("unattended") else None}
            redo["stood_in"] = tickets.stood_in({**ticket, **redo})
            ticket = tickets.transition(db, ticket, "reopened", ticket["openid"], now, "reopen", note, rating=score,
                                        rating_comment=comment or None, rated_at=now, reopens=1, due_at=due,
                                        rated_unit=answered, resolved_at=None, **redo)
            fields = {"number": ticket["number"], "due": self.calendar.date_text(due), "comment": comment or "无"}
            ticket, moved = self.desk.keep_from_school(db, ticket, comment)  # a comment raising 师德
            ticket = self.desk.reattend(db, ticket)  # people may have come or gone while it was 办结
            recipients = self.desk.handlers_of(db, ticket)  # always someone bound now (issue 8 item 4)
            return [Reply(self.desk.citizen_says(db, ticket, "RATE_REOPENED", lang)),
                    *moved,
                    *[self.desk.to_staff(o, texts.REOPENED_NOTICE.format(**fields) + self.desk.writes_english(db, ticket),
                                         ticket, "群众不满意")
                      for o in recipients]]
        # Second 不满意: the bureau reviews it rather than another round at the same unit.
        unit = directory.get(db, ticket["unit_code"])
        # The review is the duty office's work, with its own time limit; the dispatch and 签收 stay with the unit
        # that did them (m030), as the rejected answers' lateness does (unit_misses).
        ticket = tickets.transition(db, ticket, "reopened", ticket["openid"], now, "review", note, rating=score,
                                    rating_comment=comment or None, rated_at=now, review=1,
                                    rated_unit=answered, unit_code=self.desk.home(db, ticket), resolved_at=None,
                                    response_unit=tickets.credit(ticket)[0], resolve_unit=None,
                                    unattended=0,  # the duty office's own review, no longer 代收 for anyone
                                    due_at=self.calendar.due(now, self.redo_days))
        notice = texts.REVIEW_NOTICE.format(number=ticket["number"], unit=unit["name"] if unit else "",
                                            comment=comment or "无")
        # with no leader bound, its new holder's people (a complaint about the bureau: never the duty office)
        recipients = staff.leaders(db) or staff.of_unit(db, ticket["unit_code"]) or \
            self.desk.recipients(db, ticket["unit_code"], ticket)[0]
        return [Reply(texts.pick("RATE_REVIEW", lang).format(number=ticket["number"])),
                *[self.desk.to_staff(o, notice, ticket, "需复核") for o in recipients]]


def not_ratable(ticket: dict, lang: str | None) -> Reply:
    """Why the person's own ticket cannot be rated now: not concluded yet, rated already, or ended without one."""
    state = texts.names_in("STATE_NAMES", lang)[ticket["state"]]
    if ticket["state"] in ("closed", "withdrawn"):
        key = "RATE_DONE" if ticket.get("rating") is not None else "RATE_ENDED"
        return Reply(texts.pick(key, lang).format(number=ticket["number"], state=state.removeprefix("已")))
    return Reply(texts.pick("RATE_NOT_YET", lang).format(number=ticket["number"], state=state))
