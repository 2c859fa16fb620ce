"""Score the bot on evaluation sets (JSON lines: q, expect, style, facet, must, kind, writer).

Topic accuracy is counted on in-scope items (`expect` non-empty: the answered topic must be one
of them) and separately on out-of-scope items (`expect` empty: the topic must be None). `must`
strings are compared case- and diacritic-insensitively, with "." and "," between digits removed,
and "a|b" accepting either (../shared/eval/README.md).

A *confident wrong* outcome is the worst one (../shared/DESIGN.md): the bot answered a topic the
line does not expect (on an out-of-scope line: any topic), without asking back. A clarify
question that offers the wrong topics is not counted: the citizen can still say "neither".

Cross-validation (`cross_validate`) measures what adding phrasings teaches: the lines are split
into K folds; each fold is answered by the knowledge base taught the other folds' lines as
phrasings, so every line is scored by a bot that never saw it (../shared/style.md, 18).
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.knowledge import KnowledgeBase
from bot.models import TopicKind
from bot.text import fold, tokens

_DIGIT_SEP = re.compile(r"(?<=\d)[.,](?=\d)")

# What the bot did with a question: (topic, reply text) or (topic, reply text, asked back).
# `topic` is the answered topic, or the first one offered when it asked back; None when it
# said it did not understand.
Asked = tuple[str | None, str] | tuple[str | None, str, bool]
Ask = Callable[[str], Asked]


@dataclass(frozen=True, slots=True)
class Item:
    q: str
    expect: tuple[str, ...]
    style: str
    facet: str | None
    must: tuple[str, ...]
    line: int
    kind: str | None = None  # the kind of line (plain, story, side detail...), when given
    writer: str | None = None  # who wrote it (a persona), when given
    source: str = ""  # the file's name, when read from a file

    @property
    def where(self) -> str:
        return f"{self.source}:{self.line}" if self.source else f"line {self.line}"


@dataclass(frozen=True, slots=True)
class Outcome:
    item: Item
    topic: str | None
    reply: str
    missing: tuple[str, ...]
    clarify: bool = False  # the bot asked which topic was meant (`topic` is the first offered)

    @property
    def correct(self) -> bool:
        if not self.item.expect:
            return self.topic is None
        return self.topic in self.item.expect

    @property
    def confident_wrong(self) -> bool:
        """Answered, without asking back, a topic the line does not expect."""
        return not self.clarify and self.topic is not None and self.topic not in self.item.expect


# The headline figures, in the order they are printed: (label, Report property).
FIGURES = (
    ("in-scope topic", "in_scope"),
    ("out-of-scope refused", "out_of_scope"),
    ("reply checks (must)", "must"),
    ("confident wrong", "confident_wrong"),
    ("asked back", "asked_back"),
)


@dataclass
class Report:
    outcomes: list[Outcome] = field(default_factory=list)

    def _rate(self, rows: Iterable[Outcome]) -> tuple[int, int]:
        rows = list(rows)
        return sum(o.correct for o in rows), len(rows)

    @property
    def in_scope(self) -> tuple[int, int]:
        return self._rate(o for o in self.outcomes if o.item.expect)

    @property
    def out_of_scope(self) -> tuple[int, int]:
        return self._rate(o for o in self.outcomes if not o.item.expect)

    @property
    def must(self) -> tuple[int, int]:
        rows = [o for o in self.outcomes if o.item.must]
        return sum(not o.missing for o in rows), len(rows)

    @property
    def must_misses(self) -> str:
        """Why replies lacked a `must` fact: a question back (no fact until the citizen
        picks), another topic or none, or the expected topic's reply without it (the aspect
        asked was not found, or its text lacks the fact)."""
        missed = [o for o in self.outcomes if o.item.must and o.missing]
        asked = sum(o.clarify for o in missed)
        other = sum(not o.clarify and not o.correct for o in missed)
        own = len(missed) - asked - other
        return f"{asked} asked back, {other} another topic or none, {own} the topic's own reply"

    @property
    def confident_wrong(self) -> tuple[int, int]:
        """(confident wrong answers, all lines)."""
        return sum(o.confident_wrong for o in self.outcomes), len(self.outcomes)

    @property
    def asked_back(self) -> tuple[int, int]:
        """(clarify questions, all lines)."""
        return sum(o.clarify for o in self.outcomes), len(self.outcomes)

    def figure(self, name: str) -> tuple[int, int]:
        """One of the FIGURES by its property name."""
        value: tuple[int, int] = getattr(self, name)
        return value

    def _section(self, title: str, groups: dict[str, list[Outcome]]) -> list[str]:
        out = [f"== accuracy per {title} =="]
        for name in sorted(groups):
            ok, n = self._rate(groups[name])
            out.append(f"  {name:32} {ok:3}/{n:<3} {_pct(ok, n)}")
        return out

    def lines(self) -> list[str]:
        out: list[str] = []
        by: dict[str, dict[str, list[Outcome]]] = {
            "topic": defaultdict(list),
            "style": defaultdict(list),
            "kind": defaultdict(list),
            "writer": defaultdict(list),
        }
        for o in self.outcomes:
            by["topic"][o.item.expect[0] if o.item.expect else "(null)"].append(o)
            by["style"][o.item.style].append(o)
            if o.item.kind is not None:
                by["kind"][o.item.kind].append(o)
            if o.item.writer is not None:
                by["writer"][o.item.writer].append(o)
        for title, groups in by.items():
            if groups or title in ("topic", "style"):
                out.extend(self._section(title, groups))
        confusions = Counter(
            (o.item.expect[0] if o.item.expect else "(null)", o.topic or "(null)")
            for o in self.outcomes
            if not o.correct
        )
        if confusions:
            out.append("== confusions (expected -> answered) ==")
            for (want, got), n in confusions.most_common():
                out.append(f"  {want} -> {got}: {n}")
        wrong = [o for o in self.outcomes if not o.correct or o.missing]
        if wrong:
            out.append("== failures ==")
            for o in wrong:
                if o.correct:
                    asked = "asked back, " if o.clarify else ""
                    why = f"{asked}missing {list(o.missing)}"
                else:
                    how = "asked back" if o.clarify else "confident wrong" if o.topic else "got"
                    why = f"{how} {o.topic}"
                out.append(f"  {o.item.where}: {why}: {o.item.q[:100]!r}")
        ok, n = self.in_scope
        out.append(f"in-scope topic accuracy:   {ok}/{n} {_pct(ok, n)}")
        ok, n = self.out_of_scope
        out.append(f"out-of-scope null rate:    {ok}/{n} {_pct(ok, n)}")
        ok, n = self.must
        out.append(f"reply checks (must):       {ok}/{n} {_pct(ok, n)}")
        if ok < n:
            out.append("  without the fact: " + self.must_misses)
        ok, n = self.confident_wrong
        out.append(f"confident wrong:           {ok}/{n} {_pct(ok, n)}")
        ok, n = self.asked_back
        out.append(f"asked back:                {ok}/{n}")
        return out


@dataclass(frozen=True, slots=True)
class Bars:
    """The thresholds of `bot eval`: least accuracies, most confident wrong answers."""

    min_accuracy: float = 0.97
    min_null: float = 0.95
    min_must: float = 1.0
    max_wrong: float = 1.0  # 1.0: off

    def failures(self, report: Report) -> list[str]:
        """One line per figure on the wrong side of its bar (figures of no lines pass)."""
        failed: list[str] = []
        for label, (ok, n), bar in (
            ("in-scope accuracy", report.in_scope, self.min_accuracy),
            ("out-of-scope null rate", report.out_of_scope, self.min_null),
            ("must checks", report.must, self.min_must),
        ):
            if n and ok / n < bar:
                failed.append(f"{label} {ok / n:.3f} < {bar}")
        bad, n = report.confident_wrong
        if n and bad / n > self.max_wrong:
            failed.append(f"confident wrong {bad / n:.3f} > {self.max_wrong}")
        return failed


def _pct(ok: int, n: int) -> str:
    return f"{100 * ok / n:5.1f}%" if n else "   - "


def _comparable(text: str) -> str:
    return _DIGIT_SEP.sub("", fold(text))


def missing_musts(reply: str, must: Iterable[str]) -> tuple[str, ...]:
    """The `must` entries that `reply` does not contain."""
    haystack = _comparable(reply)
    return tuple(m for m in must if not any(_comparable(alt) in haystack for alt in m.split("|")))


def _optional(row: dict[str, object], *keys: str) -> str | None:
    for key in keys:
        value = row.get(key)
        if value is not None:
            return str(value)
    return None


def load_items(path: Path) -> list[Item]:
    """Read an evaluation file; raises ValueError naming the line of a malformed entry."""
    items: list[Item] = []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            items.append(
                Item(
                    q=str(row["q"]),
                    expect=tuple(row.get("expect") or ()),
                    style=str(row.get("style", "-")),
                    facet=row.get("facet"),
                    must=tuple(row.get("must") or ()),
                    line=n,
                    kind=_optional(row, "kind"),
                    # eval_personas.jsonl names its writers `persona`
                    writer=_optional(row, "writer", "persona"),
                    source=path.name,
                )
            )
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"{path}:{n}: not a valid evaluation line: {exc}") from exc
    return items


def evaluate(items: Iterable[Item], ask: Ask) -> Report:
    """Run `ask(question) -> (topic, reply text[, asked back])` on every item."""
    report = Report()
    for item in items:
        topic, reply, *rest = ask(item.q)
        clarify = bool(rest and rest[0])
        report.outcomes.append(
            Outcome(item, topic, reply, missing_musts(reply, item.must), clarify)
        )
    return report


# --- cross-validation ------------------------------------------------------------------------


def _question_key(item: Item) -> str:
    return " ".join(tokens(item.q))


def fold_split(items: Sequence[Item], k: int, seed: int = 0) -> list[int]:
    """The fold (0 .. k-1) of each item: a seeded shuffle, stratified by expected topic.

    Lines that read the same once normalised (`bot.text.tokens`) share a fold, so a held-out
    line is never taught through its twin in another file. Within each expected topic (the
    first of `expect`; out-of-scope lines form one group) the lines are shuffled and dealt to
    the folds in turn, the deal carrying on from one topic to the next: each fold gets its
    share of every topic that has at least k lines, and the folds differ in size by one at
    most (twins aside). `random.Random(seed)` is the same in every process (no `hash()`).
    """
    if k < 2:
        raise ValueError(f"cross-validation needs at least 2 folds, not {k}")
    units: dict[str, list[int]] = {}
    for i, item in enumerate(items):
        units.setdefault(_question_key(item), []).append(i)
    if len(units) < k:
        raise ValueError(f"{len(units)} distinct lines cannot make {k} folds")
    strata: dict[str, list[list[int]]] = defaultdict(list)
    for members in units.values():
        first = items[members[0]]
        strata[first.expect[0] if first.expect else ""].append(members)
    rng = random.Random(seed)
    folds = [0] * len(items)
    dealt = 0
    for stratum in sorted(strata):
        group = strata[stratum]
        rng.shuffle(group)
        for members in group:
            for i in members:
                folds[i] = dealt % k
            dealt += 1
    return folds


def teach(kb: KnowledgeBase, items: Iterable[Item]) -> tuple[KnowledgeBase, int]:
    """`kb` with each item's question added as a phrasing, and how many were added.

    An in-scope line becomes a phrasing of its first expected topic, an out-of-scope line one
    of the knowledge base's out-of-scope topic (kind `outofscope`). Lines whose topic the
    knowledge base lacks, lines with no words, and phrasings the topic already has are left out.
    """
    outside = next((t.id for t in kb.topics.values() if t.kind is TopicKind.OUTOFSCOPE), None)
    extra: dict[str, list[str]] = defaultdict(list)
    for item in items:
        target = item.expect[0] if item.expect else outside
        q = item.q.strip()
        if target is None or target not in kb.topics or not tokens(q):
            continue
        if q not in kb.topics[target].phrasings and q not in extra[target]:
            extra[target].append(q)
    topics = {
        tid: dataclasses.replace(t, phrasings=(*t.phrasings, *extra[tid])) if extra[tid] else t
        for tid, t in kb.topics.items()
    }
    taught = sum(len(v) for v in extra.values())
    return dataclasses.replace(kb, topics=topics, version=f"{kb.version}+{taught}"), taught


@dataclass(frozen=True, slots=True)
class CrossValidation:
    """The plain figures (the knowledge base alone, every line) beside the cross-validated ones
    (each fold answered by the knowledge base taught the other folds), pooled and per fold."""

    k: int
    seed: int
    plain: Report
    pooled: Report
    folds: tuple[Report, ...]

    def lines(self) -> list[str]:
        sizes = [len(r.outcomes) for r in self.folds]
        out = [
            f"== plain vs {self.k}-fold cross-validated (seed {self.seed}; "
            f"{len(self.pooled.outcomes)} lines, folds of {min(sizes)}-{max(sizes)}) ==",
            f"  {'':22} {'plain':>17}   {'cross-validated':>17}   folds min-max",
        ]
        for label, name in FIGURES:
            cells = []
            for report in (self.plain, self.pooled):
                ok, n = report.figure(name)
                cells.append(f"{ok:>5}/{n:<4} {_pct(ok, n)}")
            rates = [ok / n for ok, n in (r.figure(name) for r in self.folds) if n]
            spread = f"{100 * min(rates):.1f}-{100 * max(rates):.1f}%" if rates else "-"
            out.append(f"  {label:22} {cells[0]:>17}   {cells[1]:>17}   {spread}")
        return out


def cross_validate(
    items: Sequence[Item],
    kb: KnowledgeBase,
    build: Callable[[KnowledgeBase], Ask],
    k: int,
    seed: int = 0,
    progress: Callable[[str], None] = lambda _: None,
) -> CrossValidation:
    """K-fold cross-validation of `items` over `kb`: k + 1 calls of `build` (the plain run
    first). Raises ValueError when the items cannot make k folds."""
    folds = fold_split(items, k, seed)
    progress(f"plain: {len(items)} lines on the knowledge base alone")
    plain = evaluate(items, build(kb))
    pooled: list[Outcome | None] = [None] * len(items)
    reports: list[Report] = []
    for f in range(k):
        held = [i for i in range(len(items)) if folds[i] == f]
        taught_kb, taught = teach(kb, (items[i] for i in range(len(items)) if folds[i] != f))
        progress(f"fold {f + 1}/{k}: {taught} phrasings taught, {len(held)} lines held out")
        report = evaluate((items[i] for i in held), build(taught_kb))
        reports.append(report)
        for i, outcome in zip(held, report.outcomes, strict=True):
            pooled[i] = outcome
    progress(f"done: {len(items)} lines answered by the knowledge base alone and by {k} folds")
    return CrossValidation(
        k, seed, plain, Report([o for o in pooled if o is not None]), tuple(reports)
    )
