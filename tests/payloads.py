"""Webhook payload builders for Messenger and Zalo OA, with realistic defaults.

Each builder returns a plain dict shaped like the platform's documented or captured payloads
(platforms.md §1.2, §3.3, §4.2); keyword arguments override the interesting fields and
`extra` merges anything else. `encode` turns a dict into the bytes a platform would POST
(UTF-8, non-ASCII kept as is); `fb_sign` / `zalo_sign` give the matching signature headers.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from typing import Any

PAGE_ID = "1717527131834678"
PSID = "1256217357730577"
FB_APP_SECRET = "60efff025951cddde78c8d03de52cc90"  # the messenger4j test secret (§1.3)
FB_TIME = 1_475_942_721_741

ZALO_APP_ID = "360846524940903967"
ZALO_OA_ID = "388613280878808645"
ZALO_USER_ID = "246845883529197922"
ZALO_OA_SECRET_KEY = "oa-secret-key-for-tests"
ZALO_TIME = "1751272409784"


def encode(payload: Any) -> bytes:
    """The body bytes as a platform would send them: compact JSON, UTF-8, ensure_ascii off."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


# --- Messenger: one messaging item per builder, wrapped by fb_batch -----------------------------


def _fb_item(sender: str, recipient: str, timestamp: int, **event: Any) -> dict[str, Any]:
    return {
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": timestamp,
        **event,
    }


