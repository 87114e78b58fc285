"""The HTTP workers route a message's own words for the writer process (Dispatcher.text_hints / take_hints,
bot/writer.py): what the writer takes must be exactly what it would have computed, and it must take nothing from
a router that is not its own."""
from __future__ import annotations

import asyncio
import csv
import dataclasses
import random
import sys
import time
from pathlib import Path

import pytest

from bot.app import router_id
from bot.config import load_config
from bot.receiver import Receiver
from bot.writer import Frames, encode
from handlers.clock import FixedClock
from handlers.dispatcher import Dispatcher
from handlers.messages import Inbound
from handlers.routing import Router
from storage.db import Database
from tests.conftest import shared_file

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "bench"))
import webhook as bench_webhook  # noqa: E402  (bench/webhook.py: its routing mix and short texts)

SCHOOLS = [("S001", "实验小学", ()), ("S002", "第一中学", ())]


@pytest.fixture(scope="module")
def router() -> Router:
    return Router.from_toml(schools=SCHOOLS)


def _dispatcher(router: Router, rid: str | None = "r1") -> Dispatcher:
    d = Dispatcher(None, router)
    d.set_router_id(rid)
    return d


def _inbound(text: str, n: int = 1, openid: str = "o_hint") -> Inbound:
    return Inbound(openid=openid, kind="text", created_at=1_700_000_000, text=text, msg_id=str(n))


def _over_the_wire(hints: dict) -> dict:
    """The hints as the writer reads them: in a frame, encoded and parsed as the wire does."""
    [msg] = Frames().feed(encode({"op": "receive", "hints": hints}))
    return msg["hints"]


class _Counting:
    """A router that counts the texts it was asked to route (the writer's must stay at 0 when hints are given)."""

    def __init__(self, router: Router):
        self.router, self.routed = router, 0

    def __getattr__(self, name):
        return getattr(self.router, name)

    def route(self, text: str):
        self.routed += 1
        return self.router.route(text)


def _texts() -> list[str]:
    rng = random.Random(5)
    texts = [bench_webhook.routing_text(rng) for _ in range(150)] + list(bench_webhook.TEXTS)
    texts += ["  孩子被老师打了，脸都肿了  ", "學校亂收費，請教育局管一管", "查询", "1", "好的", "ｊｙ２０２６", "Teacher hit my son",
              "实验小学的食堂很脏", "第一中学周末补课收费", "谢谢老师", "救命 孩子在学校被打出血了"]
    return texts


def _compare(router: Router, texts: list[str]) -> int:
    worker = _dispatcher(router)
    given = 0
    for n, text in enumerate(texts):
        writer = _dispatcher(_Counting(router))
        writer.set_router_id("r1")
        hints = worker.text_hints(_inbound(text, n))
        if hints is None:  # nothing to route, or this worker routed it lately: the writer routes it itself
            assert not text.strip() or worker.routing(text.strip()) is not None
            continue
        writer.take_hints(_over_the_wire(hints))
        got = writer.routing(text.strip())
        assert writer.router.routed == 0, text  # the writer used the worker's decision
        expected = _dispatcher(router).routing(text.strip())  # computed afresh, as the writer would have
        assert got == expected, text
        assert got.json_text == expected.json_text, text  # what a draft stores: the same bytes
        assert type(got) is type(expected)
        given += 1
    return given


def test_a_workers_routing_is_what_the_writer_would_compute(router):
    texts = _texts()
    assert _compare(router, texts) >= len(set(t.strip() for t in texts)) - 5


@pytest.mark.slow
def test_route_dev_texts_hinted_are_what_the_writer_would_compute(router):
    path = shared_file("route_dev.csv")
    with open(path, encoding="utf-8") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    assert len(texts) > 100
    assert _compare(router, texts) >= len(set(t.strip() for t in texts)) - 5


def test_hints_from_another_router_or_none_are_not_taken(router):
    worker = _dispatcher(router, "r1")
    text = "我家孩子三年级二班每天作业写到晚上十一点，希望尽快处理"
    hints = _over_the_wire(worker.text_hints(_inbound(text)))
    forged = {"router": "r1", "route": {text: '{"category": "praise", "confidence": 1.0}'}}

    other = _dispatcher(_Counting(router), "r2")  # another rules file, code or school list
    other.take_hints(hints)
    assert other.routing(text) == _dispatcher(router).routing(text) and other.router.routed == 1

    unnamed = _dispatcher(_Counting(router), None)  # in one process: no router id, no hints taken
    unnamed.take_hints(hints)
    assert unnamed.routing(text)["category"] != "praise" and unnamed.router.routed == 1

    swapped = _dispatcher(router, "r1")  # a router swapped in after the hint came: the hint is not used
    swapped.take_hints(forged)
    swapped.router = _Counting(router)
    assert swapped.routing(text)["category"] != "praise" and swapped.router.routed == 1
    assert swapped.router_id is None  # the id was the old router's

    for bad in ({"router": "r1", "route": {text: {"category": "praise"}}}, {"router": "r1", "route": []},
                {"router": "r1"}, "r1"):
        d = _dispatcher(_Counting(router), "r1")
        d.take_hints(bad)  # malformed: ignored, never raises
        assert d.routing(text)["category"] != "praise" and d.router.routed == 1

    no_text = _dispatcher(router)
    assert no_text.text_hints(_inbound("   ")) is None
    assert no_text.text_hints(dataclasses.replace(_inbound(""), kind="image", media_id="m1")) is None


