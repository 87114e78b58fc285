"""The workbench over real HTTP (no browser): sign-in links, sessions, CSRF, scope, actions through the same Desk
functions as WeChat, search, notices, exports, the audit log and the citizen's own page."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import re

import aiohttp
import pytest

from bot.app import DISPATCHER
from storage import outbox, staff, tickets, websessions
from tests.dialog import FEES, LEADER, SCHOOL, drain, file_ticket, heard, talk

PARENT = "o_parent_web"
LINK = re.compile(r"http://127\.0\.0\.1:\d+(/w/signin/[A-Za-z0-9_-]+)")
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


@contextlib.asynccontextmanager
async def browser(d):
    """A separate browser: its own cookie jar (unsafe=True: cookies for an IP address host)."""
    async with aiohttp.ClientSession(base_url=str(d.session._base_url), cookie_jar=aiohttp.CookieJar(unsafe=True)
                                     ) as s:
        yield s


async def link_for(d, openid: str) -> str:
    reply = await talk(d, openid, "登录", expect="5分钟内有效")
    return LINK.search(reply).group(1)


NONCE = re.compile(r'name="nonce" value="([^"]+)"')


async def press_signin(s: aiohttp.ClientSession, path: str, **kw) -> aiohttp.ClientResponse:
    """Open the link's page and press its button, as a person does."""
    async with s.get(path) as page:
        nonce = NONCE.search(await page.text()).group(1)
    return await s.post(path, data={"nonce": nonce}, **kw)


async def sign_in(d, s: aiohttp.ClientSession, openid: str) -> str:
    """Sign `s` in as `openid`; returns the inbox page."""
    path = await link_for(d, openid)
    async with await press_signin(s, path) as resp:
        assert resp.status == 200, await resp.text()
        assert str(resp.url).endswith("/w/")
        return await resp.text()


async def csrf_of(s, path: str) -> str:
    async with s.get(path) as resp:
        return CSRF.search(await resp.text()).group(1)


async def act(s, number: str, action: str, csrf: str | None = None, **fields) -> aiohttp.ClientResponse:
    """Post an action form; the response is the page it leads to (with the answer shown once), text in .page."""
    token = csrf if csrf is not None else await csrf_of(s, f"/w/t/{number}")
    resp = await s.post(f"/w/t/{number}", data={"_csrf": token, "action": action, **fields})
    resp.page = await resp.text()
    return resp


async def audit(d, ticket: str | None = None) -> list[dict]:
    return await d.db(lambda db: websessions.audit_rows(db, ticket=ticket))


async def fees_ticket(d, text: str = "学校乱收费，每人收资料费300元不给收据") -> str:
    return await file_ticket(d, PARENT, text, scene="school:jn-syxx", phone="13812345678")


# -- sign-in -----------------------------------------------------------------------------------------------------------
async def test_a_signin_link_opens_one_session_once(dialog):
    path = await link_for(dialog, FEES)
    async with browser(dialog) as s:
        async with s.get(path) as resp:  # opening the link shows a button; a link preview does not use it up
            assert resp.status == 200 and "进入工作台" in await resp.text()
        async with s.get("/w/", allow_redirects=False) as resp:
            assert resp.status == 302 and resp.headers["Location"] == "/w/login"
        async with await press_signin(s, path, allow_redirects=False) as resp:
            assert resp.status == 302 and resp.headers["Location"] == "/w/"
            cookie = resp.cookies["tj_session"]
            assert cookie["httponly"] and cookie["samesite"] == "Lax" and cookie["path"] == "/"
        async with s.get("/w/") as resp:
            assert resp.status == 200 and "收费管理处·李老师" in await resp.text()
    async with browser(dialog) as other:
        async with await press_signin(other, path) as resp:
            assert resp.status == 403 and "链接已使用" in await resp.text()
    assert [r["action"] for r in await audit(dialog)] == ["signin"]


async def test_an_expired_or_unknown_link_opens_nothing(dialog):
    path = await link_for(dialog, FEES)
    dialog.clock.advance(5 * 60 + 1)
    async with browser(dialog) as s:
        async with await press_signin(s, path) as resp:
            assert resp.status == 403 and "链接已过期" in await resp.text()
        async with await press_signin(s, "/w/signin/not-a-token") as resp:
            assert resp.status == 403 and "链接无效" in await resp.text()
        async with s.get("/w/", allow_redirects=False) as resp:
            assert resp.status == 302


