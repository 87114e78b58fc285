"""What `serve` refuses to start with, file modes of the database, and the XML every reply is built from."""
from __future__ import annotations

import os
import re
import stat
import subprocess
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[1]
GOOD = {"TINGJIAN_WECHAT_TOKEN": "realtoken42", "TINGJIAN_SERVER_LINK_SECRET": "8f3a2c91d0b64e7fa51c",
        # serve refuses to start unable to push (tests/test_audit5.py)
        "TINGJIAN_WECHAT_APPID": "wx1234567890abcdef", "TINGJIAN_WECHAT_APPSECRET": "0f1e2d3c4b5a69788796a5b4"}


@pytest.fixture
def env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("TINGJIAN_"):
            monkeypatch.delenv(name)

    def set_env(**values):
        for name, value in {**GOOD, **values}.items():
            if value is None:
                monkeypatch.delenv(name, raising=False)
            else:
                monkeypatch.setenv(name, value)
    return set_env


@pytest.mark.parametrize("variables, key", [
    ({"TINGJIAN_WECHAT_TOKEN": ""}, "wechat.token"),
    ({"TINGJIAN_WECHAT_TOKEN": None}, "wechat.token"),  # the example file's placeholder
    ({"TINGJIAN_WECHAT_TOKEN": "changeme"}, "wechat.token"),
    ({"TINGJIAN_WECHAT_TOKEN": "YourTokenHere"}, "wechat.token"),
    ({"TINGJIAN_SERVER_LINK_SECRET": None}, "server.link_secret"),
    ({"TINGJIAN_SERVER_LINK_SECRET": ""}, "server.link_secret"),
    ({"TINGJIAN_SERVER_LINK_SECRET": "replace-with-a-random-secret"}, "server.link_secret"),
    ({"TINGJIAN_SERVER_LINK_SECRET": "short"}, "server.link_secret"),
    ({"TINGJIAN_SANDBOX_ENABLED": "true", "TINGJIAN_SERVER_HOST": "0.0.0.0"}, "sandbox.enabled"),
])
def test_serve_refuses_missing_or_placeholder_secrets(env, tmp_path, capsys, variables, key):
    env(TINGJIAN_STORAGE_PATH=str(tmp_path / "t.db"), **variables)
    assert main(["serve", "--config", str(ROOT / "config.example.toml")]) == 2
    err = capsys.readouterr().err
    assert key in err and "configuration error" in err
    assert not (tmp_path / "t.db").exists()  # refused before touching anything


def test_serve_refuses_the_sandbox_on_a_public_address_given_on_the_command_line(env, tmp_path, capsys):
    env(TINGJIAN_STORAGE_PATH=str(tmp_path / "t.db"), TINGJIAN_SANDBOX_ENABLED="true")
    assert main(["serve", "--config", str(ROOT / "config.example.toml"), "--host", "192.0.2.10"]) == 2
    assert "sandbox.enabled" in capsys.readouterr().err


def test_the_sandbox_is_announced_in_the_log(make_config, caplog):
    from bot.app import create_app
    create_app(make_config(sandbox={"enabled": True}))
    assert "sandbox is ON" in caplog.text
    caplog.clear()
    create_app(make_config())
    assert "sandbox" not in caplog.text


