"""Ratings (issue 11): the 👍 / 👎 offer's cadence, the choice by button, number or typed emoji,
what a rating stores (a 👎's question in the review inbox), and end to end on Messenger: the
answer, the quick replies, the 👎 postback, the apology with "Gặp cán bộ", the inbox and the
overview's satisfaction figures; on Zalo, the numbered lines and a typed number.
"""

from __future__ import annotations

import dataclasses
import time
from pathlib import Path
from typing import Any

import pytest

from bot.bundle import Bundle
from bot.dialog import Dialog, Turn
from bot.models import EventKind, Incoming, Outgoing, Platform, State, TopicKind, TurnKind
from bot.models.handoffs import HandoffReason
from bot.models.rating import Rating, Score, rate_payload
from bot.models.review import MissKind
from bot.models.staff import Role
from bot.rating import Rater, payload_score, typed_score
from bot.staff.overview import build_overview
from bot.staff.passwords import Passwords
from bot.staff.review import inbox
from bot.store import Store
from bot.turns.queue import miss_of
from tests.conftest import FakeClock, FakePlatforms, make_settings
from tests.payloads import ZALO_TIME, fb_batch, fb_quick_reply, fb_text, zalo_text
from tests.test_admin import CHEAP, NOW, Admin, log_in, text_of
from tests.test_app import post_facebook, post_zalo
from tests.test_handoff import queue_of, turn
from webhooks.app import create_app
from webhooks.keys import ADMIN_CLOCK_KEY, PASSWORDS_KEY, RELOADER_KEY, STORE_KEY

T0 = 1_700_000_000_000
UP, DOWN = rate_payload(Score.UP), rate_payload(Score.DOWN)
FEE = "lệ phí đăng ký kết hôn"  # answered: ket-hon, its fee first


class Chat:
    """One conversation with a dialog that offers ratings every `every` answers."""

    def __init__(self, bundle: Bundle, every: int = 3) -> None:
        self.dialog = Dialog(bundle.kb, bundle.matcher, rating_every=every)
        self.state: State | None = None
        self.n = 0

    def say(self, text: str = "", payload: str | None = None) -> Turn:
        self.n += 1
        kind = EventKind.TEXT if payload is None else EventKind.POSTBACK
        msg = Incoming(Platform.ZALO, "u1", f"m{self.n}", kind, text, payload)
        turn = self.dialog.handle(self.state, msg, T0 + self.n * 1000)
        self.state = turn.state
        return turn


def payloads(turn: Turn) -> list[str]:
    return [q.payload for q in turn.replies[-1].quick_replies]


def offered(turn: Turn) -> bool:
    return payloads(turn)[:2] == [UP, DOWN]


# -- the pure parts ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "score"),
    [
        ("👍", Score.UP),
        ("👎", Score.DOWN),
        (" 👍🏻 ", Score.UP),  # a skin tone
        ("👎\ufe0f👎", Score.DOWN),  # the emoji presentation selector, repeated
        ("👍👎", None),
        ("👍 cảm ơn", None),
        ("", None),
        ("ok", None),
    ],
)
def test_typed_score(text: str, score: Score | None) -> None:
    assert typed_score(text) is score


def test_payload_score() -> None:
    assert payload_score(UP) is Score.UP and payload_score(DOWN) is Score.DOWN
    assert payload_score("RATE:meh") is None and payload_score("MENU") is None


def test_the_offer_comes_with_the_first_answer_then_every_nth(bundle: Bundle) -> None:
    rater = Rater(bundle.kb, 3)
    assert [n for n in range(1, 11) if rater.due(n)] == [1, 4, 7, 10]
    assert [n for n in range(1, 4) if Rater(bundle.kb, 1).due(n)] == [1, 2, 3]
    assert not any(Rater(bundle.kb, 0).due(n) for n in range(1, 20))
    with pytest.raises(ValueError):
        Rater(bundle.kb, -1)


# -- the dialog ------------------------------------------------------------------------------


