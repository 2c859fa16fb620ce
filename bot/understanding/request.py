"""The request in a citizen's message, apart from the story told before it (issue 9).

Real messages give two to five sentences of background before the question, and a side detail
of the story (a divorce, a notary office, a relative's other nationality, a death in the
family) names another topic than the one asked about. `find_request` cuts a message into
sentences and clauses and says which clauses form the request, so that the matcher can score
the request first and read the background only to support it or to break a tie.

How it reads a message:

1. Sentences end at . ! ? … ; and line breaks, but not at the dots of "1.500.000", "15.3.2025",
   "TP. Tuyên Quang", "UBND. xã", "v.v. và", "TP.HCM" or a link.
2. A sentence is cut into clauses at commas and at words that open a new clause ("nhưng",
   "mà giờ", "giờ", "bây giờ", "vậy", "thì", "but", "so", "now"), only where the piece after
   asks: "Bố em mất năm ngoái, | giờ em muốn làm lại giấy khai sinh | thì cần gì?".
3. A clause asks when it ends with a question mark or holds a question or request form
   (`_FORMS`, `_ending_cue`, `_english_start`), the citizen's own want among them ("Tôi muốn
   ly hôn đơn phương"; not "Vợ em muốn ly hôn").
4. The request is the last asking clause. When it is thin (a bare tag or opener: "vậy phải
   làm sao?", "cho em hỏi với ạ") it reaches back to the nearest clause with content words;
   when it points back ("How do I get a copy of it?", "Trường hợp này..."), likewise. Then it
   takes in, right before it, the asking clauses (an opener "Xin hỏi:", a first question),
   the subject of a clause opened by "thì", and in the same sentence a want that names what
   a question without one asks about ("Em cần lý lịch tư pháp..., giờ nộp ở đâu?").
   With no asking clause, a last sentence that states a want or need is the request, else
   the whole message is.

Folded Vietnamese is ambiguous ("đâu" and "đầu" are both "dau", "những" and "nhưng" both
"nhung"), so forms are mostly word pairs, "không" and "chưa" ask only at the end, and where the
citizen typed the marks, the few ambiguous words must carry the marks of the form (`_AMBIGUOUS`).

Pure and linear in the length of the message: each character is scanned a bounded number of
times and no pattern can backtrack (tests/test_request.py feeds 100,000 characters).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from bot.text import fold, is_syllable, normalised_word, normalised_words, tokens


@dataclass(frozen=True, slots=True)
class Clause:
    """One clause of a message, as the citizen wrote it."""

    text: str  # as the citizen wrote it
    start: int  # character offsets in the message
    end: int
    asks: bool  # reads as a question or a request
    cue: str | None  # the question form found: "?", "bao nhiêu", "được không", "can i"...


@dataclass(frozen=True, slots=True)
class Request:
    """A message's clauses, and which of them form the request: consecutive indices, empty
    only when the text is empty (or only spaces)."""

    clauses: tuple[Clause, ...]
    request: tuple[int, ...]  # indices of the clauses that form the request

    @property
    def request_text(self) -> str:
        """The request clauses joined with a space."""
        return " ".join(self.clauses[i].text for i in self.request)

    @property
    def background_text(self) -> str:
        """The other clauses joined with a space ("" when there is no background)."""
        chosen = set(self.request)
        return " ".join(c.text for i, c in enumerate(self.clauses) if i not in chosen)

    @property
    def has_background(self) -> bool:
        """Whether some clause is not part of the request."""
        return len(self.request) < len(self.clauses)


# --- words ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Words:
    """A stretch of normalised tokens and, per token, the marked spelling the citizen typed
    (None where the word was typed without marks or was rewritten from teencode)."""

    toks: tuple[str, ...]
    marks: tuple[str | None, ...]
    opens: tuple[bool, ...]  # per token, whether a comma stands right before it
    question_mark: bool = False  # the stretch ends its sentence, and the sentence with "?"


_CACHED_RUN = 64  # longer runs of non-spaces are read without the cache (bounded memory)


def _strip_punctuation(word: str) -> str:
    lo, hi = 0, len(word)
    while lo < hi and not word[lo].isalnum():
        lo += 1
    while hi > lo and not word[hi - 1].isalnum():
        hi -= 1
    return word[lo:hi]


def _read_run(run: str) -> tuple[tuple[str, ...], tuple[str | None, ...], bool]:
    """A run's tokens, the marked spelling of each (see `_Words`), and whether the run is one
    plain word once stripped of punctuation ("vậy," but not "v.v." or "TP.HCM")."""
    toks = tokens(run)
    word = _strip_punctuation(unicodedata.normalize("NFC", run).lower())
    plain = word.isalpha()
    if len(toks) != 1:
        return toks, (None,) * len(toks), plain
    marked = plain and fold(word) == toks[0] and fold(word) != word
    return toks, (word if marked else None,), plain


_read_cached = lru_cache(maxsize=8192)(_read_run)


# --- question and request forms --------------------------------------------------------------

# A predicate on a form found at toks[i:j]: whether it asks there.
_Check = Callable[[_Words, int, int], bool]

# Folded words that stand for several words. Where the citizen typed marks, a form's word among
# these must be typed as the form writes it: "ở đầu làng" is no "ở đâu", "thị trấn" no "thì",
# "những giấy tờ" no "nhưng", "căn hộ" no "cần", "số định danh" no "so".
_AMBIGUOUS = frozenset(
    "dau nao may thi gio vay nhung hong can muon ha so but now do".split()  # folded
)


@dataclass(frozen=True, slots=True)
class _Form:
    label: str  # as written in the table: the `cue` reported
    marks: tuple[str | None, ...]  # per token, the marked spelling required where typed marked
    check: _Check | None


class _Forms:
    """A table of written phrases, matched on normalised tokens, longest first."""

    def __init__(self, entries: Iterable[tuple[str, _Check | None]]) -> None:
        self.table: dict[tuple[str, ...], _Form] = {}
        for written, check in entries:
            words = written.split()
            toks = tokens(written)
            marks: tuple[str | None, ...] = (None,) * len(toks)
            if len(toks) == len(words):
                marks = tuple(
                    w.lower() if fold(w) in _AMBIGUOUS and fold(w) == t else None
                    for w, t in zip(words, toks, strict=True)
                )
            if not toks or toks in self.table:
                raise ValueError(f"form {written!r} is empty or listed twice")
            self.table[toks] = _Form(written, marks, check)
        self.longest = max(len(k) for k in self.table)
        self.heads = frozenset(k[0] for k in self.table)

    def match(self, words: _Words, i: int) -> tuple[_Form, int] | None:
        """The longest form that asks starting at token i, and its end."""
        toks = words.toks
        if toks[i] not in self.heads:
            return None
        for j in range(min(len(toks), i + self.longest), i, -1):
            form = self.table.get(toks[i:j])
            if form is not None and _typed_as(words, i, form) and _passes(form, words, i, j):
                return form, j
        return None

    def first(self, words: _Words) -> _Form | None:
        heads = self.heads
        for i, tok in enumerate(words.toks):
            if tok not in heads:
                continue  # `match` would say None: not called for every word of every clause
            found = self.match(words, i)
            if found is not None:
                return found[0]
        return None


def _typed_as(words: _Words, i: int, form: _Form) -> bool:
    return all(
        need is None or typed is None or typed == need
        for need, typed in zip(form.marks, words.marks[i : i + len(form.marks)], strict=False)
    )


def _passes(form: _Form, words: _Words, i: int, j: int) -> bool:
    return form.check is None or form.check(words, i, j)


def _next_is(words: _Words, j: int, allowed: frozenset[str]) -> bool:
    return j < len(words.toks) and words.toks[j] in allowed


_NEGATIONS = normalised_words("không chưa chẳng chả")
# Words after which "giúp em", "hướng dẫn" are asked of the Department: "nhờ ad hướng dẫn",
# "anh chị giúp em với" ask; "cán bộ xã hướng dẫn em lên tỉnh", "chị gái giúp em trông con"
# tell the story.
_ADDRESSEE = normalised_words("nhờ xin mong cần muốn lòng hãy ad admin bạn anh chị ơi ạ thể vậy")
# Words that may follow a request at the end of a clause: "hướng dẫn giúp em với ạ".
_TAIL_OF_REQUEST = normalised_words(
    "giúp giùm cho em mình tôi cháu con với ạ nhé nha ad admin ơi bạn anh chị chút xíu"
)
_ASKERS = normalised_words("em mình tôi cháu con anh chị tớ muốn cần xin")
_PAST = normalised_words("đã từng vừa mới")
_INDEFINITE = normalised_words("đó đấy cũng cả")
_ADVERBS = normalised_words("cũng đang rất vẫn chỉ thật đều")
_WRITER = normalised_words("em mình tôi cháu tớ")
_LINKS_TO_WANT = normalised_words("giờ nay nên mà thì vậy nhưng và bây hiện ad ơi dạ vâng ạ")
_COPY = normalised_words("y lục kê")


def _not_negated(words: _Words, i: int, j: int) -> bool:
    """ "không có gì", "chưa có giấy tờ nào": a negation before the question word makes it a
    statement ("nothing", "no paper")."""
    return not any(t in _NEGATIONS for t in words.toks[max(0, i - 3) : i])


def _not_indefinite(words: _Words, i: int, j: int) -> bool:
    """ "nào" asks, except in "nơi nào đó" (somewhere) and after a negation."""
    return not _next_is(words, j, _INDEFINITE) and _not_negated(words, i, j)


def _own_want(words: _Words, i: int, j: int) -> bool:
    """The citizen's own want or need, which is a request: "Em muốn ly hôn đơn phương",
    "Nay tôi cần bản sao...", "..., muốn xác nhận tình trạng hôn nhân". Not someone else's
    ("Vợ em muốn ly hôn") nor one told in passing ("năm ngoái em muốn đi Nhật"): only the
    writer's pronoun and adverbs may stand between it and the start of its clause, a comma,
    or a word that links it to what came before ("giờ", "nay", "nên", "ad ơi")."""
    toks = words.toks
    k = i - 1
    while k >= 0 and toks[k] in _ADVERBS:
        k -= 1
    if k >= 0 and toks[k] in _WRITER:
        k -= 1
    return k < 0 or words.opens[k + 1] or toks[k] in _LINKS_TO_WANT


def _own_need(words: _Words, i: int, j: int) -> bool:
    return _own_want(words, i, j) and _need_not_flat(words, i, j)


def _why_first(words: _Words, i: int, j: int) -> bool:
    """ "Sao chưa có kết quả?" asks why; elsewhere "sao" is mostly "bản sao", and "sao y" is
    a certified copy."""
    return i == 0 and not _next_is(words, j, _COPY)


def _addressed(words: _Words, i: int, j: int) -> bool:
    """A request made to the reader: at the clause's start, after a word that addresses the
    Department, or followed only by a few courtesy words to the clause's end. (Checking an
    unbounded tail made "x giúp em giúp em ... z" quadratic.)"""
    toks = words.toks
    if i == 0 or toks[i - 1] in _ADDRESSEE:
        return True
    return len(toks) - j <= _PARTICLE_REACH and all(t in _TAIL_OF_REQUEST for t in toks[j:])


def _asked_by_writer(words: _Words, i: int, j: int) -> bool:
    """ "em muốn hỏi về", "tôi hỏi về" ask; "em đã hỏi về", "lên xã hỏi về" tell the story."""
    toks = words.toks
    if i == 0:
        return True
    return toks[i - 1] in _ASKERS and (i < 2 or toks[i - 2] not in _PAST)


_QUESTION_FORMS = (
    "bao nhiêu",
    "bao lâu",
    "bao giờ",
    "bao xa",
    "khi nào",
    "lúc nào",
    "hôm nào",
    "ngày nào",
    "ở đâu",
    "đi đâu",
    "ra đâu",
    "tại đâu",
    "nộp đâu",
    "làm đâu",
    "đến đâu",
    "về đâu",
    "lên đâu",
    "chỗ nào",
    "nơi nào",
    "cơ quan nào",
    "bộ phận nào",
    "xã nào",
    "loại nào",
    "cái nào",
    "cách nào",
    "thế nào",
    "như nào",
    "như thế nào",
    "ra sao",
    "làm sao",
    "thì sao",
    "tại sao",
    "vì sao",
    "sao ạ",
    "sao vậy",
    "được không",
    "được chưa",
    "có phải",
    "phải không",
    "đúng không",
    "hay không",
    "hay chưa",
    "có cần",
    "cần gì",
    "cần những gì",
    "những gì",
    "giấy tờ gì",
    "gì ạ",
    "gì không",
    "gì vậy",
    "làm gì",
    "là gì",
    "phải làm gì",
    "mấy ngày",
    "mấy tiền",
    "mấy giờ",
    "mấy tháng",
    "mất mấy",
    "hết mấy",
    "ai có thể",
    "ai được",
    "ai phải",
)
_REQUEST_FORMS = (
    "xin hỏi",
    "cho hỏi",
    "cho em hỏi",
    "cho mình hỏi",
    "cho tôi hỏi",
    "cho cháu hỏi",
    "cho chị hỏi",
    "cho anh hỏi",
    "cho con hỏi",
    "cho tớ hỏi",
    "muốn hỏi",
    "mún hỏi",
    "hỏi chút",
    "hỏi xíu",
    "hỏi với",
    "có câu hỏi",
    "nhờ tư vấn",
    "xin tư vấn",
    "cần tư vấn",
    "muốn tư vấn",
    "tư vấn giúp",
    "muốn làm",
    "mún làm",
    "muốn đăng ký",
    "muốn xin",
    "muốn nộp",
    "muốn biết",
    "mún biết",
    "muốn tìm hiểu",
    "muốn được",
    "muốn cấp",
    "muốn sửa",
    "muốn đổi",
    "muốn thay đổi",
    "muốn cải chính",
    "muốn chứng thực",
    "muốn công chứng",
    "muốn trích lục",
    "muốn nhận",
    "cần làm",
    "cần xin",
    "cần đăng ký",
    "cần nộp",
    "cần biết",
    "phải làm sao",
    "làm thế nào",
    "làm như thế nào",
)
_ADDRESSED_FORMS = (
    "hướng dẫn",
    "chỉ giúp",
    "giúp em",
    "giúp mình",
    "giúp tôi",
    "giúp cháu",
    "giúp với",
    "giúp đỡ",
    "tư vấn cho",
)
_ENGLISH_FORMS = (
    "how much",
    "how long",
    "how many",
    "how do",
    "how can",
    "how to",
    "how should",
    "what do",
    "what documents",
    "what is",
    "what are",
    "what should",
    "where do",
    "where can",
    "where is",
    "where should",
    "when can",
    "when will",
    "when do",
    "which office",
    "is it possible",
    "do i need",
    "do we need",
    "do you",
    "can you",
    "could you",
    "would you",
    "please tell",
    "please help",
    "please advise",
    "please let",
    "please explain",
    "please guide",
    "please check",
    "please inform",
    "tell me",
    "let me know",
    "help me",
    "help us",
    "advise me",
    "i want",
    "i would like",
    "i d like",
    "we want",
    "we would like",
    "we d like",
    "i need",
    "we need",
    "i wish to",
    "wondering",
    "i have a question",
    "my question",
)
_FORMS = _Forms(
    [
        *((f, None) for f in _QUESTION_FORMS),
        ("gì", _not_negated),
        ("sao", _why_first),
        ("nào", _not_indefinite),
        *((f, None) for f in _REQUEST_FORMS),
        ("muốn", _own_want),
        ("mún", _own_want),
        ("cần", _own_need),
        ("hỏi về", _asked_by_writer),
        *((f, _addressed) for f in _ADDRESSED_FORMS),
        *((f, None) for f in _ENGLISH_FORMS),
    ]
)

# Sentence-final question words, read after the particles and vocatives that may follow them:
# "có mất phí không ad ơi", "xong chưa ạ".
_ENDINGS = {
    normalised_word("không"): "không",
    normalised_word("chưa"): "chưa",
}
# Endings that ask only when typed with their marks or without any ("à" asks, "ạ" is polite;
# "hả" asks, "Thái Hà" does not; "hông" is a southern "không", "hỏng" is "broken").
_MARKED_ENDINGS = {"à": "à", "hả": "hả", "hông": "hông"}
_MARKED_ENDING_TOKENS = {fold(w): w for w in _MARKED_ENDINGS}
_PARTICLES = normalised_words(
    "ạ à nhé nha nhỉ vậy thế nữa ơi ad admin bạn anh chị em với đấy ta cô chú bác cậu shop"
)
_PARTICLE_REACH = 4


def _ending_cue(words: _Words) -> str | None:
    """The question word that ends a clause, behind at most `_PARTICLE_REACH` particles."""
    toks, marks = words.toks, words.marks
    for k in range(len(toks) - 1, max(-1, len(toks) - 2 - _PARTICLE_REACH), -1):
        tok = toks[k]
        if tok in _ENDINGS:
            return _ENDINGS[tok]
        marked = _MARKED_ENDING_TOKENS.get(tok)
        if marked is not None and (marks[k] == marked or (marks[k] is None and tok != "a")):
            return marked
        if tok not in _PARTICLES:
            return None
    return None


_WH = normalised_words("what how where when why which who whom whose")
_AUX = normalised_words(
    "can could may might do does did is are am was were should would will shall must"
)
_SUBJECT = normalised_words(
    "i we you it they he she there my our your his her their this that someone anyone"
)
_LEAD = normalised_words("so and but now then also well ok okay hi hello please")


def _english_start(words: _Words) -> str | None:
    """An English question's opening: a wh-word, or an auxiliary before its subject ("can I",
    "is it"). Read only in clauses typed without Vietnamese marks ("Đó em..." is no "do")."""
    toks = words.toks
    if any(m is not None for m in words.marks):
        return None
    i = 0
    while i < len(toks) and i < 3 and toks[i] in _LEAD:
        i += 1
    if i < len(toks) and toks[i] in _WH:
        return toks[i]
    if i + 1 < len(toks) and toks[i] in _AUX and toks[i + 1] in _SUBJECT:
        return f"{toks[i]} {toks[i + 1]}"
    return None


def _cue(words: _Words) -> str | None:
    """The question or request form that makes a stretch of words ask, or None."""
    found = _english_start(words)
    if found is None:
        form = _FORMS.first(words)
        found = form.label if form is not None else _ending_cue(words)
    if found is None and words.question_mark:
        found = "?"
    return found


# Statements of a want or a need: a last sentence without question that says one is the
# request ("em cần giấy khai sinh cho con").
_NOT_NEED = normalised_words("cước hộ nhà phòng")


def _need_not_flat(words: _Words, i: int, j: int) -> bool:
    """ "cần" folds like "căn" (căn cước, căn hộ, căn nhà, căn phòng)."""
    return not _next_is(words, j, _NOT_NEED)


_WANTS = _Forms(
    [
        ("muốn", None),
        ("mún", None),
        ("mong", None),
        ("cần", _need_not_flat),
        ("want", None),
        ("need", None),
        ("would like", None),
        ("d like", None),
        ("wish", None),
    ]
)


# Words that point back to the story: "How can I get it corrected?", "Where can I get a new
# one?", "Trường hợp này thì làm sao?", "Anh ấy muốn nhập quốc tịch". Vietnamese ones count
# only as typed with their marks: "do" is also "because", "nay" also "now".
_BACK_MARKED = frozenset({"đó", "đấy", "này", "ấy"})
_BACK_PAIRS = frozenset(tokens(p) for p in ("như vậy", "như thế", "như trên", "nêu trên"))
_IT = normalised_word("it")
_ASK = normalised_word("hỏi")
_WHICH_SET = normalised_words("nào")
_ONE = normalised_word("one")
_TO_BE = normalised_words("is was be")
_ONE_AFTER = normalised_words("new another this that the same")
# "that" and "this" as pronouns: after a verb or preposition ("where do we go for that", "can I
# do this online"), with nothing or no noun after them ("for that contract" names its noun).
_THAT = normalised_words("that this")
_THAT_BEFORE = normalised_words(
    "for do get about with need handle sort arrange apply file done doing getting register"
)
_THAT_AFTER = normalised_words(
    "online here there too again please now then first in at by from on through via as also"
)


# The words a pointer back starts with, but for the marked ones: any other word is skipped.
_BACK_HEADS = frozenset({p[0] for p in _BACK_PAIRS} | {_IT, _ONE} | _THAT)


def _refers_back(words: _Words) -> bool:
    """Whether a clause points back to what came before (see `_BACK_MARKED`)."""
    toks, marks = words.toks, words.marks
    for i, tok in enumerate(toks):
        if tok not in _BACK_HEADS and marks[i] not in _BACK_MARKED:
            continue
        if tuple(toks[i : i + 2]) in _BACK_PAIRS and not _next_is(words, i + 2, _WHICH_SET):
            return True  # "như thế", not "như thế nào"
        if words.marks[i] in _BACK_MARKED and not (i > 0 and toks[i - 1] == _ASK):
            return True  # "trường hợp này", not "cho em hỏi này" (which points ahead)
        beside = (*toks[max(0, i - 1) : i], *toks[i + 1 : i + 2])
        if tok == _IT and not any(t in _TO_BE for t in beside):
            return True  # "how long does it take", not "is it possible"
        if tok == _ONE and i > 0 and toks[i - 1] in _ONE_AFTER:
            return True
        if (
            tok in _THAT
            and i > 0
            and toks[i - 1] in _THAT_BEFORE
            and (i + 1 == len(toks) or toks[i + 1] in _THAT_AFTER)
        ):
            return True  # "where do we go for that", not "for that contract"
    return False


# Words that say nothing about the topic: pronouns, particles, question words, and the words
# every procedure shares (thủ tục, hồ sơ, lệ phí, đăng ký). A clause with fewer than
# `_CONTENT` of the others is thin: it asks, but not about what.
_GENERIC = normalised_words(
    "a ạ ad admin ai anh ba bà bác bạn bao bây bé bên bị bố cả các cái cậu cần cấp cháu chào "
    "chị cho chỗ chú chưa chút có con còn của cũng dạ đã đang đâu đây để đến đi điều đó được "
    "gì giờ giúp giùm hả hay hết hỏi hôm hông khi không là làm lại lâu lên lúc mà mất mấy mẹ "
    "mình mong một muốn mún nào nay này nên nếu nha nhà nhé nhỉ nhiêu nhờ như những nơi nữa ở "
    "ơi ông phải qua ra rồi sao sẽ tại thì thế thể theo tiền tôi tờ trên trong và vào vậy về "
    "vì với xin xong gửi nộp giấy phí ngày biết thấy bảo nói đúng sai xã người việc nhiều gồm "
    "cách loại ấy vợ chồng em xíu "
    "i me my we our you your he she it its they them their his her a an the is are am was "
    "were be been being do does did have has had can could may might must shall should will "
    "would what how where when why which who whom whose this that these those there here to "
    "of in on at for from with by about as into and or but so if then than now please help "
    "tell let know want like need get got make made go apply register thank thanks hello hi "
    "hey dear sir madam also just any some much many long yes no not ok okay question ask fee "
    "cost document documents paper papers office time day days registration required "
    "require requirements procedure procedures process new one"
)
# Generic words of two syllables, whose syllables alone may be a topic's: "họ" (đổi họ) is not
# "hồ sơ", "thôi" (thôi quốc tịch) not "thời gian", "ký" (chữ ký) not "đăng ký".
_GENERIC_PAIRS = frozenset(
    tokens(p)
    for p in (
        "thủ tục",
        "hồ sơ",
        "giấy tờ",
        "lệ phí",
        "thời gian",
        "đăng ký",
        "hướng dẫn",
        "cơ quan",
        "bộ phận",
        "vui lòng",
        "cảm ơn",
        "cám ơn",
        "cụ thể",
        "tư vấn",
        "trường hợp",
        "trả lời",
    )
)
_GENERIC_HEADS = frozenset(p[0] for p in _GENERIC_PAIRS)
_CONTENT = 2


def _content(toks: Sequence[str]) -> int:
    """Content weight: a Vietnamese syllable counts 1, a word of another shape (an English
    word, an abbreviation like "cccd") 2, generic words and numbers nothing."""
    weight = 0
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok in _GENERIC_HEADS and tuple(toks[i : i + 2]) in _GENERIC_PAIRS:
            i += 2
            continue
        i += 1
        if tok in _GENERIC or tok.isdigit() or len(tok) < 2:
            continue
        weight += 1 if is_syllable(tok) else 2
    return weight


# --- sentences ------------------------------------------------------------------------------

_BREAKS = frozenset("!?…;\n\r\u3002\uff01\uff1f\uff1b")
_RUN_ON = _BREAKS | {"."}
_CLOSERS = frozenset(")]}\"'”’»")
_QUESTION_MARKS = frozenset("?\uff1f")
_COMMAS = frozenset(",\uff0c\u3001")
_LINK_STARTS = ("http://", "https://", "www.")
_LINK_TAIL = frozenset(".,!?;…)")
# Abbreviations, lower-cased. A title is followed by a name, so its dot never ends a sentence on
# its line ("TP. Tuyên Quang", "UBND. xã", "Q. 1"); an ender ends one unless a lower-case word
# follows ("v.v. và ...").
_TITLES = frozenset("tp tx tt ubnd hdnd q p x h st mr mrs ms dr ths ts pgs gs bs ls vd".split())
_ENDERS = frozenset("v vv etc".split())
_DOMAINS = frozenset("com vn net org gov edu info io".split())
_ABBR_LETTERS = 6


def _letters_before(text: str, i: int) -> str:
    j = i
    while j > 0 and i - j <= _ABBR_LETTERS and text[j - 1].isalpha():
        j -= 1
    return text[j:i]


def _letters_after(text: str, i: int) -> str:
    j = i
    while j < len(text) and j - i <= _ABBR_LETTERS and text[j].isalpha():
        j += 1
    return text[i:j]


def _next_visible(text: str, i: int) -> str:
    """The first character after i that is not a space or tab ("" at the end)."""
    while i < len(text) and text[i] in " \t":
        i += 1
    return text[i] if i < len(text) else ""


def _dot_ends_sentence(text: str, i: int) -> bool:
    prev = text[i - 1] if i > 0 else ""
    nxt = text[i + 1] if i + 1 < len(text) else ""
    if nxt == ".":
        return True  # an ellipsis "..."
    if prev.isdigit() and nxt.isdigit():
        return False  # "1.500.000", "15.3.2025"
    word = _letters_before(text, i)
    key = word.lower()  # the abbreviations are plain letters
    if nxt.isalnum():
        # "TP.HCM", "v.v", "UBND.TQ", "dichvucong.gov.vn"; but "ạ.Em cảm ơn" ends one.
        after = _letters_after(text, i + 1).lower()
        short_caps = 2 <= len(word) <= 5 and word.isupper()
        single_cap = len(word) == 1 and word.isupper()
        return not (key in _TITLES or key in _ENDERS or short_caps or single_cap) and (
            after not in _DOMAINS
        )
    if nxt and not nxt.isspace():
        return True
    following = _next_visible(text, i + 1)
    if key in _TITLES and following and following not in "\r\n":
        return False
    return not (key in _ENDERS and following.islower())


def _link_end(text: str, i: int) -> int:
    """The end of the link starting at i, before any punctuation that closes the sentence."""
    j = i
    while j < len(text) and not text[j].isspace():
        j += 1
    while j > i and text[j - 1] in _LINK_TAIL:
        j -= 1
    return j


# The characters `_sentences` stops at: the others neither end a sentence nor start a link.
_SENTENCE_EDGE = re.compile("[" + re.escape("".join(sorted(_BREAKS | {".", *"hHwW"}))) + "]")


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans (start, end): trimmed of spaces, ending after their punctuation. A span
    without a letter or digit ("...", "?", an emoji) joins the sentence before it."""
    n = len(text)
    cuts: list[tuple[int, int]] = []
    start = i = 0
    while i < n:
        # Only a break, a dot or the first letter of a link can end a sentence here: jump to
        # the next one (stepping through every character was a tenth of finding the request).
        found = _SENTENCE_EDGE.search(text, i)
        if found is None:
            break
        i = found.start()
        ch = text[i]
        if (
            ch in "hHwW"
            and (i == 0 or text[i - 1].isspace())
            and text[i : i + 8].lower().startswith(_LINK_STARTS)
        ):
            i = max(i + 1, _link_end(text, i))
            continue
        if ch in _BREAKS or (ch == "." and _dot_ends_sentence(text, i)):
            j = i + 1
            while j < n and (text[j] in _RUN_ON or text[j] in _CLOSERS):
                j += 1
            cuts.append((start, j))
            start = i = j
            continue
        i += 1
    cuts.append((start, n))

    spans: list[tuple[int, int]] = []
    orphan: int | None = None  # start of wordless text before the first sentence
    for lo, hi in cuts:
        while lo < hi and text[lo].isspace():
            lo += 1
        while hi > lo and text[hi - 1].isspace():
            hi -= 1
        if lo == hi:
            continue
        if not any(ch.isalnum() for ch in text[lo:hi]):
            if spans:
                spans[-1] = (spans[-1][0], hi)
            elif orphan is None:
                orphan = lo
            continue
        if orphan is not None:
            lo, orphan = orphan, None
        spans.append((lo, hi))
    if orphan is not None:
        spans.append((orphan, len(text.rstrip())))
    return spans


