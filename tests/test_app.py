"""The server end to end: webhooks in, fake Graph and Zalo servers out, the store in between.

Every test drives `create_app(settings)` through aiohttp's test client, with the Send APIs at
`FakePlatforms` on port 0. Deliveries are awaited on the fake's condition, never by sleeping.
"""

from __future__ import annotations

import asyncio
import json
import sqlite3
import time
import uuid
from collections import Counter
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from bot.bundle import Bundle
from bot.config import Settings
from bot.models import EventKind, Incoming, Outgoing, Platform, Reply
from bot.store import OutboxRecord, Store
from bot.zalo_tokens import ZALO_ACCESS, ZALO_REFRESH
from tests.conftest import (
    FB_PAGE_TOKEN,
    FB_VERIFY_TOKEN,
    ZALO_APP_SECRET,
    FakePlatforms,
    make_settings,
)
from tests.payloads import (
    PSID,
    ZALO_ANONYMOUS_ID,
    ZALO_APP_ID,
    ZALO_CONVERSATION_ID,
    ZALO_TIME,
    encode,
    fb_batch,
    fb_delivery,
    fb_echo,
    fb_postback,
    fb_reaction,
    fb_read,
    fb_sign,
    fb_text,
    zalo_anonymous,
    zalo_image,
    zalo_link,
    zalo_sign,
    zalo_text,
)
from webhooks.app import create_app, startup_lines
from webhooks.keys import STORE_KEY, TURNS_KEY

Client = TestClient[web.Request, web.Application]

QUESTION = "Cho hỏi lệ phí đăng ký kết hôn"


async def start(aiohttp_client: AiohttpClient, settings: Settings, bundle: Bundle) -> Client:
    return await aiohttp_client(create_app(settings, bundle))


def store_of(client: Client) -> Store:
    return client.app[STORE_KEY]


async def settle(client: Client) -> None:
    """Until every turn started so far is committed to the outbox."""
    await client.app[TURNS_KEY].drain()


async def post_facebook(client: Client, payload: Any, secret: str | None = None) -> ClientResponse:
    raw = payload if isinstance(payload, bytes) else encode(payload)
    headers = {"Content-Type": "application/json"}
    headers |= fb_sign(raw) if secret is None else fb_sign(raw, secret)
    return await client.post("/webhooks/facebook", data=raw, headers=headers)


async def post_zalo(client: Client, payload: Any, signed: bool = True) -> ClientResponse:
    raw = encode(payload)
    signature = zalo_sign(raw, timestamp=payload.get("timestamp", ZALO_TIME))
    headers = {"Content-Type": "application/json", **(signature if signed else {})}
    return await client.post("/webhooks/zalo", data=raw, headers=headers)


def replies_for(bundle: Bundle, text: str = QUESTION, payload: str | None = None) -> list[Reply]:
    """What a new conversation answers to `text` (or `payload`), computed on the side."""
    kind = EventKind.TEXT if payload is None else EventKind.POSTBACK
    msg = Incoming(Platform.FACEBOOK, "someone", "m", kind, text, payload)
    return list(bundle.dialog.handle(None, msg, int(time.time() * 1000)).replies)


async def outbox(settings: Settings) -> list[OutboxRecord]:
    """The outbox as a restarted server would find it (call once the app is closed)."""
    store = await Store.open(settings.db_path())
    try:
        return await store.outbox_rows(limit=10_000)
    finally:
        await store.close()


# --- Messenger ---------------------------------------------------------------------------------


async def test_hub_verification(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path), bundle)
    query = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    ok = await client.get(
        "/webhooks/facebook", params={**query, "hub.verify_token": FB_VERIFY_TOKEN}
    )
    assert ok.status == 200
    assert await ok.text() == "1158201444"
    bad = await client.get("/webhooks/facebook", params={**query, "hub.verify_token": "guess"})
    assert bad.status == 403


