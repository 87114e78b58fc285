"""The local WeChat platform: api.weixin.qq.com endpoints with their official answers and error codes, and the
user side that posts signed (and encrypted) XML to a webhook with WeChat's retries. Real HTTP throughout."""
from __future__ import annotations

import asyncio
import json

import pytest
from aiohttp import web

from bot.channels.wechat.crypto import Crypto
from bot.channels.wechat.xml import parse_fields, render_text
from bot.sandbox.platform import Sandbox

TOKEN = "sandboxtoken"
AES_KEY = "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR"
APPID = "wx49f0ab532d5d035a"
SECRET = "s3cr3t"
T0 = 1_700_000_000.0


class FakeClock:
    def __init__(self, t: float = T0):
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


class FakeWebhook:
    """What a bot's server does, minimally: check the signatures, decrypt, record, answer (encrypted when the
    request was). `delays` holds seconds to sleep on the first calls; `answer` returns the reply text or None."""

    def __init__(self, crypto: Crypto):
        self.crypto = crypto
        self.calls: list[dict] = []
        self.delays: list[float] = []
        self.answer = lambda fields: f"收到：{fields.get('Content') or fields.get('Event') or fields['MsgType']}"
        self.tamper = False

    async def handle(self, request: web.Request) -> web.Response:
        q = request.query
        body = await request.text()
        assert request.content_type == "text/xml"
        assert self.crypto.check_signature(q.get("signature"), q["timestamp"], q["nonce"]), "bad signature"
        outer = parse_fields(body)
        encrypted = q.get("encrypt_type") == "aes"
        if encrypted:
            assert self.crypto.check_msg_signature(q.get("msg_signature"), q["timestamp"], q["nonce"],
                                                   outer["Encrypt"]), "bad msg_signature"
            fields = parse_fields(self.crypto.decrypt(outer["Encrypt"]))
        else:
            fields = outer
        assert q["openid"] == fields["FromUserName"]
        self.calls.append({"query": dict(q), "body": body, "outer": outer, "fields": fields})
        if self.delays:
            await asyncio.sleep(self.delays.pop(0))
        text = self.answer(fields)
        if text is None:
            return web.Response(text="success")
        reply = render_text(fields["FromUserName"], fields["ToUserName"], text)
        if encrypted:
            reply = self.crypto.encrypt_envelope(reply, q["nonce"])
            if self.tamper:
                reply = reply.replace("<MsgSignature><![CDATA[", "<MsgSignature><![CDATA[0")
        return web.Response(text=reply, content_type="application/xml")


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
async def hook(aiohttp_server):
    fake = FakeWebhook(Crypto(TOKEN, AES_KEY, APPID))
    app = web.Application()
    app.router.add_post("/wechat", fake.handle)
    server = await aiohttp_server(app)
    fake.url = str(server.make_url("/wechat"))
    return fake


@pytest.fixture
def make_sandbox(aiohttp_client, hook, clock):
    async def make(**kw):
        kw.setdefault("clock", clock)
        kw.setdefault("reply_timeout", 2.0)
        aes_key = kw.pop("aes_key", AES_KEY)
        sandbox = Sandbox(TOKEN, aes_key, APPID, SECRET, hook.url, **kw)
        app = web.Application()
        sandbox.add_routes(app)
        client = await aiohttp_client(app)
        client.sandbox = sandbox
        return client
    return make


@pytest.fixture
async def api(make_sandbox):
    return await make_sandbox()


async def get_token(api) -> str:
    resp = await api.get("/cgi-bin/token", params={"grant_type": "client_credential", "appid": APPID,
                                                    "secret": SECRET})
    data = await resp.json()
    assert resp.status == 200
    assert data["expires_in"] == 7200 and len(data["access_token"]) > 64
    return data["access_token"]


async def custom(api, token, openid="o_user", content="你好", raw=None):
    body = raw if raw is not None else json.dumps(
        {"touser": openid, "msgtype": "text", "text": {"content": content}})
    params = {"access_token": token} if token is not None else {}
    resp = await api.post("/cgi-bin/message/custom/send", params=params, data=body)
    assert resp.status == 200
    return await resp.json()


async def user_send(api, **payload):
    resp = await api.post("/sandbox/send", json=payload)
    data = await resp.json()
    assert resp.status == 200, data
    return data


# ---------------------------------------------------------------------------------------------- access tokens