def _asks_at_end(text: str, lo: int, hi: int) -> bool:
    """Whether the punctuation closing text[lo:hi] holds a question mark."""
    k = hi
    while k > lo and (text[k - 1] in _RUN_ON or text[k - 1] in _CLOSERS or text[k - 1].isspace()):
        if text[k - 1] in _QUESTION_MARKS:
            return True
        k -= 1
    return False


# --- clauses --------------------------------------------------------------------------------


@dataclass(slots=True)  # not frozen: a frozen one is built more slowly, 20 times a message
class _Run:
    """A run of non-spaces within a sentence that holds tokens."""

    start: int
    lo: int  # index of its first token in the sentence's tokens
    comma: bool  # a comma stands between it and the run before
    word: bool  # letters only, once stripped of punctuation: "vậy," but not "v.v." or "TP.HCM"


_CONDITIONS = normalised_words("nếu if giả")
_WHEN = normalised_word("khi")
_CASE = normalised_word("trường")
_OPENERS = normalised_words(
    "em mình tôi anh chị cháu con họ xã giờ mà vậy khi lại sau hiện bây vẫn chưa không nếu "
    "chồng vợ bố mẹ có tớ nay mới"
)
_ENGLISH_NEXT = _WH | _AUX | _SUBJECT | normalised_words("please")
_NOT_THEN = normalised_words("trấn xã hành trực sinh thực cử điểm trường")
_NOT_NOW_AFTER = normalised_words("bao mấy bây lúc mỗi tiếng đúng")
_NOT_NOW_BEFORE = normalised_words("hành nào mở đóng")
_WORK = tokens("làm việc")
_BORROWED = normalised_words("vốn tiền nợ ngân mượn tín")


