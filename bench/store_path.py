"""The store's share of one message, in-process: CPU (all threads) and wall time per message;
and a store round trip while the event loop is as busy as under a flood of webhooks.

Not part of the test suite. Run from the root of a checkout (its `bot` package is the one
measured, so the same file can time an older checkout for a before/after):

    .venv/bin/python bench/store_path.py 3000
    .venv/bin/python bench/store_path.py 1000 --busy
    (cd /tmp/old && /path/to/.venv/bin/python /path/to/bench/store_path.py 3000)

What the bot does with the store for each message under bench/load.py's saturated load, without
the HTTP, the dialog and the sends: webhooks recorded 16 at a time, then 8 turns at once
(load_state, complete_turn with one reply) while a delivery loop claims due rows, up to 8, and
marks them sent. On uvloop, like `bot serve`. On a shared machine compare runs interleaved.

--busy: BUSY_TASKS tasks each take BUSY_SECONDS of CPU per pass of the event loop (as webhook
handlers do under bench/load.py's saturated phase) while one message at a time is recorded:
the round trip counts the passes of the loop a store call waits through, not SQLite's time.
"""

from __future__ import annotations

import asyncio
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

import uvloop

sys.path.insert(0, os.getcwd())  # the checkout we are run from, before any installed one

from bot.models import EventKind, Incoming, Outgoing, Platform, Reply, State
from bot.store import Store

TEXT = "Thủ tục đăng ký khai sinh cho con cần những giấy tờ gì ạ? " * 2
REPLY = Reply("Để đăng ký khai sinh, bạn cần tờ khai, giấy chứng sinh và giấy tờ tùy thân. " * 6)
TURNS = 8
RECORDED_TOGETHER = 16
BUSY_TASKS = 40
BUSY_SECONDS = 0.00015


async def one_batch(store: Store, tag: str, count: int) -> None:
    msgs = [
        Incoming(Platform.FACEBOOK, f"{tag}u{n}", f"{tag}m{n}", EventKind.TEXT, TEXT)
        for n in range(count)
    ]
    for k in range(0, count, RECORDED_TOGETHER):
        group = msgs[k : k + RECORDED_TOGETHER]
        await asyncio.gather(*(store.record_inbound_many([m]) for m in group))
    todo = list(msgs)

    async def turns() -> None:
        while todo:
            msg = todo.pop()
            state = await store.load_state(msg.platform, msg.user_id) or State()
            out = [Outgoing(msg.platform, msg.user_id, REPLY)]
            await store.complete_turn(msg, state, out)

    async def deliver() -> None:
        sent = 0
        while sent < count:
            rows = await store.claim_due(time.time(), TURNS, 60, [Platform.FACEBOOK])
            if not rows:
                await asyncio.sleep(0.001)
                continue
            await asyncio.gather(*(store.mark_sent(row.id) for row in rows))
            sent += len(rows)

    await asyncio.gather(*(turns() for _ in range(TURNS)), deliver())


def cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def main(count: int) -> None:
    store = await Store.open(Path(tempfile.mkdtemp(prefix="store-path-")) / "bot.db")
    try:
        await one_batch(store, "warm", 300)
        cpu0, wall0 = cpu(), time.perf_counter()
        await one_batch(store, "x", count)
        used, wall = cpu() - cpu0, time.perf_counter() - wall0
    finally:
        await store.close()
    print(
        f"store path: {1000 * used / count:.3f} ms CPU per message (all threads), wall "
        f"{1000 * wall / count:.3f} ms; load average {os.getloadavg()[0]:.2f}"
    )


async def busy_round_trips(count: int) -> None:
    store = await Store.open(Path(tempfile.mkdtemp(prefix="store-path-")) / "bot.db")
    stop = False

    async def handler() -> None:
        while not stop:
            end = time.perf_counter() + BUSY_SECONDS
            while time.perf_counter() < end:
                pass
            await asyncio.sleep(0)

    handlers = [asyncio.create_task(handler()) for _ in range(BUSY_TASKS)]
    seconds = []
    try:
        for n in range(count):
            msg = Incoming(Platform.FACEBOOK, f"u{n}", f"m{n}", EventKind.TEXT, TEXT)
            start = time.perf_counter()
            await store.record_inbound_many([msg])
            seconds.append(time.perf_counter() - start)
    finally:
        stop = True
        await asyncio.gather(*handlers)
        await store.close()
    seconds.sort()

    def ms(p: float) -> float:
        return 1000 * seconds[min(len(seconds) - 1, round(p / 100 * (len(seconds) - 1)))]

    print(
        f"round trip with a busy loop: p50 {ms(50):.2f} ms, p90 {ms(90):.2f} ms, "
        f"p99 {ms(99):.2f} ms; load average {os.getloadavg()[0]:.2f}"
    )


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 3000
    uvloop.run(busy_round_trips(count) if "--busy" in sys.argv else main(count))
