"""Proof under faults: the platforms failing mid-run, the database locked, the disk full.

Platform faults run end to end: real signed webhooks into `create_app`, replies out to
`FakePlatforms`, which fails on demand (`FakePlatforms.fail`) and recovers (`heal`). Several
users each send several messages while a Send API is down; every reply must then arrive once,
in each user's order. Database faults prove the other direction: a webhook whose messages could
not be recorded answers 5xx (the platform retries it later, platforms.md §1.4 and §3.1) instead
of a 200 for something lost, and the retry is answered once the database takes writes again.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import pytest
from aiohttp import ClientResponse, web
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from bot.bundle import Bundle
from bot.config import Settings
from bot.models import EventKind, Incoming, Outgoing, Platform
from bot.store import OutboxRecord, Store
from tests.conftest import NO_ANSWER, FakePlatforms, Fault, Received, make_settings
from tests.payloads import encode, fb_batch, fb_sign, fb_text, zalo_sign, zalo_text
from webhooks import facebook, zalo
from webhooks.app import create_app

Client = TestClient[web.Request, web.Application]

FB, ZALO = Platform.FACEBOOK, Platform.ZALO
SEND_PATH = {FB: "/me/messages", ZALO: "/v3.0/oa/message/cs"}
USERS = ("u1", "u2", "u3")
QUESTIONS = (
    "Cho hỏi lệ phí đăng ký kết hôn",
    "làm giấy khai sinh cho con cần gì",
    "chứng thực bản sao mất bao lâu",
)
# Fast retries, and enough attempts that no reply is given up while a fault lasts: what these
# tests prove is recovery (giving up is tests/test_delivery.py's).
RETRIES: dict[str, Any] = {"retry_base_seconds": 0.05, "retry_max_seconds": 0.2, "max_attempts": 50}
SECONDS = 10.0  # bound of every wait: far above what each step takes


# --- helpers ------------------------------------------------------------------------------------


async def start(aiohttp_client: AiohttpClient, settings: Settings, bundle: Bundle) -> Client:
    return await aiohttp_client(create_app(settings, bundle))


def webhook(platform: Platform, user: str, n: int) -> tuple[str, bytes, dict[str, str]]:
    """The signed POST a platform makes for `user`'s message number `n`: path, body, headers."""
    text = QUESTIONS[n % len(QUESTIONS)]
    if platform is FB:
        raw = encode(fb_batch(fb_text(text, mid=f"m-{user}-{n}", sender=user)))
        return "/webhooks/facebook", raw, {"Content-Type": "application/json", **fb_sign(raw)}
    raw = encode(zalo_text(text, msg_id=f"z-{user}-{n}", sender=user))
    return "/webhooks/zalo", raw, {"Content-Type": "application/json", **zalo_sign(raw)}


async def post(client: Client, platform: Platform, user: str, n: int) -> ClientResponse:
    path, raw, headers = webhook(platform, user, n)
    return await client.post(path, data=raw, headers=headers)


async def converse(client: Client, platform: Platform, rounds: range) -> None:
    """Each user sends one message per round, the users side by side; every webhook gets 200."""
    for n in rounds:
        answers = await asyncio.gather(*(post(client, platform, user, n) for user in USERS))
        assert [a.status for a in answers] == [200] * len(USERS)


def expected_texts(bundle: Bundle, platform: Platform, rounds: range) -> list[str]:
    """The Send API texts one user's conversation makes, in order, computed on the side."""
    state, texts = None, []
    for n in rounds:
        msg = Incoming(platform, "someone", f"m{n}", EventKind.TEXT, QUESTIONS[n % len(QUESTIONS)])
        turn = bundle.dialog.handle(state, msg, int(time.time() * 1000))
        state = turn.state
        render = facebook.render if platform is FB else zalo.render
        for reply in turn.replies:
            texts.extend(b["message"]["text"] for b in render(Outgoing(platform, "x", reply)))
    return texts


def recipient(r: Received) -> str:
    to = r.body["recipient"]
    return str(to["id"] if "id" in to else to["user_id"])


def by_user(requests: list[Received]) -> dict[str, list[Received]]:
    seen: dict[str, list[Received]] = defaultdict(list)
    for r in requests:
        seen[recipient(r)].append(r)
    return seen


