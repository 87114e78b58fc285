"""Ticket numbers never collide (issue 8 item 2): a counter row per month, bumped in the inserting transaction."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import sqlite_utils

from storage import tickets
from storage.migrations import migrate, migrations

TZ = ZoneInfo("Asia/Shanghai")


def at(text: str) -> float:
    return dt.datetime.strptime(text, "%Y-%m-%d %H:%M").replace(tzinfo=TZ).timestamp()


def new(db, now: float) -> str:
    return tickets.create(db, openid="o", kind="complaint", category="fees", unit_code=None, school_code=None,
                          text="x", attachments=[], contact_phone=None, anonymous=True, routing={}, now=now,
                          due_at=None, tz=TZ)["number"]


def test_past_ten_thousand_and_into_the_next_month(tmp_path):
    db = sqlite_utils.Database(tmp_path / "t.db")
    migrate(db)
    db.execute("INSERT INTO ticket_counters (month, last) VALUES ('2611', 9998)")  # seeded: fast, same path
    numbers = [new(db, at("2026-11-30 23:58")) for _ in range(4)]
    assert numbers == ["JY2611-9999", "JY2611-10000", "JY2611-10001", "JY2611-10002"]
    assert tickets.get(db, "JY2611-10000")["number"] == "JY2611-10000"
    # Midnight in Beijing starts December: a new sequence.
    assert new(db, at("2026-12-01 00:00")) == "JY2612-0001"
    assert new(db, at("2026-11-30 23:59")) == "JY2611-10003"  # a late insert for November still does not collide


def test_the_counter_carries_on_from_numbers_already_issued(tmp_path):
    """A database from before the counter (numbers past 9,999 compared as integers, not text)."""
    db = sqlite_utils.Database(tmp_path / "t.db")
    migrations.apply(db, stop_before="m006_ticket_counters")
    for number in ("JY2611-9999", "JY2611-10000", "JY2610-0007"):
        db.execute("INSERT INTO tickets (number, openid, kind, category, text, attachments, routing, state, "
                   "created_at) VALUES (?, 'o', 'complaint', 'fees', 'x', '[]', '{}', 'submitted', 0)", [number])
    migrate(db)
    assert new(db, at("2026-11-20 10:00")) == "JY2611-10001"
    assert new(db, at("2026-10-20 10:00")) == "JY2610-0008"
