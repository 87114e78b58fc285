"""trust19: what m066 left (m070). The 签收 cases of departures before m066 are kept after start-up (job
upgrade-fill replays record_case's rule over each ticket's events), so a month closed before the upgrade keeps its
派发 and 响应率 where the ticket arrived; a kept case keeps the holder whose 代收 it was (its 代收 N件 stays in
its month); and the event that ended a kept case names it, so verify-rates sees one deleted."""
from __future__ import annotations

from handlers import rates
from storage import integrity, migrations, tickets
from tests.dialog import DUTY, FEES, LEADER, TZ, at, file_ticket, talk
from tests.rates_check import before_m059, period_rates, verify_rates

NOBODY = "jn-yyxx"
OCT, NOV, DEC = ((at("2026-10-01 00:00"), at("2026-11-01 00:00")), (at("2026-11-01 00:00"), at("2026-12-01 00:00")),
                 (at("2026-12-01 00:00"), at("2027-01-01 00:00")))
UNITS = ["jyj-sfc", "jyj-bgs", "jn-jyj"]


def _response(r: rates.Rates | None) -> tuple:
    r = r or rates.Rates()
    return r.dispatched, r.response_due, r.accepted_in_time


def _read(db, now: float | None) -> dict:
    """Each unit's (派发, 应签收, 按时签收) of October and November, read at `now` (every unit, from the counters;
    None: every window over, as a file before m066 can be read)."""
    return {name: {u: _response(r) for u, r in rates.for_period(db, *p, None, now).items() if r.dispatched}
            for name, p in (("oct", OCT), ("nov", NOV))}


def _old_history(db, closed: dict | None = None) -> tuple[str, str]:
    """Before m066 (old code: nothing kept): two October tickets 收费管理处 signed in time (`closed`: October as
    read when it closed, 11-01). One 转派ed in November to 江南区教育局 (signed there in time: its own November
    case); one 退回ed in November to the duty office, which let its own window lapse (a late November case, the
    ticket's dispatch staying October's)."""
    made = []
    for n in (1, 2):
        t = tickets.create(db, openid=f"o_t19_{n}", kind="complaint", category="fees", unit_code="jyj-sfc",
                           school_code=None, text="x", attachments=[], contact_phone=None, anonymous=False,
                           routing={}, now=at("2026-10-12 10:00"), due_at=at("2026-10-30 10:00"), tz=TZ,
                           accept_due_at=at("2026-10-13 10:00"))
        made.append(tickets.transition(db, t, "accepted", "o_sfc", at("2026-10-12 11:00"), "accept",
                                       accepted_by="o_sfc", accepted_at=at("2026-10-12 11:00")))
    if closed is not None:
        closed.update(_read(db, None))  # on 11-01: every window was over
    out = []
    for t, how in zip(made, ("transfer", "bounce")):
        moved = at("2026-11-05 10:00")
        if how == "transfer":
            t = tickets.transition(db, t, "assigned", "o_leader", moved, "transfer", "请区局核处", unit_code="jn-jyj",
                                   accepted_by=None, accepted_at=None, accept_due_at=at("2026-11-06 10:00"),
                                   due_at=at("2026-11-20 10:00"), dispatched_at=moved)
            holder = "o_jn"
        else:
            t = tickets.transition(db, t, "bounced", "o_sfc", moved, "bounce", "不属本处", unit_code="jyj-bgs",
                                   bounces=1, accepted_by=None, accepted_at=None, accept_due_at=at("2026-11-06 10:00"))
            holder = "o_duty"
            out.append(t["number"])
            continue  # the duty office lets its window lapse (it re-dispatches later: _hand_on)
        tickets.transition(db, t, "accepted", holder, at("2026-11-05 11:00"), "accept", accepted_by=holder,
                           accepted_at=at("2026-11-05 11:00"))
        out.append(t["number"])
    return out[0], out[1]


def _fill(db, first: int | None = None) -> int:
    """The job's loop (bot.scheduler.Jobs.upgrade_fill): m070's part; `first`: a first range of that many events,
    then the rest one ticket a write (the range ends early), each range written twice (a run stopped after its
    write and run again)."""
    n = 0
    if first is not None:
        n += tickets.cases_fill_store(db, *tickets.cases_fill_next(db, first))
    while tickets.cases_fill_range(db) is not None:
        step = tickets.cases_fill_next(db, limit=1)
        assert len(step[1]) <= 1, step
        n += tickets.cases_fill_store(db, *step)
        n += tickets.cases_fill_store(db, *step)
    return n


def _other_fills(db) -> None:
    while tickets.resolve_since_pending(db):
        tickets.resolve_since_store(db, tickets.resolve_since_next(db, 200))
    while tickets.recredit_range(db) is not None:
        tickets.recredit_store(db, *tickets.recredit_next(db), at("2026-12-02 10:00"))
    while tickets.kept_resolved_range(db) is not None:
        tickets.kept_resolved_store(db, *tickets.kept_resolved_next(db))


