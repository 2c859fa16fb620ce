"""docs/kb-format.md stays true (as datasette's tests/test_docs.py keeps its documentation).

The page's field tables must list exactly the fields the loader reads, taken from the code
(bot/knowledge.py's key constants, themselves checked against what the loader reads); every
`bot` command and flag it names must exist in the click commands; and the rules it states
are tried on small knowledge bases written to tmp_path.
"""

from __future__ import annotations

import datetime as dt
import re
import shlex
import string
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
import yaml

from bot import knowledge
from bot.cli import cli
from bot.knowledge import (
    BOT_KEYS,
    BOT_TEXTS,
    FACET_LABELS,
    FOLDER_KINDS,
    LANGS,
    MATCH_KEYS,
    SHORT_LIMIT,
    TOPIC_KEYS,
    VERIFY_KEYS,
    KnowledgeBase,
    KnowledgeError,
    Problem,
    load,
)
from bot.models import FACETS, TopicKind
from bot.understanding.matcher import Matcher
from webhooks.main import serve

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "kb-format.md"
TOPIC, TEXT, BOT = "topic file", "text", "bot.yaml"  # the field tables, by their header


# --- the page -----------------------------------------------------------------------------


def doc_text() -> str:
    return DOC.read_text(encoding="utf-8")


def doc_says(phrase: str) -> bool:
    """Whether the page states `phrase`, however its lines are wrapped."""
    return " ".join(phrase.split()) in " ".join(doc_text().split())


@dataclass(frozen=True)
class Row:
    table: str  # what the header's first cell names: "field (topic file)" -> "topic file"
    field: str
    cells: dict[str, str]  # the other cells, by column header


def field_rows() -> list[Row]:
    """The rows of the page's field tables: header `| field (...) | ... |`, one field a row."""
    rows: list[Row] = []
    table: str | None = None
    header: list[str] = []
    for line in doc_text().splitlines():
        if not line.startswith("|"):
            table = None
            continue
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        named = re.fullmatch(r"field \((.+)\)", cells[0])
        if named:
            table, header = named.group(1), cells
        elif table is not None and not set(cells[0]) <= set("-: "):
            field = re.fullmatch(r"`([^`]+)`", cells[0])
            assert field, f"a field row must start with one field in backticks: {line}"
            rows.append(Row(table, field.group(1), dict(zip(header[1:], cells[1:], strict=True))))
    return rows


def code_snippets() -> list[str]:
    """The lines of the page's fenced code blocks and its inline code spans."""
    text = doc_text()
    fence = re.compile(r"^```[^\n]*\n(.*?)^```", re.S | re.M)
    lines = [line for block in fence.findall(text) for line in block.splitlines()]
    return lines + re.findall(r"`([^`\n]+)`", fence.sub("", text))


# --- what the loader accepts, from the code ------------------------------------------------


def accepted() -> dict[str, set[str]]:
    """Every field path the loader reads, per field table, from bot/knowledge.py's constants."""
    return {
        TOPIC: set(TOPIC_KEYS)
        | {f"match.{key}" for key in MATCH_KEYS}
        | {f"facets.{facet}" for facet in FACETS}
        | {f"verify.<n>.{key}" for key in VERIFY_KEYS},
        TEXT: set(LANGS),
        BOT: set(BOT_KEYS)
        | {f"texts.{key}" for key in BOT_TEXTS}
        | {f"facet_labels.{facet}" for facet in FACET_LABELS},
    }


@dataclass
class Reads:
    """The paths the loader asked a file for, by file type; texts and dates apart."""

    paths: dict[str, set[str]]
    texts: dict[str, set[str]]
    dates: dict[str, set[str]]


def _file_type(f: knowledge._File) -> str | None:
    if f.path.name == "concepts.yaml":
        return None  # its keys are group names chosen by the writers
    return BOT if f.path.name == "bot.yaml" else TOPIC


