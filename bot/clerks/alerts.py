"""Notices the bot sends on its own: a knowledge change set, and a citizen asking for staff.

Both go the way of `bot notify` (targets resolved by bot/clerks/notify.py, queued once per
event and recipient in the outbox): `announce_to` gets one announcement per new knowledge
version that changed procedures, against the last version seen, whose facts the store keeps
(event `knowledge:VERSION`, so a restart or a second reload of the same version sends nothing
again, and an edit made while the server was down is announced at the next start);
`handoff_alert_to` gets one alert per handoff opened (event `handoff:ID`, however often the
citizen asks again while it is open). Empty targets: off. A handoff alert carries the
question, the channel and where to answer it, never the citizen's platform id, and long digit
runs (a phone, an ID card number) are masked.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping, Sequence

from bot.clerks.changes import announcement_text, diff_facts, facts, facts_json, parse_facts
from bot.clerks.communes import Communes
from bot.clerks.notify import TargetError, plan, send
from bot.knowledge import KnowledgeBase
from bot.models import Incoming, Platform
from bot.store import QueuedCounts, Store

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 500
FACTS_KEY = "clerks.knowledge_facts"  # kv: the procedures of the last knowledge version seen
# Nine digits or more, spaces, dots or dashes between them allowed: a phone number (10 digits,
# or +84 and 9), an ID card number (12). Shorter runs (a fee, a date, a dossier's year) stay.
_LONG_NUMBER = re.compile(r"\+?\d(?:[\s.\-]?\d){8,}")
MASK = "[số đã ẩn]"
CHANNELS: Mapping[Platform, str] = {
    Platform.FACEBOOK: "Messenger",
    Platform.ZALO: "Zalo",
    Platform.WEBCHAT: "khung chat trên trang web",
    Platform.CLI: "dòng lệnh (thử nghiệm)",
}


def parse_targets(text: str) -> tuple[str, ...]:
    """ "group:so-tu-phap, commune:Lũng Cú" -> the targets, in order; "" -> none (off)."""
    return tuple(t.strip() for t in text.split(",") if t.strip())


def mask_numbers(text: str) -> str:
    return _LONG_NUMBER.sub(MASK, text)


def handoff_text(question: str, platform: Platform, base_url: str = "") -> str:
    """What staff read when a citizen asks for them (Vietnamese; no id, no phone)."""
    question = " ".join(mask_numbers(question).split())
    if len(question) > MAX_QUESTION_CHARS:
        question = question[: MAX_QUESTION_CHARS - 1].rstrip() + "…"
    asked = f"“{question}”" if question else "(bấm nút «Gặp cán bộ», không kèm câu hỏi)"
    base = base_url.strip().rstrip("/")
    where = f"tại {base}/admin/handoffs" if base else "trên trang quản trị (mục Chờ cán bộ)"
    return "\n".join(
        [
            "Trợ lý Tư pháp: một người dân đang chờ cán bộ hỗ trợ.",
            f"Kênh: {CHANNELS.get(platform, platform.value)}",
            f"Câu hỏi: {asked}",
            f"Đề nghị Anh/chị xem và trả lời {where}.",
        ]
    )


class Alerts:
    """Queues the two automatic notices; `wake` starts the delivery worker after queuing."""

    def __init__(
        self,
        store: Store,
        communes: Communes,
        groups: Mapping[str, str],
        *,
        announce_to: Sequence[str] = (),
        handoff_alert_to: Sequence[str] = (),
        base_url: str = "",
        wake: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.communes = communes
        self.groups = groups
        self.announce_to = tuple(announce_to)
        self.handoff_alert_to = tuple(handoff_alert_to)
        self.base_url = base_url
        self.wake = wake

    async def knowledge_loaded(self, kb: KnowledgeBase) -> QueuedCounts:
        """One announcement of what `kb` changed in the procedures since the last version
        seen, unless nothing did. Called at start-up and after each reload: the facts of the
        version seen are kept in the store (`FACTS_KEY`), so an edit made while the server
        was down is announced once when it starts, and a restart announces nothing again. On
        a fresh install (no version seen) the version is recorded and nothing is sent. Without
        `announce_to` the version is recorded all the same: turning announcements on later
        does not announce old edits."""
        seen = parse_facts(await self.store.get_value(FACTS_KEY))
        now = facts(kb)
        if seen is not None and seen.version == now.version:
            return QueuedCounts()
        counts = QueuedCounts()
        if seen is None:
            log.info("knowledge %s recorded as the version clerks know", kb.version)
        else:
            changes = diff_facts(seen, now)
            if self.announce_to and not changes.empty:
                text = announcement_text(changes, kb.texts)
                counts = await self._queue(self.announce_to, text, f"knowledge:{kb.version}")
                log.info(
                    "knowledge %s: %d procedure(s) changed, %d added, %d removed; announced to %d",
                    kb.version,
                    len(changes.changed),
                    len(changes.added),
                    len(changes.removed),
                    counts.queued,
                )
        # After queuing: a crash in between queues the same event again, which is a no-op.
        await self.store.set_value(FACTS_KEY, facts_json(now))
        return counts

    async def handoff_opened(self, msg: Incoming) -> QueuedCounts:
        """One alert for the handoff open for `msg`'s sender (none open: nothing)."""
        if not self.handoff_alert_to:
            return QueuedCounts()
        opened = [
            h
            for h in await self.store.open_handoffs()
            if h["platform"] == msg.platform.value and h["user_id"] == msg.user_id
        ]
        if not opened:
            return QueuedCounts()
        text = handoff_text(msg.text, msg.platform, self.base_url)
        return await self._queue(self.handoff_alert_to, text, f"handoff:{opened[-1]['id']}")

    async def _queue(self, targets: Sequence[str], text: str, event: str) -> QueuedCounts:
        try:
            planned = await plan(self.store, targets, text, self.communes, self.groups, event)
        except TargetError as exc:  # a registry emptied since start-up: staff see it in the log
            log.warning("notice %s not sent: %s", event, exc)
            return QueuedCounts()
        counts = await send(self.store, planned)
        if counts.queued and self.wake is not None:
            self.wake()
        return counts
