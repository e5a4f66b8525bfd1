"""The stack's secrets: generated once, private, reused, and usable whatever their first character.

A CI run found it: a generated API token that began with "-" was read by ``rasa run``'s argparse as an option, and
Rasa did not start (1 run in about 64)."""

from __future__ import annotations

import json
import stat
import subprocess
from dataclasses import replace
from pathlib import Path

import botstack

ROOT = Path(__file__).resolve().parents[2]

PARSE = """
import json, sys
from rasa.__main__ import create_argument_parser
args = create_argument_parser().parse_args(sys.argv[1:])
print(json.dumps({"auth_token": args.auth_token, "cors": args.cors, "enable_api": args.enable_api}))
"""


def test_rasa_reads_a_token_that_starts_with_a_dash(tmp_path):
    token = "-" + "x" * 42
    settings = replace(botstack.Settings.for_tests(tmp_path), secrets={"RASA_API_TOKEN": token})
    argv = botstack.rasa_run_argv(settings)
    done = subprocess.run(
        [str(ROOT / ".venv-rasa" / "bin" / "python"), "-c", PARSE, *argv[1:]],
        capture_output=True,
        text=True,
        timeout=300,
        env={**botstack.QUIET_ENV, "PATH": "/usr/bin"},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    parsed = json.loads(done.stdout.strip().splitlines()[-1])
    assert parsed["auth_token"] == token and parsed["enable_api"] is True
    assert parsed["cors"] == [settings.web_origin], "CORS for the chat page's origin only"


def test_secrets_are_generated_once_into_a_private_file(tmp_path):
    first = botstack.load_secrets(tmp_path, {})
    assert set(first) == set(botstack.SECRET_NAMES + botstack.DESK_SECRET_NAMES)
    assert all(len(v) >= 32 for v in first.values())
    path = tmp_path / "secrets.env"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert botstack.load_secrets(tmp_path, {}) == first, "reused, not regenerated"
    given = "g" * 40
    assert botstack.load_secrets(tmp_path, {"REST_CHANNEL_TOKEN": given})["REST_CHANNEL_TOKEN"] == given
    try:
        botstack.load_secrets(tmp_path, {"REST_CHANNEL_TOKEN": "short"})
    except botstack.StackError as error:
        assert "REST_CHANNEL_TOKEN" in str(error)
    else:
        raise AssertionError("a short secret is refused")