@pytest.fixture(scope="module")
def reads(tmp_path_factory: pytest.TempPathFactory) -> Reads:
    """Load a knowledge base using every field while recording what the loader reads."""
    out = Reads({TOPIC: set(), BOT: set()}, {TOPIC: set(), BOT: set()}, {TOPIC: set(), BOT: set()})
    get, text, date = knowledge._File.get, knowledge._File.text, knowledge._File.date

    def record(into: dict[str, set[str]], f: knowledge._File, dotted: str) -> None:
        kind = _file_type(f)
        if kind is not None:
            into[kind].add(dotted)

    def traced_get(self: knowledge._File, dotted: str) -> Any:
        record(out.paths, self, dotted)
        return get(self, dotted)

    def traced_text(self: knowledge._File, dotted: str, required: bool = True) -> Any:
        record(out.texts, self, dotted)
        return text(self, dotted, required)

    def traced_date(self: knowledge._File, dotted: str, required: bool) -> Any:
        record(out.dates, self, dotted)
        return date(self, dotted, required)

    base = full_topic("alpha", "procedure")
    variant = full_topic("beta", "procedure")
    variant["match"]["extends"] = "alpha"
    root = write_kb(tmp_path_factory.mktemp("kb"), [base, variant], concepts={"g": ["x"]})
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(knowledge._File, "get", traced_get)
        mp.setattr(knowledge._File, "text", traced_text)
        mp.setattr(knowledge._File, "date", traced_date)
        assert load(root, required=())[0].topics["beta"].extends == "alpha"
    return out


def with_parents(paths: set[str]) -> set[str]:
    parts = (p.split(".") for p in paths)
    return {".".join(p[:i]) for p in parts for i in range(1, len(p) + 1)}


# --- small knowledge bases -----------------------------------------------------------------


def _text(what: str) -> dict[str, str]:
    return {"vi": f"{what} (vi)", "en": f"{what} (en)"}


def full_topic(tid: str, kind: str) -> dict[str, Any]:
    """A topic of `kind` with every field but `match.extends` and `verify`, loading cleanly,
    and where to write it (`_folder`, `_file`: kept when a test changes its kind or id)."""
    return {
        "_folder": folder_of(kind),
        "_file": f"{tid}.yaml",
        "id": tid,
        "kind": kind,
        "name": {"vi": "Tên (vi)", "en": "Name (en)"},
        "short": {"vi": "Ngắn", "en": "Short"},
        "summary": _text("Tóm tắt"),
        "handled_by": _text("UBND xã"),
        "code": "1.000001",
        "facets": {facet: _text(facet) for facet in FACETS},
        "legal_basis": ["Luật Hộ tịch 2014"],
        "updated": "2026-01-15",
        "review_by": "2099-01-01",
        "match": {"keywords": {"khai sinh": 5}, "phrasings": ["làm khai sinh"]},
    }


def bot_file(menu: list[str]) -> dict[str, Any]:
    return {
        "texts": {key: _text(key) for key in BOT_TEXTS},
        "facet_labels": {facet: _text(facet) for facet in FACET_LABELS},
        "menu": menu,
    }


def folder_of(kind: str) -> str:
    return next(folder for folder, kinds in FOLDER_KINDS.items() if kind in kinds)


def write_kb(
    root: Path,
    topics: list[dict[str, Any]],
    concepts: dict[str, Any] | None = None,
    bot: dict[str, Any] | None = None,
) -> Path:
    """Each topic goes to `root/<_folder>/<_file>`."""
    for topic in topics:
        data = {k: v for k, v in topic.items() if not k.startswith("_")}
        path = root / topic["_folder"] / topic["_file"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), "utf-8")
    if concepts is not None:
        (root / "concepts.yaml").write_text(yaml.safe_dump(concepts, allow_unicode=True), "utf-8")
    bot = bot if bot is not None else bot_file([Path(topics[0]["_file"]).stem])
    (root / "bot.yaml").write_text(yaml.safe_dump(bot, allow_unicode=True), "utf-8")
    return root


def problems_of(root: Path, today: dt.date | None = None) -> list[Problem]:
    """The errors when the load fails, else the warnings."""
    try:
        return load(root, today=today, required=())[1]
    except KnowledgeError as exc:
        return exc.problems


def errors_of(root: Path) -> list[Problem]:
    return [p for p in problems_of(root) if p.severity == "error"]


