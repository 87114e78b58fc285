"""Resident memory of one `tingjian serve` worker after start-up and a few messages (the webhook's own needs:
jieba's tokenizer and the routing rules; not jieba.analyse or posseg, which only the weekly digest's child
process loads).

    python bench/rss.py [--port 18550]
"""
from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import webhook as wh


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, default=18550)
    args = p.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="tingjian-rss-"))
    try:
        config = wh.write_config(tmp, args.port)
        proc, _ = wh.start_server(config, 1, args.port, tmp)
        try:
            start = rss_mb(proc.pid)
            asyncio.run(wh.check_sample(args.port, 20))
            after = rss_mb(proc.pid)
            print(f"RSS of one worker: {start:.0f} MB after start-up, {after:.0f} MB after 20 messages")
        finally:
            wh.stop_server(proc)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
