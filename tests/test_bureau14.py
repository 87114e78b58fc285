"""bureau14: what a workbench page says when its URL names something this person may not see, and the dashboard's
links to the neighbouring weeks on a phone. Through the workbench's pages (aiohttp test client); each test failed
on the code before it."""
from __future__ import annotations

import html as htmllib
import re

from tests.dialog import DISTRICT_HEAD, LEADER, SCHOOL, file_ticket
from tests.test_web import browser, csrf_of, sign_in

TICKET_TEXT = "没有这件留言，或它不在您的办理范围内。"
NO_RIGHT = "您的账号无权查看此页面。"


def _main(html: str) -> str:
    """The page's own words, without the header every workbench page has."""
    return htmllib.unescape(re.sub(r"<[^>]+>", " ", html.split("<main>")[1]))


async def _refused(s, path: str, method: str = "GET", **form) -> str:
    async with s.request(method, path, data=form or None) as resp:
        page = await resp.text()
        assert resp.status == 404, (path, resp.status)
    assert resp.content_type == "text/html", path
    assert 'class="top"' in page and 'href="/w/notices"' in page, path  # the workbench's own layout and menu
    assert re.search(r'<a href="/w/">返回工作台首页</a>', page), path
    return _main(page)


async def test_a_page_a_role_may_not_open_says_so_not_that_a_ticket_is_missing(dialog):
    """Before: a district head opening /w/review by URL got a bare text page, 没有这件留言，或它不在您的办理范围内 —
    a ticket's words on a page that is not a ticket (found by bureau13); a handler's /w/audit and /w/admin too."""
    async with browser(dialog) as s:
        await sign_in(dialog, s, DISTRICT_HEAD)
        for path in ("/w/review", "/w/surveys", "/w/faq/new", "/w/audit"):
            text = await _refused(s, path)
            assert NO_RIGHT in text and "留言" not in text, (path, text)
        token = await csrf_of(s, "/w/")
        text = await _refused(s, "/w/review", "POST", _csrf=token, do="comment", unit="jn-syxx", text="好")
        assert NO_RIGHT in text
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        for path in ("/w/admin", "/w/units", "/w/units/jn-syxx", "/w/staff", "/w/audit"):
            text = await _refused(s, path)
            assert NO_RIGHT in text and "留言" not in text, (path, text)


async def test_a_ticket_out_of_scope_or_never_filed_still_reads_as_a_ticket_that_is_not_there(dialog):
    """The one refusal that speaks of a ticket is the ticket's page (and its forms): another unit's ticket and a
    number never given read alike (404, never 403), now inside the workbench's layout."""
    number = await file_ticket(dialog, "o_b14_parent", "学校乱收费，每人收资料费300元", scene="school:jn-syxx")
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        token = await csrf_of(s, "/w/")
        for path in (f"/w/t/{number}", "/w/t/JY2611-9999"):
            assert TICKET_TEXT in await _refused(s, path)
        assert TICKET_TEXT in await _refused(s, f"/w/t/{number}", "POST", _csrf=token, action="accept")


async def test_a_thing_that_is_not_there_is_named_for_what_it_is(dialog):
    """A leader may open every management page: a survey, a question or a period that does not exist says which,
    not that the page is not theirs; a unit outside a district head's scope says it is the unit."""
    cases = {LEADER: {"/w/surveys/no-such-survey": "没有这份问卷", "/w/faq/no-such-question": "没有这条问答",
                      "/w/review/2026-13.xlsx": "请检查链接中的考核期"},
             DISTRICT_HEAD: {"/w/units/jb-wcxx": "没有这个单位", "/w/rates/jb-wcxx?period=2026-11": "没有这个单位"}}
    for who, pages in cases.items():
        async with browser(dialog) as s:
            await sign_in(dialog, s, who)
            for path, says in pages.items():
                text = await _refused(s, path)
                assert says in text and NO_RIGHT not in text and "留言" not in text, (who, path, text)


async def test_the_dashboards_neighbour_links_leave_out_the_year_they_share(dialog):
    """Before: “← 2026年第47周” and “2026年第49周 →” beside 按周 and 按月 took a second row at 390 px (bureau13);
    the year is in the heading already. Across the new year the year is said."""
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        for query, prev, nxt in (("kind=week&period=2026-W45", "← 第44周", "第46周 →"),
                                 ("kind=month&period=2026-01", "← 2025年12月", "2月 →"),
                                 ("kind=week&period=2026-W01", "← 2025年第52周", "第2周 →")):
            async with s.get(f"/w/dashboard?{query}") as resp:
                tabs = re.search(r'<nav class="tabs">(.*?)</nav>', await resp.text(), re.S).group(1)
            links = [htmllib.unescape(t).strip() for t in re.findall(r"<a [^>]*>([^<]*)</a>", tabs)]
            assert links == ["按周", "按月", prev, nxt], (query, links)
