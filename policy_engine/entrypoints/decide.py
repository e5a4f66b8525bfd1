"""``decide``: one topic's decision on facts given inline (JSON on stdin) or read from the database; writes nothing."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import fields, replace
from datetime import datetime
from decimal import Decimal
from typing import Any, cast

import jsonschema

from ..core.facts import (
    Campaign,
    LedgerEntry,
    LedgerKind,
    Order,
    OrderLine,
    OrderStatus,
    Product,
    RefundRecord,
)
from ..core.formats import normalise_order_number
from ..core.returns import ReturnRequest
from ..core.topics import decide_topic
from ..core.transit import TransitRequest
from ..core.warranty_request import WarrantyRequest
from ..store.db import make_session_factory, unit_of_work
from ..store.import_shipments import shipment_facts, shipment_problems
from ..store.import_values import parse_timestamp
from ..store.importer import schema_validator
from ..store.mapping import order_fact, product_fact, refund_fact
from ..store.models import ProductRow
from ..store.queries import customer_ledger, order_by_number, refunds_for_order, shipments_for_order
from ..store.types import to_money
from .common import MAX_STDIN_BYTES, TOPICS, CliError, engine_for, parse_now, policy_for, print_json, require_schema

# ------------------------------------------------------------------------------------------------- decide


def _order_validator() -> jsonschema.Draft202012Validator:
    schema = cast(dict[str, Any], schema_validator().schema)
    return jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/order"})


def _expect(obj: Any, kind: type, where: str) -> Any:
    if not isinstance(obj, kind):
        raise CliError(f"{where} must be a JSON {'object' if kind is dict else kind.__name__}")
    return obj


def _build(cls, data: Any, where: str, *, times: Sequence[str] = ()):
    """A request dataclass from a JSON object: unknown keys and missing required keys are errors."""
    _expect(data, dict, where)
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise CliError(f"{where}: unknown field(s) {unknown}; expected some of {sorted(names)}")
    values = dict(data)
    for key in times:
        if values.get(key) is not None:
            try:
                values[key] = parse_timestamp(_expect(values[key], str, f"{where}.{key}"))
            except ValueError as exc:
                raise CliError(f"{where}.{key}: not an ISO 8601 date-time ({exc})") from None
    try:
        return cls(**values)
    except TypeError as exc:
        raise CliError(f"{where}: {exc}") from None


def _request(topic: str, data: Any):
    if topic == "return":
        return _build(ReturnRequest, data, "request")
    if topic == "warranty":
        return _build(WarrantyRequest, data, "request", times=("claim_opened_at",))
    if topic == "transit":
        return _build(TransitRequest, data, "request")
    return None


def _inline_order(doc: dict, products: dict[str, Product], now: datetime) -> Order:
    errors = [
        f"order{e}"[0:300]
        for e in (
            f"{''.join(f'[{p}]' if isinstance(p, int) else f'.{p}' for p in err.absolute_path)}: {err.message}"
            for err in _order_validator().iter_errors(doc)
        )
    ]
    if errors:
        raise CliError("order is not valid:\n  " + "\n  ".join(errors[:20]))
    times = {
        k: parse_timestamp(doc[k]) if k in doc else None for k in ("placed_at", "paid_at", "shipped_at", "delivered_at")
    }
    placed_at = times["placed_at"]
    if placed_at is None:
        raise CliError("order.placed_at is missing")
    if placed_at > now:
        raise CliError(f"order.placed_at {doc['placed_at']} is in the future (now is {now.isoformat()})")
    problems = shipment_problems(doc, "order", placed_at, now)
    if problems:
        raise CliError("order is not valid:\n  " + "\n  ".join(problems[:20]))
    lines = []
    for i, line in enumerate(doc["lines"]):
        product = products.get(line["sku"])
        if product is None:
            raise CliError(f'order.lines[{i}].sku: unknown SKU {line["sku"]!r} (give it in "products")')
        lines.append(
            OrderLine(
                line_id=line["line_id"],
                product=product,
                quantity=line["quantity"],
                unit_price=Decimal(line["unit_price"]),
                discount=Decimal(line.get("discount", "0")),
                serial_numbers=tuple(line.get("serial_numbers", ())),
                free_gift=line.get("free_gift", False),
                redeemed_with_credits=line.get("redeemed_with_credits", False),
                extended_warranty_years=line.get("extended_warranty_years", 0),
            )
        )
    return Order(
        order_number=doc["order_number"],
        email=doc["email"].lower(),
        placed_at=placed_at,
        lines=tuple(lines),
        status=OrderStatus(doc.get("status", "placed")),
        paid_at=times["paid_at"],
        shipped_at=times["shipped_at"],
        delivered_at=times["delivered_at"],
        channel=doc.get("channel", "web_store"),
        country=doc.get("country", "US"),
        corporate=doc.get("corporate", False),
        campaign=Campaign(doc.get("campaign", "none")),
        logged_in=doc.get("logged_in", True),
        shipping=Decimal(doc.get("shipping", "0")),
        tax=Decimal(doc.get("tax", "0")),
        discount=Decimal(doc.get("discount", "0")),
        credits_applied=Decimal(doc.get("credits_applied", "0")),
        worry_free_insurance=doc.get("worry_free_insurance", False),
        shipping_insurance=doc.get("shipping_insurance", False),
        payment_method=doc.get("payment_method", "card"),
        shipments=shipment_facts(doc),
    )


def _inline_products(items: Any) -> dict[str, Product]:
    if items is None:
        return {}
    _expect(items, list, "products")
    schema = cast(dict[str, Any], schema_validator().schema)
    validator = jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/product"})
    out = {}
    for i, p in enumerate(items):
        errs = [e.message for e in validator.iter_errors(p)]
        if errs:
            raise CliError(f"products[{i}]: {errs[0]}")
        out[p["sku"]] = Product(
            sku=p["sku"],
            name=p["name"],
            category=p["category"],
            price=Decimal(p["price"]),
            refurbished_available=p.get("refurbished_available", False),
            new_available=p.get("new_available", True),
            extended_warranty_eligible=p.get("extended_warranty_eligible", False),
        )
    return out


def _inline_refund(data: Any, order_number: str) -> RefundRecord | None:
    if data is None:
        return None
    _expect(data, dict, "refund")
    try:
        amount = to_money(_expect(data.get("amount"), str, "refund.amount"))
    except (TypeError, ValueError) as exc:
        raise CliError(f"refund.amount: {exc}") from None
    record = _build(
        RefundRecord,
        {**data, "order_number": order_number, "amount": amount},
        "refund",
        times=("item_received_at", "inspected_at", "issued_at"),
    )
    return record


def _inline_ledger(items: Any) -> list[LedgerEntry]:
    if items is None:
        return []
    _expect(items, list, "ledger")
    out = []
    for i, item in enumerate(items):
        where = f"ledger[{i}]"
        entry = _build(
            LedgerEntry,
            {"entry_id": i + 1, **_expect(item, dict, where)},
            where,
            times=("created_at", "unlock_at", "expires_at"),
        )
        try:
            kind = LedgerKind(entry.kind)
        except ValueError:
            raise CliError(f"{where}.kind: must be one of {[k.value for k in LedgerKind]}") from None
        if isinstance(entry.points, bool) or not isinstance(entry.points, int):
            raise CliError(f"{where}.points must be an integer")
        if not isinstance(entry.created_at, datetime):
            raise CliError(f"{where}.created_at is required")
        out.append(replace(entry, kind=kind))
    return out


def cmd_decide(args) -> int:
    raw = sys.stdin.read(MAX_STDIN_BYTES + 1)
    if len(raw) > MAX_STDIN_BYTES:
        raise CliError(f"the request on stdin is larger than {MAX_STDIN_BYTES} bytes")
    try:
        doc = json.loads(raw, parse_float=Decimal)
    except json.JSONDecodeError as exc:
        raise CliError(f"stdin is not valid JSON: {exc}") from None
    _expect(doc, dict, "the request")
    allowed = {"topic", "now", "order", "order_number", "products", "request", "refund", "ledger"}
    unknown = sorted(set(doc) - allowed)
    if unknown:
        raise CliError(f"unknown field(s) {unknown}; expected some of {sorted(allowed)}")
    topic = doc.get("topic")
    if topic not in TOPICS:
        raise CliError(f"topic must be one of {list(TOPICS)}, got {topic!r}")
    now = parse_now(doc.get("now"))
    policy = policy_for(args)
    request = _request(topic, doc.get("request", {}))
    if ("order" in doc) == ("order_number" in doc):
        raise CliError('give either "order" (the facts) or "order_number" (an order in the database)')
    inline_only = sorted({"products", "refund", "ledger"} & set(doc))
    if "order_number" in doc and inline_only:
        raise CliError(f'{inline_only} go with an inline "order"; with "order_number" the database\'s facts are used')

    if "order" in doc:
        products = _inline_products(doc.get("products"))
        order = _expect(doc["order"], dict, "order")
        if "products" not in doc and order.get("lines"):
            products = _products_from_db(args, order)
        fact = _inline_order(order, products, now)
        refund = _inline_refund(doc.get("refund"), fact.order_number)
        ledger = _inline_ledger(doc.get("ledger"))
    else:
        fact, refund, ledger = _facts_from_db(args, doc["order_number"])
    decision = decide_topic(topic, fact, request, policy, now, refund=refund, ledger=ledger)
    print_json(decision.to_dict())
    return 0


def _products_from_db(args, order: dict) -> dict[str, Product]:
    skus = {ln.get("sku") for ln in order.get("lines", []) if isinstance(ln, dict)}
    engine = engine_for(args)
    try:
        require_schema(engine)
        with unit_of_work(make_session_factory(engine)) as uow:
            rows = uow.session.query(ProductRow).filter(ProductRow.sku.in_([s for s in skus if isinstance(s, str)]))
            return {r.sku: product_fact(r) for r in rows}
    finally:
        engine.dispose()


def _facts_from_db(args, raw_number: Any):
    number = normalise_order_number(raw_number)
    if number is None:
        raise CliError(f"order_number must be AK followed by 7 digits, got {raw_number!r}")
    engine = engine_for(args)
    try:
        require_schema(engine)
        with unit_of_work(make_session_factory(engine)) as uow:
            row = order_by_number(uow.session, number)
            if row is None:
                raise CliError(f"order {number} is not in the database")
            refunds = refunds_for_order(uow.session, row.id)
            latest = max(refunds, key=lambda r: (r.created_at, r.id)) if refunds else None
            ledger = customer_ledger(uow.session, row.customer_id)
            fact = order_fact(row, shipments_for_order(uow.session, row.id))
            return fact, (refund_fact(latest, number) if latest else None), ledger
    finally:
        engine.dispose()
