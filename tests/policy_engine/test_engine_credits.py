"""AnkerCredits: CRD-1..14 (earning, the balance split, eligibility, rewards, reversal, redemption, rules)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from policy_engine import (
    InvalidRequest,
    LedgerKind,
    Outcome,
    credits_faq,
    credits_for_order,
    credits_summary,
    decide_credits_eligibility,
    decide_credits_redemption,
    decide_credits_reversal,
    decide_one_time_reward,
    summarise_ledger,
    validate_ledger_entry,
)
from policy_engine.core.credits import REASON_CODES
from policy_engine.core.credits_faq import FAQ_KEYS

P, S, PR = LedgerKind.PURCHASE, LedgerKind.SIGNUP, LedgerKind.PROFILE


# ------------------------------------------------------------------------------------------------ earning


def test_web_store_order_earns_credits_CRD_9(policy, make_order):
    d = credits_for_order(make_order(), policy)
    assert d.outcome is Outcome.APPROVED and d.primary_reason.code == "credits_earned"
    assert d.primary_reason.clause == "CRD-9"
    assert d.values["points"] == 59  # 59.99 at 1 credit per whole dollar, rounded down
    assert set(d.reason_codes) <= set(REASON_CODES)


def test_third_party_retailer_orders_earn_nothing_CRD_1(policy, make_order):
    d = credits_for_order(make_order(channel="Amazon"), policy)
    assert d.outcome is Outcome.DENIED and d.reason_codes == ("not_web_store_order",) and d.clauses == ("CRD-1",)


def test_must_be_logged_in_at_purchase_CRD_5(policy, make_order):
    d = credits_for_order(make_order(logged_in=False), policy)
    assert d.reason_codes == ("not_logged_in_at_purchase",) and d.clauses == ("CRD-5",)


def test_no_credits_before_programme_launch_CRD_8(policy, make_order):
    """CRD-8: launch 2023-06-01 (policy file): an order on 31 May 2023 earns nothing, on 1 June it earns."""
    before = credits_for_order(make_order(placed_at="2023-05-31 23:59"), policy)
    assert before.reason_codes == ("before_programme_launch",) and before.clauses == ("CRD-8",)
    assert credits_for_order(make_order(placed_at="2023-06-01 00:00"), policy).outcome is Outcome.APPROVED


def test_no_credits_on_shipping_tax_discounts_or_credits_applied_CRD_10(policy, make_order, make_line):
    order = make_order(
        lines=(
            make_line(unit_price="100.00"),
            make_line(line_id=2, unit_price="20.00", free_gift=True),
            make_line(line_id=3, unit_price="30.00", redeemed_with_credits=True),
        ),
        shipping=Decimal("10.00"),
        tax=Decimal("8.00"),
        discount=Decimal("15.00"),
        credits_applied=Decimal("5.00"),
    )
    d = credits_for_order(order, policy)
    assert d.values["points"] == 80 and d.values["qualifying_amount"] == Decimal("80.00")
    assert "shipping_tax_discounts_excluded" in d.reason_codes and "CRD-10" in d.clauses


def test_discount_covering_everything_earns_nothing_CRD_10(policy, make_order):
    d = credits_for_order(make_order(discount=Decimal("59.99")), policy)
    assert d.outcome is Outcome.DENIED and d.primary_reason.code == "no_qualifying_amount"


def test_earned_credits_unlock_on_day_30_and_expire_a_year_later_CRD_6_CRD_7(policy, make_order, at):
    d = credits_for_order(make_order(paid_at="2024-03-01 10:00"), policy)
    assert d.values["unlock_at"] == at("2024-03-31 00:00")
    assert d.values["expires_at"] == at("2025-03-31 00:00")
    assert [s.clause for s in d.next_steps] == ["CRD-6", "CRD-7"]


def test_unpaid_order_awaits_payment_before_the_unlock_clock_starts_CRD_6(policy, make_order):
    d = credits_for_order(make_order(paid_at=None), policy)
    assert d.values["unlock_at"] is None and [s.code for s in d.next_steps] == ["awaiting_payment"]


# ------------------------------------------------------------------------------------------------ the balance


@pytest.fixture
def purchase_ledger(make_entry):
    """100 credits from a payment on 1 March 2024 (unlock 31 March 2024, expire 31 March 2025) + signup 500."""
    return (
        make_entry(S, 500, created_at="2024-01-10 09:00"),
        make_entry(P, 100, created_at="2024-03-01 10:00", order_number="AK1234567"),
    )


def test_credits_locked_on_day_29_and_unlocked_on_day_30_CRD_6(policy, purchase_ledger, at):
    day29 = summarise_ledger(purchase_ledger, policy, at("2024-03-30 23:59"))
    assert (day29.locked, day29.available, day29.balance) == (100, 500, 600)
    assert day29.next_unlock_at == at("2024-03-31 00:00") and day29.next_unlock_points == 100
    day30 = summarise_ledger(purchase_ledger, policy, at("2024-03-31 00:00"))
    assert (day30.locked, day30.available, day30.balance) == (0, 600, 600)


def test_credits_expire_one_year_after_unlocking_CRD_7(policy, purchase_ledger, at):
    """CRD-7: unlocked 31 March 2024, still available on 30 March 2025, expired (deducted) on 31 March 2025."""
    last_day = summarise_ledger(purchase_ledger, policy, at("2025-03-30 23:59"))
    assert last_day.available == 100  # the 500 signup credits expired on 2025-01-10
    assert last_day.expiring_soon == 100 and last_day.pending_expiry == 500
    gone = summarise_ledger(purchase_ledger, policy, at("2025-03-31 00:00"))
    assert (gone.balance, gone.available, gone.pending_expiry) == (0, 0, 600)


def test_recorded_expiry_entry_writes_off_the_expired_lot_CRD_7(policy, purchase_ledger, make_entry, at):
    ledger = (*purchase_ledger, make_entry(LedgerKind.EXPIRY, -500, created_at="2025-01-10 01:00"))
    s = summarise_ledger(ledger, policy, at("2025-02-01 10:00"))
    assert (s.balance, s.pending_expiry) == (100, 0)
    assert sum(e.points for e in ledger) == s.balance + s.pending_expiry


def test_summary_decision_names_locked_and_expiring_CRD_6_CRD_7(policy, purchase_ledger, at):
    d = credits_summary(purchase_ledger, policy, at("2024-03-15 10:00"))
    assert d.outcome is Outcome.ANSWERED
    assert d.reason_codes == ("balance", "credits_locked")
    assert d.values["balance"] == 600 and d.values["locked"] == 100
    soon = credits_summary(purchase_ledger, policy, at("2024-12-20 10:00"))
    assert soon.reason_codes == ("balance", "credits_expiring_soon")
    assert soon.values["expiring_soon"] == 500 and soon.values["next_expiry_at"] == at("2025-01-10 00:00")


def test_redeeming_more_than_available_makes_the_ledger_invalid(policy, purchase_ledger, make_entry, at):
    too_much = make_entry(LedgerKind.REDEMPTION, -550, created_at="2024-03-10 10:00")  # 100 still locked
    with pytest.raises(InvalidRequest, match="negative"):
        validate_ledger_entry(purchase_ledger, too_much, policy)
    ok = make_entry(LedgerKind.REDEMPTION, -500, created_at="2024-03-10 10:00")
    validate_ledger_entry(purchase_ledger, ok, policy)


def test_bad_ledger_entries_are_rejected(policy, make_entry, at):
    with pytest.raises(InvalidRequest):
        summarise_ledger((make_entry(S, -500),), policy, at("2024-03-10 10:00"))
    with pytest.raises(InvalidRequest):
        summarise_ledger((make_entry(LedgerKind.REDEMPTION, 10),), policy, at("2024-03-10 10:00"))
    with pytest.raises(InvalidRequest, match="integer"):
        summarise_ledger((make_entry(P, 1.5),), policy, at("2024-03-10 10:00"))


# ------------------------------------------------------------------------------------------------ eligibility


@pytest.mark.parametrize(
    "region,birth_date,on,eligible",
    [
        ("EU", "2011-04-10", "2024-04-09 12:00", False),  # the day before turning 13
        ("EU", "2011-04-10", "2024-04-10 00:00", True),  # the 13th birthday
        ("US", "2010-04-10", "2024-04-09 12:00", False),  # 13 in the US is too young
        ("US", "2010-04-10", "2024-04-10 00:00", True),  # the 14th birthday
        ("BR", "2008-04-10", "2024-04-09 12:00", False),  # other regions: default 16
        ("BR", "2008-04-10", "2024-04-10 00:00", True),
    ],
)
def test_age_limits_by_region_CRD_2(policy, make_customer, at, region, birth_date, on, eligible):
    """CRD-2 reading: 'over 13 in the EU, over 14 in the US' = eligible from the 13th / 14th birthday."""
    d = decide_credits_eligibility(make_customer(region=region, birth_date=birth_date), policy, at(on))
    if eligible:
        assert d.outcome is Outcome.APPROVED and "CRD-2" in d.clauses
    else:
        assert d.outcome is Outcome.DENIED and d.reason_codes == ("under_minimum_age",)
        assert d.primary_reason.clause == "CRD-2"


def test_unknown_birth_date_is_asked_for_CRD_2(policy, make_customer, at):
    d = decide_credits_eligibility(make_customer(birth_date=None), policy, at("2024-04-10 10:00"))
    assert d.outcome is Outcome.NEEDS_INFORMATION and d.missing == ("birth_date",)


def test_account_holder_is_already_enrolled_and_joining_is_free_CRD_3(policy, make_customer, at):
    member = decide_credits_eligibility(make_customer(), policy, at("2024-04-10 10:00"))
    assert member.reason_codes[0] == "enrolled" and member.clauses[0] == "CRD-3"
    assert [s.code for s in member.next_steps] == ["complete_profile"]
    guest = decide_credits_eligibility(make_customer(registered_at=None), policy, at("2024-04-10 10:00"))
    assert guest.reason_codes[0] == "eligible_join_free"
    assert guest.next_steps[0].code == "register_account" and guest.next_steps[0].values["points"] == 500


# ------------------------------------------------------------------------------------------------ one-time rewards


def test_signup_reward_is_500_once_CRD_9(policy, make_customer, make_entry, at):
    customer = make_customer()
    first = decide_one_time_reward(customer, (), S, policy, at("2024-04-10 10:00"))
    assert first.outcome is Outcome.APPROVED and first.values["points"] == 500 and first.clauses == ("CRD-9",)
    again = decide_one_time_reward(customer, (make_entry(S, 500),), S, policy, at("2024-04-10 10:00"))
    assert again.outcome is Outcome.DENIED and again.reason_codes == ("reward_already_given",)


def test_profile_reward_needs_a_completed_profile_once_CRD_9(policy, make_customer, make_entry, at):
    incomplete = decide_one_time_reward(make_customer(), (), PR, policy, at("2024-04-10 10:00"))
    assert incomplete.outcome is Outcome.NEEDS_INFORMATION
    assert incomplete.missing == ("name", "phone_number", "birth_date")
    done = make_customer(profile_completed_at="2024-04-01 10:00")
    assert decide_one_time_reward(done, (), PR, policy, at("2024-04-10 10:00")).values["points"] == 100
    assert (
        decide_one_time_reward(done, (make_entry(PR, 100),), PR, policy, at("2024-04-10 10:00")).outcome
        is Outcome.DENIED
    )


# ------------------------------------------------------------------------------------------------ reversal


def test_cancellation_reverses_all_credits_of_the_order_CRD_11(policy, purchase_ledger, make_order, at):
    d = decide_credits_reversal(purchase_ledger, make_order(), policy, at("2024-03-05 10:00"), cause="cancellation")
    assert d.outcome is Outcome.APPROVED and d.reason_codes == ("credits_reversed",) and d.clauses == ("CRD-11",)
    assert d.values["points"] == 100
    assert d.next_steps[0].values == {"kind": "reversal", "points": -100, "order_number": "AK1234567"}


def test_price_adjustment_deducts_credits_of_the_refunded_amount_CRD_11(policy, purchase_ledger, make_order, at):
    d = decide_credits_reversal(
        purchase_ledger,
        make_order(),
        policy,
        at("2024-03-05 10:00"),
        cause="price_adjustment",
        refunded_amount=Decimal("12.50"),
    )
    assert d.reason_codes == ("credits_deducted_price_adjustment",) and d.values["points"] == 12
    assert d.next_steps[0].values["kind"] == "adjustment"


def test_reversal_never_makes_the_ledger_negative_CRD_11(policy, make_entry, make_order, at):
    ledger = (
        make_entry(P, 100, created_at="2024-03-01 10:00", order_number="AK1234567"),
        make_entry(LedgerKind.REDEMPTION, -80, created_at="2024-04-05 10:00"),
    )
    d = decide_credits_reversal(ledger, make_order(), policy, at("2024-04-10 10:00"), cause="return")
    assert d.values["points"] == 20 and d.values["shortfall"] == 80
    reversal = make_entry(LedgerKind.REVERSAL, -20, created_at="2024-04-10 10:00", order_number="AK1234567")
    validate_ledger_entry(ledger, reversal, policy)
    after = (*ledger, reversal)
    assert summarise_ledger(after, policy, at("2024-04-11 10:00")).balance == 0
    again = decide_credits_reversal(after, make_order(), policy, at("2024-04-11 10:00"), cause="return")
    assert again.outcome is Outcome.ANSWERED and again.reason_codes == ("nothing_to_reverse",)
    assert again.values == {"points": 0, "shortfall": 80}


def test_nothing_to_reverse_when_the_order_earned_nothing_CRD_11(policy, make_order, at):
    d = decide_credits_reversal((), make_order(), policy, at("2024-03-05 10:00"), cause="return")
    assert d.outcome is Outcome.ANSWERED and d.reason_codes == ("nothing_to_reverse",)


def test_reversal_input_is_checked(policy, make_order, at):
    with pytest.raises(InvalidRequest):
        decide_credits_reversal((), make_order(), policy, at("2024-03-05 10:00"), cause="gift")
    with pytest.raises(InvalidRequest):
        decide_credits_reversal((), make_order(), policy, at("2024-03-05 10:00"), cause="price_adjustment")
    with pytest.raises(InvalidRequest):
        decide_credits_reversal(
            (), make_order(), policy, at("2024-03-05 10:00"), cause="return", refunded_amount=Decimal("-1")
        )


# ------------------------------------------------------------------------------------------------ redemption


def test_redemption_uses_available_credits_only_CRD_12_CRD_13(policy, purchase_ledger, at):
    """CRD-12 redeem available credits (locked ones wait); CRD-13 redeemed products are not returnable."""
    ok = decide_credits_redemption(purchase_ledger, 500, policy, at("2024-03-15 10:00"))
    assert ok.outcome is Outcome.APPROVED
    assert ok.reason_codes == ("redemption_possible", "redeemed_not_returnable")
    assert ok.clauses == ("CRD-12", "CRD-13")
    assert [s.code for s in ok.next_steps] == [
        "redeem_in_account",
        "shipped_separately",
        "track_in_my_rewards",
        "report_damage_on_arrival",
    ]
    assert ok.next_steps[-1].values["days"] == 7
    too_much = decide_credits_redemption(purchase_ledger, 600, policy, at("2024-03-15 10:00"))
    assert too_much.outcome is Outcome.DENIED and too_much.reason_codes == ("insufficient_available_credits",)
    with pytest.raises(InvalidRequest):
        decide_credits_redemption(purchase_ledger, 0, policy, at("2024-03-15 10:00"))


# ------------------------------------------------------------------------------------------------ rules


@pytest.mark.parametrize(
    "key,code,clause",
    [
        ("cash_value", "no_cash_value", "CRD-4"),
        ("transfer", "not_transferable", "CRD-4"),
        ("merge_accounts", "accounts_cannot_merge", "CRD-4"),
        ("gift_card_anker", "gift_card_anker_customer_service", "CRD-14"),
        ("gift_card_third_party", "gift_card_third_party_provider", "CRD-14"),
        ("join_fee", "free_to_join", "CRD-3"),
        ("third_party_purchase", "earned_on_web_store_only", "CRD-1"),
        ("previous_transactions", "no_credits_before_launch", "CRD-8"),
        ("redeem", "how_to_redeem", "CRD-12"),
    ],
)
def test_programme_rules_CRD_4_CRD_14(policy, key, code, clause):
    """CRD-4 no cash value, no transfer, no merging; CRD-14 gift cards go to customer service / the provider."""
    d = credits_faq(key, policy)
    assert d.outcome is Outcome.ANSWERED and d.primary_reason.code == code and d.primary_reason.clause == clause


def test_every_faq_key_answers_with_declared_codes(policy):
    for key in FAQ_KEYS:
        assert set(credits_faq(key, policy).reason_codes) <= set(REASON_CODES)
    with pytest.raises(InvalidRequest):
        credits_faq("lottery", policy)
