"""What the bench scripts share: this checkout on sys.path, a `tingjian serve` of their own (started with the config
file alone deciding, waited for, stopped), and the scale databases' folder and working copies.

Importing it puts the repository on sys.path after PYTHONPATH, so `PYTHONPATH=<old checkout> python bench/x.py`
measures the old code with the same script, and before site-packages, so another checkout's editable install does
not shadow this one."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    _pythonpath = {os.path.abspath(p) for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p}
    _at = 1  # sys.path[0] is the script's folder
    while _at < len(sys.path) and os.path.abspath(sys.path[_at]) in _pythonpath:
        _at += 1
    sys.path.insert(_at, str(ROOT))

# The cached databases of bench/scale.py (gigabytes at 1M tickets): outside the repository.
SCALE_DATA = Path(os.environ.get("TINGJIAN_SCALE_DATA", "/work/scale-data"))


def server_env() -> dict[str, str]:
    """This environment without TINGJIAN_* variables: the bench's config file alone decides."""
    return {k: v for k, v in os.environ.items() if not k.startswith("TINGJIAN_")}


def tingjian(*args: str) -> list[str]:
    """The `tingjian` command as installed beside this Python (what production runs), else `python -m bot.cli`."""
    exe = Path(sys.executable).parent / "tingjian"
    return [str(exe) if exe.exists() else sys.executable, *([] if exe.exists() else ["-m", "bot.cli"]), *args]


def healthz(port: int, timeout: float = 2.0) -> int | None:
    """The status GET /healthz answers with (200 healthy, 503 up but reporting a problem), None if nothing does."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as r:
            return r.status
    except urllib.error.HTTPError as exc:
        return exc.code
    except OSError:
        return None


def wait_up(proc: subprocess.Popen, port: int, timeout: float, statuses=(200,), ready=lambda: True,
            poll: float = 0.1) -> bool:
    """Until /healthz answers with one of `statuses` and ready() holds; False if the server exits or time runs out."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return False
        if healthz(port) in statuses and ready():
            return True
        time.sleep(poll)
    return False


def autogroup(pid: int | str = "self") -> None:
    """BENCH_AUTOGROUP_NICE=N (root, Linux with sched_autogroup): the session of `pid` gets nice N as a group. The
    kernel shares the cores between sessions first, so on a machine crowded by other sessions a bench's own
    processes (a server started in its own session, and the bench's session with wrk) at -20 take the cores as on
    a quiet machine; a process's own nice does nothing against other sessions. Off unless set."""
    nice = os.environ.get("BENCH_AUTOGROUP_NICE")
    if nice:
        try:
            Path(f"/proc/{pid}/autogroup").write_text(nice)
        except OSError as exc:
            print(f"[bench] BENCH_AUTOGROUP_NICE={nice}: {exc}", file=sys.stderr)


def serve(config: Path, port: int, log_path: Path, *, workers: int | None = None, timeout: float = 60,
          statuses=(200,), ready=lambda: True, poll: float = 0.1, cwd: Path = ROOT) -> subprocess.Popen:
    """`tingjian serve --config CONFIG [--workers N]` in its own session (stop() reaches its workers), output to
    log_path, returned once up; SystemExit with the log's end if it exits or is not up within `timeout` s."""
    cmd = tingjian("serve", "--config", str(config), *(["--workers", str(workers)] if workers else []))
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(cmd, cwd=cwd, env=server_env(), stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    autogroup(proc.pid)
    if not wait_up(proc, port, timeout, statuses, ready, poll):
        exited = proc.poll()
        stop(proc)
        why = f"exited with {exited}" if exited is not None else f"not up after {timeout:.0f} s"
        raise SystemExit(f"server {why}:\n{log_path.read_text(errors='replace')[-3000:]}")
    return proc


def stop(proc: subprocess.Popen, grace: float = 15) -> str:
    """SIGTERM, SIGKILL to its whole session after `grace` s; then any worker that outlived the parent. Says how."""
    if proc.poll() is not None:
        return f"had exited ({proc.returncode})"
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=grace)
        how = f"stopped (SIGTERM, exit {proc.returncode})"
    except subprocess.TimeoutExpired:
        how = f"did not stop within {grace:.0f} s of SIGTERM: SIGKILL"
        _kill_session(proc)
        proc.wait()
    _kill_session(proc)  # workers of a multi-process server, should any outlive the parent
    return how


def _kill_session(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def remove_db(path: Path) -> None:
    """A SQLite file with its -wal and -shm, and the .lock the project's Database holds beside it (left behind by
    every run before this helper, one per copy)."""
    for suffix in ("", "-wal", "-shm", ".lock"):
        Path(str(path) + suffix).unlink(missing_ok=True)


def working_copy(built: Path, work: Path) -> float:
    """Copy a cached scale database to `work` (owner-only, as the service creates its files) and apply this code's
    migrations to the copy, once, outside any figure. Returns the milliseconds the migrations took."""
    from storage.db import Database
    remove_db(work)
    shutil.copyfile(built, work)
    os.chmod(work, 0o600)
    t = time.perf_counter()
    Database(work).start().close()
    return (time.perf_counter() - t) * 1000
