"""What keeps the 200 fast under load (bench/load.py): webhooks recorded together in one
transaction, a bounded number of turns in progress, and an outbox claim that does not sort the
whole backlog."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pytest_aiohttp import AiohttpClient

from bot.dialog import State
from bot.engine import Engine
from bot.models import EventKind, Incoming, Outgoing, Platform, Reply
from bot.store import Store
from tests.conftest import FakeClock, FakePlatforms, make_settings
from tests.payloads import encode, fb_batch, fb_sign, fb_text
from webhooks.app import STORE_KEY, create_app
from webhooks.handling import EngineSlot, FloodGate, Handling

FB = Platform.FACEBOOK


def msg(mid: str, user: str | None = None, text: str = "lệ phí kết hôn") -> Incoming:
    return Incoming(FB, user or f"user-{mid}", mid, EventKind.TEXT, text)


class GatedStore(Store):
    """A store whose calls can be held at a gate, and which notes what it was asked."""

    recorded: list[list[str]]
    gate: asyncio.Event | None
    in_turn: int
    most_in_turn: int
    fail_on: set[str]  # a commit holding one of these message ids fails

    async def record_inbound_many(self, msgs: Sequence[Incoming]) -> list[bool]:
        self.recorded.append([m.message_id for m in msgs])
        if self.gate is not None:
            await self.gate.wait()
        if self.fail_on & {m.message_id for m in msgs}:
            raise sqlite3.OperationalError("database is locked")
        return await super().record_inbound_many(msgs)

    async def load_state(self, platform: Platform, user_id: str) -> State | None:
        self.in_turn += 1
        self.most_in_turn = max(self.most_in_turn, self.in_turn)
        if self.gate is not None:
            await self.gate.wait()
        return await super().load_state(platform, user_id)

    async def complete_turn(self, *args: Any, **kwargs: Any) -> bool:
        self.in_turn -= 1
        return await super().complete_turn(*args, **kwargs)


@pytest.fixture
async def gated(db_path: Path, clock: FakeClock) -> Any:
    store = await GatedStore.open(db_path, clock=clock)
    store.recorded, store.gate, store.fail_on = [], None, set()
    store.in_turn = store.most_in_turn = 0
    yield store
    await store.close()


def handling(store: Store, engine: Engine, max_turns: int = 8) -> Handling:
    flood = FloodGate(limit=100, window=60)
    return Handling(store, EngineSlot(engine), flood, wake=lambda: None, max_turns=max_turns)


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
    gated: GatedStore, engine: Engine
) -> None:
    gated.gate = asyncio.Event()
    work = handling(gated, engine)
    first = asyncio.create_task(work.accept_many([msg("m1")]))
    await asyncio.sleep(0)  # the first commit has started and is held at the gate
    second = asyncio.create_task(work.accept_many([msg("m2"), msg("m3")]))
    third = asyncio.create_task(work.accept_many([msg("m1"), msg("m4")]))  # m1: a retry
    await asyncio.sleep(0)
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


async def test_a_failed_commit_fails_every_webhook_in_it_and_starts_nothing(
    gated: GatedStore, engine: Engine
) -> None:
    gated.gate, gated.fail_on = asyncio.Event(), {"m2"}
    work = handling(gated, engine)
    first = asyncio.create_task(work.accept_many([msg("m1")]))
    await asyncio.sleep(0)  # held at the gate
    second = asyncio.create_task(work.accept_many([msg("m2")]))
    third = asyncio.create_task(work.accept_many([msg("m3")]))
    await asyncio.sleep(0)
    gated.gate.set()
    results = await asyncio.gather(first, second, third, return_exceptions=True)
    assert gated.recorded == [["m1"], ["m2", "m3"]]
    assert results[0] != [None]
    assert all(isinstance(r, sqlite3.OperationalError) for r in results[1:])  # -> HTTP 500
    await work.drain()
    assert {r.outgoing.user_id for r in await gated.outbox_rows()} == {"user-m1"}
    assert await gated.pending_inbound() == []  # m2, m3 were never recorded
    gated.fail_on = set()
    assert (await work.accept_many([msg("m2")]))[0] is not None  # the platform's retry
    await work.drain()


async def test_a_webhook_that_goes_away_still_gets_its_messages_handled(
    gated: GatedStore, engine: Engine
) -> None:
    gated.gate = asyncio.Event()
    work = handling(gated, engine)
    caller = asyncio.create_task(work.accept_many([msg("m1")]))
    await asyncio.sleep(0)
    caller.cancel()  # the client hung up while the commit was running
    gated.gate.set()
    with pytest.raises(asyncio.CancelledError):
        await caller
    await work.drain()
    assert await gated.pending_inbound() == []
    assert [r.outgoing.user_id for r in await gated.outbox_rows()][:1] == ["user-m1"]


# --- bounded turns -----------------------------------------------------------------------------


async def test_at_most_max_turns_are_in_progress(gated: GatedStore, engine: Engine) -> None:
    work = handling(gated, engine, max_turns=2)
    await work.accept_many([msg(f"m{n}") for n in range(6)])  # six senders, six turns
    gated.gate = asyncio.Event()
    await asyncio.sleep(0)  # every turn task has taken its first step
    assert gated.in_turn == 2
    gated.gate.set()
    await work.drain()
    assert gated.most_in_turn == 2
    assert len({r.outgoing.user_id for r in await gated.outbox_rows(limit=1000)}) == 6


# --- the webhook -------------------------------------------------------------------------------


async def test_a_messenger_batch_is_recorded_in_one_transaction(
    aiohttp_client: AiohttpClient,
    tmp_path: Path,
    engine: Engine,
    platforms: FakePlatforms,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    client: TestClient[Any, Any] = await aiohttp_client(
        create_app(make_settings(tmp_path, platforms.url), engine)
    )
    store = client.app[STORE_KEY]
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
