"""The store: idempotent intake, one-transaction turns, state, the outbox queue and its leases,
and the group commit that shares one transaction between the writes of concurrent callers."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from bot.models import EventKind, Incoming, Outgoing, Platform, QuickReply, Reply, State
from bot.store import OutboxRow, Store, StoreClosedError
from bot.store.checkpoint import BACKSTOP_PAGES

if TYPE_CHECKING:
    from tests.conftest import FakeClock

FB, ZALO = Platform.FACEBOOK, Platform.ZALO


def msg(
    mid: str = "m1",
    user: str = "u1",
    text: str = "lệ phí khai sinh",
    kind: EventKind = EventKind.TEXT,
    payload: str | None = None,
    timestamp_ms: int = 0,
) -> Incoming:
    return Incoming(FB, user, mid, kind, text, payload, timestamp_ms)


def out(text: str, user: str = "u1", platform: Platform = FB) -> Outgoing:
    return Outgoing(platform, user, Reply(text))


def sql(path: Path, query: str, *params: object) -> list[tuple[object, ...]]:
    """Look at (or sabotage) the file through a second connection, as an operator would."""
    with closing(sqlite3.connect(path)) as conn, conn:
        return conn.execute(query, params).fetchall()


async def test_open_migrates_once_and_sets_pragmas(db_path: Path, clock: FakeClock) -> None:
    for _ in range(2):  # the second open finds the schema current and applies nothing
        store = await Store.open(db_path, clock=clock)
        await store.close()
    names = sql(db_path, "SELECT name FROM _sqlite_migrations ORDER BY name")
    assert names == [
        ("0001_initial",),
        ("0002_cases",),
        ("0003_case_lookup_throttle",),
        ("0004_privacy",),
        ("0005_staff",),
        ("0006_review",),
        ("0007_clerks",),
        ("0008_handoff",),
        ("0009_ratings",),
        ("0010_to_staff",),
    ]
    assert sql(db_path, "PRAGMA journal_mode") == [("wal",)]
    # INCREMENTAL (2), set before the first table: purges give disk space back (privacy.py).
    assert sql(db_path, "PRAGMA auto_vacuum") == [(2,)]
    store = await Store.open(db_path, clock=clock)
    try:  # per connection: NORMAL (1) in WAL survives a killed process (test_crash.py)
        assert await store._run(lambda db: db.execute("PRAGMA synchronous").fetchone()) == (1,)
    finally:
        await store.close()


async def test_checkpoints_run_beside_the_writer_not_in_its_commits(
    db_path: Path, clock: FakeClock
) -> None:
    store = await Store.open(db_path, clock=clock)
    try:
        pragma = await store._run(lambda db: db.execute("PRAGMA wal_autocheckpoint").fetchone())
        assert pragma == (BACKSTOP_PAGES,)  # the writer only checkpoints past the backstop
        await store.record_inbound_many([msg(f"m{n}", f"u{n}") for n in range(200)])
        checkpointer = store._checkpointer
        assert checkpointer is not None
        await checkpointer.run()  # waits for the one that commit started, then runs one more
        assert checkpointer.done == 2
        # Everything in the WAL is already in the database file: nothing left to copy.
        busy, frames, copied = sql(db_path, "PRAGMA wal_checkpoint(PASSIVE)")[0]
        assert busy == 0 and frames == copied
    finally:
        await store.close()
    assert len(sql(db_path, "SELECT id FROM inbound")) == 200


async def test_an_in_memory_store_has_no_checkpointer(clock: FakeClock) -> None:
    store = await Store.open(":memory:", clock=clock)
    try:
        assert store._checkpointer is None
        assert await store.record_inbound(msg()) is True
    finally:
        await store.close()


async def test_open_creates_the_folder(tmp_path: Path) -> None:
    store = await Store.open(tmp_path / "data" / "bot.db")
    await store.close()
    assert (tmp_path / "data" / "bot.db").is_file()


async def test_closed_store_refuses_calls(store: Store) -> None:
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(StoreClosedError):
        await store.backlog()


async def test_a_platform_retry_is_refused(store: Store) -> None:
    assert await store.record_inbound(msg("m1")) is True
    assert await store.record_inbound(msg("m1", text="the same id again")) is False
    assert await store.record_inbound(msg("m2")) is True
    # The same id on another platform is another message.
    assert await store.record_inbound(Incoming(ZALO, "u1", "m1")) is True
    assert [m.message_id for m in await store.pending_inbound()] == ["m1", "m2", "m1"]


async def test_pending_inbound_survives_a_crash(db_path: Path, clock: FakeClock) -> None:
    first = msg("m1", kind=EventKind.POSTBACK, payload="TOPIC:khai-sinh", timestamp_ms=17)
    store = await Store.open(db_path, clock=clock)
    await store.record_inbound(first)
    await store.record_inbound(msg("m2"))
    await store.record_inbound(msg("m3"))
    await store.complete_turn(msg("m2"), State(), [])
    await store.fail_inbound(FB, "m3", "KeyError")
    await store.close()  # the process dies before handling m1

    store = await Store.open(db_path, clock=clock)
    try:
        assert await store.pending_inbound() == [first]
        assert await store.record_inbound(first) is False  # still known after the restart
    finally:
        await store.close()
    assert sql(db_path, "SELECT error FROM inbound WHERE message_id = 'm3'") == [("KeyError",)]


async def test_state_round_trip(store: Store) -> None:
    state = State(topic="khai-sinh", lang="en", options=("A", "B"), facets=("fee",), updated_ms=5)
    assert await store.load_state(FB, "u1") is None
    await store.complete_turn(msg(), state, [])
    assert await store.load_state(FB, "u1") == state
    assert await store.load_state(ZALO, "u1") is None


@pytest.mark.parametrize(
    ("saved", "expected"),
    [
        ('{"topic": "ket-hon", "mood": "new field"}', State(topic="ket-hon")),
        ('{"lang": "fr", "options": "not a list", "updated_ms": "x"}', State()),
        ('{"options": ["1", "2"]}', State(options=("1", "2"))),
        ("not json", None),
        ("[1, 2]", None),
    ],
)
async def test_load_state_tolerates_other_schemas(
    store: Store, db_path: Path, saved: str, expected: State | None
) -> None:
    sql(
        db_path,
        "INSERT INTO conversations (platform, user_id, state) VALUES ('facebook', 'u1', ?)",
        saved,
    )
    assert await store.load_state(FB, "u1") == expected


async def test_last_inbound_at_is_when_the_user_wrote(store: Store, clock: FakeClock) -> None:
    assert await store.last_inbound_at(FB, "u1") is None
    await store.record_inbound(msg("m1"))
    written = clock.now
    clock.advance(30)
    await store.complete_turn(msg("m1"), State(), [out("hi")])  # answering is not writing
    assert await store.last_inbound_at(FB, "u1") == written
    await store.record_inbound(msg("m2"))
    assert await store.last_inbound_at(FB, "u1") == written + 30


async def test_complete_turn_records_everything(store: Store, db_path: Path) -> None:
    await store.record_inbound(msg("m1", text="gặp cán bộ"))
    reply = Reply("Chọn:", (QuickReply("Lệ phí", "FACET:khai-sinh:fee"),))
    done = await store.complete_turn(
        msg("m1", text="gặp cán bộ"),
        State(topic="gap-can-bo"),
        [out("Xin chào"), Outgoing(FB, "u1", reply)],
        unanswered=True,
        handoff=True,
    )
    assert done is True
    assert await store.pending_inbound() == []
    rows = await store.outbox_rows()
    assert [(r.outgoing.reply, r.seq, r.status, r.source) for r in rows] == [
        (Reply("Xin chào"), 0, "pending", "turn"),
        (reply, 1, "pending", "turn"),
    ]
    assert [q["text"] for q in await store.unanswered_questions()] == ["gặp cán bộ"]
    assert [(h["user_id"], h["status"]) for h in await store.open_handoffs()] == [("u1", "open")]
    # A second request while one is open does not queue the citizen twice.
    await store.complete_turn(msg("m2"), State(), [], handoff=True)
    assert len(await store.open_handoffs()) == 1
    assert sql(db_path, "SELECT status FROM inbound ORDER BY id") == [("handled",), ("handled",)]


async def test_complete_turn_twice_writes_nothing_the_second_time(store: Store) -> None:
    await store.record_inbound(msg())
    assert await store.complete_turn(msg(), State(topic="a"), [out("one")]) is True
    assert await store.complete_turn(msg(), State(topic="b"), [out("two")]) is False
    assert [r.outgoing.reply.text for r in await store.outbox_rows()] == ["one"]
    assert await store.load_state(FB, "u1") == State(topic="a")


async def test_complete_turn_is_all_or_nothing(store: Store, db_path: Path) -> None:
    await store.record_inbound(msg())
    # Make the last write of the turn fail, after the state, the outbox and the status.
    sql(
        db_path,
        "CREATE TRIGGER no_handoffs BEFORE INSERT ON handoffs"
        " BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    )
    with pytest.raises(sqlite3.DatabaseError, match="disk full"):
        await store.complete_turn(msg(), State(topic="x"), [out("a"), out("b")], True, True)
    assert await store.pending_inbound() == [msg()]
    assert await store.outbox_rows() == []
    assert await store.load_state(FB, "u1") is None
    assert await store.unanswered_questions() == []
    # The store is still usable: the transaction was rolled back, not left open.
    sql(db_path, "DROP TRIGGER no_handoffs")
    assert await store.complete_turn(msg(), State(topic="x"), [out("a")], True, True) is True


async def test_a_turn_for_an_unrecorded_message_is_recorded(store: Store) -> None:
    webchat = Incoming(Platform.WEBCHAT, "browser-1", "w1", text="xin chào")
    assert await store.complete_turn(webchat, State(), [out("chào", "browser-1")]) is True
    assert await store.record_inbound(webchat) is False
    assert await store.pending_inbound() == []


async def test_claim_keeps_each_user_in_order(store: Store, clock: FakeClock) -> None:
    await store.enqueue([out("a1", "a"), out("a2", "a"), out("b1", "b"), out("a3", "a")])
    now = clock.now

    def texts(rows: list[OutboxRow]) -> list[str]:
        return [r.outgoing.reply.text for r in rows]

    first = await store.claim_due(now, 10, 30)
    assert texts(first) == ["a1", "b1"]  # a2 waits for a1, whatever happens to a1
    assert await store.claim_due(now, 10, 30) == []  # leased, and a2 is behind a1
    await store.mark_retry(first[0].id, now + 5, "HTTP 500")
    await store.mark_sent(first[1].id)
    assert await store.claim_due(now + 4, 10, 30) == []  # a1 not due yet, a2 still behind it
    again = await store.claim_due(now + 5, 10, 30)
    assert texts(again) == ["a1"] and again[0].attempts == 2
    await store.mark_failed(again[0].id, "user unreachable")
    assert texts(await store.claim_due(now + 5, 10, 30)) == ["a2"]  # a failure unblocks the user
    assert await store.backlog() == 2


async def test_claim_respects_limit_and_platforms(store: Store, clock: FakeClock) -> None:
    await store.enqueue(
        [out("f1", "a"), out("z1", "b", ZALO), out("f2", "c"), out("w", "d", Platform.WEBCHAT)]
    )
    rows = await store.claim_due(clock.now, 2, 30, platforms=[FB, ZALO])
    assert [r.outgoing.reply.text for r in rows] == ["f1", "z1"]
    rows = await store.claim_due(clock.now, 10, 30, platforms=[FB, ZALO])
    assert [r.outgoing.reply.text for r in rows] == ["f2"]
    assert await store.claim_due(clock.now, 10, 30, platforms=[]) == []


async def test_an_expired_lease_is_claimed_again(store: Store, clock: FakeClock) -> None:
    await store.enqueue([out("hello")])
    (row,) = await store.claim_due(clock.now, 10, lease_seconds=30)
    assert row.attempts == 1
    # The worker died without marking the row: it is invisible until the lease runs out.
    assert await store.claim_due(clock.now + 29.9, 10, 30) == []
    (again,) = await store.claim_due(clock.now + 30, 10, 30)
    assert (again.id, again.attempts) == (row.id, 2)


async def test_marks_are_recorded(store: Store, clock: FakeClock) -> None:
    await store.enqueue([out("a", "a"), out("b", "b")], source="deadline")
    sent, failed = await store.claim_due(clock.now, 10, 30)
    clock.advance(2)
    await store.mark_sent(sent.id)
    await store.mark_failed(failed.id, "x" * 1000)
    await store.mark_sent(failed.id)  # too late: a finished row keeps its outcome
    a, b = await store.outbox_rows()
    assert (a.status, a.sent_at, a.source) == ("sent", clock.now, "deadline")
    assert (b.status, b.last_error) == ("failed", "x" * 500)
    assert [r.id for r in await store.outbox_rows(status="failed")] == [b.id]
    assert [r.id for r in await store.outbox_rows(user_id="a")] == [a.id]
    assert await store.backlog() == 0


async def test_key_values(store: Store, db_path: Path, clock: FakeClock) -> None:
    assert await store.get_value("zalo.access_token") is None
    await store.set_value("zalo.access_token", "t1")
    await store.set_value("zalo.access_token", "t2")
    assert await store.get_value("zalo.access_token") == "t2"
    assert sql(db_path, "SELECT count(*) FROM kv") == [(1,)]


# --- group commit ------------------------------------------------------------------------------


@asynccontextmanager
async def store_thread_held(store: Store) -> AsyncIterator[None]:
    """Keep the store's thread busy until the block ends: writes asked meanwhile queue up."""
    gate = threading.Event()
    busy = asyncio.get_running_loop().run_in_executor(store._executor, gate.wait, 10)
    try:
        yield
    finally:
        gate.set()
        await busy