async def test_bad_signature_is_refused_and_nothing_recorded(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path, platforms.url), bundle)
    payload = fb_batch(fb_text(QUESTION))
    assert (await post_facebook(client, payload, secret="not-the-app-secret")).status == 403
    unsigned = await client.post("/webhooks/facebook", data=encode(payload))
    assert unsigned.status == 403
    assert client.app[TURNS_KEY].queued == 0
    assert await store_of(client).pending_inbound() == []
    assert await store_of(client).outbox_rows() == []
    # The same message, properly signed, is new to the store: it was never recorded.
    assert (await post_facebook(client, payload)).status == 200
    expected = replies_for(bundle)
    await platforms.wait_for(lambda: len(platforms.sent()) == len(expected))
    assert [r.text for r in platforms.sent()] == [r.text for r in expected]
    assert platforms.sent()[0].query["access_token"] == FB_PAGE_TOKEN


async def test_malformed_body_is_400(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path, max_body_bytes=4096), bundle)
    assert (await post_facebook(client, b'{"object": "page", "entry": [')).status == 400
    assert (await post_facebook(client, {"object": "page", "entry": "x"})).status == 400
    assert (await post_facebook(client, b"x" * 5000)).status == 413
    assert await store_of(client).pending_inbound() == []


async def test_a_batch_of_many_events_is_all_answered(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    settings = make_settings(tmp_path, platforms.url)
    client = await start(aiohttp_client, settings, bundle)
    users = [f"psid-{n}" for n in range(40)]
    events = [fb_text(QUESTION, mid=f"m-{u}", sender=u) for u in users]
    assert (await post_facebook(client, fb_batch(*events, per_entry=7))).status == 200
    per_user = len(replies_for(bundle))
    await platforms.wait_for(lambda: len(platforms.sent()) == per_user * len(users))
    received = Counter(r.body["recipient"]["id"] for r in platforms.sent())
    assert received == dict.fromkeys(users, per_user)
    await client.close()
    assert {r.status for r in await outbox(settings)} == {"sent"}


async def test_a_duplicate_delivery_is_answered_once(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    settings = make_settings(tmp_path, platforms.url)
    client = await start(aiohttp_client, settings, bundle)
    payload = fb_batch(fb_text(QUESTION, mid="m-dup"))
    assert (await post_facebook(client, payload)).status == 200
    assert (await post_facebook(client, payload)).status == 200  # Meta's retry (§1.4)
    await settle(client)
    expected = len(replies_for(bundle))
    await platforms.wait_for(lambda: len(platforms.sent()) == expected)
    await client.close()
    rows = await outbox(settings)
    assert [r.status for r in rows] == ["sent"] * expected
    assert len(platforms.sent()) == expected


async def test_echoes_deliveries_and_reads_produce_nothing(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path, platforms.url), bundle)
    payload = fb_batch(fb_echo(), fb_delivery(), fb_read(), fb_reaction())
    assert (await post_facebook(client, payload)).status == 200
    assert client.app[TURNS_KEY].queued == 0
    assert await store_of(client).pending_inbound() == []
    assert await store_of(client).outbox_rows() == []
    assert platforms.received == []


async def test_a_standby_message_is_kept_for_staff_and_never_answered(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    # The Page Inbox owns the thread (platforms.md §2.8): the bot must not reply.
    client = await start(aiohttp_client, make_settings(tmp_path, platforms.url), bundle)
    payload = fb_batch(standby=[fb_text(QUESTION, mid="m-standby")])
    assert (await post_facebook(client, payload)).status == 200
    await client.app[TURNS_KEY].drain()
    store = store_of(client)
    assert await store.pending_inbound() == []
    lines, _ = await store.conversation(Platform.FACEBOOK, PSID)
    assert [(line.speaker.value, line.text) for line in lines] == [("citizen", QUESTION)]
    assert await store.outbox_rows() == []
    assert platforms.received == []


async def test_a_slow_platform_does_not_delay_the_webhook(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    platforms.gate = asyncio.Event()
    client = await start(aiohttp_client, make_settings(tmp_path, platforms.url), bundle)
    async with asyncio.timeout(2):
        first = await post_facebook(client, fb_batch(fb_text(QUESTION, mid="m-a", sender="a")))
    assert first.status == 200
    await platforms.wait_for(lambda: platforms.arrived >= 1)  # a Send API call is hanging now
    async with asyncio.timeout(1):  # Meta wants 200 within seconds (§1.4); it comes at once
        second = await post_facebook(client, fb_batch(fb_text(QUESTION, mid="m-b", sender="b")))
    assert second.status == 200
    assert platforms.received == []
    platforms.gate.set()
    expected = 2 * len(replies_for(bundle))
    await platforms.wait_for(lambda: len(platforms.sent()) == expected)
    assert {r.body["recipient"]["id"] for r in platforms.sent()} == {"a", "b"}


async def test_a_platform_500_is_retried_and_delivered_once(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    platforms.graph_statuses = [500]
    settings = make_settings(tmp_path, platforms.url)
    client = await start(aiohttp_client, settings, bundle)
    assert (await post_facebook(client, fb_batch(fb_postback("MENU")))).status == 200
    expected = replies_for(bundle, payload="MENU")
    assert len(expected) == 1
    await platforms.wait_for(lambda: len(platforms.sent()) == 1)
    await client.close()  # waits for the in-flight send to be recorded
    assert [r.status for r in platforms.received] == [500, 200]
    assert platforms.sent()[0].text == expected[0].text
    (row,) = await outbox(settings)
    assert (row.status, row.attempts) == ("sent", 2)


async def test_a_restart_delivers_pending_work_exactly_once(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    settings = make_settings(tmp_path, platforms.url)
    # 1. Graph is down: the reply to "a" stays in the outbox when the server stops.
    platforms.graph_statuses = [500] * 1000
    client = await start(aiohttp_client, settings, bundle)
    assert (await post_facebook(client, fb_batch(fb_postback("MENU", sender="a")))).status == 200
    await platforms.wait_for(lambda: len(platforms.received) >= 1)
    await client.close()
    assert platforms.sent() == []
    # 2. A SIGKILL right after acknowledging "b": recorded, never handled.
    store = await Store.open(settings.db_path())
    killed = Incoming(Platform.FACEBOOK, "b", "m-killed", EventKind.POSTBACK, "", "MENU")
    assert await store.record_inbound(killed)
    await store.enqueue([Outgoing(Platform.FACEBOOK, "c", Reply("Thông báo lịch nghỉ lễ"))])
    await store.close()
    # 3. Graph is back, the server restarts: everything goes out.
    platforms.graph_statuses = []
    client = await start(aiohttp_client, settings, bundle)
    await platforms.wait_for(
        lambda: {r.body["recipient"]["id"] for r in platforms.sent()} >= {"a", "b", "c"}
    )
    await client.close()
    # 4. Another restart finds nothing left to send.
    client = await start(aiohttp_client, settings, bundle)
    await settle(client)
    assert await store_of(client).backlog() == 0
    await client.close()
    rows = await outbox(settings)
    assert {r.outgoing.user_id for r in rows} == {"a", "b", "c"}
    assert {r.status for r in rows} == {"sent"}
    assert Counter(r.body["recipient"]["id"] for r in platforms.sent()) == Counter(
        r.outgoing.user_id for r in rows
    )


async def test_a_failing_turn_is_logged_and_the_next_one_works(
    aiohttp_client: AiohttpClient,
    tmp_path: Path,
    bundle: Bundle,
    platforms: FakePlatforms,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path, platforms.url), bundle)

    def broken(*args: object) -> None:
        raise RuntimeError("poison")

    with monkeypatch.context() as patch:
        patch.setattr(bundle.dialog, "handle", broken)
        assert (await post_facebook(client, fb_batch(fb_text(mid="m-poison")))).status == 200
        await settle(client)
    assert "facebook message m-poison: handling failed" in caplog.text
    assert await store_of(client).pending_inbound() == []  # marked failed, not retried
    assert (await post_facebook(client, fb_batch(fb_postback("MENU")))).status == 200
    await platforms.wait_for(lambda: len(platforms.sent()) == 1)


async def test_flood_control_sends_one_notice(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path, flood_messages=3), bundle)
    events = [fb_postback("MENU", mid=f"m-{n}") for n in range(7)]
    assert (await post_facebook(client, fb_batch(*events))).status == 200
    await settle(client)
    texts = [r.outgoing.reply.text for r in await store_of(client).outbox_rows()]
    menu = replies_for(bundle, payload="MENU")[0].text
    (notice,) = bundle.dialog.composer.text("flood", "vi")
    assert texts == [menu, menu, menu, notice.text]
    assert await store_of(client).pending_inbound() == []  # the silent ones are handled too


# --- Zalo OA ------------------------------------------------------------------------------------


async def test_zalo_probe_and_signature(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path, platforms.url), bundle)
    probe = await client.post("/webhooks/zalo", data=b"{}")  # unsigned, on saving the URL (§3.1)
    assert probe.status == 200
    assert (await post_zalo(client, zalo_text(), signed=False)).status == 403
    assert await store_of(client).pending_inbound() == []
    assert (await post_zalo(client, zalo_text(QUESTION))).status == 200
    await platforms.wait_for(lambda: len(platforms.sent("/v3.0/oa/message/cs")) >= 1)
    assert platforms.sent()[0].headers["access_token"] == "zalo-access"


async def test_zalo_token_error_refreshes_once_then_sends(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    platforms.zalo_tokens = set()  # the configured access token has expired
    settings = make_settings(tmp_path, platforms.url)
    client = await start(aiohttp_client, settings, bundle)
    store = store_of(client)
    stored_at_use: list[str | None] = []

    async def check_order(sent: Any) -> None:
        if sent.headers["access_token"] == "new-access":
            stored_at_use.append(await store.get_value(ZALO_REFRESH))

    platforms.on_zalo_send = check_order
    users = ["u1", "u2"]
    for user in users:
        assert (
            await post_zalo(client, zalo_text(QUESTION, msg_id=f"z-{user}", sender=user))
        ).status == 200
    await platforms.wait_for(
        lambda: {r.body["recipient"]["user_id"] for r in platforms.sent()} == set(users)
    )
    (refresh,) = [r for r in platforms.received if r.path == "/v4/oa/access_token"]
    assert refresh.body == {
        "refresh_token": "zalo-refresh",
        "app_id": ZALO_APP_ID,
        "grant_type": "refresh_token",
    }
    assert refresh.headers["secret_key"] == ZALO_APP_SECRET
    # The single-use refresh token was stored before the new access token was first used.
    assert stored_at_use and set(stored_at_use) == {"new-refresh"}
    assert await store.get_value(ZALO_ACCESS) == "new-access"


async def test_zalo_links_captions_and_anonymous_users_are_answered(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path, platforms.url), bundle)
    link = zalo_link(f"https://dichvucong.gov.vn {QUESTION}", sender="link-user")
    caption = zalo_image(text=QUESTION, sender="caption-user")
    anonymous = zalo_anonymous(QUESTION)
    for payload in (link, caption, anonymous):
        assert (await post_zalo(client, payload)).status == 200
    expected = replies_for(bundle)
    await platforms.wait_for(lambda: len(platforms.sent()) == 3 * len(expected))
    by_recipient: dict[str, list[str]] = {}
    for sent in platforms.sent():
        who = sent.body["recipient"]
        key = who.get("user_id") or f"{sent.path} {who['anonymous_id']} {who['conversation_id']}"
        by_recipient.setdefault(key, []).append(sent.text)
    anonymous_key = f"/v2.0/oa/message {ZALO_ANONYMOUS_ID} {ZALO_CONVERSATION_ID}"
    assert sorted(by_recipient) == sorted(["link-user", "caption-user", anonymous_key])
    # Each is answered as the question it carries, not with "please send text".
    assert by_recipient["link-user"][0] == by_recipient[anonymous_key][0]
    assert by_recipient["caption-user"][0] == by_recipient[anonymous_key][0]
    assert by_recipient[anonymous_key][0].startswith(expected[0].text[:40])


# --- health, web chat, start-up -----------------------------------------------------------------


async def test_healthz(aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path), bundle)
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {
        "status": "ok",
        "knowledge_version": bundle.kb.version,
        "knowledge_errors": [],
        "platforms": ["facebook", "zalo", "webchat"],
        "outbox_backlog": 0,
        "last_purge_at": None,  # the first purge runs a minute after start-up
        "rows_purged": None,
        "oldest_message_age_seconds": None,
    }


async def test_without_secrets_only_the_web_chat_runs(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle
) -> None:
    settings = make_settings(tmp_path, facebook=False, zalo=False)
    client = await start(aiohttp_client, settings, bundle)
    assert (await client.get("/webhooks/facebook")).status == 404
    assert (await post_facebook(client, fb_batch(fb_text()))).status == 404
    assert (await post_zalo(client, zalo_text())).status == 404
    health = await (await client.get("/healthz")).json()
    assert health["platforms"] == ["webchat"]
    assert any("web chat only" in line for line in startup_lines(settings))


async def test_webchat_page_and_api_round_trip(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path, facebook=False), bundle)
    page = await client.get("/chat")
    assert page.status == 200
    assert page.content_type == "text/html"
    assert "Trợ lý Tư pháp" in await page.text()
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
    assert (await client.get("/chat/static/chat.js")).status == 200

    session = str(uuid.uuid4())
    answer = await client.post("/api/chat", json={"session": session, "text": QUESTION})
    assert answer.status == 200
    replies = (await answer.json())["replies"]
    expected = replies_for(bundle)
    assert [r["text"] for r in replies] == [r.text for r in expected]
    quick = replies[-1]["quick_replies"]
    assert quick and all(set(q) == {"title", "payload"} for q in quick)

    chosen = await client.post(
        "/api/chat", json={"session": session, "payload": quick[0]["payload"]}
    )
    assert chosen.status == 200
    assert (await chosen.json())["replies"]

    for bad in (
        {"session": "x", "text": "hi"},
        {"session": session},
        {"session": session, "text": 5},
    ):
        assert (await client.post("/api/chat", json=bad)).status == 400
    assert await store_of(client).backlog() == 0


