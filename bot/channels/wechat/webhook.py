"""The Official Account's server URL: GET verification and POSTed messages in plaintext, compatible and safe mode.

Every rejection is a 4xx with a log line, and nothing is stored: only a message whose signature checks out,
decrypts for our AppID and has the fields WeChat always sends reaches the receiver.
"""
from __future__ import annotations

import logging
import time
from typing import Callable

from aiohttp import web

from bot import metrics
from bot.channels.wechat.crypto import Crypto, CryptoError
from bot.channels.wechat.xml import XmlError, parse_fields, render_text
from bot.config import WechatConfig
from bot.receiver import Receiver
from storage.inbound import Replay, request_key
from handlers.messages import Inbound

log = logging.getLogger(__name__)

XML_TYPES = ("text/xml", "application/xml")
# a passive reply's one header, as web.Response(text=…, content_type="application/xml") writes it (aiohttp copies it)
_XML_HEADERS = {"Content-Type": "application/xml; charset=utf-8"}
EVENT_NAMES = {"subscribe": "subscribe", "unsubscribe": "unsubscribe", "scan": "scan", "click": "click",
               "view": "view"}


class BadRequest(Exception):
    def __init__(self, status: int, reason: str):
        super().__init__(reason)
        self.status = status
        self.reason = reason
        self.request: str | None = None  # set once the URL's signature checked out: the request is spent


def to_inbound(fields: dict[str, str]) -> Inbound:
    """WeChat's fields -> Inbound. Raises BadRequest for anything WeChat would never send."""
    for name in ("ToUserName", "FromUserName", "CreateTime", "MsgType"):
        if not fields.get(name):
            raise BadRequest(400, f"missing field {name}")
    try:
        created = int(fields["CreateTime"])
    except ValueError:
        raise BadRequest(400, "CreateTime is not a number") from None
    openid = fields["FromUserName"]
    if len(openid) > 128:
        raise BadRequest(400, "FromUserName too long")
    msg_type = fields["MsgType"].lower()
    common = {"openid": openid, "created_at": created, "raw_type": msg_type, "msg_id": fields.get("MsgId") or None}
    if msg_type == "text":
        return Inbound(kind="text", text=fields.get("Content", ""), **common)
    if msg_type == "voice":
        return Inbound(kind="voice", text=fields.get("Recognition", ""), media_id=fields.get("MediaId"), **common)
    if msg_type == "image":
        return Inbound(kind="image", media_id=fields.get("MediaId"), media_url=fields.get("PicUrl"), **common)
    if msg_type in ("video", "shortvideo"):
        return Inbound(kind="video", media_id=fields.get("MediaId"), **common)
    if msg_type == "location":
        try:
            location = {"lat": float(fields.get("Location_X", "")), "lon": float(fields.get("Location_Y", "")),
                        "scale": fields.get("Scale"), "label": fields.get("Label", "")}
        except ValueError:
            raise BadRequest(400, "bad Location_X/Location_Y") from None
        return Inbound(kind="location", location=location, **common)
    if msg_type == "link":
        link = {"title": fields.get("Title", ""), "description": fields.get("Description", ""),
                "url": fields.get("Url", "")}
        return Inbound(kind="link", link=link, **common)
    if msg_type == "event":
        event = fields.get("Event", "").lower()
        key = fields.get("EventKey") or None
        scene = None
        if event == "subscribe" and key and key.startswith("qrscene_"):
            scene = key[len("qrscene_"):] or None
        elif event == "scan":
            scene = key
        return Inbound(kind="event", event=EVENT_NAMES.get(event, "other"), scene=scene, event_key=key,
                       **{**common, "raw_type": f"event:{event}"})
    return Inbound(kind="unknown", **common)


