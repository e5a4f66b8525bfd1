"""Coming back to a warranty claim for a purchase elsewhere (``WAR-E000003``; issue 15, item 4): its status, the
decision it was opened with (clauses, policy version) and its next steps; an unknown claim or another email's claim
answer alike (RET-4).  Pure: the claim found under the proven email is passed in, and so is the clock."""

from __future__ import annotations

import pytest

from policy_engine import InvalidRequest, Outcome
from policy_engine.core.cases import (
    CASE_NUMBER,
    REASON_CODES,
    PurchaseClaimRecord,
    decide_purchase_claim_status,
    is_purchase_case,
)
from policy_engine.core.decision import Decision, NextStep, Reason


def opened_with(outcome=Outcome.APPROVED, version="2024.1") -> Decision:
    """The decision a claim was opened with (as ``decide_warranty`` gives it for a covered purchase elsewhere)."""
    return Decision(
        "warranty",
        outcome,
        (
            Reason("covered", "WAR-1"),
            Reason("proof_valid", "WAR-9", {"proof": "receipt"}),
            Reason("remedy_new", "WAR-3"),
        ),
        version,
        next_steps=(
            NextStep("email_support", "WAR-6", values={"email": "support@anker.com"}),
            NextStep("return_the_defective_item", "WAR-8"),
        ),
        case_id="WAR-E000003",
    )


def claim(at, d, **kw) -> PurchaseClaimRecord:
    facts = dict(
        case_id="WAR-E000003",
        status="open",
        opened_at=at("2025-06-01 09:00"),
        product="Anker 737 Power Bank",
        purchased_on=d("2025-01-10"),
        claim_deadline=d("2026-07-10"),
        decision=opened_with(),
    )
    facts.update(kw)
    return PurchaseClaimRecord(**facts)


def test_WAR_9_a_covered_claim_is_told_with_the_clauses_and_policy_version_it_was_decided_on(policy, at, d):
    decision = decide_purchase_claim_status(claim(at, d), policy, at("2025-08-20 10:00"), case_number="war-e-3")
    assert decision.topic == "case_status" and decision.outcome is Outcome.ANSWERED
    assert decision.case_id == "WAR-E000003" and decision.reason_codes[0] == "purchase_claim_covered"
    assert decision.reason_codes[1:] == ("covered", "proof_valid", "remedy_new")  # the claim's own decision
    assert decision.clauses == ("WAR-1", "WAR-9", "WAR-3", "WAR-6", "WAR-8")
    assert decision.policy_version == policy.version
    values = decision.values
    assert values["decided_policy_version"] == "2024.1" and values["decided_clauses"] == [
        "WAR-1",
        "WAR-9",
        "WAR-3",
        "WAR-6",
        "WAR-8",
    ]
    assert values["opened_on"] == d("2025-06-01") and values["product"] == "Anker 737 Power Bank"
    assert [s.code for s in decision.next_steps] == ["email_support", "return_the_defective_item"]


def test_a_claim_under_review_says_so(policy, at, d):
    review = claim(at, d, decision=opened_with(Outcome.NEEDS_REVIEW))
    decision = decide_purchase_claim_status(review, policy, at("2025-08-20 10:00"), case_number="WAR-E000003")
    assert decision.reason_codes[0] == "purchase_claim_in_review" and decision.outcome is Outcome.ANSWERED


def test_RET_4_no_claim_under_the_proven_email_is_not_found_with_nothing_about_it(policy, at):
    decision = decide_purchase_claim_status(None, policy, at("2025-08-20 10:00"), case_number="WAR-E-000003")
    assert decision.reason_codes == ("purchase_claim_not_found",) and decision.clauses == ("RET-4",)
    assert decision.case_id is None and decision.values == {"case_number": "WAR-E000003"}
    assert decision.next_steps == () and decision.outcome is Outcome.NEEDS_INFORMATION


def test_WAR_10_an_open_claim_past_its_deadline_can_no_longer_be_completed(policy, at, d):
    late = claim(at, d, claim_deadline=d("2025-08-30"))
    inside = decide_purchase_claim_status(late, policy, at("2025-08-30 23:30"), case_number="WAR-E000003")
    assert inside.reason_codes[0] == "purchase_claim_covered"
    past = decide_purchase_claim_status(late, policy, at("2025-08-31 00:30"), case_number="WAR-E000003")
    assert past.outcome is Outcome.DENIED and past.reason_codes == ("claim_window_passed",)
    assert past.clauses == ("WAR-10", "WAR-6") and past.values["claim_window_days"] == 90


def test_a_closed_claim_is_told_as_closed(policy, at, d):
    closed = decide_purchase_claim_status(claim(at, d, status="closed"), policy, at("2025-08-20"), case_number="WAR-E3")
    assert closed.reason_codes == ("case_closed",) and closed.case_id == "WAR-E000003"


def test_a_decision_that_opens_no_case_is_refused(policy, at, d):
    with pytest.raises(InvalidRequest):
        decide_purchase_claim_status(
            claim(at, d, decision=opened_with(Outcome.DENIED)), policy, at("2025-08-20"), case_number="WAR-E000003"
        )


@pytest.mark.parametrize(
    ("text", "purchase"),
    [
        ("WAR-E000003", True),
        ("war-e-3", True),
        ("WAR E 12", True),
        ("WAR-000003", False),
        ("RET-1", False),
        ("", False),
    ],
)
def test_which_numbers_are_claims_for_a_purchase_elsewhere(text, purchase):
    assert is_purchase_case(text) is purchase


def test_the_stores_spelling_is_a_case_number_and_every_code_is_listed():
    assert CASE_NUMBER.match("WAR-E000003") and CASE_NUMBER.match("RET-000123")
    assert not CASE_NUMBER.match("WAR-E-000003") and not CASE_NUMBER.match("WAR-E00003")
    assert {"purchase_claim_not_found", "purchase_claim_covered", "purchase_claim_in_review"} <= set(REASON_CODES)
