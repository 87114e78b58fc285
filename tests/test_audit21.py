"""The twenty-first trust audit: one account's weight in a 群众评议 survey; the filing reply with nobody bound
anywhere; the 人员 pages with no admin; the access token across a test clock's jumps; an auditor's attacks."""
from __future__ import annotations

import pytest
from aiohttp import web

from bot.app import DB, DISPATCHER
from bot.channels.wechat.api import WechatApi
from bot.sandbox.platform import Sandbox
from handlers.clock import FixedClock
from storage import tokens
from storage.db import Database
from tests import wx
from tests.test_survey import demo  # noqa: F401  (the demo app with the shipped 民主测评, as WeChat users)


# -- (d) the access token when the clock jumps mid-call ---------------------------------------------------------
@pytest.fixture
async def platform(aiohttp_server, tmp_path):
    clock = FixedClock(1_800_000_000.0)
    sandbox = Sandbox(wx.TOKEN, wx.AES_KEY, wx.APPID, "secret", "http://127.0.0.1:9/wechat", clock=clock.now)
    app = web.Application()
    sandbox.add_routes(app)
    server = await aiohttp_server(app)
    db = Database(tmp_path / "d.db").start()
    api = WechatApi(db, wx.APPID, "secret", str(server.make_url("")), clock)
    yield sandbox, api, db, clock
    await api.close()
    db.close()


def jump_while(sandbox: Sandbox, clock: FixedClock, method: str, times: int) -> None:
    """The test clock moves a day while the next `times` calls of the platform's `method` are on their way (a test
    that jumps days while a push is in flight)."""
    real = getattr(sandbox, method)
    left = [times]

    def jumping(*args, **kw):
        if method != "_token_answer" and left[0] > 0:
            left[0] -= 1
            clock.advance(86400)
            for openid in list(sandbox._users):  # people who use the account daily stay within the 48 hours
                sandbox.follow(openid)
        out = real(*args, **kw)
        if method == "_token_answer" and left[0] > 0:
            left[0] -= 1
            clock.advance(86400)
        return out
    setattr(sandbox, method, jumping)


async def test_a_push_goes_through_however_often_the_clock_jumps_while_it_is_on_its_way(platform):
    """A token the clock passed while the call was on its way is simply expired: the current one is fetched and the
    call tried again, as many times as the clock jumped (it had one refresh, so a second jump failed the push, and
    its retry waited for a moment the fixed clock never reached: the tests' 42001 stall)."""
    sandbox, api, db, clock = platform
    sandbox.follow("o_jump")
    await api.send_text("o_jump", "一")
    jump_while(sandbox, clock, "_check_access_token", 3)
    await api.send_text("o_jump", "二")
    assert [m.content for m in sandbox.messages("o_jump")] == ["一", "二"]


async def test_a_token_fetched_across_a_jump_is_kept_for_its_life_from_when_it_was_asked_for(platform):
    """The token's life was counted from when the answer was read: a jump while it was on its way kept a dead token
    as good for two hours more (every call then met 42001 first)."""
    sandbox, api, db, clock = platform
    asked = clock.now()
    jump_while(sandbox, clock, "_token_answer", 1)
    token = await api.access_token()
    row = await db.run(lambda c: c.execute("SELECT token, expires_at FROM access_tokens").fetchone())
    assert row[0] == token and row[1] <= asked + 7200
    assert await db.run(tokens.get, wx.APPID, clock.now()) is None


# -- (a) one account's weight in a survey --------------------------------------------------------------------------
PARENT = "o_parent_audit21"
SCHOOLS = ("jn-syxx", "jn-yyxx", "jn-dszx", "jb-wcxx")
NAMES = ("江南区实验小学", "江南区育英小学", "江南区第三中学", "江北区文昌小学")
ONES = ("1", "1", "1", "1", "1", "1", "0")  # every school marked down


async def rate(parent, code: str, answers=ONES) -> str:
    reply = await parent.scan(f"survey:school-2026:{code}")
    for answer in answers:
        reply = await parent.say(answer)
    return reply


