"""Coming back to a case (issue 15, item 4): where an existing case stands, and whether an open warranty claim can
still be completed.

WAR-10 read for a claim continued later: the deadline runs from the day the claim was *opened*, not from today:
``claim_deadline = max(warranty end, opened + claim_window_days)``.  A claim opened while the product was under
warranty is not refused for WAR-14 because the warranty has ended since; it is refused (WAR-10) only once today is
past that deadline.  The clock is passed in (``now``); nothing here reads a database.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import partial
from typing import Any

from .decision import Decision, NextStep, Outcome, Reason, make_decision
from .errors import InvalidRequest
from .facts import Order
from .policy import Policy
from .warranty_terms import claim_deadline, purchase_from_order, warranty_end, warranty_months

TOPIC = "case_status"

REASON_CODES = (
    "case_not_found",  # RET-4: a case of another order answers exactly like a case that does not exist
    "no_case_on_order",
    "several_cases",
    "warranty_claim_continuable",  # WAR-10: open, facts missing, inside the deadline counted from the opening
    "warranty_claim_in_progress",  # WAR-10: open and decided, inside the deadline
    "claim_window_passed",  # WAR-10: today is past the deadline counted from the opening
    "return_in_progress",  # RET-6
    "transit_claim_open",  # INS-1
    "cancellation_recorded",  # CAN-1
    "case_closed",
    # a warranty claim for a purchase elsewhere (``WAR-E000003``), found under the email proven by a one-time code
    "purchase_claim_not_found",  # RET-4: unknown, or another email's claim: the same answer
    "purchase_claim_covered",  # the claim's decision: covered (its clauses, e.g. WAR-1/9/20)
    "purchase_claim_in_review",  # the claim's decision: a person reviews it
)

#: the case numbers of cases kept per order (``case_id_for``): ``RET-000123``; and the claims for a purchase elsewhere,
#: which have no order (``service/purchase_claims.py`` ``purchase_case_id``): ``WAR-E000003``, no dash after the E
CASE_NUMBER = re.compile(r"^(?:(RET|CAN|WAR|INS)-|WAR-E)\d{6}$")
#: the same, anywhere in what a customer typed ("my case ret-12")
CASE_NUMBER_IN_TEXT = re.compile(r"\b(RET|CAN|WAR|INS)[-\s]?(\d{1,6})\b", re.IGNORECASE)
#: a purchase-elsewhere claim in the customer's spelling: ``WAR-E000003``, ``war-e-3``, ``WAR E 000003``, ``ware3``
PURCHASE_CASE_IN_TEXT = re.compile(r"\bWAR[-\s]?E[-\s]?(\d{1,6})\b", re.IGNORECASE)
PURCHASE_CASE_PREFIX = "WAR-E"
CASE_KINDS = {"RET": "return", "CAN": "cancellation", "WAR": "warranty", "INS": "transit"}
CASE_STATUSES = ("open", "closed")

_decision = partial(make_decision, TOPIC)


def normalise_case_number(text: object) -> str | None:
    """``"ret-12"``, ``"RET 000012"`` -> ``"RET-000012"``; ``"war-e-3"`` -> ``"WAR-E000003"``; None when the text
    holds no case number of ours."""
    if not isinstance(text, str) or len(text) > 200:
        return None
    purchase = PURCHASE_CASE_IN_TEXT.search(text)
    if purchase is not None:
        return f"{PURCHASE_CASE_PREFIX}{int(purchase.group(1)):06d}"
    match = CASE_NUMBER_IN_TEXT.search(text)
    if match is None:
        return None
    return f"{match.group(1).upper()}-{int(match.group(2)):06d}"


@dataclass(frozen=True)
class CaseRecord:
    """One existing case of an order, as stored (or imported): its number, kind, status, when it was opened, the
    outcome it was given, the order line it is about, and the facts a warranty claim already has."""

    case_id: str
    kind: str  # return | cancellation | warranty | transit
    status: str  # open | closed
    opened_at: datetime
    outcome: str
    line_id: int | None = None
    missing: tuple[str, ...] = ()
    facts: dict[str, Any] = field(default_factory=dict)  # serial_number, defect, cause (a warranty claim's)


def warranty_claim_deadline(order: Order, line_id: int, opened_at: datetime, policy: Policy) -> dict[str, Any]:
    """WAR-10 for a claim opened at ``opened_at``: the warranty's end and the claim deadline (the later of the end
    and the opening + the claim window), with the dates they rest on."""
    line = order.line(line_id)
    if line is None:
        raise InvalidRequest(f"order {order.order_number} has no line {line_id}")
    purchase = purchase_from_order(order, line)
    bought = purchase.purchased_on
    purchased_on = policy.local_date(bought) if isinstance(bought, datetime) else bought
    opened_on = policy.local_date(opened_at)
    end = warranty_end(purchased_on, warranty_months(purchase, policy))
    return {
        "purchased_on": purchased_on,
        "warranty_end": end,
        "claim_opened_on": opened_on,
        "claim_deadline": claim_deadline(end, opened_on, policy),
        "claim_window_days": policy.warranty.claim_window_days,
        "product": line.product.name,
    }


def _case_values(case: CaseRecord, policy: Policy) -> dict[str, Any]:
    return {
        "case_id": case.case_id,
        "case_kind": case.kind,
        "case_status": case.status,
        "opened_on": policy.local_date(case.opened_at),
        "line_id": case.line_id,
    }


def _claim_window_passed(values: dict[str, Any], policy: Policy, case_id: str) -> Decision:
    """WAR-10: an open warranty claim past its deadline is refused; the customer can write to support (WAR-6)."""
    return _decision(
        Outcome.DENIED,
        [Reason("claim_window_passed", "WAR-10", values)],
        policy,
        values=values,
        next_steps=[NextStep("email_support", "WAR-6", values={"email": policy.contacts.email})],
        case_id=case_id,
    )


def _warranty_status(order: Order, case: CaseRecord, policy: Policy, today: date) -> Decision:
    dates = warranty_claim_deadline(order, case.line_id or 0, case.opened_at, policy)
    values = {**_case_values(case, policy), **dates}
    deadline = dates["claim_deadline"]
    if today > deadline:
        return _claim_window_passed(values, policy, case.case_id)
    if case.outcome == Outcome.NEEDS_INFORMATION.value:
        values = {**values, **case.facts, "missing": list(case.missing)}
        return _decision(
            Outcome.NEEDS_INFORMATION,
            [Reason("warranty_claim_continuable", "WAR-10", values)],
            policy,
            missing=case.missing,
            values=values,
            next_steps=[NextStep("complete_claim_by", "WAR-10", due=deadline)],
            case_id=case.case_id,
        )
    return _decision(
        Outcome.ANSWERED,
        [Reason("warranty_claim_in_progress", "WAR-10", values)],
        policy,
        values=values,
        next_steps=[
            NextStep("email_support", "WAR-6", values={"email": policy.contacts.email}),
            NextStep("complete_claim_by", "WAR-10", due=deadline),
        ],
        case_id=case.case_id,
    )


#: the clause a closed case of each kind is told under
_KIND_CLAUSES = {"return": "RET-6", "transit": "INS-1", "cancellation": "CAN-1", "warranty": "WAR-6"}
_OPEN_ANSWERS = {
    "return": ("return_in_progress", "RET-6"),
    "transit": ("transit_claim_open", "INS-1"),
    "cancellation": ("cancellation_recorded", "CAN-1"),
}


def _one_case(order: Order, case: CaseRecord, policy: Policy, today: date) -> Decision:
    if case.status == "closed":
        values = _case_values(case, policy)
        return _decision(
            Outcome.ANSWERED,
            [Reason("case_closed", _KIND_CLAUSES[case.kind], values)],
            policy,
            values=values,
            case_id=case.case_id,
        )
    if case.kind == "warranty":
        return _warranty_status(order, case, policy, today)
    code, clause = _OPEN_ANSWERS[case.kind]
    values = {**_case_values(case, policy), "outcome_given": case.outcome}
    return _decision(Outcome.ANSWERED, [Reason(code, clause, values)], policy, values=values, case_id=case.case_id)


def decide_case_status(
    order: Order, cases: Sequence[CaseRecord], policy: Policy, now: datetime, *, case_number: str | None = None
) -> Decision:
    """Where the order's case stands (``cases``: the verified order's cases only).

    ``case_number`` given: that case, or ``case_not_found`` when it is not one of this order's cases (the same answer
    whether it belongs to another order or does not exist: RET-4).  Without it: the one open case (a warranty claim
    first), the only case, or the list of the order's case numbers to choose from."""
    today = policy.local_date(now)
    for case in cases:
        if case.kind not in CASE_KINDS.values() or case.status not in CASE_STATUSES:
            raise InvalidRequest(f"case {case.case_id}: unknown kind {case.kind!r} or status {case.status!r}")
    if case_number is not None:
        wanted = normalise_case_number(case_number)
        found = [c for c in cases if c.case_id == wanted]
        if not found:
            return _decision(
                Outcome.NEEDS_INFORMATION,
                [Reason("case_not_found", "RET-4", {"case_number": wanted or ""})],
                policy,
                values={"order_number": order.order_number, "case_number": wanted or ""},
            )
        return _one_case(order, found[0], policy, today)
    if not cases:
        return _decision(
            Outcome.ANSWERED,
            [Reason("no_case_on_order", "RET-4", {"order_number": order.order_number})],
            policy,
            values={"order_number": order.order_number},
        )
    open_cases = [c for c in cases if c.status == "open"]
    open_claims = [c for c in open_cases if c.kind == "warranty"]
    for group in (open_claims, open_cases, list(cases)):
        if len(group) == 1:
            return _one_case(order, group[0], policy, today)
        if group:
            break
    ids = [c.case_id for c in sorted(cases, key=lambda c: (c.opened_at, c.case_id), reverse=True)]
    return _decision(
        Outcome.NEEDS_INFORMATION,
        [Reason("several_cases", "RET-4", {"case_ids": ids})],
        policy,
        missing=("case_number",),
        values={"order_number": order.order_number, "case_ids": ids},
    )


