"""Coming back to a warranty claim for a purchase elsewhere (issue 15, item 4), typed as a customer would, against
the trained model, the action server and the SQLite store: "what's happening with WAR-E..." asks for the claim's
email, mails a one-time code to it (the bought-elsewhere path's), and answers with the claim's decision (clauses,
policy version) and its next steps; another email answers exactly like an unknown number (RET-4)."""

from __future__ import annotations

import time
from pathlib import Path

from tests.dialogue.test_dialogue_purchase_claim import latest_code
from tests.security.test_purchase_case_numbers import open_claim

EMAIL = "lena.elsewhere@example.com"


def proves(customer, settings, email: str, typed: str):
    customer.says(typed)
    assert customer.slots()["requested_slot"] == "claim_email", customer.transcript()
    assert customer.slots()["order_number"] is None
    outbox = Path(settings.child_env()["MAIL_OUTBOX_DIR"])
    sent_after = time.time() - 1
    customer.says(f"it's {email}")
    assert customer.slots()["requested_slot"] == "claim_email_code", customer.transcript()
    return customer.says(latest_code(outbox, email, sent_after))


def test_WAR_9_a_claim_for_a_purchase_elsewhere_is_found_by_its_number_and_email(customer, bot_stack):
    settings = bot_stack.settings
    claim_id = open_claim(settings.database_url, Path(settings.child_env()["UPLOAD_DIR"]), EMAIL)
    turn = proves(customer, settings, EMAIL, f"Hi, what's happening with {claim_id[:5]}-{claim_id[5:]}?")
    found = turn.decision
    assert found["topic"] == "case_status" and found["case_id"] == claim_id, customer.transcript()
    assert found["reasons"][0] == "purchase_claim_covered" and "WAR-9" in found["clauses"]
    assert found["policy_version"] and claim_id in turn.texts[0] and len(turn.texts) <= 3
    assert customer.slots()["requested_slot"] is None and customer.slots()["claim_email_code"] is None


def test_RET_4_another_email_is_told_like_an_unknown_number(customer, bot_stack):
    settings = bot_stack.settings
    claim_id = open_claim(settings.database_url, Path(settings.child_env()["UPLOAD_DIR"]), "omar.owner@example.com")
    turn = proves(customer, settings, "not.the.owner@example.com", f"status of my claim {claim_id}")
    assert turn.decision["reasons"] == ["purchase_claim_not_found"] and turn.decision["case_id"] is None
    assert "Anker" not in " ".join(turn.texts), customer.transcript()
