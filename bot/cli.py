"""`tingjian` command line. Each command has its own --help."""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import multiprocessing
import os
import signal
import sys
from pathlib import Path
from typing import AsyncIterator, Iterator

from bot.config import Config, ConfigError, load_config
from storage.directory import DirectoryError


def _load(path: str | None, **overrides) -> Config:
    path = path or os.environ.get("TINGJIAN_CONFIG")
    if path is None:
        raise ConfigError("no configuration: give --config FILE or set TINGJIAN_CONFIG "
                          "(config.example.toml documents every key)")
    return load_config(path, overrides=overrides)


@contextlib.contextmanager
def _database(config: Config) -> Iterator:
    """The configured database, open for one command (every admin command's preamble)."""
    from storage.db import Database
    db = Database(config.storage.path).start()
    try:
        yield db
    finally:
        db.close()


@contextlib.asynccontextmanager
async def _wechat_api(config: Config) -> AsyncIterator:
    """The WeChat API client, with the access_token shared through the database, for one command."""
    from bot.channels.wechat.api import WechatApi
    with _database(config) as db:
        api = WechatApi(db, config.wechat.appid, config.wechat.appsecret, config.wechat.api_base)
        try:
            yield api
        finally:
            await api.close()


def _refused(why: object) -> int:
    """A command refused for bad input: one line on stderr, exit status 2, nothing changed."""
    print(f"tingjian: {why}", file=sys.stderr)
    return 2


def _server_overrides(args) -> dict:
    server = {}
    if getattr(args, "host", None):
        server["host"] = args.host
    if getattr(args, "port", None):
        server["port"] = args.port
    return {"server": server} if server else {}


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
        return uvloop.new_event_loop()
    except ImportError:  # Windows: the standard loop
        return asyncio.new_event_loop()


def _serving_app(config: Config, clock=None, role: str = "single"):
    """The app of a serving process (one process, an HTTP worker, the writer) with the process's own settings:
    the garbage collector's freeze after start-up (bot/runtime.py)."""
    from bot import runtime
    from bot.app import create_app
    app = create_app(config, clock, role)
    runtime.install(app, config)
    return app


def _run_worker(config: Config, reuse_port: bool, clock=None, role: str = "single") -> None:
    from aiohttp import web

    _logging(config.server.log_level)
    web.run_app(_serving_app(config, clock, role), host=config.server.host, port=config.server.port,
                reuse_port=reuse_port, print=None, access_log=None, loop=_new_loop())


def _serve(config: Config, workers: int, banner: str = "", clock=None) -> int:
    import sqlite3

    try:
        with _database(config) as db:  # migrate once, before workers race to do it
            db.run_sync(_write_check)
    except (sqlite3.Error, OSError) as exc:
        print(f"tingjian: cannot open the database {config.storage.path} for writing ({exc}); check storage.path, "
              "the file's and its folder's owner and permissions, and free disk space", file=sys.stderr)
        return 2
    print(banner or f"Tingjian listening on {config.public_url} (webhook: {config.public_url}/wechat)", flush=True)
    if workers <= 1:
        # One process: the receiver in-process, no socket hop (the demo, the tests, a small account).
        _run_worker(config, reuse_port=False, clock=clock)
        return 0
    return _supervise(config, workers)


def _write_check(db) -> None:
    """A write that changes nothing: a read-only file fails here, at start, not on the first message."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    db.execute(f"PRAGMA user_version = {int(version)}")


def _die_with_parent(parent_pid: int, name: str) -> None:
    """A worker must not outlive the process that started it (it would keep serving, unsupervised): on Linux the
    kernel sends SIGTERM when the parent dies; elsewhere, and as a second guard, a thread watches getppid().
    On Linux the process is also named (`ps -o comm`: tingjian-writer, tingjian-http-0 ...)."""
    if sys.platform.startswith("linux"):
        import ctypes
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
            libc.prctl(15, ctypes.c_char_p(name.encode()[:15]), 0, 0, 0)  # PR_SET_NAME
        except (OSError, AttributeError):
            pass
    if os.getppid() != parent_pid:  # the parent died before prctl took effect
        os._exit(0)

    def watch() -> None:
        import time
        while os.getppid() == parent_pid:
            time.sleep(1)
        os.kill(os.getpid(), signal.SIGTERM)
    import threading
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def _worker_main(config: Config, parent_pid: int, socket_path: str, name: str) -> None:
    _die_with_parent(parent_pid, name)
    _run_worker(config, reuse_port=True, role=socket_path)


def _writer_main(config: Config, parent_pid: int, socket_path: str, name: str) -> None:
    _die_with_parent(parent_pid, name)
    from bot.writer import run_writer
    _logging(config.server.log_level)
    loop = _new_loop()
    try:
        loop.run_until_complete(run_writer(_serving_app(config, role="writer"), socket_path))
    finally:
        loop.close()


def _supervise(config: Config, workers: int) -> int:
    """One writer process stores and handles every message and runs the background jobs; `workers` HTTP processes
    share the port (SO_REUSEPORT; the kernel spreads connections) and hand each decoded message to the writer over
    a unix socket in a private folder (bot/writer.py). A process that dies is replaced (after a growing pause if it
    keeps dying at once); meanwhile the workers spool what they accept. Stopping the parent stops all."""
    import shutil
    import socket as socketlib
    import tempfile
    import time
    from multiprocessing.connection import wait
    _logging(config.server.log_level)
    log = logging.getLogger("tingjian.supervisor")
    from bot.metrics import prepare_multiprocess  # before any worker imports prometheus_client
    prepare_multiprocess()
    from bot.writer import ask_drain
    ctx = multiprocessing.get_context("spawn")
    parent = os.getpid()
    stopping = False
    folder = tempfile.mkdtemp(prefix="tingjian-")  # 0700: only this user can reach the writer
    socket_path = os.path.join(folder, "writer.sock")
    names = ["tingjian-writer"] + [f"tingjian-http-{i}" for i in range(workers)]
    procs: dict[int, tuple[multiprocessing.Process, float]] = {}
    failures = [0] * len(names)

    def start(slot: int) -> None:
        target = _writer_main if slot == 0 else _worker_main
        p = ctx.Process(target=target, args=(config, parent, socket_path, names[slot]), name=names[slot],
                        daemon=False)
        p.start()
        procs[slot] = (p, time.monotonic())

    def writer_ready(timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and not stopping and procs[0][0].is_alive():
            with socketlib.socket(socketlib.AF_UNIX) as s:
                try:
                    s.connect(socket_path)
                    return True
                except OSError:
                    pass
            time.sleep(0.05)
        return False

    def stop(*_) -> None:
        nonlocal stopping
        stopping = True
        for slot, (p, _started) in procs.items():
            if slot and p.is_alive():  # the HTTP workers first: what they have in hand reaches the writer
                p.terminate()
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    start(0)
    # Workers accept messages as soon as they listen: let the writer be there first (they spool meanwhile anyway).
    if not writer_ready(120):
        log.warning("the writer process is not ready after 120 s; starting the HTTP workers, which spool")
    for slot in range(1, len(names)):
        start(slot)
    restart_at: dict[int, float] = {}
    try:
        while not stopping:
            wait([p.sentinel for p, _ in procs.values() if p.is_alive()], timeout=0.5)
            now = time.monotonic()
            for slot, (p, started) in list(procs.items()):
                if stopping or p.is_alive() or slot in restart_at:
                    continue
                failures[slot] = failures[slot] + 1 if now - started < 10 else 0
                pause = min(30.0, 0.5 * 2 ** failures[slot]) if failures[slot] else 0.0
                log.warning("%s (pid %s) exited with code %s; starting another in %.1f s", names[slot], p.pid,
                            p.exitcode, pause)
                _metrics_process_dead(p.pid)
                if slot and not ask_drain(socket_path):  # a worker's spool is nobody's now: drained at once
                    log.warning("could not ask the writer to drain %s's spool; its next start or the orphan job "
                                "will", names[slot])
                restart_at[slot] = now + pause
            for slot, when in list(restart_at.items()):
                if not stopping and now >= when:
                    del restart_at[slot]
                    start(slot)
        for slot in sorted(procs, reverse=True):  # the writer (slot 0) last
            p = procs[slot][0]
            if slot == 0 and p.is_alive():
                p.terminate()
            p.join(15)
            if p.is_alive():
                p.kill()
                p.join()
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return 0


def _metrics_process_dead(pid: int | None) -> None:
    """Forget a dead worker's live gauges in the shared Prometheus files (its counters stay)."""
    if pid and os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        multiprocess.mark_process_dead(pid)


