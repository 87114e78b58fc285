"""Issue 10: the staff commands whose answer reads a list that grows with the bureau, as the writer would run
them, on a read-only connection to a built database (never written). CPU milliseconds per answer, first (cold)
and warm (median of --repeat), for a leader (the whole bureau) and the supervisor of the largest unit:
超期 (Desk.overdue; read on a reader since ops11, messages.ReadFirst), 待办 (Desk.todo, its short write of the
list's numbers left out), 常用回复, and the reference measured in the same run: 今天有什么紧急的吗 (Desk.pressing,
already read on a reader). Also how long each answer is, and in how many WeChat messages it goes
(bot.receiver.split_text: 2048 bytes each).

    python bench/staff_reads.py --db /work/scale-data/scale-1000000-v4.db --repeat 5
"""
from __future__ import annotations

import argparse
import statistics

import common  # noqa: F401  (this checkout on sys.path)

from bot.receiver import split_text
from handlers import reply_templates
from handlers.clock import FixedClock
from handlers.desk import Desk
from handlers.workdays import WorkCalendar
from pressing import cpu_ms, open_built
from storage import conversations


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args()
    db, now, big = open_built(args.db)
    desk = Desk(FixedClock(now), WorkCalendar(), "jyj-bgs")
    conversations.put = lambda *a, **k: None  # 待办's write of the list's numbers: a row, not the read measured
    users = {"leader": {"role": "leader", "unit_code": "jyj", "openid": "o"},
             f"supervisor of {big}": {"role": "supervisor", "unit_code": big, "openid": "o"}}
    for who, user in users.items():
        asks = {"超期": lambda: desk.overdue(db, user, now),
                "待办": lambda: desk.todo(db, "o", user),
                "常用回复": lambda: reply_templates.listing(db, user["unit_code"]),
                "紧急 (reference)": lambda: desk.pressing(db, user, now)}
        for what, fn in asks.items():
            ms = [cpu_ms(fn) for _ in range(args.repeat)]
            said = fn()
            print(f"{who:28} {what:16} first {ms[0]:7.1f} ms CPU, warm median {statistics.median(ms[1:] or ms):7.1f} ms,"
                  f" {len(said)} characters, {len(split_text(said))} WeChat message(s)")


if __name__ == "__main__":
    main()
