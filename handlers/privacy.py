"""Which tickets a school may never hold: one rule for routing (Dispatcher.plan), 转派 (Desk.transfer), the offer
to add a message to an open ticket (the intake's similar step) and the intake's praise, so no path hands a school
the accusation against its own staff, whatever kind the person chose.

A message involves a teacher's or head's conduct (师德) when any of its matters is a NEVER_TO_SCHOOL category, or
when such a category scores at least CONDUCT_MIN_SCORE in the routing decision even though another matter leads:
"作业太多，写不完班主任就打孩子手心" is a burden matter first, but the school must not read it.

Praise is the one kind that goes to the school it is about, and praise of a teacher is routed as a teacher matter
(师德) like an accusation: so praise is barred only when it also accuses (`accuses`: the conduct words left once
the praised virtues -- 从不打骂孩子, 从来没收过红包 -- are taken out), and the intake then asks the person
(Intake's "conduct" step) and marks the routing ACCUSES."""
from __future__ import annotations

import hashlib
import re
from typing import Any, Callable

from handlers import numbers, texts
from handlers.vocabulary import NEVER_TO_SCHOOL

# A phone number as it is written in a message: a mobile, or a landline with its area code.
# (?<!\d) written after each branch's first digit, where it reads the same character: a pattern that begins
# with a look-behind is tried at every character, one that begins with 1 or 0 only where they are (~3x cheaper)
PHONE_IN_TEXT = re.compile(r"(1(?<!\d1)[3-9]\d{9}|0(?<!\d0)\d{2,3}-?\d{7,8})(?!\d)")
# The same as a person may write it in words staff read: in spoken digits (一三八一二三四五六七八, 幺三八…), mixed
# (138一二三四5678), full-width, with spaces or dashes between (138 1234 5678, 〇五七一-八八七七六六五五). Exactly
# 11 (a mobile) or 10-12 digits from a 0 (a landline), no digit either side: 三年级二班, 二〇二六年, 一百五十元 are
# no phone. Separators and digits are apart, so each repeat reads one way (linear).
_D, _SEP = f"[{numbers.DIGIT_CHARS}]", r"[\s\-－—–.·]{0,2}"
_PHONE = (rf"[1１一幺]{_SEP}[3-9３-９三四五六七八九](?:{_SEP}{_D}){{9}}"
          rf"|[0０零〇](?:{_SEP}{_D}){{9,11}}")
PHONE_WRITTEN = re.compile(rf"(?<!{_D})(?:{_PHONE})(?!{_D})")


def _digit(values: str) -> str:
    """A regex class for one digit of `values` ("0123"), however it is written (ASCII, full-width, spoken)."""
    spoken = {"0": "零〇", "1": "一幺", "2": "二两", "3": "三", "4": "四", "5": "五", "6": "六", "7": "七",
              "8": "八", "9": "九"}
    return "[" + "".join(v + chr(0xFF10 + int(v)) + spoken[v] for v in values) + "]"


def _run(*digits: str) -> str:
    return _SEP.join(digits)


# A resident ID number (居民身份证号, audit27), written as a phone may be: 18 digits -- 6 of the place (from 1-8),
# the birth date (19xx or 20xx, a real month and day), 3, a check digit or X -- or the old 15 (place, YYMMDD, 3).
# The birth date's shape keeps ticket numbers, dates, sums, class names and other long numbers (an order's, a
# bank card's 16-19 digits) out; no digit (nor an X after 15) either side.
_X = "XxＸｘ"
_ANY, _MONTH = _digit("0123456789"), rf"(?:{_digit('0')}{_SEP}{_digit('123456789')}|{_digit('1')}{_SEP}{_digit('012')})"
_DAY = (rf"(?:{_digit('0')}{_SEP}{_digit('123456789')}|{_digit('12')}{_SEP}{_ANY}"
        rf"|{_digit('3')}{_SEP}{_digit('01')})")
_PLACE = _run(_digit("12345678"), *[_ANY] * 5)
_CENTURY = rf"(?:{_digit('1')}{_SEP}{_digit('9')}|{_digit('2')}{_SEP}{_digit('0')})"
_ID = (_run(_PLACE, _CENTURY, _ANY, _ANY, _MONTH, _DAY, _ANY, _ANY, _ANY, f"[{numbers.DIGIT_CHARS}{_X}]")
       + rf"(?!{_D})|" + _run(_PLACE, _ANY, _ANY, _MONTH, _DAY, _ANY, _ANY, _ANY) + rf"(?![{numbers.DIGIT_CHARS}{_X}])")
