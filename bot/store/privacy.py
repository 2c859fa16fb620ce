"""Personal data in the store: the retention purge and "forget this user".

Luật Bảo vệ dữ liệu cá nhân 2025 (in force 01/01/2026) and Nghị định 13/2023 want personal data
kept no longer than its purpose needs and deleted when its subject withdraws consent. Every
table that holds a user id, a message or a dossier has a period (`Retention`, from settings);
`purge_expired` removes what outlived it, `forget_user` everything of one user at once.

The purge walks each table by rowid in batches of `BATCH` rows, each batch ONE short transaction
of its own on the store thread that also fixes the rows pointing at it (one table family), so
the message path's group commits run between two batches: the writer is never held for long
(bench/privacy.py measures it). Rowids grow with time, so a walk reads the old rows first and
needs no index on the time columns. Then the freed pages are given back to the file system
(incremental auto_vacuum) and the WAL is truncated.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from bot.models import CLOSED, Incoming, Platform
from bot.models.privacy import FORGOTTEN_KINDS, PURGED_KINDS, Forgotten, PurgeReport, Retention
from bot.store.engine import Engine

log = logging.getLogger(__name__)

BATCH = 1000  # rows per purge transaction (bench/privacy.py: a few ms each)
VACUUM_PAGES = 512  # pages given back per incremental_vacuum step (2 MiB of 4 KiB pages)
CHECKPOINT_EVERY = 50  # purge transactions between two checkpoints that restart the WAL
LAST_PURGE_KEY = "privacy.last_purge"
_AUTO_VACUUM_NONE, _AUTO_VACUUM_INCREMENTAL = 0, 2
_CLOSED = sorted(status.value for status in CLOSED)


@dataclass(frozen=True, slots=True)
class _Step:
    """One kind of expired row: the rowids `SELECT {key} {rows}` picks (`rows` is a FROM and
    a WHERE, given `params`), and what to do with a batch of them (`apply`: rows changed)."""

    kind: str
    key: str
    rows: str
    params: Sequence[Any]
    apply: Callable[[Database, Sequence[int]], int]


class Privacy(Engine):
    """Store methods for retention and erasure."""

    # -- the retention purge -------------------------------------------------------------

    async def purge_expired(self, retention: Retention, batch: int = BATCH) -> PurgeReport:
        """Remove or blank every record older than its period in `retention`, batch by batch.

        Pending messages and pending replies are never touched (they are handled at the next
        start, or sent or given up). Records the report (`last_purge`) and returns it.
        """
        started = time.perf_counter()
        now = self._clock()
        rows = dict.fromkeys(PURGED_KINDS, 0)
        jobs = 0
        for step in _steps(retention, now):
            after = 0
            while True:
                count, after = await self._run(_batch_job(step, after, batch))
                rows[step.kind] += count
                jobs += 1
                if self._checkpointer is not None and jobs % CHECKPOINT_EVERY == 0:
                    await self._checkpoint("RESTART")
                if after < 0:
                    break
        pages = await self._vacuum()
        report = PurgeReport(now, time.perf_counter() - started, rows, pages)
        await self._run(lambda db: _save_report(db, report))
        return report

    async def last_purge(self) -> PurgeReport | None:
        """The report of the last purge (also one run before a restart), or None."""
        sql = "SELECT value FROM kv WHERE key = ?"
        row = await self._run(lambda db: db.execute(sql, [LAST_PURGE_KEY]).fetchone())
        if row is None:
            return None
        data = json.loads(row[0])
        return PurgeReport(data["at"], data["seconds"], data["rows"], data["pages_freed"])

    async def oldest_message_age(self) -> float | None:
        """Seconds since the oldest message still stored was received; None when none is."""
        # The smallest id is the oldest: read through the primary key, never a table scan.
        sql = "SELECT received_at FROM inbound ORDER BY id LIMIT 1"
        row = await self._run(lambda db: db.execute(sql).fetchone())
        return None if row is None else max(0.0, self._clock() - row[0])

    async def ensure_incremental_vacuum(self) -> bool:
        """Make the database give freed pages back to the file system; True if it had to.

        A database created by this version already does (bot/store/engine.py sets
        auto_vacuum before the first table). An older one needs one full VACUUM, which holds
        the store for as long as it rewrites the file: call this at start-up, before webhooks
        are served.
        """

        def work(db: Database) -> bool:
            (mode,) = db.execute("PRAGMA auto_vacuum").fetchone()
            if mode != _AUTO_VACUUM_NONE:
                return False
            db.execute("PRAGMA auto_vacuum = INCREMENTAL")
            db.execute("VACUUM")
            return True

        converted = await self._run(work)
        if converted:  # the rewritten file went through the WAL
            await self._checkpoint("TRUNCATE")
        return converted

    async def _vacuum(self) -> int:
        """Give the free pages back, a step at a time; then truncate the WAL. Pages freed."""

        def step(db: Database) -> int:
            (mode,) = db.execute("PRAGMA auto_vacuum").fetchone()
            (free,) = db.execute("PRAGMA freelist_count").fetchone()
            if mode != _AUTO_VACUUM_INCREMENTAL or free == 0:
                return 0
            # executescript, not execute: sqlite3's execute steps a statement without result
            # columns only once, and each step of incremental_vacuum frees a single page.
            db.conn.executescript(f"PRAGMA incremental_vacuum({VACUUM_PAGES});")
            return int(free - db.execute("PRAGMA freelist_count").fetchone()[0])

        freed = 0
        while True:
            pages = await self._run(step)
            freed += pages
            if pages == 0:
                break
        if freed:
            # Empty the WAL rather than keep a file as big as the purge's writes
            # (journal_size_limit only trims it to 64 MiB).
            await self._checkpoint("TRUNCATE")
        return freed

    async def _checkpoint(self, mode: str) -> None:
        """A PASSIVE checkpoint copies the bulk without holding writers back, then `mode`
        (RESTART, TRUNCATE) starts the WAL over, blocking new writes only for what came since.
        On the checkpoint thread, after its own: two checkpoints never collide. Without it
        the purge's writes grow the WAL to the writer's backstop, whose checkpoint inside a
        commit held the store for 300-450 ms (bench/privacy.py)."""
        if self._checkpointer is not None:
            await self._checkpointer.run()
            await self._checkpointer.run(mode)

    # -- forgetting one user -------------------------------------------------------------

    async def forget_user(
        self, platform: Platform, user_id: str, withdrawal: Incoming | None = None
    ) -> Forgotten:
        """Delete, in ONE transaction, everything stored about one user: messages,
        conversation, replies not yet sent or sent, subscriptions, dossier lookups and the lock
        on them as a sender, notices, unanswered questions, handoffs and ratings; for a commune
        clerk, the registry row and the record of notices sent to them.

        `withdrawal` is the platform's withdrawal event that asked for it (Zalo's
        `user_withdraw`), already recorded: its row is kept, blank and handled, as long as any
        message id is, so a redelivery of the event is recognised and not handled twice; if it
        was handled already nothing is deleted (the user may have written again since).
        """
        p = platform.value
        keep = withdrawal.message_id if withdrawal is not None else None

        def work(db: Database) -> Forgotten:
            now = self._clock()
            if keep is not None:
                marked = db.execute(
                    "UPDATE inbound SET status = 'handled', handled_at = ?, text = '',"
                    " payload = NULL, error = NULL WHERE platform = ? AND message_id = ?"
                    " AND status != 'handled'",
                    [now, p, keep],
                )
                if marked.rowcount == 0:  # handled already: what came since is not withdrawn
                    return Forgotten(dict.fromkeys(FORGOTTEN_KINDS, 0))
            user = "platform = ? AND user_id = ?"
            deletes: dict[str, tuple[str, list[Any]]] = {
                # Rows pointing at the user's messages go first (foreign keys).
                "outbox": (f"DELETE FROM outbox WHERE {user}", [p, user_id]),
                "unanswered": (f"DELETE FROM unanswered WHERE {user}", [p, user_id]),
                "messages": (
                    f"DELETE FROM inbound WHERE {user} AND message_id IS NOT ?",
                    [p, user_id, keep],
                ),
                "conversations": (f"DELETE FROM conversations WHERE {user}", [p, user_id]),
                "subscriptions": (f"DELETE FROM case_subscriptions WHERE {user}", [p, user_id]),
                "lookups": (f"DELETE FROM case_lookups WHERE {user}", [p, user_id]),
                # The sender's key as Cases.lookup_case writes it.
                "locks": (
                    "DELETE FROM case_locks WHERE scope = 'sender' AND key = ?",
                    [f"{p}:{user_id}"],
                ),
                "notices": (f"DELETE FROM case_notices WHERE {user}", [p, user_id]),
                "handoffs": (f"DELETE FROM handoffs WHERE {user}", [p, user_id]),
                "ratings": (f"DELETE FROM ratings WHERE {user}", [p, user_id]),
                # A commune clerk (bot/clerks/) who withdrew: the registry row and notices.
                "clerks": (f"DELETE FROM clerks WHERE {user}", [p, user_id]),
                "clerk_notices": (
                    "DELETE FROM notifications WHERE platform = ? AND address = ?",
                    [p, user_id],
                ),
            }
            counts = {
                kind: db.execute(sql, params).rowcount for kind, (sql, params) in deletes.items()
            }
            return Forgotten({kind: counts[kind] for kind in FORGOTTEN_KINDS})

        return await self._write(work)


# -- helpers: all run on the store thread ------------------------------------------------


def _steps(retention: Retention, now: float) -> list[_Step]:
    """The purge, kind by kind. Messages lose their text before their row, and their replies
    (kept a shorter time) go before them, so that deleting them has no link left to undo;
    dossiers go before subscriptions, which then sweep those of deleted dossiers."""
    closed = f"status IN ({_marks(_CLOSED)})"
    # Not while the user's conversation is with staff: they read it (issue 11).
    free = (
        " AND NOT EXISTS (SELECT 1 FROM handoffs h WHERE h.status = 'open'"
        " AND h.platform = {t}.platform AND h.user_id = {t}.user_id"
        " AND max(h.created_at, coalesce(h.staff_at, 0)) > ?)"
    )
    handed = now - retention.handoff
    return [
        _Step(
            "message_texts",
            "id",
            "FROM inbound WHERE status != 'pending' AND received_at < ?"
            " AND (text != '' OR payload IS NOT NULL)" + free.format(t="inbound"),
            [now - retention.message_text, handed],
            _apply("UPDATE inbound SET text = '', payload = NULL WHERE id IN ({})"),
        ),
        _Step(
            "outbox",
            "id",
            "FROM outbox WHERE status != 'pending' AND created_at < ?" + free.format(t="outbox"),
            [now - retention.outbox, handed],
            _apply("DELETE FROM outbox WHERE id IN ({})"),
        ),
        _Step(
            "messages",
            "id",
            "FROM inbound WHERE status != 'pending' AND received_at < ?" + free.format(t="inbound"),
            [now - retention.message, handed],
            _delete_messages,
        ),
        _Step(
            "states",
            "rowid",
            "FROM conversations WHERE state IS NOT NULL AND updated_at < ?",
            [now - retention.state],
            _apply("UPDATE conversations SET state = NULL WHERE rowid IN ({})"),
        ),
        _Step(
            "conversations",
            "rowid",
            "FROM conversations"
            " WHERE max(coalesce(last_inbound_at, 0), coalesce(updated_at, 0)) < ?",
            [now - retention.conversation],
            _apply("DELETE FROM conversations WHERE rowid IN ({})"),
        ),
        _Step(
            "unanswered",
            "id",
            "FROM unanswered WHERE created_at < ?",
            [now - retention.review],
            _apply("DELETE FROM unanswered WHERE id IN ({})"),
        ),
        _Step(
            "handoffs",
            "id",
            "FROM handoffs WHERE created_at < ?",
            [now - retention.review],
            _apply("DELETE FROM handoffs WHERE id IN ({})"),
        ),
        _Step(
            "ratings",
            "id",
            "FROM ratings WHERE created_at < ?",
            [now - retention.review],
            _apply("DELETE FROM ratings WHERE id IN ({})"),
        ),
        _Step(
            "lookups",
            "id",
            "FROM case_lookups WHERE at < ?",
            [now - retention.audit],
            _apply("DELETE FROM case_lookups WHERE id IN ({})"),
        ),
        _Step(
            "notices",
            "id",
            "FROM case_notices WHERE created_at < ?",
            [now - retention.audit],
            _apply("DELETE FROM case_notices WHERE id IN ({})"),
        ),
        _Step(
            "clerk_notices",
            "id",
            "FROM notifications WHERE status != 'pending' AND created_at < ?",
            [now - retention.audit],
            _apply("DELETE FROM notifications WHERE id IN ({})"),
        ),
        _Step(
            "locks",
            "rowid",
            "FROM case_locks WHERE until < ?",
            [now - retention.audit],
            _apply("DELETE FROM case_locks WHERE rowid IN ({})"),
        ),
        _Step(
            "cases",
            "rowid",
            f"FROM cases WHERE {closed} AND updated_at < ?",
            [*_CLOSED, now - retention.closed_case],
            _delete_cases,
        ),
        _Step(
            "subscriptions",
            "rowid",
            # Ended ones serve nothing (a new "notify me" makes a new one); a dossier's go
            # with it.
            "FROM case_subscriptions s WHERE (active = 0"
            " OR NOT EXISTS (SELECT 1 FROM cases c WHERE c.code = s.code))",
            [],
            _apply("DELETE FROM case_subscriptions WHERE rowid IN ({})"),
        ),
    ]


def _batch_job(step: _Step, after: int, limit: int) -> Callable[[Database], tuple[int, int]]:
    """One batch of `step` after rowid `after`, in one transaction: (rows changed, the last
    rowid seen, or -1 when the walk is over)."""
    sql = f"SELECT {step.key} {step.rows} AND {step.key} > ? ORDER BY {step.key} LIMIT ?"

    def work(db: Database) -> tuple[int, int]:
        with db.atomic():
            ids = [row[0] for row in db.execute(sql, [*step.params, after, limit])]
            count = step.apply(db, ids) if ids else 0
        return count, ids[-1] if len(ids) == limit else -1

    return work


def _marks(ids: Sequence[object]) -> str:
    return ", ".join("?" for _ in ids)


def _apply(template: str) -> Callable[[Database, Sequence[int]], int]:
    def apply(db: Database, ids: Sequence[int]) -> int:
        return int(db.execute(template.format(_marks(ids)), list(ids)).rowcount)

    return apply


def _delete_messages(db: Database, ids: Sequence[int]) -> int:
    # Replies and unanswered questions may outlive their message: they lose the link only.
    # (Indexed since migration 0003: a foreign key check per deleted row otherwise scans.)
    marks = _marks(ids)
    db.execute(f"UPDATE outbox SET inbound_id = NULL WHERE inbound_id IN ({marks})", list(ids))
    db.execute(f"UPDATE unanswered SET inbound_id = NULL WHERE inbound_id IN ({marks})", list(ids))
    return int(db.execute(f"DELETE FROM inbound WHERE id IN ({marks})", list(ids)).rowcount)


def _delete_cases(db: Database, ids: Sequence[int]) -> int:
    marks = _marks(ids)
    sql = f"SELECT code FROM cases WHERE rowid IN ({marks})"
    codes = [row[0] for row in db.execute(sql, list(ids))]
    db.execute(f"DELETE FROM case_history WHERE code IN ({_marks(codes)})", codes)
    return int(db.execute(f"DELETE FROM cases WHERE rowid IN ({marks})", list(ids)).rowcount)


def _save_report(db: Database, report: PurgeReport) -> None:
    value = {
        "at": report.at,
        "seconds": report.seconds,
        "rows": dict(report.rows),
        "pages_freed": report.pages_freed,
    }
    db.execute(
        "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key)"
        " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at",
        [LAST_PURGE_KEY, json.dumps(value), report.at],
    )
