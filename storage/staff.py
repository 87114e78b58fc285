"""Staff accounts: one-time invite codes, bound to a WeChat openid by sending 绑定 <code>."""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
import unicodedata
from typing import Any

import sqlite_utils

from storage import users, websessions

log = logging.getLogger(__name__)

ROLES = ("handler", "supervisor", "leader", "admin")
# Letters and digits a person cannot misread on a phone (no 0/O, 1/I/L).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def insider_sql(openid: str) -> str:
    """SQL true when the person `openid` (an SQL expression) is bound as staff of any unit, or is a leader or
    admin: an insider, whose judgement is not the public's (群众评议, 表扬, ratings: m050 `by_insider`). Not only the
    unit's own staff and the unit above: a rival school's principal marking a neighbour down, or two schools
    praising each other, is the same conflict of interest. One predicate for every figure that must be the
    public's; what a person gave before they were bound is left out too (read when the figures are, not when the
    answer came). Once bound, always: unbinding (a transfer, a leaver, a removal asked for at the right moment)
    does not make a unit's staff its public, nor bring back what they gave while bound elsewhere (m044
    `staff_left_at`). An account never bound is an insider too once any ticket it wrote gives a staff phone on
    file (m056, add_phones): a staff member's own second account, when they give their phone; nothing catches one
    that gives none (README, "What a unit cannot do to its own figures")."""
    return (f"(EXISTS (SELECT 1 FROM users u WHERE u.openid = {openid} AND (u.role IN ('handler', 'supervisor', "
            f"'leader', 'admin') OR u.staff_left_at IS NOT NULL)) OR (EXISTS (SELECT 1 FROM staff_phones WHERE phone > '') "
            f"AND EXISTS (SELECT 1 FROM tickets t2 INDEXED BY tickets_openid JOIN staff_phones p "
            f"ON p.phone = replace(t2.contact_phone, '-', '') WHERE t2.openid = {openid} "
            f"AND t2.contact_phone IS NOT NULL)))")


NAME_LIMIT = 60  # characters of a name kept (the admin page's field)
# Letters that show as nothing (Hangul fillers, the braille blank): a name of them alone looks empty.
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


class BadName(ValueError):
    """A name with nothing visible left once cleaned (clean_name): said as it is to whoever typed it."""


def clean_name(name: str | None, required: bool = True) -> str | None:
    """A person's name as it is stored (an invite's, a binding's, a staff phone's: the one rule where names enter):
    control and format characters taken out (zero-width ones, bidi overrides and isolates that reverse what
    follows in every list and audit line, the soft hyphen, the BOM), and private-use, unassigned and blank
    letters; any run of spaces or line breaks one space. Nothing visible left: BadName, or None if not `required`."""
    kept = []
    for ch in name or "":
        cat = unicodedata.category(ch)
        if cat[0] == "Z" or ch in "\t\n\r\x0b\x0c\x1c\x1d\x1e\x1f\x85":
            kept.append(" ")
        elif cat[0] != "C" and ch not in _BLANK_LETTERS:  # Cc, Cf, Co, Cs, Cn: nothing to see
            kept.append(ch)
    cleaned = " ".join("".join(kept).split())[:NAME_LIMIT].strip()
    if not cleaned and required:
        raise BadName("姓名为空，或只有看不见的字符（如零宽字符、方向控制符）。请填写工作人员的姓名，如：江南区实验小学·张老师。")
    return cleaned or None


PHONE = re.compile(r"^(1[3-9]\d{9}|0\d{9,11})$")  # a mobile, or a landline with its area code, digits only


def phone_digits(text: str) -> str:
    """A phone as staff_phones keeps it: spaces, dashes and a +86 dropped; ValueError if it is no phone."""
    digits = re.sub(r"[\s\-()（）]", "", unicodedata.normalize("NFKC", text or ""))
    digits = digits[3:] if digits.startswith("+86") else digits
    if not PHONE.match(digits):
        raise ValueError(f"not a phone number: {text!r} (a mobile such as 13800001234, or 0571-12345678)")
    return digits


