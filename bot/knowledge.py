"""Load and validate the knowledge base (`knowledge/`) into typed, immutable objects.

Staff edit these YAML files by hand, so every problem is reported as one line naming the file,
the line and the field, and a broken edit never replaces the last good knowledge base: `load()`
either returns a complete `KnowledgeBase` or raises `KnowledgeError` with all the problems.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from bot.figures import figures, normalised
from bot.models import FACETS, FILED, Lang, TopicKind

# `outofscope` topics gather the language of other domains (taxes, traffic fines, weather...):
# when one wins, the bot answers as for topic null, so their ids never reach citizens or evals.
FOLDER_KINDS: Mapping[str, tuple[TopicKind, ...]] = {
    "procedures": (TopicKind.PROCEDURE,),
    "info": (TopicKind.INFO, TopicKind.CASE, TopicKind.HANDOFF, TopicKind.OUTOFSCOPE),
    "referrals": (TopicKind.REFERRAL,),
    "smalltalk": (TopicKind.SMALLTALK,),
    "families": (TopicKind.FAMILY,),
}
# Texts the bot itself says; bot.yaml must define each in vi and en.
BOT_TEXTS = (
    "welcome",
    "menu_prompt",
    "fallback",
    "clarify",
    "clarify_none",
    "clarify_facet",
    "handoff",
    "attachment",
    "more_facets",
    "menu_button",
    "staff_button",
    "flood",
    "facet_missing",
    # dossier lookup (issue 4)
    "case_ask_digits", "case_digits_invalid", "case_not_found", "case_locked", "case_details",
    "case_unknown", "case_where_filed", "case_status_received", "case_status_processing",
    "case_status_supplement", "case_status_ready", "case_status_returned",
    "case_status_rejected", "case_status_withdrawn", "case_in_time", "case_due_today",
    "case_late", "case_done_on_time", "case_done_late", "case_next_wait",
    "case_next_supplement", "case_next_supplement_ask", "case_next_ready",
    "case_next_returned", "case_next_rejected", "case_note", "case_subscribe_offer",
    "case_subscribe_button", "case_subscribe_verify_first", "case_subscribed", "case_notice",
    # hostile input and faults: digits that are no code, a dossier slowed down
    "case_code_invalid", "case_throttled",
    # on time or late in working days (issue 12): when no working day is in between
    "case_in_time_short", "case_late_short", "case_done_late_short",
    # human handoff (issue 11)
    "handoff_paused", "handoff_after_misses", "handoff_after_dislike",
    "handoff_resume_button", "handoff_resumed",
    "handoff_closed",
    # ratings (issue 11): the 👍 / 👎 quick replies after an answer, and the replies to them
    "rating_up_button", "rating_down_button", "rating_thanks", "rating_sorry",
)  # fmt: skip
SHORT_LIMIT = 20  # Messenger's quick-reply title limit
FACET_LABELS = ("documents", "fee", "time", "where", "online", "who")
# The keys the loader reads, so docs/kb-format.md can be checked against them
# (tests/test_docs.py). Any other key is ignored without a word; only an unknown facet under
# `facets` is an error.
LANGS: tuple[Lang, ...] = ("vi", "en")  # the languages of every text
TOPIC_KEYS = frozenset(
    ("id", "kind", "name", "short", "summary", "handled_by", "code", "facets", "legal_basis",
     "updated", "review_by", "verify", "match", "sources", "members")
)  # fmt: skip
# What a `sources` entry may be about: a facet, or a text outside the facets that states a figure.
SOURCE_KEYS = (*FACETS, "summary", "handled_by")
# A family card offers its members as quick replies beside the menu and staff buttons (13 at
# most on Messenger, platforms.md).
MAX_MEMBERS = 11
MATCH_KEYS = frozenset(("keywords", "phrasings", "extends"))
VERIFY_KEYS = frozenset(("facet", "note"))  # of each entry of a topic's `verify` list
BOT_KEYS = frozenset(("texts", "facet_labels", "menu"))
# The topic ids of ../shared/reference/topics.md: a contract with `bot ask --json` and the
# evaluation sets. Topics may be added; none of these may disappear.
CONTRACT_TOPICS = (
    "khai-sinh", "lien-thong-khai-sinh", "khai-tu", "lien-thong-khai-tu", "ket-hon",
    "ket-hon-nuoc-ngoai", "khai-sinh-nuoc-ngoai", "xac-nhan-tinh-trang-hon-nhan",
    "trich-luc-ho-tich", "thay-doi-cai-chinh-ho-tich", "nhan-cha-me-con", "giam-ho",
    "nuoi-con-nuoi", "chung-thuc-ban-sao", "chung-thuc-chu-ky", "chung-thuc-hop-dong",
    "cong-chung", "nhap-quoc-tich", "tro-lai-quoc-tich", "thoi-quoc-tich", "xac-nhan-quoc-tich",
    "tro-giup-phap-ly", "boi-thuong-nha-nuoc", "dau-gia", "luat-su", "lien-he", "nop-truc-tuyen",
    "tra-cuu-ho-so", "gap-can-bo", "ly-lich-tu-phap", "can-cuoc", "cu-tru", "ho-chieu", "dat-dai",
    "dang-ky-kinh-doanh", "ly-hon", "chao-hoi", "cam-on",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class Text:
    vi: str
    en: str

    def get(self, lang: Lang) -> str:
        return self.en if lang == "en" else self.vi


@dataclass(frozen=True, slots=True)
class VerifyNote:
    facet: str | None
    note: str


@dataclass(frozen=True, slots=True)
class Topic:
    id: str
    kind: TopicKind
    name: Text
    summary: Text
    facets: Mapping[str, Text]
    handled_by: Text | None
    code: str | None
    legal_basis: tuple[str, ...]
    updated: dt.date | None
    review_by: dt.date | None
    verify: tuple[VerifyNote, ...]
    keywords: tuple[tuple[str, float], ...]
    phrasings: tuple[str, ...]
    source: str
    extends: str | None = None  # a base topic whose positive key terms this variant shares
    short: Text | None = None  # the quick-reply title; `name` cut to fit when absent
    # Where each facet's facts come from (issue 10): facet (or "summary") -> sources.
    sources: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    members: tuple[str, ...] = ()  # a family's variant topics, in menu order

    def title(self, lang: Lang) -> str:
        """The topic as a quick-reply or menu title: at most 20 characters (platforms.md)."""
        if self.short is not None:
            return self.short.get(lang)
        name = self.name.get(lang)
        return name if len(name) <= SHORT_LIMIT else name[: SHORT_LIMIT - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class BotTexts:
    texts: Mapping[str, Text]
    facet_labels: Mapping[str, Text]
    menu: tuple[str, ...]

    def get(self, key: str, lang: Lang) -> str:
        return self.texts[key].get(lang)


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    topics: Mapping[str, Topic]
    texts: BotTexts
    concepts: Mapping[str, tuple[str, ...]]
    version: str
    root: str


@dataclass(frozen=True, slots=True)
class Problem:
    file: str
    line: int
    field: str
    message: str
    severity: str = "error"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.severity}: {self.field}: {self.message}"


class KnowledgeError(Exception):
    """The knowledge base cannot be loaded; `problems` has one entry per defect."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


