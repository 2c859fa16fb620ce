"""Correct misspelled tokens against the knowledge base's own vocabulary.

"khia tử", "tríc lục", "tình trạg", "chuwng thuwcj": a token nobody wrote in the knowledge base is
replaced by the closest known word, when one is close enough. Candidates come cheaply from a
character-bigram index; rapidfuzz's OSA distance (which counts a swap of two letters as one edit)
then ranks them, with an explicit cutoff: rapidfuzz applies none by default.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable
from string import ascii_lowercase

from rapidfuzz import process
from rapidfuzz.distance import OSA

from bot.text import telex_variants


def _bigrams(token: str) -> set[str]:
    padded = f"^{token}$"
    return {padded[i : i + 2] for i in range(len(padded) - 1)}


def _deletions(word: str) -> set[str]:
    """The word and every string one letter shorter."""
    return {word, *(word[:i] + word[i + 1 :] for i in range(len(word)))}


class Speller:
    """Maps unknown tokens to known ones. Built once per knowledge base; `correct` is cached."""

    def __init__(self, words: Iterable[str], preferred: Iterable[str]) -> None:
        self._freq: Counter[str] = Counter(w for w in words if w.isalpha())
        self._preferred = frozenset(preferred)
        self._freq.update(self._preferred)
        self._by_bigram: dict[str, list[str]] = defaultdict(list)
        for word in self._freq:
            for bg in _bigrams(word):
                self._by_bigram[bg].append(word)
        self._near: dict[str, list[tuple[str, int]]] = {}
        self._deleted: defaultdict[str, list[str]] | None = None  # built by `corrects`

    def known(self, token: str) -> bool:
        return token in self._freq

    def correct(self, token: str) -> str:
        """The best known word at most one edit away (or a Telex reading), else the token.

        Free correction stays within one edit: "password" must not become "passport".
        """
        for word, edits in self._near_words(token):
            if edits <= 1:
                return word
        return token

    def restore(self, token: str, min_len: int = 7) -> str:
        """For a long unknown word: the key-term word it is with one letter dropped
        ("foregner", "certifcate") or two neighbouring letters swapped ("foriegner"), else the
        token. English words we lack are not corrected freely ("field" is not "filed",
        "spending" not "pending", "remain" not "regain": on the evaluation sets one free edit
        turned 12 English words into other words); these two slips of a long word left no
        such word (2026-12-08)."""
        if len(token) < min_len or not self._correctable(token) or not token.isalpha():
            return token
        for i in range(len(token) + 1):
            for letter in ascii_lowercase:
                word = token[:i] + letter + token[i:]
                if word in self._preferred:
                    return word
        for i in range(len(token) - 1):
            word = token[:i] + token[i + 1] + token[i] + token[i + 2 :]
            if word in self._preferred:
                return word
        return token

    def corrects(self, token: str) -> bool:
        """Whether `correct` would change the token, without ranking candidates: a Telex reading
        or a known word one edit away (OSA) exists. The knowledge base's build asks this of
        every word a single phrasing holds (`speller_of`); through `correct`, at 100,000
        synthetic phrasings (131,588 distinct words, bench/match.py) it had not finished in 13
        minutes of CPU, each word's candidate pool being every word sharing a letter pair.

        A word one edit away shares the token itself or one of its one-letter deletions with
        the word or one of its deletions (a swap of two letters included: "xaby" and "xbay"
        both give "xby"), so the deletions index (`_deletions`) finds every such word.
        """
        if not self._correctable(token):
            return False
        if any(v in self._freq for v in telex_variants(token)):
            return True
        if not token.isalpha():
            return False
        index = self._deletions_index()
        for key in _deletions(token):
            for word in index.get(key, ()):
                if OSA.distance(token, word, score_cutoff=1) <= 1:
                    return True
        return False

    def _correctable(self, token: str) -> bool:
        """An unknown word of three or more letters and digits, not a number: the only tokens
        `correct` and `corrects` look at."""
        return (
            token not in self._freq and token.isalnum() and not token.isdigit() and len(token) >= 3
        )

    def _deletions_index(self) -> dict[str, list[str]]:
        if self._deleted is None:
            self._deleted = defaultdict(list)
            for word in self._freq:
                for key in _deletions(word):
                    self._deleted[key].append(word)
        return self._deleted

    def candidates(self, token: str) -> list[str]:
        """Known words near an unknown token (up to two edits for long words), best first.

        The caller accepts one only where context supports it (it completes a key term).
        """
        return [word for word, _ in self._near_words(token)]

    def _near_words(self, token: str) -> list[tuple[str, int]]:
        if not self._correctable(token):
            return []
        cached = self._near.get(token)
        if cached is not None:
            return cached
        found = [(v, 0) for v in telex_variants(token) if v in self._freq]
        if token.isalpha():
            seen = {w for w, _ in found}
            found.extend(item for item in self._fuzzy(token) if item[0] not in seen)
        if len(self._near) < 100_000:
            self._near[token] = found
        return found

    def _fuzzy(self, token: str) -> list[tuple[str, int]]:
        pool: set[str] = set()
        for bg in _bigrams(token):
            pool.update(w for w in self._by_bigram.get(bg, ()) if abs(len(w) - len(token)) <= 2)
        if not pool:
            return []
        max_edits = 1 if len(token) <= 5 else 2
        # Sorted: a set's order changes with the process's hash seed, and with it which of
        # several equally near words won (the same message was read two ways in two runs).
        found = process.extract(
            token,
            sorted(pool),
            scorer=OSA.distance,
            processor=None,
            score_cutoff=max_edits,
            limit=12,
        )
        # Fewest edits first; among equals, a word of the knowledge base's key terms, then the
        # same length (a swapped or wrong letter is likelier than a dropped one), then frequency,
        # then the word itself.
        found.sort(
            key=lambda item: (
                item[1],
                item[0] not in self._preferred,
                len(item[0]) != len(token),
                -self._freq[item[0]],
                item[0],
            )
        )
        return [(str(item[0]), int(item[1])) for item in found]
