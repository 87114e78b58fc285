"""The dashboard's trend counts each period as that period alone counts (dash18): its 满意率 is rates.satisfaction
over the period's own rating events (storage.tickets.ratings_in), and every figure but 首次满意率 (not read for
the trend's earlier periods) is rates.for_period of that period, for weeks and months, the bureau and a district,
on the counters' midnights and off them (another timezone). The histories are the rates oracle's: the check runs
in tests/test_rates_oracle.py's test_every_surface_agrees_with_the_reference_model on each history it plays (one
play for both; this module's own test played seeds 11 and 23 again), and in tests/test_dash19.py."""
from __future__ import annotations

from handlers import dashboard, digest, rates
from storage import directory, tickets
from tests.dialog import TZ
from tests.test_rates_oracle import URUMQI

FIRST_TIME = {"first_rated", "first_satisfied"}


def satisfaction_alone(conn, start: float, end: float, scope: list[str] | None) -> tuple[int, int]:
    out: dict[str, rates.Rates] = {}
    rates.satisfaction(tickets.ratings_in(conn, start, end, scope, first=False), start, end, out)
    rates.fold(out)  # a 代收 account's ratings are nobody's 满意率 (shown apart), as in every figure
    if scope is not None:
        out = {c: r for c, r in out.items() if c in scope}
    t = rates.total(out)
    return t.rated, t.satisfied


def trend_problems(conn, now: float) -> tuple[list[str], int, int]:
    units = {u["code"]: u for u in directory.all_units(conn)}
    problems, periods, rated = [], 0, 0
    ends = [("week", f"2026-W{n}") for n in range(40, 51)] + [("month", f"2026-{m:02d}") for m in (9, 10, 11, 12)]
    for scope_name in (None, "jn-jyj"):
        members = digest.scope_members(units, scope_name) if scope_name else None
        scope = sorted(members) if members is not None else None
        for kind, key in ends:
            p = dashboard.parse_period(kind, key, TZ)
            board = dashboard.read(conn, units, members, p, now, TZ, "x")
            for i, (q, r) in enumerate(board.trend):
                periods += 1
                rated += r.rated
                alone = satisfaction_alone(conn, q.start, q.end, scope)
                if (r.rated, r.satisfied) != alone:
                    problems.append(f"{scope_name} {key} trend {q.key}: 满意率 {r.satisfied}/{r.rated}, "
                                    f"its events alone {alone[1]}/{alone[0]}")
                one = rates.total(rates.for_period(conn, q.start, q.end, scope, now))
                skip = FIRST_TIME if i < len(board.trend) - 1 else set()
                differ = {f for f in rates.Rates.__dataclass_fields__
                          if f not in skip and f != "praised" and getattr(r, f) != getattr(one, f)}
                if differ:
                    problems.append(f"{scope_name} {key} trend {q.key}: {sorted(differ)} differ from for_period")
            # off the counters' midnights (UTC+6): periods computed from their tickets, the same events each
            far = dashboard.parse_period(kind, key, URUMQI)
            bounds = [q.start for q in (dashboard.previous(far, URUMQI), far)] + [far.end]
            for (s, e), r in zip(zip(bounds, bounds[1:]), rates.for_periods(conn, bounds, scope, now)):
                t = rates.total(r)
                if (t.rated, t.satisfied) != satisfaction_alone(conn, s, e, scope):
                    problems.append(f"{scope_name} {key} UTC+6 [{s}, {e}): 满意率 {t.satisfied}/{t.rated}")
    return problems, periods, rated
