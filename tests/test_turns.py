"""What keeps the 200 fast under load (bench/load.py): webhooks recorded together in one
transaction, a bounded number of turns in progress, dialogs paced behind the webhooks, and an
outbox claim that does not sort the whole backlog."""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import itertools
import selectors
import sqlite3
from collections.abc import Callable, Coroutine, Sequence
from contextlib import closing
from functools import partial
from pathlib import Path
from typing import Any, cast

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from bot.bundle import Bundle, BundleSlot
from bot.models import EventKind, Incoming, Outgoing, Platform, Reply, State
from bot.store import Store
from bot.turns.flood import FloodGate
from bot.turns.pacer import DialogPacer
from bot.turns.queue import TurnQueue
from tests.conftest import FakeClock, FakePlatforms, make_settings
from tests.payloads import encode, fb_batch, fb_sign, fb_text
from webhooks.app import create_app
from webhooks.keys import STORE_KEY

FB = Platform.FACEBOOK


def msg(mid: str, user: str | None = None, text: str = "lệ phí kết hôn") -> Incoming:
    return Incoming(FB, user or f"user-{mid}", mid, EventKind.TEXT, text)


class Signal:
    """Wakes whoever waits for a condition each time something it depends on changes.

    `notify()` may be called from plain (non-async) code, a dialog for one. `until(check)` waits
    for exactly `check()`, re-checked at each notification; never on a time budget (`seconds`
    only turns a hang into a failure)."""

    def __init__(self) -> None:
        self._changed = asyncio.Event()

    def notify(self) -> None:
        self._changed.set()

    async def until(self, check: Callable[[], bool], seconds: float = 5.0) -> None:
        async with asyncio.timeout(seconds):
            while not check():
                self._changed.clear()
                await self._changed.wait()


async def parked(*tasks: asyncio.Task[Any], passes: int = 10) -> None:
    """Until each task has run up to its first await: a webhook that has handed its messages to
    the recorder and waits for their commit. Nothing signals that, so this looks once per pass of
    the loop, a few passes at most (a task starts on the pass after its creation)."""
    for _ in range(passes):
        if all(inspect.getcoroutinestate(t.get_coro()) == inspect.CORO_SUSPENDED for t in tasks):
            return
        await asyncio.sleep(0)
    raise AssertionError(f"not started after {passes} passes of the loop")


class GatedStore(Store):
    """A store whose calls can be held at a gate, and which notes what it was asked.

    `changed` is notified at each recording, each turn's start and end, and each turn held."""

    recorded: list[list[str]]
    gate: asyncio.Event | None
    record_gate: asyncio.Event | None  # holds recordings only
    turn_gate: asyncio.Event | None  # holds turns once their state is loaded, before the dialog
    in_turn: int
    most_in_turn: int
    held: int  # turns waiting at `turn_gate`
    fail_on: set[str]  # a commit holding one of these message ids fails
    changed: Signal

    async def record_inbound_many(self, msgs: Sequence[Incoming]) -> list[bool]:
        self.recorded.append([m.message_id for m in msgs])
        self.changed.notify()
        if self.gate is not None:
            await self.gate.wait()
        if self.record_gate is not None:
            await self.record_gate.wait()
        if self.fail_on & {m.message_id for m in msgs}:
            raise sqlite3.OperationalError("database is locked")
        return await super().record_inbound_many(msgs)

    async def load_state(self, platform: Platform, user_id: str) -> State | None:
        self.in_turn += 1
        self.most_in_turn = max(self.most_in_turn, self.in_turn)
        self.changed.notify()
        if self.gate is not None:
            await self.gate.wait()
        state = await super().load_state(platform, user_id)
        if self.turn_gate is not None:
            self.held += 1
            self.changed.notify()
            await self.turn_gate.wait()
            self.held -= 1
        return state

    async def complete_turn(self, *args: Any, **kwargs: Any) -> bool:
        self.in_turn -= 1
        self.changed.notify()
        return await super().complete_turn(*args, **kwargs)


