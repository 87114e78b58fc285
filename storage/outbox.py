"""Messages to push, written in the same transaction as the change that caused them and removed from the
queue only once the platform accepted them."""
from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from storage import jsontext
from storage.db import tx_memo

CLAIM_SECONDS = 60  # a 'sending' row whose sender died becomes due again after this

_encode = jsontext.encoder()  # json.JSONEncoder(ensure_ascii=False).encode's text, cheaper


# The channels each audience's notices go to. The workbench ('web') is a list the person reads when signed in:
# a row there is delivered when written.
CHANNELS = {"staff": ("wechat", "web"), "citizen": ("wechat",)}


def _insert(db: sqlite_utils.Database, openid: str, kind: str, payload: dict, now: float, source: str | None,
            channel: str = "wechat") -> int:
    status, sent_at = ("sent", now) if channel == "web" else ("pending", None)
    cur = db.execute(
        "INSERT INTO outbox (openid, kind, payload, source, created_at, next_attempt_at, channel, status, sent_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [openid, kind, _encode(payload), source, now, now, channel, status, sent_at],
    )
    return cur.lastrowid


def enqueue_text(db: sqlite_utils.Database, openid: str, text: str, now: float, source: str | None = None,
                 template: dict[str, Any] | None = None, notice: dict[str, Any] | None = None,
                 hold: dict[str, Any] | None = None) -> int:
    """A customer-service text. Outside WeChat's 48-hour window the WeChat channel sends a template message
    instead, rendered from `notice` (or the ready `template` {template_id, data, url}); without either the text
    waits for the person's next message."""
    payload: dict[str, Any] = {"content": text}
    if template:
        payload["template"] = template
    if notice:
        payload["notice"] = notice
    if hold is not None:
        payload["hold"] = hold
        return db.execute("INSERT INTO held_pushes (openid, payload, source, created_at, kind, at) "
                          "VALUES (?, ?, ?, ?, ?, ?)", [openid, _encode(payload), source, now, hold.get("kind"),
                                                        hold.get("at") or 0]).lastrowid
    return _insert(db, openid, "text", payload, now, source)


def enqueue_replies(db: sqlite_utils.Database, replies: list[dict[str, Any]], default_to: str, now: float,
                    source: str | None = None) -> int:
    """Queue replies ({text, to, extra}) as pushes, one row per channel of the notice's audience
    (extra.notice: channel-neutral {audience, ticket, title, state, due}); a push without a notice is WeChat's.
    With extra.hold the WeChat push waits in held_pushes until `release_all` merges it with the person's other held
    ones (the deadline watch's reminders: one push per person per sweep); the workbench's row is written at once."""
    for reply in replies:
        extra = reply.get("extra") or {}
        notice = extra.get("notice")
        to = reply.get("to") or default_to
        for channel in CHANNELS.get((notice or {}).get("audience"), ("wechat",)):
            if channel == "wechat":
                enqueue_text(db, to, reply["text"], now, source=source, template=extra.get("template"),
                             notice=notice, hold=extra.get("hold"))
            else:  # a reminder's fields (extra.hold) ride along: the workbench lists one sweep's as WeChat merges them
                _insert(db, to, "text", {"content": reply["text"], "notice": notice,
                                         **({"line": extra["hold"]} if extra.get("hold") else {})},
                        now, source, channel)
    return len(replies)


def held_next(db: sqlite_utils.Database) -> str | None:
    """The person whose held push is the oldest (None: nothing held)."""
    row = db.execute("SELECT openid FROM held_pushes ORDER BY id LIMIT 1").fetchone()
    return row[0] if row else None


