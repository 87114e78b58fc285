"""WeChat signatures and safe-mode (AES) encryption, straight on `cryptography`, as wechatpy's WeChatCrypto and
PrpCrypto do it (tests/test_wire.py checks both directions against wechatpy) but without their per-call objects
and conversions (the webhook does it twice per message), and without importing wechatpy in the service: its
package imports its API client, requests and its pay module, ~9 MB per process, for a base64 decode.
Comparisons are constant-time, and every failure is one exception type the webhook turns into a 4xx."""
from __future__ import annotations

import base64
import binascii
import collections
import hashlib
import hmac
import os
import random
import string
import time

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from bot.channels.wechat.xml import cdata, xml_text

BLOCK = 32  # WeChat pads to 32-byte blocks (PKCS#7 with k = 32), whatever AES's own block size


class CryptoError(ValueError):
    """A signature that does not match, or a ciphertext that does not decrypt to a message for this AppID."""


def aes_key_of(encoding_aes_key: str) -> bytes:
    """The AES key of an EncodingAESKey: base64(EncodingAESKey + "="), 32 bytes (as wechatpy's WeChatCrypto)."""
    try:
        key = base64.b64decode(encoding_aes_key + "=")
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise CryptoError("an EncodingAESKey is 43 characters of base64 (a 32-byte AES key)")
    return key


# The 16 random characters before a reply's text (8 bytes in hex, as wechatpy's PrpCrypto), drawn from one
# os.urandom read of 256 of them: a read a reply cost ~0.5 µs more. A deque: popleft is atomic, so the loop and
# any other thread that encrypts may share it.
_PREFIXES: collections.deque[bytes] = collections.deque()
os.register_at_fork(after_in_child=_PREFIXES.clear)  # a forked worker draws its own, never its parent's


def _random_prefix() -> bytes:
    try:
        return _PREFIXES.popleft()
    except IndexError:
        block = os.urandom(2048).hex().encode()
        _PREFIXES.extend(block[i:i + 16] for i in range(16, len(block), 16))
        return block[:16]


def random_string(length: int = 16) -> str:
    """Distinct letters and digits (a reply's nonce), as wechatpy.utils.random_string."""
    return "".join(random.sample(string.ascii_letters + string.digits, length))


def sign(*parts: str) -> str:
    """sha1 over the sorted parts: WeChat's signature for URL verification, messages and safe-mode bodies."""
    # Sorted as wechatpy's WeChatSigner sorts them (by UTF-8 bytes, which is code-point order).
    return hashlib.sha1("".join(sorted(parts)).encode("utf-8", "surrogatepass")).hexdigest()


def signature_ok(expected: str, given: str | None) -> bool:
    return given is not None and hmac.compare_digest(expected.encode(), given.encode("utf-8", "replace"))


class Crypto:
    """One Official Account's token, EncodingAESKey and AppID."""

    def __init__(self, token: str, aes_key: str = "", appid: str = ""):
        self.token = token
        self.appid = appid
        self._cipher = None
        if aes_key:
            key = aes_key_of(aes_key)
            self._cipher = Cipher(algorithms.AES(key), modes.CBC(key[:16]))
        self._appid = appid.encode()

    @property
    def can_encrypt(self) -> bool:
        return self._cipher is not None

    def check_signature(self, signature: str | None, timestamp: str, nonce: str) -> bool:
        return signature_ok(sign(self.token, timestamp, nonce), signature)

    def check_msg_signature(self, msg_signature: str | None, timestamp: str, nonce: str, encrypt: str) -> bool:
        return signature_ok(sign(self.token, timestamp, nonce, encrypt), msg_signature)

    def decrypt(self, encrypt: str) -> str:
        """Ciphertext (base64) -> inner XML text. Checks padding, length and AppID."""
        if self._cipher is None:
            raise CryptoError("safe mode is not configured (wechat.aes_key is empty)")
        try:
            data = base64.b64decode(encrypt)
        except (binascii.Error, ValueError):
            raise CryptoError("cannot decrypt: not base64") from None
        if not data or len(data) % 16:
            raise CryptoError("cannot decrypt: not a whole number of AES blocks")
        decryptor = self._cipher.decryptor()
        plain = decryptor.update(data) + decryptor.finalize()
        # 16 random bytes, the message's length (4 bytes, network order), the message, the AppID, the padding.
        pad = plain[-1]
        if not 1 <= pad <= BLOCK or len(plain) < 20 + pad:
            raise CryptoError("cannot decrypt: bad padding")
        content = plain[16:-pad]
        length = int.from_bytes(content[:4], "big")
        if length > len(content) - 4 or content[4 + length:] != self._appid:
            raise CryptoError("cannot decrypt: not a message for this AppID")
        try:
            return content[4:4 + length].decode("utf-8")
        except UnicodeDecodeError:
            raise CryptoError("cannot decrypt: UnicodeDecodeError") from None

    def encrypt(self, plaintext: str) -> str:
        if self._cipher is None:
            raise CryptoError("safe mode is not configured (wechat.aes_key is empty)")
        text = plaintext.encode("utf-8")
        data = _random_prefix() + len(text).to_bytes(4, "big") + text + self._appid
        pad = BLOCK - len(data) % BLOCK
        encryptor = self._cipher.encryptor()
        return base64.b64encode(encryptor.update(data + bytes([pad]) * pad) + encryptor.finalize()).decode()

    def encrypt_envelope(self, plaintext: str, nonce: str | None = None, timestamp: str | None = None) -> str:
        """The whole safe-mode XML body (Encrypt, MsgSignature, TimeStamp, Nonce), as WeChat expects a reply or
        as WeChat itself posts a message (the sandbox uses it that way)."""
        nonce = nonce or random_string(10)
        timestamp = timestamp or str(int(time.time()))
        nonce = xml_text(nonce)  # echoed from the request's query string
        encrypt = self.encrypt(plaintext)
        signature = sign(self.token, timestamp, nonce, encrypt)
        return (
            f"<xml><Encrypt><![CDATA[{encrypt}]]></Encrypt>"
            f"<MsgSignature><![CDATA[{signature}]]></MsgSignature>"
            f"<TimeStamp>{int(timestamp)}</TimeStamp><Nonce>{cdata(nonce)}</Nonce></xml>"
        )
