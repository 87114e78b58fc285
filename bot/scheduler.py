"""Periodic jobs. Each is an idempotent sweep over the database, so a missed or repeated run is harmless and
nothing lives only in the scheduler's memory."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.outbox import OutboxSender
from bot.receiver import Receiver
from handlers.dispatcher import Dispatcher
from handlers.clock import Clock
from storage import inbound
from storage.db import Database

log = logging.getLogger(__name__)

# An inbound still unhandled after this long belongs to a worker that died (its webhook call is long over).
ORPHAN_SECONDS = 60


def build_scheduler(db: Database, receiver: Receiver, clock: Clock, dedupe_days: int, dispatcher: Dispatcher,
                    sender: OutboxSender, sweep_minutes: int = 5) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")

    async def deadlines() -> None:
        if await db.run(dispatcher.sweep_tx):
            sender.wake()

    async def prune() -> None:
        removed = await db.run(inbound.prune, clock.now() - dedupe_days * 86400)
        if removed:
            log.info("forgot %d handled message id(s) older than %d days", removed, dedupe_days)

    async def orphans() -> None:
        count = await receiver.recover(received_before=clock.now() - ORPHAN_SECONDS)
        if count:
            log.info("handled %d message(s) left unfinished by another worker", count)

    # coalesce: a run missed while the process slept happens once, not once per missed interval.
    scheduler.add_job(prune, "interval", hours=1, id="prune-inbound", coalesce=True, max_instances=1)
    scheduler.add_job(orphans, "interval", minutes=1, id="recover-orphans", coalesce=True, max_instances=1)
    scheduler.add_job(deadlines, "interval", minutes=sweep_minutes, id="deadlines", coalesce=True, max_instances=1,
                      next_run_time=datetime.now(timezone.utc))  # also once at start: catch up after downtime
    return scheduler
