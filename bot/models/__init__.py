"""The bottom layer: plain frozen values every other layer shares, and nothing else.

No I/O and no logic beyond a value's own invariants. The store saves these, the core computes
with them, the edge turns platform payloads into them. One module per family, all re-exported
here: import them from `bot.models`.
"""

from bot.models.cases import (
    CASE_TOPIC,
    CLOSED,
    FINISHED,
    MAX_CODE_CHARS,
    OPEN,
    SUBSCRIBE,
    Case,
    CaseStatus,
    LookupOutcome,
    LookupRequest,
    LookupResult,
    Subscriber,
    digits_match,
    normalise_code,
)
from bot.models.conversation import CaseStep, State, TurnKind
from bot.models.matching import Candidate, Decision, Match
from bot.models.messages import (
    FACETS,
    EventKind,
    Incoming,
    Lang,
    Outgoing,
    Platform,
    QuickReply,
    Reply,
    SendResult,
)
from bot.models.topics import FILED, TopicKind

__all__ = [
    "CASE_TOPIC",
    "CLOSED",
    "FACETS",
    "FILED",
    "FINISHED",
    "MAX_CODE_CHARS",
    "OPEN",
    "SUBSCRIBE",
    "Candidate",
    "Case",
    "CaseStatus",
    "CaseStep",
    "Decision",
    "EventKind",
    "Incoming",
    "Lang",
    "LookupOutcome",
    "LookupRequest",
    "LookupResult",
    "Match",
    "Outgoing",
    "Platform",
    "QuickReply",
    "Reply",
    "SendResult",
    "State",
    "Subscriber",
    "TopicKind",
    "TurnKind",
    "digits_match",
    "normalise_code",
]
