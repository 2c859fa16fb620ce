"""Staff of the dashboard (issue 11) as values: roles, accounts, sessions, the audit log, and
the overview's figures.

Plain values only: the store saves and reads them, `bot/staff/` applies the policies (password
hashing, expiry, throttling), the edge renders them.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a member of staff may do, each role including the ones below it."""

    VIEWER = "viewer"  # reads the dashboard
    EDITOR = "editor"  # also changes the knowledge base and works the review inbox
    ADMIN = "admin"  # also reads the audit log and manages accounts

    @property
    def rank(self) -> int:
        return _RANKS[self]

    def allows(self, least: Role) -> bool:
        """Whether this role may do what needs at least `least`."""
        return self.rank >= least.rank


_RANKS = {Role.VIEWER: 0, Role.EDITOR: 1, Role.ADMIN: 2}


class StaffNameTakenError(Exception):
    """An account of that name exists already."""


@dataclass(frozen=True, slots=True)
class StaffUser:
    """One staff account. `password_hash` is an argon2 PHC string, never a password."""

    id: int
    name: str
    role: Role
    password_hash: str
    created_at: float
    disabled: bool


@dataclass(frozen=True, slots=True)
class StaffSession:
    """A signed-in browser: the session row and the account it belongs to."""

    user_id: int
    name: str
    role: Role
    created_at: float
    last_seen_at: float
    expires_at: float  # the absolute end; the idle end is last_seen_at + the idle setting
    csrf_secret: str


@dataclass(frozen=True, slots=True)
class AuditEntry:
    """One line of the audit log: who did what to what, when, and the state before and after
    (JSON text, or None when not applicable)."""

    id: int
    at: float
    actor: str
    action: str
    target: str
    before: str | None
    after: str | None
    address: str


@dataclass(frozen=True, slots=True)
class FailureCounts:
    """Failed logins within the throttling window, per account name and per client address."""

    by_name: int
    by_address: int


# -- the overview --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DayCount:
    """Messages received on one office day (UTC+7, ISO date) from one channel."""

    day: str
    platform: str
    count: int


@dataclass(frozen=True, slots=True)
class Outcomes:
    """What became of the messages handled since a moment, as far as the store records it:
    every handled message, those logged as not understood, the handoffs opened, the messages
    the bot asked back about."""

    handled: int
    missed: int
    handed_over: int
    clarified: int = 0  # asked which topic was meant (kept since the review inbox)
    to_staff: int = 0  # written to staff while they had the conversation: the bot kept quiet

    @property
    def answered(self) -> int:
        """Handled messages that were neither missed, asked back, handed over nor kept for
        staff: answers, follow-ups, menu choices, replies to ratings and dossier look-ups."""
        rest = self.handled - self.missed - self.clarified - self.handed_over - self.to_staff
        return max(0, rest)


@dataclass(frozen=True, slots=True)
class ReplyTimes:
    """Seconds from receiving a message to its first reply being delivered (nearest rank);
    None when no message has both."""

    count: int
    median: float | None
    p95: float | None


@dataclass(frozen=True, slots=True)
class Coverage:
    """The oldest records still stored (store clock), None when none: the retention purge
    deletes messages and replies after a few days, so the overview says how far back it sees."""

    oldest_message_at: float | None
    oldest_reply_at: float | None
    oldest_missed_at: float | None


@dataclass(frozen=True, slots=True)
class StaffPolicy:
    """The dashboard's session and login rules, from settings (README, "Staff dashboard")."""

    idle_seconds: float = 30 * 60
    absolute_seconds: float = 12 * 3600
    max_failures: int = 5  # failed logins per name, and per client address, within the window
    window_seconds: float = 15 * 60
