"""The bureau's pages as leaders and the duty office use them, over real HTTP: 当前超期 counts the 代收 tickets the
duty office holds; a unit's 评议 figure opens the survey answers it rests on; the trace of a unit's figures over a
quarter or any range of days; a digest page stored before a template change shows the fixed template."""
from __future__ import annotations

import re

from storage import tickets
from tests.dialog import DUTY, file_ticket
from tests.test_web import browser, sign_in
from tests.test_workbench_people import page, tabs

EXAM = "请问今年中考体育考试的项目和评分标准什么时候公布？"  # 市教育考试院: nobody bound in the demo (代收)


async def test_the_duty_offices_current_overdue_counts_the_daishou_tickets_it_holds(dialog):
    held = await file_ticket(dialog, "o_parent_b9_exam", EXAM, kind="inquiry")
    ticket = await dialog.db(tickets.get, held)
    assert ticket["unattended"] and ticket["unit_code"] != "jyj-bgs"
    dialog.advance(30 * 86400)  # past its deadline, still held by the duty office
    async with browser(dialog) as s:
        await sign_in(dialog, s, DUTY)
        board = await page(s, "/w/dashboard")
        figure = int(re.search(r"<span>当前超期</span><b>(\d+)</b>", board).group(1))
        link = re.search(r'<a href="([^"]+)" id="overdue-list">', board).group(1).replace("&amp;", "&")
        async with s.get(link) as resp:
            listed = await resp.text()
    # before: 0 on the dashboard while the 超期 list it opens showed the ticket
    assert figure == tabs(listed)["超期"] == 1 and held in listed