def test_a_worker_sends_a_text_once_and_unused_hints_are_dropped_in_turn(router):
    worker = _dispatcher(router)
    assert worker.text_hints(_inbound("校车每天都迟到，孩子上学总是迟到")) is not None
    assert worker.text_hints(_inbound("校车每天都迟到，孩子上学总是迟到", 2)) is None  # routed lately: the writer has it
    writer = _dispatcher(router)
    for n in range(Dispatcher.MAX_GIVEN + 50):
        writer.take_hints({"router": "r1", "route": {f"文本{n}": "{}"}})
    assert len(writer._given) == Dispatcher.MAX_GIVEN and "文本0" not in writer._given


def test_the_router_id_names_the_rules_the_code_and_the_schools(tmp_path):
    config = load_config(None, env={})
    schools = [{"code": "S001", "name": "实验小学"}]
    assert router_id(config, schools) == router_id(config, list(schools))
    assert router_id(config, schools) != router_id(config, schools + [{"code": "S002", "name": "第一中学"}])
    rules = tmp_path / "rules.toml"
    rules.write_text(Router.from_toml.__globals__["DEFAULT_RULES"].read_text(encoding="utf-8"), encoding="utf-8")
    moved = load_config(None, env={}, overrides={"routing": {"rules": str(rules)}})
    assert router_id(moved, schools) != router_id(config, schools)


async def test_handling_with_hints_answers_and_stores_exactly_as_without(tmp_path, router):
    """The same conversations (short and routing-heavy messages, several senders) handled by a writer that takes
    every hint and by one that takes none: the same replies, the same drafts stored, byte for byte."""
    rng = random.Random(9)
    people = [f"o_same_{k}" for k in range(6)]
    messages = []
    for n in range(90):
        text = bench_webhook.routing_text(rng) if rng.random() < 0.5 else rng.choice(bench_webhook.TEXTS)
        messages.append(_inbound(text, 1000 + n, people[n % len(people)]))
    worker = _dispatcher(router, "same")
    outcomes, routed = [], []
    for hinted in (True, False):
        db = Database(tmp_path / f"{hinted}.db").start()
        clock = FixedClock(1_767_000_000.0)
        d = Dispatcher(db, _Counting(router), clock)
        d.set_router_id("same")
        r = Receiver(db, d.handle_tx, clock, reply_timeout=4.5, take_hints=d.take_hints)
        replies = []
        for inbound in messages:
            hints = worker.text_hints(inbound) if hinted else None
            if hints is None and hinted:
                hints = {"router": "same", "route": {inbound.text.strip(): worker.routing(inbound.text.strip()).json_text}}
            done = []
            # no webhook deadline that a busy machine could pass: the replies compared are the passive ones
            r.receive_soon(inbound, None, time.monotonic() + 3600, done.append,
                           _over_the_wire(hints) if hints else None)
            while not done:
                await asyncio.sleep(0.001)
            replies.append(done[0].text if done[0] is not None else None)
            clock.advance(7)
        rows = await db.read(lambda c: [tuple(x) for x in c.execute(
            "SELECT openid, flow, state, data FROM conversations ORDER BY openid").fetchall()])
        outcomes.append((replies, rows))
        routed.append(d.router.routed)
        await r.stop()
        db.close()
    assert outcomes[0] == outcomes[1]
    assert routed[0] < routed[1] / 2, routed  # the hinted writer routed drafts only, not each message's words
    assert any("category" in row[3] for row in outcomes[0][1])  # drafts with routing were stored


def test_the_remembered_language_and_command_of_a_text_are_what_they_read():
    from handlers import commands
    from handlers.dispatcher import _said
    from handlers.intake import normalise, written_lang
    texts = _texts() + ["查询", "查詢 JY2611-0001", "my status please", "thank you", "hi", "江南区实验小学", "回复 好的"]
    for text in texts * 2:  # the second time from memory
        t = normalise(text)
        lang = written_lang(t)
        assert _said(t) == (lang, lang == "zh" and commands.is_command(t)), text


def test_the_router_id_ignores_what_else_shares_the_rules_folder(tmp_path):
    """Rules kept beside the database (which changes with every commit): the id follows the rules and their
    models only, so a writer and a worker started at different moments agree."""
    rules = tmp_path / "rules.toml"
    rules.write_text(Router.from_toml.__globals__["DEFAULT_RULES"].read_text(encoding="utf-8"), encoding="utf-8")
    config = load_config(None, env={}, overrides={"routing": {"rules": str(rules)}})
    before = router_id(config, [])
    (tmp_path / "tingjian.db").write_bytes(b"changed by every commit")
    assert router_id(config, []) == before
    time.sleep(0.01)
    rules.write_text(rules.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    assert router_id(config, []) != before
