#!/usr/bin/env python3
"""Where one worker's memory is: tracemalloc snapshots of a `tingjian serve` at start and after a webhook load.

    python bench/rss_where.py --port P [--duration 60] [--mix routing] [--openids 1000] [--messages 60000]
                              [--top 15] [--set SECTION.KEY=VALUE ...]

The server is bench/webhook.py's (its config, requests and wrk), started with bench/memprobe/ on its PYTHONPATH:
tracemalloc runs from the process's first import (one frame a block), so start-up's allocations are named too.
Printed: RSS, what Python allocated (traced), tracemalloc's own, and the rest of the anonymous memory (C libraries'
own allocations: SQLite's page caches, the tries and automata, OpenCC; and malloc's free space, i.e. fragmentation),
each at start and after the load; Python's allocations by package/folder at start; what the load added, by file
and by line. tracemalloc slows the server a few times, so fewer messages are answered than in webhook.py's runs:
the message count is printed beside the growth."""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections import defaultdict
from pathlib import Path

import common  # noqa: F401  (this checkout on sys.path)
import webhook as wh
from common import ROOT


def dump(mem: Path, n: int, pid: int) -> tuple[tracemalloc.Snapshot, dict]:
    Path(f"{mem}.dump").touch()
    deadline = time.monotonic() + 300
    while not Path(f"{mem}.{n}.snap").exists():
        if time.monotonic() > deadline:
            raise SystemExit("the server wrote no snapshot (is bench/memprobe on its PYTHONPATH?)")
        time.sleep(0.3)
    rss_kb, anon_kb, traced, overhead = (int(x) for x in Path(f"{mem}.{n}.rss").read_text().split())
    return tracemalloc.Snapshot.load(f"{mem}.{n}.snap"), {
        "rss": rss_kb / 1024, "traced": traced / 2**20, "tracemalloc": overhead / 2**20,
        "anon": anon_kb / 1024, "file": (rss_kb - anon_kb) / 1024}


def where(filename: str, file: bool = False) -> str:
    """A package (site-packages/<name>), this checkout's folder (its file with `file`), or the standard library's
    module. The checkout is found under PYTHONPATH's old trees too (the A/B's `git archive` of main)."""
    parts = Path(filename).parts
    if "site-packages" in parts:
        return parts[parts.index("site-packages") + 1].split(".")[0]
    for mine in ("handlers", "storage", "bot"):
        if mine in parts:
            rel = Path(*parts[parts.index(mine):])
            return str(rel) if file or len(rel.parts) <= 2 else "/".join(rel.parts[:2])
    try:
        return str(Path(filename).resolve().relative_to(ROOT))
    except ValueError:
        return "stdlib " + Path(filename).stem if filename.startswith(sys.prefix) or "python3" in filename \
            else filename


def by_place(snap: tracemalloc.Snapshot) -> dict[str, int]:
    out: dict[str, int] = defaultdict(int)
    for stat in snap.statistics("filename"):
        out[where(stat.traceback[0].filename)] += stat.size
    return out


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=18560)
    p.add_argument("--duration", type=int, default=60)
    p.add_argument("--mix", choices=sorted(wh.MIXES), default="routing")
    p.add_argument("--openids", type=int, default=1000)
    p.add_argument("--messages", type=int, default=60000)
    p.add_argument("--top", type=int, default=15)
    p.add_argument("--set", action="append", default=[], metavar="SECTION.KEY=VALUE")
    args = p.parse_args()
    settings = [(n.split(".", 1)[0], n.split(".", 1)[1], v) for n, _, v in (s.partition("=") for s in args.set)]
    tmp = Path(tempfile.mkdtemp(prefix="tingjian-where-"))
    mem = tmp / "mem"
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "BENCH_MEM_FILE")}
    proc = None
    try:
        wh.build_requests(args.messages, args.openids, args.port, tmp, wh.WRK_THREADS, mix=args.mix)
        os.environ["BENCH_MEM_FILE"] = str(mem)
        os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT / "bench" / "memprobe")] + [
            x for x in (saved["PYTHONPATH"] or "").split(os.pathsep) if x])
        try:
            proc, _ = wh.start_server(wh.write_config(tmp, args.port, settings), 1, args.port, tmp)
        finally:
            for k, v in saved.items():
                os.environ.pop(k, None) if v is None else os.environ.__setitem__(k, v)
        asyncio.run(wh.check_sample(args.port))
        start, s0 = dump(mem, 1, proc.pid)
        result, _, _ = wh.run_wrk(args.port, 50, args.duration, tmp)
        end, s1 = dump(mem, 2, proc.pid)
    finally:
        if proc is not None:
            wh.stop_server(proc)
    answered = int(result.get("ok2xx", 0))
    print(f"\nOne worker under tracemalloc, {args.mix} mix, {args.openids} senders, {args.duration} s of load "
          f"({answered:,} answered)")
    print(f"  {'':44s} {'at start':>10s} {'after':>10s} {'grown':>8s}")
    rows = [("RSS", "rss"), ("file-backed (code, mapped files)", "file"), ("anonymous", "anon"),
            ("  Python's allocations (traced)", "traced"), ("  tracemalloc's own bookkeeping", "tracemalloc")]
    for label, key in rows:
        print(f"  {label:44s} {s0[key]:9.1f}M {s1[key]:9.1f}M {s1[key] - s0[key]:+7.1f}M")
    rest0 = s0["anon"] - s0["traced"] - s0["tracemalloc"]
    rest1 = s1["anon"] - s1["traced"] - s1["tracemalloc"]
    print(f"  {'  the rest: C allocations, malloc free space':44s} {rest0:9.1f}M {rest1:9.1f}M {rest1 - rest0:+7.1f}M")
    print("\n  Python's allocations at start, by package or folder (top %d):" % args.top)
    places0, places1 = by_place(start), by_place(end)
    for place, size in sorted(places0.items(), key=lambda kv: -kv[1])[:args.top]:
        print(f"    {place:50s} {size / 2**20:7.1f} MB   after {places1.get(place, 0) / 2**20:7.1f} MB")
    print("\n  What the load added, by file (top %d):" % args.top)
    for stat in end.compare_to(start, "filename")[:args.top]:
        print(f"    {where(stat.traceback[0].filename, file=True):50s} {stat.size_diff / 2**20:+7.2f} MB  "
              f"({stat.count_diff:+,} blocks)")
    print("\n  ... by line (top %d):" % args.top)
    for stat in end.compare_to(start, "lineno")[:args.top]:
        f = stat.traceback[0]
        print(f"    {where(f.filename, file=True) + ':' + str(f.lineno):50s} {stat.size_diff / 2**20:+7.2f} MB  "
              f"({stat.count_diff:+,} blocks)")
    shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
