"""The dossier lookup in the conversation (bot/dialog.py with bot/cases/), pure: asking for
the code and the digits, the answers, the "notify me" subscription."""

from __future__ import annotations

from bot.bundle import Bundle
from bot.cases.lookup import Throttled
from bot.models import LookupOutcome, LookupRequest, LookupResult, State
from tests.case_builders import (
    CODE,
    T0,
    sample,
    say,
)


def test_lookup_dialog_from_the_topic_to_the_status(bundle: Bundle) -> None:
    topic = say(bundle, None, "tra cứu hồ sơ")
    assert topic.topic == "tra-cuu-ho-so" and topic.state.case_step == "code"
    asked = say(bundle, topic.state, "HS2025000123", at=T0 + 1)  # shorter codes once asked
    assert asked.state.case_code == "HS2025000123" and asked.state.case_step == "digits"
    assert "4 số cuối" in asked.replies[0].text
    invalid = say(bundle, asked.state, "567", at=T0 + 2)
    assert invalid.lookup is None and "đúng 4 chữ số" in invalid.replies[0].text
    turn = say(bundle, invalid.state, "5678", at=T0 + 3)
    assert turn.lookup == LookupRequest("HS2025000123", "5678") and turn.replies == ()
    assert "5678" not in repr(turn.lookup)  # the digits stay out of logs
    done = bundle.dialog.resolve_lookup(turn, LookupResult(LookupOutcome.FOUND, sample()), T0 + 3)
    text = done.replies[0].text
    for part in ("Hồ sơ H56-250701-0001", "Người nộp: Nguyễn T. H.", "Thủ tục: Đăng ký khai sinh",
                 "Tình trạng: Đang được giải quyết", "Ngày tiếp nhận: 01/07/2025",
                 "Ngày hẹn trả kết quả: 08/07/2025", "(hẹn trả ngày 08/07/2025, còn 2 ngày làm việc)",
                 "Anh/chị chưa cần làm gì thêm"):  # fmt: skip
        assert part in text
    assert "5678" not in text
    assert done.state.case_verified == CODE and done.state.case_step is None
    assert done.replies[-1].quick_replies[0].payload == f"CASE_SUBSCRIBE:{CODE}"


def test_a_message_with_a_code_starts_the_lookup(bundle: Bundle) -> None:
    turn = say(bundle, None, "hồ sơ H56-250701-0001 của tôi đến đâu rồi")
    assert turn.state.case_code == CODE and turn.state.case_step == "digits"
    english = say(bundle, State(lang="en"), CODE)
    assert "last 4 digits" in english.replies[0].text
    away = say(bundle, turn.state, "cho hỏi lệ phí khai sinh", at=T0 + 1)
    assert away.topic == "khai-sinh" and away.state.case_step is None


def test_not_found_and_locked_answers(bundle: Bundle) -> None:
    turn = say(bundle, say(bundle, None, CODE).state, "1111", at=T0 + 1)
    wrong = bundle.dialog.resolve_lookup(turn, LookupResult(LookupOutcome.NO_MATCH), T0 + 1)
    assert wrong.state.case_step == "digits"  # try the digits again, or another code
    assert "chưa tìm thấy hồ sơ" in wrong.replies[0].text and CODE not in wrong.replies[0].text
    locked = bundle.dialog.resolve_lookup(turn, LookupResult(LookupOutcome.LOCKED), T0 + 1)
    assert "tạm khóa trong 24 giờ" in locked.replies[0].text
    assert locked.state.case_step is None


def test_a_slowed_down_dossier_says_when_to_retry_and_whom_to_ask(bundle: Bundle) -> None:
    # T0 is 10:33:20 on 04/07/2025 in Viet Nam; the dossier checks again 1 h 30 s later.
    busy = Throttled(LookupOutcome.LOCKED, retry_at=T0 / 1000 + 3630)
    for lang, parts in (
        ("vi", ("thử lại sau 11:34 ngày 04/07/2025", "nơi đã nộp hồ sơ", "Gặp cán bộ")),
        ("en", ("try again after 11:34 on 04/07/2025", "office where you filed", "Talk to staff")),
    ):
        asked = say(bundle, State(lang=lang), CODE)
        turn = say(bundle, asked.state, "5678", at=T0 + 1)
        told = bundle.dialog.resolve_lookup(turn, busy, T0 + 1)
        assert told.kind == "case_locked" and told.state.case_step == "digits"  # try later
        for part in parts:
            assert part in told.replies[0].text
        assert told.replies[-1].quick_replies[-1].payload == "HANDOFF"


def test_only_the_verified_owner_may_subscribe(bundle: Bundle) -> None:
    refused = say(bundle, None, payload=f"CASE_SUBSCRIBE:{CODE}")
    assert refused.subscribe is None and "tra cứu hồ sơ trước" in refused.replies[0].text
    verified = State(case_verified=CODE, updated_ms=T0)
    assert say(bundle, verified, payload=f"CASE_SUBSCRIBE:{CODE}").subscribe == CODE
    assert say(bundle, verified, payload="CASE_SUBSCRIBE:H56-OTHER").subscribe is None
    assert say(bundle, verified, "Báo cho tôi khi có kết quả").subscribe == CODE


def test_inside_the_lookup_digits_are_digits_outside_numbers_pick_options(bundle: Bundle) -> None:
    # After a code the bot offers "1. Menu" and "2. Gặp cán bộ" (numbered lines on Zalo), yet
    # "0001" and "0002" are the last digits of real phones: the lookup's, not a handoff.
    asked = say(bundle, None, CODE)
    assert asked.state.options == ("MENU", "HANDOFF")
    for digits in ("0001", "0002", "0 0 0 2"):
        turn = say(bundle, asked.state, digits, at=T0 + 1)
        assert turn.kind == "lookup" and not turn.handoff
        assert turn.lookup == LookupRequest(CODE, digits.replace(" ", ""))
    # Asked for a code, digits are a (wrong) answer to that question: asked again, politely.
    topic = say(bundle, None, "tra cứu hồ sơ")
    assert topic.state.options == ("MENU", "HANDOFF")
    for text in ("0002", "02", "0912 345 678"):
        turn = say(bundle, topic.state, text, at=T0 + 1)
        assert (turn.kind, turn.handoff, turn.state.case_step) == ("case_ask", False, "code")
        assert "Giấy tiếp nhận hồ sơ" in turn.replies[0].text
    # An option's own number can be neither 4 digits nor a code: it still picks the option.
    assert say(bundle, asked.state, "2", at=T0 + 1).handoff
    assert say(bundle, topic.state, "1", at=T0 + 1).kind == "menu"
    # Outside the lookup, numbers pick options as before, leading zeros and all.
    menu = say(bundle, None, payload="MENU")
    second = menu.state.options[1].removeprefix("TOPIC:")
    for text in ("2", "02"):
        assert say(bundle, menu.state, text, at=T0 + 1).topic == second