def fb_text(
    text: str = "Xin chào, cho hỏi thủ tục đăng ký khai sinh",
    *,
    mid: str = "m_text_1",
    sender: str = PSID,
    timestamp: int = FB_TIME,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    message = {"mid": mid, "text": text, **(extra or {})}
    return _fb_item(sender, PAGE_ID, timestamp, message=message)


def fb_quick_reply(
    payload: str = "TOPIC:khai-sinh",
    *,
    title: str = "Khai sinh",
    mid: str = "m_quick_1",
    sender: str = PSID,
    timestamp: int = FB_TIME,
) -> dict[str, Any]:
    message = {"mid": mid, "text": title, "quick_reply": {"payload": payload}}
    return _fb_item(sender, PAGE_ID, timestamp, message=message)


def fb_postback(
    payload: str | None = "MENU",
    *,
    title: str = "Menu",
    mid: str | None = "m_postback_1",
    sender: str = PSID,
    timestamp: int = FB_TIME,
) -> dict[str, Any]:
    """A postback; `mid=None` gives the older shape without one, `payload=None` a standby copy."""
    postback: dict[str, Any] = {"title": title}
    if payload is not None:
        postback["payload"] = payload
    if mid is not None:
        postback["mid"] = mid
    return _fb_item(sender, PAGE_ID, timestamp, postback=postback)


def fb_attachment(
    kind: str = "image",
    *,
    mid: str = "m_image_1",
    sender: str = PSID,
    timestamp: int = FB_TIME,
    payload: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """An attachment; `payload` adds to its payload (a sticker's `sticker_id`)."""
    url = "https://scontent.xx.fbcdn.net/v/t1/x.jpg"
    attachment = {"type": kind, "payload": {"url": url, **(payload or {})}}
    return _fb_item(sender, PAGE_ID, timestamp, message={"mid": mid, "attachments": [attachment]})


def fb_echo(
    text: str = "Dạ, hồ sơ gồm tờ khai và giấy chứng sinh.",
    *,
    mid: str = "m_echo_1",
    app_id: int = 1559999994822905,
) -> dict[str, Any]:
    """The Page's own send coming back: sender is the Page, recipient the citizen (§1.2)."""
    message = {"is_echo": True, "app_id": app_id, "mid": mid, "text": text, "metadata": "bot"}
    return _fb_item(PAGE_ID, PSID, FB_TIME, message=message)


def fb_delivery(mids: Sequence[str] = ("m_echo_1",), *, watermark: int = FB_TIME) -> dict[str, Any]:
    return _fb_item(PSID, PAGE_ID, FB_TIME, delivery={"mids": list(mids), "watermark": watermark})


def fb_read(*, watermark: int = FB_TIME) -> dict[str, Any]:
    return _fb_item(PSID, PAGE_ID, FB_TIME, read={"watermark": watermark})


def fb_reaction(*, mid: str = "m_echo_1", reaction: str = "love") -> dict[str, Any]:
    event = {"mid": mid, "action": "react", "reaction": reaction, "emoji": "❤"}
    return _fb_item(PSID, PAGE_ID, FB_TIME, reaction=event)


def fb_pass_thread(
    *,
    previous_owner: str = "263902037430900",
    new_owner: str = "1559999994822905",
    sender: str = PSID,
    metadata: str = "",
) -> dict[str, Any]:
    """The handover protocol's `pass_thread_control` event (§2.8), as the app receiving the
    thread gets it: by default the Page Inbox giving the conversation back to the bot's app."""
    event = {
        "previous_owner_app_id": previous_owner,
        "new_owner_app_id": new_owner,
        "metadata": metadata,
    }
    return _fb_item(sender, PAGE_ID, FB_TIME, pass_thread_control=event)


def fb_batch(
    *events: Mapping[str, Any],
    per_entry: int | None = None,
    standby: Sequence[Mapping[str, Any]] = (),
    page_id: str = PAGE_ID,
) -> dict[str, Any]:
    """A `{"object": "page", "entry": [...]}` envelope.

    All events go in one entry unless `per_entry` says how many items each entry holds (Meta
    batches several entries per POST, §1.2). `standby` adds an entry with a `standby` array.
    """
    size = per_entry or max(len(events), 1)
    groups = [list(events[i : i + size]) for i in range(0, len(events), size)] or [[]]
    entries: list[dict[str, Any]] = [
        {"id": page_id, "time": FB_TIME + n, "messaging": group} for n, group in enumerate(groups)
    ]
    if standby:
        entries.append({"id": page_id, "time": FB_TIME, "standby": list(standby)})
    return {"object": "page", "entry": entries}


def fb_sign(raw: bytes, secret: str = FB_APP_SECRET) -> dict[str, str]:
    """The X-Hub-Signature-256 header Meta would send for `raw` (§1.3)."""
    digest = hmac.new(secret.encode(), raw, hashlib.sha256).hexdigest()
    return {"X-Hub-Signature-256": f"sha256={digest}"}


# --- Zalo OA: one event per builder ---------------------------------------------------------------


def zalo_event(
    event_name: str,
    *,
    timestamp: str = ZALO_TIME,
    app_id: str = ZALO_APP_ID,
    **fields: Any,
) -> dict[str, Any]:
    """Any Zalo event: `event_name`, `app_id`, `timestamp` plus the given fields."""
    return {"app_id": app_id, "event_name": event_name, **fields, "timestamp": timestamp}


def zalo_text(
    text: str = "Cho hỏi lệ phí đăng ký kết hôn",
    *,
    msg_id: str = "96d3cdf3af150460909",
    sender: str = ZALO_USER_ID,
    recipient: str = ZALO_OA_ID,
    timestamp: str = ZALO_TIME,
) -> dict[str, Any]:
    return zalo_event(
        "user_send_text",
        timestamp=timestamp,
        sender={"id": sender},
        user_id_by_app="552177279717587730",
        recipient={"id": recipient},
        message={"text": text, "msg_id": msg_id},
    )


def zalo_image(
    *,
    msg_id: str = "a1b2c3d4e5f60718293",
    sender: str = ZALO_USER_ID,
    event_name: str = "user_send_image",
    attachment_type: str = "image",
    text: str | None = None,
) -> dict[str, Any]:
    """A user media event (image by default; any user_send_<media> via `event_name`); `text`
    adds the caption the user typed with it."""
    attachment = {
        "type": attachment_type,
        "payload": {"thumbnail": "https://s1.zdn.vn/t.jpg", "url": "https://s1.zdn.vn/i.jpg"},
    }
    message: dict[str, Any] = {"msg_id": msg_id, "attachments": [attachment]}
    if text is not None:
        message["text"] = text
    return zalo_event(
        event_name,
        sender={"id": sender},
        recipient={"id": ZALO_OA_ID},
        message=message,
    )


def zalo_link(
    text: str = "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html"
    " cho hỏi thủ tục đăng ký khai sinh trên này làm thế nào",
    *,
    msg_id: str = "5b1f0e2c7d8a9b0c1d2",
    sender: str = ZALO_USER_ID,
) -> dict[str, Any]:
    """`user_send_link`: the text the user typed, plus the link preview Zalo attached (§3.3)."""
    preview = {
        "thumbnail": "https://link.photo.talk.zdn.vn/photolinkv2/720/YyZw==",
        "description": "Cổng Dịch vụ công Quốc gia",
        "url": "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh-chi-tiet.html",
    }
    return zalo_event(
        "user_send_link",
        sender={"id": sender},
        user_id_by_app="552177279717587730",
        recipient={"id": ZALO_OA_ID},
        message={
            "text": text,
            "msg_id": msg_id,
            "attachments": [{"payload": preview, "type": "link"}],
        },
    )


ZALO_ANONYMOUS_ID = "1ffedc467f179649cf06"
ZALO_CONVERSATION_ID = "fa8f3f8701c2e89cb1d3"


def zalo_anonymous(
    text: str | None = "hello",
    *,
    msg_id: str = "76eef2edcba822f67bb9",
    anonymous_id: str = ZALO_ANONYMOUS_ID,
    conversation_id: str = ZALO_CONVERSATION_ID,
    event_name: str = "anonymous_send_text",
) -> dict[str, Any]:
    """A message from a user chatting without following the OA, shaped as the documented
    example (webhook/tin-nhan/su-kien-nguoi-dung-an-danh-gui-tin-nhan.html): `sender.id` is an
    anonymous id, the conversation is in `message.conversation_id`. `text=None` gives a sticker."""
    message: dict[str, Any] = {"conversation_id": conversation_id, "msg_id": msg_id}
    if text is not None:
        message["text"] = text
    else:
        sticker = {"id": "0", "url": "https://zalo-api.zadn.vn/api/emoticon/sticker/webpc?eid=892"}
        message["attachments"] = [{"payload": sticker, "type": "sticker"}]
    return zalo_event(
        event_name,
        timestamp="1648018958278",
        sender={"id": anonymous_id},
        recipient={"id": ZALO_OA_ID},
        message=message,
        user_id_by_app="260530994348645621",
    )


def zalo_follow(
    *, follower: str = ZALO_USER_ID, timestamp: str = ZALO_TIME, event_name: str = "follow"
) -> dict[str, Any]:
    """A follow (or, with event_name="unfollow", an unfollow): the user is in `follower.id`."""
    return zalo_event(
        event_name,
        timestamp=timestamp,
        oa_id=ZALO_OA_ID,
        follower={"id": follower},
        user_id_by_app="552172779717587730",
        source="oa_profile",
    )


def zalo_oa_send_text(
    text: str = "Dạ, lệ phí đăng ký kết hôn được miễn.",
    *,
    msg_id: str = "465928106db72e8cba7",
    admin_id: str | None = None,
) -> dict[str, Any]:
    """The OA's own send echoed back; `admin_id` set means an officer typed it (§3.3)."""
    sender: dict[str, str] = {"id": ZALO_OA_ID}
    if admin_id is not None:
        sender["admin_id"] = admin_id
    return zalo_event(
        "oa_send_text",
        sender=sender,
        recipient={"id": ZALO_USER_ID},
        message={"text": text, "msg_id": msg_id},
    )


def zalo_withdraw(
    *, user_id: str = ZALO_USER_ID, timestamp: str = "1727770763679"
) -> dict[str, Any]:
    """The user withdrew consent or asked for deletion (platforms.md §3.3, `user_withdraw`)."""
    return zalo_event(
        "user_withdraw",
        timestamp=timestamp,
        oa_id=ZALO_OA_ID,
        user_id_by_app="2836211951173838919",
        user_id=user_id,
    )


def zalo_sign(
    raw: bytes,
    app_id: str = ZALO_APP_ID,
    key: str = ZALO_OA_SECRET_KEY,
    timestamp: str = ZALO_TIME,
) -> dict[str, str]:
    """The X-ZEvent-Signature header: "mac=" + sha256(app_id + raw + timestamp + key) (§3.2)."""
    digest = hashlib.sha256(app_id.encode() + raw + timestamp.encode() + key.encode()).hexdigest()
    return {"X-ZEvent-Signature": f"mac={digest}"}
