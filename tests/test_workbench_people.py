"""The workbench as its people use it, over real HTTP: a school's teacher with a long list finding what is due
first, a district head looking at what is overdue, a leader going from a figure to the tickets behind it."""
from __future__ import annotations

import re

from storage import tickets
from tests.dialog import DISTRICT_HEAD, LEADER, SCHOOL, file_ticket, talk
from tests.test_web import browser, sign_in

TAB = re.compile(r"(待办|超期|已办结|全部) <b>(\d+)</b>")
HOMEWORK = ["作业太多，孩子每天写到晚上11点，周末还有很多练习卷。", "三年级周末布置了六张试卷，孩子根本写不完。",
            "学校要求家长每天批改作业并签字，家长压力很大。"]


async def school_tickets(d) -> list[str]:
    """Three homework complaints the school handles itself (the parent agreed to be known to it)."""
    numbers = []
    for i, text in enumerate(HOMEWORK):
        numbers.append(await file_ticket(d, f"o_parent_people_{i}", text, scene="school:jn-syxx", consent="1"))
    assert {(await d.db(tickets.get, n))["unit_code"] for n in numbers} == {"jn-syxx"}
    return numbers


async def page(s, path: str, **params) -> str:
    async with s.get(path, params=params) as resp:
        assert resp.status == 200, await resp.text()
        return await resp.text()


def tabs(html: str) -> dict[str, int]:
    return {name: int(n) for name, n in TAB.findall(html)}


async def test_each_tab_counts_what_it_lists_on_the_overdue_tab_too(dialog):
    first, second, done = await school_tickets(dialog)
    await talk(dialog, SCHOOL, f"签收 {done}", expect="已签收")
    await talk(dialog, SCHOOL, f"办结 {done} 已与班主任商定，控制每天作业总量。", expect="已办结")
    dialog.advance(30 * 86400)  # the other two run past their deadlines
    async with browser(dialog) as s:
        await sign_in(dialog, s, DISTRICT_HEAD)
        todo = await page(s, "/w/", state="open")
        late = await page(s, "/w/", state="open", overdue="1")
    # Before, the 超期 tab counted every tab within 超期: 待办 2 · 已办结 0 · 全部 2, while their links list 3.
    assert tabs(todo) == tabs(late) == {"待办": 2, "超期": 2, "已办结": 1, "全部": 3}
    assert first in late and second in late and done not in late
    assert "共 2 件" in late


async def test_a_teachers_list_says_how_late_and_what_waits_for_her(dialog):
    late, soon, _ = await school_tickets(dialog)
    due = (await dialog.db(tickets.get, soon))["due_at"]
    await talk(dialog, SCHOOL, f"签收 {soon}", expect="已签收")
    # push `late` twelve days past its deadline, keep `soon` due tomorrow: both read at the same moment
    await dialog.db(lambda db: db.execute("UPDATE tickets SET due_at = ? WHERE number = ?", [due - 13 * 86400, late]))
    dialog.clock.at = due - 86400
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        html = await page(s, "/w/")
        row = {n: re.search(rf'<tr class="[^"]*">\s*<td class="num">.*?{n}.*?</tr>', html, re.S).group(0)
               for n in (late, soon)}
        assert "超期12天" in row[late] and "明天到期" in row[soon]
        # the ticket sent to her school waits for her 签收 (the citizen's "已转交承办单位" is not her word for it)
        assert "待签收" in row[late] and "已转交承办单位" not in html and "办理中" in row[soon]
        # one unit: no column naming it on every line, nor the school it is
        table = html.split('<table class="data tickets">')[1]
        assert "<th>承办单位</th>" not in table and "<small>江南区实验小学</small>" not in table
        ticket = await page(s, f"/w/t/{late}")
        assert "待签收" in ticket
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)  # many units: which one holds each ticket matters
        html = await page(s, "/w/")
        table = html.split('<table class="data tickets">')[1]
        assert "<th>承办单位</th>" in table and '<span class="lbl">承办单位</span>江南区实验小学</td>' in table


async def test_the_dashboards_overdue_figure_opens_that_units_overdue_tickets(dialog):
    late = (await school_tickets(dialog))[0]
    other = await file_ticket(dialog, "o_parent_people_fees", "学校乱收费，每人收资料费300元不给收据",
                              scene="school:jn-syxx", phone="13812345678")
    assert (await dialog.db(tickets.get, other))["unit_code"] == "jyj-sfc"
    dialog.advance(30 * 86400)
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        board = await page(s, "/w/dashboard", unit="jn-syxx")
        figure = int(re.search(r"<span>当前超期</span><b>(\d+)</b>", board).group(1))
        link = re.search(r'<a href="([^"]+)" id="overdue-list">', board).group(1).replace("&amp;", "&")
        assert "unit=jn-syxx" in link
        async with s.get(link) as resp:
            listed = await resp.text()
        # the figure and the list it opens are the same tickets (before: every unit's overdue tickets)
        assert tabs(listed)["超期"] == figure == 3 and late in listed and other not in listed
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)  # a unit outside her scope asked for: her own figures, her own list
        board = await page(s, "/w/dashboard", unit="jyj-sfc")
        assert '<a href="/w/?state=open&overdue=1" id="overdue-list">' in board


