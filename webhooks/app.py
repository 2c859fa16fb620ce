"""The HTTP edge: `create_app(settings)` wires the webhooks, the web chat and the workers.

Every resource is opened and closed in its own cleanup context, in this order (closed in
reverse): the Store, the one outbound ClientSession, the delivery worker, the turn queue
(whose start-up queues the messages acknowledged before a crash, answered while serving, and
announces procedures changed while the server was down), the reminders of citizens still
waiting for staff, the daily retention purge, the clerks' daily deadline digest.
Section numbers (§) refer to /work/shared/reference/platforms.md.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
from aiohttp import web

from bot.bundle import Bundle, BundleSlot
from bot.clerks.alerts import Alerts, parse_targets
from bot.clerks.communes import load_communes
from bot.clerks.digest import Digester, parse_time
from bot.config import Settings
from bot.delivery import DeliveryWorker, Sender
from bot.model_cache import model_cache
from bot.models import Incoming, Outgoing, Platform, SendResult
from bot.privacy import Purger
from bot.rate_limit import per_minute, per_second
from bot.reload import Reloader
from bot.staff.handoff import HandoffDesk
from bot.staff.passwords import Passwords
from bot.store import Store
from bot.turns.flood import FloodGate
from bot.turns.queue import TurnQueue
from bot.zalo_tokens import TokenPair, TokenRefreshError, ZaloTokens
from webhooks import admin, facebook, webchat, zalo
from webhooks.errors import PayloadError
from webhooks.handover import PageInbox
from webhooks.keys import (
    ADMIN_CLOCK_KEY,
    BUNDLE_KEY,
    HANDOFF_DESK_KEY,
    PAGE_INBOX_KEY,
    PASSWORDS_KEY,
    PURGER_KEY,
    RELOADER_KEY,
    SESSION_KEY,
    SETTINGS_KEY,
    STORE_KEY,
    TURNS_KEY,
    WORKER_KEY,
)

log = logging.getLogger(__name__)

__all__ = ["create_app", "enabled_platforms", "startup_lines"]


def create_app(settings: Settings, bundle: Bundle | None = None) -> web.Application:
    """The whole server. `bundle` defaults to the knowledge base at settings.knowledge
    (raises KnowledgeError when it has errors). Webhook routes exist only for the enabled
    platforms; the web chat and the staff dashboard always do."""
    models = model_cache(settings)
    if bundle is None:
        bundle = Bundle.load(
            settings.knowledge_path(),
            settings.matcher,
            settings.idle_seconds,
            models,
            settings.rating_every,
        )
    # client_max_size makes request.read() answer 413 beyond the limit, chunked bodies included.
    app = web.Application(client_max_size=settings.max_body_bytes)
    app[SETTINGS_KEY] = settings
    slot = BundleSlot(bundle)
    app[BUNDLE_KEY] = slot
    app[RELOADER_KEY] = Reloader(
        settings.knowledge_path(),
        lambda root: Bundle.load(
            root, settings.matcher, settings.idle_seconds, models, settings.rating_every
        ),
        lambda new: setattr(slot, "current", new),
        settings.reload_seconds,
    )
    app.cleanup_ctx.extend(
        [
            _store,
            _http_session,
            _delivery_worker,
            _turns,
            _reminding,
            _purging,
            _digesting,
            _reloading,
        ]
    )
    app.router.add_get("/healthz", healthz)
    if settings.facebook_enabled:
        app.router.add_get("/webhooks/facebook", facebook_verify)
        app.router.add_post("/webhooks/facebook", facebook_events)
    if settings.zalo_enabled:
        app.router.add_post("/webhooks/zalo", zalo_events)
    webchat.add_routes(app)
    # The staff dashboard (/admin). Tests replace the clock and the hasher's parameters.
    app[ADMIN_CLOCK_KEY] = time.time
    app[PASSWORDS_KEY] = Passwords()
    admin.add_routes(app)
    return app


def enabled_platforms(settings: Settings) -> list[str]:
    """The platforms this server answers on; the web chat always."""
    flags = [
        (Platform.FACEBOOK, settings.facebook_enabled),
        (Platform.ZALO, settings.zalo_enabled),
        (Platform.WEBCHAT, True),
    ]
    return [platform.value for platform, enabled in flags if enabled]


def startup_lines(settings: Settings) -> list[str]:
    """What the server says at start-up: platforms, URLs, and "web chat only" when so."""
    host = "localhost" if settings.host in ("0.0.0.0", "::", "") else settings.host
    base = f"http://{host}:{settings.port}"
    lines = [f"Trợ lý Tư pháp on {base} (database {settings.db_path()})"]
    if settings.facebook_enabled:
        lines.append(f"Messenger webhook: {base}/webhooks/facebook")
    if settings.zalo_enabled:
        lines.append(f"Zalo OA webhook: {base}/webhooks/zalo")
    if not (settings.facebook_enabled or settings.zalo_enabled):
        lines.append(
            "No platform secrets set (FB_*, ZALO_*): web chat only; see README for the variables"
        )
    lines.append(f"Web chat: {base}/chat   Health: {base}/healthz   Staff: {base}/admin")
    return lines


# -- resources, one cleanup context each ------------------------------------------------


async def _store(app: web.Application) -> AsyncIterator[None]:
    # Store.open creates the parent folder of the database file.
    store = await Store.open(app[SETTINGS_KEY].db_path())
    app[STORE_KEY] = store
    yield
    await store.close()


async def _http_session(app: web.Application) -> AsyncIterator[None]:
    """The single outbound session (style.md §5); each send also sets its own timeout."""
    timeout = aiohttp.ClientTimeout(total=app[SETTINGS_KEY].send_timeout_seconds)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        app[SESSION_KEY] = session
        yield


async def _delivery_worker(app: web.Application) -> AsyncIterator[None]:
    settings, store, session = app[SETTINGS_KEY], app[STORE_KEY], app[SESSION_KEY]
    senders: dict[Platform, Sender] = {Platform.WEBCHAT: app[webchat.MAILBOX_KEY].deliver}
    inbox = None
    if settings.fb_thread_control and settings.facebook_enabled:
        inbox = PageInbox(store, session, settings)  # Messenger thread control (§2.8)
    app[PAGE_INBOX_KEY] = inbox
    if settings.facebook_enabled:
        senders[Platform.FACEBOOK] = _messenger_sender(session, settings, inbox)
    if settings.zalo_enabled:
        zalo_sender = ZaloSender(store, session, settings)
        senders[Platform.ZALO] = zalo_sender
        # Commune clerks' groups (bot/clerks/): same token and rate limit as the CS messages.
        senders[Platform.ZALO_GROUP] = zalo_sender.group
    worker = DeliveryWorker.from_settings(store, senders, settings)
    app[WORKER_KEY] = worker
    task = asyncio.create_task(worker.run(), name="delivery worker")
    yield
    await worker.stop()  # returns once in-flight sends are recorded
    await task


async def _turns(app: web.Application) -> AsyncIterator[None]:
    settings = app[SETTINGS_KEY]
    flood = FloodGate(settings.flood_messages, settings.flood_window_seconds)
    # The notices the bot sends by itself (bot/clerks/alerts.py), each off without targets.
    alerts = _alerts(app)
    # Procedures changed since the version clerks last saw (edited while the server was
    # down): announced once now; each reload after is compared the same way.
    app[RELOADER_KEY].loaded = alerts.knowledge_loaded
    try:
        await alerts.knowledge_loaded(app[BUNDLE_KEY].current.kb)
    except Exception:  # the server answers citizens whatever became of the announcement
        log.exception("the start-up check for knowledge changes failed")
    on_handoff = alerts.handoff_opened if alerts.handoff_alert_to else None
    inbox = app[PAGE_INBOX_KEY]
    timeout = settings.handoff_timeout_hours * 3600
    slot = app[BUNDLE_KEY]
    turns = TurnQueue(
        app[STORE_KEY],
        slot,
        flood,
        app[WORKER_KEY].wake,
        on_handoff=on_handoff,
        handoff_timeout=timeout,
        on_handoff_closed=inbox.take_back if inbox is not None else None,
    )
    app[TURNS_KEY] = turns
    app[HANDOFF_DESK_KEY] = HandoffDesk(
        app[STORE_KEY],
        lambda: slot.current.dialog.composer,
        timeout,
        threads=inbox,
        wake=app[WORKER_KEY].wake,
    )
    # Before the first webhook is served, the messages acknowledged before a crash (SIGKILL
    # included) are read and queued, so none of them can be running twice; they are answered
    # while the server serves: a slow or poison one must not hold its start-up.
    resumed = await turns.resume_pending()
    if resumed:
        log.info("re-processing %d message(s) acknowledged before the restart", resumed)
    for line in startup_lines(settings):
        log.info("%s", line)
    yield
    await turns.drain()  # commit running turns before the worker and the store close


def _alerts(app: web.Application) -> Alerts:
    settings = app[SETTINGS_KEY]
    return Alerts(
        app[STORE_KEY],
        load_communes(),
        dict(settings.clerk_groups),
        announce_to=parse_targets(settings.announce_to),
        handoff_alert_to=parse_targets(settings.handoff_alert_to),
        base_url=settings.public_base_url,
        wake=app[WORKER_KEY].wake,
        remind_after=settings.handoff_remind_minutes * 60,
        handoff_timeout=settings.handoff_timeout_hours * 3600,
    )


async def _reminding(app: web.Application) -> AsyncIterator[None]:
    """One reminder per citizen still waiting for staff (bot/clerks/alerts.py), unless
    handoff_alert_to is empty or handoff_remind_minutes is 0."""
    alerts = _alerts(app)
    if not alerts.reminding:
        yield
        return
    task = asyncio.create_task(alerts.run_reminders(), name="handoff reminders")
    try:
        yield
    finally:
        task.cancel()  # between two looks, or within one: each reminder is its own transaction
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _purging(app: web.Application) -> AsyncIterator[None]:
    """The retention purge (bot/privacy.py): shortly after start, then every `purge_hours`."""
    settings, store = app[SETTINGS_KEY], app[STORE_KEY]
    # An older database is rewritten once so that purges give disk space back: before the
    # first webhook is served, as the rewrite holds the store (bot/store/privacy.py).
    if await store.ensure_incremental_vacuum():
        log.info("database converted to incremental auto_vacuum (one VACUUM)")
    purger = Purger(store, settings.retention, settings.purge_hours * 3600)
    app[PURGER_KEY] = purger
    task = asyncio.create_task(purger.run(), name="retention purge")
    try:
        yield
    finally:
        task.cancel()  # between two batches or within one: each is its own transaction
        with contextlib.suppress(asyncio.CancelledError):
            await task


async def _digesting(app: web.Application) -> AsyncIterator[None]:
    """The clerks' daily deadline digest (bot/clerks/digest.py), unless digest_time is ''."""
    settings = app[SETTINGS_KEY]
    at = parse_time(settings.digest_time)
    if at is None:
        yield
        return
    digester = Digester(app[STORE_KEY], load_communes(), at, settings.digest_days)
    task = asyncio.create_task(digester.run(app[WORKER_KEY].wake), name="deadline digest")
    try:
        yield
    finally:
        task.cancel()  # between two looks, or within one: each commune is its own transaction
        with contextlib.suppress(asyncio.CancelledError):
            await task


