"""Years of data: the bulk builder of bench/scale.py agrees with the project's own code; every hot or periodic
query reads an index (EXPLAIN QUERY PLAN); the period-range rates equal the full-history computation; the sweep
over `check_at` sends exactly what a sweep over every open ticket would; reads run off the writer; retention."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import re
import time
import shutil
import sqlite3
import sys
from pathlib import Path

import pytest

from bot.app import DB, DISPATCHER
from handlers import digest, rates
from handlers.clock import FixedClock
from storage import outbox, tickets
from storage.db import Database
from tests.test_deadlines import TZ, World, at, file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import scale  # noqa: E402  (bench/scale.py)

SIGNATURE_COLUMNS = ("dispatched_at", "due_at", "accept_due_at", "accepted_by", "accepted_at", "resolved_at",
                     "resolution", "rating", "rating_comment", "rated_at", "closed_at", "close_reason", "rated_unit",
                     "response_unit", "resolve_unit")


def signature(db, ticket: dict) -> tuple:
    """What a ticket's path looks like, whoever wrote it: its events (action, from, to, who acted, the unit it
    names, whether it carries the KEPT columns (m044) and the misses it wrote) and which of its columns are set."""
    def who(actor: str) -> str:
        return "citizen" if actor == ticket["openid"] else "system" if actor == "system" else "staff"

    def unit(code: str | None) -> str | None:
        return None if code is None else "holder" if code == ticket["unit_code"] else "other"
    rows = db.execute("SELECT action, from_state, to_state, actor, unit_code, kept IS NOT NULL, misses "
                      "FROM ticket_events WHERE ticket_id = ? ORDER BY id", [ticket["id"]]).fetchall()
    events = tuple((a, f, t, who(actor), unit(u), bool(k), tuple((unit(m[0]), m[1], m[2]) for m in json.loads(ms))
                    if ms else ()) for a, f, t, actor, u, k, ms in rows)
    filled = tuple(c for c in SIGNATURE_COLUMNS if ticket[c] is not None)
    return ticket["state"], ticket["reopens"], ticket["stood_in"], events, filled


@pytest.fixture(scope="module")
def bulk(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("bulk") / "bulk.db"
    scale.Builder(path, 1500, seed=7).build()
    return path


def _conn(path: Path):
    import sqlite_utils
    return sqlite_utils.Database(sqlite3.connect(path))


async def real_signatures(make_config) -> set[tuple]:
    """Every path the bulk builder writes, produced by real conversations through the dispatcher."""
    w = await World(make_config, FixedClock(at("2026-09-29 10:00"))).start()
    from storage import staff
    await w.app[DB].run(lambda db: [staff.bind(db, "o_h", "jyj-sfc", "handler", "李老师", 0),
                                    staff.bind(db, "o_lead", "jyj", "leader", "周局长", 0)])
    finals = ("resolved", "rated", "unrated", "redo")
    paths = ["assigned", "withdrawn", "accepted", "replied"] + [f"{f}{r}" for f in finals for r in ("", "_r")]
    n = {p: await file(w, f"o_{p}") for p in paths}  # '_r': answered (回复) before it is resolved
    await w.say("o_withdrawn", f"撤回 {n['withdrawn']}")
    await w.say("o_withdrawn", f"确认撤回 {n['withdrawn']}")
    for p in paths[2:]:
        await w.say("o_h", f"签收 {n[p]}")
        if p == "replied" or p.endswith("_r"):
            await w.say("o_h", f"回复 {n[p]} 您好，已核实，正在处理。")
        if p.startswith(finals):
            await w.say("o_h", f"办结 {n[p]} 已督促学校整改。")
    for r in ("", "_r"):
        await w.say(f"o_rated{r}", "1")
        await w.say(f"o_redo{r}", "3 还是没解决")
        await w.say("o_h", f"签收 {n['redo' + r]}")
        await w.say("o_h", f"办结 {n['redo' + r]} 已重新办理。")
        await w.say(f"o_redo{r}", "2")
    out = {await w.app[DB].run(signature, await w.ticket(n[p])) for p in ("resolved", "resolved_r")}
    w.clock.advance(3 * 86400 + 1)
    await w.sweep()  # a reminder to rate (issue 9.1) ...
    w.clock.advance(86400)
    await w.sweep()  # ... and a day later the rest of the 'resolved' ones close as 未评价 ('unrated')
    for p in paths:
        if not p.startswith("resolved"):
            out.add(await w.app[DB].run(signature, await w.ticket(n[p])))
    # a 办结 after its time limit, then 不满意: the redo keeps the late 办结 as a miss of the unit (m029)
    for r in ("", "_r"):
        number = await file(w, f"o_late{r}")
        await w.say("o_h", f"签收 {number}")
        if r:
            await w.say("o_h", f"回复 {number} 您好，已核实，正在处理。")
        w.clock.advance((await w.ticket(number))["due_at"] - w.clock.now() + 3600)
        await w.say("o_h", f"办结 {number} 已督促学校整改。")
        await w.say(f"o_late{r}", "3 还是没解决")
        await w.say("o_h", f"签收 {number}")
        await w.say("o_h", f"办结 {number} 已重新办理。")
        await w.say(f"o_late{r}", "2")
        out.add(await w.app[DB].run(signature, await w.ticket(number)))
    await w.stop()
    return out


async def test_bulk_build_writes_what_the_real_code_writes(bulk, make_config):
    real = await real_signatures(make_config)
    db = _conn(bulk)
    seen = {}
    for row in db.query("SELECT * FROM tickets"):
        t = tickets._decode(row)
        sig = signature(db, t)
        seen.setdefault(sig, t["number"])
    unexplained = {sig: number for sig, number in seen.items() if sig not in real}
    assert not unexplained, f"bulk paths the real code never writes: {unexplained}"
    assert len(seen) >= 7  # the mix has every kind of path
    # same schema as the migrations make; same invariants the storage code keeps
    fresh = Database(bulk.parent / "fresh.db").start()
    fresh.close()
    schema = lambda c: sorted(r[:2] for r in c.execute(  # noqa: E731
        "SELECT type, name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'"))
    assert schema(db) == schema(_conn(bulk.parent / "fresh.db"))
    assert db.execute("SELECT count(*) FROM tickets WHERE state NOT IN ('closed', 'withdrawn') "
                      "AND check_at IS NULL").fetchone()[0] == 0
    numbers = [r[0] for r in db.execute("SELECT number FROM tickets ORDER BY id")]
    assert len(set(numbers)) == len(numbers)
    assert db.execute("SELECT count(*) FROM tickets t WHERE NOT EXISTS (SELECT 1 FROM users u "
                      "WHERE u.openid = t.openid)").fetchone()[0] == 0


def test_a_bulk_built_database_verifies_every_ticket(bulk, tmp_path, capsys):
    """`tingjian verify-rates` on a bulk-built file: every ticket's time limits and credit are on its events
    (m044), its late departures named by the events that wrote them, its counters right — 相符, none 未核对."""
    from bot import cli
    from handlers import texts
    from storage import integrity
    from tests.conftest import write_cli_config
    db = _conn(bulk)
    first, last = db.execute("SELECT min(created_at), max(coalesce(closed_at, resolved_at, created_at)) "
                             "FROM tickets").fetchone()
    unchecked: set[str] = set()
    assert integrity.against_events(db, first, last + 86400, unchecked) == []
    assert unchecked == set()
    assert integrity.differences(db, first, last + 86400) == []
    # the late departures are there to check (a redo of a late 办结, a withdrawal after the time limit)
    assert db.execute("SELECT count(*) FROM unit_misses").fetchone()[0] > 0
    assert db.execute("SELECT count(*) FROM ticket_events WHERE misses IS NOT NULL").fetchone()[0] == \
        db.execute("SELECT count(DISTINCT ticket_id || ' ' || at) FROM unit_misses").fetchone()[0]
    copy = tmp_path / "verify.db"
    shutil.copyfile(bulk, copy)
    config = write_cli_config(tmp_path / "c.toml", copy)
    for period in sorted({dt.datetime.fromtimestamp(r[0], TZ).strftime("%Y-%m") for r in db.execute(
            "SELECT created_at FROM tickets WHERE id % 97 = 0")})[-3:]:
        capsys.readouterr()
        assert cli.main(["verify-rates", "--period", period, "--config", str(config)]) == 0, capsys.readouterr()
        said = capsys.readouterr().out
        assert "核对无误" in said and texts.VERIFY_UNCHECKED.split("{")[0] not in said, said


# -- every hot or periodic query reads an index ------------------------------------------------------------------

FULL_SCAN_TABLES = ("tickets", "ticket_events", "outbox", "users", "inbound")


def hot_queries(week_start: float, week_end: float, now: float):
    """(name, function, args): each query on a hot path (a message, a page) or a periodic job."""
    from storage import conversations, directory, inbound, staff, users
    return [
        ("submit: the next number", tickets._next_number, (now, TZ)),
        ("submit: staff of a unit", staff.of_unit, ("jyj-sfc",)),
        ("submit: leaders", staff.leaders, ()),
        ("digest: units with supervisors", staff.units_with, ("supervisor",)),
        ("message: the sender", users.get, ("o_x",)),
        ("message: touch the sender", users.touch, ("o_x", now)),
        ("message: claim", inbound.claim, ("k1", "o_x", "text", "{}", now)),
        ("message: release waiting", outbox.release_waiting, ("o_x", now)),
        ("message: conversation", conversations.get, ("o_x", now)),
        ("查询", tickets.for_citizen, ("o_x",)),
        ("详情", tickets.get, ("JY2611-0001",)),
        ("详情: history", tickets.events, (1,)),
        ("similar ticket", tickets.similar_open, ("o_x", "jn-syxx", "fees", now - 7 * 86400)),
        ("rating waiting", tickets.awaiting_rating, ("o_x",)),
        ("待办 unit", tickets.open_for_units, (["jyj-sfc", "jn-jyj"], 99)),
        ("待办 leader", tickets.open_all, (99,)),
        ("待办 duty office: the 代收 it holds", tickets.open_unattended, (99,)),
        ("签收全部 / 待签收: a unit's waiting tickets", tickets.to_sign, ("jyj-sfc", False, 99)),
        ("签收全部 / 待签收: the duty office's, with the 代收", tickets.to_sign, ("jyj-bgs", True, 99)),
        ("待签收 count (inbox), a unit", tickets.count_to_sign_all, ("jyj-sfc",)),
        ("待签收 count (inbox), the duty office", tickets.count_to_sign_all, ("jyj-bgs", True)),
        ("sweep: selection", tickets.due_for_check, (now,)),
        ("sweep: one ticket", tickets.by_id, (1,)),
        ("sweep: its reminders", tickets.reminded, (1,)),
        ("rates / digest: the period", tickets.for_period, (week_start, week_end)),
        ("rates: one unit", tickets.for_period, (week_start, week_end, ["jyj-sfc"])),
        ("rates: ratings", tickets.ratings_in, (week_start, week_end)),
        ("review: 无人在岗 (unattended)", tickets.unattended_in, (week_start, week_end)),
        ("digest: overdue", tickets.overdue_rows, (now,)),
        ("超期 leader", tickets.overdue, (None, now)),
        ("超期 supervisor", tickets.overdue, (["jn-jyj", "s001"], now)),
        ("超期 duty office (its 代收 too)", tickets.overdue, (["jyj-bgs"], now, True)),
        ("dashboard: 当前超期, duty office", tickets.overdue_count, (now, ["jyj-bgs"], True)),
        ("digest: texts", tickets.texts_created, (week_start, week_end)),
        ("digest: the week's stored terms", tickets.period_terms, (week_start, week_end)),
        ("digest: first ticket", tickets.first_created, ()),
        ("digest: sent", tickets.digests_sent, ("2026-W48",)),
        ("healthz", outbox.health, (now, now - 86400)),
        ("outbox: claim", outbox.claim_due, (now,)),
        ("retention: outbox", outbox.prune_sent, (now - 90 * 86400, 10)),
        ("retention: inbound", inbound.prune, (now - 3 * 86400, 10)),
        ("recovery", inbound.lease_unfinished, (now, now)),
        ("directory", directory.get, ("jyj-sfc",)),
        *workbench_queries(week_start, week_end, now),
    ]


def workbench_queries(week_start: float, week_end: float, now: float):
    """The workbench's lists, search, dashboard and export (issue 12), as bench/inbox.py times them."""
    from handlers import dashboard
    from storage import inbox
    F = inbox.Filters
    unit, district, duty, everyone = (["jyj-sfc"], False), (["jn-jyj", "s001", "s002"], False), (["jyj-bgs"], True), \
        (None, False)
    cases = [
        ("inbox: handler, open", unit, F()), ("inbox: handler, all, newest", unit, F(state="all", sort="new")),
        ("inbox: supervisor", district, F()), ("inbox: supervisor, one school", district, F(state="all", unit="s001")),
        ("inbox: duty office", duty, F()), ("inbox: duty office, all", duty, F(state="all")),
        ("inbox: leader, open", everyone, F()), ("inbox: overdue", everyone, F(overdue=True)),
        ("inbox: due in 3 days", everyone, F(due_days=3)),
        ("inbox: category, all", everyone, F(state="all", category="fees")),
        ("inbox: kind, done", everyone, F(state="done", kind="suggestion")),
        ("inbox: category + school", everyone, F(state="all", category="burden", school="s001")),
        ("inbox: dates, newest", everyone, F(state="all", created_from=week_start, created_to=week_end, sort="new")),
        ("inbox: 代收", everyone, F(state="all", flags=("unattended",))),
        ("inbox: 复核", everyone, F(state="all", flags=("review",))),
        ("inbox: 仲裁", everyone, F(state="done", flags=("arbitration",))),
        ("inbox: 延期待审批", everyone, F(flags=("extension",))),
        ("inbox: 延期待审批, all states", district, F(state="all", flags=("extension",))),
        ("inbox: all, page 50", everyone, F(state="all")),
        ("search: all", everyone, F(state="all", q="资料费")), ("search: handler", unit, F(state="all", q="补课")),
        ("search: open, overdue", everyone, F(q="食堂", overdue=True)),
    ]
    out = [(name, lambda db, s=scope, f=f: inbox.page(db, s, f, now, 50 if "page 50" in name else 1), ())
           for name, scope, f in cases]
    out.append(("export: a batch", lambda db: inbox.batch(db, everyone[0:1] + (False,), F(state="all"), now, 1000),
                ()))
    for kind in ("week", "month"):
        p = dashboard.period_of(kind, now, TZ)
        for label, members in (("bureau", None), ("district", {"jn-jyj", "s001"})):
            out.append((f"dashboard: {label}, {kind}",
                        lambda db, p=p, m=members: dashboard.read(db, {}, m, p, now, TZ, "x"), ()))
    from handlers import rates
    month = dashboard.period_of("month", now, TZ)
    out.append(("rates detail: one unit's month (/w/rates)",
                lambda db: rates.traced(db, month.start, month.end, "jyj-sfc", now), ()))
    # a quarter, or a campaign's days, ended long before now: read by the span's ranges, not all that came after
    q_start, q_end = month.start - 200 * 86400, month.start - 16 * 86400
    out += [("rates detail: one unit's earlier half-year (/w/rates?from=&to=)",
             lambda db: rates.traced(db, q_start, q_end, "jyj-sfc", now), ()),
            ("rates detail: its figures", lambda db: rates.for_period(db, q_start, q_end, ["jyj-sfc"], now), ()),
            ("rates detail: a school's 表扬", tickets.praise_by_unit, (q_start, q_end, ["s001"]))]
    out += [("outbox: any waiting (every message's first question)", outbox.any_waiting, ()),
            ("topic terms: next", tickets.terms_todo, (now - 400 * 86400,)),
            ("topic terms: period", tickets.period_terms, (week_start, week_end, ["jyj-sfc"]))]
    return out


