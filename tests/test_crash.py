"""A real crash: `bot serve` as a subprocess, SIGKILLed with replies still owed, restarted on the
same database. Every acknowledged message must then be answered exactly once.

The fake Graph server runs in this test's event loop on port 0 and first HANGS every Send API
call. Staff notices queued before start-up occupy every send slot of the delivery worker (each
hangs), so the citizens' replies all wait in the outbox when the process is killed. A hung send
is "in flight" at the kill: its row keeps its claim lease and is sent again only when the lease
runs out (at least once, bot/delivery.py), a minute later, which is why the notices, not the
citizens' replies, are the ones left hanging. One batch of messages is acknowledged right before
the kill: the kill lands before most of those turns ran, so the restart must handle them
(`TurnQueue.resume_pending`).
"""

from __future__ import annotations

import asyncio
import inspect
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

from bot.bundle import Bundle
from bot.delivery import DeliveryWorker
from bot.models import EventKind, Incoming, Outgoing, Platform, Reply
from bot.store import Store
from tests.payloads import FB_APP_SECRET, encode, fb_batch, fb_sign, fb_text
from webhooks import facebook

ROOT = Path(__file__).resolve().parent.parent
START_SECONDS = 30.0  # `bot serve` loads the knowledge base (and fits its classifier) first
DELIVERY_SECONDS = 10.0
SLOTS = inspect.signature(DeliveryWorker.__init__).parameters["concurrency"].default
QUESTIONS = [
    "Cho hỏi lệ phí đăng ký kết hôn",
    "làm giấy khai sinh cho con cần gì",
    "chứng thực bản sao mất bao lâu",
]


class FakeGraph:
    """POST /me/messages. While `hanging` is set, calls wait and, once released, answer 503
    to a client long gone (not counted); otherwise 200, counted per recipient."""

    def __init__(self) -> None:
        self.hanging = True
        self.hung = 0
        self.release = asyncio.Event()
        self.answered: Counter[str] = Counter()
        self._changed = asyncio.Condition()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/me/messages", self._send)
        return app

    async def _send(self, request: web.Request) -> web.Response:
        body = await request.json()
        if self.hanging:
            self.hung += 1
            await self._notify()
            await self.release.wait()
            return web.json_response({"error": {"code": 2, "message": "try later"}}, status=503)
        self.answered[body["recipient"]["id"]] += 1
        await self._notify()
        return web.json_response({"recipient_id": body["recipient"]["id"], "message_id": "m"})

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def until(self, done: Any, seconds: float) -> None:
        """Until `done()` holds: re-checked at each request, never polled."""
        async with asyncio.timeout(seconds), self._changed:
            await self._changed.wait_for(done)


class Bot:
    """`bot serve` in a subprocess; its output goes to a file the assertions can show."""

    def __init__(self, tmp_path: Path, graph_url: str) -> None:
        self.db = tmp_path / "bot.db"
        self.log = tmp_path / "serve.log"
        self.port = 0
        self.graph_url = graph_url
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BOT_", "FB_", "ZALO_"))}
        env |= {
            "BOT_HOST": "127.0.0.1",
            "BOT_PORT": str(self.port),
            "BOT_DB": str(self.db),
            "BOT_KNOWLEDGE": str(ROOT / "knowledge"),
            "FB_APP_SECRET": FB_APP_SECRET,
            "FB_VERIFY_TOKEN": "crash-verify",
            "FB_PAGE_ACCESS_TOKEN": "crash-page-token",
            "FB_GRAPH_URL": self.graph_url,
        }
        with self.log.open("ab") as sink:
            self.proc = subprocess.Popen(
                [sys.executable, "-c", "from webhooks.main import main; main()", "serve"],
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=sink,
                stderr=sink,
            )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def ready(self, session: aiohttp.ClientSession) -> None:
        """Poll /healthz until it answers: the one wait with no event to await."""
        async with asyncio.timeout(START_SECONDS):
            while True:
                assert self.proc is not None and self.proc.poll() is None, self.output()
                try:
                    async with session.get(f"{self.url}/healthz") as response:
                        if response.status == 200:
                            return
                except aiohttp.ClientConnectionError:
                    pass
                await asyncio.sleep(0.05)

    def kill(self) -> None:
        assert self.proc is not None
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self) -> None:
        """SIGTERM: the graceful stop (running turns and in-flight sends are recorded)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")[-3000:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def posts_for(bundle: Bundle, text: str) -> int:
    """Send API calls a new conversation's `text` makes (a long reply is several calls)."""
    msg = Incoming(Platform.FACEBOOK, "x", "m", EventKind.TEXT, text)
    replies = bundle.dialog.handle(None, msg, int(time.time() * 1000)).replies
    return sum(len(facebook.render(Outgoing(Platform.FACEBOOK, "x", r))) for r in replies)


