"""Pages served by the app: the weekly digest (with charts), behind signed links."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from pathlib import Path
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.config import Config
from handlers import digest, texts
from handlers.rates import percent

TEMPLATES = jinja2.FileSystemLoader(Path(__file__).with_name("templates"))


def _key(config: Config) -> bytes:
    secret = config.server.link_secret or f"{config.wechat.token}:{config.wechat.appsecret}:tingjian-links"
    return secret.encode()


def sign(config: Config, week: str, scope: str) -> str:
    return hmac.new(_key(config), f"digest:{week}:{scope}".encode(), hashlib.sha256).hexdigest()[:32]


def digest_link(config: Config, week: str, scope: str) -> str:
    return f"{config.public_url}/digest/{week}?" + urlencode({"scope": scope, "sig": sign(config, week, scope)})


def _configure(env: jinja2.Environment) -> jinja2.Environment:
    env.filters["pct"] = percent
    env.globals.update(KIND_NAMES=texts.KIND_NAMES, CATEGORY_NAMES=texts.CATEGORY_NAMES, change=digest.change)
    return env


def setup(app: web.Application) -> None:
    _configure(aiohttp_jinja2.setup(app, loader=TEMPLATES, autoescape=jinja2.select_autoescape(["html"])))
    app.router.add_get("/digest/{week}", digest_page)


async def digest_page(request: web.Request) -> web.Response:
    from bot.app import CLOCK, CONFIG, DB, DISPATCHER
    config = request.app[CONFIG]
    week, scope = request.match_info["week"], request.query.get("scope", "bureau")
    if not hmac.compare_digest(sign(config, week, scope), request.query.get("sig", "")):
        raise web.HTTPForbidden(text="链接无效或已失效，请从公众号消息中的链接打开。")
    try:
        digest.parse_week(week)
    except ValueError as exc:
        raise web.HTTPNotFound(text=str(exc)) from None
    dispatcher = request.app[DISPATCHER]
    tz = dispatcher.calendar.tz
    # On a read-only connection: loading a page never waits for, or holds up, the writer (the webhook's).
    try:
        d = await request.app[DB].read(digest.build, week, request.app[CLOCK].now(), tz,
                                       dispatcher.router.tokenizer, scope)
    except ValueError as exc:  # a scope no longer in the directory
        raise web.HTTPNotFound(text=str(exc)) from None
    return render(request, d, tz)


def render(request: web.Request, d: digest.Digest, tz) -> web.Response:
    return aiohttp_jinja2.render_template("digest.html", request, page_context(d, tz))


def page_context(d: digest.Digest, tz) -> dict:
    cat_max = max(d.new_by_category.values(), default=1)
    return {
        "d": d, "period": d.period_text(tz), "cat_max": cat_max,
        "generated": dt.datetime.fromtimestamp(d.generated_at, tz).strftime("%Y-%m-%d %H:%M"),
        "due_text": lambda ts: dt.datetime.fromtimestamp(ts, tz).strftime("%m-%d"),
    }


def render_html(d: digest.Digest, tz) -> str:
    """The same page as a string, for `tingjian digest` (no server)."""
    env = _configure(jinja2.Environment(loader=TEMPLATES, autoescape=jinja2.select_autoescape(["html"])))
    return env.get_template("digest.html").render(**page_context(d, tz))
