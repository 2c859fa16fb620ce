"""The database schema, as an ordered list of sqlite-utils migrations.

`MIGRATIONS.apply(db)` runs on every `Store.open`: each migration runs once, in its own
transaction, and is recorded by name in `_sqlite_migrations`, so re-running is a no-op. Never
edit a migration that has shipped: add a new one below it.

All `*_at` columns are seconds since the epoch (REAL) from the store's clock. The DDL is plain
SQL with CHECK constraints, so a PostgreSQL store can reuse it almost as is (DESIGN.md, Scale).
"""

from __future__ import annotations

import re

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

MIGRATIONS = Migrations("tro-ly-tu-phap")

_INITIAL = [
    # One row per platform message: UNIQUE(platform, message_id) is what turns a platform retry
    # into an acknowledged no-op (style.md §7).
    """CREATE TABLE inbound (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        message_id TEXT NOT NULL,
        user_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        text TEXT NOT NULL DEFAULT '',
        payload TEXT,
        timestamp_ms INTEGER NOT NULL DEFAULT 0,
        received_at REAL NOT NULL,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'handled', 'failed')),
        error TEXT,
        handled_at REAL,
        UNIQUE (platform, message_id)
    )""",
    "CREATE INDEX inbound_pending ON inbound (id) WHERE status = 'pending'",
    """CREATE TABLE conversations (
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        state TEXT,
        updated_at REAL,
        last_inbound_at REAL,
        PRIMARY KEY (platform, user_id)
    )""",
    """CREATE TABLE outbox (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        body TEXT NOT NULL,
        seq INTEGER NOT NULL DEFAULT 0,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'sent', 'failed')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL NOT NULL,
        last_error TEXT,
        created_at REAL NOT NULL,
        sent_at REAL,
        inbound_id INTEGER REFERENCES inbound (id),
        source TEXT NOT NULL DEFAULT 'turn'
    )""",
    # Partial indexes: sent rows pile up forever, the pending ones stay few.
    "CREATE INDEX outbox_due ON outbox (next_attempt_at) WHERE status = 'pending'",
    "CREATE INDEX outbox_user ON outbox (platform, user_id, id) WHERE status = 'pending'",
    """CREATE TABLE unanswered (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        text TEXT NOT NULL,
        inbound_id INTEGER REFERENCES inbound (id),
        created_at REAL NOT NULL
    )""",
    """CREATE TABLE handoffs (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        created_at REAL NOT NULL,
        status TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'closed')),
        closed_at REAL
    )""",
    "CREATE INDEX handoffs_open ON handoffs (platform, user_id) WHERE status = 'open'",
    """CREATE TABLE kv (
        key TEXT PRIMARY KEY,
        value TEXT NOT NULL,
        updated_at REAL NOT NULL
    )""",
]


@MIGRATIONS(name="0001_initial")
def _initial(db: Database) -> None:
    for statement in _INITIAL:
        db.execute(statement)


_CASES = [
    # Dossiers imported from the one-stop system's export (issue 4). Only what the bot needs:
    # the owner's name masked, the last 4 digits of the phone number; dates as ISO text.
    """CREATE TABLE cases (
        code TEXT PRIMARY KEY,
        topic TEXT,
        procedure TEXT NOT NULL DEFAULT '',
        owner_masked TEXT NOT NULL DEFAULT '',
        phone_last4 TEXT NOT NULL,
        received TEXT,
        due TEXT,
        status TEXT NOT NULL,
        unit TEXT NOT NULL DEFAULT '',
        returned TEXT,
        note TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL
    )""",
    """CREATE TABLE case_history (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL,
        old_status TEXT,
        new_status TEXT NOT NULL,
        changed_at REAL NOT NULL
    )""",
    "CREATE INDEX case_history_code ON case_history (code, id)",
    """CREATE TABLE case_imports (
        id INTEGER PRIMARY KEY,
        source TEXT NOT NULL DEFAULT '',
        added INTEGER NOT NULL,
        updated INTEGER NOT NULL,
        unchanged INTEGER NOT NULL,
        rejected INTEGER NOT NULL,
        status_changes INTEGER NOT NULL,
        imported_at REAL NOT NULL
    )""",
    # The audit of every lookup, and the failure counter of the locks: no digits, no names.
    """CREATE TABLE case_lookups (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        code TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('found', 'no_match', 'locked')),
        at REAL NOT NULL
    )""",
    "CREATE INDEX case_lookups_sender ON case_lookups (platform, user_id, at)"
    " WHERE outcome = 'no_match'",
    "CREATE INDEX case_lookups_code ON case_lookups (code, at) WHERE outcome = 'no_match'",
    """CREATE TABLE case_locks (
        scope TEXT NOT NULL CHECK (scope IN ('sender', 'code')),
        key TEXT NOT NULL,
        until REAL NOT NULL,
        created_at REAL NOT NULL,
        PRIMARY KEY (scope, key)
    )""",
    """CREATE TABLE case_subscriptions (
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        code TEXT NOT NULL,
        lang TEXT NOT NULL DEFAULT 'vi',
        created_at REAL NOT NULL,
        active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
        PRIMARY KEY (platform, user_id, code)
    )""",
    "CREATE INDEX case_subscriptions_active ON case_subscriptions (code) WHERE active = 1",
    """CREATE TABLE case_notices (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL,
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        status TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('queued', 'undeliverable')),
        reason TEXT,
        created_at REAL NOT NULL
    )""",
]


