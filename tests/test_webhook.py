"""The WeChat webhook over real HTTP: verification, the three modes, known vectors, bad input, retries."""
from __future__ import annotations

import asyncio
import json
import time

import pytest

from bot.app import DB, create_app
from storage import outbox
from tests import wx
from tests.conftest import shared_file


@pytest.fixture
async def bot(aiohttp_client, make_config):
    """Compatible mode (兼容模式): the AES key is set and plaintext messages are allowed too, so these tests cover
    both. Safe mode alone (the default) refusing plaintext is tested in test_security.py."""
    return await aiohttp_client(create_app(make_config(wechat={"allow_plaintext": True})))


async def post(client, body: str, query: dict, content_type: str = "text/xml"):
    return await client.post(wx.url("/wechat", query), data=body.encode("utf-8") if isinstance(body, str) else body,
                             headers={"Content-Type": content_type})


async def inbound_count(client) -> int:
    return await client.app[DB].run(lambda db: db.execute("SELECT count(*) FROM inbound").fetchone()[0])


# --- URL verification -------------------------------------------------------------------------------

async def test_get_verification_echoes_echostr(bot):
    resp = await bot.get(wx.url("/wechat", wx.signed_query(echostr="hello123")))
    assert resp.status == 200
    assert await resp.text() == "hello123"


async def test_get_verification_wrong_signature_is_403(bot):
    q = wx.signed_query(echostr="hello123")
    q["signature"] = q["signature"][:-1] + ("0" if q["signature"][-1] != "0" else "1")
    resp = await bot.get(wx.url("/wechat", q))
    assert resp.status == 403
    assert "hello123" not in await resp.text()


async def test_url_verification_vectors(aiohttp_client, make_config):
    vectors = json.loads(shared_file("wechat_vectors.json").read_text())["url_verification"]
    assert vectors
    for v in vectors:
        client = await aiohttp_client(create_app(make_config(wechat={"token": v["token"]})))
        q = {"signature": v["signature"], "timestamp": v["timestamp"], "nonce": v["nonce"], "echostr": "e"}
        resp = await client.get(wx.url("/wechat", q))
        assert (resp.status == 200) == v["valid"], v["source"]


async def test_timestamp_freshness_is_checked_when_enabled(aiohttp_client, make_config):
    client = await aiohttp_client(create_app(make_config(wechat={"check_timestamp": True})))
    old = wx.signed_query(timestamp="1409735669", echostr="x")
    assert (await client.get(wx.url("/wechat", old))).status == 403
    fresh = wx.signed_query(echostr="x")
    assert (await client.get(wx.url("/wechat", fresh))).status == 200


# --- the three modes ----------------------------------------------------------------------------------

async def test_plaintext_mode_reply(bot):
    resp = await post(bot, wx.text_xml("o_user1", "帮助"), wx.signed_query("o_user1"))
    assert resp.status == 200
    fields = wx.parse_fields(await resp.text())
    assert fields["MsgType"] == "text"
    assert fields["ToUserName"] == "o_user1" and fields["FromUserName"] == wx.GH
    assert "查询" in fields["Content"]


async def test_safe_mode_reply_is_encrypted_and_signed(bot):
    body, q = wx.encrypted(wx.text_xml("o_user2", "帮助"), "o_user2")
    resp = await post(bot, body, q)
    assert resp.status == 200
    text = await resp.text()
    assert "帮助" not in text and "<Encrypt>" in text
    inner = wx.decrypt_reply(text)
    assert inner["ToUserName"] == "o_user2" and "查询" in inner["Content"]


async def test_compatible_mode_uses_the_encrypted_part(bot):
    inner = wx.text_xml("o_user3", "帮助")
    body, q = wx.encrypted(inner, "o_user3")
    # Compatible mode: the plaintext fields sit beside Encrypt. A forged plaintext part must not win.
    forged = body.replace("</xml>", "<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[forged]]></Content>"
                          "<FromUserName><![CDATA[o_attacker]]></FromUserName></xml>")
    resp = await post(bot, forged, q)
    assert resp.status == 200
    assert wx.decrypt_reply(await resp.text())["ToUserName"] == "o_user3"


