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
    try:
        import uvloop
        loop = uvloop.new_event_loop()
    except ImportError:  # Windows: the standard loop
        loop = asyncio.new_event_loop()
    web.run_app(create_app(config), host=config.server.host, port=config.server.port, reuse_port=reuse_port,
                print=None, access_log=None, loop=loop)


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


def _with_db(args, fn, *fn_args):
    """Run one storage call against the configured database, for the admin commands."""
    from storage.db import Database
    config = _load(args.config)
    db = Database(config.storage.path).start()
    try:
        return config, db.run_sync(fn, *fn_args)
    finally:
        db.close()


def cmd_staff_invite(args) -> int:
    import time

    from storage import staff
    config = _load(args.config)
    hours = args.hours or config.notify.invite_hours
    try:
        _, code = _with_db(args, staff.create_invite, args.unit, args.role, args.name, time.time(), hours * 3600)
    except ValueError as exc:
        print(f"tingjian: {exc}", file=sys.stderr)
        return 2
    print(f"绑定码：{code}\n请{args.name}在 {hours} 小时内向公众号发送：绑定 {code}\n（绑定码只能使用一次）")
    return 0


def cmd_staff_list(args) -> int:
    from storage import staff
    _, rows = _with_db(args, staff.list_staff)
    if not rows:
        print("no staff bound yet: tingjian staff invite --unit CODE --role handler --name NAME")
    for r in rows:
        print(f"{r['openid']}\t{r['role']}\t{r['unit_code']}\t{r['unit_name'] or ''}\t{r['name'] or ''}")
    return 0


def cmd_staff_remove(args) -> int:
    """Unbind, and in the same transaction hand the person's open tickets back to their unit: the notices to
    whoever now acts for it go into the outbox, which the running service sends."""
    from handlers.clock import Clock
    from handlers.desk import Desk
    from handlers.workdays import WorkCalendar
    from storage import outbox
    config = _load(args.config)
    clock = Clock()
    # The notices are channel-neutral; the running service's WeChat channel renders any template message.
    desk = Desk(clock, WorkCalendar(config.bot.timezone, config.school_holidays()), config.routing.duty_office)

    def remove(db):
        removed, notices = desk.remove_staff(db, args.openid)
        outbox.enqueue_replies(db, [r.to_dict() for r in notices], "", clock.now(), source="staff-remove")
        return removed, len(notices)

    _, (removed, told) = _with_db(args, remove)
    if removed:
        print(f"removed {args.openid}" + (f"; their open tickets went back to their unit ({told} notice(s))"
                                           if told else ""))
    else:
        print(f"{args.openid} is not a staff member")
    return 0 if removed else 1


def cmd_directory_import(args) -> int:
    from storage import directory
    try:
        rows = directory.read_csv(args.file)
        _, count = _with_db(args, directory.upsert, rows)
    except directory.DirectoryError as exc:
        print(f"tingjian: {exc}", file=sys.stderr)
        return 2
    print(f"{count} unit(s) imported from {args.file} (existing codes updated, none duplicated)")
    return 0


def cmd_digest(args) -> int:
    import time
    from zoneinfo import ZoneInfo

    from bot.web import digest_link, render_html
    from handlers import digest
    from handlers.rates import percent
    from handlers.routing import Router
    from storage import directory
    from storage.db import Database
    config = _load(args.config)
    tz = ZoneInfo(config.bot.timezone)
    try:
        week = args.week or digest.previous_week(digest.week_of(time.time(), tz))
        digest.parse_week(week)
    except ValueError as exc:
        print(f"tingjian: {exc}", file=sys.stderr)
        return 2
    db = Database(config.storage.path).start()
    try:
        schools = db.run_sync(directory.schools)
        router = Router.from_toml(config.routing.rules or None, [(s["code"], s["name"], ()) for s in schools])
        d = db.run_sync(lambda conn: digest.build(conn, week, time.time(), tz, router.tokenizer, args.scope))
    finally:
        db.close()
    print(digest.message(d, tz, digest_link(config, week, args.scope)))
    for u in d.units:
        print(f"  {u.name}: 受理{u.now.dispatched} 响应率{percent(u.now.response)} "
              f"解决率{percent(u.now.resolution)} 满意率{percent(u.now.satisfaction)}")
    out = Path(args.out or f"digest-{week}{'' if args.scope == 'bureau' else '-' + args.scope}.html")
    out.write_text(render_html(d, tz), encoding="utf-8")
    print(f"page written to {out}")
    return 0


