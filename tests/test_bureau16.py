"""bureau16: a workbench form that is sent but not acted on (the session ended, or the page's form token is stale)
is a page of the workbench saying nothing was changed and how to go on, with the way back to the page the form
was on. Before, each was a bare line of text (请先登录工作台。 / 表单已失效，请刷新页面后重试。). The 网页授权 entry
when it is off: tests/test_web.py::test_without_wechat_oauth_configured_there_is_no_such_sign_in. Through the
workbench's pages (aiohttp test client)."""
from __future__ import annotations

import html as htmllib
import re

from tests.dialog import SCHOOL, file_ticket
from tests.test_web import browser, csrf_of, sign_in
from storage import tickets


def _words(html: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", html.split("<main>")[1]))


async def _refused(s, path: str, status: int, menu: bool, **form) -> tuple[str, str]:
    """The page's own words and where its one link leads; `menu`: drawn in the workbench's layout (signed in)."""
    async with (s.post(path, data=form) if form else s.get(path)) as resp:
        page = await resp.text()
        assert resp.status == status, (path, resp.status, page)
    assert resp.content_type == "text/html" and "<main>" in page, page
    assert ('class="top"' in page) == menu, page
    links = re.findall(r'<a href="([^"]+)">', page.split("<main>")[1])
    assert len(links) == 1, links
    return _words(page), htmllib.unescape(links[0])


async def _state(d, number: str) -> str:
    return (await d.db(lambda db: tickets.get(db, number)))["state"]


async def test_a_form_sent_after_signing_out_says_nothing_was_done_and_sign_in_leads_back(dialog):
    number = await file_ticket(dialog, "o_b16_parent", "学校乱收费，每人收资料费300元", scene="school:jn-syxx")
    before = await _state(dialog, number)
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        token = await csrf_of(s, f"/w/t/{number}")
        await s.post("/w/signout", data={"_csrf": token})
        text, back = await _refused(s, f"/w/t/{number}", 403, False, _csrf=token, action="accept")
    assert "登录已过期" in text and "没有改动任何内容" in text, text
    assert back == f"/w/login?next=%2Fw%2Ft%2F{number}", back
    assert await _state(dialog, number) == before


async def test_a_stale_form_says_nothing_was_done_and_leads_back_to_its_page_or_home(dialog):
    number = await file_ticket(dialog, "o_b16_parent2", "学校乱收费，每人收资料费300元", scene="school:jn-syxx")
    before = await _state(dialog, number)
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        text, back = await _refused(s, f"/w/t/{number}", 403, True, _csrf="stale", action="accept")
        assert "页面已过期" in text and "没有改动任何内容" in text and back == f"/w/t/{number}", (text, back)
        # the form on the inbox posts to a path that has no page of its own: back home
        _, back = await _refused(s, "/w/accept-all", 403, True, _csrf="stale")
        assert back == "/w/", back
    assert await _state(dialog, number) == before

