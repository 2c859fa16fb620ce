"""The only module that speaks SQL: inbound messages, conversation state, the outbox, a kv table.

`Store` is an async facade over a sqlite-utils `Database`. Every call runs on ONE dedicated
thread (datasette's single write thread, style.md §8): the event loop never blocks on SQLite and
writes never contend with each other inside the process. The connection is created on that
thread and keeps sqlite3's `check_same_thread` guard, so any use from another thread fails loudly.

Durability contract (DESIGN.md, "How a message flows"): `record_inbound` is the idempotency gate;
`complete_turn` saves the state, queues the replies and marks the message handled in ONE
transaction, so a crash leaves either the whole turn or none of it. The outbox is delivered
at least once: a claim is a lease that expires if the worker dies mid-send.

Group commit (bench/load.py; issue 3): the writes of the message path (recording, turns, claims,
send outcomes) that arrive while the store thread is busy are committed together, in ONE
transaction, each in its own savepoint. Every caller still learns its own outcome and its writes
stay all-or-nothing; one caller's error rolls back its savepoint only. An error that ends the
whole transaction (a failed COMMIT, a RAISE(ROLLBACK)) makes the group run again one caller per
transaction, so it costs the others nothing but time. Units run in arrival order, so what one
caller did before the next one asked is what that one sees.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import threading
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, Self, TypeVar

from sqlite_utils import Database

from bot.cases import (
    CLOSED,
    MAX_CODE_CHARS,
    Case,
    CaseStatus,
    LookupOutcome,
    Subscriber,
    digits_match,
)
from bot.dialog import State
from bot.migrations import MIGRATIONS
from bot.models import EventKind, Incoming, Outgoing, Platform, QuickReply, Reply

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


@dataclass(frozen=True, slots=True)
class _Write(Generic[T]):
    """A write waiting for the next group commit, and where its caller awaits the outcome."""

    fn: Callable[[Database], T]
    done: asyncio.Future[T]


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One claimed outbox row. `attempts` counts this attempt too (1 on the first send)."""

    id: int
    outgoing: Outgoing
    attempts: int


@dataclass(frozen=True, slots=True)
class OutboxRecord:
    """An outbox row as stored, for the admin page and tests."""

    id: int
    outgoing: Outgoing
    seq: int
    status: str
    attempts: int
    next_attempt_at: float
    last_error: str | None
    created_at: float
    sent_at: float | None
    source: str


