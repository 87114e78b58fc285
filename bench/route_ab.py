#!/usr/bin/env python3
"""CPU per routed text, old router against new, in ONE process, interleaved: on a machine shared with other work
the figures of two separate runs differ by ±30 % with the load, while two routers taking turns every 20 texts
see the same load, so their ratio holds.

    python bench/route_ab.py --base main          # old = `git archive main`'s handlers/, new = this checkout
    python bench/route_ab.py --old /tmp/before    # old = the handlers/ of a checkout unpacked there

The old checkout's `handlers` package is copied as `oldhandlers` (imports rewritten) so both load side by side.
Texts: bench/webhook.py's routing mix (whole sentences never seen: the webhook's case, no cut remembered) and
handlers/routing/training.csv (short and long), each text routed once by each router; then the another-matter check
on sentences neither has seen (a supplement's category: its whole decision before route9, Router.category since).
"""
from __future__ import annotations

import argparse
import csv
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import webhook as wh

ROOT = Path(__file__).resolve().parent.parent
SCHOOLS = [(f"S{i:04d}", f"第{i}实验小学", [f"{i}小"]) for i in range(1, 301)]


def old_package(args, tmp: Path) -> Path:
    src = Path(args.old) if args.old else tmp / "old"
    if not args.old:
        src.mkdir()
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.base, "handlers"], check=True,
                                 capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(src)], input=archive.stdout, check=True)
    dst = tmp / "pkg" / "oldhandlers"
    shutil.copytree(src / "handlers", dst)
    for f in dst.rglob("*.py"):
        s = f.read_text(encoding="utf-8")
        s = re.sub(r"\bfrom handlers\b", "from oldhandlers", s)
        s = re.sub(r"\bimport handlers\b", "import oldhandlers", s)
        f.write_text(re.sub(r"\bhandlers\.", "oldhandlers.", s), encoding="utf-8")
    return tmp / "pkg"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--base", default="main")
    ap.add_argument("--old")
    ap.add_argument("--texts", type=int, default=3000, help="routing-mix sentences (default 3000)")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="route-ab-"))
    try:
        sys.path.insert(0, str(old_package(args, tmp)))
        from oldhandlers.routing import Router as OldRouter

        from handlers.routing import Router
        from handlers.routing.router import _base_dictionary
        _base_dictionary()  # jieba's dictionary, shared by both
        t0 = time.process_time()
        new = Router.from_toml(schools=SCHOOLS)
        t1 = time.process_time()
        old = OldRouter.from_toml(schools=SCHOOLS)
        t2 = time.process_time()
        rng = random.Random(5)
        mix = list(dict.fromkeys(wh.routing_text(rng) for _ in range(args.texts)))
        with open(ROOT / "handlers/routing/training.csv", encoding="utf-8-sig", newline="") as f:
            training = [r["text"] for r in csv.DictReader(f)]
        print(f"Router.from_toml (jieba's dictionary loaded before): new {(t1 - t0) * 1000:.0f} ms, "
              f"old {(t2 - t1) * 1000:.0f} ms CPU")
        # the another-matter check (intake._is_new_matter) on sentences neither router has seen: before route9 the
        # supplement's whole decision as the dispatcher keeps it (route().to_dict()); now its category alone
        rng = random.Random(6)
        seen = set(mix)
        check = [t for t in dict.fromkeys(wh.routing_text(rng) for _ in range(args.texts)) if t not in seen]
        old_check = getattr(old, "category", None) or (lambda x: old.route(x).to_dict()["category"])
        new_check = getattr(new, "category", None) or (lambda x: new.route(x).to_dict()["category"])
        for name, data, fns in (("routing-mix sentences", mix, (old.route, new.route)),
                                ("training.csv", training, (old.route, new.route)),
                                ("another-matter check, new routing-mix sentences", check, (old_check, new_check))):
            total = {"old": 0, "new": 0}
            for i in range(0, len(data), 20):
                chunk = data[i:i + 20]
                sides = (("old", fns[0]), ("new", fns[1])) if (i // 20) % 2 else (("new", fns[1]), ("old", fns[0]))
                for side, f in sides:
                    c = time.process_time_ns()
                    for x in chunk:
                        f(x)
                    total[side] += time.process_time_ns() - c
            o, n = total["old"] / len(data) / 1000, total["new"] / len(data) / 1000
            print(f"{name} ({len(data)}): old {o:.0f} us, new {n:.0f} us CPU per text -> new/old {n / o:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
