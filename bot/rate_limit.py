"""A platform's send rate limit, kept on our side so a burst of replies is spread out
instead of refused.

Messenger allows 300 Send API calls per second per Page (platforms.md §2.6) and Zalo 4,000 OA
API requests per minute per app (§3.7); past them the platform answers error 613 / -32 and the
outbox backs off for seconds to a minute. Spacing the calls costs a few milliseconds instead.

The limiter is GCRA (the generic cell rate algorithm, a token bucket kept as one timestamp):
calls go out at once up to `burst`, then one per `per / calls` seconds. `reserve` is pure
arithmetic on an injected clock; `wait` sleeps the delay it returns.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

Clock = Callable[[], float]


class RateLimit:
    """At most about `calls` calls per `per` seconds: bursts of up to `burst` calls, then an
    even spacing. The defaults in config.yaml stay under the platforms' limits with the burst
    included (in any window of `per` seconds at most `burst + calls` calls pass)."""

    def __init__(
        self, calls: int, per: float, burst: int = 1, clock: Clock = time.monotonic
    ) -> None:
        if calls < 1 or per <= 0 or burst < 1:
            raise ValueError("a rate limit needs calls >= 1, per > 0 and burst >= 1")
        self.interval = per / calls
        self.tolerance = (burst - 1) * self.interval
        self.clock = clock
        self._tat = 0.0  # "theoretical arrival time": when the bucket is empty again

    def reserve(self) -> float:
        """Take a slot; the seconds to wait before using it (0.0 when it is free now)."""
        now = self.clock()
        start = max(self._tat, now)
        self._tat = start + self.interval
        return max(0.0, start - now - self.tolerance)

    async def wait(self) -> None:
        """Return when the next call may go out; calls are served in the order they asked."""
        delay = self.reserve()
        if delay > 0:
            await asyncio.sleep(delay)


def per_second(calls: float, clock: Clock = time.monotonic) -> RateLimit | None:
    """A limiter for `calls` per second with a tenth of a second's burst; None for 0 (off)."""
    return _with_tenth_burst(calls, 1.0, clock)


def per_minute(calls: float, clock: Clock = time.monotonic) -> RateLimit | None:
    """A limiter for `calls` per minute with a tenth of it as burst; None for 0 (off)."""
    return _with_tenth_burst(calls, 60.0, clock)


def _with_tenth_burst(calls: float, per: float, clock: Clock) -> RateLimit | None:
    if calls <= 0:
        return None
    return RateLimit(max(1, round(calls)), per, burst=max(1, round(calls / 10)), clock=clock)
