"""Staff accounts: one-time invite codes, bound to a WeChat openid by sending 绑定 <code>."""
from __future__ import annotations

import hashlib
import secrets
from typing import Any

import sqlite_utils

ROLES = ("handler", "supervisor", "leader", "admin")
# Letters and digits a person cannot misread on a phone (no 0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


class InviteError(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # 'unknown', 'expired', 'used'


def _hash(code: str) -> str:
    return hashlib.sha256(code.strip().upper().encode()).hexdigest()


def create_invite(db: sqlite_utils.Database, unit_code: str, role: str, name: str, now: float,
                  ttl_seconds: float) -> str:
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if db.execute("SELECT 1 FROM units WHERE code = ?", [unit_code]).fetchone() is None:
        raise ValueError(f"unknown unit {unit_code!r}")
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(8))
    db.execute("INSERT INTO staff_invites (code_hash, unit_code, role, name, created_at, expires_at) "
               "VALUES (?, ?, ?, ?, ?, ?)", [_hash(code), unit_code, role, name, now, now + ttl_seconds])
    return code


def redeem(db: sqlite_utils.Database, code: str, openid: str, now: float) -> dict[str, Any]:
    """Bind openid as the invited staff member. Raises InviteError; the code works once."""
    row = db.execute("SELECT unit_code, role, name, expires_at, used_by FROM staff_invites WHERE code_hash = ?",
                     [_hash(code)]).fetchone()
    if row is None:
        raise InviteError("unknown")
    if row[4] is not None:
        raise InviteError("used")
    if row[3] <= now:
        raise InviteError("expired")
    db.execute("UPDATE staff_invites SET used_by = ?, used_at = ? WHERE code_hash = ?", [openid, now, _hash(code)])
    db.execute(
        "INSERT INTO users (openid, role, unit_code, name, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(openid) DO UPDATE SET role = excluded.role, unit_code = excluded.unit_code, "
        "name = excluded.name", [openid, row[1], row[0], row[2], now, now])
    return {"unit_code": row[0], "role": row[1], "name": row[2]}


def bind(db: sqlite_utils.Database, openid: str, unit_code: str, role: str, name: str, now: float) -> None:
    """Bind directly (demo staff, admin tools)."""
    db.execute(
        "INSERT INTO users (openid, role, unit_code, name, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(openid) DO UPDATE SET role = excluded.role, unit_code = excluded.unit_code, "
        "name = excluded.name", [openid, role, unit_code, name, now, now])


def remove(db: sqlite_utils.Database, openid: str) -> bool:
    return db.execute("UPDATE users SET role = 'citizen', unit_code = NULL WHERE openid = ? AND role != 'citizen'",
                      [openid]).rowcount == 1


def list_staff(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query(
        "SELECT u.openid, u.role, u.unit_code, u.name, n.name AS unit_name, u.last_seen_at FROM users u "
        "LEFT JOIN units n ON n.code = u.unit_code WHERE u.role != 'citizen' ORDER BY u.unit_code, u.role, u.name"))


def of_unit(db: sqlite_utils.Database, unit_code: str, roles: tuple[str, ...] = ("handler", "supervisor")) -> list[str]:
    marks = ",".join("?" * len(roles))
    return [r[0] for r in db.execute(
        f"SELECT openid FROM users WHERE unit_code = ? AND role IN ({marks}) ORDER BY openid", [unit_code, *roles])]


def leaders(db: sqlite_utils.Database) -> list[str]:
    # Named index: with ANALYZE's averages a role looks common, and the planner would walk every user.
    return [r[0] for r in db.execute(
        "SELECT openid FROM users INDEXED BY users_role_unit WHERE role = 'leader' ORDER BY openid")]


def units_with(db: sqlite_utils.Database, role: str) -> list[str]:
    return [r[0] for r in db.execute("SELECT DISTINCT unit_code FROM users WHERE role = ? AND unit_code IS NOT NULL "
                                     "ORDER BY unit_code", [role])]
