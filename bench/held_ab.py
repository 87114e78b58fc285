#!/usr/bin/env python3
"""The routing mix's writer CPU a message, old checkout against this one, taking turns round by round: two worker
processes (one run with PYTHONPATH=<old checkout>), each with its own database, get the same bench/webhook.py routing
mix, 50 in flight as in the server; the parent tells them to run one round each in turn (which goes first
alternates), so the machine's load of that moment falls on both alike. Separate runs on this shared machine differ by
±30 %; turns of 250 messages (a tenth of a second or so) see the same load.

    python bench/held_ab.py --old /tmp/before [--messages 15000] [--openids 1000] [--chunk 250]

Message i goes to sender i % openids, so round r (openids messages) is everyone's r-th message: round 1 their first
(welcome, which school?), round 2 their second (another matter? / added), rounds 3 on held while that question
waits (已记下…). Printed per round and side: the writer thread's CPU a message (time.thread_time on it: the handling,
the batch's claims, rows and COMMIT) and the handling alone (Dispatcher.handle_tx) of the held messages; then, over
rounds 3 on, the medians and new / old by round.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


async def worker(messages: int, openids: int, port: int) -> None:
    import common  # noqa: F401  (this checkout on sys.path after PYTHONPATH)
    import webhook as wh

    import handlers.dispatcher as D
    from bot.app import DB, RECEIVER, create_app
    from bot.config import load_config
    from bot.receiver import _Answer
    from handlers.messages import Inbound
    from tests.conftest import running

    held = {"cpu": 0.0, "held": 0, "other": 0.0, "m": 0}
    handle = D.Dispatcher.handle_tx

    def handle_tx(self, db, inbound, *reads):
        c = time.thread_time()
        replies = handle(self, db, inbound, *reads)
        cpu = time.thread_time() - c
        if replies and not isinstance(replies, D.ReadFirst) and replies[0].text.startswith("已记下"):
            held["cpu"] += cpu
            held["held"] += 1
        else:
            held["other"] += cpu
            held["m"] += 1
        return replies
    D.Dispatcher.handle_tx = handle_tx

    tmp = Path(tempfile.mkdtemp(prefix="held-ab-"))
    try:
        app = create_app(load_config(wh.write_config(tmp, port), env={}))
        async with running(app):
            db, receiver = app[DB], app[RECEIVER]
            rng = random.Random(1)
            pool = [f"o_bench{rng.getrandbits(80):020x}" for _ in range(openids)]
            all_messages = [Inbound(openid=pool[i % len(pool)], kind="text", text=wh.routing_text(rng),
                                    created_at=1_800_000_000, msg_id=str(wh.MSG_ID_BASE + i)) for i in range(messages)]
            gate = asyncio.Semaphore(50)
            call = getattr(db, "run_redoable", db.run)

            async def one(m: Inbound) -> None:
                async with gate:
                    await call(receiver._claim_and_handle, m.dedupe_key, m, _Answer(passive_ok=True), None, None)

            await db.run(lambda d: None)
            print(json.dumps({"ready": D.__file__}), flush=True)
            at = 0
            for line in sys.stdin:  # "go K": the next K messages
                k = int(line.split()[1])
                chunk = all_messages[at:at + k]
                at += k
                for key in held:
                    held[key] = 0
                before = await db.run(lambda d: time.thread_time())
                await asyncio.gather(*(one(m) for m in chunk))
                after = await db.run(lambda d: time.thread_time())
                print(json.dumps({"writer": after - before, "n": len(chunk), **held}), flush=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--old", required=False, help="the old checkout (its root: bot/, handlers/, storage/)")
    ap.add_argument("--messages", type=int, default=15000)
    ap.add_argument("--openids", type=int, default=1000)
    ap.add_argument("--port", type=int, default=18097)
    ap.add_argument("--chunk", type=int, default=250, help="messages a side runs before the other's turn")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        asyncio.run(worker(args.messages, args.openids, args.port))
        return 0
    if not args.old:
        ap.error("--old is required")
    sides = {}
    for i, (name, path) in enumerate((("old", os.path.abspath(args.old)), ("new", None))):
        env = dict(os.environ)
        if path:
            env["PYTHONPATH"] = path + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
        else:
            env.pop("PYTHONPATH", None)
        p = subprocess.Popen([sys.executable, str(HERE / "held_ab.py"), "--worker", "--messages", str(args.messages),
                              "--openids", str(args.openids), "--port", str(args.port + i)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        sides[name] = p
    for name, p in sides.items():
        ready = json.loads(p.stdout.readline())
        print(f"{name}: {ready['ready']}", flush=True)
    rounds = args.messages // args.openids
    out: dict[str, list[dict]] = {"old": [], "new": []}
    turn = 0
    for r in range(rounds):
        got = {name: {"writer": 0.0, "n": 0, "cpu": 0.0, "held": 0, "other": 0.0, "m": 0} for name in sides}
        left = args.openids
        while left:  # the round in chunks, the two sides taking turns, which goes first alternating
            k = min(args.chunk, left)
            left -= k
            for name in (("old", "new") if turn % 2 == 0 else ("new", "old")):
                p = sides[name]
                p.stdin.write(f"go {k}\n")
                p.stdin.flush()
                for key, v in json.loads(p.stdout.readline()).items():
                    got[name][key] += v
            turn += 1
        for name in ("old", "new"):
            g = got[name]
            one = {"writer": g["writer"] / g["n"] * 1000, "held": g["cpu"] / g["held"] * 1000 if g["held"] else None,
                   "held_share": g["held"] / g["n"]}
            out[name].append(one)
        o, n = out["old"][-1], out["new"][-1]
        held = f"; held ({100 * n['held_share']:.0f} %) handling {o['held']:.3f} / {n['held']:.3f} ms each " \
               f"({n['held'] / o['held']:.3f})" if o["held"] and n["held"] else ""
        print(f"round {r + 1:2d}: writer thread old {o['writer']:.3f} / new {n['writer']:.3f} ms a message "
              f"({n['writer'] / o['writer']:.3f}){held}", flush=True)
    for p in sides.values():
        p.stdin.close()
        p.wait()
    later = range(2, rounds)
    for key, label in (("writer", "writer thread a message"), ("held", "a held message's handling")):
        old = [out["old"][r][key] for r in later]
        new = [out["new"][r][key] for r in later]
        ratios = sorted(b / a for a, b in zip(old, new))
        print(f"rounds 3-{rounds}, {label}: old median {statistics.median(old):.3f} ms, new {statistics.median(new):.3f}"
              f" ms; new / old by round median {statistics.median(ratios):.3f} (range {ratios[0]:.2f}-{ratios[-1]:.2f})")
    for r, label in ((0, "round 1 (first messages)"), (1, "round 2 (second messages)")):
        o, n = out["old"][r]["writer"], out["new"][r]["writer"]
        print(f"{label}: writer thread old {o:.3f}, new {n:.3f} ms a message ({n / o:.3f})")
    every = [b["writer"] / a["writer"] for a, b in zip(out["old"], out["new"])]
    mean_old = sum(x["writer"] for x in out["old"]) / rounds
    mean_new = sum(x["writer"] for x in out["new"]) / rounds
    print(f"all {rounds} rounds: writer thread old {mean_old:.3f}, new {mean_new:.3f} ms a message "
          f"({mean_new / mean_old:.3f}); by round median {statistics.median(every):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
