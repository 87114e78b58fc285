"""The seventh trust audit: who can make a unit's figures look better, or a rival's worse. 群众评议's burst checks
(a rival's burst voiding a school's real answers; near-identical sheets; checks and rulings on the same day),
then attacks on the rates, the workbench and the exports, each written as a test."""
from __future__ import annotations

import asyncio
import time

import pytest

from storage import surveys
from tests.dialog import LEADER, at, send, settle, talk

UNIT = "jn-syxx"
SCENE = f"survey:school-2026:{UNIT}"


async def _fill(d, openid: str, scores: str, scene: str = SCENE) -> str:
    """Answer the demo survey: the five scales from `scores` (e.g. "55545"), 学生家长, no comment."""
    reply = await send(d, openid, type="scan", scene=scene)
    left = list(scores)
    for _ in range(12):
        if "评议完成" in reply or "第" not in reply:
            return reply
        reply = await talk(d, openid, "0" if "没有请回复 0" in reply else left.pop(0) if "1–5" in reply else "1")
    return reply


async def _follow(d, *openids: str) -> None:
    for o in openids:
        await send(d, o, type="scan", scene=f"school:{UNIT}")


async def _counted(d) -> tuple[int, int]:
    from bot.app import DB, DISPATCHER
    from handlers.survey_results import survey_results
    campaign = d.app[DISPATCHER].campaign
    unit = (await d.app[DB].read(survey_results, campaign.p.surveys["school-2026"], campaign.p.surveys, 1)).get(UNIT)
    return (unit.n, unit.burst) if unit else (0, 0)


async def _notices(d, count: int) -> list[str]:
    """The leaders' 评议 notices so far, once `count` have come and nothing more is on its way (pushes go out a moment later), or after 60 s."""
    deadline = time.monotonic() + 60  # (3 s: too short for a loaded machine)
    while True:
        async with d.session.get("/sandbox/messages", params={"openid": LEADER}) as resp:
            got = [m.get("content") or "" for m in (await resp.json())["messages"]]
        got = [t for t in got if "评议" in t and "提醒】" in t]
        if len(got) >= count and await settle(d, LEADER, timeout=60) or time.monotonic() > deadline:
            break  # once all that is on its way to them has come: a second one, or none (see settle)
        await asyncio.sleep(0.03)
    return got


def _policy(d, **kw) -> None:
    from bot.app import DISPATCHER
    for k, v in kw.items():
        setattr(d.app[DISPATCHER].campaign.p, k, v)


# -- 1. a rival's burst through a school's code ----------------------------------------------------------------------
async def test_a_rivals_burst_through_a_schools_code_leaves_its_real_answers_counted(dialog):
    """More than `burst_per_hour` answers through one unit's code within an hour set the whole hour aside: a
    rival school sending a handful of fresh accounts through the code voided the parents who answered in that hour.
    Now only the new accounts' answers (followed less than a day before: all a burst can be made of) are set aside;
    the parents who followed earlier stay counted, and the leaders are told how many of each."""
    d = dialog
    _policy(d, burst_per_hour=4)
    await _follow(d, "o_parent_a", "o_parent_b", "o_parent_c")
    d.advance(3 * 86400)
    assert "评议完成" in await _fill(d, "o_parent_a", "55555")
    for i in range(6):                                   # the rival: six fresh accounts in twenty minutes, all 1s
        d.advance(3 * 60)
        assert "评议完成" in await _fill(d, f"o_rival_{i}", "11111")
        if i == 2:
            assert "评议完成" in await _fill(d, "o_parent_b", "45555")
    assert "评议完成" in await _fill(d, "o_parent_c", "55545")
    assert await _counted(d) == (3, 6)
    [notice] = await _notices(d, 1)
    assert "不计入得分" in notice and "其余" in notice and "照常计入" in notice, notice


