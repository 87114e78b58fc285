"""The demo's clock: time can run faster and jump ahead, and every sweep runs after a jump, so reminders, 催办,
escalation and the Monday digest can be seen in a demo."""
from __future__ import annotations

import asyncio
import re

from handlers.clock import DemoClock
from tests.test_demo import demo, send  # noqa: F401 - the fixture

PARENT, HANDLER, LEADER = "o_demo_parent_wang", "o_demo_staff_xqc", "o_demo_leader"


async def pushed(session, openid: str) -> list[dict]:
    async with session.get("/sandbox/messages", params={"openid": openid}) as resp:
        return (await resp.json())["messages"]


async def wait_for_text(session, openid: str, pattern: str, timeout: float = 60) -> list[dict]:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        messages = await pushed(session, openid)
        if any(re.search(pattern, m["content"]) for m in messages):
            return messages
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no message matching {pattern!r} to {openid}: {messages}")
        await asyncio.sleep(0.1)


async def test_jumping_ahead_runs_the_sweeps_reminders_and_digest_arrive(demo):  # noqa: F811
    await send(demo, PARENT, type="scan", scene="school:jn-xgyey")
    await send(demo, PARENT, type="text", content="幼儿园一学期收了3000元保育费，还要额外交兴趣班费，想投诉")
    await send(demo, PARENT, type="text", content="0")
    await send(demo, PARENT, type="text", content="2")
    number = re.search(r"JY\d{4}-\d{4}", await send(demo, PARENT, type="text", content="1")).group(0)
    await wait_for_text(demo, HANDLER, "新留言待签收")

    async with demo.get("/sandbox/clock") as resp:
        start = await resp.json()
    swept = digests = 0
    for _ in range(12):  # a day at a time, as a presenter would click
        async with demo.post("/sandbox/clock", json={"days": 1}) as resp:
            assert resp.status == 200
            moved = await resp.json()
        swept += moved["ran"]["deadlines"]
        digests += moved["ran"]["digests"]
    assert 12 * 86400 <= moved["now"] - start["now"] < 12 * 86400 + 60
    assert swept >= 4 and digests >= 1  # accept, half, 80%, 催办, escalation; a Monday 09:00 was passed
    # The handler (silent for days, so outside the 48-hour window) gets the reminders as template messages,
    # and the leaders get the escalation.
    await wait_for_text(demo, HANDLER, "办理提醒")
    await wait_for_text(demo, LEADER, f"留言超期\nkeyword1: {number}")
    # The digest waits for the leader's next message (no template for it), then arrives.
    await send(demo, LEADER, type="text", content="帮助")
    await wait_for_text(demo, LEADER, "留言周报")


async def test_bad_jumps_are_refused_and_change_nothing(demo):  # noqa: F811
    async with demo.get("/sandbox/clock") as resp:
        start = (await resp.json())["now"]
    for body in ({"hours": -1}, {"days": 0}, {"weeks": 1}, {"hours": "3"}, {"days": 61}, [], {"hours": True}):
        async with demo.post("/sandbox/clock", json=body) as resp:
            assert resp.status == 400, body
            assert "error" in await resp.json()
    async with demo.get("/sandbox/clock") as resp:
        assert (await resp.json())["now"] - start < 5


def test_demo_clock_runs_faster_from_its_start():
    import time
    assert abs(DemoClock().now() - time.time()) < 1  # speed 1, no jump: the real clock
    clock = DemoClock(speed=1000)
    t0 = clock.now()
    time.sleep(0.05)
    assert 40 < clock.now() - t0 < 2000  # 50 ms of real time is about 50 s of demo time
    t1 = clock.now()
    clock.advance(3 * 86400)
    assert clock.now() - t1 >= 3 * 86400


async def test_a_faster_demo_sweeps_more_often(tmp_path):
    import datetime as dt

    from bot.app import CLOCK, SCHEDULER, create_app
    from bot.demo import demo_config
    from tests.conftest import running
    from tests.test_process import free_port
    clock = DemoClock(speed=60)
    async with running(create_app(demo_config(port=free_port(), data_dir=str(tmp_path)), clock)) as app:
        assert app[CLOCK] is clock
        scheduler = app[SCHEDULER]
        assert scheduler.get_job("deadlines").trigger.interval == dt.timedelta(seconds=5)  # 5 min / 60
        assert scheduler.get_job("weekly-digest-demo") is not None  # the demo's Monday comes before the real one
    async with running(create_app(demo_config(port=free_port(), data_dir=str(tmp_path / "b")))) as app:
        assert app[SCHEDULER].get_job("deadlines").trigger.interval == dt.timedelta(minutes=5)
        assert app[SCHEDULER].get_job("weekly-digest-demo") is None
