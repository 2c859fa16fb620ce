"""The knowledge page's topics: each topic's open `verify` notes, whether it is past its
`review_by` date, its `updated` date; what staff should check next first.

Pure: the edge gives the knowledge base in service and today's date in Việt Nam.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.knowledge import KnowledgeBase, Topic, VerifyNote


@dataclass(frozen=True, slots=True)
class TopicStatus:
    id: str
    name: str
    kind: str
    file: str
    verify: tuple[VerifyNote, ...]
    review_by: dt.date | None
    past_review: bool
    updated: dt.date | None


def topic_statuses(kb: KnowledgeBase, today: dt.date) -> list[TopicStatus]:
    """Every topic, past its review date first, then the most `verify` notes, then the nearest
    review date (none last), then by id."""
    rows = [_status(topic, today) for topic in kb.topics.values()]
    rows.sort(
        key=lambda r: (
            not r.past_review,
            -len(r.verify),
            r.review_by is None,
            r.review_by or dt.date.max,
            r.id,
        )
    )
    return rows


def _status(topic: Topic, today: dt.date) -> TopicStatus:
    return TopicStatus(
        id=topic.id,
        name=topic.name.vi,
        kind=topic.kind.value,
        file=topic.source,
        verify=topic.verify,
        review_by=topic.review_by,
        past_review=topic.review_by is not None and topic.review_by < today,
        updated=topic.updated,
    )
