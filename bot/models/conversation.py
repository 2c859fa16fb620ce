"""The conversation as values: what the bot remembers of one sender, and what kind a turn was.

Here, at the bottom, because the store saves `State` and the dialog steps it: neither may import
the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.models.messages import Lang


class CaseStep(StrEnum):
    """Where a dossier lookup stands in the conversation."""

    CODE = "code"  # waiting for a dossier code
    DIGITS = "digits"  # waiting for the last 4 digits of the phone number on `case_code`


class TurnKind(StrEnum):
    """What one turn did (`bot ask --json` reports some of these as its `kind`)."""

    ANSWER = "answer"
    FOLLOWUP = "followup"  # a facet about the current topic ("còn lệ phí thì sao?")
    CLARIFY = "clarify"  # asked which of two topics was meant
    FALLBACK = "fallback"  # not understood: kept for staff's review
    MENU = "menu"
    WELCOME = "welcome"
    ATTACHMENT = "attachment"  # asked politely for text
    HANDOFF = "handoff"
    LOOKUP = "lookup"  # a dossier check the caller must resolve against the store
    CASE = "case"  # a dossier's status, to its verified owner
    CASE_ASK = "case_ask"  # asked for a dossier code or the phone digits
    CASE_LOCKED = "case_locked"
    CASE_NOT_FOUND = "case_not_found"
    CASE_SUBSCRIBED = "case_subscribed"
    RATED = "rated"  # the citizen rated the last answer 👍 or 👎 (bot/rating.py)


@dataclass(frozen=True, slots=True)
class State:
    """What the bot remembers of one (platform, user) between messages."""

    topic: str | None = None
    lang: Lang = "vi"
    options: tuple[str, ...] = ()  # payloads offered last, so "2" can pick the second
    facets: tuple[str, ...] = ()  # facets asked when a choice was offered
    updated_ms: int = 0
    # Dossier lookup (issue 4): which answer the lookup waits for, the dossier code whose phone
    # digits it waits for; `case_verified` is the dossier this sender just proved to own, so
    # "notify me" may subscribe to it.
    case_step: CaseStep | None = None
    case_code: str | None = None
    case_verified: str | None = None
    # Messages in a row the bot did not understand (fallbacks): at MISSES_TO_HANDOFF the
    # conversation goes to staff (bot/dialog.py).
    misses: int = 0
    # Ratings (issue 11): topic answers given in this conversation (the offer's cadence); the
    # citizen's last typed question while the flow it started goes on (a 👎 sends it to the
    # review inbox); and the answer an offer of 👍 / 👎 is pending on (its topic, the facet it
    # answered first, the platform id of the message it replied to), for the next message only.
    answered: int = 0
    asked: str | None = None
    rating_topic: str | None = None
    rating_facet: str | None = None
    rating_of: str | None = None
    # The last message was a 👎: the next answer is offered 👍 / 👎 whatever the cadence, and a
    # second 👎 (or a message not understood) hands the conversation to staff (bot/dialog.py).
    disliked: bool = False
