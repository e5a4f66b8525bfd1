"""Refund status: REF-1..4 and the inspection findings (RET-6, RET-8, RET-9, RET-12); the refund record's
transitions."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from decimal import Decimal

import pytest

from policy_engine import InvalidRequest, OrderStatus, Outcome, decide_refund_status
from policy_engine.core.refunds import (
    INSPECTION_FINDINGS,
    REASON_CODES,
    check_inspection,
    inspection_changes,
    inspection_record,
    issue_changes,
    issue_record,
    refunded_so_far,
)


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
    d = decide_refund_status(
        make_order(), make_refund(item_received_at="2024-03-08 09:00"), policy, at("2024-03-10 10:00")
    )
    assert d.primary_reason.code == "awaiting_inspection" and d.primary_reason.clause == "RET-6"


def test_friday_inspection_expects_refund_wednesday_to_friday_REF_3(policy, make_order, make_refund, at):
    """REF-3: 3..5 business days, weekend skipped: inspected Friday 8 March -> Wed 13 .. Fri 15 March."""
    refund = make_refund(item_received_at="2024-03-07 09:00", inspected_at="2024-03-08 15:00", inspection_passed=True)
    d = decide_refund_status(make_order(), refund, policy, at("2024-03-11 10:00"))
    assert d.primary_reason.code == "refund_processing" and d.primary_reason.clause == "REF-3"
    assert (str(d.values["expected_from"]), str(d.values["expected_by"])) == ("2024-03-13", "2024-03-15")
    assert "original_payment_method" in d.reason_codes  # REF-2


def test_refund_becomes_overdue_the_day_after_the_latest_date_REF_3(policy, make_order, make_refund, at):
    refund = make_refund(item_received_at="2024-03-07 09:00", inspected_at="2024-03-08 15:00", inspection_passed=True)
    on_time = decide_refund_status(make_order(), refund, policy, at("2024-03-15 23:59"))
    late = decide_refund_status(make_order(), refund, policy, at("2024-03-16 00:00"))
    assert on_time.primary_reason.code == "refund_processing"
    assert late.primary_reason.code == "refund_overdue"
    assert late.next_steps[0].code == "contact_support"


def test_issued_refund_goes_to_original_payment_method_and_is_not_repeated_REF_2_REF_4(
    policy, make_order, make_refund, at
):
    """REF-2 the original payment method; REF-4 no duplicate refund."""
    refund = make_refund(
        payment_method="paypal",
        item_received_at="2024-03-07 09:00",
        inspected_at="2024-03-08 15:00",
        inspection_passed=True,
        issued_at="2024-03-12 10:00",
    )
    d = decide_refund_status(make_order(), refund, policy, at("2024-03-20 10:00"))
    assert d.reason_codes == ("refund_issued", "no_duplicate_refund")
    assert d.clauses == ("REF-2", "REF-4")
    assert d.values["payment_method"] == "paypal"


@pytest.mark.parametrize(
    "finding,clause",
    [
        ("altered_label", "RET-8"),
        ("incorrect_item", "RET-8"),
        ("empty_package", "RET-8"),
        ("transit_damage_buyer_risk", "RET-9"),
        ("personal_item", "RET-12"),
        (None, "REF-1"),
    ],
)
def test_inspection_failed_cites_the_finding_RET_8_RET_9_RET_12(policy, make_order, make_refund, at, finding, clause):
    """RET-8 altered label / incorrect item / empty package: no refund; RET-9 transit damage on a non-quality
    return; RET-12 personal or unrelated items."""
    refund = make_refund(
        item_received_at="2024-03-07 09:00",
        inspected_at="2024-03-08 15:00",
        inspection_passed=False,
        inspection_finding=finding,
    )
    d = decide_refund_status(make_order(), refund, policy, at("2024-03-11 10:00"))
    assert d.outcome is Outcome.DENIED
    assert d.reason_codes == ("inspection_failed",) and d.clauses[0] == clause
    assert set(d.reason_codes) <= set(REASON_CODES)
    assert finding is None or finding in INSPECTION_FINDINGS


def test_refund_for_another_order_is_an_error(policy, make_order, make_refund, at):
    with pytest.raises(InvalidRequest):
        decide_refund_status(make_order(), make_refund(order_number="AK7654321"), policy, at("2024-03-11 10:00"))


# ------------------------------------------------------------------------ the refund record's transitions (pure)

_NOW = datetime(2024, 3, 10, 10, 0, tzinfo=timezone.utc)


@dataclass
class _Record:
    amount: Decimal = Decimal("10.00")
    status: str = "awaiting_item"
    item_received_at: datetime | None = None
    inspected_at: datetime | None = None
    inspection_passed: bool | None = None
    inspection_finding: str | None = None
    issued_at: datetime | None = None


def _apply(record, changes):
    for column, value in changes.items():
        setattr(record, column, value)
    return record


def test_inspection_moves_awaiting_to_inspected_or_rejected_RET_6():
    passed = _apply(_Record(), inspection_changes(_Record(), True, None, _NOW))
    assert (passed.status, passed.inspected_at, passed.item_received_at) == ("inspected", _NOW, _NOW)
    failed = _apply(_Record(), inspection_changes(_Record(), False, "altered_label", _NOW))
    assert (failed.status, failed.inspection_passed, failed.inspection_finding) == ("rejected", False, "altered_label")
    arrived = _Record(item_received_at=datetime(2024, 3, 1, tzinfo=timezone.utc))
    assert "item_received_at" not in inspection_changes(arrived, True, None, _NOW)


def test_inspection_arguments_are_checked():
    for passed, finding in ((None, None), (True, "altered_label"), (False, "unheard_of")):
        with pytest.raises(InvalidRequest):
            check_inspection(passed, finding)
    check_inspection(False, None)


def test_inspection_record_picks_the_pending_one_or_answers_a_repeat():
    pending = _Record()
    assert inspection_record([pending], True, None, "AK1000001") == (pending, False)
    done = _apply(_Record(), inspection_changes(_Record(), True, None, _NOW))
    assert inspection_record([done], True, None, "AK1000001") == (done, True)
    with pytest.raises(InvalidRequest, match="already recorded"):
        inspection_record([done], False, "damaged", "AK1000001")
    with pytest.raises(InvalidRequest, match="give line_id"):
        inspection_record([_Record(), _Record()], True, None, "AK1000001")
    with pytest.raises(InvalidRequest, match="no refund awaiting inspection"):
        inspection_record([], True, None, "AK1000001")


def test_a_refund_is_issued_only_after_a_passed_inspection_REF_1_and_once_REF_4():
    with pytest.raises(InvalidRequest, match="the item has not arrived"):
        issue_record([_Record()], "AK1000001")
    with pytest.raises(InvalidRequest, match="inspection is pending"):
        issue_record([_Record(item_received_at=_NOW)], "AK1000001")
    rejected = _apply(_Record(), inspection_changes(_Record(), False, "empty_package", _NOW))
    with pytest.raises(InvalidRequest, match=r"failed inspection \(empty_package\).*REF-1"):
        issue_record([rejected], "AK1000001")
    with pytest.raises(InvalidRequest, match="no refund record"):
        issue_record([], "AK1000001")
    inspected = _apply(_Record(), inspection_changes(_Record(), True, None, _NOW))
    assert issue_record([inspected], "AK1000001") == (inspected, False)
    _apply(inspected, issue_changes(_NOW))
    assert inspected.status == "issued" and issue_record([inspected], "AK1000001") == (inspected, True)
    assert refunded_so_far([inspected, _Record(amount=Decimal("5"))]) == Decimal("10.00")
