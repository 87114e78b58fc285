"""Transport-neutral values passed between a channel and the core."""
from __future__ import annotations

import dataclasses
import functools
import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any, Protocol

from storage import jsontext


def well_formed(text: str) -> str:
    """`text` with any lone surrogate (never valid UTF-8; a JSON escape such as \\ud800 makes one) replaced by "?":
    what cannot be stored or converted is not allowed to stop a message."""
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        return text.encode("utf-8", "replace").decode("utf-8")


# A phone's full-width keyboard (，！？：（）０-９Ａ-Ｚ…) and the ideographic space: NFKC reads each as one ASCII
# character (its compatibility decomposition), so writing that character instead changes no text's NFKC.
_WIDE = re.compile("[\u3000\uff01-\uff5e]")
_WIDE_AS = {chr(c): unicodedata.normalize("NFKD", chr(c)) for c in (0x3000, *range(0xFF01, 0xFF5F))}


def _wide_as(m: re.Match) -> str:
    return _WIDE_AS[m.group()]


def nfkc(text: str) -> str:
    """unicodedata.normalize("NFKC", text), the same string, cheaper for the usual message: CPython normalises a
    text that fails its quick check character by character (3–8 µs for a 35-character sentence with one "，", nearly
    every Chinese message, against ~0.2 µs for one it passes). A text whose only such characters are full-width
    ASCII is that ASCII: written so (the comma first, alone: most messages), it passes the quick check."""
    if unicodedata.is_normalized("NFKC", text):
        return text
    plain = text.replace("\uff0c", ",")
    if unicodedata.is_normalized("NFKC", plain):
        return plain
    plain = _WIDE.sub(_wide_as, plain)
    if unicodedata.is_normalized("NFKC", plain):
        return plain
    return unicodedata.normalize("NFKC", text)


# C0 controls but tab and line ends, DEL, and lone surrogates: what XML 1.0 (so XLSX) cannot hold and no person types
# on purpose. A vertical tab or form feed is Word's manual line break or page break, pasted into a form: a line end.
_CONTROLS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f]")
# What is pasted along unseen with a number or a code copied from another app: zero-width characters, the soft
# hyphen, direction marks, embeddings and isolates (a phone wraps a copied number in U+2066..U+2069).
INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_BREAKS = re.compile(r"[\x0b\x0c]")
# A ticket number as people write it: between JY2611 and 0001, whatever hyphen or dash a keyboard, an input method
# or a copied text puts there (U+2010..U+2015, the minus U+2212, small and full-width hyphens), with spaces around
# it, or a space alone (JY2611 0001). Letters and digits stay as written (full-width ones: nfkc, where read).
DASHES = "\\-\u2010-\u2015\u2212\ufe58\ufe63\uff0d"
_NUMBER_SPAN = re.compile(r"([JjＪｊ][YyＹｙ])\s*([0-9０-９]{4})(?:\s*[%s]\s*|\s+)([0-9０-９]+)" % DASHES)


def _hyphened(m: re.Match) -> str:
    return f"{m[1]}{m[2]}-{m[3]}"


def read_numbers(text: str) -> str:
    """`text` with what is pasted along unseen taken out (INVISIBLE) and each ticket number in it written with
    its one ASCII hyphen: the one rule by which a text naming a ticket is read (commands, ratings)."""
    text = INVISIBLE.sub("", text)
    # (a function, not the template r"\1\2-\3": re parses a template again on every call, ~1.7 µs, and each
    # message reads its text here three times)
    return _NUMBER_SPAN.sub(_hyphened, text)


def plain_text(text: str) -> str:
    """`text` as something every channel and file can carry: controls removed, Word's breaks as line ends."""
    return _CONTROLS.sub("", _BREAKS.sub("\n", well_formed(text)))


_encode = jsontext.encoder((",", ":"))  # json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode's text, cheaper
_payload = jsontext.values_encoder(_encode)  # every message's row: orjson's text where it is the same values


@dataclass(frozen=True)
class Inbound:
    """One thing a person did: a message or an event, whatever the channel."""

    openid: str
    kind: str                      # text, image, voice, video, location, link, event or unknown
    created_at: int
    text: str = ""                 # text content; for voice, the platform's speech recognition
    event: str | None = None       # subscribe, unsubscribe, scan, click, view or other
    scene: str | None = None       # QR scene, from a subscribe through a parameter QR code or a SCAN
    event_key: str | None = None   # CLICK key, VIEW url
    msg_id: str | None = None
    media_id: str | None = None
    media_url: str | None = None
    location: dict[str, Any] | None = None   # {lat, lon, scale, label}
    link: dict[str, str] | None = None       # {title, description, url}
    raw_type: str = ""             # the platform's own type name, kept for unknown kinds
    channel: str = "wechat"

    @property
    def dedupe_key(self) -> str:
        """WeChat retries carry the same MsgId; events have none, so sender + create time identify them (the
        spec's key), with the event's own name and key: a retry repeats all three, while two taps in one second (a
        subscribe and its SCAN, two menu items, a click and a LOCATION report) are different events."""
        if self.msg_id:
            return f"{self.channel}:msg:{self.msg_id}"
        what = f"{self.raw_type or self.event}:{self.event_key or ''}"
        return f"{self.channel}:evt:{self.openid}:{self.created_at}:{what}"

    def to_json(self) -> str:
        own = self.__dict__  # __init__ sets exactly the fields, in order (every message is stored with its JSON)
        if len(own) == len(_inbound_fields()):
            return _payload(own)
        return _payload({name: getattr(self, name) for name in _inbound_fields()})  # flat: no deep copy

    @classmethod
    def from_json(cls, text: str) -> "Inbound":
        return cls(**json.loads(text))


@dataclass(frozen=True)
class Reply:
    """A text for a person. `to=None` answers the sender; any other openid is pushed (through the outbox)."""

    text: str
    to: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"text": self.text, "to": self.to, "extra": self.extra}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "Reply":
        return cls(text=data["text"], to=data.get("to"), extra=data.get("extra") or {})


@dataclass(frozen=True)
class ReadFirst:
    """What a handling needs read before it can answer, when the read is too long for the writer's thread (a
    leader's figures at a million tickets: ~60 ms of CPU, while every message waits behind it). Returned by
    Dispatcher.handle_tx instead of replies when its caller reads first (`reads` given): the caller runs
    Dispatcher.read_for(db, need) on a read-only connection and handles the message again with the result in
    `reads[need.key]`; the answer then commits with the message's record as any other."""

    key: str  # the read and what it answers (the question, who asks and when), so a result answers only it
    what: str
    args: dict[str, Any]


class WebLinks(Protocol):
    """Links into the web pages, made by the edge (bot/web/) for the core: the core knows no URLs."""

    def signin(self, db, openid: str) -> str:
        """A one-time workbench sign-in link for this staff member (recorded in `db`, this transaction)."""

    def citizen_ticket(self, number: str, openid: str) -> str:
        """A signed link to the citizen's own page for one ticket."""

    def attachments(self, number: str, openid: str) -> str | None:
        """A short-lived signed link for this staff member to a page showing every attachment of one ticket."""


@functools.lru_cache(maxsize=1)
def _inbound_fields() -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(Inbound))