# --- hostile input and faults -------------------------------------------------------------------

NESTED = b"[" * 10_000 + b"]" * 10_000
HUGE = b"9" * 5000
HOSTILE = {
    "nested": NESTED,
    "nested-in-an-object": b'{"object":"page","app_id":"'
    + ZALO_APP_ID.encode()
    + b'","x":'
    + NESTED
    + b"}",
    "invalid-utf-8": b'{"object":"page","entry":[],"session":"abcdefgh12","text":"\xff"}',
    "not-an-object": b'["page"]',
    "huge-number": b'{"n":' + HUGE + b"}",
    "huge-exponent": b'{"n":1e999999}',
}


def with_raw(payload: Any, placeholder: str, raw: bytes) -> bytes:
    """`payload` encoded, with the string `placeholder` replaced by raw JSON text."""
    body = encode(payload)
    marker = encode(placeholder)
    assert body.count(marker) == 1
    return body.replace(marker, raw)


async def post_raw(client: Client, route: str, raw: bytes, content_type: str) -> int:
    headers = {"Content-Type": content_type}
    if route == "facebook":
        headers |= fb_sign(raw)
    elif route == "zalo":
        headers |= zalo_sign(raw)
    path = {"facebook": "/webhooks/facebook", "zalo": "/webhooks/zalo"}.get(route, "/api/chat")
    return (await client.post(path, data=raw, headers=headers)).status


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        # Signed Messenger bodies are parsed, so an unreadable one is a 400.
        ("facebook", 400),
        # Zalo's signature is computed over fields of the body: a body that cannot be read
        # cannot be verified, and is refused as unsigned before anything else is read.
        ("zalo", 403),
        ("webchat", 400),
    ],
)
async def test_hostile_bodies_get_a_defined_4xx(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, route: str, expected: int
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path), bundle)
    statuses = {
        name: await post_raw(client, route, raw, "application/json")
        for name, raw in HOSTILE.items()
    }
    assert statuses == dict.fromkeys(HOSTILE, expected)
    assert await store_of(client).pending_inbound() == []


