import asyncio

from webhooks.keyed_lock import KeyedLock


async def test_work_is_serial_per_key_in_arrival_order_and_locks_are_dropped() -> None:
    locks: KeyedLock[str] = KeyedLock()
    order: list[str] = []
    release = asyncio.Event()
    holding = asyncio.Event()

    async def work(key: str, name: str, wait: bool = False) -> None:
        async with locks(key):
            order.append(f"start {name}")
            if wait:
                holding.set()
                await release.wait()
            order.append(f"end {name}")

    first = asyncio.create_task(work("a", "a1", wait=True))
    await holding.wait()
    second = asyncio.create_task(work("a", "a2"))
    other = asyncio.create_task(work("b", "b1"))
    await other  # another key is not held up
    assert order == ["start a1", "start b1", "end b1"]
    release.set()
    await asyncio.gather(first, second)
    assert order[3:] == ["end a1", "start a2", "end a2"]
    assert len(locks) == 0
