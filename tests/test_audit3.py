"""The fourth audit (issue 8's families again, on the surfaces the earlier two covered least): odd input in the
workbench's search and exports, the school a message names against the QR code last scanned, ... Attacked
through the sandbox (WeChat's encrypted XML over real HTTP), the workbench over real HTTP signed in as each role,
and real SQLite files. Each test failed before its fix."""
from __future__ import annotations

import csv
import io
import re

import pytest

from storage import staff, tickets

from tests.dialog import DUTY, FEES, LEADER, SCHOOL, SCHOOL_HEAD, drain, file_ticket, heard, send, talk
from tests.test_citizen_dialogs import PARENT
from tests.test_web import browser, sign_in

FEES_TEXT = "学校要求每个学生交300元资料费，还不给收据，我要投诉"


async def _tickets(d) -> list[dict]:
    return await d.db(lambda db: list(db.query("SELECT number, unit_code, school_code, review FROM tickets")))


# -- search: a query with no words ------------------------------------------------------------------------------------
@pytest.mark.parametrize("query", ['"', "-"])
async def test_a_search_of_symbols_only_finds_nothing_in_every_list_and_export(dialog, query):
    """A search box holding only a quote, a star or a dash has no word to look up. It was written as a bare `0`,
    which SQLite refuses beside a partial index named by INDEXED BY ("no query solution"): the tickets export
    stopped mid-download (CSV) or answered 500 (XLSX), and the flagged lists (代收, 复核) answered 500."""
    d = dialog
    await file_ticket(d, PARENT, FEES_TEXT, scene="school:jn-syxx")
    for who in (LEADER, FEES, DUTY):
        async with browser(d) as s:
            await sign_in(d, s, who)
            for path, extra in (("/w/", {"flag": "review", "state": "all"}), ("/w/", {"flag": "unattended"}),
                                ("/w/", {}), ("/w/export/tickets.xlsx", {}),
                                ("/w/export/tickets.csv", {"flag": "review"})):
                async with s.get(path, params={**extra, "q": query}) as resp:
                    assert resp.status == 200, (who, path, extra)
                    await resp.read()
            async with s.get("/w/export/tickets.csv", params={"q": query, "state": "all"}) as resp:
                body = (await resp.read()).decode("utf-8-sig")  # read whole: a broken stream raises here
            assert resp.status == 200
            rows = list(csv.reader(io.StringIO(body)))
            assert len(rows) == 1 and "编号" in rows[0], rows  # the header, and no ticket matches no words


# -- the school a message names decides over the QR code scanned before --------------------------------------------
async def test_the_school_named_in_the_message_wins_over_an_old_scan(dialog):
    """A parent scanned 江南区实验小学's code (the account remembers it), and months later writes about homework at
    江南区第三中学, naming it. The old scan decided: the complaint about one school went to another school to
    handle (homework is the school's own category), counted in that school's figures."""
    d = dialog
    await send(d, PARENT, type="scan", scene="school:jn-syxx")
    d.advance(90 * 86400)
    number = await file_ticket(d, PARENT, "江南区第三中学作业太多了，孩子每天写到晚上十一点，我要投诉", consent="1")
    row = next(t for t in await _tickets(d) if t["number"] == number)
    assert row["school_code"] == "jn-dszx" and row["unit_code"] == "jn-dszx", row
    await talk(d, SCHOOL, "待办", absent=number)  # 江南区实验小学 never sees it


async def test_a_code_scanned_while_writing_still_names_the_school(dialog):
    """The guard's other side: a code scanned in the middle of writing is the person's choice, made after the
    words, and stays the school even when the words name another."""
    d = dialog
    await talk(d, PARENT, "江南区第三中学作业太多了，孩子每天写到晚上十一点，我要投诉")
    await send(d, PARENT, type="scan", scene="school:jn-syxx")
    number = await file_ticket(d, PARENT, "就是这所学校", consent="1")
    row = next(t for t in await _tickets(d) if t["number"] == number)
    assert row["school_code"] == "jn-syxx", row