async def test_a_rivals_burst_from_old_accounts_voids_its_own_sheets_only(dialog):
    """A rival that followed with a handful of accounts days ahead is no new account: more than the limit of them
    in one hour set the whole hour aside, the school's parents with them. Now the old accounts' answers within
    one answer of the hour's commonest sheet are set aside, and parents who answered differently stay counted."""
    d = dialog
    _policy(d, burst_per_hour=4)
    await _follow(d, "o_parent_a", "o_parent_b", "o_parent_c", *[f"o_rival_old_{i}" for i in range(5)])
    d.advance(3 * 86400)
    assert "评议完成" in await _fill(d, "o_parent_a", "45454")
    for i in range(5):
        d.advance(3 * 60)
        assert "评议完成" in await _fill(d, f"o_rival_old_{i}", "11111" if i % 2 else "11211")
    assert "评议完成" in await _fill(d, "o_parent_b", "34343")
    assert "评议完成" in await _fill(d, "o_parent_c", "55545")
    assert await _counted(d) == (3, 5)


async def test_a_schools_own_burst_is_still_caught(dialog):
    """The other side: a school filling its own code from fresh accounts is set aside as the rival is; accounts
    it followed a few days ahead (sleepers), more than the limit in one hour on their own, cannot be told from
    anyone else's and the whole hour is set aside, the leaders told (a leader may count the day again)."""
    d = dialog
    _policy(d, burst_per_hour=4)
    await _follow(d, "o_parent_a", *[f"o_sleeper_{i}" for i in range(5)])
    d.advance(3 * 86400)
    assert "评议完成" in await _fill(d, "o_parent_a", "34343")
    for i in range(5):
        d.advance(2 * 60)
        assert "评议完成" in await _fill(d, f"o_own_{i}", "55555")
    assert await _counted(d) == (1, 5)
    d.advance(2 * 3600)
    for i in range(5):
        d.advance(2 * 60)
        assert "评议完成" in await _fill(d, f"o_sleeper_{i}", "55555")
    assert await _counted(d) == (1, 10)
    notices = await _notices(d, 2)
    assert len(notices) == 2 and "这些评议已单独标记" in notices[1], notices


# -- 2. near-identical sheets ---------------------------------------------------------------------------------------
def test_near_finds_the_base_sheet_one_hand_varies_without_sending_it():
    base = {"a": 1, "b": 1, "c": 1, "d": 1, "e": 1}
    variants = [surveys._sheet({**base, k: 2}) for k in base]           # each differs in one item, never the base
    centre, near = surveys._near(variants * 2)
    assert dict(centre) == base and near == 10
    spread = [surveys._sheet({"a": a, "b": b, "c": (a + b) % 5 + 1, "d": 3, "e": 3})
              for a in range(1, 6) for b in range(1, 6)]
    assert 10 * surveys._near(spread)[1] < 9 * len(spread)


async def test_sheets_varied_by_one_answer_from_new_accounts_are_left_out(dialog):
    """The same-sheet check compared whole sheets: one hand changing one answer on each account (a 2 among the
    1s, a different question each time) made every sheet different, and all were counted. Sheets within one
    answer of one sheet are near-identical now; the long-standing parent stays counted."""
    d = dialog
    _policy(d, new_follower_per_day=4)
    await _follow(d, "o_parent_a")
    d.advance(3 * 86400)
    assert "评议完成" in await _fill(d, "o_parent_a", "44444")
    for i in range(6):
        d.advance(50 * 60)
        await _follow(d, f"o_fresh_{i}")
        d.advance(15 * 60)
        sheet = ["1"] * 5
        sheet[i % 5] = "2"
        assert "评议完成" in await _fill(d, f"o_fresh_{i}", "".join(sheet))
    assert await _counted(d) == (1, 6)
    notices = await _notices(d, 1)
    assert len(notices) == 1 and "只差一题" in notices[0], notices


