"""The ninth trust audit: the figures that feed a unit's performance review and who may act on tickets. First the
items audit8 left open, then holes found afresh as an adversary. Through the sandbox's WeChat XML over real HTTP,
raw signed XML where the sandbox cannot say it, the workbench and real SQLite files. Each behaviour test failed
before its fix (the last is a guard: read, no defect).

| sev    | defect                                                        | fix                                            |
|--------|---------------------------------------------------------------|------------------------------------------------|
| low    | two events of one second (two menu taps, a click and a        | the event's name and key join the spec's key   |
|        | LOCATION) were one: the second dropped                        | (FromUserName + CreateTime): retries still once |
| medium | a 代收 ticket withdrawn at once counted against 在岗           | not counted unless its 签收 window lapsed first |
| medium | 表扬 set aside shown only in one push; no daily check         | beside the figure (review, report, XLSX, trace);|
|        |                                                               | new_follower_per_day per unit and day           |
| medium | “1” at 重新评议 / a ticket offer / 常见问题 answered them: a     | asked, one rule (_holds_rating) at every       |
|        | submitted sheet wiped, the FAQ "solved", the ticket unrated   | numbered question of the campaign              |
| high   | a unit's last staff member unbound: its open tickets with     | handed to the stand-in (代收), told once        |
|        | nobody, the duty office told yet refused them                 |                                                |
| medium | safe mode without the freshness check: a request older than   | refused (403) past wechat.dedupe_days          |
|        | the replay memory was handled again                           |                                                |
"""
from __future__ import annotations

from bot.app import DB, create_app
from handlers import review
from tests import wx
from tests.dialog import DUTY, LEADER, TZ, file_ticket, send, talk
from tests.test_audit5 import HOMEWORK
from tests.test_audit8 import _leader_notices, _policy, _praise
from tests.test_webhook import inbound_count, post

UNIT = "jn-syxx"
ABSENT = "jn-yyxx"   # 江南区育英小学: nobody bound in the demo (its tickets go to the duty office: 代收)


async def _month(d, period: str = "2026-11"):
    now = d.clock.now()
    return await d.app[DB].read(lambda c: review.build(c, period, TZ, review.Weights(), now=now))


async def _withdraw(d, openid: str, number: str) -> None:
    await talk(d, openid, f"撤回 {number}", expect="确认撤回")
    await talk(d, openid, f"确认撤回 {number}", expect="已撤回")


# -- events: the spec's key, and different events in one second ------------------------------------------------------
async def test_two_different_events_in_one_second_are_both_handled_and_retries_still_once(aiohttp_client,
                                                                                           make_config):
    """Events have no MsgId: WeChat's key is FromUserName + CreateTime. The key also held the event's name, but
    not its key: two menu items tapped within one second (or a LOCATION report beside a click, both 'other' or
    'click') were one event, and the second tap was dropped unanswered. The event's own name and key join the
    spec's pair: a retry (the same XML, a new nonce) is still handled once."""
    bot = await aiohttp_client(create_app(make_config(wechat={"allow_plaintext": True})))
    t = 1700000100
    sent = [wx.event_xml("o_two", "CLICK", "help", created=t), wx.event_xml("o_two", "CLICK", "survey", created=t),
            wx.event_xml("o_two", "LOCATION", None, created=t), wx.event_xml("o_two", "subscribe", "", created=t),
            wx.event_xml("o_two", "VIEW", "http://example.com/a", created=t),
            wx.event_xml("o_two", "VIEW", "http://example.com/b", created=t)]
    for xml in sent:
        assert (await post(bot, xml, wx.signed_query("o_two"))).status == 200
    assert await inbound_count(bot) == len(sent)
    for xml in sent:                                     # WeChat's retries: each a new signature, the same body
        assert (await post(bot, xml, wx.signed_query("o_two"))).status == 200
    assert await inbound_count(bot) == len(sent)
    keys = await bot.app[DB].run(lambda db: [r[0] for r in db.execute("SELECT key FROM inbound")])
    assert all(k.startswith("wechat:evt:o_two:1700000100:") for k in keys), keys