async def test_one_account_rates_at_most_three_units_in_a_survey_and_the_rest_is_refused_and_audited(demo):
    """A survey figure feeds the units' review: one phone marked every school in the city down (one response per
    unit, under every burst check). Now one person's answers count for at most three units per survey (their
    children's schools); a fourth is refused politely, at once, and kept in the audit log; the three rated may
    still be rated again."""
    from storage import websessions
    from tests.test_survey import Phone, response_rows
    app, session, clock = demo
    parent = Phone(session, "o_rates_all")
    for code in SCHOOLS[:3]:
        assert "评议完成" in await rate(parent, code)
    refused = await parent.scan(f"survey:school-2026:{SCHOOLS[3]}")
    assert "最多评价3个单位" in refused and "、".join(NAMES[:3]) in refused and NAMES[3] in refused
    assert "第1/7题" not in refused
    assert "最多评价3个单位" in await parent.say("评议 " + NAMES[3])  # by name: the same rule
    rows = await response_rows(app)
    assert sorted(r["unit_code"] for r in rows) == sorted(SCHOOLS[:3])
    audit = await app[DB].run(lambda db: websessions.audit_rows(db, actor="o_rates_all"))
    assert [r["action"] for r in audit] == ["survey:refused", "survey:refused"]
    assert audit[0]["detail"] == f"school-2026 {SCHOOLS[3]}: {' '.join(SCHOOLS[:3])}"
    assert "重新评议" in await parent.scan(f"survey:school-2026:{SCHOOLS[0]}")  # a rated one may be done again


async def test_a_sheet_under_way_when_the_cap_is_reached_is_refused_when_sent(demo):
    """The door is checked again at the last answer: three units rated meanwhile (another worker, the cap met while
    this sheet was open), the fourth is refused when sent, its draft dropped."""
    from storage import surveys
    from tests.test_survey import Phone, response_rows
    app, session, clock = demo
    parent = Phone(session, "o_side_by_side")
    assert "第1/7题" in await parent.scan(f"survey:school-2026:{SCHOOLS[3]}")
    for answer in ONES[:-1]:
        await parent.say(answer)
    sheet = {"attitude": 5, "efficiency": 5, "fees": 5, "ethics": 5, "overall": 5, "role": 1, "comment": None}

    def meanwhile(db):
        for code in SCHOOLS[:3]:
            row = surveys.begin(db, "school-2026", code, "o_side_by_side", clock.now(), {})
            surveys.submit(db, row["id"], sheet, clock.now(), False)
    await app[DB].run(meanwhile)
    last = await parent.say(ONES[-1])
    assert "最多评价3个单位" in last and "评议完成" not in last
    rows = await response_rows(app)
    assert sorted(r["unit_code"] for r in rows) == sorted(SCHOOLS[:3]) and all(r["draft"] is None for r in rows)


async def test_answers_beyond_a_persons_three_units_given_before_the_rule_count_nowhere(demo):
    """Given before the rule: the first three units the person began count, the rest in no figure (the results,
    the review's period, the totals)."""
    from handlers.survey_results import survey_results
    from storage import surveys
    app, session, clock = demo
    now = clock.now()
    sheet = {"attitude": 1, "efficiency": 1, "fees": 1, "ethics": 1, "overall": 1, "role": 1, "comment": None}

    def arrange(db):
        for i, code in enumerate(SCHOOLS + ("jb-bhxx",)):
            row = surveys.begin(db, "school-2026", code, "o_before_the_rule", now + i, {})
            surveys.submit(db, row["id"], sheet, now + 10 - i, False)  # sent in the other order: begun counts
        # as if given before the upgrade that brought the rule (m073 marks where it starts)
        db.execute("UPDATE integrity_marks SET value = (SELECT max(id) + 1 FROM survey_responses) "
                   "WHERE name = 'survey_cap_from'")
    await app[DB].run(arrange)
    rows = await app[DB].run(surveys.submitted, ["school-2026"])
    assert sorted(r["unit_code"] for r in rows) == sorted(SCHOOLS[:3])
    assert await app[DB].run(surveys.totals) == {"school-2026": (3, 3, 0)}
    survey = app[DISPATCHER].campaign.p.surveys["school-2026"]
    results = await app[DB].read(lambda c: survey_results(c, survey, {survey.id: survey}, 1))
    assert set(results) == set(SCHOOLS[:3])


