#!/usr/bin/env python3
"""The media prune holds the write lock briefly however many media there are: a database with --tickets tickets
(each with one picture) and --stray media of no ticket, all older than the retention period, pruned batch by batch
as the hourly job does (bot.media.prune, 200 rows a write).

    python bench/media_prune.py [--tickets 100000] [--stray 100000]

Prints the time of each kind of batch (p50, max) and, as the reference measured on the same file, the time of a
plain DELETE of 200 media rows by their primary key (what any pruning write costs at least).
"""
from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
from bot.media import MediaStore, prune
from storage.db import connect
from storage.migrations import migrate

BATCH = 200


def build(db, tickets: int, stray: int, old: float) -> None:
    db.conn.execute("BEGIN")
    for i in range(tickets):
        media_id = f"t{i:09d}"
        attachments = json.dumps([{"kind": "image", "media_id": media_id, "url": None, "text": None}])
        db.execute("INSERT INTO tickets (number, openid, kind, category, unit_code, text, attachments, routing, "
                   "state, created_at) VALUES (?, ?, 'complaint', 'fees', NULL, '学校乱收费', ?, '{}', 'submitted', ?)",
                   [f"JY0001-{i:07d}", f"o{i % 20000}", attachments, old])
        db.execute("INSERT INTO media (media_id, openid, kind, received_at, next_try, status, sha256) "
                   "VALUES (?, ?, 'image', ?, ?, 'stored', ?)", [media_id, f"o{i % 20000}", old, old, f"{i:064x}"])
    for i in range(stray):
        db.execute("INSERT INTO media (media_id, openid, kind, received_at, next_try, status, sha256) "
                   "VALUES (?, ?, 'image', ?, ?, 'stored', ?)",
                   [f"s{i:09d}", f"o{i % 20000}", old + 1, old, f"{tickets + i:064x}"])
    db.conn.execute("COMMIT")


def timed(db, fn, *args) -> tuple[float, object]:
    start = time.perf_counter()
    db.conn.execute("BEGIN IMMEDIATE")
    out = fn(db, *args)
    db.conn.execute("COMMIT")
    return time.perf_counter() - start, out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--stray", type=int, default=100_000)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        db = connect(Path(tmp) / "bench.db")
        migrate(db)
        old = time.time() - 200 * 86400
        build(db, args.tickets, args.stray, old)
        store = MediaStore(Path(tmp) / "media")  # no files: what is timed is the database's part
        # Reference: a plain delete of BATCH rows by key, on a copy of the rows put back afterwards.
        ids = [r[0] for r in db.execute("SELECT media_id FROM media WHERE media_id LIKE 's%' LIMIT ?", [BATCH])]
        rows = db.execute(f"SELECT * FROM media WHERE media_id IN ({','.join('?' * len(ids))})", ids).fetchall()
        refs = []
        for _ in range(5):
            t, _ = timed(db, lambda d: d.execute(
                f"DELETE FROM media WHERE media_id IN ({','.join('?' * len(ids))})", ids))
            refs.append(t)
            db.conn.execute("BEGIN")
            db.conn.executemany(f"INSERT INTO media VALUES ({','.join('?' * len(rows[0]))})", rows)
            db.conn.execute("COMMIT")
        marking, deleting = [], []
        while True:
            t, dealt = timed(db, prune, store, time.time() - 90 * 86400, BATCH)
            (deleting if db.execute("SELECT count(*) FROM media WHERE kept = 1").fetchone()[0] >= args.tickets
             else marking).append(t)
            if dealt < BATCH:
                break
        left = db.execute("SELECT count(*), sum(kept) FROM media").fetchone()
        ref = statistics.median(refs)
        print(f"{args.tickets} tickets' media, {args.stray} stray; {len(marking) + len(deleting)} batches of {BATCH}")
        print(f"reference: DELETE of {BATCH} rows by key: {ref * 1000:.2f} ms")
        for name, times in (("marking a ticket's media kept", marking), ("deleting stray media", deleting)):
            if times:
                print(f"{name}: p50 {statistics.median(times) * 1000:.2f} ms ({statistics.median(times) / ref:.1f}x), "
                      f"max {max(times) * 1000:.2f} ms ({max(times) / ref:.1f}x), {len(times)} batches")
        print(f"left: {left[0]} rows, {left[1]} kept (a ticket's)")


if __name__ == "__main__":
    main()
