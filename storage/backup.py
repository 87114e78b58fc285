"""Online backups with SQLite's backup API, and restoring one.

A backup reads one snapshot of the database: in WAL mode a reader never blocks the writer, so the service goes on
answering while the copy is made, page by page. The copy is written beside the destination and renamed into place
only once it is complete and checked, so a failed backup never leaves a half file under the final name.
"""
from __future__ import annotations

import datetime as dt
import fcntl
import os
import sqlite3
import time
from contextlib import contextmanager
from pathlib import Path

PAGES_PER_STEP = 2048  # 8 MiB with 4 KiB pages


class BackupError(RuntimeError):
    pass


def lock_path(db_path: str | Path) -> Path:
    return Path(f"{db_path}.lock")


@contextmanager
def in_use(db_path: str | Path):
    """Held (shared) by every process that has the database open through storage.db.Database; restore takes it
    exclusively, so it cannot replace a database under a running service."""
    fd = os.open(lock_path(db_path), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_SH)
        yield
    finally:
        os.close(fd)


def _summary(conn: sqlite3.Connection) -> dict[str, int]:
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    out = {}
    if "tickets" in tables:
        out["tickets"] = conn.execute("SELECT count(*) FROM tickets").fetchone()[0]
    if "outbox" in tables:
        out["outbox_pending"] = conn.execute(
            "SELECT count(*) FROM outbox WHERE status NOT IN ('sent', 'failed')").fetchone()[0]
    return out


def _check(conn: sqlite3.Connection, what: str) -> None:
    result = conn.execute("PRAGMA quick_check").fetchone()[0]
    if result != "ok":
        raise BackupError(f"{what} fails SQLite's check: {result}")


def _copy(src: sqlite3.Connection, dest_path: Path, pages: int) -> None:
    tmp = dest_path.with_name(dest_path.name + ".part")
    tmp.unlink(missing_ok=True)
    os.close(os.open(tmp, os.O_CREAT | os.O_WRONLY, 0o600))
    dst = sqlite3.connect(tmp)
    try:
        src.backup(dst, pages=pages, sleep=0.0005)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        _check(dst, "the copy")
    finally:
        dst.close()
    with open(tmp, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp, dest_path)


def backup(db_path: str | Path, dest: str | Path, pages: int = PAGES_PER_STEP) -> dict[str, int]:
    """Copy the live database to `dest` (a file). Returns what the copy holds (tickets, pending outbox rows)."""
    dest = Path(dest)
    if dest.is_dir():
        raise BackupError(f"{dest} is a folder: give a file name")
    if not Path(db_path).is_file():
        raise BackupError(f"no database at {db_path}")
    dest.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    src = sqlite3.connect(db_path, timeout=30, isolation_level=None)
    try:
        # One read transaction across all steps: every page comes from the same snapshot, and other processes'
        # commits neither restart the copy nor wait for it (WAL).
        src.execute("BEGIN")
        src.execute("SELECT count(*) FROM sqlite_master").fetchone()
        _copy(src, dest, pages)
        src.execute("COMMIT")
    finally:
        src.close()
    conn = sqlite3.connect(dest)
    try:
        return _summary(conn)
    finally:
        conn.close()


def restore(src: str | Path, db_path: str | Path, force: bool = False) -> dict[str, int]:
    """Put a backup in place of the database. Refuses while any process has the database open, and refuses to
    replace an existing database without `force` (then the current one is first kept beside it)."""
    src, db_path = Path(src), Path(db_path)
    if not src.is_file():
        raise BackupError(f"no backup at {src}")
    try:
        conn = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        try:
            _check(conn, str(src))
            summary = _summary(conn)
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{src} is not a Tingjian backup: {exc}") from None
    if "tickets" not in summary:
        raise BackupError(f"{src} is not a Tingjian backup (no tickets table)")
    db_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd = os.open(lock_path(db_path), os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BackupError(f"{db_path} is in use (tingjian serve or another command has it open): stop the "
                              "service first") from None
        if db_path.exists():
            if not force:
                raise BackupError(f"{db_path} exists: add --force to replace it (it is kept as a copy first)")
            kept = db_path.with_name(f"{db_path.name}.before-restore-{dt.datetime.now():%Y%m%d-%H%M%S}")
            backup(db_path, kept)
            for suffix in ("", "-wal", "-shm"):
                Path(f"{db_path}{suffix}").unlink(missing_ok=True)
            summary["kept"] = str(kept)  # type: ignore[assignment]
        conn = sqlite3.connect(f"file:{src}?mode=ro", uri=True)
        try:
            _copy(conn, db_path, -1)
        finally:
            conn.close()
    finally:
        os.close(fd)
    return summary


def scheduled(db_path: str | Path, folder: str | Path, every_seconds: float, keep: int,
              now: float | None = None) -> Path | None:
    """A backup into `folder` if the newest there is older than `every_seconds`; keeps the newest `keep`. Several
    workers may call it at once: a lock file in the folder lets one do the work. Returns the new file, if any."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = time.time() if now is None else now
    fd = os.open(folder / ".lock", os.O_CREAT | os.O_RDWR, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return None
        name = lambda ts: f"tingjian-{dt.datetime.fromtimestamp(ts):%Y%m%d-%H%M%S}.db"  # noqa: E731 - sorts by time
        existing = sorted(folder.glob("tingjian-*.db"))
        if existing and existing[-1].name > name(now - every_seconds):
            return None
        dest = folder / name(now)
        backup(db_path, dest)
        for old in sorted(folder.glob("tingjian-*.db"))[:-keep]:
            old.unlink()
        return dest
    finally:
        os.close(fd)
