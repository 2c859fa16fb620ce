"""Who may reach which admin route: sessions from the cookie, roles, CSRF, client details.

Every admin handler is declared either `requires(role)` (a valid session of at least that
role; on POST also the session's CSRF token) or `public` (the login page and the style sheet);
`webhooks/admin/__init__.py` refuses to register any other, so a new page cannot be left open
by forgetting (fail closed). Without a valid session a GET is sent to the login page and a
POST answered 401; a session of too low a role gets 403.
"""

from __future__ import annotations

import functools
import hmac
import logging
import secrets
from collections.abc import Awaitable, Callable
from typing import Any
from urllib.parse import urlencode

import aiohttp_jinja2
from aiohttp import web

from bot.models.staff import Role, StaffSession
from bot.staff.sessions import SessionStatus, check_session, csrf_matches
from webhooks.keys import ADMIN_CLOCK_KEY, SETTINGS_KEY, STORE_KEY

log = logging.getLogger(__name__)

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
StaffHandler = Callable[[web.Request, StaffSession], Awaitable[web.StreamResponse]]

SESSION_COOKIE = "tlp_admin"
LOGIN_COOKIE = "tlp_login"  # the login form's CSRF token (double submit: no session yet)
CSRF_FIELD = "csrf"
COOKIE_PATH = "/admin"
LOGIN_PATH = "/admin/login"

# Which handlers are guarded, with their least role, and which are public on purpose.
GUARDED: dict[Handler, Role] = {}
PUBLIC: set[Handler] = set()

# The pages load nothing from elsewhere, run no script and are never framed.
HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self';"
        " base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def public(handler: Handler) -> Handler:
    """Declare a handler reachable without a session (the login page, the style sheet)."""
    PUBLIC.add(handler)
    return handler


def requires(least: Role) -> Callable[[StaffHandler], Handler]:
    """Declare a handler's least role; it then gets the checked session as a second argument.
    A POST must also carry the session's CSRF token in its form."""

    def wrap(handler: StaffHandler) -> Handler:
        @functools.wraps(handler)
        async def guarded(request: web.Request) -> web.StreamResponse:
            app = request.app
            check = await check_session(
                app[STORE_KEY],
                app[SETTINGS_KEY].staff,
                request.cookies.get(SESSION_COOKIE),
                app[ADMIN_CLOCK_KEY](),
            )
            if check.session is None:
                expired = check.status is SessionStatus.EXPIRED
                if request.method == "GET":
                    query = {"next": request.path_qs} | ({"expired": "1"} if expired else {})
                    raise web.HTTPSeeOther(f"{LOGIN_PATH}?{urlencode(query)}", headers=HEADERS)
                raise web.HTTPUnauthorized(text="Cần đăng nhập.", headers=HEADERS)
            session = check.session
            if not session.role.allows(least):
                log.warning("staff %r (%s) refused %s", session.name, session.role, request.path)
                return page(request, "denied.html", {"staff": session}, status=403)
            if request.method == "POST":
                form = await request.post()
                if not csrf_matches(session, str(form.get(CSRF_FIELD, ""))):
                    log.warning(
                        "staff %r: %s without a valid CSRF token", session.name, request.path
                    )
                    raise web.HTTPForbidden(text="Biểu mẫu không hợp lệ.", headers=HEADERS)
            return await handler(request, session)

        GUARDED[guarded] = least
        return guarded

    return wrap


def page(
    request: web.Request, template: str, context: dict[str, Any], status: int = 200
) -> web.Response:
    """A rendered admin page with the admin headers."""
    response = aiohttp_jinja2.render_template(template, request, context, status=status)
    response.headers.update(HEADERS)
    return response


def is_https(request: web.Request) -> bool:
    """Whether the browser came over HTTPS: directly, or through a trusted proxy that says so
    (`admin_trusted_proxy`; nginx's `X-Forwarded-Proto $scheme`)."""
    if request.secure:
        return True
    if not request.app[SETTINGS_KEY].admin_trusted_proxy:
        return False
    proto = request.headers.get("X-Forwarded-Proto", "")
    return proto.split(",")[-1].strip().lower() == "https"


def client_address(request: web.Request) -> str:
    """The client's address for throttling and the audit log: behind a trusted proxy the last
    X-Forwarded-For entry (the one the proxy added), else the connection's peer."""
    if request.app[SETTINGS_KEY].admin_trusted_proxy:
        forwarded = request.headers.get("X-Forwarded-For", "").split(",")[-1].strip()
        if forwarded:
            return forwarded[:64]
    return request.remote or ""


def set_cookie(request: web.Request, response: web.StreamResponse, name: str, value: str) -> None:
    """A session-lifetime cookie only the admin pages receive and no script can read."""
    response.set_cookie(
        name,
        value,
        path=COOKIE_PATH,
        httponly=True,
        samesite="Strict",
        secure=is_https(request),
    )


def new_login_token() -> str:
    return secrets.token_urlsafe(24)


def login_token_matches(request: web.Request, submitted: str) -> bool:
    """The login form's token equals its cookie (both present), compared in constant time."""
    cookie = request.cookies.get(LOGIN_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(
        cookie.encode("utf-8", "replace"), submitted.encode("utf-8", "replace")
    )