class Store:
    """Async domain methods over SQLite. Open with `await Store.open(path)`; `await close()`."""

    def __init__(self, db: Database, executor: ThreadPoolExecutor, clock: Clock) -> None:
        # Use Store.open(): the Database must be created on the executor's thread.
        self._db: Database | None = db
        self._executor = executor
        self._clock = clock
        # Writes waiting for the next group commit. The group job takes them when it STARTS on
        # the store thread (so writes queued behind reads still join it), hence the lock.
        self._writes: list[_Write[Any]] = []
        self._writes_lock = threading.Lock()
        self._group: asyncio.Future[list[_Outcome]] | None = None  # scheduled or running

    @classmethod
    async def open(cls, path: str | Path, *, clock: Clock = time.time) -> Self:
        """Open (creating if needed) the database at `path`, apply pending migrations.

        `clock` gives the `*_at` timestamps and must be the outbox worker's clock too.
        """
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        try:
            db = await asyncio.get_running_loop().run_in_executor(executor, _connect, Path(path))
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(db, executor, clock)

    async def close(self) -> None:
        """Close the connection on its own thread. Idempotent; later calls raise."""
        if self._db is None:
            return
        while self._group is not None:  # writes already asked for are committed first
            await asyncio.wait([self._group])
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
        if self._db is None:
            raise StoreClosedError("store is closed")
        loop = asyncio.get_running_loop()
        done: asyncio.Future[T] = loop.create_future()
        with self._writes_lock:
            self._writes.append(_Write(fn, done))
        if self._group is None:
            self._start_group(loop)
        return await done

    def _start_group(self, loop: asyncio.AbstractEventLoop) -> None:
        # The loop's thread only: `_group` is never touched by the store thread.
        db = self._db
        assert db is not None
        taken: list[_Write[Any]] = []

        def work() -> list[_Outcome]:
            with self._writes_lock:
                taken.extend(self._writes)
                self._writes.clear()
            return _commit_group(db, [w.fn for w in taken])

        self._group = group = loop.run_in_executor(self._executor, work)
        group.add_done_callback(lambda _: self._group_done(loop, group, taken))

    def _group_done(
        self,
        loop: asyncio.AbstractEventLoop,
        group: asyncio.Future[list[_Outcome]],
        taken: list[_Write[Any]],
    ) -> None:
        self._group = None
        if group.cancelled() or group.exception() is not None:
            # Not a unit's error (those are outcomes): the job itself could not run.
            error = StoreClosedError("store is closed") if group.cancelled() else group.exception()
            outcomes: list[_Outcome] = [(False, error)] * len(taken)
        else:
            outcomes = group.result()
        for write, (ok, value) in zip(taken, outcomes, strict=True):
            if write.done.done():  # the caller was cancelled; its write stands all the same
                continue
            if ok:
                write.done.set_result(value)
            else:
                write.done.set_exception(value)
        if self._writes:
            self._start_group(loop)

    # -- inbound -------------------------------------------------------------------------

    async def record_inbound(self, msg: Incoming) -> bool:
        """Record a message before acknowledging it. False: already seen (a platform retry)."""
        (fresh,) = await self.record_inbound_many([msg])
        return fresh

    async def record_inbound_many(self, msgs: Sequence[Incoming]) -> list[bool]:
        """`record_inbound` for several messages in ONE transaction (one commit, one sync to
        disk): a Messenger batch, or the messages of concurrent webhooks. One flag per message,
        in order; a message id seen before, or earlier in `msgs`, gives False. All or none of
        `msgs` are recorded (a group commit keeps them in one savepoint)."""

        def work(db: Database) -> list[bool]:
            now = self._clock()
            fresh = []
            for msg in msgs:
                new = _insert_inbound(db, msg, now)
                fresh.append(new)
                if new:
                    db.execute(
                        "INSERT INTO conversations (platform, user_id, last_inbound_at)"
                        " VALUES (?, ?, ?) ON CONFLICT (platform, user_id)"
                        " DO UPDATE SET last_inbound_at = excluded.last_inbound_at",
                        [msg.platform.value, msg.user_id, now],
                    )
            return fresh

        return await self._write(work) if msgs else []

    async def pending_inbound(self, limit: int = 100) -> list[Incoming]:
        """Messages recorded but neither handled nor failed, oldest first (`raw` is None).

        After a crash these were acknowledged but never answered: re-process them at start-up,
        before webhooks are accepted, or a message being handled right now would run twice.
        """

        def work(db: Database) -> list[Incoming]:
            rows = db.query(
                "SELECT * FROM inbound WHERE status = 'pending' ORDER BY id LIMIT ?", [limit]
            )
            return [_incoming(row) for row in rows]

        return await self._run(work)

    async def fail_inbound(self, platform: Platform, message_id: str, error: str) -> None:
        """Give up a message whose handling raised: it is no longer pending, so a restart does
        not replay a poison message. `error` is stored: an exception class name, never a secret.
        """

        def work(db: Database) -> None:
            db.execute(
                "UPDATE inbound SET status = 'failed', error = ?"
                " WHERE platform = ? AND message_id = ? AND status = 'pending'",
                [_trim(error), platform.value, message_id],
            )

        await self._write(work)

    # -- conversations -------------------------------------------------------------------

    async def load_state(self, platform: Platform, user_id: str) -> State | None:
        """The saved state, or None for a new user. Unknown keys are ignored, missing ones take
        their defaults; an unreadable state is logged and treated as none."""

        def work(db: Database) -> str | None:
            row = db.execute(
                "SELECT state FROM conversations WHERE platform = ? AND user_id = ?",
                [platform.value, user_id],
            ).fetchone()
            return None if row is None else row[0]

        text = await self._run(work)
        return None if text is None else _state_from_json(text)

    async def last_inbound_at(self, platform: Platform, user_id: str) -> float | None:
        """When the user last wrote (store clock); Messenger's 24-hour window runs from it."""

        def work(db: Database) -> float | None:
            row = db.execute(
                "SELECT last_inbound_at FROM conversations WHERE platform = ? AND user_id = ?",
                [platform.value, user_id],
            ).fetchone()
            return None if row is None else row[0]

        return await self._run(work)

    async def complete_turn(
        self,
        msg: Incoming,
        state: State,
        outgoing: Sequence[Outgoing],
        unanswered: bool = False,
        handoff: bool = False,
    ) -> bool:
        """In ONE transaction: save `state`, queue `outgoing` (in order), mark `msg` handled, log
        an unanswered question and open a handoff (unless one is open) when asked.

        Returns False, writing nothing, if `msg` was already handled: a turn is never recorded
        twice. A message never passed to `record_inbound` (web chat, CLI) is recorded here.
        Turns completed while the store is busy share one commit; each stays all-or-nothing.
        """
        state_json = _state_json(state)
        bodies = [(o, _body_json(o.reply)) for o in outgoing]

        def work(db: Database) -> bool:
            now = self._clock()
            key = [msg.platform.value, msg.message_id]
            _insert_inbound(db, msg, now)
            updated = db.execute(
                "UPDATE inbound SET status = 'handled', handled_at = ?, error = NULL"
                " WHERE platform = ? AND message_id = ? AND status != 'handled'",
                [now, *key],
            )
            if updated.rowcount == 0:
                return False
            (inbound_id,) = db.execute(
                "SELECT id FROM inbound WHERE platform = ? AND message_id = ?", key
            ).fetchone()
            db.execute(
                "INSERT INTO conversations (platform, user_id, state, updated_at,"
                " last_inbound_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT (platform, user_id)"
                " DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at",
                [msg.platform.value, msg.user_id, state_json, now, now],
            )
            _insert_outbox(db, bodies, now, inbound_id, "turn")
            if unanswered:
                db.execute(
                    "INSERT INTO unanswered (platform, user_id, text, inbound_id, created_at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [msg.platform.value, msg.user_id, msg.text, inbound_id, now],
                )
            if handoff:
                db.execute(
                    "INSERT INTO handoffs (platform, user_id, created_at) SELECT ?, ?, ?"
                    " WHERE NOT EXISTS (SELECT 1 FROM handoffs WHERE platform = ?"
                    " AND user_id = ? AND status = 'open')",
                    [msg.platform.value, msg.user_id, now, msg.platform.value, msg.user_id],
                )
            return True

        return await self._write(work)

    async def unanswered_questions(self, limit: int = 100) -> list[dict[str, Any]]:
        """Questions the bot could not answer, newest first, for staff review."""
        sql = "SELECT * FROM unanswered ORDER BY id DESC LIMIT ?"
        return await self._run(lambda db: list(db.query(sql, [limit])))

    async def open_handoffs(self) -> list[dict[str, Any]]:
        """Citizens waiting for a member of staff, oldest first."""
        sql = "SELECT * FROM handoffs WHERE status = 'open' ORDER BY id"
        return await self._run(lambda db: list(db.query(sql)))

    # -- outbox --------------------------------------------------------------------------

    async def enqueue(self, outgoing: Sequence[Outgoing], source: str = "notice") -> None:
        """Queue messages not tied to an inbound message (notifications), in order."""
        bodies = [(o, _body_json(o.reply)) for o in outgoing]

        def work(db: Database) -> None:
            _insert_outbox(db, bodies, self._clock(), None, source)

        await self._write(work)

    async def claim_due(
        self,
        now: float,
        limit: int,
        lease_seconds: float,
        platforms: Collection[Platform] | None = None,
    ) -> list[OutboxRow]:
        """Claim up to `limit` pending rows due at `now`, earliest due first (then oldest),
        counting an attempt.

        Only the OLDEST pending row of each user can be claimed, so one user's messages go out
        in order, one at a time. Claiming moves `next_attempt_at` to `now + lease_seconds`: if
        the worker dies before `mark_*`, the row comes due again (at-least-once delivery).
        The lease must outlast a send. `platforms` limits the claim to those with a sender.
        """
        where = ""
        params: list[Any] = [now]
        if platforms is not None:
            if not platforms:
                return []  # (`IN ()` is no query at all for SQLite with INDEXED BY)
            where = f" AND o.platform IN ({', '.join('?' for _ in platforms)})"
            params.extend(p.value for p in platforms)

        def work(db: Database) -> list[OutboxRow]:
            # Walk the due index in its own order and stop at `limit`. Left to itself the
            # planner picked outbox_user for the platform filter and sorted EVERY pending row
            # (~10 ms per claim at a 5,000-row backlog, one claim per send: bench/load.py).
            rows = list(
                db.query(
                    "SELECT o.id, o.platform, o.user_id, o.body, o.attempts"
                    " FROM outbox o INDEXED BY outbox_due"
                    " WHERE o.status = 'pending' AND o.next_attempt_at <= ?" + where + " AND"
                    " NOT EXISTS (SELECT 1 FROM outbox e WHERE e.status = 'pending' AND"
                    " e.platform = o.platform AND e.user_id = o.user_id AND e.id < o.id)"
                    " ORDER BY o.next_attempt_at, o.id LIMIT ?",
                    [*params, limit],
                )
            )
            db.conn.executemany(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
                [(now + lease_seconds, row["id"]) for row in rows],
            )
            return [OutboxRow(r["id"], _outgoing(r), r["attempts"] + 1) for r in rows]

        return await self._write(work)

    async def mark_sent(self, row_id: int) -> None:
        """The platform accepted the message. Outcomes of sends that end while the store is
        busy share one commit (the outbox worker runs several sends at once)."""
        await self._finish(row_id, "status = 'sent', sent_at = ?", [self._clock()])

    async def mark_retry(self, row_id: int, next_attempt_at: float, error: str) -> None:
        """A retryable failure: try again from `next_attempt_at`; the user's later rows wait."""
        await self._finish(
            row_id, "next_attempt_at = ?, last_error = ?", [next_attempt_at, _trim(error)]
        )

    async def mark_failed(self, row_id: int, error: str) -> None:
        """Given up: the reason is kept and the user's later rows may go out."""
        await self._finish(row_id, "status = 'failed', last_error = ?", [_trim(error)])

    async def _finish(self, row_id: int, assignments: str, params: list[Any]) -> None:
        sql = f"UPDATE outbox SET {assignments} WHERE id = ? AND status = 'pending'"
        await self._write(lambda db: db.execute(sql, [*params, row_id]))

    async def backlog(self) -> int:
        """Rows still to be delivered (including those waiting for a retry)."""
        sql = "SELECT count(*) FROM outbox WHERE status = 'pending'"
        return int(await self._run(lambda db: db.execute(sql).fetchone()[0]))

    async def outbox_rows(
        self, status: str | None = None, user_id: str | None = None, limit: int = 100
    ) -> list[OutboxRecord]:
        """Outbox rows, oldest first, optionally of one status and/or one user."""
        sql = "SELECT * FROM outbox WHERE (? IS NULL OR status = ?) AND (? IS NULL OR user_id = ?)"
        params = [status, status, user_id, user_id, limit]

        def work(db: Database) -> list[OutboxRecord]:
            rows = db.query(sql + " ORDER BY id LIMIT ?", params)
            return [_record(r) for r in rows]

        return await self._run(work)

    # -- kv ------------------------------------------------------------------------------

    async def get_value(self, key: str) -> str | None:
        """A small persistent setting (e.g. the Zalo tokens after a refresh), or None."""
        row = await self._run(
            lambda db: db.execute("SELECT value FROM kv WHERE key = ?", [key]).fetchone()
        )
        return None if row is None else str(row[0])

    async def set_value(self, key: str, value: str) -> None:
        sql = (
            "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key)"
            " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
        )
        await self._run(lambda db: db.execute(sql, [key, value, self._clock()]))

    # -- dossiers (issue 4) --------------------------------------------------------------

    async def import_cases(
        self,
        cases: Sequence[Case],
        notify: Notify,
        *,
        source: str = "",
        rejected: int = 0,
    ) -> ImportCounts:
        """Upsert `cases` by code in ONE transaction: a crash midway, or `notify` raising, leaves
        the store as it was. Dossiers absent from `cases` are left alone (partial exports).

        A status change is recorded in case_history with the time. Each active subscriber of a
        changed dossier gets `notify`'s replies queued in the outbox, in the same transaction,
        or the reason it returned recorded as undeliverable; a subscription ends once told
        about a closed status. The run itself is recorded in case_imports.
        """
        rows = [_case_row(c) for c in cases]
        by_code = {c.code: c for c in cases}

        def work(db: Database) -> ImportCounts:
            now = self._clock()
            added = updated = unchanged = 0
            writes: list[tuple[Any, ...]] = []
            history: list[tuple[Any, ...]] = []
            with db.atomic():
                for start in range(0, len(rows), _CHUNK):
                    chunk = rows[start : start + _CHUNK]
                    marks = ", ".join("?" for _ in chunk)
                    existing = {
                        row[0]: row
                        for row in db.execute(
                            f"SELECT {_CASE_COLUMNS} FROM cases WHERE code IN ({marks})",
                            [r[0] for r in chunk],
                        )
                    }
                    for row in chunk:
                        old = existing.get(row[0])
                        if old == row:
                            unchanged += 1
                            continue
                        writes.append((*row, now, now))
                        if old is None:
                            added += 1
                        else:
                            updated += 1
                            if old[_STATUS_AT] != row[_STATUS_AT]:
                                history.append((row[0], old[_STATUS_AT], row[_STATUS_AT], now))
                db.conn.executemany(_UPSERT_CASE, writes)
                db.conn.executemany(
                    "INSERT INTO case_history (code, old_status, new_status, changed_at)"
                    " VALUES (?, ?, ?, ?)",
                    history,
                )
                queued, undeliverable = _notify_subscribers(
                    db, [by_code[h[0]] for h in history], notify, now
                )
                counts = ImportCounts(
                    added, updated, unchanged, rejected, len(history), queued, undeliverable
                )
                db.execute(
                    "INSERT INTO case_imports (source, added, updated, unchanged, rejected,"
                    " status_changes, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [source, added, updated, unchanged, rejected, len(history), now],
                )
            return counts

        return await self._run(work)

    async def lookup_case(
        self,
        platform: Platform,
        user_id: str,
        code: str,
        digits: str,
        *,
        max_failures: int,
        window_seconds: float,
    ) -> tuple[LookupOutcome, Case | None]:
        """One audited check of `digits` against dossier `code`, atomically with the locks.

        A lock on the sender or on the code refuses the check, right digits or not. A failed
        check (wrong digits and unknown code alike) counts against both; the one that makes
        `max_failures` within `window_seconds` locks that sender or code for `window_seconds`,
        and answers "locked". Only (sender, code, outcome, time) is kept: never the digits.
        """
        sender = f"{platform.value}:{user_id}"

        def work(db: Database) -> tuple[LookupOutcome, Case | None]:
            now = self._clock()

            def audit(outcome: LookupOutcome) -> None:
                db.execute(
                    "INSERT INTO case_lookups (platform, user_id, code, outcome, at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [platform.value, user_id, code[:MAX_CODE_CHARS], outcome, now],
                )

            with db.atomic():
                locked = db.execute(
                    "SELECT 1 FROM case_locks WHERE until > ? AND ((scope = 'sender' AND key = ?)"
                    " OR (scope = 'code' AND key = ?))",
                    [now, sender, code],
                ).fetchone()
                if locked:
                    audit("locked")
                    return "locked", None
                row = db.execute(
                    f"SELECT {_CASE_COLUMNS} FROM cases WHERE code = ?", [code]
                ).fetchone()
                case = None if row is None else _case(row)
                if digits_match(case, digits):
                    audit("found")
                    return "found", case
                audit("no_match")
                since = now - window_seconds
                failures = {
                    ("sender", sender): db.execute(
                        "SELECT count(*) FROM case_lookups WHERE platform = ? AND user_id = ?"
                        " AND outcome = 'no_match' AND at > ?",
                        [platform.value, user_id, since],
                    ).fetchone()[0],
                    ("code", code): db.execute(
                        "SELECT count(*) FROM case_lookups WHERE code = ?"
                        " AND outcome = 'no_match' AND at > ?",
                        [code, since],
                    ).fetchone()[0],
                }
                outcome: LookupOutcome = "no_match"
                for (scope, key), count in failures.items():
                    if count >= max_failures:
                        db.execute(
                            "INSERT INTO case_locks (scope, key, until, created_at)"
                            " VALUES (?, ?, ?, ?) ON CONFLICT (scope, key)"
                            " DO UPDATE SET until = excluded.until,"
                            " created_at = excluded.created_at",
                            [scope, key, now + window_seconds, now],
                        )
                        outcome = "locked"
                return outcome, None

        return await self._run(work)

    async def subscribe(self, platform: Platform, user_id: str, code: str, lang: str) -> None:
        """The (verified) user wants to hear when dossier `code` changes; idempotent."""
        sql = (
            "INSERT INTO case_subscriptions (platform, user_id, code, lang, created_at, active)"
            " VALUES (?, ?, ?, ?, ?, 1) ON CONFLICT (platform, user_id, code) DO UPDATE SET"
            " lang = excluded.lang, created_at = excluded.created_at, active = 1"
        )
        await self._run(
            lambda db: db.execute(sql, [platform.value, user_id, code, lang, self._clock()])
        )

    async def all_cases(self) -> list[Case]:
        """Every dossier, by code (the report)."""
        sql = f"SELECT {_CASE_COLUMNS} FROM cases ORDER BY code"
        return await self._run(lambda db: [_case(row) for row in db.execute(sql)])

    async def case_history(self, code: str) -> list[dict[str, Any]]:
        """The status changes of one dossier found by imports, oldest first."""
        sql = "SELECT * FROM case_history WHERE code = ? ORDER BY id"
        return await self._run(lambda db: list(db.query(sql, [code])))

    async def case_rows(self, table: str, limit: int = 1000) -> list[dict[str, Any]]:
        """Rows of a dossier side table, oldest first: case_lookups (the audit),
        case_subscriptions, case_notices, case_imports or case_locks."""
        if table not in _CASE_TABLES:
            raise ValueError(f"not a dossier table: {table}")
        sql = f"SELECT * FROM {table} ORDER BY rowid LIMIT ?"
        return await self._run(lambda db: list(db.query(sql, [limit])))


