"""The dossier lookup end to end: through the Messenger webhook and the web chat, with the fake
Graph server of conftest receiving the replies and the status-change notice."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path

from pytest_aiohttp import AiohttpClient

from bot.bundle import Bundle
from bot.cases.actions import import_file
from bot.workdays import working_days_between
from tests.case_builders import (
    CODE,
    export,
    vn_today,
)
from tests.conftest import FakePlatforms, make_settings
from tests.payloads import PSID, fb_batch, fb_quick_reply, fb_text
from tests.test_app import Client, post_facebook, settle, start, store_of
from webhooks.keys import WORKER_KEY

# --- end to end: Messenger and the web chat, with the fake Graph server -------------------------


async def fb_say(
    client: Client, platforms: FakePlatforms, text: str, sender: str = PSID, payload: str = ""
) -> str:
    """Send one message as `sender`; the replies Graph received for it, joined."""
    before = len(platforms.sent())
    mid = f"m-{uuid.uuid4().hex}"
    event = (
        fb_quick_reply(payload, title=text, mid=mid, sender=sender)
        if payload
        else fb_text(text, mid=mid, sender=sender)
    )
    assert (await post_facebook(client, fb_batch(event))).status == 200
    await settle(client)
    queued = len(await store_of(client).outbox_rows(limit=100_000))
    await platforms.wait_for(lambda: len(platforms.sent()) == queued)
    sent = platforms.sent()[before:]
    assert {r.body["recipient"]["id"] for r in sent} == {sender}
    return "\n\n".join(r.text for r in sent)


async def fb_wait(client: Client, platforms: FakePlatforms, text: str, expected: str) -> str:
    """Send `text` on Messenger and wait for a reply holding `expected` (unlike `fb_say`, with
    web chat replies in the outbox too); the replies Graph received since, joined."""
    before = len(platforms.sent())
    event = fb_text(text, mid=f"m-{uuid.uuid4().hex}")
    assert (await post_facebook(client, fb_batch(event))).status == 200
    await platforms.wait_for(lambda: any(expected in r.text for r in platforms.sent()[before:]))
    return "\n\n".join(r.text for r in platforms.sent()[before:])


async def test_messenger_lookup_right_wrong_unknown_and_lock(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path, platforms.url), bundle)
    await import_file(store_of(client), export(tmp_path), bundle.kb, bundle.matcher)

    asked = await fb_say(client, platforms, "tra cứu hồ sơ")
    assert "mã hồ sơ" in asked
    assert "4 số cuối" in await fb_say(client, platforms, CODE)
    status = await fb_say(client, platforms, "5678")
    assert "Người nộp: Nguyễn T. H." in status and "Tình trạng: Đang được giải quyết" in status
    assert "Thủ tục: Đăng ký khai sinh" in status
    # Due 5 days from today: the working days left skip the weekend (and any holiday).
    due = vn_today() + dt.timedelta(days=5)
    left = working_days_between(vn_today(), due)
    assert f"(hẹn trả ngày {due:%d/%m/%Y}, còn {left} ngày làm việc)" in status
    assert "0912" not in status and "5678" not in status

    # Wrong digits and an unknown code: the very same answer.
    await fb_say(client, platforms, CODE, sender="stranger")
    wrong = await fb_say(client, platforms, "1111", sender="stranger")
    await fb_say(client, platforms, "H56-999999-9999", sender="stranger")
    unknown = await fb_say(client, platforms, "5678", sender="stranger")
    assert wrong == unknown and "chưa tìm thấy hồ sơ" in wrong

    # Three more failures make five for this sender: locked, right digits or not.
    for digits in ("2222", "3333"):
        assert await fb_say(client, platforms, digits, sender="stranger") == wrong
    assert "tạm khóa trong 24 giờ" in await fb_say(client, platforms, "4444", sender="stranger")
    await fb_say(client, platforms, "H56-250701-0002", sender="stranger")
    assert "tạm khóa" in await fb_say(client, platforms, "4321", sender="stranger")
    audit = await store_of(client).case_rows("case_lookups")
    assert [a["outcome"] for a in audit] == ["found"] + ["no_match"] * 5 + ["locked"]


async def test_messenger_subscription_then_status_change_then_notice(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path, platforms.url), bundle)
    store = store_of(client)
    await import_file(store, export(tmp_path), bundle.kb, bundle.matcher)
    await fb_say(client, platforms, f"hồ sơ {CODE} đến đâu rồi")
    await fb_say(client, platforms, "5678")
    subscribed = await fb_say(
        client, platforms, "Báo khi có kết quả", payload=f"CASE_SUBSCRIBE:{CODE}"
    )
    assert f"khi hồ sơ {CODE} thay đổi tình trạng" in subscribed

    before = len(platforms.sent())
    summary = await import_file(store, export(tmp_path, "Đã có kết quả"), bundle.kb)
    assert (summary.counts.status_changes, summary.counts.notices_queued) == (1, 1)
    client.app[WORKER_KEY].wake()
    await platforms.wait_for(lambda: len(platforms.sent()) > before)
    (notice,) = platforms.sent()[before:]
    assert notice.body["recipient"]["id"] == PSID
    assert notice.text.startswith(f"Hồ sơ {CODE} của Anh/chị vừa được cập nhật:")
    assert "Mời Anh/chị nhận kết quả tại UBND xã Minh Xuân" in notice.text


async def test_web_chat_lookup(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path, facebook=False), bundle)
    await import_file(store_of(client), export(tmp_path), bundle.kb, bundle.matcher)

    async def chat(session: str, text: str) -> str:
        answer = await client.post("/api/chat", json={"session": session, "text": text})
        assert answer.status == 200
        return "\n\n".join(r["text"] for r in (await answer.json())["replies"])

    owner, other = str(uuid.uuid4()), str(uuid.uuid4())
    assert "4 số cuối" in await chat(owner, f"mã hồ sơ {CODE}")
    status = await chat(owner, "5678")
    assert "Nguyễn T. H." in status and "Ngày hẹn trả kết quả" in status
    await chat(other, CODE)
    wrong = await chat(other, "0000")
    await chat(other, "H56-000000-0000")
    assert await chat(other, "5678") == wrong


async def test_an_attack_from_fresh_web_chat_sessions_spares_the_owners(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path, platforms.url), bundle)
    await import_file(store_of(client), export(tmp_path), bundle.kb, bundle.matcher)

    async def chat(session: str, text: str) -> str:
        answer = await client.post("/api/chat", json={"session": session, "text": text})
        assert answer.status == 200
        return "\n\n".join(r["text"] for r in (await answer.json())["replies"])

    owner = str(uuid.uuid4())
    await chat(owner, CODE)
    assert "Người nộp: Nguyễn T. H." in await chat(owner, "5678")
    for _ in range(5):  # five fresh sessions, one wrong guess each: no sender is ever locked
        attacker = str(uuid.uuid4())
        await chat(attacker, CODE)
        assert "chưa tìm thấy hồ sơ" in await chat(attacker, "0000")
    # A new owner on the web chat, right digits: told when to retry and whom to ask.
    newcomer = str(uuid.uuid4())
    await chat(newcomer, CODE)
    told = await chat(newcomer, "5678")
    assert "thử lại sau" in told and "nơi đã nộp hồ sơ" in told and "Nguyễn T. H." not in told
    # The owner who found it before still does; so does a new owner on Messenger.
    await chat(owner, CODE)
    assert "Người nộp: Nguyễn T. H." in await chat(owner, "5678")
    assert "4 số cuối" in await fb_wait(client, platforms, CODE, "4 số cuối")
    assert "Nguyễn T. H." in await fb_wait(client, platforms, "5678", "Người nộp: Nguyễn T. H.")
    audit = await store_of(client).case_rows("case_lookups")
    assert [a["outcome"] for a in audit] == ["found"] + ["no_match"] * 5 + ["locked"] + [
        "found"
    ] * 2
