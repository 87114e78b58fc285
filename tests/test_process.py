"""The real server as a process: a message acknowledged, the process killed with SIGKILL, restarted, and the
message's pending push delivered afterwards. Nothing accepted is lost."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web

from bot.sandbox.platform import Sandbox
from tests import wx

ROOT = Path(__file__).resolve().parents[1]
# For a test about processes, spools and kills, not routing: every process it starts builds its router from these
# few rules (~1 s of CPU less each). The tests that route keep the shipped rules.
SMALL_RULES = Path(__file__).with_name("small_rules.toml")


def free_port() -> int:
    """A port free now, for a server in another process (which may lose it to someone else before it binds)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_HELD: dict[int, socket.socket] = {}


def held_port() -> int:
    """A port this process keeps bound until a server in it serves on that very socket (tests.conftest.running
    takes it: take_held), so no other process on a busy machine can take the port in between: under load a port
    from free_port was taken so once ('address already in use'). Bound without SO_REUSEPORT, so nobody may share
    it either (a reuse_port bind of the port by another test's server joined it once: 'bad signature')."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    _HELD[port] = s
    return port


def take_held(port: int) -> socket.socket | None:
    """The bound socket held_port keeps for `port`, handed over once (None: not held here)."""
    return _HELD.pop(port, None)


def write_config(tmp_path: Path, port: int, api_port: int, rules: Path | None = None) -> Path:
    path = tmp_path / "kill.toml"
    path.write_text(f"""[routing]
rules = "{rules or ''}"
[server]
port = {port}
link_secret = "kill-test-link-secret-0123456789"
[wechat]
token = "{wx.TOKEN}"
aes_key = "{wx.AES_KEY}"
appid = "{wx.APPID}"
appsecret = "5c0e9b7a41d2f836"
api_base = "http://127.0.0.1:{api_port}"
reply_timeout_seconds = 0   # answer 'success' at once: every reply goes through the outbox
check_timestamp = false
[storage]
path = "{tmp_path / 'kill.db'}"
[outbox]
poll_seconds = 0.1
backoff_base_seconds = 0.2
backoff_max_seconds = 0.5
""", encoding="utf-8")
    return path


async def start_server(config: Path, port: int) -> subprocess.Popen:
    env = {**os.environ, "TINGJIAN_SERVER_LOG_LEVEL": "WARNING"}
    log = config.with_suffix(".log")
    with open(log, "ab") as err:
        proc = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--config", str(config)], cwd=ROOT,
                                env=env, stdout=subprocess.DEVNULL, stderr=err)
    async with aiohttp.ClientSession() as session:
        async def up():
            try:
                async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                    return resp.status == 200
            except aiohttp.ClientError:
                if proc.poll() is not None:
                    raise AssertionError(f"server exited: {log.read_text()}")
                return False
        try:
            await wait_for(up, 60, proc=proc)
        except AssertionError:
            proc.kill()
            raise AssertionError(f"server did not start: {log.read_text()[-2000:]}")
    return proc


def query(db: Path, sql: str):
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


# How long a process may be waited on, counted in its own CPU time, not the wall clock's: a start costs ~1.7 s of CPU
# (a fresh database, jieba's dictionary), which at load 40 on two cores is over a minute of waiting (a fixed 60 s
# failed 4 runs in 5 at load 15-40). Stuck is spinning past this, or using no CPU for STALL_SECONDS; an idle
# process's timers tick now and then, so a wall bound of HANG_SECONDS ends the wait on a condition never met.
PROC_CPU_SECONDS = 30.0
STALL_SECONDS = 60.0
HANG_SECONDS = 600.0


def cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) the process and its children have used so far (those it has reaped, and those
    alive: a server's start is also its workers' and its job process's); None where /proc cannot tell."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    ticks = sum(int(f) for f in fields[11:15])  # utime, stime, cutime, cstime
    try:
        kids = [int(k) for task in Path(f"/proc/{pid}/task").iterdir()
                for k in (task / "children").read_text().split()]
    except OSError:
        kids = []
    return ticks / os.sysconf("SC_CLK_TCK") + sum(cpu_seconds(k) or 0.0 for k in kids)


async def wait_for(predicate, timeout: float = 10.0, proc: subprocess.Popen | None = None):
    """Until `predicate()` (sync or async) is true. `timeout`: wall seconds; with `proc` (the process whose work
    the condition waits on), for as long as that process is working: up to PROC_CPU_SECONDS of its CPU time, and
    never STALL_SECONDS without any (a hang), whatever the machine's load."""
    deadline = time.monotonic() + timeout
    used = cpu_seconds(proc.pid) if proc is not None else None
    start, moved = used, time.monotonic()
    begun = moved
    while True:
        result = predicate()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        now = time.monotonic()
        if used is None:
            if now > deadline:
                raise AssertionError("condition not met in time")
        else:
            was, used = used, cpu_seconds(proc.pid)
            if used is None or used - start > PROC_CPU_SECONDS or now - begun > HANG_SECONDS:
                raise AssertionError(f"condition not met: the process used {was - start:.1f} s of CPU")
            if used > was:
                moved = now
            elif now - moved > STALL_SECONDS:
                raise AssertionError(f"condition not met: the process used no CPU for {STALL_SECONDS:g} s")
        await asyncio.sleep(0.05)


