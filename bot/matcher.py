"""Rank the knowledge base's topics for one message. Pure: the index is built once, then read.

A message is scored per topic from three signals, in order of weight:
1. key terms: the weighted terms of each topic's `match.keywords` found in the message (longest
   match first, each term counted once, negative terms pull towards a sibling topic);
2. lexical similarity to the topic's example phrasings, BM25 over folded tokens and bigrams;
3. fuzzy similarity (rapidfuzz token_set_ratio) of the whole message to the closest phrasing of
   the few topics already in the running.
Misspelled tokens are first corrected against the knowledge base's vocabulary (`Speller`).
The best topic is accepted above `accept` with a `margin` over the next; between `clarify` and
`accept` the bot asks which was meant; below, the topic is `None`.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.facets import detect_facets
from bot.knowledge import KnowledgeBase, Topic
from bot.models import Candidate, Match
from bot.spelling import Speller
from bot.text import detect_lang, tokens

# Words too common in citizens' questions to say anything about the topic. They still count
# for the speller's vocabulary and for the facet detector.
_STOP = frozenset(
    (
        "a ad admin oi cho em hoi xin toi minh anh chi ban nhe vay roi thi la co khong duoc lam "
        "the nao gi nhu can muon phai di o dau bao nhieu thu tuc ho so giay to dang ky va voi cua "
        "nay do ma de khi nao neu nhung cac mot hay hoac ve tai tu den ra len vao bi da dang se "
        "con nha ong ba bo me vo chong ah nua gium giup voi hien nay sao vui long "
        "i my me we you the a an is are am was be do does did how what where when can could "
        "would should will to of in on at for from with by and or please need want get have "
        "it this that there about any some thanks hello hi"
    ).split()
)


@dataclass(frozen=True, slots=True)
class MatcherSettings:
    """Thresholds on the raw score scale (a keyword of weight 5 scores 5)."""

    accept: float = 4.0
    margin: float = 1.0
    clarify: float = 2.5
    anchor: float = 3.0  # an accepted topic needs one key term at least this strong...
    fuzzy_anchor: float = 88.0  # ...or a phrasing this similar (token_set_ratio, 0-100)
    fuzzy_cutoff: float = 60.0
    fuzzy_weight: float = 3.0
    bm25_weight: float = 2.0
    max_candidates: int = 3
    rescore_top: int = 6


@dataclass(frozen=True, slots=True)
class _Term:
    tokens: tuple[str, ...]
    topic: int
    weight: float
    term_id: int


@dataclass
class _Hit:
    start: int
    end: int
    weight: float
    term_id: int


def _grams(toks: Sequence[str]) -> list[str]:
    content = [t for t in toks if t not in _STOP]
    return content + [f"{a}_{b}" for a, b in itertools.pairwise(content)]


class Matcher:
    """An index over one knowledge base. Build with `Matcher(kb)`; call `match(text)`."""

    def __init__(self, kb: KnowledgeBase, settings: MatcherSettings | None = None) -> None:
        self.settings = settings or MatcherSettings()
        self.topics: list[Topic] = list(kb.topics.values())
        self._terms: dict[str, list[_Term]] = defaultdict(list)
        self._max_term = 1
        preferred: set[str] = set()
        term_id = 0
        for idx, topic in enumerate(self.topics):
            for text, weight in topic.keywords:
                toks = tokens(text)
                if not toks:
                    continue
                self._terms[toks[0]].append(_Term(toks, idx, weight, term_id))
                term_id += 1
                self._max_term = max(self._max_term, len(toks))
                preferred.update(toks)
        self._phrasings: list[list[str]] = [
            [" ".join(tokens(p)) for p in t.phrasings] for t in self.topics
        ]
        self._build_bm25()
        vocabulary: list[str] = []
        for topic in self.topics:
            vocabulary.extend(_topic_words(topic))
        self.speller = Speller(vocabulary, preferred)

    # --- BM25 over each topic's phrasings taken as one document -------------------------
    def _build_bm25(self, k1: float = 1.2, b: float = 0.75) -> None:
        docs: list[Counter[str]] = []
        for phrasings in self._phrasings:
            counts: Counter[str] = Counter()
            for p in phrasings:
                counts.update(set(_grams(p.split())))
            docs.append(counts)
        n = len(docs)
        avg = sum(sum(d.values()) for d in docs) / max(n, 1)
        df: Counter[str] = Counter()
        for d in docs:
            df.update(d.keys())
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        for idx, d in enumerate(docs):
            length = sum(d.values())
            for gram, tf in d.items():
                idf = math.log(1 + (n - df[gram] + 0.5) / (df[gram] + 0.5))
                weight = idf * tf * (k1 + 1) / (tf + k1 * (1 - b + b * length / max(avg, 1)))
                self._postings[gram].append((idx, weight))

    def normalise(self, text: str) -> tuple[str, ...]:
        """Tokens of `text` after folding, teencode and spelling correction."""
        return tuple(self.speller.correct(t) for t in tokens(text))

    def _key_terms(self, toks: Sequence[str]) -> tuple[dict[int, float], dict[int, float]]:
        hits: dict[int, list[_Hit]] = defaultdict(list)
        for i, tok in enumerate(toks):
            for term in self._terms.get(tok, ()):
                end = i + len(term.tokens)
                if tuple(toks[i:end]) == term.tokens:
                    hits[term.topic].append(_Hit(i, end, term.weight, term.term_id))
        scores: dict[int, float] = {}
        strongest: dict[int, float] = {}
        for topic, found in hits.items():
            found.sort(key=lambda h: (h.start - h.end, h.start))
            taken: list[_Hit] = []
            seen: set[int] = set()
            for hit in found:
                if hit.term_id in seen:
                    continue
                if any(hit.start < t.end and t.start < hit.end for t in taken):
                    continue
                taken.append(hit)
                seen.add(hit.term_id)
            scores[topic] = sum(h.weight for h in taken)
            strongest[topic] = max((h.weight for h in taken), default=0.0)
        return scores, strongest

    def _bm25(self, toks: Sequence[str]) -> dict[int, float]:
        scores: dict[int, float] = defaultdict(float)
        for gram in set(_grams(toks)):
            for idx, weight in self._postings.get(gram, ()):
                scores[idx] += weight
        return scores

    def match(self, text: str) -> Match:
        s = self.settings
        lang = detect_lang(text)
        toks = self.normalise(text)
        facets = detect_facets(toks)
        key, strongest = self._key_terms(toks)
        bm25 = self._bm25(toks)
        top_bm25 = max(bm25.values(), default=0.0)
        scores: dict[int, float] = {}
        for idx in set(key) | set(bm25):
            lexical = bm25.get(idx, 0.0) / top_bm25 if top_bm25 > 0 else 0.0
            scores[idx] = key.get(idx, 0.0) + s.bm25_weight * lexical * min(1.0, top_bm25 / 8)
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])[: s.rescore_top]
        query = " ".join(toks)
        similarity: dict[int, float] = {}
        for idx, _ in ranked:
            best = 0.0
            for phrasing in self._phrasings[idx]:
                score = fuzz.token_set_ratio(
                    query, phrasing, processor=None, score_cutoff=max(best, s.fuzzy_cutoff)
                )
                best = max(best, score)
            similarity[idx] = best
            if best:
                bonus = (best - s.fuzzy_cutoff) / (100 - s.fuzzy_cutoff)
                scores[idx] += s.fuzzy_weight * bonus
        ranked = sorted(((i, scores[i]) for i, _ in ranked), key=lambda kv: -kv[1])
        candidates = tuple(
            Candidate(self.topics[i].id, round(_squash(v), 3)) for i, v in ranked if v > 0
        )[: s.max_candidates]
        if not ranked or ranked[0][1] < s.clarify:
            return Match("none", None, _squash(ranked[0][1]) if ranked else 0.0, (), facets, lang)
        best_idx, best = ranked[0]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        anchored = (
            strongest.get(best_idx, 0.0) >= s.anchor
            or similarity.get(best_idx, 0.0) >= s.fuzzy_anchor
        )
        if best >= s.accept and best - second >= s.margin and anchored:
            topic = self.topics[best_idx].id
            return Match("accept", topic, _squash(best), candidates, facets, lang)
        close = tuple(c for c in candidates if c.score >= _squash(s.clarify))
        if not anchored and not any(strongest.get(i, 0.0) >= s.anchor for i, _ in ranked[:3]):
            return Match("none", None, _squash(best), close, facets, lang)
        return Match("clarify", close[0].topic, _squash(best), close, facets, lang)


def _squash(raw: float) -> float:
    """Raw scores are unbounded sums; report them in [0, 1) for people and logs."""
    return round(1 - math.exp(-max(raw, 0.0) / 5), 3)


def _topic_words(topic: Topic) -> Iterable[str]:
    texts = [topic.name.vi, topic.name.en, topic.summary.vi, topic.summary.en]
    texts.extend(t for t, _ in topic.keywords)
    texts.extend(topic.phrasings)
    for facet in topic.facets.values():
        texts.extend((facet.vi, facet.en))
    for text in texts:
        yield from tokens(text)
