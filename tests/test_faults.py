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
import dataclasses
import errno
import os
import sqlite3
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import closing, contextmanager
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
from bot.store import engine as store_engine
from tests.conftest import NO_ANSWER, FakePlatforms, Fault, Received, make_settings
from tests.payloads import encode, fb_batch, fb_sign, fb_text, zalo_sign, zalo_text
from tests.test_store import store_thread_held
from webhooks import facebook, zalo
from webhooks.app import create_app
from webhooks.keys import BUNDLE_KEY, STORE_KEY, WORKER_KEY

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


# --- the database refusing writes: locked by another process, the disk full ---------------------


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MiB tmpfs mounted inside tmp_path, unmounted after the test (root only)."""
    if os.geteuid() != 0:
        pytest.skip("a full filesystem needs a small tmpfs, and mounting one needs root")
    disk = tmp_path / "disk"
    disk.mkdir()
    mount = ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(disk)]
    try:
        mounted = subprocess.run(mount, capture_output=True, text=True, timeout=30, check=False)
    except FileNotFoundError:
        pytest.skip("no mount command here")
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield disk
    finally:
        if subprocess.run(["umount", str(disk)], capture_output=True, check=False).returncode:
            subprocess.run(["umount", "-l", str(disk)], check=True)  # a file still open: lazily


def fill(disk: Path) -> Path:
    """Fill `disk` to the last byte with one file; delete it to give the space back."""
    filler = disk / "filler"
    fd = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_EXCL)
    try:
        for chunk in (1 << 16, 1 << 12, 1):
            try:
                while True:
                    os.write(fd, bytes(chunk))
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
    finally:
        os.close(fd)
    return filler


def empty_wal(db: Path) -> None:
    """Checkpoint the WAL into the database file and truncate it, so that the next write
    needs new disk space (a WAL file keeps its size and is written over after a checkpoint,
    so a full disk would otherwise go unnoticed for a while)."""
    with closing(sqlite3.connect(db)) as conn:
        ((busy, _, _),) = conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    assert busy == 0
    assert db.with_name(f"{db.name}-wal").stat().st_size == 0


@contextmanager
def locked(db: Path) -> Iterator[None]:
    """Another connection holds the database's write lock until the block ends (a CLI, a
    backup, an operator's `sqlite3` shell with a transaction left open)."""
    with closing(sqlite3.connect(db, isolation_level=None)) as conn:
        conn.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            conn.execute("ROLLBACK")


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    """Writes give up on another connection's lock after 0.1 s instead of 5 s."""
    monkeypatch.setattr(store_engine, "BUSY_TIMEOUT_MS", 100)


def msg(n: int) -> Incoming:
    return Incoming(FB, f"user-{n}", f"m-{n}", EventKind.TEXT, QUESTIONS[n % len(QUESTIONS)])


async def grouped_records(store: Store, count: int) -> list[bool | BaseException]:
    """`count` webhooks' messages recorded at once: they queue behind a busy store thread and
    go into ONE group commit. Each caller's outcome; bounded, so a lost caller fails the test."""
    async with asyncio.timeout(SECONDS):
        async with store_thread_held(store):
            calls = asyncio.gather(
                *(store.record_inbound(msg(n)) for n in range(count)), return_exceptions=True
            )
        return list(await calls)


def errors_named(outcomes: list[bool | BaseException]) -> set[str]:
    return {
        getattr(o, "sqlite_errorname", repr(o)) if isinstance(o, BaseException) else "recorded"
        for o in outcomes
    }


async def test_a_full_disk_fails_each_caller_of_a_group_commit_and_the_store_recovers(
    small_disk: Path,
) -> None:
    """On a full disk (SQLITE_FULL) every caller of a group commit gets the error (none is left
    waiting, none told it was recorded), the store thread holds no transaction open, the fault
    is reported; with space back the same writes all commit and the fault is cleared."""
    store = await Store.open(small_disk / "bot.db")
    try:
        empty_wal(small_disk / "bot.db")
        filler = fill(small_disk)
        assert errors_named(await grouped_records(store, 5)) == {"SQLITE_FULL"}
        assert await store._run(lambda db: db.conn.in_transaction) is False
        assert await store.pending_inbound() == []
        assert store.write_fault is not None and store.write_fault.startswith("SQLITE_FULL")
        filler.unlink()
        assert await grouped_records(store, 5) == [True] * 5
        assert len(await store.pending_inbound()) == 5
        assert store.write_fault is None
    finally:
        await store.close()


