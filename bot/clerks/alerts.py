"""Notices the bot sends on its own: a knowledge change set, and a citizen asking for staff.

Both go the way of `bot notify` (targets resolved by bot/clerks/notify.py, queued once per
event and recipient in the outbox): `announce_to` gets one announcement per new knowledge
version that changed procedures, against the last version seen, whose facts the store keeps
(event `knowledge:VERSION`, so a restart or a second reload of the same version sends nothing
again, and an edit made while the server was down is announced at the next start);
`handoff_alert_to` gets one alert per handoff opened (event `handoff:ID`, however often the
citizen asks again while it is open) and, when the citizen is still waiting after
`handoff_remind_minutes` (nobody took the handoff over or answered it), one reminder saying how
long they have waited (event `handoff:ID:reminder`: once, also across restarts). Empty
targets: off. A handoff alert carries the question, the channel and where to answer it, never
the citizen's platform id, and long digit runs (a phone, an ID card number) are masked.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence

from bot.cases.dates import VN_TZ, format_date
from bot.clerks.changes import announcement_text, diff_facts, facts, facts_json, parse_facts
from bot.clerks.communes import Communes
from bot.clerks.notify import TargetError, plan, send
from bot.knowledge import KnowledgeBase
from bot.models import Incoming, Platform
from bot.models.handoffs import Handoff
from bot.store import QueuedCounts, Store

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 500
FACTS_KEY = "clerks.knowledge_facts"  # kv: the procedures of the last knowledge version seen
# Nine digits or more, spaces, dots or dashes between them allowed: a phone number (10 digits,
# or +84 and 9), an ID card number (12). Shorter runs (a fee, a date, a dossier's year) stay.
_LONG_NUMBER = re.compile(r"\+?\d(?:[\s.\-]?\d){8,}")
MASK = "[số đã ẩn]"
REMIND_POLL_SECONDS = 60.0  # how often the server looks for citizens still waiting
HANDOFF_TIMEOUT = 72 * 3600.0  # the default of `handoff_timeout_hours` (bot/config.py)
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
    return _handoff_lines(
        "Trợ lý Tư pháp: một người dân đang chờ cán bộ hỗ trợ.", question, platform, base_url
    )


def reminder_text(
    question: str, platform: Platform, opened_at: float, now: float, base_url: str = ""
) -> str:
    """The reminder of a citizen still waiting: how long, since when, and the same details."""
    since = dt.datetime.fromtimestamp(opened_at, VN_TZ)
    head = (
        "Trợ lý Tư pháp nhắc lại: một người dân đã chờ cán bộ hỗ trợ"
        f" {format_wait(now - opened_at)} (từ {since:%H:%M} ngày {format_date(since.date())})"
        " mà chưa có cán bộ nào nhận."
    )
    return _handoff_lines(head, question, platform, base_url)


def format_wait(seconds: float) -> str:
    """A waiting time in Vietnamese, to the minute: "45 phút", "1 giờ 5 phút", "2 ngày 3 giờ"."""
    minutes = max(0, int(seconds // 60))
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} ngày {hours} giờ" if hours else f"{days} ngày"
    if hours:
        return f"{hours} giờ {minutes} phút" if minutes else f"{hours} giờ"
    return f"{minutes} phút"


def _handoff_lines(head: str, question: str, platform: Platform, base_url: str) -> str:
    question = " ".join(mask_numbers(question).split())
    if len(question) > MAX_QUESTION_CHARS:
        question = question[: MAX_QUESTION_CHARS - 1].rstrip() + "…"
    asked = f"“{question}”" if question else "(bấm nút «Gặp cán bộ», không kèm câu hỏi)"
    base = base_url.strip().rstrip("/")
    where = f"tại {base}/admin/handoffs" if base else "trên trang quản trị (mục Chờ cán bộ)"
    return "\n".join(
        [
            head,
            f"Kênh: {CHANNELS.get(platform, platform.value)}",
            f"Câu hỏi: {asked}",
            f"Đề nghị Anh/chị xem và trả lời {where}.",
        ]
    )


class Alerts:
    """Queues the automatic notices; `wake` starts the delivery worker after queuing.
    `remind_after` (seconds, 0 = off) is how long a citizen waits before the reminder;
    `handoff_timeout` (seconds) when a handoff ends by itself; `clock` is the store's."""

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
        remind_after: float = 0.0,
        handoff_timeout: float = HANDOFF_TIMEOUT,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.store = store
        self.communes = communes
        self.groups = groups
        self.announce_to = tuple(announce_to)
        self.handoff_alert_to = tuple(handoff_alert_to)
        self.base_url = base_url
        self.wake = wake
        self.remind_after = remind_after
        self.handoff_timeout = handoff_timeout
        self.clock = clock
        self._reminded: set[int] = set()  # handoffs this process has queued a reminder for

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

    @property
    def reminding(self) -> bool:
        return bool(self.handoff_alert_to) and self.remind_after > 0

    async def remind_waiting(self) -> QueuedCounts:
        """One reminder per handoff whose citizen has waited `remind_after` or longer with
        nobody taking it over or answering (and still within its time). The event is the
        handoff's, so a restart or the next look sends it to nobody twice."""
        if not self.reminding:
            return QueuedCounts()
        now = self.clock()
        total = QueuedCounts()
        for waiting in await self.store.handoff_queue(now - self.handoff_timeout, lines=0):
            h = waiting.handoff
            if (
                h.id in self._reminded
                or h.taken_at is not None
                or h.staff_at is not None
                or now - h.created_at < self.remind_after
            ):
                continue
            counts = await self._remind(h, now)
            self._reminded.add(h.id)
            total = QueuedCounts(
                total.queued + counts.queued,
                total.blocked + counts.blocked,
                total.already + counts.already,
            )
        return total

    async def _remind(self, h: Handoff, now: float) -> QueuedCounts:
        event = f"handoff:{h.id}:reminder"
        if await self.store.event_seen(event):
            return QueuedCounts()  # sent before a restart
        question = await self.store.opening_message(h.platform, h.user_id, h.created_at)
        text = reminder_text(question, h.platform, h.created_at, now, self.base_url)
        counts = await self._queue(self.handoff_alert_to, text, event)
        log.info("handoff %d: citizen still waiting, reminder queued to %d", h.id, counts.queued)
        return counts

    async def run_reminders(
        self,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        poll_seconds: float = REMIND_POLL_SECONDS,
    ) -> None:
        """Forever (until cancelled): look for citizens still waiting, then wait a poll."""
        while True:
            try:
                await self.remind_waiting()
            except Exception:  # a bad look must not stop the server or the next look
                log.exception("handoff reminders failed; trying again at the next look")
            await sleep(poll_seconds)

    async def _queue(self, targets: Sequence[str], text: str, event: str) -> QueuedCounts:
        try:
            planned = await plan(
                self.store, targets, text, self.communes, self.groups, event, now=self.clock()
            )
        except TargetError as exc:  # a registry emptied since start-up: staff see it in the log
            log.warning("notice %s not sent: %s", event, exc)
            return QueuedCounts()
        counts = await send(self.store, planned)
        if counts.queued and self.wake is not None:
            self.wake()
        return counts
