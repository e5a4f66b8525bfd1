"""Returns: RET-1..12 with the refund next steps REF-1..3 and the credits reversal CRD-11."""

from __future__ import annotations

from datetime import timezone
from decimal import Decimal

import pytest

from policy_engine import Campaign, InvalidRequest, OrderStatus, Outcome, ReturnRequest, decide_return
from policy_engine.core.returns import REASON_CODES, decide_return_requirements, refund_amount_for


def req(**kw) -> ReturnRequest:
    kw.setdefault("line_id", 1)
    kw.setdefault("quantity", 1)
    return ReturnRequest(**kw)


def step_codes(decision) -> list[str]:
    return [s.code for s in decision.next_steps]


# ------------------------------------------------------------------------------------------- RET-1 the window


def test_day_30_is_inside_the_window_RET_1(policy, make_order, at):
    """RET-1: placed 1 March (Pacific), any time on 31 March (day 30) is inside."""
    d = decide_return(make_order(placed_at="2024-03-01 10:00"), req(), policy, at("2024-03-31 23:59"))
    assert d.outcome is Outcome.APPROVED
    assert d.primary_reason.code == "return_eligible" and d.primary_reason.clause == "RET-1"
    assert d.values["days_since_purchase"] == 30
    assert str(d.values["deadline"]) == "2024-03-31"


def test_day_31_is_outside_the_window_RET_1(policy, make_order, at):
    """RET-1: day 31 (1 April from the first minute) is outside."""
    d = decide_return(make_order(placed_at="2024-03-01 10:00"), req(), policy, at("2024-04-01 00:00"))
    assert d.outcome is Outcome.DENIED
    assert d.reason_codes == ("return_window_passed",)
    assert d.clauses == ("RET-1",)


def test_window_counts_calendar_days_in_policy_timezone_RET_1(policy, make_order, at):
    """RET-1 reading: days count from placed_at's date in the policy timezone, whatever the clock's timezone."""
    order = make_order(placed_at="2024-03-01 23:30")  # = 2 March 07:30 UTC
    inside = at("2024-03-31 23:59").astimezone(timezone.utc)  # = 1 April 06:59 UTC
    assert decide_return(order, req(), policy, inside).outcome is Outcome.APPROVED
    outside = at("2024-04-01 00:01").astimezone(timezone.utc)
    assert decide_return(order, req(), policy, outside).outcome is Outcome.DENIED


def test_window_passed_with_quality_issue_points_to_warranty_RET_1(policy, make_order, at):
    d = decide_return(make_order(), req(quality_issue=True), policy, at("2024-05-01 10:00"))
    assert d.outcome is Outcome.DENIED
    assert "warranty_claim" in step_codes(d)


# ------------------------------------------------------------------------------------------- condition


@pytest.mark.parametrize("condition", ["unopened", "undamaged"])
def test_undamaged_or_unopened_item_is_returnable_RET_1(policy, make_order, at, condition):
    d = decide_return(make_order(), req(condition=condition), policy, at("2024-03-10 10:00"))
    assert d.outcome is Outcome.APPROVED


def test_damaged_item_is_not_a_no_questions_return_RET_1(policy, make_order, at):
    """RET-1 requires an undamaged product; a damaged item with a quality issue is pointed to the warranty."""
    d = decide_return(make_order(), req(condition="damaged"), policy, at("2024-03-10 10:00"))
    assert d.outcome is Outcome.DENIED and d.reason_codes == ("item_damaged",)
    assert "warranty_claim" not in step_codes(d)
    q = decide_return(make_order(), req(condition="damaged", quality_issue=True), policy, at("2024-03-10 10:00"))
    assert q.reason_codes == ("item_damaged",)
    assert "warranty_claim" in step_codes(q)
    assert "WAR-1" in q.clauses


# ------------------------------------------------------------------------------------------- bulk / corporate


