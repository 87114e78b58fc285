#!/usr/bin/env python3
"""Long replies at each step of a conversation: the writer thread's CPU for one, as a ratio to an ordinary
message's at the same step (the reference, measured in the same run).

    python bench/long_texts.py [--length 4000] [--port 9100]

The demo (bot, sandbox, bound staff) in this process, as tests/dialog.py runs it. For each step (a new person; in
the middle of writing a message; at the phone question; with a filed ticket) and each long text (a greeting and a
run of spaces or newlines, digits, English words, emoji, a repeated phrase), a new person is brought to the step
and sends it; the CPU its handlings took on the writer thread (time.thread_time around Receiver.handle_tx, WeChat's
retries of it included) is printed beside the ordinary reply's at the same step. Every message holds the writer thread (and the GIL) while it
is handled, so a reply costing seconds keeps every other person's message waiting, and the webhook past WeChat's
5 s (a row marked '!': the sandbox gave up after three tries). A ratio in the thousands is a check whose time grows faster than the text (see bench/README.md, "flaky24").
"""
from __future__ import annotations

import argparse
import asyncio
import dataclasses
import sys
import tempfile
import time

import common  # noqa: F401  (this checkout on sys.path)

import aiohttp

from bot.app import RECEIVER, create_app
from bot.demo import demo_config
from handlers.clock import FixedClock
from tests.conftest import pause_jobs, running
from tests.dialog import Dialog, at, file_ticket, settle, talk

ORDINARY = "好的，谢谢"


def texts(n: int) -> dict[str, str]:
    return {"你好+spaces": "你好" + " " * n + "x", "老师+newlines": "老师" + "\n" * n + "x", "digits": "9" * n,
            "english": "no phone " * (n // 9), "emoji": "😀 " * (n // 2), "你好，": "你好，" * (n // 3),
            "x+spaces+y": "x" + " " * n + "y", "han": "一" * n}


async def main(length: int, port: int) -> int:
    with tempfile.TemporaryDirectory(prefix="long-texts-") as tmp:
        config = demo_config(port=port, data_dir=tmp)
        config = dataclasses.replace(config, outbox=dataclasses.replace(config.outbox, poll_seconds=0.02))
        clock = FixedClock(at("2026-11-16 09:00"))
        async with running(create_app(config, clock=clock), port) as app:
            await pause_jobs(app)
            receiver = app[RECEIVER]
            real, took = receiver.handle_tx, {}

            def timed(db, inbound, *reads):
                started = time.thread_time()
                try:
                    return real(db, inbound, *reads)
                finally:  # by sender: WeChat's retries of an earlier long reply may still be handled meanwhile
                    took.setdefault(inbound.openid, []).append(time.thread_time() - started)
            receiver.handle_tx = timed
            async with aiohttp.ClientSession(base_url=f"http://127.0.0.1:{port}") as session:
                d = Dialog(app, session, clock)

                async def to_step(who: str, step: str) -> None:
                    if step in ("draft", "phone"):
                        await talk(d, who, "学校食堂饭菜太贵了，孩子每天都吃不饱")
                    if step == "phone":
                        await talk(d, who, "1")
                    if step == "ticket":
                        await file_ticket(d, who, "学校食堂饭菜太贵了，孩子每天都吃不饱", scene="school:jn-syxx")

                async def cost(who: str, text: str) -> float:
                    took.pop(who, None)
                    try:
                        await talk(d, who, text)
                    except AssertionError:  # the sandbox gave up (WeChat's 5 s, three tries): marked '!'
                        print("!", end="")
                    await settle(d, who, timeout=600)  # every try of it handled
                    return sum(took.get(who, []))
                worst = 0.0
                print(f"{'step':8} {'text':14} {'cpu ms':>9} {'ordinary ms':>12} {'ratio':>8}")
                for step in ("fresh", "draft", "phone", "ticket"):
                    for n, (name, text) in enumerate(texts(length).items()):
                        ref_who, who = f"o_ref_{step}_{n}", f"o_long_{step}_{n}"
                        await to_step(ref_who, step)
                        await to_step(who, step)
                        ordinary, long = await cost(ref_who, ORDINARY), await cost(who, text)
                        ratio = long / max(ordinary, 1e-4)
                        worst = max(worst, ratio)
                        print(f"{step:8} {name:14} {long * 1000:9.1f} {ordinary * 1000:12.1f} {ratio:8.1f}",
                              flush=True)
                print(f"worst ratio {worst:.1f}")
    return 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--length", type=int, default=4000)
    parser.add_argument("--port", type=int, default=9100)
    args = parser.parse_args()
    sys.exit(asyncio.run(main(args.length, args.port)))
