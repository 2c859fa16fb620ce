"""Per-sender flood control: the first message over the limit gets a notice, later ones none."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from enum import Enum

from bot.models import Platform

Clock = Callable[[], float]
UserKey = tuple[Platform, str]


class Verdict(Enum):
    OK = "ok"
    NOTICE = "notice"  # the first message over the limit: one polite notice
    DROP = "drop"  # further messages in the window: recorded as handled, no reply


class FloodGate:
    """Per-sender sliding-window flood control, in memory.

    At most `limit` messages per `window` seconds are answered; the first one over the limit
    gets a notice, the rest of the window nothing. Every message counts, answered or not, so a
    sender who keeps flooding stays quiet until they pause for a whole window.
    """

    def __init__(self, limit: int, window: float, clock: Clock = time.monotonic) -> None:
        self.limit = limit
        self.window = window
        self.clock = clock
        self._seen: dict[UserKey, deque[float]] = {}
        self._noticed: set[UserKey] = set()
        self._calls = 0

    def check(self, key: UserKey) -> Verdict:
        now = self.clock()
        self._calls += 1
        if self._calls % 1024 == 0:
            self._forget_idle(now)
        times = self._seen.setdefault(key, deque())
        while times and times[0] <= now - self.window:
            times.popleft()
        times.append(now)
        if len(times) <= self.limit:
            self._noticed.discard(key)
            return Verdict.OK
        if key in self._noticed:
            return Verdict.DROP
        self._noticed.add(key)
        return Verdict.NOTICE

    def _forget_idle(self, now: float) -> None:
        """Drop senders quiet for a whole window, so memory follows active users only."""
        idle = [k for k, times in self._seen.items() if not times or times[-1] <= now - self.window]
        for key in idle:
            del self._seen[key]
            self._noticed.discard(key)
