"""Between a channel and the core: store each inbound once, handle it once, answer within the platform's time.

A WeChat message may arrive up to three times (retries after 5 s without an answer). The first try stores it
and starts the handling; a retry in this process waits for that same handling; a retry after it gets the stored
reply. Handling is one transaction with the record that the inbound is done (see Dispatcher.handle_tx), so it
happens exactly once even across a crash: an inbound stored but not done is handled again on restart.

If handling takes longer than `reply_timeout`, the webhook answers 'success' and the replies go through the
outbox instead (the customer-service API), so a slow answer is late, never lost or doubled. That decision is
taken in memory, under a lock shared with the writer thread, so it never waits for a busy database.
"""
from __future__ import annotations

import asyncio
import logging
import threading
import time
from typing import Callable

from handlers import texts
from handlers.clock import Clock
from handlers.messages import Inbound, Reply
from storage import inbound as inbound_store
from storage.db import Database

log = logging.getLogger(__name__)

# A passive reply must stay under 2048 bytes of UTF-8; longer texts are split, the rest pushed.
PASSIVE_LIMIT_BYTES = 2000

HandleTx = Callable[[object, Inbound], list[Reply]]


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


class _Answer:
    """Whether the webhook call is still waiting for a passive reply. Shared by the event loop (which may give
    up waiting) and the writer thread (which completes the handling): whoever comes first decides."""

    def __init__(self, passive_ok: bool):
        self._lock = threading.Lock()
        self._open = passive_ok
        self._done = False

    def take_passive(self) -> bool:
        """Writer thread, at completion: may the first reply go back passively?"""
        with self._lock:
            self._done = True
            return self._open

    def give_up(self) -> bool:
        """Event loop, at the timeout: True if the reply will now be pushed; False if it was already stored."""
        with self._lock:
            if self._done:
                return False
            self._open = False
            return True


class Receiver:
    def __init__(self, db: Database, handle_tx: HandleTx, clock: Clock, reply_timeout: float = 4.5,
                 on_outbox: Callable[[], None] | None = None):
        self.db = db
        self.handle_tx = handle_tx
        self.clock = clock
        self.reply_timeout = reply_timeout
        self.on_outbox = on_outbox or (lambda: None)
        self._inflight: dict[str, tuple[asyncio.Task, _Answer]] = {}

    async def receive(self, inbound: Inbound, request: str | None = None) -> Reply | None:
        """Returns the passive reply, or None to answer 'success' (nothing now; anything else comes pushed).
        `request` names the signed request (timestamp:nonce); one seen before with another message raises
        inbound_store.Replay, and nothing is stored or done."""
        key = inbound.dedupe_key
        retry = key in self._inflight
        if not retry:
            answer = _Answer(passive_ok=self.reply_timeout > 0)
            task = asyncio.create_task(self._process(key, inbound, answer, claim=True, request=request))
            self._inflight[key] = (task, answer)
            task.add_done_callback(lambda t: self._finished(key, t))
        task, answer = self._inflight[key]
        if retry and request is not None:  # a retry of a message in hand: its request is remembered all the same
            await self.db.run(inbound_store.remember_request, request, key, self.clock.now())
        if self.reply_timeout <= 0:  # configured to push every reply
            return None
        try:
            return await asyncio.wait_for(asyncio.shield(task), self.reply_timeout)
        except asyncio.TimeoutError:
            if answer.give_up():
                log.info("slow handling of %s: answered 'success', replies will be pushed", key)
                return None
            return await asyncio.shield(task)  # finished just now: its reply is passive

    async def spend(self, request: str) -> None:
        """Remember a signed request whose body was refused, so the URL cannot carry another body later."""
        try:
            await self.db.run(inbound_store.remember_request, request, "refused", self.clock.now())
        except inbound_store.Replay:
            pass

    def _finished(self, key: str, task: asyncio.Task) -> None:
        self._inflight.pop(key, None)
        if not task.cancelled() and isinstance(task.exception(), inbound_store.Replay):
            log.warning("replayed request %s refused (carried another message than the first time)",
                        task.exception())

    async def _answer_known(self, key: str, claim: inbound_store.Claim) -> Reply | None:
        """A retry of something this process is not handling: answered before, or in another worker's hands."""
        deadline = time.monotonic() + self.reply_timeout  # real waiting time, whatever the domain clock says
        while claim.status != "done":
            if time.monotonic() >= deadline:
                return None
            await asyncio.sleep(0.05)
            claim = await self.db.run(inbound_store.read, key)
        return None if claim.deferred else _reply(claim.reply)

    async def _process(self, key: str, inbound: Inbound, answer: _Answer, claim: bool = False,
                       request: str | None = None) -> Reply | None:
        """One trip to the writer: check the request is no replay, store the inbound if new, handle it and record
        the outcome, in one commit. A message whose key is already stored was seen before (a retry after a
        restart, or another worker's)."""
        if claim:
            result = await self.db.run(self._claim_and_handle, key, inbound, answer, request)
        else:
            result = await self.db.run(self._handle_and_complete, key, inbound, answer)
        if isinstance(result, inbound_store.Claim):
            return await self._answer_known(key, result)
        passive, pushed = result
        if pushed:
            self.on_outbox()
        return _reply(passive)

    def _claim_and_handle(self, db, key: str, inbound: Inbound, answer: _Answer, request: str | None = None):
        if request is not None:
            inbound_store.remember_request(db, request, key, self.clock.now())
        claim = inbound_store.claim(db, key, inbound.openid, inbound.kind, inbound.to_json(), self.clock.now())
        if not claim.new:
            answer.take_passive()
            return claim
        return self._handle_and_complete(db, key, inbound, answer)

    def _handle_and_complete(self, db, key: str, inbound: Inbound, answer: _Answer):
        """Writer thread, one transaction: the handling and the record of it commit together. A bug in handling
        rolls back only the handling (its savepoint); the message stays stored, answered with an apology."""
        if inbound_store.read(db, key).status == "done":  # handled by another worker meanwhile
            answer.take_passive()
            return inbound_store.read(db, key).reply, 0
        try:
            with db.atomic():
                replies = self.handle_tx(db, inbound)
        except Exception:  # noqa: BLE001 - one bad message must not take the service down
            log.exception("handling %s failed", key)
            replies = [Reply(texts.INTERNAL_ERROR)]
        return self._complete(db, key, inbound, replies, answer)

    def _complete(self, db, key: str, inbound: Inbound, replies: list[Reply], answer: _Answer):
        parts = [{"text": part, "to": r.to, "extra": r.extra} for r in replies for part in split_text(r.text)]
        passive = inbound_store.complete(db, key, inbound.openid, parts, self.clock.now(), answer.take_passive())
        return passive, len(parts) - (1 if passive else 0)

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
                await self._process(key, Inbound.from_json(payload), _Answer(passive_ok=False))
                count += 1


def _reply(data: dict | None) -> Reply | None:
    return Reply.from_dict(data) if data else None
