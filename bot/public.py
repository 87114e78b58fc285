"""Public pages (办事公开, issue 13): no sign-in, no JavaScript, readable on a phone.

    /u/             every unit: fuzzy search by name, filter by district and kind, sort by satisfaction
    /u/<code>       a unit: commitment, service items, contact hours, results compared with the bureau, praise,
                    the latest 评议 result, public 领导点评; the bureau's own code shows the bureau page

Figures only — no citizen's words, names or numbers (handlers/public.py builds them from counts). Reads go
through the database's read-only connections, never the writer. Two caches keep each page fast at millions of
tickets: the snapshot of figures (rebuilt in the background once older than [public] cache_seconds, the old one
served meanwhile) and each rendered page (per URL, for cache_seconds).
"""
from __future__ import annotations

import asyncio
import io
import logging
import time
from collections import OrderedDict
from pathlib import Path
from typing import AsyncIterator
from urllib.parse import urlencode

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.web import CompiledTemplates
from handlers import public, texts
from handlers.rates import percent, percent_of, proxied, stood_in, stood_in_own
from handlers.review import period_name

log = logging.getLogger(__name__)
JINJA = web.AppKey("public_jinja", jinja2.Environment)
CACHE = web.AppKey("public_cache", object)
TEMPLATES = Path(__file__).with_name("templates") / "public"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAGE_CACHE_MAX = 512        # distinct URLs kept (searches vary); the oldest go first
# How often a worker asks the database whether units or service items were edited (in any process): an edit shows
# at once in the process that made it (PublicCache.edited) and within this long in the others.
EDIT_CHECK_SECONDS = 1.0
# The figures are rebuilt after this many page lifetimes (10 min by default): the rate windows end at midnight, so
# within a day only the survey results move, and a rebuild (seconds at 1M tickets) occupies a reader thread.
SNAPSHOT_TTLS = 10


class PublicCache:
    def __init__(self, ttl: float):
        self.ttl = ttl
        self.snap: public.Snapshot | None = None
        self.snap_at = 0.0
        self._refresh: asyncio.Task | None = None
        self.pages: OrderedDict[str, tuple[float, str]] = OrderedDict()
        self.version: int | None = None     # storage.edits 'public' as of the cached pages and units
        self.checked_at = 0.0

    def edited(self) -> None:
        """Units or service items changed: look again before the next page (the workbench calls this)."""
        self.checked_at = 0.0

    async def _check_edits(self, app: web.Application) -> None:
        """Pages and the snapshot's unit rows are dropped when the directory or service items were edited; the
        figures stay (an edit changes no ticket), so this costs one small read, not a rebuild."""
        from bot.app import DB
        from storage import directory, edits
        moment = time.monotonic()
        if moment - self.checked_at < EDIT_CHECK_SECONDS:
            return
        self.checked_at = moment
        version = await app[DB].read(edits.version, edits.PUBLIC)
        if version != self.version:
            if self.version is not None:
                self.pages.clear()
                if self.snap is not None:
                    self.snap.units = {u["code"]: u for u in await app[DB].read(directory.all_units)}
            self.version = version

    async def snapshot(self, app: web.Application) -> public.Snapshot:
        """The figures: built when there are none; rebuilt behind the scenes (the old ones served meanwhile) on a
        new day — the windows end at midnight — or after SNAPSHOT_TTLS page lifetimes (survey results move)."""
        from bot.app import CLOCK, DISPATCHER
        await self._check_edits(app)
        if self.ttl == 0:
            await self._build(app)
            return self.snap
        if self.snap is None:
            # one build shared by all who wait for the first figures (the start-up warm-up and the first visitors):
            # two builds would each clear the pages, and a page kept in between would be dropped
            if self._refresh is None or self._refresh.done():
                self._refresh = asyncio.ensure_future(self._build(app))
            await asyncio.shield(self._refresh)
            return self.snap
        day = public.day_of(app[CLOCK].now(), app[DISPATCHER].calendar.tz)
        behind = (day - public.day_of(self.snap.computed_at, app[DISPATCHER].calendar.tz)).days
        stale = behind != 0 or time.monotonic() - self.snap_at > self.ttl * SNAPSHOT_TTLS
        if stale and (self._refresh is None or self._refresh.done()):
            self._refresh = asyncio.ensure_future(self._build(app))
        if behind > 1:  # yesterday's figures may be served while today's are built; last week's may not
            await asyncio.shield(self._refresh)
        return self.snap

    async def _build(self, app: web.Application) -> None:
        from bot.app import CLOCK, CONFIG, DB, DISPATCHER
        config, dispatcher = app[CONFIG], app[DISPATCHER]
        await app[DB].read(dispatcher.campaign.sync)  # surveys written in the workbench
        snap = await app[DB].read(public.snapshot, app[CLOCK].now(), dispatcher.calendar.tz,
                                  dispatcher.campaign.p.surveys if dispatcher.campaign.p else {},
                                  config.campaign.min_responses)
        self.snap, self.snap_at = snap, time.monotonic()
        self.pages.clear()  # pages show the figures they were built from: new figures, new pages

    def page(self, key: str) -> str | None:
        hit = self.pages.get(key)
        if hit and time.monotonic() < hit[0]:
            return hit[1]
        return None

    def keep(self, key: str, body: str) -> None:
        if self.ttl:
            self.pages[key] = (time.monotonic() + self.ttl, body)
            self.pages.move_to_end(key)
            while len(self.pages) > PAGE_CACHE_MAX:
                self.pages.popitem(last=False)


