"""Commune clerks and the notices sent to them: communes, clerks, recipients, notice records."""

from __future__ import annotations

from dataclasses import dataclass

from bot.models.messages import Platform

CLERK_PLATFORMS = (Platform.ZALO, Platform.FACEBOOK)


@dataclass(frozen=True, slots=True)
class Commune:
    """A commune (xã) or ward (phường) of the province; `code` is the national register's."""

    code: str
    kind: str  # "xã" or "phường"
    name: str  # without its kind: "Lũng Cú"

    @property
    def label(self) -> str:
        """As it is written in a letter: "Xã Lũng Cú", "Phường Hà Giang 1"."""
        return f"{self.kind.capitalize()} {self.name}"


@dataclass(frozen=True, slots=True)
class Clerk:
    """A commune's justice or civil-status officer reachable on Zalo or Messenger. `id` is the
    registry's number (0 before it is stored); `user_id` the OA-scoped id or the Page's PSID."""

    name: str
    commune: str  # the commune's code
    platform: Platform
    user_id: str
    phone: str = ""
    id: int = 0


@dataclass(frozen=True, slots=True)
class Recipient:
    """One addressee of a notice: a Zalo group or one clerk. `key` names it for the once-only
    rule ("group:NAME", "clerk:zalo:ID"); `blocked` says why it cannot be sent (e.g. outside
    the Messenger window), and such a recipient is recorded as failed without a send."""

    key: str
    label: str
    platform: Platform
    address: str
    blocked: str | None = None

    @property
    def channel(self) -> str:
        return {
            Platform.ZALO_GROUP: "Zalo group",
            Platform.ZALO: "Zalo OA message",
            Platform.FACEBOOK: "Messenger",
        }.get(self.platform, self.platform.value)


@dataclass(frozen=True, slots=True)
class NoticeRecord:
    """What became of one notice to one recipient, as `bot report notifications` shows it."""

    id: int
    event: str
    recipient: str
    label: str
    platform: Platform
    address: str
    text: str
    status: str  # pending | sent | failed
    error: str | None
    attempts: int
    created_at: float
    finished_at: float | None
