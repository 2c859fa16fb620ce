"""Personal data (Luật Bảo vệ dữ liệu cá nhân 2025; Nghị định 13/2023): every kind of record
expires at its own period and nothing younger is touched; the server purges daily and shows it
on /healthz; `bot privacy forget` and Zalo's `user_withdraw` delete one user's rows.

Time is the store's FakeClock; the daily loop waits on a sleep the test releases.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import Awaitable, Callable
from contextlib import closing
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from pytest_aiohttp import AiohttpClient

from bot.bundle import Bundle
from bot.cases.lookup import DOSSIER_WINDOW, dossier_wait
from bot.cli import cli
from bot.config import ConfigError, load_settings
from bot.models import Case, CaseStatus, EventKind, Incoming, Outgoing, Platform, Reply, State
from bot.models.privacy import DAY, HOUR, PURGED_KINDS, Retention
from bot.models.rating import Rating, Score
from bot.privacy import RETRY_DELAY, Purger
from bot.store import Store
from tests.conftest import FakeClock, FakePlatforms, make_settings
from tests.payloads import ZALO_USER_ID, encode, zalo_sign, zalo_text, zalo_withdraw
from webhooks import zalo
from webhooks.app import create_app
from webhooks.errors import PayloadError
from webhooks.keys import PURGER_KEY, STORE_KEY, TURNS_KEY

WEB = Platform.WEBCHAT
TEXT = "Cho hỏi làm khai sinh cần gì, số tôi 0912345678"
# A different period per kind, so a purge that mixes two up is caught.
RETENTION = Retention(
    message_text=1 * HOUR,
    message=2 * HOUR,
    state=3 * HOUR,
    conversation=4 * HOUR,
    outbox=5 * HOUR,
    review=6 * HOUR,
    audit=7 * HOUR,
    closed_case=8 * HOUR,
)


async def rows(store: Store, query: str, *params: object) -> list[tuple[Any, ...]]:
    return await store._run(lambda db: [tuple(r) for r in db.execute(query, params)])


def message(user: str, n: int = 1) -> Incoming:
    return Incoming(WEB, user, f"{user}-{n}", EventKind.TEXT, TEXT, payload="TOPIC:khai-sinh")


# -- setups: one record of a kind, made at the store clock's now ----------------------------


async def answered(store: Store, user: str, *, sent: bool = True, **flags: bool) -> None:
    """A handled message, its saved state and its reply (marked sent unless `sent` is off)."""
    reply = Outgoing(WEB, user, Reply("Dạ, hồ sơ gồm tờ khai."))
    await store.complete_turn(message(user), State(topic="khai-sinh"), [reply], **flags)
    if sent:
        [row] = await rows(store, "SELECT id FROM outbox WHERE user_id = ?", user)
        await store.mark_sent(row[0])


async def pending_reply(store: Store, user: str) -> None:
    await answered(store, user, sent=False)


async def unanswered(store: Store, user: str) -> None:
    await answered(store, user, unanswered=True)


async def handoff(store: Store, user: str) -> None:
    await answered(store, user, handoff=True)


async def rated(store: Store, user: str) -> None:
    """A 👎 of an answer (its question has no words: nothing for the review inbox)."""
    rating = Rating(Score.DOWN, "khai-sinh", "fee", "m-answer")
    await store.complete_turn(message(user), State(topic="khai-sinh"), [], rating=rating)


def policy(max_failures: int) -> dict[str, Any]:
    """The dossier lookup's limits (bot/cases/lookup.py), with a sender lock after `max_failures`
    failed checks in a minute."""
    return {
        "max_failures": max_failures,
        "window_seconds": 60,
        "dossier_wait": dossier_wait,
        "dossier_window": DOSSIER_WINDOW,
        "allowance": frozenset(Platform),
    }


async def looked_up(store: Store, user: str) -> None:
    await store.lookup_case(WEB, user, "H56-X", "0000", **policy(max_failures=5))


async def noticed(store: Store, user: str) -> None:
    await store._run(
        lambda db: db.execute(
            "INSERT INTO case_notices (code, platform, user_id, status, outcome, created_at)"
            " VALUES ('H56-X', 'webchat', ?, 'returned', 'queued', ?)",
            [user, store._clock()],
        )
    )


async def lock_expired_now(store: Store, user: str) -> None:
    now = store._clock()
    await store._run(
        lambda db: db.execute(
            "INSERT INTO case_locks (scope, key, until, created_at) VALUES ('sender', ?, ?, ?)",
            [f"webchat:{user}", now, now - 60],
        )
    )


def no_notice(*_: object) -> list[Reply]:
    return []


async def closed_case(store: Store, code: str) -> None:
    """A dossier imported open, then closed: its last change (and its history) is now."""
    for status in (CaseStatus.PROCESSING, CaseStatus.RETURNED):
        await store.import_cases([Case(code=code, status=status, phone_last4="5678")], no_notice)


@dataclass(frozen=True)
class Kind:
    kind: str
    period: float
    setup: Callable[[Store, str], Awaitable[None]]
    probe: str  # one row about the user's (or dossier's) record, given its id
    expired: list[tuple[Any, ...]]
    kept: list[tuple[Any, ...]]


KINDS = [
    Kind(
        "message_texts",
        RETENTION.message_text,
        answered,
        "SELECT text, payload, status FROM inbound WHERE user_id = ?",
        [("", None, "handled")],
        [(TEXT, "TOPIC:khai-sinh", "handled")],
    ),
    Kind(
        # Its reply is still pending: the reply stays, it only loses the link (foreign key).
        "messages",
        RETENTION.message,
        pending_reply,
        "SELECT (SELECT count(*) FROM inbound WHERE user_id = ?1),"
        " (SELECT count(inbound_id) FROM outbox WHERE user_id = ?1),"
        " (SELECT count(*) FROM outbox WHERE user_id = ?1)",
        [(0, 0, 1)],
        [(1, 1, 1)],
    ),
    Kind(
        "states",
        RETENTION.state,
        answered,
        "SELECT state IS NULL FROM conversations WHERE user_id = ?",
        [(1,)],
        [(0,)],
    ),
    Kind(
        "conversations",
        RETENTION.conversation,
        answered,
        "SELECT count(*) FROM conversations WHERE user_id = ?",
        [(0,)],
        [(1,)],
    ),
    Kind(
        "outbox",
        RETENTION.outbox,
        answered,
        "SELECT count(*) FROM outbox WHERE user_id = ?",
        [(0,)],
        [(1,)],
    ),
    Kind(
        "unanswered",
        RETENTION.review,
        unanswered,
        "SELECT count(*) FROM unanswered WHERE user_id = ?",
        [(0,)],
        [(1,)],
    ),
    Kind(
        "handoffs",
        RETENTION.review,
        handoff,
        "SELECT count(*) FROM handoffs WHERE user_id = ?",
        [(0,)],
        [(1,)],
    ),
    Kind(
        "ratings",
        RETENTION.review,
        rated,
        "SELECT count(*) FROM ratings WHERE user_id = ?",
        [(0,)],
        [(1,)],
    ),
    Kind(
        "lookups",
        RETENTION.audit,
        looked_up,
        "SELECT count(*) FROM case_lookups WHERE user_id = ?",
        [(0,)],
        [(1,)],
    ),
    Kind(
        "notices",
        RETENTION.audit,
        noticed,
        "SELECT count(*) FROM case_notices WHERE user_id = ?",
        [(0,)],
        [(1,)],
    ),
    Kind(
        "locks",
        RETENTION.audit,
        lock_expired_now,
        "SELECT count(*) FROM case_locks WHERE key = 'webchat:' || ?",
        [(0,)],
        [(1,)],
    ),
    Kind(
        "cases",
        RETENTION.closed_case,
        closed_case,
        "SELECT (SELECT count(*) FROM cases WHERE code = ?1),"
        " (SELECT count(*) FROM case_history WHERE code = ?1)",
        [(0, 0)],
        [(1, 1)],
    ),
]


@pytest.mark.parametrize("kind", KINDS, ids=[k.kind for k in KINDS])
async def test_each_kind_expires_at_its_period_and_nothing_younger(
    store: Store, clock: FakeClock, kind: Kind
) -> None:
    await kind.setup(store, "old")
    clock.advance(2)
    await kind.setup(store, "young")
    clock.advance(kind.period - 1)  # old: one second past its period; young: one short of it

    report = await store.purge_expired(RETENTION)

    assert await rows(store, kind.probe, "old") == kind.expired
    assert await rows(store, kind.probe, "young") == kind.kept
    assert report.rows[kind.kind] == 1
    assert list(report.rows) == list(PURGED_KINDS)


async def test_pending_messages_and_replies_are_never_purged(
    store: Store, clock: FakeClock
) -> None:
    await store.record_inbound(message("waiting"))
    await store.enqueue([Outgoing(WEB, "waiting", Reply("Thông báo hồ sơ"))], source="case")
    clock.advance(400 * DAY)

    await store.purge_expired(RETENTION)

    assert await rows(store, "SELECT text, status FROM inbound") == [(TEXT, "pending")]
    assert await rows(store, "SELECT status FROM outbox") == [("pending",)]


async def test_open_dossiers_and_live_subscriptions_stay_ended_ones_go(
    store: Store, clock: FakeClock
) -> None:
    for code, status in [("OPEN", CaseStatus.PROCESSING), ("DONE", CaseStatus.PROCESSING)]:
        await store.import_cases([Case(code=code, status=status, phone_last4="5678")], no_notice)
    await store.subscribe(WEB, "live", "OPEN", "vi")
    await store.subscribe(WEB, "told", "DONE", "vi")
    await store.subscribe(WEB, "orphan", "GONE", "vi")  # its dossier is not (any more) stored
    # The import that closes DONE tells its subscriber and ends the subscription.
    done = Case(code="DONE", status=CaseStatus.RETURNED, phone_last4="5678")
    await store.import_cases([done], lambda *_: [Reply("Hồ sơ đã có kết quả")])
    clock.advance(10 * RETENTION.closed_case)

    report = await store.purge_expired(RETENTION)

    assert await rows(store, "SELECT code FROM cases") == [("OPEN",)]
    assert await rows(store, "SELECT user_id FROM case_subscriptions") == [("live",)]
    assert (report.rows["cases"], report.rows["subscriptions"]) == (1, 2)


@pytest.mark.parametrize("batch", [1, 3, 1000])
async def test_the_walk_goes_through_every_batch(
    store: Store, clock: FakeClock, batch: int
) -> None:
    for n in range(7):
        await store.complete_turn(message("u", n), State(), [])
    clock.advance(RETENTION.message + 1)
    await store.complete_turn(message("u", 99), State(), [])

    report = await store.purge_expired(RETENTION, batch=batch)

    assert report.rows["messages"] == 7
    assert await rows(store, "SELECT message_id FROM inbound") == [("u-99",)]


async def test_the_purge_gives_disk_space_back(
    store: Store, clock: FakeClock, db_path: Path
) -> None:
    long_text = "Tôi muốn hỏi về thủ tục đăng ký khai sinh cho con. " * 40  # ~2 KB
    for n in range(1500):
        msg = Incoming(WEB, f"s{n % 50}", f"m{n}", EventKind.TEXT, long_text)
        await store.complete_turn(msg, State(), [Outgoing(WEB, msg.user_id, Reply(long_text))])
    await store._run(lambda db: db.execute("UPDATE outbox SET status = 'sent'"))
    assert store._checkpointer is not None
    await store._checkpointer.run("TRUNCATE")  # everything in the database file, none in the WAL
    wal = db_path.with_name(db_path.name + "-wal")
    before = file_sizes(db_path, wal)
    clock.advance(max(RETENTION.message, RETENTION.outbox, RETENTION.conversation) + 1)

    report = await store.purge_expired(RETENTION)

    after = file_sizes(db_path, wal)
    assert report.rows["messages"] == 1500 and report.pages_freed > 0
    assert after[0] < before[0] / 10, (before, after)
    assert after[1] < 64 * 1024  # the WAL emptied after the purge (then the report written)


def file_sizes(*paths: Path) -> tuple[int, ...]:
    return tuple(path.stat().st_size if path.exists() else 0 for path in paths)


async def test_an_older_database_is_converted_once(db_path: Path, clock: FakeClock) -> None:
    with closing(sqlite3.connect(db_path)) as conn:  # made before auto_vacuum was set
        conn.execute("CREATE TABLE leftover (x)")
    store = await Store.open(db_path, clock=clock)
    try:
        pragma = "PRAGMA auto_vacuum"
        assert await rows(store, pragma) == [(0,)]
        assert await store.ensure_incremental_vacuum() is True
        assert await rows(store, pragma) == [(2,)]
        assert await store.ensure_incremental_vacuum() is False
    finally:
        await store.close()


async def test_the_last_purge_survives_a_restart(db_path: Path, clock: FakeClock) -> None:
    store = await Store.open(db_path, clock=clock)
    try:
        assert await store.last_purge() is None
        assert await store.oldest_message_age() is None
        await answered(store, "u")
        clock.advance(RETENTION.message + 1)
        await store.complete_turn(message("u", 2), State(), [])
        clock.advance(5)
        report = await store.purge_expired(RETENTION)
    finally:
        await store.close()
    store = await Store.open(db_path, clock=clock)
    try:
        assert await store.last_purge() == report
        assert await store.oldest_message_age() == 5
    finally:
        await store.close()


# -- the settings -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"retain_audit_days": 0}, "retain_audit_days must be positive"),
        ({"purge_hours": -1}, "purge_hours must be positive"),
        ({"retain_message_hours": 36}, "at least 48"),
        ({"retain_state_hours": 1, "idle_seconds": 7200}, "must cover idle_seconds"),
    ],
)
def test_retention_settings_are_checked(
    tmp_path: Path, values: dict[str, int], message: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_settings(path, environ={})


def test_settings_give_the_retention_in_seconds(tmp_path: Path) -> None:
    settings = make_settings(tmp_path, retain_text_hours=2, retain_closed_case_days=30)
    assert settings.retention.message_text == 2 * HOUR
    assert settings.retention.closed_case == 30 * DAY
    assert settings.retention.message == 72 * HOUR


# -- the daily task ---------------------------------------------------------------------------


class FakeSleep:
    """What `Purger` waits with: the clock moves by the delay asked, then the test releases it.
    `asked` receives each delay as the purger starts waiting (after a purge, if any)."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self.asked: asyncio.Queue[float] = asyncio.Queue()
        self._go: asyncio.Queue[None] = asyncio.Queue()

    async def __call__(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.asked.put_nowait(seconds)
        await self._go.get()

    def release(self) -> None:
        self._go.put_nowait(None)


async def test_the_server_purges_shortly_after_start_then_daily(
    store: Store, clock: FakeClock
) -> None:
    sleep = FakeSleep(clock)
    purger = Purger(store, RETENTION, interval=DAY, first_delay=60, sleep=sleep)
    await answered(store, "u")
    task = asyncio.create_task(purger.run())
    try:
        assert await sleep.asked.get() == 60
        assert purger.last is None
        sleep.release()
        assert await sleep.asked.get() == DAY  # the first purge ran, a minute in: too young
        assert purger.last is not None and purger.last.total == 0
        sleep.release()
        assert await sleep.asked.get() == DAY  # a day later: everything of "u" expired
        assert purger.last.rows["messages"] == 1 and purger.last.rows["outbox"] == 1
        assert await rows(store, "SELECT count(*) FROM inbound") == [(0,)]
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


async def test_a_failed_purge_is_retried_within_the_hour(
    db_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    store = await Store.open(db_path, clock=clock)
    await store.close()  # every purge now fails
    sleep = FakeSleep(clock)
    task = asyncio.create_task(Purger(store, RETENTION, DAY, first_delay=60, sleep=sleep).run())
    try:
        assert await sleep.asked.get() == 60
        sleep.release()
        assert await sleep.asked.get() == RETRY_DELAY
        assert "retention purge failed" in caplog.text
    finally:
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task


# -- the server: /healthz ----------------------------------------------------------------------


async def test_healthz_shows_the_last_purge_and_the_oldest_message(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle
) -> None:
    settings = make_settings(tmp_path, facebook=False, zalo=False)
    # Ten days ago, a conversation on the web chat (written with the store's own methods).
    past = FakeClock(time.time() - 10 * DAY)
    old = await Store.open(settings.db_path(), clock=past)
    await answered(old, "old-session")
    await old.close()
    client = await aiohttp_client(create_app(settings, bundle))
    response = await client.post("/api/chat", json={"session": "new-session-1", "text": "hi"})
    assert response.status == 200

    await client.app[PURGER_KEY].run_once()

    health = await (await client.get("/healthz")).json()
    assert health["rows_purged"]["messages"] == 1 and health["rows_purged"]["outbox"] == 1
    assert health["last_purge_at"].endswith("+00:00")
    assert 0 <= health["oldest_message_age_seconds"] < DAY  # today's message only


async def looked_up_as(store: Store, platform: Platform, user: str) -> None:
    """Failed dossier checks until the sender is locked (the real lock key)."""
    for _ in range(2):
        await store.lookup_case(platform, user, "H56-X", "0000", **policy(max_failures=2))
    # Only the sender is locked: a dossier is slowed down, never locked (bot/cases/lookup.py).
    assert await rows(store, "SELECT scope FROM case_locks ORDER BY scope") == [("sender",)]


# -- the command --------------------------------------------------------------------------------


def test_bot_privacy_forget(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"db": str(db)}), encoding="utf-8")

    async def fill() -> None:
        store = await Store.open(db)
        try:
            for user in ("citizen", "neighbour"):
                await answered(store, user, unanswered=True, handoff=True)
                await pending_reply_for(store, user)
                await store.subscribe(WEB, user, "H56-X", "vi")
                await noticed(store, user)
            await looked_up_as(store, WEB, "citizen")
        finally:
            await store.close()

    asyncio.run(fill())
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--config", str(config), "privacy", "forget", "webchat", "citizen"]
    )

    assert result.exit_code == 0, result.output
    assert result.output.splitlines() == [
        "Deleted everything stored about webchat user citizen:",
        "  2 messages",
        "  1 conversation state",
        "  2 replies in the outbox",
        "  1 dossier subscriptions",
        "  2 dossier lookups (audit)",
        "  1 lookup locks",
        "  1 dossier notices",
        "  1 unanswered questions",
        "  1 requests for staff",
    ]
    with closing(sqlite3.connect(db)) as conn:
        tables = ["inbound", "conversations", "outbox", "case_subscriptions", "case_notices"]
        for table in tables:
            users = {r[0] for r in conn.execute(f"SELECT user_id FROM {table}")}
            assert users == {"neighbour"}, table
    again = runner.invoke(cli, ["--config", str(config), "privacy", "forget", "webchat", "citizen"])
    assert again.output == "Nothing stored about webchat user citizen.\n"
    unknown = runner.invoke(cli, ["--config", str(config), "privacy", "forget", "viber", "x"])
    assert unknown.exit_code == 1
    assert (
        "unknown platform 'viber'" in unknown.output and "facebook, zalo, webchat" in unknown.output
    )