def _hand_on(db, number: str, now: float) -> None:
    """After the upgrade, the ticket is 转派ed on (the duty office's re-dispatch; the district's to the duty office)."""
    t = tickets.get(db, number)
    to = "jn-jyj" if t["unit_code"] != "jn-jyj" else "jyj-bgs"
    tickets.transition(db, t, "assigned", "o_leader", now, "transfer", "再转", unit_code=to, accepted_by=None,
                       accepted_at=None, accept_due_at=now + 86400, due_at=now + 10 * 86400, dispatched_at=now)


def test_months_closed_before_m066_keep_their_cases_once_the_fill_has_run_and_after_later_hand_ons(tmp_path):
    """October as it read when it closed (old code, 11-01): 收费管理处 (2, 2, 2). The November departures before the
    upgrade took both away (October read 12-02 on the upgraded file: only the duty office's bounced ticket, its
    dispatch still October's). The upgrade itself changes nothing; the fill after start-up gives October back as
    it closed and puts the duty office's case in November, the month it arrived; handing both tickets on again in
    December moves neither month. verify-rates agrees before, during and after the fill."""
    db = before_m059(tmp_path / "t.db", NOBODY, "m066_unit_cases")
    db.execute("INSERT INTO units (code, name, kind, parent) VALUES ('jyj-sfc', '收费管理处', 'office', 'jyj')")
    closed: dict = {}
    t1, t2 = _old_history(db, closed)
    assert closed == {"oct": {"jyj-sfc": (2, 2, 2)}, "nov": {}}, closed
    migrations.migrate(db)
    _other_fills(db)
    read_dec2 = at("2026-12-02 10:00")
    before_fill = _read(db, read_dec2)
    assert before_fill == {"oct": {"jyj-bgs": (1, 1, 0)}, "nov": {"jn-jyj": (1, 1, 1)}}, before_fill  # as before m066
    for p in (OCT, NOV):
        assert integrity.differences(db, *p) == [] and integrity.against_events(db, *p) == []
    assert tickets.cases_fill_range(db) is not None
    written = _fill(db, first=3)
    assert written == 3, written  # two cases of 收费管理处, the duty office's response_since
    after_fill = _read(db, read_dec2)
    closed = {**closed, "nov": {"jn-jyj": (1, 1, 1), "jyj-bgs": (1, 1, 0)}}
    assert after_fill == closed, after_fill
    assert tickets.get(db, t2)["response_since"] == at("2026-11-05 10:00")
    for p in (OCT, NOV):
        assert integrity.differences(db, *p) == [] and integrity.against_events(db, *p) == []
    # December: both handed on; then read again at the year's end
    _hand_on(db, t1, at("2026-12-05 10:00"))
    _hand_on(db, t2, at("2026-12-05 11:00"))
    assert _read(db, at("2026-12-31 10:00")) == closed
    assert _fill(db) == 0  # done: the fill never runs again
    for p in (OCT, NOV, DEC):
        assert integrity.differences(db, *p) == [] and integrity.against_events(db, *p) == []


def test_without_the_fill_a_later_hand_on_puts_the_duty_offices_case_in_the_wrong_month(tmp_path):
    """What the fill mends besides the old departures: a ticket 退回ed before m066 and passed on after it, unfilled,
    keeps the duty office's case at the ticket's October dispatch (record_case had no response_since to go by), and
    verify-rates names that case; the fill moves it to November, where it arrived, and the check is clean."""
    db = before_m059(tmp_path / "t.db", NOBODY, "m066_unit_cases")
    db.execute("INSERT INTO units (code, name, kind, parent) VALUES ('jyj-sfc', '收费管理处', 'office', 'jyj')")
    _, bounced = _old_history(db)
    migrations.migrate(db)
    _other_fills(db)
    _hand_on(db, bounced, at("2026-12-05 10:00"))
    got = _read(db, at("2026-12-08 10:00"))
    assert got["oct"] == {"jyj-bgs": (1, 1, 0)}, got
    assert {"number": bounced, "what": "case"} in integrity.against_events(db, *OCT)
    _fill(db)
    got = _read(db, at("2026-12-08 10:00"))
    assert got == {"oct": {"jyj-sfc": (2, 2, 2)}, "nov": {"jn-jyj": (1, 1, 1), "jyj-bgs": (1, 1, 0)}}, got
    for p in (OCT, NOV, DEC):
        assert integrity.differences(db, *p) == [] and integrity.against_events(db, *p) == []


def test_a_ticket_changed_between_the_fills_read_and_its_write_is_read_again_on_the_writer(tmp_path):
    """The fill reads on a reader and writes on the writer: a ticket passed on in between is derived again there
    (its latest event is another), so what is written is what its events say at the write."""
    db = before_m059(tmp_path / "t.db", NOBODY, "m066_unit_cases")
    db.execute("INSERT INTO units (code, name, kind, parent) VALUES ('jyj-sfc', '收费管理处', 'office', 'jyj')")
    _, bounced = _old_history(db)
    migrations.migrate(db)
    _other_fills(db)
    step = tickets.cases_fill_next(db)
    _hand_on(db, bounced, at("2026-12-05 10:00"))
    tickets.cases_fill_store(db, *step)
    assert tickets.cases_fill_range(db) is None
    got = _read(db, at("2026-12-08 10:00"))
    assert got == {"oct": {"jyj-sfc": (2, 2, 2)}, "nov": {"jn-jyj": (1, 1, 1), "jyj-bgs": (1, 1, 0)}}, got
    for p in (OCT, NOV, DEC):
        assert integrity.against_events(db, *p) == []


