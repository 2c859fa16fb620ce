"""WAL checkpoints off the write path: a connection and a thread of their own.

With SQLite's default, the commit that grows the WAL past 1,000 pages also copies the WAL into
the database file and syncs it: about one commit in fifty took ~7 ms instead of ~1 ms, and every
webhook waiting for that group commit waited with it (bench/load.py, p99 to the 200). Here the
writer connection only checkpoints as a backstop (`BACKSTOP_PAGES`), and a PASSIVE checkpoint
runs on this second connection at most every `INTERVAL` seconds after a commit. PASSIVE never
waits for the writer nor blocks it (https://sqlite.org/c3ref/wal_checkpoint_v2.html): commits
keep appending to the WAL while the checkpoint copies what is already there.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

log = logging.getLogger(__name__)

INTERVAL = 1.0  # seconds between checkpoints while commits keep coming
BACKSTOP_PAGES = 20_000  # ~80 MiB of WAL: the writer checkpoints itself only past this
JOURNAL_SIZE_LIMIT = 64 * 2**20  # bytes of WAL file kept after it is reset
BUSY_TIMEOUT_MS = 5000
BLOCKING_BUSY_MS = 200  # the most a RESTART or TRUNCATE checkpoint may hold writers back


class Checkpointer:
    """Runs `PRAGMA wal_checkpoint(PASSIVE)` for one database file, never two at once."""

    def __init__(self, path: Path, interval: float = INTERVAL) -> None:
        self.path = path
        self.interval = interval
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="checkpoint")
        self._conn: sqlite3.Connection | None = None  # created on the checkpoint thread
        self._running: asyncio.Future[None] | None = None
        self._last = 0.0
        self._closed = False
        self.done = 0  # checkpoints completed

    def after_commit(self, loop: asyncio.AbstractEventLoop) -> None:
        """A commit just ended: start a checkpoint unless one ran within `interval`."""
        now = time.monotonic()
        if self._closed or self._running is not None or now - self._last < self.interval:
            return
        self._last = now
        self._running = running = loop.run_in_executor(self._executor, self._checkpoint)
        running.add_done_callback(self._finished)

    async def run(self, mode: str = "PASSIVE") -> None:
        """One checkpoint now, after the running one if any (what a test can await).

        RESTART and TRUNCATE (the retention purge's) also start the WAL file over (TRUNCATE
        empties it); they wait for the writer's transaction in progress, and hold back the
        next one while they copy, at most BLOCKING_BUSY_MS waiting for readers.
        """
        while self._running is not None:
            await asyncio.wait([self._running])
        if not self._closed:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(self._executor, self._checkpoint, mode)

    async def close(self) -> None:
        """Wait for a running checkpoint and close the connection on its thread."""
        self._closed = True
        while self._running is not None:
            await asyncio.wait([self._running])
        await asyncio.get_running_loop().run_in_executor(self._executor, self._close)
        self._executor.shutdown(wait=False)

    def _finished(self, running: asyncio.Future[None]) -> None:
        self._running = None
        if not running.cancelled() and running.exception() is not None:
            # The backstop still bounds the WAL: a failed checkpoint costs disk, not data.
            log.warning("WAL checkpoint failed: %r", running.exception())

    # -- on the checkpoint thread -------------------------------------------------------

    def _checkpoint(self, mode: str = "PASSIVE") -> None:
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, isolation_level=None)
            self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if mode == "PASSIVE":
            self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
        else:
            # RESTART and TRUNCATE hold new writers back while they wait for readers: never
            # longer than this, or a long read (a backup) would stall every webhook. A busy
            # answer only leaves the WAL as it is.
            self._conn.execute(f"PRAGMA busy_timeout = {BLOCKING_BUSY_MS}")
            try:
                self._conn.execute(f"PRAGMA wal_checkpoint({mode})").fetchall()
            finally:
                self._conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        self.done += 1

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
