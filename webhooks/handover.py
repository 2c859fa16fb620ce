"""Messenger's handover protocol with the Page Inbox (platforms.md §2.8), when configured
(`fb_thread_control`): once a handoff's message is delivered (the Messenger sender calls
`pass_thread`, so the bot's own message goes out while it still owns the thread) the thread
passes to the Page Inbox, so staff can also answer from Meta's own inbox; the dashboard takes
it back before it writes, and on close.

Best effort: a refused call is logged (without the token) and changes nothing else; the
citizen's messages keep arriving (in `standby[]` while the Page Inbox owns the thread) and the
bot stays silent either way while the handoff is open.
"""

from __future__ import annotations

import logging

import aiohttp

from bot.config import Settings
from bot.models import Platform, SendResult
from bot.models.handoffs import Handoff
from bot.store import Store
from webhooks import facebook

log = logging.getLogger(__name__)


class PageInbox:
    def __init__(self, store: Store, session: aiohttp.ClientSession, settings: Settings) -> None:
        self.store = store
        self.session = session
        self.settings = settings

    async def pass_thread(self, user_id: str) -> None:
        """Once the handoff's last message is delivered: pass the thread to the Page Inbox."""
        handoff = await self.store.current_handoff(Platform.FACEBOOK, user_id)
        if handoff is None or handoff.thread_passed:
            return
        s = self.settings
        result = await facebook.pass_thread_control(
            self.session,
            s.fb_graph_url,
            s.fb_page_access_token,
            user_id,
            s.fb_page_inbox_app_id,
            metadata=f"Trợ lý Tư pháp: người dân cần cán bộ hỗ trợ (handoff {handoff.id})",
        )
        await self._settle(handoff, result, passed=True)

    async def take_back(self, handoff: Handoff) -> None:
        """Take the thread back (before the dashboard writes, or when the handoff ends)."""
        if handoff.platform is not Platform.FACEBOOK or not handoff.thread_passed:
            return
        s = self.settings
        result = await facebook.take_thread_control(
            self.session,
            s.fb_graph_url,
            s.fb_page_access_token,
            handoff.user_id,
            metadata=f"handoff {handoff.id}",
        )
        await self._settle(handoff, result, passed=False)

    async def _settle(self, handoff: Handoff, result: SendResult, passed: bool) -> None:
        """Record who owns the thread now, or log why Meta refused the pass or the take."""
        call = "pass_thread_control" if passed else "take_thread_control"
        if not result.ok:
            log.warning("facebook handoff %d: %s refused: %s", handoff.id, call, result.error)
            return
        await self.store.set_thread_passed(handoff.id, passed)
        where = "passed to the Page Inbox" if passed else "taken back"
        log.info("facebook handoff %d: thread %s", handoff.id, where)
