"""服务事项: the service items each unit publishes (name, procedure, standard, time limit), and its contact hours.

Loaded from a TOML file ([directory] services), for example bot/demo/services.toml:

    [kind.school]                      # every school, unless it lists its own items
    contact_hours = "工作日 8:00—17:00"
    [[kind.school.items]]
    name = "转学申请"
    procedure = "家长提交申请表 → 学校审核 → 区教育局备案"
    standard = "材料齐全当场受理"
    time_limit = "5个工作日"

    [unit.jn-syxx]                     # one unit: its own items replace those of its kind
    contact_hours = "工作日 8:00—17:30"
    phone = "0000-00000000"
    [[unit.jn-syxx.items]]
    ...
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import sqlite_utils

from storage import edits, tomlfile

ITEM_KEYS = ("name", "procedure", "standard", "time_limit")


class ServicesError(ValueError):
    pass


def read_toml(path: str | Path, known: dict[str, str]) -> dict[str, dict[str, Any]]:
    """{scope: {"contact_hours", "phone", "items": [...]}}, scope = unit code or kind:<kind>; checked against the
    directory (`known`: code -> kind). An error names the table and key."""
    raw = tomlfile.read_toml(path, ServicesError)
    unknown = set(raw) - {"kind", "unit"}
    if unknown:
        raise ServicesError(f"{path}: unknown table [{sorted(unknown)[0]}]; use [kind.<kind>] or [unit.<code>]")
    kinds = set(known.values())
    out: dict[str, dict[str, Any]] = {}
    for table, valid, label in (("kind", kinds, "kind"), ("unit", set(known), "unit code")):
        for key, body in raw.get(table, {}).items():
            where = f"{path}: [{table}.{key}]"
            if key not in valid:
                raise ServicesError(f"{where}: no {label} {key!r} in the directory")
            if not isinstance(body, dict) or set(body) - {"contact_hours", "phone", "items"}:
                raise ServicesError(f"{where}: keys are contact_hours, phone and [[items]]")
            items = []
            for i, item in enumerate(body.get("items", []), start=1):
                if not isinstance(item, dict) or set(item) - set(ITEM_KEYS):
                    raise ServicesError(f"{where} item {i}: keys are {', '.join(ITEM_KEYS)}")
                if not str(item.get("name", "")).strip():
                    raise ServicesError(f"{where} item {i}: name is required")
                items.append({k: str(item.get(k, "")).strip() for k in ITEM_KEYS})
            out[f"kind:{key}" if table == "kind" else key] = {
                "contact_hours": str(body.get("contact_hours", "")).strip() or None,
                "phone": str(body.get("phone", "")).strip() or None, "items": items}
    return out


def replace(db: sqlite_utils.Database, scopes: dict[str, dict[str, Any]], keep_edited: bool = False) -> int:
    """Store what the file says, replacing earlier items of the scopes it names. Returns the items stored. With
    keep_edited (the file loaded at every start), units whose items or hours a leader edited in the workbench
    keep them."""
    count = 0
    if keep_edited:
        items_edited = {r[0] for r in db.execute("SELECT code FROM units WHERE items_edited_at IS NOT NULL")}
        scopes = {k: v for k, v in scopes.items() if k not in items_edited}
    hours_kept = " AND edited_at IS NULL" if keep_edited else ""
    # Kinds first: a unit's own hours then override its kind's.
    for scope, body in sorted(scopes.items(), key=lambda kv: not kv[0].startswith("kind:")):
        db.execute("DELETE FROM service_items WHERE scope = ?", [scope])
        for pos, item in enumerate(body["items"]):
            db.execute("INSERT INTO service_items (scope, position, name, procedure, standard, time_limit) "
                       "VALUES (?, ?, ?, ?, ?, ?)", [scope, pos, *(item[k] for k in ITEM_KEYS)])
            count += 1
        if scope.startswith("kind:"):
            db.execute("UPDATE units SET contact_hours = ? WHERE kind = ?" + hours_kept,
                       [body["contact_hours"], scope[5:]])
        else:
            db.execute("UPDATE units SET contact_hours = coalesce(?, contact_hours), "
                       "contact_phone = coalesce(?, contact_phone) WHERE code = ?" + hours_kept,
                       [body["contact_hours"], body["phone"], scope])
    edits.bump_if_ready(db, edits.PUBLIC)
    return count


def for_unit(db: sqlite_utils.Database, unit: dict[str, Any]) -> list[dict[str, Any]]:
    """The unit's own items, else those of its kind."""
    for scope in (unit["code"], f"kind:{unit['kind']}"):
        rows = list(db.query("SELECT name, procedure, standard, time_limit FROM service_items WHERE scope = ? "
                             "ORDER BY position", [scope]))
        if rows:
            return rows
    return []


def check_items(items: list[dict[str, Any]]) -> list[dict[str, str]]:
    """A unit's items as the workbench sends them, with the file's rule: every item named; empty rows dropped.
    ServicesError names the item at fault."""
    out = []
    for i, item in enumerate(items, start=1):
        item = {k: str(item.get(k, "") or "").strip() for k in ITEM_KEYS}
        if not any(item.values()):
            continue  # a blank row of the form
        if not item["name"]:
            raise ServicesError(f"item {i}: name is required")
        for key, most in (("name", 60), ("procedure", 500), ("standard", 300), ("time_limit", 60)):
            if len(item[key]) > most:
                raise ServicesError(f"item {i}: {key} is longer than {most} characters")
        out.append(item)
    return out


def set_unit_items(db: sqlite_utils.Database, code: str, items: list[dict[str, Any]], now: float,
                   hours: str | None = None) -> int:
    """Replace one unit's own items (the workbench; checked with check_items) and mark them edited, so the file
    loaded at start leaves them alone. No items: the unit shows its kind's items again."""
    items = check_items(items)
    if db.execute("SELECT 1 FROM units WHERE code = ?", [code]).fetchone() is None:
        raise ServicesError(f"unknown unit {code!r}")
    replace(db, {code: {"items": items, "contact_hours": None, "phone": None}})
    db.execute("UPDATE units SET items_edited_at = ? WHERE code = ?", [now, code])
    return len(items)
