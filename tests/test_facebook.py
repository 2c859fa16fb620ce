"""Messenger edge: signature, handshake, parsing, rendering, and sending to a fake Graph API."""

from __future__ import annotations

import asyncio
import hmac
import json
import unicodedata
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pytest_aiohttp import AiohttpServer

from bot.models import EventKind, Incoming, Outgoing, Platform, QuickReply, Reply, SendResult
from tests.payloads import (
    FB_APP_SECRET,
    FB_TIME,
    PSID,
    encode,
    fb_attachment,
    fb_batch,
    fb_delivery,
    fb_echo,
    fb_pass_thread,
    fb_postback,
    fb_quick_reply,
    fb_reaction,
    fb_read,
    fb_sign,
    fb_text,
)
from webhooks import facebook
from webhooks.errors import PayloadError

# The messenger4j capture (platforms.md §1.3, §4.2a) and its locally computed SHA-256 signature.
M4J_BODY = (
    b'{"object":"page","entry":[{"id":"1717527131834678","time":1475942721780,"messaging":'
    b'[{"sender":{"id":"1256217357730577"},"recipient":{"id":"1717527131834678"},'
    b'"timestamp":1475942721741,"message":{"mid":"mid.1475942721728:3b9e3646712f9bed52",'
    b'"seq":123,"text":"34wrr3wr"}}]}]}'
)
M4J_SIG = "sha256=2c28be6e4b8c62b732b3487f445dbec6624868db6844b347567ebc86d7da3ad4"

BODY = encode(fb_batch(fb_text()))
# Meta signs its own \u-escaped serialisation (§1.3): same JSON value, different bytes.
ESCAPED = json.dumps(fb_batch(fb_text("Đăng ký khai sinh"))).encode()
GOOD = fb_sign(BODY)["X-Hub-Signature-256"]


# --- verify -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "headers", "secret", "expected"),
    [
        pytest.param(BODY, {"X-Hub-Signature-256": GOOD}, FB_APP_SECRET, True, id="good"),
        pytest.param(BODY, {"x-hub-signature-256": GOOD}, FB_APP_SECRET, True, id="header-case"),
        pytest.param(
            BODY,
            {"X-Hub-Signature-256": GOOD.upper().replace("SHA256", "sha256")},
            FB_APP_SECRET,
            True,
            id="upper-hex",
        ),
        pytest.param(M4J_BODY, {"X-Hub-Signature-256": M4J_SIG}, FB_APP_SECRET, True, id="m4j"),
        pytest.param(ESCAPED, fb_sign(ESCAPED), FB_APP_SECRET, True, id="escaped-unicode"),
        pytest.param(
            BODY + b" ", {"X-Hub-Signature-256": GOOD}, FB_APP_SECRET, False, id="tampered"
        ),
        pytest.param(BODY, {"X-Hub-Signature-256": GOOD}, "other-secret", False, id="wrong-secret"),
        pytest.param(BODY, {}, FB_APP_SECRET, False, id="missing"),
        pytest.param(BODY, {"X-Hub-Signature-256": GOOD[7:]}, FB_APP_SECRET, False, id="no-prefix"),
        pytest.param(
            BODY, {"X-Hub-Signature-256": "sha1=" + GOOD[7:]}, FB_APP_SECRET, False, id="wrong-algo"
        ),
        pytest.param(BODY, {"X-Hub-Signature-256": GOOD[:-2]}, FB_APP_SECRET, False, id="short"),
        pytest.param(
            BODY, {"X-Hub-Signature-256": GOOD[:-1] + "g"}, FB_APP_SECRET, False, id="not-hex"
        ),
        pytest.param(
            BODY, {"X-Hub-Signature-256": GOOD[:-1] + "é"}, FB_APP_SECRET, False, id="non-ascii"
        ),
        pytest.param(BODY, {"X-Hub-Signature-256": ""}, FB_APP_SECRET, False, id="empty-header"),
        pytest.param(BODY, fb_sign(BODY, ""), "", False, id="empty-secret"),
        pytest.param(
            M4J_BODY,
            {"X-Hub-Signature": "sha1=3daa41999293ff66c3eb313e04bcf77861bb0276"},
            FB_APP_SECRET,
            False,
            id="legacy-sha1-only",
        ),
    ],
)
def test_verify(raw: bytes, headers: dict[str, str], secret: str, expected: bool) -> None:
    assert facebook.verify(raw, headers, secret) is expected


