#!/usr/bin/env python3
"""SQL statements per message on the writer, by kind, and the writer's conversation memory's hits and misses.

    python bench/statements.py [--mix short|routing] [--messages 2000]

bench/webhook.py's messages (same mixes, same pool of senders, four messages each on average) are fed to the
receiver's writer call, 50 in flight as in the server, with SQLite's trace callback counting every statement
(SQLite reports a statement again for each step of a trigger it fires: the repeats of a statement's text, one
after the other, are counted once). Literals are replaced by ? and N.
"""
from __future__ import annotations

import argparse
import asyncio
import collections
import random
import re
import shutil
import sys
import tempfile
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import webhook as wh  # (its config, mixes and sender pool)

from bot.app import DB, RECEIVER, create_app
from bot.config import load_config
from handlers.messages import Inbound
from tests.conftest import running


def _shape(sql: str) -> str:
    sql = re.sub(r"\bsp\d+", "spN", sql)
    sql = re.sub(r"'(?:[^']|'')*'", "?", sql)
    return re.sub(r"\b\d+(\.\d+)?\b", "N", sql)[:140]


async def run(mix: str, n: int) -> None:
    from bot.receiver import _Answer
    from storage import conversations
    tmp = Path(tempfile.mkdtemp(prefix="tingjian-statements-"))
    try:
        app = create_app(load_config(wh.write_config(tmp, 18099), env={}))
        async with running(app):
            db, receiver = app[DB], app[RECEIVER]
            rng = random.Random(1)
            pool = [f"o_bench{rng.getrandbits(80):020x}" for _ in range(max(1, n // 4))]
            messages = [Inbound(openid=pool[i % len(pool)], kind="text", text=wh.MIXES[mix](rng),
                                created_at=1_800_000_000, msg_id=str(wh.MSG_ID_BASE + i)) for i in range(n)]
            counts: collections.Counter = collections.Counter()
            last = [None]
            # the rows an optimistic batch writes at its end, one executemany per table (storage/db.py
            # _write_behind; older code has none): counted apart, as they run together in C
            behind, at_end = [False], collections.Counter()
            import storage.db as storage_db
            real_behind = getattr(storage_db, "_write_behind", None)
            if real_behind is not None:
                def write_behind(d):
                    behind[0] = True
                    try:
                        real_behind(d)
                    finally:
                        behind[0] = False
                storage_db._write_behind = write_behind

            def traced(sql: str) -> None:
                # SQLite reports a statement again for each step of a trigger it fires (the writer's memories
                # use TEMP triggers): the same text twice in a row is one statement
                if sql != last[0]:
                    counts.update([_shape(sql)])
                    if behind[0]:
                        at_end.update([_shape(sql)[:40]])
                last[0] = sql
            await db.run(lambda d: d.conn.set_trace_callback(traced))
            gate = asyncio.Semaphore(50)

            async def one(m: Inbound) -> None:
                async with gate:
                    await getattr(db, "run_redoable", db.run)(receiver._claim_and_handle, m.dedupe_key, m, _Answer(passive_ok=True), None, None)

            await asyncio.gather(*(one(m) for m in messages))
            await db.run(lambda d: d.conn.set_trace_callback(None))
            cache = await db.run(getattr(conversations, "cache_of", lambda d: None))  # (older code: none)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"statements per message ({mix} mix, {n} messages): {sum(counts.values()) / n:.2f}")
    if at_end:
        print(f"  of them rows written at the batch's end (executemany; storage/db.py _write_behind): "
              f"{sum(at_end.values()) / n:.2f} ({', '.join(f'{k / n:.2f} {s}' for s, k in at_end.most_common())})")
    for sql, k in counts.most_common(16):
        print(f"  {k / n:5.2f}  {sql}")
    if cache is not None:
        print(f"conversation memory: {cache.hits} hits, {cache.misses} misses (a new person's first message reads)")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--mix", choices=sorted(wh.MIXES), default="short")
    p.add_argument("--messages", type=int, default=2000)
    args = p.parse_args()
    asyncio.run(run(args.mix, args.messages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
