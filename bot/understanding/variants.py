"""Variants of a knowledge-base phrasing as citizens actually type it (issue 9).

The bot learns which topic a message means from each topic's example phrasings. Staff write
those examples neatly ("Đăng ký khai sinh cho con cần gì?"); citizens write "dang ky khai sinh
cho con can j", "đk ks cho con cần gì", "ddawng kys khai sinh", "dang ky khai snh". `variants`
rewrites one phrasing the ways citizens do, so the examples a model learns from look like the
messages it will read. Pure functions, no I/O, deterministic in every process.

Which variants teach a model that reads `bot.text.tokens()` something new: dropping the
diacritics and the punctuation, lower case, doubled letters and the teencode the normaliser
already expands (`TEENCODE`) fold back to the original tokens (the tests document it); Telex
and VNI slips, the other typos, teencode it does not know ("khum", "mik", "cccd") and the
English misspellings do not, and only a model that learns them can use them.

Kinds of variant, each rendered from the words of the phrasing (lower case, punctuation
dropped except a number's own, digits never changed):
- no diacritics ("đ" -> "d");
- teencode and chat abbreviations of common words ("không" -> "ko", "được" -> "dc"), the
  forms the normaliser knows first, some it does not later; domain initialisms ("thủ tục" ->
  "tt") only when no other run of words in the phrasing has the same initials;
- a Telex or VNI slip: a word typed with its keystrokes left unconverted ("việt" -> "vieetj",
  "vie65t"), or the whole phrasing typed with the input method off;
- one or two typos on a content word of three letters or more: a dropped, doubled or
  swapped letter, or a neighbouring key on a QWERTY keyboard;
- English phrasings (`bot.text.detect_lang`): lower case, an article dropped, common
  misspellings and chat forms ("certifcate", "pls"), typos; never Vietnamese teencode.

Cost: linear in the phrasing's length; figures in bench/variants.py.
"""

from __future__ import annotations

import math
import random
import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.text import detect_lang, fold, is_syllable, tokens