async def pending_reply_for(store: Store, user: str) -> None:
    await store.complete_turn(message(user, 2), State(), [Outgoing(WEB, user, Reply("Dạ"))])


def test_bot_privacy_purge(tmp_path: Path) -> None:
    db = tmp_path / "bot.db"
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({"db": str(db)}), encoding="utf-8")

    async def fill() -> None:
        store = await Store.open(db, clock=FakeClock(time.time() - 10 * DAY))
        try:
            await answered(store, "u")
        finally:
            await store.close()

    asyncio.run(fill())
    result = CliRunner().invoke(cli, ["--config", str(config), "privacy", "purge"])
    assert result.exit_code == 0, result.output
    assert "messages: 1" in result.output.splitlines()
    assert "outbox: 1" in result.output.splitlines()


# -- Zalo user_withdraw ---------------------------------------------------------------------------


async def test_zalo_user_withdraw_forgets_the_user_and_sends_nothing(
    aiohttp_client: AiohttpClient, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    client = await aiohttp_client(create_app(make_settings(tmp_path, platforms.url), bundle))
    store: Store = client.app[STORE_KEY]
    user = "platform = 'zalo' AND user_id = ?"

    async def post(payload: dict[str, Any]) -> None:
        raw = encode(payload)
        signature = zalo_sign(raw, timestamp=payload["timestamp"])
        headers = {"Content-Type": "application/json", **signature}
        assert (await client.post("/webhooks/zalo", data=raw, headers=headers)).status == 200
        await client.app[TURNS_KEY].drain()

    async def parts(user_id: str | None = None) -> int:
        """Zalo sends of the replies queued (for `user_id`): a long one goes in parts."""
        queued = await store.outbox_rows(user_id=user_id, limit=1000)
        return sum(len(zalo.render(r.outgoing)) for r in queued)

    await post(zalo_text("Cho hỏi lệ phí đăng ký kết hôn", msg_id="z1"))
    await post(zalo_text("Tôi muốn gặp cán bộ", msg_id="z2", sender="someone-else"))
    sent = await parts()
    await platforms.wait_for(lambda: len(platforms.sent()) == sent)
    await store.subscribe(Platform.ZALO, ZALO_USER_ID, "H56-X", "vi")
    await looked_up_as(store, Platform.ZALO, ZALO_USER_ID)

    await post(zalo_withdraw())
    await post(zalo_withdraw())  # Zalo's identical retry: recognised, not handled again

    inbound = f"SELECT message_id, text, status FROM inbound WHERE {user}"
    assert await rows(store, inbound, ZALO_USER_ID) == [
        (f"withdraw:{ZALO_USER_ID}:1727770763679", "", "handled")
    ]
    for table in ("conversations", "outbox", "case_subscriptions", "case_lookups"):
        count = f"SELECT count(*) FROM {table} WHERE {user}"
        assert await rows(store, count, ZALO_USER_ID) == [(0,)], table
    assert await rows(store, "SELECT count(*) FROM case_locks") == [(0,)]
    assert await store.load_state(Platform.ZALO, "someone-else") is not None  # others untouched
    # Nothing was queued for them, so nothing can go out later either.
    assert await store.backlog() == 0 and len(platforms.sent()) == sent

    # A later message starts afresh: answered, in a new conversation with nothing older.
    await post(zalo_text("Cho hỏi lệ phí đăng ký kết hôn", msg_id="z3"))
    again = await parts(ZALO_USER_ID)
    assert again > 0
    await platforms.wait_for(lambda: len(platforms.sent()) == sent + again)
    texts = f"SELECT message_id FROM inbound WHERE {user} AND kind = 'text'"
    assert await rows(store, texts, ZALO_USER_ID) == [("z3",)]


def test_parse_user_withdraw() -> None:
    [incoming] = zalo.parse(encode(zalo_withdraw(user_id="4558424660619243532")))
    assert (incoming.kind, incoming.user_id, incoming.message_id) == (
        EventKind.WITHDRAW,
        "4558424660619243532",
        "withdraw:4558424660619243532:1727770763679",
    )
    with pytest.raises(PayloadError, match="user_id"):
        zalo.parse(encode({**zalo_withdraw(), "user_id": ""}))
