"""audit12: complaints about the bureau itself reach its oversight office, never the office accused (the duty
office included); a unit's figures count its own tickets only; what an auditor tried from WeChat and the workbench."""
from __future__ import annotations

import contextlib
import dataclasses
import sqlite3

import aiohttp
import pytest

from bot.app import MEDIA, SENDER, check_directory, create_app
from bot.config import ConfigError
from bot.demo import DEMO_OVERSIGHT, demo_config
from handlers.clock import FixedClock
from storage import staff, tickets
from tests.conftest import pause_jobs, running
from tests.dialog import DUTY, FEES, LEADER, Dialog, at, drain, heard, quiet, send, talk
from tests.test_people6_dialogs import finish
from tests.test_process import held_port
from tests.test_admin import post
from tests.test_web import browser, sign_in

OVERSIGHT = DEMO_OVERSIGHT  # the demo's 督查室 (routing.oversight_office), since audit14
INSPECTOR = "o_demo_staff_dcs"  # the demo's handler there: unbound first by the tests that need nobody there


@contextlib.asynccontextmanager
async def _demo(tmp_path, oversight: str = OVERSIGHT, port: int | None = None):
    """The demo, with its oversight office (督查室) named by routing.oversight_office (or not: "")."""
    port = port or held_port()
    config = demo_config(port=port, data_dir=str(tmp_path))
    config = dataclasses.replace(
        config, outbox=dataclasses.replace(config.outbox, poll_seconds=0.02),
        routing=dataclasses.replace(config.routing, oversight_office=oversight))
    clock = FixedClock(at("2026-11-16 09:00"))
    async with running(create_app(config, clock=clock), port) as app:
        await pause_jobs(app)
        async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as session:
            yield Dialog(app, session, clock)
        for loop in (app[SENDER], app[MEDIA]):
            await loop.stop()


@pytest.fixture
async def overseen(tmp_path):
    async with _demo(tmp_path) as d:
        yield d


async def _bind_inspector(d) -> None:
    await send(d, INSPECTOR, type="subscribe")  # a follower, as the sandbox delivers only to followers
    await d.db(staff.bind, INSPECTOR, OVERSIGHT, "supervisor", "局督查室·郑主任", d.clock.now())


async def _nobody_at_the_oversight_office(d) -> None:
    await d.db(staff.remove, INSPECTOR, staff.CONSOLE, d.clock.now())  # before any ticket: nothing of theirs to hand on


async def _complain_of_the_duty_office(d, who: str, handler: str = "市教育局督查室") -> str:
    # the citizen is told truly who handles it
    await talk(d, who, "我要投诉你们", expect=[f"由{handler}办理", "不交给被投诉的部门"])
    reply = await talk(d, who, "你们办公室值班室的刘主任接电话态度很差，问了两句就挂我电话")
    number, _ = await finish(d, who, reply)
    return number


# -- 1. complaints about the bureau itself ------------------------------------------------------------------------
async def test_a_complaint_about_the_duty_office_goes_to_the_oversight_office_and_never_back_to_it(overseen):
    d = overseen
    await _bind_inspector(d)
    await drain(d, DUTY, INSPECTOR, LEADER)
    number = await _complain_of_the_duty_office(d, "o_a12_c1")
    filed = await d.db(tickets.get, number)
    # it was the duty office's (routing.duty_office "oversees the bureau's work"), the office it accuses
    assert filed["unit_code"] == OVERSIGHT and not filed["unattended"], filed
    await heard(d, INSPECTOR, expect=[number, "挂我电话"])
    await quiet(d, DUTY)
    await talk(d, DUTY, f"详情 {number}", absent="挂我电话")  # not in the duty office's scope
    # 转派 to the office accused (or any office) is refused by the one rule (Desk.barred), nothing changed
    await talk(d, INSPECTOR, f"转派 {number} 值班室", expect=["对教育局自身工作的投诉", "不能转给"])
    await talk(d, INSPECTOR, f"转派 {number} 收费管理处", expect="不能转给")
    assert (await d.db(tickets.get, number))["unit_code"] == OVERSIGHT
    # 退回 by the oversight office: to the leaders, never the duty office's "重新分派"
    await talk(d, INSPECTOR, f"退回 {number} 请局领导另行安排")
    back = await d.db(tickets.get, number)
    assert back["unit_code"] == "jyj" and back["state"] == "bounced", back
    await heard(d, LEADER, expect=number)
    await quiet(d, DUTY)


