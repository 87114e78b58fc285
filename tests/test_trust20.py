"""One rule for the 签收 cases that feed a unit's review (trust20): what the live path keeps (record_case, in
unit_cases and response_since) must be what m070's back-fill derives from the same events (cases_from_events,
which replays case_ends), ticket by ticket, over seeded histories played through WeChat and the Desk (the rates
oracle's World: 签收 by the unit, a leader or the district head (代收), 退回, 转派, 撤回, 不满意 and review, staff
changing roles, leaving and binding, someone binding at a school that had nobody). verify-rates agrees with
both: no finding on the untampered file, and a kept case deleted is named.

The seeded histories are checked in tests/test_rates_oracle.py's test_a_closed_period_reads_the_same_later, which
plays them (live_cases_agree, filled_and_verified: one play of each history for both checks). More histories:
ORACLE_SEEDS=1-40 pytest tests/test_rates_oracle.py -k closed"""
from __future__ import annotations

import time

import pytest

from bot.app import DB
from storage import tickets

def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return abs(a - b) < 1e-3
    return a == b


def cases_of(db, tid: int) -> dict[tuple, dict]:
    """The ticket's kept cases as unit_cases holds them: (unit, window) -> start, end, 签收, 代收 holder."""
    return {(u, w): {"start": s, "at": e, "signed": a, "stood_in": h} for u, w, s, e, a, h in db.execute(
        "SELECT unit_code, accept_due_at, coalesce(since, dispatched_at), at, accepted_at, stood_in FROM unit_cases "
        "WHERE ticket_id = ?", [tid])}


def live_against_replay(db) -> tuple[list[str], int]:
    """Each ticket's kept cases (unit, window -> start, 签收, 代收 holder) and current case start as the live path
    wrote them, against cases_from_events over its events: (the differences, the kept cases compared)."""
    out, n = [], 0
    for tid, number, dispatched, since, state in db.execute(
            "SELECT id, number, dispatched_at, response_since, state FROM tickets WHERE kind != 'praise' "
            "AND dispatched_at IS NOT NULL ORDER BY id").fetchall():
        derived, begun, _ = tickets.cases_from_events(db, tid)
        live = cases_of(db, tid)
        n += len(live)
        for key in sorted(set(live) | set(derived), key=str):
            x, y = live.get(key), derived.get(key)
            if x is None or y is None:
                out.append(f"{number} case {key}: live {x}, replay {y}")
                continue
            out += [f"{number} case {key} {f}: live {x[f]}, replay {y[f]}"
                    for f in ("start", "at", "signed", "stood_in") if not _same(x[f], y[f])]
        if state != "withdrawn" and (begun is None or not _same(since or dispatched, begun)):
            out.append(f"{number} current case began: live {since or dispatched}, replay {begun}")
    return out, n


def back_filled(path) -> list[str]:
    """The file as if its history were all before m066 (no kept case, no response_since; m070's marks over all
    its events), m070's fill run to its end as the upgrade-fill job runs it: what it writes against what the
    live path wrote (the differences)."""
    import sqlite_utils
    db = sqlite_utils.Database(path)
    live = {tid: (cases_of(db, tid), since) for tid, since in db.execute(
        "SELECT id, response_since FROM tickets WHERE kind != 'praise' AND dispatched_at IS NOT NULL AND state != "
        "'withdrawn'").fetchall()}
    with db.conn:
        db.execute("DELETE FROM unit_cases")
        db.execute("UPDATE tickets SET response_since = NULL WHERE response_since IS NOT NULL")
        db.execute("DELETE FROM integrity_marks WHERE name IN ('cases_fill_scanned', 'cases_fill_from')")
        db.execute("INSERT INTO integrity_marks (name, value) SELECT 'cases_fill_from', max(id) + 1 FROM ticket_events")
        db.execute("INSERT INTO integrity_marks (name, value) VALUES ('cases_fill_scanned', 0)")
    while tickets.cases_fill_range(db) is not None:
        with db.conn:
            tickets.cases_fill_store(db, *tickets.cases_fill_next(db, 200, limit=5))
    out = []
    for tid, (cases, since) in live.items():
        number, now = db.execute("SELECT number, response_since FROM tickets WHERE id = ?", [tid]).fetchone()
        filled = cases_of(db, tid)
        for key in sorted(set(cases) | set(filled), key=str):
            x, y = cases.get(key), filled.get(key)
            if x is None or y is None or any(not _same(x[f], y[f]) for f in x):
                out.append(f"{number} case {key}: live {x}, back-filled {y}")
        if not _same(since, now):
            out.append(f"{number} response_since: live {since}, back-filled {now}")
    db.close()
    return out


