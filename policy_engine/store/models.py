"""Tables of the support store (SQLAlchemy 2.x declarative).

Natural keys that make writes idempotent are unique constraints here, so two concurrent requests for the same case
cannot both succeed (architecture.md, "Writes are idempotent by natural key"):

* one *open* return case per order line      -> partial unique index ``uq_return_open_line``
* one cancellation per order                 -> unique ``cancellations.order_id``
* one *open* warranty claim per order line   -> partial unique index ``uq_warranty_open_line``
* one transit claim per order                -> unique ``transit_claims.order_id``

Money is ``Money`` (NUMERIC(12, 2), Decimal), times are ``UTCDateTime`` (aware UTC on both backends).
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ..core import formats
from .types import Money, UTCDateTime

#: column sizes, also enforced by the import schema and the service's input checks
EMAIL_LEN = formats.EMAIL_LEN
ORDER_NUMBER_LEN = 9
SKU_LEN = 32
SERIAL_LEN = 16
NAME_LEN = 200
SHORT_LEN = 40
CONVERSATION_LEN = 128
CASE_ID_LEN = 16


class Base(DeclarativeBase):
    pass


class CustomerRow(Base):
    __tablename__ = "customers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LEN), unique=True)  # stored lower-case
    name: Mapped[str] = mapped_column(String(NAME_LEN), default="")
    country: Mapped[str] = mapped_column(String(2), default="US")
    region: Mapped[str] = mapped_column(String(SHORT_LEN), default="US")  # CRD-2
    birth_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    registered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    profile_completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    orders: Mapped[list[OrderRow]] = relationship(back_populates="customer")


class ProductRow(Base):
    __tablename__ = "products"

    sku: Mapped[str] = mapped_column(String(SKU_LEN), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME_LEN))
    category: Mapped[str] = mapped_column(String(SHORT_LEN))
    price: Mapped[Decimal] = mapped_column(Money)
    refurbished_available: Mapped[bool] = mapped_column(Boolean, default=False)  # WAR-3
    new_available: Mapped[bool] = mapped_column(Boolean, default=True)  # WAR-3
    extended_warranty_eligible: Mapped[bool] = mapped_column(Boolean, default=False)  # WAR-21

    __table_args__ = (CheckConstraint("price >= 0", name="ck_products_price"),)


class OrderRow(Base):
    __tablename__ = "orders"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_number: Mapped[str] = mapped_column(String(ORDER_NUMBER_LEN), unique=True)  # AK + 7 digits
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    email: Mapped[str] = mapped_column(String(EMAIL_LEN))  # purchase email, lower-case (RET-4)
    status: Mapped[str] = mapped_column(String(SHORT_LEN), default="placed")
    placed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    channel: Mapped[str] = mapped_column(String(SHORT_LEN), default="web_store")
    country: Mapped[str] = mapped_column(String(2), default="US")
    corporate: Mapped[bool] = mapped_column(Boolean, default=False)
    campaign: Mapped[str] = mapped_column(String(SHORT_LEN), default="none")
    logged_in: Mapped[bool] = mapped_column(Boolean, default=True)
    shipping: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    tax: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    discount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    credits_applied: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    worry_free_insurance: Mapped[bool] = mapped_column(Boolean, default=False)
    shipping_insurance: Mapped[bool] = mapped_column(Boolean, default=False)
    payment_method: Mapped[str] = mapped_column(String(SHORT_LEN), default="card")

    customer: Mapped[CustomerRow] = relationship(back_populates="orders")
    lines: Mapped[list[OrderLineRow]] = relationship(
        back_populates="order", order_by="OrderLineRow.line_no", cascade="all, delete-orphan"
    )


class OrderLineRow(Base):
    __tablename__ = "order_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"))
    line_no: Mapped[int] = mapped_column(Integer)  # the line_id customers and facts see (1, 2, ...)
    sku: Mapped[str] = mapped_column(ForeignKey("products.sku"))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[Decimal] = mapped_column(Money)
    discount: Mapped[Decimal] = mapped_column(Money, default=Decimal("0"))
    free_gift: Mapped[bool] = mapped_column(Boolean, default=False)  # WAR-16
    redeemed_with_credits: Mapped[bool] = mapped_column(Boolean, default=False)  # RET-10 / CRD-13
    extended_warranty_years: Mapped[int] = mapped_column(Integer, default=0)  # WAR-21

    order: Mapped[OrderRow] = relationship(back_populates="lines")
    product: Mapped[ProductRow] = relationship()
    serials: Mapped[list[SerialNumberRow]] = relationship(
        back_populates="line", order_by="SerialNumberRow.serial", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("order_id", "line_no", name="uq_order_lines_order_line_no"),
        CheckConstraint("quantity > 0", name="ck_order_lines_quantity"),
        CheckConstraint(formats.extended_warranty_check(), name="ck_order_lines_ext_warranty"),  # WAR-21, see formats,
    )


class SerialNumberRow(Base):
    __tablename__ = "serial_numbers"

    serial: Mapped[str] = mapped_column(String(SERIAL_LEN), primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), index=True)

    line: Mapped[OrderLineRow] = relationship(back_populates="serials")


class CaseColumns:
    """The columns every case table has: its key, its case ID (``RET-``, ``CAN-``, ``WAR-``, ``INS-`` + key), the
    decision's outcome and the decision itself (as stored, with clause IDs and policy version), the conversation
    that opened it, and when."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    case_id: Mapped[str | None] = mapped_column(String(CASE_ID_LEN), unique=True, nullable=True)
    outcome: Mapped[str] = mapped_column(String(SHORT_LEN))
    decision: Mapped[dict[str, Any]] = mapped_column(JSON)
    conversation_id: Mapped[str] = mapped_column(String(CONVERSATION_LEN))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReturnCaseRow(CaseColumns, Base):
    __tablename__ = "return_cases"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(SHORT_LEN), default="open")  # open | closed
    quantity: Mapped[int] = mapped_column(Integer)
    condition: Mapped[str] = mapped_column(String(SHORT_LEN))
    quality_issue: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (
        Index(
            "uq_return_open_line",
            "line_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )


class CancellationRow(CaseColumns, Base):
    __tablename__ = "cancellations"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)
    reversed_points: Mapped[int] = mapped_column(Integer, default=0)  # CRD-11


class WarrantyClaimRow(CaseColumns, Base):
    __tablename__ = "warranty_claims"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(SHORT_LEN), default="open")  # open | closed
    serial_number: Mapped[str | None] = mapped_column(String(SERIAL_LEN), nullable=True)
    defect: Mapped[str] = mapped_column(String(formats.TEXT_MAX_CHARS))
    cause: Mapped[str | None] = mapped_column(String(SHORT_LEN), nullable=True)
    claim_deadline: Mapped[date | None] = mapped_column(Date, nullable=True)  # WAR-10

    __table_args__ = (
        Index(
            "uq_warranty_open_line",
            "line_id",
            unique=True,
            sqlite_where=text("status = 'open'"),
            postgresql_where=text("status = 'open'"),
        ),
    )


