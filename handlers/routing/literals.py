"""Every literal string the rules look for, found in one pass of a compiled Aho–Corasick automaton (pyahocorasick).

The router asked a text about its literals one probe at a time: a slice and a dictionary look-up per rule word that
could start at each character, an `in` per urgent word, demand word, settled word, context word. An automaton of
all of them walks the text once in C and names every occurrence (overlapping ones included), which is exactly
what those probes found: `w in text` for a literal w is "w occurs", and the rule-word and phrase scans are over
every occurrence. The router then does what it did with them, in the same order (see Router._scan).
"""
from __future__ import annotations

import functools
from operator import itemgetter
from typing import Iterable

import ahocorasick

WORD, PHRASE = 1, 2  # roles that need positions (rule words, phrases/exclusions); any other literal: presence only

_VALUE, _LITERAL = itemgetter(1), itemgetter(1)  # (end, value) -> value; (length, literal, roles) -> literal


class Literals:
    """A text's occurrences of a fixed set of literals. `scan(text)` -> (positioned, present):

    * positioned: (start, -length, literal, roles) of each occurrence of a literal with a WORD or PHRASE role, sorted
      by start, longest first at one start (the order the old per-character scan met them);
    * present: the set of literals occurring in text.

    The last texts' scans are remembered (a one-line message is its own title: scanned once for the rules, the
    urgency and the demand)."""

    def __init__(self, literals: Iterable[str], roles: dict[str, int] | None = None, remember: int = 64):
        roles = roles or {}
        # literal -> its roles (what the automaton holds; a reference scanner in the tests is built from it)
        self.roles = {w: roles.get(w, 0) for w in (*literals, *roles) if w}
        self._automaton = a = ahocorasick.Automaton(ahocorasick.STORE_ANY)
        for w, r in self.roles.items():  # ("" would be in every text: the router's _AnyOf says so itself)
            a.add_word(w, (len(w), w, r))
        self.empty = len(a) == 0
        if not self.empty:
            a.make_automaton()
        self.scan = functools.lru_cache(maxsize=remember)(self._scan)

    def _scan(self, text: str) -> tuple[tuple[tuple[int, int, str, int], ...], frozenset[str]]:
        if self.empty or not text:
            return (), frozenset()
        positioned = []
        present = set()
        add = present.add
        for end, (n, w, roles) in self._automaton.iter(text):
            add(w)
            if roles:
                positioned.append((end - n + 1, -n, w, roles))
        positioned.sort()
        return tuple(positioned), frozenset(present)

    def present(self, text: str) -> set[str]:
        """The literals occurring in text (not remembered)."""
        if self.empty or not text:
            return set()
        return set(map(_LITERAL, map(_VALUE, self._automaton.iter(text))))  # (each occurrence's literal, in C)