def _then_opens(words: _Words, i: int, j: int) -> bool:
    """ "thì" opens a clause; "thị trấn", "thi hành án", "thí sinh" fold the same."""
    return not _next_is(words, j, _NOT_THEN)


def _now_opens(words: _Words, i: int, j: int) -> bool:
    """ "giờ" means "now", not "bao giờ", "mấy giờ", "giờ làm việc"."""
    toks = words.toks
    if i > 0 and toks[i - 1] in _NOT_NOW_AFTER:
        return False
    return toks[j : j + 2] != _WORK and not _next_is(words, j, _NOT_NOW_BEFORE)


def _so_opens(words: _Words, i: int, j: int) -> bool:
    """ "vậy" opens a clause; "vay vốn", "vay tiền" borrow."""
    return not _next_is(words, j, _BORROWED)


def _but_opens(words: _Words, i: int, j: int) -> bool:
    """ "nhưng" typed with its marks opens a clause; typed without, it may be "những" (a
    plural: "những giấy tờ gì"), so a subject or a time word must follow."""
    return words.marks[i] is not None or _next_is(words, j, _OPENERS)


def _english_opens(words: _Words, i: int, j: int) -> bool:
    return _next_is(words, j, _ENGLISH_NEXT)


_CONJUNCTIONS = _Forms(
    [
        ("nhưng", _but_opens),
        ("mà giờ", None),
        ("giờ", _now_opens),
        ("bây giờ", None),
        ("vậy", _so_opens),
        ("thì", _then_opens),
        ("but", _english_opens),
        ("so", _english_opens),
        ("now", _english_opens),
    ]
)
_WHICH = tokens("nào")
_CASE_TAIL = tokens("hợp")


