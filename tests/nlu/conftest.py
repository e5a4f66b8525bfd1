"""Shared helpers for the NLU data tests (no rasa import: these run in .venv-engine)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from nlu_tools import nlu_yaml

ROOT = Path(__file__).resolve().parents[2]

NLU_DIR = ROOT / "data" / "nlu"
OWN_HELDOUT = ROOT / "nlu_eval" / "own_heldout.yml"
OWN_HELDOUT_2 = ROOT / "nlu_eval" / "own_heldout_2.yml"  # the previous test set
OWN_DEV = ROOT / "nlu_eval" / "own_dev.yml"
BITEXT_HELDOUT = ROOT / "nlu_eval" / "bitext_heldout.yml"
#: issue 15's fresh test set (written blind on 2026-12-03 before any tuning for issue 15; the first with order_status)
FRESH_TEST_15 = ROOT / "nlu_eval" / "fresh_test_15.yml"
#: intents added after a test set was written: that set cannot cover them
ADDED_AFTER = {
    "own": {"order_status", "bought_elsewhere", "case_status"},
    "own-2": {"order_status", "bought_elsewhere", "case_status"},
    # written before the purchase-elsewhere flow (issue 15, item 2) and coming back to a case (item 4)
    "fresh-15": {"bought_elsewhere", "case_status"},
}
BITEXT_DEV = ROOT / "nlu_eval" / "bitext_dev.yml"

# docs/architecture.md, Floor 2 ("Intents", "Entities and formats"): the contract with domain.yml and the actions.
CONTRACT_INTENTS = {
    "request_return",
    "cancel_order",
    "refund_status",
    "order_status",
    "case_status",  # coming back to a case (issue 15, item 4)
    "warranty_claim",
    "bought_elsewhere",
    "parcel_issue",
    "credits_balance",
    "inform",
    "item_condition",
    "human_handoff",
    "stop",
    "greet",
    "goodbye",
    "thank",
    "affirm",
    "deny",
    "bot_challenge",
    "out_of_scope",
}
FAQ_KEYS = {
    "return_window",
    "bulk_corporate",
    "mystery_box",
    "warranty_abroad",
    "extended_warranty",
    "refund_timing",
    "contact_hours",
    "proof_of_purchase",
    "warranty_not_covered",
    "warranty_period",
    "how_to_return",
    "worry_free",
}
CREDITS_FAQ_KEYS = {
    "how_to_earn",
    "when_credited",
    "expiry",
    "redeem",
    "reversed",
    "eligibility",
    "cash_value",
    "merge_accounts",
}
RETRIEVAL_INTENTS = {f"faq/{k}" for k in FAQ_KEYS} | {f"credits_faq/{k}" for k in CREDITS_FAQ_KEYS}
ALL_TRAINED_INTENTS = CONTRACT_INTENTS | RETRIEVAL_INTENTS
#: intents only ever sent as a payload by a channel, never typed: no training examples (``/upload_file{...}``)
PAYLOAD_ONLY_INTENTS = {"upload_file"}
CONTRACT_ENTITIES = {
    "order_number",
    "email",
    "serial_number",
    "product",
    "channel",
    "country",
    "quantity",
    "purchase_date",
    "condition",
    "transit_problem",  # domain.yml's transit form slot (lost / damaged / delayed), from a lookup
    "verification_code",  # the identity step-up's one-time code (RET-4), from a regex
    "case_number",  # RET-/CAN-/WAR-/INS- + digits (coming back to a case), from a regex
}


RASA_PY = ROOT / ".venv-rasa" / "bin" / "python"


def run_rasa_python(code: str, *args: str) -> dict:
    """Run ``code`` in .venv-rasa (this suite runs in .venv-engine); it prints one JSON line last, returned here."""
    done = subprocess.run([str(RASA_PY), "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def training_files() -> list[Path]:
    return sorted(NLU_DIR.glob("*.yml"))


@pytest.fixture(scope="session")
def training_examples():
    return nlu_yaml.read_examples(training_files())


@pytest.fixture(scope="session")
def heldout_examples():
    return {
        "own": nlu_yaml.read_examples([OWN_HELDOUT]),
        "own-2": nlu_yaml.read_examples([OWN_HELDOUT_2]),
        "fresh-15": nlu_yaml.read_examples([FRESH_TEST_15]),
        "dev": nlu_yaml.read_examples([OWN_DEV]),
        "bitext": nlu_yaml.read_examples([BITEXT_HELDOUT]),
        "bitext-dev": nlu_yaml.read_examples([BITEXT_DEV]),
    }


@pytest.fixture(scope="session")
def regexes():
    return nlu_yaml.read_blocks(training_files(), "regex")


def pytest_configure(config):
    config.addinivalue_line("markers", "slow: trains a Rasa model (about a minute or two)")
