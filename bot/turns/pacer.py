"""Pacing the turns' CPU-bound step behind the webhooks' acknowledgements (bench/load.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import Callable, Iterator
from typing import TypeVar, cast

T = TypeVar("T")

# A flood: at least FLOOD_WAITING webhooks waiting for their 200 at once. Then, and for
# DIALOG_GAP seconds after, one dialog per DIALOG_GAP: the 200s get most of the loop
# (bench/load.py: at 50 saturating connections p99 to the 200 went from ~20-24 ms with 0.01 s
# to ~14-17 ms with 0.03 s). Below it dialogs run unpaced, so a steady load the bot can carry
# (say 200 msg/s, one webhook at a time) is never held to 1 / DIALOG_GAP turns per second.
FLOOD_WAITING = 4
DIALOG_GAP = 0.03


class DialogPacer:
    """Runs the turns' CPU-bound step (the dialog: matching, ~0.5-1 ms) behind the webhooks.

    Jobs run in the order asked, each as a callback of its own, the next one scheduled only when
    one ends: never two in one pass of the event loop (asyncio runs in one pass every callback
    ready when it began, so eight turns whose states came back together would otherwise match
    eight messages back to back while every webhook waits). During a flood (`busy()`: at least
    `flood` webhooks waiting for their 200 at once, or were within the last `gap` seconds) a
    job runs only once per `gap`: the 200s get the loop, and the turns still move on (at least
    1 / `gap` per second) however long it lasts. The quiet spell is needed because a flood is
    not continuous from the inside: every group commit answers all its webhooks at once, and the
    next ones are still being read when it does. One or two webhooks in flight at a time are a
    steady load, not a flood: pacing them would cap the turns below what arrives.
    """

    def __init__(self, gap: float, flood: int = FLOOD_WAITING) -> None:
        self.gap = gap
        self.flood = flood
        self._jobs: deque[tuple[Callable[[], object], asyncio.Future[object]]] = deque()
        self._acknowledging = 0
        self._quiet_at = 0.0  # loop time from which the last flood has been over for `gap`
        self._next_at = 0.0  # loop time before which, while busy, no job runs
        self._handle: asyncio.Handle | None = None  # the scheduled `_next`, if any

    @contextlib.contextmanager
    def acknowledging(self) -> Iterator[None]:
        """Around the work before a webhook's 200: dialogs give way meanwhile during a flood."""
        self._acknowledging += 1
        try:
            yield
        finally:
            if self._acknowledging >= self.flood:
                self._quiet_at = asyncio.get_running_loop().time() + self.gap
            self._acknowledging -= 1

    def busy(self) -> bool:
        """Is a flood of webhooks being acknowledged, or was one within the last `gap` seconds?"""
        return (
            self._acknowledging >= self.flood or asyncio.get_running_loop().time() < self._quiet_at
        )

    async def run(self, job: Callable[[], T]) -> T:
        """`job()`'s result (or exception), once its turn has come."""
        loop = asyncio.get_running_loop()
        done: asyncio.Future[object] = loop.create_future()
        self._jobs.append((job, done))
        self._schedule(loop)
        return cast(T, await done)  # what `job` returned

    def _schedule(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._handle is not None or not self._jobs:
            return
        wait = self._next_at - loop.time() if self.busy() else 0.0
        if wait > 0:
            self._handle = loop.call_later(wait, self._next)
        else:
            self._handle = loop.call_soon(self._next)  # the NEXT pass: sockets are read first

    def _next(self) -> None:
        self._handle = None
        loop = asyncio.get_running_loop()
        job, done = self._jobs.popleft()
        try:
            if done.cancelled():  # a turn cancelled while it waited (shutdown): no gap spent
                return
            try:
                done.set_result(job())
            except Exception as exc:
                done.set_exception(exc)
            self._next_at = loop.time() + self.gap
        finally:
            self._schedule(loop)
