#!/usr/bin/env python3
"""Is every acknowledged message stored? Two faults against a real `tingjian serve` under load.

    python bench/durability.py lock [--lock-seconds 60] [--rate 20] [--port 18210] [--workers N]
    python bench/durability.py kill [--kills 6] [--rate 100] [--with-lock] [--port 18211]
    python bench/durability.py kill --workers 2 --target writer [--kills 6] [--rate 100]

lock: another process holds SQLite's write lock (BEGIN IMMEDIATE) for --lock-seconds while messages keep coming,
      at the production settings (reply_timeout 4.5 s, lock_wait 30 s). Then the lock is released.
kill: the server is killed with SIGKILL --kills times under load (each run lasts 1-3 s) and restarted; with
      --with-lock, every other run has the write lock held by another process, so messages sit in the spool.
      With --workers N (`serve --workers N`) and --target writer, only the writer process is killed, every 1-3 s
      while the load goes on; the supervisor starts another and the HTTP workers spool meanwhile.

Load: --rate safe-mode text messages per second (unique MsgId each, a pool of openids, texts that get exactly one
reply), each request with WeChat's 5 s timeout. A message is *acknowledged* when the server answered 200 (a
passive reply or 'success'). At the end the server runs until its spool and recovery are done, and the database
is read: acknowledged vs stored (by key), lost (acknowledged, never stored), duplicated (a message answered twice:
passively and in the outbox, or twice in the outbox), reply lost (acknowledged, its one reply neither passive nor
pushed). The exit status is 0 only if none was lost or duplicated.
"""
from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp

import common  # (bench/common.py: this checkout on sys.path, the server's start and stop)
from tests import wx

TEXTS = ["你好", "请问一下", "在吗", "谢谢", "早上好"]  # one reply each, no ticket, no conversation
_ids = itertools.count(8_100_000_000_000_000_001)


def log(msg: str) -> None:
    print(f"[durability] {msg}", flush=True)


def write_config(tmp: Path, port: int) -> Path:
    path = tmp / "bench.toml"
    path.write_text(f"""
[server]
port = {port}
log_level = "WARNING"
link_secret = "bench-link-secret-7c2e91"
[wechat]
token = "{wx.TOKEN}"
aes_key = "{wx.AES_KEY}"
appid = "{wx.APPID}"
appsecret = "benchsecret"
api_base = "http://127.0.0.1:9"
check_timestamp = false
[storage]
path = "{tmp / 'bench.db'}"
""", encoding="utf-8")
    return path


def start_server(config: Path, port: int, tmp: Path, workers: int = 1) -> subprocess.Popen:
    # 503 is up, reporting a problem (a spool after a kill): it serves the webhook anyway
    return common.serve(config, port, tmp / "server.log", workers=workers, statuses=(200, 503))


class Load:
    """Posts messages at a steady rate; remembers which were acknowledged and which were answered passively."""

    def __init__(self, port: int, rate: float, openids: int = 50):
        self.url = f"http://127.0.0.1:{port}/wechat"
        self.rate = rate
        self.pool = [f"o_dur{n:04d}" for n in range(openids)]
        self.acked: set[str] = set()
        self.passive: set[str] = set()
        self.sent = 0
        self.errors = 0

    async def one(self, session: aiohttp.ClientSession) -> None:
        msg_id = next(_ids)
        openid = random.choice(self.pool)
        body, q = wx.encrypted(wx.text_xml(openid, random.choice(TEXTS), msg_id=msg_id), openid,
                               nonce=f"n{msg_id}")
        self.sent += 1
        try:
            async with session.post(self.url, params=q, data=body.encode(), headers={"Content-Type": "text/xml"},
                                    timeout=aiohttp.ClientTimeout(total=5)) as resp:
                text = await resp.text()
                if resp.status == 200:
                    key = f"wechat:msg:{msg_id}"
                    self.acked.add(key)
                    if text != "success":
                        self.passive.add(key)
                else:
                    self.errors += 1
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            self.errors += 1  # not acknowledged: WeChat would retry it

    async def run_for(self, seconds: float) -> None:
        tasks = []
        # No connection limit: while the database is locked each request takes 4.5 s, so hundreds are in flight.
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as session:
            end = time.monotonic() + seconds
            while time.monotonic() < end:
                tasks.append(asyncio.create_task(self.one(session)))
                await asyncio.sleep(1 / self.rate)
            await asyncio.gather(*tasks)


