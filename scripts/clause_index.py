#!/usr/bin/env python3
"""Write docs/clauses.md: for every clause ID of ../shared/policy/clauses.md, where its rule is, which tests pin it,
and what the customer reads (the responses of the reason codes and next steps that cite it) and which conversation
tests reach it.  One search for a clause ID in that file answers all three (issue 13).

    .venv-engine/bin/python scripts/clause_index.py           # rewrite docs/clauses.md
    .venv-engine/bin/python scripts/clause_index.py --check   # exit 1 if docs/clauses.md is out of date

Everything is read from the sources, nothing is typed by hand: the rules are the ``Reason("<code>", "<ID>"`` and
``NextStep("<code>", "<ID>"`` of policy_engine/core/, the engine tests are the test functions naming the clause
(``test_..._WAR_10``) or citing it in their docstring, the responses are domain.yml's ``utter_<topic>_<code>`` and
``utter_next_step_<code>`` for those codes, and the conversation tests are the tests under tests/actions,
tests/dialogue and tests/e2e whose source names the clause, one of its responses or one of its reason codes.
"""

from __future__ import annotations

import argparse
import ast
import os
import re
import sys
from collections import defaultdict
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
CLAUSES = Path(os.environ.get("CLAUSES_FILE", ROOT.parent / "shared" / "policy" / "clauses.md"))
OUT = ROOT / "docs" / "clauses.md"
CORE = ROOT / "policy_engine" / "core"
ENGINE_TESTS = ROOT / "tests" / "policy_engine"
CONVERSATION_TESTS = [ROOT / "tests" / name for name in ("actions", "dialogue", "e2e")]

CLAUSE_RE = re.compile(r"^- ([A-Z]{3}-\d+) (.*)$")
CITATION_RE = re.compile(r'\b(Reason|NextStep)\(\s*"([a-z0-9_]+)",\s*"([A-Z]{3}-\d+)"')
#: (code, clause) pairs in tables the decisions read from (e.g. warranty's CAUSE_EXCLUSIONS)
TABLE_RE = re.compile(r'\(\s*"([a-z0-9_]+)",\s*"([A-Z]{3}-\d+)"\s*\)')


def read_clauses(path: Path = CLAUSES) -> dict[str, str]:
    out = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        match = CLAUSE_RE.match(line)
        if match:
            out[match.group(1)] = match.group(2).strip()
    return out


def topic_of(source: str) -> str | None:
    match = re.search(r'^TOPIC = "([a-z_]+)"', source, re.M)
    return match.group(1) if match else None


def rules() -> dict[str, list[tuple[str, int, str, str, str | None]]]:
    """clause -> [(file, line, kind, code, topic)] for every Reason/NextStep citing it in the core."""
    found: dict[str, list[tuple[str, int, str, str, str | None]]] = defaultdict(list)
    for path in sorted(CORE.glob("*.py")):
        source = path.read_text(encoding="utf-8")
        topic = topic_of(source) or path.stem.split("_")[0]  # credits_spending.py: topic "credits"
        for match in CITATION_RE.finditer(source):
            line = source.count("\n", 0, match.start()) + 1
            kind, code, clause = match.groups()
            found[clause].append((path.relative_to(ROOT).as_posix(), line, kind, code, topic))
        for match in TABLE_RE.finditer(source):
            line = source.count("\n", 0, match.start()) + 1
            code, clause = match.groups()
            entry = (path.relative_to(ROOT).as_posix(), line, "Reason", code, topic)
            if not any(e[:2] == entry[:2] and e[3] == code for e in found[clause]):  # Reason("c", "X") matched above
                found[clause].append(entry)
    return found