_COMPILED = CompiledTemplates()  # compiled once per process (bot/web.CompiledTemplates)


def setup(app: web.Application) -> None:
    """Register the public pages (one call from bot/app.py)."""
    env = aiohttp_jinja2.setup(app, loader=jinja2.FileSystemLoader(TEMPLATES), app_key=JINJA,
                               autoescape=jinja2.select_autoescape(["html"]), bytecode_cache=_COMPILED)
    env.filters["pct"] = percent
    env.filters["pctn"] = percent_of
    env.filters["stoodin"] = stood_in
    env.filters["stoodin_own"] = stood_in_own
    env.filters["proxied"] = proxied
    env.filters["num"] = lambda v, fmt="{:.1f}": "—" if v is None else fmt.format(v)
    env.globals.update(KIND_NAMES=public.KIND_NAMES, period_name=period_name, STOOD_IN_NOTE=texts.STOOD_IN_NOTE)
    app.router.add_get("/u", _to_directory)
    app.router.add_get("/u/", directory_page)
    app.router.add_get("/u/{code}", unit_page)
    app.router.add_get("/review/{period}", ranking_page)
    app.cleanup_ctx.append(_warm)


async def _to_directory(request: web.Request) -> web.Response:
    raise web.HTTPMovedPermanently("/u/")


async def _warm(app: web.Application) -> AsyncIterator[None]:
    """Build the figures once at start, in the background, so the first visitor does not wait for them."""
    from bot.app import CONFIG
    cache = app[CACHE] = PublicCache(app[CONFIG].public.cache_seconds)

    async def warm():
        try:
            await cache.snapshot(app)
        except Exception:  # noqa: BLE001 - the first page builds it again and shows the error there
            log.exception("public pages: building the figures failed")
    task = asyncio.ensure_future(warm())
    yield
    task.cancel()


