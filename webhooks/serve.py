"""`bot serve`: run the server until Ctrl-C or SIGTERM.

bot/ never imports webhooks/ at module level; the CLI imports this module inside the command.
"""

from __future__ import annotations

import asyncio
import gc
import logging

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger

from bot.config import Settings
from webhooks.app import create_app

# Long enough for running turns and in-flight sends to be recorded (DeliveryWorker.stop waits
# for them); a SIGKILL instead loses nothing either, only time (see TurnQueue.resume_pending).
SHUTDOWN_TIMEOUT = 30.0
SLOW_WEBHOOK_SECONDS = 0.5


class AccessLogger(AbstractAccessLogger):
    """Method, path WITHOUT the query string, status, size and time.

    aiohttp's default format logs the whole request line, and Meta's verification GET carries
    FB_VERIFY_TOKEN in its query (platforms.md §1.1): a secret must never reach the log.

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
            request.remote,
            request.method,
            request.path,
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


def run(settings: Settings) -> None:
    """Serve on settings.host:settings.port. Raises KnowledgeError if the knowledge base has
    errors and OSError if the port is taken; the CLI turns both into a ClickException."""
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(settings)  # loads the knowledge base: fail before binding the port
    # The matcher's index lives as long as the process: keep the cyclic collector from
    # rescanning it, whose full passes showed as 150 ms latency spikes (bench/match.py).
    gc.collect()
    gc.freeze()
    web.run_app(
        app,
        host=settings.host,
        port=settings.port,
        print=None,  # the app logs its own start-up lines (webhooks.app.startup_lines)
        access_log_class=AccessLogger,
        shutdown_timeout=SHUTDOWN_TIMEOUT,
        loop=new_loop(),
    )
