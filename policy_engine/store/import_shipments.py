"""An order's ``shipments`` in the import format (docs/import-format.md): the checks the JSON Schema cannot make, the
rows the writer adds, and the facts ``python -m policy_engine decide`` builds from an inline order.

Checks, each reported as ``<json path>: <message>``: a parcel belongs to an order in the shipping phase (status
``shipped`` or ``delivered``, CAN-3); it is not shipped before the order was placed nor in the future, not delivered
before it was shipped; an order marked delivered has every parcel's ``delivered_at``; the expected delivery range does
not end before it starts; the lines named exist in the order, once per parcel, and no line ships more units than it
has; one carrier's tracking number once per order.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from ..core.facts import Shipment, ShippedLine
from .import_values import parse_timestamp
from .models import OrderRow
from .shipment_models import ShipmentLineRow, ShipmentRow

SHIPPING_PHASE = ("shipped", "delivered")


def expected_dates(value: Any) -> tuple[date | None, date | None]:
    """``expected_delivery``: a date (both ends the same) or ``{"earliest", "latest"}``; ``ValueError`` if not a
    date."""
    if value is None:
        return None, None
    if isinstance(value, str):
        day = date.fromisoformat(value)
        return day, day
    return date.fromisoformat(value["earliest"]), date.fromisoformat(value["latest"])


def _time(item: dict, key: str, where: str, now: datetime, problems: list[str]) -> datetime | None:
    if key not in item:
        return None
    try:
        moment = parse_timestamp(item[key])
    except ValueError as exc:
        problems.append(f"{where}.{key}: not a valid date-time ({exc})")
        return None
    if moment > now:
        problems.append(f"{where}.{key}: is in the future ({item[key]})")
    return moment


def shipment_problems(order: dict, where: str, placed_at: datetime | None, now: datetime) -> list[str]:
    """Every problem of ``order["shipments"]`` (``where``: the order's JSON path); empty when they can be stored."""
    shipments = order.get("shipments", [])
    problems: list[str] = []
    if not shipments:
        return problems
    status = order.get("status", "placed")
    if status not in SHIPPING_PHASE:
        problems.append(
            f"{where}.shipments: an order with status {status!r} has no shipments (only shipped or delivered orders)"
        )
    quantities = {ln["line_id"]: ln["quantity"] for ln in order["lines"]}
    shipped_units: dict[int, int] = {}
    tracking: set[tuple[str, str]] = set()
    for i, parcel in enumerate(shipments):
        pw = f"{where}.shipments[{i}]"
        key = (parcel["carrier"], parcel["tracking_number"])
        if key in tracking:
            problems.append(f"{pw}.tracking_number: {key[0]} {key[1]} is listed twice in this order")
        tracking.add(key)
        shipped = _time(parcel, "shipped_at", pw, now, problems)
        delivered = _time(parcel, "delivered_at", pw, now, problems)
        if placed_at and shipped and shipped < placed_at:
            problems.append(f"{pw}.shipped_at: is before the order's placed_at")
        if shipped and delivered and delivered < shipped:
            problems.append(f"{pw}.delivered_at: is before shipped_at")
        if status == "delivered" and "delivered_at" not in parcel:
            problems.append(f"{pw}.delivered_at: is required when the order's status is delivered")
        try:
            earliest, latest = expected_dates(parcel.get("expected_delivery"))
            if earliest and latest and latest < earliest:
                problems.append(f"{pw}.expected_delivery: latest ({latest}) is before earliest ({earliest})")
        except ValueError as exc:
            problems.append(f"{pw}.expected_delivery: not a valid date ({exc})")
        seen: set[int] = set()
        for k, item in enumerate(parcel["lines"]):
            line_id = item["line_id"]
            if line_id not in quantities:
                problems.append(f"{pw}.lines[{k}].line_id: the order has no line {line_id}")
                continue
            if line_id in seen:
                problems.append(f"{pw}.lines[{k}].line_id: line {line_id} is listed twice in this shipment")
            seen.add(line_id)
            shipped_units[line_id] = shipped_units.get(line_id, 0) + item.get("quantity", quantities[line_id])
    for line_id, units in sorted(shipped_units.items()):
        if units > quantities[line_id]:
            problems.append(
                f"{where}.shipments: line {line_id} ships {units} units in all, the order has {quantities[line_id]}"
            )
    return problems


def _lines(parcel: dict, quantities: dict[int, int]) -> list[tuple[int, int]]:
    return [(item["line_id"], item.get("quantity", quantities[item["line_id"]])) for item in parcel["lines"]]


def shipment_rows(order: dict, row: OrderRow) -> list[ShipmentRow]:
    """The rows of a checked order's parcels, linked to ``row`` and its (new) line rows."""
    line_rows = {ln.line_no: ln for ln in row.lines}
    quantities = {no: ln.quantity for no, ln in line_rows.items()}
    out = []
    for parcel in order.get("shipments", []):
        earliest, latest = expected_dates(parcel.get("expected_delivery"))
        out.append(
            ShipmentRow(
                order=row,
                carrier=parcel["carrier"],
                tracking_number=parcel["tracking_number"],
                tracking_url=parcel.get("tracking_url"),
                shipped_at=parse_timestamp(parcel["shipped_at"]),
                expected_earliest=earliest,
                expected_latest=latest,
                delivered_at=parse_timestamp(parcel["delivered_at"]) if "delivered_at" in parcel else None,
                lines=[ShipmentLineRow(line=line_rows[no], quantity=q) for no, q in _lines(parcel, quantities)],
            )
        )
    return out


def shipment_facts(order: dict) -> tuple[Shipment, ...]:
    """The parcels of a checked inline order as facts (``decide``), in the order they were shipped."""
    quantities = {ln["line_id"]: ln["quantity"] for ln in order["lines"]}
    out = []
    for parcel in order.get("shipments", []):
        earliest, latest = expected_dates(parcel.get("expected_delivery"))
        out.append(
            Shipment(
                carrier=parcel["carrier"],
                tracking_number=parcel["tracking_number"],
                shipped_at=parse_timestamp(parcel["shipped_at"]),
                lines=tuple(ShippedLine(no, q) for no, q in _lines(parcel, quantities)),
                expected_earliest=earliest,
                expected_latest=latest,
                delivered_at=parse_timestamp(parcel["delivered_at"]) if "delivered_at" in parcel else None,
                tracking_url=parcel.get("tracking_url"),
            )
        )
    return tuple(sorted(out, key=lambda s: s.shipped_at))
