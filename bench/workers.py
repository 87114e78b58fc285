#!/usr/bin/env python3
"""One worker against N, in pairs, in the same run: `bench/webhook.py --workers 1` then `--workers N`, --rounds
times, each with its own fresh database and messages.

    python bench/workers.py [--rounds 3] [--workers 2] [--duration 10] [--port 18200] [--mix short|routing]
    python bench/workers.py --echo --rounds 8 --duration 10 --port P    # and the echo, 1 process against N

Prints, per run: messages/s, p50/p99, the server's CPU per message, the cores other processes used meanwhile,
and per process (writer, HTTP workers) the cores busy; per pair: the ratio N workers / 1 worker of messages/s.
On a shared machine read the pairs' ratios and the CPU per message, not the absolute rates.

With --echo each run is followed by bench/echo_server.py with as many processes (SO_REUSEPORT), in the same
minute: what N processes of a webhook that stores nothing reach against one on this machine, where wrk and the
kernel's loopback share the same cores; the rounds alternate which shape goes first. Each shape's rate on the
machine's cores to itself is projected from CPU a message (its processes, wrk's, the kernel's softirq): one GIL
bounds one process; N processes share the cores with wrk.
"""
from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def run(workers: int, args) -> dict:
    before = set(OUT.glob(f"webhook-{workers}w-*.json")) if OUT.is_dir() else set()
    cmd = [sys.executable, str(ROOT / "bench" / "webhook.py"), "--duration", str(args.duration), "--port",
           str(args.port), "--workers", str(workers), "--mix", args.mix, "--concurrency", str(args.concurrency),
           *(["--echo-workers", str(workers)] if args.echo else ["--no-echo"])]
    print(f"[workers] {' '.join(cmd[1:])}", flush=True)
    proc = subprocess.run(cmd, capture_output=True, text=True)
    new = sorted(set(OUT.glob(f"webhook-{workers}w-*.json")) - before)
    if not new:
        raise SystemExit(f"bench/webhook.py wrote no result ({proc.returncode}):\n{proc.stdout[-3000:]}\n"
                         f"{proc.stderr[-3000:]}")
    result = json.loads(new[-1].read_text())
    result["ok"] = proc.returncode == 0
    return result


def line(r: dict) -> str:
    wrk = r["wrk"]
    per = ", ".join(f"{k} {v:.2f}" for k, v in (r.get("per_process") or {}).items())
    return (f"{r['workers']}w  {r['messages_per_s']:7,.0f} msg/s  p50 {wrk['p50_us'] / 1000:5.1f} / p99 "
            f"{wrk['p99_us'] / 1000:6.1f} ms  CPU/msg {r['cpu_ms_per_message']:.3f} ms  server "
            f"{r['cpu']['server']:.2f} cores, others {r['cpu']['others']:.2f}"
            + (f"  [{per}]" if per else "")
            + (f"\n      {'writer process' if r['workers'] > 1 else 'the process'} by thread: event loop "
               f"{r['loop_cpu_ms_per_message']:.3f} ms, SQLite writer {r['sqlite_writer_cpu_ms_per_message']:.3f} ms a message"
               if r.get("sqlite_writer_cpu_ms_per_message") is not None else "")
            + ("" if r["ok"] else "  CHECK FAILED"))


def projected(one: dict, many: dict) -> tuple[float, float, float] | None:
    """What each shape could do with the machine's cores to itself, from the CPU each process spent per message
    in these runs (CPU per message moves much less with the other sessions than the rates do). One process is one
    GIL: at most 1 / (its CPU per message). N workers: the writer process is serial (1 / the writer's CPU per
    message), and all processes together share the cores the load generator leaves."""
    per = many.get("per_process") or {}
    writer = next((v for k, v in per.items() if "writer" in k), None)
    if not writer or not many["messages_per_s"]:
        return None
    cores = float(many.get("cpus") or 2) - many["cpu"]["tools"]
    one_bound = 1000 / one["cpu_ms_per_message"]
    writer_ms = writer_ms_per_message(many)
    many_bound = min(1000 / writer_ms, 1000 * cores / many["cpu_ms_per_message"])
    return one_bound, many_bound, many_bound / one_bound