@asynccontextmanager
async def statements(store: Store) -> AsyncIterator[list[str]]:
    """The SQL the store's connection runs inside the block (sqlite3's trace hook)."""
    seen: list[str] = []
    await store._run(lambda db: db.conn.set_trace_callback(seen.append))
    try:
        yield seen
    finally:
        await store._run(lambda db: db.conn.set_trace_callback(None))


def commits(seen: list[str]) -> int:
    return sum(1 for s in seen if s.strip().upper() == "COMMIT")


async def test_turns_completed_together_share_one_commit(store: Store) -> None:
    users = ["a", "b", "c", "d"]
    for user in users:
        await store.record_inbound(msg(f"m-{user}", user))
    await store.complete_turn(msg("m-d", "d"), State(), [])  # d is already handled
    async with statements(store) as seen:
        async with store_thread_held(store):
            turns = asyncio.gather(
                *(
                    store.complete_turn(msg(f"m-{u}", u), State(topic=u), [out(f"{u}1", u)])
                    for u in users
                )
            )
            await asyncio.sleep(0)  # every call has queued its write behind the busy thread
        done = await turns
    assert done == [True, True, True, False]  # each caller learns its own outcome
    assert commits(seen) == 1
    assert [r.outgoing.reply.text for r in await store.outbox_rows()] == ["a1", "b1", "c1"]
    assert await store.load_state(FB, "c") == State(topic="c")
    assert await store.pending_inbound() == []