@pytest.fixture
async def gated(db_path: Path, clock: FakeClock) -> Any:
    store = await GatedStore.open(db_path, clock=clock)
    store.recorded, store.gate, store.record_gate, store.fail_on = [], None, None, set()
    store.turn_gate, store.changed = None, Signal()
    store.in_turn = store.most_in_turn = store.held = 0
    yield store
    await store.close()


def handling(
    store: Store, bundle: Bundle, max_turns: int = 8, dialog_gap: float = 0.01
) -> TurnQueue:
    flood = FloodGate(limit=100, window=60)
    return TurnQueue(
        store,
        BundleSlot(bundle),
        flood,
        wake=lambda: None,
        max_turns=max_turns,
        dialog_gap=dialog_gap,
    )


# --- the store ---------------------------------------------------------------------------------


async def test_record_inbound_many_flags_each_message(store: Store) -> None:
    assert await store.record_inbound(msg("m1"))
    flags = await store.record_inbound_many([msg("m1"), msg("m2"), msg("m3"), msg("m2")])
    assert flags == [False, True, True, False]  # seen before; new; new; twice in one batch
    assert await store.record_inbound_many([]) == []
    pending = await store.pending_inbound()
    assert [m.message_id for m in pending] == ["m1", "m2", "m3"]
    assert await store.last_inbound_at(FB, "user-m3") is not None


async def test_record_inbound_many_is_one_transaction(store: Store) -> None:
    broken = Incoming(FB, "u", "m-bad", EventKind.TEXT, None)  # type: ignore[arg-type]
    with pytest.raises(sqlite3.IntegrityError):  # text is NOT NULL
        await store.record_inbound_many([msg("m1"), broken])
    assert await store.pending_inbound() == []  # m1 went with it
    assert await store.record_inbound(msg("m1"))


async def test_claim_walks_the_due_index_not_the_whole_backlog(
    store: Store, clock: FakeClock, db_path: Path
) -> None:
    await store.enqueue([Outgoing(FB, f"u{n}", Reply(f"r{n}")) for n in range(50)])
    statements: list[str] = []  # the SQL as run, parameters filled in (sqlite3's trace hook)
    await store._run(lambda db: db.conn.set_trace_callback(statements.append))
    rows = await store.claim_due(clock.now, 3, 30, platforms=[FB, Platform.ZALO])
    await store._run(lambda db: db.conn.set_trace_callback(None))
    assert [r.outgoing.reply.text for r in rows] == ["r0", "r1", "r2"]
    (select,) = [s for s in statements if s.lstrip().upper().startswith("SELECT")]
    with closing(sqlite3.connect(db_path)) as conn:
        plan = " | ".join(row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + select))
    assert "outbox_due" in plan
    assert "TEMP B-TREE" not in plan  # no sort of every pending row (10 ms at 5,000 rows)


async def test_claim_takes_the_earliest_due_first(store: Store, clock: FakeClock) -> None:
    await store.enqueue([Outgoing(FB, "a", Reply("a1")), Outgoing(FB, "b", Reply("b1"))])
    (a1, b1) = await store.claim_due(clock.now, 10, 30)
    await store.mark_retry(a1.id, clock.now + 5, "HTTP 500")  # a1 comes due again at +5
    await store.mark_retry(b1.id, clock.now + 2, "HTTP 500")  # b1 at +2
    rows = await store.claim_due(clock.now + 10, 1, 30)
    assert [r.outgoing.reply.text for r in rows] == ["b1"]


# --- group commit ------------------------------------------------------------------------------


