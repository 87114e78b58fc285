"""The fifth audit (brief priority 1, "Trust and people"): the policy questions the fourth left open (a school with
nobody bound, a rival's staff in 群众评议, a paced burst of survey answers, tickets against their events in
`verify-rates`) decided and built, and new attacks on what was built lately. Attacked through the sandbox (WeChat's
encrypted XML over real HTTP), the workbench over real HTTP, the command line and real SQLite files. Each test
failed before its fix."""
from __future__ import annotations

import pytest

from storage import tickets

from tests.dialog import LEADER, SCHOOL, TZ, at, file_ticket, talk
from tests.test_audit2 import answer_survey
from tests.test_citizen_dialogs import PARENT
from tests.test_security import env  # noqa: F401  (a fixture)

HOMEWORK = "学校作业太多了，孩子每天写到晚上十一点，我要投诉"
RIVAL = "o_demo_staff_wcxx"  # 江北区文昌小学's handler: another district's school


async def _ticket(d, number: str) -> dict:
    return await d.db(tickets.get, number)


# -- A2. 群众评议 and 表扬 are the public's: no staff of any unit ------------------------------------------------------
async def test_a_rival_schools_staff_cannot_answer_a_schools_survey(dialog):
    """Only the unit's own staff, the unit above and leaders were refused: 江北区文昌小学's handler could mark
    江南区实验小学 down (they compete in the same ranking of schools), and a teacher who answered before being bound
    at another school stayed counted. Anyone bound as staff, of any unit, is not the public."""
    from bot.app import DB, DISPATCHER
    from handlers.survey_results import survey_results
    from storage import staff
    d = dialog
    reply = await answer_survey(d, RIVAL)
    assert "不能参加" in reply and "评议完成" not in reply, reply
    assert "评议完成" in await answer_survey(d, "o_parent_a")
    assert "评议完成" in await answer_survey(d, "o_parent_b")
    code = await d.db(staff.create_invite, "jn-yyxx", "handler", "育英小学·王老师", d.clock.now(), 86400)
    await talk(d, "o_parent_b", f"绑定 {code}", expect="绑定")  # now the staff of a rival school
    campaign = d.app[DISPATCHER].campaign
    results = await d.app[DB].read(survey_results, campaign.p.surveys["school-2026"], campaign.p.surveys, 1)
    assert results["jn-syxx"].n == 1


async def test_praise_from_a_rival_schools_future_staff_is_not_counted(dialog):
    """Two schools' teachers praising each other before binding their accounts counted in 表扬 (the review's praise
    component, the public board's 服务标兵): the same predicate as 群众评议 now leaves out anyone bound anywhere."""
    from bot.app import DB
    from handlers import review
    from storage import staff
    from tests.dialog import send
    d = dialog
    for who in ("o_teacher_elsewhere", "o_real_parent"):
        await send(d, who, type="scan", scene="school:jn-syxx")
        await talk(d, who, "感谢江南区实验小学的老师们耐心辅导孩子，非常负责", expect="请核对")
        await talk(d, who, "1", expect="感谢您的表扬")
    code = await d.db(staff.create_invite, "jn-yyxx", "handler", "育英小学·新老师", d.clock.now(), 86400)
    await talk(d, "o_teacher_elsewhere", f"绑定 {code}", expect="绑定")
    d.advance(at("2026-12-01 10:00") - d.clock.now())
    now = d.clock.now()
    got = await d.app[DB].read(lambda c: review.build(c, "2026-11", TZ, review.Weights(), now=now))
    assert got.unit("jn-syxx").figures.praise == 1


# -- A1. a school with nobody bound: decided again by audit10 (tests/test_audit10.py) ------------------------------
# It was scored 在岗 = 0 and ranked last; a bureau cannot trust a 0.0 that measures no service. It is now listed
# apart as 不参与排名（无在岗人员）with its 代收 count and a hint to the leader:
# tests/test_audit10.py::test_a_school_with_nobody_bound_is_listed_apart_not_ranked_at_zero.


