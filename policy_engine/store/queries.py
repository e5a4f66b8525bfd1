"""The few reads the service needs, with the relationships it uses loaded eagerly.

An order's facts (lines, their products and serial numbers) come in one statement: ``joinedload`` for the lines,
their product and their serials (one row per serial, de-duplicated by ``unique()``), instead of one query per
relationship.  The customer row is not loaded: the service only needs ``customer_id``.
"""
from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload, selectinload

from .models import CreditLedgerRow, OrderLineRow, OrderRow, RefundRow, VerificationTokenRow

_ORDER_GRAPH = (
    joinedload(OrderRow.lines).joinedload(OrderLineRow.product, innerjoin=True),
    joinedload(OrderRow.lines).joinedload(OrderLineRow.serials),
)


def order_by_number(session: Session, order_number: str) -> OrderRow | None:
    stmt = select(OrderRow).where(OrderRow.order_number == order_number).options(*_ORDER_GRAPH)
    return session.scalars(stmt).unique().one_or_none()


def order_by_id(session: Session, order_id: int) -> OrderRow | None:
    stmt = select(OrderRow).where(OrderRow.id == order_id).options(*_ORDER_GRAPH)
    return session.scalars(stmt).unique().one_or_none()


_ORDER_FOR_TOKEN = (
    select(OrderRow, VerificationTokenRow.conversation_id, VerificationTokenRow.expires_at)
    .join(VerificationTokenRow, VerificationTokenRow.order_id == OrderRow.id)
    .where(VerificationTokenRow.token_hash == bindparam("token_hash"))
    .options(*_ORDER_GRAPH)
)


def order_for_token(session: Session, token_hash: str) -> tuple[OrderRow, str, object] | None:
    """``(OrderRow with its facts, the token's conversation_id, its expires_at)`` for a token hash, in one statement
    (built once, so SQLAlchemy's compiled cache serves it)."""
    return session.execute(_ORDER_FOR_TOKEN, {"token_hash": token_hash}).unique().one_or_none()


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
