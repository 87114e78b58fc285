"""The bureau's workbench as its people use it (branch bureau11), over real HTTP: the notification list of a busy
account is paged, newest first, and keeps its pages while new notices arrive; one sweep's reminders list the most
urgent ticket first, by the rule 待办 and 紧急 follow."""
from __future__ import annotations

import html as htmllib
import re

from storage import outbox, tickets
from tests.dialog import SCHOOL
from tests.test_web import browser, sign_in
from tests.test_workbench_people import page


def _notify(db, openid: str, n: int, first: int, at: float) -> None:
    """`n` workbench notices, one a minute, each of its own ticket number (JYN-<i>): a year of a busy account's
    list in one write."""
    for i in range(first, first + n):
        notice = {"audience": "staff", "ticket": f"JYN-{i:03d}", "title": "新留言待签收"}
        outbox.enqueue_replies(db, [{"text": f"【新留言待签收】留言 JYN-{i:03d} 第{i}件", "to": openid,
                                     "extra": {"notice": notice}}], openid, at + 60 * i)


def _shown(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<a href="/w/t/JYN-(\d+)">', html)]


def _link(html: str, rel: str) -> str | None:
    m = re.search(rf'<a href="([^"]+)" rel="{rel}">', html)
    return htmllib.unescape(m.group(1)) if m else None


async def test_a_busy_notification_list_is_paged_newest_first_and_keeps_its_pages_while_notices_arrive(dialog):
    """Before: fifty cards on one page (~16,000 px at 390 px wide for a busy account), no way further back, no
    count. Now twenty a page, newest first, 第 x–y 条，共 n 条; 下一页 and 上一页 by the edges of the page, so a notice
    arriving meanwhile neither repeats nor skips one; the first page marks what it shows as read, as before."""
    now = dialog.clock.now()
    await dialog.db(_notify, SCHOOL, 45, 1, now - 86400)
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        first = await page(s, "/w/notices")
        assert _shown(first) == list(range(45, 25, -1)), _shown(first)
        assert "第 1–20 条，共 45 条" in first and _link(first, "prev") is None
        assert await dialog.db(outbox.web_unread, SCHOOL) == 0  # shown, so read: unchanged
        second = await page(s, "/w/notices" + _link(first, "next"))
        assert _shown(second) == list(range(25, 5, -1)) and "第 21–40 条，共 45 条" in second
        await dialog.db(_notify, SCHOOL, 1, 46, now - 86400)  # a new notice while she reads page 2
        third = await page(s, "/w/notices" + _link(second, "next"))
        assert _shown(third) == list(range(5, 0, -1)) and _link(third, "next") is None
        assert "第 42–46 条，共 46 条" in third  # counted as the list stands now
        back = await page(s, "/w/notices" + _link(third, "prev"))
        assert _shown(back) == _shown(second)  # the same cards, however many arrived
        newest = await page(s, "/w/notices" + _link(back, "prev"))
        assert _shown(newest) == list(range(45, 25, -1)) and _link(newest, "prev")  # ... and one newer above them
        top = await page(s, "/w/notices" + _link(newest, "prev"))
        assert _shown(top)[0] == 46 and _link(top, "prev") is None
        junk = await page(s, "/w/notices", before="abc")  # a mistyped address is the first page, not an error
        assert _shown(junk)[:2] == [46, 45]


async def test_one_sweeps_reminders_list_the_most_urgent_ticket_first_as_todo_does(dialog):
    """Before: a card of one sweep's reminders listed its tickets newest first; a teacher read the ticket due in
    nine days before the one due in four. Now in 待办's order (tickets.URGENCY_ORDER): the most overdue first, then
    the nearest deadline."""
    from tests.dialog import file_ticket
    from tests.test_workbench_people import HOMEWORK
    numbers = []
    for i in range(3):
        numbers.append(await file_ticket(dialog, f"o_b11_sweep_{i}", HOMEWORK[i], scene="school:jn-syxx",
                                         consent="1"))
        dialog.advance(300)
    dialog.advance(3 * 86400)  # past the 签收 window of all three: one sweep reminds of them all
    now = dialog.clock.now()
    due = {numbers[0]: now + 9 * 86400, numbers[1]: now + 4 * 86400, numbers[2]: now + 6 * 86400}

    def set_due(db):
        for n, d in due.items():
            db.execute("UPDATE tickets SET due_at = ? WHERE number = ?", [d, n])
    await dialog.db(set_due)
    await dialog.sweep()
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        html = await page(s, "/w/notices")
    cards = html.split('<div class="meta">')[1:]
    card = next((c for c in cards if "办理提醒（3件，最紧急的在前）" in c), None)
    assert card, cards
    listed = re.findall(r'<a href="/w/t/([^"]+)">', card)
    assert listed == sorted(numbers, key=due.get), (listed, due)
    assert listed == await dialog.db(tickets.in_urgency_order, numbers[::-1])  # the one rule
    todo = [t["number"] for t in await dialog.db(tickets.open_for_units, ["jn-syxx"], 99) if t["number"] in due]
    assert listed == todo  # 待办 lists them so


def _sweep_cards(db, openid: str, at: float) -> None:
    """Two sweeps' 超期督办 for a leader, 35 tickets each, then a new notice: what a Monday's list starts with."""
    for sweep in range(2):
        replies = [{"text": f"【超期督办】“江南区实验小学”的留言 JYS-{sweep}{i:02d} 已超过办结时限一个工作日仍未办结，请督办。",
                    "to": openid, "extra": {"notice": {"audience": "staff", "ticket": f"JYS-{sweep}{i:02d}",
                                                       "title": "留言超期"}}} for i in range(35)]
        outbox.enqueue_replies(db, replies, openid, at + 3600 * sweep)
    _notify(db, openid, 1, 1, at + 7200)


async def test_a_page_of_notices_holds_sixty_lines_at_most_and_a_line_does_not_repeat_its_ticket_number(dialog):
    """Before: a leader's page was twenty cards however many tickets each held (22,000 px at 390 px wide in
    bench/workbench_volume.py), and each line of a sweep's card said its number twice: beside it, and inside."""
    from tests.dialog import LEADER
    await dialog.db(_sweep_cards, LEADER, dialog.clock.now() - 86400)
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        first = await page(s, "/w/notices")
        cards = first.split('<div class="meta">')[1:]
        assert len(cards) == 2 and "JYN-001" in cards[0] and "（35件，最紧急的在前）" in cards[1]  # 36 + 35 > 60
        assert "第 1–36 条，共 71 条" in first
        second = await page(s, "/w/notices" + _link(first, "next"))
        assert second.count('<a href="/w/t/JYS-0') == 35 and "JYS-1" not in second and _link(second, "next") is None
    line = re.search(r'<li><a href="/w/t/JYS-005">JYS-005</a> ([^<]*)</li>', second).group(1)
    assert line == "超期督办：“江南区实验小学”的留言已超过办结时限一个工作日仍未办结，请督办。", line


async def test_a_dash_on_the_trace_says_what_it_means(dialog):
    """Before: a line of /w/rates read “响应率 — 解决率 超期未办结 满意率 —” and nothing on the page said whether
    — was a zero, a miss or not counted."""
    from tests.dialog import file_ticket
    from tests.test_workbench_people import HOMEWORK
    await file_ticket(dialog, "o_b11_dash", HOMEWORK[0], scene="school:jn-syxx", consent="1")
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        html = await page(s, "/w/rates/jn-syxx")
    assert re.search(r'data-label="解决率" class="">—</td>', html), html  # a line not counted for 解决率 ...
    assert "“—”：该项不计入本期" in html  # ... and the page says what — means


async def test_a_ticket_waiting_for_signing_says_by_when_and_that_the_time_is_past(dialog):
    """Before: the ticket page gave only 办结时限; a teacher told “已超过签收时限” opened it and found no 签收 time."""
    from tests.dialog import file_ticket
    from tests.test_web import act
    from tests.test_workbench_people import HOMEWORK
    number = await file_ticket(dialog, "o_b11_sign", HOMEWORK[1], scene="school:jn-syxx", consent="1")
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        fresh = await page(s, f"/w/t/{number}")
    dialog.advance(5 * 86400)  # past the window (working days: a weekend at most in between)
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        late = await page(s, f"/w/t/{number}")
        await act(s, number, "accept")
        signed = await page(s, f"/w/t/{number}")
    due = (await dialog.db(tickets.get, number))["accept_due_at"]
    assert "<dt>签收时限</dt>" in fresh and 'class="flag red"' not in fresh.split('id="sign-by"')[1].split("</dd>")[0]
    sign_by = late.split('id="sign-by"')[1].split("</dd>")[0]
    assert re.search(r"已超过\d+天|今天已超过", sign_by) and 'class="flag red"' in sign_by, sign_by
    assert due and "<dt>签收时限</dt>" not in signed  # signed: the window is over, 办结时限 is what counts