@dataclass
class _File:
    """One YAML file being validated: its data, its node tree for line numbers, its problems."""

    path: Path
    label: str
    concepts: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    stems: frozenset[str] = frozenset()
    data: Any = None
    node: yaml.Node | None = None
    problems: list[Problem] = field(default_factory=list)

    def line_of(self, dotted: str) -> int:
        node = self.node
        line = 1 if node is None else node.start_mark.line + 1
        for part in dotted.split(".") if dotted else []:
            if isinstance(node, yaml.MappingNode):
                found = next((v for k, v in node.value if k.value == part), None)
                if found is None:
                    return line
                node = found
            elif (
                isinstance(node, yaml.SequenceNode)
                and part.isdecimal()  # "²" is a digit that int() refuses
                and len(part) < 10  # a key of 5,000 digits: past int()'s limit
                and int(part) < len(node.value)
            ):
                node = node.value[int(part)]
            else:
                return line
            line = node.start_mark.line + 1
        return line

    def error(self, dotted: str, message: str, severity: str = "error") -> None:
        self.problems.append(Problem(self.label, self.line_of(dotted), dotted, message, severity))

    def get(self, dotted: str) -> Any:
        value = self.data
        for part in dotted.split("."):
            if not isinstance(value, dict):
                return None
            value = value.get(part)
        return value

    def text(self, dotted: str, required: bool = True) -> Text | None:
        value = self.get(dotted)
        if value is None:
            if required:
                self.error(dotted, "missing (needs vi and en)")
            return None
        if not isinstance(value, dict):
            self.error(dotted, "must be a mapping with vi and en")
            return None
        parts: dict[str, str] = {}
        for lang in LANGS:
            item = value.get(lang)
            if not isinstance(item, str) or not item.strip():
                self.error(f"{dotted}.{lang}", "missing or empty text")
            else:
                parts[lang] = item.strip()
        return Text(**parts) if len(parts) == 2 else None

    def date(self, dotted: str, required: bool) -> dt.date | None:
        value = self.get(dotted)
        if value is None:
            if required:
                self.error(dotted, "missing date (YYYY-MM-DD)")
            return None
        if isinstance(value, dt.datetime):  # "2026-01-15 08:00": YAML reads a datetime
            return value.date()  # (a datetime would not compare with today's date)
        if isinstance(value, dt.date):
            return value
        try:
            return dt.date.fromisoformat(str(value))
        except ValueError:
            self.error(dotted, f"not a date (YYYY-MM-DD): {value!r}")
            return None


