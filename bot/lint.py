"""Lints of meaning, run by `bot kb check` on a knowledge base that loaded: what the loader cannot
see, because it needs the matcher or every topic at once (issue 9).

- A phrasing the matcher answers confidently as another topic (or, for an out-of-scope topic,
  answers at all): an error, the worst outcome on the bot's own example.
- A phrasing the matcher does not send to its own topic otherwise (offered after another in a
  clarify question, or not understood): teaching by phrasings only works if the examples
  themselves land where they are written. A warning, an error with `strict` (`STRICT` is the
  default). On the shipped knowledge base 49 of 1,839 phrasings are such warnings: stories
  whose side detail names another topic, which the bot asks back about.
- The same phrasing, compared once normalised (`bot.text.tokens`), under two topics: an error,
  as the example teaches both ways at once.
- A name, summary or facet written in one language only: one side empty (possible only in a
  knowledge base built in memory: the loader refuses it), or the same text in vi and en (not
  translated): a warning.

Each problem is a `Problem` naming the file, the line, the field, and in its message the topic
and the phrasing or text; `kind_of` says which of the kinds above it is.

`LintCache` keeps the lints of the knowledge base in service for the staff dashboard: computed
once per knowledge version, in a thread (it builds a matcher: seconds), never on the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Callable, Iterator
from enum import StrEnum
from pathlib import Path

import yaml

from bot.config import MatcherSettings
from bot.knowledge import LANGS, KnowledgeBase, Problem, Text, Topic
from bot.models import Decision, TopicKind
from bot.text import tokens
from bot.understanding.learned import ModelStore
from bot.understanding.matcher import Matcher

log = logging.getLogger(__name__)

# Whether a phrasing the matcher sends elsewhere is an error by default (`bot kb check`
# without --strict/--lenient). A warning while the shipped knowledge base is retaught for the
# learned matcher; switch to True once it passes.
STRICT = False


class _Lines:
    """Line numbers of dotted fields in the knowledge base's files (1 when not found: a file
    that moved, or a knowledge base built in memory)."""

    def __init__(self, kb: KnowledgeBase) -> None:
        self._base = Path(kb.root).parent
        self._nodes: dict[str, yaml.Node | None] = {}

    def __call__(self, source: str, dotted: str) -> int:
        if source not in self._nodes:
            try:
                text = (self._base / source).read_text(encoding="utf-8")
                self._nodes[source] = yaml.compose(text, Loader=yaml.SafeLoader)
            except (OSError, UnicodeDecodeError, yaml.YAMLError):
                self._nodes[source] = None
        node = self._nodes[source]
        line = 1 if node is None else node.start_mark.line + 1
        for part in dotted.split("."):
            if isinstance(node, yaml.MappingNode):
                pair = next(((k, v) for k, v in node.value if k.value == part), None)
                if pair is None:
                    return line
                line, node = pair[0].start_mark.line + 1, pair[1]  # the key's line
            elif isinstance(node, yaml.SequenceNode) and part.isdigit():
                if int(part) >= len(node.value):
                    return line
                node = node.value[int(part)]
                line = node.start_mark.line + 1
            else:
                return line
        return line


def lint(
    kb: KnowledgeBase,
    settings: MatcherSettings | None = None,
    strict: bool = STRICT,
    models: ModelStore | None = None,
) -> list[Problem]:
    """The meaning problems of `kb`, topic by topic, with the matcher built on `settings`
    (its classifier read from `models` when kept there)."""
    lines = _Lines(kb)
    matcher = Matcher(kb, settings, models)
    seen: dict[str, Topic] = {}  # a normalised phrasing -> the first topic that has it
    problems: list[Problem] = []

    def report(topic: Topic, dotted: str, message: str, severity: str) -> None:
        where = lines(topic.source, dotted)
        problems.append(Problem(topic.source, where, dotted, f"{topic.id}: {message}", severity))

    for topic in kb.topics.values():
        for i, phrasing in enumerate(topic.phrasings):
            dotted = f"match.phrasings.{i}"
            stray = _stray_problem(lines, matcher, topic, i, strict)
            if stray:
                problems.append(stray)
            key = " ".join(tokens(phrasing))
            first = seen.setdefault(key, topic)
            if first.id != topic.id and key:
                report(
                    topic,
                    dotted,
                    f"{phrasing!r} is also a phrasing of {first.id} ({first.source})",
                    "error",
                )
        for dotted, text in _texts(topic):
            problem = _one_language(text)
            if problem:
                field, message = problem
                report(topic, dotted + field, message, "warning")
        for dotted, title in (("name", topic.name), ("short", topic.short)):
            untranslated = untranslated_title(title) if title is not None else None
            if untranslated:
                report(topic, dotted + ".en", untranslated, "warning")
    return problems


# Letters only Vietnamese writes. An English title most of whose words hold one was not
# translated: found when a family's "nhận cha, mẹ, con" was split at its commas into a
# Vietnamese name "nhận cha" and an English one "mẹ" (2026-12-07). A Vietnamese term named in
# an English title ("Criminal record certificate (Phiếu lý lịch tư pháp)") is fine.
_VIETNAMESE_ONLY = frozenset("ăâđêôơư") | frozenset(
    "áàảãạắằẳẵặấầẩẫậéèẻẽẹếềểễệíìỉĩịóòỏõọốồổỗộớờởỡợúùủũụứừửữựýỳỷỹỵ"
)

_GLOSS = re.compile(r"\([^)]*\)")  # a parenthesised gloss: the Vietnamese term named


def untranslated_title(title: Text) -> str | None:
    """The message when a title's English (`name`, `short`: what the menus show) is written
    with Vietnamese letters, else None."""
    words = _GLOSS.sub(" ", title.en).lower().split()
    vietnamese = sum(not _VIETNAMESE_ONLY.isdisjoint(word) for word in words)
    if 2 * vietnamese <= len(words):
        return None
    return f"the English title is written in Vietnamese: {title.en[:60]!r}"


def stray_phrasings(
    kb: KnowledgeBase,
    topic_id: str,
    settings: MatcherSettings | None = None,
    strict: bool = STRICT,
    models: ModelStore | None = None,
) -> list[Problem]:
    """`lint`'s first check for one topic only: its phrasings the matcher does not send to it
    (the dashboard's topic form checks an edit of the phrasings with it before saving)."""
    lines = _Lines(kb)
    matcher = Matcher(kb, settings, models)
    topic = kb.topics[topic_id]
    found = (_stray_problem(lines, matcher, topic, i, strict) for i in range(len(topic.phrasings)))
    return [problem for problem in found if problem is not None]


def _stray_problem(
    lines: _Lines, matcher: Matcher, topic: Topic, index: int, strict: bool
) -> Problem | None:
    stray = _stray(matcher, topic, topic.phrasings[index])
    if stray is None:
        return None
    message, confident = stray
    dotted = f"match.phrasings.{index}"
    severity = "error" if strict or confident else "warning"
    return Problem(
        topic.source, lines(topic.source, dotted), dotted, f"{topic.id}: {message}", severity
    )


def _stray(matcher: Matcher, topic: Topic, phrasing: str) -> tuple[str, bool] | None:
    """Why `phrasing` does not find `topic` and whether the bot answers another topic
    confidently, or None when it finds it."""
    match = matcher.match(phrasing)
    confident = match.decision is Decision.ACCEPT
    if topic.kind is TopicKind.OUTOFSCOPE:
        if match.topic is None:
            return None  # refused, as the language of another domain should be
        return f"{phrasing!r} (another domain's) is answered as {match.topic}, not refused", (
            confident
        )
    if match.topic == topic.id and match.decision is not Decision.CLARIFY:
        return None
    if match.decision is Decision.CLARIFY:
        if match.topic == topic.id:
            return None  # offered first: the citizen picks it
        offered = " or ".join(c.topic for c in match.candidates)
        return f"{phrasing!r} makes the bot ask between {offered}", False
    if match.topic is None:
        return f"{phrasing!r} is not understood", False
    answered = matcher.topic(match.topic)
    if answered.kind is TopicKind.FAMILY and topic.id in answered.members:
        # The family's menu offers this topic among its variants: a question back, not a
        # wrong answer.
        return f"{phrasing!r} gets the menu of {answered.id}", False
    return f"{phrasing!r} is answered as {match.topic}", True


def _texts(topic: Topic) -> Iterator[tuple[str, Text]]:
    yield "name", topic.name
    yield "summary", topic.summary
    for facet, text in topic.facets.items():
        yield f"facets.{facet}", text


def _one_language(text: Text) -> tuple[str, str] | None:
    """(the field's suffix, the message) when `text` is written in one language only."""
    written = [lang for lang in LANGS if text.get(lang).strip()]
    if len(written) == 1:
        (lang,) = written
        (missing,) = [other for other in LANGS if other != lang]
        return f".{missing}", f"written in {lang} only: {text.get(lang)[:60]!r}"
    if written and text.vi.strip() == text.en.strip():
        return "", f"the same text in vi and en, not translated: {text.vi[:60]!r}"
    return None


class LintKind(StrEnum):
    """What a lint is about, as the dashboard groups them."""

    ANSWERED_ELSEWHERE = "answered_elsewhere"  # answered (confidently or not) as another topic
    ASKED_BACK = "asked_back"  # the bot asks between topics, its own not first
    NOT_UNDERSTOOD = "not_understood"
    SHARED = "shared"  # the same phrasing under two topics
    ONE_LANGUAGE = "one_language"


def kind_of(problem: Problem) -> LintKind:
    """The kind of one of `lint`'s problems, from the messages this module writes."""
    message = problem.message
    if problem.field.startswith("match.phrasings."):
        if " is also a phrasing of " in message:
            return LintKind.SHARED
        if " makes the bot ask between " in message:
            return LintKind.ASKED_BACK
        if message.endswith(" is not understood"):
            return LintKind.NOT_UNDERSTOOD
        return LintKind.ANSWERED_ELSEWHERE
    return LintKind.ONE_LANGUAGE


Lint = Callable[[KnowledgeBase], list[Problem]]


class LintCache:
    """The lints of one knowledge version at a time, computed in a thread on first demand.

    `problems(kb)` answers at once: the lints when ready, else None (and the computation is
    started when `kb` is a version not seen last). `wait(kb)` awaits them. A failed computation
    is logged and gives `failed` True until the version changes."""

    def __init__(self, compute: Lint) -> None:
        self._compute = compute
        self._version: str | None = None
        self._task: asyncio.Task[list[Problem]] | None = None

    def _start(self, kb: KnowledgeBase) -> asyncio.Task[list[Problem]]:
        if self._task is None or self._version != kb.version:
            self._version = kb.version
            self._task = asyncio.create_task(asyncio.to_thread(self._compute, kb))
            self._task.add_done_callback(_log_failure)
        return self._task

    def problems(self, kb: KnowledgeBase) -> list[Problem] | None:
        task = self._start(kb)
        if not task.done() or task.cancelled() or task.exception() is not None:
            return None
        return task.result()

    def failed(self, kb: KnowledgeBase) -> bool:
        task = self._start(kb)
        return task.done() and (task.cancelled() or task.exception() is not None)

    async def wait(self, kb: KnowledgeBase) -> list[Problem]:
        return await asyncio.shield(self._start(kb))

    async def close(self) -> None:
        """Stop waiting for a computation still running (its thread ends on its own)."""
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


def _log_failure(task: asyncio.Task[list[Problem]]) -> None:
    if not task.cancelled() and task.exception() is not None:
        log.error("the meaning lints failed", exc_info=task.exception())
