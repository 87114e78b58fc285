"""A local stand-in for WeChat's servers: the api.weixin.qq.com endpoints the bot calls, and the half of WeChat
that posts users' messages and events to the bot's webhook.

The official paths, request bodies, answers and error codes are kept (HTTP 200 with {"errcode", "errmsg"} on
errors, as api.weixin.qq.com does), so the bot's real API client and webhook run against it unchanged. State is
in memory: access tokens, QR tickets, followers, each user's last interaction (the 48-hour window) and every
message pushed to a user. The clock is injectable so tests can move time.

Endpoints (mount with `Sandbox.add_routes(app)` in the same app as the bot, at the root):
  GET  /cgi-bin/token                  access_token; a new one invalidates the previous one after 5 minutes
  POST /cgi-bin/stable_token           the same token while valid; force_refresh issues a new one
  POST /cgi-bin/message/custom/send    customer-service message, within 48 h of the user's last interaction
  POST /cgi-bin/message/template/send  template message, to followers, outside the window too
  POST /cgi-bin/qrcode/create          parameter QR code tickets
  GET  /cgi-bin/showqrcode             the QR code as PNG
  POST /cgi-bin/menu/create            the custom menu, validated as the platform does (3 buttons, 5 sub-buttons …)
  GET  /cgi-bin/menu/get               the menu set, in menu/get's shape (46003 when there is none)
  GET  /cgi-bin/menu/delete            remove the menu
  GET  /cgi-bin/media/get              the bytes of an image or voice message a user sent; for a video, JSON
                                       {"video_url": …} as the official getMedia answers (40007 when unknown or
                                       older than 3 days)
  GET  /sandbox/video/{key}            the video behind a video_url (a download link: no access_token)
  GET  /connect/oauth2/authorize       网页授权 (open.weixin.qq.com): back to redirect_uri with a code and the state,
                                       as the WeChat user whose in-app browser this is (see below)
  GET  /sns/oauth2/access_token        a code for the user's openid: single use, valid 5 minutes (40029, 40163)
  GET  /sandbox/menu                   the menu without an access_token (the simulator draws the menu bar)
  GET  /sandbox/messages               what was pushed to users (for the simulator and tests)
  POST /sandbox/send                   act as a WeChat user: post a message or event to the bot's webhook
  GET  /sandbox/qrcode                 a permanent QR ticket for a scene, without an access_token (simulator)
  GET  /sandbox/users                  followers and their 48-hour window
  POST /sandbox/oauth/as               choose which user this browser is, then go on with the authorisation

Which WeChat user opens an authorisation page: in WeChat it is whoever holds the phone. The sandbox reads it from
the cookie `sandbox_openid` (a test sets it; the page asks once and sets it otherwise), so snsapi_base goes back
silently, as it does in WeChat.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import io
import itertools
import json
import logging
import random
import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Callable
from urllib.parse import quote

import aiohttp
import segno
from aiohttp import web

from bot.channels.wechat.crypto import Crypto, CryptoError, sign
from bot.channels.wechat.xml import XmlError, parse_fields

log = logging.getLogger(__name__)

TOKEN_LIFETIME = 7200
TOKEN_GRACE = 300              # the previous access_token keeps working this long after a new one is fetched
STABLE_EARLY_RENEW = 300       # stable_token hands out a new token in the last 5 minutes of the old one
FORCE_REFRESH_GAP = 30         # stable_token force_refresh within 30 s of the last one does not refresh
WINDOW_SECONDS = 48 * 3600     # customer-service messages only within 48 h of the user's last interaction
MAX_TEXT_BYTES = 2048
OAUTH_CODE_SECONDS = 300       # a 网页授权 code is valid 5 minutes, once
OAUTH_SCOPES = ("snsapi_base", "snsapi_userinfo")
OAUTH_COOKIE = "sandbox_openid"
TEMP_QR_DEFAULT = 60
TEMP_QR_MAX = 2592000          # 30 days
MEDIA_KEPT_SECONDS = 3 * 86400  # temporary media users send are kept 3 days
PERMANENT_SCENE_ID_MAX = 100000
SCENE_STR_MAX = 64
OUT_OF_SERVICE = "该公众号暂时无法提供服务，请稍后再试"
# Custom menu limits (自定义菜单): 1-3 buttons, 1-5 sub-buttons; names in bytes of UTF-8.
MENU_BUTTONS, MENU_SUB_BUTTONS = 3, 5
MENU_NAME_BYTES, MENU_SUB_NAME_BYTES, MENU_KEY_BYTES, MENU_URL_BYTES = 16, 60, 128, 1024
MENU_TYPES = ("click", "view", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album",
              "pic_weixin", "location_select", "media_id", "article_id", "article_view_limited", "miniprogram")

ERRORS = {
    0: "ok",
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40008: "invalid message type",
    40013: "invalid appid",
    40016: "invalid button size",
    40017: "invalid button type",
    40018: "invalid button name size",
    40019: "invalid button key size",
    40020: "invalid button url size",
    40023: "invalid sub button size",
    40024: "invalid sub button type",
    40025: "invalid sub button name size",
    40026: "invalid sub button key size",
    40027: "invalid sub button url size",
    40007: "invalid media_id",
    40037: "invalid template_id",
    40097: "invalid args",
    40125: "invalid appsecret",
    40029: "invalid code",
    40163: "code been used",
    41008: "missing code",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    42001: "access_token expired",
    43004: "require subscribe",
    44002: "empty post data",
    44004: "empty content",
    45002: "content size out of limit",
    45008: "article size out of limit",
    45015: "response out of time limit or subscription is canceled",
    46003: "menu no exist",
    47001: "data format error",
}

MESSAGE_TYPES = ("text", "image", "voice", "video", "shortvideo", "location", "link")
EVENT_TYPES = ("subscribe", "unsubscribe", "scan", "click", "view")
# What opens the 48-hour window: messages, following, scanning a QR code, a click menu. Not VIEW, not leaving.
INTERACTIONS = set(MESSAGE_TYPES) | {"subscribe", "scan", "click"}


class WechatError(Exception):
    def __init__(self, errcode: int, detail: str = ""):
        super().__init__(errcode, detail)
        self.errcode = errcode
        self.detail = detail


class InputError(ValueError):
    """A /sandbox/send request the sandbox cannot turn into something WeChat would send."""


@dataclass
class _Token:
    value: str
    kind: str                  # "token" (GET /cgi-bin/token) or "stable" (POST /cgi-bin/stable_token)
    issued_at: float
    expires_at: float
    revoked_at: float | None = None   # invalid (40001) from this time on


@dataclass
class _Ticket:
    ticket: str
    url: str
    action_name: str
    scene: str                 # scene_str, or scene_id as text
    created_at: float
    expires_at: float | None   # None: permanent


@dataclass
class _User:
    openid: str
    following: bool = False
    followed_at: float | None = None
    last_interaction: float | None = None
    last_event_time: int = 0
    scene: str | None = None


@dataclass
class PushedMessage:
    id: int
    openid: str
    kind: str                  # text | template | news | image | link
    at: float
    content: str = ""
    data: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"id": self.id, "openid": self.openid, "kind": self.kind, "content": self.content,
                               "at": self.at}
        if self.data is not None:
            out["data"] = self.data
        out.update(self.extra)
        return out


def _cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def _nonce() -> str:
    return "".join(random.choices("0123456789", k=10))


class Sandbox:
    """One Official Account as WeChat's servers see it."""

    def __init__(self, token: str, aes_key: str, appid: str, appsecret: str, webhook_url: str,
                 clock: Callable[[], float] = time.time, *, original_id: str | None = None,
                 mode: str | None = None, reply_timeout: float = 5.0, tries: int = 3,
                 oauth_domain: str | None = None):
        """mode: "plain", "compat" or "safe"; by default safe when aes_key is set, else plain.
        reply_timeout and tries: WeChat waits 5 s for an answer and tries three times in all."""
        self.token = token
        self.appid = appid
        self.appsecret = appsecret
        self.webhook_url = webhook_url
        self.clock = clock
        self.crypto = Crypto(token, aes_key, appid)
        self.mode = mode or ("safe" if aes_key else "plain")
        if self.mode not in ("plain", "compat", "safe"):
            raise ValueError(f"mode must be plain, compat or safe, not {self.mode!r}")
        if self.mode != "plain" and not self.crypto.can_encrypt:
            raise ValueError(f"{self.mode} mode needs an aes_key")
        self.original_id = original_id or "gh_" + hashlib.sha1(appid.encode()).hexdigest()[:12]
        self.reply_timeout = reply_timeout
        self.tries = tries
        self._tokens: dict[str, _Token] = {}
        self._latest: dict[str, str] = {}          # kind -> newest token value
        self._last_force: float | None = None
        self._tickets: dict[str, _Ticket] = {}
        self._users: dict[str, _User] = {}
        self._messages: list[PushedMessage] = []
        self._media: dict[str, tuple[bytes, str]] = {}   # media_id -> (bytes, content type) of media users sent
        self._media_at: dict[str, float] = {}            # media_id -> when it was sent (kept MEDIA_KEPT_SECONDS)
        self._video_keys: dict[str, str] = {}            # media_id -> the key of its video_url
        self._message_ids = itertools.count(1)
        self._template_ids = itertools.count(random.randint(2_000_000_000, 3_000_000_000))
        self._msg_ids = itertools.count(random.randint(10**18, 4 * 10**18))
        self._session: aiohttp.ClientSession | None = None
        self.menu: list[dict[str, Any]] | None = None   # the custom menu's buttons, once menu/create was called
        self.boot_id = secrets.token_hex(6)     # message ids restart with the process; clients can tell
        self.outage = False                     # True: every API call answers -1 "system error" (tests, demos)
        # 网页授权域名: the host redirect_uri must have (None: any); codes issued, by value
        self.oauth_domain = oauth_domain
        self._codes: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ wiring

    def add_routes(self, app: web.Application) -> None:
        r = app.router
        r.add_get("/cgi-bin/token", self.handle_token)
        r.add_post("/cgi-bin/stable_token", self.handle_stable_token)
        r.add_post("/cgi-bin/message/custom/send", self.handle_custom_send)
        r.add_post("/cgi-bin/message/template/send", self.handle_template_send)
        r.add_post("/cgi-bin/qrcode/create", self.handle_qrcode_create)
        r.add_get("/cgi-bin/showqrcode", self.handle_showqrcode)
        r.add_post("/cgi-bin/menu/create", self.handle_menu_create)
        r.add_get("/cgi-bin/menu/get", self.handle_menu_get)
        r.add_get("/cgi-bin/menu/delete", self.handle_menu_delete)
        r.add_get("/cgi-bin/media/get", self.handle_media_get)
        r.add_get("/sandbox/video/{key}", self.handle_video_download)
        r.add_get("/connect/oauth2/authorize", self.handle_authorize)
        r.add_post("/sandbox/oauth/as", self.handle_authorize_as)
        r.add_get("/sns/oauth2/access_token", self.handle_oauth_token)
        r.add_get("/sandbox/menu", self.handle_sandbox_menu)
        r.add_get("/sandbox/messages", self.handle_messages)
        r.add_post("/sandbox/send", self.handle_send)
        r.add_get("/sandbox/qrcode", self.handle_sandbox_qrcode)
        r.add_get("/sandbox/users", self.handle_users)
        app.on_cleanup.append(self._on_cleanup)

    async def _on_cleanup(self, app: web.Application) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------ state helpers (also for tests, demo)

    def now(self) -> float:
        return float(self.clock())

    def user(self, openid: str) -> _User:
        if openid not in self._users:
            self._users[openid] = _User(openid)
        return self._users[openid]

    def follow(self, openid: str, at: float | None = None) -> None:
        """Make openid a follower who has just interacted (seeding for tests and demos; sends nothing)."""
        u = self.user(openid)
        at = self.now() if at is None else at
        u.following, u.followed_at, u.last_interaction = True, at, at

    def messages(self, openid: str | None = None, after: int = 0) -> list[PushedMessage]:
        return [m for m in self._messages if m.id > after and (openid is None or m.openid == openid)]

    # ------------------------------------------------------------------ errors and JSON

    @staticmethod
    def _error(errcode: int, detail: str = "") -> web.Response:
        msg = ERRORS.get(errcode, "error")
        if detail:
            msg = f"{msg}: {detail}"
        msg += f" rid: {secrets.token_hex(4)}-{secrets.token_hex(4)}"
        return web.json_response({"errcode": errcode, "errmsg": msg})

    @staticmethod
    def _ok(**extra: Any) -> web.Response:
        return web.json_response({"errcode": 0, "errmsg": "ok", **extra})

    @staticmethod
    async def _json_body(request: web.Request) -> dict[str, Any]:
        raw = await request.read()
        if not raw.strip():
            raise WechatError(44002)
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            raise WechatError(47001) from None
        if not isinstance(body, dict):
            raise WechatError(47001)
        return body

    # ------------------------------------------------------------------ access tokens

    def _check_credentials(self, grant_type: Any, appid: Any, secret: Any) -> None:
        if grant_type != "client_credential":
            raise WechatError(40002)
        if not appid:
            raise WechatError(41002)
        if appid != self.appid:
            raise WechatError(40013)
        if not secret:
            raise WechatError(41004)
        if secret != self.appsecret:
            raise WechatError(40125)

    def _issue(self, kind: str, revoke_previous_at: float | None) -> _Token:
        now = self.now()
        previous = self._tokens.get(self._latest.get(kind, ""))
        if previous is not None and revoke_previous_at is not None:
            if previous.revoked_at is None or previous.revoked_at > revoke_previous_at:
                previous.revoked_at = revoke_previous_at
        value = secrets.token_urlsafe(96)
        tok = _Token(value, kind, now, now + TOKEN_LIFETIME)
        self._tokens[value] = tok
        self._latest[kind] = value
        return tok

    def _token_answer(self, tok: _Token) -> web.Response:
        return web.json_response({"access_token": tok.value, "expires_in": int(tok.expires_at - self.now())})

    async def handle_token(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            self._check_credentials(q.get("grant_type"), q.get("appid"), q.get("secret"))
        except WechatError as exc:
            return self._error(exc.errcode, exc.detail)
        return self._token_answer(self._issue("token", self.now() + TOKEN_GRACE))

    async def handle_stable_token(self, request: web.Request) -> web.Response:
        try:
            body = await self._json_body(request)
            self._check_credentials(body.get("grant_type"), body.get("appid"), body.get("secret"))
        except WechatError as exc:
            return self._error(exc.errcode, exc.detail)
        now = self.now()
        force = body.get("force_refresh") in (True, "true", 1)
        current = self._tokens.get(self._latest.get("stable", ""))
        usable = current is not None and current.revoked_at is None and now < current.expires_at
        if force:
            if usable and self._last_force is not None and now - self._last_force < FORCE_REFRESH_GAP:
                return self._token_answer(current)      # too soon after the last forced refresh: no refresh
            self._last_force = now
            return self._token_answer(self._issue("stable", now))   # the previous token stops working now
        if usable and now < current.expires_at - STABLE_EARLY_RENEW:
            return self._token_answer(current)
        # in its last five minutes (or gone) the platform renews; the old one still works until it expires
        return self._token_answer(self._issue("stable", current.expires_at if usable else None))

    def _check_access_token(self, request: web.Request) -> None:
        if self.outage:
            raise WechatError(-1, "simulated outage")
        value = request.query.get("access_token")
        if not value:
            raise WechatError(41001)
        tok = self._tokens.get(value)
        now = self.now()
        if tok is None:
            raise WechatError(40001)
        if now >= tok.expires_at:
            raise WechatError(42001)
        if tok.revoked_at is not None and now >= tok.revoked_at:
            raise WechatError(40001)

    # ------------------------------------------------------------------ pushing messages to users

    def push(self, openid: str, kind: str, content: str, data: dict | None = None, **extra: Any) -> PushedMessage:
        """Record a message delivered to a user (the API handlers call it; tests and demos may too)."""
        msg = PushedMessage(next(self._message_ids), openid, kind, self.now(), content, data, extra)
        self._messages.append(msg)
        return msg

    async def handle_custom_send(self, request: web.Request) -> web.Response:
        try:
            self._check_access_token(request)
            body = await self._json_body(request)
            openid, kind, content, extra = self._parse_custom(body)
        except WechatError as exc:
            return self._error(exc.errcode, exc.detail)
        self.push(openid, kind, content, **extra)
        return self._ok()

    def _parse_custom(self, body: dict[str, Any]) -> tuple[str, str, str, dict[str, Any]]:
        openid = body.get("touser")
        if not isinstance(openid, str) or openid not in self._users:
            raise WechatError(40003)
        kind = body.get("msgtype")
        part = body.get(kind) if isinstance(kind, str) else None
        if kind not in ("text", "news", "image", "link") or not isinstance(part, dict):
            raise WechatError(40008 if kind not in ("text", "news", "image", "link") else 47001)
        extra: dict[str, Any] = {}
        if kind == "text":
            content = part.get("content")
            if not isinstance(content, str):
                raise WechatError(47001)
            if not content:
                raise WechatError(44004)
            if len(content.encode("utf-8")) > MAX_TEXT_BYTES:
                raise WechatError(45002, f"{len(content.encode('utf-8'))} bytes")
        elif kind == "news":
            articles = part.get("articles")
            if not isinstance(articles, list) or not articles or not all(isinstance(a, dict) for a in articles):
                raise WechatError(47001)
            if len(articles) > 1:
                raise WechatError(45008)
            a = articles[0]
            content = str(a.get("title", ""))
            extra = {"title": content, "description": str(a.get("description", "")), "url": str(a.get("url", "")),
                     "picurl": str(a.get("picurl", ""))}
        elif kind == "image":
            media = part.get("media_id")
            if not media:
                raise WechatError(47001)
            content, extra = "[图片]", {"media_id": str(media)}
        else:
            content = str(part.get("title", ""))
            extra = {"title": content, "description": str(part.get("description", "")),
                     "url": str(part.get("url", ""))}
        u = self._users[openid]
        if not u.following or u.last_interaction is None or self.now() - u.last_interaction > WINDOW_SECONDS:
            raise WechatError(45015)
        return openid, kind, content, extra

    async def handle_template_send(self, request: web.Request) -> web.Response:
        try:
            self._check_access_token(request)
            body = await self._json_body(request)
            template_id = body.get("template_id")
            if not isinstance(template_id, str) or not template_id.strip():
                raise WechatError(40037)
            openid = body.get("touser")
            if not isinstance(openid, str) or openid not in self._users:
                raise WechatError(40003)
            if not self._users[openid].following:
                raise WechatError(43004)
            data = body.get("data")
            if not isinstance(data, dict) or not all(isinstance(v, dict) and "value" in v for v in data.values()):
                raise WechatError(47001, "data must be {key: {value}}")
        except WechatError as exc:
            return self._error(exc.errcode, exc.detail)
        content = "\n".join(f"{k}: {v['value']}" for k, v in data.items())
        msgid = next(self._template_ids)
        extra: dict[str, Any] = {"template_id": template_id, "msgid": msgid}
        if body.get("url"):
            extra["url"] = str(body["url"])
        self.push(openid, "template", content, data, **extra)
        return self._ok(msgid=msgid)

    # ------------------------------------------------------------------ QR codes

    def create_ticket(self, action_name: str, scene: Any, expire_seconds: Any = None) -> _Ticket:
        """Validates like /cgi-bin/qrcode/create; raises WechatError(40097) on bad arguments."""
        permanent = action_name in ("QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE")
        if action_name not in ("QR_SCENE", "QR_STR_SCENE", "QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE"):
            raise WechatError(40097, "action_name")
        if action_name.endswith("STR_SCENE"):
            if not isinstance(scene, str) or not 1 <= len(scene) <= SCENE_STR_MAX:
                raise WechatError(40097, "scene_str must be 1-64 characters")
            scene_text = scene
        else:
            if isinstance(scene, bool) or not isinstance(scene, int):
                raise WechatError(40097, "scene_id must be an integer")
            if permanent and not 1 <= scene <= PERMANENT_SCENE_ID_MAX:
                raise WechatError(40097, "permanent scene_id must be 1-100000")
            if not permanent and not (scene != 0 and -2**31 <= scene < 2**32):
                raise WechatError(40097, "scene_id must be a non-zero 32-bit integer")
            scene_text = str(scene)
        expires_at = None
        if not permanent:
            seconds = TEMP_QR_DEFAULT if expire_seconds is None else expire_seconds
            if isinstance(seconds, bool) or not isinstance(seconds, int) or not 1 <= seconds <= TEMP_QR_MAX:
                raise WechatError(40097, "expire_seconds must be 1-2592000")
            expires_at = self.now() + seconds
        if permanent:   # the same permanent scene always gives the same code
            for t in self._tickets.values():
                if t.expires_at is None and t.action_name == action_name and t.scene == scene_text:
                    return t
        code = secrets.token_urlsafe(16)
        ticket = base64.b64encode(b"\x00sandbox" + secrets.token_bytes(24) + code.encode()).decode()
        t = _Ticket(ticket, f"http://weixin.qq.com/q/{code}", action_name, scene_text, self.now(), expires_at)
        self._tickets[ticket] = t
        return t

    def _ticket_answer(self, t: _Ticket) -> dict[str, Any]:
        out: dict[str, Any] = {"ticket": t.ticket, "url": t.url}
        if t.expires_at is not None:
            out["expire_seconds"] = int(round(t.expires_at - t.created_at))
        return out

    async def handle_qrcode_create(self, request: web.Request) -> web.Response:
        try:
            self._check_access_token(request)
            body = await self._json_body(request)
            info = body.get("action_info")
            scene = info.get("scene") if isinstance(info, dict) else None
            if not isinstance(scene, dict):
                raise WechatError(40097, "action_info.scene")
            action = body.get("action_name")
            key = "scene_str" if isinstance(action, str) and action.endswith("STR_SCENE") else "scene_id"
            t = self.create_ticket(action, scene.get(key), body.get("expire_seconds"))
        except WechatError as exc:
            return self._error(exc.errcode, exc.detail)
        return web.json_response(self._ticket_answer(t))

    async def handle_showqrcode(self, request: web.Request) -> web.Response:
        given = request.query.get("ticket", "")
        # a ticket is base64: a client that forgot to URL-encode it sends "+" that arrives as " "
        t = self._tickets.get(given) or self._tickets.get(given.replace(" ", "+"))
        if t is None or (t.expires_at is not None and self.now() >= t.expires_at):
            return web.Response(status=404, text="no such ticket")
        scale = request.query.get("scale", "6")
        qr = segno.make(t.url, error="m")
        buf = io.BytesIO()
        qr.save(buf, kind="png", scale=int(scale) if scale.isdigit() and 1 <= int(scale) <= 20 else 6, border=2)
        return web.Response(body=buf.getvalue(), content_type="image/png",
                            headers={"Cache-Control": "max-age=3600"})

    # ------------------------------------------------------------------ media a user sent

    @staticmethod
    def _image_bytes(given: Any, media_id: str) -> tuple[bytes, str]:
        """The picture behind an image message: the bytes the caller gave (base64), else a small PNG of its own
        (a QR code of the media_id, so every image differs)."""
        if given:
            try:
                data = base64.b64decode(str(given), validate=True)
            except ValueError:
                raise InputError("image_base64 must be base64") from None
            if not data:
                raise InputError("image_base64 is empty")
        else:
            buf = io.BytesIO()
            segno.make(media_id, error="l").save(buf, kind="png", scale=3, border=1)
            data = buf.getvalue()
        kind = "image/png" if data.startswith(b"\x89PNG") else "image/gif" if data.startswith(b"GIF8") else "image/jpeg"
        return data, kind

    # What stands behind a voice or video message when no bytes are given: one second of AMR silence, the smallest
    # MP4 header (ftyp, free).
    _SILENT_AMR = b"#!AMR\n" + (b"\x7c" + bytes(31)) * 50
    _EMPTY_MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom\x00\x00\x00\x08free"

    @staticmethod
    def _given_bytes(given: Any, field: str, default: bytes, mime: str) -> tuple[bytes, str]:
        """The file behind a voice or video message: the bytes given (base64 in `field`), else `default`."""
        if given:
            try:
                return base64.b64decode(str(given), validate=True), mime
            except ValueError:
                raise InputError(f"{field} must be base64") from None
        return default, mime

    # ------------------------------------------------------------------ 网页授权 (OAuth 2.0, snsapi_base)

    def _authorize_error(self, code: int | None, text: str) -> web.Response:
        """WeChat shows its own error page (not JSON) for a bad authorisation request; `code`: the documented
        error number, where there is one."""
        body = (f"<!doctype html><meta charset=utf-8><title>微信网页授权</title><h1>{code or '参数错误'}</h1>"
                f"<p>{text}</p>")
        return web.Response(text=body, content_type="text/html", status=200)

    def _authorize_check(self, q) -> web.Response | None:
        from urllib.parse import urlparse
        if not q.get("appid"):
            return self._authorize_error(10012, "appid不能为空")
        if q.get("appid") != self.appid:
            return self._authorize_error(None, "appid 参数错误")
        if not q.get("redirect_uri"):
            return self._authorize_error(10011, "redirect_uri不能为空")
        target = urlparse(q["redirect_uri"])
        if target.scheme not in ("http", "https") or not target.hostname or (
                self.oauth_domain is not None and target.hostname != self.oauth_domain):
            return self._authorize_error(10003, "redirect_uri域名与后台配置不一致")
        if not q.get("scope"):
            return self._authorize_error(10010, "scope不能为空")
        if q["scope"] not in OAUTH_SCOPES:
            return self._authorize_error(10005, "此公众号并没有这些scope的权限")
        if q.get("response_type") != "code":
            return self._authorize_error(None, "response_type 参数错误，应为 code")
        if len(q.get("state", "")) > 128 or not all(c.isascii() and c.isalnum() for c in q.get("state", "")):
            return self._authorize_error(None, "state 参数错误（最多128个字母或数字）")
        return None

    async def handle_authorize(self, request: web.Request) -> web.Response:
        """open.weixin.qq.com/connect/oauth2/authorize: as the user of this browser, back to redirect_uri with a
        single-use code (snsapi_base asks nothing); the first time, the page asks who the user is."""
        q = request.query
        refused = self._authorize_check(q)
        if refused is not None:
            return refused
        openid = request.cookies.get(OAUTH_COOKIE, "")
        if openid not in self._users:
            from html import escape
            options = "".join(f'<option value="{escape(o)}">{escape(o)}</option>' for o in sorted(self._users))
            hidden = "".join(f'<input type="hidden" name="{escape(k)}" value="{escape(v)}">' for k, v in q.items())
            body = ("<!doctype html><meta charset=utf-8><meta name=viewport content='width=device-width'>"
                    "<title>微信网页授权（沙箱）</title><h1>在微信中打开</h1>"
                    "<p>沙箱：选择这个浏览器代表的微信用户（真实微信里就是手机上登录的人）。</p>"
                    f"<form method=post action='/sandbox/oauth/as'>{hidden}<select name=openid>{options}</select>"
                    "<button>以此用户打开</button></form>")
            return web.Response(text=body, content_type="text/html")
        code = secrets.token_urlsafe(24)
        self._codes[code] = {"openid": openid, "scope": q["scope"], "at": self.now(), "used": False}
        sep = "&" if "?" in q["redirect_uri"] else "?"
        target = f"{q['redirect_uri']}{sep}code={quote(code)}&state={quote(q.get('state', ''))}"
        raise web.HTTPFound(target)

    async def handle_authorize_as(self, request: web.Request) -> web.Response:
        form = await request.post()
        openid = str(form.get("openid", ""))
        if openid not in self._users:
            return self._authorize_error(40003, "invalid openid")
        from urllib.parse import urlencode
        query = urlencode({k: str(v) for k, v in form.items() if k != "openid"})
        response = web.HTTPFound(f"/connect/oauth2/authorize?{query}")
        response.set_cookie(OAUTH_COOKIE, openid, httponly=True, samesite="Lax", path="/")
        raise response

    async def handle_oauth_token(self, request: web.Request) -> web.Response:
        """api.weixin.qq.com/sns/oauth2/access_token: a code for the openid (and a 网页授权 access_token, which
        the bot does not use). Errors as the platform answers them."""
        q = request.query
        if not q.get("appid"):
            return self._error(41002)
        if q["appid"] != self.appid:
            return self._error(40013)
        if not q.get("secret"):
            return self._error(41004)
        if q["secret"] != self.appsecret:
            return self._error(40125)
        if not q.get("code"):
            return self._error(41008)
        if q.get("grant_type") != "authorization_code":
            return self._error(40002)
        issued = self._codes.get(q["code"])
        if issued is None or self.now() - issued["at"] > OAUTH_CODE_SECONDS:
            return self._error(40029)
        if issued["used"]:
            return self._error(40163)
        issued["used"] = True
        return web.json_response({"access_token": secrets.token_urlsafe(64), "expires_in": 7200,
                                  "refresh_token": secrets.token_urlsafe(64), "openid": issued["openid"],
                                  "scope": issued["scope"]})

    async def handle_media_get(self, request: web.Request) -> web.Response:
        """GET /cgi-bin/media/get: the file itself with its content type, or a JSON error (as the platform does)."""
        try:
            self._check_access_token(request)
        except WechatError as exc:
            return self._error(exc.errcode, exc.detail)
        media_id = request.query.get("media_id", "")
        found = self._media.get(media_id)
        if found is None or self.now() - self._media_at.get(media_id, self.now()) > MEDIA_KEPT_SECONDS:
            return self._error(40007)  # unknown, or sent more than 3 days ago: the platform has forgotten it
        data, kind = found
        if kind.startswith("video/"):  # getMedia: a video comes as a download address, not as the file
            key = self._video_keys.setdefault(media_id, secrets.token_urlsafe(16))
            return web.json_response({"video_url": f"{request.scheme}://{request.host}/sandbox/video/{key}"})
        ext = kind.split("/")[1].replace("jpeg", "jpg")
        return web.Response(body=data, content_type=kind,
                            headers={"Content-Disposition": f'attachment; filename="{media_id}.{ext}"'})

    async def handle_video_download(self, request: web.Request) -> web.Response:
        """The file behind a video_url (404 once the platform has forgotten the video)."""
        media_id = next((m for m, k in self._video_keys.items() if k == request.match_info["key"]), None)
        found = self._media.get(media_id or "")
        if found is None or self.now() - self._media_at.get(media_id, self.now()) > MEDIA_KEPT_SECONDS:
            raise web.HTTPNotFound()
        return web.Response(body=found[0], content_type=found[1])

    async def handle_sandbox_qrcode(self, request: web.Request) -> web.Response:
        """A permanent QR_LIMIT_STR_SCENE ticket for ?scene=, no access_token: the simulator shows the code."""
        try:
            t = self.create_ticket("QR_LIMIT_STR_SCENE", request.query.get("scene", ""))
        except WechatError as exc:
            return self._error(exc.errcode, exc.detail)
        out = self._ticket_answer(t)
        out["scene"] = t.scene
        out["image"] = "/cgi-bin/showqrcode?ticket=" + quote(t.ticket, safe="")
        return web.json_response(out)

    # ------------------------------------------------------------------ custom menu

    @staticmethod
    def _check_button(b: Any, sub: bool) -> dict[str, Any]:
        """One button as menu/create checks it; returns it as menu/get gives it back."""
        e = (lambda top, sub_code: sub_code if sub else top)
        if not isinstance(b, dict):
            raise WechatError(47001)
        name = b.get("name")
        limit = MENU_SUB_NAME_BYTES if sub else MENU_NAME_BYTES
        if not isinstance(name, str) or not name or len(name.encode("utf-8")) > limit:
            raise WechatError(e(40018, 40025), f"name {name!r}")
        subs = b.get("sub_button")
        if not sub and subs:   # a group: its own type is ignored, its sub-buttons are checked
            if not isinstance(subs, list) or len(subs) > MENU_SUB_BUTTONS:
                raise WechatError(40023)
            return {"name": name, "sub_button": [Sandbox._check_button(x, True) for x in subs]}
        kind = b.get("type")
        if kind not in MENU_TYPES:
            raise WechatError(e(40017, 40024), f"type {kind!r}")
        out: dict[str, Any] = {"type": kind, "name": name}
        if kind == "view":
            url = b.get("url")
            if not isinstance(url, str) or not url.startswith(("http://", "https://")) \
                    or len(url.encode("utf-8")) > MENU_URL_BYTES:
                raise WechatError(e(40020, 40027), f"url {url!r}")
            out["url"] = url
        elif kind in ("media_id", "article_id", "article_view_limited"):
            key = "media_id" if kind == "media_id" else "article_id"
            if not b.get(key):
                raise WechatError(40097, key)
            out[key] = str(b[key])
        elif kind == "miniprogram":
            for key in ("url", "appid", "pagepath"):
                if not b.get(key):
                    raise WechatError(40097, key)
                out[key] = str(b[key])
        else:
            key = b.get("key")
            if not isinstance(key, str) or not key or len(key.encode("utf-8")) > MENU_KEY_BYTES:
                raise WechatError(e(40019, 40026), f"key {key!r}")
            out["key"] = key
        if not sub:
            out["sub_button"] = []
        return out

    def set_menu(self, body: dict[str, Any]) -> None:
        """Check and set a menu as menu/create does (the demo seeds one); raises WechatError."""
        buttons = body.get("button") if isinstance(body, dict) else None
        if not isinstance(buttons, list) or not 1 <= len(buttons) <= MENU_BUTTONS:
            raise WechatError(40016)
        self.menu = [self._check_button(b, False) for b in buttons]

    async def handle_menu_create(self, request: web.Request) -> web.Response:
        try:
            self._check_access_token(request)
            self.set_menu(await self._json_body(request))
        except WechatError as exc:
            return self._error(exc.errcode, exc.detail)
        return self._ok()

    async def handle_menu_get(self, request: web.Request) -> web.Response:
        try:
            self._check_access_token(request)
            if self.menu is None:
                raise WechatError(46003)
        except WechatError as exc:
            return self._error(exc.errcode, exc.detail)
        return web.json_response({"menu": {"button": self.menu}})

    async def handle_menu_delete(self, request: web.Request) -> web.Response:
        try:
            self._check_access_token(request)
        except WechatError as exc:
            return self._error(exc.errcode, exc.detail)
        self.menu = None
        return self._ok()

    async def handle_sandbox_menu(self, request: web.Request) -> web.Response:
        return web.json_response({"button": self.menu or []})

    # ------------------------------------------------------------------ sandbox views

    async def handle_messages(self, request: web.Request) -> web.Response:
        openid = request.query.get("openid") or None
        try:
            after = int(request.query.get("after", "0") or 0)
        except ValueError:
            return web.json_response({"error": "after must be an integer"}, status=400)
        return web.json_response({"messages": [m.to_json() for m in self.messages(openid, after)],
                                  "boot": self.boot_id})

    async def handle_users(self, request: web.Request) -> web.Response:
        now = self.now()
        users = []
        for u in self._users.values():
            open_ = u.following and u.last_interaction is not None and now - u.last_interaction <= WINDOW_SECONDS
            users.append({"openid": u.openid, "following": u.following, "followed_at": u.followed_at,
                          "last_interaction": u.last_interaction, "scene": u.scene, "window_open": open_})
        return web.json_response({"users": users})

    # ------------------------------------------------------------------ the user's side: posting to the webhook

    async def handle_send(self, request: web.Request) -> web.Response:
        try:
            payload = json.loads(await request.text())
        except ValueError:
            return web.json_response({"error": "the body must be JSON"}, status=400)
        try:
            result = await self.user_send(payload)
        except InputError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response(result)

    def build_xml(self, payload: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The plaintext XML WeChat would post for this user action, and facts about it (msg_id, event …).
        Updates the user's follow state and 48-hour window as WeChat would."""
        if not isinstance(payload, dict):
            raise InputError("the body must be a JSON object")
        openid = payload.get("openid")
        if not isinstance(openid, str) or not openid.strip() or len(openid) > 128:
            raise InputError("openid is required (1-128 characters)")
        kind = str(payload.get("type", "text")).lower()
        if kind not in MESSAGE_TYPES + EVENT_TYPES:
            raise InputError(f"unknown type {kind!r}; one of {', '.join(MESSAGE_TYPES + EVENT_TYPES)}")
        u = self.user(openid)
        now = self.now()
        info: dict[str, Any] = {"openid": openid, "type": kind}
        fields: list[tuple[str, str, bool]] = []   # (name, value, cdata)

        def add(name: str, value: Any, cdata: bool = True) -> None:
            fields.append((name, str(value), cdata))

        scene = payload.get("scene")
        ticket = payload.get("ticket")
        if kind in ("scan", "subscribe") and ticket and not scene:
            t = self._tickets.get(str(ticket))
            if t is None:
                raise InputError("unknown ticket")
            scene = t.scene
        if scene is not None:
            scene = str(scene)
            if not 1 <= len(scene) <= SCENE_STR_MAX:
                raise InputError("scene must be 1-64 characters")
        if kind == "scan":
            if not scene:
                raise InputError("scan needs a scene (or a ticket)")
            if not u.following:
                kind = "subscribe"            # scanning an account you do not follow yet = following it
                info["type"] = kind
        if kind in MESSAGE_TYPES:
            if not u.following:                # one cannot chat with an account without following it
                u.following, u.followed_at = True, now
                info["auto_followed"] = True
            msg_id = next(self._msg_ids)
            info["msg_id"] = str(msg_id)
            created = int(now)
            if kind == "text":
                content = payload.get("content")
                if not isinstance(content, str) or not content:
                    raise InputError("text needs content")
                add("Content", content)
            elif kind == "image":
                media_id = str(payload.get("media_id") or secrets.token_urlsafe(30))
                self._media[media_id] = self._image_bytes(payload.get("image_base64"), media_id)
                self._media_at[media_id] = now
                info["media_id"] = media_id
                add("PicUrl", payload.get("pic_url") or f"http://mmbiz.qpic.cn/sandbox/{secrets.token_hex(8)}/0")
                add("MediaId", media_id)
            elif kind == "voice":
                media_id = str(payload.get("media_id") or secrets.token_urlsafe(30))
                self._media[media_id] = self._given_bytes(payload.get("voice_base64"), "voice_base64",
                                                          self._SILENT_AMR, "audio/amr")
                self._media_at[media_id] = now
                info["media_id"] = media_id
                add("MediaId", media_id)
                add("Format", payload.get("format") or "amr")
                if payload.get("recognition") is not None:
                    add("Recognition", payload.get("recognition"))
            elif kind in ("video", "shortvideo"):
                media_id = str(payload.get("media_id") or secrets.token_urlsafe(30))
                self._media[media_id] = self._given_bytes(payload.get("video_base64"), "video_base64",
                                                          self._EMPTY_MP4, "video/mp4")
                self._media_at[media_id] = now
                info["media_id"] = media_id
                add("MediaId", media_id)
                add("ThumbMediaId", payload.get("thumb_media_id") or secrets.token_urlsafe(30))
            elif kind == "location":
                try:
                    lat = float(payload.get("lat", payload.get("latitude", 0)))
                    lon = float(payload.get("lon", payload.get("longitude", 0)))
                    scale = int(payload.get("scale", 15))
                except (TypeError, ValueError):
                    raise InputError("location needs numeric lat, lon (and scale)") from None
                add("Location_X", f"{lat:.6f}", False)
                add("Location_Y", f"{lon:.6f}", False)
                add("Scale", scale, False)
                add("Label", payload.get("label") or "")
            elif kind == "link":
                add("Title", payload.get("title") or payload.get("content") or "")
                add("Description", payload.get("description") or "")
                add("Url", payload.get("url") or "")
            msg_type = kind
        else:
            # events have no MsgId; WeChat deduplicates them by FromUserName + CreateTime. The bot tells two events
            # of one second apart by their name and key too (Inbound.dedupe_key); distinct times keep the order plain.
            created = max(int(now), u.last_event_time + 1)
            u.last_event_time = created
            msg_type = "event"
            if kind == "subscribe":
                event, key = "subscribe", f"qrscene_{scene}" if scene else ""
                u.following, u.followed_at = True, now
                if scene:
                    u.scene = scene
            elif kind == "unsubscribe":
                event, key = "unsubscribe", ""
                u.following, u.last_interaction = False, None
            elif kind == "scan":
                event, key = "SCAN", scene
                u.scene = scene
            elif kind == "click":
                event, key = "CLICK", payload.get("key") or ""
                if not key:
                    raise InputError("click needs a key")
            else:
                event, key = "VIEW", payload.get("url") or payload.get("key") or ""
            info["event"], info["event_key"] = event, key
            add("Event", event)
            if kind != "unsubscribe":
                add("EventKey", key)
            if scene and kind in ("subscribe", "scan"):
                add("Ticket", self._ticket_for_scene(scene).ticket)
        if kind in INTERACTIONS:
            u.last_interaction = now
        info["create_time"] = created
        parts = [f"<ToUserName>{_cdata(self.original_id)}</ToUserName>",
                 f"<FromUserName>{_cdata(openid)}</FromUserName>",
                 f"<CreateTime>{created}</CreateTime>",
                 f"<MsgType>{_cdata(msg_type)}</MsgType>"]
        parts += [f"<{n}>{_cdata(v) if c else v}</{n}>" for n, v, c in fields]
        if "msg_id" in info:
            parts.append(f"<MsgId>{info['msg_id']}</MsgId>")
        return "<xml>" + "".join(parts) + "</xml>", info

    def _ticket_for_scene(self, scene: str) -> _Ticket:
        for t in self._tickets.values():
            if t.scene == scene and (t.expires_at is None or t.expires_at > self.now()):
                return t
        return self.create_ticket("QR_LIMIT_STR_SCENE", scene)

    def _envelope(self, plaintext: str, openid: str) -> tuple[str, dict[str, str]]:
        """Query string and body as WeChat posts them in the configured mode."""
        timestamp, nonce = str(int(self.now())), _nonce()
        query = {"signature": sign(self.token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
                 "openid": openid}
        if self.mode == "plain":
            return plaintext, query
        encrypt = self.crypto.encrypt(plaintext)
        query["encrypt_type"] = "aes"
        query["msg_signature"] = sign(self.token, timestamp, nonce, encrypt)
        if self.mode == "safe":
            body = (f"<xml><ToUserName>{_cdata(self.original_id)}</ToUserName>"
                    f"<Encrypt>{_cdata(encrypt)}</Encrypt></xml>")
        else:   # compatible mode: the plaintext fields and the ciphertext side by side
            body = plaintext[:-len("</xml>")] + f"<Encrypt>{_cdata(encrypt)}</Encrypt></xml>"
        return body, query

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession()
        return self._session

    async def user_send(self, payload: dict[str, Any]) -> dict[str, Any]:
        """Act as WeChat for one user action: build, sign (and encrypt), post to the webhook with WeChat's
        retries, and read the passive reply. Returns {"reply", "status", "tries", …, "error"?}."""
        plaintext, info = self.build_xml(payload)
        body, query = self._envelope(plaintext, info["openid"])
        session = await self._http()
        result: dict[str, Any] = {**info, "reply": None, "reply_type": None, "status": None, "tries": 0,
                                  "request_xml": plaintext}
        last_error = ""
        for attempt in range(1, self.tries + 1):
            result["tries"] = attempt
            try:
                async with session.post(self.webhook_url, params=query, data=body.encode("utf-8"),
                                        headers={"Content-Type": "text/xml"},
                                        timeout=aiohttp.ClientTimeout(total=self.reply_timeout)) as resp:
                    result["status"] = resp.status
                    text = await resp.text()
            except asyncio.TimeoutError:
                last_error = f"no answer within {self.reply_timeout:g} s"
                log.info("sandbox: webhook did not answer in %.1f s (try %d of %d)", self.reply_timeout,
                         attempt, self.tries)
                continue
            except aiohttp.ClientError as exc:
                last_error = f"cannot reach the webhook: {type(exc).__name__}: {exc}"
                continue
            if resp.status != 200:
                result["error"] = f"webhook answered HTTP {resp.status}: {text[:200]}"
                result["notice"] = OUT_OF_SERVICE
                return result
            self._read_reply(text, info["openid"], query, result)
            return result
        result["error"] = last_error
        result["notice"] = OUT_OF_SERVICE
        return result

    def _read_reply(self, text: str, openid: str, query: dict[str, str], result: dict[str, Any]) -> None:
        text = text.strip()
        if not text or text == "success":
            return
        try:
            fields = parse_fields(text)
        except XmlError as exc:
            result["error"] = f"the reply is not XML: {exc}"
            result["notice"] = OUT_OF_SERVICE
            return
        if "Encrypt" in fields:
            if not self.crypto.can_encrypt:
                result["error"] = "encrypted reply but the sandbox has no aes_key"
                return
            timestamp, nonce = fields.get("TimeStamp", ""), fields.get("Nonce", "")
            if not self.crypto.check_msg_signature(fields.get("MsgSignature"), timestamp, nonce, fields["Encrypt"]):
                result["error"] = "bad MsgSignature in the reply"
                result["notice"] = OUT_OF_SERVICE
                return
            try:
                fields = parse_fields(self.crypto.decrypt(fields["Encrypt"]))
            except (CryptoError, XmlError) as exc:
                result["error"] = f"cannot decrypt the reply: {exc}"
                result["notice"] = OUT_OF_SERVICE
                return
        elif self.mode == "safe":
            result["error"] = "plaintext reply in safe mode (WeChat expects it encrypted)"
            result["notice"] = OUT_OF_SERVICE
            return
        problems = []
        if fields.get("ToUserName") != openid:
            problems.append(f"ToUserName is {fields.get('ToUserName')!r}, not the user's openid")
        if fields.get("FromUserName") != self.original_id:
            problems.append(f"FromUserName is {fields.get('FromUserName')!r}, not {self.original_id}")
        msg_type = fields.get("MsgType", "")
        result["reply_type"] = msg_type
        if msg_type == "text":
            result["reply"] = fields.get("Content", "")
            size = len(result["reply"].encode("utf-8"))
            if size > MAX_TEXT_BYTES:
                problems.append(f"text reply of {size} bytes (over {MAX_TEXT_BYTES})")
        elif msg_type == "news":
            result["reply"] = "[图文消息] " + fields.get("Articles", "")
        elif msg_type in ("image", "voice", "video", "music"):
            result["reply"] = {"image": "[图片]", "voice": "[语音]", "video": "[视频]", "music": "[音乐]"}[msg_type]
        else:
            problems.append(f"unknown reply MsgType {msg_type!r}")
        if problems:
            result["error"] = "; ".join(problems)