@pytest.mark.parametrize("path", ["/proc/tingjian/t.db", "NOTADB"])
def test_unwritable_database_gives_one_clear_line(env, tmp_path, capsys, path):
    if path == "NOTADB":
        path = str(tmp_path / "garbage.db")
        Path(path).write_bytes(b"this is not an SQLite file" * 100)
    env(TINGJIAN_STORAGE_PATH=path)
    assert main(["serve", "--config", str(ROOT / "config.example.toml")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot open the database" in err and path in err
    assert "Traceback" not in err


def test_read_only_database_gives_one_clear_line(env, tmp_path, capsys):
    from storage.db import Database
    path = tmp_path / "ro.db"
    Database(path).start().close()  # an existing, migrated database
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here (root on a filesystem with attributes)")
    try:
        env(TINGJIAN_STORAGE_PATH=str(path))
        assert main(["serve", "--config", str(ROOT / "config.example.toml")]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "cannot open the database" in err and "readonly" in err
    finally:
        subprocess.run(["chattr", "-i", str(path)])


def test_database_file_and_folder_are_private(tmp_path):
    from storage.db import Database
    folder = tmp_path / "new" / "data"
    db = Database(folder / "t.db").start()
    try:
        db.run_sync(lambda conn: conn.execute("CREATE TABLE IF NOT EXISTS x (a)"))
        for path in (folder / "t.db", folder / "t.db-wal", folder / "t.db-shm"):
            assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    finally:
        db.close()


# --- invite codes -----------------------------------------------------------------------------------------

@pytest.fixture
def store(tmp_path):
    from storage import directory
    from storage.db import Database
    from bot.demo import DEMO_DIRECTORY
    db = Database(tmp_path / "s.db").start()
    db.run_sync(directory.upsert, directory.read_csv(DEMO_DIRECTORY))
    yield db
    db.close()


def invite(store, now=1000.0, ttl=7 * 86400):
    from storage import staff
    return store.run_sync(staff.create_invite, "jyj-sfc", "handler", "李老师", now, ttl)


def redeem(store, code, openid, now=2000.0, limits=(5, 50)):
    """As the desk calls it: the error is caught inside the transaction, which keeps the attempt's record."""
    from storage import staff

    def attempt(db):
        try:
            return staff.redeem(db, code, openid, now, limits)
        except staff.InviteError as exc:
            return exc.reason
    return store.run_sync(attempt)


def test_invite_codes_are_stored_salted_and_slow(store):
    first, second = invite(store), invite(store)
    rows = store.run_sync(lambda db: [r[0] for r in db.execute("SELECT code_hash FROM staff_invites")])
    assert all(r.startswith("scrypt$") for r in rows)
    salts = {r.split("$")[1] for r in rows}
    assert len(salts) == 2 and len(next(iter(salts))) == 32
    dump = "\n".join(store.run_sync(lambda db: list(db.conn.iterdump())))
    assert first not in dump and second not in dump
    import hashlib
    assert hashlib.sha256(first.encode()).hexdigest() not in dump


def test_code_with_zero_width_and_full_width_characters_binds(store):
    code = invite(store)
    typed = "\u200b" + "".join(chr(ord(c) + 0xFEE0) for c in code[:4]) + "\u200d " + code[4:].lower() + "\ufeff"
    assert redeem(store, typed, "o_new_staff")["unit_code"] == "jyj-sfc"
    assert redeem(store, code, "o_other") == "used"


async def test_bind_command_ignores_a_zero_width_character(bot):
    import time

    from bot.app import DB
    from storage import staff
    from tests import wx
    code = await bot.app[DB].run(staff.create_invite, "jyj-sfc", "handler", "李老师", time.time(), 3600)
    body, q = wx.encrypted(wx.text_xml("o_zw", f"绑定\u200b {code[:3]}\u200b{code[3:]}"), "o_zw")
    resp = await bot.post(wx.url("/wechat", q), data=body.encode(), headers={"Content-Type": "text/xml"})
    assert resp.status == 200
    assert "绑定成功" in wx.decrypt_reply(await resp.text())["Content"]


def test_invite_expires(store):
    code = invite(store, now=1000.0, ttl=7 * 86400)
    assert redeem(store, code, "o_late", now=1000.0 + 7 * 86400 + 1) == "expired"


def test_default_invite_validity_is_seven_days():
    from bot.config import load_config
    assert load_config(None, env={}).notify.invite_hours == 7 * 24


def test_wrong_codes_are_limited_per_person_and_logged_without_secrets(store, caplog):
    code = invite(store)
    for i in range(5):
        assert redeem(store, "ZZZZZZZZ", "o_guesser_123", now=2000.0 + i) == "unknown"
    assert redeem(store, code, "o_guesser_123", now=2010.0) == "limited"  # even the right code, this hour
    assert "wrong invite code" in caplog.text and "refused" in caplog.text
    assert "o_guesser_123" not in caplog.text and "ZZZZZZZZ" not in caplog.text and code not in caplog.text
    assert redeem(store, code, "o_guesser_123", now=2000.0 + 3601)["role"] == "handler"  # an hour later


def test_wrong_codes_are_limited_in_total(store):
    code = invite(store)
    for i in range(10):
        assert redeem(store, "ZZZZZZZZ", f"o_bot_{i}", limits=(5, 10)) == "unknown"
    assert redeem(store, code, "o_innocent", limits=(5, 10)) == "limited"


def test_many_guesses_cost_no_scrypt_unless_the_selector_matches(store, monkeypatch):
    from storage import staff
    code = invite(store)
    # Counted, not timed (a bound of 2 s for 40 guesses, against ~4 s of scrypt, was the machine's load to pass)
    hashed, real = [], staff._hash
    monkeypatch.setattr(staff, "_hash", lambda guess, salt: hashed.append(guess) or real(guess, salt))
    guesses = [f"Q{i:07d}" for i in range(40)]
    for i, guess in enumerate(guesses):
        redeem(store, guess, f"o_{i}", limits=(100, 1000))
    selector = code[:staff.SELECTOR_LENGTH]
    assert hashed == [g for g in guesses if g.startswith(selector)]  # scrypt only for a selector that matches


def test_upgrade_voids_unused_unsalted_invite_codes(tmp_path, caplog):
    import hashlib
    import time

    from storage.db import connect
    from storage.migrations import migrate, migrations
    from storage import directory, staff
    from bot.demo import DEMO_DIRECTORY
    db = connect(tmp_path / "old.db")
    migrations.apply(db, stop_before="m007_invite_hardening")
    directory.upsert(db, directory.read_csv(DEMO_DIRECTORY))
    old = "ABCDEFGH"
    db.execute("INSERT INTO staff_invites (code_hash, unit_code, role, name, created_at, expires_at) "
               "VALUES (?, 'jyj-sfc', 'handler', '旧码', ?, ?)",
               [hashlib.sha256(old.encode()).hexdigest(), time.time(), time.time() + 86400])
    migrate(db)
    assert "1 unused invite code(s) made before this version no longer work" in caplog.text
    with pytest.raises(staff.InviteError):
        staff.redeem(db, old, "o_x", time.time())
    assert db.execute("SELECT expires_at <= ? FROM staff_invites", [time.time()]).fetchone()[0] == 1


# --- unsigned bodies and replays ------------------------------------------------------------------------------

async def _post(client, body: str, query: dict):
    from tests import wx
    return await client.post(wx.url("/wechat", query), data=body.encode(), headers={"Content-Type": "text/xml"})


async def _stored(client) -> list[str]:
    from bot.app import DB
    return await client.app[DB].run(lambda db: [r[0] for r in db.execute("SELECT key FROM inbound")])


async def test_plaintext_is_refused_when_an_aes_key_is_set(bot):
    from tests import wx
    resp = await _post(bot, wx.text_xml("o_plain", "帮助"), wx.signed_query("o_plain"))
    assert resp.status == 403
    body, q = wx.encrypted(wx.text_xml("o_plain", "帮助"), "o_plain")
    del q["msg_signature"]
    assert (await _post(bot, body, q)).status == 403
    del q["encrypt_type"]
    assert (await _post(bot, body, q)).status == 403
    assert await _stored(bot) == []


async def test_plaintext_is_taken_in_compatible_mode_only_when_allowed(aiohttp_client, make_config):
    from bot.app import create_app
    from tests import wx
    client = await aiohttp_client(create_app(make_config(wechat={"allow_plaintext": True})))
    assert (await _post(client, wx.text_xml("o_plain", "帮助"), wx.signed_query("o_plain"))).status == 200


@pytest.fixture
async def plain(aiohttp_client, make_config):
    """Plaintext mode (no AES key): the body is not signed, only the URL."""
    from bot.app import create_app
    return await aiohttp_client(create_app(make_config(wechat={"aes_key": "", "appid": ""})))


async def test_a_captured_signed_url_cannot_carry_new_bodies(plain):
    from tests import wx
    q = wx.signed_query()
    assert (await _post(plain, wx.text_xml("o_parent", "帮助", msg_id=1001), q)).status == 200
    for i in range(4):  # the proxy-log replay: the same URL, new bodies acting as a leader
        resp = await _post(plain, wx.text_xml("o_leader", f"待办 {i}", msg_id=2000 + i), q)
        assert resp.status == 403
    assert await _stored(plain) == ["wechat:msg:1001"]
    from bot.app import RECEIVER
    receiver = plain.app[RECEIVER]
    if receiver.spool is not None:  # refused means refused: not kept for later either
        assert receiver.spool.pending() == 0
        assert await receiver.drain_spool() == 0
        assert await _stored(plain) == ["wechat:msg:1001"]


async def test_a_signed_url_whose_body_was_refused_is_spent(plain):
    from tests import wx
    q = wx.signed_query()
    assert (await _post(plain, "<xml><broken>", q)).status == 400
    assert (await _post(plain, wx.text_xml("o_leader", "待办", msg_id=2101), q)).status == 403
    assert await _stored(plain) == []


async def test_a_replayed_encrypted_request_is_refused(bot):
    from tests import wx
    body, q = wx.encrypted(wx.text_xml("o_a", "帮助", msg_id=3001), "o_a")
    assert (await _post(bot, body, q)).status == 200
    # Another captured message re-posted under the first request's timestamp and nonce.
    other, q2 = wx.encrypted(wx.text_xml("o_b", "帮助", msg_id=3002), "o_b", timestamp=q["timestamp"],
                             nonce=q["nonce"])
    assert (await _post(bot, other, q2)).status == 403
    assert await _stored(bot) == ["wechat:msg:3001"]


async def test_wechat_retries_are_still_answered(plain):
    from tests import wx
    xml = wx.text_xml("o_retry", "帮助", msg_id=4001)
    first = await _post(plain, xml, wx.signed_query())
    again = await _post(plain, xml, wx.signed_query())  # WeChat re-signs a retry with a new nonce
    same = await _post(plain, xml, wx.signed_query(nonce="77", timestamp=first.url.query["timestamp"]))
    repeat = await _post(plain, xml, wx.signed_query(nonce="77", timestamp=first.url.query["timestamp"]))
    # The whole reply is compared but its CreateTime, the second it was written: a retry may come a second later.
    texts = [re.sub(r"<CreateTime>\d+</CreateTime>", "", await r.text()) for r in (first, again, same, repeat)]
    assert [r.status for r in (first, again, same, repeat)] == [200] * 4
    assert len(set(texts)) == 1 and "查询" in texts[0]  # the identical request is the same message: harmless
    assert await _stored(plain) == ["wechat:msg:4001"]


async def test_replays_are_refused_across_workers(aiohttp_client, make_config):
    """Two processes' apps on one database file: a request seen by one is a replay at the other."""
    from bot.app import create_app
    from tests import wx
    config = make_config(wechat={"aes_key": "", "appid": ""})
    one = await aiohttp_client(create_app(config))
    two = await aiohttp_client(create_app(config))
    q = wx.signed_query()
    assert (await _post(one, wx.text_xml("o_x", "帮助", msg_id=5001), q)).status == 200
    assert (await _post(two, wx.text_xml("o_y", "帮助", msg_id=5002), q)).status == 403


def test_remembered_requests_are_pruned_after_the_window(store):
    from storage import inbound
    old, new = inbound.request_key("100", "a"), inbound.request_key("900", "b")
    store.run_sync(inbound.remember_request, old, "wechat:msg:1")
    store.run_sync(inbound.remember_request, new, "wechat:msg:2")
    store.run_sync(inbound.remember_request, inbound.request_key("99999999999", "c"), "wechat:msg:5")
    assert store.run_sync(inbound.prune_requests, 500.0) == 1  # by the request's own timestamp
    store.run_sync(inbound.remember_request, old, "wechat:msg:3")  # forgotten: taken again
    with pytest.raises(inbound.Replay):
        store.run_sync(inbound.remember_request, new, "wechat:msg:4")


# --- XML built from any text --------------------------------------------------------------------------------

from hypothesis import HealthCheck, given, settings, strategies as st  # noqa: E402

NASTY = st.one_of(
    st.text(st.characters(exclude_categories=())),  # every code point, lone surrogates included
    st.lists(st.sampled_from(["]]>", "]]", ">", "<", "&", "<![CDATA[", "\x00", "\x0b", "\r", "\r\n",
                                       "\ud800", "\udfff", "\ufffe", "\uffff", "\u200b", "𐩀", "\U0010ffff",
                                       "</Content>", "中文", " "])).map("".join),
)


def _parsed(xml: str) -> dict[str, str]:
    import xml.etree.ElementTree as ET
    return {child.tag: child.text or "" for child in ET.fromstring(xml)}


@settings(max_examples=300, deadline=None)
@given(content=NASTY, to_user=NASTY, from_user=NASTY)
def test_every_passive_reply_parses_back_to_its_text(content, to_user, from_user):
    from bot.channels.wechat.xml import render_text, xml_text
    fields = _parsed(render_text(to_user, from_user, content))
    assert list(fields) == ["ToUserName", "FromUserName", "CreateTime", "MsgType", "Content"]
    assert fields["Content"] == xml_text(content)
    assert fields["ToUserName"] == xml_text(to_user) and fields["FromUserName"] == xml_text(from_user)
    assert fields["MsgType"] == "text"


@settings(max_examples=150, deadline=None)
@given(content=NASTY, nonce=NASTY)
def test_every_safe_mode_reply_decrypts_and_parses_back(content, nonce):
    from bot.channels.wechat.crypto import Crypto
    from bot.channels.wechat.xml import render_text, xml_text
    from tests import wx
    crypto = Crypto(wx.TOKEN, wx.AES_KEY, wx.APPID)
    body = crypto.encrypt_envelope(render_text("o_staff", wx.GH, content), nonce or None)
    outer = _parsed(body)
    assert crypto.check_msg_signature(outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
    assert _parsed(crypto.decrypt(outer["Encrypt"]))["Content"] == xml_text(content)


def test_xml_text_keeps_ordinary_text_and_drops_what_xml_cannot_carry():
    from bot.channels.wechat.xml import xml_text
    assert xml_text("投诉：收费600元\n谢谢 😀\t]]>&<") == "投诉：收费600元\n谢谢 😀\t]]>&<"
    assert xml_text("a\x00b\x1fc\ufffed\r\ne\rf") == "abcd\ne\nf"
    assert xml_text("x\ud800y") == "x\ufffdy"


async def test_a_complaint_with_cdata_end_reaches_a_handler_intact(bot):
    """The attack from the audit: a citizen's "]]>" in a ticket shown to staff in 详情."""
    from bot.app import DB
    from storage import staff
    from tests import wx
    evil = "学校收费]]><MsgType>news</MsgType>&<补课费600元"
    await bot.app[DB].run(staff.bind, "o_handler", "jyj-sfc", "handler", "李老师", 0)

    async def say(openid, text):
        body, q = wx.encrypted(wx.text_xml(openid, text), openid)
        resp = await _post(bot, body, q)
        assert resp.status == 200
        return wx.decrypt_reply(await resp.text())["Content"]
    from tests.test_digest import add
    now = __import__("time").time()
    await bot.app[DB].run(lambda db: add(db, 1, "jyj-sfc", created=now, accept_due=now + 86400, due=now + 7 * 86400,
                                         text=evil, state="assigned"))
    # The handler's details contain the citizen's words: the reply parses (decrypt_reply would raise) and shows
    # all of them as text, including what follows the "]]>".
    number = (await bot.app[DB].run(lambda db: db.execute("SELECT number FROM tickets").fetchone()))[0]
    assert "补课费600元" in await say("o_handler", f"详情 {number}")
