"""Warranty claims: WAR-1..22, for web-store orders and for purchases from resellers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from policy_engine import InvalidRequest, Outcome, ProofOfPurchase, Purchase, WarrantyRequest, decide_warranty
from policy_engine.core.warranty import REASON_CODES
from policy_engine.core.warranty_terms import claim_deadline, partial_refund_amount, replacement_warranty_until

SERIAL = "A2633C1F23100457"


def claim(**kw) -> WarrantyRequest:
    """A complete quality claim: troubleshooting done, serial number given."""
    kw.setdefault("line_id", 1)
    kw.setdefault("serial_number", SERIAL)
    kw.setdefault("defect", "does not charge")
    kw.setdefault("cause", "quality")
    kw.setdefault("troubleshooting_done", True)
    return WarrantyRequest(**kw)


@pytest.fixture
def order(make_order):
    """A charger (18 months) bought on 15 January 2024: last covered day 15 July 2025."""
    return make_order(placed_at="2024-01-15 10:00")


def purchase(make_product, **kw) -> Purchase:
    kw.setdefault("product", make_product())
    kw.setdefault("purchased_on", date(2024, 1, 15))
    kw.setdefault("country", "US")
    kw.setdefault("price", Decimal("49.99"))
    kw.setdefault("channel", "Amazon")
    kw.setdefault("proof", ProofOfPurchase.RECEIPT)
    return Purchase(**kw)


def steps(d) -> list[str]:
    return [s.code for s in d.next_steps]


# ---------------------------------------------------------------------------------------------- period


def test_quality_defect_is_covered_on_the_last_day_of_warranty_WAR_1(policy, order, at):
    """WAR-1: covered from the purchase date for the product's period; the last day (15 July 2025) is inside."""
    d = decide_warranty(order, claim(), policy, at("2025-07-15 23:00"))
    assert d.outcome is Outcome.APPROVED
    assert d.primary_reason.code == "covered" and d.primary_reason.clause == "WAR-1"
    assert str(d.values["warranty_end"]) == "2025-07-15"
    assert set(d.reason_codes) <= set(REASON_CODES)


def test_day_after_the_warranty_end_is_not_covered_WAR_14(policy, order, at):
    d = decide_warranty(order, claim(), policy, at("2025-07-16 00:30"))
    assert d.outcome is Outcome.DENIED
    assert d.reason_codes == ("outside_warranty_period",) and d.clauses == ("WAR-14",)


def test_sku_override_sets_the_period_WAR_1(policy, make_order, make_line, at):
    """WAR-1: the SKU A1761 has 60 months in the policy file."""
    order = make_order(placed_at="2024-01-15 10:00", lines=(make_line(sku="A1761", category="power_station"),))
    d = decide_warranty(order, claim(serial_number=None, evidence_provided=True), policy, at("2028-06-01 10:00"))
    assert d.outcome is Outcome.APPROVED and d.values["warranty_months"] == 60


def test_paid_extended_warranty_adds_its_years_to_an_18_month_charger_WAR_21(policy, make_order, make_line, at):
    """WAR-21 reading: a 3-year plan on an 18-month charger covers 18 + 36 = 54 months from purchase."""
    order = make_order(placed_at="2024-01-15 10:00", lines=(make_line(extended_warranty_years=3),))
    inside = decide_warranty(order, claim(), policy, at("2028-07-15 12:00"))
    assert inside.outcome is Outcome.APPROVED and inside.values["warranty_months"] == 54
    assert "extended_warranty" in inside.reason_codes and "WAR-21" in inside.clauses
    outside = decide_warranty(order, claim(), policy, at("2028-07-16 12:00"))
    assert outside.reason_codes == ("outside_warranty_period",)