def add_phones(db: sqlite_utils.Database, phones: list[tuple[str, str | None]], now: float) -> tuple[int, int]:
    """Record staff phones (phone, name): every one checked first, then all written (bad input changes nothing).
    The accounts that gave one on a ticket are insiders (insider_sql; their tickets' by_insider: the m056 trigger):
    returns (phones new, tickets of those accounts)."""
    rows = [(phone_digits(p), clean_name(n, required=False)) for p, n in phones]
    new = 0
    for phone, name in rows:
        cur = db.execute("INSERT INTO staff_phones (phone, name, added_at) VALUES (?, ?, ?) "
                         "ON CONFLICT(phone) DO UPDATE SET name = coalesce(excluded.name, name)", [phone, name, now])
        new += bool(cur.rowcount)
    marked = db.execute(f"SELECT count(*) FROM tickets WHERE openid IN ({_GAVE.format(marks=','.join('?' * len(rows)))})",
                        [p for p, _ in rows]).fetchone()[0] if rows else 0
    return new, marked


def remove_phone(db: sqlite_utils.Database, phone: str) -> bool:
    """A phone put on file by mistake: the accounts that gave it count again unless insiders otherwise."""
    phone = phone_digits(phone)
    if not db.execute("DELETE FROM staff_phones WHERE phone = ?", [phone]).rowcount:
        return False
    db.execute(f"UPDATE tickets SET by_insider = ({insider_sql('tickets.openid')}) "
               f"WHERE openid IN ({_GAVE.format(marks='?')})", [phone])
    return True


# the accounts that gave one of these phones on a ticket (index tickets_contact_digits)
_GAVE = ("SELECT openid FROM tickets WHERE contact_phone IS NOT NULL "
         "AND replace(contact_phone, '-', '') IN ({marks})")


