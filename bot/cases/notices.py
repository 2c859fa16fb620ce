"""Telling subscribers that their dossier changed: whether the platform still lets the bot
write to them, and what they read.

Pure. The Store calls the function `notifier(kb)` returns for each subscriber of a dossier whose
status a re-import changed, inside the import's transaction; it answers the replies to queue, or
why they cannot be delivered (the messaging window is closed), which the Store records.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from bot.cases.dates import today_of
from bot.cases.replies import case_text, replies
from bot.knowledge import KnowledgeBase
from bot.models import Case, Lang, Platform, Reply, Subscriber

# How long after the user's last message a platform lets the bot write (platforms.md): Messenger
# 24 h (§2.5; later needs a Utility template, not built), Zalo CS messages 7 days (§3.5). The web
# chat has no window of its own: a session is treated as Messenger. The CLI cannot be reached.
WINDOWS: Mapping[Platform, float] = {
    Platform.FACEBOOK: 24 * 3600,
    Platform.ZALO: 7 * 24 * 3600,
    Platform.WEBCHAT: 24 * 3600,
}


def window_open(platform: Platform, last_inbound_at: float | None, now: float) -> bool:
    """Whether the platform still lets the bot write to a user who last wrote at
    `last_inbound_at` (platforms.md §2.5 Messenger 24 h, §3.5 Zalo 7 days)."""
    window = WINDOWS.get(platform)
    if window is None or last_inbound_at is None:
        return False
    return now - last_inbound_at <= window


def notice_replies(kb: KnowledgeBase, case: Case, lang: Lang, today: dt.date) -> list[Reply]:
    """The update sent to a subscriber when a re-import changed the dossier's status."""
    header = kb.texts.get("case_notice", lang).format(code=case.code)
    return replies(kb, f"{header}\n\n{case_text(kb, case, lang, today)}", lang)


def notifier(
    kb: KnowledgeBase,
) -> Callable[[Subscriber, Case, float], list[Reply] | str]:
    """What the import does for each subscriber of a changed dossier: the replies to queue, or
    the reason it cannot be delivered (the platform's messaging window is closed)."""

    def notify(sub: Subscriber, case: Case, now: float) -> list[Reply] | str:
        if not window_open(sub.platform, sub.last_inbound_at, now):
            return f"{sub.platform.value} messaging window closed"
        return notice_replies(kb, case, sub.lang, today_of(now, ms=False))

    return notify
