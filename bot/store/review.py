"""The review inbox's rows (issue 11, "Learning from misses"): the open misses, and staff's
decisions on them.

Every miss lives in the `unanswered` table (migration 0006): kept `retain_review_days`, deleted
with its user on a withdrawal (bot/store/privacy.py). A decision marks a group's rows in ONE
transaction, and only if every one of them is still open: two members of staff acting on the
same group cannot both apply.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from sqlite_utils import Database

from bot.models.review import MissKind, MissRow, MissStatus
from bot.store.engine import Engine

# The inbox reads at most this many open misses, the newest (grouping is linear-ish in them).
NEWEST = 2000


class Review(Engine):
    """Store methods for the review inbox."""

    async def open_misses(self, upto: int | None = None, limit: int = NEWEST) -> list[MissRow]:
        """The newest `limit` open misses (with an id at most `upto`, when given), newest
        first."""
        sql = (
            "SELECT id, kind, platform, text, normalised, guess, candidates, created_at"
            " FROM unanswered WHERE status = 'open' AND id <= ? ORDER BY id DESC LIMIT ?"
        )
        params = [2**62 if upto is None else upto, limit]

        def work(db: Database) -> list[MissRow]:
            return [_miss(row) for row in db.query(sql, params)]

        return await self._run(work)

    async def resolve_misses(
        self, ids: Sequence[int], status: MissStatus, by: str, now: float
    ) -> bool:
        """Mark the misses `ids` with staff's decision, all of them or none: False, changing
        nothing, when one of them is no longer open (someone else decided first, or the
        retention purge took it)."""
        if status is MissStatus.OPEN or not ids:
            raise ValueError("a decision needs a closing status and some misses")
        marks = ", ".join("?" for _ in ids)
        sql = (
            "UPDATE unanswered SET status = ?, resolved_at = ?, resolved_by = ?"
            f" WHERE status = 'open' AND id IN ({marks})"
        )

        def work(db: Database) -> bool:
            with db.atomic():
                changed = db.execute(sql, [status.value, now, by, *ids]).rowcount
                if changed != len(set(ids)):
                    # Roll the partial update back: the decision applies to the whole group.
                    raise _Stale
            return True

        try:
            return await self._run(work)
        except _Stale:
            return False

    async def reopen_misses(self, ids: Sequence[int], by: str, at: float) -> int:
        """Undo `resolve_misses` (by `by` at `at`) when what it decided could not be carried
        out (the knowledge base could not be written): the misses show in the inbox again."""
        marks = ", ".join("?" for _ in ids)
        sql = (
            "UPDATE unanswered SET status = 'open', resolved_at = NULL, resolved_by = NULL"
            f" WHERE resolved_by = ? AND resolved_at = ? AND id IN ({marks})"
        )

        def work(db: Database) -> int:
            with db.atomic():
                return int(db.execute(sql, [by, at, *ids]).rowcount)

        return await self._run(work) if ids else 0

    async def miss_statuses(self) -> dict[str, int]:
        """How many misses are stored in each status (for the inbox's header)."""
        sql = "SELECT status, count(*) FROM unanswered GROUP BY status"
        return await self._run(lambda db: {str(s): int(n) for s, n in db.execute(sql).fetchall()})


class _Stale(Exception):
    """A group's rows changed since it was shown: roll the decision back."""


def _miss(row: dict[str, Any]) -> MissRow:
    try:
        raw = json.loads(row["candidates"] or "[]")
        candidates = tuple((str(t), float(s)) for t, s in raw)
    except (ValueError, TypeError):
        candidates = ()
    return MissRow(
        id=row["id"],
        kind=MissKind(row["kind"]),
        platform=row["platform"],
        text=row["text"],
        normalised=row["normalised"],
        guess=row["guess"],
        candidates=candidates,
        created_at=row["created_at"],
    )
