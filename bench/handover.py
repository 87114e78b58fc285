#!/usr/bin/env python3
"""What one hand-over between the event loop and the writer thread costs the side that makes it, as
storage/db.py makes them: the loop's `SimpleQueue.put` that wakes the writer blocked in `get()` (the first call of a
batch), and the writer's `loop.call_soon_threadsafe` that wakes a uvloop asleep in epoll (one a batch, the
answers). Thread CPU a call of the caller (the woken side pays its own wake-up besides), the other side idle.

    python bench/handover.py [--calls 3000]

Per message this is divided by the messages a batch (`bench/webhook.py --probe` prints the batches)."""
from __future__ import annotations

import argparse
import queue
import statistics
import threading
import time

import uvloop


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--calls", type=int, default=3000)
    args = p.parse_args()
    loop = uvloop.new_event_loop()
    runner = threading.Thread(target=loop.run_forever, daemon=True)
    runner.start()
    time.sleep(0.2)
    to_loop = []
    for i in range(args.calls):
        time.sleep(0.0005)  # the loop back asleep
        c = time.thread_time()
        loop.call_soon_threadsafe(int, i)
        to_loop.append(time.thread_time() - c)
    loop.call_soon_threadsafe(loop.stop)
    runner.join()
    q: queue.SimpleQueue = queue.SimpleQueue()

    def writer() -> None:
        while q.get() is not None:
            pass
    consumer = threading.Thread(target=writer, daemon=True)
    consumer.start()
    to_writer = []
    for i in range(args.calls):
        time.sleep(0.0005)  # the writer back in get()
        c = time.thread_time()
        q.put(i)
        to_writer.append(time.thread_time() - c)
    q.put(None)
    consumer.join()
    for name, xs in (("writer -> loop: call_soon_threadsafe, the loop asleep", to_loop),
                     ("loop -> writer: SimpleQueue.put, the writer in get()", to_writer)):
        print(f"  {1e6 * statistics.median(xs):5.1f} us median, {1e6 * statistics.mean(xs):5.1f} mean  {name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
