"""Every attachment of a ticket, for the staff who may see the ticket: a page at /a/{number} (images and voice
from our stored copies (bot/media.py), voice recognition text, locations, links) and each file at
/a/{number}/{index}. Until a copy is stored an image is fetched live through media/get; after WeChat's 3 days
without a copy the attachment is shown as expired.

Opened from 详情 by a signed link that names its viewer (an HMAC of the openid, as the digest links do) and lasts
LINK_SECONDS, or from the workbench by a signed-in session. Either way the viewer's scope is checked again on
every request: a removed staff member's link is refused, a ticket no longer in scope is 404."""
from __future__ import annotations

import asyncio
import hmac
import json
import logging
from urllib.parse import urlencode

import aiohttp
import aiohttp_jinja2
from aiohttp import web

from bot.channels.wechat.api import WechatApiError
from bot.media import EXTENSIONS, sniff
from bot.web import LinkError, _mac, recipient_tag, whole_number
from bot.web import auth
from bot.web.workbench import _desk, page_error
from handlers import privacy, texts
from handlers.desk import kind_name
from handlers.vocabulary import STAFF_ROLES
from storage import media as media_store
from storage import staff, tickets, users, websessions

log = logging.getLogger(__name__)

LINK_SECONDS = 30 * 60
SHOWN_INLINE = ("image",)  # fetched through media/get and shown on the page


def sign(config, number: str, expires: int, tag: str) -> str:
    return _mac(config, json.dumps(["attachments", number, expires, tag]))


def link_query(config, number: str, openid: str, now: float) -> str:
    """The signed query string of a link for `openid` to `number`'s attachments (raises LinkError without a key)."""
    expires = int(now) + LINK_SECONDS
    tag = recipient_tag(config, openid)
    return urlencode({"exp": expires, "to": tag, "sig": sign(config, number, expires, tag)})


class _Refused(Exception):
    def __init__(self, title: str, detail: str, status: int):
        super().__init__(title)
        self.title, self.detail, self.status = title, detail, status


async def _viewer(request: web.Request, number: str) -> tuple[dict, dict, str]:
    """(the viewer's user row, the ticket, the query string to carry on) or _Refused."""
    from bot.app import CONFIG
    config, q, t = request.app[CONFIG], request.query, auth.now(request)
    desk = _desk(request)
    if "sig" in q:
        expires, tag = whole_number(q.get("exp", "")), q.get("to", "")
        try:
            good = expires is not None and bool(tag) and hmac.compare_digest(
                sign(config, number, expires, tag), q.get("sig", ""))
        except LinkError:
            good = False
        if not good:
            raise _Refused(*texts.ATTACH_LINK_BAD, 403)
        if expires < t:
            raise _Refused(*texts.ATTACH_LINK_EXPIRED, 403)

        def find(db):
            for row in staff.list_staff(db):
                if row["role"] in STAFF_ROLES and hmac.compare_digest(recipient_tag(config, row["openid"]), tag):
                    return users.get(db, row["openid"])
            return None
        user = await auth.read(request, find)
        if user is None:
            raise _Refused(*texts.ATTACH_LINK_GONE, 403)
        carry = "?" + urlencode({"exp": q["exp"], "to": tag, "sig": q["sig"]})
    else:
        v = await auth.viewer(request)
        if v is None:
            raise _Refused(*texts.ATTACH_LINK_BAD, 403)
        user, carry = v.user, ""

    def load(db):
        ticket = tickets.get(db, number)
        return ticket if ticket is not None and desk.in_scope(db, user, ticket) else None
    ticket = await auth.read(request, load)
    if ticket is None:
        raise _Refused(*texts.ATTACH_NOT_FOUND, 404)
    return user, ticket, carry


def _location(a: dict) -> dict:
    loc = a.get("location") or {}
    lat, lon = loc.get("lat"), loc.get("lon")
    return {"lat": lat, "lon": lon, "label": loc.get("label") or "",
            "map": f"https://uri.amap.com/marker?position={lon},{lat}" if lat is not None and lon is not None else ""}


async def copies(request: web.Request, ticket: dict) -> dict[str, dict]:
    return await auth.read(request, media_store.of, [a.get("media_id") for a in ticket["attachments"]])