# Vietnamese teencode and chat forms, most common first: the first form is the one a variant
# uses when it abbreviates "the usual way". Keys are lower-case words with their diacritics,
# so "anh" (brother, you) is abbreviated but "ảnh" (photo) is not. A form that is empty drops
# the word ("ạ").
_TEENCODE_FORMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("không", ("ko", "k", "hok", "khum", "kh", "hông", "khg")),
    ("được", ("đc", "dc", "đươc")),
    ("gì", ("j", "gi", "ji", "gj")),
    ("vợ", ("vk",)),
    ("chồng", ("ck",)),
    ("em", ("e",)),
    ("anh", ("a",)),
    ("chị", ("c", "cj", "chj")),
    ("anh chị", ("a/c", "ac")),
    ("rồi", ("r", "rùi", "oy")),
    ("biết", ("bít", "bit", "bik")),
    ("với", ("vs", "vớj")),
    ("như thế nào", ("ntn", "ntnao", "như thế lào")),
    ("bao nhiêu", ("bn", "bnhiu", "bao nhiu", "bnhieu")),
    ("mọi người", ("mn", "mng", "mọi ng")),
    ("người", ("ng",)),
    ("giấy", ("giay",)),
    ("thủ tục", ("ttuc", "tt")),
    ("mình", ("mk", "mik", "mìk")),
    ("vậy", ("v", "z", "zậy", "dzậy")),
    ("làm", ("lm",)),
    ("đăng ký", ("đk", "đky", "dki", "đăng kí")),
    ("đăng kí", ("đk", "đky")),
    ("khai sinh", ("ks",)),
    ("giấy khai sinh", ("gks", "giấy ks")),
    ("đăng ký khai sinh", ("đkks", "đk khai sinh", "đk ks")),
    ("đăng ký kết hôn", ("đkkh", "đk kết hôn")),
    ("lý lịch tư pháp", ("lltp", "ltp")),
    ("bao giờ", ("bh", "bg", "bjo", "bao h")),
    ("bây giờ", ("bây h", "bi h")),
    ("trước", ("trc",)),
    ("thời gian", ("tgian", "tg")),
    ("hồ sơ", ("hs",)),
    ("số điện thoại", ("sđt", "sdt")),
    ("điện thoại", ("đt", "dt")),
    ("chứng minh thư", ("cmt",)),
    ("chứng minh nhân dân", ("cmnd",)),
    ("căn cước công dân", ("cccd",)),
    ("ủy ban nhân dân", ("ubnd",)),
    ("uỷ ban nhân dân", ("ubnd",)),
    ("việt nam", ("vn",)),
    ("nước ngoài", ("nn", "nc ngoài")),
    ("nước", ("nc",)),
    ("nhiều", ("nhiu",)),
    ("luôn", ("lun",)),
    ("thôi", ("thui",)),
    ("hôm nay", ("hnay", "hum nay")),
    ("kiểm tra", ("ktra",)),
    ("kết quả", ("kq",)),
    ("quốc tịch", ("qtich",)),
    ("xác nhận", ("xn",)),
    ("hợp đồng", ("hđ", "hd", "hdong")),
    ("gia đình", ("gđ", "gd")),
    ("bố mẹ", ("bme", "bm")),
    ("công ty", ("cty",)),
    ("dịch vụ công", ("dvc",)),
    ("tài khoản", ("tk",)),
    ("quá", ("wá", "wa")),
    ("muốn", ("mún",)),
    ("tôi", ("tui",)),
    ("giúp", ("júp",)),
    ("yêu cầu", ("yc",)),
    ("nhé", ("nha", "nhá")),
    ("vào", ("vô", "zô")),
    ("cảm ơn", ("cmon", "camon", "tks", "thanks")),
    ("cám ơn", ("cmon", "camon", "tks", "thanks")),
    ("ạ", ("",)),
)
# Keys also abbreviated where the phrasing was written without diacritics: their plain
# spelling names nothing else ("khong"), unlike "vo" (vợ, vở, vỡ, vô) or "anh" (anh, ảnh).
_PLAIN_KEYS = frozenset(
    fold(key)
    for key in (
        "không",
        "được",
        "gì",
        "biết",
        "nhiều",
        "người",
        "làm",
        "trước",
        "giúp",
        "luôn",
        "như thế nào",
        "bao nhiêu",
        "mọi người",
        "thủ tục",
        "đăng ký",
        "khai sinh",
        "giấy khai sinh",
        "đăng ký khai sinh",
        "đăng ký kết hôn",
        "lý lịch tư pháp",
        "bao giờ",
        "thời gian",
        "hồ sơ",
        "số điện thoại",
        "điện thoại",
        "chứng minh thư",
        "chứng minh nhân dân",
        "căn cước công dân",
        "ủy ban nhân dân",
        "việt nam",
        "nước ngoài",
        "hôm nay",
        "kiểm tra",
        "kết quả",
        "quốc tịch",
        "xác nhận",
        "hợp đồng",
        "gia đình",
        "công ty",
        "dịch vụ công",
        "tài khoản",
        "yêu cầu",
        "cảm ơn",
    )
)
# Where a key is not abbreviated: "tiếng Anh" (English), "nước Anh" (England), "em bé" (baby).
_NOT_AFTER: dict[str, frozenset[str]] = {"anh": frozenset(("tiếng", "nước"))}
_NOT_BEFORE: dict[str, frozenset[str]] = {"em": frozenset(("bé",))}

