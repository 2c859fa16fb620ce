import pytest

from bot.answers import MAX_CHARS, MENU, Composer, split_text
from bot.bundle import Bundle
from bot.evaluation import missing_musts


def test_fee_question_gets_the_fee_first(bundle: Bundle) -> None:
    answer = bundle.ask("phí cấp bản sao trích lục hộ tịch bao nhiêu")
    first = answer.replies[0].text
    assert answer.topic == "trich-luc-ho-tich"
    assert "Lệ phí" in first.splitlines()[0]
    assert not missing_musts(first, ["8000"])


def test_bare_topic_gets_a_summary_card_and_facet_options(bundle: Bundle) -> None:
    answer = bundle.ask("nhập quốc tịch Việt Nam")
    last = answer.replies[-1]
    assert answer.topic == "nhap-quoc-tich"
    assert not missing_musts(answer.text, ["3000000", "so tu phap"])
    payloads = [q.payload for q in last.quick_replies]
    assert "FACET:nhap-quoc-tich:fee" in payloads and MENU in payloads


def test_english_in_english_out(bundle: Bundle) -> None:
    answer = bundle.ask("How long does it take to register a death?")
    assert answer.topic == "khai-tu"
    assert "15" in answer.text and "ngày" not in answer.text


def test_referral_says_where_to_go_instead(bundle: Bundle) -> None:
    answer = bundle.ask("lý lịch tư pháp xin ở đâu")
    assert answer.kind == "referral"
    assert not missing_musts(answer.text, ["cong an"])


def test_unknown_is_honest_and_offers_the_menu_and_staff(bundle: Bundle) -> None:
    answer = bundle.ask("giá vàng hôm nay bao nhiêu")
    assert answer.topic is None and answer.kind == "unknown"
    assert "chưa hiểu" in answer.text
    payloads = [q.payload for q in answer.replies[-1].quick_replies]
    assert "HANDOFF" in payloads and "TOPIC:khai-sinh" in payloads


def test_every_reply_fits_the_platform_limits(bundle: Bundle) -> None:
    composer = Composer(bundle.kb)
    for topic in bundle.kb.topics.values():
        for facets in ((), ("documents", "fee", "where")):
            for lang in ("vi", "en"):
                replies = composer.answer(topic, facets, lang)  # type: ignore[arg-type]
                assert all(0 < len(r.text) <= MAX_CHARS for r in replies)
                assert all(len(r.quick_replies) <= 13 for r in replies)
                assert all(len(q.title) <= 20 for r in replies for q in r.quick_replies)


@pytest.mark.parametrize("limit", [50, 200, 2000])
def test_split_text_keeps_everything_under_the_limit(limit: int) -> None:
    paragraph = "Câu thứ nhất rất dài. " * 30
    text = "\n\n".join([paragraph, "- mục một\n- mục hai", "x" * 30])
    parts = split_text(text, limit)
    assert all(len(p) <= limit for p in parts)
    assert "".join(parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace(
        "\n", ""
    )


def test_split_text_cuts_a_word_longer_than_the_limit() -> None:
    assert split_text("x" * 25, 10) == ["x" * 10, "x" * 10, "x" * 5]
    assert split_text("a " + "y" * 12 + " b", 10) == ["a", "y" * 10, "yy b"]