async def test_an_unknown_charset_is_ignored_json_is_utf_8(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path, platforms.url), bundle)
    odd = "application/json; charset=x-no-such-charset"
    fb = encode(fb_batch(fb_text(QUESTION, mid="m-charset", sender="fb-charset")))
    za = encode(zalo_text(QUESTION, msg_id="z-charset", sender="zalo-charset"))
    chat = encode({"session": "charset-session", "text": QUESTION})
    assert await post_raw(client, "facebook", fb, odd) == 200
    assert await post_raw(client, "zalo", za, odd) == 200
    answer = await client.post("/api/chat", data=chat, headers={"Content-Type": odd})
    assert answer.status == 200
    expected = replies_for(bundle)
    assert [r["text"] for r in (await answer.json())["replies"]] == [r.text for r in expected]
    await platforms.wait_for(lambda: len(platforms.sent()) == 2 * len(expected))


async def test_the_zalo_probe_is_recognised_without_parsing(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle
) -> None:
    client = await start(aiohttp_client, make_settings(tmp_path), bundle)
    assert (await client.post("/webhooks/zalo", data=b" {\r\n} ")).status == 200
    for raw in (NESTED, b'{"a":' * 10_000 + b"1" + b"}" * 10_000, b"{}\xff"):
        assert (await client.post("/webhooks/zalo", data=raw)).status == 403


