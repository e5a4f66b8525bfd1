"""The few reads the service needs, with the relationships it uses loaded eagerly.

An order's facts (lines, their products and serial numbers) come in one statement: ``joinedload`` for the lines,
their product and their serials (one row per serial, de-duplicated by ``unique()``), instead of one query per
relationship.  The customer row is not loaded: the service only needs ``customer_id``.
"""

from __future__ import annotations

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload, selectinload

from ..core.facts import LedgerEntry
from .identity_models import VerificationTokenRow
from .mapping import ledger_fact
from .models import CreditLedgerRow, OrderLineRow, OrderRow, RefundRow
from .shipment_models import ShipmentLineRow, ShipmentRow

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


_ORDER_FOR_GRANT = (
    select(OrderRow)
    .join(VerificationTokenRow, VerificationTokenRow.order_id == OrderRow.id)
    .where(
        VerificationTokenRow.conversation_id == bindparam("conversation_id"),
        VerificationTokenRow.expires_at > bindparam("now", type_=VerificationTokenRow.expires_at.type),
        OrderRow.order_number == bindparam("order_number"),
    )
    .options(*_ORDER_GRAPH)
)
_LATEST_GRANT_ORDER = (
    select(VerificationTokenRow.order_id)
    .where(
        VerificationTokenRow.conversation_id == bindparam("conversation_id"),
        VerificationTokenRow.expires_at > bindparam("now", type_=VerificationTokenRow.expires_at.type),
    )
    .order_by(VerificationTokenRow.created_at.desc(), VerificationTokenRow.id.desc())
    .limit(1)
)


def order_for_grant(session: Session, conversation_id: str, order_number: str | None, now) -> OrderRow | None:
    """The order (with its facts) an unexpired verification grant of ``conversation_id`` covers: the one numbered
    ``order_number``, or (``None``) the conversation's latest grant.  One statement each, built once."""
    if order_number is None:
        order_id = session.execute(
            _LATEST_GRANT_ORDER, {"conversation_id": conversation_id, "now": now}
        ).scalar_one_or_none()
        return None if order_id is None else order_by_id(session, order_id)
    return (
        session.execute(
            _ORDER_FOR_GRANT, {"conversation_id": conversation_id, "now": now, "order_number": order_number}
        )
        .unique()
        .scalars()
        .first()
    )


def shipments_for_order(session: Session, order_id: int) -> list[ShipmentRow]:
    """The order's parcels with the lines each carries, in the order they were shipped (the order status)."""
    stmt = (
        select(ShipmentRow)
        .where(ShipmentRow.order_id == order_id)
        .options(selectinload(ShipmentRow.lines).joinedload(ShipmentLineRow.line, innerjoin=True))
        .order_by(ShipmentRow.shipped_at, ShipmentRow.id)
    )
    return list(session.scalars(stmt))


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


def customer_ledger(session: Session, customer_id: int) -> list[LedgerEntry]:
    """The customer's AnkerCredits ledger as facts, oldest first (the one way every caller loads it)."""
    return [
        ledger_fact(r, r.order.order_number if r.order else None) for r in ledger_for_customer(session, customer_id)
    ]


def line_row(order: OrderRow, line_no: int) -> OrderLineRow | None:
    return next((ln for ln in order.lines if ln.line_no == line_no), None)