def held_top(db: sqlite_utils.Database, openid: str, top: int) -> tuple[dict[str, int], list[dict[str, Any]]]:
    """One person's held pushes without reading every row (after the first sweep of an upgrade a leader holds
    thousands): how many of each hold kind, and the first `top` of each kind by (hold.at, id), each as
    {id, openid, payload, source}. Both from the index of (openid, kind, at, id) (m055)."""
    counts = dict(db.execute("SELECT kind, count(*) FROM held_pushes WHERE openid = ? GROUP BY kind",
                             [openid]).fetchall())
    out = []
    for kind in counts:
        out += [{"id": r[0], "openid": openid, "payload": json.loads(r[1]), "source": r[2]} for r in db.execute(
            "SELECT id, payload, source FROM held_pushes WHERE openid = ? AND kind IS ? ORDER BY at, id LIMIT ?",
            [openid, kind, top])]
    return counts, out


def held_of_kind(db: sqlite_utils.Database, openid: str, kind: str) -> list[dict[str, Any]]:
    """Every held push of one kind for one person, by (hold.at, id): for a kind held only until the next sweep (new
    tickets' notices), a few rows."""
    return [{"id": r[0], "openid": openid, "payload": json.loads(r[1]), "source": r[2]} for r in db.execute(
        "SELECT id, payload, source FROM held_pushes WHERE openid = ? AND kind IS ? ORDER BY at, id", [openid, kind])]


# A person's held rows deleted per write once merged into their push (~1.5 µs each): the rest in the next writes.
HELD_DELETE = 2000


def release_all(db: sqlite_utils.Database, openid: str, text: str, notice: dict[str, Any] | None, now: float,
                source: str | None = None) -> int:
    """Every held push of `openid` (those held_top counted, in this transaction) becomes one push with `text`.
    The first HELD_DELETE of them are deleted now; past that, the rest are marked merged (held_merged) and
    deleted by drop_merged in the next writes, never merged again."""
    through = db.execute("SELECT max(id) FROM held_pushes WHERE openid = ?", [openid]).fetchone()[0]
    deleted = db.execute("DELETE FROM held_pushes WHERE id IN (SELECT id FROM held_pushes WHERE openid = ? "
                         "ORDER BY id LIMIT ?)", [openid, HELD_DELETE]).rowcount
    if deleted == HELD_DELETE and _held_through(db, openid, through):
        db.execute("INSERT INTO held_merged (openid, through) VALUES (?, ?) ON CONFLICT(openid) DO UPDATE SET "
                   "through = excluded.through", [openid, through])
    return enqueue_text(db, openid, text, now, source=source, notice=notice)


def release_none(db: sqlite_utils.Database, openid: str) -> None:
    """A person's held pushes that no longer say anything (held_of_kind's, all gone stale): deleted, none sent."""
    db.execute("DELETE FROM held_pushes WHERE openid = ?", [openid])


def drop_merged(db: sqlite_utils.Database, openid: str) -> bool:
    """If `openid` has held rows already merged into a push (release_all), delete up to HELD_DELETE of them (and
    the mark with the last) and return True; else False: their held rows are still to merge."""
    row = db.execute("SELECT through FROM held_merged WHERE openid = ?", [openid]).fetchone()
    if row is None:
        return False
    deleted = db.execute("DELETE FROM held_pushes WHERE id IN (SELECT id FROM held_pushes WHERE openid = ? "
                         "AND id <= ? ORDER BY id LIMIT ?)", [openid, row[0], HELD_DELETE]).rowcount
    if deleted < HELD_DELETE or not _held_through(db, openid, row[0]):
        db.execute("DELETE FROM held_merged WHERE openid = ?", [openid])
    return True


def _held_through(db: sqlite_utils.Database, openid: str, through: int) -> bool:
    return bool(db.execute("SELECT EXISTS (SELECT 1 FROM held_pushes WHERE openid = ? AND id <= ?)",
                           [openid, through]).fetchone()[0])


