"""The performance review (绩效考核): numbers checked against a fixture computed by hand, the XLSX, 领导点评."""
from __future__ import annotations

import datetime as dt
import re
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from bot.demo import DEMO_DIRECTORY, DEMO_SURVEYS
from handlers import review
from handlers.survey import load_surveys
from storage import directory, surveys, tickets
from storage import review as review_store
from storage.db import Database

TZ = ZoneInfo("Asia/Shanghai")
A, B, C = "jn-syxx", "jn-yyxx", "jb-wcxx"
NOW = dt.datetime(2026, 12, 5, 10, 0, tzinfo=TZ).timestamp()   # read after the period: every window ended


def d(day: int, hour: int = 10, month: int = 11) -> float:
    return dt.datetime(2026, month, day, hour, 0, tzinfo=TZ).timestamp()


def _ticket(db, unit, *, kind="complaint", school=None, created=None, due=None, accept_due=None, accepted=None,
            resolved=None, openid="o_c"):
    created = created or d(2)
    t = tickets.create(db, openid=openid, kind=kind, category="fees", unit_code=unit, school_code=school or unit,
                       text="x", attachments=[], contact_phone=None, anonymous=False, routing={}, now=created,
                       due_at=due or d(10), tz=TZ, accept_due_at=accept_due or d(3))
    if accepted:
        t = tickets.transition(db, t, "accepted", "o_s", accepted, "accept", accepted_by="o_s", accepted_at=accepted)
    if resolved:
        t = tickets.transition(db, t, "resolved", "o_s", resolved, "resolve", resolved_at=resolved)
    return t


def _rate(db, t, score, at):
    return tickets.transition(db, t, "closed", t["openid"], at, "rate", rating=score, rated_at=at, closed_at=at,
                              close_reason="rated")


def _bounce(db, t, at):
    return tickets.transition(db, t, "bounced", "o_s", at, "bounce", "不属本校职责", unit_code="jyj-bgs",
                              bounces=1, accepted_by=None, accepted_at=None)


def seed(db):
    """The fixture of test_review_numbers_by_hand (period 2026-11)."""
    # School A (jn-syxx)
    a1 = _ticket(db, A, accepted=d(3, 9), resolved=d(5))
    _rate(db, a1, 1, d(6))
    a2 = _ticket(db, A, accepted=d(4), resolved=d(12))     # accepted late; resolved late
    a2 = tickets.transition(db, a2, "reopened", a2["openid"], d(13), "reopen", rating=3, rated_at=d(13), reopens=1)
    a2 = tickets.transition(db, a2, "accepted", "o_s", d(14), "accept")      # the redo (签收 time kept)
    a2 = tickets.transition(db, a2, "resolved", "o_s", d(15), "resolve", resolved_at=d(15))
    _rate(db, a2, 2, d(16))
    _ticket(db, A, accepted=d(3, 9), due=d(20))                                   # open past its deadline
    _ticket(db, A, kind="praise", accepted=d(3, 9), resolved=d(6))                # praise, no rating
    _bounce(db, _ticket(db, A, created=d(7), accept_due=d(8), due=d(20, month=12)), d(8))
    # School B (jn-yyxx)
    _rate(db, _ticket(db, B, accepted=d(3, 9), resolved=d(4)), 1, d(5))
    _rate(db, _ticket(db, B, accepted=d(3, 9), resolved=d(6)), 1, d(7))
    # School C (jb-wcxx)
    _ticket(db, C, accepted=d(5), due=d(25))                                       # late 签收, open overdue
    for _ in range(2):
        _bounce(db, _ticket(db, C, created=d(7), accept_due=d(8), due=d(20, month=12)), d(8))
    for i in range(2):  # praise of C by two people, handled by its district bureau
        _ticket(db, "jb-jyj", kind="praise", school=C, created=d(9), accept_due=d(10), due=d(10, month=12),
                openid=f"o_praiser{i}")
    # 群众评议: B two responses (all 5s, all 4s); A one response (样本不足 with min_responses=2)
    scales = ("attitude", "efficiency", "fees", "ethics", "overall")
    for i, (unit, v) in enumerate([(B, 5), (B, 4), (A, 5)]):
        r = surveys.begin(db, "school-2026", unit, f"o_r{i}", d(20), {})
        surveys.submit(db, r["id"], {**{q: v for q in scales}, "role": 1, "comment": None}, d(20), False)
    # Outside the period: must not count
    _rate(db, _ticket(db, B, created=d(28, month=10), accept_due=d(29, month=10), accepted=d(29, 9, 10),
                      due=d(30, month=10), resolved=d(30, 9, 10)), 3, d(30, 12, 10))
    review_store.add_comment(db, A, "2026-11", "局长", "回复家长及时，超期件要尽快办结。", True, d(30))
    review_store.add_comment(db, A, "2026-10", "局长", "上月的点评", False, d(30))