# The workbench's lists walk an index in the order they show and stop at their LIMIT (a page of 20, or the
# counts' cap of 2000): what they cost depends on how many tickets match, not on the history, and bench/inbox.py
# times them on a million tickets.
ORDERED_WALKS = ("inbox:", "search:", "export:")
# Tables that stay small (the directory, a few tokens and invites, handling failures awaiting staff).
SMALL_TABLES = ("units", "access_tokens", "staff_invites", "digest_topics", "inbound_failures", "heartbeat", "CONSTANT",
                "integrity_marks")  # (a few named marks)


def test_every_hot_and_periodic_query_uses_an_index(bulk, tmp_path):
    """Runs each query function on a real (bulk-built) database and EXPLAINs every statement it issues: a SCAN of
    anything but a small directory table (a whole table, or a whole index) fails."""
    import sqlite_utils
    path = tmp_path / "plans.db"
    shutil.copyfile(bulk, path)
    conn = sqlite3.connect(path, isolation_level=None)
    start, end = digest.bounds("2026-W48", TZ)
    # walking a partial index (e.g. only the open tickets) costs what it holds, not the history
    partial = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'index' AND sql LIKE '% WHERE %'")}
    bad: dict[str, list[str]] = {}
    for name, fn, args in hot_queries(start, end, scale.NOW):
        captured: list[tuple[str, list]] = []

        class Spy:  # the connection, recording each statement with its parameters
            def __getattr__(self, attr):
                return getattr(conn, attr)

            def execute(self, sql, params=()):
                captured.append((sql, list(params)))
                return conn.execute(sql, params)

        conn.execute("SAVEPOINT q")
        try:
            fn(sqlite_utils.Database(Spy()), *args)
        finally:
            conn.execute("ROLLBACK TO q")
            conn.execute("RELEASE q")
        assert captured, name
        for sql, params in captured:
            for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall():
                m = re.match(r"SCAN (?:TABLE )?(\w+)(?: USING (?:COVERING )?INDEX (\w+))?", row[3])
                if re.search(r"VIRTUAL TABLE INDEX \d+:M", row[3]):
                    continue  # the full-text index's MATCH: a lookup of the words, not a scan
                if m and m.group(2) and name.startswith(ORDERED_WALKS) and re.search(r"\bLIMIT\b", sql):
                    continue
                if m and m.group(1) not in SMALL_TABLES and m.group(2) not in partial:
                    bad.setdefault(name, []).append(f"{row[3]}  <-  {' '.join(sql.split())[:140]}")
    assert not bad, json.dumps(bad, ensure_ascii=False, indent=1)


