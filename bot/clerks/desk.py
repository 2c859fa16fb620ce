"""The dashboard's clerk registry and notices (issue 12): the same code as `bot clerks …` and
`bot notify`, each change audited.

The registry is changed as the command line changes it (bot/clerks/registry.py: the same
header matching, commune matching and per-row refusals). A notice is sent in two steps: the
preview (`bot notify --dry-run`'s plan: who receives it, on which channel) carries a seal, a
hash of the event, the text and the recipients; sending plans again and queues only when the
seal still matches, so a registry changed between the preview and the confirmation (a clerk
added or removed, a Messenger window closed) is caught and shown again, never sent blind.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

from bot.cases.table import table_of
from bot.clerks.communes import Communes
from bot.clerks.notify import Plan, plan, send
from bot.clerks.registry import BadRow, Refusal, parse_clerks, parse_row
from bot.models.clerks import Clerk
from bot.store import ClerkCounts, QueuedCounts, Store


def mask_id(user_id: str) -> str:
    """A platform user id shown in part: "4558…3532" (enough to tell two apart)."""
    if len(user_id) <= 8:
        return user_id[:2] + "…" + user_id[-2:]
    return user_id[:4] + "…" + user_id[-4:]


def _clerk_json(clerk: Clerk) -> str:
    return json.dumps(
        {
            "name": clerk.name,
            "commune": clerk.commune,
            "platform": clerk.platform.value,
            "user_id": mask_id(clerk.user_id),
        },
        ensure_ascii=False,
    )


# -- the registry ------------------------------------------------------------------------


async def add_clerk(
    store: Store,
    communes: Communes,
    fields: Mapping[str, str],
    actor: str,
    address: str,
    now: float,
) -> Clerk | Refusal:
    """Add one clerk (or update the one with that platform and user id) from the form's
    fields, checked as `bot clerks add` checks them; the refusal when they do not pass."""
    result = parse_row(fields, communes)
    if isinstance(result, Refusal):
        return result
    await store.upsert_clerks([result])
    await store.record_audit(
        actor, "clerks.add", result.name, now, after=_clerk_json(result), address=address
    )
    return result


async def remove_clerk(
    store: Store, clerk_id: int, actor: str, address: str, now: float
) -> Clerk | None:
    """Remove a clerk by registry number (and the record of notices sent to them), audited;
    None when there is no such clerk."""
    found = await store.clerk(str(clerk_id))
    if found is None or found.id != clerk_id:
        return None
    if await store.remove_clerk(clerk_id) < 0:
        return None  # removed by someone else meanwhile
    await store.record_audit(
        actor, "clerks.remove", found.name, now, before=_clerk_json(found), address=address
    )
    return found


@dataclass(frozen=True, slots=True)
class Imported:
    """What an uploaded registry file did: the counts and the rows left out, by line."""

    source: str
    counts: ClerkCounts
    rejected: tuple[BadRow, ...]


async def import_clerks(
    store: Store,
    communes: Communes,
    name: str,
    data: bytes,
    actor: str,
    address: str,
    now: float,
) -> Imported:
    """Import an uploaded CSV or XLSX registry as `bot clerks import` does: good rows kept,
    bad rows reported. `CasesFileError` when the file cannot be read (nothing written)."""
    parsed = parse_clerks(table_of(name, data), communes)
    counts = await store.upsert_clerks(parsed.clerks)
    summary = asdict(counts) | {"rejected": len(parsed.rejected)}
    await store.record_audit(
        actor,
        "clerks.import",
        parsed.source,
        now,
        after=json.dumps(summary, ensure_ascii=False),
        address=address,
    )
    return Imported(parsed.source, counts, parsed.rejected)


# -- notices -----------------------------------------------------------------------------


def seal(planned: Plan) -> str:
    """The hash binding a preview to its confirmation: the event, the text and every
    recipient (who, where, on which channel, and whether it can be sent)."""
    payload = [
        planned.event,
        planned.text,
        [[r.key, r.platform.value, r.address, r.label, r.blocked] for r in planned.recipients],
    ]
    data = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


async def preview(
    store: Store,
    targets: Sequence[str],
    text: str,
    communes: Communes,
    groups: Mapping[str, str],
    window_now: float | None = None,
) -> Plan:
    """Who would receive `text`, as `bot notify --dry-run` lists them (Messenger's window
    judged at `window_now`, default now). `TargetError` when a target names nothing."""
    return await plan(store, targets, text, communes, groups, now=window_now)


@dataclass(frozen=True, slots=True)
class Confirmed:
    """A confirmation: `counts` when it was queued; None when the plan as it is now
    (`planned`) differs from the preview that was confirmed, and nothing was queued."""

    planned: Plan
    counts: QueuedCounts | None


async def confirm(
    store: Store,
    targets: Sequence[str],
    text: str,
    sealed: str,
    communes: Communes,
    groups: Mapping[str, str],
    actor: str,
    address: str,
    now: float,
    *,
    window_now: float | None = None,
) -> Confirmed:
    """Queue the previewed notice (as `bot notify` does) if its recipients are still those
    previewed (`sealed`); otherwise queue nothing and return the plan as it is now. `now` is
    the audit's time; `window_now` the time Messenger's window is judged at (the store's
    clock, as the preview's; default: now)."""
    planned = await plan(store, targets, text, communes, groups, now=window_now)
    if seal(planned) != sealed:
        return Confirmed(planned, None)
    counts = await send(store, planned)
    after = {
        "targets": list(targets),
        "event": planned.event,
        "recipients": [r.label for r in planned.recipients],
        "queued": counts.queued,
        "blocked": counts.blocked,
        "already": counts.already,
    }
    await store.record_audit(
        actor,
        "notify.send",
        planned.text[:200],
        now,
        after=json.dumps(after, ensure_ascii=False),
        address=address,
    )
    return Confirmed(planned, counts)
