"""m071's fill after start-up (dash19) run to the end on a migrated copy, as bot/scheduler.py upgrade_fill runs it
(a read of one rowid range, then one write transaction): the 不满意 listed, wall and CPU, the longest write (the
time the writer's lock is held, which is what a webhook's write can wait behind) and the rows a write.

    python bench/redos_fill.py COPY.db [--reset]   # --reset: back to the state m071 leaves, to time it again
"""
import sqlite3, sys, time
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
import sqlite_utils
from storage import migrations, tickets
db = sqlite_utils.Database(sqlite3.connect(sys.argv[1], isolation_level=None))
t = time.perf_counter()
migrations.migrations.apply(db)
print("pending migrations", round(time.perf_counter() - t, 2), "s wall")
if "--reset" in sys.argv:
    db.conn.execute("DELETE FROM rating_redos")
    db.conn.execute("UPDATE integrity_marks SET value = 0 WHERE name = 'rating_redos_scanned'")
t, c, n, longest, sizes = time.perf_counter(), time.process_time(), 0, 0.0, []
while tickets.redone_range(db) is not None:
    upto, rows = tickets.rating_redos_next(db)
    w = time.perf_counter()
    db.conn.execute("BEGIN IMMEDIATE")
    n += tickets.rating_redos_store(db, upto, rows)
    db.conn.execute("COMMIT")
    longest = max(longest, time.perf_counter() - w)
    sizes.append(len(rows))
print("m071 fill", n, "rows", round(time.perf_counter() - t, 1), "s wall", round(time.process_time() - c, 1),
      "s CPU;", len(sizes), "writes, longest", round(longest * 1000, 1), "ms, rows a write max", max(sizes or [0]),
      "median", sorted(sizes or [0])[len(sizes) // 2])