@pytest.fixture
def db(tmp_path):
    database = Database(tmp_path / "review.db").start()
    database.run_sync(directory.upsert, directory.read_csv(DEMO_DIRECTORY))
    database.run_sync(seed)
    yield database
    database.close()


def _defs(db):
    known = {u["code"]: u["kind"] for u in db.read_sync(directory.all_units)}
    return load_surveys(DEMO_SURVEYS, "Asia/Shanghai", known)


def test_review_numbers_by_hand(db):
    """Period 2026-11, default weights (响应 .15, 解决 .20, 满意 .20, 首次 .10, 超期 .05, 退回 .05, 评议 .20, 表扬 .05).

    Praise is no case to handle: it never counts in the rates (handlers/rates.py), only as 表扬.
    School A: 4 complaints dispatched to it in November (the 4th bounced on the 8th inside its window, now held
      by the duty office: in A's 派发 alone, since the 7th's end counted it there, oracle19; a4 is praise).
      响应: accepted in time 2 of the 3 due (a2 late) = 66.7%.
      解决: resolved in Nov a1 (in time), a2 (15th, due 10th: late) = 2; open past deadline a3 = 1
            -> 1 / (2 + 1) = 33.3%.  超期 = (2 - 1) + 1 = 2.
      满意: rated in Nov a1 (1 满意), a2 (2 基本满意) -> 2/2 = 100%.
      首次满意: first ratings a1 满意, a2 不满意 (the reopen) -> 1/2 = 50%.
      退回 1, 表扬 1, 评议 1 response < 2 -> 样本不足 (no score).
    School B: 2 tickets, both in time and 满意 -> 100% everywhere; 超期 0, 退回 0, 表扬 0;
      评议 2 responses, every scale 5 and 4 -> mean 4.5 -> (4.5 - 1) / 4 * 100 = 87.5.
      (Its October ticket, rated 不满意 on 30 Oct, is outside the period.)
    School C: 1 ticket, accepted late, open past its deadline -> 响应 0/1 = 0%, 解决 0/1 = 0%, no rating;
      超期 1, 退回 2, 表扬 2 (praise naming C, held by 江北区教育局).
    Among schools: most 超期 = 2 (A), most 退回 = 2 (C); 表扬: the median of the praised schools (A 1, C 2) = 1.5.
      A: 超期 100*(1-2/2) = 0, 退回 100*(1-1/2) = 50, 表扬 100*min(1, 1/1.5) = 66.67, no 评议:
         (.15*66.67 + .2*33.33 + .2*100 + .1*50 + .05*0 + .05*50 + .05*66.67) / (.15+.2+.2+.1+.05+.05+.05)
         = 47.5 / 0.80 = 59.375 -> 59.4
      B: 超期 100, 退回 100 (2 dispatched, 0 bounced), 表扬 0, 评议 87.5:
         (15 + 20 + 20 + 10 + 5 + 5 + .2*87.5 + 0) / 1.0 = 92.5
      C (3 dispatched, 2 of them bounced inside their windows): 响应 0, 解决 0, 超期 100*(1-1/2) = 50, 退回 0, 表扬 100*min(1, 2/1.5) = 100:
         (0 + 0 + .05*50 + 0 + .05*100) / (.15+.2+.05+.05+.05) = 7.5 / 0.5 = 15.0
      Ranks among schools: B 1, A 2, C 3 (3 ranked; the schools without data are not scored).
    江北区教育局 (district): it holds only the 2 praise tickets, which are no cases -> no rate, not scored.
    Duty office: holds the 3 bounced tickets, none accepted -> 响应 0%, 退回 100 -> 25.0.
    Levels: 江南区 = its bureau + A + B: 6 dispatched, mean score (59.4 + 92.5) / 2 = 76.0;
      江北区 = its bureau + C: mean 15.0 (its bureau has no score), 表扬 2;
      bureau: 12 dispatched (A 4, B 2, C 3, duty office 3), 退回 3, 表扬 3,
      mean (59.4 + 92.5 + 15.0 + 25.0) / 4 = 48.0.
    """
    r = db.read_sync(review.build, "2026-11", TZ, review.Weights(), _defs(db), 2, NOW)
    a, b, c = r.unit(A), r.unit(B), r.unit(C)
    ra = a.figures.rates
    assert (ra.dispatched, ra.response, ra.resolution, ra.satisfaction, ra.first_satisfaction) == (4, 2 / 3, 1 / 3,
                                                                                                 1.0, .5)
    assert (a.figures.overdue, a.figures.bounced, a.figures.praise, a.figures.survey) == (2, 1, 1, None)
    assert a.scores == {"response": 66.7, "resolution": 33.3, "satisfaction": 100.0, "first_satisfaction": 50.0,
                        "overdue": 0.0, "bounced": 50.0, "survey": None, "praise": 66.7, "staffed": None}
    assert (a.score, b.score, c.score) == (59.4, 92.5, 15.0)
    assert b.figures.survey == 87.5 and b.scores["praise"] == 0.0 and b.figures.rates.dispatched == 2
    assert (c.figures.overdue, c.figures.bounced, c.figures.praise) == (1, 2, 2)
    assert c.scores["satisfaction"] is None and c.scores["overdue"] == 50.0 and c.scores["bounced"] == 0.0
    assert [(u.code, u.rank, u.ranked) for u in r.units if u.kind == "school"][:3] == [(B, 1, 3), (A, 2, 3),
                                                                                        (C, 3, 3)]
    assert all(u.score is None and u.rank is None for u in r.units if u.kind == "school" and u.code not in (A, B, C))
    jb = r.unit("jb-jyj")
    assert (jb.score, jb.rank) == (None, None) and r.unit("jyj-bgs").score == 25.0
    assert r.unit("jn-jyj").score is None
    districts = {x.code: x for x in r.districts}
    assert districts["jn-jyj"].figures.rates.dispatched == 6 and districts["jn-jyj"].mean_score == 76.0
    assert districts["jb-jyj"].mean_score == 15.0 and districts["jb-jyj"].figures.praise == 2
    assert (r.bureau.figures.rates.dispatched, r.bureau.figures.bounced, r.bureau.figures.praise) == (12, 3, 3)
    assert r.bureau.mean_score == 48.0
    assert [c_["text"] for c_ in a.comments] == ["回复家长及时，超期件要尽快办结。"]   # only this period's


