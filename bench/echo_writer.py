#!/usr/bin/env python3
"""What a busy SQLite writer thread in the same process costs the event loop, measured on the echo itself.

    python bench/echo_writer.py [--writer-us 200] [--pairs 3] [--duration 8] [--port 9814]

bench/webhook.py's server spends more CPU a message on its event loop than the whole echo process, while
bench/loopside.py (aiohttp's whole HTTP path, no sockets) finds the service's loop-side Python no dearer than the
echo's. This runs bench/echo_server.py under wrk twice, alternated: as it is, and with --writer-us N (each
message also makes a trip to a storage.db.Database writer thread that spends N µs of Python and writes a row,
the service's shape with a stand-in for its handling), and prints the echo's main thread's CPU a message (user
and system), the writer thread's, and their context switches. The difference in the main thread's CPU is what
the hand-over and the shared interpreter lock cost a loop that does the same work.
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import common
import webhook as wh


def switches(pid: int) -> dict[int, int]:
    out = {}
    for status in Path(f"/proc/{pid}/task").glob("*/status"):
        try:
            out[int(status.parent.name)] = sum(int(ln.split()[1]) for ln in status.read_text().splitlines()
                                               if "ctxt_switches" in ln)
        except (OSError, ValueError):
            continue
    return out


def one(port: int, writer_us: float, duration: int, concurrency: int, workdir: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__).parent / "echo_server.py"), "--port", str(port)]
    if writer_us:
        cmd += ["--writer-us", str(writer_us)]
    logf = open(workdir / "echo.log", "wb")
    proc = subprocess.Popen(cmd, stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if not common.wait_up(proc, port, 30, poll=0.2):
            raise SystemExit((workdir / "echo.log").read_text()[-2000:])
        t0, s0 = wh.thread_cpu(proc.pid, split=True), switches(proc.pid)
        result, _, _ = wh.run_wrk(port, concurrency, duration, workdir)
        t1, s1 = wh.thread_cpu(proc.pid, split=True), switches(proc.pid)
    finally:
        wh.stop_server(proc)
    n = max(1, result["passive"])
    used = {t: v - t0.get(t, 0) for t, v in t1.items()}
    others = [t for t in used if t != proc.pid]
    writer = max(others, key=lambda t: abs(used[t]), default=None)
    return {"rate": result["passive"] / (result["duration_us"] / 1e6),
            "loop_user": 1000 * used[proc.pid].real / n, "loop_system": 1000 * used[proc.pid].imag / n,
            "loop_switches": (s1.get(proc.pid, 0) - s0.get(proc.pid, 0)) / n,
            "writer": 1000 * abs(used[writer].real + used[writer].imag) / n if writer else 0.0,
            "writer_switches": (s1.get(writer, 0) - s0.get(writer, 0)) / n if writer else 0.0}


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--writer-us", type=float, default=200)
    p.add_argument("--pairs", type=int, default=3)
    p.add_argument("--duration", type=int, default=8)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--port", type=int, default=9814)
    p.add_argument("--openids", type=int, default=1000)
    args = p.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="echo-writer-"))
    wh.build_requests(int(args.duration * 3000 * 1.5), args.openids, args.port, workdir, wh.WRK_THREADS)
    rows: dict[float, list[dict]] = {0: [], args.writer_us: []}
    for i in range(args.pairs):
        for us in ((0, args.writer_us) if i % 2 == 0 else (args.writer_us, 0)):
            r = one(args.port, us, args.duration, args.concurrency, workdir)
            rows[us].append(r)
            print(f"pair {i + 1}, writer {us:g} us: {r['rate']:,.0f} msg/s; event loop {r['loop_user']:.3f} user + "
                  f"{r['loop_system']:.3f} system = {r['loop_user'] + r['loop_system']:.3f} ms a message, "
                  f"{r['loop_switches']:.2f} switches; writer thread {r['writer']:.3f} ms, "
                  f"{r['writer_switches']:.2f} switches", flush=True)
    loop = {us: [r["loop_user"] + r["loop_system"] for r in rs] for us, rs in rows.items()}
    ratios = [b / a for a, b in zip(loop[0], loop[args.writer_us])]
    print(f"echo_writer: the echo's event loop {statistics.median(loop[0]):.3f} ms a message alone, "
          f"{statistics.median(loop[args.writer_us]):.3f} ms beside a writer thread of {args.writer_us:g} us a "
          f"message; by pair {', '.join(f'{x:.3f}' for x in ratios)}x (median {statistics.median(ratios):.3f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
