"""The writer's handling made cheaper (issue 10) decides exactly as before.

- `intake.may_be_aside`: one remembered look says a reply is none of the remarks `Intake._aside` answers (在吗,
  谢谢, a phone number, 算了不反映了 …), so most replies skip a dozen checks. Proved by handling the same
  conversations twice, once with the look and once with every reply sent through all the checks: every reply to
  every message, and every stored draft, the same.
- The draft to and from its dict without field-by-field copies: equal drafts, equal JSON, an older draft's dict
  (keys missing, keys since dropped) still read as before.
- users.lang and the school names: the turn's own row and one read per write transaction, not a statement each
  time (the whole suite also checks the known language against users.lang at every use: tests/conftest.py).
"""
from __future__ import annotations

import dataclasses
import datetime as dt
import json
import random
from zoneinfo import ZoneInfo

import pytest

from bot.app import DB, DISPATCHER, SCHEDULER, create_app
from handlers import intake
from handlers.clock import FixedClock
from handlers.intake import Draft
from handlers.messages import Inbound
from storage import staff
from tests.conftest import running

TZ = ZoneInfo("Asia/Shanghai")
MONDAY = dt.datetime(2026, 11, 23, 10, 0, tzinfo=TZ).timestamp()

# What people write within a conversation: asides of every kind, answers, and more of the story.
ASIDES = ["你好", "在吗？", "老师您好", "谢谢", "谢谢你们 辛苦了", "好的收到", "匿名可以吗", "学校会知道是我吗",
          "is this anonymous?", "电话就不留了吧", "我的电话是13912345678", "幺三九一二三四五六七八", "13912345678",
          "算了 不反映了", "不想投诉了，怕孩子被穿小鞋", "还是反映吧", "那就继续说吧", "我不太会打字", "怎么发照片",
          "图片在哪发", "how do I send a photo", "thanks", "电话不方便", "手机号码是0571-88886666"]
ANSWERS = ["I want to complain", "1", "2", "3", "4", "0", "是", "不是", "好的", "可以", "不同意", "不知道", "投诉", "建议", "咨询吧", "改为建议",
           "是同一件事", "新的问题", "江南区实验小学", "和平初中", "不留", "同意", "怕报复", "提交", "确认",
           "就这样提交吧", "跳过", "没有学校"]
STORY = ["作业有点多", "学校放学太晚了", "孩子在和平初中读初二，老师收了家长的红包", "食堂饭菜不太好，孩子吃不饱",
         "校车每天都迟到", "课后服务怎么收费", "学校门口很乱", "老师把孩子打出血了", "我家孩子三年级，每天作业写到十一点",
         "The teacher hit my son yesterday", "幼儿园一个月收三千多，太贵了", "学校周末组织补课，每人收费500元"]


def _conversations(seed: int, people: int = 24, length: int = 14) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    pool = ASIDES + ANSWERS + STORY
    out = []
    for p in range(people):
        for _ in range(length):
            out.append((f"o_fast{p:02d}", rng.choice(pool)))
    rng.shuffle(out)  # people's messages interleaved, each person's in order
    by_person: dict[str, list[str]] = {}
    for openid, text in out:
        by_person.setdefault(openid, []).append(text)
    return [(openid, text) for openid, texts in by_person.items() for text in texts]


async def _handle_all(make_config, messages: list[tuple[str, str]], path) -> list:
    clock = FixedClock(MONDAY)
    config = make_config(bot={"hotline": "12345678"}, storage={"path": str(path)})  # a database of its own
    async with running(create_app(config, clock=clock)) as app:
        app[SCHEDULER].pause()
        await app[DB].run(lambda db: staff.bind(db, "o_hp", "jn-hpcz", "handler", "和平初中·张老师", 0))
        seen = []
        for n, (openid, text) in enumerate(messages):
            clock.advance(7)
            replies = await app[DISPATCHER].handle(Inbound(openid=openid, kind="text", created_at=n, text=text,
                                                           msg_id=f"m{n}"))
            row = await app[DB].run(lambda db, o=openid: db.conn.execute(
                "SELECT flow, state, data FROM conversations WHERE openid = ?", [o]).fetchone())
            seen.append(([dataclasses.astuple(r) for r in replies], row))
        return seen


