"""常见问题 answered at once, through the sandbox: served, solved, handed to a person (the intake goes on), not
served past the review date, and counted for `tingjian faq stats`."""
from __future__ import annotations

import datetime as dt

import pytest

from bot.app import DB
from bot.demo import DEMO_FAQ, DEMO_DIRECTORY
from handlers.faq import FaqBook, FaqError, load_faq
from handlers.routing import Router
from storage import faq as faq_store
from tests.test_survey import TZ, Phone, demo  # noqa: F401 - the demo fixture

QUESTION = "今年小升初划片范围什么时候公布？"


async def count_tickets(app) -> int:
    return await app[DB].run(lambda db: db.execute("SELECT count(*) FROM tickets").fetchone()[0])


async def test_answered_at_once_and_solved(demo):
    app, session, clock = demo
    parent = Phone(session, "o_faq_solved")
    answer = await parent.say(QUESTION)
    assert "4月下旬" in answer and "市教育局招生入学处" in answer
    assert "这个回答解决了您的问题吗？\n1 解决了\n2 还需要人工答复" in answer
    assert "很高兴" in await parent.say("1")
    assert await count_tickets(app) == 0
    assert await app[DB].run(faq_store.counts) == {"huapian": {"solved": 1}}


async def test_two_continues_the_intake_and_files_an_inquiry(demo):
    app, session, clock = demo
    parent = Phone(session, "o_faq_human")
    assert "解决了您的问题吗" in await parent.say("入学需要准备哪些材料")
    reply = await parent.say("2")
    assert "已为您转人工办理" in reply and "联系电话" in reply     # the usual intake, from where it would start
    summary = await parent.say("0")
    assert "类型：咨询" in summary and "市教育局招生入学处" in summary
    assert "提交成功" in await parent.say("1")
    assert await count_tickets(app) == 1
    ticket = await app[DB].run(lambda db: dict(next(db.query("SELECT kind, text FROM tickets"))))
    assert ticket == {"kind": "inquiry", "text": "入学需要准备哪些材料"}
    assert await app[DB].run(faq_store.counts) == {"ruxue-cailiao": {"human": 1}}


async def test_something_else_after_an_answer_is_a_new_message(demo):
    app, session, clock = demo
    parent = Phone(session, "o_faq_other")
    await parent.say("转学需要什么手续？")
    assert "哪所学校" in await parent.say("孩子班主任经常在课堂上辱骂学生，我要投诉")  # the intake, as usual
    assert await app[DB].run(faq_store.counts) == {"zhuanxue": {"ignored": 1}}


async def test_not_served_past_the_review_date_nor_for_a_complaint(demo):
    app, session, clock = demo
    clock.at = dt.datetime(2027, 5, 2, 10, 0, tzinfo=TZ).timestamp()   # huapian's review date was 4-30
    parent = Phone(session, "o_faq_stale")
    assert "解决了您的问题吗" not in await parent.say(QUESTION)
    other = Phone(session, "o_faq_complaint")
    assert "解决了您的问题吗" not in await other.say("幼儿园保教费标准是多少？乱收费，我要投诉")


def test_matching_uses_the_router_tokenizer_with_confidence():
    book = FaqBook(load_faq(DEMO_FAQ), Router.from_toml().tokenizer, min_score=0.55)
    today = dt.date(2026, 11, 28)
    assert book.match("小升初划片什么时候出来", today)[0].id == "huapian"
    assert book.match("请问一年级报名要带什么", today)[0].id == "ruxue-cailiao"
    assert book.match("中考成绩怎么查", today)[0].id == "chengji-chaxun"
    assert book.match("孩子在学校被同学打了怎么办", today) is None
    assert book.match("学校食堂饭菜太差", today) is None
    assert len(load_faq(DEMO_FAQ)) >= 15



def test_an_entrys_words_are_its_own_tokenizers_cut():
    """A book's entry words are remembered per tokenizer (each app's start-up and each workbench edit build one):
    a book on another tokenizer cuts the question its own way, whichever book was built first."""
    import jieba
    from handlers.faq import FaqEntry
    entry = [FaqEntry("x", "划片范围什么时候公布", "a", "jyj", dt.date(2030, 1, 1))]
    plain, joined = jieba.Tokenizer(), jieba.Tokenizer()
    joined.add_word("划片范围", freq=10**9)
    first, second = FaqBook(entry, plain), FaqBook(entry, joined)
    assert "划片范围" not in first.idf and "划片范围" in second.idf
    assert FaqBook(entry, plain).idf == first.idf and FaqBook(entry, joined).idf == second.idf


@pytest.mark.parametrize("body, key", [
    ('[[faq]]\nid = "a"\nquestion = "q"\nanswer = "a"\nunit = "jyj"\nreview_by = "2027-13-01"\n', "review_by"),
    ('[[faq]]\nid = "a"\nquestion = "q"\nanswer = "a"\nunit = "nowhere"\nreview_by = 2027-01-01\n', "unit"),
    ('[[faq]]\nid = "a"\nquestion = "q"\nunit = "jyj"\nreview_by = 2027-01-01\n', "answer"),
    ('[[faq]]\nid = "a"\nquestion = "q"\nanswer = "a"\nunit = "jyj"\nreview_by = 2027-01-01\ncolour = 1\n', "colour"),
])
def test_bad_faq_files_name_the_key(tmp_path, body, key):
    f = tmp_path / "f.toml"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(FaqError, match=key):
        load_faq(f, known_units={"jyj": "bureau"})


def test_cli_faq_stats(tmp_path, capsys):
    from bot.cli import main
    from storage.db import Database
    from tests.conftest import write_cli_config
    db_path = tmp_path / "c.db"
    config = write_cli_config(tmp_path / "c.toml", db_path, directory={"csv": DEMO_DIRECTORY}, campaign={"faq": DEMO_FAQ})
    assert main(["init-db", "--config", str(config)]) == 0
    db = Database(db_path).start()

    def seed(conn):
        for outcome in ("solved", "solved", "human", None):
            i = faq_store.served(conn, "huapian", "o1", QUESTION, 0.9, 1.0)
            if outcome:
                faq_store.outcome(conn, i, outcome, 2.0)
    db.run_sync(seed)
    db.close()
    capsys.readouterr()
    assert main(["faq", "stats", "--config", str(config)]) == 0
    out = capsys.readouterr().out
    line = next(x for x in out.splitlines() if x.startswith("huapian"))
    assert line.split("\t")[1:6] == ["4", "2", "1", "1", "67%"]
    assert "zhuanxue\t0\t0\t0\t0\t—" in out
