"""Inbound messages and conversations: the idempotency gate and the all-or-nothing turn.

Durability contract (DESIGN.md, "How a message flows"): `record_inbound` is the idempotency gate;
`complete_turn` saves the state, queues the replies and marks the message handled in ONE
transaction, so a crash leaves either the whole turn or none of it. Both are units of the
engine's group commit. Also here: the unanswered questions, handoffs and ratings a turn may log.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from bot.models import CaseStep, EventKind, Incoming, Outgoing, Platform, State
from bot.models.handoffs import HandoffReason
from bot.models.rating import Rating
from bot.models.review import Miss, MissKind
from bot.store.engine import Engine, trim_error
from bot.store.handoffs import open_handoff
from bot.store.outbox import body_json, insert_outbox

log = logging.getLogger(__name__)


class Messages(Engine):
    """Store methods for inbound messages and conversation state."""

    # -- inbound -------------------------------------------------------------------------

    async def record_inbound(self, msg: Incoming) -> bool:
        """Record a message before acknowledging it. False: already seen (a platform retry)."""
        (fresh,) = await self.record_inbound_many([msg])
        return fresh

    async def record_inbound_many(self, msgs: Sequence[Incoming]) -> list[bool]:
        """`record_inbound` for several messages in ONE transaction (one commit, one sync to
        disk): a Messenger batch, or the messages of concurrent webhooks. One flag per message,
        in order; a message id seen before, or earlier in `msgs`, gives False. All or none of
        `msgs` are recorded (a group commit keeps them in one savepoint)."""

        def work(db: Database) -> list[bool]:
            now = self._clock()
            fresh = []
            for msg in msgs:
                new = _insert_inbound(db, msg, now)
                fresh.append(new)
                if new:
                    db.execute(
                        "INSERT INTO conversations (platform, user_id, last_inbound_at)"
                        " VALUES (?, ?, ?) ON CONFLICT (platform, user_id)"
                        " DO UPDATE SET last_inbound_at = excluded.last_inbound_at",
                        [msg.platform.value, msg.user_id, now],
                    )
            return fresh

        return await self._write(work) if msgs else []

    async def pending_inbound(self, limit: int | None = 100) -> list[Incoming]:
        """Messages recorded but neither handled nor failed, oldest first (`raw` is None); all
        of them when `limit` is None.

        After a crash these were acknowledged but never answered: re-process them at start-up,
        keeping apart the messages recorded since (`TurnQueue.start_resume`), or a message
        being handled right now would run twice.
        """

        def work(db: Database) -> list[Incoming]:
            rows = db.query(
                "SELECT * FROM inbound WHERE status = 'pending' ORDER BY id LIMIT ?",
                [-1 if limit is None else limit],  # SQLite: a negative LIMIT has no bound
            )
            return [_incoming(row) for row in rows]

        return await self._run(work)

    async def fail_inbound(self, platform: Platform, message_id: str, error: str) -> None:
        """Give up a message whose handling raised: it is no longer pending, so a restart does
        not replay a poison message. `error` is stored: an exception class name, never a secret.
        """

        def work(db: Database) -> None:
            db.execute(
                "UPDATE inbound SET status = 'failed', error = ?"
                " WHERE platform = ? AND message_id = ? AND status = 'pending'",
                [trim_error(error), platform.value, message_id],
            )

        await self._write(work)

    # -- conversations -------------------------------------------------------------------

    async def load_state(self, platform: Platform, user_id: str) -> State | None:
        """The saved state, or None for a new user. Unknown keys are ignored, missing ones take
        their defaults; an unreadable state is logged and treated as none."""

        def work(db: Database) -> str | None:
            row = db.execute(
                "SELECT state FROM conversations WHERE platform = ? AND user_id = ?",
                [platform.value, user_id],
            ).fetchone()
            return None if row is None else row[0]

        text = await self._read(work)  # one per message: it joins the group commit
        return None if text is None else _state_from_json(text)

    async def last_inbound_at(self, platform: Platform, user_id: str) -> float | None:
        """When the user last wrote (store clock); Messenger's 24-hour window runs from it."""

        def work(db: Database) -> float | None:
            row = db.execute(
                "SELECT last_inbound_at FROM conversations WHERE platform = ? AND user_id = ?",
                [platform.value, user_id],
            ).fetchone()
            return None if row is None else row[0]

        return await self._run(work)

    async def complete_turn(
        self,
        msg: Incoming,
        state: State,
        outgoing: Sequence[Outgoing],
        unanswered: bool = False,
        handoff: bool = False,
        miss: Miss | None = None,
        handoff_reason: HandoffReason = HandoffReason.ASKED,
        rating: Rating | None = None,
        to_staff: bool = False,
    ) -> bool:
        """In ONE transaction: save `state`, queue `outgoing` (in order), mark `msg` handled, log
        an unanswered question and open a handoff (unless one is open) when asked.

        `miss` keeps the message for the review inbox (a fallback, an ask-back, a handoff) with
        its normalised text and the matcher's guess; `unanswered` alone keeps a fallback without
        them. `rating` stores the citizen's 👍 / 👎 of an earlier answer (bot/models/rating.py).
        `to_staff` marks a message kept for staff, unanswered, while they have the conversation.

        Returns False, writing nothing, if `msg` was already handled: a turn is never recorded
        twice. A message never passed to `record_inbound` (web chat, CLI) is recorded here.
        Turns completed while the store is busy share one commit; each stays all-or-nothing.
        """
        state_json = _state_json(state)
        bodies = [(o, body_json(o.reply)) for o in outgoing]

        def work(db: Database) -> bool:
            now = self._clock()
            key = [msg.platform.value, msg.message_id]
            _insert_inbound(db, msg, now)
            updated = db.execute(
                "UPDATE inbound SET status = 'handled', handled_at = ?, error = NULL,"
                " to_staff = ? WHERE platform = ? AND message_id = ? AND status != 'handled'",
                [now, int(to_staff), *key],
            )
            if updated.rowcount == 0:
                return False
            (inbound_id,) = db.execute(
                "SELECT id FROM inbound WHERE platform = ? AND message_id = ?", key
            ).fetchone()
            db.execute(
                "INSERT INTO conversations (platform, user_id, state, updated_at,"
                " last_inbound_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, user_id)"
                " DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                [msg.platform.value, msg.user_id, state_json, now, now],
            )
            insert_outbox(db, bodies, now, inbound_id, "turn")
            miss_row = Miss(MissKind.FALLBACK, "") if miss is None and unanswered else miss
            if miss_row is not None:
                _insert_miss(db, msg, inbound_id, now, miss_row)
            if rating is not None:
                _insert_rating(db, msg, now, rating)
            if handoff:
                open_handoff(db, msg.platform, msg.user_id, now, handoff_reason)
            return True

        return await self._write(work)

    async def unanswered_questions(self, limit: int = 100) -> list[dict[str, Any]]:
        """Questions the bot could not answer (fallbacks), newest first, for staff review."""
        sql = "SELECT * FROM unanswered WHERE kind = 'fallback' ORDER BY id DESC LIMIT ?"
        return await self._run(lambda db: list(db.query(sql, [limit])))

    async def open_handoffs(self) -> list[dict[str, Any]]:
        """Citizens waiting for a member of staff, oldest first."""
        sql = "SELECT * FROM handoffs WHERE status = 'open' ORDER BY id"
        return await self._run(lambda db: list(db.query(sql)))


