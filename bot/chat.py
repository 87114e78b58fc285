"""`tingjian chat`: talk to a running demo from the terminal, as a WeChat user would.

Every line you type goes through the sandbox (POST /sandbox/send), which signs, encrypts and posts it to the bot's
webhook exactly as WeChat does; the bot's passive reply is printed, and a background task polls
/sandbox/messages for what the bot pushes later (customer-service and template messages).
Lines starting with / are commands (/help lists them).
"""
from __future__ import annotations

import asyncio
import sys
import threading
from typing import Any, TextIO

import aiohttp

BOT = "听见"
HELP = """命令：
  /scan <场景值>     扫描带参数二维码，例如 /scan school:jn-syxx（未关注时即关注）
  /follow           关注公众号          /unfollow        取消关注
  /voice <文字>      发送语音（识别文字）  /location <纬度> <经度> [地点]  发送位置
  /click <key>      点击菜单            /as <openid>     换一个身份
  /help             显示本帮助          /quit            退出"""


class ChatClient:
    def __init__(self, base_url: str, openid: str, stdout: TextIO, session: aiohttp.ClientSession):
        self.base_url = base_url.rstrip("/")
        self.openid = openid
        self.stdout = stdout
        self.session = session
        self.after: dict[str, int] = {}
        self._lock = asyncio.Lock()

    def say(self, text: str) -> None:
        self.stdout.write(text + "\n")
        self.stdout.flush()

    def bot(self, text: str) -> None:
        lines = text.split("\n")
        self.say(f"{BOT}> " + lines[0] + "".join("\n" + " " * (len(BOT) * 2 + 2) + line for line in lines[1:]))

    async def send(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        try:
            async with self.session.post(f"{self.base_url}/sandbox/send",
                                         json={"openid": self.openid, **payload}) as resp:
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, ValueError) as exc:
            self.say(f"！连不上 {self.base_url}：{exc}")
            return None
        if resp.status != 200:
            self.say(f"！发送失败：{data.get('error', resp.status)}")
            return None
        if data.get("auto_followed"):
            self.say("（已自动关注公众号）")
        if data.get("tries", 1) > 1:
            self.say(f"（微信等待超时，重试了 {data['tries'] - 1} 次）")
        if data.get("reply"):
            self.bot(data["reply"])
        if data.get("notice"):
            self.say(f"！{data['notice']}")
        if data.get("error"):
            self.say(f"！{data['error']}")
        return data

    async def skip_history(self) -> None:
        """Start after what was pushed before this session, so only new messages are shown."""
        messages = await self._fetch(self.openid, 0)
        if messages:
            self.after[self.openid] = max(m["id"] for m in messages)

    async def _fetch(self, openid: str, after: int) -> list[dict[str, Any]]:
        try:
            async with self.session.get(f"{self.base_url}/sandbox/messages",
                                        params={"openid": openid, "after": str(after)}) as resp:
                if resp.status != 200:
                    return []
                data = await resp.json(content_type=None)
        except (aiohttp.ClientError, ValueError):
            return []
        return list(data.get("messages", []))

    async def poll(self) -> None:
        async with self._lock:
            openid = self.openid
            for m in await self._fetch(openid, self.after.get(openid, 0)):
                self.after[openid] = max(self.after.get(openid, 0), int(m["id"]))
                self.show_pushed(m)

    def show_pushed(self, m: dict[str, Any]) -> None:
        kind = m.get("kind")
        if kind == "text":
            self.bot(m.get("content", ""))
        elif kind == "template":
            data = m.get("data") or {}
            lines = ["【模板消息】"] + [f"{k}：{v.get('value', '')}" if isinstance(v, dict) else f"{k}：{v}"
                                     for k, v in data.items()]
            if m.get("url"):
                lines.append(f"详情：{m['url']}")
            self.bot("\n".join(lines))
        elif kind in ("news", "link"):
            self.bot(f"【图文】{m.get('title') or m.get('content', '')}" + (f"\n{m['url']}" if m.get("url") else ""))
        else:
            self.bot(f"[{kind}] {m.get('content', '')}")

    async def command(self, line: str) -> bool:
        """Runs one /command; False means quit."""
        name, _, arg = line[1:].strip().partition(" ")
        arg = arg.strip()
        name = name.lower()
        if name in ("quit", "exit", "q"):
            return False
        if name in ("help", "h", "?"):
            self.say(HELP)
        elif name == "scan":
            if not arg:
                self.say("用法：/scan <场景值>")
            else:
                data = await self.send({"type": "scan", "scene": arg})
                if data and data.get("type") == "subscribe":
                    self.say(f"（扫码并关注了公众号，场景 {arg}）")
        elif name == "follow":
            await self.send({"type": "subscribe", **({"scene": arg} if arg else {})})
        elif name == "unfollow":
            await self.send({"type": "unsubscribe"})
            self.say("（已取消关注）")
        elif name == "as":
            if not arg:
                self.say(f"当前身份：{self.openid}")
            else:
                self.openid = arg
                if arg not in self.after:
                    await self.skip_history()
                self.say(f"（现在的身份是 {arg}）")
        elif name == "voice":
            await self.send({"type": "voice", "recognition": arg})
        elif name in ("location", "loc"):
            parts = arg.split(maxsplit=2)
            try:
                lat, lon = float(parts[0]), float(parts[1])
            except (IndexError, ValueError):
                self.say("用法：/location <纬度> <经度> [地点]")
            else:
                await self.send({"type": "location", "lat": lat, "lon": lon,
                                 "label": parts[2] if len(parts) > 2 else ""})
        elif name == "click":
            await self.send({"type": "click", "key": arg})
        else:
            self.say(f"不认识的命令 /{name}，输入 /help 查看")
        return True


def _read_lines(stdin: TextIO, loop: asyncio.AbstractEventLoop) -> asyncio.Queue[str]:
    """Lines from stdin through a daemon thread (a blocked readline must not keep Ctrl+C from exiting).
    An empty string marks the end of input."""
    queue: asyncio.Queue[str] = asyncio.Queue()

    def reader() -> None:
        while True:
            try:
                line = stdin.readline()
            except (OSError, ValueError):
                line = ""
            loop.call_soon_threadsafe(queue.put_nowait, line)
            if not line:
                return

    threading.Thread(target=reader, name="chat-stdin", daemon=True).start()
    return queue


async def _poller(client: ChatClient, interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        await client.poll()


async def run_chat(base_url: str, openid: str, scene: str | None, stdin: TextIO = sys.stdin,
                   stdout: TextIO = sys.stdout, *, poll_interval: float = 1.0, linger: float = 0.0) -> None:
    """Chat until /quit or end of input. linger: seconds to keep polling after the input ends (for scripts)."""
    loop = asyncio.get_running_loop()
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        client = ChatClient(base_url, openid, stdout, session)
        client.say(f"和「{BOT}」聊天，身份 {openid}，服务器 {client.base_url}。输入 /help 查看命令，/quit 退出。")
        await client.skip_history()
        if scene:
            await client.command(f"/scan {scene}")
        poller = asyncio.create_task(_poller(client, poll_interval))
        lines = _read_lines(stdin, loop)
        try:
            while True:
                line = await lines.get()
                if not line:          # end of input
                    if linger > 0:
                        await asyncio.sleep(linger)
                    break
                text = line.rstrip("\r\n")
                if not text.strip():
                    continue
                if text.startswith("/"):
                    if not await client.command(text):
                        break
                else:
                    await client.send({"type": "text", "content": text})
                await client.poll()
            await client.poll()
        finally:
            poller.cancel()
            try:
                await poller
            except asyncio.CancelledError:
                pass
