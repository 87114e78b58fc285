"""The command layer against messy input (issue 8 item 14): random mixes of verbs, ticket-like references,
digits from other scripts, huge numbers and markup, from a citizen, a handler, the duty office and a leader. The
core is called directly (not through the receiver, which would turn an exception into an apology), so any
exception fails the test; every message gets an answer."""
from __future__ import annotations

import random
import time

import pytest
from aiohttp import web

from bot.app import DB, DISPATCHER, create_app
from tests.conftest import pause_jobs
from handlers.commands import TABLE
from handlers.messages import Inbound
from storage import staff

PIECES = ["JY2611-0001", "jy2611-1", "ＪＹ２６１１－０００１", "2611-1", "0001", "1", "12", "99", "፩", "𐩀", "١", "٣",
          "9" * 4300, "", " ", "：", "，", "<a href='x'>", "]]>", "\x00", "\ud800", "江南区教育局", "收费", "3 很好",
          "JY9999-999999999", "-", "JY", "学校收费太高了", "同意", "。", "？", "\n"]
VERBS = sorted({w for c in TABLE for w in c.words}) + ["", "查询一下", "回复一下"]


@pytest.fixture
async def core(make_config):
    app = create_app(make_config())
    runner = web.AppRunner(app)
    await runner.setup()
    await pause_jobs(app)
    now = time.time()
    await app[DB].run(lambda db: [staff.bind(db, "o_h", "jyj-sfc", "handler", "李老师", now),
                                  staff.bind(db, "o_duty", "jyj-bgs", "handler", "刘主任", now),
                                  staff.bind(db, "o_lead", "jyj", "leader", "周局长", now)])
    yield app
    await runner.cleanup()


async def test_random_commands_never_raise_and_always_answer(core):
    d = core[DISPATCHER]
    rng = random.Random(20261116)
    n = 0

    async def say(openid: str, text: str):
        nonlocal n
        n += 1
        inbound = Inbound(openid=openid, kind="text", text=text, created_at=n, msg_id=f"f{n}")
        replies = await core[DB].run(d.handle_tx, inbound)  # no receiver: an exception fails the test
        assert replies and all(isinstance(r.text, str) for r in replies), (openid, text)

    for text in ("我们学校要求每个学生交300元资料费，还不给收据", "1", "0", "2", "1"):  # one real ticket to aim at
        await say("o_citizen", text)
    for _ in range(600):
        text = rng.choice(VERBS) + rng.choice(["", " ", "：", "　"]) + " ".join(
            rng.choice(PIECES) for _ in range(rng.randint(0, 3)))
        await say(rng.choice(["o_citizen", "o_other", "o_h", "o_duty", "o_lead"]), text)
