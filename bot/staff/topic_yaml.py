"""Write a topic edit form (`bot/staff/topic_form.py`) into the topic's YAML text, in place.

ruamel.yaml's round trip keeps the file's comments, key order, quoting and layout; only the
values that changed are replaced, so an unchanged field keeps its bytes. A changed text keeps its
block style (`>-` folded, `|-` literal) and is folded near `WIDTH` columns like the files staff
write; a list (phrasings, sources, verify notes) is edited item by item (a difflib alignment), so
the comments between kept items stay where they were. A file the round trip would change by
itself (none of the shipped ones) is refused rather than rewritten. Pure: text in, text out.
"""

from __future__ import annotations

import datetime as dt
import difflib
import io
from collections.abc import Callable, Sequence
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.scalarstring import FoldedScalarString, LiteralScalarString

from bot.knowledge import LANGS
from bot.models import FACETS
from bot.staff.teach import round_trip_yaml
from bot.staff.topic_form import (
    GENERAL,
    SOURCE_FIELDS,
    VERIFY_FIELDS,
    TopicForm,
    date_text,
    form_of,
    text_of,
)

WIDTH = 100  # where a new long text is folded, as the knowledge files are written
PLAIN_MAX = 80  # a one-line text longer than this is written folded (`>-`)


class EditError(Exception):
    """The file cannot be edited this way: `reason` in Vietnamese."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


def load_data(source: str) -> CommentedMap:
    """A topic file's round-trip data. Raises `EditError` when it is not a YAML mapping."""
    try:
        data = round_trip_yaml().load(source)
    except YAMLError as exc:
        raise EditError(f"Tệp YAML không đọc được: {exc}") from exc
    if not isinstance(data, CommentedMap):
        raise EditError("Tệp chủ đề không phải là một bảng khoá–giá trị.")
    return data


def read_form(source: str) -> TopicForm:
    """The edit form filled from a topic file's text."""
    return form_of(load_data(source))


def dump(data: CommentedMap) -> str:
    out = io.StringIO()
    round_trip_yaml().dump(data, out)
    return out.getvalue()


def apply_form(source: str, form: TopicForm) -> tuple[str, tuple[str, ...]]:
    """`source` (a topic file's text) with the form's values: the new text and the names of
    the form's fields that changed (none: the text is `source` itself)."""
    data = load_data(source)
    if dump(data) != source:
        raise EditError(
            "Tệp này không thể sửa tự động mà giữ nguyên phần còn lại; anh/chị vui lòng nhờ"
            " người quản trị sửa trực tiếp tệp YAML."
        )
    old = form_of(data)
    old_values, new_values = old.values(), form.values()
    changed = tuple(name for name in new_values if new_values[name] != old_values[name])
    if not changed:
        return source, ()
    for lang in LANGS:
        _set_text(data, ("summary", lang), form.summary[lang], old.summary[lang])
    for facet in FACETS:
        _set_facet(data, facet, form.facets[facet], old.facets[facet])
    if form.phrasings != old.phrasings:
        match = _child_map(data, "match", after=None)
        seq = _child_seq(match, "phrasings", after=None)
        _edit_list(seq, list(form.phrasings), lambda v: v, str)
    for key in ("updated", "review_by"):
        _set_date(data, key, getattr(form, key), getattr(old, key))
    _set_sources(data, form, old)
    _set_verify(data, form, old)
    text = dump(data)
    return (text, changed) if text != source else (source, ())


# -- texts and dates ---------------------------------------------------------------------------


def _styled(new: str, old: Any) -> Any:
    """`new` as a scalar in the style of the value it replaces: literal when it has lines (or
    replaced a literal), folded near WIDTH when long (or replaced a folded one), else plain."""
    if "\n" in new or isinstance(old, LiteralScalarString):
        return LiteralScalarString(new)
    if isinstance(old, FoldedScalarString) or len(new) > PLAIN_MAX:
        folded = FoldedScalarString(new)
        folded.fold_pos = _fold_positions(new, WIDTH - 6)
        return folded
    return new


def _fold_positions(text: str, width: int) -> list[int]:
    """The spaces to fold `text` at so no line is longer than `width` (a longer word stays
    whole). ruamel folds only at a single space between two words."""
    positions: list[int] = []
    start = 0
    while len(text) - start > width:
        cut = text.rfind(" ", start, start + width + 1)
        while cut > start and (text[cut - 1] == " " or text[cut + 1] == " "):
            cut = text.rfind(" ", start, cut)
        if cut <= start:
            cut = text.find(" ", start + width)
            while cut != -1 and (text[cut - 1] == " " or text[cut + 1 : cut + 2] == " "):
                cut = text.find(" ", cut + 1)
            if cut == -1:
                break
        positions.append(cut)
        start = cut + 1
    return positions


