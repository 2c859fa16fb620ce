"""Teach the knowledge base a phrasing from the review inbox (issue 11): add an example
question to a topic's `match.phrasings`, in its YAML file, in place.

The file is rewritten by ruamel.yaml's round trip, so its comments, key order, quoting and
layout stay as staff wrote them; the result must differ from the file only by added lines. A
file the round trip would change elsewhere (ruamel keeps the first of two duplicate keys where
PyYAML, which loads the knowledge base, keeps the last) gets the one new line inserted after the
last phrasing instead, at the place ruamel's parse gives. Either way the edit is checked before
it is written: the whole knowledge base is copied to a temporary folder, the edited file put in
it and loaded there (`bot.knowledge.load`, the checks of `bot kb check`); a problem refuses the
edit, with the reasons, and changes nothing.
"""

from __future__ import annotations

import difflib
import io
import os
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.representer import RoundTripRepresenter

from bot.knowledge import KnowledgeBase, KnowledgeError, Problem, load
from bot.text import tokens

MAX_PHRASING_CHARS = 300


class TeachError(Exception):
    """The phrasing was not added; `reasons` say why, one a line, in Vietnamese."""

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = reasons
        super().__init__("; ".join(reasons))


@dataclass(frozen=True, slots=True)
class Taught:
    """A phrasing to add (or added): the file, its text before and after, how many phrasings
    the topic had before and after, and whether the round trip wrote it (else the one line was
    inserted)."""

    path: Path
    phrasing: str
    source: str
    text: str
    before: int
    after: int
    round_trip: bool


def round_trip_yaml() -> YAML:
    """ruamel.yaml set up for the knowledge base's files: comments, order, quotes and layout
    kept; never re-wraps a line."""
    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap a long line
    yaml.allow_duplicate_keys = True  # PyYAML accepts them; the diff check below catches them
    # The knowledge base's layout: "match:\n  phrasings:\n    - text".
    yaml.indent(mapping=2, sequence=4, offset=2)
    representer: Any = yaml.representer
    representer.add_representer(type(None), _null)
    return yaml


def _null(representer: RoundTripRepresenter, _: None) -> Any:
    return representer.represent_scalar("tag:yaml.org,2002:null", "null")


def topic_file(root: Path, topic_id: str) -> Path:
    """The YAML file of `topic_id` under `root` (named after its id, in one of the folders)."""
    missing = TeachError([f"Không tìm thấy tệp của chủ đề {topic_id!r}."])
    if not topic_id or "/" in topic_id or "\\" in topic_id or topic_id.startswith("."):
        raise missing
    found = sorted(root.glob(f"*/{topic_id}.yaml"))
    if len(found) != 1:
        raise missing
    return found[0]


def with_phrasing(source: str, phrasing: str) -> tuple[str, int, bool]:
    """`source` (a topic file's text) with `phrasing` appended to `match.phrasings`: the new
    text, the number of phrasings before, and whether the whole round trip was kept."""
    yaml = round_trip_yaml()
    try:
        data = yaml.load(source)
    except YAMLError as exc:
        raise TeachError([f"Tệp YAML không đọc được: {exc}"]) from exc
    if not isinstance(data, CommentedMap):
        raise TeachError(["Tệp chủ đề không phải là một bảng khoá–giá trị."])
    match = data.get("match")
    if match is None:
        match = data["match"] = CommentedMap()
    if not isinstance(match, CommentedMap):
        raise TeachError(["Trường match không phải là một bảng khoá–giá trị."])
    phrasings = match.get("phrasings")
    if phrasings is None:
        phrasings = match["phrasings"] = CommentedSeq()
    if not isinstance(phrasings, CommentedSeq):
        raise TeachError(["Trường match.phrasings không phải là một danh sách."])
    before = len(phrasings)
    key = tokens(phrasing)
    if any(isinstance(p, str) and tokens(p) == key for p in phrasings):
        raise TeachError(["Câu này đã có trong các câu mẫu của chủ đề."])
    last_line = phrasings.lc.item(before - 1)[0] if before else None
    phrasings.append(phrasing)
    if before in phrasings.ca.items or before - 1 in phrasings.ca.items:
        # What follows the last phrasing (blank lines, a comment before the next key) is kept
        # on it by ruamel: move it to the new last one, so the new line comes right after.
        phrasings.ca.items[before] = phrasings.ca.items.pop(before - 1, None)
    out = io.StringIO()
    yaml.dump(data, out)
    text = out.getvalue()
    if _only_added(source, text):
        return text, before, True
    if last_line is None:
        raise TeachError(["Không thể thêm câu mẫu mà giữ nguyên phần còn lại của tệp."])
    return _insert_after(yaml, source, last_line, phrasing, before), before, False