# What PyYAML's safe constructors raise on a value they cannot build, instead of a YAMLError:
# "2026-13-45" (ValueError: a date), "!!int x" (ValueError), "!!int ''" (IndexError), "!!bool x"
# (KeyError), "!!timestamp x" (AttributeError), an integer of 5,000 digits (ValueError).
_UNBUILDABLE = (ValueError, LookupError, AttributeError)


def _unbuildable_line(node: yaml.Node | None) -> int:
    """The line of the first scalar that PyYAML cannot build alone, else 1."""
    build = yaml.SafeLoader("").construct_object
    stack, seen = ([node] if node is not None else []), set()
    while stack:
        item = stack.pop()
        if id(item) in seen:  # an alias: the same node again
            continue
        seen.add(id(item))
        if isinstance(item, yaml.ScalarNode):
            try:
                build(item)
            except (yaml.YAMLError, *_UNBUILDABLE):  # "!!map x" is a YAMLError, built alone
                return int(item.start_mark.line) + 1
        elif isinstance(item, yaml.SequenceNode):
            stack.extend(reversed(item.value))
        elif isinstance(item, yaml.MappingNode):
            stack.extend(node for pair in reversed(item.value) for node in reversed(pair))
    return 1


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when PyYAML was built with it


def _read(
    path: Path,
    root: Path,
    concepts: Mapping[str, tuple[str, ...]] | None = None,
    stems: frozenset[str] = frozenset(),
) -> _File:
    label = str(path.relative_to(root.parent)) if root.parent else str(path)
    f = _File(path=path, label=label, concepts=concepts or {}, stems=stems)
    try:
        raw = path.read_text(encoding="utf-8")
        # libyaml's parser, once: the pure-Python one, twice, was 43 of a 59 s load of the
        # catalogue's 150 files on a loaded machine (bot/model_cache.py keeps the fit).
        loader = _Loader(raw)
        try:
            f.node = loader.get_single_node()
            f.data = loader.construct_document(f.node) if f.node is not None else None
        finally:
            loader.dispose()
    except UnicodeDecodeError as exc:
        f.problems.append(Problem(f.label, 1, "-", f"not UTF-8 text: {exc.reason}"))
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else 1
        f.problems.append(Problem(f.label, line, "-", f"YAML syntax: {exc.problem}"))
    except yaml.YAMLError as exc:
        f.problems.append(Problem(f.label, 1, "-", f"YAML: {exc}"))
    except RecursionError:  # PyYAML composes recursively: "[[[[..." a thousand deep
        f.problems.append(Problem(f.label, 1, "-", "YAML nested too deeply"))
    except _UNBUILDABLE as exc:
        line = _unbuildable_line(f.node)
        f.problems.append(Problem(f.label, line, "-", f"YAML value cannot be read: {exc}"))
    if not f.problems and not isinstance(f.data, dict):
        f.problems.append(Problem(f.label, 1, "-", "the file must hold a mapping"))
    if not f.problems and f.node is not None:
        f.problems.extend(_duplicate_keys(f.label, f.node))
    return f


