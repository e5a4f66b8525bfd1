"""The few reads the service needs, with the relationships it uses loaded eagerly."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from .models import CreditLedgerRow, OrderLineRow, OrderRow, RefundRow


def order_by_number(session: Session, order_number: str) -> OrderRow | None:
    stmt = (
        select(OrderRow)
        .where(OrderRow.order_number == order_number)
        .options(
            selectinload(OrderRow.lines).selectinload(OrderLineRow.product),
            selectinload(OrderRow.lines).selectinload(OrderLineRow.serials),
            selectinload(OrderRow.customer),
        )
    )
    return session.scalars(stmt).one_or_none()


def refunds_for_order(session: Session, order_id: int) -> list[RefundRow]:
    return list(session.scalars(select(RefundRow).where(RefundRow.order_id == order_id).order_by(RefundRow.id)))


def ledger_for_customer(session: Session, customer_id: int) -> list[CreditLedgerRow]:
    stmt = (
        select(CreditLedgerRow)
        .where(CreditLedgerRow.customer_id == customer_id)
        .options(selectinload(CreditLedgerRow.order))
        .order_by(CreditLedgerRow.created_at, CreditLedgerRow.id)
    )
    return list(session.scalars(stmt))


def line_row(order: OrderRow, line_no: int) -> OrderLineRow | None:
    return next((l for l in order.lines if l.line_no == line_no), None)
