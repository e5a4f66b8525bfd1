"""``python -m policy_engine``: migrate, load-demo, import, decide, show-policy, inspect, refund-issued, forget.

``inspect`` and ``refund-issued`` are the warehouse / support-desk side of a return (``SupportService.record_inspection``
and ``issue_refund``: REF-1, REF-4, CRD-11); they print the refund status decision.  ``forget --email X`` erases a
customer's personal data and conversations (support store and Rasa's tracker store ``TRACKER_STORE_URL``), keeping
anonymised audit and case rows (``store/forget.py``); it prints counts only.

Results go to stdout (JSON where it is data), errors to stderr with a non-zero exit status (1: the input or the
database refused; 2: bad command line).  Every command that writes does so in one transaction: nothing is
half-written.  ``--database-url`` overrides ``DATABASE_URL``; ``--policy`` overrides ``POLICY_FILE``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from dataclasses import fields, is_dataclass, replace
from datetime import datetime, time
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping, Sequence

import jsonschema
from sqlalchemy.exc import SQLAlchemyError

from ..core.decision import to_jsonable
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
from ..core.errors import InvalidRequest, PolicyError
from ..core.policy import DEFAULT_POLICY_PATH, Policy
from ..core.policy_file import load_policy
from ..core.returns import ReturnRequest
from ..core.topics import decide_topic
from ..service.base import utc_now
from ..store.db import make_engine, make_session_factory, unit_of_work
from ..store.identity import normalise_order_number
from ..store.importer import ImportRejected, import_data, schema_validator, parse_timestamp
from ..store.mapping import order_fact, product_fact, refund_fact
from ..store.migrate import current_revision, head_revision, upgrade
from ..store.models import ProductRow
from ..store.types import to_money
from ..store.queries import customer_ledger, order_by_number, refunds_for_order
from ..core.transit import TransitRequest
from ..core.warranty import WarrantyRequest

TOPICS = ("return", "cancellation", "refund", "warranty", "transit", "credits")
MAX_STDIN_BYTES = 1_000_000


class CliError(Exception):
    """An expected failure: printed as one clear message, exit status 1."""


# ------------------------------------------------------------------------------------------------- helpers


def _policy(args) -> Policy:
    return load_policy(Path(args.policy or os.environ.get("POLICY_FILE") or DEFAULT_POLICY_PATH))


def _now(raw: str | None) -> datetime:
    if raw is None:
        return utc_now()
    if not isinstance(raw, str):
        raise CliError("now must be an ISO 8601 date-time string with a time zone")
    try:
        return parse_timestamp(raw)
    except ValueError as exc:
        raise CliError(f"now: not an ISO 8601 date-time with a time zone ({exc})") from None


def _engine(args):
    return make_engine(args.database_url)


def _require_schema(engine) -> None:
    if current_revision(engine) != head_revision():
        raise CliError("the database schema is missing or out of date: run `python -m policy_engine migrate` first")


def _print_json(data: Any) -> None:
    json.dump(to_jsonable(data), sys.stdout, indent=2, sort_keys=False)
    sys.stdout.write("\n")


# ------------------------------------------------------------------------------------------------- commands


def cmd_migrate(args) -> int:
    engine = _engine(args)
    try:
        revision = upgrade(engine)
    finally:
        engine.dispose()
    _print_json({"revision": revision})
    return 0


def cmd_load_demo(args) -> int:
    from ..store.demo import load_demo

    now = _now(args.now)
    engine = _engine(args)
    try:
        _require_schema(engine)
        with unit_of_work(make_session_factory(engine), write=True) as uow:
            summary = load_demo(uow.session, now)
            uow.commit()
    finally:
        engine.dispose()
    _print_json({"loaded": summary.to_dict(), "now": now})
    return 0


def cmd_import(args) -> int:
    path = Path(args.file)
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CliError(f"{path} is not valid JSON: {exc}") from None
    now = _now(args.now)
    engine = _engine(args)
    try:
        _require_schema(engine)
        with unit_of_work(make_session_factory(engine), write=True) as uow:
            summary = import_data(uow.session, data, now)
            uow.commit()
    finally:
        engine.dispose()
    _print_json({"imported": summary.to_dict()})
    return 0


def cmd_show_policy(args) -> int:
    _print_json(policy_as_dict(_policy(args)))
    return 0


def policy_as_dict(value: Any) -> Any:
    """The typed policy as plain JSON-able data (sets sorted, mappings as dicts)."""
    if is_dataclass(value):
        return {f.name: policy_as_dict(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, Mapping):
        return {str(k): policy_as_dict(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(policy_as_dict(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [policy_as_dict(v) for v in value]
    if isinstance(value, time):
        return value.strftime("%H:%M")
    return to_jsonable(value)


# ------------------------------------------------------------------------------------------------- decide


def _order_validator() -> jsonschema.Draft202012Validator:
    schema = schema_validator().schema
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
    errors = [f"order{e}"[0:300] for e in (
        f"{''.join(f'[{p}]' if isinstance(p, int) else f'.{p}' for p in err.absolute_path)}: {err.message}"
        for err in _order_validator().iter_errors(doc))]
    if errors:
        raise CliError("order is not valid:\n  " + "\n  ".join(errors[:20]))
    times = {k: parse_timestamp(doc[k]) if k in doc else None for k in ("placed_at", "paid_at", "shipped_at",
                                                                          "delivered_at")}
    if times["placed_at"] > now:
        raise CliError(f"order.placed_at {doc['placed_at']} is in the future (now is {now.isoformat()})")
    lines = []
    for i, line in enumerate(doc["lines"]):
        product = products.get(line["sku"])
        if product is None:
            raise CliError(f"order.lines[{i}].sku: unknown SKU {line['sku']!r} (give it in \"products\")")
        lines.append(OrderLine(
            line_id=line["line_id"], product=product, quantity=line["quantity"],
            unit_price=Decimal(line["unit_price"]), discount=Decimal(line.get("discount", "0")),
            serial_numbers=tuple(line.get("serial_numbers", ())), free_gift=line.get("free_gift", False),
            redeemed_with_credits=line.get("redeemed_with_credits", False),
            extended_warranty_years=line.get("extended_warranty_years", 0),
        ))
    return Order(
        order_number=doc["order_number"], email=doc["email"].lower(), placed_at=times["placed_at"],
        lines=tuple(lines), status=OrderStatus(doc.get("status", "placed")), paid_at=times["paid_at"],
        shipped_at=times["shipped_at"], delivered_at=times["delivered_at"], channel=doc.get("channel", "web_store"),
        country=doc.get("country", "US"), corporate=doc.get("corporate", False),
        campaign=Campaign(doc.get("campaign", "none")), logged_in=doc.get("logged_in", True),
        shipping=Decimal(doc.get("shipping", "0")), tax=Decimal(doc.get("tax", "0")),
        discount=Decimal(doc.get("discount", "0")), credits_applied=Decimal(doc.get("credits_applied", "0")),
        worry_free_insurance=doc.get("worry_free_insurance", False),
        shipping_insurance=doc.get("shipping_insurance", False), payment_method=doc.get("payment_method", "card"),
    )


def _inline_products(items: Any) -> dict[str, Product]:
    if items is None:
        return {}
    _expect(items, list, "products")
    schema = schema_validator().schema
    validator = jsonschema.Draft202012Validator({"$defs": schema["$defs"], "$ref": "#/$defs/product"})
    out = {}
    for i, p in enumerate(items):
        errs = [e.message for e in validator.iter_errors(p)]
        if errs:
            raise CliError(f"products[{i}]: {errs[0]}")
        out[p["sku"]] = Product(sku=p["sku"], name=p["name"], category=p["category"], price=Decimal(p["price"]),
                                refurbished_available=p.get("refurbished_available", False),
                                new_available=p.get("new_available", True),
                                extended_warranty_eligible=p.get("extended_warranty_eligible", False))
    return out


def _inline_refund(data: Any, order_number: str) -> RefundRecord | None:
    if data is None:
        return None
    _expect(data, dict, "refund")
    try:
        amount = to_money(_expect(data.get("amount"), str, "refund.amount"))
    except (TypeError, ValueError) as exc:
        raise CliError(f"refund.amount: {exc}") from None
    record = _build(RefundRecord, {**data, "order_number": order_number, "amount": amount}, "refund",
                    times=("item_received_at", "inspected_at", "issued_at"))
    return record


def _inline_ledger(items: Any) -> list[LedgerEntry]:
    if items is None:
        return []
    _expect(items, list, "ledger")
    out = []
    for i, item in enumerate(items):
        where = f"ledger[{i}]"
        entry = _build(LedgerEntry, {"entry_id": i + 1, **_expect(item, dict, where)}, where,
                       times=("created_at", "unlock_at", "expires_at"))
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
    now = _now(doc.get("now"))
    policy = _policy(args)
    request = _request(topic, doc.get("request", {}))
    if ("order" in doc) == ("order_number" in doc):
        raise CliError('give either "order" (the facts) or "order_number" (an order in the database)')
    inline_only = sorted({"products", "refund", "ledger"} & set(doc))
    if "order_number" in doc and inline_only:
        raise CliError(f"{inline_only} go with an inline \"order\"; with \"order_number\" the database's facts are used")

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
    _print_json(decision.to_dict())
    return 0


def _products_from_db(args, order: dict) -> dict[str, Product]:
    skus = {l.get("sku") for l in order.get("lines", []) if isinstance(l, dict)}
    engine = _engine(args)
    try:
        _require_schema(engine)
        with unit_of_work(make_session_factory(engine)) as uow:
            rows = uow.session.query(ProductRow).filter(ProductRow.sku.in_([s for s in skus if isinstance(s, str)]))
            return {r.sku: product_fact(r) for r in rows}
    finally:
        engine.dispose()


def _facts_from_db(args, raw_number: Any):
    number = normalise_order_number(raw_number)
    if number is None:
        raise CliError(f"order_number must be AK followed by 7 digits, got {raw_number!r}")
    engine = _engine(args)
    try:
        _require_schema(engine)
        with unit_of_work(make_session_factory(engine)) as uow:
            row = order_by_number(uow.session, number)
            if row is None:
                raise CliError(f"order {number} is not in the database")
            refunds = refunds_for_order(uow.session, row.id)
            latest = max(refunds, key=lambda r: (r.created_at, r.id)) if refunds else None
            ledger = customer_ledger(uow.session, row.customer_id)
            return order_fact(row), (refund_fact(latest, number) if latest else None), ledger
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------------- staff side


def _staff_service(args, engine):
    from ..service import SupportService

    now = _now(args.now)
    return SupportService(make_session_factory(engine), _policy(args), lambda: now)


def cmd_inspect(args) -> int:
    """RET-6/REF-1: record the warehouse inspection of the order's returned item."""
    engine = _engine(args)
    try:
        _require_schema(engine)
        decision = _staff_service(args, engine).record_inspection(args.order_number, args.passed, args.finding,
                                                                  line_id=args.line)
    finally:
        engine.dispose()
    _print_json(decision.to_dict())
    return 0


