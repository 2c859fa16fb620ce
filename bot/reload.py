"""Reload the knowledge base without a restart, keeping the last good one on a broken edit.

Staff edit the YAML files in place. A background task notices a change (file names, sizes and
modification times under the knowledge folder), builds a new Bundle off the event loop and
swaps it into the BundleSlot only when it loaded cleanly; a broken edit is logged one problem a
line (file:line: field: message) and the running bundle keeps answering.

The reloader remembers, for the staff dashboard's knowledge page, when the bundle in service
was loaded (`loaded_at`, the reloader's creation for the first one) and the problems and time
of the last failed reload (`errors`, `failed_at`; cleared by the next good one). Plain
attributes, set on the event loop: reading them never waits on a load.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

from bot.bundle import Bundle
from bot.knowledge import KnowledgeBase, KnowledgeError, Problem

log = logging.getLogger(__name__)


def fingerprint(root: Path) -> tuple[tuple[str, int, int], ...]:
    """What identifies the folder's content cheaply: every YAML file's path, size and mtime."""
    found: list[tuple[str, int, int]] = []
    for folder, _, files in os.walk(root):
        for name in files:
            if name.endswith((".yaml", ".yml")):
                path = os.path.join(folder, name)
                with contextlib.suppress(FileNotFoundError):  # removed while we walk
                    st = os.stat(path)
                    found.append((path, st.st_size, st.st_mtime_ns))
    return tuple(sorted(found))


@dataclass
class Reloader:
    """Checks the folder and swaps bundles. `check()` is one step; `run()` repeats it."""

    root: Path
    load: Callable[[Path], Bundle]
    swap: Callable[[Bundle], None]
    interval: float = 5.0
    clock: Callable[[], float] = time.time
    # What to do once a reload swapped in a new bundle (the clerks' announcement of changed
    # procedures, bot/clerks/alerts.py); a failure there is logged.
    loaded: Callable[[KnowledgeBase], Awaitable[object]] | None = None
    last: tuple[tuple[str, int, int], ...] = ()
    errors: list[Problem] = field(default_factory=list)
    loaded_at: float = 0.0  # when the bundle in service was loaded (seconds since the epoch)
    failed_at: float | None = None  # when the last reload failed, None after a good one
    # One load at a time: the periodic check and a staff edit's `reload_now` never race.
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock, repr=False)

    def __post_init__(self) -> None:
        self.last = fingerprint(self.root)
        self.loaded_at = self.clock()

    async def check(self) -> bool:
        """Reload if the folder changed. True when a new bundle is now serving."""
        async with self._lock:
            current = await asyncio.to_thread(fingerprint, self.root)
            if current == self.last:
                return False
            self.last = current
            return await self._reload() is not None

    async def reload_now(self) -> Bundle:
        """Load and swap at once, changed or not: after a staff edit (the review inbox), so
        the bot answers from the next message on. The running bundle answers meanwhile, and
        keeps answering when the load fails: then `KnowledgeError` is raised (and `errors`
        set, as after a broken edit)."""
        async with self._lock:
            self.last = await asyncio.to_thread(fingerprint, self.root)
            bundle = await self._reload()
            if bundle is None:
                raise KnowledgeError(self.errors)
            return bundle

    async def _reload(self) -> Bundle | None:
        try:
            bundle = await asyncio.to_thread(self.load, self.root)
        except KnowledgeError as exc:
            self.errors = exc.problems
            self.failed_at = self.clock()
            log.error(
                "knowledge base NOT reloaded, the previous one keeps serving; %d problem(s):",
                len(exc.problems),
            )
            for problem in exc.problems:
                log.error("  %s", problem)
            return None
        self.errors = []
        self.failed_at = None
        self.swap(bundle)
        self.loaded_at = self.clock()
        # The index is long-lived: keep the collector from rescanning it (latency spikes).
        gc.collect()
        gc.freeze()
        log.info("knowledge base reloaded: version %s", bundle.kb.version)
        if self.loaded is not None:
            try:
                await self.loaded(bundle.kb)
            except Exception:  # the new bundle serves whatever became of the announcement
                log.exception("knowledge %s: the change announcement failed", bundle.kb.version)
        return bundle

    async def run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            try:
                await self.check()
            except Exception:  # never let a reload bug stop the server from answering
                log.exception("knowledge reload failed")