def test_offer_cadence_counts_topic_answers_only(bundle: Bundle) -> None:
    chat = Chat(bundle, every=3)
    first = chat.say(FEE)
    assert first.kind is TurnKind.ANSWER and offered(first)
    titles = [q.title for q in first.replies[-1].quick_replies[:2]]
    assert titles == ["👍 Hữu ích", "👎 Chưa hữu ích"]
    assert chat.state is not None and chat.state.rating_topic == "ket-hon"
    assert (chat.state.rating_facet, chat.state.rating_of) == ("fee", "m1")
    # Small talk and ask-backs neither get the offer nor count towards the next one.
    assert not offered(chat.say("xin chào"))
    clarify = chat.say("liên thông")
    assert clarify.kind is TurnKind.CLARIFY and not offered(clarify)
    assert chat.state.rating_topic is None  # the offer waited for one message only
    assert not offered(chat.say("đăng ký khai tử"))  # answer 2
    assert not offered(chat.say("còn lệ phí thì sao?"))  # answer 3 (a follow-up)
    fourth = chat.say("chứng thực chữ ký")
    assert fourth.kind is TurnKind.ANSWER and offered(fourth)  # answer 4


def test_no_offer_when_off_and_the_answer_itself_is_unchanged(bundle: Bundle) -> None:
    rated, plain, off = Chat(bundle, 3).say(FEE), Chat(bundle, 0).say(FEE), Chat(bundle, 0)
    assert not offered(plain) and not offered(off.say("khai sinh"))
    assert [r.text for r in rated.replies] == [r.text for r in plain.replies]
    assert payloads(rated)[2:] == payloads(plain)
    # The shipped bundle (bot ask, bot eval) never offers.
    msg = Incoming(Platform.CLI, "u", "m", EventKind.TEXT, FEE)
    assert not offered(bundle.dialog.handle(None, msg, T0))


def test_no_offer_after_an_ask_back_a_family_card_or_a_handoff(bundle: Bundle) -> None:
    # An ask-back, a handoff, small talk, out of scope or not understood.
    for text in ("liên thông", "gặp cán bộ", "xin chào", "thời tiết hôm nay thế nào"):
        assert not offered(Chat(bundle, 1).say(text)), text
    family = next(t for t in bundle.kb.topics.values() if t.kind is TopicKind.FAMILY)
    assert not offered(Chat(bundle, 1).say(payload=f"TOPIC:{family.id}"))


def test_thumbs_up_is_thanked_and_rates_the_answer(bundle: Bundle) -> None:
    chat = Chat(bundle)
    chat.say(FEE)
    thanks = chat.say("👍", UP)
    assert thanks.kind is TurnKind.RATED
    assert thanks.rating == Rating(Score.UP, "ket-hon", "fee", "m1", FEE)
    assert thanks.replies[0].text.startswith("Cảm ơn Anh/chị đã đánh giá")
    assert miss_of(thanks, "👍") is None  # nothing for the review inbox
    assert chat.state is not None and chat.state.topic == "ket-hon"  # the context stays


def test_thumbs_down_apologises_offers_staff_and_keeps_the_question(bundle: Bundle) -> None:
    chat = Chat(bundle)
    chat.say(FEE)
    sorry = chat.say("👎 Chưa hữu ích", DOWN)
    assert sorry.rating == Rating(Score.DOWN, "ket-hon", "fee", "m1", FEE)
    assert sorry.replies[0].text.startswith("Xin lỗi Anh/chị")
    assert [(q.title, q.payload) for q in sorry.replies[-1].quick_replies] == [
        ("Gặp cán bộ", "HANDOFF"),
        ("Menu chính", "MENU"),
    ]
    miss = miss_of(sorry, "")
    assert miss is not None
    assert (miss.kind, miss.normalised, miss.guess, miss.text) == (
        MissKind.RATED_DOWN,
        "le phi dang ky ket hon",
        "ket-hon",
        FEE,
    )
    # "Gặp cán bộ" hands over through the existing topic; on Zalo the citizen types "1".
    staff = chat.say("1")
    assert (staff.kind, staff.topic, staff.handoff) == (TurnKind.HANDOFF, "gap-can-bo", True)


