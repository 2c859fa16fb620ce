"""Benchmark the matcher: index build time and memory, per-message latency, accuracy.

Not part of the test suite. Run from the repository root:

    .venv/bin/python bench/match.py            # default, about two minutes
    .venv/bin/python bench/match.py --quick    # fewer repetitions

It measures, on one CPU core:
1. the real knowledge base: build time, index memory (tracemalloc), latency percentiles over
   the evaluation questions (cold first pass and warm repeated passes);
2. a synthetic knowledge base of `--phrasings` phrasings, cloned from the real topics with
   recombined and made-up vocabulary, the same figures;
3. a naive baseline, rapidfuzz `process.extractOne` (WRatio) over every phrasing, for latency
   and topic accuracy.
Only the matcher's public API is used: `Matcher(kb)`, `match(text)` and the knowledge dataclasses.
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import gc
import io
import json
import math
import os
import pstats
import random
import re
import sys
import time
import tracemalloc
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from rapidfuzz import fuzz, process, utils

from bot.knowledge import KnowledgeBase, Topic, load
from bot.text import tokens
from bot.understanding.matcher import Matcher

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "data" / "eval.jsonl"
DEV = ROOT.parent / "shared" / "eval" / "dev.jsonl"

REAL_P99_BAR_MS = 1.0
BIG_P99_BAR_MS = 5.0

T = TypeVar("T")

# Pieces of made-up Vietnamese-looking syllables, so the synthetic vocabulary grows.
_ONSETS = (*"b c ch d đ g gi h k kh l m n ng nh ph qu r s t th tr v x".split(), "")
_NUCLEI = (
    "a á à ả ã ạ ă ắ ằ â ấ ầ e é è ê ế ề i í ì o ó ò ô ố ồ ơ ớ ờ u ú ù ư ứ ừ y ý "
    "oa oá uy uyê iê iế ươ ướ uô uố"
).split()
_CODAS = ("", "", "c", "ch", "m", "n", "ng", "nh", "p", "t", "i", "o", "u")
_WORD = re.compile(r"\w+")


@dataclasses.dataclass(frozen=True, slots=True)
class Item:
    q: str
    expect: tuple[str, ...]
    source: str


@dataclasses.dataclass(frozen=True, slots=True)
class Stats:
    calls: int
    p50: float
    p95: float
    p99: float
    max: float

    @classmethod
    def of(cls, ns: Sequence[int]) -> Stats:
        ms = sorted(v / 1e6 for v in ns)
        return cls(len(ms), _pct(ms, 50), _pct(ms, 95), _pct(ms, 99), ms[-1] if ms else math.nan)


def _pct(sorted_ms: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_ms:
        return math.nan
    rank = max(1, math.ceil(q / 100 * len(sorted_ms)))
    return sorted_ms[rank - 1]


def pin_one_core() -> str:
    if not hasattr(os, "sched_setaffinity"):
        return "not pinned: os.sched_setaffinity is unavailable on this platform"
    cpus = sorted(os.sched_getaffinity(0))
    os.sched_setaffinity(0, {cpus[0]})
    return f"pinned to CPU {cpus[0]} (of {len(cpus)} allowed) with os.sched_setaffinity"


def read_items(path: Path) -> list[Item]:
    items: list[Item] = []
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                row = json.loads(line)
                items.append(Item(str(row["q"]), tuple(row.get("expect", ())), path.name))
    return items


@dataclasses.dataclass(frozen=True, slots=True)
class Built:
    matcher: Matcher
    seconds: float
    retained: int | None  # bytes tracemalloc saw allocated and still held after the build
    peak: int | None


def build(kb: KnowledgeBase, trace: bool = True) -> Built:
    """Build twice: once timed without tracing, once under tracemalloc for the memory.

    tracemalloc slows the build several times over, so its build is not the one timed.
    """
    gc.collect()
    start = time.perf_counter()
    matcher = Matcher(kb)
    seconds = time.perf_counter() - start
    # As `bot serve` and the reloader do after a build: the index's millions of objects are
    # moved out of the collector's sight, or a full collection in the middle of a message
    # costs tens of milliseconds.
    gc.collect()
    gc.freeze()
    if not trace:
        return Built(matcher, seconds, None, None)
    gc.collect()
    tracemalloc.start()
    before, _ = tracemalloc.get_traced_memory()
    traced = Matcher(kb)
    after, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del traced
    gc.collect()
    return Built(matcher, seconds, after - before, peak - before)


def timed(
    fn: Callable[[str], T], messages: Sequence[str], reps: int = 1
) -> tuple[list[int], list[T]]:
    """Nanoseconds per call over `reps` passes, and the results of the last pass."""
    ns: list[int] = []
    results: list[T] = []
    clock = time.perf_counter_ns
    for _ in range(reps):
        results = []
        for text in messages:
            start = clock()
            result = fn(text)
            ns.append(clock() - start)
            results.append(result)
    return ns, results


def topic_accuracy(
    items: Sequence[Item], predicted: Sequence[str | None], source: str | None = None
) -> tuple[int, int]:
    """In-scope items (non-empty `expect`) whose predicted topic is one of `expect`."""
    pairs = [
        (it, p)
        for it, p in zip(items, predicted, strict=True)
        if it.expect and (source is None or it.source == source)
    ]
    return sum(1 for it, p in pairs if p in it.expect), len(pairs)


class Baseline:
    """Naive: the topic of the closest phrasing by WRatio, all phrasings scanned per message."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self.phrasings: list[str] = []
        self.topics: list[str] = []
        for topic in kb.topics.values():
            for p in topic.phrasings:
                self.phrasings.append(p)
                self.topics.append(topic.id)

    def predict(self, text: str) -> str | None:
        best = process.extractOne(
            text, self.phrasings, scorer=fuzz.WRatio, processor=utils.default_process
        )
        return None if best is None else self.topics[best[2]]


