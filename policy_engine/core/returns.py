"""Returns (RET-1..12), with the refund next steps (REF-1..3) and the credits reversal note (CRD-11)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_DOWN, Decimal
from functools import partial

from .calendar import add_business_days, business_day_range
from .credits import earned_points
from .decision import Decision, NextStep, Outcome, Reason, make_decision
from .errors import InvalidRequest
from .facts import WEB_STORE, Campaign, Order, OrderLine, OrderStatus
from .policy import Policy, normalise_channel

CONDITIONS = ("unopened", "undamaged", "damaged")


@dataclass(frozen=True)
class ReturnRequest:
    """What the customer says about the return: which line, how many units, the item's condition, and whether the
    reason is a quality issue (decides who carries the transit risk, RET-8/RET-9)."""

    line_id: int
    quantity: int
    condition: str = "undamaged"  # "unopened" | "undamaged" | "damaged"
    quality_issue: bool = False


TOPIC = "return"

REASON_CODES = (
    # approved
    "return_eligible",
    "prepaid_label_transit_covered",
    "transit_risk_buyer",
    # denied
    "order_cancelled",
    "order_not_shipped",
    "unauthorised_seller",
    "return_through_reseller",
    "redeemed_with_credits",
    "redeemed_damaged_on_arrival",
    "campaign_own_terms",
    "return_window_passed",
    "item_damaged",
    # needs review
    "bulk_order",
    "corporate_purchase",
    # requirements (decide_return_requirements)
    "order_number_and_email_required",
    "guest_register_with_purchase_email",
    "manage_in_order_history",
)


_decision = partial(make_decision, TOPIC)


def validate_return_request(order: Order, request: ReturnRequest) -> OrderLine:
    """The line must be on the order and the quantity 1..line quantity; raises ``InvalidRequest`` otherwise."""
    if isinstance(request.line_id, bool) or not isinstance(request.line_id, int):
        raise InvalidRequest(f"line_id must be an integer, got {request.line_id!r}")
    line = order.line(request.line_id)
    if line is None:
        raise InvalidRequest(f"order {order.order_number} has no line {request.line_id}")
    q = request.quantity
    if isinstance(q, bool) or not isinstance(q, int) or q <= 0:
        raise InvalidRequest(f"quantity must be a positive integer, got {q!r}")
    if q > line.quantity:
        raise InvalidRequest(f"quantity {q} is more than the {line.quantity} unit(s) on line {line.line_id}")
    if request.condition not in CONDITIONS:
        raise InvalidRequest(f"condition must be one of {CONDITIONS}, got {request.condition!r}")
    if not isinstance(request.quality_issue, bool):
        raise InvalidRequest(f"quality_issue must be true or false, got {request.quality_issue!r}")
    return line


def return_deadline(order: Order, policy: Policy) -> datetime:
    """RET-1: the last moment of day ``return_window_days`` after the purchase date (policy timezone).

    The purchase date is ``placed_at``'s calendar date in the policy timezone and counts as day 0, so with 30 days
    a purchase on 1 March can be returned up to and including 31 March, not on 1 April.
    """
    last_day = policy.local_date(order.placed_at) + timedelta(days=policy.returns.return_window_days)
    return policy.start_of_day(last_day + timedelta(days=1)) - timedelta(microseconds=1)


def refund_amount_for(line: OrderLine, quantity: int, order: Order | None = None) -> Decimal:
    """What the customer paid for ``quantity`` units of the line: the line discount shared per unit and, with the
    ``order``, its share of the order-level discount and credits applied (those were not paid with the original
    payment method, REF-2).  Rounded down to the cent; never negative and never more than was paid (REF-4)."""
    paid = max(Decimal("0"), line.paid)
    if order is not None and (order.discount or order.credits_applied):
        total = order.merchandise_total
        if total > 0:
            paid = max(Decimal("0"), paid - (order.discount + order.credits_applied) * paid / total)
    share = paid if quantity == line.quantity else paid * quantity / line.quantity
    return max(Decimal("0"), min(share.quantize(Decimal("0.01"), rounding=ROUND_DOWN), paid))


def decide_return(order: Order, request: ReturnRequest, policy: Policy, now: datetime) -> Decision:
    """Whether the line can be returned for a refund under the no-questions-asked policy, and why (RET-1..12).

    Denials are collected (the first is the primary reason); review reasons (RET-2 corporate, RET-3 bulk) make the
    outcome ``needs_review`` when nothing denies.  An approved return lists the next steps: ship back (RET-8/9),
    only the approved item (RET-12), inspection (RET-6), refund to the original payment method (REF-1..3) with
    estimated dates, and the credits reversal (CRD-11) when the order earned credits.
    """
    line = validate_return_request(order, request)
    today = policy.local_date(now)
    deadline = return_deadline(order, policy)
    days_since = (today - policy.local_date(order.placed_at)).days
    window_values = {
        "deadline": deadline.date(),
        "days_since_purchase": days_since,
        "return_window_days": policy.returns.return_window_days,
    }
    quality_steps = [NextStep("warranty_claim", "WAR-1")] if request.quality_issue else []

    if order.status is OrderStatus.CANCELLED:
        return _decision(Outcome.DENIED, [Reason("order_cancelled", "CAN-1")], policy)
    if order.status in (OrderStatus.PLACED, OrderStatus.PROCESSING) and order.shipped_at is None:
        # nothing to send back yet: cancellation applies (CAN-1/CAN-2)
        return _decision(
            Outcome.DENIED,
            [Reason("order_not_shipped", "CAN-2")],
            policy,
            next_steps=[
                NextStep("cancel_order", "CAN-1"),
                NextStep("contact_support", "CAN-2", values={"email": policy.contacts.email}),
            ],
        )

    denials: list[Reason] = []
    steps: list[NextStep] = []
    channel = normalise_channel(order.channel)
    if channel != WEB_STORE:
        if channel in policy.warranty.authorised_resellers:
            denials.append(Reason("return_through_reseller", "RET-11", {"channel": order.channel}))
            steps.append(NextStep("contact_reseller", "RET-11", values={"channel": order.channel}))
        else:
            denials.append(Reason("unauthorised_seller", "RET-11", {"channel": order.channel}))

    if line.redeemed_with_credits:
        # RET-10 / CRD-13: no return; damage on arrival is reported within 7 days of delivery
        denials.append(Reason("redeemed_with_credits", "RET-10"))
        days = policy.returns.redeemed_damage_report_days
        arrived = order.delivered_at or order.shipped_at
        if request.condition == "damaged" and arrived is not None:
            report_by = policy.local_date(arrived) + timedelta(days=days)
            if today <= report_by:
                return _decision(
                    Outcome.NEEDS_REVIEW,
                    [Reason("redeemed_damaged_on_arrival", "CRD-13", {"report_by": report_by, "days": days})],
                    policy,
                    next_steps=[
                        NextStep("contact_support", "CRD-13", due=report_by, values={"email": policy.contacts.email})
                    ],
                )

    if order.campaign in (Campaign.MYSTERY_BOX, Campaign.EARLY_BIRD):
        denials.append(Reason("campaign_own_terms", "RET-7", {"campaign": order.campaign.value}))

    if days_since > policy.returns.return_window_days:
        denials.append(Reason("return_window_passed", "RET-1", window_values))

    if request.condition == "damaged":
        denials.append(Reason("item_damaged", "RET-1", {"quality_issue": request.quality_issue}))

    if denials:
        return _decision(Outcome.DENIED, denials, policy, next_steps=steps + quality_steps, values=window_values)

    reviews: list[Reason] = []
    units = sum(ln.quantity for ln in order.lines if ln.sku == line.sku)
    if units > policy.returns.bulk_threshold_units:
        reviews.append(
            Reason("bulk_order", "RET-3", {"units": units, "bulk_threshold_units": policy.returns.bulk_threshold_units})
        )
    if order.corporate:
        reviews.append(Reason("corporate_purchase", "RET-2"))

    amount = refund_amount_for(line, request.quantity, order)
    values = {
        **window_values,
        "refund_amount": amount,
        "quantity": request.quantity,
        "sku": line.sku,
        "payment_method": order.payment_method,
    }
    steps = _return_next_steps(order, request, amount, policy, today)
    if reviews:
        return _decision(
            Outcome.NEEDS_REVIEW,
            reviews,
            policy,
            values=values,
            next_steps=[
                NextStep(
                    "support_review", "RET-2" if order.corporate else "RET-3", values={"email": policy.contacts.email}
                )
            ],
        )

    prepaid = request.quality_issue and policy.returns.prepaid_label_for_quality_returns
    transit = Reason("prepaid_label_transit_covered", "RET-8") if prepaid else Reason("transit_risk_buyer", "RET-9")
    return _decision(
        Outcome.APPROVED,
        [Reason("return_eligible", "RET-1", window_values), transit],
        policy,
        values=values,
        next_steps=steps,
    )


def _return_next_steps(
    order: Order, request: ReturnRequest, amount: Decimal, policy: Policy, today: date
) -> list[NextStep]:
    r = policy.returns
    prepaid = request.quality_issue and r.prepaid_label_for_quality_returns
    arrival = today + timedelta(days=r.estimated_return_transit_days)
    inspected = add_business_days(arrival, r.estimated_inspection_business_days, policy)
    earliest, latest = business_day_range(inspected, policy)
    steps = [
        NextStep(
            "ship_item_back",
            "RET-8" if prepaid else "RET-9",
            values={"label": "prepaid" if prepaid else "own", "quantity": request.quantity},
        ),
        NextStep("return_only_approved_item", "RET-12"),
        NextStep("warehouse_inspection", "RET-6", due=inspected, values={"estimated": True}),
        NextStep(
            "refund_to_original_payment", "REF-2", values={"payment_method": order.payment_method, "amount": amount}
        ),
        NextStep(
            "refund_expected",
            "REF-3",
            due=latest,
            values={
                "estimated": True,
                "earliest": earliest,
                "latest": latest,
                "business_days_min": policy.refunds.processing_business_days_min,
                "business_days_max": policy.refunds.processing_business_days_max,
            },
        ),
    ]
    if earned_points(order, policy) > 0:
        steps.append(NextStep("credits_reversal", "CRD-11"))
    return steps


def decide_return_requirements(
    order_number: str | None, email: str | None, policy: Policy, *, has_account: bool | None = None
) -> Decision:
    """RET-4: a return needs the order number and the purchase email.  RET-5: account holders manage returns in
    their order history; a guest without the order number registers with the purchase email to see it."""
    missing = tuple(name for name, v in (("order_number", order_number), ("email", email)) if not v)
    steps = []
    if has_account:
        steps.append(NextStep("manage_in_order_history", "RET-5"))
    if not order_number and not has_account:
        steps.append(NextStep("register_with_purchase_email", "RET-5"))
    if missing:
        reasons = [Reason("order_number_and_email_required", "RET-4", {"missing": list(missing)})]
        if "order_number" in missing and not has_account:
            reasons.append(Reason("guest_register_with_purchase_email", "RET-5"))
        return _decision(Outcome.NEEDS_INFORMATION, reasons, policy, missing=missing, next_steps=steps)
    return _decision(Outcome.ANSWERED, [Reason("order_number_and_email_required", "RET-4")], policy, next_steps=steps)
