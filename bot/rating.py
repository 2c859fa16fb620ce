"""Ratings in the conversation (issue 11): when the bot offers 👍 / 👎 after an answer, how a
choice is recognised, and what the bot says to it. Pure: no I/O, no clock.

Only topic answers are rated (a procedure, an information or a referral card, by text or by
button), never an ask-back, a family's menu of variants, small talk, a handoff or a dossier's
status. Not every answer: the first of a conversation, then every `every`-th one
(`rating_every` in config.yaml; 0 never offers). The offer is the two quick replies put first
on the answer's last message, so the answer's own text and options are unchanged. The choice
comes back as a payload (`bot.models.rating.RATE`), or as a typed 👍 / 👎 right after an offer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.answers import HANDOFF, MAX_QUICK_REPLIES, MENU
from bot.knowledge import KnowledgeBase
from bot.models import Lang, QuickReply, Reply, TopicKind, TurnKind
from bot.models.rating import RATE, Score, rate_payload

RATED_TOPICS = frozenset({TopicKind.PROCEDURE, TopicKind.INFO, TopicKind.REFERRAL})
RATED_TURNS = frozenset({TurnKind.ANSWER, TurnKind.FOLLOWUP})

_THUMBS = {"\N{THUMBS UP SIGN}": Score.UP, "\N{THUMBS DOWN SIGN}": Score.DOWN}
# What may come with a typed thumb: the emoji presentation selector and the skin tones.
_MODIFIERS = frozenset(["\ufe0f", *(chr(c) for c in range(0x1F3FB, 0x1F400))])


def payload_score(payload: str) -> Score | None:
    """The score a payload carries (`RATE:up`, `RATE:down`), None for any other payload."""
    kind, _, rest = payload.partition(":")
    if kind != RATE:
        return None
    try:
        return Score(rest)
    except ValueError:
        return None


def typed_score(text: str) -> Score | None:
    """A message of 👍 or 👎 alone (repeated, any skin tone, spaces around): its score."""
    scores = {_THUMBS.get(ch) for ch in text if not ch.isspace() and ch not in _MODIFIERS}
    if len(scores) != 1:
        return None
    (score,) = scores
    return score


class Rater:
    """The offer's cadence and the texts, from one knowledge base."""

    def __init__(self, kb: KnowledgeBase, every: int = 0) -> None:
        if every < 0:
            raise ValueError("every must not be negative")
        self.kb = kb
        self.every = every

    def due(self, answered: int) -> bool:
        """Whether the `answered`-th topic answer of a conversation (from 1) gets the offer."""
        return self.every > 0 and answered > 0 and (answered - 1) % self.every == 0

    def rated(self, kind: TurnKind, topic: str | None) -> bool:
        """Whether a turn of `kind` about `topic` is an answer the citizen may rate."""
        found = self.kb.topics.get(topic) if topic is not None else None
        return kind in RATED_TURNS and found is not None and found.kind in RATED_TOPICS

    def question(self, kind: TurnKind, topic: str | None) -> bool:
        """Whether a typed message that got a turn of `kind` about `topic` asked a question
        whose answer may be rated: a rated answer, an ask-back, a family's menu of variants."""
        if kind is TurnKind.CLARIFY:
            return True
        found = self.kb.topics.get(topic) if topic is not None else None
        return (
            kind in RATED_TURNS
            and found is not None
            and (found.kind in RATED_TOPICS or found.kind is TopicKind.FAMILY)
        )

    def offer(self, replies: Sequence[Reply], lang: Lang) -> tuple[Reply, ...]:
        """`replies` with 👍 and 👎 first among the last message's quick replies."""
        if not replies:
            return tuple(replies)
        texts = self.kb.texts
        thumbs = (
            QuickReply(texts.get("rating_up_button", lang), rate_payload(Score.UP)),
            QuickReply(texts.get("rating_down_button", lang), rate_payload(Score.DOWN)),
        )
        last = replies[-1]
        quick = (*thumbs, *last.quick_replies)[:MAX_QUICK_REPLIES]
        return (*replies[:-1], replace(last, quick_replies=quick))

    def reply(self, score: Score, lang: Lang) -> tuple[Reply, ...]:
        """A thank-you to 👍; to 👎 an apology that offers staff first, then the menu."""
        texts = self.kb.texts
        menu = QuickReply(texts.get("menu_button", lang), MENU)
        staff = QuickReply(texts.get("staff_button", lang), HANDOFF)
        if score is Score.UP:
            return (Reply(texts.get("rating_thanks", lang), (menu, staff)),)
        return (Reply(texts.get("rating_sorry", lang), (staff, menu)),)
