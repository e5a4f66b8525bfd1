"""The policy file loads into a typed Policy, and a bad file gives a clear error naming the key."""

from __future__ import annotations

import dataclasses
import re
from datetime import date
from pathlib import Path

import pytest
import yaml

from policy_engine.core.errors import PolicyError
from policy_engine.core.figures import policy_figures
from policy_engine.core.policy_file import load_policy, policy_from_mapping

POLICY_FILE = Path(__file__).resolve().parents[2] / "policy" / "policy.yml"


def _data() -> dict:
    return yaml.safe_load(POLICY_FILE.read_text(encoding="utf-8"))


def _write(tmp_path, data) -> str:
    path = tmp_path / "policy.yml"
    path.write_text(yaml.safe_dump(data) if not isinstance(data, str) else data, encoding="utf-8")
    return path


def test_policy_file_loads_with_version_and_figures(policy):
    """RET-1 30 days, RET-3 10 units, CAN-1 60 minutes, REF-3 3..5 business days, WAR-10 90 days, CRD-6 30 days,
    CRD-7 one year, CRD-9 500 signup credits, CON-1 contacts."""
    assert policy.version == "2024.2"
    assert policy.effective_from == date(2024, 1, 1)
    assert policy.returns.return_window_days == 30
    assert policy.returns.bulk_threshold_units == 10
    assert policy.cancellation.self_cancel_minutes == 60
    assert (policy.refunds.processing_business_days_min, policy.refunds.processing_business_days_max) == (3, 5)
    assert policy.warranty.claim_window_days == 90
    assert policy.warranty.extended_warranty_max_years == 3
    assert policy.credits.unlock_days == 30
    assert policy.credits.expiry_months == 12
    assert policy.credits.signup_reward == 500
    assert policy.contacts.email == "support@anker.com"
    assert policy.contacts.phone_us == "1-800-988-7973"
    assert "amazon" in policy.warranty.authorised_resellers


def test_policy_is_frozen(policy):
    with pytest.raises(dataclasses.FrozenInstanceError):
        policy.returns.return_window_days = 60  # type: ignore[misc]


def test_sku_override_wins_over_category_WAR_1(policy):
    """WAR-1: per-SKU months override the category's months; unknown categories use the default."""
    assert policy.warranty.months_for("A1761", "charger") == 60
    assert policy.warranty.months_for("A2633", "charger") == 18
    assert policy.warranty.months_for("A9999", "power_station") == 60
    assert policy.warranty.months_for("A9999", "unknown_category") == policy.warranty.default_months


def test_non_integer_window_gives_clear_error(tmp_path):
    data = _data()
    data["returns"]["return_window_days"] = "abc"
    with pytest.raises(PolicyError) as err:
        load_policy(_write(tmp_path, data))
    assert str(err.value) == "policy.yml: returns.return_window_days must be a positive integer, got 'abc'"


@pytest.mark.parametrize(
    "section,key,value,expected",
    [
        ("returns", "bulk_threshold_units", 0, "returns.bulk_threshold_units must be a positive integer, got 0"),
        ("returns", "return_window_days", True, "returns.return_window_days must be a positive integer, got True"),
        ("cancellation", "self_cancel_minutes", -5, "cancellation.self_cancel_minutes must be a positive integer"),
        (
            "refunds",
            "processing_business_days_max",
            2,
            "refunds.processing_business_days_max must be >= processing_business_days_min (3), got 2",
        ),
        ("warranty", "remedy_order", ["new"], "warranty.remedy_order must list each of"),
        ("warranty", "smart_help_center_url", "service.anker.com", "warranty.smart_help_center_url must be an http"),
        ("credits", "programme_launch", "June 2023", "credits.programme_launch must be a date (YYYY-MM-DD)"),
        ("credits", "minimum_age", {"EU": 13, "US": 14}, "credits.minimum_age.default is missing"),
        (
            "credits",
            "minimum_age",
            {"EU": "thirteen", "default": 16},
            "credits.minimum_age.EU must be a positive integer, got 'thirteen'",
        ),
        ("calendar", "business_days", ["monday"], "calendar.business_days must list weekdays"),
        ("calendar", "holidays", ["2024-13-01"], "calendar.holidays must be a list of dates"),
        ("contacts", "email", "support-at-anker", "contacts.email must be an email address"),
    ],
)
def test_bad_values_name_the_key(tmp_path, section, key, value, expected):
    data = _data()
    data[section][key] = value
    with pytest.raises(PolicyError) as err:
        load_policy(_write(tmp_path, data))
    assert str(err.value).startswith("policy.yml: ")
    assert expected in str(err.value)