@MIGRATIONS(name="0002_cases")
def _cases(db: Database) -> None:
    for statement in _CASES:
        db.execute(statement)


# "Proof under hostile input and faults", 7: a dossier is slowed down, not locked, by failed
# checks; the platform ids that found it before are exempt (found by this index); staff can
# forgive its failed checks, each time recorded here.
_CASE_THROTTLE = [
    "CREATE INDEX case_lookups_found ON case_lookups (code, platform, user_id)"
    " WHERE outcome = 'found'",
    """CREATE TABLE case_unlocks (
        id INTEGER PRIMARY KEY,
        code TEXT NOT NULL,
        by TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        forgiven INTEGER NOT NULL,
        at REAL NOT NULL
    )""",
    "CREATE INDEX case_unlocks_code ON case_unlocks (code, at)",
]


@MIGRATIONS(name="0003_case_lookup_throttle")
def _case_throttle(db: Database) -> None:
    for statement in _CASE_THROTTLE:
        db.execute(statement)


_PRIVACY = [
    # The retention purge deletes old inbound rows (bot/store/privacy.py). With foreign keys on,
    # SQLite looks up each deleted row's children: without these indexes, one scan of the
    # outbox and one of unanswered PER DELETED MESSAGE.
    "CREATE INDEX outbox_inbound ON outbox (inbound_id)",
    "CREATE INDEX unanswered_inbound ON unanswered (inbound_id)",
]


@MIGRATIONS(name="0004_privacy")
def _privacy(db: Database) -> None:
    for statement in _PRIVACY:
        db.execute(statement)


# The staff dashboard (issue 11): accounts, their browser sessions, login attempts (for the
# throttling) and the audit log of what staff do. A session token and a password are never
# stored: only the token's SHA-256 and the password's argon2 hash.
_STAFF = [
    """CREATE TABLE staff_users (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL UNIQUE,
        role TEXT NOT NULL CHECK (role IN ('viewer', 'editor', 'admin')),
        password_hash TEXT NOT NULL,
        created_at REAL NOT NULL,
        disabled INTEGER NOT NULL DEFAULT 0 CHECK (disabled IN (0, 1))
    )""",
    """CREATE TABLE staff_sessions (
        token_hash TEXT PRIMARY KEY,
        user_id INTEGER NOT NULL REFERENCES staff_users (id) ON DELETE CASCADE,
        created_at REAL NOT NULL,
        last_seen_at REAL NOT NULL,
        expires_at REAL NOT NULL,
        csrf_secret TEXT NOT NULL
    )""",
    "CREATE INDEX staff_sessions_user ON staff_sessions (user_id)",
    """CREATE TABLE staff_login_attempts (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        address TEXT NOT NULL,
        outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'failed', 'throttled')),
        at REAL NOT NULL
    )""",
    "CREATE INDEX staff_login_failures_name ON staff_login_attempts (name, at)"
    " WHERE outcome = 'failed'",
    "CREATE INDEX staff_login_failures_address ON staff_login_attempts (address, at)"
    " WHERE outcome = 'failed'",
    """CREATE TABLE staff_audit (
        id INTEGER PRIMARY KEY,
        at REAL NOT NULL,
        actor TEXT NOT NULL,
        action TEXT NOT NULL,
        target TEXT NOT NULL DEFAULT '',
        before TEXT,
        after TEXT,
        address TEXT NOT NULL DEFAULT ''
    )""",
]


