"""`python -m policy_engine`: JSON on stdout, errors on stderr with exit status 1, nothing half-written.

Most tests call ``policy_engine.entrypoints.cli.main`` in-process (``cli`` fixture: same argv, environment, working
directory and stdin, stdout/stderr captured, an exception escaping ``main`` fails the test); a subprocess adds only
start-up time there. The ``run`` tests keep real subprocesses for what only a process shows: the ``-m`` entry point,
the exit status, stderr without a traceback, nothing printed to stdout on failure.
"""

import io
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from policy_engine.entrypoints.cli import main as cli_main
from tests.support.store import build_demo

ROOT = Path(__file__).resolve().parents[2]
NOW = "2025-03-12T18:00:00Z"


def run(args, cwd, db=None, stdin=None):
    """A real ``python -m policy_engine`` process."""
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "POLICY_FILE")}
    # the project is installed (pyproject.toml, make venvs): run from any directory without PYTHONPATH
    if db:
        env["DATABASE_URL"] = db
    return subprocess.run(
        [sys.executable, "-m", "policy_engine", *args],
        cwd=cwd,
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
    )


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def cli(monkeypatch, capsys):
    """``cli(args, cwd, db=None, stdin=None)``: ``main(args)`` in this process, as ``run`` would start it."""

    def call(args, cwd, db=None, stdin=None) -> Result:
        with monkeypatch.context() as m:
            m.chdir(cwd)
            m.delenv("POLICY_FILE", raising=False)
            if db:
                m.setenv("DATABASE_URL", db)
            else:
                m.delenv("DATABASE_URL", raising=False)
            m.setattr(sys, "stdin", io.StringIO(stdin or ""))
            capsys.readouterr()
            try:
                code = cli_main(list(args))
            except SystemExit as exc:  # argparse: bad command line
                code = exc.code
            out = capsys.readouterr()
        return Result(code, out.out, out.err)

    return call


@pytest.fixture
def db(tmp_path, sqlite_templates):
    """A migrated SQLite file with the demo data (a copy of the session's template; the CLI's own migrate and
    load-demo are tested separately)."""
    return sqlite_templates.copy("demo", build_demo, tmp_path, "cli.db")


@pytest.fixture(scope="module")
def shared_db(tmp_path_factory, sqlite_templates):
    """For tests that prove they change nothing: one database for the module."""
    return sqlite_templates.copy("demo", build_demo, tmp_path_factory.mktemp("cli-shared"), "cli.db")


def _sqlite_counts(url):
    import sqlite3

    con = sqlite3.connect(url.removeprefix("sqlite:///"))
    try:
        tables = [r[0] for r in con.execute("select name from sqlite_master where type='table'")]
        return {t: con.execute(f'select count(*) from "{t}"').fetchone()[0] for t in tables}
    finally:
        con.close()


def test_migrate_uses_the_default_sqlite_file(tmp_path, cli):
    out = cli(["migrate"], tmp_path)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["revision"]
    assert (tmp_path / "var" / "support.db").exists()


def test_load_demo_needs_the_schema(tmp_path):
    out = run(["load-demo"], tmp_path, f"sqlite:///{tmp_path / 'empty.db'}")
    assert out.returncode == 1 and "migrate" in out.stderr and out.stdout == ""


def test_migrate_then_load_demo_twice_is_idempotent(tmp_path, cli):
    db = f"sqlite:///{tmp_path / 'fresh.db'}"
    assert cli(["migrate"], tmp_path, db).returncode == 0
    out = cli(["load-demo", "--now", NOW], tmp_path, db)
    loaded = json.loads(out.stdout)["loaded"]
    assert out.returncode == 0 and loaded["orders"] == 26 and loaded["cases"] == 2  # 18 + 6 order status + 2 claims
    before = _sqlite_counts(db)
    assert cli(["load-demo", "--now", NOW], tmp_path, db).returncode == 0
    assert _sqlite_counts(db) == before


def test_import_good_and_bad_files(tmp_path, db, cli):
    good = {
        "format_version": 1,
        "orders": [
            {
                "order_number": "AK3000001",
                "email": "new@example.com",
                "placed_at": "2025-03-01T10:00:00Z",
                "lines": [{"line_id": 1, "sku": "A2633", "quantity": 1, "unit_price": "19.99"}],
            }
        ],
    }
    (tmp_path / "good.json").write_text(json.dumps(good))
    out = cli(["import", "good.json", "--now", NOW], tmp_path, db)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["imported"]["orders"] == 1

    before = _sqlite_counts(db)
    bad = json.loads(json.dumps(good))
    bad["orders"][0]["order_number"] = "AK3000002"
    bad["orders"].append(
        {
            **bad["orders"][0],
            "order_number": "AK3000003",
            "lines": [{"line_id": 1, "sku": "NOPE", "quantity": 1, "unit_price": "1.00"}],
        }
    )
    (tmp_path / "bad.json").write_text(json.dumps(bad))
    out = cli(["import", "bad.json", "--now", NOW], tmp_path, db)
    assert out.returncode == 1 and "$.orders[1].lines[0].sku" in out.stderr and out.stdout == ""
    assert _sqlite_counts(db) == before

    (tmp_path / "broken.json").write_text("{not json")
    out = cli(["import", "broken.json"], tmp_path, db)
    assert out.returncode == 1 and "not valid JSON" in out.stderr
    out = cli(["import", "missing.json"], tmp_path, db)
    assert out.returncode == 1 and "cannot read" in out.stderr
    assert _sqlite_counts(db) == before