async def test_a_signin_posted_from_another_site_is_refused_and_leaves_the_link_unused(dialog):
    """Login CSRF: a page elsewhere posting the attacker's own link would sign the victim in as the attacker. Such
    a post carries no nonce cookie (SameSite=Lax), so it is refused before the link is looked at."""
    path = await link_for(dialog, FEES)
    async with browser(dialog) as victim:
        async with victim.post(path, data={"nonce": "guessed"}, allow_redirects=False) as resp:
            assert resp.status == 403 and "tj_session" not in resp.cookies
        async with await press_signin(victim, path) as resp:  # the link itself still works, once
            assert resp.status == 200 and str(resp.url).endswith("/w/")


async def test_citizens_get_no_signin_link(dialog):
    await talk(dialog, PARENT, "登录", absent="/w/signin/")


async def test_signing_in_never_adopts_a_planted_session(dialog):
    """Session fixation: a session id put into the browser before sign-in is ended, and a new one is issued."""
    async with browser(dialog) as attacker:
        await sign_in(dialog, attacker, SCHOOL)
        planted = attacker.cookie_jar.filter_cookies(attacker._base_url)["tj_session"].value
    async with browser(dialog) as victim:
        victim.cookie_jar.update_cookies({"tj_session": planted})
        await sign_in(dialog, victim, FEES)
        issued = victim.cookie_jar.filter_cookies(victim._base_url)["tj_session"].value
        assert issued != planted
    async with browser(dialog) as attacker:
        attacker.cookie_jar.update_cookies({"tj_session": planted})
        async with attacker.get("/w/", allow_redirects=False) as resp:
            assert resp.status == 302  # the planted id was ended at the victim's sign-in


async def test_sessions_end_after_two_idle_hours_and_when_the_person_is_removed(dialog):
    async with browser(dialog) as s:
        await sign_in(dialog, s, FEES)
        dialog.clock.advance(2 * 3600 + 1)
        async with s.get("/w/", allow_redirects=False) as resp:
            assert resp.status == 302
        await sign_in(dialog, s, FEES)
        await dialog.db(lambda db: dialog.app[DISPATCHER].desk.remove_staff(db, FEES, staff.CONSOLE))
        async with s.get("/w/", allow_redirects=False) as resp:
            assert resp.status == 302 and resp.headers["Location"] == "/w/login"


async def test_pages_carry_security_headers(dialog):
    async with browser(dialog) as s:
        await sign_in(dialog, s, FEES)
        async with s.get("/w/") as resp:
            csp = resp.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
            assert resp.headers["X-Frame-Options"] == "DENY" and resp.headers["Referrer-Policy"] == "no-referrer"
            assert "<script>" not in await resp.text()


# -- scope and CSRF ------------------------------------------------------------------------------------------------------
async def test_a_form_without_the_csrf_token_changes_nothing(dialog):
    number = await fees_ticket(dialog)
    async with browser(dialog) as s:
        await sign_in(dialog, s, FEES)
        for token in ("", "forged"):
            resp = await act(s, number, "accept", csrf=token)
            assert resp.status == 403
    ticket = await dialog.db(tickets.get, number)
    assert ticket["state"] == "assigned"


async def test_another_units_ticket_is_not_found_by_url(dialog):
    number = await fees_ticket(dialog)
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)  # 江南区实验小学: the fees ticket is the fees office's
        async with s.get(f"/w/t/{number}") as resp:
            assert resp.status == 404
        csrf = await csrf_of(s, "/w/")
        resp = await act(s, number, "accept", csrf=csrf)
        assert resp.status == 404
        async with s.get("/w/?state=all") as resp:
            assert number not in await resp.text()
    assert (await dialog.db(tickets.get, number))["state"] == "assigned"


# -- the handler's cycle -----------------------------------------------------------------------------------------------
async def test_a_handler_accepts_replies_and_resolves_in_the_workbench(dialog):
    number = await fees_ticket(dialog)
    await drain(dialog, PARENT, FEES)
    async with browser(dialog) as s:
        inbox = await sign_in(dialog, s, FEES)
        assert number in inbox and "乱收费" in inbox
        async with s.get(f"/w/t/{number}") as resp:
            page = await resp.text()
        assert "138****5678" in page and "13812345678" not in page  # masked phone
        assert "签收" in page and "分派依据" in page
        assert (await act(s, number, "accept")).status == 200
        await heard(dialog, PARENT, expect=["受理", number])
        await act(s, number, "note", text="已电话联系学校核实")
        await act(s, number, "reply", text="您好，已责令学校退还资料费。")
        await heard(dialog, PARENT, expect="已责令学校退还资料费")
        resp = await act(s, number, "resolve", text="学校已退还全部资料费")
        assert "已办结 " + number in resp.page
        await heard(dialog, PARENT, expect="学校已退还全部资料费")
    ticket = await dialog.db(tickets.get, number)
    assert ticket["state"] == "resolved" and ticket["accepted_by"] == FEES
    actions = [r["action"] for r in await audit(dialog, number)]
    assert actions.count("view") >= 4 and {"action:accept", "action:note", "action:reply",
                                           "action:resolve"} <= set(actions)
    # The internal note is on the staff page, never on the citizen's.
    events = await dialog.db(tickets.events, ticket["id"])
    assert [e["action"] for e in events if e["actor"] == FEES] == ["accept", "note", "reply", "resolve"]


