"""docs/clauses.md (scripts/clause_index.py): from a clause ID to its rule, tests and conversation in one search
(issue 13). It is generated from the sources, so it is current only if regenerating it changes nothing."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _index():
    spec = importlib.util.spec_from_file_location("clause_index", ROOT / "scripts" / "clause_index.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_docs_clauses_md_is_current():
    assert _index().main(["--check"]) == 0, "run: .venv-engine/bin/python scripts/clause_index.py"


def test_every_clause_has_a_section_and_every_rule_points_at_a_real_line():
    index = _index()
    text = (ROOT / "docs" / "clauses.md").read_text(encoding="utf-8")
    for clause in index.read_clauses():
        assert f"\n## {clause}\n" in text, clause
    for clause, citations in index.rules().items():
        for file, line, _kind, code, _topic in citations:
            lines = (ROOT / file).read_text(encoding="utf-8").splitlines()
            citation = " ".join(lines[line - 1 : line + 2])  # a Reason( may put its code on the next lines
            assert code in citation and clause in citation, (clause, file, line)


def test_the_index_sees_a_new_citation(tmp_path, monkeypatch):
    """A rule added to the core appears in the index (the check would then fail until it is regenerated)."""
    index = _index()
    core = tmp_path / "policy_engine" / "core"
    core.mkdir(parents=True)
    (core / "demo.py").write_text('TOPIC = "demo"\nx = Reason("made_up_code", "RET-1", {})\n', encoding="utf-8")
    monkeypatch.setattr(index, "ROOT", tmp_path)
    monkeypatch.setattr(index, "CORE", core)
    assert index.rules()["RET-1"] == [("policy_engine/core/demo.py", 2, "Reason", "made_up_code", "demo")]
