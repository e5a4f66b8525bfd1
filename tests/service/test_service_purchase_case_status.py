"""Coming back to a warranty claim for a purchase elsewhere (``WAR-E000001``; issue 15, item 4) on real SQLite and
PostgreSQL: found only under the email this conversation proved by the one-time code the bought-elsewhere path uses;
its decision (clauses, policy version) and next steps; an unknown number and another email's claim get the same
answer (RET-4); nothing is written."""

from __future__ import annotations

import pytest

from policy_engine import Outcome
from policy_engine.core.errors import NotVerified
from policy_engine.store.upload_files import UploadFiles
from tests.service.test_service_purchase_claims import CONV, EMAIL, OTHER, request, stated, store_upload, verify_email
from tests.support.store import row_counts

LATER, STRANGER = "e" * 32, "f" * 32


@pytest.fixture
def svc(service, tmp_path):
    service.upload_files = UploadFiles(tmp_path / "uploads")
    return service


@pytest.fixture
def claim_id(svc, tmp_path):
    """A covered WAR-E claim opened under EMAIL in conversation CONV."""
    svc.register_upload(CONV, store_upload(tmp_path / "uploads", CONV), "receipt")
    verify_email(svc)
    decision = svc.open_purchase_claim(CONV, "A1289", stated(), request())
    assert decision.outcome is Outcome.APPROVED and decision.case_id.startswith("WAR-E")
    return decision.case_id


def test_WAR_9_the_claim_is_found_in_a_later_conversation_under_its_proven_email(svc, claim_id, engine, clock):
    verify_email(svc, LATER)  # the same address, proven again in a new conversation
    before = row_counts(engine)
    spelled = f"what's happening with {claim_id[:5].lower()}-{claim_id[5:]}"  # war-e-000001
    d = svc.purchase_claim_status(LATER, spelled)
    assert d.topic == "case_status" and d.case_id == claim_id and d.reason_codes[0] == "purchase_claim_covered"
    assert {"WAR-1", "WAR-9"} <= set(d.clauses) and "proof_valid" in d.reason_codes
    assert d.values["decided_policy_version"] == svc.policy.version == d.policy_version
    assert d.values["product"].startswith("Anker 737") and d.values["opened_on"] == svc.policy.local_date(clock.now)
    assert "email_support" in [s.code for s in d.next_steps]
    assert row_counts(engine) == before  # telling the status writes nothing


def test_RET_4_another_emails_claim_answers_exactly_like_an_unknown_number(svc, claim_id):
    verify_email(svc, STRANGER, "someone.else@example.com")
    other = svc.purchase_claim_status(STRANGER, claim_id)
    unknown = svc.purchase_claim_status(STRANGER, "WAR-E999999")
    for d in (other, unknown):
        assert d.reason_codes == ("purchase_claim_not_found",) and d.case_id is None and d.next_steps == ()
    strip = lambda d: {**d.to_dict(), "values": {}, "reasons": [r.code for r in d.reasons]}  # noqa: E731
    assert strip(other) == strip(unknown)
    assert other.values == {"case_number": claim_id} and unknown.values == {"case_number": "WAR-E999999"}


def test_RET_4_no_answer_without_a_proven_email(svc, claim_id, clock):
    with pytest.raises(NotVerified):
        svc.purchase_claim_status(OTHER, claim_id)  # a conversation that proved nothing
    assert svc.send_claim_email_code(OTHER, EMAIL).code == "code_sent"  # a code sent, not typed back
    with pytest.raises(NotVerified):
        svc.purchase_claim_status(OTHER, claim_id)
    clock.advance(minutes=svc.policy.identity.token_lifetime_minutes + 1)
    with pytest.raises(NotVerified):  # the proof expires like an order's grant
        svc.purchase_claim_status(CONV, claim_id)


def test_an_order_case_number_is_not_a_purchase_claim(svc, claim_id):
    verify_email(svc, LATER)
    assert svc.purchase_claim_status(LATER, "WAR-000001").reason_codes == ("purchase_claim_not_found",)
