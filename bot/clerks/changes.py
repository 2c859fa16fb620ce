"""What a knowledge reload changed in the procedures, and the clerks' announcement of it.

Pure: two KnowledgeBase values in, a ChangeSet out, and its Vietnamese text. Only procedures
count (the topics with fees, documents and time limits that clerks apply); of a procedure only
its facets (documents, fee, time, where, online, who) in Vietnamese: a new phrasing taught from
the review inbox, an English wording or a summary are no news to a clerk. A procedure's
`updated` date, when given, is announced as the date the change applies from.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from bot.cases.dates import format_date
from bot.knowledge import BotTexts, KnowledgeBase, Topic
from bot.models import FACETS, TopicKind

MAX_LINES = 30  # procedures listed per section; the rest are counted


@dataclass(frozen=True, slots=True)
class TopicChange:
    """A procedure that is in both versions, and the facets whose Vietnamese text changed."""

    id: str
    name: str
    facets: tuple[str, ...]
    updated: dt.date | None


@dataclass(frozen=True, slots=True)
class ChangeSet:
    """The procedures added, removed (id, Vietnamese name) and changed by one new version."""

    version: str
    added: tuple[tuple[str, str], ...] = ()
    removed: tuple[tuple[str, str], ...] = ()
    changed: tuple[TopicChange, ...] = ()

    @property
    def empty(self) -> bool:
        return not (self.added or self.removed or self.changed)


def _procedures(kb: KnowledgeBase) -> dict[str, Topic]:
    return {tid: t for tid, t in kb.topics.items() if t.kind is TopicKind.PROCEDURE}


def _facet_vi(topic: Topic, facet: str) -> str | None:
    text = topic.facets.get(facet)
    return None if text is None else text.vi.strip()


def diff(old: KnowledgeBase, new: KnowledgeBase) -> ChangeSet:
    """The procedures `new` adds, removes and changes (facets, in FACETS order) against `old`."""
    before, after = _procedures(old), _procedures(new)
    added = tuple((tid, after[tid].name.vi) for tid in sorted(after.keys() - before.keys()))
    removed = tuple((tid, before[tid].name.vi) for tid in sorted(before.keys() - after.keys()))
    changed = []
    for tid in sorted(before.keys() & after.keys()):
        facets = tuple(f for f in FACETS if _facet_vi(before[tid], f) != _facet_vi(after[tid], f))
        if facets:
            topic = after[tid]
            changed.append(TopicChange(tid, topic.name.vi, facets, topic.updated))
    return ChangeSet(new.version, added, removed, tuple(changed))


def _label(texts: BotTexts, facet: str) -> str:
    label = texts.facet_labels.get(facet)
    return facet if label is None else label.vi


def _section(title: str, lines: list[str]) -> str:
    shown = lines[:MAX_LINES]
    if len(lines) > MAX_LINES:
        shown.append(f"… và {len(lines) - MAX_LINES} thủ tục khác.")
    return "\n".join([title, *shown])


def announcement_text(changes: ChangeSet, texts: BotTexts) -> str:
    """What the clerks read: which procedures changed and in what (Vietnamese)."""
    parts = ["Sở Tư pháp thông báo: thông tin thủ tục hành chính trên Trợ lý Tư pháp vừa được"
             " cập nhật."]  # fmt: skip
    if changes.changed:
        lines = []
        for c in changes.changed:
            what = ", ".join(_label(texts, f).lower() for f in c.facets)
            since = "" if c.updated is None else f" (áp dụng từ ngày {format_date(c.updated)})"
            lines.append(f"• {c.name}: thay đổi {what}{since}")
        parts.append(_section(f"Thủ tục có thay đổi ({len(changes.changed)}):", lines))
    if changes.added:
        lines = [f"• {name}" for _, name in changes.added]
        parts.append(_section(f"Thủ tục mới được bổ sung ({len(changes.added)}):", lines))
    if changes.removed:
        lines = [f"• {name}" for _, name in changes.removed]
        parts.append(_section(f"Thủ tục không còn được hướng dẫn ({len(changes.removed)}):", lines))
    parts.append("Đề nghị Anh/chị lưu ý khi hướng dẫn người dân.")
    return "\n\n".join(parts)