# The span's ranges of the whole bureau, by time alone: a unit's own figures must not walk them (m058).
BUREAU_WIDE = re.compile(r"(SEARCH|SCAN) \w+ USING (?:COVERING )?INDEX (tickets_created|tickets_dispatched|"
                         r"tickets_resolved|tickets_rated|tickets_closed|ticket_events_rating) ")


def test_a_schools_quarter_trace_reads_its_own_tickets_and_ratings_not_the_bureaus(bulk, tmp_path):
    """A school's quarter trace (/w/rates/<unit>?period=2026-Q4: its lines, and the rating events its figure
    counts) reads the unit's ranges by unit and time, not the span's rows of every unit filtered by unit (~0.5 s
    at a million tickets before m058, bench/README.md "bureau10"); and it reads the same rows either way."""
    import sqlite_utils
    from handlers import rates
    path = tmp_path / "trace.db"
    shutil.copyfile(bulk, path)
    conn = sqlite3.connect(path, isolation_level=None)
    now = scale.NOW
    start, end = now - 184 * 86400, now - 2 * 86400
    school = conn.execute("SELECT unit_code FROM tickets WHERE unit_code LIKE 's%' AND dispatched_at >= ? AND "
                          "dispatched_at < ? GROUP BY 1 ORDER BY count(*) DESC LIMIT 1", [start, end]).fetchone()[0]
    captured: list[tuple[str, list]] = []

    class Spy:
        def __getattr__(self, attr):
            return getattr(conn, attr)

        def execute(self, sql, params=()):
            captured.append((sql, list(params)))
            return conn.execute(sql, params)

    db = sqlite_utils.Database(Spy())
    whole = sqlite_utils.Database(conn)
    all_praise = tickets.praise_by_unit(whole, start, end)
    for unit in (school, "jyj-sfc"):
        # the figure beside the trace, its 表扬 too (m065): the unit's own praise, the same count
        assert rates.for_period(db, start, end, [unit], now)[unit].praised == all_praise.get(unit, 0), unit
        assert tickets.praise_by_unit(db, start, end, [unit]) == (
            {unit: all_praise[unit]} if unit in all_praise else {}), unit
        parts = rates.traced(db, start, end, unit, now)
        ratings = tickets.ratings_in(db, start, end, [unit])
        # the same as reading the span's rows of every unit and keeping the unit's
        assert parts == rates.by_ticket(tickets.for_period(whole, start, end), start, end, unit, now,
                                        tickets.ratings_in(whole, start, end),
                                        tickets.misses_in(whole, start, end),
                                        tickets.cases_in(whole, start, end)), unit
        assert sorted(map(str, ratings)) == sorted(str(r) for r in tickets.ratings_in(whole, start, end)
                                                   if r["unit_code"] == unit), unit
        assert parts and ratings, unit  # the case has lines and ratings to trace
    assert all_praise.get(school), school  # ... and praise to count
    wide = [f"{row[3]}  <-  {' '.join(sql.split())[:120]}" for sql, params in captured
            for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params).fetchall() if BUREAU_WIDE.search(row[3])]
    assert not wide, "\n".join(wide)


# -- the rates of a period from its index ranges equal those from the whole history ---------------------------------

