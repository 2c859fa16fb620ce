"""The Zalo OA access token's life cycle: stored, refreshed BEFORE it expires, spent once.

The access token lives 25 h and the refresh token is SINGLE USE (platforms.md §3.6). When a pair
is stored its expiry is stored with it (`ZALO_EXPIRES`); asking for the token in the last
`REFRESH_SHARE` of its life refreshes first. A token error still refreshes once (the
environment's token has no known expiry; Zalo may revoke a token early). One lock makes
concurrent sends spend the refresh token once, and the new refresh token is stored before the
new access token is used, so a crash in between leaves a usable one behind.

Not HTTP: the OAuth call itself is injected (`webhooks.zalo.refresh_token` in the server), so
this is tested on a fake clock with a fake refresher.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bot.store import Store

log = logging.getLogger(__name__)

DEFAULT_EXPIRES_IN = 90_000  # 25 h, the documented access-token lifetime (§3.6)

# kv keys of the tokens once refreshed; they win over the environment's (which go stale).
ZALO_ACCESS = "zalo.access_token"
ZALO_REFRESH = "zalo.refresh_token"
ZALO_PREVIOUS_REFRESH = "zalo.refresh_token.previous"
ZALO_EXPIRES = "zalo.access_token.expires_at"  # seconds since the epoch, of ZALO_ACCESS

# Refresh once the access token has less than this share of its life left: 5 h of the 25 h
# (§3.6 and §7: "refresh proactively, e.g. every 20-24 h").
REFRESH_SHARE = 0.2
# After a failed proactive refresh, sends go on with the current token; the next proactive try
# waits this long, so a dead refresh token does not cost one OAuth call per message.
PROACTIVE_RETRY_SECONDS = 300.0


class TokenRefreshError(Exception):
    """A Zalo OAuth refresh failed and no new token pair was obtained.

    `retryable` is True for transport failures and 5xx answers. Beware: Zalo refresh tokens are
    single use (platforms.md §3.6); after a transport failure the old refresh token may already
    be spent, in which case the retry fails permanently and an OA admin must grant access again.
    `code` is Zalo's numeric error code when the answer carried one. The message never holds a
    token: it may be logged as it is.
    """

    def __init__(self, message: str, *, retryable: bool = False, code: int | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


@dataclass(frozen=True, slots=True)
class TokenPair:
    """A fresh OA access token and the refresh token that replaces the one just spent.

    Tokens are hidden from repr so that logging the pair leaks nothing.
    """

    access_token: str = field(repr=False)
    refresh_token: str = field(repr=False)
    expires_in: int  # seconds of validity of `access_token`


# Spends a refresh token for a new pair; raises TokenRefreshError when none came back.
Refresher = Callable[[str], Awaitable[TokenPair]]


class ZaloTokens:
    """The OA access token to send with, kept fresh. `env_access` and `env_refresh` are the
    environment's tokens, used until a refreshed pair is stored; `refresher` is None when the
    app secret is missing (then no refresh is possible)."""

    def __init__(
        self,
        store: Store,
        refresher: Refresher | None,
        env_access: str,
        env_refresh: str,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.refresher = refresher
        self.env_access = env_access
        self.env_refresh = env_refresh
        self.clock = clock
        self._lock = asyncio.Lock()
        # Cached; the kv store holds the durable copies. `_expires` is None when unknown.
        self._access: str | None = None
        self._expires: float | None = None
        self._lifetime = float(DEFAULT_EXPIRES_IN)  # of the last pair this process got
        self._proactive_after = 0.0  # no proactive refresh before this (after a failure)

    async def current(self) -> str:
        """The token to send with: refreshed first when it is in the last part of its life.
        A failed early refresh is logged and the current token used (it may still be valid;
        if not, the send's token error calls `refresh` once more)."""
        token = await self._stored()
        if not self._expiring():
            return token
        try:
            return await self.refresh(token)
        except TokenRefreshError as exc:
            self._proactive_after = self.clock() + PROACTIVE_RETRY_SECONDS
            log.warning("zalo: early token refresh failed, sending with the current one: %s", exc)
            return token

    async def refresh(self, spent: str) -> str:
        """A new access token in place of `spent`; raises TokenRefreshError. Concurrent callers
        with the same spent token share one refresh."""
        async with self._lock:
            current = await self._stored()
            if current != spent:
                return current  # another send refreshed it while this one waited
            refresh = await self.store.get_value(ZALO_REFRESH) or self.env_refresh
            if not refresh or self.refresher is None:
                raise TokenRefreshError("no refresh token or app secret: set ZALO_REFRESH_TOKEN")
            pair = await self.refresher(refresh)
            expires = self.clock() + pair.expires_in
            # The old refresh token is dead now: persist the new one FIRST (§3.6), keep the
            # previous one for an operator's recovery, and only then use the access token.
            # Its expiry goes last: a crash before it costs one early refresh, nothing more.
            await self.store.set_value(ZALO_PREVIOUS_REFRESH, refresh)
            await self.store.set_value(ZALO_REFRESH, pair.refresh_token)
            await self.store.set_value(ZALO_ACCESS, pair.access_token)
            await self.store.set_value(ZALO_EXPIRES, repr(expires))
            self._access, self._expires = pair.access_token, expires
            self._lifetime = float(pair.expires_in)
            self._proactive_after = 0.0
            log.info("zalo: access token refreshed, valid %d s", pair.expires_in)
            return pair.access_token

    async def _stored(self) -> str:
        if self._access is None:
            stored = await self.store.get_value(ZALO_ACCESS)
            expires = await self.store.get_value(ZALO_EXPIRES) if stored else None
            self._access = stored or self.env_access
            self._expires = _float(expires)
        return self._access

    def _expiring(self) -> bool:
        now = self.clock()
        if self._expires is None or now < self._proactive_after:
            return False
        return now >= self._expires - REFRESH_SHARE * self._lifetime


def _float(text: str | None) -> float | None:
    try:
        return float(text) if text is not None else None
    except ValueError:
        return None
