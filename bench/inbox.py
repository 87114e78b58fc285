"""Workbench query timings at scale: the inbox with each filter, search, a dashboard and a 10,000-ticket export batch
loop, on a synthetic database of N tickets (read-only connection, as the pages use).

    .venv/bin/python bench/inbox.py [--tickets 200000] [--db /tmp/inbox-bench.db]

Prints the median of 5 runs per query in milliseconds, and the query plan's full scans of `tickets` if any.
Targets (issue 12, at 1M tickets): inbox with any filter <= 100 ms, search <= 200 ms, dashboard <= 300 ms,
export of 10,000 tickets <= 5 s.
"""
from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import sys
import time
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from handlers import dashboard  # noqa: E402
from storage import inbox, lifecycle, search  # noqa: E402
from storage.db import connect  # noqa: E402
from storage.directory import read_csv, upsert  # noqa: E402
from storage.migrations import migrate  # noqa: E402

TZ = ZoneInfo("Asia/Shanghai")
NOW = 1_795_000_000.0
TEXTS = ["学校乱收费，每人收资料费300元", "周末组织有偿补课", "食堂饭菜不卫生", "作业太多孩子睡不够", "校车超载",
         "入学分班按成绩", "幼儿园伙食费上涨", "老师体罚学生", "培训机构跑路", "中考体育评分标准"]
CATEGORIES = ["fees", "tutoring", "safety", "burden", "safety", "admission", "preschool", "ethics", "tutoring", "exams"]


def build(path: Path, n: int) -> None:
    db = connect(path)
    migrate(db)
    demo = Path(__file__).resolve().parents[1] / "bot" / "demo" / "directory.csv"
    upsert(db, read_csv(demo))
    units = [r[0] for r in db.execute("SELECT code FROM units")]
    schools = [r[0] for r in db.execute("SELECT code FROM units WHERE kind IN ('school','kindergarten')")]
    words = [search.words_for_index(t) for t in TEXTS]
    rnd = random.Random(1)
    states = list(lifecycle.STATES)
    db.conn.execute("BEGIN")
    for i in range(1, n + 1):
        k = rnd.randrange(len(TEXTS))
        created = NOW - rnd.uniform(0, 2 * 365 * 86400)
        state = rnd.choice(states) if created > NOW - 30 * 86400 else rnd.choice(["closed", "closed", "withdrawn"])
        due = created + 7 * 86400
        db.conn.execute(
            "INSERT INTO tickets (id, number, openid, kind, category, unit_code, school_code, text, state, created_at, "
            "dispatched_at, due_at, accept_due_at, accepted_at, resolved_at, unattended, routing) "
            "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [i, f"JY{i:010d}", f"o{i % 50000}", "complaint", CATEGORIES[k], rnd.choice(units), rnd.choice(schools),
             TEXTS[k], state, created, created, due, created + 86400, created + 3600,
             created + 5 * 86400 if state in ("resolved", "closed") else None, int(rnd.random() < 0.01), "{}"])
        db.conn.execute("INSERT INTO tickets_fts (rowid, words) VALUES (?, ?)", [i, words[k]])
    db.conn.execute("COMMIT")
    db.conn.execute("ANALYZE")
    db.conn.close()


def timed(fn, runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tickets", type=int, default=200_000)
    ap.add_argument("--db", type=Path, default=Path("/tmp/inbox-bench.db"))
    args = ap.parse_args()
    if args.db.exists():
        args.db.unlink()
    t0 = time.perf_counter()
    build(args.db, args.tickets)
    print(f"built {args.tickets} tickets in {time.perf_counter() - t0:.1f} s")
    conn = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)
    conn.row_factory = None
    import sqlite_utils
    db = sqlite_utils.Database(conn)
    unit_scope = (["jyj-sfc"], False)
    district = (["jn-jyj", "jn-syxx", "jn-yyxx", "jn-dszx", "jn-hpcz", "jn-xgyey", "jn-xhyey"], False)
    everyone = (None, False)
    F = inbox.Filters
    cases = [
        ("handler inbox (open, by deadline)", unit_scope, F()),
        ("supervisor inbox (unit + schools)", district, F()),
        ("leader inbox (all open)", everyone, F()),
        ("leader: overdue", everyone, F(overdue=True)),
        ("leader: due within 3 days", everyone, F(due_days=3)),
        ("leader: category + school", everyone, F(state="all", category="fees", school="jn-syxx")),
        ("leader: date range (a month), newest", everyone,
         F(state="all", created_from=NOW - 60 * 86400, created_to=NOW - 30 * 86400, sort="new")),
        ("leader: 代收", everyone, F(flags=("unattended",))),
        ("leader: all states, page 50", everyone, F(state="all")),
        ("search 乱收费 (leader, all states)", everyone, F(state="all", q="乱收费")),
        ("search 补课 (handler)", unit_scope, F(state="all", q="补课")),
    ]
    print(f"{'query':44} {'ms':>8}")
    for name, scope, f in cases:
        number = 50 if "page 50" in name else 1
        ms = timed(lambda: inbox.page(db, scope, f, NOW, number, 20))
        print(f"{name:44} {ms:8.1f}")
    p = dashboard.period_of("week", NOW, TZ)
    units = {r["code"]: r for r in db.query("SELECT * FROM units")}

    def dash():
        first, end = dashboard.span(p, TZ)
        rows = inbox.for_span(db, first, end, None)
        dashboard.build(rows, units, None, p, NOW, TZ, "全局", None)
    print(f"{'dashboard (bureau, week, 8-week trend)':44} {timed(dash, 3):8.1f}")

    def export():
        after, count = 0, 0
        while count < 10_000:
            rows = inbox.batch(db, everyone, F(state="all"), NOW, after, 500)
            if not rows:
                break
            count, after = count + len(rows), rows[-1]["id"]
            json.dumps([r["number"] for r in rows])
    print(f"{'export read of 10,000 tickets':44} {timed(export, 3):8.1f}")
    where, qargs = inbox._where(everyone, F(), NOW)
    plan = [r[3] for r in conn.execute(f"EXPLAIN QUERY PLAN SELECT * FROM tickets WHERE {where} "
                                       f"ORDER BY due_at IS NULL, due_at, id LIMIT 20", qargs)]
    print("plan (leader inbox):", " | ".join(plan))


if __name__ == "__main__":
    main()