def test_a_new_database_has_nothing_to_fill(tmp_path):
    db = before_m059(tmp_path / "t.db", NOBODY)
    migrations.migrate(db)
    assert tickets.cases_fill_range(db) is None


async def test_the_absent_schools_stood_in_count_stays_in_its_month_when_the_ticket_moves_on(dialog, tmp_path,
                                                                                           capsys):
    """育英小学 has nobody bound: the duty office signs its November ticket (代收). Read on 12-02, November shows
    the school 代收 1件; a leader passes the ticket on in December: November still shows it (before m070: 0, the
    mark followed the ticket), and the duty office's 代收 received stays 1."""
    from tests.test_citizen_dialogs import PARENT
    from tests.test_credit import BURDEN
    d = dialog
    number = await file_ticket(d, PARENT, BURDEN, scene=f"school:{NOBODY}", consent="1")
    await talk(d, DUTY, f"签收 {number}", expect="代为签收")
    d.advance(at("2026-12-02 10:00") - d.clock.now())
    units = [NOBODY, "jyj-bgs"]
    was = await period_rates(d, units, NOV)
    assert (was[NOBODY].stood_in, was["jyj-bgs"].proxied) == (1, 1), was
    await talk(d, LEADER, f"转派 {number} 江南区教育局 请区局督促学校", expect="已将")
    d.advance(at("2026-12-08 10:00") - d.clock.now())
    now_ = await period_rates(d, units, NOV)
    assert (now_[NOBODY].stood_in, now_["jyj-bgs"].proxied) == (1, 1), now_
    case = await d.db(lambda db: db.execute("SELECT unit_code, stood_in FROM unit_cases").fetchall())
    assert case == [("代收:jyj-bgs", NOBODY)], case
    for month in ("2026-11", "2026-12"):
        verify_rates(tmp_path, capsys, month)


async def test_verify_rates_names_a_kept_case_deleted(dialog, tmp_path, capsys):
    """收费管理处 signed a November ticket; a leader passed it on in December (its case kept with November). A
    hand that deletes the kept case (November's 派发 and 响应率 lose it) is named by verify-rates for December,
    the month of the event that wrote it (exit 1), and nothing is repaired."""
    from bot.cli import main
    from tests.conftest import write_cli_config
    d = dialog
    number = await file_ticket(d, "o_t19_v1", "学校要求每个学生交360元资料费，还不给收据", scene="school:jn-syxx",
                               consent="1")
    await talk(d, FEES, f"签收 {number}", expect="签收")
    d.advance(at("2026-12-02 10:00") - d.clock.now())
    await talk(d, LEADER, f"转派 {number} 江南区教育局 请区局核处", expect="已将")
    assert _response((await period_rates(d, ["jyj-sfc"], NOV)).get("jyj-sfc")) == (1, 1, 1)
    verify_rates(tmp_path, capsys, "2026-12")
    await d.db(lambda db: db.execute("DELETE FROM unit_cases"))
    assert _response((await period_rates(d, ["jyj-sfc"], NOV)).get("jyj-sfc")) == (0, 0, 0)
    config = str(write_cli_config(tmp_path / "c.toml", str(tmp_path / "demo.db")))
    code = main(["verify-rates", "--period", "2026-12", "--config", config])
    out = capsys.readouterr().out
    assert code == 1 and number in out and "转出前保留的派发与签收记录与操作记录不符" in out, out
    assert await d.db(lambda db: db.execute("SELECT count(*) FROM unit_cases").fetchone()[0]) == 0


def test_the_fill_and_the_check_of_named_cases_read_only_index_ranges(tmp_path):
    """Their cost follows the events of the range (the fill) or the period (verify-rates), never the history:
    each statement searches an index or the events' rowid range, none scans a table."""
    db = before_m059(tmp_path / "t.db", NOBODY, "m066_unit_cases")
    db.execute("INSERT INTO units (code, name, kind, parent) VALUES ('jyj-sfc', '收费管理处', 'office', 'jyj')")
    _old_history(db)
    migrations.migrate(db)
    _other_fills(db)
    seen: list[tuple[str, list]] = []
    db._tracer = lambda sql, params: seen.append((sql, list(params or ())))
    step = tickets.cases_fill_next(db)
    tickets.cases_fill_store(db, *step)
    db._tracer = None
    statements = [(sql, params) for sql, params in seen if not sql.startswith(("UPDATE", "INSERT"))]
    statements += [(integrity._CASES_NAMED_SQL, [*NOV])]
    assert len(statements) >= 6
    for sql, params in statements:
        plan = " | ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, params))
        assert "SCAN" not in plan.replace("SCAN CONSTANT ROW", "").replace("SCAN j", ""), (sql, plan)