async def test_an_empty_reply_is_refused_with_a_clear_message(dialog):
    number = await fees_ticket(dialog)
    async with browser(dialog) as s:
        await sign_in(dialog, s, FEES)
        resp = await act(s, number, "reply", text="   ")
        assert "请填写答复内容（群众可见）。" in resp.page
    assert (await dialog.db(tickets.get, number))["state"] == "assigned"


async def test_an_action_the_state_does_not_allow_is_refused_like_in_wechat(dialog):
    number = await fees_ticket(dialog)
    async with browser(dialog) as s:
        await sign_in(dialog, s, FEES)
        await act(s, number, "resolve", text="已核实处理")  # resolve signs first, as in WeChat
        resp = await act(s, number, "bounce", text="不归我们")
        assert "当前状态为“已办结”，不能退回" in resp.page  # the desk's own refusal, shown once
        async with s.get(f"/w/t/{number}") as again:
            assert "不能退回" not in await again.text()
    assert (await dialog.db(tickets.get, number))["state"] == "resolved"


# -- search, notices, exports ------------------------------------------------------------------------------------------
async def test_search_finds_words_inside_longer_words(dialog):
    number = await fees_ticket(dialog, "学校乱收费，还要求买指定的练习册")
    other = await file_ticket(dialog, "o_parent_2", "学校周末组织补课，每次收费200元", scene="school:jn-syxx")
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        async with s.get("/w/", params={"q": "乱收费", "state": "all"}) as resp:
            page = await resp.text()
        assert number in page and other not in page
        async with s.get("/w/", params={"q": "练习册"}) as resp:
            assert number in await resp.text()
        async with s.get("/w/", params={"q": "收费"}) as resp:  # a word inside 乱收费 and in the other text
            page = await resp.text()
            assert number in page and other in page
        async with s.get("/w/", params={"q": "食堂"}) as resp:
            assert "没有找到" in await resp.text()


async def test_new_tickets_reach_the_notification_list(dialog):
    async with browser(dialog) as s:
        await sign_in(dialog, s, FEES)
        number = await fees_ticket(dialog)
        async with s.get("/w/") as resp:
            assert 'class="badge"' in await resp.text()
        async with s.get("/w/notices") as resp:
            page = await resp.text()
        assert number in page and "新留言待签收" in page
        async with s.get("/w/") as resp:
            assert 'class="badge"' not in await resp.text()
    wechat = await dialog.db(outbox.list_for, FEES)
    assert json.loads(wechat[-1]["payload"])["notice"]["ticket"] == number  # the same notice, WeChat's channel


async def test_exports_keep_to_the_scope_and_mask_phones(dialog):
    mine = await fees_ticket(dialog)
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        async with s.get("/w/export/tickets.csv", params={"state": "all"}) as resp:
            rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
        assert rows[0][0] == "编号" and all(mine not in r for r in rows)
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        async with s.get("/w/export/tickets.csv", params={"state": "all"}) as resp:
            assert resp.headers["Content-Disposition"].startswith("attachment")
            body = (await resp.read()).decode("utf-8-sig")
        assert mine in body and "138****5678" in body and "13812345678" not in body
        async with s.get("/w/export/tickets.xlsx", params={"state": "all"}) as resp:
            data = await resp.read()
        from openpyxl import load_workbook
        sheet = load_workbook(io.BytesIO(data)).active
        assert [c.value for c in sheet[2]][0] == mine
    exports = [r for r in await audit(dialog) if r["action"].startswith("export:")]
    assert {r["action"] for r in exports} == {"export:tickets.csv", "export:tickets.xlsx"}
    assert any(r["actor"] == SCHOOL and r["detail"].startswith("0 rows") for r in exports)


async def test_a_unit_with_no_rate_to_count_gets_no_rank_on_the_dashboard(dialog):
    """The hint says units with nothing to count are not ranked: their row shows —, not the next number."""
    import re
    await fees_ticket(dialog)  # dispatched just now: its 签收 window is open, so no rate of the unit counts yet
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        async with s.get("/w/dashboard") as resp:
            page = await resp.text()
    ranking = page[page.index("单位排名"):]
    rows = re.findall(r'<tr><td class="rank[^"]*"[^>]*>([^<]*)</td><td class="lead">(?:<a [^>]*>)?([^<]*)(?:</a>)?</td>(.*?)</tr>', ranking, re.S)
    assert any(name == "市教育局教育收费管理处" for _, name, _ in rows)
    for rank, name, cells in rows:
        rates = re.findall(r'data-label="(?:响应率|解决率|满意率)">([^<]*)<', cells)
        assert (rank == "—") == all(r == "—" for r in rates), (rank, name, rates)