# English misspellings and chat forms citizens type, most common first. No Vietnamese
# teencode is ever applied to an English phrasing.
_EN_FORMS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("certificate", ("certifcate", "cerificate", "certificat", "sertificate")),
    ("certificates", ("certifcates", "cerificates")),
    ("marriage", ("marrige", "mariage", "marraige")),
    ("married", ("maried",)),
    ("registration", ("registation", "registraion", "regisration")),
    ("register", ("regester", "regiser")),
    ("registered", ("registerd",)),
    ("birth", ("brith",)),
    ("license", ("licence", "lisence")),
    ("licence", ("license",)),
    ("document", ("documnet", "docment")),
    ("documents", ("documnets", "docments", "documets")),
    ("required", ("requied", "requird")),
    ("necessary", ("neccessary", "necesary")),
    ("foreigner", ("foriegner", "foreiner")),
    ("foreign", ("foriegn", "forign")),
    ("citizenship", ("citizenshp", "citizenchip")),
    ("nationality", ("nationalty", "nationallity")),
    ("authentication", ("authentification", "autentication")),
    ("certified", ("certifed",)),
    ("receive", ("recieve",)),
    ("address", ("adress",)),
    ("apply", ("aply",)),
    ("application", ("aplication", "applicaton")),
    ("divorce", ("divorse",)),
    ("guardian", ("gaurdian", "guardain")),
    ("guardianship", ("gaurdianship",)),
    ("death", ("deth",)),
    ("criminal", ("criminel", "crimnal")),
    ("procedure", ("proceedure", "procedur")),
    ("business", ("buisness", "bussiness")),
    ("separate", ("seperate",)),
    ("which", ("wich",)),
    ("their", ("thier",)),
    ("because", ("becuase", "bc")),
    ("please", ("pls", "plz")),
    ("you", ("u",)),
    ("your", ("ur",)),
    ("thanks", ("thx",)),
    ("office", ("ofice",)),
    ("daughter", ("daugther",)),
    ("translation", ("translaton",)),
    ("notarized", ("notorized",)),
    ("notary", ("notory",)),
    ("lawyer", ("lawer",)),
    ("information", ("infomation", "imformation")),
    ("inheritance", ("inheritence",)),
    ("paternity", ("paternaty",)),
    ("vietnamese", ("vietnamse", "vietnames")),
    ("passport", ("pasport",)),
    ("residence", ("residance",)),
    ("embassy", ("embasy",)),
    ("newborn", ("new born",)),
)
_ARTICLES = frozenset(("a", "an", "the"))

# Words a typo is not put on: they are short and typed by reflex, and a typo there teaches
# nothing about the topic.
_VI_FUNCTION = frozenset(
    fold(w)
    for w in (
        "cho của và thì là có không được các những này với để ở khi mà nào gì thế ạ ơi nhé "
        "rồi vậy hay hoặc bị đã sẽ đang"
    ).split()
)
_EN_FUNCTION = frozenset(
    "the and for are was were you your can how what where when which who why with from that "
    "this have has had does did not but any our their there will would should could may".split()
)

# A QWERTY keyboard's rows and their stagger: a key's neighbours are the keys beside it and
# the ones touching it in the rows above and below.
_ROWS = (("qwertyuiop", 0.0), ("asdfghjkl", 0.25), ("zxcvbnm", 0.75))
_KEY_AT = {ch: (r, i + off) for r, (row, off) in enumerate(_ROWS) for i, ch in enumerate(row)}
_NEIGHBOURS: dict[str, str] = {
    a: "".join(
        b
        for b, (rb, xb) in _KEY_AT.items()
        if b != a and ((rb == ra and abs(xb - xa) <= 1) or (abs(rb - ra) == 1 and abs(xb - xa) < 1))
    )
    for a, (ra, xa) in _KEY_AT.items()
}

# Telex and VNI keystrokes of each letter: (the letter's keys, its tone key). Telex types a
# circumflex by doubling the vowel, a breve or horn with "w", đ as "dd", the tone last;
# VNI types them as digits after the letter: 6 circumflex, 8 breve, 7 horn, 9 for đ, tones
# 1 sắc, 2 huyền, 3 hỏi, 4 ngã, 5 nặng.
_TELEX_TONES = {"\u0301": "s", "\u0300": "f", "\u0309": "r", "\u0303": "x", "\u0323": "j"}
_VNI_TONES = {"\u0301": "1", "\u0300": "2", "\u0309": "3", "\u0303": "4", "\u0323": "5"}
_VNI_SHAPES = {"\u0302": "6", "\u0306": "8", "\u031b": "7"}


