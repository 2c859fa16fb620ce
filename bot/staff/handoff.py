"""Human handoff, staff's side (issue 11): take a conversation over, answer it, close it.

The turn queue opens a handoff and keeps the bot silent while it lasts (bot/turns/queue.py);
here are the three things staff do from the dashboard, each checked against the handoff still
being open and within its time, and each audited (who, when, what):

- take over: the handoff is assigned to the member of staff (from whoever had it);
- reply: the text goes through the outbox like any reply (same per-user order, retries), and
  only while the platform lets a person write (`reply_window`): Messenger within 24 hours of
  the citizen's last message as a normal RESPONSE, up to 7 days with the HUMAN_AGENT tag
  (platforms.md §2.5); Zalo CS messages within 7 days (§3.5); beyond that it is refused, and
  says why;
- close: the bot answers again, and tells the citizen so politely (`texts.handoff_closed`).
  On Messenger staff may also close from Meta's Page Inbox: it passes the thread back and the
  webhook calls `returned`, which closes the same way (audited as `page-inbox`).

With Messenger thread control configured, `threads` passes the thread to the Page Inbox when a
handoff opens (the turn queue's hook) and takes it back before the dashboard writes (a reply or
the close), since only the thread's owner may answer (§2.8).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from bot.answers import Composer, split_text
from bot.cases.notices import window_open
from bot.models import Outgoing, Platform, Reply
from bot.models.handoffs import ClosedBy, Handoff
from bot.store import Store

MAX_REPLY_CHARS = 4000  # two Messenger messages; a longer answer belongs in a call or a visit
HUMAN_AGENT_SECONDS = 7 * 24 * 3600.0  # platforms.md §2.5: "within 7 days after a user message"
# The audit log's actor and address of a close made in Meta's Page Inbox (who is not known).
PAGE_INBOX_ACTOR = "page-inbox"
PAGE_INBOX_ADDRESS = "meta"


class Window(StrEnum):
    """Whether, and how, staff may write to a citizen now."""

    OPEN = "open"  # the standard window: an ordinary reply
    HUMAN_AGENT = "human_agent"  # Messenger after 24 h, within 7 days: the HUMAN_AGENT tag
    CLOSED = "closed"  # the platform does not let anyone write any more


def reply_window(platform: Platform, last_inbound_at: float | None, now: float) -> Window:
    """Messenger: 24 h standard, then 7 days with HUMAN_AGENT (§2.5). Zalo: CS messages
    within 7 days of the last interaction (§3.5). Web chat: as long as the session may be
    open (24 h). Anything else cannot be reached."""
    if window_open(platform, last_inbound_at, now):
        return Window.OPEN
    if (
        platform is Platform.FACEBOOK
        and last_inbound_at is not None
        and now - last_inbound_at <= HUMAN_AGENT_SECONDS
    ):
        return Window.HUMAN_AGENT
    return Window.CLOSED


class Result(StrEnum):
    DONE = "done"
    NOT_OPEN = "not_open"  # closed meanwhile, or past its time
    WINDOW_CLOSED = "window_closed"
    EMPTY = "empty"
    TOO_LONG = "too_long"


@dataclass(frozen=True, slots=True)
class Outcome:
    result: Result
    window: Window | None = None  # of a reply that was queued


class ThreadControl(Protocol):
    """Messenger's handover protocol (webhooks/app.py implements it over the Graph API)."""

    async def take_back(self, handoff: Handoff) -> None: ...


