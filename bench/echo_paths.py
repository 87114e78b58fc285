#!/usr/bin/env python3
"""What aiohttp's Application layer costs a webhook message: the echo as an Application and on the low-level server.

    python bench/echo_paths.py [--rounds 4] [--duration 10] [--port 9820] [--concurrency 50]

bench/echo_server.py twice, alternated round by round under the same wrk load and the same requests as
bench/webhook.py: `--shape app` (web.Application with its router, a Request, signals: what the service and
bench/webhook.py's echo are) and `--shape lowlevel` (aiohttp's web.Server, one handler, a BaseRequest). The
difference in CPU a message is the most a leaner path for the webhook through aiohttp could save (issue 10's
lever 2). Prints each run and the medians.
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


def one(shape: str, port: int, concurrency: int, duration: int, workdir: Path) -> dict:
    logf = open(workdir / f"echo-{shape}.log", "wb")
    proc = subprocess.Popen([sys.executable, str(wh.ROOT / "bench" / "echo_server.py"), "--port", str(port),
                             "--shape", shape], stdout=logf, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        if not common.wait_up(proc, port, 30, poll=0.2):
            raise SystemExit(f"echo ({shape}) did not start:\n{(workdir / f'echo-{shape}.log').read_text()[-2000:]}")
        cpu0 = wh.tree_cpu_seconds(proc.pid)
        result, _, _ = wh.run_wrk(port, concurrency, duration, workdir)
        cpu = wh.tree_cpu_seconds(proc.pid) - cpu0
        answered = max(1, result["passive"])
        return {"rate": answered / (result["duration_us"] / 1e6), "p99_ms": result["p99_us"] / 1000,
                "cpu_ms": 1000 * cpu / answered, "non2xx": result["non2xx"]}
    finally:
        wh.stop_server(proc)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--port", type=int, default=9820)
    p.add_argument("--concurrency", type=int, default=50)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="echo-paths-") as tmp:
        workdir = Path(tmp)
        n = int(args.duration * 6000 * 1.5)
        wh.build_requests(n, max(1, n // 4), args.port, workdir, wh.WRK_THREADS)
        runs: dict[str, list[dict]] = {"app": [], "lowlevel": []}
        for r in range(args.rounds):
            for shape in (("app", "lowlevel") if r % 2 == 0 else ("lowlevel", "app")):
                out = one(shape, args.port, args.concurrency, args.duration, workdir)
                runs[shape].append(out)
                print(f"round {r + 1} {shape:8s} {out['rate']:7,.0f} msg/s  p99 {out['p99_ms']:6.1f} ms  "
                      f"CPU {out['cpu_ms']:.3f} ms a message  non-2xx {out['non2xx']:.0f}", flush=True)
    med = {s: statistics.median(o["cpu_ms"] for o in v) for s, v in runs.items()}
    pairs = [lo["cpu_ms"] / ap["cpu_ms"] for ap, lo in zip(runs["app"], runs["lowlevel"])]
    print(f"median CPU a message: Application {med['app']:.3f} ms, low-level server {med['lowlevel']:.3f} ms "
          f"(low-level / Application by round: {', '.join(f'{x:.2f}' for x in pairs)}; "
          f"median {statistics.median(pairs):.2f})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