class WechatWebhook:
    def __init__(self, config: WechatConfig, receiver: Receiver, max_body: int = 65536,
                 now: Callable[[], float] = time.time):
        self.config = config
        self.max_body = max_body
        self.crypto = Crypto(config.token, config.aes_key, config.appid)
        self.receiver = receiver
        self.now = now

    def add_routes(self, app: web.Application, path: str = "/wechat") -> None:
        app.router.add_get(path, self.verify)
        app.router.add_post(path, self.post)

    def _check_query(self, request: web.Request) -> tuple[str, str]:
        q = request.query
        timestamp, nonce = q.get("timestamp", ""), q.get("nonce", "")
        if not timestamp.isdigit() or not nonce or len(nonce) > 64:
            raise BadRequest(400, "missing or bad timestamp/nonce")
        if not self.crypto.check_signature(q.get("signature"), timestamp, nonce):
            raise BadRequest(403, "bad signature")
        if self.config.check_timestamp and abs(self.now() - int(timestamp)) > self.config.timestamp_tolerance_seconds:
            raise BadRequest(403, "stale timestamp")
        return timestamp, nonce

    async def verify(self, request: web.Request) -> web.Response:
        try:
            self._check_query(request)
        except BadRequest as exc:
            return self._reject(request, exc)
        return web.Response(text=request.query.get("echostr", ""))

    async def post(self, request: web.Request) -> web.Response:
        try:
            inbound, encrypted, to_user = await self._read(request)
        except BadRequest as exc:
            if exc.request is not None:  # a genuinely signed URL with a bad body: it must not be usable again
                await self.receiver.spend(exc.request)
            return self._reject(request, exc)
        metrics.message(f"event:{inbound.event}" if inbound.kind == "event" else inbound.kind)
        q = request.query
        try:
            reply = await self.receiver.receive(inbound, request_key(q["timestamp"], q["nonce"]))
        except Replay:
            return self._reject(request, BadRequest(403, "replayed request (signature seen before)"))
        if reply is None:
            return web.Response(text="success")
        body = render_text(inbound.openid, to_user, reply.text)
        if encrypted:
            body = self.crypto.encrypt_envelope(body, request.query.get("nonce"))
        return web.Response(body=body.encode(), headers=_XML_HEADERS)  # (= text=body, content_type=…: ~0.5 µs less)

    async def _read(self, request: web.Request) -> tuple[Inbound, bool, str]:
        timestamp, nonce = self._check_query(request)
        if self.now() - int(timestamp) > self.config.dedupe_days * 86400:
            # Without the freshness check (safe mode may run so), a signed request is remembered dedupe_days
            # (scheduler.prune_requests), as its message's id is: an older one could be a replay we no longer
            # recognise, its message handled twice (a leader's 同意延期, a 确认撤回). WeChat never sends one so old.
            raise BadRequest(403, "timestamp older than the replay memory (wechat.dedupe_days)")
        try:
            return await self._read_signed(request, timestamp, nonce)
        except BadRequest as exc:
            exc.request = request_key(timestamp, nonce)
            raise

    async def _read_signed(self, request: web.Request, timestamp: str, nonce: str) -> tuple[Inbound, bool, str]:
        if request.content_length is not None and request.content_length > self.max_body:
            raise BadRequest(413, f"body of {request.content_length} bytes")
        if request.content_type not in XML_TYPES:
            raise BadRequest(415, f"content type {request.content_type!r}")
        try:
            raw = await request.read()
        except web.HTTPRequestEntityTooLarge:
            raise BadRequest(413, "body too large") from None
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            raise BadRequest(400, "body is not UTF-8") from None
        try:
            fields = parse_fields(text)
        except XmlError as exc:
            raise BadRequest(400, str(exc)) from None
        encrypted = request.query.get("encrypt_type", "raw").lower() == "aes"
        if self.crypto.can_encrypt and not encrypted and not self.config.allow_plaintext:
            # A plaintext body is not covered by any signature: with a key configured, only safe mode is taken.
            raise BadRequest(403, "plaintext message but wechat.aes_key is set (wechat.allow_plaintext = false)")
        if encrypted or ("Encrypt" in fields and "MsgType" not in fields):
            if not self.crypto.can_encrypt:
                raise BadRequest(400, "encrypted message but wechat.aes_key is not configured")
            encrypt = fields.get("Encrypt", "")
            if not self.crypto.check_msg_signature(request.query.get("msg_signature"), timestamp, nonce, encrypt):
                raise BadRequest(403, "bad msg_signature")
            try:
                fields = parse_fields(self.crypto.decrypt(encrypt))
            except (CryptoError, XmlError) as exc:
                raise BadRequest(400, str(exc)) from None
            encrypted = True
        inbound = to_inbound(fields)
        openid = request.query.get("openid")
        if openid and openid != inbound.openid:
            raise BadRequest(400, "openid in the URL does not match FromUserName")
        return inbound, encrypted, fields["ToUserName"]

    @staticmethod
    def _reject(request: web.Request, exc: BadRequest) -> web.Response:
        metrics.REJECTED.labels(str(exc.status)).inc()
        log.warning("rejected %s %s from %s: %s", request.method, request.path, request.remote, exc.reason)
        return web.Response(status=exc.status, text=exc.reason)
