"""bureau13: deadlines as a ticket's people need them, and the review table's columns kept even. Through the
workbench's pages (aiohttp test client) and the WeChat pushes; each test failed on the code before it."""
from __future__ import annotations

import html as htmllib
import re

from storage import tickets
from tests.dialog import SCHOOL, SCHOOL_HEAD, file_ticket, heard
from tests.test_bureau10 import _plant
from tests.test_rates14 import _late_stand_in
from tests.dialog import LEADER, at
from tests.test_web import browser, sign_in
from tests.test_workbench_people import page


def _text(html: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", "", html))


def _card(html: str, has: str) -> str:
    cards = html.split('<ul class="notices">')[1].split('<div class="meta">')[1:]
    return next(c for c in cards if has in c)


async def test_a_new_ticket_says_by_when_to_sign_it_and_what_missing_that_does(dialog):
    """Before: a new ticket's notice gave only its 办结 date; the 签收 window, the first thing due, went unsaid."""
    d = dialog  # Monday 2026-11-16 09:00: one working day to sign, to Tuesday's end
    await file_ticket(d, "o_b13_parent", "孩子作业太多，每天写到晚上十一点，还有很多练习卷。", scene="school:jn-syxx",
                      consent="1")
    await heard(d, SCHOOL, expect=["签收时限：11月17日（周二）前（逾期将提醒单位负责人，并影响本单位响应率）",
                                   "办结时限："])


async def test_tickets_past_their_signing_window_show_that_window_not_their_resolve_date(dialog):
    """Before: under 待签收（已超过签收时限） each line read “· JY…，12月1日（周二）前办结” (the 办结 date); and a ticket
    also past half its time got only 已过时限一半, its 签收提醒 recorded but never sent."""
    d = dialog
    now = d.clock.now()
    # due 12-01, early in their time, their 签收 windows ended Thursday 11-12; one due 11-21, past half, its window 11-02
    await d.db(_plant, "jn-syxx", 2, now + 15 * 86400, False, "early")
    await d.db(_plant, "jn-syxx", 1, now + 5 * 86400, False, "half")
    await d.sweep()
    push = await heard(d, SCHOOL, expect=["待签收3件（已超过签收时限）：", "签收时限11月2日（周一）：\n· JY",
                                          "签收时限11月12日（周四）：\n· JY"], absent=["前办结", "已过时限一半"])
    assert push.count("签收时限11月12日（周四）") == 1  # said once, above its two tickets
    await heard(d, SCHOOL_HEAD, expect="签收时限11月12日（周四）：")  # the head is told, as the new notice says
    async with browser(d) as s:
        await sign_in(d, s, SCHOOL)
        card = _card(await page(s, "/w/notices"), "待签收3件")
    assert re.findall(r'<p class="group-date">([^<]+)</p>', card) == ["签收时限11月2日（周一）", "签收时限11月12日（周四）"]
    assert len(re.findall(r'<li><a href="/w/t/JY[\d-]+">JY[\d-]+</a> </li>', card)) == 3, card
    assert "前办结" not in _text(card)


async def test_the_review_tables_stand_in_note_is_a_line_under_its_unit_not_in_the_rate_column(dialog):
    """Before: “（代收他单位留言，不计入本单位三率：…）” sat in the 解决率 cell, so at 1280 px that column took half the
    table and the unit names broke a character a line. Now it is a row of its own under the unit's row."""
    d = dialog
    await _late_stand_in(d)
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        html = await page(s, "/w/review?period=2026-11")
    row = re.search(r'<tr data-unit="jyj-bgs" class="has-note">.*?</tr>\s*(<tr[^>]*>.*?</tr>)', html, re.S)
    assert row, html[:3000]
    assert "代收他单位留言，不计入本单位三率：本期收到1件，办结1件，超期1件含往期收到的" in _text(row.group(1))
    assert 'data-note-of="jyj-bgs"' in row.group(1) and 'colspan="12"' in row.group(1)
    cells = re.findall(r'<td class="num" data-label="解决率">(.*?)</td>', row.group(0), re.S)
    assert cells and "代收" not in cells[0], cells
