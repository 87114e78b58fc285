#!/usr/bin/env python3
"""The writer process alone: its CPU per message, without HTTP, AES, XML or wrk.

    python bench/writerproc.py [--messages 12000] [--warmup 2000] [--connections 2] [--inflight 50]
                               [--openids 1000] [--mix short|routing] [--repeat 3]

Starts the writer process exactly as `tingjian serve --workers N` does (bot.cli._writer_main: the app's start-up,
the WriterServer on a unix socket), and drives it from this process through --connections RemoteReceivers (what
each HTTP worker uses), --inflight messages in flight in all, the same texts and senders as bench/webhook.py.
Per repeat it prints messages/s, the writer process's CPU per message (all its threads), of which its event
loop (the main thread) and the other threads (the SQLite writer thread above all), its context switches per
message, and the driver's CPU per message (the workers' side of the hop, no HTTP). The figure that bounds
`--workers N` is the writer's CPU per message: at most 1 / it messages/s on any number of cores.

The old code with the same script: `git archive <commit> | tar -x -C /tmp/before;
PYTHONPATH=/tmp/before python bench/writerproc.py` (the writer process and the driver both run the old code).
"""
from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (this checkout on sys.path, after PYTHONPATH)
import webhook  # the texts, the senders' pool and the config bench/webhook.py uses

TICK = os.sysconf("SC_CLK_TCK")


def thread_cpu(pid: int) -> dict[int, float]:
    """CPU seconds (user + system) of each thread of `pid`."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        out[int(task.name)] = (int(fields[11]) + int(fields[12])) / TICK
    return out


def switches(pid: int) -> int:
    total = 0
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            for line in (task / "status").read_text().splitlines():
                if line.endswith("ctxt_switches:") or "ctxt_switches" in line:
                    total += int(line.split()[1])
        except OSError:
            continue
    return total


# --bare: the writer process's own machinery alone (the wire, the Receiver's store-and-complete, the writer thread's
# transactions) around a handling that answers at once: what the process costs per message beside the handling.
BARE = """
import asyncio, sys
from bot.cli import _new_loop
from bot.receiver import Receiver
from bot.writer import WriterServer
from handlers.clock import Clock
from handlers.messages import Reply
from storage.db import Database
from storage.spool import Spool, folder_for

async def main(db_path, sock):
    db = Database(db_path).start()
    receiver = Receiver(db, lambda _db, inbound: [Reply("好的")], Clock(), reply_timeout=4.5,
                        spool=Spool(folder_for(db_path)))
    server = WriterServer(receiver, lambda: None)
    await server.start(sock)
    await asyncio.Event().wait()