async def test_token_errors(api):
    async def code(**params):
        base = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET}
        resp = await api.get("/cgi-bin/token", params={**base, **params})
        return (await resp.json()).get("errcode")
    assert await code(appid="wx0000000000000000") == 40013
    assert await code(secret="wrong") == 40125
    assert await code(grant_type="password") == 40002
    assert await code(appid="") == 41002
    assert await code(secret="") == 41004


async def test_new_token_invalidates_the_previous_after_five_minutes(api, clock):
    api.sandbox.follow("o_user")
    first = await get_token(api)
    clock.advance(60)
    second = await get_token(api)
    assert second != first
    assert (await custom(api, first))["errcode"] == 0          # still good during the hand-over
    clock.advance(299)
    assert (await custom(api, first))["errcode"] == 0
    clock.advance(2)
    data = await custom(api, first)
    assert data["errcode"] == 40001 and "invalid credential" in data["errmsg"]
    assert (await custom(api, second))["errcode"] == 0


async def test_token_expires_after_7200_seconds(api, clock):
    token = await get_token(api)
    clock.advance(7200)
    assert (await custom(api, token))["errcode"] == 42001


async def test_missing_and_unknown_token(api):
    assert (await custom(api, None))["errcode"] == 41001
    assert (await custom(api, "not-a-token"))["errcode"] == 40001


async def test_stable_token(api, clock):
    api.sandbox.follow("o_user")

    async def stable(**kw):
        body = {"grant_type": "client_credential", "appid": APPID, "secret": SECRET, **kw}
        resp = await api.post("/cgi-bin/stable_token", json=body)
        return await resp.json()

    a = await stable()
    clock.advance(100)
    b = await stable(force_refresh=False)
    assert a["access_token"] == b["access_token"] and b["expires_in"] == 7100
    # the plain /cgi-bin/token is a separate credential: fetching one does not touch the stable token
    await get_token(api)
    clock.advance(400)
    assert (await custom(api, a["access_token"]))["errcode"] == 0
    # force_refresh issues a new token and the previous one stops working
    c = await stable(force_refresh=True)
    assert c["access_token"] != a["access_token"]
    assert (await custom(api, a["access_token"]))["errcode"] == 40001
    assert (await custom(api, c["access_token"]))["errcode"] == 0
    # a second forced refresh within 30 s does not refresh
    clock.advance(10)
    assert (await stable(force_refresh=True))["access_token"] == c["access_token"]
    # in the last five minutes the platform renews; the old token works until it expires
    clock.advance(7200 - 10 - 200)
    d = await stable()
    assert d["access_token"] != c["access_token"] and d["expires_in"] == 7200
    assert (await custom(api, c["access_token"]))["errcode"] == 0
    clock.advance(201)
    assert (await custom(api, c["access_token"]))["errcode"] == 42001
    # errors as /cgi-bin/token; bad JSON is 47001
    assert (await stable(appid="wx_wrong"))["errcode"] == 40013
    assert (await stable(secret="nope"))["errcode"] == 40125
    resp = await api.post("/cgi-bin/stable_token", data="{not json")
    assert (await resp.json())["errcode"] == 47001


# ---------------------------------------------------------------------------------------------- custom/send

async def test_custom_send_and_its_errors(api, clock):
    token = await get_token(api)
    assert (await custom(api, token, openid="o_nobody"))["errcode"] == 40003
    await user_send(api, openid="o_user", type="text", content="在吗")
    assert await custom(api, token, content="第一行\n第二行") == {"errcode": 0, "errmsg": "ok"}
    assert (await custom(api, token, content="字" * 682))["errcode"] == 0               # 2046 bytes
    assert (await custom(api, token, content="字" * 683))["errcode"] == 45002           # 2049 bytes
    assert (await custom(api, token, content=""))["errcode"] == 44004
    assert (await custom(api, token, raw="{bad json"))["errcode"] == 47001
    assert (await custom(api, token, raw=json.dumps({"touser": "o_user", "msgtype": "voice",
                                                      "voice": {"media_id": "x"}})))["errcode"] == 40008
    news = {"touser": "o_user", "msgtype": "news",
            "news": {"articles": [{"title": "办事指南", "description": "入学材料", "url": "https://example.org/a"}]}}
    assert (await custom(api, token, raw=json.dumps(news)))["errcode"] == 0
    two = {**news, "news": {"articles": news["news"]["articles"] * 2}}
    assert (await custom(api, token, raw=json.dumps(two)))["errcode"] == 45008
    link = {"touser": "o_user", "msgtype": "link", "link": {"title": "进度", "url": "https://example.org/t/1"}}
    assert (await custom(api, token, raw=json.dumps(link)))["errcode"] == 0
    image = {"touser": "o_user", "msgtype": "image", "image": {"media_id": "MEDIA"}}
    assert (await custom(api, token, raw=json.dumps(image)))["errcode"] == 0
    data = await (await api.get("/sandbox/messages", params={"openid": "o_user"})).json()
    kinds = [(m["kind"], m["content"]) for m in data["messages"]]
    assert kinds[0] == ("text", "第一行\n第二行")
    assert [k for k, _ in kinds] == ["text", "text", "news", "link", "image"]


