"""Which aspect a message asks about (bot/understanding/facets.py): pure, no server."""

from __future__ import annotations

import pytest

from bot.text import tokens
from bot.understanding.facet_phrases import BLOCKERS, PHRASES
from bot.understanding.facets import detect_facets


def facets(text: str) -> tuple[str, ...]:
    return detect_facets(tokens(text))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Everyday ways of asking, with and without diacritics, teencode and slips.
        ("lam giay khai sinh cho con can mang giay gi, lam co lau khong", ("documents", "time")),
        ("chứng thực bản sao cccd mất bn tiền, có phải chờ lâu ko ad", ("fee", "time")),
        ("ong toi 70 tuoi muon lam giay khai sinh thi len dau lam", ("where",)),
        ("khai tử xong có lấy luôn được không", ("time",)),
        ("how many day it take?", ("time",)),
        ("what paperwork do we bring for the marriage", ("documents",)),
        ("Who qualifies for free legal aid?", ("who", "fee")),
        ("nhờ bạn làm hộ được không", ("who",)),
        ("nộp qua cổng dịch vụ công quốc gia được không", ("online",)),
        # Who may file (2026-12-08): a relative doing it, being there in person.
        ("ông bà nội có phải đích thân lên xã không", ("who",)),
        ("e nhờ anh trai nộp giúp đc ko", ("who",)),
        ("bố mẹ ở nhà nộp hộ được không", ("who",)),
        ("thủ tục nhận cha con có cần 2 bên có mặt k ad", ("who",)),
        ("ông bà nội có được đi đăng ký khai sinh thay cho cháu không", ("who",)),
        ("can my brother pick it up for me?", ("who",)),
        ("does she have to come herself or can I sign?", ("who",)),
        # Where, offered as a choice or as a paper taken somewhere.
        ("làm hợp đồng tặng cho ở xã được không hay phải đi công chứng", ("where",)),
        ("công chứng bản dịch thì mang đến đâu", ("where",)),
        ("criminal record paper for my visa, is that you guys?", ("where",)),
    ],
)
def test_facets_are_found_in_citizens_wording(text: str, expected: tuple[str, ...]) -> None:
    assert facets(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "hết bao nhiêu" is a fee, "hết bao nhiêu ngày" a time: the longer phrase wins.
        ("đăng ký kết hôn hết bao nhiêu ngày", ("time",)),
        ("đăng ký kết hôn hết bao nhiêu", ("fee",)),
        # "đến đâu" alone asks how far a dossier has got, "mang đến đâu" where to take it.
        ("hồ sơ của em đến đâu rồi ạ", ()),
        # "nộp hồ sơ" folds like "nộp hộ", "thay cho giấy" is a substitute paper: no who.
        ("nộp hồ sơ khai sinh", ()),
        ("dùng hộ chiếu thay cho giấy khai sinh được không", ()),
    ],
)
def test_the_longest_phrase_decides(text: str, expected: tuple[str, ...]) -> None:
    assert facets(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "làm hồ sơ khai sinh cho con",  # not "làm hộ" (on someone's behalf)
        "tôi không có tiền án tiền sự",  # not money
        "gia đình tôi muốn đăng ký khai tử cho ông",  # no "giá" (price)
        "miễn nhiệm công chứng viên",  # a dismissal, not a fee exemption
    ],
)
def test_words_that_only_look_like_a_facet_name_none(text: str) -> None:
    assert facets(text) == ()


def test_a_blocker_does_not_hide_the_facet_after_it() -> None:
    assert facets("làm hồ sơ khai sinh mất bao lâu") == ("time",)


def test_no_phrase_belongs_to_two_facets_or_is_also_a_blocker() -> None:
    owner: dict[tuple[str, ...], str] = {}
    for facet, phrases in PHRASES.items():
        for phrase in phrases:
            key = tokens(phrase)
            assert key, phrase
            assert owner.setdefault(key, facet) == facet, (phrase, owner[key], facet)
    for phrase in BLOCKERS:
        assert tokens(phrase) not in owner, phrase
