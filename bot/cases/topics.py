"""Which knowledge-base topic a dossier's procedure is: the export's "Thủ tục" cell, as a topic
id, a procedure name or a procedure code, to the topic id the replies name it by.

Pure and in memory: an index of the procedure and referral topics' ids, names and codes, folded;
with a matcher, names that are only close are matched too. Each distinct cell is resolved once
(an export repeats a few dozen procedures over thousands of rows).
"""

from __future__ import annotations

import re
from collections.abc import Callable

from bot.cases.fields import words_key
from bot.knowledge import KnowledgeBase
from bot.models import FILED, Decision
from bot.understanding.matcher import Matcher


class TopicResolver:
    """Maps the export's "Thủ tục" cell (a topic id, a procedure name or a procedure code such
    as "1.001193.H36") to a knowledge-base topic id; with a matcher, names that are only close
    are matched too. Each distinct cell is resolved once. `matcher` may be a function that builds
    one: it is called only if some cell needs it (building an index takes a while)."""

    def __init__(
        self, kb: KnowledgeBase | None, matcher: Matcher | Callable[[], Matcher] | None = None
    ) -> None:
        self._matcher = matcher
        self.kb = kb
        self._index: dict[str, str] = {}
        self._cache: dict[str, str | None] = {}
        for topic in kb.topics.values() if kb else ():
            if topic.kind not in FILED:
                continue
            keys = [topic.id, topic.id.replace("-", " "), topic.name.vi, topic.name.en]
            if topic.code:
                keys.append(topic.code)
            for key in keys:
                self._index.setdefault(self._key(key), topic.id)

    @staticmethod
    def _key(text: str) -> str:
        key = words_key(text)
        for prefix in ("thu tuc ", "tthc "):
            key = key.removeprefix(prefix)
        return key

    def __call__(self, cell: str) -> str | None:
        if cell in self._cache:
            return self._cache[cell]
        found = self._resolve(cell)
        self._cache[cell] = found
        return found

    def _resolve(self, cell: str) -> str | None:
        if not cell.strip():
            return None
        code = re.match(r"^\s*(\d\.\d{6})", cell)  # "1.001193.H36", "1.000894.01"
        if code and self._key(code.group(1)) in self._index:
            return self._index[self._key(code.group(1))]
        key = self._key(cell)
        if key in self._index:
            return self._index[key]
        if self._matcher is not None and self.kb is not None:
            if not isinstance(self._matcher, Matcher):
                self._matcher = self._matcher()
            match = self._matcher.match(cell)
            topic = self.kb.topics.get(match.topic or "")
            if match.decision is Decision.ACCEPT and topic and topic.kind in FILED:
                return topic.id
        return None
