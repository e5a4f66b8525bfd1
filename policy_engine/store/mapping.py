"""Rows -> the frozen facts of ``policy_engine.core.facts`` (and stored decision dicts -> ``Decision``)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime
from typing import Any

from ..core.decision import Decision, NextStep, Outcome, Reason
from ..core.facts import (
    Campaign,
    Customer,
    LedgerEntry,
    LedgerKind,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    RefundRecord,
    Shipment,
    ShippedLine,
)
from .models import CreditLedgerRow, CustomerRow, OrderLineRow, OrderRow, ProductRow, RefundRow
from .shipment_models import ShipmentRow


def product_fact(row: ProductRow) -> Product:
    return Product(
        sku=row.sku,
        name=row.name,
        category=row.category,
        price=row.price,
        refurbished_available=row.refurbished_available,
        new_available=row.new_available,
        extended_warranty_eligible=row.extended_warranty_eligible,
    )


def line_fact(row: OrderLineRow) -> OrderLine:
    return OrderLine(
        line_id=row.line_no,
        product=product_fact(row.product),
        quantity=row.quantity,
        unit_price=row.unit_price,
        discount=row.discount,
        serial_numbers=tuple(s.serial for s in row.serials),
        free_gift=row.free_gift,
        redeemed_with_credits=row.redeemed_with_credits,
        extended_warranty_years=row.extended_warranty_years,
    )


def shipment_fact(row: ShipmentRow) -> Shipment:
    return Shipment(
        carrier=row.carrier,
        tracking_number=row.tracking_number,
        shipped_at=row.shipped_at,
        lines=tuple(ShippedLine(item.line.line_no, item.quantity) for item in row.lines),
        expected_earliest=row.expected_earliest,
        expected_latest=row.expected_latest,
        delivered_at=row.delivered_at,
        tracking_url=row.tracking_url,
    )


def order_fact(row: OrderRow, shipments: Iterable[ShipmentRow] = ()) -> Order:
    """The order's facts; its parcels only when given (``queries.shipments_for_order``: the order status reads
    them, the other topics' rules do not)."""
    return Order(
        order_number=row.order_number,
        email=row.email,
        placed_at=row.placed_at,
        lines=tuple(line_fact(ln) for ln in row.lines),
        status=OrderStatus(row.status),
        paid_at=row.paid_at,
        shipped_at=row.shipped_at,
        delivered_at=row.delivered_at,
        channel=row.channel,
        country=row.country,
        corporate=row.corporate,
        campaign=Campaign(row.campaign),
        logged_in=row.logged_in,
        shipping=row.shipping,
        tax=row.tax,
        discount=row.discount,
        credits_applied=row.credits_applied,
        worry_free_insurance=row.worry_free_insurance,
        shipping_insurance=row.shipping_insurance,
        payment_method=row.payment_method,
        shipments=tuple(shipment_fact(s) for s in shipments),
    )


def customer_fact(row: CustomerRow) -> Customer:
    return Customer(
        email=row.email,
        name=row.name,
        country=row.country,
        region=row.region,
        birth_date=row.birth_date,
        registered_at=row.registered_at,
        profile_completed_at=row.profile_completed_at,
    )


def refund_fact(row: RefundRow, order_number: str) -> RefundRecord:
    return RefundRecord(
        order_number=order_number,
        amount=row.amount,
        payment_method=row.payment_method,
        item_received_at=row.item_received_at,
        inspected_at=row.inspected_at,
        inspection_passed=row.inspection_passed,
        inspection_finding=row.inspection_finding,
        issued_at=row.issued_at,
    )


def ledger_fact(row: CreditLedgerRow, order_number: str | None = None) -> LedgerEntry:
    return LedgerEntry(
        entry_id=row.id,
        kind=LedgerKind(row.kind),
        points=row.points,
        created_at=row.created_at,
        unlock_at=row.unlock_at,
        expires_at=row.expires_at,
        order_number=order_number,
        note=row.note,
    )


def _parse_due(value: Any) -> date | datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
    except ValueError:
        return None


def decision_from_dict(data: Mapping[str, Any]) -> Decision:
    """Rebuild a stored ``Decision.to_dict()`` (values stay in their JSON form: Decimal as str, dates as ISO)."""
    return Decision(
        topic=data["topic"],
        outcome=Outcome(data["outcome"]),
        reasons=tuple(Reason(r["code"], r["clause"], r.get("values") or {}) for r in data.get("reasons", ())),
        policy_version=data["policy_version"],
        missing=tuple(data.get("missing", ())),
        next_steps=tuple(
            NextStep(s["code"], s.get("clause"), _parse_due(s.get("due")), s.get("values") or {})
            for s in data.get("next_steps", ())
        ),
        values=data.get("values") or {},
        case_id=data.get("case_id"),
    )