# -- (b) the filing reply with nobody bound anywhere ----------------------------------------------------------------
async def test_with_nobody_bound_the_filing_reply_promises_no_deadline_and_the_watch_does_not_repeat_it(dialog):
    """Nobody bound anywhere: the citizen was promised 办结时限 at filing and told at the first reminder that nobody was
    on duty. Now the filing reply says it honestly (on record, handled when staff are on duty, no deadline), and the
    watch does not say it a second time."""
    from storage import tickets
    from tests.dialog import NUMBER, answer_until, is_filed, talk
    from tests.test_audit20 import days, nobody_bound, pushed_to
    d = dialog
    await nobody_bound(d)
    from tests.dialog import send
    await send(d, PARENT, type="scan", scene="school:jn-syxx")
    reply = await talk(d, PARENT, "实验小学收资料费300元不给收据")
    reply = await answer_until(d, PARENT, reply, is_filed)
    number = NUMBER.search(reply).group(0)
    assert "暂无工作人员值守" in reply and "已记录在案" in reply
    assert "办结时限" not in reply and "前办结" not in reply
    before = len(await pushed_to(d, PARENT))
    await days(d, 40)
    assert not [s for s in (await pushed_to(d, PARENT))[before:] if "暂无工作人员值守" in s]
    assert (await d.db(tickets.get, number))["state"] == "assigned"


async def test_with_someone_on_duty_the_filing_reply_keeps_its_deadline(dialog):
    from tests.dialog import answer_until, is_filed, send, talk
    d = dialog
    await send(d, PARENT, type="scan", scene="school:jn-syxx")
    reply = await talk(d, PARENT, "实验小学收资料费300元不给收据")
    reply = await answer_until(d, PARENT, reply, is_filed)
    assert "办结时限" in reply and "暂无工作人员值守" not in reply


# -- (c) the 人员 pages with no admin ---------------------------------------------------------------------------
async def test_the_staff_pages_warn_leaders_when_no_admin_is_bound_and_say_how_to_add_one(dialog):
    """With no admin bound nothing said so on the 人员 page (a leader may not make one): now it and the 管理 hub
    warn, with the console command; once an admin is bound the warning is gone."""
    from tests.dialog import LEADER
    from tests.test_audit19 import bind_admin
    from tests.test_web import browser, sign_in
    d = dialog
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        for path in ("/w/staff", "/w/admin"):
            page = await (await s.get(path)).text()
            assert 'id="no-admin"' in page and "没有管理员" in page, path
            assert "tingjian staff invite --unit jyj --role admin --name 姓名" in page, path
        await bind_admin(d)
        for path in ("/w/staff", "/w/admin"):
            assert 'id="no-admin"' not in await (await s.get(path)).text(), path


# -- (e) an auditor's attacks ------------------------------------------------------------------------------------
@pytest.mark.parametrize("key, value", [("appsecret", "0123456789abcdef0123456789abcdef\n"), ("appsecret", " s3cret"),
                                        ("appid", "wx0123456789abcdef "), ("appsecret", "abc def")])
def test_an_appid_or_appsecret_with_a_space_or_line_break_is_refused_naming_the_key(make_config, key, value):
    """Sent as they are: a secret read from a file with its last line break (TINGJIAN_WECHAT_APPSECRET="$(cat f)" keeps
    none, but an env file or a pasted TOML value does) passed the checks, and every push then failed at the token
    (40125), retried for ever. Now the start names the key."""
    from bot.config import ConfigError
    with pytest.raises(ConfigError, match=f"wechat.{key}: has a space or a line break"):
        make_config(wechat={key: value})
