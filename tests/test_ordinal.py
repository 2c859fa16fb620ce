"""A reply that picks an offered option by its place (bot/understanding/ordinal.py): pure."""

from __future__ import annotations

import pytest

from bot.understanding.ordinal import LAST, chosen_place


@pytest.mark.parametrize(
    ("text", "place"),
    [
        ("cái thứ hai", 2),
        ("cai thu 2 a", 2),
        ("số 2 ạ", 2),
        ("em chọn mục 1", 1),
        ("thứ nhất ạ", 1),
        ("cái đầu tiên", 1),
        ("cái sau nhé", LAST),
        ("mục cuối cùng", LAST),
        ("phương án 3", 3),
        ("2 ạ", 2),
        ("the second one", 2),
        ("First one please", 1),
        ("the last one", LAST),
        ("option 2", 2),
    ],
)
def test_a_place_written_out_is_read(text: str, place: int) -> None:
    assert chosen_place(text) == place


@pytest.mark.parametrize(
    "text",
    [
        "2",  # a bare number is `Dialog.numbered_choice`'s
        "đâu ạ",  # where? (folds like "đầu ạ")
        "ba mẹ em",  # "ba" is also father
        "hai",  # may be "cả hai"
        "2 ngày",  # a duration
        "02 ạ",  # digits as typed in a code
        "cái thứ hai là gì",  # a question about it
        "wait a second",
        "last week",
        "năm nay",
        "",
    ],
)
def test_other_short_messages_pick_nothing(text: str) -> None:
    assert chosen_place(text) is None