# -- the month's ranking in the digest: leaders' internal comments stay with the leaders ---------------------------
RANKING = re.compile(r"(/review/2026-11\?[^\s]+)")


async def _ranking_link(d, openid: str) -> str:
    text = await heard(d, openid, expect="绩效考核排名")
    return RANKING.search(text).group(1)


async def test_the_months_ranking_shows_internal_comments_to_leaders_only(dialog):
    """The digest of the week a month ends links to the month's ranking, for every supervisor, a school's principal
    too. The link was the same for all and named nobody: it showed every leader's internal 点评 on every unit
    (on the workbench, 绩效考核 is for leaders only) and kept opening for 30 days after its reader was removed."""
    from bot.app import DISPATCHER, JOBS
    d = dialog
    await file_ticket(d, PARENT, FEES_TEXT, scene="school:jn-syxx")  # the service in use that month
    await talk(d, LEADER, "点评 江南区育英小学 2026-11 收费公示不到位，拟约谈校长", expect="已记录")
    await talk(d, LEADER, "点评 江南区实验小学 2026-11 公开 食堂改进明显", expect="已记录")
    await drain(d, LEADER, SCHOOL_HEAD)
    d.advance(21 * 86400 + 3600)  # Monday 7 December 10:00: the week of 30 November is due
    assert await d.app[JOBS].weekly_digest() > 0
    principal, leader = await _ranking_link(d, SCHOOL_HEAD), await _ranking_link(d, LEADER)
    async with d.session.get(principal) as resp:
        page = await resp.text()
    assert resp.status == 200 and "江南区育英小学" in page and "食堂改进明显" in page
    assert "拟约谈校长" not in page
    xlsx = re.search(r'href="(/review/2026-11\.xlsx\?[^"]+)"', page).group(1).replace("&amp;", "&")
    async with d.session.get(xlsx) as resp:
        assert resp.status == 200
        assert "拟约谈校长" not in _xlsx_text(await resp.read())
    async with d.session.get(leader) as resp:
        assert resp.status == 200 and "拟约谈校长" in await resp.text()
    await d.db(lambda db: d.app[DISPATCHER].desk.remove_staff(db, SCHOOL_HEAD, staff.CONSOLE))
    async with d.session.get(principal) as resp:
        assert resp.status == 403 and "已失效" in await resp.text()


def _xlsx_text(body: bytes) -> str:
    from openpyxl import load_workbook
    return "\n".join(str(c.value) for ws in load_workbook(io.BytesIO(body)) for row in ws.iter_rows() for c in row
                     if c.value is not None)


# -- a Word line break pasted into a workbench form ---------------------------------------------------------------
async def test_a_pasted_word_line_break_never_breaks_the_spreadsheet_export(dialog):
    """Word writes a manual line break as a vertical tab (\\x0b); pasted into the workbench's 办结 box, it was stored
    as typed, and openpyxl refuses it: every leader's tickets.xlsx answered 500 from then on. Now the form's text
    has Word's breaks as line ends and no controls, and the XLSX writer drops any that older rows hold."""
    from openpyxl import load_workbook

    from tests.test_web import act
    d = dialog
    number = await file_ticket(d, PARENT, FEES_TEXT, scene="school:jn-syxx")
    async with browser(d) as s:
        await sign_in(d, s, FEES)
        assert (await act(s, number, "accept")).status == 200
        assert (await act(s, number, "resolve", text="已责令学校退费\x0b请家长查收\x07。")).status == 200
    resolution = (await d.db(tickets.get, number))["resolution"]
    assert resolution == "已责令学校退费\n请家长查收。"
    await d.db(lambda db: db.execute("UPDATE tickets SET text = text || '\x0b\x1b' WHERE number = ?", [number]))
    async with browser(d) as s:  # a row stored before this version, with controls in it
        await sign_in(d, s, LEADER)
        async with s.get("/w/export/tickets.xlsx", params={"state": "all"}) as resp:
            assert resp.status == 200
            sheet = load_workbook(io.BytesIO(await resp.read())).active
    cells = [str(c.value) for row in sheet.iter_rows() for c in row if c.value is not None]
    assert any("请家长查收" in c for c in cells)


