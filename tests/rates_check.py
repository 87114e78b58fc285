"""Two checks the rates tests share: a period's figures read from the counters (as the review and the digest read
them) must equal the ticket-by-ticket trace (the rates oracle), and `tingjian verify-rates` must find the counters
and the events in agreement with the tickets."""
from __future__ import annotations

from handlers import rates
from tests.dialog import at

MONTH = (at("2026-11-01 00:00"), at("2026-12-01 00:00"))


async def period_rates(d, units: list[str], period=MONTH) -> dict[str, rates.Rates]:
    from bot.app import DB
    start, end = period
    now = d.clock.now()
    got = await d.app[DB].read(lambda c: rates.for_period(c, start, end, units, now))
    for unit in units:
        traced = await d.app[DB].read(lambda c: rates.traced(c, start, end, unit, now))
        assert rates.total(traced) == got.get(unit, rates.Rates()), (unit, traced, got.get(unit))
    return got


def verify_rates(tmp_path, capsys, month: str = "2026-11") -> str:
    """`tingjian verify-rates --period month` on the demo's file: exit 0, its output returned."""
    from bot.cli import main
    from tests.conftest import write_cli_config
    config = str(write_cli_config(tmp_path / "c.toml", str(tmp_path / "demo.db")))
    code = main(["verify-rates", "--period", month, "--config", config])
    out = capsys.readouterr().out
    assert code == 0, out
    return out


def nov(n: int, hour: int = 10) -> float:
    """A moment on 2026-11-n, the month the old-schema tests are set in."""
    import datetime as dt
    from tests.dialog import TZ
    return dt.datetime(2026, 11, n, hour, tzinfo=TZ).timestamp()


def before_m059(path, nobody: str, stop_before: str = "m059_stand_in_apart"):
    """A database as it was before m059 (代收 work credited to the duty office), or before `stop_before`: the
    bureau, its duty office with one handler bound (o_duty), a district, and the school `nobody` with no one
    bound."""
    import sqlite_utils
    from storage import migrations, staff
    db = sqlite_utils.Database(path)
    migrations.migrations.apply(db, stop_before=stop_before)
    for code, name, kind, parent in (("jyj", "市教育局", "bureau", None), ("jyj-bgs", "值班室", "office", "jyj"),
                                     ("jn-jyj", "江南区教育局", "district", "jyj"), (nobody, "育英小学", "school", "jn-jyj")):
        db.execute("INSERT INTO units (code, name, kind, parent) VALUES (?, ?, ?, ?)", [code, name, kind, parent])
    staff.bind(db, "o_duty", "jyj-bgs", "handler", "刘主任", 0)
    return db


def old_stand_in_answer_rejected(db, openid: str, nobody: str):
    """Old code (before m059): the duty office signs and answers for 育英小学 (nobody bound), written with its own
    code; the parent rejects the answer (不满意, the redo still 代收)."""
    from storage import tickets
    from tests.dialog import TZ
    day = nov
    t = tickets.create(db, openid=openid, kind="complaint", category="burden", unit_code=nobody, school_code=nobody,
                       text="x", attachments=[], contact_phone=None, anonymous=False, routing={}, now=day(2),
                       due_at=day(10), tz=TZ, accept_due_at=day(3))
    t = tickets.transition(db, t, "assigned", "system", day(2), "unattended", "无人绑定，已转值班室。", unattended=1,
                           response_unit="jyj-bgs", resolve_unit="jyj-bgs", stood_in=1)
    t = tickets.transition(db, t, "accepted", "o_duty", day(2, 11), "accept", accepted_by="o_duty",
                           accepted_at=day(2, 11))
    t = tickets.transition(db, t, "resolved", "o_duty", day(3), "resolve", resolved_at=day(3))
    return tickets.transition(db, t, "reopened", openid, day(3, 12), "reopen", rating=3, rated_at=day(3, 12),
                              rated_unit="jyj-bgs", reopens=1, due_at=day(12), resolved_at=None)
