#!/usr/bin/env python3
"""Webhook fuzzer: random and mutated requests against a real `tingjian serve`, counting 5xx and crashes.

    python bench/fuzz.py [--inputs 20000] [--seed 1] [--concurrency 16] [--port 18150] [--keep]

A temporary config (compatible mode: AES key set and plaintext allowed, so both paths are reached; timestamps
checked; SQLite in a temp dir; api_base on a closed port) and `tingjian serve` as its own process, with three
staff accounts bound so staff commands are reached too. Then N inputs, drawn from these kinds:

  text      a signed message (plain or AES) with odd text: commands, digits in other scripts, 4,300-digit numbers,
            ]]> and &<, zero-width and right-to-left marks, emoji, control characters, 60 KB texts
  event     subscribe/scan/click/unknown events with random keys and scenes
  mutated   a valid body with bytes flipped, cut, repeated; nested or duplicated elements; DTDs and entities
  huge      bodies over server.max_body_bytes, with and without Content-Length
  forged    a wrong or missing signature or msg_signature, bad timestamps, long nonces, another AppID's cipher
  replay    a signed URL already used, re-sent with another message (must be 403)
  odd       wrong content types, GET verification with random echostr, non-UTF-8 bodies

It prints inputs tried, answers by status, 5xx, timeouts, crashes (the server process gone, or /healthz failing
at the end), internal errors logged by the server ("handling … failed"), and replays refused. Exit status 0 only
with no 5xx, no crash and every replay refused. `run()` is what tests/test_fuzz.py calls with a few hundred inputs.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from urllib.parse import urlencode

import aiohttp

import common  # (bench/common.py: this checkout on sys.path, the server's start and stop)
from common import ROOT

from bot.channels.wechat.crypto import sign  # noqa: E402
from bot.demo import DEMO_DIRECTORY  # noqa: E402
from tests import wx  # noqa: E402

MAX_BODY = 65536
STAFF = {"o_fz_handler": ("jyj-sfc", "handler"), "o_fz_super": ("jyj-sfc", "supervisor"),
         "o_fz_leader": ("jyj", "leader")}
WORDS = ["待办", "待办 2", "详情 1", "详情 JY2611-0001", "签收 1", "回复 1 已处理", "办结 1 已退费", "退回 1 不归我们",
         "转派 1 jn-syxx", "延期 1 3 需要调查", "同意延期 JY2611-0001", "撤回 JY2611-0001", "撤回 1", "绑定 ABCD2345",
         "查询", "查询 JY2611-0001", "评价 JY2611-0001 1", "1", "2", "3 不满意", "取消", "帮助", "是", "否", "0",
         "待办 ፩", "፩", "𐩀", "١٢", "１", "9" * 4300, "学校乱收费600元", "孩子作业太多", "老师体罚学生", "]]>",
         "]]>&<", "<a href=\"http://x\">点我</a>", "\u200b绑定\u200b ABCD", "\u202e反转", "😀" * 50,
         "&lt;&amp;", "<![CDATA[", "\ufeff", "\ufffd", "𠀀𠀁"]


def _odd_text(rng: random.Random) -> str:
    parts = []
    for _ in range(rng.randint(1, 6)):
        kind = rng.random()
        if kind < 0.45:
            parts.append(rng.choice(WORDS))
        elif kind < 0.7:
            parts.append("".join(chr(rng.choice([rng.randint(0x20, 0x7e), rng.randint(0x4e00, 0x9fff),
                                                 rng.randint(0x80, 0xd7ff), rng.randint(0xe000, 0xfffd),
                                                 rng.randint(0x10000, 0x10ffff)]))
                                 for _ in range(rng.randint(1, 40))))
        elif kind < 0.8:
            parts.append(chr(rng.choice([0x0b, 0x0c, 0x01, 0x1f, 0x7f, 0x85, 0x2028, 0x2029, 0xfeff])))
        elif kind < 0.85:
            parts.append(rng.choice("一二三四五") * rng.randint(3000, 20000))  # a very long message
        else:
            parts.append(str(rng.randint(0, 10 ** rng.randint(1, 30))))
    return rng.choice(["", " ", "\n"]).join(parts)


class Fuzzer:
    def __init__(self, base: str, seed: int):
        self.base = base
        self.rng = random.Random(seed)
        self.msg_id = 9_000_000_000_000_000_000 + seed * 10_000_000
        self.used: list[dict] = []  # signed queries already sent (for replays)
        self.stats: Counter = Counter()
        self.statuses: Counter = Counter()
        self.examples_5xx: list[str] = []

    def _openid(self) -> str:
        rng = self.rng
        if rng.random() < 0.25:
            return rng.choice(list(STAFF))
        if rng.random() < 0.05:
            return rng.choice(["", "o" * 200, "o_\u200b", "o_]]>", "o_&<"])
        return f"o_fz_{rng.randint(1, 300)}"

    def _message(self) -> str:
        rng = self.rng
        openid = self._openid()
        self.msg_id += 1
        if rng.random() < 0.8:
            text = _odd_text(rng)
            return wx.message_xml(openid, "text", msg_id=self.msg_id, Content=text.replace("\x00", ""))
        event = rng.choice(["subscribe", "SCAN", "CLICK", "VIEW", "unsubscribe", "LOCATION", "weird"])
        key = rng.choice([None, "qrscene_school:jn-syxx", "qrscene_", "school:nope", "qrscene_" + "x" * 500,
                          "unit:jyj-sfc", "MENU_QUERY", _odd_text(rng)[:100]])
        return wx.event_xml(openid, event, key, created=int(time.time()) + rng.randint(0, 10 ** 6))

    def _request(self) -> tuple[str, str, dict, bytes | str, dict]:
        """(label, method, query, body, headers)"""
        rng = self.rng
        kind = rng.choices(["text", "mutated", "huge", "forged", "replay", "odd"],
                           weights=[50, 20, 3, 12, 7, 8])[0]
        xml_headers = {"Content-Type": rng.choice(["text/xml", "application/xml", "text/xml; charset=utf-8"])}
        message = self._message()
        aes = rng.random() < 0.5
        if aes:
            body, q = wx.encrypted(message)
        else:
            body, q = message, wx.signed_query()
        if kind == "text":
            return ("aes" if aes else "plain"), "POST", q, body, xml_headers
        if kind == "mutated":
            data = bytearray(body.encode("utf-8", "surrogatepass"))
            for _ in range(rng.randint(1, 8)):
                op = rng.random()
                pos = rng.randint(0, max(0, len(data) - 1))
                if op < 0.3 and data:
                    data[pos] = rng.randint(0, 255)
                elif op < 0.5:
                    del data[pos:pos + rng.randint(1, 50)]
                elif op < 0.7:
                    data[pos:pos] = rng.choice([b"<xml>", b"</xml>", b"<a><b><c>", b"]]>", b"&", b"&amp;",
                                                b"<!DOCTYPE x [<!ENTITY a 'aaaa'>]>", b"&a;", b"\x00", b"\xff\xfe",
                                                b"<MsgType>text</MsgType>", b"<Content>x</Content>" * 70])
                else:
                    data = data[:pos] + data[pos:pos + rng.randint(1, 200)] * rng.randint(1, 20) + data[pos:]
            if rng.random() < 0.3:
                data = b"<!DOCTYPE xml [<!ENTITY lol 'lol'><!ENTITY l2 '&lol;&lol;&lol;'>]>" + bytes(data)
            return "mutated", "POST", q, bytes(data), xml_headers
        if kind == "huge":
            size = rng.choice([MAX_BODY + 1, MAX_BODY * 4, 5 * 1024 * 1024])
            return "huge", "POST", q, b"<xml>" + b"A" * size + b"</xml>", xml_headers
        if kind == "forged":
            q = dict(q)
            how = rng.choice(["signature", "msg_signature", "missing", "timestamp", "nonce", "appid", "stale"])
            if how == "signature":
                q["signature"] = "%040x" % rng.getrandbits(160)
            elif how == "msg_signature":
                q["msg_signature"] = "%040x" % rng.getrandbits(160)
                q["encrypt_type"] = "aes"
            elif how == "missing":
                for name in rng.sample(list(q), rng.randint(1, len(q))):
                    del q[name]
            elif how == "timestamp":
                q["timestamp"] = rng.choice(["", "-1", "abc", "9" * 40, "1.5", "１２３"])
            elif how == "nonce":
                q["nonce"] = rng.choice(["", "n" * 5000, "]]>", "\u200b"])
            elif how == "appid":
                body, q = wx.encrypted(message, appid="wx0000000000000000")
            else:
                stale = str(int(time.time()) - 3600)
                q = wx.signed_query(timestamp=stale)
            return "forged", "POST", q, body, xml_headers
        if kind == "replay" and self.used:
            return "replay", "POST", rng.choice(self.used), self._fresh_plain(), xml_headers
        # odd
        how = rng.choice(["content-type", "get", "latin1", "empty"])
        if how == "content-type":
            return "odd", "POST", q, body, {"Content-Type": rng.choice(["application/json", "text/plain", ""])}
        if how == "get":
            echostr = _odd_text(rng)[:200]
            return "odd", "GET", wx.signed_query(echostr=echostr), b"", {}
        if how == "latin1":
            return "odd", "POST", q, "<xml>é\xff</xml>".encode("latin-1"), xml_headers
        return "odd", "POST", q, b"", xml_headers

    def _fresh_plain(self) -> str:
        self.msg_id += 1
        return wx.text_xml(self.rng.choice(list(STAFF)), "待办", msg_id=self.msg_id)  # a valid body, as a leader

    async def one(self, session: aiohttp.ClientSession) -> None:
        label, method, q, body, headers = self._request()
        self.stats["inputs"] += 1
        self.stats[f"kind:{label}"] += 1
        url = f"{self.base}/wechat?{urlencode(q)}"
        data = body.encode("utf-8", "surrogatepass") if isinstance(body, str) else body
        try:
            async with session.request(method, url, data=data if method == "POST" else None,
                                       headers=headers) as resp:
                await resp.read()
                status = resp.status
        except asyncio.TimeoutError:
            self.stats["timeouts"] += 1
            return
        except aiohttp.ClientError as exc:
            # A huge body may be cut off by the server's 413 before it is all sent: that is an answer, not an error.
            self.stats["huge cut off" if label == "huge" else "connection errors"] += 1
            if label != "huge":
                self.examples_5xx.append(f"{label}: {type(exc).__name__}: {exc}"[:300])
            return
        self.statuses[status] += 1
        if label in ("aes", "plain", "mutated"):  # its signed URL is spent now, whatever the body was
            self.used.append(q)
        if status >= 500:
            self.stats["5xx"] += 1
            self.examples_5xx.append(f"{label} {status}: {str(body)[:200]!r}")
        if label == "replay":
            self.stats["replays"] += 1
            self.stats["replays refused"] += status == 403
            if status != 403:
                self.examples_5xx.append(f"replay answered {status}: {dict(q)}")


def write_config(tmp: Path, port: int) -> Path:
    path = tmp / "fuzz.toml"
    path.write_text(f"""# written by bench/fuzz.py
