"""Where a refund stands (REF-1..4, RET-6, RET-8/9/12 at inspection).

REF-3: processing takes ``processing_business_days_min..max`` business days from the inspection date (policy
timezone), skipping weekends and the policy's holidays: inspected on a Friday -> Wednesday..Friday.
"""
from __future__ import annotations

from datetime import datetime

from .calendar import business_day_range
from .decision import Decision, NextStep, Outcome, Reason
from .facts import Order, OrderStatus, RefundRecord
from .errors import InvalidRequest
from .policy import Policy

TOPIC = "refund"

REASON_CODES = (
    "no_refund_in_progress",
    "cancellation_refund",
    "awaiting_returned_item",
    "awaiting_inspection",
    "inspection_failed",
    "refund_processing",
    "refund_overdue",
    "refund_issued",
    "no_duplicate_refund",
    "original_payment_method",
)

#: inspection finding -> the clause that refuses the refund
INSPECTION_FINDINGS = {
    "altered_label": "RET-8",
    "incorrect_item": "RET-8",
    "empty_package": "RET-8",
    "transit_damage_buyer_risk": "RET-9",
    "personal_item": "RET-12",
    "damaged": "RET-1",
}


def _decision(outcome: Outcome, reasons, policy: Policy, **kw) -> Decision:
    return Decision(topic=TOPIC, outcome=outcome, reasons=tuple(reasons), policy_version=policy.version, **kw)


def expected_refund_dates(inspected_at: datetime, policy: Policy):
    """REF-3: (earliest, latest) dates for a refund whose inspection passed at ``inspected_at``."""
    return business_day_range(policy.local_date(inspected_at), policy)


def decide_refund_status(order: Order, refund: RefundRecord | None, policy: Policy, now: datetime) -> Decision:
    """The refund's stage: awaiting the item (REF-1/RET-6), awaiting inspection (RET-6), inspection failed (with the
    finding's clause), processing with the expected date range (REF-3), overdue, or issued to the original payment
    method (REF-2), which is never refunded twice (REF-4)."""
    today = policy.local_date(now)
    if refund is not None and refund.order_number != order.order_number:
        raise InvalidRequest(f"refund record is for order {refund.order_number}, not {order.order_number}")
    cancelled = order.status is OrderStatus.CANCELLED
    if cancelled and (refund is None or (refund.issued_at is None and refund.item_received_at is None)):
        # a cancelled order has nothing to send back or inspect: the refund goes to the original payment method
        method = refund.payment_method if refund else order.payment_method
        return _decision(Outcome.ANSWERED, [Reason("cancellation_refund", "REF-2", {"payment_method": method})],
                         policy, values={"payment_method": method})
    if refund is None:
        return _decision(Outcome.ANSWERED, [Reason("no_refund_in_progress", "REF-1")], policy,
                         next_steps=[NextStep("initiate_return", "RET-4")])

    method = Reason("original_payment_method", "REF-2",
                    {"payment_method": refund.payment_method, "amount": refund.amount})
    values = {"amount": refund.amount, "payment_method": refund.payment_method}

    if refund.issued_at is not None:
        issued = {**values, "issued_at": refund.issued_at}
        return _decision(Outcome.ANSWERED, [Reason("refund_issued", "REF-2", issued),
                                            Reason("no_duplicate_refund", "REF-4")], policy, values=issued)
    if refund.item_received_at is None:
        return _decision(Outcome.ANSWERED, [Reason("awaiting_returned_item", "REF-1"), method], policy,
                         values=values, next_steps=[NextStep("ship_item_back", "RET-6")])
    if refund.inspected_at is None or refund.inspection_passed is None:
        return _decision(Outcome.ANSWERED, [Reason("awaiting_inspection", "RET-6",
                                                   {"item_received_at": refund.item_received_at}), method],
                         policy, values={**values, "item_received_at": refund.item_received_at},
                         next_steps=[NextStep("warehouse_inspection", "RET-6")])
    if not refund.inspection_passed:
        finding = refund.inspection_finding
        clause = INSPECTION_FINDINGS.get(finding or "", "REF-1")
        return _decision(Outcome.DENIED, [Reason("inspection_failed", clause, {"finding": finding})], policy,
                         values={**values, "finding": finding},
                         next_steps=[NextStep("contact_support", None, values={"email": policy.contacts.email})])

    earliest, latest = expected_refund_dates(refund.inspected_at, policy)
    dated = {**values, "inspected_at": refund.inspected_at, "expected_from": earliest, "expected_by": latest}
    if today > latest:
        return _decision(Outcome.ANSWERED, [Reason("refund_overdue", "REF-3", dated), method], policy,
                         values=dated,
                         next_steps=[NextStep("contact_support", "REF-3", values={"email": policy.contacts.email})])
    return _decision(Outcome.ANSWERED, [Reason("refund_processing", "REF-3", dated), method], policy, values=dated,
                     next_steps=[NextStep("refund_expected", "REF-3", due=latest,
                                          values={"earliest": earliest, "latest": latest})])
