"""Tables of the parcels (the order status): an order has zero or more shipments, each naming the order lines (and
how many units of each) it carries.  Registered on ``Base.metadata`` by models.py, created by migration 0003.

``tracking_url`` is the link the shop's system recorded for the parcel, if any; without it the order status builds
the link from the carrier's template in policy/policy.yml (``shipping.carriers``), so a carrier changing its address
is one edit there.  ``expected_earliest``/``expected_latest``: the promised delivery date or date range (one date:
both equal), calendar dates in the policy timezone; both or neither.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .models import SHORT_LEN, Base, OrderLineRow, OrderRow
from .types import UTCDateTime

#: a carrier's tracking number (UPS 18, FedEx 12-22, USPS up to 34 characters; room for others)
TRACKING_NUMBER_LEN = 64
#: a recorded tracking link
TRACKING_URL_LEN = 500


class ShipmentRow(Base):
    """One parcel handed to a carrier (CAN-3: the order is in the shipping phase); late when undelivered past its
    expected delivery (INS-1, ``core.order_status``)."""

    __tablename__ = "shipments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id", ondelete="CASCADE"), index=True)
    carrier: Mapped[str] = mapped_column(String(SHORT_LEN))  # a key of policy shipping.carriers, or another name
    tracking_number: Mapped[str] = mapped_column(String(TRACKING_NUMBER_LEN))
    tracking_url: Mapped[str | None] = mapped_column(String(TRACKING_URL_LEN), nullable=True)
    shipped_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expected_earliest: Mapped[date | None] = mapped_column(Date, nullable=True)
    expected_latest: Mapped[date | None] = mapped_column(Date, nullable=True)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    order: Mapped[OrderRow] = relationship()
    lines: Mapped[list[ShipmentLineRow]] = relationship(
        back_populates="shipment", order_by="ShipmentLineRow.id", cascade="all, delete-orphan"
    )

    __table_args__ = (
        UniqueConstraint("order_id", "carrier", "tracking_number", name="uq_shipments_order_tracking"),
        CheckConstraint(
            "(expected_earliest IS NULL AND expected_latest IS NULL) OR "
            "(expected_earliest IS NOT NULL AND expected_latest IS NOT NULL AND expected_earliest <= expected_latest)",
            name="ck_shipments_expected",
        ),
    )


class ShipmentLineRow(Base):
    """How many units of one order line a parcel carries."""

    __tablename__ = "shipment_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("shipments.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)

    shipment: Mapped[ShipmentRow] = relationship(back_populates="lines")
    line: Mapped[OrderLineRow] = relationship()

    __table_args__ = (
        UniqueConstraint("shipment_id", "line_id", name="uq_shipment_lines_shipment_line"),
        CheckConstraint("quantity > 0", name="ck_shipment_lines_quantity"),
    )
