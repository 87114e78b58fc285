#!/usr/bin/env python3
"""CPU of routing a draft again when a person adds to it (已补充), old code against new, alternated in one run.

    python bench/added_route.py --old /tmp/before [--mix short|routing] [--messages 18000] [--rounds 4]

First the drafts: bench/pipeline.py's service run on this checkout (the webhook handler, the writer, --openids 1000),
and each draft whose router call came from a message answered 已补充 is kept with its parts. Then, in a fresh
process per side and round (PYTHONPATH=<old checkout> for the old; the sides alternate, old first in odd rounds,
new first in even ones), every distinct draft is routed as the service meets it: its parts but the last routed first
(the draft as it stood), the last part alone (the another-matter check, Router.category), then the whole draft
(Router.route and its dict), of which only the last is timed, in the thread's CPU. Prints µs per draft for each side
and round and the ratio new/old per round (read a round with its swapped pair: the first process of a pair meets
other minutes of a loaded machine than the second).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)

HERE = Path(__file__).resolve()


def capture(out: str, mix: str, messages: int) -> None:
    """The drafts routed again by 已补充 messages in bench/pipeline.py's service run, as lists of parts."""
    import pipeline
    import handlers.dispatcher as D
    import handlers.intake as intake

    current: list[list[str]] = []
    kept: list[list[str]] = []
    refresh = intake.Intake._refresh

    def _refresh(self, d):
        current.append(list(d.parts))
        return refresh(self, d)

    handle = D.Dispatcher.handle_tx

    def handle_tx(self, db, inbound, *reads):
        current.clear()
        replies = handle(self, db, inbound, *reads)
        said = replies[0].text if replies and not isinstance(replies, D.ReadFirst) else ""
        if said.startswith("已补充"):
            kept.extend(p for p in current if len(p) > 1)
        return replies

    intake.Intake._refresh, D.Dispatcher.handle_tx = _refresh, handle_tx
    sys.argv = [sys.argv[0], "--mix", mix, "--messages", str(messages), "--openids", "1000", "--repeat", "1",
                "--no-echo"]
    pipeline.main()
    Path(out).write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")


def timed(path: str, repeat: int) -> None:
    """Prints the µs of CPU per draft of routing each distinct draft of `path`, as the service meets it."""
    from handlers.routing import Router
    drafts, seen = [], set()
    for parts in json.loads(Path(path).read_text(encoding="utf-8")):
        whole = "\n".join(parts)
        if whole not in seen:
            seen.add(whole)
            drafts.append(("\n".join(parts[:-1]), parts[-1], whole))
    spent = 0.0
    for _ in range(repeat):
        router = Router.from_toml().warm()  # each pass a fresh one: no draft met before, as in the service
        for before, added, whole in drafts:
            router.route(before)
            router.category(added)
            router._cores.clear()  # (the added part's core: a draft is never the part alone)
            c = time.thread_time()
            router.route(whole).to_dict()
            spent += time.thread_time() - c
    print(json.dumps({"drafts": len(drafts), "us": 1e6 * spent / (repeat * len(drafts))}))


def side(checkout: str | None, path: str, repeat: int) -> float:
    env = dict(os.environ)
    if checkout:
        env["PYTHONPATH"] = checkout
    else:
        env.pop("PYTHONPATH", None)
    out = subprocess.run([sys.executable, str(HERE), "--time", path, "--repeat", str(repeat)], env=env, check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])["us"]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--old", help="the old checkout (e.g. `git archive main | tar -x -C /tmp/before`)")
    p.add_argument("--mix", choices=("short", "routing"), default="short")
    p.add_argument("--messages", type=int, default=18000)
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--repeat", type=int, default=3, help="passes over the drafts in one process, each with a new router")
    p.add_argument("--drafts", help="drafts captured before (skip the capture)")
    p.add_argument("--capture", help=argparse.SUPPRESS)
    p.add_argument("--time", help=argparse.SUPPRESS)
    a = p.parse_args()
    if a.capture:
        capture(a.capture, a.mix, a.messages)
        return 0
    if a.time:
        timed(a.time, a.repeat)
        return 0
    if not a.old:
        p.error("--old is needed")
    path = a.drafts
    if path is None:
        path = os.path.join(tempfile.mkdtemp(prefix="added_route"), "drafts.json")
        subprocess.run([sys.executable, str(HERE), "--capture", path, "--mix", a.mix, "--messages", str(a.messages)],
                       check=True, capture_output=True)
    n = len(json.loads(Path(path).read_text(encoding="utf-8")))
    print(f"{n} drafts routed again by 已补充 ({a.mix} mix, {a.messages} messages); drafts: {path}")
    ratios = []
    for r in range(a.rounds):
        order = [("old", a.old), ("new", None)] if r % 2 == 0 else [("new", None), ("old", a.old)]
        got = {name: side(where, path, a.repeat) for name, where in order}
        ratios.append(got["new"] / got["old"])
        print(f"round {r + 1} ({order[0][0]} first): old {got['old']:.1f} µs, new {got['new']:.1f} µs a draft, "
              f"new/old {ratios[-1]:.3f}")
    print(f"new/old: median {statistics.median(ratios):.3f} (rounds {', '.join(f'{x:.3f}' for x in ratios)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
