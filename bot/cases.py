"""Dossier status (issue 4): where the dossier feature meets the Store. Import the one-stop
system's export, look a dossier up for its owner, and carry out what a dialog turn asked.

These `async` functions are the only ones that touch the `Store` they are given (which runs the
SQL in one transaction per call); apart from them, only `case_table.read_table` does I/O (it
reads the export file). The pure parts, by concept:

- `case_model`: `Case`, its statuses, the lookup request and result, office dates;
- `case_table`: a CSV/XLSX file into numbered rows, and its header row;
- `case_fields`: what one cell means (header and status aliases, dates, phones, names);
- `case_topics`: the procedure cell to a knowledge-base topic;
- `case_parse`: the rows into `Case`s and `Rejected` rows with reasons;
- `case_lookup`: a code and digits in a message, the constant-time check, the lock policy;
- `case_replies`: what the citizen reads; `case_notices`: the notices and messaging windows;
- `case_report`: the figures staff publish.

The names `bot.dialog` and `bot.store` import from this module are re-exported below.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.case_lookup import (
    LOCK_SECONDS,
    MAX_FAILURES,
    digits_match,
    find_code,
    find_digits,
    wants_notice,
)
from bot.case_model import (
    CASE_TOPIC,
    CLOSED,
    MAX_CODE_CHARS,
    SUBSCRIBE,
    Case,
    CaseStatus,
    LookupOutcome,
    LookupRequest,
    LookupResult,
    Subscriber,
    normalise_code,
    today_of,
)
from bot.case_notices import notifier
from bot.case_parse import Parsed, Rejected, parse_table
from bot.case_replies import case_replies, replies
from bot.case_table import read_table
from bot.case_topics import TopicResolver
from bot.knowledge import KnowledgeBase
from bot.matcher import Matcher
from bot.models import Incoming, Platform

if TYPE_CHECKING:  # runtime imports would be circular: store and dialog import this module
    from bot.dialog import Dialog, Turn
    from bot.store import ImportCounts, Store

__all__ = ["ImportSummary", "import_file", "import_parsed", "lookup", "resolve_turn"]
# Re-exported: bot.dialog and bot.store import these from here.
__all__ += [
    "CASE_TOPIC",
    "CLOSED",
    "MAX_CODE_CHARS",
    "SUBSCRIBE",
    "Case",
    "CaseStatus",
    "LookupOutcome",
    "LookupRequest",
    "LookupResult",
    "Subscriber",
    "case_replies",
    "digits_match",
    "find_code",
    "find_digits",
    "replies",
    "today_of",
    "wants_notice",
]


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What an import did: the Store's counts, and the rejected rows with their reasons."""

    source: str
    counts: ImportCounts
    rejected: tuple[Rejected, ...]


async def import_parsed(
    store: Store, parsed: Parsed, kb: KnowledgeBase, source: str = ""
) -> ImportSummary:
    """Upsert the parsed dossiers in ONE transaction, record status changes and notify."""
    counts = await store.import_cases(
        parsed.cases, notifier(kb), source=source, rejected=len(parsed.rejected)
    )
    return ImportSummary(source, counts, parsed.rejected)


async def import_file(
    store: Store,
    path: Path | str,
    kb: KnowledgeBase,
    matcher: Matcher | None = None,
    progress: Callable[[int], None] | None = None,
) -> ImportSummary:
    """Read, validate and import an export. `CasesFileError` (nothing written) if unreadable."""
    table = read_table(path)
    parsed = parse_table(table, TopicResolver(kb, matcher), progress)
    return await import_parsed(store, parsed, kb, table.source)


async def lookup(
    store: Store, platform: Platform, user_id: str, request: LookupRequest
) -> LookupResult:
    """Check the digits against the dossier, under the lock policy, audited (see Store)."""
    outcome, case = await store.lookup_case(
        platform,
        user_id,
        normalise_code(request.code),
        request.digits,
        max_failures=MAX_FAILURES,
        window_seconds=LOCK_SECONDS,
    )
    return LookupResult(outcome, case)


async def resolve_turn(
    store: Store, dialog: Dialog, msg: Incoming, turn: Turn, now_ms: int
) -> Turn:
    """Carry out what a turn asked of the store (a lookup, a subscription) and return the turn
    the citizen gets. The dialog stays pure; this is the one place its requests meet I/O."""
    if turn.lookup is not None:
        result = await lookup(store, msg.platform, msg.user_id, turn.lookup)
        turn = dialog.resolve_lookup(turn, result, now_ms)
    if turn.subscribe is not None:
        await store.subscribe(msg.platform, msg.user_id, turn.subscribe, turn.state.lang)
    return turn