NONSENSE = "xyzzy plugh quux"  # nothing the bot knows
DEATH = "đăng ký khai tử"  # answered: khai-tu


def test_a_thumbs_down_then_a_question_not_understood_hands_over(bundle: Bundle) -> None:
    chat = Chat(bundle)
    chat.say(FEE)
    chat.say("👎 Chưa hữu ích", DOWN)
    assert chat.state is not None and (chat.state.misses, chat.state.disliked) == (1, True)
    staff = chat.say(NONSENSE)  # asked again, and the bot does not understand it either
    assert (staff.kind, staff.topic, staff.handoff) == (TurnKind.HANDOFF, "gap-can-bo", True)
    assert staff.handoff_reason is HandoffReason.MISSES and staff.unanswered
    assert staff.replies[0].text.startswith("Xin lỗi Anh/chị, tôi vẫn chưa hiểu")
    assert "trợ lý tự động tạm dừng trả lời" in staff.replies[-1].text
    miss = miss_of(staff, NONSENSE)  # and stays in the inbox as not understood
    assert miss is not None and miss.kind is MissKind.FALLBACK


def test_the_answer_after_a_thumbs_down_is_offered_and_a_second_down_hands_over(
    bundle: Bundle,
) -> None:
    chat = Chat(bundle)  # every 3rd answer: the 2nd would have no offer
    chat.say(FEE)
    chat.say("👎 Chưa hữu ích", DOWN)
    again = chat.say(DEATH)
    assert again.kind is TurnKind.ANSWER and offered(again)
    staff = chat.say("👎 Chưa hữu ích", DOWN)
    assert (staff.kind, staff.handoff, staff.handoff_reason) == (
        TurnKind.HANDOFF,
        True,
        HandoffReason.MISSES,
    )
    assert staff.rating is not None and (staff.rating.score, staff.rating.topic) == (
        Score.DOWN,
        "khai-tu",
    )
    assert staff.replies[0].text.startswith("Xin lỗi Anh/chị vì tôi chưa trả lời được đúng")
    miss = miss_of(staff, "")
    assert miss is not None and (miss.kind, miss.text) == (MissKind.RATED_DOWN, DEATH)
    assert staff.state.misses == 0 and not staff.state.disliked


def test_after_a_thumbs_down_a_good_answer_ends_the_run(bundle: Bundle) -> None:
    chat = Chat(bundle)
    chat.say(FEE)
    chat.say("👎 Chưa hữu ích", DOWN)
    chat.say(DEATH)
    thanks = chat.say("👍 Hữu ích", UP)
    assert thanks.kind is TurnKind.RATED and not thanks.handoff
    assert chat.state is not None and (chat.state.misses, chat.state.disliked) == (0, False)
    # Back to the cadence: the next answer (the 3rd) has no offer, and a miss is the first.
    third = chat.say(FEE)
    assert third.kind is TurnKind.ANSWER and not offered(third)
    first_miss = chat.say(NONSENSE)
    assert (first_miss.kind, first_miss.handoff) == (TurnKind.FALLBACK, False)
    # A 👎, an answer, then a miss: not two misses in a row.
    assert offered(chat.say(FEE))  # the 4th answer
    chat.say("👎 Chưa hữu ích", DOWN)
    chat.say(DEATH)
    assert (chat.say(NONSENSE).kind, chat.state.misses) == (TurnKind.FALLBACK, 1)


def test_no_forced_offer_when_ratings_are_off(bundle: Bundle) -> None:
    chat = Chat(bundle, every=0)
    chat.say(FEE)
    chat.say("👎", DOWN)  # a late tap on an old offer: still a miss
    assert not offered(chat.say(DEATH))


