"""The bureau's side, branch bureau12: what a list's numbers count is what its lines say (待签收 is one set of states,
lifecycle.TO_SIGN, for the count, 签收全部 and each line's name); a leader's card of one sweep's escalations says the
rule once; a new-ticket notice's stale count of the unit is said once, as it is now; every back link has its ←."""
from __future__ import annotations

import html as htmllib
import re

from storage import lifecycle, tickets
from tests.dialog import LEADER, SCHOOL, file_ticket, talk
from tests.test_bureau10 import _plant
from tests.test_web import browser, sign_in
from tests.test_workbench_people import HOMEWORK, page

STATE = re.compile(r'<span class="state s-(\w+)">([^<]+)</span>')


def _lines(html: str) -> dict[str, str]:
    """Each ticket line of a list: its number -> the state it reads."""
    body = html.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html else ""
    return {number: STATE.search(row).group(2) for number, row in
            re.findall(r'<a href="/w/t/(JY[\d-]+)">JY[\d-]+</a>(.*?)</tr>', body, re.S)}


def _count_line(html: str) -> str:
    return htmllib.unescape(re.sub(r"<[^>]+>", "", re.search(r'<p class="count">(.*?)</p>', html, re.S).group(1)))


async def test_a_reopened_ticket_reads_to_sign_where_the_list_counts_it_to_sign(dialog):
    """Before: 3 件待签收 above a list with two lines reading 待签收 and one reading 重新办理中 (the citizen was not
    satisfied; 签收 takes it again, so the count was right and the line said otherwise)."""
    d = dialog
    parents = [f"o_b12_reopen_{i}" for i in range(3)]
    numbers = [await file_ticket(d, p, HOMEWORK[i], scene="school:jn-syxx", consent="1")
               for i, p in enumerate(parents)]
    await talk(d, SCHOOL, f"签收 {numbers[0]}", expect="已签收")
    await talk(d, SCHOOL, f"办结 {numbers[0]} 已与班主任商定，控制每天作业总量。", expect="已办结")
    await talk(d, parents[0], "3 作业还是很多", expect="重新办理")
    assert (await d.db(tickets.get, numbers[0]))["state"] == "reopened"
    async with browser(d) as s:
        await sign_in(d, s, SCHOOL)
        todo = await page(s, "/w/")
        waiting = await page(s, "/w/", state="to_sign")
    lines = _lines(todo)
    assert set(numbers) <= set(lines)
    assert lines[numbers[0]] == "待签收（重办）", lines
    reading = [n for n, state in lines.items() if state.startswith("待签收")]
    assert re.search(rf"<b>{len(reading)}</b> 件待签收", todo) and len(reading) == 3
    assert set(_lines(waiting)) == set(reading) and _count_line(waiting).startswith("共 3 件待签收")
    # one definition: every state 签收 takes a ticket from reads 待签收 to staff, and no other does
    from handlers.texts import STAFF_STATE_NAMES
    assert {s for s, name in STAFF_STATE_NAMES.items() if name.startswith("待签收")} == set(lifecycle.TO_SIGN)


async def test_the_overdue_tab_counts_what_it_lists_and_offers_no_sign_all_for_tickets_it_does_not_list(dialog):
    """Before: the 超期 tab said 共 4 件 beside 5 件待签收 and a button signing all five (two of them not late, not
    on the list). Now it says what its own lines are: 共 4 件已超过办结时限，其中 3 件待签收, a link to those three;
    签收全部 is on the whole 待办 list, where its number is part of the list's."""
    d = dialog
    now = d.clock.now()
    late_waiting = await d.db(_plant, "jn-syxx", 3, now - 5 * 86400, False, "late_waiting")
    await d.db(_plant, "jn-syxx", 1, now - 5 * 86400, True, "late_signed")
    soon_waiting = await d.db(_plant, "jn-syxx", 2, now + 5 * 86400, False, "soon_waiting")
    async with browser(d) as s:
        await sign_in(d, s, SCHOOL)
        late = await page(s, "/w/", state="open", overdue="1")
        todo = await page(s, "/w/")
        link = re.search(r'，其中 <a href="([^"]+)"><b>3</b> 件待签收</a>', late)
        assert link, _count_line(late)
        late_to_sign = await page(s, "/w/" + htmllib.unescape(link.group(1)))
    assert _count_line(late).startswith("共 4 件已超过办结时限，其中 3 件待签收")
    assert 'id="sign-all"' not in late
    assert 'id="sign-all"' in todo and re.search(r"<b>5</b> 件待签收", todo) and "其中" not in _count_line(todo)
    assert set(_lines(late_to_sign)) == set(late_waiting)
    assert not set(soon_waiting) & set(_lines(late))


