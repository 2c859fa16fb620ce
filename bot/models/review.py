"""The review inbox's values (issue 11, "Learning from misses"): a message the bot did not
answer outright, as the turn notes it and as the store keeps it.

A miss is a fallback (not understood), an ask-back (clarify), a request for staff (handoff) or
an answer the citizen rated 👎 (rated_down: the question that got it, bot/models/rating.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class MissKind(StrEnum):
    FALLBACK = "fallback"  # not understood: the honest "not understood" answer
    CLARIFY = "clarify"  # asked which of two or three topics was meant
    HANDOFF = "handoff"  # handed to staff
    RATED_DOWN = "rated_down"  # answered, and the citizen rated the answer 👎


class MissStatus(StrEnum):
    """What staff did with a miss; only `open` ones are shown in the inbox."""

    OPEN = "open"
    TAUGHT = "taught"  # added as a phrasing of a topic
    OUT_OF_SCOPE = "out_of_scope"  # added as a phrasing of `ngoai-pham-vi`
    DISMISSED = "dismissed"


@dataclass(frozen=True, slots=True)
class Miss:
    """What a turn notes for staff: its kind, the text normalised (`bot.text.tokens` joined by
    spaces), and what the matcher guessed: its topic (None when nothing came close) and the
    candidates it weighed, best first, as (topic id, score). `text` is the citizen's text to
    keep when it is not the turn's own message: a 👎 keeps the question that got the answer."""

    kind: MissKind
    normalised: str
    guess: str | None = None
    candidates: tuple[tuple[str, float], ...] = ()
    text: str | None = None


@dataclass(frozen=True, slots=True)
class MissRow:
    """A miss as stored: who sent it is kept (for forgetting a user) but never shown."""

    id: int
    kind: MissKind
    platform: str
    text: str
    normalised: str
    guess: str | None
    candidates: tuple[tuple[str, float], ...]
    created_at: float