async def test_safe_mode_vectors_through_http(aiohttp_client, make_config, tmp_path):
    vectors = json.loads(shared_file("wechat_vectors.json").read_text())["safe_mode_messages"]
    assert len(vectors) >= 3
    for i, v in enumerate(vectors):
        config = make_config(wechat={"token": v["token"], "aes_key": v["encoding_aes_key"], "appid": v["appid"]},
                             storage={"path": str(tmp_path / f"vector{i}.db")})
        from handlers.clock import FixedClock
        # received when Tencent signed them (a request older than the replay memory is refused: wechat.dedupe_days)
        client = await aiohttp_client(create_app(config, clock=FixedClock(float(v["timestamp"]))))
        from bot.channels.wechat.crypto import sign
        q = {"signature": sign(v["token"], v["timestamp"], v["nonce"]), "timestamp": v["timestamp"],
             "nonce": v["nonce"], "encrypt_type": "aes", "msg_signature": v["msg_signature"]}
        resp = await post(client, v["body"], q)
        if v["expect"] == "reject":
            assert resp.status == 403, v["source"]
            assert await inbound_count(client) == 0
            continue
        assert resp.status == 200, (v["source"], await resp.text())
        stored = await client.app[DB].run(lambda db: [dict(r) for r in db.query("SELECT * FROM inbound")])
        assert len(stored) == 1
        payload = json.loads(stored[0]["payload"])
        expected_plain = wx.parse_fields(v["expect_plain_xml"])
        assert payload["openid"] == expected_plain["FromUserName"]
        assert payload["text"] == expected_plain["Content"]
        assert payload["msg_id"] == expected_plain["MsgId"]
        for key, value in (v["expect"] or {}).items():
            assert expected_plain[key] == value
        reply = wx.decrypt_reply(await resp.text(), v["token"], v["encoding_aes_key"], v["appid"])
        assert reply["ToUserName"] == expected_plain["FromUserName"]


async def test_forged_msg_signature_changes_nothing(bot):
    body, q = wx.encrypted(wx.text_xml("o_user4", "你好"), "o_user4")
    q["msg_signature"] = "0" * 40
    resp = await post(bot, body, q)
    assert resp.status == 403
    assert await inbound_count(bot) == 0


async def test_message_encrypted_for_another_appid_is_rejected(bot):
    body, q = wx.encrypted(wx.text_xml("o_user5", "你好"), "o_user5", appid="wx0000000000000000")
    resp = await post(bot, body, q)
    assert resp.status == 400
    assert await inbound_count(bot) == 0


# --- message and event types ---------------------------------------------------------------------------

@pytest.mark.parametrize("xml, expect", [
    (wx.message_xml("o_t", "image", PicUrl="http://x/p.jpg", MediaId="m1"), "用文字"),
    (wx.message_xml("o_t", "voice", MediaId="m2", Format="amr", Recognition="帮助"), "查询"),
    (wx.message_xml("o_t", "voice", MediaId="m3", Format="amr"), "用文字"),
    (wx.message_xml("o_t", "video", MediaId="m4", ThumbMediaId="t"), "用文字"),
    (wx.message_xml("o_t", "shortvideo", MediaId="m5", ThumbMediaId="t"), "用文字"),
    (wx.message_xml("o_t", "location", Location_X="23.13", Location_Y="113.26", Scale="15", Label="某路"), "位置"),
    (wx.message_xml("o_t", "link", Title="t", Description="d", Url="http://x"), "链接"),
    (wx.message_xml("o_t", "miniprogrampage", Title="t"), "暂时无法处理"),
    (wx.event_xml("o_t", "CLICK", "help"), "查询"),
    (wx.event_xml("o_t", "CLICK", "nothing"), "暂未开放"),
])
async def test_message_types_get_polite_replies(bot, xml, expect):
    resp = await post(bot, xml, wx.signed_query("o_t"))
    assert resp.status == 200
    assert expect in wx.parse_fields(await resp.text())["Content"]


async def test_view_and_unsubscribe_get_success(bot):
    for xml in (wx.event_xml("o_v", "VIEW", "http://example.com"), wx.event_xml("o_v", "unsubscribe", "")):
        resp = await post(bot, xml, wx.signed_query("o_v"))
        assert resp.status == 200
        assert await resp.text() == "success"
    user = await bot.app[DB].run(lambda db: dict(next(db.query("SELECT * FROM users WHERE openid='o_v'"))))
    assert user["subscribed"] == 0


