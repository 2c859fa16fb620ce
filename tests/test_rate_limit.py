"""The send rate limiter: pure arithmetic on a fake clock, and one wait per API call."""

from __future__ import annotations

from typing import Any

import pytest

from bot.models import SendResult
from bot.rate_limit import RateLimit, per_minute, per_second
from tests.conftest import FakeClock
from webhooks.wire import send_parts


def test_a_burst_goes_at_once_then_calls_are_spaced_evenly(clock: FakeClock) -> None:
    limit = RateLimit(10, 1.0, burst=3, clock=clock)
    delays = [limit.reserve() for _ in range(6)]
    assert delays == pytest.approx([0.0, 0.0, 0.0, 0.1, 0.2, 0.3], abs=1e-6)


def test_an_idle_spell_refills_the_burst_and_no_more(clock: FakeClock) -> None:
    limit = RateLimit(10, 1.0, burst=3, clock=clock)
    for _ in range(6):
        limit.reserve()
    clock.advance(60)
    assert [limit.reserve() for _ in range(4)] == pytest.approx([0.0, 0.0, 0.0, 0.1], abs=1e-6)


def test_no_window_of_the_period_holds_more_than_burst_plus_calls(clock: FakeClock) -> None:
    limit = per_second(250, clock=clock)
    assert limit is not None
    sent_at = [clock.now + limit.reserve() for _ in range(2000)]
    start = clock.now
    in_first_second = sum(1 for t in sent_at if t < start + 1.0)
    assert in_first_second <= 275 < 300  # Meta's 300 calls per second per Page


def test_zero_means_no_limit_and_bad_limits_are_refused() -> None:
    assert per_second(0) is None
    assert per_minute(0) is None
    with pytest.raises(ValueError):
        RateLimit(0, 1.0)


class CountingLimit(RateLimit):
    def __init__(self) -> None:
        super().__init__(1000, 1.0)
        self.waits = 0

    async def wait(self) -> None:
        self.waits += 1
        await super().wait()


async def test_every_part_of_a_split_reply_waits_its_turn() -> None:
    limit = CountingLimit()
    posted: list[dict[str, Any]] = []

    async def post(body: dict[str, Any]) -> SendResult:
        posted.append(body)
        return SendResult(ok=True)

    result = await send_parts([{"n": 1}, {"n": 2}, {"n": 3}], post, limit)
    assert result.ok
    assert limit.waits == 3 and len(posted) == 3
