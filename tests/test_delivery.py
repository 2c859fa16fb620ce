"""The delivery worker: delivered once, retried with backoff, given up with a reason, resumed."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Collection
from contextlib import closing
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from bot.delivery import DeliveryWorker, backoff
from bot.models import Incoming, Outgoing, Platform, Reply, SendResult, State
from bot.store import OutboxRow, Store
from tests.test_store import statements, store_thread_held

if TYPE_CHECKING:
    from tests.conftest import FakeClock

FB, ZALO = Platform.FACEBOOK, Platform.ZALO
OK = SendResult(ok=True)
HTTP_500 = SendResult(ok=False, retryable=True, error="HTTP 500")


class FakeSender:
    """Answers with the scripted results in turn (then OK) and records what it was asked to
    send. A result may be an exception instance: it is raised, as a broken connection would."""

    def __init__(self, *script: SendResult | Exception) -> None:
        self.script = list(script)
        self.sent: list[str] = []

    async def __call__(self, out: Outgoing) -> SendResult:
        self.sent.append(out.reply.text)
        result = self.script.pop(0) if self.script else OK
        if isinstance(result, Exception):
            raise result
        return result


def out(text: str, user: str = "u1", platform: Platform = FB) -> Outgoing:
    return Outgoing(platform, user, Reply(text))


def worker(store: Store, clock: FakeClock, sender: FakeSender, **kw: int) -> DeliveryWorker:
    return DeliveryWorker(
        store, {FB: sender}, retry_base_seconds=1, retry_max_seconds=60, clock=clock, **kw
    )


async def statuses(store: Store) -> list[tuple[str, str, int, str | None]]:
    rows = await store.outbox_rows()
    return [(r.outgoing.reply.text, r.status, r.attempts, r.last_error) for r in rows]


@pytest.mark.parametrize(
    ("attempt", "retry_after", "expected"),
    [
        (1, None, 1),
        (2, None, 2),
        (3, None, 4),
        (6, None, 32),
        (7, None, 60),  # capped
        (5000, None, 60),  # no overflow however long it has failed
        (1, 120.0, 120),  # the platform's Retry-After wins, even past the cap
        (4, 3.0, 8),  # ...but never shortens our own backoff
    ],
)
def test_backoff(attempt: int, retry_after: float | None, expected: float) -> None:
    assert backoff(attempt, base=1.0, cap=60.0, retry_after=retry_after) == expected


async def test_a_500_then_a_200_is_delivered_once(store: Store, clock: FakeClock) -> None:
    sender = FakeSender(HTTP_500)
    w = worker(store, clock, sender)
    await store.enqueue([out("hello")])
    assert await w.run_once() == 1
    assert await statuses(store) == [("hello", "pending", 1, "HTTP 500")]
    clock.advance(0.9)
    assert await w.run_once() == 0  # the first retry waits backoff(1) = 1 s
    clock.advance(0.1)
    assert await w.run_once() == 1
    clock.advance(3600)
    assert await w.run_once() == 0
    assert sender.sent == ["hello", "hello"]
    assert await statuses(store) == [("hello", "sent", 2, "HTTP 500")]


async def test_retry_after_is_honoured(store: Store, clock: FakeClock) -> None:
    sender = FakeSender(SendResult(ok=False, retryable=True, error="rate limited", retry_after=90))
    w = worker(store, clock, sender)
    await store.enqueue([out("hello")])
    await w.run_once()
    clock.advance(89)
    assert await w.run_once() == 0
    clock.advance(1)
    assert await w.run_once() == 1


async def test_a_permanent_error_is_recorded_and_not_retried(
    store: Store, clock: FakeClock
) -> None:
    sender = FakeSender(SendResult(ok=False, error="outside the 24-hour window"))
    w = worker(store, clock, sender)
    await store.enqueue([out("late"), out("later")])
    await w.run_once()
    clock.advance(3600)
    await w.run_once()  # the failed row unblocks the next one, which goes out
    assert await w.run_once() == 0
    assert sender.sent == ["late", "later"]
    assert await statuses(store) == [
        ("late", "failed", 1, "outside the 24-hour window"),
        ("later", "sent", 1, None),
    ]


async def test_gives_up_after_max_attempts(store: Store, clock: FakeClock) -> None:
    sender = FakeSender(*[HTTP_500] * 10)
    w = worker(store, clock, sender, max_attempts=3)
    await store.enqueue([out("hello")])
    for _ in range(5):
        await w.run_once()
        clock.advance(60)
    assert sender.sent == ["hello"] * 3
    assert await statuses(store) == [
        ("hello", "failed", 3, "gave up after 3 attempts: HTTP 500"),
    ]
    assert await store.backlog() == 0


async def test_a_raising_sender_is_retried_and_named(store: Store, clock: FakeClock) -> None:
    sender = FakeSender(ConnectionResetError("secret=https://x/?access_token=abc"))
    w = worker(store, clock, sender)
    await store.enqueue([out("hello")])
    await w.run_once()
    # The reason is the exception's class: its text may carry a URL with a token.
    assert await statuses(store) == [("hello", "pending", 1, "ConnectionResetError")]
    clock.advance(1)
    await w.run_once()
    assert await statuses(store) == [("hello", "sent", 2, "ConnectionResetError")]


async def test_each_user_in_order_users_side_by_side(store: Store, clock: FakeClock) -> None:
    sender = FakeSender(OK, HTTP_500)  # b1 fails once
    w = worker(store, clock, sender)
    await store.enqueue([out("a1", "a"), out("a2", "a"), out("b1", "b"), out("b2", "b")])
    assert await w.run_once() == 2
    assert sender.sent == ["a1", "b1"]
    assert await w.run_once() == 1
    assert sender.sent[-1] == "a2"  # b2 waits behind b1's retry
    clock.advance(1)
    await w.run_once()
    await w.run_once()
    assert sender.sent == ["a1", "b1", "a2", "b1", "b2"]


async def test_concurrency_is_bounded(store: Store, clock: FakeClock) -> None:
    sender = FakeSender()
    w = worker(store, clock, sender, concurrency=2)
    await store.enqueue([out("x", user) for user in "abc"])
    assert await w.run_once() == 2
    assert await w.run_once() == 1


async def test_rows_without_a_sender_are_left_alone(store: Store, clock: FakeClock) -> None:
    sender = FakeSender()
    await store.enqueue([out("zalo", "z", ZALO), out("fb")])
    assert await worker(store, clock, sender).run_once() == 1
    assert sender.sent == ["fb"]
    assert await store.backlog() == 1


async def test_a_restart_delivers_what_was_left_exactly_once(
    db_path: Path, clock: FakeClock
) -> None:
    msg = Incoming(FB, "u1", "m1", text="lệ phí?")
    first = await Store.open(db_path, clock=clock)
    await first.record_inbound(msg)
    await first.complete_turn(msg, State(), [out("one"), out("two")])
    await first.close()  # the process stops before the worker sent anything

    sender = FakeSender()
    for _ in range(2):  # a second restart must find nothing left to send
        store = await Store.open(db_path, clock=clock)
        try:
            w = worker(store, clock, sender)
            while await w.run_once():
                pass
        finally:
            await store.close()
    assert sender.sent == ["one", "two"]


class ObservedStore(Store):
    """A store that tells the test each time the worker has looked for work."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.claimed = asyncio.Event()

    async def claim_due(
        self,
        now: float,
        limit: int,
        lease_seconds: float,
        platforms: Collection[Platform] | None = None,
    ) -> list[OutboxRow]:
        rows = await super().claim_due(now, limit, lease_seconds, platforms)
        self.claimed.set()
        return rows


