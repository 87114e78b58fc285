"""The upgrade-fill job's fills run to the end on a migrated copy, as bot/scheduler.py upgrade_fill runs them (one
write transaction a range); prints m067's fill (trust18b): rows, wall and CPU, its longest write, the most CPU in
one, and the rows a write.

    python bench/kept_fill.py COPY.db [--reset]   # --reset: back to the state m067 leaves, to time it again
"""
import sqlite3, sys, time
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
import sqlite_utils
from storage import tickets
db = sqlite_utils.Database(sqlite3.connect(sys.argv[1], isolation_level=None))
t, c = time.perf_counter(), time.process_time()
if "--reset" in sys.argv:  # back to the state m067 leaves (to time its fill again)
    db.conn.execute("DELETE FROM unit_misses WHERE response = 0 AND overdue = 0 AND resolved_at IS NOT NULL")
    db.conn.execute("UPDATE unit_misses SET resolved_at = NULL, open_from = NULL WHERE resolved_at IS NOT NULL")
    db.conn.execute("UPDATE integrity_marks SET value = 0 WHERE name = 'kept_resolved_scanned'")
while tickets.resolve_since_pending(db):
    tickets.resolve_since_store(db, tickets.resolve_since_next(db, 200))
while tickets.recredit_range(db) is not None:
    tickets.recredit_store(db, *tickets.recredit_next(db), time.time())
print("m062 fills", round(time.perf_counter() - t, 1), "s wall", round(time.process_time() - c, 1), "s CPU")
t, c, n, longest = time.perf_counter(), time.process_time(), 0, 0.0
while tickets.kept_resolved_range(db) is not None:
    upto, rows = tickets.kept_resolved_next(db)
    w, wc = time.perf_counter(), time.thread_time()
    db.conn.execute("BEGIN IMMEDIATE")  # one short write transaction a range, as the service's writer runs it
    n += tickets.kept_resolved_store(db, upto, rows)
    db.conn.execute("COMMIT")
    longest = max(longest, time.perf_counter() - w)
    cpu_max = max(globals().get("cpu_max", 0.0), time.thread_time() - wc)
    sizes = globals().setdefault("sizes", []); sizes.append(len(rows))
print("m067 fill", n, "rows", round(time.perf_counter() - t, 1), "s wall", round(time.process_time() - c, 1),
      "s CPU; longest write", round(longest * 1000, 1), "ms; most CPU in one", round(cpu_max * 1000, 1), "ms;",
      len(sizes), "writes, rows a write max", max(sizes), "median", sorted(sizes)[len(sizes) // 2])
print(db.execute("SELECT count(*), sum(resolved_at IS NOT NULL), sum(resolved_at IS NOT NULL AND overdue = 0) FROM unit_misses").fetchall())
