"""Signing in and out of the dashboard: throttled logins, sessions with idle and absolute
expiry, and each session's CSRF secret.

A session token is 256 random bits given to the browser once (its cookie); the store keeps only
its SHA-256, so a copy of the database opens no session. Every login, failed login, refused
(throttled) login and logout is written to the audit log.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import logging
import secrets
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from typing import TypeVar

from bot.models.staff import StaffPolicy, StaffSession
from bot.staff.passwords import Passwords
from bot.store import Store

log = logging.getLogger(__name__)

# Names as typed are audited and logged: cut them so a login form cannot flood either.
MAX_NAME_CHARS = 64
# argon2 takes tens of milliseconds and 64 MiB per hash (argon2-cffi's defaults): two at a
# time, off the event loop, so a flood of logins from many addresses queues instead of
# taking the machine's memory and both cores.
_HASHING = ThreadPoolExecutor(max_workers=2, thread_name_prefix="argon2")

T = TypeVar("T")


async def _hashing(fn: Callable[..., T], *args: str | None) -> T:
    return await asyncio.get_running_loop().run_in_executor(_HASHING, fn, *args)


class LoginStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"  # wrong name or password: the page never says which
    THROTTLED = "throttled"  # too many failures for this name or from this address


@dataclass(frozen=True, slots=True)
class Login:
    """A login's outcome; on OK, the token for the cookie and the new session."""

    status: LoginStatus
    token: str | None = None
    session: StaffSession | None = None


class SessionStatus(StrEnum):
    OK = "ok"
    NONE = "none"  # no cookie, or a token the store does not know
    EXPIRED = "expired"  # idle too long, or past its absolute end: deleted now


@dataclass(frozen=True, slots=True)
class SessionCheck:
    status: SessionStatus
    session: StaffSession | None = None


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def csrf_matches(session: StaffSession, submitted: str) -> bool:
    """Whether a form's CSRF token is this session's secret, compared in constant time."""
    return hmac.compare_digest(session.csrf_secret.encode(), submitted.encode("utf-8", "replace"))


async def log_in(
    store: Store,
    passwords: Passwords,
    policy: StaffPolicy,
    name: str,
    password: str,
    address: str,
    now: float,
) -> Login:
    """Check a name and password, throttled per name and per client address; on success open
    a session. Hashing runs off the event loop (argon2 takes tens of milliseconds)."""
    name = name.strip().lower()[:MAX_NAME_CHARS]
    since = now - policy.window_seconds
    attempt, failures = await store.claim_login_attempt(
        name, address, since, policy.max_failures, now
    )
    if attempt is None:
        log.warning(
            "staff login refused (throttled): name %r from %s (%d failures for the name, %d"
            " from the address)",
            name,
            address,
            failures.by_name,
            failures.by_address,
        )
        await store.record_audit(name, "login.throttled", name, now, address=address)
        return Login(LoginStatus.THROTTLED)
    user = await store.staff_user(name) if name else None
    usable = user is not None and not user.disabled
    stored = user.password_hash if user is not None and usable else None
    ok = await _hashing(passwords.verify, stored, password)
    if not ok or user is None:
        log.warning("staff login failed: name %r from %s", name, address)
        await store.record_audit(name, "login.failed", name, now, address=address)
        return Login(LoginStatus.FAILED)
    if passwords.needs_rehash(user.password_hash):
        # The parameters changed since this hash was made: this is the one moment we hold
        # the password, so store it under the current ones.
        fresh = await _hashing(passwords.hash, password)
        await store.set_password_hash(user.name, fresh, sign_out=False)
        log.info("staff %r: password rehashed with the current argon2 parameters", user.name)
    token = secrets.token_urlsafe(32)
    await store.create_staff_session(
        token_hash(token), user.id, secrets.token_urlsafe(32), now, now + policy.absolute_seconds
    )
    await store.login_succeeded(attempt)
    await store.record_audit(user.name, "login", user.name, now, address=address)
    log.info("staff %r signed in from %s", user.name, address)
    session = await store.staff_session(token_hash(token))
    return Login(LoginStatus.OK, token, session)


async def check_session(
    store: Store, policy: StaffPolicy, token: str | None, now: float
) -> SessionCheck:
    """The session of a cookie's token, kept alive by this request; an expired one is
    deleted. A disabled or removed account has no session."""
    if not token:
        return SessionCheck(SessionStatus.NONE)
    key = token_hash(token)
    session = await store.staff_session(key)
    if session is None:
        return SessionCheck(SessionStatus.NONE)
    if now >= session.expires_at or now - session.last_seen_at >= policy.idle_seconds:
        await store.delete_staff_session(key)
        return SessionCheck(SessionStatus.EXPIRED)
    await store.touch_staff_session(key, now)
    return SessionCheck(SessionStatus.OK, session)


async def log_out(
    store: Store, token: str, session: StaffSession, address: str, now: float
) -> None:
    await store.delete_staff_session(token_hash(token))
    await store.record_audit(session.name, "logout", session.name, now, address=address)
    log.info("staff %r signed out", session.name)
