"""A citizen's rating of an answer (issue 11, "Learning from misses"): 👍 or 👎, as the turn
notes it and as the store keeps it.

The bot offers the two quick replies after some topic answers (`rating_every` in config.yaml);
the choice comes back as the payload `RATE:up` or `RATE:down` (on Zalo a typed option number,
which the dialog maps to the payload), or as a typed 👍 / 👎 right after an offer.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

RATE = "RATE"  # the payloads' prefix: RATE:up, RATE:down


class Score(StrEnum):
    UP = "up"  # 👍 the answer helped
    DOWN = "down"  # 👎 it did not


def rate_payload(score: Score) -> str:
    return f"{RATE}:{score.value}"


@dataclass(frozen=True, slots=True)
class Rating:
    """One rating: `score` of the answer about `topic` (its facet `facet` first, None for the
    topic's card) that replied to the platform message `message_id`. `question` is the citizen's
    own words that led to it, '' when the answer was reached by buttons only."""

    score: Score
    topic: str
    facet: str | None
    message_id: str
    question: str = ""


@dataclass(frozen=True, slots=True)
class DayRatings:
    """One office day's ratings (`day` as YYYY-MM-DD)."""

    day: str
    up: int
    down: int


@dataclass(frozen=True, slots=True)
class TopicRatings:
    """One topic's ratings over a window."""

    topic: str
    up: int
    down: int
