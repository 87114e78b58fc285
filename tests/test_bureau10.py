"""The bureau's workbench as its people use it (branch bureau10), over real HTTP: the 待签收 count is exact however
many signed tickets come first; a long trace is paged; web notices say what to click, not what to send in WeChat;
the calendar warning is short on a phone; the ticket page names the person who wrote in a way a human reads."""
from __future__ import annotations

import re

from storage import tickets
from tests.dialog import DISTRICT_HEAD, LEADER, SCHOOL, talk
from tests.test_web import browser, sign_in
from tests.test_workbench_people import page

# A name, not a literal in talk(): test_dialog_step_same draws its whole dialogues from the literals the tests
# send, in file order, and a new one earlier in that order changes its seed's draw.
SIGN_ALL = "签收全部"


def _plant(db, unit: str, n: int, first_due: float, signed: bool, prefix: str) -> list[str]:
    """`n` tickets at `unit` due a minute apart from `first_due`, signed (accepted) or waiting: a year of a busy
    school's backlog arranged in one write (filing each through the dialogue would take minutes)."""
    from zoneinfo import ZoneInfo
    out = []
    for i in range(n):
        t = tickets.create(db, openid=f"o_b10_{prefix}_{i}", kind="complaint", category="burden", unit_code=unit,
                           school_code=unit, text=f"作业太多了，第{i}件", attachments=[], contact_phone=None,
                           anonymous=False, routing={}, now=first_due - 20 * 86400, due_at=first_due + 60 * i,
                           tz=ZoneInfo("Asia/Shanghai"), accept_due_at=first_due - 19 * 86400)
        if signed:
            tickets.transition(db, t, "accepted", "o_demo_staff_syxx", first_due - 19.5 * 86400, "accept", "",
                               accepted_at=first_due - 19.5 * 86400, accepted_by="o_demo_staff_syxx")
        out.append(t["number"])
    return out


async def test_the_to_sign_count_and_sign_all_reach_past_a_hundred_signed_tickets_due_sooner(dialog):
    """Before: the count and 签收全部 looked among the 99 open tickets nearest their deadline; with 120 signed ones
    due sooner, the 3 waiting were not counted (no 全部签收 on the list) and 签收全部 said there were none."""
    now = dialog.clock.now()
    await dialog.db(_plant, "jn-syxx", 120, now + 86400, True, "signed")
    waiting = await dialog.db(_plant, "jn-syxx", 3, now + 10 * 86400, False, "waiting")
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        html = await page(s, "/w/")
    assert re.search(r"<b>3</b> 件待签收", html), re.findall(r".{40}件待签收.{40}", html)
    await talk(dialog, SCHOOL, SIGN_ALL, expect=waiting)
    assert {(await dialog.db(tickets.get, n))["state"] for n in waiting} == {"accepted"}


def _trace_rows(html: str) -> list[str]:
    body = html.split("<tbody>")[1].split("</tbody>")[0] if "<tbody>" in html else ""
    return re.findall(r'<tr><td class="lead">(?:<a href="/w/t/[^"]+">)?(JY\d{4}-\d+)', body)