async def test_verify_rates_finds_a_ticket_edited_behind_its_events(dialog, tmp_path, capsys):
    """Someone with the database file moved a late 签收 inside its window and turned a 不满意 into 满意: the counters
    follow the tickets (triggers), so `verify-rates` said 核对无误 and `--repair` had nothing to say. The tickets
    are now checked against their append-only events: each edited ticket is named with what no event backs, exit
    1, and `--repair` (which rewrites counters only) neither touches nor hides it. A repair that did rewrite
    counters leaves a line in the audit log with what they held."""
    import sqlite3

    from bot.cli import main
    from tests.conftest import write_cli_config
    d = dialog
    late = await file_ticket(d, PARENT, HOMEWORK, scene="school:jn-syxx", consent="1")
    rejected = await file_ticket(d, "o_parent_b", HOMEWORK, scene="school:jn-syxx", consent="1")
    d.advance(3 * 86400)  # past the 签收 window
    await talk(d, SCHOOL, f"办结 {late} 已与家长沟通，作业量已调整")
    await talk(d, SCHOOL, f"办结 {rejected} 已与家长沟通，作业量已调整")
    await talk(d, "o_parent_b", "3 没有任何改变", expect="重新办理")
    path = str(tmp_path / "demo.db")
    config = str(write_cli_config(tmp_path / "c.toml", path))
    assert main(["verify-rates", "--period", "2026-11", "--config", config]) == 0
    capsys.readouterr()
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE tickets SET accepted_at = dispatched_at + 600 WHERE number = ?", [late])
        conn.execute("UPDATE tickets SET rating = 1, state = 'closed' WHERE number = ?", [rejected])
    assert main(["verify-rates", "--period", "2026-11", "--config", config]) == 1
    out = capsys.readouterr().out
    assert f"{late}：签收时间没有对应的操作记录" in out and f"{rejected}：评价" in out and "核对无误" not in out, out
    assert main(["verify-rates", "--period", "2026-11", "--repair", "--config", config]) == 1
    assert f"{late}：签收时间" in capsys.readouterr().out
    # a counter row edited by hand: repaired, and what it held is kept in the audit log
    with conn:
        conn.execute("UPDATE unit_days SET dispatched = dispatched + 5 WHERE unit_code = 'jn-syxx'")
    main(["verify-rates", "--period", "2026-11", "--repair", "--config", config])
    assert "已按留言记录重算" in capsys.readouterr().out
    kept = conn.execute("SELECT detail FROM audit_log WHERE action = 'verify-rates:repair'").fetchall()
    assert len(kept) == 1 and "jn-syxx dispatched" in kept[0][0], kept


def test_the_check_against_events_reads_only_index_ranges(tmp_path):
    """At a million tickets the check of tickets against their events must cost the period: each part is one range
    of a tickets index and, per ticket, a look-up of its own events (EXPLAIN QUERY PLAN: no SCAN anywhere)."""
    import sqlite_utils

    from storage import integrity, migrations
    db = sqlite_utils.Database(tmp_path / "t.db")
    migrations.migrate(db)
    parts = integrity._backed_sql()
    assert len(parts) == 6
    for what, sql in parts:
        plan = " | ".join(r[3] for r in db.execute("EXPLAIN QUERY PLAN " + sql, [0.0, 1.0]))
        assert plan.startswith("SEARCH t USING INDEX tickets_") and "SCAN" not in plan, (what, plan)
        assert "SEARCH e USING INDEX ticket_events_ticket" in plan or "SEARCH l USING INDEX ticket_events_ticket" \
            in plan, (what, plan)


# -- A3. a burst paced under burst_per_hour -------------------------------------------------------------------------
async def _answer(d, openid: str, score: str, scene: str = "survey:school-2026:jn-syxx") -> str:
    from tests.dialog import send
    reply = await send(d, openid, type="scan", scene=scene)
    for _ in range(12):
        if "评议完成" in reply or "第" not in reply:
            return reply
        reply = await talk(d, openid, "0" if "没有请回复 0" in reply else score if "1–5" in reply else "1")
    return reply


@pytest.mark.parametrize("varied", [False, True])
async def test_a_paced_burst_of_new_accounts_is_caught(dialog, varied):
    """More answers than `burst_per_hour` within an hour are a burst; the same answers paced at one an hour from
    fresh accounts (each waiting out `new_follower_minutes` after following) all counted, unmarked. Now, through
    one unit within 24 hours, more than `new_follower_per_day` answers from accounts that followed less than a
    day before: the leaders are told; when nine in ten are the same answer sheet
    (one hand, many accounts) they are left out and shown as a burst. A parent who followed earlier is counted
    whatever happens, and new parents whose answers differ stay counted."""
    from bot.app import DB, DISPATCHER
    from handlers.survey_results import survey_results
    from tests.dialog import heard, send
    d = dialog
    campaign = d.app[DISPATCHER].campaign
    campaign.p.new_follower_per_day = 4
    await send(d, "o_parent_longtime", type="scan", scene="school:jn-syxx")  # followed long before
    d.advance(5 * 86400)
    assert "评议完成" in await _answer(d, "o_parent_longtime", "2")
    for i in range(6):
        d.advance(50 * 60)  # one every 50 minutes: far under burst_per_hour
        await send(d, f"o_fresh_{i}", type="scan", scene="school:jn-syxx")  # follows
        d.advance(15 * 60)  # and each waits past new_follower_minutes after following
        assert "评议完成" in await _answer(d, f"o_fresh_{i}", str(3 + i % 3) if varied else "5")
    results = await d.app[DB].read(survey_results, campaign.p.surveys["school-2026"], campaign.p.surveys, 1)
    unit = results["jn-syxx"]
    assert (unit.n, unit.burst) == ((7, 0) if varied else (1, 6)), (unit.n, unit.burst)
    await heard(d, LEADER, expect=["江南区实验小学", "新关注", "不计入得分" if not varied else "已照常计入"])


