"""The reference bench/workers.py --echo measures N workers against: bench/echo_server.py --workers N, N processes
on one port (SO_REUSEPORT) that each answer a real encrypted message, and stop with their parent. And the readings
bench/webhook.py takes of a run: perf trace's syscall summary, added up over threads."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests import wx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
import webhook as bench_webhook  # noqa: E402


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _children(pid: int) -> list[int]:
    return [int(p.parent.name) for p in Path("/proc").glob("[0-9]*/stat") if bench_webhook._ppid(p) == pid]


def test_the_echo_with_two_processes_listens_twice_answers_and_stops_with_its_parent():
    port = _free_port()
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "echo_server.py"), "--port", str(port),
                             "--workers", "2"], start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    try:
        assert bench_webhook._wait_listening(port, 2, timeout=60), proc.stderr and proc.poll()
        kids = _children(proc.pid)
        assert len(kids) == 2
        for k in range(6):  # the kernel spreads connections; every process answers the same way
            openid = f"o_echo{k:022d}"
            body, query = wx.encrypted(wx.text_xml(openid, "你好", msg_id=900 + k), openid, nonce=f"n{k}")
            req = urllib.request.Request(f"http://127.0.0.1:{port}/wechat?" + bench_webhook.urlencode(query),
                                         data=body.encode(), headers={"Content-Type": "text/xml"})
            with urllib.request.urlopen(req, timeout=10) as r:
                reply = wx.decrypt_reply(r.read().decode())
            assert reply["ToUserName"] == openid and reply["Content"] == "收到"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        deadline = time.monotonic() + 10
        while any(Path(f"/proc/{k}").exists() and _state(k) != "Z" for k in kids) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not any(Path(f"/proc/{k}").exists() and _state(k) != "Z" for k in kids)
        assert bench_webhook.listening_sockets(port) == 0
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def test_perf_trace_summary_is_added_up_over_threads(tmp_path):
    summary = tmp_path / "s.txt"
    summary.write_text("""
 Summary of events:

 python3 (4482), 1200 events, 40.0%

   syscall            calls  errors  total       min       avg       max       stddev
                                     (msec)    (msec)    (msec)    (msec)        (%)
   --------------- --------  ------ -------- --------- --------- ---------     ------
   pwrite64             300      0     3.000     0.001     0.010     0.100      2.00%
   fdatasync              2      0     9.000     4.000     4.500     5.000      5.00%

 sqlite-writer (4488), 900 events, 30.0%

   syscall            calls  errors  total       min       avg       max       stddev
   --------------- --------  ------ -------- --------- --------- ---------     ------
   pwrite64             100      0     1.000     0.001     0.010     0.100      2.00%
   futex                 40      3     2.000     0.001     0.050     0.300      9.00%
""")
    assert bench_webhook.syscall_counts(summary) == {"pwrite64": 400, "fdatasync": 2, "futex": 40}
    assert bench_webhook.syscall_counts(tmp_path / "missing.txt") == {}
