"""RET-4 identity limits are policy data (``identity:`` in policy/policy.yml): validated by ``load_policy`` with errors
naming the key, and used by the verification instead of constants."""

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
import yaml

from policy_engine.core.errors import PolicyError
from policy_engine.core.policy import IdentityPolicy
from policy_engine.core.policy_file import load_policy
from policy_engine.service import NotVerified, SupportService
from policy_engine.store import make_session_factory
from tests.support.smtp import RecordingMailer

POLICY_FILE = Path(__file__).resolve().parents[2] / "policy" / "policy.yml"
ORDER, EMAIL = "AK1000003", "emma.twenty@example.com"


def _data() -> dict:
    return yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))


def _load(tmp_path, data):
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    return load_policy(path)


def test_the_policy_file_has_the_identity_figures():
    identity = load_policy(POLICY_FILE).identity
    assert identity == IdentityPolicy(
        max_failed_attempts=5,
        lockout_minutes=15,
        token_lifetime_minutes=30,
        code_lifetime_minutes=10,
        code_max_attempts=3,
        code_max_sends_per_hour=3,
    )


@pytest.mark.parametrize(
    "key,value,message",
    [
        ("max_failed_attempts", 0, "identity.max_failed_attempts must be a positive integer, got 0"),
        ("max_failed_attempts", "five", "identity.max_failed_attempts must be a positive integer, got 'five'"),
        ("max_failed_attempts", True, "identity.max_failed_attempts must be a positive integer, got True"),
        ("max_failed_attempts", 5000, "identity.max_failed_attempts must be at most 100, got 5000"),
        ("lockout_minutes", -1, "identity.lockout_minutes must be a positive integer, got -1"),
        ("lockout_minutes", 1.5, "identity.lockout_minutes must be a positive integer, got 1.5"),
        ("token_lifetime_minutes", 0, "identity.token_lifetime_minutes must be a positive integer, got 0"),
        ("token_lifetime_minutes", 525600, "identity.token_lifetime_minutes must be at most 10080, got 525600"),
        # RET-4 step-up figures (issue 12)
        ("code_lifetime_minutes", 0, "identity.code_lifetime_minutes must be a positive integer, got 0"),
        ("code_lifetime_minutes", 1440, "identity.code_lifetime_minutes must be at most 60, got 1440"),
        ("code_max_attempts", "3", "identity.code_max_attempts must be a positive integer, got '3'"),
        ("code_max_attempts", 1000, "identity.code_max_attempts must be at most 10, got 1000"),
        ("code_max_sends_per_hour", -1, "identity.code_max_sends_per_hour must be a positive integer, got -1"),
        ("code_max_sends_per_hour", 500, "identity.code_max_sends_per_hour must be at most 20, got 500"),
    ],
)
def test_bad_identity_values_name_the_key(tmp_path, key, value, message):
    data = _data()
    data["identity"][key] = value
    with pytest.raises(PolicyError) as err:
        _load(tmp_path, data)
    assert str(err.value) == f"policy.yml: {message}"


@pytest.mark.parametrize(
    "key",
    [
        "max_failed_attempts",
        "lockout_minutes",
        "token_lifetime_minutes",
        "code_lifetime_minutes",
        "code_max_attempts",
        "code_max_sends_per_hour",
    ],
)
def test_missing_identity_key_is_named(tmp_path, key):
    data = _data()
    del data["identity"][key]
    with pytest.raises(PolicyError, match=rf"^policy.yml: identity.{key} is missing$"):
        _load(tmp_path, data)


def test_missing_or_malformed_identity_section_is_named(tmp_path):
    data = _data()
    del data["identity"]
    with pytest.raises(PolicyError, match=r"^policy.yml: identity is missing$"):
        _load(tmp_path, data)
    data["identity"] = [5, 15, 30]
    with pytest.raises(PolicyError, match=r"^policy.yml: identity must be a mapping"):
        _load(tmp_path, data)


@pytest.fixture
def strict_service(sqlite_service, sqlite_engine, clock):
    """The demo store with other identity figures: 2 failures lock out for 3 minutes, tokens live 2 minutes."""
    policy = replace(
        sqlite_service.policy,
        identity=replace(
            sqlite_service.policy.identity, max_failed_attempts=2, lockout_minutes=3, token_lifetime_minutes=2
        ),
    )
    return SupportService(make_session_factory(sqlite_engine), policy, clock, mailer=RecordingMailer())


def test_the_lock_out_uses_the_policy_figures(strict_service, clock):
    first = strict_service.verify_customer("c-strict", ORDER, "wrong@example.com")
    assert first.code == "not_verified" and first.attempts_left == 1
    second = strict_service.verify_customer("c-strict", ORDER, "wrong2@example.com")
    assert second.code == "locked_out" and second.locked_until == clock.now + timedelta(minutes=3)
    # locked: the right pair only gets a one-time code (step-up, issue 12) until the lock-out is over
    assert strict_service.verify_customer("c-strict", ORDER, EMAIL).code == "code_sent"
    clock.advance(minutes=2, seconds=59)
    assert strict_service.verify_customer("c-strict", ORDER, EMAIL).code == "code_sent"
    clock.advance(seconds=2)
    assert strict_service.verify_customer("c-strict", ORDER, EMAIL).verified


def test_the_token_lifetime_uses_the_policy_figure(strict_service, clock):
    assert strict_service.verify_customer("c-tok", ORDER, EMAIL).verified
    clock.advance(minutes=1, seconds=59)
    strict_service.refund_status("c-tok", ORDER)
    clock.advance(seconds=2)
    with pytest.raises(NotVerified):
        strict_service.refund_status("c-tok", ORDER)


def test_a_success_reports_the_policy_attempts(strict_service):
    assert strict_service.verify_customer("c-ok", ORDER, EMAIL).attempts_left == 2
