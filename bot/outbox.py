"""Delivers the outbox: one task per process, woken when something is queued, polling otherwise.

A message is marked sent only after the platform accepted it. Transient errors (the platform down, timeouts,
token trouble) back off exponentially up to outbox.backoff_max_seconds and are retried for ever: an outage of
hours delays messages, it never drops them. Permanent errors (the person unfollowed, a bad openid or template)
end the row as 'failed' with the reason. A person outside WeChat's 48-hour window gets the template fallback or
is held ('waiting') until they next write, when the receiver releases it. When delivery is stuck (the oldest row
older than outbox.stuck_minutes) or rows failed recently, check() says so: in the log and in /healthz.
"""
from __future__ import annotations

import asyncio
import logging
import random
import sqlite3

import aiohttp

from bot.background import DueWorkLoop
from bot.channels.wechat.api import OUTSIDE_WINDOW, WechatApi, WechatApiError
from bot.channels.wechat.notify import Templates, template_for
from bot.config import OutboxConfig
from handlers.clock import Clock
from storage import outbox, users
from storage.db import Database

log = logging.getLogger(__name__)

RECORD_RETRY_SECONDS = 1.0


class OutboxSender(DueWorkLoop):
    name = "outbox-sender"

    def __init__(self, db: Database, api: WechatApi, config: OutboxConfig, clock: Clock | None = None,
                 templates: Templates | None = None):
        self.db = db
        self.templates = templates or Templates()
        self.api = api
        self.config = config
        self.clock = clock or Clock()
        super().__init__()
        self.sent = 0
        self._alerted_at: float | None = None

    async def check(self) -> list[str]:
        """Problems an operator must see (empty when delivery is healthy), logged at most every 15 minutes."""
        now = self.clock.now()
        state = await self.db.run(outbox.health, now, now - self.config.failed_alert_hours * 3600)
        alerts = problems(state, self.config)
        if alerts and (self._alerted_at is None or now - self._alerted_at >= 900):
            log.error("ALERT outbox: %s", "; ".join(alerts))
            self._alerted_at = now
        elif not alerts and self._alerted_at is not None:
            log.warning("outbox delivery is healthy again")
            self._alerted_at = None
        return alerts

    @property
    def poll_seconds(self) -> float:
        return self.config.poll_seconds

    async def one_pass(self) -> int:
        return await self.send_due()

    async def send_due(self, limit: int = 20) -> int:
        """Send what is due now; returns how many rows were tried."""
        items = await self.db.run(outbox.claim_due, self.clock.now(), limit)
        for item in items:
            await self._send(item)
        return len(items)

    async def _send(self, item: dict) -> None:
        payload = item["payload"]
        template = payload if item["kind"] == "template" else None
        try:
            if template is None:
                try:
                    await self.api.send_text(item["openid"], payload["content"])
                except WechatApiError as exc:
                    if exc.errcode != OUTSIDE_WINDOW:
                        raise
                    # Outside the 48-hour window: a template message still reaches the person, if we have one;
                    # otherwise the text waits for their next message.
                    template = payload.get("template") or template_for(payload.get("notice"), self.templates)
                    if template is None:
                        await self._record(outbox.mark_waiting, item["id"], str(exc))
                        return
            if template is not None:
                await self.api.send_template(item["openid"], template["template_id"], template["data"],
                                             template.get("url"))
        except WechatApiError as exc:
            await self._retry(item, str(exc), permanent=exc.permanent)
            return
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError, ValueError) as exc:
            await self._retry(item, f"{type(exc).__name__}: {exc}")
            return
        # Delivered: this must be recorded, or the row is claimed and sent again once its claim runs out.
        await self._record(outbox.mark_sent, item["id"], self.clock.now())
        self.sent += 1

    async def _record(self, fn, *args) -> None:
        """Record an attempt's outcome, waiting as long as another process holds the write lock (a backup, a
        long command): a lost 'sent' would send the message twice."""
        while True:
            try:
                await self.db.run(fn, *args)
                return
            except sqlite3.OperationalError as exc:
                log.warning("outbox: recording #%s waits for the database (%s)", args[0], exc)
                await asyncio.sleep(RECORD_RETRY_SECONDS)

    async def _retry(self, item: dict, error: str, permanent: bool = False) -> None:
        if permanent:
            await self._record(outbox.mark_failed, item["id"], error, self.clock.now())
            log.warning("outbox #%s to user %s failed for good: %s", item["id"], users.log_name(item["openid"]),
                        error)
            return
        attempts = item["attempts"] + 1
        delay = min(self.config.backoff_max_seconds,
                    self.config.backoff_base_seconds * 2 ** min(attempts - 1, 30))  # the exponent stays finite
        delay *= random.uniform(0.8, 1.2)  # jitter: workers that failed together do not retry together
        await self._record(outbox.mark_retry, item["id"], error, self.clock.now() + delay)
        log.warning("outbox #%s to user %s: %s (attempt %d, next in %.0f s)", item["id"],
                    users.log_name(item["openid"]), error, attempts, delay)


def problems(state: dict, config: OutboxConfig) -> list[str]:
    """outbox.health() -> the alerts it calls for, worded for the log and /healthz."""
    alerts = []
    age = state["oldest_pending_seconds"]
    if age is not None and age > config.stuck_minutes * 60:
        alerts.append(f"delivery stuck: the oldest undelivered message is {age / 60:.0f} min old "
                      f"(threshold {config.stuck_minutes} min); is the WeChat API reachable?")
    if state["failed_recently"]:
        alerts.append(f"{state['failed_recently']} message(s) failed for good in the last "
                      f"{config.failed_alert_hours} h: tingjian outbox list --state failed")
    return alerts
