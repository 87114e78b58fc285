"""The application factory. Shared objects live on the app under typed keys; start and stop run through
cleanup_ctx in order: database -> directory -> core -> channels and outbox -> recovery of unfinished work."""
from __future__ import annotations

import asyncio
import functools
import logging
import time
from typing import AsyncIterator
from zoneinfo import ZoneInfo

from aiohttp import web
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.channels.wechat.api import WechatApi
from bot.channels.wechat.notify import Templates
from bot.channels.wechat.webhook import WechatWebhook
from bot.config import Config
from bot.digest_job import JobProcess
from bot.media import MediaFetcher, MediaStore
from bot.outbox import OutboxSender, problems
from bot.receiver import Receiver
from bot import priority, public as public_pages
from bot import metrics
from bot import web as web_pages
from bot.web.auth import Links
from bot.scheduler import Jobs, build_scheduler
from handlers.clock import Clock, DemoClock
from handlers import review
from handlers.dispatcher import Dispatcher, Policy
from handlers.routing import CATEGORIES, Router
from storage import directory, inbound, outbox, search, spool
from storage import review as review_store
from storage.spool import Spool
from storage.db import Database

log = logging.getLogger(__name__)

CONFIG = web.AppKey("config", Config)
CLOCK = web.AppKey("clock", Clock)
DB = web.AppKey("db", Database)
DISPATCHER = web.AppKey("dispatcher", Dispatcher)
RECEIVER = web.AppKey("receiver", Receiver)
API = web.AppKey("api", WechatApi)
SENDER = web.AppKey("sender", OutboxSender)
MEDIA = web.AppKey("media", MediaFetcher)
WEBHOOK = web.AppKey("webhook", WechatWebhook)
SCHEDULER = web.AppKey("scheduler", AsyncIOScheduler)
JOBS = web.AppKey("jobs", Jobs)
JOB_PROCESS = web.AppKey("job_process", JobProcess)
# Where messages are stored and handled: "single" (this process: `serve`, `--workers 1`, the demo), "writer" (the
# writer process of `--workers N`: no HTTP) or a unix socket path (an HTTP worker of `--workers N`; bot/writer.py).
ROLE = web.AppKey("role", str)


def create_app(config: Config, clock: Clock | None = None, role: str = "single") -> web.Application:
    # The demo's clock can be sped up and moved forward (POST /sandbox/clock); a real service's never moves.
    clock = clock or (DemoClock() if config.sandbox.enabled else Clock())
    app = web.Application(client_max_size=config.server.max_body_bytes)
    app[CONFIG] = config
    app[CLOCK] = clock
    app[ROLE] = role
    # digest builds and pages not stored, away from this process's GIL; frozen after start-up as this one
    app[JOB_PROCESS] = JobProcess(gc_freeze=config.server.gc_freeze)
    app.cleanup_ctx.append(_job_process)
    app.cleanup_ctx.append(_database)
    priority.setup(app, config.server.pages_per_batch)  # pages take turns with the webhook's writes
    app.cleanup_ctx.append(_core)
    app.cleanup_ctx.append(_delivery)
    app.router.add_get("/healthz", _health)
    app.router.add_get("/metrics", _metrics)

    web_pages.setup(app)
    public_pages.setup(app)  # issue 13: /u/ directory, /u/<code> unit and bureau pages
    app.router.add_get("/wechat", _wechat_get)
    app.router.add_post("/wechat", _wechat_post)

    if config.sandbox.enabled:
        log.warning("the WeChat sandbox is ON (sandbox.enabled): /sandbox lets anyone post as anyone; demos only")
        from bot.demo import mount_sandbox
        mount_sandbox(app, config, clock)
    return app


async def _database(app: web.Application) -> AsyncIterator[None]:
    config = app[CONFIG]
    db = Database(config.storage.path, config.storage.lock_wait_seconds,
                  on_lock_wait=metrics.LOCK_WAIT_SECONDS.observe).start()
    app[DB] = db
    await asyncio.get_running_loop().run_in_executor(None, search.warm)  # jieba for the search index, once
    if config.directory.csv:
        rows = directory.read_csv(config.directory.csv, CATEGORIES)
        await db.run(directory.upsert, rows, True)  # what leaders edited in the workbench stays
    if config.directory.services:
        await load_services(config, db)
    yield
    db.close()


