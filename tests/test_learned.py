"""The learned signal: scores read off the fitted model equal scikit-learn's, and it learns."""

from __future__ import annotations

import pickle
import zlib

import numpy as np
import pytest
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
from sklearn.svm import LinearSVC

from bot.understanding import learned
from bot.understanding.learned import (
    ANALYSERS,
    Example,
    LearnedModel,
    char_features,
    examples_of,
    word_features,
)

BIRTH, MARRIAGE, COPY = 0, 1, 2
EXAMPLES = examples_of(
    [
        ("dang ky khai sinh cho con", BIRTH, 1.0),
        ("lam giay khai sinh cho be moi sinh", BIRTH, 1.0),
        ("khai sinh can giay to gi", BIRTH, 1.0),
        ("dang ky ket hon can gi", MARRIAGE, 1.0),
        ("hai dua muon ket hon thi lam the nao", MARRIAGE, 1.0),
        ("thu tuc dang ky ket hon o xa", MARRIAGE, 1.0),
        ("chung thuc ban sao bang tot nghiep", COPY, 1.0),
        ("sao y ban chinh can cuoc", COPY, 1.0),
        ("chung thuc ban sao het bao nhieu tien", COPY, 1.0),
    ]
)


def _vectorisers(model: LearnedModel, rows: list[Example]) -> list[TfidfVectorizer]:
    """scikit-learn's vectorisers fitted on the model's examples: the model's own features
    are the same columns with the same weights."""
    texts = [e.text for e in rows]
    fitted = [
        TfidfVectorizer(analyzer=analyser, sublinear_tf=True, dtype=np.float64).fit(texts)
        for analyser in ANALYSERS
    ]
    for part, vectoriser in zip(model._parts, fitted, strict=True):
        assert part.vocabulary == vectoriser.vocabulary_
        np.testing.assert_array_equal(part.idf, vectoriser.idf_)
    return fitted


def _matrix(
    model: LearnedModel, texts: list[str], rows: list[Example] = EXAMPLES
) -> sparse.csr_matrix:
    """`texts` as scikit-learn's vectorisers fitted on `rows` (the model's examples) read them."""
    return sparse.hstack([v.transform(texts) for v in _vectorisers(model, rows)]).tocsr()


def _sklearn_scores(model: LearnedModel, texts: list[str]) -> np.ndarray:
    """Scores through scikit-learn's vectorisers and a plain matrix product."""
    matrix = _matrix(model, texts)
    coef = model._coef.toarray() if sparse.issparse(model._coef) else model._coef
    return np.asarray(matrix @ coef) + model._intercept


def _binary_svm(model: LearnedModel, label: int, rows: list[Example]) -> np.ndarray:
    matrix = _matrix(model, [e.text for e in rows], rows)
    svm = LinearSVC(C=0.5, random_state=0, tol=learned._TOL)
    svm.fit(matrix, [int(e.label == label) for e in rows], sample_weight=[e.weight for e in rows])
    return svm


