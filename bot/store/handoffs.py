"""Handoffs (issue 11, "Human handoff"): the queue staff work, a conversation's messages, and
what staff do to a handoff (take it over, reply, close it).

A handoff is opened by a turn (`Messages.complete_turn`); the turn queue reads the sender's
open one before each turn to stay silent (bot/turns/queue.py). A staff reply or the goodbye of a
close is queued in the outbox in the SAME transaction that checks the handoff is still open, so
a reply can never go out on a handoff someone else closed a moment before. Timeouts are the
caller's (the settings'): a handoff past its time is treated as ended and closed lazily.
Outbox rows take the store's clock, the delivery worker's, whatever `now` the caller passes.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from bot.models import Outgoing, Platform
from bot.models.handoffs import ClosedBy, Handoff, HandoffReason, Line, Speaker, Waiting
from bot.store.engine import Engine
from bot.store.outbox import body_json, insert_outbox

STAFF_SOURCE = "staff"  # the outbox `source` of staff replies
CLOSE_SOURCE = "handoff"  # and of the bot's word to the citizen when staff close
_OPEN = "SELECT * FROM handoffs WHERE platform = ? AND user_id = ? AND status = 'open'"
# Still within its time: `since` is now minus the timeout.
_ACTIVE = "max(created_at, coalesce(staff_at, 0)) > ?"


class Handoffs(Engine):
    """Store methods for handoffs and the conversations staff read."""

    async def current_handoff(self, platform: Platform, user_id: str) -> Handoff | None:
        """The sender's open handoff (maybe past its time: the caller decides), or None. Read
        once per turn: it joins the next group commit, as the state's read does."""

        def work(db: Database) -> Handoff | None:
            rows = list(db.query(_OPEN + " ORDER BY id DESC LIMIT 1", [platform.value, user_id]))
            return _handoff(rows[0]) if rows else None

        return await self._read(work)

    async def handoff(self, handoff_id: int) -> Handoff | None:
        def work(db: Database) -> Handoff | None:
            rows = list(db.query("SELECT * FROM handoffs WHERE id = ?", [handoff_id]))
            return _handoff(rows[0]) if rows else None

        return await self._run(work)

    async def handoff_queue(self, since: float, lines: int = 3) -> list[Waiting]:
        """Open handoffs still within their time (opened or last answered after `since`),
        oldest first, each with the conversation's last `lines` messages."""

        def work(db: Database) -> list[Waiting]:
            rows = db.query(
                f"SELECT * FROM handoffs WHERE status = 'open' AND {_ACTIVE} ORDER BY id",
                [since],
            )
            waiting = []
            for row in list(rows):
                h = _handoff(row)
                last = _last_inbound(db, h.platform, h.user_id)
                tail = _conversation(db, h.platform, h.user_id, lines)
                waiting.append(Waiting(h, tuple(tail), last))
            return waiting

        return await self._run(work)

    async def conversation(
        self, platform: Platform, user_id: str, limit: int = 100
    ) -> tuple[list[Line], float | None]:
        """The user's last `limit` messages and replies, oldest first, and when they last
        wrote (store clock; the platforms' reply windows run from it)."""

        def work(db: Database) -> tuple[list[Line], float | None]:
            lines = _conversation(db, platform, user_id, limit)
            return lines, _last_inbound(db, platform, user_id)

        return await self._run(work)

    async def expire_handoff(self, handoff_id: int, now: float) -> bool:
        """Close a handoff past its time (the caller checked); False if it was not open."""
        return await self._close(handoff_id, ClosedBy.TIMEOUT.value, now, ())

    async def close_handoff(
        self, handoff_id: int, by: str, now: float, goodbye: Sequence[Outgoing] = ()
    ) -> bool:
        """Close an open handoff and queue `goodbye` (the bot is back) in one transaction;
        False, writing nothing, when it was not open any more."""
        return await self._close(handoff_id, by, now, goodbye)

    async def _close(
        self, handoff_id: int, by: str, now: float, goodbye: Sequence[Outgoing]
    ) -> bool:
        bodies = [(o, body_json(o.reply)) for o in goodbye]

        def work(db: Database) -> bool:
            closed = db.execute(
                "UPDATE handoffs SET status = 'closed', closed_at = ?, closed_by = ?"
                " WHERE id = ? AND status = 'open'",
                [now, by, handoff_id],
            ).rowcount
            if closed:
                insert_outbox(db, bodies, self._clock(), None, CLOSE_SOURCE)
            return bool(closed)

        return await self._write(work)

    async def take_handoff(self, handoff_id: int, by: str, now: float) -> bool:
        """Assign an open handoff to `by` (taking it from whoever had it); False if not open."""
        sql = "UPDATE handoffs SET assignee = ?, taken_at = ? WHERE id = ? AND status = 'open'"
        return await self._write(lambda db: bool(db.execute(sql, [by, now, handoff_id]).rowcount))

    async def queue_staff_reply(
        self, handoff_id: int, by: str, outgoing: Sequence[Outgoing], now: float
    ) -> bool:
        """Queue a staff reply on an open handoff: the outbox rows, staff's last reply time
        (the timeout runs again from it) and, when nobody had taken it over, `by` as its
        assignee; all in one transaction. False, queuing nothing, if it is not open."""
        bodies = [(o, body_json(o.reply)) for o in outgoing]

        def work(db: Database) -> bool:
            updated = db.execute(
                "UPDATE handoffs SET staff_at = ?, assignee = coalesce(assignee, ?),"
                " taken_at = coalesce(taken_at, ?) WHERE id = ? AND status = 'open'",
                [now, by, now, handoff_id],
            ).rowcount
            if updated:
                insert_outbox(db, bodies, self._clock(), None, STAFF_SOURCE)
            return bool(updated)

        return await self._write(work)

    async def set_thread_passed(self, handoff_id: int, passed: bool) -> None:
        """Record whether the Messenger thread is with the Page Inbox (taken back on close)."""
        sql = "UPDATE handoffs SET thread_passed = ? WHERE id = ?"
        await self._write(lambda db: db.execute(sql, [int(passed), handoff_id]))


