"""A durable spool for inbound messages the database could not store in time.

Before the webhook answers WeChat, the message must be on disk. Normally it is committed to SQLite long before;
when the write lock is held (another process, a backup, a long job) the message is appended here instead, one
JSON line per message, fsync'd, and the answer goes out. The lines are drained into SQLite later, idempotently by
inbound key, so a line stored twice (spooled and also committed by the original attempt) is handled once.

Each process writes its own file, `<pid>-<random>.jsonl` in a folder beside the database, and holds an exclusive
flock on it while it lives. A file nobody holds a lock on belongs to a dead process (a SIGKILL releases flocks),
so any process may take it and drain it. A file is created under a temporary name and renamed once locked, so a
drainer never takes a file whose owner is just being born.

A spooled line is trusted as a message WeChat sent (it is handled as that person, a leader's commands included),
so only the service's own files are: the folder and each file must belong to this process's user and be writable
by nobody else. A folder made beforehand by another local user, or opened to others by a careless `chmod`, is
refused (logged, files left for a person to look at), never drained.
"""
from __future__ import annotations

import fcntl
import json
import logging
import os
import secrets
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

log = logging.getLogger(__name__)


def folder_for(db_path: str | Path) -> Path:
    return Path(str(db_path) + ".spool")


def _private(path: Path, st: os.stat_result | None = None) -> bool:
    """Ours alone: owned by this process's user, writable by no group or other."""
    st = st or os.lstat(path)
    return st.st_uid == os.geteuid() and not st.st_mode & 0o022


class SpoolError(OSError):
    """The spool folder is not the service's alone (see the module's note)."""


@dataclass
class SpoolFile:
    path: Path
    fh: BinaryIO
    records: list[dict[str, Any]] = field(default_factory=list)


class Spool:
    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self._lock = threading.Lock()
        self._current: SpoolFile | None = None
        self._held: dict[Path, SpoolFile] = {}   # taken for draining and still locked by us
        self.appended = 0

    # -- writing (blocking: call from a thread) -----------------------------------------------------------------
    def append(self, record: dict[str, Any]) -> None:
        """Append one record and fsync it. When this returns, the record survives a crash of this process."""
        line = (json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
        with self._lock:
            if self._current is None:
                self._current = self._open_new()
            fh = self._current.fh
            fh.write(line)
            fh.flush()
            os.fsync(fh.fileno())
            self.appended += 1

    def _open_new(self) -> SpoolFile:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._check_folder()
        name = f"{os.getpid()}-{secrets.token_hex(6)}"
        tmp = self.folder / f"{name}.tmp"
        fh = open(tmp, "ab")
        os.chmod(tmp, 0o600)
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        path = self.folder / f"{name}.jsonl"
        os.rename(tmp, path)
        _fsync_dir(self.folder)  # the file's name is durable too
        return SpoolFile(path, fh)

    # -- draining -----------------------------------------------------------------------------------------------
    def take(self) -> list[SpoolFile]:
        """The files to drain now, each locked by us and with its records read: this process's own file (new
        appends go to a fresh one) and those left by dead processes. Files kept from a failed drain come again."""
        with self._lock:
            if self._current is not None:
                self._held[self._current.path] = self._current
                self._current = None
        if self.folder.is_dir():
            try:
                self._check_folder()
            except SpoolError as exc:
                log.error("%s", exc)
                return []
            for path in sorted(self.folder.glob("*.jsonl")):
                if path in self._held:
                    continue
                try:
                    fh = open(path, "rb+")
                except FileNotFoundError:  # drained by another process just now
                    continue
                try:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                except OSError:  # its owner lives (or another process drains it)
                    fh.close()
                    continue
                if not path.exists():  # drained and removed between our open and our lock
                    fh.close()
                    continue
                if not _private(path, os.fstat(fh.fileno())):
                    log.error("spool %s: not written by this service (owner or mode); not drained, left for a "
                              "person to look at", path)
                    fh.close()
                    continue
                self._held[path] = SpoolFile(path, fh)
        for item in self._held.values():
            item.records = _read(item.path)
        return sorted(self._held.values(), key=lambda f: min((r.get("at", 0) for r in f.records), default=0))

    def _check_folder(self) -> None:
        st = os.lstat(self.folder)
        if not _private(self.folder, st) or not os.path.isdir(self.folder) or os.path.islink(self.folder):
            raise SpoolError(f"spool folder {self.folder} is not this service's alone (owner uid {st.st_uid}, mode "
                             f"{st.st_mode & 0o777:o}): refusing to trust its files; make it the service user's, "
                             f"mode 700")

    def done(self, item: SpoolFile) -> None:
        """Every record of the file is in the database: remove it."""
        try:
            item.path.unlink()
        except FileNotFoundError:
            pass
        _fsync_dir(self.folder)
        item.fh.close()
        self._held.pop(item.path, None)

    def release(self) -> bool:
        """Give up this process's current file (new appends go to a fresh one), so another process may drain it:
        an HTTP worker hands what it spooled to the writer process this way. True if there was a file."""
        with self._lock:
            current, self._current = self._current, None
        if current is None:
            return False
        current.fh.close()  # releases the flock; every line in it was fsync'd before its append returned
        return True

    def pending(self) -> int:
        """Records written by any process and not yet drained (for /healthz; reads small files only)."""
        if not self.folder.is_dir():
            return 0
        return sum(len(_read(p)) for p in self.folder.glob("*.jsonl"))

    def close(self) -> None:
        """Release our locks; undrained files stay for the next start (or another process) to drain."""
        with self._lock:
            files = list(self._held.values()) + ([self._current] if self._current else [])
            self._held.clear()
            self._current = None
        for item in files:
            item.fh.close()


def _read(path: Path) -> list[dict[str, Any]]:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    records = []
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line))
        except ValueError:
            # A torn last line: the process died while writing it, before its fsync returned, so the message
            # was never acknowledged (WeChat will retry it).
            log.warning("spool %s: skipped an incomplete line", path.name)
    return records


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
