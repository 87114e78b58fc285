#!/usr/bin/env python3
"""The event loop's CPU per message through aiohttp's whole HTTP path, without sockets, beside the echo's.

    python bench/loopside.py [--messages 12000] [--openids 1000] [--concurrency 50] [--rounds 4]

bench/webhook.py measures the real server (wrk, sockets) and prints "CPU by thread", but its figures move 10-30 %
with the minute's load; bench/pipeline.py calls the webhook's handler directly and so leaves out what aiohttp does
around it (the HTTP parser, Request, router, middlewares, signals, response writing) and the app's own wrapper
(`_wechat_post`'s timing). Here each of `concurrency` connections is aiohttp's own protocol (the app's
RequestHandler, as `web.run_app` makes it) with a transport that keeps what is written: a connection is fed one
raw HTTP request (bytes as wrk sends them, bench/webhook.py's encrypted messages), waits for the whole answer,
then sends the next. What is left out is the kernel's socket work, the same for both. Per round, each side on a
fresh uvloop (the service on a fresh database): the main thread's CPU a message (time.thread_time on the loop),
and the service's SQLite writer thread's; rounds alternate which side goes first.
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import pipeline  # (its requests: the same messages, keys and senders)
import webhook as wh  # (its config, mixes and sender pool)



def raw_requests(n: int, mix: str, seed: int, openids: int) -> list[bytes]:
    """bench/pipeline.py's signed, encrypted requests, each as the whole HTTP request wrk sends."""
    out = []
    for query, raw in pipeline.requests(n, mix, seed, openids):
        head = (f"POST /wechat?{urlencode(query)} HTTP/1.1\r\nHost: 127.0.0.1:18099\r\n"
                f"User-Agent: Mozilla/4.0\r\nAccept: */*\r\nContent-Type: text/xml\r\n"
                f"Content-Length: {len(raw)}\r\n\r\n").encode()
        out.append(head + raw)
    return out


class Transport(asyncio.Transport):
    """What aiohttp's protocol writes to, kept until a whole answer (headers + Content-Length bytes) is in."""

    def __init__(self):
        super().__init__()
        self.buf = bytearray()
        self.answered: asyncio.Future | None = None
        self.closing = False

    def write(self, data) -> None:
        self.buf += data
        self._check()

    def writelines(self, chunks) -> None:
        for c in chunks:
            self.buf += c
        self._check()

    def _check(self) -> None:
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        head = bytes(self.buf[:end]).lower()
        i = head.find(b"content-length:")
        length = int(head[i + 15:].split(b"\r\n", 1)[0]) if i >= 0 else 0
        if len(self.buf) >= end + 4 + length:
            answer, self.buf = bytes(self.buf[:end + 4 + length]), self.buf[end + 4 + length:]
            if self.answered is not None and not self.answered.done():
                self.answered.set_result(answer)

    def is_closing(self) -> bool:
        return self.closing

    def close(self) -> None:
        self.closing = True

    def get_extra_info(self, name, default=None):
        return {"peername": ("127.0.0.1", 40000), "sockname": ("127.0.0.1", 18099)}.get(name, default)

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def set_write_buffer_limits(self, high=None, low=None) -> None:
        pass

    def get_write_buffer_size(self) -> int:
        return 0


async def service_round(reqs, warm: int, concurrency: int, settings=()) -> tuple[float, float]:
    from bot.app import DB
    from bot.cli import _serving_app
    from bot.config import load_config
    from tests.conftest import running
    tmp = Path(tempfile.mkdtemp(prefix="tingjian-loopside-"))
    try:
        # the app of `tingjian serve` (its garbage collector frozen after start-up, as in production)
        app = _serving_app(load_config(wh.write_config(tmp, 18099, settings), env={}))
        async with running(app):
            await drive_started(app, reqs[:warm], concurrency)
            db = app[DB]
            writer_tid = await db.run(lambda _db: threading.get_native_id())
            me = threading.get_native_id()
            s0 = {t: switches(t) for t in (me, writer_tid)}
            c0 = (db.calls, db.commits)
            w0 = await db.run(lambda _db: time.thread_time())
            profile = None
            if PROFILE is not None:
                import cProfile
                profile = cProfile.Profile()
                profile.enable()  # (this thread only: the event loop's calls)
            ms = await drive_started(app, reqs[warm:], concurrency)
            if profile is not None:
                profile.disable()
                PROFILE.append(profile)
            writer = (await db.run(lambda _db: time.thread_time()) - w0) / (len(reqs) - warm) * 1000
            SWITCHES.append(tuple((switches(t) - s0[t]) / (len(reqs) - warm) for t in (me, writer_tid)))
            BATCH.append((db.calls - c0[0]) / max(1, db.commits - c0[1]))
            return ms, writer
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


BATCH: list[float] = []  # each service round: the writer's calls a transaction
SWITCHES: list[tuple[float, float]] = []  # each service round: the loop's and the writer's switches a message


def switches(tid: int) -> int:
    """Context switches of one thread of this process (voluntary: it waited, for the GIL above all; involuntary:
    the scheduler took the core)."""
    total = 0
    for line in Path(f"/proc/self/task/{tid}/status").read_text().splitlines():
        if line.endswith("ctxt_switches:") or "ctxt_switches:" in line:
            total += int(line.split()[1])
    return total