def test_ten_units_is_not_bulk_RET_3(policy, make_order, make_line, at):
    order = make_order(lines=(make_line(quantity=10),))
    d = decide_return(order, req(quantity=1), policy, at("2024-03-10 10:00"))
    assert d.outcome is Outcome.APPROVED


def test_eleven_units_is_bulk_and_goes_to_review_RET_3(policy, make_order, make_line, at):
    order = make_order(lines=(make_line(quantity=11),))
    d = decide_return(order, req(quantity=1), policy, at("2024-03-10 10:00"))
    assert d.outcome is Outcome.NEEDS_REVIEW
    assert d.reason_codes == ("bulk_order",) and d.clauses[0] == "RET-3"
    assert d.primary_reason.values["units"] == 11


def test_bulk_counts_units_of_the_same_product_across_lines_RET_3(policy, make_order, make_line, make_product, at):
    charger = make_product()
    order = make_order(
        lines=(
            make_line(line_id=1, quantity=6, product=charger),
            make_line(line_id=2, quantity=5, product=charger),
            make_line(line_id=3, quantity=9, sku="A1289", category="cable"),
        )
    )
    assert decide_return(order, req(line_id=1), policy, at("2024-03-10 10:00")).reason_codes == ("bulk_order",)
    # 9 cables are not bulk, even though the order holds 20 units in all
    assert decide_return(order, req(line_id=3), policy, at("2024-03-10 10:00")).outcome is Outcome.APPROVED


def test_corporate_purchase_goes_to_review_RET_2(policy, make_order, at):
    """RET-2: corporate purchases may not be eligible; the bot does not decide, a person reviews."""
    d = decide_return(make_order(corporate=True), req(), policy, at("2024-03-10 10:00"))
    assert d.outcome is Outcome.NEEDS_REVIEW
    assert d.reason_codes == ("corporate_purchase",) and d.clauses[0] == "RET-2"


# ------------------------------------------------------------------------------------------- special purchases


@pytest.mark.parametrize("campaign", [Campaign.MYSTERY_BOX, Campaign.EARLY_BIRD])
def test_mystery_box_and_early_bird_have_own_terms_RET_7(policy, make_order, at, campaign):
    d = decide_return(make_order(campaign=campaign), req(), policy, at("2024-03-10 10:00"))
    assert d.outcome is Outcome.DENIED
    assert d.reason_codes == ("campaign_own_terms",) and d.clauses == ("RET-7",)


def test_redeemed_product_cannot_be_returned_RET_10_CRD_13(policy, make_order, make_line, at):
    """RET-10 / CRD-13: products redeemed with credits cannot be returned."""
    order = make_order(lines=(make_line(redeemed_with_credits=True, unit_price="0"),))
    d = decide_return(order, req(), policy, at("2024-03-10 10:00"))
    assert d.outcome is Outcome.DENIED and d.reason_codes == ("redeemed_with_credits",)
    assert d.clauses == ("RET-10",)


def test_redeemed_product_damaged_on_arrival_reported_within_7_days_RET_10_CRD_13(policy, make_order, make_line, at):
    """RET-10 / CRD-13: damage on arrival reported within 7 days of delivery (day 7 inside, day 8 not)."""
    order = make_order(lines=(make_line(redeemed_with_credits=True, unit_price="0"),), delivered_at="2024-03-05 12:00")
    day7 = decide_return(order, req(condition="damaged"), policy, at("2024-03-12 23:00"))
    assert day7.outcome is Outcome.NEEDS_REVIEW
    assert day7.reason_codes == ("redeemed_damaged_on_arrival",) and day7.clauses[0] == "CRD-13"
    day8 = decide_return(order, req(condition="damaged"), policy, at("2024-03-13 00:30"))
    assert day8.outcome is Outcome.DENIED and "redeemed_with_credits" in day8.reason_codes


def test_unauthorised_seller_is_not_covered_RET_11(policy, make_order, at):
    d = decide_return(make_order(channel="Cheap Gadgets Ltd"), req(), policy, at("2024-03-10 10:00"))
    assert d.outcome is Outcome.DENIED
    assert d.reason_codes == ("unauthorised_seller",) and d.clauses == ("RET-11",)


