"""Schema as small, ordered migration functions (sqlite-utils Migrations). Never edit one that has shipped:
add a new one."""
from __future__ import annotations

import sqlite_utils
from sqlite_utils import Migrations

migrations = Migrations("tingjian")


def _exec(db: sqlite_utils.Database, *statements: str) -> None:
    for sql in statements:
        db.execute(sql)


@migrations()
def m001_core(db: sqlite_utils.Database) -> None:
    _exec(
        db,
        # Each inbound WeChat message once: key = MsgId, or FromUserName+CreateTime for events.
        """CREATE TABLE inbound (
            key TEXT PRIMARY KEY,
            openid TEXT NOT NULL,
            msg_type TEXT NOT NULL,
            payload TEXT NOT NULL,          -- the Inbound as JSON, enough to handle it again after a crash
            received_at REAL NOT NULL,
            status TEXT NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'done')),
            deferred INTEGER NOT NULL DEFAULT 0,  -- 1: the webhook answered 'success'; replies go by the outbox
            reply TEXT,                     -- the passive reply as JSON, answered again to a retry
            handled_at REAL
        )""",
        "CREATE INDEX inbound_status ON inbound(status) WHERE status = 'received'",
        "CREATE INDEX inbound_received ON inbound(received_at)",
        """CREATE TABLE units (
            code TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('bureau', 'office', 'district', 'school', 'kindergarten')),
            district TEXT,
            parent TEXT REFERENCES units(code),
            active INTEGER NOT NULL DEFAULT 1
        )""",
        """CREATE TABLE users (
            openid TEXT PRIMARY KEY,
            role TEXT NOT NULL DEFAULT 'citizen'
                CHECK (role IN ('citizen', 'handler', 'supervisor', 'leader', 'admin')),
            unit_code TEXT REFERENCES units(code),
            name TEXT,
            scene TEXT,                     -- the last QR scene this person came through
            subscribed INTEGER NOT NULL DEFAULT 1,
            first_seen_at REAL NOT NULL,
            last_seen_at REAL NOT NULL      -- WeChat's 48-hour customer-service window counts from here
        )""",
        """CREATE TABLE conversations (
            openid TEXT PRIMARY KEY,
            flow TEXT NOT NULL,
            state TEXT NOT NULL,
            data TEXT NOT NULL DEFAULT '{}',
            updated_at REAL NOT NULL,
            expires_at REAL NOT NULL
        )""",
        """CREATE TABLE tickets (
            id INTEGER PRIMARY KEY,
            number TEXT NOT NULL UNIQUE,
            openid TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('complaint', 'suggestion', 'inquiry', 'praise')),
            category TEXT NOT NULL,
            unit_code TEXT REFERENCES units(code),
            school_code TEXT REFERENCES units(code),
            text TEXT NOT NULL,
            attachments TEXT NOT NULL DEFAULT '[]',
            contact_phone TEXT,
            anonymous INTEGER NOT NULL DEFAULT 1,
            routing TEXT NOT NULL DEFAULT '{}',   -- the router's decision and its explanation
            state TEXT NOT NULL,
            created_at REAL NOT NULL,
            dispatched_at REAL,
            due_at REAL
        )""",
        "CREATE INDEX tickets_unit_state ON tickets(unit_code, state)",
        "CREATE INDEX tickets_openid ON tickets(openid)",
        """CREATE TABLE ticket_events (
            id INTEGER PRIMARY KEY,
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            at REAL NOT NULL,
            actor TEXT NOT NULL,
            from_state TEXT,
            to_state TEXT NOT NULL,
            note TEXT
        )""",
        "CREATE INDEX ticket_events_ticket ON ticket_events(ticket_id, id)",
        # The history is evidence in a performance review: it can be added to, never rewritten.
        """CREATE TRIGGER ticket_events_no_update BEFORE UPDATE ON ticket_events
           BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END""",
        """CREATE TRIGGER ticket_events_no_delete BEFORE DELETE ON ticket_events
           BEGIN SELECT RAISE(ABORT, 'ticket_events is append-only'); END""",
        """CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            openid TEXT NOT NULL,
            kind TEXT NOT NULL CHECK (kind IN ('text', 'template')),
            payload TEXT NOT NULL,
            source TEXT,                    -- what caused it, e.g. 'inbound:<key>'
            status TEXT NOT NULL DEFAULT 'pending'
                CHECK (status IN ('pending', 'sending', 'sent', 'waiting', 'failed')),
            attempts INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL,
            next_attempt_at REAL NOT NULL,
            claimed_until REAL,
            sent_at REAL,
            last_error TEXT
        )""",
        "CREATE INDEX outbox_due ON outbox(status, next_attempt_at)",
        "CREATE INDEX outbox_openid_waiting ON outbox(openid) WHERE status = 'waiting'",
        # ONE access_token per appid, shared by every process using this file.
        """CREATE TABLE access_tokens (
            appid TEXT PRIMARY KEY,
            token TEXT NOT NULL,
            expires_at REAL NOT NULL,
            fetched_at REAL NOT NULL
        )""",
    )


@migrations()
def m002_unit_categories(db: sqlite_utils.Database) -> None:
    # Which routing categories an office handles, e.g. "fees" or "admission;exams".
    _exec(db, "ALTER TABLE units ADD COLUMN categories TEXT")


@migrations()
def m003_unit_commitment(db: sqlite_utils.Database) -> None:
    # The unit's own published service commitment (公开承诺), shown when someone comes through its QR code.
    _exec(db, "ALTER TABLE units ADD COLUMN commitment TEXT")


@migrations()
def m004_staff_and_handling(db: sqlite_utils.Database) -> None:
    _exec(
        db,
        # One-time binding codes; only a hash is kept, so a leaked database does not leak live codes.
        """CREATE TABLE staff_invites (
            code_hash TEXT PRIMARY KEY,
            unit_code TEXT NOT NULL REFERENCES units(code),
            role TEXT NOT NULL CHECK (role IN ('handler', 'supervisor', 'leader', 'admin')),
            name TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            used_by TEXT,
            used_at REAL
        )""",
        "ALTER TABLE ticket_events ADD COLUMN action TEXT",
        "ALTER TABLE tickets ADD COLUMN bounces INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE tickets ADD COLUMN arbitration INTEGER NOT NULL DEFAULT 0",  # bounced twice: bureau decides
        "ALTER TABLE tickets ADD COLUMN unattended INTEGER NOT NULL DEFAULT 0",   # no staff bound at its unit
        "ALTER TABLE tickets ADD COLUMN accepted_by TEXT",
        "ALTER TABLE tickets ADD COLUMN accepted_at REAL",
        "ALTER TABLE tickets ADD COLUMN resolved_at REAL",
        "ALTER TABLE tickets ADD COLUMN resolution TEXT",
        # Re-assignments made by people: what routing got wrong, kept to improve the rules.
        """CREATE TABLE routing_corrections (
            id INTEGER PRIMARY KEY,
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            at REAL NOT NULL,
            actor TEXT NOT NULL,
            category TEXT NOT NULL,
            from_unit TEXT,
            to_unit TEXT NOT NULL,
            text TEXT NOT NULL,
            note TEXT
        )""",
    )


@migrations()
def m005_deadlines_and_ratings(db: sqlite_utils.Database) -> None:
    _exec(
        db,
        "ALTER TABLE tickets ADD COLUMN accept_due_at REAL",
        "ALTER TABLE tickets ADD COLUMN extension TEXT",       # JSON: {days, reason, by, state, at}
        "ALTER TABLE tickets ADD COLUMN rating INTEGER",       # 1 满意, 2 基本满意, 3 不满意
        "ALTER TABLE tickets ADD COLUMN rating_comment TEXT",
        "ALTER TABLE tickets ADD COLUMN rated_at REAL",
        "ALTER TABLE tickets ADD COLUMN reopens INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE tickets ADD COLUMN review INTEGER NOT NULL DEFAULT 0",     # dissatisfied twice: bureau reviews
        "ALTER TABLE tickets ADD COLUMN closed_at REAL",
        "ALTER TABLE tickets ADD COLUMN close_reason TEXT",   # 'rated' or 'unrated'
        # Each reminder once per ticket, whatever restarts or missed sweeps happen.
        """CREATE TABLE reminders (
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            kind TEXT NOT NULL,
            due_at REAL NOT NULL,          -- the deadline the reminder was about (an extension starts afresh)
            sent_at REAL NOT NULL,
            PRIMARY KEY (ticket_id, kind, due_at)
        )""",
        # Each digest once per ISO week and scope ('bureau' or a unit code).
        """CREATE TABLE digests (
            week TEXT NOT NULL,
            scope TEXT NOT NULL,
            sent_at REAL NOT NULL,
            PRIMARY KEY (week, scope)
        )""",
    )


@migrations()
def m012_campaign(db: sqlite_utils.Database) -> None:
    _exec(
        db,
        # 群众评议: one row per person, unit and survey. `answers` is the last submitted set (counted in results);
        # `draft` is the attempt in progress, so a person can leave and come back without losing answers.
        """CREATE TABLE survey_responses (
            id INTEGER PRIMARY KEY,
            survey_id TEXT NOT NULL,
            unit_code TEXT NOT NULL REFERENCES units(code),
            openid TEXT NOT NULL,
            answers TEXT,                   -- JSON {question_id: value}; NULL until first submitted
            draft TEXT,                     -- JSON {question_id: value} of the attempt in progress
            started_at REAL NOT NULL,
            submitted_at REAL,
            updated_at REAL NOT NULL,
            new_follower INTEGER NOT NULL DEFAULT 0,  -- followed the account minutes before answering: marked
            burst INTEGER NOT NULL DEFAULT 0,         -- came in a burst from the same code: shown separately
            ticket_number TEXT,             -- a free-text answer the person agreed to turn into a ticket
            UNIQUE (survey_id, unit_code, openid)
        )""",
        "CREATE INDEX survey_responses_unit ON survey_responses(survey_id, unit_code, submitted_at)",
        "CREATE INDEX survey_responses_submitted ON survey_responses(submitted_at)",
        # Each burst (too many responses from one unit's code within an hour) reported to leaders once.
        """CREATE TABLE survey_bursts (
            survey_id TEXT NOT NULL,
            unit_code TEXT NOT NULL,
            hour INTEGER NOT NULL,          -- unix time // 3600 of the hour the burst began
            count INTEGER NOT NULL,
            PRIMARY KEY (survey_id, unit_code, hour)
        )""",
        # 常见问题: every instant answer served and what the person said about it.
        """CREATE TABLE faq_answers (
            id INTEGER PRIMARY KEY,
            faq_id TEXT NOT NULL,
            openid TEXT NOT NULL,
            question TEXT NOT NULL,
            score REAL NOT NULL,
            served_at REAL NOT NULL,
            outcome TEXT CHECK (outcome IN ('solved', 'human', 'ignored')),  -- NULL: not answered yet
            outcome_at REAL
        )""",
        "CREATE INDEX faq_answers_faq ON faq_answers(faq_id, outcome)",
    )


@migrations()
def m008_durability(db: sqlite_utils.Database) -> None:
    _exec(
        db,
        # A row ends as 'failed' only for a permanent error (its reason in last_error), at failed_at.
        "ALTER TABLE outbox ADD COLUMN failed_at REAL",
        "CREATE INDEX outbox_failed ON outbox(failed_at) WHERE status = 'failed'",
        # The oldest undelivered row, in O(log n) for /healthz and the stuck alert.
        "CREATE INDEX outbox_open ON outbox(created_at) WHERE status IN ('pending', 'sending')",
        # Inbounds whose handling raised: answered with an apology, retried a few times, then flagged for staff.
        """CREATE TABLE inbound_failures (
            key TEXT PRIMARY KEY,
            openid TEXT NOT NULL,
            payload TEXT NOT NULL,          -- the Inbound as JSON (the inbound row itself is pruned after days)
            error TEXT NOT NULL,            -- the last error
            attempts INTEGER NOT NULL DEFAULT 1,
            failed_at REAL NOT NULL,
            next_attempt_at REAL,
            state TEXT NOT NULL DEFAULT 'retrying' CHECK (state IN ('retrying', 'flagged', 'resolved')),
            resolved_at REAL
        )""",
        "CREATE INDEX inbound_failures_due ON inbound_failures(next_attempt_at) WHERE state = 'retrying'",
        "CREATE INDEX inbound_failures_flagged ON inbound_failures(failed_at) WHERE state = 'flagged'",
        # One row written by every /healthz: proof that the database can be written right now.
        "CREATE TABLE heartbeat (name TEXT PRIMARY KEY, at REAL NOT NULL)",
    )