@pytest.fixture
async def observed(db_path: Path, clock: FakeClock) -> AsyncIterator[ObservedStore]:
    store = await ObservedStore.open(db_path, clock=clock)
    yield store
    await store.close()


async def test_run_sends_when_woken_and_stop_waits_for_sends(
    observed: ObservedStore, clock: FakeClock
) -> None:
    release = asyncio.Event()
    stopping: list[asyncio.Task[None]] = []
    seen: list[tuple[str, bool]] = []  # (text, was stop() already over when the send ended?)

    async def slow_sender(out: Outgoing) -> SendResult:
        await release.wait()
        seen.append((out.reply.text, stopping[0].done()))
        return OK

    w = DeliveryWorker(observed, {FB: slow_sender}, clock=clock, poll_seconds=3600)
    runner = asyncio.create_task(w.run())
    await observed.claimed.wait()  # the loop found nothing and now waits an hour-long poll
    observed.claimed.clear()
    await observed.enqueue([out("hello")])
    w.wake()
    await asyncio.wait_for(observed.claimed.wait(), 5)
    stopping.append(asyncio.create_task(w.stop()))
    asyncio.get_running_loop().call_soon(release.set)  # after stop() has begun waiting
    await asyncio.wait_for(stopping[0], 5)
    assert runner.done()
    assert seen == [("hello", False)]
    assert await statuses(observed) == [("hello", "sent", 1, None)]