# -- helpers: all run on the store thread ------------------------------------------------


def _commit_group(db: Database, fns: Sequence[Callable[[Database], Any]]) -> list[_Outcome]:
    """Run `fns` in order in ONE transaction, each in its own savepoint; one outcome each.

    A function that raises has its own writes rolled back and the others go on. If the
    transaction as a whole fails (its COMMIT, or an error that ended it), nothing of it stands
    and every function runs again in a transaction of its own.
    """
    if len(fns) == 1:
        return [_commit_alone(db, fns[0])]
    outcomes: list[_Outcome] = []
    try:
        with db.atomic():
            for fn in fns:
                try:
                    with db.atomic():  # a savepoint: this caller's writes, all or none
                        outcomes.append((True, fn(db)))
                except Exception as exc:
                    if not db.conn.in_transaction:
                        raise  # the error rolled back the whole transaction (RAISE(ROLLBACK))
                    outcomes.append((False, exc))
    except Exception as exc:
        log.warning("group commit of %d writes failed (%r): one by one", len(fns), exc)
        return [_commit_alone(db, fn) for fn in fns]
    return outcomes


def _commit_alone(db: Database, fn: Callable[[Database], Any]) -> _Outcome:
    try:
        with db.atomic():
            return True, fn(db)
    except Exception as exc:
        return False, exc