@pytest.mark.slow
async def test_a_reply_that_is_no_aside_skips_the_checks_and_every_answer_stays_the_same(make_config, monkeypatch,
                                                                                       tmp_path):
    messages = _conversations(seed=10)
    fast = await _handle_all(make_config, messages, tmp_path / "fast.db")
    assert sum(not intake.may_be_aside(intake.normalise(t)) for _o, t in messages) > len(messages) / 3
    monkeypatch.setattr(intake, "may_be_aside", lambda text: True)  # every reply through every check
    slow = await _handle_all(make_config, messages, tmp_path / "slow.db")
    assert len(fast) == len(slow) == len(messages)
    for (openid, text), a, b in zip(messages, fast, slow):
        assert a == b, (openid, text)


def test_every_aside_matches_the_look_and_plain_words_do_not():
    for text in ASIDES:
        assert intake.may_be_aside(intake.normalise(text)), text
    # (不同意 is one since people15: the consent refused early, where the question on screen has no such answer)
    for text in ["作业有点多", "1", "同意", "江南区实验小学", "孩子在和平初中读初二，老师收了家长的红包"]:
        assert not intake.may_be_aside(intake.normalise(text)), text


def test_the_draft_round_trips_its_dict_and_json_unchanged():
    d = Draft(openid="o1", parts=["作业太多"], kind="complaint", routing={"category": "burden"}, held="还有")
    data = d.to_dict()
    assert data == dataclasses.asdict(d) and list(data) == [f.name for f in dataclasses.fields(Draft)]
    again = Draft.from_dict(data)
    assert again == d and again.to_dict() == data and again.to_dict() is not data
    again.parts.append("更多")  # the lists are the draft's, as before (the cache hands a row out once)
    assert d.parts == ["作业太多", "更多"]
    again.kind = "inquiry"  # the dict itself is not the draft's
    assert data["kind"] == "complaint"
    assert json.dumps(Draft.from_dict(json.loads(json.dumps(data))).to_dict(), ensure_ascii=False) == \
        json.dumps(data, ensure_ascii=False)
    old = {"openid": "o2", "parts": ["a"], "dropped_since": 1}  # an older version's draft: defaults, key dropped
    assert Draft.from_dict(old) == Draft(openid="o2", parts=["a"])
    d.extra_note = "x"  # an attribute that is no field is not stored
    assert "extra_note" not in d.to_dict()


async def test_a_turn_reads_the_language_and_the_school_names_no_more_than_once(make_config, monkeypatch):
    from handlers.dispatcher import _Services
    monkeypatch.setattr(_Services, "verify_lang", False)  # (the suite's check reads users.lang itself)
    clock = FixedClock(MONDAY)
    async with running(create_app(make_config(), clock=clock)) as app:
        app[SCHEDULER].pause()
        seen: list[str] = []

        def traced(db, inbound):
            db.conn.set_trace_callback(seen.append)
            try:
                return app[DISPATCHER].handle_tx(db, inbound)
            finally:
                db.conn.set_trace_callback(None)
        said = []
        for n, text in enumerate(["I want to complain about homework", "it is far too much, every night",
                                  "Heping Middle School", "火星第一小学", "滨河小学"]):
            said.append(await app[DB].run(traced, Inbound(openid="o_en", kind="text", created_at=n, text=text)))
        assert all(r and r[0].text for r in said)
        assert not any("SELECT lang FROM users" in s for s in seen)  # the turn's own row said it
        assert sum("FROM units WHERE kind IN" in s for s in seen) <= len(said)  # at most once a transaction