def test_missing_key_is_named(tmp_path):
    data = _data()
    del data["warranty"]["claim_window_days"]
    with pytest.raises(PolicyError, match=r"^policy.yml: warranty.claim_window_days is missing$"):
        load_policy(_write(tmp_path, data))


def test_missing_section_is_named(tmp_path):
    data = _data()
    del data["credits"]
    with pytest.raises(PolicyError, match=r"^policy.yml: credits is missing$"):
        load_policy(_write(tmp_path, data))


def test_bad_timezone_is_named(tmp_path):
    data = _data()
    data["timezone"] = "Mars/Olympus"
    with pytest.raises(PolicyError, match=r"timezone must be an IANA timezone name, got 'Mars/Olympus'"):
        load_policy(_write(tmp_path, data))


@pytest.mark.parametrize("code", ["usd", "DOLLAR", "$", 840])
def test_bad_currency_is_named(tmp_path, code):
    data = _data()
    data["currency"] = code
    with pytest.raises(PolicyError, match=r"currency must be"):
        load_policy(_write(tmp_path, data))


def test_currency_is_read(policy, tmp_path):
    assert policy.currency == "USD"
    data = _data()
    data["currency"] = "EUR"
    assert load_policy(_write(tmp_path, data)).currency == "EUR"


def test_contact_hours_must_be_ordered(tmp_path):
    data = _data()
    data["contacts"]["live_chat_hours"]["close"] = "09:00"
    with pytest.raises(PolicyError, match=r"contacts.live_chat_hours.close must be later than open"):
        load_policy(_write(tmp_path, data))


def test_invalid_yaml_and_missing_file(tmp_path):
    with pytest.raises(PolicyError, match=r"^policy.yml: not valid YAML"):
        load_policy(_write(tmp_path, "returns: [unclosed"))
    with pytest.raises(PolicyError, match=r"^nope.yml: cannot read policy file"):
        load_policy(tmp_path / "nope.yml")
    with pytest.raises(PolicyError, match=r"<top level> must be a mapping"):
        load_policy(_write(tmp_path, "- just\n- a list\n"))


def test_from_mapping_gives_same_policy_as_file(policy):
    assert policy_from_mapping(_data()) == policy


def test_defaults_for_silent_text_are_marked():
    """Where the text is silent (CRD-9 earn rate, WAR-5 second period, REF-3 holidays, CRD-9 profile reward,
    CRD-8 launch date) the file says so with a '# DEFAULT:' comment on the key's line or just above it."""
    lines = POLICY_FILE.read_text(encoding="utf-8").splitlines()
    for key in (
        "earn_points_per_currency_unit",
        "replacement_warranty_days",
        "holidays",
        "profile_reward",
        "programme_launch",
    ):
        index = next(i for i, line in enumerate(lines) if re.match(rf"\s*{key}:", line))
        window = " ".join(lines[max(0, index - 3) : index + 1])
        assert "DEFAULT:" in window, key


def test_clauses_cited_in_policy_file_exist(clauses):
    cited = set(re.findall(r"\b([A-Z]{3}-\d+)\b", POLICY_FILE.read_text(encoding="utf-8")))
    assert cited, "the policy file cites its clauses"
    assert cited <= clauses


def test_policy_figures_are_strings(policy):
    figures = policy_figures(policy)
    assert figures["return_window_days"] == "30"
    assert figures["minimum_age_eu"] == "13" and figures["minimum_age_us"] == "14"
    assert all(isinstance(v, str) for v in figures.values())


def test_policy_figures_carry_every_faq_template_variable(policy):
    """One source for the FAQ's figures: every FAQ response's variables are keys of ``policy_figures``."""
    domain = yaml.safe_load((Path(__file__).resolve().parents[2] / "domain.yml").read_text(encoding="utf-8"))
    figures = policy_figures(policy)
    for name, variants in domain["responses"].items():
        if "/" not in name:
            continue
        for variant in variants:
            assert set(re.findall(r"{(\w+)}", variant.get("text", ""))) <= set(figures), name
