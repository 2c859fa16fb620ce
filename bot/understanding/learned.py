"""The learned signal: a linear classifier over a message's character n-grams and words.

Trained when the knowledge base loads (and on every reload) from each topic's example
phrasings, their generated variants and its key terms, so adding a phrasing is how anyone
teaches the bot. scikit-learn fits it (TF-IDF features, a linear support vector machine);
answering does not go through scikit-learn: calling its vectoriser and classifier for one
message cost 6.4 ms (bench/match.py, one core), while reading the fitted vocabulary, weights
and coefficients directly costs about 0.05 ms and gives the same scores (tests/test_learned.py
checks them against scikit-learn's `decision_function`).
"""

from __future__ import annotations

import itertools
import math
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.preprocessing import normalize
from sklearn.svm import LinearSVC

# Character n-grams of 2 to 4 letters inside words (padded with a space at each end, so "sinh"
# gives " s", "nh ", " sin", "inh "...): they survive typos, missing spaces and unknown
# variants. Words and word pairs carry the exact vocabulary. Up to 5 letters, as before, the
# catalogue's examples had 15 % more features each; cross-validated (5 folds, seed 0) on the
# project's four sets, 2 to 4 was as good (in-scope 98.1 % against 98.0 %, confident wrong
# 0.7 % against 0.8 %), 3 more of the 1,548 in-scope tuning lines right and none lost, and the
# fit faster (2026-12-07).
_CHAR_MIN, _CHAR_MAX = 2, 4
# A citizen's message past this many words adds nothing the first ones do not, and bounds the
# work per message (the caller also caps the text it reads).
_MAX_WORDS = 160
# Fitting: every SVM sees every example up to this many; past it, its nearest labels' examples
# and a sample of the rest (`_one_vs_rest`).
_ALL_ROWS = 8_000
_NEIGHBOURS = 12
_SAMPLE = 3_000
_BIG_ROWS = 50_000
# Past `_BIG_ROWS`, coefficients smaller than this are dropped: a message's score reads every
# coefficient of its features' rows, and at 30,000 synthetic phrasings (651 labels) 45 % of them
# were this small; without them the first topic was the same for 649 of 650 messages, the top 5
# shared 98.5 % of their topics, no score moved by more than 0.05 (bench/match.py's messages).
# At 100,000 (2,051 labels): p50 1.89 -> 1.72 ms, p99 5.9 -> 5.4 ms, the clone accuracy the same
# 507/563 (2026-12-07, one pinned core; the second run at a busier moment). The shipped
# knowledge base (31,000 examples) is under `_BIG_ROWS`: its model is not pruned.
_PRUNE = 0.01
# Words whose character n-grams are remembered (`features`): the knowledge base has about 3,000.
_WORD_CACHE = 50_000
# The solver's stopping tolerance (scikit-learn's default is 1e-4). At 1e-3 the catalogue's 147
# fits take 44 passes over their examples on average instead of 57, the fit 3.8 s instead of
# 4.3 s; no coefficient moved by more than 1e-4, and no answer of the 1,802 tuning lines changed
# (this 2-vCPU machine, one pinned core, 2026-12-07).
_TOL = 1e-3
# Coefficients are kept dense up to this many cells (8 bytes each: 96 MB). Reading a message's
# rows of the catalogue's 52,000 x 147 coefficients (15 % of them non-zero) costs 0.06 ms dense
# and 0.23 ms sparse, twice per message that tells a story (bench/catalogue_speed.py); dense they
# take 62 MB instead of 14. Past this (bench/match.py's 100,000 phrasings), sparse.
_DENSE_LIMIT = 12_000_000


def char_features(text: str) -> list[str]:
    """Character n-grams of a normalised text (space-separated tokens), inside words."""
    out: list[str] = []
    extend = out.extend
    for word in _words(text):
        extend(_grams(word))
    return out


def _grams(word: str) -> tuple[str, ...]:
    """The character n-grams of one word, in `char_features`' order."""
    padded = f" {word} "
    size = len(padded)
    return tuple(
        padded[start : start + n]
        for n in range(_CHAR_MIN, min(_CHAR_MAX, size) + 1)
        for start in range(size - n + 1)
    )


# `_char_columns` remembers the columns of words up to this long (made-up words are not kept).
_CACHED_WORD = 30


def _words(text: str) -> list[str]:
    """The words of a normalised text that its features read."""
    return text.split()[:_MAX_WORDS]