async def test_a_long_trace_is_paged_in_a_stable_order_and_each_page_keeps_the_span_and_the_filter(dialog):
    """Before: every line on one page (a large office's half-year was 7,463 of them)."""
    now = dialog.clock.now()
    planted = await dialog.db(_plant, "jn-syxx", 61, now - 5 * 86400, False, "trace")  # all overdue, unsigned
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        first = await page(s, "/w/rates/jn-syxx", period="2026-Q4")
        rows1 = _trace_rows(first)
        assert len(rows1) == 50, len(rows1)
        nxt = re.search(r'<a href="([^"]+)" rel="next">下一页</a>', first).group(1).replace("&amp;", "&")
        assert nxt == "/w/rates/jn-syxx?period=2026-Q4&page=2"
        assert "第 1–50 件，共 61 件（1 / 2 页）" in first
        async with s.get(nxt) as resp:
            second = await resp.text()
        rows2 = _trace_rows(second)
        # every ticket once, in filing order, across the pages; the totals with the last page as on the first
        assert rows1 + rows2 == sorted(planted) and len(rows2) == 11
        assert "第 51–61 件，共 61 件（2 / 2 页）" in second and 'rel="prev"' in second
        assert "共 61 件）" in first
        missed = await page(s, "/w/rates/jn-syxx", period="2026-Q4", only="missed")
        link = re.search(r'<a href="([^"]+)" rel="next">', missed).group(1).replace("&amp;", "&")
        assert link == "/w/rates/jn-syxx?period=2026-Q4&only=missed&page=2"
        beyond = await page(s, "/w/rates/jn-syxx", period="2026-Q4", page="9")  # past the end: the last page
        assert _trace_rows(beyond) == rows2


async def test_the_workbench_says_what_to_click_where_wechat_says_what_to_send(dialog):
    """Before: the notification list and the answer after a button told staff to send “签收 JY…” in WeChat."""
    from tests.dialog import file_ticket, heard
    from tests.test_web import act, csrf_of
    from tests.test_workbench_people import HOMEWORK
    numbers = [await file_ticket(dialog, f"o_b10_click_{i}", HOMEWORK[i], scene="school:jn-syxx", consent="1")
               for i in range(3)]
    await heard(dialog, SCHOOL, expect=f"“签收 {numbers[0]}”签收")  # WeChat keeps its own words
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        notices = await page(s, "/w/notices")
        assert notices.count("请打开留言页查看并签收。") == 3 and "可在“待办”列表点“全部签收”一次签收。" in notices
        resp = await act(s, numbers[0], "accept", await csrf_of(s, f"/w/t/{numbers[0]}"))
        after = await resp.text()
        assert f"已签收 {numbers[0]}" in after and "可在留言页点“答复群众”填写答复。" in after
    dialog.advance(3 * 86400)  # past the 签收 window of the other two: the watch reminds
    await dialog.sweep()
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        reminded = await page(s, "/w/notices")
        assert "签收" in reminded.split("</li>")[0]  # the newest notice is the reminder
        for html in (notices, after, reminded):
            text = re.sub(r"<[^>]+>", "", html)
            assert "发送“" not in text, re.findall(r".{30}发送“.{20}", text)


async def test_the_calendar_warning_is_open_for_the_admin_who_must_act_and_a_line_for_leaders(dialog):
    from storage import staff
    await dialog.db(staff.bind, "o_b10_admin", "jyj-bgs", "admin", "系统管理员", dialog.clock.now())
    async with browser(dialog) as s:
        await sign_in(dialog, s, "o_b10_admin")
        admin = await page(s, "/w/")
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        leader = await page(s, "/w/")
    opening = re.compile(r'<details class="flash warn calendar" role="alert" id="calendar-warning"( open)?>')
    assert opening.search(admin).group(1) == " open" and opening.search(leader).group(1) is None
    for html in (admin, leader):  # the whole text is there for whoever opens it
        assert "请升级 chinese-calendar" in html and "2027年节假日未录入，时限暂按周一至周五计算" in html