async def test_a_reply_to_a_withdrawn_message_is_told_it_was_withdrawn(dialog):
    """`回复 编号 …` on a message the parent withdrew answered "已办结": untrue, and the parent then believes the
    office dealt with it."""
    d = dialog
    number = await file_ticket(d, PARENT, FEES_TEXT, scene="school:jn-syxx")
    await talk(d, PARENT, f"撤回 {number}")
    await talk(d, PARENT, f"确认撤回 {number}", expect="已撤回")
    await talk(d, PARENT, f"回复 {number} 我又想了想，还是请你们处理", expect="已撤回", absent="已办结")


# -- a school learns nothing of the person's other messages ----------------------------------------------------------
async def test_a_school_is_not_shown_the_parents_anonymous_conduct_complaint(dialog):
    """A parent complains to the bureau about a teacher's conduct, anonymously towards the school; weeks later the
    same parent signs a homework complaint the school handles. The school's ticket page listed the parent's
    "earlier messages": the 师德 complaint's number, kind and date, which told the school who had complained
    about its teacher. A school now sees only the earlier messages it handles itself, none anonymous to it."""
    d = dialog
    conduct = await file_ticket(d, PARENT, "班主任王老师经常体罚学生，还让孩子罚站一整节课", scene="school:jn-syxx")
    d.advance(14 * 86400)
    homework = await file_ticket(d, PARENT, "学校作业太多了，孩子每天写到晚上十一点，我要投诉", scene="school:jn-syxx",
                                 consent="1")
    rows = {t["number"]: t for t in await _tickets(d)}
    assert rows[conduct]["unit_code"] != "jn-syxx" and rows[homework]["unit_code"] == "jn-syxx", rows
    async with browser(d) as s:
        await sign_in(d, s, SCHOOL)
        async with s.get(f"/w/t/{homework}") as resp:
            page = await resp.text()
    assert resp.status == 200 and homework in page
    assert conduct not in page
    async with browser(d) as s:  # the bureau, which handles both, still sees the person's history
        await sign_in(d, s, LEADER)
        async with s.get(f"/w/t/{homework}") as resp:
            assert conduct in await resp.text()


# -- a captured URL re-sent while the database cannot be written -------------------------------------------------------
async def test_a_replay_while_the_database_is_locked_is_refused_and_never_handled(aiohttp_client, make_config,
                                                                                   tmp_path):
    """The replay record (webhook_requests) is written with the message, in one transaction: while another process
    held the write lock, the first message and a captured URL re-sent with a leader's command were both spooled
    and answered 'success', and both were handled once the lock freed. Now the process's own memory of requests
    refuses the replay at once (403), and a spooled line carries its request so the drain checks it too (a
    replay another worker spooled)."""
    from bot.app import DB, RECEIVER, create_app
    from storage import spool as spool_mod
    from tests import wx
    from tests.test_durability import hold_write_lock
    config = make_config(wechat={"aes_key": "", "appid": "", "reply_timeout_seconds": 0.3},
                         storage={"lock_wait_seconds": 0.5})
    client = await aiohttp_client(create_app(config))

    async def post(body: str, q: dict):
        resp = await client.post(wx.url("/wechat", q), data=body.encode(), headers={"Content-Type": "text/xml"})
        return resp.status, await resp.text()

    q = wx.signed_query()
    lock = hold_write_lock(tmp_path / "t.db")
    try:
        assert await post(wx.text_xml("o_parent", "帮助", msg_id=5001), q) == (200, "success")
        status, _ = await post(wx.text_xml(LEADER, "待办", msg_id=5002), q)  # the proxy log's URL, a new body
        assert status == 403
    finally:
        lock.rollback()
        lock.close()
    receiver = client.app[RECEIVER]
    await receiver.drain_spool()

    # Another process spooled a replay of a request this one has recorded (the writer was out of reach there).
    other = spool_mod.Spool(spool_mod.folder_for(tmp_path / "t.db"))
    from bot.channels.wechat.webhook import to_inbound
    from bot.channels.wechat.xml import parse_fields
    from storage.inbound import request_key
    inbound = to_inbound(parse_fields(wx.text_xml(LEADER, "待办", msg_id=5003)))
    other.append({"key": inbound.dedupe_key, "at": 0, "inbound": inbound.to_json(),
                  "request": request_key(q["timestamp"], q["nonce"])})
    assert other.release()  # its process is gone: the file is anyone's to drain
    await receiver.drain_spool()
    stored = await client.app[DB].run(lambda db: [r[0] for r in db.execute("SELECT key FROM inbound")])
    assert stored == ["wechat:msg:5001"], stored
    assert spool_mod.Spool(spool_mod.folder_for(tmp_path / "t.db")).pending() == 0


