"""The webhook first: while the writer thread has messages in hand, every other request (pages, workbench, exports,
health) takes its turn between two of the writer's batches.

Why (bench/README.md, "Pages must never starve the webhook"): the event loop and the SQLite writer thread share
one interpreter lock. A few clients reloading a page back to back kept the loop busy with short steps that each
let go of the lock and took it straight back, so the writer waited ~1 s of wall time for ~90 ms of its own work
and the webhook's answers went from ~40 ms to ~1 s. A limit per client does not help: a refused request costs the
loop as much as a cached page (measured with 301s). Here a request that arrives while a batch runs waits for that
batch's commit; after each batch at most `server.pages_per_batch` waiting requests go on, all of them once the
writer is idle. Nobody is refused, a page waits at most one batch or so, and the writer's share of the lock no
longer depends on how many pages are asked for. The webhook's own requests never wait here.
"""
from __future__ import annotations

import asyncio
from collections import deque

from aiohttp import web

# A request never waits longer than this for its turn: a batch held up by another process's write lock (a backup)
# waits with the interpreter lock released, and pages need not wait for it.
MAX_WAIT_SECONDS = 1.0
# The webhook's own path: never held back.
WEBHOOK_PATH = "/wechat"


class Turns:
    """Requests waiting for the writer's next commit; released a few per batch on the event loop."""

    def __init__(self, db, per_batch: int):
        self.db = db
        self.per_batch = per_batch
        self.loop = asyncio.get_running_loop()
        self.waiting: deque[asyncio.Future] = deque()
        db.batch_done = self._batch_done

    def close(self) -> None:
        self.db.batch_done = None
        self._release(everyone=True)

    def _batch_done(self) -> None:
        """On the writer thread, after each batch (and once when it stops)."""
        if self.waiting:
            try:
                self.loop.call_soon_threadsafe(self._release)
            except RuntimeError:  # the loop has closed: nobody is waiting any more
                pass

    def _release(self, everyone: bool = False) -> None:
        n = len(self.waiting) if everyone or not self.db.busy else self.per_batch
        while self.waiting and n > 0:
            fut = self.waiting.popleft()
            if not fut.done():
                fut.set_result(None)
                n -= 1

    async def turn(self) -> None:
        """Return at once while the writer has nothing in hand; else wait for a batch's commit (MAX_WAIT_SECONDS at
        most)."""
        if not self.db.busy:
            return
        fut = self.loop.create_future()
        self.waiting.append(fut)
        # The writer may have emptied its queue between the check and the append, and looked for waiters before
        # this one came: look again.
        if not self.db.busy:
            self._release()
        try:
            await asyncio.wait_for(fut, MAX_WAIT_SECONDS)
        except asyncio.TimeoutError:
            pass


TURNS = web.AppKey("turns", Turns)


@web.middleware
async def webhook_first(request: web.Request, handler):
    turns = request.app.get(TURNS)
    if turns is not None and request.path != WEBHOOK_PATH:
        await turns.turn()
    return await handler(request)


def setup(app: web.Application, per_batch: int) -> None:
    """Every request but the webhook's takes its turn (per_batch 0: off). Call after the database's context."""
    if per_batch <= 0:
        return
    app.middlewares.append(webhook_first)

    async def turns(app: web.Application):
        from bot.app import DB
        app[TURNS] = t = Turns(app[DB], per_batch)
        yield
        t.close()
    app.cleanup_ctx.append(turns)
