"""The sixteenth trust audit: secrets that are printed in code anyone can read, and links whose numbers are
digits only to Python's str.isdigit."""
from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from bot.cli import main

ROOT = Path(__file__).resolve().parents[1]
GOOD = {"TINGJIAN_WECHAT_TOKEN": "realtoken42", "TINGJIAN_SERVER_LINK_SECRET": "8f3a2c91d0b64e7fa51c",
        "TINGJIAN_WECHAT_APPID": "wx1234567890abcdef", "TINGJIAN_WECHAT_APPSECRET": "0f1e2d3c4b5a69788796a5b4"}


@pytest.mark.parametrize("variables, key", [
    ({"TINGJIAN_WECHAT_TOKEN": "tingjiandemo"}, "wechat.token"),                  # the demo's, in bot/demo.py
    ({"TINGJIAN_WECHAT_TOKEN": "spamtest"}, "wechat.token"),                      # WeChat's Sample.py
    ({"TINGJIAN_WECHAT_APPSECRET": "demo-secret"}, "wechat.appsecret"),           # the demo's
    ({"TINGJIAN_WECHAT_AES_KEY": "kWxPEV2UEDyxWpmPdKC3F4dgPDmOvfKX1HGnEUDS1aR",  # wechatpy's tests
      "TINGJIAN_WECHAT_APPID": "wx1234567890abcdef"}, "wechat.aes_key"),
])
def test_serve_refuses_a_secret_published_in_a_sample_or_the_demo(monkeypatch, tmp_path, capsys, variables, key):
    """`serve` refused the example's placeholder and guessable values, but took a token, key or AppSecret printed
    in code anyone can read -- the demo's own token (tingjiandemo, 12 letters, 10 different: not 'guessable'),
    WeChat's sample token spamtest, wechatpy's test EncodingAESKey -- and anyone who read it could sign (or
    decrypt) requests as any parent or leader. Each is refused, naming the key and where it is printed."""
    for name in list(os.environ):
        if name.startswith("TINGJIAN_"):
            monkeypatch.delenv(name)
    for name, value in {**GOOD, "TINGJIAN_STORAGE_PATH": str(tmp_path / "t.db"), **variables}.items():
        monkeypatch.setenv(name, value)
    assert main(["serve", "--config", str(ROOT / "config.example.toml")]) == 2
    err = capsys.readouterr().err
    assert key in err and "published" in err and "configuration error" in err, err
    assert not (tmp_path / "t.db").exists()  # refused before touching anything


@pytest.mark.parametrize("path", [
    "/digest/2026-W47?exp=%C2%B2&sig=x",                      # ² is a digit to str.isdigit, not to int()
    "/review/2026-11?exp=%C2%B2&sig=x",
    "/a/JY2611-0001?exp=%C2%B2&to=x&sig=x",
    "/t/JY2611-0001?exp=%C2%B2&sig=x",
    "/digest/2026-W47?exp=%D9%A1%D9%A2&sig=x",                 # Arabic-Indic digits: int() reads them
    "/review/2026-11?exp=" + "9" * 5000 + "&sig=x",          # int() refuses over 4300 digits
])
async def test_a_link_with_a_superscript_or_foreign_digit_is_refused_not_a_server_error(dialog, path):
    """A link's expiry checked with str.isdigit (which takes ², ³ and other digits int() cannot read) answered
    500 with a traceback in the log for /digest, /review and /a, as did 5000 digits (int() refuses over 4300).
    Every link is now read by one rule (ASCII digits) and such a link is refused as any altered link is."""
    async with dialog.session.get(path) as resp:
        body = await resp.text()
    assert resp.status in (403, 404), (resp.status, body[:300])
    assert "链接" in body or "没有" in body, body[:300]


async def test_staff_who_unfollow_are_unbound_and_the_citizens_words_reach_someone_who_hears(dialog):
    """A staff member who unfollowed the account stayed bound: WeChat refuses every push to them (43004), yet
    their 签收ed tickets stayed theirs and a parent's 回复 went to them alone -- failed for good, while the parent
    was told it reached the handler, and nobody who could hear was told. Unfollowing now unbinds them as
    `tingjian staff remove` does: the fees office, left with nobody, hands its tickets to the duty office (代收),
    which is told and hears the parent."""
    from storage import tickets, users
    from tests.dialog import DUTY, FEES, file_ticket, heard, send, settle, talk
    d = dialog
    number = await file_ticket(d, "o_parent_fee", "实验小学收资料费300元不给收据", scene="school:jn-syxx")
    assert (await d.db(tickets.get, number))["unit_code"] == "jyj-sfc"
    await talk(d, FEES, f"签收 {number}", expect="已签收")
    await settle(d, DUTY, FEES)  # what was sent while they followed has reached them
    await send(d, FEES, type="unsubscribe")
    await heard(d, DUTY, expect=["请代收办理", number])
    assert (await d.db(users.get, FEES))["role"] == "citizen"
    ticket = await d.db(tickets.get, number)
    assert ticket["accepted_by"] is None and ticket["unattended"]
    await talk(d, "o_parent_fee", f"回复 {number} 孩子叫王小明，收据至今没有给")
    await heard(d, DUTY, expect=["群众回复", "王小明"])
    failed = await d.db(lambda db: db.execute("SELECT openid, payload FROM outbox WHERE status = 'failed'").fetchall())
    assert failed == [], failed
    audit = await d.db(lambda db: db.execute("SELECT actor FROM audit_log WHERE action = 'staff:unfollow'").fetchall())
    assert audit == [(FEES,)]