# -- B. the spool: only the service's own files are messages --------------------------------------------------------
@pytest.mark.parametrize("opened", ["folder", "file"])
async def test_a_spool_line_written_by_someone_else_is_never_handled(aiohttp_client, make_config, tmp_path, caplog,
                                                                    opened):
    """A spooled line is handled as the message WeChat sent, as the person it names (a leader's 点评 or 同意延期
    included). The folder was made with mode 700 only when missing: one made beforehand (another local user, a
    careless `mkdir -m 777` of the data folder) or a file anyone may write was drained at start like the service's
    own, so a local user could act as any WeChat user. Now such a folder or file is refused, logged, left alone."""
    import json
    import os

    from bot.app import DB, RECEIVER, create_app
    from handlers.messages import Inbound
    from storage import spool as spool_mod
    folder = spool_mod.folder_for(tmp_path / "t.db")
    folder.mkdir(mode=0o700)
    forged = folder / "1-forged.jsonl"
    record = {"key": "wechat:msg:424242", "at": 1.0, "request": None,
              "inbound": Inbound(openid="o_demo_leader", kind="text", created_at=1, text="帮助",
                                 msg_id="424242").to_json()}
    forged.write_text(json.dumps(record) + "\n")
    os.chmod(folder if opened == "folder" else forged, 0o777 if opened == "folder" else 0o666)
    client = await aiohttp_client(create_app(make_config()))
    await client.app[RECEIVER].drain_spool()
    stored = await client.app[DB].run(
        lambda db: db.execute("SELECT count(*) FROM inbound WHERE key = 'wechat:msg:424242'").fetchone()[0])
    assert stored == 0 and forged.exists()
    assert "not this service's alone" in caplog.text or "not written by this service" in caplog.text


# -- B. a careless admin's replay window -------------------------------------------------------------------------------
def test_serve_refuses_plaintext_mode_without_the_freshness_check(env, tmp_path, capsys):
    """In plaintext mode WeChat signs the URL (token, timestamp, nonce), not the body. With `check_timestamp =
    false` a signed URL is remembered only `dedupe_days`: after that, one copied from a reverse proxy's access log
    could carry any body, as any openid. `serve` refused empty and guessable secrets but started like this."""
    from pathlib import Path

    from bot.cli import main
    env(TINGJIAN_STORAGE_PATH=str(tmp_path / "t.db"), TINGJIAN_WECHAT_CHECK_TIMESTAMP="false")
    assert main(["serve", "--config", str(Path(__file__).resolve().parents[1] / "config.example.toml")]) == 2
    err = capsys.readouterr().err
    assert "wechat.check_timestamp" in err and "configuration error" in err
    assert not (tmp_path / "t.db").exists()


# -- B. the English paths -----------------------------------------------------------------------------------------
async def test_an_english_writer_is_asked_which_matter_in_english(dialog):
    """An English complaint about two matters (a head teacher demanding gift cards before exams: 师德 and exams)
    was asked "您的留言涉及几件事…请回复数字" in Chinese, a question the writer cannot read, on a conduct complaint
    (one that must reach the bureau, not the school). The question and the matters' names are in English now."""
    from tests.test_people2_dialogs import english
    d = dialog
    await talk(d, "o_en_gifts", "My son's head teacher at Jiangnan Experimental Primary School demands gift cards "
                                "from parents before exams.")
    reply = await talk(d, "o_en_gifts", "1", expect=["several matters", "a teacher's conduct", "exams"])
    await english(d, reply)


@pytest.mark.parametrize("missing", ["appid", "appsecret"])
def test_serve_refuses_to_start_unable_to_push(env, tmp_path, capsys, missing):
    """`serve` started against the real WeChat API with no AppID or AppSecret: every push failed for ever (no
    access_token), so staff were never told of a new or urgent ticket and an answer later than the passive reply
    never reached the citizen, while the webhook acknowledged every message. Refused at start, naming the key."""
    from pathlib import Path

    from bot.cli import main
    given = {"TINGJIAN_WECHAT_APPID": "wx1234567890abcdef", "TINGJIAN_WECHAT_APPSECRET": "0f1e2d3c4b5a69788796a5b4"}
    given[f"TINGJIAN_WECHAT_{missing.upper()}"] = ""
    env(TINGJIAN_STORAGE_PATH=str(tmp_path / "t.db"), **given)
    assert main(["serve", "--config", str(Path(__file__).resolve().parents[1] / "config.example.toml")]) == 2
    err = capsys.readouterr().err
    assert f"wechat.{missing}" in err and "configuration error" in err
    assert not (tmp_path / "t.db").exists()