# -- 在岗: withdrawn 代收 tickets ----------------------------------------------------------------------------------------
async def test_a_withdrawn_ticket_at_a_unit_with_nobody_bound_does_not_lower_its_staffed_score(dialog):
    """在岗 counts the tickets that reached a unit while nobody was bound there (代收). A ticket its writer withdrew
    at once still counted, though it had left 派发 (audit8): fresh accounts filing and withdrawing could drive a
    school's 在岗 to 0 at no cost. Withdrawn before its 签收 window lapsed, it is no longer counted; one whose
    window lapsed first (nobody signed it in time) stays a miss, as in 响应率."""
    d = dialog
    for i in range(3):
        number = await file_ticket(d, f"o_rival_{i}", HOMEWORK, scene=f"school:{ABSENT}", consent="1")
        await _withdraw(d, f"o_rival_{i}", number)
    kept = await file_ticket(d, "o_parent_yy", HOMEWORK, scene=f"school:{ABSENT}", consent="1")
    await talk(d, DUTY, f"签收 {kept}", expect="签收")
    lapsed = await file_ticket(d, "o_parent_lapse", HOMEWORK, scene=f"school:{ABSENT}", consent="1")
    d.advance(3 * 86400)                                 # past every 签收 window, unsigned
    await _withdraw(d, "o_parent_lapse", lapsed)
    assert (await _month(d)).unit(ABSENT).figures.unattended == 2


# -- 表扬 set aside: shown where the figures are read; a daily check ----------------------------------------------------
async def test_praise_set_aside_is_shown_beside_the_figure_in_the_review_and_the_units_trace(dialog):
    """Praise a burst check set aside was told to the leaders once, in a push, and nowhere else: the 表扬 figure in
    the 绩效考核 page, the unit's report, the XLSX and the unit's 三率明细 read lower than the praise the school
    knows it received, with nothing saying why. Each now shows how many were set aside (the trace lists them)."""
    import io

    from openpyxl import load_workbook

    from handlers import review as review_
    from tests.test_web import browser, sign_in
    d = dialog
    _policy(d, burst_per_hour=3)
    await send(d, "o_parent_a", type="scan", scene=f"school:{UNIT}")
    d.advance(3 * 86400)
    await _praise(d, "o_parent_a")
    for i in range(4):
        d.advance(60)
        await _praise(d, f"o_stuffer_{i}")
    built = await _month(d)
    u = built.unit(UNIT)
    assert u.figures.praise == 1 and len(u.figures.praise_aside) == 4, u.figures
    assert "另有4件表扬集中来自新关注公众号的账号" in review_.format_unit(built, UNIT)
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        async with s.get("/w/review", params={"period": "2026-11"}) as resp:
            page = await resp.text()
        row = page[page.index(f'data-unit="{UNIT}"'):]
        row = row[:row.index("</tr>")]
        assert "另有 4 件未计入" in row, row
        async with s.get(f"/w/rates/{UNIT}", params={"period": "2026-11"}) as resp:
            trace = await resp.text()
        assert resp.status == 200
        praise = trace[trace.index('id="praise"'):]
        assert "计入表扬 1 人" in praise and "另有 4 件表扬" in praise, praise
        numbers = await d.db(lambda db: [r[0] for r in db.execute(
            "SELECT number FROM tickets WHERE kind = 'praise' AND openid LIKE 'o_stuffer_%'")])
        assert len(numbers) == 4 and all(n in praise for n in numbers), (numbers, praise)
        xlsx = page[page.index('id="review-xlsx"') - 200:page.index('id="review-xlsx"')]
        href = xlsx[xlsx.rindex('href="') + 6:].split('"')[0].replace("&amp;", "&")
        async with s.get(href) as resp:
            book = load_workbook(io.BytesIO(await resp.read()))
    head, *rows = [list(r) for r in book["单位"].iter_rows(values_only=True)]
    got = {r[0]: dict(zip(head, r)) for r in rows}
    assert got[UNIT]["表扬件数"] == 1 and got[UNIT]["表扬未计入件数"] == 4


