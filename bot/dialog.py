"""The conversation: one pure step from (state, message) to (new state, replies).

The rules are explicit and ordered (no handler chosen by argument names, style.md §11): expired
state is forgotten, platform events (follow, attachment) come first, then buttons and numbered
choices, then free text through the matcher, then follow-ups on the current topic
("còn lệ phí thì sao?"). Storage of the state is the caller's business.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from bot.answers import HANDOFF, MENU, Composer
from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher
from bot.models import FACETS, EventKind, Incoming, Lang, Match, Reply
from bot.text import raw_tokens

GET_STARTED = "GET_STARTED"
HANDOFF_TOPIC = "gap-can-bo"


@dataclass(frozen=True, slots=True)
class State:
    """What the bot remembers of one (platform, user) between messages."""

    topic: str | None = None
    lang: Lang = "vi"
    options: tuple[str, ...] = ()  # payloads offered last, so "2" can pick the second
    facets: tuple[str, ...] = ()  # facets asked when a choice was offered
    updated_ms: int = 0


@dataclass(frozen=True, slots=True)
class Turn:
    """The outcome of one message. `unanswered` asks staff to review it; `handoff` to take over."""

    state: State
    replies: tuple[Reply, ...]
    kind: str  # answer, followup, clarify, fallback, menu, welcome, attachment, handoff
    topic: str | None = None
    match: Match | None = None
    unanswered: bool = False
    handoff: bool = False


class Dialog:
    def __init__(self, kb: KnowledgeBase, matcher: Matcher, idle_seconds: int = 1800) -> None:
        self.kb = kb
        self.matcher = matcher
        self.composer = Composer(kb)
        self.idle_ms = idle_seconds * 1000

    def handle(self, state: State | None, msg: Incoming, now_ms: int) -> Turn:
        state = state or State()
        if now_ms - state.updated_ms > self.idle_ms:
            state = State(lang=state.lang)
        turn = self._step(state, msg)
        options = tuple(q.payload for q in turn.replies[-1].quick_replies) if turn.replies else ()
        return replace(turn, state=replace(turn.state, options=options, updated_ms=now_ms))

    def _step(self, state: State, msg: Incoming) -> Turn:
        lang = state.lang
        if msg.kind is EventKind.FOLLOW or msg.payload == GET_STARTED:
            return Turn(state, tuple(self.composer.welcome(lang)), "welcome")
        if msg.kind is EventKind.ATTACHMENT:
            return Turn(state, tuple(self.composer.text("attachment", lang)), "attachment")
        payload = msg.payload or self._numbered_choice(state, msg.text)
        if payload:
            return self._payload(state, payload)
        return self._text(state, msg.text)

    @staticmethod
    def _numbered_choice(state: State, text: str) -> str | None:
        """Zalo shows options as numbered lines: a bare "2" picks the second one offered."""
        words = raw_tokens(text)
        if len(words) == 1 and words[0].isdigit():
            n = int(words[0])
            if 1 <= n <= len(state.options):
                return state.options[n - 1]
        return None

    def _payload(self, state: State, payload: str) -> Turn:
        lang = state.lang
        kind, _, rest = payload.partition(":")
        if payload == MENU:
            return Turn(state, tuple(self.composer.menu(lang)), "menu")
        if payload == HANDOFF:
            return self._answer(state, HANDOFF_TOPIC, (), lang, "handoff")
        if kind == "TOPIC" and rest in self.kb.topics:
            return self._answer(state, rest, state.facets, lang, "answer")
        if kind == "FACET":
            topic, _, facet = rest.partition(":")
            if topic in self.kb.topics and facet in FACETS:
                return self._answer(state, topic, (facet,), lang, "answer")
        return Turn(state, tuple(self.composer.menu(lang)), "menu")

    def _text(self, state: State, text: str) -> Turn:
        match = self.matcher.match(text)
        lang = match.lang if raw_tokens(text) else state.lang
        if match.decision == "accept" and match.topic:
            return self._answer(state, match.topic, match.facets, lang, "answer", match)
        if match.facets and state.topic and state.topic in self.kb.topics:
            # "còn lệ phí thì sao?": a facet with no topic of its own is about the current one.
            return self._answer(state, state.topic, match.facets, lang, "followup", match)
        if match.decision == "clarify" and match.candidates:
            replies = self.composer.clarify(match.candidates, lang)
            new = replace(state, lang=lang, facets=match.facets)
            return Turn(new, tuple(replies), "clarify", match.topic, match)
        new = replace(state, lang=lang)
        return Turn(new, tuple(self.composer.fallback(lang)), "fallback", None, match, True)

    def _answer(
        self,
        state: State,
        topic_id: str,
        facets: tuple[str, ...],
        lang: Lang,
        kind: str,
        match: Match | None = None,
    ) -> Turn:
        topic = self.kb.topics[topic_id]
        replies = self.composer.answer(topic, facets, lang)
        handoff = topic.kind == "handoff"
        new = replace(state, topic=topic_id, lang=lang, facets=())
        return Turn(
            new, tuple(replies), "handoff" if handoff else kind, topic_id, match, handoff=handoff
        )