def _keystrokes(ch: str) -> tuple[tuple[str, str], tuple[str, str]] | None:
    """(Telex keys, Telex tone), (VNI keys, VNI tone) of one lower-case letter; None if plain."""
    if ch == "đ":
        return ("dd", ""), ("d9", "")
    decomposed = unicodedata.normalize("NFD", ch)
    base, marks = decomposed[0], decomposed[1:]
    telex, vni, telex_tone, vni_tone = base, base, "", ""
    for mark in marks:
        if mark == "\u0302":
            telex += base
        elif mark in ("\u0306", "\u031b"):
            telex += "w"
        elif mark in _TELEX_TONES and base in "aeiouy":
            telex_tone, vni_tone = _TELEX_TONES[mark], _VNI_TONES[mark]
            continue
        else:
            return None
        vni += _VNI_SHAPES[mark]
    return (telex, telex_tone), (vni, vni_tone)


_KEYS = {
    ch: keys
    for cp in (*range(0xC0, 0x250), *range(0x1EA0, 0x1F00))
    if (ch := chr(cp)).islower() and (keys := _keystrokes(ch)) is not None
}


@lru_cache(maxsize=65536)
def _telex(word: str) -> str:
    """The word typed in Telex with the input method off: "được" -> "dduwowcj"."""
    out: list[str] = []
    tone = ""
    for ch in word:
        keys = _KEYS.get(ch)
        if keys is None:
            out.append(ch)
        else:
            out.append(keys[0][0])
            tone = keys[0][1] or tone
    return "".join(out) + tone


@lru_cache(maxsize=65536)
def _vni(word: str) -> str:
    """The word typed in VNI with the input method off: "việt" -> "vie65t"."""
    out: list[str] = []
    for ch in word:
        keys = _KEYS.get(ch)
        out.append(ch if keys is None else keys[1][0] + keys[1][1])
    return "".join(out)


@lru_cache(maxsize=65536)
def _fold_word(word: str) -> str:
    return fold(word)


@dataclass(frozen=True, slots=True)
class _Abbreviation:
    """One key of a table and its forms, as written and with diacritics dropped."""

    key: tuple[str, ...]
    forms: tuple[str, ...]
    folded: tuple[str, ...]
    # Indices of the forms `bot.text.tokens()` does not fold back to the key's tokens.
    unknown: tuple[int, ...]
    # Indices of the forms that are the initials of the key's words ("tt" for "thủ tục").
    initialisms: tuple[int, ...]


def _abbreviation(key: str, forms: tuple[str, ...]) -> _Abbreviation:
    words = tuple(key.split())
    initials = "".join(fold(w)[0] for w in words)
    folded = tuple(fold(f) for f in forms)
    return _Abbreviation(
        key=words,
        forms=forms,
        folded=folded,
        unknown=tuple(i for i, f in enumerate(forms) if tokens(f) != tokens(key)),
        initialisms=tuple(i for i, f in enumerate(folded) if len(words) > 1 and f == initials),
    )


def _table(
    entries: Iterable[tuple[str, tuple[str, ...]]], plain: frozenset[str]
) -> dict[str, tuple[_Abbreviation, ...]]:
    """Abbreviations by their key's first word, longest key first; plain keys also by their
    spelling without diacritics."""
    by_first: dict[str, list[_Abbreviation]] = {}
    for key, forms in entries:
        abbreviation = _abbreviation(key, forms)
        by_first.setdefault(abbreviation.key[0], []).append(abbreviation)
        if fold(key) in plain and fold(key) != key:
            # Written without diacritics, it is abbreviated without them too.
            plain_forms = tuple(dict.fromkeys(f for f in abbreviation.folded if f != fold(key)))
            unaccented = _abbreviation(fold(key), plain_forms)
            by_first.setdefault(unaccented.key[0], []).append(unaccented)
    return {
        first: tuple(sorted(group, key=lambda a: -len(a.key))) for first, group in by_first.items()
    }


