"""The tail probe of bench/webhook.py --probe (not part of the service): on the server's PYTHONPATH, Python imports
this at start in each process of `tingjian serve`. It records, on time.monotonic() (the clock of wrk's send times
in the bench), every garbage collection (generation, pause) and every write batch of the SQLite writer thread
(messages, time from BEGIN to the callers' answers) and the writer's WAL catch-ups, and appends them once a second to
$BENCH_PROBE_FILE.<pid>: lines "gc <start> <seconds> <generation> <cpu seconds> <loop|other>" (the collecting
thread: the main thread, i.e. the event loop, or another), "batch <start> <seconds> <calls> <cpu seconds>", "walreset <start> <seconds> 0",
"flush <time> 0 <frames>" (one write of frames on the
hop between an HTTP worker and the writer, either way), "begin <start> <seconds> <busy retries> <cpu seconds>" (BEGIN IMMEDIATE: the wait for SQLite's write lock; with no
retry, what it waited was for this process's GIL or the disk, not for another process).
Costs a few microseconds per collection and per batch."""
from __future__ import annotations

import gc
import os
import sys
import threading
import time

_OUT = os.environ.get("BENCH_PROBE_FILE")  # set only in the server's environment


def _install(out: str) -> None:
    events: list[tuple] = []
    started = [0.0, 0.0]

    def on_gc(phase: str, info: dict) -> None:
        if phase == "start":
            started[:] = time.monotonic(), time.thread_time()
        else:  # wall time, and the CPU time of the thread that collected (the rest: waiting for a core)
            events.append(("gc", started[0], time.monotonic() - started[0], info["generation"],
                           time.thread_time() - started[1],
                           "loop" if threading.current_thread() is threading.main_thread() else "other"))

    gc.callbacks.append(on_gc)

    def patch_and_flush() -> None:
        patched = False
        while True:
            time.sleep(1.0)
            db = sys.modules.get("storage.db")
            if db is not None and not patched:  # the writer thread looks _run_batch up on each batch
                run_batch = db.Database._run_batch

                def _run_batch(self, conn, batch, _run=run_batch):
                    t, c = time.monotonic(), time.thread_time()
                    _run(self, conn, batch)
                    events.append(("batch", t, time.monotonic() - t, len(batch), time.thread_time() - c))
                db.Database._run_batch = _run_batch
                begin = getattr(db.Database, "_begin", None)
                if begin is not None:  # the wait for SQLite's write lock: its retries (another process held it)
                    sleeps = [0]
                    real_time = db.time

                    class _Time:  # storage.db's `time` with its sleeps counted: _begin sleeps only when busy
                        def __getattr__(self, name):
                            return getattr(real_time, name)

                        def sleep(self, seconds):
                            sleeps[0] += 1
                            real_time.sleep(seconds)
                    db.time = _Time()

                    def _begin(self, conn, _run=begin):
                        t, c, n = time.monotonic(), time.thread_time(), sleeps[0]
                        waited = _run(self, conn)
                        events.append(("begin", t, time.monotonic() - t, sleeps[0] - n, time.thread_time() - c))
                        return waited
                    db.Database._begin = _begin
                reset_wal = getattr(db.Database, "_reset_wal", None)
                if reset_wal is not None:  # the writer's WAL catch-up between batches (storage/db.py)
                    def _reset_wal(self, conn, _run=reset_wal):
                        t = time.monotonic()
                        _run(self, conn)
                        events.append(("walreset", t, time.monotonic() - t, 0))
                    db.Database._reset_wal = _reset_wal
                patched = True
            wire = sys.modules.get("bot.writer")
            if wire is not None and not getattr(wire.Batched, "_probed", False):  # frames a write, on the hop
                flush = wire.Batched._flush

                def _flush(self, _run=flush):
                    events.append(("flush", time.monotonic(), 0, len(self._frames)))
                    _run(self)
                wire.Batched._flush = _flush
                wire.Batched._probed = True
            if events:
                taken = events[:]
                del events[:len(taken)]
                with open(f"{out}.{os.getpid()}", "a") as f:
                    f.writelines(" ".join(str(x) for x in e) + "\n" for e in taken)

    threading.Thread(target=patch_and_flush, name="bench-probe", daemon=True).start()


if _OUT:
    _install(_OUT)