def cmd_refund_issued(args) -> int:
    """REF-1/REF-4/CRD-11: the refund was paid; reverses the returned lines' credits, once."""
    engine = _engine(args)
    try:
        _require_schema(engine)
        decision = _staff_service(args, engine).issue_refund(args.order_number, line_id=args.line)
    finally:
        engine.dispose()
    _print_json(decision.to_dict())
    return 0


def cmd_forget(args) -> int:
    """Issue 12, item 9: erase the customer's personal data and conversations; idempotent; counts as JSON."""
    from ..store.forget import ForgetError, forget_all, tracker_engine

    engine = _engine(args)
    tracker = None
    try:
        _require_schema(engine)
        try:
            tracker = tracker_engine(args.tracker_store_url or os.environ.get("TRACKER_STORE_URL"))
        except Exception as exc:  # a malformed URL or a missing driver: nothing was written
            raise CliError(f"tracker store: {type(exc).__name__}: {str(exc).splitlines()[0]}") from None
        try:
            with unit_of_work(make_session_factory(engine), write=True) as uow:
                summary = forget_all(uow.session, tracker, args.email)   # commits the tracker store, then this
        except ForgetError as exc:
            raise CliError(str(exc)) from None
    finally:
        engine.dispose()
        if tracker is not None:
            tracker.dispose()
    _print_json(summary.to_dict())
    return 0