def _connect(path: Path) -> Database:
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    # No sqlite-utils plugins: nothing outside this module may touch the connection.
    db = Database(path, execute_plugins=False)
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
    MIGRATIONS.apply(db)
    return db


def _insert_inbound(db: Database, msg: Incoming, now: float) -> bool:
    """Insert `msg` as pending unless already there; True if it was new."""
    cursor = db.execute(
        "INSERT INTO inbound (platform, message_id, user_id, kind, text, payload, timestamp_ms,"
        " received_at) VALUES (:platform, :message_id, :user_id, :kind, :text, :payload,"
        " :timestamp_ms, :received_at) ON CONFLICT (platform, message_id) DO NOTHING",
        {
            "platform": msg.platform.value,
            "message_id": msg.message_id,
            "user_id": msg.user_id,
            "kind": msg.kind.value,
            "text": msg.text,
            "payload": msg.payload,
            "timestamp_ms": msg.timestamp_ms,
            "received_at": now,
        },
    )
    return cursor.rowcount == 1


def _insert_outbox(
    db: Database,
    bodies: Sequence[tuple[Outgoing, str]],
    now: float,
    inbound_id: int | None,
    source: str,
) -> None:
    db.conn.executemany(
        "INSERT INTO outbox (platform, user_id, body, seq, next_attempt_at, created_at,"
        " inbound_id, source) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        [
            (o.platform.value, o.user_id, body, seq, now, now, inbound_id, source)
            for seq, (o, body) in enumerate(bodies)
        ],
    )


