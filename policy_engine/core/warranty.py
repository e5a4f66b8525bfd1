"""Warranty claims (WAR-1..22)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any

from .decision import Decision, NextStep, Outcome, Reason, make_decision
from .errors import InvalidRequest
from .facts import WEB_STORE, Order, OrderLine
from .policy import Policy, normalise_channel
from .warranty_request import (
    CAUSES,
    REMEDY_PREFERENCES,
    SERIAL_NUMBER,
    Purchase,
    WarrantyRequest,
    normalise_country,
)
from .warranty_terms import (
    choose_remedy,
    claim_deadline,
    partial_refund_amount,
    proof_is_valid,
    purchase_from_order,
    replacement_warranty_until,
    warranty_end,
    warranty_months,
)

TOPIC = "warranty"

REASON_CODES = (
    # approved
    "covered",
    "extended_warranty",
    "proof_valid",
    "claim_deadline",
    "remedy_refurbished",
    "remedy_new",
    "remedy_partial_refund",
    "compensation_capped_at_price",
    # needs information / review
    "information_missing",
    "troubleshoot_first",
    "proof_of_purchase_required",
    "serial_number_invalid",
    "serial_not_on_order",
    # denied: one code per exclusion
    "unauthorised_reseller",  # WAR-20
    "free_or_promotional",  # WAR-16
    "lost_or_stolen",  # WAR-13
    "normal_wear",  # WAR-11
    "third_party_repair",  # WAR-17
    "external_damage",  # WAR-18
    "misuse",  # WAR-19
    "non_quality_reported_late",  # WAR-15
    "non_quality_use_return",  # WAR-15 (within 30 days: the return policy applies)
    "shipped_internationally",  # WAR-2
    "outside_country_of_purchase",  # WAR-2
    "outside_warranty_period",  # WAR-14
    "claim_window_passed",  # WAR-10
    "no_valid_proof",  # WAR-12
)

#: cause -> (reason code, clause) for the exclusions WAR-11, 13, 17, 18, 19
CAUSE_EXCLUSIONS = {
    "lost_or_stolen": ("lost_or_stolen", "WAR-13"),
    "wear": ("normal_wear", "WAR-11"),
    "third_party_repair": ("third_party_repair", "WAR-17"),
    "external_damage": ("external_damage", "WAR-18"),
    "misuse": ("misuse", "WAR-19"),
}

_decision = partial(make_decision, TOPIC)


# ------------------------------------------------------------------------------------------------ decision


def _validate(request: WarrantyRequest) -> None:
    if request.cause not in CAUSES:
        raise InvalidRequest(f"cause must be one of {CAUSES}, got {request.cause!r}")
    if request.preferred_remedy not in REMEDY_PREFERENCES:
        raise InvalidRequest(f"preferred_remedy must be one of {REMEDY_PREFERENCES}, got {request.preferred_remedy!r}")
    if request.troubleshooting_done not in (None, True, False):
        raise InvalidRequest(
            f"troubleshooting_done must be true, false or unknown, got {request.troubleshooting_done!r}"
        )


def _resolve(
    order: Order | None, request: WarrantyRequest, purchase: Purchase | None
) -> tuple[Purchase, OrderLine | None]:
    if purchase is not None:
        if not isinstance(purchase.price, Decimal) or purchase.price < 0:
            raise InvalidRequest(f"purchase price must be a Decimal >= 0, got {purchase.price!r}")
        return purchase, None
    if order is None:
        raise InvalidRequest("a warranty decision needs an order or a purchase")
    if isinstance(request.line_id, bool) or not isinstance(request.line_id, int):
        raise InvalidRequest(f"line_id must be an integer, got {request.line_id!r}")
    line = order.line(request.line_id)
    if line is None:
        raise InvalidRequest(f"order {order.order_number} has no line {request.line_id}")
    return purchase_from_order(order, line), line


def _on(moment: date | datetime, policy: Policy) -> date:
    return policy.local_date(moment) if isinstance(moment, datetime) else moment


def decide_warranty(
    order: Order | None, request: WarrantyRequest, policy: Policy, now: datetime, *, purchase: Purchase | None = None
) -> Decision:
    """Whether a warranty claim is covered (WAR-1..22), for an order in our store or a ``purchase`` elsewhere.

    Exclusions deny (each with its own code, all collected); otherwise missing facts ask (WAR-6/7/9); a serial
    number not on the order goes to review; a covered claim lists the remedy (WAR-3/4/5/22) and the process
    (WAR-6/7/8) with the claim deadline (WAR-10).
    """
    _validate(request)
    purchase, line = _resolve(order, request, purchase)
    today = policy.local_date(now)
    purchased_on = _on(purchase.purchased_on, policy)
    opened_on = policy.local_date(request.claim_opened_at) if request.claim_opened_at else today
    if opened_on < purchased_on:
        raise InvalidRequest(f"claim opened {opened_on} before the purchase on {purchased_on}")
    months = warranty_months(purchase, policy)
    end = warranty_end(purchased_on, months)
    deadline = claim_deadline(end, opened_on, policy)
    channel = normalise_channel(purchase.channel)
    country = normalise_country(purchase.country)
    dates = {
        "purchased_on": purchased_on,
        "warranty_end": end,
        "warranty_months": months,
        "claim_opened_on": opened_on,
        "claim_deadline": deadline,
    }

    denials: list[Reason] = []
    if channel != WEB_STORE and channel not in policy.warranty.authorised_resellers:
        denials.append(Reason("unauthorised_reseller", "WAR-20", {"channel": purchase.channel}))
    if purchase.free_gift:
        denials.append(Reason("free_or_promotional", "WAR-16"))
    if request.cause in CAUSE_EXCLUSIONS:
        code, clause = CAUSE_EXCLUSIONS[request.cause]
        denials.append(Reason(code, clause))
    non_quality_steps: list[NextStep] = []
    if request.cause == "non_quality":
        days = (opened_on - purchased_on).days
        limit = policy.warranty.non_quality_report_days
        if days > limit:
            denials.append(Reason("non_quality_reported_late", "WAR-15", {"days_since_purchase": days, "limit": limit}))
        else:
            denials.append(Reason("non_quality_use_return", "WAR-15", {"days_since_purchase": days, "limit": limit}))
            non_quality_steps.append(NextStep("initiate_return", "RET-1"))
    if request.shipped_internationally:
        denials.append(Reason("shipped_internationally", "WAR-2", {"country_of_purchase": country}))
    country_now = normalise_country(request.country_now)
    if country_now is not None and country is not None and country_now != country:
        denials.append(
            Reason("outside_country_of_purchase", "WAR-2", {"country_of_purchase": country, "country_now": country_now})
        )
    if opened_on > end:
        denials.append(Reason("outside_warranty_period", "WAR-14", dates))
    elif today > deadline:
        denials.append(Reason("claim_window_passed", "WAR-10", dates))
    if purchase.proof is not None and not proof_is_valid(purchase, policy):
        denials.append(Reason("no_valid_proof", "WAR-12", {"proof": purchase.proof.value, "channel": channel}))
    if denials:
        return _decision(Outcome.DENIED, denials, policy, values=dates, next_steps=non_quality_steps)

    # WAR-6 / WAR-7 / WAR-9: what is still needed
    missing: list[str] = []
    reasons: list[Reason] = []
    steps: list[NextStep] = []
    if purchase.proof is None:
        missing.append("proof_of_purchase")
        reasons.append(Reason("proof_of_purchase_required", "WAR-9", {"channel": channel}))
    if request.troubleshooting_done is not True:
        missing.append("troubleshooting_outcome")
        reasons.append(
            Reason("troubleshoot_first", "WAR-6", {"smart_help_center_url": policy.warranty.smart_help_center_url})
        )
        steps.append(NextStep("smart_help_center", "WAR-6", values={"url": policy.warranty.smart_help_center_url}))
    serial = (request.serial_number or "").strip().upper() or None
    serial_ok = serial is not None and SERIAL_NUMBER.match(serial) is not None
    if serial is not None and not serial_ok and not request.evidence_provided:
        missing.append("serial_number")
        reasons.append(Reason("serial_number_invalid", "WAR-7"))
    elif not serial_ok and not request.evidence_provided:
        missing.append("serial_number_or_evidence")
    if missing:
        reasons.insert(0, Reason("information_missing", "WAR-7", {"missing": list(missing)}))
        return _decision(
            Outcome.NEEDS_INFORMATION, reasons, policy, missing=tuple(missing), values=dates, next_steps=steps
        )

    if serial_ok and line is not None and line.serial_numbers and serial not in line.serial_numbers:
        return _decision(
            Outcome.NEEDS_REVIEW,
            [Reason("serial_not_on_order", "WAR-7", {"serial_number": serial})],
            policy,
            values=dates,
            next_steps=[NextStep("email_support", "WAR-6", values={"email": policy.contacts.email})],
        )

    return _covered(purchase, request, policy, today, dates)


def _covered(
    purchase: Purchase, request: WarrantyRequest, policy: Policy, today: date, dates: dict[str, Any]
) -> Decision:
    end, deadline = dates["warranty_end"], dates["claim_deadline"]
    reasons = [Reason("covered", "WAR-1", dates)]
    if purchase.extended_warranty_years:
        reasons.append(Reason("extended_warranty", "WAR-21", {"years": purchase.extended_warranty_years}))
    reasons.append(Reason("proof_valid", "WAR-9", {"proof": purchase.proof.value if purchase.proof else None}))
    reasons.append(Reason("claim_deadline", "WAR-10", {"claim_deadline": deadline}))

    remedy = choose_remedy(purchase.product, request.preferred_remedy, policy)
    values = {**dates, "remedy": remedy, "price_paid": purchase.price}
    steps = [
        NextStep("email_support", "WAR-6", values={"email": policy.contacts.email}),
        NextStep("return_for_inspection_possible", "WAR-7"),
        NextStep("return_the_defective_item", "WAR-8"),
    ]
    if remedy == "partial_refund":
        amount = partial_refund_amount(purchase.price, dates["purchased_on"], end, today)
        values["refund_amount"] = amount
        reasons.append(Reason("remedy_partial_refund", "WAR-3", {"refund_amount": amount}))
        reasons.append(Reason("compensation_capped_at_price", "WAR-22", {"price_paid": purchase.price}))
        steps.append(NextStep("partial_refund", "WAR-3", values={"amount": amount}))
    else:
        until = replacement_warranty_until(end, today, policy)
        values["replacement_warranty_until"] = until
        reasons.append(Reason(f"remedy_{remedy}", "WAR-3"))
        steps.append(NextStep("replacement_may_differ", "WAR-4"))
        steps.append(
            NextStep(
                "replacement_warranty",
                "WAR-5",
                due=until,
                values={
                    "days_after_shipping": policy.warranty.replacement_warranty_days,
                    "original_end": end,
                    "estimated": True,
                },
            )
        )
    steps.append(NextStep("complete_claim_by", "WAR-10", due=deadline))
    return _decision(Outcome.APPROVED, reasons, policy, values=values, next_steps=steps)