@pytest.mark.parametrize("years", [1, 2, 3])
def test_every_plan_that_can_be_bought_extends_the_cover_WAR_21(policy, make_order, make_line, at, years):
    """WAR-21: no plan is worthless: an 18-month charger and a 60-month power station both gain N years."""
    for sku, category, base in (("A2633", "charger", 18), ("A1761", "power_station", 60)):
        plain = make_order(placed_at="2024-01-15 10:00", lines=(make_line(sku=sku, category=category),))
        plan = make_order(
            placed_at="2024-01-15 10:00",
            lines=(make_line(sku=sku, category=category, extended_warranty_years=years),),
        )
        now = at("2024-02-01 10:00")
        without = decide_warranty(plain, claim(), policy, now).values["warranty_months"]
        with_plan = decide_warranty(plan, claim(), policy, now).values["warranty_months"]
        assert without == base and with_plan == base + 12 * years, (sku, years)


def test_a_one_year_plan_on_a_60_month_power_station_covers_year_six_WAR_21(policy, make_order, make_line, at):
    """WAR-21: 60 + 12 months; a claim in month 65 is covered, one after month 72 is not (WAR-14)."""
    line = make_line(sku="A1761", category="power_station", extended_warranty_years=1)
    order = make_order(placed_at="2024-01-15 10:00", lines=(line,))
    covered = decide_warranty(order, claim(serial_number=None, evidence_provided=True), policy, at("2029-06-15 10:00"))
    assert covered.outcome is Outcome.APPROVED and covered.values["warranty_months"] == 72
    late = decide_warranty(order, claim(serial_number=None, evidence_provided=True), policy, at("2030-01-16 10:00"))
    assert late.reason_codes == ("outside_warranty_period",) and late.clauses == ("WAR-14",)


def test_extended_warranty_beyond_the_maximum_is_an_error_WAR_21(policy, make_order, make_line, at):
    order = make_order(lines=(make_line(extended_warranty_years=4),))
    with pytest.raises(InvalidRequest, match="extended_warranty_years"):
        decide_warranty(order, claim(), policy, at("2024-03-01 10:00"))


def test_claim_deadline_is_the_warranty_end_when_later_WAR_10(policy, order, at):
    """WAR-10: opened 1 Jan 2025 (+90 = 1 Apr 2025), warranty ends 15 Jul 2025: deadline 15 Jul 2025."""
    request = claim(claim_opened_at=at("2025-01-01 10:00"))
    on_deadline = decide_warranty(order, request, policy, at("2025-07-15 22:00"))
    assert on_deadline.outcome is Outcome.APPROVED
    assert str(on_deadline.values["claim_deadline"]) == "2025-07-15"
    after = decide_warranty(order, request, policy, at("2025-07-16 09:00"))
    assert after.reason_codes == ("claim_window_passed",) and after.clauses == ("WAR-10",)


def test_claim_deadline_is_opened_plus_90_days_when_later_WAR_10(policy, order, at):
    """WAR-10: opened 1 Jul 2025 (warranty ends 15 Jul): deadline = 29 Sep 2025, refused from 30 Sep."""
    request = claim(claim_opened_at=at("2025-07-01 10:00"))
    on_deadline = decide_warranty(order, request, policy, at("2025-09-29 20:00"))
    assert on_deadline.outcome is Outcome.APPROVED
    assert str(on_deadline.values["claim_deadline"]) == "2025-09-29"
    assert decide_warranty(order, request, policy, at("2025-09-30 08:00")).reason_codes == ("claim_window_passed",)
    assert claim_deadline(date(2025, 7, 15), date(2025, 7, 1), policy) == date(2025, 9, 29)
    assert claim_deadline(date(2025, 7, 15), date(2025, 1, 1), policy) == date(2025, 7, 15)


# ---------------------------------------------------------------------------------------------- exclusions


@pytest.mark.parametrize(
    "cause,code,clause",
    [
        ("wear", "normal_wear", "WAR-11"),
        ("lost_or_stolen", "lost_or_stolen", "WAR-13"),
        ("third_party_repair", "third_party_repair", "WAR-17"),
        ("external_damage", "external_damage", "WAR-18"),
        ("misuse", "misuse", "WAR-19"),
    ],
)
def test_each_exclusion_has_its_own_reason_WAR_11_WAR_13_WAR_17_WAR_18_WAR_19(policy, order, at, cause, code, clause):
    """WAR-11 wear, WAR-13 lost or stolen, WAR-17 third-party repairs, WAR-18 external damage, WAR-19 misuse."""
    d = decide_warranty(order, claim(cause=cause), policy, at("2024-06-01 10:00"))
    assert d.outcome is Outcome.DENIED
    assert d.reason_codes == (code,) and d.clauses == (clause,)


