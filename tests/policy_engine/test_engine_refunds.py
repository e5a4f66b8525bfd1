"""Refund status: REF-1..4 and the inspection findings (RET-6, RET-8, RET-9, RET-12)."""
from __future__ import annotations

import pytest

from policy_engine import InvalidRequest, OrderStatus, Outcome, decide_refund_status
from policy_engine.refunds import INSPECTION_FINDINGS, REASON_CODES


def test_no_refund_record_means_nothing_in_progress_REF_1(policy, make_order, at):
    d = decide_refund_status(make_order(), None, policy, at("2024-03-10 10:00"))
    assert d.outcome is Outcome.ANSWERED and d.reason_codes == ("no_refund_in_progress",)


def test_cancelled_order_refund_needs_no_return_REF_2(policy, make_order, make_refund, at):
    """REF-2: a cancelled order's refund goes to the original payment method; nothing to ship back or inspect."""
    order = make_order(status=OrderStatus.CANCELLED, payment_method="paypal")
    d = decide_refund_status(order, None, policy, at("2024-03-10 10:00"))
    assert d.reason_codes == ("cancellation_refund",) and d.clauses == ("REF-2",)
    assert d.values["payment_method"] == "paypal"
    issued = make_refund(issued_at="2024-03-02 10:00")
    assert decide_refund_status(order, issued, policy, at("2024-03-10 10:00")).reason_codes[0] == "refund_issued"


def test_awaiting_the_returned_item_REF_1(policy, make_order, make_refund, at):
    """REF-1: refunds are issued once the returned item has arrived and passed inspection."""
    d = decide_refund_status(make_order(), make_refund(), policy, at("2024-03-10 10:00"))
    assert d.reason_codes == ("awaiting_returned_item", "original_payment_method")
    assert d.clauses == ("REF-1", "REF-2", "RET-6")


def test_received_awaiting_inspection_RET_6(policy, make_order, make_refund, at):
    """RET-6: the refund process starts once the item arrives and passes inspection."""
    d = decide_refund_status(make_order(), make_refund(item_received_at="2024-03-08 09:00"), policy,
                             at("2024-03-10 10:00"))
    assert d.primary_reason.code == "awaiting_inspection" and d.primary_reason.clause == "RET-6"


def test_friday_inspection_expects_refund_wednesday_to_friday_REF_3(policy, make_order, make_refund, at):
    """REF-3: 3..5 business days, weekend skipped: inspected Friday 8 March -> Wed 13 .. Fri 15 March."""
    refund = make_refund(item_received_at="2024-03-07 09:00", inspected_at="2024-03-08 15:00",
                         inspection_passed=True)
    d = decide_refund_status(make_order(), refund, policy, at("2024-03-11 10:00"))
    assert d.primary_reason.code == "refund_processing" and d.primary_reason.clause == "REF-3"
    assert (str(d.values["expected_from"]), str(d.values["expected_by"])) == ("2024-03-13", "2024-03-15")
    assert "original_payment_method" in d.reason_codes  # REF-2


def test_refund_becomes_overdue_the_day_after_the_latest_date_REF_3(policy, make_order, make_refund, at):
    refund = make_refund(item_received_at="2024-03-07 09:00", inspected_at="2024-03-08 15:00",
                         inspection_passed=True)
    on_time = decide_refund_status(make_order(), refund, policy, at("2024-03-15 23:59"))
    late = decide_refund_status(make_order(), refund, policy, at("2024-03-16 00:00"))
    assert on_time.primary_reason.code == "refund_processing"
    assert late.primary_reason.code == "refund_overdue"
    assert late.next_steps[0].code == "contact_support"


def test_issued_refund_goes_to_original_payment_method_and_is_not_repeated_REF_2_REF_4(
        policy, make_order, make_refund, at):
    """REF-2 the original payment method; REF-4 no duplicate refund."""
    refund = make_refund(payment_method="paypal", item_received_at="2024-03-07 09:00",
                         inspected_at="2024-03-08 15:00", inspection_passed=True, issued_at="2024-03-12 10:00")
    d = decide_refund_status(make_order(), refund, policy, at("2024-03-20 10:00"))
    assert d.reason_codes == ("refund_issued", "no_duplicate_refund")
    assert d.clauses == ("REF-2", "REF-4")
    assert d.values["payment_method"] == "paypal"


@pytest.mark.parametrize("finding,clause", [
    ("altered_label", "RET-8"), ("incorrect_item", "RET-8"), ("empty_package", "RET-8"),
    ("transit_damage_buyer_risk", "RET-9"), ("personal_item", "RET-12"), (None, "REF-1"),
])
def test_inspection_failed_cites_the_finding_RET_8_RET_9_RET_12(policy, make_order, make_refund, at, finding, clause):
    """RET-8 altered label / incorrect item / empty package: no refund; RET-9 transit damage on a non-quality
    return; RET-12 personal or unrelated items."""
    refund = make_refund(item_received_at="2024-03-07 09:00", inspected_at="2024-03-08 15:00",
                         inspection_passed=False, inspection_finding=finding)
    d = decide_refund_status(make_order(), refund, policy, at("2024-03-11 10:00"))
    assert d.outcome is Outcome.DENIED
    assert d.reason_codes == ("inspection_failed",) and d.clauses[0] == clause
    assert set(d.reason_codes) <= set(REASON_CODES)
    assert finding is None or finding in INSPECTION_FINDINGS


def test_refund_for_another_order_is_an_error(policy, make_order, make_refund, at):
    with pytest.raises(InvalidRequest):
        decide_refund_status(make_order(), make_refund(order_number="AK7654321"), policy, at("2024-03-11 10:00"))