def _duplicate_keys(label: str, root: yaml.Node) -> list[Problem]:
    """A key written twice in one mapping: YAML keeps the later value at the earlier place, so
    the file does not say what it reads as (a keyword weighed 4 on one line and 5 on another)."""
    problems: list[Problem] = []
    stack: list[yaml.Node] = [root]
    while stack:  # iterative: a deep file must not exhaust the recursion limit here
        node = stack.pop()
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                line = key.start_mark.line + 1
                if isinstance(key, yaml.ScalarNode):
                    if key.value in first:
                        problems.append(
                            Problem(
                                label,
                                line,
                                str(key.value),
                                f"written twice (first on line {first[key.value]}): keep one",
                            )
                        )
                    first.setdefault(key.value, line)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return problems


def _keywords(f: _File) -> tuple[tuple[str, float], ...]:
    value = f.get("match.keywords")
    if not isinstance(value, dict) or not value:
        f.error("match.keywords", "missing: a mapping of term -> weight")
        return ()
    out: list[tuple[str, float]] = []
    for term, weight in value.items():
        numeric = isinstance(weight, int | float) and not isinstance(weight, bool)
        unknown = [w for w in str(term).split() if w.startswith("@") and w[1:] not in f.concepts]
        if unknown:
            f.error(f"match.keywords.{term}", f"unknown concept {unknown[0]} (see concepts.yaml)")
            continue
        if not numeric or not -10 <= weight <= 10:
            f.error(f"match.keywords.{term}", f"weight must be a number from -10 to 10: {weight!r}")
            continue
        out.append((str(term), float(weight)))
    if not any(w > 0 for _, w in out):
        f.error("match.keywords", "needs at least one positive term")
    return tuple(out)


def _short(f: _File) -> Text | None:
    short = f.text("short", required=False)
    if short is None:
        return None
    for lang in LANGS:
        if len(short.get(lang)) > SHORT_LIMIT:
            f.error(f"short.{lang}", f"at most {SHORT_LIMIT} characters (a quick-reply title)")
    return short


def _extends(f: _File) -> str | None:
    base = f.get("match.extends")
    if base is None:
        return None
    if not isinstance(base, str) or base == f.path.stem or base not in f.stems:
        f.error("match.extends", f"must name another topic's id, found {base!r}")
        return None
    return base


def _strings(f: _File, dotted: str, required: bool) -> tuple[str, ...]:
    value = f.get(dotted)
    if value is None:
        if required:
            f.error(dotted, "missing list")
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str) and v.strip() for v in value):
        f.error(dotted, "must be a list of non-empty strings")
        return ()
    return tuple(v.strip() for v in value)