@MIGRATIONS(name="0005_staff")
def _staff(db: Database) -> None:
    for statement in _STAFF:
        db.execute(statement)


# The review inbox (issue 11, "Learning from misses"): the `unanswered` table keeps every miss,
# not only the fallbacks: its kind, the normalised text the inbox groups by, what the matcher
# guessed, and what staff did with it. Rows from before keep kind 'fallback' and an empty
# normalised text (grouped by their folded text). Retention is unchanged: `retain_review_days`
# and forgetting a user cover every row (bot/store/privacy.py).
_REVIEW = [
    "ALTER TABLE unanswered ADD COLUMN kind TEXT NOT NULL DEFAULT 'fallback'"
    " CHECK (kind IN ('fallback', 'clarify', 'handoff'))",
    "ALTER TABLE unanswered ADD COLUMN normalised TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE unanswered ADD COLUMN guess TEXT",
    # JSON: [[topic id, score], ...], best first.
    "ALTER TABLE unanswered ADD COLUMN candidates TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE unanswered ADD COLUMN status TEXT NOT NULL DEFAULT 'open'"
    " CHECK (status IN ('open', 'taught', 'out_of_scope', 'dismissed'))",
    "ALTER TABLE unanswered ADD COLUMN resolved_at REAL",
    "ALTER TABLE unanswered ADD COLUMN resolved_by TEXT",
    "CREATE INDEX unanswered_open ON unanswered (id) WHERE status = 'open'",
    # A question dismissed or marked out of scope stays hidden when asked again (messages.py).
    "CREATE INDEX unanswered_decided ON unanswered (normalised, id)"
    " WHERE status IN ('dismissed', 'out_of_scope')",
]


@MIGRATIONS(name="0006_review")
def _review(db: Database) -> None:
    for statement in _REVIEW:
        db.execute(statement)


# Commune clerks (issue 12): the registry of the communes' officers, and one row per notice and
# recipient. UNIQUE (event, recipient) is the once-only rule: a notice or a digest queued again
# (a re-run, a restart, a catch-up) adds nothing. The trigger copies each outbox outcome onto
# its notice, so what was sent survives the outbox's own purge of sent rows.
_CLERKS = [
    """CREATE TABLE clerks (
        id INTEGER PRIMARY KEY,
        name TEXT NOT NULL,
        commune TEXT NOT NULL,
        platform TEXT NOT NULL CHECK (platform IN ('zalo', 'facebook')),
        user_id TEXT NOT NULL,
        phone TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL,
        updated_at REAL NOT NULL,
        UNIQUE (platform, user_id)
    )""",
    "CREATE INDEX clerks_commune ON clerks (commune)",
    """CREATE TABLE notifications (
        id INTEGER PRIMARY KEY,
        event TEXT NOT NULL,
        recipient TEXT NOT NULL,
        label TEXT NOT NULL,
        platform TEXT NOT NULL,
        address TEXT NOT NULL,
        text TEXT NOT NULL,
        outbox_id INTEGER,
        status TEXT NOT NULL DEFAULT 'pending'
            CHECK (status IN ('pending', 'sent', 'failed')),
        error TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        created_at REAL NOT NULL,
        finished_at REAL,
        UNIQUE (event, recipient)
    )""",
    "CREATE INDEX notifications_outbox ON notifications (outbox_id) WHERE outbox_id IS NOT NULL",
    "CREATE INDEX notifications_created ON notifications (created_at)",
    """CREATE TRIGGER outbox_to_notification AFTER UPDATE OF status, last_error ON outbox
    BEGIN
        UPDATE notifications SET status = NEW.status, error = NEW.last_error,
            attempts = NEW.attempts, finished_at = NEW.sent_at
        WHERE outbox_id = NEW.id;
    END""",
]


@MIGRATIONS(name="0007_clerks")
def _clerks(db: Database) -> None:
    for statement in _CLERKS:
        db.execute(statement)


