"""Prometheus metrics at /metrics.

With `serve --workers N` the parent points PROMETHEUS_MULTIPROC_DIR at a private folder before starting the
workers, so counters and histograms are summed over all workers whichever one answers the scrape. Outbox
counts are read from the database at scrape time (the same for every worker).
"""
from __future__ import annotations

import asyncio
import os
import sqlite3
import time
from contextlib import contextmanager

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily

FAST = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 4.5, 10)
SLOW = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

MESSAGES = Counter("tingjian_messages_total", "Webhook messages accepted, by kind (text, voice, event:subscribe …)",
                   ["kind"])
REJECTED = Counter("tingjian_webhook_rejected_total", "Webhook requests refused, by HTTP status", ["status"])
WEBHOOK_SECONDS = Histogram("tingjian_webhook_seconds", "Time to answer a webhook POST", buckets=FAST)
SWEEP_SECONDS = Histogram("tingjian_sweep_seconds", "Duration of the deadline sweep", buckets=SLOW)
DIGEST_SECONDS = Histogram("tingjian_digest_seconds", "Duration of the weekly digest job", buckets=SLOW)
LOCK_WAIT_SECONDS = Histogram("tingjian_write_lock_wait_seconds",
                              "Time a batch of writes waited while another connection held SQLite's write lock "
                              "(0 when granted at once)", buckets=FAST)


_MESSAGE_KINDS: dict[str, object] = {}


def message(kind: str) -> None:
    """Count one accepted message. The labelled child is looked up once per kind (labels() takes a lock and
    checks its arguments on every call: measurable at thousands of messages a second)."""
    child = _MESSAGE_KINDS.get(kind)
    if child is None:
        child = _MESSAGE_KINDS[kind] = MESSAGES.labels(kind)
    child.inc()


@contextmanager
def timed(histogram: Histogram):
    start = time.perf_counter()
    try:
        yield
    finally:
        histogram.observe(time.perf_counter() - start)


def _outbox_counts(path: str) -> dict[str, dict[str, int]]:
    """Outbox rows and media copies by status. Read-only, on its own connection: a scrape never queues behind
    the writer."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=5)
    try:
        return {table: {r[0]: r[1] for r in conn.execute(f"SELECT status, count(*) FROM {table} GROUP BY status")}
                for table in ("outbox", "media")}
    finally:
        conn.close()


class _Outbox:
    def __init__(self, counts: dict[str, dict[str, int]]):
        self.counts = counts

    def collect(self):
        family = GaugeMetricFamily("tingjian_outbox_messages", "Outbox rows by status (pending, failed …)",
                                   labels=["status"])
        outbox = self.counts["outbox"]
        for status in sorted({"pending", "sending", "sent", "failed", "waiting", *outbox}):
            family.add_metric([status], outbox.get(status, 0))
        yield family
        family = GaugeMetricFamily("tingjian_media_files", "Images and voice messages people sent, by the state of "
                                   "their local copy (pending, stored, expired, refused)", labels=["status"])
        media = self.counts["media"]
        for status in ("pending", "stored", "expired", "refused"):
            family.add_metric([status], media.get(status, 0))
        yield family


async def exposition(db_path: str) -> tuple[bytes, str]:
    """The text a scrape gets, and its content type."""
    counts = await asyncio.get_running_loop().run_in_executor(None, _outbox_counts, db_path)
    extra = CollectorRegistry()
    extra.register(_Outbox(counts))
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        from prometheus_client import REGISTRY as registry
    return generate_latest(registry) + generate_latest(extra), CONTENT_TYPE_LATEST


def prepare_multiprocess() -> None:
    """In the parent, before workers start: a fresh folder for the workers' shared metric files."""
    import shutil
    import tempfile
    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if folder:
        for name in os.listdir(folder):
            if name.endswith(".db"):
                os.remove(os.path.join(folder, name))
        return
    folder = tempfile.mkdtemp(prefix="tingjian-metrics-")
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    import atexit
    atexit.register(shutil.rmtree, folder, ignore_errors=True)
