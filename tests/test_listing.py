"""Questions for the procedures of a group (issue 10): "khai tử có mấy thủ tục" gets the family
card; "làm khai sinh cần những thủ tục gì" stays with the one procedure."""

from pathlib import Path

import pytest

from bot.models import Decision
from bot.text import tokens
from bot.understanding.listing import asks_for_list
from bot.understanding.matcher import Matcher
from tests.test_families import make


@pytest.mark.parametrize(
    "text",
    [
        "Khai tử thì có mấy thủ tục vậy ạ",
        "cac thu tuc lien quan den khai tu gom nhung loai nao",
        "Ở xã có những thủ tục nào liên quan đến đăng ký kết hôn?",
        "nuôi con nuôi có bao nhiêu loại thủ tục",
        "cho mình xin danh sách thủ tục về công chứng",
        "liệt kê giúp các việc về giám hộ",
        "Các thủ tục hành chính trong lĩnh vực luật sư",
        "What procedures are there for adoption?",
        "Which kinds of procedures exist for marriage",
        "please list all the procedures for notaries",
    ],
)
def test_a_question_for_the_group_s_procedures_is_read_as_one(text: str) -> None:
    assert asks_for_list(tokens(text))


@pytest.mark.parametrize(
    "text",
    [
        "làm giấy khai sinh cho con cần những thủ tục gì",
        "đăng ký kết hôn phải làm những thủ tục nào",
        "thủ tục chứng thực bản sao gồm những gì",
        "nhóm thủ tục liên thông khai sinh, thường trú, bảo hiểm y tế",
        "what documents does the marriage procedure need",
        "danh sách giấy tờ cần mang theo",
    ],
)
def test_a_question_about_one_procedure_is_not(text: str) -> None:
    assert not asks_for_list(tokens(text))


def test_a_long_text_is_read_in_linear_time() -> None:
    # Every alternative starts at a fixed word and has no repetition: 100,000 words of
    # near-misses are one scan.
    words = ("co nhung thu tuc gi danh " * 20_000).split()
    assert not asks_for_list(words)


def test_the_group_s_card_answers_the_question_for_its_procedures(tmp_path: Path) -> None:
    matcher = Matcher(make(tmp_path, family=True))
    assert matcher.match("xin giấy loại gốc ở đâu").topic == "giay-goc"
    match = matcher.match("giấy loại gốc có mấy loại thủ tục")
    assert (match.decision, match.topic) == (Decision.ACCEPT, "nhom-giay")


def test_a_variant_named_keeps_the_question(tmp_path: Path) -> None:
    # "liên thông khai tử gồm những thủ tục gì" asks what that one variant bundles.
    matcher = Matcher(make(tmp_path, family=True))
    match = matcher.match("giấy đặc biệt loại hai có mấy loại thủ tục")
    assert (match.decision, match.topic) == (Decision.ACCEPT, "giay-hai")


def test_without_a_family_the_question_keeps_its_topic(tmp_path: Path) -> None:
    matcher = Matcher(make(tmp_path, family=False))
    match = matcher.match("giấy loại gốc có mấy loại thủ tục")
    assert match.topic == "giay-goc"
