"""audit22: the summary and 多久能处理 ask Desk.nobody_on_duty (who may act on the message it would file) before
showing a deadline. Times, in one run on the demo's database, the plan the summary already makes (Dispatcher.plan)
against the plan and the check together, for a unit with someone bound (the common case: one query) and with
nobody anywhere (the chain to the stand-ins); with `--scale FILE`, also the check's query alone on that file
(read-only: its users table holds every citizen).

    python bench/on_duty.py [--calls 5000] [--scale /work/scale-data/scale-1000000-v5.db]
"""
from __future__ import annotations

import argparse
import asyncio
import sqlite3
import tempfile
import time

import common  # noqa: F401  (this checkout on sys.path)


def best_of(f, calls: int) -> float:
    f()
    best = float("inf")
    for _ in range(5):
        c = time.process_time()
        for _ in range(calls):
            f()
        best = min(best, (time.process_time() - c) / calls * 1e6)
    return best


async def main(a) -> None:
    from aiohttp import web

    from bot.app import DB, DISPATCHER, SCHEDULER, SENDER, create_app
    from bot.demo import demo_config
    from handlers.dispatcher import _Services
    from storage import staff
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app(demo_config(port=20850, data_dir=tmp))
        runner = web.AppRunner(app)
        await runner.setup()
        app[SCHEDULER].pause()
        await app[SENDER].stop()
        d = app[DISPATCHER]

        def measure(db, label):
            s = _Services(d, db, "o_bench")
            plan = s.plan("fees", "jn-syxx", "complaint", {}, anonymous=True)
            old = best_of(lambda: s.plan("fees", "jn-syxx", "complaint", {}, anonymous=True), a.calls)
            new = best_of(lambda: (s.plan("fees", "jn-syxx", "complaint", {}, anonymous=True),
                                   s.nobody_on_duty(plan, "complaint")), a.calls)
            print(f"{label:34} plan {old:7.1f} µs | plan + nobody_on_duty {new:7.1f} µs | ratio {new / old:.2f}")
        await app[DB].run(measure, "someone bound (demo staff)")

        def nobody(db):  # rolled back: everyone unbound, then measured
            db.execute("SAVEPOINT b")
            for o in staff.list_staff(db):
                db.execute("UPDATE users SET role = 'citizen' WHERE openid = ?", [o["openid"]])
            try:
                measure(db, "nobody bound anywhere")
            finally:
                db.execute("ROLLBACK TO b")
                db.execute("RELEASE b")
        await app[DB].run(nobody)
        await runner.cleanup()
    if a.scale:
        db = sqlite3.connect(f"file:{a.scale}?mode=ro", uri=True)
        import sqlite_utils
        sdb = sqlite_utils.Database(db)
        unit = sdb.execute("SELECT unit_code FROM users WHERE role = 'handler' LIMIT 1").fetchone()[0]
        users = sdb.execute("SELECT count(*) FROM users").fetchone()[0]
        took = best_of(lambda: staff.of_unit(sdb, unit, ("handler",)), a.calls)
        print(f"scale ({users:,} users): staff.of_unit, the check's one query when someone is bound: {took:.1f} µs")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--calls", type=int, default=5000)
    p.add_argument("--scale")
    asyncio.run(main(p.parse_args()))