# ------------------------------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m policy_engine", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="SQLAlchemy URL (default: $DATABASE_URL or sqlite:///var/support.db)")
    parser.add_argument("--policy", help="policy file (default: $POLICY_FILE or policy/policy.yml)")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("migrate", help="create or upgrade the database schema").set_defaults(func=cmd_migrate)
    demo = sub.add_parser("load-demo", help="load (or refresh) the demo data; idempotent")
    demo.add_argument("--now", help="ISO 8601 date-time the demo dates are relative to (default: the clock)")
    demo.set_defaults(func=cmd_load_demo)
    imp = sub.add_parser("import", help="import a JSON file (schemas/import.schema.json), all or nothing")
    imp.add_argument("file")
    imp.add_argument("--now", help="ISO 8601 date-time; times after it are refused (default: the clock)")
    imp.set_defaults(func=cmd_import)
    sub.add_parser("decide", help="decide a request given as JSON on stdin; prints the decision JSON").set_defaults(
        func=cmd_decide)
    sub.add_parser("show-policy", help="print the policy file as validated JSON").set_defaults(func=cmd_show_policy)

    inspect = sub.add_parser("inspect", help="warehouse: record the inspection of a returned item (RET-6, REF-1)")
    inspect.add_argument("order_number")
    result = inspect.add_mutually_exclusive_group(required=True)
    result.add_argument("--passed", dest="passed", action="store_true", help="the item passed inspection")
    result.add_argument("--failed", dest="passed", action="store_false", help="the item failed inspection")
    inspect.add_argument("--finding", help="why it failed: " + ", ".join(sorted(_findings())))
    inspect.add_argument("--line", type=int, help="order line, when several returns of the order await inspection")
    inspect.add_argument("--now", help="ISO 8601 date-time of the inspection (default: the clock)")
    inspect.set_defaults(func=cmd_inspect)

    issued = sub.add_parser("refund-issued", help="support: the refund was paid; reverses credits (REF-4, CRD-11)")
    issued.add_argument("order_number")
    issued.add_argument("--line", type=int, help="order line, when several refunds of the order are open")
    issued.add_argument("--now", help="ISO 8601 date-time of the payment (default: the clock)")
    issued.set_defaults(func=cmd_refund_issued)

    forget = sub.add_parser("forget", help="erase a customer's personal data and conversations (keeps anonymised "
                                           "audit rows); idempotent")
    forget.add_argument("--email", required=True, help="the customer's email (account or purchase email)")
    forget.add_argument("--tracker-store-url",
                        help="Rasa's tracker store (default: $TRACKER_STORE_URL or sqlite:///var/tracker.db)")
    forget.set_defaults(func=cmd_forget)
    return parser


def _findings():
    from ..core.refunds import INSPECTION_FINDINGS

    return INSPECTION_FINDINGS


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except ImportRejected as exc:
        print(f"error: {exc}", file=sys.stderr)
    except (CliError, InvalidRequest, PolicyError) as exc:
        print(f"error: {exc}", file=sys.stderr)
    except SQLAlchemyError as exc:
        print(f"error: database: {str(exc).splitlines()[0]}", file=sys.stderr)
    return 1
