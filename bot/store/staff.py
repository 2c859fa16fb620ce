"""Staff accounts, their sessions, login attempts and the audit log (issue 11).

Times are passed in by the caller (`now`, `since`): the dashboard runs on its own clock, which
tests set, so sessions expire and throttling windows pass without sleeping. The policies
(hashing, expiry, how many failures are too many) are `bot/staff/`'s; this module only keeps
the rows.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection
from typing import Any, TypeVar

from sqlite_utils import Database

from bot.models.staff import (
    AuditEntry,
    FailureCounts,
    Role,
    StaffNameTakenError,
    StaffSession,
    StaffUser,
)
from bot.store.engine import Engine

T = TypeVar("T")

# Login attempts only feed the throttling window; older ones are of no use and hold client
# addresses (personal data): dropped on each new attempt past this age.
ATTEMPTS_KEPT_SECONDS = 24 * 3600


class Staff(Engine):
    """Store methods for staff accounts, sessions, login attempts and the audit log."""

    # -- accounts ------------------------------------------------------------------------

    async def add_staff(self, name: str, role: Role, password_hash: str, now: float) -> int:
        """Create an account; its id. Raises StaffNameTakenError if the name exists."""

        def work(db: Database) -> int:
            try:
                cursor = db.execute(
                    "INSERT INTO staff_users (name, role, password_hash, created_at)"
                    " VALUES (?, ?, ?, ?)",
                    [name, role.value, password_hash, now],
                )
            except sqlite3.IntegrityError as exc:
                raise StaffNameTakenError(name) from exc
            return int(cursor.lastrowid or 0)

        return await self._run_atomic(work)

    async def staff_user(self, name: str) -> StaffUser | None:
        sql = "SELECT * FROM staff_users WHERE name = ?"

        def work(db: Database) -> StaffUser | None:
            rows = list(db.query(sql, [name]))
            return _user(rows[0]) if rows else None

        return await self._run(work)

    async def staff_users(self) -> list[StaffUser]:
        """Every account, by name."""
        sql = "SELECT * FROM staff_users ORDER BY name"
        return await self._run(lambda db: [_user(r) for r in db.query(sql)])

    async def remove_staff(self, name: str) -> bool:
        """Delete the account and its sessions; False if there was none. The audit log keeps
        its name as text."""

        def work(db: Database) -> bool:
            row = db.execute("SELECT id FROM staff_users WHERE name = ?", [name]).fetchone()
            if row is None:
                return False
            db.execute("DELETE FROM staff_sessions WHERE user_id = ?", [row[0]])
            db.execute("DELETE FROM staff_users WHERE id = ?", [row[0]])
            return True

        return await self._run_atomic(work)

    async def set_password_hash(self, name: str, password_hash: str, *, sign_out: bool) -> bool:
        """Replace the account's hash; with `sign_out`, end all its sessions (a new password
        must lock out whoever knew the old one). False if there is no such account."""

        def work(db: Database) -> bool:
            row = db.execute("SELECT id FROM staff_users WHERE name = ?", [name]).fetchone()
            if row is None:
                return False
            db.execute(
                "UPDATE staff_users SET password_hash = ? WHERE id = ?", [password_hash, row[0]]
            )
            if sign_out:
                db.execute("DELETE FROM staff_sessions WHERE user_id = ?", [row[0]])
            return True

        return await self._run_atomic(work)

    # -- sessions ------------------------------------------------------------------------

    async def create_staff_session(
        self, token_hash: str, user_id: int, csrf_secret: str, now: float, expires_at: float
    ) -> None:
        """Record a signed-in browser; expired sessions are swept at the same time."""

        def work(db: Database) -> None:
            db.execute("DELETE FROM staff_sessions WHERE expires_at <= ?", [now])
            db.execute(
                "INSERT INTO staff_sessions (token_hash, user_id, created_at, last_seen_at,"
                " expires_at, csrf_secret) VALUES (?, ?, ?, ?, ?, ?)",
                [token_hash, user_id, now, now, expires_at, csrf_secret],
            )

        await self._run_atomic(work)

    async def staff_session(self, token_hash: str) -> StaffSession | None:
        """The session and its account, whatever its age (expiry is the caller's policy);
        None if unknown or the account is disabled."""
        sql = (
            "SELECT s.*, u.name, u.role FROM staff_sessions s JOIN staff_users u"
            " ON u.id = s.user_id WHERE s.token_hash = ? AND u.disabled = 0"
        )

        def work(db: Database) -> StaffSession | None:
            rows = list(db.query(sql, [token_hash]))
            return _session(rows[0]) if rows else None

        return await self._run(work)

    async def touch_staff_session(self, token_hash: str, now: float) -> None:
        sql = "UPDATE staff_sessions SET last_seen_at = ? WHERE token_hash = ?"
        await self._run_atomic(lambda db: db.execute(sql, [now, token_hash]))

    async def delete_staff_session(self, token_hash: str) -> None:
        sql = "DELETE FROM staff_sessions WHERE token_hash = ?"
        await self._run_atomic(lambda db: db.execute(sql, [token_hash]))

    # -- login attempts ------------------------------------------------------------------

    async def claim_login_attempt(
        self, name: str, address: str, since: float, max_failures: int, now: float
    ) -> tuple[int | None, FailureCounts]:
        """Count the failed logins after `since` for this name and from this address and, in
        the same transaction, record this attempt: refused ('throttled', returns None) when
        either count reached `max_failures`, else as a failure until `login_succeeded` says
        otherwise (its id). Counting an attempt as failed before its password is checked is
        what keeps a burst of parallel guesses within the limit."""

        def work(db: Database) -> tuple[int | None, FailureCounts]:
            db.execute(
                "DELETE FROM staff_login_attempts WHERE at < ?", [now - ATTEMPTS_KEPT_SECONDS]
            )
            base = "SELECT count(*) FROM staff_login_attempts WHERE outcome = 'failed' AND at > ?"
            (by_name,) = db.execute(base + " AND name = ?", [since, name]).fetchone()
            (by_address,) = db.execute(base + " AND address = ?", [since, address]).fetchone()
            counts = FailureCounts(int(by_name), int(by_address))
            refused = max(counts.by_name, counts.by_address) >= max_failures
            cursor = db.execute(
                "INSERT INTO staff_login_attempts (name, address, outcome, at) VALUES (?, ?, ?, ?)",
                [name, address, "throttled" if refused else "failed", now],
            )
            return (None if refused else cursor.lastrowid), counts

        return await self._run_atomic(work)

    async def login_succeeded(self, attempt_id: int) -> None:
        sql = "UPDATE staff_login_attempts SET outcome = 'ok' WHERE id = ?"
        await self._run_atomic(lambda db: db.execute(sql, [attempt_id]))

    # -- the audit log -------------------------------------------------------------------

    async def record_audit(
        self,
        actor: str,
        action: str,
        target: str,
        now: float,
        *,
        before: str | None = None,
        after: str | None = None,
        address: str = "",
    ) -> None:
        """One line of the audit log; `before` and `after` are JSON text (or None)."""
        sql = (
            "INSERT INTO staff_audit (at, actor, action, target, before, after, address)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)"
        )
        values = [now, actor, action, target, before, after, address]
        await self._run_atomic(lambda db: db.execute(sql, values))

    async def audit_entries(
        self, offset: int, limit: int, actions: Collection[str] | None = None
    ) -> tuple[list[AuditEntry], int]:
        """A page of the audit log, newest first, and how many lines it has in all; only the
        lines of `actions` when given."""
        names = sorted(actions) if actions is not None else []
        where = f" WHERE action IN ({', '.join('?' * len(names))})" if actions is not None else ""

        def work(db: Database) -> tuple[list[AuditEntry], int]:
            (total,) = db.execute(f"SELECT count(*) FROM staff_audit{where}", names).fetchone()
            rows = db.query(
                f"SELECT * FROM staff_audit{where} ORDER BY id DESC LIMIT ? OFFSET ?",
                [*names, limit, offset],
            )
            return [AuditEntry(**row) for row in rows], int(total)

        return await self._run(work)

    async def audit_entry(self, entry_id: int) -> AuditEntry | None:
        """One line of the audit log by its id, None when there is none."""

        def work(db: Database) -> AuditEntry | None:
            rows = list(db.query("SELECT * FROM staff_audit WHERE id = ?", [entry_id]))
            return AuditEntry(**rows[0]) if rows else None

        return await self._run(work)

    async def _run_atomic(self, fn: Callable[[Database], T]) -> T:
        """`fn` in a transaction of its own on the store thread: all of it or nothing."""

        def work(db: Database) -> T:
            with db.atomic():
                return fn(db)

        return await self._run(work)


# -- helpers: all run on the store thread ------------------------------------------------


def _user(row: dict[str, Any]) -> StaffUser:
    return StaffUser(
        id=row["id"],
        name=row["name"],
        role=Role(row["role"]),
        password_hash=row["password_hash"],
        created_at=row["created_at"],
        disabled=bool(row["disabled"]),
    )


def _session(row: dict[str, Any]) -> StaffSession:
    return StaffSession(
        user_id=row["user_id"],
        name=row["name"],
        role=Role(row["role"]),
        created_at=row["created_at"],
        last_seen_at=row["last_seen_at"],
        expires_at=row["expires_at"],
        csrf_secret=row["csrf_secret"],
    )