def test_period_rates_equal_the_full_history_rates(bulk):
    db = _conn(bulk)
    every = [tickets._decode(r) for r in db.query("SELECT * FROM tickets")]
    # the late departures the bulk path writes as the storage code does (m029), read whole, not by period
    departures = tickets.misses_in(db, 0, float("inf"))
    assert departures
    week = digest.week_of(scale.NOW, TZ)
    checked = 0
    for _ in range(8):
        week = digest.previous_week(week)
        start, end = digest.bounds(week, TZ)
        full = rates.compute([t for t in every if t["created_at"] < end], start, end, scale.NOW,
                             tickets.ratings_in(db, start, end), misses=tickets.misses_in(db, start, end),
                             cases=tickets.cases_in(db, start, end))
        fast = rates.for_period(db, start, end, now=scale.NOW)
        for unit, r in full.items():
            f = fast.get(unit, rates.Rates())
            assert (r.dispatched, r.response_due, r.accepted_in_time, r.resolved, r.resolved_in_time,
                    r.open_overdue, r.rated, r.satisfied, r.unrated) == \
                   (f.dispatched, f.response_due, f.accepted_in_time, f.resolved, f.resolved_in_time,
                    f.open_overdue, f.rated, f.satisfied, f.unrated), (week, unit)
            checked += r.dispatched
        one = rates.for_period(db, start, end, ["jyj-sfc"], now=scale.NOW)
        assert set(one) <= {"jyj-sfc"} and one.get("jyj-sfc") == fast.get("jyj-sfc")
    assert checked > 100


# -- the sweep over check_at sends exactly what a sweep over every open ticket sends --------------------------------

async def test_sweep_over_check_at_equals_a_sweep_over_every_open_ticket(bulk, make_config, tmp_path):
    """Two copies of the bulk database; one swept the old way (every watched ticket, every resolved ticket), the
    other through check_at; every two hours over ten days the same reminders go to the same people."""
    from handlers import followup
    from handlers.deadlines import gather
    results = []
    for mode in ("every", "check_at"):
        path = tmp_path / f"{mode}.db"
        shutil.copyfile(bulk, path)
        clock = FixedClock(scale.NOW)
        w = World(make_config, clock)
        w.config = make_config(storage={"path": str(path)}, directory={"csv": ""})
        await w.start()
        d = w.app[DISPATCHER]

        def old_sweep(db):
            now = clock.now()
            pushes = []
            for t in tickets.watched(db):
                pushes += d.watch._ticket(db, t, now)
            for t in tickets.awaiting_rating(db):  # one reminder, then 未评价 (issue 9.1)
                pushes += followup.rating_visit(db, t, now, d.desk)[1]
            queued = outbox.enqueue_replies(db, [r.to_dict() for r in pushes], "", now, source="deadlines")
            gather(db, now)  # each person's reminders of the sweep as one push, as sweep_tx does
            return queued

        visited = []
        for step in range(120):  # every two hours over ten days
            if mode == "every":
                await w.app[DB].run(old_sweep)
            else:
                ids = await w.app[DB].read(tickets.due_for_check, clock.now())
                visited.append(len(ids))
                await w.app[DB].run(d.sweep_tx, ids)
            clock.advance(7200)
        sent = await w.app[DB].run(lambda db: sorted(
            (r[0], json.loads(r[1])["content"]) for r in db.execute(
                "SELECT openid, payload FROM outbox WHERE source = 'deadlines'")))
        states = await w.app[DB].run(lambda db: db.execute(
            "SELECT group_concat(state) FROM (SELECT state FROM tickets ORDER BY id)").fetchone()[0])
        results.append((sent, states, visited))
        await w.stop()
    (sent_old, states_old, _), (sent_new, states_new, visited) = results
    assert sent_old and sent_new == sent_old
    assert states_new == states_old
    open_count = states_old.count("assigned") + states_old.count("accepted") + states_old.count("replied")
    # after the first catch-up visit, each sweep looks at what is due, far fewer than the open tickets
    assert max(visited[1:]) < open_count / 3, (visited[:10], open_count)


# -- reads are off the writer -----------------------------------------------------------------------------------

async def test_pages_never_run_on_the_writer(make_config, aiohttp_client):
    """The digest page reads on a reader thread. (/healthz does one one-row write on purpose: its answer is
    whether the database can be written now.)"""
    import threading

    from bot.app import CONFIG, MEDIA, SENDER, create_app
    from bot.web import PAGES, digest_link
    from tests.conftest import pause_jobs
    app = create_app(make_config(), clock=FixedClock(at("2026-11-30 10:00")))
    client = await aiohttp_client(app)
    db: Database = app[DB]
    url = digest_link(app[CONFIG], "2026-W48", "bureau").split("8080", 1)[1]
    # Nothing else may use the writer below: start-up's catch-up jobs over (not a fixed pause: a loaded machine
    # ran them past it), the loops that poll it (the outbox sender, media downloads) stopped, the writer idle
    await pause_jobs(app)
    await app[SENDER].stop()
    await app[MEDIA].stop()
    assert await db.idle(60)
    before = db.calls
    for _ in range(3):
        app[PAGES].clear()  # a build each time, not the cached page
        assert (await client.get(url)).status == 200
    assert db.calls == before  # not one call on the writer thread
    # and the writer being busy does not hold them up: held until the page is in (not a 1.5 s sleep raced
    # against a 1.2 s timeout)
    entered, gate = threading.Event(), threading.Event()

    def hold(_c) -> None:
        entered.set()
        gate.wait(60)
    blocked = asyncio.ensure_future(db.run(hold))
    try:
        while not entered.is_set():
            await asyncio.sleep(0.01)
        resp = await asyncio.wait_for(client.get(url), 60)
        assert resp.status == 200 and not blocked.done()
    finally:
        gate.set()
        await blocked


async def test_a_reader_cannot_write(tmp_path):
    db = Database(tmp_path / "r.db").start()
    try:
        with pytest.raises(sqlite3.OperationalError):
            await db.read(lambda c: c.execute("INSERT INTO units (code, name, kind) VALUES ('x', 'x', 'office')"))
        assert await db.read(lambda c: c.execute("SELECT count(*) FROM units").fetchone()[0]) == 0
    finally:
        db.close()


# -- retention ---------------------------------------------------------------------------------------------------

async def test_retention_prunes_sent_pushes_in_batches_and_never_tickets(bulk, make_config, tmp_path, monkeypatch):
    from bot.app import SCHEDULER
    path = tmp_path / "ret.db"
    shutil.copyfile(bulk, path)
    clock = FixedClock(scale.NOW)
    w = World(make_config, clock)
    w.config = make_config(storage={"path": str(path), "retention_days": 90}, directory={"csv": ""})
    await w.start()
    try:
        count = lambda sql: w.app[DB].read(lambda c: c.execute(sql).fetchone()[0])  # noqa: E731
        cutoff = scale.NOW - 90 * 86400
        old_sent = await count(f"SELECT count(*) FROM outbox WHERE status = 'sent' AND sent_at < {cutoff}")
        kept = await count(f"SELECT count(*) FROM outbox WHERE NOT (status = 'sent' AND sent_at < {cutoff})")
        counts = [await count(f"SELECT count(*) FROM {t}") for t in ("tickets", "ticket_events", "reminders")]
        assert old_sent > 1000
        sizes = []
        real = outbox.prune_sent
        import bot.scheduler as sched

        def spy(db, before, limit):  # the job deletes in batches: record each batch's size
            n = real(db, before, limit)
            sizes.append(n)
            return n
        monkeypatch.setattr(outbox, "prune_sent", spy)
        await w.app[SCHEDULER].get_job("prune-inbound").func()
        assert await count(f"SELECT count(*) FROM outbox WHERE status = 'sent' AND sent_at < {cutoff}") == 0
        assert await count("SELECT count(*) FROM outbox") == kept
        assert [await count(f"SELECT count(*) FROM {t}") for t in ("tickets", "ticket_events", "reminders")] \
            == counts
        assert sum(sizes) == old_sent and max(sizes) <= sched.PRUNE_BATCH and len(sizes) > 2
    finally:
        await w.stop()