async def load_services(config: Config, db: Database) -> int:
    """服务事项 from [directory] services, checked against the directory (issue 13's public pages)."""
    from bot.config import ConfigError
    from storage import services
    known = {u["code"]: u["kind"] for u in await db.run(directory.all_units)}
    try:
        scopes = services.read_toml(config.directory.services, known)
    except services.ServicesError as exc:
        raise ConfigError(f"{config.source}: directory.services: {exc}") from None
    return await db.run(services.replace, scopes, True)


async def _core(app: web.Application) -> AsyncIterator[None]:
    config, db, clock = app[CONFIG], app[DB], app[CLOCK]
    check_directory(config, {u["code"] for u in await db.run(directory.all_units)})
    schools = await db.run(directory.schools)
    # Building the tokenizer and compiling the rules takes a moment: off the event loop, once.
    def build() -> Router:
        router = Router.from_toml(config.routing.rules or None, [(s["code"], s["name"], ()) for s in schools])
        # every serving process routes (an HTTP worker each text's own words, for the writer's hints):
        # the router's lazy parts are built now, not on a citizen's first message
        return router.warm()

    router = await asyncio.get_running_loop().run_in_executor(None, build)
    d = config.deadlines
    policy = Policy(
        name=config.bot.name, organisation=config.bot.organisation, commitment=config.bot.commitment,
        hotline=config.bot.hotline,
        school_categories=frozenset(config.routing.school_categories),
        district_categories=frozenset(config.routing.district_categories), duty_office=config.routing.duty_office,
        oversight_office=config.routing.oversight_office, similar_days=config.routing.similar_days, conversation_minutes=config.routing.conversation_minutes,
        public_url=config.public_url,
        bind_limits=(config.notify.invite_attempts_per_person, config.notify.invite_attempts_total),
        days={"inquiry": d.inquiry_days, "complaint": d.complaint_days, "suggestion": d.suggestion_days,
              "praise": d.praise_days, "safety_complaint": d.safety_complaint_days, "accept": d.accept_days,
              "redo": d.redo_days, "urgent": d.urgent_days}, restart_on_transfer=d.restart_on_transfer)
    calendar = config.calendar()
    if not config.routing.oversight_office:  # also on the admin page (bot/web/admin.py)
        log.warning("routing.oversight_office: %s", OVERSIGHT_UNSET)
    if calendar.warning(clock.now()):  # also in /healthz and on the workbench for leaders and admins
        log.warning("calendar: %s", calendar.warning(clock.now()))
    surveys_policy, faq = await load_campaign(config, db, router)
    app[DISPATCHER] = Dispatcher(db, router, clock, policy, calendar, surveys_policy, faq,
                                 links=lambda week, scope, to=None: _digest_link(config, clock, week, scope, to),
                                 web_links=Links(config, clock), min_cases=config.review.min_cases)
    # complaints about the bureau left with an office that may be the one accused (filed before the oversight
    # office was configured): handed on now, the notices queued
    def rehome(conn) -> tuple[int, int]:
        desk = app[DISPATCHER].desk
        notices = desk.rehome(conn) + desk.take_strays(conn)  # and tickets older code left with nobody
        outbox.enqueue_replies(conn, [r.to_dict() for r in notices], "", clock.now(), source="start-up")
        return len(notices), desk.unattended_about_bureau(conn)
    if app[ROLE] in ("single", "writer"):
        # the review's rules from now on: a period that ends later is scored by them, an ended one keeps its own
        if await db.run(review_store.record_rules, review.rules(config.review.weights(), config.review.min_cases,
                                                                config.campaign.min_responses), clock.now()):
            log.info("review: rules recorded (periods ending from now on are scored by them)")
        moved, nobody = await db.run(rehome)
        if moved:
            log.warning("complaints about the bureau held where they may not be were handed to their holder")
        if nobody:  # also on the admin page (bot/web/admin.py)
            log.warning("routing: %d %s", nobody, NOBODY_FOR_BUREAU)
    # The HTTP workers route a message's own words for the writer (bot/writer.py): only between processes whose
    # routers decide alike.
    app[DISPATCHER].set_router_id(router_id(config, schools))
    yield


