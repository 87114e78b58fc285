"""bureau14 in a real browser (Playwright driving Debian's chromium, skipped with the reason where either is absent,
as tests/test_browser.py): the dashboard's period links on a phone, a refused page in the workbench's layout."""
from __future__ import annotations

from tests.dialog import DISTRICT_HEAD, LEADER
from tests.test_browser import browser, pytestmark, signed_in  # noqa: F401 - the fixture and the skip mark


async def test_on_a_phone_the_dashboards_period_links_are_one_row(dialog, browser):
    """Before: at 390 px “2026年第46周 →” went to a second row under 按周 · 按月 · ← 2026年第44周."""
    phone = await signed_in(dialog, browser, LEADER, width=390)
    await phone.goto(phone.url + "dashboard?kind=week&period=2026-W45")
    links = phone.locator("nav.tabs a")
    assert await links.all_inner_texts() == ["按周", "按月", "← 第44周", "第46周 →"]
    tops = {round((await links.nth(i).bounding_box())["y"]) for i in range(4)}
    assert len(tops) == 1, tops


async def test_a_page_not_theirs_is_a_workbench_page_with_the_way_back(dialog, browser):
    """Before: a district head opening /w/review by URL got one bare line about a ticket, no menu, no way back."""
    phone = await signed_in(dialog, browser, DISTRICT_HEAD, width=390)
    start = phone.url
    response = await phone.goto(start + "review")
    assert response.status == 404
    assert await phone.inner_text("main h1") == "无法查看此页面"
    assert "您的账号无权查看此页面" in await phone.inner_text("main")
    await phone.click("text=返回工作台首页")
    assert phone.url == start
