"""Every clause ID in clauses.md is pinned by at least one test here (named in a test's name or docstring)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _cited_by_tests() -> set[str]:
    cited: set[str] = set()
    for path in HERE.glob("test_*.py"):
        if path.name == Path(__file__).name:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
                cited.update(f"{a}-{n}" for a, n in re.findall(r"(?<![A-Za-z])([A-Z]{3})_(\d+)(?!\d)", node.name))
                cited.update(re.findall(r"\b[A-Z]{3}-\d+\b", ast.get_docstring(node) or ""))
    return cited


def test_every_clause_is_pinned_by_a_test(clauses):
    missing = sorted(clauses - _cited_by_tests(), key=lambda c: (c[:3], int(c[4:])))
    assert not missing, f"clauses without a test naming them: {missing}"


def test_tests_name_only_existing_clauses(clauses):
    unknown = _cited_by_tests() - clauses
    assert not unknown, f"tests cite clause IDs that do not exist: {sorted(unknown)}"