def _conditional(toks: Sequence[str]) -> bool:
    """ "Nếu em ở Hà Nội thì ...", "Khi đăng ký kết hôn, ...", "If I live abroad, ...": the
    condition belongs to the question that follows."""
    if not toks:
        return False
    head = toks[0]
    return (
        head in _CONDITIONS
        or (head == _WHEN and toks[1:2] != _WHICH)
        or (head == _CASE and toks[1:2] == _CASE_TAIL)
        or tuple(toks[:3]) == ("trong", "truong", "hop")
        or tuple(toks[:2]) == ("in", "case")
    )


# A run of non-spaces other than commas, with the spaces and commas before it; the decimal
# comma of "1,5 triệu" stays inside. Every character is a separator or in a run, and no run
# starts with a comma. Each alternative of a run has a fixed width and nothing follows the
# group, so the engine never backtracks into it; read up to the last run (`_sentence_words`),
# every match attempt succeeds where the previous ended: linear.
# What separates runs: `\s` (every character `str.isspace` accepts; none past U+3000) and commas.
_SEPARATORS = "".join(_COMMAS) + "".join(chr(c) for c in range(0x3001) if chr(c).isspace())
_SPACED_RUN = re.compile(r"([\s,\uff0c\u3001]*)((?:\d[,\uff0c]\d|[^\s,\uff0c\u3001])+)")