def writer_ms_per_message(many: dict) -> float:
    """The writer process's CPU a message: its cores over the CPU window (`cpu.wall_s`, which is longer than
    wrk's own duration by wrk's start and end) times that window, over the messages answered; as the server's
    `cpu_ms_per_message` is counted. (Dividing its cores by the rate over wrk's duration understated it by
    that ratio: ~2 % on a quiet machine, up to a third on a crowded one.)"""
    writer = next(v for k, v in (many.get("per_process") or {}).items() if "writer" in k)
    return 1000 * writer * many["cpu"]["wall_s"] / max(1, many["wrk"]["ok2xx"])


def ceiling(one: dict, many: dict) -> str:
    c = projected(one, many)
    if c is None:
        return "projected: no per-process figures"
    return (f"on free cores: 1w <= {c[0]:,.0f} msg/s (one GIL: 1 / {one['cpu_ms_per_message']:.3f} ms); "
            f"{many['workers']}w <= {c[1]:,.0f} msg/s (writer {writer_ms_per_message(many):.3f} ms a "
            f"message, all processes {many['cpu_ms_per_message']:.3f} ms) -> {c[2]:.2f}x")


def free_cores_bound(cpus: float, one_gil_ms: float | None, processes_ms: float, wrk_ms: float,
                     irq_ms: float) -> float:
    """msg/s on `cpus` cores free of other work: the processes, wrk and the kernel's softirq share them, and a
    serial part (one GIL: the one process, or the writer process) is at most one core."""
    bound = 1000 * cpus / (processes_ms + wrk_ms + irq_ms)
    return min(bound, 1000 / one_gil_ms) if one_gil_ms else bound


def machine(one: dict, many: dict) -> dict:
    """Each shape's figures a message and its bound on free cores, for Tingjian and (with --echo) the echo."""
    def per_msg(r: dict, key: str) -> float:
        return 1000 * r["cpu"][key] * r["cpu"]["wall_s"] / max(1, r["wrk"]["ok2xx"])
    cpus = float(many.get("cpus") or 2)
    out = {"tj1": free_cores_bound(cpus, one["cpu_ms_per_message"], one["cpu_ms_per_message"],
                                   per_msg(one, "tools"), per_msg(one, "irq")),
           "tjN": free_cores_bound(cpus, writer_ms_per_message(many) if many.get("per_process") else None,
                                   many["cpu_ms_per_message"], per_msg(many, "tools"), per_msg(many, "irq")),
           "wrk1": per_msg(one, "tools"), "wrkN": per_msg(many, "tools")}
    e1, eN = one.get("echo"), many.get("echo")
    if e1 and eN:
        out["e1"] = free_cores_bound(cpus, e1["cpu_ms_per_message"], e1["cpu_ms_per_message"],
                                     e1["tools_ms_per_message"], e1["irq_ms_per_message"])
        out["eN"] = free_cores_bound(cpus, None, eN["cpu_ms_per_message"], eN["tools_ms_per_message"],
                                     eN["irq_ms_per_message"])
    return out


def echo_line(e: dict) -> str:
    return (f"echo {e['workers']}p {e['rate']:7,.0f} msg/s  p50 {e['p50_us'] / 1000:5.1f} / p99 {e['p99_us'] / 1000:6.1f} ms"
            f"  CPU/msg {e['cpu_ms_per_message']:.3f} ms  wrk {e['tools_ms_per_message']:.3f}, irq "
            f"{e['irq_ms_per_message']:.3f} ms  others {e['cpu']['others']:.2f} cores")