def check_directory(config: Config, codes: set[str]) -> None:
    """The units the config names must be in the directory: a mistyped duty office would take every bounced,
    unclaimed and reviewed ticket to a unit nobody can ever be bound to. (An empty directory: nothing to check
    yet; `init-db` loads it.)"""
    from bot.config import ConfigError
    if codes and config.routing.duty_office not in codes:
        near = sorted(c for c in codes if c[:2] == config.routing.duty_office[:2])[:5]
        raise ConfigError(f"{config.source}: routing.duty_office: {config.routing.duty_office!r} is not a unit of "
                          f"the directory" + (f" (did you mean {', '.join(near)}?)" if near else ""))
    over = config.routing.oversight_office
    if over and over == config.routing.duty_office:
        raise ConfigError(f"{config.source}: routing.oversight_office: {over!r} is the duty office; complaints "
                          f"about the duty office would reach it. Name the unit that oversees the bureau's work")
    if codes and over and over not in codes:
        raise ConfigError(f"{config.source}: routing.oversight_office: {over!r} is not a unit of the directory")


# Said at start-up (and on the admin page, texts.NOBODY_FOR_BUREAU_ADMIN) while such complaints wait for anyone.
NOBODY_FOR_BUREAU = ("open complaint(s) about the bureau have nobody bound who may act on them (no leader, nobody at "
                     "routing.oversight_office): the admins were told; bind a leader")
# Said at start-up and on the admin page while routing.oversight_office is empty.
OVERSIGHT_UNSET = ("not set: complaints about the bureau's offices and its duty office go to the leaders; set it to "
                   "the unit that oversees the bureau's work (督查室 / 纪检监察)")


