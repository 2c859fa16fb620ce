"""Vietnamese text normalisation: the one place that decides what two spellings have in common.

Citizens write "Đăng ký", "dang ky", "đk", "ddawng kys" and "đăngg kýý" for the same words. Both the
knowledge base and every incoming message go through `tokens()`, so whatever is folded here is
folded on both sides. Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache

from bot.models import Lang

# The common recipe (NFD, drop combining marks) leaves "đ" alone, so "Đăng ký" would become
# "đang ky" on one side and "dang ky" on the other: map it explicitly.
_MARKS = re.compile("[\u0300-\u036f]")
_NON_WORD = re.compile(r"[^a-z0-9]+")
# Links and addresses carry no meaning for the topic and their fragments look like typos.
# Every match runs to the end of its run of non-spaces. The "x@y" and "x.com" forms are tried
# only where a run starts, `(?<!\S)`: tried at every position they rescanned the rest of the
# run from each of them, quadratic in a long word (16,000 letters took 1 s, 100,000 about
# 45 s; bench/hostile_text.py). A run that holds such a form from some position holds it from
# its start, so the matches are the same.
_LINKS = re.compile(r"(?:https?://|www\.)\S+|(?<!\S)\S+@\S+|(?<!\S)\S+\.(?:com|vn|ly|net|org)\S*")
# English possessives: "my baby's birth" reads as "my baby birth" for matching.
_POSSESSIVE = re.compile(r"(?<=[a-z])['’]s\b")
# Text every match of `_LINKS` holds one of, and of `_POSSESSIVE`: a message without any is
# not scanned (the two scans were a third of normalising a message, and most have no link).
_LINK_MARKS = ("://", "www.", "@", ".com", ".vn", ".ly", ".net", ".org")
_POSSESSIVE_MARKS = ("'", "’")
_REPEATS = re.compile(r"([a-z])\1+")
_VI_LETTERS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]")

# Whole-token teencode and abbreviations, on folded tokens. Only unambiguous ones in this domain:
# "kh" is far more often "không" than "kết hôn", and "tq" (Tuyên Quang / Trung Quốc) is left alone.
TEENCODE: dict[str, str] = {
    "k": "khong",
    "ko": "khong",
    "kh": "khong",
    "khg": "khong",
    "kg": "khong",
    "hok": "khong",
    "hem": "khong",
    "hk": "khong",
    "dc": "duoc",
    "dk": "dang ky",
    "dki": "dang ky",
    "dky": "dang ky",
    "dangky": "dang ky",
    "j": "gi",
    "ji": "gi",
    "z": "vay",
    "v": "vay",
    "zay": "vay",
    "dzay": "vay",
    "bn": "bao nhieu",
    "bnh": "bao nhieu",
    "bnhiu": "bao nhieu",
    "bnhieu": "bao nhieu",
    "baonhieu": "bao nhieu",
    "bnhieuu": "bao nhieu",
    "nhiu": "nhieu",
    "ntn": "nhu the nao",
    "lm": "lam",
    "ng": "nguoi",
    "ngta": "nguoi ta",
    "e": "em",
    "vs": "voi",
    "r": "roi",
    "oy": "roi",
    "ui": "roi",
    "bh": "bao gio",
    "bg": "bao gio",
    "bjo": "bao gio",
    "thui": "thoi",
    "hum": "hom",
    "lun": "luon",
    "trc": "truoc",
    "ks": "khai sinh",
    "gks": "giay khai sinh",
    "dkks": "dang ky khai sinh",
    "dkkh": "dang ky ket hon",
    "dkkt": "dang ky khai tu",
    "lltp": "ly lich tu phap",
    "ltp": "ly lich tu phap",
    "kq": "ket qua",
    "ktra": "kiem tra",
    "tgian": "thoi gian",
    "cmt": "chung minh thu",
    "gcn": "giay chung nhan",
    "tk": "tai khoan",
    "qtich": "quoc tich",
    "xn": "xac nhan",
    "hd": "hop dong",
    "hdong": "hop dong",
    "sdt": "so dien thoai",
    "dt": "dien thoai",
    "dthoai": "dien thoai",
    "hs": "ho so",
    "ttuc": "thu tuc",
    "tthc": "thu tuc hanh chinh",
    "nc": "nuoc",
    "nn": "nuoc ngoai",
    "vn": "viet nam",
    "vk": "vo",
    "ck": "chong",
    "bme": "bo me",
    "cty": "cong ty",
    "kd": "kinh doanh",
    "hkd": "ho kinh doanh",
    "gd": "gia dinh",
    "tg": "thoi gian",
    "dvc": "dich vu cong",
    "dvcqg": "dich vu cong quoc gia",
    "ubnd": "uy ban nhan dan",
    "ubx": "uy ban xa",
    "mn": "moi nguoi",
    "ah": "a",
    "ak": "a",
    "uk": "u",
    "cj": "chi",
    "mk": "minh",
    "bit": "biet",
    "pik": "biet",
    "wa": "qua",
    "ntnao": "nhu the nao",
    "ki": "ky",
    "li": "ly",
    "si": "sy",
    "qui": "quy",
}


def _strip_marks(ch: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFD", ch) if not unicodedata.combining(c))


# Every precomposed Latin letter (Vietnamese uses U+00C0-U+01B0 and U+1EA0-U+1EF9) mapped to
# its bare letter once, so folding a message is one NFC pass and one translate().
_FOLD = {
    cp: _strip_marks(chr(cp))
    for block in (range(0xC0, 0x250), range(0x1E00, 0x1F00))
    for cp in block
    if chr(cp).isalpha() and _strip_marks(chr(cp)) != chr(cp)
}
_FOLD.update({ord("đ"): "d", ord("Đ"): "d"})


def fold(text: str) -> str:
    """Lowercase and remove diacritics, mapping đ to d: "Đăng Ký" -> "dang ky"."""
    text = unicodedata.normalize("NFC", text).lower().translate(_FOLD)
    # A mark NFC could not compose onto its letter would otherwise survive: drop it.
    return _MARKS.sub("", text)


def _collapse(token: str) -> str:
    """ "congg" -> "cong", "vớii" -> "voi": doubled letters are typos in folded Vietnamese."""
    return _REPEATS.sub(r"\1", token)


@lru_cache(maxsize=65536)
def _normal_token(token: str) -> tuple[str, ...]:
    expanded = TEENCODE.get(token)
    if expanded is None:
        collapsed = _collapse(token)
        expanded = TEENCODE.get(collapsed, collapsed)
    return tuple(expanded.split())


def _unlinked(text: str) -> str:
    """`text` without its links and addresses, and its English possessives read as plain."""
    if any(mark in text for mark in _LINK_MARKS):
        text = _LINKS.sub(" ", text)
    if any(mark in text for mark in _POSSESSIVE_MARKS):
        text = _POSSESSIVE.sub("", text)
    return text


def raw_tokens(text: str) -> list[str]:
    """Folded tokens before teencode expansion: what the citizen literally typed."""
    folded = _unlinked(fold(text))
    return [t for t in _NON_WORD.split(folded) if t]


def tokens(text: str) -> tuple[str, ...]:
    """The normalised token sequence of `text`: folded, teencode expanded, repeats collapsed."""
    out: list[str] = []
    for tok in raw_tokens(text):
        if tok.isdigit():
            out.append(tok)
        else:
            out.extend(_normal_token(tok))
    return tuple(out)


# Function words that tell English from unaccented Vietnamese. `detect_lang` compares them with
# the message's raw tokens (folded, nothing else): "need" is "need" there, not "ned".
_LATIN_EN_WORDS = (
    "the a an is are am was were be been do does did how what where when which who whom why can "
    "could would should will shall may might must i my me we our you your he she his her it its "
    "they their them this that these those to of in on at for from with by about and or but if "
    "not no yes please thanks thank hello hi hey need want get got have has had much many long "
    "there here any some so just also as than then into out up down over more most very"
)
_LATIN_EN = frozenset(raw_tokens(_LATIN_EN_WORDS))
_LATIN_VI = frozenset(
    raw_tokens(
        "toi em anh chi ad cho hoi lam o dau khong duoc bao nhieu can gi thu tuc xin a nhe oi va "
        "cua la co the nao ma thi vay roi ban minh con me bo ong ba di ve nha nay giay to "
        "ngay lau sao muon giup nhu khi dang ky khai sinh ket hon chua nha nhan mat phai"
    )
)


def normalised_word(word: str) -> str:
    """The one token a message's `word` becomes ("apply" -> "aply", "cần" -> "can").

    Word lists compared with message tokens are written in plain words and pass through this
    at load time, so they hold what a message holds. A word that is not one token ("dk" is
    "dang ky") could never equal a message token: that is a mistake in the list.
    """
    toks = tokens(word)
    if len(toks) != 1:
        raise ValueError(f"{word!r} normalises to {toks!r}, not one token")
    return toks[0]


def normalised_words(words: str) -> frozenset[str]:
    """The normalised forms of whitespace-separated `words` (see `normalised_word`)."""
    return frozenset(normalised_word(w) for w in words.split())


def normalised_phrases(phrases: Iterable[str]) -> frozenset[tuple[str, ...]]:
    """Each phrase as the token sequence a message holds: "bao lâu" -> ("bao", "lau")."""
    out = frozenset(tokens(p) for p in phrases)
    if () in out:
        raise ValueError("an empty phrase can never match")
    return out


# Words of everyday English that must stay as typed (the speller would "correct" them). The
# speller sees normalised tokens: "will" is "wil" there.
COMMON_EN = normalised_words(
    _LATIN_EN_WORDS
    + " him hers ours yours mine its let lets go going gone went come came make made take took "
    "give gave know knew see saw say said tell told ask asked use used try tried work live "
    "lived still already yet ago again back now today tomorrow yesterday week month year day "
    "time thing way man woman child son daughter wife husband father mother parents family "
    "friend home house city country office help apply get"
)


# Tone marks (grave, acute, tilde, hook above, dot below). The other marks (circumflex, breve,
# horn) change the vowel itself: "cưới" (to marry) and "cuối" (the end) differ by them.
_TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
_SHAPED_VOWELS = frozenset("âăêôơư")
_ACCENTED_NON_WORD = re.compile(r"[^a-z0-9\u00c0-\u024f\u1e00-\u1eff]+")
# The marks that change a vowel itself (circumflex, breve, horn), as NFD writes them.
_SHAPE_MARKS = frozenset("\u0302\u0306\u031b")


def _letters(keep: Callable[[set[str]], bool]) -> re.Pattern[str]:
    """A class of the precomposed Latin letters whose NFD marks `keep` accepts."""
    return re.compile(
        "["
        + "".join(
            chr(cp)
            for block in (range(0xC0, 0x250), range(0x1E00, 0x1F00))
            for cp in block
            if keep(set(unicodedata.normalize("NFD", chr(cp))))
        )
        + "]"
    )


# Every letter carrying a tone mark and no circumflex, breve or horn ("à", "é", "ọ"): a word
# typed with one was typed with its marks, so a circumflex it lacks was not left out ("Tày" is
# not "tây").
_TONE_MARKED = _letters(lambda marks: bool(marks & _TONES) and not marks & _SHAPE_MARKS)
# Every letter carrying either kind of mark ("à", "â", "ấ", "ư"): a text holding none has no
# shape to check.
_MARKED = _letters(lambda marks: bool(marks & (_TONES | _SHAPE_MARKS)))


def vowel_shape(word: str) -> str:
    """A word with its tone marks dropped but its vowel letters kept: "cưới" -> "cươi".

    "đ" becomes "d": a missing stroke is a typing slip, not another word.
    """
    decomposed = unicodedata.normalize("NFD", word.lower())
    kept = "".join(c for c in decomposed if c not in _TONES)
    return unicodedata.normalize("NFC", kept).replace("đ", "d")


def token_shapes(text: str) -> tuple[str | None, ...]:
    """Per token of `tokens(text)`, the vowel shape the citizen typed, where it tells words apart.

    Folding makes "cưới" (marry) and "cuối" (end), "đồ đạc" (belongings) and "đo đạc" (surveying)
    one word. A token typed with a circumflex, breve or horn keeps its shape here so that a key
    term written with other vowels does not match it; so does a token typed with a tone mark on
    plain vowels ("Tày", an ethnic group, is not "tây", Western). None where the citizen typed no
    mark, where the token was rewritten (teencode, repeated letters) or where alignment is
    unsure: no check is made there.
    """
    lowered = unicodedata.normalize("NFC", text).lower()
    if not _MARKED.search(lowered):
        return ()  # nothing to check: the caller treats a short answer as "no shapes"
    lowered = _unlinked(lowered)
    out: list[str | None] = []
    for word in _ACCENTED_NON_WORD.split(lowered):
        if word:
            out.extend(_word_shapes(word))
    return tuple(out)


@lru_cache(maxsize=65536)
def _word_shapes(word: str) -> tuple[str | None, ...]:
    pieces = [t for t in _NON_WORD.split(fold(word)) if t]
    if len(pieces) != 1 or pieces[0].isdigit():
        return (None,) * len(pieces)
    normal = _normal_token(pieces[0])
    if normal != (pieces[0],):
        return (None,) * len(normal)
    shape = vowel_shape(word)
    if any(c in _SHAPED_VOWELS for c in shape):
        return (shape,)
    # Plain vowels typed with a tone mark: the citizen types marks, so none left out here.
    return (shape,) if _TONE_MARKED.search(word) else (None,)


def term_shapes(term: str) -> tuple[str | None, ...] | None:
    """Per token of a key term written with diacritics, its vowel shape as `token_shapes` gives
    it (None for plain vowels, so a correctly typed message compares equal), or "?" for a token
    rewritten from teencode; None for a term written without any diacritics (an English word or
    an abbreviation), which is never checked."""
    if not _VI_LETTERS.search(term.lower()):
        return None
    words = [w for w in _ACCENTED_NON_WORD.split(unicodedata.normalize("NFC", term).lower()) if w]
    shapes: list[str | None] = []
    for word in words:
        shapes.extend(_term_word_shapes(word))
    return tuple(shapes)


# A word's shapes do not depend on the rest of the term: the catalogue's 11,700 distinct term
# wordings hold a few thousand words, and reading each word once took their `term_shapes` from
# 0.19 to 0.04 s of CPU (a fresh process each, this 2-vCPU machine at load average 1.7;
# 2026-12-07). Terms come from the knowledge base only.
@lru_cache(maxsize=65536)
def _term_word_shapes(word: str) -> tuple[str | None, ...]:
    """`term_shapes` of one lower-case NFC word."""
    pieces = [t for t in _NON_WORD.split(fold(word)) if t]
    normal = _normal_token(pieces[0]) if len(pieces) == 1 else ()
    if len(pieces) != 1 or normal != (pieces[0],):
        return tuple("?" for _ in (normal or pieces))
    shape = vowel_shape(word)
    return (shape if any(c in _SHAPED_VOWELS for c in shape) else None,)


# Sounds that many speakers do not tell apart, so they write one for the other: "trích lụt"
# (lục), "khai xinh" (sinh), "trứng thực" (chứng), "nàm" (làm), "dám hộ" (giám).
_ONSET_SWAPS: tuple[tuple[str, str], ...] = (
    *(("s", "x"), ("x", "s"), ("ch", "tr"), ("tr", "ch")),
    *(("l", "n"), ("n", "l"), ("d", "gi"), ("gi", "d")),
)
_CODA_SWAPS: tuple[tuple[str, str], ...] = (
    *(("t", "c"), ("c", "t"), ("t", "ch"), ("ch", "t"), ("n", "ng"), ("ng", "n")),
)


def sound_alikes(token: str) -> list[str]:
    """Spellings of a folded syllable with one onset or coda swapped for one that sounds alike."""
    out: list[str] = []
    for old, new in _ONSET_SWAPS:
        if token.startswith(old) and len(token) > len(old):
            out.append(new + token[len(old) :])
    for old, new in _CODA_SWAPS:
        if token.endswith(old) and len(token) > len(old) + 1:
            out.append(token[: -len(old)] + new)
    return out


def telex_variants(token: str) -> list[str]:
    """Readings of a token typed with stray Telex or VNI keystrokes, best guess first.

    "thuwcj" -> "thuc", "kys" -> "ky", "chu7ng" -> "chung". Vietnamese syllables never contain
    "w" or a digit and never end in s/f/r/x/j after a vowel, so these edits only touch tokens
    that cannot be Vietnamese as typed; the caller keeps a variant only if it is a known word.
    """
    variants: list[str] = []
    base = token
    if any(ch.isdigit() for ch in base) and any(ch.isalpha() for ch in base):
        base = "".join(ch for ch in base if not ch.isdigit())
        variants.append(base)
    if "w" in base:
        if base.startswith("w"):
            variants.append("qu" + base[1:].replace("w", ""))
        base = base.replace("w", "")
        variants.append(base)
    if base[-1:] in ("s", "f", "r", "x", "j") and len(base) > 2:
        variants.append(base[:-1])
    if base.startswith("f"):
        variants.append("ph" + base[1:])
    if base.startswith("z"):
        variants.append("d" + base[1:])
        variants.append("gi" + base[1:])
    return [_collapse(v) for v in variants if v and v != token]


_SYLLABLE = re.compile(
    r"^(?:ngh|ng|nh|ch|gh|gi|kh|ph|qu|th|tr|[bcdghklmnprstvx])?"
    r"(?:[aeiouy]{1,3})(?:ch|ng|nh|[cmnpt])?$"
)


def is_syllable(token: str) -> bool:
    """Whether a folded token has the shape of a Vietnamese syllable ("tiet" yes, "trag" no)."""
    return bool(_SYLLABLE.match(token))


def detect_lang(text: str) -> Lang:
    """ "vi" unless the message reads as English: Vietnamese letters settle it at once."""
    if _VI_LETTERS.search(text.lower()):
        return "vi"
    words = raw_tokens(text)
    en = sum(1 for w in words if w in _LATIN_EN)
    # Teencode ("dky", "ko", "v") is Vietnamese evidence too: "dky nhan cha cho be mat may ngay v".
    vi = sum(1 for w in words if w in _LATIN_VI or (w in TEENCODE and w not in _LATIN_EN))
    return "en" if en > vi else "vi"
