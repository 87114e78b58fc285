"""No pattern of the service backtracks without bound on a citizen's text.

Every message is read by dozens of regexes on the writer thread, with the GIL: a pattern that splits a run of one
character every way before failing (a repeat inside a repeat, as `(?:喂+)+`) costs twice as much for each character
more, and 30 喂 and a word after them held the writer for minutes. This walks every compiled pattern the service's
modules hold and tries each on runs of its own characters (and pairs of them) with a failing end, in a child
process: a linear pattern reads all of them in seconds; one that is not never finishes. The polynomial cases (a
long run read from every place) are measured by bench/long_texts.py, not here."""
from __future__ import annotations

import importlib
import pkgutil
import re
import re._parser as sre_parse  # (the parser re itself uses: a pattern's literal characters)
import subprocess
import sys
from pathlib import Path
from typing import Iterator

from re._constants import LITERAL

ROOT = Path(__file__).resolve().parents[1]
RUN = 40          # characters in a run: 2**40 splits for a nested repeat, a few µs for a linear one
PACKAGES = ("handlers", "bot", "storage")


def patterns() -> Iterator[tuple[str, re.Pattern]]:
    """Every compiled pattern held at module level (alone or in a tuple, list or dict) by the service's modules."""
    seen: set[int] = set()
    for package in PACKAGES:
        for info in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
            module = importlib.import_module(info.name)
            for name, value in vars(module).items():
                values = value.values() if isinstance(value, dict) else value
                for p in (values if isinstance(value, (tuple, list, dict)) else [value]):
                    if isinstance(p, re.Pattern) and id(p) not in seen:
                        seen.add(id(p))
                        yield f"{info.name}.{name}", p


def _literals(items, out: list[str]) -> None:
    for op, av in items:
        if op == LITERAL:
            out.append(chr(av))
        elif isinstance(av, (list, tuple)):
            for a in av:
                for b in (a if isinstance(a, (list, tuple)) else [a]):
                    if isinstance(b, sre_parse.SubPattern):
                        _literals(b, out)


def probes(pattern: re.Pattern) -> list[str]:
    """Runs of each character the pattern names, of each pair of them side by side, and of a space, a line end, a
    full stop and an emoji, each ended by a character that fails."""
    found: list[str] = []
    _literals(sre_parse.parse(pattern.pattern, pattern.flags), found)
    chars = "".join(dict.fromkeys(found))
    units = sorted(set(chars) | {chars[i:i + 2] for i in range(len(chars) - 1)} | {" ", "\n", "。", "😀"})
    return [u * RUN + end for u in units for end in ("\x00", "x")]


def check_all() -> int:
    """Reads every probe with fullmatch, match and search; prints each pattern's name before it (the last name
    printed is the one that did not finish). Returns how many patterns were read."""
    count = 0
    for name, p in patterns():
        print(name, flush=True)
        for text in probes(p):
            p.fullmatch(text), p.match(text), p.search(text)
        count += 1
    return count


def test_a_nested_repeat_meets_a_probe_that_splits_its_run():
    assert "喂" * RUN + "\x00" in probes(re.compile(r"(?:(?:你好|喂+)[\s!]*)+"))
    assert "嗯哦" * RUN + "x" in probes(re.compile(r"(?:那个|嗯+|哦+)+"))


def test_every_pattern_reads_runs_of_its_own_characters_without_backtracking_for_ever():
    code = ("import sys; sys.path.insert(0, %r); from tests.test_patterns_bounded import check_all; "
            "print('checked', check_all())" % str(ROOT))
    try:
        run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=900, cwd=ROOT)
    except subprocess.TimeoutExpired as exc:
        names = (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
        last = names.strip().splitlines()[-1:] or ["(none)"]
        raise AssertionError(f"{last[0]} did not finish on a run of its own characters") from None
    assert run.returncode == 0, run.stderr[-2000:]
    checked = int(run.stdout.strip().splitlines()[-1].split()[-1])
    assert checked >= 150, checked  # the walk found the service's patterns, not a few of them