def claim_due(db: sqlite_utils.Database, now: float, limit: int = 20) -> list[dict[str, Any]]:
    """Take due rows for sending. Safe across processes: the UPDATE runs under SQLite's write lock."""
    rows = db.execute(
        # Two ranges of outbox_due, never a walk over the sent rows kept for the retention period (named: with
        # ANALYZE's averages, 'pending' looks as common as 'sent' and the planner would walk the table by id).
        "UPDATE outbox SET status = 'sending', claimed_until = ? WHERE id IN ("
        "  SELECT id FROM outbox INDEXED BY outbox_due WHERE (status = 'pending' AND next_attempt_at <= ?)"
        "  OR (status = 'sending' AND claimed_until < ?) ORDER BY id LIMIT ?"
        ") RETURNING id, openid, kind, payload, attempts, created_at",
        [now + CLAIM_SECONDS, now, now, limit],
    ).fetchall()
    return sorted(
        ({"id": r[0], "openid": r[1], "kind": r[2], "payload": json.loads(r[3]), "attempts": r[4],
          "created_at": r[5]} for r in rows),
        key=lambda m: m["id"],
    )


def mark_sent(db: sqlite_utils.Database, item_id: int, now: float) -> None:
    db.execute("UPDATE outbox SET status = 'sent', sent_at = ?, attempts = attempts + 1, last_error = NULL "
               "WHERE id = ?", [now, item_id])


def mark_retry(db: sqlite_utils.Database, item_id: int, error: str, next_at: float) -> None:
    """A transient failure (the platform down, a timeout, a token problem): tried again at next_at, for ever.
    Whether it is late enough to alert about is for health() to say, not a reason to stop."""
    db.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ?, claimed_until = NULL, "
        "status = 'pending' WHERE id = ?",
        [error, next_at, item_id],
    )


def mark_failed(db: sqlite_utils.Database, item_id: int, error: str, now: float) -> None:
    """A permanent failure (the person unfollowed, a bad openid or template): retrying cannot help. The row
    ends here with its reason, kept for `tingjian outbox list --state failed`."""
    db.execute(
        "UPDATE outbox SET attempts = attempts + 1, last_error = ?, claimed_until = NULL, status = 'failed', "
        "failed_at = ? WHERE id = ?",
        [error, now, item_id],
    )


def mark_waiting(db: sqlite_utils.Database, item_id: int, error: str) -> None:
    """Outside the person's 48-hour window: hold it until they next write to us."""
    db.execute("UPDATE outbox SET status = 'waiting', last_error = ?, claimed_until = NULL WHERE id = ?",
               [error, item_id])


def any_waiting(db: sqlite_utils.Database) -> bool:
    """Whether any message waits for its person's next message (the partial index of waiting rows: one probe)."""
    return bool(db.execute("SELECT EXISTS (SELECT 1 FROM outbox WHERE status = 'waiting')").fetchone()[0])


def release_waiting(db: sqlite_utils.Database, openid: str, now: float) -> int:
    """The person wrote: what waited for it goes out. Every message asks; on the writer, whether anything waits
    at all is read once per write transaction (storage.db.tx_memo), so the usual answer costs no statement."""
    memo = tx_memo(db)
    if memo is not None:
        waiting = memo.get("outbox_waiting")
        if waiting is None:
            waiting = memo["outbox_waiting"] = any_waiting(db)
        if not waiting:
            return 0
    return db.execute(
        "UPDATE outbox SET status = 'pending', next_attempt_at = ? WHERE openid = ? AND status = 'waiting'",
        [now, openid],
    ).rowcount


def health(db: sqlite_utils.Database, now: float, failed_since: float) -> dict[str, Any]:
    """What an operator must know, from indexed lookups only (milliseconds at millions of rows): the age of the
    oldest row still to deliver, and how many rows failed for good since `failed_since` (counted up to 1000)."""
    # INDEXED BY: the partial indexes answer in O(log n); the planner might otherwise walk every pending row.
    oldest = db.execute("SELECT min(created_at) FROM outbox INDEXED BY outbox_open "
                        "WHERE status IN ('pending', 'sending')").fetchone()[0]
    failed = db.execute(
        "SELECT count(*) FROM (SELECT 1 FROM outbox INDEXED BY outbox_failed WHERE status = 'failed' "
        "AND failed_at >= ? LIMIT 1000)", [failed_since]).fetchone()[0]
    return {"oldest_pending_seconds": None if oldest is None else round(now - oldest, 1),
            "failed_recently": failed}


