"""`tingjian` command line. Each command has its own --help."""
from __future__ import annotations

import argparse
import asyncio
import logging
import multiprocessing
import os
import signal
import sys
from pathlib import Path

from bot.config import Config, ConfigError, load_config


def _load(path: str | None, **overrides) -> Config:
    path = path or os.environ.get("TINGJIAN_CONFIG")
    if path is None:
        raise ConfigError("no configuration: give --config FILE or set TINGJIAN_CONFIG "
                          "(config.example.toml documents every key)")
    return load_config(path, overrides=overrides)


def _server_overrides(args) -> dict:
    server = {}
    if getattr(args, "host", None):
        server["host"] = args.host
    if getattr(args, "port", None):
        server["port"] = args.port
    return {"server": server} if server else {}


def _run_worker(config: Config, reuse_port: bool) -> None:
    from aiohttp import web

    from bot.app import create_app
    _logging(config.server.log_level)
    web.run_app(create_app(config), host=config.server.host, port=config.server.port, reuse_port=reuse_port,
                print=None, access_log=None)


def _serve(config: Config, workers: int, banner: str = "") -> int:
    from storage.db import Database
    Database(config.storage.path).start().close()  # migrate once, before workers race to do it
    print(banner or f"Tingjian listening on {config.public_url} (webhook: {config.public_url}/wechat)", flush=True)
    if workers <= 1:
        _run_worker(config, reuse_port=False)
        return 0
    # Several processes share the port (SO_REUSEPORT) and the SQLite file; the kernel spreads connections.
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_run_worker, args=(config, True), daemon=False) for _ in range(workers)]
    for p in procs:
        p.start()

    def stop(*_):
        for p in procs:
            if p.is_alive():
                p.terminate()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    for p in procs:
        p.join()
    return 0


def cmd_serve(args) -> int:
    config = _load(args.config, **_server_overrides(args))
    return _serve(config, args.workers)


def cmd_demo(args) -> int:
    from bot.demo import demo_config
    config = demo_config(port=args.port, host=args.host, data_dir=args.data)
    banner = (
        "Tingjian demo: embedded SQLite at {db}, local WeChat sandbox, no credentials.\n"
        "  Simulator (open in a browser):  {url}/simulator\n"
        "  Terminal chat:                  tingjian chat --url {url}\n"
        "Press Ctrl+C to stop."
    ).format(db=config.storage.path, url=config.public_url)
    return _serve(config, 1, banner)


def cmd_init_db(args) -> int:
    from storage import directory
    from storage.db import Database
    config = _load(args.config)
    db = Database(config.storage.path).start()
    try:
        if config.directory.csv:
            n = db.run_sync(directory.upsert, directory.read_csv(config.directory.csv))
            print(f"directory: {n} unit(s) loaded from {config.directory.csv}")
    finally:
        db.close()
    print(f"database ready: {config.storage.path}")
    return 0


def cmd_chat(args) -> int:
    from bot.chat import run_chat
    asyncio.run(run_chat(args.url.rstrip("/"), args.openid, args.scene))
    return 0


def cmd_route(args) -> int:
    from handlers.routing import Router
    router = Router.from_toml(args.rules)
    decision = router.route(args.text)
    print(decision.explain())
    return 0


def cmd_route_eval(args) -> int:
    from handlers.routing import Router
    from handlers.routing.evaluate import evaluate, format_errors, format_report, read_csv, write_predictions
    router = Router.from_toml(args.rules)
    rows = read_csv(args.file)
    report = evaluate(router, rows)
    print(format_report(report))
    if args.errors:
        print("\nmisrouted (id, gold -> predicted, text):\n" + format_errors(report))
    if args.predictions:
        write_predictions(args.predictions, [r[0] for r in rows], report.predictions)
        print(f"predictions written to {args.predictions}")
    return 0


def _logging(level: str) -> None:
    logging.basicConfig(level=level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tingjian", description="听见: the education bureau's WeChat bot.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("serve", help="run the webhook service with a configuration file",
                       description="Run the service: the WeChat webhook at /wechat, the outbox sender.")
    p.add_argument("--config", help="TOML file (default: $TINGJIAN_CONFIG)")
    p.add_argument("--host", help="override server.host")
    p.add_argument("--port", type=int, help="override server.port")
    p.add_argument("--workers", type=int, default=1, help="worker processes sharing the port (default 1)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("demo", help="run a self-contained demo: SQLite, WeChat sandbox, simulator",
                       description="Run the service with an embedded SQLite file, the local WeChat sandbox and "
                                   "the browser simulator. Needs no credentials.")
    p.add_argument("--port", type=int, default=8080)
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--data", default="data", help="folder for the demo database (default ./data)")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("init-db", help="create or upgrade the database and load the directory",
                       description="Apply database migrations and load directory.csv if configured.")
    p.add_argument("--config", help="TOML file (default: $TINGJIAN_CONFIG)")
    p.set_defaults(func=cmd_init_db)

    p = sub.add_parser("chat", help="chat with a running demo from the terminal",
                       description="Talk to the bot through a running demo's sandbox, as a WeChat user would.")
    p.add_argument("--url", default="http://127.0.0.1:8080", help="the demo's address")
    p.add_argument("--openid", default="o_demo_terminal", help="who you are")
    p.add_argument("--scene", help="QR scene to scan first, e.g. school:jn-syxx")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("route", help="show how a message would be routed, and why",
                       description="Route one message with the jieba keyword rules and print the explanation.")
    p.add_argument("text")
    p.add_argument("--rules", help="rules TOML (default: the rules shipped with Tingjian)")
    p.set_defaults(func=cmd_route)

    p = sub.add_parser("route-eval", help="measure routing on a labelled CSV (id,text,label)",
                       description="Print accuracy, macro-F1, per-category precision/recall/F1 and a confusion "
                                   "matrix for a CSV with columns id,text,label.")
    p.add_argument("file")
    p.add_argument("--predictions", metavar="OUT.csv", help="also write id,predicted")
    p.add_argument("--errors", action="store_true", help="also list the misrouted messages")
    p.add_argument("--rules", help="rules TOML (default: the rules shipped with Tingjian)")
    p.set_defaults(func=cmd_route_eval)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"tingjian: configuration error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
