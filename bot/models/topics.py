"""The kinds of knowledge-base topic: how each is answered and where its file lives."""

from __future__ import annotations

from enum import StrEnum


class TopicKind(StrEnum):
    PROCEDURE = "procedure"  # an administrative procedure: the six facets
    INFO = "info"  # general information
    CASE = "case"  # the dossier status lookup: its answer asks for the dossier code
    HANDOFF = "handoff"  # a person takes over
    REFERRAL = "referral"  # another agency handles it: whom to ask
    SMALLTALK = "smalltalk"  # greetings, thanks
    OUTOFSCOPE = "outofscope"  # recognised, but not the Department's: said so politely
    FAMILY = "family"  # a group of variant procedures: a card with a menu of its members


# Kinds whose topics name one procedure a dossier can be filed for.
FILED = frozenset({TopicKind.PROCEDURE, TopicKind.REFERRAL})