async def test_webhooks_arriving_during_a_commit_share_the_next_one(
    gated: GatedStore, bundle: Bundle
) -> None:
    gated.gate = asyncio.Event()
    work = handling(gated, bundle)
    first = asyncio.create_task(work.accept_many([msg("m1")]))
    await gated.changed.until(lambda: gated.recorded == [["m1"]])  # held at the gate
    second = asyncio.create_task(work.accept_many([msg("m2"), msg("m3")]))
    third = asyncio.create_task(work.accept_many([msg("m1"), msg("m4")]))  # m1: a retry
    await parked(second, third)  # both wait for the commit after the one in progress
    assert gated.recorded == [["m1"]]
    gated.gate.set()
    one, two, three = await asyncio.gather(first, second, third)
    assert gated.recorded == [["m1"], ["m2", "m3", "m1", "m4"]]
    assert len(one) == 1 and one[0] is not None
    assert all(t is not None for t in two)
    assert three[0] is None and three[1] is not None
    await work.drain()
    assert await gated.pending_inbound() == []
    users = {r.outgoing.user_id for r in await gated.outbox_rows()}
    assert users == {"user-m1", "user-m2", "user-m3", "user-m4"}


async def test_a_failed_commit_is_retried_per_webhook_and_fails_only_the_bad_one(
    gated: GatedStore, bundle: Bundle
) -> None:
    gated.gate, gated.fail_on = asyncio.Event(), {"m2"}
    work = handling(gated, bundle)
    first = asyncio.create_task(work.accept_many([msg("m1")]))
    await gated.changed.until(lambda: gated.recorded == [["m1"]])  # held at the gate
    second = asyncio.create_task(work.accept_many([msg("m2")]))
    third = asyncio.create_task(work.accept_many([msg("m3"), msg("m4")]))
    await parked(second, third)
    gated.gate.set()
    results = await asyncio.gather(first, second, third, return_exceptions=True)
    # The shared commit failed; each webhook's messages were then recorded on their own.
    assert gated.recorded == [["m1"], ["m2", "m3", "m4"], ["m2"], ["m3", "m4"]]
    assert results[0] != [None]
    assert isinstance(results[1], sqlite3.OperationalError)  # -> HTTP 500 for this one only
    assert isinstance(results[2], list) and None not in results[2]
    await work.drain()
    users = {r.outgoing.user_id for r in await gated.outbox_rows()}
    assert users == {"user-m1", "user-m3", "user-m4"}
    assert await gated.pending_inbound() == []  # m2 was never recorded
    gated.fail_on = set()
    assert (await work.accept_many([msg("m2")]))[0] is not None  # the platform's retry
    await work.drain()


async def test_a_message_the_store_cannot_take_fails_only_its_own_webhook(
    gated: GatedStore, bundle: Bundle
) -> None:
    gated.gate = asyncio.Event()
    work = handling(gated, bundle)
    first = asyncio.create_task(work.accept_many([msg("m1")]))
    await gated.changed.until(lambda: gated.recorded == [["m1"]])  # held at the gate
    # Nothing at the edge cleaned this one: SQLite cannot encode a lone surrogate.
    bad = asyncio.create_task(work.accept_many([msg("m-bad", text="x\udcff")]))
    good = asyncio.create_task(work.accept_many([msg("m2"), msg("m1")]))  # m1: a retry
    await parked(bad, good)
    gated.gate.set()
    results = await asyncio.gather(first, bad, good, return_exceptions=True)
    assert isinstance(results[1], UnicodeEncodeError)
    assert isinstance(results[2], list)
    assert results[2][0] is not None and results[2][1] is None  # new; the duplicate
    await work.drain()
    users = {r.outgoing.user_id for r in await gated.outbox_rows()}
    assert users == {"user-m1", "user-m2"}
    assert await gated.pending_inbound() == []


async def test_a_webhook_that_goes_away_still_gets_its_messages_handled(
    gated: GatedStore, bundle: Bundle
) -> None:
    gated.gate = asyncio.Event()
    work = handling(gated, bundle)
    caller = asyncio.create_task(work.accept_many([msg("m1")]))
    await gated.changed.until(lambda: gated.recorded == [["m1"]])  # the commit is running
    caller.cancel()  # the client hung up meanwhile
    gated.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await work.drain()
    assert await gated.pending_inbound() == []
    assert [r.outgoing.user_id for r in await gated.outbox_rows()][:1] == ["user-m1"]