async def test_custom_send_only_within_48_hours_of_the_last_interaction(api, clock):
    token = await get_token(api)
    await user_send(api, openid="o_user", type="text", content="你好")
    clock.advance(48 * 3600 - 5)
    token = await get_token(api)    # the first one has long expired
    assert (await custom(api, token))["errcode"] == 0
    clock.advance(10)
    assert (await custom(api, token))["errcode"] == 45015
    await user_send(api, openid="o_user", type="click", key="MENU_PROGRESS")   # a click menu reopens it
    assert (await custom(api, token))["errcode"] == 0
    await user_send(api, openid="o_user", type="unsubscribe")
    assert (await custom(api, token))["errcode"] == 45015
    # VIEW (opening a link from the menu) is not an interaction
    api.sandbox.follow("o_viewer", at=clock.t - 49 * 3600)
    await user_send(api, openid="o_viewer", type="view", url="https://example.org")
    assert (await custom(api, token, openid="o_viewer"))["errcode"] == 45015


# ---------------------------------------------------------------------------------------------- template/send

async def test_template_send(api, clock):
    token = await get_token(api)
    api.sandbox.follow("o_user")
    clock.advance(72 * 3600)       # far outside the 48-hour window
    token = await get_token(api)
    body = {"touser": "o_user", "template_id": "TPL_PROGRESS", "url": "https://example.org/t/1",
            "data": {"first": {"value": "您的诉求有新进展"}, "keyword1": {"value": "TJ-0001"},
                     "remark": {"value": "感谢反映"}}}
    resp = await api.post("/cgi-bin/message/template/send", params={"access_token": token}, json=body)
    data = await resp.json()
    assert data["errcode"] == 0 and data["errmsg"] == "ok" and isinstance(data["msgid"], int)
    assert (await custom(api, token))["errcode"] == 45015       # customer-service messages are refused
    for change, code in (({"template_id": ""}, 40037), ({"touser": "o_stranger"}, 40003),
                         ({"data": "x"}, 47001)):
        resp = await api.post("/cgi-bin/message/template/send", params={"access_token": token},
                              json={**body, **change})
        assert (await resp.json())["errcode"] == code
    await user_send(api, openid="o_user", type="unsubscribe")
    resp = await api.post("/cgi-bin/message/template/send", params={"access_token": token}, json=body)
    assert (await resp.json())["errcode"] == 43004
    resp = await api.post("/cgi-bin/message/template/send", params={"access_token": "stale"}, json=body)
    assert (await resp.json())["errcode"] == 40001
    messages = (await (await api.get("/sandbox/messages", params={"openid": "o_user"})).json())["messages"]
    assert len(messages) == 1
    m = messages[0]
    assert m["kind"] == "template" and m["template_id"] == "TPL_PROGRESS" and m["msgid"] == data["msgid"]
    assert m["data"]["keyword1"]["value"] == "TJ-0001" and m["url"] == "https://example.org/t/1"
    assert "TJ-0001" in m["content"]


# ---------------------------------------------------------------------------------------------- QR codes

