"""`serve --workers N` (N ≥ 2): one writer process owns the database's write side and the conversation; N HTTP
workers feed it over a unix socket.

    WeChat ──HTTPS──▶ nginx ──▶ :port (SO_REUSEPORT)
                                 ├─ HTTP worker 0 ─┐  signature, AES, XML, to_inbound; encrypt the reply
                                 └─ HTTP worker 1 ─┤  workbench and public pages (reads; rare writes)
                                                   │  length-prefixed JSON over <private dir>/writer.sock
                                                   ▼
                                 writer process: Receiver + Dispatcher (store, handle, complete: one commit),
                                 spool drain, recovery, outbox sender, media fetcher, scheduled jobs

The serial part is only the writer's work; HTTP, AES and XML run in parallel in the workers, and no two
processes take turns on SQLite's write lock for messages.

Nothing is answered before it is durable. The worker asks the writer with a deadline (time.monotonic(), one
clock for every process on the host): the writer answers the passive reply after its commit, or 'success' after
its own spool line, by the deadline, and never keeps a reply for the passive answer once the deadline has passed
(it is pushed). If the writer cannot be reached, breaks the connection or has not answered a little after the
deadline, the worker appends the message to its own spool (fsync'd) and answers 'success'; once the writer is
reachable again the worker releases that file and asks the writer to drain it. A spooled message that the writer
had committed after all with a passive reply gets that reply pushed (Receiver._drain_one): late, never lost.

The wire: a 4-byte big-endian length, then one JSON object (never pickle). Requests carry an `id`; answers
name it, so one connection per worker carries many messages at once.
"""
from __future__ import annotations

import asyncio
import dataclasses
import functools
import json
import logging
import os
import signal
import struct
import time
from pathlib import Path

from handlers.messages import Inbound, Reply
from bot.receiver import _Deadlines
from storage import jsontext
from storage.inbound import Replay
from storage.spool import Spool

log = logging.getLogger(__name__)

HEADER = struct.Struct("!I")
MAX_FRAME = 1 << 20  # a message is a few KB at most
# After the writer's deadline, how long a worker still waits for an answer that may be on its way.
GRACE_SECONDS = 0.3
# The worker answers by then whatever happens (WeChat gives up after 5 s).
ANSWER_LIMIT_SECONDS = 4.9
# Without a reply_timeout (every reply pushed) the writer still has this long to store the message.
STORE_WAIT_SECONDS = 4.5
# A worker that found the writer unreachable tries again after this long (meanwhile it spools at once).
RECONNECT_SECONDS = 0.2


class FrameError(Exception):
    pass


class Batched:
    """Frames written in one loop iteration go out in one write (one syscall for many messages under load).
    `writer`: an asyncio transport or StreamWriter (write, is_closing, close)."""

    __slots__ = ("writer", "_frames")

    def __init__(self, writer):
        self.writer = writer
        self._frames: list[bytes] = []

    def write(self, data: bytes) -> None:
        if not self._frames:
            asyncio.get_running_loop().call_soon(self._flush)
        self._frames.append(data)

    def _flush(self) -> None:
        frames, self._frames = self._frames, []
        if not self.writer.is_closing():
            self.writer.write(frames[0] if len(frames) == 1 else b"".join(frames))

    def is_closing(self) -> bool:
        return self.writer.is_closing()

    def close(self) -> None:
        self.writer.close()


_encode = jsontext.encoder((",", ":"))  # json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode's text, cheaper


def encode(obj: dict) -> bytes:
    data = _encode(obj).encode()
    return HEADER.pack(len(data)) + data


