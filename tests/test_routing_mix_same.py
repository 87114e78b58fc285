"""Routing made cheaper for new sentences (issue 10's routing-heavy mix, branch route8) answers and stores exactly as
before: whole conversations of new sentences (each routed alone, then as the draft grows), answers to the intake's
questions, asides and shipped labelled messages, handled on fresh databases through the new code and through the code
before it (tests/routing/test_fast_same.py keeps it verbatim: jieba's DAG read from jieba's dictionary at every
fragment, the demand's word lists filtered word by word, the literals' set built in Python; since route9 also the
route made in one call, every text cut afresh, and the another-matter check reading the supplement's whole routing),
give the same reply to every message, the same conversation row after every message, and the same tickets (category,
routing JSON with its urgency flag and evidence, deadline), byte for byte.
"""
from __future__ import annotations

import csv
import dataclasses
import functools
import json
import random
from pathlib import Path

import pytest

from bot.app import DB, DISPATCHER, SCHEDULER, create_app
from handlers.clock import FixedClock
from handlers import names
from handlers.dispatcher import Dispatcher, _Services
from handlers.intake import NEW_MATTER_CONFIDENCE, Draft, normalise
from handlers.messages import Inbound
from handlers.routing import Router
from handlers.routing import literals as L
from handlers.routing import router as R
from storage import directory
from tests.conftest import running
from tests.routing.test_fast_same import old_cut, old_cut_block, old_demand, old_present, old_route
from tests.dialog import _ANSWERS as dialog_answers
from tests.test_handling_fast import ANSWERS, ASIDES, MONDAY, STORY

ROOT = Path(__file__).resolve().parent.parent

# bench/webhook.py's routing mix: whole sentences put together from parts, practically every one new
WHO = ["孩子", "我家孩子", "女儿", "儿子", "我们小区的孩子", "外甥"]
GRADE = ["一年级", "三年级", "六年级", "初一", "初三", "高一"]
PROBLEM = ["每天作业写到晚上十一点", "被老师当众体罚了", "被学校收取资料费三百元", "学校午餐质量很差",
           "放学后还要交钱补课", "坐的校车经常超载很危险", "报名入学不知道需要什么材料", "转学手续不知道怎么办理",
           "老师在家长群里推销教辅", "周末被要求到校补课", "幼儿园收取高额兴趣班费用", "课外培训机构跑路不退费",
           "学校厕所长期没人打扫", "体育课总被数学课占用", "在江南区实验小学被同学打伤了"]
TAIL = ["希望尽快处理", "请问应该怎么办", "太不合理了", "麻烦核实一下", "家长们都很着急", "希望教育局管一管"]


def _labelled(limit: int) -> list[str]:
    files = [ROOT / "handlers/routing/training.csv", ROOT.parent / "shared" / "data" / "route_dev.csv"]
    out: list[str] = []
    for f in files:
        if f.exists():
            with open(f, encoding="utf-8-sig", newline="") as fh:
                out += [r["text"] for r in csv.DictReader(fh) if r.get("text")][:limit]
    return out


def old_matter(self, text: str) -> tuple[str, float]:
    """The another-matter check before route9: the supplement's whole routing (kept in the decisions' cache)."""
    alone = self.routing(text)
    return alone["category"], alone.get("confidence", 0)


ROUTER = functools.lru_cache(maxsize=1)(Router.from_toml)  # (one for the checks below)


ANSWER = None  # a move: answer the question just asked, as a person filing would (tests/dialog.py's answers)


def _answer(reply: str, rng: random.Random) -> str:
    key = next((a for k, a in dialog_answers if k in reply and a), None)
    if key is None:
        return rng.choice(ANSWERS)
    return key.format(kind=rng.choice("1234"), phone=rng.choice(["0", "13912345678"]), consent=rng.choice("12"))


