"""The few WeChat API calls the bot makes, asynchronously over aiohttp.

ONE access_token per AppID lives in SQLite and is shared by all worker processes. It is fetched through
stable_token, which hands every caller the same token while it is valid, so two processes refreshing at once do
not invalidate each other's. A token the platform rejects (40001, 40014, 42001) is dropped and fetched again once;
one our own clock says expired by then (a test's or the demo's clock jumped while the call was on its way) is
fetched again as often as that happens.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any
from urllib.parse import quote

import aiohttp

from handlers.clock import Clock
from storage import tokens
from storage.db import Database

log = logging.getLogger(__name__)

TOKEN_ERRORS = {40001, 40014, 42001}
OUTSIDE_WINDOW = 45015          # customer-service message more than 48 h after the person's last interaction
# Retrying cannot help: bad openid (40003), bad template (40036, 40037), unfollowed (43004), blocked (43019),
# content too long or malformed (45002, 47001, 40097), no permission for the API (48001, 48004, 50001, 50002).
# Everything else (system busy -1, rate limits, network errors, token trouble) is transient and retried.
PERMANENT_ERRORS = {40003, 40036, 40037, 43004, 43019, 45002, 47001, 40097, 48001, 48004, 50001, 50002}


TOO_LARGE = -2                  # ours, not the platform's: a file over the size we keep
VIDEO_SECONDS = 120             # a video (tens of MB) is downloaded from its video_url within this time


async def _read_at_most(resp: aiohttp.ClientResponse, max_bytes: int | None) -> bytes:
    if max_bytes is None:
        return await resp.read()
    if resp.content_length is not None and resp.content_length > max_bytes:
        raise WechatApiError(TOO_LARGE, f"file of {resp.content_length} bytes is over {max_bytes}")
    body = bytearray()
    async for chunk in resp.content.iter_chunked(65536):
        body += chunk
        if len(body) > max_bytes:
            raise WechatApiError(TOO_LARGE, f"file is over {max_bytes} bytes")
    return bytes(body)


class WechatApiError(Exception):
    def __init__(self, errcode: int, errmsg: str):
        super().__init__(f"{errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg

    @property
    def permanent(self) -> bool:
        return self.errcode in PERMANENT_ERRORS


class WechatApi:
    def __init__(self, db: Database, appid: str, appsecret: str, base_url: str, clock: Clock | None = None,
                 session: aiohttp.ClientSession | None = None, timeout: float = 10):
        self.db = db
        self.appid = appid
        self.appsecret = appsecret
        self.base_url = base_url.rstrip("/")
        self.clock = clock or Clock()
        self._session = session
        self._own_session = session is None
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._refresh_lock = asyncio.Lock()

    async def _http(self) -> aiohttp.ClientSession:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        return self._session

    async def close(self) -> None:
        if self._own_session and self._session is not None:
            await self._session.close()
            self._session = None

    async def access_token(self, force: bool = False) -> str:
        return (await self._token(force))[0]

    async def _token(self, force: bool = False) -> tuple[str, float]:
        """(token, when it expires by our clock)."""
        if not force:
            held = await self.db.run(tokens.entry, self.appid, self.clock.now())
            if held:
                return held
        async with self._refresh_lock:
            if not force:  # another task may have refreshed while we waited
                held = await self.db.run(tokens.entry, self.appid, self.clock.now())
                if held:
                    return held
            session = await self._http()
            body = {"grant_type": "client_credential", "appid": self.appid, "secret": self.appsecret,
                    "force_refresh": force}
            asked = self.clock.now()  # its life runs from before the platform answered, never from after
            async with session.post(f"{self.base_url}/cgi-bin/stable_token", json=body) as resp:
                data = await resp.json(content_type=None)
            if "access_token" not in data:
                raise WechatApiError(int(data.get("errcode", -1)), str(data.get("errmsg", "no access_token")))
            life = float(data.get("expires_in", 7200))
            await self.db.run(tokens.put, self.appid, data["access_token"], life, asked)
            return data["access_token"], asked + life

    async def call(self, path: str, payload: dict[str, Any]) -> dict[str, Any]:
        """POST a JSON API call with the shared token; on a token error, refresh once and try again."""
        return await self._request("POST", path, payload=payload)

    async def call_get(self, path: str) -> dict[str, Any]:
        """A GET API call with the shared token (menu/get)."""
        return await self._request("GET", path)

    async def get_media(self, media_id: str, max_bytes: int | None = None) -> tuple[bytes, str]:
        """A temporary media file a user sent (media/get): its bytes and content type. The platform answers
        errors as JSON instead of the file, and a video as JSON {"video_url": …} (getMedia, 5.1 视频素材返回示例),
        which is then downloaded. A file over `max_bytes` is not read: WechatApiError(TOO_LARGE)."""
        got = await self._request("GET", "/cgi-bin/media/get", params={"media_id": media_id}, raw=True,
                                  max_bytes=max_bytes)
        if isinstance(got, tuple):
            return got
        url = str(got["video_url"])
        if not url.startswith(("http://", "https://")):
            raise WechatApiError(-1, f"media/get gave a video_url that is not a web address: {url[:80]}")
        session = await self._http()
        async with session.get(url, timeout=aiohttp.ClientTimeout(total=VIDEO_SECONDS)) as resp:
            if resp.status != 200:
                raise WechatApiError(-1, f"video_url answered HTTP {resp.status}")
            return await _read_at_most(resp, max_bytes), resp.content_type or "application/octet-stream"

    async def _request(self, method: str, path: str, *, payload: dict[str, Any] | None = None,
                       params: dict[str, str] | None = None, raw: bool = False,
                       max_bytes: int | None = None) -> Any:
        """Every API call: the shared token, and on a token error one refresh and one more try (and another for
        each time our clock passed the token's end during the call). `raw`: a file may
        come back instead of JSON; then (bytes, content type), at most `max_bytes` of them."""
        token, expires_at = await self._token()
        refreshed = False
        while True:
            session = await self._http()
            sent_at = self.clock.now()
            async with session.request(method, f"{self.base_url}{path}", json=payload,
                                       params={"access_token": token, **(params or {})}) as resp:
                kind = resp.content_type or "application/octet-stream"
                if raw and resp.status == 200 and kind not in ("application/json", "text/plain"):
                    return await _read_at_most(resp, max_bytes), kind
                try:
                    data = await resp.json(content_type=None)
                except ValueError:
                    if not raw:
                        raise
                    raise WechatApiError(-1, f"{path} answered HTTP {resp.status} {kind}") from None
            code = int(data.get("errcode", 0) or 0)
            if code == 0 and (not raw or data.get("video_url")):
                return data
            if code in TOKEN_ERRORS and sent_at < expires_at <= self.clock.now():
                # Our clock passed its end while the call was on its way (only a test's or the demo's clock jumps
                # so far in one call): it expired, nothing is wrong; the current one is fetched. Each time needs
                # another jump, so this ends when they do (one refresh allowed here left a push failed, and its
                # retry waited for a moment a fixed clock never reached).
                await self.db.run(tokens.forget, self.appid, token)
                token, expires_at = await self._token()
                continue
            if code in TOKEN_ERRORS and not refreshed:
                log.info("access_token rejected (%s); fetching a new one", code)
                await self.db.run(tokens.forget, self.appid, token)
                token, expires_at = await self._token(force=True)
                refreshed = True
                continue
            raise WechatApiError(code or -1, str(data.get("errmsg", "")))

    async def oauth_openid(self, code: str) -> str:
        """网页授权: the openid a `code` from the authorisation redirect stands for (/sns/oauth2/access_token;
        the code is the credential, no shared access_token). WechatApiError otherwise: 40029 invalid code, 40163
        code already used, 40125 wrong secret …"""
        session = await self._http()
        async with session.get(f"{self.base_url}/sns/oauth2/access_token", params={
                "appid": self.appid, "secret": self.appsecret, "code": code,
                "grant_type": "authorization_code"}) as resp:
            data = await resp.json(content_type=None)
        if not isinstance(data, dict) or not data.get("openid"):
            data = data if isinstance(data, dict) else {}
            raise WechatApiError(int(data.get("errcode", -1) or -1), str(data.get("errmsg", "no openid")))
        return str(data["openid"])

    async def create_menu(self, menu: dict[str, Any]) -> dict[str, Any]:
        return await self.call("/cgi-bin/menu/create", menu)

    async def get_menu(self) -> dict[str, Any]:
        return await self.call_get("/cgi-bin/menu/get")

    async def send_text(self, openid: str, content: str) -> dict[str, Any]:
        return await self.call("/cgi-bin/message/custom/send",
                               {"touser": openid, "msgtype": "text", "text": {"content": content}})

    async def send_template(self, openid: str, template_id: str, data: dict[str, Any],
                            url: str | None = None) -> dict[str, Any]:
        payload: dict[str, Any] = {"touser": openid, "template_id": template_id, "data": data}
        if url:
            payload["url"] = url
        return await self.call("/cgi-bin/message/template/send", payload)

    async def create_qrcode(self, scene: str, expire_seconds: int | None = None) -> dict[str, Any]:
        """A permanent (expire_seconds None) or temporary QR code for a scene string; returns ticket and url."""
        if expire_seconds is None:
            payload = {"action_name": "QR_LIMIT_STR_SCENE", "action_info": {"scene": {"scene_str": scene}}}
        else:
            payload = {"expire_seconds": expire_seconds, "action_name": "QR_STR_SCENE",
                       "action_info": {"scene": {"scene_str": scene}}}
        return await self.call("/cgi-bin/qrcode/create", payload)

    def qrcode_image_url(self, ticket: str) -> str:
        # The real image lives on mp.weixin.qq.com; the sandbox serves it at its own base URL.
        base = "https://mp.weixin.qq.com" if "api.weixin.qq.com" in self.base_url else self.base_url
        return f"{base}/cgi-bin/showqrcode?ticket={quote(ticket, safe='')}"
