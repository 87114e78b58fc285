"""群众评议 through the sandbox: the demo app (bot + WeChat sandbox in one process) with the shipped 民主测评, driven
as WeChat users over real encrypted HTTP; and the results computed against a hand-made fixture."""
from __future__ import annotations

import csv
import datetime as dt
import re
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from bot.app import DB, create_app
from bot.demo import DEMO_SURVEYS, demo_config
from handlers.clock import FixedClock
from handlers.survey import SKIP, Question, SurveyError, load_surveys, parse_survey
from handlers.survey_results import compute, period_results
from storage import surveys, tickets
from tests.conftest import running
from tests.test_process import held_port

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ).timestamp()
SCENE = "survey:school-2026:jn-syxx"


class Phone:
    """One WeChat user acting through the sandbox (/sandbox/send), as the simulator does."""

    def __init__(self, session, openid: str):
        self.session, self.openid = session, openid

    async def _send(self, **payload) -> str:
        async with self.session.post("/sandbox/send", json={"openid": self.openid, **payload}) as resp:
            body = await resp.json()
        assert body.get("error") is None, body
        return body["reply"] or ""

    async def say(self, text: str) -> str:
        return await self._send(type="text", content=text)

    async def scan(self, scene: str) -> str:
        return await self._send(type="scan", scene=scene)


@pytest.fixture
async def demo(tmp_path):
    port = held_port()
    clock = FixedClock(MONDAY)
    config = demo_config(port=port, data_dir=str(tmp_path))
    app = create_app(config, clock=clock)
    async with running(app, port):
        async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as session:
            yield app, session, clock


async def response_rows(app):
    return await app[DB].run(lambda db: [surveys._decode(r) for r in db.query("SELECT * FROM survey_responses")])


async def test_a_survey_answered_from_the_unit_survey_code(demo):
    app, session, clock = demo
    parent = Phone(session, "o_survey_answer")
    first = await parent.scan(SCENE)  # not following yet: this is a subscribe with qrscene_
    assert "欢迎关注" in first and "2026年度学校民主测评" in first and "江南区实验小学" in first
    assert "第1/7题" in first and "服务态度" in first
    assert "第2/7题" in await parent.say("５")            # full-width digit
    assert "第3/7题" in await parent.say("4分")
    assert "第4/7题" in await parent.say("非常规范")       # the question's own label for 5
    again = await parent.say("还行吧差不多")               # not an answer: asked again, nothing stored
    assert "没能识别" in again and "第4/7题" in again
    assert "第5/7题" in await parent.say("不满意")         # 2, not read as 满意 (4)
    assert "第6/7题" in await parent.say("五")
    assert "第7/7题" in await parent.say("学生家长")       # an option's words
    done = await parent.say("0")                          # the optional free text, skipped
    assert "评议完成" in done
    [row] = await response_rows(app)
    assert row["answers"] == {"attitude": 5, "efficiency": 4, "fees": 5, "ethics": 2, "overall": 5, "role": 1,
                              "comment": None}
    assert row["draft"] is None and row["new_follower"] is True and row["burst"] is False
    assert (row["survey_id"], row["unit_code"]) == ("school-2026", "jn-syxx")
    # The survey code also set the person's unit: an ordinary message afterwards is about this school.
    reply = await parent.say("学校食堂的饭菜每天都是冷的，孩子吃不下，我要投诉")
    assert "联系电话" in reply


async def test_left_for_other_messages_and_resumed_after_a_break(demo):
    app, session, clock = demo
    parent = Phone(session, "o_survey_resume")
    await parent.scan("school:jn-syxx")
    clock.advance(3600)                                   # an established follower by the time they evaluate
    assert "第1/7题" in await parent.say("评议")           # the unit from the code scanned earlier
    await parent.say("4")
    await parent.say("4")
    assert "您还没有提交过留言" in await parent.say("查询")  # other messages still work in the middle
    assert "第4/7题" in await parent.say("3")              # … and the survey goes on where it was
    story = await parent.say("我想反映一下孩子班上的作业太多了，每天写到晚上十一点")
    assert "评议已暂停" in story                           # a story is a new message, the survey waits …
    flow = await app[DB].run(lambda db: db.execute("SELECT flow, data FROM conversations").fetchone())
    assert flow[0] == "intake" and "作业太多" in flow[1]    # … and the intake has it (its question is pushed)
    [row] = await response_rows(app)
    assert row["draft"] == {"attitude": 4, "efficiency": 4, "fees": 3} and row["answers"] is None
    assert "正在填写的留言" in await parent.say("评议")     # the message being written is not thrown away
    assert "已取消" in await parent.say("取消")             # the message they started is dropped, not the survey
    clock.advance(2 * 86400)                              # two days later, long after the conversation expired
    back = await parent.say("评议")
    assert "欢迎回来" in back and "第4/7题" in back
    for answer in ("4", "4", "2"):
        await parent.say(answer)
    assert "评议完成" in await parent.say("没有")
    [row] = await response_rows(app)
    assert row["answers"]["ethics"] == 4 and row["answers"]["role"] == 2 and row["new_follower"] is False