def _dialogues(seed: int, people: int, length: int) -> list[tuple[str, str | None]]:
    """Each person's moves in turn: a new sentence, a shipped labelled message, an aside or a story line, or an
    answer to whatever the bot asked last (ANSWER)."""
    rng = random.Random(seed)
    labelled = _labelled(400)
    out = []
    for p in range(people):
        for _ in range(length):
            r = rng.random()
            move = (f"{rng.choice(WHO)}{rng.choice(GRADE)}{rng.choice(PROBLEM)}，{rng.choice(TAIL)}" if r < 0.35 else
                    rng.choice(labelled) if r < 0.45 else ANSWER if r < 0.9 else rng.choice(ASIDES + STORY))
            out.append((f"o_r8{p:02d}", move))
    return out


async def _handle(make_config, moves: list[tuple[str, str | None]], path) -> tuple[list, list]:
    rng = random.Random(3)
    clock = FixedClock(MONDAY)
    config = make_config(bot={"hotline": "12345678"}, storage={"path": str(path)})
    async with running(create_app(config, clock=clock)) as app:
        app[SCHEDULER].pause()
        seen, last = [], {}
        for n, (openid, move) in enumerate(moves):
            clock.advance(7)
            text = move if move is not ANSWER else _answer(last.get(openid, ""), rng)
            replies = await app[DISPATCHER].handle(Inbound(openid=openid, kind="text", created_at=n, text=text,
                                                           msg_id=f"m{n}"))
            last[openid] = "\n".join(r.text for r in replies)
            row = await app[DB].run(lambda db, o=openid: db.conn.execute(
                "SELECT flow, state, data FROM conversations WHERE openid = ?", [o]).fetchone())
            seen.append((text, [dataclasses.astuple(r) for r in replies], row))
        tickets = await app[DB].run(lambda db: db.conn.execute("SELECT * FROM tickets ORDER BY id").fetchall())
        return seen, tickets


@pytest.mark.own_router  # each app builds its router: the old code's is built with the old cut
@pytest.mark.slow
async def test_routing_mix_dialogues_answer_and_store_the_same_through_the_old_code_and_the_new(
        make_config, monkeypatch, tmp_path):
    messages = _dialogues(seed=8, people=30, length=14)
    new, new_tickets = await _handle(make_config, messages, tmp_path / "new.db")
    monkeypatch.setattr(R._BlockCut, "_cut_block", old_cut_block)
    monkeypatch.setattr(R.Router, "_demand", old_demand)
    monkeypatch.setattr(L.Literals, "present", old_present)
    monkeypatch.setattr(R.Router, "route", old_route)
    monkeypatch.setattr(R._BlockCut, "cut", old_cut)
    monkeypatch.setattr(Dispatcher, "matter", old_matter)
    old, old_tickets = await _handle(make_config, messages, tmp_path / "old.db")
    assert len(new) == len(old) == len(messages)
    for (openid, _move), a, b in zip(messages, new, old):
        assert a == b, (openid, a[0], b[0])  # (the same words sent, the same replies, the same row)
    assert new_tickets == old_tickets
    # the dialogues went where the routing matters: drafts routed and stored, tickets filed, urgent ones among them
    assert sum(1 for _t, _r, row in new if row and json.loads(row[2]).get("routing")) > 50
    categories = {c for t in new_tickets for c in t if c in R.CATEGORIES}
    assert len(new_tickets) >= 10 and len(categories) >= 4
    assert any('"urgent": true' in c for t in new_tickets for c in t if isinstance(c, str))
    assert any("另一件事" in text for _t, replies, _row in new for (text, *_rest) in replies)