# -- logs: an openid is a way to message a person ----------------------------------------------------------------
async def test_failed_deliveries_are_logged_without_the_persons_openid(aiohttp_client, make_config, caplog):
    """While the WeChat API was down, every retry logged the citizen's full openid (invite refusals already logged a
    hash of it): now the outbox's lines name the person by the same short hash."""
    import logging
    import time

    from bot.app import DB, SENDER, create_app
    from storage import outbox, users
    app = create_app(make_config())  # api_base is a closed port: every delivery fails for now
    await aiohttp_client(app)
    openid = "o_parent_openid_in_logs"
    await app[DB].run(outbox.enqueue_text, openid, "您的留言已受理。", time.time())
    with caplog.at_level(logging.WARNING, logger="bot.outbox"):
        assert await app[SENDER].send_due() >= 1
    assert "outbox #" in caplog.text and openid not in caplog.text
    assert users.log_name(openid) in caplog.text


# -- 点评: "公开" is a flag only as a word of its own -----------------------------------------------------------------
@pytest.mark.parametrize("comment", ["公开透明度有待提高，收费公示不及时", "公开课组织得好，值得推广"])
async def test_a_comment_beginning_with_an_open_word_stays_internal_and_whole(dialog, comment):
    """`点评 单位 期间 [公开] 内容`: "公开" was taken as the flag wherever the text began with it, so a leader's
    internal criticism of a school's 公开透明度 went on the school's public page, cut to "透明度有待提高…"."""
    d = dialog
    await talk(d, LEADER, f"点评 江南区实验小学 2026-11 {comment}", expect="仅内部可见")
    await talk(d, LEADER, "点评 江南区育英小学 2026-11 公开 食堂改进明显", expect="公开")
    rows = await d.db(lambda db: list(db.query("SELECT unit_code, public, text FROM review_comments ORDER BY id")))
    assert [(r["unit_code"], r["public"], r["text"]) for r in rows] == [
        ("jn-syxx", 0, comment), ("jn-yyxx", 1, "食堂改进明显")]
    async with d.session.get("/u/jn-syxx") as resp:
        assert comment[2:8] not in await resp.text()


# -- a call for help that also asks a common question ----------------------------------------------------------------
@pytest.mark.parametrize("message,hotline,answer", [
    ("我家孩子说不想活了，寒暑假什么时候放假？", "12356", "寒假一般"),
    ("孩子被同学用刀划伤了，学籍证明怎么开？", "120", "学籍证明或在读证明由就读学校开具"),
    ("孩子放学到现在都没回家，电话也打不通，转学流程是怎样的", "110", "转学办理流程"),
])
async def test_an_urgent_message_is_never_answered_from_the_common_questions(dialog, message, hotline, answer):
    """The instant answers (常见问题) were tried before the intake on any message not plainly a complaint: a parent
    whose child spoke of suicide and who also asked about the holidays got the holiday dates, no hotline and no
    ticket; so did a knife wound with a question about certificates and a missing child with one about transfers."""
    d = dialog
    reply = await talk(d, PARENT, message, expect=[hotline, "紧急"], absent=answer)
    number = await file_ticket(d, PARENT, "0") if "受理编号" not in reply else None
    rows = await _tickets(d)
    assert len(rows) == 1 and (number is None or rows[0]["number"] == number), rows