FB_ODD_TIMESTAMPS = {
    "superscript-two": encode(fb_batch(fb_text(QUESTION, timestamp="²"))),
    "5000-digit-string": encode(fb_batch(fb_text(QUESTION, timestamp="9" * 5000))),
    "2^63": encode(fb_batch(fb_text(QUESTION, timestamp=2**63))),
    "5000-digit-number": with_raw(
        fb_batch(fb_text(QUESTION, timestamp="HUGE")),
        "HUGE",
        HUGE,
    ),
}
ZALO_ODD_TIMESTAMPS = {
    "superscript-two": "²",
    "5000-digit-string": "9" * 5000,
    "2^63": str(2**63),
    "negative": "-1751272409784",
}


@pytest.mark.parametrize("case", FB_ODD_TIMESTAMPS)
async def test_an_odd_messenger_timestamp_is_answered(
    aiohttp_client: AiohttpClient,
    tmp_path: Path,
    bundle: Bundle,
    platforms: FakePlatforms,
    case: str,
) -> None:
    settings = make_settings(tmp_path, platforms.url)
    client = await start(aiohttp_client, settings, bundle)
    assert (await post_facebook(client, FB_ODD_TIMESTAMPS[case])).status == 200
    expected = len(replies_for(bundle))
    await platforms.wait_for(lambda: len(platforms.sent()) == expected)
    await client.close()
    # The timestamp is informative only: an odd one is kept as 0, the message is answered.
    assert rows_of(settings, "SELECT timestamp_ms, status FROM inbound") == [(0, "handled")]


