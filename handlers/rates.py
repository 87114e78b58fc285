"""The three rates of the campaign, per unit and period, as ../shared/ARCHITECTURE.md defines them:

    响应率 = accepted within the 签收 limit / dispatched in the period
    解决率 = resolved within the time limit / (resolved in the period + still open past the deadline at its end)
    满意率 = (满意 + 基本满意) / rated in the period          (未评价 counts in neither part)

A ticket counts for the unit that holds it now (after any 转派). Praise is not a case to handle: it counts only
as `praised` for the unit it was passed to, never in the three rates. A rate with nothing to count is None, shown as
"—": a unit with no tickets is not 0% and not 100%.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable


@dataclass
class Rates:
    dispatched: int = 0
    accepted_in_time: int = 0
    resolved: int = 0
    resolved_in_time: int = 0
    open_overdue: int = 0
    rated: int = 0
    satisfied: int = 0
    unrated: int = 0
    praised: int = 0

    @property
    def response(self) -> float | None:
        return self.accepted_in_time / self.dispatched if self.dispatched else None

    @property
    def resolution(self) -> float | None:
        base = self.resolved + self.open_overdue
        return self.resolved_in_time / base if base else None

    @property
    def satisfaction(self) -> float | None:
        return self.satisfied / self.rated if self.rated else None


def _within(t: float | None, start: float, end: float) -> bool:
    return t is not None and start <= t < end


def compute(tickets: Iterable[dict], start: float, end: float) -> dict[str, Rates]:
    """Rates per unit code for the period [start, end), from ticket rows (storage.tickets)."""
    out: dict[str, Rates] = {}
    for t in tickets:
        unit = t["unit_code"]
        if unit is None:
            continue
        r = out.setdefault(unit, Rates())
        if t["kind"] == "praise":
            r.praised += _within(t["created_at"], start, end)
            continue
        if _within(t["dispatched_at"], start, end):
            r.dispatched += 1
            if t["accepted_at"] is not None and t["accept_due_at"] and t["accepted_at"] <= t["accept_due_at"]:
                r.accepted_in_time += 1
        if _within(t["resolved_at"], start, end):
            r.resolved += 1
            if t["due_at"] and t["resolved_at"] <= t["due_at"]:
                r.resolved_in_time += 1
        elif (t["due_at"] and t["due_at"] < end and t["dispatched_at"] is not None and t["dispatched_at"] < end
              and (t["resolved_at"] is None or t["resolved_at"] >= end) and t["state"] != "withdrawn"):
            r.open_overdue += 1
        if _within(t["rated_at"], start, end) and t["rating"] in (1, 2, 3) and t["close_reason"] != "unrated":
            r.rated += 1
            r.satisfied += t["rating"] in (1, 2)
        if t["close_reason"] == "unrated" and _within(t["closed_at"], start, end):
            r.unrated += 1
    return out


def total(per_unit: dict[str, Rates]) -> Rates:
    agg = Rates()
    for r in per_unit.values():
        for name in ("dispatched", "accepted_in_time", "resolved", "resolved_in_time", "open_overdue", "rated",
                     "satisfied", "unrated", "praised"):
            setattr(agg, name, getattr(agg, name) + getattr(r, name))
    return agg


def percent(value: float | None) -> str:
    return "—" if value is None else f"{value * 100:.0f}%"
