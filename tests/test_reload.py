"""Knowledge edits reach a running server without a restart; a broken edit changes nothing."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from pytest_aiohttp import AiohttpClient

from bot.reload import Reloader
from tests.conftest import KNOWLEDGE, make_settings
from webhooks.app import create_app
from webhooks.keys import RELOADER_KEY


def touch(path: Path) -> None:
    # Some filesystems keep one-second mtimes: move the clock visibly forward.
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 2_000_000_000))


async def ask(client, text: str) -> str:  # type: ignore[no-untyped-def]
    response = await client.post("/api/chat", json={"session": "reload-test-1", "text": text})
    assert response.status == 200
    body = await response.json()
    return "\n".join(r["text"] for r in body["replies"])


async def test_edit_broken_then_fixed(aiohttp_client: AiohttpClient, tmp_path: Path) -> None:
    knowledge = tmp_path / "knowledge"
    shutil.copytree(KNOWLEDGE, knowledge)
    settings = make_settings(
        tmp_path, facebook=False, zalo=False, knowledge=str(knowledge), reload_seconds=0
    )
    app = create_app(settings)
    client = await aiohttp_client(app)
    reloader: Reloader = app[RELOADER_KEY]
    before = (await (await client.get("/healthz")).json())["knowledge_version"]
    assert "Đăng ký khai tử" in await ask(client, "đăng ký khai tử")

    # A staff member breaks a file: the running knowledge base keeps answering.
    path = knowledge / "procedures" / "khai-tu.yaml"
    good = path.read_text(encoding="utf-8")
    path.write_text(good.replace("name:\n", "name: [\n", 1), encoding="utf-8")
    touch(path)
    assert await reloader.check() is False
    health = await (await client.get("/healthz")).json()
    assert health["knowledge_version"] == before
    assert any("procedures/khai-tu.yaml:" in e for e in health["knowledge_errors"])
    assert "Đăng ký khai tử" in await ask(client, "đăng ký khai tử")

    # The fix, with a new wording, is served at the next check.
    fixed = good.replace("vi: Đăng ký khai tử", "vi: Đăng ký khai tử (khai báo người mất)", 1)
    path.write_text(fixed, encoding="utf-8")
    touch(path)
    assert await reloader.check() is True
    health = await (await client.get("/healthz")).json()
    assert health["knowledge_version"] != before and health["knowledge_errors"] == []
    assert "khai báo người mất" in await ask(client, "đăng ký khai tử")


async def test_no_change_no_reload(aiohttp_client: AiohttpClient, tmp_path: Path) -> None:
    settings = make_settings(tmp_path, facebook=False, zalo=False, reload_seconds=0)
    app = create_app(settings)
    await aiohttp_client(app)
    assert await app[RELOADER_KEY].check() is False
