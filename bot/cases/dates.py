"""Office dates of dossiers: Vietnamese dates (UTC+7), the display format, lateness."""

from __future__ import annotations

import datetime as dt

from bot.models import FINISHED, Case, CaseStatus

VN_TZ = dt.timezone(dt.timedelta(hours=7))  # dates are Vietnamese office dates (UTC+7)


def today_of(now_ms: int | float, ms: bool = True) -> dt.date:
    """The office date (UTC+7) at a timestamp (milliseconds, or seconds with ms=False)."""
    seconds = now_ms / 1000 if ms else now_ms
    return dt.datetime.fromtimestamp(seconds, VN_TZ).date()


def format_date(day: dt.date | None) -> str | None:
    return None if day is None else day.strftime("%d/%m/%Y")


def days_late(case: Case, today: dt.date) -> int | None:
    """How many days after its due date a finished dossier was resolved (0: on time), or None
    when that cannot be told. A dossier ready today with no date exported was ready by today,
    so it is on time if today is not past the due date."""
    if case.status not in FINISHED or case.due is None:
        return None
    if case.returned is not None:
        return max(0, (case.returned - case.due).days)
    if case.status is CaseStatus.READY and today <= case.due:
        return 0
    return None