def phones(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    return list(db.query("SELECT phone, name, added_at FROM staff_phones ORDER BY added_at, phone"))


class InviteError(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # 'unknown', 'expired', 'used', 'revoked', 'limited'; refused by allow: 'self',
        # 'admin_only' (the redeemer is an admin), 'granted_by_non_admin', 'last_admin'


CODE_LENGTH = 8
# The first characters of a code are stored in clear to find its row without hashing every outstanding code; the
# other six (about 30 bits) are the secret, behind scrypt and the attempt limits.
SELECTOR_LENGTH = 2
# scrypt at n=2^14, r=8 (16 MiB): about 0.1 s per check here, paid only for a code whose selector matches.
SCRYPT = {"n": 2 ** 14, "r": 8, "p": 1, "dklen": 32, "maxmem": 64 * 1024 * 1024}
# Codes are looked up among those created this long ago at most (invite_hours is at most 30 days).
LOOKBACK_SECONDS = 31 * 86400
ATTEMPT_WINDOW = 3600


def normalise_code(code: str) -> str:
    """What a person meant to type: full-width letters and digits made plain, case ignored, and everything else
    (spaces, zero-width characters, dashes a phone keyboard adds) dropped."""
    return "".join(c for c in unicodedata.normalize("NFKC", code).upper() if c.isascii() and c.isalnum())


def _hash(code: str, salt: bytes) -> str:
    return "scrypt$" + salt.hex() + "$" + hashlib.scrypt(code.encode(), salt=salt, **SCRYPT).hex()


def _matches(code: str, stored: str) -> bool:
    if not stored.startswith("scrypt$"):
        return False  # a code from before salted hashes: no longer accepted (see migration m007_invite_hardening)
    _, salt, _digest = stored.split("$")
    return hmac.compare_digest(_hash(code, bytes.fromhex(salt)), stored)


# Who may make invites in the workbench; an invite binds only while its maker still holds one of these roles (an
# invite from the console, `tingjian staff invite`, has no maker and needs none).
INVITERS = ("leader", "admin")
CONSOLE = "cli"          # `tingjian staff …` on the server: whoever runs it holds the database file anyway
UNFOLLOWED = "unfollow"  # the person left the account (WeChat delivers them nothing): a fact, never refused


class StaffChangeRefused(ValueError):
    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason  # 'not_inviter', 'self', 'admin_only', 'last_admin'


def grantable(by_role: str | None) -> tuple[str, ...]:
    """The roles someone in `by_role` (CONSOLE: the console) may give or take away: an admin or the console
    any; a leader any but admin; nobody else any."""
    if by_role in (CONSOLE, "admin"):
        return ROLES
    return tuple(r for r in ROLES if r != "admin") if by_role in INVITERS else ()


def _role(db: sqlite_utils.Database, openid: str | None) -> str | None:
    row = db.execute("SELECT role FROM users WHERE openid = ?", [openid]).fetchone() if openid else None
    return row[0] if row and row[0] in ROLES else None


def allow(db: sqlite_utils.Database, by: str, openid: str | None, before: str | None, role: str | None,
          now: float, what: str = "", ip: str | None = None) -> None:
    """THE rule for every change of who is staff, in which role (an invite made and redeemed, a role change, an
    unbinding; the 人员 pages, the console and 绑定 all come here): `by` (an openid, CONSOLE or UNFOLLOWED) takes
    `openid` (None: whoever redeems an invite) from role `before` (None: not staff) to `role` (None: unbound).
    Least privilege: only leaders and admins change anyone; nobody changes their own role or binding (someone
    else must); only an admin grants or takes away admin; the last admin stays (bind another first). The console
    is the bureau's server, where the first admin is made: it may grant anything, but not leave no admin.
    Raises StaffChangeRefused; a refusal is written to the audit log first (`what` says what was asked), which
    the caller keeps by catching it inside its transaction."""
    reason = None
    if by != UNFOLLOWED:
        may = grantable(CONSOLE if by == CONSOLE else _role(db, by))
        if not may:
            reason = "not_inviter"
        elif openid is not None and by == openid:
            reason = "self"
        elif any(r is not None and r not in may for r in (before, role)):
            reason = "admin_only"  # the one role a leader may not give or take
        elif before == "admin" and role != "admin" and not db.execute(
                "SELECT 1 FROM users INDEXED BY users_role_unit WHERE role = 'admin' AND openid != ? LIMIT 1",
                [openid]).fetchone():
            reason = "last_admin"
    if reason:
        websessions.audit(db, now, by, "staff:refused", None, f"{reason}: {what}"[:1000], ip)
        raise StaffChangeRefused(reason)


def create_invite(db: sqlite_utils.Database, unit_code: str, role: str, name: str, now: float,
                  ttl_seconds: float, created_by: str | None = None, ip: str | None = None) -> str:
    """An invite to bind as `role` at `unit_code`, made by `created_by` (None: the console), who must be allowed
    to grant it (allow); checked again when it is redeemed. Recorded in the audit log."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    if db.execute("SELECT 1 FROM units WHERE code = ?", [unit_code]).fetchone() is None:
        raise ValueError(f"unknown unit {unit_code!r}")
    name = clean_name(name)
    by = created_by or CONSOLE
    allow(db, by, None, None, role, now, f"invite {name} {role} {unit_code}", ip)
    websessions.audit(db, now, by, "staff:invite", None, f"{name} {role} {unit_code}", ip)
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    db.execute("INSERT INTO staff_invites (code_hash, selector, unit_code, role, name, created_at, expires_at, "
               "created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
               [_hash(code, secrets.token_bytes(16)), code[:SELECTOR_LENGTH], unit_code, role, name, now,
                now + ttl_seconds, created_by])
    return code


_who = users.log_name


def redeem(db: sqlite_utils.Database, code: str, openid: str, now: float,
           limits: tuple[int, int] = (5, 50)) -> dict[str, Any]:
    """Bind openid as the invited staff member. Raises InviteError; the code works once. Wrong codes are counted
    per person and in total over the last hour; past `limits` every attempt is refused unchecked. Catch the
    InviteError inside the transaction: letting it roll back would also undo the record of a wrong attempt."""
    per_person, total = limits
    since = now - ATTEMPT_WINDOW
    mine, everyone = db.execute(
        "SELECT count(*) FILTER (WHERE openid = ?), count(*) FROM bind_attempts WHERE at > ?",
        [openid, since]).fetchone()
    if mine >= per_person or everyone >= total:
        log.warning("绑定 refused for user %s: %s wrong invite codes this hour (limits %d per person, %d in total)",
                    _who(openid), f"{mine} of their / {everyone} all", per_person, total)
        raise InviteError("limited")
    code = normalise_code(code)
    row = None
    if len(code) == CODE_LENGTH:
        for candidate in db.execute(
                "SELECT code_hash, unit_code, role, name, expires_at, used_by, revoked_at, created_by FROM staff_invites "
                "WHERE selector = ? AND created_at > ?", [code[:SELECTOR_LENGTH], now - LOOKBACK_SECONDS]):
            if _matches(code, candidate[0]):
                row = candidate
                break
    if row is None:
        db.execute("DELETE FROM bind_attempts WHERE at < ?", [now - 86400])
        db.execute("INSERT INTO bind_attempts (openid, at) VALUES (?, ?)", [openid, now])
        log.warning("wrong invite code from user %s (%d this hour from them, %d in total)", _who(openid), mine + 1,
                    everyone + 1)
        raise InviteError("unknown")
    code_hash, unit_code, role, name, expires_at, used_by, revoked_at, created_by = row
    if used_by is not None:
        raise InviteError("used")
    if revoked_at is not None:
        raise InviteError("revoked")
    if expires_at <= now:
        raise InviteError("expired")
    # redeeming is a change of the redeemer's role, authorised by the invite's maker as they stand now
    before = db.execute("SELECT role, unit_code FROM users WHERE openid = ?", [openid]).fetchone()
    was = before[0] if before and before[0] in ROLES else None
    change = f"{openid} {was or 'citizen'}@{before[1] if was else '-'} → {role}@{unit_code}"
    try:
        allow(db, created_by or CONSOLE, openid, was, role, now, f"bind {change}")
    except StaffChangeRefused as exc:
        log.warning("invite made by %s refused for user %s: %s", _who(created_by) if created_by else CONSOLE,
                    _who(openid), exc.reason)
        raise InviteError("revoked" if exc.reason == "not_inviter" else "granted_by_non_admin"
                          if exc.reason == "admin_only" and role == "admin" else exc.reason) from None
    db.execute("UPDATE staff_invites SET used_by = ?, used_at = ? WHERE code_hash = ?", [openid, now, code_hash])
    # (an invite made before names were cleaned: what is left of its name, never a refusal of the invite)
    name = _bound(db, openid, unit_code, role, name, now, required=False)
    log.info("invite used: user %s bound as %s of %s", _who(openid), role, unit_code)
    websessions.audit(db, now, openid, "staff:bind", None,
                      f"{change}（绑定码 {code[:SELECTOR_LENGTH]}······，{created_by or CONSOLE} 生成）")
    return {"unit_code": unit_code, "role": role, "name": name}


def bind(db: sqlite_utils.Database, openid: str, unit_code: str, role: str, name: str, now: float) -> None:
    """Bind directly (demo staff, admin tools). BadName for a name with nothing visible in it."""
    _bound(db, openid, unit_code, role, name, now)


def _bound(db: sqlite_utils.Database, openid: str, unit_code: str, role: str, name: str | None, now: float,
           required: bool = True) -> str | None:
    """The person's row as staff, the one write of a bound name: cleaned (clean_name) first; the name kept."""
    name = clean_name(name, required)
    db.execute(
        "INSERT INTO users (openid, role, unit_code, name, first_seen_at, last_seen_at) VALUES (?, ?, ?, ?, ?, ?) "
        "ON CONFLICT(openid) DO UPDATE SET role = excluded.role, unit_code = excluded.unit_code, "
        "name = excluded.name", [openid, role, unit_code, name, now, now])
    return name


def invites(db: sqlite_utils.Database, now: float, limit: int = 200) -> list[dict[str, Any]]:
    """Invite codes, the latest first, with their state: open, used, expired or revoked. The code itself is not
    kept (only its hash): its first characters (the selector) tell two apart."""
    rows = list(db.query(
        "SELECT i.rowid AS id, i.selector, i.unit_code, n.name AS unit_name, i.role, i.name, i.created_at, "
        "i.expires_at, i.used_by, i.used_at, i.revoked_at, u.name AS used_by_name FROM staff_invites i "
        "LEFT JOIN units n ON n.code = i.unit_code LEFT JOIN users u ON u.openid = i.used_by "
        "ORDER BY i.created_at DESC, i.rowid DESC LIMIT ?", [limit]))
    for r in rows:
        r["state"] = ("used" if r["used_by"] else "revoked" if r["revoked_at"] else
                      "expired" if r["expires_at"] <= now else "open")
    return rows


def revoke_invite(db: sqlite_utils.Database, invite_id: int, now: float, by: str = CONSOLE,
                  ip: str | None = None) -> dict[str, Any] | None:
    """Withdraw an invite nobody has used yet; returns its row, or None when there is no such open code.
    Recorded in the audit log (withdrawing grants nothing: anyone who may invite may)."""
    row = db.execute("SELECT unit_code, role, name FROM staff_invites WHERE rowid = ? AND used_by IS NULL "
                     "AND revoked_at IS NULL AND expires_at > ?", [invite_id, now]).fetchone()
    if row is None:
        return None
    db.execute("UPDATE staff_invites SET revoked_at = ? WHERE rowid = ?", [now, invite_id])
    websessions.audit(db, now, by, "staff:revoke", None, f"{row[2]} {row[1]} {row[0]}", ip)
    return {"unit_code": row[0], "role": row[1], "name": row[2]}


def set_role(db: sqlite_utils.Database, openid: str, role: str, by: str, now: float,
             ip: str | None = None) -> dict[str, Any]:
    """Change a staff member's role within their unit, as `by` may (allow); returns the row before. ValueError
    for a role not in ROLES or a person who is not staff; StaffChangeRefused. Recorded in the audit log."""
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}")
    row = db.execute("SELECT role, unit_code, name FROM users WHERE openid = ?", [openid]).fetchone()
    if row is None or row[0] not in ROLES:
        raise ValueError(f"{openid} is not a staff member")
    allow(db, by, openid, row[0], role, now, f"role {openid} {row[0]} → {role}", ip)
    db.execute("UPDATE users SET role = ? WHERE openid = ?", [role, openid])
    websessions.audit(db, now, by, "staff:role", None, f"{openid} {row[0]} → {role}", ip)
    return {"role": row[0], "unit_code": row[1], "name": row[2]}


def remove(db: sqlite_utils.Database, openid: str, by: str, now: float, ip: str | None = None) -> bool:
    """A citizen again, remembered as having been staff (insider_sql), as `by` may (allow; UNFOLLOWED: they
    left the account). False when they were not staff. Recorded in the audit log."""
    row = db.execute("SELECT role FROM users WHERE openid = ?", [openid]).fetchone()
    if row is None or row[0] == "citizen":
        return False
    allow(db, by, openid, row[0] if row[0] in ROLES else None, None, now, f"remove {openid} {row[0]}", ip)
    db.execute("UPDATE users SET role = 'citizen', unit_code = NULL, staff_left_at = ? WHERE openid = ?",
               [now, openid])
    # only an unfollow takes the last admin (allow refuses anyone else): a fact to keep, said loudly
    last = row[0] == "admin" and not of_role(db, "admin")
    if last:
        log.warning("the last admin (user %s) left the account and is unbound: no admin is bound now; bind one "
                    "from the console (tingjian staff invite --role admin)", _who(openid))
    websessions.audit(db, now, openid if by == UNFOLLOWED else by,
                      "staff:unfollow" if by == UNFOLLOWED else "staff:remove", None,
                      (LAST_ADMIN_LEFT if last else None) if by == UNFOLLOWED else openid, ip)
    return True


# the audit row of the last admin's unfollow (storage.staff.remove): no admin is bound after it
LAST_ADMIN_LEFT = "last admin: no admin is bound now (tingjian staff invite --role admin)"


def list_staff(db: sqlite_utils.Database) -> list[dict[str, Any]]:
    # role IN (…), not != 'citizen': a search of the role index instead of a walk over every citizen
    return list(db.query(
        "SELECT u.openid, u.role, u.unit_code, u.name, n.name AS unit_name, u.last_seen_at FROM users u "
        f"LEFT JOIN units n ON n.code = u.unit_code WHERE u.role IN ({','.join('?' * len(ROLES))}) "
        "ORDER BY u.unit_code, u.role, u.name", ROLES))


def count_by_unit(db: sqlite_utils.Database) -> dict[str, int]:
    """Staff bound per unit code."""
    return dict(db.execute(f"SELECT unit_code, count(*) FROM users WHERE role IN ({','.join('?' * len(ROLES))}) "
                           "GROUP BY unit_code", ROLES).fetchall())


def of_unit(db: sqlite_utils.Database, unit_code: str, roles: tuple[str, ...] = ("handler", "supervisor")) -> list[str]:
    marks = ",".join("?" * len(roles))
    return [r[0] for r in db.execute(
        f"SELECT openid FROM users WHERE unit_code = ? AND role IN ({marks}) ORDER BY openid", [unit_code, *roles])]


def leaders(db: sqlite_utils.Database) -> list[str]:
    # Named index: with ANALYZE's averages a role looks common, and the planner would walk every user.
    return [r[0] for r in db.execute(
        "SELECT openid FROM users INDEXED BY users_role_unit WHERE role = 'leader' ORDER BY openid")]


def of_role(db: sqlite_utils.Database, role: str) -> list[str]:
    """Everyone bound with `role` (a few people: the users_role_unit index, as `leaders`)."""
    return [r[0] for r in db.execute(
        "SELECT openid FROM users INDEXED BY users_role_unit WHERE role = ? ORDER BY openid", [role])]


def units_with(db: sqlite_utils.Database, role: str) -> list[str]:
    return [r[0] for r in db.execute("SELECT DISTINCT unit_code FROM users WHERE role = ? AND unit_code IS NOT NULL "
                                     "ORDER BY unit_code", [role])]
