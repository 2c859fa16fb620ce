"""The staff overview's figures, counted from what the message path records (issue 11).

Only counts and durations leave this module, never a citizen's id. What the store keeps bounds
what can be counted: messages live `retain_message_hours`, replies `retain_outbox_hours`, saved
conversation context `retain_state_hours`, unanswered questions and handoffs
`retain_review_days` (bot/store/privacy.py); `coverage` says how far back each goes. The turn
topic of each turn is not recorded, only a conversation's current topic; misses (not
understood, asked back, handed over) are, so "answered" is what is left of the handled messages.
"""

from __future__ import annotations

import math

from sqlite_utils import Database

from bot.models.staff import Coverage, DayCount, Outcomes, ReplyTimes
from bot.store.engine import Engine

# A withdrawal (Zalo's user_withdraw) is an event, not a message a citizen wrote.
_MESSAGES = "kind != 'withdraw'"
# The `unanswered` table keeps every miss for the review inbox (bot/store/review.py); the
# overview's "not understood" are its fallbacks (ask-backs and handoffs are counted apart).
_NOT_UNDERSTOOD = "kind = 'fallback'"
# A fallback that opened a handoff (the second miss in a row) is counted once, as handed over:
# the handoff was opened in the same transaction, at the same store time.
_NOT_HANDED_OVER = (
    "NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.platform = u.platform"
    " AND h.user_id = u.user_id AND h.created_at = u.created_at AND h.reason = 'misses')"
)


class Stats(Engine):
    """Store methods for the overview page."""

    async def messages_per_day(self, since: float, utc_offset_seconds: int) -> list[DayCount]:
        """Messages received at or after `since`, per day (shifted by `utc_offset_seconds`,
        e.g. 7 h for Việt Nam) and platform, oldest day first."""
        sql = (
            "SELECT date(received_at + ?, 'unixepoch') AS day, platform, count(*) AS n"
            f" FROM inbound WHERE received_at >= ? AND {_MESSAGES}"
            " GROUP BY day, platform ORDER BY day, platform"
        )

        def work(db: Database) -> list[DayCount]:
            rows = db.execute(sql, [utc_offset_seconds, since]).fetchall()
            return [DayCount(day, platform, int(n)) for day, platform, n in rows]

        return await self._run(work)

    async def outcomes(self, since: float) -> Outcomes:
        """Messages handled, questions logged as not understood (but for those that handed
        over), handoffs opened, messages asked back about, and messages kept for staff while
        they had the conversation, at or after `since`. Each message is counted once."""

        def work(db: Database) -> Outcomes:
            handled, to_staff = db.execute(
                "SELECT count(*), coalesce(sum(to_staff), 0) FROM inbound"
                f" WHERE status = 'handled' AND {_MESSAGES} AND received_at >= ?",
                [since],
            ).fetchone()
            (missed,) = db.execute(
                f"SELECT count(*) FROM unanswered u WHERE {_NOT_UNDERSTOOD}"
                f" AND created_at >= ? AND {_NOT_HANDED_OVER}",
                [since],
            ).fetchone()
            (handed,) = db.execute(
                "SELECT count(*) FROM handoffs WHERE created_at >= ?", [since]
            ).fetchone()
            (clarified,) = db.execute(
                "SELECT count(*) FROM unanswered WHERE kind = 'clarify' AND created_at >= ?",
                [since],
            ).fetchone()
            return Outcomes(int(handled), int(missed), int(handed), int(clarified), int(to_staff))

        return await self._run(work)

    async def current_topics(self, since: float, limit: int) -> list[tuple[str, int]]:
        """The topic each conversation active at or after `since` was last about, counted:
        (topic id, conversations), most first. A conversation's context is all the store keeps
        of topics (bot/models/conversation.py, State.topic)."""
        sql = (
            "SELECT json_extract(state, '$.topic') AS topic, count(*) AS n FROM conversations"
            " WHERE state IS NOT NULL AND json_valid(state) AND updated_at >= ?"
            " AND topic IS NOT NULL GROUP BY topic ORDER BY n DESC, topic LIMIT ?"
        )

        def work(db: Database) -> list[tuple[str, int]]:
            return [(str(t), int(n)) for t, n in db.execute(sql, [since, limit]).fetchall()]

        return await self._run(work)

    async def missed_texts(self, since: float) -> list[tuple[str, int]]:
        """The questions logged as not understood at or after `since`, each distinct text with
        how many times it was asked (grouping similar texts is the caller's)."""
        sql = (
            f"SELECT text, count(*) FROM unanswered WHERE {_NOT_UNDERSTOOD} AND created_at >= ?"
            " AND text != ''"
            " GROUP BY text"
        )
        return await self._run(
            lambda db: [(str(t), int(n)) for t, n in db.execute(sql, [since]).fetchall()]
        )

    async def reply_times(self, since: float) -> ReplyTimes:
        """For messages received at or after `since` that have a delivered reply: seconds from
        receiving the message to its first reply being accepted by the platform (the web
        chat: handed to the page). Median and 95th percentile by nearest rank."""
        delays = (
            "WITH d AS (SELECT min(o.sent_at) - i.received_at AS delay FROM inbound i"
            " JOIN outbox o ON o.inbound_id = i.id WHERE i.received_at >= ?"
            " AND o.status = 'sent' GROUP BY i.id)"
        )

        def work(db: Database) -> ReplyTimes:
            (count,) = db.execute(delays + " SELECT count(*) FROM d", [since]).fetchone()
            if not count:
                return ReplyTimes(0, None, None)

            def rank(p: float) -> float:
                offset = max(0, math.ceil(p * count) - 1)
                (value,) = db.execute(
                    delays + " SELECT delay FROM d ORDER BY delay LIMIT 1 OFFSET ?",
                    [since, offset],
                ).fetchone()
                return float(value)

            return ReplyTimes(int(count), rank(0.5), rank(0.95))

        return await self._run(work)

    async def coverage(self) -> Coverage:
        """When the oldest message, reply and unanswered question still stored came in."""

        def work(db: Database) -> Coverage:
            # The smallest id is the oldest (ids grow with time): read through the primary key.
            def first(sql: str) -> float | None:
                row = db.execute(sql).fetchone()
                return None if row is None else float(row[0])

            return Coverage(
                first("SELECT received_at FROM inbound ORDER BY id LIMIT 1"),
                first("SELECT created_at FROM outbox ORDER BY id LIMIT 1"),
                first(
                    f"SELECT created_at FROM unanswered WHERE {_NOT_UNDERSTOOD} ORDER BY id LIMIT 1"
                ),
            )

        return await self._run(work)
