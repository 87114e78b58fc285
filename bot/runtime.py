"""Process-level settings every serving process applies: the one process of `serve`, the writer and the HTTP
workers of `serve --workers N`, and the job process that builds digests.

Why (bench/README.md, "The tail at 50 connections"): at 50 connections the webhook's tail came from the whole
process stopping, not from a slow message. CPython's cyclic garbage collector walked every container the process
holds (jieba's dictionary, the router, the caches: about a million objects) in each full collection, 40–135 ms
with the GIL held, every few seconds under load; and a thread waiting for the GIL waits for the switch interval.
"""
from __future__ import annotations

import gc
import logging
import sys

log = logging.getLogger(__name__)


def apply(switch_interval_ms: float) -> None:
    """At a process's start, before its threads: how long a thread keeps the GIL while another waits for it.
    The event loop and the SQLite writer thread hand the GIL to each other about once a message."""
    sys.setswitchinterval(switch_interval_ms / 1000)


def freeze() -> int:
    """After start-up: everything built so far (imports, jieba's dictionary, the router, the rules) lives as long
    as the process, so the collector stops looking at it. What is built later is collected as before. Returns
    how many objects were frozen."""
    gc.unfreeze()  # a second freeze (the job process's router rebuilt): what the first froze may be garbage now
    gc.collect()
    gc.freeze()
    count = gc.get_freeze_count()
    log.debug("gc: %d objects frozen after start-up", count)
    return count


def install(app, config) -> None:
    """A serving process's settings on its app, before its start-up: the switch interval now (before the writer
    and reader threads start), the freeze once every start-up context has run (the router built, the caches
    warmed). aiohttp runs on_startup callbacks after the cleanup contexts, which are registered first."""
    apply(config.server.switch_interval_ms)
    if config.server.gc_freeze:
        async def _freeze(_app) -> None:
            freeze()
        app.on_startup.append(_freeze)
