"""The learning curve: how the figures on one evaluation set move with the phrasings taught.

Not part of the test suite. Run from the repository root, on a set the knowledge base may be
measured on (tests/data/eval_unseen.jsonl, the held-out set, only with --held-out, once a change
to the matcher is done):

    .venv/bin/python bench/learning_curve.py tests/data/eval.jsonl
    .venv/bin/python bench/learning_curve.py tests/data/eval.jsonl --seeds 5 --fractions 0.1 1

Each topic keeps a share of its `match.phrasings` (a seeded sample per topic, in their order,
at least one kept); the bundle is built on that knowledge base and the set is answered. The
fractions under 1 are averaged over `--seeds` samples (the min-max over them in brackets). A
matcher that learns from phrasings climbs with the fraction; a flat curve says the phrasings
teach it little. Only public APIs are used: `bot.knowledge.load`, `dataclasses.replace`,
`Bundle.build`, `bot.evaluation`.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import statistics
import sys
import time
from pathlib import Path

from bot.bundle import Bundle
from bot.evaluation import Ask, Item, Report, evaluate, load_items
from bot.knowledge import KnowledgeBase, load

ROOT = Path(__file__).resolve().parent.parent

# (column, Report property): the figures of the table, confident wrong as a share of all lines.
COLUMNS = (
    ("in-scope", "in_scope"),
    ("refused", "out_of_scope"),
    ("must", "must"),
    ("confident wrong", "confident_wrong"),
)


def sample(kb: KnowledgeBase, fraction: float, seed: int) -> KnowledgeBase:
    """`kb` where each topic keeps `fraction` of its phrasings (at least one), drawn with a
    generator seeded by (seed, topic id): the same sample in every process."""
    if fraction >= 1:
        return kb
    topics = {}
    for tid, topic in kb.topics.items():
        n = len(topic.phrasings)
        keep = min(n, max(1, round(fraction * n)))
        chosen = sorted(random.Random(f"{seed}:{tid}").sample(range(n), keep))
        topics[tid] = dataclasses.replace(
            topic, phrasings=tuple(topic.phrasings[i] for i in chosen)
        )
    return dataclasses.replace(kb, topics=topics, version=f"{kb.version}~{fraction}:{seed}")


def asker(bundle: Bundle) -> Ask:
    def ask(q: str) -> tuple[str | None, str, bool]:
        answer = bundle.ask(q)
        # A family card asks which variant was meant, as a clarify question does.
        return answer.topic, answer.text, answer.kind in ("clarify", "family")

    return ask


def rate(report: Report, name: str) -> float | None:
    ok, n = report.figure(name)
    return ok / n if n else None


def cell(rates: list[float | None]) -> str:
    known = [r for r in rates if r is not None]
    if not known:
        return "-"
    mean = f"{100 * statistics.fmean(known):5.1f}%"
    if len(known) == 1:
        return mean
    return f"{mean} [{100 * min(known):.1f}-{100 * max(known):.1f}]"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("set", type=Path, help="an evaluation set (JSON lines)")
    parser.add_argument("--seeds", type=int, default=3, help="samples per fraction under 1")
    parser.add_argument(
        "--fractions", type=float, nargs="+", default=[0.25, 0.5, 1.0], help="shares kept"
    )
    parser.add_argument("--knowledge", type=Path, default=ROOT / "knowledge")
    parser.add_argument(
        "--held-out",
        action="store_true",
        help="measure tests/data/eval_unseen.jsonl (once a matcher change is done, not to tune)",
    )
    args = parser.parse_args(argv)
    if "eval_unseen" in args.set.name and not args.held_out:
        parser.error("eval_unseen is held out: pass --held-out to measure it (never to tune)")
    items: list[Item] = load_items(args.set)
    kb, _ = load(args.knowledge)
    total = sum(len(t.phrasings) for t in kb.topics.values())
    print(f"{args.set.name}: {len(items)} lines; {len(kb.topics)} topics, {total} phrasings")
    header = f"{'fraction':>8}  {'phrasings':>9}  " + "  ".join(
        f"{label:>22}" for label, _ in COLUMNS
    )
    print(header)
    for fraction in sorted(args.fractions):
        seeds = range(args.seeds) if fraction < 1 else range(1)
        reports: list[Report] = []
        kept: list[int] = []
        for seed in seeds:
            started = time.monotonic()
            taught = sample(kb, fraction, seed)
            kept.append(sum(len(t.phrasings) for t in taught.topics.values()))
            reports.append(evaluate(items, asker(Bundle.build(taught))))
            print(
                f"  fraction {fraction} seed {seed}: {time.monotonic() - started:.1f} s",
                file=sys.stderr,
            )
        cells = [cell([rate(r, name) for r in reports]) for _, name in COLUMNS]
        phrasings = f"{statistics.fmean(kept):.0f}"
        print(f"{fraction:>8.2f}  {phrasings:>9}  " + "  ".join(f"{c:>22}" for c in cells))


if __name__ == "__main__":
    main()
