"""Pages served by the app: the weekly digest (with charts), behind signed links."""
from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import json
import time
from pathlib import Path
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.config import Config
from handlers import digest, texts
from handlers.rates import percent, percent_of, proxied, stood_in, stood_in_own

# The digest's template in bot/templates; the workbench's and the citizen page's beside this module.
TEMPLATES = jinja2.ChoiceLoader([jinja2.FileSystemLoader(Path(__file__).resolve().parent.parent / "templates"),
                                 jinja2.FileSystemLoader(Path(__file__).with_name("templates"))])


class LinkError(ValueError):
    """No key to sign links with (server.link_secret is empty)."""


def _key(config: Config) -> bytes:
    # Only ever the configured secret: a key derived from other (possibly empty) values could be computed by anyone.
    if not config.server.link_secret:
        raise LinkError("server.link_secret is not set: links to internal pages cannot be signed")
    return hmac.new(config.server.link_secret.encode(), b"tingjian links v2", hashlib.sha256).digest()


def _mac(config: Config, message: str, length: int = 32) -> str:
    return hmac.new(_key(config), message.encode(), hashlib.sha256).hexdigest()[:length]


def recipient_tag(config: Config, openid: str) -> str:
    """Names the recipient in a link without showing their openid."""
    return _mac(config, f"to:{openid}", 16)


def sign(config: Config, week: str, scope: str, expires: int, to: str = "") -> str:
    return _mac(config, json.dumps(["digest", week, scope, expires, to]))  # unambiguous, whatever scope holds


def digest_link(config: Config, week: str, scope: str, now: float | None = None, to: str | None = None) -> str:
    """A link to the week's page that opens for `digest.link_days` days from `now` (default: the real time); with
    `to` (an openid) it opens only while that person is still staff entitled to the scope."""
    expires = int(time.time() if now is None else now) + config.digest.link_days * 86400
    tag = recipient_tag(config, to) if to else ""
    query = {"scope": scope, "exp": expires, **({"to": tag} if tag else {}),
             "sig": sign(config, week, scope, expires, tag)}
    return f"{config.public_url}/digest/{week}?" + urlencode(query)


def whole_number(text: str) -> int | None:
    """A number in a link or form (an expiry, an index, a row id): ASCII digits only, at most 18, else None.
    str.isdigit also takes ² and other digits int() cannot read, and int() refuses over 4300 digits: each a 500."""
    return int(text) if len(text) <= 18 and text.isascii() and text.isdigit() else None


def refused(title: str, detail: str, status: type[web.HTTPException] = web.HTTPForbidden) -> web.HTTPException:
    """A short page a person on a phone can read, instead of a bare status."""
    body = (f"<!doctype html><html lang=\"zh-CN\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" "
            f"content=\"width=device-width, initial-scale=1\"><title>{title}</title></head><body style=\"font-family:"
            f"sans-serif;margin:2em;line-height:1.6\"><h2>{title}</h2><p>{detail}</p></body></html>")
    return status(text=body, content_type="text/html")


class CompiledTemplates(jinja2.BytecodeCache):
    """Templates compiled once per process for every environment set up alike (each app's, the digest's): compiling
    one cost each new app its first render (in the tests, every app; ~7 % of a page test). Jinja keys a template by
    its name and file, and checks its source's checksum, so an edited template is compiled again. Only for
    environments made with the same settings (the compiled code depends on them): one cache per setup."""

    def __init__(self):
        self._code: dict[str, bytes] = {}

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        data = self._code.get(bucket.key)
        if data is not None:
            bucket.bytecode_from_string(data)

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        self._code[bucket.key] = bucket.bytecode_to_string()


_COMPILED = CompiledTemplates()  # (the workbench's and the digest's environments: made with the same settings)


def _configure(env: jinja2.Environment) -> jinja2.Environment:
    env.filters["pct"] = percent
    env.filters["pctn"] = percent_of
    env.filters["stoodin"] = stood_in
    env.filters["stoodin_own"] = stood_in_own
    env.filters["proxied"] = proxied
    env.globals.update(KIND_NAMES=texts.KIND_NAMES, CATEGORY_NAMES=texts.CATEGORY_NAMES, change=digest.change)
    return env


# A digest page is built once per (week, scope) and served from memory for this long: a leader's whole office
# reloading it on Monday morning costs one build, not one per reload. (The signature, expiry and recipient are
# checked on every request, before the cache.)
PAGE_TTL_SECONDS = 60
PAGES = web.AppKey("digest_pages", dict)


def setup(app: web.Application) -> None:
    _configure(aiohttp_jinja2.setup(app, loader=TEMPLATES, autoescape=jinja2.select_autoescape(["html"]),
                                    bytecode_cache=_COMPILED))
    app.router.add_get("/digest/{week}", digest_page)
    app[PAGES] = {}
    from bot.web import auth, workbench
    app.on_response_prepare.append(auth.headers)
    workbench.setup(app)


# Weeks a digest can be about: anything else is not a page (and would overflow the date arithmetic).
YEARS = range(2000, 2201)


