"""常用回复 on the workbench: a page where a unit's staff keep their reply templates (the same checks as
handlers/reply_templates.py, every change audited). The ticket page offers them in its reply and 办结 forms
(bot/web/workbench.py ticket_page)."""
from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from bot.web import auth
from bot.web.auth import Viewer, read, staff_page, write
from bot.web.workbench import _context, _ip, _int, form_page, NotFound
from handlers import reply_templates, texts
from storage import directory, replies, users, websessions


@staff_page
async def replies_page(request: web.Request, v: Viewer) -> web.Response:
    t, ip = auth.now(request), _ip(request)

    def choices(db):
        managed = reply_templates.units_managed(db, v.user)
        units = directory.all_units(db)
        return [u for u in units if managed is None or u["code"] in managed]

    units = await read(request, choices)
    codes = [u["code"] for u in units]
    if not codes:
        raise NotFound("page")
    wanted = str(request.query.get("unit", "")) or (v.user.get("unit_code") if v.user.get("unit_code") in codes
                                                    else codes[0])
    if wanted not in codes:
        raise NotFound("unit")
    here = f"/w/replies?{urlencode({'unit': wanted})}"
    if request.method == "POST":
        form = await request.post()
        what = str(form.get("do", ""))
        template_id = _int(str(form.get("id", "")), 1, 2 ** 62)
        title, text = str(form.get("title", ""))[:100], str(form.get("text", ""))[:2000]
        text_en = str(form.get("text_en", ""))[:6000]

        def change(db):
            user = users.get(db, v.openid) or {}
            if what == "delete" and template_id is not None:
                done, answer = reply_templates.delete(db, user, wanted, template_id)
            elif what == "save":
                done, answer = reply_templates.save(db, user, wanted, template_id, title, text, t, text_en)
            else:
                done, answer = False, "未知的操作。"
            if done:
                websessions.audit(db, t, v.openid, f"template:{what}", None,
                                  f"{wanted} #{template_id or 'new'} {title[:40]}", ip)
            websessions.set_flash(db, v.sid, answer)
            return done, answer

        done, answer = await write(request, change)
        if not done and what == "save":  # keep what was typed: the page again, with the answer above the form
            return await _page(request, v, units, wanted,
                               {"id": template_id, "title": title, "text": text, "text_en": text_en}, answer)
        raise web.HTTPFound(here)
    return await _page(request, v, units, wanted)


async def _page(request: web.Request, v: Viewer, units: list[dict], wanted: str, draft: dict | None = None,
                error: str | None = None) -> web.Response:
    rows = await read(request, replies.of_unit, wanted)
    name = next(u["name"] for u in units if u["code"] == wanted)
    ctx = await _context(request, v, rows=rows, units=units if len(units) > 1 else [], unit=wanted, unit_label=name,
                         draft=draft or {}, error=error, limit=replies.MAX_PER_UNIT,
                         title_max=reply_templates.TITLE_MAX, text_max=reply_templates.TEXT_MAX,
                         placeholders=texts.TEMPLATE_PLACEHOLDERS_HELP, placeholders_en=texts.TEMPLATE_PLACEHOLDERS_EN_HELP)
    if error:
        ctx["flash"] = None  # shown beside the form instead
    return form_page("w_replies.html", request, ctx, error, status=422)


def setup(app: web.Application) -> None:
    app.router.add_get("/w/replies", replies_page)
    app.router.add_post("/w/replies", replies_page)
