"""The twenty-third trust audit: every view of the citizen's own tells the deadline by one rule (Desk.citizen_due:
none promised while nobody is on duty) -- 查询, their list, a ticket's detail, the progress head, a kind changed,
a 不满意 redone, a push's template; phone numbers written in Chinese digits masked for staff; staff names cleaned
of invisible characters where they are stored."""
from __future__ import annotations

import re

import pytest

from storage import tickets
from tests.dialog import FEES, file_ticket, heard, settle, talk
from tests.test_audit20 import nobody_bound, pushed_to

PARENT = "o_parent_audit23"
STORY = "实验小学收资料费300元不给收据"
A_DATE = re.compile(r"\d{1,2}月\d{1,2}日")


# -- 1. the citizen's own views promise no deadline while nobody is on duty ------------------------------------
async def test_with_nobody_on_duty_the_list_the_detail_and_the_progress_promise_no_deadline(dialog):
    """audit22 made the summary, 多久能处理 and the web page honest; the citizen's own 查询 still said
    “｜11月25日（周三）前办结”, the detail “办结时限：…前” and the progress head that the office works to the deadline
    -- with nobody bound who may act on it. Now each says what the filing reply said."""
    d = dialog
    await nobody_bound(d)
    number = await file_ticket(d, PARENT, STORY, scene="school:jn-syxx")
    listed = await talk(d, PARENT, "查询", expect=[number, "暂无工作人员值守"], absent="前办结")
    assert not A_DATE.search(listed), listed
    detail = await talk(d, PARENT, f"查询 {number}", expect=["办结时限：暂时无法确定", "暂无工作人员值守", "资料费"])
    assert not A_DATE.search(detail.split("办理记录")[0]), detail
    progress = await talk(d, PARENT, "那什么时候能有结果", expect=[number, "记录在案"], absent=["办结时限前", "前办结"])
    assert not A_DATE.search(progress), progress


async def test_with_someone_on_duty_the_list_the_detail_and_the_progress_keep_the_deadline(dialog):
    d = dialog
    number = await file_ticket(d, PARENT, STORY, scene="school:jn-syxx")
    await talk(d, PARENT, "查询", expect=[number, "前办结"], absent="值守")
    await talk(d, PARENT, f"查询 {number}", expect="办结时限：", absent=["值守", "暂时无法确定"])
    await talk(d, PARENT, "那什么时候能有结果", expect=["承办单位会在办结时限前办理", "前办结"], absent="值守")


async def test_a_kind_corrected_with_nobody_on_duty_promises_no_new_deadline(dialog):
    """改为咨询 before 签收 said 办结时限相应调整为…前 with nobody bound to act on it."""
    d = dialog
    await nobody_bound(d)
    number = await file_ticket(d, PARENT, "江南区实验小学每天下午3点半就放学，双职工家长根本接不过来",
                               scene="school:jn-syxx")
    reply = await talk(d, PARENT, "不对，是咨询", expect=[number, "已改为咨询", "暂无工作人员值守"], absent="调整为")
    assert not A_DATE.search(reply), reply
    assert (await d.db(tickets.get, number))["kind"] == "inquiry"


async def test_everyone_gone_after_filing_the_views_and_the_template_push_stop_promising(dialog):
    """Filed with someone on duty (a deadline promised then), then everyone unbound: 查询 no longer repeats the
    date, and the one push that says it waits (CITIZEN_WAITING; since audit28 sent as the last person leaves), a
    template outside the 48-hour window, no longer carries the date in its deadline field while its text says none
    can be promised."""
    d = dialog
    number = await file_ticket(d, PARENT, STORY, scene="school:jn-syxx")
    await talk(d, PARENT, "查询", expect="前办结")
    before = len(await pushed_to(d, PARENT))
    d.clock.advance(3 * 86400)  # out of the parent's 48-hour window (no d.advance: no sweep)
    await nobody_bound(d)
    assert await settle(d, PARENT)
    async with d.session.get("/sandbox/messages", params={"openid": PARENT}) as resp:
        new = (await resp.json())["messages"][before:]
    templates = [m for m in new if m["kind"] == "template"]
    assert templates, new
    fields = templates[-1]["data"]
    assert fields["keyword3"]["value"] == "暂时无法确定", fields
    await talk(d, PARENT, "查询", expect="暂无工作人员值守", absent="前办结")