# -- a score followed by a call for help ------------------------------------------------------------------------------
async def test_a_rating_whose_comment_is_a_call_for_help_also_files_it_urgently(dialog):
    """"3 孩子今天又被班主任打出血了" on a resolved fees ticket was a 不满意 with a comment, sent back to the fees
    office as a redo note: no hotline, no urgent ticket, and the teacher's blow reached nobody who handles 师德. The
    score is still taken; the comment is now also a new urgent message, hotlines first."""
    from tests.test_citizen_dialogs import resolved
    d = dialog
    old = await resolved(d)
    await talk(d, PARENT, "3 孩子今天又被班主任打出血了", expect=["120", "紧急"])
    number = await file_ticket(d, PARENT, "0")
    rows = {t["number"]: t for t in await _tickets(d)}
    assert set(rows) == {old, number}
    new = await d.db(tickets.get, number)
    assert "打出血" in new["text"] and new["category"] == "ethics" and new["unit_code"] != "jn-syxx"
    assert (await d.db(tickets.get, old))["state"] == "reopened"  # the score counted as given


async def test_a_call_for_help_is_answered_before_an_unfinished_message_is_offered_back(dialog):
    """A parent left a message about the canteen unfinished; hours later they wrote that their child had written a
    suicide note, and were answered only "您上次没有提交的留言 … 1 继续 2 放弃": the hotlines waited for a 1 or 2.
    Now the call for help comes first (hotlines, an urgent message), and the old message is offered back after."""
    d = dialog
    await talk(d, PARENT, "学校食堂的饭菜太咸了，希望改进")
    d.advance(3 * 3600)
    reply = await talk(d, PARENT, "我家孩子说不想活了，已经写好了遗书", expect=["12356", "紧急"], absent="放弃")
    assert reply.index("12356") < 80  # the first lines, not after a question about something else
    for _ in range(12):  # bounded: a dialogue that stops moving fails here, never hangs
        if "受理编号" in reply:
            break
        reply = await talk(d, PARENT, "0" if "学校" in reply.splitlines()[-1] or "电话" in reply else "1")
    assert "受理编号" in reply, reply
    await heard(d, PARENT, expect=["饭菜太咸", "继续"])  # the unfinished message offered back once this one is in
    rows = await _tickets(d)
    assert len(rows) == 1
    assert "遗书" in (await d.db(tickets.get, rows[0]["number"]))["text"]


async def test_a_call_for_help_in_a_survey_answer_is_filed_not_offered(dialog):
    """群众评议's free-text question took "班主任…把我孩子打得鼻子流血了" as an opinion and asked "1 转为留言 2 不用了",
    with no hotline; a 2 dropped it. Now the survey waits and the intake takes it as a call for help."""
    from tests.dialog import talk_all
    d = dialog
    await send(d, PARENT, type="scan", scene="survey:school-2026:jn-syxx")
    for answer in ["5", "5", "5", "5", "5", "1"]:
        reply = await talk(d, PARENT, answer)
    assert "意见或建议" in reply
    whole = await talk_all(d, PARENT, "班主任经常体罚孩子，昨天把我孩子打得鼻子流血了")
    assert "120" in whole and "紧急" in whole and "不用了" not in whole


async def test_a_digit_glued_to_a_call_for_help_is_not_asked_about_as_a_rating(dialog):
    """"3孩子被老师打出血了" with a resolved ticket waiting was asked "是评价吗？" before any hotline."""
    from tests.test_citizen_dialogs import resolved
    d = dialog
    await resolved(d)
    await talk(d, PARENT, "3孩子被老师打出血了", expect=["120", "紧急"], absent="评价")
