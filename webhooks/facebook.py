"""Facebook Messenger: verify and parse webhooks, render and send replies.

`verify`, `verify_subscription`, `parse` and `render` are pure and synchronous; `send` and
`send_typing` are the only I/O, through the caller's single `aiohttp.ClientSession`.
Section numbers (§) refer to /work/shared/reference/platforms.md.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import unicodedata
from collections.abc import Mapping
from dataclasses import replace
from typing import Any

import aiohttp

from bot.models import EventKind, Incoming, Outgoing, Platform, QuickReply, SendResult
from bot.rate_limit import RateLimit
from webhooks.errors import PayloadError
from webhooks.wire import answer_object, body_object, send_parts, timestamp_ms
from webhooks.wire import header as _header
from webhooks.wire import integer as _int
from webhooks.wire import obj as _object
from webhooks.wire import split as _split

log = logging.getLogger(__name__)

GET_STARTED_PAYLOAD = "GET_STARTED"
"""Payload configured on the Page's Get Started button; it parses as EventKind.FOLLOW."""

TEXT_LIMIT = 1999  # §2.3: "less than 2000 characters"; Graph rejects longer text with error #100
QUICK_REPLY_LIMIT = 13  # §2.3
QUICK_REPLY_TITLE_LIMIT = 20  # §2.3
QUICK_REPLY_PAYLOAD_LIMIT = 1000  # §2.3
SEND_TIMEOUT = 10.0  # seconds per Send API call; a timeout is retryable, the outbox retries
TYPING_TIMEOUT = 5.0
# The like button's thumbs-up arrives as a sticker (platforms.md §1.2, after nyaruka/courier,
# which maps these three sizes to 👍): an attachment still, with that text, so that it can
# answer a rating offer and is otherwise answered as any sticker.
LIKE_STICKERS = frozenset({"369239263222822", "369239343222814", "369239383222810"})
LIKE_TEXT = "\N{THUMBS UP SIGN}"

_SIGNATURE = re.compile(r"sha256=([0-9a-fA-F]{64})")

# Graph error codes, §2.7. Anything else is classified by HTTP status (5xx/429 retryable).
_RETRYABLE_CODES = {
    1200: "temporary send failure",
    2: "unexpected error",
    4: "application request limit",
    613: "rate limit",
}
_AUTH_CODES = {190: "invalid page access token"}
_PERMANENT_CODES = {
    10: "permission error",
    551: "user unavailable",
    100: "invalid parameter",
    200: "permissions error",
    230: "permissions disallow message to user",
    368: "blocked as abusive",
    10900: "activity already replied to",
    10903: "user cannot reply to this activity",
}
_WINDOW_SUBCODES = {2018278, 2018065}  # code 10: outside the 24-hour window


def verify(raw: bytes, headers: Mapping[str, str], app_secret: str) -> bool:
    """True only if X-Hub-Signature-256 is "sha256=" + HMAC-SHA256(app_secret, raw) in hex.

    `raw` must be the exact received bytes: Meta signs its own \\u-escaped body, and hashing a
    re-serialised body breaks on Vietnamese text (§1.3). Fails closed on a missing or malformed
    header and on an empty secret. The legacy sha1 header is not accepted.
    """
    if not app_secret:
        return False
    header = _header(headers, "X-Hub-Signature-256")
    match = _SIGNATURE.fullmatch(header.strip()) if header is not None else None
    if match is None:
        return False
    expected = hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, match.group(1).lower())


def verify_subscription(query: Mapping[str, str], verify_token: str) -> str | None:
    """The GET handshake (§1.1): the `hub.challenge` to echo as text/plain, or None (answer 403).

    Read the keys with their dots (`hub.mode`); an empty configured token never matches.
    """
    token, challenge = query.get("hub.verify_token"), query.get("hub.challenge")
    if not verify_token or query.get("hub.mode") != "subscribe" or token is None:
        return None
    given, expected = (t.encode("utf-8", "surrogatepass") for t in (token, verify_token))
    return challenge if challenge is not None and hmac.compare_digest(given, expected) else None


