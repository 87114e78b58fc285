"""WeChat XML in and out. Parsing refuses DTDs and entities (billion laughs, external entities) and accepts
only the flat <xml><Field>value</Field>…</xml> shape WeChat sends."""
from __future__ import annotations

import re
import time
from xml.parsers import expat

MAX_FIELDS = 64


class XmlError(ValueError):
    """The body is not a WeChat XML message."""


class _Refused(Exception):
    """A DTD or an entity declaration: never expanded, never fetched."""


def _refuse(*_args) -> None:
    raise _Refused("DTDs and entities are not accepted")


def parse_fields(text: str) -> dict[str, str]:
    """`<xml>` with child elements -> {tag: text}. Nested elements (ScanCodeInfo, SendPicsInfo …) become their
    flattened text; attributes are ignored.

    Read straight from expat (C), without building a tree: the webhook parses two documents per message, and
    ElementTree through defusedxml took the pure-Python parser path (8 % of a busy server's time). The same
    refusals as defusedxml's: any DOCTYPE (so no internal or external entity can be declared), entity
    declarations, and external references. What WeChat actually sends is read by `_flat` first."""
    fast = _flat(text)
    return fast if fast is not None else _parse(text)


# One field as WeChat writes it: a simple tag holding one CDATA section or plain text with nothing to decode.
# A section's text is read as runs without "]", each "]" taken only where no "]]>" starts (so it ends at the first
# "]]>", as in XML): a lazy (.*?) stepped through the safe-mode envelope's ~500 characters of base64 one at a time.
_FIELD = re.compile(r"[ \t\n]*<([A-Za-z_][A-Za-z0-9_]*)>(?:<!\[CDATA\[([^\]]*(?:\](?!\]>)[^\]]*)*)\]\]>|([^<&\]]*))</\1>")
_END = re.compile(r"[ \t\n]*</xml>[ \t\n]*")


def _flat(text: str) -> dict[str, str] | None:
    """The fields of a document of exactly WeChat's flat shape, or None for anything else (read by expat then).
    Nothing in that shape needs a parser's work: no declaration, entity, reference, comment or nesting, no \\r
    to normalise, no character XML forbids; a CDATA section ends at its first "]]>" as in XML."""
    # (isprintable: one C pass that no character XML forbids passes -- controls, surrogates, U+FFFE/F are not
    # printable -- about twice as fast as the class scan on the envelope's base64; a document with line ends is not
    # printable at its first one, and is scanned)
    if not text.startswith("<xml>") or "\r" in text or not text.isprintable() and _NOT_XML.search(text):
        return None
    fields: dict[str, str] = {}
    pos, count = 5, 0
    while (m := _FIELD.match(text, pos)) is not None:
        value = m.group(2)
        if value is None:
            value = m.group(3)
        count += 1
        if count > MAX_FIELDS:
            return None
        fields[m.group(1)] = value.strip()
        pos = m.end()
    return fields if _END.fullmatch(text, pos) else None


def _parse(text: str) -> dict[str, str]:
    parser = expat.ParserCreate(namespace_separator="}")  # namespaced tags come out as {uri}tag, as in ElementTree
    parser.buffer_text = True
    parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    parser.StartDoctypeDeclHandler = _refuse
    parser.EntityDeclHandler = _refuse
    parser.UnparsedEntityDeclHandler = _refuse
    parser.ExternalEntityRefHandler = _refuse
    fields: dict[str, str] = {}
    depth = 0
    root = None
    count = 0
    name = ""
    chunks: list[str] = []

    def start(tag: str, _attrs) -> None:
        nonlocal depth, root, count, name
        depth += 1
        if depth == 1:
            root = "{" + tag if "}" in tag else tag
            if root != "xml":
                raise XmlError(f"root element must be <xml>, got <{root}>")
        elif depth == 2:
            count += 1
            if count > MAX_FIELDS:
                raise XmlError("too many fields")
            name = "{" + tag if "}" in tag else tag
            chunks.clear()

    def end(_tag: str) -> None:
        nonlocal depth
        if depth == 2:
            fields[name] = "".join(chunks).strip()  # all text inside the field, nested elements' included
        depth -= 1

    def data(value: str) -> None:
        if depth >= 2:
            chunks.append(value)

    parser.StartElementHandler = start
    parser.EndElementHandler = end
    parser.CharacterDataHandler = data
    try:
        parser.Parse(text, True)
    except expat.ExpatError as exc:
        raise XmlError(f"malformed XML: {exc}") from None
    except _Refused as exc:
        raise XmlError(f"malformed XML: {exc}") from None
    return fields


# What XML 1.0 cannot carry at all: control characters other than tab and line ends, lone surrogates, U+FFFE/F.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: str) -> str:
    """Text as an XML parser will give it back: line ends as \\n (parsers turn \\r into \\n even in CDATA),
    lone surrogates as U+FFFD, and characters XML forbids dropped."""
    if value.isprintable():  # no line end, control, surrogate or U+FFFE/F: as it is (openids, nonces, most texts)
        return value
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
