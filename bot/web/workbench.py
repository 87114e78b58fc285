"""The staff workbench: sign-in by one-time link, the inbox, the ticket page with every action the person may take
now, notifications, the dashboard, exports and the audit log. Every action calls the same Desk function as the
WeChat command, inside one writer transaction with the pushes it causes and its audit row; every page read goes
through auth.read (a read-only connection when storage has them). Another unit's ticket is 404, never 403."""
from __future__ import annotations

import datetime as dt
import hmac
import re
import secrets
import unicodedata
from dataclasses import dataclass
from typing import Any, NoReturn
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from bot.web import auth
from bot.web.auth import Viewer, read, staff_page, write
from handlers import dashboard, privacy, reply_templates, texts
from handlers.commands import ACCEPT_ALL_MAX
from handlers.desk import VERBS, kind_name, urgent as desk_urgent
from handlers.intake import mask_phone
from handlers.public import KIND_NAMES as UNIT_KIND_NAMES
from handlers.messages import plain_text
from handlers.vocabulary import CATEGORIES, KINDS, STAFF_ROLES, SUPERVISORS, WIDE_ROLES
from storage import directory, inbox, lifecycle, media, outbox, tickets, users, websessions

PAGE_SIZE = 20
MAX_TEXT = 2000
SIGNIN_ERRORS = {
    "unknown": ("链接无效", "这个登录链接不存在或不完整。请在公众号中重新发送「登录」。"),
    "used": ("链接已使用", "每个登录链接只能使用一次。请在公众号中重新发送「登录」获取新链接。"),
    "expired": ("链接已过期", "登录链接5分钟内有效。请在公众号中重新发送「登录」获取新链接。"),
    "removed": ("无法登录", "您的账号已不是工作人员账号。如有疑问请联系管理员。"),
}
# Actions a form can ask for: (desk action checked for the button, needs text, the text field's label).
FORM_ACTIONS: dict[str, tuple[str, bool, str]] = {
    "accept": ("accept", False, ""),
    "reply": ("reply", True, "答复内容（群众可见）"),
    "resolve": ("resolve", True, "办理结果（群众可见）"),
    "bounce": ("bounce", True, "退回理由"),
    "transfer": ("transfer", False, "转派理由"),
    "extension_request": ("extension_request", True, "延期理由"),
    "approve": ("extension_decide", False, "意见"),
    "reject": ("extension_decide", False, "不同意的理由"),
    "supervise": ("supervise", False, "督办要求"),
    "urge": ("urge", False, "催办要求"),
    "note": ("note", True, "内部备注（群众看不到）"),
}


def _desk(request: web.Request):
    from bot.app import DISPATCHER
    return request.app[DISPATCHER].desk


def _tz(request: web.Request):
    from bot.app import DISPATCHER
    return request.app[DISPATCHER].calendar.tz


def _ip(request: web.Request) -> str:
    return request.remote or ""