# --- bounded turns -----------------------------------------------------------------------------


async def test_at_most_max_turns_are_in_progress(gated: GatedStore, bundle: Bundle) -> None:
    work = handling(gated, bundle, max_turns=2)
    gated.turn_gate = asyncio.Event()
    await work.accept_many([msg(f"m{n}") for n in range(6)])  # six senders, six turns
    await gated.changed.until(lambda: gated.held >= 2)
    # Two turns are held; had more started, they would all have started in the same pass.
    assert (gated.in_turn, work.queued) == (2, 6)
    gated.turn_gate.set()
    await work.drain()
    assert gated.most_in_turn == 2
    assert len({r.outgoing.user_id for r in await gated.outbox_rows(limit=1000)}) == 6


async def test_a_sender_with_many_messages_holds_one_worker_only(
    gated: GatedStore, bundle: Bundle
) -> None:
    work = handling(gated, bundle, max_turns=2)
    alice = [msg(f"a{n}", "alice", "lệ phí kết hôn") for n in range(3)]
    await work.accept_many([*alice, msg("b0", "bob")])
    assert work.queued == 4
    await work.drain()
    assert work.queued == 0
    assert gated.most_in_turn == 2
    rows = await gated.outbox_rows(limit=1000)
    first_of: dict[str, int] = {}
    for row in rows:
        first_of.setdefault(row.outgoing.user_id, row.id)
    last_alice = max(r.id for r in rows if r.outgoing.user_id == "alice")
    # Bob's turn ran beside Alice's first ones, not behind all three of hers.
    assert first_of["bob"] < last_alice
    assert await gated.pending_inbound() == []


# --- the webhook -------------------------------------------------------------------------------


