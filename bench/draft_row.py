#!/usr/bin/env python3
"""A conversation row's write, as an optimistic batch makes it (the draft's JSON, then one executemany of 20 rows
and the commit), in thread CPU a row: the draft's JSON as orjson's UTF-8 bytes stored through CAST(? AS TEXT) (what
storage.conversations does since branch hot19) against the same text decoded to a str first and bound as one (before
it), alternated in one process on a scratch in-memory table.

    python bench/draft_row.py [--messages 18000] [--openids 1000] [--rounds 12]

The drafts are the short mix's own: a bench/pipeline.py service run (`--messages`, `--openids`) with every 20th
draft that conversations.put writes kept (a deep copy, its routing decision's JSON made once as on the writer)."""
from __future__ import annotations

import argparse
import copy
import sqlite3
import sys
import time

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import pipeline

import storage.conversations as conversations
from storage import jsontext


def capture(messages: int, openids: int) -> list[dict]:
    kept: list[dict] = []
    put = conversations.put

    def keeping(db, openid, flow, state, data, now, ttl):
        if keeping.n % 20 == 0:
            kept.append(copy.deepcopy(data))
        keeping.n += 1
        return put(db, openid, flow, state, data, now, ttl)
    keeping.n = 0
    conversations.put = keeping
    argv, sys.argv = sys.argv, [sys.argv[0], "--messages", str(messages), "--openids", str(openids),
                                "--repeat", "1", "--no-echo"]
    try:
        pipeline.main()
    finally:
        sys.argv, conversations.put = argv, put
    for data in kept:
        conversations.dumps(data)  # each routing decision's JSON made once, as on the writer
    return kept


def timed(drafts: list[dict], dumps, sql: str, con) -> float:
    c = time.thread_time()
    for i in range(0, len(drafts), 20):
        rows = [(f"o{(i + j) % 300}", "intake", "describe", dumps(d), 1.0, 2.0) for j, d in enumerate(drafts[i:i + 20])]
        con.execute("BEGIN")
        con.executemany(sql, rows)
        con.execute("COMMIT")
    return (time.thread_time() - c) / len(drafts) * 1e6


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--messages", type=int, default=18000)
    p.add_argument("--openids", type=int, default=1000)
    p.add_argument("--rounds", type=int, default=12)
    args = p.parse_args()
    drafts = capture(args.messages, args.openids)
    as_text = jsontext.values_encoder(conversations._json_dumps)  # the text form: orjson's bytes decoded
    text_sql = conversations._PUT.replace(jsontext.STORED_TEXT, "?")
    con = sqlite3.connect(":memory:", isolation_level=None)
    con.execute("CREATE TABLE conversations (openid TEXT PRIMARY KEY, flow TEXT, state TEXT, data TEXT, "
                "updated_at REAL, expires_at REAL, reminded_at REAL)")
    text, raw = [], []
    for r in range(args.rounds):  # the order turning, so neither form always runs first
        for form in (("text", "bytes") if r % 2 == 0 else ("bytes", "text")):
            if form == "text":
                text.append(timed(drafts, as_text, text_sql, con))
            else:
                raw.append(timed(drafts, conversations.dumps, conversations._PUT, con))
    text.sort()
    raw.sort()
    mid = len(text) // 2
    size = sum(len(conversations.dumps(d)) for d in drafts) / len(drafts)
    print(f"{len(drafts)} drafts of the short mix, {size:.0f} bytes of JSON each on average; a row's write "
          f"(JSON + executemany + commit), thread CPU, median of {args.rounds} rounds: as a str {text[mid]:.2f} µs, "
          f"as bytes {raw[mid]:.2f} µs -> bytes / str {raw[mid] / text[mid]:.3f} "
          f"({text[mid] - raw[mid]:.2f} µs a row)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
