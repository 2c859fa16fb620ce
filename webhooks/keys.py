"""The aiohttp application's typed keys (style.md §4), in one place for every route module."""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from aiohttp import web

from bot.bundle import BundleSlot
from bot.config import Settings
from bot.delivery import DeliveryWorker
from bot.privacy import Purger
from bot.reload import Reloader
from bot.staff.handoff import HandoffDesk
from bot.staff.passwords import Passwords
from bot.store import Store
from bot.turns.queue import TurnQueue
from webhooks.handover import PageInbox

SETTINGS_KEY = web.AppKey("settings", Settings)
STORE_KEY = web.AppKey("store", Store)
SESSION_KEY = web.AppKey("http_session", aiohttp.ClientSession)
WORKER_KEY = web.AppKey("delivery_worker", DeliveryWorker)
TURNS_KEY = web.AppKey("turns", TurnQueue)
BUNDLE_KEY = web.AppKey("bundle", BundleSlot)
RELOADER_KEY = web.AppKey("knowledge_reloader", Reloader)
PURGER_KEY = web.AppKey("retention_purger", Purger)
# The staff dashboard's clock (sessions, throttling, the overview's days) and password hasher:
# tests set a fake clock and cheap argon2 parameters.
ADMIN_CLOCK_KEY: web.AppKey[Callable[[], float]] = web.AppKey("admin_clock")
PASSWORDS_KEY = web.AppKey("staff_passwords", Passwords)
# What staff do to handed-over conversations (bot/staff/handoff.py), made with the turn queue.
HANDOFF_DESK_KEY = web.AppKey("handoff_desk", HandoffDesk)
# Messenger thread control with the Page Inbox (webhooks/handover.py); None when not configured.
PAGE_INBOX_KEY: web.AppKey[PageInbox | None] = web.AppKey("page_inbox")