def _sentence_words(text: str, lo: int, hi: int) -> tuple[list[_Run], _Words]:
    runs: list[_Run] = []
    toks: list[str] = []
    marks: list[str | None] = []
    opens: list[bool] = []
    comma = False
    start = lo
    # Separators after the last run: each would be a failed attempt at a run, and rescan the
    # rest of them (a sentence ending in 100,000 commas).
    stop = hi
    if stop > lo and text[stop - 1] in _SEPARATORS:
        stop = lo + len(text[lo:hi].rstrip(_SEPARATORS))
    # The runs as strings, their offsets added up: with a match object per run (`finditer`,
    # `span`, `group`) and a slice for the text between, `find_request` took 172 us a message
    # on the slowest 2 % of bench/match.py's messages, now 160 (the median of 41 paired
    # passes 0.94, quartiles 0.91-0.98; this 2-vCPU machine at load average 2-3; 2026-12-07).
    for space, run in _SPACED_RUN.findall(text, lo, stop):
        start += len(space)
        if space:
            comma = comma or not _COMMAS.isdisjoint(space)
        run_toks, run_marks, word = _read_cached(run) if len(run) <= _CACHED_RUN else _read_run(run)
        if run_toks:
            runs.append(_Run(start, len(toks), comma, word))
            toks.extend(run_toks)
            marks.extend(run_marks)
            opens.append(comma)
            opens.extend([False] * (len(run_toks) - 1))
            comma = False
        start += len(run)
    return runs, _Words(tuple(toks), tuple(marks), tuple(opens), _asks_at_end(text, lo, hi))


