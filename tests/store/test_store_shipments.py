"""Parcels in the store (the order status): migration 0003 up and down, the import of shipments (bad input refused
with its JSON path), the mapping to facts and the demo orders, on SQLite and PostgreSQL."""

import copy
from datetime import date

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from policy_engine.core.facts import ShippedLine
from policy_engine.store import ImportRejected, import_data, make_engine, make_session_factory, unit_of_work, upgrade
from policy_engine.store.demo import demo_document
from policy_engine.store.demo_logins import DEMO_LOGINS
from policy_engine.store.mapping import order_fact
from policy_engine.store.migrate import current_revision, downgrade, head_revision
from policy_engine.store.models import OrderRow
from policy_engine.store.queries import order_by_number, shipments_for_order
from policy_engine.store.shipment_models import ShipmentRow
from tests.support.store import FIXED_NOW, row_counts

SHIPPED = {
    "format_version": 1,
    "products": [
        {"sku": "A2633", "name": "Anker 511 Charger", "category": "charger", "price": "19.99"},
        {"sku": "A8856", "name": "Anker 765 Cable", "category": "cable", "price": "19.99"},
    ],
    "orders": [
        {
            "order_number": "AK2000001",
            "email": "jane@example.com",
            "placed_at": "2025-03-01T09:30:00Z",
            "status": "shipped",
            "shipped_at": "2025-03-02T08:00:00Z",
            "worry_free_insurance": True,
            "lines": [
                {"line_id": 1, "sku": "A2633", "quantity": 1, "unit_price": "19.99"},
                {"line_id": 2, "sku": "A8856", "quantity": 3, "unit_price": "19.99"},
            ],
            "shipments": [
                {
                    "carrier": "ups",
                    "tracking_number": "1Z999AA10123456784",
                    "shipped_at": "2025-03-02T08:00:00Z",
                    "expected_delivery": {"earliest": "2025-03-04", "latest": "2025-03-06"},
                    "delivered_at": "2025-03-05T15:00:00+01:00",
                    "lines": [{"line_id": 1}, {"line_id": 2, "quantity": 1}],
                },
                {
                    "carrier": "local_courier",
                    "tracking_number": "LC-000123",
                    "tracking_url": "https://courier.example/track/LC-000123",
                    "shipped_at": "2025-03-03T08:00:00Z",
                    "expected_delivery": "2025-03-07",
                    "lines": [{"line_id": 2, "quantity": 2}],
                },
            ],
        }
    ],
}


def _import(engine, data):
    with unit_of_work(make_session_factory(engine), write=True) as uow:
        summary = import_data(uow.session, data, FIXED_NOW)
        uow.commit()
        return summary


def _order(engine, number="AK2000001"):
    with unit_of_work(make_session_factory(engine)) as uow:
        row = order_by_number(uow.session, number)
        return order_fact(row, shipments_for_order(uow.session, row.id))


# ------------------------------------------------------------------------------------------------ migration 0003


def test_migration_0003_up_and_down(db_url):
    """0002 -> 0003 adds shipments and shipment_lines; down to 0002 drops them and keeps the orders."""
    engine = make_engine(db_url)
    try:
        assert upgrade(engine, "0002") == "0002"
        assert not {"shipments", "shipment_lines"} & set(inspect(engine).get_table_names())
        assert upgrade(engine) == head_revision()  # 0003 and the revisions after it
        assert {"shipments", "shipment_lines"} <= set(inspect(engine).get_table_names())
        _import(engine, SHIPPED)
        assert row_counts(engine)["shipment_lines"] == 3
        assert downgrade(engine, "0002") == "0002"
        assert not {"shipments", "shipment_lines"} & set(inspect(engine).get_table_names())
        with engine.connect() as conn:
            assert conn.execute(text("SELECT count(*) FROM orders")).scalar_one() == 1
        assert upgrade(engine) == head_revision() == current_revision(engine)
    finally:
        engine.dispose()


def test_the_database_refuses_a_reversed_expected_range_and_a_zero_quantity(engine):
    _import(engine, SHIPPED)
    with unit_of_work(make_session_factory(engine), write=True) as uow:
        row = uow.session.scalars(select(ShipmentRow).order_by(ShipmentRow.id)).first()
        row.expected_earliest, row.expected_latest = date(2025, 3, 6), date(2025, 3, 4)
        with pytest.raises(IntegrityError):
            uow.session.flush()
    with unit_of_work(make_session_factory(engine), write=True) as uow, pytest.raises(IntegrityError):
        uow.session.execute(text("UPDATE shipment_lines SET quantity = 0"))


def test_deleting_an_order_deletes_its_parcels(engine):
    _import(engine, SHIPPED)
    with unit_of_work(make_session_factory(engine), write=True) as uow:
        uow.session.execute(OrderRow.__table__.delete())
        uow.commit()
    counts = row_counts(engine)
    assert counts["shipments"] == 0 and counts["shipment_lines"] == 0


# ------------------------------------------------------------------------------------------------ import


def test_shipments_import_and_map_to_facts(engine):
    assert _import(engine, SHIPPED).orders == 1
    order = _order(engine)
    first, second = order.shipments
    assert (first.carrier, first.tracking_number, first.tracking_url) == ("ups", "1Z999AA10123456784", None)
    assert (first.expected_earliest, first.expected_latest) == (date(2025, 3, 4), date(2025, 3, 6))
    assert first.delivered_at.isoformat() == "2025-03-05T14:00:00+00:00"  # stored in UTC
    assert first.lines == (ShippedLine(1, 1), ShippedLine(2, 1))  # line 1's quantity defaults to the whole line
    assert second.tracking_url == "https://courier.example/track/LC-000123"
    assert (second.expected_earliest, second.expected_latest) == (date(2025, 3, 7), date(2025, 3, 7))
    assert second.lines == (ShippedLine(2, 2),) and second.delivered_at is None