def engine_tests() -> dict[str, list[str]]:
    """clause -> ["tests/policy_engine/test_x.py::test_name"] for tests naming or citing it."""
    found: dict[str, list[str]] = defaultdict(list)
    for path in sorted(ENGINE_TESTS.glob("test_*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
                cited = {f"{a}-{n}" for a, n in re.findall(r"(?<![A-Za-z])([A-Z]{3})_(\d+)(?!\d)", node.name)}
                cited |= set(re.findall(r"\b[A-Z]{3}-\d+\b", ast.get_docstring(node) or ""))
                for clause in cited:
                    found[clause].append(f"{path.relative_to(ROOT).as_posix()}::{node.name}")
    return found


def responses_for(citations, domain_responses: set[str]) -> list[str]:
    names = []
    for _file, _line, kind, code, topic in citations:
        name = f"utter_next_step_{code}" if kind == "NextStep" else f"utter_{topic}_{code}"
        if name in domain_responses and name not in names:
            names.append(name)
    return names


def test_functions(folders: list[Path]) -> list[tuple[str, str]]:
    """(``file::test_name``, source) of every test function under ``folders``, parsed once."""
    out = []
    for folder in folders:
        for path in sorted(folder.glob("test_*.py")):
            source = path.read_text(encoding="utf-8")
            for node in ast.walk(ast.parse(source)):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test_"):
                    out.append(
                        (
                            f"{path.relative_to(ROOT).as_posix()}::{node.name}",
                            ast.get_source_segment(source, node) or "",
                        )
                    )
    return out


def conversation_tests(clause: str, needles: list[str], functions: list[tuple[str, str]]) -> list[str]:
    """The test functions (of tests/actions, tests/dialogue, tests/e2e) whose source names one of ``needles``."""
    patterns = [re.compile(rf"(?<![A-Za-z0-9_-]){re.escape(n)}(?![A-Za-z0-9_])") for n in [clause, *needles]]
    return [name for name, text in functions if any(p.search(text) for p in patterns)]


def render() -> str:
    clauses = read_clauses()
    cited = rules()
    tests = engine_tests()
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    domain_responses = set(domain.get("responses", {}))
    functions = test_functions(CONVERSATION_TESTS)
    lines = [
        "# From a clause ID to its rule, its tests and its conversation",
        "",
        "Generated by `scripts/clause_index.py` from the sources (do not edit; `make test` checks it is current).",
        "Search this file for a clause ID: its rule (the decision code that cites it, file and line in",
        "`policy_engine/core/`), the engine tests that pin it, the responses the customer reads for it (`domain.yml`)",
        "and the action, dialogue and browser tests that reach them. The figures are in `policy/policy.yml` next",
        'to the clause ID in a comment. Clauses read as "not decided by the bot" have no rule here; their tests',
        "pin that reading.",
        "",
    ]
    for clause, text in clauses.items():
        here = cited.get(clause, [])
        codes = sorted({code for _f, _l, _k, code, _t in here})
        answers = responses_for(here, domain_responses)
        lines += [f"## {clause}", "", f"> {text}", ""]
        if here:
            lines.append("- rule: " + "; ".join(f"`{code}` ({kind}) `{f}:{line}`" for f, line, kind, code, _ in here))
        else:
            lines.append("- rule: none in the core (see its tests for how it is read)")
        lines.append("- engine tests: " + (", ".join(f"`{t}`" for t in tests.get(clause, [])) or "none"))
        lines.append("- the customer reads: " + (", ".join(f"`{r}`" for r in answers) or "no response of its own"))
        talks = conversation_tests(clause, [*answers, *codes], functions)
        lines.append("- conversation tests: " + (", ".join(f"`{t}`" for t in talks) or "none"))
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if docs/clauses.md is not current")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        current = OUT.read_text(encoding="utf-8") if OUT.exists() else ""
        if current != text:
            print("docs/clauses.md is out of date: run scripts/clause_index.py", file=sys.stderr)
            return 1
        return 0
    OUT.write_text(text, encoding="utf-8")
    print(f"wrote {OUT.relative_to(ROOT)} ({len(read_clauses())} clauses)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
