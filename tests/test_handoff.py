"""Human handoff (issue 11): the dialog's triggers, the turn queue's silence while staff have the
conversation, its end (staff close, the citizen's "back to the bot", the timeout), staff's
replies through the outbox and the platforms' reply windows. Store on a fake clock, no server.
"""

from __future__ import annotations

import json
from itertools import count

import pytest

from bot.bundle import Bundle, BundleSlot
from bot.dialog import HANDOFF_TOPIC, Turn
from bot.models import EventKind, Incoming, Platform, State, TurnKind
from bot.models.handoffs import RESUME, HandoffReason, Speaker
from bot.models.privacy import DAY, HOUR, Retention
from bot.staff.handoff import HandoffDesk, Result, Window, reply_window
from bot.store import Store
from bot.turns.flood import FloodGate
from bot.turns.queue import TurnQueue, miss_of
from tests.conftest import FakeClock

WEB = Platform.WEBCHAT
USER = "citizen-session-1"
TIMEOUT = 72 * HOUR
NONSENSE = "xyzzy plugh quux"  # nothing the bot knows
NONSENSE_2 = "frobnicate wibble wobble"
QUESTION = "lệ phí đăng ký kết hôn"
_ids = count(1)


def incoming(text: str = "", payload: str | None = None, user: str = USER) -> Incoming:
    kind = EventKind.TEXT if payload is None else EventKind.POSTBACK
    return Incoming(WEB, user, f"m{next(_ids)}", kind, text, payload)


def say(bundle: Bundle, state: State | None, text: str, at: int = 1_000) -> Turn:
    return bundle.dialog.handle(state, incoming(text), at)


# -- the dialog: what hands over -----------------------------------------------------------------


def test_asking_for_staff_says_who_answers_when_and_that_the_bot_stops(bundle: Bundle) -> None:
    turn = say(bundle, None, "cho tôi gặp cán bộ")
    assert (turn.kind, turn.topic, turn.handoff) == (TurnKind.HANDOFF, HANDOFF_TOPIC, True)
    text = "\n\n".join(r.text for r in turn.replies)
    # When staff work comes from the knowledge base, never an invented hour.
    assert "trong giờ hành chính" in text
    assert bundle.kb.topics[HANDOFF_TOPIC].summary.get("vi") in text
    assert "trợ lý tự động tạm dừng trả lời" in text
    assert [q.payload for q in turn.replies[-1].quick_replies] == [RESUME]


def test_two_misses_in_a_row_hand_over_and_one_alone_does_not(bundle: Bundle) -> None:
    first = say(bundle, None, NONSENSE)
    assert (first.kind, first.handoff, first.state.misses) == (TurnKind.FALLBACK, False, 1)
    second = say(bundle, first.state, NONSENSE_2, at=2_000)
    assert (second.kind, second.handoff, second.unanswered) == (TurnKind.HANDOFF, True, True)
    assert second.replies[0].text.startswith("Xin lỗi Anh/chị, tôi vẫn chưa hiểu")
    assert second.state.misses == 0
    # For the review inbox it stays a question not understood, with its words.
    miss = miss_of(second, NONSENSE_2)
    assert miss is not None and miss.kind.value == "fallback" and miss.normalised

    # A miss, an answer, a miss: not in a row.
    answered = say(bundle, first.state, QUESTION, at=2_000)
    assert answered.kind is TurnKind.ANSWER and answered.state.misses == 0
    again = say(bundle, answered.state, NONSENSE_2, at=3_000)
    assert (again.kind, again.handoff) == (TurnKind.FALLBACK, False)


def test_back_to_the_bot_offers_the_menu(bundle: Bundle) -> None:
    turn = bundle.dialog.handle(None, incoming(payload=RESUME), 1_000)
    assert turn.kind is TurnKind.MENU and "hoạt động trở lại" in turn.replies[0].text


# -- the turn queue: silent while staff have the conversation ------------------------------------


def queue_of(store: Store, bundle: Bundle, clock: FakeClock) -> TurnQueue:
    return TurnQueue(
        store, BundleSlot(bundle), FloodGate(100, 60), lambda: None, clock, handoff_timeout=TIMEOUT
    )


async def turn(queue: TurnQueue, msg: Incoming) -> int | None:
    future = await queue.accept(msg)
    assert future is not None
    return await future


