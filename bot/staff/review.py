"""The review inbox (issue 11, "Learning from misses"): the messages the bot did not answer
outright, grouped, and what staff decide for each group.

Grouping reads the newest `NEWEST` open misses. Misses with the same normalised text form one
group first; then a group joins an earlier (more frequent) one whose text is a near-duplicate
(rapidfuzz `token_set_ratio` >= `SIMILAR`), compared only within a bucket of the same first
content word, so the work stays near linear in the misses. Groups come most frequent first.

A decision names the group by its key, the inbox's snapshot (`upto`, the newest miss id shown)
and the group's count: the group is rebuilt from the same snapshot and the decision refused
when it changed (another member of staff decided first). Teaching adds the group's example as a
phrasing of a topic (`bot/staff/teach.py`) and reloads the knowledge base at once; marking it
out of scope does the same for `ngoai-pham-vi`; dismissing hides it. Each is audited.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from rapidfuzz import fuzz, process

from bot.bundle import Bundle
from bot.knowledge import KnowledgeError
from bot.models.review import MissRow, MissStatus
from bot.staff.teach import Taught, TeachError, plan_phrasing, write
from bot.store import Store
from bot.store.review import NEWEST
from bot.text import tokens

OUT_OF_SCOPE_TOPIC = "ngoai-pham-vi"
SIMILAR = 90  # token_set_ratio from which two wordings are one question
TOP_CANDIDATES = 3
EXAMPLES = 3

# Words a question often starts with that say nothing of its subject: they do not choose the
# bucket near-duplicates are looked for in.
_FILLERS = frozenset(
    tokens("cho em hỏi xin chào ad admin ơi anh chị mình tôi cháu ạ à là thì vậy làm muốn cần giúp")
)


@dataclass(frozen=True, slots=True)
class MissGroup:
    """Misses that ask the same thing: `key` is the normalised text of its most frequent
    wording, `example` that wording as a citizen wrote it (the newest, between equals),
    `examples` it and the next most frequent wordings (`EXAMPLES` at most)."""

    key: str
    ids: tuple[int, ...]
    example: str
    channels: tuple[tuple[str, int], ...]  # (platform, misses), most first
    kinds: tuple[tuple[str, int], ...]  # (fallback / clarify / handoff / rated_down, misses)
    last_seen: float
    guess: str | None  # the matcher's most frequent guess, None when it had none
    candidates: tuple[str, ...]  # the topics it weighed, most often first
    wordings: int  # distinct normalised texts in the group
    examples: tuple[str, ...] = ()

    @property
    def count(self) -> int:
        return len(self.ids)


@dataclass(frozen=True, slots=True)
class Inbox:
    """The groups of one snapshot of the open misses (`upto`: the newest miss id in it)."""

    groups: tuple[MissGroup, ...]
    upto: int
    misses: int  # open misses read (at most NEWEST)


def _key(row: MissRow) -> str:
    # Rows from before migration 0006 have no normalised text: normalise them here.
    # A message with no words at all still needs a key to be decided on.
    return row.normalised or " ".join(tokens(row.text)) or row.text.strip().lower() or "-"


def _bucket(key: str) -> str:
    for word in key.split():
        if word not in _FILLERS:
            return word
    return ""


def group_misses(rows: Sequence[MissRow]) -> list[MissGroup]:
    """Rows grouped as the module docstring says, most frequent group first (then the most
    recently seen). Deterministic: the same rows give the same groups and keys."""
    exact: dict[str, list[MissRow]] = defaultdict(list)
    for row in rows:
        exact[_key(row)].append(row)
    # Most frequent first, then the shortest (the question without its courtesies): a frequent
    # wording leads the near-duplicates of it and gives the group its key and its example.
    order = sorted(exact, key=lambda k: (-len(exact[k]), len(k), k))
    leaders: dict[str, list[str]] = defaultdict(list)  # bucket -> leading keys
    members: dict[str, list[str]] = {}  # leading key -> its keys
    for key in order:
        bucket = leaders[_bucket(key)]
        # The most similar leading key of the bucket, if similar enough (first of equals).
        best = process.extractOne(key, bucket, scorer=fuzz.token_set_ratio, score_cutoff=SIMILAR)
        if best is None:
            bucket.append(key)
            members[key] = [key]
        else:
            members[best[0]].append(key)
    groups = [_group(lead, [r for k in keys for r in exact[k]]) for lead, keys in members.items()]
    groups.sort(key=lambda g: (-g.count, -g.last_seen, g.key))
    return groups


def _group(key: str, rows: list[MissRow]) -> MissGroup:
    wordings: Counter[str] = Counter()
    newest: dict[str, int] = {}
    for row in rows:
        text = " ".join(row.text.split())
        wordings[text] += 1
        newest[text] = max(newest.get(text, 0), row.id)
    # The most frequent wording of the leading normalised text, the newest between equals.
    leading = [r for r in rows if _key(r) == key] or rows
    lead_words = Counter(" ".join(r.text.split()) for r in leading)
    example = max(lead_words, key=lambda t: (lead_words[t], newest[t]))
    guesses = Counter(r.guess for r in rows if r.guess)
    weighed: Counter[str] = Counter(t for r in rows for t, _ in r.candidates)
    return MissGroup(
        key=key,
        ids=tuple(sorted(r.id for r in rows)),
        example=example,
        channels=tuple(Counter(r.platform for r in rows).most_common()),
        kinds=tuple(Counter(r.kind.value for r in rows).most_common()),
        last_seen=max(r.created_at for r in rows),
        guess=guesses.most_common(1)[0][0] if guesses else None,
        candidates=tuple(t for t, _ in weighed.most_common(TOP_CANDIDATES)),
        wordings=len({_key(r) for r in rows}),
        examples=(
            example,
            *sorted(
                (t for t in wordings if t != example), key=lambda t: (-wordings[t], -newest[t])
            )[: EXAMPLES - 1],
        ),
    )


async def inbox(store: Store, upto: int | None = None) -> Inbox:
    """The open misses' groups: the newest `NEWEST` (with an id at most `upto`, when given)."""
    rows = await store.open_misses(upto, NEWEST)
    return Inbox(tuple(group_misses(rows)), max((r.id for r in rows), default=0), len(rows))


