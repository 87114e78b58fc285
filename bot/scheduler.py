"""Periodic jobs. Each is an idempotent sweep over the database, so a missed or repeated run is harmless and
nothing lives only in the scheduler's memory."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot import digest_job
from bot.config import Config
from bot.outbox import OutboxSender
from bot.public import ranking_link
from bot.web import digest_link
from handlers import digest
from bot.receiver import Receiver
from handlers.dispatcher import Dispatcher
from handlers.clock import Clock
from storage import conversations, inbound, outbox, tickets
from storage.db import Database

log = logging.getLogger(__name__)

# An inbound still unhandled after this long belongs to a worker that died (its webhook call is long over).
ORPHAN_SECONDS = 60
# Writes that follow a read-side decision go in batches this small, so no batch holds the write lock for long
# (a webhook message waits for at most one of them).
SWEEP_BATCH = 20
DIGEST_BATCH = 20
PRUNE_BATCH = 500


def build_scheduler(db: Database, receiver: Receiver, clock: Clock, config: Config, dispatcher: Dispatcher,
                    sender: OutboxSender) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    dedupe_days = config.wechat.dedupe_days
    tz = dispatcher.calendar.tz

    async def weekly_digest() -> None:
        """Last ISO week's digests, once they are due; idempotent, so it also runs at start to catch up."""
        now = clock.now()
        week = digest.previous_week(digest.week_of(now, tz))
        if now < digest.bounds(week, tz)[1] + digest_delay(config):
            return
        # Built by a child process (or a reader thread) from the week's tickets only; recorded and queued on
        # the writer a few scopes at a time.
        if config.digest.separate_process:
            items = await digest_job.prepare_async(config, week, now)
        else:
            items = await db.read(dispatcher.digest_prepare, week, lambda w, s: digest_link(config, w, s),
                                  lambda period: ranking_link(config, period))
        queued = 0
        for i in range(0, len(items), DIGEST_BATCH):
            queued += await db.run(dispatcher.digest_record_tx, week, items[i:i + DIGEST_BATCH])
        if queued:
            sender.wake()

    async def deadlines() -> None:
        """Select on a reader what is due for a check (an index range), visit it on the writer in small batches."""
        queued = 0
        while True:
            ids = await db.read(tickets.due_for_check, clock.now(), 5000)
            for i in range(0, len(ids), SWEEP_BATCH):
                queued += await db.run(dispatcher.sweep_tx, ids[i:i + SWEEP_BATCH])
            if len(ids) < 5000:
                break
        if queued:
            sender.wake()

    async def prune() -> None:
        removed = await _batched(db, inbound.prune, clock.now() - dedupe_days * 86400)
        if removed:
            log.info("forgot %d handled message id(s) older than %d days", removed, dedupe_days)
        await db.run(conversations.prune, clock.now() - 86400)
        days = config.storage.retention_days
        removed = await _batched(db, outbox.prune_sent, clock.now() - days * 86400)
        if removed:
            log.info("pruned %d sent message(s) older than %d days", removed, days)

    async def orphans() -> None:
        count = await receiver.recover(received_before=clock.now() - ORPHAN_SECONDS)
        if count:
            log.info("handled %d message(s) left unfinished by another worker", count)

    # coalesce: a run missed while the process slept happens once, not once per missed interval.
    scheduler.add_job(prune, "interval", hours=1, id="prune-inbound", coalesce=True, max_instances=1)
    scheduler.add_job(orphans, "interval", minutes=1, id="recover-orphans", coalesce=True, max_instances=1)
    start_now = datetime.now(timezone.utc)  # also once at start: catch up after downtime
    scheduler.add_job(deadlines, "interval", minutes=config.deadlines.sweep_minutes, id="deadlines", coalesce=True,
                      max_instances=1, next_run_time=start_now)
    day, _, hm = config.digest.send_at.partition(" ")
    hour, minute = (int(x) for x in hm.split(":"))
    scheduler.add_job(weekly_digest, CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=tz),
                      id="weekly-digest", coalesce=True, max_instances=1)
    scheduler.add_job(weekly_digest, "date", run_date=start_now, id="weekly-digest-catch-up")
    return scheduler


async def _batched(db: Database, prune_fn, before: float) -> int:
    """Delete in batches of PRUNE_BATCH rows, each its own short write, until nothing is left."""
    total = 0
    while True:
        removed = await db.run(prune_fn, before, PRUNE_BATCH)
        total += removed
        if removed < PRUNE_BATCH:
            return total


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def digest_delay(config: Config) -> float:
    """Seconds from the end of a week (Monday 00:00) to when its digest is due (e.g. Monday 09:00)."""
    day, _, hm = config.digest.send_at.partition(" ")
    hour, minute = (int(x) for x in hm.split(":"))
    return DAYS.index(day) * 86400 + hour * 3600 + minute * 60
