"""Where an order is ("where is my order?"): its status, its dates and its parcels, and what to do about a late one.

The status is one of ``STATUSES``: ``placed`` and ``processing`` (not in the shipping phase yet: CAN-1 lets the
customer cancel within the hour), ``shipped`` (in the shipping phase, CAN-3, with no parcel on its way: none recorded,
or the parcels delivered and other lines still to ship), ``in_transit`` (a parcel is on its way), ``delivered`` and
``cancelled``.  Recorded parcels (``Order.shipments``) decide it over the order's own status, which only says whether
the shipping phase began; an order marked delivered stays delivered.

A parcel not delivered ``shipping.late_after_days`` after its latest expected delivery date is late: with Worry-Free
Purchase insurance the next step is the transit claim for a delayed parcel (INS-1, the ``transit`` topic); without it,
the contacts (CON-1).  Each parcel carries its carrier, tracking number and tracking link (the record's own link, else
the policy's template for the carrier) and the order lines it carries.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import quote

from .cancellation import self_cancel_deadline
from .decision import Decision, NextStep, Outcome, Reason, make_decision
from .facts import Order, OrderStatus, Shipment
from .policy import Policy
from .policy_shipping import TRACKING_NUMBER

TOPIC = "order_status"

REASON_CODES = (
    "order_cancelled",
    "not_shipped_yet",
    "shipped_without_tracking",
    "in_transit",
    "partly_delivered",
    "awaiting_shipment",
    "delivered",
    "parcel_late_worry_free",
    "parcel_late_no_worry_free",
)

STATUSES = ("placed", "processing", "shipped", "in_transit", "delivered", "cancelled")

_decision = partial(make_decision, TOPIC)


def tracking_link(shipment: Shipment, policy: Policy) -> str | None:
    """The parcel's tracking link: the one its record carries, else its carrier's template from the policy file with
    the tracking number URL-quoted; None for a carrier the policy does not list."""
    if shipment.tracking_url:
        return shipment.tracking_url
    carrier = policy.shipping.carriers.get(shipment.carrier)
    if carrier is None:
        return None
    return carrier.tracking_url.replace(TRACKING_NUMBER, quote(shipment.tracking_number, safe=""))


def late_from(shipment: Shipment, policy: Policy) -> date | None:
    """INS-1 "delayed": the first calendar date (policy timezone) on which the parcel, still undelivered, is late;
    None without an expected delivery date."""
    if shipment.expected_latest is None:
        return None
    return shipment.expected_latest + timedelta(days=policy.shipping.late_after_days)


def is_late(shipment: Shipment, policy: Policy, today: date) -> bool:
    """INS-1: not delivered, and ``today`` is on or after ``late_from``."""
    first_late_day = late_from(shipment, policy)
    return shipment.delivered_at is None and first_late_day is not None and today >= first_late_day


def _lines(order: Order, shipment: Shipment) -> list[dict[str, Any]]:
    out = []
    for shipped in shipment.lines:
        line = order.line(shipped.line_id)
        out.append(
            {
                "line_id": shipped.line_id,
                "sku": line.sku if line else None,
                "name": line.product.name if line else None,
                "quantity": shipped.quantity,
            }
        )
    return out


def _awaiting_shipment(order: Order) -> list[dict[str, Any]]:
    """The order lines (or the units of them) no recorded parcel carries."""
    shipped: dict[int, int] = {}
    for shipment in order.shipments:
        for item in shipment.lines:
            shipped[item.line_id] = shipped.get(item.line_id, 0) + item.quantity
    awaiting = []
    for ln in order.lines:
        left = ln.quantity - shipped.get(ln.line_id, 0)
        if left > 0:
            awaiting.append({"line_id": ln.line_id, "sku": ln.sku, "name": ln.product.name, "quantity": left})
    return awaiting


def _parcel(order: Order, number: int, shipment: Shipment, policy: Policy, late: bool, today: date) -> dict[str, Any]:
    carrier = policy.shipping.carriers.get(shipment.carrier)
    delivered = shipment.delivered_at is not None or order.status is OrderStatus.DELIVERED
    latest = shipment.expected_latest
    return {
        "parcel": number,
        "carrier": shipment.carrier,
        "carrier_name": carrier.name if carrier else shipment.carrier,
        "tracking_number": shipment.tracking_number,
        "tracking_url": tracking_link(shipment, policy),
        "status": "delivered" if delivered else "in_transit",
        "shipped_at": shipment.shipped_at,
        "expected_earliest": shipment.expected_earliest,
        "expected_latest": latest,
        "delivered_at": shipment.delivered_at,
        "late": late,
        "days_late": (today - latest).days if late and latest is not None else 0,
        "lines": _lines(order, shipment),
    }


def _late_reason(order: Order, late: Sequence[Mapping[str, Any]], policy: Policy) -> tuple[Reason, NextStep]:
    """INS-1: Worry-Free covers a delayed parcel, so the next step is the transit claim (problem ``delayed``); without
    it nothing compensates the delay here and the customer is pointed to the contacts (CON-1)."""
    values = {
        "parcels": [p["parcel"] for p in late],
        "tracking_numbers": [p["tracking_number"] for p in late],
        "expected_latest": min(p["expected_latest"] for p in late),
        "days_late": max(p["days_late"] for p in late),
        "late_after_days": policy.shipping.late_after_days,
    }
    if order.worry_free_insurance:
        step = NextStep("transit_claim", "INS-1", values={"topic": "transit", "problem": "delayed"})
        return Reason("parcel_late_worry_free", "INS-1", values), step
    contacts = policy.contacts
    step = NextStep("contact_support", "CON-1", values={"email": contacts.email, "phone_us": contacts.phone_us})
    return Reason("parcel_late_no_worry_free", "INS-1", values), step


def decide_order_status(order: Order, policy: Policy, now: datetime) -> Decision:
    """The order's status, dates and parcels (carrier, tracking number and link, the lines each carries).

    CAN-1: a cancelled order is answered as such; an order not in the shipping phase yet can be cancelled by the
    customer until ``self_cancel_deadline`` (the next step while that lasts).  CAN-3: shipped, in transit and delivered
    orders have entered the shipping phase.  INS-1 / CON-1: a late parcel (``is_late``) leads to the transit claim with
    Worry-Free Purchase insurance, else to the contacts."""
    today = policy.local_date(now)  # rejects a naive clock
    values: dict[str, Any] = {
        "order_number": order.order_number,
        "placed_at": order.placed_at,
        "worry_free_insurance": order.worry_free_insurance,
    }

    if order.status is OrderStatus.CANCELLED:
        values["status"] = "cancelled"
        return _decision(Outcome.ANSWERED, [Reason("order_cancelled", "CAN-1", values)], policy, values=values)

    shipping_phase = order.status in (OrderStatus.SHIPPED, OrderStatus.DELIVERED) or order.shipped_at is not None
    if not order.shipments and not shipping_phase:
        values["status"] = order.status.value  # placed | processing
        deadline = self_cancel_deadline(order, policy)
        steps = [NextStep("cancel_order", "CAN-1", due=deadline)] if now <= deadline else []
        return _decision(
            Outcome.ANSWERED, [Reason("not_shipped_yet", "CAN-3", values)], policy, values=values, next_steps=steps
        )

    if not order.shipments:  # in the shipping phase, no parcel recorded (no carrier, no tracking number)
        delivered = order.status is OrderStatus.DELIVERED
        values.update(
            status="delivered" if delivered else "shipped",
            shipped_at=order.shipped_at,
            delivered_at=order.delivered_at if delivered else None,
            parcels=[],
        )
        code = "delivered" if delivered else "shipped_without_tracking"
        return _decision(Outcome.ANSWERED, [Reason(code, "CAN-3", values)], policy, values=values)

    marked_delivered = order.status is OrderStatus.DELIVERED
    parcels = []
    for number, shipment in enumerate(sorted(order.shipments, key=lambda s: s.shipped_at), start=1):
        late = not marked_delivered and is_late(shipment, policy, today)
        parcels.append(_parcel(order, number, shipment, policy, late, today))
    awaiting = [] if marked_delivered else _awaiting_shipment(order)
    on_the_way = [p for p in parcels if p["status"] == "in_transit"]
    arrived = [p for p in parcels if p["status"] == "delivered"]
    if on_the_way:
        status = "in_transit"
    elif awaiting:
        status = "shipped"
    else:
        status = "delivered"
    delivered_times = [p["delivered_at"] for p in arrived if p["delivered_at"] is not None]
    values.update(
        status=status,
        shipped_at=parcels[0]["shipped_at"],
        delivered_at=(max(delivered_times) if delivered_times else order.delivered_at)
        if status == "delivered"
        else None,
        expected_earliest=min((p["expected_earliest"] for p in on_the_way if p["expected_earliest"]), default=None),
        expected_latest=max((p["expected_latest"] for p in on_the_way if p["expected_latest"]), default=None),
        parcels=parcels,
        awaiting_shipment=awaiting,
    )

    reasons = []
    if status == "in_transit":
        reasons.append(Reason("in_transit", "CAN-3", {"parcels": [p["parcel"] for p in on_the_way]}))
    elif status == "delivered":
        reasons.append(Reason("delivered", "CAN-3", {"delivered_at": values["delivered_at"]}))
    if arrived and status != "delivered":
        reasons.append(Reason("partly_delivered", "CAN-3", {"parcels": [p["parcel"] for p in arrived]}))
    if awaiting:
        reasons.append(Reason("awaiting_shipment", "CAN-3", {"lines": awaiting}))
    steps = []
    late_parcels = [p for p in parcels if p["late"]]
    if late_parcels:
        reason, step = _late_reason(order, late_parcels, policy)
        reasons.insert(0, reason)
        steps.append(step)
    return _decision(Outcome.ANSWERED, reasons, policy, values=values, next_steps=steps)