async def page(request: web.Request) -> web.Response:
    number = request.match_info["number"].upper()
    try:
        user, ticket, carry = await _viewer(request, number)
    except _Refused as r:
        return page_error(request, r.title, r.detail, r.status)
    await auth.write(request, websessions.audit, auth.now(request), user["openid"], "view_attachments", number,
                     None, request.remote or "")
    rows, now = await copies(request, ticket), auth.now(request)
    items = []
    for i, a in enumerate(privacy.as_staff_read(ticket)["attachments"], 1):  # staff only: numbers masked
        kind = a.get("kind") or ""
        state = media_store.state(a, rows.get(a.get("media_id") or ""), now)
        has_file = state in ("stored", "fetching")
        items.append({"index": i, "kind": kind, "name": texts.MEDIA_NAMES.get(kind, "附件"), "state": state,
                      "src": f"/a/{number}/{i}{carry}" if has_file and kind in SHOWN_INLINE else "",
                      "audio": f"/a/{number}/{i}{carry}" if state == "stored" and kind == "voice" else "",
                      "video": f"/a/{number}/{i}{carry}" if state == "stored" and kind == "video" else "",
                      "text": a.get("text") or "", "location": _location(a) if kind == "location" else None,
                      "link": a.get("link") if kind == "link" else None})
    return aiohttp_jinja2.render_template("attachments.html", request, {
        "t": ticket, "items": items, "kind": kind_name(ticket), "texts": texts,
        "back": f"/w/t/{number}" if not carry else ""})


async def media(request: web.Request) -> web.StreamResponse:
    """One attachment's bytes for staff: our stored copy, or while it is being copied, through media/get."""
    number = request.match_info["number"].upper()
    try:
        _, ticket, _ = await _viewer(request, number)
    except _Refused as r:
        return page_error(request, r.title, r.detail, r.status)
    return await send_file(request, ticket, request.match_info["index"])


async def send_file(request: web.Request, ticket: dict, index: str) -> web.StreamResponse:
    """The file of attachment `index` (1-based) of a ticket the caller has already been allowed to see."""
    from bot.app import API, MEDIA
    number = ticket["number"]
    i = whole_number(index)
    found = ticket["attachments"][i - 1] if i is not None and 1 <= i <= len(ticket["attachments"]) else None
    if found is None or found.get("kind") not in media_store.KINDS or not found.get("media_id"):
        return page_error(request, *texts.ATTACH_NOT_FOUND, 404)
    row = (await copies(request, {"attachments": [found]})).get(found["media_id"])
    state = media_store.state(found, row, auth.now(request))
    headers = {"Cache-Control": "private, no-store", "X-Content-Type-Options": "nosniff"}
    if state == "stored" and found["kind"] == "video":  # from the file, with Range: phones play video in parts
        path = request.app[MEDIA].store.path(row["sha256"])
        if path.is_file():
            return web.FileResponse(path, headers={**headers, "Content-Type": row["content_type"]})
        log.error("stored copy of %s attachment %s is missing from %s", number, index, path.parent)
        return page_error(request, *texts.ATTACH_MEDIA_FAILED, 502)
    if state == "stored":
        store = request.app[MEDIA].store
        body = await asyncio.get_running_loop().run_in_executor(None, store.read, row["sha256"])
        if body is not None:
            if found["kind"] == "voice":  # browsers do not play AMR: it is downloaded
                ext = EXTENSIONS.get(row["content_type"], "bin")
                headers["Content-Disposition"] = f'attachment; filename="{number}-{index}.{ext}"'
            return web.Response(body=body, content_type=row["content_type"], headers=headers)
        log.error("stored copy of %s attachment %s is missing from %s", number, index, store.folder)
        return page_error(request, *texts.ATTACH_MEDIA_FAILED, 502)
    if state in ("expired", "refused"):
        return page_error(request, *(texts.ATTACH_EXPIRED if state == "expired" else texts.ATTACH_REFUSED), 410)
    if found["kind"] not in SHOWN_INLINE:
        return page_error(request, *texts.ATTACH_FETCHING, 404)
    try:  # not copied yet: straight from WeChat, as before copies were kept
        body, kind = await request.app[API].get_media(found["media_id"])
    except (WechatApiError, aiohttp.ClientError, asyncio.TimeoutError) as exc:
        log.warning("media/get for %s attachment %s failed: %s", number, index, exc)
        return page_error(request, *texts.ATTACH_MEDIA_FAILED, 502)
    kind = sniff("image", body) or "application/octet-stream"  # never let the platform's answer be a page here
    return web.Response(body=body, content_type=kind, headers=headers)


def setup(app: web.Application) -> None:
    app.router.add_get("/a/{number}", page)
    app.router.add_get("/a/{number}/{index}", media)
