"""The citizen's own ticket page, behind the signed link `查询 编号` gives (7 days, that citizen only: the signature
covers the ticket's own openid, so a link made for one person opens nothing for another ticket or person)."""
from __future__ import annotations

import hmac
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from bot.web import auth, whole_number
from bot.web.attachments import send_file
from bot.web.auth import read
from bot.web.workbench import _fmt, _tz, page_error
from handlers import privacy, texts
from handlers.desk import kind_name, urgent
from storage import directory, lifecycle, media, tickets, users

SHOWN_NOTES = ("reply", "citizen_reply", "supplement", "resolve", "rate")
# the states whose next step names a deadline or a unit at work: with nobody on duty, CITIZEN_NEXT_WAITING instead
WAITS_IN = ("submitted", "assigned", "accepted", "bounced", "reopened")


async def _allowed(request: web.Request):
    """(ticket, events, unit) for a valid, unexpired citizen link, else the error page to answer."""
    from bot.app import CONFIG, DISPATCHER
    config, t, desk = request.app[CONFIG], auth.now(request), request.app[DISPATCHER].desk
    number, q = request.match_info["number"].upper(), request.query
    expires = whole_number(q.get("exp", ""))

    def load(db):
        ticket = tickets.get(db, number)
        if ticket is None:
            return None
        # its deadline as every view of the citizen's tells it (Desk.citizen_due: none promised with nobody on duty)
        return ticket, tickets.events(db, ticket["id"]), directory.get(db, ticket["unit_code"]), \
            users.lang(db, ticket["openid"]), desk.citizen_due(db, ticket)

    found = await read(request, load)
    try:
        good = (found is not None and expires is not None and hmac.compare_digest(
            auth.citizen_sig(config, number, found[0]["openid"], expires), q.get("sig", "")))
    except ValueError:  # no key to sign with: no link is good
        good = False
    if not good:
        return page_error(request, *texts.CITIZEN_LINK_BAD, 403)
    if expires < t:  # the link was theirs: said in the language they write in
        title, detail = texts.CITIZEN_LINK_OLD["en" if found[3] == "en" else None]
        return page_error(request, title, detail.format(number=number), 403)
    return found


async def citizen_ticket(request: web.Request) -> web.Response:
    t, tz = auth.now(request), _tz(request)
    found = await _allowed(request)
    if isinstance(found, web.Response):
        return found
    ticket, events, unit, lang, (due_at, waits) = found
    en = lang == "en"  # the page in the language they write to us in (users.lang), as every push
    words = texts.CITIZEN_PAGE_EN if en else texts.CITIZEN_PAGE
    event_names = texts.CITIZEN_EVENT_NAMES_EN if en else texts.CITIZEN_EVENT_NAMES
    steps = []
    shown = privacy.citizen_state(ticket)  # withdrawn, once they withdrew it
    for e in privacy.citizen_events(events):
        name = event_names.get(e["action"])
        if name is None:
            continue  # internal handling (notes, reminders, bounce reasons) is not shown
        steps.append({"when": _fmt(e["at"], tz, "%Y-%m-%d %H:%M"), "name": name,
                      "note": e["note"] if e["action"] in SHOWN_NOTES and e["action"] != "rate" else "",
                      "reply": e["action"] in ("reply", "resolve")})
    due = words["due_waiting"] if waits else _fmt(due_at, tz, words["date"]) if due_at else "—"
    copies = await read(request, media.of, [a.get("media_id") for a in ticket["attachments"]])
    query = "?" + urlencode({"exp": request.query["exp"], "sig": request.query["sig"]})
    files = []
    for i, a in enumerate(ticket["attachments"], 1):
        state = media.state(a, copies.get(a.get("media_id") or ""), t)
        files.append({"name": (texts.MEDIA_NAMES_EN if en else texts.MEDIA_NAMES).get(a.get("kind"),
                                                                                      words["attachment"]),
                      "index": i, "state": state, "kind": a.get("kind"),
                      "note": (texts.ATTACH_STATE_EN if en else texts.ATTACH_STATE).get(state, ""),
                      "src": f"/t/{ticket['number']}/a/{i}{query}" if state == "stored" or (
                          state == "fetching" and a.get("kind") == "image") else ""})
    return aiohttp_jinja2.render_template("citizen_ticket.html", request, {
        "t": {**ticket, "resolution": None} if shown != ticket["state"] else ticket,
        "kind": kind_name(ticket, lang if en else None),
        "state": (texts.STATE_NAMES_EN if en else texts.STATE_NAMES)[shown],
        "urgent": urgent(ticket),  # as the summary said (URGENT_SUMMARY): told the supervisors at once
        "unit": unit["name"] if unit else words["undecided"], "due": due, "open": shown in lifecycle.OPEN,
        "next": (texts.CITIZEN_NEXT_WAITING_EN if en else texts.CITIZEN_NEXT_WAITING) if waits and shown in WAITS_IN else
        (texts.CITIZEN_NEXT_EN if en else texts.CITIZEN_NEXT)[shown].format(due=due, number=ticket["number"]),
        "steps": steps, "files": files, "created": _fmt(ticket["created_at"], tz),
        "w": {k: v.format(number=ticket["number"]) for k, v in words.items() if k != "date"},
        "lang": "en" if en else "zh-CN"})


async def citizen_file(request: web.Request) -> web.StreamResponse:
    """One of the citizen's own attachments, behind the same signed link as the page."""
    found = await _allowed(request)
    if isinstance(found, web.Response):
        return found
    return await send_file(request, found[0], request.match_info["index"])


def setup(app: web.Application) -> None:
    app.router.add_get("/t/{number}", citizen_ticket)
    app.router.add_get("/t/{number}/a/{index}", citizen_file)
