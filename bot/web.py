"""Pages served by the app: the weekly digest (with charts), behind signed links."""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.config import Config
from handlers import digest, texts
from handlers.rates import percent

TEMPLATES = jinja2.FileSystemLoader(Path(__file__).with_name("templates"))
# A digest page is built once per (week, scope) and served from memory for this long: a leader's whole office
# reloading it on Monday morning costs one build, not one per reload.
PAGE_TTL_SECONDS = 60
PAGES = web.AppKey("digest_pages", dict)


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
    app[PAGES] = {}


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
    env = aiohttp_jinja2.get_env(request.app)

    def build_and_render(db) -> str:
        d = digest.build(db, week, request.app[CLOCK].now(), tz, dispatcher.router.tokenizer, scope)
        return env.get_template("digest.html").render(**page_context(d, tz))

    pages, key, now = request.app[PAGES], (week, scope), time.monotonic()
    entry = pages.get(key)
    if entry is None or entry[0] < now:
        for k in [k for k, (until, _) in pages.items() if until < now]:
            del pages[k]
        # On a read-only connection: loading a page never waits for, or holds up, the writer (the webhook's).
        # Readers arriving while it is built wait for the same build.
        entry = pages[key] = (now + PAGE_TTL_SECONDS, asyncio.ensure_future(request.app[DB].read(build_and_render)))
    try:
        html = await asyncio.shield(entry[1])
    except ValueError as exc:  # a scope no longer in the directory, a week out of range
        pages.pop(key, None)
        raise web.HTTPNotFound(text=str(exc)) from None
    except Exception:
        pages.pop(key, None)
        raise
    return web.Response(text=html, content_type="text/html")


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