def cmd_serve(args) -> int:
    config = _load(args.config, **_server_overrides(args)).check_serving()
    if args.workers > 1 and config.sandbox.enabled:
        # The sandbox moves the clock and runs the jobs in the process that serves it: one process.
        print("tingjian: the sandbox (sandbox.enabled) runs in one process: use --workers 1", file=sys.stderr)
        return 2
    return _serve(config, args.workers)


def cmd_demo(args) -> int:
    from bot.demo import demo_config
    from handlers.clock import DemoClock
    if not 0 < args.speed <= 100_000:
        print("tingjian: --speed must be between 0 and 100000", file=sys.stderr)
        return 2
    config = demo_config(port=args.port, host=args.host, data_dir=args.data)
    banner = (
        "Tingjian demo: embedded SQLite at {db}, local WeChat sandbox, no credentials.\n"
        "  Simulator (open in a browser):  {url}/simulator\n"
        "  Terminal chat:                  tingjian chat --url {url}\n"
        "  Other commands use the demo's configuration file, e.g.\n"
        "    tingjian digest --config {cfg}\n"
        "    tingjian staff list --config {cfg}\n"
        "    tingjian qrcode --unit jn-syxx --config {cfg}\n"
        "{speed}"
        "Press Ctrl+C to stop."
    ).format(db=config.storage.path, url=config.public_url, cfg=config.source,
             speed=f"  Time runs {args.speed:g}x faster than real time.\n" if args.speed != 1 else "")
    return _serve(config, 1, banner, clock=DemoClock(args.speed))


def cmd_init_db(args) -> int:
    from handlers.routing import CATEGORIES
    from storage import directory
    config = _load(args.config)
    with _database(config) as db:
        if config.directory.csv:
            n = db.run_sync(directory.upsert, directory.read_csv(config.directory.csv, CATEGORIES), True)
            print(f"directory: {n} unit(s) loaded from {config.directory.csv}")
        if config.directory.services:
            from storage import services
            known = {u["code"]: u["kind"] for u in db.run_sync(directory.all_units)}
            try:
                scopes = services.read_toml(config.directory.services, known)
            except services.ServicesError as exc:
                raise ConfigError(f"directory.services: {exc}") from None
            n = db.run_sync(services.replace, scopes, True)
            print(f"service items: {n} ({config.directory.services})")
        _check_campaign(config, db)
        from bot.app import check_directory
        check_directory(config, {u["code"] for u in db.run_sync(directory.all_units)})
    print(f"database ready: {config.storage.path}")
    return 0


def _with_db(args, fn, *fn_args):
    """Run one storage call against the configured database, for the admin commands."""
    config = _load(args.config)
    with _database(config) as db:
        return config, db.run_sync(fn, *fn_args)


def cmd_staff_invite(args) -> int:
    import time

    from storage import staff
    config = _load(args.config)
    hours = args.hours or config.notify.invite_hours
    try:
        name = staff.clean_name(args.name)  # as it is stored, and as said here
        _, code = _with_db(args, staff.create_invite, args.unit, args.role, name, time.time(), hours * 3600)
    except ValueError as exc:
        return _refused(exc)
    within = f"{hours // 24} 天" if hours % 24 == 0 else f"{hours} 小时"
    print(f"绑定码：{code}\n请{name}在 {within}内向公众号发送：绑定 {code}\n（绑定码只能使用一次）")
    return 0


def cmd_staff_list(args) -> int:
    from storage import staff
    _, rows = _with_db(args, staff.list_staff)
    if not rows:
        print("no staff bound yet: tingjian staff invite --unit CODE --role handler --name NAME")
    for r in rows:
        print(f"{r['openid']}\t{r['role']}\t{r['unit_code']}\t{r['unit_name'] or ''}\t{r['name'] or ''}")
    return 0


def cmd_staff_invites(args) -> int:
    """Invite codes with their state (the workbench's 人员 page lists the same)."""
    import time

    from storage import staff
    _, rows = _with_db(args, staff.invites, time.time())
    if not rows:
        print("no invite codes yet: tingjian staff invite --unit CODE --role handler --name NAME")
    for r in rows:
        print(f"{r['id']}\t{r['selector'] or ''}······\t{r['state']}\t{r['role']}\t{r['unit_code']}\t{r['name']}"
              f"\tcreated {_when(r['created_at'])}\texpires {_when(r['expires_at'])}"
              + (f"\tused by {r['used_by']}" if r["used_by"] else ""))
    return 0


def cmd_staff_revoke(args) -> int:
    import time

    from storage import staff
    _, row = _with_db(args, staff.revoke_invite, args.id, time.time(), staff.CONSOLE)
    if row is None:
        print(f"tingjian: invite {args.id} is not open (used, expired, revoked or unknown)", file=sys.stderr)
        return 1
    print(f"invite {args.id} for {row['name']} ({row['role']}, {row['unit_code']}) revoked")
    return 0


def cmd_staff_role(args) -> int:
    """A new role; who acts for the unit follows (Desk.change_role), its notices queued as staff remove's."""
    from handlers.clock import Clock
    from handlers.desk import Desk
    from storage import outbox, staff
    config = _load(args.config)
    clock = Clock()
    desk = Desk(clock, config.calendar(), config.routing.duty_office,
                oversight_office=config.routing.oversight_office)

    def change(db):
        before, notices = desk.change_role(db, args.openid, args.role, staff.CONSOLE)
        outbox.enqueue_replies(db, [r.to_dict() for r in notices], "", clock.now(), source="staff-role")
        return before
    try:
        _, before = _with_db(args, _kept_refusal(change))
    except ValueError as exc:
        return _refused(exc)
    if isinstance(before, staff.StaffChangeRefused):
        return _refused(_refusal(before))
    print(f"{args.openid}: {before['role']} → {args.role} ({before['unit_code']})")
    return 0


def _kept_refusal(change):
    """`change(db)` run in the command's transaction, storage.staff.allow's refusal returned instead of raised:
    the transaction commits, so the refusal's audit row stays, as the web's do (raised, it rolled back)."""
    from storage import staff

    def run(db):
        try:
            return change(db)
        except staff.StaffChangeRefused as exc:
            return exc
    return run


def _refusal(exc) -> str:
    """storage.staff.allow's refusal, as the console says it (the console may grant anything else)."""
    return {"last_admin": "this is the last admin: bind another admin first (tingjian staff invite --role admin)"
            }.get(exc.reason, exc.reason)