class Frames:
    """The frames of a byte stream, however the reads cut it: a frame split across reads waits for its rest, many
    frames in one read come out together. Parsed where the data arrives (a protocol's data_received): no future
    or coroutine step per frame, as two `readexactly` per frame cost. Stops at the first bad frame (`error` says
    why): the stream cannot be read further, and the connection is closed."""

    __slots__ = ("_rest", "error")

    def __init__(self):
        self._rest = b""
        self.error: Exception | None = None

    def feed(self, data: bytes) -> list[dict]:
        if self.error is not None:
            return []
        if self._rest:
            data = self._rest + data
        out = []
        pos, end = 0, len(data)
        while end - pos >= HEADER.size:
            (size,) = HEADER.unpack_from(data, pos)
            if size > MAX_FRAME:
                self.error = FrameError(f"frame of {size} bytes")
                break
            stop = pos + HEADER.size + size
            if stop > end:
                break
            try:
                obj = json.loads(data[pos + HEADER.size:stop])
            except ValueError as exc:  # (UnicodeDecodeError too)
                self.error = FrameError(f"not JSON: {exc}")
                break
            if not isinstance(obj, dict):
                self.error = FrameError("a frame is a JSON object")
                break
            out.append(obj)
            pos = stop
        self._rest = b"" if self.error is not None or pos == end else data[pos:]
        return out


def inbound_fields(inbound: Inbound) -> dict:
    return dict(inbound.__dict__)  # flat dataclass: every field is JSON already


_INBOUND_FIELDS = tuple(f.name for f in dataclasses.fields(Inbound))


def inbound_from(fields) -> Inbound:
    if not isinstance(fields, dict):  # (a JSON object's keys are text)
        raise FrameError("inbound is not an object")
    if tuple(fields) == _INBOUND_FIELDS:  # as inbound_fields sends it: every field, in order (to_json's order)
        inbound = object.__new__(Inbound)  # the frozen dataclass's __init__ costs ~3 µs a message here
        inbound.__dict__.update(fields)
        return inbound
    return Inbound(**fields)  # an unknown or missing field raises TypeError


def ask_drain(path: str | Path, timeout: float = 1.0) -> bool:
    """Ask the writer process to drain the spools now (blocking; the supervisor's call when an HTTP worker died:
    its spool file is nobody's from that moment, and waiting for the once-a-minute orphan job kept its
    acknowledged messages unhandled for up to a minute). False if the writer cannot be reached: the writer's own
    start-up or the orphan job drains it then."""
    import socket
    try:
        with socket.socket(socket.AF_UNIX) as s:
            s.settimeout(timeout)
            s.connect(str(path))
            s.sendall(encode({"op": "drain"}))
        return True
    except OSError:
        return False


