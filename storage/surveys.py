"""群众评议 responses: one row per person, unit and survey, with the attempt in progress kept beside the answers
that count, and each burst reported once."""
from __future__ import annotations

import json
from typing import Any, Iterable

import sqlite_utils

from storage import bursts as _bursts, staff


DAY_OFFSET = _bursts.DAY_OFFSET  # a ruling's day is China Standard Time's, as the ticket counters' (storage.tickets)
_DAY = f"CAST((r.submitted_at + {DAY_OFFSET}) / 86400 AS INTEGER)"
# A leader's latest ruling on the day a response was given (rule_day): 'exclude', 'include', 'auto' or NULL
_RULING = (f"(SELECT d.decision FROM survey_day_rulings d WHERE d.survey_id = r.survey_id "
           f"AND d.unit_code = r.unit_code AND d.day = {_DAY} ORDER BY d.id DESC LIMIT 1)")
# What counts: the burst checks' flag, unless a leader ruled on the day
_LEFT_OUT = f"CASE {_RULING} WHEN 'exclude' THEN 1 WHEN 'include' THEN 0 ELSE r.burst END"
DECISIONS = ("exclude", "include", "auto")


day_of, day_start = _bursts.day_of, _bursts.day_start


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row)
    for key in ("answers", "draft"):
        row[key] = json.loads(row[key]) if row[key] is not None else None
    row["new_follower"], row["burst"] = bool(row["new_follower"]), bool(row["burst"])
    return row


# 群众评议 is the public's judgement: a person bound as staff of any unit (a rival school's too), and the bureau's
# leaders and admins, are insiders. Their answers are refused (handlers/campaign.py) and, given before they were
# bound, left out of every figure (submitted). One predicate over a response row `r`, for both.
_INSIDER = staff.insider_sql("r.openid")


def insider(db: sqlite_utils.Database, openid: str, unit_code: str) -> bool:
    """Whether `openid` may not evaluate `unit_code` (see _INSIDER)."""
    return db.execute(f"SELECT {_INSIDER} FROM (SELECT ? AS openid) r", [openid]).fetchone()[0] == 1


# 群众评议 figures feed the units' performance review: one account's judgement counts for at most a few units in a
# survey ([campaign] units_per_person: a parent's children at a kindergarten, a primary and a middle school), so
# nobody marks every school in the city down (or up) from one phone; the burst checks watch the other way, many
# accounts on one unit. The one rule: beyond the cap a person is refused at the door (may_rate, with the configured
# cap; handlers/campaign.py, audited), and what was given beyond it before the rule is left out of every figure,
# counting the units in the order the person first began them (a row's id: a redo keeps its place). Those answers
# are read by the cap of the rule's day, UNITS_PER_PERSON, never the configured one: a setting changed later moves
# no figure already counted, it only decides who is let in from then on.
UNITS_PER_PERSON = 3
# A submitted response `r` beyond its person's first UNITS_PER_PERSON units in the survey. Only one given before the
# rule can be (m073's mark: the door admits a response only while it is among its person's first), so only those
# are looked up.
_OVER_CAP = (f"(r.id < (SELECT value FROM integrity_marks WHERE name = 'survey_cap_from') "
             f"AND (SELECT count(*) FROM survey_responses o INDEXED BY survey_responses_person WHERE o.openid = r.openid "
             f"AND o.survey_id = r.survey_id AND o.submitted_at IS NOT NULL AND o.id < r.id) >= {UNITS_PER_PERSON})")

# Whose answers are no figure's: an insider's, and a person's beyond the cap
_LEFT_ASIDE = f"({_INSIDER} OR r.submitted_at IS NOT NULL AND {_OVER_CAP})"


def rated_units(db: sqlite_utils.Database, survey_id: str, openid: str, cap: int = UNITS_PER_PERSON) -> list[str]:
    """The first `cap` units `openid` rated in this survey, in the order first begun."""
    return [r[0] for r in db.execute(
        "SELECT unit_code FROM survey_responses INDEXED BY survey_responses_person WHERE openid = ? AND survey_id = ? "
        "AND submitted_at IS NOT NULL ORDER BY id LIMIT ?", [openid, survey_id, cap])]