def rows(db: Path, query: str) -> list[tuple[Any, ...]]:
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute(query).fetchall()


@pytest.fixture
async def graph(aiohttp_server: AiohttpServer) -> AsyncIterator[tuple[FakeGraph, str]]:
    fake = FakeGraph()
    server = await aiohttp_server(fake.app())
    yield fake, str(server.make_url("")).rstrip("/")
    fake.release.set()  # let hung handlers finish before the server closes


@pytest.fixture
def bots() -> Iterator[list[Bot]]:
    started: list[Bot] = []
    yield started
    for bot in started:  # only the processes this test started, by their own handle
        bot.stop()


async def test_sigkill_then_restart_answers_every_acknowledged_message_once(
    tmp_path: Path, bundle: Bundle, graph: tuple[FakeGraph, str], bots: list[Bot]
) -> None:
    fake, graph_url = graph
    notices = [f"staff-{n}" for n in range(SLOTS + 2)]
    store = await Store.open(tmp_path / "bot.db")
    await store.enqueue(
        [Outgoing(Platform.FACEBOOK, u, Reply("Lịch trực tuần này")) for u in notices]
    )
    await store.close()

    bot = Bot(tmp_path, graph_url)
    bots.append(bot)
    bot.start()
    acknowledged: list[dict[str, Any]] = []
    async with aiohttp.ClientSession() as session:
        await bot.ready(session)
        # Every send slot now hangs on a notice: the citizens' replies will wait in the outbox.
        await fake.until(lambda: fake.hung == SLOTS, DELIVERY_SECONDS)

        async def post(events: list[dict[str, Any]]) -> None:
            raw = encode(fb_batch(*events))
            headers = {"Content-Type": "application/json", **fb_sign(raw)}
            async with session.post(f"{bot.url}/webhooks/facebook", data=raw, headers=headers) as r:
                assert r.status == 200, await r.text()
            acknowledged.extend(events)

        def event(n: int) -> dict[str, Any]:
            return fb_text(QUESTIONS[n % len(QUESTIONS)], mid=f"m-{n}", sender=f"psid-{n}")

        await asyncio.gather(*(post([event(n)]) for n in range(20)))  # one webhook each
        # One batch of 1,000 (the most Messenger sends at once), acknowledged... so many that even
        # on a loaded machine the kill lands before most of its turns ran.
        await post([event(n) for n in range(20, 1020)])
        bot.kill()  # ...and SIGKILL at once: most of its turns never ran

    # Only now: composing 1,000 expected answers here took longer than the bot took to run
    # every turn, and the kill came too late to leave any pending.
    want: Counter[str] = Counter()
    for event in acknowledged:
        want[event["sender"]["id"]] = posts_for(bundle, event["message"]["text"])
    unhandled = {r[0] for r in rows(bot.db, "SELECT user_id FROM inbound WHERE status = 'pending'")}
    assert unhandled, "every turn ran before the kill: the resume path was not exercised"
    assert rows(bot.db, "SELECT count(*) FROM outbox WHERE status = 'sent'") == [(0,)]
    assert fake.answered == Counter()

    fake.hanging = False
    fake.release.set()
    bot.start()  # the same database
    async with aiohttp.ClientSession() as session:
        await bot.ready(session)
        try:
            await fake.until(
                lambda: all(fake.answered[u] >= n for u, n in want.items()), DELIVERY_SECONDS
            )
        except TimeoutError:
            missing = {u: n for u, n in want.items() if fake.answered[u] < n}
            pytest.fail(f"replies missing for {len(missing)} senders\n{bot.output()}")
    bot.stop()  # graceful: anything still in flight is recorded, nothing new starts

    citizens = {u: n for u, n in fake.answered.items() if u.startswith("psid-")}
    assert citizens == dict(want)  # every acknowledged message answered, none twice
    assert set(unhandled) <= set(citizens)  # including those whose turn had not run
    assert rows(bot.db, "SELECT count(*) FROM inbound WHERE status != 'handled'") == [(0,)]
    owed = rows(
        bot.db, "SELECT count(*) FROM outbox WHERE status = 'pending' AND user_id LIKE 'psid-%'"
    )
    assert owed == [(0,)]
    # The notices whose sends hung at the kill are not lost: sent, or waiting for their lease.
    statuses = dict(rows(bot.db, "SELECT user_id, status FROM outbox WHERE source = 'notice'"))
    assert set(statuses) == set(notices) and set(statuses.values()) <= {"sent", "pending"}
    assert all(fake.answered[u] <= 1 for u in notices)