_VI_TABLE = _table(_TEENCODE_FORMS, _PLAIN_KEYS)
_EN_TABLE = _table(_EN_FORMS, frozenset())

_TELEX_ALL = -1  # a recipe's `slips` value: every word with marks (the input method was off)


@dataclass(frozen=True, slots=True)
class _Recipe:
    """How one variant is rendered from the words of a phrasing."""

    plain: bool = False  # diacritics dropped
    abbreviate: str = ""  # "" none, "top" the first form each time, "any", "unknown" first
    slips: int = 0  # words typed in Telex (`_TELEX_ALL`: all of them)
    vni: int = 0  # words typed in VNI
    typos: int = 0
    drop_article: bool = False
    question: bool = False  # keep the question mark the phrasing ends with


# The first recipes give the most useful variants, so a small `limit` gets those; random
# recipes fill the rest.
_VI_RECIPES = (
    _Recipe(plain=True),
    _Recipe(plain=True, abbreviate="top"),
    _Recipe(slips=1),
    _Recipe(plain=True, typos=1),
    _Recipe(abbreviate="any", question=True),
    _Recipe(plain=True, abbreviate="unknown", typos=1),
    _Recipe(vni=1),
    _Recipe(slips=_TELEX_ALL),
)
_EN_RECIPES = (
    _Recipe(),
    _Recipe(drop_article=True),
    _Recipe(abbreviate="top"),
    _Recipe(typos=1),
    _Recipe(drop_article=True, abbreviate="any", typos=1),
)


def _random_recipe(rng: random.Random, english: bool) -> _Recipe:
    if english:
        return _Recipe(
            abbreviate="any" if rng.random() < 0.7 else "",
            typos=rng.choice((0, 1, 1, 2)),
            drop_article=rng.random() < 0.5,
        )
    plain = rng.random() < 0.6
    return _Recipe(
        plain=plain,
        abbreviate=rng.choice(("", "any", "any", "unknown")),
        slips=0 if plain or rng.random() < 0.7 else 1,
        typos=rng.choice((0, 1, 1, 2)),
        question=rng.random() < 0.3,
    )


@dataclass(frozen=True, slots=True)
class _Match:
    start: int
    end: int
    abbreviation: _Abbreviation
    forms: tuple[int, ...]  # the forms allowed here


