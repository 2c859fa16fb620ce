"""Dossiers (issue 4): the import, audited and rate-limited lookups, subscriptions, notices.

`import_cases` upserts a whole export in ONE transaction, history and notices included, so a
crash midway leaves the store as it was. `lookup_case` checks and audits atomically with the
sender locks and the dossier slow-down; only (sender, code, outcome, time) is kept, never the
digits; `unlock_case` records staff forgiving a dossier's failed checks. These calls are their
own transactions (`_run`), not units of the message path's group commit.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from bot.models import (
    CLOSED,
    MAX_CODE_CHARS,
    Case,
    CaseStatus,
    LookupOutcome,
    Outgoing,
    Platform,
    Reply,
    Subscriber,
    digits_match,
)
from bot.store.engine import Engine
from bot.store.outbox import body_json, insert_outbox

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
    {
        "case_lookups", "case_subscriptions", "case_notices", "case_imports", "case_locks",
        "case_unlocks",
    }
)  # fmt: skip

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
                insert_outbox(db, [(o, body_json(o.reply)) for o in outgoing], now, None, "case")
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


def _found_before(db: Database, platform: Platform, user_id: str, code: str) -> bool:
    """Whether this (platform, user_id) once proved to own dossier `code` (the owner's pass)."""
    return (
        db.execute(
            "SELECT 1 FROM case_lookups WHERE code = ? AND platform = ? AND user_id = ?"
            " AND outcome = 'found' LIMIT 1",
            [code, platform.value, user_id],
        ).fetchone()
        is not None
    )


def _dossier_failures(
    db: Database, code: str, platforms: Sequence[str] | None, since: float
) -> tuple[int, float | None]:
    """(count, time of the last) of the failed checks on `code` after `since` and after its
    last staff unlock, from `platforms` (None: all)."""
    unlocked = db.execute("SELECT max(at) FROM case_unlocks WHERE code = ?", [code]).fetchone()[0]
    sql = (
        "SELECT count(*), max(at) FROM case_lookups WHERE code = ? AND outcome = 'no_match'"
        " AND at > ?"
    )
    params: list[Any] = [code, since if unlocked is None else max(since, unlocked)]
    if platforms is not None:
        sql += f" AND platform IN ({', '.join('?' for _ in platforms)})"
        params.extend(platforms)
    count, last = db.execute(sql, params).fetchone()
    return int(count), last


class Cases(Engine):
    """Store methods for the dossier tables."""

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
        dossier_wait: Callable[[int], float],
        dossier_window: float,
        allowance: Collection[Platform],
    ) -> tuple[LookupOutcome, Case | None, float | None]:
        """One audited check of `digits` against dossier `code`, atomically with the limits:
        (outcome, the dossier when found, when a dossier that refused may be tried again).

        A locked sender is refused, right digits or not. So is anyone but a (platform, user_id)
        that found this dossier before while the dossier waits: `dossier_wait(n)` seconds after
        the last of its n failed checks from the platforms of `allowance` within
        `dossier_window` (and since its last staff unlock). A refusal compares nothing, is
        audited as "locked" and is no failed check. A failed check (wrong digits and unknown
        code alike) that makes `max_failures` of the sender's within `window_seconds` locks the
        sender for `window_seconds` and answers "locked". Only (sender, code, outcome, time) is
        kept: never the digits.
        """
        sender = f"{platform.value}:{user_id}"
        peers = sorted(p.value for p in allowance)

        def work(db: Database) -> tuple[LookupOutcome, Case | None, float | None]:
            now = self._clock()

            def audit(outcome: LookupOutcome) -> None:
                db.execute(
                    "INSERT INTO case_lookups (platform, user_id, code, outcome, at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [platform.value, user_id, code[:MAX_CODE_CHARS], outcome.value, now],
                )

            with db.atomic():
                # Only the sender's: 'code' locks of the old policy (issue 4) are not obeyed.
                locked = db.execute(
                    "SELECT 1 FROM case_locks WHERE until > ? AND scope = 'sender' AND key = ?",
                    [now, sender],
                ).fetchone()
                if locked:
                    audit(LookupOutcome.LOCKED)
                    return LookupOutcome.LOCKED, None, None
                if not _found_before(db, platform, user_id, code):
                    failures, last = _dossier_failures(db, code, peers, now - dossier_window)
                    retry_at = None if last is None else last + dossier_wait(failures)
                    if retry_at is not None and now < retry_at:
                        audit(LookupOutcome.LOCKED)
                        return LookupOutcome.LOCKED, None, retry_at
                row = db.execute(
                    f"SELECT {_CASE_COLUMNS} FROM cases WHERE code = ?", [code]
                ).fetchone()
                case = None if row is None else _case(row)
                if digits_match(case, digits):
                    audit(LookupOutcome.FOUND)
                    return LookupOutcome.FOUND, case, None
                audit(LookupOutcome.NO_MATCH)
                failed = db.execute(
                    "SELECT count(*) FROM case_lookups WHERE platform = ? AND user_id = ?"
                    " AND outcome = 'no_match' AND at > ?",
                    [platform.value, user_id, now - window_seconds],
                ).fetchone()[0]
                if failed < max_failures:
                    return LookupOutcome.NO_MATCH, None, None
                db.execute(
                    "INSERT INTO case_locks (scope, key, until, created_at)"
                    " VALUES ('sender', ?, ?, ?) ON CONFLICT (scope, key)"
                    " DO UPDATE SET until = excluded.until, created_at = excluded.created_at",
                    [sender, now + window_seconds, now],
                )
                return LookupOutcome.LOCKED, None, None

        return await self._run(work)

    async def unlock_case(
        self, code: str, *, by: str, reason: str, window_seconds: float
    ) -> int | None:
        """Staff forgive the failed checks on dossier `code` so far: it checks at once again.
        Recorded in case_unlocks (who, why, how many failed checks of the last
        `window_seconds` were forgiven); None, recording nothing, when no dossier has `code`.
        """

        def work(db: Database) -> int | None:
            now = self._clock()
            with db.atomic():
                if db.execute("SELECT 1 FROM cases WHERE code = ?", [code]).fetchone() is None:
                    return None
                forgiven, _ = _dossier_failures(db, code, None, now - window_seconds)
                db.execute(
                    "INSERT INTO case_unlocks (code, by, reason, forgiven, at)"
                    " VALUES (?, ?, ?, ?, ?)",
                    [code, by, reason, forgiven, now],
                )
                return forgiven

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
        case_subscriptions, case_notices, case_imports, case_locks or case_unlocks."""
        if table not in _CASE_TABLES:
            raise ValueError(f"not a dossier table: {table}")
        sql = f"SELECT * FROM {table} ORDER BY rowid LIMIT ?"
        return await self._run(lambda db: list(db.query(sql, [limit])))
