"""The topic edit form (issue 11, "Keeping the answers right"): what staff may change in a topic
from the dashboard, as plain values, read from a topic file's YAML data or from a posted form.

The fields are named by the loader's dotted paths (`summary.vi`, `facets.fee.en`, `sources.fee`,
`updated`...), so a problem `bot.knowledge.load` reports points at the input to fix (`field_of`).
Multi-valued fields are one entry a line: `phrasings`, each `sources.<key>` and each
`verify.<facet>` (the notes to verify on that facet; `verify.general` for the topic as a whole).
Pure: no I/O.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from bot.knowledge import LANGS
from bot.models import FACETS, Lang

GENERAL = "general"  # the verify notes about the topic as a whole (no facet)
SOURCE_FIELDS = (*FACETS, "summary")  # the `sources` keys the form offers
VERIFY_FIELDS = (*FACETS, GENERAL)
MAX_FIELD_CHARS = 20_000  # a pasted document, not a facet: refused before any YAML work


@dataclass(frozen=True, slots=True)
class TopicForm:
    """A topic's editable content. Texts are as staff typed them (newlines "\\n")."""

    summary: Mapping[Lang, str]
    facets: Mapping[str, Mapping[Lang, str]]  # facet -> lang -> text ("" when absent)
    phrasings: tuple[str, ...]
    updated: str  # YYYY-MM-DD, or "" for none
    review_by: str
    sources: Mapping[str, tuple[str, ...]]  # SOURCE_FIELDS key -> sources
    verify: Mapping[str, tuple[str, ...]]  # VERIFY_FIELDS key -> notes

    def values(self) -> dict[str, str]:
        """The form's inputs by name, as the page fills them in."""
        out = {f"summary.{lang}": self.summary[lang] for lang in LANGS}
        for facet in FACETS:
            for lang in LANGS:
                out[f"facets.{facet}.{lang}"] = self.facets[facet][lang]
        out["phrasings"] = "\n".join(self.phrasings)
        out["updated"], out["review_by"] = self.updated, self.review_by
        out |= {f"sources.{key}": "\n".join(self.sources[key]) for key in SOURCE_FIELDS}
        out |= {f"verify.{key}": "\n".join(self.verify[key]) for key in VERIFY_FIELDS}
        return out


def text_of(value: Any) -> str:
    """A YAML text value as the form shows it: "" for none."""
    return "" if value is None else str(value).replace("\r\n", "\n").strip()


def lines_of(value: str) -> tuple[str, ...]:
    """A one-entry-a-line textarea's entries: blank lines dropped, spaces collapsed."""
    return tuple(" ".join(line.split()) for line in value.splitlines() if line.strip())


def date_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    return text_of(value)


def _get(data: Any, *path: str) -> Any:
    for part in path:
        if not isinstance(data, Mapping):
            return None
        data = data.get(part)
    return data


def _strings(value: Any) -> tuple[str, ...]:
    if not isinstance(value, list):
        return ()
    return tuple(" ".join(str(v).split()) for v in value if isinstance(v, str) and v.strip())


def form_of(data: Mapping[str, Any]) -> TopicForm:
    """The form filled from a topic file's data (as loaded by YAML)."""
    verify: dict[str, list[str]] = {key: [] for key in VERIFY_FIELDS}
    raw_verify = data.get("verify")
    for item in raw_verify if isinstance(raw_verify, list) else []:
        if isinstance(item, Mapping) and isinstance(item.get("note"), str):
            facet = item.get("facet")
            verify[facet if facet in FACETS else GENERAL].append(" ".join(item["note"].split()))
    return TopicForm(
        summary={lang: text_of(_get(data, "summary", lang)) for lang in LANGS},
        facets={
            f: {lang: text_of(_get(data, "facets", f, lang)) for lang in LANGS} for f in FACETS
        },
        phrasings=_strings(_get(data, "match", "phrasings")),
        updated=date_text(data.get("updated")),
        review_by=date_text(data.get("review_by")),
        sources={key: _strings(_get(data, "sources", key)) for key in SOURCE_FIELDS},
        verify={key: tuple(notes) for key, notes in verify.items()},
    )


class FormError(Exception):
    """A posted form that cannot be read: `problems` are (field, reason in Vietnamese)."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{f}: {r}" for f, r in problems))


def parse_form(posted: Mapping[str, str], base: TopicForm | None = None) -> TopicForm:
    """The form from posted fields; a field not posted at all keeps its value in `base` (the
    file as it is), else is empty: only a field sent empty empties it. Raises `FormError` for
    a date that is not one or a field too long to be a text."""
    problems: list[tuple[str, str]] = []
    kept = base.values() if base is not None else {}

    def get(name: str) -> str:
        value = str(posted[name] if name in posted else kept.get(name, ""))
        value = value.replace("\r\n", "\n").replace("\r", "\n")
        if len(value) > MAX_FIELD_CHARS:
            problems.append((name, f"dài quá {MAX_FIELD_CHARS} ký tự"))
            return ""
        return value.strip()

    def date(name: str) -> str:
        value = get(name)
        if value:
            try:
                dt.date.fromisoformat(value)
            except ValueError:
                problems.append((name, "không phải một ngày (năm-tháng-ngày, ví dụ 2027-03-01)"))
        return value

    form = TopicForm(
        summary={lang: get(f"summary.{lang}") for lang in LANGS},
        facets={f: {lang: get(f"facets.{f}.{lang}") for lang in LANGS} for f in FACETS},
        phrasings=lines_of(get("phrasings")),
        updated=date("updated"),
        review_by=date("review_by"),
        sources={key: lines_of(get(f"sources.{key}")) for key in SOURCE_FIELDS},
        verify={key: lines_of(get(f"verify.{key}")) for key in VERIFY_FIELDS},
    )
    if problems:
        raise FormError(problems)
    return form


def field_of(dotted: str) -> str | None:
    """The form input a loader problem's dotted field is about, or None when the form has no
    input for it (a key staff cannot edit here, or a `verify` entry, which the form groups by
    facet: then the problem is shown above the form)."""
    parts = dotted.split(".")
    head = parts[0]
    if head == "summary" and len(parts) <= 2:
        return dotted if len(parts) == 2 and parts[1] in LANGS else "summary.vi"
    if head == "facets" and len(parts) >= 2 and parts[1] in FACETS:
        lang = parts[2] if len(parts) == 3 and parts[2] in LANGS else "vi"
        return f"facets.{parts[1]}.{lang}"
    if head in ("updated", "review_by") and len(parts) == 1:
        return head
    if head == "match" and len(parts) >= 2 and parts[1] == "phrasings":
        return "phrasings"
    if head == "sources" and len(parts) >= 2 and parts[1] in SOURCE_FIELDS:
        return f"sources.{parts[1]}"
    return None
