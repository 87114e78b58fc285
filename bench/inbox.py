"""Workbench query timings at scale: the inbox with each filter, search, the dashboard and a 10,000-ticket export,
on the databases of bench/scale.py (10k, 100k, 1M tickets over one to ten years, about 200 units).

    .venv/bin/python bench/inbox.py                          # 10k, 100k and 1M
    .venv/bin/python bench/inbox.py --sizes 100000 --repeat 3

The scale databases are built once by bench/scale.py and cached in --data (never changed here). This script
derives its own copy of each once: the code's migrations applied, the search index filled in bulk (what the
background backfill does, with each distinct text segmented once), ANALYZE; the copy is named after the
migrations, so a new migration makes a new copy. Every query then runs on a read-only connection, as the pages
do (they run on the reader threads, never on the writer).

Prints the median of --repeat runs per query in milliseconds, one column per size, and the plans that scan
`tickets`. Targets (issue 12, at 1M tickets): inbox with any filter <= 100 ms, search <= 200 ms, dashboard
<= 300 ms, export of 10,000 tickets <= 5 s.
"""
from __future__ import annotations

import argparse
import hashlib
import io
import os
import re
import shutil
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

import common  # (bench/common.py: this checkout on sys.path, the scale databases' folder)
import scale  # (bench/scale.py: the cached databases)
from handlers import dashboard
from storage import inbox, search
from storage.migrations import migrations as registry

TZ = ZoneInfo("Asia/Shanghai")
NOW = scale.NOW


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


def prepared(data: Path, n: int) -> Path:
    """The scale database for n tickets, migrated and search-indexed: derived once from the cached build."""
    built = scale.cached(data, n)
    key = hashlib.sha1(" ".join(m.name for m in registry._migrations).encode()).hexdigest()[:8]
    path = data / f"inbox-{n}-v{scale.BUILD_VERSION}-{key}.db"
    if path.exists():
        with sqlite3.connect(path, isolation_level=None) as conn:
            _terms(conn)  # emptied by hand to measure without them, or filled by an older version
        return path
    tmp = data / f"{path.name}.building-{os.getpid()}"
    t0 = time.perf_counter()
    older = sorted(data.glob(f"inbox-{n}-v{scale.BUILD_VERSION}-*.db"))
    if older:  # a copy made for fewer migrations: brought forward (copying 2 GB again takes minutes)
        older[-1].rename(tmp)
        for extra in older[:-1]:
            extra.unlink()
    else:
        shutil.copyfile(built, tmp)
    os.chmod(tmp, 0o600)  # as the service creates its files
    from storage.db import Database
    t1 = time.perf_counter()
    Database(tmp).start().close()  # the code's migrations
    log(f"  {n:,}: copied in {t1 - t0:.0f} s, migrations {time.perf_counter() - t1:.1f} s")
    conn = sqlite3.connect(tmp, isolation_level=None)
    _terms(conn)
    if conn.execute("SELECT 1 FROM tickets_fts LIMIT 1").fetchone() is not None:
        conn.execute("ANALYZE")
        conn.close()
        tmp.rename(path)
        return path
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    memo: dict[str, str] = {}
    rows = conn.execute("SELECT id, text, coalesce(resolution, '') FROM tickets ORDER BY id").fetchall()
    for i, text, resolution in rows:
        doc = f"{text} {resolution}"
        words = memo.get(doc)
        if words is None:
            words = memo[doc] = search.words_for_index(doc)
        conn.execute("INSERT OR REPLACE INTO tickets_fts (rowid, words) VALUES (?, ?)", [i, words])
    conn.execute("DELETE FROM search_backfill")
    conn.execute("COMMIT")
    conn.execute("ANALYZE")
    conn.execute("PRAGMA journal_mode=WAL")
    conn.close()
    tmp.rename(path)
    log(f"  {n:,}: search index of {len(rows):,} tickets ({len(memo):,} distinct texts), "
        f"{time.perf_counter() - t0:.0f} s in all: {path}")
    return path


def _terms(conn) -> None:
    """What the topic_terms job (bot/scheduler.py) does after an upgrade: the last TERMS_DAYS of tickets cut into
    hot-topic terms (here each distinct text once)."""
    from bot.scheduler import TERMS_DAYS
    from handlers import topics
    if conn.execute("SELECT 1 FROM ticket_terms LIMIT 1").fetchone() is not None:
        return
    t0 = time.perf_counter()
    rows = conn.execute("SELECT id, text FROM tickets WHERE created_at >= ?", [NOW - TERMS_DAYS * 86400]).fetchall()
    texts = sorted({t for _, t in rows})
    memo = dict(zip(texts, (" ".join(t) for t in topics.terms_of(texts))))
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO ticket_terms (ticket_id, terms) VALUES (?, ?)", [(i, memo[t]) for i, t in rows])
    conn.execute("COMMIT")
    log(f"  hot-topic terms of {len(rows):,} tickets ({len(texts):,} distinct texts) in "
        f"{time.perf_counter() - t0:.0f} s")


def timed(fn, runs: int) -> float:
    fn()  # warm: the first run reads the pages from disk into the cache
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def reference() -> None:
    """A fixed piece of work (SQLite sorting 200,000 rows in memory and Python counting them), timed in the same run:
    the machine is shared, so the figures are to be read against it."""
    conn = sqlite3.connect(":memory:")
    rows = conn.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200000) "
                        "SELECT i % 997, i FROM n ORDER BY 1, 2").fetchall()
    sum(1 for a, b in rows if a < b)
    conn.close()


