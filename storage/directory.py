"""Units (bureau, offices, district bureaus) and schools, with the QR scene that leads to each."""
from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, Iterable

import sqlite_utils

UNIT_KINDS = ("bureau", "office", "district", "school", "kindergarten")
COLUMNS = ("code", "name", "kind", "district", "parent", "categories", "commitment")


class DirectoryError(ValueError):
    pass


def scene_for(unit: dict[str, Any]) -> str:
    """QR scene_str: `school:<code>` for schools and kindergartens, `unit:<code>` for offices."""
    prefix = "school" if unit["kind"] in ("school", "kindergarten") else "unit"
    return f"{prefix}:{unit['code']}"


def read_csv(path: str | Path) -> list[dict[str, Any]]:
    """Rows checked one by one; an error names the line."""
    rows = []
    with open(path, newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in ("code", "name", "kind") if c not in (reader.fieldnames or [])]
        if missing:
            raise DirectoryError(f"{path}: missing column(s): {', '.join(missing)}")
        for line, raw in enumerate(reader, start=2):
            row = {c: (raw.get(c) or "").strip() or None for c in COLUMNS}
            if not row["code"] or not row["name"]:
                raise DirectoryError(f"{path}:{line}: code and name are required")
            if len(row["code"]) > 48 or not row["code"].replace("-", "").replace("_", "").isalnum():
                raise DirectoryError(f"{path}:{line}: code {row['code']!r} must be letters, digits, - or _")
            if row["kind"] not in UNIT_KINDS:
                raise DirectoryError(f"{path}:{line}: kind {row['kind']!r} must be one of {', '.join(UNIT_KINDS)}")
            rows.append(row)
    codes = {r["code"] for r in rows}
    for line, row in enumerate(rows, start=2):
        if row["parent"] and row["parent"] not in codes:
            raise DirectoryError(f"{path}:{line}: parent {row['parent']!r} is not a code in this file")
    return rows


def upsert(db: sqlite_utils.Database, rows: Iterable[dict[str, Any]]) -> int:
    rows = list(rows)
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


def schools(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM units WHERE kind IN ('school', 'kindergarten') AND active = 1"))


def by_scene(db: sqlite_utils.Database, scene: str) -> dict[str, Any] | None:
    prefix, _, code = scene.partition(":")
    if prefix not in ("school", "unit") or not code:
        return None
    rows = list(db.query("SELECT * FROM units WHERE code = ? AND active = 1", [code]))
    return rows[0] if rows else None
