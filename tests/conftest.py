"""Shared fixtures. Knowledge-base fixtures load the shipped knowledge base once per session.

Hypothesis (tests/test_properties.py) runs under the "suite" profile: a hundred-odd examples a
property, no deadline (two shared cores make timings noisy), and derandomized when CI=true so a
CI run is the same run every time. HYPOTHESIS_PROFILE=thorough draws far more, for local runs.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import yaml
from aiohttp import web
from hypothesis import settings as hypothesis_settings
from pytest_aiohttp import AiohttpServer

from bot.bundle import Bundle
from bot.config import Settings, load_settings
from bot.model_cache import ModelCache
from bot.store import Store
from tests import payloads

_CI = os.environ.get("CI", "").lower() == "true"
# derandomize: the examples follow from each test's source (and no example database is kept).
hypothesis_settings.register_profile("suite", max_examples=100, deadline=None, derandomize=_CI)
hypothesis_settings.register_profile("thorough", max_examples=5_000, deadline=None)
hypothesis_settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "suite"))

ROOT = Path(__file__).resolve().parent.parent
KNOWLEDGE = ROOT / "knowledge"
SHARED_EVAL = ROOT.parent / "shared" / "eval" / "dev.jsonl"


@pytest.fixture(scope="session")
def bundle() -> Bundle:
    """The bundle over the shipped knowledge base (matcher index built once). Its classifier is
    kept in the default cache folder, where servers started by the tests (and `bot` commands)
    read it back instead of fitting it again."""
    return Bundle.load(KNOWLEDGE, models=ModelCache(ROOT / Settings().cache))


class FakeClock:
    """A settable wall clock (seconds) for the store and the delivery worker: no sleeps in tests."""

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


# --- the server end to end: fake platform servers and settings pointing at them ---------------


NO_ANSWER = 0  # the status recorded for a request held by a hanging `Fault`


@dataclass(frozen=True)
class Received:
    """One request a fake platform server received, the status it answered (NO_ANSWER while
    a `Fault` held it), and when (`time.time()`, the clock the outbox schedules retries on)."""

    path: str
    headers: Mapping[str, str]
    query: Mapping[str, str]
    body: dict[str, Any]
    status: int
    at: float = field(default_factory=time.time)

    @property
    def text(self) -> str:
        message = self.body.get("message")
        return str(message.get("text", "")) if isinstance(message, dict) else ""


@dataclass(frozen=True)
class Fault:
    """How a fake Send API fails while `FakePlatforms.fail` has it set on a path: it answers
    `status` with the JSON `body` and `headers`; or, with `hang`, it answers nothing before
    `heal()` (longer than any send timeout), then 503 to a client long gone."""

    status: int = 500
    body: Mapping[str, Any] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    hang: bool = False


class FakePlatforms:
    """Graph, Zalo OA (CS, anonymous and GMF group messages) and Zalo OAuth in one aiohttp app on port 0, recording every request.

    Graph answers 200 unless `graph_statuses` holds statuses to answer first; with `gate` set,
    the Send APIs wait for it before answering (a slow platform). `fail(path, fault)` makes a
    Send API fail on demand until `heal()`. Zalo accepts the access tokens in `zalo_tokens`,
    answers -220 (expired) to those in `zalo_expired` and -216 (invalid) to others; the OAuth
    refresh hands out "new-access"/"new-refresh". `on_zalo_send` runs as each Zalo send arrives.
    """

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.arrived = 0  # Graph requests seen, answered or still waiting for `gate`
        self.url = ""
        self.gate: asyncio.Event | None = None
        self.graph_statuses: list[int] = []
        self.zalo_tokens: set[str] = {"zalo-access"}
        self.zalo_expired: set[str] = set()
        self.on_zalo_send: Callable[[Received], Awaitable[None]] | None = None
        self.faults: dict[str, Fault] = {}
        self._healed = asyncio.Event()
        self._changed = asyncio.Condition()

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/me/messages", self._graph)
        # The handover protocol (platforms.md §2.8): answered like a send, {"success": true}.
        app.router.add_post("/me/pass_thread_control", self._graph)
        app.router.add_post("/me/take_thread_control", self._graph)
        app.router.add_post("/v3.0/oa/message/cs", self._zalo)
        app.router.add_post("/v2.0/oa/message", self._zalo)  # to anonymous users
        app.router.add_post("/v3.0/oa/group/message", self._zalo)  # GMF groups (§3.9)
        app.router.add_post("/v4/oa/access_token", self._oauth)
        return app

    def sent(self, path: str = "") -> list[Received]:
        """Requests answered with success, oldest first (all Send APIs unless `path`)."""
        return [
            r
            for r in self.received
            if r.status == 200 and r.path != "/v4/oa/access_token" and r.path.endswith(path)
        ]

    def fail(self, path: str, fault: Fault) -> None:
        """From now on every request to `path` (e.g. "/me/messages") fails with `fault`."""
        self.faults[path] = fault

    def heal(self) -> None:
        """Every path answers normally again; requests held by a hanging fault are let go."""
        self.faults.clear()
        self._healed.set()
        self._healed = asyncio.Event()

    async def wait_for(self, check: Callable[[], bool], seconds: float = 5.0) -> None:
        """Until `check()` holds, re-checked at each received request; never polls."""
        async with asyncio.timeout(seconds), self._changed:
            await self._changed.wait_for(check)

    async def _record(self, request: web.Request, body: dict[str, Any], status: int) -> None:
        entry = Received(request.path, dict(request.headers), dict(request.query), body, status)
        self.received.append(entry)
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _fail(self, request: web.Request, body: dict[str, Any], fault: Fault) -> web.Response:
        if not fault.hang:
            await self._record(request, body, fault.status)
            return web.json_response(dict(fault.body), status=fault.status, headers=fault.headers)
        healed = self._healed
        await self._record(request, body, NO_ANSWER)
        await healed.wait()
        return web.json_response({}, status=503)

    async def _graph(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.arrived += 1
        await self._notify()
        if (fault := self.faults.get(request.path)) is not None:
            return await self._fail(request, body, fault)
        if self.gate is not None:
            await self.gate.wait()
        status = self.graph_statuses.pop(0) if self.graph_statuses else 200
        await self._record(request, body, status)
        if status != 200:
            error = {"message": "An unexpected error has occurred.", "code": 1}
            return web.json_response({"error": error}, status=status)
        if request.path.endswith("_thread_control"):
            return web.json_response({"success": True})
        return web.json_response({"recipient_id": body["recipient"]["id"], "message_id": "m_x"})

    async def _zalo(self, request: web.Request) -> web.Response:
        body = await request.json()
        if (fault := self.faults.get(request.path)) is not None:
            return await self._fail(request, body, fault)
        token = request.headers.get("access_token")
        ok = token in self.zalo_tokens
        entry = Received(request.path, dict(request.headers), {}, body, 200 if ok else 401)
        if self.on_zalo_send is not None:
            await self.on_zalo_send(entry)
        await self._record(request, body, entry.status)
        if token in self.zalo_expired:
            return web.json_response({"error": -220, "message": "access_token is expired"})
        if not ok:
            return web.json_response({"error": -216, "message": "Access token is invalid"})
        return web.json_response({"error": 0, "message": "Success", "data": {"message_id": "z"}})

    async def _oauth(self, request: web.Request) -> web.Response:
        form = dict(await request.post())
        await self._record(request, {k: str(v) for k, v in form.items()}, 200)
        self.zalo_tokens.add("new-access")
        pair = {"access_token": "new-access", "refresh_token": "new-refresh", "expires_in": "90000"}
        return web.json_response(pair)


@pytest.fixture
async def platforms(aiohttp_server: AiohttpServer) -> AsyncIterator[FakePlatforms]:
    fake = FakePlatforms()
    server = await aiohttp_server(fake.app())
    fake.url = str(server.make_url("")).rstrip("/")
    yield fake
    fake.heal()  # requests still held by a hanging fault end before the server closes


FB_VERIFY_TOKEN = "verify-me-please"
FB_PAGE_TOKEN = "page-access-token"
ZALO_APP_SECRET = "zalo-app-secret"


def make_settings(
    tmp_path: Path,
    platform_url: str | None = None,
    *,
    facebook: bool = True,
    zalo: bool = True,
    **config: Any,
) -> Settings:
    """Settings as `bot serve` would load them: a config file in `tmp_path` (fast retries,
    plus `config`) and the environment (database in `tmp_path`, platforms at the fakes)."""
    values = {"retry_base_seconds": 0.05, "retry_max_seconds": 0.2, **config}
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    environ = {"BOT_DB": str(tmp_path / "bot.db"), "BOT_PORT": "8080"}
    url = platform_url or "http://127.0.0.1:9"  # the discard port: nothing listens
    if facebook:
        environ |= {
            "FB_APP_SECRET": payloads.FB_APP_SECRET,
            "FB_VERIFY_TOKEN": FB_VERIFY_TOKEN,
            "FB_PAGE_ACCESS_TOKEN": FB_PAGE_TOKEN,
            "FB_GRAPH_URL": url,
        }
    if zalo:
        environ |= {
            "ZALO_APP_ID": payloads.ZALO_APP_ID,
            "ZALO_OA_SECRET_KEY": payloads.ZALO_OA_SECRET_KEY,
            "ZALO_APP_SECRET": ZALO_APP_SECRET,
            "ZALO_ACCESS_TOKEN": "zalo-access",
            "ZALO_REFRESH_TOKEN": "zalo-refresh",
            "ZALO_API_URL": url,
            "ZALO_OAUTH_URL": url,
        }
    return load_settings(path, environ=environ)