def test_decide_by_order_number(tmp_path, shared_db, cli):
    db = shared_db
    request = {"topic": "return", "order_number": "ak1000004", "now": NOW, "request": {"line_id": 1, "quantity": 1}}
    out = cli(["decide"], tmp_path, db, json.dumps(request))
    assert out.returncode == 0, out.stderr
    decision = json.loads(out.stdout)
    assert decision["outcome"] == "denied" and decision["reasons"][0]["code"] == "return_window_passed"
    assert "RET-1" in decision["clauses"]


def test_decide_with_inline_facts_needs_no_database(tmp_path, cli):
    request = {
        "topic": "cancellation",
        "now": "2025-01-01T11:00:00Z",
        "products": [{"sku": "A1", "name": "Charger", "category": "charger", "price": "10.00"}],
        "order": {
            "order_number": "AK0000001",
            "email": "a@example.com",
            "placed_at": "2025-01-01T10:00:00Z",
            "lines": [{"line_id": 1, "sku": "A1", "quantity": 1, "unit_price": "10.00"}],
        },
    }
    out = cli(["decide"], tmp_path, f"sqlite:///{tmp_path / 'none.db'}", json.dumps(request))
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["reasons"][0]["code"] == "within_self_cancel_window"
    request["now"] = "2025-01-01T11:01:00Z"
    out = cli(["decide"], tmp_path, None, json.dumps(request))
    assert json.loads(out.stdout)["reasons"][0]["code"] == "self_cancel_window_passed"
    request.update(
        topic="credits",
        now="2025-03-12T18:00:00Z",
        ledger=[
            {"kind": "signup", "points": 500, "created_at": "2025-01-01T10:00:00Z"},
            {"kind": "purchase", "points": 10, "created_at": "2025-03-01T10:00:00Z", "order_number": "AK0000001"},
        ],
    )
    out = cli(["decide"], tmp_path, None, json.dumps(request))
    values = json.loads(out.stdout)["values"]
    assert (values["available"], values["locked"]) == (500, 10)


@pytest.mark.parametrize(
    "payload,needle",
    [
        ("{not json", "not valid JSON"),
        ("[]", "must be a JSON object"),
        ('{"topic": "teleport", "order_number": "AK1000004"}', "topic must be one of"),
        ('{"topic": "return", "order_number": "AK1000004", "request": {"line_id": "1", "quantity": 1}}', "line_id"),
        ('{"topic": "return", "order_number": "AK1000004", "request": {"line_id": 1, "quantity": -3}}', "quantity"),
        (
            '{"topic": "return", "order_number": "AK1000004", "request": {"line_id": 1, "quantity": 99999999}}',
            "quantity",
        ),
        (
            '{"topic": "return", "order_number": "AK1000004", "request": {"line_id": 1, "quantity": 1, "x": 1}}',
            "unknown field",
        ),
        ('{"topic": "return", "order_number": "AK9999999", "request": {"line_id": 1, "quantity": 1}}', "not in the"),
        ('{"topic": "refund", "order_number": "12"}', "AK followed by 7 digits"),
        ('{"topic": "credits", "order_number": "AK1000008", "ledger": []}', "inline"),
        ('{"topic": "cancellation", "order_number": "AK1000004", "now": "yesterday"}', "now"),
        (
            '{"topic": "cancellation", "now": "2025-01-01T10:00:00Z", "order": {"order_number": "AK0000001", '
            '"email": "a@example.com", "placed_at": "2026-01-01T10:00:00Z", "lines": [{"line_id": 1, "sku": "A2633", '
            '"quantity": 1, "unit_price": "10.00"}]}}',
            "in the future",
        ),
        (
            '{"topic": "cancellation", "now": "2025-01-01T10:00:00Z", "order": {"order_number": "AK0000001", '
            '"email": "a@example.com", "placed_at": "2024-01-01T10:00:00Z", "lines": [{"line_id": 1, "sku": "ZZZ", '
            '"quantity": 1, "unit_price": "10.00"}]}}',
            "unknown SKU",
        ),
        (
            '{"topic": "warranty", "order_number": "AK1000010", "request": {"line_id": 1, "defect": "'
            + "x" * 5000
            + '"}}',
            "too long",
        ),
    ],
)
def test_decide_bad_input(tmp_path, shared_db, payload, needle, cli):
    db = shared_db
    before = _sqlite_counts(db)
    out = cli(["decide"], tmp_path, db, payload)
    assert out.returncode == 1, out.stdout
    assert needle in out.stderr and "Traceback" not in out.stderr and out.stdout == ""
    assert _sqlite_counts(db) == before


