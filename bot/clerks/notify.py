"""Notices to commune clerks: who a target names, on which channel, and queuing them once.

Targets: `group:NAME` (a Zalo group the OA owns, from settings `clerk_groups`), `all` (every
clerk in the registry), `commune:NAME` (the clerks of one commune or ward), `clerk:ID` (one
clerk, by registry number or platform user id). A group gets one Zalo group message (the Group
Message Framework, platforms.md §3.9); a clerk gets a Zalo OA message or a Messenger message.

Messenger has no group API and lets a Page write only within 24 hours of the person's last
message (platforms.md §2.5): the window is known from the last message the store saw from that
PSID (`conversations.last_inbound_at`); a clerk outside it is not sent anything and the notice
is recorded as failed with that reason. Zalo CS messages need an interaction within 7 days
(§3.5), which following the OA counts as and the store may not have seen: they are sent, and
a refusal (-230) is recorded with the platform's reason.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.cases.notices import window_open
from bot.clerks.communes import Communes, UnknownCommuneError
from bot.clerks.registry import unknown_commune
from bot.models import Platform
from bot.models.clerks import Clerk, Recipient
from bot.store import QueuedCounts, Store

MAX_TEXT_CHARS = 4000  # two platform messages at most (each platform splits at 2,000)


class TargetError(ValueError):
    """A target names nothing that can be sent to; the message says why (in English for the
    command line; `vi` in Vietnamese for the dashboard)."""

    def __init__(self, message: str, vi: str) -> None:
        super().__init__(message)
        self.vi = vi


@dataclass(frozen=True, slots=True)
class Plan:
    """Who a notice goes to: the recipients in order, each once."""

    event: str
    text: str
    recipients: tuple[Recipient, ...]


def default_event(text: str) -> str:
    """The once-only key of a notice typed by staff: the same text goes to a recipient once."""
    return "notify:" + hashlib.sha256(text.strip().encode()).hexdigest()[:16]


def clerk_recipient(
    clerk: Clerk, communes: Communes, last_inbound_at: float | None, now: float
) -> Recipient:
    """A clerk as an addressee; on Messenger, blocked outside the 24-hour window."""
    commune = communes.by_code(clerk.commune)
    where = commune.label if commune is not None else clerk.commune
    blocked = None
    if clerk.platform is Platform.FACEBOOK and not window_open(
        Platform.FACEBOOK, last_inbound_at, now
    ):
        blocked = "outside Messenger's 24-hour window: the clerk has not written to the Page" + (
            "" if last_inbound_at is None else " in the last 24 hours"
        )
    return Recipient(
        key=f"clerk:{clerk.platform.value}:{clerk.user_id}",
        label=f"{clerk.name} ({where})",
        platform=clerk.platform,
        address=clerk.user_id,
        blocked=blocked,
    )


def group_recipient(name: str, groups: Mapping[str, str]) -> Recipient:
    group_id = groups.get(name)
    if group_id is None:
        known = ", ".join(sorted(groups)) or "none in config.yaml (clerk_groups)"
        known_vi = ", ".join(sorted(groups)) or "chưa khai báo nhóm nào (clerk_groups)"
        raise TargetError(
            f"no Zalo group named {name!r}; known: {known}",
            f"không có nhóm Zalo «{name}»; các nhóm đã khai báo: {known_vi}",
        )
    return Recipient(
        key=f"group:{name}",
        label=f"Zalo group {name}",
        platform=Platform.ZALO_GROUP,
        address=group_id,
    )


async def plan(
    store: Store,
    targets: Sequence[str],
    text: str,
    communes: Communes,
    groups: Mapping[str, str],
    event: str | None = None,
    now: float | None = None,
) -> Plan:
    """The recipients of `text` for `targets`, each once. `TargetError` for a target that
    names nothing (an unknown group, commune or clerk, or a commune without clerks)."""
    text = text.strip()
    if not text:
        raise TargetError("the notice is empty", "nội dung thông báo đang trống")
    if len(text) > MAX_TEXT_CHARS:
        raise TargetError(
            f"the notice is longer than {MAX_TEXT_CHARS} characters",
            f"nội dung dài quá {MAX_TEXT_CHARS} ký tự",
        )
    if not targets:
        raise TargetError(
            "no target: group:NAME, all, commune:NAME or clerk:ID",
            "chưa chọn nơi nhận: group:TÊN, all, commune:TÊN hoặc clerk:SỐ",
        )
    moment = time.time() if now is None else now
    recipients: dict[str, Recipient] = {}
    for target in targets:
        for r in await _resolve(store, target.strip(), communes, groups, moment):
            recipients.setdefault(r.key, r)
    return Plan(event or default_event(text), text, tuple(recipients.values()))


async def _resolve(
    store: Store, target: str, communes: Communes, groups: Mapping[str, str], now: float
) -> list[Recipient]:
    kind, _, name = target.partition(":")
    kind, name = kind.strip().lower(), name.strip()
    if kind == "group" and name:
        return [group_recipient(name, groups)]
    if kind == "all" and not name:
        clerks = await store.clerks()
        if not clerks:
            raise TargetError(
                "the clerk registry is empty: `bot clerks import FILE` first",
                "danh sách cán bộ đang trống: cần nhập danh sách trước",
            )
        return await _clerks(store, clerks, communes, now)
    if kind == "commune" and name:
        try:
            commune = communes.find(name)
        except UnknownCommuneError as exc:
            raise TargetError(str(exc), unknown_commune(exc).vi) from exc
        clerks = await store.clerks(commune.code)
        if not clerks:
            raise TargetError(
                f"no clerk of {commune.label} in the registry",
                f"{commune.label} chưa có cán bộ nào trong danh sách",
            )
        return await _clerks(store, clerks, communes, now)
    if kind == "clerk" and name:
        clerk = await store.clerk(name)
        if clerk is None:
            raise TargetError(
                f"no clerk {name!r} in the registry (see `bot clerks list`)",
                f"không có cán bộ «{name}» trong danh sách",
            )
        return await _clerks(store, [clerk], communes, now)
    raise TargetError(
        f"unknown target {target!r}: group:NAME, all, commune:NAME or clerk:ID",
        f"nơi nhận «{target}» không hợp lệ: group:TÊN, all, commune:TÊN hoặc clerk:SỐ",
    )


async def _clerks(
    store: Store, clerks: Iterable[Clerk], communes: Communes, now: float
) -> list[Recipient]:
    out = []
    for clerk in clerks:
        last = await store.last_inbound_at(clerk.platform, clerk.user_id)
        out.append(clerk_recipient(clerk, communes, last, now))
    return out


async def send(store: Store, planned: Plan) -> QueuedCounts:
    """Queue the planned notice in the outbox, once per recipient for its event."""
    return await store.queue_notice(planned.event, planned.text, planned.recipients)
