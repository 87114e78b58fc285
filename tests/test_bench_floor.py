"""bench/floor, the service without its handling (bench/README.md, hot16): on a process's path it replaces only the
handling. A real encrypted message through the real app is answered with the fixed text and stored as the service
stores every message (the inbound row done, the sender touched); with BENCH_FLOOR=0 the same process handles it."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.test_process import SMALL_RULES

ROOT = Path(__file__).resolve().parents[1]

# Run in a fresh interpreter: a sitecustomize is read at start only.
SCRIPT = r"""
import asyncio, json, shutil, sys, tempfile
from pathlib import Path
sys.path.insert(0, str(Path.cwd() / "bench"))
import webhook as wh
from aiohttp.test_utils import TestClient, TestServer
from bot.app import DB, create_app
from bot.config import load_config
from tests import wx

async def main():
    tmp = Path(tempfile.mkdtemp(prefix="floor-test-"))
    # (the port is not listened on; the small rules: a welcome routes nothing, and a router is a second of CPU)
    app = create_app(load_config(wh.write_config(tmp, 18099, [("routing", "rules", json.dumps(sys.argv[1]))]),
                                 env={}))
    async with TestClient(TestServer(app)) as client:
        openid = "o_floor0000000000000000001"
        body, query = wx.encrypted(wx.text_xml(openid, "你好", msg_id=4242), openid, nonce="nfloor1")
        resp = await client.post(wx.url("/wechat", query), data=body.encode(), headers={"Content-Type": "text/xml"})
        reply = wx.decrypt_reply(await resp.text())["Content"]
        rows = await app[DB].run(lambda db: db.execute("SELECT key, status FROM inbound").fetchall())
        users = await app[DB].run(lambda db: db.execute("SELECT openid FROM users").fetchall())
    shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps({"reply": reply, "inbound": rows, "users": users}))

asyncio.run(main())
"""


def _run(floor: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINGJIAN_")}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "bench" / "floor"), str(ROOT)])
    env["BENCH_FLOOR"] = floor
    out = subprocess.run([sys.executable, "-c", SCRIPT, str(SMALL_RULES)], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    said_replaced = "bench/floor: every message's handling is a fixed reply" in out.stderr
    return {**json.loads(out.stdout.strip().splitlines()[-1]), "said": said_replaced}


def test_the_floor_answers_its_fixed_text_and_stores_the_message_as_the_service_does():
    source = (ROOT / "bench" / "floor" / "sitecustomize.py").read_text()
    floor = _run("1")
    assert floor["said"]
    assert floor["reply"] in source  # the fixed text, not a reply of the intake
    assert floor["inbound"] == [["wechat:msg:4242", "done"]]
    assert floor["users"] == [["o_floor0000000000000000001"]]
    kept = _run("0")
    assert not kept["said"]
    assert kept["reply"] != floor["reply"] and "欢迎" in kept["reply"]  # the service's own welcome
    assert kept["inbound"] == [["wechat:msg:4242", "done"]]
