"""Hypothesis properties: the credits ledger, refund amounts, and clause IDs cited by decisions."""

from __future__ import annotations

import json
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from functools import lru_cache, partial
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from policy_engine import (
    Campaign,
    InvalidRequest,
    LedgerEntry,
    LedgerKind,
    OrderStatus,
    ProofOfPurchase,
    Purchase,
    ReturnRequest,
    TransitRequest,
    WarrantyRequest,
    credits_for_order,
    credits_summary,
    decide_cancellation,
    decide_credits_eligibility,
    decide_credits_redemption,
    decide_credits_reversal,
    decide_refund_status,
    decide_return,
    decide_transit,
    decide_warranty,
    summarise_ledger,
)
from policy_engine.core.credits_faq import FAQ_KEYS, credits_faq
from policy_engine.core.returns import refund_amount_for
from policy_engine.core.warranty_request import CAUSES
from policy_engine.core.warranty_terms import partial_refund_amount

TZ = ZoneInfo("America/Los_Angeles")
START = datetime(2023, 7, 1, tzinfo=TZ)
SETTINGS = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

moments = st.integers(min_value=0, max_value=900 * 24 * 60).map(lambda m: START + timedelta(minutes=m))
money = st.decimals(min_value=Decimal("0"), max_value=Decimal("5000"), places=2, allow_nan=False, allow_infinity=False)


# ------------------------------------------------------------------------------------------- the ledger


@lru_cache(maxsize=1)
def _policy():
    from policy_engine.core.policy_file import load_policy

    return load_policy()


@st.composite
def ledgers(draw):
    """A ledger built the way the service builds one: earnings, then redemptions/reversals/expiries of at most
    what the summary says is there at that moment (never more)."""
    policy = _policy()
    entries: list[LedgerEntry] = []
    t = START
    for i in range(draw(st.integers(min_value=0, max_value=14))):
        t = t + timedelta(hours=draw(st.integers(min_value=1, max_value=24 * 60)))
        kind = draw(st.sampled_from(list(LedgerKind)))
        order = draw(st.sampled_from(["AK0000001", "AK0000002", None]))
        if kind in (LedgerKind.SIGNUP, LedgerKind.PROFILE, LedgerKind.PURCHASE):
            points = draw(st.integers(min_value=0, max_value=2000))
        else:
            s = summarise_ledger(entries, policy, t)
            cap = {LedgerKind.REDEMPTION: s.available, LedgerKind.EXPIRY: s.pending_expiry}.get(kind, s.balance)
            if cap == 0:
                continue
            points = -draw(st.integers(min_value=1, max_value=cap))
        entries.append(LedgerEntry(entry_id=i + 1, kind=kind, points=points, created_at=t, order_number=order))
    return entries, t + timedelta(days=draw(st.integers(min_value=0, max_value=800)))


@SETTINGS
@given(ledgers())
def test_ledger_summary_sums_to_the_balance_and_never_goes_negative_CRD_6_CRD_7(policy, data):
    """CRD-6 / CRD-7: locked + available == balance, expiring soon is part of available, nothing is negative, and
    the ledger's total is the balance plus the expired points not yet written off."""
    entries, now = data
    s = summarise_ledger(entries, policy, now)
    assert s.locked >= 0 and s.available >= 0 and s.expiring_soon >= 0 and s.pending_expiry >= 0
    assert s.balance == s.locked + s.available >= 0
    assert s.expiring_soon <= s.available
    assert sum(e.points for e in entries) == s.balance + s.pending_expiry
    assert all(isinstance(v, int) for v in (s.balance, s.locked, s.available, s.expiring_soon))
    d = credits_summary(entries, policy, now)
    assert d.values["balance"] == s.balance


@SETTINGS
@given(ledgers(), st.integers(min_value=1, max_value=5000))
def test_redemption_is_approved_only_within_available_credits_CRD_12(policy, data, points):
    entries, now = data
    s = summarise_ledger(entries, policy, now)
    d = decide_credits_redemption(entries, points, policy, now)
    assert (d.outcome.value == "approved") == (points <= s.available)


@SETTINGS
@given(ledgers(), st.one_of(st.none(), money))
def test_reversal_never_takes_the_ledger_below_zero_CRD_11(policy, make_order, data, amount):
    entries, now = data
    order = make_order(order_number="AK0000001")
    cause = "return" if amount is None else "price_adjustment"
    d = decide_credits_reversal(entries, order, policy, now, cause=cause, refunded_amount=amount)
    points = d.values["points"]
    assert 0 <= points <= summarise_ledger(entries, policy, now).balance
    if points:
        entry = LedgerEntry(
            entry_id=10_000, kind=LedgerKind.REVERSAL, points=-points, created_at=now, order_number="AK0000001"
        )
        assert summarise_ledger([*entries, entry], policy, now).balance >= 0


