"""The citizen's own ticket page, behind the signed link `查询 编号` gives (7 days, that citizen only: the signature
covers the ticket's own openid, so a link made for one person opens nothing for another ticket or person)."""
from __future__ import annotations

import hmac

import aiohttp_jinja2
from aiohttp import web

from bot.web import auth
from bot.web.auth import read
from bot.web.workbench import _fmt, _tz, page_error
from handlers import texts
from storage import directory, lifecycle, tickets

SHOWN_NOTES = ("reply", "citizen_reply", "supplement", "resolve", "rate")


async def citizen_ticket(request: web.Request) -> web.Response:
    from bot.app import CONFIG
    config, t, tz = request.app[CONFIG], auth.now(request), _tz(request)
    number, q = request.match_info["number"].upper(), request.query
    expires = q.get("exp", "")

    def load(db):
        ticket = tickets.get(db, number)
        if ticket is None:
            return None
        return ticket, tickets.events(db, ticket["id"]), directory.get(db, ticket["unit_code"])

    found = await read(request, load)
    try:
        good = (found is not None and expires.isdigit() and hmac.compare_digest(
            auth.citizen_sig(config, number, found[0]["openid"], int(expires)), q.get("sig", "")))
    except ValueError:
        good = False
    if not good:
        return page_error(request, "链接无效", "这个链接不完整或已被改动。请在公众号中发送「查询 编号」获取新链接。", 403)
    if int(expires) < t:
        return page_error(request, "链接已过期", "查看链接7天内有效。请在公众号中发送「查询 编号」获取新链接。", 403)
    ticket, events, unit = found
    steps = []
    for e in events:
        name = texts.CITIZEN_EVENT_NAMES.get(e["action"])
        if name is None:
            continue  # internal handling (notes, reminders, bounce reasons) is not shown
        steps.append({"when": _fmt(e["at"], tz, "%Y-%m-%d %H:%M"), "name": name,
                      "note": e["note"] if e["action"] in SHOWN_NOTES and e["action"] != "rate" else "",
                      "reply": e["action"] in ("reply", "resolve")})
    due = _fmt(ticket["due_at"], tz, "%Y年%m月%d日") if ticket["due_at"] else "—"
    return aiohttp_jinja2.render_template("citizen_ticket.html", request, {
        "t": ticket, "kind": texts.KIND_NAMES[ticket["kind"]], "state": texts.STATE_NAMES[ticket["state"]],
        "unit": unit["name"] if unit else "待分派", "due": due, "open": ticket["state"] in lifecycle.OPEN,
        "next": texts.CITIZEN_NEXT[ticket["state"]].format(due=due, number=ticket["number"]), "steps": steps,
        "media_names": texts.MEDIA_NAMES, "created": _fmt(ticket["created_at"], tz)})


def setup(app: web.Application) -> None:
    app.router.add_get("/t/{number}", citizen_ticket)
