import asyncio
import contextlib
import io
import itertools
import json
import logging
import re
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from aiohttp import web
from aiohttp.test_utils import make_mocked_request

from bot.bundle import Bundle
from bot.config import Settings
from tests.conftest import make_settings
from webhooks.logs import MAX_FIELD_CHARS, log_handler
from webhooks.serve import LINGERING_SECONDS, AccessLogger, runner_options, serving_app


@pytest.mark.parametrize(
    ("method", "path", "status", "seconds", "logged"),
    [
        ("POST", "/webhooks/facebook", 200, 0.01, False),  # a delivery: recorded in the store
        ("POST", "/webhooks/zalo", 200, 0.01, False),
        ("POST", "/webhooks/facebook", 403, 0.01, True),  # a refusal is always worth a line
        ("POST", "/webhooks/facebook", 200, 2.0, True),  # so is a slow answer
        ("GET", "/webhooks/facebook?hub.verify_token=secret", 200, 0.01, True),
        ("GET", "/healthz", 200, 0.01, True),
    ],
)
def test_access_log(
    caplog: pytest.LogCaptureFixture,
    method: str,
    path: str,
    status: int,
    seconds: float,
    logged: bool,
) -> None:
    logger = logging.getLogger("test.access")
    request = make_mocked_request(method, path)
    with caplog.at_level(logging.INFO, logger="test.access"):
        AccessLogger(logger, "").log(request, web.Response(status=status), seconds)
    assert bool(caplog.records) is logged
    assert all("secret" not in r.getMessage() for r in caplog.records)


def test_new_loop_prefers_uvloop_when_installed() -> None:
    from webhooks.serve import new_loop

    loop = new_loop()
    try:
        uvloop = pytest.importorskip("uvloop")
        assert isinstance(loop, uvloop.Loop)
    finally:
        loop.close()


def test_serve_refuses_a_broken_knowledge_base_with_a_hint(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from webhooks.main import cli

    result = CliRunner().invoke(
        cli, ["serve"], env={"BOT_KNOWLEDGE": str(tmp_path), "BOT_DB": str(tmp_path / "x.db")}
    )
    assert result.exit_code == 1
    assert "Hint: run `bot kb check`" in result.output


def test_the_access_log_shows_the_path_as_sent(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("test.access")
    request = make_mocked_request("GET", "/x%0a1999-01-01%20forged%E2%80%A8?hub.verify_token=s")
    with caplog.at_level(logging.INFO, logger="test.access"):
        AccessLogger(logger, "").log(request, web.Response(status=404), 0.01)
    message = caplog.records[0].getMessage()
    assert message.endswith('"GET /x%0a1999-01-01%20forged%E2%80%A8" 404 0 0.010s')


# -- the server as `bot serve` runs it, on port 0, with the log as `bot serve` writes it ----


@contextlib.asynccontextmanager
async def serving(settings: Settings, bundle: Bundle) -> AsyncIterator[int]:
    """serve.py's application and runner options on 127.0.0.1, port 0; yields the port."""
    runner = web.AppRunner(serving_app(settings, bundle), **runner_options(settings))
    await runner.setup()
    try:
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        yield runner.addresses[0][1]
    finally:
        await runner.cleanup()


@pytest.fixture
def server_log() -> Iterator[io.StringIO]:
    """What the root logger writes through `bot serve`'s handler, at `bot serve`'s level."""
    stream = io.StringIO()
    handler = log_handler(stream)
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO)
    yield stream
    root.removeHandler(handler)
    root.setLevel(level)


async def exchange(port: int, raw: bytes, within: float = 5.0) -> bytes:
    """Send `raw` on a new connection and read until the server closes it."""
    async with asyncio.timeout(within):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(raw)
            return await reader.read()
        finally:
            writer.close()


LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING|ERROR) [\w.]+: ")


async def test_a_path_cannot_forge_a_log_line(
    tmp_path: Path, bundle: Bundle, server_log: io.StringIO
) -> None:
    settings = make_settings(tmp_path, reload_seconds=0)
    forged = "/x%0a1999-01-01%2000:00:00,000%20INFO%20aiohttp.access:%20forged%0d%E2%80%A8"
    async with serving(settings, bundle) as port:
        answer = await exchange(
            port, f"GET {forged} HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n\r\n".encode()
        )
    assert answer.startswith(b"HTTP/1.1 404")
    lines = server_log.getvalue().splitlines()
    assert all(LOG_LINE.match(line) for line in lines), lines
    (access,) = [line for line in lines if "aiohttp.access" in line]
    assert f'"GET {forged}" 404' in access