@pytest.mark.parametrize("case", ZALO_ODD_TIMESTAMPS)
async def test_an_odd_zalo_timestamp_is_answered(
    aiohttp_client: AiohttpClient,
    tmp_path: Path,
    bundle: Bundle,
    platforms: FakePlatforms,
    case: str,
) -> None:
    settings = make_settings(tmp_path, platforms.url)
    client = await start(aiohttp_client, settings, bundle)
    timestamp = ZALO_ODD_TIMESTAMPS[case]
    raw = encode(zalo_text(QUESTION, timestamp=timestamp))
    headers = zalo_sign(raw, timestamp=timestamp)  # Zalo signs the body's timestamp as is
    assert (await client.post("/webhooks/zalo", data=raw, headers=headers)).status == 200
    expected = len(replies_for(bundle))
    await platforms.wait_for(lambda: len(platforms.sent()) == expected)
    await client.close()
    assert rows_of(settings, "SELECT timestamp_ms, status FROM inbound") == [(0, "handled")]


def rows_of(settings: Settings, query: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(settings.db_path())) as db:
        return db.execute(query).fetchall()


UNSTORABLE_TEXT = f"{QUESTION}\x00\udcff"  # NUL, then a lone surrogate ("x\udcff" in JSON)
STORED_TEXT = f"{QUESTION}\ufffd\ufffd"


