"""A background task that works through what is due, then sleeps until woken or for `poll_seconds`: the outbox
sender and the media fetcher are both this, so how they start, stop and wait is written once."""
from __future__ import annotations

import asyncio
import logging

log = logging.getLogger(__name__)


class DueWorkLoop:
    """Subclasses set `name` and `poll_seconds` and implement `one_pass`; `wake()` when new work is stored."""

    name = "background work"
    poll_seconds: float = 5.0

    def __init__(self) -> None:
        self._wake = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def one_pass(self) -> int:
        """Do what is due now; return how many items were tried (0: nothing left for now)."""
        raise NotImplementedError

    def wake(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name=self.name)

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
                while await self.one_pass():
                    pass
            except Exception:  # noqa: BLE001 - keep going; the rows stay due and are claimed again
                log.exception("%s: pass failed", self.name)
            try:
                # asyncio.timeout, not wait_for: on Python 3.11 wait_for can swallow a cancellation that arrives
                # as the wake-up does, and then stop() waited for ever (seen as a hung test).
                async with asyncio.timeout(self.poll_seconds):
                    await self._wake.wait()
            except TimeoutError:
                pass
            self._wake.clear()