@pytest.mark.slow
async def test_sigkill_loses_nothing(tmp_path):
    port, api_port = free_port(), free_port()
    config = write_config(tmp_path, port, api_port, rules=SMALL_RULES)
    db = tmp_path / "kill.db"
    proc = await start_server(config, port)
    try:
        body, q = wx.encrypted(wx.text_xml("o_kill", "帮助", msg_id=5151), "o_kill")
        async with aiohttp.ClientSession() as session:
            async with session.post(wx.url(f"http://127.0.0.1:{port}/wechat", q), data=body.encode(),
                                    headers={"Content-Type": "text/xml"}) as resp:
                assert resp.status == 200
                assert await resp.text() == "success"  # acknowledged
        # The WeChat API is down: the push is queued and its first attempt fails.
        await wait_for(lambda: query(db, "SELECT 1 FROM outbox WHERE attempts >= 1"))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
    assert query(db, "SELECT count(*) FROM inbound") == [(1,)]
    assert query(db, "SELECT status FROM outbox") in ([("pending",)], [("sending",)])

    # The platform comes back, and so does the service.
    sandbox = Sandbox(wx.TOKEN, wx.AES_KEY, wx.APPID, "5c0e9b7a41d2f836", f"http://127.0.0.1:{port}/wechat")
    sandbox.follow("o_kill")
    app = web.Application()
    sandbox.add_routes(app)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", api_port).start()
    proc = await start_server(config, port)
    try:
        await wait_for(lambda: sandbox.messages("o_kill"), timeout=15)
        await asyncio.sleep(0.3)  # nothing else arrives: delivered once
        messages = sandbox.messages("o_kill")
        assert len(messages) == 1 and "查询" in messages[0].content
        assert query(db, "SELECT status FROM outbox") == [("sent",)]
        assert query(db, "SELECT count(*), min(status) FROM inbound") == [(1, "done")]
    finally:
        proc.terminate()
        proc.wait(10)
        await runner.cleanup()


# The waits below end when what they wait for happens; this bound only tells a hang from a machine at load 20-25
# on two cores, where spawning a worker (its imports, its router) takes tens of seconds.
HANG = 180.0


def _children(pid: int) -> set[int]:
    """The worker processes of a `serve --workers N` parent (not multiprocessing's resource tracker)."""
    try:
        kids = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except FileNotFoundError:
        return set()
    found = set()
    for kid in kids:
        try:
            cmdline = Path(f"/proc/{kid}/cmdline").read_bytes()
        except FileNotFoundError:
            continue
        if b"resource_tracker" not in cmdline and _alive(int(kid)):
            found.add(int(kid))
    return found


def _named(pid: int) -> dict[int, str]:
    """The workers of `pid` that have named themselves (bot/cli._die_with_parent), by pid."""
    names = {}
    for kid in _children(pid):
        try:
            name = Path(f"/proc/{kid}/comm").read_text().strip()
        except FileNotFoundError:
            continue
        if name.startswith("tingjian-"):
            names[kid] = name
    return names


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except FileNotFoundError:
        return False
    return "\nState:\tZ" not in status


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/task").is_dir(), reason="reads the process tree from Linux /proc")
async def test_workers_are_respawned_and_die_with_their_parent(tmp_path):
    port = free_port()
    config = write_config(tmp_path, port, free_port())
    env = {**os.environ, "TINGJIAN_SERVER_LOG_LEVEL": "WARNING"}
    log = tmp_path / "workers.log"
    with open(log, "ab") as err:
        parent = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--config", str(config), "--workers",
                                   "2"], cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=err)
    try:
        # The writer process and two HTTP workers (started once the writer listens: the supervisor waits up to
        # 120 s for it, so may this).
        first = await wait_for(lambda: len(_children(parent.pid)) == 3 and _children(parent.pid), timeout=HANG)

        async def healthy() -> bool:
            # A fresh worker builds its router before it answers: a minute or more on a loaded machine.
            deadline = asyncio.get_running_loop().time() + HANG
            async with aiohttp.ClientSession() as session:
                while asyncio.get_running_loop().time() < deadline:
                    try:
                        async with session.get(f"http://127.0.0.1:{port}/healthz") as resp:
                            if resp.status == 200:
                                return True
                    except aiohttp.ClientError:
                        pass
                    await asyncio.sleep(0.05)
            return False
        assert await healthy()
        # Each names itself (tingjian-writer, tingjian-http-N) once its own code runs: wait for all three names,
        # then take the set again (a worker that died starting was replaced meanwhile).
        first = await wait_for(lambda: len(c := _named(parent.pid)) == 3 and c, timeout=HANG)
        victim = next(pid for pid, name in first.items() if name.startswith("tingjian-http"))
        first = set(first)
        os.kill(victim, signal.SIGKILL)
        again = await wait_for(lambda: (len(c := _children(parent.pid)) == 3 and victim not in c) and c,
                               timeout=HANG)
        assert len(again - first) == 1  # one new worker in place of the killed one
        assert "tingjian-http-" in log.read_text() and "exited with code -9" in log.read_text()
        assert await healthy()
        async with aiohttp.ClientSession() as session:  # metrics shared by the workers, the new one included
            async with session.get(f"http://127.0.0.1:{port}/metrics") as resp:
                assert resp.status == 200 and "tingjian_webhook_seconds_bucket" in await resp.text()

        parent.send_signal(signal.SIGKILL)  # the parent dies: its workers follow
        parent.wait(10)
        await wait_for(lambda: not any(_alive(pid) for pid in again), timeout=HANG)
    finally:
        if parent.poll() is None:
            parent.kill()
        for pid in _children(parent.pid):
            os.kill(pid, signal.SIGKILL)