def cmd_staff_remove(args) -> int:
    """Unbind, and in the same transaction hand the person's open tickets back to their unit: the notices to
    whoever now acts for it go into the outbox, which the running service sends."""
    from handlers.clock import Clock
    from handlers.desk import Desk
    from storage import outbox, staff
    config = _load(args.config)
    clock = Clock()
    # The notices are channel-neutral; the running service's WeChat channel renders any template message.
    desk = Desk(clock, config.calendar(), config.routing.duty_office,
                oversight_office=config.routing.oversight_office)

    def remove(db):
        removed, notices = desk.remove_staff(db, args.openid, staff.CONSOLE)
        outbox.enqueue_replies(db, [r.to_dict() for r in notices], "", clock.now(), source="staff-remove")
        return removed, len(notices)

    _, done = _with_db(args, _kept_refusal(remove))
    if isinstance(done, staff.StaffChangeRefused):
        return _refused(_refusal(done))
    removed, told = done
    if removed:
        print(f"removed {args.openid}" + (f"; their open tickets went back to their unit, or to its stand-in if "
                                           f"nobody is left there ({told} notice(s))"
                                           if told else ""))
    else:
        print(f"{args.openid} is not a staff member")
    return 0 if removed else 1


def cmd_staff_phones(args) -> int:
    """Staff phones on file (m056): a ticket giving one is an insider's, whichever account wrote it."""
    import csv
    import time

    from storage import staff
    if args.action == "list":
        _, rows = _with_db(args, staff.phones)
        for r in rows:
            print(f"{r['phone']}\t{r['name'] or ''}\tadded {_when(r['added_at'])}")
        if not rows:
            print("no staff phones on file: tingjian staff phones add PHONE --name NAME, or import roster.csv")
        return 0
    if args.action == "remove":
        if len(args.values) != 1:
            return _refused(ValueError("remove takes one phone"))
        try:
            _, gone = _with_db(args, staff.remove_phone, args.values[0])
        except ValueError as exc:
            return _refused(exc)
        print(f"removed {args.values[0]}" if gone else f"{args.values[0]} is not on file")
        return 0 if gone else 1
    if args.action == "import":  # a roster: phone in the first column, the name in the second; a header is skipped
        if len(args.values) != 1:
            return _refused(ValueError("import takes one CSV file"))
        try:
            with open(args.values[0], encoding="utf-8-sig", newline="") as f:
                rows = [r for r in csv.reader(f) if r and r[0].strip()]
        except OSError as exc:
            return _refused(ValueError(f"cannot read {args.values[0]}: {exc.strerror}"))
        if rows and not any(ch.isdigit() for ch in rows[0][0]):
            rows = rows[1:]
        wanted = [(r[0], r[1] if len(r) > 1 else None) for r in rows]
    else:
        if not args.values:
            return _refused(ValueError("add takes at least one phone"))
        wanted = [(v, args.name) for v in args.values]
    try:
        _, (new, marked) = _with_db(args, staff.add_phones, wanted, time.time())
    except ValueError as exc:  # one bad line: nothing recorded
        return _refused(exc)
    print(f"{new} staff phone(s) recorded; {marked} ticket(s) by the accounts that gave them are an insider's "
          "(their ratings, 表扬 and 群众评议 not counted)")
    return 0


def _when(ts: float | None) -> str:
    import time
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(ts)) if ts else "-"


def cmd_outbox_list(args) -> int:
    import json

    from storage import outbox
    states = tuple(args.state) if args.state else ("pending", "sending", "waiting", "failed")
    _, rows = _with_db(args, outbox.list_rows, states, args.limit)
    if not rows:
        print(f"no messages in state {', '.join(states)}")
    for r in rows:
        payload = json.loads(r["payload"])
        text = payload.get("content") or payload.get("template_id") or ""
        print(f"#{r['id']}\t{r['status']}\t{r['openid']}\tqueued {_when(r['created_at'])}\t"
              f"attempts {r['attempts']}\t"
              + (f"next {_when(r['next_attempt_at'])}\t" if r["status"] == "pending" else "")
              + (f"error: {r['last_error']}\t" if r["last_error"] else "")
              + text.replace("\n", " ")[:40])
    return 0


def cmd_outbox_retry(args) -> int:
    import time

    from storage import outbox
    if (args.id is None) == (not args.all_failed):
        print("tingjian: give a message ID or --all-failed", file=sys.stderr)
        return 2
    _, count = _with_db(args, outbox.retry, time.time(), args.id)
    print(f"{count} message(s) queued again; a running service sends them within seconds")
    return 0 if count else 1


def cmd_inbound_failed(args) -> int:
    import json

    from storage import inbound
    states = ("retrying", "flagged", "resolved") if args.all else ("retrying", "flagged")
    _, rows = _with_db(args, inbound.list_failures, states, args.limit)
    if not rows:
        print("no message is waiting for a retry or for staff")
    for r in rows:
        text = json.loads(r["payload"]).get("text") or ""
        nxt = f"next try {_when(r['next_attempt_at'])}" if r["state"] == "retrying" else ""
        print(f"{r['key']}\t{r['state']}\t{r['openid']}\tfirst failed {_when(r['failed_at'])}\t"
              f"tries {r['attempts']}\t{nxt}\terror: {r['error']}\t{text[:40]}")
    return 0


def cmd_inbound_retry(args) -> int:
    import time

    from storage import inbound
    _, ok = _with_db(args, inbound.retry_failure, args.key, time.time())
    print(f"{args.key} will be tried again within a minute" if ok else f"{args.key}: no such unresolved failure")
    return 0 if ok else 1


def cmd_inbound_resolve(args) -> int:
    import time

    from storage import inbound

    def resolve(db, key, now):
        if db.execute("SELECT 1 FROM inbound_failures WHERE key = ? AND state != 'resolved'", [key]).fetchone():
            inbound.resolve_failure(db, key, now)
            return True
        return False
    _, ok = _with_db(args, resolve, args.key, time.time())
    print(f"{args.key} marked as dealt with" if ok else f"{args.key}: no such unresolved failure")
    return 0 if ok else 1


def cmd_directory_import(args) -> int:
    from handlers.routing import CATEGORIES
    from storage import directory
    try:
        rows = directory.read_csv(args.file, CATEGORIES)
        _, count = _with_db(args, directory.upsert, rows)
    except directory.DirectoryError as exc:
        return _refused(exc)
    print(f"{count} unit(s) imported from {args.file} (existing codes updated, none duplicated)")
    return 0


def cmd_digest(args) -> int:
    import time
    from zoneinfo import ZoneInfo

    from bot.web import LinkError, digest_link, render_html
    from handlers import digest
    from handlers.rates import percent, stood_in
    from handlers.routing import Router
    from storage import directory
    config = _load(args.config)
    tz = ZoneInfo(config.bot.timezone)
    try:
        week = args.week or digest.previous_week(digest.week_of(time.time(), tz))
        digest.parse_week(week)
    except ValueError as exc:
        return _refused(exc)
    with _database(config) as db:
        schools = db.run_sync(directory.schools)
        router = Router.from_toml(config.routing.rules or None, [(s["code"], s["name"], ()) for s in schools])
        try:
            # A reader: a report, even on a live database, never holds the write lock.
            d = db.read_sync(digest.build, week, time.time(), tz, router.tokenizer, args.scope,
                             config.review.min_cases)
        except ValueError as exc:  # an unknown scope
            return _refused(exc)
    try:
        link = digest_link(config, week, args.scope, time.time())
    except LinkError:
        link = "（未设置 server.link_secret，无法生成链接）"
    print(digest.message(d, tz, link))
    for u in d.units:
        print(f"  {u.name}: 受理{u.now.dispatched}{stood_in(u.now)} 响应率{percent(u.now.response)} "
              f"解决率{percent(u.now.resolution)} 满意率{percent(u.now.satisfaction)}")
    out = Path(args.out or f"digest-{week}{'' if args.scope == 'bureau' else '-' + args.scope}.html")
    out.write_text(render_html(d, tz), encoding="utf-8")
    print(f"page written to {out}")
    return 0


async def _qr_urls(config: Config, scenes: list[str]) -> dict[str, str]:
    """The permanent parameter QR code's url for each scene, from the WeChat API (the same scene always gives
    the same code)."""
    async with _wechat_api(config) as api:
        return {scene: (await api.create_qrcode(scene))["url"] for scene in scenes}


