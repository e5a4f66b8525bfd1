"""Plain, immutable facts the decision functions read.

The store maps its rows to these; tests build them with a few keyword arguments.  Money is ``Decimal``, times are
timezone-aware ``datetime`` (UTC), and nothing here reads the clock or the database.  Topic-specific *request* facts
(what the customer says: condition, defect, troubleshooting...) live beside their decision function in the topic module.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal


class OrderStatus(str, enum.Enum):
    PLACED = "placed"  # paid, not yet handed to the warehouse
    PROCESSING = "processing"  # picked/packed, not yet shipped
    SHIPPED = "shipped"  # entered the shipping phase (CAN-3)
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


class Campaign(str, enum.Enum):
    NONE = "none"
    MYSTERY_BOX = "mystery_box"  # RET-7
    EARLY_BIRD = "early_bird"  # RET-7


#: the brand's own web store; every other channel is a reseller name (checked against the policy's authorised list)
WEB_STORE = "web_store"


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str  # charger, power_bank, cable, hub, power_station, wireless...
    price: Decimal
    refurbished_available: bool = False  # WAR-3
    new_available: bool = True  # WAR-3
    extended_warranty_eligible: bool = False  # WAR-21


@dataclass(frozen=True)
class OrderLine:
    line_id: int
    product: Product
    quantity: int
    unit_price: Decimal  # price actually paid per unit, before order-level discount
    discount: Decimal = Decimal("0")  # line discount (total for the line)
    serial_numbers: tuple[str, ...] = ()
    free_gift: bool = False  # WAR-16
    redeemed_with_credits: bool = False  # RET-10 / CRD-13
    extended_warranty_years: int = 0  # WAR-21, 0..3

    @property
    def sku(self) -> str:
        return self.product.sku

    @property
    def paid(self) -> Decimal:
        return self.unit_price * self.quantity - self.discount


@dataclass(frozen=True)
class ShippedLine:
    """How many units of one order line (``line_id``, the number customers see) a parcel carries."""

    line_id: int
    quantity: int


@dataclass(frozen=True)
class Shipment:
    """One parcel of an order, handed to a carrier (the order entered the shipping phase, CAN-3).

    ``carrier`` is a key of the policy file's ``shipping.carriers`` (``ups``, ``fedex``...: their names and tracking
    link templates) or another carrier's name.  ``tracking_url`` is the carrier's own link for this parcel when the
    shop's system gave one; without it the link is built from the policy's template (``order_status.tracking_link``).
    ``expected_earliest``/``expected_latest`` are the promised delivery dates (one date: both equal), calendar dates in
    the policy timezone; past the latest, undelivered, the parcel is late (INS-1 "delayed").
    """

    carrier: str
    tracking_number: str
    shipped_at: datetime
    lines: tuple[ShippedLine, ...]
    expected_earliest: date | None = None
    expected_latest: date | None = None
    delivered_at: datetime | None = None
    tracking_url: str | None = None


@dataclass(frozen=True)
class Order:
    order_number: str
    email: str
    placed_at: datetime
    lines: tuple[OrderLine, ...]
    status: OrderStatus = OrderStatus.PLACED
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    delivered_at: datetime | None = None
    channel: str = WEB_STORE  # WEB_STORE or the reseller's name (RET-11, WAR-20, CRD-1)
    country: str = "US"  # ISO 3166-1 alpha-2 of purchase (WAR-2)
    corporate: bool = False  # RET-3
    campaign: Campaign = Campaign.NONE  # RET-7
    logged_in: bool = True  # CRD-5
    shipping: Decimal = Decimal("0")  # CRD-10
    tax: Decimal = Decimal("0")  # CRD-10
    discount: Decimal = Decimal("0")  # order-level discount (CRD-10)
    credits_applied: Decimal = Decimal("0")  # value of credits/gift credit applied (CRD-10)
    worry_free_insurance: bool = False  # INS-1
    shipping_insurance: bool = False  # INS-2
    payment_method: str = "card"  # REF-2
    #: the parcels, in the order they were shipped (read by the order status only; empty when none is recorded)
    shipments: tuple[Shipment, ...] = ()

    def line(self, line_id: int) -> OrderLine | None:
        return next((ln for ln in self.lines if ln.line_id == line_id), None)

    @property
    def merchandise_total(self) -> Decimal:
        return sum((ln.paid for ln in self.lines), Decimal("0"))


@dataclass(frozen=True)
class Customer:
    email: str
    name: str = ""
    country: str = "US"
    region: str = "US"  # CRD-2 age rules: "EU", "US" or another key of the policy's table
    birth_date: date | None = None
    registered_at: datetime | None = None
    profile_completed_at: datetime | None = None


@dataclass(frozen=True)
class RefundRecord:
    """Where a refund stands (REF-1..4)."""

    order_number: str
    amount: Decimal
    payment_method: str
    item_received_at: datetime | None = None
    inspected_at: datetime | None = None
    inspection_passed: bool | None = None
    issued_at: datetime | None = None
    #: why inspection failed (refunds.INSPECTION_FINDINGS): altered_label, incorrect_item, empty_package (RET-8),
    #: transit_damage_buyer_risk (RET-9), personal_item (RET-12), damaged (RET-1); None if unknown/passed
    inspection_finding: str | None = None


class LedgerKind(str, enum.Enum):
    SIGNUP = "signup"  # CRD-9 one-time
    PROFILE = "profile"  # CRD-9 one-time
    PURCHASE = "purchase"  # CRD-9, locked until unlock_at (CRD-6)
    REVERSAL = "reversal"  # CRD-11 return/cancellation
    ADJUSTMENT = "adjustment"  # CRD-11 partial refund for a price adjustment
    REDEMPTION = "redemption"  # CRD-12
    EXPIRY = "expiry"  # CRD-7


@dataclass(frozen=True)
class LedgerEntry:
    """One line of the credits ledger; ``points`` is signed (earnings positive, spending negative)."""

    entry_id: int
    kind: LedgerKind
    points: int
    created_at: datetime
    unlock_at: datetime | None = None  # when earned credits become available
    expires_at: datetime | None = None  # when unlocked credits expire
    order_number: str | None = None
    note: str = ""