@pytest.mark.parametrize(
    "junk",
    [
        b"GET /" + b"A\n" * 50_000 + b" HTTP/1.1\r\n\r\n",  # a 100 KB request line
        # terminal escapes and line breaks in 130 KB of headers
        b"GET / HTTP/1.1\r\nX-A: " + b"\x1b[2J\r\n1999-01-01 forged\r" * 5_000 + b"\r\n\r\n",
        # a 100 KB header line with a bare newline in its name
        b"GET / HTTP/1.1\r\nHost: a\r\nBad Header\n1999-01-01 forged: x"
        + b"y" * 100_000
        + b"\r\n\r\n",
    ],
)
async def test_malformed_requests_add_short_escaped_lines(
    tmp_path: Path, bundle: Bundle, server_log: io.StringIO, junk: bytes
) -> None:
    settings = make_settings(tmp_path, reload_seconds=0)
    async with serving(settings, bundle) as port:
        before = len(server_log.getvalue())
        for _ in range(2):
            assert (await exchange(port, junk)).startswith(b"HTTP/1.0 400")
        added = server_log.getvalue()[before:]
    assert len(added) < 2_000  # two requests of 100 KB each
    lines = added.splitlines()
    assert all(LOG_LINE.match(line) for line in lines), lines
    assert all(len(line) < MAX_FIELD_CHARS + 200 for line in lines)
    assert sum("Error handling request" in line for line in lines) == 2
    assert "\x1b" not in added and "\r" not in added


# -- read timeouts: a client cannot hold a connection by sending slowly or not at all ------


async def dribble(port: int, sent: bytes, every: float, within: float) -> tuple[float, bytes]:
    """Send `sent`, then one more header byte every `every` seconds, never ending the headers,
    until the server closes the connection: the seconds that took and the bytes received
    (TimeoutError past `within`)."""
    loop = asyncio.get_running_loop()
    received = b""
    async with asyncio.timeout(within):
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        start = loop.time()
        try:
            writer.write(sent)
            while True:
                try:
                    # Waits for the server's answer or close, at most `every`: the client's pace.
                    chunk = await asyncio.wait_for(reader.read(4096), every)
                except TimeoutError:
                    writer.write(b"x")
                    continue
                if not chunk:
                    break
                received += chunk
        except ConnectionError:
            pass
        finally:
            writer.close()
    return loop.time() - start, received


@pytest.mark.parametrize(
    ("sent", "answered"),
    [
        (b"GET /healthz HTTP/1.1\r\nHost: bot\r\nX-Slow: ", 0),
        # the second request on a kept-alive connection has the same deadline
        (b"GET /healthz HTTP/1.1\r\nHost: bot\r\n\r\nGET /healthz HTTP/1.1\r\nX-Slow: ", 1),
    ],
)
async def test_headers_sent_a_byte_at_a_time_meet_a_deadline(
    tmp_path: Path, bundle: Bundle, sent: bytes, answered: int
) -> None:
    settings = make_settings(tmp_path, reload_seconds=0, header_timeout_seconds=0.5)
    async with serving(settings, bundle) as port:
        seconds, received = await dribble(port, sent, every=0.05, within=5.0)
    assert 0.4 < seconds < 0.5 + 2.0
    assert received.count(b"HTTP/1.1 200 OK\r\n") == answered
    assert received.count(b"HTTP/") == answered  # closed, not answered 400


async def test_a_body_shorter_than_its_content_length_gets_408_and_a_close(
    tmp_path: Path, bundle: Bundle
) -> None:
    settings = make_settings(tmp_path, reload_seconds=0, body_timeout_seconds=0.5)
    head = b"POST /api/chat HTTP/1.1\r\nHost: bot\r\nContent-Type: application/json\r\n"
    async with asyncio.timeout(10), serving(settings, bundle) as port:
        loop = asyncio.get_running_loop()
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            start = loop.time()
            writer.write(head + b"Content-Length: 100\r\n\r\n{")
            status = await reader.readline()
            answered = loop.time() - start
            rest = await reader.read()
            closed = loop.time() - start
        finally:
            writer.close()
    assert status == b"HTTP/1.1 408 Request Timeout\r\n"
    assert b"Connection: close\r\n" in rest
    assert 0.4 < answered < 0.5 + 2.0
    assert closed < 0.5 + LINGERING_SECONDS + 2.0


async def test_a_declared_body_over_the_limit_is_refused_before_it_is_read(
    tmp_path: Path, bundle: Bundle
) -> None:
    settings = make_settings(tmp_path, reload_seconds=0, max_body_bytes=4096)
    request = b"POST /api/chat HTTP/1.1\r\nHost: bot\r\nContent-Length: 5000\r\n\r\n"
    async with asyncio.timeout(10), serving(settings, bundle) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(request)
            status = await reader.readline()
        finally:
            writer.close()
    assert status == b"HTTP/1.1 413 Request Entity Too Large\r\n"


async def test_a_slow_client_within_the_deadlines_is_answered(
    tmp_path: Path, bundle: Bundle
) -> None:
    settings = make_settings(
        tmp_path, reload_seconds=0, header_timeout_seconds=2.0, body_timeout_seconds=2.0
    )
    body = json.dumps({"session": "slow-client-1", "text": "xin chào"}).encode()
    request = (
        b"POST /api/chat HTTP/1.1\r\nHost: bot\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
    )
    headers_end = request.index(b"\r\n\r\n")
    cuts = [20, 40, headers_end + 4 + 5, headers_end + 4 + 15]  # headers in 3, body in 3
    async with asyncio.timeout(10), serving(settings, bundle) as port:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            for start, end in itertools.pairwise([0, *cuts, len(request)]):
                writer.write(request[start:end])
                await writer.drain()
                await asyncio.sleep(0.1)  # the client's pace, not a wait for the server
            answer = await reader.read()
        finally:
            writer.close()
    status, _, payload = answer.partition(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 200 OK")
    assert json.loads(payload)["replies"]
