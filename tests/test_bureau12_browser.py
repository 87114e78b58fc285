"""The workbench on a phone in a real browser (branch bureau12; Playwright driving Debian's chromium, skipped with the
reason where either is absent, as tests/test_browser.py)."""
from __future__ import annotations

from storage import tickets
from tests.dialog import LEADER
from tests.test_browser import browser, pytestmark, signed_in  # noqa: F401 - the fixture and the skip mark
from tests.test_bureau10 import _plant


async def test_on_a_phone_a_leaders_four_tabs_sit_on_one_row(dialog, browser):
    """Before: at 390 px a leader's 全部 477 went to a second row under 待办 263 · 超期 232 · 已办结 214."""
    now = dialog.clock.now()
    for i, unit in enumerate(["jn-syxx", "jb-wcxx"]):  # three-figure tabs, as a leader's Monday
        await dialog.db(_plant, unit, 110, now - (5 - i) * 86400, False, f"tabs{i}")
    done = await dialog.db(_plant, "jyj-aqc", 105, now - 86400, True, "done")

    def resolve(db):
        for n in done:
            tickets.transition(db, tickets.get(db, n), "resolved", "o_demo_staff_syxx", now, "resolve", "已办结",
                               resolved_at=now)
    await dialog.db(resolve)
    phone = await signed_in(dialog, browser, LEADER, width=390)
    tabs = phone.locator("nav.tabs a")
    boxes = [await tabs.nth(i).bounding_box() for i in range(await tabs.count())]
    texts = [await tabs.nth(i).inner_text() for i in range(len(boxes))]
    assert len(boxes) == 4 and all(len(t.split()[-1]) == 3 for t in texts), texts
    assert max(b["y"] for b in boxes) - min(b["y"] for b in boxes) < 2, boxes


async def test_on_a_phone_an_escalation_card_is_a_short_line_a_ticket(dialog, browser):
    """Before: each line of a leader's 留言超期 card was the whole sentence, three lines of a phone a ticket."""
    now = dialog.clock.now()
    for i, unit in enumerate(["jn-syxx", "jb-wcxx", "jyj-aqc"]):
        await dialog.db(_plant, unit, 2, now - 10 * 86400, False, f"esc{i}")
    await dialog.sweep()
    phone = await signed_in(dialog, browser, LEADER, width=390)
    await phone.goto(phone.url + "notices")
    card = phone.locator("ul.notices > li", has_text="留言超期")
    lines = card.locator("ul.grouped li")
    assert await lines.count() == 6
    height = float(await lines.first.evaluate("e => parseFloat(getComputedStyle(e).lineHeight)"))
    for i in range(6):
        box = await lines.nth(i).bounding_box()
        assert box["height"] < 2.5 * height, (i, box, await lines.nth(i).inner_text())
    assert await card.locator("p.group-head").inner_text() == "超期督办6件（超过办结时限一个工作日以上）："
