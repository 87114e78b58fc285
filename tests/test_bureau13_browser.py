"""bureau13 in a real browser (Playwright driving Debian's chromium, skipped with the reason where either is absent,
as tests/test_browser.py): a leader's escalations on a phone, the review table on a desk."""
from __future__ import annotations

from tests.dialog import LEADER, at
from tests.test_browser import browser, pytestmark, signed_in  # noqa: F401 - the fixture and the skip mark
from tests.test_bureau10 import _plant
from tests.test_rates14 import _late_stand_in


async def test_on_a_phone_each_escalation_is_one_line_even_for_the_longest_unit_name(dialog, browser):
    """Before: “JY2611-0133（市教育局教育收费管理处），时限11月25日（周三）” took two lines of a phone, every line of
    the card. Now the deadline they share is said once above them, and each line is the number and the unit."""
    now = dialog.clock.now()
    for i, unit in enumerate(["jyj-sfc", "jn-syxx", "jyj-pxc"]):  # 市教育局教育收费管理处: among the longest names
        await dialog.db(_plant, unit, 2, now - 10 * 86400, False, f"one{i}")
    await dialog.sweep()
    phone = await signed_in(dialog, browser, LEADER, width=390)
    await phone.goto(phone.url + "notices")
    card = phone.locator("ul.notices > li", has_text="留言超期")
    lines = card.locator("ul.grouped li")
    assert await lines.count() == 6
    assert await card.locator("p.group-date").all_inner_texts() == ["办结时限11月6日（周五）"]
    height = float(await lines.first.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    for i in range(6):
        box = await lines.nth(i).bounding_box()
        assert box["height"] < 1.5 * height, (i, box, await lines.nth(i).inner_text())
    assert "市教育局教育收费管理处" in await card.inner_text()


async def test_at_1280_the_review_tables_rate_columns_are_as_wide_as_each_other(dialog, browser):
    """Before: the 代收 note in the 解决率 cell made that column ~450 px beside 响应率's ~80, and squeezed the unit
    names to two characters a line."""
    await _late_stand_in(dialog)
    dialog.advance(at("2026-12-01 10:00") - dialog.clock.now())
    desk = await signed_in(dialog, browser, LEADER, width=1280)
    await desk.goto(desk.url + "review?period=2026-11")
    table = desk.locator("table.ranking", has=desk.locator('tr[data-unit="jyj-bgs"]'))
    heads = {t: await table.locator("thead th", has_text=t).first.bounding_box() for t in ("单位", "响应率", "解决率")}
    assert heads["解决率"]["width"] < 2 * heads["响应率"]["width"], heads
    assert heads["单位"]["width"] > 100, heads  # a unit's name reads on a line or two, not a character a line
    note = table.locator('tr[data-note-of="jyj-bgs"]')
    assert "代收他单位留言" in await note.inner_text()
    # the note's row begins under the unit's name, not under the rank
    name = await table.locator('tr[data-unit="jyj-bgs"] td.lead').bounding_box()
    text = await note.locator("small").bounding_box()
    assert abs(text["x"] - name["x"]) < 12, (text, name)


async def test_on_a_phone_the_review_says_why_units_are_apart_in_full(dialog, browser):
    """Before: at 390 px “不参与排名（9个）不计分，也不按 0 分排名；原因列在各单位名下” ran past the screen's edge, cut
    off after 原因列 (found walking a leader's Monday, bureau13)."""
    await _late_stand_in(dialog)  # 育英小学, nobody bound: its tickets were 代收, it is listed apart
    dialog.advance(at("2026-12-01 10:00") - dialog.clock.now())
    phone = await signed_in(dialog, browser, LEADER, width=390)
    await phone.goto(phone.url + "review?period=2026-11")
    head = phone.locator("tr.unranked-head th").first
    assert "原因列在各单位名下" in await head.inner_text()
    box = await head.bounding_box()
    assert box["x"] + box["width"] <= 390 and await head.evaluate("e => e.scrollWidth <= e.clientWidth + 1"), box
