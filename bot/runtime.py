"""Process-level settings every serving process applies: the one process of `serve`, the writer and the HTTP
workers of `serve --workers N`, and the job process that builds digests.

Why (bench/README.md, "The tail at 50 connections"): under load the webhook's worst answers came from the whole
process stopping, not from a slow message. CPython's cyclic garbage collector walked every container the process
holds (jieba's dictionary, the router, the rules: the collection cost 59-77 ms of CPU) in each full collection,
every few seconds under load, with the GIL held: the event loop and the SQLite writer thread both waited.
"""
from __future__ import annotations

import gc
import logging

log = logging.getLogger(__name__)


def freeze() -> int:
    """After start-up: what was built so far (imports, jieba's dictionary, the router, the rules) lives as long
    as the process, so the collector stops walking it; what is built later is collected as before, and frozen
    objects are still freed when nothing refers to them. Returns how many objects were frozen."""
    gc.unfreeze()  # a second freeze (the job process's router rebuilt): what the first froze may be garbage now
    gc.collect()
    gc.freeze()
    count = gc.get_freeze_count()
    log.debug("gc: %d objects frozen after start-up", count)
    return count


def install(app, config) -> None:
    """A serving process's settings on its app: the freeze once every start-up context has run (the router
    built, the caches warmed). aiohttp runs on_startup callbacks after the cleanup contexts, registered first."""
    if config.server.gc_freeze:
        async def _freeze(_app) -> None:
            freeze()
        app.on_startup.append(_freeze)
    first, second, third = config.server.gc_threshold0, config.server.gc_threshold1, config.server.gc_threshold2
    if first or second or third:
        async def _threshold(_app) -> None:
            now = gc.get_threshold()
            gc.set_threshold(first or now[0], second or now[1], third or now[2])
        app.on_startup.append(_threshold)
