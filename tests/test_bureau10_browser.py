"""The workbench on a phone and a desktop in a real browser (branch bureau10; Playwright driving Debian's chromium,
skipped with the reason where either is absent, as tests/test_browser.py)."""
from __future__ import annotations

from tests.dialog import LEADER
from tests.test_browser import browser, pytestmark, signed_in  # noqa: F401 - the fixture and the skip mark


async def test_the_calendar_warning_is_one_line_on_a_phone_and_its_text_a_tap_away(dialog, browser):
    """Before: the whole paragraph on every page, about a third of a 390 px screen."""
    page = await signed_in(dialog, browser, LEADER, width=390)
    box = page.locator("#calendar-warning")
    summary = await box.locator("summary").inner_text()
    assert "2027年节假日未录入" in summary
    height = (await box.bounding_box())["height"]
    line = await page.evaluate("() => parseFloat(getComputedStyle(document.querySelector('#calendar-warning'))"
                               ".lineHeight) || 20")
    assert height <= 2 * line + 16, (height, line)  # two lines at most, padding included
    assert not await page.locator("#calendar-warning p").is_visible()
    assert await box.locator("summary .open-hint").is_visible()  # it says it opens (an earlier class hid it)
    await box.locator("summary").click()
    assert "chinese-calendar" in await page.locator("#calendar-warning p").inner_text()
