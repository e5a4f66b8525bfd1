"""Where a refund stands (REF-1..4, RET-6, RET-8/9/12 at inspection), and how a refund record moves.

The state machine of a refund record (pure functions; ``service.py`` loads the records, applies the changes and
writes them): ``awaiting_item`` -> (warehouse inspection, RET-6) ``inspected`` (passed) or ``rejected`` (failed, with
the finding's clause) -> (REF-1: only after the item arrived and passed inspection) ``issued`` (REF-2), never twice
(REF-4).  ``inspection_record`` and ``issue_record`` pick the record a staff call acts on, or refuse with
``InvalidRequest``; ``inspection_changes`` and ``issue_changes`` are the column values of the transition.

REF-3: processing takes ``processing_business_days_min..max`` business days from the inspection date (policy
timezone), skipping weekends and the policy's holidays: inspected on a Friday -> Wednesday..Friday.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from functools import partial
from typing import Any, Protocol, TypeVar

from .calendar import business_day_range
from .decision import Decision, NextStep, Outcome, Reason, make_decision
from .errors import InvalidRequest
from .facts import Order, OrderStatus, RefundRecord
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

#: refund record states (``refunds.status`` column)
AWAITING_ITEM = "awaiting_item"
INSPECTED = "inspected"
REJECTED = "rejected"
ISSUED = "issued"


_decision = partial(make_decision, TOPIC)


def expected_refund_dates(inspected_at: datetime, policy: Policy) -> tuple[date, date]:
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
        paid_with = refund.payment_method if refund else order.payment_method
        return _decision(
            Outcome.ANSWERED,
            [Reason("cancellation_refund", "REF-2", {"payment_method": paid_with})],
            policy,
            values={"payment_method": paid_with},
        )
    if refund is None:
        return _decision(
            Outcome.ANSWERED,
            [Reason("no_refund_in_progress", "REF-1")],
            policy,
            next_steps=[NextStep("initiate_return", "RET-4")],
        )

    method = Reason(
        "original_payment_method", "REF-2", {"payment_method": refund.payment_method, "amount": refund.amount}
    )
    values = {"amount": refund.amount, "payment_method": refund.payment_method}

    if refund.issued_at is not None:
        issued = {**values, "issued_at": refund.issued_at}
        return _decision(
            Outcome.ANSWERED,
            [Reason("refund_issued", "REF-2", issued), Reason("no_duplicate_refund", "REF-4")],
            policy,
            values=issued,
        )
    if refund.item_received_at is None:
        return _decision(
            Outcome.ANSWERED,
            [Reason("awaiting_returned_item", "REF-1"), method],
            policy,
            values=values,
            next_steps=[NextStep("ship_item_back", "RET-6")],
        )
    if refund.inspected_at is None or refund.inspection_passed is None:
        return _decision(
            Outcome.ANSWERED,
            [Reason("awaiting_inspection", "RET-6", {"item_received_at": refund.item_received_at}), method],
            policy,
            values={**values, "item_received_at": refund.item_received_at},
            next_steps=[NextStep("warehouse_inspection", "RET-6")],
        )
    if not refund.inspection_passed:
        finding = refund.inspection_finding
        clause = INSPECTION_FINDINGS.get(finding or "", "REF-1")
        return _decision(
            Outcome.DENIED,
            [Reason("inspection_failed", clause, {"finding": finding})],
            policy,
            values={**values, "finding": finding},
            next_steps=[NextStep("contact_support", None, values={"email": policy.contacts.email})],
        )

    earliest, latest = expected_refund_dates(refund.inspected_at, policy)
    dated = {**values, "inspected_at": refund.inspected_at, "expected_from": earliest, "expected_by": latest}
    if today > latest:
        return _decision(
            Outcome.ANSWERED,
            [Reason("refund_overdue", "REF-3", dated), method],
            policy,
            values=dated,
            next_steps=[NextStep("contact_support", "REF-3", values={"email": policy.contacts.email})],
        )
    return _decision(
        Outcome.ANSWERED,
        [Reason("refund_processing", "REF-3", dated), method],
        policy,
        values=dated,
        next_steps=[NextStep("refund_expected", "REF-3", due=latest, values={"earliest": earliest, "latest": latest})],
    )


# ------------------------------------------------------------------------------------------------ transitions


class RefundState(Protocol):
    """What the transitions read of a refund record (``store.models.RefundRow``)."""

    amount: Decimal
    status: str
    item_received_at: datetime | None
    inspected_at: datetime | None
    inspection_passed: bool | None
    inspection_finding: str | None
    issued_at: datetime | None


R = TypeVar("R", bound=RefundState)


def check_inspection(passed: Any, finding: Any) -> None:
    """RET-6: an inspection passes or fails; a failed one may name a finding (``INSPECTION_FINDINGS``), a passed one
    names none (a finding refuses the refund)."""
    if not isinstance(passed, bool):
        raise InvalidRequest(f"passed must be true or false, got {passed!r}")
    if finding is not None and finding not in INSPECTION_FINDINGS:
        raise InvalidRequest(f"finding must be one of {sorted(INSPECTION_FINDINGS)}, got {finding!r}")
    if passed and finding is not None:
        raise InvalidRequest(f"a passed inspection has no finding (got {finding!r}): a finding refuses the refund")


def inspection_record(refunds: Sequence[R], passed: bool, finding: str | None, order_number: str) -> tuple[R, bool]:
    """The record an inspection acts on, oldest first in ``refunds``, and whether it is a repeat: the one record that
    awaits inspection (not inspected, not issued) -> ``(record, False)``; none, and the latest inspection recorded is
    the same -> ``(that record, True)`` (nothing changes).  Refused: several await inspection (give a line), none
    ever awaited one, or a different inspection is already recorded (it is not changed)."""
    pending = [r for r in refunds if r.inspected_at is None and r.issued_at is None]
    if len(pending) > 1:
        raise InvalidRequest(f"{len(pending)} refunds of order {order_number} await inspection: give line_id")
    if pending:
        return pending[0], False
    done = [r for r in refunds if r.inspected_at is not None]
    if not done:
        raise InvalidRequest(f"order {order_number} has no refund awaiting inspection")
    latest = done[-1]
    if (latest.inspection_passed, latest.inspection_finding) != (passed, finding):
        raise InvalidRequest(
            f"the inspection of order {order_number} is already recorded (passed={latest.inspection_passed}, "
            f"finding={latest.inspection_finding!r}); it is not changed here"
        )
    return latest, True


def inspection_changes(refund: RefundState, passed: bool, finding: str | None, now: datetime) -> dict[str, Any]:
    """RET-6: the columns an inspection sets: ``inspected`` (passed) or ``rejected`` (failed, with its finding).  An
    inspection implies the item arrived: ``item_received_at`` is set too when missing."""
    changes: dict[str, Any] = {}
    if refund.item_received_at is None:
        changes["item_received_at"] = now
    changes.update(
        inspected_at=now, inspection_passed=passed, inspection_finding=finding, status=INSPECTED if passed else REJECTED
    )
    return changes


def issue_record(refunds: Sequence[R], order_number: str) -> tuple[R, bool]:
    """The record a refund payment acts on, and whether it is a repeat: the one record neither issued nor rejected
    -> ``(record, False)`` once its item arrived and passed inspection (REF-1); none, and one was issued -> ``(the
    latest issued, True)`` (REF-4: nothing is paid or reversed again).  Refused: several open (give a line), the
    refund failed inspection, no record, or the item has not arrived / inspection is pending (REF-1)."""
    open_refunds = [r for r in refunds if r.issued_at is None and r.status != REJECTED]
    if len(open_refunds) > 1:
        raise InvalidRequest(f"{len(open_refunds)} refunds of order {order_number} are not issued yet: give line_id")
    if not open_refunds:
        issued = [r for r in refunds if r.issued_at is not None]
        if issued:
            return issued[-1], True
        if refunds:
            raise InvalidRequest(
                f"the refund of order {order_number} failed inspection "
                f"({refunds[-1].inspection_finding or 'no finding'}): nothing to issue (REF-1)"
            )
        raise InvalidRequest(f"order {order_number} has no refund record")
    refund = open_refunds[0]
    if refund.item_received_at is None or refund.inspected_at is None or refund.inspection_passed is not True:
        stage = "the item has not arrived" if refund.item_received_at is None else "inspection is pending"
        raise InvalidRequest(f"the refund of order {order_number} cannot be issued yet: {stage} (REF-1)")
    return refund, False


def issue_changes(now: datetime) -> dict[str, Any]:
    """REF-2: the columns a refund payment sets."""
    return {"issued_at": now, "status": ISSUED}


def refunded_so_far(refunds: Sequence[RefundState]) -> Decimal:
    """The amount of the order's refunds issued so far (CRD-11 reverses the whole order's credits once it reaches
    the order's qualifying amount)."""
    return sum((r.amount for r in refunds if r.issued_at is not None), Decimal("0"))
