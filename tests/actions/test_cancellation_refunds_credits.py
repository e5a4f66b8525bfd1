"""Cancellation (CAN-1..3), refund status (REF-1..4) and the credits balance (CRD-6/7): identity, then one call."""

from __future__ import annotations

from datetime import datetime

from actions.cancellation import ActionCancelOrder, ActionPreviewCancellation, ValidateCancelForm
from actions.credits import ActionCreditsBalance, ValidateCreditsForm
from actions.refunds import ActionRefundStatus, ValidateRefundForm


def verify(chat, validator, order_number, email):
    chat.run(validator, {"order_number": order_number, "email": email})
    assert chat.slots["verified"] is True
    return chat


def test_cancellation_within_the_hour_preview_then_yes(chat, service, counts):
    verify(chat, ValidateCancelForm(), "AK1000001", "olivia.fresh@example.com")
    before = counts()
    chat.run(ActionPreviewCancellation())
    assert counts() == before
    assert chat.responses[0] == "utter_cancellation_within_self_cancel_window"
    assert chat.messages[0]["custom"]["decision"]["clauses"][0] == "CAN-1"
    assert "utter_next_step_refund_to_original_payment" in chat.responses
    assert chat.responses[-1] == "utter_confirm_cancellation"
    assert chat.slots["pending_confirmation"] == "cancellation"
    chat.run(ActionCancelOrder())
    assert chat.responses == ["utter_case_opened"]
    assert chat.messages[0]["case_id"].startswith("CAN-")


def test_shipped_order_cannot_be_cancelled_and_nothing_is_offered(chat, service, counts):
    verify(chat, ValidateCancelForm(), "AK1000002", "sam.shipped@example.com")
    before = counts()
    chat.run(ActionPreviewCancellation())
    assert chat.responses[0] == "utter_cancellation_already_shipped"
    assert "utter_next_step_initiate_return" in chat.responses
    assert chat.slots["pending_confirmation"] is None
    chat.run(ActionCancelOrder())
    assert chat.messages == [] and counts() == before


def test_cancel_without_verification_does_nothing(chat, service, counts):
    before = counts()
    chat.run(ActionCancelOrder(), {"order_number": "AK1000001", "pending_confirmation": "cancellation"})
    assert chat.messages == [] and counts() == before


def test_refund_processing_gives_the_expected_dates(chat, service):
    verify(chat, ValidateRefundForm(), "AK1000016", "grace.refunds@example.com")
    chat.run(ActionRefundStatus())
    assert chat.responses[0] == "utter_refund_refund_processing"
    first = chat.messages[0]
    earliest, latest = (datetime.strptime(first[key], "%A %d %B %Y").date() for key in ("expected_from", "expected_by"))
    assert earliest <= latest  # written as people write dates (issue 15, item 7), compared as dates
    assert "utter_refund_original_payment_method" in chat.responses
    assert first["custom"]["decision"]["reasons"][0] == "refund_processing"


def test_refund_awaiting_the_item(chat, service):
    verify(chat, ValidateRefundForm(), "AK1000014", "grace.refunds@example.com")
    chat.run(ActionRefundStatus())
    assert chat.responses[0] == "utter_refund_awaiting_returned_item"


def test_refund_issued(chat, service):
    verify(chat, ValidateRefundForm(), "AK1000017", "grace.refunds@example.com")
    chat.run(ActionRefundStatus())
    assert chat.responses[:2] == ["utter_refund_refund_issued", "utter_refund_no_duplicate_refund"]


def test_credits_balance_with_locked_and_expiring_credits(chat, service):
    verify(chat, ValidateCreditsForm(), "AK1000008", "liam.rewards@example.com")
    chat.run(ActionCreditsBalance())
    assert chat.responses[0] == "utter_credits_balance"
    assert "utter_credits_credits_locked" in chat.responses
    assert "utter_credits_credits_expiring_soon" in chat.responses
    balance = chat.messages[0]
    assert int(balance["balance"]) == int(balance["available"]) + int(balance["locked"])