class HandoffDesk:
    """What staff do to handoffs. `composer()` gives the knowledge base in service (its texts
    change on reload); `timeout` is `handoff_timeout_hours` in seconds."""

    def __init__(
        self,
        store: Store,
        composer: Callable[[], Composer],
        timeout: float,
        threads: ThreadControl | None = None,
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.composer = composer
        self.timeout = timeout
        self.threads = threads
        self.wake = wake

    async def active(self, handoff_id: int, now: float) -> Handoff | None:
        """The handoff, if it is open and within its time."""
        handoff = await self.store.handoff(handoff_id)
        return handoff if handoff is not None and handoff.active(now, self.timeout) else None

    async def take(self, handoff_id: int, staff: str, address: str, now: float) -> Outcome:
        handoff = await self.active(handoff_id, now)
        if handoff is None or not await self.store.take_handoff(handoff_id, staff, now):
            return Outcome(Result.NOT_OPEN)
        before = json.dumps({"assignee": handoff.assignee}, ensure_ascii=False)
        after = json.dumps({"assignee": staff}, ensure_ascii=False)
        await self._audit(staff, "handoff.take", handoff, now, address, before, after)
        return Outcome(Result.DONE)

    async def reply(
        self, handoff_id: int, staff: str, text: str, address: str, now: float
    ) -> Outcome:
        text = text.strip()
        if not text:
            return Outcome(Result.EMPTY)
        if len(text) > MAX_REPLY_CHARS:
            return Outcome(Result.TOO_LONG)
        handoff = await self.active(handoff_id, now)
        if handoff is None:
            return Outcome(Result.NOT_OPEN)
        last = await self.store.last_inbound_at(handoff.platform, handoff.user_id)
        window = reply_window(handoff.platform, last, now)
        if window is Window.CLOSED:
            return Outcome(Result.WINDOW_CLOSED, window)
        await self._own_thread(handoff)
        tagged = window is Window.HUMAN_AGENT
        to = (handoff.platform, handoff.user_id)
        outgoing = [
            Outgoing(*to, Reply(part, by_staff=True, human_agent=tagged))
            for part in split_text(text)
        ]
        if not await self.store.queue_staff_reply(handoff_id, staff, outgoing, now):
            return Outcome(Result.NOT_OPEN)
        after = json.dumps({"text": text, "window": window.value}, ensure_ascii=False)
        await self._audit(staff, "handoff.reply", handoff, now, address, None, after)
        self._wake()
        return Outcome(Result.DONE, window)

    async def close(self, handoff_id: int, staff: str, address: str, now: float) -> Outcome:
        """Close it; the citizen is told the bot is back when the platform still lets us
        write (a normal message: the HUMAN_AGENT tag is for a person's answers only)."""
        handoff = await self.active(handoff_id, now)
        if handoff is None:
            return Outcome(Result.NOT_OPEN)
        goodbye = await self._goodbye(handoff, now)
        await self._own_thread(handoff)
        if not await self.store.close_handoff(handoff_id, staff, now, goodbye):
            return Outcome(Result.NOT_OPEN)
        before = json.dumps({"status": "open", "assignee": handoff.assignee}, ensure_ascii=False)
        after = json.dumps({"status": "closed", "told": bool(goodbye)}, ensure_ascii=False)
        await self._audit(staff, "handoff.close", handoff, now, address, before, after)
        if goodbye:
            self._wake()
        return Outcome(Result.DONE)

    async def returned(self, platform: Platform, user_id: str, now: float) -> bool:
        """Meta's Page Inbox passed the Messenger thread back (staff marked the conversation
        done there, platforms.md §2.8): the citizen's open handoff ends as a close from the
        dashboard does, the goodbye included, with the thread already the bot's. False when
        the citizen had no handoff in force (one past its time is closed as timed out)."""
        handoff = await self.store.current_handoff(platform, user_id)
        if handoff is None:
            return False
        if not handoff.active(now, self.timeout):
            await self.store.expire_handoff(handoff.id, now)
            return False
        if handoff.thread_passed:
            await self.store.set_thread_passed(handoff.id, False)
        goodbye = await self._goodbye(handoff, now)
        if not await self.store.close_handoff(handoff.id, ClosedBy.PAGE_INBOX.value, now, goodbye):
            return False
        before = json.dumps({"status": "open", "assignee": handoff.assignee}, ensure_ascii=False)
        after = json.dumps({"status": "closed", "told": bool(goodbye)}, ensure_ascii=False)
        await self._audit(
            PAGE_INBOX_ACTOR, "handoff.close", handoff, now, PAGE_INBOX_ADDRESS, before, after
        )
        if goodbye:
            self._wake()
        return True

    async def _goodbye(self, handoff: Handoff, now: float) -> list[Outgoing]:
        """The bot's word that it is back, when the platform still lets it write (a normal
        message: the HUMAN_AGENT tag is for a person's answers only); else nothing."""
        last = await self.store.last_inbound_at(handoff.platform, handoff.user_id)
        if reply_window(handoff.platform, last, now) is not Window.OPEN:
            return []
        state = await self.store.load_state(handoff.platform, handoff.user_id)
        lang = state.lang if state is not None else "vi"
        return [
            Outgoing(handoff.platform, handoff.user_id, Reply(r.text, r.quick_replies, True))
            for r in self.composer().handoff_closed(lang)
        ]

    async def _own_thread(self, handoff: Handoff) -> None:
        """Take the Messenger thread back from the Page Inbox before the bot's app writes."""
        if self.threads is not None and handoff.thread_passed:
            await self.threads.take_back(handoff)

    async def _audit(
        self,
        staff: str,
        action: str,
        handoff: Handoff,
        now: float,
        address: str,
        before: str | None,
        after: str | None,
    ) -> None:
        # The target names the handoff and its channel, never the citizen's platform id.
        target = f"handoff:{handoff.id} ({handoff.platform.value})"
        await self.store.record_audit(
            staff, action, target, now, before=before, after=after, address=address
        )

    def _wake(self) -> None:
        if self.wake is not None:
            self.wake()
