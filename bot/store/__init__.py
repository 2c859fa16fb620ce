"""The only package that speaks SQL: inbound messages, conversation state, the outbox, a kv
table and the dossier tables, as one async `Store` over sqlite-utils.

`Store` is composed of one mixin per concept, each in its own module over the same `Engine`:

- `engine`: the connection, the ONE store thread, group commits, open/close, migrations call;
- `messages`: inbound messages and conversations (the idempotency gate, the turn);
- `outbox`: replies and notices to send, claimed under a lease (at-least-once delivery);
- `kv`: small persistent settings;
- `cases`: dossiers (import, lookups and locks, subscriptions, notices);
- `privacy`: personal data: the retention purge, forgetting one user;
- `staff`: staff accounts, their sessions, login attempts and the audit log (issue 11);
- `stats`: the staff overview's figures;
- `review`: the review inbox's misses and staff's decisions on them;
- `ratings`: citizens' 👍 / 👎 of answers, counted for the overview;
- `clerks`: the commune clerks' registry and the notices sent to them (issue 12);
- `handoffs`: conversations handed to staff, their queue, staff replies (issue 11);
- `migrations`: the schema.

Import the public names from here (`from bot.store import Store`), not from the modules: the
split is an implementation detail. Nothing outside this package may run SQL (DESIGN.md).
"""

from __future__ import annotations

from bot.store.cases import Cases, ImportCounts, Notify
from bot.store.clerks import ClerkCounts, Clerks, QueuedCounts
from bot.store.engine import BUSY_TIMEOUT_MS, MAX_ERROR_CHARS, SYNCHRONOUS, Clock, StoreClosedError
from bot.store.handoffs import Handoffs
from bot.store.kv import KeyValues
from bot.store.messages import Messages
from bot.store.outbox import Outbox, OutboxRecord, OutboxRow
from bot.store.privacy import Privacy
from bot.store.ratings import Ratings
from bot.store.review import Review
from bot.store.staff import Staff
from bot.store.stats import Stats

__all__ = [
    "BUSY_TIMEOUT_MS",
    "MAX_ERROR_CHARS",
    "SYNCHRONOUS",
    "ClerkCounts",
    "Clock",
    "ImportCounts",
    "Notify",
    "OutboxRecord",
    "OutboxRow",
    "QueuedCounts",
    "Store",
    "StoreClosedError",
]


class Store(
    Messages, Outbox, KeyValues, Cases, Privacy, Staff, Stats, Review, Ratings, Clerks, Handoffs
):
    """Async domain methods over SQLite. Open with `await Store.open(path)`; `await close()`."""