# ------------------------------------------------------------------------------------ a claim for a purchase elsewhere
@dataclass(frozen=True)
class PurchaseClaimRecord:
    """A warranty claim for a product bought elsewhere (``WAR-E000003``; no order), as stored: its status, when it was
    opened, the product, the purchase date, the WAR-10 deadline and the decision it was given when it was opened."""

    case_id: str
    status: str  # open | closed
    opened_at: datetime
    product: str
    purchased_on: date
    claim_deadline: date | None
    decision: Decision


def is_purchase_case(case_number: object) -> bool:
    """Whether the case number the customer typed is a claim for a purchase elsewhere (``war-e-3``)."""
    number = normalise_case_number(case_number)
    return number is not None and number.startswith(PURCHASE_CASE_PREFIX)


#: the decision a claim was opened with (service CASE_OUTCOMES) -> the answer's reason code
_PURCHASE_ANSWERS = {Outcome.APPROVED: "purchase_claim_covered", Outcome.NEEDS_REVIEW: "purchase_claim_in_review"}


def decide_purchase_claim_status(
    claim: PurchaseClaimRecord | None, policy: Policy, now: datetime, *, case_number: str
) -> Decision:
    """Where the claim ``case_number`` for a purchase elsewhere stands.

    ``claim``: that claim *under the email this conversation proved by a one-time code*, None when there is none: an
    unknown number and another email's claim get the same answer (``purchase_claim_not_found``, RET-4).  Otherwise
    the decision the claim was given (its outcome, reasons and clauses, and the policy version it was decided under)
    with its next steps; an open claim past its WAR-10 deadline (counted from the opening, as for a claim on an order)
    can no longer be completed; a closed one is told as closed."""
    wanted = normalise_case_number(case_number) or ""
    if claim is None:
        return _decision(
            Outcome.NEEDS_INFORMATION,
            [Reason("purchase_claim_not_found", "RET-4", {"case_number": wanted})],
            policy,
            values={"case_number": wanted},
        )
    decided = claim.decision
    values: dict[str, Any] = {
        "case_id": claim.case_id,
        "case_kind": "warranty",
        "case_status": claim.status,
        "opened_on": policy.local_date(claim.opened_at),
        "product": claim.product,
        "purchased_on": claim.purchased_on,
        "claim_deadline": claim.claim_deadline,
        "decided_outcome": decided.outcome.value,
        "decided_clauses": list(decided.clauses),
        "decided_policy_version": decided.policy_version,
    }
    if claim.status == "closed":
        return _decision(
            Outcome.ANSWERED, [Reason("case_closed", "WAR-6", values)], policy, values=values, case_id=claim.case_id
        )
    if claim.claim_deadline is not None and policy.local_date(now) > claim.claim_deadline:
        values["claim_window_days"] = policy.warranty.claim_window_days
        return _claim_window_passed(values, policy, claim.case_id)
    code = _PURCHASE_ANSWERS.get(decided.outcome)
    if code is None or not decided.reasons:
        raise InvalidRequest(f"claim {claim.case_id}: a {decided.outcome.value!r} decision opens no case")
    # the answer first, then the claim's own reasons: the payload cites every clause the claim was decided on
    return _decision(
        Outcome.ANSWERED,
        [Reason(code, decided.reasons[0].clause, values), *decided.reasons],
        policy,
        values=values,
        next_steps=decided.next_steps,
        case_id=claim.case_id,
    )