async def test_state_reads_join_the_group_in_arrival_order(store: Store) -> None:
    await store.complete_turn(msg("m-1"), State(topic="old"), [])
    await store.record_inbound(msg("m-2"))
    async with statements(store) as seen:
        async with store_thread_held(store):
            calls = asyncio.gather(
                store.load_state(FB, "u1"),
                store.complete_turn(msg("m-2"), State(topic="new"), []),
                store.load_state(FB, "u1"),
            )
            await asyncio.sleep(0)  # all three wait for the same group
        before, done, after = await calls
    assert (before, done, after) == (State(topic="old"), True, State(topic="new"))
    assert commits(seen) == 1
    reads = [n for n, s in enumerate(seen) if s.startswith("SELECT state FROM conversations")]
    begin = seen.index("BEGIN")
    # The read that came first runs before the transaction (it holds no snapshot a write would
    # have to upgrade); the one after the turn runs inside it and sees the turn's state.
    assert reads[0] < begin < reads[1] < seen.index("COMMIT")


async def test_a_failing_turn_in_a_group_loses_only_its_own_writes(
    store: Store, db_path: Path
) -> None:
    for user in "abc":
        await store.record_inbound(msg(f"m-{user}", user))
    # b's last write fails, after its state, its outbox rows and its status were written.
    sql(
        db_path,
        "CREATE TRIGGER no_handoff_for_b BEFORE INSERT ON handoffs WHEN NEW.user_id = 'b'"
        " BEGIN SELECT RAISE(ABORT, 'disk full'); END",
    )
    async with statements(store) as seen:
        async with store_thread_held(store):
            turns = asyncio.gather(
                *(
                    store.complete_turn(
                        msg(f"m-{u}", u),
                        State(topic=u),
                        [out(f"{u}1", u), out(f"{u}2", u)],
                        handoff=True,
                    )
                    for u in "abc"
                ),
                return_exceptions=True,
            )
            await asyncio.sleep(0)
        a, b, c = await turns
    assert a is True and c is True
    assert isinstance(b, sqlite3.DatabaseError) and "disk full" in str(b)
    assert commits(seen) == 1  # a and c still went in one transaction
    assert [r.outgoing.reply.text for r in await store.outbox_rows()] == ["a1", "a2", "c1", "c2"]
    assert await store.pending_inbound() == [msg("m-b", "b")]  # nothing of b's turn stands
    assert await store.load_state(FB, "b") is None
    assert [h["user_id"] for h in await store.open_handoffs()] == ["a", "c"]


