"""The English glossary: Vietnamese terms written beside English phrases (pure, no I/O)."""

from __future__ import annotations

import pytest

from bot.text import fold
from bot.understanding.glossary import GLOSSARY, render


def test_the_term_is_written_after_its_phrase() -> None:
    assert render("I lost my birth certificate") == "I lost my birth certificate giấy khai sinh"


def test_case_hyphens_and_apostrophes_do_not_hide_a_phrase() -> None:
    assert render("Can we Re-Register it?") == "Can we Re-Register đăng ký lại it?"
    assert render("Birth   Cert please") == "Birth   Cert giấy khai sinh please"


def test_the_longer_phrase_wins() -> None:
    # "birth certificate" is a phrase of its own; so is "no birth certificate".
    assert render("she has no birth certificate") == (
        "she has no birth certificate chưa có giấy khai sinh"
    )


def test_a_phrase_inside_a_longer_word_is_not_a_phrase() -> None:
    assert render("the passportless traveller") == "the passportless traveller"
    assert render("a reregistration desk") == "a reregistration desk"


def test_a_possessive_after_a_phrase_is_allowed() -> None:
    assert render("my hubby's papers") == "my hubby's chồng papers"


def test_text_without_phrases_is_returned_as_is() -> None:
    text = "What is the weather like in Hà Giang tomorrow?"
    assert render(text) == text


@pytest.mark.parametrize(("english", "vietnamese"), GLOSSARY[:: max(len(GLOSSARY) // 40, 1)])
def test_every_phrase_is_rendered(english: str, vietnamese: str) -> None:
    assert render(f"about {english} please") == f"about {english} {vietnamese} please"


def test_the_table_is_well_formed() -> None:
    phrases = [english for english, _ in GLOSSARY]
    assert len(phrases) == len(set(phrases))
    for english, vietnamese in GLOSSARY:
        assert english == " ".join(english.lower().split()), english
        assert vietnamese.strip() == vietnamese and vietnamese, english
        # a term is Vietnamese as citizens write it, not the English again
        assert fold(vietnamese) != english, english