def _poster_targets(args, config: Config):
    """(units, survey or None) for qrcode and poster: --unit or --all, optionally for --survey."""
    from storage import directory
    with _database(config) as db:
        survey = None
        if getattr(args, "survey", None):
            defs = _campaign_defs(config, db)
            survey = defs.get(args.survey)
            if survey is None:
                raise ValueError(f"no survey {args.survey!r}; configured: {', '.join(defs) or 'none'}")
        if getattr(args, "all", False):
            units = [u for u in db.run_sync(directory.all_units) if survey is None or survey.covers(u)]
        else:
            unit = db.run_sync(directory.get, args.unit)
            if unit is None:
                raise ValueError(f"unknown unit {args.unit!r}")
            if survey is not None and not survey.covers(unit):
                raise ValueError(f"{unit['name']} ({unit['code']}) is not covered by survey {survey.id}")
            units = [unit]
    return units, survey


def _scene(unit: dict, survey) -> str:
    from storage import directory
    return survey.scene(unit["code"]) if survey is not None else directory.scene_for(unit)


def cmd_qrcode(args) -> int:
    """A unit's permanent parameter QR code (from the WeChat API) as a PNG for printing."""
    import aiohttp

    from bot.channels.wechat.api import WechatApiError
    from bot.poster import PosterError, qr_png
    config = _load(args.config)
    try:
        [unit], survey = _poster_targets(args, config)
    except ValueError as exc:
        return _refused(exc)
    if not 2 <= args.size <= 100:
        print("tingjian: --size is the printed width in cm, 2 to 100", file=sys.stderr)
        return 2
    scene = _scene(unit, survey)
    try:
        url = asyncio.run(_qr_urls(config, [scene]))[scene]
        image = qr_png(url, args.size, args.caption or "")
    except (WechatApiError, aiohttp.ClientError) as exc:
        print(f"tingjian: WeChat API: {exc}", file=sys.stderr)
        return 1
    except PosterError as exc:
        print(f"tingjian: {exc}", file=sys.stderr)
        return 1
    out = Path(args.out or f"qrcode-{unit['code']}{'-' + survey.id if survey else ''}.png")
    out.write_bytes(image)
    print(f"{unit['name']}: scene {scene}, {args.size:g} cm at 300 dpi, saved to {out}")
    return 0


def cmd_poster(args) -> int:
    """A4 PDF posters: a unit's QR code with what it is for and the promises; --survey for a survey's code."""
    import aiohttp

    from bot.channels.wechat.api import WechatApiError
    from bot.poster import PosterError, find_cjk_font, render_pdf, survey_poster, unit_poster
    config = _load(args.config)
    try:
        units, survey = _poster_targets(args, config)
        find_cjk_font()  # before asking WeChat for a hundred codes
    except ValueError as exc:
        return _refused(exc)
    except PosterError as exc:
        print(f"tingjian: {exc}", file=sys.stderr)
        return 1
    if not units:
        print("tingjian: no units to print", file=sys.stderr)
        return 2
    try:
        urls = asyncio.run(_qr_urls(config, [_scene(u, survey) for u in units]))
    except (WechatApiError, aiohttp.ClientError) as exc:
        print(f"tingjian: WeChat API: {exc}", file=sys.stderr)
        return 1
    d = config.deadlines
    days = {"inquiry": d.inquiry_days, "complaint": d.complaint_days, "safety_complaint": d.safety_complaint_days}
    folder = Path(args.out or ".")
    folder.mkdir(parents=True, exist_ok=True)
    for unit in units:
        url = urls[_scene(unit, survey)]
        if survey is None:
            content = unit_poster(unit, url, config.bot.organisation, config.bot.name, days)
            name = f"poster-{unit['code']}.pdf"
        else:
            content = survey_poster(unit, url, config.bot.organisation, config.bot.name, survey)
            name = f"poster-{survey.id}-{unit['code']}.pdf"
        try:
            path = render_pdf(content, folder / name)
        except PosterError as exc:
            print(f"tingjian: {exc}", file=sys.stderr)
            return 1
        print(f"{unit['name']}: {path}")
    return 0


def _check_campaign(config: Config, db) -> None:
    """Surveys and common questions are read at start; init-db checks them first, naming what is wrong."""
    from handlers.faq import FaqError, load_faq
    from storage import directory
    defs = _campaign_defs(config, db)
    if defs:
        print(f"surveys: {', '.join(sorted(defs))} ({config.campaign.surveys})")
    if config.campaign.faq:
        known = {u["code"]: u["kind"] for u in db.run_sync(directory.all_units)}
        try:
            entries = load_faq(config.campaign.faq, known)
        except FaqError as exc:
            raise ConfigError(f"campaign.faq: {exc}") from None
        print(f"common questions: {len(entries)} ({config.campaign.faq})")


def _campaign_defs(config: Config, db):
    """The configured surveys, checked against the directory in the database."""
    from handlers.survey import SurveyError, load_surveys
    from storage import directory
    from handlers.survey import with_stored
    from storage import campaign_defs
    known = {u["code"]: u["kind"] for u in db.run_sync(directory.all_units)}
    try:
        files = load_surveys(config.campaign.surveys or None, config.bot.timezone, known)
    except SurveyError as exc:
        raise ConfigError(f"campaign.surveys: {exc}") from None
    # and those written in the workbench, as the running service sees them
    return with_stored(files, db.run_sync(campaign_defs.rows, "survey"), config.bot.timezone, known)


def cmd_survey_list(args) -> int:
    import time

    from storage import surveys

    config = _load(args.config)
    with _database(config) as db:
        defs = _campaign_defs(config, db)
        counts = db.run_sync(surveys.totals)
    if not defs:
        print("no surveys configured (campaign.surveys in the config)")
        return 0
    now = time.time()
    for s in sorted(defs.values(), key=lambda s: s.opens):
        state = "open" if s.is_open(now) else "closed" if now >= s.closes_at else "not yet open"
        n, units, burst = counts.get(s.id, (0, 0, 0))
        print(f"{s.id}\t{s.title}\t{s.opens}..{s.closes} ({state})\tunits: {', '.join(s.units)}\t"
              f"{len(s.questions)} questions\t{n} responses from {units} unit(s)"
              + (f", {burst or 0} in bursts" if burst else ""))
    return 0


def cmd_survey_results(args) -> int:
    from bot import sheets
    from handlers.survey_results import CSV_COLUMNS, csv_rows, format_results, survey_results
    config = _load(args.config)
    with _database(config) as db:
        defs = _campaign_defs(config, db)
        survey = defs.get(args.id)
        if survey is None:
            print(f"tingjian: no survey {args.id!r}; configured: {', '.join(defs) or 'none'}", file=sys.stderr)
            return 2
        results = db.run_sync(survey_results, survey, defs, config.campaign.min_responses, args.unit)
    print(format_results(survey, results, config.campaign.min_responses))
    if args.out:
        with open(args.out, "w", newline="", encoding="utf-8-sig") as fh:  # BOM: Excel opens it as UTF-8
            sheets.csv_dicts(fh, CSV_COLUMNS, csv_rows(survey, results))
        print(f"written to {args.out}")
    return 0


def cmd_review(args) -> int:
    """绩效考核 of a period: the ranking printed, and the XLSX with --out."""
    import time
    from zoneinfo import ZoneInfo

    from handlers import review
    config = _load(args.config)
    tz = ZoneInfo(config.bot.timezone)
    try:
        review.parse_period(args.period)
    except ValueError as exc:
        return _refused(exc)
    with _database(config) as db:
        defs = _campaign_defs(config, db)
        now = time.time()
        # A reader: a report over a year of tickets never holds the write lock.
        result = db.read_sync(review.as_shown, args.period, tz, config.review.weights(), defs,
                              config.campaign.min_responses, now, args.kind, config.review.min_cases)
    if args.unit:
        try:
            print(review.format_unit(result, args.unit))
        except ValueError as exc:
            return _refused(exc)
    else:
        print(review.format_text(result))
    if args.out:
        from bot.review_xlsx import write
        print(f"written to {write(result, args.out, now, tz)}")
    return 0