@migrations()
def m006_ticket_counters(db: sqlite_utils.Database) -> None:
    _exec(
        db,
        # One row per month (yymm): the last ticket sequence given out, bumped in the inserting transaction.
        """CREATE TABLE ticket_counters (
            month TEXT PRIMARY KEY,
            last INTEGER NOT NULL
        )""",
        # Carry on from the numbers already issued (compared as integers: 10000 > 9999).
        """INSERT INTO ticket_counters (month, last)
           SELECT substr(number, 3, 4), max(CAST(substr(number, 8) AS INTEGER)) FROM tickets
           WHERE number LIKE 'JY____-%' GROUP BY substr(number, 3, 4)""",
        # A removed or rebound person's tickets, and what the duty office holds for units with nobody bound.
        "CREATE INDEX tickets_acceptor ON tickets(accepted_by) WHERE accepted_by IS NOT NULL",
        "CREATE INDEX tickets_unattended_unit ON tickets(unit_code) WHERE unattended = 1",
    )


@migrations()
def m009_scale(db: sqlite_utils.Database) -> None:
    """Years of data: every periodic or hot query reads an index range that follows the open tickets or the
    period asked for, never the whole history."""
    _exec(
        db,
        # When the deadline watch must next look at a ticket (NULL: never again). Any change that can move a
        # reminder sets it to 0 ("look at the next sweep") in the same transaction, through the triggers below;
        # the sweep then computes the exact next time with the working-day calendar.
        "ALTER TABLE tickets ADD COLUMN check_at REAL",
        "UPDATE tickets SET check_at = 0 WHERE state NOT IN ('closed', 'withdrawn')",
        "CREATE INDEX tickets_check ON tickets(check_at) WHERE check_at IS NOT NULL",
        """CREATE TRIGGER tickets_check_new AFTER INSERT ON tickets
           WHEN NEW.check_at IS NULL AND NEW.state NOT IN ('closed', 'withdrawn')
           BEGIN UPDATE tickets SET check_at = 0 WHERE id = NEW.id; END""",
        """CREATE TRIGGER tickets_check_changed
           AFTER UPDATE OF state, due_at, accept_due_at, dispatched_at, resolved_at ON tickets
           BEGIN UPDATE tickets SET check_at = 0 WHERE id = NEW.id; END""",
        # Open tickets (待办 for leaders, overdue, the open part of a period): a partial index holds only them,
        # so the planner knows they are few, and it covers the columns the rates and lists read, so a ticket
        # left open for years is not a random read into the oldest pages of the file. Its WHERE is
        # storage.tickets._OPEN_SQL, word for word (a query uses a partial index only when it repeats it).
        "CREATE INDEX tickets_open ON tickets(due_at, unit_code, state, arbitration, unattended, id, number, kind, "
        "category, school_code, created_at, dispatched_at, accept_due_at, accepted_at, resolved_at, rated_at, "
        "rating, closed_at, close_reason) "
        "WHERE state IN ('submitted', 'assigned', 'accepted', 'replied', 'bounced', 'reopened')",
        # Rates and digests read only the period's tickets: one range per moment that counts.
        "CREATE INDEX tickets_created ON tickets(created_at)",
        "CREATE INDEX tickets_dispatched ON tickets(dispatched_at)",
        "CREATE INDEX tickets_resolved ON tickets(resolved_at) WHERE resolved_at IS NOT NULL",
        "CREATE INDEX tickets_rated ON tickets(rated_at) WHERE rated_at IS NOT NULL",
        "CREATE INDEX tickets_closed ON tickets(closed_at) WHERE closed_at IS NOT NULL",
        # Ratings given in a period (first-time satisfaction, count of 不满意): only the rating events.
        "CREATE INDEX ticket_events_rating ON ticket_events(at) WHERE action IN ('rate', 'reopen', 'review')",
        # Who to tell: staff of a unit by role, leaders (a submission no longer scans every citizen).
        "CREATE INDEX users_role_unit ON users(role, unit_code)",
        # Retention: sent pushes are pruned by age in small batches.
        "CREATE INDEX outbox_sent ON outbox(sent_at) WHERE status = 'sent'",
        # Hot topics of a week, computed once by the weekly job from that week's texts.
        """CREATE TABLE digest_topics (
            week TEXT NOT NULL,
            scope TEXT NOT NULL,
            topics TEXT NOT NULL,           -- JSON [[phrase, tickets], ...]
            computed_at REAL NOT NULL,
            PRIMARY KEY (week, scope)
        )""",
    )


