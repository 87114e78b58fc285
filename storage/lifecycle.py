"""The ticket lifecycle as data: its states and, for every action, the states it may start from and the state it
leads to. Every staff or citizen action consults this table before acting, and storage.tickets.transition
refuses any change the table does not allow, so no code path can move a ticket in a way not written here.

It lives beside the tickets aggregate (storage/) because the rule is enforced where tickets are written; the core
(handlers/) reads the same table to decide what to offer and what to refuse. Pure data: no imports.
"""
from __future__ import annotations

SAME = "="  # the action records an event and leaves the state as it is


# state: (open: staff still have work to do, clock: the deadline watch runs, final: nothing more happens)
STATES: dict[str, tuple[bool, bool, bool]] = {
    "submitted": (True, False, False),   # filed, not yet routed to a unit
    "assigned": (True, True, False),     # with a unit, waiting for 签收
    "accepted": (True, True, False),     # 签收ed by a person
    "replied": (True, True, False),      # answered, not yet 办结
    "bounced": (True, True, False),      # 退回 by the unit: the duty office re-dispatches
    "reopened": (True, True, False),     # the citizen was not satisfied: redo, or review by the bureau
    "resolved": (False, False, False),   # 办结: waiting for the citizen's rating
    "closed": (False, False, True),      # rated, or the rating window ended
    "withdrawn": (False, False, True),   # the citizen took it back
}
OPEN = tuple(s for s, (open_, _, _) in STATES.items() if open_)
CLOCK = tuple(s for s, (_, clock, _) in STATES.items() if clock)
FINAL = tuple(s for s, (_, _, final) in STATES.items() if final)
# What a unit's own staff can work on (签收, 回复, 办结, 退回, 延期): with a unit, not waiting for re-dispatch.
ACTIVE = tuple(s for s in CLOCK if s != "bounced")

# action: (states it may start from, state it leads to)
ACTIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "submit": ((), "submitted"),
    "assign": (("submitted",), "assigned"),
    "unattended": (("assigned", "accepted", "replied", "reopened", "bounced"), SAME),  # nobody bound at the unit
                        # (on arrival, or its last member left; a 退回 to a duty office with nobody): a stand-in told
    "attended": (OPEN, SAME),                                  # someone bound at the unit: 代收 ends
    "accept": (("assigned", "reopened"), "accepted"),
    "reply": (("accepted", "replied"), "replied"),
    "resolve": (("accepted", "replied"), "resolved"),
    "bounce": (ACTIVE, "bounced"),
    "transfer": (OPEN, "assigned"),
    "extension_request": (ACTIVE, SAME),
    "extension_approved": (ACTIVE, SAME),
    "extension_rejected": (ACTIVE, SAME),
    "supervise": (OPEN, SAME),                                 # 督办 by a leader
    "urge": (OPEN, SAME),                                      # 催办 by a leader or supervisor
    "note": (OPEN + ("resolved",), SAME),                      # internal note, never shown to the citizen
    "release": (OPEN, SAME),                                   # the acceptor was unbound: back to the unit
    "citizen_reply": (OPEN, SAME),
    "supplement": (OPEN, SAME),
    "withdraw": (OPEN, "withdrawn"),
    "withdraw_kept": (OPEN, SAME),                             # withdrawn, but the conduct or safety check goes on
    "kind_change": (("submitted", "assigned"), SAME),          # the citizen corrected the kind before 签收
    "rate": (("resolved",), "closed"),
    "reopen": (("resolved",), "reopened"),
    "review": (("resolved",), "reopened"),
    "close": (("resolved",), "closed"),
    "praise": (("assigned", "submitted"), "closed"),           # praise: passed on to the unit, nothing to handle
}
# 待签收: the states 签收 takes a ticket from. One definition for the count on the list, 签收全部, the reminders and
# the name staff read on each line (handlers/texts.STAFF_STATE_NAMES: each of them reads 待签收…).
TO_SIGN = ACTIONS["accept"][0]
# Of those, the states whose 签收 runs against a window (accept_due_at): a ticket dispatched to a unit. A reopened one
# is signed again with no new window; its clock is its 办结 deadline alone.
SIGN_WINDOW = ("assigned",)


def sign_due(ticket: dict) -> float | None:
    """The 签收 deadline a ticket works to now, or None: the one rule for which deadline a ticket waiting for
    签收 shows (the watch's 签收提醒, the notices, the workbench), so none of them shows its 办结 date instead."""
    return ticket.get("accept_due_at") or None if ticket.get("state") in SIGN_WINDOW else None


def target(action: str, state: str) -> str | None:
    """The state `action` leads to from `state`, or None when the table does not allow it."""
    if action not in ACTIONS:
        return None
    starts, to = ACTIONS[action]
    if state not in starts:
        return None
    return state if to == SAME else to


def allowed(action: str, state: str) -> bool:
    return target(action, state) is not None


class TransitionError(ValueError):
    """A change the lifecycle table does not allow (a bug in the caller: actions check `allowed` first)."""


def mermaid() -> str:
    """The table as a Mermaid state diagram, for the README (a test keeps the two the same). Actions allowed from
    every open state are drawn once, from the composite state `open`."""
    lines = ["stateDiagram-v2", "    [*] --> submitted: submit", "    state open {"]
    lines += [f"        {s}" for s in OPEN]
    lines.append("    }")
    for action, (starts, to) in ACTIONS.items():
        if to == SAME or not starts:
            continue
        if set(starts) == set(OPEN):
            lines.append(f"    open --> {to}: {action}")
            continue
        lines += [f"    {s} --> {to}: {action}" for s in starts]
    lines += [f"    {s} --> [*]" for s in FINAL]
    return "\n".join(lines)