async def test_a_redo_asked_for_with_nobody_on_duty_promises_no_date(dialog):
    """不满意 once: the same unit does it again, "将于…前再次答复您" -- with nobody left who may act on it."""
    d = dialog
    number = await file_ticket(d, PARENT, STORY, scene="school:jn-syxx")
    assert (await d.db(tickets.get, number))["unit_code"] == "jyj-sfc"  # 收费管理处
    who = FEES
    await talk(d, who, f"签收 {number}")
    await talk(d, who, f"办结 {number} 已责令学校退还资料费并开具收据")
    await heard(d, PARENT, expect="已办结")
    await nobody_bound(d)
    reply = await talk(d, PARENT, "3 还没退", expect=["未能让您满意", "暂无工作人员值守"], absent="前再次答复")
    assert not A_DATE.search(reply), reply


def test_every_text_the_citizen_is_told_with_a_deadline_has_its_twin_for_nobody_on_duty():
    """Desk.citizen_says says a text naming {due} by its twin NAME_WAITING while nobody is on duty: each such text
    the code tells a citizen (tell_citizen, citizen_says) has one, in Chinese and English, naming no date and no
    field the text itself is not given."""
    from pathlib import Path

    from handlers import texts
    source = "\n".join(p.read_text() for p in Path("handlers").glob("*.py")) + Path("bot/web/citizen.py").read_text()
    calls = re.findall(r"(?:tell_citizen|citizen_says)\(([^\n]*)", source)
    names = {n for call in calls for n in re.findall(r'"([A-Z][A-Z_]+)"', call)}
    assert {"MY_TICKET_DUE", "TICKET_DETAIL_DUE", "KIND_CHANGED_FILED", "RATE_REOPENED", "CITIZEN_TRANSFERRED",
            "CITIZEN_ACCEPTED"} <= names, names
    fields = re.compile(r"\{(\w+)\}")
    for name in names:
        for lang in (None, "en"):
            text = texts.pick(name, lang)
            if "{due}" not in text:
                continue
            twin = texts.pick(name + "_WAITING", lang)
            assert "{due}" not in twin and set(fields.findall(twin)) <= set(fields.findall(text)), (name, lang)


# -- 2. a phone number written in spoken digits is masked for staff ----------------------------------------------
SPELLED = [  # (as written, as staff read it)
    ("班主任电话一三八一二三四五六七八", "班主任电话138****5678"),
    ("打幺三八幺二三四五六七八找他", "打138****5678找他"),
    ("手机138一二三四5678", "手机138****5678"),
    ("电话是一三八 一二三四 五六七八，请回电", "电话是138****5678，请回电"),
    ("一三八-一二三四-五六七八", "138****5678"),
    ("138 1234 5678", "138****5678"),
    ("１３８１２３４５６７８", "138****5678"),
    ("办公室〇五七一-八八七七六六五五", "办公室057****6655"),
    ("13812345678 13912345678", "138****5678 139****5678"),
    ("+86 138 1234 5678", "+86 138****5678"),
]
ORDINARY = ["三年级二班", "二〇二六年十一月三十日", "一百五十元", "一千零五元", "收了三百二十五块", "2026年9月",
            "一二三四五六七八九十", "孩子一三年级时", "第一二三名", "学号20230101"]