@migrations()
def m013_workbench(db: sqlite_utils.Database) -> None:
    _exec(
        db,
        # Each outbox row is for one channel: 'wechat' (customer-service/template messages, sent by the sender) or
        # 'web' (the workbench's notification list: delivered on insert, so status 'sent'; read_at when seen).
        "ALTER TABLE outbox ADD COLUMN channel TEXT NOT NULL DEFAULT 'wechat'",
        "ALTER TABLE outbox ADD COLUMN read_at REAL",
        "CREATE INDEX outbox_web_list ON outbox(openid, id) WHERE channel = 'web'",
        # One-time sign-in links for the workbench; only a hash is kept.
        """CREATE TABLE web_signin (
            token_hash TEXT PRIMARY KEY,
            openid TEXT NOT NULL,
            created_at REAL NOT NULL,
            expires_at REAL NOT NULL,
            used_at REAL
        )""",
        # Server-side sessions: the cookie holds a random id, the table its hash (a leaked file opens nothing).
        """CREATE TABLE web_sessions (
            id_hash TEXT PRIMARY KEY,
            openid TEXT NOT NULL,
            csrf TEXT NOT NULL,
            created_at REAL NOT NULL,
            last_seen_at REAL NOT NULL,
            ended_at REAL,
            flash TEXT                      -- the answer to the last action, shown once on the next page
        )""",
        "CREATE INDEX web_sessions_openid ON web_sessions(openid) WHERE ended_at IS NULL",
        # Who looked at whose personal data and who did what, from the workbench: evidence, never rewritten.
        """CREATE TABLE audit_log (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            actor TEXT NOT NULL,
            action TEXT NOT NULL,
            ticket TEXT,
            detail TEXT,
            ip TEXT
        )""",
        "CREATE INDEX audit_log_ticket ON audit_log(ticket, id)",
        "CREATE INDEX audit_log_actor ON audit_log(actor, id)",
        """CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
           BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
        """CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
           BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END""",
        # Inbox orders: by deadline within a unit, by deadline across all (leaders), by date.
        "CREATE INDEX tickets_unit_due ON tickets(unit_code, due_at)",
        "CREATE INDEX tickets_state_due ON tickets(state, due_at)",
        "CREATE INDEX IF NOT EXISTS tickets_created ON tickets(created_at)",  # the scale work makes it too
        "CREATE INDEX tickets_school_due ON tickets(school_code, due_at)",
        "CREATE INDEX tickets_unattended ON tickets(due_at) WHERE unattended = 1",
        # Full-text search: rowid = tickets.id, `words` = jieba-segmented text and replies (storage/search.py).
        "CREATE VIRTUAL TABLE tickets_fts USING fts5(words, tokenize = 'unicode61')",
        # Tickets older than the upgrade are indexed in the background, newest first, in short batches
        # (storage/search.py backfill): segmenting a year of tickets inside this migration would hold the write
        # lock for minutes at start-up. `below`: every ticket with a smaller id may still lack its row.
        "CREATE TABLE search_backfill (below INTEGER NOT NULL)",
        "INSERT INTO search_backfill (below) SELECT coalesce(max(id), 0) + 1 FROM tickets",
    )


@migrations()
def m007_webhook_requests(db: sqlite_utils.Database) -> None:
    _exec(
        db,
        # Each signed webhook request seen within the freshness window, shared by all workers: a second request
        # with the same signature is a replay unless it carries the same message. The key starts with the
        # zero-padded timestamp, so the primary key alone orders it for pruning (one B-tree written per message).
        """CREATE TABLE webhook_requests (
            key TEXT PRIMARY KEY,           -- '<timestamp, 12 digits>:<nonce>'
            message TEXT NOT NULL
        ) WITHOUT ROWID""",
    )


@migrations()
def m007_invite_hardening(db: sqlite_utils.Database) -> None:
    """Invite codes get a per-code salt and scrypt, found by a short selector. Codes made before were stored with
    a plain sha256 and cannot be checked the new way: unused ones stop working (logged; make new ones)."""
    import logging
    import time
    _exec(
        db,
        "ALTER TABLE staff_invites ADD COLUMN selector TEXT",
        "CREATE INDEX staff_invites_selector ON staff_invites(selector, created_at)",
        # Wrong 绑定 codes, for the per-person and total attempt limits.
        """CREATE TABLE bind_attempts (
            id INTEGER PRIMARY KEY,
            openid TEXT NOT NULL,
            at REAL NOT NULL
        )""",
        "CREATE INDEX bind_attempts_at ON bind_attempts(at, openid)",
    )
    now = time.time()
    voided = db.execute("UPDATE staff_invites SET expires_at = ? WHERE used_by IS NULL AND expires_at > ?",
                        [now, now]).rowcount
    if voided:
        logging.getLogger(__name__).warning(
            "%d unused invite code(s) made before this version no longer work; make new ones with "
            "`tingjian staff invite`", voided)


@migrations()
def m011_conversation_drafts(db: sqlite_utils.Database) -> None:
    _exec(
        db,
        # When a person was last reminded of an unfinished message (once per idle spell; a new message clears it).
        "ALTER TABLE conversations ADD COLUMN reminded_at REAL",
        # When a person was welcomed (on following, or on their first message if they wrote before following).
        "ALTER TABLE users ADD COLUMN welcomed_at REAL",
        "UPDATE users SET welcomed_at = first_seen_at",
    )


@migrations()
def m014_review(db: sqlite_utils.Database) -> None:
    """The performance review (绩效考核) and the public pages (issue 13)."""
    _exec(
        db,
        # The unit that held the ticket when the event happened (before the change): a 退回 moves the ticket to
        # the duty office, and the review counts the bounce against the unit that bounced it. NULL on events
        # written before this migration.
        "ALTER TABLE ticket_events ADD COLUMN unit_code TEXT",
        "CREATE INDEX ticket_events_bounce ON ticket_events(at) WHERE action = 'bounce'",
        # 领导点评: a leader's comment on a unit for a period (2026-11, 2026-Q4, 2026); public ones are shown on
        # the unit's public page.
        """CREATE TABLE review_comments (
            id INTEGER PRIMARY KEY,
            unit_code TEXT NOT NULL REFERENCES units(code),
            period TEXT NOT NULL,
            author TEXT NOT NULL,           -- the leader's name (or openid when no name is known)
            text TEXT NOT NULL,
            public INTEGER NOT NULL DEFAULT 0,
            created_at REAL NOT NULL
        )""",
        "CREATE INDEX review_comments_unit ON review_comments(unit_code, period)",
        # 服务事项 (service items) published per unit, or for every unit of a kind (scope 'kind:school').
        """CREATE TABLE service_items (
            scope TEXT NOT NULL,            -- a unit code, or kind:<kind>
            position INTEGER NOT NULL,
            name TEXT NOT NULL,
            procedure TEXT NOT NULL DEFAULT '',
            standard TEXT NOT NULL DEFAULT '',
            time_limit TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (scope, position)
        )""",
        # Contact hours (办公时间) and a public telephone of the unit, shown on its page.
        "ALTER TABLE units ADD COLUMN contact_hours TEXT",
        "ALTER TABLE units ADD COLUMN contact_phone TEXT",
    )


# A ticket's contributions to the per-unit-per-day counts (m017), for the row NEW or OLD, times `sign`: what
# handlers.rates.compute counts for the unit holding the ticket, by the day each moment fell on. The day is
# China Standard Time's (UTC+8, no summer time): the bureau's days.
def _unit_day_rows(row: str, sign: int, rated_unit: bool = False) -> str:
    """`rated_unit` (m024): a rating counts for the unit whose answer was rated (tickets.rated_unit), which the
    bureau's review after a second 不满意 no longer is."""
    def day(column: str) -> str:
        return f"CAST(({row}.{column} + 28800) / 86400 AS INTEGER)"
    z = "0, 0, 0, 0, 0, 0"
    rated = f"coalesce({row}.rated_unit, {row}.unit_code)" if rated_unit else f"{row}.unit_code"
    return f"""INSERT INTO unit_days (day, unit_code, dispatched, accepted_in_time, resolved, resolved_in_time,
                   rated, satisfied, unrated, praised)
        SELECT * FROM (
            SELECT {day('created_at')} AS day, {row}.unit_code AS unit, {z}, 0, {sign}
              WHERE {row}.kind = 'praise'
            UNION ALL SELECT {day('dispatched_at')}, {row}.unit_code, {sign},
                   {sign} * ({row}.accepted_at IS NOT NULL AND coalesce({row}.accept_due_at, 0) != 0
                             AND {row}.accepted_at <= {row}.accept_due_at), {z}
              WHERE {row}.kind != 'praise' AND {row}.dispatched_at IS NOT NULL
            UNION ALL SELECT {day('resolved_at')}, {row}.unit_code, 0, 0, {sign},
                   {sign} * (coalesce({row}.due_at, 0) != 0 AND {row}.resolved_at <= {row}.due_at), 0, 0, 0, 0
              WHERE {row}.kind != 'praise' AND {row}.resolved_at IS NOT NULL
            UNION ALL SELECT {day('rated_at')}, {rated}, 0, 0, 0, 0, {sign},
                   {sign} * ({row}.rating IN (1, 2)), 0, 0
              WHERE {row}.kind != 'praise' AND {row}.rated_at IS NOT NULL AND {row}.rating IN (1, 2, 3)
                AND {row}.close_reason IS NOT 'unrated'
            UNION ALL SELECT {day('closed_at')}, {row}.unit_code, 0, 0, 0, 0, 0, 0, {sign}, 0
              WHERE {row}.kind != 'praise' AND {row}.close_reason = 'unrated' AND {row}.closed_at IS NOT NULL
        ) WHERE unit IS NOT NULL
        ON CONFLICT (day, unit_code) DO UPDATE SET
            dispatched = dispatched + excluded.dispatched, accepted_in_time = accepted_in_time + excluded.accepted_in_time,
            resolved = resolved + excluded.resolved, resolved_in_time = resolved_in_time + excluded.resolved_in_time,
            rated = rated + excluded.rated, satisfied = satisfied + excluded.satisfied,
            unrated = unrated + excluded.unrated, praised = praised + excluded.praised;"""


@migrations()
def m017_workbench_scale(db: sqlite_utils.Database) -> None:
    """The workbench at a million tickets (issue 12): an index for every list, and the dashboard's rates from
    per-unit-per-day counts kept by triggers in the same transaction as the ticket change, never stale."""
    columns = ("unit_code, kind, created_at, dispatched_at, accepted_at, accept_due_at, resolved_at, due_at, "
               "rated_at, rating, close_reason, closed_at")
    _exec(
        db,
        # Lists over the whole history: by deadline, a unit's newest first, the rare flags in any state.
        "CREATE INDEX tickets_due ON tickets(due_at)",
        "CREATE INDEX tickets_unit_created ON tickets(unit_code, created_at)",
        # A category (and kind) over the history: a rare one, or none at all, is a short range, not a long walk.
        "CREATE INDEX tickets_category_due ON tickets(category, kind, due_at)",
        "CREATE INDEX tickets_review ON tickets(due_at) WHERE review = 1",
        "CREATE INDEX tickets_arbitration ON tickets(due_at) WHERE arbitration = 1",
        # A period's new tickets by unit, kind, category and school (the dashboard) from the index alone; the
        # same leading column as before, so every query that used it reads it as it did.
        "DROP INDEX tickets_created",
        "CREATE INDEX tickets_created ON tickets(created_at, unit_code, kind, category, school_code)",
        # A search checks each ticket its words match against the filters: a narrow entry per ticket, by id.
        "CREATE INDEX tickets_facets ON tickets(id, unit_code, state, kind, category, school_code, due_at, "
        "created_at, unattended, review, arbitration)",
        # The parts of the rates that depend on the moment they are read, each from a small partial index:
        # 签收 windows still open, tickets resolved after their deadline, tickets never resolved.
        "CREATE INDEX tickets_accept_pending ON tickets(accept_due_at, dispatched_at, unit_code, kind) "
        "WHERE accepted_at IS NULL",
        "CREATE INDEX tickets_late ON tickets(resolved_at, due_at, dispatched_at, unit_code, kind, state) "
        "WHERE resolved_at > due_at",
        "CREATE INDEX tickets_unresolved ON tickets(due_at, dispatched_at, unit_code, kind, state) "
        "WHERE resolved_at IS NULL AND kind != 'praise' AND state != 'withdrawn'",
        """CREATE TABLE unit_days (
            day INTEGER NOT NULL,           -- days since 1970-01-01 in China Standard Time (UTC+8)
            unit_code TEXT NOT NULL,
            dispatched INTEGER NOT NULL DEFAULT 0,
            accepted_in_time INTEGER NOT NULL DEFAULT 0,   -- of those dispatched that day
            resolved INTEGER NOT NULL DEFAULT 0,
            resolved_in_time INTEGER NOT NULL DEFAULT 0,
            rated INTEGER NOT NULL DEFAULT 0,
            satisfied INTEGER NOT NULL DEFAULT 0,
            unrated INTEGER NOT NULL DEFAULT 0,
            praised INTEGER NOT NULL DEFAULT 0,
            PRIMARY KEY (day, unit_code)
        ) WITHOUT ROWID""",
        f"CREATE TRIGGER unit_days_insert AFTER INSERT ON tickets BEGIN {_unit_day_rows('NEW', 1)} END",
        f"CREATE TRIGGER unit_days_update AFTER UPDATE OF {columns} ON tickets "
        f"BEGIN {_unit_day_rows('OLD', -1)} {_unit_day_rows('NEW', 1)} END",
        f"CREATE TRIGGER unit_days_delete AFTER DELETE ON tickets BEGIN {_unit_day_rows('OLD', -1)} END",
        # Each ticket's candidate hot-topic terms (handlers/topics.py), cut once by a background job (bot/scheduler.py
        # topic_terms) rather than every time a dashboard is drawn. A ticket whose text changes loses its row; the
        # dashboard cuts any ticket without one itself.
        """CREATE TABLE ticket_terms (
            ticket_id INTEGER PRIMARY KEY,
            terms TEXT NOT NULL             -- the terms, separated by spaces (a term has none)
        )""",
        """CREATE TRIGGER ticket_terms_text AFTER UPDATE OF text ON tickets
           BEGIN DELETE FROM ticket_terms WHERE ticket_id = NEW.id; END""",
        # 常用回复: a unit's reply templates (storage/replies.py), numbered in the order they were added.
        """CREATE TABLE reply_templates (
            id INTEGER PRIMARY KEY,
            unit_code TEXT NOT NULL REFERENCES units(code),
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            updated_by TEXT NOT NULL,
            updated_at REAL NOT NULL
        )""",
        "CREATE INDEX reply_templates_unit ON reply_templates(unit_code, id)",
    )
    # The tickets already there, counted once.
    _backfill_unit_days(db)


def _backfill_unit_days(db: sqlite_utils.Database, rated_unit: bool = False) -> None:
    """`rated_unit`: ratings counted for the unit rated (m024), as _unit_day_rows."""
    rated = "coalesce(rated_unit, unit_code)" if rated_unit else "unit_code"
    db.execute(f"""INSERT INTO unit_days (day, unit_code, dispatched, accepted_in_time, resolved, resolved_in_time,
                          rated, satisfied, unrated, praised)
        SELECT day, unit_code, sum(a), sum(b), sum(c), sum(d), sum(e), sum(f), sum(g), sum(h) FROM (
            SELECT CAST((created_at + 28800) / 86400 AS INTEGER) AS day, unit_code,
                   0 AS a, 0 AS b, 0 AS c, 0 AS d, 0 AS e, 0 AS f, 0 AS g, 1 AS h
              FROM tickets WHERE kind = 'praise'
            UNION ALL SELECT CAST((dispatched_at + 28800) / 86400 AS INTEGER), unit_code, 1,
                   (accepted_at IS NOT NULL AND coalesce(accept_due_at, 0) != 0 AND accepted_at <= accept_due_at),
                   0, 0, 0, 0, 0, 0
              FROM tickets WHERE kind != 'praise' AND dispatched_at IS NOT NULL
            UNION ALL SELECT CAST((resolved_at + 28800) / 86400 AS INTEGER), unit_code, 0, 0, 1,
                   (coalesce(due_at, 0) != 0 AND resolved_at <= due_at), 0, 0, 0, 0
              FROM tickets WHERE kind != 'praise' AND resolved_at IS NOT NULL
            UNION ALL SELECT CAST((rated_at + 28800) / 86400 AS INTEGER), {rated}, 0, 0, 0, 0, 1,
                   (rating IN (1, 2)), 0, 0
              FROM tickets WHERE kind != 'praise' AND rated_at IS NOT NULL AND rating IN (1, 2, 3)
                AND close_reason IS NOT 'unrated'
            UNION ALL SELECT CAST((closed_at + 28800) / 86400 AS INTEGER), unit_code, 0, 0, 0, 0, 0, 0, 1, 0
              FROM tickets WHERE kind != 'praise' AND close_reason = 'unrated' AND closed_at IS NOT NULL
        ) WHERE unit_code IS NOT NULL GROUP BY day, unit_code""")


@migrations()
def m018_workbench_admin(db: sqlite_utils.Database) -> None:
    """The directory, service items, invites, surveys and common questions managed in the workbench (issues 12, 13)."""
    _exec(
        db,
        # When a leader last changed the unit (name, kind, district, parent, commitment, contact hours) or its
        # service items in the workbench: the files loaded at start then leave those alone (storage/directory.py,
        # storage/services.py), so a restart never undoes an edit.
        "ALTER TABLE units ADD COLUMN edited_at REAL",
        "ALTER TABLE units ADD COLUMN items_edited_at REAL",
        # An invite code withdrawn before anyone used it.
        "ALTER TABLE staff_invites ADD COLUMN revoked_at REAL",
        # Surveys and common questions written in the workbench, beside those of the [campaign] files. `body` is
        # the same table a TOML file holds (as JSON), checked by the same loader.
        """CREATE TABLE campaign_defs (
            kind TEXT NOT NULL CHECK (kind IN ('survey', 'faq')),
            id TEXT NOT NULL,
            body TEXT NOT NULL,
            retired_at REAL,
            updated_at REAL NOT NULL,
            updated_by TEXT NOT NULL,
            PRIMARY KEY (kind, id)
        )""",
        # A counter per kind of published content ('public': units and service items; 'campaign': surveys and
        # common questions), bumped by every edit: each worker process compares it to drop what it cached.
        "CREATE TABLE edit_versions (what TEXT PRIMARY KEY, version INTEGER NOT NULL)",
    )


@migrations()
def m015_digest_pages(db: sqlite_utils.Database) -> None:
    """The weekly job's rendered digest pages (issue 8.10): a page load reads one row instead of building the
    page in the serving process. zlib-compressed HTML; pruned once no link to the week can still open."""
    _exec(
        db,
        """CREATE TABLE digest_pages (
            week TEXT NOT NULL,
            scope TEXT NOT NULL,
            html BLOB NOT NULL,             -- zlib(UTF-8 HTML)
            built_at REAL NOT NULL,
            PRIMARY KEY (week, scope)
        )""",
        "CREATE INDEX digest_pages_built ON digest_pages(built_at)",
    )


@migrations()
def m019_media(db: sqlite_utils.Database) -> None:
    _exec(
        db,
        # A local copy of each image and voice message a person sent (storage/media.py): WeChat forgets them after
        # 3 days. The file is named by sha256 in the media folder beside the database.
        """CREATE TABLE media (
            media_id TEXT PRIMARY KEY,
            openid TEXT NOT NULL,
            kind TEXT NOT NULL,
            received_at REAL NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'stored', 'expired', 'refused')),
            attempts INTEGER NOT NULL DEFAULT 0,
            next_try REAL NOT NULL,
            claimed_until REAL,
            error TEXT,
            sha256 TEXT,
            content_type TEXT,
            size INTEGER,
            stored_at REAL
        )""",
        "CREATE INDEX media_due ON media(next_try) WHERE status = 'pending'",
        "CREATE INDEX media_status ON media(status)",  # counts for /metrics
    )


@migrations()
def m023_media_kept(db: sqlite_utils.Database) -> None:
    _exec(
        db,
        # 1: the media belongs to a ticket (found so by the prune, storage.media.prune_unattached) and is kept for
        # ever; the others are deleted after storage.retention_days, oldest first through this index.
        "ALTER TABLE media ADD COLUMN kept INTEGER NOT NULL DEFAULT 0",
        "CREATE INDEX media_unkept ON media(received_at) WHERE kept = 0",
        "CREATE INDEX media_sha ON media(sha256) WHERE sha256 IS NOT NULL",  # is a file still named by a row?
    )


@migrations()
def m024_rated_unit(db: sqlite_utils.Database) -> None:
    """A rating counts for the unit whose answer was rated. A second 不满意 hands the ticket to the bureau's review
    (unit_code becomes the duty office), and the rates count a ticket for the unit holding it: the office whose
    answer was rejected twice kept a 满意率 without that rating, and the duty office was charged with it."""
    columns = ("unit_code, kind, created_at, dispatched_at, accepted_at, accept_due_at, resolved_at, due_at, "
               "rated_at, rating, close_reason, closed_at, rated_unit")
    marks = "'rate', 'reopen', 'review'"  # storage.tickets.RATING_ACTIONS; events carry the unit that held it
    _exec(
        db,
        "ALTER TABLE tickets ADD COLUMN rated_unit TEXT",
        f"""UPDATE tickets SET rated_unit = (SELECT e.unit_code FROM ticket_events e WHERE e.ticket_id = tickets.id
               AND e.action IN ({marks}) ORDER BY e.id DESC LIMIT 1) WHERE rated_at IS NOT NULL""",
        "DROP TRIGGER unit_days_insert",
        "DROP TRIGGER unit_days_update",
        "DROP TRIGGER unit_days_delete",
        f"CREATE TRIGGER unit_days_insert AFTER INSERT ON tickets BEGIN {_unit_day_rows('NEW', 1, True)} END",
        f"CREATE TRIGGER unit_days_update AFTER UPDATE OF {columns} ON tickets "
        f"BEGIN {_unit_day_rows('OLD', -1, True)} {_unit_day_rows('NEW', 1, True)} END",
        f"CREATE TRIGGER unit_days_delete AFTER DELETE ON tickets BEGIN {_unit_day_rows('OLD', -1, True)} END",
        "DELETE FROM unit_days",  # counted again, the ratings for the unit rated
    )
    _backfill_unit_days(db, rated_unit=True)



@migrations()
def m029_unit_misses(db: sqlite_utils.Database) -> None:
    """A late ticket stays late for the unit that let it lapse. The rates count a ticket for the unit holding it
    now, so a unit could shed a ticket past its 签收 window or deadline by bouncing it, having it transferred or
    getting it withdrawn. Each such departure is kept here (storage.tickets.transition) and counted against the
    unit it left (handlers.rates.compute). And an invite made in the workbench remembers who made it: a leader
    removed or demoted no longer lets their outstanding codes bind anyone."""
    _exec(
        db,
        """CREATE TABLE unit_misses (
            id INTEGER PRIMARY KEY,
            ticket_id INTEGER NOT NULL REFERENCES tickets(id),
            unit_code TEXT NOT NULL,        -- the unit the ticket left (or that held it when it was withdrawn)
            at REAL NOT NULL,
            action TEXT NOT NULL,           -- bounce, transfer, review, withdraw …
            response INTEGER NOT NULL,      -- 1: left unsigned past its 签收 window (or signed late)
            overdue INTEGER NOT NULL        -- 1: left unresolved past its deadline
        )""",
        "CREATE INDEX unit_misses_at ON unit_misses(at, unit_code)",
        # Who made a workbench invite: it binds only while that person may still invite (storage.staff.redeem).
        "ALTER TABLE staff_invites ADD COLUMN created_by TEXT",
    )


@migrations()
def m032_user_lang(db: sqlite_utils.Database) -> None:
    """The language a citizen writes in ("en" or "zh"; NULL: not known yet): every message the bot sends them
    later (a status push, a rating request) follows it, not only the answers within one conversation."""
    _exec(db, "ALTER TABLE users ADD COLUMN lang TEXT")


# m030: what each part of a ticket counts for. The 签收 part (dispatched, 签收 in time, its window) counts for
# coalesce(response_unit, unit_code), the 办结 part (resolved, in time, open past the deadline, 未评价) for
# coalesce(resolve_unit, unit_code), a rating for coalesce(rated_unit, unit_code); `stood_in` tickets are counted
# for the unit holding them as 代收 (the work was the stand-in's).
CREDIT_COLUMNS = ("unit_code, kind, created_at, dispatched_at, accepted_at, accept_due_at, resolved_at, due_at, "
                  "rated_at, rating, close_reason, closed_at, rated_unit, response_unit, resolve_unit, stood_in")


def _credit_day_rows(row: str, sign: int, m050: bool = False, m066: bool = False) -> str:
    """`m050`: a rating by a ticket writer who is or was staff (tickets.by_insider) is not counted, and a withdrawn
    ticket is in no unit's 派发 (a lapse before it stays: unit_misses). `m066`: the 签收 case is counted on the day
    it began, coalesce(response_since, dispatched_at) (storage.tickets.CASE_START)."""
    kept = f" AND {row}.state != 'withdrawn'" if m050 else ""
    def day(column: str) -> str:
        if column == "dispatched_at" and m066:
            return f"CAST((coalesce({row}.response_since, {row}.dispatched_at) + 28800) / 86400 AS INTEGER)"
        return f"CAST(({row}.{column} + 28800) / 86400 AS INTEGER)"
    respond = f"coalesce({row}.response_unit, {row}.unit_code)"
    resolve = f"coalesce({row}.resolve_unit, {row}.unit_code)"
    z = "0, 0, 0, 0, 0, 0"
    return f"""INSERT INTO unit_days (day, unit_code, dispatched, accepted_in_time, resolved, resolved_in_time,
                   rated, satisfied, unrated, praised, stood_in)
        SELECT * FROM (
            SELECT {day('created_at')} AS day, {row}.unit_code AS unit, {z}, 0, {sign}, 0
              WHERE {row}.kind = 'praise'
            UNION ALL SELECT {day('dispatched_at')}, {respond}, {sign},
                   {sign} * ({row}.accepted_at IS NOT NULL AND coalesce({row}.accept_due_at, 0) != 0
                             AND {row}.accepted_at <= {row}.accept_due_at), {z}, 0
              WHERE {row}.kind != 'praise' AND {row}.dispatched_at IS NOT NULL{kept}
            UNION ALL SELECT {day('dispatched_at')}, {row}.unit_code, 0, 0, {z}, {sign}
              WHERE {row}.kind != 'praise' AND {row}.dispatched_at IS NOT NULL AND {row}.stood_in = 1{kept}
            UNION ALL SELECT {day('resolved_at')}, {resolve}, 0, 0, {sign},
                   {sign} * (coalesce({row}.due_at, 0) != 0 AND {row}.resolved_at <= {row}.due_at), 0, 0, 0, 0, 0
              WHERE {row}.kind != 'praise' AND {row}.resolved_at IS NOT NULL
            UNION ALL SELECT {day('rated_at')}, coalesce({row}.rated_unit, {row}.unit_code), 0, 0, 0, 0, {sign},
                   {sign} * ({row}.rating IN (1, 2)), 0, 0, 0
              WHERE {row}.kind != 'praise' AND {row}.rated_at IS NOT NULL AND {row}.rating IN (1, 2, 3)
                AND {row}.close_reason IS NOT 'unrated'{f" AND {row}.by_insider = 0" if m050 else ""}
            UNION ALL SELECT {day('closed_at')}, {resolve}, 0, 0, 0, 0, 0, 0, {sign}, 0, 0
              WHERE {row}.kind != 'praise' AND {row}.close_reason = 'unrated' AND {row}.closed_at IS NOT NULL
        ) WHERE unit IS NOT NULL
        ON CONFLICT (day, unit_code) DO UPDATE SET
            dispatched = dispatched + excluded.dispatched, accepted_in_time = accepted_in_time + excluded.accepted_in_time,
            resolved = resolved + excluded.resolved, resolved_in_time = resolved_in_time + excluded.resolved_in_time,
            rated = rated + excluded.rated, satisfied = satisfied + excluded.satisfied,
            unrated = unrated + excluded.unrated, praised = praised + excluded.praised,
            stood_in = stood_in + excluded.stood_in;"""


def _backfill_credit_days(db: sqlite_utils.Database, m050: bool = False) -> None:
    kept = " AND state != 'withdrawn'" if m050 else ""
    db.execute("""INSERT INTO unit_days (day, unit_code, dispatched, accepted_in_time, resolved, resolved_in_time,
                          rated, satisfied, unrated, praised, stood_in)
        SELECT day, unit, sum(a), sum(b), sum(c), sum(d), sum(e), sum(f), sum(g), sum(h), sum(i) FROM (
            SELECT CAST((created_at + 28800) / 86400 AS INTEGER) AS day, unit_code AS unit,
                   0 AS a, 0 AS b, 0 AS c, 0 AS d, 0 AS e, 0 AS f, 0 AS g, 1 AS h, 0 AS i
              FROM tickets WHERE kind = 'praise'
            UNION ALL SELECT CAST((dispatched_at + 28800) / 86400 AS INTEGER), coalesce(response_unit, unit_code), 1,
                   (accepted_at IS NOT NULL AND coalesce(accept_due_at, 0) != 0 AND accepted_at <= accept_due_at),
                   0, 0, 0, 0, 0, 0, 0
              FROM tickets WHERE kind != 'praise' AND dispatched_at IS NOT NULL""" + kept + """
            UNION ALL SELECT CAST((dispatched_at + 28800) / 86400 AS INTEGER), unit_code, 0, 0, 0, 0, 0, 0, 0, 0, 1
              FROM tickets WHERE kind != 'praise' AND dispatched_at IS NOT NULL AND stood_in = 1""" + kept + """
            UNION ALL SELECT CAST((resolved_at + 28800) / 86400 AS INTEGER), coalesce(resolve_unit, unit_code), 0, 0,
                   1, (coalesce(due_at, 0) != 0 AND resolved_at <= due_at), 0, 0, 0, 0, 0
              FROM tickets WHERE kind != 'praise' AND resolved_at IS NOT NULL
            UNION ALL SELECT CAST((rated_at + 28800) / 86400 AS INTEGER), coalesce(rated_unit, unit_code), 0, 0, 0, 0,
                   1, (rating IN (1, 2)), 0, 0, 0
              FROM tickets WHERE kind != 'praise' AND rated_at IS NOT NULL AND rating IN (1, 2, 3)
                AND close_reason IS NOT 'unrated'""" + (" AND by_insider = 0" if m050 else "") + """
            UNION ALL SELECT CAST((closed_at + 28800) / 86400 AS INTEGER), coalesce(resolve_unit, unit_code),
                   0, 0, 0, 0, 0, 0, 1, 0, 0
              FROM tickets WHERE kind != 'praise' AND close_reason = 'unrated' AND closed_at IS NOT NULL
        ) WHERE unit IS NOT NULL GROUP BY day, unit""")


@migrations()
def m030_credit(db: sqlite_utils.Database) -> None:
    """Work counts for the unit that did it. The duty office's 签收 and 办结 of a 代收 ticket (a unit with nobody
    bound) counted for the absent unit, which showed 100 %; the bureau's review after a second 不满意 took the
    original unit's dispatch and 签收 to the duty office. Each part of a ticket now names the unit it counts for
    (see CREDIT_COLUMNS); the absent unit keeps its 代收 tickets as a count of their own, never scored."""
    # one pass over the events, not a look-up per ticket (a million tickets)
    stand_in = "id IN (SELECT ticket_id FROM ticket_events WHERE action = 'unattended')"

    def actor_unit(action: str, column: str) -> str:  # the unit of whoever did it, when not the holder's
        return (f"(SELECT u.unit_code FROM ticket_events e JOIN users u ON u.openid = e.actor "
                f"WHERE e.ticket_id = tickets.id AND e.action = '{action}' AND e.at = tickets.{column} "
                f"AND e.unit_code IS tickets.unit_code AND u.unit_code IS NOT tickets.unit_code "
                f"ORDER BY e.id LIMIT 1)")
    told = ("coalesce((SELECT u.code FROM ticket_events x JOIN units u ON x.note LIKE '%已转' || u.name || '。' "
            "WHERE x.ticket_id = tickets.id AND x.action = 'unattended' ORDER BY x.id DESC LIMIT 1), "
            "(SELECT code FROM units WHERE kind = 'bureau' ORDER BY code LIMIT 1))")
    open_states = "'submitted', 'assigned', 'accepted', 'replied', 'bounced', 'reopened'"
    _exec(
        db,
        "ALTER TABLE tickets ADD COLUMN response_unit TEXT",
        "ALTER TABLE tickets ADD COLUMN resolve_unit TEXT",
        "ALTER TABLE tickets ADD COLUMN stood_in INTEGER NOT NULL DEFAULT 0",
        "ALTER TABLE unit_days ADD COLUMN stood_in INTEGER NOT NULL DEFAULT 0",
        # 代收 already done: the stand-in's 签收 and 办结 (from the events; the actor's unit as it is now)
        f"UPDATE tickets SET response_unit = {actor_unit('accept', 'accepted_at')} "
        f"WHERE accepted_at IS NOT NULL AND kind != 'praise' AND {stand_in}",
        f"UPDATE tickets SET resolve_unit = {actor_unit('resolve', 'resolved_at')} "
        f"WHERE resolved_at IS NOT NULL AND kind != 'praise' AND {stand_in}",
        # 代收 still open: the stand-in was told (the unit its event names, else the bureau's leaders), so the
        # parts not done yet are its
        f"""UPDATE tickets SET
               response_unit = CASE WHEN accepted_at IS NULL THEN {told} ELSE response_unit END,
               resolve_unit = CASE WHEN resolved_at IS NULL THEN {told} ELSE resolve_unit END
           WHERE unattended = 1 AND kind != 'praise' AND state IN ({open_states})""",
        "UPDATE tickets SET stood_in = 1 WHERE (response_unit IS NOT NULL AND response_unit IS NOT unit_code) "
        "OR (resolve_unit IS NOT NULL AND resolve_unit IS NOT unit_code)",
        "UPDATE tickets SET rated_unit = resolve_unit WHERE resolve_unit IS NOT NULL AND rated_at IS NOT NULL "
        "AND state = 'closed'",
        # the bureau's review: the dispatch and 签收 stay with the unit whose answer was rejected
        """UPDATE tickets SET response_unit = (SELECT e.unit_code FROM ticket_events e WHERE e.ticket_id = tickets.id
               AND e.action = 'review' ORDER BY e.id DESC LIMIT 1)
           WHERE review = 1 AND response_unit IS NULL""",
        "UPDATE tickets SET response_unit = NULL WHERE response_unit = unit_code",
        "UPDATE tickets SET resolve_unit = NULL WHERE resolve_unit = unit_code",
        "DROP TRIGGER unit_days_insert",
        "DROP TRIGGER unit_days_update",
        "DROP TRIGGER unit_days_delete",
        f"CREATE TRIGGER unit_days_insert AFTER INSERT ON tickets BEGIN {_credit_day_rows('NEW', 1)} END",
        f"CREATE TRIGGER unit_days_update AFTER UPDATE OF {CREDIT_COLUMNS} ON tickets "
        f"BEGIN {_credit_day_rows('OLD', -1)} {_credit_day_rows('NEW', 1)} END",
        f"CREATE TRIGGER unit_days_delete AFTER DELETE ON tickets BEGIN {_credit_day_rows('OLD', -1)} END",
        "DELETE FROM unit_days",
    )
    _backfill_credit_days(db)


def migrate(db: sqlite_utils.Database) -> list[str]:
    """Apply pending migrations; returns the names applied."""
    pending = [m.name for m in migrations.pending(db)]
    migrations.apply(db)
    return pending


@migrations()
def m037_review_not_stood_in(db: sqlite_utils.Database) -> None:
    """The bureau's review of a 代收 ticket kept its 代收 flag (`unattended`): the review, the duty office's own
    work, sat in the 代收 list, and a leader's 办结 of it counted for the duty office as a stand-in's. Cleared on the
    reviews still flagged since before their review (a review passed on later to a unit with nobody is 代收 again,
    its newer `unattended` event says so). Reviews are few: one look-up each through the ticket's events."""
    _exec(db, """UPDATE tickets SET unattended = 0 WHERE review = 1 AND unattended = 1
                   AND coalesce((SELECT max(id) FROM ticket_events WHERE ticket_id = tickets.id
                                 AND action = 'unattended'), 0)
                       < (SELECT max(id) FROM ticket_events WHERE ticket_id = tickets.id AND action = 'review')""")


@migrations()
def m038_citizen_withdrew(db: sqlite_utils.Database) -> None:
    """When the citizen withdrew a ticket whose check must go on (师德, an urgent matter, praise that also accuses a
    teacher): the ticket stays open at the bureau until someone there closes it with a note, and nothing more is
    sent to the citizen about it (NULL: not withdrawn)."""
    _exec(db, "ALTER TABLE tickets ADD COLUMN citizen_withdrew_at REAL")


@migrations()
def m039_unattended_events(db: sqlite_utils.Database) -> None:
    """The review counts the tickets that reached a unit with nobody bound (its `unattended` events) against that
    unit (handlers/review.py, 在岗): one index range per period, as 退回 has its own."""
    _exec(db, "CREATE INDEX ticket_events_unattended ON ticket_events(at) WHERE action = 'unattended'")


@migrations()
def m040_held_pushes(db: sqlite_utils.Database) -> None:
    """Pushes the deadline watch holds until its sweep ends, so each person's reminders go as one message
    (handlers/deadlines.py gather): written with the reminder record, turned into one outbox row per person by
    the sweep's last step (or the next sweep's, if that one was cut short). Never more than one sweep's worth."""
    _exec(db, """CREATE TABLE held_pushes (
                   id INTEGER PRIMARY KEY,
                   openid TEXT NOT NULL,
                   payload TEXT NOT NULL,
                   source TEXT,
                   created_at REAL NOT NULL)""")
    # 常用回复 in English too, for the citizens who write in English (NULL: none yet; then none is sent to them)
    _exec(db, "ALTER TABLE reply_templates ADD COLUMN text_en TEXT")


@migrations()
def m044_events_keep_deadlines(db: sqlite_utils.Database) -> None:
    """The time limits and whose work each part is (storage.tickets.KEPT) follow from no event, so a unit with the
    database file could move a deadline or shift a late part onto another unit, and delete a miss (unit_misses),
    unseen by `verify-rates`. Each event now carries them as they are after it, and the misses it wrote; the
    partial index lets the check find a period's misses from the events' side. Events before this upgrade carry
    none: their tickets are checked from their next change on."""
    _exec(db, "ALTER TABLE ticket_events ADD COLUMN kept TEXT",
          "ALTER TABLE ticket_events ADD COLUMN misses TEXT",
          "CREATE INDEX ticket_events_misses ON ticket_events(at) WHERE misses IS NOT NULL",
          # the first event that records them: an older one vouches for the misses of its moment (it could not
          # name them), a newer one names every miss it wrote
          "CREATE TABLE integrity_marks (name TEXT PRIMARY KEY, value INTEGER NOT NULL)",
          "INSERT INTO integrity_marks (name, value) SELECT 'events_record_from', coalesce(max(id), 0) + 1 "
          "FROM ticket_events")
    # A leader's ruling on one day of a unit's 群众评议 (storage.surveys.rule_day): the day's answers left out, or
    # counted whatever the burst checks said, or back to the checks. Append-only: the latest row rules, the rows
    # before it are the record of who decided what, when and why.
    _exec(db, """CREATE TABLE survey_day_rulings (
                   id INTEGER PRIMARY KEY,
                   survey_id TEXT NOT NULL,
                   unit_code TEXT NOT NULL,
                   day INTEGER NOT NULL,           -- China Standard Time's day number, as unit_days counts
                   decision TEXT NOT NULL CHECK (decision IN ('exclude', 'include', 'auto')),
                   reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
                   by TEXT NOT NULL,
                   at REAL NOT NULL)""",
          "CREATE INDEX survey_day_rulings_day ON survey_day_rulings(survey_id, unit_code, day, id)",
          # who was staff once stays an insider to 群众评议 and 表扬 (storage.staff.insider_sql)
          "ALTER TABLE users ADD COLUMN staff_left_at REAL",
          """CREATE TRIGGER survey_day_rulings_no_update BEFORE UPDATE ON survey_day_rulings
             BEGIN SELECT RAISE(ABORT, 'survey_day_rulings is append-only'); END""",
          """CREATE TRIGGER survey_day_rulings_no_delete BEFORE DELETE ON survey_day_rulings
             BEGIN SELECT RAISE(ABORT, 'survey_day_rulings is append-only'); END""")


@migrations()
def m049_held_pushes_by_person(db: sqlite_utils.Database) -> None:
    """The sweep's last step merges each person's held reminders in short write transactions, one person at a time
    (handlers/deadlines.py gather_until): a person's held rows are read by this index, not by a scan of every
    held row. The first sweep after an upgrade holds tens of thousands at a million tickets; merging them in
    one transaction held the write lock for 160-460 ms."""
    _exec(db, "CREATE INDEX held_pushes_openid ON held_pushes(openid, id)")


@migrations()
def m050_insiders_and_praise_bursts(db: sqlite_utils.Database) -> None:
    """A rating is the public's judgement of an answer, as 表扬 and 群众评议 are: a ticket whose writer is or later
    becomes staff (of any unit: storage.staff.insider_sql) has its ratings left out of every 满意率 (`by_insider`,
    kept by triggers whoever binds the person, and by the unit_days triggers' rated branch). And 表扬 from new
    accounts in a burst is set aside, as 群众评议's is (storage.bursts): `praise_aside` holds those tickets. A
    withdrawn ticket leaves its unit's 派发 (it could no longer be signed: filed and withdrawn at once, it counted as
    a 签收 missed); a window it had let lapse was not kept as a miss before, and is not reconstructed."""
    insider = ("EXISTS (SELECT 1 FROM users u WHERE u.openid = {o} AND (u.role IN ('handler', 'supervisor', "
               "'leader', 'admin') OR u.staff_left_at IS NOT NULL))")
    _exec(
        db,
        "ALTER TABLE tickets ADD COLUMN by_insider INTEGER NOT NULL DEFAULT 0",
        f"UPDATE tickets SET by_insider = 1 WHERE {insider.format(o='tickets.openid')}",
        # whoever binds a person (an invite, the demo, a role change in SQL), their tickets follow at once
        f"""CREATE TRIGGER tickets_by_insider_user AFTER UPDATE OF role, staff_left_at ON users
            WHEN {insider.format(o='NEW.openid')}
            BEGIN UPDATE tickets SET by_insider = 1 WHERE openid = NEW.openid AND by_insider = 0; END""",
        f"""CREATE TRIGGER tickets_by_insider_new_user AFTER INSERT ON users WHEN {insider.format(o='NEW.openid')}
            BEGIN UPDATE tickets SET by_insider = 1 WHERE openid = NEW.openid AND by_insider = 0; END""",
        f"""CREATE TRIGGER tickets_by_insider_new AFTER INSERT ON tickets WHEN {insider.format(o='NEW.openid')}
            BEGIN UPDATE tickets SET by_insider = 1 WHERE id = NEW.id; END""",
        "DROP TRIGGER unit_days_insert",
        "DROP TRIGGER unit_days_update",
        "DROP TRIGGER unit_days_delete",
        f"CREATE TRIGGER unit_days_insert AFTER INSERT ON tickets BEGIN {_credit_day_rows('NEW', 1, True)} END",
        f"CREATE TRIGGER unit_days_update AFTER UPDATE OF {CREDIT_COLUMNS}, by_insider, state ON tickets "
        f"BEGIN {_credit_day_rows('OLD', -1, True)} {_credit_day_rows('NEW', 1, True)} END",
        f"CREATE TRIGGER unit_days_delete AFTER DELETE ON tickets BEGIN {_credit_day_rows('OLD', -1, True)} END",
        """CREATE TABLE praise_aside (
            ticket_id INTEGER PRIMARY KEY REFERENCES tickets(id),
            unit_code TEXT NOT NULL,       -- the unit praised (coalesce(school_code, unit_code))
            at REAL NOT NULL)""",
        # a person's unfinished 评议 sheets (storage.surveys.drafts, draft_since: read with a rating)
        "CREATE INDEX survey_responses_drafts ON survey_responses(openid, updated_at) WHERE draft IS NOT NULL",
    )
    # the insiders' ratings and the withdrawn tickets leave the counters: recount what the triggers would write
    db.execute("DELETE FROM unit_days")
    _backfill_credit_days(db, m050=True)


@migrations()
def m054_digest_pages_as_data(db: sqlite_utils.Database) -> None:
    """A stored digest page kept the HTML of the template of its week: a fix to the page never reached the weeks
    already sent. The weekly job now stores each digest's data (handlers.digest.to_data: its figures as sent) and
    the page renders it with the current template; the rows stored before keep their HTML (`format` 'html')."""
    _exec(
        db,
        "ALTER TABLE digest_pages RENAME COLUMN html TO body",  # zlib(JSON data); before m054, zlib(HTML)
        "ALTER TABLE digest_pages ADD COLUMN format TEXT NOT NULL DEFAULT 'html' CHECK (format IN ('html', 'data'))",
    )


@migrations()
def m055_held_pushes_kind(db: sqlite_utils.Database) -> None:
    """A held reminder's kind and deadline as columns (written with it by storage.outbox.enqueue_text), indexed
    per person: merging a person's held reminders reads how many of each kind and the first few of each from the
    index (storage.outbox.held_top), not every row's JSON. After the first sweep of an upgrade a leader holds
    thousands: reading them all held the write lock 60-110 ms at a million tickets (bench/README.md, "jobs9"),
    and deleting them all ~1.5 µs each: a person's merged rows are deleted HELD_DELETE a write after the push."""
    _exec(db,
          "ALTER TABLE held_pushes ADD COLUMN kind TEXT",
          "ALTER TABLE held_pushes ADD COLUMN at REAL",
          "UPDATE held_pushes SET kind = json_extract(payload, '$.hold.kind'), "
          "at = coalesce(json_extract(payload, '$.hold.at'), 0)",
          "CREATE INDEX held_pushes_kind ON held_pushes(openid, kind, at, id)",
          "DROP INDEX held_pushes_openid",  # (openid, id): the new index serves a person's rows; one less to delete from
          # A person's rows already merged into their push, deleted a few thousand a write: those up to `through`.
          """CREATE TABLE held_merged (
               openid TEXT PRIMARY KEY,
               through INTEGER NOT NULL)""")


@migrations()
def m056_staff_phones(db: sqlite_utils.Database) -> None:
    """Staff phones on file (storage.staff.add_phones: the bureau's roster, `tingjian staff phones`). A staff member's
    second WeChat account, never bound, was a parent to every rule; once a ticket it wrote gives a staff phone on
    file, the account is an insider (storage.staff.insider_sql): its ratings leave every 满意率 (`by_insider` on all
    its tickets, kept by these triggers; the unit_days triggers follow by_insider), its 表扬 and 群众评议 every count.
    Phones are kept as digits only; tickets are matched on theirs with a landline's dash dropped (index
    `tickets_contact_digits`)."""
    insider = ("(EXISTS (SELECT 1 FROM users u WHERE u.openid = {o} AND (u.role IN ('handler', 'supervisor', "
               "'leader', 'admin') OR u.staff_left_at IS NOT NULL)) OR (EXISTS (SELECT 1 FROM staff_phones WHERE phone > '') "
               "AND EXISTS (SELECT 1 FROM tickets t2 INDEXED BY tickets_openid JOIN staff_phones p "
               "ON p.phone = replace(t2.contact_phone, '-', '') WHERE t2.openid = {o} "
               "AND t2.contact_phone IS NOT NULL)))")
    _exec(
        db,
        """CREATE TABLE staff_phones (
            phone TEXT PRIMARY KEY,        -- digits only: 13800001234, 057112345678
            name TEXT,                     -- whose, as the roster says (shown to admins only)
            added_at REAL NOT NULL)""",
        "CREATE INDEX tickets_contact_digits ON tickets(replace(contact_phone, '-', '')) "
        "WHERE contact_phone IS NOT NULL",
        "DROP TRIGGER tickets_by_insider_new",
        # a new ticket giving a staff phone makes the account's earlier tickets an insider's too
        f"""CREATE TRIGGER tickets_by_insider_new AFTER INSERT ON tickets WHEN {insider.format(o='NEW.openid')}
            BEGIN UPDATE tickets SET by_insider = 1 WHERE openid = NEW.openid AND by_insider = 0; END""",
        """CREATE TRIGGER tickets_by_insider_phone AFTER INSERT ON staff_phones
            BEGIN UPDATE tickets SET by_insider = 1 WHERE by_insider = 0 AND openid IN (SELECT openid FROM tickets
                  WHERE contact_phone IS NOT NULL AND replace(contact_phone, '-', '') = NEW.phone); END""",
    )


@migrations()
def m058_unit_time_indexes(db: sqlite_utils.Database) -> None:
    """A unit's figures over a span (the trace /w/rates/<unit>, the figure beside it) read the span's tickets and
    rating events of every unit and kept the unit's: a school's quarter cost the whole bureau's (~0.5 s at a
    million tickets). Ranges by unit and time make it cost the unit's own. The partial ones hold only rows with
    that time set (insert pays for the dispatch one alone). `tickets_credited_away`: the few tickets whose work
    counts for a unit other than the holder (代收, the review's rated unit), read whole."""
    _exec(db,
          "CREATE INDEX tickets_unit_dispatched ON tickets(unit_code, dispatched_at)",
          "CREATE INDEX tickets_unit_resolved ON tickets(unit_code, resolved_at) WHERE resolved_at IS NOT NULL",
          "CREATE INDEX tickets_unit_rated ON tickets(unit_code, rated_at) WHERE rated_at IS NOT NULL",
          "CREATE INDEX tickets_unit_closed ON tickets(unit_code, closed_at) WHERE closed_at IS NOT NULL",
          "CREATE INDEX tickets_credited_away ON tickets(id) WHERE (rated_unit IS NOT NULL AND rated_unit IS NOT "
          "unit_code) OR response_unit IS NOT NULL OR resolve_unit IS NOT NULL",
          "CREATE INDEX ticket_events_unit_rating ON ticket_events(unit_code, at) "
          "WHERE action IN ('rate', 'reopen', 'review')",
          # events from before m014 carry no unit: their ticket's holder counts (ratings_in)
          "CREATE INDEX ticket_events_rating_unitless ON ticket_events(at) "
          "WHERE action IN ('rate', 'reopen', 'review') AND unit_code IS NULL")


@migrations()
def m065_praise_by_praised_unit(db: sqlite_utils.Database) -> None:
    """A school's 表扬 figure (storage.tickets.praise_by_unit for some units: the figure beside its trace, a
    district's digest) read every ticket of the span and kept the school's praise. The praised unit is
    coalesce(school_code, unit_code) (a teacher's praise passed on to the district is the school's): ranges by
    that expression and time, praise only (~6 % of tickets), cost the unit's own praise."""
    _exec(db, "CREATE INDEX tickets_praise_unit ON tickets(coalesce(school_code, unit_code), created_at) "
              "WHERE kind = 'praise'")


@migrations()
def m059_stand_in_apart(db: sqlite_utils.Database) -> None:
    """代收 work apart (storage.tickets.STAND_IN): a part a unit did, or let lapse, standing in for another (a unit
    with nobody bound, or a unit below it) counted in its own three rates — the duty office's 解决率 held the
    tickets it signed for empty schools. Such parts are now written as the stand-in's 代收 account, counted in no
    unit's rates and shown apart. Rewritten here: the credit columns of the tickets marked 代收 (the few rows of
    tickets_credited_away; the triggers move their counts), and the late departures written for a 代收 part
    (from the credit the ticket carried before the change that wrote them: m044's `kept`; before m044, a ticket
    that was 代收 and a miss not of its holder). Each change is appended to the ticket's history (`recredit`), so
    verify-rates finds the record it checks against; the misses the older events named are vouched for under
    their new name (integrity_marks `recredit_from`). Not rewritten: older rating events' unit (first-time
    satisfaction, 不满意 given), which the append-only history keeps."""
    import json as json_
    import time as time_
    now = time_.time()
    pre = "代收:"  # storage.tickets.STAND_IN
    db.execute("INSERT INTO integrity_marks (name, value) SELECT 'recredit_from', coalesce(max(id), 0) + 1 "
               "FROM ticket_events")
    cols = "id, unit_code, state, review, stood_in, response_unit, resolve_unit, rated_unit"
    rows = db.execute(f"SELECT {cols} FROM tickets INDEXED BY tickets_credited_away WHERE (rated_unit IS NOT NULL "
                      "AND rated_unit IS NOT unit_code) OR response_unit IS NOT NULL OR resolve_unit IS NOT NULL"
                      ).fetchall()
    for tid, unit, state, review, stood, respond, resolve, rated in rows:
        if not stood:  # the review's kept 签收, a bounced school's own lapsed 办结: the unit's own work
            continue
        def acct(v):
            return pre + v if v and v != unit and not v.startswith(pre) else v
        new = (respond if review else acct(respond), acct(resolve),
               acct(rated) if not review and rated == resolve else rated)
        if new == (respond, resolve, rated):
            continue
        db.execute("UPDATE tickets SET response_unit = ?, resolve_unit = ?, rated_unit = ? WHERE id = ?",
                   [*new, tid])
        # the KEPT columns (storage.tickets.KEPT) as they are now: the record verify-rates checks the ticket by
        kept = json_.dumps(list(db.execute("SELECT unit_code, accept_due_at, due_at, response_unit, resolve_unit, "
                                           "rated_unit, stood_in FROM tickets WHERE id = ?", [tid]).fetchone()),
                           separators=(",", ":"))
        db.execute("INSERT INTO ticket_events (ticket_id, at, actor, from_state, to_state, note, action, kept) "
                   "VALUES (?, ?, 'system', ?, ?, ?, 'recredit', ?)", [tid, now, state, state, RECREDIT_NOTE, kept])
    # the late departures of a 代收 part: the credit before the change that wrote them (the latest `kept` before
    # its event), else (events before m044) a ticket that was 代收 and a miss not of the unit holding it then
    writer = ("(SELECT min(w.id) FROM ticket_events w WHERE w.ticket_id = m.ticket_id AND w.at = m.at "
              "AND w.action = m.action)")
    before = ("(SELECT k.kept FROM ticket_events k WHERE k.ticket_id = m.ticket_id AND k.kept IS NOT NULL "
              f"AND k.id < {writer} ORDER BY k.id DESC LIMIT 1)")
    misses = db.execute(f"""SELECT m.id, m.ticket_id, m.unit_code, m.at, m.response, m.overdue, t.state FROM (
            SELECT m.*, {before} AS k, (SELECT w.unit_code FROM ticket_events w WHERE w.id = {writer}) AS holder
            FROM unit_misses m WHERE m.unit_code NOT LIKE '{pre}%') m JOIN tickets t ON t.id = m.ticket_id
        WHERE CASE WHEN m.k IS NOT NULL THEN json_extract(m.k, '$[6]') = 1
                        AND m.unit_code IS NOT json_extract(m.k, '$[0]')
                        AND ((m.response = 1 AND json_extract(m.k, '$[3]') = m.unit_code)
                             OR (m.overdue = 1 AND json_extract(m.k, '$[4]') = m.unit_code))
                   ELSE m.unit_code IS NOT m.holder AND EXISTS (SELECT 1 FROM ticket_events u
                        WHERE u.ticket_id = m.ticket_id AND u.action = 'unattended' AND u.at <= m.at) END""").fetchall()
    for mid, tid, unit, at, response, overdue, state in misses:
        db.execute("UPDATE unit_misses SET unit_code = ? WHERE id = ?", [pre + unit, mid])
        db.execute("INSERT INTO ticket_events (ticket_id, at, actor, from_state, to_state, note, action, misses) "
                   "VALUES (?, ?, 'system', ?, ?, ?, 'recredit', ?)",
                   [tid, at, state, state, RECREDIT_NOTE, json_.dumps([[pre + unit, response, overdue]],
                                                                      ensure_ascii=False, separators=(",", ":"))])


RECREDIT_NOTE = "代收部分单独列出，不计入任何单位的三率（m059）"


BATCH = 500  # rows a transaction in m060: the upgrade never holds the write lock for long


@migrations(transactional=False)
def m060_one_miss_a_window_and_returns(db: sqlite_utils.Database) -> None:
    """Three records the rates lacked (trust15). Not one transaction: each step is guarded and each back-fill is
    done in batches of BATCH rows that are right to do again, so an upgrade stopped half-way is simply run again.
    - `unit_misses.accept_due_at`, `due_at`: the 签收 window and deadline a late departure missed. A unit that let
      a 签收 window lapse, got the ticket back with that window (Desk.handover) and let it go again wrote a second
      miss: two late 签收 for one dispatch. A window missed once is one miss (storage.tickets._record_miss).
      Filled from the ticket's record before the event that wrote the miss (m044's `kept`); NULL before m044.
    - `tickets.resolve_since`: when the 办结 part last came to the unit it counts for by a hand-over (NULL: since
      its dispatch). A ticket given back with a deadline that passed while another unit held it counted as open
      past that deadline at earlier periods' ends, for the unit that did not hold it then: a published period
      changed when the ticket came back. Back-filled for the tickets that can count so (open past a deadline,
      or resolved late) from their events' `kept`, after start-up (m062).
    - `rating_recredit`: the 代收 account an older rating event counts for. m059 re-keyed 代收 work and each
      ticket's latest rating, not the earlier ratings' events (append-only), which still named the stand-in: a
      first 不满意 of a 代收 answer sat in the stand-in's 首次满意率 and 不满意次数. storage.tickets.ratings_in reads
      this table before the event's unit. Filled after start-up (m062, storage.tickets.recredited)."""
    import json as json_

    def columns(table: str) -> set[str]:
        return {r[1] for r in db.execute(f"PRAGMA table_info({table})")}

    def step(*statements: str) -> None:
        with db.atomic():
            _exec(db, *statements)
    if "accept_due_at" not in columns("unit_misses"):
        step("ALTER TABLE unit_misses ADD COLUMN accept_due_at REAL", "ALTER TABLE unit_misses ADD COLUMN due_at REAL")
    if "resolve_since" not in columns("tickets"):
        step("ALTER TABLE tickets ADD COLUMN resolve_since REAL")
    step("CREATE TABLE IF NOT EXISTS rating_recredit (event_id INTEGER PRIMARY KEY, unit_code TEXT NOT NULL)",
         # a departure asks whether its unit missed this window already (few rows a ticket)
         "CREATE INDEX IF NOT EXISTS unit_misses_ticket ON unit_misses(ticket_id)")
    # the KEPT columns (storage.tickets.KEPT) as they were just before an event: the latest event before it that
    # carries them
    def before(event: str) -> str:
        return (f"(SELECT k.kept FROM ticket_events k INDEXED BY ticket_events_ticket WHERE k.ticket_id = {event}.ticket_id "
                f"AND k.kept IS NOT NULL AND k.id < {event}.id ORDER BY k.id DESC LIMIT 1)")
    # 1. the deadlines each miss missed, from the record before the event that wrote it
    last = 0
    while True:
        rows = db.execute("SELECT id FROM unit_misses WHERE id > ? AND accept_due_at IS NULL AND due_at IS NULL "
                          "ORDER BY id LIMIT ?", [last, BATCH]).fetchall()
        if not rows:
            break
        with db.atomic():
            for (mid,) in rows:
                k = db.execute(
                    f"SELECT {before('w')} FROM unit_misses m JOIN ticket_events w ON w.ticket_id = m.ticket_id "
                    "AND w.at = m.at AND w.action = m.action WHERE m.id = ? ORDER BY w.id LIMIT 1", [mid]).fetchone()
                if k and k[0]:
                    was = json_.loads(k[0])
                    db.execute("UPDATE unit_misses SET accept_due_at = ?, due_at = ? WHERE id = ?", [was[1], was[2], mid])
        last = rows[-1][0]
    # 2. resolve_since is filled after start-up, not here (m062: a walk of every late or open ticket's events,
    # seconds at 1M while the service would not serve)
    # 3. older rating events of a 代收 answer (before m059's mark): looked for after start-up as well (m062: a pass
    # over every event, seconds at 1M), by storage.tickets.recredited's rule


@migrations()
def m063_ticket_terms_cut(db: sqlite_utils.Database) -> None:
    """Which cut the stored hot-topic terms (ticket_terms) were made with (handlers.topics.cut_version: its rules,
    jieba's, the router's dictionary): the digests now count them instead of cutting the week's texts again, so
    terms of another cut are dropped and cut anew (bot/scheduler.py topic_terms), never counted beside the new.
    No row: the terms already stored are of an unknown cut, dropped once."""
    _exec(db, "CREATE TABLE ticket_terms_cut (one INTEGER PRIMARY KEY CHECK (one = 1), version TEXT NOT NULL)")


@migrations(transactional=False)
def m061_stand_in_gaps(db: sqlite_utils.Database) -> None:
    """Two kinds of old 代收 work m059 passed over (trust16), rewritten as m059 rewrote the rest: the credit column
    names the stand-in's 代收 account (in no unit's three rates), each change appended to the ticket's history
    (`recredit`, with the KEPT columns verify-rates checks against); the counters follow by their triggers.
    - A reviewed ticket whose 签收 was a stand-in's: the review keeps the 签收 with whoever did it, and old code
      wrote the stand-in's own code there (m059 skipped reviews: their kept 签收 is usually the reviewed unit's
      own). 代收 when, just before the review (m044's `kept`), the ticket was marked 代收 and its 签收 part named a
      unit other than its holder; before m044, when it had been left 代收 (an `unattended` event) by a unit other
      than the one the 签收 names.
    - A ticket whose latest rating rated a 代收 answer (m060's rating_recredit names such events) while its
      rated_unit still names the stand-in itself: the 办结 part had moved on since (the ticket came home for the
      redo, or went to the review), so m059's rule (rated_unit = the 代收 办结 part) did not see it.
    And `unit_misses.open_from` (trust16): a ticket left open past its deadline (转派, 退回, 撤回) counted late at the
    ends of the periods while its unit held it; once it left, those ends no longer did (it is another unit's, or
    withdrawn), and only the departure's period counted the miss: a period over changed. The miss now keeps from
    when the ticket was open past its deadline with that unit (its deadline, or its coming back after it:
    resolve_since then, from the events' `kept`), and the rates count it at those ends (handlers.rates.compute).
    Filled for the misses m060 gave a deadline (older ones: the departure's period only, as before).
    Not one transaction: batches of BATCH rows, each re-checked, so an upgrade stopped half-way is simply run
    again, and a second run changes nothing."""
    import json as json_
    import time as time_

    from storage.integrity import since_from_events
    from storage.tickets import open_from, recredit, recredit_latest_ratings
    pre = "代收:"  # storage.tickets.STAND_IN
    now = time_.time()
    if "open_from" not in {r[1] for r in db.execute("PRAGMA table_info(unit_misses)")}:
        with db.atomic():
            _exec(db, "ALTER TABLE unit_misses ADD COLUMN open_from REAL")
    with db.atomic():
        # the periods' ends a departure after them still counts: the few departures of open late tickets
        _exec(db, "CREATE INDEX IF NOT EXISTS unit_misses_open ON unit_misses(at) WHERE open_from IS NOT NULL")
    # 0. open_from of the departures of open tickets let lapse (transfer, bounce, withdraw leave only open ones)
    last = 0
    while True:
        rows = db.execute("SELECT m.id, m.ticket_id, m.due_at, (SELECT min(w.id) FROM ticket_events w INDEXED BY "
                          "ticket_events_ticket WHERE w.ticket_id = m.ticket_id AND w.at = m.at AND w.action = m.action) "
                          "FROM unit_misses m WHERE m.id > ? AND m.overdue = 1 AND m.due_at IS NOT NULL "
                          "AND m.open_from IS NULL AND m.action IN ('transfer', 'bounce', 'withdraw') "
                          "ORDER BY m.id LIMIT ?", [last, BATCH]).fetchall()
        if not rows:
            break
        with db.atomic():
            for mid, tid, due, writer in rows:
                since = since_from_events(db, tid, writer or 0)[1]
                db.execute("UPDATE unit_misses SET open_from = ? WHERE id = ?", [open_from(due, since), mid])
        last = rows[-1][0]

    # 1. reviews whose kept 签收 was a stand-in's (reviews are few: the credited-away partial index, by id)
    last = 0
    while True:
        rows = db.execute(
            "SELECT id, response_unit, (SELECT min(e.id) FROM ticket_events e INDEXED BY ticket_events_ticket "
            "WHERE e.ticket_id = t.id AND e.action = 'review') FROM tickets t INDEXED BY tickets_credited_away "
            "WHERE ((rated_unit IS NOT NULL AND rated_unit IS NOT unit_code) OR response_unit IS NOT NULL "
            "OR resolve_unit IS NOT NULL) AND id > ? AND review = 1 ORDER BY id LIMIT ?", [last, BATCH]).fetchall()
        if not rows:
            break
        with db.atomic():
            for tid, respond, review in rows:
                if respond is None or respond.startswith(pre) or review is None:
                    continue
                kept = db.execute("SELECT kept FROM ticket_events INDEXED BY ticket_events_ticket WHERE ticket_id = ? "
                                  "AND kept IS NOT NULL AND id < ? ORDER BY id DESC LIMIT 1", [tid, review]).fetchone()
                if kept is not None:
                    k = json_.loads(kept[0])
                    stand_in = k[6] == 1 and k[3] == respond and k[3] != k[0]
                else:
                    absent = db.execute("SELECT unit_code FROM ticket_events INDEXED BY ticket_events_ticket WHERE "
                                        "ticket_id = ? AND action = 'unattended' AND id < ? ORDER BY id DESC LIMIT 1",
                                        [tid, review]).fetchone()
                    stand_in = absent is not None and absent[0] is not None and absent[0] != respond
                if stand_in:
                    recredit(db, tid, now, response_unit=pre + respond, stood_in=1)
        last = rows[-1][0]
    # 2. a ticket's latest rating of a 代收 answer (rating_recredit: few rows, by event id; those the look after
    #    start-up finds later (m062) get the same rule as it finds them)
    last = 0
    while True:
        rows = db.execute("SELECT event_id, unit_code FROM rating_recredit WHERE event_id > ? ORDER BY event_id "
                          "LIMIT ?", [last, BATCH]).fetchall()
        if not rows:
            break
        with db.atomic():
            recredit_latest_ratings(db, rows, now)
        last = rows[-1][0]


@migrations()
def m062_resolve_since_after_start(db: sqlite_utils.Database) -> None:
    """m060's two back-fills walked every late or open ticket's events and every event before m059's mark at
    start-up (~10 s at 1M quiet, minutes under load, while the service does not serve). Now this only says what
    is left; the service does both after it is up, in short writes (bot/scheduler.py resolve_since_fill): the
    `resolve_since` of the tickets listed here, newest first, and `rating_recredit` over the events from
    `recredit_scanned` to the mark. Until a ticket or event is reached the rates read it by the same rule from
    the events (storage.tickets.settle_resolve_since, recredited): a period reads the same during the fills as
    after them. On a database m060 had filled in full, they find every value already there and write none."""
    _exec(db, "CREATE TABLE resolve_since_todo (ticket_id INTEGER PRIMARY KEY)",
          # the tickets that can count open past a deadline at a period's end: overdue_at's two partial indexes
          "INSERT INTO resolve_since_todo SELECT id FROM tickets INDEXED BY tickets_unresolved "
          "WHERE resolved_at IS NULL AND kind != 'praise' AND state != 'withdrawn' AND due_at > 0 "
          "UNION SELECT id FROM tickets INDEXED BY tickets_late WHERE resolved_at > due_at",
          # m060's look for older ratings of 代收 answers, from the first event to m059's mark (none on a new file)
          "INSERT INTO integrity_marks (name, value) SELECT 'recredit_scanned', 0 FROM integrity_marks "
          "WHERE name = 'recredit_from'")


@migrations()
def m066_unit_cases(db: sqlite_utils.Database) -> None:
    """A month over keeps its 派发 and 响应率 (trust17, trust18a). A ticket's 签收 part was counted in the month of
    its `dispatched_at` for the unit it counts for now, so a later 转派, 撤回 or 退回 moved a dispatch out of a
    closed month (or, a 退回 keeping dispatched_at, into it for the duty office). Now:
    - `unit_cases`: each 签收 case that stops being its unit's (the ticket leaves it, is withdrawn, or is
      dispatched anew) once it came due there (signed, or its window over) is kept with that unit, as it was then,
      and counted in the month it began (storage.tickets.record_case, cases_in; handlers.rates.compute).
    - `tickets.response_since`: when the current case began, if not at `dispatched_at` (a 退回 to the duty office
      keeps the ticket's dispatch; a unit that gets a ticket back gets back its first dispatch): its case counts in
      the month it arrived. The counters count the case on that day (the unit_days triggers again).
    No back-fill: departures before this upgrade read as before (the dispatch followed the ticket); every column
    added is empty on an existing file, so nothing is recounted and nothing walks the tickets but one index."""
    _exec(db,
          "ALTER TABLE tickets ADD COLUMN response_since REAL",
          """CREATE TABLE unit_cases (
              id INTEGER PRIMARY KEY,
              ticket_id INTEGER NOT NULL REFERENCES tickets(id),
              unit_code TEXT NOT NULL,        -- the unit its 签收 part counted for (a 代收 account included)
              dispatched_at REAL NOT NULL,    -- the ticket's 派发 then
              since REAL,                     -- when the case became the unit's, if not at dispatched_at
              at REAL NOT NULL,               -- when it stopped being the unit's
              action TEXT NOT NULL,           -- the event that ended it (transfer, bounce, withdraw, ...)
              accept_due_at REAL,             -- its 签收 window
              accepted_at REAL,               -- signed then (NULL: its window lapsed unsigned)
              UNIQUE (ticket_id, unit_code, at))""",
          # a period's kept cases by the moment each began (storage.tickets.cases_in)
          "CREATE INDEX unit_cases_start ON unit_cases(coalesce(since, dispatched_at), unit_code)",
          "CREATE INDEX unit_cases_ticket ON unit_cases(ticket_id, unit_code, accept_due_at)",
          # the few current cases that began after their ticket's dispatch (a 退回, a ticket back at a unit), by
          # that moment: a partial index kept by triggers, since building one on tickets reads every ticket at
          # start-up (1.2 s at 1M; the column is empty on an existing file)
          "CREATE TABLE tickets_response_since (ticket_id INTEGER PRIMARY KEY, since REAL NOT NULL)",
          "CREATE INDEX tickets_response_since_at ON tickets_response_since(since)",
          """CREATE TRIGGER tickets_response_since_kept AFTER UPDATE OF response_since ON tickets BEGIN
              DELETE FROM tickets_response_since WHERE ticket_id = OLD.id;
              INSERT INTO tickets_response_since (ticket_id, since) SELECT NEW.id, NEW.response_since
                WHERE NEW.response_since IS NOT NULL; END""",
          """CREATE TRIGGER tickets_response_since_gone AFTER DELETE ON tickets BEGIN
              DELETE FROM tickets_response_since WHERE ticket_id = OLD.id; END""",
          "DROP TRIGGER unit_days_insert",
          "DROP TRIGGER unit_days_update",
          "DROP TRIGGER unit_days_delete",
          f"CREATE TRIGGER unit_days_insert AFTER INSERT ON tickets BEGIN {_credit_day_rows('NEW', 1, True, True)} END",
          f"CREATE TRIGGER unit_days_update AFTER UPDATE OF {CREDIT_COLUMNS}, by_insider, state, response_since "
          f"ON tickets BEGIN {_credit_day_rows('OLD', -1, True, True)} {_credit_day_rows('NEW', 1, True, True)} END",
          f"CREATE TRIGGER unit_days_delete AFTER DELETE ON tickets BEGIN {_credit_day_rows('OLD', -1, True, True)} END")


@migrations()
def m067_kept_resolutions(db: sqlite_utils.Database) -> None:
    """A 办结 a later 不满意 clears stays in its month (trust18b): the row `storage.tickets._record_miss` writes
    for it names the 办结's moment (`unit_misses.resolved_at`), written for every cleared 办结, in time or late,
    and the rates count it there (handlers.rates.kept_resolutions). Before, the 不满意 cleared `resolved_at`, so
    the month of the 办结 lost it, and a late one became a miss of the 不满意's month. The 不满意 given before this
    version get their rows after start-up (job upgrade-fill: rating events from `kept_resolved_scanned` to the
    mark, storage.tickets.kept_resolved_next); until one is reached, its ticket reads as before."""
    if "resolved_at" not in {r[1] for r in db.execute("PRAGMA table_info(unit_misses)")}:
        _exec(db, "ALTER TABLE unit_misses ADD COLUMN resolved_at REAL")
    _exec(db, "CREATE INDEX IF NOT EXISTS unit_misses_resolved ON unit_misses(resolved_at) "
              "WHERE resolved_at IS NOT NULL",
          "INSERT OR IGNORE INTO integrity_marks (name, value) SELECT 'kept_resolved_from', coalesce(max(id), 0) + 1 "
          "FROM ticket_events",
          "INSERT OR IGNORE INTO integrity_marks (name, value) VALUES ('kept_resolved_scanned', 0)")


@migrations()
def m070_cases_back_filled(db: sqlite_utils.Database) -> None:
    """trust19: what m066 left out.
    - The 签收 cases of departures before m066 (退回, 转派, 撤回): their 派发 and 响应率 still followed the ticket to
      its new unit. The service keeps them after start-up (job upgrade-fill: events from `cases_fill_scanned` to
      the mark, storage.tickets.cases_fill_next/store, record_case's rule replayed over each ticket's events);
      until a ticket is reached it reads as before m066, each ticket all at once.
    - `unit_cases.stood_in`: the holder whose ticket a stand-in did a part of (代收) when the case ended, so its
      代收 N件 stays in the month the case began (handlers.rates._kept_cases).
    Nothing walks the history here: a column and two marks."""
    _exec(db, "ALTER TABLE unit_cases ADD COLUMN stood_in TEXT",
          "INSERT OR IGNORE INTO integrity_marks (name, value) SELECT 'cases_fill_from', coalesce(max(id), 0) + 1 "
          "FROM ticket_events",
          "INSERT OR IGNORE INTO integrity_marks (name, value) VALUES ('cases_fill_scanned', 0)")


@migrations()
def m071_rating_redos(db: sqlite_utils.Database) -> None:
    """The rating events of the tickets given a 不满意, from their first 不满意 on (`redo`: a 不满意 itself), by time,
    kept by a trigger (dash19): the trend's earlier periods take 满意率 from the counters (unit_days: each ticket's
    latest rating) and count the rating events only of the tickets given a 不满意 in the span, the only ones whose
    events count otherwise (handlers.rates.for_periods). A table, not an index on the events: building one read all
    of them at upgrade (m069: 4.5 s at 1M). The events before this version are copied after start-up (job
    upgrade-fill: rowid ranges from `rating_redos_scanned` to the mark, storage.tickets.rating_redos_next); until
    then the trend reads every rating event, as before."""
    _exec(db, "CREATE TABLE IF NOT EXISTS rating_redos (event_id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL, "
              "at REAL NOT NULL, redo INTEGER NOT NULL, unit_code TEXT)",  # the event's own columns: no seek into it
          "CREATE INDEX IF NOT EXISTS rating_redos_at ON rating_redos(at, redo, ticket_id)",
          "CREATE TRIGGER IF NOT EXISTS rating_redos_kept AFTER INSERT ON ticket_events "
          # (a rating after a 不满意 by the events themselves, the fill's rule: one given before the fill reached
          # the 不满意 is listed all the same)
          "WHEN NEW.action IN ('reopen', 'review') OR NEW.action = 'rate' AND EXISTS (SELECT 1 FROM ticket_events p "
          "INDEXED BY ticket_events_ticket WHERE p.ticket_id = NEW.ticket_id AND p.id < NEW.id "
          "AND p.action IN ('reopen', 'review')) BEGIN "
          "INSERT OR IGNORE INTO rating_redos (event_id, ticket_id, at, redo, unit_code) "
          "VALUES (NEW.id, NEW.ticket_id, NEW.at, NEW.action != 'rate', NEW.unit_code); END",
          "INSERT OR IGNORE INTO integrity_marks (name, value) SELECT 'rating_redos_from', coalesce(max(id), 0) + 1 "
          "FROM ticket_events",
          "INSERT OR IGNORE INTO integrity_marks (name, value) VALUES ('rating_redos_scanned', 0)")


@migrations()
def m072_case_departures(db: sqlite_utils.Database) -> None:
    """trust21: the 签收 cases kept for departures before m070 (m070's fill) are named by no event, so verify-rates
    could not see one deleted. `case_departures` lists those departures by time (storage.tickets.departures: a
    撤回, or a move of the unit the 签收 part counts for): verify-rates replays the events of the tickets that
    departed in the period asked (storage.integrity). Append-only, as the events it is taken from. Filled after
    start-up (job upgrade-fill: events from `case_departures_scanned` to m070's mark); a database begun after
    m070 has nothing to fill. Nothing walks the history here: a table and two marks."""
    _exec(db, "CREATE TABLE IF NOT EXISTS case_departures (event_id INTEGER PRIMARY KEY, ticket_id INTEGER NOT NULL, "
              "at REAL NOT NULL)",
          "CREATE INDEX IF NOT EXISTS case_departures_at ON case_departures(at)",
          """CREATE TRIGGER IF NOT EXISTS case_departures_no_update BEFORE UPDATE ON case_departures
             BEGIN SELECT RAISE(ABORT, 'case_departures is append-only'); END""",
          """CREATE TRIGGER IF NOT EXISTS case_departures_no_delete BEFORE DELETE ON case_departures
             BEGIN SELECT RAISE(ABORT, 'case_departures is append-only'); END""",
          "INSERT OR IGNORE INTO integrity_marks (name, value) SELECT 'case_departures_from', coalesce((SELECT value "
          "FROM integrity_marks WHERE name = 'cases_fill_from'), 1)",
          "INSERT OR IGNORE INTO integrity_marks (name, value) VALUES ('case_departures_scanned', 0)")
    # m070's fill before this version read the records before m059 as they were written, not as m059 named them:
    # it took m059's renaming of a stand-in's own code into its 代收 account (a `recredit` event) for a move (a case
    # for the bare code, ended at the upgrade, and the ticket's case begun again then), and kept a 代收 case ended
    # before m059 for the stand-in's own code (in its own rates). The replay reads both as m059 does now
    # (storage.tickets.RENAMES, renamed_m059): the rows that fill wrote for them go (every row ended before m059 is
    # the fill's: record_case came with m066), and each such ticket's cases are derived again. unit_cases holds the
    # kept cases alone (a few in a hundred tickets); the tickets concerned had a stand-in before m059.
    from storage import tickets as tickets_
    recorded = (db.execute("SELECT value FROM integrity_marks WHERE name = 'events_record_from'").fetchone()
                or (1 << 62,))[0]
    before = db.execute("SELECT at FROM ticket_events WHERE id = (SELECT value - 1 FROM integrity_marks "
                        "WHERE name = 'recredit_from')").fetchone()
    for (tid,) in db.execute("SELECT DISTINCT ticket_id FROM unit_cases WHERE action = 'recredit' OR at <= ?",
                             [before[0] if before else -1]).fetchall():
        db.execute("DELETE FROM unit_cases WHERE ticket_id = ? AND (action = 'recredit' OR at <= ?)",
                   [tid, before[0] if before else -1])
        fix = tickets_.cases_fix(db, tid, recorded)
        if fix is not None:
            tickets_.cases_fill_store(db, 0, [[tid, *fix]])


@migrations()
def m073_survey_person_index(db: sqlite_utils.Database) -> None:
    """A person's responses in a survey, found at once (audit21): how many units they have rated is asked each time
    they start or finish a survey (storage.surveys.UNITS_PER_PERSON). survey_responses is small beside the tickets
    (one row per person and unit rated): the index builds in well under a second at upgrade. The first response
    from this version on is marked: only those before it may pass the cap (the door keeps the rest under it), so
    the figures look up a person's other units only for them (a lookup per response doubled the results' cost)."""
    _exec(db, "CREATE INDEX IF NOT EXISTS survey_responses_person ON survey_responses(openid, survey_id, submitted_at)",
          "INSERT OR IGNORE INTO integrity_marks (name, value) SELECT 'survey_cap_from', coalesce(max(id), 0) + 1 "
          "FROM survey_responses")


@migrations()
def m075_departure_days(db: sqlite_utils.Database) -> None:
    """trust22.
    - A departure m072 lists deleted together with the kept case it checks (its append-only trigger dropped, both
      rows deleted, the trigger made again) left verify-rates nothing to replay: the list was its only way to the
      ticket. `case_departure_days` counts them by day, with each day's first and last event id, kept by a trigger
      in the same statement as each row listed; counts never go down (its own triggers). verify-rates compares
      the period's days with the list and, where a day disagrees, lists that day's departures again from its
      events (storage.integrity). The rows listed before this version are counted after start-up (job
      upgrade-fill: rows from `departure_days_scanned` to the mark, storage.tickets.departure_days_next).
    - The kept cases m070's fill wrote for reviews m061 renamed (storage.tickets.Named): derived again here, the
      tickets with a review and a kept case (few)."""
    from storage import tickets as tickets_
    _exec(db, "CREATE TABLE IF NOT EXISTS case_departure_days (day INTEGER PRIMARY KEY, n INTEGER NOT NULL, "
              "first INTEGER NOT NULL, last INTEGER NOT NULL)",
          """CREATE TRIGGER IF NOT EXISTS case_departure_days_kept AFTER INSERT ON case_departures BEGIN
              INSERT INTO case_departure_days (day, n, first, last) VALUES (CAST((NEW.at + 28800) / 86400 AS INTEGER),
                  1, NEW.event_id, NEW.event_id) ON CONFLICT (day) DO UPDATE SET n = n + 1,
                  first = min(first, excluded.first), last = max(last, excluded.last); END""",
          """CREATE TRIGGER IF NOT EXISTS case_departure_days_no_delete BEFORE DELETE ON case_departure_days
             BEGIN SELECT RAISE(ABORT, 'case_departure_days only grows'); END""",
          """CREATE TRIGGER IF NOT EXISTS case_departure_days_no_less BEFORE UPDATE ON case_departure_days
             WHEN NEW.n < OLD.n OR NEW.first > OLD.first OR NEW.last < OLD.last OR NEW.day != OLD.day
             BEGIN SELECT RAISE(ABORT, 'case_departure_days only grows'); END""",
          "INSERT OR IGNORE INTO integrity_marks (name, value) SELECT 'departure_days_from', "
          "coalesce(max(event_id), 0) + 1 FROM case_departures",
          "INSERT OR IGNORE INTO integrity_marks (name, value) VALUES ('departure_days_scanned', 0)")
    tickets_.cases_renamed_m061(db)


@migrations()
def m077_faq_answers_person(db: sqlite_utils.Database) -> None:
    """people27: a person's latest instant answer, found at once: a “2 还需要人工答复” sent after another message
    (the answer's conversation gone) still asks for a person (storage.faq.latest). faq_answers holds one row per
    answer served, small beside the tickets: the index builds in well under a second at upgrade."""
    _exec(db, "CREATE INDEX IF NOT EXISTS faq_answers_person ON faq_answers(openid, id)")


@migrations()
def m078_review_rules(db: sqlite_utils.Database) -> None:
    """audit28: a closed review's scores were recomputed from today's [review] weights and minimums, so editing the
    config rescored every past month a unit's performance review had already counted. The rules in force are
    recorded at each start of the service when they change (storage.review.record_rules); a period that has ended
    is scored by the rules in force at its end. Append-only: the record is evidence of how a score was made."""
    _exec(db, """CREATE TABLE IF NOT EXISTS review_rules (
                   id INTEGER PRIMARY KEY,
                   since REAL NOT NULL,         -- in force from this time (the start that recorded it)
                   rules TEXT NOT NULL          -- JSON: weights, min_cases, min_responses
               )""",
          "CREATE INDEX IF NOT EXISTS review_rules_since ON review_rules(since)",
          """CREATE TRIGGER IF NOT EXISTS review_rules_no_update BEFORE UPDATE ON review_rules
             BEGIN SELECT RAISE(ABORT, 'review_rules is append-only'); END""",
          """CREATE TRIGGER IF NOT EXISTS review_rules_no_delete BEFORE DELETE ON review_rules
             BEGIN SELECT RAISE(ABORT, 'review_rules is append-only'); END""")
