"""Zalo Official Account: verify and parse webhooks, send CS replies and group notices, refresh.

`verify`, `is_probe`, `parse` and `render` are pure and synchronous; `send`, `send_group` and
`refresh_token` are the only I/O, through the caller's single `aiohttp.ClientSession`.
Section numbers (§) refer to /work/shared/reference/platforms.md.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import time
import unicodedata
from collections.abc import Mapping
from typing import Any

import aiohttp

from bot.models import EventKind, Incoming, Outgoing, Platform, SendResult
from bot.rate_limit import RateLimit
from bot.zalo_tokens import DEFAULT_EXPIRES_IN, TokenPair, TokenRefreshError
from webhooks.errors import PayloadError
from webhooks.wire import answer_object, body_object, natural, send_parts, timestamp_ms
from webhooks.wire import header as _header
from webhooks.wire import integer as _int
from webhooks.wire import obj as _object
from webhooks.wire import split as _split

TEXT_LIMIT = 2000  # §3.4 "tối đa 2.000 ký tự"; undocumented for groups, assumed the same (§3.9)
SEND_TIMEOUT = 10.0  # seconds per call; a timeout is retryable, the outbox retries
RATE_LIMIT_WAIT = 60.0  # -32: the per-minute quota resets each minute (§3.7)
MORNING, EVENING = dt.time(6, 0), dt.time(22, 0)  # -234: "not at night (10PM - 6AM)" (§3.8)
VN_TZ = dt.timezone(dt.timedelta(hours=7))
clock = time.time  # the wall clock -234's wait is counted from (a test sets its own)

_SIGNATURE = re.compile(r"(?:mac\s*=\s*)?([0-9a-f]{64})", re.IGNORECASE)
_PROBE = re.compile(rb"[ \t\r\n]*\{[ \t\r\n]*\}[ \t\r\n]*")  # `{}` with JSON whitespace
_USER_EVENTS = frozenset(
    f"user_send_{kind}"
    for kind in ("text", "image", "gif", "link", "audio", "video", "sticker", "location", "file")
) | {"user_send_business_card"}
# A user chatting without following the OA: `sender.id` is an anonymous id, usable only with
# `message.conversation_id` (docs: webhook/tin-nhan/su-kien-nguoi-dung-an-danh-gui-tin-nhan).
_ANONYMOUS_EVENTS = frozenset(
    f"anonymous_send_{kind}" for kind in ("text", "image", "file", "sticker")
)
ANONYMOUS = "anon:"
"""User id prefix of an anonymous chatter: "anon:<anonymous_id>:<conversation_id>", all a reply
needs (the ids are hex, so ":" separates them); such replies go to ANONYMOUS_PATH."""
ANONYMOUS_PATH = "/v2.0/oa/message"
"""Where Zalo's current docs send a reply to an anonymous user, recipient {anonymous_id,
conversation_id} (tin-nhan/cac-loai-tin-khac/gui-tin-nhan-van-ban-den-nguoi-dung-an-danh). It is
the v2 path, shut for user-id messages (-240, §3.4): should Zalo answer -240 here too, the reply
is recorded as failed like any permanent error. Unverified against the live API."""

# Zalo error codes, §3.8: code -> (retryable, reason). Token errors set `auth_failed` and are
# retryable: refresh, then retry once. Unknown codes are permanent unless the HTTP status is 5xx.
_CODES: dict[int, tuple[bool, str]] = {
    -32: (True, "rate limit, wait for the next minute"),
    -200: (True, "send message failed"),
    -234: (True, "not sent at night (22:00-06:00)"),
    -216: (True, "access token invalid"),
    -220: (True, "access token expired or removed"),
    -230: (False, "window closed: no interaction in the past 7 days"),
    -232: (False, "window closed: no interaction, or it expired"),
    -213: (False, "user has not followed the OA"),
    -217: (False, "user blocked the invitation"),
    -218: (False, "user's receive quota is used up"),
    -227: (False, "user banned or inactive for 45 days"),
    -244: (False, "user restricted this message type"),
    -201: (False, "invalid parameter"),
    -210: (False, "parameter exceeds the allowed limit"),
    -233: (False, "message type invalid or unsupported"),
    -100: (False, "attachment expired"),
    -204: (False, "OA disabled"),
    -205: (False, "OA does not exist"),
    -209: (False, "API not supported (app not activated)"),
    -211: (False, "out of quota"),
    -212: (False, "app has not registered this API"),
    -219: (False, "app removed or disabled"),
    -221: (False, "OA not verified"),
    -223: (False, "OA has not authorised this API"),
    -224: (False, "OA package too low for this feature"),
    -237: (False, "group disabled (GMF asset expired)"),
    -240: (False, "message API v2 shut down"),
    -242: (False, "invalid appsecret_proof"),
    -248: (False, "violates platform standards"),
    -320: (False, "paid message needs a Zalo Cloud Account"),
    -321: (False, "Zalo Cloud Account out of money"),
    -403: (False, "OA is not in the group"),
}
_AUTH_CODES = frozenset({-216, -220})


def verify(raw: bytes, headers: Mapping[str, str], app_id: str, oa_secret_key: str) -> bool:
    """True only if X-ZEvent-Signature is "mac=" + sha256(app_id + raw + timestamp + key) in hex.

    Plain SHA-256 of the concatenation, not HMAC (§3.2: docs, official Java SDK, real traffic).
    `raw` must be the exact received bytes; `timestamp` is the body's "timestamp" field, or the
    X-ZEvent-Timestamp header when the body has none; the key is the OA Secret Key, not the App
    Secret. The body's `app_id` must equal `app_id`. Fails closed on a missing or malformed
    header, an unreadable body and an empty app id or key.
    """
    header = _header(headers, "X-ZEvent-Signature")
    match = _SIGNATURE.fullmatch(header.strip()) if header is not None else None
    if not app_id or not oa_secret_key or match is None:
        return False
    # The formula needs two fields of the body: read them with the edge's safe JSON reader,
    # nothing else of the body is looked at before the signature holds.
    try:
        body = body_object(raw)
    except PayloadError:
        return False
    if _text(body.get("app_id")) != app_id:
        return False
    timestamp = _text(body.get("timestamp")) or _header(headers, "X-ZEvent-Timestamp")
    if not timestamp:
        return False
    try:
        signed = app_id.encode() + raw + timestamp.encode() + oa_secret_key.encode()
    except UnicodeEncodeError:  # a header byte that is not UTF-8 (aiohttp: a surrogate)
        return False
    return hmac.compare_digest(hashlib.sha256(signed).hexdigest(), match.group(1).lower())


def is_probe(raw: bytes, headers: Mapping[str, str]) -> bool:
    """True for the unsigned `{}` POST Zalo sends when the webhook URL is saved (§3.1).

    Answer it 200 with no side effect; anything else must pass `verify` first.
    """
    if _header(headers, "X-ZEvent-Signature") is not None:
        return False
    return _PROBE.fullmatch(raw) is not None  # unsigned: compared, never parsed


def parse(raw: bytes) -> list[Incoming]:
    """Turn one webhook body into zero or one citizen message.

    The documented user_send_* events (§3.3) -> TEXT when the message carries text (typed text,
    the text sent with a link, a caption), else ATTACHMENT; message_id = message.msg_id. The
    anonymous_send_* events likewise, from a user id naming the conversation (ANONYMOUS).
    follow and user_click_chatnow (first contact, §3.3) -> FOLLOW with a synthetic id stable
    across Zalo's identical retries. user_withdraw (the user withdrew consent or asked for
    deletion, §3.3) -> WITHDRAW, with a synthetic id stable across retries. Dropped: the `{}`
    probe, every oa_send_* (echoes of our own or an officer's sends), user_received_message /
    user_seen_message (treating them as input loops forever, §3.3), unfollow, group events
    (user_send_group_*), user_submit_info and unknown events. Raises PayloadError when the body
    is not a JSON object or a field the result needs is missing or mistyped.
    """
    body = body_object(raw)
    if not body:
        return []  # the URL probe
    event = body.get("event_name")
    if not isinstance(event, str):
        raise PayloadError("'event_name' is missing or not a string")
    timestamp = _timestamp(body)
    if event == "follow":
        user_id = _scalar(_object(body.get("follower"), "follower").get("id"), "follower.id")
        message_id = f"follow:{user_id}:{timestamp}"
    elif event == "user_click_chatnow":  # sent once per user, before any message
        user_id = _scalar(body.get("user_id"), "user_id")
        message_id = f"chatnow:{user_id}:{timestamp}"
    elif event in _USER_EVENTS or event in _ANONYMOUS_EVENTS:
        return _user_message(body, event, timestamp)
    elif event == "user_withdraw":
        return [_withdraw(body, timestamp)]
    else:
        return []
    follow = EventKind.FOLLOW
    return [Incoming(Platform.ZALO, user_id, message_id, follow, timestamp_ms=timestamp, raw=body)]


def render(out: Outgoing) -> list[dict[str, Any]]:
    """CS message bodies for one reply, to be posted in order; [] when there is nothing to say.

    Text is NFC-normalised and split at TEXT_LIMIT. Quick replies become numbered lines
    "1. title" after a blank line (in the last part if it fits, else in a part of their own):
    buttons in /v3.0/oa/message/cs are unverified (§3.4, §6.7). Line n is
    `out.reply.quick_replies[n - 1]`: the core maps a typed "n" back to that payload.
    """
    if out.platform is not Platform.ZALO:
        raise ValueError(f"not a Zalo reply: {out.platform}")
    parts = _split(out.reply.text, TEXT_LIMIT)
    menu = "\n".join(
        f"{n}. {unicodedata.normalize('NFC', option.title).strip()}"
        for n, option in enumerate(out.reply.quick_replies, start=1)
    )
    if menu and parts and len(parts[-1]) + 2 + len(menu) <= TEXT_LIMIT:
        parts[-1] = f"{parts[-1]}\n\n{menu}"
    elif menu:
        parts.extend(_split(menu, TEXT_LIMIT))
    recipient = _recipient(out.user_id)
    return [{"recipient": recipient, "message": {"text": part}} for part in parts]


async def send(
    session: aiohttp.ClientSession,
    api_url: str,
    access_token: str,
    out: Outgoing,
    limit: RateLimit | None = None,
    send_timeout: float | None = None,
) -> SendResult:
    """Post every body of `render(out)` to {api_url}/v3.0/oa/message/cs, token in the header.
    Each call gives up after `send_timeout` seconds (SEND_TIMEOUT by default).

    Never raises for network or platform errors: they come back classified (§3.8). Retryable:
    timeouts, connection errors, HTTP 5xx/429, -32 (retry_after 60 s), -200, -234 (retry_after:
    until 06:00 Vietnam time). Token errors -216/-220: `auth_failed` and retryable (refresh
    the token, then retry once).
    Window closed (-230/-232, the 7-day CS window of §3.5), user unreachable and every other
    code: permanent. Stops at the first failure; a retry resends earlier parts of a split reply.
    A reply to an anonymous user (ANONYMOUS) goes to {api_url}/v2.0/oa/message instead.
    """
    path = ANONYMOUS_PATH if out.user_id.startswith(ANONYMOUS) else "/v3.0/oa/message/cs"
    url = f"{api_url.rstrip('/')}{path}"
    return await _post_all(session, url, access_token, render(out), limit, send_timeout)


async def send_group(
    session: aiohttp.ClientSession,
    api_url: str,
    access_token: str,
    group_id: str,
    text: str,
    limit: RateLimit | None = None,
    send_timeout: float | None = None,
) -> SendResult:
    """Post `text` to a GMF group the OA owns, via {api_url}/v3.0/oa/group/message (§3.9).

    Same classification and timeout as `send`; -403 (OA not in group) and -237 (group
    disabled) are permanent. Members can be mentioned with "[@user_id]" in the text. `limit`
    is the app's, shared with the CS messages: Zalo's quota is per app (§3.7).
    """
    url = f"{api_url.rstrip('/')}/v3.0/oa/group/message"
    bodies = [
        {"recipient": {"group_id": group_id}, "message": {"text": part}}
        for part in _split(text, TEXT_LIMIT)
    ]
    return await _post_all(session, url, access_token, bodies, limit, send_timeout)


async def refresh_token(
    session: aiohttp.ClientSession, oauth_url: str, app_id: str, app_secret: str, refresh_token: str
) -> TokenPair:
    """Spend `refresh_token` on POST {oauth_url}/v4/oa/access_token for a new TokenPair (§3.6).

    `app_secret` is the App Secret (sent as the `secret_key` header), not the OA Secret Key.
    The refresh token is SINGLE USE: once this returns, the old one is dead. The caller must
    persist the new refresh token durably (atomically, under one lock) BEFORE using the access
    token, or a crash leaves no valid refresh token and an OA admin must grant access again.
    Raises TokenRefreshError when no new pair came back (`retryable` for transport errors and
    HTTP 5xx, where the old token may or may not have been spent).
    """
    url = f"{oauth_url.rstrip('/')}/v4/oa/access_token"
    form = {"refresh_token": refresh_token, "app_id": app_id, "grant_type": "refresh_token"}
    try:
        async with session.post(
            url,
            data=form,  # application/x-www-form-urlencoded
            headers={"secret_key": app_secret},
            timeout=aiohttp.ClientTimeout(total=SEND_TIMEOUT),
        ) as response:
            status, data = response.status, await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise TokenRefreshError(f"transport: {type(exc).__name__}", retryable=True) from exc
    answer = answer_object(data)
    access, refresh = answer.get("access_token"), answer.get("refresh_token")
    if isinstance(access, str) and access and isinstance(refresh, str) and refresh:
        # Never drop a pair over an odd expires_in: the old refresh token is already spent.
        seconds = natural(answer.get("expires_in"))
        return TokenPair(access, refresh, seconds or DEFAULT_EXPIRES_IN)
    code = _int(answer.get("error"))
    keys = ("error_description", "error_name", "message")
    reasons = [str(answer[key]) for key in keys if answer.get(key)]
    reason = (reasons or ["no token pair in the answer"])[0][:200]
    retryable = status >= 500 or status == 429 or code == -32
    raise TokenRefreshError(f"http {status} zalo {code}: {reason}", retryable=retryable, code=code)


async def _post_all(
    session: aiohttp.ClientSession,
    url: str,
    token: str,
    bodies: list[dict[str, Any]],
    limit: RateLimit | None,
    send_timeout: float | None = None,
) -> SendResult:
    seconds = SEND_TIMEOUT if send_timeout is None else send_timeout
    return await send_parts(bodies, lambda body: _post(session, url, token, body, seconds), limit)


async def _post(
    session: aiohttp.ClientSession, url: str, token: str, body: dict[str, Any], seconds: float
) -> SendResult:
    try:
        async with session.post(
            url,
            json=body,
            headers={"access_token": token},  # a header, not a query parameter (§3.4)
            timeout=aiohttp.ClientTimeout(total=seconds),
        ) as response:
            status, data = response.status, await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        return SendResult(ok=False, retryable=True, error=f"transport: {type(exc).__name__}")
    answer = answer_object(data)
    code = _int(answer.get("error"))
    if code == 0 and 200 <= status < 300:
        return SendResult(ok=True)
    text = str(answer.get("message", ""))[:200]
    if code is None or code not in _CODES:
        # Zalo answers errors in the body, HTTP status undocumented (§3.8); only a 5xx/429 with
        # no known code is worth retrying.
        retryable = status >= 500 or status == 429
        return SendResult(False, retryable, f"http {status} zalo {code}: {text}")
    retryable, reason = _CODES[code]
    return SendResult(
        ok=False,
        retryable=retryable,
        error=f"zalo {code} {reason}: {text}",
        retry_after=_retry_after(code),
        auth_failed=code in _AUTH_CODES,
    )


def _retry_after(code: int) -> float | None:
    if code == -32:
        return RATE_LIMIT_WAIT
    if code == -234:
        return until_morning(clock())
    return None


def until_morning(now: float) -> float:
    """Seconds from `now` to the next 06:00 in Vietnam, when Zalo sends again after a -234
    ("not at night"): retrying sooner would only be refused, and use up the attempts. By day
    (our clock and Zalo's disagree by a little): a minute."""
    local = dt.datetime.fromtimestamp(now, VN_TZ)
    if MORNING <= local.time() < EVENING:
        return RATE_LIMIT_WAIT
    morning = dt.datetime.combine(local.date(), MORNING, VN_TZ)
    if local >= morning:
        morning += dt.timedelta(days=1)
    return (morning - local).total_seconds()


def _user_message(body: dict[str, Any], event: str, timestamp: int) -> list[Incoming]:
    user_id = _scalar(_object(body.get("sender"), "sender").get("id"), "sender.id")
    recipient = body.get("recipient")
    if isinstance(recipient, dict) and _text(recipient.get("id")) == user_id:
        return []  # §3.3: only user_send_* with sender.id != recipient.id is user input
    message = _object(body.get("message"), "message")
    message_id = _scalar(message.get("msg_id"), "message.msg_id")
    text = message.get("text", "")
    if not isinstance(text, str):
        raise PayloadError("message.text is not a string")
    if event in _ANONYMOUS_EVENTS:
        conversation = _scalar(message.get("conversation_id"), "message.conversation_id")
        if ":" in user_id or ":" in conversation:
            raise PayloadError("an anonymous id or conversation id holds ':'")
        user_id = f"{ANONYMOUS}{user_id}:{conversation}"
    # Zalo sends a link as the text the user typed, with a preview attached, and may send a
    # caption with media: whatever text there is gets answered, not "please send text".
    typed = event.endswith("_send_text") or text.strip()
    kind = EventKind.TEXT if typed else EventKind.ATTACHMENT
    return [Incoming(Platform.ZALO, user_id, message_id, kind, text, None, timestamp, body)]


def _withdraw(body: dict[str, Any], timestamp: int) -> Incoming:
    # The OA-scoped id in `user_id`, as in user_click_chatnow; not `user_id_by_app` (§3.3).
    user_id = _scalar(body.get("user_id"), "user_id")
    message_id = f"withdraw:{user_id}:{timestamp}"
    withdraw = EventKind.WITHDRAW
    return Incoming(Platform.ZALO, user_id, message_id, withdraw, timestamp_ms=timestamp, raw=body)


def _recipient(user_id: str) -> dict[str, str]:
    if not user_id.startswith(ANONYMOUS):
        return {"user_id": user_id}
    anonymous_id, _, conversation_id = user_id.removeprefix(ANONYMOUS).partition(":")
    return {"anonymous_id": anonymous_id, "conversation_id": conversation_id}


def _scalar(value: Any, where: str) -> str:
    """A non-empty id: Zalo sends strings (§3.3); numbers are accepted and stringified."""
    text = _text(value)
    if not text:
        raise PayloadError(f"{where} is missing or not a string")
    return text


def _text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else None


def _timestamp(body: Mapping[str, Any]) -> int:
    """Milliseconds since the epoch (a string in Zalo's JSON); 0 when absent or odd."""
    return timestamp_ms(body.get("timestamp"))