def _account_name(names: dict, key: str) -> str:
    """A counter row's unit: the unit's name, or "<stand-in>·代收" for a 代收 account (storage.tickets.STAND_IN)."""
    from storage import tickets
    code = tickets.owner(key)
    return names.get(code, code) + ("·代收" if code != key else "")


def _verify(db, start: float, end: float, now: float, unchecked: set | None = None
            ) -> tuple[list[dict], dict, dict, list[dict]]:
    """(counter differences, published figures, the same recounted, tickets no event backs) of one period, on a
    reader; `unchecked` receives the tickets older than the events' record of time limits (m044)."""
    from handlers import rates
    from storage import integrity
    diffs = integrity.differences(db, start, end)
    published = rates.for_period(db, start, end, None, now)
    recounted = rates.for_periods(db, [start, end], None, now, counts=integrity.recount_sums)[0]
    return diffs, published, recounted, integrity.against_events(db, start, end, unchecked)


def _repair(db, start: float, end: float, now: float, detail: str) -> int:
    """--repair, on the writer: the counter rows rewritten and, in the same transaction, a line in the audit log
    saying what they held (the evidence --repair replaces is kept where the workbench's 操作记录 shows it)."""
    from storage import integrity, websessions
    n = integrity.repair(db, start, end)
    websessions.audit(db, now, "cli", "verify-rates:repair", None, f"{n} 行：{detail}"[:4000])
    return n


def cmd_verify_rates(args) -> int:
    """Each unit's counts of a period recounted from the tickets, compared with the counters (unit_days) and the
    published rates; differences in plain Chinese, exit status 1 if any. --repair puts the recount in place."""
    import datetime as dt
    import time
    from zoneinfo import ZoneInfo

    from handlers import dashboard, rates, texts
    from storage import directory, integrity
    config = _load(args.config)
    tz = ZoneInfo(config.bot.timezone)
    try:
        period = dashboard.parse_period("week" if "W" in args.period.upper() else "month", args.period.upper(), tz)
    except (ValueError, TypeError) as exc:
        return _refused(f"--period {args.period!r}: give a month (2026-11) or an ISO week (2026-W47) ({exc})")
    now = time.time()

    def day(t: float) -> str:
        return dt.datetime.fromtimestamp(t, tz).strftime("%Y-%m-%d")
    with _database(config) as db:
        names = {u["code"]: u["name"] for u in db.read_sync(directory.all_units)}
        print(texts.VERIFY_HEAD.format(period=period.key, first=day(period.start), last=day(period.end - 1)))
        unchecked: set[str] = set()
        diffs, published, recounted, unbacked = db.read_sync(_verify, period.start, period.end, now, unchecked)
        if args.repair and diffs:
            detail = "；".join(f"{day(d['day'] * 86400 - integrity.DAY_OFFSET)} {d['unit']} {d['count']} "
                              f"{d['kept']}→{d['recounted']}" for d in diffs)
            n = db.run_sync(_repair, period.start, period.end, now, detail)
            print(texts.VERIFY_REPAIRED.format(n=n))
            diffs, published, recounted, unbacked = db.read_sync(_verify, period.start, period.end, now)
    if diffs:
        print(texts.VERIFY_COUNTERS_BAD.format(n=len(diffs)))
        for d in diffs:
            print(texts.VERIFY_COUNTER.format(day=day(d["day"] * 86400 - integrity.DAY_OFFSET), code=d["unit"],
                                              unit=_account_name(names, d["unit"]), kept=d["kept"],
                                              count=texts.COUNT_NAMES[d["count"]], recounted=d["recounted"]))
    changed = []
    for code in sorted(set(published) | set(recounted)):
        a, b = published.get(code) or rates.Rates(), recounted.get(code) or rates.Rates()
        parts = [f"{texts.COUNT_NAMES[f]} {getattr(a, f)}→{getattr(b, f)}" for f in texts.COUNT_NAMES
                 if getattr(a, f) != getattr(b, f)]
        parts += [f"{label} {rates.percent(getattr(a, r))}→{rates.percent(getattr(b, r))}"
                  for r, label in (("response", "响应率"), ("resolution", "解决率"), ("satisfaction", "满意率"))
                  if rates.percent(getattr(a, r)) != rates.percent(getattr(b, r))]
        if parts:
            changed.append(texts.VERIFY_PUBLISHED.format(unit=names.get(code, code), code=code,
                                                         changes="，".join(parts)))
    if changed:
        print(texts.VERIFY_PUBLISHED_BAD.format(n=len(changed)))
        print("\n".join(changed))
    if unbacked:  # never repaired here: the events are the record, and a person must see what changed
        print(texts.VERIFY_UNBACKED_BAD.format(n=len({u["number"] for u in unbacked})))
        for u in unbacked[:50]:
            print(texts.VERIFY_UNBACKED.format(number=u["number"], what=texts.UNBACKED_NAMES[u["what"]]))
        if len(unbacked) > 50:
            print(texts.VERIFY_MORE.format(n=len(unbacked) - 50))
    if diffs or changed or unbacked:
        print(texts.VERIFY_BAD.format(period=period.key) if diffs or changed else texts.VERIFY_UNBACKED_END)
        return 1
    days = round((period.end - period.start) / 86400)
    print(texts.VERIFY_OK.format(units=len(published), days=days))
    if unchecked:  # said, not hidden: "相符" must not cover what had nothing to be checked against
        print(texts.VERIFY_UNCHECKED.format(n=len(unchecked)))
    return 0


def cmd_review_comment(args) -> int:
    """领导点评 from the terminal (leaders can also send 点评 in WeChat)."""
    import time

    from handlers import review
    from storage import review as review_store
    try:
        review.parse_period(args.period)
        text = args.text.strip()
        if not text:
            raise ValueError("the comment is empty")
        _, cid = _with_db(args, review_store.add_comment, args.unit, args.period, args.author, text, args.public,
                          time.time())
    except ValueError as exc:
        return _refused(exc)
    print(f"comment {cid} recorded for {args.unit}, {review.period_name(args.period)}"
          f"{' (public: shown on the unit page)' if args.public else ' (internal)'}")
    return 0


def cmd_review_comments(args) -> int:
    from storage import review as review_store
    if args.delete is not None:
        _, done = _with_db(args, review_store.delete_comment, args.delete)
        print(f"comment {args.delete} deleted" if done else f"tingjian: no comment {args.delete}",
              file=sys.stdout if done else sys.stderr)
        return 0 if done else 2
    _, rows = _with_db(args, review_store.comments, args.period, args.unit)
    for c in rows:
        print(f"{c['id']}\t{c['period']}\t{c['unit_code']}\t{c['author']}\t{'public' if c['public'] else 'internal'}"
              f"\t{c['text']}")
    if not rows:
        print("no comments")
    return 0


