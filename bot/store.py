"""The only module that speaks SQL: inbound messages, conversation state, the outbox, a kv table.

`Store` is an async facade over a sqlite-utils `Database`. Every call runs on ONE dedicated
thread (datasette's single write thread, style.md §8): the event loop never blocks on SQLite and
writes never contend with each other inside the process. The connection is created on that
thread and keeps sqlite3's `check_same_thread` guard, so any use from another thread fails loudly.

Durability contract (DESIGN.md, "How a message flows"): `record_inbound` is the idempotency gate;
`complete_turn` saves the state, queues the replies and marks the message handled in ONE
transaction, so a crash leaves either the whole turn or none of it. The outbox is delivered
at least once: a claim is a lease that expires if the worker dies mid-send.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import time
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self, TypeVar

from sqlite_utils import Database

from bot.dialog import State
from bot.migrations import MIGRATIONS
from bot.models import EventKind, Incoming, Outgoing, Platform, QuickReply, Reply

log = logging.getLogger(__name__)

T = TypeVar("T")
Clock = Callable[[], float]

BUSY_TIMEOUT_MS = 5000
MAX_ERROR_CHARS = 500


class StoreClosedError(RuntimeError):
    """The store was used after `close()` (or before `open()`)."""


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
        db, self._db = self._db, None
        await asyncio.get_running_loop().run_in_executor(self._executor, db.close)
        # The close was the last job, so the thread exits at once: no need to block on join.
        self._executor.shutdown(wait=False)

    async def _run(self, fn: Callable[[Database], T]) -> T:
        if self._db is None:
            raise StoreClosedError("store is closed")
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, self._db)

    # -- inbound -------------------------------------------------------------------------

    async def record_inbound(self, msg: Incoming) -> bool:
        """Record a message before acknowledging it. False: already seen (a platform retry)."""

        def work(db: Database) -> bool:
            now = self._clock()
            with db.atomic():
                if not _insert_inbound(db, msg, now):
                    return False
                db.execute(
                    "INSERT INTO conversations (platform, user_id, last_inbound_at)"
                    " VALUES (?, ?, ?) ON CONFLICT (platform, user_id)"
                    " DO UPDATE SET last_inbound_at = excluded.last_inbound_at",
                    [msg.platform.value, msg.user_id, now],
                )
                return True

        return await self._run(work)

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

        await self._run(work)

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
        """
        state_json = json.dumps(dataclasses.asdict(state), ensure_ascii=False)
        bodies = [(o, _body_json(o.reply)) for o in outgoing]

        def work(db: Database) -> bool:
            now = self._clock()
            key = [msg.platform.value, msg.message_id]
            with db.atomic():
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

        return await self._run(work)

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
            with db.atomic():
                _insert_outbox(db, bodies, self._clock(), None, source)

        await self._run(work)

    async def claim_due(
        self,
        now: float,
        limit: int,
        lease_seconds: float,
        platforms: Collection[Platform] | None = None,
    ) -> list[OutboxRow]:
        """Claim up to `limit` pending rows due at `now`, oldest first, counting an attempt.

        Only the OLDEST pending row of each user can be claimed, so one user's messages go out
        in order, one at a time. Claiming moves `next_attempt_at` to `now + lease_seconds`: if
        the worker dies before `mark_*`, the row comes due again (at-least-once delivery).
        The lease must outlast a send. `platforms` limits the claim to those with a sender.
        """
        where = ""
        params: list[Any] = [now]
        if platforms is not None:
            where = f" AND o.platform IN ({', '.join('?' for _ in platforms)})"
            params.extend(p.value for p in platforms)

        def work(db: Database) -> list[OutboxRow]:
            with db.atomic():
                rows = list(
                    db.query(
                        "SELECT o.id, o.platform, o.user_id, o.body, o.attempts FROM outbox o"
                        " WHERE o.status = 'pending' AND o.next_attempt_at <= ?" + where + " AND"
                        " NOT EXISTS (SELECT 1 FROM outbox e WHERE e.status = 'pending' AND"
                        " e.platform = o.platform AND e.user_id = o.user_id AND e.id < o.id)"
                        " ORDER BY o.id LIMIT ?",
                        [*params, limit],
                    )
                )
                db.conn.executemany(
                    "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
                    [(now + lease_seconds, row["id"]) for row in rows],
                )
            return [OutboxRow(r["id"], _outgoing(r), r["attempts"] + 1) for r in rows]

        return await self._run(work)

    async def mark_sent(self, row_id: int) -> None:
        """The platform accepted the message."""
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
        await self._run(lambda db: db.execute(sql, [*params, row_id]))

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


# -- helpers: all run on the store thread ------------------------------------------------


def _connect(path: Path) -> Database:
    if str(path) != ":memory:":
        path.parent.mkdir(parents=True, exist_ok=True)
    # No sqlite-utils plugins: nothing outside this module may touch the connection.
    db = Database(path, execute_plugins=False)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA foreign_keys = ON")
    # WAL: readers (admin, a CLI on the same file) never block the writer. synchronous stays
    # FULL (the default): an acknowledged message must survive a power cut, not only a crash.
    db.enable_wal()
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
    return json.dumps(dataclasses.asdict(reply), ensure_ascii=False)


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