def parse(raw: bytes) -> list[Incoming]:
    """Turn one webhook body into the citizen's messages, in order, at most one per message id.

    Iterates every `entry[]` and every `messaging[]` and `standby[]` item: Meta batches up to
    1,000 events and the "one messaging object" wording is not a promise (§1.2). A `standby[]`
    message (another app owns the thread, §2.8) comes out with `standby` set: recorded, never
    answered. Dropped: echoes (the Page's own sends, §1.2 "Echo"), deletions, deliveries, reads,
    reactions, referrals, handover events, `changes[]`, other `object` values (e.g.
    "instagram") and any unknown item. Raises PayloadError when the body is not a JSON object
    or a field the result needs (sender id, mid, payload...) is missing or mistyped.
    """
    body = body_object(raw)
    kind = body.get("object")
    if not isinstance(kind, str):
        raise PayloadError("'object' is missing or not a string")
    if kind != "page":
        return []
    entries = body.get("entry")
    if not isinstance(entries, list):
        raise PayloadError("'entry' is missing or not a list")
    found: list[Incoming] = []
    seen: set[str] = set()  # the same mid twice in one POST happens (§5.4, courier)
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise PayloadError(f"entry[{i}] is not an object")
        for channel in ("messaging", "standby"):
            items = entry.get(channel, [])
            if not isinstance(items, list):
                raise PayloadError(f"entry[{i}].{channel} is not a list")
            for j, item in enumerate(items):
                incoming = _item(item, f"entry[{i}].{channel}[{j}]")
                if incoming is None or incoming.message_id in seen:
                    continue
                seen.add(incoming.message_id)
                # Standby: another app (the Page Inbox) owns the thread (§2.8); kept for staff,
                # never answered.
                found.append(replace(incoming, standby=True) if channel == "standby" else incoming)
    return found


def thread_returns(raw: bytes, page_inbox_app_id: str) -> list[str]:
    """The PSIDs whose thread the Page Inbox passed back to this app (§2.8): staff marked the
    conversation done in Meta's inbox, or moved it back to the bot's folder. Read from
    `messaging[]` only: Meta sends `pass_thread_control` to the app that receives the thread,
    and this one ends a handoff only when it came from the Page Inbox (`previous_owner_app_id`),
    never when the thread went to another app. Each PSID once, in order. Call after `parse`
    (which checks the envelope); an item without what this needs is skipped, not an error.
    """
    body = body_object(raw)
    entries = body.get("entry") if body.get("object") == "page" else None
    found: list[str] = []
    for entry in entries if isinstance(entries, list) else []:
        items = entry.get("messaging") if isinstance(entry, dict) else None
        for item in items if isinstance(items, list) else []:
            event = item.get("pass_thread_control") if isinstance(item, dict) else None
            if not isinstance(event, dict):
                continue
            previous, new = event.get("previous_owner_app_id"), event.get("new_owner_app_id")
            sender = item.get("sender")
            psid = sender.get("id") if isinstance(sender, dict) else None
            if (
                str(previous) == page_inbox_app_id
                and str(new) != page_inbox_app_id
                and isinstance(psid, (str, int))
                and not isinstance(psid, bool)
                and str(psid)
                and str(psid) not in found
            ):
                found.append(str(psid))
    return found


def _item(item: Any, where: str) -> Incoming | None:
    if not isinstance(item, dict):
        raise PayloadError(f"{where} is not an object")
    # Dispatch on which key exists (§1.2); delivery, read, reaction, referral, optin,
    # handover... are not citizen input.
    if "message" in item:
        return _message(item, where)
    if "postback" in item:
        return _postback(item, where)
    return None


def render(out: Outgoing) -> list[dict[str, Any]]:
    """Send API bodies for one reply, to be posted in order; [] when the text is blank.

    Text is NFC-normalised and split at TEXT_LIMIT characters (the core already splits; this is
    a guard). A staff reply marked `human_agent` goes as MESSAGE_TAG + HUMAN_AGENT (§2.5), any
    other as RESPONSE. Quick replies ride on the last body only, capped at 13, titles cut to 20
    characters; one with an empty title or payload, or a payload over 1,000, is left out.
    """
    if out.platform is not Platform.FACEBOOK:
        raise ValueError(f"not a Messenger reply: {out.platform}")
    parts = _split(out.reply.text, TEXT_LIMIT)
    quick = _quick_replies(out.reply.quick_replies)
    bodies: list[dict[str, Any]] = []
    for n, part in enumerate(parts, start=1):
        message: dict[str, Any] = {"text": part}
        if quick and n == len(parts):
            message["quick_replies"] = quick
        body: dict[str, Any] = {"recipient": {"id": out.user_id}, "message": message}
        if out.reply.human_agent:
            # A person's reply after the 24-hour window, within 7 days (§2.5).
            body |= {"messaging_type": "MESSAGE_TAG", "tag": "HUMAN_AGENT"}
        else:
            body["messaging_type"] = "RESPONSE"
        bodies.append(body)
    return bodies


