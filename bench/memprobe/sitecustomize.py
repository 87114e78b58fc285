"""bench/rss_where.py's probe (not part of the service): on the server's PYTHONPATH, Python imports this at start
in `tingjian serve`. With $BENCH_MEM_FILE set it starts tracemalloc at once (so start-up's allocations are traced,
one frame each) and, whenever the file $BENCH_MEM_FILE.dump appears, writes a snapshot to $BENCH_MEM_FILE.<n>.snap
(from a forked child) with the process's RSS read before it, then removes the .dump file. tracemalloc slows the process (a few times)."""
from __future__ import annotations

import os
import sys
import threading
import time

_OUT = os.environ.get("BENCH_MEM_FILE")


def _install(out: str) -> None:
    import tracemalloc
    tracemalloc.start(int(os.environ.get("BENCH_MEM_FRAMES", "1")))

    def rss() -> int:
        with open(f"/proc/{os.getpid()}/status") as f:
            return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))

    def watch() -> None:
        n = 0
        while True:
            time.sleep(0.3)
            if os.path.exists(out + ".dump"):
                n += 1
                with open(f"/proc/{os.getpid()}/smaps_rollup") as f:
                    anon = next(int(line.split()[1]) for line in f if line.startswith("Anonymous:"))
                with open(f"{out}.{n}.rss", "w") as f:
                    f.write(f"{rss()} {anon} {tracemalloc.get_traced_memory()[0]} "
                            f"{tracemalloc.get_tracemalloc_memory()}\n")
                # the snapshot is taken and written by a forked child: its objects (a list of every trace) would
                # stay in this process's RSS as malloc's free space and be counted in the next snapshot's
                child = os.fork()
                if child == 0:
                    try:
                        tracemalloc.take_snapshot().dump(f"{out}.{n}.snap.tmp")
                        os.replace(f"{out}.{n}.snap.tmp", f"{out}.{n}.snap")
                    finally:
                        os._exit(0)
                os.waitpid(child, 0)
                os.remove(out + ".dump")

    threading.Thread(target=watch, name="bench-memprobe", daemon=True).start()


if _OUT and os.path.basename(sys.argv[0]) == "tingjian":
    _install(_OUT)