@pytest.mark.slow
async def test_weekly_job_builds_the_digests_in_a_child_process(make_config):
    """The service's own path: the job prepares in a separate process, records on the writer, once per scope."""
    from bot.app import SCHEDULER, create_app
    from storage import staff
    from tests.conftest import running
    from tests.test_digest import fixture
    clock = FixedClock(at("2026-11-30 10:00"))
    app = create_app(make_config(digest={"separate_process": True}), clock=clock)
    async with running(app):
        app[SCHEDULER].pause()
        await app[DB].run(fixture)
        await app[DB].run(lambda db: [staff.bind(db, "o_lead", "jyj", "leader", "周局长", 0),
                                      staff.bind(db, "o_head", "jn-syxx", "supervisor", "赵校长", 0)])
        job = app[SCHEDULER].get_job("weekly-digest").func
        await job()
        await job()  # idempotent
        [lead] = await app[DB].run(outbox.list_for, "o_lead")
        [head] = await app[DB].run(outbox.list_for, "o_head")
        assert "留言周报" in json.loads(lead["payload"])["content"]
        assert "江南区实验小学上周留言周报" in json.loads(head["payload"])["content"]
        stored = await app[DB].read(tickets.topics, "2026-W48", "bureau")
        assert ("资料费", 5) in stored
        from storage import digest_pages
        page = await app[DB].read(digest_pages.get, "2026-W48", "jn-syxx")  # built in the child, stored
        assert page["scope_name"] == "江南区实验小学" and page["week"] == "2026-W48"


@pytest.mark.slow
async def test_a_page_the_job_has_not_stored_is_built_in_a_child_process(make_config, monkeypatch):
    """This week's page (周报 on demand) is not stored: with digest.separate_process it is built in a child, so
    the build never holds the serving process's GIL."""
    import aiohttp
    from bot.app import CONFIG, create_app
    from bot.web import digest_link
    from tests.conftest import running
    from tests.test_digest import fixture
    from tests.test_process import held_port

    def not_here(*args, **kwargs):
        raise AssertionError("built in the serving process")
    monkeypatch.setattr(digest, "build", not_here)  # the child imports its own, unpatched
    port = held_port()
    app = create_app(make_config(digest={"separate_process": True}), clock=FixedClock(at("2026-11-30 10:00")))
    async with running(app, port):
        await app[DB].run(fixture)
        url = digest_link(app[CONFIG], "2026-W48", "bureau").split("8080", 1)[1]
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}{url}") as resp:
                assert resp.status == 200 and "JY2611-0003" in await resp.text()


async def test_digest_page_is_built_once_for_simultaneous_readers(make_config, aiohttp_client, monkeypatch):
    from bot.app import CONFIG, create_app
    from bot.web import digest_link
    app = create_app(make_config(), clock=FixedClock(at("2026-11-30 10:00")))
    client = await aiohttp_client(app)
    builds = []
    real = digest.build
    monkeypatch.setattr(digest, "build", lambda *a, **k: builds.append(a[1]) or real(*a, **k))
    url = digest_link(app[CONFIG], "2026-W48", "bureau").split("8080", 1)[1]
    pages = await asyncio.gather(*(client.get(url) for _ in range(4)))
    assert [p.status for p in pages] == [200] * 4 and builds == ["2026-W48"]
    bad_week = digest_link(app[CONFIG], "0001-W01", "bureau").split("8080", 1)[1]
    assert (await client.get(bad_week)).status == 404  # a week before the calendar: not found, not a 500
    gone = digest_link(app[CONFIG], "2026-W48", "no-such-unit").split("8080", 1)[1]
    assert (await client.get(gone)).status == 404


async def test_checkpoints_run_beside_the_writer(tmp_path):
    """Commits never copy the WAL back themselves (autocheckpoint off on the writer); a thread of its own does,
    so the WAL stays small under a stream of writes."""
    import time as time_
    from storage import users
    db = Database(tmp_path / "c.db").start()
    try:
        assert await db.run(lambda c: c.execute("PRAGMA wal_autocheckpoint").fetchone()[0]) == 0
        for i in range(300):
            await db.run(users.touch, f"o{i}", float(i))
        deadline = time_.monotonic() + 5
        while db.checkpoints == 0 and time_.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert db.checkpoints >= 1
        assert await db.read(lambda c: c.execute("SELECT count(*) FROM users").fetchone()[0]) == 300
    finally:
        db.close()


async def test_the_sweep_writes_in_short_transactions_however_many_tickets_are_due(make_config, monkeypatch):
    """The first sweep after an upgrade visits every open ticket: each transaction takes as many as fit in
    SWEEP_SECONDS (at least one), so one slow visit never holds many others' time, and nothing is skipped."""
    import bot.scheduler as sched
    from bot.app import DISPATCHER, SCHEDULER, create_app
    from tests.conftest import running
    from tests.test_digest import add
    app = create_app(make_config(), clock=FixedClock(at("2026-11-30 10:00")))
    async with running(app):
        app[SCHEDULER].pause()
        d = app[DISPATCHER]
        now = d.clock.now()
        await app[DB].run(lambda db: [add(db, n, "jyj-sfc", created=now - 9 * 86400, accept_due=now - 8 * 86400,
                                          due=now - 86400, state="assigned") for n in range(1, 13)])
        await app[DB].run(lambda db: db.execute("UPDATE tickets SET check_at = 0"))
        visits, batches = [], []
        real_visit, real_some = d.watch.visit, d.sweep_some_tx

        def slow_visit(db, ticket, at_):
            visits.append(ticket["id"])
            time.sleep(0.015)  # a visit costing 15 ms: two fit in no transaction
            return real_visit(db, ticket, at_)

        def some(db, ids, seconds):
            before = len(visits)
            out = real_some(db, ids, seconds)
            batches.append(len(visits) - before)
            return out
        monkeypatch.setattr(d.watch, "visit", slow_visit)
        monkeypatch.setattr(d, "sweep_some_tx", some)
        await app[SCHEDULER].get_job("deadlines").func()
        assert sorted(visits) == list(range(1, 13))  # every due ticket visited once
        assert max(batches) <= 2 and len(batches) >= 6, batches
        assert sched.SWEEP_SECONDS <= 0.05