def _incoming(row: dict[str, Any]) -> Incoming:
    return Incoming(
        platform=Platform(row["platform"]),
        user_id=row["user_id"],
        message_id=row["message_id"],
        kind=EventKind(row["kind"]),
        text=row["text"],
        payload=row["payload"],
        timestamp_ms=row["timestamp_ms"],
    )


def _record(row: dict[str, Any]) -> OutboxRecord:
    names = [f.name for f in dataclasses.fields(OutboxRecord) if f.name != "outgoing"]
    return OutboxRecord(outgoing=_outgoing(row), **{name: row[name] for name in names})


def _body_json(reply: Reply) -> str:
    # By hand: dataclasses.asdict deep-copies every field, and showed in the turn's profile.
    quick = [{"title": q.title, "payload": q.payload} for q in reply.quick_replies]
    return json.dumps({"text": reply.text, "quick_replies": quick}, ensure_ascii=False)


_STATE_FIELDS = tuple(f.name for f in dataclasses.fields(State))


def _state_json(state: State) -> str:
    # State holds only str, int, None and tuples of str: JSON as they are (see _body_json).
    return json.dumps({name: getattr(state, name) for name in _STATE_FIELDS}, ensure_ascii=False)


def _outgoing(row: dict[str, Any]) -> Outgoing:
    body = json.loads(row["body"])
    quick = tuple(QuickReply(q["title"], q["payload"]) for q in body.get("quick_replies", ()))
    reply = Reply(text=body["text"], quick_replies=quick)
    return Outgoing(Platform(row["platform"]), row["user_id"], reply)


