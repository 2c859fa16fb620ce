"""Human handoff (issue 11) as values: a conversation handed to staff, and its messages.

While a handoff is open and not timed out the bot answers nothing to that citizen: staff do,
from the dashboard. It ends when staff close it (on the dashboard, or on Messenger in Meta's
Page Inbox, which passes the thread back), when the citizen asks for the bot again, or
`timeout` seconds after the later of its opening and staff's last reply.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.models.messages import Platform

# The payload of the button that ends a handoff from the citizen's side ("back to the bot").
RESUME = "RESUME_BOT"


class HandoffReason(StrEnum):
    ASKED = "asked"  # "gặp cán bộ", its button (offered after a 👎 too)
    MISSES = "misses"  # misses in a row: messages the bot did not understand, 👎


class ClosedBy(StrEnum):
    """Who ended a handoff other than a member of staff (then it is their name)."""

    TIMEOUT = "timeout"
    CITIZEN = "citizen"
    # Staff marked it done in Meta's Page Inbox, which passed the Messenger thread back
    # (platforms.md §2.8): who did is not known here.
    PAGE_INBOX = "page_inbox"


@dataclass(frozen=True, slots=True)
class Handoff:
    """One handoff row. `assignee` took it over (None: nobody yet); `staff_at` is staff's last
    reply; `thread_passed`: the Messenger thread was passed to the Page Inbox."""

    id: int
    platform: Platform
    user_id: str
    created_at: float
    status: str  # open | closed
    reason: HandoffReason
    assignee: str | None
    taken_at: float | None
    staff_at: float | None
    closed_at: float | None
    closed_by: str | None
    thread_passed: bool

    @property
    def is_open(self) -> bool:
        return self.status == "open"

    def expires_at(self, timeout: float) -> float:
        """When the bot answers again by itself: `timeout` after the later of the opening and
        staff's last reply."""
        return max(self.created_at, self.staff_at or 0.0) + timeout

    def active(self, now: float, timeout: float) -> bool:
        return self.is_open and now < self.expires_at(timeout)


class Speaker(StrEnum):
    CITIZEN = "citizen"
    BOT = "bot"
    STAFF = "staff"


@dataclass(frozen=True, slots=True)
class Line:
    """One message of a conversation as staff read it: who wrote it, when, what; for a reply
    also its delivery status (pending | sent | failed) and why it failed."""

    speaker: Speaker
    at: float
    text: str
    status: str = ""
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Waiting:
    """A handoff in the queue, with the conversation's last lines."""

    handoff: Handoff
    lines: tuple[Line, ...]
    last_inbound_at: float | None