def ascii_json(payload: Any) -> bytes:
    """JSON with every non-ASCII character escaped, as Meta sends it (§1.3): the only way a
    lone surrogate can travel in valid UTF-8."""
    return json.dumps(payload, separators=(",", ":")).encode()


async def test_unstorable_text_is_made_storable_and_answered_on_every_route(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    settings = make_settings(tmp_path, platforms.url)
    client = await start(aiohttp_client, settings, bundle)
    fb = ascii_json(fb_batch(fb_text(UNSTORABLE_TEXT, mid="m-bad", sender="fb-user")))
    za = ascii_json(zalo_text(UNSTORABLE_TEXT, msg_id="z-bad", sender="zalo-user"))
    assert await post_raw(client, "facebook", fb, "application/json") == 200
    assert await post_raw(client, "zalo", za, "application/json") == 200
    chat = await client.post("/api/chat", json={"session": "web-user", "text": UNSTORABLE_TEXT})
    assert chat.status == 200
    assert (await chat.json())["replies"]
    await platforms.wait_for(lambda: len(platforms.sent()) == 2 * len(replies_for(bundle)))
    await client.close()
    stored = rows_of(settings, "SELECT platform, text, length(text), status FROM inbound")
    assert sorted(stored) == [
        (platform, STORED_TEXT, len(STORED_TEXT), "handled")
        for platform in ("facebook", "webchat", "zalo")
    ]


async def test_a_bad_web_chat_message_fails_no_signed_webhook_recorded_with_it(
    aiohttp_client: AiohttpClient,
    tmp_path: Path,
    bundle: Bundle,
    platforms: FakePlatforms,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    settings = make_settings(tmp_path, platforms.url)
    client = await start(aiohttp_client, settings, bundle)
    store, turns = store_of(client), client.app[TURNS_KEY]
    fb_users = [f"fb-{n}" for n in range(4)]
    zalo_users = [f"zalo-{n}" for n in range(4)]
    total = 1 + 1 + len(fb_users) + len(zalo_users)  # the first webhook, the web chat, the rest
    # Every request is recorded in ONE group commit: the first one's recording is held until
    # all of them are waiting, so all the others share the next commit.
    callers, first_held, everyone = 0, asyncio.Event(), asyncio.Event()
    accept_many, record_inbound_many = turns.accept_many, store.record_inbound_many

    def counting(msgs: Any) -> Any:
        nonlocal callers
        callers += 1
        if callers == total:
            everyone.set()
        return accept_many(msgs)

    async def held(msgs: Any) -> list[bool]:
        first_held.set()
        async with asyncio.timeout(5):  # turns a miscount into a failure, not a hang
            await everyone.wait()
        return await record_inbound_many(msgs)

    monkeypatch.setattr(turns, "accept_many", counting)
    monkeypatch.setattr(store, "record_inbound_many", held)
    first = asyncio.create_task(
        post_facebook(client, fb_batch(fb_text(QUESTION, mid="m-first", sender="fb-first")))
    )
    await first_held.wait()
    chat = asyncio.create_task(
        client.post("/api/chat", json={"session": "web-chat-bad", "text": "x\udcff"})
    )
    signed = [
        *(
            post_facebook(client, fb_batch(fb_text(QUESTION, mid=f"m-{u}", sender=u)))
            for u in fb_users
        ),
        *(post_zalo(client, zalo_text(QUESTION, msg_id=f"z-{u}", sender=u)) for u in zalo_users),
    ]
    responses = await asyncio.gather(first, *signed)
    assert [r.status for r in responses] == [200] * (1 + len(fb_users) + len(zalo_users))
    assert (await chat).status == 200
    per_user = len(replies_for(bundle))
    users = ["fb-first", *fb_users, *zalo_users]

    def recipient(r: Any) -> str:
        return str(r.body["recipient"].get("id") or r.body["recipient"].get("user_id"))

    await platforms.wait_for(lambda: len(platforms.sent()) == per_user * len(users))
    await client.close()
    assert Counter(recipient(r) for r in platforms.sent()) == dict.fromkeys(users, per_user)