@pytest.mark.parametrize("dense_limit", [5_000_000, 0])
def test_scores_equal_scikit_learns(dense_limit: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Our feature reading equals scikit-learn's vectorisers, dense and sparse coefficients,
    and each label's column is scikit-learn's SVM of that label against the rest."""
    monkeypatch.setattr(learned, "_DENSE_LIMIT", dense_limit)
    model = LearnedModel(EXAMPLES, 3)
    assert sparse.issparse(model._coef) is (dense_limit == 0)
    probe = ["khai sinh cho con", "chung thuc ban sao giay khai sinh"]
    for label in (BIRTH, MARRIAGE, COPY):
        svm = _binary_svm(model, label, EXAMPLES)
        expected = svm.decision_function(_matrix(model, probe))
        ours = [model.scores(t)[label] for t in probe]
        np.testing.assert_allclose(ours, expected, atol=1e-9)
    texts = [
        "khai sinh cho con",
        "ket hon",
        "chung thuc ban sao giay khai sinh",
        "zzz qqq",  # no known feature: the intercepts
        "dang ky dang ky dang ky khai sinh",  # repeated features: sublinear tf
    ]
    ours = np.array([model.scores(t) for t in texts])
    np.testing.assert_allclose(ours, _sklearn_scores(model, texts), atol=1e-9)


def test_dense_and_sparse_coefficients_score_the_same_to_the_last_bit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Both layouts add a label's products in the order of the message's features: which one a
    knowledge base gets (by its size) never changes a score, hence never a decision. Fitted on
    samples, as a large knowledge base is, each label has zero coefficients the sparse layout
    skips and the dense one adds."""
    monkeypatch.setattr(learned, "_ALL_ROWS", 4)
    monkeypatch.setattr(learned, "_NEIGHBOURS", 1)
    monkeypatch.setattr(learned, "_SAMPLE", 2)
    texts = [e.text for e in EXAMPLES] + ["khai sinh ket hon chung thuc ban sao sao y can cuoc"]
    dense = LearnedModel(EXAMPLES, 3)
    monkeypatch.setattr(learned, "_DENSE_LIMIT", 0)
    thin = LearnedModel(EXAMPLES, 3)
    assert isinstance(dense._coef, np.ndarray) and sparse.issparse(thin._coef)
    assert np.count_nonzero(dense._coef == 0)
    for text in texts:
        assert np.array_equal(dense.scores(text), thin.scores(text)), text


def test_a_kept_model_is_stored_sparse_and_read_back_dense() -> None:
    model = LearnedModel(EXAMPLES, 3)
    assert isinstance(model._coef, np.ndarray)
    stored = pickle.dumps(model)
    assert b"csr_matrix" in stored
    again = pickle.loads(stored)
    assert isinstance(again._coef, np.ndarray)
    assert np.array_equal(again._coef, model._coef)
    for text in ("khai sinh cho con", "zzz", "chung thuc ban sao"):
        assert np.array_equal(again.scores(text), model.scores(text))


def test_two_labels_are_scored_both_ways() -> None:
    two = [e for e in EXAMPLES if e.label != COPY]
    model = LearnedModel(two, 3)
    scores = model.scores("ket hon o xa")
    assert scores[MARRIAGE] > 0 > scores[BIRTH]
    np.testing.assert_allclose(scores[BIRTH], -scores[MARRIAGE], atol=1e-4)  # solver tolerance
    assert scores[COPY] == -1.0  # a label with no examples never wins


def test_it_learns_the_examples_and_generalises_to_typos() -> None:
    model = LearnedModel(EXAMPLES, 3)
    assert int(np.argmax(model.scores("khaisinh cho be"))) == BIRTH
    assert int(np.argmax(model.scores("dang ki ket hon"))) == MARRIAGE
    assert int(np.argmax(model.scores("chung thuc ban sao"))) == COPY


def test_one_label_or_none_scores_minus_one_everywhere() -> None:
    one = LearnedModel([Example("khai sinh", BIRTH)], 3)
    assert one.scores("khai sinh").tolist() == [-1.0, -1.0, -1.0]
    assert LearnedModel([], 2).scores("").tolist() == [-1.0, -1.0]
    assert one.size == 0


def test_past_all_rows_each_svm_sees_its_neighbours_and_a_sample(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A large knowledge base is fitted on samples; the examples are still learned."""
    monkeypatch.setattr(learned, "_ALL_ROWS", 4)
    monkeypatch.setattr(learned, "_NEIGHBOURS", 1)
    monkeypatch.setattr(learned, "_SAMPLE", 2)
    model = LearnedModel(EXAMPLES, 3)
    for example in EXAMPLES:
        assert int(np.argmax(model.scores(example.text))) == example.label


def _keys(texts: list[str]) -> np.ndarray:
    return np.array([zlib.crc32(t.encode()) for t in texts], dtype=np.uint64)


def test_the_sample_of_other_examples_is_chosen_by_their_texts() -> None:
    """One example added or removed leaves every other example where it was (2026-12-07: with
    the old label-seeded `rng.choice`, one phrasing dropped moved 24-49 of 2,863 evaluation
    lines; chosen by text, 0-1)."""
    texts = [f"cau hoi so {i}" for i in range(20_000)]
    before = set(learned._sampled(_keys(texts), 7, 3_000).tolist())
    assert 2_800 < len(before) < 3_200
    after = set(learned._sampled(_keys([*texts, "mot cau moi"]), 7, 3_000).tolist())
    # The new row may join; an old one changes place only at the edge of the threshold.
    assert len(before ^ (after - {20_000})) <= 2
    removed = set(learned._sampled(_keys(texts[1:]), 7, 3_000).tolist())
    assert len({i - 1 for i in before if i} ^ removed) <= 2
    # Each label draws its own sample; a small knowledge base gives all its rows.
    other = set(learned._sampled(_keys(texts), 8, 3_000).tolist())
    assert len(before & other) < 1_000
    assert learned._sampled(_keys(texts[:10]), 7, 3_000).tolist() == list(range(10))


def test_empty_text_scores_the_intercepts() -> None:
    model = LearnedModel(EXAMPLES, 3)
    np.testing.assert_allclose(model.scores(""), _sklearn_scores(model, [""])[0])


def test_fitting_is_deterministic() -> None:
    a = LearnedModel(EXAMPLES, 3).scores("lam khai sinh cho con o xa")
    b = LearnedModel(EXAMPLES, 3).scores("lam khai sinh cho con o xa")
    assert a.tolist() == b.tolist()


def test_examples_drop_empty_texts_and_repeats() -> None:
    rows = examples_of([("a b", 0, 1.0), ("", 1, 1.0), ("a b", 0, 2.0), ("a b", 1, 1.0)])
    assert rows == [Example("a b", 0, 1.0), Example("a b", 1, 1.0)]


def test_features_are_char_ngrams_inside_words_and_word_pairs() -> None:
    assert char_features("ab") == [" a", "ab", "b ", " ab", "ab ", " ab "]
    assert word_features("khai sinh con") == [
        "khai",
        "sinh",
        "con",
        "khai sinh",
        "sinh con",
    ]


@pytest.mark.parametrize("size", [100_000])
def test_a_huge_text_reads_only_its_first_words(size: int) -> None:
    model = LearnedModel(EXAMPLES, 3)
    text = "khai sinh " * size
    assert len(char_features(text)) == len(char_features("khai sinh " * 80))
    assert int(np.argmax(model.scores(text))) == BIRTH


@pytest.mark.parametrize("size", [1, 2, 7, 300])
def test_counted_gives_what_np_unique_gives(size: int) -> None:
    # `features` counts a message's columns without np.unique: the same values, counts and
    # dtypes, or the scores would move.
    rng = np.random.default_rng(size)
    index = rng.integers(0, max(2, size // 3), size).astype(np.intp)
    values, counts = learned._counted(index)
    want_values, want_counts = np.unique(index, return_counts=True)
    assert values.dtype == want_values.dtype and counts.dtype == want_counts.dtype
    assert values.tolist() == want_values.tolist()
    assert counts.tolist() == want_counts.tolist()


def _uncached_char_features(text: str) -> list[str]:
    out: list[str] = []
    for word in text.split()[:160]:
        padded = f" {word} "
        for n in range(2, min(4, len(padded)) + 1):
            out.extend(padded[i : i + n] for i in range(len(padded) - n + 1))
    return out


@pytest.mark.parametrize(
    "text",
    ["a", "khai sinh khai sinh cho con", "x" * 30 + " " + "y" * 31, "ab " * 200, "", "  b  "],
)
def test_char_features_are_each_words_grams_in_order(text: str) -> None:
    assert char_features(text) == _uncached_char_features(text)


def test_char_counts_by_word_equal_counting_every_gram() -> None:
    """Counting each word's n-grams once and multiplying by the words' counts gives the matrix
    and columns of scikit-learn counting every n-gram of every text."""
    texts = [
        *(e.text for e in EXAMPLES),
        "khai sinh khai sinh khai sinh",  # a word repeated: its n-grams counted each time
        "x" * 40 + " khai",  # a long word
        " ".join(f"w{i}" for i in range(200)),  # past the words a text's features read
        "a",
    ]
    counter = CountVectorizer(analyzer=char_features)
    expected = counter.fit_transform(texts)
    counts, vocabulary = learned._char_counts(texts)
    assert vocabulary == counter.vocabulary_
    np.testing.assert_array_equal(counts.toarray(), expected.toarray())
    assert counts.has_sorted_indices


def test_a_very_large_model_drops_its_smallest_coefficients(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past `_BIG_ROWS` examples no coefficient under `_PRUNE` is kept (they cost reading time
    at every message and move no decision); under it, the fit keeps them all."""
    monkeypatch.setattr(learned, "_PRUNE", 0.2)
    whole = LearnedModel(EXAMPLES, 3)
    assert isinstance(whole._coef, np.ndarray)
    small = np.count_nonzero((whole._coef != 0) & (np.abs(whole._coef) < 0.2))
    assert small > 0  # the fit has such coefficients: the check below can fail
    monkeypatch.setattr(learned, "_ALL_ROWS", 4)
    monkeypatch.setattr(learned, "_BIG_ROWS", 4)
    pruned = LearnedModel(EXAMPLES, 3)
    assert isinstance(pruned._coef, np.ndarray)
    kept = pruned._coef[pruned._coef != 0]
    assert len(kept) and np.all(np.abs(kept) >= 0.2)
    assert pruned.scores("dang ky khai sinh cho con").argmax() == BIRTH


def _fits_see(
    monkeypatch: pytest.MonkeyPatch,
    labels: list[int],
    sample: int,
    everyones: list[int],
) -> list[set[int]]:
    """The rows each label's SVM is fitted on, past `_ALL_ROWS`, with one nearest label and
    about `sample` others; each row is its own feature column, so a fit's columns are its rows."""
    monkeypatch.setattr(learned, "_ALL_ROWS", 4)
    monkeypatch.setattr(learned, "_NEIGHBOURS", 1)
    monkeypatch.setattr(learned, "_SAMPLE", sample)
    seen: list[set[int]] = []

    class Recording(LinearSVC):  # type: ignore[misc]
        def fit(self, x: sparse.csr_matrix, *args: object, **kwargs: object) -> Recording:
            seen.append(set(x.nonzero()[1].tolist()))
            return super().fit(x, *args, **kwargs)  # type: ignore[no-any-return]

    monkeypatch.setattr(learned, "LinearSVC", Recording)
    n = len(labels)
    rows = sparse.identity(n, format="csr")  # no two labels alike: the first is the nearest
    keys = np.arange(n, dtype=np.uint64)
    learned._one_vs_rest(rows, np.array(labels), np.ones(n), max(labels) + 1, 0.5, keys, everyones)
    return seen


def test_every_label_is_fitted_against_the_everyones_labels(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past `_ALL_ROWS`, a label's SVM sees its own rows, its nearest labels' and a sample;
    the `everyones` labels' rows (other domains' language) are always among them."""
    labels = [0, 0, 1, 1, 2, 2, 3, 3]
    keys = np.arange(8, dtype=np.uint64)
    sampled = set(learned._sampled(keys, 2, 4).tolist())
    assert not sampled & {6, 7}  # label 3's rows are not in label 2's sample by chance
    plain = _fits_see(monkeypatch, labels, 4, [])
    assert not plain[2] & {6, 7}
    assert plain[2] >= {0, 1, 4, 5}  # its own rows and its nearest's (label 0)
    seen = _fits_see(monkeypatch, labels, 4, [3])
    assert seen[2] == plain[2] | {6, 7}
    assert all(fit >= {6, 7} for fit in seen)


def test_many_everyones_rows_are_sampled_up_to_half_the_sample(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Many other-domain rows (the benchmark's cloned out-of-scope topics) are not all added to
    every fit: about half the sample's size of them, the same ones at every fit of the label."""
    labels = [0, 0, 1, 1] + [2] * 40
    first = _fits_see(monkeypatch, labels, 8, [2])
    again = _fits_see(monkeypatch, labels, 8, [2])
    assert first == again
    outside = set(range(4, 44))
    for fit in first[:2]:  # labels 0 and 1
        assert 0 < len(fit & outside) < 20
    assert first[2] >= outside  # label 2's own rows: all of them
