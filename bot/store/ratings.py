"""Citizens' ratings of answers (issue 11): the overview's satisfaction figures.

A rating is written with its turn (`Messages.complete_turn`, in the same transaction), kept
`retain_review_days` and deleted with its user (bot/store/privacy.py). Only counts leave this
module, never a citizen's id.
"""

from __future__ import annotations

from sqlite_utils import Database

from bot.models.rating import DayRatings, TopicRatings
from bot.store.engine import Engine

_COUNTS = "sum(score = 'up'), sum(score = 'down')"


class Ratings(Engine):
    """Store methods for the ratings."""

    async def ratings_per_day(self, since: float, utc_offset_seconds: int) -> list[DayRatings]:
        """👍 and 👎 given at or after `since`, per day (shifted by `utc_offset_seconds`, e.g.
        7 h for Việt Nam), oldest day first; days without a rating are left out."""
        sql = (
            f"SELECT date(created_at + ?, 'unixepoch') AS day, {_COUNTS} FROM ratings"
            " WHERE created_at >= ? GROUP BY day ORDER BY day"
        )

        def work(db: Database) -> list[DayRatings]:
            rows = db.execute(sql, [utc_offset_seconds, since]).fetchall()
            return [DayRatings(str(day), int(up), int(down)) for day, up, down in rows]

        return await self._run(work)

    async def topic_ratings(self, since: float, limit: int) -> list[TopicRatings]:
        """The topics rated at or after `since`: the most 👎 first, then the most rated."""
        sql = (
            f"SELECT topic, {_COUNTS} FROM ratings WHERE created_at >= ?"
            " GROUP BY topic ORDER BY sum(score = 'down') DESC, count(*) DESC, topic LIMIT ?"
        )

        def work(db: Database) -> list[TopicRatings]:
            rows = db.execute(sql, [since, limit]).fetchall()
            return [TopicRatings(str(topic), int(up), int(down)) for topic, up, down in rows]

        return await self._run(work)