async def test_a_second_thumbs_down_opens_a_handoff_for_misses_and_the_bot_goes_quiet(
    store: Store, clock: FakeClock, bundle: Bundle
) -> None:
    rated = dataclasses.replace(bundle, dialog=Dialog(bundle.kb, bundle.matcher, rating_every=3))
    queue = queue_of(store, rated, clock)
    msgs = [
        Incoming(Platform.WEBCHAT, "w", f"w{n}", EventKind.POSTBACK if p else EventKind.TEXT, t, p)
        for n, (t, p) in enumerate([(FEE, None), ("", DOWN), (DEATH, None), ("", DOWN)])
    ]
    for msg in msgs:
        assert await turn(queue, msg) == 1
    handoff = await store.current_handoff(Platform.WEBCHAT, "w")
    assert handoff is not None and handoff.reason is HandoffReason.MISSES
    assert [(r.topic, r.down) for r in await store.topic_ratings(0, 10)] == [
        ("ket-hon", 1),
        ("khai-tu", 1),
    ]
    later = Incoming(Platform.WEBCHAT, "w", "w9", EventKind.TEXT, FEE)
    assert await turn(queue, later) == 0  # staff have the conversation now


@pytest.mark.parametrize("typed", ["👎", "👎🏽", "2"])  # "2": Zalo's numbered line for 👎
def test_typed_right_after_an_offer_counts(bundle: Bundle, typed: str) -> None:
    chat = Chat(bundle)
    chat.say(FEE)
    turn = chat.say(typed)
    assert turn.kind is TurnKind.RATED and turn.rating is not None
    assert turn.rating.score is Score.DOWN


def test_a_typed_thumb_without_an_offer_is_no_rating(bundle: Bundle) -> None:
    chat = Chat(bundle)
    chat.say(FEE)
    chat.say("đăng ký khai tử")  # answer 2: no offer, and the first one has lapsed
    later = chat.say("👍")
    assert later.kind is not TurnKind.RATED and later.rating is None
    # A late tap on an old offer's button is thanked, but rates nothing.
    tap = chat.say("👍", UP)
    assert tap.kind is TurnKind.RATED and tap.rating is None


def test_the_question_goes_on_through_an_ask_back_but_not_through_the_menu(
    bundle: Bundle,
) -> None:
    chat = Chat(bundle, 1)
    clarify = chat.say("liên thông")
    answer = chat.say("1")  # the first topic offered
    assert answer.kind is TurnKind.ANSWER and offered(answer)
    down = chat.say("👎")
    assert down.rating is not None and down.rating.question == "liên thông"
    assert down.rating.topic == payloads(clarify)[0].removeprefix("TOPIC:")

    for leave in ("MENU", "GET_STARTED"):  # the menu, or the welcome and its menu
        assert offered(chat.say("khai sinh"))
        chat.say(payload=leave)
        picked = chat.say("1")  # a topic of the menu: no words of the citizen's
        assert offered(picked)
        buttons_only = chat.say("👎")
        assert buttons_only.rating is not None and buttons_only.rating.question == ""
        assert miss_of(buttons_only, "👎") is None  # stored as a rating, nothing to teach


# -- the store ---------------------------------------------------------------------------------


def _rated(bundle: Bundle, score: Score, user: str = "u1") -> tuple[Incoming, Turn]:
    chat = Chat(bundle)
    chat.say(FEE)
    msg = Incoming(Platform.ZALO, user, f"r-{user}-{score}", EventKind.POSTBACK, "", None)
    return msg, chat.say(payload=rate_payload(score))


async def complete(store: Store, msg: Incoming, turn: Turn) -> None:
    out = [Outgoing(msg.platform, msg.user_id, r) for r in turn.replies]
    miss = miss_of(turn, msg.text)
    assert await store.complete_turn(msg, turn.state, out, miss=miss, rating=turn.rating)


