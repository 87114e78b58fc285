"""回访: after a ticket is resolved, the citizen rates the result.

1 满意 / 2 基本满意 close it. 3 不满意 reopens it once for redo, with the citizen's comment; a second 不满意 sends
it to the bureau for review. No answer within three days closes it as 未评价 (see deadlines.Watch.sweep)."""
from __future__ import annotations

import re
import unicodedata

from handlers import texts
from handlers.clock import Clock
from handlers.desk import Desk
from handlers.messages import Reply
from handlers.workdays import WorkCalendar
from storage import directory, staff, tickets

RATE = re.compile(r"^(?:评价\s*(JY\d{4}-\d{4,})\s*)?([123])\s*[、,，.。:：\s]*(.*)$", re.S | re.I)
WORDS = {"满意": 1, "基本满意": 2, "不满意": 3, "非常满意": 1, "还行": 2}


class FollowUp:
    def __init__(self, clock: Clock, calendar: WorkCalendar, desk: Desk, redo_days: int = 3):
        self.clock = clock
        self.calendar = calendar
        self.desk = desk
        self.redo_days = redo_days

    def rate(self, db, openid: str, text: str) -> list[Reply] | None:
        """Replies if `text` rates one of the person's resolved tickets; None if it is not a rating."""
        waiting = tickets.awaiting_rating(db, openid)
        if not waiting:
            return None
        norm = unicodedata.normalize("NFKC", text).strip()
        score, comment, number = None, "", None
        m = RATE.match(norm)
        if m:
            number, score = m.group(1), int(m.group(2))
            # The comment in the person's own characters (NFKC would turn their ，into a comma).
            comment = re.sub(r"^.*?[123１２３][\s、,，.。:：]*", "", text.strip(), count=1, flags=re.S).strip()
        else:
            for word, value in sorted(WORDS.items(), key=lambda kv: -len(kv[0])):
                if norm.startswith(word):
                    score, comment = value, norm[len(word):].strip(" ，,。")
                    break
        if score is None:
            return None
        if number:
            ticket = next((t for t in waiting if t["number"] == number.upper()), None)
            if ticket is None:
                return [Reply(texts.TICKET_NOT_FOUND.format(number=number.upper()))]
        elif len(waiting) == 1:
            ticket = waiting[0]
        else:
            return [Reply(texts.RATE_WHICH.format(number=waiting[0]["number"]))]
        return self._apply(db, ticket, score, comment)

    def _apply(self, db, ticket: dict, score: int, comment: str) -> list[Reply]:
        now = self.clock.now()
        note = texts.RATING_NAMES[score] + (f"：{comment}" if comment else "")
        if score in (1, 2):
            tickets.transition(db, ticket, "closed", ticket["openid"], now, "rate", note, rating=score,
                               rating_comment=comment or None, rated_at=now, closed_at=now, close_reason="rated")
            return [Reply(texts.RATE_THANKS.format(number=ticket["number"]))]
        if ticket["reopens"] == 0:  # first 不满意: the same unit does it again, with a fresh time limit
            due = self.calendar.due(now, self.redo_days)
            ticket = tickets.transition(db, ticket, "reopened", ticket["openid"], now, "reopen", note, rating=score,
                                        rating_comment=comment or None, rated_at=now, reopens=1, due_at=due,
                                        resolved_at=None)
            fields = {"number": ticket["number"], "due": self.calendar.date_text(due), "comment": comment or "无"}
            recipients = self.desk.handlers_of(db, ticket)  # always someone bound now (issue 8 item 4)
            return [Reply(texts.RATE_REOPENED.format(**fields)),
                    *[self.desk.to_staff(o, texts.REOPENED_NOTICE.format(**fields), ticket, "群众不满意")
                      for o in recipients]]
        # Second 不满意: the bureau reviews it rather than another round at the same unit.
        unit = directory.get(db, ticket["unit_code"])
        ticket = tickets.transition(db, ticket, "reopened", ticket["openid"], now, "review", note, rating=score,
                                    rating_comment=comment or None, rated_at=now, review=1,
                                    unit_code=self.desk.duty_office, resolved_at=None)
        notice = texts.REVIEW_NOTICE.format(number=ticket["number"], unit=unit["name"] if unit else "",
                                            comment=comment or "无")
        recipients = staff.leaders(db) or staff.of_unit(db, self.desk.duty_office)
        return [Reply(texts.RATE_REVIEW.format(number=ticket["number"])),
                *[self.desk.to_staff(o, notice, ticket, "需复核") for o in recipients]]
