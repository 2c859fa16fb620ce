import pytest

from bot.text import (
    _LATIN_EN,
    _LATIN_VI,
    COMMON_EN,
    detect_lang,
    fold,
    normalised_phrases,
    normalised_word,
    normalised_words,
    raw_tokens,
    sound_alikes,
    telex_variants,
    term_shapes,
    token_shapes,
    tokens,
    vowel_shape,
)
from bot.understanding import facets


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Đăng Ký Khai Sinh", "dang ky khai sinh"),
        ("đđ", "dd"),
        ("Chứng thực", "chung thuc"),
        ("NGƯỜI NƯỚC NGOÀI", "nguoi nuoc ngoai"),
        # NFD input (as some phones send it) folds the same as NFC.
        ("Đa\u0306ng ky\u0301", "dang ky"),
    ],
)
def test_fold_keeps_d_and_drops_marks(text: str, expected: str) -> None:
    assert fold(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "làm giấy ks cho bé mất bn tiền v ad",
            "lam giay khai sinh cho be mat bao nhieu tien vay ad",
        ),
        ("đk kết hôn ko cần j à", "dang ky ket hon khong can gi a"),
        ("e lm lltp đc k", "em lam ly lich tu phap duoc khong"),
        ("côngg chứngg", "cong chung"),
        ("vớii người nướcc ngoài", "voi nguoi nuoc ngoai"),
        ("hđ mua bán xe", "hop dong mua ban xe"),
        ("phí 8.000đ/bản", "phi 8 000d ban"),
        ("lí lịch", "ly lich"),
        ("   ", ""),
    ],
)
def test_tokens_expand_teencode_and_collapse_repeats(text: str, expected: str) -> None:
    assert " ".join(tokens(text)) == expected


@pytest.mark.parametrize(
    ("token", "reading"),
    [
        ("thuwcj", "thuc"),
        ("chuwng", "chung"),
        ("kys", "ky"),
        ("ddawng", "dang"),
        ("chu7ng", "chung"),
        ("wa", "qua"),
        ("fai", "phai"),
    ],
)
def test_telex_variants_offer_the_intended_word(token: str, reading: str) -> None:
    assert reading in telex_variants(token)


def test_telex_variants_leave_plain_syllables_alone() -> None:
    assert telex_variants("khai") == []


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("How do I register my baby's birth?", "en"),
        ("Thank you so much!", "en"),
        ("Where can I get a criminal record certificate", "en"),
        ("làm giấy khai sinh ở đâu", "vi"),
        ("lam giay khai sinh o dau", "vi"),
        ("cam on nhe", "vi"),
        ("cho em hỏi thủ tục marriage với foreigner", "vi"),
        ("ok", "vi"),
        ("dky nhan cha cho be mat may ngay v", "vi"),
    ],
)
def test_detect_lang(text: str, lang: str) -> None:
    assert detect_lang(text) == lang


def test_vowel_shape_keeps_the_vowel_letters_and_drops_the_tones() -> None:
    assert vowel_shape("cưới") == "cươi"
    assert vowel_shape("Đồ") == "dô"


def test_token_shapes_align_with_tokens_and_skip_rewritten_words() -> None:
    text = "Vợ chồng ks, cưới https://x.vn nhé"
    assert len(token_shapes(text)) == len(tokens(text))
    assert token_shapes(text) == ("vơ", "chông", None, None, "cươi", "nhe")
    assert token_shapes("dang ky ket hon") == ()  # no mark typed: nothing to check
    # a tone typed on plain vowels keeps them: "Tày" (an ethnic group) is not "tây" (Western)
    assert token_shapes("người Tày") == ("ngươi", "tay")
    assert token_shapes("người tay") == ("ngươi", None)


def test_term_shapes_only_for_terms_written_with_diacritics() -> None:
    assert term_shapes("cuối giờ") == ("cuôi", "giơ")
    assert term_shapes("giấy ks") == ("giây", "?", "?")
    assert term_shapes("đo đạc") == (None, None)
    assert term_shapes("register marriage") is None


def test_sound_alikes_swap_one_onset_or_coda() -> None:
    assert "luc" in sound_alikes("lut")
    assert "sinh" in sound_alikes("xinh")
    assert "chung" in sound_alikes("trung")


def test_word_lists_are_written_plainly_and_normalised_like_messages() -> None:
    assert normalised_words("apply applied look will need hello") == {
        "aply",
        "aplied",
        "lok",
        "wil",
        "ned",
        "helo",
    }
    assert normalised_word("cần") == "can"
    assert normalised_phrases(["bao lâu", "ở đâu"]) == {("bao", "lau"), ("o", "dau")}


def test_a_list_word_that_is_not_one_token_is_refused() -> None:
    with pytest.raises(ValueError, match="not one token"):
        normalised_word("dk")  # teencode for "dang ky": no single message token equals it
    with pytest.raises(ValueError, match="empty"):
        normalised_phrases(["..."])


def test_english_words_for_the_speller_are_normalised() -> None:
    # The speller sees message tokens: "will" arrives as "wil" and must be known as such.
    assert {"wil", "ned", "helo", "aply", "stil"} <= COMMON_EN
    assert all(tokens(w) == (w,) for w in COMMON_EN)


def test_language_cue_words_are_raw_tokens() -> None:
    # `detect_lang` reads raw tokens (folded only): "need" stays "need" there.
    for words in (_LATIN_EN, _LATIN_VI):
        assert all(raw_tokens(w) == [w] for w in words)
    assert "need" in _LATIN_EN


def test_facet_phrases_are_normalised_like_messages() -> None:
    assert all(tokens(" ".join(key)) == key for key in facets._TABLE)