def _slice(words: _Words, lo: int, hi: int, last: bool) -> _Words:
    return _Words(
        words.toks[lo:hi], words.marks[lo:hi], words.opens[lo:hi], words.question_mark and last
    )


_MAX_CANDIDATES = 16


def _cuts(runs: Sequence[_Run], words: _Words) -> list[tuple[int, bool]]:
    """The runs that open a clause, each with whether "thì" opens it: the first run, then
    each comma or conjunction before a piece that asks, unless the piece before is a
    condition of it ("Nếu em ở Hà Nội thì ...")."""
    candidates: list[tuple[int, bool, bool]] = []  # run index, after a comma, opened by "thì"
    inside = 0  # runs starting before this token belong to a conjunction found already
    n_toks = len(words.toks)
    for r in range(1, len(runs)):
        lo = runs[r].lo
        if lo < inside:
            continue  # the "giờ" of "mà giờ", "bây giờ"
        conj = _CONJUNCTIONS.match(words, lo) if runs[r].word else None
        if conj is not None:
            rest = words.toks[conj[1] : conj[1] + _PARTICLE_REACH + 1]
            if len(rest) <= _PARTICLE_REACH and all(t in _PARTICLES for t in rest):
                conj = None  # "ở đâu vậy ad?": nothing follows but particles, nothing opens
        if conj is not None:
            inside = conj[1]
        if runs[r].comma or conj is not None:
            then = conj is not None and conj[0].label == "thì"
            candidates.append((r, runs[r].comma, then))
    cuts = [(0, False)]
    # The request closes its sentence: only the last few openers are tried, which bounds the
    # work on a sentence of 50,000 commas.
    candidates = candidates[-_MAX_CANDIDATES:]
    for k, (r, comma, then) in enumerate(candidates):
        nxt = candidates[k + 1][0] if k + 1 < len(candidates) else None
        lo = runs[r].lo
        hi = runs[nxt].lo if nxt is not None else n_toks
        piece = _slice(words, lo, hi, last=nxt is None)
        if _cue(piece) is None:
            continue
        head = runs[cuts[-1][0]].lo
        before = words.toks[head : min(lo, head + 3)]  # _conditional reads three words
        if (comma or then) and _conditional(before):
            continue
        cuts.append((r, then))
    return cuts