[server]
port = {port}
log_level = "WARNING"
link_secret = "fuzz-link-secret-0123456789abcdef"
max_body_bytes = {MAX_BODY}
[wechat]
token = "{wx.TOKEN}"
aes_key = "{wx.AES_KEY}"
appid = "{wx.APPID}"
appsecret = "fuzz-appsecret"
api_base = "http://127.0.0.1:9"
allow_plaintext = true
[storage]
path = "{tmp / 'fuzz.db'}"
[directory]
csv = "{DEMO_DIRECTORY}"
[outbox]
poll_seconds = 5.0
""", encoding="utf-8")
    return path


def _prepare(config: Path, db: Path) -> None:
    subprocess.run(common.tingjian("init-db", "--config", str(config)), cwd=ROOT, env=common.server_env(),
                   check=True, capture_output=True)
    conn = sqlite3.connect(db)
    with conn:
        for openid, (unit, role) in STAFF.items():
            conn.execute("INSERT INTO users (openid, role, unit_code, name, first_seen_at, last_seen_at) "
                         "VALUES (?, ?, ?, ?, 0, 0)", [openid, role, unit, f"测试{role}"])
    conn.close()


async def _drive(base: str, inputs: int, seed: int, concurrency: int, proc: subprocess.Popen) -> Fuzzer:
    fuzzer = Fuzzer(base, seed)
    timeout = aiohttp.ClientTimeout(total=30)
    async with aiohttp.ClientSession(timeout=timeout, connector=aiohttp.TCPConnector(limit=concurrency)) as session:
        remaining = inputs

        async def worker():
            nonlocal remaining
            while remaining > 0 and proc.poll() is None:
                remaining -= 1
                await fuzzer.one(session)
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return fuzzer


def run(inputs: int = 20000, seed: int = 1, concurrency: int = 16, port: int = 18150, keep: bool = False,
        quiet: bool = False) -> dict:
    tmp = Path(tempfile.mkdtemp(prefix="tingjian-fuzz-"))
    config = write_config(tmp, port)
    _prepare(config, tmp / "fuzz.db")
    log_path = tmp / "server.log"
    base = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    proc = common.serve(config, port, log_path)
    try:
        if not quiet:
            print(f"server up on {base}; sending {inputs} inputs (seed {seed}, concurrency {concurrency})",
                  flush=True)
        fuzzer = asyncio.run(_drive(base, inputs, seed, concurrency, proc))
        alive = common.wait_up(proc, port, timeout=10)
    finally:
        common.stop(proc)
    server_log = log_path.read_text(errors="replace")
    result = {
        "inputs": fuzzer.stats["inputs"],
        "seconds": round(time.monotonic() - started, 1),
        "by_kind": {k[5:]: v for k, v in sorted(fuzzer.stats.items()) if k.startswith("kind:")},
        "by_status": dict(sorted(fuzzer.statuses.items())),
        "5xx": fuzzer.stats["5xx"],
        "timeouts": fuzzer.stats["timeouts"],
        "connection_errors": fuzzer.stats["connection errors"],
        "huge_bodies_cut_off_by_413": fuzzer.stats["huge cut off"],
        "crashes": 0 if alive else 1,
        "internal_errors_logged": server_log.count("ERROR bot.receiver: handling "),
        "tracebacks_in_log": server_log.count("Traceback"),
        "replays": fuzzer.stats["replays"],
        "replays_refused": fuzzer.stats["replays refused"],
        "examples": fuzzer.examples_5xx[:5],
    }
    if keep:
        result["kept"] = str(tmp)
    else:
        shutil.rmtree(tmp, ignore_errors=True)
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--inputs", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--port", type=int, default=18150)
    parser.add_argument("--keep", action="store_true", help="keep the temp dir (config, database, server log)")
    args = parser.parse_args()
    result = run(args.inputs, args.seed, args.concurrency, args.port, args.keep)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    print(f"\nFUZZ_RESULT inputs={result['inputs']} 5xx={result['5xx']} crashes={result['crashes']} "
          f"timeouts={result['timeouts']} tracebacks={result['tracebacks_in_log']} "
          f"replays_refused={result['replays_refused']}/{result['replays']}")
    ok = not result["5xx"] and not result["crashes"] and result["replays_refused"] == result["replays"]
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
