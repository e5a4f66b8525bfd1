"""Parcels lost, damaged or delayed in transit: Worry-Free Purchase insurance (INS-1, INS-2, REF-4)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import partial

from .decision import Decision, NextStep, Outcome, Reason, make_decision
from .errors import InvalidRequest
from .facts import Order, OrderStatus
from .policy import Policy

TOPIC = "transit"

REASON_CODES = (
    "worry_free_covered",
    "single_compensation_with_shipping_insurance",
    "no_duplicate_compensation",
    "no_worry_free_insurance",
    "already_compensated",
    "order_cancelled",
    "not_shipped_yet",
    "marked_delivered",
)

PROBLEMS = ("lost", "damaged", "delayed")


@dataclass(frozen=True)
class TransitRequest:
    problem: str  # "lost" | "damaged" | "delayed"
    already_compensated: bool = False  # REF-4: a refund or reshipment was already made for this parcel


_decision = partial(make_decision, TOPIC)


def decide_transit(order: Order, request: TransitRequest, policy: Policy, now: datetime) -> Decision:
    """INS-1: Worry-Free Purchase insurance bought at checkout covers a lost, damaged or delayed parcel.
    INS-2: with shipping insurance applied, Worry-Free is not refunded separately and there is one compensation
    only; REF-4: no duplicate refunds or reshipments."""
    if request.problem not in PROBLEMS:
        raise InvalidRequest(f"problem must be one of {PROBLEMS}, got {request.problem!r}")
    policy.local_date(now)  # rejects a naive clock
    values = {"problem": request.problem, "order_number": order.order_number}
    support = NextStep("contact_support", None, values={"email": policy.contacts.email})

    if request.already_compensated:
        return _decision(Outcome.DENIED, [Reason("already_compensated", "REF-4", values)], policy, values=values)
    if order.status is OrderStatus.CANCELLED:
        return _decision(Outcome.DENIED, [Reason("order_cancelled", "INS-1", values)], policy, values=values)
    if order.shipped_at is None and order.status not in (OrderStatus.SHIPPED, OrderStatus.DELIVERED):
        return _decision(
            Outcome.DENIED,
            [Reason("not_shipped_yet", "INS-1", values)],
            policy,
            values=values,
            next_steps=[NextStep("cancel_order", "CAN-1")],
        )
    if request.problem in ("lost", "delayed") and order.status is OrderStatus.DELIVERED:
        # the carrier reports the parcel delivered: a person checks before any compensation (REF-4)
        return _decision(
            Outcome.NEEDS_REVIEW,
            [Reason("marked_delivered", "REF-4", {**values, "delivered_at": order.delivered_at})],
            policy,
            values=values,
            next_steps=[support],
        )
    if not order.worry_free_insurance:
        return _decision(
            Outcome.NEEDS_REVIEW,
            [Reason("no_worry_free_insurance", "INS-1", values)],
            policy,
            values=values,
            next_steps=[support],
        )
    reasons = [Reason("worry_free_covered", "INS-1", values)]
    if order.shipping_insurance:
        reasons.append(Reason("single_compensation_with_shipping_insurance", "INS-2"))
    reasons.append(Reason("no_duplicate_compensation", "REF-4"))
    return _decision(
        Outcome.APPROVED,
        reasons,
        policy,
        values=values,
        next_steps=[NextStep("insurance_claim_review", "INS-1", values={"problem": request.problem})],
    )