def router_id(config: Config, schools: list[dict]) -> str:
    """What makes two processes' routers decide alike, as one string: the rules file and the model files it names
    (found as Router.from_toml finds them), the code of the core (handlers/, the router and its data included),
    jieba's and OpenCC's versions, and the directory's schools (the router knows their names). Files by path, size
    and modification time: two processes of one installation see the same; an upgrade on disk under a running
    service changes it, and a writer then takes no decision from a worker started before or after."""
    import hashlib
    from pathlib import Path

    import handlers
    from handlers.routing.router import DEFAULT_RULES
    rules = Path(config.routing.rules) if config.routing.rules else DEFAULT_RULES
    files = sorted(f for f in Path(handlers.__file__).parent.rglob("*") if "__pycache__" not in f.parts)
    files.append(rules)
    try:
        st = rules.stat()
        named = _models_named(str(rules), st.st_size, st.st_mtime_ns)
    except OSError:
        named = ()
    for name in named:
        here = rules.parent / name
        files.append(here if here.exists() else DEFAULT_RULES.parent / name)
    h = hashlib.sha256()
    for f in files:
        try:
            st = f.stat()
        except OSError:
            continue
        if f.is_file():
            h.update(f"{f}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    for package in ("jieba", "opencc"):
        h.update(_package_version(package))
    h.update(repr(sorted((s["code"], s["name"]) for s in schools)).encode())
    return h.hexdigest()[:32]


@functools.lru_cache(maxsize=8)  # a few package names
def _package_version(package: str) -> bytes:
    """A package's installed version, read once per process (importlib.metadata searches sys.path each time): the
    version of the package this process runs, not of one upgraded on disk since."""
    from importlib import metadata
    try:
        return f"{package}={metadata.version(package)}\n".encode()
    except metadata.PackageNotFoundError:
        return b""


@functools.lru_cache(maxsize=8)
def _models_named(rules: str, size: int, mtime_ns: int) -> tuple[str, ...]:
    """The model files a rules file names. Parsing the rules (~3,400 lines of TOML) cost more than the rest of
    router_id: read once per version of the file (size and mtime in the key, as router_id itself sees files)."""
    import tomllib
    try:
        with open(rules, "rb") as f:
            named = tomllib.load(f)
    except (OSError, tomllib.TOMLDecodeError):
        return ()
    return tuple(n for n in (named.get("model", {}).get("weights"), named.get("model", {}).get("training"),
                             named.get("urgent", {}).get("model")) if isinstance(n, str))


async def load_campaign(config: Config, db: Database, router: Router):
    """Surveys and common questions from the [campaign] files, checked against the directory (issue 13)."""
    from bot.config import ConfigError
    from handlers.faq import FaqBook, FaqError, load_faq
    from handlers.survey import Policy as SurveyPolicy, SurveyError, load_surveys
    c = config.campaign
    known = {u["code"]: u["kind"] for u in await db.run(directory.all_units)}
    try:
        defs = load_surveys(c.surveys or None, config.bot.timezone, known)
        entries = load_faq(c.faq or None, known)
    except (SurveyError, FaqError) as exc:
        raise ConfigError(f"{config.source}: campaign: {exc}") from None
    policy = SurveyPolicy(min_responses=c.min_responses, burst_per_hour=c.burst_per_hour,
                          new_follower_minutes=c.new_follower_minutes,
                          new_follower_per_day=c.new_follower_per_day, units_per_person=c.units_per_person,
                          conversation_minutes=config.routing.conversation_minutes, tz=config.bot.timezone,
                          surveys=defs, faq_min_score=c.faq_min_score)
    return policy, (FaqBook(entries, router.tokenizer, c.faq_min_score) if entries else None)


def _digest_link(config: Config, clock: Clock, week: str, scope: str, to: str | None) -> str | None:
    """A signed link to a digest page for 周报, or None when no key to sign links is configured."""
    try:
        return web_pages.digest_link(config, week, scope, clock.now(), to)
    except web_pages.LinkError:
        return None


async def _job_process(app: web.Application) -> AsyncIterator[None]:
    yield
    app[JOB_PROCESS].close()


async def _delivery(app: web.Application) -> AsyncIterator[None]:
    config, db, clock = app[CONFIG], app[DB], app[CLOCK]
    api = WechatApi(db, config.wechat.appid, config.wechat.appsecret, config.wechat.api_base, clock)
    templates = Templates(staff=config.notify.staff_template_id, citizen=config.notify.citizen_template_id)
    sender = OutboxSender(db, api, config.outbox, clock, templates)
    fetcher = MediaFetcher(db, api, MediaStore(config.media.folder(config.storage.path)), config.media, clock)
    app[MEDIA] = fetcher
    if app[ROLE] not in ("single", "writer"):
        # An HTTP worker: the writer process stores and handles messages and runs every background job (once).
        from bot.writer import OutboxWake, RemoteReceiver
        remote = RemoteReceiver(app[ROLE], Spool(spool.folder_for(config.storage.path)),
                                config.wechat.reply_timeout_seconds, clock, hints=app[DISPATCHER].text_hints)
        app[API], app[SENDER], app[RECEIVER] = api, OutboxWake(remote), remote
        app[WEBHOOK] = WechatWebhook(config.wechat, remote, config.server.max_body_bytes, clock.now)
        yield
        await remote.stop()
        await api.close()
        return
    receiver = Receiver(db, app[DISPATCHER].handle_tx, clock, config.wechat.reply_timeout_seconds,
                        on_outbox=sender.wake, on_media=fetcher.wake,
                        spool=Spool(spool.folder_for(config.storage.path)),
                        duty_office=config.routing.duty_office, tz=ZoneInfo(config.bot.timezone),
                        take_hints=app[DISPATCHER].take_hints, read_first=app[DISPATCHER].read_for)
    app[API], app[SENDER], app[RECEIVER] = api, sender, receiver
    app[WEBHOOK] = WechatWebhook(config.wechat, receiver, config.server.max_body_bytes, clock.now)
    # Spools left by killed processes (and by this one, if the database was locked) are drained in the background.
    receiver.start_drain()
    # Whatever was accepted before this process started and is still unhandled was left by a killed process.
    recovered = await receiver.recover(received_before=clock.now())
    if recovered:
        log.info("handled %d message(s) accepted before a restart", recovered)
    sender.start()
    fetcher.start()
    app[JOBS] = jobs = Jobs(db, receiver, clock, config, app[DISPATCHER], sender, app[JOB_PROCESS])
    scheduler = build_scheduler(jobs)
    scheduler.start()
    app[SCHEDULER] = scheduler
    yield
    scheduler.shutdown(wait=False)
    await receiver.stop()
    await sender.stop()
    await fetcher.stop()
    await api.close()


async def _wechat_get(request: web.Request) -> web.Response:
    return await request.app[WEBHOOK].verify(request)


async def _wechat_post(request: web.Request) -> web.Response:
    start = time.perf_counter()
    try:
        return await request.app[WEBHOOK].post(request)
    finally:
        metrics.WEBHOOK_SECONDS.observe(time.perf_counter() - start)


async def _metrics(request: web.Request) -> web.Response:
    body, content_type = await metrics.exposition(request.app[CONFIG].storage.path)
    return web.Response(body=body, headers={"Content-Type": content_type})


# /healthz gives up on a database write after this long and reports the database unhealthy.
HEALTH_WRITE_SECONDS = 2.0


def _heartbeat(db, now: float, failed_since: float) -> dict:
    """One tiny write (proof the database can be written now) and indexed health figures."""
    db.execute("INSERT INTO heartbeat (name, at) VALUES ('healthz', ?) ON CONFLICT(name) DO UPDATE SET at = ?",
               [now, now])
    return {**outbox.health(db, now, failed_since), "flagged_inbound": inbound.flagged_since(db, failed_since)}


async def _health(request: web.Request) -> web.Response:
    """200 when messages can be stored and are being delivered; 503 with the reasons otherwise. Cheap: one
    one-row write and two indexed lookups, whatever the size of the database."""
    app = request.app
    config, clock = app[CONFIG], app[CLOCK]
    now = clock.now()
    body: dict = {"ok": True, "database": "ok", "alerts": []}
    try:
        state = await asyncio.wait_for(
            app[DB].run(_heartbeat, now, now - config.outbox.failed_alert_hours * 3600), HEALTH_WRITE_SECONDS)
    except asyncio.TimeoutError:
        body.update(ok=False, database=f"a write did not complete within {HEALTH_WRITE_SECONDS:.0f} s "
                                      "(the write lock is held by another process?)")
    except Exception as exc:  # noqa: BLE001 - reported, not raised: this is the health check
        body.update(ok=False, database=f"cannot be written: {exc}")
    else:
        flagged = state.pop("flagged_inbound")
        body["outbox"] = state
        body["alerts"] = problems(state, config.outbox)
        if flagged:
            body["alerts"].append(f"{flagged} message(s) could not be handled and wait for staff: "
                                  "tingjian inbound failed")
        if state["oldest_pending_seconds"] is not None and \
                state["oldest_pending_seconds"] > config.outbox.stuck_minutes * 60:
            body["ok"] = False
    if not body["ok"] and body["database"] != "ok":
        body["alerts"].insert(0, f"database {body['database']}")
    dispatcher = app.get(DISPATCHER)
    warning = (dispatcher.calendar if dispatcher is not None else config.calendar()).warning(now)
    if warning:  # deadlines are still given, on a calendar an admin must complete: said, not unhealthy
        body["calendar"] = warning
        body["alerts"].append("calendar: " + warning)
    receiver = app.get(RECEIVER)
    if app[ROLE] not in ("single", "writer") and not await receiver.ping():
        body["ok"] = False
        body["alerts"].insert(0, "the writer process does not answer: messages are spooled, not handled")
    if receiver is not None and receiver.spool is not None:
        spooled = await asyncio.get_running_loop().run_in_executor(None, receiver.spool.pending)
        body["spooled"] = spooled
        if spooled:
            body["alerts"].append(f"{spooled} acknowledged message(s) wait in the spool for the database")
    return web.json_response(body, status=200 if body["ok"] else 503)