async def test_a_well_liked_schools_new_parents_who_agree_with_its_old_ones_stay_counted(dialog):
    """The other side: a school its parents like, whose new followers answer as its long-standing parents do
    (5s, a 4 here and there), is not one hand: counted, the leaders told the new answers agree with the old."""
    d = dialog
    _policy(d, new_follower_per_day=4)
    old = [f"o_parent_{i}" for i in range(6)]
    await _follow(d, *old)
    d.advance(3 * 86400)
    for i, o in enumerate(old):
        d.advance(20 * 60)
        assert "评议完成" in await _fill(d, o, "55555" if i % 2 else "55545"[i % 5:] + "55545"[:i % 5])
    for i in range(6):
        d.advance(50 * 60)
        await _follow(d, f"o_new_{i}")
        d.advance(15 * 60)
        assert "评议完成" in await _fill(d, f"o_new_{i}", "55555" if i % 3 else "54555")
    assert await _counted(d) == (12, 0)
    notices = await _notices(d, 1)
    assert len(notices) == 1 and "与关注较久的群众" in notices[0] and "已照常计入" in notices[0], notices


# -- 3. the checks and the leader's ruling count the same day ------------------------------------------------------
async def test_every_check_flags_within_the_day_a_leader_rules_on(dialog):
    """Rulings cover a China-time day; the paced check counted a sliding 24 hours (and was told once per UTC
    day): the same sheets on one evening and the next morning were flagged together, so counting them again took
    two rulings, and the leaders were told twice. Every check now counts within one day (the hourly one too, from
    midnight): one ruling covers what a check flagged."""
    from bot.app import DB
    d = dialog
    _policy(d, new_follower_per_day=4, burst_per_hour=3)
    d.advance(at("2026-11-18 18:00") - d.clock.now())
    for i in range(5):
        d.advance(50 * 60)
        await _follow(d, f"o_fresh_{i}")
        d.advance(5 * 60)
        assert "评议完成" in await _fill(d, f"o_fresh_{i}", "11111")
    assert await _counted(d) == (0, 5)                     # 18:55 … 22:35, the 18th
    d.advance(at("2026-11-19 09:00") - d.clock.now())
    for i in range(5, 7):
        d.advance(20 * 60)
        await _follow(d, f"o_fresh_{i}")
        d.advance(5 * 60)
        assert "评议完成" in await _fill(d, f"o_fresh_{i}", "11111")
    assert await _counted(d) == (2, 5)                     # the 19th is its own day: two, under the limit
    assert len(await _notices(d, 1)) == 1
    day = surveys.day_of(at("2026-11-18 12:00"))
    await d.db(surveys.rule_day, "school-2026", UNIT, day, "include", "家长会后集中关注参评，已核实", LEADER, d.clock.now())
    assert await _counted(d) == (7, 0)                     # one ruling gave back every answer the check set aside
    # the hourly check starts again at midnight: four before it are a burst of the 19th's eve only
    d.advance(at("2026-11-19 23:20") - d.clock.now())
    for i in range(4):
        d.advance(8 * 60)
        assert "评议完成" in await _fill(d, f"o_late_{i}", "33333")
    d.advance(at("2026-11-20 00:10") - d.clock.now())
    assert "评议完成" in await _fill(d, "o_late_4", "33333")
    flagged = await d.app[DB].read(lambda c: c.execute(
        "SELECT DISTINCT CAST((submitted_at + 28800) / 86400 AS INTEGER) FROM survey_responses "
        "WHERE burst = 1 AND openid LIKE 'o_late_%'").fetchall())
    assert flagged == [(surveys.day_of(at("2026-11-19 12:00")),)], flagged
    listed = await d.app[DB].read(surveys.days, "school-2026")
    assert [e["day"] - day for e in listed[UNIT]] == [1, 0], listed


# -- 4. a fresh audit: attacks on the rates, the workbench and the exports --------------------------------------------
ETHICS = "江南区实验小学的王老师上课体罚学生，还辱骂孩子"