def settle(db: Path, tmp: Path, timeout: float = 120) -> None:
    """Wait until the spool is drained and every stored message is handled."""
    spool = Path(str(db) + ".spool")
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        left = list(spool.glob("*.jsonl")) if spool.is_dir() else []
        conn = sqlite3.connect(db, timeout=30)
        try:
            received = conn.execute("SELECT count(*) FROM inbound WHERE status = 'received'").fetchone()[0]
        finally:
            conn.close()
        if not left and not received:
            return
        time.sleep(0.5)
    log("warning: spool or recovery not finished in time")


def report(db: Path, load: Load, title: str) -> int:
    conn = sqlite3.connect(db)
    try:
        stored = {r[0] for r in conn.execute("SELECT key FROM inbound")}
        pushes: dict[str, int] = {}
        # inbound:<key>: the handling's pushes; undelivered:<key>: a passive reply the webhook never gave
        for (source,) in conn.execute("SELECT source FROM outbox WHERE source LIKE 'inbound:%' "
                                      "OR source LIKE 'undelivered:%'"):
            key = source.partition(":")[2]
            pushes[key] = pushes.get(key, 0) + 1
    finally:
        conn.close()
    lost = load.acked - stored
    duplicated = {k for k in stored if pushes.get(k, 0) + (k in load.passive) > 1}
    reply_lost = {k for k in load.acked & stored if pushes.get(k, 0) + (k in load.passive) == 0}
    log(f"{title}: sent {load.sent}, acknowledged {len(load.acked)} ({len(load.passive)} passive), "
        f"not acknowledged {load.errors}; stored {len(stored)}; acknowledged and stored "
        f"{len(load.acked & stored)}; lost {len(lost)}; duplicated {len(duplicated)}; reply lost {len(reply_lost)}")
    print(f"RESULT scenario={title} sent={load.sent} acknowledged={len(load.acked)} stored={len(stored)} "
          f"lost={len(lost)} duplicated={len(duplicated)} reply_lost={len(reply_lost)} "
          f"not_acknowledged={load.errors}", flush=True)
    return 1 if lost or duplicated or reply_lost else 0


async def lock_scenario(args, tmp: Path) -> int:
    config = write_config(tmp, args.port)
    db = tmp / "bench.db"
    proc = start_server(config, args.port, tmp, args.workers)
    load = Load(args.port, args.rate)
    try:
        await load.run_for(3)
        log(f"holding the write lock for {args.lock_seconds} s while messages keep coming")
        holder = sqlite3.connect(db, isolation_level=None, timeout=60)
        holder.execute("BEGIN IMMEDIATE")
        started = time.monotonic()
        await load.run_for(args.lock_seconds)
        spooled = sum(len(p.read_bytes().splitlines()) for p in Path(str(db) + ".spool").glob("*.jsonl"))
        holder.rollback()
        holder.close()
        log(f"lock released after {time.monotonic() - started:.0f} s; {spooled} message(s) in the spool then")
        await load.run_for(3)
        settle(db, tmp)
    finally:
        common.stop(proc, grace=30)
    return report(db, load, f"lock{args.lock_seconds}s")


def writer_pid(supervisor: int) -> int | None:
    """The writer process among `serve --workers N`'s children (named by prctl: see bot/cli.py)."""
    try:
        kids = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    except FileNotFoundError:
        return None
    for kid in kids:
        try:
            if Path(f"/proc/{kid}/comm").read_text().strip() == "tingjian-writer" and \
                    "\nState:\tZ" not in Path(f"/proc/{kid}/status").read_text():
                return int(kid)
        except FileNotFoundError:
            continue
    return None


async def writer_answers(port: int) -> bool:
    """/healthz of an HTTP worker pings the writer: 503 with that alert while it does not answer."""
    try:
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/healthz", timeout=aiohttp.ClientTimeout(total=3)) as r:
                return "writer process" not in " ".join((await r.json()).get("alerts", []))
    except (aiohttp.ClientError, asyncio.TimeoutError, ValueError):
        return False


