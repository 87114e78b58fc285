"""The dashboard (bureau, a month and a week: handlers.dashboard.read, its trend of 8 periods) as CPU of one tree's
code and this checkout's, alternated in fresh processes on the same read-only copy (median of 5 reads a process;
also the least read of all, which a loaded machine inflates less).

    python bench/dashboard_cpu.py COPY.db OLD_TREE NEW_TREE ROUNDS [OLD_COPY.db]

OLD_COPY: the file the old tree reads, when the new tree's migrations changed the copy (dash18: m069's index).
"""
import json, statistics, subprocess, sys
CHILD = r'''
import json, sqlite3, sys, time, datetime as dt
sys.path.insert(0, sys.argv[1])
from zoneinfo import ZoneInfo
import sqlite_utils
from handlers import dashboard
from storage import directory
TZ = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=TZ).timestamp()
db = sqlite_utils.Database(sqlite3.connect(f"file:{sys.argv[2]}?mode=ro", uri=True))
units = {u["code"]: u for u in directory.all_units(db)}
out = {}
for kind, key in (("week", "2026-W48"), ("month", "2026-11")):
    p = dashboard.parse_period(kind, key, TZ)
    dashboard.read(db, units, None, p, NOW, TZ, "x")
    cpu = []
    for _ in range(int(sys.argv[3])):
        c = time.process_time()
        dashboard.read(db, units, None, p, NOW, TZ, "x")
        cpu.append((time.process_time() - c) * 1000)
    out[kind] = sorted(cpu)[len(cpu) // 2]
    out[kind + "_min"] = min(cpu)
print(json.dumps(out))
'''
db, old, new, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
files = {"old": sys.argv[5] if len(sys.argv) > 5 else db, "new": db}
got = {"old": [], "new": []}
for i in range(rounds):
    for name, tree in (("old", old), ("new", new)) if i % 2 == 0 else (("new", new), ("old", old)):
        r = subprocess.run([sys.executable, "-c", CHILD, tree, files[name], "5"], capture_output=True, text=True, check=True)
        got[name].append(json.loads(r.stdout.strip().splitlines()[-1]))
for kind in ("week", "month"):
    o = statistics.median(g[kind] for g in got["old"]); n = statistics.median(g[kind] for g in got["new"])
    print(f"dashboard bureau {kind}: old {o:.1f} ms CPU, new {n:.1f} ms CPU, new/old {n / o:.2f}")
    o = min(g[kind + "_min"] for g in got["old"]); n = min(g[kind + "_min"] for g in got["new"])
    print(f"  (the least of every read, less exposed to the other processes: old {o:.1f}, new {n:.1f}, {n / o:.2f})")