async def test_praise_from_new_accounts_paced_under_the_hourly_limit_is_caught_by_the_daily_check(dialog):
    """A hand praising a school from one fresh account an hour never passed burst_per_hour: all day, each counted.
    As 群众评议's paced bursts are caught per unit and day (new_follower_per_day), so is praise: more new accounts
    than that praising one unit in a day are set aside (theirs only), the leaders told once that day."""
    d = dialog
    _policy(d, burst_per_hour=3, new_follower_per_day=3)
    for o in ("o_parent_a", "o_parent_b"):
        await send(d, o, type="scan", scene=f"school:{UNIT}")
    d.advance(3 * 86400)                                  # Thursday 09:00
    await _praise(d, "o_parent_a")
    for i in range(5):                                     # one an hour and a bit: no hour holds a burst
        d.advance(61 * 60)
        await _praise(d, f"o_paced_{i}")
    await _praise(d, "o_parent_b")
    got = await _month(d)
    assert got.unit(UNIT).figures.praise == 2 and len(got.unit(UNIT).figures.praise_aside) == 5, got.unit(UNIT).figures
    notices = await _leader_notices(d, "表扬异常提醒")
    assert len(notices) == 1 and "今天收到4个" in notices[0] and "江南区实验小学" in notices[0], notices
    # three new accounts in a day are no burst
    d.advance(86400)
    for i in range(3):
        d.advance(61 * 60)
        await _praise(d, f"o_new_{i}")
    got = await _month(d)
    assert got.unit(UNIT).figures.praise == 5 and len(got.unit(UNIT).figures.praise_aside) == 5


# -- a rating-like “1” at the other numbered questions -----------------------------------------------------------------
async def test_a_rating_sent_at_the_redo_question_or_a_common_answer_is_asked_about(dialog):
    """audit8 asked about a “1” sent at a 评议 question while a ticket awaited its rating; the other numbered
    questions took it as theirs: at “1 重新评议 2 保留原评议” it wiped the parent's submitted sheet and started
    over, at a 常见问题 answer's “1 解决了 2 还需要人工答复” it counted the answer as solved, and either way the
    ticket went unrated (a “2”, 基本满意, filed a new inquiry). One rule for every such question now: asked."""
    from storage import faq as faq_store
    from storage import tickets
    from tests.dialog import SCHOOL
    from tests.test_audit2 import answer_survey
    d = dialog
    number = await file_ticket(d, "o_parent_re", HOMEWORK, scene=f"school:{UNIT}", consent="1")
    assert "评议完成" in await answer_survey(d, "o_parent_re")
    reply = await send(d, "o_parent_re", type="scan", scene=f"survey:school-2026:{UNIT}")
    assert "1 重新评议" in reply, reply
    await talk(d, SCHOOL, f"办结 {number} 已与家长沟通，作业量已调整", expect="办结")
    await talk(d, "o_parent_re", "1", expect=f"您是要评价留言 {number}（满意）吗")
    await talk(d, "o_parent_re", "1", expect=["感谢您的评价", "1 重新评议"])
    assert (await d.db(tickets.get, number))["rating"] == 1
    await talk(d, "o_parent_re", "2", expect="保留您原来的评议")
    # the same at the offer to make a free-text answer a ticket
    offered = await file_ticket(d, "o_parent_offer", HOMEWORK, scene=f"school:{UNIT}", consent="1")
    await send(d, "o_parent_offer", type="scan", scene=f"survey:school-2026:{UNIT}")
    for answer in ["5", "5", "5", "5", "5", "1"]:
        reply = await talk(d, "o_parent_offer", answer)
    assert "意见或建议" in reply, reply
    await talk(d, "o_parent_offer", "学校作业太多了，孩子每天写到晚上十一点，希望减少作业量", expect="转为留言")
    await talk(d, SCHOOL, f"办结 {offered} 已与家长沟通，作业量已调整", expect="办结")
    await talk(d, "o_parent_offer", "1", expect=f"您是要评价留言 {offered}（满意）吗")
    await talk(d, "o_parent_offer", "1", expect=["感谢您的评价", "1 转为留言"])
    assert (await d.db(tickets.get, offered))["rating"] == 1
    await talk(d, "o_parent_offer", "2", absent="已转为留言")
    # the same at a common question's answer; “2, it answers the question” is taken as the answer
    other = await file_ticket(d, "o_parent_faq", HOMEWORK, scene=f"school:{UNIT}", consent="1")
    await talk(d, "o_parent_faq", "今年小升初划片范围什么时候公布？", expect="这个回答解决了您的问题吗")
    await talk(d, SCHOOL, f"办结 {other} 已与家长沟通，作业量已调整", expect="办结")
    await talk(d, "o_parent_faq", "2", expect=f"您是要评价留言 {other}（基本满意）吗")
    await talk(d, "o_parent_faq", "1", expect=["感谢您的评价", "这个回答解决了您的问题吗"])
    assert (await d.db(tickets.get, other))["rating"] == 2
    await talk(d, "o_parent_faq", "1", expect="很高兴")
    assert await d.db(faq_store.counts) == {"huapian": {"solved": 1}}
    # a third: the held “1” said to answer the common question is its 解决了
    third = await file_ticket(d, "o_parent_faq3", HOMEWORK, scene=f"school:{UNIT}", consent="1")
    await talk(d, "o_parent_faq3", "今年小升初划片范围什么时候公布？", expect="这个回答解决了您的问题吗")
    await talk(d, SCHOOL, f"办结 {third} 已与家长沟通，作业量已调整", expect="办结")
    await talk(d, "o_parent_faq3", "1", expect="您是要评价留言")
    await talk(d, "o_parent_faq3", "2", expect="很高兴")
    assert (await d.db(tickets.get, third))["state"] == "resolved"
    assert await d.db(faq_store.counts) == {"huapian": {"solved": 2}}