@dataclass(frozen=True, slots=True)
class _Read:
    clause: Clause
    sentence: int
    content: int
    wants: bool
    bound: bool = False  # opened by "thì": the clause before is its subject or condition
    refers: bool = False  # points back to what came before: "it", "a new one", "trường hợp này"


# Sentences read one by one, counted from the end; those before are one clause of background.
# A citizen's message has a handful; this bounds the work on a pasted document or a flood of
# "a." (100,000 characters of it made 50,000 sentences and took most of a second).
_MAX_SENTENCES = 40


def _read(text: str) -> list[_Read]:
    out: list[_Read] = []
    spans = _sentences(text)
    if len(spans) > _MAX_SENTENCES:
        lo, hi = spans[0][0], spans[-_MAX_SENTENCES][1]
        out.append(_Read(Clause(text[lo:hi], lo, hi, False, None), 0, _CONTENT, False))
        spans = spans[-_MAX_SENTENCES + 1 :]
    for s, (lo, hi) in enumerate(spans, start=len(out)):
        runs, words = _sentence_words(text, lo, hi)
        cuts = _cuts(runs, words) if runs else [(0, False)]
        for k, (r, then) in enumerate(cuts):
            start = lo if k == 0 else runs[r].start
            last = k + 1 == len(cuts)
            end = hi if last else runs[cuts[k + 1][0]].start
            while end > start and text[end - 1].isspace():
                end -= 1
            tok_lo = runs[r].lo if k > 0 else 0
            tok_hi = len(words.toks) if last else runs[cuts[k + 1][0]].lo
            piece = _slice(words, tok_lo, tok_hi, last)
            cue = _cue(piece)
            clause = Clause(text[start:end], start, end, cue is not None, cue)
            wants = _WANTS.first(piece) is not None
            refers = _refers_back(piece)
            out.append(_Read(clause, s, _content(piece.toks), wants, then, refers))
    return out