def _fmt(ts: float | None, tz, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return dt.datetime.fromtimestamp(ts, tz).strftime(fmt) if ts else "—"


async def _context(request: web.Request, v: Viewer, **extra: Any) -> dict[str, Any]:
    unread = await read(request, outbox.web_unread, v.openid)
    units = await read(request, lambda db: directory.get(db, v.user.get("unit_code")))
    wide = v.user["role"] in WIDE_ROLES
    calendar = None
    if wide:  # one line on every page; open for the admins, who must act (upgrade or configure the holidays)
        days, t = _desk(request).calendar, auth.now(request)
        full = days.warning(t)
        calendar = full and {"short": days.warning_short(t), "full": full, "open": v.user["role"] == "admin"}
    return {"v": v, "user": v.user, "unit_name": units["name"] if units else "", "unread": unread,
            "calendar_warning": calendar,
            "csrf": v.csrf, "flash": v.flash, "role_name": texts.ROLE_NAMES.get(v.user["role"], ""),
            "is_leader": v.user["role"] in WIDE_ROLES, "path": request.path, **extra}


def _render(template: str, request: web.Request, context: dict) -> web.Response:
    return aiohttp_jinja2.render_template(template, request, context)


def form_page(template: str, request: web.Request, context: dict, error: Any = None,
              status: int = 400) -> web.Response:
    """A page with forms. With `error` it is the form shown again, with what was typed and why it was refused
    (nothing was stored), under an error status."""
    response = _render(template, request, context)
    if error:
        response.set_status(status)
    return response


async def saved(request: web.Request, v: Viewer, text: str, to: str) -> NoReturn:
    """After a form's change was stored: the answer shown once on the next page, and there (post/redirect/get)."""
    await write(request, websessions.set_flash, v.sid, text)
    raise web.HTTPFound(to)


def page_error(request: web.Request, title: str, detail: str, status: int = 403,
               back: tuple[str, str] | None = None) -> web.Response:
    response = aiohttp_jinja2.render_template("w_message.html", request,
                                              {"title": title, "detail": detail, "back": back})
    response.set_status(status)
    return response


# What a workbench page says when the thing its URL names is not there for this person: one line a kind of thing.
# All are 404, pages a role may not open too: for this person they do not exist (the tests pin it, and another
# unit's ticket must read as one that was never filed). Every one is drawn in the layout with the way back.
NOT_FOUND: dict[str, tuple[str, str]] = {
    "ticket": ("没有找到这件留言", "没有这件留言，或它不在您的办理范围内。"),
    "unit": ("没有找到这个单位", "没有这个单位，或它不在您的职责范围内。"),
    "survey": ("没有找到这份问卷", "没有这份问卷，请从问卷列表中打开。"),
    "faq": ("没有找到这条问答", "没有这条问答，请从问答列表中打开。"),
    "period": ("没有这个考核期", "请检查链接中的考核期（如 2026-11、2026-Q4 或 2026）。"),
    "page": ("无法查看此页面", "您的账号无权查看此页面。"),
}


class NotFound(web.HTTPNotFound):
    """Raised inside a staff page; auth.staff_page answers it with refusal_page (404 in the layout)."""

    def __init__(self, what: str):
        self.what = what
        super().__init__(text=NOT_FOUND[what][1], content_type="text/plain")


async def refusal_page(request: web.Request, v: Viewer, what: str) -> web.Response:
    return await message_page(request, v, *NOT_FOUND[what], ("/w/", "返回工作台首页"), 404)


async def message_page(request: web.Request, v: Viewer, title: str, detail: str, back: tuple[str, str],
                       status: int) -> web.Response:
    """A message in the workbench's layout (its menu, the way back), for a signed-in person."""
    response = _render("w_message.html", request, await _context(request, v, title=title, detail=detail,
                                                                 back=back))
    response.set_status(status)
    return response


# -- sign-in ---------------------------------------------------------------------------------------------------------
async def login_page(request: web.Request) -> web.Response:
    from bot.web import oauth
    next_ = oauth.safe_next(request.query.get("next"))
    if await auth.viewer(request):
        raise web.HTTPFound(next_)
    if oauth.enabled(request) and oauth.in_wechat(request):  # inside WeChat: WeChat says who this is
        raise web.HTTPFound("/w/oauth?" + urlencode({"next": next_}))
    response = page_error(request, "请从公众号登录", "请在公众号中发送「登录」，打开收到的链接即可进入工作台。"
                          "链接5分钟内有效，只能使用一次。", 200)
    return response


SIGNIN_NONCE = "tj_signin"


async def signin_get(request: web.Request) -> web.Response:
    """A button, not a sign-in: link previews and scanners that fetch the URL must not use up the link. The page
    also sets a nonce cookie (SameSite=Lax) that the button's form echoes: a form posted from another site
    carries no such cookie, so nobody can sign a victim's browser into the poster's own account (login CSRF)."""
    nonce = secrets.token_urlsafe(16)
    response = _render("w_signin.html", request, {"token": request.match_info["token"], "nonce": nonce})
    response.set_cookie(SIGNIN_NONCE, nonce, httponly=True, samesite="Lax", secure=auth.secure(request),
                        path="/w/signin/", max_age=websessions.SIGNIN_SECONDS)
    return response


async def signin_post(request: web.Request) -> web.Response:
    token, t, old = request.match_info["token"], auth.now(request), request.cookies.get(auth.COOKIE)
    ip = _ip(request)
    form = await request.post()
    nonce = request.cookies.get(SIGNIN_NONCE, "")
    if not nonce or not hmac.compare_digest(nonce, str(form.get("nonce", ""))):
        return page_error(request, "请重新打开链接", "请直接打开公众号发来的登录链接，再点击“进入工作台”。", 403)

    def redeem(db):
        openid, why = websessions.redeem_signin(db, token, t)
        if openid is None:
            return None, why
        user = users.get(db, openid) or {}
        if user.get("role") not in STAFF_ROLES:
            return None, "removed"
        if old:  # whatever session the browser had (or was given) ends: sign-in never adopts an old id
            websessions.end(db, old, t)
        sid, _ = websessions.start(db, openid, t)
        websessions.audit(db, t, openid, "signin", ip=ip)
        return sid, ""

    sid, why = await write(request, redeem)
    if sid is None:
        title, detail = SIGNIN_ERRORS[why]
        return page_error(request, title, detail, 403)
    response = web.HTTPFound("/w/")
    auth.set_cookie(response, request, sid)
    response.del_cookie(SIGNIN_NONCE, path="/w/signin/")
    raise response


@staff_page
async def signout(request: web.Request, v: Viewer) -> web.Response:
    t = auth.now(request)
    await write(request, lambda db: (websessions.end(db, v.sid, t), websessions.audit(db, t, v.openid, "signout")))
    response = web.HTTPFound("/w/login")
    response.del_cookie(auth.COOKIE, path="/")
    raise response


# -- inbox -----------------------------------------------------------------------------------------------------------
def _int(value: str | None, low: int, high: int) -> int | None:
    if not value:
        return None
    value = unicodedata.normalize("NFKC", value).strip()
    if not re.fullmatch(r"[0-9]{1,6}", value):
        return None
    return max(low, min(high, int(value)))


def _date(value: str | None, tz, end: bool = False) -> float | None:
    try:
        d = dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    if end:
        d += dt.timedelta(days=1)
    return dt.datetime(d.year, d.month, d.day, tzinfo=tz).timestamp()


def filters_from(q, tz) -> inbox.Filters:
    """The inbox's query string -> Filters; anything unknown is ignored, not an error."""
    state = q.get("state", "open")
    if state not in inbox.STATE_GROUPS and state not in lifecycle.STATES:
        state = "open"
    return inbox.Filters(
        state=state, kind=q.get("kind", "") if q.get("kind") in KINDS else "",
        category=q.get("category", "") if q.get("category") in CATEGORIES else "",
        school=q.get("school", "")[:48], unit=q.get("unit", "")[:48], overdue=q.get("overdue") == "1",
        due_days=_int(q.get("due"), 0, 365), created_from=_date(q.get("from"), tz),
        created_to=_date(q.get("to"), tz, end=True),
        flags=tuple(f for f in q.getall("flag", []) if f in inbox.FLAG_SQL),
        q=q.get("q", "").strip()[:100], sort="new" if q.get("sort") == "new" else "due")


@staff_page
async def inbox_page(request: web.Request, v: Viewer) -> web.Response:
    tz, t, desk = _tz(request), auth.now(request), _desk(request)
    f = filters_from(request.query, tz)
    number = _int(request.query.get("page"), 1, 10000) or 1

    def load(db):
        scope = desk.scope(db, v.user)
        result = inbox.page(db, scope, f, t, number, PAGE_SIZE)
        units = {u["code"]: u for u in directory.all_units(db)}
        # those who decide 延期 see at once how many wait (a notice scrolls away under the next 催办)
        waiting = inbox.pending_extensions(db, scope, t) if v.user["role"] in SUPERVISORS else 0
        # a teacher with forty new tickets signs them from the list, as 签收全部 does in WeChat (one rule); only
        # on the whole 待办 list: 签收全部 signs the unit's every waiting ticket, not a narrowed list's (超期: 47
        # beside 60 read as two answers to one question)
        whole = f.state in ("open", "to_sign") and f == inbox.Filters(state=f.state, sort=f.sort)
        to_sign = desk.count_awaiting(db, v.user) if whole else 0
        return scope, result, units, waiting, to_sign, inbox.to_sign(db, scope, f, t)

    scope, result, units, waiting, to_sign, listed_to_sign = await read(request, load)
    rows = [_line(row, units, t, tz) for row in result["rows"]]
    schools = sorted((u for u in units.values() if u["kind"] in ("school", "kindergarten")
                      and (scope[0] is None or u["parent"] in scope[0] or u["code"] in scope[0])),
                     key=lambda u: u["code"])
    scope_units = sorted((u for u in units.values() if scope[0] is None or u["code"] in scope[0]),
                         key=lambda u: u["code"])
    pages = max(1, (result["total"] + PAGE_SIZE - 1) // PAGE_SIZE)

    def link(**changes: Any) -> str:
        """This list's address with some parameters changed (None: removed); paging restarts unless given."""
        pairs = [(k, x) for k, x in request.query.items() if k not in changes and k != "page"]
        pairs += [(k, str(x)) for k, x in changes.items() if x is not None]
        return "?" + urlencode(pairs)

    return _render("w_inbox.html", request, await _context(
        request, v, rows=rows, result=result, f=f, page=number, pages=pages, link=link, raw=request.query,
        schools=schools, scope_units=scope_units, kinds=KINDS,
        many_units=scope[0] is None or len(scope[0]) > 1 or scope[1], waiting=waiting, categories=CATEGORIES, states=lifecycle.STATES,
        search_limit=inbox.SEARCH_LIMIT, to_sign=to_sign, sign_max=ACCEPT_ALL_MAX, listed_to_sign=listed_to_sign,
        export_query=request.query_string))


@staff_page
async def accept_all(request: web.Request, v: Viewer) -> web.Response:
    """签收全部 from the list: what the WeChat command signs (Desk.awaiting_acceptance, nearest deadline first, at
    most ACCEPT_ALL_MAX a press), each through Desk.accept with its push to the citizen and its audit row, in one
    writer transaction."""
    desk, t, ip = _desk(request), auth.now(request), _ip(request)

    def run(db):
        user = users.get(db, v.openid) or {}
        waiting = desk.awaiting_acceptance(db, user) if user.get("role") in STAFF_ROLES else []
        signed, pushes = [], []
        for ticket in waiting[:ACCEPT_ALL_MAX]:
            replies = desk.accept(db, user, ticket)
            if tickets.get(db, ticket["number"])["accepted_at"] is not None:
                signed.append(ticket["number"])
                websessions.audit(db, t, v.openid, "action:accept", ticket["number"], "签收全部", ip)
            pushes += [r.to_dict() for r in replies if r.to]
        outbox.enqueue_replies(db, pushes, v.openid, t, source=f"web:{v.openid}")
        answer = (texts.ACCEPT_ALL_HEAD.format(count=len(signed)) + "、".join(signed)) if signed else \
            texts.ACCEPT_ALL_NONE
        if len(waiting) > ACCEPT_ALL_MAX:
            answer += "\n" + texts.ACCEPT_ALL_MORE.format(count=len(waiting) - ACCEPT_ALL_MAX)
        websessions.set_flash(db, v.sid, texts.for_web(answer))
        return bool(pushes)

    if await write(request, run):
        from bot.app import SENDER
        if SENDER in request.app:
            request.app[SENDER].wake()
    raise web.HTTPFound("/w/")


def _line(t: dict, units: dict, now: float, tz) -> dict:
    running = bool(t["due_at"]) and t["state"] in lifecycle.CLOCK
    overdue = running and t["due_at"] < now
    flags = [name for flag, name in (("unattended", "代收"), ("review", "复核"), ("arbitration", "仲裁"))
             if t.get(flag) and t["state"] in lifecycle.OPEN]
    if (t.get("extension") or {}).get("state") == "requested" and t["state"] in lifecycle.OPEN:
        flags.append("延期待审批")
    days = (dt.datetime.fromtimestamp(t["due_at"], tz).date() - dt.datetime.fromtimestamp(now, tz).date()).days \
        if running else None
    return {"number": t["number"], "kind": kind_name(t),
            "category": texts.CATEGORY_NAMES.get(t["category"], t["category"]),
            "unit": units.get(t["unit_code"], {}).get("name", "待分派"),
            # the school named only when another unit handles it: a school's own list need not say it 40 times
            "school": units.get(t["school_code"], {}).get("name", "") if t["school_code"] and
            t["school_code"] != t["unit_code"] else "",
            "state": texts.STAFF_STATE_NAMES[t["state"]], "state_code": t["state"],
            "excerpt": texts.excerpt(privacy.numbers_masked(t["text"]), 50),
            "due": _fmt(t["due_at"], tz, "%m-%d %H:%M"), "created": _fmt(t["created_at"], tz, "%m-%d"),
            # how near the deadline is, in words: 超期12天 / 今天到期 (the date alone must be worked out per line)
            "when": texts.due_words(days, overdue) if days is not None and days <= 3 else "",
            "overdue": overdue, "flags": flags, "urgent": desk_urgent(t) and t["state"] in lifecycle.OPEN}


# -- ticket ----------------------------------------------------------------------------------------------------------
@staff_page
async def ticket_page(request: web.Request, v: Viewer) -> web.Response:
    number, tz, t, desk = request.match_info["number"].upper(), _tz(request), auth.now(request), _desk(request)

    def load(db):
        user = users.get(db, v.openid)
        ticket = tickets.get(db, number)
        if ticket is None or not desk.in_scope(db, user, ticket):
            return None
        hidden = desk.identity_hidden(db, user, ticket)
        names: dict[str, str] = {}
        history = []
        for e in tickets.events(db, ticket["id"]):
            actor = e["actor"]
            if actor not in names:
                row = users.get(db, actor) or {}
                names[actor] = row["name"] if row.get("name") and row.get("role") in STAFF_ROLES else (
                    "系统" if actor == "system" else ("群众" if actor == ticket["openid"] else ""))
            note = e["note"] or ""
            if e["action"] in ("submit", "accept"):
                note = ""  # "留言提交", the acceptor's own name: nothing the line does not say already
            elif e["action"] == "assign":
                code = note.replace("分派至", "").strip()
                note = "分派至 " + ((directory.get(db, code) or {}).get("name") or code)
            if actor == ticket["openid"]:
                note = privacy.numbers_masked(note)  # the citizen's words, as the text: a number masked
            history.append({"when": _fmt(e["at"], tz, "%m-%d %H:%M"), "action": e["action"],
                            "name": texts.EVENT_NAMES.get(e["action"] or "", texts.STATE_NAMES.get(e["to_state"], "")),
                            "who": names[actor], "note": note, "internal": e["action"] == "note",
                            "by_citizen": actor == ticket["openid"] and e["action"] not in ("submit", "supplement")})
        earlier = []
        at_school = (directory.get(db, user.get("unit_code")) or {}).get("kind") in privacy.SCHOOL_KINDS
        if not hidden:
            for row in inbox.earlier_of(db, ticket["openid"], ticket["id"]):
                linked = desk.in_scope(db, user, row)
                if at_school and (not linked or desk.identity_hidden(db, user, row)):
                    continue  # a school never learns of the person's other messages: one may be about its teacher
                earlier.append({"number": row["number"], "kind": kind_name(row),
                                "state": texts.STAFF_STATE_NAMES[row["state"]], "created": _fmt(row["created_at"], tz, "%Y-%m-%d"),
                                "linked": linked})
        offers = desk.offers(db, user, ticket)
        copies = media.of(db, [a.get("media_id") for a in ticket["attachments"]])
        return {"ticket": ticket, "hidden": hidden, "history": history, "earlier": earlier, "offers": offers,
                "version": tickets.version(db, ticket["id"]),
                "copies": [media.state(a, copies.get(a.get("media_id") or ""), t) for a in ticket["attachments"]],
                "templates": reply_templates.for_ticket(db, ticket, desk.calendar.date_text,
                                                        users.lang(db, ticket["openid"]))
                if {"reply", "resolve"} & set(offers) else [],
                "unit": directory.get(db, ticket["unit_code"]), "school": directory.get(db, ticket["school_code"]),
                "units": [u for u in directory.all_units(db) if u["code"] != ticket["unit_code"]]}

    data = await read(request, load)
    if data is None:
        raise NotFound("ticket")
    ticket = data["ticket"]
    ip = _ip(request)
    detail = "identity hidden" if data["hidden"] else "identity and masked phone shown"
    await write(request, websessions.audit, t, v.openid, "view", ticket["number"], detail, ip)
    identity = None if data["hidden"] else {
        "who": privacy.citizen_label(ticket["openid"]),
        "phone": mask_phone(ticket["contact_phone"]) if ticket["contact_phone"] else "未留"}
    line = _line(ticket, {}, t, tz)
    overdue = line["overdue"]
    sign_by = None  # the 签收 window the deadline watch reminds of (handlers.deadlines), while it runs
    if (sign := lifecycle.sign_due(ticket)) is not None:
        late = t >= sign
        days = (dt.datetime.fromtimestamp(sign, tz).date() - dt.datetime.fromtimestamp(t, tz).date()).days
        sign_by = {"at": _fmt(sign, tz), "late": late,
                   "when": (f"已超过{-days}天" if days < 0 else "今天已超过") if late else
                   texts.due_words(days, False) if days <= 3 else ""}
    routing = ticket["routing"] or {}
    # 常用回复 chosen without JavaScript (?tpl=<id>&into=reply|resolve): that form opens with the text in its box
    tpl, into = _int(request.query.get("tpl"), 1, 2 ** 62), request.query.get("into", "reply")
    filled = next(({"into": into, "text": r["text"], "id": r["id"]} for r in data["templates"]
                   if r["id"] == tpl and r["text"] is not None and into in ("reply", "resolve")), {})
    return _render("w_ticket.html", request, await _context(
        request, v, t=privacy.as_staff_read(ticket), d=data, identity=identity, overdue=overdue, verbs=VERBS, actions=FORM_ACTIONS,
        kind=kind_name(ticket), category=texts.CATEGORY_NAMES.get(ticket["category"]),
        state=texts.STAFF_STATE_NAMES[ticket["state"]], due=_fmt(ticket["due_at"], tz), created=_fmt(ticket["created_at"], tz),
        explanation=routing.get("explanation", [])[:8], media_names=texts.MEDIA_NAMES, copy_names=texts.ATTACH_STATE,
        ext=ticket.get("extension") or {}, filled=filled, when=line["when"], sign_by=sign_by,
        # what the citizen wrote after submitting, beside the text (on a phone the history is below the forms)
        later=[e for e in data["history"] if e["by_citizen"] and e["note"]],
        urgent=desk_urgent(ticket) and ticket["state"] in lifecycle.OPEN))


@staff_page
async def act(request: web.Request, v: Viewer) -> web.Response:
    number = request.match_info["number"].upper()
    form = await request.post()
    action = str(form.get("action", ""))
    if action not in FORM_ACTIONS:
        raise web.HTTPBadRequest(text="未知的操作。")
    text = plain_text(str(form.get("text", ""))).strip()[:MAX_TEXT]  # pasted from Word: no \x0b in any file
    desk, t, ip = _desk(request), auth.now(request), _ip(request)
    _, needs_text, label = FORM_ACTIONS[action]

    def run(db):
        user = users.get(db, v.openid) or {}
        ticket = tickets.get(db, number)
        if ticket is None or not desk.in_scope(db, user, ticket):
            return None
        seen = str(form.get("v", ""))
        if seen and seen != str(tickets.version(db, ticket["id"])):  # the page was out of date: nothing done
            answer = texts.WEB_STALE_FORM.format(number=number, state=texts.STAFF_STATE_NAMES[ticket["state"]])
            if text:
                answer += texts.WEB_STALE_TEXT.format(text=text[:1000])
            replies = []
        elif needs_text and not text:
            answer = f"请填写{label}。"
            replies = []
        else:
            replies = _call(desk, db, user, ticket, action, text, form)
            answer = replies[0].text if replies else ""
        pushes = [r.to_dict() for r in replies if r.to]
        outbox.enqueue_replies(db, pushes, v.openid, t, source=f"web:{v.openid}")
        websessions.audit(db, t, v.openid, f"action:{action}", number, (text[:200] + " → " + answer[:200]), ip)
        websessions.set_flash(db, v.sid, texts.for_web(answer))
        after = tickets.get(db, number)
        return desk.in_scope(db, user, after), bool(pushes)

    done = await write(request, run)
    if done is None:
        raise NotFound("ticket")
    still_mine, pushed = done
    if pushed:
        from bot.app import SENDER
        if SENDER in request.app:
            request.app[SENDER].wake()
    raise web.HTTPFound(f"/w/t/{number}" if still_mine else "/w/")


def _call(desk, db, user: dict, ticket: dict, action: str, text: str, form) -> list:
    if action == "accept":
        return desk.accept(db, user, ticket)
    if action in ("reply", "resolve", "bounce", "note"):
        return getattr(desk, action)(db, user, ticket, text)
    if action == "transfer":
        return desk.transfer(db, user, ticket, str(form.get("unit", "")).strip(), text)
    if action == "extension_request":
        days = _int(str(form.get("days", "")), 0, 99)
        if days is None or not 1 <= days <= 30:
            from handlers.messages import Reply
            return [Reply(texts.EXTENSION_NEEDS.format(number=ticket["number"]))]
        return desk.request_extension(db, user, ticket, days, text)
    if action in ("approve", "reject"):
        return desk.decide_extension(db, user, ticket, action == "approve", text)
    return desk.press(db, user, ticket, action, text)  # supervise, urge


# -- notifications ---------------------------------------------------------------------------------------------------
@staff_page
async def notices_page(request: web.Request, v: Viewer) -> web.Response:
    """A person's notices, newest first, NOTICE_CARDS cards a page: 下一页 (?before=) and 上一页 (?after=) by the
    ids at the page's edges, so a page keeps its cards while new ones arrive, and the other query keys ride along."""
    tz, t = _tz(request), auth.now(request)
    before, after = (int(x) if re.fullmatch(r"[0-9]{1,18}", x := request.query.get(k, "")) else None
                     for k in ("before", "after"))
    after = None if before is not None else after

    def load(db):
        rows = outbox.web_notices(db, v.openid, NOTICE_ROWS, before, after)
        cards = _notice_cards(rows)
        if len(rows) == NOTICE_ROWS and len(cards) > 1:  # the far card may go on beyond the rows read
            cards = cards[1:] if after is not None else cards[:-1]
        cards = _notice_page(cards, from_end=after is not None)
        for card in cards:  # one sweep's reminders: the most overdue first, as 待办 and 紧急 list them
            if len(card["lines"]) > 1:
                order = tickets.in_urgency_order(db, [x["ticket"] for x in card["lines"]])
                card["lines"].sort(key=lambda x: order.index(x["ticket"]))
                card["groups"], card["foot"] = _notice_groups(card["lines"])
        ids = [i for c in cards for i in c["ids"]]
        newer = outbox.web_count(db, v.openid, above=max(ids)) if ids else 0
        # the unit's count of 待签收 now, once, as the list counts it (each new-ticket notice said it when it came)
        user = users.get(db, v.openid) or {}
        to_sign = _desk(request).count_awaiting(db, user) if user.get("role") in STAFF_ROLES else 0
        return cards, newer, outbox.web_count(db, v.openid), to_sign

    cards, newer, total, to_sign = await read(request, load)
    shown = [r for c in cards for r in c["ids"]]
    if any(c["unread"] for c in cards):  # what is shown is read, and everything before it, as ever
        await write(request, outbox.web_mark_read, v.openid, t, max(shown))
    for c in cards:
        c["when"] = _fmt(c["at"], tz, "%m-%d %H:%M")
    keep = [(k, x) for k, x in request.query.items() if k not in ("before", "after")]
    pages = {"from": newer + 1, "to": newer + len(shown), "total": total,
             "newer": f"?{urlencode(keep + [('after', max(shown))])}" if shown and newer else "",
             "older": f"?{urlencode(keep + [('before', min(shown))])}" if shown and newer + len(shown) < total else "",
             "first": f"?{urlencode(keep)}" if newer > len(shown) else ""}
    ctx = await _context(request, v, items=cards, pages=pages, to_sign=to_sign,
                         sign_all_text=texts.for_web(texts.NEW_TICKET_MANY))
    if not newer:
        ctx["unread"] = 0
    return _render("w_notices.html", request, ctx)


# A page: at most 20 cards and 60 lines in them (a leader's sweep card can hold dozens of tickets: ~6,000 px at 390 px
# wide, not 22,000); rows read for them.
NOTICE_CARDS, NOTICE_LINES, NOTICE_ROWS = 20, 60, 400


def _notice_page(cards: list[dict], from_end: bool) -> list[dict]:
    """The page's cards next to its edge (the newest, or with `from_end` the oldest of those read, for 上一页):
    NOTICE_CARDS at most, and no more once NOTICE_LINES lines are shown (a first card is shown whole)."""
    out: list[dict] = []
    lines = 0
    for card in reversed(cards) if from_end else cards:
        if len(out) == NOTICE_CARDS or (out and lines + len(card["lines"]) > NOTICE_LINES):
            break
        out.append(card)
        lines += len(card["lines"])
    return out[::-1] if from_end else out


def _notice_cards(rows: list[dict]) -> list[dict]:
    """Notice rows, newest first, as cards: one sweep's reminders (written at the same moment under one title, one
    per ticket) are one card, as WeChat merges them. Whether two rows share a card depends on the two alone, so
    reading the rows from either end cuts the same cards."""
    cards: list[dict] = []
    for r in rows:
        line = {"text": _SIGN_ALL_COUNT.sub("", texts.for_web(r["text"])), "ticket": r["notice"].get("ticket"),
                "hold": r.get("line")}
        title = r["notice"].get("title", "")
        line["short"] = _notice_line(line["text"], line["ticket"] or "", title)
        last = cards[-1] if cards else None
        if (last and r["created_at"] == last["at"] and title == last["title"] and line["ticket"]
                and last["lines"][-1]["ticket"]):
            last["lines"].append(line)
            last["ids"].append(r["id"])
            last["unread"] = last["unread"] or r["read_at"] is None
            continue
        cards.append({"at": r["created_at"], "title": title, "unread": r["read_at"] is None, "lines": [line],
                      "ids": [r["id"]]})
    return cards


def _notice_groups(lines: list[dict]) -> tuple[list[dict], list[str]]:
    """A card of one sweep's reminders, as WeChat's merged push says them (handlers/deadlines.grouped): a group per
    kind under its head, the tickets under the deadline they share, each line what else differs (its unit, its
    words), how to act once. ([], []) when a line lacks its fields (written before they were kept): the lines are
    then shown as written."""
    from handlers import deadlines
    holds = [x.get("hold") for x in lines]
    if any(not h or h.get("kind") not in texts.REMIND_MANY_KIND for h in holds):
        return [], []
    line_of = {id(h): x for x, h in zip(lines, holds)}

    def short(h: dict) -> str:  # the ticket's line less its number (the link says it)
        return deadlines.merged_line(h).removeprefix("· ").removeprefix(h["number"]).lstrip("，｜ ")
    groups = [{"head": g["head"], "dates": [{"words": words.rstrip("："), "lines": [
                  {**line_of[id(h)], "short": short(h)} for h in hs]} for words, hs in g["dates"]]}
              for g in deadlines.grouped(holds, lines=None)]
    kinds = {h["kind"] for h in holds}
    return groups, [texts.for_web(foot) for wanted, foot in texts.REMIND_MANY_FOOT if kinds & set(wanted)]


# The unit's count of 待签收 in a new-ticket notice (texts.NEW_TICKET_MANY as the workbench says it): true when it
# came, stale on every card after; the page says today's count once instead.
_SIGN_ALL_COUNT = re.compile("\n?" + re.escape(texts.for_web(texts.NEW_TICKET_MANY)).replace(re.escape("{n}"), "[0-9]+"))


def _notice_line(text: str, number: str, title: str) -> str:
    """A notice as one line of a card that names the ticket beside it: "【签收提醒】留言 JY… 已超过…" -> "签收提醒：已超过…"
    (the bracketed head dropped where it is the card's title)."""
    m = re.match(r"【(.+?)】", text)
    head, body = (m.group(1), text[m.end():]) if m else ("", text)
    if number:  # the link beside the line names the ticket: not again in its text
        body = re.sub(rf"^留言\s*{re.escape(number)}\s*", "", body)
        body = re.sub(rf"留言\s*{re.escape(number)}\s*", "留言", body)
    return (f"{head}：" if head and head != title else "") + body.replace("\n", " ").strip()


# -- dashboard -------------------------------------------------------------------------------------------------------
@staff_page
async def dashboard_page(request: web.Request, v: Viewer) -> web.Response:
    """The bureau's figures for leaders, a supervisor's units, a handler's own unit; `unit=` narrows to one unit
    of the person's scope (a leader looking at one office, a district head at one school)."""
    tz, t, desk = _tz(request), auth.now(request), _desk(request)
    period = _period(request, tz, t)
    wanted = request.query.get("unit", "")
    from bot.app import CONFIG, DISPATCHER
    tokenizer = request.app[DISPATCHER].router.tokenizer
    min_cases = request.app[CONFIG].review.min_cases

    def load(db, period=period):
        scope = desk.scope(db, v.user)
        units = {u["code"]: u for u in directory.all_units(db)}
        choices = sorted((u for u in units.values() if scope[0] is None or u["code"] in scope[0]),
                         key=lambda u: (u["kind"] != "office", u["code"]))
        members = None if scope[0] is None else set(scope[0])
        name = "全局" if scope[0] is None else units.get(v.user["unit_code"], {}).get("name", "")
        shown = ""
        if wanted and (scope[0] is None or wanted in scope[0]) and wanted in units:
            members, name, shown = {wanted}, units[wanted]["name"], wanted
        one = shown or (scope[0][0] if scope[0] is not None and len(scope[0]) == 1 else "")
        # the duty office's 代收 tickets are its own overdue ones too, as on the 超期 list 当前超期 opens
        return dashboard.read(db, units, members, period, t, tz, name, tokenizer, scope[1] and not shown,
                              min_cases), (
            choices, shown, one)

    d, (choices, wanted, one) = await read(request, load)
    running = None  # the period still running, when the last complete one is shown instead
    if not request.query.get("period") and period.start <= t < period.end:
        last = dashboard.previous(period, tz)
        d_last, _c = await read(request, load, last)
        if dashboard.barely_begun(d.new_total, d_last.new_total):
            # Monday morning: the week so far has (almost) nothing; a leader reads last week's figures
            running, period, d = d, last, d_last
    prev = dashboard.previous(period, tz)
    nxt = dashboard.period_of(period.kind, period.end + 3600, tz)
    return _render("w_dashboard.html", request, await _context(
        request, v, d=d, prev=prev, next=nxt if nxt.start <= t else None, choices=choices if len(choices) > 1 else [],
        dates=period.dates(tz, t), running=running, running_dates=running and running.period.dates(tz, t),
        unit=wanted, trace=rates_link(one, d.period) if one else "", bar_max=max([n for _, n in d.by_category] + [1]),
        school_max=max([n for _, n in d.by_school] + [1]), min_cases=min_cases, kind_names=UNIT_KIND_NAMES))


def _period(request: web.Request, tz, t: float) -> dashboard.Period:
    kind = "month" if request.query.get("kind") == "month" else "week"
    key = request.query.get("period", "")
    if key:
        try:
            return dashboard.parse_period(kind, key, tz)
        except (ValueError, TypeError):
            pass
    return dashboard.period_of(kind, t, tz)


# -- the tickets behind a unit's figures --------------------------------------------------------------------------
# The longest span traced on one page: a quarter, or a campaign of a semester. The page lists every ticket behind
# the figures (a large office: ~1,700 a month), read by the span's index ranges: its cost is the span's.
MAX_TRACE_DAYS = 184


@dataclass(frozen=True)
class Span:
    """The days a trace covers: a week or month (the dashboard's and the digest's), a quarter (the review's), or
    any range of whole days (?from=2026-09-01&to=2026-12-31, both included)."""
    kind: str                     # week | month | quarter | range
    query: tuple[tuple[str, str], ...]
    start: float
    end: float
    label: str
    dashboard: str                # the dashboard's period around it (the crumb back)


def _day_span(first: dt.date, after: dt.date, tz) -> tuple[float, float]:
    return (dt.datetime.combine(first, dt.time(0), tz).timestamp(),
            dt.datetime.combine(after, dt.time(0), tz).timestamp())


def traced_span(q, tz, t: float) -> Span | str:
    """The span a trace's query string asks for, or why it cannot be traced (a sentence for the page)."""
    from handlers import review
    key = unicodedata.normalize("NFKC", q.get("period", "")).strip().upper()
    if q.get("from") or q.get("to"):
        try:
            first = dt.date.fromisoformat(unicodedata.normalize("NFKC", q.get("from", "")).strip())
            last = dt.date.fromisoformat(unicodedata.normalize("NFKC", q.get("to", "")).strip())
        except ValueError:
            return texts.TRACE_BAD_DATES
        if not (2000 <= first.year <= 2200 and 2000 <= last.year <= 2200):
            return texts.TRACE_BAD_DATES
        if last < first:
            return texts.TRACE_REVERSED
        if (last - first).days + 1 > MAX_TRACE_DAYS:
            return texts.TRACE_TOO_LONG.format(days=MAX_TRACE_DAYS)
        start, end = _day_span(first, last + dt.timedelta(days=1), tz)
        same = first.year == last.year == dt.datetime.fromtimestamp(t, tz).year
        label = (f"{first.month}月{first.day}日—{last.month}月{last.day}日" if same else
                 f"{first.year}年{first.month}月{first.day}日—{last.year}年{last.month}月{last.day}日")
        return Span("range", (("from", first.isoformat()), ("to", last.isoformat())), start, end, label,
                    f"kind=month&period={first.year}-{first.month:02d}")
    if re.fullmatch(r"\d{4}-Q[1-4]", key):
        first, after = review.parse_period(key)
        if not 2000 <= first.year <= 2200:
            return texts.TRACE_BAD_DATES
        start, end = _day_span(first, after, tz)
        return Span("quarter", (("period", key),), start, end, review.period_name(key),
                    f"kind=month&period={first.year}-{first.month:02d}")
    if re.fullmatch(r"\d{4}", key):
        return texts.TRACE_TOO_LONG.format(days=MAX_TRACE_DAYS)
    p = None
    if key:
        try:
            p = dashboard.parse_period("week" if "W" in key else "month", key, tz)
        except (ValueError, TypeError, IndexError):
            return texts.TRACE_BAD_PERIOD
    p = p or dashboard.period_of("month", t, tz)
    return Span(p.kind, (("period", p.key),), p.start, p.end, p.label, f"kind={p.kind}&period={p.key}")


def _neighbours(span: Span, tz) -> tuple[str | None, str | None]:
    """The period before and after a week, month or quarter, as query strings (a range has none)."""
    from handlers import review
    if span.kind in ("week", "month"):
        p = dashboard.Period(span.kind, dict(span.query)["period"], span.start, span.end)
        return dashboard.previous(p, tz).key, dashboard.period_of(p.kind, p.end + 3600, tz).key
    if span.kind == "quarter":
        before = review.relative_period("本季度", span.start - 3600, tz)
        after = review.relative_period("本季度", span.end + 3600, tz)
        return before, after
    return None, None


def rates_link(unit: str, period: "dashboard.Period | Span | str") -> str:
    if isinstance(period, Span):
        return f"/w/rates/{unit}?" + urlencode(period.query)
    return f"/w/rates/{unit}?" + urlencode({"period": period if isinstance(period, str) else period.key})


@staff_page
async def rates_page(request: web.Request, v: Viewer) -> web.Response:
    """A unit's 响应率, 解决率 and 满意率 for a week, month, quarter or any range of days up to MAX_TRACE_DAYS, and
    every ticket they rest on with what it counted as: the figures are those of the dashboard, the digest and the
    review (handlers.rates.for_period), the lines handlers.rates.traced (the same rule, ticket by ticket); a total
    row shows they agree. A span that cannot be traced is the page again with why, and nothing read."""
    from handlers import rates, review
    tz, t, desk = _tz(request), auth.now(request), _desk(request)
    code = request.match_info["unit"]
    span = traced_span(request.query, tz, t)
    error = span if isinstance(span, str) else None

    only = request.query.get("only") == "missed"  # a hundred lines on a phone: the ones that cost the unit first
    number = _int(request.query.get("page"), 1, 100000) or 1

    def load(db):
        user = users.get(db, v.openid) or {}
        units_, _ = desk.scope(db, user)
        unit = directory.get(db, code)
        if unit is None or (units_ is not None and code not in units_):
            return None
        if error:
            return unit, None, {}, [], [], 1
        figures = rates.for_period(db, span.start, span.end, [code], t).get(code) or rates.Rates()
        parts = rates.traced(db, span.start, span.end, code, t)
        # a page of lines in the tickets' order (ids follow filing): only its rows are read and drawn
        shown = sorted(i for i, part in parts.items() if missed(part) or not only)
        last = max(1, -(-len(shown) // TRACE_PAGE))
        at = min(number, last)
        lines = []
        for tid in shown[(at - 1) * TRACE_PAGE:at * TRACE_PAGE]:
            ticket = tickets.by_id(db, tid)
            mine = desk.in_scope(db, user, ticket)  # another unit's ticket now: its number and what it counted
            lines.append((ticket, parts[tid], mine))
        aside = tickets.praise_set_aside(db, span.start, span.end, [code]).get(code, [])
        return unit, figures, parts, lines, aside, (at, last, len(shown))

    data = await read(request, load)
    if data is None:
        raise NotFound("unit")
    unit, figures, parts, lines, aside, paging = data
    quick = [(w, review.relative_period(w, t, tz)) for w in ("本月", "上月", "本季度", "上季度")]
    ctx = dict(unit=unit, quick=[(w, f"/w/rates/{code}?" + urlencode({"period": k})) for w, k in quick],
               max_days=MAX_TRACE_DAYS, typed={k: request.query.get(k, "")[:10] for k in ("from", "to")})
    if not error:  # the span's own days in the boxes: a leader moves one end from what is shown
        ctx["typed"] = {"from": _fmt(span.start, tz, "%Y-%m-%d"), "to": _fmt(span.end - 1, tz, "%Y-%m-%d")}
    if error:
        return form_page("w_rates.html", request, await _context(request, v, error=error, span=None, **ctx), error)
    rows = [_traced_line(ticket, part, mine, tz) for ticket, part, mine in lines]
    summed = rates.total(parts)
    checked = ("accepted_in_time", "response_due", "resolved_in_time", "resolved", "open_overdue", "satisfied",
               "rated", "first_rated", "first_satisfied")
    agree = all(getattr(summed, f) == getattr(figures, f) for f in checked)
    at, last, listed = paging
    here = rates_link(code, span)
    trail = here + ("&only=missed" if only else "")
    before, after = _neighbours(span, tz)
    running = span.start <= t < span.end
    dates = f"{span.label}" if span.kind == "range" else \
        dashboard.Period(span.kind, "", span.start, span.end).dates(tz, t)
    if span.kind == "range" and running:
        dates = span.label.split("—")[0] + "—今天"
    return _render("w_rates.html", request, await _context(
        request, v, r=figures, rows=rows, every=len(parts), missed=sum(map(missed, parts.values())), only=only,
        here=here, span=span, dates=dates, agree=agree, aside=aside, page=at, pages=last, listed=listed,
        first=(at - 1) * TRACE_PAGE + 1, page_link=lambda n: f"{trail}&page={n}" if n > 1 else trail,
        prev=f"/w/rates/{code}?" + urlencode({"period": before}) if before else None,
        next=f"/w/rates/{code}?" + urlencode({"period": after}) if after and span.end <= t else None,
        proxied_line=texts.PROXIED_LINE, proxied_done=texts.PROXIED_DONE_LINE, **ctx))


TRACE_PAGE = 50  # lines a page: a phone shows each as a card, and a quarter of a large office is thousands


def missed(part) -> bool:
    """The ticket cost the unit something in one of its rates (the 未达标 tab)."""
    return bool(part.response_due - part.accepted_in_time or part.resolved + part.open_overdue
                - part.resolved_in_time or part.rated - part.satisfied or part.dissatisfied)


def _traced_line(ticket: dict, part, mine: bool, tz) -> dict:
    """What one ticket counted as, in words, for each rate it counts in ('' where it does not)."""
    response = ""
    if part.response_due or part.dispatched:
        if part.accepted_in_time:
            response = "按时签收"
        elif part.left_late and (not part.dispatched or part.response_due > part.accepted_in_time):
            # (a lapsed case kept in its month, m066, and left in it: said as the departure it was)
            response = "离开前已超过签收时限"
        elif part.response_due:
            response = "超时签收" if ticket["accepted_at"] else "未按时签收"
        else:
            response = "签收时限未到，暂不计"
    resolution = ""
    if part.resolved:
        resolution = "按时办结" if part.resolved_in_time else "超期办结"
    elif part.open_overdue:
        resolution = "离开前已超期" if part.left_late else "超期未办结"
    # 代收 this unit did for another: shown, counted in no rate (handlers/rates.py)
    if (part.proxied or part.proxied_late_response) and not response:
        response = texts.PROXIED_SLOW_LINE if part.proxied_late_response else texts.PROXIED_LINE
    if (part.proxied_resolved or part.proxied_late) and not resolution:
        resolution = texts.PROXIED_LATE_LINE if part.proxied_late else texts.PROXIED_DONE_LINE
    rating = ""
    if part.rated:  # the period's last rating (the ticket's latest may be a redo's, rated later): a 满意 or
        # 基本满意 closes the ticket, so it is the ticket's own; else it was a 不满意
        score = ticket["rating"] if part.satisfied else 3
        rating = texts.RATING_NAMES[score] if score in texts.RATING_NAMES else "已评价"
    if part.dissatisfied and not part.rated:
        rating = "不满意（要求重办）"
    return {"number": ticket["number"], "mine": mine, "kind": kind_name(ticket), "missed": missed(part),
            "excerpt": texts.excerpt(privacy.numbers_masked(ticket["text"]), 30) if mine else "",
            "dispatched": _fmt(ticket["dispatched_at"], tz, "%m-%d %H:%M"),
            "response": response, "response_ok": bool(part.accepted_in_time),
            "resolution": resolution, "resolution_ok": bool(part.resolved_in_time),
            "rating": rating, "rating_ok": bool(part.satisfied), "first": bool(part.first_rated),
            "stood_in": bool(part.stood_in or part.proxied or part.proxied_resolved or part.proxied_late
                             or part.proxied_late_response)}


# -- audit -----------------------------------------------------------------------------------------------------------
@staff_page
async def audit_page(request: web.Request, v: Viewer) -> web.Response:
    if v.user["role"] not in WIDE_ROLES:
        raise NotFound("page")
    tz = _tz(request)
    ticket = request.query.get("ticket", "").strip().upper()[:20] or None
    before = _int(request.query.get("before"), 1, 2 ** 62)
    rows = await read(request, lambda db: websessions.audit_rows(db, ticket=ticket, before_id=before, limit=100))
    await write(request, websessions.audit, auth.now(request), v.openid, "view_audit", ticket, None, _ip(request))
    items = [{**r, "when": _fmt(r["at"], tz, "%Y-%m-%d %H:%M:%S"), "words": texts.audit_action(r["action"])}
             for r in rows]
    return _render("w_audit.html", request, await _context(request, v, items=items, ticket=ticket or "",
                                                           more=items[-1]["id"] if len(items) == 100 else None))


# -- staff (leaders and admins) ------------------------------------------------------------------------------------
async def staff_page_(request: web.Request) -> web.StreamResponse:
    """人员 lives with the other management pages (bot/web/admin.py)."""
    from bot.web.admin import staff_list
    return await staff_list(request)


async def _to_inbox(request: web.Request) -> web.Response:
    raise web.HTTPFound("/w/")


def setup(app: web.Application) -> None:
    from pathlib import Path
    from bot.web import admin
    admin.setup(app)  # the directory, service items, invites, the review, surveys and common questions (leaders)
    r = app.router
    r.add_get("/w/login", login_page)
    r.add_get("/w/signin/{token}", signin_get)
    r.add_post("/w/signin/{token}", signin_post)
    r.add_post("/w/signout", signout)
    r.add_get("/w/", inbox_page)
    r.add_get("/w", _to_inbox)
    r.add_get("/w/t/{number}", ticket_page)
    r.add_post("/w/t/{number}", act)
    r.add_post("/w/accept-all", accept_all)
    r.add_get("/w/notices", notices_page)
    r.add_get("/w/dashboard", dashboard_page)
    r.add_get("/w/rates/{unit}", rates_page)
    r.add_get("/w/audit", audit_page)
    r.add_get("/w/staff", staff_page_)
    r.add_post("/w/staff", staff_page_)
    r.add_static("/w/static", Path(__file__).with_name("static"))
    from bot.web import attachments, exports, citizen, oauth, replies
    replies.setup(app)
    oauth.setup(app)
    attachments.setup(app)
    exports.setup(app)
    citizen.setup(app)
