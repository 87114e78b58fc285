"""The seventeenth trust audit: a unit that loses a ticket by someone else's 转派 is told it left; a ticket number
written with any hyphen or dash (or a space) is read as the number; a placeholder AppSecret is refused."""
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
GOOD = {"TINGJIAN_WECHAT_TOKEN": "realtoken42", "TINGJIAN_SERVER_LINK_SECRET": "8f3a2c91d0b64e7fa51c",
        "TINGJIAN_WECHAT_APPID": "wx1234567890abcdef", "TINGJIAN_WECHAT_APPSECRET": "0f1e2d3c4b5a69788796a5b4"}


@pytest.mark.asyncio
async def test_a_unit_whose_ticket_is_transferred_by_someone_else_is_told_it_left(dialog):
    """A leader's, a supervisor's or the duty office's 转派 told the new unit and the citizen, never the unit
    that was working on it: its handler, who had 签收ed it, kept it in mind (and kept calling the parent) for a
    ticket that was no longer theirs. Every hand-over is now announced by one rule (Desk.moved_away): the people
    who acted for the old unit are told where it went, the one who did it is not told twice; the parent's 查询 names
    the unit that holds it."""
    from storage import tickets
    from tests.dialog import DISTRICT, DISTRICT_HEAD, FEES, LEADER, drain, file_ticket, heard, quiet, talk
    d = dialog
    parent = "o_parent_moved"
    number = await file_ticket(d, parent, "实验小学收资料费300元不给收据", scene="school:jn-syxx")
    await talk(d, FEES, f"签收 {number}", expect="已签收")
    await drain(d, FEES, DISTRICT, DISTRICT_HEAD, parent)
    # the leader: the fees office, which had signed it, is told
    await talk(d, LEADER, f"转派 {number} 江南区教育局 属区局职责", expect="江南区教育局")
    await heard(d, FEES, expect=[number, "江南区教育局", "无需再办"])
    await heard(d, DISTRICT, expect=number)
    await drain(d, DISTRICT, DISTRICT_HEAD, parent)
    await talk(d, parent, f"查询 {number}", expect="江南区教育局")
    # a supervisor of the unit itself: its handler is told, the supervisor only answered
    await talk(d, DISTRICT, f"签收 {number}", expect="已签收")
    await talk(d, DISTRICT_HEAD, f"转派 {number} 收费管理处 涉及收费", expect="收费管理处")
    await heard(d, DISTRICT, expect=[number, "收费管理处", "无需再办"])
    await quiet(d, DISTRICT_HEAD)
    await drain(d, FEES, parent)
    # not signed yet: the unit's people, who had the new-ticket notice, are told too
    await talk(d, LEADER, f"转派 {number} 江南区教育局", expect="江南区教育局")
    await heard(d, FEES, expect=[number, "江南区教育局", "无需再办"])
    assert (await d.db(tickets.get, number))["unit_code"] != "jyj-sfc"
    await talk(d, parent, f"查询 {number}", expect="江南区教育局", absent="收费管理处办理")
    # the parent's 撤回 then reaches the unit that holds it, not the ones it left
    await drain(d, FEES, DISTRICT)
    await talk(d, parent, f"撤回 {number}")
    await talk(d, parent, f"确认撤回 {number}", expect="已撤回")
    await heard(d, DISTRICT, expect=["群众已撤回", number])
    await quiet(d, FEES)


@pytest.mark.asyncio
@pytest.mark.parametrize("dash", ["\u2010", "\u2011", "\u2012", "\u2013", "\u2014", "\u2212", "\uff0d", " ", " \u2014 "])
async def test_a_number_written_with_any_dash_or_a_space_is_read_as_the_number(dialog, dash):
    """A number typed on a phone or copied from a document comes with a hyphen that is not ASCII's (Word's and
    input methods' ‐ ‑ ‒ – — −, the full-width －) or with a space (JY2611 0001); the parts were not read as one
    number, so a parent's 查询 listed their tickets instead of showing it, a handler's 签收 and 回复 asked for a
    number, and 评价 took it for no number. Every number is read by one rule (messages.read_numbers), next to
    the one for invisible characters."""
    from tests.dialog import FEES, drain, file_ticket, heard, talk
    d = dialog
    parent = "o_parent_dash"
    number = await file_ticket(d, parent, "实验小学收资料费300元不给收据", scene="school:jn-syxx")
    written = number.replace("-", dash)
    await talk(d, parent, f"查询 {written}", expect=f"编号：{number}")
    await talk(d, parent, f"{written}进度怎么样了", expect=f"编号：{number}")
    await talk(d, FEES, f"详情 {written}", expect=[f"{number}｜投诉", "办理记录"])
    await talk(d, FEES, f"签收 {written}", expect=f"已签收 {number}")
    await drain(d, parent, FEES)
    await talk(d, FEES, f"回复 {written} 您好，资料费已责成学校退还", expect=number)
    await heard(d, parent, expect="资料费已责成学校退还")
    await talk(d, parent, f"回复 {written} 收到，谢谢", expect=number)
    await heard(d, FEES, expect=["收到，谢谢", number])
    await drain(d, parent)
    await talk(d, FEES, f"办结 {written} 资料费已退还", expect=number)
    await heard(d, parent, expect="评价")
    await talk(d, parent, f"评价 {written} 1 谢谢", expect=f"感谢您的评价！留言 {number}")


@pytest.mark.parametrize("key, value", [
    ("wechat.appsecret", "your-appsecret"),
    ("wechat.appsecret", "changeme"),
    ("wechat.appsecret", "xxxxxx"),
    ("wechat.appsecret", "请填写"),
    ("wechat.appsecret", "请填写公众号的AppSecret"),
    ("wechat.appsecret", "YOUR_APP_SECRET_0123456789abcdef"),
    ("wechat.aes_key", "YourEncodingAESKeyHere0123456789abcdefghijk"),  # 43 letters and digits, 33 different
])
def test_serve_refuses_a_placeholder_word_for_any_secret(monkeypatch, tmp_path, capsys, key, value):
    """`serve` refused a placeholder token or link secret but took `wechat.appsecret = "your-appsecret"` (or
    changeme, xxxxxx, 请填写): no push could ever be sent (each token request refused), staff never heard of a new
    or urgent ticket, and nothing said why until the first one failed. Every secret key (config.SECRET_KEYS) is
    now read by one rule, refused naming the key and where its real value comes from, before anything is touched."""
    from bot.cli import main
    for name in list(os.environ):
        if name.startswith("TINGJIAN_"):
            monkeypatch.delenv(name)
    variable = "TINGJIAN_" + key.replace(".", "_").upper()
    for name, v in {**GOOD, "TINGJIAN_STORAGE_PATH": str(tmp_path / "t.db"), variable: value}.items():
        monkeypatch.setenv(name, v)
    assert main(["serve", "--config", str(ROOT / "config.example.toml")]) == 2
    err = capsys.readouterr().err
    assert f"{key}: is a placeholder" in err and "configuration error" in err and "公众号后台" in err, err
    assert not (tmp_path / "t.db").exists()  # refused before touching anything