def test_a_phone_in_spoken_digits_is_masked_and_ordinary_numbers_are_not():
    from handlers import privacy
    for written, shown in SPELLED:
        assert privacy.numbers_masked(written) == shown, written
    for words in ORDINARY:
        assert privacy.numbers_masked(words) == words, words


async def test_staff_read_a_spoken_phone_masked_and_the_class_and_the_sum_as_written(dialog):
    """privacy.phones_masked (now numbers_masked) read ASCII digits only: 一三八一二三四五六七八 (voice input writes numbers so) and
    138 1234 5678 reached the school's people whole in the push, 详情 and the workbench."""
    from tests.dialog import LEADER
    from tests.test_web import browser, sign_in
    d = dialog
    words = "三年级二班二〇二六年九月收资料费一百五十元不给收据，班主任电话一三八一二三四五六七八，另一个家长138 1234 5678"
    number = await file_ticket(d, PARENT, words, phone="0")
    pushed = await heard(d, FEES, expect=number)
    detail = await talk(d, FEES, f"详情 {number}")
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        page = await (await s.get(f"/w/t/{number}")).text()
    for seen in (detail, page):
        assert "138****5678" in seen and "一三八一二三四" not in seen and "1234 5678" not in seen, seen
        assert "三年级二班" in seen and "二〇二六年九月" in seen and "一百五十元" in seen, seen
    assert "一三八一二三四" not in pushed and "1234 5678" not in pushed, pushed
    await talk(d, PARENT, f"查询 {number}", expect="一三八一二三四五六七八")  # the citizen's own words, as written


async def test_a_notice_cut_short_never_shows_part_of_a_spoken_number(dialog):
    """The new-ticket push shows the first 60 characters: a spoken number across the cut lost its end, was no
    longer one to mask, and its first digits were shown."""
    d = dialog
    story = "学校收资料费三百多元不给收据，说不交就不让上课，家长都很有意见，已经好几个星期了，我们真没办法了，老师的电话是"
    assert len(story) == 55
    number = await file_ticket(d, PARENT, story + "一三八 一二三四 五六七八，请尽快处理", phone="0")
    pushed = await heard(d, FEES, expect=number)
    assert "电话是一" not in pushed and "老师的电话是…" in pushed, pushed


# -- 4. staff names cleaned where they are stored ---------------------------------------------------------------
REVERSED = "\u202e师老孙\u202c·实验小学"     # a bidi override: every list and audit line after it read backwards
HIDDEN = "实验\u200b小学·孙\u200d老师\u2066"  # zero-width and an isolate left open: the same name, unequal
INVISIBLE_ONLY = "\u200b\u2060\u3164\u202e "


async def test_an_invited_name_is_stored_and_shown_without_invisible_characters(dialog):
    """The admin's invite form and 绑定 stored a name as typed: a bidi override made every later line of the staff
    list read backwards, and a zero-width character made 实验小学·孙老师 a second, different name."""
    from tests.dialog import LEADER
    from tests.test_admin import post
    from tests.test_web import browser, sign_in
    from storage import staff, users
    d = dialog
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        codes = []
        for name in (REVERSED, HIDDEN):
            status, page = await post(s, "/w/staff", do="invite", unit="jn-syxx", role="handler", name=name)
            assert status == 200, page
            codes.append(re.search(r'id="invite-code">(\w+)<', page).group(1))
    names = {i["name"] for i in await d.db(staff.invites, d.clock.now())}
    assert {"师老孙·实验小学", "实验小学·孙老师"} <= names, names
    await talk(d, "o_new_teacher23", f"绑定 {codes[1]}", expect="实验小学·孙老师")
    assert (await d.db(users.get, "o_new_teacher23"))["name"] == "实验小学·孙老师"
    listed = await d.db(staff.list_staff)
    assert not any(re.search("[\u200b-\u200f\u202a-\u202e\u2060-\u2069]", r["name"] or "") for r in listed), listed