def test_verify_needs_the_received_bytes_not_a_reserialisation() -> None:
    headers = fb_sign(ESCAPED)
    assert not facebook.verify(encode(json.loads(ESCAPED)), headers, FB_APP_SECRET)


def test_the_signature_and_the_verify_token_are_compared_in_constant_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """With `==` the time to refuse would tell a forger how much of a guess is right
    (style.md §3): every comparison goes through hmac.compare_digest, the wrong ones too."""
    compared: list[tuple[Any, Any]] = []
    real = hmac.compare_digest

    def spy(a: Any, b: Any) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)
    raw = encode(fb_batch(fb_text()))
    digest = fb_sign(raw)["X-Hub-Signature-256"].removeprefix("sha256=")
    assert facebook.verify(raw, {"X-Hub-Signature-256": f"sha256={digest}"}, FB_APP_SECRET)
    assert not facebook.verify(raw, {"X-Hub-Signature-256": "sha256=" + "0" * 64}, FB_APP_SECRET)
    query = {"hub.mode": "subscribe", "hub.verify_token": "guess", "hub.challenge": "1"}
    assert facebook.verify_subscription(query, "the-token") is None
    assert compared == [(digest, digest), (digest, "0" * 64), (b"guess", b"the-token")]


@pytest.mark.parametrize(
    ("query", "token", "expected"),
    [
        (
            {"hub.mode": "subscribe", "hub.verify_token": "tok", "hub.challenge": "1158201444"},
            "tok",
            "1158201444",
        ),
        ({"hub.mode": "subscribe", "hub.verify_token": "bad", "hub.challenge": "1"}, "tok", None),
        ({"hub.mode": "unsubscribe", "hub.verify_token": "tok", "hub.challenge": "1"}, "tok", None),
        ({"hub.verify_token": "tok", "hub.challenge": "1"}, "tok", None),
        ({"hub.mode": "subscribe", "hub.verify_token": "tok"}, "tok", None),
        ({"hub.mode": "subscribe", "hub_verify_token": "tok", "hub.challenge": "1"}, "tok", None),
        ({"hub.mode": "subscribe", "hub.verify_token": "", "hub.challenge": "1"}, "", None),
    ],
    ids=["good", "wrong-token", "wrong-mode", "no-mode", "no-challenge", "php-keys", "empty"],
)
def test_verify_subscription(query: dict[str, str], token: str, expected: str | None) -> None:
    assert facebook.verify_subscription(query, token) == expected


# --- parse --------------------------------------------------------------------------------------


def parse_one(*events: dict[str, Any]) -> list[tuple[EventKind, str, str, str | None]]:
    return [
        (m.kind, m.message_id, m.text, m.payload) for m in facebook.parse(encode(fb_batch(*events)))
    ]


def test_parse_text_message() -> None:
    [incoming] = facebook.parse(encode(fb_batch(fb_text("Lệ phí bao nhiêu?"))))
    assert incoming == Incoming(
        Platform.FACEBOOK, PSID, "m_text_1", EventKind.TEXT, "Lệ phí bao nhiêu?", None, FB_TIME
    )
    assert incoming.raw is not None and incoming.raw["message"]["mid"] == "m_text_1"


