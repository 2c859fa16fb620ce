"""The dossier as the bot keeps it (issue 4): the values the import, the lookup, the replies,
the report and the store share.

Pure: frozen types, the status groups and the ownership check (office dates are in
`bot.cases.dates`). Nothing here reads a file, speaks SQL or knows a platform's API. Privacy by
construction: a `Case` holds the owner's name masked and only the last 4 digits of the phone
number; a `LookupRequest` keeps its digits out of its repr, so out of logs.
"""

from __future__ import annotations

import datetime as dt
import hmac
from dataclasses import dataclass, field
from enum import StrEnum

from bot.models.messages import Lang, Platform

CASE_TOPIC = "tra-cuu-ho-so"
SUBSCRIBE = "CASE_SUBSCRIBE"  # payload "CASE_SUBSCRIBE:<code>" of the "notify me" button
MAX_CODE_CHARS = 64


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


class LookupOutcome(StrEnum):
    FOUND = "found"
    NO_MATCH = "no_match"  # unknown code or wrong digits: answered alike
    LOCKED = "locked"  # too many failed checks


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
    """The dialog asks its caller to check `digits` against dossier `code`
    (see `bot.cases.actions.lookup`)."""

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


# -- the ownership check -----------------------------------------------------------------------


def digits_match(case: Case | None, digits: str) -> bool:
    """Whether `digits` are the last 4 of the dossier's phone; constant time when it exists."""
    if case is None or len(digits) != 4:
        return False
    return hmac.compare_digest(case.phone_last4.encode(), digits.encode())