def measure(path: Path, repeat: int) -> tuple[dict[str, float], list[str]]:
    import sqlite_utils
    from storage.db import connect_readonly
    db = connect_readonly(path)
    conn = db.conn
    children = [r[0] for r in conn.execute("SELECT code FROM units WHERE parent = 'jn-jyj' ORDER BY code")]
    school = conn.execute("SELECT school_code FROM tickets INDEXED BY tickets_school_due WHERE school_code IS NOT NULL "
                          "GROUP BY school_code ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    unit_scope = (["jyj-sfc"], False)
    district = (["jn-jyj", *children], False)
    duty = (["jyj-bgs"], True)
    everyone = (None, False)
    F = inbox.Filters
    month_ago = NOW - 30 * 86400
    cases = [
        ("handler: open, by deadline", unit_scope, F()),
        ("handler: all states", unit_scope, F(state="all")),
        ("handler: all states, newest, page 10", unit_scope, F(state="all", sort="new")),
        ("handler: praise (all states)", unit_scope, F(state="all", kind="praise")),
        ("handler: withdrawn praise", unit_scope, F(state="withdrawn", kind="praise")),
        ("supervisor: district + its schools", district, F()),
        ("supervisor: all states, one school", district, F(state="all", unit=children[0])),
        ("duty office (with 代收)", duty, F()),
        ("leader: all open", everyone, F()),
        ("leader: overdue", everyone, F(overdue=True)),
        ("leader: due within 3 days", everyone, F(due_days=3)),
        ("leader: category (all states)", everyone, F(state="all", category="fees")),
        ("leader: kind (all states)", everyone, F(state="all", kind="suggestion")),
        ("leader: category + school (all states)", everyone, F(state="all", category="burden", school=school)),
        ("leader: rare kind + category (all states)", everyone, F(state="all", kind="praise", category="exams")),
        ("leader: a combination nothing matches", everyone, F(state="all", kind="praise", category="out_of_scope")),
        ("leader: kind + category, done, newest", everyone, F(state="done", kind="inquiry", category="safety",
                                                             sort="new")),
        ("leader: school, open", everyone, F(school=school)),
        ("leader: one month, newest", everyone,
         F(state="all", created_from=month_ago - 30 * 86400, created_to=month_ago, sort="new")),
        ("leader: done, category, a month", everyone,
         F(state="done", category="fees", created_from=month_ago - 30 * 86400, created_to=month_ago)),
        ("leader: 代收", everyone, F(flags=("unattended",))),
        ("leader: 复核", everyone, F(state="all", flags=("review",))),
        ("leader: all states, page 50", everyone, F(state="all")),
        ("search 资料费 (leader, all states)", everyone, F(state="all", q="资料费")),
        ("search 食堂 (leader, open)", everyone, F(q="食堂")),
        ("search 补课 (handler, all states)", unit_scope, F(state="all", q="补课")),
        ("search 收费 + category (leader)", everyone, F(state="all", q="收费", category="fees")),
    ]
    out: dict[str, float] = {"reference (fixed work, see reference())": timed(reference, repeat)}
    for name, scope, f in cases:
        number = 50 if "page 50" in name else 10 if "page 10" in name else 1
        out[name] = timed(lambda: inbox.page(db, scope, f, NOW, number, 20), repeat)
    units = {r["code"]: r for r in db.query("SELECT * FROM units")}
    for kind in ("week", "month"):  # the last whole week and month before NOW (Monday 30 Nov 2026)
        p = dashboard.previous(dashboard.period_of(kind, NOW, TZ), TZ) if kind == "week" else \
            dashboard.period_of(kind, NOW, TZ)
        out[f"dashboard: bureau, {kind}"] = timed(
            lambda: dashboard.read(db, units, None, p, NOW, TZ, "全局"), repeat)
        out[f"dashboard: district, {kind}"] = timed(
            lambda: dashboard.read(db, units, set(district[0]), p, NOW, TZ, "区"), repeat)
        out[f"dashboard: one office, {kind}"] = timed(
            lambda: dashboard.read(db, units, {"jyj-sfc"}, p, NOW, TZ, "处"), repeat)

    def export():  # what the CSV export does per batch (bot/web/exports.py), minus the network
        from bot.web import exports
        buf = io.BytesIO()
        count, after = 0, 0
        while count < 10_000:
            rows = inbox.batch(db, everyone, F(state="all"), NOW, after, exports.BATCH)
            if not rows:
                break
            buf.write(b"".join(exports._csv_line(exports._ticket_row(r, units, False, NOW, TZ)) for r in rows))
            count, after = count + len(rows), rows[-1]["id"]
        assert count == 10_000, count
    out["export: 10,000 tickets as CSV"] = timed(export, max(1, repeat // 2))
    plans = []
    for name, scope, f in cases:
        where, qargs = inbox._where(scope, f, NOW)
        sql = f"SELECT * FROM {inbox._source(f)} WHERE {where} ORDER BY {inbox._order(f)} LIMIT 20"
        for r in conn.execute("EXPLAIN QUERY PLAN " + sql, qargs):
            if re.match(r"SCAN (TABLE )?tickets\b(?! USING (COVERING )?INDEX)", r[3]):
                plans.append(f"{name}: {r[3]}")
    db.conn.close()
    _ = sqlite_utils
    return out, plans


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    ap.add_argument("--data", type=Path, default=common.SCALE_DATA)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    results: dict[int, dict[str, float]] = {}
    for n in args.sizes:
        path = prepared(args.data, n)
        log(f"measuring {n:,} tickets ({path.name}, read-only)")
        results[n], plans = measure(path, args.repeat)
        for p in plans:
            log(f"  full scan: {p}")
    print(f"| query (median of {args.repeat}, ms) | " + " | ".join(f"{n:,}" for n in results) + " |")
    print("|---|" + "---:|" * len(results))
    for name in next(iter(results.values())):
        print(f"| {name} | " + " | ".join(f"{results[n][name]:,.1f}" for n in results) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