async def test_the_sweep_merges_each_persons_reminders_in_short_transactions(make_config, monkeypatch):
    """The sweep's last step (each person's held reminders as one push) ran as one transaction over up to 5,000
    held rows: after the first sweep of an upgrade at a million tickets it held the write lock 160-460 ms, and a
    person whose reminders fell on both sides of the 5,000 got two pushes. It now takes one person at a time, as
    many as fit in SWEEP_SECONDS: each person still gets exactly one push with all their reminders."""
    import bot.scheduler as sched
    import handlers.deadlines as deadlines
    from bot.app import DISPATCHER, SCHEDULER, create_app
    from storage import staff
    from tests.conftest import running
    from tests.test_digest import add
    app = create_app(make_config(), clock=FixedClock(at("2026-11-30 10:00")))
    units = ["jyj-sfc", "jyj-zsc", "jyj-jjc", "jyj-pxc", "jyj-ksy", "jyj-aqc"]
    async with running(app):
        app[SCHEDULER].pause()
        d = app[DISPATCHER]
        now = d.clock.now()

        def setup(db):
            for i, unit in enumerate(units):
                staff.bind(db, f"o_h{i}", unit, "handler", f"办理人{i}", 0)
            for n in range(1, 3 * len(units) + 1):  # interleaved: each person's reminders are far apart
                add(db, n, units[n % len(units)], created=now - 9 * 86400, accept_due=now - 8 * 86400,
                    due=now - 86400, state="assigned")
            db.execute("UPDATE tickets SET check_at = 0")
        await app[DB].run(setup)
        released, batches = [], []
        real_release, real_some = deadlines._release, d.gather_some_tx

        def slow_release(db, openid, at_):
            released.append(openid)
            time.sleep(0.015)  # merging one person's reminders costing 15 ms: two fit in no transaction
            return real_release(db, openid, at_)

        def some(db, seconds):
            before = len(released)
            out = real_some(db, seconds)
            batches.append(len(released) - before)
            return out
        monkeypatch.setattr(deadlines, "_release", slow_release)
        monkeypatch.setattr(d, "gather_some_tx", some)
        await app[SCHEDULER].get_job("deadlines").func()
        assert sorted(released) == sorted(f"o_h{i}" for i in range(len(units)))  # each person once
        assert max(batches) <= 2 and len(batches) >= 3, batches
        assert sched.SWEEP_SECONDS <= 0.05
        pushes = await app[DB].run(lambda db: db.execute(
            "SELECT openid, payload FROM outbox WHERE source = 'deadlines' AND channel = 'wechat'").fetchall())
        by_person = {}
        for openid, payload in pushes:
            by_person.setdefault(openid, []).append(json.loads(payload)["content"])
        assert sorted(by_person) == sorted(f"o_h{i}" for i in range(len(units)))
        for openid, texts_ in by_person.items():
            assert len(texts_) == 1, texts_  # one push, every one of the person's 3 tickets in it
            assert len(re.findall(r"JY2611-\d{4}", texts_[0])) == 3, texts_[0]
        assert await app[DB].run(lambda db: db.execute("SELECT count(*) FROM held_pushes").fetchone()[0]) == 0


# -- the per-unit-per-day counts (m017) follow every change the real code makes -------------------------------------

async def test_unit_day_counts_kept_by_triggers_equal_a_fresh_count_after_real_conversations(make_config):
    """Every path a ticket takes through the real dispatcher (签收 late and in time, 回复, 办结 late, redo and
    review, 转派, 退回, 延期, withdrawal, rating, 未评价, praise): the counts the triggers kept equal the counts
    taken afresh from the final tickets, and the rates read from them equal `compute` over every ticket."""
    from storage import migrations, staff
    w = await World(make_config, FixedClock(at("2026-09-29 10:00"))).start()
    db = w.app[DB]
    await db.run(lambda d: [staff.bind(d, "o_h", "jyj-sfc", "handler", "李老师", 0),
                            staff.bind(d, "o_sup", "jyj-sfc", "supervisor", "王处长", 0),
                            staff.bind(d, "o_lead", "jyj", "leader", "周局长", 0)])
    n = {p: await file(w, f"o_{p}") for p in ("late", "transfer", "bounce", "ext", "redo", "gone", "unrated", "ok")}
    await w.say("o_h", f"签收 {n['ok']}")
    await w.say("o_h", f"办结 {n['ok']} 已退费。")
    await w.say("o_ok", "1")
    await w.say("o_lead", f"转派 {n['transfer']} 招生处")
    await w.say("o_h", f"退回 {n['bounce']} 不属本处职责，应由区教育局处理")
    await w.say("o_h", f"延期 {n['ext']} 3 需要到学校现场核查")
    await w.say("o_lead", f"同意延期 {n['ext']}")
    await w.say("o_gone", f"撤回 {n['gone']}")
    await w.say("o_gone", f"确认撤回 {n['gone']}")
    for p in ("redo", "unrated"):
        await w.say("o_h", f"签收 {p and n[p]}")
        await w.say("o_h", f"办结 {n[p]} 已核实处理。")
    await w.say("o_redo", "3 还是没解决")
    w.clock.advance(2 * 86400)
    await w.say("o_h", f"签收 {n['redo']}")
    await w.say("o_h", f"办结 {n['redo']} 已重新办理。")
    await w.say("o_redo", "3 还是不行")  # 复核: to the duty office
    for _ in range(6):  # days pass: 催办, 未评价
        w.clock.advance(86400)
        await w.sweep()
    await w.say("o_h", f"签收 {n['late']}")
    await w.say("o_h", f"签收 {n['ext']}")
    await w.say("o_h", f"办结 {n['late']} 已处理，迟了几天。")
    for text in ("感谢江南实验学校王老师耐心辅导孩子", "0", "0", "1"):  # praise
        await w.say("o_praise", text)

    def counts(d):
        return sorted(r for r in d.execute("SELECT * FROM unit_days") if any(r[2:]))
    kept = await db.run(counts)

    def fresh(d):
        d.execute("SAVEPOINT fresh")
        d.execute("DELETE FROM unit_days")
        migrations._backfill_credit_days(d, m050=True)  # as the triggers count since m050
        out = counts(d)
        d.execute("ROLLBACK TO fresh")
        d.execute("RELEASE fresh")
        return out
    assert kept == await db.run(fresh)
    units = {r[1] for r in kept}
    assert {"jyj-sfc", "jyj-zsc", "jyj-bgs"} <= units, units  # transferred, bounced and reviewed ones moved

    every = await db.run(lambda d: [tickets._decode(r) for r in d.query("SELECT * FROM tickets")])
    now, checked = w.clock.now(), 0
    for start, end in [(at("2026-09-28 00:00"), at("2026-10-05 00:00")), (at("2026-10-01 00:00"), at("2026-11-01 00:00")),
                       (at("2026-09-29 00:00"), at("2026-09-30 00:00"))]:
        misses = await db.read(tickets.misses_in, start, end)  # late departures (m029): both read them alike
        praise = await db.read(tickets.praise_by_unit, start, end)  # the one rule for praise (both read it)
        ratings = await db.read(tickets.ratings_in, start, end)  # 满意率 counts the rating events (both)
        cases = await db.read(tickets.cases_in, start, end)  # kept 签收 cases (m066): both read them alike
        full = rates.with_praise(rates.compute(every, start, end, now, ratings, misses=misses, cases=cases), praise)
        fast = await db.read(rates.for_period, start, end, None, now)
        assert {u: r for u, r in full.items() if r != rates.Rates()} == \
               {u: r for u, r in fast.items() if r != rates.Rates()}, (start, end)
        checked += sum(r.dispatched + r.resolved + r.open_overdue + r.rated for r in full.values())
    assert checked >= 10
    await w.stop()


# -- the workbench's lists: the indexed reads give what a plain query over every ticket gives -----------------------

def _indexed_copy(bulk: Path, tmp_path: Path):
    import sqlite_utils
    from storage import search
    path = tmp_path / "lists.db"
    shutil.copyfile(bulk, path)
    db = sqlite_utils.Database(sqlite3.connect(path, isolation_level=None))
    db.execute("BEGIN")
    for i, text in db.execute("SELECT id, text FROM tickets").fetchall():
        db.execute("INSERT INTO tickets_fts (rowid, words) VALUES (?, ?)", [i, search.words_for_index(text)])
    db.execute("COMMIT")
    return db