async def test_qrcode_create_validation_and_image(api, clock):
    token = await get_token(api)

    async def create(body):
        resp = await api.post("/cgi-bin/qrcode/create", params={"access_token": token}, json=body)
        return await resp.json()

    def str_scene(action, scene, **kw):
        return {"action_name": action, "action_info": {"scene": {"scene_str": scene}}, **kw}

    def id_scene(action, scene, **kw):
        return {"action_name": action, "action_info": {"scene": {"scene_id": scene}}, **kw}

    permanent = await create(str_scene("QR_LIMIT_STR_SCENE", "school:jn-syxx"))
    assert set(permanent) == {"ticket", "url"} and permanent["url"].startswith("http://weixin.qq.com/q/")
    assert (await create(str_scene("QR_LIMIT_STR_SCENE", "school:jn-syxx")))["ticket"] == permanent["ticket"]
    temp = await create(str_scene("QR_STR_SCENE", "invite:42", expire_seconds=600))
    assert temp["expire_seconds"] == 600 and temp["ticket"] != permanent["ticket"]
    assert (await create(id_scene("QR_SCENE", 12345)))["expire_seconds"] == 60      # the default lifetime
    assert "ticket" in await create(id_scene("QR_LIMIT_SCENE", 100000))
    assert "ticket" in await create(str_scene("QR_LIMIT_STR_SCENE", "x" * 64))
    for bad in (str_scene("QR_LIMIT_STR_SCENE", "x" * 65), str_scene("QR_LIMIT_STR_SCENE", ""),
                str_scene("QR_STR_SCENE", "a", expire_seconds=2592001),
                id_scene("QR_LIMIT_SCENE", 0), id_scene("QR_LIMIT_SCENE", 100001), id_scene("QR_SCENE", 0),
                id_scene("QR_LIMIT_SCENE", "7"), {"action_name": "QR_LIMIT_STR_SCENE"},
                str_scene("QR_NOPE", "a")):
        assert (await create(bad))["errcode"] == 40097, bad
    resp = await api.post("/cgi-bin/qrcode/create", json=str_scene("QR_LIMIT_STR_SCENE", "a"))
    assert (await resp.json())["errcode"] == 41001

    resp = await api.get("/cgi-bin/showqrcode", params={"ticket": permanent["ticket"]})
    assert resp.status == 200 and resp.content_type == "image/png"
    assert (await resp.read()).startswith(b"\x89PNG\r\n\x1a\n")
    assert (await api.get("/cgi-bin/showqrcode", params={"ticket": "nope"})).status == 404
    raw = await api.get("/cgi-bin/showqrcode?ticket=" + permanent["ticket"])     # not URL-encoded
    assert raw.status == 200
    clock.advance(601)
    assert (await api.get("/cgi-bin/showqrcode", params={"ticket": temp["ticket"]})).status == 404
    assert (await api.get("/cgi-bin/showqrcode", params={"ticket": permanent["ticket"]})).status == 200

    # the simulator's shortcut: a permanent ticket for a scene without an access_token
    data = await (await api.get("/sandbox/qrcode", params={"scene": "school:jn-syxx"})).json()
    assert data["ticket"] == permanent["ticket"] and data["image"].startswith("/cgi-bin/showqrcode?ticket=")
    assert (await api.get(data["image"])).status == 200
    assert (await (await api.get("/sandbox/qrcode", params={"scene": ""})).json())["errcode"] == 40097


# ---------------------------------------------------------------------------------------------- messages listing

async def test_messages_listing(api):
    token = await get_token(api)
    for openid in ("o_a", "o_b"):
        api.sandbox.follow(openid)
    for openid, text in (("o_a", "一"), ("o_b", "二"), ("o_a", "三")):
        assert (await custom(api, token, openid=openid, content=text))["errcode"] == 0
    everything = (await (await api.get("/sandbox/messages")).json())["messages"]
    assert [m["content"] for m in everything] == ["一", "二", "三"]
    assert all({"id", "openid", "kind", "content", "at"} <= set(m) for m in everything)
    only_a = (await (await api.get("/sandbox/messages", params={"openid": "o_a"})).json())["messages"]
    assert [m["content"] for m in only_a] == ["一", "三"]
    after = (await (await api.get("/sandbox/messages",
                                  params={"openid": "o_a", "after": str(only_a[0]["id"])})).json())["messages"]
    assert [m["content"] for m in after] == ["三"]
    assert (await api.get("/sandbox/messages", params={"after": "x"})).status == 400
    users = (await (await api.get("/sandbox/users")).json())["users"]
    assert {u["openid"] for u in users} == {"o_a", "o_b"} and all(u["window_open"] for u in users)


# ---------------------------------------------------------------------------------------------- the user's side

async def test_send_text_in_safe_mode(api, hook, clock):
    result = await user_send(api, openid="o_parent", type="text", content="孩子的午餐费\n涨得太多了")
    assert result["reply"] == "收到：孩子的午餐费\n涨得太多了"
    assert result["status"] == 200 and result["tries"] == 1 and "error" not in result
    call = hook.calls[0]
    q, outer, f = call["query"], call["outer"], call["fields"]
    assert q["encrypt_type"] == "aes" and q["openid"] == "o_parent" and q["timestamp"] == str(int(T0))
    assert set(outer) == {"ToUserName", "Encrypt"} and outer["ToUserName"].startswith("gh_")
    assert f["ToUserName"] == outer["ToUserName"] == api.sandbox.original_id
    assert f["FromUserName"] == "o_parent" and f["MsgType"] == "text" and f["CreateTime"] == str(int(T0))
    assert f["Content"] == "孩子的午餐费\n涨得太多了"
    assert f["MsgId"].isdigit() and 0 < int(f["MsgId"]) < 2**63 and result["msg_id"] == f["MsgId"]
    assert result["auto_followed"] is True