def test_free_products_and_giveaways_are_not_covered_WAR_16(policy, make_order, make_line, at):
    order = make_order(placed_at="2024-01-15 10:00", lines=(make_line(free_gift=True, unit_price="0"),))
    d = decide_warranty(order, claim(), policy, at("2024-06-01 10:00"))
    assert d.reason_codes == ("free_or_promotional",) and d.clauses == ("WAR-16",)


def test_unauthorised_reseller_is_not_covered_WAR_20(policy, make_product, at):
    p = purchase(make_product, channel="Gadget Bazaar", proof=ProofOfPurchase.INVOICE)
    d = decide_warranty(None, claim(line_id=None), policy, at("2024-06-01 10:00"), purchase=p)
    assert d.outcome is Outcome.DENIED and d.primary_reason.code == "unauthorised_reseller"
    assert d.primary_reason.clause == "WAR-20"


def test_non_quality_issue_reported_on_day_30_goes_to_returns_day_31_refused_WAR_15(policy, order, at):
    """WAR-15: non-quality issues reported more than 30 days after purchase are not covered."""
    day30 = decide_warranty(order, claim(cause="non_quality"), policy, at("2024-02-14 10:00"))
    assert day30.reason_codes == ("non_quality_use_return",)
    assert steps(day30) == ["initiate_return"]
    day31 = decide_warranty(order, claim(cause="non_quality"), policy, at("2024-02-15 10:00"))
    assert day31.reason_codes == ("non_quality_reported_late",) and day31.clauses == ("WAR-15",)


def test_warranty_void_outside_country_of_purchase_WAR_2(policy, order, at):
    """WAR-2: only in the country of purchase; void when shipped internationally."""
    moved = decide_warranty(order, claim(country_now="Germany"), policy, at("2024-06-01 10:00"))
    assert moved.reason_codes == ("outside_country_of_purchase",) and moved.clauses == ("WAR-2",)
    home = decide_warranty(order, claim(country_now="United States"), policy, at("2024-06-01 10:00"))
    assert home.outcome is Outcome.APPROVED
    shipped = decide_warranty(order, claim(shipped_internationally=True), policy, at("2024-06-01 10:00"))
    assert shipped.reason_codes == ("shipped_internationally",)


def test_all_exclusions_are_listed(policy, order, at):
    d = decide_warranty(order, claim(cause="misuse", country_now="FR"), policy, at("2026-01-01 10:00"))
    assert d.reason_codes == ("misuse", "outside_country_of_purchase", "outside_warranty_period")


# ---------------------------------------------------------------------------------------------- proof


def test_web_store_order_is_its_own_proof_WAR_9(policy, order, at):
    """WAR-9: order number and original shipping address (the verified web-store order)."""
    d = decide_warranty(order, claim(), policy, at("2024-06-01 10:00"))
    proof = next(r for r in d.reasons if r.code == "proof_valid")
    assert proof.clause == "WAR-9" and proof.values["proof"] == "order_number_and_address"


@pytest.mark.parametrize(
    "proof,channel",
    [(ProofOfPurchase.RECEIPT, "Amazon"), (ProofOfPurchase.INVOICE, "Best Buy"), (ProofOfPurchase.RECEIPT, "best-buy")],
)
def test_reseller_receipt_or_invoice_is_valid_proof_WAR_9(policy, make_product, at, proof, channel):
    """WAR-9: a sales invoice with the seller and product; a dated receipt from an authorised reseller."""
    p = purchase(make_product, proof=proof, channel=channel)
    d = decide_warranty(None, claim(line_id=None), policy, at("2024-06-01 10:00"), purchase=p)
    assert d.outcome is Outcome.APPROVED
    assert d.values["price_paid"] == Decimal("49.99")