@pytest.mark.parametrize(
    "payload,needle",
    [
        ("{not json", "not valid JSON"),
        ('{"topic": "return", "order_number": "AK9999999", "request": {"line_id": 1, "quantity": 1}}', "not in the"),
    ],
)
def test_decide_bad_input_in_a_real_process(tmp_path, shared_db, payload, needle):
    """Exit status 1, one clear line on stderr, no traceback, nothing on stdout, nothing written."""
    before = _sqlite_counts(shared_db)
    out = run(["decide"], tmp_path, shared_db, payload)
    assert out.returncode == 1 and needle in out.stderr and "Traceback" not in out.stderr and out.stdout == ""
    assert _sqlite_counts(shared_db) == before


def test_show_policy(tmp_path, cli):
    out = cli(["show-policy"], tmp_path)
    assert out.returncode == 0, out.stderr
    policy = json.loads(out.stdout)
    assert policy["returns"]["return_window_days"] == 30 and policy["version"]


def test_show_policy_with_a_broken_file(tmp_path):
    (tmp_path / "bad.yml").write_text("version: 1\nreturns: 7\n")
    out = run(["--policy", str(tmp_path / "bad.yml"), "show-policy"], tmp_path)
    assert out.returncode == 1 and "returns" in out.stderr and "Traceback" not in out.stderr


def test_a_bad_command_line_exits_2(tmp_path, cli):
    out = cli(["inspect", "AK1000015"], tmp_path)  # neither --passed nor --failed
    assert out.returncode == 2 and "--passed" in out.stderr and out.stdout == ""


# ------------------------------------------------------------------------------------------------ staff side


def test_inspect_and_refund_issued(tmp_path, db, cli):
    """REF-1 -> REF-4: the warehouse records the inspection, support marks the refund paid; repeating is safe."""
    out = cli(["inspect", "ak1000015", "--passed", "--now", NOW], tmp_path, db)
    assert out.returncode == 0, out.stderr
    decision = json.loads(out.stdout)
    assert decision["reasons"][0]["code"] == "refund_processing" and decision["values"]["repeated"] is False
    out = cli(["refund-issued", "AK1000015", "--now", "2025-03-13T18:00:00Z"], tmp_path, db)
    assert out.returncode == 0, out.stderr
    decision = json.loads(out.stdout)
    assert [r["code"] for r in decision["reasons"]] == ["refund_issued", "no_duplicate_refund"]
    assert "REF-4" in decision["clauses"] and decision["values"]["credits_reversed"] == 0
    again = json.loads(cli(["refund-issued", "AK1000015", "--now", NOW], tmp_path, db).stdout)
    assert again["values"]["repeated"] is True


def test_inspect_failed_with_a_finding(tmp_path, db, cli):
    out = cli(["inspect", "AK1000014", "--failed", "--finding", "personal_item", "--now", NOW], tmp_path, db)
    assert out.returncode == 0, out.stderr
    decision = json.loads(out.stdout)
    assert decision["outcome"] == "denied" and decision["reasons"][0]["clause"] == "RET-12"


@pytest.mark.parametrize(
    "args,needle",
    [
        (["refund-issued", "AK1000014"], "REF-1"),  # the item has not arrived
        (["refund-issued", "AK9999999"], "not in the database"),
        (["refund-issued", "12"], "AK followed by 7 digits"),
        (["inspect", "AK1000015", "--failed", "--finding", "aliens"], "finding must be one of"),
        (["inspect", "AK1000015", "--passed", "--finding", "empty_package"], "no finding"),
        (["inspect", "AK1000003", "--passed"], "no refund awaiting inspection"),
        (["inspect", "AK1000015", "--passed", "--now", "yesterday"], "now"),
    ],
)
def test_staff_commands_refuse_bad_input(tmp_path, shared_db, cli, args, needle):
    before = _sqlite_counts(shared_db)
    out = cli(args, tmp_path, shared_db)
    assert out.returncode == 1 and needle in out.stderr and out.stdout == ""
    assert _sqlite_counts(shared_db) == before


def test_staff_command_errors_in_a_real_process(tmp_path, shared_db):
    before = _sqlite_counts(shared_db)
    out = run(["refund-issued", "AK1000015"], tmp_path, shared_db)
    assert out.returncode == 1 and "REF-1" in out.stderr and "Traceback" not in out.stderr and out.stdout == ""
    assert _sqlite_counts(shared_db) == before


def test_staff_commands_need_the_schema(tmp_path, cli):
    out = cli(["refund-issued", "AK1000015"], tmp_path, f"sqlite:///{tmp_path / 'empty.db'}")
    assert out.returncode == 1 and "migrate" in out.stderr
