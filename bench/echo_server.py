#!/usr/bin/env python3
"""The reference for bench/webhook.py: a bare aiohttp + wechatpy safe-mode echo that stores nothing.

It does what any WeChat webhook must do and nothing more: check msg_signature, decrypt, parse the XML, and answer
an encrypted passive text reply with the request's nonce. The ratio of Tingjian's throughput to this one, measured
in the same run on the same machine, is what the benchmark reports (a machine shared with other work slows both).

    python bench/echo_server.py --port 18081
    python bench/echo_server.py --port 18081 --workers 2   # two processes on one port (SO_REUSEPORT), as serve's

With `--workers N` (N >= 2) the parent forks N processes that share the port as `tingjian serve --workers N`'s
HTTP workers do, and only waits: what N processes of a webhook that stores nothing reach against one on this
machine, with the load generator on the same cores (bench/workers.py --echo).
"""
from __future__ import annotations

import argparse

from aiohttp import web
from wechatpy import create_reply, parse_message
from wechatpy.crypto import WeChatCrypto
from wechatpy.exceptions import InvalidSignatureException

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
from tests import wx  # (the same token, key and AppID the benchmark's requests are made with)


def _busy(db, seconds: float, key: str) -> None:
    """--writer-us: a message's stand-in for the service's handling, on the writer thread: Python for `seconds` of
    this thread's CPU, and one row."""
    import time
    end = time.thread_time() + seconds
    n = 0
    while time.thread_time() < end:
        n += sum(i * i for i in range(40))
    db.execute("INSERT OR IGNORE INTO echo (key, n) VALUES (?, ?)", [key, n])


def make_app(writer_us: float = 0) -> web.Application:
    crypto = WeChatCrypto(wx.TOKEN, wx.AES_KEY, wx.APPID)
    db = None
    if writer_us:  # the echo's loop sharing its interpreter with a busy SQLite writer thread, as the service's does
        import tempfile
        from storage.db import Database
        db = Database(tempfile.mkdtemp(prefix="echo-writer-") + "/echo.db").start()
        db.run_sync(lambda d: d.execute("CREATE TABLE IF NOT EXISTS echo (key TEXT PRIMARY KEY, n INTEGER)"))

    async def wechat(request: web.Request) -> web.Response:
        q = request.query
        body = await request.read()
        try:
            xml = crypto.decrypt_message(body, q["msg_signature"], q["timestamp"], q["nonce"])
        except (KeyError, InvalidSignatureException):
            return web.Response(status=403)
        msg = parse_message(xml)
        if db is not None:
            await db.run_redoable(_busy, writer_us / 1e6, q["nonce"])
        reply = create_reply("收到", msg).render()
        return web.Response(text=crypto.encrypt_message(reply, q["nonce"], q["timestamp"]),
                            content_type="application/xml")

    async def health(_: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = web.Application(client_max_size=64 * 1024)
    app.router.add_post("/wechat", wechat)
    app.router.add_get("/healthz", health)
    return app


def make_lowlevel_handler():
    """The same echo on aiohttp's low-level server (web.Server): no Application, router, signals or middleware
    chain, a BaseRequest instead of a Request. What that layer costs a message is what a leaner path for the
    webhook could save at most (bench/echo_paths.py measures it)."""
    app = make_app()
    wechat = next(r.handler for r in app.router.routes() if r.method == "POST")

    async def handle(request: web.BaseRequest) -> web.StreamResponse:
        if request.path == "/wechat" and request.method == "POST":
            return await wechat(request)
        if request.path == "/healthz":
            return web.json_response({"ok": True})
        return web.Response(status=404)
    return handle


async def _serve_lowlevel(port: int) -> None:
    import asyncio
    runner = web.ServerRunner(web.Server(make_lowlevel_handler(), access_log=None))
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    await asyncio.Event().wait()


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=18081)
    p.add_argument("--shape", choices=("app", "lowlevel"), default="app",
                   help="an aiohttp Application (as the service is), or aiohttp's low-level web.Server")
    p.add_argument("--loop", choices=("uvloop", "asyncio"), default="uvloop",
                   help="uvloop (the service uses it too: like for like) or asyncio's own loop")
    p.add_argument("--writer-us", type=float, default=0,
                   help="also hand each message to a storage.db writer thread that spends this many microseconds "
                        "of Python and writes a row (bench/echo_writer.py): what sharing the interpreter costs "
                        "the loop")
    p.add_argument("--workers", type=int, default=1,
                   help="processes sharing the port (SO_REUSEPORT); the parent only waits (default 1)")
    args = p.parse_args()
    if args.workers > 1:
        _fork_workers(args)
        return
    _serve(args)


def _fork_workers(args) -> None:
    """N children serving the port with SO_REUSEPORT; they die with the parent (SIGTERM passed on, and the bench
    kills the whole session)."""
    import os
    import signal
    kids = []
    for _ in range(args.workers):
        pid = os.fork()
        if pid == 0:
            try:
                _serve(args, reuse_port=True)
            finally:
                os._exit(0)
        kids.append(pid)

    def stop(signum, _frame):
        for kid in kids:
            try:
                os.kill(kid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for kid in kids:
        try:
            os.waitpid(kid, 0)
        except ChildProcessError:
            pass


def _serve(args, reuse_port: bool = False) -> None:
    if args.loop == "uvloop":
        try:
            import uvloop
            uvloop.install()
        except ImportError:
            pass
    if args.shape == "lowlevel":
        if reuse_port:
            raise SystemExit("--shape lowlevel serves one process only")
        import asyncio
        asyncio.run(_serve_lowlevel(args.port))
    else:
        web.run_app(make_app(args.writer_us), host="127.0.0.1", port=args.port, print=None, access_log=None,
                    reuse_port=reuse_port or None)


if __name__ == "__main__":
    main()
