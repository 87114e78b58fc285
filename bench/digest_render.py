"""What opening a stored digest page costs since pages are stored as data and rendered with the current template
(branch bureau9, m054), on bench/scale.py's million-ticket database: the bureau's and one school's digest of a
week, built once, then (a) the old way, a stored page's HTML read back (zlib), the reference, and (b) the data read
back and rendered (json + handlers.digest.from_data + bot.web.render_html), alternated. A page is kept in memory
for a minute after (bot/web PAGE_TTL_SECONDS): this is the cost of one load a minute at most per week and scope.

    python bench/digest_render.py --db COPY_OF_1M_MIGRATED [--repeat 7]

Reads only (the packed pages are kept in memory, not written).
"""
from __future__ import annotations

import argparse
import json
import sqlite3
import statistics
import sys
import time
import zlib

import sqlite_utils

import common  # noqa: F401  (this checkout on sys.path)
from bench.scale import NOW, TZ
from bot.web import render_html
from handlers import digest
from storage import digest_pages


def run(path: str, repeat: int) -> None:
    db = sqlite_utils.Database(sqlite3.connect(f"file:{path}?immutable=1", uri=True))
    week = digest.previous_week(digest.week_of(NOW, TZ))
    t = time.perf_counter()
    built = digest.build_all(db, week, NOW, TZ, ["bureau", "s001"])
    print(f"{path}: {week}, both scopes built in {time.perf_counter() - t:.1f} s (the weekly job's part)\n")
    for scope, d in built.items():
        html = zlib.compress(render_html(d, TZ).encode(), 6)
        data = digest_pages.pack(digest.to_data(d))
        old, new = [], []
        for i in range(repeat + 1):
            for out, fn in ((old, lambda: zlib.decompress(html)),
                            (new, lambda: render_html(digest.from_data(json.loads(zlib.decompress(data))),
                                                      TZ).encode())):
                s = time.perf_counter()
                page = fn()
                if i:
                    out.append((time.perf_counter() - s) * 1000)
        a, b = statistics.median(old), statistics.median(new)
        print(f"  {scope:7} {len(d.units):4} units, {len(d.overdue_now):6} overdue: stored {len(data):8,} B "
              f"(HTML was {len(html):8,} B); page {len(page):9,} B; HTML read {a:6.2f} ms, data + render "
              f"{b:6.2f} ms, ratio {b / a:6.1f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--db", required=True)
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    run(args.db, args.repeat)
    sys.exit(0)