class Action(StrEnum):
    TEACH = "teach"
    OUT_OF_SCOPE = "out_of_scope"
    DISMISS = "dismiss"


_STATUS = {
    Action.TEACH: MissStatus.TAUGHT,
    Action.OUT_OF_SCOPE: MissStatus.OUT_OF_SCOPE,
    Action.DISMISS: MissStatus.DISMISSED,
}


class Result(StrEnum):
    DONE = "done"
    STALE = "stale"  # the group changed or is gone: someone decided first
    INVALID = "invalid"  # the knowledge base edit was refused; nothing changed
    NO_TOPIC = "no_topic"  # teaching needs a topic of the catalogue


@dataclass(frozen=True, slots=True)
class Decision:
    """What a member of staff asked: `action` on the group `key` of the snapshot `upto`, shown
    with `count` misses; `topic` for teaching."""

    key: str
    upto: int
    count: int
    action: Action
    topic: str = ""


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    group: MissGroup | None = None
    topic: str | None = None
    reasons: tuple[str, ...] = ()  # why an edit was refused (`INVALID`)
    answered_as: str | None = None  # the new bundle's topic for the example (TEACH, SCOPE)
    answered_kind: str | None = None
    version: str | None = None  # the knowledge base's version after the edit


Reload = Callable[[], Awaitable[Bundle]]