def may_rate(db: sqlite_utils.Database, survey_id: str, unit_code: str, openid: str,
             cap: int = UNITS_PER_PERSON) -> tuple[bool, list[str]]:
    """Whether `openid` may submit answers on `unit_code` (a unit they rated already, or fewer than `cap` rated:
    [campaign] units_per_person), with the units they rated. A unit rated already stays theirs to rate again when
    the cap was lowered since (audit27: a counted answer beyond the new cap could be neither redone nor dropped)."""
    rated = rated_units(db, survey_id, openid, cap)
    again = unit_code in rated or db.execute(
        "SELECT 1 FROM survey_responses WHERE survey_id = ? AND unit_code = ? AND openid = ? "
        "AND submitted_at IS NOT NULL", [survey_id, unit_code, openid]).fetchone() is not None
    return again or len(rated) < cap, rated


def discard_draft(db: sqlite_utils.Database, response_id: int) -> None:
    """Drop an attempt that may not be submitted: the row when it holds no answers, else only its draft."""
    db.execute("DELETE FROM survey_responses WHERE id = ? AND answers IS NULL", [response_id])
    db.execute("UPDATE survey_responses SET draft = NULL WHERE id = ?", [response_id])


def get(db: sqlite_utils.Database, survey_id: str, unit_code: str, openid: str) -> dict[str, Any] | None:
    rows = list(db.query("SELECT * FROM survey_responses WHERE survey_id = ? AND unit_code = ? AND openid = ?",
                         [survey_id, unit_code, openid]))
    return _decode(rows[0]) if rows else None


def begin(db: sqlite_utils.Database, survey_id: str, unit_code: str, openid: str, now: float,
          draft: dict[str, Any]) -> dict[str, Any]:
    """Start (or restart) an attempt; submitted answers stay counted until the new attempt is submitted."""
    db.execute(
        "INSERT INTO survey_responses (survey_id, unit_code, openid, draft, started_at, updated_at) "
        "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(survey_id, unit_code, openid) DO UPDATE SET "
        "draft = excluded.draft, started_at = excluded.started_at, updated_at = excluded.updated_at",
        [survey_id, unit_code, openid, json.dumps(draft, ensure_ascii=False), now, now])
    return get(db, survey_id, unit_code, openid)


def save_draft(db: sqlite_utils.Database, response_id: int, draft: dict[str, Any], now: float) -> None:
    db.execute("UPDATE survey_responses SET draft = ?, updated_at = ? WHERE id = ?",
               [json.dumps(draft, ensure_ascii=False), now, response_id])


def submit(db: sqlite_utils.Database, response_id: int, answers: dict[str, Any], now: float,
           new_follower: bool) -> None:
    db.execute("UPDATE survey_responses SET answers = ?, draft = NULL, submitted_at = ?, updated_at = ?, "
               "new_follower = ? WHERE id = ?",
               [json.dumps(answers, ensure_ascii=False), now, now, int(new_follower), response_id])


def set_ticket(db: sqlite_utils.Database, response_id: int, number: str) -> None:
    db.execute("UPDATE survey_responses SET ticket_number = ? WHERE id = ?", [number, response_id])


def draft_since(db: sqlite_utils.Database, openid: str, t: float) -> bool:
    """Whether the person answered a 评议 question after `t` and has not finished the sheet: the last question
    they were asked may be the survey's (1–5, where 1 is the worst), not a rating request's."""
    return db.execute("SELECT 1 FROM survey_responses INDEXED BY survey_responses_drafts WHERE openid = ? "
                      "AND draft IS NOT NULL AND updated_at > ? LIMIT 1", [openid, t]).fetchone() is not None


