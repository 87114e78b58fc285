"""The heavy periodic reads — the weekly digest of every scope (the week's tickets, its texts cut for hot topics,
each page rendered), a digest page the job has not stored, and the backlogs of an upgrade (hot-topic terms,
the search index of the tickets older than it) — in a job process of their own.

The webhook's process then shares neither its GIL nor, at low priority, its CPU with them: the child runs at
nice 19, so on a busy machine it takes what the service leaves. It only reads (its own read-only WAL connection
per call); what it prepares is handed back and recorded by the parent on the writer, a few scopes per short
transaction (Dispatcher.digest_record_tx), each scope's record whole or not at all. A child killed half-way has
written nothing: the call fails, the next call starts a fresh child, and the weekly job tries again
(bot/scheduler.py).

One child per service process, spawned at the first call and kept while calls come (the router and jieba's
part-of-speech tables load once, ~2–4 s of CPU, not once per job or page), retired after IDLE_SECONDS without
one, so its memory (jieba's tables, ~100–200 MB) is not held all week."""
from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from bot import runtime
from bot.config import Config

log = logging.getLogger(__name__)

# A child unused this long exits (its memory goes with it); the next call spawns a new one.
IDLE_SECONDS = 300.0
NICE = 19  # the webhook first: the child runs on what the service leaves of the CPU


def _child_init(nice: int, gc_freeze: bool = True) -> None:
    global _FREEZE
    try:
        os.nice(nice)
    except OSError:
        pass
    _FREEZE = gc_freeze  # the service's [server] gc_freeze (bot/runtime.py)


_FREEZE = False  # in the child: freeze what a router build made (runtime.freeze), as the service does after start


# -- in the child -------------------------------------------------------------------------------------------------

_routers: dict = {}  # (rules file, schools) -> Router: built once per child, again only if the directory changed


def _router(config: Config, db):
    from handlers.routing import Router
    from storage import directory
    schools = tuple((s["code"], s["name"]) for s in directory.schools(db))
    key = (config.routing.rules or None, schools)
    router = _routers.get(key)
    if router is None:
        _routers.clear()
        router = _routers[key] = Router.from_toml(config.routing.rules or None, [(c, n, ()) for c, n in schools])
        if _FREEZE:  # long-lived like the child: out of the collector's full passes over each job's garbage
            runtime.freeze()
    return router


def _dispatcher(config: Config, db, now: float):
    from handlers.clock import FixedClock
    from handlers.dispatcher import Dispatcher
    return Dispatcher(None, _router(config, db), FixedClock(now), calendar=config.calendar(),
                      min_cases=config.review.min_cases)


def cut_terms(config: Config, texts: list[str]) -> tuple[str, list[list[str]]]:
    """In the child: each text's hot-topic terms (handlers.topics.terms_of with the router's tokenizer), for a
    backlog of tickets (after an upgrade, a long stop) that would hold the service's GIL for minutes; with the
    cut's version (handlers.topics.cut_version: the child's router follows the directory, the service's not)."""
    from handlers import topics
    from storage.db import connect_readonly
    db = connect_readonly(config.storage.path)
    try:
        router = _router(config, db)
    finally:
        db.conn.close()
    return topics.cut_version(router.tokenizer), topics.terms_of(texts, router.tokenizer)


def search_documents(config: Config, limit: int) -> tuple[list[tuple[int, str]], int | None]:
    """In the child: the next `limit` tickets older than the search index, each segmented for it
    (storage.search.backfill_documents: jieba over a year of tickets after an upgrade, minutes of CPU)."""
    from storage import search
    from storage.db import connect_readonly
    db = connect_readonly(config.storage.path)
    try:
        return search.backfill_documents(db, limit)
    finally:
        db.conn.close()