def test_parse_the_captured_messenger4j_payload() -> None:
    [incoming] = facebook.parse(M4J_BODY)
    assert (incoming.user_id, incoming.message_id, incoming.text, incoming.timestamp_ms) == (
        "1256217357730577",
        "mid.1475942721728:3b9e3646712f9bed52",
        "34wrr3wr",
        1475942721741,
    )


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        (
            fb_quick_reply("TOPIC:ket-hon", title="Kết hôn"),
            [(EventKind.POSTBACK, "m_quick_1", "Kết hôn", "TOPIC:ket-hon")],
        ),
        (fb_postback("MENU", title="Menu"), [(EventKind.POSTBACK, "m_postback_1", "Menu", "MENU")]),
        (
            fb_postback("GET_STARTED", title="Bắt đầu"),
            [(EventKind.FOLLOW, "m_postback_1", "Bắt đầu", "GET_STARTED")],
        ),
        (fb_attachment("image"), [(EventKind.ATTACHMENT, "m_image_1", "", None)]),
        (fb_attachment("sticker"), [(EventKind.ATTACHMENT, "m_image_1", "", None)]),
        (  # the like button: a 👍, which can answer a rating offer
            fb_attachment("image", payload={"sticker_id": 369239263222822}),
            [(EventKind.ATTACHMENT, "m_image_1", "👍", None)],
        ),
        (
            fb_attachment("sticker", payload={"sticker_id": "123"}),
            [(EventKind.ATTACHMENT, "m_image_1", "", None)],
        ),
        (
            fb_text("kèm ảnh", extra={"attachments": [{"type": "image", "payload": {}}]}),
            [(EventKind.TEXT, "m_text_1", "kèm ảnh", None)],
        ),
        (fb_echo(), []),
        (fb_delivery(), []),
        (fb_read(), []),
        (fb_reaction(), []),
        (fb_text("", extra={"is_deleted": True}), []),
        (fb_text(""), []),
        (fb_postback(None, title="Get Started"), []),
        ({"sender": {"id": PSID}, "recipient": {"id": "1"}, "timestamp": 1, "optin": {}}, []),
    ],
    ids=[
        "quick-reply",
        "postback",
        "get-started",
        "image",
        "sticker",
        "like-sticker",
        "other-sticker",
        "text-and-attachment",
        "echo",
        "delivery",
        "read",
        "reaction",
        "deleted",
        "empty",
        "postback-no-payload",
        "unknown",
    ],
)
def test_parse_event_kinds(event: dict[str, Any], expected: list[Any]) -> None:
    assert parse_one(event) == expected


def test_postback_without_mid_gets_a_stable_id() -> None:
    first = facebook.parse(encode(fb_batch(fb_postback("MENU", mid=None))))
    again = facebook.parse(encode(fb_batch(fb_postback("MENU", mid=None))))
    other = facebook.parse(encode(fb_batch(fb_postback("HELP", mid=None))))
    assert first == again
    assert first[0].message_id.startswith(f"postback:{PSID}:{FB_TIME}:")
    assert first[0].message_id != other[0].message_id


def test_parse_every_entry_and_every_item_of_a_batch() -> None:
    events = [fb_text(f"câu {n}", mid=f"m_{n}", timestamp=FB_TIME + n) for n in range(7)]
    body = fb_batch(*events[:6], fb_echo(), fb_read(), events[6], per_entry=3)
    assert len(body["entry"]) == 3
    parsed = facebook.parse(encode(body))
    assert [m.message_id for m in parsed] == [f"m_{n}" for n in range(7)]


def test_parse_marks_standby_and_drops_changes_and_other_objects() -> None:
    body = fb_batch(fb_text(), standby=[fb_text("đã chuyển", mid="m_standby")])
    body["entry"].append({"id": "1", "time": 1, "changes": [{"field": "feed", "value": {}}]})
    parsed = facebook.parse(encode(body))
    # A standby message (the Page Inbox owns the thread, §2.8) is kept for staff, marked.
    assert [(m.message_id, m.standby) for m in parsed] == [
        ("m_text_1", False),
        ("m_standby", True),
    ]
    assert (
        facebook.parse(encode({"object": "instagram", "entry": [{"messaging": [fb_text()]}]})) == []
    )


def test_thread_returns_are_the_page_inboxs_passes_back_to_this_app() -> None:
    inbox = "263902037430900"
    back = fb_pass_thread()
    numbers = fb_pass_thread(sender="42", previous_owner=inbox)
    numbers["pass_thread_control"]["previous_owner_app_id"] = int(inbox)  # ids as numbers too
    to_inbox = fb_pass_thread(sender="7", previous_owner="1559999994822905", new_owner=inbox)
    other = fb_pass_thread(sender="8", previous_owner="1217981644879628")  # not the Page Inbox
    body = fb_batch(fb_text(), back, to_inbox, other, numbers, back)
    raw = encode(body)
    assert facebook.thread_returns(raw, inbox) == [PSID, "42"]
    # Not citizen input: the messages of the body are the text alone.
    assert [m.message_id for m in facebook.parse(raw)] == ["m_text_1"]
    # A standby copy is not this app's to act on.
    assert facebook.thread_returns(encode(fb_batch(standby=[back])), inbox) == []
    assert (
        facebook.thread_returns(encode({"object": "page", "entry": [{"messaging": [1]}]}), inbox)
        == []
    )