# -- helpers: all run on the store thread ------------------------------------------------


def _insert_inbound(db: Database, msg: Incoming, now: float) -> bool:
    """Insert `msg` as pending unless already there; True if it was new."""
    cursor = db.execute(
        "INSERT INTO inbound (platform, message_id, user_id, kind, text, payload, timestamp_ms,"
        " received_at) VALUES (:platform, :message_id, :user_id, :kind, :text, :payload,"
        " :timestamp_ms, :received_at) ON CONFLICT (platform, message_id) DO NOTHING",
        {
            "platform": msg.platform.value,
            "message_id": msg.message_id,
            "user_id": msg.user_id,
            "kind": msg.kind.value,
            "text": msg.text,
            "payload": msg.payload,
            "timestamp_ms": msg.timestamp_ms,
            "received_at": now,
        },
    )
    return cursor.rowcount == 1


# A question staff dismissed or marked out of scope stays decided: the same normalised text
# asked again is kept already hidden (with the decision and who made it), not shown again. A
# taught one that the bot still misses comes back: the teaching did not work.
_HIDDEN = (
    "SELECT status, resolved_by FROM unanswered WHERE normalised = ? AND normalised != ''"
    " AND status IN ('dismissed', 'out_of_scope') ORDER BY id DESC LIMIT 1"
)


