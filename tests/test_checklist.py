"""The README's security checklist stays true: every test it names exists (a renamed or removed
test would otherwise leave a protection backed by nothing), and every protection names one."""

from __future__ import annotations

import ast
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
NAMED = re.compile(r"`(tests/[\w/]+\.py)::(\w+)`")
PENDING = "(added with issue 13, item 3)"  # a row the linear-time tests will fill in


def checklist() -> list[str]:
    """The table rows of the README's "Security checklist" section."""
    text = README.read_text(encoding="utf-8")
    section = text.split("\n## Security checklist\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ")][1:]  # no header


@cache
def defined_tests(path: Path) -> frozenset[str]:
    """The names of the test functions defined at the top level of a test module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    functions = (ast.FunctionDef, ast.AsyncFunctionDef)
    return frozenset(node.name for node in tree.body if isinstance(node, functions))


def test_every_test_the_checklist_names_exists() -> None:
    named = [match for row in checklist() for match in NAMED.findall(row)]
    assert len(named) > 20
    missing = [
        f"{path}::{name}"
        for path, name in named
        if not (ROOT / path).is_file() or name not in defined_tests(ROOT / path)
    ]
    assert missing == []


def test_every_protection_names_a_test() -> None:
    rows = checklist()
    assert rows
    unbacked = [row for row in rows if not NAMED.search(row) and PENDING not in row]
    assert unbacked == []


def test_the_check_sees_async_and_decorated_tests_and_only_top_level_ones() -> None:
    properties = defined_tests(ROOT / "tests" / "test_properties.py")
    assert "test_web_chat_answers_any_body_with_2xx_or_4xx" in properties  # async, @given
    assert "test_knowledge_loader_returns_or_raises_knowledge_error" in properties  # @example
    assert "spy" not in defined_tests(ROOT / "tests" / "test_facebook.py")  # defined inside a test
