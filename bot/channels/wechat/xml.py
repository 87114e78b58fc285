"""WeChat XML in and out. Parsing refuses DTDs and entities (billion laughs, external entities) and accepts
only the flat <xml><Field>value</Field>…</xml> shape WeChat sends."""
from __future__ import annotations

import re
import time
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring

MAX_FIELDS = 64


class XmlError(ValueError):
    """The body is not a WeChat XML message."""


def parse_fields(text: str) -> dict[str, str]:
    """`<xml>` with child elements -> {tag: text}. Nested elements (ScanCodeInfo, SendPicsInfo …) become their
    flattened text; attributes are ignored."""
    try:
        root = fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException) as exc:
        raise XmlError(f"malformed XML: {exc}") from None
    if root.tag != "xml":
        raise XmlError(f"root element must be <xml>, got <{root.tag}>")
    if len(root) > MAX_FIELDS:
        raise XmlError("too many fields")
    fields: dict[str, str] = {}
    for child in root:
        fields[child.tag] = "".join(child.itertext()).strip() if len(child) else (child.text or "").strip()
    return fields


# What XML 1.0 cannot carry at all: control characters other than tab and line ends, lone surrogates, U+FFFE/F.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """Text as an XML parser will give it back: line ends as \\n (parsers turn \\r into \\n even in CDATA),
    lone surrogates as U+FFFD, and characters XML forbids dropped."""
    value = value.replace("\r\n", "\n").replace("\r", "\n")
    return _NOT_XML.sub(lambda m: "\ufffd" if "\ud800" <= m.group(0) <= "\udfff" else "", value)


def cdata(value: str) -> str:
    """Any text as CDATA: sanitised, and a "]]>" inside split across two sections so it cannot end the element."""
    return "<![CDATA[" + xml_text(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def render_text(to_user: str, from_user: str, content: str, now: float | None = None) -> str:
    """A passive text reply. Every value goes through cdata(): citizens' words reach staff in these replies, and
    the user names are echoed from the request."""
    created = int(time.time() if now is None else now)
    return (f"<xml><ToUserName>{cdata(to_user)}</ToUserName><FromUserName>{cdata(from_user)}</FromUserName>"
            f"<CreateTime>{created}</CreateTime><MsgType><![CDATA[text]]></MsgType>"
            f"<Content>{cdata(content)}</Content></xml>")
