"""The local web chat: a page at /chat and its JSON API, to try the bot with no platform account.

A web chat message takes the same path as a platform's (DESIGN.md, "How a message flows"):
recorded with a generated id, one turn in a tracked task, replies committed to the outbox with
platform "webchat". The delivery worker "delivers" them to `Mailbox`, and `POST /api/chat`
answers once every reply queued for that session so far has been delivered.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from bot.models import EventKind, Incoming, Outgoing, Platform, Reply, SendResult
from webhooks.errors import PayloadError
from webhooks.keyed_lock import KeyedLock
from webhooks.keys import TURNS_KEY
from webhooks.wire import body_object

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
SESSION = re.compile(r"[A-Za-z0-9-]{8,64}")  # crypto.randomUUID() is 36 characters of these
MAX_TEXT = 1000
MAX_PAYLOAD = 1000
WAIT_SECONDS = 15.0  # longer than one outbox poll and one turn; a reply never takes this long
MAX_SESSIONS = 10_000
MAX_BUFFERED = 50

# The page loads nothing from elsewhere and is never framed.
PAGE_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self';"
        " img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


@dataclass(slots=True)
class _Box:
    replies: list[Reply] = field(default_factory=list)
    queued: int = 0
    delivered: int = 0
    changed: asyncio.Event = field(default_factory=asyncio.Event)


class Mailbox:
    """Where the delivery worker "sends" web chat replies, per session, until the API takes them.

    `expect(session, n)` counts replies a turn queued; `collect` waits until everything queued
    for the session so far was delivered, then returns (and forgets) what was delivered: any
    leftovers from an earlier, timed-out request come first, in order. Memory is bounded:
    the least recently used sessions are forgotten beyond MAX_SESSIONS.
    """

    def __init__(self, max_sessions: int = MAX_SESSIONS, max_buffered: int = MAX_BUFFERED) -> None:
        self.max_sessions = max_sessions
        self.max_buffered = max_buffered
        self._boxes: OrderedDict[str, _Box] = OrderedDict()
        # One request of a session at a time, so each gets the replies to its own message.
        self.serial: KeyedLock[str] = KeyedLock()

    def _box(self, session: str) -> _Box:
        box = self._boxes.get(session)
        if box is None:
            box = self._boxes[session] = _Box()
            while len(self._boxes) > self.max_sessions:
                self._boxes.popitem(last=False)
        self._boxes.move_to_end(session)
        return box

    async def deliver(self, out: Outgoing) -> SendResult:
        """The outbox sender of Platform.WEBCHAT: never fails. A staff message (issue 11)
        answers no request: it waits for the page's next look (`take`) or request."""
        box = self._box(out.user_id)
        box.replies.append(out.reply)
        del box.replies[: -self.max_buffered]
        if not out.reply.by_staff:
            box.delivered += 1
        box.changed.set()
        return SendResult(ok=True)

    def take(self, session: str) -> list[Reply]:
        """What was delivered to a session that no request is waiting for (staff messages);
        nothing while a request of the session still waits for its turn's replies. Call it
        under `serial(session)`."""
        box = self._boxes.get(session)
        if box is None or box.delivered < box.queued:
            return []
        replies, box.replies = box.replies, []
        return replies

    def expect(self, session: str, count: int) -> None:
        self._box(session).queued += count

    async def collect(self, session: str) -> list[Reply]:
        """All delivered replies, once the session has none in flight (wrap in a timeout)."""
        box = self._box(session)
        while box.delivered < box.queued:
            box.changed.clear()
            await box.changed.wait()
        replies, box.replies = box.replies, []
        return replies


MAILBOX_KEY = web.AppKey("mailbox", Mailbox)


async def page(request: web.Request) -> web.FileResponse:
    """GET /chat: the chat page (static/chat.html, plain HTML, CSS and JS)."""
    return web.FileResponse(STATIC / "chat.html", headers=PAGE_HEADERS)


