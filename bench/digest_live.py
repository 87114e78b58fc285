"""The digest page built live (no digest stored for the week asked: this week so far, or a week the job has not
reached) as CPU of the process: handlers.digest.build + the page's render (bot.web.render_html) for the bureau
and one unit, for the week before bench/scale.py's "now". Each sample is a fresh process of one tree (`--tree`,
e.g. main via `git archive main`) and this checkout, alternated; the ratio is this checkout's CPU to the other
tree's in the same run. The database is read-only (immutable=1).

    python bench/digest_live.py --prepare /work/scale-data/scale-1000000-v4-m058.db /tmp/x/live-1m.db
    python bench/digest_live.py --db /tmp/x/live-1m.db --tree /tmp/x/before [--rounds 3 --pages 5]

--prepare copies a built file, applies this checkout's migrations and stores every ticket's hot-topic terms of
the last TERMS_DAYS as the service's minute job leaves them (bot/scheduler.py topic_terms: storage.tickets
terms_todo / forget_terms / store_terms with handlers.topics.terms_of and the router's tokenizer); the built
files have none. The copy is ~3 GB at 1M: delete it when done.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _router(db):
    from handlers.routing import Router
    from storage import directory
    return Router.from_toml(None, [(s["code"], s["name"], ()) for s in directory.schools(db)])


def prepare(src: str, dst: str) -> None:
    import common  # bench/common.py
    import sqlite_utils
    from bench.scale import NOW
    from bot.scheduler import TERMS_BATCH, TERMS_DAYS, TERMS_FORGET_BATCH
    from handlers import topics
    from storage import tickets
    t = time.perf_counter()
    common.working_copy(Path(src), Path(dst))
    db = sqlite_utils.Database(dst)
    router = _router(db)
    version = topics.cut_version(router.tokenizer)
    while tickets.terms_cut(db) != version:
        with db.conn:
            tickets.forget_terms(db, version, TERMS_FORGET_BATCH)
    n = 0
    while rows := tickets.terms_todo(db, NOW - TERMS_DAYS * 86400, TERMS_BATCH * 10):
        texts_ = [x for _, x in rows if x is not None]
        it = iter(topics.terms_of(texts_, router.tokenizer))
        with db.conn:
            n += tickets.store_terms(db, [(i, next(it) if x is not None else []) for i, x in rows])
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    print(f"{dst}: {n:,} tickets' terms stored in {time.perf_counter() - t:.0f} s")


def once(path: str, pages: int) -> dict:
    import sqlite3

    import sqlite_utils
    from bench.scale import NOW, TZ
    from bot.web import render_html
    from handlers import digest
    db = sqlite_utils.Database(sqlite3.connect(f"file:{path}?immutable=1", uri=True))
    router = _router(db)
    week = digest.previous_week(digest.week_of(NOW, TZ))
    start, end = digest.bounds(week, TZ)
    week_tickets = db.execute("SELECT count(*) FROM tickets WHERE created_at >= ? AND created_at < ?",
                              [start, end]).fetchone()[0]
    out = {"tickets": db.execute("SELECT max(id) FROM tickets").fetchone()[0], "week": week_tickets}
    for scope in ("bureau", "jyj-sfc"):
        render_html(digest.build(db, week, NOW, TZ, router.tokenizer, scope), TZ)  # imports, jieba's tag table
        samples = []
        for _ in range(pages):
            c = time.process_time()
            html = render_html(digest.build(db, week, NOW, TZ, router.tokenizer, scope), TZ)
            samples.append((time.process_time() - c) * 1000)
        out[scope] = statistics.median(samples)
        out[scope + "_topics"] = digest.build(db, week, NOW, TZ, router.tokenizer, scope).topics
        assert "热点" in html or not out[scope + "_topics"]
    # the terms job's unit of work (bot/scheduler.py topic_terms: TERMS_BATCH texts a call of topics.terms_of, the
    # minute's new tickets or a batch of the backlog after an upgrade), the week's first texts
    from bot.scheduler import TERMS_BATCH
    from handlers import topics
    texts_ = [r[0] or "" for r in db.execute("SELECT text FROM tickets WHERE created_at >= ? AND created_at < ? "
                                             "ORDER BY id LIMIT ?", [start, end, TERMS_BATCH])]
    samples = []
    for _ in range(pages):
        c = time.process_time()
        topics.terms_of(texts_, router.tokenizer)
        samples.append((time.process_time() - c) * 1000)
    out["terms_batch"] = statistics.median(samples)
    assert Path(digest.__file__).is_relative_to(os.environ.get("PYTHONPATH") or ROOT), digest.__file__
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db")
    ap.add_argument("--tree", help="the other checkout (the reference)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--pages", type=int, default=5, help="pages built per process (the median is its figure)")
    ap.add_argument("--prepare", nargs=2, metavar=("BUILT", "COPY"))
    ap.add_argument("--once", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.prepare:
        prepare(*args.prepare)
        return
    if args.once:
        print(json.dumps(once(args.db, args.pages), ensure_ascii=False))
        return
    trees = [("reference", Path(args.tree))] if args.tree else []
    samples: dict[str, list[dict]] = {label: [] for label, _ in trees + [("this", ROOT)]}
    for i in range(args.rounds):
        for label, tree in trees + [("this", ROOT)]:
            env = {**os.environ, "PYTHONPATH": str(tree)}
            out = subprocess.run([sys.executable, __file__, "--once", "--db", args.db, "--pages", str(args.pages)],
                                 cwd=tree, env=env, check=True, capture_output=True, text=True).stdout
            got = json.loads(out.strip().splitlines()[-1])
            samples[label].append(got)
            print(f"  {i + 1} {label:9} bureau {got['bureau']:7.1f} ms  jyj-sfc {got['jyj-sfc']:7.1f} ms CPU a page"
                  f"  terms job batch {got['terms_batch']:6.1f} ms"
                  f"  ({got['week']:,} of {got['tickets']:,} tickets in the week)  load {os.getloadavg()[0]:.1f}",
                  flush=True)
    for label, got in samples.items():
        print(f"{label}: median CPU a page: bureau {statistics.median(g['bureau'] for g in got):.1f} ms, "
              f"jyj-sfc {statistics.median(g['jyj-sfc'] for g in got):.1f} ms; the terms job's batch of "
              f"TERMS_BATCH texts: {statistics.median(g['terms_batch'] for g in got):.1f} ms")
    if trees:
        ref, this = samples["reference"], samples["this"]
        for scope in ("bureau", "jyj-sfc", "terms_batch"):
            r = statistics.median(g[scope] for g in this) / statistics.median(g[scope] for g in ref)
            same = all(a.get(scope + "_topics") == b.get(scope + "_topics") for a in ref for b in this)
            print(f"{scope}: this/reference {r:.2f}; topics identical: {same}")


if __name__ == "__main__":
    main()
