"""Check and write a topic edit, or the revert of one (issue 11): the file work, blocking (run
it in a thread); `bot/staff/topic_desk.py` adds the lock, the reload and the audit.

An edit names the version of the file it was made on (`version_of`: a hash of its text). It is
refused, changing nothing, when the file changed since (a conflict: two members of staff cannot
silently overwrite each other), or when the knowledge base with the edit does not load: the
loader's checks (`bot kb check`'s, the figure-needs-a-source rule among them) run on a temporary
copy of the folder, and a phrasing already under another topic is refused as `bot kb check`
refuses it (and, by the desk, one the bot answers as another topic: `stray_refusals`). Each
refusal names the form field (when the form has one) and the reason.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from bot.knowledge import KnowledgeBase, KnowledgeError, Problem
from bot.staff.teach import TeachError, check_copy, replace_file, topic_file
from bot.staff.topic_form import TopicForm, field_of
from bot.staff.topic_yaml import EditError, apply_form
from bot.text import tokens


def version_of(text: str) -> str:
    """A file's version, as the edit form carries it."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class TopicFile:
    """A topic file as read: its path, its name under the knowledge folder's parent
    ("knowledge/procedures/khai-sinh.yaml"), its text and version."""

    path: Path
    name: str
    text: str

    @property
    def version(self) -> str:
        return version_of(self.text)


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why an edit was refused: the form field it is about (None: not a field of the form),
    where (file:line, or ""), and the reason in Vietnamese."""

    field: str | None
    where: str
    reason: str


class EditRefused(Exception):
    """Nothing was written. `conflict`: the file changed since the form was loaded."""

    def __init__(self, refusals: list[Refusal], conflict: bool = False) -> None:
        self.refusals = refusals
        self.conflict = conflict
        super().__init__("; ".join(r.reason for r in refusals))


CONFLICT = Refusal(
    None, "", "Tệp chủ đề đã được người khác sửa sau khi anh/chị mở trang; không có gì được ghi."
)


@dataclass(frozen=True, slots=True)
class Checked:
    """An edit that loads: the file before, its new text, the fields that changed (for a
    revert: none) and the knowledge base as it will be once written."""

    before: TopicFile
    text: str
    changed: tuple[str, ...]
    kb: KnowledgeBase

    @property
    def version(self) -> str:
        return version_of(self.text)


def read_topic(root: Path, topic_id: str) -> TopicFile:
    """The file of `topic_id` under `root`. Raises `EditRefused` when there is none."""
    try:
        path = topic_file(root, topic_id)
    except TeachError as exc:
        raise EditRefused([Refusal(None, "", exc.reasons[0])]) from exc
    return TopicFile(path, _name(root, path), path.read_text(encoding="utf-8"))


def _name(root: Path, path: Path) -> str:
    return path.relative_to(root.parent).as_posix()


def check_edit(root: Path, topic_id: str, form: TopicForm, version: str | None) -> Checked:
    """The edit of `topic_id` to `form`, made on the file's `version` (None: whatever it is
    now, as for a preview), checked on a copy. Raises `EditRefused`."""
    before = read_topic(root, topic_id)
    if version is not None and before.version != version:
        raise EditRefused([CONFLICT], conflict=True)
    try:
        text, changed = apply_form(before.text, form)
    except EditError as exc:
        raise EditRefused([Refusal(None, before.name, exc.reason)]) from exc
    return Checked(before, text, changed, _load(root, before, text, topic_id))


def check_restore(root: Path, name: str, expected: str, restored: str) -> Checked:
    """Putting `restored` back into the file `name` (as `TopicFile.name`), which must still
    hold `expected` (what the change being undone wrote). Raises `EditRefused`."""
    path = (root.parent / name).resolve()
    if path.parent.parent != root.resolve() or path.suffix != ".yaml" or not path.is_file():
        raise EditRefused([Refusal(None, name, "Không tìm thấy tệp chủ đề.")])
    before = TopicFile(path, name, path.read_text(encoding="utf-8"))
    if before.text != expected:
        raise EditRefused([CONFLICT], conflict=True)
    return Checked(before, restored, (), _load(root, before, restored, path.stem))


def _load(root: Path, before: TopicFile, text: str, topic_id: str) -> KnowledgeBase:
    try:
        kb, _ = check_copy(root, before.path, text)
    except KnowledgeError as exc:
        errors = [p for p in exc.problems if p.severity == "error"] or exc.problems
        # A topic that does not load makes others complain of it (a family's member): the
        # edited file's own problems are the ones to fix.
        errors = [p for p in errors if p.file == before.name] or errors
        raise EditRefused([_refusal(p, before.name) for p in errors]) from exc
    shared = _shared_phrasings(kb, topic_id)
    if shared:
        raise EditRefused(shared)
    return kb


def _shared_phrasings(kb: KnowledgeBase, topic_id: str) -> list[Refusal]:
    """The topic's phrasings that another topic has too (`bot kb check` refuses them: the
    example would teach both ways at once)."""
    topic = kb.topics.get(topic_id)
    if topic is None:
        return []
    owners: dict[tuple[str, ...], str] = {}
    for other in kb.topics.values():
        if other.id != topic_id:
            for phrasing in other.phrasings:
                owners.setdefault(tokens(phrasing), other.id)
    found = []
    for phrasing in topic.phrasings:
        owner = owners.get(tokens(phrasing))
        if owner is not None and tokens(phrasing):
            name = kb.topics[owner].name.vi
            reason = f"«{phrasing}» đã là câu mẫu của chủ đề «{name}» ({owner})."
            found.append(Refusal("phrasings", topic.source, reason))
    return found


_ANSWERED = re.compile(r"is answered as ([a-z0-9-]+)")


def stray_refusals(kb: KnowledgeBase, topic_id: str, problems: list[Problem]) -> list[Refusal]:
    """The errors of `bot.lint.stray_phrasings` (a phrasing the bot answers confidently as
    another topic) as refusals of the phrasings field."""
    topic = kb.topics[topic_id]
    refusals = []
    for problem in problems:
        index = problem.field.rsplit(".", 1)[-1]
        if problem.severity != "error" or not index.isdecimal():
            continue
        phrasing = topic.phrasings[int(index)]
        answered = _ANSWERED.search(problem.message)
        other = kb.topics.get(answered.group(1)) if answered else None
        where = f"chủ đề «{other.name.vi}» ({other.id})" if other else "một chủ đề khác"
        reason = (
            f"«{phrasing}»: với câu mẫu này bot trả lời thành {where}; anh/chị vui lòng viết"
            " rõ hơn hoặc thêm câu vào đúng chủ đề."
        )
        refusals.append(Refusal("phrasings", f"{problem.file}:{problem.line}", reason))
    return refusals


def write(checked: Checked) -> None:
    """Write a checked edit in place, atomically, unless the file changed since it was read
    (then `EditRefused` with `conflict`)."""
    if checked.before.path.read_text(encoding="utf-8") != checked.before.text:
        raise EditRefused([CONFLICT], conflict=True)
    replace_file(checked.before.path, checked.text)


# -- reasons in Vietnamese ---------------------------------------------------------------------

_FIGURE = re.compile(r"states (.+?) without a source")
QUOTES = "'\""
_REASONS = {
    "missing or empty text": "không được để trống.",
    "missing (needs vi and en)": "thiếu (cần cả tiếng Việt và tiếng Anh).",
    "missing date (YYYY-MM-DD)": "thiếu ngày (năm-tháng-ngày).",
    "missing list": "cần ít nhất một câu.",
    "must be a list of non-empty strings": "cần ít nhất một câu, mỗi dòng một câu.",
}


def _refusal(problem: Problem, name: str) -> Refusal:
    """A loader problem as the form shows it: on its field when it is about the edited file."""
    where = f"{problem.file}:{problem.line}"
    field = field_of(problem.field) if problem.file == name else None
    return Refusal(field, where, reason_of(problem))


def reason_of(problem: Problem) -> str:
    """The loader's message in Vietnamese where it is one staff meet in the form, else as is
    (with its field)."""
    figure = _FIGURE.search(problem.message)
    if figure:
        return (
            f"nêu con số «{figure.group(1).strip(QUOTES)}» mà chưa có nguồn: anh/chị vui lòng"
            " ghi nguồn (văn bản, điều khoản) vào ô «Nguồn» của mục này, hoặc ghi chú điều còn"
            " cần xác minh vào ô «Cần xác minh» của mục này."
        )
    known = _REASONS.get(problem.message)
    return known if known is not None else f"{problem.field}: {problem.message}"