# A bank card number (audit28: a refund's card was shown whole to staff): 16-19 digits from a 3, 4, 5 or 6 (the
# card networks' first digits; dates and order numbers begin 1 or 2), written as a phone may be, its last digit
# the Luhn check (_mask keeps a run that fails it as written: another long number, not a card).
_CARD = rf"{_digit('3456')}(?:{_SEP}{_D}){{15,18}}"
# THE rule for a personal number in a citizen's words as staff read them: an ID number first (its first eleven
# digits may read as a mobile), else a phone, else a bank card.
PERSONAL_NUMBER = re.compile(rf"(?<!{_D})(?:(?P<id>{_ID})|(?P<phone>{_PHONE})(?!{_D})|(?P<card>{_CARD})(?!{_D}))")


def mask_phone(phone: str | None) -> str:
    """A citizen's phone as staff see it (the contact_phone of every notice, page and export)."""
    if not phone:
        return texts.NO_PHONE
    return phone[:3] + "****" + phone[-4:] if len(phone) >= 11 else phone[:-4] + "****"


def mask_id(number: str) -> str:
    """An ID number as staff see it: its first 3 characters and those after the birth date (4 of 18, 3 of the old
    15), the rest starred (no place, no birth date), its length kept."""
    tail = 4 if len(number) == 18 else 3
    return number[:3] + "*" * (len(number) - 3 - tail) + number[-tail:]


def numbers_masked(text: str) -> str:
    """A citizen's words as staff see them (every push, 详情, the workbench, exports): each personal number in them
    (PERSONAL_NUMBER) masked -- a phone as contact_phone is (people22: a number in the text was shown whole while
    the one given at the phone question was masked), an ID number by mask_id, a bank card by mask_card -- and no
    direction control (BIDI) left to show staff its words in another order than written."""
    if not text:
        return text
    text = BIDI.sub("", text)
    if "://" not in text:
        return PERSONAL_NUMBER.sub(_mask, text)
    # a link is never a citizen's number: our own signed links pass through here with the replies to staff, and a
    # run of digits in their signature or expiry read as a landline, a mobile or a card broke them (a 详情's
    # attachments link, a digest's, now and then: ~1 in 50)
    out, last = [], 0
    for m in LINK.finditer(text):
        out += [PERSONAL_NUMBER.sub(_mask, text[last:m.start()]), m.group(0)]
        last = m.end()
    return "".join(out) + PERSONAL_NUMBER.sub(_mask, text[last:])


LINK = re.compile(r"https?://[^\s<>＜＞\"'“”‘’（）()，。；！？]+", re.I)


# Unicode's direction controls (embeddings, overrides, isolates, marks): U+202E shows the words after it backwards
# (据收给不 read as 不给收据), so what a unit's people read was not what the citizen wrote (audit28)
BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def as_staff_read(ticket: dict[str, Any]) -> dict[str, Any]:
    """A ticket's citizen's words as a staff page shows them: its text and each attachment's words (a voice
    message's recognition) with their personal numbers masked (numbers_masked)."""
    return {**ticket, "text": numbers_masked(ticket["text"]),
            "attachments": [{**a, "text": numbers_masked(a["text"])} if a.get("text") else a
                            for a in ticket.get("attachments") or []]}


def mask_card(number: str) -> str:
    """A bank card number as staff see it: its first 4 (the bank) and last 4, as a bank's own statement shows it."""
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def luhn_valid(number: str) -> bool:
    """The check digit of a card number (ISO/IEC 7812): every second digit from the right doubled."""
    total = 0
    for i, ch in enumerate(reversed(number)):
        n = int(ch) * (2 if i % 2 else 1)
        total += n - 9 if n > 9 else n
    return total % 10 == 0


def _mask(m: re.Match) -> str:
    digits = numbers.as_digits(_NOT_NUMBER.sub("", m.group(0))).upper().replace("Ｘ", "X")
    if m.group("card"):
        return mask_card(digits) if luhn_valid(digits) else m.group(0)
    return mask_id(digits) if m.group("id") else mask_phone(digits)


_NOT_NUMBER = re.compile(rf"[^{numbers.DIGIT_CHARS}XxＸｘ]")

# The router's threshold for a strong matter of its own (rules' [matters] strong): one plain conduct word
# (体罚, 罚站, 有偿补课, 打孩子) reaches it; a conduct word heard in passing alone does not.
CONDUCT_MIN_SCORE = 6.0
SCHOOL_KINDS = ("school", "kindergarten")
ACCUSES = "accuses"  # routing key: praise that also accuses a teacher's conduct (never to the school)
ABOUT_BUREAU = "about_bureau"  # routing key: a complaint about the bureau itself (never to the office it names)
ACCUSED = "accused"  # routing key: the codes of the bureau's offices such a complaint names (Desk.barred)

# A virtue told by what a teacher never does: 她从不打骂孩子, 从来没有收过红包, 不像有的老师体罚学生. The negation and
# the words after it up to the clause's end, or a word that turns the sentence back (就, 还, 却: 不会写就打手心).
# 没收 (confiscate) and 没想到 are no negation; a bare 不 is too common (不让上厕所还打他) to count.
NEGATED = re.compile(r"(?:从来?(?:都|也)?(?:不|没有?|未)|绝(?:对)?不|决不|不曾|未曾|从未|不像|没有?(?!有?(?:收|人|办法|想|料|什么|事|用)))"
                     r"[^，,。.！!？?；;\n就还却但又]*")