def drafts(db: sqlite_utils.Database, openid: str) -> list[dict[str, Any]]:
    """The person's unfinished attempts, the latest first (what 评议 offers to resume)."""
    return [_decode(r) for r in db.query(
        "SELECT * FROM survey_responses WHERE openid = ? AND draft IS NOT NULL ORDER BY updated_at DESC",
        [openid])]


FRESH_SECONDS = _bursts.FRESH_SECONDS
# A response `r` from a new account (storage.bursts: accounts are the only answers a person can make in numbers)
_FRESH = _bursts.fresh_sql("r.openid", "r.submitted_at")


def mark_burst(db: sqlite_utils.Database, survey_id: str, unit_code: str, now: float,
               limit: int) -> tuple[int, int] | None:
    """More than `limit` responses for this unit within the hour before `now` (its part in today: see day_start)
    are a burst. Set aside the answers from new accounts, which is all a burst can be made of by anyone (a rival
    school answering through the code included); answers from accounts that followed earlier stay counted. When
    they alone pass the limit (accounts made days ahead, a parents' meeting), those within one answer of the hour's
    commonest sheet among them are set aside too (_near: one hand, or one instruction), the others stay: a rival's
    group marking a school down voids its own sheets, not the parents who answered as they saw fit. Returns
    (responses in the hour, set aside), or None when there is no burst."""
    where = "r.survey_id = ? AND r.unit_code = ? AND r.submitted_at >= ? AND r.answers IS NOT NULL"
    args = [survey_id, unit_code, _bursts.window_start(now)]
    rows = db.execute(f"SELECT r.id, r.answers, {_FRESH} FROM survey_responses r WHERE {where}", args).fetchall()

    def alike(sheets: list) -> Any:
        centre, _ = _near(sheets)
        return lambda s: _within_one(s, centre)
    burst = _bursts.set_aside(((i, bool(fresh), _sheet(json.loads(a))) for i, a, fresh in rows), limit, alike)
    if burst is None:
        return None
    count, aside = burst
    for start in range(0, len(aside), 500):
        part = aside[start:start + 500]
        db.execute(f"UPDATE survey_responses SET burst = 1 WHERE id IN ({','.join('?' * len(part))})", part)
    return count, len(aside)


SPREAD_KEY = -10 ** 9  # survey_bursts' key of the survey-wide check (hours are positive, days above this)
BASELINE_MIN = 5       # established answers a unit needs before they may vouch for alike new ones (new_follower_day)


def _sheet(answers: dict[str, Any]) -> tuple:
    """The answer sheet: every answer but free text (varying the comment hides nothing)."""
    return tuple(sorted((k, v) for k, v in answers.items() if not isinstance(v, str)))


def _near(sheets: list[tuple]) -> tuple[tuple, int]:
    """The sheet most answers are within one item of (the same answers on all but at most one question), and how
    many are. Linear: a sheet with one item blanked is a key; the candidates are the commonest sheets given and the
    sheet of each question's commonest answer (one hand varying a base sheet it never sends as such)."""
    exact: dict[tuple, int] = {}
    blanked: dict[tuple, int] = {}
    for s in sheets:
        exact[s] = exact.get(s, 0) + 1
    for s, n in exact.items():
        for i in range(len(s)):
            key = (s[i][0], s[:i] + s[i + 1:])
            blanked[key] = blanked.get(key, 0) + n
    common: dict[str, dict[Any, int]] = {}
    for s, n in exact.items():
        for k, v in s:
            per = common.setdefault(k, {})
            per[v] = per.get(v, 0) + n
    mode = tuple(sorted((k, max(c, key=c.get)) for k, c in common.items()))

    def within(c: tuple) -> int:
        return sum(blanked.get((c[i][0], c[:i] + c[i + 1:]), 0) for i in range(len(c))) \
            - (len(c) - 1) * exact.get(c, 0)
    # the centre of one hand's sheets is one it sends often or the mode: the 50 commonest sheets are candidates
    candidates = sorted(exact, key=exact.get, reverse=True)[:50] + [mode]
    best = max(candidates, key=lambda c: (within(c), exact.get(c, 0)))
    return best, within(best)