async def test_a_group_whose_transaction_dies_commits_one_by_one(
    store: Store, db_path: Path
) -> None:
    for user in "abc":
        await store.record_inbound(msg(f"m-{user}", user))
    # RAISE(ROLLBACK) ends the WHOLE transaction, savepoints and the other callers' writes too.
    sql(
        db_path,
        "CREATE TRIGGER kill_b BEFORE INSERT ON outbox WHEN NEW.user_id = 'b'"
        " BEGIN SELECT RAISE(ROLLBACK, 'gone'); END",
    )
    async with statements(store) as seen:
        async with store_thread_held(store):
            turns = asyncio.gather(
                *(store.complete_turn(msg(f"m-{u}", u), State(), [out(u, u)]) for u in "abc"),
                return_exceptions=True,
            )
            await asyncio.sleep(0)
        a, b, c = await turns
    assert (a, c) == (True, True)
    assert isinstance(b, sqlite3.IntegrityError)
    assert commits(seen) == 2  # the group failed; a and c then committed alone, b failed alone
    assert [r.outgoing.reply.text for r in await store.outbox_rows()] == ["a", "c"]
    assert [m.message_id for m in await store.pending_inbound()] == ["m-b"]


async def test_a_failed_commit_commits_one_by_one(
    store: Store, db_path: Path, clock: FakeClock
) -> None:
    await store.enqueue([out("a", "a"), out("b", "b"), out("c", "c")])
    a, b, c = await store.claim_due(clock.now, 10, 30)
    # Marking b sent breaks a DEFERRED foreign key: b's savepoint succeeds, the COMMIT fails.
    sql(db_path, "CREATE TABLE parent (id INTEGER PRIMARY KEY)")
    sql(
        db_path,
        "CREATE TABLE child (parent INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)",
    )
    sql(
        db_path,
        "CREATE TRIGGER orphan_b AFTER UPDATE OF status ON outbox WHEN NEW.user_id = 'b'"
        " BEGIN INSERT INTO child VALUES (42); END",
    )
    async with statements(store) as seen:
        async with store_thread_held(store):
            marks = asyncio.gather(
                store.mark_sent(a.id),
                store.mark_sent(b.id),
                store.mark_failed(c.id, "user unreachable"),
                return_exceptions=True,
            )
            await asyncio.sleep(0)
        outcomes = await marks
    assert outcomes[0] is None and outcomes[2] is None
    assert isinstance(outcomes[1], sqlite3.IntegrityError)
    assert commits(seen) == 4  # the group's (failed), then a's, b's (failed) and c's
    rows = await store.outbox_rows()
    assert [(r.outgoing.user_id, r.status) for r in rows] == [
        ("a", "sent"),
        ("b", "pending"),  # its lease runs out and it is sent again: at least once
        ("c", "failed"),
    ]


