"""Builds what WeChat's servers post to the webhook, for tests: XML bodies, signatures, safe-mode envelopes."""
from __future__ import annotations

import itertools
import time
from urllib.parse import urlencode

from bot.channels.wechat.crypto import Crypto, sign
from bot.channels.wechat.xml import parse_fields

TOKEN = "testtoken"
AES_KEY = "x2Jy5yRbmhkQjw9yvIZL7k7gUAEPgXpxdXdopXhmU3v"  # our own: wechatpy's test key is published (serve refuses it)
APPID = "wx49f0ab532d5d035a"
GH = "gh_testaccount"
_ids = itertools.count(7000000000000000001)
_nonces = itertools.count(1400000001)


def cdata(value: str) -> str:
    return "<![CDATA[" + value.replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(openid: str, msg_type: str = "text", created: int | None = None, msg_id: int | None = None,
                **fields: str) -> str:
    created = created or int(time.time())
    parts = [f"<ToUserName>{cdata(GH)}</ToUserName>", f"<FromUserName>{cdata(openid)}</FromUserName>",
             f"<CreateTime>{created}</CreateTime>", f"<MsgType>{cdata(msg_type)}</MsgType>"]
    for name, value in fields.items():
        parts.append(f"<{name}>{cdata(str(value))}</{name}>")
    if msg_type != "event":
        parts.append(f"<MsgId>{msg_id or next(_ids)}</MsgId>")
    return "<xml>" + "".join(parts) + "</xml>"


def text_xml(openid: str, content: str, **kw) -> str:
    return message_xml(openid, "text", Content=content, **kw)


def event_xml(openid: str, event: str, key: str | None = None, created: int | None = None) -> str:
    fields = {"Event": event}
    if key is not None:
        fields["EventKey"] = key
    return message_xml(openid, "event", created=created, **fields)


def fresh_nonce() -> str:
    """WeChat signs every request with a new nonce (retries too); a repeated one is refused as a replay."""
    return str(next(_nonces))


def signed_query(openid: str | None = None, token: str = TOKEN, timestamp: str | None = None,
                 nonce: str | None = None, **extra: str) -> dict[str, str]:
    nonce = nonce or fresh_nonce()
    timestamp = timestamp or str(int(time.time()))
    q = {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce, **extra}
    if openid:
        q["openid"] = openid
    return q


def encrypted(body_xml: str, openid: str | None = None, token: str = TOKEN, aes_key: str = AES_KEY,
              appid: str = APPID, timestamp: str | None = None, nonce: str | None = None) -> tuple[str, dict]:
    """(safe-mode body, query string params) as WeChat posts them."""
    nonce = nonce or fresh_nonce()
    timestamp = timestamp or str(int(time.time()))
    crypto = Crypto(token, aes_key, appid)
    encrypt = crypto.encrypt(body_xml)
    body = f"<xml><ToUserName>{cdata(GH)}</ToUserName><Encrypt>{cdata(encrypt)}</Encrypt></xml>"
    q = signed_query(openid, token, timestamp, nonce, encrypt_type="aes",
                     msg_signature=sign(token, timestamp, nonce, encrypt))
    return body, q


def url(path: str, query: dict) -> str:
    return f"{path}?{urlencode(query)}"


def decrypt_reply(body: str, token: str = TOKEN, aes_key: str = AES_KEY, appid: str = APPID) -> dict[str, str]:
    """Check a safe-mode reply's signature and return its inner fields."""
    outer = parse_fields(body)
    crypto = Crypto(token, aes_key, appid)
    assert crypto.check_msg_signature(outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
    return parse_fields(crypto.decrypt(outer["Encrypt"]))
