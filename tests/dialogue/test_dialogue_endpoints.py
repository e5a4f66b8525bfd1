"""endpoints.yml and credentials.yml as ``rasa run`` reads them (inside .venv-rasa), for each supported deployment:
SQLite tracker store + in-memory lock store (the default of ``make run``), a Redis lock store, a PostgreSQL tracker
store, and an unset variable. Each store is used once (a tracker saved and read back, a lock taken and released).
One probe process runs every variant (importing Rasa takes a while); no model is needed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
from contextlib import ExitStack
from pathlib import Path

import pytest

from tests.support.postgres import admin_url, fresh_database
from tests.support.redis import redis_server

ROOT = Path(__file__).resolve().parents[2]

RASA_PYTHON = ROOT / ".venv-rasa" / "bin" / "python"
PROBE = Path(__file__).with_name("endpoints_probe.py")


def _missing(message: str, required: bool) -> None:
    pytest.fail(message) if required else pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _default_env(tmp_path: Path) -> dict[str, str]:
    """What botstack exports for ``make run`` (Rasa has no defaults in endpoints.yml)."""
    return {
        "ACTION_ENDPOINT_URL": "http://127.0.0.1:5055/webhook",
        "TRACKER_STORE_URL": f"sqlite:///{tmp_path / 'tracker.db'}",
        "LOCK_STORE_TYPE": "in_memory",
        "LOCK_STORE_HOST": "127.0.0.1",
        "LOCK_STORE_PORT": "6379",
        "LOCK_STORE_DB": "1",
        "ACTION_SERVER_TOKEN": "a" * 43,
        "REST_CHANNEL_TOKEN": "r" * 43,
        "CHAT_SESSION_SECRET": "s" * 43,
    }


@pytest.fixture(scope="module")
def probed(tmp_path_factory) -> dict:
    if not RASA_PYTHON.exists():
        pytest.fail(".venv-rasa is missing: run `make venvs`")
    tmp_path = tmp_path_factory.mktemp("endpoints")
    base = _default_env(tmp_path)
    with ExitStack() as stack:
        variants = [
            {"name": "default", "env": base},
            {
                "name": "unset",
                "env": {k: v for k, v in base.items() if k != "ACTION_ENDPOINT_URL"},
                "unset": ["ACTION_ENDPOINT_URL"],
            },
            {
                "name": "no-session-secret",
                "env": {k: v for k, v in base.items() if k != "CHAT_SESSION_SECRET"},
                "unset": ["CHAT_SESSION_SECRET", "CLIENT_HASH_KEY"],
            },
            {
                "name": "no-rest-token",
                "env": {k: v for k, v in base.items() if k != "REST_CHANNEL_TOKEN"},
                "unset": ["REST_CHANNEL_TOKEN"],
            },
        ]
        redis_port = stack.enter_context(redis_server(tmp_path))
        if redis_port is not None:
            variants.append(
                {"name": "redis", "env": {**base, "LOCK_STORE_TYPE": "redis", "LOCK_STORE_PORT": str(redis_port)}}
            )
        if admin_url():
            url = stack.enter_context(fresh_database(admin_url()))
            rasa_url = "postgresql://" + url.split("://", 1)[1]  # Rasa's SQLAlchemy 1.4 uses psycopg2
            variants.append({"name": "postgres", "env": {**base, "TRACKER_STORE_URL": rasa_url}})
        env = {
            **os.environ,
            "RASA_TELEMETRY_ENABLED": "false",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            "TF_CPP_MIN_LOG_LEVEL": "2",
        }
        done = subprocess.run(
            [str(RASA_PYTHON), str(PROBE)],
            input=json.dumps(variants),
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            timeout=600,
        )
    assert done.returncode == 0, done.stderr[-4000:]
    results = json.loads(done.stdout.strip().splitlines()[-1])
    results["tmp_path"] = tmp_path
    return results


def _ok(probed: dict, name: str) -> dict:
    result = probed[name]
    assert "error" not in result, f"{name}:\n{result['error']}"
    return result


def test_the_default_stores_and_both_channels(probed):
    result = _ok(probed, "default")
    assert result["action_url"] == "http://127.0.0.1:5055/webhook"
    assert result["action_headers"] == {"X-Action-Token": "a" * 43}, "Rasa authenticates to the action server"
    assert (result["tracker_store"], result["tracker_dialect"]) == ("ThreadedSQLTrackerStore", "sqlite")
    assert result["tracker_roundtrip"] is True
    # three more turns (save + retrieve each) on the connection already open: none opened (issue 14; SQLAlchemy
    # 1.4's NullPool for SQLite files opened one, with its PRAGMAs and WAL's checkpoint on close, every time)
    assert result["tracker_connections_opened"] == 0 and result["tracker_last_slot"] == "turn 2"
    assert result["action_result_validation"] == "rasa_stores.action_results"
    assert result["event_lookup"] == "rasa_stores.event_types" and result["event_lookup_differs"] == []
    assert result["lock_store"] == "InMemoryLockStore" and result["lock_released"] is True
    # the messaging channels (docs/channels.md) are listed too, each off until its secrets are set
    assert {"chat_channels.rest.TokenRestInput", "chat_channels.webchat.WebChatInput"} <= set(result["channels"])
    assert result["socket_session_persistence"] == [True]
    assert result["rest_channel_on"] is True
    assert (probed["tmp_path"] / "tracker.db").exists()


def test_an_unset_variable_is_a_clear_error_at_start(probed):
    assert "ACTION_ENDPOINT_URL" in probed["unset"].get("error", ""), probed["unset"]


def test_the_web_chat_refuses_to_start_without_its_session_secret(probed):
    assert "CHAT_SESSION_SECRET" in probed["no-session-secret"].get("error", ""), probed["no-session-secret"]


def test_the_rest_channel_is_off_without_its_token(probed):
    assert _ok(probed, "no-rest-token")["rest_channel_on"] is False


def test_a_redis_lock_store_by_environment(probed):
    if "redis" not in probed:
        _missing("redis-server is missing: run scripts/install-system-deps.sh", bool(os.environ.get("CI")))
    result = _ok(probed, "redis")
    assert result["lock_store"] == "RedisLockStore"
    assert result["lock_released"] is True
    assert result["tracker_roundtrip"] is True


def test_a_postgresql_tracker_store_by_environment(probed):
    if "postgres" not in probed:
        _missing(
            "PostgreSQL not configured: set TEST_POSTGRES_URL (e.g. $(bash scripts/postgres.sh))",
            os.environ.get("REQUIRE_POSTGRES") == "1",
        )
    result = _ok(probed, "postgres")
    assert (result["tracker_store"], result["tracker_dialect"]) == ("ThreadedSQLTrackerStore", "postgresql")
    assert result["tracker_roundtrip"] is True