def median(values: list[float]) -> float:
    values = sorted(values)
    n = len(values)
    return values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--duration", type=int, default=10)
    p.add_argument("--concurrency", type=int, default=50)
    p.add_argument("--port", type=int, default=18200)
    p.add_argument("--mix", choices=("short", "routing"), default="short")
    p.add_argument("--echo", action="store_true",
                   help="after each run, the echo with as many processes (1 against --workers), same minute")
    args = p.parse_args()
    pairs = []
    for n in range(args.rounds):
        if n % 2 == 0 or not args.echo:
            one = run(1, args)
            many = run(args.workers, args)
        else:  # alternated: the shape that goes second meets the minute after
            many = run(args.workers, args)
            one = run(1, args)
        pairs.append((one, many))
        print(f"[workers] round {n + 1}: {many['messages_per_s'] / one['messages_per_s']:.2f}x"
              + (f", echo {many['echo']['rate'] / one['echo']['rate']:.2f}x"
                 if one.get("echo") and many.get("echo") else ""), flush=True)
    print(f"\n{time.strftime('%Y-%m-%d %H:%M')}  python bench/workers.py " + " ".join(sys.argv[1:]))
    for n, (one, many) in enumerate(pairs, 1):
        print(f"round {n}:")
        print("  " + line(one))
        print("  " + line(many))
        print(f"  ratio {args.workers}w / 1w: messages/s {many['messages_per_s'] / one['messages_per_s']:.2f}x, "
              f"CPU per message {many['cpu_ms_per_message'] / one['cpu_ms_per_message']:.2f}x")
        print("  " + ceiling(one, many))
        if one.get("echo") and many.get("echo"):
            m = machine(one, many)
            print("  " + echo_line(one["echo"]))
            print("  " + echo_line(many["echo"]))
            print(f"  ratio echo {args.workers}p / 1p: messages/s {many['echo']['rate'] / one['echo']['rate']:.2f}x; "
                  f"on free cores (wrk and softirq on them too): echo {m['eN'] / m['e1']:.2f}x "
                  f"({m['e1']:,.0f} -> {m['eN']:,.0f}), Tingjian {m['tjN'] / m['tj1']:.2f}x "
                  f"({m['tj1']:,.0f} -> {m['tjN']:,.0f}); wrk {m['wrk1']:.3f} / {m['wrkN']:.3f} ms a message")
    if args.echo and all(o.get("echo") and m_.get("echo") for o, m_ in pairs):
        tj = [m_["messages_per_s"] / o["messages_per_s"] for o, m_ in pairs]
        ec = [m_["echo"]["rate"] / o["echo"]["rate"] for o, m_ in pairs]
        ms = [machine(o, m_) for o, m_ in pairs]
        print(f"medians of {len(pairs)} rounds, measured: Tingjian {args.workers}w / 1w {median(tj):.2f}x "
              f"(range {min(tj):.2f}-{max(tj):.2f}); echo {args.workers}p / 1p {median(ec):.2f}x "
              f"(range {min(ec):.2f}-{max(ec):.2f})")
        print(f"medians, on free cores: Tingjian {median([m_['tjN'] / m_['tj1'] for m_ in ms]):.2f}x, "
              f"echo {median([m_['eN'] / m_['e1'] for m_ in ms]):.2f}x; CPU a message: Tingjian 1w "
              f"{median([o['cpu_ms_per_message'] for o, _ in pairs]):.3f}, {args.workers}w "
              f"{median([m_['cpu_ms_per_message'] for _, m_ in pairs]):.3f} ms (writer "
              f"{median([writer_ms_per_message(m_) for _, m_ in pairs]):.3f}); echo 1p "
              f"{median([o['echo']['cpu_ms_per_message'] for o, _ in pairs]):.3f}, {args.workers}p "
              f"{median([m_['echo']['cpu_ms_per_message'] for _, m_ in pairs]):.3f}; wrk "
              f"{median([m_['wrk1'] for m_ in ms]):.3f} / {median([m_['wrkN'] for m_ in ms]):.3f} ms")
    ceilings = [projected(one, many) for one, many in pairs]
    ratios = sorted(c[2] for c in ceilings if c)
    if ratios:
        print(f"projected {args.workers}w / 1w on free cores, median of {len(ratios)}: {ratios[len(ratios) // 2]:.2f}x")
    return 0 if all(o["ok"] and m["ok"] for o, m in pairs) else 1


if __name__ == "__main__":
    sys.exit(main())
