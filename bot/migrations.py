"""The database schema, as an ordered list of sqlite-utils migrations.

`MIGRATIONS.apply(db)` runs on every `Store.open`: each migration runs once, in its own
transaction, and is recorded by name in `_sqlite_migrations`, so re-running is a no-op. Never
edit a migration that has shipped: add a new one below it.

All `*_at` columns are seconds since the epoch (REAL) from the store's clock. The DDL is plain
SQL with CHECK constraints, so a PostgreSQL store can reuse it almost as is (DESIGN.md, Scale).
"""

from __future__ import annotations

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
