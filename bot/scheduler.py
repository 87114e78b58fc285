"""Periodic jobs. Each is an idempotent sweep over the database, so a missed or repeated run is harmless and
nothing lives only in the scheduler's memory."""
from __future__ import annotations

import asyncio
from pathlib import Path
import logging
from datetime import datetime, timedelta, timezone

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.cron import CronTrigger

from bot import metrics
from bot import digest_job
from bot.config import Config
from bot.outbox import OutboxSender
from bot.public import ranking_link
from bot.web import digest_link
from handlers import digest
from bot.receiver import Receiver
from handlers.dispatcher import Dispatcher
from handlers.clock import Clock
from storage import conversations, digest_pages, inbound, outbox, search, tickets
from storage.db import Database

log = logging.getLogger(__name__)

# An inbound still unhandled after this long belongs to a worker that died (its webhook call is long over).
ORPHAN_SECONDS = 60
# Writes that follow a read-side decision go in batches this small, so no batch holds the write lock for long
# (a webhook message waits for at most one of them, and the messages grouped with it wait for it too).
JOB_WRITE_SECONDS = 0.003  # each job write does as much as fits in this (at least one ticket, person or scope)
SWEEP_SECONDS = JOB_WRITE_SECONDS  # the sweep's transactions: as many tickets as fit (at least one), the rest next
# Between two of a job's writes, messages the writer has in hand go first: the job waits for the writer to be
# idle, at most this long (a writer never idle, a saturated webhook, still lets the job go on).
JOB_YIELD_SECONDS = 0.05
DRAFTS_BATCH = 20  # unfinished messages reminded (a draft's question written) or kept per write
PRUNE_BATCH = 500
MEDIA_BATCH = 200  # media rows per write when pruning (each looked up in tickets and drafts, files unlinked)
SEARCH_BATCH = 50  # tickets per backfill write: a few ms of the write lock
TERMS_BATCH = 100  # tickets cut into hot-topic terms per read, stored in one short write
TERMS_FORGET_BATCH = 2000  # stored terms of another cut dropped per short write
TERMS_DAYS = 400   # how far back the terms are filled after an upgrade: the dashboard's trend and more
UPGRADE_FILL_AFTER_SECONDS = 10  # m062's fills begin this long after start
RESOLVE_SINCE_BATCH = 200  # tickets of m062's fill read a time (their events) and written in one short write
# The weekly digest is also looked at this often on its day: a run cut short (its job process killed, the service
# stopped half-way) is finished within minutes, each scope still sent once. When all are sent it is one read.
DIGEST_RETRY_MINUTES = 10
DIGEST_RETRY_HOURS = 24


# The fills after start-up that read the events in rowid ranges, in the order they run: (migration, is a range
# left?, read the next range's rows on a reader, store them on the writer, store also takes the time?, log line).
RANGE_FILLS = (
    # m062: the older ratings of 代收 answers named
    ("m062", tickets.recredit_range, tickets.recredit_next, tickets.recredit_store, True,
     "older ratings of 代收 answers named after the upgrade"),
    # m067: the 办结 cleared by a 不满意 given before it (after m062's: it names their units); until reached, such a
    # ticket reads as before m067
    ("m067", tickets.kept_resolved_range, tickets.kept_resolved_next, tickets.kept_resolved_store, False,
     "办结 cleared by a 不满意 before the upgrade kept in their months"),
    # m070: the 签收 cases of departures before m066; until reached, a ticket reads as before m066
    ("m070", tickets.cases_fill_range, tickets.cases_fill_next, tickets.cases_fill_store, False,
     "签收 cases of departures before the upgrade kept with their units (rows)"),
    # m071: the 不满意 given before it, for the trend's 满意率 from the counters; until done, the trend reads every
    # rating event
    ("m071", tickets.redone_range, tickets.rating_redos_next, tickets.rating_redos_store, False,
     "不满意 given before the upgrade listed for the trend"),
    # m072: the departures before m070, by time, for verify-rates (its back-filled 签收 cases); until done, a
    # deleted one of a departure not reached is not seen
    ("m072", tickets.case_departures_range, tickets.case_departures_next, tickets.case_departures_store, False,
     "departures before m070 listed for verify-rates"),
    # m075: those m072 listed before it, counted by day (after m072's: its rows after m075 count themselves)
    ("m075", tickets.departure_days_range, tickets.departure_days_next, tickets.departure_days_store, False,
     "departures listed before the upgrade counted by day for verify-rates"),
)