FIGURES = re.compile(r"按时签收 (\d+) / 应签收 (\d+).*?按时办结 (\d+) / 应办结 (\d+).*?满意和基本满意 (\d+) / 评价 (\d+)", re.S)


async def test_a_units_figures_open_the_tickets_behind_them_counted_as_the_dashboard_counts(dialog):
    done, late, never, bounced = [await file_ticket(dialog, f"o_parent_trace_{i}", text, scene="school:jn-syxx",
                                                    consent="1")
                                  for i, text in enumerate(HOMEWORK + ["学校午休时间太短，孩子下午上课总犯困。"])]
    fees = await file_ticket(dialog, "o_parent_trace_fees", "学校乱收费，每人收资料费300元不给收据",
                             scene="school:jn-syxx", phone="13812345678")
    await talk(dialog, SCHOOL, f"签收 {done}", expect="已签收")
    await talk(dialog, SCHOOL, f"办结 {done} 已与班主任商定，控制每天作业总量。", expect="已办结")
    await talk(dialog, "o_parent_trace_0", "1")
    dialog.advance(2 * 86400)  # the 签收 window (one working day) has passed for the others
    await talk(dialog, SCHOOL, f"签收 {late}", expect="已签收")
    await talk(dialog, SCHOOL, f"退回 {bounced} 此事不属于学校办理范围", expect="退回")
    dialog.clock.at += 16 * 86400  # 12-04: November is over; `late` and `never` ran past their deadlines in it
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        board = await page(s, "/w/dashboard", kind="month", period="2026-11", unit="jn-syxx")
        trace = await page(s, "/w/rates/jn-syxx", period="2026-11")
        review = await page(s, "/w/review", period="2026-11")
    shown = FIGURES.search(board.split('<section class="kpis">')[1]).groups()
    # the figures are the dashboard's (one computation), and the lines below add up to them
    assert FIGURES.search(trace.split('<section class="kpis">')[1]).groups() == shown == \
        ("1", "4", "1", "3", "1", "1")
    assert '<a href="/w/rates/jn-syxx?period=2026-11" id="trace">' in board
    assert 'href="/w/rates/jn-syxx?period=2026-11" class="trace">明细</a>' in review
    table = trace.split('<table class="data stack traced">')[1]
    lines = {n: re.search(rf"<tr><td class=\"lead\">(?:<a href=\"/w/t/{n}\">)?{n}.*?</tr>", table, re.S).group(0)
             for n in (done, late, never, bounced)}
    assert fees not in table
    assert "按时签收" in lines[done] and "按时办结" in lines[done] and "满意" in lines[done]
    assert "超时签收" in lines[late] and "超期未办结" in lines[late]
    assert "未按时签收" in lines[never] and "超期未办结" in lines[never]
    # 退回 after letting the window lapse: still counted against the school (unit_misses), shown as such
    assert "离开前已超过签收时限" in lines[bounced]
    assert table.count(">按时签收<") == 1 and "合计 4 件" in table and "明细与统计数字不一致" not in trace
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        own = await page(s, "/w/rates/jn-syxx", period="2026-11")
        missed = await page(s, "/w/rates/jn-syxx", period="2026-11", only="missed")
        # on a phone, the lines that cost the school: all but the one done in time and rated 满意
        assert re.search(r'id="only-missed">未达标 <b>3</b>', own)
        assert done not in missed and all(n in missed for n in (late, never, bounced))
        # the ticket she bounced is the duty office's now: its number and what it counted, not a link to it
        assert bounced in own and f'href="/w/t/{bounced}"' not in own and f'href="/w/t/{late}"' in own
        async with s.get("/w/rates/jyj-sfc", params={"period": "2026-11"}) as resp:
            assert resp.status == 404  # another unit's figures: not hers to open


