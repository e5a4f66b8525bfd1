"""Cancelling an order (CAN-1..3), with the refund (REF-2) and credits reversal (CRD-11) next steps."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from functools import partial

from .credits import earned_points
from .decision import Decision, NextStep, Outcome, Reason, make_decision
from .facts import Order, OrderStatus
from .policy import Policy

TOPIC = "cancellation"

REASON_CODES = (
    "within_self_cancel_window",
    "already_cancelled",
    "already_shipped",
    "self_cancel_window_passed",
    "redeemed_with_credits",
)

SHIPPED_STATUSES = (OrderStatus.SHIPPED, OrderStatus.DELIVERED)


_decision = partial(make_decision, TOPIC)


def self_cancel_deadline(order: Order, policy: Policy) -> datetime:
    """CAN-1: ``placed_at`` + ``self_cancel_minutes``; the deadline itself is inside (minute 60 yes, 61 no)."""
    return order.placed_at + timedelta(minutes=policy.cancellation.self_cancel_minutes)


def decide_cancellation(order: Order, policy: Policy, now: datetime) -> Decision:
    """CAN-1 self-cancel within the window; CAN-3 not once shipping started; otherwise CAN-2 (support email or a
    return).  An already cancelled order is answered, not cancelled twice."""
    policy.local_date(now)  # rejects a naive clock
    deadline = self_cancel_deadline(order, policy)
    values = {
        "deadline": deadline,
        "self_cancel_minutes": policy.cancellation.self_cancel_minutes,
        "minutes_since_placed": int((now - order.placed_at).total_seconds() // 60),
    }
    support = NextStep("contact_support", "CAN-2", values={"email": policy.contacts.email})

    if order.status is OrderStatus.CANCELLED:
        return _decision(Outcome.ANSWERED, [Reason("already_cancelled", "CAN-1")], policy, values=values)
    if any(line.redeemed_with_credits for line in order.lines):
        # RET-10 / CRD-13: redeemed products cannot be cancelled
        return _decision(Outcome.DENIED, [Reason("redeemed_with_credits", "CRD-13")], policy, values=values)
    if order.status in SHIPPED_STATUSES or order.shipped_at is not None:
        return _decision(
            Outcome.DENIED,
            [Reason("already_shipped", "CAN-3")],
            policy,
            values=values,
            next_steps=[NextStep("initiate_return", "CAN-2")],
        )
    if now > deadline:
        return _decision(
            Outcome.DENIED,
            [Reason("self_cancel_window_passed", "CAN-1", values)],
            policy,
            values=values,
            next_steps=[support, NextStep("initiate_return", "CAN-2")],
        )

    steps = [
        NextStep(
            "refund_to_original_payment",
            "REF-2",
            values={"payment_method": order.payment_method, "amount": order_total(order)},
        )
    ]
    if earned_points(order, policy) > 0:
        steps.append(NextStep("credits_reversal", "CRD-11"))
    return _decision(
        Outcome.APPROVED,
        [Reason("within_self_cancel_window", "CAN-1", values)],
        policy,
        values={**values, "refund_amount": order_total(order)},
        next_steps=steps,
    )


def order_total(order: Order) -> Decimal:
    """What the customer paid for the whole order (merchandise after discounts and credits, plus shipping and tax)."""
    total = order.merchandise_total - order.discount - order.credits_applied + order.shipping + order.tax
    return max(Decimal("0"), total)
