"""What the `bot` commands share: their settings, a store opened for one job, who ran them.

Apart from bot/cli.py so that command groups in modules of their own (bot/cli_review.py) use the
same helpers without importing the module that registers them.
"""

from __future__ import annotations

import asyncio
import getpass
from collections.abc import Awaitable, Callable
from typing import TypeVar

import click

from bot.config import ConfigError, Settings, load_settings
from bot.store import Store

T = TypeVar("T")


def cli_settings(config: str | None) -> Settings:
    """Settings for a command, or a ClickException with a hint."""
    try:
        return load_settings(config)
    except ConfigError as exc:
        raise click.ClickException(f"{exc}\nHint: see the settings table in README.md") from exc


def store_run(settings: Settings, job: Callable[[Store], Awaitable[T]]) -> T:
    """Run `job` on the store of `settings`, opened for it and closed after."""

    async def run() -> T:
        store = await Store.open(settings.db_path())
        try:
            return await job(store)
        finally:
            await store.close()

    return asyncio.run(run())


def actor() -> str:
    """Who ran a staff command, for the audit log."""
    try:
        return f"cli:{getpass.getuser()}"
    except (KeyError, OSError):
        return "cli"
