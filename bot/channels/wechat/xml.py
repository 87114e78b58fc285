"""WeChat XML in and out. Parsing refuses DTDs and entities (billion laughs, external entities) and accepts
only the flat <xml><Field>value</Field>…</xml> shape WeChat sends."""
from __future__ import annotations

import time
from xml.etree.ElementTree import ParseError

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from wechatpy.replies import TextReply

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


def render_text(to_user: str, from_user: str, content: str) -> str:
    """A passive text reply. wechatpy renders it with CDATA and the create time WeChat expects."""
    reply = TextReply(source=from_user, target=to_user, content=content, time=int(time.time()))
    return reply.render()
