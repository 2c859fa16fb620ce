"""The overview page's figures, from what the store records (issue 11).

Days are office days (UTC+7). A figure the store cannot give is None, and the page says
"chưa có dữ liệu" rather than inventing it: which turns were answered is not recorded, only
what is left when the misses are taken away, and messages and replies are purged after a few
days (`coverage`), so the per-day chart shows only the days still stored. Satisfaction is the
citizens' 👍 / 👎 (bot/rating.py), kept as long as the misses.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from bot.cases.dates import VN_TZ
from bot.models.rating import DayRatings
from bot.models.staff import Coverage, Outcomes, ReplyTimes
from bot.store import Store
from bot.text import tokens

DAYS = 14
TOP = 10
_OFFSET = int(dt.timedelta(hours=7).total_seconds())  # VN_TZ's, for the store's date()


@dataclass(frozen=True, slots=True)
class DayRow:
    """One office day: messages per channel, and their total."""

    day: str
    by_platform: Mapping[str, int]
    total: int


@dataclass(frozen=True, slots=True)
class Missed:
    """A group of unanswered questions that read alike once normalised: the most frequent
    wording, and how many times the group was asked."""

    text: str
    normalised: str
    count: int


@dataclass(frozen=True, slots=True)
class Overview:
    since: float  # the window's start (store clock): the first office day's midnight
    days: tuple[DayRow, ...]
    platforms: tuple[str, ...]
    outcomes: Outcomes | None  # over `outcomes_since`; None when no message is stored
    outcomes_since: float | None
    topics: tuple[tuple[str, str, int], ...]  # (topic id, name, conversations)
    missed: tuple[Missed, ...]
    reply: ReplyTimes
    coverage: Coverage
    ratings: tuple[DayRatings, ...] = ()  # one per office day of the window, oldest first
    rated_topics: tuple[tuple[str, str, int, int], ...] = ()  # (id, name, 👍, 👎), most 👎 first

    @property
    def up(self) -> int:
        return sum(r.up for r in self.ratings)

    @property
    def down(self) -> int:
        return sum(r.down for r in self.ratings)


def window_start(now: float, days: int = DAYS) -> float:
    """Midnight (UTC+7) at the start of the first of the last `days` office days."""
    today = dt.datetime.fromtimestamp(now, VN_TZ).date()
    first = today - dt.timedelta(days=days - 1)
    return dt.datetime.combine(first, dt.time(), VN_TZ).timestamp()


def group_missed(texts: list[tuple[str, int]], limit: int = TOP) -> list[Missed]:
    """Texts grouped by their normalised form (folded, teencode expanded, repeats collapsed:
    `bot.text.tokens`), most asked first; each shown by its most frequent wording."""
    counts: Counter[str] = Counter()
    wordings: dict[str, Counter[str]] = defaultdict(Counter)
    for text, n in texts:
        key = " ".join(tokens(text)) or text.strip().lower()
        counts[key] += n
        wordings[key][text.strip()] += n
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
    return [Missed(wordings[key].most_common(1)[0][0], key, n) for key, n in ranked]


async def build_overview(
    store: Store, now: float, topic_names: Mapping[str, str], days: int = DAYS
) -> Overview:
    since = window_start(now, days)
    first = dt.datetime.fromtimestamp(since, VN_TZ).date()
    labels = [(first + dt.timedelta(days=n)).isoformat() for n in range(days)]
    counts = await store.messages_per_day(since, _OFFSET)
    platforms = tuple(sorted({c.platform for c in counts}))
    table: dict[str, dict[str, int]] = {day: dict.fromkeys(platforms, 0) for day in labels}
    for c in counts:
        if c.day in table:
            table[c.day][c.platform] = c.count
    rows = tuple(DayRow(day, table[day], sum(table[day].values())) for day in labels)
    coverage = await store.coverage()
    # Unanswered questions and handoffs outlive the messages (90 days against 3): count all
    # three over the span where messages are still stored, or the rates would be skewed.
    outcomes_since: float | None = None
    outcomes = None
    if coverage.oldest_message_at is not None:
        outcomes_since = max(since, coverage.oldest_message_at)
        outcomes = await store.outcomes(outcomes_since)
    topics = tuple(
        (topic, topic_names.get(topic, topic), n)
        for topic, n in await store.current_topics(since, TOP)
    )
    missed = tuple(group_missed(await store.missed_texts(since)))
    reply = await store.reply_times(since)
    rated = {r.day: r for r in await store.ratings_per_day(since, _OFFSET)}
    ratings = tuple(rated.get(day, DayRatings(day, 0, 0)) for day in labels)
    rated_topics = tuple(
        (r.topic, topic_names.get(r.topic, r.topic), r.up, r.down)
        for r in await store.topic_ratings(since, TOP)
    )
    return Overview(
        since,
        rows,
        platforms,
        outcomes,
        outcomes_since,
        topics,
        missed,
        reply,
        coverage,
        ratings,
        rated_topics,
    )