STATES = ("pending", "sending", "sent", "waiting", "failed")


def list_rows(db: sqlite_utils.Database, states: tuple[str, ...] = ("pending", "sending", "waiting", "failed"),
              limit: int = 50) -> list[dict[str, Any]]:
    """Newest first, for `tingjian outbox list`."""
    marks = ",".join("?" * len(states))
    return list(db.query(
        f"SELECT id, openid, kind, status, attempts, created_at, next_attempt_at, failed_at, last_error, source, "
        f"payload FROM outbox WHERE status IN ({marks}) AND channel = 'wechat' ORDER BY id DESC LIMIT ?",
        [*states, limit]))


def retry(db: sqlite_utils.Database, now: float, item_id: int | None = None) -> int:
    """Make a failed (or waiting) row due again now, or every failed row when item_id is None."""
    if item_id is None:
        where, args = "status = 'failed'", []
    else:
        where, args = "id = ? AND status IN ('failed', 'waiting', 'pending')", [item_id]
    return db.execute(
        f"UPDATE outbox SET status = 'pending', next_attempt_at = ?, attempts = 0, failed_at = NULL, "
        f"claimed_until = NULL WHERE {where}", [now, *args]).rowcount


def list_for(db: sqlite_utils.Database, openid: str, channel: str = "wechat") -> list[dict[str, Any]]:
    return list(db.query("SELECT * FROM outbox WHERE openid = ? AND channel = ? ORDER BY id", [openid, channel]))


# -- the workbench's notification list (channel 'web') -------------------------------------------------------------
def web_notices(db: sqlite_utils.Database, openid: str, limit: int = 50, before: int | None = None,
                after: int | None = None) -> list[dict[str, Any]]:
    """A person's workbench notices, newest first: those with ids below `before`, or (`after`) the `limit` just
    above `after`, still newest first. A range of outbox_web_list either way, however many the person has."""
    if after is not None:
        rows = list(db.query("SELECT id, payload, created_at, read_at FROM outbox WHERE openid = ? AND channel = 'web' "
                             "AND id > ? ORDER BY id LIMIT ?", [openid, after, limit]))[::-1]
    else:
        rows = list(db.query("SELECT id, payload, created_at, read_at FROM outbox WHERE openid = ? AND channel = 'web' "
                             "AND id < ? ORDER BY id DESC LIMIT ?", [openid, 2 ** 62 if before is None else before,
                                                                     limit]))
    for r in rows:
        payload = json.loads(r.pop("payload"))
        r["text"], r["notice"], r["line"] = payload["content"], payload.get("notice") or {}, payload.get("line")
    return rows


def web_count(db: sqlite_utils.Database, openid: str, above: int = 0) -> int:
    """How many workbench notices a person has (`above`: with ids above it, newer): counted in the index."""
    return db.execute("SELECT count(*) FROM outbox WHERE openid = ? AND channel = 'web' AND id > ?",
                      [openid, above]).fetchone()[0]


def web_unread(db: sqlite_utils.Database, openid: str, cap: int = 99) -> int:
    """Unread notices, counted up to `cap` (the badge shows 99+)."""
    return db.execute("SELECT count(*) FROM (SELECT 1 FROM outbox WHERE openid = ? AND channel = 'web' "
                      "AND read_at IS NULL LIMIT ?)", [openid, cap + 1]).fetchone()[0]


def web_mark_read(db: sqlite_utils.Database, openid: str, now: float, up_to: int) -> int:
    return db.execute("UPDATE outbox SET read_at = ? WHERE openid = ? AND channel = 'web' AND read_at IS NULL "
                      "AND id <= ?", [now, openid, up_to]).rowcount


def prune_sent(db: sqlite_utils.Database, before: float, limit: int = 500) -> int:
    """Retention: forget up to `limit` messages delivered before `before` (the tickets and their events keep
    the history; a sent push is only a copy of what they say). Call again until it returns < limit."""
    return db.execute("DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE status = 'sent' AND sent_at < ? "
                      "ORDER BY sent_at LIMIT ?)", [before, limit]).rowcount
