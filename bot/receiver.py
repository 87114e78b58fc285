"""Between a channel and the core: store each inbound once, handle it once, answer within the platform's time.

A WeChat message may arrive up to three times (retries after 5 s without an answer). The first try stores it
and starts the handling; a retry in this process waits for that same handling; a retry after it gets the stored
reply. If handling takes longer than `reply_timeout`, the webhook answers 'success' and the replies go through the
outbox instead (the customer-service API), so a slow answer is late, never lost or doubled.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Awaitable, Callable

from handlers import texts
from handlers.clock import Clock
from handlers.messages import Inbound, Reply
from storage import inbound as inbound_store
from storage.db import Database

log = logging.getLogger(__name__)

# A passive reply must stay under 2048 bytes of UTF-8; longer texts are split, the rest pushed.
PASSIVE_LIMIT_BYTES = 2000


def split_text(text: str, limit: int = PASSIVE_LIMIT_BYTES) -> list[str]:
    """Split at line ends (or, for one very long line, at character boundaries) into parts under `limit` bytes."""
    parts: list[str] = []
    current = ""
    for line in text.splitlines(keepends=True):
        while len(line.encode()) > limit:
            cut = limit // 4  # every character is at most 4 bytes
            while len(line[: cut + 1].encode()) <= limit and cut < len(line):
                cut += 1
            head, line = line[:cut], line[cut:]
            if current:
                parts.append(current)
                current = ""
            parts.append(head)
        if len((current + line).encode()) > limit:
            parts.append(current)
            current = line
        else:
            current += line
    if current or not parts:
        parts.append(current)
    return [p.rstrip("\n") for p in parts]


class Receiver:
    def __init__(self, db: Database, handle: Callable[[Inbound], Awaitable[list[Reply]]], clock: Clock,
                 reply_timeout: float = 4.5, on_outbox: Callable[[], None] | None = None):
        self.db = db
        self.handle = handle
        self.clock = clock
        self.reply_timeout = reply_timeout
        self.on_outbox = on_outbox or (lambda: None)
        self._inflight: dict[str, asyncio.Task] = {}

    async def receive(self, inbound: Inbound) -> Reply | None:
        """Returns the passive reply, or None to answer 'success' (nothing now; anything else comes pushed)."""
        key = inbound.dedupe_key
        task = self._inflight.get(key)
        if task is None:
            claim = await self.db.run(inbound_store.claim, key, inbound.openid, inbound.kind,
                                      inbound.to_json(), self.clock.now())
            task = self._inflight.get(key)  # another try may have claimed while we waited for the writer
            if task is None:
                if not claim.new:
                    return await self._answer_known(key, claim)
                if self.reply_timeout <= 0:  # configured to push every reply
                    await self.db.run(inbound_store.defer, key)
                task = asyncio.create_task(self._process(key, inbound))
                self._inflight[key] = task
                task.add_done_callback(lambda _t: self._inflight.pop(key, None))
        if self.reply_timeout <= 0:
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(task), self.reply_timeout)
        except asyncio.TimeoutError:
            claim = await self.db.run(inbound_store.defer, key)
            if claim.status == "done" and not claim.deferred:
                return _reply(claim.reply)
            log.info("slow handling of %s: answered 'success', replies will be pushed", key)
            return None

    async def _answer_known(self, key: str, claim: inbound_store.Claim) -> Reply | None:
        """A retry of something this process is not handling: answered before, or in another worker's hands."""
        deadline = time.monotonic() + self.reply_timeout  # real waiting time, whatever the domain clock says
        while claim.status != "done" and not claim.deferred:
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.05)
            claim = await self.db.run(inbound_store.read, key)
        return None if claim.deferred else _reply(claim.reply)

    async def _process(self, key: str, inbound: Inbound, passive_ok: bool = True) -> Reply | None:
        try:
            replies = await self.handle(inbound)
        except Exception:  # noqa: BLE001 - one bad message must not take the service down
            log.exception("handling %s failed", key)
            replies = [Reply(texts.INTERNAL_ERROR)]
        parts = [
            {"text": part, "to": r.to, "extra": r.extra}
            for r in replies for part in split_text(r.text)
        ]
        passive = await self.db.run(inbound_store.complete, key, inbound.openid, parts, self.clock.now(),
                                    passive_ok)
        if len(parts) > (1 if passive else 0):
            self.on_outbox()
        return _reply(passive)

    async def recover(self, received_before: float) -> int:
        """Handle inbounds accepted before `received_before` but never handled (their process was killed).
        Their webhook call is long over, so every reply is pushed. Each is leased, so two workers recovering at
        once do not both handle it."""
        count = 0
        while True:
            rows = await self.db.run(inbound_store.lease_unfinished, received_before, self.clock.now())
            if not rows:
                return count
            for key, payload in rows:
                await self._process(key, Inbound.from_json(payload), passive_ok=False)
                count += 1


def _reply(data: dict | None) -> Reply | None:
    return Reply.from_dict(data) if data else None
