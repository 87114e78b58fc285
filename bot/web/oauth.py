"""Sign-in by WeChat web authorisation (网页授权, scope snsapi_base), when `wechat.oauth` is set: a staff member who
opens the workbench inside WeChat is sent to WeChat's authorisation page, which sends them back at once with a
single-use code; the code is exchanged (server to server) for their openid, and a bound staff member gets a session
exactly as a 登录 link gives one. The `state` is random and also kept in a cookie of this browser, so a code
obtained elsewhere cannot be planted in someone else's browser (login CSRF)."""
from __future__ import annotations

import hmac
import secrets
from urllib.parse import quote, urlencode

from aiohttp import web

from bot.channels.wechat.api import WechatApiError
from bot.web import auth
from bot.web.auth import write
from bot.web.workbench import _ip, page_error
from handlers import texts
from handlers.vocabulary import STAFF_ROLES
from storage import users, websessions

STATE_COOKIE = "tj_oauth"
STATE_SECONDS = 600


def enabled(request: web.Request) -> str:
    from bot.app import CONFIG
    return request.app[CONFIG].wechat.oauth.rstrip("/")


def in_wechat(request: web.Request) -> bool:
    return "MicroMessenger" in request.headers.get("User-Agent", "")


def safe_next(value: str | None) -> str:
    """Only a workbench page of this site (no //host, no scheme) may be where sign-in leads."""
    value = value or "/w/"
    return value if value.startswith("/w/") and not value.startswith("//") and "\\" not in value else "/w/"


async def start(request: web.Request) -> web.Response:
    """GET /w/oauth?next=…: to WeChat's authorisation page, with a fresh state bound to this browser."""
    base = enabled(request)
    if not base:
        return page_error(request, *texts.OAUTH_OFF, 404, back=("/w/login", "返回登录页"))
    from bot.app import CONFIG
    config = request.app[CONFIG]
    state = secrets.token_hex(16)
    back = f"{config.public_url}/w/oauth/back"
    target = (f"{base}/connect/oauth2/authorize?" + urlencode({
        "appid": config.wechat.appid, "redirect_uri": back, "response_type": "code", "scope": "snsapi_base",
        "state": state}, quote_via=quote) + "#wechat_redirect")
    response = web.HTTPFound(target)
    response.set_cookie(STATE_COOKIE, f"{state}:{safe_next(request.query.get('next'))}", httponly=True,
                        samesite="Lax", secure=auth.secure(request), path="/w/oauth", max_age=STATE_SECONDS)
    raise response


async def back(request: web.Request) -> web.Response:
    """GET /w/oauth/back?code=…&state=…: WeChat sends the person back here."""
    if not enabled(request):
        return page_error(request, *texts.OAUTH_OFF, 404, back=("/w/login", "返回登录页"))
    kept, _, next_ = request.cookies.get(STATE_COOKIE, "").partition(":")
    state, code = request.query.get("state", ""), request.query.get("code", "")
    if not kept or not hmac.compare_digest(kept, state):
        return page_error(request, *texts.OAUTH_RESTART, 403)
    if not code:
        return page_error(request, *texts.OAUTH_NO_CODE, 403)
    from bot.app import API
    try:
        openid = await request.app[API].oauth_openid(code)
    except (WechatApiError, OSError, ValueError) as exc:
        import logging
        logging.getLogger(__name__).info("网页授权 code exchange failed: %s", exc)
        return page_error(request, *texts.OAUTH_RESTART, 403)
    t, ip, old = auth.now(request), _ip(request), request.cookies.get(auth.COOKIE)

    def sign_in(db):
        user = users.get(db, openid) or {}
        if user.get("role") not in STAFF_ROLES:
            return None
        if old:  # as with a link: whatever session the browser had ends, a new id is issued
            websessions.end(db, old, t)
        sid, _ = websessions.start(db, openid, t)
        websessions.audit(db, t, openid, "signin", None, "wechat oauth", ip)
        return sid

    sid = await write(request, sign_in)
    if sid is None:
        response = page_error(request, *texts.OAUTH_NOT_STAFF, 403)
    else:
        response = web.HTTPFound(safe_next(next_))
        auth.set_cookie(response, request, sid)
    response.del_cookie(STATE_COOKIE, path="/w/oauth")
    if sid is None:
        return response
    raise response


def setup(app: web.Application) -> None:
    app.router.add_get("/w/oauth", start)
    app.router.add_get("/w/oauth/back", back)
