"""What happens to a message after the webhook answered 200: one turn, by a worker task.

`TurnQueue.accept_many` records a webhook's messages (the idempotency gate, style.md §7) and
queues each new one behind its sender's earlier ones; a worker loads the state, applies the
per-sender flood control, runs the pure dialog and commits the turn and its replies to the
outbox in one transaction (`Store.complete_turn`), then wakes the delivery worker. Anything
raised in a turn is logged with the platform and message id and the message is marked failed:
the webhook already answered 200, so a poison message cannot start a platform retry storm
(style.md §12, platforms.md §1.4 and §5.7 botman#755).

Three things keep the 200 fast under load (bench/load.py measures them). Webhooks that arrive
while the store is busy are recorded together, in ONE transaction (a group commit). At most
`max_turns` turns are in progress at once, so the store's single thread never holds a long queue
of turn work in front of the next webhook's recording; the other messages wait in memory, already
recorded (a crash loses none of them: `resume_pending`), as a queue slot each rather than a
task. And the dialog, the one CPU-bound step (matching, ~0.5-1 ms), goes behind the webhooks
(`DialogPacer`): never two dialogs in one pass of the event loop, and during a flood (several
webhooks waiting for their 200 at once) only one per DIALOG_GAP: acknowledging gets most of the
loop and the turns catch up when it eases, yet they never stop while webhooks keep coming.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from functools import partial
from typing import cast

from bot.bundle import BundleSlot
from bot.dialog import READ_CHARS, Dialog
from bot.dialog import Turn as DialogTurn
from bot.models import EventKind, Incoming, Outgoing, Reply, State, TurnKind
from bot.models.handoffs import RESUME, ClosedBy, Handoff, HandoffReason
from bot.models.rating import Rating, Score
from bot.models.review import Miss, MissKind
from bot.store import Store
from bot.text import tokens
from bot.turns.flood import FloodGate, UserKey, Verdict
from bot.turns.pacer import DIALOG_GAP, FLOOD_WAITING, DialogPacer
from bot.turns.resolve import resolve_turn

log = logging.getLogger(__name__)

Clock = Callable[[], float]

MAX_TURNS = 8  # turns in progress at once: enough to keep the loop and the store thread busy
HANDOFF_TIMEOUT = 72 * 3600.0  # the default of `handoff_timeout_hours` (bot/config.py)

Turn = asyncio.Future[int | None]


class TurnQueue:
    """Turns recorded messages into committed turns: one FIFO queue per sender, and at most
    `max_turns` worker tasks taking the senders whose next message is ready, in turn.

    A recorded message costs a future and a queue slot, not a task: under a flood the webhooks
    that are still waiting for their 200 share the loop with as little turn bookkeeping as
    possible (bench/load.py). Workers exist only while there is work, so `drain()` on shutdown
    simply waits for them (and for a recording in progress) before the store closes.
    """

    def __init__(
        self,
        store: Store,
        bundle: BundleSlot,
        flood: FloodGate,
        wake: Callable[[], None],
        clock: Clock = time.time,
        max_turns: int = MAX_TURNS,
        dialog_gap: float = DIALOG_GAP,
        flood_waiting: int = FLOOD_WAITING,
        on_handoff: Callable[[Incoming], Awaitable[object]] | None = None,
        handoff_timeout: float = HANDOFF_TIMEOUT,
        on_handoff_closed: Callable[[Handoff], Awaitable[object]] | None = None,
    ) -> None:
        self.store = store
        self.bundle = bundle
        self.flood = flood
        self.wake = wake
        self.clock = clock
        self.max_turns = max_turns
        # After a turn that asked for staff is committed: the staff alert (bot/clerks/alerts.py)
        # and passing the Messenger thread to the Page Inbox; after the citizen ended one:
        # taking the thread back. While a handoff is open (and younger than `handoff_timeout`
        # seconds since it opened or staff last replied) the sender's turns are silent.
        self.on_handoff = on_handoff
        self.on_handoff_closed = on_handoff_closed
        self.handoff_timeout = handoff_timeout
        # One queue per sender with messages waiting, in arrival order: the next message must
        # see the state the previous one saved ("còn lệ phí thì sao?"). A sender is in `_ready`
        # while its queue is not empty and no worker has it: never two of its turns at once.
        self._queues: dict[UserKey, deque[tuple[Incoming, Turn]]] = {}
        self._ready: deque[UserKey] = deque()
        self._workers: set[asyncio.Task[None]] = set()
        self._dialogs = DialogPacer(dialog_gap, flood_waiting)
        self._waiting: list[tuple[list[Incoming], asyncio.Future[list[Turn | None]]]] = []
        self._recorder: asyncio.Task[None] | None = None

    @property
    def queued(self) -> int:
        """Messages recorded and not yet handled (the turn in progress included)."""
        return sum(len(queue) for queue in self._queues.values())

    async def accept(self, msg: Incoming) -> Turn | None:
        """Record `msg` and queue its turn; None (and nothing queued) for a duplicate."""
        (turn,) = await self.accept_many([msg])
        return turn

    async def accept_many(self, msgs: Sequence[Incoming]) -> list[Turn | None]:
        """Record `msgs` (one webhook's messages) and queue each new one's turn, in order.

        One entry per message: a future of its turn's result, or None for a duplicate (nothing
        queued). Returns once the messages are committed, so an acknowledged message survives a
        crash (`resume_pending`). Calls made while a commit is running share the next one. If
        the store fails, this raises and nothing was queued: the webhook must not answer 200.
        """
        if not msgs:
            return []
        done: asyncio.Future[list[Turn | None]] = asyncio.get_running_loop().create_future()
        self._waiting.append((list(msgs), done))
        if self._recorder is None:
            self._recorder = asyncio.create_task(self._record_waiting(), name="record inbound")
        with self._dialogs.acknowledging():
            return await done

    async def _record_waiting(self) -> None:
        """Commit everything waiting in one transaction, queue the new turns, answer each
        caller; again while callers arrived meanwhile. Turns are queued here, not by the
        callers: a webhook whose client went away still gets its recorded messages handled."""
        batch: list[tuple[list[Incoming], asyncio.Future[list[Turn | None]]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting, []
                outcomes = await self._record([group for group, _ in batch])
                for (group, done), outcome in zip(batch, outcomes, strict=True):
                    if isinstance(outcome, Exception):
                        if not done.done():
                            done.set_exception(outcome)
                        continue
                    turns: list[Turn | None] = []
                    for msg, new in zip(group, outcome, strict=True):
                        if not new:
                            log.info(
                                "%s message %s: duplicate ignored", msg.platform, msg.message_id
                            )
                        turns.append(self.spawn(msg) if new else None)
                    if not done.done():  # a caller cancelled meanwhile wants no answer
                        done.set_result(turns)
                batch = []
        finally:
            # Cancelled mid-commit (shutdown): nobody may wait forever for an answer.
            for _, done in batch + self._waiting:
                done.cancel()
            self._waiting = []
            self._recorder = None

    async def _record(self, groups: list[list[Incoming]]) -> list[list[bool] | Exception]:
        """Record the callers' `groups` in one commit: per group its flags, or what failed it.

        When the shared commit fails (a message the store cannot take, a busy database), each
        group is recorded again on its own, so one bad request never fails the others'
        webhooks: they share a commit for speed, not for fate. The groups still go to the store
        together, in order, so its group commit runs them in one transaction, each in its own
        savepoint (bot/store/engine.py), and a duplicate across groups is still seen."""
        msgs = [msg for group in groups for msg in group]
        try:
            fresh = await self.store.record_inbound_many(msgs)
        except Exception as exc:
            if len(groups) == 1:
                return [exc]
            log.warning("recording %d webhooks together failed (%r): one by one", len(groups), exc)
        else:
            flags = iter(fresh)
            return [list(itertools.islice(flags, len(group))) for group in groups]
        outcomes = await asyncio.gather(
            *(self.store.record_inbound_many(group) for group in groups), return_exceptions=True
        )
        results: list[list[bool] | Exception] = []
        for outcome in outcomes:
            if not isinstance(outcome, (list, Exception)):
                raise outcome  # cancelled: _record_waiting's finally answers every caller
            results.append(outcome)
        return results

    def spawn(self, msg: Incoming) -> Turn:
        """Queue a recorded message behind its sender's earlier ones; the future gets
        `handle`'s result once its turn is committed."""
        turn: Turn = asyncio.get_running_loop().create_future()
        key = (msg.platform, msg.user_id)
        queue = self._queues.get(key)
        if queue is not None:
            queue.append((msg, turn))  # its sender is ready or being handled already
            return turn
        self._queues[key] = deque([(msg, turn)])
        self._ready.append(key)
        if len(self._workers) < self.max_turns:
            worker = asyncio.create_task(self._work(), name="turns")
            self._workers.add(worker)
        return turn

    async def _work(self) -> None:
        """Handle ready senders' next messages until none is ready, then end."""
        try:
            while self._ready:
                key = self._ready.popleft()
                queue = self._queues[key]
                msg, turn = queue[0]
                try:
                    result = await self.handle(msg)
                finally:
                    queue.popleft()
                    if queue:
                        self._ready.append(key)
                    else:
                        del self._queues[key]
                if not turn.done():
                    turn.set_result(result)
        except asyncio.CancelledError:
            # Shutdown: whoever awaits a queued turn must not wait forever; the messages stay
            # pending in the store and are handled after the restart (`resume_pending`).
            for queue in self._queues.values():
                for _, turn in queue:
                    turn.cancel()
            raise
        finally:
            self._workers.discard(cast(asyncio.Task[None], asyncio.current_task()))

    async def drain(self) -> None:
        """Wait for every recording and queued turn (and any turn they queue) to be committed."""
        while self._workers or self._recorder is not None:
            pending = [*self._workers, *([self._recorder] if self._recorder else [])]
            await asyncio.gather(*pending, return_exceptions=True)

    async def resume_pending(self) -> int:
        """Queue the messages acknowledged before a crash but never handled; return how many.
        Their turns run in the background, on the workers, like any other (`drain()` waits).

        Await it at start-up BEFORE webhooks are served, then serve at once: only the reading
        (one query) is waited for, so a slow or poison message among them cannot keep the
        server from answering (/healthz, the platforms' 2-second deadlines). Queued before any
        webhook is recorded, they keep their place ahead of whatever their senders write next,
        and none of them can be running already; a platform's retry of one is a duplicate the
        store refuses (and `Store.complete_turn` would refuse to record a turn twice).
        """
        pending = await self.store.pending_inbound(limit=None)
        for msg in pending:
            self.spawn(msg)
        return len(pending)

    async def handle(self, msg: Incoming) -> int | None:
        """One turn. Returns how many replies were queued, or None when handling failed.

        The single error boundary of a message: never raises (except on cancellation).
        """
        try:
            return await self._turn(msg)
        except Exception as exc:
            # Platform and id only: the text is the citizen's, tokens never reach this code.
            log.exception("%s message %s: handling failed", msg.platform, msg.message_id)
            try:
                await self.store.fail_inbound(msg.platform, msg.message_id, type(exc).__name__)
            except Exception:
                log.exception(
                    "%s message %s: could not mark it failed", msg.platform, msg.message_id
                )
            return None

    async def _turn(self, msg: Incoming) -> int:
        if msg.kind is EventKind.WITHDRAW:
            return await self._forget(msg)
        bundle = self.bundle.current
        # Both reads join the same group commit: one round trip to the store, not two
        # (bench/load.py, load 1.0, 2 vCPU: answered 305 -> 353 msg/s, server CPU per message
        # 3.38 -> 2.95 ms).
        state, current = await asyncio.gather(
            self.store.load_state(msg.platform, msg.user_id),
            self.store.current_handoff(msg.platform, msg.user_id),
        )
        open_handoff = await self._open_handoff(msg, current)
        # "Back to the bot": its button, or on Zalo its number ("1") under the handoff message.
        choice = msg.payload or Dialog.numbered_choice(state or State(), msg.text)
        if msg.standby or (open_handoff is not None and choice != RESUME):
            # Staff have the conversation (or another app owns the Messenger thread): the
            # message is kept and shown to staff, the bot says nothing (issue 11).
            await self.store.complete_turn(msg, state or State(), [], to_staff=True)
            return 0
        if open_handoff is not None:  # "back to the bot": the citizen ends the handoff
            await self._closed_by_citizen(open_handoff)
        verdict = self.flood.check((msg.platform, msg.user_id))
        unanswered = handoff = False
        reason = HandoffReason.ASKED
        miss: Miss | None = None
        rating: Rating | None = None
        replies: tuple[Reply, ...] = ()
        if verdict is Verdict.OK:
            now_ms = int(self.clock() * 1000)
            turn = await self._dialogs.run(partial(bundle.dialog.handle, state, msg, now_ms))
            # A dossier lookup or subscription is resolved against the store (issue 4).
            turn = await resolve_turn(self.store, bundle.dialog, msg, turn, now_ms)
            state, replies = turn.state, turn.replies
            unanswered, handoff, reason = turn.unanswered, turn.handoff, turn.handoff_reason
            miss, rating = miss_of(turn, msg.text), turn.rating
        else:
            state = state or State()
            if verdict is Verdict.NOTICE:
                log.info("%s user flooding: one notice, then silence", msg.platform)
                replies = tuple(bundle.dialog.composer.text("flood", state.lang))
        outgoing = [Outgoing(msg.platform, msg.user_id, r) for r in replies]
        if not await self.store.complete_turn(
            msg,
            state,
            outgoing,
            unanswered,
            handoff,
            miss=miss,
            handoff_reason=reason,
            rating=rating,
        ):
            return 0  # already handled (a resumed message raced a live one): nothing queued
        if handoff and self.on_handoff is not None:
            try:
                await self.on_handoff(msg)
            except Exception:  # the citizen's answer is committed: never fail the turn for it
                log.exception("%s message %s: staff alert failed", msg.platform, msg.message_id)
        if outgoing:
            self.wake()
        return len(outgoing)

    async def _open_handoff(self, msg: Incoming, handoff: Handoff | None) -> Handoff | None:
        """The sender's handoff in force (of `handoff`, the open one read), or None; one past
        its time is closed here (the bot answers again from this message on)."""
        if handoff is None:
            return None
        now = self.clock()
        if handoff.active(now, self.handoff_timeout):
            return handoff
        if await self.store.expire_handoff(handoff.id, now):
            log.info("%s handoff %d: timed out, the bot answers again", msg.platform, handoff.id)
            await self._after_close(handoff)
        return None

    async def _closed_by_citizen(self, handoff: Handoff) -> None:
        if await self.store.close_handoff(handoff.id, ClosedBy.CITIZEN.value, self.clock()):
            log.info("%s handoff %d: ended by the citizen", handoff.platform, handoff.id)
            await self._after_close(handoff)

    async def _after_close(self, handoff: Handoff) -> None:
        if self.on_handoff_closed is None:
            return
        try:
            await self.on_handoff_closed(handoff)
        except Exception:  # the platform's thread control must not fail the citizen's turn
            log.exception("%s handoff %d: after-close step failed", handoff.platform, handoff.id)

    async def _forget(self, msg: Incoming) -> int:
        """The user withdrew consent (Luật Bảo vệ dữ liệu cá nhân 2025; Nghị định 13/2023):
        delete what is stored about them instead of running the dialog, and answer nothing.
        Their earlier messages were handled first (one queue per sender); a later one starts a
        conversation afresh."""
        forgotten = await self.store.forget_user(msg.platform, msg.user_id, withdrawal=msg)
        log.info(
            "%s user withdrew consent (message %s): %d stored rows deleted",
            msg.platform,
            msg.message_id,
            forgotten.total,
        )
        return 0