async def send(
    session: aiohttp.ClientSession,
    graph_url: str,
    page_token: str,
    out: Outgoing,
    limit: RateLimit | None = None,
    send_timeout: float | None = None,
) -> SendResult:
    """Post every body of `render(out)` to {graph_url}/me/messages; stop at the first failure.
    Each call gives up after `send_timeout` seconds (SEND_TIMEOUT by default).

    Never raises for network or platform errors: they come back classified (§2.7). Retryable:
    timeouts, connection errors, 5xx, 429 and codes 1200, 2, 4, 613. Permanent: 10 (with
    2018278/2018065: outside the 24-hour window), 551, 100, 200, 230, 368, 10900, 10903 and
    any other code on a 4xx. Code 190 is permanent with `auth_failed` (rotate the Page token).
    When a later part of a split reply fails, `error` says so: a retry resends earlier parts.
    """
    url = f"{graph_url.rstrip('/')}/me/messages"
    seconds = SEND_TIMEOUT if send_timeout is None else send_timeout
    return await send_parts(
        render(out), lambda body: _post(session, url, page_token, body, seconds), limit
    )


async def send_typing(
    session: aiohttp.ClientSession,
    graph_url: str,
    page_token: str,
    user_id: str,
    limit: RateLimit | None = None,
) -> None:
    """Best effort `typing_on` (§2.4: a request of its own, counted in the rate limit);
    failures are logged, not raised."""
    body = {"recipient": {"id": user_id}, "sender_action": "typing_on"}
    if limit is not None:
        await limit.wait()
    url = f"{graph_url.rstrip('/')}/me/messages"
    result = await _post(session, url, page_token, body, TYPING_TIMEOUT)
    if not result.ok:
        log.info("typing_on failed: %s", result.error)


async def pass_thread_control(
    session: aiohttp.ClientSession,
    graph_url: str,
    page_token: str,
    user_id: str,
    target_app_id: str,
    metadata: str = "",
) -> SendResult:
    """Hand the thread to another app, e.g. the Page Inbox (§2.8): `POST /me/pass_thread_control`
    (the Page's own token names the Page). Classified like a send; never raises."""
    body: dict[str, Any] = {"recipient": {"id": user_id}, "target_app_id": target_app_id}
    if metadata:
        body["metadata"] = metadata[:1000]
    url = f"{graph_url.rstrip('/')}/me/pass_thread_control"
    return await _post(session, url, page_token, body, SEND_TIMEOUT)


async def take_thread_control(
    session: aiohttp.ClientSession,
    graph_url: str,
    page_token: str,
    user_id: str,
    metadata: str = "",
) -> SendResult:
    """Take the thread back from whichever app holds it (§2.8): `POST /me/take_thread_control`."""
    body: dict[str, Any] = {"recipient": {"id": user_id}}
    if metadata:
        body["metadata"] = metadata[:1000]
    url = f"{graph_url.rstrip('/')}/me/take_thread_control"
    return await _post(session, url, page_token, body, SEND_TIMEOUT)


def _message(item: dict[str, Any], where: str) -> Incoming | None:
    message = _object(item["message"], f"{where}.message")
    if message.get("is_echo") or message.get("is_deleted"):
        return None  # our own (or a human admin's) send, §1.2; or an unsend
    user_id = _sender(item, where)
    mid = _scalar(message.get("mid"), f"{where}.message.mid")
    text = message.get("text", "")
    if not isinstance(text, str):
        raise PayloadError(f"{where}.message.text is not a string")
    payload: str | None = None
    quick_reply = message.get("quick_reply")
    if quick_reply is not None:  # check before text: text is only the tapped title (§1.2)
        where_qr = f"{where}.message.quick_reply"
        payload = _scalar(_object(quick_reply, where_qr).get("payload"), f"{where_qr}.payload")
        kind = EventKind.POSTBACK
    elif text:
        kind = EventKind.TEXT
    elif message.get("attachments"):
        kind = EventKind.ATTACHMENT
        if _is_like(message):
            text = LIKE_TEXT  # right after a rating offer, a 👍 (bot/rating.py)
    else:
        return None
    timestamp = _timestamp(item)
    return Incoming(Platform.FACEBOOK, user_id, mid, kind, text, payload, timestamp, raw=item)


def _is_like(message: dict[str, Any]) -> bool:
    """The thumbs-up of Messenger's like button: a sticker of one of LIKE_STICKERS (§1.2)."""
    attachments = message.get("attachments")
    if not isinstance(attachments, list):
        return False
    for attachment in attachments:
        payload = attachment.get("payload") if isinstance(attachment, dict) else None
        sticker = payload.get("sticker_id") if isinstance(payload, dict) else None
        if sticker is not None and str(sticker) in LIKE_STICKERS:
            return True
    return False