def delivered(platforms: FakePlatforms, platform: Platform) -> dict[str, list[str]]:
    """Per user, the texts the Send API accepted, in the order it accepted them."""
    sent = platforms.sent(SEND_PATH[platform])
    return {user: [r.text for r in rs] for user, rs in by_user(sent).items()}


def refused(platforms: FakePlatforms, platform: Platform) -> Counter[str]:
    """Per user, the Send API calls that failed (refused or never answered)."""
    path = SEND_PATH[platform]
    return Counter(recipient(r) for r in platforms.received if r.path == path and r.status != 200)


async def outbox(settings: Settings) -> list[OutboxRecord]:
    """The outbox as a restarted server would find it (call once the app is closed)."""
    store = await Store.open(settings.db_path())
    try:
        return await store.outbox_rows(limit=10_000)
    finally:
        await store.close()


async def run_through_fault(
    client: Client,
    platforms: FakePlatforms,
    platform: Platform,
    fault: Fault,
    bundle: Bundle,
    failures: int = 2,
) -> dict[str, list[str]]:
    """Round 0 is answered; the Send API then fails with `fault` while rounds 1 and 2 come in,
    until each user's reply was refused `failures` times (retries against a platform still
    down); it heals and every reply must follow. Returns what each user was expecting."""
    first = expected_texts(bundle, platform, range(1))
    await converse(client, platform, range(1))
    await platforms.wait_for(
        lambda: all(len(delivered(platforms, platform).get(u, [])) == len(first) for u in USERS)
    )
    platforms.fail(SEND_PATH[platform], fault)
    await converse(client, platform, range(1, 3))
    await platforms.wait_for(
        lambda: all(refused(platforms, platform)[u] >= failures for u in USERS), SECONDS
    )
    assert {u: len(texts) for u, texts in delivered(platforms, platform).items()} == dict.fromkeys(
        USERS, len(first)
    ), "a reply went out while the platform was failing"
    platforms.heal()
    want = expected_texts(bundle, platform, range(3))
    await platforms.wait_for(
        lambda: all(len(delivered(platforms, platform).get(u, [])) >= len(want) for u in USERS),
        SECONDS,
    )
    return dict.fromkeys(USERS, want)


async def assert_all_sent_once(settings: Settings, want: dict[str, list[str]]) -> None:
    rows = await outbox(settings)
    assert [r.status for r in rows] == ["sent"] * sum(len(texts) for texts in want.values())


# --- the platform failing mid-run ---------------------------------------------------------------

HANG = Fault(hang=True)
GRAPH_500 = Fault(500, {"error": {"message": "An unexpected error has occurred.", "code": 1}})
ZALO_502 = Fault(502)  # a proxy's error page: no Zalo error code in it
GRAPH_429 = Fault(
    429,
    {"error": {"message": "Calls to this api have exceeded the rate limit.", "code": 613}},
    {"Retry-After": "1"},
)


@pytest.mark.parametrize("platform", [FB, ZALO], ids=["messenger", "zalo"])
async def test_send_timeouts_then_recovery_deliver_each_reply_once_in_order(
    aiohttp_client: AiohttpClient,
    tmp_path: Path,
    bundle: Bundle,
    platforms: FakePlatforms,
    platform: Platform,
) -> None:
    """The Send API stops answering mid-run (each call hangs past the send timeout): every
    attempt times out after `send_timeout_seconds`, is retried, and once the platform answers
    again every reply arrives exactly once, in each user's order. A hung call never counts as
    sent (its answer comes after the client gave up), and the webhooks kept answering 200."""
    settings = make_settings(tmp_path, platforms.url, send_timeout_seconds=0.2, **RETRIES)
    client = await start(aiohttp_client, settings, bundle)
    want = await run_through_fault(client, platforms, platform, HANG, bundle)
    await client.close()  # waits for in-flight sends to be recorded
    assert delivered(platforms, platform) == want
    assert {r.status for r in platforms.received} == {200, NO_ANSWER}
    await assert_all_sent_once(settings, want)


