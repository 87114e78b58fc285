#!/usr/bin/env python3
"""CPU a message against the rate a process got, over the rounds of `bench/webhook.py --segments` runs.

    python bench/segments_fit.py [bench/out/webhook-segments-*.json ...] [--messages 3000] [--skip-first]

On a shared machine the rate a process gets moves from one minute to the next, and its CPU a message moves with it
(the less it runs, the more of its CPU goes to what a process pays each time it gets a core back). Fitting
cpu_ms = a + b * (1000 / rate) over every round of the given runs (each process apart: this tree, the old tree,
the echo) separates the per-message part (a) from the part paid per second of being loaded (b); the ratio of the
echo's fit to the server's, at a given rate, is the CPU ratio at that rate. Rounds of a person's first messages
cost more (the welcome, a new conversation): --skip-first leaves each run's first round out.
"""
from __future__ import annotations

import argparse
import glob
import json
import statistics
from pathlib import Path

OUT = Path(__file__).resolve().parent / "out"


def fit(points: list[tuple[float, float]]) -> tuple[float, float, float]:
    """Least squares of cpu_ms on 1000/rate: (a, b, correlation)."""
    xs, ys = [1000 / r for r, _ in points], [c for _, c in points]
    mx, my = statistics.fmean(xs), statistics.fmean(ys)
    b = sum((x - mx) * (y - my) for x, y in zip(xs, ys)) / sum((x - mx) ** 2 for x in xs)
    return my - b * mx, b, statistics.correlation(xs, ys)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0], epilog=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("files", nargs="*", help="results of bench/webhook.py --segments (default: all in bench/out)")
    p.add_argument("--messages", type=int, default=None, help="only runs of this --segment-messages")
    p.add_argument("--skip-first", action="store_true", help="leave each run's first round out")
    p.add_argument("--rates", default="200,500,1000,2000", help="rates at which to print the fitted CPU ratio")
    args = p.parse_args()
    files = args.files or sorted(glob.glob(str(OUT / "webhook-segments-*.json")))
    points: dict[str, list[tuple[float, float]]] = {}
    runs = 0
    for f in files:
        r = json.loads(Path(f).read_text())
        if "segment_messages" not in r or (args.messages and r["segment_messages"] != args.messages):
            continue
        runs += 1
        for k, pair in enumerate(r["pairs"]):
            if args.skip_first and k == 0:
                continue
            for who in ("server", "old", "echo"):
                if who in pair:
                    points.setdefault(who, []).append((pair[who]["rate"], pair[who]["cpu_ms"]))
    if "echo" not in points or len(points["echo"]) < 3:
        print("fewer than 3 rounds: nothing to fit")
        return 1
    fits = {who: fit(pts) for who, pts in points.items() if len(pts) >= 3}
    print(f"{runs} runs, rounds{' after the first' if args.skip_first else ''}: cpu_ms = a + b * (1000 / rate)")
    for who, (a, b, r) in fits.items():
        rates = [x for x, _ in points[who]]
        print(f"  {who:<7} {len(points[who]):>3} rounds at {min(rates):,.0f}-{max(rates):,.0f} msg/s: "
              f"a {a:.3f} ms, b {b:.3f} ms (correlation {r:.2f})")
    ea, eb, _ = fits["echo"]
    for who in (w for w in fits if w != "echo"):
        a, b, _ = fits[who]
        print(f"  {who} CPU ratio (echo / it) at the same rate: "
              + ", ".join(f"{rate:,} msg/s {(ea + eb * 1000 / rate) / (a + b * 1000 / rate):.2f}x"
                          for rate in (int(x) for x in args.rates.split(","))))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
