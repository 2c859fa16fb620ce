"""Zalo OA edge: signature, probe, parsing, rendering, sending and token refresh against fakes."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

from bot.answers import Composer
from bot.bundle import Bundle
from bot.models import (
    FACETS,
    Candidate,
    EventKind,
    Incoming,
    Outgoing,
    Platform,
    QuickReply,
    Reply,
    SendResult,
)
from bot.zalo_tokens import DEFAULT_EXPIRES_IN, TokenPair, TokenRefreshError
from tests.payloads import (
    ZALO_ANONYMOUS_ID,
    ZALO_APP_ID,
    ZALO_CONVERSATION_ID,
    ZALO_OA_ID,
    ZALO_OA_SECRET_KEY,
    ZALO_TIME,
    ZALO_USER_ID,
    encode,
    zalo_anonymous,
    zalo_event,
    zalo_follow,
    zalo_image,
    zalo_link,
    zalo_oa_send_text,
    zalo_sign,
    zalo_text,
)
from webhooks import zalo
from webhooks.errors import PayloadError

BODY = encode(zalo_text())
GOOD = zalo_sign(BODY)["X-ZEvent-Signature"]
KEY = ZALO_OA_SECRET_KEY
# A real logged oa_send_file event (platforms.md §4.2e), byte for byte.
OA_SEND_FILE = (
    b'{"event_name":"oa_send_file","app_id":"102719276611582260","sender":{"admin_id":'
    b'"8309393969855402319","id":"1423847451268726170"},"recipient":{"id":"8309393969855402319"},'
    b'"message":{"attachments":[{"payload":{"size":"24165","name":"20250625_084851.log",'
    b'"checksum":"2d018db1ed7ec464a85709c9c580d343","type":"log","url":'
    b'"https://ot51.dlfl.vn/13e0e523d31972472b08/8536413009756936687"},"type":"file"}],'
    b'"msg_id":"f3af2263f0673c3f6570"},"timestamp":"1751272409784",'
    b'"user_id_by_app":"7300442764876318465"}'
)
TAMPERED = BODY.replace("kết hôn".encode(), b"khai sinh")
assert TAMPERED != BODY
NO_TIMESTAMP = encode({k: v for k, v in zalo_text().items() if k != "timestamp"})
NESTED = b"[" * 10_000 + b"]" * 10_000
NESTED_IN_BODY = BODY[:-1] + b',"x":' + NESTED + b"}"
HUGE_TS = BODY.replace(b'"timestamp":"' + ZALO_TIME.encode() + b'"', b'"timestamp":' + b"9" * 5000)
assert HUGE_TS != BODY


def _hmac_style(raw: bytes) -> dict[str, str]:
    digest = hmac.new(KEY.encode(), ZALO_APP_ID.encode() + raw + ZALO_TIME.encode(), "sha256")
    return {"X-ZEvent-Signature": f"mac={digest.hexdigest()}"}


# --- verify and probe ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "headers", "app_id", "key", "expected"),
    [
        pytest.param(BODY, {"X-ZEvent-Signature": GOOD}, ZALO_APP_ID, KEY, True, id="good"),
        pytest.param(BODY, {"x-zevent-signature": GOOD}, ZALO_APP_ID, KEY, True, id="header-case"),
        pytest.param(
            BODY, {"X-ZEvent-Signature": GOOD.upper()}, ZALO_APP_ID, KEY, True, id="upper"
        ),
        pytest.param(BODY, {"X-ZEvent-Signature": GOOD[4:]}, ZALO_APP_ID, KEY, True, id="bare-hex"),
        pytest.param(
            OA_SEND_FILE,
            zalo_sign(OA_SEND_FILE, "102719276611582260", KEY, "1751272409784"),
            "102719276611582260",
            KEY,
            True,
            id="captured-event",
        ),
        pytest.param(
            NO_TIMESTAMP,
            {**zalo_sign(NO_TIMESTAMP), "X-ZEvent-Timestamp": ZALO_TIME},
            ZALO_APP_ID,
            KEY,
            True,
            id="header-timestamp-fallback",
        ),
        pytest.param(
            TAMPERED,
            {"X-ZEvent-Signature": GOOD},
            ZALO_APP_ID,
            KEY,
            False,
            id="tampered",
        ),
        pytest.param(
            encode(zalo_text(timestamp="1751272409785")),
            {"X-ZEvent-Signature": GOOD},
            ZALO_APP_ID,
            KEY,
            False,
            id="tampered-timestamp",
        ),
        pytest.param(
            BODY, {"X-ZEvent-Signature": GOOD}, ZALO_APP_ID, "other", False, id="wrong-key"
        ),
        pytest.param(
            BODY, zalo_sign(BODY, key="app-secret"), ZALO_APP_ID, KEY, False, id="app-secret"
        ),
        pytest.param(BODY, _hmac_style(BODY), ZALO_APP_ID, KEY, False, id="hmac-is-not-it"),
        pytest.param(BODY, zalo_sign(BODY, app_id="1"), "1", KEY, False, id="body-app-id-mismatch"),
        pytest.param(BODY, {}, ZALO_APP_ID, KEY, False, id="missing"),
        pytest.param(BODY, {"X-ZEvent-Signature": ""}, ZALO_APP_ID, KEY, False, id="empty-header"),
        pytest.param(BODY, {"X-ZEvent-Signature": GOOD[:-1]}, ZALO_APP_ID, KEY, False, id="short"),
        pytest.param(
            BODY, {"X-ZEvent-Signature": GOOD[:-1] + "z"}, ZALO_APP_ID, KEY, False, id="not-hex"
        ),
        pytest.param(
            BODY, {"X-ZEvent-Signature": "sha256=" + GOOD[4:]}, ZALO_APP_ID, KEY, False, id="prefix"
        ),
        pytest.param(BODY, zalo_sign(BODY, key=""), ZALO_APP_ID, "", False, id="empty-key"),
        pytest.param(BODY, zalo_sign(BODY, app_id=""), "", KEY, False, id="empty-app-id"),
        pytest.param(b"{}", zalo_sign(b"{}"), ZALO_APP_ID, KEY, False, id="no-app-id-in-body"),
        pytest.param(NO_TIMESTAMP, zalo_sign(NO_TIMESTAMP), ZALO_APP_ID, KEY, False, id="no-ts"),
        pytest.param(b"not json", zalo_sign(b"not json"), ZALO_APP_ID, KEY, False, id="not-json"),
        pytest.param(NESTED, zalo_sign(NESTED), ZALO_APP_ID, KEY, False, id="nested"),
        pytest.param(
            NESTED_IN_BODY, zalo_sign(NESTED_IN_BODY), ZALO_APP_ID, KEY, False, id="nested-inside"
        ),
        pytest.param(HUGE_TS, zalo_sign(HUGE_TS), ZALO_APP_ID, KEY, False, id="huge-number-ts"),
    ],
)
def test_verify(raw: bytes, headers: dict[str, str], app_id: str, key: str, expected: bool) -> None:
    assert zalo.verify(raw, headers, app_id, key) is expected


def test_the_signature_is_compared_in_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """With `==` the time to refuse would tell a forger how much of a guess is right
    (style.md §3): the comparison goes through hmac.compare_digest, a wrong one too."""
    compared: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    raw = encode(zalo_text())
    digest = zalo_sign(raw)["X-ZEvent-Signature"].removeprefix("mac=")
    assert zalo.verify(raw, {"X-ZEvent-Signature": f"mac={digest}"}, ZALO_APP_ID, KEY)
    assert not zalo.verify(raw, {"X-ZEvent-Signature": "mac=" + "0" * 64}, ZALO_APP_ID, KEY)
    assert compared == [(digest, digest), (digest, "0" * 64)]


@pytest.mark.parametrize(
    ("raw", "headers", "expected"),
    [
        (b"{}", {}, True),
        (b" { } ", {}, True),
        (b"{}", zalo_sign(b"{}"), False),
        (BODY, {}, False),
        (b"", {}, False),
        (b"[]", {}, False),
        (b"{}\xff", {}, False),
        (NESTED, {}, False),
        (b'{"a":' * 10_000 + b"1" + b"}" * 10_000, {}, False),
    ],
)
def test_is_probe(raw: bytes, headers: dict[str, str], expected: bool) -> None:
    assert zalo.is_probe(raw, headers) is expected


# --- parse --------------------------------------------------------------------------------------


def test_parse_text() -> None:
    [incoming] = zalo.parse(BODY)
    assert incoming == Incoming(
        Platform.ZALO,
        ZALO_USER_ID,
        "96d3cdf3af150460909",
        EventKind.TEXT,
        "Cho hỏi lệ phí đăng ký kết hôn",
        None,
        int(ZALO_TIME),
    )
    assert incoming.raw is not None and incoming.raw["event_name"] == "user_send_text"


def test_parse_follow_and_chatnow_greet_with_stable_ids() -> None:
    [followed] = zalo.parse(encode(zalo_follow()))
    assert (followed.kind, followed.user_id) == (EventKind.FOLLOW, ZALO_USER_ID)
    assert followed.message_id == f"follow:{ZALO_USER_ID}:{ZALO_TIME}"
    assert zalo.parse(encode(zalo_follow())) == [followed]
    again = zalo.parse(encode(zalo_follow(timestamp="1751272499999")))
    assert again[0].message_id != followed.message_id
    chatnow = zalo_event("user_click_chatnow", oa_id=ZALO_OA_ID, user_id=ZALO_USER_ID)
    [clicked] = zalo.parse(encode(chatnow))
    assert (clicked.kind, clicked.user_id) == (EventKind.FOLLOW, ZALO_USER_ID)


@pytest.mark.parametrize(
    "event_name",
    [
        "user_send_image",
        "user_send_gif",
        "user_send_sticker",
        "user_send_file",
        "user_send_audio",
        "user_send_video",
        "user_send_location",
        "user_send_link",
        "user_send_business_card",
    ],
)
def test_parse_media_is_an_attachment(event_name: str) -> None:
    [incoming] = zalo.parse(encode(zalo_image(event_name=event_name)))
    assert (incoming.kind, incoming.message_id, incoming.user_id) == (
        EventKind.ATTACHMENT,
        "a1b2c3d4e5f60718293",
        ZALO_USER_ID,
    )


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(zalo_oa_send_text(), id="oa_send_text"),
        pytest.param(zalo_oa_send_text(admin_id="4267886274574868951"), id="oa_send_text-admin"),
        pytest.param(json.loads(OA_SEND_FILE), id="oa_send_file-captured"),
        pytest.param(zalo_follow(event_name="unfollow"), id="unfollow"),
        pytest.param(
            zalo_event(
                "user_received_message",
                sender={"id": ZALO_OA_ID},
                recipient={"id": ZALO_USER_ID},
                message={"msg_id": "x"},
            ),
            id="user_received_message",
        ),
        pytest.param(
            zalo_event("user_seen_message", message={"msg_ids": ["x"]}), id="user_seen_message"
        ),
        pytest.param(
            {**zalo_text(), "event_name": "user_send_group_text", "oa_id": ZALO_OA_ID},
            id="group-text",
        ),
        pytest.param(
            zalo_anonymous(event_name="oa_send_anonymous_text", anonymous_id=ZALO_OA_ID),
            id="oa_send_anonymous_text",
        ),
        pytest.param(zalo_event("user_submit_info", info={"phone": 841213333111}), id="submit"),
        pytest.param(zalo_event("something_new"), id="unknown"),
        pytest.param(zalo_text(sender=ZALO_OA_ID), id="sender-is-the-oa"),
        pytest.param({}, id="probe"),
    ],
)
def test_parse_drops(payload: dict[str, Any]) -> None:
    assert zalo.parse(encode(payload)) == []


@pytest.mark.parametrize(
    ("payload", "text"),
    [
        pytest.param(zalo_link(), zalo_link()["message"]["text"], id="link"),
        pytest.param(
            zalo_image(text="Giấy khai sinh của cháu bị rách thì làm lại thế nào"),
            "Giấy khai sinh của cháu bị rách thì làm lại thế nào",
            id="image-caption",
        ),
        pytest.param(
            zalo_image(event_name="user_send_video", attachment_type="video", text="như này ạ"),
            "như này ạ",
            id="video-caption",
        ),
    ],
)
def test_parse_the_text_an_event_carries_is_text(payload: dict[str, Any], text: str) -> None:
    [incoming] = zalo.parse(encode(payload))
    assert (incoming.kind, incoming.text, incoming.user_id) == (EventKind.TEXT, text, ZALO_USER_ID)


def test_parse_a_blank_caption_is_still_an_attachment() -> None:
    [incoming] = zalo.parse(encode(zalo_image(text=" \n")))
    assert incoming.kind is EventKind.ATTACHMENT


ANONYMOUS_USER = f"anon:{ZALO_ANONYMOUS_ID}:{ZALO_CONVERSATION_ID}"


def test_parse_anonymous_messages() -> None:
    [text] = zalo.parse(encode(zalo_anonymous("Cho hỏi lệ phí đăng ký kết hôn")))
    assert text == Incoming(
        Platform.ZALO,
        ANONYMOUS_USER,
        "76eef2edcba822f67bb9",
        EventKind.TEXT,
        "Cho hỏi lệ phí đăng ký kết hôn",
        None,
        1648018958278,
    )
    [sticker] = zalo.parse(encode(zalo_anonymous(None, event_name="anonymous_send_sticker")))
    assert (sticker.kind, sticker.user_id) == (EventKind.ATTACHMENT, ANONYMOUS_USER)


@pytest.mark.parametrize(
    "payload",
    [
        pytest.param(zalo_anonymous(conversation_id=""), id="empty-conversation"),
        pytest.param(zalo_anonymous(conversation_id="a:b"), id="colon-in-conversation"),
        pytest.param(zalo_anonymous(anonymous_id="a:b"), id="colon-in-anonymous-id"),
    ],
)
def test_parse_rejects_anonymous_messages_it_could_not_answer(payload: dict[str, Any]) -> None:
    with pytest.raises(PayloadError):
        zalo.parse(encode(payload))


def _without(payload: dict[str, Any], key: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != key}


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"\xff",
        b"",
        b"[]",
        b'"user_send_text"',
        encode({"app_id": ZALO_APP_ID}),
        encode({**zalo_text(), "event_name": 7}),
        encode(_without(zalo_text(), "sender")),
        encode({**zalo_text(), "sender": {"id": None}}),
        encode({**zalo_text(), "sender": "x"}),
        encode(_without(zalo_text(), "message")),
        encode({**zalo_text(), "message": {"text": "no id"}}),
        encode({**zalo_text(), "message": {"text": ["x"], "msg_id": "1"}}),
        encode(_without(zalo_follow(), "follower")),
        encode({**zalo_follow(), "follower": {"id": ""}}),
        encode(zalo_event("user_click_chatnow")),
    ],
)
def test_parse_rejects_bad_shapes(raw: bytes) -> None:
    with pytest.raises(PayloadError):
        zalo.parse(raw)


# --- render -------------------------------------------------------------------------------------


def zalo_out(text: str, *options: QuickReply) -> Outgoing:
    return Outgoing(Platform.ZALO, ZALO_USER_ID, Reply(text, tuple(options)))


def test_render_numbers_the_quick_replies() -> None:
    out = zalo_out(
        "Anh/chị muốn hỏi về?", QuickReply("Khai sinh", "T:ks"), QuickReply("Kết hôn", "T:kh")
    )
    assert zalo.render(out) == [
        {
            "recipient": {"user_id": ZALO_USER_ID},
            "message": {"text": "Anh/chị muốn hỏi về?\n\n1. Khai sinh\n2. Kết hôn"},
        }
    ]


def test_render_splits_long_text_within_the_limit() -> None:
    text = "\n".join(["Giấy tờ cần nộp gồm tờ khai và bản sao giấy tờ tùy thân. " * 20] * 4)
    bodies = zalo.render(zalo_out(text, QuickReply("Lệ phí", "FEE")))
    texts = [b["message"]["text"] for b in bodies]
    assert len(texts) > 1 and all(len(t) <= zalo.TEXT_LIMIT for t in texts)
    assert texts[-1].endswith("\n\n1. Lệ phí")
    assert " ".join(texts).split()[:-3] == text.split()


def test_render_puts_the_menu_apart_when_it_does_not_fit() -> None:
    options = [QuickReply(f"Lựa chọn {n}", f"P{n}") for n in range(1, 4)]
    bodies = zalo.render(zalo_out("x" * 1995, *options))
    assert [b["message"]["text"] for b in bodies] == [
        "x" * 1995,
        "1. Lựa chọn 1\n2. Lựa chọn 2\n3. Lựa chọn 3",
    ]


def test_render_to_an_anonymous_user_names_the_conversation() -> None:
    out = Outgoing(Platform.ZALO, ANONYMOUS_USER, Reply("Xin chào", (QuickReply("Menu", "M"),)))
    assert zalo.render(out) == [
        {
            "recipient": {
                "anonymous_id": ZALO_ANONYMOUS_ID,
                "conversation_id": ZALO_CONVERSATION_ID,
            },
            "message": {"text": "Xin chào\n\n1. Menu"},
        }
    ]


def test_render_normalises_and_rejects() -> None:
    [body] = zalo.render(zalo_out(unicodedata.normalize("NFD", "Đăng ký kết hôn")))
    assert body["message"]["text"] == unicodedata.normalize("NFC", "Đăng ký kết hôn")
    assert zalo.render(zalo_out(" ")) == []
    with pytest.raises(ValueError):
        zalo.render(Outgoing(Platform.FACEBOOK, "1", Reply("x")))


# --- send, send_group and refresh_token against a fake Zalo -------------------------------------


@dataclass
class FakeZalo:
    """Local openapi.zalo.me + oauth.zaloapp.com: records requests, answers from `answers`."""

    url: str = ""
    answers: list[tuple[int, Any]] = field(default_factory=list)
    received: list[tuple[str, dict[str, str], dict[str, str], bytes]] = field(default_factory=list)

    async def handle(self, request: web.Request) -> web.Response:
        raw = await request.read()
        self.received.append((request.path, dict(request.query), dict(request.headers), raw))
        status, answer = self.answers.pop(0) if self.answers else (200, SENT)
        if isinstance(answer, str):
            return web.Response(status=status, text=answer)
        return web.json_response(answer, status=status)


SENT = {
    "data": {
        "quota": {"quota_type": "reply", "remain": "7", "total": "8"},
        "message_id": "63ecf43f0df7dba892e6",
        "user_id": ZALO_USER_ID,
    },
    "error": 0,
    "message": "Success",
}


@pytest.fixture
async def fake(aiohttp_server: AiohttpServer) -> FakeZalo:
    fake = FakeZalo()
    app = web.Application()
    paths = ("/v3.0/oa/message/cs", "/v2.0/oa/message", "/v3.0/oa/group/message")
    for path in (*paths, "/v4/oa/access_token"):
        app.router.add_post(path, fake.handle)
    server = await aiohttp_server(app)
    fake.url = str(server.make_url("/")).rstrip("/")
    return fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_send_posts_the_body_with_the_token_header(
    fake: FakeZalo, session: aiohttp.ClientSession
) -> None:
    out = zalo_out("Xin chào", QuickReply("Menu", "MENU"))
    assert await zalo.send(session, fake.url, "ACCESS-TOKEN", out) == SendResult(ok=True)
    [(path, query, headers, raw)] = fake.received
    assert (path, query) == ("/v3.0/oa/message/cs", {})
    assert headers["access_token"] == "ACCESS-TOKEN"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(raw) == {
        "recipient": {"user_id": ZALO_USER_ID},
        "message": {"text": "Xin chào\n\n1. Menu"},
    }


async def test_send_to_an_anonymous_user_uses_the_anonymous_api(
    fake: FakeZalo, session: aiohttp.ClientSession
) -> None:
    out = Outgoing(Platform.ZALO, ANONYMOUS_USER, Reply("Xin chào"))
    assert await zalo.send(session, fake.url, "ACCESS-TOKEN", out) == SendResult(ok=True)
    [(path, _, headers, raw)] = fake.received
    # The documented endpoint (tin-nhan/cac-loai-tin-khac/gui-tin-nhan-van-ban-den-nguoi-dung-an-danh)
    assert (path, headers["access_token"]) == ("/v2.0/oa/message", "ACCESS-TOKEN")
    assert json.loads(raw) == {
        "recipient": {"anonymous_id": ZALO_ANONYMOUS_ID, "conversation_id": ZALO_CONVERSATION_ID},
        "message": {"text": "Xin chào"},
    }


def zalo_error(code: int, message: str = "boom") -> dict[str, Any]:
    return {"error": code, "message": message}


@pytest.mark.parametrize(
    ("status", "answer", "retryable", "auth_failed", "retry_after"),
    [
        pytest.param(200, zalo_error(-32), True, False, 60.0, id="-32-rate-limit"),
        pytest.param(200, zalo_error(-200), True, False, None, id="-200-send-failed"),
        pytest.param(200, zalo_error(-216), True, True, None, id="-216-token-invalid"),
        pytest.param(200, zalo_error(-220), True, True, None, id="-220-token-expired"),
        pytest.param(200, zalo_error(-230), False, False, None, id="-230-window"),
        pytest.param(200, zalo_error(-232), False, False, None, id="-232-window"),
        pytest.param(200, zalo_error(-213), False, False, None, id="-213-not-follower"),
        pytest.param(200, zalo_error(-227), False, False, None, id="-227-inactive"),
        pytest.param(200, zalo_error(-201), False, False, None, id="-201-invalid"),
        pytest.param(200, zalo_error(-210), False, False, None, id="-210-too-long"),
        pytest.param(200, zalo_error(-224), False, False, None, id="-224-package"),
        pytest.param(200, zalo_error(-9999), False, False, None, id="unknown"),
        pytest.param(200, {"data": {}}, False, False, None, id="no-error-field"),
        pytest.param(500, zalo_error(-32), True, False, 60.0, id="500-with-code"),
        pytest.param(502, "<html>Bad gateway</html>", True, False, None, id="502-html"),
        pytest.param(429, "", True, False, None, id="429"),
        pytest.param(404, "not found", False, False, None, id="404"),
    ],
)
async def test_send_classifies_errors(
    fake: FakeZalo,
    session: aiohttp.ClientSession,
    status: int,
    answer: Any,
    retryable: bool,
    auth_failed: bool,
    retry_after: float | None,
) -> None:
    fake.answers.append((status, answer))
    result = await zalo.send(session, fake.url, "ACCESS-TOKEN", zalo_out("Xin chào"))
    assert (result.ok, result.retryable, result.auth_failed, result.retry_after) == (
        False,
        retryable,
        auth_failed,
        retry_after,
    )
    assert result.error and "ACCESS-TOKEN" not in result.error
    if isinstance(answer, dict) and "error" in answer:
        assert f"zalo {answer['error']}" in result.error


async def test_send_window_closed_says_so(fake: FakeZalo, session: aiohttp.ClientSession) -> None:
    fake.answers.append((200, zalo_error(-230, "User has not interacted in the past 7 days")))
    result = await zalo.send(session, fake.url, "T", zalo_out("Xin chào"))
    assert result.error is not None and result.error.startswith("zalo -230 window closed")


async def test_send_stops_at_the_first_failing_part(
    fake: FakeZalo, session: aiohttp.ClientSession
) -> None:
    fake.answers += [(200, SENT), (200, zalo_error(-216))]
    result = await zalo.send(session, fake.url, "T", zalo_out("a " * 1500))
    assert result.auth_failed and result.error is not None and result.error.endswith("(part 2/2)")
    assert len(fake.received) == 2


async def test_send_connection_error_is_retryable(
    aiohttp_server: AiohttpServer, session: aiohttp.ClientSession
) -> None:
    server = await aiohttp_server(web.Application())
    url = str(server.make_url("/")).rstrip("/")
    await server.close()
    result = await zalo.send(session, url, "ACCESS-TOKEN", zalo_out("Xin chào"))
    assert (result.ok, result.retryable) == (False, True)
    assert result.error is not None and result.error.startswith("transport: ")


async def test_send_empty_reply_sends_nothing(
    fake: FakeZalo, session: aiohttp.ClientSession
) -> None:
    result = await zalo.send(session, fake.url, "T", zalo_out(""))
    assert (result.ok, result.retryable, fake.received) == (False, False, [])


async def test_send_group(fake: FakeZalo, session: aiohttp.ClientSession) -> None:
    text = "Thông báo: [@186729651760683225] vui lòng cập nhật hồ sơ"
    fake.answers += [
        (200, {"data": {"message_id": "m", "group_id": "g"}, "error": 0}),
        (200, zalo_error(-403)),
    ]
    assert await zalo.send_group(
        session, fake.url, "T", "f414c8f76fa586fbdfb4", text
    ) == SendResult(ok=True)
    [(path, _, headers, raw)] = fake.received
    assert (path, headers["access_token"]) == ("/v3.0/oa/group/message", "T")
    assert json.loads(raw) == {
        "recipient": {"group_id": "f414c8f76fa586fbdfb4"},
        "message": {"text": text},
    }
    failed = await zalo.send_group(session, fake.url, "T", "other", text)
    assert (failed.ok, failed.retryable) == (False, False)
    assert failed.error is not None and "OA is not in the group" in failed.error


async def test_refresh_token(fake: FakeZalo, session: aiohttp.ClientSession) -> None:
    fake.answers.append((200, {"access_token": "A2", "refresh_token": "R2", "expires_in": "90000"}))
    pair = await zalo.refresh_token(session, fake.url, ZALO_APP_ID, "APP-SECRET", "R1")
    assert pair == TokenPair("A2", "R2", 90000)
    assert "A2" not in repr(pair) and "R2" not in repr(pair)
    [(path, query, headers, raw)] = fake.received
    assert (path, query) == ("/v4/oa/access_token", {})
    assert headers["secret_key"] == "APP-SECRET"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert dict(parse_qsl(raw.decode())) == {
        "refresh_token": "R1",
        "app_id": ZALO_APP_ID,
        "grant_type": "refresh_token",
    }


@pytest.mark.parametrize("expires_in", [None, "soon", "", -5, 0, "²", "9" * 5000, 2**63])
async def test_refresh_keeps_a_pair_with_an_odd_lifetime(
    fake: FakeZalo, session: aiohttp.ClientSession, expires_in: object
) -> None:
    fake.answers.append(
        (200, {"access_token": "A2", "refresh_token": "R2", "expires_in": expires_in})
    )
    pair = await zalo.refresh_token(session, fake.url, ZALO_APP_ID, "S", "R1")
    assert pair == TokenPair("A2", "R2", DEFAULT_EXPIRES_IN)


@pytest.mark.parametrize(
    ("status", "answer", "retryable", "code"),
    [
        pytest.param(
            200,
            {"error": -14014, "error_name": "Invalid refresh token", "error_description": "used"},
            False,
            -14014,
            id="spent-refresh-token",
        ),
        pytest.param(200, {"access_token": "A2"}, False, None, id="no-refresh-token"),
        pytest.param(200, zalo_error(-32), True, -32, id="rate-limit"),
        pytest.param(500, "<html>oops</html>", True, None, id="500"),
        pytest.param(400, "bad", False, None, id="400-not-json"),
    ],
)
async def test_refresh_failures(
    fake: FakeZalo,
    session: aiohttp.ClientSession,
    status: int,
    answer: Any,
    retryable: bool,
    code: int | None,
) -> None:
    fake.answers.append((status, answer))
    with pytest.raises(TokenRefreshError) as caught:
        await zalo.refresh_token(session, fake.url, ZALO_APP_ID, "APP-SECRET", "R1")
    assert (caught.value.retryable, caught.value.code) == (retryable, code)
    assert "APP-SECRET" not in str(caught.value) and "R1" not in str(caught.value)


async def test_refresh_transport_error_is_retryable(
    aiohttp_server: AiohttpServer, session: aiohttp.ClientSession
) -> None:
    server = await aiohttp_server(web.Application())
    url = str(server.make_url("/")).rstrip("/")
    await server.close()
    with pytest.raises(TokenRefreshError) as caught:
        await zalo.refresh_token(session, url, ZALO_APP_ID, "S", "R1")
    assert caught.value.retryable


def test_signature_formula_matches_the_documented_one() -> None:
    expected = hashlib.sha256(
        (ZALO_APP_ID + BODY.decode() + ZALO_TIME + ZALO_OA_SECRET_KEY).encode()
    ).hexdigest()
    assert f"mac={expected}" == GOOD


def vn(hour: int, minute: int = 0) -> float:
    return dt.datetime(2026, 12, 7, hour, minute, tzinfo=zalo.VN_TZ).timestamp()


def test_not_at_night_waits_for_the_morning_in_vietnam() -> None:
    assert zalo.until_morning(vn(22, 30)) == 7.5 * 3600
    assert zalo.until_morning(vn(2, 0)) == 4 * 3600
    assert zalo.until_morning(vn(5, 59)) == 60
    assert zalo.until_morning(vn(14, 0)) == zalo.RATE_LIMIT_WAIT  # by day: the clocks disagree


async def test_a_message_refused_at_night_is_retried_in_the_morning(
    fake: FakeZalo, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(zalo, "clock", lambda: vn(23, 0))
    fake.answers.append((200, zalo_error(-234, "cannot be sent at night")))
    result = await zalo.send(session, fake.url, "T", zalo_out("Xin chào"))
    assert (result.retryable, result.retry_after) == (True, 7 * 3600)


def test_a_question_back_with_its_answers_is_one_zalo_message(bundle: Bundle) -> None:
    # Each Zalo message counts against the OA's free replies (8 in 48 hours, platforms.md
    # §3.4): a question back that answers the asked facets for three procedures, with its
    # options as numbered lines, still goes as one.
    composer = Composer(bundle.kb)
    procedures = [t for t in bundle.kb.topics.values() if set(FACETS) <= set(t.facets)]
    longest = sorted(procedures, key=lambda t: -len(t.facets["documents"].vi))[:3]
    (reply,) = composer.clarify([Candidate(t.id, 0.6) for t in longest], "vi", FACETS)
    (body,) = zalo.render(Outgoing(Platform.ZALO, ZALO_USER_ID, reply))
    assert body["message"]["text"].endswith(f"{len(reply.quick_replies)}. Gặp cán bộ")
