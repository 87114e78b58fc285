"""Screenshots of the public pages at phone and desktop widths, for a person to look at.

    .venv/bin/pip install playwright          # the Python package only: never `playwright install`
    python bench/public_screenshots.py --out /tmp/tingjian-shots

Starts the demo app (demo directory, service items and survey) on a temporary database filled with three months
of made-up tickets, ratings, praise, survey responses and a leader's comment, then opens /u/, a unit page, a
search, the bureau's page and the month's ranking in Debian's chromium (/usr/bin/chromium) at 390 and 1280 px,
and writes a full-page PNG of each.
"""
from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import random
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)

PAGES = {"directory": "/u/", "search": "/u/?q=江南&sort=satisfaction", "unit": "/u/jn-syxx",
         "kindergarten": "/u/jn-xgyey", "bureau": "/u/jyj"}
WIDTHS = (390, 1280)


def seed(db, now: float, tz) -> None:
    """Three months of made-up activity across the demo units (no real person's data)."""
    from storage import review, surveys, tickets
    rng = random.Random(7)
    units = [r[0] for r in db.execute("SELECT code FROM units WHERE kind IN ('school', 'kindergarten', 'office')")]
    for i in range(400):
        unit = rng.choice(units)
        created = now - rng.uniform(1, 90) * 86400
        kind = rng.choices(["complaint", "inquiry", "suggestion", "praise"], [50, 30, 12, 8])[0]
        t = tickets.create(db, openid=f"o_demo{i % 150}", kind=kind, category="fees", unit_code=unit,
                           school_code=unit, text="（示例留言）", attachments=[], contact_phone=None, anonymous=True,
                           routing={}, now=created, due_at=created + 7 * 86400, tz=tz,
                           accept_due_at=created + 86400)
        at = created + rng.uniform(0.1, 1.5) * 86400
        if at > now:
            continue
        t = tickets.transition(db, t, "accepted", "o_staff", at, "accept", accepted_by="o_staff", accepted_at=at)
        at += rng.uniform(0.5, 9) * 86400
        if at > now or rng.random() < 0.08:
            continue
        t = tickets.transition(db, t, "resolved", "o_staff", at, "resolve", resolved_at=at)
        at += rng.uniform(0.1, 2) * 86400
        if at > now or kind == "praise" or rng.random() < 0.3:
            continue
        score = rng.choices([1, 2, 3], [70, 20, 10])[0]
        tickets.transition(db, t, "closed", t["openid"], at, "rate", rating=score, rated_at=at, closed_at=at,
                           close_reason="rated")
    for i in range(12):
        r = surveys.begin(db, "school-2026", "jn-syxx", f"o_sv{i}", now - 86400, {})
        v = rng.choice([4, 5, 5, 3])
        surveys.submit(db, r["id"], {"attitude": v, "efficiency": rng.choice([3, 4, 5]), "fees": 5, "ethics": v,
                                     "overall": v, "role": 1, "comment": None}, now - 86400, False)
    month = dt.datetime.fromtimestamp(now, tz).strftime("%Y-%m")
    review.add_comment(db, "jn-syxx", month, "王局长", "家长来电当日回复，校长信箱每周开箱，做法值得推广。", True, now)


async def main_async(out: Path, port: int) -> list[Path]:
    from aiohttp import web
    from playwright.async_api import async_playwright

    from bot.app import CLOCK, CONFIG, DB, create_app
    from bot.demo import demo_config
    from bot.public import ranking_link
    from handlers.review import month_of
    with tempfile.TemporaryDirectory() as tmp:
        config = demo_config(port=port, data_dir=tmp)
        app = create_app(config)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        shots = []
        try:
            now = app[CLOCK].now()
            from zoneinfo import ZoneInfo
            await app[DB].run(seed, now, ZoneInfo(config.bot.timezone))
            from bot.public import CACHE
            app[CACHE].snap = None  # the figures warmed at start predate the seed
            app[CACHE].pages.clear()
            ranking = urlsplit(ranking_link(app[CONFIG], month_of(now, config.bot.timezone)))
            pages = {**PAGES, "ranking": f"{ranking.path}?{ranking.query}"}
            async with async_playwright() as pw:
                browser = await pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
                for width in WIDTHS:
                    page = await browser.new_page(viewport={"width": width, "height": 800},
                                                  device_scale_factor=1)
                    for name, path in pages.items():
                        resp = await page.goto(f"http://127.0.0.1:{port}{path}")
                        assert resp and resp.status == 200, (path, resp and resp.status)
                        file = out / f"{name}-{width}.png"
                        await page.screenshot(path=str(file), full_page=True)
                        shots.append(file)
                    await page.close()
                await browser.close()
        finally:
            await runner.cleanup()
    return shots


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=Path("/tmp/tingjian-shots"))
    p.add_argument("--port", type=int, default=18930)
    args = p.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    for file in asyncio.run(main_async(args.out, args.port)):
        print(file)
    return 0


if __name__ == "__main__":
    sys.exit(main())