async def test_subscribe_through_qr_remembers_scene_and_names_the_school(bot):
    resp = await post(bot, wx.event_xml("o_s", "subscribe", "qrscene_school:jn-syxx"), wx.signed_query("o_s"))
    content = wx.parse_fields(await resp.text())["Content"]
    assert "欢迎关注" in content and "江南区实验小学" in content
    assert "江南区实验小学承诺：校长信箱" in content  # the unit's own published commitment
    scene = await bot.app[DB].run(lambda db: db.execute("SELECT scene FROM users WHERE openid='o_s'").fetchone()[0])
    assert scene == "school:jn-syxx"
    # Already following: a SCAN event carries the bare scene and switches the school.
    resp = await post(bot, wx.event_xml("o_s", "SCAN", "school:jb-wcxx", created=1), wx.signed_query("o_s"))
    assert "江北区文昌小学" in wx.parse_fields(await resp.text())["Content"]
    scene = await bot.app[DB].run(lambda db: db.execute("SELECT scene FROM users WHERE openid='o_s'").fetchone()[0])
    assert scene == "school:jb-wcxx"


async def test_plain_subscribe_and_unknown_scene(bot):
    resp = await post(bot, wx.event_xml("o_p", "subscribe", ""), wx.signed_query("o_p"))
    content = wx.parse_fields(await resp.text())["Content"]
    assert "欢迎关注" in content and "二维码" not in content
    resp = await post(bot, wx.event_xml("o_p", "SCAN", "school:nope", created=2), wx.signed_query("o_p"))
    assert "无法识别" in wx.parse_fields(await resp.text())["Content"]


async def test_long_reply_fits_passive_limit_and_rest_is_pushed(bot):
    # An echo of 5,000 characters is cut to an excerpt; the reply stays under WeChat's 2048-byte limit.
    resp = await post(bot, wx.text_xml("o_long", "很" * 5000), wx.signed_query("o_long"))
    content = wx.parse_fields(await resp.text())["Content"]
    assert len(content.encode()) < 2048


# --- bad input: a 4xx, a log line, nothing stored --------------------------------------------------------

BAD_BODIES = [
    ("malformed", "<xml><ToUserName>x</ToUser", 400),
    ("not xml root", "<html><body>hi</body></html>", 400),
    ("billion laughs", '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
                       "<xml><Content>&lol2;</Content></xml>", 400),
    ("external entity", '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>'
                        "<xml><Content>&e;</Content></xml>", 400),
    ("missing fields", "<xml><MsgType>text</MsgType><Content>hi</Content></xml>", 400),
    ("bad CreateTime", "<xml><ToUserName>a</ToUserName><FromUserName>b</FromUserName><CreateTime>x</CreateTime>"
                       "<MsgType>text</MsgType></xml>", 400),
    ("empty", "", 400),
]