async def test_a_rating_is_stored_with_its_turn_and_a_down_goes_to_the_inbox(
    store: Store, clock: FakeClock, bundle: Bundle
) -> None:
    for score, user in [(Score.UP, "a"), (Score.DOWN, "b"), (Score.DOWN, "c")]:
        await complete(store, *_rated(bundle, score, user))
    rows = await store._run(
        lambda db: db.execute(
            "SELECT platform, user_id, score, topic, facet, message_id FROM ratings ORDER BY id"
        ).fetchall()
    )
    assert rows == [
        ("zalo", "a", "up", "ket-hon", "fee", "m1"),
        ("zalo", "b", "down", "ket-hon", "fee", "m1"),
        ("zalo", "c", "down", "ket-hon", "fee", "m1"),
    ]
    snapshot = await inbox(store)
    (group,) = snapshot.groups
    assert (group.example, group.count, group.kinds) == (FEE, 2, (("rated_down", 2),))
    assert group.guess == "ket-hon"
    assert [(r.topic, r.up, r.down) for r in await store.topic_ratings(0, 10)] == [
        ("ket-hon", 1, 2)
    ]
    (day,) = await store.ratings_per_day(0, 7 * 3600)
    assert (day.up, day.down) == (1, 2)
    forgotten = await store.forget_user(Platform.ZALO, "b")
    assert forgotten.rows["ratings"] == 1 and forgotten.rows["unanswered"] == 1
    (day,) = await store.ratings_per_day(0, 7 * 3600)
    assert (day.up, day.down) == (1, 1)


async def test_the_overview_shows_satisfaction_per_day_and_the_most_down_rated_topics(
    store: Store, clock: FakeClock, bundle: Bundle
) -> None:
    clock.now = NOW - 86400  # 2026-12-06 10:00 UTC+7
    await complete(store, *_rated(bundle, Score.UP, "a"))
    clock.now = NOW  # 2026-12-07
    await complete(store, *_rated(bundle, Score.DOWN, "b"))
    await complete(store, *_rated(bundle, Score.UP, "c"))
    o = await build_overview(store, NOW, {"ket-hon": "Đăng ký kết hôn"})
    assert len(o.ratings) == 14 and all(r.up == r.down == 0 for r in o.ratings[:-2])
    assert [(r.day, r.up, r.down) for r in o.ratings[-2:]] == [
        ("2026-12-06", 1, 0),
        ("2026-12-07", 1, 1),
    ]
    assert (o.up, o.down) == (2, 1)
    assert o.rated_topics == (("ket-hon", "Đăng ký kết hôn", 2, 1),)


# -- end to end: Messenger, the review inbox, the overview --------------------------------------