def test_inbox_pages_and_counts_equal_a_plain_query_over_every_ticket(bulk, tmp_path):
    """Every filter, both orders, with and without search: the page's rows and each count equal a query that
    reads every ticket without any index (NOT INDEXED) and without a cap on the search's matches."""
    from storage import inbox, lifecycle, search
    db = _indexed_copy(bulk, tmp_path)
    now = scale.NOW
    F = inbox.Filters

    def plain(scope, f):
        where, args = inbox._where(scope, Filters(**{**f.__dict__, "q": ""}), now)
        rows = db.execute(f"SELECT id, state, due_at FROM tickets NOT INDEXED WHERE {where} "
                          f"ORDER BY {inbox._order(f)}", args).fetchall()
        if f.q:
            match = search.match_expression(f.q)
            found = {r[0] for r in db.execute("SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ?", [match])}
            rows = [r for r in rows if r[0] in found]
        return rows

    Filters = F
    scopes = [(None, False), (["jyj-sfc"], False), (["jn-jyj", "s001", "s002", "s003"], False), (["jyj-bgs"], True)]
    filters = [F(), F(state="all"), F(state="done", sort="new"), F(state="closed"), F(overdue=True), F(due_days=5),
               F(state="accepted"), F(state="assigned", sort="new", category="fees"), F(state="resolved", overdue=True),
               F(state="all", category="fees"), F(state="all", kind="suggestion", sort="new"),
               F(state="all", school="s001"), F(state="all", created_from=now - 60 * 86400, created_to=now - 30 * 86400),
               F(state="all", flags=("unattended",)), F(state="all", flags=("extension",)), F(state="all", q="收费"), F(q="作业"), F(state="done", q="食堂"),
               F(state="all", q="资料费", category="fees", sort="new"), F(overdue=True, q="校门口")]
    checked = 0
    for scope in scopes:
        for f in filters:
            got = inbox.page(db, scope, f, now, 2, 5)
            want = plain(scope, f)
            assert [r["id"] for r in got["rows"]] == [r[0] for r in want[5:10]], (scope, f)
            assert got["total"] == min(len(want), inbox.COUNT_CAP), (scope, f)
            # each tab counts what its link lists: the state tabs' links drop 超期 (the other filters stay)
            every = plain(scope, Filters(**{**f.__dict__, "state": "all", "overdue": False}))
            assert got["counts"]["all"] == len(every)
            assert got["counts"]["open"] == sum(r[1] in lifecycle.OPEN for r in every), (scope, f)
            assert got["counts"]["done"] == len(every) - got["counts"]["open"]
            late = plain(scope, Filters(**{**f.__dict__, "state": "open", "overdue": True}))
            assert got["counts"]["overdue"] == len(late), (scope, f)
            checked += len(want)
    assert checked > 1000


def test_a_search_matching_very_many_tickets_looks_among_the_newest(bulk, tmp_path, monkeypatch):
    from storage import inbox
    db = _indexed_copy(bulk, tmp_path)
    matches = [r[0] for r in db.execute("SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH '\"收费\"' "
                                        "ORDER BY rowid DESC")]
    assert len(matches) > 20
    monkeypatch.setattr(inbox, "SEARCH_LIMIT", 10)
    got = inbox.page(db, (None, False), inbox.Filters(state="all", q="收费", sort="new"), scale.NOW, 1, 50)
    assert got["search_capped"] and [r["id"] for r in got["rows"]] == matches[:10]
    monkeypatch.setattr(inbox, "SEARCH_LIMIT", len(matches))
    got = inbox.page(db, (None, False), inbox.Filters(state="all", q="收费"), scale.NOW)
    assert not got["search_capped"] and got["counts"]["all"] == len(matches)


async def test_topic_terms_are_cut_in_the_background_and_the_dashboard_topics_equal_cutting_the_texts(
        bulk, make_config, tmp_path, monkeypatch):
    """After an upgrade the job cuts the new tickets and the older ones back to TERMS_DAYS, newest first, then
    stops for good; a later ticket is cut on the next run; a ticket whose text changes is cut again by the
    dashboard. The topics drawn from stored terms equal those cut from the texts."""
    from bot import scheduler
    from bot.app import JOBS
    from handlers import dashboard, topics
    path = tmp_path / "terms.db"
    shutil.copyfile(bulk, path)
    monkeypatch.setattr(scheduler, "TERMS_BATCH", 40)
    clock = FixedClock(scale.NOW)
    w = World(make_config, clock)
    w.config = make_config(storage={"path": str(path)}, directory={"csv": ""})
    await w.start()
    db = w.app[DB]
    since = scale.NOW - scheduler.TERMS_DAYS * 86400
    await w.app[JOBS].topic_terms()
    done = await db.run(lambda d: {r[0] for r in d.execute("SELECT ticket_id FROM ticket_terms")})
    recent = await db.run(lambda d: {r[0] for r in d.execute("SELECT id FROM tickets WHERE created_at >= ?", [since])})
    assert done == recent | {0} and len(recent) > 100
    assert await w.app[JOBS].topic_terms() == 0  # finished: two index seeks, nothing to do
    number = await file(w, "o_new")
    assert await w.app[JOBS].topic_terms() == 1
    t = await w.ticket(number)
    await db.run(lambda d: d.execute("UPDATE tickets SET text = text || '，食堂饭菜也很差' WHERE id = ?", [t["id"]]))
    assert await db.run(lambda d: d.execute("SELECT count(*) FROM ticket_terms WHERE ticket_id = ?",
                                            [t["id"]]).fetchone()[0]) == 0
    for kind in ("week", "month"):
        p = dashboard.period_of(kind, scale.NOW, TZ)
        texts_ = await db.read(lambda d: [x for _, x in tickets.texts_created(d, p.start, p.end)])
        tokenizer = w.app[DISPATCHER].router.tokenizer
        d = await db.read(dashboard.read, {}, None, p, scale.NOW, TZ, "全局", tokenizer)
        assert d.topics == digest.hot_topics(texts_, tokenizer) and d.topics, kind
        assert topics.hot_from([(None, x) for x in texts_], tokenizer) == d.topics
    await w.stop()


