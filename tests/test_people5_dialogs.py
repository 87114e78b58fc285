"""people5: what a parent, a teacher and a leader meet — the leaders' dashboard on a Monday morning, English
messages, and messy chats — each a short dialogue or page test."""
from __future__ import annotations

from tests.dialog import LEADER, file_ticket
from tests.test_web import browser, sign_in


async def test_the_dashboard_opens_on_last_week_when_this_week_has_barely_begun(dialog):
    # Monday 16 Nov (week 47): two complaints; then the next Monday morning, nothing new yet
    await file_ticket(dialog, "o_p5_a", "学校乱收费，每人收资料费300元不给收据", scene="school:jn-syxx")
    await file_ticket(dialog, "o_p5_b", "作业太多，孩子每天写到晚上11点", scene="school:jn-syxx")
    dialog.clock.advance(7 * 86400 - 3600)  # Monday 23 Nov, 08:00
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        async with s.get("/w/dashboard") as resp:
            page = await resp.text()
        assert "<small>全局 · 2026年第47周（11月16日—11月22日）</small>" in page
        assert "2026年第48周（11月23日—今天）刚开始，新留言 0 件，下面是上一个完整的周：2026年第47周。" in page
        assert 'href="?kind=week&period=2026-W48">看本周</a>' in page
        async with s.get("/w/dashboard", params={"kind": "week", "period": "2026-W48"}) as resp:
            page = await resp.text()
        assert "2026年第48周（11月23日—今天）" in page and "刚开始" not in page  # asked for: shown as it is
    # once the week has a fair share of last week's messages, it opens on the week itself
    await file_ticket(dialog, "o_p5_c", "幼儿园伙食费太贵", scene="school:jn-syxx")
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        async with s.get("/w/dashboard") as resp:
            page = await resp.text()
        assert "2026年第48周（11月23日—今天）" in page and "刚开始" not in page
