"""Between a channel and the core: store each inbound once, handle it once, answer within the platform's time.

A WeChat message may arrive up to three times (retries after 5 s without an answer). The first try stores it
and starts the handling; a retry in this process waits for that same handling; a retry after it gets the stored
reply. Handling is one transaction with the record that the inbound is done (see Dispatcher.handle_tx), so it
happens exactly once even across a crash: an inbound stored but not done is handled again on restart.

If handling takes longer than `reply_timeout`, the webhook answers 'success' and the replies go through the
outbox instead (the customer-service API), so a slow answer is late, never lost or doubled. That decision is
taken in memory, under a lock shared with the writer thread, so it never waits for a busy database.

Nothing is answered before it is durable. A passive reply comes from a committed transaction; a 'success' given
before the commit (the write lock is held by another process, a backup, a long job, or the write failed) is
preceded by an fsync'd line in the spool (storage/spool.py), drained into the database as soon as it can be
written, and at start-up for the spools of killed processes.
"""
from __future__ import annotations

import asyncio
import functools
import heapq
import itertools
import logging
import math
import threading
import time
from collections import OrderedDict
from datetime import datetime, tzinfo
from typing import Callable

from handlers import texts
from handlers.clock import Clock
from handlers.desk import for_staff
from handlers.messages import Inbound, ReadFirst, Reply
from storage import inbound as inbound_store
from storage import media as media_store
from storage import outbox as outbox_store
from storage import staff as staff_store
from storage.db import Database, savepoint
from storage.spool import Spool

log = logging.getLogger(__name__)

# A passive reply must stay under 2048 bytes of UTF-8; longer texts are split, the rest pushed.
PASSIVE_LIMIT_BYTES = 2000

HandleTx = Callable[..., "list[Reply] | ReadFirst"]  # (db, inbound[, reads]): see Receiver's read_first
# A handling that asks to read first again after this many reads gets no more: it reads on the writer.
READS_AT_MOST = 3
TURN_WAIT_SECONDS = 30  # the longest a message waits behind its sender's earlier one (Receiver._turn)

# With reply_timeout 0 (push every reply) the answer still waits for the commit, at most this long, then spools.
STORE_WAIT_SECONDS = 4.5
# Between attempts to drain the spool while the database stays locked (each attempt itself waits for the lock).
DRAIN_RETRY_SECONDS = 1.0
# Signed requests this process has taken lately, kept in memory beside the database's record (webhook_requests): a
# captured URL re-sent while the database cannot be written is refused at once instead of spooled and handled.
RECENT_REQUESTS = 20_000


def split_text(text: str, limit: int = PASSIVE_LIMIT_BYTES) -> list[str]:
    """Split at line ends (or, for one very long line, at character boundaries) into parts under `limit` bytes."""
    if len(text) * 4 <= limit or len(text.encode()) <= limit:  # one part (nearly every reply): what the loop gives
        return [text.rstrip("\n")]
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

    def __init__(self, passive_ok: bool, deadline: float | None = None):
        self._lock = threading.Lock()
        self._open = passive_ok
        self._done = False
        self.spooled = False
        # For a caller in another process (an HTTP worker; bot/writer.py): past this time.monotonic() instant
        # (one clock for every process on the host) the caller no longer waits, so the reply is pushed.
        self.deadline = deadline

    def take_passive(self) -> bool:
        """Writer thread, at completion: may the first reply go back passively?"""
        with self._lock:
            self._done = True
            if self.deadline is not None and time.monotonic() >= self.deadline:
                self._open = False
            return self._open

    def give_up(self) -> bool:
        """Event loop, at the timeout: True if the reply will now be pushed; False if it was already stored."""
        with self._lock:
            if self._done:
                return False
            self._open = False
            return True


_FIRST: dict = {}  # Receiver._handle_and_complete's `reads` when nothing was read yet (a marker, never filled)


class _Behind:
    """What the first write returns for a message stored behind an earlier one of the same person still waiting
    on a read (ReadFirst): handled at its turn (Receiver._turn), never before the earlier one."""


