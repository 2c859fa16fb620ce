"""The conversation: one pure step from (state, message) to (new state, replies).

The rules are explicit and ordered (no handler chosen by argument names, style.md §11): expired
state is forgotten, platform events (follow, attachment) come first, then buttons and numbered
choices, then free text through the matcher, then follow-ups on the current topic
("còn lệ phí thì sao?"). Storage of the state is the caller's business.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from dataclasses import dataclass, replace

from bot.answers import HANDOFF, MENU, Composer
from bot.cases.dates import VN_TZ, today_of
from bot.cases.lookup import Throttled, find_code, find_digits, wants_notice
from bot.cases.replies import case_replies
from bot.cases.replies import replies as text_replies
from bot.knowledge import KnowledgeBase
from bot.models import (
    CASE_TOPIC,
    FACETS,
    SUBSCRIBE,
    CaseStep,
    Decision,
    EventKind,
    Incoming,
    Lang,
    LookupOutcome,
    LookupRequest,
    LookupResult,
    Match,
    Reply,
    State,
    TopicKind,
    TurnKind,
)
from bot.models.handoffs import RESUME, HandoffReason
from bot.models.rating import Rating, Score
from bot.rating import Rater, payload_score, typed_score
from bot.text import detect_lang, raw_tokens
from bot.understanding.matcher import Matcher
from bot.understanding.ordinal import LAST, chosen_place

_DIGIT = re.compile(r"\d")
_DIGITS_ONLY = re.compile(r"[\d\s.\-/]*\d[\d\s.\-/]*")
# The first characters of a message that a turn reads; the store keeps the message whole. The
# longest of the 1,698 citizen messages of the evaluation sets is 305 characters (tests/data/,
# /work/shared/eval/dev.jsonl: 148): twice that leaves room for a longer story before the
# question. Reading is linear, but a turn must not cost what its sender chooses: at this cap a
# turn costs at most a few tens of ms (unknown words each go to the speller), where 100,000
# letters took minutes (issue "Proof under hostile input and faults", bench/hostile_text.py).
READ_CHARS = 600

GET_STARTED = "GET_STARTED"
HANDOFF_TOPIC = "gap-can-bo"
# Misses in a row before the bot hands the conversation to staff (issue 11): the second
# fallback in a row is a handoff instead. A 👎 is a miss too ("a 👎 followed by a request hands
# the conversation to staff"): after a 👎 the citizen asks again, and when the bot does not
# understand that either, or is rated 👎 again, staff take over.
MISSES_TO_HANDOFF = 2


def _digits_only(text: str) -> bool:
    """Digits and their separators only: "0002", "0912 345 678", "0912.345.678"."""
    return _DIGITS_ONLY.fullmatch(text.strip()) is not None


@dataclass(frozen=True, slots=True)
class Turn:
    """The outcome of one message. `unanswered` asks staff to review it; `handoff` to take over.

    `lookup` asks the caller to check a dossier against the store and pass the result to
    `Dialog.resolve_lookup` (until then `replies` is empty); `subscribe` asks it to record a
    subscription to that dossier code (the replies already say so). See
    `bot.turns.resolve.resolve_turn`. `facets` are the facets an answer gave first; `rating`
    asks the caller to store the citizen's 👍 / 👎 of an earlier answer. `handoff_reason` says
    why a handoff opens: asked for, or misses in a row (fallbacks and 👎).
    """

    state: State
    replies: tuple[Reply, ...]
    kind: TurnKind
    topic: str | None = None
    match: Match | None = None
    unanswered: bool = False
    handoff: bool = False
    lookup: LookupRequest | None = None
    subscribe: str | None = None
    facets: tuple[str, ...] = ()
    rating: Rating | None = None
    handoff_reason: HandoffReason = HandoffReason.ASKED


class Dialog:
    """`rating_every` offers 👍 / 👎 after some answers (bot/rating.py); 0, the default, never
    does: `bot ask` and `bot eval` read the answers alone."""

    def __init__(
        self, kb: KnowledgeBase, matcher: Matcher, idle_seconds: int = 1800, rating_every: int = 0
    ) -> None:
        self.kb = kb
        self.matcher = matcher
        self.composer = Composer(kb)
        self.rater = Rater(kb, rating_every)
        self.idle_ms = idle_seconds * 1000

    def handle(self, state: State | None, msg: Incoming, now_ms: int) -> Turn:
        """One step of the conversation. Only the first READ_CHARS characters of the text are
        read: the rest of a long message changes nothing."""
        state = state or State()
        if now_ms - state.updated_ms > self.idle_ms:
            state = State(lang=state.lang)
        if len(msg.text) > READ_CHARS:
            msg = replace(msg, text=msg.text[:READ_CHARS])
        turn = self._step(state, msg)
        # Only misses in a row: a fallback counts one, a rating sets the count itself.
        if turn.kind not in (TurnKind.FALLBACK, TurnKind.RATED) and turn.state.misses:
            turn = replace(turn, state=replace(turn.state, misses=0))
        return self._finish(self._offer(turn, msg), now_ms)

    @staticmethod
    def _finish(turn: Turn, now_ms: int) -> Turn:
        options = tuple(q.payload for q in turn.replies[-1].quick_replies) if turn.replies else ()
        return replace(turn, state=replace(turn.state, options=options, updated_ms=now_ms))

    def _offer(self, turn: Turn, msg: Incoming) -> Turn:
        """An offer to rate waits for the next message only; a topic answer counts towards the
        next offer, and gets it when due (bot/rating.py). The answer right after a 👎 gets it
        whatever the cadence (a second 👎 hands over), and only that answer."""
        state = replace(turn.state, rating_topic=None, rating_facet=None, rating_of=None)
        if turn.kind is TurnKind.RATED:
            return replace(turn, state=state)  # `disliked` as the rating set it
        retry, state = state.disliked, replace(state, disliked=False)
        if not self.rater.rated(turn.kind, turn.topic) or turn.topic is None:
            return replace(turn, state=state)
        state = replace(state, answered=state.answered + 1)
        if not (self.rater.due(state.answered) or (retry and self.rater.every > 0)):
            return replace(turn, state=state)
        facet = turn.facets[0] if turn.facets else None
        state = replace(
            state,
            rating_topic=turn.topic,
            rating_facet=facet,
            rating_of=msg.message_id,
            disliked=retry,
        )
        return replace(turn, state=state, replies=self.rater.offer(turn.replies, state.lang))

    def _rate(self, state: State, score: Score) -> Turn:
        """The citizen's 👍 / 👎: thanked, or apologised to with staff on offer. Stored only when
        it answers a pending offer (a late tap on an old offer is thanked all the same).

        A 👎 is a miss ("a 👎 followed by a request hands the conversation to staff"): when
        the citizen's next request is not understood either, or its answer is rated 👎 too, the
        conversation goes to staff instead of another apology. A 👍 ends the run of misses."""
        rating = None
        if state.rating_topic is not None and state.rating_of is not None:
            rating = Rating(
                score, state.rating_topic, state.rating_facet, state.rating_of, state.asked or ""
            )
        down = score is Score.DOWN
        misses = (max(state.misses, int(state.disliked)) + 1) if down else 0
        new = replace(self._leave_case(state), asked=None, misses=misses, disliked=down)
        handed = self._hand_over_after_misses(new, "handoff_after_dislike", None)
        if handed is not None:
            return replace(handed, rating=rating)
        replies = self.rater.reply(score, state.lang)
        return Turn(new, replies, TurnKind.RATED, state.rating_topic, rating=rating)

    def _hand_over_after_misses(self, state: State, lead: str, match: Match | None) -> Turn | None:
        """The handoff when `state.misses` reached MISSES_TO_HANDOFF (and the knowledge base
        has the handoff topic), said with the bot text `lead` first; else None."""
        topic = self.kb.topics.get(HANDOFF_TOPIC)
        if state.misses < MISSES_TO_HANDOFF or topic is None:
            return None
        new = replace(state, topic=HANDOFF_TOPIC, facets=(), misses=0, disliked=False)
        replies = self.composer.handoff(topic, state.lang, lead=lead)
        return Turn(
            new,
            tuple(replies),
            TurnKind.HANDOFF,
            HANDOFF_TOPIC,
            match,
            handoff=True,
            handoff_reason=HandoffReason.MISSES,
        )

    def resolve_lookup(self, turn: Turn, result: LookupResult, now_ms: int) -> Turn:
        """The second, pure half of a lookup turn: the answer to `turn.lookup`'s `result`.

        Wrong digits and an unknown code get the same answer, so nobody can learn which codes
        exist; the citizen may try the digits again or send another code. A dossier slowed down
        by failed checks (`Throttled`) says when it checks again (rounded up to the minute) and
        whom to ask; the citizen stays at the digits step.
        """
        state, lang, kb = turn.state, turn.state.lang, self.kb
        if result.outcome is LookupOutcome.FOUND and result.case is not None:
            state = replace(state, case_step=None, case_code=None, case_verified=result.case.code)
            answer = case_replies(kb, result.case, lang, today_of(now_ms))
            kind = TurnKind.CASE
        elif isinstance(result, Throttled):  # the dossier, slowed down: try again later
            at = dt.datetime.fromtimestamp(math.ceil(result.retry_at / 60) * 60, VN_TZ)
            text = kb.texts.get("case_throttled", lang)
            text = text.format(time=at.strftime("%H:%M"), date=at.strftime("%d/%m/%Y"))
            answer = text_replies(kb, text, lang)
            kind = TurnKind.CASE_LOCKED
        elif result.outcome is LookupOutcome.LOCKED:  # the sender's own lock
            state = replace(state, case_step=None, case_code=None)
            answer = text_replies(kb, kb.texts.get("case_locked", lang), lang)
            kind = TurnKind.CASE_LOCKED
        else:  # still waiting for the digits, or another code
            answer = text_replies(kb, kb.texts.get("case_not_found", lang), lang)
            kind = TurnKind.CASE_NOT_FOUND
        return self._finish(replace(turn, state=state, replies=tuple(answer), kind=kind), now_ms)

    def _step(self, state: State, msg: Incoming) -> Turn:
        lang = state.lang
        if msg.kind is EventKind.FOLLOW or msg.payload == GET_STARTED:
            new = replace(state, asked=None)
            return Turn(new, tuple(self.composer.welcome(lang)), TurnKind.WELCOME)
        # 👍 / 👎 typed right after an offer (or Messenger's like button, a sticker that
        # webhooks/facebook.py reads as 👍).
        typed = typed_score(msg.text) if state.rating_of and not msg.payload else None
        if typed is not None:
            return self._rate(state, typed)
        if msg.kind is EventKind.ATTACHMENT:
            new = replace(state, asked=None)
            return Turn(new, tuple(self.composer.text("attachment", lang)), TurnKind.ATTACHMENT)
        payload = msg.payload or self.numbered_choice(state, msg.text)
        score = payload_score(payload) if payload else None
        if score is not None:
            return self._rate(state, score)
        if payload:
            # The question goes on through the options it was offered (an ask-back's choices,
            # a family's variants, the answer's other facets); any other button leaves it.
            goes_on = payload in state.options and payload.startswith(("TOPIC:", "FACET:"))
            state = replace(state, asked=state.asked if goes_on else None)
            return self._payload(self._leave_case(state), payload)
        turn = self._case_text(replace(state, asked=None), msg.text)
        if turn is not None:
            return turn
        turn = self._text(self._leave_case(state), msg.text)
        # Kept while the flow it starts goes on: a 👎 of its answer sends it to staff's review.
        asked = msg.text if self.rater.question(turn.kind, turn.topic) else None
        return replace(turn, state=replace(turn.state, asked=asked))

    @staticmethod
    def _leave_case(state: State) -> State:
        """Anything but an answer to the lookup's question leaves the lookup."""
        return replace(state, case_step=None, case_code=None)

    def _case_text(self, state: State, text: str) -> Turn | None:
        """The dossier lookup's steps, or None when `text` is not part of one.

        A message with a dossier code starts a lookup anywhere (issue 4); once asked for the
        code, a shorter code-like token is taken too, and digits that are no code are asked
        again; once asked for the digits, 4 digits (or a whole phone number) make the lookup
        request.
        """
        # Codes and phone digits hold digits: most messages need nothing more than this scan.
        if _DIGIT.search(text) is None:
            code = None
        else:
            code = find_code(text, relaxed=state.case_step is CaseStep.CODE)
        if state.case_step is CaseStep.DIGITS and state.case_code and code is None:
            digits = find_digits(text)
            if digits is not None:
                request = LookupRequest(state.case_code, digits)
                return Turn(state, (), TurnKind.LOOKUP, CASE_TOPIC, lookup=request)
            if any(ch.isdigit() for ch in text) and len(raw_tokens(text)) <= 4:
                hint = self.kb.texts.get("case_digits_invalid", state.lang)
                return Turn(
                    state, tuple(text_replies(self.kb, hint, state.lang)), TurnKind.CASE_ASK
                )
            return None
        if state.case_step is CaseStep.CODE and code is None and _digits_only(text):
            # "0002", "0912 345 678": an answer, but not a code; ask again for the code.
            hint = self.kb.texts.get("case_code_invalid", state.lang)
            return Turn(state, tuple(text_replies(self.kb, hint, state.lang)), TurnKind.CASE_ASK)
        if code is not None:
            # A bare code or digits say nothing of the language: keep the conversation's.
            words = [w for w in raw_tokens(text) if _DIGIT.search(w) is None]
            lang = detect_lang(text) if len(words) >= 2 else state.lang
            new = replace(state, lang=lang, case_step=CaseStep.DIGITS, case_code=code)
            ask = self.kb.texts.get("case_ask_digits", lang).format(code=code)
            return Turn(new, tuple(text_replies(self.kb, ask, lang)), TurnKind.CASE_ASK, CASE_TOPIC)
        if state.case_verified and wants_notice(text):
            return self._subscribe(self._leave_case(state), state.case_verified)
        return None

    def _subscribe(self, state: State, code: str) -> Turn:
        lang = state.lang
        if state.case_verified != code:
            # Only the owner, verified in this conversation, may subscribe to a dossier.
            text = self.kb.texts.get("case_subscribe_verify_first", lang)
            return Turn(state, tuple(text_replies(self.kb, text, lang)), TurnKind.CASE_ASK)
        text = self.kb.texts.get(TurnKind.CASE_SUBSCRIBED, lang).format(code=code)
        replies = tuple(text_replies(self.kb, text, lang))
        return Turn(state, replies, TurnKind.CASE_SUBSCRIBED, CASE_TOPIC, subscribe=code)

    @staticmethod
    def numbered_choice(state: State, text: str) -> str | None:
        """Zalo shows options as numbered lines: a bare "2" picks the second one offered.

        Inside a dossier lookup digits are digits ("Proof under hostile input", 6): "0002" is the
        end of a phone number or of a code, not option 2. There only the option's own number as
        written ("2", not "02" or "0002") picks it: it can be neither the 4 digits nor a code,
        and the Zalo citizen who reads "2. Gặp cán bộ" under the question still reaches staff.
        """
        words = raw_tokens(text)
        if len(words) != 1 or not words[0].isdigit():
            return Dialog._placed_choice(state, text)
        n = int(words[0])
        if state.case_step is not None and words[0] != str(n):
            return None
        return state.options[n - 1] if 1 <= n <= len(state.options) else None

    @staticmethod
    def _placed_choice(state: State, text: str) -> str | None:
        """An option picked by its place written out: "cái thứ hai", "số 2 ạ", "the second
        one"; "cái sau", "the last one" pick the last topic offered (after it come the menu
        and staff buttons). Not inside a dossier lookup, where a short reply is its answer."""
        if not state.options or state.case_step is not None:
            return None
        place = chosen_place(text)
        if place is None:
            return None
        if place == LAST:
            topics = [o for o in state.options if o.startswith("TOPIC:")]
            return topics[-1] if topics else None
        return state.options[place - 1] if 1 <= place <= len(state.options) else None

    def _payload(self, state: State, payload: str) -> Turn:
        lang = state.lang
        kind, _, rest = payload.partition(":")
        if payload == MENU:
            return Turn(state, tuple(self.composer.menu(lang)), TurnKind.MENU)
        if payload == RESUME:  # "back to the bot" (the caller closes an open handoff)
            return Turn(state, tuple(self.composer.resumed(lang)), TurnKind.MENU)
        if kind == SUBSCRIBE:
            return self._subscribe(state, rest)
        if payload == HANDOFF:
            return self._answer(state, HANDOFF_TOPIC, (), lang, TurnKind.HANDOFF)
        if kind == "TOPIC" and rest in self.kb.topics:
            return self._answer(state, rest, state.facets, lang, TurnKind.ANSWER)
        if kind == "FACET":
            topic, _, facet = rest.partition(":")
            if topic in self.kb.topics and facet in FACETS:
                return self._answer(state, topic, (facet,), lang, TurnKind.ANSWER)
        return Turn(state, tuple(self.composer.menu(lang)), TurnKind.MENU)

    def _text(self, state: State, text: str) -> Turn:
        match = self.matcher.match(text)
        lang = match.lang if raw_tokens(text) else state.lang
        if match.decision is Decision.ACCEPT and match.topic:
            return self._answer(state, match.topic, match.facets, lang, TurnKind.ANSWER, match)
        if match.facets and state.topic and state.topic in self.kb.topics:
            # "còn lệ phí thì sao?": a facet with no topic of its own is about the current one.
            return self._answer(state, state.topic, match.facets, lang, TurnKind.FOLLOWUP, match)
        if match.decision is Decision.CLARIFY and match.candidates:
            replies = self.composer.clarify(match.candidates, lang, match.facets)
            new = replace(state, lang=lang, facets=match.facets)
            return Turn(new, tuple(replies), TurnKind.CLARIFY, match.topic, match)
        new = replace(state, lang=lang, misses=state.misses + 1)
        # Not understood again (or after a 👎): staff take over rather than another "please
        # rephrase"; the message stays in the review inbox as not understood.
        handed = self._hand_over_after_misses(new, "handoff_after_misses", match)
        if handed is not None:
            return replace(handed, unanswered=True)
        return Turn(new, tuple(self.composer.fallback(lang)), TurnKind.FALLBACK, None, match, True)

    def _answer(
        self,
        state: State,
        topic_id: str,
        facets: tuple[str, ...],
        lang: Lang,
        kind: TurnKind,
        match: Match | None = None,
    ) -> Turn:
        topic = self.kb.topics[topic_id]
        replies = self.composer.answer(topic, facets, lang)
        handoff = topic.kind is TopicKind.HANDOFF
        # A family card asks which variant: the aspect asked ("lệ phí") waits for the choice.
        waiting = facets if topic.kind is TopicKind.FAMILY else ()
        new = replace(state, topic=topic_id, lang=lang, facets=waiting)
        if topic.kind is TopicKind.CASE:
            new = replace(new, case_step=CaseStep.CODE)  # its answer asks for the dossier code
        return Turn(
            new,
            tuple(replies),
            TurnKind.HANDOFF if handoff else kind,
            topic_id,
            match,
            handoff=handoff,
            facets=tuple(f for f in facets if f in topic.facets),
        )
