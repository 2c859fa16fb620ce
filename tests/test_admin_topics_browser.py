"""Editing a fee in a real browser (issue 11's test list): an editor signs in on a phone-sized
screen, changes the birth registration fee in the topic form, saves, then asks that fee in the
web chat and reads the new reply. Headless Chromium over the DevTools Protocol, with the admin
browser test's `Tab`; skipped without Debian's chromium, as that one is.
"""

from __future__ import annotations

from pathlib import Path

from pytest_aiohttp import AiohttpServer

from bot.bundle import Bundle
from tests.test_admin import PASSWORD
from tests.test_admin_browser import PHONE, Tab, admin_server
from tests.test_admin_topics import FEE_QUESTION, NEW_FEE
from tests.test_webchat_browser import BOT_TEXTS, IDLE, chromium, pytestmark  # noqa: F401


async def test_an_editor_changes_a_fee_and_the_web_chat_answers_with_it(
    aiohttp_server: AiohttpServer, tmp_path: Path, bundle: Bundle
) -> None:
    _, server = await admin_server(aiohttp_server, tmp_path, bundle, own_knowledge=True)
    async with chromium(tmp_path / "profile") as page:
        tab = Tab(page)
        await tab.call("Page.enable")
        await tab.call("Emulation.setDeviceMetricsOverride", **PHONE)
        tab.events.clear()
        await tab.call("Page.navigate", url=str(server.make_url("/admin/topics/khai-sinh")))
        await tab.loaded()
        assert await tab.evaluate("location.pathname") == "/admin/login"
        await tab.type_into("#name", "hoa")
        await tab.type_into("#password", PASSWORD)
        tab.events.clear()
        await tab.click("form button[type=submit]")
        await tab.loaded()  # back to the topic asked for
        assert await tab.evaluate("location.pathname") == "/admin/topics/khai-sinh"

        # Replace the fee's Vietnamese text as staff would: select it all, type the new one.
        await tab.evaluate("document.querySelector('#f-facets-fee-vi').select()")
        await tab.call("Input.insertText", text=NEW_FEE)
        tab.events.clear()
        await tab.click("#luu-nut")
        await tab.loaded()
        saved = await tab.evaluate(
            """({
                status: document.getElementById('thong-bao').textContent.trim(),
                fee: document.querySelector('#f-facets-fee-vi').value,
                overflow: document.documentElement.scrollWidth - window.innerWidth,
            })"""
        )
        assert saved["status"].startswith("Đã lưu.")
        assert saved["fee"] == NEW_FEE
        assert saved["overflow"] <= 0  # the form fits a phone's screen

        tab.events.clear()
        await tab.call("Page.navigate", url=str(server.make_url("/chat")))
        await tab.loaded()
        welcome = await tab.wait_until(
            f"{IDLE} && document.querySelectorAll('.msg.bot').length > 0", BOT_TEXTS
        )
        await tab.evaluate("document.getElementById('cau-hoi').focus()")
        await tab.call("Input.insertText", text=FEE_QUESTION)
        await tab.press_enter()
        answer = await tab.wait_until(
            f"{IDLE} && document.querySelectorAll('.msg.bot').length > {len(welcome)}",
            BOT_TEXTS,
        )
        assert any(NEW_FEE in text for text in answer[len(welcome) :])
