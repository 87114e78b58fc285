#!/usr/bin/env python3
"""What a leader's question for a number costs (handlers/figures.py): CPU and wall time of `figures.answer` per
question, on a built database opened read-only, beside the cost of the 周报 links it always gave
(`Dispatcher.weekly_link`'s work is two HMACs: not measured). Until branch jobs9 it ran in the message's turn on
the writer thread; it now runs on a reader thread (handlers.messages.ReadFirst), the writer handling the message
twice in two short writes.

    python bench/figures.py [--db /work/scale-data/scale-1000000-v4.db] [--repeat 5]

The file is opened `immutable=1` (no lock, no -shm, nothing written). `now` is the newest ticket's moment, so "this
week" and "last week" are the data's busiest.
"""
from __future__ import annotations

import argparse
import sqlite3
import time
from zoneinfo import ZoneInfo

import common  # noqa: F401  (this checkout on sys.path)
import sqlite_utils

from handlers import figures

QUESTIONS = ["这周收到几件投诉？", "哪个学校投诉最多", "上周办结了几件", "哪个学校超期最多？", "超期几件了",
             "本月满意率多少", "哪个单位解决率最低", "上个月三率怎么样"]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", default=str(common.SCALE_DATA / "scale-1000000-v4.db"))
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    conn = sqlite3.connect(f"file:{args.db}?immutable=1", uri=True, check_same_thread=False)
    db = sqlite_utils.Database(conn)
    tz = ZoneInfo("Asia/Shanghai")
    now, count = conn.execute("SELECT max(created_at), count(*) FROM tickets").fetchone()
    unit = conn.execute("SELECT unit_code, count(*) n FROM tickets WHERE kind != 'praise' GROUP BY 1 "
                        "ORDER BY n DESC LIMIT 1").fetchone()[0]
    users = {"leader": {"role": "leader", "unit_code": "jyj", "openid": "o"},
             f"supervisor of {unit}": {"role": "supervisor", "unit_code": unit, "openid": "o"}}
    print(f"{args.db}: {count} tickets, now = newest ticket ({time.strftime('%Y-%m-%d %H:%M', time.localtime(now))})")
    for who, user in users.items():
        print(f"-- {who}")
        for q in QUESTIONS:
            cpu, wall = [], []
            for _ in range(args.repeat):
                c0, w0 = time.process_time(), time.perf_counter()
                said = figures.answer(db, user, q, now, tz)
                cpu.append(time.process_time() - c0)
                wall.append(time.perf_counter() - w0)
            first = (said or "—").split("\n")[0][:60]
            print(f"  {q:14s} cpu {min(cpu) * 1000:7.1f} ms  wall {min(wall) * 1000:7.1f} ms  {first}")


if __name__ == "__main__":
    main()
