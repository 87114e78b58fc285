"""Time comes from a Clock so tests can move it."""
from __future__ import annotations

import time


class Clock:
    def now(self) -> float:
        return time.time()


class FixedClock(Clock):
    """A clock that only moves when told to."""

    def __init__(self, at: float):
        self.at = at

    def now(self) -> float:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += seconds
