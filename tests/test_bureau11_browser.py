"""The workbench on a phone and a desktop in a real browser (branch bureau11; Playwright driving Debian's chromium,
skipped with the reason where either is absent, as tests/test_browser.py)."""
from __future__ import annotations

from tests.dialog import LEADER, file_ticket
from tests.test_browser import browser, pytestmark, signed_in  # noqa: F401 - the fixture and the skip mark


async def test_on_a_phone_the_unit_and_the_deadline_of_each_ticket_say_what_they_are(dialog, browser):
    """Before: on a phone the list has no column heads, and a leader read “江北区文昌小学 / 江北区教育局 /
    10-08 23:59” under a ticket without knowing which was the school, which the unit handling it, and what the
    date was. On a phone each says 承办单位 / 办结时限; on a desktop the column heads say it, once."""
    number = await file_ticket(dialog, "o_b11_phone", "学校乱收费，每人收资料费300元", scene="school:jn-syxx")
    await file_ticket(dialog, "o_b11_phone_2", "幼儿园收费太高了，每月三千元", scene="school:jn-syxx")
    phone = await signed_in(dialog, browser, LEADER, width=390)
    row = phone.locator("table.tickets tbody tr", has_text=number)
    assert (await row.locator("td.unit").inner_text()).startswith("承办单位")
    assert (await row.locator("td.due").inner_text()).startswith("办结时限")
    state, due = await row.locator("td.st").bounding_box(), await row.locator("td.due").bounding_box()
    assert abs(state["y"] - due["y"]) < 4  # the label keeps state and deadline on one line
    desk = await signed_in(dialog, browser, LEADER, width=1280)
    row = desk.locator("table.tickets tbody tr", has_text=number)
    assert not await row.locator("td.due .lbl").is_visible() and not await row.locator("td.unit .lbl").is_visible()
    assert await desk.locator("table.tickets thead th", has_text="办结时限").is_visible()