def prepare(config: Config, week: str, now: float) -> list[dict]:
    """In the child: the digests of `week` still to send, as Dispatcher.digest_prepare returns them, each with
    its page's data (stored by the parent, so opening it later is a read and a render)."""
    from bot.public import ranking_link
    from bot.web import digest_link
    from handlers import digest
    from storage import digest_pages
    from storage.db import connect_readonly
    db = connect_readonly(config.storage.path)
    try:
        dispatcher = _dispatcher(config, db, now)
        return dispatcher.digest_prepare(db, week, lambda w, s, to=None: digest_link(config, w, s, now, to),
                                         lambda period, to: ranking_link(config, period, now, to),
                                         lambda d: digest_pages.pack(digest.to_data(d)))
    finally:
        db.conn.close()


def render(config: Config, week: str, scope: str, now: float) -> str:
    """In the child: one scope's page for a week the job has not stored (this week so far, 周报 on demand)."""
    from bot.web import render_html
    from handlers import digest
    from storage.db import connect_readonly
    db = connect_readonly(config.storage.path)
    try:
        dispatcher = _dispatcher(config, db, now)
        tz = dispatcher.calendar.tz
        return render_html(digest.build(db, week, now, tz, dispatcher.router.tokenizer, scope,
                                        dispatcher.min_cases), tz)
    finally:
        db.conn.close()


# -- in the service -----------------------------------------------------------------------------------------------

class JobProcess:
    """The service's one job child: `await jobs.call(fn, *args)` runs fn(*args) there (fn a module-level function,
    its arguments and result picklable). Calls queue in the child one after the other."""

    def __init__(self, idle_seconds: float = IDLE_SECONDS, nice: int = NICE, gc_freeze: bool = True):
        self.idle_seconds = idle_seconds
        self.nice = nice
        self.gc_freeze = gc_freeze  # [server] gc_freeze: the child freezes its router as the service does
        self._pool: ProcessPoolExecutor | None = None
        self._busy = 0
        self._retire: asyncio.TimerHandle | None = None
        self.spawned = 0  # children started so far (a bench and the tests read it)

    def pid(self) -> int | None:
        """The running child's pid, if one runs."""
        procs = getattr(self._pool, "_processes", None) or {}
        return next(iter(procs), None)

    async def call(self, fn, *args):
        loop = asyncio.get_running_loop()
        if self._retire is not None:
            self._retire.cancel()
            self._retire = None
        if self._pool is None:
            self._pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                             initializer=_child_init, initargs=(self.nice, self.gc_freeze))
            self.spawned += 1
        pool = self._pool
        self._busy += 1
        try:
            return await loop.run_in_executor(pool, fn, *args)
        except BrokenProcessPool:
            # The child died (killed, out of memory): nothing it prepared was recorded. The next call starts anew.
            log.warning("the job process ended unexpectedly; the next job starts a new one")
            if self._pool is pool:
                self._pool = None
            pool.shutdown(wait=False, cancel_futures=True)
            raise
        finally:
            self._busy -= 1
            if self._busy == 0 and self._pool is pool and not loop.is_closed():
                self._retire = loop.call_later(self.idle_seconds, self._shutdown_idle)

    def _shutdown_idle(self) -> None:
        self._retire = None
        if self._busy == 0 and self._pool is not None:
            self._pool.shutdown(wait=False)  # the child exits on its own: its memory goes with it
            self._pool = None

    def close(self) -> None:
        """The service stops: so does the child, whatever it was doing (the next start catches up)."""
        if self._retire is not None:
            self._retire.cancel()
            self._retire = None
        pool, self._pool = self._pool, None
        if pool is not None:
            for proc in list((getattr(pool, "_processes", None) or {}).values()):
                proc.terminate()
            pool.shutdown(wait=False, cancel_futures=True)


async def prepare_async(jobs: JobProcess, config: Config, week: str, now: float) -> list[dict]:
    return await jobs.call(prepare, config, week, now)


async def render_async(jobs: JobProcess, config: Config, week: str, scope: str, now: float) -> str:
    return await jobs.call(render, config, week, scope, now)
