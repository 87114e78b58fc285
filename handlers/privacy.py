"""Which tickets a school may never hold: one rule for routing (Dispatcher.plan), 转派 (Desk.transfer) and the
offer to add a message to an open ticket (the intake's similar step), so no path hands a school the accusation
against its own staff.

A message involves a teacher's or head's conduct (师德) when any of its matters is a NEVER_TO_SCHOOL category, or
when such a category scores at least CONDUCT_MIN_SCORE in the routing decision even though another matter leads:
"作业太多，写不完班主任就打孩子手心" is a burden matter first, but the school must not read it."""
from __future__ import annotations

from typing import Any

from handlers.vocabulary import NEVER_TO_SCHOOL

# The router's threshold for a strong matter of its own (rules' [matters] strong): one plain conduct word
# (体罚, 罚站, 有偿补课, 打孩子) reaches it; a conduct word heard in passing alone does not.
CONDUCT_MIN_SCORE = 6.0
SCHOOL_KINDS = ("school", "kindergarten")


def involves_conduct(category: str | None, routing: dict[str, Any] | None) -> bool:
    routing = routing or {}
    matters = {m.get("category") for m in routing.get("matters") or []} | {category}
    scores = routing.get("scores") or {}
    return bool(matters & NEVER_TO_SCHOOL) or any((scores.get(c) or 0) >= CONDUCT_MIN_SCORE
                                                   for c in NEVER_TO_SCHOOL)


def school_barred(ticket: dict[str, Any], unit: dict[str, Any] | None) -> bool:
    """True when `unit` must not hold `ticket`: no school or kindergarten for 师德 (the accused may be named in
    the text, not only in school_code). Praise goes to the school it is about. A ticket whose writer refused to
    be known may still be sent to the school by staff: the school then never sees who wrote (Desk.identity_hidden)."""
    if unit is None or unit.get("kind") not in SCHOOL_KINDS or ticket.get("kind") == "praise":
        return False
    return involves_conduct(ticket.get("category"), ticket.get("routing"))
