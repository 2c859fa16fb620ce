"""Notices to subscribers (bot/cases/notices.py): sent by the import when a status changes, only
while the platform's messaging window is open."""

from __future__ import annotations

from pathlib import Path

from bot.bundle import Bundle
from bot.cases.actions import import_file
from bot.models import EventKind, Incoming, Platform
from bot.store import Store
from tests.case_builders import (
    csv_bytes,
    row,
    write,
)
from tests.conftest import FakeClock

FB, ZALO = Platform.FACEBOOK, Platform.ZALO


async def test_notices_respect_each_platforms_messaging_window(
    tmp_path: Path, store: Store, clock: FakeClock, bundle: Bundle
) -> None:
    codes = ["H56-FB-NEW", "H56-FB-OLD", "H56-ZALO", "H56-ZALO-OLD"]
    await import_file(store, write(tmp_path, csv_bytes([row(code=c) for c in codes])), bundle.kb)
    users = {"H56-FB-NEW": (FB, "fb-new"), "H56-FB-OLD": (FB, "fb-old"),
             "H56-ZALO": (ZALO, "zalo-3d"), "H56-ZALO-OLD": (ZALO, "zalo-8d")}  # fmt: skip
    last_message = {"fb-new": 0, "fb-old": 25, "zalo-3d": 72, "zalo-8d": 8 * 24}  # hours ago
    start = clock.now
    for user, hours in sorted(last_message.items(), key=lambda kv: -kv[1]):
        clock.now = start - hours * 3600
        platform = ZALO if user.startswith("zalo") else FB
        await store.record_inbound(Incoming(platform, user, f"m-{user}", EventKind.TEXT, "hi"))
    clock.now = start
    for code, (platform, user) in users.items():
        await store.subscribe(platform, user, code, "en" if user == "fb-new" else "vi")
    ready = [row(code=c, status="Đã có kết quả", unit="UBND xã Tân Trào") for c in codes]
    summary = await import_file(store, write(tmp_path, csv_bytes(ready)), bundle.kb)
    assert (summary.counts.notices_queued, summary.counts.notices_undeliverable) == (2, 2)
    sent = {r.outgoing.user_id: r.outgoing.reply.text for r in await store.outbox_rows()}
    assert set(sent) == {"fb-new", "zalo-3d"}
    assert sent["fb-new"].startswith("An update on your file H56-FB-NEW")
    assert "Please collect the result at UBND xã Tân Trào" in sent["fb-new"]
    assert "Mời Anh/chị nhận kết quả tại UBND xã Tân Trào" in sent["zalo-3d"]
    notices = {(n["user_id"], n["outcome"]) for n in await store.case_rows("case_notices")}
    assert notices == {("fb-new", "queued"), ("fb-old", "undeliverable"),
                       ("zalo-3d", "queued"), ("zalo-8d", "undeliverable")}  # fmt: skip
    # "Khi có kết quả": told once the result is there, the subscription ends.
    subs = await store.case_rows("case_subscriptions")
    assert {s["active"] for s in subs} == {0}
