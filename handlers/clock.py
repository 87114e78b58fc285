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


class DemoClock(Clock):
    """Real time, sped up `speed` times from the moment it was made, plus jumps (the demo's "moving time").
    With speed 1 and no jump it is the real clock."""

    def __init__(self, speed: float = 1.0, start: float | None = None):
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.start = time.time() if start is None else start
        self.offset = 0.0

    def now(self) -> float:
        return self.start + (time.time() - self.start) * self.speed + self.offset

    def advance(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError("time only moves forward")
        self.offset += seconds