# -- the writer process's side ----------------------------------------------------------------------------------
class WriterServer:
    """Serves the workers' requests with the process's Receiver (the same one `--workers 1` uses in-process).

    Per message on this process's event loop: the frame parsed where the data arrives (Frames), one task (the
    Receiver's store-and-handle trip to the writer thread) and a callback for its answer, written with the other
    answers of the same loop iteration in one write. The writer thread takes what queued meanwhile as one
    transaction (storage.db: group commit, each message in its own savepoint)."""

    def __init__(self, receiver, wake_outbox):
        self.receiver = receiver
        self.wake_outbox = wake_outbox
        self._server: asyncio.AbstractServer | None = None
        self._tasks: set[asyncio.Task] = set()
        self._open = 0  # receive requests not answered yet
        self._idle: asyncio.Event | None = None
        self._connections: set[_Connection] = set()

    async def start(self, path: str | Path) -> None:
        path = Path(path)
        try:
            path.unlink()  # left by a writer that was killed
        except FileNotFoundError:
            pass
        self._idle = asyncio.Event()
        self._idle.set()
        self._server = await asyncio.get_running_loop().create_unix_server(lambda: _Connection(self),
                                                                           path=str(path))
        os.chmod(path, 0o600)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        # answers in hand end by their deadline (≤ 4.9 s); the workers spool what is cut off
        idle = asyncio.ensure_future(self._idle.wait()) if self._idle is not None else None
        waits = list(self._tasks) + ([idle] if idle is not None else [])
        if waits:
            await asyncio.wait(waits, timeout=5)
        for task in list(self._tasks) + ([idle] if idle is not None else []):
            task.cancel()
        for conn in list(self._connections):
            conn.close()

    def _spawn(self, coro) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def serve(self, msg: dict, conn: "_Connection") -> None:
        op = msg.get("op")
        if op == "receive":
            self._receive(msg, conn)
        elif op == "spend" and isinstance(msg.get("request"), str):
            self._spawn(self.receiver.spend(msg["request"]))
        elif op == "wake":
            self.wake_outbox()
        elif op == "drain":
            self.receiver.start_drain()
        elif op == "ping":
            conn.send({"id": msg.get("id"), "pong": True})
        else:
            raise FrameError(f"unknown op {op!r}")

    def _receive(self, msg: dict, conn: "_Connection") -> None:
        rid = msg.get("id")
        try:
            deadline = msg.get("deadline")
            if not isinstance(deadline, (int, float)):
                raise FrameError("no deadline")
            request = msg.get("request")
            inbound = inbound_from(msg.get("inbound"))
        except Exception as exc:  # noqa: BLE001 - neither stored nor spooled here: the worker spools it
            log.error("request %s from a worker is malformed: %s", rid, _describe(exc))
            conn.send({"id": rid, "error": _describe(exc)})
            return
        self._opened()
        try:
            hints = msg.get("hints")
            self.receiver.receive_soon(inbound, request if isinstance(request, str) else None, float(deadline),
                                       functools.partial(self._answer, rid, conn),
                                       hints if isinstance(hints, dict) else None)
        except Exception as exc:  # noqa: BLE001 - Replay (refused at once), or the Receiver failed to start
            self._answer(rid, conn, exc)

    def _answer(self, rid, conn: "_Connection", outcome) -> None:
        """The Receiver's answer to one request: the passive reply, None ('success'), or an exception."""
        self._closed()
        if isinstance(outcome, Replay):
            answer = {"id": rid, "replay": True}
        elif isinstance(outcome, BaseException):
            log.error("request %s from a worker failed: %s", rid, _describe(outcome))
            answer = {"id": rid, "error": _describe(outcome)}
        else:
            answer = {"id": rid, "reply": outcome.to_dict() if outcome else None}
        conn.send(answer)  # dropped if the worker went away: it spools what it did not get an answer for

    def _opened(self) -> None:
        self._open += 1
        self._idle.clear()

    def _closed(self) -> None:
        self._open -= 1
        if self._open <= 0:
            self._open = 0
            self._idle.set()


