"""The retention purge as a server task: shortly after start-up, then every `purge_hours`.

Luật Bảo vệ dữ liệu cá nhân 2025 and Nghị định 13/2023: nothing personal is kept longer than its
purpose needs. The store does the work (`Store.purge_expired`, in short batches); this loop only
says when, and keeps a failure from stopping the server or the next day's purge.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from bot.models.privacy import PurgeReport, Retention
from bot.store import Store

log = logging.getLogger(__name__)

FIRST_DELAY = 60.0  # seconds: after start-up's own work (resumed turns), long before a day
RETRY_DELAY = 3600.0  # seconds: a purge that failed is tried again sooner than the next day

Sleep = Callable[[float], Awaitable[None]]


class Purger:
    """Runs `store.purge_expired(retention)` after `first_delay`, then every `interval` seconds.

    `sleep` is how it waits (asyncio.sleep; a test passes one it controls). `last` is the last
    report of this process; the store keeps it across restarts too (`Store.last_purge`).
    """

    def __init__(
        self,
        store: Store,
        retention: Retention,
        interval: float,
        *,
        first_delay: float = FIRST_DELAY,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.store = store
        self.retention = retention
        self.interval = interval
        self.first_delay = first_delay
        self._sleep = sleep
        self.last: PurgeReport | None = None

    async def run_once(self) -> PurgeReport:
        """One purge now; returns (and logs) what it removed."""
        report = await self.store.purge_expired(self.retention)
        self.last = report
        removed = ", ".join(f"{n} {kind}" for kind, n in report.rows.items() if n) or "nothing"
        log.info(
            "retention purge: %s; %d pages freed in %.2f s",
            removed,
            report.pages_freed,
            report.seconds,
        )
        return report

    async def run(self) -> None:
        """Forever (until cancelled): wait, purge, wait again."""
        delay = self.first_delay
        while True:
            await self._sleep(delay)
            try:
                await self.run_once()
            except Exception:  # never let a purge bug stop the server; try again later
                log.exception("retention purge failed; next try in %.0f s", RETRY_DELAY)
                delay = min(RETRY_DELAY, self.interval)
            else:
                delay = self.interval
