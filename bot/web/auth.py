"""Who is asking: workbench sessions (server-side, in SQLite), CSRF on every form, security headers, and the
links the core hands out (one-time sign-in, the citizen's signed page).

The session cookie holds a random id; the row (storage/websessions.py) holds its hash, the CSRF token, and the
times that bound it (idle 2 h, absolute 12 h). The person's row is read on every request, so a person removed
from staff is signed out everywhere at once, and a person moved to another unit sees the new unit's scope.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import Any, Awaitable, Callable
from urllib.parse import urlencode

from aiohttp import web

from bot.config import Config
from handlers import texts
from handlers.clock import Clock
from handlers.vocabulary import STAFF_ROLES
from storage import users, websessions

COOKIE = "tj_session"
CITIZEN_LINK_SECONDS = 7 * 86400
# Strict: no inline script anywhere (the pages use /w/static/*.js); inline style attributes only for bar widths.
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
PROTECTED = ("/w/", "/t/", "/a/")


def link_key(config: Config) -> bytes:
    """The key that signs the citizen's page links: server.link_secret (see config.example.toml)."""
    from bot.web import _key
    return _key(config)


def _mac(config: Config, message: str) -> str:
    return hmac.new(link_key(config), message.encode(), hashlib.sha256).hexdigest()[:32]


def citizen_sig(config: Config, number: str, openid: str, expires: int) -> str:
    return _mac(config, f"citizen-ticket:{number}:{openid}:{expires}")


class Links:
    """handlers.messages.WebLinks for the core: links it may put in a message."""

    def __init__(self, config: Config, clock: Clock):
        self.config, self.clock = config, clock

    def signin(self, db, openid: str) -> str:
        token = websessions.create_signin(db, openid, self.clock.now())
        return f"{self.config.public_url}/w/signin/{token}"

    def citizen_ticket(self, number: str, openid: str) -> str | None:
        expires = int(self.clock.now()) + CITIZEN_LINK_SECONDS
        try:
            sig = citizen_sig(self.config, number, openid, expires)
        except ValueError:  # no key to sign with: no link rather than a failed command
            return None
        return f"{self.config.public_url}/t/{number}?exp={expires}&sig={sig}"

    def attachments(self, number: str, openid: str) -> str | None:
        from bot.web import attachments
        try:
            query = attachments.link_query(self.config, number, openid, self.clock.now())
        except ValueError:  # no key to sign with
            return None
        return f"{self.config.public_url}/a/{number}?{query}"


@dataclass
class Viewer:
    """The signed-in staff member of one request."""

    user: dict[str, Any]
    sid: str
    csrf: str
    flash: str | None

    @property
    def openid(self) -> str:
        return self.user["openid"]


async def read(request: web.Request, fn: Callable, *args):
    """Every page's reads go through here: a read-only connection (Database.read), never the writer thread."""
    from bot.app import DB
    return await request.app[DB].read(fn, *args)


async def write(request: web.Request, fn: Callable, *args):
    from bot.app import DB
    return await request.app[DB].run(fn, *args)


def now(request: web.Request) -> float:
    from bot.app import CLOCK
    return request.app[CLOCK].now()


def secure(request: web.Request) -> bool:
    from bot.app import CONFIG
    return request.secure or request.app[CONFIG].public_url.startswith("https://")


async def viewer(request: web.Request) -> Viewer | None:
    sid = request.cookies.get(COOKIE)
    if not sid:
        return None
    t = now(request)

    def load(db):
        session = websessions.get(db, sid, t)
        if session is None:
            return None
        user = users.get(db, session["openid"]) or {}
        if user.get("role") not in STAFF_ROLES:
            return None
        return session, user

    found = await read(request, load)
    if found is None:
        return None
    session, user = found
    if session["flash"] or t - session["last_seen_at"] > websessions.TOUCH_SECONDS:
        def touch(db):
            websessions.touch(db, sid, t)
            websessions.set_flash(db, sid, None)
        await write(request, touch)
    return Viewer(user, sid, session["csrf"], session["flash"])


def staff_page(handler: Callable[[web.Request, Viewer], Awaitable[web.StreamResponse]]):
    """A workbench page: a signed-in staff member, and on POST a matching CSRF token (else 403, nothing done).
    A workbench.NotFound the page raises is answered by the one refusal page (workbench.NOT_FOUND)."""
    async def wrapped(request: web.Request) -> web.StreamResponse:
        from bot.web.workbench import NotFound, message_page, page_error, refusal_page
        v = await viewer(request)
        if request.method == "GET":
            if v is None:  # the page asked for comes back after sign-in (a ticket link opened from a WeChat notice)
                raise web.HTTPFound("/w/login" if request.path_qs == "/w/" else
                                    "/w/login?" + urlencode({"next": request.path_qs}))
        else:  # a refused form: a page saying nothing was done, leading back to the page the form was on
            page = request.path if await _has_page(request) else "/w/"
            if v is None:
                return page_error(request, *texts.FORM_SIGNED_OUT, 403,
                                  back=("/w/login?" + urlencode({"next": page}), "重新登录"))
            form = await request.post()
            if not hmac.compare_digest(str(form.get("_csrf", "")), v.csrf):
                return await message_page(request, v, *texts.FORM_EXPIRED, (page, "重新打开页面"), 403)
        try:
            return await handler(request, v)
        except NotFound as refused:  # what the page says it is not there for: a page of the workbench, 404
            return await refusal_page(request, v, refused.what)
    wrapped.__name__ = handler.__name__
    return wrapped


async def _has_page(request: web.Request) -> bool:
    """Most forms post to their own page; a few (/w/accept-all, /w/signout) have none to go back to."""
    match = await request.app.router.resolve(request.clone(method="GET"))
    return match.http_exception is None


def set_cookie(response: web.StreamResponse, request: web.Request, sid: str) -> None:
    response.set_cookie(COOKIE, sid, httponly=True, samesite="Lax", secure=secure(request), path="/",
                        max_age=websessions.ABSOLUTE_SECONDS)


async def headers(request: web.Request, response: web.StreamResponse) -> None:
    """Security headers on the workbench and the citizen's page (the simulator and sandbox keep their own), as
    each response is prepared (pages and refusals alike). A signal rather than a middleware: with no middleware
    at all, aiohttp calls the webhook's handler directly instead of through a per-request chain."""
    if request.path.startswith(PROTECTED):
        _stamp(response)


def _stamp(response: web.StreamResponse) -> None:
    response.headers["Content-Security-Policy"] = CSP
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"  # sign-in and citizen links carry tokens
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("Cache-Control", "no-store")
