"""Shared fixtures. Knowledge-base fixtures load the shipped knowledge base once per session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.engine import Engine
from bot.store import Store

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
SHARED_EVAL = ROOT.parent / "shared" / "eval" / "dev.jsonl"


@pytest.fixture(scope="session")
def engine() -> Engine:
    """The engine over the shipped knowledge base (matcher index built once)."""
    return Engine.load(KNOWLEDGE)


class FakeClock:
    """A settable wall clock (seconds) for the store and the outbox worker: no sleeps in tests."""

    def __init__(self, now: float = 1_750_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.db"


@pytest.fixture
async def store(db_path: Path, clock: FakeClock) -> AsyncIterator[Store]:
    """A migrated store on a fresh file, on the fake clock; closed after the test."""
    opened = await Store.open(db_path, clock=clock)
    yield opened
    await opened.close()
