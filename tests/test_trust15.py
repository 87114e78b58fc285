"""trust15: what the rates14 and audit14 branches left. A late 代收 签收 is shown apart like a late 代收 办结; an
older rating of a 代收 answer counts for nobody's 首次满意率; a unit counts one miss per deadline it missed, however
often the ticket leaves it; a period's figures do not change when a ticket comes back later; a complaint about the
bureau left 代收 by old code is the holder's own. Each test failed on the code before it."""
from __future__ import annotations

import aiohttp

from handlers import rates
from storage import tickets
from tests.dialog import DUTY, LEADER, TZ, at, file_ticket, talk
from tests.rates_check import period_rates as _month, verify_rates as _verify
from tests.test_credit import BURDEN, NOBODY
from tests.test_citizen_dialogs import PARENT

LATE_SIGN = "超时签收{n}件"


# -- (a) a late 代收 签收 ------------------------------------------------------------------------------------------
async def test_a_stand_ins_late_signing_shows_apart_wherever_its_figures_are_shown(dialog, tmp_path, capsys):
    """The duty office signs a ticket for a school with nobody bound two days late and 办结s it in time. Before: its
    代收 line read 本期收到1件，办结1件，超期0件 — the late 签收 was in no figure (proxied_late is 办结 only). Now the
    same 代收 figures carry it (rates.fold), on the review, the digest and the unit's trace."""
    from bot.app import DB
    from bot.web import render_html
    from handlers import digest, review
    from tests.test_web import sign_in
    d = dialog
    number = await file_ticket(d, PARENT, BURDEN, scene=f"school:{NOBODY}", consent="1")
    due = (await d.db(tickets.get, number))["accept_due_at"]
    d.advance(due + 2 * 86400 - d.clock.now())
    await talk(d, DUTY, f"签收 {number}", expect="代为签收")
    await talk(d, DUTY, f"办结 {number} 已联系学校调整作业量", expect="已办结")
    t = await d.db(tickets.get, number)
    assert t["accepted_at"] > t["accept_due_at"] and t["resolved_at"] <= t["due_at"]
    duty = (await _month(d, ["jyj-bgs"]))["jyj-bgs"]
    assert (duty.response, duty.proxied, duty.proxied_late) == (None, 1, 0)
    assert LATE_SIGN.format(n=1) in rates.proxied(duty), rates.proxied(duty)
    assert "核对无误" in _verify(tmp_path, capsys)
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    now = d.clock.now()
    rev = await d.app[DB].read(lambda c: review.build(c, "2026-11", TZ, review.Weights(), now=now))
    assert LATE_SIGN.format(n=1) in review.format_unit(rev, "jyj-bgs")
    week = "2026-W47" if t["dispatched_at"] < at("2026-11-23 00:00") else "2026-W48"
    html = await d.app[DB].read(lambda c: render_html(digest.build(c, week, now, TZ), TZ))
    assert LATE_SIGN.format(n=1) in html
    async with aiohttp.ClientSession(base_url=str(d.session._base_url),
                                     cookie_jar=aiohttp.CookieJar(unsafe=True)) as s:
        await sign_in(d, s, LEADER)
        async with s.get("/w/rates/jyj-bgs?period=2026-11") as resp:
            page = await resp.text()
        assert resp.status == 200 and LATE_SIGN.format(n=1) in page and "代收超时签收，不计入" in page, page[:3000]


# -- (c) one lapse, one miss ----------------------------------------------------------------------------------------
async def test_a_signing_window_let_lapse_twice_is_one_late_signing(dialog, tmp_path, capsys):
    """收费管理处 let a November ticket's 签收 window lapse; a leader passed it to 江南区教育局 (the lapse noted), gave
    it back in December (the same lapsed window, Desk.handover) and passed it on again in January, still unsigned.
    Before: a second miss for the same window, so one dispatch counted two late 签收 (November and January). A
    响应 case is one dispatch and one window: now one late 签收, in the period of the first departure; the
    second departure writes no miss for a window already missed."""
    from bot.app import DB
    from tests.dialog import DISTRICT_HEAD
    d = dialog
    number = await file_ticket(d, "o_t15_p1", "江南区实验小学乱收资料费300元不给收据", scene="school:jn-syxx",
                               consent="1")
    sent = await d.db(tickets.get, number)
    assert sent["unit_code"] == "jyj-sfc", sent
    d.advance(at("2026-11-27 10:00") - d.clock.now())
    await talk(d, LEADER, f"转派 {number} 江南区教育局 请区局核处", expect="已将")
    d.advance(at("2026-12-08 10:00") - d.clock.now())
    await talk(d, LEADER, f"转派 {number} 市教育局教育收费管理处 仍由收费处办理", expect="已将")
    back = await d.db(tickets.get, number)
    assert back["accept_due_at"] == sent["accept_due_at"] and back["accepted_at"] is None, back
    d.advance(at("2027-01-05 10:00") - d.clock.now())
    await talk(d, LEADER, f"转派 {number} 江南区教育局 请区局核处", expect="已将")
    misses = await d.db(lambda db: db.execute("SELECT unit_code, response FROM unit_misses WHERE unit_code = "
                                              "'jyj-sfc' ORDER BY id").fetchall())
    assert [r for _, r in misses].count(1) == 1, misses
    now = d.clock.now()
    months = [at("2026-11-01 00:00"), at("2026-12-01 00:00"), at("2027-01-01 00:00"), at("2027-02-01 00:00")]
    got = await d.app[DB].read(lambda c: rates.for_periods(c, months, ["jyj-sfc"], now))
    late = [(r["jyj-sfc"].response_due - r["jyj-sfc"].accepted_in_time) if "jyj-sfc" in r else 0 for r in got]
    assert late == [1, 0, 0], [r.get("jyj-sfc") for r in got]
    for (start, end), r in zip(zip(months, months[1:]), got):
        traced = await d.app[DB].read(lambda c: rates.traced(c, start, end, "jyj-sfc", now))
        assert rates.total(traced) == r.get("jyj-sfc", rates.Rates()), (start, traced, r)
    for month in ("2026-11", "2026-12", "2027-01"):
        assert "核对无误" in _verify(tmp_path, capsys, month)