async def test_a_citizen_who_unfollows_changes_nothing_else(dialog):
    """The other side: a parent who unfollows is only marked as not following; nobody is told anything."""
    from storage import users
    from tests.dialog import DUTY, FEES, quiet, send
    d = dialog
    await send(d, "o_parent_leaves", type="scan", scene="school:jn-syxx")
    await send(d, "o_parent_leaves", type="unsubscribe")
    assert (await d.db(users.get, "o_parent_leaves"))["subscribed"] == 0
    for who in (DUTY, FEES):
        await quiet(d, who)


async def test_a_role_change_that_leaves_a_unit_without_handlers_hands_its_tickets_to_the_stand_in(dialog, tmp_path):
    """The fees office's one handler made an admin (`tingjian staff role`, the 人员 page) left its open tickets at
    the office, not 代收, while Desk.recipients, finding none of its own people, sent a parent's 回复 to the duty
    office -- which was refused when it tried to act (不在您的办理范围内). A role change now moves who acts by
    the rule of binding and leaving: the tickets go to the duty office's 代收 (it is told why, and may act), and come
    home when the person is made the office's handler again."""
    import asyncio

    from bot.cli import main as cli
    from storage import tickets
    from tests.conftest import sandbox_wechat, write_cli_config
    from tests.dialog import DUTY, FEES, file_ticket, heard, settle, talk
    d = dialog
    number = await file_ticket(d, "o_parent_fee", "实验小学收资料费300元不给收据", scene="school:jn-syxx")
    await settle(d, DUTY)
    config = write_cli_config(tmp_path / "cli.toml", tmp_path / "demo.db", wechat=sandbox_wechat(d.session),
                              routing={"duty_office": "jyj-bgs", "oversight_office": "jyj-dcs"})
    from storage import staff
    # another admin: the last admin's role may not be taken away (audit19), and FEES is made one here
    await d.db(staff.bind, "o_it_admin", "jyj", "admin", "信息中心·王工", d.clock.now())
    assert await asyncio.to_thread(cli, ["staff", "role", FEES, "admin", "--config", str(config)]) == 0
    d.advance(time.time() + 1 - d.clock.now())  # the CLI stamped its outbox rows with the real time
    await heard(d, DUTY, expect=["请代收办理", "改任管理员", number])
    await talk(d, "o_parent_fee", f"回复 {number} 孩子叫王小明，收据至今没有给")
    await heard(d, DUTY, expect=["群众回复", "王小明"])
    await talk(d, DUTY, f"签收 {number}", expect="已签收")
    assert await asyncio.to_thread(cli, ["staff", "role", FEES, "handler", "--config", str(config)]) == 0
    ticket = await d.db(tickets.get, number)
    assert ticket["unattended"] == 0 and ticket["accepted_by"] is None  # the office's own again, to sign itself


@pytest.mark.parametrize("wrap", [("\u2066", "\u2069"), ("\u202a", "\u202c"), ("\u200f", ""), ("", "\u00ad")])
async def test_a_number_copied_with_invisible_marks_is_read_as_the_number(dialog, wrap):
    """A ticket number copied from another app comes wrapped in direction isolates or embeddings (U+2066..U+2069,
    U+202A..U+202E) or with a soft hyphen; only zero-width characters and two marks were taken out, so a parent's
    查询 with such a number listed their tickets instead of showing it, and a handler's 签收 asked for a number.
    Every invisible character is taken out by one rule (messages.INVISIBLE), for commands and bind codes alike."""
    from tests.dialog import FEES, file_ticket, talk
    d = dialog
    number = await file_ticket(d, "o_parent_copy", "实验小学收资料费300元不给收据", scene="school:jn-syxx")
    copied = wrap[0] + number + wrap[1]
    await talk(d, "o_parent_copy", f"查询 {copied}", expect=f"编号：{number}")
    await talk(d, FEES, f"签收 {copied}", expect=f"已签收 {number}")
