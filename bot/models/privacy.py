"""Personal data (Luật Bảo vệ dữ liệu cá nhân 2025; Nghị định 13/2023): how long each kind of
record is kept, and what a purge or a "forget this user" removed.

Plain values: `Settings.retention` builds a `Retention`, the store applies it and answers with a
`PurgeReport` or a `Forgotten`. The periods and their reasons are settings (bot/config.py) and
the README's "Personal data" section.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

HOUR = 3600.0
DAY = 24 * HOUR

# What a purge counts, in the order it reports them (README, "Personal data").
PURGED_KINDS: tuple[str, ...] = (
    "message_texts",  # handled messages whose text and payload were blanked
    "messages",  # message rows (the redelivery guard) deleted
    "states",  # saved conversation states cleared
    "conversations",  # users' last-contact rows deleted
    "outbox",  # sent or given-up replies deleted
    "unanswered",  # unanswered questions kept for staff, deleted
    "handoffs",  # requests for a member of staff, deleted
    "ratings",  # citizens' 👍 / 👎 of answers, deleted
    "lookups",  # dossier lookup audit rows deleted
    "notices",  # records of dossier notices deleted
    "clerk_notices",  # records of notices to commune clerks (sent or failed), deleted
    "locks",  # lookup locks long expired, deleted
    "subscriptions",  # ended subscriptions, and those of deleted dossiers
    "cases",  # closed dossiers (with their status history) deleted
)

# What "forget this user" deletes, in the order it reports them.
FORGOTTEN_KINDS: tuple[str, ...] = (
    "messages",
    "conversations",
    "outbox",
    "subscriptions",
    "lookups",
    "locks",
    "notices",
    "unanswered",
    "handoffs",
    "ratings",
    "clerks",
    "clerk_notices",
)


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each kind of record is kept, in seconds (all positive: nothing is kept forever).

    Ages run from the record's own time: a message from when it was received, a state from its
    last turn, a conversation from the user's last message, an outbox row from when it was
    queued, a lock from when it expired, a closed dossier from its last change.
    """

    message_text: float
    message: float
    state: float
    conversation: float
    outbox: float
    review: float
    audit: float
    closed_case: float
    # A handoff in force keeps its citizen's messages and replies beyond `message_text`,
    # `message` and `outbox`, for staff to read: `handoff_timeout_hours`, as its own timeout.
    handoff: float = 72 * HOUR


@dataclass(frozen=True, slots=True)
class PurgeReport:
    """One purge: when it ran (store clock), how long it took, rows removed per kind (see
    PURGED_KINDS) and the database pages given back to the file system."""

    at: float
    seconds: float
    rows: Mapping[str, int] = field(default_factory=dict)
    pages_freed: int = 0

    @property
    def total(self) -> int:
        return sum(self.rows.values())


@dataclass(frozen=True, slots=True)
class Forgotten:
    """What "forget this user" deleted: rows per kind (see FORGOTTEN_KINDS)."""

    rows: Mapping[str, int]

    @property
    def total(self) -> int:
        return sum(self.rows.values())
