"""Benchmark the retention purge: how long it holds the store, and the disk space it gives back.

Not part of the test suite. Run from the repository root:

    .venv/bin/python bench/privacy.py              # 200,000 rows, then 20,000 web-chat turns
    .venv/bin/python bench/privacy.py --rows 20000 --turns 2000     # quicker

1. `--rows` handled messages, as many sent replies, a conversation per 10 messages, all
   expired, purged by `Store.purge_expired` while a webhook-like loop records a message every
   millisecond or so: the purge's total time, its longest single job on the store thread, and
   what a recording waited for the store meanwhile (max and p99).
2. `--turns` web-chat turns through the real dialog (replies from the shipped knowledge base),
   every reply sent; the database file (and WAL) before and after the purge, for a database made
   by this version (incremental auto_vacuum) and for one made before it (no auto_vacuum).
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from sqlite_utils import Database

from bot.bundle import Bundle
from bot.models import EventKind, Incoming, Outgoing, Platform, State
from bot.models.privacy import DAY, HOUR, Retention
from bot.store import Store

ROOT = Path(__file__).resolve().parent.parent
RETENTION = Retention(
    message_text=24 * HOUR,
    message=72 * HOUR,
    state=24 * HOUR,
    conversation=8 * DAY,
    outbox=24 * HOUR,
    review=90 * DAY,
    audit=90 * DAY,
    closed_case=365 * DAY,
)
T = TypeVar("T")


class Clock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


class TimedStore(Store):
    """Records how long each job held the store thread."""

    jobs: list[float]

    async def _run(self, fn: Callable[[Database], T]) -> T:
        def timed(db: Database) -> T:
            start = time.perf_counter()
            try:
                return fn(db)
            finally:
                self.jobs.append(time.perf_counter() - start)

        return await super()._run(timed)


def sizes(path: Path) -> str:
    wal = path.with_name(path.name + "-wal")
    db_mb = path.stat().st_size / 2**20
    wal_mb = wal.stat().st_size / 2**20 if wal.exists() else 0.0
    return f"file {db_mb:.1f} MB + WAL {wal_mb:.1f} MB"


async def bulk(store: Store, rows: int, clock: Clock) -> None:
    text = "Cho tôi hỏi thủ tục đăng ký khai sinh cho con cần những giấy tờ gì ạ?"
    body = '{"text": "' + "Dạ, hồ sơ đăng ký khai sinh gồm tờ khai, giấy chứng sinh. " * 8 + '"}'
    now = clock()

    def fill(db: Database) -> None:
        with db.atomic():
            db.conn.executemany(
                "INSERT INTO inbound (platform, message_id, user_id, kind, text, received_at,"
                " status, handled_at) VALUES ('webchat', ?, ?, 'text', ?, ?, 'handled', ?)",
                [(f"m{n}", f"u{n // 10}", text, now, now) for n in range(rows)],
            )
            db.conn.executemany(
                "INSERT INTO outbox (platform, user_id, body, status, next_attempt_at,"
                " created_at, sent_at, inbound_id) VALUES ('webchat', ?, ?, 'sent', ?, ?, ?, ?)",
                [(f"u{n // 10}", body, now, now, now, n + 1) for n in range(rows)],
            )
            db.conn.executemany(
                "INSERT INTO conversations (platform, user_id, state, updated_at,"
                " last_inbound_at) VALUES ('webchat', ?, '{}', ?, ?)",
                [(f"u{n}", now, now) for n in range(rows // 10)],
            )

    await store._run(fill)


async def purge_under_load(rows: int, folder: Path) -> None:
    clock = Clock()
    store = await TimedStore.open(folder / "big.db", clock=clock)
    store.jobs = []
    try:
        await bulk(store, rows, clock)
        clock.now += 10 * DAY
        store.jobs.clear()
        waits: list[float] = []
        done = asyncio.Event()

        async def webhooks() -> None:
            n = 0
            while not done.is_set():
                n += 1
                msg = Incoming(Platform.WEBCHAT, "live", f"live-{n}", EventKind.TEXT, "xin chào")
                start = time.perf_counter()
                await store.record_inbound(msg)
                waits.append(time.perf_counter() - start)
                await asyncio.sleep(0.001)

        load = asyncio.create_task(webhooks())
        start = time.perf_counter()
        report = await store.purge_expired(RETENTION)
        total = time.perf_counter() - start
        done.set()
        await load
        waits.sort()
        print(f"purge of {report.total:,} rows ({dict(report.rows)}):")
        print(f"  total {total:.2f} s, {len(store.jobs)} jobs on the store thread,")
        print(
            f"  longest job {max(store.jobs) * 1000:.1f} ms,"
            f" median {statistics.median(store.jobs) * 1000:.1f} ms"
        )
        print(
            f"  a recording meanwhile ({len(waits)}): p50 {waits[len(waits) // 2] * 1000:.1f} ms,"
            f" p99 {waits[int(len(waits) * 0.99)] * 1000:.1f} ms, max {waits[-1] * 1000:.1f} ms"
        )
        print(f"  {report.pages_freed:,} pages freed; {sizes(folder / 'big.db')}")
    finally:
        await store.close()


async def web_chat(turns: int, folder: Path, bundle: Bundle, old_schema: bool) -> None:
    path = folder / ("old.db" if old_schema else "new.db")
    if old_schema:  # as the database was created before this version: no auto_vacuum
        Database(path).execute("CREATE TABLE created_before (x)")
    clock = Clock()
    store = await Store.open(path, clock=clock)
    questions = [
        "làm giấy khai sinh cần gì",
        "lệ phí kết hôn bao nhiêu",
        "chứng thực bản sao ở đâu",
        "xin chào",
        "thủ tục nhận con nuôi",
    ]
    try:
        state: dict[str, State | None] = {}
        for n in range(turns):
            user = f"session-{n % 2000}"
            msg = Incoming(Platform.WEBCHAT, user, f"w{n}", EventKind.TEXT, questions[n % 5])
            turn = bundle.dialog.handle(state.get(user), msg, int(clock() * 1000))
            state[user] = turn.state
            out = [Outgoing(Platform.WEBCHAT, user, r) for r in turn.replies]
            await store.complete_turn(msg, turn.state, out, turn.unanswered, turn.handoff)
        await store._run(lambda db: db.execute("UPDATE outbox SET status = 'sent'"))
        assert store._checkpointer is not None
        await store._checkpointer.run("TRUNCATE")
        label = "made before this version" if old_schema else "made by this version"
        print(f"{turns:,} web-chat turns, database {label}:")
        print(f"  before the purge: {sizes(path)}")
        clock.now += 10 * DAY
        start = time.perf_counter()
        report = await store.purge_expired(RETENTION)
        print(
            f"  after the purge ({report.total:,} rows, {time.perf_counter() - start:.2f} s):"
            f" {sizes(path)}"
        )
        if old_schema:
            start = time.perf_counter()
            converted = await store.ensure_incremental_vacuum()
            took = time.perf_counter() - start
            print(f"  after the one-time conversion ({converted}, {took:.2f} s): {sizes(path)}")
    finally:
        await store.close()


async def main(args: Any) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        await purge_under_load(args.rows, folder)
        bundle = Bundle.load(ROOT / "knowledge")
        for old in (False, True):
            await web_chat(args.turns, folder, bundle, old)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--turns", type=int, default=20_000)
    asyncio.run(main(parser.parse_args()))