async def test_a_district_cannot_extend_its_own_deadline(dialog):
    """A school's 延期 went above it (audit4), but a district's handler asked and the district's own head approved:
    the district moved its own deadline, and its 解决率 and 超期 are ranked against the other districts' (a 师德
    complaint, held by the district, included). Every unit's extension is decided above it now."""
    from storage import tickets
    from tests.dialog import DISTRICT, DISTRICT_HEAD, file_ticket, heard
    d = dialog
    number = await file_ticket(d, "o_parent_ethics", ETHICS, scene="school:jn-syxx")
    await talk(d, DISTRICT, f"签收 {number}")
    due = (await d.db(tickets.get, number))["due_at"]
    await talk(d, DISTRICT, f"延期 {number} 5 需要调查取证", expect="上级负责人审批",
               absent="上级尚无负责人")  # the leaders are the body above a district, not a stand-in
    await heard(d, LEADER, expect=["延期申请", number])
    await talk(d, DISTRICT_HEAD, f"同意延期 {number}", expect="上级负责人")
    assert (await d.db(tickets.get, number))["due_at"] == due
    await talk(d, LEADER, f"同意延期 {number}", expect="已同意延期")
    assert (await d.db(tickets.get, number))["due_at"] > due


async def test_a_bounce_just_before_the_deadline_leaves_the_lateness_with_no_one_else(dialog):
    """A school 退回ed a ticket an hour before its deadline: the ticket waited at the duty office with the school's
    deadline, which passed there; when the duty office sent it on, the lateness was written to the duty office,
    which had done nothing late (its part, the re-dispatch, has its own 签收 window). The 退回 is the school's;
    the deadline it let run out while holding the ticket is the school's too."""
    from bot.app import DB
    from storage import tickets
    from tests.dialog import DUTY, SCHOOL, file_ticket
    d = dialog
    number = await file_ticket(d, "o_parent_homework", "江南区实验小学作业太多，孩子每天写到十一点", scene="school:jn-syxx",
                               consent="1")
    assert (await d.db(tickets.get, number))["unit_code"] == "jn-syxx"
    await talk(d, SCHOOL, f"签收 {number}")
    due = (await d.db(tickets.get, number))["due_at"]
    d.advance(due - 3600 - d.clock.now())
    await talk(d, SCHOOL, f"退回 {number} 不属本校职责", expect="退回")
    d.advance(2 * 3600)                                   # the deadline passes at the duty office, in its window
    await talk(d, DUTY, f"转派 {number} 江南区教育局 请区局核处", expect="已将")
    misses = await d.app[DB].read(lambda c: c.execute(
        "SELECT unit_code, response, overdue FROM unit_misses").fetchall())
    assert misses == [("jn-syxx", 0, 1)], misses
    assert (await d.db(tickets.get, number))["stood_in"] == 0


async def test_a_ticket_bounced_late_and_sent_back_counts_once_against_the_school(dialog):
    """The same bounce, and the duty office sends the ticket back to the school, which keeps its deadline (audit4):
    the school's 解决率 counts the ticket once (late), not once as left late and again as its own."""
    from bot.app import DB
    from handlers import rates
    from storage import tickets
    from tests.dialog import DUTY, SCHOOL, file_ticket
    d = dialog
    number = await file_ticket(d, "o_parent_homework", "江南区实验小学作业太多，孩子每天写到十一点", scene="school:jn-syxx",
                               consent="1")
    await talk(d, SCHOOL, f"签收 {number}")
    due = (await d.db(tickets.get, number))["due_at"]
    d.advance(due - 3600 - d.clock.now())
    await talk(d, SCHOOL, f"退回 {number} 不属本校职责", expect="退回")
    d.advance(2 * 3600)
    await talk(d, DUTY, f"转派 {number} 江南区实验小学 作业问题属学校", expect="已将")
    d.advance(86400)
    await talk(d, SCHOOL, f"办结 {number} 已调整作业量", expect="已办结")
    d.advance(60)
    start, end, now = at("2026-11-01 00:00"), at("2027-01-01 00:00"), d.clock.now()
    got = await d.app[DB].read(lambda c: rates.for_period(c, start, end, ["jn-syxx", "jyj-bgs"], now))
    school, duty = got["jn-syxx"], got.get("jyj-bgs")
    assert (school.resolved, school.resolved_in_time, school.open_overdue) == (1, 0, 0), school
    assert duty is None or duty.open_overdue == 0, duty