def profile_pass(matcher: Matcher, messages: Sequence[str]) -> None:
    """Where a warm pass spends its time: the top functions by own time."""
    profiler = cProfile.Profile()
    profiler.enable()
    for text in messages:
        matcher.match(text)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(12)
    print("  profile of one warm pass (cProfile inflates the times; compare the shares):")
    lines = out.getvalue().splitlines()
    start = next((i for i, line in enumerate(lines) if "ncalls" in line), 0)
    for line in lines[start:]:
        if line.strip():
            print("   ", line.replace(str(ROOT) + "/", "")[:150])


# --- the synthetic knowledge base ------------------------------------------------------------
def _syllable(rng: random.Random) -> str:
    return rng.choice(_ONSETS) + rng.choice(_NUCLEI) + rng.choice(_CODAS)


def _made_up(rng: random.Random) -> str:
    """A new word: two syllables fused (as names and loanwords are). A single made-up syllable
    is too often a real one ("co", "em", "lam"), which would make every clone match every
    message: not what a large knowledge base with its own vocabulary looks like."""
    return _syllable(rng) + _syllable(rng)


def _mutate(words: list[str], rng: random.Random, pool: Sequence[str], own: Sequence[str]) -> None:
    """Replace (or insert) 1-3 words: real vocabulary, this topic's own terms, or new words."""
    for _ in range(rng.randint(1, 3)):
        roll = rng.random()
        word = rng.choice(pool) if roll < 0.5 else rng.choice(own) if roll < 0.8 else _made_up(rng)
        pos = rng.randrange(len(words) + 1)
        if pos < len(words) and rng.random() < 0.8:
            words[pos] = word
        else:
            words.insert(pos, word)


def synthetic_kb(
    real: KnowledgeBase, phrasings: int, seed: int, per_topic: int = 50
) -> KnowledgeBase:
    """The real topics plus clones of them, `phrasings` phrasings in all (`per_topic` each).

    Each clone keeps its original's facets and texts, and gets keywords and phrasings recombined
    from the real vocabulary: each keyword has a word replaced by a made-up one (5% are kept
    verbatim), two new made-up terms per clone; phrasings are real ones with 1-3 words replaced
    or inserted. Deterministic for a given seed.
    """
    rng = random.Random(seed)
    base = sorted(real.topics.values(), key=lambda t: t.id)
    pool = sorted(
        {
            w
            for t in base
            for text in (*t.phrasings, *(k for k, _ in t.keywords if not k.startswith("@")))
            for w in _WORD.findall(text.lower())
        }
    )
    n_topics = max(1, math.ceil(phrasings / per_topic))
    # The real topics stay as they are, so the real messages still have their answers.
    topics: dict[str, Topic] = {t.id: t for t in base}
    left = phrasings - sum(len(t.phrasings) for t in base)
    n_topics = max(1, math.ceil(left / per_topic))
    for i in range(n_topics):
        orig = base[i % len(base)]
        keywords: dict[str, float] = {}
        for term, weight in orig.keywords:
            if "@" in term:
                # A concept term ("@nguoi-than qua đời") is shared by the clones like any other
                # term would be: 5% verbatim, the others with a word of their own added.
                own_word = "" if rng.random() < 0.05 else f" {_made_up(rng)}"
                keywords.setdefault(term + own_word, weight)
                continue
            words = term.split()
            # A real knowledge base of 2,000 procedures has 2,000 vocabularies that share
            # common words, not 50 verbatim copies of each term: every cloned term gets a word
            # of its own (5% are kept verbatim, shared with the original).
            roll = rng.random()
            if roll >= 0.05:
                words[rng.randrange(len(words))] = _made_up(rng)
                if roll < 0.35 and len(words) > 1:  # a lone common word is nobody's key term
                    words[rng.randrange(len(words))] = rng.choice(pool)
            keywords.setdefault(" ".join(words), weight)
        for _ in range(2):
            keywords.setdefault(f"{_made_up(rng)} {_made_up(rng)}", 5.0)
        if not any(w > 0 for w in keywords.values()):
            keywords[_made_up(rng)] = 4.0
        own = [w for term in keywords for w in term.split() if not w.startswith("@")]
        count = min(per_topic, left) if i < n_topics - 1 else left
        left -= count
        texts: list[str] = []
        for _ in range(count):
            words = rng.choice(orig.phrasings).split()
            _mutate(words, rng, pool, own)
            texts.append(" ".join(words))
        tid = f"{orig.id}~{i}"
        # A clone shares its original's wording through the copied terms above, not through
        # `extends` (which would hand every clone the real base topic's terms).
        topics[tid] = dataclasses.replace(
            orig, id=tid, keywords=tuple(keywords.items()), phrasings=tuple(texts), extends=None
        )
    return dataclasses.replace(real, topics=topics, version=f"synthetic-{seed}")