def test_parse_keeps_one_message_per_mid() -> None:
    assert len(facebook.parse(encode(fb_batch(fb_text(), fb_text())))) == 1


def _with(event: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return {**event, **changes}


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"\xff\xfe",
        b"",
        b"[1, 2]",
        b'"page"',
        b"null",
        encode({"entry": []}),
        encode({"object": 1, "entry": []}),
        encode({"object": "page"}),
        encode({"object": "page", "entry": {}}),
        encode({"object": "page", "entry": [[]]}),
        encode({"object": "page", "entry": [{"messaging": {}}]}),
        encode({"object": "page", "entry": [{"messaging": ["x"]}]}),
        encode(fb_batch(_with(fb_text(), message="hi"))),
        encode(fb_batch(_with(fb_text(), message={"text": "no mid"}))),
        encode(fb_batch(_with(fb_text(), message={"mid": "m", "text": 5}))),
        encode(fb_batch(_with(fb_text(), sender=None))),
        encode(fb_batch(_with(fb_text(), sender={"id": {"x": 1}}))),
        encode(fb_batch(_with(fb_text(), sender={}))),
        encode(fb_batch(_with(fb_quick_reply(), message={"mid": "m", "quick_reply": {}}))),
        encode(fb_batch(_with(fb_quick_reply(), message={"mid": "m", "quick_reply": "x"}))),
        encode(fb_batch(_with(fb_postback(), postback=[]))),
        encode(fb_batch(_with(fb_postback(), postback={"payload": ["x"]}))),
    ],
)
def test_parse_rejects_bad_shapes(raw: bytes) -> None:
    with pytest.raises(PayloadError):
        facebook.parse(raw)


# --- render -------------------------------------------------------------------------------------


def fb_out(text: str, *options: QuickReply) -> Outgoing:
    return Outgoing(Platform.FACEBOOK, PSID, Reply(text, tuple(options)))


def test_render_text_with_quick_replies() -> None:
    out = fb_out(
        "Anh/chị muốn hỏi về?", QuickReply("Khai sinh", "T:ks"), QuickReply("Kết hôn", "T:kh")
    )
    assert facebook.render(out) == [
        {
            "recipient": {"id": PSID},
            "messaging_type": "RESPONSE",
            "message": {
                "text": "Anh/chị muốn hỏi về?",
                "quick_replies": [
                    {"content_type": "text", "title": "Khai sinh", "payload": "T:ks"},
                    {"content_type": "text", "title": "Kết hôn", "payload": "T:kh"},
                ],
            },
        }
    ]


def test_render_caps_quick_replies_and_titles() -> None:
    options = [QuickReply(f"Thủ tục số {n} rất dài dòng", f"P{n}") for n in range(15)]
    [body] = facebook.render(fb_out("Chọn:", *options))
    quick = body["message"]["quick_replies"]
    assert len(quick) == 13
    assert [q["payload"] for q in quick] == [f"P{n}" for n in range(13)]
    assert all(len(q["title"]) <= 20 for q in quick)
    assert quick[0]["title"] == "Thủ tục số 0 rất dà…"


def test_render_leaves_out_unusable_quick_replies(caplog: pytest.LogCaptureFixture) -> None:
    out = fb_out("Chọn:", QuickReply("", "P"), QuickReply("Ok", "x" * 1001), QuickReply("Ok", "P"))
    [body] = facebook.render(out)
    assert body["message"]["quick_replies"] == [
        {"content_type": "text", "title": "Ok", "payload": "P"}
    ]
    assert "left out" in caplog.text