async def test_a_leaders_card_of_escalations_says_the_rule_once_and_each_line_what_differs(dialog):
    """Before: twelve lines each “超期督办：“江南区实验小学”的留言已超过办结时限（11月25日（周三））一个工作日仍未
    办结，请督办。”. Now as WeChat's merged push: the kind and its rule once, then the unit and the deadline."""
    d = dialog
    now = d.clock.now()
    for i, unit in enumerate(["jn-syxx", "jb-wcxx", "jyj-aqc"]):
        await d.db(_plant, unit, 2, now - 10 * 86400, False, f"esc{i}")
    await d.sweep()
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        html = await page(s, "/w/notices")
    cards = html.split('<ul class="notices">')[1].split('<div class="meta">')[1:]
    card = next(c for c in cards if "留言超期（6件" in c)
    text = htmllib.unescape(re.sub(r"<[^>]+>", "", card))
    assert text.count("一个工作日") == 1 and "超期督办6件（超过办结时限一个工作日以上）" in text, text
    # (bureau13) the deadline they share once, above them; each line the unit alone: one phone line a ticket
    assert re.findall(r'<p class="group-date">([^<]+)</p>', card) == ["办结时限11月6日（周五）"], card
    units = re.findall(r'<li><a href="/w/t/JY[\d-]+">JY[\d-]+</a> ([^<]+)</li>', card)
    assert len(units) == 6 and {"江南区实验小学", "市教育局安全与后勤处"} <= set(units), units
    assert "发送“" not in text  # the workbench says where to click


async def test_new_ticket_notices_say_the_units_count_once_and_as_it_is_now(dialog):
    """Before: from the third new ticket each card ended “本单位待签收的留言共3件…”, “…共4件…”: the same line on
    every card, each count true only when it came. Now the page says it once, counted as the list counts it."""
    d = dialog
    numbers = []
    for i in range(4):  # a few minutes apart, as parents write: a card each
        numbers.append(await file_ticket(d, f"o_b12_new_{i}", HOMEWORK[i % 3] + f"（第{i + 1}位家长）",
                                         scene="school:jn-syxx", consent="1"))
        d.advance(301)
    await talk(d, SCHOOL, f"签收 {numbers[0]}", expect="已签收")
    async with browser(d) as s:
        await sign_in(d, s, SCHOOL)
        html = await page(s, "/w/notices")
    text = htmllib.unescape(re.sub(r"<[^>]+>", "", html))
    assert text.count("本单位待签收的留言共") == 1, text
    assert "本单位待签收的留言共3件" in text  # four came, one signed since
    assert text.count("【新留言待签收】") == 4


async def test_every_way_back_has_its_arrow(dialog):
    """Before: 单位名录, 常见问题 and 群众评议 led back without the ← that 留言 and 统计 had."""
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        pages = [await page(s, "/w/units/jn-syxx"), await page(s, "/w/faq/new"), await page(s, "/w/surveys/new"),
                 await page(s, "/w/rates/jn-syxx")]
    for html in pages:
        crumbs = re.search(r'<p class="crumbs">(.*?)</p>', html, re.S)
        assert crumbs and re.match(r'<a href="[^"]+">← ', crumbs.group(1)), crumbs and crumbs.group(1)


async def test_an_answer_pushed_past_the_webhooks_wait_is_read_as_the_passive_one_would_be(dialog):
    """Flaky under load before (test_people2_dialogs.py::test_several_numbers_after_accept_are_all_signed_none_skipped):
    past reply_timeout the webhook answers 'success' and pushes the answer, as WeChat requires, and `talk` read
    ''. Here every answer is pushed (the machine as slow as it gets): the dialogue reads the same."""
    from bot.app import RECEIVER
    from tests.dialog import FEES, heard
    from tests.test_people2_dialogs import fees_tickets
    d = dialog
    numbers = await fees_tickets(d, 4)
    await talk(d, FEES, "待办")
    d.app[RECEIVER].reply_timeout = 0.0001
    await talk(d, FEES, "签收2、3、4", expect=["已签收 3 件：", *numbers[1:]])
    await talk(d, FEES, "签收 1 99", expect=[f"已签收 {numbers[0]}", "没有第99条"])
    await heard(d, "o_fee_parent0", expect="受理")  # the citizens' pushes are theirs, untouched


async def test_a_school_heads_card_of_urge_copies_names_no_unit_it_is_her_own(dialog):
    """Before: each line of 催办抄送 named the head's own school, as if it might be another's."""
    from tests.dialog import SCHOOL_HEAD
    d = dialog
    await d.db(_plant, "jn-syxx", 3, d.clock.now() - 3 * 3600, False, "copy")  # due hours ago: 催办, copied
    await d.sweep()
    async with browser(d) as s:
        await sign_in(d, s, SCHOOL_HEAD)
        html = await page(s, "/w/notices")
    cards = html.split('<ul class="notices">')[1].split('<div class="meta">')[1:]
    card = next(c for c in cards if "催办抄送3件" in c)
    assert len(re.findall(r'<li><a href="/w/t/JY[\d-]+">JY[\d-]+</a> </li>', card)) == 3, card
    assert re.findall(r'<p class="group-date">([^<]+)</p>', card) == ["办结时限11月16日（周一）"], card
    assert "江南区实验小学" not in card