class _Phrasing:
    """The words of one phrasing and what can be done to each, computed once."""

    def __init__(self, phrasing: str) -> None:
        self.words = _words(phrasing)
        self.english = bool(self.words) and detect_lang(phrasing) == "en"
        words = self.words
        self.plain = [_fold_word(w) for w in words]
        self.question = phrasing.rstrip().endswith("?")
        letters = [w.isalpha() for w in words]
        function = _EN_FUNCTION if self.english else _VI_FUNCTION
        self.content = [
            i
            for i, w in enumerate(words)
            if letters[i] and len(w) >= 3 and self.plain[i] not in function
        ]
        self.marked = [i for i, w in enumerate(words) if letters[i] and w != self.plain[i]]
        self.articles = [i for i, w in enumerate(words) if w in _ARTICLES] if self.english else []
        self._initials: dict[int, dict[str, int]] = {}
        self.matches = self._matches(_EN_TABLE if self.english else _VI_TABLE)

    def _matches(self, table: dict[str, tuple[_Abbreviation, ...]]) -> list[_Match]:
        words = self.words
        found: list[_Match] = []
        i = 0
        while i < len(words):
            for abbreviation in table.get(words[i], ()):
                end = i + len(abbreviation.key)
                if tuple(words[i:end]) != abbreviation.key or not self._free(i, end):
                    continue
                forms = self._forms(abbreviation, i, end)
                if forms:
                    found.append(_Match(i, end, abbreviation, forms))
                    i = end - 1
                    break
            i += 1
        return found

    def _free(self, start: int, end: int) -> bool:
        """Whether the words start:end may be abbreviated in their context."""
        words = self.words
        if start > 0 and words[start - 1] in _NOT_AFTER.get(words[start], ()):
            return False
        return not (end < len(words) and words[end] in _NOT_BEFORE.get(words[end - 1], ()))

    def _forms(self, abbreviation: _Abbreviation, start: int, end: int) -> tuple[int, ...]:
        """The forms usable here: an initialism only when no other run of as many words in
        the phrasing has the same initials, so that it can be read one way only."""
        forms = range(len(abbreviation.forms))
        if not abbreviation.initialisms:
            return tuple(forms)
        initials = abbreviation.folded[abbreviation.initialisms[0]]
        clash = self._initials_count(end - start).get(initials, 0) > 1
        return tuple(f for f in forms if not (clash and f in abbreviation.initialisms))

    def _initials_count(self, size: int) -> dict[str, int]:
        """How many runs of `size` words of the phrasing have each string of initials."""
        counts = self._initials.get(size)
        if counts is None:
            counts = {}
            firsts = [p[:1] for p in self.plain]
            for j in range(len(firsts) - size + 1):
                run = "".join(firsts[j : j + size])
                counts[run] = counts.get(run, 0) + 1
            self._initials[size] = counts
        return counts

    def render(self, recipe: _Recipe, rng: random.Random) -> str:
        out = list(self.plain if recipe.plain else self.words)
        touched: set[int] = set()
        if recipe.abbreviate:
            self._abbreviate(out, touched, recipe, rng)
        if recipe.drop_article and self.articles:
            i = self.articles[0] if recipe.abbreviate in ("", "top") else rng.choice(self.articles)
            out[i] = ""
            touched.add(i)
        for count, spell in ((recipe.slips, _telex), (recipe.vni, _vni)):
            if count and not recipe.plain:
                spots = [i for i in self.marked if i not in touched]
                if count != _TELEX_ALL:
                    spots = rng.sample(spots, min(count, len(spots)))
                for i in spots:
                    out[i] = spell(self.words[i])
                    touched.add(i)
        if recipe.typos:
            spots = [i for i in self.content if i not in touched]
            for i in rng.sample(spots, min(recipe.typos, len(spots))):
                out[i] = _typo(out[i], rng, not self.english)
        text = " ".join([w for w in out if w])
        return text + "?" if text and recipe.question and self.question else text

    def _abbreviate(
        self, out: list[str], touched: set[int], recipe: _Recipe, rng: random.Random
    ) -> None:
        """Abbreviate every match ("top"), or each with some chance but at least one."""
        if not self.matches:
            return
        chosen = self.matches
        if recipe.abbreviate != "top":
            chosen = [m for m in self.matches if rng.random() < 0.7] or [rng.choice(self.matches)]
        for m in chosen:
            if recipe.abbreviate == "top":
                f = m.forms[0]
            elif recipe.abbreviate == "unknown":
                unknown = [f for f in m.forms if f in m.abbreviation.unknown]
                f = rng.choice(unknown or m.forms)
            else:
                f = rng.choice(m.forms)
            forms = m.abbreviation.folded if recipe.plain else m.abbreviation.forms
            out[m.start] = forms[f]
            for i in range(m.start, m.end):
                touched.add(i)
                if i > m.start:
                    out[i] = ""


def _words(phrasing: str) -> list[str]:
    """Lower-case words; a chunk holding a digit stays whole ("12/2024"), without the
    punctuation around it; apostrophes are dropped ("don't" -> "dont")."""
    text = unicodedata.normalize("NFC", phrasing).lower().replace("'", "").replace("’", "")
    out: list[str] = []
    for chunk in text.split():
        if chunk.isalpha():  # most words: nothing to cut off
            out.append(chunk)
        elif any(ch.isdigit() for ch in chunk):
            start, end = 0, len(chunk)
            while not chunk[start].isalnum():
                start += 1
            while not chunk[end - 1].isalnum():
                end -= 1
            out.append(chunk[start:end])
        else:
            out.extend(_WORD.findall(chunk))
    return out