@pytest.mark.parametrize(
    ("platform", "fault"), [(FB, GRAPH_500), (ZALO, ZALO_502)], ids=["messenger", "zalo"]
)
async def test_server_errors_then_recovery_deliver_each_reply_once_in_order(
    aiohttp_client: AiohttpClient,
    tmp_path: Path,
    bundle: Bundle,
    platforms: FakePlatforms,
    platform: Platform,
    fault: Fault,
) -> None:
    """The Send API answers 5xx mid-run: the replies wait in the outbox with backoff (a user's
    later replies behind the first), and after recovery each arrives exactly once, in order."""
    settings = make_settings(tmp_path, platforms.url, **RETRIES)
    client = await start(aiohttp_client, settings, bundle)
    want = await run_through_fault(client, platforms, platform, fault, bundle)
    await client.close()
    assert delivered(platforms, platform) == want
    # Only each user's oldest reply is ever tried while the platform fails: order holds.
    first = expected_texts(bundle, platform, range(2))[
        len(expected_texts(bundle, platform, range(1)))
    ]
    failed = [r for r in platforms.received if r.status == fault.status]
    assert {r.text for r in failed} == {first}
    await assert_all_sent_once(settings, want)


async def test_429_with_retry_after_is_waited_out_then_each_reply_arrives_once(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    """Graph rate-limits mid-run (HTTP 429, code 613, Retry-After: 1): no user's next call
    comes before the Retry-After has passed, although our own backoff (at most 0.2 s here)
    would have tried five times over; then every reply arrives once, in order. The times
    are the fake's record of each call on the same clock the outbox schedules retries on."""
    settings = make_settings(tmp_path, platforms.url, **RETRIES)
    client = await start(aiohttp_client, settings, bundle)
    want = await run_through_fault(client, platforms, FB, GRAPH_429, bundle, failures=1)
    await client.close()
    assert delivered(platforms, FB) == want
    calls = by_user([r for r in platforms.received if r.path == SEND_PATH[FB]])
    waits = [
        later.at - limited.at
        for user in USERS
        for limited, later in zip(calls[user], calls[user][1:], strict=False)
        if limited.status == 429
    ]
    assert len(waits) >= len(USERS)
    assert min(waits) >= 1.0, waits
    await assert_all_sent_once(settings, want)


async def test_zalo_token_expiring_mid_run_is_refreshed_once_and_sends_resume(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    """The OA access token expires mid-run (-220, platforms.md §3.8) while several users'
    replies are being sent at once: ONE refresh spends the single-use refresh token, each
    refused send is retried at once with the new token (no backoff, no extra attempt), and
    every reply arrives once, in order."""
    settings = make_settings(tmp_path, platforms.url, **RETRIES)
    client = await start(aiohttp_client, settings, bundle)
    first = expected_texts(bundle, ZALO, range(1))
    await converse(client, ZALO, range(1))
    await platforms.wait_for(
        lambda: all(len(delivered(platforms, ZALO).get(u, [])) == len(first) for u in USERS)
    )
    platforms.zalo_tokens.discard("zalo-access")
    platforms.zalo_expired.add("zalo-access")
    await converse(client, ZALO, range(1, 3))
    want = dict.fromkeys(USERS, expected_texts(bundle, ZALO, range(3)))
    await platforms.wait_for(
        lambda: all(len(delivered(platforms, ZALO).get(u, [])) >= len(want[u]) for u in USERS),
        SECONDS,
    )
    await client.close()
    assert delivered(platforms, ZALO) == want
    (refresh,) = [r for r in platforms.received if r.path == "/v4/oa/access_token"]
    assert refresh.body["refresh_token"] == "zalo-refresh"
    sends = [r for r in platforms.received if r.path == SEND_PATH[ZALO]]
    old = Counter(r.status for r in sends if r.headers["access_token"] == "zalo-access")
    # Round 0 went out with the old token; after it expired, at most the sends already under
    # way used it (one per user), and every reply since went out with the new one.
    assert old[200] == len(USERS) * len(first)
    assert 1 <= old[401] <= len(USERS)
    assert {r.headers["access_token"] for r in sends if r.status == 200} == {
        "zalo-access",
        "new-access",
    }
    rows = await outbox(settings)
    assert [(r.status, r.attempts) for r in rows] == [("sent", 1)] * len(rows)