def test_authorised_reseller_purchase_is_returned_through_the_reseller_RET_11(policy, make_order, at):
    d = decide_return(make_order(channel="Best Buy"), req(), policy, at("2024-03-10 10:00"))
    assert d.outcome is Outcome.DENIED
    assert d.reason_codes == ("return_through_reseller",)
    assert "contact_reseller" in step_codes(d)


def test_denials_are_all_listed(policy, make_order, at):
    d = decide_return(
        make_order(campaign=Campaign.MYSTERY_BOX), req(condition="damaged"), policy, at("2024-05-10 10:00")
    )
    assert d.reason_codes == ("campaign_own_terms", "return_window_passed", "item_damaged")


# ------------------------------------------------------------------------------------------- order state


def test_cancelled_order_cannot_be_returned(policy, make_order, at):
    d = decide_return(make_order(status=OrderStatus.CANCELLED), req(), policy, at("2024-03-01 12:00"))
    assert d.outcome is Outcome.DENIED and d.reason_codes == ("order_cancelled",)


def test_unshipped_order_is_cancelled_not_returned_CAN_2(policy, make_order, at):
    d = decide_return(make_order(status=OrderStatus.PROCESSING), req(), policy, at("2024-03-01 12:00"))
    assert d.outcome is Outcome.DENIED and d.reason_codes == ("order_not_shipped",)
    assert {"cancel_order", "contact_support"} <= set(step_codes(d))


# ------------------------------------------------------------------------------------------- transit risk and steps


def test_quality_return_uses_prepaid_label_and_transit_is_covered_RET_8(policy, make_order, at):
    """RET-8: a return shipped with the prepaid label is covered for loss or damage in transit."""
    d = decide_return(make_order(), req(quality_issue=True), policy, at("2024-03-10 10:00"))
    assert d.reason_codes == ("return_eligible", "prepaid_label_transit_covered")
    ship = next(s for s in d.next_steps if s.code == "ship_item_back")
    assert ship.clause == "RET-8" and ship.values["label"] == "prepaid"


def test_non_quality_return_transit_risk_is_the_buyers_RET_9(policy, make_order, at):
    """RET-9: for a non-quality return the buyer carries the risk of damage or loss in transit."""
    d = decide_return(make_order(), req(quality_issue=False), policy, at("2024-03-10 10:00"))
    assert d.reason_codes == ("return_eligible", "transit_risk_buyer")
    assert "RET-9" in d.clauses
    ship = next(s for s in d.next_steps if s.code == "ship_item_back")
    assert ship.values["label"] == "own"


def test_next_steps_inspection_then_refund_to_original_payment_RET_6_REF_1_REF_2_REF_3_RET_12(policy, make_order, at):
    """RET-6 / REF-1: inspection comes before the refund; REF-2 original payment method; REF-3 3..5 business days
    after the (estimated) inspection; RET-12 only the approved item goes in the parcel."""
    d = decide_return(make_order(payment_method="paypal"), req(), policy, at("2024-03-04 10:00"))
    codes = step_codes(d)
    assert codes.index("ship_item_back") < codes.index("warehouse_inspection") < codes.index("refund_expected")
    assert "return_only_approved_item" in codes and "RET-12" in d.clauses
    refund = next(s for s in d.next_steps if s.code == "refund_to_original_payment")
    assert refund.clause == "REF-2" and refund.values["payment_method"] == "paypal"
    assert refund.values["amount"] == Decimal("59.99")
    inspected = next(s for s in d.next_steps if s.code == "warehouse_inspection").due
    expected = next(s for s in d.next_steps if s.code == "refund_expected")
    assert expected.clause == "REF-3"
    # 2024-03-04 + 7 days transit = Mon 11 March; + 2 business days = Wed 13 March; + 3..5 = Mon 18 .. Wed 20
    assert str(inspected) == "2024-03-13"
    assert (str(expected.values["earliest"]), str(expected.values["latest"])) == ("2024-03-18", "2024-03-20")


