"""The weekly digest page on a leader's phone, in a real browser (Playwright driving Debian's chromium; skipped,
with the reason, where chromium or playwright is absent, as in tests/test_browser.py whose fixtures these are)."""
from __future__ import annotations

from bot.app import CONFIG, DISPATCHER
from bot.web import digest_link
from tests.test_browser import browser, pytestmark  # noqa: F401 - the fixture and the skip mark
from tests.test_digest import _path, served  # noqa: F401 - the fixture: W48's tickets, served over HTTP


async def _open(browser, port: int, path: str, width: int):
    context = await browser.new_context(viewport={"width": width, "height": 800}, device_scale_factor=1)
    page = await context.new_page()
    response = await page.goto(f"http://127.0.0.1:{port}{path}")
    assert response.status == 200
    return page


async def test_on_a_phone_the_digest_fits_the_screen_and_only_the_units_table_scrolls_sideways(served, browser):
    app, port = served
    path = _path(digest_link(app[CONFIG], "2026-W48", "bureau", app[DISPATCHER].clock.now()))
    page = await _open(browser, port, path, 390)
    layout = await page.evaluate("""() => {
        const box = e => e.getBoundingClientRect();
        const wide = document.querySelector('.wide');
        return {
            page: document.documentElement.scrollWidth, screen: window.innerWidth,
            cards: [...document.querySelectorAll('.cards .card')].map(c => [box(c).left, box(c).right, box(c).top]),
            svg: box(document.querySelector('svg')).right,
            table: {scroll: wide.scrollWidth, shown: wide.clientWidth, right: box(wide).right},
            names: [...wide.querySelectorAll('td:first-child')].map(td => [box(td).width, box(td).height,
                                                                           td.innerText]),
            lineHeight: parseFloat(getComputedStyle(wide.querySelector('td')).lineHeight) || 20,
            overdue: [...document.querySelectorAll('section')].filter(s => s.innerText.includes('目前超期的留言'))
                                                           .map(s => box(s).right),
            unstaffed: [...document.querySelectorAll('section')].filter(s => s.innerText.includes('无人绑定的单位'))
                                                             .map(s => [box(s).right, s.innerText.length])};
    }""")
    # nothing but the units' table is wider than the phone: the page itself never scrolls sideways
    assert layout["page"] <= layout["screen"] == 390, layout
    assert all(0 <= left and right <= 390 for left, right, _ in layout["cards"]), layout["cards"]
    rows = sorted({round(top) for *_, top in layout["cards"]})
    assert len(rows) == 2 and all(sum(1 for *_, top in layout["cards"] if round(top) == y) == 3 for y in rows)
    assert layout["svg"] <= 390 and all(right <= 390 for right in layout["overdue"])
    # the units nobody is bound to (audit11) are named in full and wrap within the screen
    assert len(layout["unstaffed"]) == 1 and layout["unstaffed"][0][0] <= 390, layout["unstaffed"]
    # the units' table scrolls inside its box, which stays on the screen
    assert layout["table"]["right"] <= 390 and layout["table"]["scroll"] >= layout["table"]["shown"]
    # each unit's name keeps a readable width: at most two lines, never one character a line
    assert layout["names"] and all(width >= 90 and height <= 3.2 * layout["lineHeight"]
                                   for width, height, _ in layout["names"]), layout["names"]
    # a name links to the tickets behind its figures, and the link opens within reach of a thumb
    link = page.locator(".wide td:first-child a").first
    assert (await link.get_attribute("href")).startswith("/w/rates/")
    assert (await link.bounding_box())["height"] >= 14


async def test_on_a_desktop_the_units_table_shows_whole(served, browser):
    app, port = served
    path = _path(digest_link(app[CONFIG], "2026-W48", "bureau", app[DISPATCHER].clock.now()))
    page = await _open(browser, port, path, 1280)
    scroll, shown = await page.evaluate("() => { const w = document.querySelector('.wide'); "
                                        "return [w.scrollWidth, w.clientWidth]; }")
    assert scroll == shown  # no sideways scrolling where the screen is wide enough
