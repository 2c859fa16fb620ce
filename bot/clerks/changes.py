"""What a knowledge reload changed in the procedures, and the clerks' announcement of it.

Pure: two knowledge versions in, a ChangeSet out, and its Vietnamese text. A version is read
as a `Facts` (what clerks are told of each procedure), which is small and JSON-serialisable: the
facts of the last announced version are kept in the store, so that an edit made while the
server was down is announced at its next start (bot/clerks/alerts.py). Only procedures
count (the topics with fees, documents and time limits that clerks apply); of a procedure only
its facets (documents, fee, time, where, online, who) in Vietnamese: a new phrasing taught from
the review inbox, an English wording or a summary are no news to a clerk. A procedure's
`updated` date, when given, is announced as the date the change applies from.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass

from bot.cases.dates import format_date
from bot.knowledge import BotTexts, KnowledgeBase
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


@dataclass(frozen=True, slots=True)
class Procedure:
    """What clerks are told of one procedure: its name and facets in Vietnamese, its date."""

    name: str
    facets: Mapping[str, str]
    updated: dt.date | None = None


@dataclass(frozen=True, slots=True)
class Facts:
    """The procedures of one knowledge version, by topic id."""

    version: str
    procedures: Mapping[str, Procedure]


def facts(kb: KnowledgeBase) -> Facts:
    """The procedures of `kb` as clerks see them (Vietnamese facets only)."""
    return Facts(
        kb.version,
        {
            tid: Procedure(
                t.name.vi, {f: text.vi.strip() for f, text in t.facets.items()}, t.updated
            )
            for tid, t in kb.topics.items()
            if t.kind is TopicKind.PROCEDURE
        },
    )


def facts_json(value: Facts) -> str:
    procedures = {
        tid: {
            "name": p.name,
            "facets": dict(p.facets),
            "updated": None if p.updated is None else p.updated.isoformat(),
        }
        for tid, p in value.procedures.items()
    }
    return json.dumps({"version": value.version, "procedures": procedures}, ensure_ascii=False)


def parse_facts(text: str | None) -> Facts | None:
    """The facts `facts_json` wrote; None for none or for what it cannot read (a baseline
    is then recorded again rather than announcing a guess)."""
    if not text:
        return None
    try:
        data = json.loads(text)
        return Facts(
            str(data["version"]),
            {
                str(tid): Procedure(
                    str(p["name"]),
                    {str(f): str(v) for f, v in p["facets"].items()},
                    None if p["updated"] is None else dt.date.fromisoformat(p["updated"]),
                )
                for tid, p in data["procedures"].items()
            },
        )
    except (ValueError, KeyError, TypeError, AttributeError):
        return None


def diff_facts(old: Facts, new: Facts) -> ChangeSet:
    """The procedures `new` adds, removes and changes (facets, in FACETS order) against `old`."""
    before, after = old.procedures, new.procedures
    added = tuple((tid, after[tid].name) for tid in sorted(after.keys() - before.keys()))
    removed = tuple((tid, before[tid].name) for tid in sorted(before.keys() - after.keys()))
    changed = []
    for tid in sorted(before.keys() & after.keys()):
        was, now = before[tid].facets, after[tid].facets
        facets = tuple(f for f in FACETS if was.get(f) != now.get(f))
        if facets:
            changed.append(TopicChange(tid, after[tid].name, facets, after[tid].updated))
    return ChangeSet(new.version, added, removed, tuple(changed))


def diff(old: KnowledgeBase, new: KnowledgeBase) -> ChangeSet:
    """The procedures `new` adds, removes and changes against `old`."""
    return diff_facts(facts(old), facts(new))


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
