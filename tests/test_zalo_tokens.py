"""The Zalo OA access token is refreshed BEFORE it expires (25 h, platforms.md §3.6), the single-use
refresh token is stored before the new access token is used, and a token error still refreshes.

`ZaloSender` is driven directly against the fake Zalo API and OAuth servers, on a fake clock;
the life cycle itself (`ZaloTokens`) is also tested alone, with a fake refresher.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from bot.models import Outgoing, Platform, Reply
from bot.store import Store
from bot.zalo_tokens import (
    REFRESH_SHARE,
    ZALO_ACCESS,
    ZALO_EXPIRES,
    ZALO_REFRESH,
    TokenPair,
    TokenRefreshError,
    ZaloTokens,
)
from tests.conftest import FakeClock, FakePlatforms, Received, make_settings
from webhooks import zalo
from webhooks.app import ZaloSender

HOUR = 3600.0
LIFETIME = 90_000.0  # what the fake OAuth server answers, as Zalo documents


def reply(user: str = "u1") -> Outgoing:
    return Outgoing(Platform.ZALO, user, Reply("Dạ, lệ phí đăng ký kết hôn được miễn."))


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as opened:
        yield opened


@pytest.fixture
def sender(
    store: Store,
    session: aiohttp.ClientSession,
    platforms: FakePlatforms,
    clock: FakeClock,
    tmp_path: Path,
) -> ZaloSender:
    settings = make_settings(tmp_path, platforms.url, facebook=False)
    return ZaloSender(store, session, settings, clock=clock)


def refreshes(platforms: FakePlatforms) -> list[Received]:
    return [r for r in platforms.received if r.path == "/v4/oa/access_token"]


def tokens_used(platforms: FakePlatforms) -> list[str]:
    return [r.headers["access_token"] for r in platforms.sent("/v3.0/oa/message/cs")]


async def stored_pair(store: Store, access: str, refresh: str, expires_at: float) -> None:
    """The kv as a previous refresh left it."""
    await store.set_value(ZALO_REFRESH, refresh)
    await store.set_value(ZALO_ACCESS, access)
    await store.set_value(ZALO_EXPIRES, repr(expires_at))


async def test_a_refresh_records_the_expiry(
    sender: ZaloSender, store: Store, platforms: FakePlatforms, clock: FakeClock
) -> None:
    platforms.zalo_tokens = set()  # the environment's token was revoked: a token error
    assert (await sender(reply())).ok
    assert len(refreshes(platforms)) == 1
    assert await store.get_value(ZALO_EXPIRES) == repr(clock.now + LIFETIME)
    assert tokens_used(platforms) == ["new-access"]


async def test_the_token_is_refreshed_before_it_expires(
    sender: ZaloSender, store: Store, platforms: FakePlatforms, clock: FakeClock
) -> None:
    await stored_pair(store, "zalo-access", "zalo-refresh", clock.now + LIFETIME)
    assert (await sender(reply())).ok
    clock.advance(LIFETIME * (1 - REFRESH_SHARE) - HOUR)  # 16 h on: still early
    assert (await sender(reply())).ok
    assert refreshes(platforms) == []

    stored_at_use: list[str | None] = []

    async def check_order(sent: Received) -> None:
        if sent.headers["access_token"] == "new-access":
            stored_at_use.append(await store.get_value(ZALO_REFRESH))

    platforms.on_zalo_send = check_order
    clock.advance(2 * HOUR)  # 21 h on: in the last fifth of its life, 4 h before it expires
    assert (await sender(reply())).ok
    (refresh,) = refreshes(platforms)
    assert refresh.body["refresh_token"] == "zalo-refresh"
    # The old token was never tried (no token error first), and the new refresh token was
    # durable before the new access token went out.
    assert tokens_used(platforms) == ["zalo-access", "zalo-access", "new-access"]
    assert [r.status for r in platforms.received if r.path.endswith("/cs")] == [200] * 3
    assert stored_at_use == ["new-refresh"]
    assert await store.get_value(ZALO_EXPIRES) == repr(clock.now + LIFETIME)


async def test_concurrent_sends_near_expiry_refresh_once(
    sender: ZaloSender, store: Store, platforms: FakePlatforms, clock: FakeClock
) -> None:
    await stored_pair(store, "zalo-access", "zalo-refresh", clock.now + HOUR)
    results = await asyncio.gather(*(sender(reply(f"u{n}")) for n in range(5)))
    assert all(r.ok for r in results)
    assert len(refreshes(platforms)) == 1  # the single-use refresh token was spent once
    assert tokens_used(platforms) == ["new-access"] * 5


async def test_a_token_without_a_known_expiry_is_not_refreshed_early(
    sender: ZaloSender, store: Store, platforms: FakePlatforms, clock: FakeClock
) -> None:
    # The environment's token: its age is unknown. Refreshing it at once would spend the
    # environment's refresh token on every fresh database (a staging copy...).
    clock.advance(30 * HOUR)
    assert (await sender(reply())).ok
    assert refreshes(platforms) == []
    assert tokens_used(platforms) == ["zalo-access"]


async def test_a_failed_early_refresh_still_sends_and_waits_before_trying_again(
    sender: ZaloSender,
    store: Store,
    platforms: FakePlatforms,
    clock: FakeClock,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    await stored_pair(store, "zalo-access", "zalo-refresh", clock.now + HOUR)
    calls: list[str] = []

    async def refused(*args: object) -> TokenPair:
        calls.append("refresh")
        raise TokenRefreshError("http 200 zalo -14014: Invalid refresh token")

    monkeypatch.setattr(zalo, "refresh_token", refused)
    assert (await sender(reply())).ok  # the current token still works for an hour
    assert (await sender(reply())).ok  # no second OAuth call for the next message
    assert calls == ["refresh"]
    assert "early token refresh failed" in caplog.text
    assert "zalo-refresh" not in caplog.text
    monkeypatch.undo()
    clock.advance(600)
    assert (await sender(reply())).ok  # tried again later, and this time it works
    assert len(refreshes(platforms)) == 1
    assert tokens_used(platforms)[-1] == "new-access"
    assert await store.get_value(ZALO_REFRESH) == "new-refresh"


# -- the life cycle alone (bot/zalo_tokens.py): a fake refresher, no HTTP --------------------


class FakeRefresher:
    """Spends refresh tokens like Zalo: each one once; hands out numbered pairs."""

    def __init__(self) -> None:
        self.spent: list[str] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, refresh_token: str) -> TokenPair:
        await self.gate.wait()
        if refresh_token in self.spent:
            raise TokenRefreshError("http 200 zalo -14014: Invalid refresh token")
        self.spent.append(refresh_token)
        n = len(self.spent)
        return TokenPair(f"access-{n}", f"refresh-{n}", int(LIFETIME))


def tokens(store: Store, clock: FakeClock, refresher: FakeRefresher | None) -> ZaloTokens:
    return ZaloTokens(store, refresher, "env-access", "env-refresh", clock)


async def test_the_environment_token_serves_until_a_pair_is_stored(
    store: Store, clock: FakeClock
) -> None:
    refresher = FakeRefresher()
    life = tokens(store, clock, refresher)
    assert await life.current() == "env-access"  # no known expiry: no early refresh
    assert refresher.spent == []
    assert await life.refresh("env-access") == "access-1"
    assert refresher.spent == ["env-refresh"]
    assert await store.get_value(ZALO_REFRESH) == "refresh-1"
    assert await store.get_value(ZALO_EXPIRES) == repr(clock.now + LIFETIME)
    # A new process reads the stored pair, not the stale environment.
    assert await tokens(store, clock, refresher).current() == "access-1"


async def test_refreshed_early_in_the_last_share_of_its_life(
    store: Store, clock: FakeClock
) -> None:
    refresher = FakeRefresher()
    await stored_pair(store, "old-access", "old-refresh", clock.now + LIFETIME)
    life = tokens(store, clock, refresher)
    clock.advance(LIFETIME * (1 - REFRESH_SHARE) - 1)
    assert await life.current() == "old-access"
    clock.advance(2)
    assert await life.current() == "access-1"
    assert refresher.spent == ["old-refresh"]


async def test_concurrent_refreshes_spend_the_refresh_token_once(
    store: Store, clock: FakeClock
) -> None:
    refresher = FakeRefresher()
    refresher.gate.clear()
    life = tokens(store, clock, refresher)
    first = asyncio.ensure_future(life.refresh("env-access"))
    second = asyncio.ensure_future(life.refresh("env-access"))
    refresher.gate.set()
    assert await asyncio.gather(first, second) == ["access-1", "access-1"]
    assert refresher.spent == ["env-refresh"]


async def test_without_an_app_secret_a_refresh_is_refused_clearly(
    store: Store, clock: FakeClock
) -> None:
    with pytest.raises(TokenRefreshError, match="ZALO_REFRESH_TOKEN"):
        await tokens(store, clock, None).refresh("env-access")