def _within_one(sheet: tuple, centre: tuple) -> bool:
    a, b = dict(sheet), dict(centre)
    return a.keys() == b.keys() and sum(a[k] != b[k] for k in a) <= 1


def new_follower_day(db: sqlite_utils.Database, survey_id: str, unit_code: str, since: float,
                     limit: int) -> tuple[int, str] | None:
    """A burst paced under the hourly limit: the answers through this unit since `since` (today's start, or the
    survey's opening) from new accounts (_FRESH). None while there are `limit` or fewer. Otherwise (how many,
    verdict), the leaders told either way:
    - 'alike': nine in ten are near-identical (within one answer of one sheet, free text aside), as one hand filling
      many accounts gives, varying an answer or two to look different: left out (flagged as a burst);
    - 'agrees': near-identical, but the unit's long-standing public agrees as much and on the same sheet (three in
      four of its answers from established accounts within one answer of a sheet within one answer of the new
      ones'; at least BASELINE_MIN of them and half as many as the new ones): a well-liked school whose new
      parents say what its old ones say; counted (they move its figures little, and a rival's sheet marking it
      down would not agree);
    - 'varied': counted.
    Answers from established accounts are never touched."""
    fresh = (f"FROM survey_responses r WHERE r.survey_id = ? AND r.unit_code = ? AND r.submitted_at >= ? "
             f"AND r.answers IS NOT NULL AND {_FRESH}")
    args = [survey_id, unit_code, since]
    sheets = [_sheet(json.loads(r[0])) for r in db.execute(f"SELECT r.answers {fresh}", args)]
    if len(sheets) <= limit:
        return None
    centre, near = _near(sheets)
    if 10 * near < 9 * len(sheets):
        return len(sheets), "varied"
    old = [_sheet(json.loads(r[0])) for r in db.execute(
        f"SELECT r.answers FROM survey_responses r WHERE r.survey_id = ? AND r.unit_code = ? "
        f"AND r.answers IS NOT NULL AND r.burst = 0 AND NOT {_FRESH} AND NOT {_LEFT_ASIDE}", [survey_id, unit_code])]
    if len(old) >= max(BASELINE_MIN, len(sheets) / 2):
        usual, agreeing = _near(old)
        if 4 * agreeing >= 3 * len(old) and _within_one(centre, usual):
            return len(sheets), "agrees"
    db.execute(f"UPDATE survey_responses SET burst = 1 WHERE id IN (SELECT r.id {fresh})", args)
    return len(sheets), "alike"


def record_burst(db: sqlite_utils.Database, survey_id: str, unit_code: str, hour: int, count: int) -> bool:
    """True the first time a burst in this hour is recorded (leaders are told once)."""
    return _bursts.record(db, survey_id, unit_code, hour, count)


def bursts(db: sqlite_utils.Database, survey_id: str) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM survey_bursts WHERE survey_id = ? ORDER BY hour", [survey_id]))


def totals(db: sqlite_utils.Database) -> dict[str, tuple[int, int, int]]:
    """Per survey: (responses counted, units with one, in bursts), insiders left out as in `submitted`."""
    return {r[0]: (r[1], r[2], r[3] or 0) for r in db.execute(
        f"SELECT survey_id, count(submitted_at), count(DISTINCT CASE WHEN submitted_at IS NOT NULL THEN unit_code "
        f"END), sum(burst) FROM survey_responses r WHERE NOT {_LEFT_ASIDE} GROUP BY survey_id")}