PROFILE: list | None = None  # --calls: each round's cProfile of the event loop's thread


async def drive_started(app, reqs, concurrency) -> float:
    """drive() for an app already started (tests.conftest.running): its handler, without a second startup."""
    from aiohttp import web
    server = web.Server(app._handle, request_factory=app._make_request, access_log=None,
                        loop=asyncio.get_running_loop())
    return await _drive_server(server, reqs, concurrency, b"<Encrypt>")


async def _drive_server(server, reqs, concurrency, check) -> float:
    it = iter(reqs)
    loop = asyncio.get_running_loop()

    async def connection():
        proto = server()
        tr = Transport()
        proto.connection_made(tr)
        for req in it:
            tr.answered = loop.create_future()
            proto.data_received(req)
            answer = await tr.answered
            if not answer.startswith(b"HTTP/1.1 200") or check not in answer:
                raise SystemExit(f"unexpected answer: {answer[:300]!r}")
        tr.close()
        proto.connection_lost(None)

    t0 = time.thread_time()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return (time.thread_time() - t0) / len(reqs) * 1000


async def echo_round(reqs, warm: int, concurrency: int) -> float:
    import echo_server
    from aiohttp import web
    app = echo_server.make_app()
    app.freeze()
    app._router.freeze()
    server = web.Server(app._handle, request_factory=app._make_request, access_log=None,
                        loop=asyncio.get_running_loop())
    app._set_loop(asyncio.get_running_loop())
    await _drive_server(server, reqs[:warm], concurrency, b"<Encrypt>")
    return await _drive_server(server, reqs[warm:], concurrency, b"<Encrypt>")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mix", choices=sorted(wh.MIXES), default="short")
    p.add_argument("--messages", type=int, default=12000)
    p.add_argument("--openids", type=int, default=1000)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--no-echo", action="store_true")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="a config setting for the service, as TOML (repeatable), as bench/webhook.py's")
    p.add_argument("--calls", action="store_true",
                   help="also count the event loop's Python function calls a message (cProfile, on the service's "
                        "rounds only: a deterministic count, whatever the machine's load) and print the top ones")
    p.add_argument("--calls-out", metavar="FILE", help="with --calls: the profile, for pstats (a before/after diff)")
    args = p.parse_args()
    if args.calls:
        global PROFILE
        PROFILE = []
    settings = [(*name.split(".", 1), value) for name, _, value in (s.partition("=") for s in args.set)]
    import uvloop
    reqs = raw_requests(args.messages, args.mix, 1, args.openids)
    warm = min(1000, args.messages // 5)
    loops, writers, echoes = [], [], []
    for r in range(args.rounds):
        def service():
            ms, w = uvloop.run(service_round(reqs, warm, args.concurrency, settings))
            loops.append(ms)
            writers.append(w)

        def echo():
            if not args.no_echo:
                echoes.append(uvloop.run(echo_round(reqs, warm, args.concurrency)))
        for side in ((service, echo) if r % 2 == 0 else (echo, service)):
            side()
        print(f"round {r + 1}: event loop {loops[-1]:.4f} ms, writer thread {writers[-1]:.4f} ms (thread switches a "
              f"message: the loop's {SWITCHES[-1][0]:.2f}, the writer's {SWITCHES[-1][1]:.2f}; {BATCH[-1]:.1f} calls a "
              f"transaction)"
              + (f"; echo's loop {echoes[-1]:.4f} ms -> loop/echo {loops[-1] / echoes[-1]:.3f}" if echoes else ""),
              flush=True)
    line = (f"loopside ({args.mix} mix, {args.messages - warm} messages a round, {args.openids} senders, "
            f"c={args.concurrency}, {args.rounds} rounds): event loop median {statistics.median(loops):.4f} ms, "
            f"writer thread {statistics.median(writers):.4f} ms")
    if echoes:
        ratios = [a / b for a, b in zip(loops, echoes)]
        line += (f"; echo {statistics.median(echoes):.4f} ms; loop/echo by round "
                 f"{', '.join(f'{x:.3f}' for x in ratios)} (median {statistics.median(ratios):.3f})")
    print(line)
    if PROFILE:
        import pstats
        n = args.messages - warm
        stats = pstats.Stats(PROFILE[-1])
        if args.calls_out:
            stats.dump_stats(args.calls_out)
        print(f"event loop's Python function calls a message (cProfile, last round): "
              f"{stats.total_calls / n:.1f} ({stats.prim_calls / n:.1f} primitive); top by own time:")
        rows = sorted(stats.stats.items(), key=lambda kv: -kv[1][2])[:25]
        for (file, line_no, name), (cc, nc, tt, ct, _) in rows:
            where = file.split("site-packages/")[-1].replace(str(common.ROOT) + "/", "")
            print(f"  {nc / n:6.2f} calls  own {1e6 * tt / n:6.2f} us  incl {1e6 * ct / n:7.2f} us  "
                  f"{name} ({where}:{line_no})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
