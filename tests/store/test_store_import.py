"""Import: JSON Schema first, then the store; all or nothing; every error reported with its JSON path."""

import copy

import pytest
from sqlalchemy import select

from policy_engine.store import ImportRejected, import_data, make_session_factory, unit_of_work
from policy_engine.store.demo import demo_document
from policy_engine.store.models import OrderRow, ProductRow
from tests.support.store import FIXED_NOW, row_counts

GOOD = {
    "format_version": 1,
    "products": [{"sku": "A2633", "name": "Anker 511 Charger", "category": "charger", "price": "19.99"}],
    "orders": [
        {
            "order_number": "AK2000001",
            "email": "Jane@Example.com",
            "placed_at": "2025-03-01T09:30:00Z",
            "status": "delivered",
            "shipped_at": "2025-03-02T08:00:00Z",
            "delivered_at": "2025-03-04T15:00:00+01:00",
            "tax": "1.60",
            "lines": [
                {
                    "line_id": 1,
                    "sku": "A2633",
                    "quantity": 2,
                    "unit_price": "19.99",
                    "serial_numbers": ["A2633C0000000001"],
                }
            ],
        }
    ],
    "refunds": [{"order_number": "AK2000001", "amount": "19.99"}],
    "credits": [
        {
            "email": "jane@example.com",
            "kind": "purchase",
            "points": 39,
            "order_number": "AK2000001",
            "created_at": "2025-03-01T09:31:00Z",
        }
    ],
}


def _import(engine, data, **kw):
    with unit_of_work(make_session_factory(engine), write=True) as uow:
        summary = import_data(uow.session, data, FIXED_NOW, **kw)
        uow.commit()
        return summary


def test_good_document_imports(engine):
    summary = _import(engine, GOOD)
    assert summary.to_dict() == {"products": 1, "customers": 1, "orders": 1, "refunds": 1, "credits": 1, "cases": 0}
    with unit_of_work(make_session_factory(engine)) as uow:
        order = uow.session.scalars(select(OrderRow)).one()
        assert order.email == "jane@example.com" and order.lines[0].quantity == 2
        assert order.delivered_at.isoformat() == "2025-03-04T14:00:00+00:00"


def _mutate(fn):
    data = copy.deepcopy(GOOD)
    fn(data)
    return data


BAD = {
    "unknown SKU": (lambda d: d["orders"][0]["lines"][0].update(sku="NOPE"), "$.orders[0].lines[0].sku"),
    "float money": (lambda d: d["products"][0].update(price=19.99), "$.products[0].price"),
    "negative quantity": (lambda d: d["orders"][0]["lines"][0].update(quantity=-1), "$.orders[0].lines[0].quantity"),
    "huge quantity": (lambda d: d["orders"][0]["lines"][0].update(quantity=10**9), "$.orders[0].lines[0].quantity"),
    "future purchase": (lambda d: d["orders"][0].update(placed_at="2099-01-01T00:00:00Z"), "$.orders[0].placed_at"),
    "naive time": (lambda d: d["orders"][0].update(placed_at="2025-03-01T09:30:00"), "$.orders[0].placed_at"),
    "impossible date": (lambda d: d["orders"][0].update(placed_at="2025-02-30T09:30:00Z"), "$.orders[0].placed_at"),
    "bad email": (lambda d: d["orders"][0].update(email="nope"), "$.orders[0].email"),
    "bad order number": (lambda d: d["orders"][0].update(order_number="AK12"), "$.orders[0].order_number"),
    "oversized name": (lambda d: d["products"][0].update(name="x" * 5000), "$.products[0].name"),
    "wrong type": (lambda d: d["orders"][0].update(corporate="yes"), "$.orders[0].corporate"),
    "unknown field": (lambda d: d["orders"][0].update(vip=True), "$.orders[0]"),
    "too many serials": (
        lambda d: d["orders"][0]["lines"][0].update(
            serial_numbers=["A2633C0000000001", "A2633C0000000002", "A2633C0000000003"]
        ),
        "$.orders[0].lines[0].serial_numbers",
    ),
    "delivered before shipped": (
        lambda d: d["orders"][0].update(delivered_at="2025-03-01T10:00:00Z"),
        "$.orders[0].delivered_at",
    ),
    "refund of unknown order": (
        lambda d: d["refunds"][0].update(order_number="AK7777777"),
        "$.refunds[0].order_number",
    ),
    "ledger of unknown customer": (lambda d: d["credits"][0].update(email="ghost@example.com"), "$.credits[0].email"),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_bad_documents_are_rejected_whole(engine, case):
    mutate, path = BAD[case]
    before = row_counts(engine)
    with pytest.raises(ImportRejected) as info:
        _import(engine, _mutate(mutate))
    assert any(e.startswith(path) for e in info.value.errors), info.value.errors
    assert row_counts(engine) == before


def test_not_an_object_is_rejected(engine):
    for data in ([], "x", None, {"format_version": 2}):
        with pytest.raises(ImportRejected):
            _import(engine, data)


def test_second_import_of_the_same_order_is_refused_and_changes_nothing(engine):
    _import(engine, GOOD)
    before = row_counts(engine)
    with pytest.raises(ImportRejected) as info:
        _import(engine, GOOD)
    assert "AK2000001 is already in the store" in str(info.value)
    assert row_counts(engine) == before


def test_a_late_error_leaves_no_earlier_row(engine):
    data = copy.deepcopy(GOOD)
    second = copy.deepcopy(data["orders"][0])
    second.update(
        order_number="AK2000002", lines=[{"line_id": 1, "sku": "UNKNOWN", "quantity": 1, "unit_price": "1.00"}]
    )
    data["orders"].append(second)
    with pytest.raises(ImportRejected):
        _import(engine, data)
    with unit_of_work(make_session_factory(engine)) as uow:
        assert uow.session.scalars(select(ProductRow)).all() == []


def test_demo_document_is_valid(engine):
    summary = _import(engine, demo_document(FIXED_NOW))
    assert summary.orders == 26 and summary.cases == 2  # 18 + 6 for the order status + 2 open warranty claims
