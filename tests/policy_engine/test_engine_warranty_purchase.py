"""A purchase made elsewhere as the customer states it (WAR-9, WAR-12, WAR-14, WAR-20): which product, which seller,
and the decision the conversation gets from it (core/warranty_purchase.py)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from policy_engine import InvalidRequest, Outcome, WarrantyRequest, decide_warranty
from policy_engine.core.warranty_purchase import (
    StatedPurchase,
    match_product,
    purchase_from_statement,
    seller_is_authorised,
)

SERIAL = "A2147X0000012345"


@pytest.fixture(scope="module")
def catalogue(make_product):
    return [
        make_product(sku="A2147", name="Anker 735 Charger (Nano II 65W)", category="charger"),
        make_product(sku="A2343", name="Anker 737 Charger (GaNPrime 120W)", category="charger"),
        make_product(sku="A1289", name="Anker 737 Power Bank (PowerCore 24K)", category="power_bank"),
        make_product(sku="A1761", name="Anker SOLIX C1000 Portable Power Station", category="power_station"),
    ]


def claim(**kw) -> WarrantyRequest:
    kw.setdefault("line_id", None)
    kw.setdefault("serial_number", SERIAL)
    kw.setdefault("defect", "stopped charging")
    kw.setdefault("cause", "quality")
    kw.setdefault("troubleshooting_done", True)
    return WarrantyRequest(**kw)


def stated(product, **kw) -> StatedPurchase:
    kw.setdefault("seller", "Best Buy")
    kw.setdefault("purchased_on", date(2024, 1, 15))
    kw.setdefault("price", Decimal("59.99"))
    kw.setdefault("receipt", True)
    return StatedPurchase(product=product, **kw)


def decide(policy, at, statement, **kw):
    purchase = purchase_from_statement(statement)
    return decide_warranty(None, claim(**kw), policy, at("2024-06-01 10:00"), purchase=purchase)


@pytest.mark.parametrize(
    "text, sku",
    [
        ("A2147", "A2147"),
        ("it's an a1289", "A1289"),
        ("the 737 power bank", "A1289"),
        ("PowerCore 24K", "A1289"),
        ("Anker 735 charger", "A2147"),
        ("solix c1000", "A1761"),
        ("GaNPrime", None),  # one word of a name, no model number: ask again
        ("737", None),  # two products share it
        ("a toaster", None),
        ("", None),
    ],
)
def test_the_product_the_customer_names(catalogue, text, sku):
    found = match_product(text, catalogue)
    assert (found.sku if found else None) == sku


@pytest.mark.parametrize(
    "seller, ok", [("Amazon", True), ("best buy", True), ("B&H", True), ("anker.com", True), ("eBay seller", False)]
)
def test_authorised_sellers_WAR_20(policy, seller, ok):
    assert seller_is_authorised(seller, policy) is ok


def test_an_authorised_reseller_with_a_receipt_is_covered_WAR_9(policy, at, catalogue):
    d = decide(policy, at, stated(catalogue[0]))
    assert d.outcome is Outcome.APPROVED and "proof_valid" in d.reason_codes and "WAR-9" in d.clauses


def test_an_unauthorised_seller_is_denied_WAR_20(policy, at, catalogue):
    d = decide(policy, at, stated(catalogue[0], seller="Gadget Bazaar"))
    assert d.outcome is Outcome.DENIED and "unauthorised_reseller" in d.reason_codes and "WAR-20" in d.clauses


def test_no_receipt_yet_asks_for_the_proof_WAR_9(policy, at, catalogue):
    d = decide(policy, at, stated(catalogue[0], receipt=False))
    assert d.outcome is Outcome.NEEDS_INFORMATION and d.missing == ("proof_of_purchase",)
    assert d.reason_codes[:2] == ("information_missing", "proof_of_purchase_required")


def test_out_of_period_is_denied_WAR_14(policy, at, catalogue):
    d = decide(policy, at, stated(catalogue[0], purchased_on=date(2022, 1, 1)))
    assert d.outcome is Outcome.DENIED and "outside_warranty_period" in d.reason_codes and "WAR-14" in d.clauses


def test_a_power_station_from_amazon_keeps_its_own_period(policy, at, catalogue):
    d = decide(policy, at, stated(catalogue[3], seller="Amazon", purchased_on=date(2021, 6, 15), price=Decimal("799")))
    assert d.outcome is Outcome.APPROVED and d.values["warranty_months"] == 60


@pytest.mark.parametrize(
    "change", [{"price": Decimal("-1")}, {"price": 12.5}, {"seller": ""}, {"seller": "x" * 81}, {"country": "Narnia"}]
)
def test_statements_that_cannot_be_decided(catalogue, change):
    with pytest.raises(InvalidRequest):
        purchase_from_statement(stated(catalogue[0], **change))
