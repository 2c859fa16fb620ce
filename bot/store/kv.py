"""A small key-value table for persistent settings (e.g. the Zalo tokens after a refresh)."""

from __future__ import annotations

from bot.store.engine import Engine


class KeyValues(Engine):
    """Store methods for the kv table."""

    # -- kv ------------------------------------------------------------------------------

    async def get_value(self, key: str) -> str | None:
        """A small persistent setting (e.g. the Zalo tokens after a refresh), or None."""
        row = await self._run(
            lambda db: db.execute("SELECT value FROM kv WHERE key = ?", [key]).fetchone()
        )
        return None if row is None else str(row[0])

    async def set_value(self, key: str, value: str) -> None:
        sql = (
            "INSERT INTO kv (key, value, updated_at) VALUES (?, ?, ?) ON CONFLICT (key)"
            " DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at"
        )
        await self._run(lambda db: db.execute(sql, [key, value, self._clock()]))