def delete(data: dict[str, Any], dotted: str) -> None:
    *parents, last = dotted.split(".")
    for part in parents:
        data = data[part]
    data.pop(last, None)


# --- (a) and (b): the field tables are the loader's fields ----------------------------------


def test_field_tables_list_exactly_the_fields_the_loader_reads() -> None:
    rows = field_rows()
    assert {r.table for r in rows} == {TOPIC, TEXT, BOT}
    for table, fields in accepted().items():
        documented = [r.field for r in rows if r.table == table]
        assert len(documented) == len(set(documented)), f"a field listed twice in {table}"
        missing = sorted(fields - set(documented))
        unknown = sorted(set(documented) - fields)
        assert not missing, f"read by the loader, not in the {table} table: {missing}"
        assert not unknown, f"in the {table} table, not read by the loader: {unknown}"


def test_key_constants_are_what_the_loader_reads(reads: Reads) -> None:
    """TOPIC_KEYS & co. neither miss a key the loader reads nor name one it ignores."""
    fields = accepted()
    entry_keys = {p for p in fields[TOPIC] if ".<n>." in p}  # read from list entries, below
    assert with_parents(reads.paths[TOPIC]) == fields[TOPIC] - entry_keys
    assert with_parents(reads.paths[BOT]) == fields[BOT]


def test_verify_entry_keys_are_read(tmp_path: Path) -> None:
    topic = full_topic("alpha", "procedure")
    topic["verify"] = [{"facet": "nope", "note": "x"}, {"facet": "fee"}]
    found = {p.field for p in errors_of(write_kb(tmp_path, [topic]))}
    assert {"facet", "note"} == VERIFY_KEYS
    assert found == {"verify.0.facet", "verify.1"}  # an unknown facet; a missing note


def test_language_keys_are_read(tmp_path: Path) -> None:
    topic = full_topic("alpha", "procedure")
    topic["name"] = {}
    found = {p.field for p in errors_of(write_kb(tmp_path, [topic]))}
    assert found == {f"name.{lang}" for lang in LANGS}


def test_type_column_says_text_and_date_where_the_loader_reads_them(reads: Reads) -> None:
    for row in field_rows():
        if row.table != TOPIC:
            continue
        kind = row.cells["type"]
        assert (kind == "text") == (row.field in reads.texts[TOPIC]), row.field
        assert (kind == "date") == (row.field in reads.dates[TOPIC]), row.field
    bot_fields = {r.field for r in field_rows() if r.table == BOT}
    assert reads.texts[BOT] == bot_fields - BOT_KEYS, "each texts.* and facet_labels.* is a text"


def _required_kinds(cell: str) -> set[str]:
    if cell == "all":
        return {k.value for k in TopicKind}
    if cell == "no":
        return set()
    kinds = {k.strip() for k in cell.split(",")}
    assert kinds <= {k.value for k in TopicKind}, f"'required in' names an unknown kind: {cell!r}"
    return kinds


def test_required_in_column_is_what_the_loader_requires(tmp_path: Path) -> None:
    """Leave each field out of a topic of each kind: an error exactly for the kinds listed."""
    checked = 0
    for row in field_rows():
        if row.table != TOPIC or "<n>" in row.field:
            continue
        topics = [
            full_topic(kind, kind) for kind in [k.value for k in TopicKind]
        ]  # one knowledge base, one per kind
        for topic in topics:
            delete(topic, row.field)
        errors = errors_of(write_kb(tmp_path / row.field, topics))
        required = {
            Path(p.file).stem
            for p in errors
            if p.field == row.field or p.field.startswith(row.field + ".")
        }
        assert required == _required_kinds(row.cells["required in"]), row.field
        checked += 1
    assert checked >= len(TOPIC_KEYS)


def test_prose_names_only_real_fields(reads: Reads) -> None:
    """A dotted field path in backticks anywhere on the page must exist (`name.vi` too)."""
    known = accepted()[TOPIC] | accepted()[BOT]
    texts = reads.texts[TOPIC] | reads.texts[BOT]
    known |= {f"{t}.{lang}" for t in texts for lang in LANGS}
    top = TOPIC_KEYS | BOT_KEYS
    named = [
        s
        for s in code_snippets()
        if re.fullmatch(r"[a-z_]+(\.(<\w+>|\w+))+", s) and s.split(".")[0] in top
    ]
    assert named
    for path in named:
        pattern = re.compile(re.sub(r"<\w+>", "[^.]+", re.escape(path)))
        assert any(pattern.fullmatch(k) for k in known), f"the page names an unknown field {path}"