def test_an_order_without_shipments_maps_to_none(engine):
    data = copy.deepcopy(SHIPPED)
    del data["orders"][0]["shipments"]
    _import(engine, data)
    assert _order(engine).shipments == ()


def _bad(change):
    data = copy.deepcopy(SHIPPED)
    change(data["orders"][0])
    return data


def _set(path, value):
    def change(order):
        target = order
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return change


BAD = [
    (_set(["status"], "processing"), "$.orders[0].shipments: an order with status 'processing' has no shipments"),
    (
        _set(["shipments", 0, "lines", 0, "line_id"], 7),
        "$.orders[0].shipments[0].lines[0].line_id: the order has no line 7",
    ),
    (_set(["shipments", 0, "lines", 0, "line_id"], 2), "line 2 is listed twice in this shipment"),
    (
        _set(["shipments", 1, "lines", 0, "quantity"], 3),
        "$.orders[0].shipments: line 2 ships 4 units in all, the order has 3",
    ),
    (_set(["shipments", 0, "delivered_at"], "2025-03-01T08:00:00Z"), "shipments[0].delivered_at: is before shipped_at"),
    (_set(["shipments", 1, "shipped_at"], "2025-03-20T08:00:00Z"), "shipments[1].shipped_at: is in the future"),
    (_set(["shipments", 1, "shipped_at"], "2025-02-20T08:00:00Z"), "shipments[1].shipped_at: is before the order's"),
    (_set(["status"], "delivered"), "shipments[1].delivered_at: is required when the order's status is delivered"),
    (
        _set(["shipments", 0, "expected_delivery"], {"earliest": "2025-03-06", "latest": "2025-03-04"}),
        "shipments[0].expected_delivery: latest (2025-03-04) is before earliest (2025-03-06)",
    ),
    (_set(["shipments", 1, "expected_delivery"], "2025-02-30"), "shipments[1].expected_delivery: not a valid date"),
    (
        lambda order: order["shipments"][1].update(carrier="ups", tracking_number="1Z999AA10123456784"),
        "shipments[1].tracking_number: ups 1Z999AA10123456784 is listed twice in this order",
    ),
    (_set(["shipments", 0, "carrier"], "UPS Ground"), "$.orders[0].shipments[0].carrier"),
    (_set(["shipments", 1, "tracking_url"], "http://courier.example/x"), "$.orders[0].shipments[1].tracking_url"),
    (_set(["shipments", 0, "lines"], []), "$.orders[0].shipments[0].lines"),
    (_set(["shipments", 0, "expected_delivery"], "next week"), "$.orders[0].shipments[0].expected_delivery"),
]


@pytest.mark.parametrize("change,message", BAD)
def test_bad_shipments_are_refused_with_their_path_and_nothing_is_written(engine, change, message):
    data = _bad(change)
    before = row_counts(engine)
    with pytest.raises(ImportRejected) as caught:
        _import(engine, data)
    assert any(message in error for error in caught.value.errors), caught.value.errors
    assert row_counts(engine) == before


# ------------------------------------------------------------------------------------------------ demo


def test_demo_orders_have_their_parcels(engine):
    _import(engine, demo_document(FIXED_NOW))
    counts = row_counts(engine)
    assert counts["shipments"] == 6 and counts["shipment_lines"] == 6
    two = _order(engine, "AK1000036")
    assert [s.carrier for s in two.shipments] == ["ups", "fedex"]
    assert [s.lines for s in two.shipments] == [(ShippedLine(1, 1),), (ShippedLine(2, 2),)]
    assert two.shipments[0].delivered_at is not None and two.shipments[1].delivered_at is None
    late = _order(engine, "AK1000033")
    assert late.worry_free_insurance and late.shipments[0].expected_latest == date(2025, 3, 8)
    assert _order(engine, "AK1000002").shipments == ()  # the older demo orders keep their story, no parcel


def test_every_new_demo_login_is_documented():
    from pathlib import Path

    doc = (Path(__file__).resolve().parents[2] / "docs" / "demo-data.md").read_text(encoding="utf-8")
    for login in DEMO_LOGINS:
        row = next((line for line in doc.splitlines() if f"`{login.order_number}`" in line), "")
        assert login.email in row and all(clause in row for clause in login.clauses), login.order_number


def test_forgetting_a_customer_deletes_their_parcels(engine):
    """A tracking number opens the carrier's page (where, when, signed by whom): forget deletes the parcels of the
    customer's orders and no one else's."""
    from policy_engine.store.forget import forget_all

    _import(engine, demo_document(FIXED_NOW))
    with unit_of_work(make_session_factory(engine), write=True) as uow:
        summary = forget_all(uow.session, None, "owen.delayed@example.com")
        uow.commit()
    assert summary.deleted["shipments"] == 1
    with unit_of_work(make_session_factory(engine)) as uow:
        numbers = set(
            uow.session.scalars(select(OrderRow.order_number).join(ShipmentRow, ShipmentRow.order_id == OrderRow.id))
        )
    assert numbers == {"AK1000032", "AK1000034", "AK1000035", "AK1000036"}
    assert row_counts(engine)["shipment_lines"] == 5