# -- someone who may act on every ticket --------------------------------------------------------------------------------
async def test_a_unit_whose_last_staff_member_leaves_hands_its_open_tickets_to_the_stand_in(dialog):
    """The school's teacher and its head were unbound (a transfer, a leaver): the teacher's signed ticket was
    "released" to the head, whom nobody then told anything when she left too, and the unsigned one stayed at a
    school with nobody bound. The duty office, which stands in for such units, was not told, and refused both
    (“不在您的办理范围内”): nobody but a leader could act, and nobody was asked to. A unit left with nobody now hands
    its open tickets to the stand-in (代收), as a new ticket to it would be, and the duty office is told once;
    someone bound there again takes them home."""
    from storage import staff, tickets
    from tests.dialog import SCHOOL, SCHOOL_HEAD, drain, heard
    from tests.test_admin import post as post_form
    from tests.test_web import browser, sign_in
    d = dialog
    signed = await file_ticket(d, "o_parent_s", HOMEWORK, scene=f"school:{UNIT}", consent="1")
    waiting = await file_ticket(d, "o_parent_w", HOMEWORK, scene=f"school:{UNIT}", consent="1")
    await talk(d, SCHOOL, f"签收 {signed}", expect="签收")
    await drain(d, DUTY)
    async with browser(d) as s:                          # the administrator unbinds both in the workbench
        await sign_in(d, s, LEADER)
        for who in (SCHOOL, SCHOOL_HEAD):
            status, page = await post_form(s, "/w/staff", do="remove", openid=who)
            assert status == 200 and "已解除绑定" in page, page
    told = await heard(d, DUTY, expect=["请代收办理", "江南区实验小学", signed, waiting])
    assert told.count("请代收办理") == 1, told
    for number in (signed, waiting):
        assert (await d.db(tickets.get, number))["unattended"] == 1
    await talk(d, DUTY, f"签收 {waiting}", expect="签收", absent="不在您的办理范围")
    await talk(d, DUTY, f"回复 {signed} 您好，已联系学校核实作业量", absent="不在您的办理范围")
    # a new teacher bound: the tickets still open come home
    code = await d.db(staff.create_invite, UNIT, "handler", "实验小学·新老师", d.clock.now(), 86400)
    await talk(d, "o_new_teacher", f"绑定 {code}", expect=["绑定成功", signed, waiting])
    assert (await d.db(tickets.get, signed))["unattended"] == 0
    # the duty office's own last member leaves: the 代收 tickets it stood in for are the leaders', who are told
    absent = await file_ticket(d, "o_parent_a", HOMEWORK, scene=f"school:{ABSENT}", consent="1")
    await drain(d, LEADER)
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        await post_form(s, "/w/staff", do="remove", openid=DUTY)
    await heard(d, LEADER, expect=["请代收办理", "局值班室", absent])
    await talk(d, LEADER, f"签收 {absent}", expect="签收", absent="不在您的办理范围")