def _state_from_json(text: str) -> State | None:
    try:
        data = json.loads(text)
    except ValueError:
        log.warning("unreadable conversation state ignored")
        return None
    if not isinstance(data, dict):
        return None
    values: dict[str, Any] = {}
    for f in dataclasses.fields(State):
        value = data.get(f.name)
        # JSON has no tuples; a value of the wrong type (a future or broken schema) is dropped
        # and the field keeps its default rather than breaking the citizen's conversation.
        if isinstance(f.default, tuple):
            if isinstance(value, list) and all(isinstance(v, str) for v in value):
                values[f.name] = tuple(value)
        elif f.name == "lang":
            if value in ("vi", "en"):
                values[f.name] = value
        elif f.default is None:
            if isinstance(value, str):
                values[f.name] = value
        elif isinstance(value, type(f.default)) and not isinstance(value, bool):
            values[f.name] = value
    return State(**values)


def _trim(error: str) -> str:
    return error[:MAX_ERROR_CHARS]


# -- dossiers: rows <-> Case ---------------------------------------------------------------

_CHUNK = 500  # codes per IN (...) query: well under SQLite's 32,766 variables
_CASE_FIELDS = (
    "code", "topic", "procedure", "owner_masked", "phone_last4", "received", "due", "status",
    "unit", "returned", "note",
)  # fmt: skip
_CASE_COLUMNS = ", ".join(_CASE_FIELDS)
_STATUS_AT = _CASE_FIELDS.index("status")
_UPSERT_CASE = (
    f"INSERT INTO cases ({_CASE_COLUMNS}, created_at, updated_at)"
    f" VALUES ({', '.join('?' for _ in _CASE_FIELDS)}, ?, ?) ON CONFLICT (code) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in _CASE_FIELDS[1:])
    + ", updated_at = excluded.updated_at"
)
_CASE_TABLES = frozenset(
    {"case_lookups", "case_subscriptions", "case_notices", "case_imports", "case_locks"}
)