async def test_the_leader_sees_the_dashboard_and_the_audit_log_others_do_not(dialog):
    number = await fees_ticket(dialog)
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        async with s.get("/w/dashboard") as resp:
            page = await resp.text()
        assert "响应率" in page and "单位排名" in page and "市教育局教育收费管理处" in page
        async with s.get("/w/dashboard", params={"kind": "month"}) as resp:
            assert "2026年11月" in await resp.text()
        async with s.get("/w/export/rates.xlsx", params={"kind": "month"}) as resp:
            from openpyxl import load_workbook
            sheet = load_workbook(io.BytesIO(await resp.read())).active
            assert sheet["A1"].value == "单位" and sheet.max_row >= 2
        async with s.get("/w/export/rates.csv", params={"kind": "month"}) as resp:
            body = await resp.read()
            assert resp.headers["Content-Type"] == "text/csv; charset=utf-8"
            assert resp.headers["Content-Length"] == str(len(body))
            assert "filename*=UTF-8''" in resp.headers["Content-Disposition"]
        rows = list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))
        assert body.startswith("\ufeff".encode()) and rows[0][0] == "单位" and len(rows) >= 2
        await s.get(f"/w/t/{number}")
        async with s.get("/w/audit") as resp:
            page = await resp.text()
        assert "查看留言" in page and number in page and "导出：统计（Excel）" in page and "导出：统计（CSV）" in page
    async with browser(dialog) as s:
        await sign_in(dialog, s, FEES)
        async with s.get("/w/audit") as resp:
            assert resp.status == 404