def word_features(text: str) -> list[str]:
    """Words and word pairs of a normalised text."""
    words = _words(text)
    return words + [f"{a} {b}" for a, b in itertools.pairwise(words)]


# Each kind of feature is weighted (TF-IDF) and normalised on its own, as scikit-learn's
# FeatureUnion of two vectorisers does: in one shared vector the ~5x more numerous character
# n-grams drowned the words (in-scope accuracy on ../shared/eval/dev.jsonl 93.6 % vs 96 %).
ANALYSERS = (char_features, word_features)


@dataclass(frozen=True, slots=True)
class Example:
    text: str  # normalised: the matcher's tokens joined with spaces
    label: int  # the topic's index
    weight: float = 1.0


@dataclass(frozen=True, slots=True)
class _Part:
    """One kind of feature as fitted: the vectoriser's vocabulary (feature -> column) and each
    feature's inverse document frequency; its columns start at `offset` in the model."""

    analyser: Callable[[str], list[str]]
    vocabulary: Mapping[str, int]
    offset: int
    idf: npt.NDArray[np.float64]


class ModelStore(Protocol):
    """Where fitted models are kept between loads (`bot.model_cache.ModelCache` on disk)."""

    def get(self, key: str) -> LearnedModel | None: ...

    def put(self, key: str, model: LearnedModel) -> None: ...