# -- helpers: all run on the store thread ------------------------------------------------


def open_handoff(
    db: Database, platform: Platform, user_id: str, now: float, reason: HandoffReason
) -> None:
    """Open a handoff for the user unless one is open (a turn's transaction calls this)."""
    db.execute(
        "INSERT INTO handoffs (platform, user_id, created_at, reason) SELECT ?, ?, ?, ?"
        " WHERE NOT EXISTS (SELECT 1 FROM handoffs WHERE platform = ?"
        " AND user_id = ? AND status = 'open')",
        [platform.value, user_id, now, reason.value, platform.value, user_id],
    )


def _handoff(row: dict[str, Any]) -> Handoff:
    return Handoff(
        id=row["id"],
        platform=Platform(row["platform"]),
        user_id=row["user_id"],
        created_at=row["created_at"],
        status=row["status"],
        reason=HandoffReason(row["reason"]),
        assignee=row["assignee"],
        taken_at=row["taken_at"],
        staff_at=row["staff_at"],
        closed_at=row["closed_at"],
        closed_by=row["closed_by"],
        thread_passed=bool(row["thread_passed"]),
    )


def _last_inbound(db: Database, platform: Platform, user_id: str) -> float | None:
    row = db.execute(
        "SELECT last_inbound_at FROM conversations WHERE platform = ? AND user_id = ?",
        [platform.value, user_id],
    ).fetchone()
    return None if row is None else row[0]


def _conversation(db: Database, platform: Platform, user_id: str, limit: int) -> list[Line]:
    """The newest `limit` messages both ways, oldest first."""
    key = [platform.value, user_id, limit]
    inbound = db.query(
        "SELECT received_at AS at, id, text, payload FROM inbound"
        " WHERE platform = ? AND user_id = ? ORDER BY id DESC LIMIT ?",
        key,
    )
    lines: list[tuple[float, int, int, Line]] = []
    for row in inbound:
        text = row["text"] or (f"[{row['payload']}]" if row["payload"] else "")
        lines.append((row["at"], 0, row["id"], Line(Speaker.CITIZEN, row["at"], text)))
    outbox = db.query(
        "SELECT created_at AS at, id, body, source, status, last_error FROM outbox"
        " WHERE platform = ? AND user_id = ? ORDER BY id DESC LIMIT ?",
        key,
    )
    for row in outbox:
        try:
            text = str(json.loads(row["body"]).get("text", ""))
        except ValueError:
            text = ""
        speaker = Speaker.STAFF if row["source"] == STAFF_SOURCE else Speaker.BOT
        line = Line(speaker, row["at"], text, row["status"], row["last_error"])
        lines.append((row["at"], 1, row["id"], line))
    # A turn's replies are queued in the transaction that handled its message: same time,
    # after it.
    lines.sort(key=lambda item: item[:3])
    return [line for *_, line in lines[-limit:]]