async def test_a_district_head_finds_the_extensions_waiting_for_her_decision(dialog):
    asked, other, _ = await school_tickets(dialog)
    await talk(dialog, SCHOOL, f"签收 {asked}", expect="已签收")
    await talk(dialog, SCHOOL, f"延期 {asked} 3 需要请维修单位到现场查看", expect="延期")
    async with browser(dialog) as s:
        await sign_in(dialog, s, DISTRICT_HEAD)
        inbox = await page(s, "/w/")
        assert re.search(r'id="waiting-extensions">1 件延期申请待审批', inbox)
        waiting = await page(s, "/w/", state="open", flag="extension")
        assert asked in waiting and other not in waiting and "延期待审批</span>" in waiting
        assert tabs(waiting)["待办"] == 1
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)  # she asked; she does not decide: no such line for her
        assert 'id="waiting-extensions"' not in await page(s, "/w/")
    await talk(dialog, DISTRICT_HEAD, f"同意延期 {asked}", expect="同意")
    async with browser(dialog) as s:
        await sign_in(dialog, s, DISTRICT_HEAD)
        assert 'id="waiting-extensions"' not in await page(s, "/w/")
        assert asked not in await page(s, "/w/", state="all", flag="extension")


async def test_what_the_parent_wrote_later_is_beside_the_message_not_under_the_forms(dialog):
    number = (await school_tickets(dialog))[0]
    await talk(dialog, "o_parent_people_0", f"回复 {number} 请问现在处理到哪一步了？孩子今天又写到十一点。")
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        html = await page(s, f"/w/t/{number}")
    text_card = html.split('<section class="card c-text">')[1].split("</section>")[0]
    assert 'id="citizen-later"' in text_card and "孩子今天又写到十一点" in text_card and "群众回复" in text_card
    # and the history keeps it in its place among the steps
    assert "孩子今天又写到十一点" in html.split('<section class="card c-history">')[1]


async def test_an_administrator_sees_which_units_still_lack_staff_or_a_commitment_and_fills_them(dialog):
    from storage import directory
    from tests.test_admin import post
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        units = await page(s, "/w/units")
        nobody = int(re.search(r"无人绑定 (\d+) 个", units).group(1))
        no_staff = await page(s, "/w/units", lacking="staff")
        assert "/w/units/jn-yyxx" in no_staff and "/w/units/jn-syxx" not in no_staff  # 张老师 is bound there
        assert "/w/units/jyj\"" not in no_staff  # the bureau itself receives no tickets
        unpromised = await page(s, "/w/units", lacking="commitment")
        assert "/w/units/jn-yyxx" in unpromised and "/w/units/jn-syxx" not in unpromised
        status, _ = await post(s, "/w/units/jn-yyxx", do="unit", name="江南区育英小学", kind="school",
                               district="江南区", parent="jn-jyj", commitment="家长来信三个工作日内答复。",
                               contact_hours="", contact_phone="")
        assert status == 200
        token = await page(s, "/w/staff")
        csrf = re.search(r'name="_csrf" value="([^"]+)"', token).group(1)
        async with s.post("/w/staff", data={"_csrf": csrf, "do": "invite", "unit": "jn-yyxx", "role": "handler",
                                            "name": "江南区育英小学·王老师"}) as resp:
            code = re.search(r'id="invite-code">(\w+)<', await resp.text()).group(1)
        await talk(dialog, "o_new_yyxx_teacher", f"绑定 {code}", expect="江南区育英小学·王老师")
        assert "/w/units/jn-yyxx" not in await page(s, "/w/units", lacking="commitment")
        assert "/w/units/jn-yyxx" not in await page(s, "/w/units", lacking="staff")
        assert f"无人绑定 {nobody - 1} 个" in await page(s, "/w/units")
    assert (await dialog.db(directory.get, "jn-yyxx"))["commitment"] == "家长来信三个工作日内答复。"
    async with dialog.session.get("/u/jn-yyxx") as resp:  # the public sees the commitment at once
        assert "家长来信三个工作日内答复。" in await resp.text()


async def test_the_public_never_keeps_getting_yesterdays_figures_once_todays_are_built(dialog):
    from bot.public import CACHE
    window = re.compile(r"满意率为近三个月（\d+月\d+日—(\d+月\d+日)）")
    async with dialog.session.get("/u/") as resp:
        assert window.search(await resp.text()).group(1) == "11月15日"
    dialog.advance(86400)  # Tuesday: the windows end at its midnight now
    async with dialog.session.get("/u/") as resp:  # served at once from yesterday's figures, rebuilt behind it
        assert window.search(await resp.text()).group(1) in ("11月15日", "11月16日")
    await dialog.app[CACHE]._refresh
    async with dialog.session.get("/u/") as resp:
        # before: the page built from the old figures was kept for public.cache_seconds and served again
        assert window.search(await resp.text()).group(1) == "11月16日"
    dialog.advance(7 * 86400)  # nobody looked for a week: last week's figures are not served, even once
    async with dialog.session.get("/u/") as resp:
        assert window.search(await resp.text()).group(1) == "11月23日"
