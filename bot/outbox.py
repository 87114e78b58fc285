"""Delivers the outbox: one task per process, woken when something is queued, polling otherwise.

A message is marked sent only after the platform accepted it. Errors back off exponentially; a person outside
WeChat's 48-hour window is held ('waiting') until they next write, when the receiver releases it.
"""
from __future__ import annotations

import asyncio
import logging
import random

import aiohttp

from bot.channels.wechat.api import OUTSIDE_WINDOW, WechatApi, WechatApiError
from bot.channels.wechat.notify import Templates, template_for
from bot.config import OutboxConfig
from handlers.clock import Clock
from storage import outbox
from storage.db import Database

log = logging.getLogger(__name__)


class OutboxSender:
    def __init__(self, db: Database, api: WechatApi, config: OutboxConfig, clock: Clock | None = None,
                 templates: Templates | None = None):
        self.db = db
        self.templates = templates or Templates()
        self.api = api
        self.config = config
        self.clock = clock or Clock()
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.sent = 0

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-sender")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            try:
                while await self.send_due():
                    pass
            except Exception:  # noqa: BLE001 - keep delivering; the rows stay queued
                log.exception("outbox pass failed")
            try:
                await asyncio.wait_for(self._wake.wait(), self.config.poll_seconds)
            except asyncio.TimeoutError:
                pass
            self._wake.clear()

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
                        await self.db.run(outbox.mark_waiting, item["id"], str(exc))
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
        await self.db.run(outbox.mark_sent, item["id"], self.clock.now())
        self.sent += 1

    async def _retry(self, item: dict, error: str, permanent: bool = False) -> None:
        attempts = item["attempts"] + 1
        delay = min(self.config.backoff_max_seconds, self.config.backoff_base_seconds * 2 ** (attempts - 1))
        delay *= random.uniform(0.8, 1.2)  # jitter: workers that failed together do not retry together
        max_attempts = attempts if permanent else self.config.max_attempts
        status = await self.db.run(outbox.mark_retry, item["id"], error, self.clock.now() + delay, max_attempts)
        log.warning("outbox #%s to %s: %s (%s)", item["id"], item["openid"], error, status)