def cmd_qrcode(args) -> int:
    """Fetch a unit's permanent parameter QR code from the WeChat API and save the image for printing."""
    import aiohttp

    from bot.channels.wechat.api import WechatApi, WechatApiError
    from storage import directory
    from storage.db import Database
    config = _load(args.config)

    async def fetch() -> int:
        db = Database(config.storage.path).start()
        api = WechatApi(db, config.wechat.appid, config.wechat.appsecret, config.wechat.api_base)
        try:
            unit = await db.run(directory.get, args.unit)
            if unit is None:
                print(f"tingjian: unknown unit {args.unit!r}", file=sys.stderr)
                return 2
            scene = directory.scene_for(unit)
            qr = await api.create_qrcode(scene)
            async with aiohttp.ClientSession() as session:
                async with session.get(api.qrcode_image_url(qr["ticket"])) as resp:
                    resp.raise_for_status()
                    image = await resp.read()
            out = Path(args.out or f"qrcode-{unit['code']}.png")
            out.write_bytes(image)
            print(f"{unit['name']}: scene {scene}, saved to {out}")
            return 0
        except (WechatApiError, aiohttp.ClientError) as exc:
            print(f"tingjian: WeChat API: {exc}", file=sys.stderr)
            return 1
        finally:
            await api.close()
            db.close()
    return asyncio.run(fetch())


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
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every job run at INFO


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

    p = sub.add_parser("staff", help="invite, list and remove staff accounts",
                       description="Staff accounts. An invite prints a one-time code; the person sends "
                                   "“绑定 <code>” to the Official Account to bind their WeChat.")
    staff_sub = p.add_subparsers(dest="staff_command", required=True, metavar="ACTION")
    q = staff_sub.add_parser("invite", help="create a one-time binding code", description="Create a one-time "
                             "binding code for a staff member of a unit.")
    q.add_argument("--unit", required=True, help="unit code from the directory")
    q.add_argument("--role", required=True, choices=("handler", "supervisor", "leader", "admin"))
    q.add_argument("--name", required=True, help="how the person is shown, e.g. 收费管理处·李老师")
    q.add_argument("--hours", type=int, help="validity (default: notify.invite_hours)")
    q.add_argument("--config", help="TOML file (default: $TINGJIAN_CONFIG)")
    q.set_defaults(func=cmd_staff_invite)
    q = staff_sub.add_parser("list", help="list bound staff", description="List bound staff accounts.")
    q.add_argument("--config", help="TOML file (default: $TINGJIAN_CONFIG)")
    q.set_defaults(func=cmd_staff_list)
    q = staff_sub.add_parser("remove", help="unbind a staff account", description="Make an openid a citizen again; "
                             "their open tickets go back to their unit, which is told.")
    q.add_argument("openid")
    q.add_argument("--config", help="TOML file (default: $TINGJIAN_CONFIG)")
    q.set_defaults(func=cmd_staff_remove)

    p = sub.add_parser("directory", help="import units and schools from CSV",
                       description="The directory of units and schools.")
    dir_sub = p.add_subparsers(dest="directory_command", required=True, metavar="ACTION")
    q = dir_sub.add_parser("import", help="import or update units from a CSV",
                           description="Import units from a CSV with columns code,name,kind[,district,parent,"
                                       "categories,commitment]; rows are checked one by one, existing codes updated.")
    q.add_argument("file")
    q.add_argument("--config", help="TOML file (default: $TINGJIAN_CONFIG)")
    q.set_defaults(func=cmd_directory_import)

    p = sub.add_parser("digest", help="render a weekly digest (text and HTML page)",
                       description="Render the digest of an ISO week to stdout and to an HTML file. It is not sent: "
                                   "the service sends each week's digest once, on schedule.")
    p.add_argument("--week", help="ISO week like 2026-W48 (default: last week)")
    p.add_argument("--scope", default="bureau", help="'bureau' (default) or a unit code")
    p.add_argument("--out", help="HTML file (default digest-<week>.html)")
    p.add_argument("--config", help="TOML file (default: $TINGJIAN_CONFIG)")
    p.set_defaults(func=cmd_digest)

    p = sub.add_parser("qrcode", help="fetch a unit's permanent QR code image for printing",
                       description="Create (or fetch again) the permanent parameter QR code of a unit through the "
                                   "WeChat API and save the image. Scanning it follows the account with the unit's "
                                   "scene.")
    p.add_argument("--unit", required=True, help="unit code from the directory")
    p.add_argument("--out", help="PNG file (default qrcode-<unit>.png)")
    p.add_argument("--config", help="TOML file (default: $TINGJIAN_CONFIG)")
    p.set_defaults(func=cmd_qrcode)

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