def test_every_audit_action_the_code_writes_has_words_on_the_audit_page():
    """Each action code passed to storage.websessions.audit (directly or through the pages' write) reads as words on
    审计日志 (texts.AUDIT_ACTIONS): a leader reads 修改角色, not staff:role. An f-string's head is looked up with its
    words (texts.AUDIT_WORDS) where the page can know them."""
    import ast
    from pathlib import Path

    from handlers import texts
    root = Path(__file__).resolve().parents[1]
    found: dict[str, str] = {}

    def codes(node):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            yield node.value
        elif isinstance(node, ast.IfExp):
            yield from codes(node.body)
            yield from codes(node.orelse)
        elif isinstance(node, ast.JoinedStr) and isinstance(node.values[0], ast.Constant):
            yield node.values[0].value  # "action:" of f"action:{action}"
    for path in [*root.glob("bot/**/*.py"), *root.glob("handlers/*.py"), *root.glob("storage/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if not isinstance(node, ast.Call):
                continue
            args = node.args
            if isinstance(node.func, ast.Attribute) and node.func.attr == "audit" and len(args) > 3:
                action = args[3]
            elif any(isinstance(a, ast.Attribute) and a.attr == "audit" for a in args[1:2]) and len(args) > 5:
                action = args[5]  # write(request, websessions.audit, now, actor, action, ...)
            else:
                continue
            for code in codes(action):
                found[code] = f"{path.relative_to(root)}:{node.lineno}"
    assert len(found) >= 20, found  # the scan sees the calls (signin, staff:role, action:, export: ...)
    missing = {code: where for code, where in found.items()
               if (code.rstrip(":") not in texts.AUDIT_ACTIONS if code.endswith(":")
                   else texts.audit_action(code) == code)}
    assert not missing, f"audit actions without words on the page: {missing}"
    from bot.web.workbench import FORM_ACTIONS
    assert not set(FORM_ACTIONS) - set(texts.AUDIT_WORDS)  # action:reply and the rest, each in words


async def test_the_audit_log_cannot_be_rewritten(dialog):
    await fees_ticket(dialog)
    async with browser(dialog) as s:
        await sign_in(dialog, s, FEES)
    with pytest.raises(Exception, match="append-only"):
        await dialog.db(lambda db: db.execute("UPDATE audit_log SET actor = 'x'"))
    with pytest.raises(Exception, match="append-only"):
        await dialog.db(lambda db: db.execute("DELETE FROM audit_log"))


# -- the citizen's page --------------------------------------------------------------------------------------------------
async def test_the_citizen_gets_a_signed_page_for_their_own_ticket(dialog):
    number = await fees_ticket(dialog)
    async with browser(dialog) as s:
        await sign_in(dialog, s, FEES)
        await act(s, number, "note", text="内部：校长说家长难缠")
        await act(s, number, "reply", text="您好，资料费将全部退还。")
    reply = await talk(dialog, PARENT, f"查询 {number}", expect="仅限您本人")
    path = re.search(r"http://127\.0\.0\.1:\d+(/t/\S+)", reply).group(1)
    async with browser(dialog) as s:
        async with s.get(path) as resp:
            page = await resp.text()
        assert resp.status == 200 and "资料费将全部退还" in page and "学校乱收费" in page
        assert "家长难缠" not in page and "市教育局教育收费管理处" in page
        assert resp.headers["X-Frame-Options"] == "DENY"
        tampered = path.replace("sig=", "sig=0")
        async with s.get(tampered) as resp:
            assert resp.status == 403
        other = await file_ticket(dialog, "o_someone_else", "幼儿园伙食费太贵", kind="complaint")
        async with s.get(path.replace(number, other)) as resp:
            assert resp.status == 403  # the signature is for that ticket and that person only
    dialog.clock.advance(7 * 86400 + 1)
    async with browser(dialog) as s:
        async with s.get(path) as resp:
            assert resp.status == 403 and "已过期" in await resp.text()


async def test_a_dashboard_narrows_to_one_unit_only_within_the_scope(dialog):
    await fees_ticket(dialog)
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        async with s.get("/w/dashboard", params={"unit": "jyj-sfc"}) as resp:
            page = await resp.text()
        assert "<small>市教育局教育收费管理处 ·" in page and '?period=' in page and ">市教育局教育收费管理处</a></td>" in page
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        async with s.get("/w/dashboard", params={"unit": "jyj-sfc"}) as resp:
            page = await resp.text()
        assert "<small>江南区实验小学 ·" in page and "收费管理处" not in page.split("<main>")[1]


async def test_an_anonymous_message_is_never_handed_to_the_school_not_even_by_a_leader(dialog):
    number = await file_ticket(dialog, PARENT, "作业太多，孩子每天写到晚上11点，周末还有很多练习卷",
                               scene="school:jn-syxx", phone="13812345678")
    # The parent was promised "仅教育局可见，也不由学校办理" (texts.ASK_ANONYMITY): the district handles it, and a
    # leader's 转派 to the school is refused like one of a 师德 ticket (privacy.school_barred), changing nothing.
    assert (await dialog.db(tickets.get, number))["unit_code"] == "jn-jyj"
    await talk(dialog, LEADER, f"转派 {number} jn-syxx 请学校先自查", expect="不能转给“江南区实验小学”")
    ticket = await dialog.db(tickets.get, number)
    assert ticket["unit_code"] == "jn-jyj" and ticket["anonymous"]
    async with browser(dialog) as s:
        await sign_in(dialog, s, SCHOOL)
        async with s.get(f"/w/t/{number}") as resp:
            assert resp.status == 404 and "5678" not in await resp.text()
        async with s.get("/w/export/tickets.csv", params={"state": "all"}) as resp:
            body = (await resp.read()).decode("utf-8-sig")
        assert number not in body and "5678" not in body


async def test_leaders_invite_and_remove_staff_in_the_workbench_with_the_clis_checks(dialog):
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        csrf = await csrf_of(s, "/w/staff")
        async with s.post("/w/staff", data={"_csrf": csrf, "do": "invite", "unit": "jn-yyxx", "role": "handler",
                                            "name": "江南区育英小学·王老师"}) as resp:
            page = await resp.text()
        code = re.search(r'id="invite-code">(\w+)<', page).group(1)
        await talk(dialog, "o_new_teacher", f"绑定 {code}", expect="江南区育英小学·王老师")
        async with s.post("/w/staff", data={"_csrf": csrf, "do": "invite", "unit": "nowhere", "role": "handler",
                                            "name": "x"}) as resp:
            # the CLI's own check (storage.staff.create_invite), shown in words; nothing created
            assert resp.status == 400 and "请选择名录中的单位" in await resp.text()
        assert [i["name"] for i in await dialog.db(staff.invites, dialog.clock.now())] == ["江南区育英小学·王老师"]
        async with s.post("/w/staff", data={"_csrf": csrf, "do": "remove", "openid": "o_new_teacher"}) as resp:
            assert "已解除绑定" in await resp.text()
        async with s.post("/w/staff", data={"do": "remove", "openid": FEES}) as resp:
            assert resp.status == 403  # no CSRF token: nothing removed
    assert {r["action"] for r in await audit(dialog)} >= {"staff:invite", "staff:remove"}
    async with browser(dialog) as s:
        await sign_in(dialog, s, FEES)  # still bound; and not a leader: the page does not exist for them
        async with s.get("/w/staff") as resp:
            assert resp.status == 404


async def test_the_daishou_filter_lists_what_the_duty_office_holds(dialog):
    held = await file_ticket(dialog, "o_parent_exam", "请问今年中考体育考试的项目和评分标准什么时候公布？",
                             kind="inquiry")
    other = await fees_ticket(dialog)
    assert (await dialog.db(tickets.get, held))["unattended"]  # 市教育考试院 has nobody bound in the demo
    async with browser(dialog) as s:
        await sign_in(dialog, s, LEADER)
        for state in ("open", "all"):
            async with s.get("/w/", params={"flag": "unattended", "state": state}) as resp:
                page = await resp.text()
            assert resp.status == 200 and held in page and other not in page
        async with s.get("/w/export/tickets.csv", params={"flag": "unattended", "state": "all"}) as resp:
            body = (await resp.read()).decode("utf-8-sig")
        assert held in body and other not in body


async def test_refusals_carry_the_security_headers_and_the_webhook_none(bot):
    """The headers are stamped as each response is prepared (no middleware wraps the webhook)."""
    from tests import wx
    resp = await bot.get("/t/JY2611-0001?exp=1&sig=forged")
    assert resp.status == 403 and resp.headers["X-Frame-Options"] == "DENY"
    assert "script-src 'self'" in resp.headers["Content-Security-Policy"]
    resp = await bot.get("/w/no-such-page")
    assert resp.status in (302, 404) and resp.headers["Referrer-Policy"] == "no-referrer"
    body, query = wx.encrypted(wx.text_xml("o_hdr", "你好"), "o_hdr")
    resp = await bot.post(wx.url("/wechat", query), data=body.encode(), headers={"Content-Type": "text/xml"})
    assert resp.status == 200 and "Content-Security-Policy" not in resp.headers


# -- 常用回复 (reply templates per unit) -------------------------------------------------------------------------------
async def add_template(s, title: str, text: str, unit: str | None = None) -> aiohttp.ClientResponse:
    path = "/w/replies" + (f"?unit={unit}" if unit else "")
    token = await csrf_of(s, path)
    resp = await s.post(path, data={"_csrf": token, "do": "save", "title": title, "text": text})
    resp.page = await resp.text()
    return resp


async def test_a_units_reply_templates_fill_the_reply_box_and_answer_the_citizen(dialog):
    number = await fees_ticket(dialog)
    due = dialog.app[DISPATCHER].calendar.date_text((await dialog.db(tickets.get, number))["due_at"])
    async with browser(dialog) as s:
        await sign_in(dialog, s, FEES)
        resp = await add_template(s, "已转学校核实", "您好，您反映的问题（{编号}）已转{学校}核实，我们将在{截止}前答复您。")
        assert resp.status == 200 and "已添加常用回复“已转学校核实”" in resp.page and "#1" in resp.page
        await add_template(s, "已退费", "经{单位}核实，学校已退还资料费。")
        async with s.get(f"/w/t/{number}") as page:
            html = await page.text()
        assert "#1 已转学校核实" in html and "#2 已退费" in html and 'data-fill="text-reply"' in html
        ids = re.findall(r'<option value="(\d+)" data-text', html)
        # without JavaScript: 填入 reloads the page with the text in the reply box, the form open
        async with s.get(f"/w/t/{number}?into=reply&tpl={ids[0]}") as page:
            html = await page.text()
        filled = f"您好，您反映的问题（{number}）已转江南区实验小学核实，我们将在{due}前答复您。"
        assert re.search(r'<details class="act " id="act-reply" open>', html)
        assert f'id="text-reply" rows="5" maxlength="2000" required>{filled}</textarea>' in html
        await drain(dialog, PARENT)
        resp = await act(s, number, "reply", text=filled)
        assert "已将答复发送给群众" in resp.page
    await heard(dialog, PARENT, expect=filled)
    rows = await audit(dialog)
    assert [r["action"] for r in rows].count("template:save") == 2


async def test_reply_templates_are_kept_per_unit_with_the_same_scope_as_tickets(dialog):
    async with browser(dialog) as fees, browser(dialog) as school:
        await sign_in(dialog, fees, FEES)
        await sign_in(dialog, school, SCHOOL)
        await add_template(fees, "收费处模板", "收费处的答复")
        async with school.get("/w/replies") as page:
            html = await page.text()
        assert "收费处模板" not in html and "江南区实验小学还没有常用回复" in html
        async with school.get("/w/replies?unit=jyj-sfc") as page:  # another unit's page: not there
            assert page.status == 404
        token = await csrf_of(school, "/w/replies")
        resp = await school.post("/w/replies?unit=jyj-sfc", data={"_csrf": token, "do": "save", "title": "x",
                                                                  "text": "y"})
        assert resp.status == 404
        fees_ids = await dialog.db(lambda db: [r[0] for r in db.execute("SELECT id FROM reply_templates")])
        resp = await school.post("/w/replies", data={"_csrf": token, "do": "delete", "id": str(fees_ids[0])})
        assert "已不存在" in await resp.text()  # the school's own page: that id is not one of its templates
        assert await dialog.db(lambda db: db.execute("SELECT count(*) FROM reply_templates").fetchone()[0]) == 1
        # a leader may keep any unit's; bad input changes nothing and keeps what was typed
        async with browser(dialog) as lead:
            await sign_in(dialog, lead, LEADER)
            resp = await add_template(lead, "", "没有标题的内容", unit="jn-syxx")
            assert resp.status == 422 and "请填写常用回复的标题" in resp.page and "没有标题的内容" in resp.page
            resp = await add_template(lead, "学校模板", "学校的答复", unit="jn-syxx")
            assert "已添加" in resp.page
        async with school.get("/w/replies") as page:
            assert "学校模板" in await page.text()
        token = await csrf_of(school, "/w/replies")
        resp = await school.post("/w/replies", data={"do": "save", "title": "a", "text": "b"})
        assert resp.status == 403  # no CSRF token


async def test_a_template_is_used_from_wechat_by_its_number(dialog):
    number = await fees_ticket(dialog)
    async with browser(dialog) as s:
        await sign_in(dialog, s, FEES)
        await add_template(s, "已受理", "您好，{编号}已受理，我们会在{截止}前办结。")
    listing = await talk(dialog, FEES, "常用回复", expect="#1 已受理")
    assert "回复 编号 #序号" in listing
    await talk(dialog, FEES, f"回复 {number} #2", expect="没有第2条常用回复")
    await drain(dialog, PARENT)
    await talk(dialog, FEES, f"回复 {number} ＃1", expect="已将答复发送给群众")
    await heard(dialog, PARENT, expect=f"您好，{number}已受理")
    await talk(dialog, SCHOOL, f"回复 {number} #1", absent="已受理")  # not theirs: no listing of another unit's


# -- sign-in by WeChat web authorisation (网页授权, snsapi_base), through the sandbox's open.weixin.qq.com ----------------
WECHAT_UA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 MicroMessenger/8.0.47"


@contextlib.asynccontextmanager
async def wechat_browser(d, openid: str):
    """WeChat's in-app browser of `openid`: its user agent, and the sandbox knows whose phone it is."""
    jar = aiohttp.CookieJar(unsafe=True)
    async with aiohttp.ClientSession(base_url=str(d.session._base_url), cookie_jar=jar,
                                     headers={"User-Agent": WECHAT_UA}) as s:
        jar.update_cookies({"sandbox_openid": openid}, d.session._base_url)
        yield s


async def test_staff_who_open_a_ticket_inside_wechat_are_signed_in_by_wechat_and_land_on_it(dialog):
    number = await fees_ticket(dialog)
    await talk(dialog, FEES, "待办")  # the staff member uses the account: WeChat knows them
    async with wechat_browser(dialog, FEES) as s:
        hops = []
        async with s.get(f"/w/t/{number}", allow_redirects=False) as resp:
            assert resp.status == 302 and resp.headers["Location"] == f"/w/login?next=/w/t/{number}"
        async with s.get(resp.headers["Location"], allow_redirects=False) as resp:
            assert resp.status == 302 and resp.headers["Location"].startswith("/w/oauth?next=")
        async with s.get(resp.headers["Location"], allow_redirects=False) as resp:
            authorize = resp.headers["Location"]
            assert "tj_oauth" in resp.cookies and resp.cookies["tj_oauth"]["httponly"]
        from urllib.parse import parse_qs, urlsplit
        parts = urlsplit(authorize)
        q = {k: v[0] for k, v in parse_qs(parts.query).items()}
        assert parts.path == "/connect/oauth2/authorize" and parts.fragment == "wechat_redirect"
        assert q["appid"] == "wxd000000000demo" and q["response_type"] == "code" and q["scope"] == "snsapi_base"
        assert q["redirect_uri"].endswith("/w/oauth/back") and len(q["state"]) == 32
        async with s.get(authorize) as resp:  # WeChat sends them back with a code; the code becomes a session
            hops = [str(h.url) for h in resp.history]
            page = await resp.text()
            assert resp.status == 200 and str(resp.url).endswith(f"/w/t/{number}"), page
        assert number in page and "收费管理处·李老师" in page
        assert any("/w/oauth/back?code=" in h for h in hops)
    rows = await audit(dialog)
    assert any(r["action"] == "signin" and r["detail"] == "wechat oauth" and r["actor"] == FEES for r in rows)


async def test_wechat_authorisation_refuses_people_who_are_not_staff_and_codes_not_meant_for_this_browser(dialog):
    await talk(dialog, PARENT, "你好")
    async with wechat_browser(dialog, PARENT) as s:
        async with s.get("/w/") as resp:
            assert resp.status == 403 and "工作台仅供工作人员使用" in await resp.text()
            assert "tj_session" not in {c.key for c in s.cookie_jar}
    await talk(dialog, FEES, "待办")
    async with wechat_browser(dialog, FEES) as attacker:  # a code and state obtained in another browser …
        async with attacker.get("/w/oauth", allow_redirects=False) as resp:
            authorize = resp.headers["Location"]
        async with attacker.get(authorize, allow_redirects=False) as resp:
            back = resp.headers["Location"]
    async with browser(dialog) as victim:  # … opened in this one: no state cookie here, so nothing happens
        async with victim.get(back, allow_redirects=False) as resp:
            assert resp.status == 403 and "请重新打开工作台" in await resp.text()
            assert "tj_session" not in resp.cookies
    async with wechat_browser(dialog, FEES) as s:  # a wrong state with the right cookie: refused too
        async with s.get("/w/oauth", allow_redirects=False) as resp:
            authorize = resp.headers["Location"]
        async with s.get(authorize, allow_redirects=False) as resp:
            forged = resp.headers["Location"].replace("state=", "state=0")
        async with s.get(forged, allow_redirects=False) as resp:
            assert resp.status == 403 and "tj_session" not in resp.cookies


async def test_the_sandbox_code_is_single_use_valid_five_minutes_and_checked_as_wechat_does(dialog):
    from urllib.parse import parse_qs, urlencode, urlsplit
    await talk(dialog, FEES, "待办")
    base = {"appid": "wxd000000000demo", "response_type": "code", "scope": "snsapi_base", "state": "abc123",
            "redirect_uri": str(dialog.session._base_url) + "/w/oauth/back"}

    async def code(**changes) -> tuple[int, str]:
        async with wechat_browser(dialog, FEES) as s:
            async with s.get("/connect/oauth2/authorize?" + urlencode({**base, **changes}),
                             allow_redirects=False) as resp:
                if resp.status != 302:
                    return resp.status, await resp.text()
                q = parse_qs(urlsplit(resp.headers["Location"]).query)
                assert q["state"] == ["abc123"]
                return 302, q["code"][0]

    async def exchange(c: str, **changes) -> dict:
        params = {"appid": "wxd000000000demo", "secret": "demo-secret", "code": c, "grant_type": "authorization_code",
                  **changes}
        async with dialog.session.get("/sns/oauth2/access_token", params=params) as resp:
            return await resp.json()

    status, c = await code()
    assert status == 302
    first = await exchange(c)
    assert first["openid"] == FEES and first["scope"] == "snsapi_base" and first["expires_in"] == 7200
    assert (await exchange(c))["errcode"] == 40163  # used
    assert (await exchange("not-a-code"))["errcode"] == 40029
    _, c = await code()
    assert (await exchange(c, secret="wrong"))["errcode"] == 40125
    assert (await exchange(c, grant_type="client_credential"))["errcode"] == 40002
    assert (await exchange(""))["errcode"] == 41008
    dialog.clock.advance(5 * 60 + 1)
    assert (await exchange(c))["errcode"] == 40029  # older than five minutes
    status, page = await code(redirect_uri="https://evil.example/w/oauth/back")
    assert status == 200 and "10003" in page
    status, page = await code(scope="snsapi_login")
    assert status == 200 and "10005" in page
    status, page = await code(appid="")
    assert status == 200 and "10012" in page


async def test_without_wechat_oauth_configured_there_is_no_such_sign_in(make_config):
    from bot.app import create_app
    from aiohttp.test_utils import TestClient, TestServer
    app = create_app(make_config())
    async with TestClient(TestServer(app)) as client:
        for path in ("/w/oauth", "/w/oauth/back?code=x&state=y"):  # a page saying how to sign in (bureau16)
            resp = await client.get(path, allow_redirects=False)
            page = await resp.text()
            assert resp.status == 404 and resp.content_type == "text/html", page
            assert "未启用微信授权登录" in page and "发送「登录」" in page and '<a href="/w/login">' in page
        resp = await client.get("/w/login", headers={"User-Agent": WECHAT_UA}, allow_redirects=False)
        assert resp.status == 200 and "发送「登录」" in await resp.text()