async def test_a_messenger_batch_is_recorded_in_one_transaction(
    aiohttp_client: AiohttpClient,
    tmp_path: Path,
    bundle: Bundle,
    platforms: FakePlatforms,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client: TestClient[Any, Any] = await aiohttp_client(
        create_app(make_settings(tmp_path, platforms.url), bundle)
    )
    store: Store = client.app[STORE_KEY]
    calls: list[int] = []
    original = store.record_inbound_many

    async def spy(msgs: Sequence[Incoming]) -> list[bool]:
        calls.append(len(msgs))
        return await original(msgs)

    monkeypatch.setattr(store, "record_inbound_many", spy)
    events = [fb_text(mid=f"m-{n}", sender=f"psid-{n}") for n in range(30)]
    raw = encode(fb_batch(*events, per_entry=7))
    response = await client.post("/webhooks/facebook", data=raw, headers=fb_sign(raw))
    assert response.status == 200
    assert calls == [30]


# --- dialogs behind the webhooks -------------------------------------------------------------


class Passes:
    """Counts passes of the event loop: a callback that schedules itself again each pass."""

    def __init__(self) -> None:
        self.count = 0
        self._handle = asyncio.get_running_loop().call_soon(self._tick)

    def _tick(self) -> None:
        self.count += 1
        self._handle = asyncio.get_running_loop().call_soon(self._tick)

    def stop(self) -> None:
        self._handle.cancel()


async def test_dialogs_run_one_per_pass_of_the_loop_in_order() -> None:
    pacer = DialogPacer(gap=3600)
    passes = Passes()
    ran: list[tuple[str, int]] = []

    def job(name: str) -> str:
        ran.append((name, passes.count))
        return name.upper()

    results = await asyncio.gather(*(pacer.run(partial(job, n)) for n in "abcd"))
    passes.stop()
    assert results == ["A", "B", "C", "D"]
    assert [name for name, _ in ran] == ["a", "b", "c", "d"]
    at = [n for _, n in ran]
    assert all(later > earlier for earlier, later in itertools.pairwise(at))  # never two in a pass
    assert at[-1] - at[0] <= 6  # and no waiting: nothing was being acknowledged


class VirtualClockSelector(selectors.DefaultSelector):
    """Never sleeps: a wait for the next timer moves the virtual clock there instead."""

    def __init__(self) -> None:
        super().__init__()
        self.now = 0.0

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if not ready and timeout:  # nothing to read and a timer ahead: jump to it
            self.now += timeout
        return ready


class VirtualClockLoop(asyncio.SelectorEventLoop):
    """An event loop on a fake clock: its time stands still while callbacks are ready to run and
    jumps to the next timer when none is. A paced test then takes no wall time, and how busy the
    machine is cannot change what it sees: `sleep(0.01)` is exactly 0.01 s of loop time. Built
    from public hooks only (the selector the loop waits on, and `time()`). Only for code that
    waits on nothing but the loop (no threads, no sockets)."""

    def __init__(self) -> None:
        self._clock = VirtualClockSelector()
        super().__init__(self._clock)

    def time(self) -> float:
        return self._clock.now


def on_virtual_clock(scenario: Coroutine[Any, Any, None]) -> None:
    loop = VirtualClockLoop()
    try:
        loop.run_until_complete(scenario)
    finally:
        loop.close()


def test_while_webhooks_wait_dialogs_go_once_per_gap_and_never_stop() -> None:
    async def scenario() -> None:
        pacer = DialogPacer(gap=0.02, flood=1)
        loop = asyncio.get_running_loop()
        at: list[float] = []
        with pacer.acknowledging():  # a webhook that never gets its 200: the turns still move
            await asyncio.gather(*(pacer.run(lambda: at.append(loop.time())) for _ in range(3)))
        assert [b - a for a, b in itertools.pairwise(at)] == pytest.approx([0.02, 0.02])

    on_virtual_clock(scenario())


def test_dialogs_give_way_until_the_webhooks_have_been_quiet_for_a_gap() -> None:
    async def scenario() -> None:
        pacer = DialogPacer(gap=0.05, flood=1)
        loop = asyncio.get_running_loop()
        with pacer.acknowledging():
            first = await pacer.run(loop.time)  # the first goes at once
            second = asyncio.ensure_future(pacer.run(loop.time))
            await asyncio.sleep(0.01)  # on the fake clock: all that was due within 0.01 s ran
            assert not second.done()
            answered = loop.time()
        assert pacer.busy()  # the next webhook is usually on its way
        assert await asyncio.wait_for(second, 1) == pytest.approx(first + 0.05)  # a gap later
        assert pacer.busy()  # quiet for 0.04 s only
        await asyncio.sleep(0.02)
        assert loop.time() > answered + 0.05  # quiet for more than a gap
        assert not pacer.busy()
        assert await pacer.run(lambda: "at once") == "at once"

    on_virtual_clock(scenario())


async def test_a_steady_load_is_not_a_flood_and_is_not_paced() -> None:
    pacer = DialogPacer(gap=3600, flood=4)
    with pacer.acknowledging(), pacer.acknowledging():  # two webhooks in flight: steady load
        assert not pacer.busy()
        results = await asyncio.gather(*(pacer.run(lambda: "now") for _ in range(5)))
    assert results == ["now"] * 5  # with a one-hour gap: none of them was held
    with contextlib.ExitStack() as flood:
        for _ in range(4):
            flood.enter_context(pacer.acknowledging())
        assert pacer.busy()
    assert pacer.busy()  # and for a gap after the flood


async def test_a_failing_dialog_fails_its_own_turn_only() -> None:
    pacer = DialogPacer(gap=0)

    def broken() -> None:
        raise KeyError("topic")

    results = await asyncio.gather(
        pacer.run(lambda: 1), pacer.run(broken), pacer.run(lambda: 3), return_exceptions=True
    )
    assert results[0] == 1 and isinstance(results[1], KeyError) and results[2] == 3


class TimedDialog:
    """The real dialog, noting the loop time of each of its turns."""

    def __init__(self, bundle: Bundle) -> None:
        self._dialog = bundle.dialog
        self.at: list[float] = []
        self.changed = Signal()

    def handle(self, *args: Any) -> Any:
        self.at.append(asyncio.get_running_loop().time())
        self.changed.notify()
        return self._dialog.handle(*args)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._dialog, name)