_WORD = re.compile(r"[^\W\d_]+")


def _typo(word: str, rng: random.Random, vietnamese: bool) -> str:
    """One slip of the fingers on a word of three letters or more, or the word itself when
    none was found.

    In Vietnamese most short strings of letters are some word: "đâu" (where) with "u" hit as
    its neighbour "y" is "đây" (here). A typo must not read as another word, so only a doubled
    letter (folded back by the normaliser) or a result that is no syllable is kept.
    """
    n = len(word)
    for _ in range(6):
        kind = rng.randrange(4)
        if kind == 0:  # a dropped letter (rarely the first: that one is looked at)
            i = rng.randrange(1, n)
            typo = word[:i] + word[i + 1 :]
        elif kind == 1:  # a doubled letter
            i = rng.randrange(n)
            typo = word[: i + 1] + word[i:]
        elif kind == 2:  # two letters swapped
            i = rng.randrange(n - 1)
            typo = word[:i] + word[i + 1] + word[i] + word[i + 2 :]
        else:  # a neighbouring key
            spots = [i for i, ch in enumerate(word) if ch in _NEIGHBOURS]
            if not spots:
                continue
            i = rng.choice(spots)
            typo = word[:i] + rng.choice(_NEIGHBOURS[word[i]]) + word[i + 1 :]
        if typo == word:
            continue
        if kind == 1 or not vietnamese or not is_syllable(_fold_word(typo)):
            return typo
    return word


def variants(phrasing: str, limit: int = 8) -> tuple[str, ...]:
    """Realistic rewritings of `phrasing` as citizens type it; distinct, never the phrasing
    itself, at most `limit`, deterministic (the same input gives the same output in every
    process: seed any randomness from zlib.crc32 of the text, never Python's hash())."""
    if limit <= 0:
        return ()
    parsed = _Phrasing(phrasing)
    if not parsed.words:
        return ()
    rng = random.Random(zlib.crc32(phrasing.encode("utf-8", "surrogatepass")))
    seen = {phrasing, " ".join(phrasing.split())}
    out: list[str] = []
    fixed: Sequence[_Recipe] = _EN_RECIPES if parsed.english else _VI_RECIPES
    # Random recipes fill up to `limit`; a short phrasing has few distinct variants, so the
    # number of tries is bounded.
    for attempt in range(len(fixed) + 3 * limit):
        recipe = fixed[attempt] if attempt < len(fixed) else _random_recipe(rng, parsed.english)
        text = parsed.render(recipe, rng)
        if text and text not in seen:
            seen.add(text)
            out.append(text)
            if len(out) == limit:
                break
    return tuple(out)


def expand(phrasings: Iterable[str], per_phrasing: float) -> list[str]:
    """The phrasings, then the variants of each, in order, each text once: a variant equal to
    a phrasing or to an earlier variant is not repeated.

    `per_phrasing` may be fractional: every phrasing gets its whole part, and a share of them
    equal to its fraction one more (`_extra`, chosen by the phrasing's text, so a phrasing
    added elsewhere moves only the ones near the line). A whole number per phrasing made the
    classifier's examples fall by a third at once when the knowledge base passed a size
    (`Matcher`'s example budget: two variants each up to 6,666 phrasings, one from 6,667)."""
    originals = list(phrasings)
    whole = max(0, math.floor(per_phrasing))
    extra = per_phrasing - whole
    out: list[str] = []
    seen: set[str] = set()
    made = (v for p in originals for v in variants(p, whole + _extra(p, extra)))
    for text in (*originals, *made):
        if text not in seen:
            seen.add(text)
            out.append(text)
    return out


def _extra(phrasing: str, share: float) -> int:
    """1 for about `share` of all phrasings (the same ones whatever else the knowledge base
    holds), else 0."""
    if share <= 0:
        return 0
    key = zlib.crc32(b"extra variant\0" + phrasing.encode("utf-8", "surrogatepass"))
    return int(key < share * 2**32)
