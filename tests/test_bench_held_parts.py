"""bench/held_parts.py (bench/README.md, hot17) times the handling by reply and its named parts inside it: the timers
must not change what is handled. The same short mix, timed whole (--plain) and in parts, gives every kind the same
count of replies, and the parts of each kind add up to no more than its total."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
KIND = re.compile(r"^(held 已记下|added 已补充|welcome|the rest): ([\d.]+) % of messages, ([\d.]+) µs each", re.M)
PART = re.compile(r"^ {4,}(\S.*?)\s{2,}(-?[\d.]+) µs$", re.M)


def _run(*args: str) -> str:
    done = subprocess.run([sys.executable, "bench/held_parts.py", "--messages", "2400", "--openids", "200", *args],
                          cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


@pytest.fixture(scope="module")
def plain() -> str:
    """The mix timed whole, by state too (--by-state only looks at the remembered row, times nothing inside):
    one run of the bench for both tests below."""
    return _run("--plain", "--by-state")


def test_the_timers_change_no_reply_and_the_parts_fit_in_their_kind(plain):
    parted = _run()
    shares = {k: float(s) for k, s, _ in KIND.findall(plain)}
    assert shares == {k: float(s) for k, s, _ in KIND.findall(parted)}
    assert shares["held 已记下"] > 20 and abs(sum(shares.values()) - 100) < 0.5  # 12 messages a person: most held
    assert not PART.findall(plain)
    blocks = re.split(r"^(?=held 已记下|added 已补充|welcome|the rest)", parted, flags=re.M)[1:]
    for block in blocks:
        total = float(KIND.match(block).group(3))
        parts = dict(PART.findall(block))
        assert "dumps (the draft's JSON)" in parts and "Intake.step" in parts
        top = ["users.get (the sender's row)", "_note_lang", "step_command (is it a command?)",
               "step_campaign (a survey? its flow read)", "step_conversation"]
        assert sum(float(parts[p]) for p in top) <= total + 0.2
        assert float(parts["handle_tx, other"]) >= -0.2


def test_by_state_says_where_each_reply_was_given(plain):
    from handlers.intake import DETOURS
    out = plain
    rows = re.findall(r"^ +([\d.]+) % of messages +[\d.]+ µs +[\d.]+ % of the handling +(\S+) +'(.*?)'", out, re.M)
    assert len(rows) >= 5
    held = {state for _, state, said in rows if said.startswith("已记下")}  # held while a question off the path waits
    assert held and held <= set(DETOURS)
    assert any(state == "(none)" and said.startswith("您好，欢迎") for _, state, said in rows)  # a first message
