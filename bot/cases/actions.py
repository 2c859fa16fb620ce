"""The dossier actions that touch the Store: import an export, look a dossier up for its owner,
forgive a dossier's failed checks (staff).

These `async` functions are the only ones of the package that touch the `Store` they are given
(which runs the SQL in one transaction per call); apart from them, only `table.read_table` does
I/O (it reads the export file).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from bot.cases.lookup import (
    DOSSIER_WINDOW,
    LOCK_SECONDS,
    MAX_FAILURES,
    Throttled,
    allowance,
    dossier_wait,
)
from bot.cases.notices import notifier
from bot.cases.parse import Parsed, Rejected, parse_table
from bot.cases.table import read_table
from bot.cases.topics import TopicResolver
from bot.knowledge import KnowledgeBase
from bot.models import LookupRequest, LookupResult, Platform, normalise_code
from bot.store import ImportCounts, Store
from bot.understanding.matcher import Matcher


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
    """Check the digits against the dossier, under the policy of `bot.cases.lookup`, audited
    (see Store); `Throttled` when the dossier refused, with the time to retry."""
    outcome, case, retry_at = await store.lookup_case(
        platform,
        user_id,
        normalise_code(request.code),
        request.digits,
        max_failures=MAX_FAILURES,
        window_seconds=LOCK_SECONDS,
        dossier_wait=dossier_wait,
        dossier_window=DOSSIER_WINDOW,
        allowance=allowance(platform),
    )
    if retry_at is not None:
        return Throttled(outcome, retry_at=retry_at)
    return LookupResult(outcome, case)


async def unlock(store: Store, code: str, by: str = "", reason: str = "") -> int | None:
    """Staff forgive dossier `code`'s failed checks so its lookups are checked at once again
    (a sender's own lock stays); how many of the last `DOSSIER_WINDOW` were forgiven, or None
    when no dossier has that code. Recorded with `by` and `reason` in case_unlocks."""
    return await store.unlock_case(
        normalise_code(code), by=by, reason=reason, window_seconds=DOSSIER_WINDOW
    )
