"""Human handoff in a real browser (issue 11): a citizen asks for staff in the web chat, a
member of staff signs in to the dashboard in a second tab, takes the conversation over and
answers it, and the citizen's open chat shows the answer. Headless Chromium over the DevTools
Protocol (tests/test_webchat_browser.py's launcher); skipped without Debian's chromium.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from pytest_aiohttp import AiohttpServer

from bot.bundle import Bundle
from bot.models.staff import Role
from bot.staff.accounts import add_account
from bot.staff.passwords import Passwords
from tests.conftest import make_settings
from tests.test_admin import CHEAP, PASSWORD
from tests.test_admin_browser import Tab
from tests.test_webchat_browser import BOT_TEXTS, IDLE, Page, chromium, pytestmark  # noqa: F401
from webhooks.app import create_app
from webhooks.keys import PASSWORDS_KEY, STORE_KEY

ANSWER = "Chào Anh/chị, tôi là cán bộ Sở Tư pháp. Anh/chị cần đăng ký kết hôn ở xã nào ạ?"
STAFF_TEXTS = "[...document.querySelectorAll('.msg.staff')].map((p) => p.lastChild.textContent)"


@contextlib.asynccontextmanager
async def second_tab(profile: Path) -> AsyncIterator[Tab]:
    """Another page of the running browser (its DevTools port is in the profile by now)."""
    port = int((profile / "DevToolsActivePort").read_text().split()[0])
    async with aiohttp.ClientSession() as session:
        async with session.put(f"http://127.0.0.1:{port}/json/new?about:blank") as response:
            target = await response.json()
        async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
            yield Tab(Page(ws))


async def test_staff_take_over_a_web_chat_and_the_citizen_reads_the_answer(
    aiohttp_server: AiohttpServer, tmp_path: Path, bundle: Bundle
) -> None:
    settings = make_settings(tmp_path, facebook=False, zalo=False)
    app = create_app(settings, bundle)
    app[PASSWORDS_KEY] = Passwords(CHEAP)
    server = await aiohttp_server(app)
    await add_account(
        app[STORE_KEY], app[PASSWORDS_KEY], "lan", Role.EDITOR, PASSWORD, actor="test", now=0.0
    )
    profile = tmp_path / "profile"
    async with chromium(profile) as chat:
        await chat.call("Page.navigate", url=str(server.make_url("/chat")))
        welcome = await chat.wait_until(
            f"{IDLE} && document.querySelectorAll('.quick button').length > 0", BOT_TEXTS
        )
        await chat.evaluate("document.getElementById('cau-hoi').focus()")
        await chat.call("Input.insertText", text="cho tôi gặp cán bộ")
        await chat.press_enter()
        handed = await chat.wait_until(
            f"{IDLE} && document.querySelectorAll('.msg.bot').length > {len(welcome)}", BOT_TEXTS
        )
        assert "trợ lý tự động tạm dừng trả lời" in handed[-1]

        async with second_tab(profile) as staff:
            await staff.call("Page.enable")
            staff.events.clear()
            await staff.call("Page.navigate", url=str(server.make_url("/admin/handoffs")))
            await staff.loaded()
            assert await staff.evaluate("location.pathname") == "/admin/login"
            await staff.type_into("#name", "lan")
            await staff.type_into("#password", PASSWORD)
            staff.events.clear()
            await staff.click("form button[type=submit]")
            await staff.loaded()
            assert await staff.evaluate("location.pathname") == "/admin/handoffs"
            assert "cho tôi gặp cán bộ" in await staff.evaluate("document.body.textContent")

            staff.events.clear()
            await staff.click(".handoff h2 a")
            await staff.loaded()
            staff.events.clear()
            await staff.click("#nhan-xu-ly")
            await staff.loaded()
            assert "Anh/chị đã nhận xử lý" in await staff.evaluate("document.body.textContent")
            await staff.type_into("#tra-loi", ANSWER)
            staff.events.clear()
            await staff.click("#gui-tra-loi")
            await staff.loaded()
            assert "Đã đưa câu trả lời" in await staff.evaluate("document.body.textContent")

        # The chat page looks for staff messages every few seconds: the answer shows up there.
        shown = await chat.wait_until(
            "document.querySelectorAll('.msg.staff').length > 0", STAFF_TEXTS
        )
        assert shown == [ANSWER]
        assert await chat.evaluate("document.querySelectorAll('.msg.error').length") == 0
