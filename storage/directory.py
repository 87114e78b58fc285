"""Units (bureau, offices, district bureaus) and schools, with the QR scene that leads to each."""
from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any, Iterable

import sqlite_utils

from storage import edits
from storage.db import tx_memo

UNIT_KINDS = ("bureau", "office", "district", "school", "kindergarten")
COLUMNS = ("code", "name", "kind", "district", "parent", "categories", "commitment")


class DirectoryError(ValueError):
    def __init__(self, message: str, field: str = ""):
        super().__init__(message)
        self.field = field  # the unit's field at fault, when one is (the workbench marks it)


def scene_for(unit: dict[str, Any]) -> str:
    """QR scene_str: `school:<code>` for schools and kindergartens, `unit:<code>` for offices."""
    prefix = "school" if unit["kind"] in ("school", "kindergarten") else "unit"
    return f"{prefix}:{unit['code']}"


def check(row: dict[str, Any]) -> str | None:
    """What is wrong with one unit's row (the CSV's rule and the workbench's), or None."""
    if not row.get("code") or not row.get("name"):
        return "code and name are required"
    if len(row["code"]) > 48 or not row["code"].replace("-", "").replace("_", "").isalnum():
        return f"code {row['code']!r} must be letters, digits, - or _"
    if row.get("kind") not in UNIT_KINDS:
        return f"kind {row.get('kind')!r} must be one of {', '.join(UNIT_KINDS)}"
    return None


# file content -> its checked rows: the directory file is read at every start-up of an app (the tests start
# hundreds); keyed by the bytes read, so an edited file is read again. Each caller gets its own row dicts.
_READ: dict[tuple[bytes, frozenset[str]], list[dict[str, Any]]] = {}


