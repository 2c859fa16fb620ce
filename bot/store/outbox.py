"""The outbox: replies and notices waiting to be sent, delivered at least once.

A claim is a lease that expires if the worker dies mid-send; only the oldest pending row of
each user can be claimed, so one user's messages go out in order. Claims and send outcomes are
units of the engine's group commit. `insert_outbox` and `body_json` are how the turn (messages)
and the dossier import (cases) queue rows inside their own transactions.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from bot.models import Outgoing, Platform, QuickReply, Reply
from bot.store.engine import Engine, trim_error


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One claimed outbox row. `attempts` counts this attempt too (1 on the first send)."""

    id: int
    outgoing: Outgoing
    attempts: int


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """An outbox row as stored, for the admin page and tests."""

    id: int
    outgoing: Outgoing
    seq: int
    status: str
    attempts: int
    next_attempt_at: float
    last_error: str | None
    created_at: float
    sent_at: float | None
    source: str


class Outbox(Engine):
    """Store methods for the outbox."""

    # -- outbox --------------------------------------------------------------------------

    async def enqueue(self, outgoing: Sequence[Outgoing], source: str = "notice") -> None:
        """Queue messages not tied to an inbound message (notifications), in order."""
        bodies = [(o, body_json(o.reply)) for o in outgoing]

        def work(db: Database) -> None:
            insert_outbox(db, bodies, self._clock(), None, source)

        await self._write(work)

    async def claim_due(
        self,
        now: float,
        limit: int,
        lease_seconds: float,
        platforms: Collection[Platform] | None = None,
    ) -> list[OutboxRow]:
        """Claim up to `limit` pending rows due at `now`, earliest due first (then oldest),
        counting an attempt.

        Only the OLDEST pending row of each user can be claimed, so one user's messages go out
        in order, one at a time. Claiming moves `next_attempt_at` to `now + lease_seconds`: if
        the worker dies before `mark_*`, the row comes due again (at-least-once delivery).
        The lease must outlast a send. `platforms` limits the claim to those with a sender.
        """
        where = ""
        params: list[Any] = [now]
        if platforms is not None:
            if not platforms:
                return []  # (`IN ()` is no query at all for SQLite with INDEXED BY)
            where = f" AND o.platform IN ({', '.join('?' for _ in platforms)})"
            params.extend(p.value for p in platforms)

        def work(db: Database) -> list[OutboxRow]:
            # Walk the due index in its own order and stop at `limit`. Left to itself the
            # planner picked outbox_user for the platform filter and sorted EVERY pending row
            # (~10 ms per claim at a 5,000-row backlog, one claim per send: bench/load.py).
            rows = list(
                db.query(
                    "SELECT o.id, o.platform, o.user_id, o.body, o.attempts"
                    " FROM outbox o INDEXED BY outbox_due"
                    " WHERE o.status = 'pending' AND o.next_attempt_at <= ?" + where + " AND"
                    " NOT EXISTS (SELECT 1 FROM outbox e WHERE e.status = 'pending' AND"
                    " e.platform = o.platform AND e.user_id = o.user_id AND e.id < o.id)"
                    " ORDER BY o.next_attempt_at, o.id LIMIT ?",
                    [*params, limit],
                )
            )
            db.conn.executemany(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
                [(now + lease_seconds, row["id"]) for row in rows],
            )
            return [OutboxRow(r["id"], _outgoing(r), r["attempts"] + 1) for r in rows]

        return await self._write(work)

    async def mark_sent(self, row_id: int) -> None:
        """The platform accepted the message. Outcomes of sends that end while the store is
        busy share one commit (the delivery worker runs several sends at once)."""
        await self._finish(row_id, "status = 'sent', sent_at = ?", [self._clock()])

    async def mark_retry(self, row_id: int, next_attempt_at: float, error: str) -> None:
        """A retryable failure: try again from `next_attempt_at`; the user's later rows wait."""
        await self._finish(
            row_id, "next_attempt_at = ?, last_error = ?", [next_attempt_at, trim_error(error)]
        )

    async def mark_failed(self, row_id: int, error: str) -> None:
        """Given up: the reason is kept and the user's later rows may go out."""
        await self._finish(row_id, "status = 'failed', last_error = ?", [trim_error(error)])

    async def _finish(self, row_id: int, assignments: str, params: list[Any]) -> None:
        sql = f"UPDATE outbox SET {assignments} WHERE id = ? AND status = 'pending'"
        await self._write(lambda db: db.execute(sql, [*params, row_id]))

    async def backlog(self) -> int:
        """Rows still to be delivered (including those waiting for a retry)."""
        sql = "SELECT count(*) FROM outbox WHERE status = 'pending'"
        return int(await self._run(lambda db: db.execute(sql).fetchone()[0]))

    async def outbox_rows(
        self, status: str | None = None, user_id: str | None = None, limit: int = 100
    ) -> list[OutboxRecord]:
        """Outbox rows, oldest first, optionally of one status and/or one user."""
        sql = "SELECT * FROM outbox WHERE (? IS NULL OR status = ?) AND (? IS NULL OR user_id = ?)"
        params = [status, status, user_id, user_id, limit]

        def work(db: Database) -> list[OutboxRecord]:
            rows = db.query(sql + " ORDER BY id LIMIT ?", params)
            return [_record(r) for r in rows]

        return await self._run(work)


# -- helpers: all run on the store thread ------------------------------------------------


def insert_outbox(
    db: Database,
    bodies: Sequence[tuple[Outgoing, str]],
    now: float,
    inbound_id: int | None,
    source: str,
) -> None:
    db.conn.executemany(
        "INSERT INTO outbox (platform, user_id, body, seq, next_attempt_at, created_at,"
        " inbound_id, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (o.platform.value, o.user_id, body, seq, now, now, inbound_id, source)
            for seq, (o, body) in enumerate(bodies)
        ],
    )


def _record(row: dict[str, Any]) -> OutboxRecord:
    names = [f.name for f in dataclasses.fields(OutboxRecord) if f.name != "outgoing"]
    return OutboxRecord(outgoing=_outgoing(row), **{name: row[name] for name in names})


def body_json(reply: Reply) -> str:
    # By hand: dataclasses.asdict deep-copies every field, and showed in the turn's profile.
    quick = [{"title": q.title, "payload": q.payload} for q in reply.quick_replies]
    body: dict[str, Any] = {"text": reply.text, "quick_replies": quick}
    if reply.by_staff:  # only when set: the rows of turns stay as they were
        body["by_staff"] = True
    if reply.human_agent:
        body["human_agent"] = True
    if reply.hands_over:
        body["hands_over"] = True
    return json.dumps(body, ensure_ascii=False)


def _outgoing(row: dict[str, Any]) -> Outgoing:
    body = json.loads(row["body"])
    quick = tuple(QuickReply(q["title"], q["payload"]) for q in body.get("quick_replies", ()))
    reply = Reply(
        text=body["text"],
        quick_replies=quick,
        by_staff=body.get("by_staff") is True,
        human_agent=body.get("human_agent") is True,
        hands_over=body.get("hands_over") is True,
    )
    return Outgoing(Platform(row["platform"]), row["user_id"], reply)