def vocabulary_size(kb: KnowledgeBase) -> int:
    words: set[str] = set()
    for t in kb.topics.values():
        for text in (*t.phrasings, *(k for k, _ in t.keywords if not k.startswith("@"))):
            words.update(tokens(text))
    return len(words)


def base_id(topic: str | None) -> str | None:
    return None if topic is None else topic.split("~", 1)[0]


# --- report ----------------------------------------------------------------------------------
def _ms(v: float) -> str:
    return f"{v:9.3f}"


def _row(label: str, s: Stats) -> str:
    return f"  {label:<32}{s.calls:>7}{_ms(s.p50)}{_ms(s.p95)}{_ms(s.p99)}{_ms(s.max)}"


def _header() -> str:
    return f"  {'latency (ms)':<32}{'calls':>7}{'p50':>9}{'p95':>9}{'p99':>9}{'max':>9}"


def _mb(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**20:.1f} MiB"


def _pc(hits: int, n: int) -> str:
    return f"{hits}/{n} = {hits / n:.1%}" if n else "-"


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    ap.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    ap.add_argument("--phrasings", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--quick",
        action="store_true",
        help="fewer repetitions; no tracemalloc build of the synthetic knowledge base",
    )
    ap.add_argument(
        "--baseline-seconds",
        type=float,
        help="time budget of the baseline at scale (default 15, 8 with --quick; >= 20 messages)",
    )
    ap.add_argument(
        "--profile", action="store_true", help="cProfile one warm pass on the synthetic KB"
    )
    args = ap.parse_args(argv)
    quick: bool = args.quick
    target_calls = 4_000 if quick else 20_000
    big_reps = 1 if quick else 2
    baseline_reps = 1
    budget_s: float = args.baseline_seconds or (8.0 if quick else 15.0)
    wall = time.perf_counter()

    load1 = f", load average {os.getloadavg()[0]:.2f}" if hasattr(os, "getloadavg") else ""
    print(f"python {sys.version.split()[0]}, {pin_one_core()}{load1}")
    sources = [EVAL] + ([DEV] if DEV.is_file() else [])
    items = [it for path in sources for it in read_items(path)]
    messages = [it.q for it in items]
    print(f"messages: {len(messages)} from {', '.join(str(p) for p in sources)}")

    # 1. the real knowledge base
    real, _ = load(args.knowledge)
    n_real = sum(len(t.phrasings) for t in real.topics.values())
    ours = build(real)
    gc.collect()
    cold_ns, cold = timed(ours.matcher.match, messages)
    reps = max(1, math.ceil(target_calls / len(messages)))
    warm = Stats.of(timed(ours.matcher.match, messages, reps)[0])
    ours_topics = [m.topic for m in cold]
    print(
        f"\n[1] real knowledge base {args.knowledge}: {len(real.topics)} topics, "
        f"{n_real} phrasings, {vocabulary_size(real)} distinct tokens"
    )
    print(
        f"  build {ours.seconds * 1000:.1f} ms; index memory (tracemalloc) "
        f"{_mb(ours.retained)} retained, {_mb(ours.peak)} peak during the build"
    )
    print(_header())
    print(_row("matcher, cold first pass", Stats.of(cold_ns)))
    print(_row(f"matcher, warm ({reps} passes)", warm))
    baseline = Baseline(real)
    baseline.predict(messages[0])
    base_ns, base_topics = timed(baseline.predict, messages, baseline_reps)
    base_real = Stats.of(base_ns)
    print(_row(f"baseline extractOne ({baseline_reps} passes)", base_real))
    print("  topic accuracy (in-scope items whose topic is in `expect`; matcher: Match.topic):")
    for path in sources:
        print(
            f"    {path.name:<12} matcher {_pc(*topic_accuracy(items, ours_topics, path.name)):<20}"
            f" baseline {_pc(*topic_accuracy(items, base_topics, path.name))}"
        )

    # 2. the synthetic knowledge base
    start = time.perf_counter()
    big = synthetic_kb(real, args.phrasings, args.seed)
    gen_s = time.perf_counter() - start
    n_big = sum(len(t.phrasings) for t in big.topics.values())
    print(
        f"\n[2] synthetic knowledge base (seed {args.seed}): {len(big.topics)} topics, "
        f"{n_big} phrasings, {vocabulary_size(big)} distinct tokens (generated in {gen_s:.1f} s)"
    )
    large = build(big, trace=not quick)
    mem_note = "" if large.retained is not None else " (tracemalloc skipped with --quick)"
    print(
        f"  build {large.seconds:.2f} s; index memory (tracemalloc) {_mb(large.retained)} "
        f"retained, {_mb(large.peak)} peak during the build{mem_note}"
    )
    gc.collect()
    big_cold_ns, big_cold = timed(large.matcher.match, messages)
    big_warm = Stats.of(timed(large.matcher.match, messages, big_reps)[0])
    print(_header())
    print(_row("matcher, cold first pass", Stats.of(big_cold_ns)))
    print(_row(f"matcher, warm ({big_reps} passes)", big_warm))

    # 3. the baseline at scale, on a random sample, within a time budget
    sample = random.Random(args.seed).sample(items, min(300, len(items)))
    big_baseline = Baseline(big)
    ns: list[int] = []
    predicted: list[str | None] = []
    for it in sample:
        if len(ns) >= 20 and sum(ns) > budget_s * 1e9:
            break
        one_ns, one = timed(big_baseline.predict, [it.q])
        ns.extend(one_ns)
        predicted.extend(one)
    sample = sample[: len(ns)]
    base_big = Stats.of(ns)
    print(_row(f"baseline extractOne ({len(sample)} msgs)", base_big))
    ours_big = [base_id(m.topic) for m in big_cold]
    print(
        "  topic accuracy, a clone counted as its original topic (indicative only): matcher "
        f"{_pc(*topic_accuracy(items, ours_big))} (all), baseline "
        f"{_pc(*topic_accuracy(sample, [base_id(p) for p in predicted]))} (its sample)"
    )
    if args.profile:
        profile_pass(large.matcher, messages)

    # 4. summary and bars
    acc_ours = _pc(*topic_accuracy(items, ours_topics, EVAL.name)).split(" = ")[-1]
    acc_base = _pc(*topic_accuracy(items, base_topics, EVAL.name)).split(" = ")[-1]
    print(f"\nsummary{'':<28}{'p50 ms':>9}{'p99 ms':>9}{'build s':>9}{'memory':>11}  eval acc")
    rows = (
        (f"real ({n_real}), matcher", warm, f"{ours.seconds:.2f}", _mb(ours.retained), acc_ours),
        (f"real ({n_real}), baseline", base_real, "-", "-", acc_base),
        (f"{n_big} phrasings, matcher", big_warm, f"{large.seconds:.2f}", _mb(large.retained), ""),
        (f"{n_big} phrasings, baseline", base_big, "-", "-", ""),
    )
    for label, st, secs, mem, acc in rows:
        print(f"  {label:<33}{_ms(st.p50)}{_ms(st.p99)}{secs:>9}{mem:>11}  {acc}")
    bars = (
        (f"p99 < {REAL_P99_BAR_MS:g} ms on the real knowledge base", warm.p99, REAL_P99_BAR_MS),
        (f"p99 < {BIG_P99_BAR_MS:g} ms at {n_big} phrasings", big_warm.p99, BIG_P99_BAR_MS),
    )
    failed = False
    for label, value, bar in bars:
        ok = value < bar
        failed |= not ok
        print(f"  {'PASS' if ok else 'FAIL'}  {label}: warm p99 {value:.3f} ms")
    print(f"(total {time.perf_counter() - wall:.0f} s)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
