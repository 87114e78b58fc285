"""常用回复: a unit's reply templates, kept by its own staff and used on the workbench's ticket page or by
`回复 编号 #序号` in WeChat. Who may manage a unit's templates follows the ticket scope: a handler their unit's, a
supervisor also the units under theirs, leaders any unit's. Placeholders are filled from the ticket when used.

Each may have an English text too. A citizen who writes in English is answered with it; where a template has
none, nothing in Chinese is sent to them by it: the staff member is asked to write the answer (or add the
English), since a Chinese answer the citizen cannot read would close the matter in name only."""
from __future__ import annotations

from typing import Any

from handlers import texts
from handlers.vocabulary import STAFF_ROLES, WIDE_ROLES
from storage import directory, replies

TITLE_MAX = 20
TEXT_MAX = 500
PLACEHOLDERS = ("{编号}", "{截止}", "{单位}", "{学校}")
PLACEHOLDERS_EN = ("{number}", "{due}", "{unit}", "{school}")  # the same four, as English texts may write them


def units_managed(db, user: dict) -> list[str] | None:
    """The units whose templates this person may manage (None: every unit)."""
    if user.get("role") not in STAFF_ROLES:
        return []
    if user.get("role") in WIDE_ROLES:
        return None
    units = [user["unit_code"]]
    if user.get("role") == "supervisor":
        units += [u["code"] for u in directory.children(db, user["unit_code"])]
    return units


def may_manage(db, user: dict, unit_code: str) -> bool:
    managed = units_managed(db, user)
    return directory.get(db, unit_code) is not None and (managed is None or unit_code in managed)


def save(db, user: dict, unit_code: str, template_id: int | None, title: str, text: str, now: float,
         text_en: str = "") -> tuple[bool, str]:
    """Add (template_id None) or change a template; (done, the answer to show). `text_en`: its English text
    (optional)."""
    title, text, text_en = " ".join(title.split()), text.strip(), text_en.strip()
    if not may_manage(db, user, unit_code):
        return False, texts.TEMPLATE_REFUSED
    if not title or len(title) > TITLE_MAX:
        return False, texts.TEMPLATE_TITLE_NEEDED.format(limit=TITLE_MAX)
    if not text or len(text) > TEXT_MAX:
        return False, texts.TEMPLATE_TEXT_NEEDED.format(limit=TEXT_MAX)
    if len(text_en) > TEXT_MAX * 3:  # English takes about three times the characters
        return False, texts.TEMPLATE_TEXT_EN_LONG.format(limit=TEXT_MAX * 3)
    if template_id is None:
        if replies.count(db, unit_code) >= replies.MAX_PER_UNIT:
            return False, texts.TEMPLATE_TOO_MANY.format(limit=replies.MAX_PER_UNIT)
        replies.add(db, unit_code, title, text, user["openid"], now, text_en)
        return True, texts.TEMPLATE_ADDED.format(title=title)
    row = replies.get(db, template_id)
    if row is None or row["unit_code"] != unit_code:
        return False, texts.TEMPLATE_GONE
    replies.update(db, template_id, title, text, user["openid"], now, text_en)
    return True, texts.TEMPLATE_SAVED.format(title=title)


def delete(db, user: dict, unit_code: str, template_id: int) -> tuple[bool, str]:
    row = replies.get(db, template_id)
    if not may_manage(db, user, unit_code):
        return False, texts.TEMPLATE_REFUSED
    if row is None or row["unit_code"] != unit_code:
        return False, texts.TEMPLATE_GONE
    replies.delete(db, template_id)
    return True, texts.TEMPLATE_DELETED.format(title=row["title"])


def fill(db, template_text: str, ticket: dict, date_text, lang: str | None = None) -> str:
    """The template's text with its placeholders taken from the ticket (`date_text`: the calendar's, called with
    `lang` for an English text)."""
    unit = directory.get(db, ticket["unit_code"]) or {}
    school = directory.get(db, ticket["school_code"]) or {}
    due = (date_text(ticket["due_at"], lang) if lang else date_text(ticket["due_at"])) if ticket.get("due_at") else ""
    for cn, en, value in zip(PLACEHOLDERS, PLACEHOLDERS_EN, (ticket["number"], due, unit.get("name", ""),
                                                              school.get("name", ""))):
        template_text = template_text.replace(cn, value).replace(en, value)
    return template_text


def for_ticket(db, ticket: dict, date_text, lang: str | None = None) -> list[dict[str, Any]]:
    """The templates of the unit holding the ticket, numbered, each with its text filled for this ticket in the
    language of its citizen (`lang`): for "en", `text` is None where the template has no English."""
    out = []
    for i, r in enumerate(replies.of_unit(db, ticket["unit_code"]), 1):
        if lang == "en":
            text = fill(db, r["text_en"], ticket, date_text, "en") if r.get("text_en") else None
        else:
            text = fill(db, r["text"], ticket, date_text)
        out.append({"n": i, "id": r["id"], "title": r["title"], "text": text, "has_en": bool(r.get("text_en"))})
    return out


def listing(db, unit_code: str | None) -> str:
    """The WeChat answer to 常用回复: the unit's templates, numbered."""
    unit = (directory.get(db, unit_code) or {}).get("name", "本单位")
    rows = replies.of_unit(db, unit_code)
    if not rows:
        return texts.TEMPLATE_LIST_NONE.format(unit=unit)
    lines = [texts.TEMPLATE_LIST_HEAD.format(unit=unit)]
    lines += [f"#{i} {r['title']}{texts.TEMPLATE_HAS_EN if r.get('text_en') else ''}：{texts.excerpt(r['text'], 40)}"
              for i, r in enumerate(rows, 1)]
    return "\n".join(lines)