def test_bot_text_placeholders_are_those_of_the_shipped_texts() -> None:
    shipped = yaml.safe_load((ROOT / "knowledge" / "bot.yaml").read_text(encoding="utf-8"))
    for row in field_rows():
        if row.table != BOT or not row.field.startswith("texts."):
            continue
        documented = set(re.findall(r"`\{(\w+)\}`", row.cells["placeholders"]))
        text = shipped["texts"][row.field.removeprefix("texts.")]
        used = {
            name
            for lang in LANGS
            for _, name, _, _ in string.Formatter().parse(text[lang])
            if name is not None
        }
        assert documented == used, f"{row.field}: the page says {documented}, bot.yaml has {used}"


# --- (c) commands and flags ---------------------------------------------------------------

COMMANDS: dict[str, click.Command] = {**cli.commands, "serve": serve}
REDIRECTS = frozenset(("<", ">", ">>", "2>"))
SEPARATORS = frozenset(("|", "||", "&&", ";", "&"))


def _shell_words(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    try:
        return list(lexer)
    except ValueError:  # an unbalanced quote in prose: plain words will do
        return line.split()


def bot_invocations() -> list[list[str]]:
    """The arguments of every `bot ...` command line the page shows."""
    out: list[list[str]] = []
    for snippet in code_snippets():
        segment: list[str] = []
        words = iter([*_shell_words(snippet), ";"])
        for word in words:
            if word in REDIRECTS:
                next(words, None)  # its file name
            elif word in SEPARATORS:
                while segment and re.fullmatch(r"[A-Z_]+=\S*", segment[0]):
                    segment.pop(0)  # BOT_PORT=9000 bot serve
                if segment and (segment[0] == "bot" or segment[0].endswith("/bot")):
                    out.append(segment[1:])
                segment = []
            else:
                segment.append(word)
    return out


def _options(command: click.Command) -> dict[str, click.Option]:
    ctx = click.Context(command)
    return {
        name: param
        for param in command.get_params(ctx)
        if isinstance(param, click.Option)
        for name in (*param.opts, *param.secondary_opts)
    }


def check_invocation(args: list[str]) -> tuple[tuple[str, ...], list[str]]:
    """(the command path, the problems) of `bot <args>`, read the way click reads it."""
    command: click.Command = cli
    path: list[str] = []
    problems: list[str] = []
    words = iter(args)
    for word in words:
        where = " ".join(["bot", *path])
        if word.startswith("-") and word != "-":
            name = word.split("=", 1)[0]
            option = _options(command).get(name)
            if option is None:
                problems.append(f"`{where}` has no option {name}")
            elif not option.is_flag and "=" not in word:
                next(words, None)  # its value
        elif isinstance(command, click.Group):
            sub = COMMANDS.get(word) if command is cli else command.commands.get(word)
            if sub is None:
                problems.append(f"`{where}` has no command {word!r}")
                break
            command = sub
            path.append(word)
        # else: an argument of the command
    return tuple(path), problems


def test_every_command_and_flag_on_the_page_exists() -> None:
    invocations = bot_invocations()
    problems = [p for args in invocations for p in check_invocation(args)[1]]
    assert not problems, problems
    shown = {(check_invocation(a)[0], w) for a in invocations for w in (*a, "")}
    # the page's promise: how to check and try an edit
    assert {(("kb", "check"), ""), (("ask",), "--json"), (("eval",), "")} <= shown


def test_flags_named_alone_exist() -> None:
    """A flag in backticks by itself (`--explain`) must be an option of some bot command."""
    flags: set[str] = set()

    def walk(command: click.Command) -> Iterator[click.Command]:
        yield command
        for sub in command.commands.values() if isinstance(command, click.Group) else ():
            yield from walk(sub)

    for command in [*walk(cli), serve]:
        flags |= set(_options(command))
    alone = [s for s in code_snippets() if re.fullmatch(r"--?[A-Za-z][\w-]*", s)]
    assert not [f for f in alone if f not in flags]


def test_a_missing_flag_or_command_is_caught() -> None:
    assert check_invocation(["ask", "-v", "x"])[1]
    assert check_invocation(["kb", "lint"])[1]
    assert check_invocation(["--config", "c.yaml", "kb", "check", "knowledge/"]) == (
        ("kb", "check"),
        [],
    )
    assert check_invocation(["serve"]) == (("serve",), [])


# --- (d) the rules the page states, tried on the loader -----------------------------------


@dataclass(frozen=True)
class Rule:
    doc: str  # what the page says, word for word
    change: Callable[[dict[str, Any]], None]  # applied to a clean procedure `alpha`
    error: tuple[str, str] | None  # (field, part of the message), or None: loads cleanly


def _set(dotted: str, value: Any) -> Callable[[dict[str, Any]], None]:
    def change(topic: dict[str, Any]) -> None:
        *parents, last = dotted.split(".")
        for part in parents:
            topic = topic[part]
        topic[last] = value

    return change


def _keywords(**extra: Any) -> Callable[[dict[str, Any]], None]:
    return lambda topic: topic["match"]["keywords"].update(extra)


KW = "match.keywords"
RULES = {
    "weight 0": Rule("**Weight 0** is allowed", _keywords(**{"khai sinh muộn": 0}), None),
    "weight bounds": Rule("from -10 to 10, ends included", _keywords(a=10, b=-10), None),
    "weight over": Rule("from -10 to 10", _keywords(a=10.5), (f"{KW}.a", "from -10 to 10")),
    "weight under": Rule("from -10 to 10", _keywords(a=-11), (f"{KW}.a", "from -10 to 10")),
    "weight yes": Rule("`yes`, `true` or text is an error", _keywords(a=True), (f"{KW}.a", "")),
    "weight text": Rule("`yes`, `true` or text is an error", _keywords(a="5"), (f"{KW}.a", "")),
    "no positive": Rule(
        "needs at least one positive term",
        _set(KW, {"khai sinh": 0, "khai tử": -3}),
        (KW, "needs at least one positive term"),
    ),
    "unknown concept": Rule(
        '"unknown concept"', _keywords(**{"@khong-co giay": 3}), (f"{KW}.@khong-co giay", "")
    ),
    "id is file name": Rule("Must equal the file name", _set("id", "alpha2"), ("id", "file name")),
    "kind per folder": Rule(
        "One of the kinds allowed in the file's folder", _set("kind", "referral"), ("kind", "")
    ),
    "unknown keys": Rule(
        "Keys the loader does not know are ignored without a word",
        lambda t: t.update({"shrot": {"vi": "x" * 40}, "review-by": "not a date"}),
        None,
    ),
    "unknown facet": Rule(
        "an unknown facet name under `facets` is an error",
        _set("facets.cost", _text("cost")),
        ("facets.cost", "unknown facet"),
    ),
    "date unquoted": Rule("quoted or not", _set("review_by", dt.date(2099, 1, 1)), None),
    "date format": Rule(
        "`01/03/2027` is an error", _set("updated", "01/03/2027"), ("updated", "not a date")
    ),
    "code number": Rule(
        "Unquoted, YAML reads it as a number, which is an error",
        _set("code", 1.001193),
        ("code", "quote"),
    ),
    "code null": Rule("`null` or leaving it out", _set("code", None), None),
    "short limit": Rule(
        f"at most {SHORT_LIMIT} characters in each language",
        _set("short.en", "x" * (SHORT_LIMIT + 1)),
        ("short.en", f"at most {SHORT_LIMIT}"),
    ),
    "short fits": Rule("at most 20 characters", _set("short.en", "x" * SHORT_LIMIT), None),
    "other language": Rule("Any other language key (`zh:`) is ignored", _set("name.zh", 1), None),
    "not text": Rule(
        'is reported as "missing or empty text"',
        _set("name.en", 2025),
        ("name.en", "missing or empty text"),
    ),
    "text on one line": Rule(
        '"must be a mapping with vi and en"', _set("summary", "Khai sinh"), ("summary", "mapping")
    ),
    "empty list": Rule("an empty list (`[]`) is accepted", _set("legal_basis", []), None),
    "list of text": Rule("all non-empty text", _set("legal_basis", ["", "x"]), ("legal_basis", "")),
    "facets mapping": Rule(
        '"must be a mapping of facet -> {vi, en}"', _set("facets", ["fee"]), ("facets", "mapping")
    ),
    "verify list": Rule(
        '"must be a list of {facet, note}"', _set("verify", {"note": "x"}), ("verify", "list")
    ),
    "verify no note": Rule(
        "An entry without a note is an error",
        _set("verify", [{"facet": "fee"}]),
        ("verify.0", "note"),
    ),
    "verify facet": Rule(
        "one of the six facet names",
        _set("verify", [{"facet": "cost", "note": "x"}]),
        ("verify.0.facet", ""),
    ),
    "match mapping": Rule(
        "reported as its `match.keywords` and `match.phrasings` missing",
        _set("match", "khai sinh"),
        ("match.phrasings", "missing"),
    ),
    "extends itself": Rule(
        "not the topic itself", _set("match.extends", "alpha"), ("match.extends", "")
    ),
    "extends unknown": Rule(
        "Must be the id of another topic file", _set("match.extends", "nope"), ("match.extends", "")
    ),
}


@pytest.mark.parametrize("name", RULES)
def test_stated_rule_holds(name: str, tmp_path: Path) -> None:
    rule = RULES[name]
    assert doc_says(rule.doc), f"the page no longer says {rule.doc!r}"
    topic = full_topic("alpha", "procedure")
    rule.change(topic)
    errors = errors_of(write_kb(tmp_path, [topic, full_topic("gamma", "info")]))
    if rule.error is None:
        assert not errors, errors
    else:
        field, message = rule.error
        assert any(p.field == field and message in p.message for p in errors), errors


def test_weight_zero_hides_the_shorter_terms_inside_it(tmp_path: Path) -> None:
    assert doc_says("hides the shorter terms of the same topic inside it, but adds nothing")
    assert doc_says(
        "left out of the running when every one of its terms found in the message weighs 0 or less"
    )

    def explain(keywords: dict[str, float], question: str) -> list[str]:
        topic = full_topic("alpha", "smalltalk")
        topic["match"]["keywords"] = keywords
        root = write_kb(tmp_path / str(len(list(tmp_path.iterdir()))), [topic])
        kb, _ = load(root, required=())
        lines = Matcher(kb).explain(question)
        start = next(i for i, line in enumerate(lines) if line.startswith("tokens: "))
        end = next(i for i, line in enumerate(lines) if line.startswith("learned: "))
        return lines[start + 1 : end]

    assert explain({"khai sinh": 5}, "khai sinh muộn") == ["  alpha: 5 (khai sinh=5)"]
    assert explain({"khai sinh": 5, "khai sinh muộn": 0}, "khai sinh muộn") == [
        "  alpha: 0 (khai sinh muon=0)"
    ]
    assert explain({"khai sinh": 5, "muộn quá": 0}, "muộn quá") == []


def test_review_by_warns_from_the_next_day(tmp_path: Path) -> None:
    assert doc_says('From the next day on, `bot kb check` prints a warning "past its review date"')
    topic = full_topic("alpha", "procedure")
    topic["review_by"] = "2030-06-01"
    root = write_kb(tmp_path, [topic])
    on_the_day = problems_of(root, today=dt.date(2030, 6, 1))
    after = problems_of(root, today=dt.date(2030, 6, 2))
    assert not [p for p in on_the_day if p.field == "review_by"]
    (warning,) = [p for p in after if p.field == "review_by"]
    assert warning.severity == "warning" and "past its review date" in warning.message


def test_verify_notes_are_warnings(tmp_path: Path) -> None:
    assert doc_says('as a warning "to verify (facet): note"')
    assert doc_says('the note is "general"')
    topic = full_topic("alpha", "procedure")
    topic["verify"] = [{"facet": "fee", "note": "mức phí"}, {"note": "địa chỉ"}]
    warnings = problems_of(write_kb(tmp_path, [topic]))
    assert [(w.severity, w.field, w.message) for w in warnings] == [
        ("warning", "verify.0", "to verify (fee): mức phí"),
        ("warning", "verify.1", "to verify (general): địa chỉ"),
    ]


def test_texts_are_trimmed(tmp_path: Path) -> None:
    assert doc_says("Spaces and blank lines at either end are removed")
    topic = full_topic("alpha", "procedure")
    topic["name"] = {"vi": "  Khai sinh \n\n", "en": "\nBirth "}
    kb: KnowledgeBase = load(write_kb(tmp_path, [topic]), required=())[0]
    assert (kb.topics["alpha"].name.vi, kb.topics["alpha"].name.en) == ("Khai sinh", "Birth")


def test_same_id_in_two_folders_is_reported_on_the_later_folder(tmp_path: Path) -> None:
    assert doc_says(
        "The same id in two folders is an error, reported on the file of the later folder"
    )
    assert list(FOLDER_KINDS) == ["procedures", "info", "referrals", "smalltalk", "families"]
    assert doc_says("in the order procedures, info, referrals, smalltalk")
    root = write_kb(tmp_path, [full_topic("alpha", "smalltalk"), full_topic("alpha", "info")])
    (error,) = errors_of(root)
    assert error.file.endswith("smalltalk/alpha.yaml") and "duplicate topic id" in error.message


def test_only_yaml_files_of_the_four_folders_are_read(tmp_path: Path) -> None:
    assert doc_says("a `.yml` file or a subfolder is ignored")
    broken = {"_folder": "procedures", "_file": "beta.yml", "id": "nope"}
    nested = {"_folder": "procedures/old", "_file": "gamma.yaml", "id": "nope"}
    assert not errors_of(write_kb(tmp_path, [full_topic("alpha", "procedure"), broken, nested]))


def test_contract_topics_must_exist(tmp_path: Path) -> None:
    assert doc_says('a missing one is an error "contract topic missing"')
    root = write_kb(tmp_path, [full_topic("alpha", "procedure")])
    with pytest.raises(KnowledgeError) as info:
        load(root, required=("alpha", "khai-sinh"))
    assert [p.field for p in info.value.problems] == ["khai-sinh"]


def test_concepts_rules(tmp_path: Path) -> None:
    assert doc_says(
        'A group with an empty list (`[]`) is dropped, so a keyword using it is an "unknown concept"'
    )
    assert doc_says('a group written without a value is reported "missing list"')
    topic = full_topic("alpha", "procedure")
    topic["match"]["keywords"]["@trong"] = 3
    errors = errors_of(write_kb(tmp_path, [topic], concepts={"trong": [], "rong": None}))
    assert {(p.field, p.message.split(" (")[0]) for p in errors} == {
        ("rong", "missing list"),
        (f"{KW}.@trong", "unknown concept @trong"),
    }


def test_bot_yaml_rules(tmp_path: Path) -> None:
    assert doc_says("Every field below is required")
    assert doc_says('Each must be the id of a topic file ("unknown topic id")')
    bot = bot_file(["alpha", "nope"])
    del bot["texts"]["welcome"]
    bot["texts"]["extra"] = "ignored"
    errors = errors_of(write_kb(tmp_path, [full_topic("alpha", "procedure")], bot=bot))
    assert {p.field for p in errors} == {"texts.welcome", "menu.1"}


BOUNDARIES = ROOT / "docs" / "boundaries.md"


def test_the_boundaries_doc_names_only_topics_that_exist() -> None:
    """docs/boundaries.md tells staff which topic a detail decides: every id it names in
    backticks must be a topic of the shipped knowledge base (a renamed topic fails here)."""
    kb, _ = knowledge.load(ROOT / "knowledge")
    named = set(re.findall(r"`([a-z0-9]+(?:-[a-z0-9]+)+|[a-z]+)`", BOUNDARIES.read_text("utf-8")))
    assert len(named) >= 40
    assert not named - set(kb.topics), sorted(named - set(kb.topics))
