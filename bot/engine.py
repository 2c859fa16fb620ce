"""One loaded knowledge base with everything derived from it, swapped as a whole on reload.

The matcher index and the composer are built from a knowledge base once; a reload builds a new
`Engine` and only then replaces the old one, so a broken edit leaves the last good one serving.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bot.dialog import Dialog
from bot.knowledge import KnowledgeBase, Problem, load
from bot.matcher import Matcher, MatcherSettings
from bot.models import EventKind, Incoming, Platform, Reply


@dataclass(frozen=True, slots=True)
class Answer:
    """A one-shot answer to a question, as `bot ask` reports it."""

    question: str
    topic: str | None
    kind: str
    score: float
    replies: tuple[Reply, ...]

    @property
    def text(self) -> str:
        return "\n\n".join(r.text for r in self.replies)


@dataclass(frozen=True, slots=True)
class Engine:
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
    ) -> Engine:
        """Raises `KnowledgeError` when the knowledge base has errors."""
        kb, warnings = load(root)
        matcher = Matcher(kb, settings)
        return cls(kb, matcher, Dialog(kb, matcher, idle_seconds), tuple(warnings))

    def ask(self, question: str) -> Answer:
        """Answer one question as the first message of a new conversation."""
        msg = Incoming(Platform.CLI, "cli", "cli", EventKind.TEXT, question)
        turn = self.dialog.handle(None, msg, now_ms=0)
        score = turn.match.score if turn.match else 0.0
        if turn.kind == "clarify":
            kind = "clarify"
        elif turn.topic is None:
            kind = "unknown"
        else:
            kind = self.kb.topics[turn.topic].kind
        return Answer(question, turn.topic, kind, score, turn.replies)
