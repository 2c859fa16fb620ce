"""Compose what the citizen reads. Pure: (knowledge, topic, facets, language) -> replies.

A question about one aspect gets that aspect first, in a sentence or two, then the other aspects
as quick replies; a bare topic gets its short summary card. Every message fits the platforms'
2,000-character limit (Messenger's text limit; Zalo's is the same order, see platforms.md).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace

from bot.knowledge import KnowledgeBase, Topic
from bot.models import FACETS, Candidate, Lang, QuickReply, Reply, TopicKind
from bot.models.handoffs import RESUME

# The strictest platform's text limit: Messenger's "less than 2000 characters" (Zalo allows 2,000).
MAX_CHARS = 1999
MAX_QUICK_REPLIES = 13
# A question back answers at most this many of the asked facets per offered topic: two
# procedures' document lists already fill a screen.
MAX_CLARIFY_FACETS = 2
# ... and stays one message on Zalo, where an OA's free replies are counted per message (8 in
# 48 hours, platforms.md §3.4): this much text leaves room for its options as numbered lines.
CLARIFY_CHARS = 1850
# Payloads of quick replies and buttons; they come back as `Incoming.payload`.
MENU = "MENU"
HANDOFF = "HANDOFF"
_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def topic_payload(topic_id: str) -> str:
    return f"TOPIC:{topic_id}"


def facet_payload(topic_id: str, facet: str) -> str:
    return f"FACET:{topic_id}:{facet}"


def split_text(text: str, limit: int = MAX_CHARS) -> list[str]:
    """Split at paragraph, then line, then sentence, then word boundaries, each part <= limit."""
    if len(text) <= limit:
        return [text]
    for sep in ("\n\n", "\n"):
        if sep in text:
            return _pack(text.split(sep), sep, limit)
    sentences = _SENTENCE_END.split(text)
    if len(sentences) > 1:
        return _pack(sentences, " ", limit)
    words = text.split(" ")
    if len(words) > 1:
        return _pack(words, " ", limit)
    # One "word" longer than a message (a pasted link, a long number): cut it.
    return [text[i : i + limit] for i in range(0, len(text), limit)]


def _pack(parts: Sequence[str], sep: str, limit: int) -> list[str]:
    out: list[str] = []
    current = ""
    for part in parts:
        pieces = split_text(part, limit) if len(part) > limit else [part]
        for piece in pieces:
            joined = f"{current}{sep}{piece}" if current else piece
            if len(joined) <= limit:
                current = joined
            else:
                out.append(current)
                current = piece
    if current:
        out.append(current)
    return [p.strip() for p in out if p.strip()]


class Composer:
    """Builds replies from one knowledge base."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.kb = kb

    def _t(self, key: str, lang: Lang) -> str:
        return self.kb.texts.get(key, lang)

    def _common(self, lang: Lang) -> list[QuickReply]:
        return [
            QuickReply(self._t("menu_button", lang), MENU),
            QuickReply(self._t("staff_button", lang), HANDOFF),
        ]

    def _messages(self, text: str, quick: Sequence[QuickReply]) -> list[Reply]:
        parts = split_text(text)
        replies = [Reply(p) for p in parts[:-1]]
        replies.append(Reply(parts[-1], tuple(quick[:MAX_QUICK_REPLIES])))
        return replies

    def facet_options(self, topic: Topic, shown: Sequence[str], lang: Lang) -> list[QuickReply]:
        labels = self.kb.texts.facet_labels
        return [
            QuickReply(labels[f].get(lang), facet_payload(topic.id, f))
            for f in FACETS
            if f in topic.facets and f not in shown
        ]

    def answer(self, topic: Topic, facets: Sequence[str], lang: Lang) -> list[Reply]:
        """The reply for a recognised topic, answering the asked facets first."""
        name = topic.name.get(lang)
        asked = [f for f in facets if f in topic.facets]
        if topic.kind is TopicKind.FAMILY:
            return self.family(topic, lang)
        if topic.kind is TopicKind.HANDOFF:
            return self.handoff(topic, lang)
        if topic.kind in (TopicKind.SMALLTALK, TopicKind.CASE):
            quick = self.menu_options(lang) if topic.id == "chao-hoi" else self._common(lang)
            return self._messages(topic.summary.get(lang), quick)
        blocks: list[str] = []
        if topic.kind is TopicKind.REFERRAL or not asked:
            blocks.append(f"{name}\n{topic.summary.get(lang)}")
        labels = self.kb.texts.facet_labels
        for facet in asked[:3]:
            text = topic.facets[facet].get(lang)
            if topic.kind is TopicKind.REFERRAL:
                blocks.append(text)
            else:
                blocks.append(f"{name} – {labels[facet].get(lang)}:\n{text}")
        options = self.facet_options(topic, asked, lang)
        if options:
            titles = ", ".join(o.title.lower() for o in options)
            blocks.append(self._t("more_facets", lang).format(facets=titles))
        return self._messages("\n\n".join(blocks), [*options, *self._common(lang)])

    def family(self, family: Topic, lang: Lang) -> list[Reply]:
        """A family's card: what the group covers, then its variants as a list (read where quick
        replies are not shown) and as quick replies that open each variant's card."""
        members = [self.kb.topics[m] for m in family.members if m in self.kb.topics]
        listed = "\n".join(f"– {m.name.get(lang)}" for m in members)
        text = f"{family.name.get(lang)}\n{family.summary.get(lang)}\n{listed}"
        quick = [QuickReply(m.title(lang), topic_payload(m.id)) for m in members]
        return self._messages(text, [*quick, *self._common(lang)])

    def clarify(
        self, candidates: Sequence[Candidate], lang: Lang, facets: Sequence[str] = ()
    ) -> list[Reply]:
        """Ask which of the candidates was meant. When the message asked something particular
        (the fee, where to file), each offered procedure's answer to it follows, under the
        procedure's name: the citizen who meant one of them has it without another turn, and
        nothing is said as if the bot knew which."""
        topics = [self.kb.topics[c.topic] for c in candidates if c.topic in self.kb.topics]
        names = [f"«{t.name.get(lang)}»" for t in topics]
        joiner = " or " if lang == "en" else " hay "
        options = joiner.join([", ".join(names[:-1]), names[-1]]) if len(names) > 1 else names[0]
        ask, none = self._t("clarify", lang).format(options=options), self._t("clarify_none", lang)
        labels = self.kb.texts.facet_labels
        # Each topic's first asked facet before any topic's second, while the question stays
        # one message (`CLARIFY_CHARS`); then shown topic by topic.
        wanted: list[tuple[int, int, str]] = []  # (the facet's rank, the topic's place, text)
        for place, topic in enumerate(topics):
            asked = [f for f in facets if f in topic.facets][:MAX_CLARIFY_FACETS]
            for rank, facet in enumerate(asked):
                lead = self._t("clarify_facet", lang).format(
                    name=topic.name.get(lang), facet=labels[facet].get(lang)
                )
                wanted.append((rank, place, f"{lead}\n{topic.facets[facet].get(lang)}"))
        size = len(ask) + len(none) + 2
        firsts = sum(1 for rank, _, _ in wanted if rank == 0)
        kept: list[tuple[int, int, str]] = []
        for rank, place, block in sorted(wanted):
            if rank > 0 and len(kept) < firsts:
                break  # no topic's second facet while another lacks its first
            if size + len(block) + 2 <= CLARIFY_CHARS:
                kept.append((place, rank, block))
                size += len(block) + 2
        blocks = [ask, *(block for _, _, block in sorted(kept)), none]
        text = "\n\n".join(blocks) if len(blocks) > 2 else "\n".join(blocks)
        quick = [QuickReply(t.title(lang), topic_payload(t.id)) for t in topics]
        return self._messages(text, [*quick, *self._common(lang)])

    def handoff(self, topic: Topic, lang: Lang, lead: str | None = None) -> list[Reply]:
        """Handed over to staff (issue 11): the handoff topic's summary (who answers, and when:
        the knowledge base's words, never invented hours), that the bot now stays silent, and
        the one button that brings it back. `lead` is a bot text said first."""
        parts = [self._t(lead, lang)] if lead else []
        parts += [topic.summary.get(lang), self._t("handoff_paused", lang)]
        back = QuickReply(self._t("handoff_resume_button", lang), RESUME)
        replies = self._messages("\n\n".join(parts), [back])
        return [*replies[:-1], replace(replies[-1], hands_over=True)]

    def resumed(self, lang: Lang) -> list[Reply]:
        """The citizen asked for the bot again: it says so and offers the menu."""
        return self._messages(self._t("handoff_resumed", lang), self.menu_options(lang))

    def handoff_closed(self, lang: Lang) -> list[Reply]:
        """Staff closed the conversation: the bot is back (sent on staff's action)."""
        return self._messages(self._t("handoff_closed", lang), self.menu_options(lang))

    def menu_options(self, lang: Lang) -> list[QuickReply]:
        quick = [
            QuickReply(self.kb.topics[tid].title(lang), topic_payload(tid))
            for tid in self.kb.texts.menu
        ]
        quick.append(QuickReply(self._t("staff_button", lang), HANDOFF))
        return quick

    def menu(self, lang: Lang) -> list[Reply]:
        return self._messages(self._t("menu_prompt", lang), self.menu_options(lang))

    def welcome(self, lang: Lang) -> list[Reply]:
        return self._messages(self._t("welcome", lang), self.menu_options(lang))

    def fallback(self, lang: Lang) -> list[Reply]:
        return self._messages(self._t("fallback", lang), self.menu_options(lang))

    def text(self, key: str, lang: Lang) -> list[Reply]:
        return self._messages(self._t(key, lang), self._common(lang))