async def test_send_messages_and_events_fields(api, hook):
    ids = set()
    r = await user_send(api, openid="o_p", type="voice", recognition="我要投诉校外培训机构")
    f = hook.calls[-1]["fields"]
    assert f["MsgType"] == "voice" and f["Recognition"] == "我要投诉校外培训机构" and f["Format"] == "amr"
    assert f["MediaId"] and f["MsgId"]
    ids.add(f["MsgId"])
    r = await user_send(api, openid="o_p", type="location", lat=23.134521, lon=113.358803, scale=20,
                        label="江南区学府路18号")
    f = hook.calls[-1]["fields"]
    assert (f["MsgType"], f["Location_X"], f["Location_Y"], f["Scale"], f["Label"]) == \
        ("location", "23.134521", "113.358803", "20", "江南区学府路18号")
    assert "<Location_X>23.134521</Location_X>" in r["request_xml"]
    ids.add(f["MsgId"])
    await user_send(api, openid="o_p", type="image")
    f = hook.calls[-1]["fields"]
    assert f["MsgType"] == "image" and f["PicUrl"].startswith("http") and f["MediaId"]
    ids.add(f["MsgId"])
    await user_send(api, openid="o_p", type="link", title="一篇文章", description="摘要", url="https://example.org")
    f = hook.calls[-1]["fields"]
    assert (f["MsgType"], f["Title"], f["Url"]) == ("link", "一篇文章", "https://example.org")
    ids.add(f["MsgId"])
    await user_send(api, openid="o_p", type="video")
    assert hook.calls[-1]["fields"]["ThumbMediaId"]
    ids.add(hook.calls[-1]["fields"]["MsgId"])
    assert len(ids) == 5

    # a first scan of a parameter QR code = following through it: subscribe with qrscene_
    r = await user_send(api, openid="o_new", type="scan", scene="school:jn-syxx")
    f = hook.calls[-1]["fields"]
    assert (f["MsgType"], f["Event"], f["EventKey"]) == ("event", "subscribe", "qrscene_school:jn-syxx")
    assert f["Ticket"] and "MsgId" not in f and r["type"] == "subscribe"
    # scanning again while following: SCAN with the bare scene
    r = await user_send(api, openid="o_new", type="scan", scene="school:jb-wcxx")
    f = hook.calls[-1]["fields"]
    assert (f["Event"], f["EventKey"]) == ("SCAN", "school:jb-wcxx") and r["type"] == "scan"
    assert int(f["CreateTime"]) > int(hook.calls[-2]["fields"]["CreateTime"])   # events never share a second
    await user_send(api, openid="o_new", type="click", key="MENU_HELP")
    f = hook.calls[-1]["fields"]
    assert (f["Event"], f["EventKey"]) == ("CLICK", "MENU_HELP")
    await user_send(api, openid="o_new", type="unsubscribe")
    f = hook.calls[-1]["fields"]
    assert f["Event"] == "unsubscribe" and "EventKey" not in f
    await user_send(api, openid="o_new", type="subscribe")
    f = hook.calls[-1]["fields"]
    assert (f["Event"], f["EventKey"]) == ("subscribe", "")
    await user_send(api, openid="o_new2", type="subscribe", scene="office:jyj-zsc")
    assert hook.calls[-1]["fields"]["EventKey"] == "qrscene_office:jyj-zsc"
    await user_send(api, openid="o_new", type="view", url="https://example.org/menu")
    f = hook.calls[-1]["fields"]
    assert (f["Event"], f["EventKey"]) == ("VIEW", "https://example.org/menu")
    # scanning by ticket (as a phone camera would)
    ticket = (await (await api.get("/sandbox/qrcode", params={"scene": "school:sz1"})).json())["ticket"]
    await user_send(api, openid="o_new", type="scan", ticket=ticket)
    f = hook.calls[-1]["fields"]
    assert (f["Event"], f["EventKey"], f["Ticket"]) == ("SCAN", "school:sz1", ticket)