class LearnedModel:
    """Per-topic scores for a normalised message, learned from examples.

    `scores(text)` returns one decision value per label: the margin of that label's linear SVM
    against the others (one-vs-rest; above 0 it says "this topic", the higher the surer).
    """

    def __init__(
        self,
        examples: Sequence[Example],
        n_labels: int,
        c: float = 0.5,
        everyones: Sequence[int] = (),
    ) -> None:
        """`everyones`: labels whose examples every label's SVM sees, however large the
        knowledge base (`_one_vs_rest`)."""
        self.n_labels = n_labels
        self._parts: list[_Part] = []
        self._words: dict[str, npt.NDArray[np.intp]] = {}  # word -> its char n-gram columns
        # Rows: features; columns: every label, 0 for a label with no examples. Dense while
        # small (faster to read), sparse past `_DENSE_LIMIT` cells.
        self._coef: npt.NDArray[np.float64] | sparse.csr_matrix = np.zeros((0, n_labels))
        self._intercept: npt.NDArray[np.float64] = np.full(n_labels, -1.0)
        if len({e.label for e in examples}) < 2:
            return  # nothing to tell apart: every label scores -1
        texts = [e.text for e in examples]
        weighted: list[sparse.csr_matrix] = []
        offset = 0
        for analyser, (counts, vocabulary) in zip(
            ANALYSERS, (_char_counts(texts), _counts(texts, word_features)), strict=True
        ):
            tfidf = TfidfTransformer(sublinear_tf=True)
            weighted.append(tfidf.fit_transform(counts))
            idf = np.asarray(tfidf.idf_, dtype=np.float64)
            self._parts.append(_Part(analyser, vocabulary, offset, idf))
            offset += len(idf)
        matrix = sparse.hstack(weighted, format="csr")
        labels = np.fromiter((e.label for e in examples), dtype=np.intp, count=len(examples))
        weights = np.fromiter((e.weight for e in examples), dtype=np.float64, count=len(examples))
        keys = np.fromiter(
            (zlib.crc32(t.encode()) for t in texts), dtype=np.uint64, count=len(texts)
        )
        coef, self._intercept = _one_vs_rest(matrix, labels, weights, n_labels, c, keys, everyones)
        self._coef = _laid_out(coef)

    def __getstate__(self) -> dict[str, object]:
        """Kept (`ModelCache`) with sparse coefficients: a quarter of the dense file."""
        state = dict(self.__dict__)
        if isinstance(self._coef, np.ndarray):
            state["_coef"] = sparse.csr_matrix(self._coef)
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)
        if isinstance(self._coef, sparse.csr_matrix):
            self._coef = _laid_out(self._coef)

    @property
    def size(self) -> int:
        """The number of features the model knows."""
        return int(self._coef.shape[0])

    def features(self, text: str) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.float64]]:
        """The model's feature columns of a normalised text and their TF-IDF weights."""
        columns: list[npt.NDArray[np.intp]] = []
        values: list[npt.NDArray[np.float64]] = []
        words = _words(text)
        for part in self._parts:
            if part.analyser is char_features:
                # A word's character n-grams do not depend on its neighbours: read once per word
                # (a message's words are mostly the same few thousand syllables).
                found = [self._char_columns(part, word) for word in words]
                index = np.concatenate(found) if found else np.zeros(0, dtype=np.intp)
            else:
                vocabulary = part.vocabulary
                known = [vocabulary[f] for f in part.analyser(text) if f in vocabulary]
                index = np.asarray(known, dtype=np.intp)
            if not len(index):
                continue
            index, counts = _counted(index)
            weights = (1.0 + np.log(counts)) * part.idf[index]
            columns.append(index + part.offset)
            values.append(weights / math.sqrt(float(weights @ weights)))
        if not columns:
            return np.zeros(0, dtype=np.intp), np.zeros(0)
        return np.concatenate(columns), np.concatenate(values)

    def _char_columns(self, part: _Part, word: str) -> npt.NDArray[np.intp]:
        cached = self._words.get(word)
        if cached is None:
            vocabulary = part.vocabulary
            # `_grams(word)` is `char_features(word)`, without filling the fitting's cache.
            known = [vocabulary[f] for f in _grams(word) if f in vocabulary]
            cached = np.asarray(known, dtype=np.intp)
            if (
                len(self._words) < _WORD_CACHE and len(word) <= _CACHED_WORD
            ):  # bounded: made-up words
                self._words[word] = cached
        return cached

    def scores(self, text: str) -> npt.NDArray[np.float64]:
        """The decision value per label for a normalised text."""
        columns, weights = self.features(text)
        if not len(columns):
            return self._intercept.copy()
        coef = self._coef
        # Both layouts add each label's products in the order of the message's features, one
        # after the other, so dense and sparse coefficients give the same scores to the last
        # bit (and the same as scipy's `coef[columns].T @ weights`, which built two sparse
        # matrices per message: 0.25 ms of a 1.4 ms match on the catalogue). A summation
        # along the rows (axis 0) adds row after row; a matrix product would not.
        if isinstance(coef, np.ndarray):
            # The rows taken (a copy) and weighted in place: one array fewer than
            # `coef[columns] * weights[:, None]`, the same products.
            rows = coef.take(columns, axis=0)
            rows *= weights[:, None]
            product: npt.NDArray[np.float64] = rows.sum(axis=0)
            return product + self._intercept
        # Sparse (past `_DENSE_LIMIT`): the message as a one-row matrix times the coefficients,
        # scipy's C++ product, which adds each label's products in the message's feature order
        # too. At 30,000 synthetic phrasings (651 topics, 10.5M coefficients; ~100,000 read per
        # message) it cost p50 0.52 ms / p99 1.07 ms against 2.06 / 5.8 ms for the gather and
        # `np.bincount` it replaced, with scores equal to the bit on 650 messages (2026-12-07).
        message = sparse.csr_matrix(
            (weights, columns, np.array([0, len(columns)])), shape=(1, coef.shape[0])
        )
        summed: npt.NDArray[np.float64] = np.asarray((message @ coef).toarray(), np.float64)[0]
        return summed + self._intercept