def _postback(item: dict[str, Any], where: str) -> Incoming | None:
    postback = _object(item["postback"], f"{where}.postback")
    user_id = _sender(item, where)
    if postback.get("payload") is None:
        return None  # only apps other than the CTA's sender get no payload (§1.2): not for us
    payload = _scalar(postback["payload"], f"{where}.postback.payload")
    title = postback.get("title")
    timestamp = _timestamp(item)
    mid = postback.get("mid")
    if not isinstance(mid, str) or not mid:
        # Older webhook versions send no postback.mid. Meta retries with the identical body, so
        # sender + timestamp + payload is stable across retries and unique enough (§1.4 dedup).
        digest = hashlib.sha256(payload.encode()).hexdigest()[:16]
        mid = f"postback:{user_id}:{timestamp}:{digest}"
    kind = EventKind.FOLLOW if payload == GET_STARTED_PAYLOAD else EventKind.POSTBACK
    text = title if isinstance(title, str) else ""
    return Incoming(Platform.FACEBOOK, user_id, mid, kind, text, payload, timestamp, raw=item)


def _sender(item: dict[str, Any], where: str) -> str:
    return _scalar(_object(item.get("sender"), f"{where}.sender").get("id"), f"{where}.sender.id")


def _scalar(value: Any, where: str) -> str:
    """A non-empty id or payload; Graph sends strings, numbers are accepted and stringified."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise PayloadError(f"{where} is missing or not a string")


def _timestamp(item: Mapping[str, Any]) -> int:
    """Milliseconds since the epoch; 0 when absent or odd (informative only, never rejected)."""
    return timestamp_ms(item.get("timestamp"))


def _quick_replies(options: tuple[QuickReply, ...]) -> list[dict[str, str]]:
    rendered: list[dict[str, str]] = []
    for option in options:
        title = unicodedata.normalize("NFC", option.title).strip()
        if not title or not option.payload or len(option.payload) > QUICK_REPLY_PAYLOAD_LIMIT:
            log.warning("quick reply left out (empty title or bad payload): %r", title)
            continue
        if len(title) > QUICK_REPLY_TITLE_LIMIT:
            title = title[: QUICK_REPLY_TITLE_LIMIT - 1].rstrip() + "…"
        rendered.append({"content_type": "text", "title": title, "payload": option.payload})
    return rendered[:QUICK_REPLY_LIMIT]


async def _post(
    session: aiohttp.ClientSession, url: str, token: str, body: dict[str, Any], seconds: float
) -> SendResult:
    try:
        async with session.post(
            url,
            params={"access_token": token},
            json=body,
            timeout=aiohttp.ClientTimeout(total=seconds),
        ) as response:
            status, retry_after = response.status, _retry_after(response.headers)
            data = await response.read()
    except (aiohttp.ClientError, TimeoutError) as exc:
        # Only the class name: some aiohttp errors quote the URL, which holds the token.
        return SendResult(ok=False, retryable=True, error=f"transport: {type(exc).__name__}")
    return _classify(status, data, retry_after)


def _classify(status: int, data: bytes, retry_after: float | None) -> SendResult:
    error = answer_object(data).get("error")
    if not isinstance(error, dict):
        if 200 <= status < 300:
            return SendResult(ok=True)
        error = {}
    code, subcode = _int(error.get("code")), _int(error.get("error_subcode"))
    text = str(error.get("message", ""))[:200]
    label = f"http {status} graph {code}" + (f"/{subcode}" if subcode else "")
    if code in _AUTH_CODES:
        return SendResult(False, error=f"{label} {_AUTH_CODES[code]}: {text}", auth_failed=True)
    if code in _RETRYABLE_CODES:
        return SendResult(False, True, f"{label} {_RETRYABLE_CODES[code]}: {text}", retry_after)
    if code == 10 and subcode in _WINDOW_SUBCODES:
        return SendResult(False, error=f"{label} outside the messaging window: {text}")
    if code in _PERMANENT_CODES:
        return SendResult(False, error=f"{label} {_PERMANENT_CODES[code]}: {text}")
    retryable = status >= 500 or status == 429
    return SendResult(False, retryable, f"{label}: {text}", retry_after if retryable else None)


def _retry_after(headers: Mapping[str, str]) -> float | None:
    try:
        seconds = float(headers.get("Retry-After", ""))
    except ValueError:
        return None
    return max(0.0, seconds) if math.isfinite(seconds) else None
