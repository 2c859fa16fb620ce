"""Messages in and out: neutral, platform-free values passed between the edge and the core.

`Incoming` and `Reply` know nothing of Messenger or Zalo: each platform module turns its payloads
into `Incoming` and renders `Reply` into its own Send API body. The raw payload is kept on
`Incoming.raw` for logging only; nothing in the core reads it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

Lang = Literal["vi", "en"]

FACETS: tuple[str, ...] = ("documents", "fee", "time", "where", "online", "who")


class Platform(StrEnum):
    FACEBOOK = "facebook"
    ZALO = "zalo"
    # A Zalo group the OA owns (the Group Message Framework, platforms.md §3.9): the outbox's
    # `user_id` is then the group id. Only commune clerks' notices go there (bot/clerks/).
    ZALO_GROUP = "zalo_group"
    WEBCHAT = "webchat"
    CLI = "cli"


class EventKind(StrEnum):
    TEXT = "text"  # the citizen typed something
    POSTBACK = "postback"  # a button or quick reply: `payload` says which
    FOLLOW = "follow"  # Get Started / followed the OA: greet with the menu
    ATTACHMENT = "attachment"  # image, sticker, file...: ask politely for text
    # The user withdrew consent or asked for deletion (Zalo `user_withdraw`, platforms.md §3.3):
    # forget them, answer nothing (Luật Bảo vệ dữ liệu cá nhân 2025; Nghị định 13/2023).
    WITHDRAW = "withdraw"


@dataclass(frozen=True, slots=True)
class Incoming:
    """One message from one citizen, as the core sees it."""

    platform: Platform
    user_id: str
    message_id: str
    kind: EventKind = EventKind.TEXT
    text: str = ""
    payload: str | None = None
    timestamp_ms: int = 0
    raw: Mapping[str, Any] | None = field(default=None, compare=False, repr=False)
    # Messenger `standby[]` (platforms.md §1.2, §2.8): another app (the Page Inbox, after a
    # handover) owns the thread. The message is recorded and shown to staff; the bot must not
    # answer it. Not stored: a standby message resumed after a crash is an ordinary one.
    standby: bool = False


@dataclass(frozen=True, slots=True)
class QuickReply:
    """A tappable option; `payload` comes back as `Incoming.payload` when chosen."""

    title: str
    payload: str


@dataclass(frozen=True, slots=True)
class Reply:
    """One outgoing message. Platforms render quick replies as buttons or numbered lines."""

    text: str
    quick_replies: tuple[QuickReply, ...] = ()
    # Sent from the staff dashboard, not as a turn's answer (the web chat shows it whenever it
    # comes, bot/staff/handoff.py).
    by_staff: bool = False
    # A staff reply after Messenger's 24-hour window: sent as MESSAGE_TAG with the HUMAN_AGENT
    # tag, allowed for 7 days after the user's last message (platforms.md §2.5).
    human_agent: bool = False
    # The last message of a handoff: once it is delivered the conversation is staff's
    # (Messenger, when configured: the thread then passes to the Page Inbox, platforms.md §2.8).
    hands_over: bool = False


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A reply addressed to one citizen on one platform, as queued in the outbox."""

    platform: Platform
    user_id: str
    reply: Reply


@dataclass(frozen=True, slots=True)
class SendResult:
    """How one Send API call ended, classified for the outbox.

    `retryable` errors (timeouts, 5xx, rate limits) are tried again with backoff; the others are
    given up and `error` is recorded. `auth_failed` asks the caller to refresh the access token
    (Zalo) before the retry. `error` is a short reason safe to log: never a token or a secret.
    """

    ok: bool
    retryable: bool = False
    error: str | None = None
    retry_after: float | None = None
    auth_failed: bool = False