async def test_a_second_attempt_updates_the_first_while_open(demo):
    app, session, clock = demo
    parent = Phone(session, "o_survey_twice")
    await parent.scan(SCENE)
    for answer in ("1", "1", "1", "1", "1", "1", "0"):
        await parent.say(answer)
    clock.advance(86400)
    again = await parent.scan(SCENE)
    assert "您已于11月23日评议过" in again
    assert "保留您原来的评议" in await parent.say("2")
    assert (await response_rows(app))[0]["answers"]["overall"] == 1
    await parent.scan(SCENE)
    assert "第1/7题" in await parent.say("1")
    for answer in ("5", "5", "5", "5", "5", "1"):
        await parent.say(answer)
    assert "评议已更新" in await parent.say("0")
    rows = await response_rows(app)
    assert len(rows) == 1 and rows[0]["answers"]["overall"] == 5   # one response per person, unit and survey
    clock.at = dt.datetime(2027, 1, 1, 9, 0, tzinfo=TZ).timestamp()
    assert "已于12月31日结束" in await parent.scan(SCENE)


async def test_free_text_answer_becomes_a_ticket_when_the_person_agrees(demo):
    app, session, clock = demo
    parent = Phone(session, "o_survey_ticket")
    await parent.scan(SCENE)
    for answer in ("3", "3", "2", "4", "3", "1"):
        await parent.say(answer)
    offer = await parent.say("学校乱收费，每学期收300元资料费，没有公示也不开收据")
    assert "转为留言" in offer
    done = await parent.say("1")
    number = re.search(r"JY\d{4}-\d{4}", done).group(0)
    assert "评议完成" in done and "市教育局教育收费管理处" in done
    ticket = await app[DB].run(tickets.get, number)
    assert (ticket["kind"], ticket["category"], ticket["school_code"]) == ("complaint", "fees", "jn-syxx")
    assert ticket["anonymous"] is True and ticket["state"] == "assigned"
    [row] = await response_rows(app)
    assert row["ticket_number"] == number and row["answers"]["comment"].startswith("学校乱收费")


async def test_free_text_without_a_concrete_problem_is_kept_as_a_comment(demo):
    app, session, clock = demo
    parent = Phone(session, "o_survey_wish")
    await parent.scan(SCENE)
    for answer in ("5", "5", "5", "5", "5", "1"):
        await parent.say(answer)
    assert "评议完成" in await parent.say("老师们辛苦了，感谢学校")
    assert await app[DB].run(lambda db: db.execute("SELECT count(*) FROM tickets").fetchone()[0]) == 0


async def test_menu_and_command_ask_which_school_without_a_code(demo):
    app, session, clock = demo
    citizen = Phone(session, "o_survey_menu")
    ask = await citizen._send(type="click", key="SURVEY")
    assert "哪所学校" in ask
    assert "没有找到" in await citizen.say("火星小学")
    assert "第1/7题" in await citizen.say("江北区文昌小学")
    assert "评议已暂停" in await citizen.say("退出")
    office = Phone(session, "o_survey_office")
    assert "不在目前进行的评议范围内" in await office.say("评议 市教育局招生入学处")