def cmd_faq_stats(args) -> int:
    import datetime as dt
    from zoneinfo import ZoneInfo

    from handlers.faq import FaqError, load_faq, stats_rows
    from storage import directory, faq
    config = _load(args.config)
    with _database(config) as db:
        known = {u["code"]: u["kind"] for u in db.run_sync(directory.all_units)}
        try:
            entries = load_faq(config.campaign.faq or None, known)
        except FaqError as exc:
            raise ConfigError(f"campaign.faq: {exc}") from None
        from handlers.faq import with_stored
        from storage import campaign_defs
        entries, _ = with_stored(entries, db.run_sync(campaign_defs.rows, "faq"), known)
        counts = db.run_sync(faq.counts)
    if not entries and not counts:
        print("no common questions configured (campaign.faq in the config)")
        return 0
    today = dt.datetime.now(ZoneInfo(config.bot.timezone)).date()
    print("id\tserved\tsolved\thuman\tno answer\tsolved share\treview by\tquestion")
    for r in stats_rows(entries, counts, today):
        share = f"{r['solved_share']:.0%}" if r["solved_share"] is not None else "—"
        review = r["review_by"] + ("" if r["current"] or not r["review_by"] else " (past: not served)")
        print(f"{r['id']}\t{r['served']}\t{r['solved']}\t{r['human']}\t{r['no_answer']}\t{share}\t{review}\t"
              f"{r['question']}")
    return 0


def cmd_menu(args) -> int:
    """Set (push) or show the account's custom menu through the WeChat API."""
    import json

    import aiohttp

    from bot.channels.wechat.api import WechatApiError
    from bot.menu import default_menu, describe
    config = _load(args.config)

    async def run() -> int:
        async with _wechat_api(config) as api:
            try:
                if args.menu_command == "push":
                    menu = default_menu()
                    await api.create_menu(menu)
                    print("menu set (it reaches followers within minutes; re-following shows it at once):")
                    print(describe(menu))
                else:
                    data = await api.get_menu()
                    print(describe(data["menu"]) if not args.json else json.dumps(data, ensure_ascii=False, indent=2))
                return 0
            except WechatApiError as exc:
                if exc.errcode == 46003:
                    print("no custom menu set: tingjian menu push", file=sys.stderr)
                    return 1
                print(f"tingjian: WeChat API: {exc}", file=sys.stderr)
                return 1
            except aiohttp.ClientError as exc:
                print(f"tingjian: cannot reach the WeChat API at {config.wechat.api_base}: {exc}", file=sys.stderr)
                return 1
    return asyncio.run(run())


def cmd_backup(args) -> int:
    from storage import backup
    config = _load(args.config)
    try:
        summary = backup.backup(config.storage.path, args.dest)
    except (backup.BackupError, OSError) as exc:
        print(f"tingjian: backup failed: {exc}", file=sys.stderr)
        return 1
    from bot.media import mirror
    files = mirror(config.media.folder(config.storage.path), f"{args.dest}.media")  # attachments: files beside it
    print(f"backup of {config.storage.path} written to {args.dest}: {summary.get('tickets', 0)} ticket(s), "
          f"{summary.get('outbox_pending', 0)} message(s) waiting to be sent; {files} new attachment file(s) "
          f"copied to {args.dest}.media")
    return 0


def cmd_restore(args) -> int:
    from storage import backup
    config = _load(args.config)
    try:
        summary = backup.restore(args.src, config.storage.path, force=args.force)
    except (backup.BackupError, OSError) as exc:
        print(f"tingjian: restore refused: {exc}", file=sys.stderr)
        return 1
    from bot.media import mirror
    files = mirror(f"{args.src}.media", config.media.folder(config.storage.path))
    kept = f"; the replaced database is kept as {summary['kept']}" if "kept" in summary else ""
    kept += f"; {files} attachment file(s) restored" if files else ""
    print(f"restored {args.src} to {config.storage.path}: {summary.get('tickets', 0)} ticket(s), "
          f"{summary.get('outbox_pending', 0)} message(s) waiting to be sent{kept}. Start the service again.")
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


def _router(args):
    from handlers.routing import Router
    return Router.from_toml(args.rules)


def _corrections(args) -> list[dict]:
    from storage import tickets
    return _with_db(args, tickets.corrections)[1]


def cmd_route_eval(args) -> int:
    from handlers.routing.evaluate import (breakdown, evaluate, format_breakdown, format_errors, format_report,
                                           format_urgency, length_of, read_csv, read_styles, read_urgent,
                                           write_predictions)
    from handlers.routing.learn import labelled
    if bool(args.file) == bool(args.corrections):
        print("tingjian: give a labelled CSV file or --corrections (the staff's 转派 in the database)",
              file=sys.stderr)
        return 2
    styles: dict[str, str] = {}
    if args.corrections:
        rows, skipped = labelled(_corrections(args))
        print(f"corrections from the database: {len(rows)} judged, {skipped} not judged (the receiving unit "
              "handles several categories or none)")
        if not rows:
            return 0
    else:
        try:
            urgent_rows = read_urgent(args.file)
            if urgent_rows is not None:  # a file of urgency judgements (id,text,urgent)
                print(format_urgency(_router(args), urgent_rows, args.errors))
                return 0
            rows = read_csv(args.file)
            styles = read_styles(args.file)
        except (OSError, ValueError) as exc:
            return _refused(exc)
    report = evaluate(_router(args), rows)
    print(format_report(report))
    if args.by_length:
        print("\n" + format_breakdown(
            "by length (short = one line of at most 60 characters, as typed in WeChat):",
            breakdown(report, rows, lambda _i, t: length_of(t))))
    if args.by_style:
        if styles:
            print("\n" + format_breakdown("by style (the CSV's style column):",
                                          breakdown(report, rows, lambda i, _t: styles.get(i) or "-")))
        else:
            print("\n(no style column in this file)")
    if args.errors:
        print("\nmisrouted (id, gold -> predicted, text):\n" + format_errors(report))
    if args.predictions:
        write_predictions(args.predictions, [r[0] for r in rows], report.predictions)
        print(f"predictions written to {args.predictions}")
    return 0


def cmd_route_suggest(args) -> int:
    from handlers.routing import DEFAULT_RULES
    from handlers.routing.learn import format_suggestion, suggest
    rules_path = Path(args.rules) if args.rules else DEFAULT_RULES
    corrections = _corrections(args)
    if not corrections:
        print("no corrections recorded yet: every 转派 by staff is recorded and will show here")
        return 0
    sug = suggest(_router(args), rules_path.read_text(encoding="utf-8"), corrections, args.min_count,
                  rules_path.name)
    print(format_suggestion(sug))
    if args.out and sug.diff:
        Path(args.out).write_text(sug.diff, encoding="utf-8")
        print(f"\ndiff written to {args.out} (apply with: patch -p1 < {args.out}, after review)")
    return 0