def test_incomplete_proof_is_not_valid_WAR_12(policy, make_product, at):
    """WAR-12: no valid proof of purchase (an invoice without the seller's name, an undated receipt)."""
    p = purchase(make_product, proof=ProofOfPurchase.INVOICE, proof_complete=False)
    d = decide_warranty(None, claim(line_id=None), policy, at("2024-06-01 10:00"), purchase=p)
    assert d.outcome is Outcome.DENIED and d.reason_codes == ("no_valid_proof",) and d.clauses == ("WAR-12",)
    order_proof_for_reseller = purchase(make_product, proof=ProofOfPurchase.ORDER_NUMBER_AND_ADDRESS)
    d2 = decide_warranty(None, claim(line_id=None), policy, at("2024-06-01 10:00"), purchase=order_proof_for_reseller)
    assert d2.reason_codes == ("no_valid_proof",)


def test_missing_proof_troubleshooting_and_serial_are_asked_for_WAR_6_WAR_7_WAR_9(policy, make_product, at):
    """WAR-7: proof of purchase, troubleshooting outcome, serial number and/or visual evidence; WAR-6: the Smart
    Help Center first."""
    p = purchase(make_product, proof=None)
    d = decide_warranty(
        None,
        claim(line_id=None, serial_number=None, troubleshooting_done=None),
        policy,
        at("2024-06-01 10:00"),
        purchase=p,
    )
    assert d.outcome is Outcome.NEEDS_INFORMATION
    assert d.missing == ("proof_of_purchase", "troubleshooting_outcome", "serial_number_or_evidence")
    assert d.reason_codes[0] == "information_missing" and d.clauses[0] == "WAR-7"
    assert "troubleshoot_first" in d.reason_codes and "proof_of_purchase_required" in d.reason_codes
    help_center = next(s for s in d.next_steps if s.code == "smart_help_center")
    assert help_center.clause == "WAR-6" and help_center.values["url"] == policy.warranty.smart_help_center_url


def test_troubleshooting_not_done_points_to_the_smart_help_center_WAR_6(policy, order, at):
    d = decide_warranty(order, claim(troubleshooting_done=False), policy, at("2024-06-01 10:00"))
    assert d.outcome is Outcome.NEEDS_INFORMATION and d.missing == ("troubleshooting_outcome",)
    assert steps(d) == ["smart_help_center"]


def test_visual_evidence_can_replace_the_serial_number_WAR_7(policy, order, at):
    d = decide_warranty(order, claim(serial_number=None, evidence_provided=True), policy, at("2024-06-01 10:00"))
    assert d.outcome is Outcome.APPROVED


def test_malformed_serial_number_is_asked_again_WAR_7(policy, order, at):
    d = decide_warranty(order, claim(serial_number="12345"), policy, at("2024-06-01 10:00"))
    assert d.outcome is Outcome.NEEDS_INFORMATION
    assert d.missing == ("serial_number",) and "serial_number_invalid" in d.reason_codes


def test_serial_number_not_on_the_order_goes_to_review_WAR_7(policy, make_order, make_line, at):
    order = make_order(placed_at="2024-01-15 10:00", lines=(make_line(serial_numbers=("A2633C1F23100999",)),))
    d = decide_warranty(order, claim(), policy, at("2024-06-01 10:00"))
    assert d.outcome is Outcome.NEEDS_REVIEW and d.reason_codes == ("serial_not_on_order",)
    ok = decide_warranty(order, claim(serial_number="a2633c1f23100999"), policy, at("2024-06-01 10:00"))
    assert ok.outcome is Outcome.APPROVED


# ---------------------------------------------------------------------------------------------- remedy


