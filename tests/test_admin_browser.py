"""The management pages in a real browser (Playwright driving Debian's chromium; skipped where absent, as in
tests/test_browser.py, whose fixtures these are)."""
from __future__ import annotations

from tests.dialog import LEADER
from tests.test_browser import browser, pytestmark, signed_in  # noqa: F401 - fixtures and the skip mark


async def test_a_leader_edits_a_service_item_and_sees_it_on_the_public_page(dialog, browser):
    page = await signed_in(dialog, browser, LEADER, width=390)  # on a phone
    await page.goto(page.url.replace("/w/", "/u/jn-syxx"))
    assert "课后服务家长意见征集" not in await page.inner_text("main")  # the page is cached now
    await page.goto(page.url.replace("/u/jn-syxx", "/w/"))
    await page.click("nav >> text=管理")
    await page.click("text=单位名录与服务事项")
    await page.fill("input[name=q]", "实验小学")
    await page.click("form[role=search] button")
    await page.click("text=江南区实验小学")
    await page.fill("input[name='item-0-name']", "课后服务家长意见征集")
    await page.fill("input[name='item-0-time_limit']", "每学期一次")
    await page.click("#items button.primary")
    assert "已保存服务事项" in await page.inner_text(".flash")
    async with page.context.expect_page() as opened:  # the tab the link opens, however long it takes to appear
        await page.click("text=查看公开页")
    public = await opened.value
    await public.wait_for_load_state()
    text = await public.inner_text("main")
    assert "课后服务家长意见征集" in text and "每学期一次" in text