# -- senders -----------------------------------------------------------------------------


def _messenger_sender(
    session: aiohttp.ClientSession, settings: Settings, inbox: PageInbox | None
) -> Sender:
    # One limiter per Page, shared by every send of this process (platforms.md §2.6).
    limit = per_second(settings.fb_sends_per_second)

    async def send(out: Outgoing) -> SendResult:
        result = await facebook.send(
            session,
            settings.fb_graph_url,
            settings.fb_page_access_token,
            out,
            limit,
            send_timeout=settings.send_timeout_seconds,
        )
        if result.ok and out.reply.hands_over and inbox is not None:
            try:
                await inbox.pass_thread(out.user_id)
            except Exception:  # delivered: a failed handover must not resend the message
                log.exception("facebook: passing the thread to the Page Inbox failed")
        return result

    return send


class ZaloSender:
    """Sends CS replies with the OA access token that `ZaloTokens` keeps fresh; a token error
    refreshes once and retries (bot/zalo_tokens.py has the life cycle)."""

    def __init__(
        self,
        store: Store,
        session: aiohttp.ClientSession,
        settings: Settings,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self.settings = settings
        refresher = self._refresh if settings.zalo_app_secret else None
        self.tokens = ZaloTokens(
            store, refresher, settings.zalo_access_token, settings.zalo_refresh_token, clock
        )
        self._limit = per_minute(settings.zalo_sends_per_minute)  # per app (platforms.md §3.7)

    async def _refresh(self, refresh_token: str) -> TokenPair:
        """The OAuth call (§3.6) the token life cycle spends a refresh token on."""
        s = self.settings
        return await zalo.refresh_token(
            self.session, s.zalo_oauth_url, s.zalo_app_id, s.zalo_app_secret, refresh_token
        )

    async def __call__(self, out: Outgoing) -> SendResult:
        return await self._with_token(out, self._send)

    async def group(self, out: Outgoing) -> SendResult:
        """A message to a Zalo group the OA owns (GMF, §3.9): `out.user_id` is the group id."""
        return await self._with_token(out, self._send_group)

    async def _with_token(
        self, out: Outgoing, post: Callable[[str, Outgoing], Awaitable[SendResult]]
    ) -> SendResult:
        token = await self.tokens.current()
        result = await post(token, out)
        if not result.auth_failed:
            return result
        try:
            fresh = await self.tokens.refresh(token)
        except TokenRefreshError as exc:
            # The message is safe to log by contract (bot/zalo_tokens.py): no token in it.
            log.error("zalo: access token refresh failed: %s", exc)
            error = f"{result.error}; token refresh failed: {exc}"
            return SendResult(ok=False, retryable=exc.retryable, error=error)
        return await post(fresh, out)

    async def _send(self, token: str, out: Outgoing) -> SendResult:
        s = self.settings
        return await zalo.send(
            self.session, s.zalo_api_url, token, out, self._limit, s.send_timeout_seconds
        )

    async def _send_group(self, token: str, out: Outgoing) -> SendResult:
        s = self.settings
        return await zalo.send_group(
            self.session,
            s.zalo_api_url,
            token,
            out.user_id,
            out.reply.text,
            self._limit,
            s.send_timeout_seconds,
        )


@contextlib.asynccontextmanager
async def _reloading(app: web.Application) -> AsyncIterator[None]:
    """Runs the app's knowledge reloader while the app runs (off when interval <= 0)."""
    reloader = app[RELOADER_KEY]
    task = asyncio.create_task(reloader.run()) if reloader.interval > 0 else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


# -- routes ------------------------------------------------------------------------------


async def healthz(request: web.Request) -> web.Response:
    """GET /healthz: {status, knowledge_version, knowledge_errors, platforms, outbox_backlog,
    last_purge_at, rows_purged, oldest_message_age_seconds}; 503 without a working database:
    one that does not answer, or that refuses writes (then `database_error` says why, e.g. the
    disk is full, and the webhooks answer 500).

    `last_purge_at` (ISO 8601, UTC) and `rows_purged` (per kind) are the last retention
    purge's, null before the first; the oldest message's age shows the purge keeping up."""
    app = request.app
    store = app[STORE_KEY]
    body: dict[str, object] = {
        "status": "ok",
        "knowledge_version": app[BUNDLE_KEY].current.kb.version,
        # A broken edit keeps the last good knowledge base serving; staff see why here.
        "knowledge_errors": [str(p) for p in app[RELOADER_KEY].errors],
        "platforms": enabled_platforms(app[SETTINGS_KEY]),
    }
    store = app[STORE_KEY]
    try:
        body["outbox_backlog"] = await store.backlog()
        purge = await store.last_purge()
        body["oldest_message_age_seconds"] = await store.oldest_message_age()
    except Exception:
        log.exception("healthz: the store does not answer")
        body.update(status="error", outbox_backlog=None)
        return web.json_response(body, status=503)
    at = None if purge is None else dt.datetime.fromtimestamp(purge.at, dt.UTC)
    body["last_purge_at"] = None if at is None else at.isoformat(timespec="seconds")
    body["rows_purged"] = None if purge is None else dict(purge.rows)
    if store.write_fault is not None:
        # A full disk or another process's lock still lets reads through: ask the writes.
        body.update(status="error", database_error=store.write_fault)
        return web.json_response(body, status=503)
    return web.json_response(body)


async def facebook_verify(request: web.Request) -> web.Response:
    """GET /webhooks/facebook: echo hub.challenge as text/plain, 403 on mismatch (§1.1)."""
    challenge = facebook.verify_subscription(
        request.query, request.app[SETTINGS_KEY].fb_verify_token
    )
    if challenge is None:
        log.warning("facebook: webhook verification refused (wrong token or mode)")
        raise web.HTTPForbidden(text="verification failed")
    return web.Response(text=challenge)


async def facebook_events(request: web.Request) -> web.Response:
    """POST /webhooks/facebook: verify, parse, record, answer 200 at once (§1.3, §1.4)."""
    settings = request.app[SETTINGS_KEY]
    raw = await _read_body(request, settings)
    if not facebook.verify(raw, request.headers, settings.fb_app_secret):
        log.warning("facebook: bad or missing signature from %s; ignored", request.remote)
        raise web.HTTPForbidden(text="bad signature")
    messages = _parse(facebook.parse, raw, Platform.FACEBOOK)
    if settings.fb_thread_control:
        # Staff marked conversations done in the Page Inbox (§2.8): those handoffs end before
        # this body's messages are queued, so a message after the event is answered again.
        desk, now = request.app[HANDOFF_DESK_KEY], request.app[ADMIN_CLOCK_KEY]()
        for psid in facebook.thread_returns(raw, settings.fb_page_inbox_app_id):
            if await desk.returned(Platform.FACEBOOK, psid, now):
                log.info("facebook: the Page Inbox gave a conversation back; the bot answers")
    await _accept(request.app, messages)
    return web.Response(text="EVENT_RECEIVED")


async def zalo_events(request: web.Request) -> web.Response:
    """POST /webhooks/zalo: the unsigned `{}` probe gets 200 (§3.1); others are verified,
    parsed, recorded and answered 200 well within Zalo's 2 s (§3.1, §3.2)."""
    settings = request.app[SETTINGS_KEY]
    raw = await _read_body(request, settings)
    if zalo.is_probe(raw, request.headers):
        log.info("zalo: webhook URL probe answered")
        return web.json_response({"ok": True})
    if not zalo.verify(raw, request.headers, settings.zalo_app_id, settings.zalo_oa_secret_key):
        log.warning("zalo: bad or missing signature from %s; ignored", request.remote)
        raise web.HTTPForbidden(text="bad signature")
    messages = _parse(zalo.parse, raw, Platform.ZALO)
    await _accept(request.app, messages)
    return web.json_response({"ok": True})


async def _read_body(request: web.Request, settings: Settings) -> bytes:
    """The raw body, read once: the signature covers these exact bytes (§1.3, §3.2)."""
    size = request.content_length
    if size is not None and size > settings.max_body_bytes:
        raise web.HTTPRequestEntityTooLarge(max_size=settings.max_body_bytes, actual_size=size)
    return await request.read()


def _parse(
    parse: Callable[[bytes], list[Incoming]], raw: bytes, platform: Platform
) -> list[Incoming]:
    try:
        return parse(raw)
    except PayloadError as exc:
        # 400, never 5xx: a 5xx makes the platform resend the same bad body for hours (§1.4).
        log.warning("%s: unreadable webhook body: %s", platform, exc)
        raise web.HTTPBadRequest(text="unreadable payload") from None


async def _accept(app: web.Application, messages: list[Incoming]) -> None:
    """Record the messages (a whole Messenger batch in one transaction) and start their turns.
    If the store itself fails here the request fails (500) on purpose: nothing was
    acknowledged, so the platform's retry is wanted."""
    await app[TURNS_KEY].accept_many(messages)