loop = _new_loop()
loop.run_until_complete(main(sys.argv[1], sys.argv[2]))
"""


def start_writer(config: Path, socket_path: Path, log_path: Path, bare: bool = False) -> subprocess.Popen:
    if bare:
        with open(log_path, "ab") as log:
            return subprocess.Popen([sys.executable, "-c", f"exec({BARE!r})", str(config.parent / "bare.db"),
                                     str(socket_path)],
                                    env=common.server_env(), stdout=log, stderr=subprocess.STDOUT, cwd=config.parent)
    code = ("import os, sys; from bot.cli import _load, _writer_main; "
            f"_writer_main(_load({str(config)!r}), {os.getpid()}, {str(socket_path)!r}, 'tingjian-writer')")
    with open(log_path, "ab") as log:
        proc = subprocess.Popen([sys.executable, "-c", code], env=common.server_env(), stdout=log,
                                stderr=subprocess.STDOUT, cwd=config.parent)
    return proc


def check_alive(proc: subprocess.Popen, log_path: Path) -> None:
    if proc.poll() is not None:
        tail = log_path.read_text(errors="replace").splitlines()[-15:]
        raise SystemExit(f"the writer process exited with {proc.returncode}:\n" + "\n".join(tail))


async def wait_ready(remote, proc: subprocess.Popen, log_path: Path, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        check_alive(proc, log_path)
        if await remote.ping(0.5):
            return
        await asyncio.sleep(0.1)
    raise SystemExit("the writer process did not answer")


def inbounds(n: int, openids: int, mix: str, base: int, seed: int):
    from handlers.messages import Inbound
    rng = random.Random(seed)
    pool = [f"o_bench{rng.getrandbits(80):020x}" for _ in range(openids)]
    text = webhook.MIXES[mix]
    now = int(time.time())
    return [(Inbound(openid=pool[i % openids], kind="text", created_at=now, text=text(rng), msg_id=str(base + i),
                     raw_type="text"), f"{now:012d}:w{base + i}") for i in range(n)]


def precompute_hints(runners, remotes, items) -> float:
    """What the HTTP workers compute for the writer from each message's text (Dispatcher.text_hints, where the
    code has it), made before the run so that this one driver process does not become the bottleneck in place of
    two workers; returns its CPU µs per message (the workers' extra cost). The RemoteReceivers send them."""
    from bot.app import DISPATCHER
    if not hasattr(remotes[0], "hints"):
        return 0.0
    dispatcher = runners[0].app[DISPATCHER]
    t0 = time.process_time()
    table = {inbound.dedupe_key: dispatcher.text_hints(inbound) for inbound, _ in items}
    spent = time.process_time() - t0
    for remote in remotes:
        remote.hints = lambda inbound: table.get(inbound.dedupe_key)
    return 1e6 * spent / len(items)


async def drive(remotes, items, inflight: int) -> tuple[int, int, int]:
    """Send every item, `inflight` at a time spread over the remotes; returns (passive, success, errors)."""
    queue = list(reversed(items))
    counts = [0, 0, 0]

    async def sender(remote) -> None:
        while queue:
            inbound, request = queue.pop()
            try:
                reply = await remote.receive(inbound, request)
                counts[0 if reply is not None else 1] += 1
            except Exception:  # noqa: BLE001 - counted
                counts[2] += 1

    await asyncio.gather(*(sender(remotes[k % len(remotes)]) for k in range(inflight)))
    return tuple(counts)


async def bench(args, tmp: Path) -> list[dict]:
    config = webhook.write_config(tmp, 9)  # no HTTP: the port is never opened
    # INFO: the writer logs how many calls its transactions held when it stops (nothing per message)
    config.write_text(config.read_text().replace('log_level = "WARNING"', 'log_level = "INFO"'))
    sock = tmp / "writer.sock"
    proc = start_writer(config, sock, tmp / "writer.log", args.bare)
    # The workers' apps open the same file: only once the writer has migrated it and listens (under load, a
    # worker's start-up beside the writer's migration made the writer's fail with "database is locked")
    deadline = time.monotonic() + 120
    while not sock.exists():
        check_alive(proc, tmp / "writer.log")
        if time.monotonic() > deadline:
            raise SystemExit("the writer process did not start listening")
        await asyncio.sleep(0.1)
    # Each connection is an HTTP worker's app, started as `serve --workers N` starts one (its database's reading
    # side, its router, its RemoteReceiver, and whatever the worker computes for the writer), without HTTP.
    from aiohttp import web

    from bot.app import RECEIVER, create_app
    from bot.config import load_config
    runners = []
    for _ in range(args.connections):
        runner = web.AppRunner(create_app(load_config(config, env={}), role=str(sock)), handle_signals=False)
        await runner.setup()
        runners.append(runner)
    remotes = [r.app[RECEIVER] for r in runners]
    results = []
    try:
        await wait_ready(remotes[0], proc, tmp / "writer.log")
        for r in remotes:
            await r.ping()
        base = 8_300_000_000_000_000_000
        warm = inbounds(args.warmup, args.openids, args.mix, base, seed=7)
        await drive(remotes, warm, args.inflight)
        for n in range(args.repeat):
            base += 10_000_000
            items = inbounds(args.messages, args.openids, args.mix, base, seed=11 + n)
            hint_us = precompute_hints(runners, remotes, items)
            spy = None
            if args.profile and n == 0:
                spy = webhook.start_profile(proc.pid, 600, tmp / "profile.txt", args.profile)
                await asyncio.sleep(1.0)
            before, sw0 = thread_cpu(proc.pid), switches(proc.pid)
            me0, t0 = time.process_time(), time.perf_counter()
            passive, success, errors = await drive(remotes, items, args.inflight)
            wall, me = time.perf_counter() - t0, time.process_time() - me0
            after, sw1 = thread_cpu(proc.pid), switches(proc.pid)
            if spy is not None:
                spy.send_signal(2)  # SIGINT: py-spy writes what it has
                spy.wait(30)
                print(webhook.summarize_profile(tmp / "profile.txt", args.top), flush=True)
                if args.keep_profile:
                    import shutil
                    shutil.copy(tmp / "profile.txt", args.keep_profile)
            used = {tid: after[tid] - before.get(tid, 0.0) for tid in after}
            total, loop = sum(used.values()), used.get(proc.pid, 0.0)
            m = len(items)
            r = {"hint_us": hint_us, "messages": m, "rate": m / wall, "writer_us": 1e6 * total / m,
                 "loop_us": 1e6 * loop / m,
                 "threads_us": 1e6 * (total - loop) / m, "switches": (sw1 - sw0) / m, "driver_us": 1e6 * me / m,
                 "passive": passive, "success": success, "errors": errors}
            results.append(r)
            print(f"[writerproc] {m} messages, {r['rate']:,.0f} msg/s: writer {r['writer_us']:.0f} µs/msg (loop "
                  f"{r['loop_us']:.0f}, other threads {r['threads_us']:.0f}), {r['switches']:.2f} context switches/msg; "
                  f"driver {r['driver_us']:.0f} µs/msg (+ the workers' hints {r['hint_us']:.0f}); passive {passive}, "
                  f"success {success}, errors {errors}",
                  flush=True)
    finally:
        for runner in runners:
            await runner.cleanup()
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
    for line in (tmp / "writer.log").read_text(errors="replace").splitlines():
        if "calls in" in line or "ERROR" in line or "Traceback" in line:
            print(f"[writerproc] writer log: {line.strip()}")
    return results


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--messages", type=int, default=12000)
    p.add_argument("--warmup", type=int, default=2000)
    p.add_argument("--connections", type=int, default=2, help="RemoteReceivers (HTTP workers) in this process")
    p.add_argument("--inflight", type=int, default=50)
    p.add_argument("--openids", type=int, default=1000)
    p.add_argument("--mix", choices=sorted(webhook.MIXES), default="short")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--bare", action="store_true", help="a writer whose handling answers at once (see BARE)")
    p.add_argument("--profile", nargs="?", const="active", choices=("active", "gil"),
                   help="py-spy the writer during the first repeat (its figures then include py-spy's cost)")
    p.add_argument("--top", type=int, default=25, help="functions listed per thread with --profile")
    p.add_argument("--keep-profile", metavar="FILE", help="copy the raw py-spy stacks there")
    args = p.parse_args()
    try:
        import uvloop
        uvloop.install()
    except ImportError:
        pass
    with tempfile.TemporaryDirectory(prefix="writerproc-") as tmp:
        results = asyncio.run(bench(args, Path(tmp)))
    med = sorted(results, key=lambda r: r["writer_us"])[len(results) // 2]
    code = os.environ.get("PYTHONPATH") or str(common.ROOT)
    print(f"\n{time.strftime('%Y-%m-%d %H:%M')}  python bench/writerproc.py {' '.join(sys.argv[1:])}  (code: {code})")
    print(f"median of {len(results)}: writer {med['writer_us']:.0f} µs/msg (loop {med['loop_us']:.0f}, other "
          f"threads {med['threads_us']:.0f}), {med['switches']:.2f} switches/msg, driver {med['driver_us']:.0f} "
          f"µs/msg (+ the workers' hints {med['hint_us']:.0f}), {med['rate']:,.0f} msg/s; the writer bounds N workers at {1e6 / med['writer_us']:,.0f} msg/s")
    bad = sum(r["errors"] for r in results)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
