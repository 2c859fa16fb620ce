"""Where the matcher's decision stands against its own signals, and what its thresholds buy.

Not part of the test suite. Run from the repository root (about 5 minutes on one core):

    .venv/bin/python bench/frontier.py
    .venv/bin/python bench/frontier.py --no-grid

Two questions about the understanding issue's remaining misses, asked of `Matcher.evidence`
(the matcher alone: no dialog, so the figures differ a little from `bot eval`'s):

1. HEADROOM, per set, over its in-scope lines: how often the accepted topic is right, and how
   often each signal alone puts the right topic first: the combined score (the topic the
   decision weighs), the classifier, the key terms; and "accepted or classifier", right when
   either is (an oracle no rule can reach, the ceiling of choosing between the two).
2. THE THRESHOLDS: the four that weigh the classifier (`learned_weight`, `learned_floor`,
   `learned_anchor`, `learned_disagree`) fitted by a grid on the TUNING sets (the project's
   sets the knowledge base was tuned on, and ../shared/eval/dev.jsonl when it is there), with
   one right answer or refusal worth +1 and a confident wrong answer -2; the HELD-OUT sets
   (written blind, not tuned on) are then read once at the shipped thresholds and once at the
   grid's best. The grid rewrites only thresholds read while matching, on a shallow copy of
   the matcher (a classifier fitted once serves every point).

Figures, 2026-12-07, the shipped knowledge base (147 topics, 4,844 phrasings), this 2-vCPU
machine: see the README ("Evaluation: figures that are evidence").
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import itertools
import sys
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.bundle import Bundle
from bot.config import MatcherSettings, load_settings
from bot.evaluation import Item, load_items
from bot.model_cache import model_cache
from bot.models import Decision
from bot.understanding.matcher import Matcher

ROOT = Path(__file__).resolve().parent.parent
TUNING = (
    "tests/data/eval.jsonl",
    "tests/data/eval_blind.jsonl",
    "tests/data/eval_chatty.jsonl",
    "tests/data/eval_personas.jsonl",
    "tests/data/eval_listing.jsonl",
    "bench/data/eval_tune.jsonl",
    "../shared/eval/dev.jsonl",
)
HELD_OUT = (
    "tests/data/eval_unseen.jsonl",
    "tests/data/eval_fresh.jsonl",
    "tests/data/eval_catalogue.jsonl",
)
GRID = {
    "learned_weight": (4.0, 6.0, 8.0),
    "learned_floor": (-0.7, -0.5, -0.3),
    "learned_anchor": (0.1, 0.2, 0.3, 0.4),
    "learned_disagree": (0.2, 0.3, 0.5),
}
WRONG_COST = 2


@dataclass(slots=True)
class Tally:
    """One set's outcomes at one setting."""

    in_scope: int = 0
    right: int = 0  # accepted, and an expected topic
    out_of_scope: int = 0
    refused: int = 0  # an out-of-scope line the matcher said was not ours
    lines: int = 0
    wrong: int = 0  # accepted a topic the line does not expect

    @property
    def utility(self) -> int:
        return self.right + self.refused - WRONG_COST * self.wrong

    def __str__(self) -> str:
        scope = f"{self.right / max(self.in_scope, 1):6.1%}"
        refused = f"{self.refused / self.out_of_scope:6.1%}" if self.out_of_scope else "     -"
        return f"{scope} {refused} {self.wrong / max(self.lines, 1):6.1%}"


def sets(names: Iterable[str]) -> dict[str, list[Item]]:
    found = {}
    for name in names:
        path = (ROOT / name).resolve()
        if path.is_file():
            found[path.name] = load_items(path)
    return found


def tally(matcher: Matcher, items: Sequence[Item]) -> Tally:
    t = Tally()
    for item in items:
        match = matcher.match(item.q)
        accepted = match.decision is Decision.ACCEPT
        t.lines += 1
        t.wrong += accepted and match.topic not in item.expect
        if item.expect:
            t.in_scope += 1
            t.right += accepted and match.topic in item.expect
        else:
            t.out_of_scope += 1
            t.refused += match.decision is Decision.NONE
    return t


def headroom(matcher: Matcher, named: dict[str, list[Item]]) -> None:
    print("in-scope lines: accepted right | first by: combined score, classifier, key terms |")
    print("accepted or classifier right (an oracle)")
    for name, items in named.items():
        counts = [0] * 5
        lines = [item for item in items if item.expect]
        for item in lines:
            e = matcher.evidence(item.q)
            accepted = e.match.decision is Decision.ACCEPT and e.match.topic in item.expect
            firsts = (e.by_score, e.by_classifier, e.by_key_terms)
            hits = [accepted, *(topic in item.expect for topic in firsts)]
            hits.append(accepted or firsts[1] in item.expect)
            counts = [c + h for c, h in zip(counts, hits, strict=True)]
        shares = " ".join(f"{c / len(lines):6.1%}" for c in counts)
        print(f"  {name:24s} {len(lines):4d} {shares}")


def grid(matcher: Matcher, tuning: dict[str, list[Item]], held: dict[str, list[Item]]) -> None:
    shipped = matcher.settings
    points: list[dict[str, Any]] = [
        dict(zip(GRID, values, strict=True)) for values in itertools.product(*GRID.values())
    ]
    ranked: list[tuple[int, dict[str, Any]]] = []
    start = time.perf_counter()
    for point in points:
        trial = copy.copy(matcher)
        trial.settings = dataclasses.replace(shipped, **point)
        ranked.append((sum(tally(trial, items).utility for items in tuning.values()), point))
    ranked.sort(key=lambda pair: -pair[0])
    base = sum(tally(matcher, items).utility for items in tuning.values())
    seconds = time.perf_counter() - start
    print(f"\ngrid: {len(points)} points on {', '.join(tuning)} ({seconds:.0f} s)")
    print(f"  shipped: utility {base}  {settings_text(shipped)}")
    for utility, point in ranked[:5]:
        print(f"  {utility:5d}  {point_text(point)}")
    best = dataclasses.replace(shipped, **ranked[0][1])
    print("held out (in-scope right, out of scope refused, confident wrong of all lines):")
    for name, items in held.items():
        trial = copy.copy(matcher)
        trial.settings = best
        print(f"  {name:24s} shipped {tally(matcher, items)}   best {tally(trial, items)}")


def point_text(point: dict[str, Any]) -> str:
    return " ".join(f"{k.removeprefix('learned_')}={v:g}" for k, v in point.items())


def settings_text(settings: MatcherSettings) -> str:
    return point_text({k: getattr(settings, k) for k in GRID})


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--no-grid", action="store_true", help="only the headroom table")
    args = parser.parse_args(argv)
    settings = load_settings(None)
    matcher = Bundle.load(
        ROOT / "knowledge", settings.matcher, models=model_cache(settings)
    ).matcher
    tuning, held = sets(TUNING), sets(HELD_OUT)
    headroom(matcher, tuning | held)
    if not args.no_grid:
        grid(matcher, tuning, held)
    return 0


if __name__ == "__main__":
    sys.exit(main())
