"""The knowledge bundle: one loaded knowledge base with everything derived from it (the
matcher's index, the dialog and its composer), swapped as a whole on reload.

A reload builds a new `Bundle` and only then puts it in the `BundleSlot`, so a broken edit
leaves the last good one serving. (Not to be confused with the store's SQLite engine.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.config import MatcherSettings
from bot.dialog import Dialog
from bot.knowledge import KnowledgeBase, Problem, load
from bot.models import EventKind, Incoming, Platform, Reply, TurnKind
from bot.understanding.learned import ModelStore
from bot.understanding.matcher import Matcher


@dataclass(frozen=True, slots=True)
class Answer:
    """A one-shot answer to a question, as `bot ask` reports it: `kind` is "clarify",
    "unknown", or the answered topic's kind."""

    question: str
    topic: str | None
    kind: str
    score: float
    replies: tuple[Reply, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(r.text for r in self.replies)


@dataclass(frozen=True, slots=True)
class Bundle:
    kb: KnowledgeBase
    matcher: Matcher
    dialog: Dialog
    warnings: tuple[Problem, ...]

    @classmethod
    def load(
        cls,
        root: Path | str,
        settings: MatcherSettings | None = None,
        idle_seconds: int = 1800,
        models: ModelStore | None = None,
        rating_every: int = 0,
    ) -> Bundle:
        """Raises `KnowledgeError` when the knowledge base has errors. `models` keeps the
        fitted classifier between loads (`bot.model_cache.ModelCache`); `rating_every` is the
        dialog's (0: no 👍 / 👎 offers, as `bot ask` and `bot eval` want)."""
        kb, warnings = load(root)
        return cls.build(kb, settings, idle_seconds, warnings, models, rating_every)

    @classmethod
    def build(
        cls,
        kb: KnowledgeBase,
        settings: MatcherSettings | None = None,
        idle_seconds: int = 1800,
        warnings: Sequence[Problem] = (),
        models: ModelStore | None = None,
        rating_every: int = 0,
    ) -> Bundle:
        """The bundle of a knowledge base already in memory (a loaded one, or a modified copy
        made with `dataclasses.replace`, as cross-validation and the meaning lints do)."""
        matcher = Matcher(kb, settings, models)
        dialog = Dialog(kb, matcher, idle_seconds, rating_every)
        return cls(kb, matcher, dialog, tuple(warnings))

    def ask(self, question: str) -> Answer:
        """Answer one question as the first message of a new conversation."""
        msg = Incoming(Platform.CLI, "cli", "cli", EventKind.TEXT, question)
        turn = self.dialog.handle(None, msg, now_ms=0)
        score = turn.match.score if turn.match else 0.0
        if turn.kind is TurnKind.CLARIFY:
            kind = TurnKind.CLARIFY.value
        elif turn.topic is None:
            kind = "unknown"
        else:
            kind = self.kb.topics[turn.topic].kind.value
        return Answer(question, turn.topic, kind, score, turn.replies)


@dataclass(slots=True)
class BundleSlot:
    """The bundle in service. A knowledge reload builds a new Bundle and assigns `current`;
    turns already running finish on the bundle they started with. (A mutable slot, because an
    aiohttp app's keys cannot be reassigned once it has started.)"""

    current: Bundle