def history(db, number: str) -> list[str]:
    tid = db.execute("SELECT id FROM tickets WHERE number = ?", [number]).fetchone()[0]
    return [f"    {e[0]:.0f} {e[1]} {e[2]} -> {e[3]} at {e[4]} kept {e[5]}" for e in db.execute(
        "SELECT at, action, actor, to_state, unit_code, kept FROM ticket_events WHERE ticket_id = ? ORDER BY id",
        [tid])]


def verify(config: str, months: list[str], capsys) -> dict[str, str]:
    """`tingjian verify-rates` for each month: {month: its output} of those with findings (exit 1)."""
    from bot.cli import main
    bad = {}
    for month in months:
        code = main(["verify-rates", "--period", month, "--config", config])
        out = capsys.readouterr().out
        if code != 0:
            bad[month] = out
    return bad


async def live_cases_agree(world) -> list:
    """The first half of the check of a played history (the app still running): every ticket's kept 签收 cases and
    the start of its current case are the same from the live path and from the replay of its events. Returns the
    kept cases (id, ticket number, end) for the second half."""
    diffs, n = await world.app[DB].read(live_against_replay)
    if diffs:
        numbers = sorted({d.split()[0] for d in diffs})
        events = await world.app[DB].read(lambda c: [line for m in numbers[:4] for line in [m, *history(c, m)]])
        pytest.fail("\n".join(diffs[:30]) + "\n\nevents:\n" + "\n".join(events))
    assert n >= 3, f"only {n} kept cases: the history exercises too little"
    return await world.app[DB].read(lambda c: c.execute(
        "SELECT c.id, t.number, c.at FROM unit_cases c JOIN tickets t ON t.id = c.ticket_id ORDER BY c.id").fetchall())