async def test_sandbox_xml_is_what_the_bots_webhook_reads(api):
    from bot.channels.wechat.webhook import to_inbound
    sandbox = api.sandbox
    xml, _ = sandbox.build_xml({"openid": "o_x", "type": "voice", "recognition": "你好"})
    inbound = to_inbound(parse_fields(xml))
    assert (inbound.kind, inbound.text, inbound.openid) == ("voice", "你好", "o_x") and inbound.msg_id
    xml, _ = sandbox.build_xml({"openid": "o_y", "type": "scan", "scene": "school:jn-syxx"})
    inbound = to_inbound(parse_fields(xml))
    assert (inbound.event, inbound.scene) == ("subscribe", "school:jn-syxx")
    xml, _ = sandbox.build_xml({"openid": "o_y", "type": "scan", "scene": "school:jn-syxx"})
    assert (to_inbound(parse_fields(xml)).event, to_inbound(parse_fields(xml)).scene) == ("scan", "school:jn-syxx")
    xml, _ = sandbox.build_xml({"openid": "o_y", "type": "location", "lat": 23.1, "lon": 113.2, "label": "学校"})
    assert to_inbound(parse_fields(xml)).location["lat"] == pytest.approx(23.1)


async def test_success_or_empty_means_no_passive_reply(api, hook):
    hook.answer = lambda fields: None
    result = await user_send(api, openid="o_p", type="text", content="hello")
    assert result["reply"] is None and result["status"] == 200 and "error" not in result


async def test_retries_when_no_answer_within_the_timeout(make_sandbox, hook):
    api = await make_sandbox(reply_timeout=0.3)
    hook.delays = [1.0]                  # the first try is too slow; the second answers at once
    result = await user_send(api, openid="o_p", type="text", content="重试")
    assert result["tries"] == 2 and result["reply"] == "收到：重试"
    assert len(hook.calls) == 2
    assert hook.calls[0]["body"] == hook.calls[1]["body"]
    assert hook.calls[0]["fields"]["MsgId"] == hook.calls[1]["fields"]["MsgId"]


async def test_three_tries_in_all_then_gives_up(make_sandbox, hook):
    api = await make_sandbox(reply_timeout=0.2)
    hook.delays = [0.5, 0.5, 0.5]
    result = await user_send(api, openid="o_p", type="text", content="慢")
    assert result["tries"] == 3 and result["reply"] is None and len(hook.calls) == 3
    assert "0.2 s" in result["error"] and result["notice"] == "该公众号暂时无法提供服务，请稍后再试"


async def test_bad_reply_signature_is_reported(api, hook):
    hook.tamper = True
    result = await user_send(api, openid="o_p", type="text", content="签名")
    assert result["reply"] is None and "MsgSignature" in result["error"]


async def test_plaintext_mode(make_sandbox, hook):
    api = await make_sandbox(aes_key="")
    result = await user_send(api, openid="o_p", type="text", content="明文")
    call = hook.calls[0]
    assert "encrypt_type" not in call["query"] and "msg_signature" not in call["query"]
    assert call["outer"]["Content"] == "明文" and result["reply"] == "收到：明文"


async def test_compatible_mode(make_sandbox, hook):
    api = await make_sandbox(mode="compat")
    result = await user_send(api, openid="o_p", type="text", content="兼容")
    outer = hook.calls[0]["outer"]
    assert outer["Content"] == "兼容" and outer["Encrypt"] and hook.calls[0]["fields"]["Content"] == "兼容"
    assert result["reply"] == "收到：兼容"


async def test_unreachable_webhook(aiohttp_client, clock):
    sandbox = Sandbox(TOKEN, AES_KEY, APPID, SECRET, "http://127.0.0.1:9/wechat", clock=clock, reply_timeout=1)
    app = web.Application()
    sandbox.add_routes(app)
    api = await aiohttp_client(app)
    result = await user_send(api, openid="o_p", type="text", content="有人吗")
    assert result["reply"] is None and result["tries"] == 3 and "cannot reach" in result["error"]


async def test_send_rejects_bad_requests(api):
    for body in ({"type": "text", "content": "x"}, {"openid": "o", "type": "fax"}, {"openid": "o", "type": "text"},
                 {"openid": "o", "type": "scan"}, {"openid": "o", "type": "scan", "scene": "x" * 65},
                 {"openid": "o", "type": "location", "lat": "north"}, {"openid": "o", "type": "click"}):
        resp = await api.post("/sandbox/send", json=body)
        assert resp.status == 400 and "error" in await resp.json(), body
    resp = await api.post("/sandbox/send", data="not json")
    assert resp.status == 400