@dataclass
class ReviewDesk:
    """Carries out staff's decisions. One at a time: two edits of the knowledge base, or two
    decisions on one group, never interleave within this server."""

    store: Store
    root: Path
    reload: Reload
    topics: Callable[[], Sequence[str]]  # the topic ids staff may teach
    # One knowledge edit at a time: shared with the topic desk (bot/staff/topic_desk.py).
    lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    async def decide(self, decision: Decision, actor: str, address: str, now: float) -> Outcome:
        async with self.lock:
            return await self._decide(decision, actor, address, now)

    async def _decide(self, decision: Decision, actor: str, address: str, now: float) -> Outcome:
        snapshot = await inbox(self.store, decision.upto)
        group = next((g for g in snapshot.groups if g.key == decision.key), None)
        if group is None or group.count != decision.count:
            return Outcome(Result.STALE, group)
        topic: str | None = None
        edit: Taught | None = None
        if decision.action is Action.TEACH:
            topic = decision.topic
            if topic not in self.topics() or topic == OUT_OF_SCOPE_TOPIC:
                return Outcome(Result.NO_TOPIC, group)
        elif decision.action is Action.OUT_OF_SCOPE:
            topic = OUT_OF_SCOPE_TOPIC
        if topic is not None:
            try:
                edit = await asyncio.to_thread(plan_phrasing, self.root, topic, group.example)
            except TeachError as exc:
                return Outcome(Result.INVALID, group, topic, tuple(exc.reasons))
        status = _STATUS[decision.action]
        if not await self.store.resolve_misses(group.ids, status, actor, now):
            return Outcome(Result.STALE, group, topic)
        outcome = Outcome(Result.DONE, group, topic)
        if edit is not None and topic is not None:
            try:
                await asyncio.to_thread(write, edit)
            except (TeachError, OSError) as exc:
                await self.store.reopen_misses(group.ids, actor, now)
                reasons = exc.reasons if isinstance(exc, TeachError) else [str(exc)]
                return Outcome(Result.INVALID, group, topic, tuple(reasons))
            outcome = await self._reloaded(outcome, group.example)
        await self.store.record_audit(
            actor,
            f"review.{decision.action.value}",
            group.example,
            now,
            before=_json(_before(group, edit)),
            after=_json(_after(status, outcome, edit, self.root)),
            address=address,
        )
        return outcome

    async def _reloaded(self, outcome: Outcome, example: str) -> Outcome:
        """The bundle rebuilt from the edited files, at once; how it now answers `example`."""
        try:
            bundle = await self.reload()
        except KnowledgeError as exc:
            # Written but not loaded (the folder changed under us): the old bundle answers,
            # /healthz lists the problems, and the reloader retries on the next edit.
            return Outcome(
                Result.DONE, outcome.group, outcome.topic, tuple(str(p) for p in exc.problems)
            )
        answer = await asyncio.to_thread(bundle.ask, example)
        return Outcome(
            Result.DONE,
            outcome.group,
            outcome.topic,
            (),
            answer.topic,
            answer.kind,
            bundle.kb.version,
        )


def _before(group: MissGroup, edit: Taught | None) -> dict[str, object]:
    before: dict[str, object] = {
        "status": MissStatus.OPEN.value,
        "group": group.key,
        "misses": group.count,
        "kinds": dict(group.kinds),
        "channels": dict(group.channels),
        "guess": group.guess,
    }
    if edit is not None:
        # The file's text, so that the audit page can revert the change (topic_desk.py).
        before |= {"phrasings": edit.before, "text": edit.source}
    return before


def _after(
    status: MissStatus, outcome: Outcome, edit: Taught | None, root: Path
) -> dict[str, object]:
    after: dict[str, object] = {"status": status.value}
    if edit is not None:
        after |= {
            "topic": outcome.topic,
            "phrasing": edit.phrasing,
            "phrasings": edit.after,
            "file": edit.path.relative_to(root.parent).as_posix(),
            "knowledge_version": outcome.version,
            "answered_as": outcome.answered_as,
            "text": edit.text,
        }
    return after


def _json(value: dict[str, object]) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)