# ------------------------------------------------------------------------------------------- money


@SETTINGS
@given(st.integers(min_value=1, max_value=50), st.data(), money, money, money, money)
def test_return_refund_never_exceeds_what_was_paid_REF_4(
    make_line, make_order, quantity, data, unit, discount, order_discount, credits_applied
):
    """REF-4 / WAR-22: a (partial-quantity) refund is never more than the line's price paid, never negative, and
    the refunds of all units of all lines never add up to more than the order's merchandise paid."""
    line = make_line(quantity=quantity, unit_price=unit, discount=min(discount, unit * quantity))
    other = make_line(line_id=2, sku="A1289", unit_price=data.draw(money))
    merchandise = line.paid + other.paid
    order = make_order(
        lines=(line, other),
        discount=min(order_discount, merchandise),
        credits_applied=min(credits_applied, merchandise - min(order_discount, merchandise)),
    )
    returned = data.draw(st.integers(min_value=1, max_value=quantity))
    amount = refund_amount_for(line, returned, order)
    assert Decimal("0") <= amount <= refund_amount_for(line, returned) <= line.paid
    assert amount <= line.paid * returned / quantity
    whole = refund_amount_for(line, quantity, order) + refund_amount_for(other, 1, order)
    assert whole <= max(Decimal("0"), merchandise - order.discount - order.credits_applied)


@SETTINGS
@given(
    money,
    st.dates(min_value=date(2022, 1, 1), max_value=date(2026, 1, 1)),
    st.integers(min_value=0, max_value=2000),
    st.integers(min_value=-100, max_value=3000),
)
def test_partial_refund_never_exceeds_the_price_WAR_22(price, bought, length, used):
    """WAR-3 / WAR-22: the prorated partial refund is between 0 and the original purchase price."""
    end = bought + timedelta(days=length)
    amount = partial_refund_amount(price, bought, end, bought + timedelta(days=used))
    assert Decimal("0") <= amount <= price
    assert amount == amount.quantize(Decimal("0.01"))


@SETTINGS
@given(money, moments, st.booleans(), st.booleans(), st.sampled_from([None, "partial_refund"]))
def test_warranty_refund_never_exceeds_the_price_paid_WAR_22(
    policy, make_product, price, now, refurbished, new, preferred
):
    product = make_product(refurbished_available=refurbished, new_available=new)
    p = Purchase(
        product=product, purchased_on=START, country="US", price=price, channel="amazon", proof=ProofOfPurchase.RECEIPT
    )
    d = decide_warranty(
        None,
        WarrantyRequest(
            line_id=None,
            serial_number="A2633C1F23100457",
            cause="quality",
            troubleshooting_done=True,
            preferred_remedy=preferred,
        ),
        policy,
        now,
        purchase=p,
    )
    assert d.values.get("refund_amount", Decimal("0")) <= price


# ------------------------------------------------------------------------------------------- clause IDs


