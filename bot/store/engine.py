"""The store's engine: the connection, the ONE store thread, group commits; open and close.

Every call runs on ONE dedicated thread (datasette's single write thread, style.md §8): the event
loop never blocks on SQLite and writes never contend with each other inside the process. The
connection is created on that thread and keeps sqlite3's `check_same_thread` guard, so any use
from another thread fails loudly. `Engine` gives the domain mixins three ways in: `_run` (reads
and writes that are their own transaction), `_write` (a unit of the next group commit) and
`_read` (a read that joins the next group commit: the message path's per-message reads).

Group commit (bench/load.py; issue 3): the writes of the message path (recording, turns, claims,
send outcomes) that arrive while the store thread is busy are committed together, in ONE
transaction, each in its own savepoint. Every caller still learns its own outcome and its writes
stay all-or-nothing; one caller's error rolls back its savepoint only. An error that ends the
whole transaction (a failed COMMIT, a RAISE(ROLLBACK)) makes the group run again one caller per
transaction, so it costs the others nothing but time. Units run in arrival order, so what one
caller did before the next one asked is what that one sees. A read unit needs no savepoint, and
the reads that come before a group's first write run before its transaction begins: a read
snapshot taken first would make the first write fail (SQLITE_BUSY_SNAPSHOT, no busy wait) if
another process wrote in between.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Self, TypeVar

from sqlite_utils import Database

from bot.store.checkpoint import BACKSTOP_PAGES, JOURNAL_SIZE_LIMIT, Checkpointer
from bot.store.migrations import MIGRATIONS

log = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], float]

BUSY_TIMEOUT_MS = 5000
SYNCHRONOUS = "NORMAL"  # durable against a process crash, not an OS crash: see _connect
MAX_ERROR_CHARS = 500


class StoreClosedError(RuntimeError):
    """The store was used after `close()` (or before `open()`)."""


# One caller's outcome in a group commit: (True, what it returned) or (False, what it raised).
_Outcome = tuple[bool, Any]
# A group commit's outcomes, and whether it changed any row.
_GroupResult = tuple[list[_Outcome], bool]


@dataclass(frozen=True, slots=True)
class _Unit(Generic[T]):
    """A unit waiting for the next group commit, and where its caller awaits the outcome."""

    fn: Callable[[Database], T]
    done: asyncio.Future[T]
    writes: bool  # False: a read, run without a savepoint


class Engine:
    """The connection and its thread. Open with `await Store.open(path)`; `await close()`."""

    def __init__(
        self,
        db: Database,
        executor: ThreadPoolExecutor,
        clock: Clock,
        checkpointer: Checkpointer | None = None,
    ) -> None:
        # Use Store.open(): the Database must be created on the executor's thread.
        self._db: Database | None = db
        self._executor = executor
        self._clock = clock
        self._checkpointer = checkpointer  # None for an in-memory database
        # Units waiting for the next group commit. The group job takes them when it STARTS on
        # the store thread (so units queued behind reads still join it), hence the lock.
        self._writes: list[_Unit[Any]] = []
        self._writes_lock = threading.Lock()
        self._group: asyncio.Future[None] | None = None  # scheduled or running
        self._write_fault: str | None = None

    @classmethod
    async def open(cls, path: str | Path, *, clock: Clock = time.time) -> Self:
        """Open (creating if needed) the database at `path`, apply pending migrations.

        `clock` gives the `*_at` timestamps and must be the delivery worker's clock too.
        """
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        try:
            db = await asyncio.get_running_loop().run_in_executor(executor, _connect, Path(path))
        except BaseException:
            executor.shutdown(wait=False)
            raise
        # An in-memory database has no WAL to checkpoint (nor a second connection to it).
        checkpointer = None if _in_memory(Path(path)) else Checkpointer(Path(path))
        return cls(db, executor, clock, checkpointer)

    @property
    def write_fault(self) -> str | None:
        """Why the database last refused a write ("SQLITE_FULL: database or disk is full",
        "SQLITE_BUSY: database is locked"), until a later write changes rows again; None while
        writes work. Reads mostly still work then (WAL), so a read alone cannot tell that
        nothing new can be recorded: /healthz asks this."""
        return self._write_fault

    async def close(self) -> None:
        """Close the connection on its own thread. Idempotent; later calls raise."""
        if self._db is None:
            return
        while self._group is not None:  # writes already asked for are committed first
            await asyncio.wait([self._group])
        if self._checkpointer is not None:
            await self._checkpointer.close()
        db, self._db = self._db, None
        await asyncio.get_running_loop().run_in_executor(self._executor, db.close)
        # The close was the last job, so the thread exits at once: no need to block on join.
        self._executor.shutdown(wait=False)

    async def _run(self, fn: Callable[[Database], T]) -> T:
        if self._db is None:
            raise StoreClosedError("store is closed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, self._db)

    async def _write(self, fn: Callable[[Database], T]) -> T:
        """Run `fn` inside the next group commit (see the module docstring) and return its
        result, or raise its exception. `fn` must write only through `db` and may run twice
        (after a whole-transaction error, rolled back in between)."""
        return await self._join_group(fn, writes=True)

    async def _read(self, fn: Callable[[Database], T]) -> T:
        """Run `fn`, which must only read, in the next group commit, in arrival order: for a
        read each message makes, it spares an executor job of its own (a hand-off to the store
        thread and back, and its own read transaction; bench/store_path.py)."""
        return await self._join_group(fn, writes=False)

    async def _join_group(self, fn: Callable[[Database], T], writes: bool) -> T:
        if self._db is None:
            raise StoreClosedError("store is closed")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        with self._writes_lock:
            self._writes.append(_Unit(fn, done, writes))
        if self._group is None:
            self._start_group(loop)
        return await done

    def _start_group(self, loop: asyncio.AbstractEventLoop) -> None:
        # The loop's thread only: `_group` is never touched by the store thread.
        db = self._db
        assert db is not None
        taken: list[_Unit[Any]] = []
        self._group = group = loop.create_future()

        def work() -> None:
            with self._writes_lock:
                taken.extend(self._writes)
                self._writes.clear()
            result: _GroupResult | BaseException
            try:
                changes = db.conn.total_changes
                outcomes = _commit_group(db, taken)
                result = outcomes, db.conn.total_changes > changes
            except BaseException as exc:  # the job itself, not a unit (those are outcomes)
                result = exc
            # Straight back to the loop. run_in_executor's future would cost one more pass of
            # the event loop per round trip (its done callbacks are scheduled, not called), and
            # under a flood of webhooks one pass takes milliseconds (bench/store_path.py).
            loop.call_soon_threadsafe(self._group_done, loop, group, taken, result)

        try:
            self._executor.submit(work)
        except RuntimeError:  # the executor is shut down: nothing can run any more
            with self._writes_lock:
                taken.extend(self._writes)
                self._writes.clear()
            closed = StoreClosedError("store is closed")
            loop.call_soon(self._group_done, loop, group, taken, closed)

    def _group_done(
        self,
        loop: asyncio.AbstractEventLoop,
        group: asyncio.Future[None],
        taken: list[_Unit[Any]],
        result: _GroupResult | BaseException,
    ) -> None:
        self._group = None
        group.set_result(None)
        if self._checkpointer is not None:
            self._checkpointer.after_commit(loop)
        if isinstance(result, BaseException):
            # Not a unit's error (those are outcomes): the job itself could not run.
            outcomes: list[_Outcome] = [(False, result)] * len(taken)
            changed = False
        else:
            outcomes, changed = result
        # A read's error says nothing of whether the database takes writes.
        self._note_fault([o for u, o in zip(taken, outcomes, strict=True) if u.writes], changed)
        for write, (ok, value) in zip(taken, outcomes, strict=True):
            if write.done.done():  # the caller was cancelled; its write stands all the same
                continue
            if ok:
                write.done.set_result(value)
            else:
                write.done.set_exception(value)
        if self._writes:
            self._start_group(loop)

    def _note_fault(self, outcomes: list[_Outcome], changed: bool) -> None:
        # OperationalError is the database refusing (full, locked, I/O error, read-only);
        # a caller's own error (a constraint, a bug in its function) says nothing of the disk.
        errors = [v for ok, v in outcomes if not ok and isinstance(v, sqlite3.OperationalError)]
        if errors:
            name = getattr(errors[-1], "sqlite_errorname", "SQLITE_ERROR")
            fault = trim_error(f"{name}: {errors[-1]}")
            if self._write_fault is None:
                log.error("the database refuses writes: %s", fault)
            self._write_fault = fault
        elif changed and self._write_fault is not None:
            log.warning("the database takes writes again (after %s)", self._write_fault)
            self._write_fault = None


# -- helpers: all run on the store thread ------------------------------------------------


def _commit_group(db: Database, units: Sequence[_Unit[Any]]) -> list[_Outcome]:
    """Run `units` in order, the writes in ONE transaction, each in its own savepoint; one
    outcome each.

    A unit that raises has its own writes rolled back and the others go on. If the
    transaction as a whole fails (its COMMIT, or an error that ended it), nothing of it stands
    and every unit in it runs again in a transaction of its own. Reads before the first write
    run before the transaction begins (see the module docstring).
    """
    outcomes: list[_Outcome] = []
    first_write = next((n for n, unit in enumerate(units) if unit.writes), len(units))
    for unit in units[:first_write]:
        outcomes.append(_commit_alone(db, unit))
    rest = units[first_write:]
    if len(rest) <= 1:
        return outcomes + [_commit_alone(db, unit) for unit in rest]
    conn = db.conn
    try:
        with db.atomic():
            for unit in rest:
                # A savepoint: this caller's writes, all or none. By hand, with one fixed name,
                # rather than db.atomic()'s: that one names each savepoint from os.urandom, so
                # every unit prepared two new statements and made a system call (~13% of the
                # store thread under bench/load.py). Units never nest, so one name is enough.
                if unit.writes:
                    conn.execute("SAVEPOINT unit")
                try:
                    value = unit.fn(db)
                except Exception as exc:
                    if not conn.in_transaction:
                        raise  # the error rolled back the whole transaction (RAISE(ROLLBACK))
                    if unit.writes:
                        conn.execute("ROLLBACK TO unit")
                        conn.execute("RELEASE unit")
                    outcomes.append((False, exc))
                else:
                    if unit.writes:
                        conn.execute("RELEASE unit")
                    outcomes.append((True, value))
    except Exception as exc:
        log.warning("group commit of %d writes failed (%r): one by one", len(rest), exc)
        return outcomes[:first_write] + [_commit_alone(db, unit) for unit in rest]
    return outcomes


def _commit_alone(db: Database, unit: _Unit[Any]) -> _Outcome:
    """One unit in a transaction of its own; a read in none (SQLite's implicit one)."""
    try:
        if not unit.writes:
            return True, unit.fn(db)
        with db.atomic():
            return True, unit.fn(db)
    except Exception as exc:
        return False, exc


def _in_memory(path: Path) -> bool:
    return str(path) == ":memory:"


def _connect(path: Path) -> Database:
    if not _in_memory(path):
        path.parent.mkdir(parents=True, exist_ok=True)
    # No sqlite-utils plugins: nothing outside this package may touch the connection.
    db = Database(path, execute_plugins=False)
    # Before anything creates a table, or it is too late: a new database gives the pages the
    # retention purge frees back to the file system (bot/store/privacy.py). An older one is
    # converted once by Store.ensure_incremental_vacuum; on it this line changes nothing.
    db.execute("PRAGMA auto_vacuum = INCREMENTAL")
    # Deleted rows are overwritten, not left readable in free space (a forgotten user's text
    # in a backup copy of the file). Often compiled in already; said here so it always is.
    db.execute("PRAGMA secure_delete = ON")
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    # WAL: readers (admin, a CLI on the same file) never block the writer.
    db.enable_wal()
    # synchronous=NORMAL: in WAL mode a commit is written to the WAL but not fsynced (only
    # checkpoints are). The trade-off, taken on purpose (issue 3, bench/load.py: an fsync per
    # commit was two thirds of the store thread's time): a killed PROCESS (SIGKILL, OOM, a crash)
    # loses nothing, because the written WAL is in the OS's page cache and read back at start-up,
    # so "a server killed and restarted answers every message it acknowledged, once" holds
    # (tests/test_crash.py). An OS crash or power cut can lose the last commits before the next
    # checkpoint: messages acknowledged in that window are not answered (the platform does not
    # resend what got a 200), and sends whose "sent" mark is lost go out a second time. The
    # database itself stays consistent either way. Set FULL here to close that window again.
    db.execute(f"PRAGMA synchronous = {SYNCHRONOUS}")
    if not _in_memory(path):
        # Checkpoints run on their own connection (bot/store/checkpoint.py); this one only
        # past the backstop, should that ever fall behind.
        db.execute(f"PRAGMA wal_autocheckpoint = {BACKSTOP_PAGES}")
        # After a flood grew the WAL, give the disk back once it is reset.
        db.execute(f"PRAGMA journal_size_limit = {JOURNAL_SIZE_LIMIT}")
    MIGRATIONS.apply(db)
    return db


def trim_error(error: str) -> str:
    """`error` cut to what the store keeps (a reason, never a payload)."""
    return error[:MAX_ERROR_CHARS]