BEHIND = _Behind()


def _outcome(done: Callable, fut: asyncio.Future) -> None:
    """Hand a finished future's result, or its exception, to `done` (Receiver.receive_soon)."""
    if fut.cancelled():
        done(asyncio.CancelledError())
    elif fut.exception() is not None:
        done(fut.exception())
    else:
        done(fut.result())


def _release(waiter: asyncio.Future, _task: asyncio.Task) -> None:
    if not waiter.done():
        waiter.set_result(None)


class _Deadlines:
    """Each webhook call waits for its message's handling, at most so long, without the task being cancelled when
    the call stops waiting. One loop timer serves every wait: `asyncio.timeout` + `asyncio.shield` made a timer
    (a libuv timer on uvloop), a Timeout object and an outer future per message, ~10 % of the event loop's time
    at c=50. The timer is armed for the earliest wait still open; when it fires, the waits already over (nearly
    all of them: a message is handled in milliseconds, the limit is seconds) are dropped on the way to it, so
    it fires about once per reply_timeout, not once per message."""

    def __init__(self):
        self._heap: list[tuple[float, int, asyncio.Future]] = []
        self._order = itertools.count()  # ties: first come, first timed out (and futures are not comparable)
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timer: asyncio.TimerHandle | None = None
        self._at = math.inf

    def wait(self, task: asyncio.Task, seconds: float) -> asyncio.Future:
        """A future done when `task` is (result None: read the task's own), or failing with TimeoutError after
        `seconds`. Cancelling it (the caller went away) leaves the task running, as asyncio.shield did."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:  # (a receiver reused on another loop: that loop's timer is gone with it)
            self._loop, self._heap, self._timer, self._at = loop, [], None, math.inf
        waiter = loop.create_future()
        if task.done():
            waiter.set_result(None)
            return waiter
        task.add_done_callback(functools.partial(_release, waiter))
        when = loop.time() + seconds
        heapq.heappush(self._heap, (when, next(self._order), waiter))
        if when < self._at:
            self._arm(loop, when)
        return waiter

    def watch(self, entry: "_Soon | asyncio.Future", seconds: float) -> None:
        """wait() without a waiter future: after `seconds`, unless `entry.done()`, `entry.expired()` is called (a
        _Soon), or the future itself fails with TimeoutError (one that only its one caller awaits)."""
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            self._loop, self._heap, self._timer, self._at = loop, [], None, math.inf
        when = loop.time() + seconds
        heapq.heappush(self._heap, (when, next(self._order), entry))
        if when < self._at:
            self._arm(loop, when)

    def _arm(self, loop: asyncio.AbstractEventLoop, when: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer, self._at = loop.call_at(when, self._expire, loop), when

    def _expire(self, loop: asyncio.AbstractEventLoop) -> None:
        self._timer, self._at = None, math.inf
        heap, now = self._heap, loop.time()
        while heap and (heap[0][2].done() or heap[0][0] <= now):
            waiter = heapq.heappop(heap)[2]
            if waiter.done():
                continue
            if isinstance(waiter, _Soon):
                waiter.expired()
            else:  # a waiter of wait(), or a future watched itself
                waiter.set_exception(TimeoutError())
        if heap:
            self._arm(loop, heap[0][0])


class _Soon:
    """One message of Receiver.receive_soon, from its trip to the writer thread to its one answer: receive()'s
    task and wait, as two callbacks (the writer's answer, `stored`; the deadline, `expired`) on the loop. Whichever
    comes first decides, as in receive(): in time, the handling's outcome; past the deadline, 'success' once the
    message is spooled (or the passive reply, if the writer thread took it just before)."""

    __slots__ = ("receiver", "key", "inbound", "request", "answer", "done_cb", "outcome", "answered", "late")

    def __init__(self, receiver: "Receiver", key: str, inbound: Inbound, request: str | None, answer: _Answer,
                 done: Callable):
        self.receiver, self.key, self.inbound, self.request = receiver, key, inbound, request
        self.answer, self.done_cb = answer, done
        # what receive() would return or raise: a retry of this message (receive()) waits for it
        self.outcome = asyncio.get_running_loop().create_future()
        self.answered = False  # done_cb called, or the spool's answer on its way
        self.late = False  # the deadline passed after the writer thread took the reply as passive

    def done(self) -> bool:  # (_Deadlines: nothing to time out)
        return self.answered or self.outcome.done()

    def stored(self, ok: bool, value) -> None:
        """The writer thread's answer (Database.run_redoable_then): the message's outcome, or the rest of
        _process (a read first, a message stored before) in a task."""
        if ok and isinstance(value, tuple):  # (passive, pushed): every message but the rare ones
            passive, pushed = value
            if pushed:
                self.receiver.on_outbox()
            if self.inbound.media_id:
                self.receiver.on_media()
            self._end(True, _reply(passive))
        elif ok:
            rest = asyncio.ensure_future(self.receiver._after_store(self.key, self.inbound, self.answer, value))
            rest.add_done_callback(self._rest)
        else:
            self._end(False, value)

    def _rest(self, task: asyncio.Task) -> None:
        if task.cancelled():
            self._end(False, asyncio.CancelledError())
        elif task.exception() is not None:
            self._end(False, task.exception())
        else:
            self._end(True, task.result())

    def _end(self, ok: bool, value) -> None:
        receiver = self.receiver
        if receiver._lines:  # (a failed first write may have left it in its sender's line)
            receiver._leave(self.inbound.openid, self.key)
        outcome = self.outcome
        if not outcome.done():
            outcome.set_result(value) if ok else outcome.set_exception(value)
        self.receiver._settled(self.key, outcome)  # (marks an exception retrieved)
        if self.answered:
            return  # answered 'success' from the spool at the deadline
        self.answered = True
        if ok or isinstance(value, (inbound_store.Replay, asyncio.CancelledError)):
            self.done_cb(value)
            return
        log.error("storing %s failed; it is spooled and will be stored later", self.key, exc_info=value)
        self._spool()

    def expired(self) -> None:
        """The caller's deadline passed before the writer's answer."""
        if self.late:
            return
        if not self.answer.give_up():  # finished just now: its reply is passive, on its way (stored)
            self.late = True
            return
        log.info("slow handling of %s: answered 'success', replies will be pushed", self.key)
        self.answered = True
        self._spool()

    def _spool(self) -> None:
        receiver = self.receiver
        asyncio.ensure_future(receiver._spool(self.key, self.inbound, self.answer, self.request)).add_done_callback(
            functools.partial(_outcome, self.done_cb))


class Receiver:
    def __init__(self, db: Database, handle_tx: HandleTx, clock: Clock, reply_timeout: float = 4.5,
                 on_outbox: Callable[[], None] | None = None, on_media: Callable[[], None] | None = None,
                 spool: Spool | None = None,
                 duty_office: str | None = None, tz: tzinfo | None = None,
                 take_hints: Callable[[dict], None] | None = None,
                 read_first: Callable[[object, ReadFirst], object] | None = None):
        self.db = db
        # (db, need) -> what a handling asked to read first (messages.ReadFirst), run on a reader thread; with it,
        # handle_tx is called with the reads made so far. Without it, handle_tx(db, inbound) reads what it needs.
        self.read_first = read_first
        # On the writer thread, before a message's handling: what an HTTP worker computed from its text alone
        # (Dispatcher.take_hints), so the writer need not compute it again (bot/writer.py).
        self.take_hints = take_hints
        self.tz = tz  # for the times shown to staff
        self.duty_office = duty_office  # told once when a message cannot be handled after every retry
        self.handle_tx = handle_tx
        self.clock = clock
        self.reply_timeout = reply_timeout
        self.on_outbox = on_outbox or (lambda: None)
        self.on_media = on_media or (lambda: None)  # a copy of an image or voice message was asked for
        self.spool = spool
        self._inflight: dict[str, tuple[asyncio.Task, _Answer]] = {}
        self._drainer: asyncio.Task | None = None
        self._drain_again = False  # asked while a drain ran: a file freed meanwhile (a worker died) is taken too
        self._drain_lock = asyncio.Lock()
        # request -> hash of its message key (RECENT_REQUESTS of them): the hash, not the key, halves what 20,000
        # requests hold (~5 -> ~3 MB); two keys with one hash would only leave a replay to the database's check
        self._recent: OrderedDict[str, int] = OrderedDict()
        self._deadlines = _Deadlines()
        # One person's messages are handled in the order they arrived. A message waiting on a read (ReadFirst) is
        # stored, not handled, until its second write; the person's messages stored after it wait in line behind
        # it: openid -> keys stored and not handled yet, the head being handled. Appended on the writer thread
        # (where "after" is decided), left and woken on the loop; empty but for the ~60 ms of a leader's read.
        self._lines: dict[str, list[str]] = {}
        self._lines_lock = threading.Lock()
        self._turns: dict[str, asyncio.Future] = {}  # key -> set when its turn comes (loop only)

    async def receive(self, inbound: Inbound, request: str | None = None,
                      deadline: float | None = None) -> Reply | None:
        """Returns the passive reply, or None to answer 'success' (nothing now; anything else comes pushed).
        Either way the message is durable when this returns: committed, or spooled. `request` names the signed
        request (storage.inbound.request_key); one seen before with another message raises inbound_store.Replay,
        and nothing is stored or done. `deadline` (time.monotonic()): when the caller, an HTTP worker in another
        process, stops waiting; it replaces reply_timeout, and no reply is passive past it."""
        key = inbound.dedupe_key
        if request is not None:
            self._note_request(request, key)
        retry = key in self._inflight
        if not retry:
            answer = _Answer(passive_ok=self.reply_timeout > 0, deadline=deadline)
            task = asyncio.create_task(self._process(key, inbound, answer, claim=True, request=request))
            self._inflight[key] = (task, answer)
            task.add_done_callback(lambda t: self._settled(key, t))
        task, answer = self._inflight[key]
        if retry and request is not None:  # a retry of a message in hand: its request is remembered all the same
            await self._remember_retry(request, key)
        wait = self.reply_timeout if self.reply_timeout > 0 else STORE_WAIT_SECONDS
        if deadline is not None:
            wait = max(0.0, deadline - time.monotonic())
        try:
            await self._deadlines.wait(task, wait)  # raises TimeoutError when `wait` runs out first
            return task.result()
        except TimeoutError:
            if not answer.give_up():
                return await asyncio.shield(task)  # finished just now: its reply is passive
            log.info("slow handling of %s: answered 'success', replies will be pushed", key)
        except inbound_store.Replay:
            raise  # refused (403), never spooled: the spool would store what the check just refused
        except Exception:  # noqa: BLE001 - the database refused the write: the spool keeps the message
            log.exception("storing %s failed; it is spooled and will be stored later", key)
        await self._spool(key, inbound, answer, request)
        return None

    def receive_soon(self, inbound: Inbound, request: str | None, deadline: float,
                     done: Callable[[Reply | None | BaseException], None], hints: dict | None = None) -> None:
        """receive() for a caller in another process (bot/writer.py), without a task: the trip to the writer thread
        answers through a callback (Database.run_redoable_then), so a message costs this loop no task, coroutine
        or future wake-up, only a future for a retry to wait on. `done` is called once, on the loop, with what
        receive() would return (the passive reply, or None: 'success', the message durable) or raise. A replayed
        request raises Replay here at once, as receive() does before anything is stored. `hints`: what the worker
        computed from the message's text alone (take_hints), used on the writer thread if the message is new."""
        key = inbound.dedupe_key
        if key in self._inflight:  # a retry of a message in hand (rare): receive()'s own path
            retry = asyncio.ensure_future(self.receive(inbound, request, deadline))
            retry.add_done_callback(functools.partial(_outcome, done))
            return
        if request is not None:
            self._note_request(request, key)
        answer = _Answer(passive_ok=self.reply_timeout > 0, deadline=deadline)
        soon = _Soon(self, key, inbound, request, answer, done)
        self._inflight[key] = (soon.outcome, answer)
        self.db.run_redoable_then(soon.stored, self._claim_and_handle, key, inbound, answer, None, request, hints)
        self._deadlines.watch(soon, max(0.0, deadline - time.monotonic()))

    def _note_request(self, request: str, key: str) -> None:
        """The in-memory half of the replay check: raises Replay for a request seen here with another message."""
        seen = self._recent.get(request)
        if seen is not None and seen != hash(key):
            raise inbound_store.Replay(request)
        self._recent[request] = hash(key)
        while len(self._recent) > RECENT_REQUESTS:
            self._recent.popitem(last=False)

    def _settled(self, key: str, task: asyncio.Future) -> None:
        self._inflight.pop(key, None)
        if not task.cancelled() and isinstance(task.exception(), inbound_store.Replay):
            log.warning("replayed request %s refused (carried another message than the first time)",
                        task.exception())
        elif not task.cancelled() and task.exception() is not None:
            # Already answered from the spool (or not answered at all, so WeChat retries): logged, not lost.
            log.warning("storing %s did not complete: %s", key, task.exception())

    async def _spool(self, key: str, inbound: Inbound, answer: _Answer, request: str | None = None) -> None:
        """Make the message durable outside the database before it is acknowledged. Raises if even that fails
        (then the webhook answers 500 and WeChat retries). The signed request goes with it, so the drain checks
        it as the first attempt would have: a replay that reached another process's spool is refused there."""
        if self.spool is None:
            raise RuntimeError(f"{key} is not stored and there is no spool")
        if not answer.spooled:
            record = {"key": key, "at": self.clock.now(), "inbound": inbound.to_json(),
                      **({"request": request} if request else {})}
            await asyncio.get_running_loop().run_in_executor(None, self.spool.append, record)
            answer.spooled = True
        self.start_drain()

    def start_drain(self) -> None:
        """Drain the spool in the background until it is empty (retrying while the database stays locked)."""
        if self.spool is None:
            return
        if self._drainer is None or self._drainer.done():
            self._drainer = asyncio.create_task(self._drain_until_empty(), name="spool-drain")
        else:
            self._drain_again = True

    async def _drain_until_empty(self) -> None:
        while True:
            try:
                self._drain_again = False
                await self.drain_spool()
                if not self._drain_again:
                    return
                continue
            except Exception as exc:  # noqa: BLE001 - most likely still locked; the lines stay on disk
                log.warning("spool not drained yet (%s); retrying", exc)
            await asyncio.sleep(DRAIN_RETRY_SECONDS)

    async def stop(self) -> None:
        if self._drainer is not None:
            self._drainer.cancel()
            try:
                await self._drainer
            except asyncio.CancelledError:
                pass
        if self.spool is not None:
            self.spool.close()

    async def drain_spool(self) -> int:
        """Store and handle every spooled message (this process's, and those of dead processes). Idempotent by
        inbound key: a message the original attempt committed after all is skipped. Returns how many were new.
        Raises if the database still cannot be written; the files stay and the next call tries again."""
        if self.spool is None:
            return 0
        loop = asyncio.get_running_loop()
        stored = 0
        async with self._drain_lock:
            for item in await loop.run_in_executor(None, self.spool.take):
                for record in item.records:
                    try:
                        inbound = Inbound.from_json(record["inbound"])
                    except (KeyError, TypeError, ValueError):
                        log.error("spool %s: unreadable record skipped: %r", item.path.name, record)
                        continue
                    try:
                        result = await self.db.run_redoable(self._drain_one, record["key"], inbound,
                                                            record.get("at"), record.get("request"))
                        result = await self._handle_later(record["key"], inbound, _Answer(passive_ok=False), result)
                    except inbound_store.Replay as exc:  # nothing of it was stored (one transaction)
                        log.warning("spooled request %s refused: the signed URL came with another message first",
                                    exc)
                        continue
                    finally:
                        if self._lines:
                            self._leave(inbound.openid, record["key"])
                    if isinstance(result, int):  # an undelivered passive reply, pushed now
                        self.on_outbox()
                    elif not isinstance(result, inbound_store.Claim):
                        stored += 1
                        if result[1]:
                            self.on_outbox()
                await loop.run_in_executor(None, self.spool.done, item)
        if stored:
            log.info("stored and handled %d spooled message(s)", stored)
        return stored

    def _drain_one(self, db, key: str, inbound: Inbound, received_at: float | None, request: str | None = None):
        """One spooled message, in one transaction. Spooled means the webhook answered 'success': if the message
        was committed after all with its first reply kept for the passive answer (the writer process died or
        stalled before that answer reached the worker), the reply never left, so it is pushed (once).
        Returns the Claim of a message stored before (or 1 if its reply is pushed now), else (passive, pushed)."""
        result = self._claim_and_handle(db, key, inbound, _Answer(passive_ok=False), received_at, request)
        if isinstance(result, inbound_store.Claim) and result.status == "done" and not result.deferred \
                and result.reply:
            return inbound_store.push_undelivered(db, key, inbound.openid, self.clock.now()) or result
        return result

    async def spend(self, request: str) -> None:
        """Remember a signed request whose body was refused, so the URL cannot carry another body later."""
        self._recent.setdefault(request, hash("refused"))
        try:
            await asyncio.wait_for(self.db.run(inbound_store.remember_request, request, "refused"), 1.0)
        except Exception:  # noqa: BLE001 - seen before, or the database is busy: the refusal stands either way
            pass

    async def _remember_retry(self, request: str, key: str) -> None:
        """Note a retry's request. Bounded: a locked database must not hold up the retry's answer (the message
        itself is in hand); only a replay (the request seen with another message) is refused."""
        try:
            await asyncio.wait_for(self.db.run(inbound_store.remember_request, request, key), 1.0)
        except inbound_store.Replay:
            raise
        except Exception as exc:  # noqa: BLE001 - the first try's storing decides; this is only bookkeeping
            log.warning("could not note the request of a retry of %s: %s", key, exc)

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
                       request: str | None = None, hints: dict | None = None) -> Reply | None:
        """One trip to the writer: check the request is no replay, store the inbound if new, handle it and record
        the outcome, in one commit. A message whose key is already stored was seen before (a retry after a
        restart, or another worker's)."""
        # Redoable (storage/db.py): everything it does but the database's is the same when done again (the
        # answer's decision, the hints, the conversation memory, which a rollback clears).
        try:
            if claim:
                result = await self.db.run_redoable(self._claim_and_handle, key, inbound, answer, None, request,
                                                    hints)
            else:
                result = await self.db.run_redoable(self._handle_and_complete, key, inbound, answer)
            return await self._after_store(key, inbound, answer, result)
        finally:
            if self._lines:
                self._leave(inbound.openid, key)

    async def _after_store(self, key: str, inbound: Inbound, answer: _Answer, result) -> Reply | None:
        """_process once its first trip to the writer returned `result` (also receive_soon's, in a task, for the
        rare results: a message behind its sender's earlier one, a read asked for first, a message stored before)."""
        try:
            result = await self._handle_later(key, inbound, answer, result)
        finally:
            if self._lines:
                self._leave(inbound.openid, key)
        if isinstance(result, inbound_store.Claim):
            if answer.spooled:  # a retry after the spool was drained: answered already
                return None
            return await self._answer_known(key, result)
        passive, pushed = result
        if pushed:
            self.on_outbox()
        if inbound.media_id:
            self.on_media()
        return _reply(passive)

    async def _handle_later(self, key: str, inbound: Inbound, answer: _Answer, result):
        """What the first write left to do: a message behind an earlier one of its sender's is handled at its
        turn; one that asked for a read is read, then handled. The caller leaves the line (_leave) after."""
        if result is BEHIND:
            await self._turn(inbound.openid, key)
            result = await self.db.run_redoable(self._handle_and_complete, key, inbound, answer)
        if isinstance(result, ReadFirst):
            result = await self._read_then_handle(key, inbound, answer, result)
        return result

    def _queue(self, openid: str, key: str, behind: bool) -> bool:
        """Writer thread. `behind` False: `key` waits on a read, so its sender's later messages wait behind it
        (joins the line). True: a new message, which waits (True) if its sender has one in line. Idempotent: a
        batch done again (storage/db.py) queues nothing twice."""
        with self._lines_lock:
            line = self._lines.get(openid)
            if line is None:
                if behind:
                    return False
                line = self._lines[openid] = []
            if key not in line:
                line.append(key)
            return line[0] != key

    async def _turn(self, openid: str, key: str) -> None:
        """Until every message of `openid` stored before `key` is handled."""
        with self._lines_lock:
            line = self._lines.get(openid)
            if not line or line[0] == key or key not in line:
                return
            waiter = self._turns[key] = asyncio.get_running_loop().create_future()
        try:  # bounded: a read that hangs must not keep the person's later messages unanswered for good
            await asyncio.wait_for(waiter, TURN_WAIT_SECONDS)
        except TimeoutError:
            log.warning("%s waited %d s behind an earlier message of its sender; handled now", key, TURN_WAIT_SECONDS)
        finally:
            self._turns.pop(key, None)

    def _leave(self, openid: str, key: str) -> None:
        """`key` is handled (or given up: spooled, failed): the next of its sender's messages may go."""
        with self._lines_lock:
            line = self._lines.get(openid)
            if not line or key not in line:
                return
            line.remove(key)
            if not line:
                del self._lines[openid]
                return
            head = line[0]
        waiter = self._turns.get(head)
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    async def _read_then_handle(self, key: str, inbound: Inbound, answer: _Answer, need: ReadFirst):
        """The handling asked for a read first (messages.ReadFirst): the message is stored (received, not yet
        handled: a process killed now leaves it to recover()); read on a reader thread, then handle it again with
        what was read, in a write of its own. Its answer is then passive if the webhook still waits (as any answer
        in time), else pushed. A read that fails, or one asked again, is left to the handling on the writer."""
        reads: dict = {}
        while isinstance(need, ReadFirst):
            inline = need.key in reads or len(reads) >= READS_AT_MOST
            if not inline:
                try:
                    reads[need.key] = await self.db.read(self.read_first, need)
                except Exception:  # noqa: BLE001 - answered all the same, read on the writer as before
                    log.exception("reading %s for %s failed; read on the writer instead", need.what, key)
                    inline = True
            need = await self.db.run_redoable(self._handle_and_complete, key, inbound, answer, None,
                                              None if inline else reads)
        return need

    def _claim_and_handle(self, db, key: str, inbound: Inbound, answer: _Answer, received_at: float | None = None,
                          request: str | None = None, hints: dict | None = None):
        if request is not None:  # in the same transaction: a replay stores nothing
            inbound_store.remember_request(db, request, key)
        claim = inbound_store.claim(db, key, inbound.openid, inbound.kind, inbound.to_json(),
                                    received_at if received_at is not None else self.clock.now())
        if not claim.new:
            answer.take_passive()
            return claim
        if self._lines and self._queue(inbound.openid, key, behind=True):  # its sender's earlier one waits on a read
            inbound_store.keep(db, claim)
            return BEHIND
        if hints and self.take_hints is not None:
            try:
                self.take_hints(hints)
            except Exception:  # noqa: BLE001 - only a saving: the handling computes what it needs itself
                log.exception("hints for %s not taken", key)
        return self._handle_and_complete(db, key, inbound, answer, claim)

    def _handle_and_complete(self, db, key: str, inbound: Inbound, answer: _Answer,
                             claim: inbound_store.Claim | None = None, reads: dict | None = _FIRST):
        """Writer thread, one transaction: the handling and the record of it commit together. A bug in handling
        rolls back only the handling (its savepoint); the message stays stored, answered with an apology. (In an
        optimistic batch the savepoint is free and a bug sends the batch round again with real ones: storage/db.py.)
        `claim`: this very transaction's, so nobody else can have handled it; without it, the row is read."""
        if claim is None and (claim := inbound_store.read(db, key)).status == "done":  # another worker meanwhile
            answer.take_passive()
            return claim.reply, 0
        if inbound.media_id:  # WeChat keeps it 3 days: a copy is asked for with the message, whatever its handling
            media_store.want(db, inbound.media_id, inbound.openid, inbound.kind, self.clock.now())
        if reads is _FIRST:  # the first handling: nothing read yet
            reads = {} if self.read_first is not None else None
        try:
            with savepoint(db, once=key):  # (tried once a batch, even when the batch is run again: storage/db.py)
                replies = self.handle_tx(db, inbound) if reads is None else self.handle_tx(db, inbound, reads)
        except Exception as exc:  # noqa: BLE001 - one bad message must not take the service down
            log.exception("handling %s failed; kept for retries", key)
            inbound_store.record_failure(db, key, inbound.openid, inbound.to_json(), _describe(exc),
                                         self.clock.now())
            replies = [Reply(texts.INTERNAL_ERROR)]
        if isinstance(replies, ReadFirst):  # stored, not handled yet: handled again once read (_read_then_handle)
            inbound_store.keep(db, claim)
            self._queue(inbound.openid, key, behind=False)
            return replies
        return self._complete(db, key, inbound, replies, answer, claim)

    def _complete(self, db, key: str, inbound: Inbound, replies: list[Reply], answer: _Answer,
                  claim: inbound_store.Claim | None = None):
        parts = [{"text": part, "to": r.to, "extra": r.extra} for r in replies for part in split_text(r.text)]
        passive = inbound_store.complete(db, key, inbound.openid, parts, self.clock.now(), answer.take_passive(),
                                         claim)
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


    async def retry_failed(self) -> int:
        """Try again the messages whose handling raised (bounded: inbound.RETRY_DELAYS); flag them for staff
        when every try failed. Their replies are pushed. Returns how many were tried."""
        tried = 0
        while True:
            rows = await self.db.run(inbound_store.due_failures, self.clock.now())
            if not rows:
                return tried
            for key, payload in rows:
                if await self.db.run(self._retry_tx, key, Inbound.from_json(payload)):
                    self.on_outbox()
                tried += 1

    def _retry_tx(self, db, key: str, inbound: Inbound) -> int:
        now = self.clock.now()
        try:
            with savepoint(db):
                replies = self.handle_tx(db, inbound)
        except Exception as exc:  # noqa: BLE001 - kept, tried again later or flagged
            log.exception("retrying %s failed", key)
            if not inbound_store.failed_again(db, key, _describe(exc), now):
                return 0
            log.error("message %s could not be handled after every retry: flagged for staff", key)
            return self._flag_to_staff(db, inbound, now)
        parts = [{"text": part, "to": r.to, "extra": r.extra} for r in replies for part in split_text(r.text)]
        outbox_store.enqueue_replies(db, parts, inbound.openid, now, source=f"retry:{key}")
        inbound_store.resolve_failure(db, key, now)
        log.info("message %s handled on retry", key)
        return len(parts)

    def _flag_to_staff(self, db, inbound: Inbound, now: float) -> int:
        recipients = staff_store.of_unit(db, self.duty_office) if self.duty_office else []
        recipients = recipients or staff_store.leaders(db)
        at = datetime.fromtimestamp(inbound.created_at, self.tz).strftime("%m-%d %H:%M")
        # the citizen's words as staff read them everywhere: numbers masked, markup inert (desk.for_staff); cut
        # after masking, so no number is cut into a piece the mask no longer knows
        text = texts.HANDLING_FLAGGED.format(who=inbound.openid[-6:], at=at,
                                             text=for_staff(inbound.text or f"[{inbound.kind}]")[:200])
        for openid in recipients:
            outbox_store.enqueue_text(db, openid, text, now, source="flagged")
        return len(recipients)


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


def _reply(data: dict | None) -> Reply | None:
    return Reply.from_dict(data) if data else None
