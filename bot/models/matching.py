"""What the matcher understood of one message: the decision, the topic and its runners-up."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from bot.models.messages import Lang


class Decision(StrEnum):
    ACCEPT = "accept"  # answer `topic`
    CLARIFY = "clarify"  # ask which of `candidates` was meant
    NONE = "none"  # out of scope or not understood


@dataclass(frozen=True, slots=True)
class Candidate:
    topic: str
    score: float


@dataclass(frozen=True, slots=True)
class Match:
    """What the matcher understood of one message. `score` is in [0, 1]."""

    decision: Decision
    topic: str | None
    score: float
    candidates: tuple[Candidate, ...]
    facets: tuple[str, ...]
    lang: Lang