async def test_a_locked_database_fails_each_caller_of_a_group_commit_and_the_store_recovers(
    db_path: Path, short_busy_timeout: None
) -> None:
    """Another connection holds the write lock past the busy timeout (SQLITE_BUSY): every
    caller of the group commit gets the error, no transaction stays open, the fault is
    reported; once the lock is released the same writes all commit."""
    store = await Store.open(db_path)
    try:
        with locked(db_path):
            assert errors_named(await grouped_records(store, 5)) == {"SQLITE_BUSY"}
            assert await store._run(lambda db: db.conn.in_transaction) is False
            assert store.write_fault == "SQLITE_BUSY: database is locked"
        assert await grouped_records(store, 5) == [True] * 5
        assert len(await store.pending_inbound()) == 5
        assert store.write_fault is None
    finally:
        await store.close()


async def health(client: Client) -> tuple[int, dict[str, Any]]:
    async with asyncio.timeout(1):  # healthz answers at once, fault or not
        response = await client.get("/healthz")
        body = await response.json()
    # The retention purge's figures are tested in test_privacy.py; here only the store's health.
    for key in ("oldest_message_age_seconds", "last_purge_at", "rows_purged"):
        body.pop(key, None)
    return response.status, body


async def assert_retry_answered_once(
    client: Client, platforms: FakePlatforms, settings: Settings, bundle: Bundle
) -> None:
    """The platforms resend the two webhooks that got 5xx: each is recorded and answered, and
    a further resend of the same body is a duplicate (200, nothing sent twice)."""
    for platform in (FB, ZALO):
        assert (await post(client, platform, "u1", 0)).status == 200
    want = {p: {"u1": expected_texts(bundle, p, range(1))} for p in (FB, ZALO)}
    await platforms.wait_for(lambda: all(delivered(platforms, p) == want[p] for p in want))
    # The platform has the message before the worker records it as sent: wait for the record.
    await client.app[WORKER_KEY].settled()
    assert await health(client) == (200, await healthy(client))
    for platform in (FB, ZALO):
        assert (await post(client, platform, "u1", 0)).status == 200
    await client.close()
    assert {p: delivered(platforms, p) for p in want} == want
    rows = await outbox(settings)
    assert [r.status for r in rows] == ["sent"] * sum(len(w["u1"]) for w in want.values())


async def healthy(client: Client) -> dict[str, Any]:
    return {
        "status": "ok",
        "knowledge_version": client.app[BUNDLE_KEY].current.kb.version,
        "knowledge_errors": [],
        "platforms": ["facebook", "zalo", "webchat"],
        "outbox_backlog": 0,
    }


async def test_a_locked_database_answers_5xx_then_the_platforms_retry_is_answered_once(
    aiohttp_client: AiohttpClient,
    tmp_path: Path,
    bundle: Bundle,
    platforms: FakePlatforms,
    short_busy_timeout: None,
) -> None:
    """While another process holds the database's write lock past the busy timeout, a
    Messenger and a Zalo webhook each get 500, not a 200 for messages nobody recorded, so the
    platform sends them again; /healthz says why. Once the lock is released the platform's
    retry of the same body is recorded and answered once."""
    settings = make_settings(tmp_path, platforms.url, **RETRIES)
    client = await start(aiohttp_client, settings, bundle)
    with locked(settings.db_path()):
        for platform in (FB, ZALO):
            assert (await post(client, platform, "u1", 0)).status == 500
        status, body = await health(client)
        assert (status, body["status"]) == (503, "error")
        assert body["database_error"] == "SQLITE_BUSY: database is locked"
        assert await client.app[STORE_KEY].pending_inbound() == []  # nothing acknowledged
    assert platforms.received == []
    await assert_retry_answered_once(client, platforms, settings, bundle)


async def test_a_full_disk_answers_5xx_then_the_platforms_retry_is_answered_once(
    aiohttp_client: AiohttpClient,
    tmp_path: Path,
    small_disk: Path,
    bundle: Bundle,
    platforms: FakePlatforms,
) -> None:
    """The database lives on a 2 MiB filesystem that fills up: a Messenger and a Zalo
    webhook each get 500 (not a 200 for messages that could not be recorded), /healthz keeps
    answering and reports SQLITE_FULL; once space is freed the platform's retry of the same
    body is recorded and answered once, and /healthz is green again."""
    base = make_settings(tmp_path, platforms.url, **RETRIES)
    settings = dataclasses.replace(base, db=str(small_disk / "bot.db"))
    client = await start(aiohttp_client, settings, bundle)
    assert await health(client) == (200, await healthy(client))
    empty_wal(settings.db_path())
    filler = fill(small_disk)
    for platform in (FB, ZALO):
        assert (await post(client, platform, "u1", 0)).status == 500
    status, body = await health(client)
    assert (status, body["status"]) == (503, "error")
    assert body["database_error"] == "SQLITE_FULL: database or disk is full"
    assert await client.app[STORE_KEY].pending_inbound() == []  # nothing acknowledged
    assert platforms.received == []
    filler.unlink()
    await assert_retry_answered_once(client, platforms, settings, bundle)
