"""WeChat signatures and safe-mode (AES) encryption. wechatpy does the cipher; comparisons here are
constant-time, and every failure is one exception type the webhook turns into a 4xx."""
from __future__ import annotations

import hmac
import time

from wechatpy.crypto import PrpCrypto, WeChatCrypto
from wechatpy.utils import WeChatSigner, random_string


class CryptoError(ValueError):
    """A signature that does not match, or a ciphertext that does not decrypt to a message for this AppID."""


def sign(*parts: str) -> str:
    """sha1 over the sorted parts: WeChat's signature for URL verification, messages and safe-mode bodies."""
    signer = WeChatSigner()
    signer.add_data(*parts)
    return signer.signature


def signature_ok(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


class Crypto:
    """One Official Account's token, EncodingAESKey and AppID."""

    def __init__(self, token: str, aes_key: str = "", appid: str = ""):
        self.token = token
        self.appid = appid
        self._crypto = WeChatCrypto(token, aes_key, appid) if aes_key else None

    @property
    def can_encrypt(self) -> bool:
        return self._crypto is not None

    def check_signature(self, signature: str | None, timestamp: str, nonce: str) -> bool:
        return signature_ok(sign(self.token, timestamp, nonce), signature)

    def check_msg_signature(self, msg_signature: str | None, timestamp: str, nonce: str, encrypt: str) -> bool:
        return signature_ok(sign(self.token, timestamp, nonce, encrypt), msg_signature)

    def decrypt(self, encrypt: str) -> str:
        """Ciphertext (base64) -> inner XML text. Checks padding, length and AppID."""
        if self._crypto is None:
            raise CryptoError("safe mode is not configured (wechat.aes_key is empty)")
        try:
            return PrpCrypto(self._crypto.key).decrypt(encrypt, self.appid)
        except Exception as exc:  # noqa: BLE001 - wechatpy raises many kinds for bad input
            raise CryptoError(f"cannot decrypt: {type(exc).__name__}") from None

    def encrypt(self, plaintext: str) -> str:
        if self._crypto is None:
            raise CryptoError("safe mode is not configured (wechatpy.aes_key is empty)")
        return PrpCrypto(self._crypto.key).encrypt(plaintext, self.appid).decode()

    def encrypt_envelope(self, plaintext: str, nonce: str | None = None, timestamp: str | None = None) -> str:
        """The whole safe-mode XML body (Encrypt, MsgSignature, TimeStamp, Nonce), as WeChat expects a reply or
        as WeChat itself posts a message (the sandbox uses it that way)."""
        nonce = nonce or random_string(10)
        timestamp = timestamp or str(int(time.time()))
        from bot.channels.wechat.xml import cdata, xml_text
        nonce = xml_text(nonce)  # echoed from the request's query string
        encrypt = self.encrypt(plaintext)
        signature = sign(self.token, timestamp, nonce, encrypt)
        return (
            f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{int(timestamp)}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>"
        )