async def test_messenger_answer_rate_down_apology_inbox_and_overview(
    aiohttp_client: Any, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    rated = dataclasses.replace(bundle, dialog=Dialog(bundle.kb, bundle.matcher, rating_every=3))
    app = create_app(make_settings(tmp_path, platforms.url, zalo=False), rated)
    clock = FakeClock(time.time())
    app[ADMIN_CLOCK_KEY] = clock
    app[PASSWORDS_KEY] = Passwords(CHEAP)
    client = await aiohttp_client(app)

    assert (await post_facebook(client, fb_batch(fb_text(FEE, mid="m-q")))).status == 200
    await platforms.wait_for(lambda: len(platforms.sent()) >= 1)
    answer = platforms.sent()[-1].body["message"]
    assert "Lệ phí" in answer["text"]
    quick = [(q["title"], q["payload"]) for q in answer["quick_replies"]]
    assert quick[:2] == [("👍 Hữu ích", UP), ("👎 Chưa hữu ích", DOWN)]

    tap = fb_quick_reply(DOWN, title="👎 Chưa hữu ích", mid="m-down", timestamp=1_475_942_800_000)
    assert (await post_facebook(client, fb_batch(tap))).status == 200
    await platforms.wait_for(lambda: len(platforms.sent()) >= 2)
    apology = platforms.sent()[-1].body["message"]
    assert apology["text"].startswith("Xin lỗi Anh/chị vì câu trả lời chưa giúp được")
    assert apology["quick_replies"][0] == {
        "content_type": "text",
        "title": "Gặp cán bộ",
        "payload": "HANDOFF",
    }

    store: Store = app[STORE_KEY]
    (group,) = (await inbox(store)).groups
    assert (group.example, group.kinds, group.channels) == (
        FEE,
        (("rated_down", 1),),
        (("facebook", 1),),
    )
    assert group.guess == "ket-hon"

    staff = Admin(client, clock, store, app[PASSWORDS_KEY])
    await staff.add("lan", Role.EDITOR)
    await log_in(client, "lan")
    overview = text_of(await (await client.get("/admin")).text())
    assert "Mức độ hài lòng 0 / 1 0,0 %" in overview
    assert "0 👍 hữu ích, 1 👎 chưa hữu ích: 0,0 % hài lòng." in overview
    assert "Đăng ký kết hôn 0 1 0,0 %" in overview
    review = text_of(await (await client.get("/admin/review")).text())
    assert f"«{FEE}»" in review and "👎 chưa hữu ích: 1" in review

    # "Gặp cán bộ" hands the conversation over through the existing handoff topic.
    handoff = fb_quick_reply("HANDOFF", title="Gặp cán bộ", mid="m-staff")
    assert (await post_facebook(client, fb_batch(handoff))).status == 200
    await platforms.wait_for(lambda: len(platforms.sent()) >= 3)
    assert len(await store.open_handoffs()) == 1
    # The handoff's summary, then what the pause means (bot/dialog.py, handoff_paused).
    summary = bundle.kb.topics["gap-can-bo"].summary.get("vi")
    assert platforms.sent()[-1].body["message"]["text"].startswith(summary)


def test_rating_replies_fit_a_quick_reply_title(bundle: Bundle) -> None:
    texts = bundle.kb.texts
    for key in ("rating_up_button", "rating_down_button"):
        for lang in ("vi", "en"):
            assert len(texts.get(key, lang)) <= 20  # Messenger shows 20 characters


def test_messengers_like_sticker_rates_right_after_an_offer_only(bundle: Bundle) -> None:
    like = Incoming(Platform.FACEBOOK, "u1", "like", EventKind.ATTACHMENT, "👍")
    chat = Chat(bundle)
    chat.say(FEE)
    rated = chat.dialog.handle(chat.state, like, T0 + 60_000)
    assert rated.kind is TurnKind.RATED and rated.rating is not None
    assert rated.rating.score is Score.UP
    # Without an offer it is a sticker like any other.
    assert chat.dialog.handle(rated.state, like, T0 + 61_000).kind is TurnKind.ATTACHMENT


def test_the_server_and_its_reloads_offer_ratings_as_configured(
    tmp_path: Path, bundle: Bundle
) -> None:
    settings = make_settings(tmp_path, facebook=False, zalo=False, rating_every=2)
    app = create_app(settings, bundle)
    # A staff edit reloads the knowledge base: the new bundle's dialog keeps the setting.
    reloaded = app[RELOADER_KEY].load(settings.knowledge_path())
    assert reloaded.dialog.rater.every == 2
    assert bundle.dialog.rater.every == 0  # what `bot ask` and `bot eval` load


async def test_zalo_lists_the_thumbs_as_numbered_lines_and_a_typed_number_rates(
    aiohttp_client: Any, tmp_path: Path, bundle: Bundle, platforms: FakePlatforms
) -> None:
    rated = dataclasses.replace(bundle, dialog=Dialog(bundle.kb, bundle.matcher, rating_every=3))
    app = create_app(make_settings(tmp_path, platforms.url, facebook=False), rated)
    client = await aiohttp_client(app)
    assert (await post_zalo(client, zalo_text(FEE, msg_id="z-q"))).status == 200
    await platforms.wait_for(lambda: len(platforms.sent()) >= 1)
    assert "\n\n1. 👍 Hữu ích\n2. 👎 Chưa hữu ích\n3. " in platforms.sent()[-1].text
    typed = zalo_text("2", msg_id="z-down", timestamp=str(int(ZALO_TIME) + 5000))
    assert (await post_zalo(client, typed)).status == 200
    await platforms.wait_for(lambda: len(platforms.sent()) >= 2)
    assert platforms.sent()[-1].text.startswith("Xin lỗi Anh/chị vì câu trả lời")
    assert "\n\n1. Gặp cán bộ\n2. Menu chính" in platforms.sent()[-1].text
    (group,) = (await inbox(app[STORE_KEY])).groups
    assert (group.example, group.kinds, group.channels) == (
        FEE,
        (("rated_down", 1),),
        (("zalo", 1),),
    )