# What the import does for a subscriber of a changed dossier: replies to queue, or the reason
# they cannot be delivered.
Notify = Callable[[Subscriber, Case, float], list[Reply] | str]


@dataclass(frozen=True, slots=True)
class ImportCounts:
    added: int
    updated: int
    unchanged: int
    rejected: int
    status_changes: int
    notices_queued: int
    notices_undeliverable: int


def _iso(day: dt.date | None) -> str | None:
    return None if day is None else day.isoformat()


def _day(text: str | None) -> dt.date | None:
    return None if text is None else dt.date.fromisoformat(text)


def _case_row(case: Case) -> tuple[Any, ...]:
    return (
        case.code,
        case.topic,
        case.procedure,
        case.owner_masked,
        case.phone_last4,
        _iso(case.received),
        _iso(case.due),
        case.status.value,
        case.unit,
        _iso(case.returned),
        case.note,
    )


def _case(row: Sequence[Any]) -> Case:
    code, topic, procedure, owner, last4, received, due, status, unit, returned, note = row
    return Case(
        code=code,
        status=CaseStatus(status),
        phone_last4=last4,
        topic=topic,
        procedure=procedure,
        owner_masked=owner,
        received=_day(received),
        due=_day(due),
        unit=unit,
        returned=_day(returned),
        note=note,
    )


