"""Parcels lost, damaged or delayed: INS-1, INS-2, REF-4."""

from __future__ import annotations

import pytest

from policy_engine import InvalidRequest, OrderStatus, Outcome, TransitRequest, decide_transit
from policy_engine.core.transit import REASON_CODES


@pytest.mark.parametrize(
    "problem,status",
    [("lost", OrderStatus.SHIPPED), ("delayed", OrderStatus.SHIPPED), ("damaged", OrderStatus.DELIVERED)],
)
def test_worry_free_covers_lost_delayed_and_damaged_parcels_INS_1(policy, make_order, at, problem, status):
    order = make_order(status=status, worry_free_insurance=True)
    d = decide_transit(order, TransitRequest(problem), policy, at("2024-03-10 10:00"))
    assert d.outcome is Outcome.APPROVED
    assert d.primary_reason.code == "worry_free_covered" and d.primary_reason.clause == "INS-1"
    assert "REF-4" in d.clauses
    assert set(d.reason_codes) <= set(REASON_CODES)


def test_without_worry_free_a_person_reviews_INS_1(policy, make_order, at):
    d = decide_transit(make_order(status=OrderStatus.SHIPPED), TransitRequest("lost"), policy, at("2024-03-10 10:00"))
    assert d.outcome is Outcome.NEEDS_REVIEW and d.reason_codes == ("no_worry_free_insurance",)


def test_shipping_insurance_means_one_compensation_only_INS_2(policy, make_order, at):
    """INS-2: with shipping insurance applied, Worry-Free is not refunded separately; no double compensation."""
    order = make_order(status=OrderStatus.SHIPPED, worry_free_insurance=True, shipping_insurance=True)
    d = decide_transit(order, TransitRequest("lost"), policy, at("2024-03-10 10:00"))
    assert d.reason_codes == (
        "worry_free_covered",
        "single_compensation_with_shipping_insurance",
        "no_duplicate_compensation",
    )
    assert d.clauses == ("INS-1", "INS-2", "REF-4")


def test_no_duplicate_refund_or_reshipment_REF_4(policy, make_order, at):
    order = make_order(status=OrderStatus.SHIPPED, worry_free_insurance=True)
    d = decide_transit(order, TransitRequest("lost", already_compensated=True), policy, at("2024-03-10 10:00"))
    assert d.outcome is Outcome.DENIED and d.reason_codes == ("already_compensated",) and d.clauses == ("REF-4",)


def test_unshipped_order_is_not_in_transit(policy, make_order, at):
    d = decide_transit(
        make_order(status=OrderStatus.PLACED, worry_free_insurance=True),
        TransitRequest("delayed"),
        policy,
        at("2024-03-01 12:00"),
    )
    assert d.outcome is Outcome.DENIED and d.reason_codes == ("not_shipped_yet",)


def test_lost_parcel_marked_delivered_goes_to_review(policy, make_order, at):
    d = decide_transit(make_order(worry_free_insurance=True), TransitRequest("lost"), policy, at("2024-03-10 10:00"))
    assert d.outcome is Outcome.NEEDS_REVIEW and d.reason_codes == ("marked_delivered",)


def test_unknown_problem_is_an_error(policy, make_order, at):
    with pytest.raises(InvalidRequest, match="problem"):
        decide_transit(make_order(), TransitRequest("stolen"), policy, at("2024-03-10 10:00"))