async def test_run_claims_a_users_next_message_when_one_is_sent(
    store: Store, clock: FakeClock
) -> None:
    done = asyncio.Event()
    sent: list[str] = []

    async def sender(out: Outgoing) -> SendResult:
        sent.append(out.reply.text)
        if len(sent) == 3:
            done.set()
        return OK

    w = DeliveryWorker(store, {FB: sender}, clock=clock, poll_seconds=3600)
    await store.enqueue([out(text) for text in ("1", "2", "3")])
    runner = asyncio.create_task(w.run())
    await asyncio.wait_for(done.wait(), 5)
    await w.stop()
    await runner
    assert sent == ["1", "2", "3"]


class HeldSender:
    """Holds every send until `release()`; then they all answer at once, with the scripted
    result for each recipient (OK by default)."""

    def __init__(self, results: dict[str, SendResult]) -> None:
        self.results = results
        self.waiting = 0
        self.all_in = asyncio.Event()
        self.expected = len(results)
        self._go = asyncio.Event()

    async def __call__(self, out: Outgoing) -> SendResult:
        self.waiting += 1
        if self.waiting == self.expected:
            self.all_in.set()
        await self._go.wait()
        return self.results.get(out.user_id, OK)

    def release(self) -> None:
        self._go.set()


async def settle_sends(store: Store, w: DeliveryWorker, sender: HeldSender) -> list[str]:
    """Run one claim; let its sends end together while the store is busy; the SQL it ran."""
    running = asyncio.create_task(w.run_once())
    await asyncio.wait_for(sender.all_in.wait(), 5)
    async with statements(store) as seen:
        async with store_thread_held(store):
            sender.release()
            for _ in range(3):  # the sends return and ask for their marks
                await asyncio.sleep(0)
        await running
    return seen


async def test_outcomes_of_concurrent_sends_share_one_commit(
    store: Store, clock: FakeClock
) -> None:
    sender = HeldSender(
        {
            "a": OK,
            "b": HTTP_500,
            "c": SendResult(ok=False, error="outside the 24-hour window"),
            "d": OK,
        }
    )
    w = DeliveryWorker(store, {FB: sender}, retry_base_seconds=1, clock=clock, concurrency=4)
    await store.enqueue([out(f"{u}1", u) for u in "abcd"] + [out("a2", "a")])
    seen = await settle_sends(store, w, sender)
    assert sum(1 for s in seen if s.strip().upper() == "COMMIT") == 1
    assert await statuses(store) == [
        ("a1", "sent", 1, None),
        ("b1", "pending", 1, "HTTP 500"),
        ("c1", "failed", 1, "outside the 24-hour window"),
        ("d1", "sent", 1, None),
        ("a2", "pending", 0, None),  # a's next message, free to go now that a1 is sent
    ]
    assert [r.outgoing.reply.text for r in await store.claim_due(clock.now, 10, 30)] == ["a2"]


async def test_a_send_whose_outcome_cannot_be_recorded_costs_the_others_nothing(
    store: Store, clock: FakeClock, db_path: Path
) -> None:
    sender = HeldSender({u: OK for u in "abc"})
    w = DeliveryWorker(store, {FB: sender}, clock=clock, concurrency=3, lease_seconds=30)
    await store.enqueue([out(f"{u}1", u) for u in "abc"])
    with closing(sqlite3.connect(db_path)) as conn, conn:
        conn.execute(
            "CREATE TRIGGER stuck_b BEFORE UPDATE OF status ON outbox WHEN NEW.user_id = 'b'"
            " BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END"
        )
    await settle_sends(store, w, sender)  # b's mark fails: logged, not raised
    assert [(text, status) for text, status, _, _ in await statuses(store)] == [
        ("a1", "sent"),
        ("b1", "pending"),  # at least once: sent again when its lease runs out
        ("c1", "sent"),
    ]
    clock.advance(30)
    assert [r.outgoing.reply.text for r in await store.claim_due(clock.now, 10, 30)] == ["b1"]


async def test_settled_returns_once_the_sends_in_flight_are_recorded(
    store: Store, clock: FakeClock
) -> None:
    """A test that saw the platform receive a message waits on `settled()` for its outbox row:
    the platform has it before the worker records it as sent."""
    release, arrived = asyncio.Event(), asyncio.Event()

    async def held(out: Outgoing) -> SendResult:
        arrived.set()
        await release.wait()
        return OK

    await store.enqueue([out("hello")])
    w = DeliveryWorker(store, {FB: held}, clock=clock, poll_seconds=60)
    runner = asyncio.create_task(w.run())
    await arrived.wait()
    assert await store.backlog() == 1  # received by the platform, not yet recorded
    release.set()
    await w.settled()
    assert await store.backlog() == 0
    assert await statuses(store) == [("hello", "sent", 1, None)]
    await w.stop()
    await runner