@pytest.mark.parametrize("name, body, status", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
async def test_bad_bodies_are_rejected_and_nothing_stored(bot, name, body, status, caplog):
    resp = await post(bot, body, wx.signed_query())
    assert resp.status == status
    assert await inbound_count(bot) == 0
    assert any("rejected" in r.message for r in caplog.records)
    # ... and the server keeps serving.
    ok = await post(bot, wx.text_xml("o_after", "帮助"), wx.signed_query("o_after"))
    assert ok.status == 200


async def test_invalid_utf8_is_rejected(bot):
    resp = await post(bot, b"<xml><Content>\xff\xfe</Content></xml>", wx.signed_query())
    assert resp.status == 400
    assert await inbound_count(bot) == 0


async def test_wrong_content_type_is_415(bot):
    resp = await post(bot, wx.text_xml("o_ct", "hi"), wx.signed_query("o_ct"), content_type="application/json")
    assert resp.status == 415
    assert await inbound_count(bot) == 0


async def test_huge_body_is_413(bot):
    huge = wx.text_xml("o_huge", "长" * 40000)  # about 120 KB of UTF-8, over the 64 KiB default
    resp = await post(bot, huge, wx.signed_query("o_huge"))
    assert resp.status == 413
    assert await inbound_count(bot) == 0


async def test_huge_chunked_body_is_413(bot):
    async def chunks():
        for _ in range(100):
            yield b"<xml>" + b"a" * 1000
    resp = await bot.post(wx.url("/wechat", wx.signed_query()), data=chunks(),
                          headers={"Content-Type": "text/xml"})
    assert resp.status == 413


async def test_forged_signature_on_post_changes_nothing(bot):
    q = wx.signed_query("o_f", token="wrongtoken")
    resp = await post(bot, wx.text_xml("o_f", "hi"), q)
    assert resp.status == 403
    assert await inbound_count(bot) == 0


async def test_openid_mismatch_is_rejected(bot):
    resp = await post(bot, wx.text_xml("o_real", "hi"), wx.signed_query("o_other"))
    assert resp.status == 400


async def test_odd_unicode_is_handled(bot):
    text = "家长\u200b留言 😀 \u202eabc 𠮷 \U0001F9D1\u200D\U0001F393"
    resp = await post(bot, wx.text_xml("o_uni", text), wx.signed_query("o_uni"))
    assert resp.status == 200
    stored = await bot.app[DB].run(lambda db: db.execute("SELECT payload FROM inbound").fetchone()[0])
    assert json.loads(stored)["text"] == text


# --- retries and the 5-second rule -----------------------------------------------------------------------

async def test_three_concurrent_retries_store_once_and_answer_the_same(bot):
    inner = wx.text_xml("o_retry", "帮助", msg_id=424242)
    posts = []
    for nonce in ("n1", "n2", "n3"):  # WeChat's retries are re-signed; the MsgId stays the same
        body, q = wx.encrypted(inner, "o_retry", nonce=nonce)
        posts.append(post(bot, body, q))
    responses = await asyncio.gather(*posts)
    assert [r.status for r in responses] == [200, 200, 200]
    contents = [wx.decrypt_reply(await r.text())["Content"] for r in responses]
    assert len(set(contents)) == 1 and "查询" in contents[0]
    assert await inbound_count(bot) == 1
    # A late retry, after the first answer, gets the stored answer too.
    body, q = wx.encrypted(inner, "o_retry", nonce="n4")
    late = await post(bot, body, q)
    assert wx.decrypt_reply(await late.text())["Content"] == contents[0]
    assert await inbound_count(bot) == 1


async def test_event_retries_are_deduplicated_by_sender_and_time(bot):
    xml = wx.event_xml("o_ev", "subscribe", "qrscene_school:jn-syxx", created=1700000000)
    first = await post(bot, xml, wx.signed_query("o_ev"))
    second = await post(bot, xml, wx.signed_query("o_ev", nonce="other"))
    assert wx.parse_fields(await first.text())["Content"] == wx.parse_fields(await second.text())["Content"]
    assert await inbound_count(bot) == 1


async def test_slow_handling_answers_success_and_pushes_later(aiohttp_client, make_config):
    import threading

    from bot.app import RECEIVER
    app = create_app(make_config(wechat={"reply_timeout_seconds": 0.2}))
    client = await aiohttp_client(app)
    receiver = app[RECEIVER]
    real = receiver.handle_tx
    gate = threading.Event()

    def slow(db, inbound, *reads):  # (the receiver passes what it read first: handlers.messages.ReadFirst)
        gate.wait(60)  # (set below, however loaded the machine)
        return real(db, inbound, *reads)
    receiver.handle_tx = slow
    inner = wx.text_xml("o_slow", "帮助", msg_id=99)
    body, q = wx.encrypted(inner, "o_slow")
    resp = await post(client, body, q)
    assert await resp.text() == "success"
    # WeChat's retry while the work still runs: also 'success', never a second handling.
    body, q = wx.encrypted(inner, "o_slow", nonce="again")
    assert await (await post(client, body, q)).text() == "success"
    gate.set()
    deadline = time.monotonic() + 60  # (100 tries 0.02 s apart: too few for a loaded machine)
    while not (queued := await app[DB].run(outbox.list_for, "o_slow")) and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    assert len(queued) == 1
    assert "查询" in json.loads(queued[0]["payload"])["content"]
    assert await inbound_count(client) == 1
    # A retry after the work is done still does not answer passively (the reply went by the outbox).
    body, q = wx.encrypted(inner, "o_slow", nonce="third")
    assert await (await post(client, body, q)).text() == "success"


async def test_a_failing_handler_leaves_nothing_half_done(bot):
    from bot.app import RECEIVER
    from storage import users as users_store
    receiver = bot.app[RECEIVER]

    def half_then_fail(db, inbound, *reads):
        users_store.set_scene(db, inbound.openid, "school:jn-syxx", 1.0)  # a write...
        raise RuntimeError("bug")                                        # ...then a bug
    receiver.handle_tx = half_then_fail
    resp = await post(bot, wx.text_xml("o_bug", "你好"), wx.signed_query("o_bug"))
    assert "出了点问题" in wx.parse_fields(await resp.text())["Content"]
    scene = await bot.app[DB].run(lambda d: d.execute("SELECT scene FROM users WHERE openid='o_bug'").fetchone())
    assert scene == (None,)  # the half-done write was rolled back; the message itself is kept as handled
    status = await bot.app[DB].run(lambda d: d.execute("SELECT status FROM inbound").fetchone()[0])
    assert status == "done"