def test_render_splits_long_text_and_puts_quick_replies_last() -> None:
    paragraph = "Hồ sơ gồm tờ khai, giấy chứng sinh và giấy tờ tùy thân. " * 30  # ~1,700 chars
    text = "\n".join([paragraph] * 3)
    bodies = facebook.render(fb_out(text, QuickReply("Lệ phí", "FEE")))
    assert len(bodies) == 3
    assert all(len(b["message"]["text"]) < 2000 for b in bodies)
    assert [("quick_replies" in b["message"]) for b in bodies] == [False, False, True]
    assert " ".join(b["message"]["text"] for b in bodies).split() == text.split()


def test_render_cuts_unbroken_text_and_normalises_to_nfc() -> None:
    bodies = facebook.render(fb_out(unicodedata.normalize("NFD", "Đăng ký ") + "x" * 4000))
    # "less than 2000 characters" (platforms.md §2.3): never exactly 2000.
    assert [len(b["message"]["text"]) for b in bodies] == [1999, 1999, 10]
    assert bodies[0]["message"]["text"].startswith("Đăng ký")


def test_render_blank_and_foreign_replies() -> None:
    assert facebook.render(fb_out("  \n ")) == []
    with pytest.raises(ValueError):
        facebook.render(Outgoing(Platform.ZALO, "1", Reply("x")))


# --- send against a fake Graph API ----------------------------------------------------------------


@dataclass
class FakeGraph:
    """A local Graph API: records each request and answers from `answers`, then success."""

    url: str = ""
    answers: list[tuple[int, Any, dict[str, str]]] = field(default_factory=list)
    received: list[tuple[dict[str, str], dict[str, str], Any]] = field(default_factory=list)
    hang: bool = False
    release: asyncio.Event = field(default_factory=asyncio.Event)

    async def messages(self, request: web.Request) -> web.Response:
        body = json.loads(await request.read())
        self.received.append((dict(request.query), dict(request.headers), body))
        if self.hang:
            await self.release.wait()  # set at teardown, after the client gave up
        status, answer, headers = self.answers.pop(0) if self.answers else (200, OK, {})
        if isinstance(answer, str):
            return web.Response(status=status, text=answer, headers=headers)
        return web.json_response(answer, status=status, headers=headers)


OK = {"recipient_id": PSID, "message_id": "m_sent"}


def graph_error(code: int, subcode: int | None = None, message: str = "boom") -> dict[str, Any]:
    error: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code}
    if subcode is not None:
        error["error_subcode"] = subcode
    return {"error": {**error, "fbtrace_id": "AbC"}}


@pytest.fixture
async def graph(aiohttp_server: AiohttpServer) -> AsyncIterator[FakeGraph]:
    fake = FakeGraph()
    app = web.Application()
    app.router.add_post("/v25.0/me/messages", fake.messages)
    server = await aiohttp_server(app)
    fake.url = str(server.make_url("/v25.0"))
    yield fake
    fake.release.set()


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as client:
        yield client


async def test_send_posts_the_rendered_body_with_the_token_in_the_query(
    graph: FakeGraph, session: aiohttp.ClientSession
) -> None:
    out = fb_out("Xin chào", QuickReply("Menu", "MENU"))
    assert await facebook.send(session, graph.url, "PAGE-TOKEN", out) == SendResult(ok=True)
    [(query, headers, body)] = graph.received
    assert query == {"access_token": "PAGE-TOKEN"}
    assert headers["Content-Type"] == "application/json"
    assert body == facebook.render(out)[0]