async def test_a_name_of_invisible_characters_alone_is_refused_and_nothing_is_made(dialog):
    from tests.dialog import LEADER
    from tests.test_admin import post
    from tests.test_web import browser, sign_in
    from storage import staff
    d = dialog
    before = await d.db(staff.invites, d.clock.now())
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        status, page = await post(s, "/w/staff", do="invite", unit="jn-syxx", role="handler", name=INVISIBLE_ONLY)
    assert status == 400 and "看不见的字符" in page, page
    assert await d.db(staff.invites, d.clock.now()) == before


def test_the_console_cleans_a_name_and_refuses_one_with_nothing_visible(tmp_path, capsys):
    from bot.cli import main
    from bot.demo import DEMO_DIRECTORY
    from storage import staff
    from storage.db import Database
    from tests.conftest import write_cli_config
    config = write_cli_config(tmp_path / "c.toml", tmp_path / "s.db")
    assert main(["directory", "import", str(DEMO_DIRECTORY), "--config", str(config)]) == 0
    assert main(["staff", "invite", "--unit", "jyj-sfc", "--role", "handler", "--name", "李\u200b老师\u202e",
                 "--config", str(config)]) == 0
    assert "请李老师在" in capsys.readouterr().out
    assert main(["staff", "invite", "--unit", "jyj-sfc", "--role", "handler", "--name", INVISIBLE_ONLY,
                 "--config", str(config)]) == 2
    assert "看不见的字符" in capsys.readouterr().err
    db = Database(tmp_path / "s.db").start()
    try:
        assert [i["name"] for i in db.run_sync(staff.invites, 0)] == ["李老师"]
        with pytest.raises(staff.BadName):
            db.run_sync(staff.bind, "o_x", "jyj-sfc", "handler", "\u2066\u2069", 0)
        db.run_sync(staff.bind, "o_y", "jyj-sfc", "handler", "王\x00老师\u200f", 0)
        assert [r["name"] for r in db.run_sync(staff.list_staff)] == ["王老师"]
    finally:
        db.close()


# -- 5. the survey's cap a declared setting ----------------------------------------------------------------------
@pytest.mark.parametrize("cap", [1, 4])
async def test_the_units_one_person_may_rate_in_a_survey_follow_the_setting(tmp_path, cap):
    """[campaign] units_per_person (default 3, storage.surveys.UNITS_PER_PERSON was a constant): the door lets one
    account rate that many units in a survey, refuses the next by the same words, naming the number set."""
    import dataclasses

    import aiohttp

    from bot.app import create_app
    from bot.demo import demo_config
    from handlers.clock import FixedClock
    from tests.conftest import running
    from tests.test_audit21 import NAMES, SCHOOLS, rate
    from tests.test_process import held_port
    from tests.test_survey import MONDAY, Phone
    port = held_port()
    config = demo_config(port=port, data_dir=str(tmp_path))
    config = dataclasses.replace(config, campaign=dataclasses.replace(config.campaign, units_per_person=cap))
    async with running(create_app(config, clock=FixedClock(MONDAY)), port):
        async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as session:
            parent = Phone(session, f"o_cap_{cap}")
            for code in SCHOOLS[:min(cap, 3)]:
                assert "评议完成" in await rate(parent, code)
            last = await parent.scan(f"survey:school-2026:{SCHOOLS[3]}")
            if cap == 1:
                assert "最多评价1个单位" in last and NAMES[3] in last and "第1/7题" not in last, last
            else:
                assert "第1/7题" in last and "最多评价" not in last, last


def test_the_setting_is_checked_at_start():
    from bot.config import ConfigError, load_config
    from tests.test_config import EXAMPLE
    assert load_config(EXAMPLE, env={}).campaign.units_per_person == 3
    with pytest.raises(ConfigError) as err:
        load_config(EXAMPLE, env={"TINGJIAN_CAMPAIGN_UNITS_PER_PERSON": "0"})
    assert "campaign.units_per_person" in str(err.value)
