"""Save and revert topic edits from the dashboard (issue 11): one at a time, checked and
written (`bot/staff/topic_edit.py`), the knowledge base reloaded at once so the next message
uses it, and each change audited with the file's text before and after, so that it can be
reverted from the audit page.

A revert puts back the text an audited knowledge change replaced (a topic edit, a revert, or a
phrasing taught from the review inbox), with the same checks and version rule: refused when the
file is no longer what that change wrote. It is audited in turn (and so can be reverted too).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from bot.bundle import Bundle
from bot.knowledge import KnowledgeBase, KnowledgeError, Problem
from bot.models.staff import AuditEntry
from bot.staff.topic_edit import (
    Checked,
    EditRefused,
    Refusal,
    check_edit,
    check_restore,
    stray_refusals,
    version_of,
    write,
)
from bot.staff.topic_form import TopicForm
from bot.staff.topic_yaml import read_form
from bot.store import Store

EDIT = "topic.edit"
REVERT = "topic.revert"
# The audited changes a revert can undo: each keeps the file's text before and after.
REVERTIBLE = frozenset((EDIT, REVERT, "review.teach", "review.out_of_scope"))

Reload = Callable[[], Awaitable[Bundle]]
# The phrasings of a topic the matcher does not send to it (`bot.lint.stray_phrasings`).
Lint = Callable[[KnowledgeBase, str], list[Problem]]


class Result(StrEnum):
    DONE = "done"
    UNCHANGED = "unchanged"  # the form changed nothing: nothing written or audited
    INVALID = "invalid"  # refused by the checks; nothing written
    CONFLICT = "conflict"  # the file changed since; nothing written
    GONE = "gone"  # no such audit entry, or not a revertible one


@dataclass(frozen=True, slots=True)
class Saved:
    result: Result
    refusals: tuple[Refusal, ...] = ()
    version: str | None = None  # the file's new version
    knowledge_version: str | None = None  # the reloaded knowledge base's, None if not reloaded
    reload_problems: tuple[str, ...] = ()  # written, but the reload failed: why


def revertible(entry: AuditEntry) -> bool:
    """Whether the audit line is a knowledge change a revert can undo."""
    return entry.action in REVERTIBLE and _texts(entry) is not None


def _texts(entry: AuditEntry) -> tuple[str, str, str] | None:
    """(file, text before, text after) of an audited knowledge change, when it kept them."""
    try:
        before, after = json.loads(entry.before or "null"), json.loads(entry.after or "null")
    except ValueError:
        return None
    if not isinstance(before, dict) or not isinstance(after, dict):
        return None
    name, old, new = after.get("file"), before.get("text"), after.get("text")
    if isinstance(name, str) and isinstance(old, str) and isinstance(new, str):
        return name, old, new
    return None


@dataclass
class TopicDesk:
    """Carries out topic saves and reverts, one at a time within this server."""

    root: Path
    store: Store
    reload: Reload
    # Run on an edit of the phrasings before it is written (it builds a matcher: seconds,
    # and a fit of the classifier when the phrasings changed, which the reload then reuses).
    lint: Lint | None = None
    # One knowledge edit at a time: the server shares the review desk's lock with this one.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def save(
        self,
        topic_id: str,
        form: TopicForm,
        version: str,
        actor: str,
        address: str,
        now: float,
    ) -> Saved:
        async with self.lock:
            try:
                checked = await asyncio.to_thread(check_edit, self.root, topic_id, form, version)
                if not checked.changed:
                    return Saved(Result.UNCHANGED, version=version)
                if self.lint is not None and "phrasings" in checked.changed:
                    problems = await asyncio.to_thread(self.lint, checked.kb, topic_id)
                    strays = stray_refusals(checked.kb, topic_id, problems)
                    if strays:
                        raise EditRefused(strays)
                await asyncio.to_thread(write, checked)
            except EditRefused as exc:
                return _refused(exc)
            saved = await self._reloaded(checked)
            old, new = form_values(checked)
            await self.store.record_audit(
                actor,
                EDIT,
                topic_id,
                now,
                before=_json(_side(checked.before.name, checked.before.text, old)),
                after=_json(_side(checked.before.name, checked.text, new, saved)),
                address=address,
            )
            return saved

    async def revert(self, entry_id: int, actor: str, address: str, now: float) -> Saved:
        async with self.lock:
            entry = await self.store.audit_entry(entry_id)
            texts = None if entry is None or not revertible(entry) else _texts(entry)
            if entry is None or texts is None:
                return Saved(Result.GONE)
            name, old, new = texts
            try:
                checked = await asyncio.to_thread(check_restore, self.root, name, new, old)
                await asyncio.to_thread(write, checked)
            except EditRefused as exc:
                return _refused(exc)
            saved = await self._reloaded(checked)
            after = _side(name, old, {}, saved) | {"reverts": entry.id}
            await self.store.record_audit(
                actor,
                REVERT,
                entry.target,
                now,
                before=_json(_side(name, new, {})),
                after=_json(after),
                address=address,
            )
            return saved

    async def _reloaded(self, checked: Checked) -> Saved:
        try:
            bundle = await self.reload()
        except KnowledgeError as exc:
            # Written but not loaded (the folder changed under us): the old bundle answers,
            # the knowledge page and /healthz list the problems.
            problems = tuple(str(p) for p in exc.problems)
            return Saved(Result.DONE, version=checked.version, reload_problems=problems)
        return Saved(Result.DONE, version=checked.version, knowledge_version=bundle.kb.version)


def form_values(checked: Checked) -> tuple[dict[str, str], dict[str, str]]:
    """The changed fields' values before and after, for the audit log."""
    old, new = read_form(checked.before.text).values(), read_form(checked.text).values()
    return (
        {name: old[name] for name in checked.changed},
        {name: new[name] for name in checked.changed},
    )


def _side(
    name: str, text: str, fields: Mapping[str, str], saved: Saved | None = None
) -> dict[str, Any]:
    side: dict[str, Any] = {"file": name, "version": version_of(text), "fields": dict(fields)}
    if saved is not None:
        side["knowledge_version"] = saved.knowledge_version
    side["text"] = text
    return side


def _refused(exc: EditRefused) -> Saved:
    result = Result.CONFLICT if exc.conflict else Result.INVALID
    return Saved(result, tuple(exc.refusals))


def _json(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