class Jobs:
    """The periodic sweeps, callable on their own too: after the demo moves time forward, run_all() catches up at
    once what the schedule would do over the skipped hours."""

    def __init__(self, db: Database, receiver: Receiver, clock: Clock, config: Config, dispatcher: Dispatcher,
                 sender: OutboxSender, job_process: digest_job.JobProcess | None = None):
        self.db, self.receiver, self.clock, self.config = db, receiver, clock, config
        self.dispatcher, self.sender = dispatcher, sender
        self.job_process = job_process or digest_job.JobProcess()
        self.tz = dispatcher.calendar.tz
        self._digest_lock = asyncio.Lock()  # the cron run, the catch-up and the retry never prepare side by side

    async def weekly_digest(self) -> int:
        """Last ISO week's digests, once they are due; idempotent, so it also runs at start to catch up, and
        on its day every DIGEST_RETRY_MINUTES (weekly_digest_retry) to finish a run that failed half-way."""
        async with self._digest_lock:
            return await self._weekly_digest()

    async def weekly_digest_retry(self) -> int:
        """The weekly job again, on its day only (within DIGEST_RETRY_HOURS of its time): a run that failed is
        finished within minutes; a supervisor bound later in the week does not get last week's digest from it."""
        now = self.clock.now()
        week = digest.previous_week(digest.week_of(now, self.tz))
        if now > digest.bounds(week, self.tz)[1] + digest_delay(self.config) + DIGEST_RETRY_HOURS * 3600:
            return 0
        return await self.weekly_digest()

    async def _weekly_digest(self) -> int:
        now = self.clock.now()
        week = digest.previous_week(digest.week_of(now, self.tz))
        if now < digest.bounds(week, self.tz)[1] + digest_delay(self.config):
            return 0
        if not await self.db.read(self.dispatcher.digest_jobs, week):
            return 0  # all sent already (every start-up asks): no child process for nothing
        with metrics.timed(metrics.DIGEST_SECONDS):
            # Built by a child process (or a reader thread) from the week's tickets only; recorded and queued on
            # the writer a few scopes at a time.
            if self.config.digest.separate_process:
                items = await digest_job.prepare_async(self.job_process, self.config, week, now)
            else:
                items = await self.db.read(self.dispatcher.digest_prepare, week,
                                           lambda w, s, to=None: digest_link(self.config, w, s, now, to),
                                           lambda period, to: ranking_link(self.config, period, now, to),
                                           lambda d: digest_pages.pack(digest.to_data(d)))
            sent = done = 0
            while done < len(items):  # as many scopes a write as fit in JOB_WRITE_SECONDS, each scope whole
                await self._yield()
                queued, recorded = await self.db.run(self.dispatcher.digest_record_some_tx, week, items[done:],
                                                     JOB_WRITE_SECONDS)
                sent, done = sent + queued, done + recorded
        if sent:
            self.sender.wake()
        return sent

    async def deadlines(self) -> int:
        """Select on a reader what is due for a check (an index range); visit it on the writer in small batches."""
        count = 0
        with metrics.timed(metrics.SWEEP_SECONDS):
            while True:
                ids = await self.db.read(tickets.due_for_check, self.clock.now(), 5000)
                left = ids
                while left:
                    await self._yield()
                    queued, left = await self.db.run(self.dispatcher.sweep_some_tx, left, SWEEP_SECONDS)
                    count += queued
                if len(ids) < 5000:
                    break
            # each person's reminders of this sweep: one push, a few people per short write
            while (await self.db.run(self.dispatcher.gather_some_tx, SWEEP_SECONDS))[1]:
                await self._yield()
            # unfinished messages: remind, keep; chosen on a reader (a scan of the day's conversations), done a
            # few people a write
            remind, expire = await self.db.read(conversations.drafts_due, self.clock.now())
            while remind or expire:
                await self._yield()
                count += await self.db.run(self.dispatcher.drafts_tx, remind[:DRAFTS_BATCH], expire[:DRAFTS_BATCH])
                remind, expire = remind[DRAFTS_BATCH:], expire[DRAFTS_BATCH:]
        if count:
            self.sender.wake()
        return count

    async def _yield(self) -> None:
        """Before a job's next write: the messages the writer has in hand first (Database.idle)."""
        await self.db.idle(JOB_YIELD_SECONDS)

    async def prune(self) -> None:
        dedupe_days = self.config.wechat.dedupe_days
        removed = await self._batched(inbound.prune, self.clock.now() - dedupe_days * 86400)
        if removed:
            log.info("forgot %d handled message id(s) older than %d days", removed, dedupe_days)
        await self.db.run(conversations.prune, self.clock.now() - 86400)
        # A stored digest page can be opened only through a link, and links expire link_days after they are made.
        await self._batched(digest_pages.prune, self.clock.now() - (self.config.digest.link_days + 1) * 86400)
        days = self.config.storage.retention_days
        removed = await self._batched(outbox.prune_sent, self.clock.now() - days * 86400)
        if removed:
            log.info("pruned %d sent message(s) older than %d days", removed, days)
        await self.prune_media(self.clock.now() - days * 86400)

    async def prune_media(self, before: float) -> int:
        """Media that never became part of a ticket, received before `before`: rows and files, a small batch per
        write (a ticket's media are marked kept on the way and never looked at again)."""
        from bot.media import MediaStore, prune
        store = MediaStore(self.config.media.folder(self.config.storage.path))
        total = 0
        while True:
            dealt = await self.db.run(prune, store, before, MEDIA_BATCH)
            total += dealt
            if dealt < MEDIA_BATCH:
                break
        if total:
            log.info("media: %d copy(ies) older than the retention period looked at (those of no ticket deleted)",
                     total)
        return total

    async def _batched(self, prune_fn, before: float) -> int:
        """Delete in batches of PRUNE_BATCH rows, each its own short write, until nothing is left."""
        total = 0
        while True:
            removed = await self.db.run(prune_fn, before, PRUNE_BATCH)
            total += removed
            if removed < PRUNE_BATCH:
                return total

    async def prune_requests(self) -> None:
        # Signed requests are remembered while their timestamp is accepted (either side of our clock).
        wechat = self.config.wechat
        window = (2 * wechat.timestamp_tolerance_seconds + 60 if wechat.check_timestamp
                  else wechat.dedupe_days * 86400)
        await self.db.run(inbound.prune_requests, self.clock.now() - window)

    async def search_backfill(self) -> int:
        """Index the tickets older than the search index, newest first: segmented in the job process (jieba over
        a year of tickets after an upgrade: minutes of CPU that would share the webhook's GIL on a reader thread;
        on a reader when digest.separate_process is off), stored in short writes, until none is left (then the
        cursor row is gone, and this is one cheap read that starts no process)."""
        total = 0
        while True:
            pending = await self.db.read(search.backfill_pending)
            if pending is None:
                break
            if pending == 0:  # a cursor with no ticket below it (a new database): removed, no process started
                rows, below = [], 0
            elif self.config.digest.separate_process:
                rows, below = await self.job_process.call(digest_job.search_documents, self.config, SEARCH_BATCH)
            else:
                rows, below = await self.db.read(search.backfill_documents, SEARCH_BATCH)
            if below is None:
                break
            total += await self.db.run(search.backfill_store, rows, below)
            if not rows:
                log.info("search index complete: %d earlier ticket(s) indexed", total)
                break
        return total

    async def topic_terms(self) -> int:
        """Cut the new tickets (and, after an upgrade, the last TERMS_DAYS of older ones) into their hot-topic
        terms, store them in short writes: the dashboard then counts terms instead of cutting a month of texts
        each time it is drawn. The few tickets of a minute are cut on a reader thread; a backlog (a full batch:
        the way back after an upgrade, ~100,000 tickets at 1M) in the job process, so minutes of jieba never
        share the webhook's GIL."""
        from handlers import topics
        tokenizer = self.dispatcher.router.tokenizer
        version = topics.cut_version(tokenizer)
        while await self.db.read(tickets.terms_cut) != version:  # the rules or the dictionary changed: cut anew
            await self.db.run(tickets.forget_terms, version, TERMS_FORGET_BATCH)
        total = 0
        while True:
            rows = await self.db.read(tickets.terms_todo, self.clock.now() - TERMS_DAYS * 86400, TERMS_BATCH)
            if not rows:
                return total
            texts_ = [t for _, t in rows if t is not None]
            cut = None
            if not texts_:
                cut = []
            elif len(rows) >= TERMS_BATCH and self.config.digest.separate_process:
                child, cut = await self.job_process.call(digest_job.cut_terms, self.config, texts_)
                if child != version:  # the child's router has another directory: only this service's cut is stored
                    cut = None
            if cut is None:
                cut = await self.db.read(lambda _db: topics.terms_of(texts_, tokenizer))
            it = iter(cut)
            total += await self.db.run(tickets.store_terms,
                                       [(i, next(it) if t is not None else []) for i, t in rows])

    async def upgrade_fill(self) -> int:
        """m062: what m060 left for after start-up, in short writes, messages in hand first, until nothing is left
        (then cheap reads). The `resolve_since` of the tickets the upgrade listed, read from their events on a reader,
        newest first; then the fills that read the events by rowid ranges on a reader, one short write a range, in
        RANGE_FILLS' order. Stopped half-way, the database says what is left; the rates read that from the events
        meanwhile (each fill says what a reader sees until it reaches a ticket)."""
        total = 0
        while await self.db.read(tickets.resolve_since_pending):
            done = await self.db.read(tickets.resolve_since_next, RESOLVE_SINCE_BATCH)
            await self._yield()
            total += await self.db.run(tickets.resolve_since_store, done)
        if total:
            log.info("resolve_since filled for %d ticket(s) after the upgrade", total)
        for name, pending, take, store, stamped, done in RANGE_FILLS:
            found = None
            while await self.db.read(pending) is not None:
                upto, rows = await self.db.read(take)
                await self._yield()
                found = (found or 0) + await self.db.run(store, upto, rows, *((self.clock.now(),) if stamped else ()))
            if found is not None:
                log.info("%s (%s): %d", done, name, found)
        return total

    async def scheduled_backup(self) -> None:
        from storage import backup
        b = self.config.backup
        made = await asyncio.get_running_loop().run_in_executor(
            None, backup.scheduled, self.config.storage.path, b.dir, b.every_hours * 3600, b.keep)
        if made:
            from bot.media import mirror  # attachments: one shared folder of files that never change
            files = await asyncio.get_running_loop().run_in_executor(
                None, mirror, self.config.media.folder(self.config.storage.path), Path(b.dir) / "media")
            log.info("backup written to %s (%d new attachment file(s))", made, files)

    async def orphans(self) -> int:
        self.receiver.start_drain()  # spools left by workers that died
        count = await self.receiver.recover(received_before=self.clock.now() - ORPHAN_SECONDS)
        if count:
            log.info("handled %d message(s) left unfinished by another worker", count)
        return count + await self.receiver.retry_failed()

    async def run_all(self) -> dict[str, int]:
        """Every sweep once, now (the demo's time jump)."""
        return {"deadlines": await self.deadlines(), "digests": await self.weekly_digest(),
                "retried": await self.orphans()}