def test_weights_change_the_score_and_kind_filter(db):
    only_survey = review.Weights(**{k: 0.0 for k in review.Weights().as_dict()} | {"survey": 1.0})
    r = db.read_sync(review.build, "2026-11", TZ, only_survey, _defs(db), 2, NOW, "school")
    assert {u.kind for u in r.units} == {"school"}
    # A has rates but no 评议 score: scored on nothing it has -> no score; B only on its 评议.
    assert r.unit(B).score == 87.5 and r.unit(A).score is None and r.unit(B).rank == 1


@pytest.mark.parametrize("text,first,after", [("2026-11", (2026, 11, 1), (2026, 12, 1)),
                                              ("2026-Q4", (2026, 10, 1), (2027, 1, 1)),
                                              ("2026-Q1", (2026, 1, 1), (2026, 4, 1)),
                                              ("2026", (2026, 1, 1), (2027, 1, 1))])
def test_periods(text, first, after):
    assert review.parse_period(text) == (dt.date(*first), dt.date(*after))


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "26-11", "2026-1", "本月", ""])
def test_bad_periods_are_refused(text):
    with pytest.raises(ValueError, match="2026-11, 2026-Q4 or 2026"):
        review.parse_period(text)


def test_cli_writes_the_xlsx_with_numbers_and_notes(tmp_path, capsys):
    from bot.cli import main
    from tests.conftest import write_cli_config
    db_path = tmp_path / "c.db"
    config = write_cli_config(tmp_path / "c.toml", db_path, directory={"csv": DEMO_DIRECTORY},
                        campaign={"surveys": DEMO_SURVEYS, "min_responses": 2},
                        review={"min_cases": 1})  # the hand-computed figures rest on a few tickets each
    assert main(["init-db", "--config", str(config)]) == 0
    database = Database(db_path).start()
    database.run_sync(seed)
    database.close()
    capsys.readouterr()
    out = tmp_path / "review.xlsx"
    assert main(["review", "--period", "2026-11", "--out", str(out), "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert "绩效考核 2026年11月" in text and "江南区育英小学" in text and "回复家长及时" in text
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["全局", "区县", "单位", "说明"]
    units = wb["单位"]
    head = [c.value for c in units[1]]
    rows = {r[0]: dict(zip(head, r)) for r in units.iter_rows(min_row=2, values_only=True)}
    assert rows[B]["综合得分"] == 92.5 and rows[B]["同类排名"] == 1 and rows[A]["综合得分"] == 59.4
    assert rows[A]["响应率"] == 2 / 3 and isinstance(rows[A]["受理件数"], int) and rows[A]["超期件数"] == 2
    assert "回复家长及时" in rows[A]["领导点评"]
    assert wb["全局"]["D2"].value == 48.0 and wb["全局"]["F2"].value == 12
    assert units["I2"].number_format == "0.0" and units["V2"].number_format == "0.0%"
    notes = "\n".join(str(c.value) for row in wb["说明"].iter_rows() for c in row if c.value is not None)
    assert "Σ(权重 × 指标得分)" in notes and "0.15" in notes
    # comments from the terminal; --kind; a bad period
    assert main(["review", "comment", "--unit", C, "--period", "2026-11", "--text", "超期件请说明原因",
                 "--public", "--config", str(config)]) == 0
    assert main(["review", "--period", "2026-11", "--kind", "school", "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert "超期件请说明原因" in text and "[school]" in text and "[office]" not in text
    assert main(["review", "--period", "2026-11", "--unit", A, "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert "综合得分 59.4，同类第2名（共3个）" in text and "超期2件，退回1次，表扬1件" in text
    assert re.search(r"首次满意率\s+50%\s+50.0\s+0.1", text) and "领导点评（局长，公开）" in text
    assert main(["review", "--period", "2026-11", "--unit", "jyj", "--config", str(config)]) == 2
    assert main(["review", "--period", "2026-13", "--config", str(config)]) == 2
    assert main(["review", "comment", "--unit", "nope", "--period", "2026-11", "--text", "x",
                 "--config", str(config)]) == 2
    assert "unknown unit" in capsys.readouterr().err
    assert main(["review", "comments", "--unit", C, "--config", str(config)]) == 0
    line = capsys.readouterr().out.strip()
    assert line.endswith("public\t超期件请说明原因") and "\n" not in line
    cid = line.split("\t")[0]
    assert main(["review", "comments", "--delete", cid, "--config", str(config)]) == 0
    assert main(["review", "comments", "--delete", cid, "--config", str(config)]) == 2
    assert main(["review", "comments", "--unit", C, "--config", str(config)]) == 0
    assert "no comments" in capsys.readouterr().out


async def test_leader_comments_from_wechat(tmp_path, make_config):
    from bot.app import DB, DISPATCHER, create_app
    from handlers.clock import FixedClock
    from handlers.messages import Inbound
    from storage import staff
    from tests.conftest import running
    clock = FixedClock(d(30))
    async with running(create_app(make_config(), clock=clock)) as app:
        await app[DB].run(staff.bind, "o_leader", "jyj", "leader", "王局长", clock.now())
        await app[DB].run(staff.bind, "o_handler", A, "handler", "李老师", clock.now())
        say = lambda who, text: app[DISPATCHER].handle(Inbound(openid=who, kind="text", text=text,
                                                                msg_id=f"{who}{text}", created_at=1))
        reply = (await say("o_leader", "点评 江南区实验小学 本月 公开 回复家长及时，值得肯定。"))[0].text
        assert "已记录对“江南区实验小学”2026年11月的点评（公开" in reply
        reply = (await say("o_leader", "点评 育英小学 ２０２６－Ｑ４ 收费公示要更及时"))[0].text
        assert "2026年第4季度" in reply and "仅内部可见" in reply
        assert "不是有效的期间" in (await say("o_leader", "点评 育英小学 明年 很好"))[0].text
        assert "不存在的学校" in (await say("o_leader", "点评 不存在的学校 本月 很好"))[0].text
        reply = (await say("o_leader", "点评 育英小学"))[0].text
        assert "请写上期间" in reply and "2026-Q4（季度）" in reply  # the table's "please add", with the forms
        assert "请写上内容" in (await say("o_leader", "点评 育英小学 本月 公开"))[0].text
        assert "“点评”需由局领导" in (await say("o_handler", "点评 育英小学 本月 很好"))[0].text
        assert "· 点评 单位 期间 [公开] 内容" in (await say("o_leader", "帮助"))[0].text  # help from the same row
        assert "点评" not in (await say("o_handler", "帮助"))[0].text
        # Only the words are normalised: full-width punctuation and letters in the comment stay as typed.
        await say("o_leader", "点评 育英小学 ２０２６－１０ 家长反映：“收费通知”已公示，ＯＫ！")
        await app[DB].run(lambda db: db.execute(
            "INSERT INTO users (openid, role, first_seen_at, last_seen_at) VALUES ('o_parent', 'citizen', 1, 1)"))
        reply = (await say("o_parent", "点评一下育英小学的食堂，饭菜太咸了"))[0].text
        assert "点评" not in reply and "局领导" not in reply        # a citizen's message, taken as one
        rows = await app[DB].run(review_store.comments)
    assert [(r["unit_code"], r["period"], r["author"], r["text"], r["public"]) for r in rows] == [
        (B, "2026-10", "王局长", "家长反映：“收费通知”已公示，ＯＫ！", False),
        (B, "2026-Q4", "王局长", "收费公示要更及时", False),
        (A, "2026-11", "王局长", "回复家长及时，值得肯定。", True)]



@pytest.mark.parametrize("restarted_with", [{"weight_survey": 1.0, "weight_satisfaction": 0.0}, {"min_cases": 9}])
async def test_a_closed_period_keeps_the_rules_it_was_scored_by(tmp_path, make_config, restarted_with):
    """Before: editing [review] and restarting rescored every past month a unit's performance review had counted."""
    from bot.app import DB, create_app
    from handlers.clock import FixedClock
    from tests.conftest import running
    store = Database(tmp_path / "t.db").start()  # make_config's database
    store.run_sync(directory.upsert, directory.read_csv(DEMO_DIRECTORY))
    store.run_sync(seed)
    store.close()
    first, edited = make_config(review={"min_cases": 1}), make_config(review={"min_cases": 1, **restarted_with})

    async def review_of(config, period, at):
        """The service started with `config` at `at`, its review of `period` read then: (rules, scores, records)."""
        async with running(create_app(config, clock=FixedClock(at))) as app:
            r = await app[DB].read(review.as_shown, period, TZ, config.review.weights(), None,
                                   config.campaign.min_responses, at, None, config.review.min_cases)
            kept = await app[DB].read(lambda db: db.execute("SELECT count(*) FROM review_rules").fetchone()[0])
        return (r.weights, r.min_cases), {u.code: u.score for u in r.units}, kept

    old_rules = (review.Weights(), 1)
    new_rules = (edited.review.weights(), edited.review.min_cases)
    assert new_rules != old_rules
    rules, _, kept = await review_of(first, "2026-11", d(20))               # November under way
    assert rules == old_rules and kept == 1
    rules, november, kept = await review_of(first, "2026-11", NOW)          # the same rules again: no new record
    assert rules == old_rules and kept == 1 and november[A] is not None
    rules, scores, kept = await review_of(edited, "2026-11", NOW)           # edited after November ended
    assert kept == 2 and rules == old_rules and scores == november
    assert (await review_of(edited, "2026-10", NOW))[0] == old_rules         # ended before the first record
    assert (await review_of(edited, "2026-12", NOW))[0] == new_rules         # still open: the edited rules
    assert (await review_of(edited, "2026-12", NOW + 40 * 86400))[0] == new_rules  # ended under the edit
    with_edit = await store_review(tmp_path, edited)
    assert with_edit != november  # the edit would have moved November: what the record kept it from


async def store_review(tmp_path, config):
    """November scored with `config`'s rules on a fresh copy of the fixture (nothing recorded)."""
    store = Database(tmp_path / "fresh.db").start()
    store.run_sync(directory.upsert, directory.read_csv(DEMO_DIRECTORY))
    store.run_sync(seed)
    try:
        r = await store.read(review.build, "2026-11", TZ, config.review.weights(), None,
                             config.campaign.min_responses, NOW, None, config.review.min_cases)
    finally:
        store.close()
    return {u.code: u.score for u in r.units}