async def _cached(request: web.Request, build) -> web.Response:
    cache: PublicCache = request.app[CACHE]
    key = request.path_qs
    snap = await cache.snapshot(request.app)  # first: it drops the pages an edit made stale
    body = cache.page(key)
    if body is None:
        body = await build(snap)
        from bot.app import CLOCK, DISPATCHER
        tz = request.app[DISPATCHER].calendar.tz
        if public.day_of(snap.computed_at, tz) == public.day_of(request.app[CLOCK].now(), tz):
            cache.keep(key, body)  # a page of yesterday's figures (served while today's are built) is not kept
    return web.Response(text=body, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": f"public, max-age={int(cache.ttl)}"})


def _render(request: web.Request, name: str, context: dict) -> str:
    from bot.app import CONFIG
    config = request.app[CONFIG]
    context.setdefault("org", config.bot.organisation)
    context.setdefault("bot_name", config.bot.name)
    return aiohttp_jinja2.render_string(name, request, context, app_key=JINJA)


def ranking_link(config, period: str, now: float | None = None, to: str | None = None) -> str:
    """A signed link to a period's ranking (绩效考核) for staff, opening for `digest.link_days` days like the
    digest's links (same key and signature; a "review:" week is never a digest week, so neither opens the other).
    With `to` (an openid) it names its recipient as the digest's links do: it opens only while they are staff, and
    shows the leaders' internal comments only to a leader."""
    from bot.web import recipient_tag, sign
    expires = int(time.time() if now is None else now) + config.digest.link_days * 86400
    tag = recipient_tag(config, to) if to else ""
    return f"{config.public_url}/review/{period}?" + urlencode(
        {"exp": expires, **({"to": tag} if tag else {}),
         "sig": sign(config, f"review:{period.removesuffix('.xlsx')}", "ranking", expires, tag)})


def _ranking_reader(db, config, tag: str) -> dict | None:
    """The staff member a ranking link names (None: nobody who is staff now)."""
    import hmac

    from bot.web import recipient_tag
    from handlers.vocabulary import STAFF_ROLES
    from storage import staff
    return next((row for row in staff.list_staff(db) if row["role"] in STAFF_ROLES
                 and hmac.compare_digest(recipient_tag(config, row["openid"]), tag)), None)


async def ranking_page(request: web.Request) -> web.Response:
    """The period's ranking per kind, with the districts, the bureau and the 领导点评 (signed link only): the
    internal ones only on a link made for a leader."""
    import hmac

    from bot.app import CLOCK, CONFIG, DB, DISPATCHER
    from bot.web import refused, sign, whole_number
    from handlers import review
    config = request.app[CONFIG]
    period = request.match_info["period"]
    xlsx = period.endswith(".xlsx")  # the same ranking as the XLSX of `tingjian review --out`
    period = period.removesuffix(".xlsx")
    expires, tag = whole_number(request.query.get("exp", "")), request.query.get("to", "")
    if expires is None or not hmac.compare_digest(
            sign(config, f"review:{period}", "ranking", expires, tag), request.query.get("sig", "")):
        raise refused("链接无效", "这个链接不完整或已被改动。请从公众号消息中的链接打开。")
    if expires < request.app[CLOCK].now():
        raise refused("链接已过期", f"排名链接的有效期为{config.digest.link_days}天。请联系管理员。")
    try:
        review.parse_period(period)
    except ValueError as exc:
        raise web.HTTPNotFound(text=str(exc)) from None
    reader = await request.app[DB].read(_ranking_reader, config, tag) if tag else None
    if tag and reader is None:
        raise refused("链接已失效", "这个链接发给的工作人员已不再任职。如需查看，请联系管理员。")
    internal = reader is not None and reader["role"] in review.COMMENT_ROLES
    cache: PublicCache = request.app[CACHE]
    key = f"/review/{period}?{expires}&{tag}"  # the page links the XLSX with this link's own expiry and reader
    body = None if xlsx else cache.page(key)
    if body is None:
        d = request.app[DISPATCHER]
        now = request.app[CLOCK].now()
        result = await request.app[DB].read(review.as_shown, period, d.calendar.tz, config.review.weights(),
                                            d.campaign.p.surveys, config.campaign.min_responses, now, None,
                                            config.review.min_cases)
        if not internal:
            result = review.public_comments_only(result)
        if xlsx:
            from bot.review_xlsx import write
            out = io.BytesIO()
            write(result, out, now, d.calendar.tz)
            return web.Response(body=out.getvalue(), content_type=XLSX_TYPE, headers={
                "Content-Disposition": f'attachment; filename="review-{period}.xlsx"'})
        body = _render(request, "ranking.html", {
            "r": result, "kinds": [k for k in review.REVIEWED_KINDS if any(u.kind == k for u in result.units)],
            "components": review.COMPONENTS, "names": review.COMPONENT_NAMES, "bureau": None,
            "xlsx": f"/review/{period}.xlsx?" + urlencode({"exp": expires, **({"to": tag} if tag else {}),
                                                           "sig": request.query["sig"]})})
        cache.keep(key, body)
    return web.Response(text=body, content_type="text/html", charset="utf-8",
                        headers={"Cache-Control": "private, max-age=60"})


def _bureau_code(snap: public.Snapshot) -> str | None:
    return next((c for c, u in snap.units.items() if u["kind"] == "bureau"), None)


async def directory_page(request: web.Request) -> web.Response:
    q = request.query.get("q", "").strip()[:40]
    district = request.query.get("district", "")
    kind = request.query.get("kind", "")
    sort = request.query.get("sort", "")
    if kind and kind not in public.LISTED_KINDS:
        kind = ""

    async def build(snap: public.Snapshot) -> str:
        rows = public.directory_rows(snap, q, district, kind, sort)
        districts = sorted({u["district"] for u in snap.units.values() if u["district"]})
        sort_link = "?" + urlencode({k: v for k, v in (("q", q), ("district", district), ("kind", kind),
                                                        ("sort", "" if sort == "satisfaction" else "satisfaction"))
                                     if v})
        return _render(request, "directory.html", {
            "rows": rows, "q": q, "district": district, "kind": kind, "sort": sort, "districts": districts,
            "kinds": public.LISTED_KINDS, "sort_link": sort_link, "bureau": _bureau_code(snap),
            "window": snap.bureau["quarter"], "tz": _tz(request), "total": sum(
                1 for u in snap.units.values() if u["kind"] in public.LISTED_KINDS)})
    return await _cached(request, build)


async def unit_page(request: web.Request) -> web.Response:
    from bot.app import CONFIG, DB, DISPATCHER
    from storage import review as review_store, services
    code = request.match_info["code"]
    cache: PublicCache = request.app[CACHE]
    snap = await cache.snapshot(request.app)
    unit = snap.units.get(code)
    if unit is None:
        raise web.HTTPNotFound(text="没有这个单位。请从单位名录查找：/u/", content_type="text/plain")
    config = request.app[CONFIG]
    tz = _tz(request)

    def extras(db):  # the unit's own published text: small reads by key
        return (services.for_unit(db, unit), review_store.comments(db, unit_code=code, public_only=True, limit=5))

    async def build(snap: public.Snapshot) -> str:
        items, comments = await request.app[DB].read(extras)
        if unit["kind"] == "bureau":
            policy = request.app[DISPATCHER].policy
            recent = await request.app[DB].read(lambda db: review_store.comments(db, public_only=True, limit=5))
            return _render(request, "bureau.html", {
                "unit": unit, "commitment": config.bot.commitment, "items": items, "days": policy.days,
                "month": snap.bureau["month"], "quarter": snap.bureau["quarter"], "tz": tz,
                "boards": _boards(snap, config.public.min_rated), "min_rated": config.public.min_rated,
                "comments": [(c, snap.units.get(c["unit_code"], {}).get("name", "")) for c in recent],
                "units": sum(1 for u in snap.units.values() if u["kind"] in public.LISTED_KINDS)})
        parent = snap.units.get(unit["parent"]) if unit["parent"] else None
        return _render(request, "unit.html", {
            "unit": unit, "parent": parent, "items": items, "comments": comments, "tz": tz,
            "windows": [(snap.window(code, key), snap.bureau[key]) for key, _, _ in public.WINDOWS],
            "survey": snap.surveys.get(code), "bureau": _bureau_code(snap),
            "commitment": config.bot.commitment})
    return await _cached(request, build)


def _boards(snap: public.Snapshot, min_rated: int) -> dict[str, tuple[str, list]]:
    """服务标兵 and the best satisfaction of the last month; of the last three months when the month has none."""
    out = {}
    for what in ("praise", "satisfaction"):
        for key, _, label in public.WINDOWS:
            rows = public.top_units(snap, key, 5, min_rated)[what]
            if rows or key == public.WINDOWS[-1][0]:
                out[what] = (label, rows)
                break
    return out


def _tz(request: web.Request):
    from bot.app import DISPATCHER
    return request.app[DISPATCHER].calendar.tz


def link(public_url: str, code: str = "") -> str:
    """The page's address for messages (办事公开 menu, welcome)."""
    return f"{public_url}/u/{code}"