def submitted(db: sqlite_utils.Database, survey_ids: Iterable[str], since: float | None = None,
              until: float | None = None, unit_code: str | None = None) -> list[dict[str, Any]]:
    """Submitted responses of these surveys (optionally within [since, until) and for one unit), insiders' and those
    beyond a person's UNITS_PER_PERSON left out."""
    ids = list(survey_ids)
    if not ids:
        return []
    sql = (f"SELECT survey_id, unit_code, answers, submitted_at, new_follower, {_LEFT_OUT} AS burst, draft "
           f"FROM survey_responses r "
           f"WHERE survey_id IN ({','.join('?' * len(ids))}) AND submitted_at IS NOT NULL AND NOT {_LEFT_ASIDE}")
    args: list[Any] = list(ids)
    if since is not None:
        sql += " AND submitted_at >= ?"
        args.append(since)
    if until is not None:
        sql += " AND submitted_at < ?"
        args.append(until)
    if unit_code is not None:
        sql += " AND unit_code = ?"
        args.append(unit_code)
    return [_decode(r) for r in db.query(sql, args)]


def rule_day(db: sqlite_utils.Database, survey_id: str, unit_code: str, day: int, decision: str, reason: str,
             by: str, now: float) -> int:
    """A leader's ruling on a unit's day of answers: 'exclude' leaves every answer given through the unit that day
    out of the figures, 'include' counts them whatever the burst checks flagged, 'auto' goes back to the checks.
    Returns how many answers the day holds."""
    if decision not in DECISIONS or not reason.strip():
        raise ValueError("a decision and a reason are required")
    db.execute("INSERT INTO survey_day_rulings (survey_id, unit_code, day, decision, reason, by, at) "
               "VALUES (?, ?, ?, ?, ?, ?, ?)", [survey_id, unit_code, day, decision, reason.strip(), by, now])
    start = day * 86400 - DAY_OFFSET
    return db.execute("SELECT count(*) FROM survey_responses WHERE survey_id = ? AND unit_code = ? "
                      "AND submitted_at >= ? AND submitted_at < ?", [survey_id, unit_code, start,
                                                                     start + 86400]).fetchone()[0]


def days(db: sqlite_utils.Database, survey_id: str) -> dict[str, list[dict[str, Any]]]:
    """Per unit, the days a leader may rule on and has: those with answers the burst checks flagged, and those
    with a ruling (the latest, with its history), each with its answers (all, and flagged), newest first."""
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for unit, day, n, flagged in db.execute(
            f"SELECT r.unit_code, {_DAY}, count(*), sum(r.burst) FROM survey_responses r WHERE r.survey_id = ? "
            f"AND r.submitted_at IS NOT NULL AND NOT {_LEFT_ASIDE} GROUP BY r.unit_code, {_DAY}", [survey_id]):
        out[(unit, day)] = {"unit": unit, "day": day, "n": n, "flagged": flagged or 0, "rulings": []}
    for row in db.query("SELECT d.*, u.name AS by_name FROM survey_day_rulings d LEFT JOIN users u "
                        "ON u.openid = d.by WHERE d.survey_id = ? ORDER BY d.id DESC", [survey_id]):
        entry = out.setdefault((row["unit_code"], row["day"]), {"unit": row["unit_code"], "day": row["day"],
                                                                 "n": 0, "flagged": 0, "rulings": []})
        entry["rulings"].append(row)
    per_unit: dict[str, list[dict[str, Any]]] = {}
    for (unit, day), e in sorted(out.items(), key=lambda kv: -kv[0][1]):
        if e["flagged"] or e["rulings"]:
            e["ruling"] = e["rulings"][0]["decision"] if e["rulings"] else None
            per_unit.setdefault(unit, []).append(e)
    return per_unit


def ruled_days(db: sqlite_utils.Database, start: float, end: float) -> dict[str, int]:
    """Per unit, the days in [start, end) whose latest ruling sets the checks aside (shown beside its 评议
    figures in the review)."""
    return dict(db.execute(
        "SELECT unit_code, count(*) FROM (SELECT d.unit_code, d.decision FROM survey_day_rulings d "
        "WHERE d.day >= ? AND d.day < ? AND d.id = (SELECT max(l.id) FROM survey_day_rulings l "
        "WHERE l.survey_id = d.survey_id AND l.unit_code = d.unit_code AND l.day = d.day)) "
        "WHERE decision != 'auto' GROUP BY unit_code", [day_of(start), day_of(end)]).fetchall())