def test_the_another_matter_check_reads_what_the_whole_routing_says():
    """Dispatcher.matter (the another-matter check: no urgency, matters or evidence) is the category and confidence
    routing(text) stores, to the last digit kept, on every shipped labelled text and the mix's sentences; texts at the
    check's line (confidence 0.6, NEW_MATTER_CONFIDENCE) are among them."""
    rng = random.Random(9)
    texts = _labelled(100_000) + [f"{rng.choice(WHO)}{rng.choice(GRADE)}{rng.choice(PROBLEM)}，{rng.choice(TAIL)}"
                                  for _ in range(300)]
    router = ROUTER()
    checked, routed = Dispatcher(None, router), Dispatcher(None, router)
    near = 0
    for text in texts:
        whole = routed.routing(text)
        assert checked.matter(text) == (whole["category"], whole["confidence"]), text
        near += abs(whole["confidence"] - NEW_MATTER_CONFIDENCE) <= 0.01
    assert len(texts) > 1000 and near >= 5


def test_the_another_matter_check_takes_a_decision_an_http_worker_gave():
    writer = Dispatcher(None, ROUTER())
    writer.set_router_id("r1")
    text = "孩子三年级被学校收取资料费三百元，麻烦核实一下"
    writer.take_hints({"router": "r1", "route": {text: '{"category": "praise", "confidence": 0.9}'}})
    assert writer.matter(text) == ("praise", 0.9)  # the worker's, as routing(text) takes it: not routed here
    assert writer.routing(text)["category"] == "praise"


def old_find_school(self, text: str, loose: bool = True, said: str | None = None) -> str | None:
    """_Services.find_school before route9 (always loose; its own match for the fuzzy guess; no place narrowing,
    people16: `said` is read by the new code only)."""
    if names.generic(text):
        return None
    code = self.d.router.find_school(text)
    if code:
        return code
    rows = directory.school_names(self.db)
    hits = [code for code, name in rows if text and (text in name or name in text)]
    if len(hits) == 1:
        return hits[0]
    sure = names.best(text, rows) if not hits else None
    return sure.code if sure else None


def old_suggest_schools(self, text: str) -> list[tuple[str, str]]:
    return [(m.code, m.name) for m in names.match(text, directory.school_names(self.db))]


async def test_a_school_named_in_a_reply_is_read_as_before(make_config, monkeypatch, tmp_path):
    """The intake takes a reply as a school's name (_take_school, at any question) and reads the school question's
    answer (_read_school) exactly as before, where the lookup now skips its fuzzy guess for the first (never a name
    in the text) and makes one match for both lookups of the second: names typed whole, with a wrong character of
    the same sound, cut short, led by 是/在, inside a story, and the mix's sentences."""
    rng = random.Random(4)
    mix = [f"{rng.choice(WHO)}{rng.choice(GRADE)}{rng.choice(PROBLEM)}，{rng.choice(TAIL)}" for _ in range(200)]
    async with running(create_app(make_config(storage={"path": str(tmp_path / "s.db")}))) as app:
        def read(db):
            rows = directory.school_names(db)
            queries = []
            for _code, name in rows:
                typo = name.replace("和", "河").replace("实", "石").replace("江", "姜")
                queries += [name, typo, name[3:], typo[3:], f"是{name}", f"在{typo}", f"孩子在{name}被同学打伤了",
                            f"{typo}的食堂很差", f"{name[3:]}收费", name[:-2], name + "，谢谢"]
            queries += mix
            seen = []
            for q in queries:
                intake = app[DISPATCHER]._intake(db, "o_school")
                d = Draft(openid="o_school")
                took = intake._take_school(normalise(q), d)
                seen.append((q, took, d.school, intake._read_school(normalise(q), Draft(openid="o_school")),
                             names.best(normalise(q), rows) is not None))
            return seen
        new = await app[DB].run(read)
        monkeypatch.setattr(_Services, "find_school", old_find_school)
        monkeypatch.setattr(_Services, "suggest_schools", old_suggest_schools)
        old = await app[DB].run(read)
    assert [s[:4] for s in new] == [s[:4] for s in old]
    assert sum(1 for s in new if s[1]) >= 10  # names taken
    assert sum(1 for s in new if s[4] and not s[1]) >= 10  # a sure fuzzy guess there, and nothing taken: as before
    assert sum(1 for s in new if s[3] is not None) > sum(1 for s in new if s[1])  # the question's reading looser