def involves_conduct(category: str | None, routing: dict[str, Any] | None) -> bool:
    routing = routing or {}
    matters = {m.get("category") for m in routing.get("matters") or []} | {category}
    scores = routing.get("scores") or {}
    return bool(matters & NEVER_TO_SCHOOL) or any((scores.get(c) or 0) >= CONDUCT_MIN_SCORE
                                                   for c in NEVER_TO_SCHOOL)


def accuses(text: str, route: Callable[[str], dict[str, Any]]) -> bool:
    """Whether `text` accuses a teacher or head of conduct (师德) once what they are praised for never doing is
    taken out: "表扬王老师，她从不打骂孩子" does not; "表扬一下食堂，但是王老师打了我家孩子耳光" does. Scores, not
    the category: praise of a teacher is routed as a teacher matter with no conduct word at all."""
    rest = NEGATED.sub("", text)
    if not rest.strip():
        return False
    scores = route(rest).get("scores") or {}
    return any((scores.get(c) or 0) >= CONDUCT_MIN_SCORE for c in NEVER_TO_SCHOOL)


def without_virtues(text: str, route: Callable[[str], dict[str, Any]]) -> str:
    """`text` without what a teacher is praised for never doing (她从来不体罚学生): each negated span that is itself
    about conduct is taken out; any other negation (孩子没有回家) stays, whatever it means for urgency."""
    def drop(m: re.Match) -> str:
        scores = route(m.group(0)).get("scores") or {}
        return "" if any((scores.get(c) or 0) >= CONDUCT_MIN_SCORE for c in NEVER_TO_SCHOOL) else m.group(0)
    return NEGATED.sub(drop, text)


def barred(kind: str | None, category: str | None, routing: dict[str, Any] | None, anonymous: bool = False) -> bool:
    """Whether no school may hold a message of this kind: any kind involving conduct, except praise that accuses
    nobody (its category is a teacher matter because it praises one); and any message but praise whose writer
    refused to be known to the school, who was promised "仅教育局可见，也不由学校办理" (texts.ASK_ANONYMITY)."""
    if kind == "praise":
        return bool((routing or {}).get(ACCUSES))
    return involves_conduct(category, routing) or anonymous


def school_barred(ticket: dict[str, Any], unit: dict[str, Any] | None) -> bool:
    """True when `unit` must not hold `ticket`: no school or kindergarten for 师德 (the accused may be named in
    the text, not only in school_code), nor for a message whose writer refused to be known to the school (staff
    may ask the school about it, but the bureau answers)."""
    if unit is None or unit.get("kind") not in SCHOOL_KINDS:
        return False
    if ticket.get("citizen_withdrew_at"):  # withdrawn, its check goes on at the bureau: the school never holds it
        return True
    return barred(ticket.get("kind"), ticket.get("category"), ticket.get("routing"), bool(ticket.get("anonymous")))


def about_bureau(ticket: dict[str, Any]) -> bool:
    """A complaint about the bureau itself (its offices, its staff, the duty office too): held only by the
    oversight office or the leaders (Desk.barred), never by an office it may accuse."""
    return ticket.get("kind") == "complaint" and bool((ticket.get("routing") or {}).get(ABOUT_BUREAU))


def accused(ticket: dict[str, Any]) -> tuple[str, ...]:
    """The bureau's offices a complaint about the bureau names: never its holder (the oversight office named
    goes to the leaders)."""
    return tuple((ticket.get("routing") or {}).get(ACCUSED) or ()) if about_bureau(ticket) else ()


# -- what a citizen who withdrew sees: their withdrawal, not the bureau's check that goes on (desk.withdraw_kept) ---
def citizen_state(ticket: dict[str, Any]) -> str:
    """The state as its writer sees it: withdrawn once they withdrew it, though the bureau's check goes on."""
    return "withdrawn" if ticket.get("citizen_withdrew_at") else ticket["state"]


def citizen_events(events: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The events its writer may read: up to their withdrawal (shown as one), then only their own replies."""
    out, after = [], False
    for e in events:
        if after and e["action"] != "citizen_reply":
            continue
        out.append({**e, "action": "withdraw"} if e["action"] == "withdraw_kept" else e)
        after = after or e["action"] == "withdraw_kept"
    return out


_TAG_LETTERS = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud or copied by hand


def citizen_label(openid: str) -> str:
    """Who wrote, as staff see it where identity may be shown (the workbench's ticket page, 详情 in WeChat): 微信用户
    and a short tag, the same for the same person on every ticket, that says nothing of the openid itself."""
    digest = hashlib.sha256(openid.encode()).digest()
    return "微信用户 " + "".join(_TAG_LETTERS[b % 32] for b in digest[:4])