async def test_the_oversight_office_with_nobody_bound_sends_it_to_the_leaders_not_to_the_duty_office(overseen):
    d = overseen
    await _nobody_at_the_oversight_office(d)
    await drain(d, DUTY, LEADER)
    number = await _complain_of_the_duty_office(d, "o_a12_c2", "市教育局领导")
    filed = await d.db(tickets.get, number)
    # nobody at the oversight office: never 代收 by the duty office (which reads every 代收 ticket)
    assert filed["unit_code"] == "jyj" and not filed["unattended"], filed
    await heard(d, LEADER, expect=number)
    await quiet(d, DUTY)
    # someone bound there, then gone: its complaints about the bureau are the leaders', not 代收
    await _bind_inspector(d)
    second = await _complain_of_the_duty_office(d, "o_a12_c3")
    assert (await d.db(tickets.get, second))["unit_code"] == OVERSIGHT
    await drain(d, DUTY, LEADER)
    async with browser(d) as s:  # the leader unbinds them on the workbench (what `tingjian staff remove` does)
        await sign_in(d, s, LEADER)
        await post(s, f"/w/units/{OVERSIGHT}#staff", do="remove", openid=INSPECTOR)
    moved = await d.db(tickets.get, second)
    assert moved["unit_code"] == "jyj" and not moved["unattended"], moved
    await heard(d, LEADER, expect=second)
    await quiet(d, DUTY)
    await talk(d, DUTY, f"详情 {second}", absent="挂我电话")


async def test_with_no_oversight_office_set_the_leaders_take_it_and_the_admin_page_says_so(tmp_path):
    async with _demo(tmp_path, oversight="") as d:
        await _unset_leaders_take_it(d)


async def _unset_leaders_take_it(d) -> None:
    number = await _complain_of(d)
    assert (await d.db(tickets.get, number))["unit_code"] == "jyj"
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        page = await (await s.get("/w/admin")).text()
    assert "尚未设置督查部门" in page and "oversight_office" in page


async def _complain_of(d) -> str:
    await talk(d, "o_a12_c4", "我要投诉你们", expect=["由市教育局领导办理", "不交给被投诉的部门"])
    number, _ = await finish(d, "o_a12_c4", await talk(d, "o_a12_c4", "值班室的人接电话态度很差，还挂我电话"))
    return number


def test_the_oversight_office_must_be_a_unit_and_never_the_duty_office(make_config):
    codes = {"jyj", "jyj-bgs", "jyj-dcs"}
    with pytest.raises(ConfigError, match="oversight_office.*duty office"):
        check_directory(make_config(routing={"oversight_office": "jyj-bgs"}), codes)
    with pytest.raises(ConfigError, match="oversight_office.*not a unit"):
        check_directory(make_config(routing={"oversight_office": "jyj-dsc"}), codes)
    check_directory(make_config(routing={"oversight_office": "jyj-dcs"}), codes)


async def test_complaints_about_the_bureau_left_with_the_duty_office_are_handed_on_at_start_up(tmp_path):
    """Filed by the last version (the duty office held every complaint about the bureau, itself included): the
    first start with an oversight office hands the open ones on, tells its staff and the citizen, and the duty
    office can no longer read them."""
    async with _demo(tmp_path) as d:
        await _nobody_at_the_oversight_office(d)
        number = await _complain_of_the_duty_office(d, "o_a12_c5", "市教育局领导")
        await _bind_inspector(d)
        path = (await d.db(lambda db: db.execute("PRAGMA database_list").fetchone()[2]))
    with sqlite3.connect(path) as conn:  # where the last version put it
        conn.execute("UPDATE tickets SET unit_code = 'jyj-bgs' WHERE number = ?", [number])
    async with _demo(tmp_path) as d:
        moved = await d.db(tickets.get, number)
        assert moved["unit_code"] == OVERSIGHT and moved["state"] == "assigned", moved
        queued = await d.db(lambda db: {r[0]: r[1] for r in db.execute(
            "SELECT openid, payload FROM outbox WHERE source = 'start-up'")})
        assert number in queued[INSPECTOR] and "对教育局自身工作的投诉" in queued[INSPECTOR], queued
        assert "市教育局督查室" in queued["o_a12_c5"] and DUTY not in queued, queued
        await talk(d, DUTY, f"详情 {number}", absent="挂我电话")


async def test_a_complaint_about_the_oversight_office_itself_goes_to_the_leaders(overseen):
    d = overseen
    await _bind_inspector(d)
    await drain(d, INSPECTOR, LEADER)
    await talk(d, "o_a12_c6", "我要投诉你们")
    reply = await talk(d, "o_a12_c6", "我上个月向你们督查室反映的问题，到现在都没有人联系我，督查室的电话也打不通")
    number, _ = await finish(d, "o_a12_c6", reply)
    filed = await d.db(tickets.get, number)
    assert filed["unit_code"] == "jyj" and OVERSIGHT in filed["routing"]["accused"], filed
    await heard(d, LEADER, expect=number)
    await quiet(d, INSPECTOR)
    # nor may a leader's 转派 hand it to the office it accuses
    await talk(d, LEADER, f"转派 {number} 督查室", expect="不能转给")
    assert (await d.db(tickets.get, number))["unit_code"] == "jyj"