def _topic(f: _File, folder: str) -> Topic | None:
    tid = f.get("id")
    if tid != f.path.stem:
        f.error("id", f"must equal the file name {f.path.stem!r}, found {tid!r}")
    raw_kind = f.get("kind")
    allowed = FOLDER_KINDS.get(folder, ())
    if raw_kind not in allowed:
        f.error(
            "kind", f"{raw_kind!r} does not belong in {folder}/ (expected: {', '.join(allowed)})"
        )
    # A wrong kind is reported; the topic is then dropped, so INFO only stands in.
    kind = TopicKind(raw_kind) if raw_kind in allowed else None
    is_procedure = kind is TopicKind.PROCEDURE
    name = f.text("name")
    summary = f.text("summary")
    handled_by = f.text("handled_by", required=kind in FILED)
    facets: dict[str, Text] = {}
    raw_facets = f.get("facets")
    if raw_facets is not None and not isinstance(raw_facets, dict):
        f.error("facets", "must be a mapping of facet -> {vi, en}")
        raw_facets = {}
    for facet in raw_facets or {}:
        if facet not in FACETS:
            f.error(f"facets.{facet}", f"unknown facet (allowed: {', '.join(FACETS)})")
    for facet in FACETS:
        text = f.text(f"facets.{facet}", required=is_procedure)
        if text is not None:
            facets[facet] = text
    code = f.get("code")
    if code is not None and not isinstance(code, str):
        f.error("code", 'quote the code as a string, e.g. "1.001193"')
    verify: list[VerifyNote] = []
    raw_verify = f.get("verify") or []
    if not isinstance(raw_verify, list):
        f.error("verify", "must be a list of {facet, note}")
        raw_verify = []
    for i, item in enumerate(raw_verify):
        if not isinstance(item, dict) or not isinstance(item.get("note"), str):
            f.error(f"verify.{i}", "each entry needs a note")
            continue
        facet = item.get("facet")
        if facet is not None and (not isinstance(facet, str) or facet not in FACETS):
            # a list or a mapping here is no facet name either (and cannot be hashed)
            f.error(f"verify.{i}.facet", f"unknown facet {facet!r}")
            continue
        verify.append(VerifyNote(facet, item["note"]))
    topic = Topic(
        id=str(tid),
        kind=kind or TopicKind.INFO,
        name=name or Text("", ""),
        summary=summary or Text("", ""),
        facets=facets,
        handled_by=handled_by,
        code=code if isinstance(code, str) else None,
        legal_basis=_strings(f, "legal_basis", required=is_procedure),
        updated=f.date("updated", required=kind in FILED),
        review_by=f.date("review_by", required=kind in FILED),
        verify=tuple(verify),
        keywords=_keywords(f),
        phrasings=_strings(f, "match.phrasings", required=True),
        source=f.label,
        extends=_extends(f),
        short=_short(f),
        sources=_sources(f),
        members=_strings(f, "members", required=kind is TopicKind.FAMILY),
    )
    _check_figures(f, topic)
    return None if any(p.severity == "error" for p in f.problems) else topic


def _sources(f: _File) -> dict[str, tuple[str, ...]]:
    raw = f.get("sources")
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        f.error("sources", "must be a mapping of facet -> list of sources")
        return {}
    out: dict[str, tuple[str, ...]] = {}
    for key in raw:
        if key not in SOURCE_KEYS:
            f.error(f"sources.{key}", f"unknown facet (allowed: {', '.join(SOURCE_KEYS)})")
            continue
        found = _strings(f, f"sources.{key}", required=True)
        if found:
            out[str(key)] = found
    return out