def _only_added(old: str, new: str) -> bool:
    """Whether `new` is `old` with lines added and nothing else changed."""
    a, b = old.splitlines(keepends=True), new.splitlines(keepends=True)
    ops = difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes()
    return all(tag in ("equal", "insert") for tag, *_ in ops)


def _insert_after(yaml: YAML, source: str, line: int, phrasing: str, before: int) -> str:
    """`source` with "- phrasing" as a new line after line `line` (0-based), the last
    phrasing's, indented like it; checked by parsing the result again."""
    lines = source.splitlines(keepends=True)
    if not lines[line].endswith("\n"):
        lines[line] += "\n"
    indent = lines[line][: len(lines[line]) - len(lines[line].lstrip(" "))]
    item = io.StringIO()
    yaml.dump([phrasing], item)  # the scalar quoted as YAML needs it: "- 'a: b'\n"
    lines.insert(line + 1, indent + item.getvalue().lstrip(" "))
    text = "".join(lines)
    try:
        again = yaml.load(text)["match"]["phrasings"]
    except (YAMLError, KeyError, TypeError) as exc:
        raise TeachError(["Không thể thêm câu mẫu mà giữ nguyên phần còn lại của tệp."]) from exc
    if len(again) != before + 1 or again[-1] != phrasing:
        raise TeachError(["Không thể thêm câu mẫu mà giữ nguyên phần còn lại của tệp."])
    return text


def plan_phrasing(root: Path, topic_id: str, phrasing: str) -> Taught:
    """The edit adding `phrasing` to `topic_id`'s phrasings in its file under `root`, checked
    on a temporary copy of the whole knowledge base; nothing is written (see `write`). Raises
    `TeachError` when the phrasing is empty, too long or there already, or the result does not
    load. Blocking (file I/O, YAML): run it in a thread."""
    phrasing = " ".join(phrasing.split())
    if not tokens(phrasing):
        raise TeachError(["Câu mẫu trống."])
    if len(phrasing) > MAX_PHRASING_CHARS:
        raise TeachError([f"Câu mẫu dài quá {MAX_PHRASING_CHARS} ký tự."])
    path = topic_file(root, topic_id)
    source = path.read_text(encoding="utf-8")
    text, before, round_trip = with_phrasing(source, phrasing)
    try:
        check_copy(root, path, text)
    except KnowledgeError as exc:
        raise TeachError([str(p) for p in exc.problems]) from exc
    return Taught(path, phrasing, source, text, before, before + 1, round_trip)


def write(edit: Taught) -> None:
    """Write a planned edit in place, atomically, unless the file changed since it was read
    (then `TeachError`: plan it again)."""
    if edit.path.read_text(encoding="utf-8") != edit.source:
        raise TeachError(["Tệp chủ đề vừa được sửa ở nơi khác; anh/chị vui lòng thử lại."])
    replace_file(edit.path, edit.text)


def add_phrasing(root: Path, topic_id: str, phrasing: str) -> Taught:
    """`plan_phrasing`, then `write`: the phrasing is in the file when this returns."""
    edit = plan_phrasing(root, topic_id, phrasing)
    write(edit)
    return edit


def check_copy(root: Path, path: Path, text: str) -> tuple[KnowledgeBase, list[Problem]]:
    """Load the knowledge base under `root` with `path` (a file in it) holding `text`: on a
    temporary copy of the folder, so nothing staff can see changes. The loader's result, or
    `KnowledgeError` with its problems, each naming the file as under `root` ("knowledge/…").
    Blocking: run it in a thread."""
    with tempfile.TemporaryDirectory(prefix="kb-check-") as tmp:
        copy = Path(tmp) / root.name
        shutil.copytree(root, copy)
        (copy / path.relative_to(root)).write_text(text, encoding="utf-8")
        try:
            return load(copy)
        except KnowledgeError as exc:
            raise KnowledgeError([_relative(p, copy) for p in exc.problems]) from exc


def _relative(problem: Problem, copy: Path) -> Problem:
    return replace(problem, file=problem.file.replace(str(copy.parent) + os.sep, ""))


def replace_file(path: Path, text: str) -> None:
    """Write `text` over `path` atomically: a reader sees the old file or the new, whole."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, path.stat().st_mode & 0o777)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
