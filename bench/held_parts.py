#!/usr/bin/env python3
"""The writer's handling of the short mix by reply, split into its named parts, as the server runs it: bench/pipeline.py's
service run (the webhook handler, the receiver, the writer's optimistic batches, the conversation cache), with the
handling's parts timed in the writer thread's CPU (time.thread_time) and added up per kind of reply.

    python bench/held_parts.py [--messages 18000] [--openids 1000] [--mix short] [--plain] [--by-state]

The kinds are those of bench/route_kinds.py (the reply's first words): 已记下 (held while a question waits), 已补充
(the draft routed again), 您好，欢迎 (a first message), the rest. The parts are nested (the conversation step holds
the intake's step and the row's put, the put holds its JSON); "other" is the kind's total less its top-level parts.
Every timed part adds a timer to what holds it (printed: ~1 µs under load): read the parts against each other and the kinds
against each other, and the total against bench/pipeline.py's writer figure only roughly; --plain times each
kind's whole handling alone (no timer inside it), to read the parts' sum against. --by-state (with --plain) also
prints the handling by the conversation's state when the message came (from the writer's remembered row, looked at
without taking it) and the reply's first words: which states a mix's messages are handled in.
"""
from __future__ import annotations

import collections
import sys
import time

import common  # noqa: F401  (bench/common.py puts this checkout on sys.path)
import pipeline

import handlers.dispatcher as D
import handlers.intake as intake
import storage.conversations as conversations
import storage.users as users

# (owner, attribute, label, depth): depth 1 is called by handle_tx itself, 2 inside a depth-1 part, and so on
PARTS = [(users, "get", "users.get (the sender's row)", 1),
         (D.Dispatcher, "_note_lang", "_note_lang", 1),
         (D.Dispatcher, "step_command", "step_command (is it a command?)", 1),
         (D.Dispatcher, "step_campaign", "step_campaign (a survey? its flow read)", 1),
         (D.Dispatcher, "step_conversation", "step_conversation", 1),
         (conversations, "get", "conversations.get", 2),
         (intake.Intake, "step", "Intake.step", 2),
         (intake.Intake, "_by_label", "_by_label", 3),
         (intake.Intake, "_is_answer", "_is_answer", 3),
         (conversations, "put", "conversations.put (the row)", 2),
         (conversations, "dumps", "dumps (the draft's JSON)", 3)]
KINDS = (("已记下", "held 已记下"), ("已补充", "added 已补充"), ("您好，欢迎", "welcome"))

SPENT: dict[str, float] = collections.defaultdict(float)
BY_KIND: dict[str, dict[str, float]] = collections.defaultdict(lambda: collections.defaultdict(float))
COUNT: collections.Counter = collections.Counter()
BY_STATE: dict[tuple, list] = {}  # (state before, the reply's first 8 characters) -> [messages, CPU, an example text]


def timed(f, label):
    def call(*args, **kwargs):
        c = time.thread_time()
        try:
            return f(*args, **kwargs)
        finally:
            SPENT[label] += time.thread_time() - c
    return call


def _state(db, openid: str) -> str | None:
    """The person's conversation state as the writer remembers it, looked at without taking the row (a take
    would make the handling read the file)."""
    cache = conversations.cache_of(db)
    row = cache.rows.get(openid) if cache is not None else None
    return row[1] if row else None


def instrument(parts: bool, by_state: bool = False) -> None:
    for owner, name, label, _ in PARTS if parts else ():
        setattr(owner, name, timed(getattr(owner, name), label))
    handle = D.Dispatcher.handle_tx

    def handle_tx(self, db, inbound, *reads):
        before = dict(SPENT)
        state = _state(db, inbound.openid) if by_state else None
        c = time.thread_time()
        replies = handle(self, db, inbound, *reads)
        cpu = time.thread_time() - c
        said = replies[0].text if replies and not isinstance(replies, D.ReadFirst) else ""
        kind = next((k for head, k in KINDS if said.startswith(head)), "the rest")
        COUNT[kind] += 1
        if by_state:
            seen = BY_STATE.setdefault((state, said[:8].replace("\n", " ")), [0, 0.0, inbound.text])
            seen[0] += 1
            seen[1] += cpu
        spent = BY_KIND[kind]
        spent["total"] += cpu
        for label, t in SPENT.items():
            spent[label] += t - before.get(label, 0.0)
        return replies
    D.Dispatcher.handle_tx = handle_tx


def timer_cost() -> float:
    """What one timed part adds to what holds it, in µs (two thread_time calls and a frame: a system call each
    on Linux, which a loaded machine makes dearer)."""
    f = timed(lambda: None, "timer")
    c = time.thread_time()
    for _ in range(20000):
        f()
    SPENT.pop("timer")
    return (time.thread_time() - c) / 20000 * 1e6


def report(plain: bool = False) -> None:
    n = sum(COUNT.values())
    whole = sum(s["total"] for s in BY_KIND.values())
    print(f"the handling: {1e6 * whole / n:.1f} µs a message over {n} messages (the warm-up's among them); "
          f"a timed part adds {timer_cost():.2f} µs to what holds it")
    for kind in [k for _, k in KINDS] + ["the rest"]:
        k, spent = COUNT[kind], BY_KIND[kind]
        if not k:
            continue
        print(f"{kind}: {100 * k / n:.1f} % of messages, {1e6 * spent['total'] / k:.1f} µs each, "
              f"{100 * spent['total'] / whole:.1f} % of the handling")
        top = 0.0
        for _, _, label, depth in PARTS if not plain else ():
            t = spent.get(label, 0.0)
            top += t if depth == 1 else 0.0
            print(f"    {'  ' * (depth - 1)}{label:44s} {1e6 * t / k:6.1f} µs")
        if not plain:
            print(f"    {'handle_tx, other':44s} {1e6 * (spent['total'] - top) / k:6.1f} µs")


def report_states(top: int = 25) -> None:
    n = sum(v[0] for v in BY_STATE.values())
    whole = sum(v[1] for v in BY_STATE.values())
    print(f"by the conversation's state and the reply ({len(BY_STATE)} pairs; the {top} dearest in all):")
    for (state, said), (k, cpu, text) in sorted(BY_STATE.items(), key=lambda kv: -kv[1][1])[:top]:
        print(f"  {100 * k / n:5.1f} % of messages  {1e6 * cpu / k:6.1f} µs  {100 * cpu / whole:5.1f} % of the handling"
              f"  {state or '(none)':>12}  {said!r}  e.g. {text!r}")


def main() -> int:
    argv = sys.argv[1:]
    plain = "--plain" in argv  # each kind's total alone: no part timed inside it
    by_state = "--by-state" in argv
    argv = [a for a in argv if a not in ("--plain", "--by-state")]
    if "--messages" not in argv:
        argv += ["--messages", "18000"]
    if "--openids" not in argv:
        argv += ["--openids", "1000"]
    sys.argv = [sys.argv[0], *argv, "--repeat", "1", "--no-echo"]
    instrument(not plain, by_state)
    status = pipeline.main()
    report(plain)
    if by_state:
        report_states()
    return status


if __name__ == "__main__":
    sys.exit(main())
