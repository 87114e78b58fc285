#!/usr/bin/env python3
"""Webhook benchmark: WeChat safe-mode text messages through the whole pipeline, driven by wrk.

    python bench/webhook.py [--messages 60000] [--concurrency 50] [--duration 20] [--workers 1] [--no-echo]
                            [--port 18080] [--mix short|routing] [--keep] [--timeline] [--probe]
                            [--set SECTION.KEY=VALUE ...]
                            [--segments K [--segment-messages 3000] [--old TREE]]

What happens (each step prints what it does):
 1. A temporary config (safe mode, check_timestamp = false, SQLite in a temp dir, sandbox off, api_base on a closed
    local port) and `tingjian serve --config … --workers N` as its own process; we wait for /healthz and for N
    listening sockets.
 2. Distinct encrypted text messages (unique MsgId and nonce each, a pool of openids, short Chinese texts) are
    written as complete HTTP requests, one file per wrk thread (disjoint slices, so no MsgId repeats).
 3. A few messages posted with aiohttp; their replies must decrypt to a text for the sender (correctness).
 4. wrk -t2 -c<concurrency> -d<duration>s --latency --timeout 5s (WeChat's own limit) with webhook.lua, written
    next to the requests in the temp dir; its done() prints one parseable BENCH_RESULT line.
 5. The SQLite file is read: stored inbound rows vs 2xx answers. A passive reply carries the request's nonce, so
    the check is by message, not only by count: every answered message must be stored (none lost), the key is
    the primary key (none doubled), and rows beyond the answered ones may only be requests still in flight when
    wrk stopped (sent, never answered).
 6. The server is stopped (SIGTERM, then SIGKILL); the same requests are sent by the same wrk command to
    bench/echo_server.py (aiohttp + wechatpy: verify, decrypt, parse, encrypted reply, nothing stored) on port+1,
    unless --no-echo: the reference measured in the same run.
 7. A summary block with Tingjian's figures and its ratio to the echo; the temp dir is removed unless --keep.

--segments K (one process): the server and the echo (with --old TREE also that checkout's server, PYTHONPATH=TREE,
on port+2) all up, loaded in turn in K rounds, every order in turn, each round a fixed amount of work
(--segment-messages, each request sent once): both sides of a round meet the same minutes of a shared machine, and
the server's work does not depend on how fast the machine let it go. It prints each round's figures, the ratios
to the echo (throughput and CPU a message) by round and pooled, and with --old the two trees' CPU a message;
bench/segments_fit.py fits the CPU a message against the rate over the rounds of several runs.

Latency, two ways: wrk's own percentiles (the "latency" line) apply wrk's coordinated-omission correction (every
answer slower than twice the mean interval adds made-up samples, as if a fixed-rate client had waited behind it),
which inflates p99 whenever the server stalls; "the tail" line is the plain distribution of every answer, timed
by the Lua script itself (send and answer on CLOCK_MONOTONIC), with each second's p99 (--timeline prints them),
so a tail that comes back every few seconds (a collection, a checkpoint, a job) shows. --probe also records the
server's garbage collections and the writer's batches (bench/probe/sitecustomize.py) on the same clock.

Needs wrk (`apt-get install -y wrk`); --profile needs py-spy (`pip install py-spy`). Results are also written as
JSON to bench/out/ (git-ignored), profiles as py-spy raw stacks plus a summary.
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import random
import shlex
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

import common  # (bench/common.py: this checkout on sys.path, the server's start and stop)
from common import ROOT
from tests import wx  # noqa: E402  (builds WeChat's encrypted POSTs exactly as the tests do)

OUT = ROOT / "bench" / "out"
WRK_THREADS = 2
MSG_ID_BASE = 8_100_000_000_000_000_000     # load messages: MsgId = base + index (fits WeChat's int64)
CHECK_MSG_ID_BASE = 8_200_000_000_000_000_000
NONCE_PREFIX = "bn"                          # load message i has nonce "bn<i>"; the reply echoes it

# Short things people write first. A person's messages add up to a description after a few, which then goes
# through routing (jieba) and the intake questions. Each text has fewer than SUPPLEMENT_CHARS (10) Chinese
# characters, and none is a command, a digit, a yes or a school name: so every message gets exactly one reply,
# given passively; no ticket is created and nothing goes to the outbox (the summary checks it).
TEXTS = [
    "你好", "在吗", "老师好", "请问一下", "想咨询一个问题", "您好，打扰了", "有人吗", "麻烦问一下",
    "孩子今年上小学", "我想反映个情况", "学校放学太晚了", "作业有点多", "入学报名何时开始",
    "食堂饭菜不太好", "校车每天都迟到", "课后服务怎么收费", "转学要什么材料", "谢谢老师",
    "托管班在哪报名", "学校门口很乱", "作业布置太晚了", "教育局电话多少",
]
assert all(sum("\u4e00" <= ch <= "\u9fff" for ch in t) < 10 for t in TEXTS)

# --mix routing: whole sentences of a complaint or a question, put together from parts so that practically every
# one is distinct (no decision can be reused from another person's message). Each has at least 10 Chinese
# characters, so it is routed on its own and, after the first, as more of the person's story (the draft is routed
# again, and a supplement that reads like another matter is routed alone too). Still no digit, command, yes or
# school name: one passive reply each, no ticket, nothing pushed.
WHO = ["孩子", "我家孩子", "女儿", "儿子", "我们小区的孩子", "外甥"]
GRADE = ["一年级", "二年级", "三年级", "四年级", "五年级", "六年级", "初一", "初二", "初三", "高一"]
CLASS = ["一班", "二班", "三班", "四班", "五班", "六班", "七班", "八班", "九班", "十班", "十一班", "十二班"]
PROBLEM = ["每天作业写到晚上十一点", "被老师当众体罚了", "被学校收取资料费三百元", "学校午餐质量很差",
           "放学后还要交钱补课", "坐的校车经常超载很危险", "报名入学不知道需要什么材料", "转学手续不知道怎么办理",
           "老师在家长群里推销教辅", "周末被要求到校补课", "幼儿园收取高额兴趣班费用", "课外培训机构跑路不退费",
           "学校厕所长期没人打扫", "体育课总被数学课占用"]
TAIL = ["希望尽快处理", "请问应该怎么办", "太不合理了", "麻烦核实一下", "家长们都很着急", "希望教育局管一管"]


def routing_text(rng: random.Random) -> str:
    return f"{rng.choice(WHO)}{rng.choice(GRADE)}{rng.choice(CLASS)}{rng.choice(PROBLEM)}，{rng.choice(TAIL)}"


MIXES = {"short": lambda rng: rng.choice(TEXTS), "routing": routing_text}

LUA = r"""
-- wrk script written by bench/webhook.py. Each thread loads its own slice of pre-built requests
-- (requests-<tid>.bin: "<length> <nonce>\n<raw HTTP request>" records) and cycles through it.
local threads = {}
local nthreads = 0
-- Each answer's latency, by the send time of its request (CLOCK_MONOTONIC, the clock of Python's
-- time.monotonic(), so the server's own events can be laid beside it): the timeline of the tail.
local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clk_id, bench_timespec *tp);
]]
local ts = ffi.new("bench_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

function setup(thread)
  nthreads = nthreads + 1
  thread:set("tid", nthreads)
  table.insert(threads, thread)
end

function init(args)
  local dir = args[1]
  -- "once": send the slice once, then nothing (an empty request writes no byte); when every request of it is
  -- answered, write done-<tid> and stop the thread (bench/webhook.py --segments: a fixed amount of work)
  once = args[2] == "once"
  donefile = dir .. "/done-" .. tid
  local f = assert(io.open(dir .. "/requests-" .. tid .. ".bin", "rb"))
  local data = f:read("*a")
  f:close()
  reqs, nonces, sent_at = {}, {}, {}
  local pos = 1
  local size = #data
  while pos <= size do
    local nl = data:find("\n", pos, true)
    local len, nonce = data:sub(pos, nl - 1):match("^(%d+) (%S+)")
    len = tonumber(len)
    reqs[#reqs + 1] = data:sub(nl + 1, nl + len)
    nonces[#nonces + 1] = nonce
    pos = nl + 1 + len
  end
  data = nil
  idx, sent, wraps = 0, 0, 0
  ok, non2xx, passive, plain_success, other = 0, 0, 0, 0, 0
  answered = assert(io.open(dir .. "/answered-" .. tid .. ".txt", "w"))
end

function request()
  if once and tid == 1 and not verified then
    -- wrk calls the first thread's request() once before it runs, to check the request parses: not sent
    verified = true
    return reqs[1]
  end
  if once and sent >= #reqs then return "" end
  idx = idx + 1
  if idx > #reqs then
    idx = 1
    wraps = wraps + 1
  end
  sent = sent + 1
  sent_at[nonces[idx]] = now_us()
  return reqs[idx]
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
    local nonce = body:match("<Nonce><!%[CDATA%[([^%]]+)%]%]></Nonce>")
    if nonce then
      passive = passive + 1
      local t0 = sent_at[nonce]
      if t0 then
        answered:write(nonce, " ", t0, " ", now_us() - t0, "\n")
        sent_at[nonce] = nil
      else
        answered:write(nonce, "\n")
      end
    elseif body == "success" then
      plain_success = plain_success + 1
    else
      other = other + 1
    end
    if ok % 200 == 0 then answered:flush() end
  else
    non2xx = non2xx + 1
  end
  if once and ok + non2xx >= #reqs then
    answered:flush()
    io.open(donefile, "w"):close()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local t = {sent = 0, wraps = 0, ok = 0, non2xx = 0, passive = 0, plain_success = 0, other = 0}
  for _, thread in ipairs(threads) do
    for k, _ in pairs(t) do t[k] = t[k] + (thread:get(k) or 0) end
  end
  local e = summary.errors
  io.write(string.format(
    "BENCH_RESULT duration_us=%d requests=%d bytes=%d ok2xx=%d non2xx=%d passive=%d plain_success=%d " ..
    "other2xx=%d sent=%d wraps=%d err_connect=%d err_read=%d err_write=%d err_timeout=%d err_status=%d " ..
    "lat_mean_us=%.1f lat_max_us=%d p50_us=%d p90_us=%d p99_us=%d p999_us=%d\n",
    summary.duration, summary.requests, summary.bytes, t.ok, t.non2xx, t.passive, t.plain_success,
    t.other, t.sent, t.wraps, e.connect, e.read, e.write, e.timeout, e.status,
    latency.mean, latency.max, latency:percentile(50), latency:percentile(90), latency:percentile(99),
    latency:percentile(99.9)))
end
"""


def log(msg: str) -> None:
    print(f"[bench] {msg}", flush=True)


# -- 1. the server ----------------------------------------------------------------------------------------------
def write_config(tmp: Path, port: int, settings: list[tuple[str, str, str]] = ()) -> Path:
    """The bench's config; `settings` (section, key, TOML value) are added, e.g. ("server", "gc_freeze", "false")."""
    path = tmp / "bench.toml"
    path.write_text(f"""# written by bench/webhook.py
[server]
host = "127.0.0.1"
port = {port}
log_level = "WARNING"
link_secret = "bench-link-secret-0123456789abcdef"

[wechat]
token = "{wx.TOKEN}"
aes_key = "{wx.AES_KEY}"
appid = "{wx.APPID}"
appsecret = "benchsecret"
# A closed local port: a text like 你好 is answered passively; nothing should ever be pushed.
api_base = "http://127.0.0.1:9"
# The requests are generated before the run; their timestamps must stay valid however long it takes.
check_timestamp = false

[storage]
path = "{tmp / 'tingjian.db'}"

[sandbox]
enabled = false
""", encoding="utf-8")
    text = path.read_text(encoding="utf-8")
    for section, key, value in settings:
        header = f"[{section}]\n"
        text = (text.replace(header, f"{header}{key} = {value}\n", 1) if header in text
                else f"{text}\n{header}{key} = {value}\n")
    path.write_text(text, encoding="utf-8")
    return path


def listening_sockets(port: int) -> int:
    """How many sockets listen on 127.0.0.1:port (one per worker with SO_REUSEPORT)."""
    n = 0
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            cols = line.split()
            if int(cols[1].split(":")[1], 16) == port and cols[3] == "0A":
                n += 1
    return n


def port_free(port: int) -> bool:
    return listening_sockets(port) == 0


def start_server(config: Path, workers: int, port: int, tmp: Path) -> tuple[subprocess.Popen, list[str]]:
    proc = common.serve(config, port, tmp / "server.log", workers=workers, timeout=90, poll=0.2, cwd=tmp,
                        ready=lambda: listening_sockets(port) >= workers)
    log(f"server: {' '.join(proc.args)} (pid {proc.pid}, log {tmp / 'server.log'})")
    log(f"server ready: /healthz answers, {listening_sockets(port)} listening socket(s)")
    return proc, proc.args


def stop_server(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        log(f"server {common.stop(proc)}")


# -- 2. the requests ---------------------------------------------------------------------------------------------
def build_requests(n: int, openids: int, port: int, workdir: Path, threads: int, seed: int = 1,
                   mix: str = "short", msg_base: int = MSG_ID_BASE, nonce_prefix: str = NONCE_PREFIX,
                   text_seed: int | None = None) -> dict:
    """Write n requests into `threads` files (contiguous, disjoint slices). Returns what was generated. MsgIds run
    from `msg_base`: a bench sending several loads to one server gives each its own range, or the later loads are
    WeChat retries answered from storage (cheap, and not what is measured); each load needs its own `nonce_prefix`
    too (a request key seen before with another message is a replay). `text_seed`: the same senders (`seed`),
    other texts."""
    text = MIXES[mix]
    rng = random.Random(seed)
    pool = [f"o_bench{rng.getrandbits(80):020x}" for _ in range(openids)]  # 28 characters, like real openids
    if text_seed is not None:
        rng = random.Random(text_seed)
    timestamp = str(int(time.time()))
    per = -(-n // threads)
    sizes = []
    for t in range(threads):
        lo, hi = t * per, min(n, (t + 1) * per)
        chunks = []
        for i in range(lo, hi):
            openid = pool[i % openids]
            inner = wx.text_xml(openid, text(rng), msg_id=msg_base + i, created=int(timestamp))
            nonce = f"{nonce_prefix}{i}"
            body, query = wx.encrypted(inner, openid, token=wx.TOKEN, aes_key=wx.AES_KEY, appid=wx.APPID,
                                       timestamp=timestamp, nonce=nonce)
            raw = body.encode()
            head = (f"POST /wechat?{urlencode(query)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                    f"User-Agent: Mozilla/4.0\r\nAccept: */*\r\nContent-Type: text/xml\r\n"
                    f"Content-Length: {len(raw)}\r\n\r\n").encode()
            req = head + raw
            chunks.append(f"{len(req)} {nonce}\n".encode() + req)
        (workdir / f"requests-{t + 1}.bin").write_bytes(b"".join(chunks))
        sizes.append(hi - lo)
    return {"messages": n, "openids": openids, "per_thread": sizes, "mix": mix}


# -- 3. a correctness sample ---------------------------------------------------------------------------------------
async def check_sample(port: int, count: int = 5) -> list[str]:
    """Post `count` messages; each reply must be a signed safe-mode envelope whose inner XML is a text to the
    sender. Returns their dedupe keys."""
    import aiohttp

    keys = []
    async with aiohttp.ClientSession() as session:
        for k in range(count):
            openid = f"o_benchcheck{k:016d}"
            msg_id = CHECK_MSG_ID_BASE + k
            inner = wx.text_xml(openid, TEXTS[k % len(TEXTS)], msg_id=msg_id)
            body, query = wx.encrypted(inner, openid, nonce=f"chk{k}")
            async with session.post(f"http://127.0.0.1:{port}/wechat", params=query, data=body.encode(),
                                    headers={"Content-Type": "text/xml"}) as resp:
                text = await resp.text()
                if resp.status != 200:
                    raise SystemExit(f"sample message {k}: HTTP {resp.status}: {text[:300]}")
            try:
                fields = wx.decrypt_reply(text)
            except Exception as exc:  # noqa: BLE001
                raise SystemExit(f"sample message {k}: reply does not decrypt ({exc!r}): {text[:300]}")
            if fields.get("MsgType") != "text" or fields.get("ToUserName") != openid or not fields.get("Content"):
                raise SystemExit(f"sample message {k}: unexpected reply {fields}")
            keys.append(f"wechat:msg:{msg_id}")
            if k == 0:
                log(f"sample reply to {TEXTS[0]!r}: {fields['Content'][:60]!r}")
    log(f"correctness sample: {count}/{count} replies decrypt to a text for the sender")
    return keys


# -- CPU accounting (who used the 2 cores during the run) -------------------------------------------------------
TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def cpu_busy_seconds() -> tuple[float, float, float]:
    """Seconds since boot, from /proc/stat: (user + nice + system, irq + softirq, steal). Loopback TCP is largely
    softirq time, charged to no process."""
    try:
        c = [int(x) for x in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0, 0.0, 0.0
    return (c[0] + c[1] + c[2]) / TICK, (c[5] + c[6]) / TICK, c[7] / TICK


def tree_cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its direct children (the workers of `tingjian serve --workers N`)."""
    total = 0.0
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[1].split()
        me, ppid = int(stat.parent.name), int(fields[1])
        if me == pid or ppid == pid:
            total += (int(fields[11]) + int(fields[12])) / TICK
    return total


def process_cpu_seconds(pid: int) -> dict[str, float]:
    """utime + stime of the server and each of its children, by name (tingjian-writer, tingjian-http-0 …)."""
    found: dict[str, float] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        name, rest = text.split(" (", 1)[1].rsplit(")", 1)
        fields = rest.split()
        if int(stat.parent.name) == pid or int(fields[1]) == pid:
            name = "server" if int(stat.parent.name) == pid else name
            found[name] = found.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / TICK
    return found


def thread_cpu(pid: int, split: bool = False) -> dict[int, float]:
    """CPU seconds (user + system) of each thread of `pid` (its main thread's id is the pid); with `split`, as
    complex numbers: user seconds the real part, system (the kernel's: sockets, futexes, wake-ups) the imaginary."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        user, system = int(fields[11]) / TICK, int(fields[12]) / TICK
        out[int(task.name)] = complex(user, system) if split else user + system
    return out


def thread_sched(pid: int) -> dict[int, tuple[float, float]]:
    """Per thread of `pid`, from /proc/<pid>/task/<tid>/schedstat: (seconds on a core, seconds runnable but waiting
    for one). The rest of the wall time the thread slept: for work, for the GIL, for a lock."""
    out = {}
    for task in Path(f"/proc/{pid}/task").iterdir():
        try:
            on, wait, _ = (task / "schedstat").read_text().split()
        except (OSError, ValueError):
            continue
        out[int(task.name)] = (int(on) / 1e9, int(wait) / 1e9)
    return out


def tree_split(pid: int) -> complex:
    """user + system·j seconds of `pid` and its direct children (an echo of N processes), all threads."""
    total = complex(0, 0)
    for p in [pid] + [int(c.parent.name) for c in Path("/proc").glob("[0-9]*/stat") if _ppid(c) == pid]:
        try:
            total += sum(thread_cpu(p, split=True).values())
        except OSError:
            continue
    return total


def thread_switches(pid: int) -> int:
    """Context switches of every thread of the server (and its workers): a thread that waits (for the GIL, a
    queue, a socket) gives the core up; one process's threads handing the GIL to each other show here."""
    total = 0
    for status in [*Path(f"/proc/{pid}/task").glob("*/status"),
                   *(p for c in Path("/proc").glob("[0-9]*/stat") if _ppid(c) == pid
                     for p in Path(f"/proc/{c.parent.name}/task").glob("*/status"))]:
        try:
            for line in status.read_text().splitlines():
                if line.endswith("ctxt_switches:") or "ctxt_switches:" in line:
                    total += int(line.split()[1])
        except (OSError, ValueError):
            continue
    return total


def child_named(pid: int, name: str) -> int | None:
    """The pid of `pid`'s child process called `name` (ps -o comm), if any."""
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        comm, rest = text.split(" (", 1)[1].rsplit(")", 1)
        if comm == name and int(rest.split()[1]) == pid:
            return int(stat.parent.name)
    return None


def _ppid(stat: Path) -> int:
    try:
        return int(stat.read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return -1


def worker_rss_mb(pid: int) -> list[float]:
    """Resident memory (MB) of the server's worker processes: the process itself with --workers 1, else its
    children (the parent only supervises)."""
    def rss(p: int) -> float:
        try:
            for line in Path(f"/proc/{p}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
        except OSError:
            pass
        return 0.0
    kids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                kids.append(int(stat.parent.name))
        except (OSError, ValueError, IndexError):
            continue
    kids = [k for k in kids if rss(k) > 30]  # not a resource-tracker helper
    return [rss(k) for k in kids] if kids else [rss(pid)]


def lock_waits(port: int) -> tuple[float, float] | None:
    """(seconds waited, batches) so far for SQLite's write lock, every process of the server together (/metrics:
    `tingjian_write_lock_wait_seconds`, observed once a writer batch, from its BEGIN IMMEDIATE's first try)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as r:
            text = r.read().decode()
    except OSError:
        return None
    total = {"_sum": 0.0, "_count": 0.0}
    for line in text.splitlines():
        if line.startswith("tingjian_write_lock_wait_seconds_"):
            name, value = line.split(" ", 1)
            key = name[len("tingjian_write_lock_wait_seconds"):].split("{", 1)[0]
            if key in total:
                total[key] += float(value)
    return total["_sum"], total["_count"]


def children_cpu_seconds() -> float:
    import resource
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


# -- 4. wrk ----------------------------------------------------------------------------------------------------
def run_wrk(port: int, concurrency: int, duration: int, workdir: Path) -> tuple[dict, list[str], str]:
    script = workdir / "webhook.lua"
    script.write_text(LUA)
    cmd = ["wrk", f"-t{WRK_THREADS}", f"-c{concurrency}", f"-d{duration}s", "--latency", "--timeout", "5s",
           "-s", str(script), f"http://127.0.0.1:{port}/wechat", "--", str(workdir)]
    log(f"load: {' '.join(cmd)}")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    (workdir / "wrk.txt").write_text(proc.stdout + proc.stderr)
    if proc.returncode != 0:
        raise SystemExit(f"wrk failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}")
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk printed no BENCH_RESULT line:\n{proc.stdout}\n{proc.stderr}")
    result = {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    return result, cmd, proc.stdout


def _wait_listening(port: int, n: int, timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while listening_sockets(port) < n:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def run_echo(port: int, concurrency: int, duration: int, workdir: Path, loop: str = "uvloop",
             workers: int = 1) -> dict | None:
    """The same requests against bench/echo_server.py: what a webhook that stores nothing does on this machine now.
    Tingjian's figure is reported as a ratio to this one, so a busy machine slows both sides of it."""
    if not port_free(port):
        log(f"echo reference skipped: port {port} is in use")
        return None
    logf = open(workdir / "echo.log", "wb")
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "echo_server.py"), "--port", str(port),
                             "--loop", loop, "--workers", str(workers)],
                            stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    common.autogroup(proc.pid)
    try:
        if not common.wait_up(proc, port, 30, poll=0.2):
            log(f"echo reference failed to start:\n{(workdir / 'echo.log').read_text()[-2000:]}")
            return None
        if workers > 1 and not _wait_listening(port, workers):
            log(f"echo reference: {workers} processes did not all listen")
            return None
        cpu0, split0 = tree_cpu_seconds(proc.pid), tree_split(proc.pid)
        t0, busy0, tools0 = time.monotonic(), cpu_busy_seconds(), children_cpu_seconds()
        result, _, _ = run_wrk(port, concurrency, duration, workdir)
        cpu = tree_cpu_seconds(proc.pid) - cpu0
        wall, busy1, tools = time.monotonic() - t0, cpu_busy_seconds(), children_cpu_seconds() - tools0
        split = tree_split(proc.pid) - split0
        secs = result["duration_us"] / 1e6
        # as the server's run counts them: cores over the window, wrk's CPU and the kernel's softirq a message
        cores = {"wall_s": wall, "server": cpu / wall, "tools": tools / wall, "irq": (busy1[1] - busy0[1]) / wall}
        cores["others"] = max(0.0, (busy1[0] - busy0[0]) / wall - cores["server"] - cores["tools"])
        return {"rate": result["passive"] / secs, "p50_us": result["p50_us"], "p99_us": result["p99_us"],
                "workers": workers, "cpu": cores,
                "tools_ms_per_message": 1000 * tools / max(1, result["passive"]),
                "irq_ms_per_message": 1000 * (busy1[1] - busy0[1]) / max(1, result["passive"]),
                "non2xx": result["non2xx"], "cpu_ms_per_message": 1000 * cpu / max(1, result["passive"]),
                "user_ms_per_message": 1000 * split.real / max(1, result["passive"]),
                "system_ms_per_message": 1000 * split.imag / max(1, result["passive"]),
                "tail": tail_summary(latencies(workdir))}
    finally:
        stop_server(proc)


# -- the tail over time ----------------------------------------------------------------------------------------
def latencies(workdir: Path) -> list[tuple[float, float]]:
    """(send time, latency) in seconds for every passive answer, from wrk's answered-<tid>.txt lines
    "nonce send_us latency_us" (send time on CLOCK_MONOTONIC, as time.monotonic() in any process)."""
    out = []
    for t in range(WRK_THREADS):
        f = workdir / f"answered-{t + 1}.txt"
        if not f.exists():
            continue
        for line in f.read_text().splitlines():
            cols = line.split()
            if len(cols) == 3:
                out.append((int(cols[1]) / 1e6, int(cols[2]) / 1e6))
    out.sort()
    return out


def pct(values: list[float], q: float) -> float:
    """The q-th percentile (nearest rank) of sorted values."""
    if not values:
        return 0.0
    return values[min(len(values) - 1, max(0, int(round(q / 100 * len(values) + 0.5)) - 1))]


def timeline(samples: list[tuple[float, float]], step: float = 1.0) -> list[dict]:
    """Per `step` seconds of send time: answers, p50, p99 and the longest latency (ms). A tail that comes back
    every few seconds (a checkpoint, a sweep, a collection) shows as a periodic p99; a tail spread evenly is
    the queue itself."""
    if not samples:
        return []
    t0 = samples[0][0]
    buckets: dict[int, list[float]] = {}
    for sent, lat in samples:
        buckets.setdefault(int((sent - t0) / step), []).append(lat)
    rows = []
    for k in sorted(buckets):
        lats = sorted(buckets[k])
        rows.append({"t": k * step, "n": len(lats), "p50_ms": 1000 * pct(lats, 50), "p99_ms": 1000 * pct(lats, 99),
                     "max_ms": 1000 * lats[-1]})
    return rows


def tail_summary(samples: list[tuple[float, float]]) -> dict:
    """The latency distribution from the per-answer samples (wrk's own histogram says the same, coarser), and how
    much of p99 is a few bad seconds: the median of the per-second p99s beside the run's p99."""
    lats = sorted(lat for _, lat in samples)
    rows = timeline(samples)[1:-1] or timeline(samples)  # the first and last second are partial
    per_second = sorted(r["p99_ms"] for r in rows)
    return {"n": len(lats), "mean_ms": 1000 * sum(lats) / max(1, len(lats)), "p50_ms": 1000 * pct(lats, 50),
            "p90_ms": 1000 * pct(lats, 90), "p99_ms": 1000 * pct(lats, 99), "p999_ms": 1000 * pct(lats, 99.9),
            "max_ms": 1000 * (lats[-1] if lats else 0.0),
            "p99_of_seconds_median_ms": pct(per_second, 50), "p99_of_seconds_worst_ms": per_second[-1] if per_second else 0.0}


def probe_summary(prefix: Path, window: tuple[float, float]) -> dict:
    """What bench/probe/sitecustomize.py recorded in the server's processes during the load (window: monotonic
    seconds): garbage collections by generation (count, longest and total pause) and the writer's batches
    (messages per batch, time from BEGIN to the answers), per process."""
    out = {}
    for f in sorted(prefix.parent.glob(prefix.name + ".*")):
        gcs: dict[int, list[tuple[float, float]]] = {}
        sizes, times, resets, begins, spans, flushes = [], [], [], [], [], []
        loop_gc_cpu = 0.0  # ms of the collections' CPU on the main thread (the event loop)
        for line in f.read_text().splitlines():
            kind, start, secs, n, *cpu = line.split()
            if not window[0] <= float(start) <= window[1]:
                continue
            if kind == "gc":
                gcs.setdefault(int(n), []).append((1000 * float(secs), 1000 * float(cpu[0]) if cpu else 0.0))
                if cpu[1:] == ["loop"]:
                    loop_gc_cpu += 1000 * float(cpu[0])
            elif kind == "batch":
                sizes.append(int(n))
                times.append(1000 * float(secs))
                spans.append((float(start), float(secs), float(cpu[0]) if cpu else 0.0))
            elif kind == "walreset":
                resets.append(1000 * float(secs))
            elif kind == "flush":
                flushes.append(int(n))
            elif kind == "begin":
                begins.append((1000 * float(secs), int(n), 1000 * float(cpu[0])))
        if not gcs and not sizes and not flushes:
            continue
        sizes.sort(), times.sort()
        # the SQLite writer thread's time from its first batch to its last: in batches (of it on its CPU), between
        spans.sort()
        cycle = None
        if len(spans) > 1:
            whole = spans[-1][0] + spans[-1][1] - spans[0][0]
            inside = sum(w for _, w, _ in spans)
            cycle = {"seconds": whole, "in_batches": inside / whole, "cpu_in_batches": sum(c for _, _, c in spans) / whole,
                     "between": 1 - inside / whole}
        out[f.suffix[1:]] = {
            "gc": {g: {"n": len(v), "max_ms": max(w for w, _ in v), "total_ms": sum(w for w, _ in v),
                       "max_cpu_ms": max(c for _, c in v), "cpu_ms": sum(c for _, c in v)}
                   for g, v in sorted(gcs.items())},
            "gc_loop_cpu_ms": loop_gc_cpu,
            "batches": {"n": len(sizes), "calls_p50": pct(sizes, 50), "calls_p90": pct(sizes, 90),
                        "calls_max": sizes[-1], "ms_p50": pct(times, 50), "ms_p99": pct(times, 99),
                        "ms_max": times[-1]} if sizes else None,
            "wal_resets": {"n": len(resets), "max_ms": max(resets, default=0.0)}, "cycle": cycle,
            "flushes": {"n": len(flushes), "frames": sum(flushes)} if flushes else None,
            "begins": {"n": len(begins), "wall_ms": sum(w for w, _, _ in begins),
                       "cpu_ms": sum(c for _, _, c in begins), "retries": sum(r for _, r, _ in begins),
                       "retried": sum(1 for _, r, _ in begins if r),
                       "p50_ms": pct(sorted(w for w, _, _ in begins), 50),
                       "p99_ms": pct(sorted(w for w, _, _ in begins), 99)} if begins else None}
    return out


# -- 5. the database -------------------------------------------------------------------------------------------
def check_store(db_path: Path, workdir: Path, sample_keys: list[str], result: dict,
                msg_range: tuple[int, int] | None = None, nonce_prefix: str = NONCE_PREFIX) -> dict:
    """The stored rows against wrk's answers; with `msg_range` (MsgIds [lo, hi)), only that load's rows."""
    msg_base = msg_range[0] if msg_range else MSG_ID_BASE
    answered_nonces: list[str] = []
    for t in range(WRK_THREADS):
        f = workdir / f"answered-{t + 1}.txt"
        if f.exists():
            answered_nonces += [line.split(" ", 1)[0] for line in f.read_text().splitlines() if line]
    answered = {f"wechat:msg:{msg_base + int(n[len(nonce_prefix):])}" for n in answered_nonces
                if n.startswith(nonce_prefix)}
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=30)
    try:
        keys = {r[0] for r in con.execute("SELECT key FROM inbound")}
        status = dict(((f"{s}{'/deferred' if d else ''}"), n) for s, d, n in
                      con.execute("SELECT status, deferred, count(*) FROM inbound GROUP BY status, deferred"))
        outbox_rows = con.execute("SELECT count(*) FROM outbox").fetchone()[0]
        tickets = con.execute("SELECT count(*) FROM tickets").fetchone()[0]
    finally:
        con.close()
    load_keys = keys - set(sample_keys)
    if msg_range:
        load_keys = {k for k in load_keys if k.startswith("wechat:msg:") and k[11:].isdigit()
                     and msg_range[0] <= int(k[11:]) < msg_range[1]}
    ok2xx = int(result["ok2xx"])
    unanswered_sent = int(result["sent"] - result["requests"])
    missing = answered - load_keys           # answered with a passive reply, yet not stored: lost
    extra = load_keys - answered              # stored, no passive reply seen by wrk
    return {
        "stored_rows": len(load_keys), "sample_rows": len(keys & set(sample_keys)), "ok2xx": ok2xx,
        "answered_passive_distinct": len(answered), "answered_passive_total": len(answered_nonces),
        "lost": len(missing), "stored_unanswered": len(extra), "inflight_at_stop": unanswered_sent,
        "status": status, "outbox_rows": outbox_rows, "tickets": tickets,
    }


# -- optional profile ----------------------------------------------------------------------------------------
def start_profile(server_pid: int, duration: int, out: Path, mode: str) -> subprocess.Popen | None:
    """py-spy samples the server (all its threads, and the workers of a multi-process server) during the load.
    It costs CPU on the same machine: take throughput figures from a run without --profile."""
    exe = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    if not Path(exe).exists():
        log("--profile needs py-spy: pip install py-spy (into the venv that runs tingjian)")
        return None
    cmd = [exe, "record", "--pid", str(server_pid), "--duration", str(duration), "--rate", "200", "--format", "raw",
           "--threads", "--subprocesses", "--nonblocking", "--output", str(out)] + (["--gil"] if mode == "gil" else [])
    log(f"profile: {' '.join(cmd)}")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def start_syscalls(pid: int, seconds: int, out: Path) -> subprocess.Popen | None:
    """`perf trace -s` of one process (all its threads) during the load: syscalls by name (fsync, pwrite64, futex …)."""
    exe = shutil.which("perf")
    if exe is None:
        log("--syscalls needs perf (linux-perf)")
        return None
    cmd = [exe, "trace", "-s", "-o", str(out), "-p", str(pid), "--", "sleep", str(seconds)]
    log(f"syscalls: {' '.join(cmd)}")
    return subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def syscall_counts(path: Path) -> dict[str, int]:
    """perf trace -s's summary, every thread added up: {syscall: calls}."""
    counts: dict[str, int] = {}
    try:
        text = path.read_text()
    except OSError:
        return counts
    for line in text.splitlines():
        cols = line.split()
        if len(cols) >= 3 and cols[1].isdigit() and cols[0].replace("_", "").isalnum() and not cols[0].isdigit():
            counts[cols[0]] = counts.get(cols[0], 0) + int(cols[1])
    return counts


SCAFFOLD = ("threading.py", "asyncio/base_events.py", "bot/cli.py", "aiohttp/web.py", "(tingjian)",
            "runners.py", "events.py)", "multiprocessing/")


def summarize_profile(path: Path, top: int = 15) -> str:
    """Collapsed stacks ("process;thread;outer;...;inner count") -> per thread: its share of the samples, the
    functions running (own time) and the functions below which the time went (inclusive, scaffolding left out)."""
    threads: dict[str, dict] = {}
    total = 0

    def name(frame: str) -> str:  # "func (path/file.py:123)" -> "func (file path)"
        func, _, where = frame.partition(" (")
        where = where.rstrip(")").rsplit(":", 1)[0]
        where = where.replace(str(ROOT) + "/", "").split("site-packages/")[-1].split("lib/python3.11/")[-1]
        return f"{func} ({where})"

    for line in path.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        if not stack or not n.isdigit():
            continue
        n = int(n)
        frames = stack.split(";")
        head = []
        while frames and frames[0].startswith(("process ", "thread ")):
            head.append(frames.pop(0))
        thread = head[-1].split(": ")[-1] if head else "?"
        if len(head) > 1 and "--workers" in head[0]:
            thread = head[0].split('"')[0].strip() + " " + thread
        t = threads.setdefault(thread, {"n": 0, "own": {}, "incl": {}})
        total += n
        t["n"] += n
        names = [name(f) for f in frames]
        if names:
            t["own"][names[-1]] = t["own"].get(names[-1], 0) + n
        for f in set(names):
            if not any(s in f for s in SCAFFOLD):
                t["incl"][f] = t["incl"].get(f, 0) + n
    if not total:
        return f"profile: no samples in {path}"
    out = [f"profile: {total} samples ({path.name}); percentages are of all samples"]
    for thread, t in sorted(threads.items(), key=lambda kv: -kv[1]["n"]):
        if t["n"] < total * 0.02:
            continue
        out.append(f"  thread {thread}: {100 * t['n'] / total:.1f}%")
        out.append("    own time:")
        out += [f"      {100 * n / total:5.1f}%  {f}" for f, n in sorted(t["own"].items(), key=lambda kv: -kv[1])[:top]]
        out.append("    inclusive:")
        out += [f"      {100 * n / total:5.1f}%  {f}" for f, n in sorted(t["incl"].items(), key=lambda kv: -kv[1])[:top]]
    return "\n".join(out)


@contextlib.contextmanager
def server_env(probe: Path | None = None, first: list[str] = ()):
    """PYTHONPATH and BENCH_PROBE_FILE for a server about to start, put back after: `first` (checkouts whose packages
    come first), and with `probe` bench/probe/sitecustomize.py, which records the writer's batches into that file."""
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "BENCH_PROBE_FILE")}
    path = [*first, *(x for x in (saved["PYTHONPATH"] or "").split(os.pathsep) if x)]
    if probe is not None:
        os.environ["BENCH_PROBE_FILE"] = str(probe)
        path = [str(ROOT / "bench" / "probe"), *path]
    if path:
        os.environ["PYTHONPATH"] = os.pathsep.join(path)
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# -- --segments: the server and the echo taking turns ---------------------------------------------------------

def start_echo(port: int, workdir: Path, loop: str) -> subprocess.Popen | None:
    logf = open(workdir / "echo.log", "wb")
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "echo_server.py"), "--port", str(port),
                             "--loop", loop], stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    if not common.wait_up(proc, port, 30, poll=0.2):
        log(f"echo reference failed to start:\n{(workdir / 'echo.log').read_text()[-2000:]}")
        stop_server(proc)
        return None
    return proc


def run_wrk_once(port: int, concurrency: int, workdir: Path, cap: float) -> tuple[dict, float]:
    """wrk sending each request file once (the Lua's "once"): returns wrk's result and the seconds from the first
    request sent to the last answer. wrk itself runs for its -d (`cap`); once both threads have written done-<tid>,
    SIGINT makes it stop there and print its summary."""
    script = workdir / "webhook.lua"
    script.write_text(LUA)
    cmd = ["wrk", f"-t{WRK_THREADS}", f"-c{concurrency}", f"-d{int(cap)}s", "--latency", "--timeout", "5s",
           "-s", str(script), f"http://127.0.0.1:{port}/wechat", "--", str(workdir), "once"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + cap
    while proc.poll() is None and time.monotonic() < deadline:
        if all((workdir / f"done-{t + 1}").exists() for t in range(WRK_THREADS)):
            proc.send_signal(signal.SIGINT)
            break
        time.sleep(0.01)
    out, err = proc.communicate(timeout=60)
    (workdir / "wrk.txt").write_text(out + err)
    line = next((ln for ln in out.splitlines() if ln.startswith("BENCH_RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({proc.returncode}):\n{out}\n{err}")
    result = {k: float(v) for k, v in (kv.split("=") for kv in line.split()[1:])}
    if not all((workdir / f"done-{t + 1}").exists() for t in range(WRK_THREADS)):
        raise SystemExit(f"wrk did not have every request answered within {cap:.0f} s: {workdir}")
    samples = latencies(workdir)
    return result, max(t + lat for t, lat in samples) - samples[0][0]


def loaded(pid: int, port: int, concurrency: int, cap: float, workdir: Path, answers: str) -> dict:
    """One segment of load on one process, every request of `workdir` sent once: its rate, its CPU a message
    (utime + stime from /proc, the process and its children), the other processes' CPU meanwhile, its answers' tail."""
    switches0 = thread_switches(pid)
    cpu0, busy0, tools0, t0 = tree_cpu_seconds(pid), cpu_busy_seconds(), children_cpu_seconds(), time.monotonic()
    result, secs = run_wrk_once(port, concurrency, workdir, cap)
    cpu, t1 = tree_cpu_seconds(pid) - cpu0, time.monotonic()
    others = max(0.0, (cpu_busy_seconds()[0] - busy0[0]) - cpu - (children_cpu_seconds() - tools0)) / (t1 - t0)
    n = result[answers]
    return {"wrk": result, "seconds": secs, "rate": n / secs, "cpu_ms": 1000 * cpu / max(1, n), "cores": cpu / (t1 - t0),
            "others": others, "switches": (thread_switches(pid) - switches0) / max(1, n), "window": (t0, t1),
            "samples": latencies(workdir)}


def median(values: list[float]) -> float:
    v = sorted(values)
    return (v[(len(v) - 1) // 2] + v[len(v) // 2]) / 2 if v else 0.0


def run_segments(args, settings: list, openids: int, command: str) -> int:
    """--segments K: the server and the echo both up (and with --old, the old tree's server too), loaded in turn, K
    segments each — every order of them in turn — so each pair meets the same minute of a shared machine; and each
    segment is a fixed amount of work (--segment-messages, each sent once; the same messages every run), so what
    the server does — how many of its messages are a person's first — does not depend on how fast this machine let
    it go. Prints each pair's ratios — throughput (the issue's) and CPU a message — their medians and spread, and
    the pooled figures; with --old, this tree's CPU a message against the old one's, pair by pair."""
    import itertools

    k_n, per, cap = args.segments, args.segment_messages, max(60.0, 3.0 * args.duration)
    tmp = Path(tempfile.mkdtemp(prefix="tingjian-bench-"))
    names = ["server", *(["old"] if args.old else []), "echo"]
    ports = {"server": args.port, "echo": args.port + 1, "old": args.port + 2}
    dirs = {w: tmp / w for w in names}
    segs = []
    t0 = time.monotonic()
    for k in range(k_n):  # the same senders; each segment its own MsgIds, nonces and texts
        for w in names:
            (dirs[w] / f"seg-{k}").mkdir(parents=True)
        base, prefix = MSG_ID_BASE + k * per, f"s{k}n"
        build_requests(per, openids, args.port, dirs["server"] / f"seg-{k}", WRK_THREADS, mix=args.mix,
                       msg_base=base, nonce_prefix=prefix, text_seed=None if k == 0 else 1000 + k)
        for w in names[1:]:  # the very same requests (each server has its own database)
            for f in (dirs["server"] / f"seg-{k}").glob("requests-*.bin"):
                os.link(f, dirs[w] / f"seg-{k}" / f.name)
        segs.append(((base, base + per), prefix))
    log(f"generated {k_n} x {per} encrypted messages from {openids} openids in {time.monotonic() - t0:.1f} s in {tmp}")
    procs: dict[str, subprocess.Popen] = {}
    pairs = []
    try:
        for w in names[:-1]:
            # the old checkout's packages first (bench/common.py); with --probe its writer's batches, by segment
            with server_env(dirs[w] / "probe" if args.probe else None,
                            [str(Path(args.old).resolve())] if w == "old" else []):
                procs[w], _ = start_server(write_config(dirs[w], ports[w], settings), 1, ports[w], dirs[w])
        sample_keys = {w: asyncio.run(check_sample(ports[w])) for w in names[:-1]}
        echo = start_echo(ports["echo"], tmp, args.echo_loop)
        if echo is None:
            return 1
        procs["echo"] = echo
        log(f"echo: {' '.join(echo.args)} (pid {echo.pid}); {k_n} rounds of {per} messages each, every order in turn")
        orders = list(itertools.permutations(names))
        if len(names) == 2:
            orders = [tuple(names), tuple(reversed(names))]
        for k in range(k_n):
            order = orders[k % len(orders)]
            pair = {"order": order}
            for w in order:
                pair[w] = loaded(procs[w].pid, ports[w], args.concurrency, cap, dirs[w] / f"seg-{k}",
                                 "passive" if w == "echo" else "ok2xx")
            pairs.append(pair)
        rss = {w: worker_rss_mb(procs[w].pid) for w in names[:-1]}
        time.sleep(1.2)  # requests in flight when wrk stopped finish their commit; the probe writes once a second
        for pair in pairs:
            for w in names[:-1]:
                probed = probe_summary(dirs[w] / "probe", pair[w]["window"]) if args.probe else {}
                pair[w]["batches"] = next((v["batches"] for v in probed.values() if v.get("batches")), None)
        stores = {w: [check_store(dirs[w] / "tingjian.db", dirs[w] / f"seg-{k}", sample_keys[w], pair[w]["wrk"],
                                  rng, prefix) for k, ((rng, prefix), pair) in enumerate(zip(segs, pairs))]
                  for w in names[:-1]}
        alive = {w: procs[w].poll() is None for w in names[:-1]}
    except BaseException:
        log(f"failed: temp dir kept for inspection: {tmp}")
        raise
    finally:
        for p_ in procs.values():
            stop_server(p_)

    def spread(xs: list[float]) -> str:
        return f"median {median(xs):.2f}x, {min(xs):.2f}-{max(xs):.2f}x"

    def answers(w: str, p_: dict) -> float:
        return p_[w]["wrk"]["passive" if w == "echo" else "ok2xx"]
    total = {w: sum(answers(w, p_) for p_ in pairs) for w in names}
    pooled_rate = {w: total[w] / sum(p_[w]["seconds"] for p_ in pairs) for w in names}
    pooled_cpu = {w: sum(p_[w]["cpu_ms"] * answers(w, p_) for p_ in pairs) / max(1, total[w]) for w in names}
    thr = {w: [p_[w]["rate"] / p_["echo"]["rate"] for p_ in pairs] for w in names[:-1]}
    cpu = {w: [p_["echo"]["cpu_ms"] / p_[w]["cpu_ms"] for p_ in pairs] for w in names[:-1]}
    lost = {w: sum(st["lost"] for st in stores[w]) for w in stores}
    doubled = {w: sum(st["answered_passive_total"] - st["answered_passive_distinct"] for st in stores[w]) for w in stores}
    consistent = {w: all(st["stored_unanswered"] <= st["inflight_at_stop"]
                         and st["stored_rows"] - st["stored_unanswered"] == st["ok2xx"] for st in stores[w])
                  for w in stores}
    # wrk's timeouts are not errors here: every request was answered (done-<tid>), and a connection left idle once its
    # thread's slice was sent counts as one after 5 s
    errors = sum(int(p_[w]["wrk"][e]) for p_ in pairs for w in names
                 for e in ("non2xx", "err_connect", "err_read", "err_write"))
    timeouts = sum(int(p_[w]["wrk"]["err_timeout"]) for p_ in pairs for w in names)
    tails = {w: tail_summary(sorted(x for p_ in pairs for x in p_[w]["samples"])) for w in names}
    label = {"server": "this tree", "old": "old tree", "echo": "echo"}
    lines = ["", "=" * 78,
             f"Tingjian webhook benchmark, {k_n} rounds of {per:,} messages, the order turning  "
             f"{time.strftime('%Y-%m-%d %H:%M')}  ({os.cpu_count()} CPUs)", "-" * 78,
             "  round  order                         " + "".join(f"{label[w]:>46}" for w in names),
             "                                        " + "".join(f"{'msg/s  CPU ms/msg  cores  others  sw/msg':>46}"
                                                                    for _ in names),
             "  (cores: of the 2 that the process got; others: what other processes used meanwhile; sw/msg: "
             "its threads' context switches a message)"]
    for k, p_ in enumerate(pairs):
        row = f"  {k + 1:>5}  {' > '.join(label[w] for w in p_['order']):<30}"
        for w in names:
            x = p_[w]
            row += f"{x['rate']:>11,.0f}  {x['cpu_ms']:>10.3f}  {x['cores']:5.2f}  {x['others']:6.2f}  {x['switches']:6.2f}"
        lines.append(row)
    for w in names[:-1]:
        lines.append(f"  {label[w] + ' / echo':<17} throughput {spread(thr[w])} by round, pooled "
                     f"{pooled_rate[w]:,.0f} / {pooled_rate['echo']:,.0f} msg/s -> "
                     f"{pooled_rate[w] / pooled_rate['echo']:.2f}x (the issue's measure)")
        lines.append(f"  {'':<17} CPU a message {spread(cpu[w])} by round, pooled {pooled_cpu[w]:.3f} / "
                     f"{pooled_cpu['echo']:.3f} ms -> {pooled_cpu['echo'] / pooled_cpu[w]:.2f}x")
    if args.old:
        ab = [p_["old"]["cpu_ms"] / p_["server"]["cpu_ms"] for p_ in pairs]
        lines.append(f"  this / old tree   CPU a message: old / this {spread(ab)} by round, pooled "
                     f"{pooled_cpu['old'] / pooled_cpu['server']:.3f}x (above 1: this tree is cheaper); throughput "
                     f"this / old pooled {pooled_rate['server'] / pooled_rate['old']:.2f}x")
    for w in names:
        lines.append(f"  the tail, {label[w]:<9} p50 {tails[w]['p50_ms']:.1f} ms, p99 {tails[w]['p99_ms']:.1f} ms (all its answers)"
                     + (f"; writer batches p50 by round " + ", ".join(str(p_[w]['batches']['calls_p50'])
                                                                     for p_ in pairs if p_[w].get("batches"))
                        if args.probe and w != "echo" else ""))
    for w in names[:-1]:
        lines.append(f"  by message, {label[w]:<9} every answered MsgId stored: "
                     f"{'yes' if lost[w] == 0 else 'NO, lost ' + str(lost[w])}; answered twice: {doubled[w]}; rows = "
                     f"answers + in flight at each stop: {'yes' if consistent[w] else 'NO'}; "
                     f"{'alive' if alive[w] else 'DIED'}; RSS " + ", ".join(f"{r:.0f}" for r in rss[w]) + " MB")
    lines += [f"  load              {args.mix} mix, {openids:,} openids, concurrency {args.concurrency}; errors {errors}"
              f" (wrk's 5 s timeouts, every request answered all the same: {timeouts})",
              f"  command           {command}", "=" * 78]
    print("\n".join(lines), flush=True)
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / f"webhook-segments-{time.strftime('%Y%m%d-%H%M%S')}.json"
    out.write_text(json.dumps({
        "date": time.strftime("%Y-%m-%d %H:%M:%S"), "command": command, "segments": k_n, "segment_messages": per,
        "old": args.old, "throughput_ratios": thr, "cpu_ratios": cpu, "pooled_rate": pooled_rate,
        "pooled_cpu_ms": pooled_cpu, "tails": tails, "rss_mb": rss, "stores": stores,
        "pairs": [{w: ({k: v for k, v in p_[w].items() if k != "samples"} if w != "order" else p_[w]) for w in p_}
                  for p_ in pairs]}, indent=2))
    log(f"results: {out}")
    if args.keep:
        log(f"kept: {tmp}")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    ok = (all(v == 0 for v in lost.values()) and all(v == 0 for v in doubled.values()) and all(consistent.values())
          and errors == 0 and all(alive.values()))
    return 0 if ok else 1


# -- main -----------------------------------------------------------------------------------------------------
def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter, epilog=__doc__)
    p.add_argument("--messages", type=int, default=None,
                   help="distinct messages to pre-generate (default: duration x --expected-rate x 1.5 = 90000)")
    p.add_argument("--expected-rate", type=float, default=3000, help="messages/s used to size --messages")
    p.add_argument("--concurrency", type=int, default=50, help="wrk connections (default 50)")
    p.add_argument("--duration", type=int, default=20, help="seconds of load (default 20)")
    p.add_argument("--workers", type=int, default=1, help="tingjian serve --workers (default 1)")
    p.add_argument("--port", type=int, default=18080, help="the server's port; the echo reference uses port+1")
    p.add_argument("--mix", choices=sorted(MIXES), default="short",
                   help="short: first words (你好, 作业有点多 …); routing: distinct whole sentences, each routed")
    p.add_argument("--openids", type=int, default=None, help="distinct senders (default messages/4)")
    p.add_argument("--profile", nargs="?", const="active", choices=("active", "gil"),
                   help="also run py-spy on the server during the load and print the hot spots (slows the run): "
                        "'active' samples every running thread, 'gil' only the thread holding the GIL")
    p.add_argument("--echo-loop", choices=("uvloop", "asyncio"), default="uvloop",
                   help="the echo's event loop: uvloop, as the service runs (default), or asyncio's own, the "
                        "loop of a bare aiohttp app (issue 10's reference)")
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE",
                   help="a config setting for the server, as TOML (repeatable): --set server.gc_freeze=false")
    p.add_argument("--probe", action="store_true",
                   help="record the server's garbage collections and the writer's batches during the load "
                        "(bench/probe/sitecustomize.py on its PYTHONPATH) and print them per process")
    p.add_argument("--timeline", action="store_true",
                   help="print each second's answers, p50, p99 and longest latency (the JSON always has them)")
    p.add_argument("--keep", action="store_true", help="keep the temp dir (config, database, requests, logs)")
    p.add_argument("--syscalls", action="store_true",
                   help="perf trace -s of the process holding SQLite (the writer with --workers N) during the load: "
                        "fsyncs, writes and futex calls a message")
    p.add_argument("--echo-workers", type=int, default=1,
                   help="processes of the echo reference, sharing its port (SO_REUSEPORT; default 1)")
    p.add_argument("--segments", type=int, default=1,
                   help="K > 1: the server and the echo both up, loaded in turn in K pairs of --segment-messages "
                        "each (the order alternating); prints each pair's throughput and CPU ratios, their median and "
                        "spread (--duration: only the cap of a segment, 3x it, at least 60 s)")
    p.add_argument("--old", metavar="TREE", default=None,
                   help="with --segments: also an old checkout's server (PYTHONPATH=TREE) on port+2, in the same "
                        "rounds: this tree's CPU a message against it, round by round")
    p.add_argument("--segment-messages", type=int, default=3000,
                   help="with --segments: messages a segment, each sent once (default 3000)")
    p.add_argument("--no-echo", action="store_true",
                   help="skip the reference run against bench/echo_server.py (aiohttp + wechatpy, stores nothing)")
    args = p.parse_args()
    command = "python bench/webhook.py " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    settings = []
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep or "." not in name:
            p.error(f"--set {item!r}: expected SECTION.KEY=VALUE")
        section, key = name.split(".", 1)
        settings.append((section, key, value))

    if shutil.which("wrk") is None:
        print("bench/webhook.py needs wrk, the HTTP load generator, and it is not installed.\n"
              "Install it with:  apt-get update && apt-get install -y wrk   (macOS: brew install wrk)",
              file=sys.stderr)
        return 2
    if args.concurrency < WRK_THREADS:
        p.error(f"--concurrency must be at least {WRK_THREADS} (wrk threads)")
    if not port_free(args.port):
        p.error(f"port {args.port} is already in use: choose another with --port")
    n = args.messages or int(args.duration * args.expected_rate * 1.5)
    openids = args.openids or max(1, n // 4)
    if args.old and args.segments < 2:
        p.error("--old needs --segments")
    if args.old and not port_free(args.port + 2):
        p.error(f"port {args.port + 2} (the old tree's server) is already in use")
    if args.segments > 1:
        if args.no_echo or args.workers != 1 or args.echo_workers != 1 or args.profile:
            p.error("--segments measures one process against one echo: not with --no-echo, --workers, --echo-workers, --profile")
        return run_segments(args, settings, openids, command)

    OUT.mkdir(parents=True, exist_ok=True)
    common.autogroup()  # wrk runs in this session (BENCH_AUTOGROUP_NICE, bench/common.py)
    tmp = Path(tempfile.mkdtemp(prefix="tingjian-bench-"))
    proc = None
    try:
        t0 = time.monotonic()
        gen = build_requests(n, openids, args.port, tmp, WRK_THREADS, mix=args.mix)
        log(f"generated {n} encrypted messages from {openids} openids in {time.monotonic() - t0:.1f} s "
            f"({', '.join(str(s) for s in gen['per_thread'])} per wrk thread) in {tmp}")
        with server_env(tmp / "probe" if args.probe else None):
            proc, server_cmd = start_server(write_config(tmp, args.port, settings), args.workers, args.port, tmp)
        sample_keys = asyncio.run(check_sample(args.port))
        stamp = time.strftime("%Y%m%d-%H%M%S")
        profile_out = OUT / f"profile-{args.profile}-{args.workers}w-c{args.concurrency}-{stamp}.txt"
        spy = start_profile(proc.pid, max(1, args.duration - 2), profile_out, args.profile) if args.profile else None
        if spy is not None:
            time.sleep(1.0)  # py-spy attaches
        per0 = process_cpu_seconds(proc.pid)
        # by thread: the one process, or with --workers N the writer process (its loop against its SQLite thread)
        threaded = proc.pid if args.workers == 1 else child_named(proc.pid, "tingjian-writer")
        threads0 = thread_cpu(threaded, split=True) if threaded else {}
        sched0 = thread_sched(threaded) if threaded else {}
        trace_out, trace_secs = tmp / "syscalls.txt", max(1, args.duration - 2)
        tracer = start_syscalls(threaded, trace_secs, trace_out) if args.syscalls and threaded else None
        switches0 = thread_switches(proc.pid)
        waits0 = lock_waits(args.port)
        cpu0 = (time.monotonic(), cpu_busy_seconds(), tree_cpu_seconds(proc.pid), children_cpu_seconds())
        result, wrk_cmd, wrk_out = run_wrk(args.port, args.concurrency, args.duration, tmp)
        if spy is not None:
            _, err = spy.communicate(timeout=60)
            if spy.returncode != 0:
                log(f"py-spy failed ({spy.returncode}): {err.strip()[-500:]}")
        cpu1 = (time.monotonic(), cpu_busy_seconds(), tree_cpu_seconds(proc.pid), children_cpu_seconds())
        waits1 = lock_waits(args.port)
        syscalls = {}
        if tracer is not None:
            _, err = tracer.communicate(timeout=60)
            syscalls = syscall_counts(trace_out)
            if not syscalls:
                log(f"perf trace gave nothing ({tracer.returncode}): {err.strip()[-300:]}")
        switches = thread_switches(proc.pid) - switches0
        # the event loop (the main thread) apart from the others (the SQLite writer above all)
        split = {t: v - threads0.get(t, 0) for t, v in thread_cpu(threaded, split=True).items()} if threaded else {}
        by_thread = {t: v.real + v.imag for t, v in split.items()}
        wall = cpu1[0] - cpu0[0]
        sched = {}
        if threaded:  # the loop and the busiest other thread (the SQLite writer): on a core, waiting for one, asleep
            moved = {t: (on - sched0.get(t, (0, 0))[0], wait - sched0.get(t, (0, 0))[1])
                     for t, (on, wait) in thread_sched(threaded).items()}
            other = max((t for t in moved if t != threaded), key=lambda t: moved[t][0], default=None)
            for name, tid in (("loop", threaded), ("sqlite", other)):
                if tid in moved:
                    on, wait = moved[tid]
                    sched[name] = {"on_core": on / wall, "runqueue": wait / wall,
                                   "asleep": max(0.0, 1 - (on + wait) / wall)}
        per_process = {k: (v - per0.get(k, 0.0)) / wall for k, v in sorted(process_cpu_seconds(proc.pid).items())
                       if (v - per0.get(k, 0.0)) / wall >= 0.01}
        cpu = {"wall_s": wall, "server": (cpu1[2] - cpu0[2]) / wall, "tools": (cpu1[3] - cpu0[3]) / wall,
               "irq": (cpu1[1][1] - cpu0[1][1]) / wall, "steal": (cpu1[1][2] - cpu0[1][2]) / wall}
        cpu["others"] = max(0.0, (cpu1[1][0] - cpu0[1][0]) / wall - cpu["server"] - cpu["tools"])
        cpu["all"] = cpu["server"] + cpu["tools"] + cpu["others"] + cpu["irq"]
        rss = worker_rss_mb(proc.pid)
        time.sleep(1.0)  # let requests still in flight when wrk stopped finish their commit
        store = check_store(tmp / "tingjian.db", tmp, sample_keys, result)
        samples = latencies(tmp)
        tail, seconds = tail_summary(samples), timeline(samples)
        if args.probe:
            time.sleep(1.2)  # the probe writes its file once a second
        probe = probe_summary(tmp / "probe", (samples[0][0], max(t + lat for t, lat in samples))) \
            if args.probe and samples else {}
        server_alive = proc.poll() is None
    except BaseException:
        log(f"failed: temp dir kept for inspection: {tmp}")
        raise
    finally:
        if proc is not None:
            stop_server(proc)

    echo = None if args.no_echo else run_echo(args.port + 1, args.concurrency, args.duration, tmp, args.echo_loop,
                                              args.echo_workers)

    secs = result["duration_us"] / 1e6
    rate = result["ok2xx"] / secs
    errors = int(result["non2xx"] + result["err_connect"] + result["err_read"] + result["err_write"]
                 + result["err_timeout"])
    wrapped = result["wraps"] > 0
    # Stored == 2xx, message by message: each answered message stored once; the only stored-but-unanswered ones
    # are requests wrk had sent when it stopped (the server finished them, wrk no longer listened).
    exact = (store["answered_passive_distinct"] == store["answered_passive_total"] == int(result["ok2xx"]))
    consistent = (store["lost"] == 0 and not wrapped and store["stored_unanswered"] <= store["inflight_at_stop"]
                  and store["stored_rows"] - store["stored_unanswered"] == int(result["ok2xx"]))
    count_ok = store["stored_rows"] == int(result["ok2xx"])

    lock = None
    if waits0 is not None and waits1 is not None and waits1[1] > waits0[1]:
        batches, wait_s = waits1[1] - waits0[1], waits1[0] - waits0[0]
        lock = {"batches": batches, "wait_s": wait_s, "wait_share": wait_s / wall,
                "messages_per_batch": result["ok2xx"] / batches}
    ms = lambda us: us / 1000  # noqa: E731
    cpu_per_msg = 1000 * cpu["server"] * wall / max(1, result["ok2xx"])

    def per_msg(seconds: float) -> float:
        return 1000 * seconds / max(1, result["ok2xx"])
    lines = [
        "",
        "=" * 78,
        f"Tingjian webhook benchmark  {time.strftime('%Y-%m-%d %H:%M')}  ({os.cpu_count()} CPUs)",
        "-" * 78,
        f"  messages/s        {rate:,.0f}   (2xx answers / {secs:.1f} s)",
        f"  latency           p50 {ms(result['p50_us']):.1f} ms   p90 {ms(result['p90_us']):.1f} ms   "
        f"p99 {ms(result['p99_us']):.1f} ms   max {ms(result['lat_max_us']):.1f} ms",
        f"  answers           2xx {int(result['ok2xx']):,} (passive encrypted reply {int(result['passive']):,}, "
        f"'success' {int(result['plain_success'])}, other {int(result['other2xx'])})",
        f"  errors            {errors}  (non-2xx {int(result['non2xx'])}, connect {int(result['err_connect'])}, "
        f"read {int(result['err_read'])}, write {int(result['err_write'])}, timeout {int(result['err_timeout'])})",
        f"  stored rows       {store['stored_rows']:,} inbound rows vs {int(result['ok2xx']):,} 2xx answers"
        + (" -> EQUAL" if count_ok else
           f" = {store['stored_rows'] - store['stored_unanswered']:,} answered + {store['stored_unanswered']} "
           f"still in flight when wrk stopped (at most {store['inflight_at_stop']})"),
        f"  by message        every answered MsgId stored: {'yes' if store['lost'] == 0 else 'NO, lost ' + str(store['lost'])};"
        f" answered twice: {store['answered_passive_total'] - store['answered_passive_distinct']};"
        f" stored once each (primary key)  -> " + ("OK" if consistent and exact else "CHECK" if not exact else "FAIL"),
        f"  inbound status    {store['status']}; outbox rows {store['outbox_rows']}, tickets {store['tickets']}"
        + ("   WARNING: some replies were pushed, not passive" if store["outbox_rows"] and args.mix == "short" else
           "   (a supplement's next question is pushed: expected in the routing mix)" if store["outbox_rows"] else ""),
        f"  workers           {args.workers}    concurrency {args.concurrency}    duration {args.duration} s    "
        f"wrk threads {WRK_THREADS}",
        f"  messages          {n:,} pre-generated ({args.mix} mix) from {openids:,} openids, {int(result['sent']):,} sent"
        f" ({result['ok2xx'] / openids:.1f} answered a sender: the slower the run, the more of them are a sender's first,"
        f" which cost more; --segments sends a fixed amount)"
        + ("   WARNING: wrapped around, MsgIds repeated (dedupe answered them): raise --messages" if wrapped else ""),
        f"  server            {'alive' if server_alive else 'DIED during the run'}; RSS after the load "
        + ", ".join(f"{r:.0f}" for r in rss) + " MB (per worker)",
        *([f"  per process       " + ", ".join(f"{k} {v:.2f}" for k, v in per_process.items())
           + " cores busy (the writer near 1.00: the serial part bounds the rate)"] if args.workers > 1 else []),
        f"  CPU (cores busy)  server {cpu['server']:.2f}, wrk{' + py-spy' if spy else ''} {cpu['tools']:.2f}, "
        f"irq/softirq {cpu['irq']:.2f}, other processes {cpu['others']:.2f}, all {cpu['all']:.2f} of "
        f"{os.cpu_count()}" + (f" (steal {cpu['steal']:.2f})" if cpu["steal"] >= 0.05 else "")
        + ("   WARNING: other work ran during the benchmark" if cpu["others"] > 0.15 else ""),
        *([f"  echo reference    {echo['rate']:,.0f} messages/s, p50 {ms(echo['p50_us']):.1f} ms, "
            f"p99 {ms(echo['p99_us']):.1f} ms (bench/echo_server.py on {args.echo_loop}"
            + (f", {echo['workers']} processes" if echo["workers"] > 1 else "") + ", same requests, same run) "
            f"-> ratio {rate / echo['rate']:.2f}x",
            f"  latency vs echo   p50 {ms(result['p50_us']):.1f} vs {ms(echo['p50_us']):.1f} ms "
            f"({result['p50_us'] / max(1, echo['p50_us']):.1f}x), p99 {ms(result['p99_us']):.1f} vs "
            f"{ms(echo['p99_us']):.1f} ms ({result['p99_us'] / max(1, echo['p99_us']):.1f}x); Little's law at "
            f"{args.concurrency} in flight: mean {1000 * args.concurrency / max(rate, 1e-9):.1f} ms at this rate, "
            f"{1000 * args.concurrency / max(echo['rate'], 1e-9):.1f} ms at the echo's",
            f"  CPU per message   {cpu_per_msg:.3f} ms server vs {echo['cpu_ms_per_message']:.3f} ms echo -> "
            f"ratio {echo['cpu_ms_per_message'] / cpu_per_msg:.2f}x (less sensitive to other work on the machine)"]
          if echo else [f"  CPU per message   {cpu_per_msg:.3f} ms server"]),
        f"  thread switches   {switches / max(1, result['ok2xx']):.2f} per message (the server's threads giving up the core)",
        *([f"  by thread, wall   {'the process' if args.workers == 1 else 'the writer process'}: " + "; ".join(
            f"{name} on a core {100 * v['on_core']:.0f} %, waiting for a core {100 * v['runqueue']:.0f} %, asleep "
            f"{100 * v['asleep']:.0f} %" for name, v in sched.items())
           + " (asleep: for work, the GIL or a lock)"] if sched else []),
        *([f"  syscalls          {'the process' if args.workers == 1 else 'the writer process'}, {trace_secs} s of the "
           f"load at ~{rate:,.0f} msg/s, a message: " + ", ".join(
               f"{k} {v / (rate * trace_secs):.3f}" for k, v in sorted(syscalls.items(), key=lambda kv: -kv[1])[:8])
           + "; " + ", ".join(f"{k} {syscalls.get(k, 0)}" for k in ("fsync", "fdatasync")) + " in all"]
          if syscalls else []),
        *([f"  write lock        {lock['batches']:,.0f} batches ({lock['messages_per_batch']:.1f} messages each); waited "
           f"{1000 * lock['wait_s']:.1f} ms in all ({100 * lock['wait_share']:.2f} % of the run), "
           f"{1000 * lock['wait_s'] / max(1, lock['batches']):.3f} ms a batch (while another connection held it)"]
          if lock else []),
        f"  wrk, kernel       wrk {per_msg(cpu['tools'] * wall):.3f} ms, irq/softirq {per_msg(cpu['irq'] * wall):.3f} ms a message"
        + (f"; echo run: wrk {echo['tools_ms_per_message']:.3f}, irq/softirq {echo['irq_ms_per_message']:.3f} ms"
           if echo else ""),
        *([f"  CPU by thread     {'' if args.workers == 1 else 'the writer process: '}event loop "
           f"{per_msg(by_thread.get(threaded, 0.0)):.3f} ms, the other threads "
           f"{per_msg(sum(v for t, v in by_thread.items() if t != threaded)):.3f} ms a message (the busiest of "
           f"them, the SQLite writer: {per_msg(max((v for t, v in by_thread.items() if t != threaded), default=0)):.3f})"]
          if by_thread else []),
        *([f"  user / system     event loop {per_msg(split[threaded].real):.3f} / {per_msg(split[threaded].imag):.3f} ms"
           f", the SQLite writer {per_msg(split[busiest].real):.3f} / {per_msg(split[busiest].imag):.3f} ms a message"
           + (f"; echo {echo['user_ms_per_message']:.3f} / {echo['system_ms_per_message']:.3f} ms" if echo else "")
           + " (system: the kernel's part, sockets, futexes and wake-ups)"]
          if by_thread and (busiest := max((t for t in by_thread if t != threaded), key=by_thread.get, default=None))
          is not None and threaded in split else []),
        f"  the tail          mean {tail['mean_ms']:.1f} ms, p99 {tail['p99_ms']:.1f} = {tail['p99_ms'] / max(1e-9, tail['mean_ms']):.1f}x the mean, "
        f"p99.9 {tail['p999_ms']:.1f} ms; per-second p99 median {tail['p99_of_seconds_median_ms']:.1f}, worst "
        f"{tail['p99_of_seconds_worst_ms']:.1f} ms (per answer, from wrk's send/answer times)"
        + (f"; echo: mean {echo['tail']['mean_ms']:.1f}, p99 {echo['tail']['p99_ms']:.1f} = "
           f"{echo['tail']['p99_ms'] / max(1e-9, echo['tail']['mean_ms']):.1f}x" if echo else ""),
        *[f"  probe pid {pid:<8}  gc " + ", ".join(f"gen{g} {v['n']}x max {v['max_ms']:.1f} ms (CPU {v['max_cpu_ms']:.1f}) "
                                                 f"total {v['total_ms']:.0f} ms" for g, v in p_["gc"].items())
          + (f"; their CPU {sum(v['cpu_ms'] for v in p_['gc'].values()):.0f} ms, of it on the event loop "
             f"{p_['gc_loop_cpu_ms']:.0f} ms ({p_['gc_loop_cpu_ms'] / max(1, result['ok2xx']) * 1000:.1f} us a message)"
             if p_["gc"] else "")
          + (f"; writer batches {p_['batches']['n']}: messages p50 {p_['batches']['calls_p50']} p90 "
             f"{p_['batches']['calls_p90']} max {p_['batches']['calls_max']}, BEGIN to answers p50 "
             f"{p_['batches']['ms_p50']:.1f} p99 {p_['batches']['ms_p99']:.1f} max {p_['batches']['ms_max']:.1f} ms"
             if p_["batches"] else "")
          + (f"; WAL catch-ups {p_['wal_resets']['n']}, longest {p_['wal_resets']['max_ms']:.1f} ms"
             if p_["wal_resets"]["n"] else "")
          + (f"; hop writes {f_['n']:,}, {f_['frames'] / f_['n']:.2f} frames each" if (f_ := p_.get("flushes")) else "")
          + (f"; the SQLite thread's time: in batches {100 * c_['in_batches']:.0f} % (its CPU {100 * c_['cpu_in_batches']:.0f} %), "
             f"between batches {100 * c_['between']:.0f} %" if (c_ := p_.get("cycle")) else "")
          + (f"; BEGIN IMMEDIATE {b['n']}x, {b['wall_ms']:.0f} ms in all (p50 {b['p50_ms']:.3f}, p99 "
             f"{b['p99_ms']:.3f} ms; its thread's CPU {b['cpu_ms']:.0f} ms), busy retries {b['retries']} in "
             f"{b['retried']} batches" if (b := p_.get("begins")) else "") for pid, p_ in probe.items()],
        *([f"  per second        " + "  ".join(f"{r['t']:.0f}s {r['n']}/{r['p50_ms']:.0f}/{r['p99_ms']:.0f}/{r['max_ms']:.0f}"
                                            for r in seconds),
           "                    (answers / p50 / p99 / max ms, by send time)"] if args.timeline else []),
        f"  command           {command}",
        "=" * 78,
    ]
    print("\n".join(lines), flush=True)

    if spy is not None and profile_out.exists():
        summary = summarize_profile(profile_out)
        print(summary, flush=True)
        profile_out.with_suffix(".summary.txt").write_text(summary + "\n")
    record = {"date": time.strftime("%Y-%m-%d %H:%M:%S"), "command": command, "server": server_cmd, "echo": echo,
              "wrk_command": wrk_cmd, "workers": args.workers, "concurrency": args.concurrency, "duration": args.duration,
              "messages_per_s": rate, "cpu_ms_per_message": cpu_per_msg,
              "switches_per_message": switches / max(1, result["ok2xx"]),
              "loop_cpu_ms_per_message": per_msg(by_thread.get(threaded, 0.0)) if by_thread else None,
              "sqlite_writer_cpu_ms_per_message": per_msg(max((v for t, v in by_thread.items() if t != threaded),
                                                              default=0)) if by_thread else None, "rss_mb": rss, "write_lock": lock, "sched": sched, "syscalls": syscalls, "mix": args.mix, "cpu": cpu, "per_process": per_process, "tail": tail, "timeline": seconds, "probe": probe, "wrk": result, "store": store, "generated": gen, "cpus": os.cpu_count()}
    out = OUT / f"webhook-{args.workers}w-c{args.concurrency}-{stamp}.json"
    out.write_text(json.dumps(record, indent=2, ensure_ascii=False))
    log(f"results: {out}")
    if args.keep:
        log(f"kept: {tmp} (bench.toml, tingjian.db, server.log, webhook.lua, wrk.txt, requests-*.bin)")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    ok = consistent and exact and errors == 0 and server_alive
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