def _notify_subscribers(
    db: Database, changed: Sequence[Case], notify: Notify, now: float
) -> tuple[int, int]:
    """Queue (or record as undeliverable) the notices of changed dossiers; (queued, not)."""
    if not changed:
        return 0, 0
    subscribers: dict[str, list[Subscriber]] = {}
    for platform, user_id, code, lang, last in db.execute(
        "SELECT s.platform, s.user_id, s.code, s.lang, c.last_inbound_at"
        " FROM case_subscriptions s LEFT JOIN conversations c"
        " ON c.platform = s.platform AND c.user_id = s.user_id WHERE s.active = 1"
    ):
        sub = Subscriber(Platform(platform), user_id, code, "en" if lang == "en" else "vi", last)
        subscribers.setdefault(code, []).append(sub)
    queued = undeliverable = 0
    for case in changed:
        for sub in subscribers.get(case.code, ()):
            result = notify(sub, case, now)
            if isinstance(result, str):
                undeliverable += 1
                outcome, reason = "undeliverable", result
            else:
                queued += 1
                outcome, reason = "queued", None
                outgoing = [Outgoing(sub.platform, sub.user_id, r) for r in result]
                _insert_outbox(db, [(o, _body_json(o.reply)) for o in outgoing], now, None, "case")
            db.execute(
                "INSERT INTO case_notices (code, platform, user_id, status, outcome, reason,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [
                    case.code,
                    sub.platform.value,
                    sub.user_id,
                    case.status.value,
                    outcome,
                    reason,
                    now,
                ],
            )
            if case.status in CLOSED:
                db.execute(
                    "UPDATE case_subscriptions SET active = 0"
                    " WHERE platform = ? AND user_id = ? AND code = ?",
                    [sub.platform.value, sub.user_id, case.code],
                )
    return queued, undeliverable