def _set_text(data: CommentedMap, path: tuple[str, str], new: str, old: str) -> None:
    """Set `data[a][b]` to `new` unless it reads the same; "" removes it."""
    if new == old:
        return
    parent_key, key = path
    parent = data.get(parent_key)
    if not new:
        if isinstance(parent, CommentedMap) and key in parent:
            del parent[key]
        return
    if not isinstance(parent, CommentedMap):
        parent = _child_map(data, parent_key, after=None)
    parent[key] = _styled(new, parent.get(key))


def _set_facet(data: CommentedMap, facet: str, new: Any, old: Any) -> None:
    if all(new[lang] == old[lang] for lang in LANGS):
        return
    facets = data.get("facets")
    if not any(new[lang] for lang in LANGS):  # both emptied: the facet goes
        if isinstance(facets, CommentedMap) and facet in facets:
            del facets[facet]
            if not facets:
                del data["facets"]
        return
    facets = _child_map(data, "facets", after=None)
    entry = facets.get(facet)
    if not isinstance(entry, CommentedMap):
        position = sum(1 for f in FACETS[: FACETS.index(facet)] if f in facets)
        entry = CommentedMap()
        facets.insert(position, facet, entry)
    for lang in LANGS:
        # Both languages are written, an empty one too: the loader then names the missing side.
        if new[lang] != text_of(entry.get(lang)) or lang not in entry:
            entry[lang] = _styled(new[lang], entry.get(lang))


def _set_date(data: CommentedMap, key: str, new: str, old: str) -> None:
    if new == old or new == date_text(data.get(key)):
        return
    if not new:
        data.pop(key, None)
        return
    value = dt.date.fromisoformat(new)
    if key in data:
        data[key] = value
    else:
        _insert_after(data, key, value, None)


# -- sources and verify notes ------------------------------------------------------------------


def _set_sources(data: CommentedMap, form: TopicForm, old: TopicForm) -> None:
    if all(form.sources[k] == old.sources[k] for k in SOURCE_FIELDS):
        return
    sources = _child_map(data, "sources", after=None)
    for key in SOURCE_FIELDS:
        new = list(form.sources[key])
        if new == list(old.sources[key]):
            continue
        if not new:
            sources.pop(key, None)
            continue
        seq = sources.get(key)
        if not isinstance(seq, CommentedSeq):
            seq = CommentedSeq()
            if key in sources:
                sources[key] = seq
            else:  # in the form's order, after the keys that come before it
                earlier = SOURCE_FIELDS[: SOURCE_FIELDS.index(key)]
                _insert_after(
                    sources, key, seq, next((k for k in reversed(sources) if k in earlier), "")
                )
        _edit_list(seq, new, lambda v: v, str)
    if not sources:
        del data["sources"]


def _note_key(item: Any) -> tuple[str, str]:
    if not isinstance(item, CommentedMap):
        return ("", repr(item))
    facet = item.get("facet")
    return (facet if facet in FACETS else GENERAL, " ".join(str(item.get("note", "")).split()))


def _set_verify(data: CommentedMap, form: TopicForm, old: TopicForm) -> None:
    if all(form.verify[k] == old.verify[k] for k in VERIFY_FIELDS):
        return
    wanted = [(key, note) for key in VERIFY_FIELDS for note in form.verify[key]]
    seq = data.get("verify")
    if not wanted:
        data.pop("verify", None)
        return
    if not isinstance(seq, CommentedSeq):
        seq = CommentedSeq()
        _insert_after(data, "verify", seq, None)
    # Kept notes stay where they are in the file; new ones come after them.
    current = [_note_key(item) for item in seq]
    kept = [k for k in current if k in wanted]
    target = kept + [k for k in wanted if k not in kept]
    _edit_list(seq, target, _note_item, _note_key)


def _note_item(key: tuple[str, str]) -> CommentedMap:
    facet, note = key
    item = CommentedMap()
    if facet != GENERAL:
        item["facet"] = facet
    item["note"] = _styled(note, None) if len(note) > WIDTH else note
    return item


# -- containers --------------------------------------------------------------------------------