@pytest.mark.parametrize(
    ("status", "answer", "headers", "expected"),
    [
        (500, graph_error(1200), {}, SendResult(False, True, "x")),
        (500, graph_error(2), {}, SendResult(False, True, "x")),
        (400, graph_error(4), {}, SendResult(False, True, "x")),
        (400, graph_error(613), {"Retry-After": "7"}, SendResult(False, True, "x", 7.0)),
        (502, "<html>Bad gateway</html>", {}, SendResult(False, True, "x")),
        (503, graph_error(9999), {}, SendResult(False, True, "x")),
        (429, "", {"Retry-After": "3"}, SendResult(False, True, "x", 3.0)),
        (400, graph_error(10, 2018278), {}, SendResult(False, False, "x")),
        (400, graph_error(10, 2018065), {}, SendResult(False, False, "x")),
        (400, graph_error(551, 1545041), {}, SendResult(False, False, "x")),
        (400, graph_error(100, 2018001), {"Retry-After": "3"}, SendResult(False, False, "x")),
        (403, graph_error(200), {}, SendResult(False, False, "x")),
        (403, graph_error(230), {}, SendResult(False, False, "x")),
        (400, graph_error(368), {}, SendResult(False, False, "x")),
        (400, graph_error(9999), {}, SendResult(False, False, "x")),
        (404, "not found", {}, SendResult(False, False, "x")),
        (401, graph_error(190), {}, SendResult(False, False, "x", auth_failed=True)),
    ],
    ids=[
        "1200",
        "2",
        "4",
        "613",
        "502-html",
        "503-unknown",
        "429",
        "window",
        "news-window",
        "551",
        "100",
        "200",
        "230",
        "368",
        "unknown-4xx",
        "404",
        "190",
    ],
)
async def test_send_classifies_errors(
    graph: FakeGraph,
    session: aiohttp.ClientSession,
    status: int,
    answer: Any,
    headers: dict[str, str],
    expected: SendResult,
) -> None:
    graph.answers.append((status, answer, headers))
    result = await facebook.send(session, graph.url, "PAGE-TOKEN", fb_out("Xin chào"))
    assert (result.ok, result.retryable, result.auth_failed, result.retry_after) == (
        expected.ok,
        expected.retryable,
        expected.auth_failed,
        expected.retry_after,
    )
    assert result.error and "PAGE-TOKEN" not in result.error
    # The log line names the HTTP status, and Graph's error code when the body had one.
    graph = f" graph {answer['error']['code']}" if isinstance(answer, dict) else ""
    assert result.error.startswith(f"http {status}{graph}")


async def test_send_window_error_says_so(graph: FakeGraph, session: aiohttp.ClientSession) -> None:
    graph.answers.append((400, graph_error(10, 2018278, "(#10) outside of allowed window"), {}))
    result = await facebook.send(session, graph.url, "T", fb_out("Xin chào"))
    assert result.error is not None and "outside the messaging window" in result.error


async def test_send_stops_at_the_first_failing_part(
    graph: FakeGraph, session: aiohttp.ClientSession
) -> None:
    graph.answers += [(200, OK, {}), (400, graph_error(613), {})]
    result = await facebook.send(session, graph.url, "T", fb_out("a " * 1500))
    assert result.retryable and result.error is not None and "(part 2/2)" in result.error
    assert len(graph.received) == 2


async def test_send_connection_error_is_retryable(
    aiohttp_server: AiohttpServer, session: aiohttp.ClientSession
) -> None:
    server = await aiohttp_server(web.Application())
    url = str(server.make_url("/v25.0"))
    await server.close()
    result = await facebook.send(session, url, "PAGE-TOKEN", fb_out("Xin chào"))
    assert result.retryable and not result.ok
    assert result.error is not None and result.error.startswith("transport: ")
    assert "PAGE-TOKEN" not in result.error


async def test_send_timeout_is_retryable(
    graph: FakeGraph, session: aiohttp.ClientSession, monkeypatch: pytest.MonkeyPatch
) -> None:
    graph.hang = True
    monkeypatch.setattr(facebook, "SEND_TIMEOUT", 0.05)
    result = await facebook.send(session, graph.url, "T", fb_out("Xin chào"))
    assert (result.ok, result.retryable, result.error) == (False, True, "transport: TimeoutError")


async def test_send_empty_reply_sends_nothing(
    graph: FakeGraph, session: aiohttp.ClientSession
) -> None:
    result = await facebook.send(session, graph.url, "T", fb_out(""))
    assert not result.ok and not result.retryable
    assert graph.received == []


async def test_send_typing(graph: FakeGraph, session: aiohttp.ClientSession) -> None:
    graph.answers.append((500, graph_error(2), {}))
    await facebook.send_typing(session, graph.url, "T", PSID)  # a failure is not raised
    await facebook.send_typing(session, graph.url, "T", PSID)
    assert [body for _, _, body in graph.received] == [
        {"recipient": {"id": PSID}, "sender_action": "typing_on"}
    ] * 2
