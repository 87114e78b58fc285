"""SQLite through sqlite-utils. Functions here take a sqlite_utils.Database as first argument and run on the
writer thread: call them as `await db.run(module.fn, ...)`."""
