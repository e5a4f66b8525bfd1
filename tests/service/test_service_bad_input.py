"""Bad input gets a clear error (InvalidRequest / NotVerified) and changes nothing."""

from datetime import timedelta

import pytest

from policy_engine import Product, ReturnRequest, TransitRequest, WarrantyRequest
from policy_engine.core.errors import InvalidRequest
from policy_engine.core.warranty_request import ProofOfPurchase, Purchase
from policy_engine.service import NotVerified
from tests.support.store import row_counts

ORDER, EMAIL = "AK1000003", "emma.twenty@example.com"


@pytest.fixture
def verified(sqlite_service):
    assert sqlite_service.verify_customer("conv", ORDER, EMAIL).verified


def _unchanged(engine, call, error=InvalidRequest):
    before = row_counts(engine)
    with pytest.raises(error):
        call()
    assert row_counts(engine) == before


@pytest.mark.parametrize(
    "request_",
    [
        ReturnRequest(line_id=9, quantity=1),  # unknown line
        ReturnRequest(line_id=1, quantity=-1),  # negative quantity
        ReturnRequest(line_id=1, quantity=0),
        ReturnRequest(line_id=1, quantity=10**9),  # huge quantity
        ReturnRequest(line_id="1", quantity=1),  # wrong JSON type
        ReturnRequest(line_id=1, quantity="1"),
        ReturnRequest(line_id=1, quantity=True),
        ReturnRequest(line_id=1, quantity=1, condition="x" * 10_000),
        ReturnRequest(line_id=1, quantity=1, quality_issue="yes"),
    ],
)
def test_bad_return_requests(sqlite_service, sqlite_engine, verified, request_):
    _unchanged(sqlite_engine, lambda: sqlite_service.open_return("conv", ORDER, request_))


def test_request_of_the_wrong_kind(sqlite_service, sqlite_engine, verified):
    _unchanged(sqlite_engine, lambda: sqlite_service.open_return("conv", ORDER, {"line_id": 1}))
    _unchanged(sqlite_engine, lambda: sqlite_service.transit_claim("conv", ORDER, "lost"))


@pytest.mark.parametrize(
    "request_",
    [
        WarrantyRequest(line_id=1, defect="x" * 10_000),  # oversized text
        WarrantyRequest(line_id=1, defect="broken", serial_number="A" * 5000),
        WarrantyRequest(line_id=1, defect="broken", country_now="U" * 5000),
        WarrantyRequest(line_id=1, defect=None),
        WarrantyRequest(line_id=1, defect="broken", cause="aliens"),
        WarrantyRequest(line_id=7, defect="broken"),  # unknown line
        WarrantyRequest(line_id=1, defect="broken", evidence_provided="yes"),
    ],
)
def test_bad_warranty_requests(sqlite_service, sqlite_engine, verified, request_):
    _unchanged(sqlite_engine, lambda: sqlite_service.open_warranty_claim("conv", ORDER, request_))


def test_bad_transit_problem(sqlite_service, sqlite_engine, verified):
    _unchanged(sqlite_engine, lambda: sqlite_service.transit_claim("conv", ORDER, TransitRequest("stolen")))


def test_unknown_order_is_not_verified_and_discloses_nothing(sqlite_service, sqlite_engine, verified):
    _unchanged(sqlite_engine, lambda: sqlite_service.open_return("conv", "AK9999999", ReturnRequest(1, 1)), NotVerified)
    _unchanged(sqlite_engine, lambda: sqlite_service.cancel_order("conv", "not an order"), NotVerified)


def test_purchase_date_in_the_future(sqlite_service, clock):
    product = Product(
        sku="A1289", name="Anker 737 Power Bank", category="power_bank", price=__import__("decimal").Decimal("149.99")
    )
    future = Purchase(
        product=product,
        purchased_on=clock.now.date() + timedelta(days=3),
        country="US",
        price=product.price,
        channel="amazon",
        proof=ProofOfPurchase.RECEIPT,
    )
    with pytest.raises(InvalidRequest):
        sqlite_service.preview_warranty_purchase(future, WarrantyRequest(line_id=None, defect="dead"))


def test_reseller_purchase_with_receipt_is_decided_without_the_store(sqlite_service, clock):
    from decimal import Decimal

    product = Product(sku="A1289", name="Anker 737 Power Bank", category="power_bank", price=Decimal("149.99"))
    purchase = Purchase(
        product=product,
        purchased_on=clock.now.date() - timedelta(days=120),
        country="US",
        price=Decimal("149.99"),
        channel="amazon",
        proof=ProofOfPurchase.RECEIPT,
    )
    d = sqlite_service.preview_warranty_purchase(
        purchase,
        WarrantyRequest(
            line_id=None, defect="does not charge", cause="quality", troubleshooting_done=True, evidence_provided=True
        ),
    )
    assert d.outcome.value == "approved" and "WAR-9" in d.clauses


def test_naive_clock_is_refused(sqlite_engine):
    from datetime import datetime

    from policy_engine.core.policy_file import load_policy
    from policy_engine.service import SupportService
    from policy_engine.store import make_session_factory

    svc = SupportService(make_session_factory(sqlite_engine), load_policy(), lambda: datetime(2025, 1, 1))
    with pytest.raises(InvalidRequest):
        svc.verify_customer("c", ORDER, EMAIL)