async def test_a_districts_head_reads_nothing_of_another_district_on_any_page(dialog):
    """江南's head asks every workbench surface for 江北's ticket: by URL, in the inbox filtered to that school or
    searched for its words, on the dashboard picked as a unit, and in both exports with the same filters. 404 or
    nothing, never the ticket, its words, or its number."""
    from tests.dialog import DISTRICT_HEAD, file_ticket
    from tests.test_web import browser, sign_in
    d = dialog
    number = await file_ticket(d, "o_parent_jb", "江北区文昌小学食堂的饭菜一份收二十五元太贵了", scene="school:jb-wcxx",
                               consent="1")
    async with browser(d) as s:
        await sign_in(d, s, DISTRICT_HEAD)
        async with s.get(f"/w/t/{number}") as resp:
            assert resp.status == 404
        for path, query in (("/w/", {"school": "jb-wcxx", "tab": "all"}), ("/w/", {"unit": "jb-wcxx", "tab": "all"}),
                            ("/w/", {"q": "饭菜", "tab": "all"}), ("/w/dashboard", {"unit": "jb-wcxx"}),
                            ("/w/export/tickets.csv", {"school": "jb-wcxx"}), ("/w/export/tickets.csv", {"q": "饭菜"}),
                            ("/w/export/tickets.xlsx", {"unit": "jb-wcxx"}), ("/w/export/rates.csv", {"unit": "jb-wcxx"}),
                            ("/w/notices", {})):
            async with s.get(path, params=query) as resp:
                body = await resp.read()
            text = body.decode("utf-8", "replace")
            if path.endswith(".xlsx"):
                import io

                import openpyxl
                book = openpyxl.load_workbook(io.BytesIO(body))
                text = " ".join(str(c) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for c in row)
            assert number not in text and "二十五元" not in text, (path, query, text[:300])
            if path == "/w/dashboard":
                assert "江北区文昌小学" not in text, text[:400]


async def test_a_stranger_gets_nothing_from_anothers_ticket_number(dialog):
    """Someone who learnt a ticket's number (a screenshot in a parents' group) sends every verb with it, staff
    verbs and citizen verbs alike: nothing is read out, nothing is added, rated, withdrawn or moved."""
    from bot.app import DB
    from storage import tickets
    from tests.dialog import file_ticket
    d = dialog
    number = await file_ticket(d, "o_parent_owner", "江南区实验小学门口的校车超载，每天挤二十多个孩子", scene="school:jn-syxx",
                               consent="1")
    before = await d.app[DB].read(lambda c: (tickets.get(c, number), len(tickets.events(c, tickets.get(c, number)["id"]))))
    await send(d, "o_stranger", type="scan", scene="school:jn-syxx")
    for text in (f"查询 {number}", f"详情 {number}", f"回复 {number} 我也是家长，情况属实", f"撤回 {number}",
                 f"确认撤回 {number}", f"评价 {number} 3", f"签收 {number}", f"办结 {number} 已处理完毕",
                 f"退回 {number} 不归我们管", f"转派 {number} 江南区教育局", f"延期 {number} 5 再等等",
                 f"同意延期 {number}", f"备注 {number} 内部说明", f"督办 {number} 尽快"):
        reply = await talk(d, "o_stranger", text)
        assert "二十多个孩子" not in reply and "超载" not in reply, (text, reply)
        if "取消" in reply and "1" in reply:  # a draft was begun from the words: leave it
            await talk(d, "o_stranger", "取消")
    after = await d.app[DB].read(lambda c: (tickets.get(c, number), len(tickets.events(c, tickets.get(c, number)["id"]))))
    assert after[1] == before[1], (before[1], after[1])
    assert {k: after[0][k] for k in ("state", "unit_code", "due_at", "rating", "openid")} == \
        {k: before[0][k] for k in ("state", "unit_code", "due_at", "rating", "openid")}
