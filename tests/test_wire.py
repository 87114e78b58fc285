"""What the webhook does to every message's bytes, done directly for speed, checked against the libraries it
replaced: the XML reader (expat, against defusedxml's ElementTree) and the safe-mode cipher (against wechatpy's
PrpCrypto)."""
from __future__ import annotations

import itertools
import random

import pytest
from defusedxml import DefusedXmlException
from defusedxml.ElementTree import fromstring
from hypothesis import given, settings, strategies as st
from xml.etree.ElementTree import ParseError

from bot.channels.wechat.xml import MAX_FIELDS, XmlError, parse_fields, render_text, xml_text


def reference(text: str) -> dict[str, str] | None:
    """The former reader, or None where it refused the document."""
    try:
        root = fromstring(text, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException):
        return None
    if root.tag != "xml" or len(root) > MAX_FIELDS:
        return None
    return {c.tag: "".join(c.itertext()).strip() if len(c) else (c.text or "").strip() for c in root}


def ours(text: str) -> dict[str, str] | None:
    try:
        return parse_fields(text)
    except XmlError:
        return None


PIECES = ["<xml>", "</xml>", "<Content>", "</Content>", "<MsgType>", "</MsgType>", "<a>", "</a>", "<b/>",
          "<![CDATA[", "]]>", "&amp;", "&lt;", "&#20320;", "&#x4f60;", "&bogus;", "<!-- c -->", "<?pi x?>",
          " ", "\n", "\r\n", "\t", "中文", "text", "<", ">", "&", '<x a="1">', "</x>", "\x00", "\x0b",
          '<xml xmlns="urn:x">', '<p:xml xmlns:p="urn:p">', "</p:xml>", "<!DOCTYPE xml>",
          '<?xml version="1.0" encoding="UTF-8"?>', "\ufeff"]


def documents(pieces: list[str], longest: int, n: int, seed: int) -> list[str]:
    """Every document of at most two pieces, then n of up to `longest` pieces drawn at random, half of them inside
    <xml><Content>…</Content></xml> or <xml>…</xml> (pieces alone almost never make a document a reader accepts:
    of Hypothesis's 2,000 none did): the same documents on every run. (Drawn here, ~10 µs each, where Hypothesis
    took ~2.5 ms to draw one: its 2,000 examples were 99 % drawing. It keeps a few hundred of its own below, which
    it shrinks to the smallest failing one.)"""
    rng = random.Random(seed)
    pairs = ["".join(p) for k in range(3) for p in itertools.product(pieces, repeat=k)]
    frames = [("", ""), ("", ""), ("<xml><Content>", "</Content></xml>"), ("<xml>", "</xml>")]
    drawn = []
    for _ in range(n):
        head, tail = rng.choice(frames)
        drawn.append(head + "".join(rng.choices(pieces, k=rng.randint(1 if head else 3, longest))) + tail)
    return pairs + drawn


def test_reads_every_document_as_the_tree_reader_did():
    docs = documents(PIECES, 14, 8000, seed=1)
    differ = [doc for doc in docs if ours(doc) != reference(doc)]
    assert not differ, differ[:5]
    assert sum(ours(doc) is not None for doc in docs) > 100  # documents read, not only refused


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=14).map("".join))
def test_reads_any_document_as_the_tree_reader_did(doc):
    assert ours(doc) == reference(doc)


@settings(max_examples=500, deadline=None)
@given(fields=st.dictionaries(st.sampled_from(["ToUserName", "FromUserName", "Content", "MsgId", "Event"]),
                              st.text(), max_size=5))
def test_well_formed_messages_read_back(fields):
    doc = "<xml>" + "".join(f"<{k}><![CDATA[{xml_text(v).replace(']]>', ']]]]><![CDATA[>')}]]></{k}>"
                            for k, v in fields.items()) + "</xml>"
    assert ours(doc) == reference(doc) == {k: xml_text(v).strip() for k, v in fields.items()}


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_replies_read_back_as_their_text(content):
    assert parse_fields(render_text("o_x", "gh_x", content))["Content"] == xml_text(content).strip()


@pytest.mark.parametrize("doc", [
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
    "<xml><Content>&lol2;</Content></xml>",
    '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Content>&e;</Content></xml>',
    '<!DOCTYPE x [<!ENTITY % p SYSTEM "http://127.0.0.1:9/x.dtd"> %p;]><xml/>',
    '<!DOCTYPE xml SYSTEM "http://127.0.0.1:9/x.dtd"><xml/>',
    "<!DOCTYPE xml><xml><Content>x</Content></xml>",
    "<xml><Content>&e;</Content></xml>",
    "<html><Content>x</Content></html>",
    "<xml>" + "<F>x</F>" * (MAX_FIELDS + 1) + "</xml>",
    "<xml><Content>x</Content></xml><xml/>",
    "",
])
def test_refuses_dtds_entities_and_other_shapes(doc):
    with pytest.raises(XmlError):
        parse_fields(doc)
    assert reference(doc) is None


def test_nested_fields_are_flattened_and_attributes_ignored():
    doc = ('<xml><ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult>1</ScanResult></ScanCodeInfo>'
           '<Content a="1"> hi </Content></xml>')
    assert parse_fields(doc) == {"ScanCodeInfo": "qrcode1", "Content": "hi"}


# --- the safe-mode cipher ---------------------------------------------------------------------------------------

from wechatpy.crypto import PrpCrypto, WeChatCrypto  # noqa: E402

from bot.channels.wechat.crypto import Crypto, CryptoError, sign  # noqa: E402
from tests import wx  # noqa: E402


