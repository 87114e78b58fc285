"""The public pages (/u/, /u/<code>, the bureau's page) on bench/scale.py's databases: per-page times over HTTP.

    python bench/public_pages.py                       # 100k tickets (built once by bench/scale.py, cached)
    python bench/public_pages.py --sizes 100000 1000000 --repeat 20

For each size, on a copy of the cached database: the time to build the figures snapshot (one read of the last
90 days; done at start and then in the background when older than [public] cache_seconds), and per page the
median and p95 of --repeat requests with the page cache emptied before each (the figures warm: what a visitor
waits for when the page has expired), and with the page cached; the signed month ranking (/review/2026-11) the
same way; and `tingjian review`'s read for a quarter and a year. /healthz in the same run is the reference.
"""
from __future__ import annotations

import argparse
import datetime as dt
import asyncio
import os
import statistics
import sys
import time
from pathlib import Path

import common  # (bench/common.py: this checkout on sys.path, the scale databases' copies)

from bench.scale import NOW, TZ, OffsetClock, cached  # noqa: E402

PAGES = ["/u/", "/u/?q=实验&sort=satisfaction", "/u/?district=江南区&kind=school", "/u/jn-syxx", "/u/jyj-sfc",
         "/u/jyj"]


def ms(samples: list[float]) -> tuple[float, float]:
    s = sorted(samples)
    return statistics.median(s) * 1000, s[min(len(s) - 1, int(len(s) * 0.95))] * 1000


async def measure(path: Path, repeat: int, port: int) -> list[tuple[str, float, float]]:
    import aiohttp
    from aiohttp import web
    from bot.app import CLOCK, DB, DISPATCHER, SCHEDULER, create_app
    from bot.config import load_config
    from bot.demo import DEMO_SERVICES, DEMO_SURVEYS
    from bot.public import CACHE
    from handlers import public
    from handlers.clock import Clock
    config = load_config(None, env={}, overrides={
        "server": {"host": "127.0.0.1", "port": port, "link_secret": "bench-link-secret-0123456789"},
        "wechat": {"api_base": "http://127.0.0.1:9"},
        "storage": {"path": str(path)},
        "directory": {"services": str(DEMO_SERVICES)},
        "campaign": {"surveys": str(DEMO_SURVEYS), "min_responses": 5},
        "public": {"cache_seconds": 600}})
    clock = type("BenchClock", (OffsetClock, Clock), {})()
    app = create_app(config, clock=clock)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    app[SCHEDULER].pause()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    rows = []
    try:
        db, d = app[DB], app[DISPATCHER]
        samples = []
        for _ in range(max(3, repeat // 4)):
            t = time.perf_counter()
            await db.read(public.snapshot, app[CLOCK].now(), d.calendar.tz, d.campaign.p.surveys, 5)
            samples.append(time.perf_counter() - t)
        rows.append(("figures snapshot (background; 90 days, every unit)", *ms(samples)))
        cache = app[CACHE]
        await cache.snapshot(app)
        async with aiohttp.ClientSession(f"http://127.0.0.1:{port}") as session:
            async def get(url: str) -> float:
                t = time.perf_counter()
                async with session.get(url) as resp:
                    assert resp.status == 200, (url, resp.status)
                    await resp.read()
                return time.perf_counter() - t
            for _ in range(3):
                await get("/healthz")
            rows.append(("/healthz (reference)", *ms([await get("/healthz") for _ in range(repeat)])))
            from urllib.parse import urlsplit
            from bot.public import ranking_link
            ranking = urlsplit(ranking_link(config, "2026-11"))
            for url in [*PAGES, f"{ranking.path}?{ranking.query}"]:
                cold = []
                for _ in range(repeat):
                    cache.pages.clear()
                    cold.append(await get(url))
                name = url.split("?sig=")[0]
                rows.append((f"{name}  (page built)", *ms(cold)))
                rows.append((f"{name}  (page cached)", *ms([await get(url) for _ in range(repeat)])))
            # The workbench's edits: a cached page asks the database whether units or service items were edited
            # (at most once a second; here on every request, the worst case), and a page after an edit.
            import bot.public
            bot.public.EDIT_CHECK_SECONDS, kept = 0, bot.public.EDIT_CHECK_SECONDS
            rows.append(("/u/jn-syxx  (cached, edit check every request)",
                         *ms([await get("/u/jn-syxx") for _ in range(repeat)])))
            from storage import services
            after = []
            for i in range(repeat):
                await db.run(services.set_unit_items, "jn-syxx", [{"name": f"事项{i}"}], app[CLOCK].now())
                after.append(await get("/u/jn-syxx"))
            rows.append(("/u/jn-syxx  (first request after an edit)", *ms(after)))
            bot.public.EDIT_CHECK_SECONDS = kept
        from handlers import review
        for period in ("2026-Q4", "2026"):  # `tingjian review --period …` (the CLI's read)
            samples = []
            for _ in range(3):
                t = time.perf_counter()
                await db.read(review.build, period, d.calendar.tz, config.review.weights(), d.campaign.p.surveys,
                              5, app[CLOCK].now())
                samples.append(time.perf_counter() - t)
            rows.append((f"review.build {period} (tingjian review)", *ms(samples)))
    finally:
        await runner.cleanup()
    return rows


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=[100_000])
    p.add_argument("--data", type=Path, default=common.SCALE_DATA)
    p.add_argument("--repeat", type=int, default=20)
    p.add_argument("--port", type=int, default=18910)
    args = p.parse_args()
    import logging
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("bot.outbox").setLevel(logging.ERROR)
    for n in args.sizes:
        built = cached(args.data, n)
        work = args.data / f"public-{n}-{os.getpid()}.db"
        common.working_copy(built, work)  # this code's migrations, once: not part of the figures
        try:
            rows = asyncio.run(measure(work, args.repeat, args.port))
        finally:
            common.remove_db(work)
        ref = next(m for name, m, _ in rows if name.startswith("/healthz"))
        print(f"\n{n:,} tickets (now = {dt.datetime.fromtimestamp(NOW, TZ):%Y-%m-%d %H:%M} {TZ}), "
              f"median and p95 of {args.repeat}:")
        print(f"| {'what':<52} | median ms | p95 ms | ÷ /healthz |")
        print(f"|{'-' * 54}|-----------|--------|------------|")
        for name, med, p95 in rows:
            print(f"| {name:<52} | {med:9.1f} | {p95:6.1f} | {med / ref:10.1f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