async def digest_page(request: web.Request) -> web.Response:
    from bot.app import CLOCK, CONFIG, DB, DISPATCHER
    config, now = request.app[CONFIG], request.app[CLOCK].now()
    week, q = request.match_info["week"], request.query
    scope, tag, expires = q.get("scope", "bureau"), q.get("to", ""), whole_number(q.get("exp", ""))
    if expires is None or not hmac.compare_digest(sign(config, week, scope, expires, tag), q.get("sig", "")):
        raise refused("链接无效", "这个链接不完整或已被改动。请从公众号消息中的链接打开周报。")
    if expires < now:
        raise refused("链接已过期", f"周报链接的有效期为{config.digest.link_days}天。"
                                    "请在公众号中查看最新一期周报，或联系管理员。")
    try:
        year, _ = digest.parse_week(week)
        if year not in YEARS:
            raise ValueError(f"no digest for {week}")
    except ValueError:
        raise refused("没有这一周的周报", "请检查链接中的周次。", web.HTTPNotFound) from None
    if tag and not await request.app[DB].read(_recipient_entitled, config, tag, scope):
        raise refused("链接已失效", "这个链接发给的工作人员已不再负责该范围。如需查看，请联系管理员。")
    pages, key, moment = request.app[PAGES], (week, scope), time.monotonic()
    entry = pages.get(key)
    if entry is None or entry[0] < moment:
        for k in [k for k, (until, _) in pages.items() if until < moment]:
            del pages[k]
        # Readers arriving while it is read or built wait for the same one.
        entry = pages[key] = (moment + PAGE_TTL_SECONDS, asyncio.ensure_future(_page(request.app, week, scope, now)))
    try:
        html = await asyncio.shield(entry[1])
    except ValueError as exc:  # a scope no longer in the directory, a week out of range
        pages.pop(key, None)
        raise refused("没有这一周的周报", str(exc), web.HTTPNotFound) from None
    except Exception:
        pages.pop(key, None)
        raise
    return web.Response(body=html, content_type="text/html", charset="utf-8")


async def _page(app: web.Application, week: str, scope: str, now: float) -> bytes:
    """The page as UTF-8: the digest the weekly job stored (a read on a read-only connection), rendered with the
    current template (so a fix to the page reaches the weeks already sent; a row stored before m054 is its old
    HTML), else built now -- in a child process when the service builds digests there (digest.separate_process),
    so a page never holds the serving process's GIL (and with it the webhook) for the build; else on a reader
    thread."""
    from bot.app import CONFIG, DB, DISPATCHER, JOB_PROCESS
    from storage import digest_pages
    db, config, dispatcher = app[DB], app[CONFIG], app[DISPATCHER]
    stored = await db.read(digest_pages.get, week, scope)
    if isinstance(stored, bytes):
        return stored
    if stored is not None:
        return (await asyncio.to_thread(render_html, digest.from_data(stored), dispatcher.calendar.tz)).encode()
    if config.digest.separate_process:
        from bot import digest_job
        return (await digest_job.render_async(app[JOB_PROCESS], config, week, scope, now)).encode("utf-8")
    tz = dispatcher.calendar.tz
    return (await db.read(lambda c: render_html(digest.build(c, week, now, tz, dispatcher.router.tokenizer, scope,
                                                             dispatcher.min_cases), tz))).encode("utf-8")


def _recipient_entitled(db, config: Config, tag: str, scope: str) -> bool:
    """Is the person a link was sent to still a leader (bureau scope) or staff of the unit (a unit's scope)?"""
    from storage import staff
    people = staff.leaders(db) if scope == "bureau" else \
        staff.leaders(db) + staff.of_unit(db, scope, ("handler", "supervisor", "admin"))
    return any(hmac.compare_digest(recipient_tag(config, o), tag) for o in people)


def render(request: web.Request, d: digest.Digest, tz) -> web.Response:
    return aiohttp_jinja2.render_template("digest.html", request, page_context(d, tz))


def page_context(d: digest.Digest, tz) -> dict:
    cat_max = max(d.new_by_category.values(), default=1)
    return {
        "d": d, "period": d.period_text(tz), "cat_max": cat_max,
        "generated": dt.datetime.fromtimestamp(d.generated_at, tz).strftime("%Y-%m-%d %H:%M"),
        "due_text": lambda ts: dt.datetime.fromtimestamp(ts, tz).strftime("%m-%d"),
        "low_resolution": lambda r: r is not None and r < digest.LOW_RESOLUTION,
        "unstaffed_note": texts.DIGEST_UNSTAFFED_NOTE,
    }


_ENV: jinja2.Environment | None = None


def render_html(d: digest.Digest, tz) -> str:
    """The same page as a string, without a server: `tingjian digest`, and the weekly job, which stores every
    scope's page (storage/digest_pages.py) so that opening one costs a read."""
    global _ENV
    if _ENV is None:
        _ENV = _configure(jinja2.Environment(loader=TEMPLATES, autoescape=jinja2.select_autoescape(["html"]),
                                             bytecode_cache=_COMPILED))
    return _ENV.get_template("digest.html").render(**page_context(d, tz))