async def test_burst_through_one_code_is_flagged_and_leaders_told_once(tmp_path, make_config):
    from bot.app import DISPATCHER
    from handlers.messages import Inbound
    from storage import staff
    survey = tmp_path / "quick.toml"
    survey.write_text('id = "q1"\ntitle = "快速测评"\nunits = ["jn-syxx"]\nopens = "2026-11-01"\n'
                      'closes = "2026-11-30"\n[[questions]]\nid = "overall"\ntext = "总体满意吗？"\n',
                      encoding="utf-8")
    clock = FixedClock(MONDAY)
    config = make_config(campaign={"surveys": str(survey), "burst_per_hour": 3, "min_responses": 1})
    async with running(create_app(config, clock=clock)) as app:
        await app[DB].run(staff.bind, "o_leader", "jyj", "leader", "局长", clock.now())
        d = app[DISPATCHER]
        pushes = []
        for i in range(5):
            clock.advance(60)
            await d.handle(Inbound(openid=f"o_b{i}", kind="event", event="subscribe", scene="survey:q1:jn-syxx",
                                   created_at=i))
            replies = await d.handle(Inbound(openid=f"o_b{i}", kind="text", text="5", msg_id=f"m{i}",
                                             created_at=i))
            pushes += [r for r in replies if r.to]
        rows = await response_rows(app)
        assert [r["burst"] for r in rows] == [True] * 5    # the whole hour's responses, once the limit is passed
        assert len(pushes) == 1 and pushes[0].to == "o_leader" and "一小时内收到4份评议" in pushes[0].text
        clock.advance(3 * 3600)                            # later, one response: no burst
        await d.handle(Inbound(openid="o_late", kind="event", event="subscribe", scene="survey:q1:jn-syxx",
                               created_at=99))
        await d.handle(Inbound(openid="o_late", kind="text", text="4", msg_id="late", created_at=99))
        late = [r for r in await response_rows(app) if r["openid"] == "o_late"][0]
        assert late["burst"] is False


# -- answers read leniently ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("text, value", [
    ("5", 5), ("５", 5), ("5分", 5), ("五分", 5), ("5星", 5), (" 4。", 4), ("非常满意", 5), ("满意", 4),
    ("非常不满意", 1), ("不满意！", 2), ("一般", 3), ("我觉得一般", 3), ("6", None), ("0", None), ("好", None),
])
def test_scale_answers(text, value):
    assert Question("q", "scale", "？").parse(text) == value


def test_choice_and_text_answers():
    q = Question("role", "choice", "身份", options=("学生家长", "学生", "其他"))
    assert [q.parse(t) for t in ("1", "２", "第3项", "学生家长", "学生", "我是学生家长", "家长", "4")] \
        == [1, 2, 3, 1, 2, 1, 1, None]
    assert Question("s", "scale", "？", labels=("很不规范", "不太规范", "一般", "比较规范", "非常规范")).parse("规范") \
        is None                                           # four labels contain it: ask again
    t = Question("c", "text", "意见", optional=True)
    assert t.parse("无") is SKIP and t.parse("0") is SKIP and t.parse(" 食堂太贵 ") == "食堂太贵"
    assert Question("c", "text", "意见").parse("无") == "无"   # a required text question takes any words


# -- definitions --------------------------------------------------------------------------------------------------
def test_shipped_survey_loads():
    [s] = load_surveys(DEMO_SURVEYS).values()
    assert [q.id for q in s.questions] == ["attitude", "efficiency", "fees", "ethics", "overall", "role", "comment"]
    assert s.scene("jn-syxx") == SCENE and s.covers({"code": "x", "kind": "kindergarten"})


@pytest.mark.parametrize("change, key", [
    ({"id": "bad id"}, "id"), ({"units": []}, "units"), ({"opens": "2026-13-01"}, "opens"),
    ({"closes": "2026-10-01"}, "closes"), ({"questions": [{"id": "a", "type": "slider", "text": "x"}]}, "type"),
    ({"questions": [{"id": "a", "type": "choice", "text": "x", "options": ["only"]}]}, "options"),
    ({"questions": [{"id": "a", "text": "x", "labels": ["1", "2"]}]}, "labels"), ({"colour": "red"}, "colour"),
])
def test_bad_survey_definitions_name_the_key(change, key):
    raw = {"id": "s", "title": "t", "units": ["school"], "opens": "2026-11-01", "closes": "2026-11-30",
           "questions": [{"id": "a", "text": "x"}], **change}
    with pytest.raises(SurveyError, match=key):
        parse_survey(raw, "f.toml")