def _counted(
    index: npt.NDArray[np.intp],
) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """`np.unique(index, return_counts=True)` for a non-empty array, the same arrays: sorted,
    the first of each run of equal values kept and the runs' lengths. Without np.unique's
    general machinery it costs half as much on a message's few hundred columns, read twice a
    read (tests/test_learned.py compares them)."""
    ordered = np.sort(index)
    first = np.empty(len(ordered), dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    starts = first.nonzero()[0]
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    ends[-1] = len(ordered)
    return ordered[starts], ends - starts


def _counts(
    texts: Sequence[str], analyser: Callable[[str], Sequence[str]]
) -> tuple[sparse.csr_matrix, dict[str, int]]:
    """How often each feature occurs in each text, and the features' columns: scikit-learn's
    count (a `TfidfVectorizer` counts the same way, then weighs)."""
    counter = CountVectorizer(analyzer=analyser)
    counts: sparse.csr_matrix = counter.fit_transform(texts)
    return counts, dict(counter.vocabulary_)


def _char_counts(texts: Sequence[str]) -> tuple[sparse.csr_matrix, dict[str, int]]:
    """`_counts(texts, char_features)`, the same counts and columns, without cutting every
    word of every text: a text's n-grams are its words' n-grams, so the counts are how often
    each word occurs in each text times how often each n-gram occurs in each word, and only
    the few thousand distinct words are cut (the catalogue: 2,600 words in 21,000 examples).
    Fitting both kinds of features went from 1.16 to 0.58 s of CPU (best of 4, interleaved,
    one pinned core of this 2-vCPU machine, 2026-12-07); tests/test_learned.py compares."""
    per_text, words = _counts(texts, _words)
    ordered = sorted(words, key=words.__getitem__)
    per_word, vocabulary = _counts(ordered, _grams)
    counts: sparse.csr_matrix = (per_text @ per_word).tocsr()
    # A row's columns in ascending order. scikit-learn's own count leaves them in the order the
    # features were first seen; the values are the same, and a row's weights then differ from
    # its `TfidfVectorizer` by at most 2e-16 (its norm summed in another order). Measured on the
    # catalogue's 21,000 examples: no tuning line moved.
    counts.sort_indices()
    return counts, vocabulary


def _laid_out(
    coef: sparse.csr_matrix,
) -> npt.NDArray[np.float64] | sparse.csr_matrix:
    """The coefficients as `scores` reads them: dense up to `_DENSE_LIMIT` cells."""
    rows, labels = coef.shape
    return coef.toarray() if rows * labels <= _DENSE_LIMIT else coef


def _one_vs_rest(
    matrix: sparse.csr_matrix,
    labels: npt.NDArray[np.intp],
    weights: npt.NDArray[np.float64],
    n_labels: int,
    c: float,
    keys: npt.NDArray[np.uint64],
    everyones: Sequence[int] = (),
) -> tuple[sparse.csr_matrix, npt.NDArray[np.float64]]:
    """One linear SVM per label, that label's examples against the others.

    With up to `_ALL_ROWS` examples each SVM sees all of them (scikit-learn's own one-vs-rest
    does the same). Past that, it sees the examples of its `_NEIGHBOURS` nearest labels (by
    the cosine of the labels' mean vectors: the ones it must be told apart from) and a sample
    of about `_SAMPLE` others (`_sampled`: chosen by each example's text, so that a phrasing
    added or removed changes no other example's place in it): one LinearSVC over all 43,000
    examples of a synthetic knowledge base of 10,000 phrasings and 228 topics took 77 s to
    fit, and the cost grows with examples times labels (bench/match.py).

    The examples of the `everyones` labels (other domains' language) are in every SVM's rows
    (up to half the sample's size), not only when they rank among its nearest: whether a
    topic learned that "đổi thẻ ATM" is not its own depended on a similarity in the fourth
    decimal place (the out-of-scope topic 13th for one birth topic, 0.4663 against its 12th's
    0.4672), and 74 phrasings of other domains added to it turned a civil-status topic's
    phrasing into its sibling's.
    """
    n_rows = matrix.shape[0]
    present = np.unique(labels)
    # Each label's rows in order, from one stable sort: a comparison of every row per label
    # (`np.flatnonzero(labels == k)`) cost 5 s of a 200 s build at 100,000 phrasings (2,051
    # labels, cProfile); the same arrays.
    ordered = np.argsort(labels, kind="stable")
    bounds = np.searchsorted(labels[ordered], present, side="right")
    by_label = {
        int(k): ordered[lo:hi] for k, lo, hi in zip(present, [0, *bounds[:-1]], bounds, strict=True)
    }
    indicator = sparse.csr_matrix(
        (np.ones(n_rows), (labels, np.arange(n_rows))), shape=(n_labels, n_rows)
    )
    centroids = normalize(indicator @ matrix)
    # Every label's similarity to every other at once: one product per label cost 12 s of a
    # 108 s build at 30,000 phrasings (604 topics).
    similar = (centroids @ centroids.T).tocsr() if n_rows > _ALL_ROWS else centroids[:0]
    # Very large knowledge bases: fewer negatives per label (the fits grow with labels x rows).
    big = n_rows > _BIG_ROWS
    neighbours, sample = (_NEIGHBOURS // 2, _SAMPLE // 2) if big else (_NEIGHBOURS, _SAMPLE)
    # Each label's non-zero coefficients as arrays: as lists of Python ints (a million of them
    # for the catalogue) the coefficients' assembly cost 0.24 s against 0.15 s (this 2-vCPU
    # machine, load average 1.7; 2026-12-07), and their memory. The same matrix, bit for bit.
    # The other domains' rows, for every SVM: all of them up to half the sample's size, past it
    # a sample of them chosen as `_sampled` chooses (the shipped catalogue's 1,300 are all in).
    # Without a bound, the 28 cloned out-of-scope topics of bench/match.py's 100,000 phrasings
    # put 2,000 rows into each of the 2,032 fits: 99 -> 180 s of CPU for the build (2026-12-07).
    outside = [by_label[k] for k in everyones if k in by_label]
    others = np.concatenate(outside) if outside else np.zeros(0, dtype=np.intp)
    coef_rows: list[npt.NDArray[np.intp]] = []
    coef_cols: list[int] = []
    coef_vals: list[npt.NDArray[np.float64]] = []
    intercept = np.full(n_labels, -1.0)
    for label in present.tolist():
        own = by_label[label]
        if n_rows <= _ALL_ROWS:
            rows = np.arange(n_rows)
        else:
            near = np.asarray(similar[label].todense()).ravel()
            near[label] = -1.0
            closest = np.argsort(-near, kind="stable")[:neighbours]
            always = others
            if len(others) > sample // 2:
                always = others[_sampled(keys[others], label, sample // 2)]
            picked = [own, always, *(by_label.get(int(k), own[:0]) for k in closest)]
            picked.append(_sampled(keys, label, sample))
            rows = np.unique(np.concatenate(picked))
        target = (labels[rows] == label).astype(np.intp)
        # One after the other: liblinear trains without the GIL, but every fit draws from one
        # process-wide Mersenne Twister (scikit-learn's svm/src/newrand/newrand.h, seeded as
        # each fit starts), so fits in threads interleave their draws. Two threads took 40 of
        # these fits from 4.9 to 2.4 s of wall time, and 0 of the 40 came out as fitted alone
        # (scikit-learn 1.9.1, 2026-12-07).
        svm = LinearSVC(C=c, random_state=0, tol=_TOL)
        svm.fit(matrix[rows], target, sample_weight=weights[rows])
        column = np.asarray(svm.coef_, dtype=np.float64)[0]
        if big:
            column[np.abs(column) < _PRUNE] = 0.0
        nonzero = np.flatnonzero(column)
        coef_rows.append(nonzero)
        coef_cols.append(label)
        coef_vals.append(column[nonzero])
        intercept[label] = float(svm.intercept_[0])
    values = np.concatenate(coef_vals) if coef_vals else np.zeros(0)
    rows_of = np.concatenate(coef_rows) if coef_rows else np.zeros(0, dtype=np.intp)
    cols_of = np.repeat(np.asarray(coef_cols, dtype=np.intp), [len(r) for r in coef_rows])
    coef = sparse.csr_matrix((values, (rows_of, cols_of)), shape=(matrix.shape[1], n_labels))
    return coef, intercept


def _sampled(keys: npt.NDArray[np.uint64], label: int, size: int) -> npt.NDArray[np.intp]:
    """About `size` of the rows, the same ones for the same texts whatever else the knowledge
    base holds: each row is in when a hash of its text's key and the label falls under
    size / rows. The sample this replaced (`rng.choice(rows, size)`, seeded by the label) was
    a new one at every change: one phrasing added anywhere re-drew every topic's negatives, and
    dropping one moved 24-49 of 2,863 evaluation lines (0-1 with this sample, 2026-12-07)."""
    if size >= len(keys):
        return np.arange(len(keys))
    x = keys ^ np.uint64((label * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF)
    # splitmix64's finaliser: every bit of the key and the label reaches every bit of x.
    x ^= x >> np.uint64(30)
    x *= np.uint64(0xBF58476D1CE4E5B9)
    x ^= x >> np.uint64(27)
    x *= np.uint64(0x94D049BB133111EB)
    x ^= x >> np.uint64(31)
    threshold = np.uint64(int(size / len(keys) * 2**64))
    return np.flatnonzero(x <= threshold)


def examples_of(texts: Iterable[tuple[str, int, float]]) -> list[Example]:
    """Examples from (normalised text, label, weight), empty texts left out, each text once
    per label."""
    seen: set[tuple[str, int]] = set()
    out: list[Example] = []
    for text, label, weight in texts:
        if text and (text, label) not in seen:
            seen.add((text, label))
            out.append(Example(text, label, weight))
    return out