async def test_digest_topics_count_the_stored_terms_and_equal_cutting_every_text_of_the_week(
        make_config, tmp_path, monkeypatch):
    """A digest's hot topics, the page built live and the weekly job's alike, count each ticket's terms as the
    minute job stored them and cut now only the tickets it has not reached (or whose text changed since): on the
    bulk builder's tickets of one busy week (~1,300 of 1,500 in 8.5 days: a week at a million tickets has ~1,900)
    they equal cutting every text of the week again, as the digest did, for the bureau, the busiest units and an
    office with units under it."""
    from collections import Counter

    from bot.app import JOBS
    from handlers import topics
    from storage import directory
    path = tmp_path / "topics.db"
    builder = scale.Builder(path, 1500, seed=11)
    builder.span = 8.5 * 86400
    builder.build()
    w = World(make_config, FixedClock(scale.NOW))
    w.config = make_config(storage={"path": str(path)}, directory={"csv": ""})
    await w.start()
    db, tokenizer = w.app[DB], w.app[DISPATCHER].router.tokenizer
    week = digest.previous_week(digest.week_of(scale.NOW, TZ))
    start, end = digest.bounds(week, TZ)
    units = await db.read(lambda d: {u["code"]: u for u in directory.all_units(d)})

    async def cut_every_text(scopes=None) -> dict:  # the digest's topics before: every text of the week cut again
        texts_ = await db.read(tickets.texts_created, start, end)
        if scopes is None:
            busiest = [u for u, _ in Counter(u for u, _ in texts_).most_common(3)]
            office = max((c for c in units if any(u["parent"] == c for u in units.values())),
                         key=lambda c: sum(u in digest.scope_members(units, c) for u, _ in texts_))
            scopes = ("bureau", *busiest, office)
        out = {}
        for scope in scopes:
            members = digest.scope_members(units, scope)
            out[scope] = digest.hot_topics([x for u, x in texts_ if members is None or u in members], tokenizer)
        return out

    cut = []
    real = topics.terms_of
    monkeypatch.setattr(topics, "terms_of", lambda texts_, tok=None: cut.append(len(texts_)) or real(texts_, tok))

    async def live(scopes) -> dict:  # the page's build, one scope at a time (a unit's reads only its tickets)
        return {s: await db.read(lambda d: digest.build(d, week, scale.NOW, TZ, tokenizer, s).topics)
                for s in scopes}
    expected = await cut_every_text()
    assert len(expected) == 5 and len(expected["bureau"]) == 8, expected  # not a vacuous match
    assert sum(len(t) >= 2 for t in expected.values()) == 5, expected
    week_total = await db.read(lambda d: d.execute("SELECT count(*) FROM tickets WHERE created_at >= ? "
                                                   "AND created_at < ?", [start, end]).fetchone()[0])
    assert week_total > 1000
    cut.clear()
    assert await live(expected) == expected and cut[0] == week_total  # no terms stored yet: the bureau's all cut now
    await w.app[JOBS].topic_terms()
    cut.clear()
    assert await live(expected) == expected and sum(cut) == 0  # every ticket's stored terms, not one text cut
    changed = await db.run(lambda d: [r[0] for r in d.execute(
        "UPDATE tickets SET text = text || '，另外校车每天都迟到很久' WHERE id IN (SELECT id FROM tickets "
        "WHERE created_at >= ? AND created_at < ? ORDER BY id LIMIT 120) RETURNING id", [start, end])])
    expected = await cut_every_text()
    assert any(t == "校车" or "校车" in t for t, _ in expected["bureau"]), expected["bureau"]
    cut.clear()
    assert await live(["bureau"]) == {"bureau": expected["bureau"]} and cut == [len(changed)]
    # the weekly job (its week not yet sent in this copy) counts the same way and stores what the page showed
    await db.run(lambda d: d.execute("DELETE FROM digests WHERE week = ?", [week]))
    await db.run(lambda d: d.execute("DELETE FROM digest_pages WHERE week = ?", [week]))
    cut.clear()
    await w.app[JOBS].weekly_digest()
    assert cut == [len(changed)]
    stored = await db.read(lambda d: {r[0]: [tuple(t) for t in json.loads(r[1])] for r in d.execute(
        "SELECT scope, topics FROM digest_topics WHERE week = ?", [week])})
    assert "bureau" in stored and len(stored) >= 3, stored.keys()
    assert stored == await cut_every_text(list(stored))
    await w.stop()


async def test_terms_of_another_cut_are_dropped_and_cut_again_never_counted_beside_the_new(make_config, tmp_path):
    """The stored terms are those of the service's cut (handlers.topics.cut_version). A school added to the
    directory changes the router's dictionary at the next start: every stored term is dropped (short writes) and
    cut again with the new one, and the digest counts only those; a start with the same cut keeps them."""
    from bot.app import JOBS
    from bot.demo import DEMO_DIRECTORY
    from handlers import topics
    from tests.test_digest import add
    csv = tmp_path / "directory.csv"
    csv.write_text(DEMO_DIRECTORY.read_text(encoding="utf-8"), encoding="utf-8")
    path = tmp_path / "cut.db"
    clock = FixedClock(at("2026-11-30 10:00"))
    week = "2026-W48"
    start, end = digest.bounds(week, TZ)
    said = ["江南区鹭鸣湖小学食堂饭菜太差", "江南区鹭鸣湖小学门口接送拥堵", "江南区鹭鸣湖小学资料费不给收据"]

    async def started():
        w = World(make_config, clock)
        w.config = make_config(storage={"path": str(path)}, directory={"csv": str(csv)})
        return await w.start()

    async def stored(w) -> dict:
        return await w.app[DB].read(lambda d: dict(d.execute(
            "SELECT ticket_id, terms FROM ticket_terms WHERE ticket_id > 0").fetchall()))

    w = await started()
    await w.app[DB].run(lambda d: [add(d, i, "jyj-sfc", created=start + 3600 * i, accept_due=end, due=end + 86400,
                                       text=said[i % 3]) for i in range(1, 10)])
    assert await w.app[JOBS].topic_terms() == 10  # nine tickets and the end of the way back
    before, old_cut = await stored(w), topics.cut_version(w.app[DISPATCHER].router.tokenizer)
    await w.stop()
    with csv.open("a", encoding="utf-8") as f:
        f.write("jn-lmhxx,江南区鹭鸣湖小学,school,江南区,jn-jyj,,\n")
    w = await started()
    tokenizer = w.app[DISPATCHER].router.tokenizer
    assert topics.cut_version(tokenizer) != old_cut
    assert await w.app[JOBS].topic_terms() == 10  # all cut again with the school's name as one word
    texts_ = await w.app[DB].read(lambda d: dict(d.execute("SELECT id, text FROM tickets").fetchall()))
    after = await stored(w)
    assert after == {i: " ".join(t) for i, t in zip(texts_, topics.terms_of(list(texts_.values()), tokenizer))}
    assert "江南区鹭鸣湖小学" in after[1].split() and "江南区鹭鸣湖小学" not in before[1].split(), (before, after)
    built = await w.app[DB].read(lambda d: digest.build(d, week, clock.now(), TZ, tokenizer))
    assert built.topics == digest.hot_topics(list(texts_.values()), tokenizer) and built.topics
    await w.stop()
    w = await started()
    assert await w.app[JOBS].topic_terms() == 0 and await stored(w) == after  # the same cut: nothing redone
    await w.stop()


def test_capped_counts_are_exact_below_the_cap_and_the_cap_above_it(bulk, tmp_path, monkeypatch):
    from storage import inbox, lifecycle
    db = _indexed_copy(bulk, tmp_path)
    F = inbox.Filters
    for f in (F(), F(state="all", category="fees"), F(state="done", kind="inquiry"), F(state="accepted"),
              F(state="all", q="收费")):
        every = db.execute("SELECT state FROM tickets NOT INDEXED WHERE " + inbox._where(
            (None, False), F(**{**f.__dict__, "state": "all", "q": ""}), scale.NOW)[0],
            inbox._where((None, False), F(**{**f.__dict__, "state": "all", "q": ""}), scale.NOW)[1]).fetchall()
        if f.q:
            every = None  # the search's counts are its own pass; checked through page() below
        for cap in (3, 40, 10_000):
            monkeypatch.setattr(inbox, "COUNT_CAP", cap)
            page = inbox.page(db, (None, False), f, scale.NOW)
            got = page["counts"]
            if not f.q:  # the page itself, whichever way it was read
                where, args = inbox._where((None, False), f, scale.NOW)
                want = [r[0] for r in db.execute(f"SELECT id FROM tickets NOT INDEXED WHERE {where} "
                                                 f"ORDER BY {inbox._order(f)} LIMIT 20", args)]
                assert [r["id"] for r in page["rows"]] == want, (f, cap)
            if every is not None:
                open_ = sum(s in lifecycle.OPEN for (s,) in every)
                assert got["open"] == min(open_, cap) and got["all"] == min(len(every), cap), (f, cap)
                assert got["done"] == min(len(every) - open_, cap), (f, cap)
            assert got["all"] <= cap and got["done"] <= cap and got["open"] <= cap
