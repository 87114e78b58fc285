"""What a busy job child costs a waking thread of the service, by the child's priority (bench/README.md, jobs10).

    setsid python bench/job_priority.py --rounds 3 --seconds 5        # arms alternated in the same minutes

A probe thread does what the webhook's threads do (0.5 ms of work, then a 1 ms wait, again and again); beside it a
spawned child spins, both pinned to CPU 0. Per arm: how late the probe's wake-ups ran (p50/p99/max) and the share
of CPU 0 the probe got. Arms: no child; the child at nice 19 (as bot/digest_job.py runs it); SCHED_IDLE; in a
session of its own (Linux autogroups: a scheduling group of its own), at autogroup nice 0 and 19. Run it with
`setsid` so that the probe's group is its own, as a service's is.
"""
from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import time

ARMS = ("none", "nice19", "idle", "session", "session19")


def spin(arm: str) -> None:
    os.sched_setaffinity(0, {0})
    os.nice(19)
    if arm == "idle":
        os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
    if arm.startswith("session"):
        os.setsid()  # a new session: with autogroups, a scheduling group of its own
        with open("/proc/self/autogroup", "w") as f:
            f.write("19" if arm == "session19" else "0")
    while True:
        pass


def probe(seconds: float) -> tuple[list[float], float]:
    late, c0, w0 = [], time.process_time(), time.perf_counter()
    while time.perf_counter() - w0 < seconds:
        t = time.perf_counter()
        while time.perf_counter() - t < 0.0005:
            pass
        t = time.perf_counter()
        time.sleep(0.001)
        late.append((time.perf_counter() - t - 0.001) * 1e3)
    return sorted(late), (time.process_time() - c0) / (time.perf_counter() - w0)


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=float, default=5)
    p.add_argument("--arms", nargs="+", choices=ARMS, default=list(ARMS))
    args = p.parse_args()
    os.sched_setaffinity(0, {0})
    for r in range(args.rounds):
        for arm in args.arms:
            child = None
            if arm != "none":
                child = mp.get_context("spawn").Process(target=spin, args=(arm,), daemon=True)
                child.start()
                time.sleep(0.3)
            late, share = probe(args.seconds)
            if child is not None:
                child.kill()
                child.join()
            n = len(late)
            print(f"round {r + 1} {arm:9s} wake-ups {n:5d}, late p50 {late[n // 2]:.2f} p99 {late[int(n * .99)]:.2f} "
                  f"max {late[-1]:.1f} ms; the probe's share of CPU 0 {share:.2f}; load {os.getloadavg()[0]:.1f}",
                  flush=True)


if __name__ == "__main__":
    main()