def _check_figures(f: _File, topic: Topic) -> None:
    """Every fee, duration or phone number a topic states has a source or a verify note on
    its facet; a figure in the summary (or handled_by) is sourced when a facet that is states
    it too, the summary being a recap of the facets."""
    noted = {note.facet for note in topic.verify}
    vouched: set[str] = set()  # the figures of sourced or noted facets, compared as digits
    texts: list[tuple[str, str, Text]] = [(k, f"facets.{k}", v) for k, v in topic.facets.items()]
    for key, _, text in texts:
        if key in topic.sources or key in noted:
            vouched.update(normalised(x) for x in figures(text.vi) + figures(text.en))
    for key in ("summary", "handled_by"):
        text = getattr(topic, key)
        if text is not None:
            texts.append((key, key, text))
    for key, dotted, text in texts:
        if key in topic.sources or key in noted:
            continue
        recap = key in ("summary", "handled_by")
        for lang in LANGS:
            found = figures(text.get(lang))
            loose = [x for x in found if not (recap and normalised(x) in vouched)]
            if loose:
                f.error(
                    f"{dotted}.{lang}",
                    f"states {loose[0]!r} without a source: add sources.{key} (where the figure"
                    f" comes from) or a verify note on {key} (what is still unconfirmed)",
                )
                break


def _check_families(topics: Mapping[str, Topic]) -> list[Problem]:
    """A family's members are existing topics that are not families, at least two and at most
    `MAX_MEMBERS`, each in one family only: a question naming the family gets its menu."""
    problems: list[Problem] = []
    owner: dict[str, str] = {}
    for topic in topics.values():
        if topic.kind is not TopicKind.FAMILY:
            if topic.members:
                problems.append(Problem(topic.source, 1, "members", "only a family has members"))
            continue
        if not 2 <= len(topic.members) <= MAX_MEMBERS:
            problems.append(
                Problem(topic.source, 1, "members", f"a family has 2 to {MAX_MEMBERS} members")
            )
        for i, member in enumerate(topic.members):
            found = topics.get(member)
            if found is None:
                message = f"no topic {member!r} (a member must be the id of a topic file)"
            elif found.kind is TopicKind.FAMILY:
                message = f"{member!r} is a family: a family's members are not families"
            elif member in owner:
                message = f"{member!r} is already a member of {owner[member]}"
            else:
                owner[member] = topic.id
                continue
            problems.append(Problem(topic.source, 1, f"members.{i}", message))
    return problems


@dataclass(frozen=True, slots=True)
class Sourcing:
    """How the facts of a knowledge base's facets are backed (`bot kb check` prints it)."""

    facets: int  # facets of procedures, referrals and info topics
    sourced: int  # with a `sources` entry
    noted: int  # with only a verify note on the facet
    stating: int  # facets that state a fee, duration or phone number
    stating_sourced: int  # of those, with a source (the rest have a verify note: the loader
    # refuses a figure with neither)


def sourcing(kb: KnowledgeBase) -> Sourcing:
    """Count the facets with a source, with only a verify note, and with neither; and the same
    for the facets that state a figure (a summary repeats its facets' figures)."""
    facets = sourced = noted = stating = stating_sourced = 0
    for topic in kb.topics.values():
        if topic.kind not in (TopicKind.PROCEDURE, TopicKind.REFERRAL, TopicKind.INFO):
            continue
        notes = {note.facet for note in topic.verify}
        for key, text in topic.facets.items():
            facets += 1
            sourced += key in topic.sources
            noted += key not in topic.sources and key in notes
            if figures(text.vi) + figures(text.en):
                stating += 1
                stating_sourced += key in topic.sources
    return Sourcing(facets, sourced, noted, stating, stating_sourced)


def _bot_texts(f: _File, topic_ids: set[str]) -> BotTexts | None:
    texts: dict[str, Text] = {}
    for key in BOT_TEXTS:
        text = f.text(f"texts.{key}")
        if text is not None:
            texts[key] = text
    labels: dict[str, Text] = {}
    for facet in FACET_LABELS:
        text = f.text(f"facet_labels.{facet}")
        if text is not None:
            labels[facet] = text
    menu = _strings(f, "menu", required=True)
    for i, tid in enumerate(menu):
        if tid not in topic_ids:
            f.error(f"menu.{i}", f"unknown topic id {tid!r}")
    if f.problems:
        return None
    return BotTexts(texts=texts, facet_labels=labels, menu=menu)


