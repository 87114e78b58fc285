"""The weekly digest's heavy part — reading the week's tickets and cutting its texts for hot topics — in a
short-lived child process. The webhook's process then shares neither its CPU (one GIL) nor its memory (jieba's
part-of-speech tables, tens of MB) with the job: messages are answered at full speed while the digest is built.
The child only reads (a read-only connection); what it prepares is recorded by the parent on the writer, a few
scopes per transaction (Dispatcher.digest_record_tx)."""
from __future__ import annotations

import asyncio
import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor

from bot.config import Config


def _child_init() -> None:
    try:
        os.nice(5)  # the webhook first
    except OSError:
        pass


def _dispatcher(config: Config, db, now: float):
    from handlers.clock import FixedClock
    from handlers.dispatcher import Dispatcher
    from handlers.routing import Router
    from storage import directory
    schools = directory.schools(db)
    router = Router.from_toml(config.routing.rules or None, [(s["code"], s["name"], ()) for s in schools])
    calendar = config.calendar()
    return Dispatcher(None, router, FixedClock(now), calendar=calendar)


def prepare(config: Config, week: str, now: float) -> list[dict]:
    """In the child: the digests of `week` still to send, as Dispatcher.digest_prepare returns them, each with
    its rendered page (stored by the parent, so opening it later is a read)."""
    from bot.public import ranking_link
    from bot.web import digest_link, render_html
    from storage import digest_pages
    from storage.db import connect_readonly
    db = connect_readonly(config.storage.path)
    try:
        dispatcher = _dispatcher(config, db, now)
        tz = dispatcher.calendar.tz
        return dispatcher.digest_prepare(db, week, lambda w, s, to=None: digest_link(config, w, s, now, to),
                                         lambda period, to: ranking_link(config, period, now, to),
                                         lambda d: digest_pages.pack(render_html(d, tz)))
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
        return render_html(digest.build(db, week, now, tz, dispatcher.router.tokenizer, scope), tz)
    finally:
        db.conn.close()


async def prepare_async(config: Config, week: str, now: float) -> list[dict]:
    return await _in_child(prepare, config, week, now)


async def render_async(config: Config, week: str, scope: str, now: float) -> str:
    return await _in_child(render, config, week, scope, now)


async def _in_child(fn, *args):
    loop = asyncio.get_running_loop()
    pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"), initializer=_child_init)
    try:
        return await loop.run_in_executor(pool, fn, *args)
    except asyncio.CancelledError:  # the service stops: so does the child (the next start catches up)
        for proc in list(getattr(pool, "_processes", {}).values()):
            proc.terminate()
        raise
    finally:
        pool.shutdown(wait=False)  # the child exits on its own; its memory goes with it
