"""A short reply that picks one of the options just offered by its place.

Zalo lists options as numbered lines and a bare "2" picks the second (`Dialog.numbered_choice`);
citizens also write the place out: "cái thứ hai", "số 2 ạ", "mục đầu tiên", "cái sau", "the
second one", "the last". Pure: folded words in, a place out.

Only a reply made of a place and the words around it counts: "ba mẹ em" holds "ba" (three, and
father), "thứ hai tuần sau" is a Monday, "2 ngày" a duration. A bare number word needs a word
that marks a place ("cái", "thứ", "số", "mục"...): "hai" alone may be "cả hai".
"""

from __future__ import annotations

from bot.text import raw_tokens

LAST = -1  # the last topic offered ("cái sau", "the latter")

# Folded Vietnamese: "thứ" is "thu", "số" "so", "mục" "muc", "cái" "cai", "ạ" "a".
_MARKERS = frozenset("cai thu so muc y cau phuong chon lua option number no".split())
_FILLERS = _MARKERS | frozenset(
    "an la em anh chi minh toi a ad ak ah nhe nha nhen di tien cung "
    "the one i pick choose please pls take want go with lets".split()
)
# Vietnamese number and place words, each only beside a marker: "đâu ạ" (where?) folds like
# "đầu ạ", "sau" is also "later", "tư" and "năm" are also "private" and "year".
_WORDS = {"mot": 1, "nhat": 1, "hai": 2, "ba": 3, "bon": 4, "tu": 4, "nam": 5}
_WORDS |= {"dau": 1, "truoc": 1, "cuoi": LAST, "sau": LAST}
_ENGLISH = {
    "first": 1,
    "1st": 1,
    "second": 2,
    "2nd": 2,
    "third": 3,
    "3rd": 3,
    "fourth": 4,
    "4th": 4,
    "fifth": 5,
    "5th": 5,
    "former": 1,
    "latter": LAST,
    "last": LAST,
}
_LONGEST = 6  # "em chọn cái thứ hai ạ"


def chosen_place(text: str) -> int | None:
    """The place (1-based, or `LAST`) a reply picks among options, or None when it is no such
    reply."""
    words = raw_tokens(text)
    if not words or len(words) > _LONGEST:
        return None
    places = [w for w in words if w not in _FILLERS]
    if len(places) != 1:
        return None
    (word,) = places
    if word.isdigit():
        return int(word) if len(words) > 1 and word == str(int(word)) else None
    if word in _ENGLISH:
        return _ENGLISH[word]
    if word in _WORDS and any(w in _MARKERS for w in words):
        return _WORDS[word]
    return None