def _describe(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"


class _Connection(asyncio.Protocol):
    """One HTTP worker's connection to the writer process."""

    def __init__(self, server: WriterServer):
        self.server = server
        self.frames = Frames()
        self.out: Batched | None = None

    def connection_made(self, transport) -> None:
        self.out = Batched(transport)
        self.server._connections.add(self)

    def data_received(self, data: bytes) -> None:
        for msg in self.frames.feed(data):
            try:
                self.server.serve(msg, self)
            except (FrameError, ValueError) as exc:
                self.frames.error = FrameError(str(exc))
                break
        if self.frames.error is not None:
            log.error("a worker sent a bad frame (%s); connection closed", self.frames.error)
            self.close()

    def send(self, answer: dict) -> None:
        if self.out is not None and not self.out.is_closing():
            self.out.write(encode(answer))

    def close(self) -> None:
        if self.out is not None:
            self.out.close()

    def connection_lost(self, exc) -> None:
        # the worker went away; its requests in hand complete (and are pushed if it cannot take them)
        self.server._connections.discard(self)


async def run_writer(app, path: str | Path) -> None:
    """The writer process: the app's start-up (database, core, delivery, jobs) without any HTTP site, serving
    the workers on `path` until SIGTERM or SIGINT."""
    from aiohttp import web

    from bot.app import RECEIVER, SENDER
    runner = web.AppRunner(app, handle_signals=False)
    await runner.setup()  # runs the cleanup contexts: the same start-up as an in-process server
    server = WriterServer(app[RECEIVER], app[SENDER].wake)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await server.start(path)
    log.info("writer process ready on %s", path)
    try:
        await stop.wait()
    finally:
        await server.stop()
        await runner.cleanup()


# -- an HTTP worker's side --------------------------------------------------------------------------------------
class WriterGone(ConnectionError):
    pass


class RemoteReceiver:
    """What the webhook calls in an HTTP worker, in place of a Receiver: the same two methods, `receive` and
    `spend`, served by the writer process. `spool` is the worker's own, for when the writer cannot answer."""

    def __init__(self, path: str | Path, spool: Spool, reply_timeout: float, clock, hints=None):
        self.path = str(path)
        # inbound -> what the writer would compute from the message's text alone, or None (Dispatcher.text_hints):
        # computed here, where the workers run in parallel, instead of on the writer's serial thread
        self.hints = hints
        self.spool = spool
        self.reply_timeout = reply_timeout
        self.clock = clock
        self._writer: Batched | None = None
        self._pending: dict[int, asyncio.Future] = {}
        self._ids = 0
        self._deadlines = _Deadlines()
        self._connect_lock = asyncio.Lock()
        self._failed_at = -1e9
        self._handover: asyncio.Task | None = None
        self.spooled = 0

    # -- connection -----------------------------------------------------------------------------------------
    async def _connected(self) -> Batched:
        if self._writer is not None and not self._writer.is_closing():
            return self._writer
        async with self._connect_lock:
            if self._writer is not None and not self._writer.is_closing():
                return self._writer
            if time.monotonic() - self._failed_at < RECONNECT_SECONDS:
                raise WriterGone("writer unreachable (tried just now)")
            loop = asyncio.get_running_loop()
            try:
                transport, _ = await asyncio.wait_for(
                    loop.create_unix_connection(lambda: _Answers(self), self.path), 1.0)
            except (OSError, asyncio.TimeoutError) as exc:
                self._failed_at = time.monotonic()
                raise WriterGone(f"writer unreachable: {exc}") from None
            self._writer = Batched(transport)
            log.info("connected to the writer process")
            return self._writer

    def _answered(self, msg: dict) -> None:
        future = self._pending.pop(msg.get("id"), None)
        if future is not None and not future.done():
            future.set_result(msg)

    def _lost(self, transport, why) -> None:
        log.warning("connection to the writer process lost (%s)", why)
        if self._writer is not None and self._writer.writer is transport:
            self._writer = None
        pending, self._pending = self._pending, {}
        for future in pending.values():
            if not future.done():
                future.set_exception(WriterGone("the writer process went away"))

    async def _call(self, msg: dict, seconds: float) -> dict:
        """Send `msg` and wait for its answer, at most `seconds` in all (TimeoutError). The wait shares one loop
        timer with every other (receiver._Deadlines), which fails the answer's future itself when time is up:
        asyncio.timeout made a timer, a Timeout object and a cancellation per message, a waiter a second future."""
        give_up = time.monotonic() + seconds
        writer = await self._connected()
        self._ids += 1
        msg["id"] = rid = self._ids
        future = asyncio.get_running_loop().create_future()
        self._pending[rid] = future
        try:
            writer.write(encode(msg))
            self._deadlines.watch(future, max(0.0, give_up - time.monotonic()))
            return await future
        finally:
            self._pending.pop(rid, None)

    def _send(self, msg: dict) -> None:
        """Fire and forget (a wake-up, a drain request): dropped if the writer is not connected."""
        if self._writer is not None and not self._writer.is_closing():
            self._writer.write(encode(msg))

    # -- what the webhook and the pages call ---------------------------------------------------------------
    async def receive(self, inbound: Inbound, request: str | None = None) -> Reply | None:
        start = time.monotonic()
        deadline = start + (self.reply_timeout if self.reply_timeout > 0 else STORE_WAIT_SECONDS)
        give_up = min(deadline + GRACE_SECONDS, start + ANSWER_LIMIT_SECONDS)
        msg = {"op": "receive", "inbound": inbound_fields(inbound), "request": request, "deadline": deadline}
        if self.hints is not None:
            try:
                hints = self.hints(inbound)
            except Exception:  # noqa: BLE001 - only a saving: the writer computes what it needs itself
                log.exception("no hints for %s", inbound.dedupe_key)
                hints = None
            if hints:
                msg["hints"] = hints
        try:
            answer = await self._call(msg, give_up - time.monotonic())
        except (TimeoutError, ConnectionError, OSError) as exc:
            log.warning("writer did not answer for %s (%s): spooled here, answered 'success'",
                        inbound.dedupe_key, exc or type(exc).__name__)
            await self._spool(inbound, request)
            return None
        if answer.get("replay"):
            raise Replay(request)
        if "error" in answer:
            log.error("writer could not store %s (%s): spooled here", inbound.dedupe_key, answer["error"])
            await self._spool(inbound, request)
            return None
        return Reply.from_dict(answer["reply"]) if answer.get("reply") else None

    async def spend(self, request: str) -> None:
        self._send({"op": "spend", "request": request})

    def wake_outbox(self) -> None:
        self._send({"op": "wake"})

    async def ping(self, timeout: float = 1.0) -> bool:
        try:
            return bool((await self._call({"op": "ping"}, timeout)).get("pong"))
        except (TimeoutError, ConnectionError, OSError):
            return False

    def start_drain(self) -> None:
        pass  # the writer drains; this worker hands its file over (_hand_over)

    async def stop(self) -> None:
        for task in (self._handover,):
            if task is not None:
                task.cancel()
                try:
                    await task
                except (asyncio.CancelledError, Exception):  # noqa: BLE001 - stopping
                    pass
        if self._writer is not None:
            self._writer.close()
        self.spool.close()  # a file not handed over yet stays for the writer to drain

    # -- the worker's own spool -----------------------------------------------------------------------------
    async def _spool(self, inbound: Inbound, request: str | None = None) -> None:
        record = {"key": inbound.dedupe_key, "at": self.clock.now(), "inbound": inbound.to_json(),
                  **({"request": request} if request else {})}  # checked when drained (Receiver.drain_spool)
        await asyncio.get_running_loop().run_in_executor(None, self.spool.append, record)
        self.spooled += 1
        if self._handover is None or self._handover.done():
            self._handover = asyncio.create_task(self._hand_over(), name="spool-hand-over")

    async def _hand_over(self) -> None:
        """Once the writer answers again: release the spool file (only a file nobody holds can be drained) and
        ask the writer to drain it. Repeated while messages were spooled meanwhile."""
        while True:
            if not await self.ping():
                await asyncio.sleep(RECONNECT_SECONDS)
                continue
            if not self.spool.release():
                return
            self._send({"op": "drain"})
            log.info("spooled messages handed to the writer process")


class _Answers(asyncio.Protocol):
    """A worker's connection to the writer: the answers, parsed where they arrive, settle their callers."""

    def __init__(self, remote: RemoteReceiver):
        self.remote = remote
        self.frames = Frames()
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        for msg in self.frames.feed(data):
            self.remote._answered(msg)
        if self.frames.error is not None:
            self.transport.close()  # connection_lost follows: every caller still waiting spools

    def connection_lost(self, exc) -> None:
        self.remote._lost(self.transport, self.frames.error or exc or "closed by the writer")


class OutboxWake:
    """In an HTTP worker, app[SENDER]: the pages' wake-up after queueing a push goes to the writer's sender."""

    def __init__(self, remote: RemoteReceiver):
        self.remote = remote

    def wake(self) -> None:
        self.remote.wake_outbox()