def test_refurbished_first_when_available_WAR_3_WAR_4_WAR_5(policy, make_order, make_line, at):
    """WAR-3 refurbished of equal value first; WAR-4 the replacement may differ; WAR-5 replacement warranty."""
    order = make_order(placed_at="2024-01-15 10:00", lines=(make_line(refurbished_available=True),))
    d = decide_warranty(order, claim(), policy, at("2024-06-01 10:00"))
    assert "remedy_refurbished" in d.reason_codes and d.values["remedy"] == "refurbished"
    assert {"replacement_may_differ", "replacement_warranty"} <= set(steps(d))
    assert {"WAR-3", "WAR-4", "WAR-5"} <= set(d.clauses)


def test_new_item_when_no_refurbished_WAR_3(policy, order, at):
    d = decide_warranty(order, claim(), policy, at("2024-06-01 10:00"))
    assert "remedy_new" in d.reason_codes


def test_partial_refund_when_no_replacement_never_above_price_WAR_3_WAR_22(policy, make_order, make_line, at):
    """WAR-3 partial refund by usage period; WAR-22 never above the original purchase price."""
    order = make_order(placed_at="2024-01-15 10:00", lines=(make_line(new_available=False, unit_price="54.00"),))
    d = decide_warranty(order, claim(), policy, at("2024-01-15 12:00"))
    assert "remedy_partial_refund" in d.reason_codes and "compensation_capped_at_price" in d.reason_codes
    assert "WAR-22" in d.clauses
    assert d.values["refund_amount"] == Decimal("54.00")  # unused on day 0: the whole price, not more
    later = decide_warranty(order, claim(), policy, at("2024-10-15 12:00"))
    assert Decimal("0") < later.values["refund_amount"] < Decimal("54.00")


def test_customer_may_prefer_a_partial_refund_WAR_3(policy, order, at):
    d = decide_warranty(order, claim(preferred_remedy="partial_refund"), policy, at("2024-06-01 10:00"))
    assert d.values["remedy"] == "partial_refund"


def test_process_steps_support_email_inspection_and_right_item_WAR_6_WAR_7_WAR_8(policy, order, at):
    """WAR-6 claims go through support email; WAR-7 may be returned for inspection; WAR-8 return the right
    item or the replacement's warranty is void."""
    d = decide_warranty(order, claim(), policy, at("2024-06-01 10:00"))
    codes = steps(d)
    assert codes[:3] == ["email_support", "return_for_inspection_possible", "return_the_defective_item"]
    assert [s.clause for s in d.next_steps[:3]] == ["WAR-6", "WAR-7", "WAR-8"]
    assert d.next_steps[0].values["email"] == "support@anker.com"


def test_replacement_warranty_is_the_longer_period_WAR_5(policy):
    """WAR-5: rest of the original warranty vs 90 days after the replacement ships, whichever ends later."""
    assert replacement_warranty_until(date(2025, 7, 15), date(2024, 6, 1), policy) == date(2025, 7, 15)
    assert replacement_warranty_until(date(2025, 7, 15), date(2025, 7, 1), policy) == date(2025, 9, 29)


def test_partial_refund_is_prorated_by_unused_period_WAR_3():
    assert partial_refund_amount(Decimal("100.00"), date(2024, 1, 1), date(2024, 12, 31), date(2024, 7, 1)) == Decimal(
        "50.13"
    )  # 183 unused of 365 days
    assert partial_refund_amount(Decimal("100.00"), date(2024, 1, 1), date(2024, 12, 31), date(2025, 3, 1)) == Decimal(
        "0.00"
    )


# ---------------------------------------------------------------------------------------------- bad input


def test_bad_cause_or_line_is_an_error(policy, order, at):
    with pytest.raises(InvalidRequest, match="cause"):
        decide_warranty(order, claim(cause="aliens"), policy, at("2024-06-01 10:00"))
    with pytest.raises(InvalidRequest, match="no line 4"):
        decide_warranty(order, claim(line_id=4), policy, at("2024-06-01 10:00"))
    with pytest.raises(InvalidRequest, match="order or a purchase"):
        decide_warranty(None, claim(), policy, at("2024-06-01 10:00"))
