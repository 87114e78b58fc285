"""trust18a: a month over keeps its 派发 and 响应率 (m066). Each 签收 case that stops being its unit's once it came
due there (signed, or its window over) is kept with that unit (unit_cases) and counted in the month it began; the
ticket's current case counts from when it began (response_since): the duty office's 退回 case in the month it
arrived, not in the month of the ticket's first dispatch."""
from __future__ import annotations

from handlers import rates
from storage import tickets
from tests.dialog import DUTY, FEES, LEADER, at, file_ticket, talk
from tests.rates_check import before_m059, nov, period_rates, verify_rates

NOV, DEC = (at("2026-11-01 00:00"), at("2026-12-01 00:00")), (at("2026-12-01 00:00"), at("2027-01-01 00:00"))
FEE = "学校要求每个学生交{n}元资料费，还不给收据"


def _response(r: rates.Rates | None) -> tuple:
    r = r or rates.Rates()
    return r.dispatched, r.response_due, r.accepted_in_time


async def test_the_duty_offices_case_of_a_bounced_ticket_counts_in_the_month_it_arrived(dialog, tmp_path, capsys):
    """收费管理处 signed a November ticket in time and bounced it in December. November stays (1, 1, 1) for it and
    gives the duty office nothing (main: the duty office gained a November 派发 in December). The duty office's
    own case, its own 签收 window, is December's, the month it arrived; let lapse, it is late there. The counters,
    the trace and verify-rates agree."""
    d = dialog
    number = await file_ticket(d, "o_t18a_b1", FEE.format(n=310), scene="school:jn-syxx", consent="1")
    await talk(d, FEES, f"签收 {number}", expect="签收")
    d.advance(at("2026-12-02 10:00") - d.clock.now())
    units = ["jyj-sfc", "jyj-bgs"]
    was = await period_rates(d, units, NOV)
    await talk(d, FEES, f"退回 {number} 不属于本处职责", expect="退回")
    t = await d.db(tickets.get, number)
    assert t["unit_code"] == "jyj-bgs" and t["response_since"] == d.clock.now(), t
    d.advance(at("2026-12-08 10:00") - d.clock.now())
    now_ = await period_rates(d, units, NOV)
    assert [_response(now_.get(u)) for u in units] == [_response(was.get(u)) for u in units] == [(1, 1, 1), (0, 0, 0)]
    dec = await period_rates(d, units, DEC)
    assert [_response(dec.get(u)) for u in units] == [(0, 0, 0), (1, 1, 0)], dec
    for month in ("2026-11", "2026-12"):
        verify_rates(tmp_path, capsys, month)


async def test_a_window_let_lapse_stays_one_late_case_of_its_month_wherever_the_ticket_goes(dialog, tmp_path, capsys):
    """收费管理处 let a November ticket's 签收 window lapse: November reads (1, 1, 0). A leader passed it to 江南区教育局
    (which let its own window lapse too) and, in December, back (收费管理处's lapsed window with it, Desk.handover):
    each unit one case, late, in November, the month it got the ticket — 收费管理处's not twice, neither moved to
    the month of a 转派; December has none."""
    d = dialog
    number = await file_ticket(d, "o_t18a_l1", FEE.format(n=320), scene="school:jn-syxx", consent="1")
    sent = await d.db(tickets.get, number)
    d.advance(sent["accept_due_at"] + 3600 - d.clock.now())
    await d.sweep()
    units = ["jyj-sfc", "jn-jyj"]
    was = await period_rates(d, units, NOV)
    assert _response(was.get("jyj-sfc")) == (1, 1, 0), was
    await talk(d, LEADER, f"转派 {number} 江南区教育局 请区局核处", expect="已将")
    d.advance(at("2026-12-01 09:00") - d.clock.now())
    await talk(d, LEADER, f"转派 {number} 市教育局教育收费管理处 仍由收费处办理", expect="已将")
    back = await d.db(tickets.get, number)
    assert (back["accept_due_at"], back["dispatched_at"], back["response_since"]) == \
        (sent["accept_due_at"], sent["dispatched_at"], None), back
    d.advance(at("2026-12-08 10:00") - d.clock.now())
    now_ = await period_rates(d, units, NOV)
    assert [_response(now_.get(u)) for u in units] == [(1, 1, 0), (1, 1, 0)], now_
    assert [_response((await period_rates(d, units, DEC)).get(u)) for u in units] == [(0, 0, 0), (0, 0, 0)]
    for month in ("2026-11", "2026-12"):
        verify_rates(tmp_path, capsys, month)


