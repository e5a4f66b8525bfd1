"""Money stays Decimal and exact, times stay aware UTC, on both backends; floats and naive times are refused."""

from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy.exc import StatementError

from policy_engine.store import make_session_factory, unit_of_work
from policy_engine.store.models import CustomerRow, OrderLineRow, OrderRow, ProductRow
from policy_engine.store.types import to_money

AMOUNTS = ["0.00", "0.01", "0.10", "19.99", "1234567.89", "9999999999.99"]


def _order(session, number="AK0000001", placed=None, **kw):
    customer = CustomerRow(email=f"{number.lower()}@example.com")
    order = OrderRow(
        order_number=number,
        customer=customer,
        email=customer.email,
        placed_at=placed or datetime(2025, 1, 1, tzinfo=timezone.utc),
        **kw,
    )
    session.add(order)
    return order


@pytest.mark.parametrize("amount", AMOUNTS)
def test_money_round_trips_exactly(engine, amount):
    factory = make_session_factory(engine)
    with unit_of_work(factory, write=True) as uow:
        uow.session.add(ProductRow(sku="X1", name="x", category="cable", price=Decimal(amount)))
        uow.commit()
    with unit_of_work(factory) as uow:
        price = uow.session.get(ProductRow, "X1").price
    assert isinstance(price, Decimal)
    assert price == Decimal(amount) and str(price) == amount


def test_sums_of_cents_stay_exact(engine):
    factory = make_session_factory(engine)
    with unit_of_work(factory, write=True) as uow:
        uow.session.add(ProductRow(sku="X1", name="x", category="cable", price=Decimal("0.10")))
        order = _order(uow.session)
        for n in range(1, 4):
            order.lines.append(OrderLineRow(line_no=n, sku="X1", quantity=1, unit_price=Decimal("0.10")))
        uow.commit()
    with unit_of_work(factory) as uow:
        lines = uow.session.query(OrderLineRow).all()
        assert sum((ln.unit_price for ln in lines), Decimal("0")) == Decimal("0.30")


@pytest.mark.parametrize("bad", [19.99, "abc", Decimal("1.234"), Decimal("NaN"), Decimal("10000000000.00")])
def test_bad_money_is_refused(bad):
    with pytest.raises((TypeError, ValueError)):
        to_money(bad)


def test_float_money_never_reaches_the_database(engine):
    factory = make_session_factory(engine)
    with unit_of_work(factory, write=True) as uow:
        uow.session.add(ProductRow(sku="X1", name="x", category="cable", price=19.99))
        with pytest.raises(StatementError):
            uow.session.flush()


def test_times_come_back_aware_utc(engine):
    factory = make_session_factory(engine)
    plus_two = timezone(timedelta(hours=2))
    placed = datetime(2025, 3, 1, 12, 30, 15, 123456, tzinfo=plus_two)
    with unit_of_work(factory, write=True) as uow:
        _order(uow.session, placed=placed)
        uow.commit()
    with unit_of_work(factory) as uow:
        stored = uow.session.query(OrderRow).one().placed_at
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == placed
    assert stored.hour == 10


def test_naive_times_are_refused(engine):
    factory = make_session_factory(engine)
    with unit_of_work(factory, write=True) as uow:
        _order(uow.session, placed=datetime(2025, 3, 1, 12, 0))
        with pytest.raises(StatementError):
            uow.session.flush()
