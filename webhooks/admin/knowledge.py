"""The knowledge page (viewer): the knowledge version in service, when it was loaded, the
errors of the last failed reload, each topic's open `verify` notes and review date, and the
meaning lints of `bot kb check` (computed once per version in a thread: "đang kiểm tra…"
until they are ready).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from functools import partial
from typing import Any

from aiohttp import web

from bot.cases.dates import VN_TZ
from bot.config import Settings
from bot.knowledge import KnowledgeBase, Problem
from bot.lint import LintCache, LintKind, kind_of, lint
from bot.model_cache import ModelCache, model_cache
from bot.models.staff import Role, StaffSession
from bot.staff.knowledge import topic_statuses
from webhooks.admin.guard import page, requires
from webhooks.keys import ADMIN_CLOCK_KEY, BUNDLE_KEY, RELOADER_KEY, SETTINGS_KEY

LINTS_KEY = web.AppKey("knowledge_lints", LintCache)

KINDS = {
    "procedure": "thủ tục",
    "info": "thông tin",
    "case": "tra cứu hồ sơ",
    "handoff": "gặp cán bộ",
    "referral": "chuyển cơ quan khác",
    "smalltalk": "giao tiếp",
    "outofscope": "ngoài phạm vi",
}
LINT_KINDS = {
    LintKind.ANSWERED_ELSEWHERE: "Câu mẫu được trả lời thành chủ đề khác",
    LintKind.SHARED: "Câu mẫu trùng với chủ đề khác",
    LintKind.ASKED_BACK: "Câu mẫu khiến bot hỏi lại",
    LintKind.NOT_UNDERSTOOD: "Câu mẫu bot không hiểu",
    LintKind.ONE_LANGUAGE: "Nội dung chỉ có một ngôn ngữ",
}


def add_routes(app: web.Application) -> list[tuple[str, str, Any]]:
    """The page's route (registered by webhooks/admin/__init__.py, which checks it is
    guarded) and its lint cache, built on the server's matcher settings."""
    settings = app[SETTINGS_KEY]
    app[LINTS_KEY] = LintCache(partial(_lint, settings=settings, models=model_cache(settings)))
    app.cleanup_ctx.append(_lints)
    return [("GET", "/admin/knowledge", knowledge)]


def _lint(kb: KnowledgeBase, settings: Settings, models: ModelCache | None) -> list[Problem]:
    return lint(kb, settings.matcher, models=models)


async def _lints(app: web.Application) -> AsyncIterator[None]:
    yield
    await app[LINTS_KEY].close()


def lint_groups(problems: list[Problem]) -> list[tuple[str, list[Problem]]]:
    """The lints under their Vietnamese headings, in the order of LINT_KINDS; empty ones out."""
    groups: dict[LintKind, list[Problem]] = {kind: [] for kind in LINT_KINDS}
    for problem in problems:
        groups[kind_of(problem)].append(problem)
    return [(LINT_KINDS[kind], rows) for kind, rows in groups.items() if rows]


@requires(Role.VIEWER)
async def knowledge(request: web.Request, staff: StaffSession) -> web.StreamResponse:
    """GET /admin/knowledge: the state of the knowledge base in service."""
    app = request.app
    kb = app[BUNDLE_KEY].current.kb
    reloader = app[RELOADER_KEY]
    today = dt.datetime.fromtimestamp(app[ADMIN_CLOCK_KEY](), VN_TZ).date()
    topics = topic_statuses(kb, today)
    cache = app[LINTS_KEY]
    problems = cache.problems(kb)
    labels = {facet: text.vi for facet, text in kb.texts.facet_labels.items()}
    context: dict[str, Any] = {
        "staff": staff,
        "version": kb.version,
        "loaded_at": reloader.loaded_at,
        "failed_at": reloader.failed_at,
        "errors": reloader.errors,
        "today": today,
        "topics": topics,
        "past_review": sum(t.past_review for t in topics),
        "verify_notes": sum(len(t.verify) for t in topics),
        "kinds": KINDS,
        "facets": labels,
        "lints": None if problems is None else lint_groups(problems),
        "lint_count": None if problems is None else len(problems),
        "lint_failed": cache.failed(kb),
    }
    return page(request, "knowledge.html", context)
