"""Commune clerks (issue 12): the registry, and notices queued once per event and recipient.

A notice to a recipient is one `notifications` row and, when it can be sent, one outbox row,
written in the same transaction; UNIQUE (event, recipient) makes queuing the same notice again
(a re-run, a catch-up after a restart) a no-op. The outbox's outcome is copied onto the notice
by a trigger (migration 0007_clerks), so the report outlives the outbox's purge of sent rows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from bot.models import Platform, Reply
from bot.models.clerks import Clerk, NoticeRecord, Recipient
from bot.store.engine import Engine, trim_error
from bot.store.outbox import body_json


@dataclass(frozen=True, slots=True)
class ClerkCounts:
    """What an import of the registry did."""

    added: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass(frozen=True, slots=True)
class QueuedCounts:
    """What queuing one notice did: sent to the outbox, recorded as failed without a send
    (blocked), or skipped because this event already went to that recipient."""

    queued: int = 0
    blocked: int = 0
    already: int = 0


class Clerks(Engine):
    """Store methods for the clerk registry and the notices sent to clerks."""

    # -- the registry --------------------------------------------------------------------

    async def upsert_clerks(self, clerks: Sequence[Clerk]) -> ClerkCounts:
        """Add or update clerks (keyed by platform and user id) in ONE transaction."""

        def work(db: Database) -> ClerkCounts:
            now = self._clock()
            added = updated = unchanged = 0
            for c in clerks:
                row = db.execute(
                    "SELECT name, commune, phone FROM clerks WHERE platform = ? AND user_id = ?",
                    [c.platform.value, c.user_id],
                ).fetchone()
                if row is None:
                    db.execute(
                        "INSERT INTO clerks (name, commune, platform, user_id, phone, created_at,"
                        " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                        [c.name, c.commune, c.platform.value, c.user_id, c.phone, now, now],
                    )
                    added += 1
                elif tuple(row) == (c.name, c.commune, c.phone):
                    unchanged += 1
                else:
                    db.execute(
                        "UPDATE clerks SET name = ?, commune = ?, phone = ?, updated_at = ?"
                        " WHERE platform = ? AND user_id = ?",
                        [c.name, c.commune, c.phone, now, c.platform.value, c.user_id],
                    )
                    updated += 1
            return ClerkCounts(added, updated, unchanged)

        return await self._write(work)

    async def clerks(self, commune: str | None = None) -> list[Clerk]:
        """The registry (of one commune, by code), by commune then name."""
        sql = "SELECT * FROM clerks WHERE (? IS NULL OR commune = ?) ORDER BY commune, name, id"
        return await self._run(lambda db: [_clerk(r) for r in db.query(sql, [commune, commune])])

    async def clerk(self, ident: str) -> Clerk | None:
        """A clerk by registry number, or by platform user id (the first if on both)."""
        sql = "SELECT * FROM clerks WHERE id = ? OR user_id = ? ORDER BY id = ? DESC, id LIMIT 1"
        number = int(ident) if ident.isdigit() and len(ident) < 12 else -1

        def work(db: Database) -> Clerk | None:
            rows = list(db.query(sql, [number, ident, number]))
            return _clerk(rows[0]) if rows else None

        return await self._run(work)

    async def remove_clerk(self, clerk_id: int) -> int:
        """Remove a clerk and the record of the notices sent to them (staff data is not kept
        past its use); the number of notice records deleted, -1 if no such clerk."""

        def work(db: Database) -> int:
            row = db.execute(
                "SELECT platform, user_id FROM clerks WHERE id = ?", [clerk_id]
            ).fetchone()
            if row is None:
                return -1
            db.execute("DELETE FROM clerks WHERE id = ?", [clerk_id])
            return int(
                db.execute(
                    "DELETE FROM notifications WHERE platform = ? AND address = ?", list(row)
                ).rowcount
            )

        return await self._write(work)

    # -- notices -------------------------------------------------------------------------

    async def queue_notice(
        self, event: str, text: str, recipients: Sequence[Recipient]
    ) -> QueuedCounts:
        """Queue `text` to each recipient once for `event`, in ONE transaction: recipients
        that already had this event queued are skipped, blocked ones recorded as failed with
        why (and sent to when the event is queued again once they are no longer blocked)."""

        def work(db: Database) -> QueuedCounts:
            now = self._clock()
            queued = blocked = already = 0
            for r in recipients:
                seen = db.execute(
                    "SELECT id, outbox_id FROM notifications WHERE event = ? AND recipient = ?",
                    [event, r.key],
                ).fetchone()
                # A recipient that could not be sent to before (no outbox row: blocked) may be
                # sent to now; one that was queued once never again.
                if seen is not None and (seen[1] is not None or r.blocked is not None):
                    already += 1
                    continue
                outbox_id: int | None = None
                status, error = "pending", None
                if r.blocked is not None:
                    status, error = "failed", trim_error(r.blocked)
                    blocked += 1
                else:
                    cursor = db.execute(
                        "INSERT INTO outbox (platform, user_id, body, seq, next_attempt_at,"
                        " created_at, source) VALUES (?, ?, ?, 0, ?, ?, 'clerks')",
                        [r.platform.value, r.address, body_json(Reply(text)), now, now],
                    )
                    outbox_id = cursor.lastrowid
                    queued += 1
                if seen is not None:
                    db.execute(
                        "UPDATE notifications SET outbox_id = ?, status = ?, error = NULL,"
                        " created_at = ? WHERE id = ?",
                        [outbox_id, status, now, seen[0]],
                    )
                    continue
                db.execute(
                    "INSERT INTO notifications (event, recipient, label, platform, address, text,"
                    " outbox_id, status, error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    [event, r.key, r.label, r.platform.value, r.address, text, outbox_id,
                     status, error, now],
                )  # fmt: skip
            return QueuedCounts(queued, blocked, already)

        return await self._write(work)

    async def event_seen(self, event: str) -> bool:
        """Whether any notice of `event` was queued (a digest already sent for its day)."""
        sql = "SELECT 1 FROM notifications WHERE event = ? LIMIT 1"
        return bool(await self._run(lambda db: db.execute(sql, [event]).fetchone()))

    async def opening_message(self, platform: Platform, user_id: str, at: float) -> str:
        """The text of the user's last message received by `at` (a handoff's opening: the
        question staff are asked to answer); '' when there is none or it had no text."""
        sql = (
            "SELECT text FROM inbound INDEXED BY inbound_user WHERE platform = ? AND user_id = ?"
            " AND received_at <= ? ORDER BY id DESC LIMIT 1"
        )

        def work(db: Database) -> str:
            row = db.execute(sql, [platform.value, user_id, at]).fetchone()
            return "" if row is None else str(row[0] or "")

        return await self._run(work)

    async def notices(self, since: float = 0.0, limit: int = 500) -> list[NoticeRecord]:
        """Notices queued since `since`, newest first."""
        sql = "SELECT * FROM notifications WHERE created_at >= ? ORDER BY id DESC LIMIT ?"
        return await self._run(lambda db: [_notice(r) for r in db.query(sql, [since, limit])])


def _clerk(row: dict[str, Any]) -> Clerk:
    return Clerk(
        name=row["name"],
        commune=row["commune"],
        platform=Platform(row["platform"]),
        user_id=row["user_id"],
        phone=row["phone"],
        id=row["id"],
    )


def _notice(row: dict[str, Any]) -> NoticeRecord:
    return NoticeRecord(
        id=row["id"],
        event=row["event"],
        recipient=row["recipient"],
        label=row["label"],
        platform=Platform(row["platform"]),
        address=row["address"],
        text=row["text"],
        status=row["status"],
        error=row["error"],
        attempts=row["attempts"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
    )
