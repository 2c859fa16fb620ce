"""The daily deadline digest: each commune's clerks are told, at a configured local time, which
of their dossiers are overdue or due within a few working days.

Working days skip weekends and Vietnam's public holidays, Tết included (bot/workdays.py); the
digest goes out on working days only, and not at all to a commune with nothing to say. A
dossier belongs to the commune its "Đơn vị" cell names (bot/cases/fields.py), matched like any
commune name; dossiers of no known commune are left out. Each commune's digest of a day is one
event (`digest:YYYY-MM-DD:code`), queued once per clerk: a restart, or a server that was down
at the digest's time, sends today's digest once when it comes back, and not the missed days'.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass

from bot.cases.dates import VN_TZ, format_date
from bot.clerks.communes import Communes, UnknownCommuneError
from bot.clerks.notify import clerk_recipient
from bot.models import OPEN, Case
from bot.models.clerks import Commune, Recipient
from bot.store import Store
from bot.workdays import add_working_days, is_working_day

log = logging.getLogger(__name__)

MAX_LINES = 30  # dossiers listed per section; the rest are counted
POLL_SECONDS = 60.0
FIRST_DELAY = 30.0  # seconds: after start-up's own work (resumed turns) is under way
Sleep = Callable[[float], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class CommuneDigest:
    commune: Commune
    overdue: tuple[Case, ...]
    due_soon: tuple[Case, ...]


def parse_time(text: str) -> dt.time | None:
    """ "07:30" -> 07:30; "" -> None (no digest). ValueError when malformed."""
    text = text.strip()
    if not text:
        return None
    hours, _, minutes = text.partition(":")
    return dt.time(int(hours), int(minutes or 0))


def digests(
    cases: Iterable[Case],
    communes: Communes,
    today: dt.date,
    days: int,
    unmatched: list[Case] | None = None,
) -> list[CommuneDigest]:
    """Per commune, its open dossiers overdue or due by the `days`-th working day after today;
    communes with none are left out. Such dossiers whose "Đơn vị" names no commune are left
    out too, and appended to `unmatched` when given (`bot report digest` shows them)."""
    horizon = add_working_days(today, days)
    found: dict[str, tuple[Commune, list[Case], list[Case]]] = {}
    for case in cases:
        if case.status not in OPEN or case.due is None or case.due > horizon:
            continue
        try:
            commune = communes.find(case.unit)
        except UnknownCommuneError:
            if unmatched is not None:
                unmatched.append(case)
            continue
        entry = found.setdefault(commune.code, (commune, [], []))
        (entry[1] if case.due < today else entry[2]).append(case)
    out = []
    for commune, overdue, soon in found.values():
        overdue.sort(key=lambda c: (c.due or today, c.code))
        soon.sort(key=lambda c: (c.due or today, c.code))
        out.append(CommuneDigest(commune, tuple(overdue), tuple(soon)))
    return sorted(out, key=lambda d: d.commune.code)


def digest_text(digest: CommuneDigest, today: dt.date, days: int) -> str:
    """What the clerks of one commune read (Vietnamese; no citizen's name or phone)."""
    parts = [
        f"Sở Tư pháp nhắc hạn giải quyết hồ sơ của {digest.commune.label}"
        f" (ngày {format_date(today)}):"
    ]
    sections = (
        (f"Quá hạn ({len(digest.overdue)} hồ sơ):", digest.overdue),
        (
            f"Đến hạn trong {days} ngày làm việc tới ({len(digest.due_soon)} hồ sơ):",
            digest.due_soon,
        ),
    )
    for title, cases in sections:
        if not cases:
            continue
        lines = [title]
        for case in cases[:MAX_LINES]:
            what = f" – {case.procedure}" if case.procedure else ""
            lines.append(f"• {case.code}{what}, hẹn trả {format_date(case.due)}")
        if len(cases) > MAX_LINES:
            lines.append(f"… và {len(cases) - MAX_LINES} hồ sơ khác.")
        parts.append("\n".join(lines))
    parts.append("Đề nghị Anh/chị kiểm tra và cập nhật trạng thái hồ sơ.")
    return "\n\n".join(parts)


@dataclass(frozen=True, slots=True)
class DigestRun:
    """What one look at the clock did: the day it was for (None: not time yet), and the
    notices queued, skipped as already sent, and recorded as unsendable."""

    day: dt.date | None
    queued: int = 0
    already: int = 0
    blocked: int = 0


class Digester:
    """Sends the day's digests once the local time passes `at` on a working day. `clock` is
    the store's (seconds); `sleep` is how `run` waits between looks (a test passes its own)."""

    def __init__(
        self,
        store: Store,
        communes: Communes,
        at: dt.time,
        days: int = 2,
        *,
        clock: Callable[[], float] = time.time,
        sleep: Sleep = asyncio.sleep,
        poll_seconds: float = POLL_SECONDS,
        first_delay: float = FIRST_DELAY,
    ) -> None:
        self.store = store
        self.communes = communes
        self.at = at
        self.days = days
        self.clock = clock
        self._sleep = sleep
        self.poll = poll_seconds
        self.first_delay = first_delay
        self._done: dt.date | None = None  # this process has sent that day's digests

    async def run_once(self) -> DigestRun:
        now = self.clock()
        local = dt.datetime.fromtimestamp(now, VN_TZ)
        today = local.date()
        if self._done == today or local.time() < self.at or not is_working_day(today):
            return DigestRun(None)
        queued = already = blocked = 0
        for digest in digests(await self.store.all_cases(), self.communes, today, self.days):
            clerks = await self.store.clerks(digest.commune.code)
            if not clerks:
                continue
            recipients: list[Recipient] = [
                clerk_recipient(
                    c, self.communes, await self.store.last_inbound_at(c.platform, c.user_id), now
                )
                for c in clerks
            ]
            event = f"digest:{today.isoformat()}:{digest.commune.code}"
            counts = await self.store.queue_notice(
                event, digest_text(digest, today, self.days), recipients
            )
            queued, already = queued + counts.queued, already + counts.already
            blocked += counts.blocked
        self._done = today
        if queued or blocked:
            log.info("deadline digest %s: %d queued, %d unsendable", today, queued, blocked)
        return DigestRun(today, queued, already, blocked)

    async def run(self, wake: Callable[[], None] | None = None) -> None:
        """Forever (until cancelled): wait, look, queue the day's digests when due, wait."""
        await self._sleep(self.first_delay)
        while True:
            try:
                done = await self.run_once()
                if done.queued and wake is not None:
                    wake()
            except Exception:  # a bad day's data must not stop the server or tomorrow's digest
                log.exception("deadline digest failed; trying again at the next look")
            await self._sleep(self.poll)
