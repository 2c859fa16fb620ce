"""Which aspect of a procedure a message asks about, independent of the procedure itself.

"phí làm giấy khai sinh" and "còn lệ phí thì sao?" both ask for the fee; the topic comes from the
matcher or, for the second, from the conversation. One pure function over the phrases of
`facet_phrases`.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.text import tokens
from bot.understanding.facet_phrases import BLOCKERS, PHRASES


def _compile() -> dict[tuple[str, ...], str | None]:
    table: dict[tuple[str, ...], str | None] = {}
    for facet, phrases in PHRASES.items():
        for phrase in phrases:
            table.setdefault(tokens(phrase), facet)
    for phrase in BLOCKERS:
        table.setdefault(tokens(phrase), None)
    return table


_TABLE = _compile()
_MAX_LEN = max(len(k) for k in _TABLE)
# The words a phrase starts with: the others are stepped over without a look-up.
_HEADS = frozenset(k[0] for k in _TABLE)


def detect_facets(toks: Sequence[str]) -> tuple[str, ...]:
    """Facets asked in a normalised token sequence, in order of mention (longest match first)."""
    found: list[str] = []
    i = 0
    while i < len(toks):
        if toks[i] not in _HEADS:
            i += 1
            continue
        for n in range(min(_MAX_LEN, len(toks) - i), 0, -1):
            key = tuple(toks[i : i + n])
            if key in _TABLE:
                facet = _TABLE[key]  # None: a blocker, words that only look like a facet's
                if facet is not None and facet not in found:
                    found.append(facet)
                i += n
                break
        else:
            i += 1
    return tuple(found)