async def test_silent_while_handed_over_and_every_message_is_kept(
    store: Store, bundle: Bundle, clock: FakeClock
) -> None:
    queue = queue_of(store, bundle, clock)
    assert await turn(queue, incoming("gặp cán bộ")) == 1
    handoff = await store.current_handoff(WEB, USER)
    assert handoff is not None and handoff.reason is HandoffReason.ASKED
    sent = len(await store.outbox_rows())

    clock.advance(60)
    for text in (QUESTION, "H56-250701-0001", "bot", "thôi", "gặp cán bộ"):
        assert await turn(queue, incoming(text)) == 0  # a dossier code, "bot", "thôi": silent
    assert await turn(queue, incoming(payload="MENU")) == 0  # buttons too
    assert len(await store.outbox_rows()) == sent
    assert await store.pending_inbound() == []
    lines, _ = await store.conversation(WEB, USER)
    citizen = [line.text for line in lines if line.speaker is Speaker.CITIZEN]
    assert citizen == [
        "gặp cán bộ",
        QUESTION,
        "H56-250701-0001",
        "bot",
        "thôi",
        "gặp cán bộ",
        "[MENU]",  # a button tap without words shows its payload
    ]
    # Still one handoff, still open.
    assert [h.id for h in (await store.current_handoff(WEB, USER),) if h] == [handoff.id]
    # For the overview: 7 handled, 1 handed over, 6 to staff, none answered by the bot.
    outcomes = await store.outcomes(0)
    assert (outcomes.handled, outcomes.handed_over, outcomes.to_staff) == (7, 1, 6)
    assert outcomes.answered == 0


async def test_the_timeout_gives_the_conversation_back_to_the_bot(
    store: Store, bundle: Bundle, clock: FakeClock
) -> None:
    queue = queue_of(store, bundle, clock)
    await turn(queue, incoming("gặp cán bộ"))
    clock.advance(TIMEOUT - 1)
    assert await turn(queue, incoming(QUESTION)) == 0
    clock.advance(2)
    assert await turn(queue, incoming(QUESTION)) == 1  # answered again
    assert await store.current_handoff(WEB, USER) is None
    closed = await store.handoff(1)
    assert closed is not None and (closed.status, closed.closed_by) == ("closed", "timeout")


async def test_a_staff_reply_restarts_the_timeout(
    store: Store, bundle: Bundle, clock: FakeClock
) -> None:
    queue = queue_of(store, bundle, clock)
    desk = HandoffDesk(store, lambda: bundle.dialog.composer, TIMEOUT)
    await turn(queue, incoming("gặp cán bộ"))
    clock.advance(TIMEOUT - 10)
    assert await turn(queue, incoming("có ai không ạ?")) == 0  # still waiting, still silent
    done = await desk.reply(1, "lan", "Chào Anh/chị, tôi là cán bộ Sở Tư pháp.", "", clock())
    assert done.result is Result.DONE and done.window is Window.OPEN
    clock.advance(20)  # past the opening's timeout, not past the reply's
    assert await turn(queue, incoming(QUESTION)) == 0


async def test_staff_close_and_the_bot_answers_again_after_saying_so(
    store: Store, bundle: Bundle, clock: FakeClock
) -> None:
    queue = queue_of(store, bundle, clock)
    desk = HandoffDesk(store, lambda: bundle.dialog.composer, TIMEOUT)
    await turn(queue, incoming("gặp cán bộ"))
    assert (await desk.take(1, "lan", "10.0.0.1", clock())).result is Result.DONE
    handoff = await store.handoff(1)
    assert handoff is not None and handoff.assignee == "lan"

    reply = await desk.reply(
        1, "lan", "Anh/chị cần đăng ký kết hôn ở UBND xã.", "10.0.0.1", clock()
    )
    assert reply.result is Result.DONE
    staff = (await store.outbox_rows())[-1]
    assert staff.source == "staff" and staff.outgoing.reply.by_staff
    assert not staff.outgoing.reply.human_agent

    assert (await desk.close(1, "lan", "10.0.0.1", clock())).result is Result.DONE
    goodbye = (await store.outbox_rows())[-1]
    assert "Cán bộ đã kết thúc phần hỗ trợ trực tiếp" in goodbye.outgoing.reply.text
    assert await turn(queue, incoming(QUESTION)) == 1  # the bot is back

    # Every action is audited: who, what, on which handoff; never the citizen's id.
    entries, _ = await store.audit_entries(0, 10)
    assert [(e.actor, e.action) for e in reversed(entries)] == [
        ("lan", "handoff.take"),
        ("lan", "handoff.reply"),
        ("lan", "handoff.close"),
    ]
    assert all(e.target == "handoff:1 (webchat)" and e.address == "10.0.0.1" for e in entries)
    assert json.loads(entries[1].after or "{}")["text"].startswith("Anh/chị cần đăng ký")
    # A closed handoff takes nothing more.
    assert (await desk.reply(1, "lan", "còn gì nữa?", "", clock())).result is Result.NOT_OPEN
    assert (await desk.close(1, "lan", "", clock())).result is Result.NOT_OPEN


