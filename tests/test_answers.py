import pytest

from bot.answers import (
    CLARIFY_CHARS,
    MAX_CHARS,
    MAX_CLARIFY_FACETS,
    MENU,
    Composer,
    split_text,
)
from bot.bundle import Bundle
from bot.evaluation import missing_musts
from bot.models import FACETS, Candidate


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


def test_a_question_back_answers_what_was_asked_under_each_offered_name(bundle: Bundle) -> None:
    # "liên thông" fits both combined procedures: the bot asks which, and since the citizen
    # asked for the documents, each one's list follows under its own name.
    answer = bundle.ask("liên thông cần giấy tờ gì")
    assert answer.kind == "clarify"
    offered = ("lien-thong-khai-sinh", "lien-thong-khai-tu")
    text = answer.text
    assert text.startswith("Anh/chị muốn hỏi về «")
    for topic_id in offered:
        topic = bundle.kb.topics[topic_id]
        lead = f"Nếu là «{topic.name.vi}» – Giấy tờ cần có:"
        assert f"{lead}\n{topic.facets['documents'].vi}" in text
    assert text.rstrip().endswith(bundle.kb.texts.get("clarify_none", "vi"))
    payloads = [q.payload for q in answer.replies[-1].quick_replies]
    assert {f"TOPIC:{t}" for t in offered} <= set(payloads)


def test_a_question_back_without_a_facet_only_asks(bundle: Bundle) -> None:
    composer = Composer(bundle.kb)
    offered = [Candidate("lien-thong-khai-sinh", 0.6), Candidate("lien-thong-khai-tu", 0.6)]
    (reply,) = composer.clarify(offered, "vi")
    assert reply.text.count("\n") == 1 and "Nếu là" not in reply.text
    (english,) = composer.clarify(offered, "en", ("fee",))
    assert english.text.count("If you mean «") == 2


def test_a_question_back_stays_one_message_each_topic_first_asked_facet_first(
    bundle: Bundle,
) -> None:
    composer = Composer(bundle.kb)
    procedures = [t for t in bundle.kb.topics.values() if set(FACETS) <= set(t.facets)]
    labels = bundle.kb.texts.facet_labels
    for lang in ("vi", "en"):
        lead = "Nếu là «" if lang == "vi" else "If you mean «"
        for start in range(0, len(procedures) - 2, 3):
            offered = [Candidate(t.id, 0.6) for t in procedures[start : start + 3]]
            (reply,) = composer.clarify(offered, lang, FACETS)  # type: ignore[arg-type]
            assert len(reply.text) <= CLARIFY_CHARS
            assert [q.payload for q in reply.quick_replies][:3] == [
                f"TOPIC:{c.topic}" for c in offered
            ]
            shown = {
                (t.id, f)
                for t in procedures[start : start + 3]
                for f in FACETS
                if f"{lead}{t.name.get(lang)}» – {labels[f].get(lang)}:" in reply.text
            }
            per_topic = [sum(1 for tid, _ in shown if tid == c.topic) for c in offered]
            assert all(n <= MAX_CLARIFY_FACETS for n in per_topic)
            # A second facet of one topic only once every topic has its first.
            if any(n == 2 for n in per_topic):
                assert all(n >= 1 for n in per_topic)
            assert (offered[0].topic, FACETS[0]) in shown


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