def _insert_miss(db: Database, msg: Incoming, inbound_id: int, now: float, miss: Miss) -> None:
    decided = db.execute(_HIDDEN, [miss.normalised]).fetchone()
    status, by = decided if decided is not None else ("open", None)
    db.execute(
        "INSERT INTO unanswered (platform, user_id, text, inbound_id, created_at, kind,"
        " normalised, guess, candidates, status, resolved_at, resolved_by)"
        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            msg.platform.value,
            msg.user_id,
            msg.text if miss.text is None else miss.text,
            inbound_id,
            now,
            miss.kind.value,
            miss.normalised,
            miss.guess,
            json.dumps([list(c) for c in miss.candidates], ensure_ascii=False),
            status,
            None if decided is None else now,
            by,
        ],
    )


def _insert_rating(db: Database, msg: Incoming, now: float, rating: Rating) -> None:
    db.execute(
        "INSERT INTO ratings (platform, user_id, score, topic, facet, message_id, created_at)"
        " VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            msg.platform.value,
            msg.user_id,
            rating.score.value,
            rating.topic,
            rating.facet,
            rating.message_id,
            now,
        ],
    )


def _incoming(row: dict[str, Any]) -> Incoming:
    return Incoming(
        platform=Platform(row["platform"]),
        user_id=row["user_id"],
        message_id=row["message_id"],
        kind=EventKind(row["kind"]),
        text=row["text"],
        payload=row["payload"],
        timestamp_ms=row["timestamp_ms"],
    )


_STATE_FIELDS = tuple(f.name for f in dataclasses.fields(State))


def _state_json(state: State) -> str:
    # State holds only str, int, bool, None and tuples of str: JSON as they are (see
    # outbox.body_json).
    return json.dumps({name: getattr(state, name) for name in _STATE_FIELDS}, ensure_ascii=False)


def _state_from_json(text: str) -> State | None:
    try:
        data = json.loads(text)
    except ValueError:
        log.warning("unreadable conversation state ignored")
        return None
    if not isinstance(data, dict):
        return None
    values: dict[str, Any] = {}
    for f in dataclasses.fields(State):
        value = data.get(f.name)
        # JSON has no tuples; a value of the wrong type (a future or broken schema) is dropped
        # and the field keeps its default rather than breaking the citizen's conversation.
        if isinstance(f.default, tuple):
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                values[f.name] = tuple(value)
        elif f.name == "lang":
            if value in ("vi", "en"):
                values[f.name] = value
        elif f.name == "case_step":
            if isinstance(value, str) and value in CaseStep.__members__.values():
                values[f.name] = CaseStep(value)
        elif f.default is None:
            if isinstance(value, str):
                values[f.name] = value
        elif isinstance(f.default, bool):
            if isinstance(value, bool):
                values[f.name] = value
        elif isinstance(value, type(f.default)) and not isinstance(value, bool):
            values[f.name] = value
    return State(**values)
