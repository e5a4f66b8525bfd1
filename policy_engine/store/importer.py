"""Import catalogue, customers, orders (with their parcels), refunds and credits from one JSON document
(schemas/import.schema.json).

All or nothing: the document is checked against the JSON Schema, then against the database (unknown SKU, order
already stored, serial number already used, time in the future...), and only then written, inside the caller's unit of
work.  Every problem found is reported at once in ``ImportRejected.errors`` as ``"<json path>: <message>"``.
Format documentation: docs/import-format.md.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

import jsonschema
from sqlalchemy import select
from sqlalchemy.orm import Session

from .import_cases import case_problems
from .import_shipments import shipment_problems
from .import_values import ImportSummary, checked_email, money, parse_timestamp
from .import_writer import write_document
from .models import (
    CustomerRow,
    OrderLineRow,
    OrderRow,
    ProductRow,
    SerialNumberRow,
)

SCHEMA_PATH = Path(__file__).resolve().parents[2] / "schemas" / "import.schema.json"
MAX_REPORTED_ERRORS = 50


class ImportRejected(ValueError):
    """The document was not imported; ``errors`` lists every problem found (JSON path: message)."""

    def __init__(self, errors: list[str]):
        self.errors = errors[:MAX_REPORTED_ERRORS]
        more = len(errors) - len(self.errors)
        super().__init__(
            "import rejected:\n  " + "\n  ".join(self.errors) + (f"\n  ... and {more} more" if more else "")
        )


@lru_cache(maxsize=1)
def schema_validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _path(parts: Iterable[Any]) -> str:
    out = "$"
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else f".{p}"
    return out


def schema_errors(data: Any) -> list[str]:
    errors = sorted(schema_validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path)))
    return [f"{_path(e.absolute_path)}: {_short(e.message)}" for e in errors]


def _short(message: str, limit: int = 200) -> str:
    return message if len(message) <= limit else message[:limit] + "..."


class _Checker:
    """Second pass: what the schema cannot say (real dates, references, duplicates, the database)."""

    def __init__(self, session: Session, now: datetime, replace_orders: bool):
        self.session = session
        self.now = now
        self.replace_orders = replace_orders
        self.errors: list[str] = []

    def fail(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def time(self, item: dict, key: str, where: str, *, not_future: bool = True) -> datetime | None:
        if key not in item:
            return None
        try:
            moment = parse_timestamp(item[key])
        except ValueError as exc:
            self.fail(f"{where}.{key}", f"not a valid date-time ({exc})")
            return None
        if not_future and moment > self.now:
            self.fail(f"{where}.{key}", f"is in the future ({item[key]})")
        return moment

    def day(self, item: dict, key: str, where: str) -> date | None:
        if key not in item:
            return None
        try:
            return date.fromisoformat(item[key])
        except ValueError as exc:
            self.fail(f"{where}.{key}", f"not a valid date ({exc})")
            return None


def import_data(session: Session, data: Any, now: datetime, *, replace_orders: bool = False) -> ImportSummary:
    """Check and write ``data`` in ``session`` (the caller commits). Raises ``ImportRejected``; writes nothing then.

    ``replace_orders=True`` (used by the demo loader) replaces stored orders with the same number, together with
    their cases, refunds, tokens and verification attempts, and replaces the credits ledger of the customers listed.
    """
    errors = schema_errors(data)
    if errors:
        raise ImportRejected(errors)
    check = _Checker(session, now, replace_orders)

    products = {p["sku"]: p for p in data.get("products", [])}
    if len(products) != len(data.get("products", [])):
        check.fail("$.products", "a SKU is listed twice")
    known_skus = set(products) | set(session.scalars(select(ProductRow.sku)))

    customers: dict[str, dict] = {}
    for i, c in enumerate(data.get("customers", [])):
        email = checked_email(c["email"])
        where = f"$.customers[{i}]"
        if email in customers:
            check.fail(f"{where}.email", f"customer {email} is listed twice")
        customers[email] = c
        check.day(c, "birth_date", where)
        check.time(c, "registered_at", where)
        check.time(c, "profile_completed_at", where)

    orders: dict[str, dict] = {}
    parsed_times: dict[str, dict[str, datetime | None]] = {}
    serials_in_file: set[str] = set()
    for i, o in enumerate(data.get("orders", [])):
        where = f"$.orders[{i}]"
        number = o["order_number"]
        if number in orders:
            check.fail(f"{where}.order_number", f"order {number} is listed twice")
        orders[number] = o
        times = {k: check.time(o, k, where) for k in ("placed_at", "paid_at", "shipped_at", "delivered_at")}
        parsed_times[number] = times
        placed = times["placed_at"]
        for k in ("paid_at", "shipped_at", "delivered_at"):
            moment = times[k]
            if placed and moment and moment < placed:
                check.fail(f"{where}.{k}", "is before placed_at")
        if times["shipped_at"] and times["delivered_at"] and times["delivered_at"] < times["shipped_at"]:
            check.fail(f"{where}.delivered_at", "is before shipped_at")
        status = o.get("status", "placed")
        if status in ("shipped", "delivered") and times["shipped_at"] is None:
            check.fail(f"{where}.shipped_at", f"is required when status is {status}")
        if status == "delivered" and times["delivered_at"] is None:
            check.fail(f"{where}.delivered_at", "is required when status is delivered")
        check.errors.extend(shipment_problems(o, where, placed, now))
        check.errors.extend(case_problems(o, where, placed, now))
        line_ids = [ln["line_id"] for ln in o["lines"]]
        if len(set(line_ids)) != len(line_ids):
            check.fail(f"{where}.lines", "a line_id is used twice")
        for j, line in enumerate(o["lines"]):
            lw = f"{where}.lines[{j}]"
            if line["sku"] not in known_skus:
                check.fail(f"{lw}.sku", f"unknown SKU {line['sku']!r} (not in products nor in the store)")
            serials = line.get("serial_numbers", [])
            if len(serials) > line["quantity"]:
                check.fail(f"{lw}.serial_numbers", f"{len(serials)} serial numbers for quantity {line['quantity']}")
            if money(line.get("discount")) > money(line["unit_price"]) * line["quantity"]:
                check.fail(f"{lw}.discount", "is larger than the line's price")
            for s in serials:
                if s in serials_in_file:
                    check.fail(f"{lw}.serial_numbers", f"serial {s} is used twice")
                serials_in_file.add(s)

    stored_orders = (
        {
            row.order_number: row
            for row in session.scalars(select(OrderRow).where(OrderRow.order_number.in_(list(orders))))
        }
        if orders
        else {}
    )
    if stored_orders and not replace_orders:
        for number in sorted(stored_orders):
            check.fail("$.orders", f"order {number} is already in the store")
    if serials_in_file:
        replaced_ids = [r.id for r in stored_orders.values()] if replace_orders else []
        stmt = (
            select(SerialNumberRow.serial)
            .join(OrderLineRow, SerialNumberRow.line_id == OrderLineRow.id)
            .where(SerialNumberRow.serial.in_(sorted(serials_in_file)))
        )
        if replaced_ids:
            stmt = stmt.where(OrderLineRow.order_id.not_in(replaced_ids))
        for serial in session.scalars(stmt):
            check.fail("$.orders", f"serial {serial} is already registered to another order")

    known_orders = set(orders) | set(
        session.scalars(
            select(OrderRow.order_number).where(
                OrderRow.order_number.in_(
                    [r["order_number"] for r in data.get("refunds", [])]
                    + [c["order_number"] for c in data.get("credits", []) if "order_number" in c]
                )
            )
        )
    )
    for i, r in enumerate(data.get("refunds", [])):
        where = f"$.refunds[{i}]"
        if r["order_number"] not in known_orders:
            check.fail(f"{where}.order_number", f"unknown order {r['order_number']}")
        for k in ("item_received_at", "inspected_at", "issued_at", "created_at"):
            check.time(r, k, where)

    known_emails = set(customers) | {checked_email(o["email"]) for o in orders.values()}
    ledger_emails = {checked_email(c["email"]) for c in data.get("credits", [])} - known_emails
    if ledger_emails:
        known_emails |= set(
            session.scalars(select(CustomerRow.email).where(CustomerRow.email.in_(sorted(ledger_emails))))
        )
    for i, c in enumerate(data.get("credits", [])):
        where = f"$.credits[{i}]"
        if checked_email(c["email"]) not in known_emails:
            check.fail(f"{where}.email", f"unknown customer {c['email']}")
        if c.get("order_number") and c["order_number"] not in known_orders:
            check.fail(f"{where}.order_number", f"unknown order {c['order_number']}")
        check.time(c, "created_at", where)
        check.time(c, "unlock_at", where, not_future=False)
        check.time(c, "expires_at", where, not_future=False)

    if check.errors:
        raise ImportRejected(check.errors)
    return write_document(session, data, customers, orders, parsed_times, stored_orders, now, replace_orders)