def _child_map(data: CommentedMap, key: str, after: str | None) -> CommentedMap:
    found = data.get(key)
    if isinstance(found, CommentedMap):
        return found
    if key in data:
        raise EditError(f"Trường {key} không phải là một bảng khoá–giá trị.")
    child = CommentedMap()
    _insert_after(data, key, child, after)
    return child


def _child_seq(data: CommentedMap, key: str, after: str | None) -> CommentedSeq:
    found = data.get(key)
    if isinstance(found, CommentedSeq):
        return found
    if key in data and found is not None:
        raise EditError(f"Trường {key} không phải là một danh sách.")
    child = CommentedSeq()
    if key in data:
        data[key] = child
    else:
        _insert_after(data, key, child, after)
    return child


# Where a key the file lacks is added: after the first of these keys it has (else at the end).
_PLACES: dict[str, tuple[str, ...]] = {
    "summary": ("handled_by", "code", "short", "name"),
    "facets": ("summary", "handled_by", "name"),
    "sources": ("facets", "summary", "name"),
    "updated": ("legal_basis", "sources", "facets", "summary"),
    "review_by": ("updated", "legal_basis", "sources", "facets", "summary"),
    "verify": ("review_by", "updated", "legal_basis", "sources", "facets", "summary"),
}


def _insert_after(data: CommentedMap, key: str, value: Any, after: str | None) -> None:
    """Add `key` after the key `after` when there is one ("" for first), else after the first
    of its usual predecessors the file has, else at the end."""
    keys = list(data)
    places = (after,) if after is not None else ()
    found = next((keys.index(k) + 1 for k in (*places, *_PLACES.get(key, ())) if k in keys), None)
    data.insert(0 if after == "" else len(keys) if found is None else found, key, value)


def _edit_list(
    seq: CommentedSeq,
    new: Sequence[Any],
    make: Callable[[Any], Any],
    key: Callable[[Any], Any],
) -> None:
    """Turn `seq` into `new` (compared by `key`) deleting, inserting and replacing items in
    place, last first, so that each kept item keeps the comments ruamel attached to it."""
    old = [key(item) for item in seq]
    ops = difflib.SequenceMatcher(None, old, list(new), autojunk=False).get_opcodes()
    for tag, i1, i2, j1, j2 in reversed(ops):
        if tag == "equal":
            continue
        common = min(i2 - i1, j2 - j1) if tag == "replace" else 0
        for n in range(common):  # replaced in place: the line keeps its comment
            seq[i1 + n] = make(new[j1 + n])
        for i in range(i2 - 1, i1 + common - 1, -1):
            _delete(seq, i)
        at = i1 + common
        for n, value in enumerate(new[j1 + common : j2]):
            _insert(seq, at + n, make(value))


def _split(token: Any) -> tuple[str, str]:
    """A comment token after an item: (its end-of-line part, what follows on later lines)."""
    text = str(token.value)
    cut = text.find("\n") + 1 if "\n" in text else len(text)
    return text[:cut], text[cut:]


def _delete(seq: CommentedSeq, index: int) -> None:
    """Remove one item; the comment lines after it (not its end-of-line comment) move to the
    item before, so a comment about the next item stays above it. (After the first item there
    is none to move them to: ruamel keeps a list's leading comment elsewhere; they go.)"""
    token = seq.ca.items.get(index, [None])[0]
    del seq[index]
    if token is None or index == 0:
        return
    _, following = _split(token)
    if not following:
        return
    before = seq.ca.items.get(index - 1)
    if before is not None and before[0] is not None:
        eol, _ = _split(before[0])
        before[0].value = eol + following
    else:
        token.value = "\n" + following
        seq.ca.items[index - 1] = [token, None, None, None]


def _insert(seq: CommentedSeq, index: int, value: Any) -> None:
    """Insert one item; at the end, what followed the last item (blank lines, a comment before
    the next key) moves after the new one, so the new item sits with the others."""
    last = len(seq) - 1
    seq.insert(index, value)
    if index <= last or last < 0:
        return
    token = seq.ca.items.get(last, [None])[0]
    if token is None:
        return
    eol, following = _split(token)
    if not following:
        return
    if eol.startswith("#"):
        token.value = eol
        moved = type(token)("\n" + following, token.start_mark, token.end_mark)
        seq.ca.items[index] = [moved, None, None, None]
    else:
        del seq.ca.items[last]
        seq.ca.items[index] = [token, None, None, None]
