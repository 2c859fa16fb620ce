from bot.bundle import Bundle
from bot.models import EventKind, Incoming, Platform, State, TurnKind

T0 = 1_700_000_000_000


def say(
    bundle: Bundle,
    state: State | None,
    text: str = "",
    payload: str | None = None,
    kind: EventKind = EventKind.TEXT,
    at: int = T0,
):  # type: ignore[no-untyped-def]
    msg = Incoming(Platform.WEBCHAT, "u1", f"m{at}", kind, text, payload)
    return bundle.dialog.handle(state, msg, at)


def test_follow_up_facet_uses_the_current_topic(bundle: Bundle) -> None:
    first = say(bundle, None, "làm giấy khai sinh cho con")
    assert first.topic == "khai-sinh"
    second = say(bundle, first.state, "còn lệ phí thì sao?", at=T0 + 1000)
    assert (second.kind, second.topic) == (TurnKind.FOLLOWUP, "khai-sinh")
    assert "miễn" in second.replies[0].text


def test_context_expires_after_idle_time(bundle: Bundle) -> None:
    first = say(bundle, None, "làm giấy khai sinh cho con")
    later = say(bundle, first.state, "còn lệ phí thì sao?", at=T0 + 3_600_000)
    assert later.kind is TurnKind.FALLBACK and later.unanswered


def test_quick_reply_payload_and_numbered_choice(bundle: Bundle) -> None:
    first = say(bundle, None, "đăng ký khai tử")
    fee = say(bundle, first.state, payload="FACET:khai-tu:fee", kind=EventKind.POSTBACK, at=T0 + 1)
    assert fee.topic == "khai-tu" and "miễn" in fee.replies[0].text.lower()
    menu = say(bundle, fee.state, payload="MENU", kind=EventKind.POSTBACK, at=T0 + 2)
    assert menu.kind is TurnKind.MENU
    picked = say(bundle, menu.state, "1", at=T0 + 3)  # Zalo users type the option's number
    assert picked.topic == bundle.kb.texts.menu[0]


def test_clarify_then_pick(bundle: Bundle) -> None:
    # "liên thông" alone fits both combined procedures equally: the bot must ask which.
    turn = say(bundle, None, "liên thông")
    assert turn.kind is TurnKind.CLARIFY
    offered = [q.payload for q in turn.replies[-1].quick_replies]
    both = {"lien-thong-khai-tu", "lien-thong-khai-sinh"}
    assert {payload.removeprefix("TOPIC:") for payload in offered[:2]} == both
    assert turn.state.options == tuple(offered)
    for name in both:
        assert bundle.kb.topics[name].name.vi in turn.replies[0].text

    # Zalo users type the option's number ...
    second = offered[1].removeprefix("TOPIC:")
    typed = say(bundle, turn.state, "2", at=T0 + 1)
    assert (typed.kind, typed.topic) == (TurnKind.ANSWER, second)
    assert typed.replies[0].text.startswith(bundle.kb.topics[second].name.vi)
    # ... Messenger users tap the quick reply, which sends its payload.
    first = offered[0].removeprefix("TOPIC:")
    tapped = say(bundle, turn.state, payload=offered[0], kind=EventKind.POSTBACK, at=T0 + 1)
    assert (tapped.kind, tapped.topic) == (TurnKind.ANSWER, first)
    assert tapped.replies[0].text.startswith(bundle.kb.topics[first].name.vi)


def test_an_option_is_picked_by_its_place_written_out(bundle: Bundle) -> None:
    turn = say(bundle, None, "liên thông cần giấy tờ gì")
    assert turn.kind is TurnKind.CLARIFY
    offered = [p.removeprefix("TOPIC:") for p in turn.state.options if p.startswith("TOPIC:")]
    second = say(bundle, turn.state, "cái thứ hai ạ", at=T0 + 1)
    assert (second.kind, second.topic) == (TurnKind.ANSWER, offered[1])
    # The facet asked before the question back is answered first.
    assert "Giấy tờ cần có" in second.replies[0].text.splitlines()[0]
    first = say(bundle, turn.state, "the first one", at=T0 + 1)
    assert first.topic == offered[0]
    # "cái sau" is the last topic offered, not the staff button after it.
    latter = say(bundle, turn.state, "cái sau", at=T0 + 1)
    assert latter.topic == offered[-1]
    # A question that holds a place word is still a question (here one not understood).
    asked = say(bundle, turn.state, "cái thứ hai là gì", at=T0 + 1)
    assert (asked.kind, asked.topic) == (TurnKind.FALLBACK, None)


def test_follow_attachment_and_handoff(bundle: Bundle) -> None:
    welcome = say(bundle, None, kind=EventKind.FOLLOW)
    assert welcome.kind is TurnKind.WELCOME and "Trợ lý Tư pháp" in welcome.replies[0].text
    image = say(bundle, welcome.state, kind=EventKind.ATTACHMENT, at=T0 + 1)
    assert image.kind is TurnKind.ATTACHMENT
    staff = say(bundle, image.state, "cho tôi gặp cán bộ", at=T0 + 2)
    assert staff.handoff and staff.topic == "gap-can-bo"


def test_unknown_question_is_flagged_for_staff(bundle: Bundle) -> None:
    turn = say(bundle, None, "hôm nay xổ số miền Bắc về con gì")
    assert turn.unanswered and turn.topic is None