def _content_before(read: Sequence[_Read], i: int) -> int | None:
    """The nearest clause before clause i with content words, if any."""
    k = i - 1
    while k >= 0 and read[k].content < _CONTENT:
        k -= 1
    return k if k >= 0 else None


def find_request(text: str) -> Request:
    """Split `text` into clauses and say which of them form the request (see the module)."""
    read = _read(text)
    clauses = tuple(r.clause for r in read)
    if not read:
        return Request((), ())
    asking = [i for i, r in enumerate(read) if r.clause.asks]
    if not asking:
        last_sentence = read[-1].sentence
        if last_sentence > 0 and any(r.wants for r in read if r.sentence == last_sentence):
            first = next(i for i, r in enumerate(read) if r.sentence == last_sentence)
            return Request(clauses, tuple(range(first, len(read))))
        return Request(clauses, tuple(range(len(read))))

    end = asking[-1]
    start = end
    if read[end].content < _CONTENT:
        # A bare tag or opener: the request is what it refers to, the nearest clause with
        # content before it; with none before ("Cho em hỏi. Con em sinh năm 2020..."), after.
        found = _content_before(read, end)
        if found is not None:
            start = found
        else:
            k = end + 1
            while k < len(read) and read[k].content < _CONTENT:
                k += 1
            if k < len(read):
                end = k
    if any(r.refers for r in read[start : end + 1]):
        # A question that points back ("How do I get a copy of it?", "Anh ấy muốn nhập quốc
        # tịch thì làm thế nào?") takes in what it points to, once.
        found = _content_before(read, start)
        start = start if found is None else found
    wants = any(r.wants for r in read[start : end + 1])
    while start > 0:
        before = read[start - 1]
        # An opener ("Xin hỏi:") or a first question right before; the subject of a clause
        # opened by "thì" ("Con em sinh ở Hàn | thì đăng ký khai sinh ở đâu?"); or, in the
        # same sentence, the want that names what a question without one asks about ("em cần
        # lý lịch tư pháp để đi làm ở Nhật, | giờ vẫn lên Sở làm hả?").
        same_sentence = before.sentence == read[start].sentence
        if not (
            before.clause.asks
            or read[start].bound
            or (same_sentence and before.wants and not wants)
        ):
            break
        start -= 1
        wants = wants or before.wants
        if before.refers and before.content < _CONTENT:
            # A question taken in that points back itself ("where do we go for that, | the
            # commune?"): what it points to, once.
            found = _content_before(read, start)
            if found is not None:
                start = found
            break
    return Request(clauses, tuple(range(start, end + 1)))