def test_unknown_unit_in_a_survey_is_an_error(tmp_path):
    f = tmp_path / "s.toml"
    f.write_text('id = "s"\ntitle = "t"\nunits = ["nowhere"]\nopens = 2026-11-01\ncloses = 2026-11-30\n'
                 '[[questions]]\nid = "a"\ntext = "x"\n', encoding="utf-8")
    with pytest.raises(SurveyError, match="nowhere"):
        load_surveys(f, known_units={"jn-syxx": "school"})


# -- results against a hand-made fixture ----------------------------------------------------------------------------
def _row(unit, overall, role=1, burst=False, new=False, at=100.0):
    return {"survey_id": "s", "unit_code": unit, "answers": {"overall": overall, "role": role}, "burst": burst,
            "new_follower": new, "submitted_at": at}


FIXTURE_SURVEY = parse_survey({"id": "s", "title": "t", "units": ["school"], "opens": "2026-11-01",
                               "closes": "2026-11-30", "previous": "p",
                               "questions": [{"id": "overall", "text": "总体"},
                                             {"id": "role", "type": "choice", "text": "身份",
                                              "options": ["家长", "学生"]}]})
PREVIOUS = parse_survey({"id": "p", "title": "t0", "units": ["school"], "opens": "2025-11-01",
                         "closes": "2025-11-30", "questions": [{"id": "overall", "text": "总体"}]})


def test_results_by_hand():
    rows = [_row("a", v) for v in (5, 4, 4, 3, 5)] + [_row("a", 1, burst=True)] * 3 \
        + [_row("b", 2, role=2, new=True), _row("b", 3)] + [_row("c", v) for v in (4, 4, 4, 4, 2)]
    previous = [{"unit_code": "a", "answers": {"overall": v}, "burst": False} for v in (3, 4, 3, 4, 3)]
    units = {"a": {"name": "甲校", "kind": "school"}, "b": {"name": "乙校", "kind": "school"}}
    res = compute(FIXTURE_SURVEY, rows, units, min_responses=5, previous=PREVIOUS, previous_rows=previous)
    a = res["a"]
    overall, role = a.questions
    assert (a.n, a.burst, a.new_followers, a.name) == (5, 3, 0, "甲校")
    # mean 4.2; sd = sqrt(2.8 / 4) = 0.8367; half width = t(4) 2.776 × 0.8367 / sqrt(5) = 1.0387
    assert overall.mean == 4.2 and overall.ci == (3.16, 5.0)            # capped at the top of the scale
    assert overall.distribution == {"1": 0, "2": 0, "3": 1, "4": 2, "5": 2}
    assert (overall.burst_n, overall.burst_mean) == (3, 1.0)            # shown beside, not counted
    # bureau: the 12 counted responses: (21 + 5 + 18) / 12 = 3.67
    assert overall.bureau_mean == 3.67
    assert overall.previous_mean == 3.4 and overall.change == 0.8
    assert role.distribution == {"家长": 5, "学生": 0} and role.mean is None
    assert a.score == 80.0                                              # (4.2 − 1) / 4 × 100
    b = res["b"]
    assert b.n == 2 and b.new_followers == 1 and b.questions[0].status == "样本不足" and b.questions[0].mean is None
    assert b.score is None
    assert res["c"].questions[0].mean == 3.6 and res["c"].questions[0].previous_mean is None


async def test_period_results_for_the_review(tmp_path):
    from storage.db import Database
    from storage import directory
    from bot.demo import DEMO_DIRECTORY
    db = Database(tmp_path / "r.db").start()
    try:
        db.run_sync(directory.upsert, directory.read_csv(DEMO_DIRECTORY))

        def seed(conn):
            for i, (unit, v, at) in enumerate([("jn-syxx", 5, 100), ("jn-syxx", 3, 200), ("jn-syxx", 1, 900),
                                               ("jb-wcxx", 4, 150)]):
                r = surveys.begin(conn, "s", unit, f"o{i}", at, {})
                surveys.submit(conn, r["id"], {"overall": v, "role": 1}, at, False)
        db.run_sync(seed)
        res = db.run_sync(period_results, {"s": FIXTURE_SURVEY}, 0, 500, 2)
    finally:
        db.close()
    assert set(res) == {"jn-syxx", "jb-wcxx"}
    assert res["jn-syxx"]["s:overall"].mean == 4.0 and res["jn-syxx"]["s:overall"].n == 2   # 900 is outside
    assert res["jb-wcxx"]["s:overall"].status == "样本不足"


