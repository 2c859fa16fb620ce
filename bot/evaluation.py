"""Score the bot on an evaluation set (JSON lines: q, expect, style, facet, must).

Topic accuracy is counted on in-scope items (`expect` non-empty: the answered topic must be one
of them) and separately on out-of-scope items (`expect` empty: the topic must be None). `must`
strings are compared case- and diacritic-insensitively, with "." and "," between digits removed,
and "a|b" accepting either (../shared/eval/README.md).
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.text import fold

_DIGIT_SEP = re.compile(r"(?<=\d)[.,](?=\d)")


@dataclass(frozen=True, slots=True)
class Item:
    q: str
    expect: tuple[str, ...]
    style: str
    facet: str | None
    must: tuple[str, ...]
    line: int


@dataclass(frozen=True, slots=True)
class Outcome:
    item: Item
    topic: str | None
    reply: str
    missing: tuple[str, ...]

    @property
    def correct(self) -> bool:
        if not self.item.expect:
            return self.topic is None
        return self.topic in self.item.expect


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

    def lines(self) -> list[str]:
        out: list[str] = []
        by_topic: dict[str, list[Outcome]] = defaultdict(list)
        by_style: dict[str, list[Outcome]] = defaultdict(list)
        for o in self.outcomes:
            by_topic[o.item.expect[0] if o.item.expect else "(null)"].append(o)
            by_style[o.item.style].append(o)
        out.append("== accuracy per topic ==")
        for topic in sorted(by_topic):
            ok, n = self._rate(by_topic[topic])
            out.append(f"  {topic:32} {ok:3}/{n:<3} {_pct(ok, n)}")
        out.append("== accuracy per style ==")
        for style in sorted(by_style):
            ok, n = self._rate(by_style[style])
            out.append(f"  {style:32} {ok:3}/{n:<3} {_pct(ok, n)}")
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
                why = f"missing {list(o.missing)}" if o.correct else f"got {o.topic}"
                out.append(f"  line {o.item.line}: {why}: {o.item.q[:100]!r}")
        ok, n = self.in_scope
        out.append(f"in-scope topic accuracy:   {ok}/{n} {_pct(ok, n)}")
        ok, n = self.out_of_scope
        out.append(f"out-of-scope null rate:    {ok}/{n} {_pct(ok, n)}")
        ok, n = self.must
        out.append(f"reply checks (must):       {ok}/{n} {_pct(ok, n)}")
        return out


def _pct(ok: int, n: int) -> str:
    return f"{100 * ok / n:5.1f}%" if n else "   - "


def _comparable(text: str) -> str:
    return _DIGIT_SEP.sub("", fold(text))


def missing_musts(reply: str, must: Iterable[str]) -> tuple[str, ...]:
    """The `must` entries that `reply` does not contain."""
    haystack = _comparable(reply)
    return tuple(m for m in must if not any(_comparable(alt) in haystack for alt in m.split("|")))


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
                )
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ValueError(f"{path}:{n}: not a valid evaluation line: {exc}") from exc
    return items


def evaluate(items: Iterable[Item], ask: Callable[[str], tuple[str | None, str]]) -> Report:
    """Run `ask(question) -> (topic, reply text)` on every item."""
    report = Report()
    for item in items:
        topic, reply = ask(item.q)
        report.outcomes.append(Outcome(item, topic, reply, missing_musts(reply, item.must)))
    return report