async def index(request: web.Request) -> web.Response:
    raise web.HTTPFound("/chat")


async def api(request: web.Request) -> web.Response:
    """POST /api/chat {"session", "text"} or {"session", "payload"} -> {"replies": [...]}.

    400 on a malformed request, 503 when the reply did not come in time or the turn failed.
    The body is read as the webhooks' are (`body_object`): UTF-8 whatever charset is declared,
    and its text made storable.
    """
    try:
        body = body_object(await request.read())
    except PayloadError as exc:
        return _error(400, str(exc))
    session, text, payload = body.get("session"), body.get("text", ""), body.get("payload")
    if not isinstance(session, str) or not SESSION.fullmatch(session):
        return _error(400, "session must be 8 to 64 letters, digits or dashes")
    if not isinstance(text, str) or len(text) > MAX_TEXT:
        return _error(400, f"text must be a string of at most {MAX_TEXT} characters")
    if payload is not None and (
        not isinstance(payload, str) or not 0 < len(payload) <= MAX_PAYLOAD
    ):
        return _error(400, f"payload must be a string of 1 to {MAX_PAYLOAD} characters")
    if payload is None and not text.strip():
        return _error(400, "say something: text or payload")
    kind = EventKind.TEXT if payload is None else EventKind.POSTBACK
    now_ms = int(time.time() * 1000)
    msg = Incoming(
        Platform.WEBCHAT, session, f"web-{uuid.uuid4().hex}", kind, text, payload, now_ms
    )
    turns, mailbox = request.app[TURNS_KEY], request.app[MAILBOX_KEY]
    async with mailbox.serial(session):
        task = await turns.accept(msg)
        if task is None:
            return _error(409, "duplicate message id")  # a uuid4: cannot happen
        # Shielded: a browser that goes away must not cancel a turn already recorded.
        count = await asyncio.shield(task)
        if count is None:
            return _error(503, "the message could not be handled")
        mailbox.expect(session, count)
        try:
            async with asyncio.timeout(WAIT_SECONDS):
                replies = await mailbox.collect(session)
        except TimeoutError:
            # Late replies stay in the mailbox and come first in the next answer.
            log.warning("webchat %s: replies not delivered in %.0f s", msg.message_id, WAIT_SECONDS)
            return _error(503, "the reply is late; ask again in a moment")
    return web.json_response({"replies": [_reply(r) for r in replies]}, dumps=_dumps)


async def updates(request: web.Request) -> web.Response:
    """GET /api/chat/updates?session=... -> {"replies": [...]}: messages staff sent the session
    since the page last looked (the page looks every few seconds), [] when none."""
    session = request.query.get("session", "")
    if not SESSION.fullmatch(session):
        return _error(400, "session must be 8 to 64 letters, digits or dashes")
    mailbox = request.app[MAILBOX_KEY]
    async with mailbox.serial(session):
        replies = mailbox.take(session)
    body = {"replies": [_reply(r) for r in replies]}
    return web.json_response(body, dumps=_dumps, headers={"Cache-Control": "no-store"})


def _reply(reply: Reply) -> dict[str, Any]:
    return {
        "text": reply.text,
        "quick_replies": [{"title": q.title, "payload": q.payload} for q in reply.quick_replies],
        "staff": reply.by_staff,
    }


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False)  # Vietnamese stays readable (and shorter)


def _error(status: int, message: str) -> web.Response:
    return web.json_response({"error": message}, status=status)


def add_routes(app: web.Application) -> None:
    """The page, its assets under /chat/static/, the API (and its look for staff messages),
    and / redirecting to the page."""
    app[MAILBOX_KEY] = Mailbox()
    app.router.add_get("/", index)
    app.router.add_get("/chat", page)
    app.router.add_static("/chat/static/", STATIC, append_version=False)
    app.router.add_post("/api/chat", api)
    app.router.add_get("/api/chat/updates", updates)