async def test_a_ticket_withdrawn_keeps_its_signed_case_but_not_one_still_inside_its_window(dialog):
    """A parent withdrew two tickets: one 收费管理处 had signed (a case it did: it stays in 派发, in time), one still
    unsigned inside its window (nothing done, nothing missed: in no 派发, as before m066)."""
    d = dialog
    signed = await file_ticket(d, "o_t18a_w1", FEE.format(n=330), scene="school:jn-syxx", consent="1")
    fresh = await file_ticket(d, "o_t18a_w2", FEE.format(n=340), scene="school:jn-syxx", consent="1")
    await talk(d, FEES, f"签收 {signed}", expect="签收")
    for openid, number in (("o_t18a_w1", signed), ("o_t18a_w2", fresh)):
        await talk(d, openid, f"撤回 {number}")
        await talk(d, openid, f"确认撤回 {number}", expect="撤回")
    d.advance(at("2026-12-02 10:00") - d.clock.now())
    got = await period_rates(d, ["jyj-sfc"], NOV)
    assert _response(got.get("jyj-sfc")) == (1, 1, 1), got


async def test_verify_rates_names_a_kept_case_changed_behind_the_record(dialog, tmp_path, capsys):
    """A kept case is written with the event that ended it: a hand that marks it unsigned (to lower the unit's
    响应率) is named by verify-rates (exit 1), and nothing is repaired."""
    from bot.cli import main
    from tests.conftest import write_cli_config
    d = dialog
    number = await file_ticket(d, "o_t18a_v1", FEE.format(n=350), scene="school:jn-syxx", consent="1")
    await talk(d, FEES, f"签收 {number}", expect="签收")
    await talk(d, LEADER, f"转派 {number} 江南区教育局 请区局核处", expect="已将")
    verify_rates(tmp_path, capsys)
    await d.db(lambda db: db.execute("UPDATE unit_cases SET accepted_at = NULL"))
    config = str(write_cli_config(tmp_path / "c.toml", str(tmp_path / "demo.db")))
    code = main(["verify-rates", "--period", "2026-11", "--config", config])
    out = capsys.readouterr().out
    assert code == 1 and number in out and "转出前保留的派发与签收记录与操作记录不符" in out, out
    assert await d.db(lambda db: db.execute("SELECT accepted_at FROM unit_cases").fetchone()[0]) is None


def test_the_upgrade_changes_no_figure_of_a_month_already_counted(tmp_path):
    """m066 keeps no case of departures before it (they read as before, the dispatch following the ticket, until
    m070's fill after start-up reaches them: tests/test_trust19.py) and adds only empty columns: every figure and counter reads the same after it, and nothing of the
    history is walked."""
    from storage import integrity, migrations
    from tests.dialog import TZ
    db = before_m059(tmp_path / "old.db", "jn-yyxx", stop_before="m066_unit_cases")
    db.execute("INSERT INTO units (code, name, kind, parent) VALUES ('jyj-sfc', '收费管理处', 'office', 'jyj')")
    t = tickets.create(db, openid="o_old", kind="complaint", category="fees", unit_code="jyj-sfc", school_code=None,
                       text="x", attachments=[], contact_phone=None, anonymous=False, routing={}, now=nov(2),
                       due_at=nov(20), tz=TZ, accept_due_at=nov(3))
    t = tickets.transition(db, t, "accepted", "o_sfc", nov(2, 11), "accept", accepted_by="o_sfc",
                           accepted_at=nov(2, 11))
    tickets.transition(db, t, "bounced", "o_sfc", nov(5), "bounce", "不属本处", unit_code="jyj-bgs", bounces=1,
                       accepted_by=None, accepted_at=None, accept_due_at=nov(6))

    counters = db.execute("SELECT * FROM unit_days ORDER BY day, unit_code").fetchall()
    migrations.migrations.apply(db)
    assert db.execute("SELECT * FROM unit_days ORDER BY day, unit_code").fetchall() == counters
    assert db.execute("SELECT count(*) FROM unit_cases").fetchone()[0] == 0
    assert integrity.differences(db, *NOV) == []
    got = {u: _response(r) for u, r in rates.for_period(db, *NOV, None, nov(28)).items() if r.dispatched}
    assert got == {"jyj-bgs": (1, 1, 0)}, got  # as before m066: that dispatch went with the ticket