async def test_back_to_the_bot_ends_the_handoff(
    store: Store, bundle: Bundle, clock: FakeClock
) -> None:
    queue = queue_of(store, bundle, clock)
    await turn(queue, incoming("gặp cán bộ"))
    assert await turn(queue, incoming("Quay lại trợ lý", payload=RESUME)) == 1
    closed = await store.handoff(1)
    assert closed is not None and closed.closed_by == "citizen"
    assert await turn(queue, incoming(QUESTION)) == 1


async def test_on_zalo_the_number_of_back_to_the_bot_ends_the_handoff(
    store: Store, bundle: Bundle, clock: FakeClock
) -> None:
    queue = queue_of(store, bundle, clock)
    await turn(queue, incoming("gặp cán bộ"))
    assert await turn(queue, incoming("2")) == 0  # no such option: a message for staff
    assert await turn(queue, incoming("1")) == 1  # "1. Quay lại trợ lý"
    assert await store.current_handoff(WEB, USER) is None


async def test_two_misses_open_a_handoff_for_misses(
    store: Store, bundle: Bundle, clock: FakeClock
) -> None:
    queue = queue_of(store, bundle, clock)
    await turn(queue, incoming(NONSENSE))
    assert await store.current_handoff(WEB, USER) is None
    await turn(queue, incoming(NONSENSE_2))
    handoff = await store.current_handoff(WEB, USER)
    assert handoff is not None and handoff.reason is HandoffReason.MISSES
    assert await turn(queue, incoming(QUESTION)) == 0


async def test_staff_cannot_write_an_empty_or_endless_reply(
    store: Store, bundle: Bundle, clock: FakeClock
) -> None:
    queue = queue_of(store, bundle, clock)
    desk = HandoffDesk(store, lambda: bundle.dialog.composer, TIMEOUT)
    await turn(queue, incoming("gặp cán bộ"))
    assert (await desk.reply(1, "lan", "  ", "", clock())).result is Result.EMPTY
    assert (await desk.reply(1, "lan", "a" * 4001, "", clock())).result is Result.TOO_LONG
    assert (await desk.reply(99, "lan", "xin chào", "", clock())).result is Result.NOT_OPEN


async def test_the_purge_keeps_a_handed_over_conversation_for_staff(
    store: Store, bundle: Bundle, clock: FakeClock
) -> None:
    queue = queue_of(store, bundle, clock)
    await turn(queue, incoming("gặp cán bộ"))
    await turn(queue, incoming(QUESTION))
    other = "someone-else"
    await turn(queue, incoming(QUESTION, user=other))
    clock.advance(30 * HOUR)  # past the texts' 24 h, within the handoff's 72 h
    retention = Retention(24 * HOUR, 48 * HOUR, HOUR, 8 * DAY, HOUR, 90 * DAY, 90 * DAY, DAY)
    await store.purge_expired(retention)
    kept, _ = await store.conversation(WEB, USER)
    assert QUESTION in [line.text for line in kept]
    gone, _ = await store.conversation(WEB, other)
    assert QUESTION not in [line.text for line in gone]


# -- the platforms' windows for a person's reply (platforms.md §2.5, §3.5) -----------------------


@pytest.mark.parametrize(
    ("platform", "hours", "window"),
    [
        (Platform.FACEBOOK, 23, Window.OPEN),
        (Platform.FACEBOOK, 25, Window.HUMAN_AGENT),
        (Platform.FACEBOOK, 7 * 24 - 1, Window.HUMAN_AGENT),
        (Platform.FACEBOOK, 7 * 24 + 1, Window.CLOSED),
        (Platform.ZALO, 7 * 24 - 1, Window.OPEN),
        (Platform.ZALO, 7 * 24 + 1, Window.CLOSED),
        (Platform.WEBCHAT, 1, Window.OPEN),
        (Platform.CLI, 1, Window.CLOSED),
    ],
)
def test_reply_window(platform: Platform, hours: int, window: Window) -> None:
    now = 1_800_000_000.0
    assert reply_window(platform, now - hours * HOUR, now) is window
    assert reply_window(platform, None, now) is Window.CLOSED