# -- the command line ---------------------------------------------------------------------------------------------
def test_cli_survey_list_and_results(tmp_path, capsys):
    from bot.cli import main
    from bot.demo import DEMO_DIRECTORY
    from storage.db import Database
    from tests.conftest import write_cli_config
    db_path = tmp_path / "c.db"
    config = write_cli_config(tmp_path / "c.toml", db_path, directory={"csv": DEMO_DIRECTORY},
                        campaign={"surveys": DEMO_SURVEYS, "min_responses": 2})
    assert main(["init-db", "--config", str(config)]) == 0
    assert "surveys: school-2026" in capsys.readouterr().out
    db = Database(db_path).start()

    def seed(conn):
        for i, v in enumerate((5, 4, 3)):
            r = surveys.begin(conn, "school-2026", "jn-syxx", f"o{i}", MONDAY, {})
            surveys.submit(conn, r["id"], {"attitude": v, "efficiency": v, "fees": v, "ethics": v, "overall": v,
                                           "role": 1, "comment": None}, MONDAY, False)
        r = surveys.begin(conn, "school-2026", "jb-wcxx", "o9", MONDAY, {})
        surveys.submit(conn, r["id"], {"overall": 2}, MONDAY, False)
    db.run_sync(seed)
    db.close()
    capsys.readouterr()
    assert main(["survey", "list", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "school-2026" in out and "2026年度学校民主测评" in out and "4" in out
    out_csv = tmp_path / "r.csv"
    assert main(["survey", "results", "school-2026", "--config", str(config), "--out", str(out_csv)]) == 0
    text = capsys.readouterr().out
    assert "江南区实验小学" in text and "mean 4.00" in text and "样本不足" in text
    rows = list(csv.DictReader(open(out_csv, encoding="utf-8-sig")))
    overall = next(r for r in rows if r["unit"] == "jn-syxx" and r["question"] == "overall")
    assert overall["n"] == "3" and overall["mean"] == "4.0" and overall["distribution"] == "1:0;2:0;3:1;4:1;5:1"
    assert main(["survey", "results", "school-2026", "--unit", "jb-wcxx", "--config", str(config)]) == 0
    only = capsys.readouterr().out
    assert "江北区文昌小学" in only and "江南区实验小学" not in only
    assert main(["survey", "results", "nope", "--config", str(config)]) == 2
    assert "nope" in capsys.readouterr().err


async def test_simulator_offers_each_covered_unit_its_survey_code(demo):
    app, session, clock = demo
    async with session.get("/simulator/units") as resp:
        units = {u["code"]: u for u in await resp.json()}
    assert units["jn-syxx"]["survey_scene"] == SCENE and units["jn-xgyey"]["survey_title"] == "2026年度学校民主测评"
    assert "survey_scene" not in units["jyj-zsc"]
    async with session.get("/simulator/static/simulator.js") as resp:
        assert "u.survey_scene" in await resp.text()


def test_init_db_names_a_bad_survey_file(tmp_path, capsys):
    from bot.cli import main
    bad = tmp_path / "s.toml"
    bad.write_text('id = "s"\ntitle = "t"\nunits = ["school"]\nopens = "2026-11-01"\ncloses = "2026-10-01"\n'
                   '[[questions]]\nid = "a"\ntext = "x"\n', encoding="utf-8")
    from tests.conftest import write_cli_config
    config = write_cli_config(tmp_path / "c.toml", tmp_path / "c.db", campaign={"surveys": bad})
    assert main(["init-db", "--config", str(config)]) == 2
    err = capsys.readouterr().err
    assert "campaign.surveys" in err and "closes" in err and str(bad) in err


@pytest.mark.parametrize("values, key", [
    ({"surveys": "/nonexistent/surveys"}, "campaign.surveys"), ({"faq": "/nonexistent/faq.toml"}, "campaign.faq"),
    ({"min_responses": 0}, "campaign.min_responses"), ({"faq_min_score": 0.1}, "campaign.faq_min_score"),
    ({"burst_per_hour": "many"}, "campaign.burst_per_hour"),
])
def test_bad_campaign_settings_name_the_key(tmp_path, values, key):
    from bot.config import ConfigError, load_config
    with pytest.raises(ConfigError, match=key):
        load_config(None, env={}, overrides={"campaign": values})