async def test_turns_give_way_to_a_webhook_waiting_for_its_200(
    gated: GatedStore, bundle: Bundle
) -> None:
    gap = 0.1
    dialog = TimedDialog(bundle)
    slot = BundleSlot(cast(Bundle, type("E", (), {"dialog": dialog, "kb": bundle.kb})()))
    work = TurnQueue(
        gated, slot, FloodGate(100, 60), wake=lambda: None, dialog_gap=gap, flood_waiting=1
    )
    gated.turn_gate = asyncio.Event()
    await work.accept_many([msg(f"m{n}") for n in range(4)])  # four turns on their way
    await gated.changed.until(lambda: gated.held == 4)  # each a step short of its dialog
    gated.record_gate = asyncio.Event()
    webhook = asyncio.create_task(work.accept_many([msg("late")]))
    await gated.changed.until(lambda: gated.recorded[-1:] == [["late"]])  # waits for its 200
    gated.turn_gate.set()  # all four turns want their dialogs at once
    await dialog.changed.until(lambda: len(dialog.at) == 2)
    assert not webhook.done()
    # One went at once; the next one waited for the gap, leaving the loop to the webhook. Timers
    # fire up to the clock's resolution early: hence the millisecond.
    assert dialog.at[1] - dialog.at[0] >= gap - 0.001
    gated.record_gate.set()
    assert (await webhook)[0] is not None
    await work.drain()
    assert len(dialog.at) == 5
    assert await gated.pending_inbound() == []
    assert len(await gated.outbox_rows(limit=1000)) >= 5


async def test_each_senders_turns_keep_their_order_through_group_commits(
    gated: GatedStore, bundle: Bundle, db_path: Path
) -> None:
    gated.gate = asyncio.Event()
    work = handling(gated, bundle)
    texts = ["lệ phí kết hôn", "còn giấy tờ thì sao?", "mất bao lâu?"]
    webhooks = [asyncio.create_task(work.accept_many([msg("m0", "alice", texts[0])]))]
    await gated.changed.until(lambda: gated.recorded == [["m0"]])  # held at the gate
    webhooks += [
        asyncio.create_task(work.accept_many([msg(f"m{n}", "alice", text)]))
        for n, text in enumerate(texts[1:], start=1)
    ]
    webhooks.append(asyncio.create_task(work.accept_many([msg("b0", "bob")])))
    await parked(*webhooks[1:])  # all wait for the next commit
    gated.gate.set()
    await asyncio.gather(*webhooks)
    assert gated.recorded == [["m0"], ["m1", "m2", "b0"]]
    await work.drain()
    with closing(sqlite3.connect(db_path)) as conn:
        order = conn.execute(
            "SELECT message_id FROM inbound WHERE user_id = 'alice' ORDER BY handled_at, id"
        ).fetchall()
        per_message = conn.execute(
            "SELECT i.message_id, min(o.id) FROM outbox o JOIN inbound i ON i.id = o.inbound_id"
            " WHERE o.user_id = 'alice' GROUP BY i.message_id ORDER BY min(o.id)"
        ).fetchall()
    assert [m for (m,) in order] == ["m0", "m1", "m2"]
    assert [m for m, _ in per_message] == ["m0", "m1", "m2"]
    assert (await gated.load_state(FB, "alice") or State()).topic == "ket-hon"