def filled_and_verified(tmp_path, first: str, read_at: str, kept: list, capsys, monkeypatch) -> None:
    """The second half, on the history's file (the service stopped): m070's fill run over the same file emptied of
    its cases (as if its history were before m066) writes what the live path wrote; verify-rates finds nothing
    in any month the history touched; with one kept case deleted it names that ticket; the back-filled copy, its
    departures listed (m072) and counted (m075), is clean, and one deleted is named."""
    from handlers import dashboard
    from tests.conftest import write_cli_config
    from tests.dialog import TZ, at
    import sqlite3
    with sqlite3.connect(tmp_path / "demo.db") as src, sqlite3.connect(tmp_path / "old.db") as copy:
        src.backup(copy)
    diffs = back_filled(tmp_path / "old.db")
    assert not diffs, "\n".join(diffs[:30])
    monkeypatch.setattr(time, "time", lambda: at(read_at))  # the command line, read when the history was
    config = str(write_cli_config(tmp_path / "cli.toml", tmp_path / "demo.db"))
    months = sorted({dashboard.period_of("month", at(first) + d * 86400, TZ).key
                     for d in range(int((at(read_at) - at(first)) // 86400) + 1)})
    assert verify(config, months, capsys) == {}
    # a kept case deleted: the month of the event that wrote it names its ticket
    cid, number, ended = kept[len(kept) // 2]
    import sqlite_utils
    db = sqlite_utils.Database(tmp_path / "demo.db")
    db.execute("DELETE FROM unit_cases WHERE id = ?", [cid])
    db.conn.commit()
    db.close()
    month = dashboard.period_of("month", ended, TZ).key
    bad = verify(config, [month], capsys)
    assert number in bad.get(month, ""), bad
    from tests.test_trust22 import listed_as_before_m070
    listed_as_before_m070(tmp_path / "old.db", str(write_cli_config(tmp_path / "old.toml", tmp_path / "old.db")),
                          months, capsys)


@pytest.mark.parametrize("move", ["leader", "leaves"])
async def test_a_case_another_unit_took_over_unsigned_is_replayed_and_back_filled_as_it_was_kept(dialog, tmp_path,
                                                                                                move):
    """收费管理处 got a ticket on 30 November and, the next day, inside its window, a leader signed it for the
    office (代收) or its only handler left (the duty office stands in). The office's case, counted by November's
    end, is kept unsigned (the leader's 签收 is the new 代收 case's, begun then); the replay of the events says
    the same (it had given the office that 签收: a case it never signed, kept as signed), and m070's fill, which
    looked only where the holder moved, writes it back on a file emptied of it."""
    import sqlite3

    from tests.dialog import LEADER, at, talk
    from tests.test_oracle19 import _handler_leaves, _sent_on_the_last_day
    d = dialog
    number = await _sent_on_the_last_day(d, f"o_t20_{move}")
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    if move == "leader":
        await talk(d, LEADER, f"签收 {number}", expect="签收")
    else:
        await _handler_leaves(d, number)
    t = await d.db(tickets.get, number)
    kept = await d.db(lambda db: cases_of(db, t["id"]))
    window = t["accept_due_at"] if move == "leader" else (await d.db(lambda db: db.execute(
        "SELECT accept_due_at FROM unit_cases").fetchone()))[0]
    assert kept == {("jyj-sfc", window): {"start": t["dispatched_at"], "at": at("2026-12-01 10:00"), "signed": None,
                                          "stood_in": None}}, kept
    assert t["response_since"] == at("2026-12-01 10:00")
    assert await d.db(live_against_replay) == ([], 1)
    with sqlite3.connect(tmp_path / "demo.db") as src, sqlite3.connect(tmp_path / "old.db") as copy:
        src.backup(copy)
    assert back_filled(tmp_path / "old.db") == []


async def test_a_transfer_between_two_unstaffed_schools_ends_the_duty_offices_case_in_the_events_too(dialog):
    """The replay cannot see a change of dispatch alone (the events do not carry dispatched_at). The one public
    path found that re-dispatches with the 签收 part counting for the same account before and after: a leader
    转派s the next day a ticket of a school with nobody bound (代收 by the duty office) to another such school.
    Its events still show the part moving (the 转派 to the school, then its 代收 by the duty office), so the
    duty office's case kept by the live path is the replay's too, and the new case begins at the new dispatch."""
    from tests.dialog import LEADER, file_ticket, talk
    d = dialog
    number = await file_ticket(d, "o_t20_gap", "孩子每天作业写到晚上十一点，作业太多了", scene="school:jn-yyxx",
                               consent="1")
    was = await d.db(tickets.get, number)
    assert (was["unit_code"], was["response_unit"]) == ("jn-yyxx", "代收:jyj-bgs"), was
    d.advance(86400 + 3600)  # the next day, inside its window
    await talk(d, LEADER, f"转派 {number} jn-dszx 请核处", expect="已将")
    t = await d.db(tickets.get, number)
    assert (t["unit_code"], t["response_unit"], t["response_since"]) == ("jn-dszx", "代收:jyj-bgs", None), t
    assert t["dispatched_at"] == d.clock.now() < was["accept_due_at"] != t["accept_due_at"]
    assert await d.db(lambda db: cases_of(db, t["id"])) == {("代收:jyj-bgs", was["accept_due_at"]): {
        "start": was["dispatched_at"], "at": t["dispatched_at"], "signed": None, "stood_in": "jn-yyxx"}}
    assert await d.db(live_against_replay) == ([], 1)
