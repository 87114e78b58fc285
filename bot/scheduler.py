"""Periodic jobs. Each is an idempotent sweep over the database, so a missed or repeated run is harmless and
nothing lives only in the scheduler's memory."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot.config import Config
from bot.outbox import OutboxSender
from bot.web import digest_link
from handlers import digest
from bot.receiver import Receiver
from handlers.dispatcher import Dispatcher
from handlers.clock import Clock
from storage import conversations, inbound
from storage.db import Database

log = logging.getLogger(__name__)

# An inbound still unhandled after this long belongs to a worker that died (its webhook call is long over).
ORPHAN_SECONDS = 60


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
        if await db.run(dispatcher.digest_tx, week, lambda w, s: digest_link(config, w, s)):
            sender.wake()

    async def deadlines() -> None:
        if await db.run(dispatcher.sweep_tx):
            sender.wake()

    async def prune() -> None:
        removed = await db.run(inbound.prune, clock.now() - dedupe_days * 86400)
        if removed:
            log.info("forgot %d handled message id(s) older than %d days", removed, dedupe_days)
        await db.run(conversations.prune, clock.now() - 86400)

    async def orphans() -> None:
        receiver.start_drain()  # spools left by workers that died
        count = await receiver.recover(received_before=clock.now() - ORPHAN_SECONDS)
        if count:
            log.info("handled %d message(s) left unfinished by another worker", count)
        await receiver.retry_failed()

    # coalesce: a run missed while the process slept happens once, not once per missed interval.
    scheduler.add_job(prune, "interval", hours=1, id="prune-inbound", coalesce=True, max_instances=1)
    scheduler.add_job(orphans, "interval", minutes=1, id="recover-orphans", coalesce=True, max_instances=1)
    scheduler.add_job(sender.check, "interval", minutes=1, id="outbox-alert", coalesce=True, max_instances=1)
    start_now = datetime.now(timezone.utc)  # also once at start: catch up after downtime
    scheduler.add_job(deadlines, "interval", minutes=config.deadlines.sweep_minutes, id="deadlines", coalesce=True,
                      max_instances=1, next_run_time=start_now)
    day, _, hm = config.digest.send_at.partition(" ")
    hour, minute = (int(x) for x in hm.split(":"))
    scheduler.add_job(weekly_digest, CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=tz),
                      id="weekly-digest", coalesce=True, max_instances=1)
    scheduler.add_job(weekly_digest, "date", run_date=start_now, id="weekly-digest-catch-up")
    return scheduler


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def digest_delay(config: Config) -> float:
    """Seconds from the end of a week (Monday 00:00) to when its digest is due (e.g. Monday 09:00)."""
    day, _, hm = config.digest.send_at.partition(" ")
    hour, minute = (int(x) for x in hm.split(":"))
    return DAYS.index(day) * 86400 + hour * 3600 + minute * 60