# -- replays ---------------------------------------------------------------------------------------------------------
async def test_a_signed_request_older_than_the_replay_memory_is_refused(aiohttp_client, make_config):
    """Safe mode may run without the freshness check (wechat.check_timestamp = false: a server whose clock
    drifts). A signed request is then remembered dedupe_days, as its MsgId is; replayed later (the URL and body
    copied from a log or a capture), neither was remembered and the message was handled again: a leader's
    同意延期, a citizen's 确认撤回, another ticket. A request older than that memory is refused; younger, a replay
    is still recognised."""
    import time
    bot = await aiohttp_client(create_app(make_config()))          # safe mode, check_timestamp off
    now = int(time.time())
    old = str(now - 4 * 86400)                                    # dedupe_days = 3
    body, q = wx.encrypted(wx.text_xml("o_old", "帮助", created=int(old)), "o_old", timestamp=old)
    resp = await post(bot, body, q)
    assert resp.status == 403 and "replay memory" in await resp.text()
    assert await inbound_count(bot) == 0
    recent = str(now - 2 * 86400)
    body, q = wx.encrypted(wx.text_xml("o_recent", "帮助", created=int(recent)), "o_recent", timestamp=recent)
    assert (await post(bot, body, q)).status == 200
    other, q2 = wx.encrypted(wx.text_xml("o_recent", "撤回", created=int(recent)), "o_recent",
                             timestamp=recent, nonce=q["nonce"])
    assert (await post(bot, other, q2)).status == 403                # the same signed request, another message
    assert await inbound_count(bot) == 1


# -- 师德: read, no defect (kept as a guard) ------------------------------------------------------------------------------
async def test_a_conduct_complaint_reaches_the_accused_school_nowhere(dialog):
    """A 师德 complaint filed at a school's code, and one raised later in a parent's reply to the school's own ticket,
    are the district's: the school's teacher and head find neither its words nor its number in their pushes, their
    commands (待办, 周报 and its pages, 超期, a leader-style question), the workbench's lists and searches, the unit's
    三率明细 (a week, a month), the exports, 通知 or the public page."""
    import re

    from storage import tickets
    from tests.dialog import DISTRICT, SCHOOL, SCHOOL_HEAD, settle
    from tests.test_web import browser, sign_in
    d = dialog
    words = "耳光"
    number = await file_ticket(d, "o_parent_eth", "班主任王老师上课打学生耳光，还辱骂孩子是废物",
                               scene=f"school:{UNIT}", consent="1")
    other = await file_ticket(d, "o_parent_hw", HOMEWORK, scene=f"school:{UNIT}", consent="1")
    await talk(d, "o_parent_hw", f"回复 {other} 另外王老师还打了孩子耳光")
    assert {(await d.db(tickets.get, n))["unit_code"] for n in (number, other)} == {"jn-jyj"}
    await talk(d, DISTRICT, f"签收 {number}")
    await talk(d, DISTRICT, f"办结 {number} 经查王老师打学生耳光属实，已依规处理")
    await settle(d, SCHOOL, SCHOOL_HEAD)
    for who in (SCHOOL, SCHOOL_HEAD):
        async with d.session.get("/sandbox/messages", params={"openid": who}) as resp:
            pushed = "\n".join(m.get("content") or str(m.get("data")) for m in (await resp.json())["messages"])
        assert words not in pushed and number not in pushed, pushed
        pages = []
        for command in ("待办", "周报", "超期", "这周收到几件投诉？"):
            said = await talk(d, who, command, absent=[words, number])
            pages += ["/" + link.split("/", 3)[3] for link in re.findall(r"https?://\S+", said)]
        async with browser(d) as s:
            await sign_in(d, s, who)
            for path in ["/w/", "/w/?tab=all", f"/w/?q={words}", f"/w/?school={UNIT}&tab=all", "/w/dashboard",
                         f"/w/rates/{UNIT}?period=2026-11", f"/w/rates/{UNIT}?period=2026-W47", "/w/notices",
                         f"/w/export/tickets.csv?q={words}", "/w/export/tickets.csv", "/w/export/rates.csv",
                         f"/u/{UNIT}", *pages]:
                async with s.get(path) as resp:
                    body = await resp.text()
                assert (words not in body or words in path) and number not in body, (who, path)
            async with s.get(f"/w/t/{number}") as resp:
                assert resp.status == 404
