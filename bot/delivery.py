"""Persistent delivery: claim outbox rows, send them, retry with backoff, give up, record why.

Delivery is at least once: a row is marked sent only after the platform accepted it, and a
claim is a lease (see `Store.claim_due`), so a crash mid-send resends that one message after a
restart. A user's messages go out one at a time, in order; different users proceed concurrently,
at most `concurrency` sends at once. The outcomes of sends that end together (and the next claim)
share one commit: the store groups writes that arrive while it is busy (`bot.store`), and a
mark that fails there fails alone, its row sent again once its lease runs out.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping

from bot.config import Settings
from bot.models import Outgoing, Platform, SendResult
from bot.store import OutboxRow, Store

log = logging.getLogger(__name__)

Sender = Callable[[Outgoing], Awaitable[SendResult]]
Clock = Callable[[], float]


def backoff(attempt: int, base: float, cap: float, retry_after: float | None = None) -> float:
    """Delay before retrying after failed attempt number `attempt` (1-based).

    `base * 2**(attempt - 1)`, at most `cap`; a platform's `retry_after` wins when longer
    (sending before it would only be refused again), even beyond `cap`.
    """
    exponent = min(max(attempt, 1) - 1, 32)  # 2**32 s is forever; a bigger power overflows
    delay = min(cap, base * 2.0**exponent)
    if retry_after is not None and retry_after > delay:
        return retry_after
    return delay


class DeliveryWorker:
    """Sends the outbox through one async sender per platform.

    A sender returns a `SendResult` and must enforce its own timeout (shorter than the lease).
    Rows of a platform with no sender are left pending for whoever serves that platform.
    `clock` must be the store's clock (both default to `time.time`).
    """

    def __init__(
        self,
        store: Store,
        senders: Mapping[Platform, Sender],
        *,
        retry_base_seconds: float = 1.0,
        retry_max_seconds: float = 60.0,
        max_attempts: int = 8,
        lease_seconds: float = 60.0,
        concurrency: int = 8,
        poll_seconds: float = 0.5,
        clock: Clock = time.time,
    ) -> None:
        self.store = store
        self.senders = dict(senders)
        self.retry_base = retry_base_seconds
        self.retry_max = retry_max_seconds
        self.max_attempts = max_attempts
        self.lease = lease_seconds
        self.concurrency = concurrency
        self.poll = poll_seconds
        self.clock = clock
        self._wake = asyncio.Event()
        self._stopping = False
        self._stopped = asyncio.Event()
        self._running = False
        self._inflight: set[asyncio.Task[None]] = set()

    @classmethod
    def from_settings(
        cls, store: Store, senders: Mapping[Platform, Sender], settings: Settings
    ) -> DeliveryWorker:
        """A worker with the retry settings, and a lease well beyond one send's timeout."""
        return cls(
            store,
            senders,
            retry_base_seconds=settings.retry_base_seconds,
            retry_max_seconds=settings.retry_max_seconds,
            max_attempts=settings.max_attempts,
            lease_seconds=max(60.0, 3 * settings.send_timeout_seconds),
        )

    def wake(self) -> None:
        """New rows were queued: look at once instead of at the next poll."""
        self._wake.set()

    async def run_once(self) -> int:
        """Claim the rows due now and send them; return when those sends are recorded.

        Returns how many rows were claimed. Tests drive the worker with this and a fake clock.
        """
        rows = await self._claim(self.concurrency)
        await asyncio.gather(*(self._deliver(row) for row in rows))
        return len(rows)

    async def run(self) -> None:
        """Deliver until `stop()`. Sends run as tracked tasks so a slow user holds up no one;
        each finished send wakes the loop to claim that user's next message."""
        self._running = True
        try:
            while not self._stopping:
                self._wake.clear()
                free = self.concurrency - len(self._inflight)
                if free > 0:
                    try:
                        rows = await self._claim(free)
                    except Exception:
                        # A busy or broken database must not kill delivery: retry at the poll.
                        log.exception("outbox: claim failed")
                        rows = []
                    for row in rows:
                        task = asyncio.create_task(self._deliver(row))
                        self._inflight.add(task)
                        task.add_done_callback(self._sent)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.poll)
        finally:
            # Let in-flight sends finish and be recorded: cancelling one after the platform
            # accepted it would only resend it after the lease.
            await asyncio.gather(*self._inflight, return_exceptions=True)
            self._running = False
            self._stopped.set()

    async def settled(self) -> None:
        """Return once every send in flight now has been recorded (its outbox row marked)."""
        if self._inflight:
            await asyncio.gather(*list(self._inflight), return_exceptions=True)

    async def stop(self) -> None:
        """Stop `run()`: no new claims; returns once in-flight sends are recorded."""
        self._stopping = True
        self._wake.set()
        if self._running:
            await self._stopped.wait()

    def _sent(self, task: asyncio.Task[None]) -> None:
        self._inflight.discard(task)
        self._wake.set()

    async def _claim(self, limit: int) -> list[OutboxRow]:
        return await self.store.claim_due(self.clock(), limit, self.lease, self.senders.keys())

    async def _deliver(self, row: OutboxRow) -> None:
        out = row.outgoing
        try:
            result = await self.senders[out.platform](out)
        except Exception as exc:
            # Only the class name: an aiohttp error's text can hold the request URL, and the
            # Messenger Send API URL carries the page access token.
            result = SendResult(ok=False, retryable=True, error=type(exc).__name__)
        try:
            await self._record(row, result)
        except Exception:
            # The lease will expire and the row be tried again: at least once, never lost.
            log.exception("outbox %d: could not record the send result", row.id)

    async def _record(self, row: OutboxRow, result: SendResult) -> None:
        where = f"outbox {row.id} ({row.outgoing.platform.value}, attempt {row.attempts})"
        if result.ok:
            await self.store.mark_sent(row.id)
            return
        error = result.error or ("retryable error" if result.retryable else "refused")
        if not result.retryable:
            log.warning("%s: given up: %s", where, error)
            await self.store.mark_failed(row.id, error)
        elif row.attempts >= self.max_attempts:
            log.warning("%s: given up after %d attempts: %s", where, row.attempts, error)
            await self.store.mark_failed(row.id, f"gave up after {row.attempts} attempts: {error}")
        else:
            delay = backoff(row.attempts, self.retry_base, self.retry_max, result.retry_after)
            log.info("%s: retry in %.1f s: %s", where, delay, error)
            await self.store.mark_retry(row.id, self.clock() + delay, error)