# Human handoff (issue 11): why a handoff opened, who took it over and when staff last wrote
# (the timeout runs from the later of its opening and that), who closed it, and whether the
# Messenger thread was passed to the Page Inbox (to be taken back on close). Staff replies are
# outbox rows with source 'staff'. Ended handoffs are 'closed' whoever ended them.
_HANDOFF = [
    "ALTER TABLE handoffs ADD COLUMN reason TEXT NOT NULL DEFAULT 'asked'"
    " CHECK (reason IN ('asked', 'misses'))",
    "ALTER TABLE handoffs ADD COLUMN assignee TEXT",
    "ALTER TABLE handoffs ADD COLUMN taken_at REAL",
    "ALTER TABLE handoffs ADD COLUMN staff_at REAL",
    "ALTER TABLE handoffs ADD COLUMN closed_by TEXT",
    "ALTER TABLE handoffs ADD COLUMN thread_passed INTEGER NOT NULL DEFAULT 0"
    " CHECK (thread_passed IN (0, 1))",
    # The conversation page reads one user's messages and replies, newest first.
    "CREATE INDEX inbound_user ON inbound (platform, user_id, id)",
    "CREATE INDEX outbox_user_all ON outbox (platform, user_id, id)",
]


@MIGRATIONS(name="0008_handoff")
def _handoff(db: Database) -> None:
    for statement in _HANDOFF:
        db.execute(statement)


# Ratings (issue 11): one row per 👍 / 👎 a citizen gave an answer: which topic and facet,
# the platform id of the message the rated answer replied to, who and when. Kept, and deleted
# with its user, as the review inbox's misses are (`retain_review_days`, bot/store/privacy.py).
# A 👎 also keeps its question in the inbox, as the new miss kind 'rated_down': SQLite cannot
# change a CHECK in place, so `unanswered` is rebuilt with its stored DDL (whatever earlier
# migrations added to it) and only the kind list widened (sqlite.org/lang_altertable.html,
# "Making Other Kinds Of Table Schema Changes").
_RATINGS = [
    """CREATE TABLE ratings (
        id INTEGER PRIMARY KEY,
        platform TEXT NOT NULL,
        user_id TEXT NOT NULL,
        score TEXT NOT NULL CHECK (score IN ('up', 'down')),
        topic TEXT NOT NULL,
        facet TEXT,
        message_id TEXT NOT NULL DEFAULT '',
        created_at REAL NOT NULL
    )""",
    "CREATE INDEX ratings_created ON ratings (created_at)",
    "CREATE INDEX ratings_user ON ratings (platform, user_id)",
]
_KIND_CHECK = re.compile(r"(CHECK\s*\(\s*kind\s+IN\s*\()([^)]*)(\))", re.IGNORECASE)


def _widen_kinds(db: Database, table: str, kind: str) -> None:
    """Rebuild `table` with `kind` added to its `CHECK (kind IN (...))`, rows, indexes and
    triggers kept."""
    (ddl,) = db.execute(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", [table]
    ).fetchone()
    match = _KIND_CHECK.search(ddl)
    if match is None:
        raise RuntimeError(f"{table}: no CHECK (kind IN (...)) to widen")
    if f"'{kind}'" in match.group(2):
        return
    widened = _KIND_CHECK.sub(lambda m: f"{m.group(1)}{m.group(2)}, '{kind}'{m.group(3)}", ddl, 1)
    temporary = f"{table}_rebuilt"
    new_ddl = re.sub(
        rf"^CREATE TABLE\s+\"?{table}\"?", f"CREATE TABLE {temporary}", widened, count=1
    )
    extras = [
        sql
        for (sql,) in db.execute(
            "SELECT sql FROM sqlite_master WHERE tbl_name = ? AND type IN ('index', 'trigger')"
            " AND sql IS NOT NULL",
            [table],
        ).fetchall()
    ]
    columns = ", ".join(f'"{row[1]}"' for row in db.execute(f"PRAGMA table_info({table})"))
    db.execute(new_ddl)
    db.execute(f"INSERT INTO {temporary} ({columns}) SELECT {columns} FROM {table}")
    db.execute(f"DROP TABLE {table}")
    db.execute(f"ALTER TABLE {temporary} RENAME TO {table}")
    for sql in extras:
        db.execute(sql)


@MIGRATIONS(name="0009_ratings")
def _ratings(db: Database) -> None:
    for statement in _RATINGS:
        db.execute(statement)
    _widen_kinds(db, "unanswered", "rated_down")


# The overview's answer rate (issue 11): a message a citizen sent while staff had the
# conversation (a handoff in force, or Messenger's standby while the Page Inbox owns the
# thread) is handled without a word from the bot. Marked, so it counts as "to staff" and not
# as answered. Rows from before stay 0.
_TO_STAFF = ["ALTER TABLE inbound ADD COLUMN to_staff INTEGER NOT NULL DEFAULT 0"]


@MIGRATIONS(name="0010_to_staff")
def _to_staff(db: Database) -> None:
    for statement in _TO_STAFF:
        db.execute(statement)