def test_credits_reversal_is_a_next_step_when_the_order_earned_credits_CRD_11(policy, make_order, at):
    earned = decide_return(make_order(), req(), policy, at("2024-03-10 10:00"))
    assert "credits_reversal" in step_codes(earned) and "CRD-11" in earned.clauses
    guest = decide_return(make_order(logged_in=False), req(), policy, at("2024-03-10 10:00"))
    assert "credits_reversal" not in step_codes(guest)


def test_partial_quantity_refund_shares_the_line_discount(make_line):
    line = make_line(quantity=3, unit_price="10.00", discount="1.00")
    assert refund_amount_for(line, 1) == Decimal("9.66")
    assert refund_amount_for(line, 3) == Decimal("29.00")


def test_refund_excludes_the_order_discount_and_credits_applied_REF_2(make_order, make_line):
    """REF-2: only what was paid with the original payment method goes back to it."""
    a, b = make_line(line_id=1, unit_price="60.00"), make_line(line_id=2, unit_price="40.00", sku="A1289")
    order = make_order(lines=(a, b), discount=Decimal("10.00"), credits_applied=Decimal("5.00"))
    assert refund_amount_for(a, 1, order) == Decimal("51.00")
    assert refund_amount_for(b, 1, order) == Decimal("34.00")


# ------------------------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("quantity", [0, -1, 2])
def test_quantity_out_of_range_is_a_clear_error(policy, make_order, at, quantity):
    with pytest.raises(InvalidRequest, match="quantity"):
        decide_return(make_order(), req(quantity=quantity), policy, at("2024-03-10 10:00"))


def test_unknown_line_and_bad_condition_are_errors(policy, make_order, at):
    with pytest.raises(InvalidRequest, match="no line 9"):
        decide_return(make_order(), req(line_id=9), policy, at("2024-03-10 10:00"))
    with pytest.raises(InvalidRequest, match="condition"):
        decide_return(make_order(), req(condition="broken"), policy, at("2024-03-10 10:00"))


def test_naive_clock_is_rejected(policy, make_order):
    from datetime import datetime

    with pytest.raises(InvalidRequest, match="timezone-aware"):
        decide_return(make_order(), req(), policy, datetime(2024, 3, 10, 10, 0))


def test_reason_codes_are_declared(policy, make_order, make_line, at):
    for order in (make_order(), make_order(corporate=True), make_order(campaign=Campaign.EARLY_BIRD)):
        d = decide_return(order, req(), policy, at("2024-03-10 10:00"))
        assert set(d.reason_codes) <= set(REASON_CODES)


# ------------------------------------------------------------------------------------------- RET-4 / RET-5


def test_return_needs_order_number_and_purchase_email_RET_4(policy):
    d = decide_return_requirements(None, "ada@example.com", policy)
    assert d.outcome is Outcome.NEEDS_INFORMATION
    assert d.missing == ("order_number",)
    assert d.primary_reason.clause == "RET-4"
    both = decide_return_requirements(None, None, policy)
    assert both.missing == ("order_number", "email")
    ok = decide_return_requirements("AK1234567", "ada@example.com", policy)
    assert ok.outcome is Outcome.ANSWERED and ok.missing == ()


def test_guest_without_order_number_registers_with_purchase_email_RET_5(policy):
    """RET-5: account holders use their order history; a guest registers with the purchase email."""
    guest = decide_return_requirements(None, "ada@example.com", policy, has_account=False)
    assert "guest_register_with_purchase_email" in guest.reason_codes
    assert [s.code for s in guest.next_steps] == ["register_with_purchase_email"]
    member = decide_return_requirements(None, "ada@example.com", policy, has_account=True)
    assert [s.code for s in member.next_steps] == ["manage_in_order_history"]
    assert member.next_steps[0].clause == "RET-5"