_MISS_KINDS = {
    TurnKind.FALLBACK: MissKind.FALLBACK,
    TurnKind.CLARIFY: MissKind.CLARIFY,
    TurnKind.HANDOFF: MissKind.HANDOFF,
}


def miss_of(turn: DialogTurn, text: str) -> Miss | None:
    """What the review inbox keeps of a turn the bot did not answer outright: a fallback, an
    ask-back, a handoff asked in words (the "Gặp cán bộ" button has no words to learn from),
    the question of an answer rated 👎 (when it was asked in words); None for any other turn.
    The text is normalised as the matcher reads it (the first READ_CHARS characters,
    `bot.text.tokens`)."""
    rating = turn.rating
    if rating is not None:
        if rating.score is not Score.DOWN or not rating.question.strip():
            return None
        question = rating.question[:READ_CHARS]
        normalised = " ".join(tokens(question))
        return Miss(MissKind.RATED_DOWN, normalised, rating.topic, text=question)
    # A handoff after two misses in a row is, for review, a question not understood.
    kind = MissKind.FALLBACK if turn.unanswered else _MISS_KINDS.get(turn.kind)
    if kind is None or (kind is not MissKind.FALLBACK and not text.strip()):
        return None
    match = turn.match
    candidates = tuple((c.topic, round(c.score, 3)) for c in match.candidates) if match else ()
    guess = turn.topic if turn.topic is not None else (match.topic if match else None)
    return Miss(kind, " ".join(tokens(text[:READ_CHARS])), guess, candidates)