async def test_the_ticket_page_names_the_writer_as_a_person_reads_it_the_same_on_every_ticket(dialog):
    """Before: 留言人 was the openid masked (o_b1****_a): nothing a person reads or says on the phone."""
    from tests.dialog import FEES, file_ticket
    first = await file_ticket(dialog, "o_b10_writer_a", "学校收资料费300元不给收据", phone="13812345678")
    second = await file_ticket(dialog, "o_b10_writer_a", "学校还收了校服费500元，没有收据")
    other = await file_ticket(dialog, "o_b10_writer_b", "学校乱收费，每人收辅导书费200元")
    async with browser(dialog) as s:
        await sign_in(dialog, s, FEES)
        who = {}
        for n in (first, second, other):
            html = await page(s, f"/w/t/{n}")
            who[n] = re.search(r"<dt>留言人</dt>\s*<dd>(.*?)</dd>", html, re.S).group(1)
    assert re.fullmatch(r"微信用户 [A-Z2-9]{4}<br>电话 138\*\*\*\*5678", who[first]), who[first]
    assert who[second].split("<br>")[0] == who[first].split("<br>")[0] != who[other].split("<br>")[0]
    assert all("o_b1" not in w and "****_a" not in w for w in who.values())
    tag = who[first].split("<br>")[0]
    await talk(dialog, FEES, f"详情 {first}", expect=f"留言人：{tag}｜电话：138****5678")


async def test_one_sweeps_reminders_are_one_card_in_the_notification_list_as_in_wechat(dialog):
    """Before: one card a ticket; a teacher with forty open tickets scrolled through forty 办理提醒 a morning."""
    from tests.dialog import file_ticket
    from tests.test_workbench_people import HOMEWORK
    numbers = []
    for i in range(3):  # filed a few minutes apart, as parents do
        numbers.append(await file_ticket(dialog, f"o_b10_sweep_{i}", HOMEWORK[i], scene="school:jn-syxx",
                                         consent="1"))
        dialog.advance(300)
    dialog.advance(3 * 86400)  # past the 签收 window of all three
    await dialog.sweep()
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        html = await page(s, "/w/notices")
    cards = html.split('<ul class="notices">')[1].split('<div class="meta">')[1:]
    reminders = [c for c in cards if "已超过签收时限" in c]
    assert len(reminders) == 1, len(reminders)
    card = reminders[0]
    assert "（3件，最紧急的在前）" in card and all(f'<a href="/w/t/{n}">{n}</a>' in card for n in numbers)
    # grouped as WeChat's merged push: the kind's head once, then a line a ticket (bureau12)
    assert "已超过签收时限" in card and "发送“" not in card
    # the new-ticket notices, each filed at its own moment, stay one card each
    assert sum("新留言待签收" in c and "（" not in c.split("</strong>")[0] for c in cards) == 3


async def test_the_overdue_tab_is_a_tab_not_an_opened_filter_form(dialog):
    """Before: tapping 超期 opened the whole filter form (its checkbox is the tab's), half a phone screen above
    the list; a filter chosen in the form still opens it."""
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        tab = await page(s, "/w/", state="open", overdue="1")
        chosen = await page(s, "/w/", state="open", overdue="1", kind="complaint")
    async with browser(dialog) as s:  # a district head's 延期待审批 link (the notice above her list)
        await sign_in(dialog, s, DISTRICT_HEAD)
        waiting = await page(s, "/w/", state="open", flag="extension")
    panel = re.compile(r'<div id="more-filters" class="more ([a-z]*)\s*">')
    assert panel.search(tab).group(1) == panel.search(waiting).group(1) == ""
    assert panel.search(chosen).group(1) == "open"
    assert "件延期待审批的留言（<a href=\"?state=open\">看全部</a>）" in waiting
    assert 'name="overdue" value="1" checked' in tab  # a search from the tab stays within it


async def test_a_leader_is_offered_the_reviews_excel_not_a_server_command(dialog):
    """Before: 下载 Excel（与 tingjian review --period 2026-11 相同）, a command line a leader has no use for."""
    from storage import staff
    await dialog.db(staff.bind, "o_b10_admin", "jyj-bgs", "admin", "系统管理员", dialog.clock.now())
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        leader = await page(s, "/w/review", period="2026-11")
    async with browser(dialog) as s:
        await sign_in(dialog, s, "o_b10_admin")
        admin = await page(s, "/w/review", period="2026-11")
    assert 'id="review-xlsx">下载 Excel</a>' in leader and "tingjian review" not in leader
    assert "tingjian review --period 2026-11" in admin  # the admin runs it on the server