def build_scheduler(jobs: Jobs) -> AsyncIOScheduler:
    scheduler = AsyncIOScheduler(timezone="UTC")
    config = jobs.config
    # coalesce: a run missed while the process slept happens once, not once per missed interval.
    scheduler.add_job(jobs.prune, "interval", hours=1, id="prune-inbound", coalesce=True, max_instances=1)
    scheduler.add_job(jobs.prune_requests, "interval", minutes=5, id="prune-requests", coalesce=True,
                      max_instances=1)
    scheduler.add_job(jobs.orphans, "interval", minutes=1, id="recover-orphans", coalesce=True, max_instances=1)
    scheduler.add_job(jobs.sender.check, "interval", minutes=1, id="outbox-alert", coalesce=True,
                      max_instances=1)
    start_now = datetime.now(timezone.utc)  # also once at start: catch up after downtime
    scheduler.add_job(jobs.search_backfill, "interval", minutes=10, id="search-backfill", coalesce=True,
                      max_instances=1, next_run_time=start_now)
    # after start-up (the router built, the public figures warmed): its reads would share the interpreter with them
    scheduler.add_job(jobs.upgrade_fill, "interval", minutes=10, id="upgrade-fill", coalesce=True,
                      max_instances=1, next_run_time=start_now + timedelta(seconds=UPGRADE_FILL_AFTER_SECONDS))
    scheduler.add_job(jobs.topic_terms, "interval", minutes=1, id="topic-terms", coalesce=True, max_instances=1,
                      next_run_time=start_now)
    # A sped-up demo clock (tingjian demo --speed N) sweeps N times as often, at most every 5 real seconds.
    speed = getattr(jobs.clock, "speed", 1.0)
    sweep_seconds = max(5.0, config.deadlines.sweep_minutes * 60 / speed)
    scheduler.add_job(jobs.deadlines, "interval", seconds=sweep_seconds, id="deadlines",
                      coalesce=True, max_instances=1, next_run_time=start_now)
    if speed > 1:  # the cron below follows real time; the demo's Monday comes sooner
        scheduler.add_job(jobs.weekly_digest, "interval", seconds=sweep_seconds, id="weekly-digest-demo",
                          coalesce=True, max_instances=1)
    if config.backup.dir:  # checks often; backs up when the newest backup is older than every_hours
        scheduler.add_job(jobs.scheduled_backup, "interval", minutes=min(15.0, config.backup.every_hours * 60),
                          id="backup", coalesce=True, max_instances=1, next_run_time=start_now)
    day, _, hm = config.digest.send_at.partition(" ")
    hour, minute = (int(x) for x in hm.split(":"))
    scheduler.add_job(jobs.weekly_digest, CronTrigger(day_of_week=day, hour=hour, minute=minute, timezone=jobs.tz),
                      id="weekly-digest", coalesce=True, max_instances=1)
    scheduler.add_job(jobs.weekly_digest, "date", run_date=start_now, id="weekly-digest-catch-up")
    scheduler.add_job(jobs.weekly_digest_retry, "interval", minutes=DIGEST_RETRY_MINUTES, id="weekly-digest-retry",
                      coalesce=True, max_instances=1)
    return scheduler


DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def digest_delay(config: Config) -> float:
    """Seconds from the end of a week (Monday 00:00) to when its digest is due (e.g. Monday 09:00)."""
    day, _, hm = config.digest.send_at.partition(" ")
    hour, minute = (int(x) for x in hm.split(":"))
    return DAYS.index(day) * 86400 + hour * 3600 + minute * 60
