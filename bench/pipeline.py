#!/usr/bin/env python3
"""CPU per message of the webhook's own work in one process, beside the echo's, without HTTP or sockets.

    python bench/pipeline.py [--mix short|routing] [--messages 6000] [--concurrency 50] [--repeat 3]

bench/webhook.py measures the real thing (wrk, sockets, aiohttp), but on a machine shared with other work its
figures move by 20-40 % from one minute to the next. This drives the same handlers with aiohttp's mocked
requests instead: `concurrency` coroutines on one uvloop, each posting bench/webhook.py's encrypted messages one
after another to the service's webhook handler (signature, AES, XML, receiver, database, handling, reply) and,
in the same run, to bench/echo_server.py's handler (signature, AES, XML, reply; nothing stored). What it leaves
out is aiohttp's HTTP parsing and response writing, the same work for both. It prints the process's CPU per
message (all threads), the best of --repeat runs on a fresh database each, and the ratio of the two.

A pair of runs (old code, new code: PYTHONPATH=<old checkout> for the old) shows what a change did; the
difference between the service and the echo here is what one process spends beyond a bare echo per message.
"""
from __future__ import annotations

import argparse
import asyncio
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import webhook as wh  # (its config, mixes and sender pool)

from bot.app import DB, WEBHOOK, create_app
from bot.config import load_config
from tests import wx
from tests.conftest import running


def requests(n: int, mix: str, seed: int, openids: int | None = None) -> list[tuple[dict, bytes]]:
    rng = random.Random(seed)
    text = wh.MIXES[mix]
    pool = [f"o_bench{rng.getrandbits(80):020x}" for _ in range(max(1, openids or n // 4))]
    timestamp = str(int(time.time()))
    out = []
    for i in range(n):
        openid = pool[i % len(pool)]
        inner = wx.text_xml(openid, text(rng), msg_id=wh.MSG_ID_BASE + i, created=int(timestamp))
        body, query = wx.encrypted(inner, openid, timestamp=timestamp, nonce=f"{wh.NONCE_PREFIX}{i}")
        out.append((query, body.encode()))
    return out


class Posted:
    """What the two handlers read of an aiohttp request (aiohttp's own mocked request builds a dozen Mocks, which
    would cost more than the handlers)."""

    __slots__ = ("query", "body", "content_length")
    method, path, remote, content_type = "POST", "/wechat", "127.0.0.1", "text/xml"

    def __init__(self, query: dict, body: bytes):
        self.query, self.body, self.content_length = query, body, len(body)

    async def read(self) -> bytes:
        return self.body


async def drive(handler, reqs: list[tuple[dict, bytes]], concurrency: int) -> float:
    """CPU ms per message of posting `reqs` to `handler`, `concurrency` at a time."""
    it = iter(reqs)

    async def client():
        for query, body in it:
            response = await handler(Posted(query, body))
            if response.status != 200 or b"<Encrypt>" not in response.body:
                raise SystemExit(f"unexpected answer {response.status}: {response.body[:200]!r}")

    t0, s0 = time.process_time(), resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw
    await asyncio.gather(*(client() for _ in range(concurrency)))
    SWITCHES.append((resource.getrusage(resource.RUSAGE_SELF).ru_nvcsw - s0) / len(reqs))
    return (time.process_time() - t0) / len(reqs) * 1000


# voluntary context switches per message of the last drive (a thread waiting: for the GIL, a queue, an event)
SWITCHES: list[float] = []
# CPU ms per message of the writer thread alone (its SQLite and the handling) in the last service run
WRITER: list[float] = []


async def service_run(reqs, concurrency: int, warm: int) -> float:
    tmp = Path(tempfile.mkdtemp(prefix="tingjian-pipeline-"))
    try:
        app = create_app(load_config(wh.write_config(tmp, 18099), env={}))
        async with running(app):
            post = app[WEBHOOK].post
            await drive(post, reqs[:warm], concurrency)  # warm: the router's first cuts, the caches
            writer = app[DB]
            w0 = await writer.run(lambda _db: time.thread_time())
            ms = await drive(post, reqs[warm:], concurrency)
            WRITER.append((await writer.run(lambda _db: time.thread_time()) - w0) / (len(reqs) - warm) * 1000)
            return ms
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


async def echo_run(reqs, concurrency: int, warm: int) -> float:
    import echo_server
    app = echo_server.make_app()
    handler = next(r.handler for r in app.router.routes() if r.method == "POST")
    await drive(handler, reqs[:warm], concurrency)
    return await drive(handler, reqs[warm:], concurrency)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mix", choices=sorted(wh.MIXES), default="short")
    p.add_argument("--messages", type=int, default=6000)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--openids", type=int, default=None,
                   help="senders (default messages/4: four messages each); fewer: longer conversations, as "
                        "bench/webhook.py --openids 1000 sends ~14 each in 10 s")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--no-echo", action="store_true")
    args = p.parse_args()
    try:
        import uvloop
        new_loop = uvloop.new_event_loop
    except ImportError:
        new_loop = asyncio.new_event_loop
    reqs = requests(args.messages, args.mix, seed=1, openids=args.openids)
    warm = min(500, args.messages // 5)
    service, echo, switches, writer = [], [], [], []
    for _ in range(args.repeat):  # interleaved, so both see the same minutes of a shared machine
        service.append(_run(new_loop, service_run(reqs, args.concurrency, warm)))
        switches.append(SWITCHES[-1])
        writer.append(WRITER[-1])
        if not args.no_echo:
            echo.append(_run(new_loop, echo_run(reqs, args.concurrency, warm)))
    best = service.index(min(service))
    line = (f"pipeline CPU per message ({args.mix} mix, {args.messages - warm} messages, "
            f"{args.openids or max(1, args.messages // 4)} senders, c={args.concurrency}): "
            f"service best {min(service):.3f} ms (runs {', '.join(f'{r:.3f}' for r in service)}; "
            f"{min(switches):.2f} thread switches per message; of it the writer thread {writer[best]:.3f} ms, "
            f"the event loop and the rest {service[best] - writer[best]:.3f} ms)")
    if echo:
        line += (f"; echo best {min(echo):.3f} ms (runs {', '.join(f'{r:.3f}' for r in echo)})"
                 f" -> ratio {min(echo) / min(service):.2f}x")
    print(line)
    return 0


def _run(new_loop, coro):
    loop = new_loop()
    try:
        return loop.run_until_complete(coro)
    finally:
        loop.close()


if __name__ == "__main__":
    sys.exit(main())
