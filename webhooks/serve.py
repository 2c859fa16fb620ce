"""`bot serve`: run the server until Ctrl-C or SIGTERM.

bot/ never imports webhooks/ at module level; the CLI imports this module inside the command.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
from typing import TypedDict

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.typedefs import Handler, Middleware

from bot.bundle import Bundle
from bot.config import Settings
from webhooks.app import create_app
from webhooks.logs import field, log_handler

# Long enough for running turns and in-flight sends to be recorded (DeliveryWorker.stop waits
# for them); a SIGKILL instead loses nothing either, only time (see TurnQueue.resume_pending).
SHUTDOWN_TIMEOUT = 30.0
SLOW_WEBHOOK_SECONDS = 0.5
# After a refusal that leaves a body unread (408, 413) aiohttp reads and drops the rest for
# this long, so that the client gets the answer rather than a reset; its own 10 s would let a
# client that stopped sending hold the connection 10 s past its deadline.
LINGERING_SECONDS = 2.0


class AccessLogger(AbstractAccessLogger):
    """Method, path WITHOUT the query string, status, size and time.

    aiohttp's default format logs the whole request line, and Meta's verification GET carries
    FB_VERIFY_TOKEN in its query (platforms.md §1.1): a secret must never reach the log.
    The path is logged as sent, still percent-encoded: decoded, `%0a` would end the line and
    let the rest of the path pass for a line of its own. Each field is escaped and bounded
    (webhooks.logs.field) even where no SafeFormatter is installed.

    Platform deliveries that were accepted promptly are not logged: each message is already
    recorded in the store with its id, and a line per delivery cost about a sixth of the
    webhook's time under load (bench/load.py). Refusals, errors and slow answers still are.
    """

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        quiet = (
            request.method == "POST"
            and request.path.startswith("/webhooks/")
            and response.status == 200
            and time < SLOW_WEBHOOK_SECONDS
        )
        if quiet:
            return
        self.logger.info(
            '%s "%s %s" %s %s %.3fs',
            field(request.remote),
            field(request.method),
            field(request.raw_path.partition("?")[0]),
            response.status,
            response.body_length,
            time,
        )


def new_loop() -> asyncio.AbstractEventLoop:
    """uvloop where it is installed (not on Windows): the webhook's acknowledgement path ran
    about 40% more messages per second on it in bench/load.py; the standard loop otherwise."""
    try:
        import uvloop
    except ImportError:
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


def body_deadline(settings: Settings) -> Middleware:
    """Reads each request's body before its handler runs, within body_timeout_seconds of the
    end of its headers; past that, 408 and the connection is closed. aiohttp has no such
    deadline: a client that promises more bytes than it sends would hold a connection (and a
    handler) forever. The handler's own request.read() or request.json() then returns the
    bytes already read. A declared size over max_body_bytes is refused before reading, as
    webhooks.app does; request.read() enforces the limit on chunked bodies."""
    seconds, limit = settings.body_timeout_seconds, settings.max_body_bytes

    @web.middleware
    async def read_body_in_time(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.body_exists:
            size = request.content_length
            if size is not None and size > limit:
                raise web.HTTPRequestEntityTooLarge(max_size=limit, actual_size=size)
            try:
                async with asyncio.timeout(seconds):
                    await request.read()
            except TimeoutError:
                refusal = web.HTTPRequestTimeout(text="request body not received in time")
                refusal.force_close()
                raise refusal from None
        return await handler(request)

    return read_body_in_time


class RunnerOptions(TypedDict):
    """What `run` passes to aiohttp's AppRunner (through web.run_app)."""

    access_log_class: type[AbstractAccessLogger]
    shutdown_timeout: float
    keepalive_timeout: float
    lingering_time: float


def serving_app(settings: Settings, bundle: Bundle | None = None) -> web.Application:
    """The application `bot serve` runs: create_app's, with the body deadline outermost."""
    app = create_app(settings, bundle)
    app.middlewares.insert(0, body_deadline(settings))
    return app


def runner_options(settings: Settings) -> RunnerOptions:
    """The server's options; tests start an AppRunner with the same ones on port 0."""
    return RunnerOptions(
        access_log_class=AccessLogger,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
        # aiohttp arms this timer when a connection opens and again after each answer, and
        # closes the connection if a request's headers are not complete when it fires (the
        # first arming since aiohttp PR #13681): the headers' deadline. It is also how long
        # an idle kept-alive connection stays open.
        keepalive_timeout=settings.header_timeout_seconds,
        lingering_time=LINGERING_SECONDS,
    )


def run(settings: Settings) -> None:
    """Serve on settings.host:settings.port. Raises KnowledgeError if the knowledge base has
    errors and OSError if the port is taken; the CLI turns both into a ClickException."""
    # Every record, ours, the core's and aiohttp's, as one escaped and bounded line.
    logging.basicConfig(level=logging.INFO, handlers=[log_handler(sys.stderr)])
    app = serving_app(settings)  # loads the knowledge base: fail before binding the port
    # The matcher's index lives as long as the process: keep the cyclic collector from
    # rescanning it, whose full passes showed as 150 ms latency spikes (bench/match.py).
    gc.collect()
    gc.freeze()
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=None,  # the app logs its own start-up lines (webhooks.app.startup_lines)
        loop=new_loop(),
        **runner_options(settings),
    )