def read_csv(path: str | Path, categories: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """Rows checked one by one; an error names the line. `categories`: the routing categories a unit's
    `categories` may name (the caller's to give: storage knows none), each listed by one office at most; empty:
    not checked."""
    with open(path, "rb") as fh:
        data = fh.read()
    rows = _READ.get((data, categories))
    if rows is None:
        rows = _read_csv(path, data, categories)
        if len(_READ) >= 8:
            _READ.clear()
        _READ[(data, categories)] = rows
    return [dict(r) for r in rows]


def _read_csv(path: str | Path, data: bytes, categories: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    lines: dict[str, int] = {}      # code -> the line it is on
    office_of: dict[str, int] = {}  # category -> the line of the office that lists it
    with io.TextIOWrapper(io.BytesIO(data), encoding="utf-8-sig", newline="") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("code", "name", "kind") if c not in (reader.fieldnames or [])]
        if missing:
            raise DirectoryError(f"{path}: missing column(s): {', '.join(missing)}")
        for line, raw in enumerate(reader, start=2):
            row = {c: (raw.get(c) or "").strip() or None for c in COLUMNS}
            problem = check(row)
            if problem:
                raise DirectoryError(f"{path}:{line}: {problem}")
            if row["code"] in lines:  # a copied row: the later one silently renamed or moved the unit
                raise DirectoryError(f"{path}:{line}: code {row['code']!r} is already on line {lines[row['code']]}")
            lines[row["code"]] = line
            if row["categories"]:  # "fees; safety" or "fees,safety": one spelling, as office_for reads it
                named = [c.strip() for c in row["categories"].replace(",", ";").split(";") if c.strip()]
                row["categories"] = ";".join(named) or None
                for c in named if categories else ():
                    if c not in categories:
                        raise DirectoryError(f"{path}:{line}: category {c!r} is not one of "
                                             f"{', '.join(sorted(categories))}")
                    if row["kind"] == "office" and c in office_of:  # office_for would take the first, silently
                        raise DirectoryError(f"{path}:{line}: category {c!r} is already the office's on line "
                                             f"{office_of[c]}")
                    if row["kind"] == "office":
                        office_of[c] = line
            rows.append(row)
    codes = {r["code"] for r in rows}
    for line, row in enumerate(rows, start=2):
        if row["parent"] and row["parent"] not in codes:
            raise DirectoryError(f"{path}:{line}: parent {row['parent']!r} is not a code in this file")
    return rows


def upsert(db: sqlite_utils.Database, rows: Iterable[dict[str, Any]], keep_edited: bool = False) -> int:
    """Insert or update units. With keep_edited (the file loaded at every start), a unit a leader has edited in
    the workbench keeps its edited fields; an explicit `tingjian directory import` overwrites them, and the file
    is again the unit's source."""
    rows = list(rows)
    if keep_edited:
        edited = {r[0] for r in db.execute("SELECT code FROM units WHERE edited_at IS NOT NULL")}
        rows = [r for r in rows if r["code"] not in edited]
    # Parents first, so the foreign key always finds its row.
    pending = {r["code"]: r for r in rows}
    done: set[str] = set(r[0] for r in db.execute("SELECT code FROM units"))
    count = 0
    while pending:
        ready = [r for r in pending.values() if not r["parent"] or r["parent"] in done]
        if not ready:
            raise DirectoryError(f"parent cycle among: {', '.join(sorted(pending))}")
        for r in ready:
            db.execute(
                "INSERT INTO units (code, name, kind, district, parent, categories, commitment) "
                "VALUES (?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(code) DO UPDATE SET name = excluded.name, kind = excluded.kind, "
                "district = excluded.district, parent = excluded.parent, categories = excluded.categories, "
                "commitment = excluded.commitment, active = 1",
                [r["code"], r["name"], r["kind"], r["district"], r["parent"], r.get("categories"),
                 r.get("commitment")],
            )
            done.add(r["code"])
            del pending[r["code"]]
            count += 1
    if not keep_edited and "edited_at" in db["units"].columns_dict:  # (absent before migration m018)
        codes = [r["code"] for r in rows]
        for i in range(0, len(codes), 500):
            part = codes[i:i + 500]
            db.execute(f"UPDATE units SET edited_at = NULL WHERE code IN ({','.join('?' * len(part))})", part)
    edits.bump_if_ready(db, edits.PUBLIC)  # a running service's public pages follow a `directory import`
    return count


def all_units(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM units WHERE active = 1 ORDER BY kind, district, code"))


def get(db: sqlite_utils.Database, code: str | None) -> dict[str, Any] | None:
    if not code:
        return None
    rows = list(db.query("SELECT * FROM units WHERE code = ?", [code]))
    return rows[0] if rows else None


def children(db: sqlite_utils.Database, code: str | None) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM units WHERE parent = ? AND active = 1 ORDER BY code", [code]))


def office_for(db: sqlite_utils.Database, category: str) -> dict[str, Any] | None:
    """The bureau office whose categories list this category."""
    for row in db.query("SELECT * FROM units WHERE kind = 'office' AND active = 1 AND categories IS NOT NULL"):
        if category in row["categories"].replace(",", ";").split(";"):
            return row
    return None


def district_bureau(db: sqlite_utils.Database, district: str) -> dict[str, Any] | None:
    """The bureau of a district (江北区 -> 江北区教育局), if the directory has exactly one."""
    rows = list(db.query("SELECT * FROM units WHERE kind = 'district' AND district = ? AND active = 1", [district]))
    return rows[0] if len(rows) == 1 else None


def schools(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM units WHERE kind IN ('school', 'kindergarten') AND active = 1"))


def school_names(db: sqlite_utils.Database) -> list[tuple[str, str]]:
    """(code, name) of every active school and kindergarten: what a typed school name is matched against, on
    the message path (conn.execute and tuples: db.query wraps each read in a savepoint and builds a dict per row).
    On the writer, read once per write transaction (storage.db.tx_memo: any write to units forgets it)."""
    memo = tx_memo(db)
    names = memo.get("school_names") if memo is not None else None
    if names is None:
        names = [(code, name) for code, name, _district in school_places(db)]  # one read of the schools for both
        if memo is not None:
            memo["school_names"] = names
    return names


def school_places(db: sqlite_utils.Database) -> list[tuple[str, str, str | None]]:
    """(code, name, district) of every active school and kindergarten: where a place said beside a name (江南那个实验
    小学) narrows the look-up to. Memoised as school_names is."""
    memo = tx_memo(db)
    rows = memo.get("school_places") if memo is not None else None
    if rows is None:
        rows = db.conn.execute("SELECT code, name, district FROM units WHERE kind IN ('school', 'kindergarten') "
                               "AND active = 1").fetchall()
        if memo is not None:
            memo["school_places"] = rows
    return rows


def by_scene(db: sqlite_utils.Database, scene: str) -> dict[str, Any] | None:
    prefix, _, code = scene.partition(":")
    if prefix not in ("school", "unit") or not code:
        return None
    rows = list(db.query("SELECT * FROM units WHERE code = ? AND active = 1", [code]))
    return rows[0] if rows else None


EDITABLE = ("name", "kind", "district", "parent", "commitment", "contact_hours", "contact_phone")


def update(db: sqlite_utils.Database, code: str, fields: dict[str, Any], now: float) -> dict[str, Any]:
    """Change a unit's editable fields (EDITABLE) with the CSV's checks, plus: the parent exists, is active and
    is not the unit itself or one under it. Returns the row before; DirectoryError names what is wrong, and
    nothing changes."""
    before = get(db, code)
    if before is None:
        raise DirectoryError(f"unknown unit {code!r}")
    unknown = set(fields) - set(EDITABLE)
    if unknown:
        raise DirectoryError(f"not editable: {', '.join(sorted(unknown))}")
    row = {**{k: before[k] for k in EDITABLE}, **{k: (v.strip() if isinstance(v, str) else v) or None
                                                    for k, v in fields.items()}, "code": code}
    problem = check(row)
    if problem:
        raise DirectoryError(problem, problem.split()[0] if problem.split()[0] in EDITABLE else "name")
    for key, most in (("name", 60), ("commitment", 500), ("contact_hours", 100), ("contact_phone", 40),
                      ("district", 30)):
        if row[key] and len(row[key]) > most:
            raise DirectoryError(f"{key} is longer than {most} characters", key)
    if row["parent"]:
        seen, up = {code}, row["parent"]
        while up:
            if up in seen:
                raise DirectoryError(f"parent {row['parent']!r} is {code!r} itself or a unit under it", "parent")
            parent = get(db, up)
            if parent is None or (up == row["parent"] and not parent["active"]):
                raise DirectoryError(f"parent {row['parent']!r} is not a unit in the directory", "parent")
            seen.add(up)
            up = parent["parent"]
    sets = ", ".join(f"{k} = ?" for k in EDITABLE)
    db.execute(f"UPDATE units SET {sets}, edited_at = ? WHERE code = ?", [*(row[k] for k in EDITABLE), now, code])
    edits.bump(db, edits.PUBLIC)
    return before


def search(units: list[dict[str, Any]], query: str) -> list[dict[str, Any]]:
    """Units whose name or code contains every word of the query (case ignored)."""
    words = query.lower().split()
    return [u for u in units if all(w in (u["name"] + " " + u["code"] + " " + (u["district"] or "")).lower()
                                    for w in words)]
