"""Passwords: the policy (length) and the argon2id hashing, with argon2-cffi (style.md §19).

argon2-cffi's `PasswordHasher` picks RFC 9106's parameters; when they change, a hash made with
the old ones is replaced at the next successful login (`needs_rehash`).
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_PASSWORD_CHARS = 10
# Hashing costs the same whatever the length, but a megabyte "password" is no password: bound it.
MAX_PASSWORD_CHARS = 1024


class PasswordPolicyError(ValueError):
    """A new password is refused; the message says why (English, for the command line)."""


def check_password(password: str) -> None:
    """Raise PasswordPolicyError unless `password` is acceptable as a new password."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise PasswordPolicyError(f"a password needs at least {MIN_PASSWORD_CHARS} characters")
    if len(password) > MAX_PASSWORD_CHARS:
        raise PasswordPolicyError(f"a password has at most {MAX_PASSWORD_CHARS} characters")
    if not password.strip():
        raise PasswordPolicyError("a password cannot be only spaces")


class Passwords:
    """Hash and verify with one argon2 parameter set (the library's defaults unless given:
    tests pass cheap ones)."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self.hasher = hasher or PasswordHasher()
        self._dummy: str | None = None  # made at the first unknown name: costs a hash

    def _dummy_hash(self) -> str:
        # Checked against when the account does not exist, so that a wrong name takes as long
        # as a wrong password and the timing does not tell which names exist.
        if self._dummy is None:
            self._dummy = self.hasher.hash("not a password of anyone")
        return self._dummy

    def hash(self, password: str) -> str:
        return self.hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether `password` matches; a missing or unreadable hash never does (and costs as
        much time as one that does not match)."""
        if len(password) > MAX_PASSWORD_CHARS:
            return False
        try:
            return self.hasher.verify(password_hash or self._dummy_hash(), password) and bool(
                password_hash
            )
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether the hash was made with other parameters than the current ones."""
        try:
            return self.hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
