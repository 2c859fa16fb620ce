"""The web chat in a real browser: headless Chromium driven over the DevTools Protocol.

No selenium or playwright: Chromium is started with --remote-debugging-port=0, the port it
chose is read from its "DevTools listening on" line, and one page is driven through a websocket
with aiohttp. The test types a question with real key events, reads the answer from the page, then
clicks a quick-reply button with the mouse. Needs Debian's `chromium` package; skipped without.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import re
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from pytest_aiohttp import AiohttpServer

from bot.bundle import Bundle
from bot.dialog import Dialog
from bot.models import EventKind, Incoming, Platform, Reply
from tests.conftest import make_settings
from webhooks.app import create_app
from webhooks.keys import STORE_KEY

CHROMIUM = Path("/usr/bin/chromium")
QUESTION = "Cho hỏi lệ phí đăng ký kết hôn"

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(),
    reason="needs Debian's chromium at /usr/bin/chromium (apt-get install chromium)",
)

LISTENING = re.compile(rb"DevTools listening on ws://[^:/]+:(\d+)/")
FLAGS = [
    "--headless",
    "--no-sandbox",  # the CI container runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
]


class Page:
    """One page target over CDP: `call` a method, `evaluate` JavaScript (promises awaited)."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self._ids = itertools.count(1)

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        call_id = next(self._ids)
        await self.ws.send_json({"id": call_id, "method": method, "params": params})
        async with asyncio.timeout(15):
            while True:
                message = await self.ws.receive_json()
                if message.get("id") == call_id:  # anything else is an event: not subscribed
                    if "error" in message:
                        raise AssertionError(f"{method}: {message['error']}")
                    result: dict[str, Any] = message["result"]
                    return result

    async def evaluate(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise AssertionError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_until(self, condition: str, value: str) -> Any:
        """Resolve with `value` (JS) once `condition` (JS) holds, re-checked on each DOM change:
        the page tells us, nothing polls."""
        return await self.evaluate(
            f"""new Promise((resolve) => {{
                const check = () => {{
                    if ({condition}) {{ resolve({value}); return true; }}
                    return false;
                }};
                if (check()) return;
                const observer = new MutationObserver(() => {{ if (check()) observer.disconnect(); }});
                observer.observe(document,
                    {{childList: true, subtree: true, attributes: true}});
            }})"""
        )

    async def press_enter(self) -> None:
        key = {"key": "Enter", "code": "Enter", "windowsVirtualKeyCode": 13}
        await self.call("Input.dispatchKeyEvent", type="keyDown", text="\r", **key)
        await self.call("Input.dispatchKeyEvent", type="keyUp", **key)

    async def click(self, selector: str) -> None:
        """A real mouse click at the middle of the first element matching `selector`."""
        box = await self.evaluate(
            f"""(() => {{
                const el = document.querySelector({json.dumps(selector)});
                el.scrollIntoView({{block: "center", behavior: "instant"}});
                const r = el.getBoundingClientRect();
                const x = r.x + r.width / 2, y = r.y + r.height / 2;
                return {{x, y, hit: el.contains(document.elementFromPoint(x, y))}};
            }})()"""
        )
        assert box["hit"], f"{selector} is covered or off screen"
        for kind in ("mousePressed", "mouseReleased"):
            await self.call(
                "Input.dispatchMouseEvent",
                type=kind,
                x=box["x"],
                y=box["y"],
                button="left",
                clickCount=1,
            )


@contextlib.asynccontextmanager
async def chromium(profile: Path) -> AsyncIterator[Page]:
    """A headless Chromium on a throw-away profile, and its first page; stopped afterwards."""
    process = await asyncio.create_subprocess_exec(
        str(CHROMIUM),
        *FLAGS,
        f"--user-data-dir={profile}",
        "about:blank",
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    assert process.stderr is not None
    drain: asyncio.Task[None] | None = None
    try:
        async with asyncio.timeout(30):
            # "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID". The same port
            # goes to <profile>/DevToolsActivePort, but that file is written on another thread
            # and can appear after this line: reading the line needs no polling.
            while (match := LISTENING.search(await process.stderr.readline())) is None:
                if process.stderr.at_eof():
                    raise AssertionError("chromium exited before opening DevTools")
        # Keep reading stderr so a chatty browser never blocks on a full pipe.
        drain = asyncio.create_task(_discard(process.stderr))
        port = int(match.group(1))
        async with aiohttp.ClientSession() as session:
            async with session.get(f"http://127.0.0.1:{port}/json/list") as response:
                targets = await response.json()
            (target,) = [t for t in targets if t["type"] == "page"]
            async with session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                yield Page(ws)
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()
        if drain is not None:
            drain.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await drain


async def _discard(stream: asyncio.StreamReader) -> None:
    while await stream.read(65536):
        pass


def expected_answer(bundle: Bundle) -> list[Reply]:
    """What the page should show for QUESTION: a web chat starts with GET_STARTED."""
    now = int(time.time() * 1000)
    start = Incoming(Platform.WEBCHAT, "s", "1", EventKind.POSTBACK, "", "GET_STARTED")
    state = bundle.dialog.handle(None, start, now).state
    question = Incoming(Platform.WEBCHAT, "s", "2", EventKind.TEXT, QUESTION)
    return list(bundle.dialog.handle(state, question, now).replies)


BOT_TEXTS = "[...document.querySelectorAll('.msg.bot')].map((p) => p.lastChild.textContent)"
USER_TEXTS = "[...document.querySelectorAll('.msg.user')].map((p) => p.lastChild.textContent)"
QUICK_TITLES = "[...document.querySelectorAll('.quick button')].map((b) => b.textContent)"
IDLE = "document.getElementById('tin-nhan')?.getAttribute('aria-busy') === 'false'"


async def test_a_citizen_asks_in_the_browser_and_reads_the_answer(
    aiohttp_server: AiohttpServer, tmp_path: Path, bundle: Bundle
) -> None:
    settings = make_settings(tmp_path, facebook=False, zalo=False)
    # Ratings on, as served: the answer offers 👍 / 👎 first (bot/rating.py).
    bundle = dataclasses.replace(bundle, dialog=Dialog(bundle.kb, bundle.matcher, rating_every=3))
    server = await aiohttp_server(create_app(settings, bundle))
    async with chromium(tmp_path / "profile") as page:
        await page.call("Page.navigate", url=str(server.make_url("/chat")))
        # The welcome and the main menu arrive on their own (GET_STARTED at load).
        welcome = await page.wait_until(
            f"{IDLE} && document.querySelectorAll('.quick button').length > 0", BOT_TEXTS
        )
        assert welcome and welcome[0].startswith("Xin chào")
        assert await page.evaluate("document.documentElement.lang") == "vi"

        await page.evaluate("document.getElementById('cau-hoi').focus()")
        await page.call("Input.insertText", text=QUESTION)
        await page.press_enter()
        shown = await page.wait_until(
            f"{IDLE} && document.querySelectorAll('.msg.bot').length > {len(welcome)}",
            f"{{bot: {BOT_TEXTS}, user: {USER_TEXTS}, quick: {QUICK_TITLES}}}",
        )
        assert shown["user"] == [QUESTION]
        expected = expected_answer(bundle)
        assert shown["bot"][len(welcome) :] == [r.text for r in expected]
        assert "kết hôn" in shown["bot"][-1].lower()
        assert shown["quick"] == [q.title for q in expected[-1].quick_replies]
        assert shown["quick"][:2] == ["👍 Hữu ích", "👎 Chưa hữu ích"]
        assert await page.evaluate("document.getElementById('cau-hoi').value") == ""

        # Tap the first suggestion (👍): it shows as the citizen's message, is thanked and kept.
        before = len(shown["bot"])
        await page.click(".quick button")
        after = await page.wait_until(
            f"{IDLE} && document.querySelectorAll('.msg.bot').length > {before}",
            f"{{bot: {BOT_TEXTS}, user: {USER_TEXTS}}}",
        )
        assert after["user"] == [QUESTION, shown["quick"][0]]
        assert after["bot"][before:] == [bundle.kb.texts.get("rating_thanks", "vi")]
        (rated,) = await server.app[STORE_KEY].topic_ratings(0, 10)
        assert (rated.topic, rated.up, rated.down) == ("ket-hon", 1, 0)
        assert await page.evaluate("document.querySelectorAll('.msg.error').length") == 0