def _concepts(root: Path, problems: list[Problem], digest: Any) -> dict[str, tuple[str, ...]]:
    """concepts.yaml: name -> list of interchangeable terms, used as "@name" in keywords."""
    path = root / "concepts.yaml"
    if not path.is_file():
        return {}
    digest.update(path.read_bytes())
    f = _read(path, root)
    concepts: dict[str, tuple[str, ...]] = {}
    if not f.problems:
        for name in f.data:
            terms = _strings(f, str(name), required=True)
            if terms:
                concepts[str(name)] = terms
    problems.extend(f.problems)
    return concepts


def load(
    root: Path | str,
    today: dt.date | None = None,
    required: Sequence[str] = CONTRACT_TOPICS,
) -> tuple[KnowledgeBase, list[Problem]]:
    """Load every topic under `root` and `root/bot.yaml`; every id in `required` must exist.

    Returns the knowledge base and the warnings (entries past `review_by`, open `verify`
    notes). Raises `KnowledgeError` listing every error when anything is wrong.
    """
    root = Path(root)
    today = today or dt.date.today()
    problems: list[Problem] = []
    topics: dict[str, Topic] = {}
    digest = hashlib.sha256()
    # Ids with a file, loaded or not: a broken topic file must not also make bot.yaml's menu
    # report it as unknown.
    stems = {p.stem for folder in FOLDER_KINDS for p in (root / folder).glob("*.yaml")}
    if not root.is_dir():
        raise KnowledgeError([Problem(str(root), 1, "-", "knowledge folder not found")])
    concepts = _concepts(root, problems, digest)
    for folder in FOLDER_KINDS:
        for path in sorted((root / folder).glob("*.yaml")):
            digest.update(path.read_bytes())
            f = _read(path, root, concepts, frozenset(stems))
            topic = _topic(f, folder) if not f.problems else None
            problems.extend(f.problems)
            if topic is None:
                continue
            if topic.id in topics:
                f.error("id", f"duplicate topic id, also in {topics[topic.id].source}")
                problems.extend(f.problems[-1:])
                continue
            topics[topic.id] = topic
            if topic.review_by and topic.review_by < today:
                problems.append(
                    Problem(
                        f.label,
                        f.line_of("review_by"),
                        "review_by",
                        f"past its review date {topic.review_by.isoformat()}",
                        "warning",
                    )
                )
            for i, note in enumerate(topic.verify):
                problems.append(
                    Problem(
                        f.label,
                        f.line_of(f"verify.{i}"),
                        f"verify.{i}",
                        f"to verify ({note.facet or 'general'}): {note.note}",
                        "warning",
                    )
                )
    problems.extend(_check_families(topics))
    bot_path = root / "bot.yaml"
    texts: BotTexts | None = None
    if bot_path.is_file():
        digest.update(bot_path.read_bytes())
        f = _read(bot_path, root)
        if not f.problems:
            texts = _bot_texts(f, stems)
        problems.extend(f.problems)
    else:
        problems.append(Problem(str(bot_path), 1, "-", "bot.yaml (the bot's own texts) is missing"))
    for tid in required:
        if tid not in topics and not any(tid in p.file for p in problems):
            problems.append(
                Problem(str(root), 1, tid, "contract topic missing (see topics.md): add its file")
            )
    errors = [p for p in problems if p.severity == "error"]
    if errors or texts is None:
        raise KnowledgeError(errors or problems)
    kb = KnowledgeBase(
        topics=topics,
        texts=texts,
        concepts=concepts,
        version=digest.hexdigest()[:12],
        root=str(root),
    )
    return kb, problems
