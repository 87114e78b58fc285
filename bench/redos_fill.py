"""m071's fill after start-up (dash19) run to the end on a migrated copy, as bot/scheduler.py upgrade_fill runs it
(a read of one rowid range, then one write transaction): the 不满意 listed, wall and CPU, the longest write (the
time the writer's lock is held, which is what a webhook's write can wait behind) and the rows a write.

    python bench/redos_fill.py COPY.db [--reset]   # --reset: back to the state m071 leaves, to time it again
"""
import sqlite3, sys, time
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent.parent))
import sqlite_utils
from storage import migrations, tickets
from storage.db import connect
db = connect(sys.argv[1])  # the service's settings (WAL, synchronous=NORMAL; its checkpoints run apart)
db.conn.execute("PRAGMA wal_autocheckpoint=0")
t = time.perf_counter()
migrations.migrations.apply(db)
print("pending migrations", round(time.perf_counter() - t, 2), "s wall")
if "--reset" in sys.argv:
    db.conn.execute("DELETE FROM rating_redos")
    db.conn.execute("UPDATE integrity_marks SET value = 0 WHERE name = 'rating_redos_scanned'")
t, c, n, walls, cpus, sizes = time.perf_counter(), time.process_time(), 0, [], [], []
while tickets.redone_range(db) is not None:
    upto, rows = tickets.rating_redos_next(db)
    w, wc = time.perf_counter(), time.thread_time()
    db.conn.execute("BEGIN IMMEDIATE")  # the write lock, held from here to COMMIT
    n += tickets.rating_redos_store(db, upto, rows)
    db.conn.execute("COMMIT")
    walls.append((time.perf_counter() - w) * 1000)
    cpus.append((time.thread_time() - wc) * 1000)
    sizes.append(len(rows))
q = lambda xs, f: sorted(xs)[min(len(xs) - 1, int(len(xs) * f))]
print("m071 fill", n, "rows", round(time.perf_counter() - t, 1), "s wall", round(time.process_time() - c, 1),
      "s CPU;", len(sizes), "writes; lock held (wall ms) median", round(q(walls, .5), 1), "p99", round(q(walls, .99), 1),
      "max", round(max(walls), 1), "; CPU in one (ms) median", round(q(cpus, .5), 2), "max", round(max(cpus), 2),
      "; rows a write median", q(sizes, .5), "max", max(sizes))