def wechatpy_prp() -> PrpCrypto:
    return PrpCrypto(WeChatCrypto(wx.TOKEN, wx.AES_KEY, wx.APPID).key)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_cipher_agrees_with_wechatpy_both_ways(text):
    ours_ = Crypto(wx.TOKEN, wx.AES_KEY, wx.APPID)
    text = xml_text(text)  # what a message can carry (no lone surrogates)
    assert wechatpy_prp().decrypt(ours_.encrypt(text), wx.APPID) == text
    assert ours_.decrypt(wechatpy_prp().encrypt(text, wx.APPID).decode()) == text


def test_cipher_refuses_what_is_not_a_message_for_us():
    crypto = Crypto(wx.TOKEN, wx.AES_KEY, wx.APPID)
    other = PrpCrypto(WeChatCrypto(wx.TOKEN, wx.AES_KEY, "wx_other_app_id_").key).encrypt("<xml/>", "wx_other_app_id_")
    good = crypto.encrypt("<xml/>")
    for bad in [other.decode(), "", "not base64!", good[:-8], good[4:], "QUJD", good[:-4] + "AAA="]:
        with pytest.raises(CryptoError):
            crypto.decrypt(bad)
    assert crypto.decrypt(good) == "<xml/>"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", min_size=43, max_size=43))
def test_key_is_wechatpys_without_importing_it(encoding_aes_key):
    # the service derives the key itself (wechatpy's package costs ~9 MB per process); the same 32 bytes
    from bot.channels.wechat.crypto import aes_key_of
    assert aes_key_of(encoding_aes_key) == WeChatCrypto(wx.TOKEN, encoding_aes_key, wx.APPID).key
    for bad in ["", "short", encoding_aes_key + "AAAA", "!" * 43]:
        with pytest.raises(CryptoError):
            aes_key_of(bad)


def test_signature_is_wechats_sorted_sha1():
    from wechatpy.utils import WeChatSigner
    signer = WeChatSigner()
    signer.add_data(wx.TOKEN, "1409304348", "xxxxxx", "中文")
    assert sign(wx.TOKEN, "1409304348", "xxxxxx", "中文") == signer.signature


FLAT_PIECES = ["<xml>", "</xml>", "<Content>", "</Content>", "<MsgId>", "</MsgId>", "<![CDATA[", "]]>", "]", "]]",
               " ", "\n", "\r", "\t", "中文", "12", "<", ">", "&", "&amp;", "\x0b", "<a/>", "<!-- c -->", "\u3000"]


def _flat_agrees(doc: str) -> bool:
    # WeChat's flat shape is read without expat; anything else it leaves to expat, never reading it differently.
    from bot.channels.wechat.xml import _flat, _parse
    fast = _flat(doc)
    try:
        slow = _parse(doc)
    except XmlError:
        slow = None
    return fast is None or fast == slow


def test_the_flat_reader_agrees_with_expat_or_steps_aside():
    from bot.channels.wechat.xml import _flat
    docs = documents(FLAT_PIECES, 16, 8000, seed=2)
    differ = [doc for doc in docs if not _flat_agrees(doc)]
    assert not differ, differ[:5]
    assert sum(_flat(doc) is not None for doc in docs) > 30  # documents the flat path read itself


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(FLAT_PIECES), max_size=16).map("".join))
def test_the_flat_reader_agrees_with_expat_or_steps_aside_on_any_document(doc):
    assert _flat_agrees(doc)


def test_what_wechat_sends_is_read_without_expat():
    from bot.channels.wechat.xml import _flat
    from tests import wx
    inner = wx.text_xml("o_user", "你好\n<b>&amp; ]")
    body, _q = wx.encrypted(inner, "o_user")
    assert _flat(inner) == parse_fields(inner) and _flat(inner)["Content"] == "你好\n<b>&amp; ]"
    assert _flat(body) is not None and set(_flat(body)) >= {"ToUserName", "Encrypt"}
    split = wx.text_xml("o_user", "一]]>二")  # "]]>" written as two sections: left to expat, read alike
    assert _flat(split) is None and parse_fields(split)["Content"] == "一]]>二"


def test_a_section_with_brackets_before_its_end_is_read_on_the_flat_path():
    # the flat reader's section ends at the first "]]>"; a "]" or "]]" just before it, or inside, is text
    from bot.channels.wechat.xml import _flat, _parse
    for content in ("一]", "一]]", "]", "]]", "a]b]]c", "x]]]y"):
        doc = f"<xml><Content><![CDATA[{content}]]></Content><MsgId>1</MsgId></xml>"
        assert _flat(doc) == _parse(doc) == {"Content": content, "MsgId": "1"}
    assert _flat("<xml><Content><![CDATA[a]]>b]]></Content></xml>") is None  # text after a section: expat's


def test_every_character_is_kept_or_dropped_as_xml_allows_on_the_printable_paths_too():
    # xml_text and the flat reader take text that is all printable as it is (no scan): every code point, beside
    # printable text and alone, is kept, turned (\r, a lone surrogate) or dropped / refused as XML 1.0 says
    from bot.channels.wechat.xml import _flat, xml_text

    def allowed(c: str) -> bool:
        return c in "\t\n\r" or "\x20" <= c <= "\ud7ff" or "\ue000" <= c <= "\ufffd" or c >= "\U00010000"

    for cp in [*range(0x10000), *range(0x10000, 0x110000, 251), 0x10FFFF]:  # (the astral planes alike: a sample)
        c = chr(cp)
        expected = "\n" if c == "\r" else "\ufffd" if "\ud800" <= c <= "\udfff" else c if allowed(c) else ""
        assert xml_text(c) == expected and xml_text(f"a{c}b") == f"a{expected}b", hex(cp)
        if c not in "\r<&]":
            read = _flat(f"<xml><Content><![CDATA[a{c}b]]></Content></xml>")
            assert read == ({"Content": f"a{c}b".strip()} if allowed(c) else None), hex(cp)
