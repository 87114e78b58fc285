"""The eleventh trust audit: the leaders' weekly digest and the dashboard agree with the performance review (the
units listed apart as 不参与排名 in tests/test_audit10.py). Through the sandbox's WeChat XML over real HTTP, the
weekly job's own preparation (Dispatcher.digest_prepare, as the scheduler runs it) and the workbench. Each test
failed on the code before its fix (main 2c03e02).
"""
from __future__ import annotations

from bot.app import DB, DISPATCHER
from bot.web import render_html
from handlers import digest
from tests.dialog import FEES, LEADER, SCHOOL, TZ, file_ticket, talk
from tests.test_audit5 import HOMEWORK

WCXX = "o_demo_staff_wcxx"        # 江北区文昌小学, handler
FEE = "学校乱收费，每人收资料费300元不给收据"


async def _digest(d, week: str) -> dict:
    """The bureau's digest of `week` as the weekly job prepares it: the leader's WeChat text and the page as
    stored (its data, read back as the page link renders it)."""
    dispatcher = d.app[DISPATCHER]
    items = await d.app[DB].read(lambda c: dispatcher.digest_prepare(c, week, lambda w, s, to=None: "http://x/d",
                                                                     render=digest.to_data))
    item = next(i for i in items if i["scope"] == "bureau")
    return {"text": item["texts"][LEADER], "page": render_html(digest.from_data(item["page"]), TZ)}


def _line(text: str, head: str) -> str:
    return next((x for x in text.splitlines() if x.startswith(head)), "")


# -- 1. units with nobody bound are named in the digest -----------------------------------------------------------
async def test_the_digest_tells_leaders_which_units_have_nobody_bound_those_with_tickets_first(dialog):
    """Before: the digest said nothing of units with nobody bound, whose tickets the duty office takes (代收);
    a leader learnt of them only from the month's review. Now the text has one short line (how many, the first
    three named, those whose tickets a stand-in took this week first, and what to do) and the page lists them
    all. A school bound during the week is not listed."""
    d = dialog
    week = digest.week_of(d.clock.now(), TZ)
    for i in range(2):
        number = await file_ticket(d, f"o_parent_yy{i}", HOMEWORK, scene="school:jn-yyxx", consent="1")
        await talk(d, "o_demo_staff_bgs", f"签收 {number}")
    from storage import staff
    code = await d.db(staff.create_invite, "jn-dszx", "handler", "第三中学·李老师", d.clock.now(), 86400)
    await talk(d, "o_teacher_ds", f"绑定 {code}", expect="绑定")
    d.advance(7 * 86400)
    got = await _digest(d, week)
    # the demo's 26 reviewed units, 7 with someone bound, and 第三中学 bound in the week: 18 left
    line = _line(got["text"], "无人绑定")
    assert line.startswith("无人绑定：18个单位（江南区育英小学、") and "等）" in line and "督促" in line, got["text"]
    named = line[line.index("（") + 1:line.index("）")]
    assert named.count("、") == 2 and named.endswith("等"), line  # three named: a phone's few lines, not a list
    assert "江南区第三中学" not in line and "江南区实验小学" not in line
    page = got["page"][got["page"].index('id="unstaffed"'):]
    page = page[:page.index("</section>")]
    assert "无人绑定的单位（18个）" in page and "江北区明珠幼儿园" in page and "市教育局基础教育处" in page, page
    assert "江南区第三中学" not in page and "绑定工作人员" in page


# -- 2. 需关注 follows the review's rule on too few cases ---------------------------------------------------------
async def test_the_digests_attention_list_leaves_out_a_rate_on_too_few_cases_as_the_review_does(dialog):
    """Before: 需关注 named 江南区实验小学（解决率0%（1））from one ticket left open, a figure the review calls
    样本不足 (fewer than [review] min_cases = 5) and does not score. Now the digest asks the review's rule
    (review.counted): the school with five tickets left open is named, the one with one is not, in the text and
    on the page alike."""
    d = dialog
    one = await file_ticket(d, "o_parent_one", HOMEWORK, scene="school:jn-syxx", consent="1")
    await talk(d, SCHOOL, f"签收 {one}")
    for i in range(5):
        number = await file_ticket(d, f"o_parent_wc{i}", HOMEWORK, scene="school:jb-wcxx", consent="1")
        await talk(d, WCXX, f"签收 {number}")
    d.advance(21 * 86400)  # every deadline passed, the tickets still open
    week = digest.previous_week(digest.week_of(d.clock.now(), TZ))
    got = await _digest(d, week)
    line = _line(got["text"], "需关注")
    assert "江北区文昌小学（解决率0%（5））" in line, got["text"]
    assert "江南区实验小学" not in line, line
    page = got["page"][got["page"].index("需关注的单位"):]
    page = page[:page.index("</section>")]
    assert "江北区文昌小学" in page and "江南区实验小学" not in page, page


# -- 3. the dashboard ranks within a kind of unit -----------------------------------------------------------------
async def test_the_dashboard_ranks_schools_and_bureau_offices_apart_as_the_review_does(dialog):
    """Before: the dashboard's 单位排名 was one list, a bureau office placed against schools (a school doing as
    well as the fee office read 2nd). Now each kind is ranked apart under its own heading, as the review ranks."""
    from tests.test_web import browser, sign_in
    d = dialog
    for who, scene, text, closes in ((FEES, "school:jn-hpcz", FEE, 5), (SCHOOL, "school:jn-syxx", HOMEWORK, 5),
                                     (WCXX, "school:jb-wcxx", HOMEWORK, 2)):
        for i in range(5):
            number = await file_ticket(d, f"o_parent_{who[-4:]}{i}", text, scene=scene, consent="1")
            await talk(d, who, f"签收 {number}")
            if i < closes:
                await talk(d, who, f"办结 {number} 已核实处理，情况已向家长说明", expect="办结")
    d.advance(14 * 86400)
    async with browser(d) as s:
        await sign_in(d, s, LEADER)
        async with s.get("/w/dashboard", params={"kind": "month", "period": "2026-11"}) as resp:
            assert resp.status == 200
            page = await resp.text()
    table = page[page.index("单位排名"):]
    table = table[:table.index("</section>")]

    def rank(code: str) -> str:
        row = table[:table.index(f"/w/rates/{code}?")]
        return row[row.rindex('<td class="rank'):].split(">")[1].split("<")[0]
    assert rank("jyj-sfc") == "1" and rank("jn-syxx") == "1" and rank("jb-wcxx") == "2", table
    offices, schools = table.index('data-kind="office"'), table.index('data-kind="school"')
    assert offices < table.index("/w/rates/jyj-sfc?") < schools < table.index("/w/rates/jn-syxx?"), table
    assert "局机关处室</h3>" in table and "学校</h3>" in table
