"""The dossier as the bot keeps it (issue 4): the words the import, the lookup, the replies, the
report and the store share.

Pure: frozen types, the status groups, and the office-date rules. Nothing here reads a file,
speaks SQL or knows a platform's API. Privacy by construction: a `Case` holds the owner's name
masked and only the last 4 digits of the phone number; a `LookupRequest` keeps its digits out of
its repr, so out of logs.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

from bot.models import Lang, Platform

CASE_TOPIC = "tra-cuu-ho-so"
SUBSCRIBE = "CASE_SUBSCRIBE"  # payload "CASE_SUBSCRIBE:<code>" of the "notify me" button
MAX_CODE_CHARS = 64
VN_TZ = dt.timezone(dt.timedelta(hours=7))  # dates are Vietnamese office dates (UTC+7)


class CaseStatus(StrEnum):
    RECEIVED = "received"  # Đã tiếp nhận
    PROCESSING = "processing"  # Đang xử lý
    SUPPLEMENT = "supplement"  # Chờ bổ sung: the clock waits for the citizen
    READY = "ready"  # Đã có kết quả, waiting to be collected
    RETURNED = "returned"  # Đã trả kết quả
    REJECTED = "rejected"  # Từ chối
    WITHDRAWN = "withdrawn"  # rút hồ sơ / dừng xử lý


# Resolved with a result: these make the on-time rate ("giải quyết trước và đúng hạn").
FINISHED = frozenset({CaseStatus.READY, CaseStatus.RETURNED})
# No deadline runs any more; a subscription ends once told about one of these.
CLOSED = FINISHED | {CaseStatus.REJECTED, CaseStatus.WITHDRAWN}
# Deadline running, on the office's side: the overdue and due-soon lists.
OPEN = frozenset({CaseStatus.RECEIVED, CaseStatus.PROCESSING})

LookupOutcome = Literal["found", "no_match", "locked"]


@dataclass(frozen=True, slots=True)
class Case:
    """One dossier as the bot keeps it: no full name, no phone number (data minimisation)."""

    code: str
    status: CaseStatus
    phone_last4: str
    topic: str | None = None  # knowledge-base topic id, when the procedure was recognised
    procedure: str = ""  # the procedure as exported
    owner_masked: str = ""
    received: dt.date | None = None
    due: dt.date | None = None
    unit: str = ""
    returned: dt.date | None = None  # when the result was returned (or ready), if exported
    note: str = ""  # e.g. what must be supplemented


@dataclass(frozen=True, slots=True)
class LookupRequest:
    """The dialog asks its caller to check `digits` against dossier `code` (see `cases.lookup`)."""

    code: str
    digits: str = field(repr=False)  # part of the phone number: kept out of logs and reprs


@dataclass(frozen=True, slots=True)
class LookupResult:
    outcome: LookupOutcome
    case: Case | None = None  # only when found


@dataclass(frozen=True, slots=True)
class Subscriber:
    """An active subscription as the import sees it, with the user's last inbound message."""

    platform: Platform
    user_id: str
    code: str
    lang: Lang
    last_inbound_at: float | None


def normalise_code(text: str) -> str:
    """Codes compare without spaces and case: " h56-250701-0001 " is "H56-250701-0001"."""
    return "".join(text.split()).upper()


# -- office dates -------------------------------------------------------------------------------


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
