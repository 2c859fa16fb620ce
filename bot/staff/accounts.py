"""Staff accounts: names, roles and passwords, each change written to the audit log.

Used by `bot staff add|list|remove|passwd`; the dashboard's account pages will use the same.
"""

from __future__ import annotations

import json
import re

from bot.models.staff import Role, StaffNameTakenError, StaffUser
from bot.staff.passwords import PasswordPolicyError, Passwords, check_password
from bot.store import Store

# Sign-in names: short, lowercase ASCII, so that they are typed alike on any phone keyboard.
NAME = re.compile(r"[a-z0-9][a-z0-9._-]{1,31}")


class AccountError(Exception):
    """A staff account change is refused; the message says why (English, command line)."""


def check_name(name: str) -> str:
    """The sign-in name as stored (trimmed, lowercase), or AccountError."""
    normal = name.strip().lower()
    if not NAME.fullmatch(normal):
        raise AccountError(
            f"invalid name {name!r}: 2 to 32 characters, letters a-z, digits and . _ -"
            " (starting with a letter or digit)"
        )
    return normal


def _password(password: str) -> None:
    try:
        check_password(password)
    except PasswordPolicyError as exc:
        raise AccountError(str(exc)) from exc


async def add_account(
    store: Store,
    passwords: Passwords,
    name: str,
    role: Role,
    password: str,
    *,
    actor: str,
    now: float,
) -> StaffUser:
    """Create an account (AccountError if the name or password is refused or taken)."""
    name = check_name(name)
    _password(password)
    try:
        await store.add_staff(name, role, passwords.hash(password), now)
    except StaffNameTakenError as exc:
        raise AccountError(f"an account named {name!r} exists already") from exc
    after = json.dumps({"name": name, "role": role.value})
    await store.record_audit(actor, "staff.add", name, now, after=after)
    user = await store.staff_user(name)
    assert user is not None
    return user


async def remove_account(store: Store, name: str, *, actor: str, now: float) -> StaffUser:
    """Delete an account and end its sessions; the removed account, or AccountError."""
    user = await store.staff_user(name.strip().lower())
    if user is None or not await store.remove_staff(user.name):
        raise AccountError(f"no account named {name!r}")
    before = json.dumps({"name": user.name, "role": user.role.value})
    await store.record_audit(actor, "staff.remove", user.name, now, before=before)
    return user


async def change_password(
    store: Store, passwords: Passwords, name: str, password: str, *, actor: str, now: float
) -> None:
    """Set a new password and sign the account out everywhere (AccountError if refused)."""
    normal = name.strip().lower()
    _password(password)
    if not await store.set_password_hash(normal, passwords.hash(password), sign_out=True):
        raise AccountError(f"no account named {name!r}")
    # Never the hash, old or new: that the password changed is all the log needs.
    await store.record_audit(actor, "staff.passwd", normal, now)
