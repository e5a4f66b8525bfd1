"""``python -m policy_engine``: migrate, load-demo, import, decide, show-policy, inspect, refund-issued, forget,
evidence.

``inspect`` and ``refund-issued`` are the warehouse / support-desk side of a return
(``SupportService.record_inspection`` and ``issue_refund``: REF-1, REF-4, CRD-11); they print the refund status
decision. ``forget --email X`` erases a customer's personal data and conversations (support store and Rasa's tracker
store ``TRACKER_STORE_URL``), keeping anonymised audit and case rows (``store/forget.py``); it prints counts only.

Results go to stdout (JSON where it is data), errors to stderr with a non-zero exit status (1: the input or the
database refused; 2: bad command line).  Every command that writes does so in one transaction: nothing is
half-written.  ``--database-url`` overrides ``DATABASE_URL``; ``--policy`` overrides ``POLICY_FILE``.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import fields, is_dataclass
from datetime import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from ..core.decision import to_jsonable
from ..core.errors import InvalidRequest, PolicyError
from ..store.db import make_session_factory, unit_of_work
from ..store.importer import ImportRejected, import_data
from ..store.migrate import upgrade
from .agents import add_agent_parsers
from .common import CliError, engine_for, parse_now, policy_for, print_json, require_schema
from .decide import cmd_decide
from .evidence import add_evidence_parser
from .staff import cmd_forget, cmd_inspect, cmd_refund_issued

# ------------------------------------------------------------------------------------------------- commands


def cmd_migrate(args) -> int:
    engine = engine_for(args)
    try:
        revision = upgrade(engine)
    finally:
        engine.dispose()
    print_json({"revision": revision})
    return 0


def cmd_load_demo(args) -> int:
    from ..store.demo import load_demo

    now = parse_now(args.now)
    engine = engine_for(args)
    try:
        require_schema(engine)
        with unit_of_work(make_session_factory(engine), write=True) as uow:
            summary = load_demo(uow.session, now)
            uow.commit()
    finally:
        engine.dispose()
    print_json({"loaded": summary.to_dict(), "now": now})
    return 0


def cmd_import(args) -> int:
    path = Path(args.file)
    try:
        data = json.loads(path.read_text(encoding="utf-8"), parse_float=Decimal)
    except OSError as exc:
        raise CliError(f"cannot read {path}: {exc.strerror or exc}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CliError(f"{path} is not valid JSON: {exc}") from None
    now = parse_now(args.now)
    engine = engine_for(args)
    try:
        require_schema(engine)
        with unit_of_work(make_session_factory(engine), write=True) as uow:
            summary = import_data(uow.session, data, now)
            uow.commit()
    finally:
        engine.dispose()
    print_json({"imported": summary.to_dict()})
    return 0


def cmd_show_policy(args) -> int:
    print_json(policy_as_dict(policy_for(args)))
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
        func=cmd_decide
    )
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

    forget = sub.add_parser(
        "forget", help="erase a customer's personal data and conversations (keeps anonymised audit rows); idempotent"
    )
    forget.add_argument("--email", required=True, help="the customer's email (account or purchase email)")
    forget.add_argument(
        "--tracker-store-url", help="Rasa's tracker store (default: $TRACKER_STORE_URL or sqlite:///var/tracker.db)"
    )
    forget.set_defaults(func=cmd_forget)
    add_agent_parsers(sub)
    add_evidence_parser(sub)
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