async def kill_writer_scenario(args, tmp: Path) -> int:
    """`serve --workers N`: the writer process alone is SIGKILLed --kills times while the load goes on."""
    config = write_config(tmp, args.port)
    db = tmp / "bench.db"
    load = Load(args.port, args.rate)
    proc = start_server(config, args.port, tmp, args.workers)
    try:
        runner = asyncio.create_task(load.run_for(args.kills * 6 + 2))
        for n in range(args.kills):
            while (victim := writer_pid(proc.pid)) is None or not await writer_answers(args.port):
                await asyncio.sleep(0.05)  # the supervisor is starting the next one: killed once it serves
            await asyncio.sleep(random.uniform(1, 3))
            os.kill(victim, signal.SIGKILL)
            spooled = sum(len(p.read_bytes().splitlines()) for p in Path(str(db) + ".spool").glob("*.jsonl"))
            log(f"writer kill {n + 1}/{args.kills} (pid {victim}): acknowledged so far {len(load.acked)}, "
                f"spooled lines now {spooled}")
            while writer_pid(proc.pid) in (None, victim):
                await asyncio.sleep(0.05)
        await runner
        settle(db, tmp)
    finally:
        common.stop(proc, grace=30)
    return report(db, load, f"kill-writer{args.kills}-w{args.workers}")


async def kill_scenario(args, tmp: Path) -> int:
    if args.target == "writer":
        return await kill_writer_scenario(args, tmp)
    config = write_config(tmp, args.port)
    db = tmp / "bench.db"
    load = Load(args.port, args.rate)
    for n in range(args.kills):
        proc = start_server(config, args.port, tmp, args.workers)
        holder = None
        if args.with_lock and n % 2 == 1:  # every other run: the database is locked, messages go to the spool
            holder = sqlite3.connect(db, isolation_level=None, timeout=60)
            holder.execute("BEGIN IMMEDIATE")
        delay = random.uniform(1, 3) + (5 if holder else 0)
        runner = asyncio.create_task(load.run_for(delay + 0.3))  # requests still in flight at the kill
        await asyncio.sleep(delay)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        await runner
        if holder is not None:
            holder.rollback()
            holder.close()
        spooled = sum(len(p.read_bytes().splitlines()) for p in Path(str(db) + ".spool").glob("*.jsonl"))
        log(f"kill {n + 1}/{args.kills}{' (database locked)' if holder else ''}: acknowledged so far "
            f"{len(load.acked)}, in the spool now {spooled}")
    proc = start_server(config, args.port, tmp, args.workers)
    try:
        settle(db, tmp)
    finally:
        common.stop(proc, grace=30)
    return report(db, load, f"kill{args.kills}{'+lock' if args.with_lock else ''}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="scenario", required=True)
    p = sub.add_parser("lock")
    p.add_argument("--lock-seconds", type=float, default=60)
    p.add_argument("--rate", type=float, default=20)
    p.add_argument("--port", type=int, default=18210)
    p.add_argument("--workers", type=int, default=1, help="serve --workers N")
    p = sub.add_parser("kill")
    p.add_argument("--kills", type=int, default=6)
    p.add_argument("--rate", type=float, default=100)
    p.add_argument("--port", type=int, default=18211)
    p.add_argument("--workers", type=int, default=1, help="serve --workers N")
    p.add_argument("--target", choices=("server", "writer"), default="server",
                   help="kill the whole server (default) or, with --workers N > 1, only its writer process")
    p.add_argument("--with-lock", action="store_true",
                   help="in every other run another process holds the write lock, so the kill meets a full spool")
    parser.add_argument("--keep", action="store_true", help="keep the temp folder (config, database, log)")
    args = parser.parse_args()
    if getattr(args, "target", None) == "writer" and args.workers < 2:
        parser.error("--target writer needs --workers 2 or more (one process has no separate writer)")
    tmp = Path(tempfile.mkdtemp(prefix="tingjian-durability-"))
    log(f"working in {tmp}")
    try:
        return asyncio.run(lock_scenario(args, tmp) if args.scenario == "lock" else kill_scenario(args, tmp))
    finally:
        if not args.keep:
            import shutil
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