async def test_writes_keep_the_order_they_were_asked_in(store: Store, clock: FakeClock) -> None:
    async with store_thread_held(store):
        queued = asyncio.gather(
            store.enqueue([out("a1", "a"), out("a2", "a")]),
            store.enqueue([out("b1", "b")]),
            store.enqueue([out("a3", "a")]),
        )
        await asyncio.sleep(0)
    await queued
    rows = await store.outbox_rows()
    assert [(r.outgoing.reply.text, r.seq) for r in rows] == [
        ("a1", 0),
        ("a2", 1),
        ("b1", 0),
        ("a3", 0),
    ]
    texts = [r.outgoing.reply.text for r in await store.claim_due(clock.now, 10, 30)]
    assert texts == ["a1", "b1"]  # each user's oldest first, as before


async def test_close_commits_the_writes_already_asked_for(store: Store) -> None:
    async with store_thread_held(store):
        queued = asyncio.gather(*(store.enqueue([out(f"n{n}", f"u{n}")]) for n in range(3)))
        await asyncio.sleep(0)
        closing_ = asyncio.create_task(store.close())
        await asyncio.sleep(0)
    await queued
    await closing_
    with pytest.raises(StoreClosedError):
        await store.enqueue([out("late")])


async def test_a_caller_cancelled_while_its_write_waits_does_not_undo_it(store: Store) -> None:
    await store.record_inbound(msg())
    async with store_thread_held(store):
        turn = asyncio.ensure_future(store.complete_turn(msg(), State(topic="x"), [out("hi")]))
        await asyncio.sleep(0)
        turn.cancel()  # as a shutdown would: the write was already handed to the store
    with pytest.raises(asyncio.CancelledError):
        await turn
    assert await store.backlog() == 1  # committed all the same, with the group it was in
    assert await store.pending_inbound() == []