def _logging(level: str) -> None:
    logging.basicConfig(level=level.upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("apscheduler").setLevel(logging.WARNING)  # it logs every job run at INFO


def _config_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="TOML file (default: $TINGJIAN_CONFIG)")


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
    p.add_argument("--speed", type=float, default=1.0,
                   help="time runs N times faster (e.g. 60: an hour a minute), so deadlines, reminders and the "
                        "Monday digest come within a demo; the simulator can also jump ahead by hours or days")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("init-db", help="create or upgrade the database and load the directory",
                       description="Apply database migrations, load directory.csv if configured, and check the "
                                   "survey and common-question files.")
    _config_option(p)
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
    _config_option(q)
    q.set_defaults(func=cmd_staff_invite)
    q = staff_sub.add_parser("list", help="list bound staff", description="List bound staff accounts.")
    _config_option(q)
    q.set_defaults(func=cmd_staff_list)
    q = staff_sub.add_parser("invites", help="list invite codes and their state",
                             description="Invite codes, newest first: id, the code's first characters, state "
                                         "(open, used, expired, revoked), role, unit and name.")
    _config_option(q)
    q.set_defaults(func=cmd_staff_invites)
    q = staff_sub.add_parser("revoke", help="revoke an unused invite code",
                             description="Withdraw an invite code nobody has used yet (id from `staff invites`).")
    q.add_argument("id", type=int)
    _config_option(q)
    q.set_defaults(func=cmd_staff_revoke)
    q = staff_sub.add_parser("role", help="change a staff member's role",
                             description="Change the role of a bound staff member within their unit.")
    q.add_argument("openid")
    q.add_argument("role", choices=("handler", "supervisor", "leader", "admin"))
    _config_option(q)
    q.set_defaults(func=cmd_staff_role)
    q = staff_sub.add_parser("phones", help="staff phones on file: a ticket giving one is an insider's",
                             description="Staff phones (the bureau's roster). A ticket whose contact phone is on "
                                         "file is treated as staff's, whichever WeChat account wrote it: its "
                                         "rating leaves 满意率 and its praise the 表扬 count. `add PHONE... "
                                         "[--name NAME]`, `import roster.csv` (phone, name), `list`, "
                                         "`remove PHONE` (one put on file by mistake).")
    q.add_argument("action", choices=("add", "import", "list", "remove"))
    q.add_argument("values", nargs="*", metavar="PHONE_OR_FILE")
    q.add_argument("--name", help="whose phone, as the roster says")
    _config_option(q)
    q.set_defaults(func=cmd_staff_phones)
    q = staff_sub.add_parser("remove", help="unbind a staff account", description="Make an openid a citizen again; "
                             "their open tickets go back to their unit, which is told.")
    q.add_argument("openid")
    _config_option(q)
    q.set_defaults(func=cmd_staff_remove)

    p = sub.add_parser("outbox", help="see and retry messages waiting to be pushed",
                       description="Messages the service pushes (customer-service and template messages). "
                                   "Transient errors are retried for ever; permanent ones end as failed.")
    out_sub = p.add_subparsers(dest="outbox_command", required=True, metavar="ACTION")
    q = out_sub.add_parser("list", help="list undelivered messages, newest first",
                           description="List messages by state (default: all but sent), newest first.")
    q.add_argument("--state", action="append", choices=("pending", "sending", "sent", "waiting", "failed"),
                   help="only this state (repeatable)")
    q.add_argument("--limit", type=int, default=50)
    _config_option(q)
    q.set_defaults(func=cmd_outbox_list)
    q = out_sub.add_parser("retry", help="send a failed or waiting message again",
                           description="Make a failed (or waiting) message due now, or every failed one.")
    q.add_argument("id", type=int, nargs="?", help="message id from `tingjian outbox list`")
    q.add_argument("--all-failed", action="store_true", help="every failed message")
    _config_option(q)
    q.set_defaults(func=cmd_outbox_retry)

    p = sub.add_parser("inbound", help="messages whose handling failed",
                       description="Messages whose handling raised an error: answered with an apology, tried "
                                   "again automatically, then flagged for staff (the duty office is told once).")
    in_sub = p.add_subparsers(dest="inbound_command", required=True, metavar="ACTION")
    q = in_sub.add_parser("failed", help="list messages waiting for a retry or flagged for staff",
                          description="List messages whose handling failed and is not resolved yet.")
    q.add_argument("--all", action="store_true", help="include those resolved by a retry")
    q.add_argument("--limit", type=int, default=100)
    _config_option(q)
    q.set_defaults(func=cmd_inbound_failed)
    q = in_sub.add_parser("retry", help="try a flagged message once more",
                          description="Let the service try a flagged message once more (after a fix).")
    q.add_argument("key", help="the message key from `tingjian inbound failed`")
    _config_option(q)
    q.set_defaults(func=cmd_inbound_retry)
    q = in_sub.add_parser("resolve", help="mark a flagged message as dealt with by hand",
                          description="Mark a flagged message as dealt with (staff answered the person by hand).")
    q.add_argument("key", help="the message key from `tingjian inbound failed`")
    _config_option(q)
    q.set_defaults(func=cmd_inbound_resolve)

    p = sub.add_parser("directory", help="import units and schools from CSV",
                       description="The directory of units and schools.")
    dir_sub = p.add_subparsers(dest="directory_command", required=True, metavar="ACTION")
    q = dir_sub.add_parser("import", help="import or update units from a CSV",
                           description="Import units from a CSV with columns code,name,kind[,district,parent,"
                                       "categories,commitment]; rows are checked one by one, existing codes updated "
                                       "(also units edited in the workbench: the file becomes their source again).")
    q.add_argument("file")
    _config_option(q)
    q.set_defaults(func=cmd_directory_import)

    p = sub.add_parser("digest", help="render a weekly digest (text and HTML page)",
                       description="Render the digest of an ISO week to stdout and to an HTML file. It is not sent: "
                                   "the service sends each week's digest once, on schedule.")
    p.add_argument("--week", help="ISO week like 2026-W48 (default: last week)")
    p.add_argument("--scope", default="bureau", help="'bureau' (default) or a unit code")
    p.add_argument("--out", help="HTML file (default digest-<week>.html)")
    _config_option(p)
    p.set_defaults(func=cmd_digest)

    p = sub.add_parser("qrcode", help="a unit's permanent QR code as a PNG for printing",
                       description="Create (or fetch again) the permanent parameter QR code of a unit through the "
                                   "WeChat API and save it as a PNG at 300 dpi. Scanning it follows the account "
                                   "with the unit's scene (or, with --survey, opens the unit's survey).")
    p.add_argument("--unit", required=True, help="unit code from the directory")
    p.add_argument("--survey", help="the code of this survey for the unit (scene survey:<id>:<unit>)")
    p.add_argument("--size", type=float, default=8.0, help="printed width in cm (default 8: scans from 1 m)")
    p.add_argument("--caption", help="text printed under the code, e.g. the unit's name")
    p.add_argument("--out", help="PNG file (default qrcode-<unit>.png)")
    _config_option(p)
    p.set_defaults(func=cmd_qrcode)

    p = sub.add_parser("backup", help="copy the database while the service runs",
                       description="Make a consistent copy of the live database with SQLite's backup API. The "
                                   "service goes on answering meanwhile. The copy is one file, readable only by you.")
    p.add_argument("dest", help="the backup file to write")
    _config_option(p)
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="put a backup in place of the database (service stopped)",
                       description="Check a backup and copy it into storage.path. Refuses while the service (or any "
                                   "command) has the database open, and refuses to replace an existing database "
                                   "without --force; the replaced one is kept beside it.")
    p.add_argument("src", help="a file made by `tingjian backup`")
    p.add_argument("--force", action="store_true", help="replace an existing database (a copy of it is kept)")
    _config_option(p)
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("survey", help="群众评议 surveys: list them, and their results",
                       description="Surveys are defined in TOML (campaign.surveys). List them with their response "
                                   "counts, or print a survey's results per unit and question.")
    survey_sub = p.add_subparsers(dest="survey_command", required=True, metavar="ACTION")
    q = survey_sub.add_parser("list", help="configured surveys with dates and response counts",
                              description="Configured surveys with their dates, state and response counts.")
    _config_option(q)
    q.set_defaults(func=cmd_survey_list)
    q = survey_sub.add_parser("results", help="results per unit and question (mean, 95%% CI, distribution)",
                              description="Per unit and question: responses counted, mean, 95%% confidence "
                                          "interval, distribution, the bureau's mean and the previous survey's; "
                                          "样本不足 below campaign.min_responses. Bursts are shown separately.")
    q.add_argument("id", help="survey id")
    q.add_argument("--unit", help="only this unit code")
    q.add_argument("--out", metavar="FILE.csv", help="also write one row per unit and question")
    _config_option(q)
    q.set_defaults(func=cmd_survey_results)

    p = sub.add_parser("review", help="绩效考核: each unit's score and rank for a month, quarter or year",
                       description="The performance review of a period (2026-11, 2026-Q4 or 2026): the three rates, "
                                   "first-time satisfaction, overdue and bounced counts, the 群众评议 score and "
                                   "praise, normalised and weighted ([review] in the config) into one score, ranked "
                                   "within each kind of unit; districts and the bureau pooled. `review comment` "
                                   "records a leader's comment (领导点评).")
    p.add_argument("--period", help="2026-11, 2026-Q4 or 2026")
    p.add_argument("--kind", choices=["office", "district", "school", "kindergarten"], help="only this kind")
    p.add_argument("--unit", help="print this unit's report (figures, each component's score and weight)")
    p.add_argument("--out", metavar="FILE.xlsx", help="also write the XLSX (sheets 全局, 区县, 单位, 说明)")
    _config_option(p)
    p.set_defaults(func=lambda a: cmd_review(a) if a.period else _missing(p, "--period"))
    review_sub = p.add_subparsers(dest="review_command", metavar="[comment | comments]")
    q = review_sub.add_parser("comment", help="record a leader's comment (领导点评) on a unit for a period",
                              description="Record 领导点评 for a unit and period. --public shows it on the unit's "
                                          "public page.")
    q.add_argument("--unit", required=True, help="unit code")
    q.add_argument("--period", required=True, help="2026-11, 2026-Q4 or 2026")
    q.add_argument("--text", required=True)
    q.add_argument("--author", default="局领导", help="who comments (default: 局领导)")
    q.add_argument("--public", action="store_true", help="also show it on the unit's public page")
    _config_option(q)
    q.set_defaults(func=cmd_review_comment)
    q = review_sub.add_parser("comments", help="list leaders' comments (id, period, unit, author, visibility)",
                              description="List 领导点评, the latest first; --delete ID withdraws one.")
    q.add_argument("--period", help="only this period")
    q.add_argument("--unit", help="only this unit code")
    q.add_argument("--delete", type=int, metavar="ID", help="withdraw this comment")
    _config_option(q)
    q.set_defaults(func=cmd_review_comments)

    p = sub.add_parser("verify-rates", help="check each unit's counts of a month or week against its tickets",
                       description="Recount each unit's daily counts of a period (派发, 按时签收, 办结, 按时办结, 评价, "
                                   "满意, 未评价, 代收, 表扬) from the tickets, compare them with the counters the "
                                   "rates are published from (unit_days) and the published rates; print each "
                                   "difference in plain Chinese and exit with status 1 if there is any. Reads "
                                   "only the period's index ranges: usable on a live database of a million "
                                   "tickets.")
    p.add_argument("--period", required=True, help="a month (2026-11) or an ISO week (2026-W47)")
    p.add_argument("--repair", action="store_true",
                   help="put the recount in place of the period's counters (one short write; tickets untouched)")
    _config_option(p)
    p.set_defaults(func=cmd_verify_rates)

    p = sub.add_parser("faq", help="常见问题: how often each instant answer was served and whether it helped",
                       description="Common questions answered at once (campaign.faq).")
    faq_sub = p.add_subparsers(dest="faq_command", required=True, metavar="ACTION")
    q = faq_sub.add_parser("stats", help="per question: served, solved, asked for a person, no answer",
                           description="Per common question: how often it was served, how often people said it "
                                       "solved their problem or asked for a person, and whether its review date "
                                       "has passed (then it is not served).")
    _config_option(q)
    q.set_defaults(func=cmd_faq_stats)

    p = sub.add_parser("menu", help="set or show the custom menu (我要留言 / 查询进度 / 公开评议)",
                       description="The Official Account's custom menu, through the WeChat API (menu/create, "
                                   "menu/get): 我要留言, 查询进度 and 公开评议 (办事公开, 参与评议, 使用帮助).")
    menu_sub = p.add_subparsers(dest="menu_command", required=True, metavar="ACTION")
    q = menu_sub.add_parser("push", help="set the menu", description="Set the custom menu (menu/create).")
    _config_option(q)
    q.set_defaults(func=cmd_menu)
    q = menu_sub.add_parser("show", help="show the menu that is set", description="Show the menu (menu/get).")
    q.add_argument("--json", action="store_true", help="print the API's JSON")
    _config_option(q)
    q.set_defaults(func=cmd_menu)

    p = sub.add_parser("poster", help="printable A4 PDF posters with a unit's QR code",
                       description="Write an A4 PDF per unit: its name, its QR code (8.5 cm, scans from 1 m), what "
                                   "to use it for, the deadline promise and the unit's commitment. --survey makes "
                                   "the survey variant (the unit's survey code). Needs a CJK font: "
                                   "apt-get install fonts-wqy-microhei.")
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--unit", help="unit code from the directory")
    which.add_argument("--all", action="store_true", help="every unit (with --survey: every unit it covers)")
    p.add_argument("--survey", help="survey id: the survey poster variant")
    p.add_argument("--out", help="folder for the PDFs (default: current folder)")
    _config_option(p)
    p.set_defaults(func=cmd_poster)

    p = sub.add_parser("chat", help="chat with a running demo from the terminal",
                       description="Talk to the bot through a running demo's sandbox, as a WeChat user would.")
    p.add_argument("--url", default="http://127.0.0.1:8080", help="the demo's address")
    p.add_argument("--openid", default="o_demo_terminal", help="who you are")
    p.add_argument("--scene", help="QR scene to scan first, e.g. school:jn-syxx")
    p.set_defaults(func=cmd_chat)

    p = sub.add_parser("route", help="show how a message would be routed, and why",
                       description="Route one message with the keyword rules and the model, and print the explanation.")
    p.add_argument("text")
    p.add_argument("--rules", help="rules TOML (default: the rules shipped with Tingjian)")
    p.set_defaults(func=cmd_route)

    p = sub.add_parser("route-eval", help="measure routing on a labelled CSV (id,text,label), on urgency judgements "
                       "(id,text,urgent) or on corrections",
                       description="Print accuracy, macro-F1, per-category precision/recall/F1, the confusion pairs "
                                   "and matrix for a CSV with columns id,text,label[,style], or for the staff's "
                                   "corrections (转派) recorded in the database.")
    p.add_argument("file", nargs="?", help="labelled CSV (omit with --corrections)")
    p.add_argument("--corrections", action="store_true",
                   help="evaluate on the corrections in the database (needs --config)")
    p.add_argument("--by-length", action="store_true", help="also score short (WeChat-style) and long messages")
    p.add_argument("--by-style", action="store_true", help="also score each value of the CSV's style column")
    p.add_argument("--predictions", metavar="OUT.csv", help="also write id,predicted")
    p.add_argument("--errors", action="store_true", help="also list the misrouted messages")
    p.add_argument("--rules", help="rules TOML (default: the rules shipped with Tingjian)")
    p.add_argument("--config", help="TOML file, for --corrections (default: $TINGJIAN_CONFIG)")
    p.set_defaults(func=cmd_route_eval)

    p = sub.add_parser("route-suggest", help="propose rule changes from the staff's corrections, as a diff",
                       description="List the rule words that most often preceded a correction (转派) and propose "
                                   "changes to the rules file as a unified diff. Nothing is changed: a person "
                                   "reviews the diff and applies it.")
    p.add_argument("--min-count", type=int, default=2, help="corrections needed before a change is proposed")
    p.add_argument("--out", metavar="PATCH", help="also write the diff to this file")
    p.add_argument("--rules", help="rules TOML (default: the rules shipped with Tingjian)")
    _config_option(p)
    p.set_defaults(func=cmd_route_suggest)
    return parser


def _missing(parser: argparse.ArgumentParser, option: str) -> int:
    parser.print_usage(sys.stderr)
    print(f"tingjian: {option} is required", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ConfigError as exc:
        print(f"tingjian: configuration error: {exc}", file=sys.stderr)
        return 2
    except DirectoryError as exc:  # the [directory] CSV a command loads: its file, line and what is wrong
        print(f"tingjian: directory error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