class TransitClaimRow(CaseColumns, Base):
    __tablename__ = "transit_claims"

    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), unique=True)  # INS-2 / REF-4
    problem: Mapped[str] = mapped_column(String(SHORT_LEN))


class RefundRow(Base):
    """Where a refund stands (REF-1..4): awaiting_item -> received -> inspected -> issued (or rejected)."""

    __tablename__ = "refunds"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    return_case_id: Mapped[int | None] = mapped_column(
        ForeignKey("return_cases.id", ondelete="CASCADE"), unique=True, nullable=True
    )
    amount: Mapped[Decimal] = mapped_column(Money)
    payment_method: Mapped[str] = mapped_column(String(SHORT_LEN))
    status: Mapped[str] = mapped_column(String(SHORT_LEN), default="awaiting_item")
    item_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    inspected_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    inspection_passed: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    inspection_finding: Mapped[str | None] = mapped_column(String(SHORT_LEN), nullable=True)  # RET-8/9/12
    issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("amount >= 0", name="ck_refunds_amount"),)


class CreditLedgerRow(Base):
    """One signed line of a customer's AnkerCredits ledger (CRD-6, CRD-7, CRD-9, CRD-11, CRD-12)."""

    __tablename__ = "credit_ledger"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customers.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(SHORT_LEN))
    points: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    unlock_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), nullable=True, index=True)
    note: Mapped[str] = mapped_column(String(NAME_LEN), default="")

    order: Mapped[OrderRow | None] = relationship()


class DecisionAuditRow(Base):
    """What was decided, on which inputs, under which policy version, when, and for which case."""

    __tablename__ = "decision_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    topic: Mapped[str] = mapped_column(String(SHORT_LEN))
    outcome: Mapped[str] = mapped_column(String(SHORT_LEN))
    case_id: Mapped[str | None] = mapped_column(String(CASE_ID_LEN), nullable=True, index=True)
    conversation_id: Mapped[str | None] = mapped_column(String(CONVERSATION_LEN), nullable=True)
    order_number: Mapped[str | None] = mapped_column(String(ORDER_NUMBER_LEN), nullable=True, index=True)
    policy_version: Mapped[str] = mapped_column(String(SHORT_LEN))
    inputs: Mapped[dict[str, Any]] = mapped_column(JSON)
    decision: Mapped[dict[str, Any]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


CASE_TABLES = {
    "return": (ReturnCaseRow, "RET"),
    "cancellation": (CancellationRow, "CAN"),
    "warranty": (WarrantyClaimRow, "WAR"),
    "transit": (TransitClaimRow, "INS"),
}


def case_id_for(prefix: str, row_id: int) -> str:
    """Human-friendly, unique case IDs: ``RET-000123`` (the row's own key, so no collision is possible)."""
    return f"{prefix}-{row_id:06d}"


# the verification tables live in identity_models.py, the parcels in shipment_models.py, the handoff to people in
# handoff_models.py; importing them registers them on Base.metadata, so every user of ``Base`` (Alembic, create_all in
# tests) sees the whole schema
from . import handoff_models, identity_models, shipment_models  # noqa: E402,F401