def _random_calls(policy, make_order, make_line, make_customer, make_refund, data):
    """``(name, call)`` for each decision function, its facts drawn up front; the test runs each call on its own."""
    draw = data.draw
    placed = draw(moments)
    now = placed + timedelta(minutes=draw(st.integers(min_value=0, max_value=1200 * 24 * 60)))
    status = draw(st.sampled_from(list(OrderStatus)))
    line = make_line(
        quantity=draw(st.integers(1, 15)),
        free_gift=draw(st.booleans()),
        redeemed_with_credits=draw(st.booleans()),
        refurbished_available=draw(st.booleans()),
        new_available=draw(st.booleans()),
        extended_warranty_years=draw(st.integers(0, 3)),
        serial_numbers=draw(st.sampled_from([(), ("A2633C1F23100457",)])),
    )
    order = make_order(
        placed_at=placed,
        status=status,
        lines=(line,),
        channel=draw(st.sampled_from(["web_store", "amazon", "Gadget Bazaar"])),
        corporate=draw(st.booleans()),
        campaign=draw(st.sampled_from(list(Campaign))),
        logged_in=draw(st.booleans()),
        worry_free_insurance=draw(st.booleans()),
        shipping_insurance=draw(st.booleans()),
        country=draw(st.sampled_from(["US", "DE"])),
    )
    yield (
        decide_return.__name__,
        partial(
            decide_return,
            order,
            ReturnRequest(
                1,
                draw(st.integers(1, line.quantity)),
                draw(st.sampled_from(["unopened", "undamaged", "damaged"])),
                draw(st.booleans()),
            ),
            policy,
            now,
        ),
    )
    yield decide_cancellation.__name__, partial(decide_cancellation, order, policy, now)
    yield (
        decide_transit.__name__,
        partial(
            decide_transit,
            order,
            TransitRequest(draw(st.sampled_from(["lost", "damaged", "delayed"])), draw(st.booleans())),
            policy,
            now,
        ),
    )
    yield (
        decide_warranty.__name__,
        partial(
            decide_warranty,
            order,
            WarrantyRequest(
                line_id=1,
                serial_number=draw(st.sampled_from([None, "A2633C1F23100457", "bad"])),
                cause=draw(st.sampled_from(CAUSES)),
                troubleshooting_done=draw(st.sampled_from([None, True, False])),
                evidence_provided=draw(st.booleans()),
                country_now=draw(st.sampled_from([None, "US", "FR"])),
                shipped_internationally=draw(st.booleans()),
                preferred_remedy=draw(st.sampled_from([None, "partial_refund"])),
            ),
            policy,
            now,
        ),
    )
    stage = draw(st.integers(0, 4))
    refund = (
        None
        if stage == 0
        else make_refund(
            item_received_at=placed if stage >= 2 else None,
            inspected_at=placed if stage >= 3 else None,
            inspection_passed=draw(st.booleans()) if stage >= 3 else None,
            issued_at=placed if stage == 4 else None,
            inspection_finding=draw(st.sampled_from([None, "altered_label", "transit_damage_buyer_risk"])),
        )
    )
    yield decide_refund_status.__name__, partial(decide_refund_status, order, refund, policy, now)
    yield credits_for_order.__name__, partial(credits_for_order, order, policy)
    yield (
        decide_credits_eligibility.__name__,
        partial(
            decide_credits_eligibility,
            make_customer(
                region=draw(st.sampled_from(["EU", "US", "JP"])),
                birth_date=draw(st.dates(date(1950, 1, 1), date(2020, 1, 1))),
            ),
            policy,
            now,
        ),
    )
    yield credits_faq.__name__, partial(credits_faq, draw(st.sampled_from(FAQ_KEYS)), policy)


#: refusals (``InvalidRequest``) the drawn facts may meet, per decision function: message patterns of documented
#: refusals.  Empty: ``_random_calls`` draws only valid facts (line 1 exists, quantity within the line, a known
#: condition/problem/cause, ``now`` after the purchase), so any refusal is a bug and fails the example (3000 examples
#: met none).  A new kind of drawn fact that may be refused adds its documented message here.
DOCUMENTED_REFUSALS: dict[str, tuple[str, ...]] = {}


@SETTINGS
@given(st.data())
def test_every_clause_cited_by_any_decision_exists_in_clauses_md(
    policy, clauses, make_order, make_line, make_customer, make_refund, data
):
    """Every clause a decision cites (reasons and next steps) is a clause ID in clauses.md; every reason code is
    declared in its module's REASON_CODES; every decision serialises.  Each decision function runs on its own, so a
    refusal (only for a documented reason) skips nothing else."""
    import policy_engine.core.cancellation as can
    import policy_engine.core.credits as crd
    import policy_engine.core.refunds as ref
    import policy_engine.core.returns as ret
    import policy_engine.core.transit as ins
    import policy_engine.core.warranty as war

    declared = {
        "return": ret.REASON_CODES,
        "cancellation": can.REASON_CODES,
        "refund": ref.REASON_CODES,
        "warranty": war.REASON_CODES,
        "transit": ins.REASON_CODES,
        "credits": crd.REASON_CODES,
    }
    for name, call in _random_calls(policy, make_order, make_line, make_customer, make_refund, data):
        try:
            decision = call()
        except InvalidRequest as refusal:
            # bad facts are refused, not decided: only for a documented reason, and the other calls still run
            assert any(re.search(pattern, str(refusal)) for pattern in DOCUMENTED_REFUSALS.get(name, ())), (
                name,
                str(refusal),
            )
            continue
        assert set(decision.clauses) <= clauses, decision.clauses
        assert set(decision.reason_codes) <= set(declared[decision.topic]), decision.reason_codes
        assert decision.reasons, "every decision gives at least one reason"
        json.dumps(decision.to_dict())
        json.dumps(decision.widget_payload())
