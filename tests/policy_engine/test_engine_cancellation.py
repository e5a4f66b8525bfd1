"""Cancellation: CAN-1..3, with REF-2 refund and CRD-11 credits reversal next steps."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from policy_engine import OrderStatus, Outcome, decide_cancellation
from policy_engine.core.cancellation import REASON_CODES


def placed(make_order, **kw):
    kw.setdefault("status", OrderStatus.PLACED)
    return make_order(placed_at="2024-03-01 10:00", **kw)


def test_minute_60_is_inside_the_self_cancel_window_CAN_1(policy, make_order, at):
    d = decide_cancellation(placed(make_order), policy, at("2024-03-01 11:00"))
    assert d.outcome is Outcome.APPROVED
    assert d.reason_codes == ("within_self_cancel_window",) and d.clauses[0] == "CAN-1"


def test_minute_61_is_outside_and_routes_to_support_or_return_CAN_1_CAN_2(policy, make_order, at):
    """CAN-1: minute 61 is outside; CAN-2: contact support@anker.com or initiate a return."""
    d = decide_cancellation(placed(make_order), policy, at("2024-03-01 11:01"))
    assert d.outcome is Outcome.DENIED
    assert d.reason_codes == ("self_cancel_window_passed",)
    assert [s.code for s in d.next_steps] == ["contact_support", "initiate_return"]
    assert all(s.clause == "CAN-2" for s in d.next_steps)
    assert d.next_steps[0].values["email"] == "support@anker.com"


def test_a_second_past_the_deadline_is_outside_CAN_1(policy, make_order, at):
    d = decide_cancellation(placed(make_order), policy, at("2024-03-01 11:00") + timedelta(seconds=1))
    assert d.outcome is Outcome.DENIED


def test_shipped_order_cannot_be_cancelled_CAN_3(policy, make_order, at):
    """CAN-3: once in the shipping phase, no cancellation even inside the hour; a return is offered."""
    d = decide_cancellation(
        placed(make_order, status=OrderStatus.SHIPPED, shipped_at="2024-03-01 10:20"), policy, at("2024-03-01 10:30")
    )
    assert d.outcome is Outcome.DENIED and d.reason_codes == ("already_shipped",)
    assert d.clauses == ("CAN-3", "CAN-2")
    assert [s.code for s in d.next_steps] == ["initiate_return"]


def test_processing_order_inside_the_hour_can_still_be_cancelled_CAN_1(policy, make_order, at):
    d = decide_cancellation(placed(make_order, status=OrderStatus.PROCESSING), policy, at("2024-03-01 10:45"))
    assert d.outcome is Outcome.APPROVED


def test_already_cancelled_order_is_answered_not_cancelled_again(policy, make_order, at):
    d = decide_cancellation(placed(make_order, status=OrderStatus.CANCELLED), policy, at("2024-03-01 10:10"))
    assert d.outcome is Outcome.ANSWERED and d.reason_codes == ("already_cancelled",)


def test_approved_cancellation_refunds_original_payment_and_reverses_credits_REF_2_CRD_11(policy, make_order, at):
    d = decide_cancellation(
        placed(make_order, shipping=Decimal("5.00"), tax=Decimal("4.80")), policy, at("2024-03-01 10:30")
    )
    codes = [s.code for s in d.next_steps]
    assert codes == ["refund_to_original_payment", "credits_reversal"]
    assert d.next_steps[0].clause == "REF-2" and d.next_steps[1].clause == "CRD-11"
    assert d.values["refund_amount"] == Decimal("69.79")


def test_no_credits_reversal_when_no_credits_were_earned_CRD_11(policy, make_order, at):
    d = decide_cancellation(placed(make_order, logged_in=False), policy, at("2024-03-01 10:30"))
    assert "credits_reversal" not in [s.code for s in d.next_steps]


def test_redeemed_products_cannot_be_cancelled_CRD_13(policy, make_order, make_line, at):
    order = placed(make_order, lines=(make_line(redeemed_with_credits=True, unit_price="0"),))
    d = decide_cancellation(order, policy, at("2024-03-01 10:05"))
    assert d.outcome is Outcome.DENIED and d.reason_codes == ("redeemed_with_credits",)
    assert set(d.reason_codes) <= set(REASON_CODES)
